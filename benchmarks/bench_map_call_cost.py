"""Benchmark: the fixed cost per call of the per-pixel maps, before/after, same process.

Run: ``python benchmarks/bench_map_call_cost.py [--repeat 7] [--out map_call_cost.json]``

What a map call costs besides its kernel — checks, operators, the xarray result — is
a fixed cost that decides the fraction of a reduction pass on small fields. Measured:

- ``t_nuc_map`` on a 400 × 8² uint16 movie (the kernel is negligible there: the call
  *is* its fixed cost) and on the 400 × 256² movie of ``bench_tnuc_map.py`` against
  ``movie.sum(axis=0)`` (the reduction pass), one thread;
- ``onset_map`` on 200 × 8² and 200 × 256² float32 (``bench_onset_map.py``'s movie, with
  µm coordinates as ``read_movie`` gives them).

Each case runs interleaved in two variants in one process: ``now`` (the code as it is)
and ``former`` — the result built as before, with ``xarray.DataArray(values,
dims=("y", "x"), coords={...})`` (which re-creates and deep-copies the coordinate
indexes) and the frame times read through ``movie["t"]`` — so the only difference is
that construction (``onset_map``'s former two xarray transposes of the window, now
numpy views, are not re-created: ``former`` understates its saving by ≈ 0.1–0.3 ms). The maps must be identical (``xarray.testing.assert_identical``).
CPU time (``process_time``), best of ``--repeat`` (each a mean over several calls for
the small movies); the load average at start and end is recorded, since the machine is
shared: CPU-time ratios are the fair measure under load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@contextlib.contextmanager
def former_construction():
    """The result construction and time read of the code before this change."""
    import xarray as xr

    from platescope import _movie_model
    from platescope.optics import _alloying, _nucleation_time

    def image(movie, values, *, name, attrs):
        coords = {c: movie.coords[c] for c in ("y", "x") if c in movie.coords}
        return xr.DataArray(values, dims=("y", "x"), coords=coords, name=name, attrs=attrs)

    check = _movie_model._check_movie

    def check_former(movie, *, name="movie"):
        np.asarray(movie["t"].values, dtype=float)  # the former read of the frame times
        return check(movie, name=name)

    saved = (_nucleation_time._frame_image, _alloying._frame_image, _nucleation_time._check_movie)
    _nucleation_time._frame_image = _alloying._frame_image = image
    _nucleation_time._check_movie = check_former
    try:
        yield
    finally:
        _nucleation_time._frame_image, _alloying._frame_image = saved[:2]
        _nucleation_time._check_movie = saved[2]


def cpu_per_call(fn, calls: int, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        c0 = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - c0) / calls)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", default="map_call_cost.json")
    args = ap.parse_args()
    os.environ["PLATESCOPE_THREADS"] = "1"
    import xarray as xr

    import bench_onset_map
    import bench_tnuc_map
    from platescope.optics import onset_map, t_nuc_map

    load0 = os.getloadavg()
    cases = []
    for size, calls in ((8, 200), (256, 3)):
        mv, t, _ = bench_tnuc_map.make_movie(400, size)
        c = 0.04 * np.arange(size)
        um = {"y": ("y", c, {"units": "um"}), "x": ("x", c, {"units": "um"})}
        movie = bench_tnuc_map.as_dataarray(mv, t, size).assign_coords(um)

        def tnuc(movie=movie):
            return t_nuc_map(movie, window_s=bench_tnuc_map.WINDOW_S)

        a, _ = bench_onset_map.make(200, size)
        amovie = a.assign_coords(um)
        ta = amovie.t.values

        def onset(amovie=amovie, ta=ta):
            return onset_map(amovie, t_start_s=ta[0], t_end_s=ta[-1], sigma_um=0)

        for name, fn, reduction in (
            ("t_nuc_map", tnuc, lambda mv=mv: mv.sum(axis=0)),
            ("onset_map", onset, lambda a=a: a.values.sum(axis=0)),
        ):
            fn()
            with former_construction():
                before = fn()
            xr.testing.assert_identical(fn(), before)
            now, former, red = [], [], []
            for _ in range(args.repeat):  # interleaved: load changes hit all alike
                now.append(cpu_per_call(fn, calls, 1))
                with former_construction():
                    former.append(cpu_per_call(fn, calls, 1))
                red.append(cpu_per_call(reduction, calls, 1))
            rec = {
                "map": name,
                "size": size,
                "frames": int(mv.shape[0] if name == "t_nuc_map" else a.shape[0]),
                "cpu_ms_now": 1e3 * min(now),
                "cpu_ms_former": 1e3 * min(former),
                "cpu_ms_saved": 1e3 * (min(former) - min(now)),
                "cpu_ms_reduction": 1e3 * min(red),
                "fraction_of_reduction_pass_now": min(red) / min(now),
                "fraction_of_reduction_pass_former": min(red) / min(former),
                "results_identical": True,
            }
            cases.append(rec)
            print(json.dumps(rec))
    report = {
        "benchmark": "map_call_cost",
        "cases": cases,
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": load0,
                    "loadavg_at_end": os.getloadavg()},
    }  # fmt: skip
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(report, indent=2))
    print(f"load average start/end: {load0} / {os.getloadavg()}")


if __name__ == "__main__":
    main()
