"""Princeton Instruments ``.spe`` movies (WinView/WinSpec v2.x, LightField v3.0).

The 4100-byte header (little endian) holds ``xdim`` (``uint16`` at 42), ``ydim``
(``uint16`` at 656), ``NumFrames`` (``int32`` at 1446), ``datatype`` (``int16`` at
108: 0 float32, 1 int32, 2 int16, 3 uint16, 5 float64, 6 uint8, 8 uint32), the
exposure ``exp_sec`` (``float32`` at 10), the header version (``float32`` at 1992)
and, from version 3.0, the byte offset of an XML footer (``uint64`` at 678). Pixels
start at byte 4100, frame after frame, rows top-down.

What each version gives (times in s):

=======  ==================================================  ==========================
version  per-frame times                                     start time
=======  ==================================================  ==========================
2.x      none (a constant interval only when stated)         date + local time, no zone
3.0      ``MetaBlock`` time stamps after each frame:         none (``Origin created``
         mid-exposure when both ``ExposureStarted`` and      is the file's creation,
         ``ExposureEnded`` are recorded, else the one found  kept as ``file_created``)
=======  ==================================================  ==========================

v3 frames may carry per-frame metadata after their pixels (``DataBlock stride`` >
``size``); the footer's ``DataFormat`` gives the frame count, region size, pixel
format and stride, and wins over the v2 fields. Only files holding one region per
frame are read. SPE files carry no specimen-plane pixel size (the sensor's pixel
pitch is not one): pass ``pixel_size_um``.
"""

from __future__ import annotations

import contextlib
import re
import struct
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope.io._movie import RawMovie, refuse_selection, to_utc_iso
from platescope.io._movie_raw import FrameFile

HEADER_BYTES = 4100
#: SPE ``datatype`` code → numpy dtype.
DTYPES = {0: "<f4", 1: "<i4", 2: "<i2", 3: "<u2", 5: "<f8", 6: "u1", 8: "<u4"}
#: LightField ``pixelFormat`` → numpy dtype.
PIXEL_FORMATS = {
    "MonochromeUnsigned16": "<u2",
    "MonochromeUnsigned32": "<u4",
    "MonochromeFloating32": "<f4",
}
_FIX = "copy the .spe again from the acquisition computer (the copy may be incomplete)"
_FIX_EXPORT = "export the movie from LightField/WinView as a 16-bit TIFF stack"
_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if _local(el.tag) == name]


