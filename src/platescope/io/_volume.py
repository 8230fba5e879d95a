"""3-D volumes (tomography): multi-page TIFF, OME-TIFF, ImageJ hyperstack, a folder of
2-D slices, zarr.

What each format gives (voxel size in µm, ordered ``(z, y, x)``):

================  ====================================================  ===============
format            voxel size from                                       lazy by
================  ====================================================  ===============
OME-TIFF          ``Pixels PhysicalSizeZ/Y/X`` (+ ``…Unit``)            slabs of pages
ImageJ TIFF       ``spacing`` (z), X/YResolution (y, x), ``unit``       slabs of pages
plain TIFF        nothing (resolution tags are dpi, not voxels)         slabs of pages
folder of slices  nothing                                               slabs of files
zarr              ``attrs["voxel_size_um"]`` or OME-NGFF ``scale``      zarr chunks
================  ====================================================  ===============

A voxel size given by the user (``voxel_size_um``) wins over the metadata; when the two
differ by more than 1 % the DataArray's ``attrs["voxel_size_note"]`` says so. With
neither, :func:`read_volume` raises :class:`~platescope._errors.InputError` naming the fix.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError, file_problem
from platescope.io._movie import FRAME_FILE_SUFFIXES, length_units_to_um

__all__ = ["read_volume", "VOLUME_SLICE_SUFFIXES"]

#: File endings accepted as 2-D slices in a folder.
VOLUME_SLICE_SUFFIXES = FRAME_FILE_SUFFIXES
_SLAB_TARGET_BYTES = 8 * 2**20
_FIX_VOXEL = (
    "give the voxel size, e.g. read_volume(path, voxel_size_um=0.5) or "
    "voxel_size_um = 0.5 (or [dz, dy, dx]) in the [volume] section of the experiment file"
)


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _user_voxel(voxel_size_um: Any, path: Path) -> tuple[float, float, float] | None:
    if voxel_size_um is None:
        return None
    vals = np.atleast_1d(np.asarray(voxel_size_um, dtype=object))
    try:
        if isinstance(voxel_size_um, bool) or any(isinstance(v, bool) for v in vals):
            raise ValueError
        nums = [float(v) for v in vals]
    except (TypeError, ValueError):
        nums = []
    if len(nums) == 1:
        nums = nums * 3
    if len(nums) != 3 or not all(math.isfinite(v) and v > 0 for v in nums):
        raise InputError(
            path,
            f"voxel_size_um={voxel_size_um!r} is not one positive voxel size or three (dz, dy, dx)",
            "give one positive number in µm (isotropic voxels) or three [dz, dy, dx]",
        )
    return (nums[0], nums[1], nums[2])


def _positive(text: Any) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


# ----------------------------------------------------------------- TIFF flavours


def _ome_voxel(xml: str) -> tuple[tuple[float, float, float] | None, str]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, "OME-XML unreadable"
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "Pixels":
            a = el.attrib
            sizes = []
            for ax in ("Z", "Y", "X"):
                v = _positive(a.get(f"PhysicalSize{ax}"))
                f = length_units_to_um(a.get(f"PhysicalSize{ax}Unit", "µm"))
                sizes.append(None if v is None or f is None else v * f)
            if all(s is not None for s in sizes):
                return (sizes[0], sizes[1], sizes[2]), "ome PhysicalSizeZ/Y/X"
            return None, "OME PhysicalSizeZ/Y/X incomplete"
    return None, "OME-XML has no Pixels element"


def _imagej_voxel(tif, page) -> tuple[tuple[float, float, float] | None, str]:
    meta = tif.imagej_metadata or {}
    unit = meta.get("unit")
    f = length_units_to_um(unit) if isinstance(unit, str) else None
    dz = _positive(meta.get("spacing"))
    res = []
    for name in ("YResolution", "XResolution"):
        tag = page.tags.get(name)
        val = None
        if tag is not None:
            with contextlib.suppress(TypeError, ZeroDivisionError, ValueError):
                num, den = tag.value
                val = _positive(den / num)  # units per pixel
        res.append(val)
    if f is None or dz is None or None in res:
        missing = [
            n
            for n, v in (("unit", f), ("spacing", dz), ("resolution", None in res or None))
            if v is None
        ]
        return None, f"ImageJ metadata lacks {', '.join(missing)}"
    return (dz * f, res[0] * f, res[1] * f), "imagej spacing + resolution"


def _tiff_info(path: Path) -> dict[str, Any]:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape = tuple(int(s) for s in series.shape)
            axes = str(series.axes)
            dtype = np.dtype(series.dtype)
            if tif.is_ome:
                flavour = "ome-tiff"
                voxel, how = _ome_voxel(tif.ome_metadata or "")
            elif tif.is_imagej:
                flavour = "imagej-tiff"
                voxel, how = _imagej_voxel(tif, tif.pages[0])
            else:
                flavour = "tiff"
                voxel, how = None, "plain TIFF: resolution tags are not voxel sizes"
            n_pages = len(tif.pages)
    except InputError:
        raise
    except Exception as exc:  # tifffile raises many types on corrupt files
        raise InputError(
            path,
            f"cannot be read as a TIFF volume ({type(exc).__name__}: {exc})",
            "check the file is a complete multi-page TIFF (re-export or copy it again)",
        ) from exc
    keep = [(a, s) for a, s in zip(axes, shape, strict=True) if s > 1 or a in "YX"]
    if len(keep) == 2:
        keep = [("Z", 1), *keep]
    if len(keep) != 3 or keep[1][0] != "Y" or keep[2][0] != "X":
        raise InputError(
            path,
            f"holds a {axes} stack of shape {shape}, not one 3-D volume (z, y, x)",
            "export a single channel and time point as a z-stack",
        )
    if dtype.kind not in "uif" and dtype != np.bool_:
        raise InputError(
            path, f"has pixel type {dtype}", "export grey levels or labels as integers or floats"
        )
    zyx = tuple(s for _, s in keep)
    if flavour == "tiff" and n_pages != zyx[0]:
        raise InputError(
            path,
            f"has {n_pages} pages but its series holds {zyx[0]} slices",
            "export the volume as one multi-page TIFF with one page per slice",
        )
    return {"shape": zyx, "dtype": dtype, "format": flavour, "voxel": voxel, "how": how}


def _read_tiff_slab(path: str, start: int, stop: int, shape_yx: tuple[int, int]) -> np.ndarray:
    import tifffile

    arr = tifffile.imread(path, series=0, key=range(start, stop))
    return np.asarray(arr).reshape((stop - start, *shape_yx))


# ---------------------------------------------------------------- folder of slices


def _slice_shape(path: Path) -> tuple[tuple[int, int], np.dtype]:
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if len(tif.pages) != 1 or page.ndim != 2:
                raise ValueError(f"{len(tif.pages)} pages of shape {page.shape}")
            return (int(page.shape[0]), int(page.shape[1])), np.dtype(page.dtype)
    from PIL import Image

    with Image.open(path) as im:
        modes = {"L": np.uint8, "I;16": np.uint16, "I": np.int32, "F": np.float32, "1": np.bool_}
        if im.mode not in modes:
            raise ValueError(f"colour mode {im.mode}")
        return (im.size[1], im.size[0]), np.dtype(modes[im.mode])


def _read_slices(files: Sequence[str], dtype: np.dtype) -> np.ndarray:
    out = []
    for f in files:
        if f.lower().endswith((".tif", ".tiff")):
            import tifffile

            out.append(tifffile.imread(f))
        else:
            from PIL import Image

            with Image.open(f) as im:
                out.append(np.asarray(im))
    return np.stack(out).astype(dtype, copy=False)


def _folder_info(path: Path, *, item: str = "slice", whole: str = "volume") -> dict[str, Any]:
    """Files of a folder of 2-D grey images (natural order), their common shape and dtype.

    ``item``/``whole`` name them in messages ("slice"/"volume", "frame"/"movie")."""
    files = sorted(
        (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VOLUME_SLICE_SUFFIXES),
        key=lambda p: _natural_key(p.name),
    )
    if not files:
        raise InputError(
            path,
            f"is a folder without 2-D {item}s (.tif, .tiff or .png)",
            f"point to the folder holding the {item}s, or to a multi-page TIFF"
            + (" or zarr volume" if whole == "volume" else ""),
        )
    shapes = {}
    for f in files:
        try:
            shapes[f] = _slice_shape(f)
        except Exception as exc:
            raise InputError(
                f,
                f"is not a readable single-plane grey {item} ({exc})",
                f"keep only 2-D grey {item}s of one size in the folder",
            ) from exc
    first = shapes[files[0]]
    odd = [f.name for f in files if shapes[f] != first]
    if odd:
        raise InputError(
            path,
            f"{len(odd)} of {len(files)} {item}s differ in size or type from {files[0].name} "
            f"{first[0]} {first[1]} (e.g. {odd[0]})",
            f"keep only the {item}s of one {whole} in the folder",
        )
    return {
        "shape": (len(files), *first[0]),
        "dtype": first[1],
        "format": "slices",
        "voxel": None,
        "how": "a folder of slices carries no voxel size",
        "files": [str(f) for f in files],
    }


# ---------------------------------------------------------------------- zarr


def _zarr_info(path: Path):
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:
        raise InputError(
            path, f"cannot be opened as zarr ({exc})", "give a zarr array or OME-Zarr folder"
        ) from exc
    attrs = dict(node.attrs)
    arr = node
    if not hasattr(node, "shape"):  # a group: OME-NGFF level 0 or the only array
        names = sorted(node.array_keys())
        ms = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
        name = None
        if ms:
            name = ms[0]["datasets"][0]["path"]
        elif len(names) == 1:
            name = names[0]
        if name is None or name not in names:
            raise InputError(
                path,
                f"is a zarr group with arrays {names} and no OME-NGFF multiscales",
                "give the path of the array itself (folder/array_name)",
            )
        arr = node[name]
    voxel, how = None, "zarr attrs carry no voxel size"
    v = attrs.get("voxel_size_um") or dict(arr.attrs).get("voxel_size_um")
    if v is not None:
        with contextlib.suppress(InputError):
            voxel, how = _user_voxel(v, path), "zarr attrs voxel_size_um"
    ms = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if voxel is None and ms:
        with contextlib.suppress(KeyError, IndexError, TypeError, ValueError):
            axes = ms[0]["axes"]
            scale = next(
                t["scale"]
                for t in ms[0]["datasets"][0]["coordinateTransformations"]
                if t["type"] == "scale"
            )
            sizes = {}
            for ax, s in zip(axes, scale, strict=True):
                f = length_units_to_um(ax.get("unit")) if isinstance(ax, dict) else None
                name = ax["name"] if isinstance(ax, dict) else ax
                if f is not None:
                    sizes[name] = float(s) * f
            if all(k in sizes for k in "zyx"):
                voxel, how = (sizes["z"], sizes["y"], sizes["x"]), "OME-NGFF scale"
    shape = tuple(int(s) for s in arr.shape)
    if len(shape) > 3 and all(s == 1 for s in shape[:-3]):
        shape = shape[-3:]
    if len(shape) != 3:
        raise InputError(path, f"holds an array of shape {shape}", "store one (z, y, x) volume")
    return arr, {
        "shape": shape,
        "dtype": np.dtype(arr.dtype),
        "format": "zarr",
        "voxel": voxel,
        "how": how,
    }


# ---------------------------------------------------------------------- entry


def read_volume(
    path: str | os.PathLike,
    *,
    voxel_size_um: float | Sequence[float] | None = None,
    chunk_z: int | None = None,
):
    """Read a 3-D volume lazily as a DataArray ``(z, y, x)`` with µm coordinates.

    Parameters
    ----------
    path : str or os.PathLike
        A multi-page TIFF (plain, ImageJ hyperstack or OME-TIFF), a folder of 2-D slices
        (``.tif``/``.tiff``/``.png``, sorted naturally: ``s2`` before ``s10``) or a zarr
        array/OME-Zarr folder (``.zarr``).
    voxel_size_um : float or (float, float, float), optional
        Voxel size in µm, isotropic or ``(dz, dy, dx)``. Wins over the metadata.
    chunk_z : int, optional
        Slices per dask chunk (default: slabs of about 8 MiB; zarr keeps its chunks).

    Returns
    -------
    xarray.DataArray
        Dask-backed, dims ``("z", "y", "x")``, coordinates in µm (voxel centres, first at
        0), dtype as stored. ``attrs``: ``voxel_size_um`` [dz, dy, dx], ``voxel_size_source``,
        ``format``, ``source``, ``units`` (``"grey"``).

    Raises
    ------
    InputError
        Unreadable file, not a single 3-D volume, or no voxel size from metadata or user.

    Examples
    --------
    >>> import tempfile, numpy as np, tifffile
    >>> p = tempfile.mkdtemp() + "/v.tif"
    >>> tifffile.imwrite(p, np.zeros((4, 5, 6), np.uint8), photometric="minisblack")
    >>> v = read_volume(p, voxel_size_um=0.5)
    >>> v.dims, v.shape, float(v.x[-1]), v.attrs["voxel_size_um"]
    (('z', 'y', 'x'), (4, 5, 6), 2.5, [0.5, 0.5, 0.5])
    """
    import dask
    import dask.array as da
    import xarray as xr

    p = Path(os.fspath(path))
    user = _user_voxel(voxel_size_um, p)
    zarr_arr = None
    if p.is_dir() and (
        p.suffix.lower() == ".zarr" or any(p.glob(".z*")) or (p / "zarr.json").exists()
    ):
        zarr_arr, info = _zarr_info(p)
    elif p.is_dir():
        info = _folder_info(p)
    else:
        problem = file_problem(p)
        if problem:
            raise InputError(p, f"the volume {problem}", "give the path of an existing volume file")
        if p.suffix.lower() == ".zip" or p.name.lower().endswith(".zarr.zip"):
            zarr_arr, info = _zarr_info(p)
        else:
            info = _tiff_info(p)
    shape, dtype = info["shape"], info["dtype"]
    if min(shape) < 1:
        raise InputError(p, f"holds an empty volume of shape {shape}", "give a non-empty volume")
    note = None
    if user is not None:
        voxel, how = user, "user"
        if info["voxel"] is not None:
            rel = max(abs(a - b) / b for a, b in zip(user, info["voxel"], strict=True))
            if rel > 0.01:
                note = (
                    f"the given voxel size {list(user)} µm overrides the file's "
                    f"{[round(v, 6) for v in info['voxel']]} µm ({info['how']})"
                )
    elif info["voxel"] is not None:
        voxel, how = info["voxel"], info["how"]
    else:
        raise InputError(p, f"the volume has no voxel size ({info['how']})", _FIX_VOXEL)

    slice_bytes = shape[1] * shape[2] * dtype.itemsize
    nz = chunk_z or max(1, min(shape[0], _SLAB_TARGET_BYTES // max(slice_bytes, 1)))
    if zarr_arr is not None:
        data = da.from_array(zarr_arr, chunks=zarr_arr.chunks)
        data = data.reshape(shape) if data.ndim != 3 else data
        if chunk_z:
            data = data.rechunk((chunk_z, -1, -1))
    else:
        blocks = []
        for z0 in range(0, shape[0], nz):
            z1 = min(shape[0], z0 + nz)
            if info["format"] == "slices":
                d = dask.delayed(_read_slices)(info["files"][z0:z1], dtype)
            else:
                d = dask.delayed(_read_tiff_slab)(str(p), z0, z1, shape[1:])
            blocks.append(da.from_delayed(d, shape=(z1 - z0, *shape[1:]), dtype=dtype))
        data = da.concatenate(blocks, axis=0)
    coords = {ax: np.arange(n) * float(v) for ax, n, v in zip("zyx", shape, voxel, strict=True)}
    attrs: dict[str, Any] = {
        "voxel_size_um": [float(v) for v in voxel],
        "voxel_size_source": how,
        "format": info["format"],
        "source": str(p),
        "units": "grey",
    }
    if note:
        attrs["voxel_size_note"] = note
    return xr.DataArray(data, dims=("z", "y", "x"), coords=coords, attrs=attrs, name="volume")
