"""SEM images: pixel size from the instrument's TIFF metadata, data bar removed.

Supported metadata (read through tifffile):

- FEI/Thermo Fisher (tags 34680 FEI_SFEG / 34682 FEI_HELIOS, INI text):
  ``[Scan] PixelWidth/PixelHeight`` in metres (``[EScan]`` and ``[IScan]`` as
  fallbacks), ``[System] SystemType``, and the data bar from ``[Image]
  ResolutionY`` (height of the image part) or ``[PrivateFei] DatabarHeight``.
- Zeiss (tag 34118 CZ_SEM): ``ap_image_pixel_size`` or ``ap_pixel_size`` with their
  unit, ``sv_serial_number`` for the instrument.
- Tescan (private tag 50431: a binary header whose text part holds ``Key=value``
  lines): ``PixelSizeX`` / ``PixelSizeY`` in metres, ``Device`` for the instrument.

Data bar (the instrument's info band at the bottom): taken from metadata when the
file says how tall the image part is; otherwise detected (see
:func:`detect_databar`); ``databar=N`` forces ``N`` rows, ``databar=0`` keeps the
full frame.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.io._movie import length_units_to_um
from platescope.io._movie_tiff import capture_tifffile_log

# imported on first use: `platescope info` and the readers' sniffers stay fast
xr = lazy_module("xarray")

__all__ = ["describe_sem", "detect_databar", "read_sem", "sem_array"]

#: An SEM image whose header states more decoded bytes than this is refused.
_MAX_SEM_BYTES = 2 * 2**30

_FIX_DAMAGED = (
    "export the image again from the microscope software (TIFF with its metadata) or copy it again"
)

# Thresholds of the data-bar detector (fractions of the image width / height).
_BAR_MAX_FRACTION = 1 / 3  # a data bar is at most a third of the frame height
_FLAT_ROW = 0.25  # a bar row has >= 25 % of its pixels exactly at its most common value
_TOP_ROW = 0.90  # the bar's first row is (nearly) all background or a border line
_STEP_ABOVE = 0.50  # the image row just above the bar is not flat
_BLANK_ROW = 0.98  # blank bar rows are essentially exactly uniform
_CONTENT_PIXELS = 0.005  # a text/scale-bar row has >= 0.5 % pixels far from the band colour
_CONTENT_CONTRAST = 0.25  # "far" = more than 25 % of the dtype range from the band colour
_MIN_BAR_ROWS = 4


def _row_modes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most common value of each row and the fraction of the row it covers."""
    values = np.empty(rows.shape[0], dtype=rows.dtype)
    fractions = np.empty(rows.shape[0])
    for i, row in enumerate(rows):
        uniq, counts = np.unique(row, return_counts=True)
        j = int(np.argmax(counts))
        values[i] = uniq[j]
        fractions[i] = counts[j] / row.size
    return values, fractions


def detect_databar(image: np.ndarray) -> int:
    """Number of rows of an instrument data bar at the bottom of an SEM frame.

    A data bar is a band at the bottom whose rows are dominated by one exact
    colour (the band's background), that begins with a sharp step from the image
    (first band row >= 90 % one value, the row above < 50 %), that contains blank
    rows (>= 98 % one value) and content (text or a scale bar: pixels differing
    from the band colour by more than a quarter of the value range). A dark or
    saturated region of the image itself has noise, an irregular edge or no
    content, so it is not taken for a bar.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W)
        Full SEM frame (integer or float).

    Returns
    -------
    int
        Rows to drop at the bottom (0 when no bar is found).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = rng.poisson(100, (120, 160)).astype(np.uint8)
    >>> img[100:] = 30                       # uniform band ...
    >>> img[105:110, 10:60] = 255            # ... with a "text" block
    >>> detect_databar(img), detect_databar(img[:100])
    (20, 0)
    """
    img = np.asarray(image)
    if img.ndim != 2 or min(img.shape) < 16:
        return 0
    rows = _detect_databar(img)
    # some exports (Zeiss) append one or two rows of image noise below the bar
    for extra in (1, 2):
        if rows:
            break
        inner = _detect_databar(img[:-extra])
        rows = inner + extra if inner else 0
    return rows


