"""Benchmark: start-up of ``platescope --help`` and ``platescope info FILE`` (cold processes).

Run: ``python benchmarks/bench_startup.py [--repeat 5]`` → ``benchmarks/results/startup.json``.

Each command runs ``--repeat`` times in a new interpreter (``python -m platescope``
with this checkout's ``src`` first on the path); reported: median wall and median CPU
(user + system of the child), the load average before and after, and the bare
interpreter (``python -c pass``) for reference. Files: real instrument files from
``../shared/data`` (skipped when absent): an EC-Lab ``.mpt`` text export, an EC-Lab
binary ``.mpr``, a Gamry ``.DTA``, an ImageJ TIFF movie and an SEM TIFF.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / ".." / "shared" / "data"
ENV = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}

FILES = {
    "info echem .mpt": "echem/yadg/cp.mpt",
    "info echem .mpr": "echem/navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr",
    "info echem .DTA": "echem/unitpackage/gamry_cv.DTA",
    "info movie .tif": "images/trackpy/stuck.tif",
    "info SEM .tif": "images/sem_tescan_irco/Co_10000x_center.tif",
}


def _run(cmd: list[str]) -> tuple[float, float]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--src", default=None, help="another source tree to time (e.g. an old commit's)"
    )
    ap.add_argument("--out", default="startup.json")
    args = ap.parse_args()
    if args.src:
        ENV["PYTHONPATH"] = args.src
    cmds = {"python -c pass": [sys.executable, "-c", "pass"]}
    cmds["--help"] = [sys.executable, "-m", "platescope", "--help"]
    for name, rel in FILES.items():
        if (DATA / rel).is_file():
            cmds[name] = [sys.executable, "-m", "platescope", "info", str(DATA / rel)]
    res: dict = {
        "src": ENV["PYTHONPATH"],
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "commands": {},
    }
    runs: dict = {k: [] for k in cmds}
    for _ in range(args.repeat):  # interleaved: every command sees the same load
        for name, cmd in cmds.items():
            runs[name].append(_run(cmd))
    for name, rr in runs.items():
        res["commands"][name] = {
            "wall_s": statistics.median(w for w, _ in rr),
            "cpu_s": statistics.median(c for _, c in rr),
            "all_wall_s": [w for w, _ in rr],
        }
    res["load_after"] = os.getloadavg()
    print(json.dumps(res, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / args.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
