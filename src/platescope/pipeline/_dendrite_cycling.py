"""Scenario ``dendrite-cycling``: deposits tracked through operando cycling, dead Li (SCIENCE.md §4).

Steps, each run when its inputs exist (otherwise recorded in ``skipped``):

1. echem → per-cycle charges and CE (``echem.cycles``) and the plating/stripping steps;
2. movie → clock sync → per-frame deposit detection → tracks (with merges) → per-deposit
   area, effective radius and effective volume (``deposits``);
3. tracks + echem → dead Li per deposit and per cycle, with the line of dead vs maximum
   effective volume (``dead_li[]``).
"""

from __future__ import annotations

import numpy as np

from platescope._lazy import lazy_module
from platescope.pipeline._common import (
    add_warning,
    analysis_params,
    expand_errors,
    read_echem_section,
    read_movie_section,
)
from platescope.pipeline._registration import registration_defaults, stabilize_section_movie
from platescope.pipeline._scenarios import Scenario, run_step
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    CYCLES,
    CYCLES_DEFAULTS,
    echem_context,
)

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

#: ``[analysis.registration]`` of dendrite-cycling: off by default. The static
#: reference registers its field to 0.04–0.10 px where applied, but the tracking does
#: not need it (links and dead-Li precision/recall 1.000 with 5 px drift as still: the
#: search range covers the drift), the default simulation's own drift is refused as
#: uncertain (a warning on every default analysis) and it costs ≈ 40 CPU-s per movie.
DENDRITE_REGISTRATION = registration_defaults(
    enabled=False,
    why="Off in dendrite-cycling: the tracking is unaffected by 5 px drift (links and "
    "dead-Li precision/recall 1.000 as still), and the registration costs ≈ 40 CPU-s",
)

DEFAULTS = {
    "deposits": {
        "polarity": "dark",
        "sigma_um": 0.5,
        "threshold": "auto",
        "edge": "half-max",
        "min_area_um2": 2.0,
        "max_area_um2": None,
        "watershed": False,
        "search_range_um": 3.0,
        "max_speed_um_s": None,
        "memory": 2,
        "splits": True,
        "split_area_fraction": 0.5,
        "min_track_frames": 3,
        "shape": "hemisphere",
        "height_um": None,
    },
    "dead_li": {"tail_fraction": 0.3, "alpha": 0.02, "min_points": 4, "min_dead": 3},
}


def _params(exp, name):
    return analysis_params(exp, name, DEFAULTS[name])


def _montage_frames(t: np.ndarray, steps: pd.DataFrame) -> tuple[list[int], list[str]]:
    """Frames at the start, end of plating, mid and end of stripping of each cycle."""
    frames, labels = [], []

    def nearest(x):
        return int(np.clip(np.searchsorted(t, x), 0, t.size - 1))

    for cycle, g in steps.groupby("cycle", sort=True):
        for _, s in g.iterrows():
            if s["step"] == "plating":
                picks = [(s["t_end_s"], "end of plating")]
            else:
                mid = 0.5 * (s["t_start_s"] + s["t_end_s"])
                picks = [(mid, "mid stripping"), (s["t_end_s"], "end of stripping")]
            for tt, name in picks:
                frames.append(nearest(tt))
                labels.append(f"cycle {int(cycle)}, {name}")
    frames = [0] + frames
    labels = ["first frame"] + labels
    return frames, labels


