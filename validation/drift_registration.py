"""Stage drift registration on the IRM scenarios against planted motion (issue 13).

For ``irm-galvanostatic`` and ``irm-cv``, each noise level (``noise_scale`` 0.5, 1, 2)
and seed, the simulator is run still and with 5 px linear drift + 0.5 px rms
per-frame vibration + 3 % blurred + 2 % dark frames. Reported per run:

* ``rms_dy_px`` / ``rms_dx_px``: rms error per axis of the registered shifts against the
  planted displacement (good frames but the reference frame), and ``demeaned_*``: the
  same after removing the common offset (the reference frame's own error; what a
  per-pixel map feels is the frame-to-frame part);
* ``crb_dy_px`` / ``crb_dx_px``: the Cramér–Rao bound per axis of the whole frame's
  texture (noise-free frame 0, shot + read noise at the run's level, known
  reference): no registration can beat it, one that uses only the static part of the
  field (the deposit changes) is above it;
* the error estimate: ``cover_2sigma`` (fraction of frame-axes with |true − est| ≤ 2σ,
  ≈ 0.95 if the estimate is right) and ``rms_true_over_est`` (≈ 1);
* ``applied`` / ``uncertain``: what :func:`platescope.optics.stabilize_movie` decided;
  bad frames planted / found / flagged;
* the still movie: ``still_applied`` and ``still_max_shift_px`` (a registration that
  applies a shift to a still movie changes its results for nothing);
* irm-galvanostatic: the t_nuc map's median |error| (frames) of the still movie
  (registration off) and of the moving movie registered, computed as the pipeline does;
* irm-cv: the whole pipeline (``simulate`` files → ``analyze`` with
  ``[analysis.registration] enabled = true``) on the still and the moving movie, and the
  per-cycle CE(IRM) maps scored against ``truth/ce_maps.tif`` exactly as
  ``validation/irm_cv.py`` does (median over cycles of the median |error|).

``--old`` also runs the previous refinement (``reference_model = "temporal"``) on the
moving movie for comparison.

Usage::

    python validation/drift_registration.py --seeds 1 2 3 4 5 --noise 0.5 1 2

Writes ``validation/results/drift_registration_<scenario>.json`` (one row per run,
rewritten after each) and prints Markdown rows; ``--table`` prints the summary table of
docs/registration.md from the JSON files.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from platescope import optics
from platescope.simulate import as_movie, make_irm_cv, make_irm_galvanostatic

RESULTS = Path(__file__).parent / "results"
MOTION = {"stage_drift_px": 5.0, "vibration_px": 0.5}
BAD = {"blurred_frame_frac": 0.03, "dark_frame_frac": 0.02}
READ_NOISE = 5.0  # both simulators' read_noise_counts default (× noise_scale)


def crb(frame: np.ndarray, ns: float, read: float = READ_NOISE) -> np.ndarray:
    """Cramér–Rao sd per axis (px) of a translation of ``frame`` (noise-free counts)
    under shot (× ns) and read (× ns) noise, known reference, border of 8 px left out."""
    img = np.asarray(frame, float)
    gy, gx = np.gradient(img)
    var = ns**2 * (np.clip(img, 0, None) + read**2)
    sl = (slice(8, -8), slice(8, -8))
    j = np.array(
        [
            [(gy * gy / var)[sl].sum(), (gy * gx / var)[sl].sum()],
            [(gy * gx / var)[sl].sum(), (gx * gx / var)[sl].sum()],
        ]
    )
    return np.sqrt(np.diag(np.linalg.inv(j)))


def shift_scores(shifts, truth: dict, bad: np.ndarray) -> dict:
    """Errors of a shift table against the planted motion and of its error estimate."""
    ok = ~np.asarray(bad, bool)
    ok[int(shifts.attrs.get("reference_frame", 0))] = False  # 0 by definition
    e = np.stack(
        [
            shifts["dy_px"].to_numpy() - np.asarray(truth["dy_px"]),
            shifts["dx_px"].to_numpy() - np.asarray(truth["dx_px"]),
        ],
        -1,
    )[ok]
    est = shifts[["err_dy_px", "err_dx_px"]].to_numpy(float)[ok]
    return {
        "rms_dy_px": float(np.sqrt(np.mean(e[:, 0] ** 2))),
        "rms_dx_px": float(np.sqrt(np.mean(e[:, 1] ** 2))),
        "demeaned_dy_px": float(np.std(e[:, 0])),
        "demeaned_dx_px": float(np.std(e[:, 1])),
        "max_err_px": float(np.max(np.hypot(e[:, 0], e[:, 1]))),
        "est_rms_px": float(np.sqrt(np.nanmean(est**2))),
        "cover_2sigma": float(np.mean(np.abs(e) <= 2 * est)),
        "rms_true_over_est": float(np.sqrt(np.mean(e**2)) / np.sqrt(np.nanmean(est**2))),
    }


def tnuc_err(sim, movie) -> float:
    """Median |t_nuc map − truth| over the footprint, frames (the pipeline's defaults)."""
    from platescope.pipeline._irm_galvanostatic import DEFAULTS

    p = DEFAULTS["irm"]
    irm = optics.prepare_irm(movie, sim["echem"], footprint_sigma_um=p["footprint_sigma_um"])
    tmap = optics.t_nuc_map(
        irm["sub"],
        mask=irm["mask"],
        window_s=p["tnuc_window_s"],
        polyorder=p["tnuc_polyorder"],
        t_max_s=sim["truth"]["echem"]["galvanostatic"]["t_nuc_s"] + p["tnuc_margin_s"],
        spatial_sigma_px=p["map_sigma_um"] / irm["px_um"],
    ).values
    truth = np.asarray(sim["t_nuc_map"], float)
    dt = float(np.median(np.diff(sim["frame_times_s"])))
    both = np.isfinite(tmap) & np.isfinite(truth)
    return float(np.median(np.abs(tmap[both] - truth[both]))) / dt


def _significance(summary: dict, prefix: str) -> dict:
    """The largest shift in σ of its estimate and the limit the decision used."""
    return {
        f"{prefix}significance": summary.get("shift_significance"),
    }


def _scale_check(summary: dict, prefix: str) -> dict:
    """What the scale-consistency check of the static refinement found (None without)."""
    keys = ("scale_bias_px", "scale_bias_reference_px", "scale_disagreement_z2")
    return {f"{prefix}{k}": summary.get(k) for k in keys}


def bad_scores(quality, truth: dict) -> dict:
    planted = set(truth["blurred_frames"]) | set(truth["dark_frames"])
    found = set(quality.loc[quality["bad"], "frame"].astype(int))
    return {
        "bad_planted": len(planted),
        "bad_found": len(planted & found),
        "bad_flagged": len(found),
    }


def run_galvanostatic(seed: int, ns: float, old: bool) -> dict:
    still = make_irm_galvanostatic(seed=seed, noise_scale=ns)
    moving = make_irm_galvanostatic(seed=seed, noise_scale=ns, **MOTION, **BAD)
    tr = moving["truth"]["registration"]
    c = crb(np.asarray(still["movie_noise_free"][0], float), ns)
    row: dict = {"scenario": "irm-galvanostatic", "seed": seed, "noise_scale": ns}
    row.update(crb_dy_px=float(c[0]), crb_dx_px=float(c[1]))
    t0 = time.process_time()
    st = optics.stabilize_movie(as_movie(moving), register=True)
    row["stabilize_cpu_s"] = time.process_time() - t0
    bad = st["quality"]["bad"].to_numpy(bool)
    row.update(shift_scores(st["shifts"], tr, bad))
    row.update(bad_scores(st["quality"], tr))
    s = st["summary"]
    row.update(applied=bool(s["applied"]), uncertain="uncertain" in (s["applied_reason"] or ""))
    row["changed_fraction"] = s.get("changed_fraction")
    row.update(_scale_check(s, ""))
    ms = as_movie(still)
    st_still = optics.stabilize_movie(ms, register=True)
    row["still_applied"] = bool(st_still["summary"]["applied"])
    row["still_max_shift_px"] = float(st_still["summary"]["max_shift_px"])
    row["still_bad_flagged"] = int(st_still["quality"]["bad"].sum())
    row.update(_scale_check(st_still["summary"], "still_"))
    row.update(_significance(st_still["summary"], "still_"))
    row.update(_significance(s, ""))
    row["static_reference"] = "static reference" in s["method"]
    row["still_static_reference"] = "static reference" in st_still["summary"]["method"]
    off = optics.stabilize_movie(ms, register=False)
    row["tnuc_err_frames_still"] = tnuc_err(still, off["movie"])
    row["tnuc_err_frames_moving_registered"] = tnuc_err(moving, st["movie"])
    row["tnuc_err_frames_moving_unregistered"] = tnuc_err(
        moving, optics.stabilize_movie(as_movie(moving), register=False)["movie"]
    )
    if row["still_applied"]:
        row["tnuc_err_frames_still_registered"] = tnuc_err(still, st_still["movie"])
    if old:
        tab = optics.register_drift(as_movie(moving), exclude=bad, reference_model="temporal")
        row["old"] = shift_scores(tab, tr, bad)
    return row


def _analyze_cv(seed: int, ns: float, workdir: Path, **motion) -> tuple[Path, Path]:
    from platescope.pipeline import analyze
    from platescope.simulate import simulate

    tag = "moving" if motion else "still"
    sim_dir = workdir / f"{tag}_n{ns:g}_s{seed}" / "input"
    res_dir = workdir / f"{tag}_n{ns:g}_s{seed}" / "results"
    exp = simulate("irm-cv", sim_dir, seed=seed, overrides={"noise_scale": ns, **motion})
    toml = Path(exp)
    toml.write_text(toml.read_text() + "\n[analysis.registration]\nenabled = true\n")
    analyze(toml, res_dir)
    return sim_dir, res_dir


def run_cv(seed: int, ns: float, old: bool, workdir: Path) -> dict:
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).parent))
    from irm_cv import compare  # the CE(IRM) map scoring of validation/irm_cv.py

    from platescope.testing import load_pair

    row: dict = {"scenario": "irm-cv", "seed": seed, "noise_scale": ns}
    clean = make_irm_cv(seed=seed, noise_scale=0.0)
    c = crb(np.asarray(clean["movie"][0], float), ns)
    row.update(crb_dy_px=float(c[0]), crb_dx_px=float(c[1]))
    del clean
    t0 = time.process_time()
    sim_m, res_m = _analyze_cv(seed, ns, workdir, **MOTION, **BAD)
    row["analyze_cpu_s"] = time.process_time() - t0
    truth, got = load_pair(sim_m, res_m)
    tr = truth["registration"]
    shifts = pd.read_csv(res_m / got["registration"]["shifts_table"])
    quality = pd.read_csv(res_m / "tables" / "frame_quality.csv")
    bad = quality["bad"].to_numpy(bool)
    shifts.attrs["reference_frame"] = got["registration"]["reference_frame"]
    row.update(shift_scores(shifts, tr, bad))
    row.update(bad_scores(quality, tr))
    reg = got["registration"]
    row.update(
        applied=bool(reg["applied"]),
        uncertain="uncertain" in (reg["applied_reason"] or ""),
        changed_fraction=reg.get("changed_fraction"),
    )
    row["ce_map_median_abs_err_moving_registered"] = compare(sim_m, res_m)["ce_map_median_abs_err"]
    sim_s, res_s = _analyze_cv(seed, ns, workdir)
    _, got_s = load_pair(sim_s, res_s)
    row["still_applied"] = bool(got_s["registration"]["applied"])
    row["still_max_shift_px"] = float(got_s["registration"]["max_shift_px"])
    row["still_bad_flagged"] = int(got_s["registration"]["n_frames_excluded"])
    row.update(_scale_check(reg, ""))
    row.update(_scale_check(got_s["registration"], "still_"))
    row.update(_significance(got_s["registration"], "still_"))
    row.update(_significance(reg, ""))
    row["static_reference"] = "static reference" in reg["method"]
    row["still_static_reference"] = "static reference" in got_s["registration"]["method"]
    # with registration not applied the still movie is analysed as recorded: that is
    # the drift-free baseline
    row["ce_map_median_abs_err_still"] = compare(sim_s, res_s)["ce_map_median_abs_err"]
    if old:
        sim = make_irm_cv(seed=seed, noise_scale=ns, **MOTION, **BAD)  # the same movie
        tab = optics.register_drift(as_movie(sim), exclude=bad, reference_model="temporal")
        row["old"] = shift_scores(tab, tr, bad)
    return row


