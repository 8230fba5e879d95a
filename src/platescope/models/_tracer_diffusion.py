"""Tracer diffusion coefficients from SIMS isotope depth profiles (SCIENCE.md §3).

A film enriched in one Li isotope (the *tracer*, ⁶Li or ⁷Li) is deposited on a
substrate of another isotopic composition and annealed for a time t; SIMS then
measures both isotopes against depth x. This module turns the counts into the tracer
isotope fraction and the excess tracer concentration

    f  = K·n_T / (K·n_T + n_O)                      (K: mass-bias factor, 1 by default)
    C′ = (f − f_bg) / (f_src − f_bg)                (0 in the substrate, 1 in the source)

and fits one of three solutions of Fick's second law, written with the profile width
s (µm), s² = 2·D·t + σ0² (σ0: depth resolution, Gaussian broadening adds in quadrature):

- ``"gaussian"`` — thin film on a semi-infinite substrate, reflecting surface:
  C′ = A·exp(−x²/(2s²)) (valid when the film is thin next to s);
- ``"finite-film"`` — film of thickness h: C′ = (A/2)·[erf((h−x)/(√2·s)) + erf((h+x)/(√2·s))];
- ``"erfc"`` — constant surface source: C′ = A·erfc(x/(√2·s)).

The fit is a weighted nonlinear least-squares fit of f itself (f = f_bg + (f_src −
f_bg)·C′, so the background fraction is fitted jointly unless given) with binomial
counting weights Var f = μ(1−μ)/N from the fitted μ (two reweighting passes). The
amplitude A is free, so D does not depend on the source fraction f_src (which only
scales C′ for display).

Surface points distorted by contamination (oxygen enhances the Li⁺ yield and distorts
the measured isotope ratio at the surface; the paper drops those points by hand) are
excluded automatically by a **sequential surface scan**: fit the points k…n−1, compute
the studentised residual of point k (residual / (σ·√(1 − leverage)), σ from counting
statistics, inflated by the over-dispersion √χ²ᵣ of the points beyond the scan zone if
that exceeds 1); when |z_k| > ``exclusion_z`` (3) drop point k and repeat, otherwise
stop. The scan never goes deeper than ``max_excluded_fraction`` of the profile, and
when an oxygen channel is given it goes at most two points beyond the leading run of
points whose O counts exceed the bulk O level (median of the deeper half) by
``oxygen_z`` (5) Poisson standard deviations. The excluded indices are reported.

Uncertainty of D (1σ): from the fit covariance (s and the other parameters jointly,
scaled by √χ²ᵣ when above 1) combined in quadrature with the depth-scale error —
D ∝ depth², so a relative depth-scale error δ gives δD/D = 2δ. A parametric bootstrap
(binomial resampling of the fitted profile at the measured counts, depth scale drawn
too) gives a percentile 95 % interval as a cross-check. Coverage of both, measured over
100 simulated seeds, is in ``docs/sims_diffusion.md``.

Several anneal times are combined with :func:`combine_anneal_times`: a weighted linear
fit of s² against t, slope 2D, intercept σ0² (plus film-thickness and time-zero
offsets, which it absorbs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "MODELS",
    "NATURAL_6LI_FRACTION",
    "combine_anneal_times",
    "excess_tracer",
    "fit_tracer_profile",
    "isotope_fraction",
    "tracer_profile",
]

#: Natural abundance of ⁶Li (atom fraction; ⁷Li is the rest).
NATURAL_6LI_FRACTION = 0.0759
#: Profile models accepted by :func:`fit_tracer_profile`.
MODELS = ("gaussian", "finite-film", "erfc")
_UM2_TO_CM2 = 1e-8
_SQRT2 = math.sqrt(2.0)


def isotope_fraction(
    counts_tracer, counts_other, *, mass_bias: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Tracer isotope fraction and its binomial counting error.

    Parameters
    ----------
    counts_tracer, counts_other : array_like
        Counts of the tracer isotope and of the other Li isotope per depth point.
    mass_bias : float
        K, the true/measured isotope ratio of a standard (1 = no correction).

    Returns
    -------
    f, f_err : numpy.ndarray
        f = K·n_T/(K·n_T + n_O) and its 1σ error from counting statistics (computed
        with (n_T + ½)/(N + 1) so that f = 0 or 1 still has a finite error); NaN where
        n_T + n_O = 0.

    Examples
    --------
    >>> f, e = isotope_fraction([250, 0], [750, 0])
    >>> float(f[0]), round(float(e[0]), 4), bool(np.isnan(f[1]))
    (0.25, 0.0137, True)
    """
    nt = np.asarray(counts_tracer, dtype=float)
    no = np.asarray(counts_other, dtype=float)
    n = nt + no
    with np.errstate(invalid="ignore", divide="ignore"):
        fm = np.where(n > 0, nt / n, np.nan)
        ft = (nt + 0.5) / (n + 1.0)
        var_m = ft * (1.0 - ft) / (n + 1.0)
        f, dfdm = _apply_mass_bias(fm, mass_bias)
        _, dfdm_t = _apply_mass_bias(ft, mass_bias)
        err = np.where(n > 0, np.abs(dfdm_t) * np.sqrt(var_m), np.nan)
    return f, err


