"""Benchmark: particles per image against ImageJ — plain call, whole process, full recipe.

Run: ``python benchmarks/bench_particles_process.py [--repeat 5] [--recipe-repeat 3]``
(ImageJ via ``tests/particles/_imagej.py``: java + xvfb-run + ij.jar; without them the
ImageJ columns are null). Writes ``benchmarks/results/particles_process.json`` and
``benchmarks/results/particles_process.md``.

Images: every SEM TIFF in ``../shared/data/images/sem_*`` (the FEI XL files lack a
pixel size: 1 nm is assumed for both sides, so areas are in px) and a simulated
``sem-particles`` image as the microscope saves it (seed 11, 0.78 mA cm⁻², 8 nm px,
data bar). Settings, identical on both sides: the image without its data bar, Otsu
auto-threshold (ImageJ's levels: ``--imagej-levels``, so 16-bit images are binned as
ImageJ bins them), 8-connected particles, no watershed, no smoothing, inclusive size
limit ≥ 4 px, measured: area, centroid, perimeter, circularity, mean and integrated
intensity. Polarity: dark particles on the Zeiss Au/graphene image, bright elsewhere.

(a) **plain call**, in one process: ``segment_particles`` + ``measure_particles`` on the
    array (median of ``--repeat``) vs ImageJ's own clock around threshold + Analyze
    Particles (``seconds_analysis``; best of 2 JVMs). Counts of both are reported.
(b) **whole process**, cold (a new process each time, median of ``--repeat``, runs
    interleaved so both sides see the same load): ``platescope particles FILE
    --imagej-levels … --out table.csv`` (reads the vendor TIFF, drops the data bar,
    segments, measures, writes the CSV) vs ``xvfb-run -a java -jar ij.jar -batch
    macro.ijm`` (opens the calibrated TIFF of the same pixels, thresholds, Analyze
    Particles, saves the Results CSV). ImageJ's Analyze Particles needs an AWT display,
    so xvfb-run is part of its process here; ``xvfb_true_s`` is xvfb-run's own cost
    (``xvfb-run -a true``) for reference.
(c) **full recipe** (the ``sem-particles`` scenario on one image, default
    ``[analysis.sem]``: footprint, noise-level detection, half-maximum outlines, pair
    split, size fit, morphology, exclusions): a cold process that reads the image and
    runs ``analyse_sem_image`` (no report), and ``platescope analyze`` of a one-image
    experiment file (tables, figures, HTML report), median of ``--recipe-repeat``;
    compared with ImageJ's whole process of (b), which produces a Results table only.

``--baseline-src DIR`` also runs (c)'s recipe process with ``PYTHONPATH=DIR`` (e.g. the
``src`` of a checkout of the previous commit), interleaved with ours, for a before/after
CPU ratio on the same load; ``--no-plain`` skips (a), ``--no-analyze`` the ``analyze``
runs of (c); ``--out-name`` names the result files (default ``particles_process``).

Load averages are recorded before and after each image.
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

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / ".." / "shared" / "data" / "images"
sys.path.insert(0, str(ROOT / "tests" / "particles"))

PY = sys.executable
SRC = str(ROOT / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
MIN_PX = 4


def _images(tmp: Path) -> list[dict]:
    """(name, path, pixel_size_nm override, polarity) of every image benchmarked."""
    from platescope.io._image_writers import write_sem_tiff
    from platescope.simulate import make_sem_particles

    sim = make_sem_particles(seed=11, current_densities_mA_cm2="0.78")["images"][0]["sem"]
    simp = tmp / "simulated_sem.tif"
    write_sem_tiff(str(simp), sim, pixel_size_nm=8.0, databar_rows=sim.shape[0] - 1024)
    out = [{"name": "simulated_sem_8nm", "path": simp, "px": None, "polarity": "bright"}]
    for f in sorted(DATA.glob("sem_*/*")):
        if f.suffix.lower() not in (".tif", ".tiff"):
            continue
        out.append(
            {
                "name": f"{f.parent.name}/{f.name}",
                "path": f,
                "px": 1.0 if "fei_xl" in f.parent.name else None,
                "polarity": "dark" if "zeiss_au" in f.parent.name else "bright",
            }
        )
    return out


def _cli_args(img: dict, out_csv: Path) -> list[str]:
    args = [str(img["path"]), "--threshold", "otsu", "--imagej-levels", "--no-watershed"]
    args += ["--polarity", img["polarity"], "--out", str(out_csv)]
    if img["px"] is not None:
        args += ["--pixel-size-nm", str(img["px"])]
    args += ["--min-area-um2", repr(img["_min_um2"])]
    return args


#: CPU seconds (user + system) of the children waited for, per command: with a loaded
#: machine the wall time mostly measures the queue, the CPU time the work
CPU: dict[str, list[float]] = {}


def _wall(cmd: list[str], key: str | None = None, env: dict | None = None, **kw) -> float:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env or ENV, **kw)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if key:
        CPU.setdefault(key, []).append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return wall


def _plain_number(x: float) -> str:
    """No exponent: ImageJ's option parser reads ``4e-06`` as 4."""
    return np.format_float_positional(float(x), trim="-")


