"""Li‖Li symmetric-cell voltage records: overpotential, profile shape, soft shorts, GITT.

In a symmetric cell both electrodes are Li, so the cell voltage *is* the overpotential
η (open-circuit voltage ≈ 0). Each galvanostatic half-cycle (plating on the working
electrode, then stripping) is analysed on the steps of :func:`split_steps` (rests and
impedance blocks excluded; nothing re-detects steps here). ``|η|`` below means the
overpotential in the direction of the current, ``η·sign(I)``, positive when the cell
polarises as a current of that sign demands.

Per half-cycle (normalised time τ = (t − t_start)/duration):

- **plateau** ``eta_plateau_V``: the median of |η| over τ ∈ [0.3, 0.7]; its 1σ
  ``eta_plateau_err_V`` from the white noise σ (second differences) and the window's
  trend (:func:`_median_err`: 1.2533·σ/√n for a flat window, larger when the profile
  slopes, since then only the samples near the median move it); also the spread of |η|
  in the window (``eta_plateau_iqr_V``: drift plus noise, for judging "plateau");
- **nucleation overshoot** ``eta_nuc_overshoot_V``: the highest |η| (3-sample running
  median, so single spikes do not count) in τ ∈ [0, 0.1], minus the plateau;
- **end of step** ``eta_end_V``: the median of |η| over τ ∈ [0.95, 1];
- **shape index** ``shape_index`` = (m_late − m_early)/η_plateau with m_early, m_late the
  medians of |η| over τ ∈ [0.12, 0.25] and [0.85, 0.97]: < 0 when |η| peaks early then
  falls (**peaking**: reaction-limited deposition on fresh Li), > 0 when |η| rises to
  the end of the step (**arcing**: transport through a growing dead-Li layer); its 1σ
  ``shape_index_err`` from the noise of both windows. The class is ``arcing`` when
  index − 2σ > 0.05, ``peaking`` when index + 2σ < −0.05, ``flat`` when
  |index| + 2σ < 0.05, else ``undetermined``. ``t_max_frac`` gives the position of the
  |η| maximum (smoothed) within τ ∈ [0.1, 1].

Soft shorts (:func:`soft_shorts`) inside a step: a **collapse** is a fall of |η| to
< 25 % of the step's plateau within ≤ 5 samples, held ≥ 3 samples; a **noise burst** is a
run where the 9-sample rolling standard deviation of the first differences exceeds 3×
its median over the step (and 3√2 σ of the white noise; for white noise the chance is
< 10⁻¹⁰ per window). Both are reported with start time, end time and depth.

GITT (:func:`gitt_pulses`): a galvanostatic pulse followed by a rest: the **IR drop**
is the jump of |η| at the switch (straight lines through the pulse's last 10 and the
rest's first 10 samples, both evaluated at the pulse's last sample), the
**relaxation** the further decay over the rest, and the **quasi-equilibrium
overpotential** the |η| left at the end of the rest.

Accuracy on simulated records (``validation/validate_symmetric_cell.py``, 20 seeds ×
3 noise levels, σ 0.25–1.5 mV, plateaus 20–60 mV): shape class 99.8–100 % (no wrong
class, one ``undetermined``), plateau |error| ≤ 0.56 mV (median 0.03–0.13 mV), soft
shorts precision and recall 1.0; details in ``docs/symmetric_cell.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope.echem._steps import split_steps

__all__ = [
    "SHAPE_CLASSES",
    "gitt_pulses",
    "half_cycle_features",
    "regular_grid",
    "soft_shorts",
    "symmetric_cell",
    "voltage_record",
]

SHAPE_CLASSES = ("peaking", "arcing", "flat", "undetermined")
_PLATEAU = (0.3, 0.7)
_NUC = (0.0, 0.1)
_EARLY = (0.12, 0.25)
_LATE = (0.85, 0.97)
_END = (0.95, 1.0)
_SHAPE_THRESHOLD = 0.05
_MIN_SAMPLES = 20
_MIN_WINDOW = 3
_COLLAPSE_FRACTION = 0.25
_COLLAPSE_MAX_FALL = 5
_COLLAPSE_MIN_HOLD = 3
_BURST_WINDOW = 9
_BURST_FACTOR = 3.0


def _white_noise(x: np.ndarray) -> float:
    """White-noise σ from the MAD of second differences (drift-free)."""
    if x.size < 4:
        return 0.0
    d2 = np.diff(x, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def _window(tau: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (tau >= lo) & (tau <= hi)


def _running_median3(x: np.ndarray) -> np.ndarray:
    if x.size < 3:
        return x.copy()
    y = x.copy()
    y[1:-1] = np.median(np.stack([x[:-2], x[1:-1], x[2:]]), axis=0)
    return y


def regular_grid(time_s, values) -> tuple[np.ndarray, np.ndarray]:
    """Irregular sampling → a uniform grid by zero-order hold (the last sample before).

    EC-Lab records a point every dt *or* whenever E moves by dE, so noisy or spiking
    stretches hold far more samples than quiet ones; a per-sample median would weight
    them by their sampling density. The grid spacing is the 99th percentile of the
    sampling intervals (at least duration/20 000); regular records (P99/P10 of the
    intervals ≤ 2) are returned unchanged.

    >>> t = np.array([0.0, 10, 10.001, 10.002, 20, 30])
    >>> regular_grid(t, np.array([1.0, 1, 5, 5, 1, 1]))[1].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    t = np.asarray(time_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.size < 3:
        return t, v
    dt = np.diff(t)
    dt = dt[dt > 0]
    if dt.size < 2:
        return t, v
    p10, p99 = np.percentile(dt, [10, 99])
    if p99 <= 2 * p10:
        return t, v
    dur = float(t[-1] - t[0])
    spacing = max(float(p99), dur / 20000.0)
    grid = t[0] + spacing * np.arange(int(np.floor(dur / spacing + 1e-9)) + 1)
    idx = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, t.size - 1)
    return grid, v[idx]


