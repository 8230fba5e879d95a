"""Writers for movies, frame-time tables and SEM images in real instrument formats.

The simulator uses these to produce input files that the readers in
:mod:`platescope.io` must take exactly as they would take a file from a
microscope; the tests use them to build realistic fixtures. Every writer is atomic:
it writes a temporary file beside the target and renames it into place, so a
crash never leaves a half-written file under the final name.

Files written
-------------
- :func:`write_imagej_movie` -- ImageJ hyperstack TIFF (axes ``TYX``) with the
  pixel size in the resolution tags (unit ``um``) and ``finterval``.
- :func:`write_ome_movie` -- OME-TIFF with ``PhysicalSizeX/Y`` (µm),
  ``TimeIncrement`` (s) and optional per-plane ``DeltaT`` (s).
- :func:`write_micromanager_movie` -- a Micro-Manager 1.4 style multipage TIFF
  ("MMStack"): the Micro-Manager header (summary JSON, index map, display
  settings, comments) and one ``MicroManagerMetadata`` JSON tag (51123) per page
  carrying ``ElapsedTime-ms``, ``PixelSizeUm`` and ``Time``.
- :func:`write_frame_times_csv` -- ``frame,time_s`` table.
- :func:`write_sem_tiff` -- 8-bit SEM TIFF with FEI/Thermo INI metadata in the
  FEI_HELIOS tag (34682).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import tifffile

from platescope._atomic import _atomic_target

__all__ = [
    "write_frame_times_csv",
    "write_imagej_movie",
    "write_micromanager_movie",
    "write_ome_movie",
    "write_sem_tiff",
]

# Micro-Manager multipage TIFF header magic numbers (Micro-Manager file format docs).
_MM_INDEX_MAP_HEADER = 54773648
_MM_INDEX_MAP_MAGIC = 3453623
_MM_DISPLAY_HEADER = 483765892
_MM_DISPLAY_MAGIC = 347834724
_MM_COMMENTS_HEADER = 99384722
_MM_COMMENTS_MAGIC = 84720485
_MM_SUMMARY_HEADER = 2355492
# Micro-Manager writes 13 IFD entries per page and the pixels directly after the IFD,
# so pixel data start 2 + 13 * 12 + 4 = 162 bytes after the IFD (readers rely on it).
_MM_N_TAGS = 13


def _check_movie(data: np.ndarray, allowed: tuple[str, ...]) -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(
            f"movie data must have shape (t, y, x) with no empty axis, got {arr.shape}"
        )
    if arr.dtype.name not in allowed:
        raise ValueError(f"movie dtype must be one of {allowed}, got {arr.dtype}")
    return arr


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return value


def write_imagej_movie(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    pixel_size_um: float,
    frame_interval_s: float,
) -> Path:
    """Write a movie as an ImageJ hyperstack TIFF (axes ``TYX``).

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.tif``). Written atomically.
    data : numpy.ndarray, shape (t, y, x)
        Frames, dtype ``uint16`` (``uint8`` and ``float32`` are also valid ImageJ
        types and accepted).
    pixel_size_um : float
        Pixel size in µm; stored as resolution ``1 / pixel_size_um`` pixels per µm
        with ImageJ ``unit="um"``.
    frame_interval_s : float
        Nominal frame interval in s, stored as ImageJ ``finterval``.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = write_imagej_movie(os.path.join(d, "m.tif"), np.zeros((3, 4, 5), np.uint16),
    ...                        pixel_size_um=0.5, frame_interval_s=2.0)
    >>> p.name
    'm.tif'
    """
    arr = _check_movie(data, ("uint16", "uint8", "float32"))
    px = _check_positive("pixel_size_um", pixel_size_um)
    dt = _check_positive("frame_interval_s", frame_interval_s)
    with _atomic_target(path) as tmp:
        tifffile.imwrite(
            tmp,
            arr,
            imagej=True,
            resolution=(1.0 / px, 1.0 / px),
            metadata={"axes": "TYX", "unit": "um", "finterval": dt},
        )
    return Path(path)


def write_ome_movie(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    pixel_size_um: float,
    frame_interval_s: float | None = None,
    delta_t_s: Sequence[float] | np.ndarray | None = None,
    acquisition_date: str | None = None,
) -> Path:
    """Write a movie as an OME-TIFF with physical pixel size and plane times.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.ome.tif``). Written atomically.
    data : numpy.ndarray, shape (t, y, x)
        Frames, dtype ``uint8``, ``uint16`` or ``float32``.
    pixel_size_um : float
        Pixel size in µm (``PhysicalSizeX``/``PhysicalSizeY``, unit µm).
    frame_interval_s : float, optional
        Nominal frame interval in s (``TimeIncrement``, unit s).
    delta_t_s : sequence of float, optional
        Per-plane time in s since the acquisition start (``Plane DeltaT``), one per
        frame.
    acquisition_date : str, optional
        ISO 8601 ``AcquisitionDate`` (e.g. ``"2024-05-01T08:00:00Z"``).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = write_ome_movie(os.path.join(d, "m.ome.tif"), np.zeros((2, 4, 5), np.uint16),
    ...                     pixel_size_um=0.5, delta_t_s=[0.0, 1.5])
    >>> p.name
    'm.ome.tif'
    """
    arr = _check_movie(data, ("uint16", "uint8", "float32"))
    px = _check_positive("pixel_size_um", pixel_size_um)
    meta: dict = {
        "axes": "TYX",
        "PhysicalSizeX": px,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": px,
        "PhysicalSizeYUnit": "µm",
    }
    if frame_interval_s is not None:
        meta["TimeIncrement"] = _check_positive("frame_interval_s", frame_interval_s)
        meta["TimeIncrementUnit"] = "s"
    if delta_t_s is not None:
        dts = [float(v) for v in np.asarray(delta_t_s, dtype=float).ravel()]
        if len(dts) != arr.shape[0]:
            raise ValueError(f"delta_t_s has {len(dts)} values for {arr.shape[0]} frames")
        meta["Plane"] = {"DeltaT": dts, "DeltaTUnit": ["s"] * len(dts)}
    if acquisition_date is not None:
        meta["AcquisitionDate"] = acquisition_date
    with _atomic_target(path) as tmp:
        tifffile.imwrite(tmp, arr, ome=True, photometric="minisblack", metadata=meta)
    return Path(path)


def _rational(value: float) -> tuple[int, int]:
    frac = Fraction(value).limit_denominator(2**20)
    num, den = frac.numerator, frac.denominator
    while num >= 2**32:  # keep within uint32
        num //= 2
        den = max(1, den // 2)
    return num, den


def write_micromanager_movie(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    pixel_size_um: float,
    elapsed_ms: Sequence[float | None] | np.ndarray,
    start_time: str = "2024-05-01 10:00:00.000 +0200",
) -> Path:
    """Write a Micro-Manager 1.4 style multipage TIFF ("MMStack") with per-frame times.

    The file has the Micro-Manager header that tifffile recognises as an MMStack
    (summary JSON, index map, display settings, comments) and, on every page, a
    ``MicroManagerMetadata`` JSON tag (51123) with ``ElapsedTime-ms`` (ms since the
    acquisition start), ``PixelSizeUm``, ``Time`` and the frame indices; like
    Micro-Manager, pixel data follow each 13-entry IFD directly.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (conventionally ``*_MMStack_Pos0.ome.tif`` or ``*.tif``).
    data : numpy.ndarray, shape (t, y, x)
        Frames, dtype ``uint16`` or ``uint8``.
    pixel_size_um : float
        Pixel size in µm (``PixelSizeUm`` per page, ``PixelSize_um`` in the summary).
        ``0`` writes an uncalibrated file, as Micro-Manager does.
    elapsed_ms : sequence of float or None
        ``ElapsedTime-ms`` per frame in ms; ``None`` leaves the key out of that page
        (as seen in real files with dropped metadata).
    start_time : str
        Summary ``StartTime`` in Micro-Manager's ``YYYY-MM-DD HH:MM:SS.fff +ZZZZ``
        format.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = write_micromanager_movie(os.path.join(d, "m.tif"), np.zeros((2, 4, 5), np.uint16),
    ...                              pixel_size_um=0.5, elapsed_ms=[0.0, 100.0])
    >>> p.name
    'm.tif'
    """
    arr = _check_movie(data, ("uint16", "uint8"))
    px = float(pixel_size_um)
    if not np.isfinite(px) or px < 0:
        raise ValueError(f"pixel_size_um must be >= 0, got {pixel_size_um!r}")
    elapsed = list(elapsed_ms)
    n_t, height, width = arr.shape
    if len(elapsed) != n_t:
        raise ValueError(f"elapsed_ms has {len(elapsed)} values for {n_t} frames")
    arr = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
    bits = arr.dtype.itemsize * 8
    pixel_type = "GRAY16" if bits == 16 else "GRAY8"

    summary = {
        "MicroManagerVersion": "1.4.23 20180220",
        "Prefix": Path(path).name.split(".")[0],
        "StartTime": start_time,
        "Time": start_time,
        "Width": width,
        "Height": height,
        "Frames": n_t,
        "Slices": 1,
        "Channels": 1,
        "Positions": 1,
        "PixelType": pixel_type,
        "BitDepth": bits,
        "PixelSize_um": px,
        "TimeFirst": True,
        "SlicesFirst": True,
        "ChNames": ["Default"],
    }
    summary_bytes = json.dumps(summary).encode("utf-8")

    out = bytearray()
    out += b"II" + struct.pack("<HI", 42, 0)  # first-IFD offset patched below
    header_pos = len(out)
    out += struct.pack("<8I", 0, 0, 0, 0, 0, 0, 0, 0)  # patched below
    out += summary_bytes
    if len(out) % 2:
        out += b"\0"

    ifd_offsets: list[int] = []
    next_ptr_positions: list[int] = []
    for t in range(n_t):
        page_meta: dict = {
            "Width": width,
            "Height": height,
            "PixelType": pixel_type,
            "BitDepth": bits,
            "PixelSizeUm": px,
            "FrameIndex": t,
            "SliceIndex": 0,
            "ChannelIndex": 0,
            "PositionIndex": 0,
            "Frame": t,
            "Slice": 0,
            "Channel": "Default",
            "Camera": "Camera",
        }
        if elapsed[t] is not None:
            page_meta["ElapsedTime-ms"] = float(elapsed[t])
            page_meta["Time"] = start_time  # coarse wall clock, as in real files
        meta_bytes = json.dumps(page_meta).encode("utf-8") + b"\0"
        pixels = arr[t].tobytes()

        ifd = len(out)
        ifd_offsets.append(ifd)
        data_off = ifd + 2 + _MM_N_TAGS * 12 + 4
        xres_off = data_off + len(pixels)
        yres_off = xres_off + 8
        meta_off = yres_off + 8
        xres = _rational(1e4 / px) if px > 0 else (1, 1)
        entries = [
            (256, 4, 1, width),
            (257, 4, 1, height),
            (258, 3, 1, bits),
            (259, 3, 1, 1),
            (262, 3, 1, 1),
            (273, 4, 1, data_off),
            (277, 3, 1, 1),
            (278, 4, 1, height),
            (279, 4, 1, len(pixels)),
            (282, 5, 1, xres_off),
            (283, 5, 1, yres_off),
            (296, 3, 1, 3 if px > 0 else 1),
            (51123, 2, len(meta_bytes), meta_off),
        ]
        assert len(entries) == _MM_N_TAGS
        out += struct.pack("<H", _MM_N_TAGS)
        for code, typ, count, value in entries:
            if typ == 3:
                out += struct.pack("<HHIHH", code, typ, count, value, 0)
            else:
                out += struct.pack("<HHII", code, typ, count, value)
        next_ptr_positions.append(len(out))
        out += struct.pack("<I", 0)
        out += pixels
        out += struct.pack("<II", *xres) + struct.pack("<II", *xres)
        out += meta_bytes
        if len(out) % 2:
            out += b"\0"

    for pos, nxt in zip(next_ptr_positions[:-1], ifd_offsets[1:], strict=True):
        struct.pack_into("<I", out, pos, nxt)
    struct.pack_into("<I", out, 4, ifd_offsets[0])

    index_off = len(out)
    out += struct.pack("<II", _MM_INDEX_MAP_MAGIC, n_t)
    for t, off in enumerate(ifd_offsets):
        out += struct.pack("<5I", 0, 0, t, 0, off)
    display = json.dumps([{"Name": "Default", "Min": 0, "Max": 2**bits - 1}]).encode()
    display_off = len(out)
    out += struct.pack("<II", _MM_DISPLAY_MAGIC, len(display)) + display
    comments = json.dumps({"Summary": ""}).encode()
    comments_off = len(out)
    out += struct.pack("<II", _MM_COMMENTS_MAGIC, len(comments)) + comments
    struct.pack_into(
        "<8I",
        out,
        header_pos,
        _MM_INDEX_MAP_HEADER,
        index_off,
        _MM_DISPLAY_HEADER,
        display_off,
        _MM_COMMENTS_HEADER,
        comments_off,
        _MM_SUMMARY_HEADER,
        len(summary_bytes),
    )
    with _atomic_target(path) as tmp:
        tmp.write_bytes(bytes(out))
    return Path(path)


def write_frame_times_csv(path: str | os.PathLike, times_s: Sequence[float] | np.ndarray) -> Path:
    """Write per-frame times as a CSV with columns ``frame,time_s``.

    Parameters
    ----------
    path : str or os.PathLike
        Output CSV. Written atomically.
    times_s : sequence of float
        Time of each frame in s (frame ``i`` is row ``i``, 0-based), written with
        full float precision.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_frame_times_csv(os.path.join(tempfile.mkdtemp(), "t.csv"), [0.0, 0.5])
    >>> p.read_text().splitlines()
    ['frame,time_s', '0,0.0', '1,0.5']
    """
    times = np.asarray(times_s, dtype=float).ravel()
    lines = ["frame,time_s"] + [f"{i},{float(t)!r}" for i, t in enumerate(times)]
    with _atomic_target(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def write_sem_tiff(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    pixel_size_nm: float,
    databar_rows: int,
    system: str = "Quanta 3D FEG",
) -> Path:
    """Write an SEM image as an FEI/Thermo-style TIFF with INI metadata.

    The INI text goes into the FEI_HELIOS tag (34682), with ``[System] SystemType``,
    ``[Scan] PixelWidth/PixelHeight`` in metres, ``[Image] ResolutionX/ResolutionY``
    (size of the image part, without the data bar) and ``[PrivateFei]
    DatabarHeight``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.tif``). Written atomically.
    image : numpy.ndarray, shape (H, W), uint8
        The full frame as the instrument saves it, data bar included at the bottom.
    pixel_size_nm : float
        Pixel size in nm (square pixels).
    databar_rows : int
        Height of the data bar at the bottom in pixel rows (0 for none).
    system : str
        Instrument name for ``[System] SystemType``.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> img = np.zeros((80, 64), np.uint8)
    >>> p = write_sem_tiff(os.path.join(tempfile.mkdtemp(), "s.tif"), img,
    ...                    pixel_size_nm=5.0, databar_rows=16)
    >>> p.name
    's.tif'
    """
    img = np.asarray(image)
    if img.ndim != 2 or img.dtype != np.uint8:
        raise ValueError(f"SEM image must be a 2-D uint8 array, got {img.dtype} {img.shape}")
    px_m = _check_positive("pixel_size_nm", pixel_size_nm) * 1e-9
    bar = int(databar_rows)
    if not 0 <= bar < img.shape[0]:
        raise ValueError(f"databar_rows must be in [0, {img.shape[0]}), got {databar_rows}")
    height, width = img.shape
    ini = (
        "[User]\r\n"
        "Date=05/01/2024\r\n"
        "Time=10:00:00 AM\r\n"
        "[System]\r\n"
        f"SystemType={system}\r\n"
        "Software=Simulated\r\n"
        "[Beam]\r\n"
        "HV=5000\r\n"
        "[Scan]\r\n"
        f"PixelWidth={px_m!r}\r\n"
        f"PixelHeight={px_m!r}\r\n"
        f"HorFieldsize={px_m * width!r}\r\n"
        "[Image]\r\n"
        f"ResolutionX={width}\r\n"
        f"ResolutionY={height - bar}\r\n"
        "[PrivateFei]\r\n"
        f"DatabarHeight={bar}\r\n"
    )
    with _atomic_target(path) as tmp:
        tifffile.imwrite(
            tmp,
            img,
            photometric="minisblack",
            extratags=[(34682, "s", 0, ini, True)],
        )
    return Path(path)
