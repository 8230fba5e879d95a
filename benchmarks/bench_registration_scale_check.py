"""Benchmark: what the static refinement's scale-consistency check costs ``stabilize_movie``.

Run: ``python benchmarks/bench_registration_scale_check.py [--seed 1] [--repeats 2]``.

For irm-galvanostatic and irm-cv (``make_irm_*`` with their defaults, seed 1: the
still movie; and the same with 5 px drift + 0.5 px vibration + 3 % blurred + 2 % dark
frames, as ``validation/drift_registration.py``), :func:`platescope.optics.stabilize_movie`
(``region = "auto"``) is run in this process with the previous refinement (σ = 8 px
high-pass, no check: ``_STATIC_HIGHPASS_SCALE = _CHECK_HIGHPASS_SCALE = 1``) and with
the current default (16 px, checked at 8 px — since session 26 only when the shifts
without the check show motion above the noise, so on a still movie it is skipped:
``scale_check`` in each row), alternating, ``--repeats`` times each.
Reported: CPU time (``resource.getrusage``, user + system, every thread), wall time,
the ratio current / previous of the median CPU times, the registration path, whether
a shift was applied, and the load average before and after each run.

Writes ``benchmarks/results/registration_scale_check.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

import platescope.optics._registration as reg
from platescope import optics
from platescope.simulate import as_movie, make_irm_cv, make_irm_galvanostatic

OUT = Path(__file__).resolve().parent / "results" / "registration_scale_check.json"
MOTION = {"stage_drift_px": 5.0, "vibration_px": 0.5}
BAD = {"blurred_frame_frac": 0.03, "dark_frame_frac": 0.02}
SETTINGS = {
    "previous (8 px, no check)": (1.0, 1.0),
    "current (16 px + 8 px check)": (reg._STATIC_HIGHPASS_SCALE, reg._CHECK_HIGHPASS_SCALE),
}


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for name, make in (("irm-galvanostatic", make_irm_galvanostatic), ("irm-cv", make_irm_cv)):
        for label, extra in (("still", {}), ("moving", {**MOTION, **BAD})):
            movie = as_movie(make(seed=args.seed, **extra))
            for rep in range(args.repeats):
                for setting, (kept, check) in SETTINGS.items():
                    reg._STATIC_HIGHPASS_SCALE, reg._CHECK_HIGHPASS_SCALE = kept, check
                    load0, c0, w0 = _load(), _cpu_s(), time.perf_counter()
                    res = optics.stabilize_movie(movie, region="auto")
                    row = {
                        "scenario": name,
                        "movie": label,
                        "frames": int(movie.sizes["t"]),
                        "size_px": int(movie.sizes["x"]),
                        "setting": setting,
                        "repeat": rep,
                        "cpu_s": _cpu_s() - c0,
                        "wall_s": time.perf_counter() - w0,
                        "load_before": load0,
                        "load_after": _load(),
                        "path": res["summary"].get("path"),
                        "applied": bool(res["summary"]["applied"]),
                        "scale_check": res["summary"].get("scale_check"),
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    OUT.parent.mkdir(exist_ok=True)
                    OUT.write_text(json.dumps(rows, indent=1))
    for name in ("irm-galvanostatic", "irm-cv"):
        for label in ("still", "moving"):
            med = {
                s: float(
                    np.median(
                        [
                            r["cpu_s"]
                            for r in rows
                            if (r["scenario"], r["movie"], r["setting"]) == (name, label, s)
                        ]
                    )
                )
                for s in SETTINGS
            }
            a, b = med.values()
            print(f"{name} {label}: CPU s {a:.1f} → {b:.1f} (× {b / a:.2f})")


if __name__ == "__main__":
    main()
