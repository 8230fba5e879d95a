"""Scenario ``sem-particles``: Li nanoparticles in SEM images (SCIENCE.md §2).

Inputs: the experiment file's ``[sem]`` image and/or its ``[[sem_images]]`` (one per
plating condition: ``current_density_mA_cm2``, ``capacity_mAh_cm2``, ``cycle`` or
``condition_value`` + ``condition_unit``, and ``condition``, ``charge_C``).
Per image (pipeline/_sem_common.py): the footprint when the image shows one (else the
whole image) → particles (:func:`platescope.particles.detect_particles`, or the ImageJ
preset) → count, density, diameters (+ Gaussian / two-Gaussian fit), deposited Li,
faradaic efficiency, edge vs centre, the objects the filters excluded, and the deposit
morphology (counts null when it is not particulate). One image fills
``summary["particles"]``; several fill ``summary["particles_by_condition"]`` (the same
keys plus the conditions and ``path``) and ``summary["particles_vs_condition"]``
(repeats grouped; power-law exponents of density and diameter when ≥ 3 distinct values;
also as ``particles_vs_current`` when the series is the current density).
"""

from __future__ import annotations

from pathlib import Path

from platescope.pipeline._common import add_warning, expand_errors, read_echem_section
from platescope.pipeline._scenarios import Scenario, run_step
from platescope.pipeline._sem_common import (
    MICROGRAPH_PNG_LEVEL,
    SEM_DEFAULTS,
    analyse_sem_image,
    headline,
    sem_params,
)
from platescope.pipeline._sem_series import SERIES_KEYS, pick_series_key, series_trend
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    echem_context,
)

# sigma_nm 6 and the noise-based detection level: measured in validation/sem_particles.py
# (recall ≥ 0.95 incl. 20–30 nm particles that an Otsu level misses; sizes set by the
# half-maximum outline, so the level does not bias them)
DEFAULTS = {
    "sem": SEM_DEFAULTS,  # one SEM tuning for every scenario (pipeline/_sem_common.py)
}


def _plating_charge(ctx) -> float | None:
    """Plating charge (C) of the [echem] record: its cathodic steps only."""
    if ctx is None:
        return None
    steps = ctx.steps
    # the plating charge: cathodic steps only (never rests, stripping or impedance rows)
    cath = steps[(steps["direction"] == "cathodic") & (steps["kind"] != "sweep")]
    if cath.empty:
        return None
    return float(-cath["Q_C"].sum())


def run(exp, out, summary: dict) -> None:
    """Run the scenario's analyses and fill ``summary`` and ``out`` (a StagedOutput)."""
    from platescope import io, report

    p = summary["parameters"].setdefault("sem", sem_params(exp, DEFAULTS["sem"]))
    ctx = echem_context(read_echem_section(exp)) if exp.echem else None
    if ctx is not None:  # a potentiostatic deposition record: Scharifker–Hills
        run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx)
    entries = []
    if exp.sem:
        entries.append(
            {
                "path": exp.sem["path"],
                "pixel_size_nm": exp.sem.get("pixel_size_nm"),
                "condition": "sem",
                "charge_C": _plating_charge(ctx),
                "current_density_mA_cm2": (exp.echem or {}).get("current_density_mA_cm2"),
            }
        )
    entries += [dict(e) for e in exp.sem_images]
    if not entries:
        summary["skipped"].append(
            {"analysis": "particles", "reason": "no [sem] or [[sem_images]] input"}
        )
        summary["headline"] = "no SEM image given"
        return
    names = []
    for n, e in enumerate(entries):
        name = str(e.get("condition") or Path(e["path"]).stem or f"image{n}")
        while name in names:
            name += f"_{n}"
        names.append(name)

    results = []
    for e, name in zip(entries, names, strict=True):
        image = io.read_sem(e["path"], pixel_size_nm=e.get("pixel_size_nm"))
        res = analyse_sem_image(image, p, e.get("charge_C"))
        res.update({"image": image, "name": name, "entry": e})
        results.append(res)

    single = len(results) == 1
    for res in results:
        _figures_one(res, p, out, "" if single else f"_{res['name']}")
    if single:
        res = results[0]
        summary["particles"] = expand_errors(res["summary"])
        if res["fit"] is not None or res["summary"].get("count") is not None:
            out.figure(
                "diameters",
                report.fig_diameter_histogram(
                    res["table"]["diameter_nm"].to_numpy(), fit=res["fit"]
                ),
                title="Particle diameters",
                caption="Equivalent-circle diameters with the fitted Gaussian (or "
                "two-Gaussian) distribution (maximum likelihood, chosen by BIC).",
            )
        summary["headline"] = headline(res["summary"])
        return
    _series(results, p, out, summary)