def _null(reason: str, **extra) -> dict:
    out = {
        "eta_plateau_V": None,
        "eta_plateau_err_V": None,
        "eta_plateau_iqr_V": None,
        "eta_nuc_overshoot_V": None,
        "eta_nuc_overshoot_err_V": None,
        "eta_end_V": None,
        "eta_end_err_V": None,
        "shape_index": None,
        "shape_index_err": None,
        "t_max_frac": None,
        "shape_class": "undetermined",
        "reason": reason,
    }
    out.update(extra)
    return out


_BRIDGE_SAMPLES = 10


def _median_err(tau: np.ndarray, y: np.ndarray, sigma: float, n_used: int) -> float:
    """1σ of the median of a window whose samples are a smooth trend plus white noise.

    The trend m_i is a quadratic fit; the median's error δ solves
    Σ [Φ((med + δ − m_i)/σ) − ½] = 0, so σ_med = √(Σ p_i(1 − p_i)) / (Σ φ((med − m_i)/σ)/σ)
    with p_i = Φ((med − m_i)/σ). A flat window gives the familiar 1.2533 σ/√n; a sloping
    one, where only the samples within ~σ of the median move it, a larger error. Bridged
    (excluded) samples carry no information: the sum is scaled to the ``n_used`` kept.
    The difference between the sample median and the median of the fitted trend (how
    far the noisy median leans off a curved profile's own median) is added in
    quadrature.

    >>> t = np.linspace(0, 1, 400)
    >>> round(_median_err(t, np.zeros(400), 1.0, 400) * 20.0, 3)  # × √400
    1.253
    """
    from scipy.special import ndtr

    n = y.size
    if n == 0 or not sigma > 0:
        return 0.0
    deg = 2 if n >= 10 and np.ptp(tau) > 0 else 0
    trend = np.polyval(np.polyfit(tau, y, deg), tau) if deg else np.full(n, np.mean(y))
    z = (np.median(y) - trend) / sigma
    p = ndtr(z)
    dens = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) / sigma
    scale = max(1, n_used) / n
    num = np.sqrt(scale * np.sum(p * (1 - p)))
    den = scale * np.sum(dens)
    stat = float(num / den) if den > 0 else float(1.2533 * sigma / np.sqrt(max(1, n_used)))
    # the median of noisy samples of a curved profile leans off the median of the profile
    # itself (by ~σ² × the skew of its values); the median of the fitted trend is the other
    # estimate, and their difference is added to the error rather than trusted as a fix
    lean = abs(float(np.median(y)) - float(np.median(trend))) if deg else 0.0
    return float(np.hypot(stat, lean))


