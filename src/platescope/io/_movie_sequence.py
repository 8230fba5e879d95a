"""A folder of single-frame images as a movie (an "image sequence").

Many cameras and acquisition programs save one file per frame (``frame_0001.png``,
``img_000000012.tif`` …). A folder of 2-D grey ``.tif``/``.tiff``/``.png`` images of one
size and type is read as a movie, frames in natural name order (``f2`` before ``f10``),
the same folder rules as a volume's slices (:func:`platescope.io.read_volume`). The
files carry no frame times or pixel size: give ``frame_interval_s`` or ``frame_times``
and ``pixel_size_um`` (``[movie]`` section or :func:`platescope.io.read_movie`), as for
any movie without them. Frames are read lazily, a chunk of whole files at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope.io._movie import RawMovie, holds_frames
from platescope.io._volume import _folder_info, _read_slices

__all__ = ["SequenceFrames", "holds_frames", "probe"]

#: Frames per dask chunk are chosen so a chunk holds about this many decoded bytes.
CHUNK_TARGET_BYTES = 32 * 2**20


class SequenceFrames:
    """Array-like ``(n_frames, height, width)`` over one image file per frame.

    Indexing reads only the files of the frames asked for; picklable (dask.distributed).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, tifffile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in (1, 2, 10):
    ...     tifffile.imwrite(d / f"f{i}.tif", np.full((2, 3), i, np.uint16))
    >>> f = SequenceFrames([str(d / n) for n in ("f1.tif", "f2.tif", "f10.tif")], (2, 3), "u2")
    >>> f.shape, f[:, 0, 0].tolist()
    ((3, 2, 3), [1, 2, 10])
    """

    def __init__(self, files: list[str], shape_yx: tuple[int, int], dtype: Any) -> None:
        self.files = list(files)
        self.dtype = np.dtype(dtype)
        self.shape = (len(self.files), int(shape_yx[0]), int(shape_yx[1]))
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        frames = np.arange(self.shape[0])[key[0]]
        scalar = np.ndim(frames) == 0
        frames = np.atleast_1d(frames)
        if frames.size:
            out = _read_slices([self.files[int(i)] for i in frames], self.dtype)
        else:
            out = np.empty((0,) + self.shape[1:], dtype=self.dtype)
        out = out[(slice(None),) + key[1:]]
        return out[0] if scalar else out

    def __len__(self) -> int:
        return self.shape[0]

    def load(self, lazy: bool) -> Any:
        """All frames: a dask array (``lazy``, chunks of whole files) or a numpy array."""
        if not lazy:
            return self[:]
        import dask.array as da

        per_frame = max(1, self.shape[1] * self.shape[2] * self.dtype.itemsize)
        per_chunk = max(1, min(self.shape[0], CHUNK_TARGET_BYTES // per_frame))
        return da.from_array(self, chunks=(per_chunk,) + self.shape[1:], asarray=True, fancy=False)


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect a folder of frames (each file's header only) and return a :class:`RawMovie`."""
    for name, value in (("channel", channel), ("z", z), ("position", position)):
        if value != 0:
            raise InputError(
                path,
                f"a folder of single images has one {name}; {name} = {value} does not exist",
                f"leave {name} at 0",
            )
    info = _folder_info(Path(path), item="frame", whole="movie")
    n, height, width = info["shape"]
    frames = SequenceFrames(info["files"], (height, width), info["dtype"])
    names = [Path(f).name for f in info["files"]]
    return RawMovie(
        path=str(path),
        format="image-sequence",
        n_frames=n,
        height=height,
        width=width,
        dtype=np.dtype(info["dtype"]),
        load=frames.load,
        extra_attrs={"first_file": names[0], "last_file": names[-1], "n_files": n},
    )
