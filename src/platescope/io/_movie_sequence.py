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

from platescope.io._movie import RawMovie, holds_frames, refuse_selection
from platescope.io._movie_raw import FrameArray
from platescope.io._volume import _folder_info, _read_slices

__all__ = ["SequenceFrames", "holds_frames", "probe"]


class SequenceFrames(FrameArray):
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

    def _read_frames(self, frames: np.ndarray) -> np.ndarray:
        return _read_slices([self.files[int(i)] for i in frames], self.dtype)


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect a folder of frames (each file's header only) and return a :class:`RawMovie`."""
    refuse_selection(path, "a folder of single images", channel=channel, z=z, position=position)
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
