"""Scenario ``sem-particles``: Li nanoparticles in SEM images (SCIENCE.md §2).

Inputs: the experiment file's ``[sem]`` image and/or its ``[[sem_images]]`` (one per
plating condition, with ``current_density_mA_cm2``, ``condition`` and ``charge_C``).
Per image: footprint → particles (:func:`platescope.particles.detect_particles`) →
count, density, diameters (+ Gaussian / two-Gaussian fit), deposited Li, faradaic
efficiency (when a plating charge is known: ``charge_C``, or the ``[echem]`` record
for the ``[sem]`` image), edge vs centre. One image fills ``summary["particles"]``
(the contract's keys); several fill ``summary["particles_by_condition"]`` (the same
keys plus ``condition``, ``current_density_mA_cm2``, ``path``) and
``summary["particles_vs_current"]`` (power-law exponents of density and diameter
against j when ≥ 3 current densities are given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from platescope._errors import InputError
from platescope.pipeline._common import analysis_params, expand_errors, read_echem_section

# sigma_nm 6 and the noise-based detection level: measured in validation/sem_particles.py
# (recall ≥ 0.95 incl. 20–30 nm particles that an Otsu level misses; sizes set by the
# half-maximum outline, so the level does not bias them)
DEFAULTS = {
    "sem": {
        "sigma_nm": 6.0,
        "threshold": "noise",
        "max_area_um2": 0.1,
        "min_area_nm2": 300.0,
        "edge_fraction": 0.2,
        "footprint": "grey",
        "ridge_min_nm": 20.0,
    }
}


def _charge_from_echem(exp) -> float | None:

    if not exp.echem:
        return None
    from platescope.echem import split_steps

    echem = read_echem_section(exp)
    # the plating charge: cathodic steps only (never rests, stripping or impedance rows)
    steps = split_steps(echem)
    cath = steps[(steps["direction"] == "cathodic") & (steps["kind"] != "sweep")]
    if cath.empty:
        return None
    return float(-cath["Q_C"].sum())


def _whole_image(image: xr.DataArray) -> tuple[xr.DataArray, dict[str, Any]]:
    """The whole image as the region (no footprint): a mask and a covering circle."""
    y = image.y.values
    x = image.x.values
    cy, cx = 0.5 * (y[0] + y[-1]), 0.5 * (x[0] + x[-1])
    r = float(np.hypot(y[-1] - y[0], x[-1] - x[0]))  # covers every pixel
    px = float(image.attrs["pixel_size_nm"]) / 1000.0
    mask = xr.DataArray(
        np.ones(image.shape, bool),
        dims=("y", "x"),
        coords={"y": y, "x": x},
        attrs={"pixel_size_nm": image.attrs["pixel_size_nm"]},
    )
    circle = {
        "center_y_um": cy,
        "center_x_um": cx,
        "radius_um": r,
        "area_um2": float(image.size * px * px),
        "method": "whole image",
    }
    return mask, circle


def _analyse_image(image, p, charge_C) -> dict[str, Any]:
    """Footprint, particles, summary and size fit of one SEM image."""
    from platescope import particles, stats

    notes = []
    if p["footprint"] == "none":
        fp_mask, circle = _whole_image(image)
    else:
        try:
            fp_mask, circle = particles.footprint_from_sem(image, method=p["footprint"])
        except InputError as err:
            fp_mask, circle = _whole_image(image)
            notes.append(f"no footprint found ({err.problem}): the whole image was analysed")
    labels, table = particles.detect_particles(
        image,
        mask=fp_mask,
        sigma_nm=p["sigma_nm"],
        threshold=p["threshold"],
        max_area_um2=p["max_area_um2"],
        min_area_nm2=p["min_area_nm2"],
        ridge_min_nm=p["ridge_min_nm"],
    )
    psum = particles.particle_summary(
        table,
        mask=fp_mask,
        footprint=circle,
        charge_C=charge_C,
        edge_fraction=p["edge_fraction"],
    )
    if charge_C is None:
        psum["faradaic_efficiency_reason"] = (
            "no plating charge: give charge_C in [[sem_images]] or an [echem] record"
        )
    if circle["method"] == "whole image":
        for key in ("edge", "center"):
            psum[key] = {"density_cm2": None, "mean_diameter_nm": None, "reason": "no footprint"}
    fit = None
    if len(table) >= 5:
        fit = stats.fit_diameter_distribution(table["diameter_nm"].to_numpy())
        psum["diameter_fit"] = {k: v for k, v in fit.items() if k != "curve"}
    psum["footprint"] = circle
    psum["threshold_grey"] = table.attrs.get("threshold")
    psum["noise_grey"] = table.attrs.get("noise")
    if notes:
        psum["notes"] = notes
    return {"summary": psum, "table": table, "labels": labels, "mask": fp_mask, "fit": fit}


def _power_law(j: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, Any] | None:
    """Exponent b of y ∝ j^b by weighted least squares in log–log (1σ from the fit)."""
    ok = np.isfinite(j) & np.isfinite(y) & (j > 0) & (y > 0)
    if ok.sum() < 3:
        return None
    lx, ly = np.log(j[ok]), np.log(y[ok])
    rel = np.where(np.isfinite(err[ok]) & (err[ok] > 0), err[ok] / y[ok], np.nan)
    w = (
        1.0
        / np.where(np.isfinite(rel), rel, np.nanmax(rel) if np.isfinite(rel).any() else 1.0) ** 2
    )
    a = np.column_stack([np.ones_like(lx), lx])
    cov = np.linalg.inv(a.T @ (w[:, None] * a))
    coef = cov @ a.T @ (w * ly)
    resid = ly - a @ coef
    dof = max(int(ok.sum()) - 2, 1)
    scale = max(float(np.sum(w * resid**2)) / dof, 1.0)  # inflate by the scatter
    return {
        "exponent": float(coef[1]),
        "exponent_err": float(np.sqrt(cov[1, 1] * scale)),
        "n": int(ok.sum()),
    }


def run(exp, out, summary: dict) -> None:
    """Run the scenario's analyses and fill ``summary`` and ``out`` (a StagedOutput)."""
    from platescope import io, report

    p = summary["parameters"].setdefault("sem", analysis_params(exp, "sem", DEFAULTS["sem"]))
    if p["footprint"] not in ("grey", "density", "none"):
        raise InputError(
            exp.path,
            f"[analysis.sem] footprint = {p['footprint']!r} is not a footprint method",
            "use 'grey', 'density' or 'none' (whole image)",
        )
    entries = []
    if exp.sem:
        entries.append(
            {
                "path": exp.sem["path"],
                "pixel_size_nm": exp.sem.get("pixel_size_nm"),
                "condition": "sem",
                "charge_C": _charge_from_echem(exp),
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
        res = _analyse_image(image, p, e.get("charge_C"))
        res.update({"image": image, "name": name, "entry": e})
        results.append(res)

    single = len(results) == 1
    for res in results:
        suffix = "" if single else f"_{res['name']}"
        s, table, circle = res["summary"], res["table"], res["summary"]["footprint"]
        out.table(f"particles{suffix}", table, title=f"Detected particles ({res['name']})")
        fp_draw = None
        if circle["method"] != "whole image":
            fp_draw = {**circle, "edge_width_um": p["edge_fraction"] * circle["radius_um"]}
        out.figure(
            f"sem_particles{suffix}",
            report.fig_sem_particles(
                res["image"], labels=res["labels"], table=table, footprint=fp_draw
            ),
            title=f"SEM particles ({res['name']})",
            caption="Detected Li particles outlined (cyan); the footprint circle and its edge "
            "ring (dashed).",
        )
    if single:
        res = results[0]
        summary["particles"] = expand_errors(res["summary"])
        out.figure(
            "diameters",
            report.fig_diameter_histogram(res["table"]["diameter_nm"].to_numpy(), fit=res["fit"]),
            title="Particle diameters",
            caption="Equivalent-circle diameters with the fitted Gaussian (or two-Gaussian) "
            "distribution (maximum likelihood, chosen by BIC).",
        )
        s = res["summary"]
        summary["headline"] = (
            f"{s['count']} particles, {s['density_cm2'] / 1e9:.2f}×10⁹ cm⁻², "
            f"d = {s['mean_diameter_nm']:.0f} ± {s['sd_diameter_nm']:.0f} nm"
            if s["count"] > 1
            else f"{s['count']} particles"
        )
        return

    rows = []
    for res in results:
        e = res["entry"]
        rows.append(
            {
                "condition": res["name"],
                "current_density_mA_cm2": e.get("current_density_mA_cm2"),
                "charge_C": e.get("charge_C"),
                "path": str(e["path"]),
                **res["summary"],
            }
        )
    summary["particles_by_condition"] = expand_errors(rows)
    j = np.array(
        [
            np.nan
            if r["current_density_mA_cm2"] is None
            else abs(float(r["current_density_mA_cm2"]))
            for r in rows
        ]
    )
    trend: dict[str, Any] = {}
    for key, label in (("density_cm2", "density"), ("mean_diameter_nm", "mean_diameter")):
        y = np.array([np.nan if r[key] is None else float(r[key]) for r in rows])
        err = np.array(
            [np.nan if r.get(f"{key}_err") is None else float(r[f"{key}_err"]) for r in rows]
        )
        fit = _power_law(j, y, err)
        if fit is None:
            trend[label] = {"exponent": None, "reason": "needs ≥ 3 images with current densities"}
        else:
            trend[label] = fit
    trend["definition"] = "y ∝ j^exponent, weighted least squares of ln y vs ln j"
    summary["particles_vs_current"] = expand_errors(trend)
    out.figure(
        "particle_outlines",
        report.fig_particle_outlines(
            [
                {
                    "image": r["image"],
                    "labels": r["labels"],
                    "title": r["name"],
                    "n": r["summary"]["count"],
                    "centre_um": (
                        r["summary"]["footprint"]["center_y_um"],
                        r["summary"]["footprint"]["center_x_um"],
                    )
                    if r["summary"]["footprint"]["method"] != "whole image"
                    else None,
                }
                for r in results
            ]
        ),
        title="Particles per condition",
        caption="A zoom at the footprint centre of each image with the detected particles "
        "outlined (cyan).",
    )
    out.figure(
        "diameters",
        report.fig_size_histograms(
            [
                {
                    "values": r["table"]["diameter_nm"].to_numpy(),
                    "title": r["name"],
                    "fit": r["fit"],
                }
                for r in results
            ]
        ),
        title="Particle diameters per condition",
        caption="Equivalent-circle diameters with the fitted Gaussian (or two-Gaussian) "
        "distribution per condition.",
    )
    if np.isfinite(j).sum() >= 2:
        out.figure(
            "particles_vs_current",
            report.fig_particles_vs_current(summary["particles_by_condition"]),
            title="Particles vs current density",
            caption="Particle density (footprint, edge ring, centre) and mean diameter against "
            "the plating current density; error bars are 95 % (counting and sampling) "
            "intervals, the band ± 1 sd of the diameters.",
        )
    else:
        summary["skipped"].append(
            {
                "analysis": "particles_vs_current",
                "reason": "fewer than 2 images with current densities",
            }
        )
    dens = [r["density_cm2"] for r in rows if r["density_cm2"] is not None]
    diam = [r["mean_diameter_nm"] for r in rows if r["mean_diameter_nm"] is not None]
    summary["headline"] = (
        f"{len(rows)} conditions: density {min(dens) / 1e9:.2f}–{max(dens) / 1e9:.2f}×10⁹ cm⁻², "
        f"mean diameter {min(diam):.0f}–{max(diam):.0f} nm"
        if dens and diam
        else f"{len(rows)} conditions"
    )
