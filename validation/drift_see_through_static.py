"""Onset maps of see-through-au with stage motion, registered on the cell's static part.

issue 13 "must show": onset maps with 5 px drift + vibration within 0.1 frame of their
drift-free error, registration ≤ 0.1 px. The simulated film changes everywhere as it
alloys, so the cell gets what a real one has (``simulate``'s ``static_texture``: the
window's dust, scratches and grain, and ``static_strip_um``: bare glass beyond the
film's edge, a band along the right of the field that never alloys).

Per seed and noise level (``noise_scale``), the simulation is run still and with 5 px
drift + 0.5 px vibration + 3 % blurred + 2 % dark frames, and for each movie (trans,
epi):

* ``still``: the still movie, as recorded (nothing to register);
* ``region_um``: the moving movie, bad frames out, registered on ``REGION_UM`` (the
  glass band with a margin of ~10 px from the film's edge: more than the drift);
* ``auto``: the same on the band :func:`platescope.optics.find_static_region` finds
  (the see-through pipeline's ``region = "auto"``);
* ``unregistered``: the moving movie, bad frames out, not registered.

Scored as the pipeline computes and ``validation/see_through.py`` scores it: the onset
map of each cycle-1 alloying step (``optics.onset_map`` on A = −log10 T (trans) or
log10 R/R0 (epi), I0 from the frames before the current, the pipeline's defaults), in
the planted stage windows (so that only the registration differs between cases),
median |error| over the pixels with an onset in both, in frames (÷ the median frame
interval) and seconds, the worst step; the registration's rms error per axis against
the planted shifts (good frames).

Usage::

    python validation/drift_see_through_static.py --seeds 1 2 3 4 5 --noise 0.5 1 2

Writes ``validation/results/drift_see_through_static.json`` (rows) and ``.md`` (table).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from platescope import optics
from platescope.pipeline._see_through import DEFAULTS, _optical_signal
from platescope.simulate import as_movie, make_see_through

MOTION = {
    "stage_drift_px": 5.0,
    "vibration_px": 0.5,
    "blurred_frame_frac": 0.03,
    "dark_frame_frac": 0.02,
}
STATIC = {"static_texture": 0.05, "static_strip_um": 3.0}
#: the glass band (film edge at x = 7.16 µm) with ~10 px margin, µm
REGION_UM = [8.0, 10.16, 0.0, 10.16]
RESULTS = Path(__file__).parent / "results"


def _onset_errors(movie, sim) -> dict:
    """Worst-step median |onset error| (frames, s) of a movie on the movie clock."""
    p = DEFAULTS["alloying"]
    mv = movie.assign_coords(t=movie.t.values - sim["time_offset_s"])  # echem clock
    signal, _, _, _ = _optical_signal(mv)
    signal = signal.compute() if hasattr(signal.data, "dask") else signal
    dt = float(np.median(np.diff(sim["frame_times_s"])))
    out: dict = {}
    worst_f, worst_s = 0.0, 0.0
    for st in sim["truth"]["echem"]["stages"]:
        if st["cycle"] != 1 or not st["name"].startswith("alloying"):
            continue
        j = int(st["name"].split()[-1])
        om = optics.onset_map(
            signal,
            t_start_s=st["t_start_s"],
            t_end_s=st["t_end_s"],
            level=p["level"],
            n_edge=p["n_edge"],
            sigma_um=p["sigma_um"],
            min_rise=p["min_rise"],
        ).values
        truth = np.asarray(sim["onset_maps"][j], float)
        ok = np.isfinite(om) & np.isfinite(truth)
        e_s = float(np.median(np.abs(om[ok] - truth[ok])))
        out[f"onset{j}_err_frames"] = e_s / dt
        out[f"onset{j}_err_s"] = e_s
        out[f"onset{j}_coverage"] = float(ok.sum() / max(np.isfinite(truth).sum(), 1))
        worst_f, worst_s = max(worst_f, e_s / dt), max(worst_s, e_s)
    out["onset_err_frames"] = worst_f
    out["onset_err_s"] = worst_s
    return out


def _registered(movie, truth_reg, region) -> tuple[object, dict]:
    t0 = time.process_time()
    st = optics.stabilize_movie(movie, register=region is not None, region=region or "whole")
    row: dict = {"stabilize_cpu_s": time.process_time() - t0}
    s = st["summary"]
    row["applied"] = s["applied"]
    row["applied_reason"] = s["applied_reason"]
    row["n_excluded"] = s["n_frames_excluded"]
    if st["shifts"] is not None:
        ok = ~st["quality"]["bad"].to_numpy(bool)
        ey = (st["shifts"]["dy_px"].to_numpy() - np.asarray(truth_reg["dy_px"]))[ok]
        ex = (st["shifts"]["dx_px"].to_numpy() - np.asarray(truth_reg["dx_px"]))[ok]
        row.update(
            rms_dy_px=float(np.sqrt(np.mean(ey**2))),
            rms_dx_px=float(np.sqrt(np.mean(ex**2))),
            err_est_rms_px=s["err_px_rms"],
            region=s["region"],
        )
    return st["movie"], row


def one(seed: int, ns: float, modes, cases) -> list[dict]:
    still = make_see_through("Au", seed=seed, noise_scale=ns, **STATIC)
    moving = make_see_through("Au", seed=seed, noise_scale=ns, **STATIC, **MOTION)
    truth_reg = moving["truth"]["registration"]
    rows = []
    for mode in modes:
        base = {"seed": seed, "noise_scale": ns, "mode": mode}
        ms, mm = as_movie(still, mode), as_movie(moving, mode)
        for case in cases:
            row = {**base, "case": case}
            if case == "still":
                movie = ms
            elif case == "unregistered":
                movie, r = _registered(mm, truth_reg, None)
                row.update(r)
            elif case == "region_um":
                movie, r = _registered(mm, truth_reg, REGION_UM)
                row.update(r)
            else:  # auto
                q = optics.frame_quality(mm)
                found = optics.find_static_region(mm, exclude=q["bad"].to_numpy(bool))
                row["auto_region_um"] = found["region_um"]
                row["auto_reason"] = found["reason"]
                movie, r = _registered(mm, truth_reg, found["region_um"] or "auto")
                row.update(r)
            row.update(_onset_errors(movie, moving if case != "still" else still))
            rows.append(row)
            print(
                f"| {mode} | {ns:g} | {seed} | {case} | "
                + (
                    f"{row['rms_dy_px']:.3f} / {row['rms_dx_px']:.3f} | {row['err_est_rms_px']:.3f} | "
                    f"{'applied' if row['applied'] else 'not applied'} | "
                    if "rms_dy_px" in row
                    else "– | – | – | "
                )
                + f"{row['onset_err_frames']:.3f} | {row['onset_err_s']:.3f} |",
                flush=True,
            )
    return rows


def table(rows: list[dict]) -> str:
    """Markdown: per mode and noise, over seeds (worst seed), each moving case vs still."""
    lines = [
        "| movie | noise × | seeds | case | rms err y / x (px), worst seed | err estimate (rms) | "
        "applied | onset err (frames), worst seed | onset err (s), worst seed | "
        "moving − still (frames), worst seed |",
        "|" + "---|" * 10,
    ]
    keys = sorted(
        {(r["mode"], r["noise_scale"]) for r in rows}, key=lambda k: (k[0] != "trans", k[1])
    )
    for mode, ns in keys:
        sub = [r for r in rows if r["mode"] == mode and r["noise_scale"] == ns]
        still = {r["seed"]: r for r in sub if r["case"] == "still"}
        for case in ("still", "region_um", "auto", "unregistered"):
            cr = [r for r in sub if r["case"] == case]
            if not cr:
                continue
            seeds = sorted(r["seed"] for r in cr)
            reg = [r for r in cr if "rms_dy_px" in r]
            delta = [
                r["onset_err_frames"] - still[r["seed"]]["onset_err_frames"]
                for r in cr
                if r["seed"] in still and case != "still"
            ]
            lines.append(
                f"| {mode} | {ns:g} | {len(seeds)} | {case} | "
                + (
                    f"{max(r['rms_dy_px'] for r in reg):.3f} / {max(r['rms_dx_px'] for r in reg):.3f} | "
                    f"{max(r['err_est_rms_px'] for r in reg):.3f} | "
                    f"{sum(bool(r['applied']) for r in reg)}/{len(reg)} | "
                    if reg and case != "unregistered"
                    else "– | – | – | "
                )
                + f"{max(r['onset_err_frames'] for r in cr):.3f} | "
                f"{max(r['onset_err_s'] for r in cr):.3f} | "
                + (f"{max(delta):+.3f} |" if delta else "– |")
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    ap.add_argument("--modes", nargs="+", default=["trans", "epi"])
    ap.add_argument("--cases", nargs="+", default=["still", "region_um", "auto", "unregistered"])
    ap.add_argument("--out", type=Path, default=RESULTS / "drift_see_through_static.json")
    args = ap.parse_args()
    rows: list[dict] = []
    if args.out.exists() and os.environ.get("APPEND"):
        rows = json.loads(args.out.read_text())
    print(
        "| movie | noise | seed | case | rms err y / x (px) | err estimate | decision | "
        "onset err (frames) | onset err (s) |"
    )
    print("|" + "---|" * 9)
    t0 = time.time()
    for ns in args.noise:
        for seed in args.seeds:
            rows.extend(one(seed, ns, args.modes, args.cases))
            args.out.write_text(json.dumps(rows, indent=1, default=str))
            args.out.with_suffix(".md").write_text(table(rows))
    print(f"\n{time.time() - t0:.0f} s wall, load {os.getloadavg()}")
    print(table(rows))


if __name__ == "__main__":
    main()
