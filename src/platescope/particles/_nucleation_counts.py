"""Top-view nucleation counts and the optical onset of tip growth (SCIENCE.md §4).

In a top-view optical movie of galvanostatic Li plating every deposit becomes visible
once it grows above the detection limit, and the number of deposits seen by a time
``t`` — counted over linked tracks, so a deposit is counted once however many frames
show it and two deposits that later grow into each other still count twice — is the
nucleus count N(t). Divided by the imaged area it is the areal nucleation density,
which the literature compares across current densities (N ∝ j^b) and at a fixed
plated charge.

Past Sand's time the salt at the electrode is depleted and Li grows from its tips
(whiskers, dendrites): seen from above, compact deposits sprout thin elongated arms.
:func:`tip_growth_onset` finds the first time elongated objects appear and stay, from
the circularity (4πA/P²) of the deposits each frame shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from platescope._errors import InputError

__all__ = ["nucleus_counts", "tip_growth_onset"]

#: Columns of :func:`nucleus_counts`.
COUNT_COLUMNS = (
    "frame",
    "t_s",
    "n_visible",
    "n_cumulative",
    "density_cm2",
    "density_err_cm2",
)

_UM2_PER_CM2 = 1e8


def _need(table: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise InputError(
            None,
            f"the {what} table lacks the column(s) {', '.join(missing)}",
            "pass the output of platescope.particles.detect_deposits / track_deposits",
        )


def nucleus_counts(
    tracks: pd.DataFrame,
    *,
    frame_times_s,
    field_area_um2: float,
    t_start_s: float | None = None,
    min_track_frames: int = 3,
    satellite_gap_um: float | None = 1.0,
) -> pd.DataFrame:
    """Deposits seen per frame and the cumulative nucleus count and density.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Linked detections (:func:`platescope.particles.track_deposits`): ``frame``,
        ``t_s`` and ``track`` (one id per deposit).
    frame_times_s : array_like
        Time of every frame of the movie, s (frames without detections count zero).
    field_area_um2 : float
        Imaged area the deposits were counted in, µm².
    t_start_s : float, optional
        Start of plating, s: tracks first seen before it existed before the step
        (dirt, earlier deposits) and are not nuclei of this step; they are left out of
        ``n_cumulative`` (and out of ``n_visible``), and their number is in
        ``attrs["n_before_start"]``.
    min_track_frames : int
        Tracks seen in fewer frames are not counted (flicker of noise, a thin arm
        breaking off its deposit for a frame); their number is in
        ``attrs["n_short_dropped"]``.
    satellite_gap_um : float or None
        A track that first appears touching an older deposit — the two detections in
        that frame closer than this gap, µm, each taken as a circle about its centroid
        of radius max(equivalent radius, perimeter / 4) (the reach of an elongated
        object) — is a piece of
        that deposit (a thin arm whose middle fell below the threshold), not a nucleus:
        it is not counted, and its number is in ``attrs["n_satellites"]``. A true
        nucleus born that close to a deposit is lost with it. Needs ``y_um``, ``x_um``
        and ``area_um2`` in ``tracks``; None turns the rule off. Tracks that
        :func:`platescope.particles.track_deposits` marks as split off a deposit
        (``split_from`` ≥ 0) are pieces too: ``attrs["n_split_born"]``.

    Returns
    -------
    pandas.DataFrame
        One row per frame (:data:`COUNT_COLUMNS`): ``n_visible`` (deposits detected in
        that frame), ``n_cumulative`` (distinct tracks first seen at or before it),
        ``density_cm2`` = n_cumulative / area (cm⁻²) and ``density_err_cm2``, its 1σ
        counting (Poisson) uncertainty √N / area. ``attrs``: ``field_area_um2``,
        ``n_before_start``, ``n_short_dropped``, ``n_satellites``, ``n_split_born``.

    Examples
    --------
    >>> tr = pd.DataFrame({"frame": [0, 1, 1, 2, 2, 2], "t_s": [0, 5, 5, 10, 10, 10.0],
    ...                    "track": [0, 0, 1, 0, 1, 2]})
    >>> c = nucleus_counts(tr, frame_times_s=[0, 5, 10], field_area_um2=1e4,
    ...                    min_track_frames=1, satellite_gap_um=None)
    >>> c["n_cumulative"].tolist(), round(float(c["density_cm2"].iloc[-1]))
    ([1, 2, 3], 30000)
    """
    _need(tracks, ("frame", "track"), "tracks")
    t = np.asarray(frame_times_s, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise ValueError("frame_times_s must be a non-empty 1-D array of finite times")
    area = float(field_area_um2)
    if not (math.isfinite(area) and area > 0):
        raise ValueError(f"field_area_um2 must be positive, got {field_area_um2!r}")
    frame = tracks["frame"].to_numpy(np.int64)
    track = tracks["track"].to_numpy(np.int64)
    size = pd.Series(frame).groupby(track).size()
    short = size.index.to_numpy()[size.to_numpy() < int(min_track_frames)]
    keep = ~np.isin(track, short)
    frame, track = frame[keep], track[keep]
    first = pd.Series(frame).groupby(track).min()
    split_born = np.zeros(0, np.int64)
    if "split_from" in tracks:
        # a track born by splitting off a deposit (track_deposits' split rule) is a piece
        sf = tracks["split_from"].to_numpy(np.int64)[keep]
        split_born = np.intersect1d(np.unique(track[sf >= 0]), first.index.to_numpy())
        first = first.drop(index=split_born)
    satellites = np.zeros(0, np.int64)
    if satellite_gap_um is not None and len(first):
        _need(tracks, ("y_um", "x_um", "area_um2"), "tracks")
        kept = tracks[keep]
        satellites = _satellites(kept, first, float(satellite_gap_um))
        first = first.drop(index=satellites)
    before = np.zeros(0, np.int64)
    if t_start_s is not None and len(first):
        # a track seen in a frame taken before plating started is not a nucleus of it
        early = t[np.clip(first.to_numpy(), 0, t.size - 1)] < float(t_start_s)
        before = first.index.to_numpy()[early]
        first = first[~early]
    keep = ~np.isin(track, np.concatenate([before, satellites, split_born]))
    n_visible = np.bincount(frame[keep], minlength=t.size)[: t.size]
    n_new = np.bincount(first.to_numpy(np.int64), minlength=t.size)[: t.size]
    n_cum = np.cumsum(n_new)
    out = pd.DataFrame(
        {
            "frame": np.arange(t.size),
            "t_s": t,
            "n_visible": n_visible.astype(np.int64),
            "n_cumulative": n_cum.astype(np.int64),
            "density_cm2": n_cum / area * _UM2_PER_CM2,
            "density_err_cm2": np.sqrt(n_cum) / area * _UM2_PER_CM2,
        }
    )
    out.attrs = {
        "field_area_um2": area,
        "n_before_start": int(before.size),
        "n_short_dropped": int(short.size),
        "n_satellites": int(satellites.size),
        "n_split_born": int(split_born.size),
    }
    return out


def _satellites(tracks: pd.DataFrame, first: pd.Series, gap_um: float) -> np.ndarray:
    """Tracks whose first detection touches an older track's detection in that frame."""
    frame = tracks["frame"].to_numpy(np.int64)
    track = tracks["track"].to_numpy(np.int64)
    yx = tracks[["y_um", "x_um"]].to_numpy(float)
    r = np.sqrt(np.clip(tracks["area_um2"].to_numpy(float), 0.0, None) / np.pi)
    if "perimeter_um" in tracks:
        # an elongated object reaches about a quarter of its perimeter from its centroid
        r = np.maximum(r, np.nan_to_num(tracks["perimeter_um"].to_numpy(float)) / 4.0)
    born = first.reindex(track).to_numpy()
    out = []
    for f in np.unique(first.to_numpy()):
        here = frame == f
        new = here & (born == f)
        old = here & (born < f)
        if not new.any() or not old.any():
            continue
        d = np.hypot(*(yx[new][:, None, :] - yx[old][None, :, :]).transpose(2, 0, 1))
        edge = d - r[new][:, None] - r[old][None, :]
        touching = (edge <= gap_um).any(axis=1)
        out.extend(np.unique(track[new][touching]).tolist())
    return np.unique(np.asarray(out, np.int64))


