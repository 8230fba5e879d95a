"""Benchmark: per-pixel t_nuc(IRM) map vs the plain SciPy recipe, same process.

Run: ``python benchmarks/bench_tnuc_map.py [--sizes 400x256,800x512] [--repeat 5]``

Prints a table and writes ``benchmarks/results/tnuc_map.json``.

Movie: synthetic IRM movie, uint16 (as cameras write it), ``frames × size × size``,
irregular frame times (0.23 s ± 30 %), per-pixel logistic rise (500 counts on 1000)
at a planted time, Poisson shot noise.

Baseline (what a user writes today, exactly)::

    d = scipy.signal.savgol_filter(movie, w, 2, deriv=1, delta=dt, axis=0)
    t_nuc = t[d.argmax(axis=0)]

on the uint16 numpy array (savgol_filter computes in float64). The baseline does
*less* than ``t_nuc_map``: it ignores the irregular frame times (no resampling) and has
no sub-frame refinement. Ours: ``platescope.optics.t_nuc_map(movie, window_s=...)``
with the compiled kernel on 1 and on 2 threads, and the numpy fallback (checked
bit-identical). Memory-bound reference: ``movie.sum(axis=0)`` (one pass over the
uint16 movie). Two movie sizes (``--sizes``).

Timing: best of ``--repeat`` interleaved runs (the baseline and the fallback: two),
wall clock (perf_counter) and CPU time (process_time). Memory: each case runs in a fresh subprocess reading the movie from a
zarr store through dask, or (``ours_memmap``) from a memory-mapped ``.npy`` file, so
the movie itself is not in RAM; reported are the tracemalloc peak (Python/numpy heap)
and the rise of peak RSS over the process's RSS after imports + opening the store
(VmHWM). For the memmap case RSS also counts the file pages mapped in (page cache, not
allocations), so only its tracemalloc figure measures the function's own memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WINDOW_S = 2.0


def make_movie(frames: int, size: int, seed: int = 0):
    """uint16 movie (frames, size, size), frame times (s), planted t0 map (s)."""
    rng = np.random.default_rng(seed)
    t = 1.0 + np.cumsum(np.r_[0.0, 0.23 * (1.0 + rng.uniform(-0.3, 0.3, frames - 1))])
    yy, xx = np.mgrid[:size, :size]
    t0 = 0.5 * (t[0] + t[-1]) + 5.0 * np.sin(yy / 40.0) * np.cos(xx / 50.0)
    t0 += rng.normal(0.0, 0.3, t0.shape)
    movie = np.empty((frames, size, size), dtype=np.uint16)
    for i in range(frames):  # frame by frame: the generator never holds float64 copies
        clean = 1000.0 + 500.0 / (1.0 + np.exp(-(t[i] - t0) / 1.0))
        movie[i] = rng.poisson(clean)
    return movie, t, t0


def window_samples(t: np.ndarray) -> tuple[int, float]:
    dt = float(np.median(np.diff(t)))
    w = int(round(WINDOW_S / dt))
    return w + 1 - w % 2, dt


def as_dataarray(data, t, size):
    import xarray as xr

    c = 0.04 * np.arange(size)
    return xr.DataArray(data, dims=("t", "y", "x"), coords={"t": t, "y": c, "x": c})


def baseline(movie: np.ndarray, t: np.ndarray) -> np.ndarray:
    from scipy.signal import savgol_filter

    w, dt = window_samples(t)
    d = savgol_filter(movie, w, 2, deriv=1, delta=dt, axis=0)
    return t[d.argmax(axis=0)]


def ours(movie, t, size):
    from platescope.optics import t_nuc_map

    return t_nuc_map(as_dataarray(movie, t, size), window_s=WINDOW_S).values


def best_of(fn, repeat):
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), out


# --------------------------------------------------------------------------- memory


def _rss_peak_mb() -> float:
    """Peak RSS of this process image (VmHWM; ru_maxrss would inherit the parent's)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(method: str, store: str) -> None:
    """Run one case in this (fresh) process and print a JSON line with its memory."""
    import dask.array as da
    import zarr

    import platescope.optics  # noqa: F401  (imports counted in the RSS baseline)

    z = zarr.open_array(store, mode="r")
    t = np.asarray(z.attrs["t"], dtype=float)
    size = z.shape[1]
    lazy = da.from_zarr(z)
    mapped = np.load(store.replace(".zarr", ".npy"), mmap_mode="r")
    rss0 = _rss_peak_mb()
    tracemalloc.start()
    if method == "ours":
        ours(lazy, t, size)
    elif method == "ours_memmap":
        ours(mapped, t, size)
    else:  # the baseline needs the movie as an array: that is its memory cost
        baseline(np.asarray(lazy), t)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"tracemalloc_peak_mb": peak, "rss_rise_mb": _rss_peak_mb() - rss0}))


