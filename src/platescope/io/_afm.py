"""AFM / SPM height maps: one reader registry, one data model.

Formats are sniffed from the file's first bytes, then its suffix (the registry
:data:`READERS`): Gwyddion ``.gwy`` (through the MIT-licensed ``gwyfile`` package,
optional: ``pip install platescope[afm]``) and ``.gsf``, Bruker NanoScope v5+,
Nanonis ``.sxm``, Agilent PicoView ``.mi``, a plain height TIFF, and ASCII XYZ on a
regular grid. The byte-level parsers live in :mod:`platescope.io._afm_formats`.

Data model: :func:`read_height_map` returns an ``xarray.DataArray`` of heights in nm,
dims ``("y", "x")`` (or ``("frame", "y", "x")`` for a multi-page height TIFF), coords
in µm from the top-left pixel, first row at the top of the scan.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError, file_problem
from platescope._lazy import lazy_module
from platescope.io._afm_formats import (
    GSF_MAGIC,
    MI_MAGIC,
    NANOSCOPE_MAGIC,
    SXM_MAGIC,
    Channel,
    parse_gsf,
    parse_mi,
    parse_nanoscope,
    parse_sxm,
)
from platescope.io._movie import length_units_to_um

# imported on first use: `platescope info` and the readers' sniffers stay fast
xr = lazy_module("xarray")

__all__ = ["READERS", "describe_height_map", "looks_like_afm", "read_height_map"]

_HEIGHT_NAMES = ("height", "topography", "z", "zsensor", "z_sensor", "z sensor")


@dataclass(frozen=True)
class _AfmReader:
    name: str
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    parse: Callable[..., list[Channel]]


def _is_tiff(head: bytes) -> bool:
    return head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")


def _never(head: bytes) -> bool:
    return False


def _parse_gwy(path: Path, **_: Any) -> list[Channel]:
    try:
        import gwyfile
        import gwyfile.util
    except ImportError:
        raise InputError(
            path,
            "reading Gwyddion .gwy files needs the optional package gwyfile (MIT licence)",
            "install it with `pip install platescope[afm]` (or `pip install gwyfile`), or save "
            "the channel from Gwyddion as .gsf",
        ) from None
    try:
        obj = gwyfile.load(str(path))
        fields = gwyfile.util.get_datafields(obj)
    except Exception as exc:  # gwyfile raises several types on damaged files
        raise InputError(
            path,
            f"the .gwy file cannot be read ({type(exc).__name__}: {exc})",
            "open it in Gwyddion and save it again, or export the channel as .gsf",
        ) from None
    out = []
    for title, f in fields.items():
        data = np.asarray(f.data, dtype=np.float64)
        if data.ndim != 2:
            continue

        def unit(u: Any) -> str | None:
            return None if u is None else str(u.get("unitstr", "")) or None

        out.append(
            Channel(
                name=str(title),
                data=data,
                z_unit=unit(f.get("si_unit_z")),
                size_x=float(f.get("xreal", 0)) or None,
                size_y=float(f.get("yreal", 0)) or None,
                xy_unit=unit(f.get("si_unit_xy")),
                z_scale_source="gwy si_unit_z",
            )
        )
    if not out:
        raise InputError(path, "the .gwy file holds no 2-D data field", "save a channel in it")
    return out


def _read_bytes(path: Path, **_: Any) -> bytes:
    return path.read_bytes()


def _gsf(path: Path, **_: Any) -> list[Channel]:
    return parse_gsf(_read_bytes(path), path)


def _nanoscope(path: Path, **_: Any) -> list[Channel]:
    return parse_nanoscope(_read_bytes(path), path)


def _sxm(path: Path, **_: Any) -> list[Channel]:
    return parse_sxm(_read_bytes(path), path)


def _mi(path: Path, **_: Any) -> list[Channel]:
    return parse_mi(_read_bytes(path), path)


def _tiff(path: Path, **_: Any) -> list[Channel]:
    import tifffile

    from platescope.io._movie_tiff import capture_tifffile_log

    try:
        with capture_tifffile_log(), tifffile.TiffFile(path) as tif:
            data = tif.asarray()
            meta: dict[str, Any] = {}
            shaped = tif.shaped_metadata
            if shaped:
                meta.update({k: v for k, v in shaped[0].items() if k != "shape"})
            ij = tif.imagej_metadata or {}
            page = tif.pages.first
            res = page.tags.get("XResolution")
            res_unit = page.tags.get("ResolutionUnit")
    except Exception as exc:  # tifffile raises several types on damaged files
        raise InputError(
            path,
            f"the TIFF cannot be read ({exc}); it may be truncated or corrupt",
            "copy it again",
        ) from None
    if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[-1] in (3, 4)):
        raise InputError(
            path,
            f"the TIFF has shape {data.shape}; a height map is one greyscale (y, x) page "
            "or a stack of them",
            "export the height channel alone as a 32-bit float TIFF",
        )
    size_x = size_y = None
    xy_unit = None
    if "pixel_size_um" in meta:
        with _suppress():
            px = float(meta["pixel_size_um"])
            size_x, size_y, xy_unit = px * data.shape[-1], px * data.shape[-2], "um"
    elif ij.get("unit") and res is not None:
        with _suppress():
            num, den = res.value
            px = den / num
            size_x, size_y, xy_unit = px * data.shape[-1], px * data.shape[-2], str(ij["unit"])
    elif res is not None and res_unit is not None and int(res_unit.value) == 3:  # centimetre
        with _suppress():
            num, den = res.value
            px_cm = den / num
            size_x, size_y, xy_unit = px_cm * data.shape[-1], px_cm * data.shape[-2], "cm"
    z_unit = meta.get("z_unit") or ij.get("zunit") or None
    with np.errstate(invalid="ignore"):
        data = data.astype(np.float64)
    return [
        Channel(
            name=str(meta.get("channel", "Height")),
            data=data,
            z_unit=z_unit,
            size_x=size_x,
            size_y=size_y,
            xy_unit=xy_unit,
            z_scale_source="tiff metadata z_unit" if z_unit else "",
        )
    ]


def _suppress() -> contextlib.AbstractContextManager:
    return contextlib.suppress(TypeError, ValueError, ZeroDivisionError)


_UNIT_IN_NAME = re.compile(r"^\s*([xyz])\s*(?:[_\s]*[\[(]?\s*([^\])\s]+)\s*[\])]?)?\s*$", re.I)


def _xyz(path: Path, **_: Any) -> list[Channel]:
    text = path.read_text(encoding="utf-8", errors="replace")
    units: dict[str, str] = {}
    rows = []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        parts = [p for p in re.split(r"[,;\t ]+", s.lstrip("#").strip()) if p]
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            if not rows and len(parts) == 3:  # a header naming x, y, z and maybe units
                for p in parts:
                    m = _UNIT_IN_NAME.match(p.replace("_", " ", 1))
                    if m and m.group(2):
                        units[m.group(1).lower()] = m.group(2)
                continue
            if not rows:
                continue
            raise InputError(
                path, f"line {line[:60]!r} is not three numbers", "give x, y, z per line"
            ) from None
        if len(vals) != 3:
            raise InputError(
                path,
                f"an XYZ line has {len(vals)} numbers, not 3 ({line[:60]!r})",
                "give x, y, z per line (comma, tab or space separated)",
            )
        rows.append(vals)
    if len(rows) < 4:
        raise InputError(path, "the XYZ file holds fewer than 4 points", "export the whole map")
    xyz = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(xyz[:, :2])):
        raise InputError(path, "some x or y coordinates are not finite", "export the map again")
    grid_z, dx, dy = _xyz_to_grid(xyz, path)
    ny, nx = grid_z.shape
    return [
        Channel(
            name="Height",
            data=grid_z,
            z_unit=units.get("z"),
            size_x=dx * nx,
            size_y=dy * ny,
            xy_unit=units.get("x") if units.get("x") == units.get("y") else None,
            z_scale_source="xyz header" if units.get("z") else "",
        )
    ]


def _xyz_to_grid(xyz: np.ndarray, path: Path) -> tuple[np.ndarray, float, float]:
    """Regular-grid check: every (x, y) of an nx × ny lattice exactly once."""

    def axis(v: np.ndarray, name: str) -> tuple[np.ndarray, float]:
        span = float(np.ptp(v)) or 1.0
        key = np.round((v - v.min()) / span * 1e6).astype(np.int64)  # 1 ppm tolerance
        uniq, inv = np.unique(key, return_inverse=True)
        if uniq.size < 2:
            raise InputError(path, f"all points share one {name} value", "export a 2-D map")
        levels = uniq / 1e6 * span
        steps = np.diff(levels)
        if np.ptp(steps) > 1e-3 * steps.mean():
            raise InputError(
                path,
                f"the {name} values are not evenly spaced (steps {steps.min():.4g}–{steps.max():.4g})",
                "resample the points onto a regular grid first (Gwyddion: File > Import XYZ, "
                "then save as .gsf)",
            )
        return inv, float(steps.mean())

    ix, dx = axis(xyz[:, 0], "x")
    iy, dy = axis(xyz[:, 1], "y")
    nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
    if nx * ny != xyz.shape[0] or np.unique(iy * nx + ix).size != xyz.shape[0]:
        raise InputError(
            path,
            f"the {xyz.shape[0]} points do not fill a regular {nx} × {ny} grid once each "
            "(missing or repeated points)",
            "export the full rectangular map without gaps or duplicates",
        )
    grid = np.empty((ny, nx))
    grid[iy, ix] = xyz[:, 2]
    return grid, dx, dy


#: The AFM format registry: sniffed by content first, then by file name suffix.
READERS: tuple[_AfmReader, ...] = (
    _AfmReader("gwy", (".gwy",), lambda h: h[:4] == b"GWYP", _parse_gwy),
    _AfmReader("gsf", (".gsf",), lambda h: h.startswith(GSF_MAGIC[:20]), _gsf),
    _AfmReader("nanoscope", (".spm", ".000", ".001"), lambda h: h.startswith(NANOSCOPE_MAGIC), _nanoscope),
    _AfmReader("nanonis-sxm", (".sxm",), lambda h: h.startswith(SXM_MAGIC), _sxm),
    _AfmReader("picoview-mi", (".mi",), lambda h: h.startswith(MI_MAGIC), _mi),
    _AfmReader("tiff", (".tif", ".tiff"), _is_tiff, _tiff),
    _AfmReader("xyz", (".xyz", ".csv", ".txt", ".dat"), _never, _xyz),
)  # fmt: skip


def looks_like_afm(path: str | os.PathLike) -> bool:
    """Whether a file is one of the SPM formats recognised by content (gwy, gsf,
    NanoScope, Nanonis sxm, PicoView mi) — the test ``platescope info`` uses.

    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"Gwyddion Simple Field 1.0\\n")
    >>> looks_like_afm(p)
    True
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(32)
    except OSError:
        return False
    return any(r.sniff(head) for r in READERS if r.name not in ("tiff", "xyz"))