def _deposit_summary(tracks, ts, merges, p, det_attrs, n_dropped, splits=None, graph=None) -> dict:
    n_tracks = int(tracks["track"].nunique()) if len(tracks) else 0
    absorbed = set(merges["track"]) if len(merges) else set()
    vmax = ts[~ts["track"].isin(absorbed)].groupby("track")["volume_um3"].max()
    out = {
        "count": n_tracks,
        "n_tracks": n_tracks,
        "n_merges": int(len(merges)),
        "n_objects": n_tracks - int(len(merges)),
        "mean_max_volume_um3": float(vmax.mean()) if len(vmax) else None,
        "mean_max_volume_um3_err": float(vmax.std(ddof=1) / np.sqrt(len(vmax)))
        if len(vmax) > 1
        else None,
        "shape": p["shape"],
        "height_um": p["height_um"],
        "threshold": det_attrs.get("threshold"),
        "n_short_tracks_dropped": int(n_dropped),
        "n_splits": int(len(splits)) if splits is not None else 0,
        "n_families": int(graph["family"].nunique()) if graph is not None and len(graph) else 0,
        "definitions": (
            "count = n_tracks: deposits followed for at least min_track_frames frames; "
            "n_objects: tracks minus merges (a merged group counts once); "
            "mean_max_volume_um3: mean over objects of the largest effective volume "
            f"({p['shape']} of the projected area), ± standard error across deposits; "
            "merge and split rules, survivor convention: platescope.particles.track_deposits; "
            "n_splits: parts that broke off a deposit; n_families: connected groups of "
            "tracks joined by splits and merges (platescope.particles.track_graph)"
        ),
    }
    if not n_tracks:
        out["reason"] = "no deposit was detected in the movie"
    return out


def _echem_step(exp, out, summary) -> tuple:
    """The record → plating/stripping steps, cycles, chronoamperometry; (echem, steps)."""
    from platescope import particles

    skipped = summary["skipped"]
    echem = None
    steps = None
    if exp.echem:
        echem = read_echem_section(exp)
        steps = particles.cycling_steps(echem)
        out.table("cycling_steps", steps, title="Plating and stripping steps (from the current)")
        ctx = echem_context(echem, table_prefix="echem_")
        run_step(CYCLES, exp, out, summary, context=ctx)
        run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx)
    else:
        skipped.append({"analysis": "echem.cycles", "reason": "no [echem] input"})
        skipped.append(
            {
                "analysis": "dead_li",
                "reason": "dead Li needs the stripping steps of an [echem] record",
            }
        )

    return echem, steps


def _montage_selection(t: np.ndarray, steps) -> tuple[list[int], list[str] | None]:
    """The montage's frames (and row labels): by echem step, else 8 evenly spaced."""
    if steps is not None and len(steps):
        return _montage_frames(t, steps)
    return list(np.unique(np.linspace(0, t.size - 1, 8).round().astype(int))), None


