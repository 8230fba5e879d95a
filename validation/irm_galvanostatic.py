"""Recovery of planted truth for the irm-galvanostatic scenario, across seeds and noise.

Runs the public contract end to end — ``simulate`` writes real-format files and the
truth, ``analyze`` reads the files — and compares ``summary.json`` with
``truth/truth.json`` and the per-pixel t_nuc(IRM) map with the planted one.

Usage::

    python validation/irm_galvanostatic.py --seeds 20 --noise 1 2 4 --out /tmp/val

Writes ``validation/results/irm_galvanostatic.json`` and prints a Markdown table (the
one in docs/validation.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from platescope.pipeline import analyze
from platescope.simulate import simulate
from platescope.testing import load_pair


def compare(sim_dir: Path, res_dir: Path) -> dict:
    """Errors of one analysed simulation against its truth."""
    truth, got = load_pair(sim_dir, res_dir)
    tg, gg = truth["echem"]["galvanostatic"], got["echem"]["galvanostatic"]
    row = {"nucleated_ok": tg["nucleated"] == gg["nucleated"]}
    if tg["nucleated"] and gg["nucleated"]:
        row["E_nuc_err_mV"] = (gg["E_nuc_V"] - tg["E_nuc_V"]) * 1e3
        row["t_nuc_err_s"] = gg["t_nuc_s"] - tg["t_nuc_s"]
        row["t_nuc_unc_s"] = gg["t_nuc_s_err"]
        row["t_nuc_covered"] = abs(row["t_nuc_err_s"]) <= gg["t_nuc_s_err"]
        row["E_growth_err_mV"] = (gg["E_growth_V"] - tg["E_growth_V"]) * 1e3
    frames = pd.read_csv(sim_dir / "frame_times.csv")["time_s"].to_numpy()
    dt = float(np.median(np.diff(frames)))
    row["frame_interval_s"] = dt
    row["sync_err_s"] = got["sync"]["offset_s"] - truth["sync"]["offset_s"]
    tmap = tifffile.imread(res_dir / got["optics"]["t_nuc_map"]["path"])
    tmap_true = tifffile.imread(sim_dir / "truth" / Path(truth["optics"]["t_nuc_map"]["path"]).name)
    both = np.isfinite(tmap) & np.isfinite(tmap_true)
    row["tnuc_map_median_abs_err_frames"] = (
        float(np.median(np.abs(tmap[both] - tmap_true[both]))) / dt
    )
    row["tnuc_map_coverage"] = float(both.sum() / max(np.isfinite(tmap_true).sum(), 1))
    row["t_nuc_irm_err_s"] = got["optics"]["t_nuc_irm_s"] - truth["optics"]["t_nuc_irm_s"]
    row["alpha_rel_err"] = got["optics"]["alpha"]["value"] / truth["optics"]["alpha"]["value"] - 1
    row["alpha_r2"] = got["optics"]["alpha"]["r2"]
    tp, gp = truth["particles"], got["particles"]
    row["count_rel_err"] = gp["count"] / tp["count"] - 1
    row["mean_diameter_rel_err"] = gp["mean_diameter_nm"] / tp["mean_diameter_nm"] - 1
    row["density_rel_err"] = gp["density_cm2"] / tp["density_cm2"] - 1
    if tp.get("faradaic_efficiency") and gp.get("faradaic_efficiency"):
        row["fe_rel_err"] = gp["faradaic_efficiency"] / tp["faradaic_efficiency"] - 1
    return row


def run(seeds: int, noise_levels, out: Path) -> pd.DataFrame:
    rows = []
    for noise in noise_levels:
        for seed in range(seeds):
            sim = out / f"n{noise}_s{seed}" / "input"
            res = out / f"n{noise}_s{seed}" / "results"
            t0 = time.perf_counter()
            exp = simulate("irm-galvanostatic", sim, seed=seed, overrides={"noise_scale": noise})
            analyze(exp, res)
            row = compare(sim, res)
            row.update(noise_scale=noise, seed=seed, seconds=time.perf_counter() - t0)
            rows.append(row)
            print(f"noise ×{noise} seed {seed}: done in {row['seconds']:.1f} s", flush=True)
    return pd.DataFrame(rows)


def table(df: pd.DataFrame) -> str:
    """Markdown summary per noise level."""
    lines = [
        "| noise | seeds | max abs E_nuc err (mV) | t_nuc covered | median t_nuc unc (s) | max abs t_nuc err (s) "
        "| t_nuc map median abs err (frames, worst seed) | max abs α err (%) | max abs count err (%) "
        "| max abs mean-diameter err (%) | max abs sync err (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for noise, g in df.groupby("noise_scale"):
        lines.append(
            f"| ×{noise:g} | {len(g)} | {g['E_nuc_err_mV'].abs().max():.2f} | "
            f"{int(g['t_nuc_covered'].sum())}/{len(g)} | {g['t_nuc_unc_s'].median():.2f} | "
            f"{g['t_nuc_err_s'].abs().max():.2f} | {g['tnuc_map_median_abs_err_frames'].max():.2f} | "
            f"{100 * g['alpha_rel_err'].abs().max():.1f} | {100 * g['count_rel_err'].abs().max():.1f} | "
            f"{100 * g['mean_diameter_rel_err'].abs().max():.1f} | {g['sync_err_s'].abs().max():.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="platescope-val-"))
    df = run(args.seeds, args.noise, out)
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "irm_galvanostatic.csv", index=False)
    md = table(df)
    (res / "irm_galvanostatic.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