def tip_growth_onset(
    detections: pd.DataFrame,
    *,
    frame_times_s,
    circularity_max: float = 0.45,
    min_area_um2: float = 4.0,
    min_objects: int = 1,
    persist_frames: int = 3,
    t_start_s: float | None = None,
) -> dict:
    """When elongated deposits (tips, whiskers) first appear and stay.

    A deposit seen from above is *elongated* when its circularity 4πA/P² is at most
    ``circularity_max`` (a disk is ≈ 0.9 with ImageJ's perimeter; a disk of radius r
    with a 1 µm wide arm of length 3r is ≈ 0.4) and its area at least ``min_area_um2``
    (smaller objects are a few pixels, whose circularity is pixel noise). The onset is
    the first frame of the first run of ``persist_frames`` consecutive frames that each
    show at least ``min_objects`` elongated deposits; the tips started between the frame
    before and that frame, so the onset time is the midpoint of that interval and its 1σ
    uncertainty the interval / √12 (uniform). The arm must grow long enough to lower the
    circularity, so the onset trails the true start of tip growth by the time an arm
    takes to reach about the deposit's radius.

    Parameters
    ----------
    detections : pandas.DataFrame
        Per-frame detections (:func:`platescope.particles.detect_deposits`): ``frame``,
        ``area_um2``, ``circularity``.
    frame_times_s : array_like
        Time of every frame, s.
    circularity_max, min_area_um2, min_objects, persist_frames
        The elongation rule above (dimensionless, µm², count, frames).
    t_start_s : float, optional
        Only frames at or after this time (s; the plating start) are considered.

    Returns
    -------
    dict
        ``t_onset_s`` and ``t_onset_err_s`` (s, 1σ) or None with ``reason``; ``frame``;
        ``n_elongated`` (list, per frame) and the rule's parameters.

    Examples
    --------
    >>> det = pd.DataFrame({"frame": [0, 1, 2, 3, 4], "area_um2": [20.0] * 5,
    ...                     "circularity": [0.9, 0.9, 0.3, 0.3, 0.3]})
    >>> r = tip_growth_onset(det, frame_times_s=[0, 10, 20, 30, 40])
    >>> r["t_onset_s"], round(r["t_onset_err_s"], 2)
    (15.0, 2.89)
    """
    _need(detections, ("frame", "area_um2", "circularity"), "detections")
    t = np.asarray(frame_times_s, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("frame_times_s must be a non-empty 1-D array")
    rule = {
        "circularity_max": float(circularity_max),
        "min_area_um2": float(min_area_um2),
        "min_objects": int(min_objects),
        "persist_frames": int(persist_frames),
    }
    d = detections
    long_ = (d["circularity"].to_numpy(float) <= circularity_max) & (
        d["area_um2"].to_numpy(float) >= min_area_um2
    )
    n_el = np.bincount(d["frame"].to_numpy(np.int64)[long_], minlength=t.size)[: t.size]
    ok = n_el >= int(min_objects)
    if t_start_s is not None:
        ok &= t >= float(t_start_s)
    k = max(1, int(persist_frames))
    run = np.convolve(ok.astype(int), np.ones(k, int), mode="valid") == k if ok.size >= k else []
    hits = np.flatnonzero(run)
    out = {**rule, "n_elongated": n_el.astype(int).tolist()}
    if not hits.size:
        out.update(
            t_onset_s=None,
            t_onset_err_s=None,
            frame=None,
            reason=(
                f"no {k} consecutive frames show {min_objects} or more elongated deposits "
                f"(circularity ≤ {circularity_max:g}, area ≥ {min_area_um2:g} µm²): no tip "
                "growth was seen"
            ),
        )
        return out
    f = int(hits[0])
    lo = t[f - 1] if f > 0 else t[f]
    if t_start_s is not None:
        lo = max(lo, float(t_start_s))
    out.update(
        t_onset_s=float(0.5 * (lo + t[f])),
        t_onset_err_s=float((t[f] - lo) / math.sqrt(12.0)),
        frame=f,
    )
    return out