def _apply_mass_bias(fm, k: float):
    """Measured fraction → corrected fraction and its derivative."""
    fm = np.asarray(fm, dtype=float)
    if k == 1.0:
        return fm, np.ones_like(fm)
    den = k * fm + (1.0 - fm)
    return k * fm / den, k / den**2


def excess_tracer(f, *, background: float, source: float):
    """Excess tracer concentration C′ = (f − f_bg)/(f_src − f_bg).

    Parameters
    ----------
    f : array_like
        Tracer isotope fraction.
    background : float
        f_bg, the tracer fraction of the substrate.
    source : float
        f_src, the tracer fraction of the deposited film.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> excess_tracer([0.05, 0.5, 0.95], background=0.05, source=0.95).round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    if not source != background:
        raise ValueError("the source and background fractions must differ")
    return (np.asarray(f, dtype=float) - background) / (source - background)


def tracer_profile(
    depth_um,
    *,
    sigma_um: float,
    model: str = "gaussian",
    amplitude: float = 1.0,
    film_thickness_um: float | None = None,
) -> np.ndarray:
    """C′(x) of a diffusion solution with width s (s² = 2Dt + σ0²).

    Parameters
    ----------
    depth_um : array_like
        Depth below the surface, µm.
    sigma_um : float
        Profile width s, µm.
    model : {"gaussian", "finite-film", "erfc"}
        Solution (see the module docstring).
    amplitude : float
        A: C′ at the surface for ``gaussian``/``erfc``, the film's C′ for ``finite-film``.
    film_thickness_um : float, optional
        h, µm (``finite-film`` only).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> x = np.array([0.0, 2.0])
    >>> tracer_profile(x, sigma_um=2.0).round(4).tolist()
    [1.0, 0.6065]
    >>> # a thin finite film tends to the Gaussian of the same tracer amount
    >>> g = tracer_profile(x, sigma_um=2.0, amplitude=0.01 * 2 / (np.sqrt(2 * np.pi) * 2.0))
    >>> ff = tracer_profile(x, sigma_um=2.0, model="finite-film", amplitude=1.0,
    ...                     film_thickness_um=0.01)
    >>> bool(np.allclose(ff, g, rtol=1e-4))
    True
    """
    x = np.asarray(depth_um, dtype=float)
    s = float(sigma_um)
    if model == "gaussian":
        return amplitude * np.exp(-0.5 * (x / s) ** 2)
    if model == "erfc":
        return amplitude * special.erfc(x / (_SQRT2 * s))
    if model == "finite-film":
        if film_thickness_um is None:
            raise ValueError("the finite-film model needs film_thickness_um")
        h = float(film_thickness_um)
        return (
            0.5
            * amplitude
            * (special.erf((h - x) / (_SQRT2 * s)) + special.erf((h + x) / (_SQRT2 * s)))
        )
    raise ValueError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")


# --------------------------------------------------------------------------- fitting core
class _Problem:
    """Parameter bookkeeping of one profile fit: θ = [f_bg?] + [A, s] + [h?]."""

    def __init__(self, model: str, bg_fixed: float | None, h_fixed: float | None, src: float):
        self.model = model
        self.bg_fixed = bg_fixed
        self.h_fixed = h_fixed
        self.src = src
        names = [] if bg_fixed is not None else ["f_bg"]
        names += ["A", "s"]
        if model == "finite-film" and h_fixed is None:
            names.append("h")
        self.names = names

    def unpack(self, theta) -> dict:
        d = dict(zip(self.names, theta, strict=True))
        d.setdefault("f_bg", self.bg_fixed)
        if self.model == "finite-film":
            d.setdefault("h", self.h_fixed)
        return d

    def jac(self, x, theta) -> np.ndarray:
        """∂f/∂θ, shape (len(x), len(θ))."""
        p = self.unpack(theta)
        a, s, bg = p["A"], p["s"], p["f_bg"]
        span = self.src - bg
        if self.model == "gaussian":
            g = np.exp(-0.5 * (x / s) ** 2)
            dg_ds = g * x**2 / s**3
            dg_dh = None
        elif self.model == "erfc":
            u = x / (_SQRT2 * s)
            g = special.erfc(u)
            dg_ds = (2 / math.sqrt(math.pi)) * np.exp(-(u**2)) * u / s
            dg_dh = None
        else:
            h = p["h"]
            ua, ub = (h - x) / (_SQRT2 * s), (h + x) / (_SQRT2 * s)
            ea, eb = np.exp(-(ua**2)), np.exp(-(ub**2))
            g = 0.5 * (special.erf(ua) + special.erf(ub))
            k = 1 / math.sqrt(math.pi)
            dg_ds = -k * (ea * ua + eb * ub) / s
            dg_dh = k * (ea + eb) / (_SQRT2 * s)
        cols = {"f_bg": 1.0 - a * g, "A": span * g, "s": span * a * dg_ds}
        if dg_dh is not None:
            cols["h"] = span * a * dg_dh
        return np.column_stack([np.broadcast_to(cols[n], x.shape) for n in self.names])

    def f(self, x, theta) -> np.ndarray:
        p = self.unpack(theta)
        c = tracer_profile(
            x, sigma_um=p["s"], model=self.model, amplitude=p["A"], film_thickness_um=p.get("h")
        )
        return p["f_bg"] + (self.src - p["f_bg"]) * c


def _initial(problem: _Problem, x, f) -> np.ndarray:
    n = x.size
    tail = f[-max(3, n // 7) :]
    bg = float(np.median(tail)) if problem.bg_fixed is None else problem.bg_fixed
    head = float(np.median(f[: min(3, n)]))
    span = problem.src - bg
    a0 = (head - bg) / span if span != 0 else 1.0
    a0 = a0 if np.isfinite(a0) and abs(a0) > 1e-6 else 1e-3
    c = (f - bg) / span if span != 0 else f
    below = np.nonzero(c < a0 * math.exp(-0.5))[0]
    s0 = float(x[below[0]]) if below.size and x[below[0]] > 0 else float(x[-1]) / 3.0
    s0 = max(s0, float(np.min(np.diff(x))) if n > 1 else 1.0, 1e-3)
    theta = []
    if problem.bg_fixed is None:
        theta.append(bg)
    theta += [a0, s0]
    if "h" in problem.names:
        theta.append(0.1 * s0)
    return np.asarray(theta, dtype=float)


def _bounds(problem: _Problem, x) -> tuple[list, list]:
    lo, hi = [], []
    for name in problem.names:
        if name == "f_bg":
            lo.append(-0.5), hi.append(1.5)
        elif name == "A":
            lo.append(-np.inf), hi.append(np.inf)
        elif name == "s":
            lo.append(1e-6), hi.append(np.inf)
        else:  # h
            lo.append(0.0), hi.append(max(float(x[-1]), 1e-3) * 2.0)
    return lo, hi


def _weights_sd(mu, n, mass_bias: float) -> np.ndarray:
    """1σ of the measured fraction at model value mu (binomial, N counts)."""
    # model values are corrected fractions; go back to measured space for the binomial
    k = mass_bias
    mu = np.clip(np.asarray(mu, float), 0.5 / (n + 1.0), 1.0 - 0.5 / (n + 1.0))
    fm = mu / (k - (k - 1.0) * mu) if k != 1.0 else mu
    _, dfdm = _apply_mass_bias(fm, k)
    return np.abs(dfdm) * np.sqrt(fm * (1.0 - fm) / n)


def _fit(problem: _Problem, x, f, sd, theta0, *, quick: bool = False) -> dict:
    lo, hi = _bounds(problem, x)
    theta0 = np.clip(theta0, np.asarray(lo) + 1e-12, np.asarray(hi) - 1e-12)

    def resid(theta):
        return (problem.f(x, theta) - f) / sd

    def jac(theta):
        return problem.jac(x, theta) / sd[:, None]

    if quick:  # bootstrap replicates start at the optimum: unbounded Levenberg–Marquardt
        res = optimize.least_squares(resid, theta0, jac=jac, x_scale="jac", method="lm")
        return {"theta": res.x, "success": bool(res.success)}
    res = optimize.least_squares(
        resid, theta0, jac=jac, bounds=(lo, hi), x_scale="jac", method="trf"
    )
    jac = res.jac
    jtj = jac.T @ jac
    cov = np.linalg.pinv(jtj)
    lev = np.einsum("ij,jk,ik->i", jac, cov, jac)
    return {
        "theta": res.x,
        "cov": cov,
        "z": res.fun,  # (model - data)/sd
        "leverage": np.clip(lev, 0.0, 0.999),
        "chi2": float(np.sum(res.fun**2)),
        "success": bool(res.success),
    }


def _fit_irls(problem, x, f, n, theta0, mass_bias, *, passes: int = 2, sd0=None) -> dict:
    sd = sd0 if sd0 is not None else _weights_sd(f, n, mass_bias)
    fit = _fit(problem, x, f, sd, theta0)
    for _ in range(passes - 1):
        sd = _weights_sd(problem.f(x, fit["theta"]), n, mass_bias)
        fit = _fit(problem, x, f, sd, fit["theta"])
    fit["sd"] = sd
    return fit


def _oxygen_zone(oxygen, oxygen_z: float) -> int:
    """Number of leading points whose O counts stand above the bulk O level."""
    o = np.asarray(oxygen, dtype=float)
    bulk = float(np.median(o[o.size // 2 :]))
    thr = bulk + oxygen_z * math.sqrt(max(bulk, 1.0))
    elevated = o > thr
    first = np.nonzero(elevated[:3])[0]
    if not first.size:
        return 0
    after = np.nonzero(~elevated[first[0] :])[0]
    return int(first[0] + (after[0] if after.size else o.size - first[0]))


def fit_tracer_profile(
    depth_um,
    counts_tracer,
    counts_other,
    *,
    anneal_time_s: float,
    model: str = "gaussian",
    sigma0_um: float = 0.0,
    background_fraction: float | None = None,
    source_fraction: float | None = None,
    film_thickness_um: float | None = None,
    oxygen_counts=None,
    exclusion: str | int = "auto",
    exclusion_z: float = 3.0,
    oxygen_z: float = 5.0,
    max_excluded_fraction: float = 0.25,
    depth_scale_err: float = 0.0,
    mass_bias: float = 1.0,
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit a tracer diffusion profile and return D with its uncertainty.

    Parameters
    ----------
    depth_um : array_like
        Depth of each point below the surface, µm (increasing).
    counts_tracer, counts_other : array_like
        Counts of the tracer isotope and of the other Li isotope.
    anneal_time_s : float
        Diffusion (anneal) time t, s.
    model : {"gaussian", "finite-film", "erfc"}
        Diffusion solution (module docstring).
    sigma0_um : float
        Depth resolution σ0, µm, removed from the width: D = (s² − σ0²)/(2t).
    background_fraction : float, optional
        f_bg, the substrate's tracer fraction; fitted when not given.
    source_fraction : float, optional
        f_src, the film's tracer fraction (scales C′ only; D does not depend on it);
        1 when not given.
    film_thickness_um : float, optional
        h, µm, for ``finite-film`` (fitted when not given).
    oxygen_counts : array_like, optional
        An oxygen channel (e.g. ¹⁸O⁻/¹⁶O counts) bounding the surface scan.
    exclusion : {"auto", "none", "oxygen"} or int
        ``auto``: sequential surface scan (module docstring); ``oxygen``: drop the
        O-elevated leading points; ``none``; an int: drop that many leading points.
    exclusion_z : float
        Studentised-residual threshold of the scan.
    oxygen_z : float
        O counts above bulk + oxygen_z·√bulk mark contaminated points.
    max_excluded_fraction : float
        The scan never drops more than this fraction of the points.
    depth_scale_err : float
        Relative 1σ error of the depth scale (crater depth or sputter rate).
    mass_bias : float
        Isotope-ratio correction factor K.
    bootstrap : int
        Parametric bootstrap replicates (0 = none).
    seed : int
        Bootstrap random seed.

    Returns
    -------
    dict
        ``D_cm2_s``, ``D_err_cm2_s`` (1σ: fit ⊕ depth scale), ``D_err_fit_cm2_s``,
        ``D_err_depth_scale_cm2_s``, ``sigma_um`` (s) and ``sigma_err_um``,
        ``sigma2_um2`` and ``sigma2_err_um2`` (fit ⊕ depth scale; for
        :func:`combine_anneal_times`), ``background_fraction`` (+ ``_err``),
        ``source_fraction``, ``amplitude``, ``film_thickness_um`` (finite-film),
        ``r2`` (of C′ over used points), ``chi2_red``, ``n_points``,
        ``n_points_used``, ``excluded_points`` (indices), ``oxygen_zone_points``,
        ``D_boot_ci95_cm2_s`` (when ``bootstrap``), ``model``, ``anneal_time_s``,
        ``uncertainty_method``, and ``curve`` (per-point arrays: depth_um, f, f_err,
        cprime, cprime_err, fit_f, fit_cprime, z, used).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.linspace(0.1, 30, 60)
    >>> t = 3600.0; D = 1.6e-10                      # cm² s⁻¹
    >>> s = np.sqrt(2 * D * t / 1e-8)                # µm
    >>> f = 0.05 + 0.4 * np.exp(-0.5 * (x / s) ** 2)
    >>> nt = rng.poisson(f * 1e5); no = rng.poisson((1 - f) * 1e5)
    >>> r = fit_tracer_profile(x, nt, no, anneal_time_s=t)
    >>> abs(r["D_cm2_s"] / D - 1) < 4 * r["D_err_cm2_s"] / D, r["excluded_points"]
    (True, [])
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    x_all = np.asarray(depth_um, dtype=float)
    nt_all = np.asarray(counts_tracer, dtype=float)
    no_all = np.asarray(counts_other, dtype=float)
    if not (x_all.shape == nt_all.shape == no_all.shape) or x_all.ndim != 1:
        raise ValueError("depth and counts must be 1-D arrays of one length")
    t = float(anneal_time_s)
    if not t > 0:
        raise ValueError("anneal_time_s must be positive")
    n_all = nt_all + no_all
    has = n_all > 0
    idx = np.nonzero(has)[0]
    if idx.size < 5:
        raise ValueError("fewer than 5 depth points have Li counts")
    x, n = x_all[has], n_all[has]
    f, f_err = isotope_fraction(nt_all[has], no_all[has], mass_bias=mass_bias)
    src = 1.0 if source_fraction is None else float(source_fraction)
    problem = _Problem(model, background_fraction, film_thickness_um, src)
    m = x.size

    # ---- how far the surface scan may go
    frac_limit = int(math.floor(max_excluded_fraction * m))
    o_zone = None
    if oxygen_counts is not None:
        o_zone = _oxygen_zone(np.asarray(oxygen_counts, float)[has], oxygen_z)
    limit = frac_limit if o_zone is None else min(frac_limit, o_zone + 2)
    limit = max(0, min(limit, m - len(problem.names) - 3))

    theta0 = _initial(problem, x, f)
    full = _fit_irls(problem, x, f, n, theta0, mass_bias)
    sd_model = _weights_sd(problem.f(x, full["theta"]), n, mass_bias)

    if isinstance(exclusion, bool) or not isinstance(exclusion, int | str):
        raise ValueError("exclusion must be 'auto', 'none', 'oxygen' or an int")
    if isinstance(exclusion, int):
        k = max(0, min(int(exclusion), m - len(problem.names) - 3))
        rule = f"the first {k} point(s) dropped as requested"
    elif exclusion == "none":
        k, rule = 0, "no points excluded (exclusion = 'none')"
    elif exclusion == "oxygen":
        if o_zone is None:
            raise ValueError("exclusion='oxygen' needs an oxygen channel")
        k = max(0, min(o_zone, m - len(problem.names) - 3))
        rule = f"points with O counts > bulk + {oxygen_z:g}·√bulk dropped"
    elif exclusion == "auto":
        k = 0
        theta = full["theta"]
        while k < limit:
            fit = _fit(problem, x[k:], f[k:], sd_model[k:], theta)
            theta = fit["theta"]
            deep = slice(max(limit - k, 0), None)
            dof = fit["z"][deep].size - len(problem.names)
            over = max(1.0, float(np.sum(fit["z"][deep] ** 2)) / dof) if dof > 0 else 1.0
            zk = fit["z"][0] / math.sqrt((1.0 - fit["leverage"][0]) * over)
            if abs(zk) > exclusion_z:
                k += 1
                sd_model = _weights_sd(problem.f(x, theta), n, mass_bias)
            else:
                break
        rule = (
            f"sequential surface scan: leading points dropped while their studentised residual "
            f"|z| > {exclusion_z:g} (at most {limit} point(s)"
            + ("; bounded by the O-elevated zone + 2" if o_zone is not None else "")
            + ")"
        )
    else:
        raise ValueError("exclusion must be 'auto', 'none', 'oxygen' or an int")

    fit = _fit_irls(problem, x[k:], f[k:], n[k:], full["theta"], mass_bias)
    p = problem.unpack(fit["theta"])
    dof = m - k - len(problem.names)
    chi2_red = fit["chi2"] / dof if dof > 0 else float("nan")
    scale = math.sqrt(max(1.0, chi2_red)) if np.isfinite(chi2_red) else 1.0
    cov = fit["cov"] * scale**2
    perr = dict(zip(problem.names, np.sqrt(np.clip(np.diag(cov), 0, None)), strict=True))
    s, s_err = float(p["s"]), float(perr["s"])
    s2 = s * s
    s2_err_fit = 2 * s * s_err
    d_um2 = (s2 - sigma0_um**2) / (2 * t)
    d_err_fit = s2_err_fit / (2 * t)
    d_err_scale = 2 * depth_scale_err * s2 / (2 * t)
    d_err = math.hypot(d_err_fit, d_err_scale)
    bg, bg_err = float(p["f_bg"]), perr.get("f_bg")

    # per-point curves on every input row (NaN where no counts)
    mu_all = problem.f(x_all, fit["theta"])
    f_full = np.full(x_all.shape, np.nan)
    ferr_full = np.full(x_all.shape, np.nan)
    f_full[has], ferr_full[has] = f, f_err
    z_full = np.full(x_all.shape, np.nan)
    sd_all = np.full(x_all.shape, np.nan)
    sd_all[has] = _weights_sd(problem.f(x, fit["theta"]), n, mass_bias)
    z_full[has] = (f - problem.f(x, fit["theta"])) / sd_all[has]
    used = np.zeros(x_all.shape, bool)
    used[idx[k:]] = True
    span = src - bg
    cprime = (f_full - bg) / span
    fit_c = (mu_all - bg) / span
    ss_res = float(np.sum((cprime[used] - fit_c[used]) ** 2))
    ss_tot = float(np.sum((cprime[used] - cprime[used].mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")

    out: dict[str, Any] = {
        "model": model,
        "anneal_time_s": t,
        "D_cm2_s": float(d_um2 * _UM2_TO_CM2),
        "D_err_cm2_s": d_err * _UM2_TO_CM2,
        "D_err_fit_cm2_s": d_err_fit * _UM2_TO_CM2,
        "D_err_depth_scale_cm2_s": d_err_scale * _UM2_TO_CM2,
        "sigma_um": s,
        "sigma_err_um": s_err,
        "sigma2_um2": s2,
        "sigma2_err_um2": math.hypot(s2_err_fit, 2 * depth_scale_err * s2),
        "sigma0_um": float(sigma0_um),
        "background_fraction": bg,
        "background_fraction_err": None if bg_err is None else float(bg_err),
        "background_source": "given" if background_fraction is not None else "fitted",
        "source_fraction": src,
        "amplitude": float(p["A"]),
        "amplitude_err": float(perr["A"]),
        "r2": r2,
        "chi2_red": chi2_red,
        "n_points": int(x_all.size),
        "n_points_used": int(used.sum()),
        "excluded_points": [int(i) for i in idx[:k]],
        "oxygen_zone_points": None if o_zone is None else [int(i) for i in idx[:o_zone]],
        "exclusion_rule": rule,
        "depth_scale_err": float(depth_scale_err),
        "uncertainty_method": "fit covariance (× √χ²ᵣ when > 1) ⊕ depth scale (δD/D = 2δz/z)",
    }
    if model == "finite-film":
        out["film_thickness_um"] = float(p["h"])
        out["film_thickness_err_um"] = perr.get("h")
    if bootstrap and bootstrap > 0:
        out["D_boot_ci95_cm2_s"], out["D_boot_sd_cm2_s"] = _bootstrap(
            problem,
            x[k:],
            n[k:],
            fit["theta"],
            t,
            sigma0_um,
            depth_scale_err,
            mass_bias,
            int(bootstrap),
            seed,
        )
    out["curve"] = {
        "depth_um": x_all,
        "f": f_full,
        "f_err": ferr_full,
        "cprime": cprime,
        "cprime_err": ferr_full / abs(span),
        "fit_f": mu_all,
        "fit_cprime": fit_c,
        "z": z_full,
        "used": used,
    }
    return out


def _bootstrap(problem, x, n, theta, t, sigma0_um, depth_scale_err, mass_bias, reps, seed):
    """Percentile 95 % interval and sd of D from binomial resampling of the fitted profile."""
    rng = np.random.default_rng(seed)
    mu = np.clip(problem.f(x, theta), 0.0, 1.0)
    k = mass_bias
    fm = mu / (k - (k - 1.0) * mu) if k != 1.0 else mu
    nn = np.round(n).astype(np.int64)
    d = []
    for _ in range(reps):
        nt = rng.binomial(nn, fm)
        fb, _ = isotope_fraction(nt, nn - nt, mass_bias=mass_bias)
        try:
            fit = _fit(problem, x, fb, _weights_sd(mu, n, mass_bias), theta, quick=True)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - pathological draw
            continue
        s2 = problem.unpack(fit["theta"])["s"] ** 2
        s2 *= (1.0 + depth_scale_err * rng.standard_normal()) ** 2
        d.append((s2 - sigma0_um**2) / (2 * t) * _UM2_TO_CM2)
    d = np.asarray(d)
    if d.size < 10:
        return None, None
    lo, hi = np.percentile(d, [2.5, 97.5])
    return [float(lo), float(hi)], float(d.std(ddof=1))


def combine_anneal_times(
    anneal_time_s: Sequence[float],
    sigma2_um2: Sequence[float],
    sigma2_err_um2: Sequence[float],
    *,
    sigma0_um: float = 0.0,
) -> dict[str, Any]:
    """D from several anneal times: weighted linear fit of s² = 2·D·t + s0².

    Parameters
    ----------
    anneal_time_s : sequence of float
        Anneal times, s.
    sigma2_um2, sigma2_err_um2 : sequence of float
        Fitted profile widths squared and their 1σ errors, µm².
    sigma0_um : float
        Depth resolution, µm, used only when all times are equal (then
        D = (weighted mean s² − σ0²)/(2t)).

    Returns
    -------
    dict
        ``D_cm2_s``, ``D_err_cm2_s`` (1σ), ``intercept_um2`` (s0² = σ0² + film and
        time-zero terms) and ``intercept_err_um2``, ``sigma0_um`` (√intercept, None if
        negative), ``chi2_red``, ``p_value``, ``birge_scaled`` (errors multiplied by
        √χ²ᵣ because the profiles disagree beyond their errors, p < 0.01),
        ``n_profiles``, ``method``.

    Examples
    --------
    >>> t = np.array([900.0, 1800, 3600, 7200])
    >>> s2 = 2 * 1.6e-10 / 1e-8 * t + 0.04          # µm², σ0 = 0.2 µm
    >>> r = combine_anneal_times(t, s2, 0.01 * s2)
    >>> round(r["D_cm2_s"] / 1.6e-10, 6), round(r["sigma0_um"], 3)
    (1.0, 0.2)
    """
    t = np.asarray(anneal_time_s, dtype=float)
    y = np.asarray(sigma2_um2, dtype=float)
    e = np.asarray(sigma2_err_um2, dtype=float)
    if not (t.shape == y.shape == e.shape) or t.size == 0:
        raise ValueError("anneal times, s² and their errors must be 1-D and of one length")
    if np.any(~(e > 0)):
        raise ValueError("every s² error must be positive")
    w = 1.0 / e**2
    if np.unique(t).size < 2:
        mean = float(np.sum(w * y) / np.sum(w))
        mean_err = float(1.0 / math.sqrt(np.sum(w)))
        chi2 = float(np.sum(w * (y - mean) ** 2))
        dof = y.size - 1
        out = {
            "method": "one anneal time: weighted mean of s², D = (s² − σ0²)/(2t)",
            "D_cm2_s": float((mean - sigma0_um**2) / (2 * t[0]) * _UM2_TO_CM2),
            "D_err_cm2_s": float(mean_err / (2 * t[0]) * _UM2_TO_CM2),
            "intercept_um2": None,
            "intercept_err_um2": None,
            "sigma0_um": float(sigma0_um),
        }
    else:
        a = np.column_stack([t, np.ones_like(t)])
        cov = np.linalg.inv(a.T @ (w[:, None] * a))
        beta = cov @ a.T @ (w * y)
        chi2 = float(np.sum(w * (y - a @ beta) ** 2))
        dof = y.size - 2
        out = {
            "method": "weighted linear fit of s² = 2·D·t + s0² over anneal times",
            "D_cm2_s": float(beta[0] / 2 * _UM2_TO_CM2),
            "D_err_cm2_s": float(math.sqrt(cov[0, 0]) / 2 * _UM2_TO_CM2),
            "intercept_um2": float(beta[1]),
            "intercept_err_um2": float(math.sqrt(cov[1, 1])),
            "sigma0_um": float(math.sqrt(beta[1])) if beta[1] > 0 else None,
        }
    chi2_red = chi2 / dof if dof > 0 else None
    p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else None
    birge = p is not None and p < 0.01
    if birge:
        f = math.sqrt(chi2_red)
        out["D_err_cm2_s"] *= f
        if out["intercept_err_um2"] is not None:
            out["intercept_err_um2"] *= f
    out.update(chi2_red=chi2_red, p_value=p, birge_scaled=birge, n_profiles=int(t.size))
    return out
