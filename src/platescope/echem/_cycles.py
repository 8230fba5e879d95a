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
from platescope.echem._steps import turning_points

__all__ = ["cv_features", "cycle_charges"]

COLUMNS = ["cycle", "t_start_s", "t_end_s", "Q_c_C", "Q_a_C", "CE"]
_ERR_COLUMNS = ["Q_c_err_C", "Q_a_err_C", "CE_err"]
_MIN_SAMPLES = 5
_GALV_DEADBAND = 0.05
_TURN_FRACTION = 0.1
# below this potential (V vs Li/Li⁺) a record may plate or alloy Li; a record that never
# goes below it is a positive electrode, cycled charge (anodic) → discharge (cathodic)
_CATHODE_MIN_V = 1.5


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


def _turning_points(e) -> list[tuple[int, int]]:
    return turning_points(e, fraction=_TURN_FRACTION)


def _first_direction(e, turns) -> int:
    """+1 if the record first sweeps up, −1 if down."""
    if turns:
        return turns[0][1]  # the first turn is a maximum ⇒ it first swept up
    return 1 if e[-1] >= e[0] else -1


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


def _halves(steps: pd.DataFrame) -> list[dict]:
    """Charge-bearing halves: consecutive steps of one direction (rests and impedance skipped)."""
    halves: list[dict] = []
    for r in steps.itertuples():
        if r.kind in ("rest", "impedance") or r.direction not in ("cathodic", "anodic"):
            continue
        if halves and halves[-1]["direction"] == r.direction and r.kind != "sweep":
            h = halves[-1]
            h["i_stop"] = r.i_stop
            h["ended_by"] = r.ended_by
            h["duration_s"] += r.duration_s
            h["kinds"].add(r.kind)
            continue
        halves.append(
            {
                "direction": r.direction,
                "i_start": int(r.i_start),
                "i_stop": int(r.i_stop),
                "ended_by": r.ended_by,
                "duration_s": float(r.duration_s),
                "span_V": float(r.E_max_V - r.E_min_V),
                "kinds": {r.kind},
            }
        )
    return halves


def _first_half(e, halves, first_half: str) -> str:
    if first_half in ("cathodic", "anodic"):
        return first_half
    # a positive electrode (never near Li plating potentials) pairs charge → discharge
    if float(np.min(e)) > _CATHODE_MIN_V and any(h["direction"] == "anodic" for h in halves):
        return "anodic"
    return "cathodic"


def _labels_from_steps(echem, e, first_half: str, steps=None):
    """Sample labels for cycles = a first half and the other-direction half after it."""
    from platescope.echem._steps import split_steps

    if steps is None:
        steps = split_steps(echem)
    halves = _halves(steps)
    first = _first_half(e, halves, first_half)
    n = e.size
    labels = np.full(n, -1, dtype=int)
    numbers: list[int] = []
    dropped: list[dict] = []
    info: list[dict] = []
    k = 0
    while k < len(halves):
        h = halves[k]
        if h["direction"] != first:
            dropped.append(
                {
                    "first_sample": h["i_start"],
                    "last_sample": h["i_stop"] - 1,
                    "reason": f"{h['direction']} half with no {first} half before it",
                }
            )
            k += 1
            continue
        second = halves[k + 1] if k + 1 < len(halves) else None
        nxt = halves[k + 2]["i_start"] if k + 2 < len(halves) else n
        stop = nxt if second is not None else n
        labels[h["i_start"] : stop] = len(numbers)
        numbers.append(len(numbers) + 1)
        info.append({"first": h, "second": second})
        k += 2
    if not numbers:
        return None
    _mark_complete(info, echem)
    return labels, numbers, dropped, info, first, steps


