"""Run ImageJ 1.x headless (under xvfb-run) for threshold + Analyze Particles parity.

ImageJ is an optional, external reference: on Debian/Ubuntu ``apt-get install imagej
xvfb`` gives ``/usr/share/java/ij.jar`` and ``xvfb-run``; any other ``ij.jar`` can be
named with the environment variable ``PLATESCOPE_IMAGEJ_JAR``. ImageJ's particle
analyser needs an AWT display, so java runs under ``xvfb-run -a`` (``-batch`` mode
with ``java.awt.headless=true`` fails in Analyze Particles).

Importable by the tests and by ``benchmarks/bench_particles.py``::

    from _imagej import imagej_available, analyze_particles_imagej

Nothing here is part of the platescope package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

_JARS = ("/usr/share/java/ij.jar", "/usr/share/imagej/ij.jar", "/opt/imagej/ij.jar")

#: ImageJ's names of the threshold methods platescope shares with it.
IMAGEJ_METHODS = {
    "otsu": "Otsu",
    "triangle": "Triangle",
    "li": "Li",
    "yen": "Yen",
    "isodata": "IsoData",
    "mean": "Mean",
}


def imagej_jar() -> Path | None:
    """The ImageJ jar to run, or None."""
    env = os.environ.get("PLATESCOPE_IMAGEJ_JAR")
    for cand in ([env] if env else []) + list(_JARS):
        if cand and Path(cand).is_file():
            return Path(cand)
    return None


def imagej_available() -> bool:
    """Whether java, xvfb-run and an ImageJ jar are all present."""
    return bool(shutil.which("java") and shutil.which("xvfb-run") and imagej_jar())


def _run_macro(macro: str, workdir: Path, timeout: float) -> tuple[str, float]:
    path = workdir / "macro.ijm"
    path.write_text(macro, encoding="utf-8")
    cmd = [
        "xvfb-run",
        "-a",
        "java",
        "-Xmx4g",
        "-jar",
        str(imagej_jar()),
        "-batch",
        str(path),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir, check=False
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0 and "PLATESCOPE_DONE" not in proc.stdout:
        raise RuntimeError(f"ImageJ failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout, wall


def imagej_version(timeout: float = 120) -> str:
    """ImageJ's version string (e.g. ``"1.52i"``)."""
    with tempfile.TemporaryDirectory() as d:
        out, _ = _run_macro(
            'print("PLATESCOPE_VERSION " + getVersion());\nprint("PLATESCOPE_DONE");\n',
            Path(d),
            timeout,
        )
    for line in out.splitlines():
        if line.startswith("PLATESCOPE_VERSION"):
            return line.split()[-1]
    return "unknown"


def _plain_number(x: float) -> str:
    """``x`` without an exponent (ImageJ's macro options do not read ``1e-06``)."""
    return np.format_float_positional(float(x), trim="-")


