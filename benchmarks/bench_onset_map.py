"""Benchmark: per-pixel onset map (see-through alloying), compiled vs numpy, same process.

Run: ``python benchmarks/bench_onset_map.py [--sizes 200x256,200x512] [--repeat 3]``

Movie: normalised absorbance, float32, ``frames × size × size``, irregular frame times
(1 s ± 20 %), logistic rise (τ = 2 s) at a planted time per pixel, Gaussian noise 0.02.
Cases: ``onset_map`` with the compiled kernel on 1 and 2 threads, with the numpy
fallback (the former implementation and what a user writes with numpy: per-pixel end
levels, MAD noise from ``np.nanmedian`` of the frame differences, time below the level;
there is no SciPy routine for it), the kernel alone (``kernel_count``: the noise test
settled by a count, exact medians only where it cannot; ``kernel_select``: the former
kernel, two exact medians by selection for every pixel — the best exact selection per
pixel), and the memory-bound reference ``movie.sum(axis=0)``.
Best of ``--repeat`` (fallback: 1), CPU and wall time; the load average is recorded at
the start and the end. Writes ``benchmarks/results/onset_map.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make(frames: int, size: int, seed: int = 0):
    import xarray as xr

    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.8, 1.2, frames))
    tau = rng.uniform(0.25 * t[-1], 0.75 * t[-1], (size, size))
    v = np.empty((frames, size, size), np.float32)
    for i in range(frames):
        v[i] = 1.0 / (1.0 + np.exp(-(t[i] - tau) / 2.0)) + rng.normal(0, 0.02, (size, size))
    return xr.DataArray(v, dims=("t", "y", "x"), coords={"t": t}), tau


def best(fn, repeat):
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200x256,200x512")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="onset_map.json")
    args = ap.parse_args()
    from platescope.optics import _kernels, onset_map

    load0 = os.getloadavg()
    cases = []
    for spec in args.sizes.split(","):
        frames, size = (int(v) for v in spec.split("x"))
        movie, tau = make(frames, size)
        t = movie.t.values

        def run(threads, kernels, movie=movie, t=t):
            os.environ["PLATESCOPE_THREADS"] = str(threads)
            os.environ["PLATESCOPE_KERNELS"] = kernels
            try:
                return onset_map(movie, t_start_s=t[0], t_end_s=t[-1], sigma_um=0).values
            finally:
                os.environ.pop("PLATESCOPE_THREADS")
                os.environ.pop("PLATESCOPE_KERNELS")

        onset_map(movie[:, :8, :8], t_start_s=t[0], t_end_s=t[-1], sigma_um=0)  # compile

        def kernel(method, movie=movie, t=t):
            os.environ["PLATESCOPE_THREADS"] = "1"
            try:
                return _kernels.onset_numba_movie(
                    movie.values, t=t, level=0.5, n=3, min_rise=0.2, min_snr=5.0, _method=method
                )
            finally:
                os.environ.pop("PLATESCOPE_THREADS")

        kernel("select")  # compile
        timing, outs = {}, {}
        for name, fn, rep in (
            ("reduction_sum", lambda movie=movie: movie.values.sum(axis=0), args.repeat),
            ("ours_1_thread", lambda: run(1, "numba"), args.repeat),
            ("ours_2_threads", lambda: run(2, "numba"), args.repeat),
            ("kernel_count", lambda: kernel("count"), args.repeat),
            ("kernel_select", lambda: kernel("select"), args.repeat),
            ("numpy_fallback", lambda: run(1, "numpy"), 1),
        ):
            w, c, out = best(fn, rep)
            timing[name] = {"wall_s": w, "cpu_s": c, "ns_per_sample_cpu": c / movie.size * 1e9}
            outs[name] = out
        a, b = outs["ours_1_thread"], outs["numpy_fallback"]
        cases.append(
            {
                "frames": frames,
                "size": size,
                "timing": timing,
                "ratios": {
                    "vs_numpy_cpu": timing["numpy_fallback"]["cpu_s"]
                    / timing["ours_1_thread"]["cpu_s"],
                    "fraction_of_reduction_pass_per_core_cpu": timing["reduction_sum"]["cpu_s"]
                    / timing["ours_1_thread"]["cpu_s"],
                    "speedup_1_to_2_threads_wall": timing["ours_1_thread"]["wall_s"]
                    / timing["ours_2_threads"]["wall_s"],
                    "max_abs_diff_vs_numpy_s": float(np.nanmax(np.abs(a - b))),
                    "numba_equals_numpy_fallback_bitwise": bool(
                        np.array_equal(a, b, equal_nan=True)
                    ),
                    "threads_equal_bitwise": bool(
                        np.array_equal(a, outs["ours_2_threads"], equal_nan=True)
                    ),
                    "fraction_of_reduction_pass_per_core_wall": timing["reduction_sum"]["wall_s"]
                    / timing["ours_1_thread"]["wall_s"],
                    "kernel_count_fraction_of_reduction_pass_cpu": timing["reduction_sum"]["cpu_s"]
                    / timing["kernel_count"]["cpu_s"],
                    "kernel_select_fraction_of_reduction_pass_cpu": timing["reduction_sum"]["cpu_s"]
                    / timing["kernel_select"]["cpu_s"],
                    "kernel_select_over_count_cpu": timing["kernel_select"]["cpu_s"]
                    / timing["kernel_count"]["cpu_s"],
                    "kernels_equal_bitwise": bool(
                        np.array_equal(outs["kernel_count"], outs["kernel_select"], equal_nan=True)
                    ),
                    "same_nan": bool(np.array_equal(np.isnan(a), np.isnan(b))),
                    "median_abs_error_s": float(np.nanmedian(np.abs(a - tau))),
                },
            }
        )
        print(json.dumps(cases[-1], indent=1))
    report = {
        "benchmark": "onset_map",
        "cases": cases,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_at_start": load0,
            "loadavg_at_end": os.getloadavg(),
        },
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(report, indent=2))
    print(f"load average start/end: {load0} / {os.getloadavg()}")


if __name__ == "__main__":
    main()
