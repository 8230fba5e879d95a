"""Stages of galvanostatic Li alloying from the potential record (SCIENCE.md §1).

A galvanostatic charge of a Au (or Ag) film shows plateaus joined by steep
transitions: SEI formation (the initial fall), the alloying steps, Li metal
deposition; on the way back Li dissolution then the dealloying steps. Method, per
half-cycle (a run of one current sign, :func:`half_cycles`):

1. the charge passed since the half-cycle began, Q(t) = ∫|I| dt (trapezoids), and the
   potential resampled on a uniform Q grid;
2. Gaussian-derivative filtering (sd ``smooth_frac`` of the half-cycle's charge, at
   least 1.5 samples; a positive kernel, so steep edges do not ring into false peaks
   as a polynomial filter's do; each end padded by the straight line through its first
   ~sd samples, so a record that starts on a slope has no artificial corner) gives the
   slope s = ∓dE/dQ, signed so that a transition of the half-cycle's direction is
   positive (falling E on charge, rising on discharge);
3. **steps** = local maxima of s (interior, ≥ 2 sd from either end; taken strongest
   first, a weaker one within 12 sd of an accepted one being its flank) whose
   prominence exceeds ``min_snr`` times the noise of s (σ_E from the median absolute
   second difference of E, propagated through the filter) and across which E changes
   by at least ``min_step_V`` — and by ``min_snr`` times its own noise — beyond the
   plateaus' own slopes (lines fitted 1–3 widths of 3 sd either side, compared at the
   peak, so a plain ramp has no step; a constant where an end leaves a short stretch);
   each is located to sub-sample by a parabola through the
   three highest samples, with 1σ error σ_Q = σ(dŝ/dQ)/|d²ŝ/dQ²| (first-order
   propagation of the white noise through the filter's derivative);
4. **plateau onsets** ("kinks": a sloping stretch — typically the SEI decay — that
   meets a flat plateau with a continuous E and a slope discontinuity, so s has no
   peak there): candidates are maxima of κ = −ds/dQ (the filter's second derivative)
   with prominence ≥ 3 σ_κ, ≥ 2 sd from the ends and ≥ 12 sd from an accepted step
   (its flanks are corners too). A candidate is accepted when straight lines fitted
   to E from ⅓ to 3 widths before and after it (the window before starting ≥ 2 sd
   after the half-cycle start, so the fast initial drop of a charge is not an onset)
   give a slope before that is positive (the half-cycle's direction), a slope after
   ≤ ¼ of it — an exponential decay of length λ passes only when λ ≲ 3 widths, i.e.
   when it is a corner at this resolution —, a slope change ≥ ``min_snr`` times its
   noise, and a miss of ≥ ``min_step_V`` when the line before is run on for two
   widths. It is located by a continuous piecewise fit — a cubic before (the curving
   decay) and a line after — over 3 widths either side, the breakpoint at the least
   residual sum on the sample grid refined by a parabola; 1σ error from the residual
   sum's curvature (Δχ² = 1). Chosen by measurement on planted kinks (exponential
   decays of length ⅓–1.5× the SEI duration meeting a flat plateau, 0.5–4 mV
   noise): the κ-peak position alone is biased early by up to 0.4 sd when the decay
   curves strongly (its curvature ends at the corner), and a line (instead of a cubic)
   before the breakpoint by up to 0.9 sd; the cubic-then-line fit is within 0.1 sd,
   and its stated error matches the scatter over seeds. Limit: when the decay is so
   curved that κ has only a shoulder at the corner (decay length ≲ ⅓ of a short SEI),
   the onset is not found: the SEI then swallows the plateau, which is reported as
   missing, with a ``sei-ends-on-plateau`` warning when the SEI ends flat at a
   tabulated plateau;
5. **names from potentials** (when the film metal's alloying plateaus are known,
   :data:`ALLOYING_PLATEAUS_V`, or ``plateaus_V`` is given): each segment between
   transitions gets the median E of its interior (2 sd from its ends). Cathodic:
   trailing segments below ``li_metal_max_V`` (+10 mV) are ``Li metal``; the first
   segment is ``SEI`` when it slopes (5–95 % range > 2 × tolerance) or lies above
   every tabulated plateau + tolerance, and so is any sloping segment right after
   it; every other segment is ``alloying j`` for the nearest tabulated plateau j
   within ``plateau_tol_V`` (±40 mV; j never decreases along the charge), else
   ``unidentified`` (warning ``stage-unidentified``). Neighbours with the same name
   are one stage (the transition between them is dropped and listed in
   ``half_cycles[].merged_at_s``). A tabulated stage without a segment is a row with
   ``found = False``, null times and a reason — names never shift. Anodic: leading
   segments below the lowest alloying plateau are ``Li dissolution``; the rest are
   ``dealloying`` — the cycle's found alloying steps in reverse when their number
   agrees, else by order with a ``stage-names-by-order`` warning (no dealloying
   potentials are tabulated). Without a table entry (Ag, unknown metal) every name is
   by order — cathodic ``SEI``, ``alloying 1..k``, ``Li metal`` (m transitions →
   k = m − 1), anodic ``Li dissolution``, ``dealloying m..1`` — with a
   ``stage-names-by-order`` warning.

The ±40 mV tolerance: reports of the same Li–Au plateau differ by ≤ 20 mV (0.14 vs
0.15 V, 0.07 vs 0.05 V; see the table's sources) and the plateau potential shifts
with rate and film (diffusion overpotential, Mao et al.), so half the window is
scatter and half margin; the Au plateaus are 70 mV apart, so the windows overlap only
between 0.10 and 0.11 V, where the nearest wins; Li metal (< +10 mV) is decided first.
A plateau more than 40 mV from every tabulated one is reported as unidentified rather
than forced onto a name.

A half-cycle with no transition has no stages to report: it is listed in
``half_cycles`` with ``found = False`` and a reason, and no stage is invented. The
boundary at the steepest point is the natural definition for symmetric transitions;
for skewed ones it is where the phase change is fastest; at a plateau onset it is
the corner.

Li content: x = (Q − Q_SEI)/(F·n), n = ρ·h·A/M (:func:`host_moles`), Q counted from
the start of the cycle's cathodic half and Q_SEI the charge at the end of its SEI
stage (0 when no SEI stage is found); on the anodic half x decreases by the anodic
charge (formal: dead Li stays in x).

Measured on the ``see-through-au``/``-ag`` simulators: see docs/see_through.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import cumulative_trapezoid
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope.models import FARADAY_C_MOL

__all__ = [
    "ALLOYING_PLATEAUS_V",
    "FILM_PROPERTIES",
    "find_stages",
    "half_cycles",
    "host_moles",
    "li_content",
]

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


def _line_fit(x: np.ndarray, y: np.ndarray, sig_e: float):
    """Slope of a straight-line fit and its 1σ error (white noise σ_E), or None."""
    if x.size < 3:
        return None
    sxx = float(np.sum((x - x.mean()) ** 2))
    if sxx <= 0:
        return None
    b = float(np.sum((x - x.mean()) * (y - y.mean())) / sxx)
    return b, sig_e / math.sqrt(sxx)


def _kink_slopes(grid, eg, pk: int, w: int, lo: int, sig_e: float):
    """Slopes (V C⁻¹) of lines fitted from ⅓ to 3 widths before and after a candidate
    kink (a width w = 3 sd of the smoothing); the window before starts no earlier than
    sample ``lo``, so a short sloping stretch after the half-cycle start still counts."""
    n = grid.size
    g = max(1, w // 3)
    before = slice(max(pk - 3 * w, lo), max(pk - g, 0))
    after = slice(min(pk + g, n - 1), min(pk + 3 * w, n))
    fb = _line_fit(grid[before], eg[before], sig_e) if before.stop - before.start >= 3 else None
    fa = _line_fit(grid[after], eg[after], sig_e) if after.stop - after.start >= 3 else None
    return fb, fa


def _locate(y: np.ndarray, pk: int, grid: np.ndarray, dq: float, d1_noise: float, d2: np.ndarray):
    """Sub-sample position of a maximum of ``y`` (parabola through the top three
    samples) and its 1σ error σ(dy/dQ)/|d²y/dQ²| (first-order noise propagation)."""
    y0, y1, y2 = y[pk - 1], y[pk], y[pk + 1]
    den = y0 - 2 * y1 + y2
    off = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
    q0 = float(grid[pk] + off * dq)
    curv = float(np.interp(q0, grid, d2))
    err = d1_noise / abs(curv) if curv < 0 else float("nan")
    return q0, (float(math.hypot(err, dq / math.sqrt(12))) if np.isfinite(err) else None)


def _transitions(q, e, sign, *, smooth_frac, min_snr, min_step_V, kinks=True):
    """Transitions (steps and plateau onsets) in charge since the half start, C; their
    1σ errors and diagnostics."""
    dq = float(np.median(np.diff(q)))
    grid = q[0] + dq * np.arange(int(math.floor((q[-1] - q[0]) / dq)) + 1)
    eg = np.interp(grid, q, e)
    sig = max(1.5, smooth_frac * (q[-1] - q[0]) / dq)  # Gaussian sd, grid steps
    guard = int(math.ceil(2 * sig))
    if grid.size < 4 * guard + 3:
        return None, f"only {q.size} samples in the half-cycle, too few for the smoothing"
    # pad each end by the straight line through its first (last) ~sd samples, so the
    # filter sees no artificial corner at the ends (a constant pad makes the slope of a
    # sloping start rise from zero into a false slope peak)
    npad = int(4 * sig) + 2
    m = max(3, int(math.ceil(sig)))
    xs = np.arange(m, dtype=float)
    c0 = np.polyfit(xs, eg[:m], 1)
    c1 = np.polyfit(xs, eg[-m:], 1)
    pad0 = np.polyval(c0, np.arange(-npad, 0, dtype=float))
    pad1 = np.polyval(c1, np.arange(m, m + npad, dtype=float))
    ep = np.concatenate([pad0, eg, pad1])
    d = [
        sign * gaussian_filter1d(ep, sig, order=k, mode="nearest")[npad:-npad] / dq**k
        for k in range(5)
    ]
    s, s2, s3 = d[1], d[2], d[3]
    sig_e = _noise_sd(eg)
    n_k = int(8 * sig) | 1
    norm = [_kernel_norm(sig, k, n_k) for k in range(5)]
    sig_s = max(sig_e * norm[1] / dq, 1e-15)
    peaks, props = find_peaks(s, prominence=min_snr * sig_s)
    out = []
    accepted: list[int] = []
    w3 = int(math.ceil(3 * sig))
    # steps: maxima of the slope, strongest first; a weaker peak within 4 widths of an
    # accepted one is its flank
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
        q0, qerr = _locate(s, pk, grid, dq, sig_e * norm[2] / dq**2, s3)
        out.append(
            {
                "q_C": q0,
                "q_err_C": qerr,
                "kind": "step",
                "snr": float(props["prominences"][k] / sig_s),
                "step_V": float(step),
            }
        )
    # plateau onsets after a sloping stretch ("kinks"): maxima of κ = −ds/dQ (the slope
    # in the half-cycle's direction falls), clear of the steps' flanks, where a line
    # fitted before is ≥ min_snr σ steeper than one fitted after, the slope at least
    # halves, and the line before, run on for two widths, misses the plateau by
    # ≥ min_step_V
    if kinks:
        kap = -s2
        sig_k = max(sig_e * norm[2] / dq**2, 1e-15)
        kpk, kprops = find_peaks(kap, prominence=3.0 * sig_k)
        for k in np.argsort(-kap[kpk]) if kpk.size else []:
            pk = int(kpk[k])
            if pk < guard or pk > grid.size - 1 - guard:
                continue
            if any(abs(pk - a) <= 4 * w3 for a in accepted):
                continue
            fb, fa = _kink_slopes(grid, eg, pk, w3, guard, sig_e)
            if fb is None or fa is None:
                continue
            bb, bb_err = sign * fb[0], fb[1]
            ba, ba_err = sign * fa[0], fa[1]
            change = bb - ba
            if bb <= 0 or ba > 0.25 * bb:
                continue
            if change < min_snr * math.hypot(bb_err, ba_err):
                continue
            if change * 2 * w3 * dq < min_step_V:
                continue
            accepted.append(pk)
            fit = _refine_kink(grid, eg, pk, w3, guard, sig_e)
            if fit is None:
                continue
            q0, qerr = fit
            out.append(
                {
                    "q_C": q0,
                    "q_err_C": qerr,
                    "kind": "kink",
                    "snr": float(kprops["prominences"][k] / sig_k),
                    "slope_before_V_C": float(bb),
                    "slope_after_V_C": float(ba),
                }
            )
    out.sort(key=lambda d_: d_["q_C"])
    diag = {"smooth_sd_C": sig * dq, "noise_V": sig_e, "slope_noise": sig_s}
    return (out, diag), None


def _refine_kink(grid, eg, pk: int, w: int, lo: int, sig_e: float):
    """Breakpoint of a continuous fit — a cubic before (the curving decay) and a
    line after — on the samples 3 widths either side of a κ peak; least squares over
    the breakpoint on the sample grid, refined by a parabola through the residual sums.
    Returns (q_C, 1σ error C) or None."""
    n = grid.size
    a, b = max(pk - 3 * w, lo), min(pk + 3 * w + 1, n)
    x, y = grid[a:b], eg[a:b]
    cands = np.arange(max(pk - w, a + 3), min(pk + w, b - 3) + 1)
    if cands.size < 3:
        return None
    rss = np.empty(cands.size)
    for m, c in enumerate(cands):
        u = x - grid[c]
        neg = np.minimum(u, 0.0)
        A = np.column_stack([np.ones_like(u), neg, neg**2, neg**3, np.maximum(u, 0.0)])
        coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
        rss[m] = float(np.sum((A @ coef - y) ** 2))
    j = int(np.argmin(rss))
    if j == 0 or j == cands.size - 1:
        return None
    dq = float(grid[1] - grid[0])
    r0, r1, r2 = rss[j - 1], rss[j], rss[j + 1]
    den = r0 - 2 * r1 + r2
    off = float(np.clip(0.5 * (r0 - r2) / den, -0.5, 0.5)) if den > 0 else 0.0
    q0 = float(grid[cands[j]] + off * dq)
    # Δχ² = 1 interval: RSS(q) ≈ RSS_min + ½·den/dq²·(q − q0)², σ_q² = 2σ_E²·dq²/den
    err = math.sqrt(2.0 * sig_e**2 * dq**2 / den) if den > 0 else None
    return q0, err


#: Alloying (cathodic) plateau potentials of film metals, V vs Li/Li⁺, in the order they
#: appear on charge, with their source. Ag is absent on purpose: Mao et al. (2024)
#: report four Li–Ag alloying steps but no stable plateau and no potentials (a
#: solid-solution reaction), so Ag stages are named by order (with a warning).
ALLOYING_PLATEAUS_V: dict[str, dict[str, Any]] = {
    "Au": {
        "plateaus_V": (0.14, 0.07),
        "source": (
            "Mao, Li, Xu, Hao, Chem. Sci. 2024, 15, 3192 (14–28 nm Au films, 0.5 mA cm⁻²): "
            "plateaus at 0.14 V (to x = 1.53) and 0.07 V (to x = 2.69), SCIENCE.md §1; "
            "Hejazi et al., J. Electrochem. Soc. 2024, 171, 050518 find AuLi3 forming at "
            "0.15 V and Au4Li15 at 0.05 V (within 20 mV)"
        ),
    },
}


def _level(tt, ee, t0, t1, margin_s):
    """Median potential and its 5–95 % range over a stage's interior (V), or Nones."""
    m = min(margin_s, 0.25 * (t1 - t0))
    sel = (tt >= t0 + m) & (tt <= t1 - m)
    if sel.sum() < 3:
        sel = (tt >= t0) & (tt <= t1)
    if not sel.any():
        return None, None
    v = ee[sel]
    lo, hi = np.percentile(v, [5, 95])
    return float(np.median(v)), float(hi - lo)