def fmt(r: dict) -> str:
    extra = (
        f"{r['tnuc_err_frames_still']:.3f} → {r['tnuc_err_frames_moving_registered']:.3f}"
        if "tnuc_err_frames_still" in r
        else f"{r['ce_map_median_abs_err_still']:.4f} → {r['ce_map_median_abs_err_moving_registered']:.4f}"
    )
    return (
        f"| {r['scenario']} | {r['noise_scale']:g} | {r['seed']} | {r['rms_dy_px']:.3f} / "
        f"{r['rms_dx_px']:.3f} | {r['demeaned_dy_px']:.3f} / {r['demeaned_dx_px']:.3f} | "
        f"{r['crb_dy_px']:.3f} / {r['crb_dx_px']:.3f} | {r['est_rms_px']:.3f} | "
        f"{r['cover_2sigma']:.2f} | {r['rms_true_over_est']:.2f} | "
        f"{'applied' if r['applied'] else ('refused' if r['uncertain'] else 'not applied')} | "
        f"{r['bad_found']}/{r['bad_planted']} ({r['bad_flagged']}) | "
        f"{'APPLIED' if r['still_applied'] else 'no'} ({r['still_max_shift_px']:.2f} px) | "
        f"{extra} |"
        + (
            f" {r['old']['rms_dy_px']:.3f} / {r['old']['rms_dx_px']:.3f} |"
            if "old" in r
            else " – |"
        )
    )


