"""``platescope particles IMAGE``: threshold, label and measure the particles of one image.

The command-line counterpart of ImageJ's *Analyze Particles* (and of
``segment_particles`` + ``measure_particles``): one SEM (or any 2-D TIFF) image in,
one CSV row per particle out. It imports only what that needs — the SEM reader without
xarray, SciPy's ``ndimage``, scikit-image's thresholds and pandas for the table — so a
whole process costs about as much as the analysis (docs/performance.md, "Particles and
start-up").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from platescope._errors import InputError

#: Threshold methods the command offers (``platescope.particles.THRESHOLD_METHODS``,
#: spelled here so that ``--help`` imports no scikit-image).
METHODS = ("otsu", "triangle", "li", "yen", "isodata", "mean", "fixed", "local")


def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``particles`` sub-command on ``sub`` (argparse sub-parsers)."""
    q = sub.add_parser(
        "particles",
        help="threshold, label and measure the particles of one image (CSV out)",
        description="Segment one SEM/TIFF image into particles (threshold → 8-connected "
        "labels → optional watershed → size filter) and write one CSV row per particle: "
        "label, y_um, x_um, area_um2, equivalent_diameter_um, perimeter_um (ImageJ's "
        "traced perimeter), circularity, integrated_intensity, mean_intensity, "
        "touches_border. The same engine as the library's segment_particles + "
        "measure_particles (docs/particles.md §1).",
    )
    q.add_argument("image", help="SEM TIFF (pixel size from its metadata or --pixel-size-nm)")
    q.add_argument("--out", default="-", help="CSV file to write ('-', the default: stdout)")
    q.add_argument("--threshold", default="otsu", choices=METHODS, help="default otsu")
    q.add_argument(
        "--level",
        type=float,
        default=None,
        help="grey level for --threshold fixed (foreground > level)",
    )
    q.add_argument("--polarity", default="bright", choices=("bright", "dark"))
    q.add_argument(
        "--imagej-levels",
        action="store_true",
        help="compute the auto-threshold level as ImageJ 1.x does (its 256-bin histogram "
        "between the image's min and max for 16-bit and float images), so the particles "
        "are those of ImageJ's setAutoThreshold + Analyze Particles; otsu, mean, yen only",
    )
    q.add_argument(
        "--local-block-um",
        type=float,
        default=None,
        help="background block, µm (needed by --threshold local; with a global method a "
        "slowly varying background is removed first)",
    )
    q.add_argument("--sigma-um", type=float, default=None, help="Gaussian smoothing, µm")
    q.add_argument(
        "--watershed",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="split touching particles (default on, as the library; --no-watershed = "
        "ImageJ's Analyze Particles without Binary ▸ Watershed)",
    )
    q.add_argument("--min-area-um2", type=float, default=None)
    q.add_argument("--max-area-um2", type=float, default=None)
    q.add_argument("--exclude-border", action="store_true", help="drop particles touching the edge")
    q.add_argument(
        "--fill-holes", action="store_true", help="holes count as area (ImageJ 'include')"
    )
    q.add_argument(
        "--pixel-size-nm", type=float, default=None, help="when the file's metadata lack it"
    )
    q.add_argument(
        "--databar",
        default="auto",
        help="rows of instrument data bar to drop: 'auto' (metadata or detected) or a number",
    )
    q.set_defaults(func=run)
    return q