def _name_cathodic(levels, ranges, plateaus, tol, li_max):
    """Names of a cathodic half-cycle's segments from the plateau table.

    Returns (names, missing) with names[i] one of "SEI", "alloying j", "Li metal" or
    "unidentified", and missing a list of (name, reason) of the table's stages without a
    segment. Consecutive segments with the same name are merged by the caller.
    """
    n = len(levels)
    names: list[str | None] = [None] * n
    top = max(plateaus) + tol
    # Li metal: trailing segments at ≈ 0 V
    k = n
    while k > 0 and levels[k - 1] is not None and levels[k - 1] < li_max:
        k -= 1
        names[k] = "Li metal"
    # SEI: the first segment when it slopes or lies above every alloying plateau, and
    # sloping segments after it (a flat plateau above the table is "unidentified")
    i = 0
    while i < k and (levels[i] is None or ranges[i] > 2 * tol or (i == 0 and levels[i] > top)):
        names[i] = "SEI"
        i += 1
    # alloying: nearest tabulated plateau within tol, in order (potential falls)
    last = -1
    for j in range(i, k):
        lv = levels[j]
        cand = [
            (abs(lv - p), m) for m, p in enumerate(plateaus) if m >= last and abs(lv - p) <= tol
        ]
        if cand:
            last = min(cand)[1]
            names[j] = f"alloying {last + 1}"
        else:
            names[j] = "unidentified"
    missing = []
    if "SEI" not in names:
        first = names[0] if names else None
        missing.append(
            (
                "SEI",
                "no sloping stretch above the first alloying plateau before the first "
                f"plateau: the half-cycle starts at the {first} stage (an SEI decay, if any, "
                "is not separated from it); x counts from the half-cycle start",
            )
        )
    for m, p in enumerate(plateaus):
        if f"alloying {m + 1}" not in names:
            missing.append(
                (
                    f"alloying {m + 1}",
                    f"no plateau within ±{tol * 1e3:.0f} mV of {p:.3f} V (the tabulated "
                    f"alloying-{m + 1} plateau) was found in this half-cycle",
                )
            )
    if "Li metal" not in names:
        missing.append(
            (
                "Li metal",
                f"no plateau below +{li_max * 1e3:.0f} mV at the end of the half-cycle "
                "(the charge may stop before Li metal deposits)",
            )
        )
    return names, missing


