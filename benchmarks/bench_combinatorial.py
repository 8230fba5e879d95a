"""Benchmark: combinatorial SECCM analysis at scale (throughput, workers, memory).

Run: ``python benchmarks/bench_combinatorial.py [--spots 10000] [--subset 2000] [--work DIR]``

Prints a table and writes ``benchmarks/results/combinatorial.json``.

1. Simulates ``--spots`` spots once (platescope layout, 8 conditions, 5 s per spot,
   sampled every 10 ms to keep the files at ≈17 kB per spot) — or reuses ``--work``.
2. Throughput, same process, same spots (the first ``--subset``), best of
   ``--repeat``: :func:`platescope.pipeline._parallel.map_batches` with
   ``analyse_batch`` in-process (1 worker, the baseline) and on a process
   LocalCluster with 2 workers. Reported: spots per second for each and their ratio,
   with and without the cluster start-up (the start-up is timed separately).
3. Peak memory vs run size: ``platescope analyze`` (synchronous, so everything happens
   in one process) on an index of 1,000 and of all spots, each in a fresh subprocess;
   reported are the peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) of that
   subprocess, its RSS after imports, and the tracemalloc peak in a second subprocess.
   Flat memory means the 10× run does not need ≈10× the memory.
4. End to end: ``platescope analyze`` with the default scheduler on all spots, and the
   recovered counts/means against the truth.

The machine may be shared: the ratio of 2 workers to 1 is bounded by the free cores
(``os.getloadavg()`` is recorded next to the numbers).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

_MEM_CHILD = r"""
import json, resource, sys, time, tracemalloc
trace = sys.argv[3] == "1"
import platescope.pipeline, platescope.io, platescope.echem, platescope.report  # imports first
from platescope.pipeline import analyze
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
t = time.perf_counter()
s = analyze(sys.argv[1], sys.argv[2], scheduler="synchronous")
el = time.perf_counter() - t
out = {"elapsed_s": el, "n_analysed": s["combinatorial_run"]["n_analysed"],
       "rss_after_imports_kB": base, "peak_rss_kB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
if trace:
    out["tracemalloc_peak_kB"] = tracemalloc.get_traced_memory()[1] / 1024
print(json.dumps(out))
"""


def _simulate(work: Path, n: int) -> Path:
    from platescope.simulate import simulate

    exp = work / "experiment.toml"
    if exp.is_file() and (work / "truth" / "truth.json").is_file():
        t = json.loads((work / "truth" / "truth.json").read_text())
        if t["combinatorial_run"]["n_spots"] == n:
            return exp
    t0 = time.perf_counter()
    exp = simulate(
        "seccm-combinatorial", work, seed=0, overrides={"n_spots": n, "sample_period_s": 0.01}
    )
    print(f"simulated {n} spots in {time.perf_counter() - t0:.0f} s", flush=True)
    return exp


def _subset_experiment(work: Path, n: int) -> Path:
    idx = pd.read_csv(work / "spots.csv")
    sub = idx.iloc[:: max(len(idx) // n, 1)].head(n)
    (work / f"spots_{n}.csv").write_text(sub.to_csv(index=False))
    exp = work / f"experiment_{n}.toml"
    exp.write_text(
        (work / "experiment.toml")
        .read_text()
        .replace('spots = "spots.csv"', f'spots = "spots_{n}.csv"')
    )
    return exp


def _throughput(spots, repeat: int) -> dict:
    import distributed

    from platescope.pipeline._parallel import analyse_batch, map_batches

    func = functools.partial(analyse_batch, options={})
    n = len(spots)
    res = {"n_spots": n}
    best1 = min(
        _timed(lambda: list(map_batches(spots, func, scheduler="synchronous", batch_size=64)))
        for _ in range(repeat)
    )
    res["sync_1_worker_s"] = best1
    t0 = time.perf_counter()
    import logging

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.submit(
            lambda: __import__("platescope.echem") and 1
        ).result()  # workers import platescope
        res["cluster_startup_s"] = time.perf_counter() - t0
        best2 = min(
            _timed(lambda: list(map_batches(spots, func, scheduler=client, batch_size=64)))
            for _ in range(repeat)
        )
    res["processes_2_workers_s"] = best2
    res["spots_per_s_1_worker"] = n / best1
    res["spots_per_s_2_workers"] = n / best2
    res["speedup_2_vs_1"] = best1 / best2
    res["speedup_2_vs_1_incl_startup"] = best1 / (best2 + res["cluster_startup_s"])
    return res


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _memory(exp: Path, out: Path, trace: bool) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", _MEM_CHILD, str(exp), str(out), "1" if trace else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--spots", type=int, default=10000)
    ap.add_argument("--subset", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)
    from platescope.io import read_spots

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-comb-"))
    work.mkdir(parents=True, exist_ok=True)
    exp = _simulate(work, args.spots)
    result: dict = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "spots_total": args.spots,
        "sample_period_s": 0.01,
        "samples_per_spot": 501,
    }
    spots = read_spots(work / "spots.csv").subset(range(args.subset))
    result["throughput"] = _throughput(spots, args.repeat)
    print(json.dumps(result["throughput"], indent=1), flush=True)
    mem = {}
    for n in (1000, args.spots):
        e = _subset_experiment(work, n) if n != args.spots else exp
        m = _memory(e, work / f"res_mem_{n}", trace=False)
        m.update(
            {
                k: v
                for k, v in _memory(e, work / f"res_mem_{n}_t", trace=True).items()
                if k.startswith("trace")
            }
        )
        mem[str(n)] = m
        print(n, m, flush=True)
    result["memory"] = mem
    a, b = mem["1000"], mem[str(args.spots)]
    result["memory"]["peak_rss_rise_ratio"] = (b["peak_rss_kB"] - b["rss_after_imports_kB"]) / max(
        a["peak_rss_kB"] - a["rss_after_imports_kB"], 1
    )
    result["memory"]["tracemalloc_peak_ratio"] = b["tracemalloc_peak_kB"] / a["tracemalloc_peak_kB"]
    # end to end with the default scheduler through the CLI
    t = time.perf_counter()
    r = subprocess.run(
        [
            str(Path(sys.executable).with_name("platescope")),
            "analyze",
            str(exp),
            "--out",
            str(work / "res_e2e"),
        ],
        capture_output=True,
        text=True,
    )
    el = time.perf_counter() - t
    summary = json.loads((work / "res_e2e" / "summary.json").read_text())
    truth = json.loads((work / "truth" / "truth.json").read_text())
    errs = [
        abs(g["E_nuc_V_mean"] - tr["E_nuc_V_mean"]) * 1e3
        for g, tr in zip(summary["combinatorial"], truth["combinatorial"], strict=True)
        if tr["E_nuc_V_mean"] is not None
    ]
    result["end_to_end"] = {
        "exit_status": r.returncode,
        "wall_s": el,
        "n_spots": summary["combinatorial_run"]["n_spots"],
        "n_analysed": summary["combinatorial_run"]["n_analysed"],
        "scheduler": summary["combinatorial_run"]["scheduler"],
        "workers": summary["combinatorial_run"]["workers"],
        "analysis_s": summary["combinatorial_run"]["elapsed_s"],
        "spots_per_s": summary["combinatorial_run"]["spots_per_s"],
        "counts_exact": all(
            g["n_nucleated"] == tr["n_nucleated"] and g["n"] == tr["n"]
            for g, tr in zip(summary["combinatorial"], truth["combinatorial"], strict=True)
        ),
        "max_abs_E_nuc_mean_err_mV": max(errs),
    }
    result["loadavg_end"] = os.getloadavg()
    out = HERE / "results" / "combinatorial.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
