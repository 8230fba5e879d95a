"""Movie readers: one registry, one module per format, one data model.

A movie is an :class:`xarray.DataArray` with dims ``("t", "y", "x")``: coordinate
``t`` in s from real per-frame timestamps, ``y``/``x`` in µm, and attrs ``units``,
``mode``, ``t0``, ``source`` (see DESIGN.md §2). The format modules
(``_movie_tiff``, ``_movie_nd2``, ``_movie_video``, ``_movie_cine``, ``_movie_spe``)
only extract what the file says (:class:`RawMovie`); this module decides where times and pixel size come from,
validates them and builds the DataArray, so every format follows the same rules.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope._movie_model import movie_dataarray

# imported on first use: `platescope info` and the readers' sniffers stay fast
pd = lazy_module("pandas")
xr = lazy_module("xarray")

__all__ = ["describe_movie", "read_frame_times", "read_movie"]

#: Movies whose *decoded* pixels (frames × height × width × bytes per pixel, from the
#: header) exceed this are opened lazily (dask) unless ``lazy`` says otherwise. The size
#: on disk says nothing: a compressed TIFF of 2 MB can decode to gigabytes.
LAZY_THRESHOLD_BYTES = 256 * 2**20

#: A single frame larger than this (decoded) is refused: even lazy reading holds whole
#: frames, and the analyses make float copies of them (8 bytes per pixel).
MAX_FRAME_BYTES = 512 * 2**20

#: Formats read only into memory (video) are refused above this decoded size.
MAX_EAGER_BYTES = 4 * 2**30


def decoded_bytes(n_frames: int, height: int, width: int, dtype) -> int:
    """Bytes the pixels take once decoded (Python int: no overflow).

    >>> decoded_bytes(1000, 2048, 2048, "uint16") / 2**30
    7.8125
    """
    return int(n_frames) * int(height) * int(width) * int(np.dtype(dtype).itemsize)


def _check_budget(raw: RawMovie, p: Path, *, lazy: bool) -> None:
    """Refuse a movie that cannot be read within the memory budget (InputError, exit 2)."""
    frame = decoded_bytes(1, raw.height, raw.width, raw.dtype)
    if frame > MAX_FRAME_BYTES:
        raise InputError(
            p,
            f"one frame is {raw.height} × {raw.width} pixels of {np.dtype(raw.dtype).name} "
            f"({frame / 2**20:.0f} MiB decoded), more than platescope reads "
            f"({MAX_FRAME_BYTES // 2**20} MiB per frame)",
            "crop or bin the movie (e.g. Fiji Image > Scale, Image > Crop) and export it again",
        )
    total = decoded_bytes(raw.n_frames, raw.height, raw.width, raw.dtype)
    if (raw.always_eager or not lazy) and total > MAX_EAGER_BYTES:
        raise InputError(
            p,
            f"the movie decodes to {total / 2**30:.1f} GiB ({raw.n_frames} frames of "
            f"{raw.height} × {raw.width}), more than platescope holds in memory "
            f"({MAX_EAGER_BYTES // 2**30} GiB)"
            + (" and this format cannot be read lazily" if raw.always_eager else ""),
            "export it as a multi-page TIFF (read lazily), or crop, bin or shorten it",
        )


_MODES = ("irm", "trans", "epi", "sem")
_PIXEL_DISAGREE_REL = 0.01


@dataclass
class RawMovie:
    """What a format module found in a movie file (before any policy is applied).

    Times are in s, pixel sizes in µm. ``frame_times_s`` holds NaN where the file
    has no usable time for a frame (absent or a placeholder 0); the policy in
    :func:`read_movie` fills or rejects those.
    """

    path: str
    format: str
    n_frames: int
    height: int
    width: int
    dtype: np.dtype
    load: Callable[[bool], Any]
    frame_axis: str = "T"
    frame_times_s: np.ndarray | None = None
    frame_times_source: str | None = None
    frame_interval_s: float | None = None
    frame_interval_source: str | None = None
    pixel_size_um: tuple[float, float] | None = None  # (y, x)
    pixel_size_source: str | None = None
    t0: str | None = None
    t0_local: str | None = None
    selection: dict[str, int] = field(default_factory=dict)
    always_eager: bool = False
    #: format-specific facts copied into the movie's attrs (JSON types only), e.g. the
    #: cine's ``trigger_t_s`` and ``t_clock``
    extra_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Reader:
    name: str
    module: str
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    extra: str | None = None


def _is_tiff(head: bytes) -> bool:
    return head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")


def _is_nd2(head: bytes) -> bool:
    # current ND2 chunk magic 0x0ABECEDA (little endian); legacy JPEG2000 ND2 signature
    return head[:4] == b"\xda\xce\xbe\x0a" or head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def _is_video(head: bytes) -> bool:
    return (
        (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
        or head[:4] == b"\x1a\x45\xdf\xa3"  # Matroska / WebM
    )


def _is_cine(head: bytes) -> bool:
    # Phantom CINEFILEHEADER: "CI" and its own size, 44
    return head[:2] == b"CI" and head[2:4] == b"\x2c\x00"


def _is_spe(head: bytes) -> bool:
    return False  # Princeton .spe has no magic number: recognised by its suffix


#: The movie format registry: sniffed by content first, then by file name suffix.
READERS: tuple[_Reader, ...] = (
    _Reader(
        "tiff",
        "platescope.io._movie_tiff",
        (".tif", ".tiff", ".btf", ".tf8", ".tf2"),
        _is_tiff,
    ),
    _Reader("nd2", "platescope.io._movie_nd2", (".nd2",), _is_nd2, extra="nd2"),
    _Reader(
        "video",
        "platescope.io._movie_video",
        (".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm"),
        _is_video,
        extra="video",
    ),
    _Reader("cine", "platescope.io._movie_cine", (".cine",), _is_cine),
    _Reader("spe", "platescope.io._movie_spe", (".spe",), _is_spe),
)

_NOT_MOVIES = {
    b"\x89PNG": "a single PNG image",
    b"\xff\xd8\xff": "a single JPEG image",
    b"BM": "a single BMP image",
}


def refuse_selection(path, what: str, **selection: int) -> None:
    """Raise InputError when a channel/z/position other than 0 is asked of a format that
    holds a single series (``what``: "a .cine", "a video" …)."""
    for name, value in selection.items():
        if value != 0:
            raise InputError(
                None,
                f"{path}: {name}={value} requested but {what} holds a single series",
                f"leave {name} at 0",
            )


#: Image files a folder of frames (or of a volume's slices) is made of.
FRAME_FILE_SUFFIXES = (".tif", ".tiff", ".png")


def holds_frames(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder with at least one ``.tif``/``.tiff``/``.png`` file.

    >>> import tempfile, pathlib
    >>> holds_frames(pathlib.Path(tempfile.mkdtemp()))
    False
    """
    p = Path(path)
    return p.is_dir() and any(
        q.is_file() and q.suffix.lower() in FRAME_FILE_SUFFIXES for q in p.iterdir()
    )


