"""Vision Research Phantom ``.cine`` movies (monochrome, uncompressed).

Layout (little endian): a 44-byte ``CINEFILEHEADER`` (``"CI"``, header size 44,
``Compression``, ``ImageCount``, offsets of the ``BITMAPINFOHEADER``, of the
``SETUP`` block and of the image-offset table, ``TriggerTime``), a 40-byte
``BITMAPINFOHEADER`` (width, height, bits per pixel, pixels per metre of the
*sensor*), the ``SETUP`` block (its own length at byte 142; frame rate at 768,
``RecordingTimeZone`` at 804, ``CFA`` at 808, ``RealBPP`` at 896, shutter in ns at
1568), then tagged blocks up to the image-offset table (``uint32`` size, ``uint16``
type, ``uint16`` reserved, data): 1002 (1001 in older files) holds one ``TIME64``
per saved frame, 1003 one exposure per frame (``uint32`` in 2⁻³² s). The offset
table holds one ``int64`` per frame; each frame is an annotation (its ``uint32``
size first, the pixel block's ``uint32`` size last) followed by the pixels, rows
bottom-up as in a Windows bitmap with positive height.

``TIME64`` is a 32.32 fixed-point count of seconds since 1970-01-01 UTC (the C
library's ``time_t`` plus 2⁻³² s fractions). The per-frame stamps are the camera's
hardware clock. platescope puts ``t = 0`` on the first saved frame, so ``t0`` is that
frame's UTC time and ``attrs["trigger_t_s"]`` the trigger on the movie's time axis
(negative when the trigger came first). ``RecordingTimeZone`` (seconds west of UTC,
as the Windows C runtime's ``_timezone``) gives ``attrs["t0_recording_local"]``.

Read: 8- and 16-bit monochrome pixels (``RealBPP`` significant bits in 16-bit
containers) and packed 10/12-bit pixels (unpacked to ``uint16``). Refused with the fix:
JPEG-compressed or raw (uninterpolated) cines, colour cines, other bit depths,
truncated files. The ``BITMAPINFOHEADER`` pixels per metre describe the sensor
(e.g. 28 µm pixels), not the specimen: they are reported as
``attrs["sensor_pixel_um"]`` and never used as the pixel size.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope.io._movie import RawMovie, refuse_selection, to_utc_iso
from platescope.io._movie_raw import FrameFile

HEADER = struct.Struct("<2sHHHiIiIIIIQ")  # CINEFILEHEADER, 44 bytes
BITMAP = struct.Struct("<IiiHHIIiiII")  # BITMAPINFOHEADER, 40 bytes
#: Byte offsets of the SETUP fields platescope reads.
SETUP_OFFSETS = {
    "length": (142, "<H"),
    "frame_rate_16": (0, "<H"),
    "frame_rate": (768, "<I"),
    "recording_time_zone": (804, "<i"),
    "cfa": (808, "<I"),
    "real_bpp": (896, "<I"),
    "shutter_ns": (1568, "<I"),
}
TAG_TIME_TOTAL, TAG_TIME_ONLY, TAG_EXPOSURE = 1001, 1002, 1003
_COMPRESSION = {1: "JPEG-compressed", 2: "raw (uninterpolated sensor data)"}
_FIX = "copy the .cine again from the acquisition computer (the copy may be incomplete)"
_FIX_EXPORT = (
    "save it again from Phantom Camera Control / Cine Viewer as an uncompressed 8- or "
    "16-bit monochrome .cine, or export a 16-bit TIFF sequence"
)


def is_cine(head: bytes) -> bool:
    """``True`` for a Phantom cine header (``"CI"`` and a 44-byte header size).

    >>> is_cine(b"CI" + (44).to_bytes(2, "little")), is_cine(b"II*\\0")
    (True, False)
    """
    return head[:2] == b"CI" and head[2:4] == b"\x2c\x00"


def time64_to_s(stamps: np.ndarray) -> np.ndarray:
    """Seconds (float) of 32.32 fixed-point ``TIME64`` values, relative to the first.

    Exact integer differences first, so microsecond steps survive in float64.

    >>> time64_to_s(np.array([5 << 32, (5 << 32) + 2**31], np.uint64)).tolist()
    [0.0, 0.5]
    """
    s = np.asarray(stamps, dtype=np.uint64)
    return (s - s[0]).astype(np.int64).astype(float) / 2.0**32


def _time64_utc(stamp: int) -> datetime:
    seconds, fraction = stamp >> 32, stamp & 0xFFFFFFFF
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds + fraction / 2.0**32)


def unpack_bits(buf: bytes, bits: int) -> np.ndarray:
    """Unpack 10- or 12-bit pixels packed most significant bit first into ``uint16``.

    >>> unpack_bits(bytes([0xAB, 0xCD, 0xEF]), 12).tolist()
    [2748, 3567]
    """
    a = np.frombuffer(buf, dtype=np.uint8).astype(np.uint16)
    if bits == 12:
        a = a[: a.size // 3 * 3].reshape(-1, 3)
        out = np.empty((a.shape[0], 2), np.uint16)
        out[:, 0] = (a[:, 0] << 4) | (a[:, 1] >> 4)
        out[:, 1] = ((a[:, 1] & 0x0F) << 8) | a[:, 2]
        return out.ravel()
    if bits == 10:
        a = a[: a.size // 5 * 5].reshape(-1, 5)
        out = np.empty((a.shape[0], 4), np.uint16)
        out[:, 0] = (a[:, 0] << 2) | (a[:, 1] >> 6)
        out[:, 1] = ((a[:, 1] & 0x3F) << 4) | (a[:, 2] >> 4)
        out[:, 2] = ((a[:, 2] & 0x0F) << 6) | (a[:, 3] >> 2)
        out[:, 3] = ((a[:, 3] & 0x03) << 8) | a[:, 4]
        return out.ravel()
    raise ValueError(f"bits must be 10 or 12, not {bits}")


def _read(fh: Any, offset: int, size: int, path: Path, what: str) -> bytes:
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise InputError(
            path,
            f"the file ends inside its {what} (byte {offset} + {size}); it is truncated",
            _FIX,
        )
    return data


def read_tagged_blocks(data: bytes) -> dict[int, bytes]:
    """Payloads of the tagged blocks between the SETUP block and the offset table.

    >>> blk = struct.pack("<IHH", 12, 1003, 0) + struct.pack("<I", 7)
    >>> read_tagged_blocks(blk)
    {1003: b'\\x07\\x00\\x00\\x00'}
    """
    blocks: dict[int, bytes] = {}
    pos = 0
    while pos + 8 <= len(data):
        size, kind, _ = struct.unpack_from("<IHH", data, pos)
        if size < 8 or pos + size > len(data):
            break
        blocks.setdefault(kind, data[pos + 8 : pos + size])
        pos += size
    return blocks


def read_cine_header(path: Path) -> dict[str, Any]:
    """Decode the headers, SETUP fields, tagged blocks and frame table of a ``.cine``.

    Returns a dict of the raw fields (no policy): ``compression``, ``image_count``,
    ``first_image_no``, ``trigger_time64``, ``width``, ``height``, ``bottom_up``,
    ``bit_count``, ``pels_per_metre``, the SETUP fields of :data:`SETUP_OFFSETS`
    (None when the SETUP block is too short to hold them), ``blocks`` (tag → bytes),
    ``image_offsets`` (int64 array).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fields = HEADER.unpack(_read(fh, 0, HEADER.size, path, "file header"))
        magic, hsize, compression, _version, _fmi, _total, first_no, count = fields[:8]
        off_bitmap, off_setup, off_offsets, trigger = fields[8:]
        if not is_cine(magic + struct.pack("<H", hsize)):
            raise InputError(path, "this is not a Phantom .cine file (no 'CI' header)", _FIX)
        bitmap = BITMAP.unpack(_read(fh, off_bitmap, BITMAP.size, path, "bitmap header"))
        setup_len = struct.unpack("<H", _read(fh, off_setup + 142, 2, path, "SETUP block"))[0]
        setup = _read(fh, off_setup, setup_len, path, "SETUP block") if setup_len > 144 else b""
        tagged = b""
        start = off_setup + setup_len
        if setup and off_offsets > start:
            tagged = _read(fh, start, off_offsets - start, path, "tagged blocks")
        if count > (size - off_offsets) // 8:
            raise InputError(
                path,
                f"the header promises {count} frames but the file ends inside the table of "
                "frame offsets: it is truncated",
                _FIX,
            )
        offsets = np.frombuffer(_read(fh, off_offsets, 8 * count, path, "frame table"), "<i8")
    out: dict[str, Any] = {
        "compression": compression,
        "image_count": int(count),
        "first_image_no": int(first_no),
        "trigger_time64": int(trigger),
        "width": int(bitmap[1]),
        "height": abs(int(bitmap[2])),
        "bottom_up": bitmap[2] > 0,
        "bit_count": int(bitmap[4]),
        "pels_per_metre": int(bitmap[7]),
        "blocks": read_tagged_blocks(tagged),
        "image_offsets": offsets.astype(np.int64),
        "file_size": size,
    }
    for name, (pos, fmt) in SETUP_OFFSETS.items():
        width = struct.calcsize(fmt)
        out[name] = struct.unpack_from(fmt, setup, pos)[0] if pos + width <= len(setup) else None
    return out