def read_spe_header(path: Path) -> dict[str, Any]:
    """Decode the v2 header fields platescope uses (no policy).

    Returns ``xdim``, ``ydim``, ``n_frames``, ``datatype``, ``exposure_s``,
    ``version``, ``xml_offset``, ``date`` and ``time_local`` (strings as stored),
    ``file_size``.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if len(head) < HEADER_BYTES:
        raise InputError(
            path,
            f"the file has {len(head)} bytes, less than an SPE header (4100): it is truncated "
            "or not an SPE file",
            _FIX,
        )

    def text(a: int, b: int) -> str:
        return head[a:b].split(b"\0", 1)[0].decode("latin-1").strip()

    return {
        "xdim": struct.unpack_from("<H", head, 42)[0],
        "ydim": struct.unpack_from("<H", head, 656)[0],
        "n_frames": struct.unpack_from("<i", head, 1446)[0],
        "datatype": struct.unpack_from("<h", head, 108)[0],
        "exposure_s": struct.unpack_from("<f", head, 10)[0],
        "version": struct.unpack_from("<f", head, 1992)[0],
        "xml_offset": struct.unpack_from("<Q", head, 678)[0],
        "date": text(20, 30),
        "time_local": text(172, 179),
        "file_size": size,
    }


def _v2_start(date: str, hhmmss: str) -> str | None:
    """``"22Jul2015"`` + ``"094018"`` → ``"2015-07-22T09:40:18"`` (no zone), else None."""
    m = re.fullmatch(r"(\d{1,2})([A-Za-z]{3})(\d{4})", date)
    if not m or not re.fullmatch(r"\d{6}", hhmmss):
        return None
    month = _MONTHS.get(m.group(2).lower())
    if month is None:
        return None
    with contextlib.suppress(ValueError):
        moment = datetime(
            int(m.group(3)), month, int(m.group(1)),
            int(hhmmss[:2]), int(hhmmss[2:4]), int(hhmmss[4:]),
        )  # fmt: skip
        return moment.isoformat()
    return None


def _parse_footer(path: Path, hdr: dict[str, Any]) -> dict[str, Any]:
    """Frame layout, per-frame metadata layout, start time and exposure from the v3 XML."""
    off, size = hdr["xml_offset"], hdr["file_size"]
    if off < HEADER_BYTES or off >= size:
        raise InputError(
            path,
            f"the SPE 3 header points to an XML footer at byte {off}, outside the file "
            f"({size} bytes): the file is truncated",
            _FIX,
        )
    with open(path, "rb") as fh:
        fh.seek(off)
        raw = fh.read()
    try:
        root = ET.fromstring(raw.rstrip(b"\0 \r\n\t"))
    except ET.ParseError as exc:
        raise InputError(
            path, f"the SPE 3 XML footer cannot be parsed ({exc}): the file is damaged", _FIX
        ) from exc
    out: dict[str, Any] = {}
    frames = [el for el in _find(root, "DataBlock") if el.get("type") == "Frame"]
    if frames:
        fb = frames[0]
        regions = [el for el in fb if _local(el.tag) == "DataBlock"]
        if len(regions) != 1:
            raise InputError(
                path,
                f"each frame holds {len(regions)} regions of interest; platescope reads one",
                "save one region of interest per file in LightField",
            )
        fmt = fb.get("pixelFormat", "")
        if fmt not in PIXEL_FORMATS:
            raise InputError(
                path, f"the pixel format {fmt!r} is not supported (monochrome only)", _FIX_EXPORT
            )
        try:
            out.update(
                n_frames=int(fb.get("count", "0")),
                dtype=np.dtype(PIXEL_FORMATS[fmt]),
                frame_bytes=int(fb.get("size", "0")),
                stride=int(fb.get("stride", fb.get("size", "0"))),
                width=int(regions[0].get("width", "0")),
                height=int(regions[0].get("height", "0")),
            )
        except ValueError as exc:
            raise InputError(path, f"the XML footer's DataFormat is damaged ({exc})", _FIX) from exc
    # per-frame metadata after the pixels, in MetaBlock order
    meta: list[tuple[str, str | None, int, float]] = []
    for el in _find(root, "MetaBlock"):
        bits = int(el.get("bitDepth", "64") or 64)
        res = float(el.get("resolution", "0") or 0)
        meta.append((el.get("type", ""), el.get("event"), bits // 8, res))
    out["meta"] = meta
    for el in _find(root, "Origin"):
        created = el.get("created")
        if created:
            text = re.sub(r"(\.\d{6})\d+", r"\1", created.strip()).replace("Z", "+00:00")
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(text)
                if moment.tzinfo is not None:
                    out["t0"] = to_utc_iso(moment)
                else:
                    out["t0_local"] = moment.isoformat()
            break
    for el in _find(root, "ExposureTime"):
        with contextlib.suppress(ValueError, TypeError):
            out["exposure_s"] = float(el.text or "") * 1e-3  # LightField states ms
            break
    return out


def _meta_times(path: Path, offsets: np.ndarray, frame_bytes: int, meta: list) -> dict[str, Any]:
    """Per-frame time stamps from the metadata after each frame (s, None when absent)."""
    stamps: dict[str, np.ndarray] = {}
    pos = frame_bytes
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    try:
        for kind, event, nbytes, res in meta:
            if kind == "TimeStamp" and nbytes == 8 and res > 0:
                idx = offsets[:, None] + pos + np.arange(8)
                if idx.size and int(idx.max()) < mm.size:
                    raw = np.ascontiguousarray(mm[idx]).view("<i8").ravel()
                    stamps[event or "TimeStamp"] = raw.astype(float) / res
            pos += nbytes
    finally:
        del mm
    return stamps


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect an ``.spe`` (header and footer only) and return a :class:`RawMovie`."""
    refuse_selection(path, "an .spe", channel=channel, z=z, position=position)
    hdr = read_spe_header(path)
    v3 = hdr["version"] >= 3.0 and hdr["xml_offset"] > 0
    footer = _parse_footer(path, hdr) if v3 else {"meta": []}
    if "dtype" in footer:
        dtype, n = footer["dtype"], footer["n_frames"]
        height, width = footer["height"], footer["width"]
        frame_bytes, stride = footer["frame_bytes"], footer["stride"]
    else:
        if hdr["datatype"] not in DTYPES:
            raise InputError(
                path,
                f"the SPE data type code {hdr['datatype']} is not one platescope reads "
                f"(known: {', '.join(map(str, sorted(DTYPES)))})",
                _FIX_EXPORT,
            )
        dtype = np.dtype(DTYPES[hdr["datatype"]])
        n, height, width = hdr["n_frames"], hdr["ydim"], hdr["xdim"]
        frame_bytes = height * width * dtype.itemsize
        stride = frame_bytes
    if n <= 0 or height <= 0 or width <= 0:
        raise InputError(
            path,
            f"the header gives {n} frames of {width} × {height} pixels: not a readable SPE movie",
            _FIX,
        )
    if frame_bytes != height * width * dtype.itemsize or stride < frame_bytes:
        raise InputError(
            path,
            f"the frame size ({frame_bytes} bytes, stride {stride}) does not match "
            f"{width} × {height} pixels of {dtype.name}",
            _FIX,
        )
    end = HEADER_BYTES + (n - 1) * stride + frame_bytes
    limit = hdr["xml_offset"] if v3 else hdr["file_size"]
    if end > min(limit, hdr["file_size"]):
        have = max(0, (min(limit, hdr["file_size"]) - HEADER_BYTES) // stride)
        raise InputError(
            path,
            f"the header promises {n} frames of {width} × {height} {dtype.name} but the file "
            f"holds only {have}: it is truncated",
            _FIX,
        )
    offsets = HEADER_BYTES + np.arange(n, dtype=np.int64) * stride
    frames = FrameFile(
        path, offsets, frame_bytes=frame_bytes, height=height, width=width, dtype=dtype, fix=_FIX
    )
    times, source = None, None
    extra: dict[str, Any] = {"spe_version": float(round(hdr["version"], 3))}
    if footer["meta"]:
        stamps = _meta_times(path, offsets, frame_bytes, footer["meta"])
        start, stop = stamps.get("ExposureStarted"), stamps.get("ExposureEnded")
        if start is not None and stop is not None:
            times, source = 0.5 * (start + stop), "spe exposure mid-point time stamps"
            extra["exposure_s"] = float(np.median(stop - start))
        elif start is not None or stop is not None:
            times = start if start is not None else stop
            source = (
                "spe ExposureStarted time stamps"
                if start is not None
                else "spe ExposureEnded time stamps"
            )
        if times is not None:
            extra["t_clock"] = "camera hardware"
    exposure = footer.get("exposure_s", hdr["exposure_s"] or None)
    if exposure and "exposure_s" not in extra:
        extra["exposure_s"] = float(exposure)
    # LightField's ``Origin created`` is when the file was made, not the zero of the
    # frame stamps: reported, never used as t0 (a clock offset from it could be wrong)
    t0, t0_local = None, None
    if footer.get("t0") or footer.get("t0_local"):
        extra["file_created"] = footer.get("t0") or footer.get("t0_local")
    else:
        t0_local = _v2_start(hdr["date"], hdr["time_local"])
    return RawMovie(
        path=str(path),
        format=f"spe-v{'3' if v3 else '2'}",
        n_frames=n,
        height=height,
        width=width,
        dtype=dtype,
        load=frames.load,
        frame_times_s=times,
        frame_times_source=source,
        t0=t0,
        t0_local=t0_local,
        extra_attrs=extra,
    )
