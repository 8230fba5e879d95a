"""Recovery of planted truth for top-view nucleation series (scenario top-view-nucleation).

Each seed draws a configuration (nuclei at 1 mA cm⁻², exponent, current-density range,
electrolyte concentration so that some runs pass Sand's time and some do not), writes
it to files with the simulator at every noise level and runs ``analyze`` on the
experiment file. Compared with the planted truth per run:

- nucleus count and pit count (relative error);
- the onset of tip growth against the planted start (lag, s and frames), and runs where
  tips were reported without being planted or missed;
- Sand's verdict (tips after Sand's time / none before it);
and per experiment the power-law exponent (error and whether it lies within k = 2).

Usage::

    python validation/validate_top_view_nucleation.py --seeds 20 --noise 0.5 1 2

Writes ``validation/results/top_view_nucleation.csv`` (one row per run) and
``top_view_nucleation.json`` (aggregates), and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope.pipeline import analyze
from platescope.simulate import simulate


def config(seed: int) -> dict:
    rng = np.random.default_rng(20_000 + seed)
    return {
        "n_runs": "3",
        "n_ref": f"{rng.uniform(8, 16):.2f}",
        "exponent": f"{rng.uniform(0.3, 1.0):.3f}",
        "n_pit_ref": f"{rng.uniform(4, 8):.2f}",
        "pit_exponent": f"{rng.uniform(0.2, 0.8):.3f}",
        "j_min_mA_cm2": f"{rng.uniform(0.3, 0.6):.3f}",
        "j_max_mA_cm2": f"{rng.uniform(2.5, 4.0):.3f}",
        "c0_mol_L": f"{rng.uniform(0.08, 0.12):.4f}",
        "field_px": "256",
        "plating_s": "240",
        "stripping_s": "90",
        "frame_interval_s": "5",
    }


def run_one(seed: int, noise: float, work: Path) -> tuple[list[dict], dict]:
    cfg = {**config(seed), "noise_scale": str(noise)}
    folder = work / f"s{seed}_n{noise}"
    exp = simulate("top-view-nucleation", folder / "in", seed=seed, overrides=cfg)
    summary = analyze(exp, folder / "res")
    truth = json.loads((folder / "in" / "truth" / "truth.json").read_text())
    rows = []
    sand = {s["run"]: s for s in summary["sand"]["runs"]}
    for g, w in zip(summary["nucleation"]["runs"], truth["runs"], strict=True):
        start = w["t_plating_start_s"]
        planted = None if w["t_tip_start_s"] is None else w["t_tip_start_s"] - start
        got = g.get("t_tip_onset_s")
        rows.append(
            {
                "seed": seed,
                "noise": noise,
                "run": w["run"],
                "j_mA_cm2": w["j_mA_cm2"],
                "n_true": w["n_nuclei"],
                "n_found": g.get("n_nuclei"),
                "count_rel_err": (g["n_nuclei"] - w["n_nuclei"]) / w["n_nuclei"]
                if g.get("n_nuclei") is not None and w["n_nuclei"]
                else np.nan,
                "pits_true": w["n_pits"],
                "pits_found": g.get("n_pits"),
                "pit_rel_err": (g["n_pits"] - w["n_pits"]) / w["n_pits"]
                if g.get("n_pits") is not None and w["n_pits"]
                else np.nan,
                "tip_planted_s": planted,
                "tip_found_s": got,
                "tip_lag_s": got - planted if (got is not None and planted is not None) else np.nan,
                "tip_false": planted is None and got is not None,
                "tip_missed": planted is not None and got is None,
                "verdict": sand[w["run"]]["verdict"],
            }
        )
    law = summary["nucleation"]["law"]
    exp_row = {
        "seed": seed,
        "noise": noise,
        "exponent_true": truth["exponent"],
        "exponent": law["exponent"],
        "exponent_err_k2": law["exponent_err"],
        "within_k2": abs(law["exponent"] - truth["exponent"]) <= law["exponent_err"],
    }
    return rows, exp_row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    t0 = time.time()
    rows, exps = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for noise in args.noise:
                r, e = run_one(seed, noise, Path(tmp))
                rows += r
                exps.append(e)
    df, ex = pd.DataFrame(rows), pd.DataFrame(exps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "top_view_nucleation.csv", index=False)
    agg = {}
    for noise, g in df.groupby("noise"):
        e = ex[ex["noise"] == noise]
        lag = g["tip_lag_s"].dropna()
        agg[str(noise)] = {
            "runs": int(len(g)),
            "count_abs_rel_err_median": float(g["count_rel_err"].abs().median()),
            "count_abs_rel_err_max": float(g["count_rel_err"].abs().max()),
            "count_within_5pct": float((g["count_rel_err"].abs() <= 0.05).mean()),
            "pit_abs_rel_err_median": float(g["pit_rel_err"].abs().median()),
            "pit_abs_rel_err_max": float(g["pit_rel_err"].abs().max()),
            "pit_within_5pct": float((g["pit_rel_err"].abs() <= 0.05).mean()),
            "tip_runs": int(g["tip_planted_s"].notna().sum()),
            "tip_lag_median_s": float(lag.median()) if len(lag) else None,
            "tip_lag_max_s": float(lag.max()) if len(lag) else None,
            "tip_lag_min_s": float(lag.min()) if len(lag) else None,
            "tip_false": int(g["tip_false"].sum()),
            "tip_missed": int(g["tip_missed"].sum()),
            "exponent_abs_err_median": float((e["exponent"] - e["exponent_true"]).abs().median()),
            "exponent_within_k2": float(e["within_k2"].mean()),
        }
    agg["seconds"] = time.time() - t0
    (out / "top_view_nucleation.json").write_text(json.dumps(agg, indent=2))
    print(
        "| noise | runs | nuclei |rel err| median / max | within 5 % | pits |rel err| median "
        "/ max | within 5 % | tip runs | lag median [min, max] s | false / missed tips | "
        "exponent |err| median | within k=2 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for noise, a in agg.items():
        if noise == "seconds":
            continue
        print(
            f"| {noise} | {a['runs']} | {a['count_abs_rel_err_median']:.3f} / "
            f"{a['count_abs_rel_err_max']:.3f} | {a['count_within_5pct']:.2f} | "
            f"{a['pit_abs_rel_err_median']:.3f} / {a['pit_abs_rel_err_max']:.3f} | "
            f"{a['pit_within_5pct']:.2f} | {a['tip_runs']} | "
            f"{a['tip_lag_median_s']:.1f} [{a['tip_lag_min_s']:.1f}, {a['tip_lag_max_s']:.1f}] | "
            f"{a['tip_false']} / {a['tip_missed']} | {a['exponent_abs_err_median']:.3f} | "
            f"{a['exponent_within_k2']:.2f} |"
        )


if __name__ == "__main__":
    main()
