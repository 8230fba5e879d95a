"""Frames of a lazy movie fetched whole-chunk at a time, each chunk computed once.

A lazy movie (``dask`` array, ``t`` first) is read in chunks of many frames: computing
frames ``[a, b)`` decodes every chunk that overlaps them. A consumer that asks for 16
frames at a time of a movie whose chunks hold 64 frames therefore decodes each chunk
four times, and one that first looks at the first and last frames and then walks the
movie decodes those chunks again. :class:`FrameBlocks` computes the chunks a request
overlaps as one span and keeps the last ``max_spans`` spans (memory: a few chunks,
whatever the length of the movie), so a walk through the movie in any block size
decodes each chunk once, and small requests near a span already held cost nothing.

:class:`FrameWindow` slides a window of consecutive frames (a crop of each) through the
movie in one preallocated buffer, for consumers that need a band of frames around each
position (a derivative filter along time): memory is the window, not a run of many
windows, and each frame is read once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FrameBlocks", "FrameWindow", "read_frames"]


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
        arr = _array_of(data)
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

    def chunk_stop(self, frame: int) -> int:
        """One past the last frame of the chunk holding ``frame`` (a numpy movie: its
        length, the whole movie being one block)."""
        if not self._lazy:
            return self.n_frames
        return int(self._edges[np.searchsorted(self._edges, int(frame), side="right")])

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


class FrameWindow:
    """Consecutive frames ``[start, stop)`` of a movie held in one preallocated buffer.

    The window moves forward only: :meth:`advance_to` drops the frames before a given
    frame (the frames kept move to the front of the buffer, one frame at a time, so no
    temporary copy is made), :meth:`fill` reads the next frames into the free part of
    the buffer. Each frame of the movie is read once (a lazy movie through
    :class:`FrameBlocks`, each of its chunks computed once), in batches of at most
    ``batch_frames`` and never across a chunk boundary of a lazy movie (so one chunk
    is computed at a time), optionally through ``transform`` (e.g. a spatial blur
    writing straight into the buffer). Memory: the buffer (``capacity`` frames of the
    crop), one batch and one chunk of a lazy movie (with the temporaries of its
    computation), whatever the length of the movie.

    Parameters
    ----------
    data : numpy.ndarray, dask.array.Array or xarray.DataArray
        The movie ``(t, y, x)``.
    capacity : int
        Frames the buffer holds.
    region : tuple of slice
        The ``(y, x)`` crop held (a lazy movie computes only the crop).
    dtype : numpy dtype, optional
        Of the buffer (default: the movie's).
    transform : callable, optional
        ``transform(frames, out)`` writes the held form of a batch of frames (the
        movie's dtype, ``(n, h, w)``) into ``out`` (a slice of the buffer); default: a
        plain copy.
    batch_frames : int
        Frames read (and transformed) at once.

    Examples
    --------
    >>> movie = np.arange(10 * 2 * 2).reshape(10, 2, 2)
    >>> win = FrameWindow(movie, 4)
    >>> win.fill(10); win.start, win.stop, int(win.frames()[0, 0, 0])
    (0, 4, 0)
    >>> win.advance_to(3); win.fill(10); win.start, win.stop, int(win.frames()[0, 0, 0])
    (3, 7, 12)
    """

    def __init__(
        self,
        data: Any,
        capacity: int,
        *,
        region: tuple[slice, slice] = (slice(None), slice(None)),
        dtype: Any = None,
        transform: Any = None,
        batch_frames: int = 1,
    ) -> None:
        arr = _array_of(data)
        crop = arr[(slice(None), *region)]  # lazy: a crop of the graph; numpy: a view
        self._blocks = FrameBlocks(crop, max_chunks=1)
        self._n_total = int(crop.shape[0])
        self._buf = np.empty((max(1, int(capacity)), *crop.shape[1:]), dtype or crop.dtype)
        self._transform = transform
        self._batch = max(1, int(batch_frames))
        self.start = 0  # movie frame held in the buffer's first slot
        self._n = 0  # frames held

    @property
    def stop(self) -> int:
        """One past the last frame held."""
        return self.start + self._n

    def frames(self) -> np.ndarray:
        """The frames held, ``(stop − start, h, w)`` (a view of the buffer)."""
        return self._buf[: self._n]

    def advance_to(self, first: int) -> None:
        """Drop the frames before ``first`` (never moves back)."""
        first = int(first)
        drop = first - self.start
        if drop <= 0:
            return
        keep = max(self._n - drop, 0)
        for i in range(keep):  # one frame at a time: source and target never overlap
            self._buf[i] = self._buf[i + drop]
        self.start, self._n = first, keep

    def fill(self, stop: int) -> None:
        """Read frames up to ``stop`` (exclusive), as many as the buffer holds."""
        stop = min(int(stop), self.start + self._buf.shape[0], self._n_total)
        f = self.stop
        while f < stop:
            # never across a chunk of a lazy movie: one chunk computed at a time (its
            # chain's full-frame temporaries, not those of several chunks at once)
            g = min(f + self._batch, stop, self._blocks.chunk_stop(f))
            new = self._blocks.get(f, g)
            out = self._buf[f - self.start : g - self.start]
            if self._transform is None:
                out[...] = new
            else:
                self._transform(new, out)
            f = g
        self._n = max(self._n, stop - self.start)


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
    arr = _array_of(data)
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


def _array_of(data: Any) -> Any:
    """The array of an xarray.DataArray; a numpy or dask array as it is (a numpy
    array's own ``.data`` is its memory buffer, not an array)."""
    if isinstance(data, np.ndarray) or hasattr(data, "dask"):
        return data
    return getattr(data, "data", data)


def _reader_only(arr: Any) -> bool:
    """Whether a dask array is the file reader's array itself (no computation on it)."""
    layers = getattr(arr.__dask_graph__(), "layers", {})
    return 0 < len(layers) <= 2 and all(
        str(name).startswith(("original-from-", "from-zarr", "from-array")) for name in layers
    )