def _mark_complete(info: list[dict], echem) -> None:
    """``complete`` and ``incomplete_reason`` per cycle."""
    from platescope.echem._steps import record_warnings

    truncated = bool(record_warnings(echem))
    seconds = [c["second"] for c in info if c["second"] is not None]
    ref_dur = [s["duration_s"] for s in seconds if s["ended_by"] != "record end"]
    ref_span = [s["span_V"] for s in seconds if s["ended_by"] != "record end"]
    for c in info:
        h, s2 = c["first"], c["second"]
        reason = None
        if s2 is None:
            other = "anodic" if h["direction"] == "cathodic" else "cathodic"
            reason = (
                f"the file is truncated before the {other} half"
                if truncated
                else f"the record ends before the {other} half"
            )
        elif s2["ended_by"] == "record end":
            if truncated:
                reason = "the file is truncated inside this cycle"
            elif "sweep" in s2["kinds"]:
                ref = np.median(ref_span) if ref_span else h["span_V"]
                if s2["span_V"] < 0.8 * ref:
                    reason = (
                        f"the last sweep covers {s2['span_V']:.3g} V of the {ref:.3g} V the other "
                        "sweeps cover: the record stops mid-sweep"
                    )
            elif ref_dur:
                ref = float(np.median(ref_dur))
                if s2["duration_s"] < 0.8 * ref:
                    reason = (
                        f"the last half lasts {s2['duration_s']:.4g} s, the others "
                        f"{ref:.4g} s: the record stops early"
                    )
        c["complete"] = reason is None
        c["incomplete_reason"] = reason


def _split(echem, cols, by: str, first_half: str = "auto", steps=None):
    """(labels, numbers, method, dropped, info, first) — ``info``/``first`` only for steps."""
    _, e, i = cols["time_s"], cols["potential_V"], cols["current_A"]
    src = _source(echem)
    if by not in ("auto", "steps", "cycle", "potential", "current"):
        raise InputError(
            None,
            f"by must be auto, steps, cycle, potential or current, got {by!r}",
            "use by='auto'",
        )
    if first_half not in ("auto", "cathodic", "anodic"):
        raise InputError(
            None,
            f"first_half must be auto, cathodic or anodic, got {first_half!r}",
            "use first_half='auto'",
        )
    if by in ("auto", "steps"):
        found = _labels_from_steps(echem, e, first_half, steps)
        if found is not None:
            labels, numbers, dropped, info, first, _ = found
            return labels, numbers, "steps paired in time order", dropped, info, first
        if by == "steps":
            raise InputError(
                src,
                "the record holds no plating (cathodic) half followed by a stripping half: "
                "no cycle",
                "give a cycling record (CV or galvanostatic cycles)",
            )
        raise InputError(
            src,
            "no cycles found: the record holds no cathodic (plating) half, galvanostatic or "
            "swept, followed by an anodic one (rests and impedance blocks are not cycles)",
            "give a cycling record (CV or galvanostatic cycles), or choose the cycles "
            "explicitly with by='cycle' if the instrument's numbering is what you want",
        )
    has_col = "cycle" in echem.columns
    if by == "cycle":
        if not has_col:
            raise InputError(src, "the record has no cycle column", "use by='auto'")
        labels, numbers = _labels_from_cycle_column(echem["cycle"].to_numpy())
        return labels, numbers, "cycle column", [], None, "cathodic"
    if by == "potential":
        turns = _turning_points(e)
        if turns:
            labels, numbers, dropped = _labels_from_turns(e, turns)
            if numbers:
                return labels, numbers, "potential turning points", dropped, None, "cathodic"
        raise InputError(
            src,
            "the potential never completes a sweep and its return, so the record holds no CV cycle",
            "give a cyclic voltammogram with at least one turning point and its return sweep",
        )
    labels, numbers, dropped = _labels_from_current(i)
    if numbers:
        return labels, numbers, "current sign changes", dropped, None, "cathodic"
    raise InputError(
        src,
        "the current never goes from cathodic (negative) to anodic, so the record holds "
        "no plating/stripping cycle",
        "give a galvanostatic cycling record with a cathodic segment followed by an anodic one",
    )