def memory_cases(frames_list, size, tmp):
    import zarr

    rows = []
    for frames in frames_list:
        movie, t, _ = make_movie(frames, size, seed=1)
        store = os.path.join(tmp, f"movie_{frames}.zarr")
        z = zarr.create_array(store, shape=movie.shape, chunks=(16, size, size), dtype="uint16")
        z[:] = movie
        z.attrs["t"] = t.tolist()
        np.save(store.replace(".zarr", ".npy"), movie)
        movie_mb = movie.nbytes / 2**20
        del movie
        for method in ("ours", "ours_memmap", "baseline"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", method, store],
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise RuntimeError(f"memory case {method}/{frames} failed:\n{out.stderr}")
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"method": method, "frames": frames, "movie_uint16_mb": movie_mb, **rec})
    return rows


# --------------------------------------------------------------------------- main


def _set_threads(n: int | None) -> None:
    if n is None:
        os.environ.pop("PLATESCOPE_THREADS", None)
    else:
        os.environ["PLATESCOPE_THREADS"] = str(n)


def time_case(frames: int, size: int, repeat: int) -> dict:
    """All timings of one movie size, interleaved so load changes hit all alike."""
    movie, t, t0 = make_movie(frames, size)
    samples = movie.size
    da_movie = as_dataarray(movie, t, size)

    def run_ours(threads, kernels="numba"):
        def fn():
            _set_threads(threads)
            os.environ["PLATESCOPE_KERNELS"] = kernels
            try:
                return t_nuc_map_values(da_movie)
            finally:
                os.environ.pop("PLATESCOPE_KERNELS", None)
                _set_threads(None)

        return fn

    cases = {
        "reduction_sum": lambda: movie.sum(axis=0),
        "baseline_uint16": lambda: baseline(movie, t),
        "ours_1_thread": run_ours(1),
        "ours_2_threads": run_ours(2),
        "ours_numpy_fallback": run_ours(1, "numpy"),
    }
    runs = {k: [] for k in cases}
    outputs = {}
    for i in range(repeat):
        for name, fn in cases.items():
            if name in ("baseline_uint16", "ours_numpy_fallback") and i >= 2:
                continue  # slow and steady: two runs are enough
            wall, cpu, out = best_of(fn, 1)
            runs[name].append((wall, cpu))
            outputs[name] = out
    timing = {}
    for name, r in runs.items():
        timing[name] = {
            "wall_s": min(x[0] for x in r),
            "cpu_s": min(x[1] for x in r),
            "ns_per_sample_cpu": min(x[1] for x in r) / samples * 1e9,
        }
        if name != "reduction_sum":
            err = np.abs(outputs[name] - t0)
            timing[name]["median_abs_error_s"] = float(np.nanmedian(err))
    same = np.array_equal(outputs["ours_1_thread"], outputs["ours_numpy_fallback"], equal_nan=True)
    o1, o2, base, red = (
        timing["ours_1_thread"],
        timing["ours_2_threads"],
        timing["baseline_uint16"],
        timing["reduction_sum"],
    )
    ratios = {
        "vs_scipy_wall_1_thread": base["wall_s"] / o1["wall_s"],
        "vs_scipy_cpu_1_thread": base["cpu_s"] / o1["cpu_s"],
        "vs_scipy_wall_2_threads": base["wall_s"] / o2["wall_s"],
        "fraction_of_reduction_pass_per_core_cpu": red["cpu_s"] / o1["cpu_s"],
        "fraction_of_reduction_pass_per_core_wall": red["wall_s"] / o1["wall_s"],
        "speedup_1_to_2_threads_wall": o1["wall_s"] / o2["wall_s"],
        "numba_equals_numpy_fallback_bitwise": bool(same),
    }
    return {
        "frames": frames,
        "size": size,
        "movie_mb": movie.nbytes / 2**20,
        "timing": timing,
        "ratios": ratios,
    }


