"""Recovery of planted particles in the sem-particles scenario, across seeds and noise.

Runs the public contract end to end — ``simulate`` writes FEI TIFFs and the truth,
``analyze`` reads them — and compares, per image (current density):

- per particle: detections (``tables/particles_<condition>.csv``) matched one-to-one to
  planted particles (``truth/particles_<condition>.csv``) when the centroid lies within
  the planted radius (Hungarian assignment) → recall (matched / planted), precision
  (matched / detected), recall among particles planted in touching pairs, and the
  equivalent-diameter bias of the matched particles (mean of d/d_true − 1);
- per image: count, density, mean diameter and faradaic efficiency against the truth.

The general engine (``segment_particles`` + ``measure_particles``: Gaussian σ = 6 nm,
background over 2 µm, Otsu, watershed, the analysis' footprint as ROI) is scored on the
same images beside the SEM recipe (``detect_particles``, what ``analyze`` runs), on
the first ``--engine-seeds`` seeds. The first ``--full-seeds`` seeds go through the
whole ``analyze`` (figures and report too); the others through the scenario's own
per-image analysis on the same files, without figures.

Usage::

    python validation/sem_particles.py --seeds 20 --noise 1 2

Writes ``validation/results/sem_particles.csv`` (one row per image and noise level),
``sem_particles.json`` (the summary) and ``sem_particles.md`` (the table in
docs/particles.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from platescope.io import read_experiment, read_sem
from platescope.particles import footprint_from_sem, measure_particles, segment_particles
from platescope.pipeline import analyze
from platescope.simulate import simulate
from platescope.testing import load_truth

HERE = Path(__file__).resolve().parent


def match(truth: pd.DataFrame, det: pd.DataFrame) -> np.ndarray:
    """Index of the detection matched to each planted particle (−1: missed)."""
    m = np.full(len(truth), -1)
    if not len(truth) or not len(det):
        return m
    t = truth[["y_um", "x_um"]].to_numpy(float)
    d = det[["y_um", "x_um"]].to_numpy(float)
    dist = np.hypot(t[:, None, 0] - d[None, :, 0], t[:, None, 1] - d[None, :, 1])
    rad = truth["diameter_nm"].to_numpy(float)[:, None] / 2000.0
    cost = np.where(dist <= rad, dist, 1e6)
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] < 1e6
    m[r[ok]] = c[ok]
    return m


def score(truth: pd.DataFrame, det: pd.DataFrame, diam_col: str, scale: float) -> dict:
    m = match(truth, det)
    hit = m >= 0
    paired = truth["paired"].to_numpy(bool)
    d_true = truth["diameter_nm"].to_numpy(float)[hit]
    d_det = det[diam_col].to_numpy(float)[m[hit]] * scale
    return {
        "n_planted": len(truth),
        "n_detected": len(det),
        "recall": hit.mean() if len(truth) else np.nan,
        "precision": hit.sum() / len(det) if len(det) else np.nan,
        "recall_paired": hit[paired].mean() if paired.any() else np.nan,
        "recall_single": hit[~paired].mean() if (~paired).any() else np.nan,
        "diameter_bias": float(np.mean(d_det / d_true - 1.0)) if hit.any() else np.nan,
    }


def _analyse(exp_path: Path, res_dir: Path, full: bool):
    """``analyze`` (full: files, figures, report) or its per-image analysis only.

    The per-image path runs the scenario runners' shared ``analyse_sem_image`` on the images
    read from the simulated files, without figures and report (≈3× faster).
    """
    if full:
        summary = analyze(exp_path, res_dir)
        rows = summary["particles_by_condition"]
        return rows, [
            pd.read_csv(res_dir / "tables" / f"particles_{r['condition']}.csv") for r in rows
        ]
    from platescope.pipeline._sem_common import analyse_sem_image, sem_params
    from platescope.pipeline._sem_particles import DEFAULTS

    exp = read_experiment(exp_path)
    p = sem_params(exp, DEFAULTS["sem"])
    rows, tables = [], []
    for e in exp.sem_images:
        res = analyse_sem_image(read_sem(e["path"]), p, e.get("charge_C"))
        rows.append(res["summary"])
        tables.append(res["table"])
    return rows, tables


def _engine(entry: dict, fp: dict, planted: pd.DataFrame) -> dict:
    """The general engine on the same image, with the analysis' footprint as ROI."""
    image = read_sem(entry["path"])
    px_um = image.attrs["pixel_size_nm"] / 1000.0
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    t1 = time.perf_counter()
    lab = segment_particles(
        image,
        spacing=px_um,
        sigma_um=0.006,
        method="otsu",
        local_block_um=2.0,
        fill_holes=True,
        min_area_um2=300e-6,
        max_area_um2=0.1,
        exclude_border=True,
        roi=mask.values,
    )
    tab = measure_particles(lab, image, spacing=px_um)
    out = {"engine_seconds": time.perf_counter() - t1}
    out.update(
        {f"engine_{k}": v for k, v in score(planted, tab, "equivalent_diameter_um", 1000.0).items()}
    )
    return out