def analyze_particles_imagej(
    image: np.ndarray,
    *,
    pixel_size_um: float,
    method: str = "otsu",
    fixed_threshold: float | None = None,
    sigma_px: float | None = None,
    watershed: bool = False,
    min_area_um2: float = 0.0,
    max_area_um2: float | None = None,
    circularity: tuple[float, float] = (0.0, 1.0),
    exclude_edges: bool = False,
    include_holes: bool = False,
    dark: bool = False,
    timeout: float = 1800,
) -> dict:
    """ImageJ's threshold + Analyze Particles on a 2-D image or a (t, y, x) stack.

    Per frame (its display range reset to its own min–max, which sets the 256 bins
    of a 16-bit histogram): optional Gaussian Blur (σ in pixels, on a 32-bit copy), then
    ``setAutoThreshold("<Method> dark")`` (or a fixed level: foreground > level),
    optional Convert to Mask + Binary ▸ Watershed, then Analyze Particles with
    ``size=min-max`` (µm², inclusive) and ``circularity=lo-hi``.

    Returns
    -------
    dict
        ``count`` (all frames), ``mean_area_um2``, ``table`` (ImageJ's Results: Area,
        X, Y, Perim., Circ., ... plus ``frame``), ``thresholds`` ((lower, upper)
        levels of the foreground per frame, in the image's grey levels, inclusive), ``seconds_analysis`` (inside ImageJ, from
        the first to the last frame), ``seconds_wall`` (including java start-up and
        reading the file) and ``version``.
    """
    arr = np.asarray(image)
    stack = arr if arr.ndim == 3 else arr[None]
    if method not in IMAGEJ_METHODS and fixed_threshold is None:
        raise ValueError(f"ImageJ has no threshold method for {method!r}")
    # fixed-point numbers: ImageJ's option parser reads "4e-06" as 4 (sizes below
    # 1e-4 µm², e.g. 4 px of 1 nm, were silently a different limit)
    hi = "Infinity" if max_area_um2 is None else _plain_number(max_area_um2)
    opts = (
        f"size={_plain_number(min_area_um2)}-{hi} circularity={circularity[0]:g}-{circularity[1]:g}"
    )
    opts += " display"
    if exclude_edges:
        opts += " exclude"
    if include_holes:
        opts += " include"
    polarity = "" if dark else " dark"
    with tempfile.TemporaryDirectory(prefix="ps_imagej_") as d:
        work = Path(d)
        tif = work / "input.tif"
        tifffile.imwrite(
            tif,
            stack if arr.ndim == 3 else stack[0],
            imagej=True,
            resolution=(1.0 / pixel_size_um, 1.0 / pixel_size_um),
            metadata={"unit": "micron", "axes": "TYX" if arr.ndim == 3 else "YX"},
        )
        res = work / "results.csv"
        lines = [
            'setOption("BlackBackground", true);',
            'run("Options...", "iterations=1 count=1 black");',
            "setBatchMode(true);",
            f'open("{tif}");',
            "id = getImageID();",
            f'run("Properties...", "channels=1 slices=1 frames={stack.shape[0]} unit=micron '
            f'pixel_width={pixel_size_um:.12g} pixel_height={pixel_size_um:.12g} voxel_depth=1");',
            'run("Set Measurements...", "area mean centroid perimeter shape integrated '
            'redirect=None decimal=9");',
            'run("Clear Results");',
            "t0 = getTime();",
            f"for (f = 1; f <= {stack.shape[0]}; f++) {{",
            "  selectImage(id);",
            "  setSlice(f);",
            '  run("Duplicate...", "title=frame");',
            # a 16-bit frame's threshold histogram spans its display range: use the
            # frame's own min–max, as when the frame is opened on its own
            "  if (bitDepth() != 8) resetMinAndMax();",
        ]
        if sigma_px:
            lines += ['  run("32-bit");', f'  run("Gaussian Blur...", "sigma={sigma_px:.10g}");']
        if fixed_threshold is not None:
            lines += [
                "  if (bitDepth() == 32) { lower = "
                f"{fixed_threshold:.12g} + 1e-9; }} else {{ lower = floor({fixed_threshold:.12g}) + 1; }}",
                "  if (bitDepth() == 8) upper = 255; else if (bitDepth() == 16) upper = 65535; "
                "else upper = 1e30;",
                "  setThreshold(lower, upper);",
            ]
        else:
            lines += [f'  setAutoThreshold("{IMAGEJ_METHODS[method]}{polarity}");']
        lines += [
            "  getThreshold(lower, upper);",
            '  print("PLATESCOPE_THRESHOLD " + f + " " + d2s(lower, 9) + " " + d2s(upper, 9));',
            "  n0 = nResults;",
        ]
        if watershed:
            lines += [
                '  run("Convert to Mask");',
                '  run("Watershed");',
                "  setThreshold(255, 255);",
            ]
        lines += [
            f'  run("Analyze Particles...", "{opts}");',
            '  for (i = n0; i < nResults; i++) setResult("frame", i, f - 1);',
            '  close("frame");',
            "}",
            "t1 = getTime();",
            'print("PLATESCOPE_MS " + (t1 - t0));',
            f'saveAs("Results", "{res}");',
            'print("PLATESCOPE_DONE");',
        ]
        out, wall = _run_macro("\n".join(lines) + "\n", work, timeout)
        table = pd.read_csv(res) if res.exists() and res.stat().st_size else pd.DataFrame()
    thresholds = []
    ms = float("nan")
    for line in out.splitlines():
        if line.startswith("PLATESCOPE_THRESHOLD"):
            thresholds.append((float(line.split()[2]), float(line.split()[3])))
        elif line.startswith("PLATESCOPE_MS"):
            ms = float(line.split()[1])
    if " " in table.columns:
        table = table.drop(columns=[" "])
    count = len(table)
    return {
        "count": count,
        "mean_area_um2": float(table["Area"].mean()) if count else float("nan"),
        "table": table,
        "thresholds": thresholds,
        "seconds_analysis": ms / 1000.0,
        "seconds_wall": wall,
    }


