"""Find the part of a movie's field that never changes (issue 13: onset maps with drift).

In a see-through alloying movie the whole film changes as it alloys and dealloys, and
at the end of a full cycle it is back where it started, so "the pixels that differ
between the first and the last frames" (``register_drift(region="auto")``) does not
find what is static. :func:`find_static_region` looks at the whole record instead: the
movie is cut into consecutive groups of frames and a pixel is static when the range
over the groups of its local median log mean stays below a fraction of the range the
alloying film shows. The local median (not a mean) lets fixed texture that the stage
moves (small dust specks and scratches: as many darker as lighter neighbours after a
move) pass as static, while the film's change (the same sign over an area) does not. The static pixels that a drift registration can
use are the largest band along one side of the field (the bare glass beyond a film
electrode's edge, the separator, a mask), returned as a box in µm for
``register_drift(region=[x0, x1, y0, y1])``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

__all__ = ["find_static_region"]


def _edge_band(static: np.ndarray, min_frac: float) -> tuple[str, int]:
    """(side, width in px) of the widest band of rows/columns along one side of the
    field in which at least ``min_frac`` of the pixels are static."""
    best = ("", 0)
    cols = static.mean(axis=0)
    rows = static.mean(axis=1)
    for side, prof in (
        ("left", cols),
        ("right", cols[::-1]),
        ("top", rows),
        ("bottom", rows[::-1]),
    ):
        bad = np.flatnonzero(prof < min_frac)
        width = int(bad[0]) if bad.size else int(prof.size)
        if width > best[1]:
            best = (side, width)
    return best


def find_static_region(
    movie: xr.DataArray,
    *,
    exclude: Any = None,
    n_groups: int = 16,
    sigma_px: float = 1.0,
    median_px: int = 11,
    rel_threshold: float = 0.5,
    min_static_frac: float = 0.9,
    margin_px: int = 2,
    min_width_px: int = 16,
) -> dict[str, Any]:
    """The widest band along one side of the field whose pixels never change.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)``, counts (> 0), ``y``/``x`` in µm; may be dask-backed (read
        one group of frames at a time).
    exclude : array of bool, optional
        Frames to leave out (bad frames).
    n_groups : int
        Consecutive groups of frames whose means are compared.
    sigma_px : float
        Gaussian smoothing of each group mean before the log, px (noise).
    median_px : int
        Size of the square median filter over each group's log mean, px (texture that
        the stage moves).
    rel_threshold : float
        A pixel is static when the range (max − min over the groups) of its filtered log
        mean is below this fraction of the 90th percentile of that range over the field
        (the change of the alloying film).
    min_static_frac : float
        A row or column belongs to the band when at least this fraction of its pixels
        is static.
    margin_px : int
        Pixels taken off the band's inner side.
    min_width_px : int
        The narrowest band returned (a registration needs 16 px).

    Returns
    -------
    dict
        ``region_um`` ([x0, x1, y0, y1] µm, or None), ``side`` ("left", "right", "top",
        "bottom" or None), ``width_px``, ``static_fraction`` (of the whole field),
        ``mask`` (bool (y, x) static pixels) and ``reason`` (why there is none, or None).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = 1000 + 50 * rng.normal(size=(40, 64, 64))
    >>> f[:, :, :40] *= np.linspace(1, 0.6, 40)[:, None, None]  # the film darkens (x < 4 µm)
    >>> m = xr.DataArray(f, dims=("t", "y", "x"), coords={"t": np.arange(40.0),
    ...                  "y": np.arange(64) * 0.1, "x": np.arange(64) * 0.1})
    >>> r = find_static_region(m)
    >>> r["side"], [round(v, 1) for v in r["region_um"]]
    ('right', [4.2, 6.3, 0.0, 6.3])
    """
    n, ny, nx = movie.shape
    good = np.arange(n) if exclude is None else np.flatnonzero(~np.asarray(exclude, bool))
    groups = [g for g in np.array_split(good, max(2, min(int(n_groups), good.size))) if g.size]
    lo = hi = None
    size = (max(int(median_px), 1),) * 2
    for g in groups:
        # contiguous runs of frames are read as one slice
        parts = np.split(g, np.flatnonzero(np.diff(g) != 1) + 1)
        acc = np.zeros((ny, nx))
        for part in parts:
            block = movie.isel(t=slice(int(part[0]), int(part[-1]) + 1)).values
            acc += np.asarray(block, float).sum(axis=0)
        mean = ndimage.gaussian_filter(acc / g.size, sigma_px, mode="nearest")
        lm = np.log(np.maximum(mean, 1e-3 * max(float(np.median(mean)), 1e-30)))
        lm = ndimage.median_filter(lm, size=size, mode="nearest")
        lo = lm if lo is None else np.minimum(lo, lm)
        hi = lm if hi is None else np.maximum(hi, lm)
    rng = hi - lo
    ref = float(np.percentile(rng, 90))
    static = rng < rel_threshold * ref if ref > 0 else np.ones(rng.shape, bool)
    out: dict[str, Any] = {
        "region_um": None,
        "side": None,
        "width_px": 0,
        "static_fraction": float(static.mean()),
        "mask": static,
        "reason": None,
    }
    side, width = _edge_band(static, min_static_frac)
    width -= int(margin_px)
    if width < int(min_width_px):
        out["reason"] = (
            f"no band of static pixels along a side of the field at least {min_width_px} px "
            f"wide (widest {max(width, 0)} px; {100 * static.mean():.0f} % of the pixels "
            "static): every part of the field changes"
        )
        return out
    xs = np.asarray(movie.x.values, float)
    ys = np.asarray(movie.y.values, float)
    x0, x1, y0, y1 = 0, nx, 0, ny
    if side == "left":
        x1 = width
    elif side == "right":
        x0 = nx - width
    elif side == "top":
        y1 = width
    else:
        y0 = ny - width
    out.update(
        region_um=[float(xs[x0]), float(xs[x1 - 1]), float(ys[y0]), float(ys[y1 - 1])],
        side=side,
        width_px=int(width),
    )
    return out