def run_one(seed: int, noise: float, work: Path, *, full: bool, engine: bool) -> list[dict]:
    sim_dir = work / f"s{seed}_n{noise:g}" / "input"
    res_dir = sim_dir.parent / "results"
    exp_path = simulate("sem-particles", sim_dir, seed=seed, overrides={"noise_scale": noise})
    t0 = time.perf_counter()
    got_rows, det_tables = _analyse(exp_path, res_dir, full)
    t_an = time.perf_counter() - t0
    truth = load_truth(sim_dir)
    exp = read_experiment(exp_path)
    rows = []
    for got, want, entry, det in zip(
        got_rows, truth["particles_by_condition"], exp.sem_images, det_tables, strict=True
    ):
        cond = want["condition"]
        planted = pd.read_csv(sim_dir / "truth" / f"particles_{cond}.csv")
        row = {
            "seed": seed,
            "noise": noise,
            "condition": cond,
            "j_mA_cm2": want["current_density_mA_cm2"],
            "through_analyze": full,
            "analyze_seconds_per_image": t_an / len(exp.sem_images),
        }
        row.update({f"recipe_{k}": v for k, v in score(planted, det, "diameter_nm", 1.0).items()})
        row["count_rel_err"] = got["count"] / want["count"] - 1
        row["density_rel_err"] = got["density_cm2"] / want["density_cm2"] - 1
        row["mean_diameter_rel_err"] = got["mean_diameter_nm"] / want["mean_diameter_nm"] - 1
        row["fe_rel_err"] = got["faradaic_efficiency"] / want["faradaic_efficiency"] - 1
        row["edge_density_rel_err"] = got["edge"]["density_cm2"] / want["edge"]["density_cm2"] - 1
        row["center_density_rel_err"] = (
            got["center"]["density_cm2"] / want["center"]["density_cm2"] - 1
        )
        fp = got["footprint"]
        tf = want["footprint"]
        row["footprint_centre_err_um"] = float(
            np.hypot(fp["center_x_um"] - tf["centre_x_um"], fp["center_y_um"] - tf["centre_y_um"])
        )
        row["footprint_radius_err_um"] = fp["radius_um"] - tf["radius_um"]
        if engine:
            row.update(_engine(entry, fp, planted))
        rows.append(row)
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (noise, cond), g in df.groupby(["noise", "condition"], sort=True):
        out.append(
            {
                "noise": noise,
                "condition": cond,
                "images": len(g),
                "recall_min": g.recipe_recall.min(),
                "recall_mean": g.recipe_recall.mean(),
                "precision_min": g.recipe_precision.min(),
                "recall_paired_mean": g.recipe_recall_paired.mean(),
                "diameter_bias_mean": g.recipe_diameter_bias.mean(),
                "diameter_bias_maxabs": g.recipe_diameter_bias.abs().max(),
                "count_err_maxabs": g.count_rel_err.abs().max(),
                "mean_diameter_err_maxabs": g.mean_diameter_rel_err.abs().max(),
                "fe_err_maxabs": g.fe_rel_err.abs().max(),
                "edge_density_err_maxabs": g.edge_density_rel_err.abs().max(),
                "footprint_centre_err_max_um": g.footprint_centre_err_um.max(),
                "engine_images": int(g.engine_recall.notna().sum()),
                "engine_recall_mean": g.engine_recall.mean(),
                "engine_precision_min": g.engine_precision.min(),
                "engine_diameter_bias_mean": g.engine_diameter_bias.mean(),
            }
        )
    return pd.DataFrame(out)


def markdown(s: pd.DataFrame) -> str:
    head = (
        "| noise | j | images | recall min / mean | precision min | recall in touching pairs "
        "(mean) | d bias mean (max abs) | count err max | mean-d err max | FE err max | "
        "footprint centre err max (nm) | engine (images): recall / precision min / d bias |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in s.itertuples():
        lines.append(
            f"| ×{r.noise:g} | {r.condition} | {r.images} | {r.recall_min:.3f} / {r.recall_mean:.3f} "
            f"| {r.precision_min:.3f} | {r.recall_paired_mean:.3f} | "
            f"{100 * r.diameter_bias_mean:+.1f} % ({100 * r.diameter_bias_maxabs:.1f} %) | "
            f"{100 * r.count_err_maxabs:.1f} % | {100 * r.mean_diameter_err_maxabs:.1f} % | "
            f"{100 * r.fe_err_maxabs:.1f} % | {1000 * r.footprint_centre_err_max_um:.0f} | "
            f"({r.engine_images}) {r.engine_recall_mean:.3f} / {r.engine_precision_min:.3f} / "
            f"{100 * r.engine_diameter_bias_mean:+.1f} % |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument(
        "--first-seed", type=int, default=0, help="seeds first-seed … first-seed+seeds−1"
    )
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--out", type=Path, default=None, help="work folder (default: a temp dir)")
    ap.add_argument(
        "--full-seeds",
        type=int,
        default=2,
        help="seeds run through the whole `analyze` (figures, report); the others run the "
        "same per-image analysis without figures",
    )
    ap.add_argument("--engine-seeds", type=int, default=5, help="seeds that also score the engine")
    args = ap.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ps_val_sem_") as tmp:
        work = args.out or Path(tmp)
        for noise in args.noise:
            for i, seed in enumerate(range(args.first_seed, args.first_seed + args.seeds)):
                rows += run_one(
                    seed,
                    noise,
                    work,
                    full=i < args.full_seeds,
                    engine=i < args.engine_seeds,
                )
                print(f"noise ×{noise:g} seed {seed}: done", flush=True)
    df = pd.DataFrame(rows)
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "sem_particles.csv", index=False)
    s = summarise(df)
    (res / "sem_particles.json").write_text(json.dumps(s.to_dict(orient="records"), indent=1))
    md = markdown(s)
    (res / "sem_particles.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