_ORDER = {"SEI": 0.0, "Li metal": 1000.0, "Li dissolution": 0.0}


def _sort_key(name: str, half: str) -> float:
    if name in _ORDER:
        return _ORDER[name]
    j = float(name.split()[-1])
    return j if half == "cathodic" else 1000.0 - j


def find_stages(
    echem: pd.DataFrame,
    *,
    film_metal: str | None = None,
    n_host_mol: float | None = None,
    plateaus_V: Sequence[float] | None = None,
    plateau_tol_V: float = 0.04,
    li_metal_max_V: float = 0.010,
    smooth_frac: float = 0.006,
    min_snr: float = 6.0,
    min_step_V: float = 0.01,
    kinks: bool = True,
    rest_fraction: float = 0.05,
) -> dict[str, Any]:
    """Named stages of a galvanostatic alloying/cycling record.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic negative).
    film_metal : str, optional
        Film metal (``"Au"``, ``"Ag"``, …): stages are named from its tabulated
        alloying plateau potentials (:data:`ALLOYING_PLATEAUS_V`). Without a table
        entry (or ``plateaus_V``) they are named by order, with a warning.
    n_host_mol : float, optional
        Moles of film metal (:func:`host_moles`); gives x at every stage end.
    plateaus_V : sequence of float, optional
        Alloying plateau potentials (V vs Li/Li⁺, in the order of the charge) to use
        instead of the table.
    plateau_tol_V : float
        A stage is named after the nearest plateau within this distance of its median
        potential, V.
    li_metal_max_V : float
        Li metal is a final plateau below this potential, V.
    smooth_frac : float
        Gaussian smoothing sd as a fraction of each half-cycle's charge (≥ 1.5 samples).
    min_snr : float
        Least significance of a transition: slope-peak prominence (steps) or slope
        change (plateau onsets), in units of its noise.
    min_step_V : float
        Least potential step across a transition beyond the plateaus' slopes, V (the
        step must also exceed ``min_snr`` times its noise); for a plateau onset, the
        least miss of the sloping line run on for two widths past it.
    kinks : bool
        Also look for plateau onsets after a sloping stretch (slope discontinuities).
    rest_fraction : float
        Rest threshold for :func:`half_cycles`.

    Returns
    -------
    dict
        ``stages`` — list of dicts: ``cycle``, ``half``, ``name``, ``found``,
        ``t_start_s``, ``t_start_s_err``, ``t_end_s``, ``t_end_s_err``, ``end_kind``
        (``"step"``, ``"kink"`` or null at a half-cycle end), ``E_mean_V``,
        ``E_mean_V_err``, ``E_level_V`` (median over the stage's interior), ``E_ref_V``
        (the tabulated plateau it was matched to, or null), ``Q_end_C`` (since the
        half-cycle start), ``x_end``, ``x_end_err`` (null without ``n_host_mol``; 1σ
        errors, null where exact: a half-cycle's own start/end), ``reason`` (why a
        stage is missing: rows with ``found = False`` and null times stand for
        tabulated stages the record does not show); ``half_cycles`` — per half-cycle
        ``cycle``, ``half``, ``t_start_s``, ``t_end_s``, ``Q_C``, ``found``,
        ``n_transitions``, ``n_kinks``, ``merged_at_s`` (transitions dropped because
        both sides got the same name), ``reason``, ``window_C``, ``noise_V``;
        ``found`` (any stage found); ``reason`` (null, or why none was found);
        ``naming`` (``"potential"`` or ``"order"``); ``plateaus_V``; ``method``;
        ``warnings`` (``{code, message}``: ``stage-names-by-order``,
        ``stage-unidentified``, ``sei-ends-on-plateau``).

    Raises
    ------
    InputError
        Missing columns, too few samples, non-increasing time, zero current.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(0, 200, 0.2)
    >>> e = 0.6 - 0.46 / (1 + np.exp(-(t - 20) / 2)) - 0.15 / (1 + np.exp(-(t - 120) / 2))
    >>> df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-5 + 0 * t})
    >>> r = find_stages(df, film_metal="Au")
    >>> [(s["name"], s["found"], s["t_end_s"] and round(s["t_end_s"], 1)) for s in r["stages"]]
    [('SEI', True, 20.0), ('alloying 1', True, 120.0), ('alloying 2', False, None), ('Li metal', True, 199.8)]
    """
    t, e, i = _arrays(echem)
    halves = half_cycles(echem, rest_fraction=rest_fraction)
    if plateaus_V is not None:
        plateaus = tuple(float(p) for p in plateaus_V)
    else:
        plateaus = tuple(ALLOYING_PLATEAUS_V.get(film_metal or "", {}).get("plateaus_V", ()))
    by_potential = bool(plateaus)
    warnings: list[dict] = []

    def warn(code: str, message: str) -> None:
        item = {"code": code, "message": message}
        if item not in warnings:
            warnings.append(item)

    if not by_potential:
        what = (
            "no film metal was given"
            if not film_metal
            else f"no alloying plateau potentials are tabulated for {film_metal}"
        )
        warn(
            "stage-names-by-order",
            f"Stages are named by their order ({what}): a missed or extra transition shifts "
            "every later name. Give film_metal (Au) or plateaus_V to name them by potential.",
        )
    qx = FARADAY_C_MOL * n_host_mol if n_host_mol else None
    p99 = float(np.percentile(np.abs(i), 99))
    stages: list[dict] = []
    hrows: list[dict] = []
    q_sei: dict[int, tuple[float, float | None]] = {}
    x_li_end: dict[int, tuple[float, float | None]] = {}
    alloy_found: dict[int, list[int]] = {}
    for h in halves.itertuples(index=False):
        tt, ee, ii = t[h.i0 : h.i1], e[h.i0 : h.i1], np.abs(i[h.i0 : h.i1])
        # rests (|I| below the threshold) carry no charge: leave them out of E(Q)
        live = ii >= rest_fraction * p99
        tt, ee, ii = tt[live], ee[live], ii[live]
        q_full = cumulative_trapezoid(ii, tt, initial=0.0)
        cyc = int(h.cycle)
        row = {
            "cycle": cyc,
            "half": h.half,
            "t_start_s": h.t_start_s,
            "t_end_s": h.t_end_s,
            "Q_C": h.Q_C,
            "found": False,
            "n_transitions": 0,
            "n_kinks": 0,
            "merged_at_s": [],
            "reason": None,
        }
        hrows.append(row)
        if ee.size < 20 or np.any(np.diff(q_full) <= 0):
            row["reason"] = "too few samples or a zero-current stretch inside the half-cycle"
            continue
        sign = -1.0 if h.half == "cathodic" else 1.0
        res, why = _transitions(
            q_full,
            ee,
            sign,
            smooth_frac=smooth_frac,
            min_snr=min_snr,
            min_step_V=min_step_V,
            kinks=kinks,
        )
        if res is None:
            row["reason"] = why
            continue
        trans, diag = res
        row.update(diag)
        row["n_transitions"] = len(trans)
        row["n_kinks"] = sum(tr["kind"] == "kink" for tr in trans)
        if not trans:
            row["reason"] = (
                "no transition between potential plateaus: |dE/dQ| has no peak with "
                f"prominence ≥ {min_snr:g}× its noise and a step ≥ {min_step_V * 1e3:g} mV, "
                "and no plateau onset after a sloping stretch"
            )
            continue
        row["found"] = True
        m = len(trans)
        qb = [0.0] + [tr["q_C"] for tr in trans] + [float(q_full[-1])]
        qe = [None] + [tr["q_err_C"] for tr in trans] + [None]
        kinds = [None] + [tr["kind"] for tr in trans] + [None]
        tb = np.interp(qb, q_full, tt)
        tb[0], tb[-1] = h.t_start_s, h.t_end_s  # a trailing rest ends the last stage
        cur = float(np.median(ii))
        margin_s = 2.0 * diag["smooth_sd_C"] / cur
        lv = [_level(tt, ee, tb[j], tb[j + 1], margin_s) for j in range(m + 1)]
        levels = [v[0] for v in lv]
        ranges = [v[1] if v[1] is not None else 0.0 for v in lv]
        missing: list[tuple[str, str]] = []
        refs: list[float | None] = [None] * (m + 1)
        if h.half == "cathodic":
            if by_potential:
                names, missing = _name_cathodic(
                    levels, ranges, plateaus, plateau_tol_V, li_metal_max_V
                )
                for j, nm in enumerate(names):
                    if nm.startswith("alloying"):
                        refs[j] = plateaus[int(nm.split()[-1]) - 1]
            else:
                names = ["SEI"] + [f"alloying {j}" for j in range(1, m)] + ["Li metal"]
        else:
            names = _name_anodic(
                levels, plateaus if by_potential else None, alloy_found.get(cyc), warn, cyc
            )
            if by_potential and "Li dissolution" not in names:
                missing.append(
                    (
                        "Li dissolution",
                        f"the discharge does not start with a plateau below {min(plateaus):.3f} "
                        "V (the lowest alloying plateau): no Li metal to dissolve was seen",
                    )
                )
        # neighbours with one name are one stage: drop the transition between them
        keep = [0] + [
            j for j in range(1, m + 1) if names[j] != names[j - 1] or names[j] == "unidentified"
        ]
        row["merged_at_s"] = [float(tb[j]) for j in range(1, m + 1) if j not in keep]
        seg_names = [names[j] for j in keep]
        seg_refs = [refs[j] for j in keep]
        starts = keep
        ends = keep[1:] + [m + 1]
        if h.half == "cathodic":
            alloy_found[cyc] = [
                int(nm.split()[-1]) for nm in seg_names if nm.startswith("alloying")
            ]
            if "SEI" in seg_names:
                k = seg_names.index("SEI")
                q_sei[cyc] = (qb[ends[k]], qe[ends[k]])
                if by_potential:
                    _check_sei_end(
                        tt,
                        ee,
                        tb[starts[k]],
                        tb[ends[k]] - margin_s,
                        plateaus,
                        plateau_tol_V,
                        warn,
                        cyc,
                    )
            else:
                q_sei[cyc] = (0.0, None)
        rows_h: list[dict] = []
        for k, name in enumerate(seg_names):
            a, b = starts[k], ends[k]
            sel = (tt >= tb[a]) & (tt <= tb[b])
            ev = ee[sel]
            x_end = x_err = None
            if qx and cyc in q_sei:
                qs, qs_err = q_sei[cyc]
                var = (qs_err or 0.0) ** 2 + (qe[b] or 0.0) ** 2
                if h.half == "cathodic":
                    x_end = (qb[b] - qs) / qx
                    if k == len(seg_names) - 1:
                        x_li_end[cyc] = (x_end, (qs_err or 0.0) / qx)
                elif cyc in x_li_end:
                    x_end = x_li_end[cyc][0] - qb[b] / qx
                x_err = math.sqrt(var) / qx if x_end is not None else None
            level, _ = _level(tt, ee, tb[a], tb[b], margin_s)
            if name == "unidentified":
                warn(
                    "stage-unidentified",
                    f"Cycle {cyc} ({h.half}): a plateau at {level:.3f} V matches no tabulated "
                    f"{film_metal or ''} alloying plateau within ±{plateau_tol_V * 1e3:.0f} mV; "
                    "it is reported as 'unidentified'.",
                )
            rows_h.append(
                {
                    "cycle": cyc,
                    "half": h.half,
                    "name": name,
                    "found": True,
                    "t_start_s": float(tb[a]),
                    "t_start_s_err": qe[a] / cur if qe[a] is not None else None,
                    "t_end_s": float(tb[b]),
                    "t_end_s_err": qe[b] / cur if qe[b] is not None else None,
                    "end_kind": kinds[b],
                    "E_mean_V": float(ev.mean()) if ev.size else None,
                    "E_mean_V_err": float(ev.std(ddof=1) / math.sqrt(ev.size))
                    if ev.size > 1
                    else None,
                    "E_level_V": level,
                    "E_ref_V": seg_refs[k],
                    "Q_end_C": float(qb[b]),
                    "x_end": x_end,
                    "x_end_err": x_err,
                    "reason": None,
                }
            )
        for name, why in missing:
            rows_h.append(
                {
                    "cycle": cyc,
                    "half": h.half,
                    "name": name,
                    "found": False,
                    **{
                        key: None
                        for key in (
                            "t_start_s",
                            "t_start_s_err",
                            "t_end_s",
                            "t_end_s_err",
                            "end_kind",
                            "E_mean_V",
                            "E_mean_V_err",
                            "E_level_V",
                        )
                    },
                    "E_ref_V": (
                        plateaus[int(name.split()[-1]) - 1] if name.startswith("alloying") else None
                    ),
                    "Q_end_C": None,
                    "x_end": None,
                    "x_end_err": None,
                    "reason": why,
                }
            )
        # found stages keep their order in time; a missing one goes where its name
        # belongs (unidentified stages stay after the stage before them)
        keyed = []
        prev = -1.0
        for r in rows_h:
            if r["found"]:
                key = prev + 1e-3 if r["name"] == "unidentified" else _sort_key(r["name"], h.half)
                prev = key
            else:
                key = _sort_key(r["name"], h.half) - 1e-6
            keyed.append((key, r))
        stages.extend(r for _, r in sorted(keyed, key=lambda kr: kr[0]))
    found = any(s["found"] for s in stages)
    reason = None
    if not found:
        reasons = sorted({r["reason"] for r in hrows if r["reason"]})
        reason = "no stage found in any half-cycle: " + "; ".join(reasons)
    naming = (
        f"names from the alloying plateaus {', '.join(f'{p:.3f}' for p in plateaus)} V "
        f"(±{plateau_tol_V * 1e3:.0f} mV), Li metal below +{li_metal_max_V * 1e3:.0f} mV"
        if by_potential
        else "names by order"
    )
    return {
        "stages": stages,
        "half_cycles": hrows,
        "found": found,
        "reason": reason,
        "naming": "potential" if by_potential else "order",
        "plateaus_V": list(plateaus) if by_potential else None,
        "method": (
            f"per half-cycle: Gaussian-derivative (sd {smooth_frac:.1%} of the half-cycle "
            f"charge) slope of E vs Q; transitions = slope peaks ≥ {min_snr:g}σ with a "
            f"≥ {min_step_V * 1e3:g} mV step"
            + (
                f", and plateau onsets (−d²E/dQ² peaks where the slope drops ≥ {min_snr:g}σ "
                "to ≤ ¼, located by a continuous cubic-then-line fit)"
                if kinks
                else ""
            )
            + f"; {naming}"
        ),
        "warnings": warnings,
    }