def _figures_one(res, p, out, suffix: str) -> None:
    """Particle table, outlines figure and deposit figure of one image."""
    from platescope import report

    s, table, circle = res["summary"], res["table"], res["summary"]["footprint"]
    particulate = s.get("count") is not None
    out.table(
        f"particles{suffix}",
        table,
        title=f"Detected particles ({res['name']})"
        if particulate
        else f"Segmented objects ({res['name']}; the deposit is not particulate)",
    )
    fp_draw = None
    if circle.get("found"):
        fp_draw = {**circle, "edge_width_um": p["edge_fraction"] * circle["radius_um"]}
    out.figure(
        f"sem_particles{suffix}",
        report.fig_sem_particles(
            res["image"], labels=res["labels"], table=table, footprint=fp_draw
        ),
        title=f"SEM particles ({res['name']})",
        caption="Detected objects outlined (cyan); the footprint circle and its edge ring "
        "(dashed) when the image shows a footprint. "
        + ("" if particulate else "The deposit is not particulate: no particle statistics."),
        png_compress_level=MICROGRAPH_PNG_LEVEL,
    )
    m = s["morphology"]
    out.figure(
        f"sem_morphology{suffix}",
        report.fig_sem_morphology(res["image"], deposit=res["deposit"], morphology=m),
        title=f"Deposit morphology ({res['name']})",
        caption=f"Deposit pixels (orange) as segmented for the morphology verdict "
        f"'{m['kind']}' (coverage {100 * m['coverage']:.1f} %).",
        png_compress_level=MICROGRAPH_PNG_LEVEL,
    )


def _series(results, p, out, summary) -> None:
    """Rows per image, grouped trend along the series key, figures, headline."""
    from platescope import report

    entries = [r["entry"] for r in results]
    x_key = pick_series_key(entries, p["series_key"])
    rows = []
    for res in results:
        e = res["entry"]
        row = {
            "condition": res["name"],
            "current_density_mA_cm2": e.get("current_density_mA_cm2"),
            "charge_C": e.get("charge_C"),
            "path": str(e["path"]),
        }
        for k in ("capacity_mAh_cm2", "cycle", "condition_value", "condition_unit"):
            if e.get(k) is not None:
                row[k] = e[k]
        rows.append({**row, **res["summary"]})
    summary["particles_by_condition"] = expand_errors(rows)
    if x_key is None:
        summary["skipped"].append(
            {
                "analysis": "particles_vs_condition",
                "reason": "no [[sem_images]] entry gives a numeric condition "
                f"({', '.join(SERIES_KEYS)})",
            }
        )
    else:
        unit = SERIES_KEYS[x_key]
        if x_key == "condition_value":
            units = {e.get("condition_unit") for e in entries} - {None}
            unit = units.pop() if len(units) == 1 else None
        for r in rows:
            r.setdefault(x_key, None)
        trend, warns = series_trend(rows, x_key, unit)
        summary["particles_vs_condition"] = expand_errors(trend)
        for w in warns:
            add_warning(summary, w["code"], w["message"], f"particles_vs_condition.{w['where']}")
        if x_key == "current_density_mA_cm2":
            summary["particles_vs_current"] = summary["particles_vs_condition"]
    out.figure(
        "particle_outlines",
        report.fig_particle_outlines(
            [
                {
                    "image": r["image"],
                    "labels": r["labels"],
                    "title": r["name"],
                    "n": r["summary"]["count"] if r["summary"]["count"] is not None else 0,
                    "centre_um": (
                        r["summary"]["footprint"]["center_y_um"],
                        r["summary"]["footprint"]["center_x_um"],
                    )
                    if r["summary"]["footprint"].get("found")
                    else None,
                }
                for r in results
            ]
        ),
        title="Particles per condition",
        caption="A zoom at the footprint centre (or image centre) of each image with the "
        "detected objects outlined (cyan).",
    )
    hist = [r for r in results if r["fit"] is not None]
    if hist:
        out.figure(
            "diameters",
            report.fig_size_histograms(
                [
                    {
                        "values": r["table"]["diameter_nm"].to_numpy(),
                        "title": r["name"],
                        "fit": r["fit"],
                    }
                    for r in hist
                ]
            ),
            title="Particle diameters per condition",
            caption="Equivalent-circle diameters with the fitted Gaussian (or two-Gaussian) "
            "distribution per condition (particulate deposits only).",
        )
    j = [r.get("current_density_mA_cm2") for r in rows if r.get("count") is not None]
    if len({v for v in j if v is not None}) >= 2:
        out.figure(
            "particles_vs_current",
            report.fig_particles_vs_current(
                [r for r in summary["particles_by_condition"] if r.get("count") is not None]
            ),
            title="Particles vs current density",
            caption="Particle density (footprint, edge ring, centre) and mean diameter against "
            "the plating current density; error bars are 95 % (counting and sampling) "
            "intervals, the band ± 1 sd of the diameters.",
        )
    else:
        summary["skipped"].append(
            {
                "analysis": "particles_vs_current",
                "reason": "fewer than 2 particulate images with current densities",
            }
        )
    dens = [r["density_cm2"] for r in rows if r["density_cm2"] is not None]
    diam = [r["mean_diameter_nm"] for r in rows if r["mean_diameter_nm"] is not None]
    kinds = sorted({r["morphology"]["kind"] for r in rows})
    summary["headline"] = (
        f"{len(rows)} conditions: density {min(dens) / 1e9:.2f}–{max(dens) / 1e9:.2f}×10⁹ cm⁻², "
        f"mean diameter {min(diam):.0f}–{max(diam):.0f} nm"
        if dens and diam
        else f"{len(rows)} conditions ({', '.join(kinds)})"
    )


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="sem-particles",
    title="SEM images of Li deposits: particle counts, sizes, morphology, trends",
    run=run,
    inputs=("sem", "sem_images", "echem"),
    analyses={**DEFAULTS, "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS},
    simulator="platescope.simulate._sem_particles:sem_particles",
)
