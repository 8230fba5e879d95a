"""One time axis for the movie and the potentiostat.

Every result in platescope is reported on the electrochemistry clock: ``t = 0`` is the
start of the potentiostat record (for SECCM, the moment of contact). The movie clock
is mapped onto it by an offset ``offset_s`` = time of echem ``t = 0`` on the movie
clock, so ``t_echem = t_movie − offset_s``.

The offset comes, in order of preference, from

0. the camera's exposure strobe in an auxiliary channel of the record (``aux1_V`` /
   ``aux2_V``): every frame gets its own time on the potentiostat clock
   (:mod:`platescope.sync._strobe`); an explicit offset then only anchors the match,
1. an explicit value (``[echem] time_offset_s`` in the experiment file),
2. the two absolute start times (``t0`` attrs of movie and record, both UTC),
3. the landing/contact frame: the step in mean intensity when the meniscus wets the
   surface, refined to a fraction of a frame from the partial step of the frame that
   was exposing when contact happened (refused when the step does not rise from a
   plateau, as when the movie starts at or after contact),
4. cross-correlation of the optical rate d⟨I⟩/dt with the current (for records where
   the current varies, e.g. CVs or pulses; refused for a constant current, a weak or
   an ambiguous match).

When none applies, :func:`synchronize` raises an :class:`~platescope.InputError` that
lists why each method failed and asks for ``[echem] time_offset_s``.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage
from scipy.integrate import cumulative_trapezoid

from platescope._errors import InputError


def _parse_utc(stamp: str) -> datetime:
    ts = pd.Timestamp(stamp)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC").to_pydatetime()


def offset_from_t0(movie_t0: str, echem_t0: str) -> dict:
    """Offset from two absolute start times.

    Parameters
    ----------
    movie_t0, echem_t0 : str
        ISO 8601 start times (UTC if no zone is given).

    Returns
    -------
    dict
        ``offset_s`` (echem start on the movie clock, s), ``offset_err_s`` (0.5 s: clocks
        of two computers rarely agree better unless synchronised), ``method``.

    Examples
    --------
    >>> offset_from_t0("2026-01-01T10:00:00Z", "2026-01-01T10:00:02.5Z")["offset_s"]
    2.5
    """
    dt = (_parse_utc(echem_t0) - _parse_utc(movie_t0)).total_seconds()
    return {"offset_s": float(dt), "offset_err_s": 0.5, "method": "absolute start times"}


def mean_intensity(movie: xr.DataArray, *, mask=None) -> np.ndarray:
    """Mean intensity per frame (computes a dask-backed movie frame by frame).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie with dims ("t", "y", "x").
    mask : array_like of bool, optional
        (y, x) pixels to average; default all.

    Returns
    -------
    numpy.ndarray
        One value per frame, in the movie's units.
    """
    data = movie.data
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        w = m / max(m.sum(), 1)
        out = (data * w).sum(axis=(1, 2))
    else:
        out = data.mean(axis=(1, 2))
    if hasattr(out, "compute"):
        out = out.compute()
    return np.asarray(out, dtype=float)


def offset_from_landing(
    movie: xr.DataArray,
    *,
    min_step_sigma: float = 8.0,
    min_plateau_ratio: float = 10.0,
    movie_mean=None,
) -> dict:
    """Contact time on the movie clock from the landing step in mean intensity.

    The frame-to-frame change of the mean intensity is largest when the meniscus wets
    the surface. Pixels that change most across that step form a landing mask; their
    mean intensity before (plateau ``I_b``) and after (``I_a``) the step is measured
    and the partial value ``I_k`` of the frame exposing at contact places the contact
    inside that frame's exposure window. Frames are taken to integrate light from
    halfway to the previous timestamp to halfway to the next one; if a camera exposes
    much shorter than its frame interval the sub-frame estimate degrades to ± half a
    frame, which the reported error covers.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x), ``t`` in s on the movie clock.
    min_step_sigma : float
        The step must exceed this many standard deviations of the frame-to-frame noise.
    min_plateau_ratio : float
        The step must exceed this many times the change per frame before it (median of
        up to 6 frame-to-frame changes, less 2 of its standard errors): before contact
        nothing deposits, so a landing step rises from a plateau. On simulated movies
        landing steps score ≥ 100 and the nucleation bursts of movies starting at
        contact ≤ 1.5 whenever they pass ``min_step_sigma``. The step must also have at
        least two frames before it.
    movie_mean : array_like, optional
        The movie's mean intensity per frame if already computed (saves one pass over
        a large movie).

    Returns
    -------
    dict
        ``offset_s``, ``offset_err_s``, ``method``, ``landing_frame`` (first frame after
        contact is complete), ``contact_frame`` (the frame exposing at contact).
    """
    src = movie.attrs.get("source")
    t = np.asarray(movie["t"].values, dtype=float)
    if t.size < 4:
        raise InputError(
            src,
            "the movie has fewer than 4 frames, too few to find the landing step",
            "give [echem] time_offset_s in the experiment file",
        )
    m = mean_intensity(movie) if movie_mean is None else np.asarray(movie_mean, dtype=float)
    d = np.diff(m)
    noise = 1.4826 * np.median(np.abs(d - np.median(d))) + 1e-12
    k = int(np.argmax(np.abs(d)))
    fix = "give [echem] time_offset_s in the experiment file, or absolute start times in both files"
    if abs(d[k]) < min_step_sigma * noise:
        raise InputError(
            src,
            "no landing step was found in the movie's mean intensity (largest frame-to-frame "
            f"change is {abs(d[k]) / noise:.1f}× the noise)",
            fix,
        )
    # A landing is the wetting of a dry surface: nothing deposits before it, so the
    # frames before the step are a plateau. A jump of a signal that was already changing
    # (e.g. the nucleation burst of a movie that starts at or after contact) is not one.
    if k < 2:
        raise InputError(
            src,
            f"the largest change of the mean intensity (frame {k} → {k + 1}) is at the start of "
            "the movie, with no plateau before it to show it is the landing step (the movie "
            "may start at or after contact)",
            fix,
        )
    pre = d[max(k - 7, 0) : k - 1]  # changes wholly before the step (a partial one excluded)
    trend = float(np.median(pre))
    trend_sig = max(abs(trend) - 2.0 * 1.2533 * noise / np.sqrt(pre.size), 0.0)
    if abs(d[k] - trend) < min_plateau_ratio * trend_sig:
        raise InputError(
            src,
            f"the largest change of the mean intensity (frame {k} → {k + 1}, "
            f"{abs(d[k]) / noise:.1f}× the noise) is only {abs(d[k] - trend) / abs(trend):.1f}× "
            "the change per frame just before it: the signal was already changing, so it is "
            "not a landing step (the movie may start at or after contact)",
            fix,
        )
    # The step may straddle two frame differences (partial frame): take the window
    # [k-2, k+3] and find the plateau levels outside it on the landing mask.
    lo = max(k - 2, 0)
    hi = min(k + 3, t.size - 1)
    before_idx = np.arange(max(lo - 5, 0), lo)
    after_idx = np.arange(hi + 1, min(hi + 6, t.size))
    if before_idx.size == 0 or after_idx.size == 0:
        before_idx = np.array([max(k - 1, 0)])
        after_idx = np.array([min(k + 2, t.size - 1)])
    # the ≤ 16 frames around the step, read once (a lazy movie would otherwise decode
    # the chunks holding them once per use below)
    w0 = int(min(before_idx[0], k))
    w1 = int(max(after_idx[-1], k + 1)) + 1
    win = movie.isel(t=slice(w0, w1))
    if hasattr(win.data, "dask"):
        win = win.copy(data=np.asarray(win.data.compute()))
    data = win.data
    img_b = np.asarray(data[before_idx - w0].mean(axis=0))
    img_a = np.asarray(data[after_idx - w0].mean(axis=0))
    step_img = ndimage.gaussian_filter(img_a - img_b, 2.0)  # px; tames shot noise
    sign = np.sign(d[k])
    thresh = 0.5 * np.percentile(sign * step_img, 99)
    mask = sign * step_img > thresh
    m_b = mean_intensity(win.isel(t=before_idx - w0), mask=mask)
    m_a = mean_intensity(win.isel(t=after_idx - w0), mask=mask)
    mm = mean_intensity(win.isel(t=slice(k - w0, k - w0 + 2)), mask=mask)

    def _level(idx, values, at):
        # plateau levels drift (illumination, SEI growth): extrapolate a line to `at`
        if idx.size >= 3:
            slope, icpt = np.polyfit(t[idx], values, 1)
            return float(slope * at + icpt)
        return float(np.mean(values))

    noise_b = 0.0
    if before_idx.size >= 4:
        resid = m_b - np.polyval(np.polyfit(t[before_idx], m_b, 1), t[before_idx])
        noise_b = float(np.std(resid, ddof=2))
    edges_t = np.concatenate(
        [[t[0] - (t[1] - t[0]) / 2], (t[:-1] + t[1:]) / 2, [t[-1] + (t[-1] - t[-2]) / 2]]
    )
    # The contact lies in the exposure of frame k (small partial step, then the big jump
    # to k+1) or of frame k+1 (partial step of more than half). Decide by frame k's
    # fraction of the step, judged against the noise of the plateau before.
    ib_k, ia_k = _level(before_idx, m_b, t[k]), _level(after_idx, m_a, t[k])
    frac_k = (mm[0] - ib_k) / (ia_k - ib_k)
    frac_noise = noise_b / abs(ia_k - ib_k) if ia_k != ib_k else 1.0
    if frac_k > max(3.0 * frac_noise, 0.01):
        kf, f = k, float(np.clip(frac_k, 0.0, 1.0))
    else:
        ib1, ia1 = _level(before_idx, m_b, t[k + 1]), _level(after_idx, m_a, t[k + 1])
        kf, f = k + 1, float(np.clip((mm[1] - ib1) / (ia1 - ib1), 0.0, 1.0))
    start, end = edges_t[kf], edges_t[kf + 1]
    contact = end - f * (end - start)
    ia, ib = ia_k, ib_k
    err = float(np.hypot(frac_noise * (end - start), 0.1 * (end - start)))
    return {
        "offset_s": float(contact),
        "offset_err_s": err,
        "method": "landing step in mean intensity (sub-frame)",
        "contact_frame": kf,
        "landing_frame": int(min(kf + 1, t.size - 1)),
        "step_counts": float(ia - ib),
    }


def offset_from_xcorr(
    movie_t_s,
    movie_mean,
    echem: pd.DataFrame,
    *,
    max_lag_s: float | None = None,
    dt_s: float | None = None,
    min_current_variation: float = 0.02,
    min_overlap_fraction: float = 0.5,
    min_correlation: float = 0.5,
    max_rival_fraction: float = 0.9,
) -> dict:
    """Offset from the cross-correlation of the optical rate with the current.

    The deposition rate seen optically, d⟨I⟩/dt, follows the current. Both are put on a
    uniform grid, normalised, and the lag maximising their correlation (refined by a
    parabola) gives the offset. Useful when the current varies (CV, pulses); a constant
    current carries no timing information and is rejected.

    Parameters
    ----------
    movie_t_s, movie_mean : array_like
        Frame times (s, movie clock) and mean intensity per frame.
    echem : pandas.DataFrame
        ``time_s`` and ``current_A``.
    max_lag_s : float, optional
        Largest |offset| searched, s (default: the movie's duration).
    dt_s : float, optional
        Grid spacing, s (default: the median frame interval).
    min_current_variation : float
        The current averaged over each grid step must vary (sd) by at least this
        fraction of its largest magnitude; a galvanostatic record with white noise does
        not, and its noise would correlate with the movie's by chance.
    min_overlap_fraction : float
        Lags are scored only where the two series overlap by at least this fraction of
        the shorter one (short overlaps correlate strongly by chance).
    min_correlation : float
        The best correlation must reach this, otherwise no offset is returned. The score
        of a lag is the sum of products of the two z-scored series over their overlap
        divided by the shorter length (the biased estimator; about 1 for a perfect
        match), so a lag overlapping less scores less.
    max_rival_fraction : float
        Another local maximum more than 3 grid steps away scoring at least this fraction
        of the best makes the offset ambiguous (a periodic current with a movie that does
        not cover the record) and is refused.

    Returns
    -------
    dict
        ``offset_s``, ``offset_err_s`` (one grid step), ``method``, ``correlation``.
    """
    tm = np.asarray(movie_t_s, float)
    im = np.asarray(movie_mean, float)
    te = echem["time_s"].to_numpy(float)
    cur = echem["current_A"].to_numpy(float)
    src = echem.attrs.get("source")
    dt = dt_s or float(np.median(np.diff(tm)))
    # the current averaged over each grid step, as a frame integrates the deposition
    q = cumulative_trapezoid(cur, te, initial=0.0)
    edges_e = te[0] + dt * np.arange(int(np.floor((te[-1] - te[0]) / dt + 1e-9)) + 1)
    ce = -np.diff(np.interp(edges_e, te, q)) / dt  # plating (negative current) ↔ rising signal
    ge0 = te[0] + dt / 2  # echem time of ce[0] (centre of the first full step)
    scale = float(np.nanmax(np.abs(ce))) if ce.size else 0.0
    variation = float(np.nanstd(ce)) / scale if scale > 0 else 0.0
    if ce.size < 10 or variation < min_current_variation:
        raise InputError(
            src,
            "the current is constant (averaged over a frame it varies by "
            f"{100 * variation:.2g} % of its magnitude), so cross-correlation cannot align the "
            "clocks",
            "use the landing step, absolute start times or [echem] time_offset_s",
        )
    max_lag = max_lag_s or float(tm[-1] - tm[0])
    grid_m = np.arange(tm[0], tm[-1], dt)
    rate = np.gradient(np.interp(grid_m, tm, im), dt)

    def _z(x):
        return (x - x.mean()) / (x.std() + 1e-30)

    rate, ce = _z(rate), _z(ce)
    lags = np.arange(int(-max_lag / dt), int(max_lag / dt) + 1)
    # offset o: echem time τ sits at movie time τ + o; rate[(τ+o-tm0)/dt] ~ ce[(τ-te0)/dt]
    scores = np.full(lags.size, -np.inf)
    base = (ge0 - tm[0]) / dt
    n_norm = min(rate.size, ce.size)
    min_len = max(10, int(np.ceil(min_overlap_fraction * n_norm)))
    for n, lag in enumerate(lags):
        shift = int(round(base)) + lag
        a0 = max(shift, 0)
        b0 = max(-shift, 0)
        length = min(rate.size - a0, ce.size - b0)
        if length < min_len:
            continue
        # biased estimator (sum / a fixed N): a lag that overlaps less scores less, so a
        # periodic current does not fit as well one period off
        scores[n] = float(np.sum(rate[a0 : a0 + length] * ce[b0 : b0 + length])) / n_norm
    best = int(np.argmax(scores))
    frac = 0.0
    if 0 < best < lags.size - 1 and np.all(np.isfinite(scores[best - 1 : best + 2])):
        y0, y1, y2 = scores[best - 1 : best + 2]
        denom = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / denom if denom < 0 else 0.0
    offset = (round(base) + lags[best] + frac) * dt + tm[0] - ge0
    if not np.isfinite(scores[best]) or scores[best] < min_correlation:
        raise InputError(
            src,
            "the optical rate d⟨I⟩/dt does not follow the current closely enough to align the "
            f"clocks (best correlation {scores[best]:.2f} < {min_correlation:g} over lags that "
            f"keep ≥ {100 * min_overlap_fraction:.0f} % of the shorter record overlapping)",
            "use the landing step, absolute start times or [echem] time_offset_s",
        )
    peaks = (scores[1:-1] >= scores[:-2]) & (scores[1:-1] >= scores[2:])
    rivals = np.flatnonzero(peaks) + 1
    rivals = rivals[np.abs(rivals - best) > 3]
    if rivals.size and np.max(scores[rivals]) >= max_rival_fraction * scores[best]:
        other = int(rivals[np.argmax(scores[rivals])])
        raise InputError(
            src,
            "the optical rate matches the current about as well at two offsets "
            f"({offset:.2f} s and {offset + (lags[other] - lags[best]) * dt:.2f} s; correlation "
            f"{scores[best]:.2f} vs {scores[other]:.2f}), so cross-correlation cannot tell which",
            "use the landing step, absolute start times or [echem] time_offset_s",
        )
    return {
        "offset_s": float(offset),
        "offset_err_s": float(dt),
        "method": "cross-correlation of optical rate with current",
        "correlation": float(scores[best]),
    }


def synchronize(
    movie: xr.DataArray,
    echem: pd.DataFrame,
    *,
    time_offset_s: float | None = None,
    method: str = "auto",
    movie_mean=None,
) -> dict:
    """Find the offset between the movie clock and the electrochemistry clock.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x), ``t`` in s on its own clock, ``attrs["t0"]`` optional.
    echem : pandas.DataFrame
        Record with ``time_s``, ``current_A``, ``attrs["t0"]`` optional.
    time_offset_s : float, optional
        Explicit offset (s): echem ``t = 0`` on the movie clock. Wins over everything.
    movie_mean : array_like, optional
        Mean intensity per frame if already computed (one pass over the movie less).
    method : {"auto", "strobe", "explicit", "t0", "landing", "xcorr"}
        ``auto`` tries the strobe (when an aux channel carries pulses; an explicit
        offset then anchors it), explicit, then t0 (when both files carry one), then the
        landing step, then cross-correlation.

    Returns
    -------
    dict
        ``offset_s``, ``offset_err_s``, ``method`` and method details; ``tried`` lists
        methods that were not usable and why; ``frame_times`` the diagnosis of the
        movie's own frame times (:func:`platescope.sync.diagnose_frame_times`, without
        the arrays) and ``warnings`` its warnings. With the strobe, ``method`` is
        ``"strobe"``, ``strobe`` holds the match (pulses, dropped frames, extra pulses,
        residuals in ms, quality) and ``frame_times_s`` the per-frame times on the echem
        clock (an array: pass it to :func:`to_echem_clock` and drop it before
        writing the dict anywhere).
    """
    res = _synchronize(
        movie, echem, time_offset_s=time_offset_s, method=method, movie_mean=movie_mean
    )
    return _with_time_diagnosis(res, movie, echem)


def _with_time_diagnosis(res: dict, movie: xr.DataArray, echem: pd.DataFrame) -> dict:
    """Attach the frame-time diagnosis (and the t0 time-zone caveat) to a sync result."""
    from platescope.sync._diagnose import CODES, diagnose_frame_times

    t = np.asarray(movie["t"].values, dtype=float)
    raw = movie.attrs.get("t_file_raw_s")
    diag = diagnose_frame_times(
        t if raw is None else np.asarray(raw, dtype=float),
        strobe_t_s=res.get("frame_times_s"),
        warn_jitter=False,
    )
    warnings = list(diag.pop("warnings"))
    n_filled = int(movie.attrs.get("t_filled", 0) or 0)
    if n_filled and not diag["n_zero"]:
        diag["n_zero"] = n_filled
        diag["problems"].insert(0, {"code": CODES["zero"], "n": n_filled, "frames": []})
        warnings.insert(
            0,
            {
                "code": CODES["zero"],
                "message": f"{n_filled} frames had a zero or absent time stamp; the reader "
                "interpolated them between the valid ones"
                + (" (the strobe times are used instead)." if "frame_times_s" in res else "."),
            },
        )
    st = res.get("strobe")
    if st and st.get("residual_rms_ms", 0.0) > 1.0:
        warnings.append(
            {
                "code": CODES["jitter"],
                "message": f"the movie's own time stamps deviate from the exposure strobe by "
                f"{st['residual_rms_ms']:.2g} ms rms (at most {st['residual_max_ms']:.2g} ms): "
                "software time; the strobe times are used.",
            }
        )
    if raw is not None and movie.attrs.get("t_note"):
        diag["reader_repair"] = movie.attrs["t_note"]
    diag.pop("t_s", None)
    res["frame_times"] = diag
    if res.get("method") == "absolute start times":
        fmt = echem.attrs.get("format") or "the record"
        zone = echem.attrs.get("timezone")
        warnings.append(
            {
                "code": "t0-timezone-stated",
                "message": f"the offset rests on the record's start time, which {fmt} files "
                f"store as wall-clock time without a time zone; it was read as {zone}. A wrong "
                "zone or a daylight-saving change shifts the offset by whole hours.",
            }
        )
    if warnings:
        res["warnings"] = warnings
    return res


def _synchronize(
    movie: xr.DataArray,
    echem: pd.DataFrame,
    *,
    time_offset_s: float | None = None,
    method: str = "auto",
    movie_mean=None,
) -> dict:
    tried = []
    if method in ("auto", "strobe"):
        from platescope.sync._strobe import strobe_channel, strobe_frame_times

        has_aux = any(c in echem.columns for c in ("aux1_V", "aux2_V"))
        channel, pulses = strobe_channel(echem) if has_aux else (None, {})
        if channel is not None:
            try:
                st = strobe_frame_times(
                    movie["t"].values,
                    pulses,
                    prior_offset_s=time_offset_s,
                    prior_offset_err_s=0.0 if time_offset_s is not None else None,
                )
            except InputError as err:
                if method == "strobe":
                    raise InputError(echem.attrs.get("source"), err.problem, err.fix) from None
                tried.append({"method": "strobe", "reason": err.problem})
            else:
                frame_times = st.pop("t_s")
                st.pop("from_pulse")
                st["channel"] = channel
                st["dropped_frame_times_s"] = st["dropped_frame_times_s"][:50]
                out = {
                    "offset_s": st.pop("offset_s"),
                    "offset_err_s": st.pop("offset_err_s"),
                    "method": "strobe",
                    "strobe": st,
                    "frame_times_s": frame_times,
                    "tried": tried,
                }
                warn = []
                if st["dropped_frames"]:
                    warn.append(
                        {
                            "code": "strobe-dropped-frames",
                            "message": f"the strobe shows {st['dropped_frames']} exposures the "
                            "movie has no frame for (dropped frames); the other frames keep "
                            "their own exposure times.",
                        }
                    )
                if st["quality"] != "good":
                    warn.append(
                        {
                            "code": "strobe-sync-fair",
                            "message": f"strobe sync quality is {st['quality']}: "
                            f"{100 * st['match_fraction']:.0f} % of the frames inside the "
                            f"record found a pulse ({st['anchor']} decided which pulse is "
                            "which frame); check the aux wiring or state [echem] time_offset_s.",
                        }
                    )
                if warn:
                    st["warnings"] = warn
                return out
        elif method == "strobe":
            raise InputError(
                echem.attrs.get("source"),
                "no exposure strobe in the record: " + pulses.get("reason", ""),
                "record the camera's exposure output on an auxiliary input, or use another "
                "sync method",
            )
        elif has_aux:
            tried.append({"method": "strobe", "reason": pulses.get("reason", "")})
    if time_offset_s is not None and method in ("auto", "explicit"):
        return {
            "offset_s": float(time_offset_s),
            "offset_err_s": 0.0,
            "method": "explicit offset",
            "tried": tried,
        }
    if method in ("auto", "t0"):
        mt0, et0 = movie.attrs.get("t0"), echem.attrs.get("t0")
        guessed = movie.attrs.get("t0_assumed_utc") or echem.attrs.get("t0_assumed_utc")
        if mt0 and et0 and not guessed:
            res = offset_from_t0(mt0, et0)
            res["tried"] = tried
            return res
        tried.append(
            {
                "method": "t0",
                "reason": "the movie or the record has no absolute start time"
                if not (mt0 and et0)
                else "a start time has no time zone (set [echem] timezone)",
            }
        )
    if method in ("auto", "landing"):
        try:
            res = offset_from_landing(movie, movie_mean=movie_mean)
            res["tried"] = tried
            return res
        except InputError as err:
            if method == "landing":
                raise
            tried.append({"method": "landing", "reason": err.problem})
    if method in ("auto", "xcorr"):
        try:
            mean = mean_intensity(movie) if movie_mean is None else movie_mean
            res = offset_from_xcorr(movie["t"].values, mean, echem)
        except InputError as err:
            if method == "xcorr":
                raise
            tried.append({"method": "xcorr", "reason": err.problem})
            raise InputError(
                movie.attrs.get("source"),
                "the movie and electrochemistry clocks could not be aligned: "
                + "; ".join(f"{item['method']}: {item['reason']}" for item in tried),
                "set [echem] time_offset_s in the experiment file: the time of echem t = 0 "
                "(contact) on the movie clock, in s; negative when the recording started after "
                "contact",
            ) from None
        res["tried"] = tried
        return res
    raise InputError(
        None,
        f"unknown synchronisation method '{method}'",
        "use one of auto, strobe, explicit, t0, landing, xcorr",
    )


def to_echem_clock(
    movie: xr.DataArray,
    offset_s: float,
    *,
    echem: pd.DataFrame | None = None,
    min_overlap_s: float = 0.0,
    frame_times_s=None,
) -> xr.DataArray:
    """Shift a movie's time coordinate onto the electrochemistry clock.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x) on its own clock.
    offset_s : float
        Echem ``t = 0`` on the movie clock, s.
    echem : pandas.DataFrame, optional
        When given, the shifted movie must overlap the record by more than
        ``min_overlap_s``; otherwise an ``InputError`` names both files.
    min_overlap_s : float
        Required overlap, s.
    frame_times_s : array_like, optional
        Per-frame times already on the echem clock (s), e.g. from the strobe
        (``synchronize(...)["frame_times_s"]``); they replace ``t − offset_s``.

    Returns
    -------
    xarray.DataArray
        Same data (not computed), ``t`` = movie time − offset, ``attrs["clock"] = "echem"``.
    """
    if frame_times_s is not None:
        new_t = np.asarray(frame_times_s, dtype=float)
        if new_t.shape != movie["t"].shape:
            raise ValueError(
                f"frame_times_s has {new_t.size} values but the movie {movie.sizes['t']} frames"
            )
    else:
        new_t = movie["t"].values - offset_s
    shifted = movie.assign_coords(t=new_t)
    shifted.attrs = {**movie.attrs, "clock": "echem", "time_offset_s": float(offset_s)}
    if echem is not None:
        t = shifted["t"].values
        te = echem["time_s"].to_numpy(float)
        overlap = min(t[-1], te[-1]) - max(t[0], te[0])
        if overlap <= min_overlap_s:
            raise InputError(
                movie.attrs.get("source"),
                f"the movie (t = {t[0]:.2f} … {t[-1]:.2f} s on the echem clock) does not overlap the "
                f"electrochemistry record {echem.attrs.get('source', '')} "
                f"(t = {te[0]:.2f} … {te[-1]:.2f} s) with offset {offset_s:.3f} s",
                "check that the two files belong to the same experiment, or set [echem] time_offset_s",
            )
    return shifted
