"""Benchmark: particle analysis of a movie's frames on 1 vs 2 (or more) threads.

Run: ``python benchmarks/bench_particles_frames.py [--frames 160] [--size 384] [--repeat 3]
[--pool thread|process] [--out NAME.json]`` → ``benchmarks/results/particles_frames.json``.

``--pool process`` runs ``workers`` > 1 in worker processes (``detect_deposits(pool=
"process")``); CPU is then this process's only (the workers' CPU is not counted), so
compare wall times.

Work: :func:`platescope.particles.detect_deposits` (per frame: contrast, fixed
threshold, labels, half-maximum outlines, measurements) on a synthetic bright-field
movie of ~120 dark growing disks with camera noise, in memory, ``workers`` = 1, 2, …
Same process, interleaved repeats, median wall and CPU; the tables must be identical.
The load average is recorded: on 2 shared cores the 2-thread figure is meaningful
only when a core is free.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_movie(frames: int, size: int, seed: int = 0):
    import xarray as xr
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    n = max(8, int(120 * (size / 384) ** 2))
    yc, xc = rng.uniform(0, size, n), rng.uniform(0, size, n)
    r0, rate = rng.uniform(1, 3, n), rng.uniform(0.02, 0.06, n)
    yy, xx = np.mgrid[:size, :size]
    out = np.empty((frames, size, size), np.uint16)
    for t in range(frames):
        dark = np.zeros((size, size))
        r = r0 + rate * t
        for k in range(n):  # small windows only
            y0, y1 = int(max(yc[k] - r[k] - 3, 0)), int(min(yc[k] + r[k] + 4, size))
            x0, x1 = int(max(xc[k] - r[k] - 3, 0)), int(min(xc[k] + r[k] + 4, size))
            d = np.hypot(yy[y0:y1, x0:x1] - yc[k], xx[y0:y1, x0:x1] - xc[k])
            dark[y0:y1, x0:x1] += 0.4 * np.clip(0.5 + r[k] - d, 0, 1)
        img = 2000.0 * (1 - ndimage.gaussian_filter(dark, 1.2))
        out[t] = np.clip(img + rng.normal(0, 20, img.shape), 0, 65535)
    return xr.DataArray(
        out,
        dims=("t", "y", "x"),
        coords={
            "t": np.arange(frames) * 1.0,
            "y": np.arange(size) * 0.5,
            "x": np.arange(size) * 0.5,
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument(
        "--pool",
        default="thread",
        choices=("thread", "process"),
        help="how workers > 1 run (detect_deposits(pool=...))",
    )
    ap.add_argument("--out", default="particles_frames.json")
    args = ap.parse_args()

    from platescope.particles import detect_deposits

    movie = make_movie(args.frames, args.size)
    counts = [int(w) for w in args.workers.split(",")]
    wall = {w: [] for w in counts}
    cpu = {w: [] for w in counts}
    tables = {}
    load = [os.getloadavg()]
    detect_deposits(movie.isel(t=slice(0, 8)), threshold=0.1, workers=1)  # warm imports
    for _ in range(args.repeat):
        for w in counts:
            t0, c0 = time.perf_counter(), time.process_time()
            tables[w] = detect_deposits(movie, threshold=0.1, workers=w, pool=args.pool)
            wall[w].append(time.perf_counter() - t0)
            cpu[w].append(time.process_time() - c0)
        load.append(os.getloadavg())
    base = counts[0]
    same = all(tables[w].equals(tables[base]) for w in counts)
    res = {
        "movie": [args.frames, args.size, args.size],
        "pool": args.pool,
        "rows": len(tables[base]),
        "identical_tables": same,
        "cpus": os.cpu_count(),
        "load_1min": [x[0] for x in load],
        "workers": {
            str(w): {
                "wall_s": statistics.median(wall[w]),
                "cpu_s": statistics.median(cpu[w]),
                "all_wall_s": wall[w],
                "speedup_vs_1": statistics.median(wall[base]) / statistics.median(wall[w]),
            }
            for w in counts
        },
    }
    print(json.dumps(res, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
