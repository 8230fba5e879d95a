"""Benchmark: CE(IRM) window means (the per-pixel work of the CE maps), same process.

Run: ``python benchmarks/bench_ce_map.py [--sizes 400x256,400x512] [--repeat 5]``

Prints a table and writes ``benchmarks/results/ce_map.json``.

Movie: landing-subtracted IRM signal as the ``irm-cv`` pipeline hands it to
``ce_intensity_changes``: float32, ``frames × size × size``, frame interval 0.25 s,
cyclic voltammograms of 25 s (plating ramp 10 s, stripping ramp 10 s, rest 5 s) with a
per-pixel deposit and stripping ratio, Gaussian noise. The CE maps need the mean image of
the frames within ±1 s (``window_s=2``) of three instants per cycle (start, switch, end).

Cases (all on the in-memory array, best of ``--repeat`` interleaved rounds, wall clock
and CPU time; the matmul baseline last in each round and a 0.25 s pause after it, so
OpenBLAS's spinning workers have stopped before the next case):

- ``baseline_user``: what a user writes —
  ``np.stack([movie[np.abs(t - c) <= 1.0].mean(axis=0) for c in instants])``
  (a boolean-mask copy of each window's frames, then numpy's float32 mean);
- ``former_matmul``: the former platescope code (dense float64 weights @ a float32 copy
  of the used frames);
- ``ours_1_thread`` / ``ours_2_threads``: ``platescope.optics.window_means`` with the
  compiled kernel (float64 sums of each instant's frames read in place);
- ``ours_numpy_fallback``: the same function with ``PLATESCOPE_KERNELS=numpy``
  (checked bit-identical to the compiled kernel);
- ``reduction_sum``: the memory-bound reference, ``movie[:S].sum(axis=0)`` over as many
  frames ``S`` as the windows read in all (``Σ n_frames``), i.e. one reduction pass
  over the same number of samples;
- ``reduction_distinct``: ``movie[:U].sum(axis=0)`` over as many frames ``U`` as the
  windows read *distinct* frames — the windows of a cycle's end and the next cycle's
  start overlap, so ``U < S``: a frame read twice comes the second time from cache,
  and only ``U`` frames cross the memory bus;
- ``reduction_distinct_2_threads``: the same reduction split into two halves of rows
  summed on two threads at once (numpy releases the GIL): how much a second core adds
  to a memory-bound pass on this machine — the ceiling for our 2-thread ratio;
- ``output_fill``: ``np.zeros((instants, y, x))`` filled — writing the float64 result
  to fresh memory (page faults and zeroing included), which the kernel must do and a
  reduction pass (one float32 image out) does not.

``fraction_of_memory_floor_per_core_cpu`` = (``reduction_distinct`` + ``output_fill``) /
ours: the fraction of the bytes the task must move at least (distinct frames in, the
float64 images out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# ``former_matmul`` runs last in each round, then a pause: after a BLAS product
# OpenBLAS's worker threads busy-wait ≈ 0.1 s (2²⁸ cycles) for more work, a whole core —
# measured in one process: 100 ms of CPU during a 100–200 ms sleep after
# ``weights @ frames``. Before, ours on 1 and 2 threads ran right after the product,
# beside that spinning thread: their CPU time included it and the 2-thread run had one
# free core, not two.
SETTLE_S = 0.25
_POOL: dict = {}
DT = 0.25
PERIOD = 25.0
WINDOW_S = 2.0


def make_movie(frames: int, size: int, seed: int = 0):
    """float32 movie (frames, size, size), frame times (s), instants (s)."""
    rng = np.random.default_rng(seed)
    t = DT * np.arange(frames)
    yy, xx = np.mgrid[:size, :size]
    dep = 100.0 + 40.0 * np.sin(xx / 25.0) * np.cos(yy / 31.0)
    ratio = np.clip(0.6 + 0.2 * np.cos(yy / 20.0), 0, 1)
    movie = np.empty((frames, size, size), np.float32)
    for i, ti in enumerate(t):  # frame by frame: no float64 copy of the movie
        n, tau = divmod(ti, PERIOD)
        up = min(tau / 10.0, 1.0)
        down = min(max((tau - 10.0) / 10.0, 0.0), 1.0)
        base = n * dep * (1.0 - ratio)
        movie[i] = base + dep * up - ratio * dep * down + rng.normal(0.0, 3.0, (size, size))
    n_cycles = int(t[-1] // PERIOD)
    starts = PERIOD * np.arange(n_cycles)
    instants = np.concatenate([starts, starts + 10.0, starts + PERIOD - DT])
    return movie, t, instants


def best_of(fn, repeat):
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), out


def reduction_2_threads(frames):
    """``frames.sum(axis=0)``, the two halves of the rows on two threads at once (a
    pool kept between calls, as the kernels' is)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = _POOL.setdefault("pool", ThreadPoolExecutor(2)) if not _POOL else _POOL["pool"]
    half = frames.shape[1] // 2
    out = np.empty(frames.shape[1:], frames.dtype)

    def part(r0, r1):
        np.sum(frames[:, r0:r1], axis=0, out=out[r0:r1])

    for f in [pool.submit(part, 0, half), pool.submit(part, half, frames.shape[1])]:
        f.result()
    return out


def baseline_user(movie, t, instants):
    return np.stack([movie[np.abs(t - c) <= 0.5 * WINDOW_S].mean(axis=0) for c in instants])


def former_matmul(movie, t, instants):
    from platescope.optics._ce_map import _window_matrix

    weights, used = _window_matrix(t, instants, WINDOW_S, (-np.inf, np.inf))
    block = np.asarray(movie[used], dtype=np.float32)
    return (weights @ block.reshape(used.size, -1)).reshape(instants.size, *movie.shape[1:])


def time_case(frames: int, size: int, repeat: int) -> dict:
    import xarray as xr

    from platescope.optics import window_means

    movie, t, instants = make_movie(frames, size)
    mv = xr.DataArray(movie, dims=("t", "y", "x"), coords={"t": t})

    def ours(threads, kernels="numba"):
        def fn():
            os.environ["PLATESCOPE_THREADS"] = str(threads)
            os.environ["PLATESCOPE_KERNELS"] = kernels
            try:
                return window_means(mv, instants, window_s=WINDOW_S).values
            finally:
                os.environ.pop("PLATESCOPE_THREADS")
                os.environ.pop("PLATESCOPE_KERNELS")

        return fn

    window_means(mv[:, :8, :8], instants, window_s=WINDOW_S)  # compile / load the cache
    n_read = int(sum(window_means(mv[:, :1, :1], instants, window_s=WINDOW_S).attrs["n_frames"]))
    n_distinct = int(
        np.count_nonzero(np.any(np.abs(t[None] - instants[:, None]) <= 0.5 * WINDOW_S, 0))
    )
    samples = n_read * size * size
    cases = {
        "reduction_sum": lambda: movie[:n_read].sum(axis=0),
        "reduction_distinct": lambda: movie[:n_distinct].sum(axis=0),
        "reduction_distinct_2_threads": lambda: reduction_2_threads(movie[:n_distinct]),
        "output_fill": lambda: np.full((instants.size, size, size), 0.0),
        "baseline_user": lambda: baseline_user(movie, t, instants),
        "ours_1_thread": ours(1),
        "ours_2_threads": ours(2),
        "ours_numpy_fallback": ours(1, "numpy"),
        "former_matmul": lambda: former_matmul(movie, t, instants),  # last: BLAS, then a pause
    }
    runs = {k: [] for k in cases}
    outs = {}
    for _ in range(repeat):  # interleaved: load changes hit all cases alike
        for name, fn in cases.items():
            w, c, out = best_of(fn, 1)
            runs[name].append((w, c))
            outs[name] = out
        time.sleep(SETTLE_S)  # OpenBLAS's idle workers spin ≈ 0.1 s after the product
    timing = {
        name: {
            "wall_s": min(r[0] for r in rr),
            "cpu_s": min(r[1] for r in rr),
            "ns_per_sample_cpu": min(r[1] for r in rr) / samples * 1e9,
        }
        for name, rr in runs.items()
    }
    o1, o2 = timing["ours_1_thread"], timing["ours_2_threads"]
    ref = outs["former_matmul"]
    ratios = {
        "vs_user_cpu_1_thread": timing["baseline_user"]["cpu_s"] / o1["cpu_s"],
        "vs_user_wall_1_thread": timing["baseline_user"]["wall_s"] / o1["wall_s"],
        "vs_former_cpu_1_thread": timing["former_matmul"]["cpu_s"] / o1["cpu_s"],
        "fraction_of_reduction_pass_per_core_cpu": timing["reduction_sum"]["cpu_s"] / o1["cpu_s"],
        "fraction_of_reduction_pass_per_core_wall": timing["reduction_sum"]["wall_s"]
        / o1["wall_s"],
        "fraction_of_memory_floor_per_core_cpu": (
            timing["reduction_distinct"]["cpu_s"] + timing["output_fill"]["cpu_s"]
        )
        / o1["cpu_s"],
        "cpu_2_threads_over_1_thread": o2["cpu_s"] / o1["cpu_s"],
        "speedup_1_to_2_threads_wall": o1["wall_s"] / o2["wall_s"],
        "reduction_speedup_1_to_2_threads_wall": timing["reduction_distinct"]["wall_s"]
        / timing["reduction_distinct_2_threads"]["wall_s"],
        "numba_equals_numpy_fallback_bitwise": bool(
            np.array_equal(outs["ours_1_thread"], outs["ours_numpy_fallback"])
        ),
        "threads_equal_bitwise": bool(
            np.array_equal(outs["ours_1_thread"], outs["ours_2_threads"])
        ),
        "max_rel_diff_vs_former": float(
            np.max(np.abs(outs["ours_1_thread"] - ref)) / np.max(np.abs(ref))
        ),
        "max_rel_diff_vs_user": float(
            np.max(np.abs(outs["ours_1_thread"] - outs["baseline_user"])) / np.max(np.abs(ref))
        ),
    }
    return {
        "frames": frames,
        "size": size,
        "instants": int(instants.size),
        "frames_read": n_read,
        "distinct_frames_read": n_distinct,
        "movie_mb": movie.nbytes / 2**20,
        "timing": timing,
        "ratios": ratios,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="400x256,400x512", help="FRAMESxSIZE,…")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default="ce_map.json")
    args = ap.parse_args()
    from platescope.optics import _kernels

    load0 = os.getloadavg()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    cases = [time_case(f, n, args.repeat) for f, n in sizes]
    report = {
        "benchmark": "ce_map (window_means)",
        "window_s": WINDOW_S,
        "baseline_user": "np.stack([movie[np.abs(t - c) <= 1.0].mean(axis=0) for c in instants])",
        "reduction": "movie[:S].sum(axis=0), S = frames read by all windows",
        "memory_floor": "movie[:U].sum(axis=0) (U distinct frames) + np.full((K, y, x), 0.0)",
        "backend": _kernels.backend(),
        "cases": cases,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "loadavg_at_start": load0,
            "loadavg_at_end": os.getloadavg(),
        },
    }
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / args.out).write_text(json.dumps(report, indent=2))
    for c in cases:
        print(
            f"\nmovie {c['frames']} x {c['size']}² float32 ({c['movie_mb']:.0f} MB), "
            f"{c['instants']} instants, {c['frames_read']} frames read "
            f"({c['distinct_frames_read']} distinct)"
        )
        print(f"{'case':<22}{'wall s':>9}{'cpu s':>9}{'ns/sample':>11}")
        for name, r in c["timing"].items():
            print(f"{name:<22}{r['wall_s']:>9.4f}{r['cpu_s']:>9.4f}{r['ns_per_sample_cpu']:>11.3f}")
        for k, v in c["ratios"].items():
            print(f"  {k}: {v if isinstance(v, bool) else round(v, 3)}")
    print(f"\nload average start/end: {load0} / {os.getloadavg()}")
    print(f"wrote {out_dir / args.out}")


if __name__ == "__main__":
    main()