def fiji_particle_macro(
    image: np.ndarray,
    *,
    sigma_px: float | None = 2.0,
    method: str = "Default",
    dark: bool = True,
    watershed: bool = True,
    min_area_px: float = 0.0,
    max_area_px: float | None = None,
    exclude_edges: bool = False,
    timeout: float = 600,
) -> dict:
    """The brief's Fiji macro on one 2-D image, in the image's own type, step for step.

    ``Gaussian Blur... sigma=<σ>`` (pixels, on the 8/16-bit image itself: ImageJ
    rounds the result back to that type), ``setAutoThreshold("<Method>[ dark]")``,
    ``Convert to Mask``, ``Watershed``, ``Analyze Particles... size=<min>-<max> pixel``.
    The image is saved without calibration so that sizes are pixels.

    Returns
    -------
    dict
        ``count``, ``mean_area_px``, ``table`` (Results), ``threshold`` (lower, upper),
        ``blurred`` (the blurred image ImageJ thresholded), ``mask`` (bool, after the
        watershed).
    """
    arr = np.asarray(image)
    hi = "Infinity" if max_area_px is None else f"{max_area_px:.10g}"
    opts = f"size={min_area_px:.10g}-{hi} pixel display"
    if exclude_edges:
        opts += " exclude"
    with tempfile.TemporaryDirectory(prefix="ps_fiji_") as d:
        work = Path(d)
        tif = work / "input.tif"
        tifffile.imwrite(tif, arr)
        res, blur, mask = work / "results.csv", work / "blur.tif", work / "mask.tif"
        lines = [
            'setOption("BlackBackground", true);',
            'run("Options...", "iterations=1 count=1 black");',
            "setBatchMode(true);",
            f'open("{tif}");',
            'run("Set Measurements...", "area mean centroid perimeter shape redirect=None '
            'decimal=9");',
            'run("Clear Results");',
        ]
        if sigma_px:
            lines.append(f'run("Gaussian Blur...", "sigma={sigma_px:.10g}");')
        lines += [
            f'saveAs("Tiff", "{blur}");',
            f'setAutoThreshold("{method}{" dark" if dark else ""}");',
            "getThreshold(lower, upper);",
            'print("PLATESCOPE_THRESHOLD " + d2s(lower, 9) + " " + d2s(upper, 9));',
            'run("Convert to Mask");',
        ]
        if watershed:
            lines.append('run("Watershed");')
        lines += [
            f'saveAs("Tiff", "{mask}");',
            "setThreshold(255, 255);",
            f'run("Analyze Particles...", "{opts}");',
            f'saveAs("Results", "{res}");',
            'print("PLATESCOPE_DONE");',
        ]
        out, _ = _run_macro("\n".join(lines) + "\n", work, timeout)
        table = pd.read_csv(res) if res.exists() and res.stat().st_size else pd.DataFrame()
        blurred = tifffile.imread(blur)
        m = tifffile.imread(mask) > 0
    thr = (float("nan"), float("nan"))
    for line in out.splitlines():
        if line.startswith("PLATESCOPE_THRESHOLD"):
            thr = (float(line.split()[1]), float(line.split()[2]))
    if " " in table.columns:
        table = table.drop(columns=[" "])
    return {
        "count": len(table),
        "mean_area_px": float(table["Area"].mean()) if len(table) else float("nan"),
        "table": table,
        "threshold": thr,
        "blurred": blurred,
        "mask": m,
    }
