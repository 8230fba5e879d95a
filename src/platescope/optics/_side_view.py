"""Side-view (cross-section) movies of Li growth: edge, growth front, porosity, growth mode.

The camera looks along the electrode surface, so the electrode appears as a straight
(possibly tilted) edge and the deposit as a layer growing away from it, sometimes with
an outer porous "capping" band of weaker contrast (SCIENCE.md §4; the review's §2.1,
Huang et al. 2023). All lengths are in µm, times in s.

Method
------
1. **Electrode edge** (:func:`electrode_edge`): the mean of the first frames (before
   growth) is smoothed (σ = 1 px along y, 2 px along x); in every column the row of the
   strongest vertical gradient of the dominant polarity is found to sub-pixel precision
   (parabola through the three samples around the peak) and a straight line is fitted
   through these rows with iterative outlier rejection (3 robust σ, at least 0.5 px),
   so a tilted electrode is followed. The edge is the fixed reference of every later
   frame. It is refused (:class:`~platescope._errors.InputError`) when the step across
   the line is below ``min_snr`` times the pixel noise, fewer than 60 % of the columns
   agree with the line, or the line runs out of the field: a movie where no edge is
   visible gives no thickness at all rather than a wrong one.
2. **Front** (:func:`front_profiles`): every frame minus the reference (the same first
   frames) is the deposit signal D, smoothed along y (σ = 1 px), its sign chosen so the
   deposit is positive. The deposit's contrast levels come from the last frames: every
   column is aligned on its outer edge (found at 15 % of the inner level on a copy smoothed
   along y; whisker tips, > 3 MAD above the median front, left out), the aligned profiles
   are averaged (noise and roughness drop out) and one blurred step L·Φ((u − u_f)/σ)
   and two blurred steps (an outer band of level L1 and width w in front of the inner
   level L2) are fitted. Two bands (a capping layer) when L1 ≤ 0.85 L2, w ≥ 1.5 px,
   L2 − L1 ≥ 6 σ_D and the two-step fit leaves < 30 % of the one-step residual; else
   one level. (Layers thinner than 10 px fall back to Otsu's split of the deposit
   pixels.) Along each column, walking away from the edge, the front is the first
   point after which D stays below half the outermost level for ``gap_px`` pixels; its
   position is the linear half-maximum crossing between the last deposit pixel and the
   next (sub-pixel). Because the edge is the half-step point of the reference, a layer
   blurred by a symmetric PSF is measured without bias once it is thicker than
   ~3 blur σ (``min_resolved_um``). The same walk at the mid level between the two
   bands gives the dense-band thickness; capping = front − dense. Heights are
   perpendicular to the fitted edge (vertical distance · cos θ). A front whose fitted
   one-step σ exceeds 1.1 × the electrode edge's σ (an outer band too thin to resolve,
   or a graded edge) is flagged (``band_hint``): the porosity is then withheld.
3. **Layer metrics** (:func:`layer_metrics`): per frame the mean, the max and the
   roughness (standard deviation over columns, noise-corrected) of the front height.
4. **Porosity** (:func:`layer_porosity`): h_dense = Q·V_M/(zFA) with V_M = 13.0 cm³/mol
   (:data:`platescope.models.LI_MOLAR_VOLUME_CM3_MOL`); porosity = 1 − h_dense/h.
5. **Mossy → whisker** (:func:`growth_transition`): a continuous two-segment line is
   fitted to the tip excess e(t) = h_max − h_mean; the break time with the smallest
   residual is the transition, accepted when the fit beats one line (F test,
   p < 0.001) and the excess grows ≥ ``min_rate_ratio`` × faster after it. Its 95 %
   interval is where the residual rises by ≤ 3.84 σ² (σ² from the best fit), at least
   ±1.96 × half a frame interval.

Accuracy, measured on the simulator over 20 seeds × 3 noise levels
(validation/validate_side_view.py → validation/results/side_view.json;
docs/side_view.md): front height median |error| ≤ 0.29 px in every run, last-frame
porosity |error| ≤ 0.009, capping bands found in 60/60 runs, mossy → whisker break
within 1.33 frame intervals, no false transitions. Capping bands ≲ 2 blur σ thick are
not resolved: flagged, porosity withheld (docs/side_view.md).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope.models._faraday import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.optics._preprocess import _check_movie, _is_dask, _pixel_size_um

__all__ = [
    "analyze_side_view",
    "dense_thickness_um",
    "electrode_edge",
    "front_profiles",
    "growth_transition",
    "layer_metrics",
    "layer_porosity",
]

_DIRECTIONS = ("auto", "up", "down")
_NOISE_K = 1.4826


def _robust_sd(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    return float(_NOISE_K * np.median(np.abs(x - np.median(x))))


def _pixel_noise(frames: np.ndarray) -> float:
    """White pixel noise σ of single frames from second differences along x (robust)."""
    d2 = frames[..., 2:] - 2.0 * frames[..., 1:-1] + frames[..., :-2]
    return _robust_sd(d2.ravel()) / math.sqrt(6.0)


def _int_arg(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InputError(None, f"{name} must be an integer ≥ {low}, got {value!r}", f"pass {name}")
    return int(value)


def _reference(movie: xr.DataArray, n_frames: int) -> np.ndarray:
    n = min(int(n_frames), movie.sizes["t"])
    return np.asarray(movie.isel(t=slice(0, n)).values, dtype=np.float64)


# --------------------------------------------------------------------------- edge


def electrode_edge(
    movie: xr.DataArray,
    *,
    n_frames: int = 3,
    growth_direction: str = "auto",
    edge_row_px: float | None = None,
    min_snr: float = 8.0,
    margin_px: int = 4,
) -> dict:
    """Find the electrode edge of a side-view movie: a straight (tilted) line, sub-pixel.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie, dims ``("t", "y", "x")``, coordinate ``t`` in s, ``y``/``x`` in µm; the
        camera looks along the electrode surface, which runs roughly along ``x``. Only
        the first ``n_frames`` and (for ``growth_direction="auto"``) the last
        ``n_frames`` are computed.
    n_frames : int
        Frames averaged for the reference image (they should precede visible growth).
    growth_direction : {"auto", "up", "down"}
        Side of the edge the deposit grows into: ``"up"`` toward smaller row indices
        (up on the screen), ``"down"`` toward larger ones, ``"auto"`` the side that
        changes more between the first and the last frames.
    edge_row_px : float, optional
        The edge row (pixel index, may be fractional) given by the user: a horizontal
        edge there, no detection (the contrast check still runs).
    min_snr : float
        Smallest step across the edge, in units of the reference image's pixel noise.
    margin_px : int
        The line must stay this many pixels inside the field.

    Returns
    -------
    dict
        ``row0_px`` (edge row at column 0), ``slope_px_per_px``, ``tilt_deg``,
        ``rows_px`` (edge row per column, ndarray), ``rows_err_px`` (1σ per column from
        the fit), ``row_err_px`` (mean of those), ``residual_rms_px``, ``step_counts``
        (reference intensity on the growth side minus the electrode side), ``noise_counts``
        (pixel noise of the reference), ``snr``, ``growth_direction`` (``"up"``/``"down"``),
        ``direction_source`` (``"given"``, ``"movie change"`` or ``"no change seen:
        larger free side"``), ``n_columns_used``, ``n_columns_dropped`` (outliers), ``source``
        (``"detected"`` or ``"given"``) and ``pixel_size_um`` (dy, dx).

    Raises
    ------
    InputError
        No edge visible (step below ``min_snr`` × noise, columns disagree with a line),
        the edge out of the field, or bad options.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> y = np.arange(60.0)[:, None]; x = np.arange(80.0)[None, :]
    >>> edge = 40.3 + 0.05 * x                                   # tilted edge
    >>> img = 500.0 + 2000.0 / (1.0 + np.exp((y - edge) / 0.7))  # electrolyte bright above
    >>> rng = np.random.default_rng(0)
    >>> m = xr.DataArray(img + rng.normal(0, 10, (4, 60, 80)), dims=("t", "y", "x"),
    ...                  coords={"t": np.arange(4.0), "y": y[:, 0] * 0.5, "x": x[0] * 0.5})
    >>> e = electrode_edge(m, growth_direction="up")
    >>> round(e["row0_px"], 1), round(e["slope_px_per_px"], 3)
    (40.3, 0.05)
    """
    _check_movie(movie)
    dy, dx = _pixel_size_um(movie)
    n_frames = _int_arg(n_frames, "n_frames", 1)
    if growth_direction not in _DIRECTIONS:
        raise InputError(
            None,
            f"growth_direction must be one of {_DIRECTIONS}, got {growth_direction!r}",
            'set [analysis.side_view] growth_direction = "up", "down" or "auto"',
        )
    src = _source(movie)
    ny, nx = movie.sizes["y"], movie.sizes["x"]
    if ny < 2 * margin_px + 4 or nx < 8:
        raise InputError(
            src,
            f"the frames ({ny}×{nx} px) are too small to hold an electrode edge and a layer",
            "crop less of the movie",
        )
    frames = _reference(movie, n_frames)
    ref = frames.mean(axis=0)
    noise1 = _pixel_noise(frames)
    noise = noise1 / math.sqrt(frames.shape[0])
    sm = ndimage.gaussian_filter(ref, sigma=(1.0, 2.0), mode="nearest")
    gy = np.gradient(sm, axis=0)
    xs = np.arange(nx, dtype=float)
    if edge_row_px is not None:
        r0 = float(edge_row_px)
        if not np.isfinite(r0):
            raise InputError(None, f"edge_row_px={edge_row_px!r} is not finite", "give a row")
        rows = np.full(nx, r0)
        keep = np.ones(nx, bool)
        slope, row0 = 0.0, r0
        cov = np.zeros((2, 2))
        resid_rms = 0.0
        source = "given"
    else:
        inner = gy[margin_px:-margin_px]
        k_abs = np.argmax(np.abs(inner), axis=0)
        sgn = np.sign(inner[k_abs, np.arange(nx)])
        polarity = 1.0 if np.sum(sgn > 0) >= np.sum(sgn < 0) else -1.0
        g = polarity * inner
        k = np.clip(np.argmax(g, axis=0), 1, g.shape[0] - 2)
        cols = np.arange(nx)
        a, b, c = g[k - 1, cols], g[k, cols], g[k + 1, cols]
        den = a - 2.0 * b + c
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(den < 0, 0.5 * (a - c) / den, 0.0)
        rows = k + margin_px + np.clip(off, -0.5, 0.5)
        keep = np.ones(nx, bool)
        for _ in range(6):
            p = np.polyfit(xs[keep], rows[keep], 1)
            res = rows - np.polyval(p, xs)
            s = max(3.0 * _robust_sd(res[keep]), 0.5)
            new = np.abs(res) <= s
            if np.array_equal(new, keep) or new.sum() < 3:
                break
            keep = new
        slope, row0 = float(p[0]), float(p[1])
        res = rows - np.polyval(p, xs)
        resid_rms = float(np.sqrt(np.mean(res[keep] ** 2)))
        n_k = int(keep.sum())
        if n_k >= 3:
            xm = xs[keep].mean()
            sxx = float(np.sum((xs[keep] - xm) ** 2))
            s2 = float(np.sum(res[keep] ** 2)) / max(n_k - 2, 1)
            var_b = s2 / sxx
            var_a = s2 * (1.0 / n_k + xm**2 / sxx)
            cov_ab = -xm * var_b
            cov = np.array([[var_b, cov_ab], [cov_ab, var_a]])
        else:
            cov = np.full((2, 2), np.nan)
        source = "detected"
    line = row0 + slope * xs
    rows_err = np.sqrt(np.maximum(cov[1, 1] + xs**2 * cov[0, 0] + 2 * xs * cov[0, 1], 0.0))
    # ---- is there an edge at all? the step across the line vs the pixel noise
    yy = np.arange(ny)[:, None]
    d = yy - line[None, :]  # > 0 below the line (larger rows)
    below = (d >= 3) & (d <= 8)
    above = (d <= -3) & (d >= -8)
    col_below = np.where(below, ref, np.nan)
    col_above = np.where(above, ref, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        step_col = np.nanmean(col_above, axis=0) - np.nanmean(col_below, axis=0)
    step = float(np.nanmedian(step_col)) if np.any(np.isfinite(step_col)) else 0.0
    snr = abs(step) / noise if noise > 0 else (np.inf if step != 0 else 0.0)
    agree = (
        float(np.mean(np.sign(step_col) == np.sign(step)) if step != 0 else 0.0)
        if source == "given"
        else float(keep.mean())
    )
    fix = (
        "check that the movie is a side view with the electrode edge in the field and in "
        "focus in the first frames; or give the edge row with [analysis.side_view] edge_row "
        "(pixel row of the electrode surface)"
    )
    inside = line.min() >= margin_px and line.max() <= ny - 1 - margin_px
    if not inside:
        raise InputError(
            src,
            f"the electrode edge line (rows {line.min():.1f}–{line.max():.1f}) runs out of "
            f"the {ny}-row field",
            fix,
        )
    if np.isnan(snr) or snr < min_snr or agree < 0.6:
        what = (
            f"the step across it is {snr:.1f}× the pixel noise (≥ {min_snr:g} needed)"
            if snr < min_snr
            else f"only {100 * agree:.0f} % of the columns agree with one straight edge"
        )
        raise InputError(src, f"no electrode edge is visible: {what}", fix)
    # ---- blur of the edge (optical resolution): a Gaussian-blurred step of height S has
    # a peak gradient S/(√(2π)σ)
    gx = np.abs(np.gradient(ndimage.gaussian_filter1d(ref, 2.0, axis=1, mode="nearest"), axis=0))
    near = np.abs(d) <= 2.0
    gpk = np.max(np.where(near, gx, 0.0), axis=0)
    gmed = float(np.median(gpk))
    blur_px = abs(step) / (math.sqrt(2 * math.pi) * gmed) if gmed > 0 else float("nan")
    # ---- growth side
    if growth_direction != "auto":
        direction, dsource = growth_direction, "given"
    else:
        n = movie.sizes["t"]
        last = np.asarray(
            movie.isel(t=slice(max(n - n_frames, 0), n)).values, dtype=np.float64
        ).mean(axis=0)
        change = np.abs(last - ref)
        up_band = (d < -2) & (d >= -ny / 3)
        down_band = (d > 2) & (d <= ny / 3)
        c_up = float(change[up_band].mean()) if up_band.any() else 0.0
        c_down = float(change[down_band].mean()) if down_band.any() else 0.0
        if max(c_up, c_down) < 3.0 * noise1:
            direction = "up" if line.mean() > (ny - 1) / 2 else "down"
            dsource = "no change seen: larger free side"
        else:
            direction = "up" if c_up >= c_down else "down"
            dsource = "movie change"
    step_growth = step if direction == "up" else -step
    return {
        "row0_px": row0,
        "slope_px_per_px": slope,
        "tilt_deg": float(math.degrees(math.atan(slope * dy / dx))),
        "rows_px": line,
        "rows_err_px": rows_err,
        "row_err_px": float(np.mean(rows_err)),
        "residual_rms_px": resid_rms,
        "step_counts": float(step_growth),
        "noise_counts": float(noise),
        "snr": float(min(snr, 1e9)),
        "growth_direction": direction,
        "direction_source": dsource,
        "blur_sigma_px": float(blur_px),
        "n_columns_used": int(keep.sum()),
        "n_columns_dropped": int(nx - keep.sum()),
        "source": source,
        "pixel_size_um": (dy, dx),
    }


# --------------------------------------------------------------------------- front


def _sample_geometry(edge: dict, ny: int, nx: int, n_inside: int = 3):
    """Row indices (K, nx) walking away from the edge, and their distance d (px)."""
    line = np.asarray(edge["rows_px"], dtype=float)
    s = -1 if edge["growth_direction"] == "up" else 1
    base = np.rint(line).astype(int)
    room = int(np.min(base)) if s < 0 else int(ny - 1 - np.max(base))
    ks = np.arange(-n_inside, room + 1)
    rows = base[None, :] + s * ks[:, None]
    rows = np.clip(rows, 0, ny - 1)
    dist = s * (rows - line[None, :])
    return rows, dist, ks


def _walk(prof: np.ndarray, dist: np.ndarray, thr: float, sd: float, gap: int, k0: int):
    """Front by the gap rule + linear half-level crossing. prof: (t, K, nx)."""
    above = prof > thr
    kk = above.shape[1]
    below = ~above
    # all_below[k]: samples k..k+gap-1 all below (beyond the last sample counts as below)
    pad = np.concatenate([below, np.ones((below.shape[0], gap, below.shape[2]), bool)], axis=1)
    cs = np.concatenate([np.zeros((pad.shape[0], 1, pad.shape[2])), np.cumsum(pad, axis=1)], axis=1)
    win = cs[:, gap : gap + kk] - cs[:, :kk]
    all_below = win >= gap
    all_below[:, :k0] = False
    has = all_below.any(axis=1)
    front = np.argmax(all_below, axis=1)  # first sample of the clear run
    j = front - 1  # last deposit sample
    t_idx, x_idx = np.indices(front.shape)
    # the front leaves the field: no clear run of gap samples before the last sample
    out_field = ~has | (front > kk - gap)
    none = j < k0  # no deposit pixel at all (past the edge)
    jj = np.clip(j, 0, kk - 2)
    pj = prof[t_idx, jj, x_idx]
    pn = prof[t_idx, jj + 1, x_idx]
    dj = dist[jj, x_idx]
    dn = dist[jj + 1, x_idx]
    delta = pj - pn
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((pj - thr) / delta, 0.0, 1.0)
        err = sd * np.sqrt((1 - frac) ** 2 + frac**2) / np.abs(delta)
    h = dj + frac * (dn - dj)
    h = np.where(none, 0.0, h)
    err = np.where(none, np.nan, err)
    h = np.where(out_field, np.nan, np.maximum(h, 0.0))
    err = np.where(out_field, np.nan, np.minimum(err, 1.0))
    return h, err


def _mode_level(v: np.ndarray, sd: float) -> float:
    """The most common value (histogram peak, bins of σ, smoothed over ±2σ): a thin
    band's plateau, unbiased by the blurred borders that spread evenly around it."""
    lo, hi = float(np.min(v)), float(np.max(v))
    if hi - lo <= 2 * sd:
        return float(np.median(v))
    edges = np.arange(lo, hi + sd, sd)
    h, _ = np.histogram(v, edges)
    h = ndimage.gaussian_filter1d(h.astype(float), 2.0, mode="constant")
    i = int(np.argmax(h))
    near = np.abs(v - 0.5 * (edges[i] + edges[i + 1])) <= 3 * sd
    return float(np.median(v[near]))


def _column_level(full: np.ndarray, core: np.ndarray) -> float:
    n = core.sum(axis=1)
    use = n >= 2
    if not use.any():
        return float(np.median(full[core]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_col = np.nanmedian(np.where(core, full, np.nan), axis=1)
    return float(np.median(per_col[use]))


def _levels(
    prof: np.ndarray,
    dist: np.ndarray,
    sd: float,
    blur_px: float,
    gap: int,
    k0: int,
    edge_sigma_px: float | None = None,
) -> dict:
    """Deposit sign and contrast levels from late-frame profiles (t, K, nx)."""
    from skimage.filters import threshold_otsu

    grow = dist[None, :, :] > 1.0
    vals = prof[np.broadcast_to(grow, prof.shape)]
    strong = np.abs(vals) > 5.0 * sd
    if strong.sum() < max(2 * prof.shape[2], 20):
        return {"sign": 1.0, "n_bands": 0, "reason": "no deposit contrast above 5σ of the noise"}
    sign = 1.0 if vals[strong].sum() >= 0 else -1.0
    dep_mask = np.broadcast_to(grow, prof.shape) & (sign * prof > 5.0 * sd)
    # levels from the layer's interior: 2 samples off its blurred borders along the column
    core = ndimage.binary_erosion(dep_mask, structure=np.ones((1, 5, 1), bool))
    if core.sum() >= max(2 * prof.shape[2], 20):
        dep_mask = core
    v = sign * prof[dep_mask]
    one = _column_level(sign * prof, dep_mask)
    out = {"sign": sign, "n_bands": 1, "inner": one, "outer": one, "method": "histogram"}
    fit = _aligned_fit(sign * prof, dist, sd, blur_px, one, gap, k0)
    if fit is not None:
        two = fit["two"]
        o, i, w = two["outer"], two["inner"], two["width_px"]
        ratio = fit["rss2"] / fit["rss1"] if fit["rss1"] > 0 else 1.0
        is_two = 0.05 * i < o <= 0.85 * i and w >= 1.5 and ratio < 0.3 and i - o >= 6.0 * sd
        out.update(method="front-aligned fit", fit=fit, rss_ratio=float(ratio))
        if is_two:
            out.update(n_bands=2, inner=float(i), outer=float(o))
        else:
            lvl = fit["one"]["level"]
            out.update(inner=float(lvl), outer=float(lvl))
            # a front more diffuse than the optics blur (the electrode edge): an outer band
            # too thin to pin down, or a graded edge
            s_front = fit["one"]["sigma_px"]
            out["front_sigma_px"] = float(s_front)
            out["band_hint"] = bool(edge_sigma_px and s_front > 1.1 * edge_sigma_px)
        return out
    if v.size >= 20 and np.ptp(v) > 0:
        thr = float(threshold_otsu(v))
        full = sign * prof
        dep_full = np.broadcast_to(grow, prof.shape) & (full > 5.0 * sd)
        st = np.ones((1, 3, 1), bool)  # a band's interior: 1 sample off its borders
        lo_core = ndimage.binary_erosion(dep_full & (full < thr), structure=st)
        hi_core = ndimage.binary_erosion(dep_full & (full >= thr), structure=st)
        if lo_core.sum() >= 20 and hi_core.sum() >= 20:
            # each level: the median over columns of the column's interior median (so the
            # long flanks of a few narrow whiskers do not outweigh the band)
            lo, hi = _mode_level(full[lo_core], sd), _column_level(full, hi_core)
            # a capping band is a plateau of its own in most columns: the longest run of
            # samples between 5σ and the split level is ≥ 2 px longer than the blurred
            # single step from the split level down to 5σ would make it (blurred borders
            # and the flanks of a few narrow whiskers are not)
            from scipy.stats import norm

            hi_frac = min(max(thr / hi, 1e-3), 0.999)
            lo_frac = min(max(5.0 * sd / hi, 1e-3), hi_frac)
            step_px = blur_px * float(norm.ppf(hi_frac) - norm.ppf(lo_frac))
            b = dep_full & (full < thr)
            c = np.cumsum(b, axis=1)
            run = c - np.maximum.accumulate(np.where(~b, c, 0), axis=1)
            frac_cols = float(np.mean(run.max(axis=1) >= step_px + 2.0))
            out["band_hint"] = bool(np.mean(run.max(axis=1) >= step_px + 0.75) >= 0.5)
            separated = (hi - lo) >= max(6.0 * sd, 0.25 * hi)
            d3 = np.broadcast_to(dist[None], prof.shape)
            outside = float(np.median(d3[lo_core])) > float(np.median(d3[hi_core]))
            out["capping_column_fraction"] = frac_cols
            if frac_cols >= 0.5 and separated and outside:
                out.update(n_bands=2, inner=hi, outer=lo)
    return out


def _edge_blur_fit(ref: np.ndarray, line: np.ndarray, smooth_px: float) -> float:
    """σ (px) of the electrode edge in the reference, smoothed like the deposit signal.

    The reference is sampled across the fitted edge line (±6 px, every 0.5 px) in every
    column, averaged over columns and fitted with a + b·Φ((d − d0)/σ).
    """
    from scipy.optimize import least_squares
    from scipy.special import ndtr

    img = ndimage.gaussian_filter1d(ref, smooth_px, axis=0, mode="nearest") if smooth_px else ref
    ny, nx = img.shape
    d = np.arange(-6.0, 6.25, 0.5)
    pos = np.clip(line[None, :] + d[:, None], 0, ny - 1.001)
    i0 = np.floor(pos).astype(int)
    fr = pos - i0
    cols = np.arange(nx)[None, :]
    prof = (img[i0, cols] * (1 - fr) + img[i0 + 1, cols] * fr).mean(axis=1)
    r = least_squares(
        lambda q: q[0] + q[1] * ndtr((d - q[2]) / q[3]) - prof,
        [prof[0], prof[-1] - prof[0], 0.0, 1.5],
        bounds=([-np.inf, -np.inf, -3.0, 0.2], [np.inf, np.inf, 3.0, 6.0]),
    )
    return float(r.x[3])


def _electrode_change(diff: np.ndarray, edge: dict, sd: float) -> float:
    """Median |signal| on the electrode side (3–8 px behind the edge) in the late frames,
    in units of the signal's noise: ≫ 1 when the electrode moved (drift, recession)."""
    ny, nx = diff.shape[1:]
    s = -1 if edge["growth_direction"] == "up" else 1
    base = np.rint(np.asarray(edge["rows_px"], float)).astype(int)
    rows = np.clip(base[None, :] - s * np.arange(3, 9)[:, None], 0, ny - 1)
    vals = diff[:, rows, np.arange(nx)[None, :]]
    return float(np.median(np.abs(np.median(vals, axis=1))) / sd) if sd > 0 else 0.0


def _aligned_fit(
    prof: np.ndarray, dist: np.ndarray, sd: float, blur_px: float, hi: float, gap: int, k0: int
):
    """Band levels from the mean profile behind the front (front-aligned, whiskers left out).

    Every late-frame column is aligned on its outer edge found at a low level (15 % of
    the inner level), the columns are averaged (noise and roughness drop out) and one
    blurred step, L2·Φ((u − u_f)/σ), and two blurred steps (an outer band of level L1
    and width w in front of L2) are fitted by least squares. Returns None when the
    layer is too thin (< 10 px) for this.
    """
    from scipy.optimize import least_squares
    from scipy.special import ndtr

    # align on a smoother copy (σ 1.5 px along y only: fronts may change from one column
    # to the next): a noisy alignment would select columns whose noise sits high just
    # inside the edge and bias the levels
    smooth = ndimage.gaussian_filter1d(prof, 1.5, axis=1, mode="nearest")
    thr0 = max(0.15 * hi, 5.0 * sd / 2.5)
    h0, _ = _walk(smooth, dist, thr0, sd, gap, k0)
    ok = np.isfinite(h0) & (h0 >= 10.0)
    if ok.sum() < 20:
        return None
    med = float(np.median(h0[ok]))
    mad = 1.4826 * float(np.median(np.abs(h0[ok] - med)))
    ok &= h0 <= med + max(3.0 * mad, 2.0)  # whisker tips are outliers above the front
    if ok.sum() < 20:
        return None
    umax = min(20.0, 0.7 * med)  # ≥ 7 px (med ≥ 10 px)
    u = np.arange(-5.0, umax + 0.25, 0.5)
    # the position d = h0 − u in sample index: d = ks + offset per column (uniform step)
    off = dist[k0] - 0.0  # dist at k0 per column (ks[k0] = 0)
    tt, xx = np.nonzero(ok)
    pos = h0[tt, xx][:, None] - u[None, :] - off[xx][:, None] + k0
    i0 = np.clip(np.floor(pos).astype(int), 0, prof.shape[1] - 2)
    fr = np.clip(pos - i0, 0.0, 1.0)
    a = prof[tt[:, None], i0, xx[:, None]]
    b = prof[tt[:, None], i0 + 1, xx[:, None]]
    samples = a + fr * (b - a)
    mean_p = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0]) + 1e-9 * max(hi, 1.0)

    def one(q):
        uf, sig, l2 = q
        return l2 * ndtr((u - uf) / sig)

    def two(q):
        uf, sig, l1, w, sig2, l2 = q
        return l1 * ndtr((u - uf) / sig) + (l2 - l1) * ndtr((u - uf - w) / sig2)

    s0 = min(max(blur_px, 0.5), 9.0)
    top = 10 * hi + 1
    lb1, ub1 = [-5.0, 0.3, 0.0], [umax, 10.0, top]
    r1 = least_squares(
        lambda q: (one(q) - mean_p) / se,
        np.clip([1.0, s0, hi], lb1, ub1),
        bounds=(lb1, ub1),
    )
    lb2 = [-5.0, 0.3, 0.0, 0.0, 0.3, 0.0]
    ub2 = [umax, 10.0, top, umax, 10.0, top]
    best2 = None
    for w0 in (2.0, 4.0, 8.0):
        if w0 >= umax:
            continue
        r2 = least_squares(
            lambda q: (two(q) - mean_p) / se,
            np.clip([1.0, s0, 0.5 * hi, w0, s0, hi], lb2, ub2),
            bounds=(lb2, ub2),
        )
        if best2 is None or r2.cost < best2.cost:
            best2 = r2
    if best2 is None:
        return None
    uf, sig, l1, w, sig2, l2 = best2.x
    return {
        "rss1": float(2 * r1.cost),
        "rss2": float(2 * best2.cost),
        "n_points": int(u.size),
        "one": {"u_f": float(r1.x[0]), "sigma_px": float(r1.x[1]), "level": float(r1.x[2])},
        "two": {
            "u_f": float(uf),
            "sigma_px": float(sig),
            "outer": float(l1),
            "width_px": float(w),
            "sigma_inner_px": float(sig2),
            "inner": float(l2),
        },
        "n_columns": int(ok.sum()),
    }


def _profiles_block(block, *, ref, rows, dist, sd, sign, thr_front, thr_dense, gap, k0, smooth):
    b = sign * (np.asarray(block, dtype=np.float64) - ref[None])
    if smooth > 0:
        b = ndimage.gaussian_filter1d(b, smooth, axis=1, mode="nearest")
    cols = np.arange(rows.shape[1])[None, :]
    prof = b[:, rows, cols]
    h, herr = _walk(prof, dist, thr_front, sd, gap, k0)
    if thr_dense is not None:
        hd, _ = _walk(prof, dist, thr_dense, sd, gap, k0)
    else:
        hd = np.full_like(h, np.nan)
    return np.stack([h, herr, hd], axis=1)


def front_profiles(
    movie: xr.DataArray,
    edge: dict,
    *,
    n_ref_frames: int = 3,
    n_level_frames: int = 3,
    smooth_px: float = 1.0,
    gap_px: int = 3,
) -> xr.Dataset:
    """Growth-front height along the electrode in every frame (per column, sub-pixel).

    See the module docstring (step 2) for the method. The reference (first
    ``n_ref_frames``) and the last ``n_level_frames`` frames are computed to set the
    deposit contrast levels; the per-frame profiles stay lazy for a dask-backed movie
    (one task per chunk of frames).

    Parameters
    ----------
    movie : xarray.DataArray
        Side-view movie, dims ``("t", "y", "x")``, ``t`` in s, ``y``/``x`` in µm.
    edge : dict
        :func:`electrode_edge` of the same movie.
    n_ref_frames, n_level_frames : int
        Frames averaged for the reference; late frames used to find the contrast levels.
    smooth_px : float
        Gaussian σ along ``y`` (pixels) applied to the deposit signal (0 = none).
    gap_px : int
        Pixels below the level that end the layer (gaps shorter than this, e.g. pores,
        are bridged).

    Returns
    -------
    xarray.Dataset
        dims ``("t", "x")``: ``h_um`` (front height above the edge, µm, perpendicular to
        it; 0 where no deposit; NaN where the front leaves the field), ``h_err_um`` (1σ
        from the noise at the crossing, not including the edge), ``dense_um`` (thickness
        of the inner band when two bands exist, else NaN), ``capping_um`` (``h_um −
        dense_um``). ``attrs``: ``n_bands`` (0 = no deposit seen, 1, 2), ``level_inner``,
        ``level_outer`` (deposit contrast, counts), ``noise_counts`` (σ of the deposit
        signal), ``contrast_to_noise`` (outer level / σ), ``edge_err_um`` (1σ of the edge
        line, mean), ``um_per_px`` (perpendicular), ``min_resolved_um`` (3 × the blur σ
        of the edge and the smoothing: thinner layers lose contrast and are unresolved),
        ``reason`` (when ``n_bands`` is 0).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from scipy import ndimage
    >>> t = np.arange(6.0) * 10; y = np.arange(50.0)[:, None]; x = np.arange(40)
    >>> h = np.array([0, 0, 4, 8, 12, 16.0])                     # px above the edge at row 40
    >>> f = [np.where(y < 40, 2000.0, 500.0) - np.where((y < 40) & (y >= 40 - hk), 1000.0, 0)
    ...      * np.ones((1, 40)) for hk in h]
    >>> f = ndimage.gaussian_filter(np.array(f), (0, 1, 0))
    >>> m = xr.DataArray(f, dims=("t", "y", "x"), coords={"t": t, "y": y[:, 0], "x": x * 1.0})
    >>> e = electrode_edge(m, n_frames=2, growth_direction="up", min_snr=0)
    >>> p = front_profiles(m, e, n_ref_frames=2)
    >>> np.round(p["h_um"].mean("x").values, 1).tolist()
    [0.0, 0.0, 4.0, 8.0, 12.0, 16.0]
    """
    t = _check_movie(movie)
    dy, dx = _pixel_size_um(movie)
    n_ref_frames = _int_arg(n_ref_frames, "n_ref_frames", 1)
    n_level_frames = _int_arg(n_level_frames, "n_level_frames", 1)
    gap = _int_arg(gap_px, "gap_px", 1)
    ny, nx = movie.sizes["y"], movie.sizes["x"]
    if len(edge.get("rows_px", ())) != nx:
        raise InputError(
            _source(movie), "the edge was found on a movie of another width", "rerun electrode_edge"
        )
    frames = _reference(movie, n_ref_frames)
    ref = frames.mean(axis=0)
    rows, dist, ks = _sample_geometry(edge, ny, nx)
    k0 = int(np.searchsorted(ks, 0))
    n = t.size
    late = np.asarray(movie.isel(t=slice(max(n - n_level_frames, 0), n)).values, np.float64)
    diff = late - ref[None]
    if smooth_px > 0:
        diff = ndimage.gaussian_filter1d(diff, float(smooth_px), axis=1, mode="nearest")
    # noise of the (smoothed) deposit signal: second differences along x of late frames
    sd = _pixel_noise(diff)
    if not np.isfinite(sd) or sd <= 0:
        sd = max(float(np.std(diff)) * 1e-3, 1e-12)
    cols = np.arange(nx)[None, :]
    blur_px = math.hypot(edge.get("blur_sigma_px", 1.0), float(smooth_px))
    edge_sigma = _edge_blur_fit(ref, np.asarray(edge["rows_px"], float), float(smooth_px))
    lev = _levels(
        diff[:, rows, cols],
        dist,
        sd,
        blur_px if np.isfinite(blur_px) else 1.5,
        gap,
        k0,
        edge_sigma_px=edge_sigma,
    )
    slope_um = edge["slope_px_per_px"] * dy / dx
    um_per_px = dy / math.sqrt(1.0 + slope_um**2)
    attrs = {
        "n_bands": lev["n_bands"],
        "electrode_change": _electrode_change(diff, edge, sd),
        "level_inner": lev.get("inner"),
        "level_outer": lev.get("outer"),
        "noise_counts": float(sd),
        "contrast_to_noise": None if lev["n_bands"] == 0 else float(lev["outer"] / sd),
        "band_hint": bool(lev.get("band_hint", False)),
        "edge_sigma_px": edge_sigma,
        "front_sigma_px": lev.get("front_sigma_px"),
        "level_method": lev.get("method"),
        "edge_err_um": float(edge["row_err_px"] * um_per_px),
        "min_resolved_um": float(
            3.0 * math.hypot(edge.get("blur_sigma_px", 1.0), float(smooth_px)) * um_per_px
        ),
        "um_per_px": float(um_per_px),
        "growth_direction": edge["growth_direction"],
        "gap_px": gap,
        "smooth_px": float(smooth_px),
    }
    coords = {"t": movie["t"].values, "x": movie["x"].values}
    if lev["n_bands"] == 0:
        attrs["reason"] = lev["reason"]
        nan = np.full((n, nx), np.nan)
        ds = xr.Dataset(
            {k: (("t", "x"), nan.copy()) for k in ("h_um", "h_err_um", "dense_um", "capping_um")},
            coords=coords,
        )
        ds.attrs = attrs
        return ds
    thr_front = 0.5 * lev["outer"]
    thr_dense = 0.5 * (lev["inner"] + lev["outer"]) if lev["n_bands"] == 2 else None
    kw = dict(
        ref=ref,
        rows=rows,
        dist=dist,
        sd=sd,
        sign=lev["sign"],
        thr_front=thr_front,
        thr_dense=thr_dense,
        gap=gap,
        k0=k0,
        smooth=float(smooth_px),
    )
    data = movie.data
    if _is_dask(data):
        data = data.rechunk({1: -1, 2: -1})
        res = data.map_blocks(
            _profiles_block, chunks=(data.chunks[0], (3,), (nx,)), dtype=np.float64, **kw
        )
    else:
        res = _profiles_block(np.asarray(data), **kw)
    h = res[:, 0] * um_per_px
    ds = xr.Dataset(
        {
            "h_um": (("t", "x"), h),
            "h_err_um": (("t", "x"), res[:, 1] * um_per_px),
            "dense_um": (("t", "x"), res[:, 2] * um_per_px),
            "capping_um": (("t", "x"), h - res[:, 2] * um_per_px),
        },
        coords=coords,
    )
    ds.attrs = attrs
    return ds


# --------------------------------------------------------------------------- metrics


def layer_metrics(profiles: xr.Dataset, *, systematic_px: float = 0.25) -> pd.DataFrame:
    """Mean, max and roughness of the front height per frame, with 1σ uncertainties.

    Parameters
    ----------
    profiles : xarray.Dataset
        :func:`front_profiles` output (computed here if dask-backed: one (t, x) table).
    systematic_px : float
        Systematic uncertainty (1σ, pixels) of the mean and max heights from the contrast
        level that sets the half-maximum: 0.25 px is the 90th percentile of the mean
        height's error per frame measured on the simulator
        (validation/validate_side_view.py).

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``t_s``, ``mean_um`` (mean front height), ``mean_err_um``
        (noise at the crossings / √n, the edge line's error and ``systematic_px``, in
        quadrature),
        ``max_um``, ``max_err_um``, ``roughness_um`` (sd over columns with the noise
        variance removed), ``roughness_err_um``, ``capping_um`` / ``dense_um`` (means;
        NaN with one band), ``n_columns`` (columns with a front), ``n_columns_dropped``
        (front out of the field).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> h = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    >>> ds = xr.Dataset({"h_um": (("t", "x"), h), "h_err_um": (("t", "x"), h * 0 + 0.1),
    ...                  "dense_um": (("t", "x"), h * np.nan),
    ...                  "capping_um": (("t", "x"), h * np.nan)},
    ...                 coords={"t": [0.0, 5.0], "x": [0.0, 1.0, 2.0]}, attrs={"edge_err_um": 0.0})
    >>> layer_metrics(ds)[["mean_um", "max_um"]].values.tolist()
    [[2.0, 3.0], [4.0, 6.0]]
    """
    ds = (
        profiles.compute()
        if any(_is_dask(v.data) for v in profiles.data_vars.values())
        else profiles
    )
    h = np.asarray(ds["h_um"].values, float)
    e = np.asarray(ds["h_err_um"].values, float)
    e = np.where(np.isfinite(e), e, 0.0)
    ok = np.isfinite(h)
    n = ok.sum(axis=1)
    edge_err = float(ds.attrs.get("edge_err_um", 0.0) or 0.0)
    sys_um = float(systematic_px) * float(ds.attrs.get("um_per_px", 1.0) or 1.0)
    edge_err = math.hypot(edge_err, sys_um)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(h, axis=1)
        var_noise = np.where(ok, e**2, 0).sum(axis=1) / n
        mean_err = np.sqrt(var_noise / n + edge_err**2)
        hz = np.where(ok, h, -np.inf)
        imax = np.argmax(hz, axis=1)
        mx = np.where(n > 0, hz[np.arange(h.shape[0]), imax], np.nan)
        max_err = np.sqrt(e[np.arange(h.shape[0]), imax] ** 2 + edge_err**2)
        sd = np.nanstd(h, axis=1, ddof=1)
        rough = np.sqrt(np.maximum(sd**2 - var_noise, 0.0))
        rough_err = np.sqrt(sd**2 / (2.0 * np.maximum(n - 1, 1)) + var_noise / np.maximum(n, 1))
        cap = np.nanmean(np.asarray(ds["capping_um"].values, float), axis=1)
        dense = np.nanmean(np.asarray(ds["dense_um"].values, float), axis=1)
    empty = n == 0
    return pd.DataFrame(
        {
            "t_s": np.asarray(ds["t"].values, float),
            "mean_um": np.where(empty, np.nan, mean),
            "mean_err_um": np.where(empty, np.nan, mean_err),
            "max_um": mx,
            "max_err_um": np.where(empty, np.nan, max_err),
            "roughness_um": np.where(n > 1, rough, np.nan),
            "roughness_err_um": np.where(n > 1, rough_err, np.nan),
            "capping_um": cap,
            "dense_um": dense,
            "n_columns": n.astype(int),
            "n_columns_dropped": (h.shape[1] - n).astype(int),
        }
    )


def dense_thickness_um(charge_C, *, area_cm2: float, z: int = 1, molar_volume_cm3_mol=None):
    """Thickness of a dense Li layer holding a charge: h = |Q|·V_M/(zFA), µm.

    Examples
    --------
    >>> round(float(dense_thickness_um(FARADAY_C_MOL * 1e-4, area_cm2=1.0)), 3)  # 0.1 mmol
    13.0
    """
    vm = LI_MOLAR_VOLUME_CM3_MOL if molar_volume_cm3_mol is None else float(molar_volume_cm3_mol)
    q = np.abs(np.asarray(charge_C, dtype=float))
    return q * vm / (z * FARADAY_C_MOL * float(area_cm2)) * 1e4


def layer_porosity(
    thickness_um,
    charge_C,
    *,
    area_cm2: float,
    thickness_err_um=None,
    area_rel_err: float = 0.0,
    min_thickness_um: float = 0.0,
    z: int = 1,
    molar_volume_cm3_mol: float = LI_MOLAR_VOLUME_CM3_MOL,
) -> pd.DataFrame:
    """Porosity of the grown layer from its thickness and the charge: 1 − h_dense/h.

    h_dense = |Q|·V_M/(zFA) is the thickness the plated charge would give as dense Li.

    Parameters
    ----------
    thickness_um : array_like
        Measured mean layer thickness, µm (one value per frame).
    charge_C : array_like
        Plated charge up to each frame, C (sign ignored).
    area_cm2 : float
        Electrode area, cm².
    thickness_err_um : array_like, optional
        1σ of the thickness, µm.
    area_rel_err : float
        Relative 1σ of the area (and of the charge), propagated.
    min_thickness_um : float
        Thinner layers are unresolved: porosity null.
    z : int
        Electrons per ion (Li: 1).
    molar_volume_cm3_mol : float
        Molar volume, cm³/mol (Li: 13.0).

    Returns
    -------
    pandas.DataFrame
        ``h_dense_um``, ``porosity``, ``porosity_err`` (1σ), ``reason`` (None, or why the
        porosity is null: unresolved layer, no charge, or a layer thinner than the
        dense-Li thickness beyond its uncertainty).

    Examples
    --------
    >>> q = FARADAY_C_MOL * 1e-4 * 0.5                # 13 µm·0.5 of dense Li on 1 cm²
    >>> layer_porosity([13.0], [q], area_cm2=1.0)["porosity"].round(3).tolist()
    [0.5]
    """
    area = float(area_cm2)
    if not np.isfinite(area) or area <= 0:
        raise InputError(
            None, f"area_cm2 must be > 0, got {area_cm2!r}", "give [electrode] area_cm2"
        )
    h = np.asarray(thickness_um, dtype=float)
    q = np.abs(np.asarray(charge_C, dtype=float))
    he = np.zeros_like(h) if thickness_err_um is None else np.asarray(thickness_err_um, float)
    hd = dense_thickness_um(q, area_cm2=area, z=z, molar_volume_cm3_mol=molar_volume_cm3_mol)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = hd / h
        phi = 1.0 - ratio
        err = ratio * np.sqrt((np.nan_to_num(he) / h) ** 2 + area_rel_err**2)
    reason = np.full(h.shape, None, dtype=object)
    bad_h = ~np.isfinite(h) | (h <= min_thickness_um)
    reason[bad_h] = "layer thinner than the resolution (or not measured)"
    no_q = ~bad_h & ~(q > 0)
    reason[no_q] = "no plating charge yet"
    with np.errstate(invalid="ignore", over="ignore"):
        neg = ~bad_h & ~no_q & (phi < -2.0 * np.nan_to_num(err, nan=0.0, posinf=0.0))
    reason[neg] = (
        "the layer is thinner than the dense-Li thickness the charge implies: charge went "
        "elsewhere (SEI, deposits out of view) or the area is wrong"
    )
    null = bad_h | no_q | neg
    return pd.DataFrame(
        {
            "h_dense_um": hd,
            "porosity": np.where(null, np.nan, phi),
            "porosity_err": np.where(null, np.nan, err),
            "reason": reason,
        }
    )


# --------------------------------------------------------------------------- transition


def _two_segment_rss(t, y, w, tau):
    a = np.column_stack([np.ones_like(t), np.minimum(t - tau, 0.0), np.maximum(t - tau, 0.0)])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)
    r = (y - a @ coef) * sw
    return float(r @ r), coef