def _check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(
            p,
            "the file does not exist",
            "check the path (relative paths resolve from the experiment file's folder)",
        )
    if p.is_dir():
        if holds_frames(p):  # one image file per frame
            return p
        raise InputError(
            p,
            "this is a folder without image frames (.tif, .tiff or .png), not a movie",
            "point to the movie file itself, or to the folder holding one image file per frame",
        )
    if p.stat().st_size == 0:
        raise InputError(
            p,
            "the file is empty (0 bytes)",
            "re-export or re-copy the file from the acquisition computer",
        )
    return p


#: A folder of one image file per frame (chosen for folders, never by content).
_SEQUENCE = _Reader("image-sequence", "platescope.io._movie_sequence", (), lambda head: False)


def _find_reader(p: Path) -> _Reader:
    if p.is_dir():
        return _SEQUENCE
    with open(p, "rb") as fh:
        head = fh.read(16)
    for reader in READERS:
        if reader.sniff(head):
            return reader
    for magic, what in _NOT_MOVIES.items():
        if head.startswith(magic):
            raise InputError(
                p,
                f"this is {what}, not a movie",
                "for a series of frames saved one image per file, pass the folder holding them "
                "(read as a movie in name order; give frame_interval_s and pixel_size_um)",
            )
    name = p.name.lower()
    for reader in READERS:
        if name.endswith(reader.suffixes):
            return reader
    known = ", ".join(s for r in READERS for s in r.suffixes)
    raise InputError(
        p,
        "the movie format is not recognised",
        f"export the movie as a multi-page TIFF (ImageJ/OME/Micro-Manager), ND2, Phantom .cine, "
        f"Princeton .spe or video ({known})",
    )