def _imagej_macro(tif: Path, px_um: float, dark: bool, res: Path, min_um2: float) -> str:
    return "\n".join(
        [
            'setOption("BlackBackground", true);',
            "setBatchMode(true);",
            f'open("{tif}");',
            f'run("Properties...", "channels=1 slices=1 frames=1 unit=micron '
            f'pixel_width={px_um:.12g} pixel_height={px_um:.12g} voxel_depth=1");',
            'run("Set Measurements...", "area mean centroid perimeter shape integrated '
            'redirect=None decimal=9");',
            f'setAutoThreshold("Otsu{"" if dark else " dark"}");',
            f'run("Analyze Particles...", "size={_plain_number(min_um2)}-Infinity '
            'circularity=0-1 display");',
            f'saveAs("Results", "{res}");',
            'print("PLATESCOPE_DONE");',
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--recipe-repeat", type=int, default=3)
    ap.add_argument("--only", default=None, help="substring of the image names to run")
    ap.add_argument("--no-recipe", action="store_true")
    ap.add_argument("--no-plain", action="store_true", help="skip (a), the in-process call")
    ap.add_argument("--no-analyze", action="store_true", help="(c) without `platescope analyze`")
    ap.add_argument("--baseline-src", default=None, help="src dir of the 'before' code for (c)")
    ap.add_argument("--out-name", default="particles_process")
    args = ap.parse_args()

    import pandas as pd
    import tifffile
    from _imagej import analyze_particles_imagej, imagej_available, imagej_jar

    from platescope.io._sem import sem_array
    from platescope.particles import measure_particles, segment_particles
    from platescope.particles._imagej import imagej_threshold

    use_ij = imagej_available()
    results: dict = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "images": {}}
    if use_ij:
        results["xvfb_true_s"] = statistics.median(
            _wall(["xvfb-run", "-a", "true"]) for _ in range(3)
        )
    with tempfile.TemporaryDirectory(prefix="ps_bench_pp_") as d:
        tmp = Path(d)
        for img in _images(tmp):
            if args.only and args.only not in img["name"]:
                continue
            row: dict = {"load_before": os.getloadavg()}
            arr, attrs = sem_array(img["path"], pixel_size_nm=img["px"])
            px_um = attrs["pixel_size_nm"] / 1000.0
            dark = img["polarity"] == "dark"
            lower, upper = imagej_threshold(arr, "Otsu", dark_background=not dark)
            level = np.nextafter(lower, -np.inf) if not dark else -np.nextafter(upper, np.inf)
            # the same number on both sides (ImageJ compares it with its calibrated
            # areas, we with ours; 4 px minus a hair so that rounding keeps 4-px objects)
            limits = {"min_area_um2": (MIN_PX - 1e-6) * px_um**2}
            img["_min_um2"] = limits["min_area_um2"]
            row.update({"shape": list(arr.shape), "dtype": str(arr.dtype), "px_nm": px_um * 1e3})

            # (a) plain call in process
            def plain(arr=arr, px_um=px_um, level=level, dark=dark, limits=limits):
                lab = segment_particles(
                    arr,
                    spacing=px_um,
                    method="fixed",
                    threshold=float(level),
                    polarity="dark" if dark else "bright",
                    watershed=False,
                    **limits,
                )
                return measure_particles(lab, arr, spacing=px_um)

            plain()
            times = []
            for _ in range(0 if args.no_plain else args.repeat):
                t0 = time.perf_counter()
                table = plain()
                times.append(time.perf_counter() - t0)
            row.update({"plain_s": statistics.median(times) if times else None})
            row["plain_count"] = len(plain()) if not times else len(table)
            if use_ij and not args.no_plain:
                best = None
                for _ in range(2):
                    r = analyze_particles_imagej(
                        arr, pixel_size_um=px_um, method="otsu", dark=dark, **limits
                    )
                    if best is None or r["seconds_analysis"] < best["seconds_analysis"]:
                        best = r
                row.update(
                    {
                        "imagej_analysis_s": best["seconds_analysis"],
                        "imagej_count": best["count"],
                        "imagej_threshold": best["thresholds"][0],
                        "ours_threshold": [float(lower), float(upper)],
                        "plain_speedup_vs_imagej": best["seconds_analysis"] / row["plain_s"],
                    }
                )

            # (b) whole process, interleaved
            ours_csv, ij_csv = tmp / "ours.csv", tmp / "ij.csv"
            ij_tif = tmp / "ij_input.tif"
            tifffile.imwrite(ij_tif, arr)
            macro = tmp / "whole.ijm"
            macro.write_text(_imagej_macro(ij_tif, px_um, dark, ij_csv, limits["min_area_um2"]))
            cli = [PY, "-m", "platescope", "particles", *_cli_args(img, ours_csv)]
            ours_w, ij_w = [], []
            for _ in range(args.repeat):
                ours_w.append(_wall(cli, "ours"))
                if use_ij:
                    ij_w.append(
                        _wall(
                            [
                                "xvfb-run",
                                "-a",
                                "java",
                                "-Xmx4g",
                                "-jar",
                                str(imagej_jar()),
                                "-batch",
                                str(macro),
                            ],
                            "imagej",
                            cwd=tmp,
                        )
                    )
            row.update(
                {
                    "process_cpu_s": statistics.median(CPU.pop("ours")),
                    "imagej_process_cpu_s": statistics.median(CPU.pop("imagej"))
                    if "imagej" in CPU
                    else None,
                    "process_s": statistics.median(ours_w),
                    "process_all_s": ours_w,
                    "process_count": len(pd.read_csv(ours_csv)),
                }
            )
            if use_ij:
                row.update(
                    {
                        "imagej_process_s": statistics.median(ij_w),
                        "imagej_process_all_s": ij_w,
                        "imagej_process_count": len(pd.read_csv(ij_csv)),
                        "process_speedup_vs_imagej": statistics.median(ij_w)
                        / statistics.median(ours_w),
                    }
                )

            # (c) full recipe: cold process without report, and `platescope analyze`
            if not args.no_recipe:
                px_opt = f", pixel_size_nm={img['px']!r}" if img["px"] else ""
                code = (
                    "from platescope.io import read_sem\n"
                    "from platescope.pipeline._sem_common import SEM_DEFAULTS, analyse_sem_image\n"
                    f"im = read_sem({str(img['path'])!r}{px_opt})\n"
                    "analyse_sem_image(im, dict(SEM_DEFAULTS), None)\n"
                )
                toml = tmp / "one.toml"
                toml.write_text(
                    '[experiment]\nscenario = "sem-particles"\nname = "bench"\n\n[sem]\n'
                    f"path = {json.dumps(str(img['path']))}\n"
                    + (f"pixel_size_nm = {img['px']}\n" if img["px"] else "")
                )
                rec, ana, base = [], [], []
                base_env = (
                    {**ENV, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
                    if args.baseline_src
                    else None
                )
                for k in range(args.recipe_repeat):
                    if base_env is not None:
                        base.append(_wall([PY, "-c", code], "baseline", env=base_env))
                    rec.append(_wall([PY, "-c", code], "recipe"))
                    if args.no_analyze:
                        continue
                    ana.append(
                        _wall(
                            [PY, "-m", "platescope", "analyze", str(toml)]
                            + ["--out", str(tmp / f"res{k}"), "--quiet"],
                            "analyze",
                        )
                    )
                if base:
                    row["baseline_recipe_process_cpu_s"] = statistics.median(CPU.pop("baseline"))
                    row["baseline_recipe_process_s"] = statistics.median(base)
                row.update(
                    {
                        "recipe_process_cpu_s": statistics.median(CPU.pop("recipe")),
                        "analyze_process_cpu_s": statistics.median(CPU.pop("analyze"))
                        if ana
                        else None,
                        "recipe_process_s": statistics.median(rec),
                        "analyze_process_s": statistics.median(ana) if ana else None,
                    }
                )
                if use_ij:
                    ij = row["imagej_process_s"]
                    row["recipe_speedup_vs_imagej_process"] = ij / row["recipe_process_s"]
                    if ana:
                        row["analyze_speedup_vs_imagej_process"] = ij / row["analyze_process_s"]
            row["load_after"] = os.getloadavg()
            results["images"][img["name"]] = row
            print(img["name"], json.dumps(row), flush=True)

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.out_name}.json").write_text(json.dumps(results, indent=1))
    (out / f"{args.out_name}.md").write_text(_markdown(results))
    print(_markdown(results))


def _ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def _markdown(results: dict) -> str:
    def f(v, fmt="{:.2f}"):
        return "n/a" if v is None else fmt.format(v)

    lines = [
        "| image | counts ours / ImageJ (process: ours / ImageJ) | (a) plain call s · ImageJ "
        "analysis s · ratio | (b) process wall s · ImageJ · ratio | (b) process CPU s · "
        "ImageJ · ratio | (c) recipe process wall (CPU) s · analyze wall (CPU) s | (c) recipe "
        "CPU s: baseline → ours · ImageJ process CPU · ImageJ / ours | load 1-min "
        "before→after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["images"].items():
        lines.append(
            f"| {name} | {r['plain_count']} / {r.get('imagej_count', 'n/a')} "
            f"({r['process_count']} / {r.get('imagej_process_count', 'n/a')}) "
            f"| {f(r['plain_s'], '{:.3f}')} · {f(r.get('imagej_analysis_s'), '{:.3f}')} · "
            f"{f(r.get('plain_speedup_vs_imagej'))}× "
            f"| {f(r['process_s'])} · {f(r.get('imagej_process_s'))} · "
            f"{f(r.get('process_speedup_vs_imagej'))}× "
            f"| {f(r.get('process_cpu_s'))} · {f(r.get('imagej_process_cpu_s'))} · "
            f"{f(_ratio(r.get('imagej_process_cpu_s'), r.get('process_cpu_s')))}× "
            f"| {f(r.get('recipe_process_s'))} ({f(r.get('recipe_process_cpu_s'))}) · "
            f"{f(r.get('analyze_process_s'))} ({f(r.get('analyze_process_cpu_s'))}) "
            f"| {f(r.get('baseline_recipe_process_cpu_s'))} → "
            f"{f(r.get('recipe_process_cpu_s'))} · "
            f"{f(r.get('imagej_process_cpu_s'))} · "
            f"{f(_ratio(r.get('imagej_process_cpu_s'), r.get('recipe_process_cpu_s')))}× "
            f"| {r['load_before'][0]:.1f}→{r['load_after'][0]:.1f} |"
        )
    lines.append("")
    lines.append(
        f"Ratios > 1: platescope faster. {results['cpus']} CPUs shared with other jobs; "
        f"xvfb-run alone: {f(results.get('xvfb_true_s'))} s. Medians of the repeats; "
        "processes are cold (new interpreter / JVM per run)."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