def _deposits_step(exp, echem, p, out, summary, steps=None) -> tuple:
    """The movie on the echem clock → deposits detected, tracked, measured; merges.

    Returns (movie, tracks, time series, montage): the montage's frames are kept from
    the detection pass (``frames_out``), so the figure does not read the movie again.
    """
    from platescope import particles, sync

    movie = read_movie_section(exp.movie, default_mode="epi")
    # bad frames out, drift undone
    movie = stabilize_section_movie(movie, exp, out, summary, defaults=DENDRITE_REGISTRATION)
    if echem is not None:
        sy = sync.synchronize(movie, echem, time_offset_s=exp.echem.get("time_offset_s"))
        summary["sync"] = expand_errors(
            {
                k: v
                for k, v in sy.items()
                if k in ("offset_s", "offset_err_s", "method", "strobe", "frame_times", "warnings")
            }
        )
        movie = sync.to_echem_clock(
            movie, sy["offset_s"], echem=echem, frame_times_s=sy.pop("frame_times_s", None)
        )

    shown, labels = _montage_selection(np.asarray(movie["t"].values, float), steps)
    kept: dict = dict.fromkeys(shown)
    det = particles.detect_deposits(
        movie,
        frames_out=kept,
        polarity=p["polarity"],
        sigma_um=p["sigma_um"],
        threshold=p["threshold"],
        edge=p["edge"],
        watershed=p["watershed"],
        min_area_um2=p["min_area_um2"],
        max_area_um2=p["max_area_um2"],
    )
    tracks = particles.track_deposits(
        det,
        search_range_um=p["search_range_um"],
        max_speed_um_s=p["max_speed_um_s"],
        memory=p["memory"],
        splits=p["splits"],
        split_area_fraction=p["split_area_fraction"],
    )
    length = tracks.groupby("track")["frame"].transform("size") if len(tracks) else None
    n_dropped = 0
    if length is not None:
        short = length < p["min_track_frames"]
        keep_ids = set(tracks.loc[~short, "track"])
        n_dropped = int(tracks.loc[short, "track"].nunique())
        tracks = tracks[~short].copy()
        # a merge into a dropped track is forgotten with it
        tracks.loc[~tracks["merged_into"].isin(keep_ids), "merged_into"] = -1
        tracks.loc[~tracks["split_from"].isin(keep_ids), "split_from"] = -1
        tracks.attrs = dict(det.attrs)
    ts = particles.deposit_timeseries(tracks, shape=p["shape"], height_um=p["height_um"])
    merges = particles.merge_events(tracks)
    splits = particles.split_events(tracks)
    graph = particles.track_graph(tracks)
    summary["deposits"] = expand_errors(
        _deposit_summary(tracks, ts, merges, p, det.attrs, n_dropped, splits, graph)
    )
    if p["max_speed_um_s"] is not None:
        summary["deposits"]["n_links_cut"] = int(tracks.attrs.get("n_links_cut", 0))
    out.table("deposit_tracks", tracks, title="Deposits per frame with their track")
    out.table(
        "deposit_timeseries",
        ts,
        title="Per-deposit area, effective radius and volume",
        errors="1sigma",
    )
    out.table("merges", merges, title="Merges (absorbed track → surviving track)")
    out.table("splits", splits, title="Splits (track → the part that broke off it)")
    out.table(
        "track_graph", graph, title="Track graph: parents, children and family of every track"
    )
    spots, edges = particles.trackmate_tables(tracks)
    out.table("trackmate_spots", spots, title="TrackMate-style export: spots")
    out.table(
        "trackmate_edges", edges, title="TrackMate-style export: edges (links, splits, merges)"
    )
    _geff_step(tracks, out)

    uniq = sorted(kept)
    frames = movie.isel(t=uniq).copy(data=np.stack([kept[k] for k in uniq]))
    montage = (frames, [uniq.index(k) for k in shown], labels)
    return movie, tracks, ts, montage


def _geff_step(tracks, out) -> None:
    """The same graph as a geff zarr store (``tables/tracks.geff``), written atomically."""
    from platescope import io, particles

    rel = "tables/tracks.geff"
    io.write_geff(particles.geff_graph(tracks), out.root / rel)
    out.tables.append(
        {
            "title": "geff export (zarr store; node ids = trackmate_spots ID, edges with "
            "their event: link, split, merge)",
            "path": rel,
        }
    )