def _probe(p: Path, selection: dict[str, int]) -> RawMovie:
    reader = _find_reader(p)
    try:
        module = importlib.import_module(reader.module)
    except ImportError as exc:  # an optional dependency is missing
        raise InputError(
            p,
            f"reading {reader.name} files needs an optional package ({exc.name or exc})",
            f"install it with: pip install 'platescope[{reader.extra}]'",
        ) from exc
    return module.probe(p, **selection)


# --------------------------------------------------------------------------- times


def _check_increasing(
    times: np.ndarray, path: str | os.PathLike | None, what: str, *, first_frame: int = 0
) -> None:
    """Raise InputError naming the first frame whose time is not after the previous one."""
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            path,
            f"{what}: frame {i + first_frame} has no finite time ({times[i]!r})",
            "fix or remove that entry; every frame needs a finite time in s",
        )
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(
            path,
            f"{what} are not strictly increasing: frame {i + first_frame} (t = {times[i]:.6g} s) "
            f"is not later than frame {i - 1 + first_frame} (t = {times[i - 1]:.6g} s)",
            "correct the timestamps or pass frame_times= with a CSV frame,time_s of the true times",
        )


def read_frame_times(path: str | os.PathLike) -> np.ndarray:
    """Read a table of per-frame times.

    Accepted columns (header row required, comma/tab/semicolon separated):
    ``frame,time_s`` (``frame`` 0- or 1-based, consecutive, in order), ``time_s``
    alone, or ``time_ms`` (with or without ``frame``).

    Parameters
    ----------
    path : str or os.PathLike
        CSV file.

    Returns
    -------
    numpy.ndarray of float64, shape (n_frames,)
        Time of each frame in s, finite and strictly increasing.

    Raises
    ------
    platescope.InputError
        Missing columns, non-numeric, non-finite or non-increasing times, frame
        numbers that skip or repeat, or an empty table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("frame,time_s\\n0,1.5\\n1,2.0\\n")
    >>> read_frame_times(p)
    array([1.5, 2. ])
    """
    p = _check_path(path)
    from platescope._provenance import note_file

    note_file(p, role="movie.frame_times")
    try:
        with open(p, encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
        sep = next((c for c in (",", "\t", ";") if c in header), ",")
        table = pd.read_csv(p, sep=sep, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            p,
            f"cannot parse the frame-times table ({exc})",
            "write a CSV with a header line frame,time_s and one row per frame",
        ) from exc
    cols = {str(c).strip().lower(): c for c in table.columns}
    if "time_s" in cols:
        col, scale = cols["time_s"], 1.0
    elif "time_ms" in cols:
        col, scale = cols["time_ms"], 1e-3
    else:
        raise InputError(
            p,
            f"no time_s or time_ms column (columns: {', '.join(map(str, table.columns))})",
            "write a CSV with a header line frame,time_s and one row per frame",
        )
    if len(table) == 0:
        raise InputError(p, "the frame-times table has no rows", "write one row per movie frame")
    times = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float) * scale
    if "frame" in cols:
        frames = pd.to_numeric(table[cols["frame"]], errors="coerce").to_numpy(dtype=float)
        start = frames[0] if np.isfinite(frames[0]) else np.nan
        expected = start + np.arange(len(frames))
        if start not in (0.0, 1.0) or not np.array_equal(frames, expected):
            bad = int(np.flatnonzero(~(frames == expected))[0]) if start in (0.0, 1.0) else 0
            raise InputError(
                p,
                f"the frame column must count 0, 1, 2, ... (or from 1) in order; row {bad + 1} has frame {table[cols['frame']].iloc[bad]!r}",
                "sort the table by frame and give every frame exactly one row",
            )
    _check_increasing(times, p, "frame times")
    return times


