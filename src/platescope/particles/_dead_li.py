"""Dead Li: deposits that stop shrinking while stripping current still flows.

The review (seeds/review-in-situ-microscopy-li-metal-anodes.txt §2.1; SCIENCE.md §4)
follows dendrites through plating and stripping in top-view optical movies: during
dissolution each dendrite shrinks, then stops although the cell is still stripping —
it has become electrically or mechanically isolated ("dead Li"). Plotting the dead
effective volume against the maximum effective volume per dendrite gives a line per
cycle. This module finds the stripping windows from the current, classifies every
tracked deposit in every cycle and fits that line.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["cycling_steps", "dead_li_by_cycle", "dead_li_by_family", "find_dead_li"]

_STATUSES = ("live", "dead", "dead_before", "dissolved", "merged", "undetermined")


def cycling_steps(echem: pd.DataFrame, *, threshold_fraction: float = 0.1) -> pd.DataFrame:
    """Plating and stripping steps of a galvanostatic cycling record, from the current.

    A step is a run of samples whose current has one sign and a magnitude above
    ``threshold_fraction`` × the 99th percentile of |I| (rests and sign changes end a
    step; impedance rows, ``freq_Hz > 0``, are never a step). Cathodic (negative) current
    is plating, anodic (positive) stripping. A plating step opens a new cycle (numbered
    from 1); a stripping step belongs to the cycle of the plating before it — the pairing
    rule of :func:`platescope.echem.cycle_charges`, so cycle numbers agree with
    ``echem.cycles[]``. Stripping before any plating belongs to no cycle: cycle 0.

    Parameters
    ----------
    echem : pandas.DataFrame
        Record with ``time_s`` (s) and ``current_A`` (A, cathodic negative).
    threshold_fraction : float
        Smallest |I|, as a fraction of the 99th percentile of |I|, that counts as a step.

    Returns
    -------
    pandas.DataFrame
        ``cycle``, ``step`` ("plating"/"stripping"), ``t_start_s``, ``t_end_s`` (first
        and last sample of the run, s), ``current_A`` (mean, A), ``charge_C`` (∫I dt, C,
        signed).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(0.0, 40.0)
    >>> i = np.where(t < 5, 0.0, np.where(t < 20, -1e-3, 1e-3))
    >>> cycling_steps(pd.DataFrame({"time_s": t, "current_A": i}))[["cycle", "step", "t_start_s", "t_end_s"]].values.tolist()
    [[1, 'plating', 5.0, 19.0], [1, 'stripping', 20.0, 39.0]]
    """
    t = echem["time_s"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    ok = np.isfinite(t) & np.isfinite(i)
    if "freq_Hz" in echem.columns:
        ok &= ~(echem["freq_Hz"].to_numpy(float) > 0)
    t, i = t[ok], i[ok]
    rows = []
    if i.size:
        scale = float(np.percentile(np.abs(i), 99))
        sign = np.where(np.abs(i) > threshold_fraction * scale, np.sign(i), 0.0)
        if scale <= 0:
            sign[:] = 0.0
        change = np.flatnonzero(np.diff(sign) != 0) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [sign.size]])
        cycle = 0
        last_kind = None
        for a, b in zip(starts, ends, strict=True):
            if sign[a] == 0:
                continue
            kind = "plating" if sign[a] < 0 else "stripping"
            if kind == "plating" and last_kind != "plating":
                cycle += 1
            last_kind = kind
            tt, ii = t[a:b], i[a:b]
            q = float(np.trapezoid(ii, tt)) if tt.size > 1 else 0.0
            rows.append((cycle, kind, float(tt[0]), float(tt[-1]), float(ii.mean()), q))
    return pd.DataFrame(
        rows, columns=["cycle", "step", "t_start_s", "t_end_s", "current_A", "charge_C"]
    ).astype({"cycle": np.int64})


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float]:
    """Slope, its standard error, intercept, its standard error, R² of y = a + b·x."""
    n = x.size
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if n < 3 or sxx <= 0:
        return (math.nan,) * 5
    b = float(np.sum((x - xm) * (y - ym)) / sxx)
    a = float(ym - b * xm)
    res = y - (a + b * x)
    s2 = float(np.sum(res**2) / (n - 2))
    syy = float(np.sum((y - ym) ** 2))
    r2 = 1.0 - float(np.sum(res**2)) / syy if syy > 0 else math.nan
    return b, math.sqrt(s2 / sxx), a, math.sqrt(s2 * (1.0 / n + xm**2 / sxx)), r2


#: Theil–Sen's standard error relative to least squares' for Gaussian noise
#: (asymptotic relative efficiency ≈ 0.91 → 1/√0.91).
_THEIL_SEN_SE_FACTOR = 1.05


def _theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """Median of the pairwise slopes (robust to a single mis-segmented frame)."""
    i, j = np.triu_indices(x.size, 1)
    dx = x[j] - x[i]
    ok = dx > 0
    return float(np.median((y[j] - y[i])[ok] / dx[ok])) if ok.any() else math.nan


def find_dead_li(
    timeseries: pd.DataFrame,
    echem: pd.DataFrame,
    *,
    tail_fraction: float = 0.3,
    alpha: float = 0.02,
    min_points: int = 4,
    min_area_loss_um2: float | None = None,
    threshold_fraction: float = 0.1,
) -> pd.DataFrame:
    """Classify every tracked deposit in every cycle: live, dead, dissolved, merged.

    Rule. For cycle c with stripping window [s₀, s₁] (anodic current flowing, from
    :func:`cycling_steps`), the *tail* is the last ``tail_fraction`` of the window,
    [s₁ − tail_fraction·(s₁ − s₀), s₁]. A deposit still detected at the end of the
    window (a detection within two frame intervals of s₁) is **dead** when the slope b
    of its effective volume over the tail is not significantly below zero while the
    anodic current still flows:

        b ≥ −t₁₋α,ₙ₋₂ · s_b,   s_b = 1.05 · max(s_b(OLS residuals), σ_V / √Σ(t − t̄)²)

    b is the Theil–Sen slope (median of pairwise slopes), so one mis-segmented frame
    cannot make a dead deposit look shrinking; σ_V is the track's volume noise (from
    the area noise of :func:`~platescope.particles.deposit_timeseries`), n the number
    of tail points, t the Student quantile (one-sided, level ``alpha``) and 1.05 the
    Theil–Sen/least-squares standard-error ratio for Gaussian noise. The floor keeps a
    tail that happens to be smooth from looking more certain than the noise allows.
    A significant slope must also amount to a real loss: the projected area lost over
    the tail (Theil–Sen slope of the area × the tail's duration) must exceed
    ``min_area_loss_um2`` (default 3 pixels' area). The outline of a deposit that
    drifts across the pixel grid gains and loses whole pixels slowly, an error that is
    not white and that the slope test alone would read as shrinking.
    So a deposit has to stop shrinking before the tail starts (at least
    ``tail_fraction`` of the window before its end) to be found dead.

    Other statuses: **live** (shrinking significantly through the tail), **dissolved**
    (no longer detected at the end of the window), **merged** (its track merged into
    another during the cycle; the survivor carries its volume), **dead_before** (dead
    in an earlier cycle and still not shrinking: not counted again), **undetermined**
    (fewer than ``min_points`` tail detections).

    Volumes: ``v_max_um3`` is the largest 3-frame running median of the effective
    volume from the cycle's plating start to s₁ (the median tames the upward bias a
    plain maximum of noisy values has); ``v_dead_um3`` is the mean volume over the
    tail (dead and dead_before deposits only).

    Parameters
    ----------
    timeseries : pandas.DataFrame
        Output of :func:`~platescope.particles.deposit_timeseries` (``track``,
        ``frame``, ``t_s``, ``volume_um3``, ``volume_err_um3``, ``merged_into``), on
        the echem clock.
    echem : pandas.DataFrame
        Record with ``time_s`` and ``current_A`` (cathodic negative).
    tail_fraction : float
        Part of the stripping window (from its end) over which the slope is tested.
    alpha : float
        One-sided significance level of "shrinking".
    min_points : int
        Fewest tail detections needed to decide.
    min_area_loss_um2 : float, optional
        Smallest projected-area loss over the tail that counts as shrinking, µm².
        Default: 3 × pixel area when ``timeseries.attrs["pixel_size_um"]`` is known
        (set by the detection), else 0.
    threshold_fraction : float
        Passed to :func:`cycling_steps`.

    Returns
    -------
    pandas.DataFrame
        One row per (cycle, track): ``cycle``, ``track``, ``status``, ``dead`` (bool,
        newly dead this cycle), ``v_max_um3``, ``v_max_err_um3``, ``v_dead_um3``,
        ``v_dead_err_um3`` (1σ), ``tail_slope_um3_s``, ``tail_slope_err_um3_s``,
        ``n_tail``, ``t_strip_start_s``, ``t_strip_end_s``, ``t_cycle_start_s`` (the
        cycle's plating start, s) and, when the timeseries has it, ``family``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(0.0, 200.0, 5.0)
    >>> v_live = np.where(t < 100, t, 200 - t) + 10.0
    >>> v_dead = np.where(t < 100, t, np.maximum(200 - 2 * t + 100, 40.0))
    >>> ts = pd.DataFrame({"track": np.repeat([0, 1], t.size), "frame": np.tile(np.arange(t.size), 2),
    ...                    "t_s": np.tile(t, 2), "volume_um3": np.concatenate([v_live, v_dead]),
    ...                    "volume_err_um3": 0.5, "merged_into": -1})
    >>> echem = pd.DataFrame({"time_s": t, "current_A": np.where(t < 100, -1e-3, 1e-3)})
    >>> find_dead_li(ts, echem)[["track", "status"]].values.tolist()
    [[0, 'live'], [1, 'dead']]
    """
    need = ("track", "frame", "t_s", "volume_um3")
    missing = [c for c in need if c not in timeseries]
    if missing:
        raise ValueError(f"timeseries lacks {missing}; build it with deposit_timeseries")
    if not 0 < tail_fraction < 1:
        raise ValueError(f"tail_fraction must be in (0, 1), got {tail_fraction!r}")
    steps = cycling_steps(echem, threshold_fraction=threshold_fraction)
    ts = timeseries.sort_values(["track", "t_s"], kind="stable")
    times = np.unique(ts["t_s"].to_numpy(float))
    dt = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    merged = ts["merged_into"].to_numpy(np.int64) if "merged_into" in ts else None
    err = ts["volume_err_um3"].to_numpy(float) if "volume_err_um3" in ts else None
    groups = {
        int(k): idx for k, idx in ts.groupby("track", sort=True).indices.items()
    }  # positional indices into ts
    t_all = ts["t_s"].to_numpy(float)
    v_all = ts["volume_um3"].to_numpy(float)
    area = ts["area_um2"].to_numpy(float) if "area_um2" in ts else None
    family = ts["family"].to_numpy(np.int64) if "family" in ts else None
    if min_area_loss_um2 is None:
        px = timeseries.attrs.get("pixel_size_um")
        min_loss = 3.0 * float(px) ** 2 if px else 0.0
    else:
        min_loss = float(min_area_loss_um2)

    rows = []
    dead_tracks: set[int] = set()
    for cycle, cyc in steps.groupby("cycle", sort=True):
        strip = cyc[cyc["step"] == "stripping"]
        if strip.empty:
            continue
        s0, s1 = float(strip["t_start_s"].iloc[0]), float(strip["t_end_s"].iloc[-1])
        plate = cyc[cyc["step"] == "plating"]
        c0 = float(plate["t_start_s"].iloc[0]) if len(plate) else s0
        tail0 = s1 - tail_fraction * (s1 - s0)
        newly_dead = []
        for track, idx in groups.items():
            t = t_all[idx]
            in_cyc = (t >= c0) & (t <= s1)
            if not in_cyc.any():
                continue
            v = v_all[idx]
            row = {
                "cycle": int(cycle),
                "track": track,
                "t_strip_start_s": s0,
                "t_strip_end_s": s1,
                "t_cycle_start_s": c0,
            }
            if family is not None:
                row["family"] = int(family[idx][0])
            vc = pd.Series(v[in_cyc]).rolling(3, center=True, min_periods=1).median()
            k = int(np.argmax(vc.to_numpy()))
            row["v_max_um3"] = float(vc.iloc[k])
            ec = err[idx][in_cyc] if err is not None else np.full(in_cyc.sum(), np.nan)
            row["v_max_err_um3"] = float(ec[k])
            tail = (t >= tail0) & (t <= s1)
            row["n_tail"] = int(tail.sum())
            row.update(
                v_dead_um3=math.nan,
                v_dead_err_um3=math.nan,
                tail_slope_um3_s=math.nan,
                tail_slope_err_um3_s=math.nan,
            )
            if merged is not None and np.any(merged[idx][in_cyc] >= 0):
                row["status"] = "merged"
            elif not np.any(t[in_cyc] >= s1 - 2.0 * dt - 1e-9) or not np.any(t >= s0):
                row["status"] = "dissolved"
            elif row["n_tail"] < min_points:
                row["status"] = "undetermined"
            else:
                tt, vv = t[tail], v[tail]
                _, sb, _, _, _ = _ols(tt, vv)
                b = _theil_sen(tt, vv)
                sigma_v = float(np.nanmedian(err[idx][tail])) if err is not None else 0.0
                sxx = float(np.sum((tt - tt.mean()) ** 2))
                if np.isfinite(sigma_v) and sxx > 0:
                    sb = max(sb, sigma_v / math.sqrt(sxx))
                sb *= _THEIL_SEN_SE_FACTOR
                q = float(stats.t.ppf(1.0 - alpha, tt.size - 2))
                row["tail_slope_um3_s"], row["tail_slope_err_um3_s"] = b, sb
                shrinking = b < -q * sb
                if area is not None and shrinking:
                    a_tail = area[idx][tail]
                    loss = -_theil_sen(tt, a_tail) * float(tt.max() - tt.min())
                    shrinking = loss > min_loss
                if shrinking:
                    row["status"] = "live"
                else:
                    row["status"] = "dead_before" if track in dead_tracks else "dead"
                    sd = float(vv.std(ddof=1)) if vv.size > 1 else math.nan
                    floor = sigma_v if np.isfinite(sigma_v) else 0.0
                    row["v_dead_um3"] = float(vv.mean())
                    row["v_dead_err_um3"] = max(sd, floor) / math.sqrt(vv.size)
                    if row["status"] == "dead":
                        newly_dead.append(track)
            row["dead"] = row["status"] == "dead"
            rows.append(row)
        dead_tracks.update(newly_dead)
    cols = [
        "cycle",
        "track",
        "status",
        "dead",
        "v_max_um3",
        "v_max_err_um3",
        "v_dead_um3",
        "v_dead_err_um3",
        "tail_slope_um3_s",
        "tail_slope_err_um3_s",
        "n_tail",
        "t_strip_start_s",
        "t_strip_end_s",
        "t_cycle_start_s",
    ]
    if family is not None:
        cols.insert(2, "family")
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"cycle": np.int64, "track": np.int64, "dead": bool, "n_tail": np.int64})


#: a family's status: the first of its members' statuses in this order
_FAMILY_ORDER = ("dead", "live", "undetermined", "dissolved", "dead_before", "merged")


def dead_li_by_family(per_deposit: pd.DataFrame, timeseries: pd.DataFrame) -> pd.DataFrame:
    """Dead Li per deposit family and cycle: a deposit and every part split off it.

    A deposit that breaks during stripping (a whisker whose neck dissolves) leaves a
    live part, still connected and shrinking, and a dead part; the per-deposit view
    sees the dead part from the break on only, so its "maximum volume" is its own
    after the break, not the deposit's. The family (the connected component of
    splits and merges, :func:`~platescope.particles.track_graph`) restores the
    deposit's view: per cycle, the family's maximum effective volume is the largest
    3-frame running median of the summed volume of its members (those active in the
    cycle: not dead in an earlier one) from the cycle's plating start to the end of
    its stripping; its dead volume is the sum of the dead volumes of the members found
    dead in the cycle (:func:`find_dead_li`), and ``dead_fraction`` their ratio.

    Parameters
    ----------
    per_deposit : pandas.DataFrame
        Output of :func:`find_dead_li` on a timeseries with a ``family`` column.
    timeseries : pandas.DataFrame
        The same :func:`~platescope.particles.deposit_timeseries` output (``track``,
        ``family``, ``t_s``, ``volume_um3``).

    Returns
    -------
    pandas.DataFrame
        One row per (cycle, family): ``cycle``, ``family``, ``tracks`` (space-separated
        member ids), ``n_tracks``, ``n_dead``, ``n_live``, ``status`` (the first member
        status in the order dead, live, undetermined, dissolved, dead_before, merged),
        ``dead`` (a member turned dead this cycle), ``v_max_um3``, ``v_dead_um3``
        (µm³), ``dead_fraction`` (v_dead/v_max; 0 when nothing died).

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.DataFrame({"track": [0, 0, 0, 0, 1, 1], "family": 0,
    ...                    "t_s": [0.0, 1, 2, 3, 2, 3], "volume_um3": [10.0, 10, 6, 5, 3, 3]})
    >>> pdp = pd.DataFrame({"cycle": 1, "track": [0, 1], "family": 0, "status": ["live", "dead"],
    ...                     "dead": [False, True], "v_max_um3": [10.0, 3], "v_dead_um3": [None, 3.0],
    ...                     "t_cycle_start_s": 0.0, "t_strip_end_s": 3.0})
    >>> dead_li_by_family(pdp, ts)[["family", "status", "v_max_um3", "dead_fraction"]].values.tolist()
    [[0, 'dead', 10.0, 0.3]]
    """
    need = ("cycle", "track", "family", "status", "v_dead_um3", "t_cycle_start_s")
    missing = [c for c in need if c not in per_deposit]
    if missing:
        raise ValueError(
            f"per_deposit lacks {missing}; run find_dead_li on a timeseries with families "
            "(deposit_timeseries of tracks from track_deposits)"
        )
    t_all = timeseries["t_s"].to_numpy(float)
    v_all = timeseries["volume_um3"].to_numpy(float)
    rows_of = {int(k): v for k, v in timeseries.groupby("track").indices.items()}
    rows = []
    for (cycle, fam), g in per_deposit.groupby(["cycle", "family"], sort=True):
        c0 = float(g["t_cycle_start_s"].iloc[0])
        s1 = float(g["t_strip_end_s"].iloc[0])
        active = g[g["status"] != "dead_before"]
        idx = [rows_of[int(k)] for k in active["track"] if int(k) in rows_of]
        vmax = math.nan
        if idx:
            sel = np.concatenate(idx)
            t, v = t_all[sel], v_all[sel]
            inside = (t >= c0) & (t <= s1)
            if inside.any():
                total = pd.Series(v[inside]).groupby(t[inside]).sum().sort_index()
                vmax = float(total.rolling(3, center=True, min_periods=1).median().max())
        dead = g[g["status"] == "dead"]
        v_dead = float(dead["v_dead_um3"].astype(float).sum()) if len(dead) else 0.0
        status = next(s for s in (*_FAMILY_ORDER, g["status"].iloc[0]) if s in set(g["status"]))
        rows.append(
            {
                "cycle": int(cycle),
                "family": int(fam),
                "tracks": " ".join(str(int(k)) for k in sorted(g["track"])),
                "n_tracks": int(len(g)),
                "n_dead": int(len(dead)),
                "n_live": int((g["status"] == "live").sum()),
                "status": status,
                "dead": bool(len(dead)),
                "v_max_um3": vmax,
                "v_dead_um3": v_dead if len(dead) else math.nan,
                "dead_fraction": v_dead / vmax if vmax > 0 else math.nan,
            }
        )
    cols = [
        "cycle",
        "family",
        "tracks",
        "n_tracks",
        "n_dead",
        "n_live",
        "status",
        "dead",
        "v_max_um3",
        "v_dead_um3",
        "dead_fraction",
    ]
    return pd.DataFrame(rows, columns=cols)


def dead_li_by_cycle(
    per_deposit: pd.DataFrame,
    *,
    min_dead: int = 3,
    level: str = "deposit",
    timeseries: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-cycle dead-Li counts and the line of dead vs maximum effective volume.

    For each cycle, over the deposits found dead in that cycle, a least-squares line
    V_dead = a + s·V_max is fitted. The slope s (dimensionless) is the fraction of a
    deposit's maximum effective volume that is stranded as dead Li at the end of the
    cycle's stripping (1 − s is the reversible fraction); a smaller s is a more
    reversible cycle. (The review plots the same data with the axes the other way
    round, so there a *steeper* line — 1/s — means more reversible.) ``slope_err`` is
    the 1σ standard error of s from the fit residuals, ``r2`` the coefficient of
    determination.

    Parameters
    ----------
    per_deposit : pandas.DataFrame
        Output of :func:`find_dead_li`.
    min_dead : int
        Fewest dead deposits for a fit (else the fit values are NaN with a ``reason``).
    level : {"deposit", "family"}
        ``"deposit"`` (default): every track is a deposit. ``"family"``: every deposit
        family of :func:`dead_li_by_family` is one (a deposit that broke into a live
        and a dead part counts once, with the family's maximum and dead volumes);
        needs ``timeseries``. The counts then count families.
    timeseries : pandas.DataFrame, optional
        The :func:`~platescope.particles.deposit_timeseries` output (for ``"family"``).

    Returns
    -------
    pandas.DataFrame
        ``cycle``, ``n_deposits`` (live + dead + dissolved + undetermined: deposits active
        in the cycle, merged-away and earlier-dead ones excluded), ``n_dead``, ``n_live``,
        ``n_dissolved``, ``n_dead_before``, ``dead_fraction`` (n_dead/n_deposits),
        ``dead_volume_fraction`` (ΣV_dead/ΣV_max over the active deposits),
        ``slope``, ``slope_err``, ``intercept_um3``, ``intercept_err_um3``, ``r2``,
        ``reason`` (why a fit is missing, else empty).

    Examples
    --------
    >>> import pandas as pd
    >>> pdp = pd.DataFrame({"cycle": 1, "track": range(5), "status": "dead", "dead": True,
    ...                     "v_max_um3": [10.0, 20, 30, 40, 50], "v_dead_um3": [4.0, 8, 12, 16, 20]})
    >>> round(float(dead_li_by_cycle(pdp)["slope"].iloc[0]), 3)
    0.4
    """
    if level == "family":
        if timeseries is None:
            raise ValueError("level='family' needs the timeseries")
        per_deposit = dead_li_by_family(per_deposit, timeseries)
    elif level != "deposit":
        raise ValueError(f"level must be 'deposit' or 'family', not {level!r}")
    rows = []
    for cycle, g in per_deposit.groupby("cycle", sort=True):
        st = g["status"]
        active = g[st.isin(["live", "dead", "dissolved", "undetermined"])]
        dead = g[st == "dead"]
        n_act = len(active)
        row = {
            "cycle": int(cycle),
            "n_deposits": n_act,
            "n_dead": len(dead),
            "n_live": int((st == "live").sum()),
            "n_dissolved": int((st == "dissolved").sum()),
            "n_dead_before": int((st == "dead_before").sum()),
            "dead_fraction": len(dead) / n_act if n_act else math.nan,
            "dead_volume_fraction": float(dead["v_dead_um3"].sum() / active["v_max_um3"].sum())
            if n_act and active["v_max_um3"].sum() > 0
            else math.nan,
            "reason": "",
        }
        x = dead["v_max_um3"].to_numpy(float)
        y = dead["v_dead_um3"].to_numpy(float)
        good = np.isfinite(x) & np.isfinite(y)
        if good.sum() >= max(3, min_dead) and np.ptp(x[good]) > 0:
            b, sb, a, sa, r2 = _ols(x[good], y[good])
        else:
            b = sb = a = sa = r2 = math.nan
            row["reason"] = (
                f"{int(good.sum())} dead deposit(s) in this cycle; the line needs at least "
                f"{max(3, min_dead)} with different maximum volumes"
            )
        row.update(slope=b, slope_err=sb, intercept_um3=a, intercept_err_um3=sa, r2=r2)
        rows.append(row)
    return pd.DataFrame(rows)
