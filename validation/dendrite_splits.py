"""Splits and merges found, and dead Li with splitting deposits (dendrite-cycling).

End to end through the public contract, like ``validation/dendrite_cycling.py`` (whose
matching rules are reused): ``simulate`` with ``n_splitting_deposits`` whiskers that
break in a stripping step (one half goes dead) besides the merging pairs, ``analyze``
reads the files, and the events and dead-Li calls are compared with ``truth/``.

Event rules. Every track is given the planted object most of its detections match
(``track_objects``). A found split (``tables/splits.csv``: part ← parent track) is
correct when its two tracks are the planted whisker's two halves and it is within 2
frames of the planted break; a found merge (``tables/merges.csv``) is correct when its
two tracks, each taken by the planted object most of its detections up to the merge
frame match, are the planted pair (merges are seen a few frames before the drawn disks
touch, because the blurred outlines join first, so no frame window is imposed, and the
member larger when the outlines join — the survivor — may be the smaller one at contact). Each
planted event is matched once. Dead Li: per (cycle, planted object), as in
``dendrite_cycling.py``. Family dead fraction: the analysis family holding the
parent's track (``tables/dead_li_families.csv``) against ``truth/families.csv``.

Usage::

    python validation/dendrite_splits.py --seeds 5 --noise 1 2 --out /tmp/vs

Writes ``validation/results/dendrite_splits.{csv,json,md}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_dendrite_cycling", Path(__file__).parent / "dendrite_cycling.py"
)
base = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(base)


def _object_until(tracks: pd.DataFrame, ids: np.ndarray, track: int, frame: int) -> int:
    """Planted object most detections of ``track`` up to ``frame`` match (−1: none)."""
    sel = (tracks["track"].to_numpy() == track) & (tracks["frame"].to_numpy() <= frame)
    v = ids[sel]
    v = v[v >= 0]
    return int(pd.Series(v).mode().iloc[0]) if v.size else -1


def event_scores(sim_dir: Path, res_dir: Path, t2o: dict[int, int], tracks=None, ids=None) -> dict:
    """Found vs planted splits and merges (rules above)."""
    ps = pd.read_csv(sim_dir / "truth" / "splits.csv")
    pm = pd.read_csv(sim_dir / "truth" / "merges.csv")
    fs = pd.read_csv(res_dir / "tables" / "splits.csv")
    fm = pd.read_csv(res_dir / "tables" / "merges.csv")
    used_s: set[int] = set()
    ok_s = 0
    lag = []
    for _, e in fs.iterrows():
        pair = {t2o.get(int(e["track"]), -1), t2o.get(int(e["from_track"]), -2)}
        for k, t in ps.iterrows():
            if k in used_s or pair != {int(t["live_object"]), int(t["dead_object"])}:
                continue
            if abs(int(e["frame"]) - int(t["frame"])) <= 2:
                used_s.add(k)
                ok_s += 1
                lag.append(int(e["frame"]) - int(t["frame"]))
                break
    used_m: set[int] = set()
    ok_m = 0
    for _, e in fm.iterrows():
        if tracks is not None:
            f = int(e["frame"])
            pair = {
                _object_until(tracks, ids, int(e["track"]), f),
                _object_until(tracks, ids, int(e["into_track"]), f),
            }
        else:
            pair = {t2o.get(int(e["track"]), -1), t2o.get(int(e["into_track"]), -2)}
        for k, t in pm.iterrows():
            if k not in used_m and pair == {int(t["deposit"]), int(t["into_deposit"])}:
                used_m.add(k)
                ok_m += 1
                break
    return {
        "splits_true": len(ps),
        "splits_found": len(fs),
        "splits_correct": ok_s,
        "split_frame_lag_max": int(np.max(np.abs(lag))) if lag else 0,
        "merges_true": len(pm),
        "merges_found": len(fm),
        "merges_correct": ok_m,
    }


def family_errors(sim_dir: Path, res_dir: Path, tracks: pd.DataFrame, ids: np.ndarray) -> dict:
    """Family dead fraction found − planted, per planted breaking whisker."""
    tf = pd.read_csv(sim_dir / "truth" / "families.csv")
    found = pd.read_csv(res_dir / "tables" / "dead_li_families.csv")
    errs = []
    tr = tracks.assign(_obj=ids)
    for _, f in tf.iterrows():
        members = [int(m) for m in str(f["members"]).split()]
        own = tr[tr["_obj"].isin(members)]
        if own.empty:
            continue
        fam_tracks = set(own["track"].astype(int))
        rows = found[found["cycle"] == int(f["cycle"])]
        member_sets = rows["tracks"].astype(str).str.split()
        hit = rows[[bool(fam_tracks & {int(x) for x in m}) for m in member_sets]]
        if len(hit):
            errs.append(float(hit["dead_fraction"].iloc[0]) - float(f["dead_fraction"]))
    return {
        "family_n": len(tf),
        "family_compared": len(errs),
        "family_dead_fraction_err_median": float(np.median(errs)) if errs else float("nan"),
        "family_dead_fraction_err_max_abs": float(np.max(np.abs(errs))) if errs else float("nan"),
    }


def compare(sim_dir: Path, res_dir: Path) -> dict:
    tfr = pd.read_csv(sim_dir / "truth" / "deposits_frames.csv")
    tc = pd.read_csv(sim_dir / "truth" / "deposits_cycles.csv")
    tracks = pd.read_csv(res_dir / "tables" / "deposit_tracks.csv")
    per_dep = pd.read_csv(res_dir / "tables" / "dead_li_deposits.csv")
    ids = base.match_detections(tracks, tfr)
    t2o = base.track_objects(tracks, ids)
    row = base.link_accuracy(tracks, ids)
    row.update(event_scores(sim_dir, res_dir, t2o, tracks, ids))
    row.update(base.dead_scores(per_dep, tc, t2o))
    row.update(family_errors(sim_dir, res_dir, tracks, ids))
    return row


def run(n_seeds: int, noise_levels, out: Path, n_splits: int = 4, **overrides) -> pd.DataFrame:
    from platescope.pipeline import analyze
    from platescope.simulate import simulate

    rows = []
    for noise in noise_levels:
        for seed in range(n_seeds):
            sim_dir = out / f"n{noise:g}_s{seed}" / "input"
            res_dir = out / f"n{noise:g}_s{seed}" / "results"
            t0 = time.perf_counter()
            exp = simulate(
                "dendrite-cycling",
                sim_dir,
                seed=seed,
                overrides={"noise_scale": noise, "n_splitting_deposits": n_splits, **overrides},
            )
            t1 = time.perf_counter()
            analyze(exp, res_dir)
            t2 = time.perf_counter()
            row = {"noise_scale": noise, "seed": seed, "simulate_s": t1 - t0, "analyze_s": t2 - t1}
            row.update(compare(sim_dir, res_dir))
            rows.append(row)
    return pd.DataFrame(rows)


def aggregate(df: pd.DataFrame) -> dict:
    out = {}
    for noise, g in df.groupby("noise_scale"):
        ev_true = g["splits_true"].sum() + g["merges_true"].sum()
        ev_found = g["splits_found"].sum() + g["merges_found"].sum()
        ev_ok = g["splits_correct"].sum() + g["merges_correct"].sum()
        tp = g["dead_tp"].sum()
        out[f"noise_{noise:g}"] = {
            "n_seeds": int(len(g)),
            "events_true": int(ev_true),
            "event_recall": float(ev_ok / ev_true) if ev_true else float("nan"),
            "event_precision": float(ev_ok / ev_found) if ev_found else float("nan"),
            "split_recall": float(g["splits_correct"].sum() / max(g["splits_true"].sum(), 1)),
            "split_precision": float(g["splits_correct"].sum() / max(g["splits_found"].sum(), 1)),
            "merge_recall": float(g["merges_correct"].sum() / max(g["merges_true"].sum(), 1)),
            "merge_precision": float(g["merges_correct"].sum() / max(g["merges_found"].sum(), 1)),
            "link_accuracy_pooled": float(g["n_correct"].sum() / g["n_links"].sum()),
            "dead_precision_pooled": float(tp / g["n_dead_found"].sum()),
            "dead_recall_pooled": float(tp / g["n_dead_true"].sum()),
            "dead_precision_min": float(g["dead_precision"].min()),
            "dead_recall_min": float(g["dead_recall"].min()),
            "family_dead_fraction_err_median": float(g["family_dead_fraction_err_median"].median()),
            "family_dead_fraction_err_max_abs": float(g["family_dead_fraction_err_max_abs"].max()),
            "analyze_s_median": float(g["analyze_s"].median()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--splits", type=int, default=4, help="n_splitting_deposits")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--rescore", type=Path, default=None, help="score the runs kept in an earlier --out"
    )
    args = ap.parse_args()
    if args.rescore:
        old = pd.read_csv(Path(__file__).parent / "results" / "dendrite_splits.csv")
        rows = []
        for _, r in old.iterrows():
            d = args.rescore / f"n{r['noise_scale']:g}_s{int(r['seed'])}"
            rows.append({**r.to_dict(), **compare(d / "input", d / "results")})
        df = pd.DataFrame(rows)
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="val_splits_"))
        df = run(args.seeds, args.noise, out, n_splits=args.splits)
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "dendrite_splits.csv", index=False)
    agg = aggregate(df)
    (res / "dendrite_splits.json").write_text(json.dumps(agg, indent=2) + "\n")
    cols = list(next(iter(agg.values())))
    lines = ["| noise | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for k, v in agg.items():
        lines.append(f"| {k} | " + " | ".join(f"{v[c]:.4g}" for c in cols) + " |")
    text = "\n".join(lines)
    (res / "dendrite_splits.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
