"""Cycling records: per-cycle charges, Coulombic efficiency and CV peak features.

Cycles are found in one of three ways (``by=``):

``"cycle"``
    The record's ``cycle`` column (as the instrument counts cycles).
``"potential"``
    Turning points of a cyclic voltammogram. A turning point is confirmed once the
    potential has moved back from the running extremum by more than
    ``max(0.1·(E_max − E_min), 10·σ_E)`` (σ_E: white potential noise), so noise and
    staircase steps never make one. The record's first sweep direction fixes the
    cycle: a cycle runs from one turning point of the kind the record starts *from*
    to the next (a CV that starts at its upper potential and goes down is cut at its
    upper vertices). A trailing piece with no turning point of the other kind is
    incomplete and dropped.
``"current"``
    Galvanostatic cycling: the current's sign, ignoring samples with
    ``|I| < 0.05·P99(|I|)`` (rests, the switching transient). One cycle = a cathodic
    (negative current) segment plus the anodic segment that follows; rests belong to the
    segment before them. A leading anodic segment (before any plating) and a trailing
    cathodic segment with no anodic segment after it are incomplete and dropped.
``"auto"`` (default)
    The ``cycle`` column when it holds ≥ 2 distinct values; else CV turning points when
    the potential sweeps at a steady rate (≥ 60 % of the samples within ±30 % of the
    median |dE/dt|) and turns at least once; else the current's sign changes; a
    ``cycle`` column with one value is the fallback (one cycle).

Charges: the current is taken as piecewise linear between samples; Q_c = ∫ max(−I, 0) dt
and Q_a = ∫ max(I, 0) dt are integrated exactly (intervals that cross zero are split at
the crossing). Each sample interval belongs to the cycle of its right-hand sample, so the
cycles tile the record and their charges add up to the record's. CE = Q_a/Q_c.

Uncertainties (1σ) assume white current noise σ_I, estimated from the median absolute
second difference of the current: σ_Q² = σ_I²·Σ w_k² (w_k the trapezoid weights of the
samples of that sign) plus, in quadrature, the rectification bias of splitting a noisy
current by sign where the true current is ≈ 0 — σ_I/√(2π) per second spent at
|I| < 3σ_I, added to both Q_a and Q_c (so it shifts CE by b·(1 − CE)/Q_c) — and CE by
first-order propagation. They do not include calibration errors of the potentiostat (a
common gain error cancels in CE).

Measured on the ``irm-cv`` simulator (10 cycles, 100 mV s⁻¹, 20 ms sampling, 20 seeds):
see docs/irm_cv.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import find_peaks, savgol_filter

from platescope._errors import InputError
from platescope._errors import source_of as _source

__all__ = ["cv_features", "cycle_charges"]

COLUMNS = ["cycle", "t_start_s", "t_end_s", "Q_c_C", "Q_a_C", "CE"]
_ERR_COLUMNS = ["Q_c_err_C", "Q_a_err_C", "CE_err"]
_MIN_SAMPLES = 5
_GALV_DEADBAND = 0.05
_TURN_FRACTION = 0.1


# --------------------------------------------------------------------------- helpers
def _columns(echem, needed=("time_s", "potential_V", "current_A")) -> dict[str, np.ndarray]:
    src = _source(echem)
    if not isinstance(echem, pd.DataFrame):
        raise InputError(
            src,
            f"the electrochemistry record is a {type(echem).__name__}, not a DataFrame",
            "read it with platescope.io.read_echem",
        )
    missing = [c for c in needed if c not in echem.columns]
    if missing:
        raise InputError(
            src,
            f"the record lacks the column(s) {', '.join(missing)}",
            "read it with platescope.io.read_echem or give columns time_s, potential_V, current_A",
        )
    out = {c: echem[c].to_numpy(dtype=float) for c in needed}
    n = len(echem)
    if n < _MIN_SAMPLES:
        raise InputError(
            src,
            f"the record has {n} samples, too few to hold a cycle",
            f"give a record with at least {_MIN_SAMPLES} samples (a whole cycle)",
        )
    for c, v in out.items():
        if not np.all(np.isfinite(v)):
            raise InputError(
                src, f"column {c} holds non-finite values", "remove or fill the bad rows"
            )
    if np.any(np.diff(out["time_s"]) < 0):
        raise InputError(src, "time_s decreases", "sort the record by time")
    return out


def current_noise_A(current_A) -> float:
    """White-noise level of a current record from its second differences (MAD), A."""
    i = np.asarray(current_A, dtype=float)
    if i.size < 3:
        return 0.0
    d2 = i[2:] - 2.0 * i[1:-1] + i[:-2]
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def _signed_parts(t, i) -> tuple[np.ndarray, np.ndarray]:
    """Per-interval ∫max(I,0)dt and ∫max(−I,0)dt for a piecewise-linear current."""
    dt = np.diff(t)
    a, b = i[:-1], i[1:]
    pos = np.where(
        (a >= 0) & (b >= 0),
        0.5 * (a + b) * dt,
        np.where(
            (a <= 0) & (b <= 0),
            0.0,
            0.5 * np.maximum(a, b) ** 2 / (np.abs(a) + np.abs(b) + 1e-300) * dt,
        ),
    )
    neg = pos - 0.5 * (a + b) * dt  # ∫(I⁺ − I) = ∫ I⁻
    return pos, np.maximum(neg, 0.0)


def _potential_noise(e) -> float:
    d = np.diff(e)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)) if d.size else 0.0


def _turning_points(e) -> list[tuple[int, int]]:
    """(index, kind) of confirmed turning points; kind +1 maximum, −1 minimum."""
    span = float(np.ptp(e))
    if span <= 0:
        return []
    thr = max(_TURN_FRACTION * span, 10.0 * _potential_noise(e))
    if thr >= 0.5 * span:
        return []
    turns: list[tuple[int, int]] = []
    direction = 0  # +1 rising, −1 falling
    ext_i = 0
    ext_v = e[0]
    lo_i = hi_i = 0
    for k in range(1, e.size):
        v = e[k]
        if direction == 0:
            if v > e[hi_i]:
                hi_i = k
            if v < e[lo_i]:
                lo_i = k
            if e[hi_i] - e[lo_i] >= thr:
                direction = 1 if hi_i > lo_i else -1
                ext_i = hi_i if direction == 1 else lo_i
                ext_v = e[ext_i]
            continue
        if direction == 1:
            if v >= ext_v:
                ext_i, ext_v = k, v
            elif ext_v - v >= thr:
                turns.append((ext_i, 1))
                direction, ext_i, ext_v = -1, k, v
        else:
            if v <= ext_v:
                ext_i, ext_v = k, v
            elif v - ext_v >= thr:
                turns.append((ext_i, -1))
                direction, ext_i, ext_v = 1, k, v
    return turns


def _first_direction(e, turns) -> int:
    """+1 if the record first sweeps up, −1 if down."""
    if turns:
        return turns[0][1]  # the first turn is a maximum ⇒ it first swept up
    return 1 if e[-1] >= e[0] else -1


def _is_steady_sweep(t, e) -> bool:
    dt = np.diff(t)
    ok = dt > 0
    if ok.sum() < _MIN_SAMPLES:
        return False
    rate = np.abs(np.diff(e)[ok] / dt[ok])
    # smooth staircases: rate over ~5 samples
    if rate.size >= 5:
        rate = np.convolve(rate, np.ones(5) / 5.0, mode="valid")
    med = float(np.median(rate))
    if not med > 0:
        return False
    return float(np.mean(np.abs(rate - med) <= 0.3 * med)) >= 0.6


def _labels_from_cycle_column(cyc) -> tuple[np.ndarray, list[int]]:
    change = np.flatnonzero(np.diff(cyc) != 0) + 1
    starts = np.concatenate([[0], change])
    labels = np.repeat(np.arange(starts.size), np.diff(np.append(starts, cyc.size)))
    return labels, [int(cyc[s]) for s in starts]


def _labels_from_turns(e, turns) -> tuple[np.ndarray, list[int], list[dict]]:
    """Sample labels (−1 = dropped) for CV cycles cut at turning points."""
    first = _first_direction(e, turns)
    cut_kind = 1 if first == -1 else -1  # starts going down ⇒ cut at maxima
    cuts = [i for i, kind in turns if kind == cut_kind]
    other = [i for i, kind in turns if kind != cut_kind]
    bounds = [0, *cuts, e.size - 1]
    labels = np.full(e.size, -1, dtype=int)
    numbers: list[int] = []
    dropped: list[dict] = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        if b <= a:
            continue
        has_other = any(a < j < b for j in other)
        if not has_other:
            dropped.append({"first_sample": a, "last_sample": b, "reason": "incomplete sweep"})
            continue
        labels[a + 1 : b + 1] = len(numbers)
        if not numbers:
            labels[a] = 0
        numbers.append(len(numbers) + 1)
    return labels, numbers, dropped


def _labels_from_current(i) -> tuple[np.ndarray, list[int], list[dict]]:
    ref = float(np.percentile(np.abs(i), 99))
    if ref <= 0:
        return np.full(i.size, -1), [], []
    s = np.where(i > _GALV_DEADBAND * ref, 1, np.where(i < -_GALV_DEADBAND * ref, -1, 0))
    # rests take the sign of the segment before them (leading rests: the first sign)
    nz = np.flatnonzero(s)
    if nz.size == 0:
        return np.full(i.size, -1), [], []
    idx = np.maximum.accumulate(np.where(s != 0, np.arange(s.size), 0))
    filled = s[idx]
    filled[: nz[0]] = s[nz[0]]
    change = np.flatnonzero(np.diff(filled) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.append(change, i.size)
    signs = filled[starts]
    labels = np.full(i.size, -1, dtype=int)
    numbers: list[int] = []
    dropped: list[dict] = []
    k = 0
    while k < starts.size:
        if signs[k] > 0:
            dropped.append(
                {
                    "first_sample": int(starts[k]),
                    "last_sample": int(ends[k] - 1),
                    "reason": "anodic segment with no cathodic segment before it",
                }
            )
            k += 1
            continue
        if k + 1 >= starts.size:
            dropped.append(
                {
                    "first_sample": int(starts[k]),
                    "last_sample": int(ends[k] - 1),
                    "reason": "cathodic segment with no anodic segment after it",
                }
            )
            break
        labels[starts[k] : ends[k + 1]] = len(numbers)
        numbers.append(len(numbers) + 1)
        k += 2
    return labels, numbers, dropped


def _split(echem, cols, by: str) -> tuple[np.ndarray, list[int], str, list[dict]]:
    t, e, i = cols["time_s"], cols["potential_V"], cols["current_A"]
    src = _source(echem)
    if by not in ("auto", "cycle", "potential", "current"):
        raise InputError(
            None, f"by must be auto, cycle, potential or current, got {by!r}", "use by='auto'"
        )
    has_col = "cycle" in echem.columns
    if by == "cycle" or (by == "auto" and has_col):
        if not has_col:
            raise InputError(src, "the record has no cycle column", "use by='auto'")
        cyc = echem["cycle"].to_numpy()
        if by == "cycle" or np.unique(cyc).size >= 2:
            labels, numbers = _labels_from_cycle_column(cyc)
            return labels, numbers, "cycle column", []
    if by in ("auto", "potential"):
        turns = _turning_points(e)
        if turns and (by == "potential" or _is_steady_sweep(t, e)):
            labels, numbers, dropped = _labels_from_turns(e, turns)
            if numbers:
                return labels, numbers, "potential turning points", dropped
        if by == "potential":
            raise InputError(
                src,
                "the potential never completes a sweep and its return, so the record holds no "
                "CV cycle",
                "give a cyclic voltammogram with at least one turning point and its return sweep",
            )
    if by in ("auto", "current"):
        labels, numbers, dropped = _labels_from_current(i)
        if numbers:
            return labels, numbers, "current sign changes", dropped
        if by == "current":
            raise InputError(
                src,
                "the current never goes from cathodic (negative) to anodic, so the record holds "
                "no plating/stripping cycle",
                "give a galvanostatic cycling record with a cathodic segment followed by an anodic one",
            )
    if has_col:
        labels, numbers = _labels_from_cycle_column(echem["cycle"].to_numpy())
        return labels, numbers, "cycle column (one value)", []
    raise InputError(
        src,
        "no cycles found: there is no cycle column, the potential does not sweep back and forth "
        "and the current never changes from cathodic to anodic",
        "give a cycling record (CV or galvanostatic cycles), or a cycle column",
    )


# --------------------------------------------------------------------------- public
def cycle_charges(echem: pd.DataFrame, *, by: str = "auto") -> pd.DataFrame:
    """Cathodic and anodic charge and Coulombic efficiency of every cycle.

    Parameters
    ----------
    echem : pandas.DataFrame
        Echem record: ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic
        negative), optional ``cycle``.
    by : {"auto", "cycle", "potential", "current"}
        How cycles are found (module docstring): the ``cycle`` column, CV turning
        points, or galvanostatic current sign changes; ``"auto"`` picks in that order.

    Returns
    -------
    pandas.DataFrame
        One row per cycle, columns ``cycle`` (the file's number, or 1, 2, … when found
        from the data), ``t_start_s``, ``t_end_s`` (s; ``t_start_s`` is the sample
        before the cycle's first one, since the interval between them belongs to the
        cycle, so consecutive cycles share a boundary time), ``Q_c_C``, ``Q_a_C`` (C,
        positive magnitudes), ``CE`` (Q_a/Q_c; NaN when Q_c = 0), then their 1σ errors
        ``Q_c_err_C``, ``Q_a_err_C``, ``CE_err``. ``attrs``: ``method`` (how cycles
        were found), ``dropped`` (incomplete pieces left out, with reasons),
        ``current_noise_A``, ``source``.

    Raises
    ------
    platescope.InputError
        Missing columns, fewer than 5 samples, non-finite values, time running
        backwards, or no cycle at all.

    Examples
    --------
    >>> t = np.linspace(0, 40, 4001)
    >>> i = np.where((t % 20) < 10, -1e-9, 0.8e-9)          # 10 s plating, 10 s stripping
    >>> e = np.where(i < 0, -0.02, 0.05)
    >>> cc = cycle_charges(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}))
    >>> cc["cycle"].tolist(), cc["CE"].round(3).tolist(), cc.attrs["method"]
    ([1, 2], [0.8, 0.8], 'current sign changes')
    """
    cols = _columns(echem)
    t, i = cols["time_s"], cols["current_A"]
    labels, numbers, method, dropped = _split(echem, cols, by)
    pos, neg = _signed_parts(t, i)
    lab_int = labels[1:]  # an interval belongs to the cycle of its right-hand sample
    keep = lab_int >= 0
    n = len(numbers)
    q_a = np.bincount(lab_int[keep], weights=pos[keep], minlength=n)
    q_c = np.bincount(lab_int[keep], weights=neg[keep], minlength=n)
    # trapezoid weights of the samples, for the noise propagation
    dt = np.diff(t)
    w = np.zeros(t.size)
    w[:-1] += 0.5 * dt
    w[1:] += 0.5 * dt
    sigma = current_noise_A(i)
    lab = np.where(labels >= 0, labels, n)
    var_a = np.bincount(lab, weights=(w**2) * (i > 0), minlength=n + 1)[:n] * sigma**2
    var_c = np.bincount(lab, weights=(w**2) * (i < 0), minlength=n + 1)[:n] * sigma**2
    # noise rectification: where the true current is ~0, splitting by sign adds
    # σ/√(2π) per unit time to both Q_a and Q_c (a common bias b; CE shifts by b(1−CE)/Q_c)
    t_near = np.bincount(lab, weights=w * (np.abs(i) < 3.0 * sigma), minlength=n + 1)[:n]
    bias = sigma * t_near / np.sqrt(2.0 * np.pi)
    t_start = np.empty(n)
    t_end = np.empty(n)
    for k in range(n):
        idx = np.flatnonzero(labels == k)
        first = idx[0]
        # the interval ending at the cycle's first sample belongs to the cycle
        t_start[k] = t[first - 1] if first > 0 else t[first]
        t_end[k] = t[idx[-1]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ce = np.where(q_c > 0, q_a / q_c, np.nan)
        ce_err = np.where(
            q_c > 0,
            np.sqrt(var_a / q_c**2 + var_c * q_a**2 / q_c**4 + (bias * (q_c - q_a) / q_c**2) ** 2),
            np.nan,
        )
    out = pd.DataFrame(
        {
            "cycle": np.asarray(numbers, dtype=np.int64),
            "t_start_s": t_start,
            "t_end_s": t_end,
            "Q_c_C": q_c,
            "Q_a_C": q_a,
            "CE": ce,
            "Q_c_err_C": np.sqrt(var_c + bias**2),
            "Q_a_err_C": np.sqrt(var_a + bias**2),
            "CE_err": ce_err,
        }
    )
    for d in dropped:
        d["t_start_s"] = float(t[d.pop("first_sample")])
        d["t_end_s"] = float(t[d.pop("last_sample")])
    out.attrs = {
        "method": method,
        "dropped": dropped,
        "current_noise_A": sigma,
        "source": _source(echem),
    }
    return out


def _crossing(x, y, level):
    """Linear interpolation of x where y crosses level between two samples."""
    return x[0] + (level - y[0]) * (x[1] - x[0]) / (y[1] - y[0])


def _peak_vertex(e, i, k, half_V, sigma_i):
    """Quadratic LSQ fit of I(E) around sample k; vertex potential and its 1σ error."""
    sel = np.abs(e - e[k]) <= half_V
    if sel.sum() < 5:
        return float(e[k]), None
    x = e[sel] - e[k]
    coef, cov = np.polyfit(x, i[sel], 2, cov="unscaled")
    a, b = coef[0], coef[1]
    if not a < 0:
        return float(e[k]), None
    xv = -b / (2 * a)
    if abs(xv) > half_V:
        return float(e[k]), None
    grad = np.array([b / (2 * a * a), -1.0 / (2 * a), 0.0])
    var = float(grad @ cov @ grad) * sigma_i**2
    return float(e[k] + xv), float(np.sqrt(max(var, 0.0)))


def cv_features(
    echem: pd.DataFrame,
    *,
    cycles: pd.DataFrame | None = None,
    onset_fraction: float = 0.1,
    peak_prominence_fraction: float = 0.05,
    smooth_V: float = 0.02,
) -> pd.DataFrame:
    """Per-cycle CV features: cathodic onset, anodic peaks and the plating/stripping switch.

    Rules (per cycle, on the current smoothed by a Savitzky–Golay filter over
    ``smooth_V`` of potential, order 2, each sweep on its own):

    - **Cathodic onset** ``E_onset_c_V``: on the cathodic sweep (potential falling), the
      potential where the cathodic current last rises through ``onset_fraction`` of the
      cycle's largest cathodic current before reaching it (the start of the continuous
      run above the threshold that holds the cathodic maximum — the Li-plating wave,
      not earlier SEI or alloying waves that fall back below it). Linear interpolation
      between samples; 1σ error = σ_I/|dI/dE| at the crossing.
    - **Anodic peaks** ``E_peaks_a_V``: on the anodic sweep (potential rising), local
      maxima of the anodic current with height and prominence ≥
      ``peak_prominence_fraction`` of the cycle's largest anodic current; ``E_peak_a_V`` is the highest one, refined by a
      least-squares parabola over ±``smooth_V`` (1σ error from the fit covariance with
      the white current noise).
    - **Switch** ``t_switch_s``: the time the cumulative net cathodic charge of the cycle
      peaks (end of net plating; the optical CE maps split plating and stripping here).

    Parameters
    ----------
    echem : pandas.DataFrame
        Echem record (``time_s`` s, ``potential_V`` V, ``current_A`` A, cathodic
        negative; optional ``cycle``).
    cycles : pandas.DataFrame, optional
        Output of :func:`cycle_charges` (computed when not given).
    onset_fraction : float
        Threshold for the cathodic onset, fraction of the cathodic maximum (0–1).
    peak_prominence_fraction : float
        Minimum anodic peak prominence, fraction of the anodic maximum (0–1).
    smooth_V : float
        Smoothing window and parabola half-width, V.

    Returns
    -------
    pandas.DataFrame
        Per cycle: ``cycle``, ``E_onset_c_V``, ``E_onset_c_err_V``, ``E_peak_a_V``,
        ``E_peak_a_err_V``, ``E_peaks_a_V`` (list of all anodic peak potentials, V),
        ``I_peak_c_A`` (largest cathodic current, A, negative), ``I_peak_a_A``,
        ``t_switch_s`` (s), ``reason`` (why a feature is NaN, else "").

    Examples
    --------
    >>> t = np.arange(0, 34.8, 0.01)
    >>> e = 1.47 - 0.1 * np.minimum(t, 34.8 - t)                 # one cycle down and back
    >>> down = np.gradient(e) < 0
    >>> i = np.where(down & (e < -0.1), -1e-9 * (-0.1 - e) / 0.17, 0.0)
    >>> i = i + 0.5e-9 * np.exp(-((e - 0.2) / 0.04) ** 2) * ~down
    >>> f = cv_features(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}))
    >>> round(float(f["E_onset_c_V"].iloc[0]), 2), round(float(f["E_peak_a_V"].iloc[0]), 2)
    (-0.12, 0.2)
    """
    cols = _columns(echem)
    t, e, i = cols["time_s"], cols["potential_V"], cols["current_A"]
    if cycles is None:
        cycles = cycle_charges(echem)
    sigma = current_noise_A(i)
    rows = []
    for _, row in cycles.iterrows():
        sel = (t >= row["t_start_s"]) & (t <= row["t_end_s"])
        tc, ec, ic = t[sel], e[sel], i[sel]
        out = {
            "cycle": int(row["cycle"]),
            "E_onset_c_V": np.nan,
            "E_onset_c_err_V": np.nan,
            "E_peak_a_V": np.nan,
            "E_peak_a_err_V": np.nan,
            "E_peaks_a_V": [],
            "I_peak_c_A": np.nan,
            "I_peak_a_A": np.nan,
            "t_switch_s": np.nan,
            "reason": "",
        }
        reasons = []
        if tc.size < 7:
            out["reason"] = "fewer than 7 samples in the cycle"
            rows.append(out)
            continue
        # switch time: peak of the cumulative net cathodic charge
        pos, neg = _signed_parts(tc, ic)
        net = np.concatenate([[0.0], np.cumsum(neg - pos)])
        out["t_switch_s"] = float(tc[int(np.argmax(net))])
        # smoothing on the sample grid, window from the typical potential step
        de = np.abs(np.diff(ec))
        step = float(np.median(de[de > 0])) if np.any(de > 0) else 0.0
        win = int(round(smooth_V / step)) | 1 if step > 0 else 0
        # sweep direction (and the potential used for positions) from the potential
        # smoothed over ≥ 11 samples: noise must not flip the direction sample by sample
        w_e = min(max(win, 11) | 1, tc.size if tc.size % 2 else tc.size - 1)
        es = savgol_filter(ec, w_e, 1, mode="interp") if w_e >= 3 else ec
        dE = np.gradient(es)
        down = dE < 0
        up = dE > 0
        # smooth each sweep on its own (never across a vertex, where the current jumps)
        ism = ic.copy()
        direction = np.sign(dE)
        edges = np.flatnonzero(np.diff(direction) != 0) + 1
        for a, b in zip(np.r_[0, edges], np.r_[edges, tc.size], strict=True):
            w_run = min(win, (b - a) if (b - a) % 2 else (b - a) - 1)
            if w_run >= 5:
                ism[a:b] = savgol_filter(ic[a:b], w_run, 2, mode="interp")
        # --- cathodic onset
        if down.any() and ism[down].min() < 0:
            idx_down = np.flatnonzero(down)
            kmin = idx_down[int(np.argmin(ism[idx_down]))]
            out["I_peak_c_A"] = float(ism[kmin])
            level = onset_fraction * ism[kmin]  # negative
            run = idx_down[idx_down <= kmin]
            above = ism[run] <= level
            # start of the last continuous run (in the falling sweep) ending at kmin
            j = run.size - 1
            while j > 0 and above[j - 1] and run[j - 1] == run[j] - 1:
                j -= 1
            if j == 0:
                reasons.append("cathodic current above the onset threshold from the sweep's start")
            elif run[j - 1] != run[j] - 1 or above[j - 1]:
                reasons.append("the onset crossing is not resolved (gap in the falling sweep)")
            else:
                k0, k1 = run[j - 1], run[j]
                out["E_onset_c_V"] = float(_crossing(es[[k0, k1]], ism[[k0, k1]], level))
                slope = (ism[k1] - ism[k0]) / (es[k1] - es[k0]) if es[k1] != es[k0] else 0.0
                out["E_onset_c_err_V"] = float(sigma / abs(slope)) if slope != 0 else np.nan
        else:
            reasons.append("no cathodic current on a falling sweep")
        # --- anodic peaks
        if up.any() and ism[up].max() > 0:
            idx_up = np.flatnonzero(up)
            iu = ism[idx_up]
            out["I_peak_a_A"] = float(iu.max())
            thr = peak_prominence_fraction * iu.max()
            pk, _ = find_peaks(iu, prominence=thr, height=thr)
            pk = [p for p in pk if iu[p] > 0]
            if pk:
                eu = es[idx_up]
                out["E_peaks_a_V"] = [float(eu[p]) for p in pk]
                best = max(pk, key=lambda p: iu[p])
                ev, ee = _peak_vertex(eu, ic[idx_up], best, smooth_V, sigma)
                out["E_peak_a_V"] = ev
                out["E_peak_a_err_V"] = np.nan if ee is None else ee
            else:
                reasons.append("no anodic peak (the anodic current has no local maximum)")
        else:
            reasons.append("no anodic current on a rising sweep")
        out["reason"] = "; ".join(reasons)
        rows.append(out)
    return pd.DataFrame(rows)
