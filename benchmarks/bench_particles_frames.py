"""Benchmark: particle analysis of a movie's frames on 1 vs 2 (or more) threads.

Run: ``python benchmarks/bench_particles_frames.py [--frames 160] [--size 384] [--repeat 3]
[--pool thread|process] [--gil] [--out NAME.json]`` → ``benchmarks/results/particles_frames.json``.

``--pool process`` runs ``workers`` > 1 in worker processes (``detect_deposits(pool=
"process")``); CPU is then this process's only (the workers' CPU is not counted), so
compare wall times.

Work: :func:`platescope.particles.detect_deposits` (per frame: contrast, fixed
threshold, labels, half-maximum outlines, measurements) on a synthetic bright-field
movie of ~120 dark growing disks with camera noise, in memory, ``workers`` = 1, 2, …
Same process, interleaved repeats, median wall and CPU; the tables must be identical.
The load average is recorded: on 2 shared cores the 2-thread figure is meaningful
only when a core is free.

``--gil`` adds the thread CPU of the per-frame stages and an estimate of the part that
holds the GIL (:func:`gil_report`; no quiet machine needed), and Amdahl's 2-thread
speed-up from it.
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


def _thread_cpu(fn, repeat: int = 5) -> float:
    """Median thread CPU (s) of ``fn()``."""
    out = []
    for _ in range(repeat):
        c0 = time.thread_time()
        fn()
        out.append(time.thread_time() - c0)
    return statistics.median(out)


def gil_report(movie) -> dict:
    """Thread CPU per frame of the serial run's stages and an estimate of the part that
    holds the GIL, which does not need a quiet machine.

    The array calls (medians, filters, labelling, distance transforms, ``bincount``,
    sorts, ``where``) release the GIL on whole frames; what holds it is the Python
    between them and calls on small arrays. That part is estimated as the CPU of the
    same per-frame code on a 24 × 24 crop around one deposit (the same calls, almost no
    pixels), plus the traced-perimeter walk (one numpy step per boundary edge on
    arrays of a few hundred deposits: all overhead) and the table built once.
    """
    from platescope.particles._deposit_frames import (
        _contrast_frames,
        _half_max_labels,
        measure_frames,
    )
    from platescope.particles._detect import segment_particles
    from platescope.particles._measure import _traced_perimeter
    from platescope.particles._tracking import _deposit_table

    raw = np.asarray(movie.values)
    n_t = raw.shape[0]
    t = np.asarray(movie["t"].values, float)
    opts = {
        "polarity": "dark",
        "sigma_px": (1.0, 1.0),
        "dy": 0.5,
        "dx": 0.5,
        "thr": 0.1,
        "watershed": False,
        "min_area_um2": 2.0,
        "max_area_um2": None,
        "roi": None,
        "edge": "half-max",
        "grow_px": 3.0,
    }

    def per_frame(frames):  # contrast, segmentation, half-max outlines, one frame at a time
        out = []
        for k in range(frames.shape[0]):
            c = _contrast_frames(frames[k : k + 1], polarity="dark", sigma_px=(1.0, 1.0))[0]
            lab = segment_particles(
                c, spacing=0.5, method="fixed", threshold=0.1, watershed=False, min_area_um2=2.0
            )
            out.append(_half_max_labels(lab, c, 3.0)[0])
        return out

    labels = per_frame(raw)
    # a 24 × 24 crop around the largest deposit of the last frame, in every frame
    last = labels[-1]
    big = np.argmax(np.bincount(last.ravel())[1:]) + 1
    cy, cx = (int(np.mean(v)) for v in np.nonzero(last == big))
    y0, x0 = max(0, cy - 12), max(0, cx - 12)
    tiny = raw[:, y0 : y0 + 24, x0 : x0 + 24]
    blocks = range(0, n_t, 8)
    stacks = [np.stack(labels[k : k + 8]).astype(np.int64) for k in blocks]
    walk = []
    for st in stacks:
        lab = np.where(
            st > 0,
            st + np.concatenate([[0], np.cumsum(st.max(axis=(1, 2)))[:-1]])[:, None, None],
            0,
        )
        walk.append((np.pad(lab, [(0, 0), (1, 1), (1, 1)]), np.unique(lab[lab > 0])))
    parts = [measure_frames(raw[k : k + 8], k, t[k : k + 8], opts) for k in blocks]
    cpu = {
        "per-frame steps (full frames)": _thread_cpu(lambda: per_frame(raw), 3),
        "measure_frames (blocks of 8, all steps)": _thread_cpu(
            lambda: [measure_frames(raw[k : k + 8], k, t[k : k + 8], opts) for k in blocks], 3
        ),
    }
    held = {
        "per-frame steps on a 24 x 24 crop": _thread_cpu(lambda: per_frame(tiny)),
        "traced-perimeter walk (blocks of 8)": _thread_cpu(
            lambda: [_traced_perimeter(lab, ids) for lab, ids in walk]
        ),
        "table built once": _thread_cpu(
            lambda: _deposit_table(parts, edge="half-max", y0=0.0, x0=0.0)
        ),
    }
    total = cpu["measure_frames (blocks of 8, all steps)"]
    h = sum(held.values()) / total
    return {
        "frames": n_t,
        "thread_cpu_ms_per_frame": {k: 1e3 * v / n_t for k, v in cpu.items()},
        "gil_held_estimate_ms_per_frame": {k: 1e3 * v / n_t for k, v in held.items()},
        "held_share": h,
        "amdahl_2_threads": 1.0 / (h + (1.0 - h) / 2.0),
    }


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
    ap.add_argument("--gil", action="store_true", help="add the GIL-held estimate")
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
    if args.gil:
        res["gil"] = gil_report(movie)
        res["load_1min"].append(os.getloadavg()[0])
    print(json.dumps(res, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
