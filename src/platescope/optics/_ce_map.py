"""Spatially resolved Coulombic efficiency from IRM: CE(IRM) maps (SCIENCE.md §2).

Method (the SECCM–IRM paper's Methods, "CE(IRM)"), with each step made explicit:

1. **Intensities at three instants per cycle.** For cycle n with start t₀, end of net
   plating t_sw (the switch from plating to stripping) and end t₁, the intensity image
   at each instant is the mean of the frames whose real timestamps lie within
   ``window_s/2`` of it (restricted to the record's span [first start, last end];
   the nearest frame when none falls inside). With a landing-subtracted movie these are
   the deposit signals S(t₀), S(t_sw), S(t₁).
2. **Changes.** I_c = S(t_sw) − S(t₀) (intensity gained over plating) and
   I_a = S(t_sw) − S(t₁) (intensity lost over stripping), per pixel, after a Gaussian
   blur of ``sigma_um`` (the paper blurs by 1 µm; blur and time-averaging are linear, so
   they commute and only the few averaged images are blurred). Inside the footprint
   mask the blur is a normalised convolution G(S·m)/G(m), so pixels near the footprint
   edge are not diluted by the empty surroundings.
3. **Calibration.** On the footprint average (unblurred), R̄_n = Ī_a/Ī_c; the
   electrochemical CE_n is fitted as CE = a·R̄ + b by least squares over cycles
   (:func:`ce_calibration`, parameter standard errors from the residuals and R²).
4. **Maps.** CE(IRM) = a·(I_a/I_c) + b per pixel inside the footprint mask; pixels whose
   I_c is below ``min_ic_fraction`` of the footprint-median I_c (no deposit, or thick
   deposits whose contrast inverts) are NaN. Values are not clipped to [0, 1].
5. **Residual (inactive) deposit.** S(last t₁) − S(first t₀), blurred: the signal left
   after the last stripping; divided by α (counts nm⁻¹) it is an equivalent thickness.

The reduction is one sparse averaging matrix W (instants × frames) applied to the
movie: only the frames inside the windows are read, in bands of rows (≤ ``max_block_mb``
of float32 per band) for numpy/memmap movies, or as one lazy ``einsum`` for dask-backed
movies (computed once, chunk by chunk). Memory is flat in the movie length.

Accuracy measured on the ``irm-cv`` simulator is in docs/irm_cv.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._movie_model import _check_movie, _is_dask
from platescope.optics._preprocess import gaussian_blur

__all__ = [
    "apply_ce_calibration",
    "ce_calibration",
    "ce_histograms",
    "ce_intensity_changes",
    "window_means",
]


def _window_matrix(t, instants, window_s, span):
    """Averaging weights (n_instants × n_frames) and the frames they use."""
    t = np.asarray(t, float)
    lo, hi = span
    w = np.zeros((len(instants), t.size))
    for k, c in enumerate(instants):
        sel = (np.abs(t - c) <= 0.5 * window_s) & (t >= lo - 1e-9) & (t <= hi + 1e-9)
        if not sel.any():
            inside = np.flatnonzero((t >= lo - 1e-9) & (t <= hi + 1e-9))
            pool = inside if inside.size else np.arange(t.size)
            sel = np.zeros(t.size, bool)
            sel[pool[np.argmin(np.abs(t[pool] - c))]] = True
        w[k, sel] = 1.0 / sel.sum()
    used = np.flatnonzero(w.any(axis=0))
    return w[:, used], used


def window_means(
    movie: xr.DataArray,
    instants_s,
    *,
    window_s: float = 1.0,
    span_s: tuple[float, float] | None = None,
    max_block_mb: float = 64.0,
) -> xr.DataArray:
    """Mean image of the frames within ``window_s/2`` of each instant (chunked).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x), ``t`` in s (real timestamps), any intensity unit; numpy,
        memmap or dask backed (never loaded whole).
    instants_s : array_like
        Times in s (movie's clock).
    window_s : float
        Full width of the averaging window, s.
    span_s : (float, float), optional
        Only frames with ``span_s[0] ≤ t ≤ span_s[1]`` are averaged (default: all).
    max_block_mb : float
        Approximate MB of float32 frames read per band of rows (numpy input).

    Returns
    -------
    xarray.DataArray
        float64, dims ``("instant", "y", "x")``, coordinate ``instant`` = the times
        (s), ``n_frames`` per instant in ``attrs``.

    Examples
    --------
    >>> m = xr.DataArray(np.arange(10.0)[:, None, None] * np.ones((10, 2, 3)),
    ...                  dims=("t", "y", "x"), coords={"t": np.arange(10) * 0.5})
    >>> window_means(m, [1.0, 3.0], window_s=1.0).values[:, 0, 0].tolist()
    [2.0, 6.0]
    """
    t = _check_movie(movie)
    inst = np.asarray(instants_s, float).ravel()
    if inst.size == 0 or not np.all(np.isfinite(inst)):
        raise InputError(None, "the instants must be finite times in s", "pass e.g. [0.0, 12.3]")
    if not (np.isfinite(window_s) and window_s >= 0):
        raise InputError(None, f"window_s must be ≥ 0, got {window_s!r}", "pass e.g. 1.0")
    span = (-np.inf, np.inf) if span_s is None else (float(span_s[0]), float(span_s[1]))
    weights, used = _window_matrix(t, inst, window_s, span)
    data = movie.data
    if _is_dask(data):
        import dask.array as da

        sub = data[used].astype(np.float32)
        res = np.asarray(da.einsum("kt,tyx->kyx", weights.astype(np.float32), sub).compute())
        res = res.astype(float)
    else:
        # Σ_j w_kj · frame_j over each instant's frames, in float64, reading only those
        # frames in their own dtype (compiled kernel: no copy; numpy: one frame band
        # at a time) — platescope.optics._kernels.window_sums, bit-identical back-ends
        from platescope.optics import _kernels

        kk, jj = np.nonzero(weights)  # row-major: instant by instant, frames in order
        ptr = np.searchsorted(kk, np.arange(inst.size + 1))
        res = _kernels.window_sums(data, used[jj], weights[kk, jj], ptr, max_block_mb=max_block_mb)
    return _window_means_array(res, inst, movie, weights, window_s)


def _window_means_array(sums, instants, movie, weights, window_s) -> xr.DataArray:
    """The window sums of ``movie`` at ``instants`` as :func:`window_means` returns them."""
    coords = {"instant": np.asarray(instants, float)}
    for dim in ("y", "x"):
        if dim in movie.coords:  # the values only (no coordinate attrs), as before
            coords[dim] = movie.coords.variables[dim].values
    out = xr.DataArray(sums, dims=("instant", "y", "x"), coords=coords)
    out.attrs = {
        "units": movie.attrs.get("units", "counts"),
        "window_s": float(window_s),
        "n_frames": (weights > 0).sum(axis=1).tolist(),
        "source": movie.attrs.get("source"),
    }
    return out


def _cycles_in_movie(cycles: pd.DataFrame, t_s, window_s: float) -> pd.DataFrame:
    """The cycles whose start and end lie within the movie's time span ± ``window_s``."""
    t0, t1 = float(t_s[0]), float(t_s[-1])
    keep = (cycles["t_start_s"] >= t0 - window_s) & (cycles["t_end_s"] <= t1 + window_s)
    return cycles[keep]


def _ce_window_weights(cycles: pd.DataFrame, t_s, window_s: float):
    """Instants and averaging weights of :func:`ce_intensity_changes` when they are
    known before the movie is read (every cycle has a finite ``t_switch_s``).

    Returns ``(instants, weights, frames)`` — the instants (s) t₀…, t_sw…, t₁…, the
    weights (instants × frames used) and the frames used — or None."""
    if len(cycles) == 0 or "t_switch_s" not in cycles.columns:
        return None
    tsw = cycles["t_switch_s"].to_numpy(float)
    if not np.all(np.isfinite(tsw)):
        return None
    t0 = cycles["t_start_s"].to_numpy(float)
    t1 = cycles["t_end_s"].to_numpy(float)
    instants = np.concatenate([t0, tsw, t1])
    span = (float(t0.min()), float(t1.max()))
    weights, used = _window_matrix(t_s, instants, window_s, span)
    return instants, weights, used


def _mask_array(mask, shape, src):
    if mask is None:
        return np.ones(shape, bool)
    m = np.asarray(getattr(mask, "values", mask), dtype=bool)
    if m.shape != shape:
        raise InputError(
            src,
            f"the footprint mask has shape {m.shape}, the frames {shape}",
            "pass a (y, x) boolean mask of the frame size",
        )
    if m.sum() < 1:
        raise InputError(src, "the footprint mask is empty", "check the footprint detection")
    return m


def ce_intensity_changes(
    movie: xr.DataArray,
    cycles: pd.DataFrame,
    *,
    mask=None,
    window_s: float = 2.0,
    sigma_um: float = 0.5,
    max_block_mb: float = 64.0,
    window_images: xr.DataArray | None = None,
) -> xr.Dataset:
    """Per-cycle, per-pixel IRM intensity change over plating (I_c) and stripping (I_a).

    Parameters
    ----------
    movie : xarray.DataArray
        Landing-subtracted movie (t, y, x) on the electrochemistry clock, ``t`` in s,
        ``y``/``x`` in µm; numpy, memmap or dask backed.
    cycles : pandas.DataFrame
        One row per cycle: ``cycle``, ``t_start_s``, ``t_end_s`` (s) — e.g.
        :func:`platescope.echem.cycle_charges` — and optionally ``t_switch_s`` (end of
        net plating, e.g. from :func:`platescope.echem.cv_features`). Without it the
        switch is the frame where the footprint-mean signal peaks inside the cycle.
    mask : array_like of bool, optional
        (y, x) footprint; the footprint averages use it (default: every pixel).
    window_s : float
        Full width of the averaging window around each instant, s (2 s: the signal is
        flat within ±1 s of a CV vertex and of the plating → stripping switch at 100 mV
        s⁻¹; wider windows start to cut the peak at the switch).
    sigma_um : float
        Gaussian blur of the change maps, µm (0 = none).
    max_block_mb : float
        Memory knob of :func:`window_means`.
    window_images : xarray.DataArray, optional
        The window means at the instants t₀…, t_sw…, t₁… of these cycles (as
        :func:`window_means` returns them) if already computed — :func:`prepare_irm`
        with ``ce_cycles`` gives them from its single pass — so that the movie is not
        read again. Needs a finite ``t_switch_s`` for every cycle.

    Returns
    -------
    xarray.Dataset
        ``I_c``, ``I_a`` (cycle, y, x; blurred, intensity units), ``residual`` (y, x:
        S(last end) − S(first start), blurred), and per cycle ``I_c_mean``,
        ``I_a_mean`` (footprint means, unblurred), ``ratio`` (= I_a_mean/I_c_mean),
        ``t_start_s``, ``t_switch_s``, ``t_end_s``. ``attrs``: ``window_s``,
        ``sigma_um``, ``switch_source``.

    Examples
    --------
    >>> t = np.arange(0, 20, 0.25)
    >>> s = np.where(t <= 5, t, np.maximum(5 - 0.2 * (t - 5), 4.0))  # up by 5, down by 1
    >>> m = xr.DataArray(s[:, None, None] * np.ones((t.size, 4, 4)), dims=("t", "y", "x"),
    ...                  coords={"t": t, "y": np.arange(4) * 0.1, "x": np.arange(4) * 0.1})
    >>> cyc = pd.DataFrame({"cycle": [1], "t_start_s": [0.0], "t_end_s": [19.75],
    ...                     "t_switch_s": [5.0]})
    >>> ds = ce_intensity_changes(m, cyc, window_s=0.0, sigma_um=0)
    >>> round(float(ds["ratio"][0]), 6)
    0.2
    """
    t = _check_movie(movie)
    src = _source(movie)
    for col in ("cycle", "t_start_s", "t_end_s"):
        if col not in cycles.columns:
            raise InputError(src, f"the cycle table lacks column {col}", "use echem.cycle_charges")
    if len(cycles) == 0:
        raise InputError(src, "the cycle table is empty", "give a record with at least one cycle")
    m = _mask_array(mask, (movie.sizes["y"], movie.sizes["x"]), src)
    t0 = cycles["t_start_s"].to_numpy(float)
    t1 = cycles["t_end_s"].to_numpy(float)
    if t1.max() < t[0] or t0.min() > t[-1]:
        raise InputError(
            src,
            f"the movie (t = {t[0]:.2f} … {t[-1]:.2f} s) does not cover the cycles "
            f"({t0.min():.2f} … {t1.max():.2f} s)",
            "check the clock synchronisation or [echem] time_offset_s",
        )
    slack = max(window_s, 2.0 * float(np.median(np.diff(t)))) if t.size > 1 else window_s
    uncovered = [
        int(c)
        for c, a, b in zip(cycles["cycle"], t0, t1, strict=True)
        if a < t[0] - slack or b > t[-1] + slack
    ]
    if uncovered:
        raise InputError(
            src,
            f"the movie (t = {t[0]:.2f} … {t[-1]:.2f} s) does not cover cycle(s) {uncovered}",
            "analyse only the cycles the movie covers (drop rows from the cycle table)",
        )
    span = (float(t0.min()), float(t1.max()))
    if "t_switch_s" in cycles.columns and np.all(np.isfinite(cycles["t_switch_s"].to_numpy(float))):
        tsw = cycles["t_switch_s"].to_numpy(float)
        switch_source = "t_switch_s column (end of net plating)"
    else:
        w = m / m.sum()
        mean = (movie.data * w).sum(axis=(1, 2))
        mean = np.asarray(mean.compute() if hasattr(mean, "compute") else mean, float)
        tsw = np.empty(t0.size)
        for k, (a, b) in enumerate(zip(t0, t1, strict=True)):
            sel = (t >= a) & (t <= b)
            tsw[k] = t[sel][np.argmax(mean[sel])] if sel.any() else 0.5 * (a + b)
        switch_source = "maximum of the footprint-mean signal in the cycle"
    instants = np.concatenate([t0, tsw, t1])
    if window_images is not None:
        imgs = window_images
        if not (
            imgs.dims == ("instant", "y", "x")
            and imgs.shape == (instants.size, *m.shape)
            and np.array_equal(imgs["instant"].values, instants)
            and imgs.attrs.get("window_s") == float(window_s)
        ):
            raise InputError(
                src,
                "the window means given are not those of these cycles and window_s",
                "compute them with the same cycles and window_s (prepare_irm(ce_cycles=...))",
            )
    else:
        imgs = window_means(
            movie, instants, window_s=window_s, span_s=span, max_block_mb=max_block_mb
        )
    n = t0.size
    s0, ssw, s1 = imgs.values[:n], imgs.values[n : 2 * n], imgs.values[2 * n :]
    i_c = ssw - s0
    i_a = ssw - s1
    ic_mean = i_c[:, m].mean(axis=1)
    ia_mean = i_a[:, m].mean(axis=1)
    first, last = int(np.argmin(t0)), int(np.argmax(t1))
    residual = s1[last] - s0[first]
    stack = np.concatenate([i_c, i_a, residual[None]], axis=0)
    coords_yx = {d: movie[d].values for d in ("y", "x") if d in movie.coords}
    if sigma_um and sigma_um > 0:
        # normalised convolution inside the footprint: G(S·m)/G(m), so the edge pixels are
        # not diluted by the empty surroundings (outside the mask: plain G(S))
        tcoord = {"t": np.arange(stack.shape[0] + 1, dtype=float), **coords_yx}
        da_stack = xr.DataArray(
            np.concatenate([stack * m, m[None].astype(float)]), dims=("t", "y", "x"), coords=tcoord
        )
        blurred = np.asarray(gaussian_blur(da_stack, sigma_um=float(sigma_um)).values, float)
        weight = blurred[-1]
        plain = np.asarray(
            gaussian_blur(
                xr.DataArray(stack, dims=("t", "y", "x"), coords={**tcoord, "t": tcoord["t"][:-1]}),
                sigma_um=float(sigma_um),
            ).values,
            float,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            stack = np.where(m & (weight > 1e-6), blurred[:-1] / weight, plain)
    cyc = cycles["cycle"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ic_mean != 0, ia_mean / ic_mean, np.nan)
    ds = xr.Dataset(
        {
            "I_c": (("cycle", "y", "x"), stack[:n]),
            "I_a": (("cycle", "y", "x"), stack[n : 2 * n]),
            "residual": (("y", "x"), stack[2 * n]),
            "I_c_mean": (("cycle",), ic_mean),
            "I_a_mean": (("cycle",), ia_mean),
            "ratio": (("cycle",), ratio),
            "t_start_s": (("cycle",), t0),
            "t_switch_s": (("cycle",), tsw),
            "t_end_s": (("cycle",), t1),
            "mask": (("y", "x"), m),
        },
        coords={"cycle": cyc, **coords_yx},
    )
    ds.attrs = {
        "window_s": float(window_s),
        "sigma_um": float(sigma_um or 0.0),
        "switch_source": switch_source,
        "units": movie.attrs.get("units", "counts"),
        "source": src,
    }
    return ds


def ce_calibration(ratio, ce, *, min_points: int = 3) -> dict:
    """Linear calibration CE = slope·(I_a/I_c) + intercept by least squares.

    Parameters
    ----------
    ratio : array_like
        Footprint-average I_a/I_c per cycle (dimensionless).
    ce : array_like
        Electrochemical CE per cycle (dimensionless).
    min_points : int
        Fewest finite pairs needed (≥ 3, so the fit has a residual).

    Returns
    -------
    dict
        ``slope``, ``slope_err``, ``intercept``, ``intercept_err`` (1σ, from the
        residual variance), ``r2``, ``n_points``; when the fit cannot be made, the
        numbers are None and ``reason`` says why.

    Examples
    --------
    >>> cal = ce_calibration([0.3, 0.5, 0.7, 0.9], [0.25, 0.45, 0.65, 0.85])
    >>> round(cal["slope"], 6), round(cal["intercept"], 6), round(cal["r2"], 6)
    (1.0, -0.05, 1.0)
    """
    x = np.asarray(ratio, float).ravel()
    y = np.asarray(ce, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    out = {
        "slope": None,
        "slope_err": None,
        "intercept": None,
        "intercept_err": None,
        "r2": None,
        "n_points": int(x.size),
    }
    if x.size < max(min_points, 3):
        out["reason"] = (
            f"{x.size} cycles with finite CE and I_a/I_c; the line needs ≥ {max(min_points, 3)}"
        )
        return out
    if np.ptp(x) <= 0:
        out["reason"] = "I_a/I_c is the same in every cycle, so no line can be fitted"
        return out
    design = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = x.size - 2
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(design.T @ design)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    out.update(
        slope=float(coef[0]),
        slope_err=float(np.sqrt(cov[0, 0])),
        intercept=float(coef[1]),
        intercept_err=float(np.sqrt(cov[1, 1])),
        r2=float(1.0 - float(resid @ resid) / ss_tot) if ss_tot > 0 else None,
    )
    return out


def apply_ce_calibration(
    changes: xr.Dataset, calibration: dict, *, min_ic_fraction: float = 0.2
) -> xr.DataArray:
    """CE(IRM) maps: the calibration applied to every pixel's I_a/I_c.

    Parameters
    ----------
    changes : xarray.Dataset
        Output of :func:`ce_intensity_changes` (``I_c``, ``I_a``, ``mask``).
    calibration : dict
        ``slope`` and ``intercept`` (e.g. from :func:`ce_calibration`).
    min_ic_fraction : float
        Pixels with I_c below this fraction of the cycle's footprint-median I_c are NaN
        (no deposit, or inverted contrast of thick deposits).

    Returns
    -------
    xarray.DataArray
        float32 (cycle, y, x), dimensionless; NaN outside the mask and at excluded
        pixels; ``attrs["n_excluded"]`` per cycle.

    Examples
    --------
    >>> ds = xr.Dataset({"I_c": (("cycle", "y", "x"), np.full((1, 2, 2), 10.0)),
    ...                  "I_a": (("cycle", "y", "x"), np.full((1, 2, 2), 6.0)),
    ...                  "mask": (("y", "x"), np.ones((2, 2), bool))}, coords={"cycle": [1]})
    >>> round(float(apply_ce_calibration(ds, {"slope": 1.0, "intercept": 0.05})[0, 0, 0]), 6)
    0.65
    """
    if calibration.get("slope") is None or calibration.get("intercept") is None:
        raise InputError(
            None,
            "the CE calibration has no slope/intercept ("
            + str(calibration.get("reason", "fit failed"))
            + ")",
            "record at least 3 cycles with both a movie and the electrochemistry",
        )
    i_c = np.asarray(changes["I_c"].values, float)
    i_a = np.asarray(changes["I_a"].values, float)
    m = np.asarray(changes["mask"].values, bool)
    med = np.array([np.median(c[m]) for c in i_c])
    valid = (i_c > (min_ic_fraction * med)[:, None, None]) & m[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ce = calibration["slope"] * (i_a / i_c) + calibration["intercept"]
    ce = np.where(valid, ce, np.nan).astype(np.float32)
    out = xr.DataArray(
        ce,
        dims=("cycle", "y", "x"),
        coords={k: changes.coords[k] for k in ("cycle", "y", "x") if k in changes.coords},
        name="CE_IRM",
    )
    out.attrs = {
        "n_excluded": (m.sum() - valid.sum(axis=(1, 2))).tolist(),
        "min_ic_fraction": float(min_ic_fraction),
        "units": "1",
    }
    return out


def ce_histograms(ce_maps: xr.DataArray, *, bins=None) -> pd.DataFrame:
    """Histogram of every cycle's CE(IRM) map on shared bins.

    Parameters
    ----------
    ce_maps : xarray.DataArray
        (cycle, y, x) CE values (NaN ignored).
    bins : array_like, optional
        Bin edges (default: 0.02 wide over the finite range, at least 0 … 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``cycle``, ``bin_lo``, ``bin_hi``, ``count``, ``fraction``.

    Examples
    --------
    >>> da = xr.DataArray(np.array([[[0.5, 0.51], [0.9, np.nan]]]), dims=("cycle", "y", "x"),
    ...                   coords={"cycle": [1]})
    >>> int(ce_histograms(da)["count"].sum())
    3
    """
    vals = np.asarray(ce_maps.values, float)
    finite = vals[np.isfinite(vals)]
    if bins is None:
        lo = min(0.0, np.floor(finite.min() * 50) / 50) if finite.size else 0.0
        hi = max(1.0, np.ceil(finite.max() * 50) / 50) if finite.size else 1.0
        bins = np.arange(lo, hi + 1e-9, 0.02)
    bins = np.asarray(bins, float)
    rows = []
    cycles = ce_maps["cycle"].values if "cycle" in ce_maps.coords else np.arange(vals.shape[0]) + 1
    for c, v in zip(cycles, vals, strict=True):
        v = v[np.isfinite(v)]
        counts, _ = np.histogram(v, bins=bins)
        frac = counts / max(v.size, 1)
        rows.append(
            pd.DataFrame(
                {
                    "cycle": c,
                    "bin_lo": bins[:-1],
                    "bin_hi": bins[1:],
                    "count": counts,
                    "fraction": frac,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
