"""Benchmark: SECCM spot features one array per batch against one call per spot.

Run: ``python benchmarks/bench_spots_batch.py [--spots 512] [--tile 100000] [--repeat 3]``

Prints a table and writes ``benchmarks/results/spots_batch.json``. Everything is a
ratio against a baseline timed in the same process (absolute rates depend on the
machine and its load, which is recorded).

1. **Features only**, records in memory: ``spot_features`` called once per spot (the
   per-spot path of today, the baseline) against ``spot_features_batch`` on the same
   records stacked into arrays, for batch sizes 64, 256 and 1024; agreement checked.
2. **Scaling to 10⁶**: the ``--spots`` simulated records tiled to ``--tile`` spots,
   analysed batch by batch (256 spots per batch); spots per second, time per spot at
   1/10 and all of the run (linear scaling → 10⁶ extrapolated) and the peak of
   tracemalloc (bounded memory: one batch's arrays at a time).
3. **Read + features** from the spot files (platescope layout, one CSV per spot):
   ``analyse_batch`` against ``analyse_batch_per_spot``; and the reading alone,
   ``read_echem`` against ``pandas.read_csv`` of the same files.
4. **Dask per-task overhead**: no-op tasks on a one-process LocalCluster; the batch
   size at which the overhead is < 1 % of a batch's work.
5. **Workers**: ``map_batches`` with in-memory records (the tiled arrays travel in the
   batch, so file reading does not blur the ratio) on a process LocalCluster with 1
   and 2 workers (``--no-cluster`` skips it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OPTIONS = {"smooth_s": 0.2, "growth_fraction": 0.2, "rise_sigma": 8.0, "min_rise_V": 1e-3}


def _best(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _records(spots):
    recs = [s.read() for s in spots]
    t = np.stack([r["time_s"].to_numpy(float) for r in recs])
    e = np.stack([r["potential_V"].to_numpy(float) for r in recs])
    i = np.stack([r["current_A"].to_numpy(float) for r in recs])
    j = np.array([s.current_density_mA_cm2 for s in spots])
    return t, e, i, j


def _per_spot(t, e, i, j):
    from platescope.echem import spot_features

    return [
        spot_features(
            pd.DataFrame({"time_s": t[k], "potential_V": e[k], "current_A": i[k]}),
            current_density_mA_cm2=j[k],
            **OPTIONS,
        )
        for k in range(len(t))
    ]


def _batch(t, e, i, j):
    from platescope.echem._combinatorial_batch import spot_features_batch

    return spot_features_batch(t, e, i, current_density_mA_cm2=j, **OPTIONS)


def features_only(t, e, i, j, repeat: int) -> dict:
    out = {}
    ref = pd.DataFrame(_per_spot(t, e, i, j))
    got = _batch(t, e, i, j)
    num = ["E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V"]
    a = got[num].astype(float).to_numpy()
    b = ref[num].astype(float).to_numpy()
    out["max_rel_diff"] = float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
    out["nucleated_equal"] = bool((got["nucleated"] == ref["nucleated"]).all())
    for size in (64, 256, 1024):
        sl = slice(0, min(size, len(t)))
        n = sl.stop
        reps = max(1, size // n)
        t_ref = _best(lambda sl=sl: _per_spot(t[sl], e[sl], i[sl], j[sl]), repeat)
        t_bat = _best(lambda sl=sl: _batch(t[sl], e[sl], i[sl], j[sl]), repeat)
        out[f"batch_{size}"] = {
            "n_spots": n * reps if reps == 1 else n,
            "per_spot_ms": t_ref / n * 1e3,
            "batch_ms_per_spot": t_bat / n * 1e3,
            "speedup": t_ref / t_bat,
            "spots_per_s_batch": n / t_bat,
            "spots_per_s_per_spot": n / t_ref,
        }
    return out


def scaling(t, e, i, j, total: int, batch: int = 256) -> dict:
    reps = int(np.ceil(total / len(t)))
    idx = np.tile(np.arange(len(t)), reps)[:total]
    res = {"n_spots": total, "batch_size": batch}
    marks = {}
    tracemalloc.start()
    t0 = time.perf_counter()
    done = 0
    for start in range(0, total, batch):
        k = idx[start : start + batch]
        _batch(t[k], e[k], i[k], j[k])
        done += len(k)
        if done >= total // 10 and "tenth" not in marks:
            marks["tenth"] = (done, time.perf_counter() - t0)
    el = time.perf_counter() - t0
    res["tracemalloc_peak_MB"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    res["elapsed_s"] = el
    res["spots_per_s"] = total / el
    res["ms_per_spot_first_tenth"] = marks["tenth"][1] / marks["tenth"][0] * 1e3
    res["ms_per_spot_all"] = el / total * 1e3
    res["extrapolated_1e6_s"] = el / total * 1e6
    return res


def read_and_features(spots, repeat: int) -> dict:
    from platescope.io import read_echem
    from platescope.pipeline._parallel import analyse_batch, analyse_batch_per_spot

    n = len(spots)
    ta = _best(lambda: analyse_batch(spots, OPTIONS), repeat)
    tb = _best(lambda: analyse_batch_per_spot(spots, OPTIONS), repeat)
    paths = list(spots.index["path"])
    tr = _best(lambda: [read_echem(p) for p in paths], repeat)
    tp = _best(lambda: [pd.read_csv(p) for p in paths], repeat)
    return {
        "n_spots": n,
        "samples_per_spot": int(len(spots.spot(0).read())),
        "analyse_batch_ms_per_spot": ta / n * 1e3,
        "analyse_batch_per_spot_ms_per_spot": tb / n * 1e3,
        "speedup": tb / ta,
        "read_echem_ms_per_file": tr / n * 1e3,
        "pandas_read_csv_ms_per_file": tp / n * 1e3,
        "read_echem_over_pandas": tr / tp,
    }


def _noop(x):
    return x


def _features_task(arrays, options):
    from platescope.echem._combinatorial_batch import spot_features_batch

    t, e, i, j = arrays
    return len(spot_features_batch(t, e, i, current_density_mA_cm2=j, **options))


def dask_overhead(ms_per_spot: float, n_tasks: int = 400) -> dict:
    import logging

    import distributed

    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.submit(_noop, 0).result()
        t = time.perf_counter()
        futs = [client.submit(_noop, k, pure=False) for k in range(n_tasks)]
        client.gather(futs)
        per_task = (time.perf_counter() - t) / n_tasks
    # overhead < 1 % of a batch's work: batch_size · ms_per_spot ≥ 100 · per-task cost
    need = int(np.ceil(100 * per_task * 1e3 / ms_per_spot))
    return {"per_task_ms": per_task * 1e3, "batch_size_for_1pct": need}


def workers(t, e, i, j, total: int, batch: int, repeat: int) -> dict:
    import logging

    import distributed

    reps = int(np.ceil(total / len(t)))
    idx = np.tile(np.arange(len(t)), reps)[:total]
    batches = [
        (t[idx[s : s + batch]], e[idx[s : s + batch]], i[idx[s : s + batch]], j[idx[s : s + batch]])
        for s in range(0, total, batch)
    ]
    func = functools.partial(_features_task, options=OPTIONS)
    t_in = _best(lambda: [func(b) for b in batches], repeat)
    out = {"n_spots": total, "batch_size": batch, "in_process_s": t_in}
    for w in (1, 2):
        with (
            distributed.LocalCluster(
                n_workers=w,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster, set_as_default=False) as client,
        ):
            scattered = client.scatter(batches)
            client.gather(client.map(func, scattered[: 2 * w], pure=False))  # warm imports
            out[f"workers_{w}_s"] = _best(
                lambda client=client, scattered=scattered: client.gather(
                    client.map(func, scattered, pure=False)
                ),
                repeat,
            )
    out["speedup_2_vs_1_workers"] = out["workers_1_s"] / out["workers_2_s"]
    out["spots_per_s_1_worker"] = total / out["workers_1_s"]
    out["spots_per_s_2_workers"] = total / out["workers_2_s"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--spots", type=int, default=512, help="simulated spots (files)")
    ap.add_argument("--tile", type=int, default=100_000, help="spots of the scaling run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)
    from platescope.io import read_spots
    from platescope.simulate import simulate

    result: dict = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
    }
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-spots-"))
    t0 = time.perf_counter()
    exp = simulate(
        "seccm-combinatorial",
        work,
        seed=0,
        overrides={"n_spots": args.spots, "sample_period_s": 0.01},
    )
    result["simulate_ms_per_spot"] = (time.perf_counter() - t0) / args.spots * 1e3
    spots = read_spots(exp.parent / "spots.csv")
    t, e, i, j = _records(spots)
    result["samples_per_spot"] = int(t.shape[1])
    result["features_only"] = features_only(t, e, i, j, args.repeat)
    print(json.dumps(result["features_only"], indent=1), flush=True)
    result["scaling"] = scaling(t, e, i, j, args.tile)
    print(json.dumps(result["scaling"], indent=1), flush=True)
    result["read_and_features"] = read_and_features(spots.subset(range(min(256, len(spots)))), 2)
    print(json.dumps(result["read_and_features"], indent=1), flush=True)
    if not args.no_cluster:
        ms = result["scaling"]["ms_per_spot_all"]
        result["dask_overhead"] = dask_overhead(ms)
        print(json.dumps(result["dask_overhead"], indent=1), flush=True)
        result["workers"] = workers(t, e, i, j, min(args.tile, 20_000), 1024, 2)
        print(json.dumps(result["workers"], indent=1), flush=True)
    result["loadavg_end"] = os.getloadavg()
    out = HERE / "results" / "spots_batch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
