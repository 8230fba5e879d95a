"""Pure parsers of AFM/SPM height-map formats: bytes in, channels out.

Each parser takes the file's bytes (and its path, for messages) and returns a list
of :class:`Channel` records; :mod:`platescope.io._afm` picks one and builds the
DataArray. No analysis happens here. Formats and the public descriptions followed:

- Gwyddion Simple Field ``.gsf`` (gwyddion.net, "GSF — Gwyddion Simple Field"):
  magic line ``Gwyddion Simple Field 1.0``, ``Key = value`` lines, 1–4 NUL bytes
  padding the header to a multiple of 4, then ``XRes × YRes`` little-endian float32,
  first row at the top.
- Bruker NanoScope v5+ (``\\*File list`` text header, Bruker's "NanoScope file
  format" note): one ``\\*Ciao image list`` per channel with ``Data offset``,
  ``Bytes/pixel``, ``Samps/line``, ``Number of lines``, ``Scan size: X Y unit`` and
  ``\\@2:Z scale: V [Sens. Zscan] (hard V/LSB) hard_value V``. A height is
  ``raw / 2^(8·bytes) × hard_value [V] × Sens. Zscan [nm/V]`` (the full-scale voltage
  spread over the integer range; for 2-byte data hard_value/2¹⁶ equals the stated
  V/LSB to 2 × 10⁻⁵). The first stored line
  is the bottom of the image, so rows are flipped to put the top first.
- Nanonis ``.sxm``: ``:KEY:`` text header up to ``:SCANIT_END:``, then ``\\x1a\\x04``
  and big-endian float32 maps (``SCANIT_TYPE FLOAT MSBFIRST``) in the order of the
  ``DATA_INFO`` table, forward then backward for ``both``; backward maps are stored
  right-to-left (flipped here) and ``SCAN_DIR up`` stores the bottom line first
  (flipped here). Values are in the table's unit (``m`` for Z).
- Agilent/Keysight PicoView ``.mi`` images: ``key value`` header lines, one
  ``bufferLabel``/``bufferRange``/``bufferUnit``/``trace`` group per channel, a
  ``data BINARY`` (int16) / ``BINARY_32`` (int32) line, then little-endian channel
  blocks, bottom line first. value = raw / 2^(bits−1) × bufferRange [bufferUnit]. The
  header has no lateral scan size, so the caller must give the pixel size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError

_FIX_EXPORT = (
    "export the scan again from the instrument software (or Gwyddion: File > Save As "
    "> .gsf) and copy it again"
)


@dataclass
class Channel:
    """One 2-D channel of a scan file, before unit conversion.

    ``data`` rows run top to bottom; ``z_unit`` is the unit of ``data`` values;
    ``size_x``/``size_y`` the physical scan size in ``xy_unit`` (None when the file
    does not say).
    """

    name: str
    data: np.ndarray
    z_unit: str | None
    size_x: float | None = None
    size_y: float | None = None
    xy_unit: str | None = None
    scan_time: str | None = None
    z_scale_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _bad(path: Path, problem: str) -> InputError:
    return InputError(path, problem, _FIX_EXPORT)


# --------------------------------------------------------------------------- GSF

GSF_MAGIC = b"Gwyddion Simple Field 1.0\n"


def parse_gsf(raw: bytes, path: Path) -> list[Channel]:
    """Parse a Gwyddion Simple Field file (see the module docstring)."""
    end = raw.find(b"\0")
    if end < 0:
        raise _bad(path, "the GSF header has no NUL terminator (file truncated?)")
    text = raw[len(GSF_MAGIC) : end].decode("utf-8", errors="replace")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            meta[key.strip()] = value.strip()
    try:
        nx, ny = int(meta["XRes"]), int(meta["YRes"])
    except (KeyError, ValueError):
        raise _bad(path, "the GSF header lacks valid XRes/YRes") from None
    if nx < 1 or ny < 1:
        raise _bad(path, f"the GSF header gives a {nx} × {ny} field")
    start = end + (4 - end % 4)  # 1–4 NULs pad the header to a multiple of 4 bytes
    need = nx * ny * 4
    if len(raw) - start < need:
        raise _bad(
            path,
            f"the file ends after {len(raw) - start} of {need} data bytes ({nx} × {ny} float32)",
        )
    data = np.frombuffer(raw, "<f4", count=nx * ny, offset=start).reshape(ny, nx)

    def num(key: str) -> float | None:
        try:
            v = float(meta[key])
        except (KeyError, ValueError):
            return None
        return v if math.isfinite(v) and v > 0 else None

    with np.errstate(invalid="ignore"):  # signalling NaNs of damaged files stay NaN
        data = data.astype(np.float64)
    return [
        Channel(
            name=meta.get("Title", "Height") or "Height",
            data=data,
            z_unit=meta.get("ZUnits") or None,
            size_x=num("XReal"),
            size_y=num("YReal"),
            xy_unit=meta.get("XYUnits") or None,
            z_scale_source="gsf ZUnits",
        )
    ]


def write_gsf(
    path: str | Path,
    data_nm: np.ndarray,
    *,
    pixel_size_um: float,
    title: str = "Height",
    extra: dict[str, str] | None = None,
) -> Path:
    """Write a height map (nm) as a Gwyddion Simple Field file in SI units (m).

    Parameters
    ----------
    path : str or Path
        Output file.
    data_nm : numpy.ndarray, shape (ny, nx)
        Heights in nm, first row at the top.
    pixel_size_um : float
        Pixel size in µm (square pixels).
    title : str
        Channel title.
    extra : dict, optional
        Further ``Key = value`` header lines.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = write_gsf(os.path.join(tempfile.mkdtemp(), "a.gsf"), np.zeros((4, 6)),
    ...               pixel_size_um=0.5)
    >>> parse_gsf(p.read_bytes(), p)[0].size_x
    3e-06
    """
    from platescope._atomic import atomic_write_bytes

    z = np.asarray(data_nm, dtype=np.float64)
    ny, nx = z.shape
    lines = [
        f"XRes = {nx}",
        f"YRes = {ny}",
        f"XReal = {nx * pixel_size_um * 1e-6!r}",
        f"YReal = {ny * pixel_size_um * 1e-6!r}",
        "XYUnits = m",
        "ZUnits = m",
        f"Title = {title}",
    ]
    lines += [f"{k} = {v}" for k, v in (extra or {}).items()]
    head = GSF_MAGIC + ("\n".join(lines) + "\n").encode("utf-8")
    head += b"\0" * (4 - len(head) % 4)
    body = (z * 1e-9).astype("<f4").tobytes()
    return atomic_write_bytes(Path(path), head + body)


# --------------------------------------------------------------------- NanoScope

NANOSCOPE_MAGIC = (b"\\*File list", b"?*File list", b"\\*EC File list")


def _nanoscope_sections(header: str) -> list[tuple[str, dict[str, str]]]:
    sections: list[tuple[str, dict[str, str]]] = []
    for line in header.replace("\r", "\n").split("\n"):
        line = line.strip()
        if line.startswith("\\*"):
            sections.append((line[2:].strip(), {}))
        elif line.startswith("\\") and sections:
            m = _KEY.match(line[1:])
            if m:
                sections[-1][1].setdefault(m.group(1).strip(), m.group(2).strip())
    return sections


_KEY = re.compile(r"(.+?):(?:\s+|$)(.*)$")
_HARD = re.compile(r"\(([-+0-9.eE]+)\s*([^)]*?)/LSB\)\s*([-+0-9.eE]+)\s*(\S*)")


def _nanoscope_z(line: str) -> tuple[str | None, float, float]:
    """(sensitivity name, hard scale per LSB, hard value) of a ``Z scale`` value."""
    sens = re.search(r"\[([^\]]*)\]", line)
    m = _HARD.search(line)
    if m is None:
        raise ValueError(line)
    return (sens.group(1) if sens else None), float(m.group(1)), float(m.group(3))


def parse_nanoscope(raw: bytes, path: Path) -> list[Channel]:
    """Parse a Bruker NanoScope v5+ file (see the module docstring)."""
    stop = raw.find(b"\\*File list end")
    if stop < 0:
        raise _bad(path, "the NanoScope header has no '\\*File list end' line (file truncated?)")
    header = raw[:stop].decode("latin-1")
    sections = _nanoscope_sections(header)
    glob: dict[str, str] = {}
    for name, keys in sections:
        if name != "Ciao image list":
            for k, v in keys.items():
                glob.setdefault(k, v)
    date = glob.get("Date")
    channels: list[Channel] = []
    for name, keys in sections:
        if name != "Ciao image list":
            continue
        try:
            offset = int(keys["Data offset"])
            bpp = int(keys.get("Bytes/pixel", "2"))
            nx = int(keys["Samps/line"])
            ny = int(keys["Number of lines"])
        except (KeyError, ValueError):
            raise _bad(path, "a '\\*Ciao image list' lacks its data offset or size") from None
        if bpp not in (2, 4) or nx < 1 or ny < 1:
            raise _bad(path, f"unsupported image layout: {nx} × {ny}, {bpp} bytes per pixel")
        label_key = next((k for k in keys if k.endswith("Image Data")), None)
        label = "Unknown"
        if label_key:
            m = re.search(r'"([^"]*)"', keys[label_key])
            label = m.group(1) if m else keys[label_key]
        need = nx * ny * bpp
        if offset + need > len(raw):
            raise _bad(
                path,
                f"channel {label!r} needs bytes {offset}–{offset + need} but the file has {len(raw)}",
            )
        ints = np.frombuffer(raw, f"<i{bpp}", count=nx * ny, offset=offset).reshape(ny, nx)
        zkey = next((k for k in keys if k.endswith("Z scale") and not k.startswith("Z mag")), None)
        z_unit: str | None = None
        scale = 1.0
        source = "raw counts (no Z scale)"
        if zkey:
            try:
                sens_name, _hard_scale, hard_value = _nanoscope_z(keys[zkey])
            except ValueError:
                raise _bad(path, f"cannot read the Z scale line {keys[zkey]!r}") from None
            per_lsb = hard_value / 2.0 ** (8 * bpp)  # V per count
            sens_line = glob.get(f"@{sens_name}") if sens_name else None
            if sens_line:
                m = re.match(r"V\s+([-+0-9.eE]+)\s*(\S*)", sens_line)
                if not m:
                    raise _bad(path, f"cannot read the sensitivity line {sens_line!r}")
                sens, sens_unit = float(m.group(1)), m.group(2)
                z_unit = sens_unit.split("/")[0] if sens_unit else "V"
                scale = per_lsb * sens
                source = f"nanoscope {zkey} × {sens_name}"
            else:
                z_unit = "V"
                scale = per_lsb
                source = f"nanoscope {zkey} (no sensitivity)"
        size = keys.get("Scan size", "")
        m = re.match(r"([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+(\S+)", size)
        sx = sy = unit = None
        if m:
            sx, sy = float(m.group(1)), float(m.group(2))
            unit = m.group(3).replace("~", "u")
        data = ints[::-1].astype(np.float64) * scale  # stored bottom line first
        channels.append(
            Channel(
                name=label,
                data=data,
                z_unit=z_unit,
                size_x=sx,
                size_y=sy,
                xy_unit=unit,
                scan_time=date,
                z_scale_source=source,
            )
        )
    if not channels:
        raise _bad(path, "the NanoScope file holds no '\\*Ciao image list' (no images)")
    return channels


# ------------------------------------------------------------------------ Nanonis

SXM_MAGIC = b":NANONIS_VERSION:"


def parse_sxm(raw: bytes, path: Path) -> list[Channel]:
    """Parse a Nanonis ``.sxm`` scan (see the module docstring)."""
    stop = raw.find(b":SCANIT_END:")
    if stop < 0:
        raise _bad(path, "the .sxm header has no ':SCANIT_END:' (file truncated?)")
    start = raw.find(b"\x1a\x04", stop)
    if start < 0:
        raise _bad(path, "the .sxm file has no data after its header")
    start += 2
    header = raw[:stop].decode("latin-1")
    fields: dict[str, str] = {}
    for m in re.finditer(r":([^:\n]+):\n(.*?)(?=\n:[^:\n]+:\n|\Z)", header, re.S):
        fields[m.group(1).strip()] = m.group(2).strip("\n")
    try:
        nx, ny = (int(v) for v in fields["SCAN_PIXELS"].split()[:2])
        rx, ry = (float(v) for v in fields["SCAN_RANGE"].split()[:2])
    except (KeyError, ValueError):
        raise _bad(path, "the .sxm header lacks SCAN_PIXELS or SCAN_RANGE") from None
    kind = fields.get("SCANIT_TYPE", "").split()
    if "FLOAT" not in kind or not ({"MSBFIRST", "LSBFIRST"} & set(kind)):
        raise _bad(
            path,
            f"the .sxm SCANIT_TYPE {fields.get('SCANIT_TYPE', '').strip()!r} is not "
            "'FLOAT MSBFIRST' or 'FLOAT LSBFIRST'",
        )
    dtype = ">f4" if "MSBFIRST" in kind else "<f4"
    rows = [r.split("\t") for r in fields.get("DATA_INFO", "").splitlines() if r.strip()]
    rows = [[c.strip() for c in r if c.strip()] for r in rows]
    if len(rows) < 2:
        raise _bad(path, "the .sxm header has no DATA_INFO channel table")
    head = [c.lower() for c in rows[0]]
    try:
        i_name, i_unit, i_dir = head.index("name"), head.index("unit"), head.index("direction")
    except ValueError:
        raise _bad(path, "the .sxm DATA_INFO table lacks Name/Unit/Direction columns") from None
    when = None
    if "REC_DATE" in fields and "REC_TIME" in fields:
        try:
            d, mo, y = fields["REC_DATE"].strip().split(".")
            when = f"{y}-{mo}-{d}T{fields['REC_TIME'].strip()}"
        except ValueError:
            when = None
    up = fields.get("SCAN_DIR", "").strip().lower() == "up"
    size = nx * ny
    channels: list[Channel] = []
    k = 0
    for row in rows[1:]:
        dirs = ("forward", "backward") if row[i_dir].lower() == "both" else (row[i_dir].lower(),)
        for d in dirs:
            off = start + 4 * size * k
            if off + 4 * size > len(raw):
                raise _bad(
                    path,
                    f"the file ends before channel {row[i_name]} ({d}); "
                    f"{len(raw)} bytes, {off + 4 * size} needed",
                )
            data = np.frombuffer(raw, dtype, count=size, offset=off).reshape(ny, nx)
            with np.errstate(invalid="ignore"):  # signalling NaNs of damaged files stay NaN
                data = data.astype(np.float64)
            if d == "backward":
                data = data[:, ::-1]
            if up:
                data = data[::-1]
            channels.append(
                Channel(
                    name=f"{row[i_name]} ({d})",
                    data=data,
                    z_unit=row[i_unit],
                    size_x=rx,
                    size_y=ry,
                    xy_unit="m",
                    scan_time=when,
                    z_scale_source="sxm DATA_INFO unit",
                    extra={"label": row[i_name], "direction": d},
                )
            )
            k += 1
    return channels


# ------------------------------------------------------------------- PicoView .mi

MI_MAGIC = b"fileType      Image"


def parse_mi(raw: bytes, path: Path) -> list[Channel]:
    """Parse an Agilent PicoView ``.mi`` image (see the module docstring)."""
    m = re.search(rb"(?m)^data\s+(\S+)\r?\n", raw)
    if m is None:
        raise _bad(path, "the .mi header has no 'data' line (file truncated?)")
    kind = m.group(1).decode("latin-1").upper()
    if kind not in ("BINARY", "BINARY_32"):
        raise _bad(path, f"the .mi data type {kind!r} is not supported (only BINARY, BINARY_32)")
    header = raw[: m.start()].decode("latin-1")
    start = m.end()
    glob: dict[str, str] = {}
    buffers: list[dict[str, str]] = []
    for line in header.splitlines():
        key, _, value = line.strip().partition(" ")
        value = value.strip()
        if not key:
            continue
        if key == "bufferLabel":
            buffers.append({})
        if key.startswith("buffer") or (key == "trace" and buffers):
            if buffers:
                buffers[-1][key] = value
        else:
            glob.setdefault(key, value)
    try:
        nx, ny = int(glob["xPixels"]), int(glob["yPixels"])
    except (KeyError, ValueError):
        raise _bad(path, "the .mi header lacks xPixels/yPixels") from None
    bits = 32 if kind == "BINARY_32" else 16
    size = nx * ny
    need = size * bits // 8 * len(buffers)
    if len(raw) - start < need:
        raise _bad(
            path,
            f"the file ends after {len(raw) - start} of {need} data bytes "
            f"({len(buffers)} channels × {nx} × {ny} × {bits // 8} bytes)",
        )
    dtype = "<i4" if bits == 32 else "<i2"
    channels: list[Channel] = []
    for k, buf in enumerate(buffers):
        ints = np.frombuffer(raw, dtype, count=size, offset=start + k * size * bits // 8)
        try:
            rng = float(buf["bufferRange"])
        except (KeyError, ValueError):
            raise _bad(path, f"channel {k} has no numeric bufferRange") from None
        data = ints.reshape(ny, nx)[::-1].astype(np.float64) / 2.0 ** (bits - 1) * rng
        label = buf.get("bufferLabel", f"channel {k}")
        trace = buf.get("trace", "")
        channels.append(
            Channel(
                name=f"{label} ({trace})" if trace else label,
                data=data,
                z_unit=buf.get("bufferUnit") or None,
                scan_time=glob.get("date") or None,
                z_scale_source="mi bufferRange",
                extra={"label": label, "direction": trace},
            )
        )
    if not channels:
        raise _bad(path, "the .mi header names no channels (bufferLabel)")
    return channels