def run(args) -> int:
    """Run the command; returns the exit status (errors are ``InputError``, exit 2)."""
    from platescope.io._sem import sem_array
    from platescope.particles._detect import segment_particles
    from platescope.particles._measure import MEASURE_COLUMNS, measure_columns

    databar = args.databar
    if databar != "auto":
        try:
            databar = int(databar)
        except ValueError:
            raise InputError(
                args.image,
                f"--databar {databar!r} is not 'auto' or a number of rows",
                "e.g. --databar 90",
            ) from None
    if args.threshold == "fixed" and args.level is None:
        raise InputError(
            None, "--threshold fixed needs --level", "give the grey level, e.g. --level 120"
        )
    image, attrs = sem_array(args.image, pixel_size_nm=args.pixel_size_nm, databar=databar)
    method, level = args.threshold, args.level
    if args.imagej_levels:
        method, level = "fixed", _imagej_level(args, image)
    spacing = (
        attrs.get("pixel_size_y_nm", attrs["pixel_size_nm"]) / 1000.0,
        attrs["pixel_size_nm"] / 1000.0,
    )
    try:
        labels = segment_particles(
            image,
            spacing=spacing,
            sigma_um=args.sigma_um,
            method=method,
            threshold=level,
            polarity=args.polarity,
            local_block_um=args.local_block_um,
            watershed=args.watershed,
            min_area_um2=args.min_area_um2,
            max_area_um2=args.max_area_um2,
            fill_holes=args.fill_holes,
            exclude_border=args.exclude_border,
        )
    except ValueError as err:  # an option the engine refuses (e.g. a negative area)
        raise InputError(args.image, str(err), "check the particles options (--help)") from None
    cols, _ = measure_columns(labels, image, spacing=spacing)
    text = _csv(cols, MEASURE_COLUMNS)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        from platescope._atomic import atomic_write_text

        out = Path(args.out)
        _refuse_foreign_output(out, Path(args.image), header=text.split("\n", 1)[0])
        atomic_write_text(out, text)
    n = int(cols["label"].size)
    pages = _n_pages(args.image)
    if pages > 1:  # the SEM reader takes the first image of a stack: say so
        print(
            f"note: {Path(args.image).name} holds {pages} images; only the first was "
            "analysed (split the stack to analyse the others)",
            file=sys.stderr,
        )
    bar = attrs.get("databar_rows", 0)
    print(
        f"{n} particles in {Path(args.image).name} "
        f"({image.shape[0]}×{image.shape[1]} px at {attrs['pixel_size_nm']:g} nm"
        + (f"; {bar} data-bar rows dropped ({attrs.get('databar_source')})" if bar else "")
        + ")",
        file=sys.stderr,
    )
    return 0


def _imagej_level(args, image) -> float:
    """``--imagej-levels``: ImageJ's level as a ``fixed`` threshold of the engine.

    ImageJ's foreground is the inclusive range (lower, upper) it reports; the engine's
    is ``value > level`` (bright) or ``−value > level`` (dark, negated units), so the
    level is put just below ``lower`` (just above ``upper`` for dark particles).
    """
    import numpy as np

    from platescope.particles._imagej import imagej_threshold

    names = {"otsu": "Otsu", "mean": "Mean", "yen": "Yen"}
    if args.threshold not in names:
        raise InputError(
            None,
            f"--imagej-levels has no ImageJ twin for --threshold {args.threshold}",
            "use --threshold otsu, mean or yen with --imagej-levels",
        )
    if args.sigma_um or args.local_block_um:
        raise InputError(
            None,
            "--imagej-levels thresholds the image as read (ImageJ's Analyze Particles)",
            "drop --sigma-um / --local-block-um, or drop --imagej-levels",
        )
    bright = args.polarity == "bright"
    lower, upper = imagej_threshold(image, names[args.threshold], dark_background=bright)
    if bright:
        return float(np.nextafter(lower, -np.inf))
    return -float(np.nextafter(upper, np.inf))


def _n_pages(path) -> int:
    """Number of images (pages) in a TIFF; 1 when it cannot be told."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return len(tif.pages)
    except Exception:  # noqa: BLE001 - only for a note; the reader already accepted it
        return 1


def _refuse_foreign_output(out: Path, image: Path, *, header: str) -> None:
    """Raise InputError unless ``out`` is new or a particles table this command wrote.

    platescope never overwrites a file it did not write: not the input image (``--out``
    naming it once replaced a real SEM TIFF with the table), not a user's own file. An
    existing file is replaced only when its first line is this command's CSV header.
    """
    if not out.exists() and not out.is_symlink():
        return
    fix = "choose another --out file name (or move the existing file away yourself)"
    if out.is_dir():
        raise InputError(out, "--out names a folder", "give a CSV file name, e.g. particles.csv")
    try:
        same = image.exists() and out.resolve().samefile(image.resolve())
    except OSError:
        same = False
    if same:
        raise InputError(out, "--out names the input image itself; it would be overwritten", fix)
    try:
        with open(out, "rb") as fh:
            first = fh.readline(len(header) + 2).decode("utf-8", "replace").rstrip("\r\n")
    except OSError:
        first = ""
    if first != header:
        raise InputError(
            out,
            "the file exists and is not a particles table written by platescope; "
            "platescope never overwrites a file it did not write",
            fix,
        )


def _csv(cols: dict, names) -> str:
    """The table as CSV text, as ``pandas.DataFrame.to_csv(index=False)`` writes it
    (shortest round-trip floats, ``True``/``False``), without importing pandas."""
    lists = [cols[c].tolist() for c in names]
    lines = [",".join(names)]
    lines += [",".join(map(_cell, row)) for row in zip(*lists, strict=True)]
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float) and v != v:
        return ""  # NaN: an empty field, as pandas writes it
    return repr(v)
