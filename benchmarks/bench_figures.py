"""Benchmark: what saving a figure costs (PNG + its SVG twin), against plain matplotlib.

Run: ``python benchmarks/bench_figures.py [--scenarios afm sem-particles ...] [--seed 1]``.

Each scenario's default simulation is analysed in this process; every figure the
analysis saves is saved twice more, in alternating order, into a scratch folder:

- **baseline**: plain matplotlib, as ``atomic_savefig`` did before session 26 — the
  PNG at 300 dpi, then the SVG with ``fig.savefig(format="svg", dpi=300)``, which
  lays the figure out again (at 72 dpi) and resamples every image to 300 dpi;
- **platescope**: :func:`platescope.report.atomic_savefig` (the SVG keeps the PNG's
  layout and embeds images with their own pixels unless the PNG shows them much
  smaller: ``platescope.report._style.native_rasters``).

Reported per scenario: CPU s (``time.process_time``) of each, the ratio, the number of
figures and the SVG sizes. Writes ``benchmarks/results/figures.json`` with the load
average.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def _baseline(fig, path: Path) -> None:
    """PNG + SVG with plain matplotlib calls, in the house style."""
    from platescope.report._style import PNG_DPI, enforce_min_font, house_style

    with house_style():
        enforce_min_font(fig)
        fig.savefig(path, format="png", dpi=PNG_DPI)
        fig.savefig(path.with_suffix(".svg"), format="svg", dpi=PNG_DPI, metadata={"Date": None})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--scenarios",
        nargs="+",
        default=["afm", "sem-particles", "irm-galvanostatic", "sims-diffusion"],
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import platescope._atomic as atomic
    import platescope.report as report
    from platescope.pipeline import analyze
    from platescope.simulate import simulate

    save = atomic.atomic_savefig
    acc: dict[str, float] = {}

    def measured(fig, path, **kw):
        scratch = Path(tempfile.mkdtemp())
        runs = [("baseline", lambda p: _baseline(fig, p)), ("platescope", lambda p: save(fig, p))]
        if int(acc.get("n", 0)) % 2:
            runs.reverse()
        for name, run in runs:
            p = scratch / f"{name}.png"
            t0 = time.process_time()
            run(p)
            acc[name + "_cpu_s"] = acc.get(name + "_cpu_s", 0.0) + time.process_time() - t0
            kib = os.path.getsize(p.with_suffix(".svg")) / 1024
            acc[name + "_svg_kib"] = acc.get(name + "_svg_kib", 0.0) + kib
        acc["n"] = acc.get("n", 0) + 1
        return save(fig, path, **kw)

    atomic.atomic_savefig = measured
    report.atomic_savefig = measured
    rows = []
    try:
        for name in args.scenarios:
            acc.clear()
            with tempfile.TemporaryDirectory() as tmp:
                exp = simulate(name, Path(tmp) / "in", seed=args.seed)
                before = _load()
                analyze(exp, Path(tmp) / "out")
            row = {"scenario": name, "figures": int(acc["n"]), "load_before": before}
            row.update({k: round(v, 3) for k, v in acc.items() if k != "n"})
            row["ratio_platescope_over_baseline"] = round(
                acc["platescope_cpu_s"] / acc["baseline_cpu_s"], 3
            )
            row["load_after"] = _load()
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        atomic.atomic_savefig = save
        report.atomic_savefig = save
    out = HERE / "results" / "figures.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
