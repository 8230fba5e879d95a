"""Health of a movie's per-frame times: zero, repeated, non-monotonic, jittery, gaps.

Micro-Manager's ``ElapsedTime-ms`` is software time: it jitters by ms–10 ms, some
acquisition engines write 0 for every frame, and a busy PC can repeat a value or
write one out of order. :func:`diagnose_frame_times` finds each of these, repairs the
times where the data allow it (from the exposure strobe, whose pulses are on the
potentiostat clock; or from a constant frame interval the user states) and says what
it did as warnings (``{"code", "message"}``) that the pipeline hoists into
``summary["warnings"]``.
"""

from __future__ import annotations

import numpy as np

#: Warning codes, one per kind of problem.
CODES = {
    "zero": "frame-times-zero",
    "repeated": "frame-times-repeated",
    "non_monotonic": "frame-times-non-monotonic",
    "jitter": "frame-times-jittery",
    "gap": "frame-times-gap",
}


def _frames(idx: np.ndarray, limit: int = 10) -> list[int]:
    return [int(i) for i in idx[:limit]]


def diagnose_frame_times(
    t_s,
    *,
    frame_interval_s: float | None = None,
    strobe_t_s=None,
    max_jitter_fraction: float = 0.02,
    gap_factor: float = 1.5,
    warn_jitter: bool = True,
) -> dict:
    """Find and, where possible, repair problems in per-frame times.

    Parameters
    ----------
    t_s : array_like
        Per-frame times as the file gives them, s (NaN for absent).
    frame_interval_s : float, optional
        A constant frame interval the user states (``[movie] frame_interval_s``), s.
        Repairs every problem except a missing start: times become
        ``t_first + i · frame_interval_s`` with ``t_first`` the first valid time (0
        when none).
    strobe_t_s : array_like, optional
        Per-frame times from the exposure strobe (s, potentiostat clock), as
        :func:`platescope.sync.strobe_frame_times` returns them; preferred for repair.
    max_jitter_fraction : float
        Frame intervals scattering (robust sd) by more than this fraction of the median
        interval are jittery.
    gap_factor : float
        An interval longer than this many median intervals is a gap (dropped frames).
    warn_jitter : bool
        Warn about jittery intervals. Irregular intervals may be real (a camera whose
        timing is irregular but correctly stamped); only a strobe can tell, so
        :func:`platescope.sync.synchronize` warns from the strobe residuals instead.

    Returns
    -------
    dict
        ``n_frames``, ``median_interval_s``, ``n_zero``, ``n_repeated``,
        ``n_non_monotonic``, ``n_gaps``, ``jitter_ms`` (robust sd of the intervals),
        ``problems`` (list of ``{"code", "n", "frames"}``; frames 0-based, at most 10),
        ``health`` ("ok", "repaired", "unusable"), ``repair`` (method or None),
        ``t_s`` (the times to use: repaired, or the input when healthy; None when
        unusable), ``reason`` (when unusable) and ``warnings``.

    Examples
    --------
    >>> d = diagnose_frame_times([0.0, 0.0, 0.0, 0.0], frame_interval_s=0.5)
    >>> d["health"], d["t_s"].tolist(), d["warnings"][0]["code"]
    ('repaired', [0.0, 0.5, 1.0, 1.5], 'frame-times-zero')
    """
    t = np.asarray(t_s, dtype=float).ravel()
    n = t.size
    out: dict = {"n_frames": int(n), "problems": [], "warnings": [], "repair": None}
    missing = ~np.isfinite(t) | (t == 0)
    if n > 1 and t[0] == 0 and np.isfinite(t[1]) and t[1] > 0:
        missing[0] = False  # a clock that starts at 0
    valid = np.flatnonzero(~missing)
    tv = t[valid]
    steps = np.diff(tv) / np.maximum(np.diff(valid), 1)
    pos = steps[steps > 0]
    med = float(np.median(pos)) if pos.size else None
    out["median_interval_s"] = med
    n_zero = int(missing.sum())
    rep = np.flatnonzero(steps == 0)
    back = np.flatnonzero(steps < 0)
    jitter = None
    gaps = np.zeros(0, dtype=int)
    if pos.size >= 3 and med:
        # intervals that are not repeats / reversals / gaps
        regular = pos[(pos < gap_factor * med) & (pos > med / gap_factor)]
        if regular.size >= 3:
            jitter = 1.4826 * float(np.median(np.abs(regular - np.median(regular))))
        gaps = np.flatnonzero(steps > gap_factor * med)
        if back.size:  # a reversal's partner step is long but is not a gap
            gaps = np.setdiff1d(gaps, np.concatenate([back - 1, back + 1]))
        if rep.size:
            gaps = np.setdiff1d(gaps, np.concatenate([rep - 1, rep + 1]))
    out.update(
        n_zero=n_zero,
        n_repeated=int(rep.size),
        n_non_monotonic=int(back.size),
        n_gaps=int(gaps.size),
        jitter_ms=None if jitter is None else 1e3 * jitter,
    )

    def _problem(key, idx, message):
        out["problems"].append({"code": CODES[key], "n": int(len(idx)), "frames": _frames(idx)})
        out["warnings"].append({"code": CODES[key], "message": message})

    if n_zero:
        _problem(
            "zero",
            np.flatnonzero(missing),
            f"{n_zero} of {n} frames have a zero or absent time stamp (an acquisition engine "
            "that does not write ElapsedTime-ms).",
        )
    if rep.size:
        _problem(
            "repeated",
            valid[rep + 1],
            f"{rep.size} frames repeat the previous frame's time stamp (software time "
            "written late).",
        )
    if back.size:
        _problem(
            "non_monotonic",
            valid[back + 1],
            f"{back.size} frames have a time stamp earlier than the frame before (software "
            "time written out of order).",
        )
    jittery = bool(jitter is not None and med and jitter > max_jitter_fraction * med)
    out["jittery"] = jittery
    if jittery and warn_jitter:
        _problem(
            "jitter",
            np.zeros(0, dtype=int),
            f"the frame intervals scatter by {1e3 * jitter:.2g} ms (robust sd; median "
            f"interval {1e3 * med:.4g} ms): software time stamps, not the exposure times.",
        )
    if gaps.size:
        _problem(
            "gap",
            valid[gaps + 1],
            f"{gaps.size} intervals are longer than {gap_factor:g}× the median: frames were "
            "probably dropped there.",
        )
    broken = n_zero > 0 or rep.size > 0 or back.size > 0
    if strobe_t_s is not None:
        s = np.asarray(strobe_t_s, dtype=float)
        if s.size == n and np.all(np.isfinite(s)) and np.all(np.diff(s) > 0):
            out.update(health="repaired" if (broken or jittery) else "ok", repair="strobe")
            out["t_s"] = s
            if out["warnings"]:
                for w in out["warnings"]:
                    w["message"] += " Replaced by the exposure-strobe times."
            return out
    if not broken:
        out.update(health="ok", t_s=t)
        for w in out["warnings"]:
            if w["code"] == CODES["jitter"]:
                w["message"] += (
                    " Kept: without a strobe they cannot be corrected; timing results carry "
                    "this scatter."
                )
        return out
    if frame_interval_s is not None and frame_interval_s > 0:
        start = float(tv[0] - valid[0] * frame_interval_s) if valid.size else 0.0
        out.update(
            health="repaired",
            repair="stated frame interval",
            t_s=start + np.arange(n) * float(frame_interval_s),
        )
        for w in out["warnings"]:
            w["message"] += f" Replaced by the stated frame interval {frame_interval_s:g} s."
        return out
    if not rep.size and not back.size and valid.size >= 2:
        # only absent times: interpolate between valid neighbours, extrapolate at the ends
        idx = np.arange(n)
        filled = np.interp(idx, valid, tv)
        filled[: valid[0]] = tv[0] - (valid[0] - idx[: valid[0]]) * med
        filled[valid[-1] + 1 :] = tv[-1] + (idx[valid[-1] + 1 :] - valid[-1]) * med
        out.update(health="repaired", repair="interpolated between valid times", t_s=filled)
        out["warnings"][0]["message"] += " Interpolated between the valid time stamps."
        return out
    out.update(
        health="unusable",
        t_s=None,
        reason="the frame times are "
        + ("all zero or absent" if valid.size < 2 else "not increasing")
        + " and there is no strobe or stated frame interval to repair them",
    )
    return out