HEADER = (
    "| scenario | noise × | seed | rms err y / x (px) | offset removed y / x | CRB y / x | "
    "err estimate (rms) | within 2σ | rms true / est | decision | bad frames found / "
    "planted (flagged) | still: shift applied (max) | map err still → moving registered | "
    "previous method rms y / x |\n" + "|" + "---|" * 14
)


def table() -> None:
    """Per scenario and noise: medians over seeds (worst in brackets where it matters)."""
    import pandas as pd

    print(
        "| scenario | noise × | seeds | rms err y / x (px), median (worst) | offset removed "
        "y / x | CRB y / x | err estimate rms | within 2σ | rms true / est | applied | "
        "still: applied | map err still → moving registered (median over seeds; worst "
        "difference) |\n|" + "---|" * 12
    )
    for f in sorted(RESULTS.glob("drift_registration_*.json")):
        df = pd.json_normalize(json.loads(f.read_text()))
        for ns, g in df.groupby("noise_scale"):
            if "tnuc_err_frames_still" in g:
                a, b = g["tnuc_err_frames_still"], g["tnuc_err_frames_moving_registered"]
                unit = " frames"
            else:
                a = g["ce_map_median_abs_err_still"]
                b = g["ce_map_median_abs_err_moving_registered"]
                unit = ""
            print(
                f"| {g['scenario'].iloc[0]} | {ns:g} | {len(g)} | "
                f"{g['rms_dy_px'].median():.3f} / {g['rms_dx_px'].median():.3f} "
                f"({g['rms_dy_px'].max():.3f} / {g['rms_dx_px'].max():.3f}) | "
                f"{g['demeaned_dy_px'].median():.3f} / {g['demeaned_dx_px'].median():.3f} | "
                f"{g['crb_dy_px'].median():.3f} / {g['crb_dx_px'].median():.3f} | "
                f"{g['est_rms_px'].median():.3f} | {g['cover_2sigma'].median():.2f} "
                f"({g['cover_2sigma'].min():.2f}) | {g['rms_true_over_est'].median():.2f} "
                f"({g['rms_true_over_est'].min():.2f}–{g['rms_true_over_est'].max():.2f}) | "
                f"{int(g['applied'].sum())}/{len(g)} | {int(g['still_applied'].sum())}/{len(g)} | "
                f"{a.median():.4g} → {b.median():.4g}{unit}; worst {np.max(b - a):+.4g} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    ap.add_argument("--scenarios", nargs="+", default=["irm-galvanostatic", "irm-cv"])
    ap.add_argument("--old", action="store_true", help="also the previous refinement")
    ap.add_argument("--table", action="store_true", help="print the summary table only")
    ap.add_argument("--tag", default="", help="results in drift_registration_<scenario><tag>.json")
    args = ap.parse_args()
    if args.table:
        table()
        return
    RESULTS.mkdir(exist_ok=True)
    print(HEADER, flush=True)
    for scenario in args.scenarios:
        out = RESULTS / f"drift_registration_{scenario}{args.tag}.json"
        rows = json.loads(out.read_text()) if out.exists() else []
        done = {(r["seed"], r["noise_scale"]) for r in rows}
        with tempfile.TemporaryDirectory() as tmp:
            for seed in args.seeds:  # seeds outer: every noise level early
                for ns in args.noise:
                    if (seed, ns) in done:
                        continue
                    if scenario == "irm-galvanostatic":
                        r = run_galvanostatic(seed, ns, args.old)
                    else:
                        r = run_cv(seed, ns, args.old, Path(tmp))
                    rows.append(r)
                    out.write_text(json.dumps(rows, indent=1, default=float))
                    print(fmt(r), flush=True)


if __name__ == "__main__":
    main()