def _name_anodic(levels, plateaus, cath_steps, warn, cyc):
    """Names of an anodic half-cycle's segments: ``Li dissolution`` (a leading plateau
    below the lowest alloying plateau, when the plateaus are known; else the first
    segment), then ``dealloying`` — the cathodic half's alloying steps in reverse when
    their number agrees, else by order with a warning."""
    n = len(levels)
    if plateaus:
        k = 0
        while k < n and levels[k] is not None and levels[k] < min(plateaus):
            k += 1
    else:
        k = 1
    rest = n - k
    names = ["Li dissolution"] * k
    if plateaus and cath_steps is not None and len(cath_steps) == rest:
        names += [f"dealloying {j}" for j in reversed(cath_steps)]
    else:
        names += [f"dealloying {rest - j}" for j in range(rest)]
        if plateaus and rest:
            warn(
                "stage-names-by-order",
                f"Cycle {cyc}: the discharge shows {rest} dealloying stage(s) but its charge "
                f"{len(cath_steps or [])} alloying stage(s); the dealloying stages are named "
                "by order (the Li-richest phase empties first).",
            )
    return names


def _check_sei_end(tt, ee, t0, t1, plateaus, tol, warn, cyc):
    """Warn when the SEI stage ends on a flat stretch at a tabulated plateau (a plateau
    onset that was not detected)."""
    sel = (tt >= t1 - 0.25 * (t1 - t0)) & (tt <= t1)
    if sel.sum() < 5:
        return
    v = ee[sel]
    lo, hi = np.percentile(v, [5, 95])
    med = float(np.median(v))
    near = [p for p in plateaus if abs(med - p) <= tol]
    if near and hi - lo < 0.5 * tol:
        warn(
            "sei-ends-on-plateau",
            f"Cycle {cyc}: the SEI stage ends on a flat stretch at {med:.3f} V, near the "
            f"{near[0]:.3f} V alloying plateau; the plateau's onset may not have been "
            "resolved (try a smaller smooth_frac).",
        )


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
    q = -cumulative_trapezoid(i, t, initial=0.0)
    q0 = float(np.interp(t0, t, q))
    x = (q - q0 - q_sei_C) / (FARADAY_C_MOL * n_host_mol)
    x[t < t0] = np.nan
    return x