def _dead_li_step(echem, steps, ts, pd_, out, summary) -> tuple:
    """Dead Li per deposit and per cycle (needs the stripping steps of the record)."""
    from platescope import particles

    skipped = summary["skipped"]
    per_dep = by_cycle = None
    if echem is not None and len(ts):
        per_dep = particles.find_dead_li(
            ts,
            echem,
            tail_fraction=pd_["tail_fraction"],
            alpha=pd_["alpha"],
            min_points=pd_["min_points"],
        )
        by_cycle = particles.dead_li_by_cycle(per_dep, min_dead=pd_["min_dead"])
        if "family" in per_dep:
            _warn_split_parts(per_dep, ts, summary)
            fam = particles.dead_li_by_family(per_dep, ts)
            out.table(
                "dead_li_families",
                fam,
                title="Dead Li per deposit family (a deposit and the parts split off it)",
            )
            by_fam = particles.dead_li_by_cycle(
                per_dep, min_dead=pd_["min_dead"], level="family", timeseries=ts
            )
            summary["dead_li_families"] = expand_errors(
                [
                    {k: v for k, v in r.items() if not (k == "reason" and not v)}
                    for r in by_fam.to_dict("records")
                ]
            )
            summary["dead_li_families_definition"] = (
                "as dead_li, over deposit families (a deposit with every part that split "
                "off it or merged into it counts once): V_max = largest summed effective "
                "volume of the family in the cycle, V_dead = summed dead volume of its "
                "members found dead in the cycle (platescope.particles.dead_li_by_family)"
            )
        rows = []
        for r in by_cycle.to_dict("records"):
            r = {k: v for k, v in r.items() if not (k == "reason" and not v)}
            rows.append(r)
        summary["dead_li"] = expand_errors(rows)
        summary["dead_li_definition"] = (
            "per cycle: a deposit is dead when, still detected at the end of the stripping "
            "step, the slope of its effective volume over the last tail_fraction of the step "
            "is not significantly below zero (one-sided t test at alpha, noise floor from the "
            "area noise); slope = least-squares slope of dead vs maximum effective volume over "
            "the deposits that turned dead in the cycle (dimensionless; the fraction of the "
            "maximum volume stranded as dead Li; 1 − slope is reversible); slope_err k = 2"
        )
        out.table(
            "dead_li_deposits",
            per_dep,
            title="Dead-Li status of every deposit in every cycle",
            errors="1sigma",
        )
        out.table(
            "dead_li_cycles",
            by_cycle,
            title="Dead Li per cycle with the dead-vs-max line",
            errors="1sigma",
        )
        if not len(steps[steps["step"] == "stripping"]):
            skipped.append({"analysis": "dead_li", "reason": "the record has no stripping step"})
    elif echem is not None:
        skipped.append({"analysis": "dead_li", "reason": "no deposit was tracked"})

    return per_dep, by_cycle


def _warn_split_parts(per_dep, ts, summary) -> None:
    """Dead deposits that broke off a parent in the same cycle: per-deposit V_max is the
    part's own (after the break), so the per-deposit line understates the dead fraction."""
    if "split_from" not in ts:
        return
    born = ts[ts["split_from"] >= 0].groupby("track")["t_s"].min()
    dead = per_dep[per_dep["status"] == "dead"]
    parts = dead[
        [
            int(t) in born.index and c0 <= float(born[int(t)]) <= s1
            for t, c0, s1 in zip(
                dead["track"], dead["t_cycle_start_s"], dead["t_strip_end_s"], strict=True
            )
        ]
    ]
    if len(parts):
        add_warning(
            summary,
            "dead-li-split-parts",
            f"{len(parts)} dead deposit(s) broke off a parent during the same cycle; their "
            "per-deposit dead/max ratio uses the part's own maximum and is near 1. Read "
            "dead_li_families (a deposit and its parts counted once) for the dead fraction.",
            "dead_li",
        )