def _find_reader(p: Path) -> _AfmReader:
    with open(p, "rb") as fh:
        head = fh.read(32)
    for reader in READERS:
        if reader.sniff(head):
            return reader
    name = p.name.lower()
    for reader in READERS:
        if name.endswith(reader.suffixes):
            return reader
    raise InputError(
        p,
        "the AFM file format is not recognised",
        "give a Gwyddion .gwy/.gsf, Bruker NanoScope, Nanonis .sxm, PicoView .mi, a height "
        "TIFF or an ASCII x y z file",
    )


def _channels(path: str | os.PathLike) -> tuple[Path, _AfmReader, list[Channel]]:
    p = Path(path)
    problem = file_problem(p)
    if problem:
        raise InputError(
            p,
            f"the path {problem}",
            "check the path (relative paths resolve from the experiment file's folder)",
        )
    if p.stat().st_size == 0:
        raise InputError(p, "the file is empty (0 bytes)", "copy the scan file again")
    reader = _find_reader(p)
    try:
        chans = reader.parse(p)
    except InputError:
        raise
    except (ValueError, IndexError, KeyError, OSError, UnicodeDecodeError) as exc:
        raise InputError(
            p,
            f"the {reader.name} file cannot be parsed ({type(exc).__name__}: {exc})",
            "export the scan again from the instrument software and copy it again",
        ) from None
    return p, reader, chans


