"""Shared helpers of the surface analyses: array/spacing handling and result shapes."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from platescope._errors import InputError


def as_height(height: Any, spacing_um: Any = None) -> tuple[np.ndarray, float, float]:
    """(float64 array, dy_um, dx_um) of a height map given as DataArray or array.

    A DataArray gives its spacing through ``attrs["pixel_size_um"]`` (and
    ``pixel_size_y_um``) or its ``x``/``y`` coords; an array needs ``spacing_um``
    (a number or ``(dy, dx)``).
    """
    if isinstance(height, xr.DataArray):
        if height.ndim != 2:
            raise InputError(
                None, f"a height map has dims (y, x), got {height.dims}", "pass one 2-D map"
            )
        z = np.asarray(height.values, dtype=np.float64)
        if spacing_um is None:
            px = height.attrs.get("pixel_size_um")
            if px is None and "x" in height.coords and height.sizes["x"] > 1:
                px = float(height.x[1] - height.x[0])
            py = height.attrs.get("pixel_size_y_um", px)
            if px is None and "y" in height.coords and height.sizes["y"] > 1:
                py = float(height.y[1] - height.y[0])
            spacing_um = (py, px) if px is not None else None
    else:
        z = np.asarray(height, dtype=np.float64)
    if z.ndim != 2:
        raise InputError(None, f"a height map is 2-D, got shape {z.shape}", "pass one 2-D map")
    if spacing_um is None:
        raise InputError(
            None,
            "the height map has no pixel size",
            "pass a DataArray from read_height_map or spacing_um=(dy, dx)",
        )
    if np.ndim(spacing_um) == 0:
        dy = dx = float(spacing_um)
    else:
        dy, dx = (float(v) for v in spacing_um)
    if not (np.isfinite(dy) and np.isfinite(dx) and dy > 0 and dx > 0):
        raise InputError(None, f"spacing_um={spacing_um!r} is not positive", "give µm > 0")
    return z, dy, dx


def like(
    height: Any, values: np.ndarray, dy: float | None = None, dx: float | None = None, **attrs: Any
) -> xr.DataArray:
    """A DataArray with ``height``'s dims, coords and attrs (updated) holding ``values``.

    For a plain-array ``height``, coords in µm come from ``dy``/``dx`` when given.
    """
    if isinstance(height, xr.DataArray):
        out = height.copy(data=values)
        out.attrs = {**height.attrs, **attrs}
        return out
    ny, nx = values.shape
    coords = {}
    base: dict[str, Any] = {"units": "nm"}
    if dy is not None and dx is not None:
        coords = {
            "y": ("y", np.arange(ny) * dy, {"units": "um"}),
            "x": ("x", np.arange(nx) * dx, {"units": "um"}),
        }
        base["pixel_size_um"] = float(dx)
        if dy != dx:
            base["pixel_size_y_um"] = float(dy)
    return xr.DataArray(values, dims=("y", "x"), coords=coords, attrs={**base, **attrs})


def warn(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}
