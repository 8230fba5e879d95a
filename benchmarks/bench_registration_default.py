"""Benchmark: what registration on by default costs a movie analysis (issue 13 item 3, issue 17).

Run: ``python benchmarks/bench_registration_default.py [--scenarios ...] [--seed 1]``.

For each movie scenario the default simulation (``platescope.simulate.simulate``; for
``dendrite-cycling`` also with ``stage_drift_um = 0``, a still stage: its default has a
3 µm built-in drift) is analysed in this process with ``[analysis.registration]
enabled = false`` and then with the scenario's default (registration on). Reported
per analysis:

- CPU time (``resource.getrusage``, user + system, every thread of the process) and
  wall time; the ratio on / off is the cost of the default;
- reads of the movie: the bytes tifffile reads from the movie file divided by its size
  (the counter of ``tests/pipeline/test_movie_reads_budget.py``; the movie read
  lazily in chunks of ~1/8 of it, as a movie bigger than RAM is) — a second pair of
  analyses, so that the counting does not weigh on the CPU times;
- the registration path (``screen`` or ``full registration``), the screen's verdict
  and whether a shift was applied;
- whether every numeric value of the summary outside ``registration``,
  ``parameters``, ``provenance``, ``timings`` and ``warnings`` is identical on and off.

Writes ``benchmarks/results/registration_default.json`` with the load average before
and after each analysis.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "pipeline"))

SCENARIOS = {
    "irm-galvanostatic": ({}, ["irm.tif"]),
    "irm-cv": ({}, ["irm.tif"]),
    "see-through-au": ({}, ["trans.tif"]),
    "dendrite-cycling": ({}, ["movie.tif"]),
    "dendrite-cycling (still stage)": ({"stage_drift_um": 0.0}, ["movie.tif"]),
}


def _load() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def differences(a: dict, b: dict) -> list[str]:
    """Key paths whose number differs (the comparison of
    tests/pipeline/test_registration_default.py)."""
    from test_registration_default import numbers

    na, nb = numbers(a), numbers(b)
    keys = sorted(set(na) | set(nb))
    return [k for k in keys if na.get(k, "missing") != nb.get(k, "missing")]


def analyse(exp: Path, out: Path, register: bool | None, movies=None) -> dict:
    """One analysis; ``register`` None: the scenario's default. With ``movies``, count
    their reads (lazy, small chunks)."""
    import pytest

    from platescope.pipeline import analyze

    toml = exp
    if register is not None:
        toml = exp.with_name(f"{exp.stem}_reg{int(register)}.toml")
        toml.write_text(
            exp.read_text() + f"\n[analysis.registration]\nenabled = {str(register).lower()}\n"
        )
    row = {"load_before": _load()}
    if movies:
        from test_movie_reads_budget import CountingReads, _lazy_small_chunks

        count = CountingReads(movies)
        with pytest.MonkeyPatch.context() as mp:
            _lazy_small_chunks(mp, min(m.stat().st_size for m in movies))
            count.install(mp)
            summary = analyze(toml, out)
        row["reads"] = {m.name: round(count.reads(m), 3) for m in movies}
    else:
        c0, w0 = _cpu(), time.perf_counter()
        summary = analyze(toml, out)
        row.update(cpu_s=_cpu() - c0, wall_s=time.perf_counter() - w0)
    row["load_after"] = _load()
    reg = summary.get("registration", {})
    row.update(
        enabled=reg.get("enabled"),
        path=reg.get("path"),
        screen=(reg.get("screen") or {}).get("verdict"),
        screen_reason=(reg.get("screen") or {}).get("reason"),
        applied=reg.get("applied"),
        applied_reason=reg.get("applied_reason"),
    )
    return row, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results" / "registration_default.json"))
    args = ap.parse_args()
    from platescope.simulate import simulate

    res_path = Path(args.out)
    results = json.loads(res_path.read_text()) if res_path.exists() else {}
    for label in args.scenarios:
        over, names = SCENARIOS[label]
        scenario = label.split(" (")[0]
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            exp = Path(simulate(scenario, tmp / "in", seed=args.seed, overrides=over or None))
            movies = [exp.parent / n for n in names]
            missing = [m.name for m in movies if not m.is_file()]
            if missing:
                raise SystemExit(f"{label}: no {missing} in {sorted(exp.parent.iterdir())}")
            off, s_off = analyse(exp, tmp / "off", False)
            on, s_on = analyse(exp, tmp / "on", None)
            off_r, _ = analyse(exp, tmp / "off_r", False, movies)
            on_r, _ = analyse(exp, tmp / "on_r", None, movies)
        diff = differences(s_off, s_on)
        row = {
            "scenario": label,
            "seed": args.seed,
            "overrides": over,
            "off": off,
            "on": on,
            "reads_off": off_r["reads"],
            "reads_on": on_r["reads"],
            "cpu_ratio_on_over_off": on["cpu_s"] / off["cpu_s"],
            "summary_numbers_identical": not diff,
            "differing_keys": diff[:40],
            "n_differing_keys": len(diff),
        }
        results[label] = row
        print(json.dumps(row, indent=1, default=str), flush=True)
        res_path.parent.mkdir(exist_ok=True)
        res_path.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