def _is_height(ch: Channel) -> bool:
    label = str(ch.extra.get("label", ch.name)).strip().lower()
    return label in _HEIGHT_NAMES and length_units_to_um(ch.z_unit) is not None


def _pick(p: Path, chans: list[Channel], channel: str | None) -> Channel:
    names = [c.name for c in chans]
    if channel is None:
        for c in chans:
            if _is_height(c):
                return c
        if len(chans) == 1:
            return chans[0]
        raise InputError(
            p,
            f"no channel is recognisably the height (channels: {', '.join(names)})",
            'name the height channel with channel= ([[afm_maps]] channel = "...")',
        )
    want = channel.strip().lower()
    for c in chans:
        if c.name.lower() == want:
            return c
    for c in chans:
        if str(c.extra.get("label", "")).lower() == want:
            return c
    raise InputError(
        p,
        f"the file has no channel {channel!r} (channels: {', '.join(names)})",
        "use one of the channel names listed",
    )


def read_height_map(
    path: str | os.PathLike,
    *,
    channel: str | None = None,
    pixel_size_um: float | None = None,
    z_unit: str | None = None,
    xy_unit: str | None = None,
) -> xr.DataArray:
    """Read an AFM/SPM height map in nm with its lateral coordinates in µm.

    Formats (sniffed from content, then the suffix): Gwyddion ``.gwy`` (optional
    ``gwyfile``) and ``.gsf``; Bruker NanoScope v5+ (``.spm``/``.000``…); Nanonis
    ``.sxm``; Agilent PicoView ``.mi`` (its header has no lateral scan size:
    ``pixel_size_um`` is required); a height TIFF (the value unit from its metadata
    or ``z_unit``; the pixel size from its metadata or ``pixel_size_um``; a
    multi-page TIFF is a time series of frames); ASCII ``x y z`` points on a regular
    grid (units from a header such as ``x_um y_um z_nm`` or from ``xy_unit`` /
    ``z_unit``).

    Parameters
    ----------
    path : str or os.PathLike
        The scan file.
    channel : str, optional
        Channel name (``"Height"``, ``"Z (forward)"``, ``"Topography (Trace)"`` …) or
        its label without the direction (the first match). Default: the first channel
        called height/topography/Z with a length unit.
    pixel_size_um : float, optional
        Pixel size in µm, for files without a lateral size (``.mi``, plain TIFF,
        XYZ without units) or to override it (a ``UserWarning`` when it disagrees with
        the file by more than 1 %).
    z_unit, xy_unit : str, optional
        Length units of the values / coordinates for files that do not say
        (``"nm"``, ``"um"``, ``"m"`` …). Ignored when the file states its units.

    Returns
    -------
    xarray.DataArray
        float64 heights in nm, dims ``("y", "x")`` (``("frame", "y", "x")`` for a
        multi-page TIFF), coords in µm; attrs ``units`` ("nm"), ``pixel_size_um``
        (x), ``pixel_size_y_um`` (when it differs), ``pixel_size_source``,
        ``channel``, ``channels`` (all channel names), ``format``, ``source``,
        ``z_scale_source``, ``scan_time`` (as the file states it, or None),
        ``n_nan`` (pixels without data, kept as NaN).

    Raises
    ------
    platescope.InputError
        Unknown format, damaged or truncated file, missing channel, a channel that
        is not a height (not in a length unit), missing pixel size or unit.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._afm_formats import write_gsf
    >>> z = np.arange(12.0).reshape(3, 4)
    >>> p = write_gsf(os.path.join(tempfile.mkdtemp(), "h.gsf"), z, pixel_size_um=0.25)
    >>> h = read_height_map(p)
    >>> h.dims, round(float(h[2, 3]), 4), float(h.x[1]), h.attrs["units"]
    (('y', 'x'), 11.0, 0.25, 'nm')
    """
    p, reader, chans = _channels(path)
    ch = _pick(p, chans, channel)
    unit = ch.z_unit or z_unit
    to_um = length_units_to_um(unit)
    if to_um is None:
        if unit is None:
            raise InputError(
                p,
                f"the {reader.name} file does not say in which unit channel {ch.name!r} is",
                'pass z_unit= ([[afm_maps]] z_unit = "nm") with the unit of the values',
            )
        raise InputError(
            p,
            f"channel {ch.name!r} is in {unit!r}, not a length: it is not a height map",
            "choose the height/topography channel with channel=",
        )
    with np.errstate(over="ignore", invalid="ignore"):  # damaged values become inf/NaN
        data = ch.data * (to_um * 1e3)
    ny, nx = data.shape[-2:]
    file_px = file_py = None
    xy_um = length_units_to_um(ch.xy_unit or xy_unit)
    if ch.size_x and ch.size_y and xy_um is not None:
        file_px = ch.size_x * xy_um / nx
        file_py = ch.size_y * xy_um / ny
    if pixel_size_um is not None:
        px = float(pixel_size_um)
        if not math.isfinite(px) or px <= 0:
            raise InputError(
                p,
                f"pixel_size_um must be a positive number of µm, got {pixel_size_um!r}",
                "give the pixel size in µm ([[afm_maps]] pixel_size_um)",
            )
        if file_px is not None and abs(file_px - px) > 0.01 * px:
            warnings.warn(
                f"{p}: pixel_size_um={px:g} overrides the file's {file_px:g} µm; check which is right",
                UserWarning,
                stacklevel=2,
            )
        px_x = px_y = px
        px_source = "pixel_size_um"
    elif file_px is not None:
        px_x, px_y = file_px, file_py
        px_source = f"metadata:{reader.name}"
    else:
        why = (
            "the PicoView .mi header has no lateral scan size"
            if reader.name == "picoview-mi"
            else f"the {reader.name} file gives no lateral pixel size"
        )
        raise InputError(
            p,
            why,
            "pass pixel_size_um= ([[afm_maps]] pixel_size_um) with the pixel size in µm "
            "(scan size / pixels, from the instrument log)",
        )
    dims = ("y", "x") if data.ndim == 2 else ("frame", "y", "x")
    coords: dict[str, Any] = {
        "y": ("y", np.arange(ny) * px_y, {"units": "um"}),
        "x": ("x", np.arange(nx) * px_x, {"units": "um"}),
    }
    if data.ndim == 3:
        coords["frame"] = ("frame", np.arange(data.shape[0]))
    attrs: dict[str, Any] = {
        "units": "nm",
        "mode": "afm",
        "source": str(p.resolve()),
        "format": reader.name,
        "channel": ch.name,
        "channels": json.dumps([c.name for c in chans]),
        "pixel_size_um": float(px_x),
        "pixel_size_source": px_source,
        "z_scale_source": ch.z_scale_source or f"z_unit={unit}",
        "scan_time": ch.scan_time,
        "n_nan": int(np.count_nonzero(~np.isfinite(data))),
    }
    if abs(px_y - px_x) > 1e-9 * px_x:
        attrs["pixel_size_y_um"] = float(px_y)
    return xr.DataArray(data, dims=dims, coords=coords, attrs=attrs, name="height")


