"""Galvanostatic nucleation features: E_nuc, t_nuc, Q_nuc, E_growth, η.

The potential of a galvanostatic plating transient falls (SEI, alloying) to a minimum —
the nucleation potential E_nuc at time t_nuc — then relaxes to a growth plateau
E_growth; η = E_growth − E_nuc (SCIENCE.md §2). A record whose potential never turns
back up has no E_nuc, and this module says so rather than inventing one.

Method
------
1. The potential noise σ_E is estimated from first differences (MAD, robust to the
   transient itself).
2. The record is smoothed with a Savitzky–Golay filter (window ≈ ``smooth_s``) on its
   own sampling grid and the global minimum of the smoothed curve is the candidate.
3. The candidate counts as a nucleation minimum only if the smoothed potential
   afterwards rises by more than ``max(rise_sigma·σ_E, min_rise_V)`` and the minimum
   is not at the record's end.
4. E_nuc and t_nuc are refined by least-squares quartic polynomials fitted to the
   raw points whose smoothed potential lies within ``depth_V`` of the minimum, for
   several window depths (a quartic follows the asymmetric shape of a nucleation
   minimum, where a parabola would be biased towards the slow side). The reported
   value is the fit at the middle depth; its uncertainty combines the fit's own
   standard error (delta method at the stationary point) with half the spread of the
   minimum over window depths, which measures the remaining model dependence. Errors
   are standard uncertainties (1σ); ``platescope analyze`` doubles every ``*_err`` into
   a ≈95 % interval when it writes ``summary.json``.
5. E_growth is the mean potential over the last ``growth_fraction`` of the record;
   its error is the standard error of that mean widened by half the drift across the
   window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope._errors import InputError

_C_PER_UAH = 3.6e-3
_MIN_FIT_POINTS = 15
_SPIKE_SIGMA = 10.0
#: Potentials (V) where a Li nucleation minimum can lie (vs Li/Li⁺ or a usual
#: quasi-reference); outside, the potential column's sign, unit or reference is suspect.
E_PLAUSIBLE_V = (-5.0, 5.0)

_NULL_KEYS = (
    "E_nuc_V",
    "E_nuc_V_err",
    "t_nuc_s",
    "t_nuc_s_err",
    "Q_nuc_uAh_cm2",
    "Q_nuc_uAh_cm2_err",
    "eta_nuc_V",
    "eta_nuc_V_err",
    "E_growth_V",
    "E_growth_V_err",
)


def _no_minimum(out: dict, reason: str) -> dict:
    out.update(dict.fromkeys(_NULL_KEYS), nucleated=False, reason=reason)
    return out


def isolated_outliers(potential_V, sigma_V: float | None = None) -> np.ndarray:
    """Single-sample spikes: samples that jump away from both neighbours, which agree.

    A sample k is a spike when it differs from both e[k−1] and e[k+1] in the same
    direction by more than ``thr = max(10·σ_E, 2 mV)`` while its neighbours agree to
    within thr/2 — a glitch of the instrument, not a feature of the electrode (a real
    nucleation minimum is many samples wide, and a record sampled on potential change
    steps by equal amounts, never out and back).

    >>> e = np.zeros(50); e[20] = -0.5
    >>> np.flatnonzero(isolated_outliers(e + 1e-4 * np.sin(np.arange(50))))
    array([20])
    """
    e = np.asarray(potential_V, dtype=float)
    out = np.zeros(e.size, dtype=bool)
    if e.size < 3:
        return out
    sig = potential_noise_V(e) if sigma_V is None else float(sigma_V)
    thr = max(_SPIKE_SIGMA * sig, 2e-3)
    d_prev = e[1:-1] - e[:-2]
    d_next = e[1:-1] - e[2:]
    spike = (
        (np.sign(d_prev) == np.sign(d_next))
        & (np.abs(d_prev) > thr)
        & (np.abs(d_next) > thr)
        & (np.abs(e[2:] - e[:-2]) < thr / 2)
    )
    out[1:-1] = spike
    return out


def potential_noise_V(potential_V) -> float:
    """Robust white-noise level of a potential record from its first differences.

    Parameters
    ----------
    potential_V : array_like
        Potential samples in V.

    Returns
    -------
    float
        Estimated standard deviation of the white noise in V.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(potential_noise_V(rng.normal(0, 1e-3, 20000)) * 1e3, 1)
    1.0
    """
    d = np.diff(np.asarray(potential_V, dtype=float))
    d = d[np.isfinite(d)]
    if d.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _vertex_fit(t, e, t_ref, degree=4):
    """Least-squares polynomial around a minimum; its minimum and their standard errors.

    Returns ``None`` when the polynomial has no minimum inside the window. Errors
    follow from the coefficient covariance by the delta method: at the stationary
    point x*, dx*/dθ_j = −j·x*^(j−1)/p''(x*) and dE*/dθ_j = x*^j.
    """
    half = max(t[-1] - t_ref, t_ref - t[0], 1e-12)
    x = (t - t_ref) / half
    powers = np.arange(degree + 1)
    design = x[:, None] ** powers[None, :]
    coef, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
    if rank <= degree:
        return None
    dof = max(x.size - degree - 1, 1)
    resid = e - design @ coef
    cov = float(resid @ resid) / dof * np.linalg.inv(design.T @ design)
    dcoef = coef[1:] * powers[1:]
    roots = np.roots(dcoef[::-1])
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= x[0]) & (roots <= x[-1])]
    if roots.size == 0:
        return None
    values = np.polyval(coef[::-1], roots)
    xs = float(roots[np.argmin(values)])
    curv = float(np.polyval((coef[2:] * powers[2:] * (powers[2:] - 1))[::-1], xs))
    if not curv > 0:
        return None
    jt = -np.concatenate([[0.0], powers[1:] * xs ** (powers[1:] - 1)]) / curv
    je = xs**powers
    return {
        "t": t_ref + xs * half,
        "E": float(np.polyval(coef[::-1], xs)),
        "t_err": float(np.sqrt(max(jt @ cov @ jt, 0.0))) * half,
        "E_err": float(np.sqrt(max(je @ cov @ je, 0.0))),
        "n": int(x.size),
    }


def galvanostatic_features(
    echem: pd.DataFrame,
    *,
    area_cm2: float | None = None,
    smooth_s: float = 0.5,
    rise_sigma: float = 8.0,
    min_rise_V: float = 1e-3,
    depths_V: tuple[float, ...] | None = None,
    growth_fraction: float = 0.2,
    ended_by: str | None = None,
) -> dict:
    """Nucleation features of a galvanostatic plating transient.

    Parameters
    ----------
    echem : pandas.DataFrame
        Columns ``time_s`` (s, from contact/start), ``potential_V`` (V vs Li/Li⁺) and
        ``current_A`` (A, cathodic negative).
    area_cm2 : float, optional
        Electrode (wetted footprint) area in cm²; needed for Q_nuc and j.
    smooth_s : float
        Savitzky–Golay window for locating the minimum, in s.
    rise_sigma, min_rise_V : float
        The potential must recover by more than ``max(rise_sigma·σ_E, min_rise_V)``
        (V) after the minimum for it to count as nucleation.
    depths_V : tuple of float, optional
        Window depths (V above the minimum) of the vertex fits; default scales with
        the noise: (2, 4, 8)·σ_E, at least (0.5, 1, 2) mV.
    growth_fraction : float
        Fraction of the record at its end averaged for E_growth.
    ended_by : str, optional
        How the step ended (:func:`platescope.echem.split_steps` ``ended_by``); a
        minimum at the end of a step cut off by a potential limit is named as such.

    Returns
    -------
    dict
        ``nucleated`` (bool), ``E_nuc_V``, ``E_nuc_V_err``, ``t_nuc_s``, ``t_nuc_s_err``,
        ``Q_nuc_uAh_cm2``, ``Q_nuc_uAh_cm2_err``, ``E_growth_V``, ``E_growth_V_err``,
        ``eta_nuc_V``, ``eta_nuc_V_err``, ``current_density_mA_cm2``, ``noise_V`` and a
        ``reason`` for every quantity that does not exist (then null).

    Examples
    --------
    >>> t = np.linspace(0, 30, 3001)
    >>> e = 0.05 * (t - 10.0) ** 2 / (1 + 0.5 * np.abs(t - 10.0)) - 0.1
    >>> df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-9})
    >>> f = galvanostatic_features(df)
    >>> round(f["E_nuc_V"], 4), round(f["t_nuc_s"], 2)
    (-0.1, 10.0)
    """
    for col in ("time_s", "potential_V", "current_A"):
        if col not in echem.columns:
            raise InputError(
                echem.attrs.get("source"),
                f"the electrochemistry record has no '{col}' column",
                "read it with platescope.io.read_echem or name the columns time_s, potential_V, current_A",
            )
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    ok = np.isfinite(t) & np.isfinite(e)
    t, e, i = t[ok], e[ok], i[ok]
    if t.size < 20:
        raise InputError(
            echem.attrs.get("source"),
            f"the record has only {t.size} finite points, too few for a galvanostatic analysis",
            "check that the file is the galvanostatic step and is complete",
        )
    if np.any(np.diff(t) <= 0):
        raise InputError(
            echem.attrs.get("source"),
            "time does not increase monotonically",
            "select a single galvanostatic step (one technique/loop) before the analysis",
        )

    sigma = potential_noise_V(e)
    spikes = isolated_outliers(e, sigma)
    n_spikes = int(spikes.sum())
    if n_spikes:
        t, e, i = t[~spikes], e[~spikes], i[~spikes]
    dt = float(np.median(np.diff(t)))
    win = int(round(smooth_s / dt)) | 1
    win = max(5, min(win, (t.size // 4) * 2 - 1 if t.size > 20 else 5))
    # scipy.signal (≈ 0.5–1.5 s to import) only here: readers use isolated_outliers,
    # and `platescope info` of an echem file must not pay for it
    from scipy.signal import savgol_filter

    smooth = savgol_filter(e, win, 2) if win > 3 else e.copy()

    out: dict = {
        "noise_V": sigma,
        "method": "quartic fits around the smoothed minimum, three window depths",
        "samples_excluded": n_spikes,
    }
    if n_spikes:
        out["warnings"] = [
            {
                "code": "samples-excluded",
                "message": f"{n_spikes} isolated potential sample(s) more than "
                f"{_SPIKE_SIGMA:g}σ from their neighbours (single-sample spikes) were left out "
                "of the nucleation analysis",
            }
        ]
    i_plating = i[i < 0]
    j = None
    if area_cm2 and i_plating.size:
        j = float(np.median(np.abs(i_plating))) / area_cm2 * 1e3
    out["current_density_mA_cm2"] = j

    n_g = max(3, int(round(growth_fraction * t.size)))
    tail = e[-n_g:]
    drift = abs(float(np.polyfit(t[-n_g:], tail, 1)[0]) * (t[-1] - t[-n_g]))
    e_growth = float(np.mean(tail))
    e_growth_err = float(np.hypot(np.std(tail, ddof=1) / np.sqrt(tail.size), drift / 2))

    k = int(np.argmin(smooth))
    rise_needed = max(rise_sigma * sigma, min_rise_V)
    after = smooth[k:]
    recovered = after.size > 1 and float(after.max() - smooth[k]) > rise_needed
    at_edge = k >= t.size - max(3, win // 2) or k <= max(3, win // 2)
    if at_edge or not recovered:
        if at_edge and k > t.size // 2:
            reason = (
                "the potential minimum is the step's last sample: the step ended at its "
                "potential cut-off, which is not a nucleation minimum"
                if ended_by == "potential limit"
                else "the potential minimum lies at the end of the step: it never turns back up"
            )
        elif at_edge:
            reason = "the potential minimum lies at the start of the record"
        else:
            reason = (
                "the potential never turns back up after its minimum (no nucleation minimum "
                "within the record)"
            )
        out.update(
            nucleated=False,
            E_nuc_V=None,
            E_nuc_V_err=None,
            t_nuc_s=None,
            t_nuc_s_err=None,
            Q_nuc_uAh_cm2=None,
            Q_nuc_uAh_cm2_err=None,
            eta_nuc_V=None,
            eta_nuc_V_err=None,
            E_growth_V=None,
            E_growth_V_err=None,
            reason=reason,
        )
        return out

    if depths_V is None:
        base = max(2 * sigma, 5e-4)
        depths_V = (base, 2 * base, 4 * base)
    fits = []
    for depth in depths_V:
        # contiguous run of points around k whose smoothed potential is within depth
        lo = k
        while lo > 0 and smooth[lo - 1] <= smooth[k] + depth:
            lo -= 1
        hi = k
        while hi < t.size - 1 and smooth[hi + 1] <= smooth[k] + depth:
            hi += 1
        if hi - lo + 1 < _MIN_FIT_POINTS:
            continue
        fit = _vertex_fit(t[lo : hi + 1], e[lo : hi + 1], t[k])
        if fit is not None and t[lo] <= fit["t"] <= t[hi]:
            fits.append(fit)
    if not fits:
        near = int(np.sum(smooth <= smooth[k] + max(depths_V)))
        kr = int(np.argmin(e))
        # what the record shows, as observed (not an estimate of E_nuc): lets a reader see
        # the unresolved overshoot without taking it for a fitted minimum
        out["E_min_observed_V"] = float(e[kr])
        out["t_min_observed_s"] = float(t[kr])
        return _no_minimum(
            out,
            f"the minimum is resolved by only {near} sample(s) within "
            f"{max(depths_V) * 1e3:.2g} mV of it, and a vertex fit needs {_MIN_FIT_POINTS} "
            "around it: sample the step faster (or it is a spike, not a nucleation minimum)",
        )
    mid = fits[len(fits) // 2]
    t_spread = (max(f["t"] for f in fits) - min(f["t"] for f in fits)) / 2 if len(fits) > 1 else 0
    e_spread = (max(f["E"] for f in fits) - min(f["E"] for f in fits)) / 2 if len(fits) > 1 else 0
    t_nuc = float(mid["t"])
    t_err = float(np.hypot(mid["t_err"], t_spread))
    e_nuc = float(mid["E"])
    e_err = float(np.hypot(mid["E_err"], e_spread))

    if e_nuc < float(np.min(e)) - 3.0 * max(sigma, 1e-12) - e_err:
        return _no_minimum(
            out,
            f"the vertex fit ({e_nuc:.4g} V) lies below every sample of the step: the "
            "minimum is not resolved",
        )
    before = t <= t_nuc
    q_C = float(np.trapezoid(np.abs(i[before]), t[before])) if before.sum() > 1 else 0.0
    if area_cm2:
        q_nuc = q_C / area_cm2 / _C_PER_UAH
        i_at = float(np.interp(t_nuc, t, np.abs(i)))
        q_err = float(np.hypot(i_at * t_err / area_cm2 / _C_PER_UAH, 0.0))
    else:
        q_nuc = q_err = None
    out.update(
        nucleated=True,
        E_nuc_V=e_nuc,
        E_nuc_V_err=e_err,
        t_nuc_s=t_nuc,
        t_nuc_s_err=t_err,
        Q_nuc_C=q_C,
        Q_nuc_uAh_cm2=q_nuc,
        Q_nuc_uAh_cm2_err=q_err,
        E_growth_V=e_growth,
        E_growth_V_err=e_growth_err,
        eta_nuc_V=e_growth - e_nuc,
        eta_nuc_V_err=float(np.hypot(e_growth_err, e_err)),
        n_fit_points=int(mid["n"]),
    )
    if q_nuc is None:
        out["reason"] = "Q_nuc needs the electrode area ([electrode] area_cm2 or a footprint mask)"
    if not (E_PLAUSIBLE_V[0] <= e_nuc <= E_PLAUSIBLE_V[1]):
        out.setdefault("warnings", []).append(
            {
                "code": "potential-out-of-range",
                "message": f"E_nuc = {e_nuc:.3g} V is outside {E_PLAUSIBLE_V[0]:g} to "
                f"{E_PLAUSIBLE_V[1]:g} V, where Li plating vs Li/Li⁺ or a usual quasi-reference "
                "lies: check the sign and unit of the potential column and the reference",
            }
        )
    return out


def describe_steps(steps: pd.DataFrame, *, limit: int = 6) -> str:
    """A short account of a step table, e.g. ``"rest 300 s, anodic galvanostatic 600 s"``.

    >>> st = pd.DataFrame({"kind": ["rest", "galvanostatic"], "direction": [None, "anodic"],
    ...                    "duration_s": [300.0, 600.0]})
    >>> describe_steps(st)
    'rest 300 s, anodic galvanostatic 600 s'
    """
    parts = []
    for r in steps.head(limit).itertuples():
        d = f"{r.direction} " if isinstance(r.direction, str) else ""
        parts.append(f"{d}{r.kind} {r.duration_s:.3g} s")
    if len(steps) > limit:
        parts.append(f"… {len(steps) - limit} more")
    return ", ".join(parts)


def nucleation_by_step(
    echem: pd.DataFrame,
    *,
    area_cm2: float | None = None,
    min_samples: int = 20,
    steps: pd.DataFrame | None = None,
    **options,
) -> tuple[list[dict], pd.DataFrame]:
    """Nucleation features of every cathodic constant-current (plating) step of a record.

    Nucleation is analysed only where it can happen: inside a galvanostatic step with
    cathodic (negative) current. Rests, anodic steps, sweeps and impedance blocks are never
    searched, so an open-circuit drift or a cut-off is not taken for a minimum.

    Parameters
    ----------
    echem : pandas.DataFrame
        The record (``time_s``, ``potential_V``, ``current_A``; instrument columns used
        by :func:`platescope.echem.split_steps` when present).
    area_cm2 : float, optional
        Electrode area, cm² (for Q_nuc and j).
    min_samples : int
        Least number of samples of a plating step worth analysing.
    steps : pandas.DataFrame, optional
        :func:`platescope.echem.split_steps` of the record, when the caller has it
        already (else it is computed here).
    **options
        Passed to :func:`galvanostatic_features` (``smooth_s``, ``rise_sigma``, …).

    Returns
    -------
    rows : list of dict
        One per plating step: ``step``, ``t_start_s``, ``t_end_s``, ``ended_by`` and
        the :func:`galvanostatic_features` keys (``nucleated`` False with a ``reason``
        when the step has no nucleation minimum or is too short).
    steps : pandas.DataFrame
        The full step table.

    Examples
    --------
    >>> t = np.arange(0.0, 40.0, 0.01)
    >>> i = np.where(t < 10, 0.0, -1e-9)          # 10 s at open circuit, then plating
    >>> tt = np.clip(t - 10, 0, None)
    >>> e = np.where(t < 10, 0.6, 0.05 * (tt - 10) ** 2 / (1 + 0.5 * np.abs(tt - 10)) - 0.1)
    >>> rows, steps = nucleation_by_step(pd.DataFrame(
    ...     {"time_s": t, "potential_V": e, "current_A": i}))
    >>> steps["kind"].tolist(), len(rows), round(rows[0]["t_nuc_s"], 2)
    (['rest', 'galvanostatic'], 1, 20.0)
    """
    from platescope.echem._steps import split_steps, step_slice

    if steps is None:
        steps = split_steps(echem)
    plating = steps[(steps["kind"] == "galvanostatic") & (steps["direction"] == "cathodic")]
    rows = []
    for r in plating.itertuples():
        base = {
            "step": int(r.step),
            "t_start_s": float(r.t_start_s),
            "t_end_s": float(r.t_end_s),
            "ended_by": r.ended_by,
            "current_A": float(r.I_median_A),
        }
        if r.n_samples < min_samples:
            rows.append(
                {
                    **base,
                    **dict.fromkeys(_NULL_KEYS),
                    "nucleated": False,
                    "reason": f"the step has only {r.n_samples} samples",
                }
            )
            continue
        part = step_slice(echem, steps.loc[r.Index])
        feats = galvanostatic_features(part, area_cm2=area_cm2, ended_by=r.ended_by, **options)
        rows.append({**base, **feats})
    return rows, steps
