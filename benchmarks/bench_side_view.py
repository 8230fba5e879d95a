"""Benchmark: side-view front profiles — vectorised vs a per-column loop, numpy vs dask.

Run: ``python benchmarks/bench_side_view.py [--frames 200] [--width 512] [--repeat 3]``

Prints a table and writes ``benchmarks/results/side_view.json``.

**Movie.** :func:`platescope.simulate._side_view.make_side_view` (capping band,
whiskers), ``--frames`` frames of 200 × ``--width`` px (uint16).

**Baseline** (what a user writes today, same process): for every frame and column, the
reference-subtracted column profile walked outward from the edge in Python until it
stays below half the level for 3 pixels, with the same linear half-maximum crossing —
the same answer as :func:`platescope.optics.front_profiles`, one column at a time. Its
levels are taken from ours (not timed), so only the per-column work is compared.

**Ours:** :func:`platescope.optics.front_profiles` on the in-memory movie, and on the
same movie as a dask array in chunks of 16 frames (lazy; ``.compute()`` timed).

Timing: best of ``--repeat``, wall clock, one process. The machine may be shared: the
load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import dask.array as da
import numpy as np
from scipy import ndimage

from platescope.optics import electrode_edge, front_profiles
from platescope.simulate import as_movie
from platescope.simulate._side_view import make_side_view


def baseline(movie, edge, prof_attrs, n_ref=3, gap=3):
    """Per-column loop with the same rules (front at half the outermost level)."""
    data = np.asarray(movie.values, float)
    ref = data[:n_ref].mean(axis=0)
    # the deposit's sign: that of the last frame's difference just beyond the edge
    late = data[-1] - ref
    line = np.asarray(edge["rows_px"], float)
    s = -1 if edge["growth_direction"] == "up" else 1
    probe = late[
        np.clip(np.rint(line).astype(int) + 5 * s, 0, data.shape[1] - 1), np.arange(data.shape[2])
    ]
    sign = 1.0 if np.median(probe) > 0 else -1.0
    thr = 0.5 * prof_attrs["level_outer"]
    out = np.zeros((data.shape[0], data.shape[2]))
    for k in range(data.shape[0]):
        diff = ndimage.gaussian_filter1d(sign * (data[k] - ref), 1.0, axis=0, mode="nearest")
        for x in range(data.shape[2]):
            base = int(round(line[x]))
            rows = [
                base + s * j for j in range(-3, data.shape[1]) if 0 <= base + s * j < data.shape[1]
            ]
            vals = [diff[r, x] for r in rows]
            dist = [s * (r - line[x]) for r in rows]
            h = np.nan
            for i in range(3, len(vals)):
                if all(v <= thr for v in vals[i : i + gap]):
                    j = i - 1
                    if j < 3:
                        h = 0.0
                    else:
                        f = (vals[j] - thr) / (vals[j] - vals[j + 1])
                        h = dist[j] + min(max(f, 0), 1) * (dist[j + 1] - dist[j])
                    break
            out[k, x] = h
    return out


def best(fn, repeat):
    times = []
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return min(times), res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    interval = 3600.0 / args.frames
    sim = make_side_view(
        seed=1,
        field_width_px=args.width,
        field_height_px=200,
        frame_interval_s=interval,
        rest_s=3 * interval,
        plating_s=3600.0 - 6 * interval,
        current_density_mA_cm2=1.0,
    )
    movie = as_movie(sim, mode="trans")
    edge = electrode_edge(movie)
    t_np, prof = best(lambda: front_profiles(movie, edge).compute(), args.repeat)
    lazy = movie.copy(data=da.from_array(sim["movie"], chunks=(16, -1, -1)))
    t_da, prof_da = best(lambda: front_profiles(lazy, edge).compute(), args.repeat)
    t_base, base = best(lambda: baseline(movie, edge, prof.attrs), 1)
    h = prof["h_um"].values / prof.attrs["um_per_px"]
    agree = float(np.nanmax(np.abs(h - base)))
    res = {
        "movie": list(sim["movie"].shape),
        "ours_numpy_s": t_np,
        "ours_dask_s": t_da,
        "baseline_loop_s": t_base,
        "speedup_vs_loop": t_base / t_np,
        "dask_over_numpy": t_da / t_np,
        "max_abs_difference_px": agree,
        "dask_equals_numpy": bool(
            np.allclose(prof_da["h_um"].values, prof["h_um"].values, equal_nan=True)
        ),
        "loadavg": os.getloadavg(),
    }
    out = Path(__file__).parent / "results" / "side_view.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print("| case | s |\n|---|---|")
    print(f"| front_profiles, numpy | {t_np:.3f} |")
    print(f"| front_profiles, dask (16-frame chunks) | {t_da:.3f} |")
    print(f"| per-column Python loop | {t_base:.3f} |")
    print(f"speed-up {t_base / t_np:.0f}×; max |difference| {agree:.2g} px")


if __name__ == "__main__":
    main()