def growth_transition(
    t_s,
    mean_um,
    max_um,
    *,
    err_um=None,
    min_rate_ratio: float = 2.0,
    p_value: float = 1e-3,
    min_points: int = 3,
) -> dict:
    """When the front turns from mossy (compact) to whisker (fast tips) growth.

    A continuous two-segment line is fitted to the tip excess e(t) = h_max − h_mean
    (mossy growth keeps it small and growing like the layer; whiskers make it run
    away). The break τ minimising the (weighted) residual is searched on the frame times
    and refined on a fine grid between them.

    Parameters
    ----------
    t_s, mean_um, max_um : array_like
        Frame times (s), mean and max front heights (µm); NaN rows are dropped.
    err_um : array_like, optional
        1σ of the excess per frame (weights); uniform otherwise.
    min_rate_ratio : float
        The excess must grow this many times faster after τ than before (and than the
        mean height after τ) for a transition.
    p_value : float
        Significance the two-segment fit must reach over one straight line (F test).
    min_points : int
        Points required on each side of τ.

    Returns
    -------
    dict
        ``t_transition_s``, ``t_transition_err_s`` (1σ), ``t_transition_ci95_s``
        ([lo, hi]), ``excess_rate_before_um_s``, ``excess_rate_after_um_s``,
        ``mean_rate_after_um_s``, ``max_rate_after_um_s``, ``rate_ratio``, ``p_value``,
        ``n_points``, ``n_dropped``; the time keys null with ``reason`` when there is
        no transition.

    Examples
    --------
    >>> t = np.arange(40.0) * 10
    >>> mean = 0.02 * t
    >>> mx = 1.2 * mean + np.where(t > 200, 0.1 * (t - 200), 0.0)
    >>> r = growth_transition(t, mean, mx + np.random.default_rng(0).normal(0, 0.05, 40))
    >>> abs(r["t_transition_s"] - 200) < 10
    True
    """
    from scipy import stats

    t = np.asarray(t_s, dtype=float)
    mean = np.asarray(mean_um, dtype=float)
    mx = np.asarray(max_um, dtype=float)
    ok = np.isfinite(t) & np.isfinite(mean) & np.isfinite(mx)
    w = np.ones_like(t)
    if err_um is not None:
        e = np.asarray(err_um, dtype=float)
        ok &= np.isfinite(e)
        w = 1.0 / np.maximum(np.where(np.isfinite(e), e, 1.0), 1e-9) ** 2
    out: dict = {
        "t_transition_s": None,
        "t_transition_err_s": None,
        "t_transition_ci95_s": None,
        "excess_rate_before_um_s": None,
        "excess_rate_after_um_s": None,
        "mean_rate_after_um_s": None,
        "max_rate_after_um_s": None,
        "rate_ratio": None,
        "p_value": None,
        "n_points": int(ok.sum()),
        "n_dropped": int((~ok).sum()),
    }
    t, mean, mx, w = t[ok], mean[ok], mx[ok], w[ok]
    n = t.size
    if n < 2 * min_points + 2:
        out["reason"] = f"{n} frames with a front; {2 * min_points + 2} needed"
        return out
    w = w / w.mean()
    y = mx - mean
    a1 = np.column_stack([np.ones_like(t), t])
    sw = np.sqrt(w)
    c1, *_ = np.linalg.lstsq(a1 * sw[:, None], y * sw, rcond=None)
    rss1 = float(np.sum(((y - a1 @ c1) * sw) ** 2))
    cand = t[min_points - 1 : n - min_points + 1]
    rss = np.array([_two_segment_rss(t, y, w, tau)[0] for tau in cand])
    i = int(np.argmin(rss))
    lo_t, hi_t = cand[max(i - 1, 0)], cand[min(i + 1, cand.size - 1)]
    fine = np.linspace(lo_t, hi_t, 41)
    rf = np.array([_two_segment_rss(t, y, w, tau)[0] for tau in fine])
    tau = float(fine[int(np.argmin(rf))])
    rss2, coef = _two_segment_rss(t, y, w, tau)
    dof = n - 4
    s2 = max(rss2 / dof, 1e-300)
    f = ((rss1 - rss2) / 2.0) / s2
    p = float(stats.f.sf(f, 2, dof)) if np.isfinite(f) else 0.0
    b1, b2 = float(coef[1]), float(coef[2])
    after = t >= tau
    if after.sum() >= 2:
        mean_rate = float(np.polyfit(t[after], mean[after], 1)[0])
        max_rate = float(np.polyfit(t[after], mx[after], 1)[0])
    else:
        mean_rate = max_rate = float("nan")
    out.update(
        excess_rate_before_um_s=b1,
        excess_rate_after_um_s=b2,
        mean_rate_after_um_s=mean_rate,
        max_rate_after_um_s=max_rate,
        p_value=p,
    )
    denom = max(b1, 0.0)
    ratio = b2 / denom if denom > 0 else (np.inf if b2 > 0 else 0.0)
    out["rate_ratio"] = float(min(ratio, 1e9))
    if p > p_value:
        out["reason"] = f"one straight line fits the tip excess as well (p = {p:.2g})"
        return out
    if not (b2 > 0 and ratio >= min_rate_ratio and max_rate >= min_rate_ratio * max(mean_rate, 0)):
        out["reason"] = (
            "the tips do not break away: the excess max − mean grows "
            f"{ratio:.2g}× faster after the break ({min_rate_ratio:g}× needed)"
        )
        return out
    # profile of the residual: 95 % where RSS(τ) − RSS_min ≤ 3.84 σ² (σ² = RSS_min / dof)
    grid = np.linspace(t[min_points - 1], t[n - min_points], 400)
    rg = np.array([_two_segment_rss(t, y, w, g)[0] for g in grid])
    inside = grid[rg - rss2 <= 3.84 * s2]
    lo, hi = (float(inside.min()), float(inside.max())) if inside.size else (tau, tau)
    dt = float(np.median(np.diff(t)))
    # floor: half a frame interval (the break is seen between frames; measured on the
    # simulator, validation/validate_side_view.py)
    err = max((hi - lo) / (2 * 1.96), 0.5 * dt)
    lo, hi = min(lo, tau - 1.96 * err), max(hi, tau + 1.96 * err)
    out.update(t_transition_s=tau, t_transition_err_s=err, t_transition_ci95_s=[lo, hi])
    return out


