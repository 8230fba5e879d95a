"""Frames stored as raw pixel blocks at known byte offsets of a file (Phantom ``.cine``,
Princeton ``.spe``): read one frame at a time, lazily through dask or into memory.

Nothing is read at construction; indexing reads only the frames asked for, each with
its own file handle (safe from dask's threads, picklable for ``dask.distributed``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError

#: Frames per dask chunk are chosen so a chunk holds about this many decoded bytes.
CHUNK_TARGET_BYTES = 32 * 2**20


class FrameArray:
    """Base of the array-likes ``(n_frames, height, width)`` that read whole frames on
    demand: indexing reads only the frames asked for (:meth:`_read_frames`), ``load``
    gives a dask array in chunks of whole frames or a numpy array.

    Subclasses set ``shape``, ``dtype``, ``ndim`` and implement ``_read_frames``.
    """

    shape: tuple[int, int, int]
    dtype: np.dtype
    ndim = 3

    def _read_frames(self, frames: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _dask_name(self) -> str | None:
        """A name that identifies the stored frames (None: let dask make one)."""
        return None

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        frames = np.arange(self.shape[0])[key[0]]
        scalar = np.ndim(frames) == 0
        frames = np.atleast_1d(frames)
        if frames.size:
            out = self._read_frames(frames)
        else:
            out = np.empty((0,) + self.shape[1:], dtype=self.dtype)
        out = out[(slice(None),) + key[1:]]
        return out[0] if scalar else out

    def __len__(self) -> int:
        return self.shape[0]

    def load(self, lazy: bool) -> Any:
        """All frames: a dask array (``lazy``, chunks of whole frames) or a numpy array."""
        if not lazy:
            return self[:]
        import dask.array as da

        per_frame = max(1, self.shape[1] * self.shape[2] * self.dtype.itemsize)
        per_chunk = max(1, min(self.shape[0], CHUNK_TARGET_BYTES // per_frame))
        return da.from_array(
            self,
            chunks=(per_chunk,) + self.shape[1:],
            asarray=True,
            fancy=False,
            name=self._dask_name(),
        )


class FrameFile(FrameArray):
    """Array-like ``(n_frames, height, width)`` view of frames at byte offsets of a file.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    offsets : numpy.ndarray of int
        Byte offset of each frame's pixel block.
    frame_bytes : int
        Bytes of one stored frame.
    height, width : int
        Frame size, pixels.
    dtype : numpy.dtype
        Dtype of the decoded frames.
    decode : callable, optional
        ``decode(buffer: bytes) -> ndarray (height, width)``; default: the bytes are
        ``dtype`` pixels row by row.
    fix : str
        The fix an :class:`~platescope.InputError` names when a frame is cut short.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "raw.bin"
    >>> _ = p.write_bytes(np.arange(24, dtype="<u2").tobytes())
    >>> f = FrameFile(p, np.array([0, 24]), frame_bytes=24, height=3, width=4, dtype="<u2")
    >>> f.shape, int(f[1][0, 0]), f[:, 2, 3].tolist()
    ((2, 3, 4), 12, [11, 23])
    """

    def __init__(
        self,
        path: Path,
        offsets: np.ndarray,
        *,
        frame_bytes: int,
        height: int,
        width: int,
        dtype: Any,
        decode: Callable[[bytes], np.ndarray] | None = None,
        fix: str = "copy the file again from the acquisition computer",
    ) -> None:
        self.path = Path(path)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.frame_bytes = int(frame_bytes)
        self.dtype = np.dtype(dtype)
        self.shape = (int(self.offsets.size), int(height), int(width))
        self._decode = decode
        self._fix = fix

    def _frame(self, fh: Any, i: int) -> np.ndarray:
        fh.seek(int(self.offsets[i]))
        buf = fh.read(self.frame_bytes)
        if len(buf) != self.frame_bytes:
            raise InputError(
                self.path,
                f"frame {i} is cut short ({len(buf)} of {self.frame_bytes} bytes): the file "
                "is truncated",
                self._fix,
            )
        if self._decode is not None:
            return self._decode(buf)
        return np.frombuffer(buf, dtype=self.dtype).reshape(self.shape[1:])

    def _read_frames(self, frames: np.ndarray) -> np.ndarray:
        out = np.empty((frames.size,) + self.shape[1:], dtype=self.dtype)
        with open(self.path, "rb") as fh:
            for k, i in enumerate(frames):  # one read per frame, not per pixel
                out[k] = self._frame(fh, int(i))
        return out

    def _dask_name(self) -> str:
        st = self.path.stat()
        return f"frames-{self.path.resolve()}-{st.st_size}-{st.st_mtime_ns}-{self.dtype.str}"