def _detect_databar(img: np.ndarray) -> int:
    height, width = img.shape
    n = max(_MIN_BAR_ROWS + 1, int(height * _BAR_MAX_FRACTION))
    offset = height - n
    values, fractions = _row_modes(img[offset:])
    flat = fractions >= _FLAT_ROW
    if not flat[-1]:
        return 0
    start = n - 1
    while start > 0 and flat[start - 1]:
        start -= 1
    if np.issubdtype(img.dtype, np.integer):
        span = float(np.iinfo(img.dtype).max - np.iinfo(img.dtype).min)
    else:
        span = float(np.nanmax(img) - np.nanmin(img)) or 1.0
    for top in range(max(start, 1), n - _MIN_BAR_ROWS + 1):
        if fractions[top] < _TOP_ROW or fractions[top - 1] >= _STEP_ABOVE:
            continue
        band = img[offset + top :]
        uniq, counts = np.unique(band, return_counts=True)
        colour = float(uniq[np.argmax(counts)])
        far = np.abs(band.astype(float) - colour) > _CONTENT_CONTRAST * span
        content_rows = int(np.sum(far.mean(axis=1) >= _CONTENT_PIXELS))
        blank_rows = int(np.sum(fractions[top:] >= _BLANK_ROW))
        if content_rows >= 2 and blank_rows >= 2:
            return int(n - top)
    return 0


def _fei_pixel_nm(fei: dict[str, Any]) -> tuple[float, float, str] | None:
    for section in ("Scan", "EScan", "IScan"):
        sec = fei.get(section) or {}
        with contextlib.suppress(TypeError, ValueError):
            pw = float(sec.get("PixelWidth"))
            ph = float(sec.get("PixelHeight", pw))
            if math.isfinite(pw) and pw > 0 and math.isfinite(ph) and ph > 0:
                return ph * 1e9, pw * 1e9, f"fei [{section}] PixelWidth"
    return None


def _fei_databar(fei: dict[str, Any], height: int) -> tuple[int, str] | None:
    with contextlib.suppress(TypeError, ValueError):
        res_y = int((fei.get("Image") or {}).get("ResolutionY"))
        if 0 < res_y <= height and height - res_y < height * 0.5:
            return height - res_y, "metadata:fei [Image] ResolutionY"
    with contextlib.suppress(TypeError, ValueError):
        bar = int((fei.get("PrivateFei") or {}).get("DatabarHeight"))
        if 0 <= bar < height * 0.5:
            return bar, "metadata:fei [PrivateFei] DatabarHeight"
    return None


def _zeiss_pixel_nm(sem: dict[str, Any]) -> tuple[float, float, str] | None:
    for key in ("ap_image_pixel_size", "ap_pixel_size"):
        item = sem.get(key)
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        with contextlib.suppress(TypeError, ValueError):
            value = float(item[1])
            unit = item[2] if len(item) > 2 else "nm"
            factor = length_units_to_um(unit)
            if factor and math.isfinite(value) and value > 0:
                nm = value * factor * 1e3
                return nm, nm, f"zeiss {key}"
    return None


def _zeiss_instrument(sem: dict[str, Any]) -> str:
    item = sem.get("sv_serial_number")
    if isinstance(item, tuple) and len(item) >= 2 and item[1] not in (None, ""):
        return f"Zeiss SEM (serial {item[1]})"
    return "Zeiss SEM"


_TESCAN_TAG = 50431


def _tescan_fields(raw: Any) -> dict[str, str]:
    """``Key=value`` text lines of a Tescan tag-50431 header (binary parts ignored)."""
    if not isinstance(raw, bytes | bytearray):
        return {}
    text = bytes(raw).decode("latin-1")
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"(?m)^([A-Za-z][A-Za-z0-9_]*)=([^\r\n\x00]*)", text)
    }


