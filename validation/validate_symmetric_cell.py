"""Recovery of planted truth in the symmetric-cell scenario, across seeds and noise.

Each seed (its own base overpotential 20–60 mV, peak amplitude 0.35–0.7, arc amplitude
0.2–0.45, first arcing cycle 4–7 with the two cycles before it flat) writes the
scenario's files (``echem.mpt`` EC-Lab text export, ``cycling.mps``
settings, ``truth/truth.json``) with a GITT block, reads the record back with
:func:`platescope.io.read_echem` and runs :func:`platescope.echem.symmetric_cell` on it
(what the ``symmetric-cell`` runner does), then compares per half-cycle:

- shape class (``peaking``/``arcing``; ``undetermined`` counts as wrong) → accuracy;
- plateau overpotential → |error| (target ±1 mV);
- soft shorts: a detection matches a planted event of the same kind whose start lies
  within ±30 s → precision (matched / detected) and recall (matched / planted), pooled;
- GITT pulses: IR drop, relaxation and quasi-equilibrium overpotential errors.

Usage::

    python validation/validate_symmetric_cell.py --seeds 20 --noise 0.5 1 3

Writes ``validation/results/symmetric_cell.json`` (summary per noise level) and
``symmetric_cell.csv`` (one row per half-cycle).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope.echem import symmetric_cell as analyse
from platescope.io import read_echem
from platescope.simulate._symmetric_cell import symmetric_cell as simulate_cell

HERE = Path(__file__).resolve().parent
MATCH_S = 30.0


def match_shorts(truth: list[dict], found: list[dict]) -> int:
    """Number of planted events matched one-to-one by a detection of the same kind."""
    used = set()
    n = 0
    for ev in truth:
        best = None
        for k, d in enumerate(found):
            if k in used or d["kind"] != ev["kind"]:
                continue
            gap = abs(d["t_start_s"] - ev["t_start_s"])
            if gap <= MATCH_S and (best is None or gap < best[1]):
                best = (k, gap)
        if best is not None:
            used.add(best[0])
            n += 1
    return n


def seed_parameters(seed: int) -> dict:
    """Per-seed cell: base overpotential, shape amplitudes and the cycle shapes change."""
    rng = np.random.default_rng(10_000 + seed)
    return {
        "eta0_mV": float(rng.uniform(20.0, 60.0)),
        "peak_amplitude": float(rng.uniform(0.35, 0.7)),
        "arc_amplitude": float(rng.uniform(0.2, 0.45)),
        "arcing_from_cycle": int(rng.integers(4, 8)),
        "flat_cycles": 2,
    }


def run_one(seed: int, noise: float, folder: Path) -> tuple[list[dict], dict]:
    exp = simulate_cell(folder, seed=seed, noise_scale=noise, gitt=True, **seed_parameters(seed))
    out = exp.parent
    truth = json.loads((out / "truth" / "truth.json").read_text())["symmetric_cell"]
    res = analyse(read_echem(out / "echem.mpt"))
    rows = []
    for got, want in zip(res["half_cycles"], truth["half_cycles"], strict=False):
        rows.append(
            {
                "seed": seed,
                "noise_scale": noise,
                "half_cycle": want["half_cycle"],
                "class_true": want["shape_class"],
                "class_found": got["shape_class"],
                "shape_index": got["shape_index"],
                "plateau_true_V": want["eta_plateau_V"],
                "plateau_found_V": got["eta_plateau_V"],
                "plateau_err_V": (got["eta_plateau_V"] or np.nan) - want["eta_plateau_V"],
                "overshoot_err_V": (got["eta_nuc_overshoot_V"] or np.nan)
                - want["eta_nuc_overshoot_V"],
                "end_err_V": (got["eta_end_V"] or np.nan) - want["eta_end_V"],
            }
        )
    g_err = {"ir": [], "relax": [], "qe": []}
    for got, want in zip(res["gitt"], truth["gitt"], strict=False):
        g_err["ir"].append(got["ir_drop_V"] - want["ir_drop_V"])
        g_err["relax"].append(got["relaxation_V"] - want["relaxation_V"])
        g_err["qe"].append(got["eta_quasi_eq_V"] - want["eta_quasi_eq_V"])
    extra = {
        "n_half_true": len(truth["half_cycles"]),
        "n_half_found": len(res["half_cycles"]),
        "shorts_true": len(truth["soft_shorts"]),
        "shorts_found": len(res["soft_shorts"]),
        "shorts_matched": match_shorts(truth["soft_shorts"], res["soft_shorts"]),
        "gitt_true": len(truth["gitt"]),
        "gitt_found": len(res["gitt"]),
        **{f"gitt_{k}_err_V": v for k, v in g_err.items()},
    }
    return rows, extra


def run(n_seeds: int, noises: list[float], tmp: Path) -> tuple[pd.DataFrame, dict]:
    rows: list[dict] = []
    summary: dict = {}
    for noise in noises:
        extras = []
        for seed in range(n_seeds):
            r, e = run_one(seed, noise, tmp / f"n{noise}_s{seed}")
            rows += r
            extras.append(e)
        part = pd.DataFrame([r for r in rows if r["noise_scale"] == noise])
        err = np.abs(part["plateau_err_V"].to_numpy())
        found = sum(e["shorts_found"] for e in extras)
        true = sum(e["shorts_true"] for e in extras)
        matched = sum(e["shorts_matched"] for e in extras)
        ir = np.abs(np.concatenate([e["gitt_ir_err_V"] for e in extras]))
        relax = np.abs(np.concatenate([e["gitt_relax_err_V"] for e in extras]))
        qe = np.abs(np.concatenate([e["gitt_qe_err_V"] for e in extras]))
        summary[f"noise_{noise:g}"] = {
            "noise_mV": 0.5 * noise,
            "n_seeds": n_seeds,
            "n_half_cycles": int(len(part)),
            "half_cycles_found_equals_planted": all(
                e["n_half_true"] == e["n_half_found"] for e in extras
            ),
            "shape_class_accuracy": float((part["class_true"] == part["class_found"]).mean()),
            "shape_class_accuracy_by_class": {
                c: float((g["class_true"] == g["class_found"]).mean())
                for c, g in part.groupby("class_true")
            },
            "n_wrong_class_not_undetermined": int(
                (
                    (part["class_true"] != part["class_found"])
                    & (part["class_found"] != "undetermined")
                ).sum()
            ),
            "n_undetermined": int((part["class_found"] == "undetermined").sum()),
            "plateau_abs_err_mV_median": float(np.nanmedian(err) * 1e3),
            "plateau_abs_err_mV_p95": float(np.nanpercentile(err, 95) * 1e3),
            "plateau_abs_err_mV_max": float(np.nanmax(err) * 1e3),
            "plateau_within_1mV": float(np.mean(err <= 1e-3)),
            "overshoot_abs_err_mV_median": float(
                np.nanmedian(np.abs(part["overshoot_err_V"])) * 1e3
            ),
            "end_abs_err_mV_median": float(np.nanmedian(np.abs(part["end_err_V"])) * 1e3),
            "soft_shorts_planted": true,
            "soft_shorts_found": found,
            "soft_shorts_matched": matched,
            "soft_short_precision": matched / found if found else None,
            "soft_short_recall": matched / true if true else None,
            "gitt_pulses_found_over_planted": sum(e["gitt_found"] for e in extras)
            / max(1, sum(e["gitt_true"] for e in extras)),
            "gitt_ir_abs_err_mV_median": float(np.median(ir) * 1e3),
            "gitt_ir_abs_err_mV_max": float(np.max(ir) * 1e3),
            "gitt_relaxation_abs_err_mV_median": float(np.median(relax) * 1e3),
            "gitt_quasi_eq_abs_err_mV_median": float(np.median(qe) * 1e3),
        }
    return pd.DataFrame(rows), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 3.0])
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        df, summary = run(args.seeds, args.noise, Path(tmp))
    summary["runtime_s"] = round(time.time() - t0, 1)
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / "symmetric_cell.csv", index=False)
    (res / "symmetric_cell.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
