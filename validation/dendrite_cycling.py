"""Recovery of planted truth for the dendrite-cycling scenario, across seeds and noise.

Runs the public contract end to end — ``simulate`` writes real-format files and the
truth, ``analyze`` reads the files — and compares the tracks, dead-Li calls and
effective volumes (``tables/*.csv``, ``summary.json``) with ``truth/``.

Matching rule (the truth of a detection): the largest planted object whose centroid
lies within the detection's equivalent circle (radius √(A/π) + 1 µm) in the same
frame; none → spurious. A *link* (two successive detections of one track) is correct
when both ends match the same planted object (a merged pair is one object and carries
the id of its larger member, the survivor). A track's object is the one most of its
detections match. Dead-Li calls are compared per (cycle, object).

Usage::

    python validation/dendrite_cycling.py --seeds 20 --noise 1 2 --out /tmp/val

or, one noise level per process, then the aggregate::

    python validation/dendrite_cycling.py --noise 1 --out /tmp/v1 --save-rows /tmp/r1.csv
    python validation/dendrite_cycling.py --noise 2 --out /tmp/v2 --save-rows /tmp/r2.csv
    python validation/dendrite_cycling.py --from-csv /tmp/r1.csv /tmp/r2.csv

Writes ``validation/results/dendrite_cycling.csv`` (one row per seed and noise level),
``dendrite_cycling.json`` (aggregates) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope.testing import load_pair


def match_detections(det: pd.DataFrame, truth_frames: pd.DataFrame) -> np.ndarray:
    """Planted object id of every detection (−1 when none), by the rule above."""
    objs = truth_frames.drop_duplicates(["frame", "object"])
    by_frame = {f: g for f, g in objs.groupby("frame")}
    out = np.full(len(det), -1, dtype=np.int64)
    fr = det["frame"].to_numpy(int)
    y, x = det["y_um"].to_numpy(float), det["x_um"].to_numpy(float)
    r = np.sqrt(det["area_um2"].to_numpy(float) / np.pi) + 1.0
    for i in range(len(det)):
        g = by_frame.get(fr[i])
        if g is None:
            continue
        d = np.hypot(g["object_y_um"].to_numpy() - y[i], g["object_x_um"].to_numpy() - x[i])
        inside = d <= r[i]
        if inside.any():
            areas = np.where(inside, g["object_area_um2"].to_numpy(), -1.0)
            out[i] = int(g["object"].to_numpy()[int(np.argmax(areas))])
    return out


def link_accuracy(tracks: pd.DataFrame, truth_ids: np.ndarray) -> dict:
    """Correct / total links among matched detections (tracks sorted by track, frame)."""
    tr = tracks.assign(_obj=truth_ids).sort_values(["track", "frame"])
    same_track = tr["track"].to_numpy()[1:] == tr["track"].to_numpy()[:-1]
    a, b = tr["_obj"].to_numpy()[:-1], tr["_obj"].to_numpy()[1:]
    both = same_track & (a >= 0) & (b >= 0)
    correct = both & (a == b)
    return {
        "n_links": int(both.sum()),
        "n_correct": int(correct.sum()),
        "link_accuracy": float(correct.sum() / both.sum()) if both.any() else float("nan"),
        "n_unmatched_detections": int((truth_ids < 0).sum()),
    }


def track_objects(tracks: pd.DataFrame, truth_ids: np.ndarray) -> dict[int, int]:
    """Majority planted object of each track."""
    tr = tracks.assign(_obj=truth_ids)
    tr = tr[tr["_obj"] >= 0]
    return {int(k): int(g.mode().iloc[0]) for k, g in tr.groupby("track")["_obj"]}


def dead_scores(per_deposit: pd.DataFrame, truth_cycles: pd.DataFrame, t2o: dict) -> dict:
    """Precision and recall of the dead calls per (cycle, planted object)."""
    pred = per_deposit[per_deposit["status"] == "dead"]
    pred_keys = {
        (int(c), t2o.get(int(t), -1)) for c, t in zip(pred["cycle"], pred["track"], strict=True)
    }
    tdead = truth_cycles[truth_cycles["dead"].astype(bool)]
    true_keys = {(int(c), int(o)) for c, o in zip(tdead["cycle"], tdead["object"], strict=True)}
    tp = len(pred_keys & true_keys)
    return {
        "n_dead_true": len(true_keys),
        "n_dead_found": len(pred_keys),
        "dead_tp": tp,
        "dead_precision": tp / len(pred_keys) if pred_keys else float("nan"),
        "dead_recall": tp / len(true_keys) if true_keys else float("nan"),
    }


def volume_errors(tracks: pd.DataFrame, truth_ids: np.ndarray, truth_frames: pd.DataFrame) -> dict:
    """Relative effective-volume error of matched detections (hemisphere model)."""
    objs = truth_frames.drop_duplicates(["frame", "object"]).set_index(["frame", "object"])
    keep = truth_ids >= 0
    idx = pd.MultiIndex.from_arrays([tracks["frame"].to_numpy()[keep], truth_ids[keep]])
    v_true = objs["object_volume_um3"].reindex(idx).to_numpy(float)
    a = tracks["area_um2"].to_numpy(float)[keep]
    v_meas = 2.0 / 3.0 * np.pi * (a / np.pi) ** 1.5
    big = v_true >= 20.0  # deposits of r ≥ 2.1 µm
    rel = v_meas[big] / v_true[big] - 1.0
    return {
        "vol_rel_err_median": float(np.median(rel)),
        "vol_rel_err_mad": float(np.median(np.abs(rel - np.median(rel)))),
        "vol_rel_err_p95_abs": float(np.percentile(np.abs(rel), 95)),
    }


def compare(sim_dir: Path, res_dir: Path) -> dict:
    """Errors of one analysed simulation against its truth."""
    truth, got = load_pair(sim_dir, res_dir)
    tf = pd.read_csv(sim_dir / "truth" / "deposits_frames.csv")
    tc = pd.read_csv(sim_dir / "truth" / "deposits_cycles.csv")
    tracks = pd.read_csv(res_dir / "tables" / "deposit_tracks.csv")
    per_dep = pd.read_csv(res_dir / "tables" / "dead_li_deposits.csv")
    ids = match_detections(tracks, tf)
    row = link_accuracy(tracks, ids)
    t2o = track_objects(tracks, ids)
    row.update(dead_scores(per_dep, tc, t2o))
    row.update(volume_errors(tracks, ids, tf))
    row["n_merges_true"] = truth["deposits"]["n_merges"]
    row["n_merges_found"] = got["deposits"]["n_merges"]
    row["n_tracks"] = got["deposits"]["n_tracks"]
    row["n_objects_true"] = truth["deposits"]["n_objects"]
    for tcyc, gcyc in zip(truth["dead_li"], got["dead_li"], strict=False):
        c = tcyc["cycle"]
        if tcyc.get("slope") is not None and gcyc.get("slope") is not None:
            row[f"slope_err_c{c}"] = gcyc["slope"] - tcyc["slope"]
            row[f"slope_unc_c{c}"] = gcyc["slope_err"]
    return row


def run(n_seeds: int, noise_levels, out: Path, **overrides) -> pd.DataFrame:
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
                overrides={"noise_scale": noise, **overrides},
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
        tp = g["dead_tp"].sum()
        out[f"noise_{noise:g}"] = {
            "n_seeds": int(len(g)),
            "link_accuracy_pooled": float(g["n_correct"].sum() / g["n_links"].sum()),
            "link_accuracy_min": float(g["link_accuracy"].min()),
            "dead_precision_pooled": float(tp / g["n_dead_found"].sum()),
            "dead_recall_pooled": float(tp / g["n_dead_true"].sum()),
            "dead_precision_min": float(g["dead_precision"].min()),
            "dead_recall_min": float(g["dead_recall"].min()),
            "vol_rel_err_median": float(g["vol_rel_err_median"].median()),
            "vol_rel_err_p95_abs_max": float(g["vol_rel_err_p95_abs"].max()),
            "merges_found_over_true": float(
                g["n_merges_found"].sum() / max(g["n_merges_true"].sum(), 1)
            ),
            "simulate_s_median": float(g["simulate_s"].median()),
            "analyze_s_median": float(g["analyze_s"].median()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--from-csv",
        type=Path,
        nargs="+",
        default=None,
        help="aggregate per-run rows saved earlier (e.g. noise levels run in parallel)",
    )
    ap.add_argument("--save-rows", type=Path, default=None, help="write the rows here only")
    args = ap.parse_args()
    if args.from_csv:
        df = pd.concat([pd.read_csv(p) for p in args.from_csv], ignore_index=True)
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="val_dendrite_"))
        df = run(args.seeds, args.noise, out)
        if args.save_rows:
            df.to_csv(args.save_rows, index=False)
            return
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "dendrite_cycling.csv", index=False)
    agg = aggregate(df)
    (res / "dendrite_cycling.json").write_text(json.dumps(agg, indent=2) + "\n")
    cols = list(next(iter(agg.values())))
    lines = ["| noise | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for k, v in agg.items():
        lines.append(f"| {k} | " + " | ".join(f"{v[c]:.4g}" for c in cols) + " |")
    text = "\n".join(lines)
    (res / "dendrite_cycling.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
