"""Time series of height maps: registration, height change, roughness and SEI growth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope.surface._common import like, warn
from platescope.surface._iso import areal_parameters, tile_sq_err

__all__ = [
    "feature_mask",
    "growth_rates",
    "height_change",
    "level_series",
    "register_maps",
    "roughness_series",
]


def _times(times_s: Sequence[float], n: int) -> np.ndarray:
    t = np.asarray(times_s, dtype=np.float64)
    if t.shape != (n,):
        raise InputError(None, f"{t.size} times for {n} maps", "give one time_s per map")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError(
            None, f"map times {t.tolist()} s are not increasing", "give increasing time_s values"
        )
    return t


def roughness_series(
    maps: Sequence[Any], times_s: Sequence[float], *, tiles: int = 4
) -> pd.DataFrame:
    """Areal roughness of each levelled map against time, with tile-based errors.

    Parameters
    ----------
    maps : sequence of xarray.DataArray
        Levelled height maps (nm).
    times_s : sequence of float
        Time of each map, s (increasing).
    tiles : int
        Tiles per side for ``Sq_err_nm`` (:func:`tile_sq_err`).

    Returns
    -------
    pandas.DataFrame
        ``time_s``, ``Sa_nm``, ``Sq_nm``, ``Sq_err_nm``, ``Ssk``, ``Sku``, ``Sz_nm``,
        ``Sdr_percent``, ``n_pixels``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(1)
    >>> maps = [xr.DataArray(rng.normal(0, s, (32, 32)), dims=("y", "x"),
    ...         attrs={"pixel_size_um": 0.1}) for s in (1.0, 2.0)]
    >>> df = roughness_series(maps, [0, 60])
    >>> bool(df.Sq_nm.iloc[1] > df.Sq_nm.iloc[0])
    True
    """
    t = _times(times_s, len(maps))
    rows = []
    for ti, m in zip(t, maps, strict=True):
        p = areal_parameters(m)
        e = tile_sq_err(m, tiles=tiles)
        rows.append(
            {
                "time_s": float(ti),
                **{k: p.get(k) for k in ("Sa_nm", "Sq_nm")},
                "Sq_err_nm": e.get("Sq_err_nm"),
                **{k: p.get(k) for k in ("Ssk", "Sku", "Sz_nm", "Sdr_percent", "n_pixels")},
            }
        )
    return pd.DataFrame(rows)


def register_maps(reference: Any, moving: Any, *, upsample_factor: int = 20) -> dict[str, Any]:
    """Lateral shift of ``moving`` relative to ``reference`` by phase correlation.

    ``skimage.registration.phase_cross_correlation`` with sub-pixel refinement
    (1/``upsample_factor`` px) on the two levelled maps (NaN set to 0), both
    multiplied by a Hann window (without it the wrap-around edge biases the shift
    towards 0 by up to 0.1 px), in two passes (the second registers what is left
    after moving ``moving`` by the first estimate, removing the window's own bias
    towards 0). The shift
    is the (dy, dx) that, applied to ``moving``, aligns it on ``reference``.

    Parameters
    ----------
    reference, moving : xarray.DataArray or numpy.ndarray
        Levelled maps of equal shape (nm).
    upsample_factor : int
        Sub-pixel precision.

    Returns
    -------
    dict
        ``shift_px`` (dy, dx), ``error`` (skimage's normalised RMS error), or
        ``reason`` when the maps cannot be compared.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.ndimage import gaussian_filter
    >>> big = gaussian_filter(np.random.default_rng(0).normal(size=(96, 96)), 2)
    >>> a, b = big[10:90, 10:90], big[7:87, 12:92]      # b = a moved by (3, -2)
    >>> [round(v, 2) for v in register_maps(a, b)["shift_px"]]
    [-3.0, 2.0]
    """
    from skimage.registration import phase_cross_correlation

    a = np.asarray(getattr(reference, "values", reference), dtype=np.float64)
    b = np.asarray(getattr(moving, "values", moving), dtype=np.float64)
    if a.shape != b.shape:
        return {"reason": f"map shapes differ: {a.shape} vs {b.shape}"}
    a = np.where(np.isfinite(a), a, 0.0)
    b = np.where(np.isfinite(b), b, 0.0)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"reason": "a flat map has no features to register on"}
    from scipy.ndimage import shift as nd_shift
    from skimage.filters import window

    # a Hann window removes the wrap-around edge (which biases the shift towards 0
    # by up to 0.1 px on non-periodic maps); the window itself biases towards 0 in
    # proportion to the shift, so a second pass registers the residual after
    # moving ``moving`` by the first estimate
    w = window("hann", a.shape)
    ac = (a - a.mean()) * w
    total = np.zeros(2)
    error = float("nan")
    for _ in range(2):
        moved = nd_shift(b, total, order=3, mode="nearest") if total.any() else b
        step, error, _ = phase_cross_correlation(
            ac,
            (moved - moved.mean()) * w,
            upsample_factor=int(upsample_factor),
            normalization=None,
        )
        total = total + step
    shift = total
    return {"shift_px": (float(shift[0]), float(shift[1])), "error": float(error)}


def _shift(z: np.ndarray, shift_px: tuple[float, float]) -> np.ndarray:
    """``z`` moved by ``shift_px`` (bilinear), NaN where no data came in."""
    from scipy.ndimage import shift as nd_shift

    valid = np.isfinite(z)
    moved = nd_shift(np.where(valid, z, 0.0), shift_px, order=1, mode="constant", cval=np.nan)
    cover = nd_shift(valid.astype(float), shift_px, order=1, mode="constant", cval=0.0)
    moved[cover < 0.999] = np.nan
    return moved


def height_change(
    reference: Any, moving: Any, *, register: bool = True, upsample_factor: int = 20
) -> dict[str, Any]:
    """Height change map ``moving − reference`` after lateral registration.

    Parameters
    ----------
    reference, moving : xarray.DataArray
        Levelled maps (nm) of the same area at two times.
    register : bool
        Align ``moving`` on ``reference`` first (:func:`register_maps`); pixels the
        shift leaves without data are NaN.
    upsample_factor : int
        Sub-pixel precision of the registration.

    Returns
    -------
    dict
        ``change`` (DataArray, nm, NaN outside the overlap), ``shift_px``,
        ``overlap_fraction``, ``reason`` (when registration fails), ``warnings``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((16, 16)); b = a + 2.0
    >>> r = height_change(a, b, register=False)
    >>> float(np.nanmean(r["change"]))
    2.0
    """
    a = np.asarray(getattr(reference, "values", reference), dtype=np.float64)
    b = np.asarray(getattr(moving, "values", moving), dtype=np.float64)
    if a.shape != b.shape:
        return {"change": None, "reason": f"map shapes differ: {a.shape} vs {b.shape}"}
    shift = (0.0, 0.0)
    warnings = []
    if register:
        reg = register_maps(a, b, upsample_factor=upsample_factor)
        if "reason" in reg:
            return {"change": None, "reason": reg["reason"]}
        shift = reg["shift_px"]
        b = _shift(b, shift)
        if max(abs(shift[0]) / a.shape[0], abs(shift[1]) / a.shape[1]) > 0.25:
            warnings.append(
                warn(
                    "large-drift",
                    f"the maps are shifted by {shift[0]:.1f}, {shift[1]:.1f} px (> 25 % of the "
                    "field); the overlap is small and the registration may be wrong",
                )
            )
    d = b - a
    overlap = float(np.isfinite(d).mean())
    change = like(reference, d) if hasattr(reference, "dims") else d
    return {"change": change, "shift_px": shift, "overlap_fraction": overlap, "warnings": warnings}


def feature_mask(
    height: Any,
    *,
    method: str = "above-substrate",
    k_sigma: float = 3.0,
    quantile: float = 0.85,
    ridge_sigma_px: float = 2.0,
    spacing_um: Any = None,
) -> dict[str, Any]:
    """Surface features (ridges, grain boundaries, protrusions) of a levelled map.

    ``"above-substrate"`` (default): pixels (after a 1-px Gaussian smoothing) more
    than ``k_sigma`` robust standard deviations above the substrate level — the
    level is the median and the spread 1.4826 × the median distance below it of the
    lower half (features sit above the substrate), both re-estimated five times on
    the pixels below the current threshold, so features covering a third of the map
    do not inflate them. ``"top-quantile"``: pixels above the ``quantile`` of
    the smoothed heights (a fixed area fraction). ``"ridges"``: the Sato tubeness
    filter (``skimage.filters.sato``, bright ridges, σ = ``ridge_sigma_px``)
    thresholded by Otsu. Specks smaller than 9 px are removed.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray
        Levelled heights (nm).
    method : {"above-substrate", "top-quantile", "ridges"}
        See above.
    k_sigma : float
        Threshold of ``"above-substrate"`` in robust standard deviations.
    quantile : float
        Height quantile for ``"top-quantile"`` (0.5–0.99).
    ridge_sigma_px : float
        Ridge half-width scale in pixels for ``"ridges"``.
    spacing_um : float or (dy, dx), optional
        Pixel size for plain arrays (unused, accepted for symmetry).

    Returns
    -------
    dict
        ``mask`` (bool array) and ``fraction``; or ``mask`` None with ``reason``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((40, 40)); z[:, 18:23] = 10.0
    >>> r = feature_mask(z + np.random.default_rng(0).normal(0, .5, z.shape))
    >>> bool(r["mask"][:, 20].all()), bool(r["mask"][:, 5].any())
    (True, False)
    """
    from scipy.ndimage import gaussian_filter
    from skimage.morphology import remove_small_objects

    z = np.asarray(getattr(height, "values", height), dtype=np.float64)
    finite = np.isfinite(z)
    if finite.sum() < 100:
        return {"mask": None, "reason": "fewer than 100 valid pixels"}
    zf = np.where(finite, z, np.nanmedian(z))
    if np.ptp(zf[finite]) == 0:
        return {"mask": None, "reason": "the map is flat: no features"}
    if method == "above-substrate":
        sm = gaussian_filter(zf, 1.0)
        v = sm[finite]
        sub = v
        for _ in range(5):  # substrate level and spread from its lower half, refined
            med = float(np.median(sub))
            sd = 1.4826 * float(np.median(med - sub[sub <= med]))
            if sd == 0:
                return {"mask": None, "reason": "the substrate has no height scatter to scale by"}
            sub = v[v <= med + k_sigma * sd]
        m = sm > med + k_sigma * sd
    elif method == "top-quantile":
        if not 0.5 <= quantile <= 0.99:
            return {"mask": None, "reason": f"quantile {quantile} outside 0.5–0.99"}
        sm = gaussian_filter(zf, 1.0)
        m = sm > np.quantile(sm[finite], quantile)
    elif method == "ridges":
        from skimage.filters import sato, threshold_otsu

        r = sato(zf, sigmas=[ridge_sigma_px], black_ridges=False)
        if np.ptp(r) == 0:
            return {"mask": None, "reason": "the ridge filter found no ridges"}
        m = r > threshold_otsu(r)
    else:
        return {
            "mask": None,
            "reason": f"method must be above-substrate, top-quantile or ridges, got {method!r}",
        }
    m = remove_small_objects(m & finite, max_size=8)
    return {"mask": m, "fraction": float(m.mean())}


def _correlation_area_px(resid: np.ndarray, valid: np.ndarray) -> float:
    """Σ of the normalised 2-D autocorrelation of ``resid`` (pixels): the area one
    independent sample covers. Lags out to where the ACF first drops below 0."""
    r = np.where(valid, resid - resid[valid].mean(), 0.0)
    ny, nx = r.shape
    f = np.fft.rfft2(r, s=(2 * ny, 2 * nx))
    acf = np.fft.irfft2(np.abs(f) ** 2, s=(2 * ny, 2 * nx))
    fv = np.fft.rfft2(valid.astype(float), s=(2 * ny, 2 * nx))
    cnt = np.fft.irfft2(np.abs(fv) ** 2, s=(2 * ny, 2 * nx))
    with np.errstate(all="ignore"):
        acf = np.where(cnt > 0.5 * valid.sum(), acf / np.maximum(cnt, 1), np.nan)
    acf = np.fft.fftshift(acf)
    c0 = acf[ny, nx]
    if not np.isfinite(c0) or c0 <= 0:
        return 1.0
    rho = acf / c0
    yy, xx = np.mgrid[-ny:ny, -nx:nx]
    rad = np.hypot(yy, xx)
    rmax = min(ny, nx) // 2
    # radial mean to find the first zero crossing, then sum the ACF inside it
    bins = np.minimum(rad.astype(int), rmax)
    ok = np.isfinite(rho)
    prof = np.bincount(bins[ok], rho[ok], minlength=rmax + 1) / np.maximum(
        np.bincount(bins[ok], minlength=rmax + 1), 1
    )
    below = np.nonzero(prof[1:] <= 0)[0]
    cut = int(below[0] + 1) if below.size else rmax
    inside = (rad < cut) & ok
    return float(max(1.0, np.sum(rho[inside])))


def growth_rates(
    maps: Sequence[Any],
    times_s: Sequence[float],
    *,
    features: np.ndarray | None = None,
    feature_method: str = "above-substrate",
    k_sigma: float = 3.0,
    quantile: float = 0.85,
    buffer_px: int = 2,
    erode_px: int = 2,
    register: bool = True,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """SEI growth rate on surface features vs flat areas, with a significance test.

    Steps: register every map on the first (:func:`register_maps`, sub-pixel) and
    resample it; per pixel, the least-squares slope of height against time (nm/h)
    over the maps where the pixel has data (vectorised); features from the first
    map (``features`` or :func:`feature_mask`), flat = the rest minus a
    ``buffer_px`` ring around features; the feature group is the mask eroded by
    ``erode_px``. Because an AFM has no absolute height
    reference between frames (piezo drift, re-engagement), each map should be
    levelled on its flat areas; the rates are then relative to the flat areas
    (the flat rate ≈ 0 by construction) and the quantity that can be trusted is the
    difference ``rate_difference_nm_h`` = feature − flat.

    Significance: Welch's t test on the per-pixel rates of the two groups with each
    group's sample size replaced by its *effective* size n_eff = n / A_c, where A_c
    is the correlation area of the rate residuals (sum of their normalised 2-D
    autocorrelation inside its first zero crossing, in pixels; the classical
    effective-sample-size correction for spatially autocorrelated data, e.g.
    Dutilleul 1993 / Bretherton et al. 1999 for series). Without the correction,
    neighbouring pixels that share noise would count as independent and p-values
    would be far too small. The Welch–Satterthwaite degrees of freedom use n_eff.

    Parameters
    ----------
    maps : sequence of xarray.DataArray
        Levelled maps (nm), same shape and pixel size.
    times_s : sequence of float
        Map times, s (increasing).
    features : numpy.ndarray of bool, optional
        Feature mask (True = feature) on the first map's grid.
    feature_method, k_sigma, quantile :
        Passed to :func:`feature_mask` when ``features`` is None.
    buffer_px : int
        Pixels around features left out of the flat group.
    erode_px : int
        The feature group is the feature mask eroded by this many pixels: edge pixels
        mix feature and flat (partial pixels, interpolation in the registration) and
        would dilute the feature rate.
    register : bool
        Register maps on the first one.
    alpha : float
        Significance level for ``significant``.

    Returns
    -------
    dict
        ``rate_feature_nm_h``, ``rate_flat_nm_h`` (means; with ``*_err_nm_h``,
        standard errors using n_eff), ``rate_difference_nm_h`` (+ ``_err``),
        ``t``, ``dof``, ``p_value``, ``significant``, ``n_feature_px``,
        ``n_flat_px``, ``n_eff_feature``, ``n_eff_flat``, ``correlation_area_px``,
        ``shifts_px`` (per map), ``rate_map`` (DataArray nm/h), ``feature_mask``,
        ``test`` (a sentence naming the test), ``reason`` (when null), ``warnings``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> base = np.zeros((48, 48)); ridge = np.zeros_like(base, bool); ridge[:, 20:26] = True
    >>> maps = [xr.DataArray(base + 5 * ridge + (2.0 * t) * ridge + rng.normal(0, .2, base.shape),
    ...         dims=("y", "x"), attrs={"pixel_size_um": 0.05}) for t in (0, 1, 2)]
    >>> r = growth_rates(maps, [0, 3600, 7200], features=ridge, register=False)
    >>> round(r["rate_difference_nm_h"], 1), r["significant"]
    (2.0, True)
    """
    from scipy import stats
    from scipy.ndimage import binary_dilation

    n = len(maps)
    if n < 2:
        return {"rate_difference_nm_h": None, "reason": "fewer than 2 maps: no growth rate"}
    t = _times(times_s, n)
    first = np.asarray(getattr(maps[0], "values", maps[0]), dtype=np.float64)
    stack = [first]
    shifts = [(0.0, 0.0)]
    warnings: list[dict[str, str]] = []
    for m in maps[1:]:
        z = np.asarray(getattr(m, "values", m), dtype=np.float64)
        if z.shape != first.shape:
            return {
                "rate_difference_nm_h": None,
                "reason": f"map shapes differ ({z.shape} vs {first.shape})",
            }
        if register:
            reg = register_maps(first, z)
            if "reason" in reg:
                return {"rate_difference_nm_h": None, "reason": reg["reason"]}
            shifts.append(reg["shift_px"])
            z = _shift(z, reg["shift_px"])
        else:
            shifts.append((0.0, 0.0))
        stack.append(z)
    zs = np.stack(stack)  # (t, y, x)
    valid = np.isfinite(zs)
    th = (t / 3600.0)[:, None, None] * np.ones_like(zs)
    w = valid.astype(float)
    nt = w.sum(axis=0)
    with np.errstate(all="ignore"):
        tm = (th * w).sum(0) / nt
        zm = (np.where(valid, zs, 0) * w).sum(0) / nt
        sxx = (w * (th - tm) ** 2).sum(0)
        sxy = (w * (th - tm) * (np.where(valid, zs, 0) - zm)).sum(0)
        rate = np.where((nt >= 2) & (sxx > 0), sxy / sxx, np.nan)
    if features is None:
        fm = feature_mask(maps[0], method=feature_method, k_sigma=k_sigma, quantile=quantile)
        if fm["mask"] is None:
            return {"rate_difference_nm_h": None, "reason": f"no feature mask: {fm['reason']}"}
        feat = fm["mask"]
    else:
        feat = np.asarray(features, dtype=bool)
        if feat.shape != first.shape:
            return {"rate_difference_nm_h": None, "reason": "feature mask shape differs"}
    from scipy.ndimage import binary_erosion

    near = binary_dilation(feat, iterations=int(buffer_px)) if buffer_px > 0 else feat
    core = binary_erosion(feat, iterations=int(erode_px)) if erode_px > 0 else feat
    ok = np.isfinite(rate)
    g1 = core & ok
    g2 = ~near & ok
    n1, n2 = int(g1.sum()), int(g2.sum())
    rate_map = like(maps[0], rate, units="nm/h") if hasattr(maps[0], "dims") else rate
    base: dict[str, Any] = {
        "n_feature_px": n1,
        "n_flat_px": n2,
        "shifts_px": [list(s) for s in shifts],
        "rate_map": rate_map,
        "feature_mask": feat,
        "warnings": warnings,
    }
    if n1 < 30 or n2 < 30:
        return {
            **base,
            "rate_difference_nm_h": None,
            "reason": f"too few pixels with a rate: {n1} on features, {n2} flat (need ≥ 30 each)",
        }
    r1, r2 = rate[g1], rate[g2]
    m1, m2 = float(r1.mean()), float(r2.mean())
    resid = np.where(g1, rate - m1, np.where(g2, rate - m2, np.nan))
    a_c = _correlation_area_px(np.nan_to_num(resid), np.isfinite(resid))
    ne1, ne2 = max(n1 / a_c, 2.0), max(n2 / a_c, 2.0)
    v1, v2 = float(r1.var(ddof=1)), float(r2.var(ddof=1))
    se1, se2 = math.sqrt(v1 / ne1), math.sqrt(v2 / ne2)
    se = math.sqrt(se1**2 + se2**2)
    diff = m1 - m2
    if se == 0:
        return {**base, "rate_difference_nm_h": diff, "reason": "no scatter in the rates"}
    tstat = diff / se
    dof = se**4 / (se1**4 / (ne1 - 1) + se2**4 / (ne2 - 1))
    p = float(2 * stats.t.sf(abs(tstat), dof))
    if ne1 < 5 or ne2 < 5:
        warnings.append(
            warn(
                "few-independent-samples",
                f"the rates are correlated over ~{a_c:.0f} px, leaving {ne1:.1f} / {ne2:.1f} "
                "independent samples on features / flat; the test has little power",
            )
        )
    return {
        **base,
        "rate_feature_nm_h": m1,
        "rate_feature_err_nm_h": se1,
        "rate_flat_nm_h": m2,
        "rate_flat_err_nm_h": se2,
        "rate_difference_nm_h": diff,
        "rate_difference_err_nm_h": se,
        "t": float(tstat),
        "dof": float(dof),
        "p_value": p,
        "significant": bool(p < alpha),
        "n_eff_feature": float(ne1),
        "n_eff_flat": float(ne2),
        "correlation_area_px": float(a_c),
        "test": "Welch t test on per-pixel rates, n replaced by n_eff = n / correlation area",
    }


def level_series(
    maps: Sequence[Any],
    *,
    order: int = 2,
    line_method: str | None = "median-difference",
    k_sigma: float = 2.5,
    passes: int = 3,
) -> list[dict[str, Any]]:
    """Level each map with :func:`~platescope.surface.level_map` (rows + masked background).

    Returns the :func:`level_map` result of each map (``height`` None + ``reason`` when
    it fails).

    Examples
    --------
    >>> import numpy as np
    >>> maps = [np.random.default_rng(k).normal(0, 1, (32, 32)) + 5.0 for k in range(2)]
    >>> [abs(float(np.mean(r["height"]))) < 0.5 for r in level_series(maps, order=1)]
    [True, True]
    """
    from platescope.surface._level import level_map

    return [
        level_map(m, line_method=line_method, order=order, k_sigma=k_sigma, passes=passes)
        for m in maps
    ]