# --------------------------------------------------------------------------- all in one


def analyze_side_view(
    movie: xr.DataArray,
    *,
    charge_C=None,
    area_cm2: float | None = None,
    area_rel_err: float = 0.0,
    growth_direction: str = "auto",
    edge_row_px: float | None = None,
    n_ref_frames: int = 3,
    min_snr: float = 8.0,
    gap_px: int = 3,
    min_rate_ratio: float = 2.0,
) -> dict:
    """Everything a side-view movie gives: edge, fronts, layer metrics, porosity, mode change.

    Parameters
    ----------
    movie : xarray.DataArray
        Side-view movie (t, y, x), ``t`` in s, ``y``/``x`` in µm (may be dask-backed).
    charge_C : array_like, optional
        Plated charge at each frame, C (from the synchronised echem record); with
        ``area_cm2`` gives the porosity.
    area_cm2 : float, optional
        Electrode area, cm².
    area_rel_err : float
        Relative 1σ of the area.
    growth_direction, edge_row_px, n_ref_frames, min_snr
        See :func:`electrode_edge`.
    gap_px
        See :func:`front_profiles`.
    min_rate_ratio
        See :func:`growth_transition`.

    Returns
    -------
    dict
        ``edge`` (:func:`electrode_edge` without the arrays), ``profiles``
        (:func:`front_profiles` Dataset), ``frames`` (DataFrame: :func:`layer_metrics`
        plus ``charge_C``, ``h_dense_um``, ``porosity``, ``porosity_err``,
        ``porosity_reason``), ``final`` (last frame's numbers), ``transition``
        (:func:`growth_transition`, plus ``charge_at_transition_C``), ``n_bands`` and
        ``warnings``.

    Raises
    ------
    InputError
        No electrode edge visible (see :func:`electrode_edge`).

    Examples
    --------
    >>> from platescope.simulate import as_movie, make_side_view
    >>> sim = make_side_view(seed=1, field_width_px=96, field_height_px=80, n_whiskers=0)
    >>> r = analyze_side_view(as_movie(sim, mode="trans"), charge_C=sim["charge_at_frames_C"],
    ...                       area_cm2=sim["parameters"]["electrode_area_cm2"])
    >>> abs(r["final"]["mean_thickness_um"] - sim["truth"]["side_view"]["mean_thickness_um"]) < 0.5
    True
    """
    edge = electrode_edge(
        movie,
        n_frames=n_ref_frames,
        growth_direction=growth_direction,
        edge_row_px=edge_row_px,
        min_snr=min_snr,
    )
    prof = front_profiles(movie, edge, n_ref_frames=n_ref_frames, gap_px=gap_px)
    frames = layer_metrics(prof)
    warns: list[dict] = []
    um_px = prof.attrs["um_per_px"]
    if prof.attrs["n_bands"] == 0:
        warns.append(
            {
                "code": "side-view-no-deposit",
                "message": f"no deposit layer is seen beside the electrode edge "
                f"({prof.attrs['reason']}): check that the movie covers the plating and that "
                "the first frames precede it",
            }
        )
    elif prof.attrs["contrast_to_noise"] < 6.0:
        warns.append(
            {
                "code": "side-view-low-contrast",
                "message": f"the deposit contrast is only {prof.attrs['contrast_to_noise']:.1f}× "
                "the noise: front heights are uncertain; average frames or improve the lighting",
            }
        )
    if prof.attrs["n_bands"] == 1 and prof.attrs.get("band_hint"):
        warns.append(
            {
                "code": "side-view-unresolved-band",
                "message": "the growth front is more diffuse than the electrode edge (blur "
                f"σ {prof.attrs.get('front_sigma_px') or float('nan'):.2g} vs "
                f"{prof.attrs.get('edge_sigma_px') or float('nan'):.2g} px): likely a capping "
                "band too thin to resolve; the front is taken at half the main band's contrast "
                "and may be short by up to that band, so the porosity is withheld; image at a "
                "higher magnification to resolve it",
            }
        )
    if prof.attrs["n_bands"] == 2:
        cap_last = frames["capping_um"].iloc[-1]
        blur_um = prof.attrs["min_resolved_um"] / 3.0
        if np.isfinite(cap_last) and cap_last < 3.0 * blur_um:
            warns.append(
                {
                    "code": "side-view-thin-capping",
                    "message": f"the capping band ({cap_last:.2g} µm) is thinner than 3× the "
                    f"blur ({blur_um:.2g} µm): its contrast level is uncertain and the front "
                    "may sit up to ~1 px too far out; a higher magnification resolves it",
                }
            )
    min_h = prof.attrs["min_resolved_um"]
    n_ref = min(int(n_ref_frames), len(frames))
    ref_h = frames["mean_um"].to_numpy()[:n_ref]
    seen = prof.attrs["n_bands"] > 0 and np.isfinite(ref_h).all()
    if seen and n_ref > 1 and np.max(np.abs(ref_h - ref_h.mean())) > 0.5 * min_h:
        warns.append(
            {
                "code": "side-view-growth-in-reference",
                "message": f"the layer already changes within the first {n_ref} frames (the "
                "reference): heights are measured from a reference that holds deposit and "
                "come out too small; start the movie before the current or lower n_ref_frames",
            }
        )
    if prof.attrs.get("electrode_change", 0.0) > 3.0:
        warns.append(
            {
                "code": "side-view-electrode-changed",
                "message": "the electrode side of the edge changes during the movie "
                f"({prof.attrs['electrode_change']:.1f}× the noise): stage drift or the "
                "electrode receding; heights are measured from the edge in the first frames",
            }
        )
    if prof.attrs["n_bands"] > 0 and frames["n_columns_dropped"].max() > 0:
        k = int(frames["n_columns_dropped"].max())
        warns.append(
            {
                "code": "side-view-front-out-of-field",
                "message": f"the front leaves the field of view in up to {k} columns: those "
                "columns are left out of the mean/max (the layer is thicker than the field shows)",
            }
        )
    min_h = prof.attrs["min_resolved_um"]
    frames["resolved"] = frames["mean_um"].to_numpy() > min_h
    # bands inside a layer thinner than the resolution are not measured
    frames.loc[~frames["resolved"], ["capping_um", "dense_um"]] = np.nan
    if charge_C is not None and area_cm2 is not None:
        q = np.asarray(charge_C, dtype=float)
        por = layer_porosity(
            frames["mean_um"].to_numpy(),
            q,
            area_cm2=area_cm2,
            thickness_err_um=frames["mean_err_um"].to_numpy(),
            area_rel_err=area_rel_err,
            min_thickness_um=min_h,
        )
        frames["charge_C"] = q
        frames["h_dense_um"] = por["h_dense_um"].to_numpy()
        frames["porosity"] = por["porosity"].to_numpy()
        frames["porosity_err"] = por["porosity_err"].to_numpy()
        frames["porosity_reason"] = por["reason"].to_numpy()
        if prof.attrs.get("band_hint"):
            # the outer edge is not pinned down: no porosity rather than a wrong one
            frames["porosity"] = np.nan
            frames["porosity_err"] = np.nan
            frames["porosity_reason"] = (
                "the growth front is more diffuse than the optics blur (an outer band too "
                "thin to resolve, or a graded edge): the layer thickness is uncertain by that "
                "band"
            )
    tr = growth_transition(
        frames["t_s"], frames["mean_um"], frames["max_um"], min_rate_ratio=min_rate_ratio
    )
    if tr["t_transition_s"] is not None and "charge_C" in frames:
        tr["charge_at_transition_C"] = float(
            np.interp(tr["t_transition_s"], frames["t_s"], frames["charge_C"])
        )
    last = frames.iloc[-1]

    def num(v):
        return None if v is None or not np.isfinite(v) else float(v)

    final = {
        "t_s": num(last["t_s"]),
        "mean_thickness_um": num(last["mean_um"]),
        "mean_thickness_um_err": num(last["mean_err_um"]),
        "max_thickness_um": num(last["max_um"]),
        "max_thickness_um_err": num(last["max_err_um"]),
        "roughness_um": num(last["roughness_um"]),
        "roughness_um_err": num(last["roughness_err_um"]),
        "capping_thickness_um": num(last["capping_um"]),
        "dense_band_thickness_um": num(last["dense_um"]),
    }
    if prof.attrs["n_bands"] != 2:
        final["capping_thickness_um_reason"] = (
            "one contrast band in the grown layer: no capping layer seen"
            if prof.attrs["n_bands"] == 1
            else "no deposit seen"
        )
    if "porosity" in frames:
        final["porosity"] = num(last["porosity"])
        final["porosity_err"] = num(last["porosity_err"])
        final["h_dense_um"] = num(last["h_dense_um"])
        final["charge_C"] = num(last["charge_C"])
        if final["porosity"] is None:
            final["porosity_reason"] = last["porosity_reason"]
    else:
        final["porosity"] = None
        final["porosity_reason"] = (
            "needs the plated charge (an [echem] record) and [electrode] area_cm2"
        )
    if final["mean_thickness_um"] is None:
        final["mean_thickness_um_reason"] = prof.attrs.get("reason", "no front in the last frame")
    edge_out = {k: v for k, v in edge.items() if k not in ("rows_px", "rows_err_px")}
    edge_out["pixel_size_um"] = list(edge["pixel_size_um"])
    edge_out["row_err_um"] = edge["row_err_px"] * um_px
    return {
        "edge": edge_out,
        "profiles": prof,
        "frames": frames,
        "final": final,
        "transition": tr,
        "n_bands": prof.attrs["n_bands"],
        "warnings": warns,
    }