def t_nuc_map_values(movie):
    from platescope.optics import t_nuc_map

    return t_nuc_map(movie, window_s=WINDOW_S).values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="400x256,800x512", help="FRAMESxSIZE,…")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory cases")
    ap.add_argument("--out", default="tnuc_map.json")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "STORE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    import scipy

    from platescope.optics import _kernels

    load0 = os.getloadavg()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    small = make_movie(40, 32)
    ours(small[0], small[1], 32)  # warm-up: imports, numba compilation/cache load
    cases = [time_case(f, n, args.repeat) for f, n in sizes]
    memory = []
    if not args.no_memory:
        with tempfile.TemporaryDirectory() as tmp:
            f, n = sizes[0]
            memory = memory_cases([f, 2 * f], n, tmp)

    report = {
        "benchmark": "t_nuc_map",
        "window_s": WINDOW_S,
        "baseline": (
            "scipy.signal.savgol_filter(movie, w, 2, deriv=1, delta=dt, axis=0).argmax(axis=0)"
            " on the uint16 array (computes in float64); no resampling of the irregular frame"
            " times, no sub-frame refinement"
        ),
        "reduction": "movie.sum(axis=0) on the uint16 array (one memory-bound pass)",
        "ours": "platescope.optics.t_nuc_map(movie, window_s=2.0)",
        "backend": _kernels.backend(),
        "cases": cases,
        "memory": memory,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "cpus": os.cpu_count(),
            "loadavg_at_start": load0,
            "loadavg_at_end": os.getloadavg(),
        },
    }
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    tmp_path = out_dir / (args.out + ".tmp")
    tmp_path.write_text(json.dumps(report, indent=2))
    tmp_path.replace(out_dir / args.out)

    for c in cases:
        print(f"\nmovie {c['frames']} x {c['size']}² uint16 ({c['movie_mb']:.0f} MB)")
        print(f"{'case':<22}{'wall s':>9}{'cpu s':>9}{'ns/sample':>11}{'|err| s':>9}")
        for name, r in c["timing"].items():
            err = r.get("median_abs_error_s", float("nan"))
            print(
                f"{name:<22}{r['wall_s']:>9.3f}{r['cpu_s']:>9.3f}"
                f"{r['ns_per_sample_cpu']:>11.2f}{err:>9.3f}"
            )
        for k, v in c["ratios"].items():
            print(f"  {k}: {v if isinstance(v, bool) else round(v, 2)}")
    if memory:
        print(f"\n{'memory (input)':<26}{'frames':>7}{'tracemalloc MB':>16}{'RSS rise MB':>13}")
        for r in memory:
            print(
                f"{r['method']:<26}{r['frames']:>7}{r['tracemalloc_peak_mb']:>16.1f}"
                f"{r['rss_rise_mb']:>13.1f}"
            )
    print(f"\nload average start/end: {load0} / {os.getloadavg()}")
    print(f"wrote {out_dir / args.out}")


if __name__ == "__main__":
    main()