def _frame_layout(path: Path, hdr: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Byte offset of each frame's pixels and the pixel block size (checked inside the file)."""
    offsets, size = hdr["image_offsets"], hdr["file_size"]
    if offsets.size == 0:
        raise InputError(path, "the .cine holds no frames", "check that the right file was saved")
    bad = np.flatnonzero((offsets < 0) | (offsets + 8 > size))
    if bad.size:
        raise InputError(
            path,
            f"frame {int(bad[0])} starts beyond the end of the file (byte {int(offsets[bad[0]])} "
            f"of {size}): it is truncated",
            _FIX,
        )
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    try:
        four = np.arange(4)
        ann = mm[offsets[:, None] + four].astype(np.uint32) @ (256**four).astype(np.uint32)
        ann = ann.astype(np.int64)
        where = offsets + ann - 4
        if np.any(ann < 8) or np.any(where + 4 > size):
            i = int(np.flatnonzero((ann < 8) | (where + 4 > size))[0])
            raise InputError(path, f"frame {i} has a damaged annotation header", _FIX)
        image_size = mm[where[:, None] + four].astype(np.uint32) @ (256**four).astype(np.uint32)
    finally:
        del mm
    image_size = image_size.astype(np.int64)
    if np.any(image_size != image_size[0]):
        i = int(np.flatnonzero(image_size != image_size[0])[0])
        raise InputError(
            path,
            f"frame {i} has {int(image_size[i])} bytes of pixels, frame 0 {int(image_size[0])}",
            _FIX,
        )
    pixels = offsets + ann
    short = np.flatnonzero(pixels + image_size[0] > size)
    if short.size:
        raise InputError(
            path,
            f"frame {int(short[0])} of {offsets.size} is cut short by the end of the file: "
            "it is truncated",
            _FIX,
        )
    return pixels, int(image_size[0])


def _times(hdr: dict[str, Any]) -> tuple[np.ndarray | None, str | None, int | None]:
    n = hdr["image_count"]
    for tag, name in ((TAG_TIME_ONLY, "1002"), (TAG_TIME_TOTAL, "1001")):
        data = hdr["blocks"].get(tag)
        if data is not None and len(data) >= 8 * n:
            stamps = np.frombuffer(data[: 8 * n], "<u8")
            if np.all(stamps > 0):
                return stamps, f"phantom hardware frame time (cine tagged block {name})", None
    return None, None, None


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect a ``.cine`` (headers only; pixel data are read by ``load``)."""
    refuse_selection(path, "a .cine", channel=channel, z=z, position=position)
    hdr = read_cine_header(path)
    if hdr["compression"] != 0:
        what = _COMPRESSION.get(hdr["compression"], f"compressed (code {hdr['compression']})")
        raise InputError(
            path, f"this .cine is {what}; platescope reads uncompressed cines", _FIX_EXPORT
        )
    cfa = hdr["cfa"]
    if hdr["bit_count"] in (24, 48) or (cfa is not None and cfa & 0xFF):
        raise InputError(
            path,
            "this is a colour .cine; platescope reads monochrome movies",
            "save a monochrome (greyscale) version from Phantom Camera Control / Cine Viewer",
        )
    height, width = hdr["height"], hdr["width"]
    if height <= 0 or width <= 0:
        raise InputError(path, f"the frame size {width} × {height} is not valid", _FIX)
    pixels, image_size = _frame_layout(path, hdr)
    bits = image_size * 8 / (height * width)
    flip = hdr["bottom_up"]
    if bits == 8:
        dtype = np.dtype(np.uint8)
    elif bits == 16:
        dtype = np.dtype("<u2")
    elif bits in (10, 12):
        dtype = np.dtype(np.uint16)
        flip = False  # packed frames are stored top-down (as pims found on real files)
    else:
        raise InputError(
            path,
            f"the frames hold {bits:g} bits per pixel ({image_size} bytes for {width} × "
            f"{height}); platescope reads 8, 16 and packed 10/12-bit monochrome cines",
            _FIX_EXPORT,
        )

    def decode(buf: bytes) -> np.ndarray:
        if bits in (10, 12):
            frame = unpack_bits(buf, int(bits)).reshape(height, width)
        else:
            frame = np.frombuffer(buf, dtype=dtype).reshape(height, width)
        return frame[::-1] if flip else frame

    frames = FrameFile(
        path,
        pixels,
        frame_bytes=image_size,
        height=height,
        width=width,
        dtype=np.dtype(np.uint16) if bits in (10, 12) else dtype,
        decode=decode,
        fix=_FIX,
    )

    rate = hdr["frame_rate"] or hdr["frame_rate_16"] or None
    stamps, source, _ = _times(hdr)
    trigger = hdr["trigger_time64"]
    extra: dict[str, Any] = {"t_clock": "camera hardware" if stamps is not None else "nominal"}
    t0 = None
    times = None
    if stamps is not None:
        times = time64_to_s(stamps)
        first = int(stamps[0])
        t0 = to_utc_iso(_time64_utc(first))
        if trigger:
            extra["trigger_t_s"] = float(np.int64(np.uint64(trigger) - np.uint64(first))) / 2.0**32
    elif trigger and rate:
        extra["trigger_t_s"] = -hdr["first_image_no"] / float(rate)
        t0 = to_utc_iso(_time64_utc(trigger) - timedelta(seconds=extra["trigger_t_s"]))
    if trigger:
        extra["trigger_time_utc"] = to_utc_iso(_time64_utc(trigger))
    if rate:
        extra["frame_rate_setting_Hz"] = float(rate)
    zone = hdr["recording_time_zone"]
    if t0 is not None and zone is not None and abs(zone) <= 14 * 3600:
        local = datetime.fromisoformat(t0).astimezone(timezone(timedelta(seconds=-zone)))
        extra["t0_recording_local"] = local.isoformat()
    exposure = hdr["blocks"].get(TAG_EXPOSURE)
    n = hdr["image_count"]
    if exposure is not None and len(exposure) >= 4 * n:
        extra["exposure_s"] = float(np.median(np.frombuffer(exposure[: 4 * n], "<u4"))) / 2.0**32
    elif hdr["shutter_ns"]:
        extra["exposure_s"] = hdr["shutter_ns"] * 1e-9
    if hdr["real_bpp"]:
        extra["real_bpp"] = int(hdr["real_bpp"])
    if hdr["pels_per_metre"] > 0:
        extra["sensor_pixel_um"] = 1e6 / hdr["pels_per_metre"]
    return RawMovie(
        path=str(path),
        format="phantom-cine",
        n_frames=n,
        height=height,
        width=width,
        dtype=frames.dtype,
        load=frames.load,
        frame_times_s=times,
        frame_times_source=source,
        frame_interval_s=1.0 / rate if rate else None,
        frame_interval_source="cine SETUP frame rate" if rate else None,
        t0=t0,
        extra_attrs=extra,
    )
