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
    max_spans : int
        Computed chunk spans kept (least recently used dropped first).

    Attributes
    ----------
    n_computed_frames : int
        Frames computed so far (a measure of reads: ``n_frames`` for one pass).

    Examples
    --------
    >>> import dask.array as da
    >>> movie = da.arange(40.0).reshape(10, 2, 2).rechunk((4, 2, 2))  # chunks of 4 frames
    >>> fb = FrameBlocks(movie)
    >>> [float(fb.get(k, k + 1)[0, 0, 0]) for k in range(3)]
    [0.0, 4.0, 8.0]
    >>> fb.n_computed_frames  # frames 0-3 computed once for the three requests
    4
    """

    def __init__(self, data: Any, *, max_spans: int = 2) -> None:
        arr = getattr(data, "data", data)  # an xarray.DataArray's array
        self._data = arr
        self._lazy = hasattr(arr, "dask") and hasattr(arr, "chunks")
        self._edges = np.cumsum((0, *arr.chunks[0])) if self._lazy else None
        self._spans: list[tuple[int, int, np.ndarray]] = []
        self._max = max(1, int(max_spans))
        self.n_computed_frames = 0

    @property
    def n_frames(self) -> int:
        """Frames in the movie."""
        return int(self._data.shape[0])

    def get(self, start: int, stop: int) -> np.ndarray:
        """Frames ``[start, stop)`` as a numpy array (a view of a kept span when lazy)."""
        start, stop = int(start), int(min(stop, self.n_frames))
        if not self._lazy:
            return np.asarray(self._data[start:stop])
        for i, (lo, hi, arr) in enumerate(self._spans):
            if lo <= start and stop <= hi:
                self._spans.append(self._spans.pop(i))  # most recently used last
                return arr[start - lo : stop - lo]
        edges = self._edges
        lo = int(edges[np.searchsorted(edges, start, side="right") - 1])
        hi = int(edges[np.searchsorted(edges, max(stop, start + 1), side="left")])
        arr = np.asarray(self._data[lo:hi].compute())
        self.n_computed_frames += hi - lo
        self._spans.append((lo, hi, arr))
        while len(self._spans) > self._max:
            self._spans.pop(0)
        return arr[start - lo : stop - lo]


def read_frames(data: Any, indices) -> np.ndarray:
    """Frames at ``indices`` (first axis) as one numpy array, a lazy movie frame by frame.

    Selecting scattered frames of a lazy movie at once (``movie.isel(t=[…])``) decodes
    every chunk that holds one of them; an integer index per frame reaches the file
    reader, which then decodes that frame only. For a few frames spread over a long
    movie (a threshold sample, a figure) this reads frames, not chunks. Each frame is
    computed on its own, so what the frames share upstream (e.g. a normalisation image
    from the first frames) is computed once per frame: a few frames, not a chunk.

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
    # one computation per frame: frames computed together from one chunk would make dask
    # load that chunk whole once for all of them (the chunk's task has several users, so
    # it is not fused with each frame's index); alone, each index reaches the reader
    return np.stack([np.asarray(arr[k].compute()) for k in idx])
