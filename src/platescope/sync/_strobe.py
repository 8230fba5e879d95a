"""Frame times from a camera's exposure strobe recorded by the potentiostat.

A camera's "exposure active" output (TTL) wired into an auxiliary analogue input of the
potentiostat (BioLogic ``Analog IN 1/2``, Gamry ``Ach``) puts a pulse into the
electrochemistry record for every exposure, on the potentiostat's own clock. Each
frame's time on that clock is then the centre of its pulse, with no software in
between:

1. :func:`find_strobe_pulses` finds the two levels of the channel (two-means on the
   samples), the pulse edges (Schmitt trigger at 30 % / 70 % of the level difference,
   then the 50 % crossing interpolated linearly between the samples bracketing it) and
   the pulses (a rising edge and the falling edge after it);
2. :func:`strobe_frame_times` matches pulses to the movie's own (nominal) frame times:
   pulses whose width is far from the typical width are glitches; the offset between
   the two clocks is the one under which most frames find a pulse (a histogram of
   all frame − pulse differences, each candidate refined and scored), so a constant
   offset of any size does not matter; a line (offset and clock rate) is fitted to the
   matched pairs and the matching repeated once. Pulses in gaps of the nominal times
   are dropped frames (the camera exposed them, the file lacks them); other unmatched
   pulses inside the movie are extra pulses; frames without a pulse (before the record
   started, after it ended, or a missed pulse) get the time of the fitted line.

The frame time is the pulse centre (mid-exposure), which is what platescope's frame
times mean everywhere (the centre of the light integration).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope._errors import InputError

#: Auxiliary channels, in the order they are searched for pulses.
AUX_COLUMNS = ("aux1_V", "aux2_V")


def _two_levels(v: np.ndarray) -> tuple[float, float, float]:
    """Low level, high level, noise sd (robust, within the levels) of a two-level signal."""
    lo_p, hi_p = np.percentile(v, [1.0, 99.0])
    thr = 0.5 * (lo_p + hi_p)
    lo, hi = lo_p, hi_p
    for _ in range(20):
        below, above = v < thr, v >= thr
        if not below.any() or not above.any():
            break
        lo, hi = float(np.median(v[below])), float(np.median(v[above]))
        new = 0.5 * (lo + hi)
        if new == thr:
            break
        thr = new
    below, above = v < thr, v >= thr
    mads = [
        1.4826 * float(np.median(np.abs(x - np.median(x)))) for x in (v[below], v[above]) if x.size
    ]
    noise = max(mads) if mads else 0.0
    return float(lo), float(hi), noise


def find_strobe_pulses(
    t_s,
    v_V,
    *,
    polarity: str = "high",
    min_separation_sigma: float = 10.0,
    min_step_V: float = 0.5,
    min_pulses: int = 3,
) -> dict:
    """Find the exposure pulses in an auxiliary voltage channel.

    Parameters
    ----------
    t_s, v_V : array_like
        Sample times (s, potentiostat clock, increasing) and channel values (V).
    polarity : {"high", "low"}
        ``"high"``: a pulse is the high level (TTL "exposure active"); ``"low"``: the
        low level (an inverted output).
    min_separation_sigma : float
        The two levels must be this many noise standard deviations apart.
    min_step_V : float
        The two levels must be at least this far apart, V (TTL strobes swing 3.3–5 V;
        an idle input flickering by a few ADC steps is not a strobe).
    min_pulses : int
        Fewer complete pulses than this is no strobe.

    Returns
    -------
    dict
        ``has_pulses`` (bool), ``reason`` (why not, else None), ``low_V``, ``high_V``,
        ``noise_V``, ``threshold_V``, ``rise_s`` / ``fall_s`` / ``centre_s`` /
        ``width_s`` (arrays, one per complete pulse, s), ``n_pulses``,
        ``sample_interval_s`` (median).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000) * 1e-3
    >>> v = np.where(np.arange(1000) % 100 < 50, 5.0, 0.0)   # 50 ms pulses every 100 ms
    >>> res = find_strobe_pulses(t, v)
    >>> res["n_pulses"], round(float(res["width_s"][1]), 3)
    (9, 0.05)
    """
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(v_V, dtype=float)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    out: dict = {"has_pulses": False, "reason": None, "n_pulses": 0}
    empty = np.zeros(0)
    out.update(rise_s=empty, fall_s=empty, centre_s=empty, width_s=empty)
    if v.size < 4 * min_pulses:
        out["reason"] = f"the channel has only {v.size} finite samples"
        return out
    if polarity not in ("high", "low"):
        raise ValueError(f"polarity must be 'high' or 'low', not {polarity!r}")
    if polarity == "low":
        v = -v
    lo, hi, noise = _two_levels(v)
    sign = 1.0 if polarity == "high" else -1.0
    out.update(
        low_V=sign * lo if polarity == "high" else -hi,
        high_V=sign * hi if polarity == "high" else -lo,
        noise_V=noise,
        sample_interval_s=float(np.median(np.diff(t))),
    )
    step = hi - lo
    if step < min_step_V:
        out["reason"] = (
            f"the channel swings by {step:.3g} V between its two levels, less than "
            f"{min_step_V:g} V (a TTL strobe swings 3.3–5 V)"
        )
        return out
    if step < min_separation_sigma * max(noise, 1e-12):
        out["reason"] = (
            f"the channel has no two distinct levels (separation {step:.3g} V is "
            f"{step / max(noise, 1e-12):.1f}× the noise, need {min_separation_sigma:g}×)"
        )
        return out
    mid = lo + 0.5 * step
    out["threshold_V"] = sign * mid
    # Schmitt trigger: the state changes only on crossing 30 % / 70 % of the step
    mark = np.zeros(v.size, dtype=np.int8)
    mark[v > lo + 0.7 * step] = 1
    mark[v < lo + 0.3 * step] = -1
    idx = np.where(mark != 0, np.arange(v.size), 0)
    np.maximum.accumulate(idx, out=idx)
    state = mark[idx]
    first = np.flatnonzero(mark != 0)
    state[: first[0]] = mark[first[0]]
    change = np.flatnonzero(np.diff(state) != 0) + 1  # first sample of the new state
    rising = change[state[change] == 1]
    falling = change[state[change] == -1]

    def _cross(b: np.ndarray, up: bool) -> np.ndarray:
        # last sample before b on the far side of the 50 % level, then interpolate
        side = np.flatnonzero(v < mid) if up else np.flatnonzero(v >= mid)
        k = side[np.clip(np.searchsorted(side, b) - 1, 0, None)]
        k = np.minimum(k, v.size - 2)
        dv = v[k + 1] - v[k]
        frac = np.where(dv != 0, (mid - v[k]) / np.where(dv != 0, dv, 1.0), 0.5)
        return t[k] + np.clip(frac, 0.0, 1.0) * (t[k + 1] - t[k])

    t_rise = _cross(rising, True) if rising.size else empty
    t_fall = _cross(falling, False) if falling.size else empty
    # pair each rising edge with the first falling edge after it (complete pulses only)
    j = np.searchsorted(t_fall, t_rise, side="right")
    keep = j < t_fall.size
    t_rise, j = t_rise[keep], j[keep]
    t_fall = t_fall[j]
    if t_rise.size > 1:  # a rise whose next rise comes before its fall is not a pulse
        nxt = np.append(t_rise[1:], np.inf)
        good = t_fall < nxt
        t_rise, t_fall = t_rise[good], t_fall[good]
    out.update(
        rise_s=t_rise,
        fall_s=t_fall,
        centre_s=0.5 * (t_rise + t_fall),
        width_s=t_fall - t_rise,
        n_pulses=int(t_rise.size),
    )
    if t_rise.size < min_pulses:
        out["reason"] = f"only {t_rise.size} complete pulses (need {min_pulses})"
        return out
    out["has_pulses"] = True
    return out


def strobe_channel(echem: pd.DataFrame, **kwargs) -> tuple[str | None, dict]:
    """The first auxiliary column of a record that carries pulses.

    Parameters
    ----------
    echem : pandas.DataFrame
        Echem record (``time_s`` and optionally ``aux1_V`` / ``aux2_V``).
    **kwargs
        Passed to :func:`find_strobe_pulses`.

    Returns
    -------
    (str or None, dict)
        Column name (None when no channel carries pulses) and the pulses found, or
        ``{"reason": ...}`` saying why none.

    Examples
    --------
    >>> import pandas as pd
    >>> strobe_channel(pd.DataFrame({"time_s": [0.0, 1.0]}))[0] is None
    True
    """
    reasons = []
    for col in AUX_COLUMNS:
        if col not in echem.columns:
            continue
        res = find_strobe_pulses(
            echem["time_s"].to_numpy(float), echem[col].to_numpy(float), **kwargs
        )
        if res["has_pulses"]:
            res["channel"] = col
            return col, res
        reasons.append(f"{col}: {res['reason']}")
    if not reasons:
        return None, {"reason": "the record has no auxiliary channel (aux1_V, aux2_V)"}
    return None, {"reason": "; ".join(reasons)}


def _match(pred: np.ndarray, pulses: np.ndarray, tol: float) -> np.ndarray:
    """Index of the pulse matched to each predicted time (−1: none), one-to-one, nearest first."""
    if pulses.size == 0:
        return np.full(pred.size, -1)
    j = np.clip(np.searchsorted(pulses, pred), 1, pulses.size - 1) if pulses.size > 1 else None
    if j is None:
        cand = np.zeros(pred.size, dtype=int)
    else:
        left, right = pulses[j - 1], pulses[j]
        cand = np.where(np.abs(pred - left) <= np.abs(pred - right), j - 1, j)
    dist = np.abs(pred - pulses[cand])
    cand = np.where(dist <= tol, cand, -1)
    # one-to-one: where two frames claim a pulse, the nearer keeps it
    order = np.argsort(dist, kind="stable")
    taken = cand[order]
    valid = taken >= 0
    _, first = np.unique(taken[valid], return_index=True)
    keep_sorted = np.zeros(order.size, dtype=bool)
    keep_sorted[np.flatnonzero(valid)[first]] = True
    keep = np.zeros(pred.size, dtype=bool)
    keep[order] = keep_sorted
    return np.where(keep, cand, -1)


def strobe_frame_times(
    frame_times_s,
    pulses: dict,
    *,
    prior_offset_s: float | None = None,
    prior_offset_err_s: float | None = None,
    max_width_deviation: float = 0.3,
    min_match_fraction: float = 0.5,
    max_rival_fraction: float = 0.9,
) -> dict:
    """Each frame's time on the potentiostat clock from its exposure pulse.

    Parameters
    ----------
    frame_times_s : array_like
        The movie's own frame times (s, movie clock): the nominal times that anchor
        the matching. Jitter, a constant offset of any size and a clock-rate
        difference are allowed; they must increase.
    pulses : dict
        :func:`find_strobe_pulses` output (``centre_s``, ``width_s``).
    prior_offset_s, prior_offset_err_s : float, optional
        Echem ``t = 0`` on the movie clock (s) from another method (explicit, start
        times) and its error; only offsets within 3 errors (at least 0.3 frame) are
        considered. Needed when the frames are so regular that a shift by one frame
        fits as well (then the match is refused without it).
    max_width_deviation : float
        Pulses whose width differs from the median width by more than this fraction
        are glitches (counted as extra pulses).
    min_match_fraction : float
        At least this fraction of the frames inside the record must find a pulse.
    max_rival_fraction : float
        A second offset (e.g. one frame off) matching at least this fraction as many
        frames with a residual no more than 1.5× larger makes the match ambiguous.

    Returns
    -------
    dict
        ``t_s`` (per-frame time, s, echem clock), ``from_pulse`` (bool per frame),
        ``offset_s`` (echem ``t = 0`` on the movie clock), ``offset_err_s``,
        ``clock_rate_ppm`` (movie clock runs fast by this, ppm), ``n_frames``,
        ``n_matched``, ``n_pulses``, ``n_frames_outside_record``, ``dropped_frames``
        (count) and ``dropped_frame_times_s`` (echem clock), ``n_extra_pulses``,
        ``n_glitch_pulses``, ``residual_rms_ms`` / ``residual_max_ms`` (movie
        timestamps against the pulses after the line fit, ms: the jitter of the
        movie's own clock), ``edge_resolution_ms`` (sample interval/√12, the
        interpolation bound for a sharp edge), ``quality`` ("good", "fair").

    Raises
    ------
    InputError
        Too few frames matched, or an ambiguous match.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 3, 2e-4)
    >>> truth = 0.5 + 0.1 * np.arange(25) + 0.004 * np.sin(np.arange(25) ** 2)
    >>> v = np.zeros_like(t)
    >>> for c in truth: v[np.abs(t - c) < 0.02] = 5.0
    >>> res = strobe_frame_times(truth + 7.0 + 0.01, find_strobe_pulses(t, v))
    >>> bool(np.max(np.abs(res["t_s"] - truth)) < 2e-4), res["n_matched"]
    (True, 25)
    """
    f = np.asarray(frame_times_s, dtype=float)
    src = None
    fix = "check the aux channel wiring, or remove the aux column to use another sync method"
    centres = np.asarray(pulses.get("centre_s", []), dtype=float)
    widths = np.asarray(pulses.get("width_s", []), dtype=float)
    if f.size < 3 or np.any(np.diff(f) <= 0) or not np.all(np.isfinite(f)):
        raise InputError(
            src,
            "the movie's frame times are not increasing, so they cannot anchor the strobe",
            "repair the frame times first (platescope.sync.diagnose_frame_times)",
        )
    w_med = float(np.median(widths)) if widths.size else 0.0
    normal = np.abs(widths - w_med) <= max_width_deviation * w_med
    n_glitch = int((~normal).sum())
    c = centres[normal]
    dt = float(np.median(np.diff(f)))
    if c.size < 3:
        raise InputError(src, f"only {c.size} regular strobe pulses", fix)
    # candidate offsets: histogram of all frame − pulse differences
    d = (f[:, None] - c[None, :]).ravel()
    if prior_offset_s is not None:
        win = max(3.0 * (prior_offset_err_s or 0.0), 0.3 * dt)
        d = d[np.abs(d - prior_offset_s) <= win]
        if d.size == 0:
            raise InputError(
                src,
                f"no strobe pulse lies within ±{win:.3g} s of where the stated offset "
                f"({prior_offset_s:.3g} s) puts the frames",
                fix,
            )
    bw = 0.1 * dt
    lo_d, hi_d = d.min(), d.max()
    nb = max(int(np.ceil((hi_d - lo_d) / bw)), 1)
    hist, edges = np.histogram(d, bins=nb, range=(lo_d, lo_d + nb * bw))
    smooth = hist + np.r_[hist[1:], 0] + np.r_[0, hist[:-1]]
    top = np.argsort(smooth)[::-1][:8]
    tol0 = 0.3 * dt

    def _score(o: float):
        """(count, robust residual sd after a line fit, refined offset) of an offset."""
        m = _match(f - o, c, tol0)
        ok = m >= 0
        if ok.sum() < 3:
            return None
        o = o + float(np.median((f[ok] - o) - c[m[ok]]))  # refine once
        m = _match(f - o, c, tol0)
        ok = m >= 0
        if ok.sum() < 3:
            return None
        coef = np.polyfit(f[ok], c[m[ok]], 1)
        res = c[m[ok]] - np.polyval(coef, f[ok])
        mad = 1.4826 * float(np.median(np.abs(res - np.median(res))))
        return int(ok.sum()), mad, o

    seeds = [0.5 * (edges[b] + edges[b + 1]) for b in top]
    seeds += [seeds[0] + k * dt for k in (-3, -2, -1, 1, 2, 3)]  # neighbours one frame off
    cands = []
    for o0 in seeds:
        sc = _score(o0)
        if sc is not None and all(abs(sc[2] - x[2]) > 0.25 * dt for x in cands):
            cands.append(sc)
    if not cands:
        raise InputError(src, "no offset lets the frames find their strobe pulses", fix)
    # among offsets matching nearly as many frames as the most, the one whose frames sit
    # most tightly on their pulses (a wrong pulse-to-frame shift adds the differences of
    # neighbouring intervals to the residual)
    top_count = max(x[0] for x in cands)
    close = sorted([x for x in cands if x[0] >= 0.9 * top_count], key=lambda x: x[1])
    best = close[0]
    rivals = [x for x in close[1:] if abs(x[2] - best[2]) > 0.5 * dt]
    anchor = "stated offset" if prior_offset_s is not None else None
    if rivals and anchor is None:
        r = rivals[0]
        if r[1] > 1.5 * max(best[1], 1e-9) + 1e-4:
            anchor = "pattern of the frame intervals"
        else:
            # as regular as one frame off: the camera pulses only for its exposures, so a
            # shift leaves frames without pulse at one end of the train
            same = [x for x in [best, *rivals] if x[1] <= 1.5 * max(best[1], 1e-9) + 1e-4]
            same.sort(key=lambda x: -x[0])
            if same[0][0] > same[1][0]:
                best, r = same[0], same[1]
                rivals = [r]
                anchor = "ends of the pulse train"
            else:
                raise InputError(
                    src,
                    f"the strobe pulses fit the frames equally well at two offsets "
                    f"({same[0][2]:.4g} s and {same[1][2]:.4g} s, {same[0][0]} frames each): "
                    "the frames are too regular to tell which pulse is which frame",
                    "give [echem] time_offset_s (or absolute start times with a time zone) to "
                    "within a third of a frame; the strobe then refines it",
                )
    margin = int(best[0] - rivals[0][0]) if rivals else None
    o = best[2]
    # line fit (offset + clock rate) on the matched pairs, then match again tighter
    m = _match(f - o, c, tol0)
    for _ in range(2):
        ok = m >= 0
        A = np.vstack([np.ones(ok.sum()), f[ok]]).T
        coef, *_ = np.linalg.lstsq(A, c[m[ok]], rcond=None)
        pred = coef[0] + coef[1] * f
        res = c[m[ok]] - pred[ok]
        mad = 1.4826 * float(np.median(np.abs(res - np.median(res))))
        tol = min(tol0, max(6.0 * mad, 0.05 * dt))
        m = _match(pred, c, tol)
    ok = m >= 0
    A = np.vstack([np.ones(ok.sum()), f[ok]]).T
    coef, *_ = np.linalg.lstsq(A, c[m[ok]], rcond=None)
    pred = coef[0] + coef[1] * f
    res = c[m[ok]] - pred[ok]
    t_echem = pred.copy()
    t_echem[ok] = c[m[ok]]
    # frames inside the span the pulses cover (the record, as far as the strobe sees it)
    inside = (pred >= c[0] - 0.5 * dt) & (pred <= c[-1] + 0.5 * dt)
    n_inside = int(inside.sum())
    frac = ok.sum() / max(n_inside, 1)
    if frac < min_match_fraction:
        raise InputError(
            src,
            f"only {int(ok.sum())} of the {n_inside} frames inside the record found a strobe "
            f"pulse ({100 * frac:.0f} %)",
            fix,
        )
    # unmatched regular pulses within the movie: dropped frames (in a gap) or extras
    used = np.zeros(c.size, dtype=bool)
    used[m[ok]] = True
    span = (c >= pred[0] - 0.5 * dt) & (c <= pred[-1] + 0.5 * dt)
    spare = c[~used & span]
    k = np.searchsorted(pred, spare)
    k = np.clip(k, 1, pred.size - 1)
    gap = pred[k] - pred[k - 1]
    in_gap = (gap > 1.5 * dt) & (spare - pred[k - 1] > 0.5 * dt) & (pred[k] - spare > 0.5 * dt)
    dropped = spare[in_gap]
    n_extra = int((~in_gap).sum()) + int(
        ((~normal) & (centres >= pred[0]) & (centres <= pred[-1])).sum()
    )
    si = float(pulses.get("sample_interval_s", np.nan))
    edge_ms = 1e3 * si / np.sqrt(12.0) if np.isfinite(si) else None
    rate = float(coef[1])
    quality = "good" if frac >= 0.9 and ok.sum() >= 10 else "fair"
    if anchor == "ends of the pulse train" and margin is not None and margin < 2:
        quality = "fair"  # one frame decides which pulse is which frame
    offset = -float(coef[0]) / rate  # movie time at which echem t = 0
    return {
        "t_s": t_echem,
        "from_pulse": ok,
        "offset_s": offset,
        "offset_err_s": float(np.std(res) / np.sqrt(max(ok.sum(), 1))) if ok.sum() > 2 else dt,
        "clock_rate_ppm": 1e6 * (1.0 / rate - 1.0),
        "n_frames": int(f.size),
        "n_matched": int(ok.sum()),
        "n_pulses": int(centres.size),
        "n_frames_outside_record": int((~inside).sum()),
        "dropped_frames": int(dropped.size),
        "dropped_frame_times_s": dropped.tolist(),
        "n_extra_pulses": n_extra,
        "n_glitch_pulses": n_glitch,
        "pulse_width_ms": 1e3 * w_med,
        "residual_rms_ms": 1e3 * float(np.sqrt(np.mean(res**2))),
        "residual_max_ms": 1e3 * float(np.max(np.abs(res))),
        "edge_resolution_ms": edge_ms,
        "match_fraction": float(frac),
        "n_frames_without_pulse": int((inside & ~ok).sum()),
        "anchor": anchor or "single candidate offset",
        "match_margin_frames": margin,
        "quality": quality,
    }
