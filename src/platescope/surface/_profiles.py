"""Line profiles through height maps, along user lines or through the highest feature."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope.surface._common import as_height

__all__ = ["auto_profile_line", "line_profile"]


def line_profile(
    height: Any,
    *,
    start_um: tuple[float, float],
    end_um: tuple[float, float],
    width_px: int = 1,
    spacing_um: Any = None,
) -> pd.DataFrame:
    """Heights along a straight line, by ``skimage.measure.profile_line``.

    Bilinear interpolation (order 1), one sample per pixel length, end points
    included; ``width_px`` > 1 averages that many parallel lines (NaN pixels are
    left out of the average; a sample with no valid pixel is NaN); samples of a wide
    line that fall outside the map take the nearest edge pixel.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray, shape (ny, nx)
        Heights in nm.
    start_um, end_um : (y, x) in µm
        Line ends, measured from the top-left pixel centre.
    width_px : int
        Line width in pixels.
    spacing_um : float or (dy, dx), optional
        Pixel size for plain arrays.

    Returns
    -------
    pandas.DataFrame
        ``distance_um``, ``height_nm``; attrs ``start_um``, ``end_um``, ``width_px``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.tile(np.arange(11.0), (5, 1))        # height = x index (nm)
    >>> p = line_profile(z, start_um=(0.2, 0), end_um=(0.2, 1.0), spacing_um=0.1)
    >>> bool(np.allclose(p["height_nm"], np.arange(11.0))), float(p["distance_um"].iloc[-1])
    (True, 1.0)
    """
    from skimage.measure import profile_line

    z, dy, dx = as_height(height, spacing_um)
    ny, nx = z.shape
    # rounded so that an end given as (n − 1) × pixel size lands on the last pixel
    src = (round(float(start_um[0]) / dy, 9), round(float(start_um[1]) / dx, 9))
    dst = (round(float(end_um[0]) / dy, 9), round(float(end_um[1]) / dx, 9))
    for name, (r, c) in (("start_um", src), ("end_um", dst)):
        if not (0 <= r <= ny - 1 and 0 <= c <= nx - 1):
            raise InputError(
                None,
                f"profile {name}={start_um if name == 'start_um' else end_um} µm lies outside the "
                f"{ny * dy:.3g} × {nx * dx:.3g} µm map",
                "give line ends inside the map (y, x in µm from the top-left pixel)",
            )
    if src == dst:
        raise InputError(None, "the profile's start and end are the same point", "give a line")
    prof = profile_line(
        z, src, dst, order=1, linewidth=int(width_px), mode="nearest",
        reduce_func=np.nanmean if width_px > 1 else np.mean,
    )  # fmt: skip
    length = float(np.hypot((dst[0] - src[0]) * dy, (dst[1] - src[1]) * dx))
    df = pd.DataFrame(
        {"distance_um": np.linspace(0.0, length, prof.size), "height_nm": prof.astype(float)}
    )
    df.attrs.update({"start_um": list(map(float, start_um)), "end_um": list(map(float, end_um))})
    df.attrs["width_px"] = int(width_px)
    return df


def auto_profile_line(
    height: Any, *, direction: str = "x", spacing_um: Any = None, smooth_px: float = 2.0
) -> dict[str, Any]:
    """A full-width (or full-height) line through the highest feature of the map.

    The highest point is the maximum of the map smoothed by a Gaussian of
    ``smooth_px`` pixels (so one noisy pixel does not choose the line).

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray
        Levelled heights in nm.
    direction : {"x", "y"}
        ``"x"``: the row through the peak; ``"y"``: the column.
    spacing_um : float or (dy, dx), optional
        Pixel size for plain arrays.
    smooth_px : float
        Gaussian σ in pixels for finding the peak.

    Returns
    -------
    dict
        ``start_um``, ``end_um`` (y, x), ``peak_um`` (y, x) or ``reason`` (all NaN).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((20, 30)); z[12, 7] = 5.0
    >>> auto_profile_line(z, spacing_um=0.5)["start_um"]
    (6.0, 0.0)
    """
    from scipy.ndimage import gaussian_filter

    z, dy, dx = as_height(height, spacing_um)
    finite = np.isfinite(z)
    if not finite.any():
        return {"reason": "the map has no finite heights"}
    sm = gaussian_filter(np.where(finite, z, np.nanmedian(z)), smooth_px)
    sm[~finite] = -np.inf
    r, c = np.unravel_index(int(np.argmax(sm)), z.shape)
    ny, nx = z.shape
    if direction == "x":
        start, end = (r * dy, 0.0), (r * dy, (nx - 1) * dx)
    elif direction == "y":
        start, end = (0.0, c * dx), ((ny - 1) * dy, c * dx)
    else:
        raise InputError(None, f"direction must be 'x' or 'y', got {direction!r}", "use x or y")
    return {
        "start_um": (float(start[0]), float(start[1])),
        "end_um": (float(end[0]), float(end[1])),
        "peak_um": (float(r * dy), float(c * dx)),
    }