def describe_height_map(path: str | os.PathLike) -> dict[str, Any]:
    """Describe an AFM file: format, channels with their units, sizes and scan size.

    Parameters
    ----------
    path : str or os.PathLike
        The scan file.

    Returns
    -------
    dict
        ``kind`` ("afm"), ``path``, ``format``, ``channels`` (list of {``name``,
        ``unit``, ``shape``, ``scan_size`` [x, y] with ``xy_unit`` or None}),
        ``height_channel`` (the default one, or None).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._afm_formats import write_gsf
    >>> p = write_gsf(os.path.join(tempfile.mkdtemp(), "h.gsf"), np.zeros((3, 4)),
    ...               pixel_size_um=0.25)
    >>> d = describe_height_map(p); d["format"], d["channels"][0]["shape"]
    ('gsf', [3, 4])
    """
    p, reader, chans = _channels(path)
    default = next((c.name for c in chans if _is_height(c)), None)
    return {
        "kind": "afm",
        "path": str(p),
        "format": reader.name,
        "channels": [
            {
                "name": c.name,
                "unit": c.z_unit,
                "shape": list(c.data.shape),
                "scan_size": None if c.size_x is None else [c.size_x, c.size_y],
                "xy_unit": c.xy_unit,
            }
            for c in chans
        ],
        "height_channel": default,
        "scan_time": chans[0].scan_time,
    }
