"""What each part of an electrochemistry record is: rest, galvanostatic, potentiostatic, sweep, impedance.

Real records mix techniques: an open-circuit rest before the current is switched on,
impedance blocks between cycles, constant-current steps that end at a potential
cut-off, CV sweeps. Each analysis must work on the steps it is meant for — nucleation
only inside a cathodic constant-current step, charges never from impedance points — so
:func:`split_steps` cuts a record into steps in time order and names each one.

Method
------
The instrument's own columns win where the reader found them:

- ``freq_Hz > 0`` marks the rows of an impedance block (``impedance``);
- ``control_mode`` (EC-Lab ``mode``): 3 → ``rest``, 1 → ``galvanostatic``,
  2 → potential-controlled, which is ``sweep`` when the potential moves at a steady
  rate (the CV test below) and ``potentiostatic`` otherwise;
- a change of ``step`` (EC-Lab ``Ns``), of ``control_mode``, or of the current's sign
  inside a galvanostatic run starts a new step.

Without them, each sample is classed from the signals: a record that sweeps the
potential at a steady rate (technique CV/LSV, or ≥ 60 % of the samples within ±30 %
of the median |dE/dt|) is ``sweep`` throughout, cut at the turning points; otherwise
``|I| ≤ max(0.02·P99|I|, 4σ_I)`` is ``rest`` (σ_I: white current noise from the MAD
of second differences), and each run of one current sign is ``galvanostatic`` when the
current stays within ±10 % of its median (split where it jumps to another level),
``potentiostatic`` when the potential stays within ±5 mV, else ``variable``. Runs
shorter than 3 samples (switching transients) join the step before them.

``direction`` is ``cathodic`` (reduction: plating, lithiation; current < 0) or
``anodic`` for galvanostatic and potentiostatic steps, and the sweep direction
(falling potential = ``cathodic``) for sweeps. A galvanostatic step whose potential
ends at its own extreme while still moving fast (|dE/dt| over the last 5 % of the step
above 5× the step's median rate over windows of that length) is marked ``ended_by = "potential limit"`` — the
instrument's cut-off, not a feature of the electrode; the last step of the record is
``"record end"``.

Measured on every time-domain record in ``shared/data/echem`` against the instrument's
own step table (tests/echem/test_steps_real_files.py) and on the simulators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope._errors import source_of as _source

__all__ = [
    "STEP_COLUMNS",
    "STEP_KINDS",
    "record_warnings",
    "split_steps",
    "step_slice",
    "turning_points",
]

STEP_KINDS = ("rest", "galvanostatic", "potentiostatic", "sweep", "impedance", "variable")
STEP_COLUMNS = [
    "step",
    "kind",
    "direction",
    "i_start",
    "i_stop",
    "t_start_s",
    "t_end_s",
    "duration_s",
    "n_samples",
    "I_median_A",
    "E_start_V",
    "E_end_V",
    "E_min_V",
    "E_max_V",
    "Q_C",
    "instrument_step",
    "ended_by",
    "source",
]
_REST_FRACTION = 0.02
_GALV_TOL = 0.10
_POT_TOL_V = 5e-3
_MIN_RUN = 3
_MIN_SWEEP_V = 0.02


def _noise(x: np.ndarray) -> float:
    if x.size < 4:
        return 0.0
    d2 = np.diff(x, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def _steady_sweep(t: np.ndarray, e: np.ndarray) -> bool:
    """Whether the potential moves at a steady rate (a CV or LSV): ≥ 60 % of the
    (5-sample averaged) rates within ±30 % of the median |dE/dt|."""
    dt = np.diff(t)
    ok = dt > 0
    if ok.sum() < 5:
        return False
    rate = np.abs(np.diff(e)[ok] / dt[ok])
    if rate.size >= 5:
        rate = np.convolve(rate, np.ones(5) / 5.0, mode="valid")
    med = float(np.median(rate))
    if not med > 0:
        return False
    return float(np.mean(np.abs(rate - med) <= 0.3 * med)) >= 0.6


def _potential_noise(e) -> float:
    d = np.diff(e)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)) if d.size else 0.0


def turning_points(e, *, fraction: float = 0.1) -> list[tuple[int, int]]:
    """(index, kind) of the confirmed turning points of a sweep; kind +1 maximum, −1 minimum.

    A turning point is confirmed once the potential has moved back from the running
    extremum by more than ``max(fraction·(E_max − E_min), 10·σ_E)`` (σ_E: white
    potential noise), so noise and staircase steps never make one.

    >>> e = np.concatenate([np.linspace(1, 0, 50), np.linspace(0, 1, 50)[1:]])
    >>> turning_points(e)
    [(49, -1)]
    """
    e = np.asarray(e, dtype=float)
    span = float(np.ptp(e)) if e.size else 0.0
    if span <= 0:
        return []
    thr = max(fraction * span, 10.0 * _potential_noise(e))
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


def _sweep_directions(e: np.ndarray) -> np.ndarray:
    """+1 rising / −1 falling per sample of a sweep; a vertex ends the sweep that reaches it."""
    n = e.size
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    turns = turning_points(e)
    if turns:
        d = turns[0][1]  # the first turn is a maximum ⇒ the record first sweeps up
    else:
        d = 1 if e[-1] >= e[0] else -1
    start = 0
    for idx, _ in turns:
        out[start : idx + 1] = d
        start = idx + 1
        d = -d
    out[start:] = d
    return out


def _runs(codes: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of runs of equal value."""
    if codes.size == 0:
        return []
    cut = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    bounds = np.concatenate([[0], cut, [codes.size]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _galvanostatic_levels(i: np.ndarray) -> np.ndarray:
    """Labels of constant-current levels inside one run of a single current sign.

    A new level starts where the 5-sample running median jumps by more than ±10 %;
    levels shorter than 3 samples (the half-value sample a current derived from charge
    increments has at a switch) join the level before them (the first one: the next).
    """
    from scipy.ndimage import median_filter

    n = i.size
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    m = median_filter(i, size=5, mode="nearest")
    scale = np.maximum(np.abs(m[:-1]), np.abs(m[1:]))
    jump = np.abs(np.diff(m)) > _GALV_TOL * scale
    lab = np.concatenate([[0], np.cumsum(jump)]).astype(np.int64)
    runs = _runs(lab)
    if len(runs) > 1:
        keep = [r for r in runs if r[1] - r[0] >= _MIN_RUN]
        if not keep:
            return np.zeros(n, dtype=np.int64)
        out = np.empty(n, dtype=np.int64)
        k = 0
        for a, b in runs:
            if b - a >= _MIN_RUN:
                k = keep.index((a, b))
            out[a:b] = k
        first = keep[0][0]
        out[:first] = 0
        return out
    return lab


def _piecewise_constant(i: np.ndarray) -> bool:
    """Whether ≥ 80 % of the samples carrying current sit within ±10 % of their sign-run's
    median (a galvanostatic record, whatever its potential does); False when < 20 % of the
    samples carry current."""
    if i.size == 0:
        return False
    scale = float(np.percentile(np.abs(i), 99))
    if scale <= 0:
        return True
    sign = np.where(np.abs(i) <= _REST_FRACTION * scale, 0, np.sign(i)).astype(np.int64)
    ok = np.zeros(i.size, dtype=bool)
    active = sign != 0
    if active.mean() < 0.2:
        return False  # mostly no current: nothing says the current was held constant
    for a, b in _runs(sign):
        if sign[a] == 0:
            continue
        seg = i[a:b]
        levels = _galvanostatic_levels(seg)
        for la, lb in _runs(levels):
            med = float(np.median(seg[la:lb]))
            ok[a + la : a + lb] = (lb - la >= _MIN_RUN) & (
                np.abs(seg[la:lb] - med) <= _GALV_TOL * abs(med)
            )
    return float(ok[active].mean()) >= 0.8


def _signal_codes(t, e, i, technique_code) -> tuple[np.ndarray, np.ndarray]:
    """(kind code, sub-label) per sample from the signals alone."""
    n = t.size
    kind = np.full(n, "variable", dtype=object)
    sub = np.zeros(n, dtype=np.int64)
    if technique_code in {"CV", "LSV"} or (
        technique_code not in {"CP", "GCPL", "CA", "OCV"}
        and _steady_sweep(t, e)
        and np.ptp(e) > _MIN_SWEEP_V
        and not _piecewise_constant(i)
    ):
        kind[:] = "sweep"
        sub[:] = _sweep_directions(e)
        return kind, sub
    scale = float(np.percentile(np.abs(i), 99)) if n else 0.0
    dead = max(_REST_FRACTION * scale, 4.0 * _noise(i))
    sign = np.where(np.abs(i) <= dead, 0, np.sign(i)).astype(np.int64)
    # switching transients: runs shorter than _MIN_RUN join the run before them
    runs = _runs(sign)
    for r, (a, b) in enumerate(runs):
        if b - a < _MIN_RUN and r > 0:
            sign[a:b] = sign[a - 1]
        elif b - a < _MIN_RUN and r + 1 < len(runs):
            sign[a:b] = sign[runs[r + 1][0]]
    for a, b in _runs(sign):
        if sign[a] == 0:
            kind[a:b] = "rest"
            continue
        seg_i = i[a:b]
        med = float(np.median(seg_i))
        if np.mean(np.abs(seg_i - med) <= _GALV_TOL * abs(med)) >= 0.8:
            kind[a:b] = "galvanostatic"
            sub[a:b] = _galvanostatic_levels(seg_i) * 3 + sign[a]
        elif np.ptp(np.percentile(e[a:b], [5, 95])) <= 2 * _POT_TOL_V:
            kind[a:b] = "potentiostatic"
            sub[a:b] = sign[a]
        else:
            levels = _galvanostatic_levels(seg_i)
            # several constant levels of one sign (a multi-step CP) are still galvanostatic
            ok = True
            for la, lb in _runs(levels):
                part = seg_i[la:lb]
                m = float(np.median(part))
                if lb - la < _MIN_RUN or np.mean(np.abs(part - m) <= _GALV_TOL * abs(m)) < 0.8:
                    ok = False
                    break
            if ok and levels.max() > 0:
                kind[a:b] = "galvanostatic"
                sub[a:b] = levels * 3 + sign[a]
            else:
                kind[a:b] = "variable"
                sub[a:b] = sign[a]
    return kind, sub


def _instrument_codes(df: pd.DataFrame, t, e, i, tech) -> tuple[np.ndarray, np.ndarray] | None:
    if "control_mode" not in df.columns:
        return None
    mode = df["control_mode"].to_numpy()
    known = np.isin(mode, (1, 2, 3))
    if known.mean() < 0.95:
        return None
    n = t.size
    kind = np.full(n, "variable", dtype=object)
    sub = np.zeros(n, dtype=np.int64)
    if tech in ("CV", "LSV"):
        # the technique says every driven sample is part of a sweep, whatever the flags say
        mode = np.where(np.isin(mode, (1, 2)), 2, mode)
    kind[mode == 3] = "rest"
    kind[mode == 1] = "galvanostatic"
    galv = mode == 1
    galv = galv.copy()
    sub[galv] = np.sign(i[galv]).astype(np.int64)
    # potential-controlled runs: a steady sweep or a held potential
    instr = (
        df["step"].to_numpy().astype(np.int64) if "step" in df.columns else np.zeros(n, np.int64)
    )
    ctl = (mode == 2).astype(np.int64)
    for a, b in _runs(ctl * (1 + instr)):
        if not ctl[a]:
            continue
        held_i = _piecewise_constant(i[a:b])
        held_e = np.ptp(np.percentile(e[a:b], [5, 95])) <= 2 * _POT_TOL_V
        if tech in ("CP", "GCPL") or (tech not in ("CV", "LSV", "CA") and held_i and not held_e):
            # a constant current under potential-control flags (old .mpr files): trust the current
            kind[a:b] = "galvanostatic"
            sub[a:b] = np.sign(i[a:b]).astype(np.int64)
            galv[a:b] = True
        elif _steady_sweep(t[a:b], e[a:b]) and np.ptp(e[a:b]) > _MIN_SWEEP_V:
            kind[a:b] = "sweep"
            sub[a:b] = _sweep_directions(e[a:b])
        else:
            kind[a:b] = "potentiostatic"
            med = float(np.median(i[a:b]))
            sub[a:b] = int(np.sign(med))
    # current-sign flicker inside a galvanostatic run (switching): follow the run's majority
    sign = sub.copy()
    for a, b in _runs(np.where(galv, 1, 0)):
        if not galv[a]:
            continue
        runs = _runs(sign[a:b])
        for r, (ra, rb) in enumerate(runs):
            if rb - ra < _MIN_RUN and ra > 0:
                sign[a + ra : a + rb] = sign[a + ra - 1]
            elif rb - ra < _MIN_RUN and r + 1 < len(runs):
                sign[a + ra : a + rb] = sign[a + runs[r + 1][0]]
    sub[galv] = sign[galv]
    return kind, sub


def split_steps(echem: pd.DataFrame) -> pd.DataFrame:
    """Cut a record into steps in time order and say what each one is.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic negative); the
        instrument columns ``step``, ``control_mode``, ``freq_Hz`` are used when present.

    Returns
    -------
    pandas.DataFrame
        One row per step (:data:`STEP_COLUMNS`): ``kind`` (one of :data:`STEP_KINDS`),
        ``direction`` (``"cathodic"``, ``"anodic"`` or None), the row range
        ``[i_start, i_stop)``, times (s), sample count, median current (A), start/end/
        min/max potential (V), signed charge ``Q_C`` (C; 0 for impedance and rest),
        the instrument's step number, ``ended_by`` (``"next step"``,
        ``"potential limit"``, ``"record end"``) and ``source`` (``"instrument"`` when
        the instrument's mode column decided the kinds, else ``"signal"``).

    Examples
    --------
    >>> t = np.arange(0.0, 60.0, 0.5)
    >>> i = np.where(t < 10, 0.0, -1e-6)
    >>> e = np.where(t < 10, 0.5, 0.1 - 1e-3 * (t - 10))
    >>> steps = split_steps(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}))
    >>> steps[["kind", "direction", "t_start_s"]].values.tolist()
    [['rest', None, 0.0], ['galvanostatic', 'cathodic', 10.0]]
    """
    src = _source(echem)
    for col in ("time_s", "potential_V", "current_A"):
        if col not in echem.columns:
            raise InputError(
                src,
                f"the record lacks the column {col}",
                "read it with platescope.io.read_echem",
            )
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    n = t.size
    if n == 0:
        return pd.DataFrame(columns=STEP_COLUMNS)
    imp = (
        echem["freq_Hz"].to_numpy(float) > 0
        if "freq_Hz" in echem.columns
        else np.zeros(n, dtype=bool)
    )
    tech = echem.attrs.get("technique_code")
    codes = _instrument_codes(echem, t, e, i, tech)
    source = "instrument"
    if codes is None:
        source = "signal"
        kind = np.full(n, "impedance", dtype=object)
        sub = np.zeros(n, dtype=np.int64)
        keep = ~imp
        if keep.any():
            k2, s2 = _signal_codes(t[keep], e[keep], i[keep], tech)
            kind[keep] = k2
            sub[keep] = s2
    else:
        kind, sub = codes
        kind = kind.copy()
        kind[imp] = "impedance"
        sub = np.where(imp, 0, sub)
    instr = echem["step"].to_numpy() if "step" in echem.columns else np.zeros(n, dtype=np.int64)
    # one integer key per sample; a change of any part starts a step
    kind_idx = np.array([STEP_KINDS.index(k) for k in kind], dtype=np.int64)
    key = (kind_idx * 1_000_003 + sub) * 1_000_003 + instr.astype(np.int64)
    rows = []
    for a, b in _runs(key):
        k = str(kind[a])
        seg_t, seg_e, seg_i = t[a:b], e[a:b], i[a:b]
        if k in ("galvanostatic", "potentiostatic", "variable"):
            med = float(np.median(seg_i))
            direction = "cathodic" if med < 0 else "anodic" if med > 0 else None
        elif k == "sweep":
            direction = "anodic" if sub[a] > 0 else "cathodic" if sub[a] < 0 else None
        else:
            direction = None
        if k in ("impedance", "rest") or b - a < 2:
            q = 0.0
        else:
            q = float(np.trapezoid(seg_i, seg_t))
        rows.append(
            {
                "step": len(rows),
                "kind": k,
                "direction": direction,
                "i_start": a,
                "i_stop": b,
                "t_start_s": float(seg_t[0]),
                "t_end_s": float(seg_t[-1]),
                "duration_s": float(seg_t[-1] - seg_t[0]),
                "n_samples": b - a,
                "I_median_A": float(np.median(seg_i)),
                "E_start_V": float(seg_e[0]),
                "E_end_V": float(seg_e[-1]),
                "E_min_V": float(np.min(seg_e)),
                "E_max_V": float(np.max(seg_e)),
                "Q_C": q,
                "instrument_step": int(instr[a]) if "step" in echem.columns else None,
                "ended_by": "record end" if b == n else "next step",
                "source": source,
            }
        )
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS)
    steps["direction"] = pd.Series(
        [d if isinstance(d, str) else None for d in steps["direction"]], dtype=object
    )
    for r in steps.itertuples():
        if r.kind == "galvanostatic" and r.ended_by != "record end":
            if _ends_at_limit(t[r.i_start : r.i_stop], e[r.i_start : r.i_stop], r.direction):
                steps.at[r.Index, "ended_by"] = "potential limit"
    steps.attrs["source"] = src
    return steps


def _ends_at_limit(t: np.ndarray, e: np.ndarray, direction: str | None) -> bool:
    """A constant-current step cut off by a potential limit: it ends at its own extreme, fast."""
    if t.size < 20 or direction is None:
        return False
    sig = _noise(e)
    extreme = e.min() if direction == "cathodic" else e.max()
    if abs(e[-1] - extreme) > 3 * sig + 1e-4:
        return False
    tail = max(3, t.size // 20)
    dt = t[-1] - t[-tail]
    if dt <= 0:
        return False
    end_rate = abs(e[-1] - e[-tail]) / dt
    # typical rate over windows of the same length (noise averages out as it does at the end)
    span_t = t[tail:] - t[:-tail]
    rates = np.abs(e[tail:] - e[:-tail]) / np.maximum(span_t, 1e-12)
    return bool(end_rate > 5 * float(np.median(rates)) and end_rate * dt > 5 * sig)


def step_slice(echem: pd.DataFrame, row) -> pd.DataFrame:
    """The rows of one step (a row of :func:`split_steps`), with the record's attrs.

    >>> df = pd.DataFrame({"time_s": [0.0, 1, 2, 3], "potential_V": 0.0, "current_A": 0.0})
    >>> len(step_slice(df, {"i_start": 1, "i_stop": 3}))
    2
    """
    a, b = int(row["i_start"]), int(row["i_stop"])
    part = echem.iloc[a:b].reset_index(drop=True)
    part.attrs = dict(echem.attrs)
    return part


def record_warnings(echem: pd.DataFrame) -> list[dict]:
    """Doubts about a record as read: truncated, aborted, rows dropped.

    Returns a list of ``{code, message}`` (see ``summary.json`` ``warnings[]``).

    >>> df = pd.DataFrame({"time_s": [0.0], "potential_V": 0.0, "current_A": 0.0})
    >>> df.attrs.update(n_points_declared=10, experiment_aborted=True)
    >>> [w["code"] for w in record_warnings(df)]
    ['truncated-file']
    """
    out = []
    declared = echem.attrs.get("n_points_declared")
    if echem.attrs.get("experiment_aborted") or (declared and declared > len(echem)):
        have = len(echem)
        detail = f" ({have} of {declared} declared rows)" if declared else ""
        out.append(
            {
                "code": "truncated-file",
                "message": f"the record stops early{detail}: the experiment was aborted or the "
                "file is incomplete; the last step and any cycle it belongs to are incomplete",
            }
        )
    if echem.attrs.get("last_row_dropped"):
        out.append(
            {
                "code": "truncated-file",
                "message": "the file ends inside a row (dropped): copy the complete file "
                "if the record should continue",
            }
        )
    return out
