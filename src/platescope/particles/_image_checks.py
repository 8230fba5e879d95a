"""Input checks and small helpers shared by particle segmentation and measurement.

Ground module of :mod:`platescope.particles` (``_detect`` and ``_measure`` both import
it; it imports neither), so the package has no import circle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._errors import source_of as _source


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise InputError(
            None, f"{name} must be a positive number, got {value!r}", f"give a {name} > 0"
        )
    return v


def _spacing(spacing: Any) -> float:
    """Pixel size in µm from a number (or an equal (dy, dx) pair)."""
    if np.ndim(spacing) == 1 and len(spacing) == 2:
        dy, dx = (float(s) for s in spacing)
        if not np.isclose(dy, dx, rtol=1e-6):
            raise InputError(
                None,
                f"spacing {tuple(spacing)} has different y and x pixel sizes",
                "resample the image to square pixels first",
            )
        spacing = dy
    return _positive("spacing (pixel size, µm)", spacing)


def _image2d(image: Any, what: str = "image") -> np.ndarray:
    """A finite float64 2-D array from an ndarray or a (y, x) DataArray."""
    src = _source(image)
    if hasattr(image, "dims") and tuple(image.dims) != ("y", "x"):
        raise InputError(
            src,
            f"the {what} has dims {tuple(image.dims)}, expected ('y', 'x')",
            "select one frame (e.g. movie.isel(t=0)) or transpose it to ('y', 'x')",
        )
    arr = np.asarray(getattr(image, "values", image))
    if arr.ndim != 2:
        raise InputError(
            src,
            f"the {what} must be 2-D (y, x), got shape {arr.shape}",
            "pass one frame at a time (loop or map over the frames of a movie)",
        )
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise InputError(
            src,
            f"the {what} has dtype {arr.dtype}, expected integer or float grey levels",
            "pass the grey-level image (a boolean mask is already segmented: label it)",
        )
    if arr.shape[0] < 3 or arr.shape[1] < 3:
        raise InputError(
            src, f"the {what} is only {arr.shape[0]} × {arr.shape[1]} pixels", "pass the full image"
        )
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise InputError(
            src,
            f"the {what} contains NaN or infinite pixels",
            "crop the image to its valid area or replace the invalid pixels first",
        )
    return arr


def _roi(roi: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    if roi is None:
        return None
    arr = np.asarray(getattr(roi, "values", roi))
    if arr.shape != tuple(shape):
        raise InputError(
            None,
            f"the ROI mask has shape {arr.shape} but the image has shape {tuple(shape)}",
            "build the ROI mask on this image's pixel grid",
        )
    arr = arr.astype(bool)
    if not arr.any():
        raise InputError(
            None, "the ROI mask selects no pixel", "check the ROI: it must overlap the image"
        )
    return arr


# ----------------------------------------------------------------------- thresholds


def _first_pixels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels > 0 present and the flat index of each one's first pixel in raster order.

    Sorts only the foreground pixels (not the whole image).
    """
    flat = labels.ravel()
    nz = np.flatnonzero(flat)
    ids, first = np.unique(flat[nz], return_index=True)
    return ids, nz[first]