def _tescan_pixel_nm(fields: dict[str, str]) -> tuple[float, float, str] | None:
    with contextlib.suppress(TypeError, ValueError, KeyError):
        pw = float(fields["PixelSizeX"]) * 1e9
        ph = float(fields.get("PixelSizeY", fields["PixelSizeX"])) * 1e9
        if math.isfinite(pw) and pw > 0 and math.isfinite(ph) and ph > 0:
            return ph, pw, "tescan PixelSizeX"
    return None


def _open_sem(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise InputError(
            p,
            "the file does not exist",
            "check the path (relative paths resolve from the experiment file's folder)",
        )
    if p.is_dir() or p.stat().st_size == 0:
        raise InputError(
            p,
            "this is not an image file (a folder or an empty file)",
            "point to the SEM TIFF itself",
        )
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head[:4] not in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        raise InputError(
            p,
            "this is not a TIFF file; SEM images are read from the instrument's TIFF (which carries the pixel size)",
            "export the image as TIFF from the microscope software, or convert it and pass [sem] pixel_size_nm",
        )
    from platescope.io._movie_tiff import check_ifd_chain

    check_ifd_chain(p)
    try:
        with capture_tifffile_log(), tifffile.TiffFile(p) as tif:
            page = tif.pages.first
            end = max(
                (o + c for o, c in zip(page.dataoffsets, page.databytecounts, strict=False)),
                default=0,
            )
            if end > p.stat().st_size or 0 in page.dataoffsets:
                raise InputError(
                    p,
                    f"the file looks truncated: the image data end at byte {end} but the file has {p.stat().st_size} bytes",
                    _FIX_DAMAGED,
                )
            decoded = int(np.prod(page.shape, dtype=np.float64)) * np.dtype(page.dtype).itemsize
            if decoded > _MAX_SEM_BYTES:
                raise InputError(
                    p,
                    f"the image header states {' × '.join(map(str, page.shape))} pixels "
                    f"({decoded / 2**30:.1f} GiB decoded), more than platescope reads "
                    f"({_MAX_SEM_BYTES // 2**30} GiB); the header may be damaged",
                    _FIX_DAMAGED,
                )
            image = page.asarray()
            fei = tif.fei_metadata or {}
            zeiss = tif.sem_metadata or {}
            tescan_tag = page.tags.get(_TESCAN_TAG)
            tescan = _tescan_fields(tescan_tag.value) if tescan_tag is not None else {}
    except InputError:
        raise
    except (
        tifffile.TiffFileError,
        ValueError,
        OSError,
        struct.error,
        IndexError,
        KeyError,
        RuntimeError,
        ZeroDivisionError,
        OverflowError,
        MemoryError,
        AssertionError,
        TypeError,
    ) as exc:
        raise InputError(
            p, f"the TIFF cannot be read ({exc}); it may be truncated or corrupt", _FIX_DAMAGED
        ) from exc
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        rgb = image[..., :3]
        if not (
            np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
        ):
            raise InputError(
                p,
                "the SEM image is in colour; platescope reads greyscale SEM images",
                "export the image as greyscale TIFF",
            )
        image = rgb[..., 0]
    if image.ndim != 2:
        raise InputError(
            p,
            f"the image has shape {image.shape}, not (y, x)",
            "export a single greyscale SEM image per file",
        )
    info: dict[str, Any] = {
        "path": p,
        "image": image,
        "pixel": None,
        "instrument": None,
        "bar": None,
        "format": "tiff",
    }
    if fei:
        info["format"] = "fei-tiff"
        info["pixel"] = _fei_pixel_nm(fei)
        info["instrument"] = str(
            (fei.get("System") or {}).get("SystemType") or "FEI/Thermo SEM"
        ).strip()
        info["bar"] = _fei_databar(fei, image.shape[0])
    elif zeiss:
        info["format"] = "zeiss-tiff"
        info["pixel"] = _zeiss_pixel_nm(zeiss)
        info["instrument"] = _zeiss_instrument(zeiss)
    elif tescan:
        info["format"] = "tescan-tiff"
        info["pixel"] = _tescan_pixel_nm(tescan)
        info["instrument"] = f"Tescan {tescan.get('Device', 'SEM')}".strip()
    return info


def _databar_rows(info: dict[str, Any], databar: int | str) -> tuple[int, str]:
    height = info["image"].shape[0]
    if isinstance(databar, str):
        if databar != "auto":
            raise InputError(
                None,
                f"databar must be 'auto' or a number of rows, got {databar!r}",
                "use databar='auto', databar=0 (keep the full frame) or the bar height in rows",
            )
        if info["bar"] is not None:
            return info["bar"]
        return detect_databar(info["image"]), "detected"
    rows = int(databar)
    if not 0 <= rows < height:
        raise InputError(
            info["path"],
            f"databar={databar} rows is not within the image height {height}",
            f"pass a bar height between 0 and {height - 1} rows",
        )
    return rows, ("disabled" if rows == 0 else "user")


def sem_array(
    path: str | os.PathLike, *, pixel_size_nm: float | None = None, databar: int | str = "auto"
) -> tuple[np.ndarray, dict[str, Any]]:
    """:func:`read_sem` without the DataArray: ``(image, attrs)``, no xarray import.

    For a command that only segments and measures one image (``platescope particles``),
    where building the DataArray would import xarray (and the dask/pint plug-ins it
    loads) for nothing. Same checks, same pixels and the same ``attrs`` as
    :func:`read_sem` (which calls it); the pixel spacing is ``attrs["pixel_size_nm"]``
    (and ``attrs["pixel_size_y_nm"]`` when rows differ).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._image_writers import write_sem_tiff
    >>> img = np.full((80, 64), 120, np.uint8); img[64:] = 40
    >>> p = write_sem_tiff(os.path.join(tempfile.mkdtemp(), "s.tif"), img,
    ...                    pixel_size_nm=5.0, databar_rows=16)
    >>> arr, attrs = sem_array(p)
    >>> arr.shape, attrs["databar_rows"], attrs["pixel_size_nm"]
    ((64, 64), 16, 5.0)
    """
    info = _open_sem(path)
    p = info["path"]
    if pixel_size_nm is not None:
        px = float(pixel_size_nm)
        if not math.isfinite(px) or px <= 0:
            raise InputError(
                None,
                f"pixel_size_nm must be a positive number of nm, got {pixel_size_nm!r}",
                "set [sem] pixel_size_nm to the pixel size in nm",
            )
        if info["pixel"] is not None and abs(info["pixel"][1] - px) > 0.01 * px:
            import warnings

            warnings.warn(
                f"{p}: pixel_size_nm={px:g} nm overrides the file's {info['pixel'][2]} value {info['pixel'][1]:g} nm; check which one is right",
                UserWarning,
                stacklevel=3,
            )
        spacing = (px, px, "pixel_size_nm")
    elif info["pixel"] is not None:
        spacing = (info["pixel"][0], info["pixel"][1], f"metadata:{info['pixel'][2]}")
    else:
        raise InputError(
            p,
            "the SEM image has no pixel size in its metadata",
            "set [sem] pixel_size_nm (pixel_size_nm=) to the pixel size in nm, read from the scale bar or the instrument",
        )
    rows, bar_source = _databar_rows(info, databar)
    image = info["image"]
    kept = image[: image.shape[0] - rows] if rows else image
    py_nm, px_nm, px_source = spacing
    attrs = {
        "units": "counts",
        "mode": "sem",
        "source": str(p.resolve()),
        "format": info["format"],
        "instrument": info["instrument"],
        "pixel_size_nm": float(px_nm),
        "pixel_size_source": px_source,
        "databar_rows": int(rows),
        "databar_source": bar_source,
    }
    if py_nm != px_nm:
        attrs["pixel_size_y_nm"] = float(py_nm)
    return np.ascontiguousarray(kept), attrs


def read_sem(
    path: str | os.PathLike, *, pixel_size_nm: float | None = None, databar: int | str = "auto"
) -> xr.DataArray:
    """Read an SEM image with its pixel size, without the instrument data bar.

    Parameters
    ----------
    path : str or os.PathLike
        SEM TIFF (FEI/Thermo, Zeiss or plain).
    pixel_size_nm : float, optional
        Pixel size in nm, for files whose metadata lack it (or to correct it; a
        warning is issued if it disagrees with the metadata by more than 1 %).
    databar : "auto" or int
        ``"auto"``: rows given by metadata, else detected (:func:`detect_databar`);
        an int: drop exactly that many bottom rows (0 keeps the full frame).

    Returns
    -------
    xarray.DataArray
        dims ``("y", "x")`` with coords in µm (pixel index × pixel size), the
        file's dtype (detector counts); attrs ``pixel_size_nm``, ``instrument``,
        ``databar_rows`` (rows removed at the bottom), ``databar_source``,
        ``source``, ``mode`` ("sem"), ``units`` ("counts"), ``format``,
        ``pixel_size_source``.

    Raises
    ------
    platescope.InputError
        Missing pixel size, non-TIFF or damaged files, colour images, bad
        ``databar``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._image_writers import write_sem_tiff
    >>> img = np.full((80, 64), 120, np.uint8); img[64:] = 40
    >>> p = write_sem_tiff(os.path.join(tempfile.mkdtemp(), "s.tif"), img,
    ...                    pixel_size_nm=5.0, databar_rows=16)
    >>> sem = read_sem(p)
    >>> sem.shape, sem.attrs["databar_rows"], float(sem.x[2])
    ((64, 64), 16, 0.01)
    """
    kept, attrs = sem_array(path, pixel_size_nm=pixel_size_nm, databar=databar)
    py_nm = attrs.get("pixel_size_y_nm", attrs["pixel_size_nm"])
    px_nm = attrs["pixel_size_nm"]
    coords = {
        "y": ("y", np.arange(kept.shape[0]) * py_nm / 1e3, {"units": "um"}),
        "x": ("x", np.arange(kept.shape[1]) * px_nm / 1e3, {"units": "um"}),
    }
    return xr.DataArray(kept, dims=("y", "x"), coords=coords, attrs=attrs, name="intensity")


def describe_sem(path: str | os.PathLike) -> dict[str, Any]:
    """Describe an SEM TIFF: size, pixel size, instrument and data bar.

    Parameters
    ----------
    path : str or os.PathLike
        SEM TIFF.

    Returns
    -------
    dict
        ``kind`` ("sem"), ``path``, ``format``, ``shape`` (full frame, rows × cols),
        ``image_shape`` (without the bar), ``dtype``, ``pixel_size_nm`` (None when
        absent), ``pixel_size_source``, ``instrument``, ``databar_rows``,
        ``databar_source``, ``field_of_view_um`` (width, height of the image part;
        None without a pixel size).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from platescope.io._image_writers import write_sem_tiff
    >>> img = np.full((80, 64), 120, np.uint8)
    >>> p = write_sem_tiff(os.path.join(tempfile.mkdtemp(), "s.tif"), img,
    ...                    pixel_size_nm=5.0, databar_rows=16)
    >>> describe_sem(p)["databar_rows"]
    16
    """
    info = _open_sem(path)
    rows, source = _databar_rows(info, "auto")
    image = info["image"]
    image_shape = (image.shape[0] - rows, image.shape[1])
    pixel = info["pixel"]
    return {
        "kind": "sem",
        "path": str(info["path"]),
        "format": info["format"],
        "shape": tuple(image.shape),
        "image_shape": image_shape,
        "dtype": str(image.dtype),
        "pixel_size_nm": None if pixel is None else float(pixel[1]),
        "pixel_size_source": None if pixel is None else pixel[2],
        "instrument": info["instrument"],
        "databar_rows": rows,
        "databar_source": source,
        "field_of_view_um": None
        if pixel is None
        else (image_shape[1] * pixel[1] / 1e3, image_shape[0] * pixel[0] / 1e3),
    }