def _bridge(t: np.ndarray, e: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Fill each excluded run with a straight line between the medians of the (up to) 10
    kept samples on either side (one noisy neighbour would tilt the whole bridge)."""
    out = e.copy()
    idx = np.flatnonzero(keep)
    for a, b in _runs(~keep):
        left = idx[idx < a][-_BRIDGE_SAMPLES:]
        right = idx[idx >= b][:_BRIDGE_SAMPLES]
        if left.size and right.size:
            xs = [float(t[left[-1]]), float(t[right[0]])]
            ys = [float(np.median(e[left])), float(np.median(e[right]))]
            out[a:b] = np.interp(t[a:b], xs, ys)
        elif left.size or right.size:
            out[a:b] = float(np.median(e[left if left.size else right]))
    return out


def half_cycle_features(
    time_s, eta_V, *, exclude=None, shape_threshold: float = _SHAPE_THRESHOLD
) -> dict:
    """Overpotentials and profile shape of one constant-current half-cycle.

    Parameters
    ----------
    time_s : array_like
        Sample times of the step, s (increasing).
    eta_V : array_like
        |η| = cell voltage × sign(current), V (positive while polarised).
    exclude : array_like of bool, optional
        Samples to leave out (soft-short collapses, noise bursts), same length; they are
        bridged by straight lines between the medians of the 10 kept samples on either
        side.
    shape_threshold : float, default 0.05
        |shape index| (relative change of |η| from early to late in the step) beyond
        which, with 2σ to spare, a profile is peaking or arcing; within it, flat.

    Returns
    -------
    dict
        ``eta_plateau_V``, ``eta_plateau_err_V`` (1σ), ``eta_plateau_iqr_V``,
        ``eta_nuc_overshoot_V`` and ``eta_end_V`` with their 1σ ``*_err_V`` (V), ``shape_index`` and
        ``shape_index_err`` (1σ, dimensionless), ``t_max_frac``, ``shape_class``
        (one of :data:`SHAPE_CLASSES`), ``noise_V`` and ``n_excluded``; the values
        are None with ``reason`` when the step is too short or a window is empty.

    Examples
    --------
    >>> t = np.linspace(0, 1000, 1001)
    >>> f = half_cycle_features(t, 0.05 * (1 + 0.3 * (t / 1000) ** 2))
    >>> f["shape_class"], round(f["eta_plateau_V"], 4)
    ('arcing', 0.0537)
    """
    t = np.asarray(time_s, dtype=float)
    e = np.asarray(eta_V, dtype=float)
    n = t.size
    if n < _MIN_SAMPLES:
        return _null(f"the step has {n} samples; at least {_MIN_SAMPLES} are needed")
    dur = float(t[-1] - t[0])
    if not dur > 0:
        return _null("the step has no duration")
    tau = (t - t[0]) / dur
    keep = np.ones(n, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    sigma = _white_noise(e[keep]) if keep.sum() >= 4 else _white_noise(e)
    out: dict = {"noise_V": sigma, "n_excluded": int(n - keep.sum())}

    if not keep.all() and keep.sum() >= 2:
        # excluded stretches are bridged by straight lines between their neighbours, so a
        # sloping profile keeps its window medians (dropping them would shift the median)
        e = _bridge(t, e, keep)
    n_kept = {}

    masks = {}

    def win(lo, hi):
        m = _window(tau, lo, hi)
        n_kept[(lo, hi)] = int((m & keep).sum())
        masks[(lo, hi)] = m if n_kept[(lo, hi)] >= _MIN_WINDOW else m & keep
        return e[masks[(lo, hi)]]

    def err_of(window) -> float:
        m = masks[window]
        return _median_err(tau[m], e[m], sigma, n_kept[window])

    plateau = win(*_PLATEAU)
    if plateau.size < _MIN_WINDOW:
        return _null("fewer than 3 usable samples in the middle of the step (τ 0.3–0.7)", **out)
    p = float(np.median(plateau))
    out["eta_plateau_V"] = p
    out["eta_plateau_err_V"] = err_of(_PLATEAU)
    q75, q25 = np.percentile(plateau, [75, 25])
    out["eta_plateau_iqr_V"] = float(q75 - q25)
    nuc = win(*_NUC)
    out["eta_nuc_overshoot_V"] = (
        float(np.max(_running_median3(nuc)) - p) if nuc.size >= _MIN_WINDOW else None
    )
    # one (3-sample median) value against the plateau: ~σ; the maximum of noisy samples
    # also leans high by up to ~2σ (validation: median error ≈ 0.7σ)
    out["eta_nuc_overshoot_err_V"] = (
        float(np.hypot(sigma, out["eta_plateau_err_V"])) if nuc.size >= _MIN_WINDOW else None
    )
    end = win(*_END)
    out["eta_end_V"] = float(np.median(end)) if end.size else None
    out["eta_end_err_V"] = err_of(_END) if end.size else None
    early, late = win(*_EARLY), win(*_LATE)
    if early.size < _MIN_WINDOW or late.size < _MIN_WINDOW or not p > 0:
        out.update(
            shape_index=None,
            shape_index_err=None,
            t_max_frac=None,
            shape_class="undetermined",
            reason="too few samples early or late in the step, or no positive plateau, "
            "to judge the profile's shape",
        )
        return out
    idx = (float(np.median(late)) - float(np.median(early))) / p
    err = float(np.hypot(err_of(_EARLY), err_of(_LATE))) / p
    out["shape_index"] = float(idx)
    out["shape_index_err"] = float(err)
    body = _window(tau, 0.1, 1.0) & keep
    if body.sum() >= _MIN_WINDOW:
        k = max(1, int(body.sum()) // 20)
        sm = np.convolve(e[body], np.ones(k) / k, mode="valid")  # no zero-padded edges
        out["t_max_frac"] = float(tau[body][int(np.argmax(sm)) + k // 2])
    else:
        out["t_max_frac"] = None
    thr = float(shape_threshold)
    if idx - 2 * err > thr:
        cls = "arcing"
    elif idx + 2 * err < -thr:
        cls = "peaking"
    elif abs(idx) + 2 * err < thr:
        cls = "flat"
    else:
        cls = "undetermined"
    out["shape_class"] = cls
    if cls == "undetermined":
        out["reason"] = (
            f"the shape index {idx:+.3f} ± {2 * err:.3f} (2σ) straddles a class threshold (±{thr})"
        )
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def soft_shorts(time_s, eta_V, *, plateau_V: float | None = None) -> list[dict]:
    """Soft-short signatures inside one constant-current step: collapses and noise bursts.

    Parameters
    ----------
    time_s : array_like
        Sample times, s.
    eta_V : array_like
        |η| = cell voltage × sign(current), V.
    plateau_V : float, optional
        The step's plateau |η| (V); default: the median of |η|.

    Returns
    -------
    list of dict
        ``kind`` (``"collapse"`` or ``"noise"``), ``t_start_s``, ``t_end_s``, ``i_start``,
        ``i_stop`` (sample range in the step), ``depth_V`` (collapse: plateau − the
        lowest |η|; noise: the highest rolling σ of the differences).

    Examples
    --------
    >>> t = np.arange(600.0)
    >>> eta = np.full(600, 0.05); eta[300:360] = 0.001
    >>> [(s["kind"], s["t_start_s"]) for s in soft_shorts(t, eta)]
    [('collapse', 300.0)]
    """
    t = np.asarray(time_s, dtype=float)
    e = np.asarray(eta_V, dtype=float)
    n = t.size
    if n < _MIN_SAMPLES:
        return []
    p = float(np.median(e)) if plateau_V is None else float(plateau_V)
    sigma = _white_noise(e)
    events: list[dict] = []
    if p > 0:
        low = e < _COLLAPSE_FRACTION * p
        # a run of low |η| that the step reached quickly from a polarised level
        for a, b in _runs(low):
            if b - a < _COLLAPSE_MIN_HOLD or a == 0:
                continue
            before = e[max(0, a - _COLLAPSE_MAX_FALL) : a]
            if before.size and float(np.max(before)) >= 0.6 * p:
                events.append(
                    {
                        "kind": "collapse",
                        "t_start_s": float(t[a]),
                        "t_end_s": float(t[b - 1]),
                        "i_start": int(a),
                        "i_stop": int(b),
                        "depth_V": float(p - np.min(e[a:b])),
                    }
                )
    d = np.diff(e)
    w = _BURST_WINDOW
    if d.size > 4 * w:
        s = pd.Series(d).rolling(w, center=True, min_periods=w // 2 + 1).std().to_numpy()
        base = float(np.nanmedian(s))
        limit = max(_BURST_FACTOR * base, 3.0 * sigma * np.sqrt(2.0), 1e-12)
        burst = np.nan_to_num(s, nan=0.0) > limit
        # the switch-on and switch-off of the current are not noise
        burst[: 2 * w] = False
        burst[-2 * w :] = False
        collapsed = np.zeros(n, dtype=bool)
        for ev in events:
            lo = max(0, ev["i_start"] - w)
            hi = min(n, ev["i_stop"] + w)
            collapsed[lo:hi] = True  # the edges of a collapse are not noise
        for a, b in _runs(burst):
            ia, ib = int(a), int(min(n, b + 1))
            if collapsed[ia:ib].mean() > 0.5:
                continue
            if events and events[-1]["kind"] == "noise" and ia - events[-1]["i_stop"] <= 3 * w:
                events[-1]["i_stop"] = ib
                events[-1]["t_end_s"] = float(t[ib - 1])
                events[-1]["depth_V"] = max(events[-1]["depth_V"], float(np.nanmax(s[a:b])))
                continue
            events.append(
                {
                    "kind": "noise",
                    "t_start_s": float(t[ia]),
                    "t_end_s": float(t[ib - 1]),
                    "i_start": ia,
                    "i_stop": ib,
                    "depth_V": float(np.nanmax(s[a:b])),
                }
            )
    events.sort(key=lambda ev: ev["t_start_s"])
    return events


_GITT_FIT = 10


def _extrapolate(t: np.ndarray, y: np.ndarray, at: float) -> float:
    """A straight line through the samples, evaluated at ``at`` (one sample: itself)."""
    if t.size < 2 or np.ptp(t) <= 0:
        return float(y[-1])
    coef = np.polyfit(t - at, y, 1)
    return float(coef[1])


def gitt_pulses(echem: pd.DataFrame, steps: pd.DataFrame | None = None) -> list[dict]:
    """IR drop, relaxation and quasi-equilibrium overpotential of each GITT pulse + rest.

    Parameters
    ----------
    echem : pandas.DataFrame
        The record (``time_s``, ``potential_V``, ``current_A``).
    steps : pandas.DataFrame, optional
        :func:`split_steps` of ``echem`` (computed when not given).

    Returns
    -------
    list of dict
        One per galvanostatic step directly followed by a rest: ``step``, ``direction``,
        ``t_start_s``, ``pulse_s``, ``rest_s``, ``eta_pulse_end_V`` (|η| at the pulse's
        end), ``ir_drop_V`` (the instant fall at the switch: lines through the last 10
        pulse samples and the first 10 rest samples, evaluated at the pulse's last
        sample),
        ``relaxation_V`` (the fall
        over the rest), ``eta_quasi_eq_V`` (|η| left at the rest's end), ``R_ohm`` (IR
        drop / |I|, Ω), ``switch_gap_s`` (time between the two samples the IR drop uses).

    Examples
    --------
    >>> t = np.arange(0.0, 200.0, 1.0)
    >>> i = np.where(t < 15, -1e-4, 0.0)
    >>> e = np.where(t < 15, -0.030, -0.005 * np.exp(-(t - 15) / 20))
    >>> p = gitt_pulses(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}))
    >>> round(p[0]["ir_drop_V"], 3), round(p[0]["eta_quasi_eq_V"], 4)
    (0.025, 0.0)
    """
    if steps is None:
        steps = split_steps(echem)
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    out = []
    rows = list(steps.itertuples())
    for r, nxt in zip(rows[:-1], rows[1:], strict=True):
        if r.kind != "galvanostatic" or nxt.kind != "rest" or r.direction is None:
            continue
        sign = -1.0 if r.direction == "cathodic" else 1.0
        a, b = int(r.i_start), int(r.i_stop)
        ra, rb = int(nxt.i_start), int(nxt.i_stop)
        if rb - ra < 3 or b - a < 2:
            continue
        t_switch = t[b - 1]  # the pulse's last sample: the current switches off there
        eta_end = _extrapolate(t[a:b][-_GITT_FIT:], sign * e[a:b][-_GITT_FIT:], t_switch)
        eta_rest0 = _extrapolate(t[ra:rb][:_GITT_FIT], sign * e[ra:rb][:_GITT_FIT], t_switch)
        tail = max(1, (rb - ra) // 20)
        eta_rest_end = float(np.median(sign * e[rb - tail : rb]))
        current = abs(float(r.I_median_A))
        out.append(
            {
                "step": int(r.step),
                "direction": r.direction,
                "t_start_s": float(r.t_start_s),
                "pulse_s": float(t[b - 1] - t[a]),
                "rest_s": float(t[rb - 1] - t[ra]),
                "eta_pulse_end_V": float(eta_end),
                "ir_drop_V": float(eta_end - eta_rest0),
                "relaxation_V": float(eta_rest0 - eta_rest_end),
                "eta_quasi_eq_V": eta_rest_end,
                "R_ohm": float((eta_end - eta_rest0) / current) if current > 0 else None,
                "switch_gap_s": float(t[ra] - t[b - 1]),
            }
        )
    return out


def voltage_record(
    voltage: pd.DataFrame,
    *,
    current_A: float,
    loop_starts=None,
    min_run: int = 10,
) -> pd.DataFrame:
    """A symmetric-cell record whose file holds no current: the current from settings.

    EC-Lab text exports may hold only ``time/s`` and ``Ewe/V``. In a Li‖Li cell the
    voltage has the sign of the current (open circuit ≈ 0 V), so each run of one
    potential sign gets ``sign(E)·|current_A|``; the instrument's loop starts (from the
    ``_LOOP.txt`` file) start new steps (the impedance blocks between loops are not in
    the export).

    Parameters
    ----------
    voltage : pandas.DataFrame
        ``time_s`` (s) and ``potential_V`` (V).
    current_A : float
        The magnitude of the applied current, A (from ``[cell] current_mA`` or the
        ``.mps`` settings).
    loop_starts : array_like of int, optional
        Row indices where each loop of the run starts.
    min_run : int, default 10
        A run of one voltage sign shorter than this (samples) is noise around 0 V (a
        short), not a current reversal: it keeps the sign before it.

    Returns
    -------
    pandas.DataFrame
        ``time_s``, ``potential_V``, ``current_A`` (A), ``step`` (loop × 2 + sign run);
        ``attrs["current_source"] = "applied (not measured)"``.

    Examples
    --------
    >>> v = pd.DataFrame({"time_s": np.arange(6.0), "potential_V": [.1, .1, .1, -.1, -.1, -.1]})
    >>> voltage_record(v, current_A=4e-4, min_run=3)["current_A"].tolist()
    [0.0004, 0.0004, 0.0004, -0.0004, -0.0004, -0.0004]
    """
    src = _source(voltage)
    if not (np.isfinite(current_A) and current_A != 0):
        raise InputError(
            src,
            f"the applied current {current_A!r} A is not a non-zero finite number",
            "give [cell] current_mA in the experiment file or the run's .mps settings",
        )
    e = voltage["potential_V"].to_numpy(float)
    n = e.size
    sign = np.sign(_running_median3(e))
    nz = np.flatnonzero(sign)
    if nz.size == 0:
        sign[:] = 1.0
    else:
        # samples at exactly 0 V follow the sample before them
        fill = np.maximum.accumulate(np.where(sign != 0, np.arange(n), -1))
        sign = np.where(fill >= 0, sign[np.maximum(fill, 0)], sign[nz[0]])
    # a voltage that dips through 0 V for fewer than min_run samples (noise around a
    # short) is not a current reversal: such runs join the run before them
    bounds = np.flatnonzero(np.concatenate([[True], np.diff(sign) != 0, [True]]))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if a > 0 and b - a < min_run:
            sign[a:b] = sign[a - 1]
    loop = np.zeros(n, dtype=np.int64)
    if loop_starts is not None:
        starts = np.asarray(loop_starts, dtype=np.int64)
        starts = starts[(starts > 0) & (starts < n)]
        loop[starts] = 1
        loop = np.cumsum(loop)
    runs_change = np.concatenate([[0], (np.diff(sign) != 0).astype(np.int64)])
    step = np.cumsum(runs_change | np.concatenate([[0], np.diff(loop) != 0]).astype(np.int64))
    df = pd.DataFrame(
        {
            "time_s": voltage["time_s"].to_numpy(float),
            "potential_V": e,
            "current_A": sign * abs(float(current_A)),
            "step": step.astype(np.int64),
        }
    )
    df.attrs = dict(voltage.attrs)
    df.attrs["current_source"] = "applied (not measured)"
    df.attrs["technique_code"] = df.attrs.get("technique_code") or "GCPL"
    return df


def symmetric_cell(
    echem: pd.DataFrame,
    *,
    steps: pd.DataFrame | None = None,
    current_A: float | None = None,
    min_duration_s: float = 0.0,
    gitt_max_pulse_s: float = 120.0,
    shape_threshold: float = _SHAPE_THRESHOLD,
) -> dict:
    """Analyse a Li‖Li symmetric-cell record half-cycle by half-cycle.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (cell voltage, V), ``current_A`` (A, cathodic
        negative: plating on the working electrode).
    steps : pandas.DataFrame, optional
        :func:`split_steps` of ``echem`` (computed when not given).
    current_A : float, optional
        The applied current's magnitude (A) when the user or settings give it; a
        record current differing by > 5 % is reported as a warning.
    min_duration_s : float, default 0
        Galvanostatic steps shorter than this (s) are counted as GITT pulses, not
        half-cycles (in addition to pulses followed by a rest of ≥ 2× their length).
    gitt_max_pulse_s : float, default 120
        Longest galvanostatic step (s) that is a GITT pulse when a rest follows it.
    shape_threshold : float, default 0.05
        Class threshold of the shape index (see :func:`half_cycle_features`).

    Returns
    -------
    dict
        ``half_cycles`` (one row per half-cycle: ``half_cycle``, ``cycle``, ``step``,
        ``direction`` (``"plating"``/``"stripping"`` of the working electrode),
        ``t_start_s``, ``t_end_s``, ``duration_s``, ``I_A``, ``Q_C``, the features of
        :func:`half_cycle_features`, ``soft_shorts`` (count)), ``soft_shorts`` (every
        event with its half-cycle), ``gitt`` (:func:`gitt_pulses` of the pulses),
        ``evolution`` (slope of the plateau per half-cycle with its 1σ, first/last plateau,
        class counts, the first arcing cycle), ``n_half_cycles``, ``n_excluded_steps``
        with reasons, ``warnings``.

    Raises
    ------
    InputError
        The record has no galvanostatic step.

    Examples
    --------
    >>> t = np.arange(0.0, 4000.0, 2.0)
    >>> i = np.where((t // 1000) % 2 == 0, -1e-4, 1e-4)
    >>> e = np.sign(i) * 0.04
    >>> r = symmetric_cell(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}))
    >>> r["n_half_cycles"], r["half_cycles"][0]["direction"], r["half_cycles"][0]["shape_class"]
    (4, 'plating', 'flat')
    """
    src = _source(echem)
    if steps is None:
        steps = split_steps(echem)
    warnings: list[dict] = []
    galv = steps[steps["kind"] == "galvanostatic"]
    if galv.empty:
        kinds = ", ".join(sorted(set(steps["kind"]))) or "none"
        raise InputError(
            src,
            f"the record has no constant-current step (steps found: {kinds}); a symmetric-"
            "cell analysis needs galvanostatic plating/stripping",
            "give the galvanostatic cycling record (GCPL/CP) of the cell, with its current "
            "column or [cell] current_mA",
        )
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    rows = list(steps.itertuples())
    pulse_steps: set[int] = set()
    for r, nxt in zip(rows[:-1], rows[1:], strict=True):
        if (
            r.kind == "galvanostatic"
            and nxt.kind == "rest"
            and r.duration_s <= gitt_max_pulse_s
            and nxt.duration_s >= 2 * r.duration_s
        ):
            pulse_steps.add(int(r.step))
    half_cycles: list[dict] = []
    shorts: list[dict] = []
    excluded: list[dict] = []
    cycle = 0
    prev_dir = None
    for r in galv.itertuples():
        if int(r.step) in pulse_steps or r.duration_s < min_duration_s:
            continue
        if r.direction is None:
            excluded.append({"step": int(r.step), "reason": "zero current"})
            continue
        direction = "plating" if r.direction == "cathodic" else "stripping"
        if prev_dir == "stripping" and direction == "plating":
            cycle += 1
        prev_dir = direction
        a, b = int(r.i_start), int(r.i_stop)
        sign = -1.0 if r.direction == "cathodic" else 1.0
        tt, eta = regular_grid(t[a:b], sign * e[a:b])
        found = soft_shorts(tt, eta, plateau_V=float(np.median(eta)) if eta.size else None)
        mask = np.zeros(tt.size, dtype=bool)
        for ev in found:
            mask[max(0, ev["i_start"] - 2) : ev["i_stop"] + 2] = True
        feats = half_cycle_features(tt, eta, exclude=mask, shape_threshold=shape_threshold)
        hc = {
            "half_cycle": len(half_cycles),
            "cycle": cycle,
            "step": int(r.step),
            "direction": direction,
            "t_start_s": float(r.t_start_s),
            "t_end_s": float(r.t_end_s),
            "duration_s": float(r.duration_s),
            "I_A": float(r.I_median_A),
            "Q_C": float(r.Q_C),
            "ended_by": r.ended_by,
            "n_samples": int(b - a),
            "n_grid": int(tt.size),
            **feats,
            "soft_shorts": len(found),
        }
        half_cycles.append(hc)
        for ev in found:
            shorts.append(
                {
                    "half_cycle": hc["half_cycle"],
                    "cycle": cycle,
                    "kind": ev["kind"],
                    "t_start_s": ev["t_start_s"],
                    "t_end_s": ev["t_end_s"],
                    "depth_V": ev["depth_V"],
                }
            )
    if current_A is not None and half_cycles:
        med = float(np.median([abs(h["I_A"]) for h in half_cycles]))
        if abs(med - abs(current_A)) > 0.05 * abs(current_A):
            warnings.append(
                {
                    "code": "current-mismatch",
                    "message": f"the record's current ({med * 1e3:.4g} mA) differs by more "
                    f"than 5 % from the given current ({abs(current_A) * 1e3:.4g} mA): check "
                    "[cell] current_mA or the settings file",
                }
            )
    cut = [h["half_cycle"] for h in half_cycles if h["ended_by"] == "potential limit"]
    if cut:
        warnings.append(
            {
                "code": "potential-limit",
                "message": f"{len(cut)} half-cycle(s) ended at the instrument's potential limit "
                f"(first: half-cycle {cut[0]}): their end-of-step overpotential is the cut-off, "
                "and the shape index sees a truncated profile",
            }
        )
    directions = {h["direction"] for h in half_cycles}
    if len(half_cycles) > 1 and len(directions) == 1:
        warnings.append(
            {
                "code": "no-current-reversal",
                "message": f"all {len(half_cycles)} constant-current steps are "
                f"{directions.pop()} of the working electrode: the record is one-directional, "
                "not plating/stripping cycling; shapes and overpotentials describe each step",
            }
        )
    if shorts:
        warnings.append(
            {
                "code": "soft-short",
                "message": f"{len(shorts)} soft-short signature(s) (voltage collapse or noise "
                "burst) inside constant-current steps: the cell may be shorting through a "
                "dendrite; plateau values exclude those samples",
            }
        )
    gitt_all = gitt_pulses(echem, steps) if pulse_steps else []
    gitt = [g for g in gitt_all if g["step"] in pulse_steps]
    return {
        "n_half_cycles": len(half_cycles),
        "n_cycles": (cycle + 1) if half_cycles else 0,
        "half_cycles": half_cycles,
        "soft_shorts": shorts,
        "n_soft_shorts": len(shorts),
        "gitt": gitt,
        "n_gitt_pulses": len(gitt),
        "evolution": _evolution(half_cycles),
        "excluded_steps": excluded,
        "warnings": warnings,
    }


def _evolution(half_cycles: list[dict]) -> dict:
    """How the plateau and the shape change over cycles (least-squares straight line)."""
    ok = [h for h in half_cycles if h.get("eta_plateau_V") is not None]
    classes = {c: sum(1 for h in half_cycles if h["shape_class"] == c) for c in SHAPE_CLASSES}
    arcs = [h for h in half_cycles if h["shape_class"] == "arcing"]
    out: dict = {
        "class_counts": classes,
        "first_arcing_cycle": arcs[0]["cycle"] if arcs else None,
        "first_arcing_half_cycle": arcs[0]["half_cycle"] if arcs else None,
        "eta_plateau_first_V": ok[0]["eta_plateau_V"] if ok else None,
        "eta_plateau_last_V": ok[-1]["eta_plateau_V"] if ok else None,
        "plateau_slope_V_per_half_cycle": None,
        "plateau_slope_err_V_per_half_cycle": None,
    }
    cycles = np.array([h["half_cycle"] for h in ok], dtype=float)
    if cycles.size >= 3:
        y = np.array([h["eta_plateau_V"] for h in ok])
        coef, cov = np.polyfit(cycles, y, 1, cov="unscaled")
        resid = y - np.polyval(coef, cycles)
        dof = max(1, y.size - 2)
        s2 = float(resid @ resid) / dof
        out["plateau_slope_V_per_half_cycle"] = float(coef[0])
        out["plateau_slope_err_V_per_half_cycle"] = float(np.sqrt(cov[0, 0] * s2))
    else:
        out["reason"] = "fewer than 3 half-cycles with a plateau: no trend"
    return out
