"""Per-spot galvanostatic features of many spots at once (one array per batch).

:func:`spot_features_batch` computes what :func:`platescope.echem.spot_features` gives
for one spot, for a whole batch of equally long records held as 2-D arrays
(spots × samples), with array operations over the batch instead of one Python call per
spot: noise (MAD of first differences), Savitzky–Golay smoothing along the sample axis,
the minimum and its recovery test, the contiguous windows within 2/4/8 σ of the
minimum, the quartic vertex fits (one stacked QR least-squares per window depth; the
cubic's roots from the eigenvalues of the same companion matrix :func:`numpy.roots`
builds), E_growth, Q_nuc by cumulative trapezoids and the interpolated current at
t_nuc. The rules are those of :func:`platescope.echem.galvanostatic_features`
(its docstring states the method).

Records the vectorised path does not cover — a non-finite or non-increasing sample, an
isolated single-sample spike (whose removal shortens that record), a smoothing window
other than the batch's, a cubic whose leading coefficient vanishes — go through the
per-spot function unchanged, so every record gets the same answer as it would alone.
The two paths agree to floating-point rounding (QR against SVD least squares, cumulative
against direct sums; relative differences ≲ 1e-9, tested on simulated spots).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from platescope.echem._combinatorial import _SPOT_KEYS
from platescope.echem._galvanostatic import _MIN_FIT_POINTS
from platescope.io._spotbatch import difference_noise_rows, isolated_spike_rows

__all__ = ["BATCH_COLUMNS", "spot_features_batch"]

_C_PER_UAH = 3.6e-3
_DEGREE = 4

#: Columns of :func:`spot_features_batch`'s table, in order (those of ``spot_features``).
BATCH_COLUMNS = (
    *_SPOT_KEYS,
    "area_cm2",
    "current_A",
    "current_density_mA_cm2",
    "duration_s",
    "n_samples",
)
_VALUE_KEYS = BATCH_COLUMNS[1:11]


def _per_spot(t, e, i, j, area, options) -> dict:
    from platescope.echem._combinatorial import spot_features

    df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i})
    return spot_features(
        df,
        current_density_mA_cm2=None if not math.isfinite(j) else j,
        area_cm2=None if not math.isfinite(area) else area,
        **options,
    )


def _as_rows(x, n: int, name: str) -> np.ndarray:
    a = np.full(n, np.nan) if x is None else np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name} must be a scalar or one value per spot ({n})")
    return a


def spot_features_batch(
    time_s,
    potential_V,
    current_A,
    *,
    current_density_mA_cm2=None,
    area_cm2=None,
    smooth_s: float = 0.2,
    growth_fraction: float = 0.2,
    rise_sigma: float = 8.0,
    min_rise_V: float = 1e-3,
) -> pd.DataFrame:
    """Galvanostatic features of a batch of equally long spot records.

    Parameters
    ----------
    time_s, potential_V, current_A : array_like, shape (n_spots, n_samples)
        Time from contact (s), potential (V) and current (A, cathodic negative), one
        row per spot.
    current_density_mA_cm2, area_cm2 : float or array_like of shape (n_spots,), optional
        Per spot, as in :func:`platescope.echem.spot_features` (mA cm⁻², cm²; NaN =
        unknown).
    smooth_s, growth_fraction, rise_sigma, min_rise_V : float
        As in :func:`platescope.echem.spot_features` (s, fraction, noise multiples, V).

    Returns
    -------
    pandas.DataFrame
        One row per spot, columns :data:`BATCH_COLUMNS` — the keys and values
        :func:`~platescope.echem.spot_features` returns (1σ ``*_err``; None where a
        quantity does not exist, with ``reason``). A record the analysis refuses
        (fewer than 20 finite points, time not increasing) raises
        :class:`platescope.InputError` as the per-spot function does.

    Examples
    --------
    >>> t = np.linspace(0, 5, 2001)
    >>> e = 0.05 * (t - 2.0) ** 2 / (1 + 0.5 * np.abs(t - 2.0)) - 0.15
    >>> T = np.stack([t, t]); E = np.stack([e, e + 0.01]); I = np.full_like(T, -1e-10)
    >>> f = spot_features_batch(T, E, I, current_density_mA_cm2=1.0)
    >>> f["nucleated"].tolist(), [round(x, 4) for x in f["E_nuc_V"]]
    ([True, True], [-0.15, -0.14])
    """
    t = np.atleast_2d(np.asarray(time_s, dtype=float))
    e = np.atleast_2d(np.asarray(potential_V, dtype=float))
    cur = np.atleast_2d(np.asarray(current_A, dtype=float))
    if not (t.shape == e.shape == cur.shape):
        raise ValueError("time_s, potential_V and current_A must have the same shape")
    n, m = t.shape
    j_in = _as_rows(current_density_mA_cm2, n, "current_density_mA_cm2")
    a_in = _as_rows(area_cm2, n, "area_cm2")
    options = {
        "smooth_s": smooth_s,
        "growth_fraction": growth_fraction,
        "rise_sigma": rise_sigma,
        "min_rise_V": min_rise_V,
    }
    cols: dict[str, np.ndarray] = {k: np.full(n, np.nan) for k in _VALUE_KEYS}
    nucleated = np.zeros(n, dtype=bool)
    reason = np.full(n, None, dtype=object)
    if n == 0:
        return _table(cols, nucleated, reason, np.zeros(0), a_in, j_in, np.zeros(0), np.zeros(0), 0)

    # ----------------------------------------------------------------- per-spot frame
    with np.errstate(invalid="ignore"):
        i_med = np.median(cur, axis=1)  # every current finite on the fast path (checked below)
    area = a_in.copy()
    bad_area = ~(np.isfinite(area) & (area > 0))
    area[bad_area] = np.nan
    derive = bad_area & np.isfinite(j_in) & (j_in > 0) & np.isfinite(i_med) & (i_med != 0)
    area[derive] = np.abs(i_med[derive]) / (j_in[derive] * 1e-3)
    duration = t[:, -1] - t[:, 0] if m else np.full(n, np.nan)

    # rows the vectorised path handles
    fast = np.isfinite(t).all(1) & np.isfinite(e).all(1) & np.isfinite(cur).all(1)
    fast &= m >= 20
    if m > 1:
        fast &= (np.diff(t, axis=1) > 0).all(1)
    sigma = difference_noise_rows(e)
    fast &= ~isolated_spike_rows(e, sigma)  # all False below 3 samples
    dt = np.median(np.diff(t, axis=1), axis=1) if m > 1 else np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        win = np.where(fast, np.rint(smooth_s / np.where(fast, dt, 1.0)), 0).astype(np.int64) | 1
    win = np.maximum(5, np.minimum(win, (m // 4) * 2 - 1 if m > 20 else 5))
    if fast.any():
        w0 = int(np.bincount(win[fast]).argmax())
        fast &= win == w0
    else:
        w0 = 5

    rows = np.flatnonzero(fast)
    if rows.size:
        _fast_rows(rows, t, e, cur, sigma, area, w0, options, cols, nucleated, reason)
    for r in np.flatnonzero(~fast):
        f = _per_spot(t[r], e[r], cur[r], j_in[r], a_in[r], options)
        for k in _VALUE_KEYS:
            cols[k][r] = np.nan if f[k] is None else f[k]
        nucleated[r] = bool(f["nucleated"])
        reason[r] = f["reason"]
        sigma[r] = f["noise_V"]
        area[r] = np.nan if f["area_cm2"] is None else f["area_cm2"]
        i_med[r] = np.nan if f["current_A"] is None else f["current_A"]
        j_in[r] = np.nan if f["current_density_mA_cm2"] is None else f["current_density_mA_cm2"]
    # the current density the per-spot function reports when none was given: median
    # |plating current| / area (mA cm⁻²)
    need_j = fast & ~np.isfinite(j_in) & np.isfinite(area)
    if need_j.any():
        ip = np.where(cur[need_j] < 0, np.abs(cur[need_j]), np.nan)
        with np.errstate(invalid="ignore"), _quiet_nanmedian():
            jm = np.nanmedian(ip, axis=1) / area[need_j] * 1e3
        j_in[need_j] = jm
    return _table(cols, nucleated, reason, sigma, area, j_in, i_med, duration, m)


class _quiet_nanmedian:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _table(cols, nucleated, reason, sigma, area, j, i_med, duration, m) -> pd.DataFrame:
    n = nucleated.size

    def obj(a):
        o = np.asarray(a, dtype=float).astype(object)
        o[~np.isfinite(np.asarray(a, dtype=float))] = None
        return o

    data = {"nucleated": nucleated}
    for k in _VALUE_KEYS:
        data[k] = obj(cols[k])
    data.update(
        noise_V=np.asarray(sigma, dtype=float),
        reason=reason,
        area_cm2=obj(area),
        current_A=obj(i_med),
        current_density_mA_cm2=obj(j),
        duration_s=obj(duration) if n else np.zeros(0),
        n_samples=np.full(n, int(m)),
    )
    return pd.DataFrame(data, columns=list(BATCH_COLUMNS))


def _fast_rows(rows, t_all, e_all, i_all, sigma_all, area_all, win, opts, cols, nuc, reason):
    from scipy.signal import savgol_filter

    t = t_all[rows]
    e = e_all[rows]
    cur = i_all[rows]
    sigma = sigma_all[rows]
    area = area_all[rows]
    n, m = t.shape
    idx = np.arange(m)
    smooth = savgol_filter(e, win, 2, axis=1) if win > 3 else e.copy()

    # E_growth: mean of the last growth_fraction, error widened by half the drift
    n_g = max(3, int(round(opts["growth_fraction"] * m)))
    tail = e[:, -n_g:]
    tt = t[:, -n_g:]
    tc = tt - tt.mean(1, keepdims=True)
    slope = (tc * (tail - tail.mean(1, keepdims=True))).sum(1) / (tc * tc).sum(1)
    drift = np.abs(slope * (t[:, -1] - t[:, -n_g]))
    e_growth = np.mean(tail, axis=1)
    e_growth_err = np.hypot(np.std(tail, axis=1, ddof=1) / np.sqrt(n_g), drift / 2)

    # the candidate minimum and its recovery
    k = np.argmin(smooth, axis=1)
    s_k = smooth[np.arange(n), k]
    rise_needed = np.maximum(opts["rise_sigma"] * sigma, opts["min_rise_V"])
    after_max = np.where(idx[None, :] >= k[:, None], smooth, -np.inf).max(1)
    recovered = (m - k > 1) & (after_max - s_k > rise_needed)
    edge = max(3, win // 2)
    at_edge = (k >= m - edge) | (k <= edge)
    refused = at_edge | ~recovered
    for r in np.flatnonzero(refused):
        if at_edge[r] and k[r] > m // 2:
            reason[rows[r]] = (
                "the potential minimum lies at the end of the step: it never turns back up"
            )
        elif at_edge[r]:
            reason[rows[r]] = "the potential minimum lies at the start of the record"
        else:
            reason[rows[r]] = (
                "the potential never turns back up after its minimum (no nucleation minimum "
                "within the record)"
            )
    go = np.flatnonzero(~refused)
    if not go.size:
        return
    t, e, cur, smooth = t[go], e[go], cur[go], smooth[go]
    sigma, area, k, s_k = sigma[go], area[go], k[go], s_k[go]
    e_growth, e_growth_err = e_growth[go], e_growth_err[go]
    out_rows = rows[go]
    n = go.size
    ar = np.arange(n)

    base = np.maximum(2 * sigma, 5e-4)
    depths = (base, 2 * base, 4 * base)
    fits = []  # per depth: (valid, t, E, t_err, E_err, n_points)
    for depth in depths:
        above = smooth > (s_k + depth)[:, None]
        lo = np.where(above & (idx[None, :] < k[:, None]), idx[None, :], -1).max(1) + 1
        hi = np.where(above & (idx[None, :] > k[:, None]), idx[None, :], m).min(1) - 1
        fits.append(_vertex_fits(t, e, k, lo, hi))
    valid = np.stack([f[0] for f in fits])  # (3, n)
    ft = np.stack([f[1] for f in fits])
    fe = np.stack([f[2] for f in fits])
    fte = np.stack([f[3] for f in fits])
    fee = np.stack([f[4] for f in fits])
    n_fits = valid.sum(0)

    none = n_fits == 0
    if none.any():
        thr = (s_k + depths[2])[:, None]
        near = (smooth <= thr).sum(1)
        for r in np.flatnonzero(none):
            reason[out_rows[r]] = (
                f"the minimum is resolved by only {int(near[r])} sample(s) within "
                f"{depths[2][r] * 1e3:.2g} mV of it, and a vertex fit needs {_MIN_FIT_POINTS} "
                "around it: sample the step faster (or it is a spike, not a nucleation minimum)"
            )
    # the middle of the valid fits (fits[len(fits) // 2] over those that exist)
    rank = np.cumsum(valid, axis=0) - 1
    pick = valid & (rank == (n_fits // 2)[None, :])
    mid = np.argmax(pick, axis=0)
    t_mid, e_mid = ft[mid, ar], fe[mid, ar]
    big = np.where(valid, ft, -np.inf).max(0) - np.where(valid, ft, np.inf).min(0)
    t_spread = np.where(n_fits > 1, big / 2, 0.0)
    big = np.where(valid, fe, -np.inf).max(0) - np.where(valid, fe, np.inf).min(0)
    e_spread = np.where(n_fits > 1, big / 2, 0.0)
    t_nuc = t_mid
    t_err = np.hypot(fte[mid, ar], t_spread)
    e_nuc = e_mid
    e_err = np.hypot(fee[mid, ar], e_spread)

    with np.errstate(invalid="ignore"):
        below = ~none & (e_nuc < e.min(1) - 3.0 * np.maximum(sigma, 1e-12) - e_err)
    for r in np.flatnonzero(below):
        reason[out_rows[r]] = (
            f"the vertex fit ({e_nuc[r]:.4g} V) lies below every sample of the step: the "
            "minimum is not resolved"
        )
    ok = ~none & ~below
    if not ok.any():
        return
    sel = np.flatnonzero(ok)
    t, cur, t_nuc, t_err = t[sel], cur[sel], t_nuc[sel], t_err[sel]
    area = area[sel]
    a_abs = np.abs(cur)
    # charge up to t_nuc: trapezoids over the samples with t ≤ t_nuc
    seg = 0.5 * (a_abs[:, 1:] + a_abs[:, :-1]) * np.diff(t, axis=1)
    cum = np.concatenate([np.zeros((sel.size, 1)), np.cumsum(seg, axis=1)], axis=1)
    cnt = (t <= t_nuc[:, None]).sum(1)
    q_C = np.where(cnt > 1, cum[np.arange(sel.size), np.maximum(cnt - 1, 0)], 0.0)
    # |I| at t_nuc, linear interpolation (t_nuc lies inside the record)
    j1 = np.clip(cnt, 1, t.shape[1] - 1)
    j0 = j1 - 1
    rr = np.arange(sel.size)
    x0, x1 = t[rr, j0], t[rr, j1]
    y0, y1 = a_abs[rr, j0], a_abs[rr, j1]
    i_at = (y1 - y0) / (x1 - x0) * (t_nuc - x0) + y0
    has_area = np.isfinite(area)
    with np.errstate(invalid="ignore", divide="ignore"):
        q_nuc = np.where(has_area, q_C / area / _C_PER_UAH, np.nan)
        q_err = np.where(has_area, np.abs(i_at * t_err / area / _C_PER_UAH), np.nan)
    dst = out_rows[sel]
    nuc[dst] = True
    cols["E_nuc_V"][dst] = e_nuc[sel]
    cols["E_nuc_V_err"][dst] = e_err[sel]
    cols["t_nuc_s"][dst] = t_nuc
    cols["t_nuc_s_err"][dst] = t_err
    cols["Q_nuc_uAh_cm2"][dst] = q_nuc
    cols["Q_nuc_uAh_cm2_err"][dst] = q_err
    cols["E_growth_V"][dst] = e_growth[sel]
    cols["E_growth_V_err"][dst] = e_growth_err[sel]
    cols["eta_nuc_V"][dst] = e_growth[sel] - e_nuc[sel]
    cols["eta_nuc_V_err"][dst] = np.hypot(e_growth_err[sel], e_err[sel])
    for r in np.flatnonzero(~has_area):
        reason[dst[r]] = "Q_nuc needs the electrode area ([electrode] area_cm2 or a footprint mask)"


def _vertex_fits(t, e, k, lo, hi):
    """Quartic least squares on the rows' windows [lo, hi]; the vertex and its errors.

    Returns (valid, t*, E*, t*_err, E*_err, n) per row, the rules of
    ``_galvanostatic._vertex_fit`` plus the window checks of the caller.
    """
    n, m = t.shape
    ar = np.arange(n)
    npts = hi - lo + 1
    valid = npts >= _MIN_FIT_POINTS
    nan = np.full(n, np.nan)
    if not valid.any():
        return valid, nan, nan, nan, nan, npts
    idx = np.arange(m)
    inside = (idx[None, :] >= lo[:, None]) & (idx[None, :] <= hi[:, None])
    t_ref = t[ar, k]
    t_lo, t_hi = t[ar, lo], t[ar, np.minimum(hi, m - 1)]
    half = np.maximum(np.maximum(t_hi - t_ref, t_ref - t_lo), 1e-12)
    # the window's samples, left-aligned and zero-padded (zero rows leave the fit unchanged)
    width = int(npts[valid].max())
    take = np.minimum(lo[:, None] + np.arange(width)[None, :], m - 1)
    live = np.arange(width)[None, :] < npts[:, None]
    x = np.where(live, (t[ar[:, None], take] - t_ref[:, None]) / half[:, None], 0.0)
    y = np.where(live, e[ar[:, None], take], 0.0)
    del inside
    powers = np.arange(_DEGREE + 1)
    design = np.where(live[:, :, None], x[:, :, None] ** powers[None, None, :], 0.0)
    q, r = np.linalg.qr(design)
    diag = np.abs(np.diagonal(r, axis1=1, axis2=2))
    full_rank = diag.min(1) > 1e-10 * np.maximum(diag.max(1), 1e-300)
    valid &= full_rank
    rs = np.where(valid[:, None, None], r, np.eye(_DEGREE + 1))
    qty = np.einsum("nwp,nw->np", q, y)
    coef = np.linalg.solve(rs, qty[:, :, None])[:, :, 0]
    resid = y - np.einsum("nwp,np->nw", design, coef)
    dof = np.maximum(npts - _DEGREE - 1, 1)
    rinv = np.linalg.inv(rs)
    cov = ((resid * resid).sum(1) / dof)[:, None, None] * (rinv @ np.swapaxes(rinv, 1, 2))
    # stationary points: roots of the derivative, eigenvalues of np.roots' companion matrix
    dcoef = coef[:, 1:] * powers[1:]  # c1, 2c2, 3c3, 4c4
    lead = dcoef[:, -1]
    valid &= lead != 0
    safe = np.where(lead != 0, lead, 1.0)
    comp = np.zeros((n, 3, 3))
    comp[:, 0, :] = -dcoef[:, [2, 1, 0]] / safe[:, None]
    comp[:, 1, 0] = 1.0
    comp[:, 2, 1] = 1.0
    roots = np.linalg.eigvals(comp)
    real = np.isreal(roots)
    xr_ = roots.real
    x_first = x[:, 0]
    x_last = x[ar, np.maximum(npts - 1, 0)]
    real &= (xr_ >= x_first[:, None]) & (xr_ <= x_last[:, None])
    vals = coef[:, 0:1] + sum(coef[:, p : p + 1] * xr_**p for p in range(1, _DEGREE + 1))
    vals = np.where(real, vals, np.inf)
    valid &= real.any(1)
    xs = xr_[ar, np.argmin(vals, axis=1)]
    curv = sum(p * (p - 1) * coef[:, p] * xs ** (p - 2) for p in range(2, _DEGREE + 1))
    valid &= curv > 0
    curv = np.where(valid, curv, 1.0)
    jt = -np.stack([np.zeros(n)] + [p * xs ** (p - 1) for p in range(1, _DEGREE + 1)], 1)
    jt /= curv[:, None]
    je = np.stack([xs**p for p in range(_DEGREE + 1)], 1)
    t_star = t_ref + xs * half
    e_star = (coef * je).sum(1)
    t_err = np.sqrt(np.maximum(np.einsum("np,npq,nq->n", jt, cov, jt), 0.0)) * half
    e_err = np.sqrt(np.maximum(np.einsum("np,npq,nq->n", je, cov, je), 0.0))
    valid &= (t_lo <= t_star) & (t_star <= t_hi)
    return valid, t_star, e_star, t_err, e_err, npts
