"""Benchmark: ``platescope demo`` wall clock, one process vs a worker per core.

Run: ``python benchmarks/bench_demo.py [--jobs 1 2] [--repeat 2] [--scenario NAME ...]``

Prints a table and writes ``benchmarks/results/demo.json``.

**Baseline:** the demo as it ran before (``platescope demo --jobs 1``: every scenario
simulated and analysed one after the other in one process), with each scenario's
simulate / analyse seconds.
**Ours:** ``platescope demo`` (``--jobs`` = the usable cores), whole-command wall clock.

Each run is a fresh ``python -m platescope demo`` process into a new folder (imports
included, as a user sees it). Timing: median of ``--repeat`` runs. The machine may be
shared with other work: the 1-minute load average before and after each run is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _load() -> float:
    return os.getloadavg()[0]


def run_demo_process(out: Path, jobs: int, scenarios: list[str] | None) -> dict:
    """One ``platescope demo`` process; wall seconds and the load average around it."""
    names = scenarios or ["all"]
    times = {}
    load0 = _load()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for name in names:
        cmd = [sys.executable, "-m", "platescope", "demo", "--out", str(out), "--quiet"]
        cmd += ["--scenario", name, "--jobs", str(jobs)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    times["wall_s"] = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    times["cpu_s"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    times["load_before"] = load0
    times["load_after"] = _load()
    return times


def per_scenario(out: Path, scenarios: list[str]) -> dict:
    """Simulate and analyse each scenario in this process (the serial demo's parts)."""
    from platescope.pipeline._run import simulate_and_analyse

    rows = {}
    for name in scenarios:
        load0 = _load()
        c0 = time.process_time()
        r = simulate_and_analyse(name, out, 0)
        rows[name] = {
            "simulate_s": r["simulate_s"],
            "analyse_s": r["analyse_s"],
            "cpu_s": time.process_time() - c0,
            "load": (load0 + _load()) / 2,
        }
        print(
            f"{name:24s} simulate {r['simulate_s']:6.1f} s  analyse {r['analyse_s']:6.1f} s  "
            f"CPU {rows[name]['cpu_s']:6.1f} s  load {rows[name]['load']:.1f}",
            flush=True,
        )
    return rows


def main() -> None:
    from platescope.pipeline import demo_scenarios

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scenario", nargs="+", default=None)
    ap.add_argument("--per-scenario", action="store_true", help="also time each part")
    args = ap.parse_args()
    result = {"cores": len(os.sched_getaffinity(0)), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        if args.per_scenario:
            names = args.scenario or list(demo_scenarios())
            result["per_scenario"] = per_scenario(Path(tmp) / "parts", names)
        for jobs in args.jobs:
            runs = [
                run_demo_process(Path(tmp) / f"j{jobs}-{i}", jobs, args.scenario)
                for i in range(args.repeat)
            ]
            result["runs"][str(jobs)] = runs
            walls = [r["wall_s"] for r in runs]
            loads = [f"{r['load_before']:.1f}→{r['load_after']:.1f}" for r in runs]
            cpus = ", ".join(f"{r['cpu_s']:.0f}" for r in runs)
            print(
                f"--jobs {jobs}: median {statistics.median(walls):6.1f} s "
                f"(runs {', '.join(f'{w:.1f}' for w in walls)}; CPU s {cpus}; "
                f"load {', '.join(loads)})",
                flush=True,
            )
    out = Path(__file__).parent / "results" / "demo.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
