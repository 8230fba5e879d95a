"""Stages of galvanostatic Li alloying from the potential record (SCIENCE.md §1).

A galvanostatic charge of a Au (or Ag) film shows plateaus joined by steep
transitions: SEI formation (the initial fall), the alloying steps, Li metal
deposition; on the way back Li dissolution then the dealloying steps. Method, per
half-cycle (a run of one current sign, :func:`half_cycles`):

1. the charge passed since the half-cycle began, Q(t) = ∫|I| dt (trapezoids), and the
   potential resampled on a uniform Q grid;
2. Gaussian-derivative filtering (sd ``smooth_frac`` of the half-cycle's charge, at
   least 1.5 samples; a positive kernel, so steep edges at the half-cycle's ends do
   not ring into false peaks as a polynomial filter's do) gives the slope
   s = ∓dE/dQ, signed so that a transition of the half-cycle's direction is positive
   (falling E on charge, rising on discharge);
3. transitions = local maxima of s (interior, ≥ 2 sd from either end; taken strongest
   first, a weaker one within 12 sd of an accepted one being its flank) whose
   prominence exceeds ``min_snr`` times the noise of s (σ_E from the median absolute
   second difference of E, propagated through the filter) and across which E changes
   by at least ``min_step_V`` — and by ``min_snr`` times its own noise — beyond the
   plateaus' own slopes (lines fitted 1–3 widths of 3 sd either side, compared at the
   peak, so a plain ramp has no step; a constant where an end leaves a short stretch);
   each is located to sub-sample by a parabola through the
   three highest samples, with 1σ error σ_Q = σ(dŝ/dQ)/|d²ŝ/dQ²| (first-order
   propagation of the white noise through the filter's derivative);
4. the stages are the intervals between transitions: cathodic ``SEI``,
   ``alloying 1..k``, ``Li metal`` (m transitions → k = m − 1); anodic
   ``Li dissolution``, ``dealloying m..1`` (the Li-richest phase empties first).

A half-cycle with no transition has no stages to report: it is listed in
``half_cycles`` with ``found = False`` and a reason, and no stage is invented. The
boundary at the steepest point is the natural definition for symmetric transitions;
for skewed ones it is where the phase change is fastest.

Li content: x = (Q − Q_SEI)/(F·n), n = ρ·h·A/M (:func:`host_moles`), Q counted from
the start of the cycle's cathodic half and Q_SEI the charge at the end of its SEI
stage; on the anodic half x decreases by the anodic charge (formal: dead Li stays in x).

Measured on the ``see-through-au``/``-ag`` simulators: see docs/see_through.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope.models import FARADAY_C_MOL

__all__ = ["FILM_PROPERTIES", "find_stages", "half_cycles", "host_moles", "li_content"]

#: density (g cm⁻³) and molar mass (g mol⁻¹) of film metals.
FILM_PROPERTIES = {"Au": (19.3, 196.97), "Ag": (10.49, 107.87)}


def host_moles(
    film_metal: str,
    thickness_nm: float,
    area_cm2: float,
    *,
    density_g_cm3: float | None = None,
    molar_mass_g_mol: float | None = None,
) -> float:
    """Moles of film metal n = ρ·h·A/M, mol.

    Parameters
    ----------
    film_metal : str
        ``"Au"`` or ``"Ag"`` (other metals need ``density_g_cm3`` and
        ``molar_mass_g_mol``).
    thickness_nm : float
        Film thickness h, nm.
    area_cm2 : float
        Electrode area A, cm².
    density_g_cm3, molar_mass_g_mol : float, optional
        Override the tabulated ρ (g cm⁻³) and M (g mol⁻¹).

    Examples
    --------
    >>> round(host_moles("Au", 20.0, 0.0707) * 1e9, 3)  # nmol
    13.855
    """
    rho, molar = FILM_PROPERTIES.get(film_metal, (None, None))
    rho = density_g_cm3 if density_g_cm3 is not None else rho
    molar = molar_mass_g_mol if molar_mass_g_mol is not None else molar
    if rho is None or molar is None:
        raise ValueError(
            f"no density/molar mass for film metal {film_metal!r}; give density_g_cm3 and "
            "molar_mass_g_mol"
        )
    for name, v in (("thickness_nm", thickness_nm), ("area_cm2", area_cm2)):
        if not (v is not None and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    return rho * thickness_nm * 1e-7 * area_cm2 / molar


def _arrays(echem: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("time_s", "potential_V", "current_A") if c not in echem]
    if missing:
        raise InputError(
            _source(echem),
            f"the record lacks the column(s) {', '.join(missing)}",
            "stage segmentation needs time, potential and current (a galvanostatic record)",
        )
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    ok = np.isfinite(t) & np.isfinite(e) & np.isfinite(i)
    if ok.sum() < 20:
        raise InputError(
            _source(echem),
            f"the record has only {int(ok.sum())} complete samples",
            "give a galvanostatic record with at least 20 samples",
        )
    t, e, i = t[ok], e[ok], i[ok]
    if np.any(np.diff(t) <= 0):
        raise InputError(
            _source(echem),
            "time_s is not strictly increasing",
            "fix or sort the record's time column",
        )
    return t, e, i


def half_cycles(echem: pd.DataFrame, *, rest_fraction: float = 0.05) -> pd.DataFrame:
    """Runs of one current sign (galvanostatic half-cycles).

    Samples with ``|I| < rest_fraction·P99(|I|)`` are rests and join the run before
    them. Cycle k is the k-th cathodic run and the anodic run after it (an anodic run
    before any cathodic one is cycle 0). A half-cycle
    starts at its first sample and ends at the next one's first sample: exact when the
    instrument records a point at each switch (EC-Lab does), else late by up to one
    sample period.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic negative).
    rest_fraction : float
        Rest threshold as a fraction of the 99th percentile of |I|.

    Returns
    -------
    pandas.DataFrame
        ``cycle`` (1-based), ``half`` ("cathodic"/"anodic"), ``i0``, ``i1`` (sample
        index range, end exclusive, into the finite samples), ``t_start_s``,
        ``t_end_s``, ``Q_C`` (∫|I| dt).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(200.0)
    >>> df = pd.DataFrame({"time_s": t, "potential_V": 0.1 + 0 * t,
    ...                    "current_A": np.where(t < 100, -1e-5, 1e-5)})
    >>> half_cycles(df)[["cycle", "half", "t_start_s"]].values.tolist()
    [[1, 'cathodic', 0.0], [1, 'anodic', 100.0]]
    """
    t, _, i = _arrays(echem)
    scale = float(np.percentile(np.abs(i), 99))
    if scale <= 0:
        raise InputError(
            _source(echem),
            "the current is zero throughout",
            "stage segmentation needs a galvanostatic (constant-current) record",
        )
    sign = np.where(np.abs(i) >= rest_fraction * scale, np.sign(i), 0.0)
    # rests take the sign of the run before them
    for n in range(1, sign.size):
        if sign[n] == 0:
            sign[n] = sign[n - 1]
    first = np.flatnonzero(sign != 0)
    if first.size:
        sign[: first[0]] = sign[first[0]]
    edges = np.flatnonzero(np.diff(sign) != 0) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [sign.size]])
    rows = []
    cycle = 0
    for a, b in zip(starts, ends, strict=True):
        half = "cathodic" if sign[a] < 0 else "anodic"
        if half == "cathodic":
            cycle += 1
        seg_t = t[a:b]
        seg_i = np.abs(i[a:b])
        q = float(np.sum(0.5 * (seg_i[1:] + seg_i[:-1]) * np.diff(seg_t))) if b - a > 1 else 0.0
        rows.append(
            {
                "cycle": cycle,  # a leading discharge (before any charge) is cycle 0
                "half": half,
                "i0": int(a),
                "i1": int(b),
                # a half-cycle starts at its first sample (EC-Lab records one at each
                # sequence start) and ends where the next one starts
                "t_start_s": float(t[a]),
                "t_end_s": float(t[b] if b < t.size else t[-1]),
                "Q_C": q,
            }
        )
    return pd.DataFrame(rows)


def _noise_sd(e: np.ndarray) -> float:
    """White-noise sd from the median absolute second difference (robust to steps)."""
    if e.size < 5:
        return 0.0
    d2 = np.diff(e, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def _kernel_norm(sigma: float, order: int, n: int) -> float:
    """‖h‖₂ of the Gaussian-derivative filter (per unit grid step)."""
    imp = np.zeros(n)
    imp[n // 2] = 1.0
    return float(np.sqrt(np.sum(gaussian_filter1d(imp, sigma, order=order, mode="nearest") ** 2)))


def _step_height(grid: np.ndarray, eg: np.ndarray, pk: int, w: int, sig_e: float):
    """Potential step across a transition in excess of the plateaus' own slopes, and its
    1σ error.

    Straight lines are fitted to the samples 1–3 widths before and after the peak (a
    constant where the record's end leaves fewer than ``w`` samples, so a short stretch
    is not extrapolated); the step is the difference of the two fits at the peak (a
    plain ramp gives ≈ 0). The error propagates white noise σ_E through both fits.
    """
    n = grid.size
    left = slice(max(pk - 3 * w, 0), max(pk - w, 0))
    right = slice(min(pk + w, n - 1), min(pk + 3 * w, n))
    vals, var = [], []
    for sl in (left, right):
        x, y = grid[sl] - grid[pk], eg[sl]
        m = x.size
        if m >= max(w, 3):
            c = np.polyfit(x, y, 1)
            vals.append(c[1])
            sxx = float(np.sum((x - x.mean()) ** 2))
            var.append(sig_e**2 * (1.0 / m + x.mean() ** 2 / sxx))
        elif m:
            vals.append(float(np.mean(y)))
            var.append(sig_e**2 / m)
        else:
            vals.append(float(eg[pk]))
            var.append(sig_e**2)
    return abs(vals[0] - vals[1]), math.sqrt(var[0] + var[1])


def _transitions(q, e, sign, *, smooth_frac, min_snr, min_step_V):
    """Transition positions (C, since the half start), their 1σ errors and diagnostics."""
    dq = float(np.median(np.diff(q)))
    grid = q[0] + dq * np.arange(int(math.floor((q[-1] - q[0]) / dq)) + 1)
    eg = np.interp(grid, q, e)
    sig = max(1.5, smooth_frac * (q[-1] - q[0]) / dq)  # Gaussian sd, grid steps
    guard = int(math.ceil(2 * sig))
    if grid.size < 4 * guard + 3:
        return None, f"only {q.size} samples in the half-cycle, too few for the smoothing"
    s = sign * gaussian_filter1d(eg, sig, order=1, mode="nearest") / dq
    s2 = sign * gaussian_filter1d(eg, sig, order=2, mode="nearest") / dq**2
    s3 = sign * gaussian_filter1d(eg, sig, order=3, mode="nearest") / dq**3
    sig_e = _noise_sd(eg)
    n_k = int(8 * sig) | 1
    sig_s = max(sig_e * _kernel_norm(sig, 1, n_k) / dq, 1e-15)
    sig_s2 = sig_e * _kernel_norm(sig, 2, n_k) / dq**2
    peaks, props = find_peaks(s, prominence=min_snr * sig_s)
    out = []
    accepted: list[int] = []
    w3 = int(math.ceil(3 * sig))
    # strongest first; a weaker peak within 4 widths of an accepted one is its flank
    for k in np.argsort(-s[peaks]) if peaks.size else []:
        pk = int(peaks[k])
        if pk < guard or pk > grid.size - 1 - guard or s[pk] <= 0:
            continue
        if any(abs(pk - a) <= 4 * w3 for a in accepted):
            continue
        step, step_err = _step_height(grid, eg, pk, w3, sig_e)
        if step < max(min_step_V, min_snr * step_err):
            continue
        accepted.append(pk)
        y0, y1, y2 = s[pk - 1], s[pk], s[pk + 1]
        den = y0 - 2 * y1 + y2
        off = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
        q0 = float(grid[pk] + off * dq)
        curv = float(np.interp(q0, grid, s3))
        err = sig_s2 / abs(curv) if curv < 0 else float("nan")
        out.append(
            {
                "q_C": q0,
                "q_err_C": float(math.hypot(err, dq / math.sqrt(12))) if np.isfinite(err) else None,
                "prominence_snr": float(props["prominences"][k] / sig_s),
                "step_V": float(step),
                "slope_peak": float(s[pk]),
                "slope2_at_peak": float(np.interp(q0, grid, s2)),
            }
        )
    out.sort(key=lambda d: d["q_C"])
    diag = {"smooth_sd_C": sig * dq, "noise_V": sig_e, "slope_noise": sig_s}
    return (out, diag), None


def find_stages(
    echem: pd.DataFrame,
    *,
    n_host_mol: float | None = None,
    smooth_frac: float = 0.006,
    min_snr: float = 6.0,
    min_step_V: float = 0.01,
    rest_fraction: float = 0.05,
) -> dict[str, Any]:
    """Named stages of a galvanostatic alloying/cycling record.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic negative).
    n_host_mol : float, optional
        Moles of film metal (:func:`host_moles`); gives x at every stage end.
    smooth_frac : float
        Gaussian smoothing sd as a fraction of each half-cycle's charge (≥ 1.5 samples).
    min_snr : float
        Least prominence of a transition's slope peak, in units of the slope noise.
    min_step_V : float
        Least potential step across a transition beyond the plateaus' slopes, V (the
        step must also exceed ``min_snr`` times its noise).
    rest_fraction : float
        Rest threshold for :func:`half_cycles`.

    Returns
    -------
    dict
        ``stages`` — list of dicts: ``cycle``, ``half``, ``name``, ``t_start_s``,
        ``t_start_s_err``, ``t_end_s``, ``t_end_s_err``, ``E_mean_V``,
        ``E_mean_V_err``, ``Q_end_C`` (since the half-cycle start), ``x_end``,
        ``x_end_err`` (null without ``n_host_mol``; 1σ errors, null where exact: a
        half-cycle's own start/end); ``half_cycles`` — per half-cycle ``cycle``,
        ``half``, ``t_start_s``, ``t_end_s``, ``Q_C``, ``found``, ``n_transitions``,
        ``reason`` (why no stage, or null), ``window_C``, ``noise_V``; ``found``
        (any stage found); ``reason`` (null, or why none was found); ``method``.

    Raises
    ------
    InputError
        Missing columns, too few samples, non-increasing time, zero current.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(0, 200, 0.2)
    >>> e = 0.3 - 0.2 / (1 + np.exp(-(t - 100) / 2))  # one plateau → another
    >>> df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-5 + 0 * t})
    >>> r = find_stages(df)
    >>> [(s["name"], round(s["t_end_s"], 1)) for s in r["stages"]]
    [('SEI', 100.0), ('Li metal', 199.8)]
    """
    t, e, i = _arrays(echem)
    halves = half_cycles(echem, rest_fraction=rest_fraction)
    qx = FARADAY_C_MOL * n_host_mol if n_host_mol else None
    stages: list[dict] = []
    hrows: list[dict] = []
    q_sei: dict[int, tuple[float, float | None]] = {}
    x_li_end: dict[int, tuple[float, float | None]] = {}
    for h in halves.itertuples(index=False):
        tt, ee, ii = t[h.i0 : h.i1], e[h.i0 : h.i1], np.abs(i[h.i0 : h.i1])
        # rests (|I| below the threshold) carry no charge: leave them out of E(Q)
        live = ii >= rest_fraction * float(np.percentile(np.abs(i), 99))
        tt, ee, ii = tt[live], ee[live], ii[live]
        q_full = np.concatenate([[0.0], np.cumsum(0.5 * (ii[1:] + ii[:-1]) * np.diff(tt))])
        row = {
            "cycle": int(h.cycle),
            "half": h.half,
            "t_start_s": h.t_start_s,
            "t_end_s": h.t_end_s,
            "Q_C": h.Q_C,
            "found": False,
            "n_transitions": 0,
            "reason": None,
        }
        hrows.append(row)
        if ee.size < 20 or np.any(np.diff(q_full) <= 0):
            row["reason"] = "too few samples or a zero-current stretch inside the half-cycle"
            continue
        sign = -1.0 if h.half == "cathodic" else 1.0
        res, why = _transitions(
            q_full, ee, sign, smooth_frac=smooth_frac, min_snr=min_snr, min_step_V=min_step_V
        )
        if res is None:
            row["reason"] = why
            continue
        trans, diag = res
        row.update(diag)
        row["n_transitions"] = len(trans)
        if not trans:
            row["reason"] = (
                "no transition between potential plateaus: |dE/dQ| has no peak with "
                f"prominence ≥ {min_snr:g}× its noise and a step ≥ {min_step_V * 1e3:g} mV"
            )
            continue
        row["found"] = True
        m = len(trans)
        if h.half == "cathodic":
            names = ["SEI"] + [f"alloying {j}" for j in range(1, m)] + ["Li metal"]
        else:
            names = ["Li dissolution"] + [f"dealloying {m - j}" for j in range(m)]
        qb = [0.0] + [tr["q_C"] for tr in trans] + [float(q_full[-1])]
        qe = [None] + [tr["q_err_C"] for tr in trans] + [None]
        tb = np.interp(qb, q_full, tt)
        tb[0], tb[-1] = h.t_start_s, h.t_end_s  # a trailing rest ends the last stage
        cur = float(np.median(ii))
        if h.half == "cathodic":
            q_sei[int(h.cycle)] = (qb[1], qe[1])
        for j, name in enumerate(names):
            sel = (tt >= tb[j]) & (tt <= tb[j + 1])
            ev = ee[sel]
            x_end = x_err = None
            if qx and int(h.cycle) in q_sei:
                qs, qs_err = q_sei[int(h.cycle)]
                var = (qs_err or 0.0) ** 2 + (qe[j + 1] or 0.0) ** 2
                if h.half == "cathodic":
                    x_end = (qb[j + 1] - qs) / qx
                    if j == len(names) - 1:
                        x_li_end[int(h.cycle)] = (x_end, (qs_err or 0.0) / qx)
                elif int(h.cycle) in x_li_end:
                    x_end = x_li_end[int(h.cycle)][0] - qb[j + 1] / qx
                x_err = math.sqrt(var) / qx if x_end is not None else None
            stages.append(
                {
                    "cycle": int(h.cycle),
                    "half": h.half,
                    "name": name,
                    "t_start_s": float(tb[j]),
                    "t_start_s_err": qe[j] / cur if qe[j] is not None else None,
                    "t_end_s": float(tb[j + 1]),
                    "t_end_s_err": qe[j + 1] / cur if qe[j + 1] is not None else None,
                    "E_mean_V": float(ev.mean()) if ev.size else None,
                    "E_mean_V_err": float(ev.std(ddof=1) / math.sqrt(ev.size))
                    if ev.size > 1
                    else None,
                    "Q_end_C": float(qb[j + 1]),
                    "x_end": x_end,
                    "x_end_err": x_err,
                }
            )
    found = bool(stages)
    reason = None
    if not found:
        reasons = sorted({r["reason"] for r in hrows if r["reason"]})
        reason = "no stage found in any half-cycle: " + "; ".join(reasons)
    return {
        "stages": stages,
        "half_cycles": hrows,
        "found": found,
        "reason": reason,
        "method": (
            f"per half-cycle: Gaussian-derivative (sd {smooth_frac:.1%} of the half-cycle "
            f"charge) slope of E vs Q; transitions = slope peaks ≥ {min_snr:g}σ with a "
            f"≥ {min_step_V * 1e3:g} mV step; stages between transitions"
        ),
    }


def li_content(
    echem: pd.DataFrame, *, n_host_mol: float, q_sei_C: float = 0.0, t_start_s: float | None = None
) -> np.ndarray:
    """x in LixM along the record: x = (∫|I|·sign dt − Q_SEI)/(F·n) from ``t_start_s``.

    The cathodic charge counts positive (Li in), the anodic negative.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``current_A`` (A, cathodic negative).
    n_host_mol : float
        Moles of film metal (:func:`host_moles`), mol.
    q_sei_C : float
        Charge spent on the SEI, C.
    t_start_s : float, optional
        Where x counts from (default: the record start); earlier samples get NaN.

    Returns
    -------
    numpy.ndarray
        x per sample.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"time_s": [0.0, 10.0], "current_A": [-1e-5, -1e-5]})
    >>> round(float(li_content(df, n_host_mol=1e-9)[-1]), 4)
    1.0364
    """
    t = echem["time_s"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    t0 = t[0] if t_start_s is None else float(t_start_s)
    q = np.concatenate([[0.0], np.cumsum(-0.5 * (i[1:] + i[:-1]) * np.diff(t))])
    q0 = float(np.interp(t0, t, q))
    x = (q - q0 - q_sei_C) / (FARADAY_C_MOL * n_host_mol)
    x[t < t0] = np.nan
    return x