def _frame_times_from_arg(frame_times: Any) -> tuple[np.ndarray, str]:
    if isinstance(frame_times, str | os.PathLike):
        return read_frame_times(frame_times), f"frame_times:{os.fspath(frame_times)}"
    try:
        arr = np.asarray(frame_times, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(
            None,
            f"frame_times must be a CSV path or a sequence of numbers in s, got {type(frame_times).__name__}",
            "pass the path of a frame,time_s CSV or an array of per-frame times in s",
        ) from exc
    _check_increasing(arr, None, "frame_times")
    return arr, "frame_times:array"


def _fill_missing_times(raw: np.ndarray) -> tuple[np.ndarray | None, int]:
    """Fill absent/zero per-frame times; return ``(times, n_filled)`` or ``(None, 0)``.

    A value is missing when it is NaN or exactly 0, except a 0 on the first frame
    when the second frame's time is within ±50 % of the median interval of the
    valid frames (a legitimate start at 0; a placeholder 0 on a clock that really
    started less than half an interval after 0 is therefore kept as 0). Interior
    gaps are interpolated linearly between the valid neighbours; gaps at the start
    or end are extrapolated with the median per-frame interval of the valid
    frames. Fewer than two valid frames: ``(None, 0)`` (no usable timestamps).
    """
    t = np.asarray(raw, dtype=float).copy()
    n = t.size
    missing = ~np.isfinite(t) | (t == 0)
    valid = np.flatnonzero(~missing)
    if n > 1 and t[0] == 0 and not missing[1]:
        # a 0 on the first frame is a real start when the next step looks like the others
        steps = np.diff(t[valid]) / np.diff(valid) if valid.size > 1 else np.array([])
        typical = float(np.median(steps)) if steps.size else t[1]
        if abs(t[1] - typical) <= 0.5 * typical:
            missing[0] = False
            valid = np.flatnonzero(~missing)
    if n == 1:
        return (t if valid.size else None), 0
    if valid.size < 2:
        return None, 0
    n_filled = int(missing.sum())
    if n_filled == 0:
        return t, 0
    per_frame = np.diff(t[valid]) / np.diff(valid)
    dt_med = float(np.median(per_frame))
    idx = np.arange(n)
    filled = np.interp(idx, valid, t[valid])
    first, last = valid[0], valid[-1]
    filled[:first] = t[first] - (first - idx[:first]) * dt_med
    filled[last + 1 :] = t[last] + (idx[last + 1 :] - last) * dt_med
    t[missing] = filled[missing]
    return t, n_filled


def _resolve_times(
    raw: RawMovie, frame_times: Any, frame_interval_s: float | None
) -> dict[str, Any]:
    """Apply the time policy. Returns dict with times, t_source, t_filled, notes."""
    n = raw.n_frames
    file_times, n_filled = (None, 0)
    if raw.frame_times_s is not None:
        file_times, n_filled = _fill_missing_times(raw.frame_times_s)
    out: dict[str, Any] = {"t_filled": 0}
    if frame_times is not None:
        times, source = _frame_times_from_arg(frame_times)
        if times.size != n:
            where = source.split(":", 1)[1]
            raise InputError(
                raw.path,
                f"the frame-times table ({where}) has {times.size} rows but the movie has {n} frames",
                "pass the frame-times table that belongs to this movie (one row per frame)",
            )
        out.update(times=times, t_source=source)
        if file_times is not None:
            out["t_file_source"] = f"file:{raw.frame_times_source}"
        return out
    if file_times is not None:
        steps = np.diff(file_times)
        broken = bool(np.any(steps <= 0)) and frame_interval_s is not None
        if not broken:
            _check_increasing(
                file_times, raw.path, f"per-frame timestamps ({raw.frame_times_source})"
            )
            out.update(
                times=file_times, t_source=f"file:{raw.frame_times_source}", t_filled=n_filled
            )
            return out
        # repeated or out-of-order stamps and a stated interval: the interval wins, the
        # raw stamps stay for platescope.sync.diagnose_frame_times to report
        out["t_file_raw_s"] = [float(v) for v in np.asarray(raw.frame_times_s, float)]
        out["t_note"] = (
            f"the file's {raw.frame_times_source} values are not increasing ("
            f"{int(np.sum(steps == 0))} repeated, {int(np.sum(steps < 0))} out of order); "
            "replaced by the stated frame_interval_s"
        )
    dt, source = None, None
    if frame_interval_s is not None:
        dt = float(frame_interval_s)
        if not math.isfinite(dt) or dt <= 0:
            raise InputError(
                None,
                f"frame_interval_s must be a positive number of seconds, got {frame_interval_s!r}",
                "set [movie] frame_interval_s to the time between frames in s",
            )
        source = "frame_interval_s"
    elif raw.frame_interval_s is not None:
        dt, source = raw.frame_interval_s, f"metadata:{raw.frame_interval_source}"
    if dt is not None:
        out.update(times=np.arange(n, dtype=float) * dt, t_source=source)
        if raw.frame_times_s is not None and "t_note" not in out:
            out["t_note"] = f"the file's {raw.frame_times_source} values were all 0 or absent"
        return out
    if n == 1:
        out.update(times=np.zeros(1), t_source="single frame")
        return out
    return out  # no times: caller raises, possibly together with a pixel-size problem


def _resolve_pixel_size(
    raw: RawMovie, pixel_size_um: float | None
) -> tuple[tuple[float, float] | None, str | None]:
    if pixel_size_um is not None:
        px = float(pixel_size_um)
        if not math.isfinite(px) or px <= 0:
            raise InputError(
                None,
                f"pixel_size_um must be a positive number of µm, got {pixel_size_um!r}",
                "set [movie] pixel_size_um to the pixel size in µm",
            )
        if (
            raw.pixel_size_um is not None
            and abs(raw.pixel_size_um[1] - px) > _PIXEL_DISAGREE_REL * px
        ):
            warnings.warn(
                f"{raw.path}: pixel_size_um={px:g} µm overrides the file's {raw.pixel_size_source} "
                f"value {raw.pixel_size_um[1]:g} µm; check which one is right",
                UserWarning,
                stacklevel=3,
            )
        return (px, px), "pixel_size_um"
    if raw.pixel_size_um is not None:
        return raw.pixel_size_um, f"metadata:{raw.pixel_size_source}"
    return None, None


# ----------------------------------------------------------------------- public API


def read_movie(
    path: str | os.PathLike,
    *,
    frame_times: str | os.PathLike | Sequence[float] | np.ndarray | None = None,
    pixel_size_um: float | None = None,
    mode: str | None = None,
    lazy: bool | None = None,
    frame_interval_s: float | None = None,
    channel: int = 0,
    z: int = 0,
    position: int = 0,
    min_frames: int = 1,
) -> xr.DataArray:
    """Read a microscopy movie into a ``(t, y, x)`` DataArray with real times.

    Formats (sniffed from the file's first bytes, then its suffix): ImageJ
    hyperstack TIFF, OME-TIFF, Micro-Manager TIFF (MMStack or plain pages with
    ``MicroManagerMetadata`` tags), plain multi-page TIFF, Nikon ND2 (needs
    ``platescope[nd2]``), Phantom ``.cine`` (monochrome, uncompressed; hardware
    per-frame times), Princeton ``.spe`` (v2 header, v3 XML footer), AVI/MP4/MOV/MKV video (needs ``platescope[video]``;
    colour video is converted to luma).

    Times (coordinate ``t``, s), first source that applies:

    1. ``frame_times`` (a ``frame,time_s`` CSV or an array), when given;
    2. per-frame timestamps in the file: Micro-Manager ``ElapsedTime-ms``, OME
       ``Plane DeltaT``, ND2 frame times, cine hardware stamps, SPE v3 time stamps,
       video presentation timestamps. Absent or
       placeholder-zero values are filled from their neighbours (linear between
       valid neighbours, the median interval at the ends) and counted in
       ``attrs["t_filled"]``; if all are absent/zero the file has no per-frame times;
    3. ``frame_interval_s`` (constant interval), when given; it also replaces file
       timestamps that repeat or run backwards (the raw stamps are kept in
       ``attrs["t_file_raw_s"]`` and ``attrs["t_note"]`` says so; without it such
       stamps are refused);
    4. a constant interval in the metadata (ImageJ ``finterval``, OME
       ``TimeIncrement``, Micro-Manager ``Interval_ms``, video frame rate).

    ``attrs["t_source"]`` says which was used (``attrs["t_file_source"]`` notes
    file timestamps that ``frame_times`` overrode). The times must be finite and
    strictly increasing. ``t0`` is always the file's own recorded start; times from
    ``frame_times`` are taken to count from the same origin. Pixel size (``y``/``x`` in µm): ``pixel_size_um`` when given (a
    warning is issued if it disagrees with the file by more than 1 %), else the
    metadata (ImageJ resolution + unit, OME ``PhysicalSizeX/Y``, Micro-Manager
    ``PixelSizeUm``, ND2 voxel size, TIFF resolution in cm).

    Files with more axes: the time axis is ``T``; a stack with a single other axis
    (ImageJ "slices" ``Z``, plain page stacks) is taken as the time series
    (``attrs["frame_axis"]``). Otherwise ``channel``, ``z`` and ``position`` pick
    one plane series.

    Parameters
    ----------
    path : str or os.PathLike
        Movie file.
    frame_times : str, os.PathLike or array_like of float, optional
        Per-frame times in s: a CSV path (see :func:`read_frame_times`) or an array,
        one value per frame.
    pixel_size_um : float, optional
        Pixel size in µm, for files whose metadata lack it (or to correct it).
    mode : {"irm", "trans", "epi", "sem"}, optional
        Imaging mode, stored in ``attrs["mode"]``.
    lazy : bool, optional
        ``True``: dask-backed, nothing read at open (TIFF via tifffile's zarr store,
        chunks of whole frames; ND2 via ``nd2``). ``False``: read into memory.
        ``None`` (default): lazy when the *decoded* pixels (frames × height × width
        × bytes per pixel, from the header) exceed 256 MiB, whatever the size on
        disk. Video is always decoded into memory. A frame larger than 512 MiB
        decoded, or an in-memory read beyond 4 GiB, is refused (InputError).
    frame_interval_s : float, optional
        Constant frame interval in s, used when the file has no per-frame times
        and no ``frame_times`` are given.
    channel, z, position : int
        0-based indices of the channel, z-plane and stage position to read from
        multi-dimensional files.
    min_frames : int
        Fewest frames accepted (default 1); the pipeline asks for 3, the least
        any time-series analysis can use.

    Returns
    -------
    xarray.DataArray
        dims ``("t", "y", "x")``, the file's dtype (intensity in camera counts);
        coords ``t`` (s), ``y``, ``x`` (µm, pixel index × pixel size); attrs
        ``units`` ("counts"), ``mode``, ``t0`` (UTC ISO 8601 of ``t = 0`` when the
        file records an absolute start with a time zone, else None; a zone-less
        start is kept in ``t0_local``), ``source``, ``format``, ``pixel_size_um``,
        ``t_source``, ``t_filled``, ``frame_axis``, and the format's own facts
        (see :func:`describe_movie`; ``t_clock = "camera hardware"`` for cine/spe stamps).

    Raises
    ------
    platescope.InputError
        Unreadable, truncated or unsupported files; no time source; no pixel
        size; frame-times count mismatch; non-monotonic times.

    Notes
    -----
    A lazy TIFF movie keeps its file open through tifffile's zarr store until the
    array is garbage-collected, and cannot be pickled: with ``dask.distributed``,
    read the movie inside the task that uses it. Every frame's pixel data are
    checked to lie inside the file at open, so a truncated file fails here rather
    than reading as zeros later.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._image_writers import write_imagej_movie
    >>> p = os.path.join(tempfile.mkdtemp(), "m.tif")
    >>> _ = write_imagej_movie(p, np.zeros((3, 4, 5), np.uint16),
    ...                        pixel_size_um=0.5, frame_interval_s=2.0)
    >>> m = read_movie(p, mode="irm")
    >>> m.sizes["t"], m.t.values.tolist(), float(m.x[1]), m.attrs["t_source"]
    (3, [0.0, 2.0, 4.0], 0.5, 'metadata:imagej finterval')
    """
    p = _check_path(path)
    if mode is not None and str(mode).lower() not in _MODES:
        raise InputError(None, f"unknown movie mode {mode!r}", f"use one of {', '.join(_MODES)}")
    selection = {"channel": int(channel), "z": int(z), "position": int(position)}
    raw = _probe(p, selection)
    if raw.n_frames < 1:
        raise InputError(p, "the movie has no frames", "check that the right file was exported")
    if raw.n_frames < min_frames:
        raise InputError(
            p,
            f"the movie has {raw.n_frames} frame{'s' if raw.n_frames != 1 else ''}; the "
            f"analyses need a time series of at least {min_frames}",
            "export every frame of the recording (check the channel/z/position selection "
            "and that the file is the movie, not a snapshot)",
        )
    timing = _resolve_times(raw, frame_times, frame_interval_s)
    spacing, px_source = _resolve_pixel_size(raw, pixel_size_um)
    problems, fixes = [], []
    if "times" not in timing:
        what = "no per-frame timestamps or frame interval"
        if timing.get("t_note") or raw.frame_times_s is not None:
            what += f" (its {raw.frame_times_source} values are all 0 or absent)"
        problems.append(what)
        fixes.append("pass frame_times= (a CSV frame,time_s) or set [movie] frame_interval_s in s")
    if spacing is None:
        problems.append("no pixel size in its metadata")
        fixes.append("set [movie] pixel_size_um (pixel_size_um=) to the pixel size in µm")
    if problems:
        raise InputError(p, "the movie has " + " and ".join(problems), "; ".join(fixes))

    if lazy is None:
        lazy = decoded_bytes(raw.n_frames, raw.height, raw.width, raw.dtype) > LAZY_THRESHOLD_BYTES
    _check_budget(raw, p, lazy=bool(lazy))
    data = raw.load(bool(lazy) and not raw.always_eager)
    attrs: dict[str, Any] = {
        "t0": raw.t0,
        "format": raw.format,
        "pixel_size_source": px_source,
        "t_source": timing["t_source"],
        "t_filled": int(timing.get("t_filled", 0)),
        "frame_axis": raw.frame_axis,
    }
    if raw.t0_local is not None:
        attrs["t0_local"] = raw.t0_local
    for key in ("t_file_source", "t_note", "t_file_raw_s"):
        if key in timing:
            attrs[key] = timing[key]
    attrs.update({k: v for k, v in raw.selection.items()})
    for key, value in raw.extra_attrs.items():
        attrs.setdefault(key, value)
    return movie_dataarray(
        data,
        t_s=timing["times"],
        pixel_size_um=spacing,
        mode=mode,
        source=str(p.resolve()),
        **attrs,
    )


def describe_movie(
    path: str | os.PathLike, *, channel: int = 0, z: int = 0, position: int = 0
) -> dict[str, Any]:
    """Describe a movie file without reading its pixels.

    Parameters
    ----------
    path : str or os.PathLike
        Movie file.
    channel, z, position : int
        Plane series to describe in multi-dimensional files (0-based).

    Returns
    -------
    dict
        ``kind`` ("movie"), ``path``, ``format``, ``shape`` (t, y, x), ``dtype``,
        ``n_frames``, ``time_source`` (None when the file has no times),
        ``first_time_s``, ``last_time_s``, ``median_interval_s``,
        ``first_interval_s``, ``last_interval_s`` (s), ``t_filled``,
        ``pixel_size_um`` (None when absent), ``pixel_size_source``, ``t0``,
        ``t0_local``, ``frame_axis``, ``lazy_by_default``, plus the format's own facts
        (``.cine``: ``t_clock``, ``trigger_t_s``, ``trigger_time_utc``, ``exposure_s``,
        ``frame_rate_setting_Hz``, ``t0_recording_local``, ``real_bpp``,
        ``sensor_pixel_um``; ``.spe``: ``spe_version``, ``exposure_s``, ``t_clock``,
        ``file_created``).

    Raises
    ------
    platescope.InputError
        Unreadable, truncated or unsupported files; non-monotonic timestamps.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._image_writers import write_imagej_movie
    >>> p = os.path.join(tempfile.mkdtemp(), "m.tif")
    >>> _ = write_imagej_movie(p, np.zeros((3, 4, 5), np.uint16),
    ...                        pixel_size_um=0.5, frame_interval_s=2.0)
    >>> info = describe_movie(p)
    >>> info["shape"], info["median_interval_s"], info["pixel_size_um"]
    ((3, 4, 5), 2.0, 0.5)
    """
    p = _check_path(path)
    raw = _probe(p, {"channel": int(channel), "z": int(z), "position": int(position)})
    timing = _resolve_times(raw, None, None)
    times = timing.get("times")
    info: dict[str, Any] = {
        "kind": "movie",
        "path": str(p),
        "format": raw.format,
        "shape": (raw.n_frames, raw.height, raw.width),
        "dtype": str(np.dtype(raw.dtype)),
        "n_frames": raw.n_frames,
        "frame_axis": raw.frame_axis,
        "time_source": timing.get("t_source"),
        "t_filled": int(timing.get("t_filled", 0)),
        "first_time_s": None,
        "last_time_s": None,
        "first_interval_s": None,
        "last_interval_s": None,
        "median_interval_s": None,
        "pixel_size_um": None if raw.pixel_size_um is None else float(raw.pixel_size_um[1]),
        "pixel_size_source": raw.pixel_size_source,
        "t0": raw.t0,
        "t0_local": raw.t0_local,
        "decoded_bytes": decoded_bytes(raw.n_frames, raw.height, raw.width, raw.dtype),
        "lazy_by_default": (
            decoded_bytes(raw.n_frames, raw.height, raw.width, raw.dtype) > LAZY_THRESHOLD_BYTES
            and not raw.always_eager
        ),
    }
    if times is not None:
        info["first_time_s"] = float(times[0])
        info["last_time_s"] = float(times[-1])
        if times.size > 1:
            steps = np.diff(times)
            info["first_interval_s"] = float(steps[0])
            info["last_interval_s"] = float(steps[-1])
            info["median_interval_s"] = float(np.median(steps))
    if raw.selection:
        info.update(raw.selection)
    for key, value in raw.extra_attrs.items():
        info.setdefault(key, value)
    return info


# ------------------------------------------------------------- helpers for formats


def to_utc_iso(moment: datetime) -> str:
    """ISO 8601 string in UTC of a timezone-aware datetime."""
    return moment.astimezone(UTC).isoformat()


def time_units_to_s(unit: str | None) -> float | None:
    """Seconds per unit for common time-unit spellings (None if unknown)."""
    key = (unit or "s").strip().lower().replace("µ", "u").replace("μ", "u")
    table = {
        "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
        "ms": 1e-3, "msec": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
        "us": 1e-6, "usec": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6,
        "ns": 1e-9,
        "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
        "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    }  # fmt: skip
    return table.get(key)


def length_units_to_um(unit: str | None) -> float | None:
    """Micrometres per unit for common length-unit spellings (None if not a length)."""
    if unit is None:
        return None
    key = unit.strip().replace("\\u00B5", "u").replace("\\u00b5", "u")
    key = key.replace("µ", "u").replace("μ", "u").lower()
    table = {
        "um": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0, "micrometre": 1.0,
        "micrometers": 1.0, "micrometres": 1.0,
        "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3, "nanometers": 1e-3,
        "pm": 1e-6, "angstrom": 1e-4, "å": 1e-4,
        "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3,
        "cm": 1e4, "centimeter": 1e4, "centimetre": 1e4,
        "m": 1e6, "meter": 1e6, "metre": 1e6,
    }  # fmt: skip
    return table.get(key)
