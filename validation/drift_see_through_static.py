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
interval) and seconds, the worst step; the registration scored as
``validation/drift_registration.py`` scores it (``shift_scores``: rms error per axis
against the planted shifts over the good frames but the reference, the same with the
common offset — frame 0's own error — removed, and the error estimate's coverage:
the fraction of frame-axes with |true error| ≤ 2 × the estimate, ≈ 0.95 when it is
right); and the Cramér–Rao bound per axis of the registration region (noise-free
frame 0 of the moving movie over the region's pixels, shot + read noise at the run's
level, known reference: no registration on that region can beat it). Every row
records the load average and the CPU time of the registration.

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
from drift_registration import shift_scores

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


def region_crb(frame: np.ndarray, region_um, pixel_size_um: float, ns: float, read: float):
    """Cramér–Rao sd per axis (px) of a translation measured on the pixels of
    ``region_um`` = [x0, x1, y0, y1] (µm) of ``frame`` (noise-free counts) under shot
    and read noise (× ``ns``), known reference."""
    img = np.asarray(frame, float)
    gy, gx = np.gradient(img)
    var = ns**2 * (np.clip(img, 0, None) + read**2)
    ny, nx = img.shape
    x = np.arange(nx) * pixel_size_um
    y = np.arange(ny) * pixel_size_um
    sel = ((y >= region_um[2]) & (y <= region_um[3]))[:, None] & (
        (x >= region_um[0]) & (x <= region_um[1])
    )[None, :]
    j = np.array(
        [
            [(gy * gy / var)[sel].sum(), (gy * gx / var)[sel].sum()],
            [(gy * gx / var)[sel].sum(), (gx * gx / var)[sel].sum()],
        ]
    )
    return np.sqrt(np.diag(np.linalg.inv(j)))


_CRB_CACHE: dict = {}


def _crb_at_unit_noise(seed: int, mode: str, pixel_size_um: float, read: float) -> np.ndarray:
    """:func:`region_crb` of REGION_UM at noise_scale 1 (frame 0 of the noise-free
    moving simulation: frame 0 is never displaced), computed once per seed."""
    if seed not in _CRB_CACHE:
        clean = make_see_through("Au", seed=seed, noise_scale=0.0, **STATIC, **MOTION)
        _CRB_CACHE[seed] = {m: np.asarray(clean[m][0], float) for m in ("trans", "epi")}
    return region_crb(_CRB_CACHE[seed][mode], REGION_UM, pixel_size_um, 1.0, read)


def _registered(movie, truth_reg, region) -> tuple[object, dict]:
    t0 = time.process_time()
    st = optics.stabilize_movie(movie, register=region is not None, region=region or "whole")
    row: dict = {"stabilize_cpu_s": time.process_time() - t0, "loadavg": os.getloadavg()}
    s = st["summary"]
    row["applied"] = s["applied"]
    row["applied_reason"] = s["applied_reason"]
    row["n_excluded"] = s["n_frames_excluded"]
    if st["shifts"] is not None:
        bad = st["quality"]["bad"].to_numpy(bool)
        row.update(shift_scores(st["shifts"], truth_reg, bad))
        row.update(err_est_rms_px=s["err_px_rms"], region=s["region"])
    return st["movie"], row


def one(seed: int, ns: float, modes, cases) -> list[dict]:
    still = make_see_through("Au", seed=seed, noise_scale=ns, **STATIC)
    moving = make_see_through("Au", seed=seed, noise_scale=ns, **STATIC, **MOTION)
    truth_reg = moving["truth"]["registration"]
    read = moving["parameters"]["read_noise_counts"]
    rows = []
    for mode in modes:
        base = {"seed": seed, "noise_scale": ns, "mode": mode}
        # shot and read noise both scale with ns: the bound is ns × that at ns = 1
        c = ns * _crb_at_unit_noise(seed, mode, moving["pixel_size_um"], read)
        base.update(crb_region_dy_px=float(c[0]), crb_region_dx_px=float(c[1]))
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
    """Markdown: per mode and noise, over seeds, each moving case vs still (worst seed,
    and the median over seeds where it says so)."""
    lines = [
        "| movie | noise × | seeds | case | rms err y / x (px), worst seed | "
        "offset removed y / x, worst seed | CRB of region_um y / x (median) | "
        "err estimate (rms), largest | within 2σ, lowest | applied | "
        "onset err (frames), worst seed | moving − still (frames), median / worst seed | "
        "registration CPU s (median) | load avg (1 min) |",
        "|" + "---|" * 14,
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
            crb = (
                f"{np.median([r['crb_region_dy_px'] for r in cr]):.3f} / "
                f"{np.median([r['crb_region_dx_px'] for r in cr]):.3f}"
                if "crb_region_dy_px" in cr[0]
                else "–"
            )
            if reg and case != "unregistered":
                regs = (
                    f"{max(r['rms_dy_px'] for r in reg):.3f} / "
                    f"{max(r['rms_dx_px'] for r in reg):.3f} | "
                    f"{max(r['demeaned_dy_px'] for r in reg):.3f} / "
                    f"{max(r['demeaned_dx_px'] for r in reg):.3f} | {crb} | "
                    f"{max(r['err_est_rms_px'] for r in reg):.3f} | "
                    f"{min(r['cover_2sigma'] for r in reg):.2f} | "
                    f"{sum(bool(r['applied']) for r in reg)}/{len(reg)} | "
                )
            else:
                regs = f"– | – | {crb} | – | – | – | "
            cpu = [r["stabilize_cpu_s"] for r in cr if "stabilize_cpu_s" in r]
            load = [r["loadavg"][0] for r in cr if "loadavg" in r]
            lines.append(
                f"| {mode} | {ns:g} | {len(seeds)} | {case} | "
                + regs
                + f"{max(r['onset_err_frames'] for r in cr):.3f} | "
                + (f"{np.median(delta):+.3f} / {max(delta):+.3f} | " if delta else "– | ")
                + (f"{np.median(cpu):.0f} | " if cpu else "– | ")
                + (f"{min(load):.0f}–{max(load):.0f} |" if load else "– |")
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
