"""Which linker for splits and merges: trackpy + platescope's rules vs laptrack's LAP.

The choice of ``platescope.particles.track_deposits`` (trackpy linking, then the
area-conserving merge and split rules) over laptrack (LAP linking with gap closing and
split/merge costs) is made here by measurement: the same detections (one
``detect_deposits`` run per simulated movie of ``dendrite-cycling`` with planted
breaking whiskers and merging pairs) are linked by both, and the events each reports are
scored against the planted ones with the rules of ``validation/dendrite_splits.py``
(a split is right when its tracks are the planted whisker's two halves and it is within
2 frames of the break; a merge when its tracks are the planted pair). laptrack is not a
platescope dependency; install it to run this (``pip install laptrack``).

Usage::

    python validation/split_linkers.py --seeds 4 --noise 1 2

Writes ``validation/results/split_linkers.{csv,md}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_dendrite_cycling", Path(__file__).parent / "dendrite_cycling.py"
)
base = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(base)


def _movie(sim) -> xr.DataArray:
    px, n = sim["pixel_size_um"], sim["movie"].shape[1]
    return xr.DataArray(
        sim["movie"],
        dims=("t", "y", "x"),
        coords={
            "t": sim["frame_times_s"] - sim["offset_s"],
            "y": np.arange(n) * px,
            "x": np.arange(n) * px,
        },
    )


def _object_until(tracks, ids, track, frame) -> int:
    sel = (tracks["track"].to_numpy() == track) & (tracks["frame"].to_numpy() <= frame)
    v = ids[sel]
    v = v[v >= 0]
    return int(pd.Series(v).mode().iloc[0]) if v.size else -1


def _score(splits, merges, tracks, sim) -> dict:
    """splits: [(frame of the parts, track a, track b)]; merges: [(last frame before the
    merge, track a, track b)]; merge tracks are identified by their detections up to it
    (the rule of validation/dendrite_splits.py)."""
    ids = base.match_detections(tracks, sim["frames"])
    t2o = base.track_objects(tracks, ids)
    ps, pm = sim["splits"], sim["merges"]
    used, ok_s = set(), 0
    for f, a, b in splits:
        pair = {t2o.get(a, -1), t2o.get(b, -2)}
        for k, t in ps.iterrows():
            if k not in used and pair == {t["live_object"], t["dead_object"]}:
                if abs(f - int(t["frame"])) <= 2:
                    used.add(k)
                    ok_s += 1
                    break
    used, ok_m = set(), 0
    for f, a, b in merges:
        pair = {_object_until(tracks, ids, a, f), _object_until(tracks, ids, b, f)}
        for k, t in pm.iterrows():
            if k not in used and pair == {t["deposit"], t["into_deposit"]}:
                used.add(k)
                ok_m += 1
                break
    return {
        "splits_true": len(ps),
        "splits_found": len(splits),
        "splits_correct": ok_s,
        "merges_true": len(pm),
        "merges_found": len(merges),
        "merges_correct": ok_m,
    }


def run_platescope(det, sim, search_range_um=3.0) -> dict:
    from platescope.particles import lineage_events, track_deposits

    t0 = time.perf_counter()
    tr = track_deposits(det, search_range_um=search_range_um, memory=2)
    dt = time.perf_counter() - t0
    ev = lineage_events(tr)
    sp = [
        (int(e.frame), int(e.parent_track), int(e.child_track))
        for e in ev.itertuples()
        if e.event == "split"
    ]
    mg = [
        (int(e.frame), int(e.parent_track), int(e.child_track))
        for e in ev.itertuples()
        if e.event == "merge"
    ]
    return {"link_s": dt, **_score(sp, mg, tr, sim)}


def run_laptrack(det, sim, search_range_um=3.0, event_range_um=8.0) -> dict:
    from laptrack import LapTrack

    lt = LapTrack(
        cutoff=search_range_um**2,
        gap_closing_cutoff=search_range_um**2,
        gap_closing_max_frame_count=2,
        splitting_cutoff=event_range_um**2,
        merging_cutoff=event_range_um**2,
    )
    df = det[["frame", "y_um", "x_um"]].copy()
    t0 = time.perf_counter()
    track_df, split_df, merge_df = lt.predict_dataframe(
        df, ["y_um", "x_um"], only_coordinate_cols=False
    )
    dt = time.perf_counter() - t0
    track_df = track_df.reset_index(drop=True)
    tr = det.reset_index(drop=True).assign(track=track_df["track_id"].to_numpy())
    first = tr.groupby("track")["frame"].min()
    sp = []
    for _, g in split_df.groupby("parent_track_id") if len(split_df) else ():
        kids = g["child_track_id"].astype(int).tolist()
        # laptrack ends the parent and starts every part as a new track; score the two
        # largest parts as the halves
        kids = sorted(kids, key=lambda k: -tr.loc[tr["track"] == k, "area_um2"].iloc[0])[:2]
        if len(kids) == 2:
            sp.append((int(first[kids[0]]), kids[0], kids[1]))
    last = tr.groupby("track")["frame"].max()
    mg = []
    for _, g in merge_df.groupby("child_track_id") if len(merge_df) else ():
        par = g["parent_track_id"].astype(int).tolist()
        if len(par) >= 2:
            mg.append((int(last[par[0]]), par[0], par[1]))
    return {"link_s": dt, **_score(sp, mg, tr, sim)}


def main() -> None:
    from platescope.particles import detect_deposits
    from platescope.simulate import make_dendrite_cycling

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    args = ap.parse_args()
    rows = []
    for noise in args.noise:
        for seed in range(args.seeds):
            sim = make_dendrite_cycling(seed=seed, n_splitting_deposits=4, noise_scale=noise)
            det = detect_deposits(_movie(sim))
            for name, fn in (("platescope", run_platescope), ("laptrack", run_laptrack)):
                rows.append({"linker": name, "noise_scale": noise, "seed": seed, **fn(det, sim)})
    df = pd.DataFrame(rows)
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "split_linkers.csv", index=False)
    lines = [
        "| linker | noise | splits found/true (correct) | merges found/true (correct) | event precision | event recall | link time median (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, noise), g in df.groupby(["linker", "noise_scale"], sort=False):
        s = g.sum(numeric_only=True)
        found = s["splits_found"] + s["merges_found"]
        ok = s["splits_correct"] + s["merges_correct"]
        true = s["splits_true"] + s["merges_true"]
        lines.append(
            f"| {name} | {noise:g} | {int(s['splits_found'])}/{int(s['splits_true'])} "
            f"({int(s['splits_correct'])}) | {int(s['merges_found'])}/{int(s['merges_true'])} "
            f"({int(s['merges_correct'])}) | {ok / max(found, 1):.3f} | {ok / max(true, 1):.3f} | "
            f"{g['link_s'].median():.3f} |"
        )
    text = "\n".join(lines)
    (res / "split_linkers.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
