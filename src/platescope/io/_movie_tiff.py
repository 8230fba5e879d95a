"""TIFF movies: ImageJ hyperstacks, OME-TIFF, Micro-Manager and plain multi-page TIFF.

What each flavour gives (times in s, pixel size in µm):

=================  ==============================  ==========================  =====================
flavour            per-frame times                 constant interval           pixel size
=================  ==============================  ==========================  =====================
Micro-Manager      ``ElapsedTime-ms`` (tag 51123)  summary ``Interval_ms``     ``PixelSizeUm``
OME-TIFF           ``Plane DeltaT``                ``TimeIncrement``           ``PhysicalSizeX/Y``
ImageJ             --                              ``finterval`` (+ ``tunit``)  resolution + ``unit``
plain              --                              --                          resolution in cm
=================  ==============================  ==========================  =====================

Start time ``t0``: Micro-Manager summary ``StartTime`` (else the first page's
``Time``/``ReceivedTime`` minus its ``ElapsedTime-ms``), OME ``AcquisitionDate``.

Before any pixel is read the file is checked for truncation: every frame's pixel
data must lie inside the file, the IFD chain must end properly, the first page's
tag values must be inside the file and the frame count must match the count the
metadata promise (ImageJ ``images``, OME plane count). tifffile alone would fall
back to fewer frames or fill missing data with zeros.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import struct
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from platescope._errors import InputError
from platescope._provenance import note_file
from platescope.io._movie import RawMovie, length_units_to_um, time_units_to_s, to_utc_iso

_MM_TAG = 51123
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}  # fmt: skip
_CHUNK_TARGET_BYTES = 32 * 2**20
_FIX_TRUNCATED = (
    "re-export the movie from the acquisition software, or copy it again from the "
    "instrument computer (the copy may be incomplete)"
)


# What tifffile raises on damaged files and headers (OME XML, Micro-Manager and Zeiss
# metadata with zero or absurd sizes: ZeroDivisionError, MemoryError, OverflowError, ...).
_DAMAGED = (
    tifffile.TiffFileError,
    ValueError,
    OSError,
    struct.error,
    IndexError,
    KeyError,
    ZeroDivisionError,
    MemoryError,
    OverflowError,
    RecursionError,
    TypeError,
    AttributeError,
    EOFError,
    RuntimeError,  # e.g. "incompatible keyframe" of a damaged page
    AssertionError,  # tifffile asserts on some impossible page layouts
)

# tifffile reports damage through its logger; platescope explains it instead (without
# this, Python's last-resort handler prints those lines before our message)
logging.getLogger("tifffile").addHandler(logging.NullHandler())


def _short(exc: BaseException, limit: int = 160) -> str:
    """``Type: message`` of an exception, one line, at most ``limit`` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    text = re.sub(r"""b(['"]).*?\1""", "b'…'", text)  # no bytes of the file in messages
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _ListHandler(logging.Handler):
    def __init__(self, records: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


@contextlib.contextmanager
def capture_tifffile_log() -> Iterator[list[str]]:
    """Collect tifffile's warnings (instead of Python's last-resort stderr printing)."""
    logger = logging.getLogger("tifffile")
    records: list[str] = []
    handler = _ListHandler(records)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


# ------------------------------------------------------------- raw IFD inspection


class _ShortRead(Exception):
    pass


def check_ifd_chain(path, *, max_pages: int = 10_000_000) -> int:
    """Walk the chain of TIFF pages (IFDs) and return its length; refuse a looping chain.

    A damaged "next page" offset that points back to an earlier page makes tifffile
    iterate the same page forever (seen in fuzzing: a 3.7 kB file yielded 450 000+
    pages in 20 s). Walking the chain first, with cycle detection, turns that hang
    into an InputError. Non-TIFF or truncated headers are left to tifffile.

    Examples
    --------
    >>> import tempfile, os, numpy as np, tifffile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.tif")
    >>> tifffile.imwrite(p, np.zeros((3, 4, 5), np.uint8), photometric="minisblack")
    >>> check_ifd_chain(p)
    3
    """
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            return 0
        bo = "<" if head[:2] == b"II" else ">"
        (magic,) = struct.unpack(bo + "H", head[2:4])
        if magic == 42:
            (offset,) = struct.unpack(bo + "I", head[4:8])
            count_fmt, count_size, entry, next_fmt = bo + "H", 2, 12, bo + "I"
        elif magic == 43 and len(head) >= 16:
            (offset,) = struct.unpack(bo + "Q", head[8:16])
            count_fmt, count_size, entry, next_fmt = bo + "Q", 8, 20, bo + "Q"
        else:
            return 0
        size = os.fstat(fh.fileno()).st_size
        seen: set[int] = set()
        while offset:
            if offset in seen:
                raise InputError(
                    path,
                    f"the chain of TIFF pages loops: page {len(seen)} points back to an "
                    f"earlier page (byte {offset}), a damaged page offset",
                    _FIX_TRUNCATED,
                )
            if len(seen) >= max_pages or offset + count_size > size:
                break  # tifffile reports what is wrong with this page
            seen.add(offset)
            fh.seek(offset)
            raw = fh.read(count_size)
            (n,) = struct.unpack(count_fmt, raw)
            fh.seek(offset + count_size + n * entry)
            raw = fh.read(struct.calcsize(next_fmt))
            if len(raw) != struct.calcsize(next_fmt):
                break
            (offset,) = struct.unpack(next_fmt, raw)
        return len(seen)


def _read_exact(fh: Any, offset: int, size: int) -> bytes:
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise _ShortRead
    return data


def read_ifd(fh: Any, offset: int, fmt: Any) -> tuple[list[tuple[int, int, int, bytes]], int]:
    """Entries ``(code, type, count, value_field)`` of the IFD at ``offset`` and the next-IFD offset."""
    (n,) = struct.unpack(fmt.tagnoformat, _read_exact(fh, offset, fmt.tagnosize))
    block = _read_exact(fh, offset + fmt.tagnosize, n * fmt.tagsize + fmt.offsetsize)
    entries = []
    head = struct.Struct(fmt.tagformat1)
    tail = struct.Struct(fmt.byteorder + fmt.tagformat2[1:])
    for i in range(n):
        pos = i * fmt.tagsize
        code, dtype = head.unpack_from(block, pos)
        count, field = tail.unpack_from(block, pos + head.size)
        entries.append((code, dtype, count, field))
    (nxt,) = struct.unpack_from(fmt.offsetformat, block, n * fmt.tagsize)
    return entries, nxt


def _value_extent(entry: tuple[int, int, int, bytes], fmt: Any) -> tuple[int, int] | None:
    """``(offset, size)`` of an out-of-line tag value, None when stored inline."""
    _, dtype, count, field = entry
    size = count * _TYPE_SIZES.get(dtype, 1)
    if size <= fmt.offsetsize:
        return None
    (offset,) = struct.unpack(fmt.offsetformat, field)
    return offset, size


def read_tag_bytes(fh: Any, ifd_offset: int, fmt: Any, code: int) -> bytes | None:
    """Raw bytes of tag ``code`` in the IFD at ``ifd_offset`` (None if absent)."""
    entries, _ = read_ifd(fh, ifd_offset, fmt)
    for entry in entries:
        if entry[0] == code:
            extent = _value_extent(entry, fmt)
            if extent is None:
                size = entry[2] * _TYPE_SIZES.get(entry[1], 1)
                return entry[3][:size]
            return _read_exact(fh, *extent)
    return None


# ------------------------------------------------------------------ truncation


def _frames_readable(
    tif: tifffile.TiffFile, series: Any, frame_bytes: int, expected: int, filesize: int
) -> tuple[int, int | None]:
    """Number of frames of ``series`` whose pixel data are inside the file, and the first bad one."""
    first = tif.pages.first
    n_series = len(series.pages)
    if series.dataoffset is not None or (tif.is_imagej and n_series < expected):
        # contiguous pixel data (ImageJ writes all frames in one block after page 0)
        start = series.dataoffset if series.dataoffset is not None else first.dataoffsets[0]
        fits = max(0, (filesize - int(start)) // frame_bytes) if frame_bytes else expected
        readable = int(min(expected, fits))
        return readable, (readable if readable < expected else None)
    readable, first_bad = 0, None
    for k, page in enumerate(series.pages):
        ok = page is not None
        if ok:
            size = page.parent.filehandle.size
            spans = [
                (o, c) for o, c in zip(page.dataoffsets, page.databytecounts, strict=False) if c > 0
            ]
            ok = bool(spans) and all(o > 0 and o + c <= size for o, c in spans)
        if ok:
            readable += 1
        elif first_bad is None:
            first_bad = k
    if readable < expected and first_bad is None:
        first_bad = readable
    return readable, first_bad


def _check_complete(
    tif: tifffile.TiffFile, series: Any, path: Path, fh: Any, expected_meta: int
) -> None:
    filesize = path.stat().st_size
    fmt = tif.tiff
    first = tif.pages.first
    n_series = int(np.prod(series.shape[:-2])) if len(series.shape) > 2 else 1
    expected = max(n_series, expected_meta)
    frame_bytes = int(series.shape[-1]) * int(series.shape[-2]) * series.dtype.itemsize
    try:
        entries, _ = read_ifd(fh, first.offset, fmt)
        beyond = [
            e[0] for e in entries if (ext := _value_extent(e, fmt)) and ext[0] + ext[1] > filesize
        ]
        n_pages = len(tif.pages)
        last = tif.pages[n_pages - 1]
        _, next_offset = read_ifd(fh, last.offset, fmt)
    except (_ShortRead, struct.error) as exc:
        raise InputError(
            path,
            f"the file looks truncated: a TIFF directory runs past the end of the file ({filesize} bytes)",
            _FIX_TRUNCATED,
        ) from exc
    readable, first_bad = _frames_readable(tif, series, frame_bytes, expected, filesize)
    chain_broken = next_offset != 0
    if readable < expected:
        raise InputError(
            path,
            f"the file looks truncated: only {readable} of {expected} frames are readable "
            f"(frame {first_bad} lies beyond the end of the file at {filesize} bytes)",
            _FIX_TRUNCATED,
        )
    if chain_broken:
        raise InputError(
            path,
            f"the file looks truncated: {readable} frames are readable but its last page points "
            f"to a further page at byte {next_offset}, beyond the readable data ({filesize} bytes)",
            _FIX_TRUNCATED,
        )
    if beyond:
        raise InputError(
            path,
            f"the file looks truncated: all {readable} frames are present but its metadata "
            f"(TIFF tag {beyond[0]}) lies beyond the end of the file at {filesize} bytes",
            _FIX_TRUNCATED,
        )


# ---------------------------------------------------------------- axes handling


def _select_frames(
    axes: str, shape: tuple[int, ...], path: Path, channel: int, z: int, position: int
) -> tuple[str, list[Any], dict[str, int], int]:
    """Return (frame axis, index per non-spatial axis, chosen indices, n_frames)."""
    if "S" in axes:
        raise InputError(
            path,
            f"the movie has colour samples (axes {axes}); platescope reads greyscale movies",
            "save the movie as 8/16-bit greyscale (Fiji: Image > Type > 16-bit) and read it again",
        )
    if axes[-2:] != "YX":
        raise InputError(
            path,
            f"unsupported TIFF layout (axes {axes})",
            "save the movie as an ImageJ or OME TIFF with frames as pages",
        )
    non = axes[:-2]
    sizes = dict(zip(non, shape[:-2], strict=True))
    if "T" in non:
        frame_axis = "T"
    else:
        candidates = [a for a in non if a not in ("C", "R")]
        if len(candidates) > 1:
            raise InputError(
                path,
                f"the file has no time axis and several others ({''.join(candidates)}); the frame order is ambiguous",
                "save the time series as an ImageJ hyperstack with frames (T) or as OME-TIFF",
            )
        frame_axis = candidates[0] if candidates else ""
    names = {"C": ("channel", channel), "Z": ("z", z), "R": ("position", position)}
    index: list[Any] = []
    chosen: dict[str, int] = {}
    for ax in non:
        if ax == frame_axis:
            index.append(slice(None))
            continue
        if ax not in names:
            raise InputError(
                path,
                f"the file has an extra axis {ax!r} of size {sizes[ax]} besides time (axes {axes})",
                "export one image series per file (time, y, x)",
            )
        name, want = names[ax]
        if not 0 <= want < sizes[ax]:
            raise InputError(
                None,
                f"{path}: {name}={want} requested but the file has {sizes[ax]} ({ax} axis)",
                f"pass {name} between 0 and {sizes[ax] - 1}",
            )
        index.append(want)
        chosen[name] = want
    for ax, (name, want) in names.items():
        if want != 0 and name not in chosen:
            raise InputError(
                None,
                f"{path}: {name}={want} requested but the file has no {ax} axis to choose from "
                f"(axes {axes}, frames along {frame_axis or 'none'})",
                f"leave {name} at 0 for this file",
            )
    n_frames = sizes[frame_axis] if frame_axis else 1
    return frame_axis or "none", index, chosen, n_frames


def _page_keys(non_shape: tuple[int, ...], index: list[Any], n_frames: int) -> list[int]:
    if not non_shape:
        return [0]
    keys = []
    for i in range(n_frames):
        multi = tuple(i if isinstance(v, slice) else v for v in index)
        keys.append(int(np.ravel_multi_index(multi, non_shape)))
    return keys


# ---------------------------------------------------------------- metadata


def _parse_mm_time(text: Any) -> tuple[str | None, str | None]:
    """Micro-Manager time string -> (UTC ISO or None, naive local ISO or None)."""
    if not isinstance(text, str) or not text.strip():
        return None, None
    s = text.strip()
    for fmt in (
        "%Y-%m-%d %H:%M:%S.%f %z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S.%f%z",
        "%Y-%m-%dT%H:%M:%S%z",
    ):
        with contextlib.suppress(ValueError):
            return to_utc_iso(datetime.strptime(s, fmt)), None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%a %b %d %H:%M:%S %Z %Y"):
        with contextlib.suppress(ValueError):
            return None, datetime.strptime(s, fmt).isoformat()
    parts = s.split()
    if (
        len(parts) == 6
    ):  # Java Date.toString with a zone abbreviation: "Thu May 02 10:00:00 CEST 2024"
        with contextlib.suppress(ValueError):
            return None, datetime.strptime(
                " ".join(parts[:4] + parts[5:]), "%a %b %d %H:%M:%S %Y"
            ).isoformat()
    return None, None


def _iso_shift(iso: str | None, seconds: float) -> str | None:
    if iso is None:
        return None
    return (datetime.fromisoformat(iso) - timedelta(seconds=float(seconds))).isoformat()


def _positive(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _mm_metadata(
    tif: tifffile.TiffFile, series: Any, keys: list[int], path: Path, fmt: Any
) -> dict[str, Any]:
    """Per-frame ElapsedTime-ms, pixel size, interval and t0 from Micro-Manager tags."""
    handles: dict[str, Any] = {}
    metas: list[dict[str, Any] | None] = []
    try:
        for k in keys:
            page = series.pages[k]
            fname = page.parent.filehandle.path
            if fname not in handles:
                note_file(fname, role="movie (Micro-Manager file of the dataset)")
                handles[fname] = open(fname, "rb")  # noqa: SIM115 - closed below
            raw = read_tag_bytes(handles[fname], page.offset, fmt, _MM_TAG)
            meta = None
            if raw is not None:
                with contextlib.suppress(ValueError, UnicodeDecodeError):
                    meta = json.loads(raw.rstrip(b"\0").decode("utf-8"))
            metas.append(meta if isinstance(meta, dict) else None)
    except (_ShortRead, struct.error, OSError) as exc:
        raise InputError(
            path,
            "the file looks truncated: a page's Micro-Manager metadata lies beyond the end of the file",
            _FIX_TRUNCATED,
        ) from exc
    finally:
        for fh in handles.values():
            fh.close()

    elapsed = np.full(len(keys), np.nan)
    for i, meta in enumerate(metas):
        if meta is not None and "ElapsedTime-ms" in meta:
            with contextlib.suppress(TypeError, ValueError):
                elapsed[i] = float(meta["ElapsedTime-ms"])
    summary: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        header = tif.micromanager_metadata or {}
        summary = dict(header.get("Summary") or {})
    first = next((m for m in metas if m is not None), {}) or {}
    if isinstance(first.get("Summary"), dict):
        summary = {**first["Summary"], **summary}
    out: dict[str, Any] = {"elapsed_s": elapsed / 1e3}
    px = _positive(first.get("PixelSizeUm")) or _positive(summary.get("PixelSize_um"))
    if px is not None:
        out["pixel"] = ((px, px), "micromanager PixelSizeUm")
    interval = _positive(summary.get("Interval_ms"))
    if interval is not None:
        out["interval"] = (interval / 1e3, "micromanager Interval_ms")
    t0, t0_local = _parse_mm_time(summary.get("StartTime"))
    if t0 is None and t0_local is None:
        for i, meta in enumerate(metas):
            if meta is None or not np.isfinite(elapsed[i]):
                continue
            stamp = meta.get("ReceivedTime") or meta.get("Time")
            utc, local = _parse_mm_time(stamp)
            if utc or local:
                t0, t0_local = (
                    _iso_shift(utc, elapsed[i] / 1e3),
                    _iso_shift(local, elapsed[i] / 1e3),
                )
                break
    out["t0"], out["t0_local"] = t0, t0_local
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ome_metadata(
    xml: str, series_index: int, n_frames: int, frame_axis: str, chosen: dict[str, int], path: Path
) -> dict[str, Any]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InputError(
            path,
            f"the OME-XML metadata cannot be parsed ({exc})",
            "re-export the movie as OME-TIFF or ImageJ TIFF",
        ) from exc
    images = [el for el in root if _local(el.tag) == "Image"]
    out: dict[str, Any] = {"expected": 0}
    if series_index >= len(images):
        return out
    image = images[series_index]
    pixels = next((el for el in image if _local(el.tag) == "Pixels"), None)
    acq = next((el for el in image if _local(el.tag) == "AcquisitionDate"), None)
    if acq is not None and acq.text:
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(acq.text.strip().replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                out["t0"] = to_utc_iso(moment)
            else:
                out["t0_local"] = moment.isoformat()
    if pixels is None:
        return out
    a = pixels.attrib
    with contextlib.suppress(ValueError):
        out["expected"] = int(a.get("SizeT", 1)) * int(a.get("SizeZ", 1)) * int(a.get("SizeC", 1))
        samples = [
            int(ch.attrib.get("SamplesPerPixel", 1)) for ch in pixels if _local(ch.tag) == "Channel"
        ]
        if samples and max(samples) > 1:
            out["expected"] //= max(samples)
    sx = _positive(a.get("PhysicalSizeX"))
    if sx is not None:
        fx = length_units_to_um(a.get("PhysicalSizeXUnit", "µm"))
        sy = _positive(a.get("PhysicalSizeY")) or sx
        fy = length_units_to_um(a.get("PhysicalSizeYUnit", a.get("PhysicalSizeXUnit", "µm")))
        if fx and fy:
            out["pixel"] = ((sy * fy, sx * fx), "ome PhysicalSizeX")
    dt = _positive(a.get("TimeIncrement"))
    unit = time_units_to_s(a.get("TimeIncrementUnit", "s"))
    if dt is not None and unit:
        out["interval"] = (dt * unit, "ome TimeIncrement")
    planes: dict[tuple[int, int, int], float] = {}
    for plane in pixels:
        if _local(plane.tag) != "Plane" or "DeltaT" not in plane.attrib:
            continue
        with contextlib.suppress(ValueError):
            scale = time_units_to_s(plane.attrib.get("DeltaTUnit", "s"))
            if scale is None:
                continue
            key = tuple(int(plane.attrib.get(k, 0)) for k in ("TheT", "TheZ", "TheC"))
            planes[key] = float(plane.attrib["DeltaT"]) * scale
    if planes:
        times = np.full(n_frames, np.nan)
        for i in range(n_frames):
            key = (
                i if frame_axis == "T" else 0,
                i if frame_axis == "Z" else chosen.get("z", 0),
                chosen.get("channel", 0),
            )
            times[i] = planes.get(key, np.nan)
        out["times"] = (times, "ome Plane DeltaT")
    return out


def _imagej_metadata(tif: tifffile.TiffFile) -> dict[str, Any]:
    meta = tif.imagej_metadata or {}
    out: dict[str, Any] = {"expected": int(meta.get("images", 0) or 0)}
    dt = _positive(meta.get("finterval"))
    scale = time_units_to_s(meta.get("tunit", "s"))
    if dt is not None and scale:
        out["interval"] = (dt * scale, "imagej finterval")
    factor = length_units_to_um(meta.get("unit"))
    if factor:
        spacing = _resolution_spacing(tif.pages.first)
        if spacing is not None:
            out["pixel"] = ((spacing[0] * factor, spacing[1] * factor), "imagej resolution")
    return out


def _resolution_spacing(page: Any) -> tuple[float, float] | None:
    """Pixel spacing (y, x) in the resolution unit, from XResolution/YResolution."""
    try:
        xn, xd = page.tags["XResolution"].value
        yn, yd = page.tags["YResolution"].value
    except (KeyError, TypeError, ValueError):
        return None
    if not (xn > 0 and xd > 0 and yn > 0 and yd > 0):
        return None
    return yd / yn, xd / xn


def _plain_resolution(page: Any) -> dict[str, Any]:
    unit = page.tags.valueof("ResolutionUnit")
    spacing = _resolution_spacing(page)
    if (
        spacing is None or unit is None or int(unit) != 3
    ):  # only centimetre is a physical calibration
        return {}
    if spacing == (1.0, 1.0):
        return {}
    return {"pixel": ((spacing[0] * 1e4, spacing[1] * 1e4), "tiff resolution (cm)")}


# ---------------------------------------------------------------------- loading


def _loader(
    path: Path,
    series_index: int,
    keys: list[int],
    n_pages: int,
    index: list[Any],
    n_frames: int,
    height: int,
    width: int,
    dtype: np.dtype,
) -> Any:
    def load(lazy: bool) -> Any:
        if lazy:
            return _load_lazy(path, series_index, index, n_frames, height, width, dtype)
        whole = keys == list(range(len(keys))) and n_pages == len(keys)
        try:
            with capture_tifffile_log():
                if whole:  # every page of the series, in order: tifffile's fast path
                    data = tifffile.imread(path, series=series_index)
                else:
                    data = tifffile.imread(path, series=series_index, key=keys)
        except _DAMAGED as exc:
            raise InputError(
                path, f"the pixel data cannot be decoded ({_short(exc)})", _FIX_TRUNCATED
            ) from exc
        return np.asarray(data).reshape(n_frames, height, width)

    return load


def _load_lazy(
    path: Path,
    series_index: int,
    index: list[Any],
    n_frames: int,
    height: int,
    width: int,
    dtype: np.dtype,
) -> Any:
    import dask.array as da
    import zarr

    with capture_tifffile_log():
        store = tifffile.imread(path, aszarr=True, series=series_index)
    array = zarr.open(store, mode="r")
    weakref.finalize(array, store.close)  # close the file once nothing references the data
    frame_bytes = height * width * np.dtype(dtype).itemsize
    per_chunk = max(1, min(n_frames, _CHUNK_TARGET_BYTES // max(frame_bytes, 1)))
    chunks = tuple(per_chunk if isinstance(v, slice) else 1 for v in index) + (height, width)
    lazy = da.from_zarr(array, chunks=chunks)
    lazy = lazy[tuple(index) + (slice(None), slice(None))]
    if lazy.ndim == 2:
        lazy = lazy[None]
    return lazy


# ------------------------------------------------------------------------ probe


def _flavour(tif: tifffile.TiffFile) -> str:
    if tif.is_micromanager:
        return "micromanager-tiff"
    if tif.is_ome:
        return "ome-tiff"
    if tif.is_imagej:
        return "imagej-tiff"
    return "tiff"


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect a TIFF movie (metadata only) and return a :class:`RawMovie`."""
    # tifffile's own warnings about a damaged file are captured here; the checks in
    # _check_complete explain the damage to the user instead
    with capture_tifffile_log(), open(path, "rb") as fh:
        try:
            check_ifd_chain(path)
            tif = tifffile.TiffFile(path)
        except _DAMAGED as exc:
            raise InputError(
                path,
                f"this is not a readable TIFF file ({_short(exc)}); it may be truncated or corrupt",
                _FIX_TRUNCATED,
            ) from exc
        try:
            return _probe_open(tif, path, fh, channel, z, position)
        except InputError:
            raise
        except _DAMAGED as exc:
            raise InputError(
                path,
                f"the TIFF structure or its metadata header is damaged ({_short(exc)})",
                _FIX_TRUNCATED,
            ) from exc
        finally:
            tif.close()


def _probe_open(
    tif: tifffile.TiffFile, path: Path, fh: Any, channel: int, z: int, position: int
) -> RawMovie:
    flavour = _flavour(tif)
    series_index = 0
    if flavour == "ome-tiff" and len(tif.series) > 1:
        if not 0 <= position < len(tif.series):
            raise InputError(
                None,
                f"{path}: position={position} requested but the OME file has {len(tif.series)} image series",
                f"pass position between 0 and {len(tif.series) - 1}",
            )
        series_index = position
    if not tif.series:
        raise InputError(
            path, "the TIFF file contains no images", "check that the right file was exported"
        )
    series = tif.series[series_index]
    axes, shape = series.axes, tuple(int(s) for s in series.shape)
    if len(shape) < 2:
        raise InputError(
            path,
            f"the TIFF image has shape {shape}, not (frames, y, x)",
            "export the movie as a greyscale image stack",
        )

    axis_position = 0 if series_index else position  # OME positions are separate series
    frame_axis, index, chosen, n_frames = _select_frames(
        axes, shape, path, channel, z, axis_position
    )
    if series_index:
        chosen["position"] = series_index
    meta: dict[str, Any] = {}
    if flavour == "ome-tiff":
        # the plane count OME promises (Micro-Manager's own index map is checked instead:
        # an aborted acquisition legitimately has fewer planes than its OME header says)
        with contextlib.suppress(Exception):
            meta_pre = _ome_metadata(tif.ome_metadata or "", series_index, 1, "T", {}, path)
            meta["expected"] = meta_pre.get("expected", 0)
    if flavour == "imagej-tiff":
        meta = _imagej_metadata(tif)
    _check_complete(tif, series, path, fh, int(meta.get("expected", 0) or 0))
    height, width = shape[-2], shape[-1]
    keys = _page_keys(shape[:-2], index, n_frames)
    raw = RawMovie(
        path=str(path),
        format=flavour,
        n_frames=n_frames,
        height=height,
        width=width,
        dtype=np.dtype(series.dtype),
        load=_loader(
            path,
            series_index,
            keys,
            int(np.prod(shape[:-2])),
            index,
            n_frames,
            height,
            width,
            np.dtype(series.dtype),
        ),
        frame_axis=frame_axis,
        selection=chosen,
    )
    if flavour == "micromanager-tiff":
        meta = _mm_metadata(tif, series, keys, path, tif.tiff)
        raw.frame_times_s, raw.frame_times_source = meta["elapsed_s"], "micromanager ElapsedTime-ms"
        raw.t0, raw.t0_local = meta["t0"], meta["t0_local"]
        if "pixel" not in meta:
            meta.update(_plain_resolution(tif.pages.first))
    elif flavour == "ome-tiff":
        meta = _ome_metadata(
            tif.ome_metadata or "", series_index, n_frames, frame_axis, chosen, path
        )
        if "times" in meta:
            raw.frame_times_s, raw.frame_times_source = meta["times"]
        raw.t0, raw.t0_local = meta.get("t0"), meta.get("t0_local")
    elif flavour == "tiff":
        meta = _plain_resolution(tif.pages.first)
    if "interval" in meta:
        raw.frame_interval_s, raw.frame_interval_source = meta["interval"]
    if "pixel" in meta:
        raw.pixel_size_um, raw.pixel_size_source = meta["pixel"]
    return raw
