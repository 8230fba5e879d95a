"""Recovery of planted truth for side-view (cross-section) growth movies.

Each seed draws a configuration (growth direction, tilt, porosity, capping band or
not, whiskers or not, current density), simulates it in memory
(:func:`platescope.simulate._side_view.make_side_view`) at every noise level and runs
:func:`platescope.optics.analyze_side_view` on the movie with the plated charge at the
frame times. Compared with the planted truth:

- front height per column and frame, in pixels (frames whose layer is resolved);
- mean thickness per frame, pixels;
- porosity of the last frame and its worst frame (resolved frames);
- capping-band thickness of the last frame (runs with a capping band) and false bands;
- the mossy → whisker transition time (runs with whiskers), in frame intervals, and
  false transitions (runs without).

Usage::

    python validation/validate_side_view.py --seeds 20 --noise 0.5 1 2

Writes ``validation/results/side_view.csv`` (one row per run) and ``side_view.json``
(aggregates), and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope.optics import analyze_side_view
from platescope.simulate import as_movie
from platescope.simulate._side_view import make_side_view


def config(seed: int) -> dict:
    rng = np.random.default_rng(10_000 + seed)
    whiskers = bool(rng.random() < 0.75)
    return {
        "growth_direction": str(rng.choice(["up", "down"])),
        "tilt_deg": float(rng.uniform(0.0, 3.0)),
        "porosity": float(rng.uniform(0.3, 0.75)),
        "capping_fraction": float(rng.choice([0.0, 0.35, 0.45])),
        "current_density_mA_cm2": float(rng.uniform(1.0, 2.5)),
        "n_whiskers": int(rng.integers(3, 8)) if whiskers else 0,
        "transition_frac": float(rng.uniform(0.4, 0.75)) if whiskers else 1.5,
        "roughness_rel": float(rng.uniform(0.04, 0.12)),
    }


def run_one(seed: int, noise: float, *, thin_capping: bool = False) -> dict:
    cfg = config(seed)
    if thin_capping:  # an outer band near the resolution: the documented limitation
        cfg.update(capping_fraction=0.2)
    sim = make_side_view(seed=seed, noise_scale=noise, field_height_px=200, **cfg)
    movie = as_movie(sim, mode="trans")
    p = sim["parameters"]
    t0 = time.perf_counter()
    r = analyze_side_view(
        movie,
        charge_C=sim["charge_at_frames_C"],
        area_cm2=p["electrode_area_cm2"],
    )
    dt = time.perf_counter() - t0
    px = p["pixel_size_um"]
    fr, tr = r["frames"], sim["frames"]
    res = fr["resolved"].to_numpy()
    h = r["profiles"]["h_um"].values
    err_px = (h - sim["front_um"]) / px
    col_err = np.abs(err_px[res])
    mean_err_px = (fr["mean_um"] - tr["mean_um"]).to_numpy()[res] / px
    por_err = (fr["porosity"] - tr["porosity"]).to_numpy()[res]
    por_ok = np.isfinite(por_err)
    por_z = np.abs(por_err) / fr["porosity_err"].to_numpy()[res]  # error / stated 1σ
    tv = sim["truth"]["side_view"]
    last = r["final"]
    row = {
        "seed": seed,
        "noise": noise,
        **cfg,
        "runtime_s": dt,
        "n_frames": int(len(fr)),
        "n_resolved": int(res.sum()),
        "edge_row_err_px": None,
        "tilt_err_deg": r["edge"]["tilt_deg"] - tv["edge"]["tilt_deg"],
        "direction_ok": r["edge"]["growth_direction"] == cfg["growth_direction"],
        "front_median_abs_err_px": float(np.nanmedian(col_err)),
        "front_p90_abs_err_px": float(np.nanpercentile(col_err, 90)),
        "mean_thickness_bias_px": float(np.nanmean(mean_err_px)),
        "mean_thickness_max_abs_err_px": float(np.nanmax(np.abs(mean_err_px))),
        "porosity_true": tv["porosity"],
        "porosity": last["porosity"],
        "porosity_err": last["porosity_err"],
        "porosity_abs_err": None
        if last["porosity"] is None
        else abs(last["porosity"] - tv["porosity"]),
        "porosity_worst_abs_err": float(np.nanmax(np.abs(por_err[por_ok])))
        if por_ok.any()
        else None,
        "porosity_worst_frame_z": float(np.nanmax(por_z)) if por_ok.any() else None,
        "max_thickness_err_px": (last["max_thickness_um"] - tv["max_thickness_um"]) / px,
        "roughness_err_um": None
        if last["roughness_um"] is None
        else last["roughness_um"] - tv["roughness_um"],
        "n_bands": r["n_bands"],
        "thin_capping": thin_capping,
        "warnings": ";".join(w["code"] for w in r["warnings"]),
        "n_bands_true": tv["n_bands"],
        "capping_err_px": None
        if last["capping_thickness_um"] is None or tv["capping_thickness_um"] is None
        else (last["capping_thickness_um"] - tv["capping_thickness_um"]) / px,
    }
    # transition: truth on the echem clock, the movie on the movie clock
    tt = tv["transition"]["t_transition_s"]
    found = r["transition"]["t_transition_s"]
    t_found = None if found is None else found - sim["offset_s"]
    row.update(
        transition_true_s=tt,
        transition_s=t_found,
        transition_err_s=r["transition"]["t_transition_err_s"],
        transition_abs_err_frames=None
        if tt is None or t_found is None
        else abs(t_found - tt) / p["frame_interval_s"],
        transition_in_ci95=None
        if tt is None or t_found is None
        else bool(
            r["transition"]["t_transition_ci95_s"][0] - sim["offset_s"]
            <= tt
            <= r["transition"]["t_transition_ci95_s"][1] - sim["offset_s"]
        ),
        transition_missed=bool(tt is not None and t_found is None),
        transition_false=bool(tt is None and t_found is not None),
    )
    return row


def aggregate(df: pd.DataFrame) -> dict:
    out = {}
    for noise, g in df.groupby("noise"):
        w = g[g["transition_true_s"].notna()]
        cap = g[g["n_bands_true"] == 2]
        out[f"noise_{noise:g}"] = {
            "runs": int(len(g)),
            "front_median_abs_err_px": float(g["front_median_abs_err_px"].median()),
            "front_median_abs_err_px_worst_run": float(g["front_median_abs_err_px"].max()),
            "front_p90_abs_err_px_median": float(g["front_p90_abs_err_px"].median()),
            "mean_thickness_bias_px_median": float(g["mean_thickness_bias_px"].median()),
            "porosity_abs_err_median": float(g["porosity_abs_err"].median()),
            "porosity_abs_err_max": float(g["porosity_abs_err"].max()),
            "porosity_worst_frame_abs_err_max": float(g["porosity_worst_abs_err"].max()),
            "porosity_within_0.05": float((g["porosity_abs_err"] <= 0.05).mean()),
            "porosity_worst_frame_z_max": float(g["porosity_worst_frame_z"].max()),
            "porosity_last_frame_z_max": float((g["porosity_abs_err"] / g["porosity_err"]).max()),
            "capping_err_px_median_abs": float(pd.to_numeric(cap["capping_err_px"]).abs().median())
            if len(cap)
            else None,
            "bands_correct": float((g["n_bands"] == g["n_bands_true"]).mean()),
            "direction_correct": float(g["direction_ok"].mean()),
            "transition_runs": int(len(w)),
            "transition_found": float(1 - w["transition_missed"].mean()) if len(w) else None,
            "transition_abs_err_frames_median": float(w["transition_abs_err_frames"].median())
            if len(w)
            else None,
            "transition_abs_err_frames_max": float(w["transition_abs_err_frames"].max())
            if len(w)
            else None,
            "transition_in_ci95": float(w["transition_in_ci95"].mean()) if len(w) else None,
            "false_transitions": int(g["transition_false"].sum()),
            "no_transition_runs": int(g["transition_true_s"].isna().sum()),
            "runtime_s_median": float(g["runtime_s"].median()),
        }
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args(argv)
    rows = [run_one(s, n) for n in args.noise for s in range(args.seeds)]
    thin = pd.DataFrame([run_one(s, 1.0, thin_capping=True) for s in range(args.seeds)])
    df = pd.DataFrame(rows)
    args.results.mkdir(parents=True, exist_ok=True)
    pd.concat([df, thin]).to_csv(args.results / "side_view.csv", index=False)
    agg = {
        "targets": {
            "front_median_abs_err_px": "≤ 1 px (median over columns × resolved frames)",
            "porosity_abs_err": "≤ 0.05",
            "transition": "within 2 frame intervals",
        },
        "seeds": args.seeds,
        "noise_levels": args.noise,
        "by_noise": aggregate(df),
        "thin_capping_limitation": {
            "what": "capping band 20 % of the layer (≈ 2–4 px at 1.7 px blur), noise 1",
            "runs": int(len(thin)),
            "bands_found_2": float((thin["n_bands"] == 2).mean()),
            "warned_unresolved_or_thin": float(
                thin["warnings"].str.contains("unresolved-band|thin-capping").mean()
            ),
            "porosity_abs_err_median": float(thin["porosity_abs_err"].median()),
            "porosity_abs_err_max": float(thin["porosity_abs_err"].max()),
            "silent_porosity_err_over_0.05": int(
                (
                    (thin["porosity_abs_err"] > 0.05)
                    & ~thin["warnings"].str.contains("unresolved-band|thin-capping")
                ).sum()
            ),
        },
    }
    (args.results / "side_view.json").write_text(json.dumps(agg, indent=2) + "\n")
    cols = [
        "front_median_abs_err_px",
        "front_median_abs_err_px_worst_run",
        "porosity_abs_err_median",
        "porosity_abs_err_max",
        "bands_correct",
        "transition_found",
        "transition_abs_err_frames_median",
        "transition_abs_err_frames_max",
        "transition_in_ci95",
        "false_transitions",
    ]
    print("| noise | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for k, v in agg["by_noise"].items():
        print(f"| {k} | " + " | ".join("—" if v[c] is None else f"{v[c]:.3g}" for c in cols) + " |")


if __name__ == "__main__":
    main()
