"""Benchmark: peak memory of the per-frame-area steps on wide frames (issue 17).

Run: ``python benchmarks/bench_wide_frames_memory.py [--sizes 512,1792] [--frames 204]``

Prints a table and writes ``benchmarks/results/wide_frames_memory*.json``.

Movie: synthetic uint16 IRM movie ``frames × size × size`` written frame by frame into
a memory-mapped ``.npy`` file (never held in memory), 34 fps with ±10 % jitter, a
logistic rise (500 counts on 1000, τ = 1 s) at a planted time per pixel, Poisson
noise. Each case runs in a fresh subprocess; reported are the tracemalloc peak of the
call (Python/numpy heap: the file pages of the memmap are not allocations), its CPU
time (``process_time``) and the sha256 of its result, so that runs of two versions
of the code (``PYTHONPATH`` pointing at each) can be compared value for value.

Cases:

* ``t_nuc_map memmap`` — ``t_nuc_map(memmap movie, window_s=2, spatial_sigma_px=σ)``
  (whole frame analysed; the blur makes the function copy the frames in);
* ``t_nuc_map dask`` — the same on a dask chain like the pipeline's ``sub`` (the
  memmap in chunks of ≈ 32 MiB, ``astype(float32) − frame 0``);
* ``t_nuc_map footprint`` — as ``prepare_irm`` hands the movie to the pipeline's
  ``t_nuc_map``: the chain ``astype(float32) / gain(t) − reference frame`` (a numpy
  frame; gain rising 1 → 1.003), a centred disk of 0.59 × the width analysed (the
  default footprint of ``irm-galvanostatic``'s field) and the blur halo around it;
* ``t_nuc_regions dask`` — ``t_nuc_regions(…, region_px=14)`` reading its curves;
* ``frame_quality dask`` — ``optics.frame_quality`` of the dask movie.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = (
    "t_nuc_map memmap",
    "t_nuc_map dask",
    "t_nuc_map footprint",
    "t_nuc_regions dask",
    "frame_quality dask",
)


def frame_times(frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(np.r_[0.0, (1.0 + rng.uniform(-0.1, 0.1, frames - 1)) / 34.0])


def write_movie(path: str, frames: int, size: int, seed: int = 1) -> None:
    """uint16 movie written frame by frame into a memory-mapped .npy file."""
    rng = np.random.default_rng(seed)
    t = frame_times(frames)
    yy, xx = np.mgrid[:size, :size]
    t0 = 0.5 * (t[0] + t[-1]) + 1.5 * np.sin(yy / 40.0) * np.cos(xx / 50.0)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint16, shape=(frames, size, size))
    for i in range(frames):
        mm[i] = rng.poisson(1000.0 + 500.0 / (1.0 + np.exp(-(t[i] - t0) / 1.0)))
    mm.flush()
    del mm


def child(case: str, path: str, sigma: float) -> None:
    import dask.array as da
    import xarray as xr

    from platescope import optics

    mm = np.load(path, mmap_mode="r")
    frames, size = mm.shape[0], mm.shape[1]
    t = frame_times(frames)
    c = 0.1 * np.arange(size)
    per_chunk = max(1, (32 * 2**20) // (2 * size * size))
    lazy = da.from_array(mm, chunks=(per_chunk, size, size))
    chain = lazy.astype(np.float32) - lazy[0].astype(np.float32)
    if case == "t_nuc_map footprint":  # prepare_irm's sub: drift gain, a numpy reference
        gain = np.linspace(1.0, 1.003, frames).astype(np.float32)[:, None, None]
        chain = lazy.astype(np.float32) / gain - np.asarray(mm[0], np.float32)
        yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
        disk = np.hypot(yy, xx) <= 0.295 * size

    def arr(data):
        return xr.DataArray(data, dims=("t", "y", "x"), coords={"t": t, "y": c, "x": c})

    warm = np.random.default_rng(0).poisson(1000.0, (120, 32, 32)).astype(np.uint16)
    warm_t = xr.DataArray(warm, dims=("t", "y", "x"), coords={"t": frame_times(120)})
    optics.t_nuc_map(warm_t, window_s=2.0, spatial_sigma_px=sigma)  # compile, caches
    tracemalloc.start()
    cpu0 = time.process_time()
    if case == "t_nuc_map memmap":
        out = optics.t_nuc_map(arr(mm), window_s=2.0, spatial_sigma_px=sigma).values
    elif case == "t_nuc_map dask":
        out = optics.t_nuc_map(arr(chain), window_s=2.0, spatial_sigma_px=sigma).values
    elif case == "t_nuc_map footprint":
        out = optics.t_nuc_map(arr(chain), mask=disk, window_s=2.0, spatial_sigma_px=sigma).values
    elif case == "t_nuc_regions dask":
        out = optics.t_nuc_regions(arr(chain), region_px=14, n_boot=20).to_numpy(float)
    else:
        out = optics.frame_quality(arr(lazy)).select_dtypes("number").to_numpy(float)
    cpu = time.process_time() - cpu0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    digest = hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()[:16]
    print(json.dumps({"tracemalloc_peak_mb": peak, "cpu_s": cpu, "sha256_16": digest}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="512,1792")
    ap.add_argument("--frames", type=int, default=204)
    ap.add_argument("--sigma-px", type=float, default=2.0, help="t_nuc_map spatial blur σ, px")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--tag", default="")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    import platescope

    load0 = open("/proc/loadavg").read().split()[:3]
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = os.path.join(tmp, f"movie_{size}.npy")
            write_movie(path, args.frames, size)
            for case in args.cases:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", case, path, str(args.sigma_px)],
                    capture_output=True,
                    text=True,
                )
                if out.returncode:
                    raise RuntimeError(f"{case} at {size}² failed:\n{out.stderr}")
                rec = json.loads(out.stdout.strip().splitlines()[-1])
                rec.update(case=case, size=size, frames=args.frames)
                rec["movie_mb"] = args.frames * size * size * 2 / 2**20
                rows.append(rec)
                print(
                    f"{case:<22}{size:>6}²{rec['tracemalloc_peak_mb']:>10.0f} MB"
                    f"{rec['cpu_s']:>9.1f} s CPU  {rec['sha256_16']}",
                    flush=True,
                )
            os.remove(path)
    report = {
        "benchmark": "wide_frames_memory",
        "platescope": platescope.__file__,
        "frames": args.frames,
        "sigma_px": args.sigma_px,
        "rows": rows,
        "loadavg_at_start": load0,
        "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
    }
    dest = HERE / "results" / f"wide_frames_memory{args.tag}.json"
    dest.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
