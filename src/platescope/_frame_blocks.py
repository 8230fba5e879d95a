"""Frames of a lazy movie fetched whole-chunk at a time, each chunk computed once.

A lazy movie (``dask`` array, ``t`` first) is read in chunks of many frames: computing
frames ``[a, b)`` decodes every chunk that overlaps them. A consumer that asks for 16
frames at a time of a movie whose chunks hold 64 frames therefore decodes each chunk
four times, and one that first looks at the first and last frames and then walks the
movie decodes those chunks again. :class:`FrameBlocks` computes the chunks a request
overlaps as one span and keeps the last ``max_spans`` spans (memory: a few chunks,
whatever the length of the movie), so a walk through the movie in any block size
decodes each chunk once, and small requests near a span already held cost nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FrameBlocks", "read_frames"]


class FrameBlocks:
    """Frames ``[start, stop)`` of a ``(t, …)`` array, lazy chunks computed once.

    Parameters
    ----------
    data : numpy.ndarray, dask.array.Array or xarray.DataArray
        The movie, frames along the first axis. A numpy array is sliced as it is.
    max_chunks : int
        Computed chunks kept (least recently used dropped first; never one the current
        request needs). Memory: this many chunks at most, whatever the movie's length.

    Attributes
    ----------
    n_computed_frames : int
        Frames computed so far (a measure of reads: ``n_frames`` for one pass).

    Examples
    --------
    >>> import dask.array as da
    >>> movie = da.arange(40.0).reshape(10, 2, 2).rechunk((4, 2, 2))  # chunks of 4 frames
    >>> fb = FrameBlocks(movie)
    >>> [float(fb.get(k, k + 3)[0, 0, 0]) for k in (0, 3, 6)]  # blocks across chunks
    [0.0, 12.0, 24.0]
    >>> fb.n_computed_frames  # every frame computed once
    10
    """

    def __init__(self, data: Any, *, max_chunks: int = 3) -> None:
        arr = getattr(data, "data", data)  # an xarray.DataArray's array
        self._data = arr
        self._lazy = hasattr(arr, "dask") and hasattr(arr, "chunks")
        self._edges = np.cumsum((0, *arr.chunks[0])) if self._lazy else None
        self._chunks: dict[int, np.ndarray] = {}  # chunk number → its frames (LRU order)
        self._max = max(1, int(max_chunks))
        self.n_computed_frames = 0

    @property
    def n_frames(self) -> int:
        """Frames in the movie."""
        return int(self._data.shape[0])

    def get(self, start: int, stop: int) -> np.ndarray:
        """Frames ``[start, stop)`` as a numpy array."""
        start, stop = int(start), int(min(stop, self.n_frames))
        if not self._lazy:
            return np.asarray(self._data[start:stop])
        edges = self._edges
        c0 = int(np.searchsorted(edges, start, side="right") - 1)
        c1 = int(np.searchsorted(edges, max(stop, start + 1), side="left"))  # exclusive
        wanted = list(range(c0, c1))
        missing = [c for c in wanted if c not in self._chunks]
        if missing:  # one computation for the run of chunks not held yet
            lo, hi = int(edges[missing[0]]), int(edges[missing[-1] + 1])
            arr = np.asarray(self._data[lo:hi].compute())
            self.n_computed_frames += hi - lo
            for c in range(missing[0], missing[-1] + 1):
                if c not in self._chunks:
                    self._chunks[c] = arr[int(edges[c]) - lo : int(edges[c + 1]) - lo]
        for c in wanted:  # most recently used last
            self._chunks[c] = self._chunks.pop(c)
        while len(self._chunks) > max(self._max, len(wanted)):
            oldest = next(iter(self._chunks))
            if oldest in wanted:
                break
            del self._chunks[oldest]
        parts = [self._chunks[c] for c in wanted]
        block = parts[0] if len(parts) == 1 else np.concatenate(parts)
        off = start - int(edges[c0])
        return block[off : off + stop - start]


def read_frames(data: Any, indices) -> np.ndarray:
    """Frames at ``indices`` (first axis) as one numpy array, a lazy movie frame by frame.

    Selecting scattered frames of a lazy movie at once (``movie.isel(t=[…])``) decodes
    every chunk that holds one of them; an integer index per frame reaches the file
    reader, which then decodes that frame only. For a few frames spread over a long
    movie (a threshold sample, a figure) this reads frames, not chunks. That holds for
    the reader's own array; on a computed chain (a normalisation, a shift) dask
    computes whole chunks, so there the frames are computed together and each chunk
    they touch is computed once.

    Parameters
    ----------
    data : numpy.ndarray, dask.array.Array or xarray.DataArray
        The movie, frames along the first axis.
    indices : sequence of int
        Frames to read, in the order wanted.

    Returns
    -------
    numpy.ndarray
        ``(len(indices), …)``, the movie's dtype.

    Examples
    --------
    >>> import dask.array as da
    >>> movie = da.arange(40.0).reshape(10, 2, 2).rechunk((5, 2, 2))
    >>> read_frames(movie, [1, 8])[:, 0, 0].tolist()
    [4.0, 32.0]
    """
    arr = getattr(data, "data", data)
    idx = [int(k) for k in np.asarray(indices).ravel()]
    if not (hasattr(arr, "dask") and hasattr(arr, "chunks")):
        return np.asarray(arr[idx])
    if not idx:
        return np.empty((0, *arr.shape[1:]), dtype=arr.dtype)
    if not _reader_only(arr):
        # a computed chain (normalisation, shifts): its chunks are computed whole, so
        # one computation for all the frames computes each chunk they touch once
        return np.asarray(arr[idx].compute())
    # straight from the reader: one computation per frame, so that each index reaches
    # the reader (frames computed together from one chunk would make dask load that
    # chunk whole once for all of them: its task has several users and is not fused)
    return np.stack([np.asarray(arr[k].compute()) for k in idx])


def _reader_only(arr: Any) -> bool:
    """Whether a dask array is the file reader's array itself (no computation on it)."""
    layers = getattr(arr.__dask_graph__(), "layers", {})
    return 0 < len(layers) <= 2 and all(
        str(name).startswith(("original-from-", "from-zarr", "from-array")) for name in layers
    )