def _figures_step(movie, tracks, ts, steps, per_dep, by_cycle, p, out, montage=None) -> None:
    """Tracks on a frame, areas and volumes, dead vs max volume, a frame montage.

    ``montage``: (frames in memory, their positions, row labels) from the detection
    pass; without it the montage's frames are read from ``movie``.
    """
    from platescope import report

    t = np.asarray(movie["t"].values, float)
    show = int(np.argmax(tracks.groupby("frame").size().reindex(range(t.size), fill_value=0)))
    if steps is not None and len(steps[steps["step"] == "plating"]):
        first_plate_end = float(steps[steps["step"] == "plating"]["t_end_s"].iloc[0])
        show = int(np.clip(np.searchsorted(t, first_plate_end), 0, t.size - 1))
    out.figure(
        "deposit_tracks",
        report.fig_deposit_tracks(movie, tracks, frame=show, per_deposit=per_dep),
        title="Deposit tracks",
        caption="One frame with every track's trajectory, its equivalent-circle outline in "
        "that frame and its id; vermilion: deposits that turned dead; ×: a deposit that "
        "merged into a neighbour (its last position).",
    )
    out.figure(
        "deposit_volumes",
        report.fig_deposit_volumes(ts, per_deposit=per_dep, steps=steps),
        title="Deposit area and effective volume",
        caption=f"Projected area and effective volume ({p['shape']}) of every tracked deposit; "
        "stripping steps shaded; deposits that turned dead in vermilion, with their dead "
        "volume at the end of the step.",
    )
    if per_dep is not None:
        out.figure(
            "dead_vs_max",
            report.fig_dead_vs_max(per_dep, by_cycle),
            title="Dead vs maximum effective volume",
            caption="Each deposit that turned dead: its dead effective volume against its "
            "largest in the cycle (error bars k = 2), with the least-squares line of each "
            "cycle (slope ± k = 2); the slope is the fraction of the maximum volume left dead.",
        )
    if len(tracks):
        out.figure(
            "deposit_lineage",
            report.fig_deposit_lineage(tracks, per_deposit=per_dep, steps=steps),
            title="Deposit lineage",
            caption="Tracks of the deposit families that split or merged, against time "
            "(one row per track, families together; vermilion: turned dead); sky blue: a "
            "part breaking off its parent, orange: a deposit absorbed by its neighbour; "
            "stripping steps shaded. All calls are in tables/track_graph.csv and the "
            "TrackMate-style tables/trackmate_spots.csv + trackmate_edges.csv, and as a geff "
            "graph in tables/tracks.geff.",
        )
    if montage is not None:
        shown, frames, labels = montage
    else:
        shown = movie
        frames, labels = _montage_selection(t, steps)
    out.figure(
        "deposit_montage",
        report.fig_deposit_montage(shown, frames, labels=labels, ncols=4),
        title="Frame montage",
        caption="Frames at the end of each plating step and at mid and end of each "
        "stripping step, on one grey scale.",
    )


def _headline(summary) -> None:
    d = summary["deposits"]
    if summary.get("dead_li"):
        last = summary["dead_li"][0]
        s = last.get("slope")
        summary["headline"] = (
            f"{d['n_tracks']} deposits tracked, {d['n_merges']} merges; cycle 1: "
            f"{last['n_dead']}/{last['n_deposits']} dead"
            + (f", dead/max slope {s:.2f}" if s is not None and np.isfinite(s) else "")
        )
    else:
        summary["headline"] = f"{d['n_tracks']} deposits tracked, {d['n_merges']} merges"


def run(exp, out, summary: dict) -> None:
    """Compose the scenario's steps; fill ``summary`` and ``out`` (a StagedOutput)."""
    skipped = summary["skipped"]
    params = summary["parameters"]
    # every override is checked before any work, so a typo fails fast
    p = params.setdefault("deposits", _params(exp, "deposits"))
    pd_ = params.setdefault("dead_li", _params(exp, "dead_li"))
    echem, steps = _echem_step(exp, out, summary)
    if not exp.movie:
        skipped.append({"analysis": "deposits", "reason": "no [movie] input"})
        skipped.append({"analysis": "dead_li", "reason": "no [movie] input"})
        summary["headline"] = "no movie: cycling charges only"
        return

    movie, tracks, ts, montage = _deposits_step(exp, echem, p, out, summary, steps)
    per_dep, by_cycle = _dead_li_step(echem, steps, ts, pd_, out, summary)
    _figures_step(movie, tracks, ts, steps, per_dep, by_cycle, p, out, montage)
    _headline(summary)


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="dendrite-cycling",
    title="Top-view optical cycling movie: deposits tracked, merged, dead Li per cycle",
    run=run,
    inputs=("echem", "movie"),
    analyses={
        **DEFAULTS,
        "cycles": CYCLES_DEFAULTS,
        "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS,
        "registration": DENDRITE_REGISTRATION,
    },
    simulator="platescope.simulate._dendrite_cycling:dendrite_cycling",
)