# --------------------------------------------------------------------------- public
def cycle_charges(
    echem: pd.DataFrame, *, by: str = "auto", first_half: str = "auto", steps=None
) -> pd.DataFrame:
    """Cathodic and anodic charge and Coulombic efficiency of every cycle.

    Parameters
    ----------
    echem : pandas.DataFrame
        Echem record: ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic
        negative); the instrument columns ``step``, ``control_mode``, ``freq_Hz`` and
        ``cycle`` are used when present.
    by : {"auto", "steps", "cycle", "potential", "current"}
        How cycles are found. ``"auto"`` = ``"steps"``: the record is cut into steps
        (:func:`platescope.echem.split_steps`) and each plating half (cathodic
        galvanostatic/potentiostatic steps, or a cathodic sweep) is paired with the
        stripping half after it, in time order, whatever the instrument's numbering —
        the one pairing rule of every scenario. ``"cycle"`` follows the instrument's
        ``cycle`` column, ``"potential"`` CV turning points, ``"current"`` current sign
        changes (module docstring).
    first_half : {"auto", "cathodic", "anodic"}
        Which half opens a cycle (``by="steps"``). ``"cathodic"``: plating/alloying
        first, CE = Q_a/Q_c. ``"anodic"``: a positive electrode charged first, CE =
        Q_c/Q_a (discharge over charge). ``"auto"``: anodic when the record never goes
        below 1.5 V (a positive electrode vs Li/Li⁺; said in a ``ce-positive-electrode``
        warning), else cathodic.
    steps : pandas.DataFrame, optional
        :func:`platescope.echem.split_steps` of ``echem`` when the caller has it (else
        computed here).

    Returns
    -------
    pandas.DataFrame
        One row per cycle, columns ``cycle`` (1, 2, … in time order; the file's number
        with ``by="cycle"``), ``t_start_s``, ``t_end_s`` (s), ``Q_c_C``, ``Q_a_C`` (C,
        positive magnitudes), ``CE`` (see ``first_half``; NaN when the first half holds
        no charge or is missing), ``complete`` (both halves present and whole; False
        for a trailing half cycle, a last sweep that stops short, a last half much
        shorter than the others, or a truncated file) and ``incomplete_reason``, then the
        1σ errors ``Q_c_err_C``, ``Q_a_err_C``, ``CE_err``. Impedance rows
        (``freq_Hz > 0``) carry no charge. ``attrs``: ``method``, ``dropped`` (halves
        left out, with reasons), ``ce_definition``, ``current_noise_A``, ``source``,
        ``warnings`` (list of ``{code, message}``: CE above 1, a record that is not a
        plating/stripping record, a truncated file).

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
    >>> cc["cycle"].tolist(), cc["CE"].round(3).tolist(), cc["complete"].tolist()
    ([1, 2], [0.8, 0.8], [True, True])
    """
    from platescope.echem._steps import record_warnings

    cols = _columns(echem)
    t, i = cols["time_s"], cols["current_A"]
    labels, numbers, method, dropped, info, first = _split(echem, cols, by, first_half, steps)
    i_q = i.copy()
    if "freq_Hz" in echem.columns:
        imp = echem["freq_Hz"].to_numpy(float) > 0
        i_q[imp] = 0.0
    else:
        imp = np.zeros(t.size, dtype=bool)
    pos, neg = _signed_parts(t, i_q)
    lab_int = labels[1:].copy()  # an interval belongs to the cycle of its right-hand sample
    lab_int[imp[1:] | imp[:-1]] = -1  # impedance points are never charge
    keep = lab_int >= 0
    n = len(numbers)
    q_a = np.bincount(lab_int[keep], weights=pos[keep], minlength=n)
    q_c = np.bincount(lab_int[keep], weights=neg[keep], minlength=n)
    # trapezoid weights of the samples, for the noise propagation
    dt = np.diff(t)
    w = np.zeros(t.size)
    w[:-1] += 0.5 * dt
    w[1:] += 0.5 * dt
    sigma = current_noise_A(i[~imp]) if (~imp).sum() >= 3 else 0.0
    lab = np.where((labels >= 0) & ~imp, labels, n)
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
        first_i = idx[0]
        # the interval ending at the cycle's first sample belongs to the cycle
        t_start[k] = t[first_i - 1] if first_i > 0 else t[first_i]
        t_end[k] = t[idx[-1]]
    # CE = (charge out) / (charge in): Q_a/Q_c when plating opens the cycle, else Q_c/Q_a
    q_in, q_out, v_in, v_out = (
        (q_c, q_a, var_c, var_a) if first == "cathodic" else (q_a, q_c, var_a, var_c)
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ce = np.where(q_in > 0, q_out / q_in, np.nan)
        ce_err = np.where(
            q_in > 0,
            np.sqrt(
                v_out / q_in**2 + v_in * q_out**2 / q_in**4 + (bias * (q_in - q_out) / q_in**2) ** 2
            ),
            np.nan,
        )
    if info is not None:
        complete = np.array([c["complete"] for c in info], dtype=bool)
        why = [c["incomplete_reason"] for c in info]
        missing = np.array([c["second"] is None for c in info], dtype=bool)
        ce = np.where(missing, np.nan, ce)
        ce_err = np.where(missing, np.nan, ce_err)
    else:
        complete = np.ones(n, dtype=bool)
        why = [None] * n
    out = pd.DataFrame(
        {
            "cycle": np.asarray(numbers, dtype=np.int64),
            "t_start_s": t_start,
            "t_end_s": t_end,
            "Q_c_C": q_c,
            "Q_a_C": q_a,
            "CE": ce,
            "complete": complete,
            "incomplete_reason": why,
            "Q_c_err_C": np.sqrt(var_c + bias**2),
            "Q_a_err_C": np.sqrt(var_a + bias**2),
            "CE_err": ce_err,
        }
    )
    for d in dropped:
        d["t_start_s"] = float(t[d.pop("first_sample")])
        d["t_end_s"] = float(t[d.pop("last_sample")])
    warnings = record_warnings(echem) + _meaning_checks(out, cols["potential_V"], first)
    if dropped:
        warnings.append(
            {
                "code": "half-cycles-dropped",
                "message": f"{len(dropped)} half cycle(s) are not part of any cycle (e.g. "
                f"{dropped[0]['reason']})",
            }
        )
    out.attrs = {
        "method": method,
        "dropped": dropped,
        "first_half": first,
        "ce_definition": "Q_a/Q_c (stripped over plated)"
        if first == "cathodic"
        else "Q_c/Q_a (discharge over charge: a positive electrode charged first)",
        "current_noise_A": sigma,
        "impedance_samples_excluded": int(imp.sum()),
        "source": _source(echem),
        "warnings": warnings,
    }
    return out


#: CE above this is not plating/stripping of the same metal (beyond rounding and noise).
CE_MAX_PLATING = 1.05
#: CE above this is not reported at all: the anodic charge comes from another process.
CE_REFUSE = 1.5


def _meaning_checks(cycles: pd.DataFrame, e: np.ndarray, first: str) -> list[dict]:
    """Warnings for CE values that cannot be a plating/stripping efficiency.

    CE > 1.05 (beyond its 2σ error) keeps its value with a warning; CE > 1.5 is set to NaN
    with ``incomplete_reason``-style text in ``CE_reason``; a record that never goes below
    1.0 V and is paired plating-first is flagged as not a plating record (the charges are
    real, the ratio describes another process).
    """
    out: list[dict] = []
    cycles["CE_reason"] = None
    ce = cycles["CE"].to_numpy(float)
    err = np.nan_to_num(cycles["CE_err"].to_numpy(float), posinf=0.0)
    high = np.isfinite(ce) & (ce - 2 * err > CE_MAX_PLATING)
    refuse = np.isfinite(ce) & (ce > CE_REFUSE)
    for k in np.flatnonzero(refuse):
        cycles.at[k, "CE_reason"] = (
            f"the returned charge is {ce[k]:.3g}× the charge put in: it comes from another "
            "process (electrolyte oxidation, a positive electrode, a record that starts "
            "charged), so no Coulombic efficiency is reported"
        )
    if refuse.any():
        cycles.loc[refuse, ["CE", "CE_err"]] = np.nan
        out.append(
            {
                "code": "ce-not-plating",
                "message": f"{int(refuse.sum())} cycle(s) return more than {CE_REFUSE}× the "
                "charge put in; their CE is null. If the electrode is a cathode, set "
                'first_half = "anodic"; if the cell is symmetric, check [echem] electrode',
            }
        )
    soft = high & ~refuse
    if soft.any():
        worst = float(np.max(ce[soft]))
        out.append(
            {
                "code": "ce-above-one",
                "message": f"CE exceeds {CE_MAX_PLATING} beyond its error in {int(soft.sum())} "
                f"cycle(s) (up to {worst:.3f}): more charge came back than went in, so part "
                "of it is not stripping of the plated metal (side reactions, or metal plated "
                "before the record)",
            }
        )
    low = np.isfinite(ce) & (ce < 0.2)
    if low.any():
        out.append(
            {
                "code": "ce-very-low",
                "message": f"{int(low.sum())} cycle(s) return less than 20 % of the charge put "
                "in: the record may not be a reversible plating/stripping (or charge/discharge) "
                "process",
            }
        )
    if first == "anodic":
        out.append(
            {
                "code": "ce-positive-electrode",
                "message": f"the potential never goes below {_CATHODE_MIN_V} V, so the electrode "
                "is taken as a positive electrode: cycles are charge (anodic) then discharge, "
                'CE = Q_c/Q_a; set first_half = "cathodic" if it is plated first',
            }
        )
    if first == "cathodic" and e.size and float(np.min(e)) > 1.0:
        out.append(
            {
                "code": "not-plating-record",
                "message": f"the potential never goes below 1.0 V (minimum {np.min(e):.3g} V): "
                "if it is vs Li/Li⁺ no Li plates or alloys, and the charge ratio describes "
                "another process",
            }
        )
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
    steps: pd.DataFrame | None = None,
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
    steps : pandas.DataFrame, optional
        :func:`platescope.echem.split_steps` of ``echem`` (computed when not given).
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
    if steps is None:
        from platescope.echem._steps import split_steps

        steps = split_steps(echem)
    if cycles is None:
        cycles = cycle_charges(echem, steps=steps)
    sigma = current_noise_A(i)
    kinds = steps
    swept = (kinds["kind"] == "sweep").to_numpy()
    rows = []
    for _, row in cycles.iterrows():
        sel = (t >= row["t_start_s"]) & (t <= row["t_end_s"])
        tc, ec, ic = t[sel], e[sel], i[sel]
        # a CV feature exists only on a potential sweep: a galvanostatic cycle has no onset
        # potential or anodic peak, whatever its current looks like against its potential
        in_cycle = (kinds["t_end_s"] >= row["t_start_s"]) & (kinds["t_start_s"] <= row["t_end_s"])
        not_swept = not (swept & in_cycle.to_numpy()).any()
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
        if not_swept and tc.size >= 2:
            # the plating → stripping switch exists for any cycle: peak of the net cathodic charge
            pos, neg = _signed_parts(tc, ic)
            net = np.concatenate([[0.0], np.cumsum(neg - pos)])
            out["t_switch_s"] = float(tc[int(np.argmax(net))])
        if not_swept:
            out["reason"] = (
                "the cycle holds no potential sweep (its steps are "
                + ", ".join(sorted(set(kinds.loc[in_cycle, "kind"])))
                + "): no CV features"
            )
            rows.append(out)
            continue
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
