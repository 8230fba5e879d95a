"""Recovery of planted truth for the irm-cv scenario, across seeds and noise levels.

Runs the public contract end to end — ``simulate`` writes real-format files and the
truth, ``analyze`` reads the files — and compares ``summary.json`` with
``truth/truth.json``, the per-cycle CE(IRM) maps with ``truth/ce_maps.tif`` and the
residual-deposit map with ``truth/residual_deposit_nm.tif``.

Usage::

    python validation/irm_cv.py --seeds 10 --noise 1 2 4

Writes ``validation/results/irm_cv.csv`` (one row per run) and
``validation/results/irm_cv.md`` (per-noise summary table, the one in docs/irm_cv.md).
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

RESULTS = Path(__file__).parent / "results"


def compare(sim_dir: Path, res_dir: Path) -> dict:
    """Errors of one analysed simulation against its truth."""
    truth, got = load_pair(sim_dir, res_dir)
    tc = truth["echem"]["cycles"]
    gc = got["echem"]["cycles"]
    row: dict = {"n_cycles_ok": len(tc) == len(gc)}
    ce_err = np.array([g["CE"] - t["CE"] for g, t in zip(gc, tc, strict=False)])
    ce_unc = np.array([g["CE_err"] for g in gc[: len(tc)]])  # k = 2
    row["CE_max_abs_err"] = float(np.max(np.abs(ce_err)))
    row["CE_covered_k2_frac"] = float(np.mean(np.abs(ce_err) <= ce_unc))
    row["Q_c_max_rel_err"] = float(
        max(abs(g["Q_c_C"] / t["Q_c_C"] - 1) for g, t in zip(gc, tc, strict=False))
    )
    row["E_onset_max_abs_err_mV"] = float(
        max(abs(g["E_onset_c_V"] - t["E_onset_c_V"]) for g, t in zip(gc, tc, strict=False)) * 1e3
    )
    row["E_peak_a_max_abs_err_mV"] = float(
        max(abs(g["E_peak_a_V"] - t["E_peak_a_V"]) for g, t in zip(gc, tc, strict=False)) * 1e3
    )
    cal, cal_t = got["optics"]["ce_calibration"], truth["optics"]["ce_calibration"]
    row["cal_slope"] = cal["slope"]
    row["cal_slope_err_vs_noise_free"] = cal["slope"] - cal_t["slope"]
    row["cal_intercept_err_vs_noise_free"] = cal["intercept"] - cal_t["intercept"]
    row["cal_r2"] = cal["r2"]
    truth_maps = tifffile.imread(sim_dir / "truth" / "ce_maps.tif")
    med, p90, mean_err = [], [], []
    for k, entry in enumerate(got["optics"]["ce_irm"]):
        m = tifffile.imread(res_dir / entry["path"])
        both = np.isfinite(m) & np.isfinite(truth_maps[k])
        d = m[both] - truth_maps[k][both]
        med.append(float(np.median(np.abs(d))))
        p90.append(float(np.percentile(np.abs(d), 90)))
        mean_err.append(entry["mean"] - truth["optics"]["ce_irm"][k]["mean"])
    row["ce_map_median_abs_err"] = float(np.median(np.concatenate([[x] for x in med])))
    row["ce_map_median_abs_err_worst_cycle"] = float(max(med))
    row["ce_map_p90_abs_err"] = float(np.median(p90))
    row["ce_map_mean_max_abs_err"] = float(np.max(np.abs(mean_err)))
    res_t = tifffile.imread(sim_dir / "truth" / "residual_deposit_nm.tif")
    res_g = tifffile.imread(res_dir / got["optics"]["residual_deposit"]["path"])
    both = np.isfinite(res_t) & np.isfinite(res_g)
    row["residual_median_rel_err"] = float(
        np.median(np.abs(res_g[both] - res_t[both]) / np.abs(res_t[both]))
    )
    row["residual_mean_rel_err"] = float(np.mean(res_g[both]) / np.mean(res_t[both]) - 1)
    row["sync_err_s"] = got["sync"]["offset_s"] - truth["sync"]["offset_s"]
    row["alpha_rel_err"] = (
        got["optics"]["alpha"]["value"] / truth["optics"]["alpha_counts_per_nm"] - 1
    )
    return row


def run(n_seeds: int, noise_levels, workdir: Path) -> pd.DataFrame:
    """Simulate + analyse ``n_seeds`` seeds at each noise level; one row per run."""
    rows = []
    for ns in noise_levels:
        for seed in range(n_seeds):
            sim_dir = workdir / f"n{ns:g}_s{seed}" / "input"
            res_dir = workdir / f"n{ns:g}_s{seed}" / "results"
            t0 = time.perf_counter()
            exp = simulate("irm-cv", sim_dir, seed=seed, overrides={"noise_scale": ns})
            t1 = time.perf_counter()
            analyze(exp, res_dir)
            t2 = time.perf_counter()
            row = {"noise_scale": ns, "seed": seed, **compare(sim_dir, res_dir)}
            row["simulate_s"], row["analyze_s"] = t1 - t0, t2 - t1
            rows.append(row)
            print(
                f"noise {ns:g} seed {seed}: CE err {row['CE_max_abs_err']:.4f}, map median "
                f"{row['ce_map_median_abs_err']:.4f}, {t2 - t0:.1f} s",
                flush=True,
            )
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    """Per-noise-level summary table (Markdown)."""
    lines = [
        "| noise × | runs | max |ΔCE| per cycle (worst run) | CE 95 % interval coverage | "
        "CE(IRM) median |err| (median run / worst run) | worst-cycle median |err| (worst run) | "
        "p90 |err| | calibration slope − noise-free (mean ± sd) | residual map median rel. err | "
        "E_onset max |err| mV | E_peak,a max |err| mV | analyze s (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for ns, g in df.groupby("noise_scale"):
        lines.append(
            f"| {ns:g} | {len(g)} | {g['CE_max_abs_err'].max():.4f} | "
            f"{g['CE_covered_k2_frac'].mean():.2f} | "
            f"{g['ce_map_median_abs_err'].median():.4f} / {g['ce_map_median_abs_err'].max():.4f} | "
            f"{g['ce_map_median_abs_err_worst_cycle'].max():.4f} | "
            f"{g['ce_map_p90_abs_err'].median():.4f} | "
            f"{g['cal_slope_err_vs_noise_free'].mean():+.4f} ± {g['cal_slope_err_vs_noise_free'].std():.4f} | "
            f"{g['residual_median_rel_err'].median():.3f} | "
            f"{g['E_onset_max_abs_err_mV'].max():.2f} | {g['E_peak_a_max_abs_err_mV'].max():.2f} | "
            f"{g['analyze_s'].median():.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    ap.add_argument("--out", type=Path, default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--tag", default="", help="suffix of the result files")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        df = run(args.seeds, args.noise, work)
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / f"irm_cv{args.tag}.csv", index=False)
    md = markdown(df)
    (RESULTS / f"irm_cv{args.tag}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
