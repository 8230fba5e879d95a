"""Benchmark: per-pixel t_nuc(IRM) map vs the plain SciPy recipe, same process.

Run: ``python benchmarks/bench_tnuc_map.py [--frames 400] [--size 256] [--repeat 5]``

Prints a table and writes ``benchmarks/results/tnuc_map.json``.

Movie: synthetic IRM movie, uint16 (as cameras write it), ``frames × size × size``,
irregular frame times (0.23 s ± 30 %), per-pixel logistic rise (500 counts on 1000)
at a planted time, Poisson shot noise.

Baseline (what a user writes today, exactly)::

    d = scipy.signal.savgol_filter(movie, w, 2, deriv=1, delta=dt, axis=0)
    t_nuc = t[d.argmax(axis=0)]

on the uint16 numpy array (savgol_filter computes in float64), and the same on a
float32 copy made beforehand (copy not timed) as a stronger baseline. The baseline does
*less* than ``t_nuc_map``: it ignores the irregular frame times (no resampling) and has
no sub-frame refinement. Ours: ``platescope.optics.t_nuc_map(movie, window_s=...)``.

Timing: best of ``--repeat`` interleaved runs, wall clock (perf_counter) and CPU time
(process_time). Memory: each case runs in a fresh subprocess reading the movie from a
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "STORE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    import scipy

    load0 = os.getloadavg()
    movie, t, t0 = make_movie(args.frames, args.size)
    movie32 = movie.astype(np.float32)
    w, dt = window_samples(t)
    samples = movie.size

    ours(movie[:40, :32, :32], t[:40], 32)  # warm-up (imports, first-call costs)
    results = {"baseline_uint16": [], "baseline_float32": [], "ours": []}
    outputs = {}
    for _ in range(args.repeat):  # interleaved so load changes hit all methods alike
        for name, fn in (
            ("baseline_uint16", lambda: baseline(movie, t)),
            ("baseline_float32", lambda: baseline(movie32, t)),
            ("ours", lambda: ours(movie, t, args.size)),
        ):
            wall, cpu, out = best_of(fn, 1)
            results[name].append((wall, cpu))
            outputs[name] = out
    timing = {}
    for name, runs in results.items():
        wall = min(r[0] for r in runs)
        cpu = min(r[1] for r in runs)
        err = np.abs(outputs[name] - t0)
        timing[name] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "ns_per_sample_cpu": cpu / samples * 1e9,
            "median_abs_error_s": float(np.nanmedian(err)),
            "nan_fraction": float(np.isnan(outputs[name]).mean()),
        }
    for name in ("baseline_uint16", "baseline_float32"):
        timing[name]["speedup_wall"] = timing[name]["wall_s"] / timing["ours"]["wall_s"]
        timing[name]["speedup_cpu"] = timing[name]["cpu_s"] / timing["ours"]["cpu_s"]

    with tempfile.TemporaryDirectory() as tmp:
        memory = memory_cases([args.frames, 2 * args.frames], args.size, tmp)

    report = {
        "benchmark": "t_nuc_map",
        "movie": {
            "frames": args.frames,
            "size": args.size,
            "dtype": "uint16",
            "median_dt_s": dt,
            "window_s": WINDOW_S,
            "window_samples": w,
        },
        "baseline": (
            "scipy.signal.savgol_filter(movie, w, 2, deriv=1, delta=dt, axis=0).argmax(axis=0)"
            " on the uint16 array (computes in float64) and on a float32 copy; no resampling"
            " of the irregular frame times, no sub-frame refinement"
        ),
        "ours": "platescope.optics.t_nuc_map(movie, window_s=2.0)",
        "timing": timing,
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
    tmp_path = out_dir / "tnuc_map.json.tmp"
    tmp_path.write_text(json.dumps(report, indent=2))
    tmp_path.replace(out_dir / "tnuc_map.json")

    print(f"movie {args.frames} x {args.size} x {args.size} uint16, dt≈{dt:.3f} s, w={w}")
    print(f"{'method':<18}{'wall s':>9}{'cpu s':>9}{'ns/sample':>11}{'speed-up':>10}{'|err| s':>9}")
    for name, r in timing.items():
        sp = f"{r['speedup_cpu']:.1f}x" if "speedup_cpu" in r else "1"
        print(
            f"{name:<18}{r['wall_s']:>9.3f}{r['cpu_s']:>9.3f}{r['ns_per_sample_cpu']:>11.1f}"
            f"{sp:>10}{r['median_abs_error_s']:>9.3f}"
        )
    print(
        f"\n{'memory (dask/zarr input)':<26}{'frames':>7}{'tracemalloc MB':>16}{'RSS rise MB':>13}"
    )
    for r in memory:
        print(
            f"{r['method']:<26}{r['frames']:>7}{r['tracemalloc_peak_mb']:>16.1f}"
            f"{r['rss_rise_mb']:>13.1f}"
        )
    print(f"\nload average start/end: {load0} / {os.getloadavg()}")
    print(f"wrote {out_dir / 'tnuc_map.json'}")


if __name__ == "__main__":
    main()
