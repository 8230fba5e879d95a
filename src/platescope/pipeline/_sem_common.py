"""One SEM image → region, particles, morphology and what was filtered out.

Shared by the ``sem-particles`` and ``irm-galvanostatic`` runners so that both report
the same keys (docs/particles.md §2): ``particles.footprint`` (found or the whole image,
with the test's numbers), ``particles.excluded`` (one row per size filter and the edge
rule), ``particles.morphology`` (verdict, coverage, index of dispersion, whiskers,
grains, voids) and, when the deposit is not particulate, particle counts and sizes
null with a ``reason``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage as ndi

from platescope._errors import InputError

#: Options of every SEM analysis beyond each runner's recipe defaults.
COMMON_DEFAULTS: dict[str, Any] = {
    "polarity": "bright",
    "morphology_sigma_px": 0.5,
    "morphology_grid": 8,
    "excluded_warn_fraction": 0.05,
    "preset": "none",
    # ImageJ preset (particles._imagej): used only with preset = "imagej"
    "sigma_px": 2.0,
    "min_area_px": 0.0,
    "max_area_px": None,
    "watershed": True,
    "exclude_edges": False,
    "series_key": "auto",
}

#: quantities that need resolved particle sizes
_SIZE_KEYS = (
    "mean_diameter_nm",
    "mean_diameter_nm_err",
    "sd_diameter_nm",
    "deposited_Li_fmol",
    "deposited_Li_fmol_err",
    "faradaic_efficiency",
    "faradaic_efficiency_err",
)
#: particle quantities that mean nothing when the deposit is not particulate
_PARTICLE_KEYS = ("count", "count_err", "density_cm2", "density_cm2_err", *_SIZE_KEYS)


def sem_params(exp, defaults: dict) -> dict:
    """``[analysis.sem]`` over ``defaults``; the ImageJ preset's own defaults; checked.

    With ``preset = "imagej"`` the threshold defaults to ImageJ's ``"Default"`` method
    and the footprint to ``"none"`` (Fiji's macro analyses the whole image).
    """
    from platescope.pipeline._common import analysis_params

    p = analysis_params(exp, "sem", defaults)
    given = exp.analysis.get("sem", {})
    if p["preset"] == "imagej":
        if "threshold" not in given:
            p["threshold"] = "Default"
        if "footprint" not in given:
            p["footprint"] = "none"
    check_params(p, exp.path)
    return p


def check_params(p: dict, path) -> None:
    """Reject option values the SEM analyses do not know (InputError naming the file)."""
    if p.get("footprint") not in ("grey", "density", "none"):
        raise InputError(
            path,
            f"[analysis.sem] footprint = {p.get('footprint')!r} is not a footprint method",
            "use 'grey', 'density' or 'none' (whole image)",
        )
    if p["polarity"] not in ("bright", "dark"):
        raise InputError(
            path,
            f"[analysis.sem] polarity = {p['polarity']!r} is not 'bright' or 'dark'",
            "use 'dark' when the deposit is darker than the substrate",
        )
    if p["series_key"] not in ("auto", *_series_keys()):
        raise InputError(
            path,
            f"[analysis.sem] series_key = {p['series_key']!r} is not a condition key",
            f"use 'auto' or one of {', '.join(_series_keys())}",
        )
    if p["preset"] == "imagej" and p["footprint"] != "none":
        raise InputError(
            path,
            "[analysis.sem] preset = 'imagej' analyses the whole image (as Fiji's macro)",
            "drop footprint or set footprint = 'none'",
        )
    if p["preset"] not in ("none", "imagej"):
        raise InputError(
            path,
            f"[analysis.sem] preset = {p['preset']!r} is unknown",
            "use 'imagej' (Fiji's Gaussian Blur → auto-threshold → Watershed → Analyze "
            "Particles) or leave it out",
        )


def _series_keys() -> tuple[str, ...]:
    from platescope.pipeline._sem_series import SERIES_KEYS

    return tuple(SERIES_KEYS)


def overlay_box(image: xr.DataArray) -> tuple[slice, slice] | None:
    """An annotation box burnt into the image (an in-image data bar), or None.

    The largest 8-connected region of one exact grey level at either end of the
    image's range (0 or the maximum, as instruments draw their boxes), ≥ 0.5 % of the
    image, filling ≥ 60 % of its bounding box. Real signal at a saturated level is
    neither that large nor that rectangular.
    """
    vals = np.asarray(image.values)
    for level in (vals.min(), vals.max()):
        flat = vals == level
        if flat.mean() < 0.005:
            continue
        lab, n = ndi.label(flat, structure=np.ones((3, 3)))
        sizes = np.bincount(lab.ravel())[1:]
        k = int(np.argmax(sizes)) + 1
        sl = ndi.find_objects((lab == k).astype(np.int32))[0]
        box = (sl[0].stop - sl[0].start) * (sl[1].stop - sl[1].start)
        if sizes[k - 1] >= 0.005 * vals.size and sizes[k - 1] >= 0.6 * box:
            pad = 2
            return (
                slice(max(sl[0].start - pad, 0), sl[0].stop + pad),
                slice(max(sl[1].start - pad, 0), sl[1].stop + pad),
            )
    return None


def _region(image, p):
    from platescope import particles

    if p["footprint"] == "none" or p["preset"] == "imagej":
        mask, circle = particles.whole_image_region(image)
    else:
        mask, circle = particles.find_footprint(image, method=p["footprint"])
    box = overlay_box(image) if p["preset"] != "imagej" else None
    if box is not None:
        m = np.asarray(mask.values, bool).copy()
        m[box] = False
        mask = mask.copy(data=m)
        px_um = float(image.attrs["pixel_size_nm"]) / 1000.0
        circle = {
            **circle,
            "area_um2": float(m.sum() * px_um * px_um),
            "overlay_excluded": {
                "rows": [box[0].start, box[0].stop],
                "cols": [box[1].start, box[1].stop],
                "reason": "an annotation box (data bar) inside the image is left out",
            },
        }
    return mask, circle


def _oriented(image: xr.DataArray, polarity: str) -> xr.DataArray:
    """The image with the deposit bright (a dark deposit is inverted: max − value)."""
    if polarity == "bright":
        return image
    vals = np.asarray(image.values, dtype=np.float64)
    return image.copy(data=float(vals.max()) - vals)


def excluded_rows(table, p) -> tuple[list[dict], list[dict]]:
    """``particles.excluded`` rows and a warning when size/shape filters drop a lot.

    The segmented area is that of the kept objects plus every excluded one; a warning
    (code ``filtered-area``) is raised when the objects removed by a size or shape
    filter hold more than ``excluded_warn_fraction`` of it.
    """
    rows = [dict(r) for r in table.attrs.get("excluded", [])]
    kept = float(table.attrs.get("kept_area_um2", 0.0))
    total = kept + sum(r["area_um2"] for r in rows)
    warnings = []
    limit = float(p["excluded_warn_fraction"])
    for r in rows:
        r["fraction_of_segmented_area"] = float(r["area_um2"] / total) if total > 0 else 0.0
        if r["filter"] != "exclude_border" and r["fraction_of_segmented_area"] > limit:
            warnings.append(
                {
                    "code": "filtered-area",
                    "message": f"{r['count']} objects {r['reason']} hold "
                    f"{r['fraction_of_segmented_area']:.0%} of the segmented area and are "
                    f"not counted; loosen [analysis.sem] {r['filter']} if they are deposit",
                }
            )
    return rows, warnings


def _null_particles(psum: dict, reason: str) -> None:
    for key in _PARTICLE_KEYS:
        if key in psum:
            psum[key] = None
    psum["reason"] = reason
    psum["faradaic_efficiency_reason"] = reason
    for key in ("edge", "center"):
        psum[key] = {"density_cm2": None, "mean_diameter_nm": None, "reason": reason}
    psum.pop("diameter_fit", None)


#: particles whose median area is below this many pixels cannot be sized
_MIN_RESOLVED_PX = 12


def _unresolved(table, image) -> bool:
    px_nm2 = float(image.attrs["pixel_size_nm"]) ** 2
    return float(np.median(table["area_nm2"].to_numpy(float))) < _MIN_RESOLVED_PX * px_nm2


def _null_sizes(psum: dict, image) -> None:
    reason = (
        f"the median particle covers fewer than {_MIN_RESOLVED_PX} pixels of "
        f"{float(image.attrs['pixel_size_nm']):g} nm: sizes are not resolved"
    )
    for key in _SIZE_KEYS:
        psum[key] = None
    psum["sizes_reason"] = reason
    psum["faradaic_efficiency_reason"] = reason
    psum.pop("diameter_fit", None)
    for key in ("edge", "center"):
        if isinstance(psum.get(key), dict):
            psum[key]["mean_diameter_nm"] = None


def _morphology(image, p, region_mask):
    from platescope import particles

    px_um = float(image.attrs["pixel_size_nm"]) / 1000.0
    roi = np.asarray(region_mask.values, bool)
    m = particles.morphology(
        image,
        spacing=px_um,
        roi=None if roi.all() else roi,
        sigma_px=p["morphology_sigma_px"],
        polarity=p["polarity"],
        grid=int(p["morphology_grid"]),
    )
    mask = m.pop("mask")
    return m, mask


def _detect(image, p, fp_mask):
    """Labels and table of the recipe (or of the ImageJ preset)."""
    from platescope import particles

    work = _oriented(image, p["polarity"])
    if p["preset"] == "imagej":
        return particles.imagej_particles(
            image,
            sigma_px=p["sigma_px"],
            threshold=p["threshold"],
            dark_background=p["polarity"] == "bright",
            min_area_px=p["min_area_px"],
            max_area_px=p["max_area_px"],
            watershed=p["watershed"],
            exclude_edges=p["exclude_edges"],
        )
    return particles.detect_particles(
        work,
        mask=fp_mask,
        sigma_nm=p["sigma_nm"],
        threshold=p["threshold"],
        max_area_um2=p["max_area_um2"],
        min_area_nm2=p["min_area_nm2"],
        ridge_min_nm=p["ridge_min_nm"],
    )


#: below this median object contrast (raw-pixel noise sd) segmentation is noise-limited:
#: measured 2.05 on the faint Tescan cuboids (counted 61 for ~10), ≥ 4.5 on the simulator
#: at twice its default noise and ≥ 5.7 on the real particle images
_MIN_CONTRAST_SD = 3.0


#: a faradaic efficiency this far above 1 is not a measurement of plating efficiency
_FE_REFUSE = 1.5


def faradaic_efficiency_check(psum: dict) -> list[dict]:
    """Null or flag a faradaic efficiency outside its meaning (in place); its warnings.

    FE − 2σ > 1.05: kept with a ``fe-above-one`` warning (more Li counted than the charge
    can plate: hemispheres taller than the particles, or charge missing from the record);
    FE > 1.5: null with a reason.

    >>> s = {"faradaic_efficiency": 2.0, "faradaic_efficiency_err": 0.1}
    >>> [w["code"] for w in faradaic_efficiency_check(s)], s["faradaic_efficiency"]
    (['fe-not-plating'], None)
    """
    fe = psum.get("faradaic_efficiency")
    if fe is None:
        return []
    err = psum.get("faradaic_efficiency_err") or 0.0
    if fe > _FE_REFUSE:
        psum["faradaic_efficiency"] = None
        psum["faradaic_efficiency_err"] = None
        psum["faradaic_efficiency_reason"] = (
            f"the particles hold {fe:.3g}× the Li the plating charge can deposit: the charge "
            "is not this image's plating (or the volumes are not hemispheres), so no faradaic "
            "efficiency is reported"
        )
        return [
            {
                "code": "fe-not-plating",
                "message": f"faradaic efficiency {fe:.3g} > {_FE_REFUSE}: set to null; check "
                "charge_C / the [echem] record belongs to this image",
            }
        ]
    if fe - 2 * err > 1.05:
        return [
            {
                "code": "fe-above-one",
                "message": f"faradaic efficiency {fe:.3f} exceeds 1 beyond its error: the "
                "hemisphere volumes overestimate the Li, or plating charge is missing",
            }
        ]
    return []


def object_contrast(work, labels, table, region) -> float | None:
    """Median object mean grey above the background, in raw-pixel noise sd (MAD).

    ``work`` is the image oriented so the deposit is bright; background = pixels of the
    region outside every object.
    """
    if labels is None or table is None or not len(table) or "mean_intensity" not in table:
        return None
    a = np.asarray(work, dtype=np.float64)
    lab = np.asarray(labels)
    bg = lab == 0
    if region is not None:
        bg &= np.asarray(region, dtype=bool)
    vals = a[bg & np.isfinite(a)]
    if vals.size < 100:
        return None
    med = float(np.median(vals))
    mad = 1.4826 * float(np.median(np.abs(vals - med)))
    if not mad > 0:
        return None
    return float((np.median(table["mean_intensity"].to_numpy(float)) - med) / mad)


def analyse_sem_image(image: xr.DataArray, p: dict, charge_C: float | None) -> dict[str, Any]:
    """Region, particles, their summary, morphology and exclusions of one SEM image.

    Returns
    -------
    dict
        ``summary`` (the ``particles`` block: particle_summary keys + ``footprint``,
        ``excluded``, ``morphology``, ``warnings``), ``table``, ``labels``, ``mask``
        (region), ``deposit`` (morphology mask), ``fit`` (diameter fit or None).
    """
    from platescope import particles, stats

    fp_mask, circle = _region(image, p)
    labels, table = _detect(image, p, fp_mask)
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
    if not circle.get("found"):
        for key in ("edge", "center"):
            psum[key] = {"density_cm2": None, "mean_diameter_nm": None, "reason": "no footprint"}
    fit = None
    if len(table) >= 5:
        try:
            fit = stats.fit_diameter_distribution(table["diameter_nm"].to_numpy())
            psum["diameter_fit"] = {k: v for k, v in fit.items() if k != "curve"}
        except InputError as err:  # e.g. every diameter the same (pixel-quantised)
            psum["diameter_fit"] = None
            psum["diameter_fit_reason"] = err.problem
    psum["footprint"] = circle
    psum["threshold_grey"] = table.attrs.get("threshold")
    psum["noise_grey"] = table.attrs.get("noise")
    psum["excluded"], warnings = excluded_rows(table, p)
    morph, deposit = _morphology(image, p, fp_mask)
    warnings += morph.pop("warnings", [])
    psum["morphology"] = morph
    if morph["kind"] not in ("particles", "none"):
        psum["objects_segmented"] = int(len(table))
        _null_particles(
            psum,
            f"the deposit is {morph['kind']}, not separable particles "
            f"({morph['kind_reason']}); see particles.morphology",
        )
        fit = None
    elif len(table) and _unresolved(table, image):
        _null_sizes(psum, image)
        warnings.append(
            {
                "code": "unresolved-particles",
                "message": "half the particles are smaller than "
                f"{_MIN_RESOLVED_PX} pixels: their sizes (and the Li amount) are pixel-"
                "quantised, so they are not reported; image at a higher magnification",
            }
        )
        fit = None
    warnings += faradaic_efficiency_check(psum)
    contrast = object_contrast(_oriented(image, p["polarity"]), labels, table, fp_mask)
    psum["object_contrast_sd"] = contrast
    if (
        contrast is not None
        and contrast < _MIN_CONTRAST_SD
        and morph["kind"] == "particles"
        and psum.get("count") is not None
    ):
        warnings.append(
            {
                "code": "low-contrast-objects",
                "message": f"the objects stand only {contrast:.1f} noise sd above the "
                "background in raw pixels: at this signal-to-noise they break into fragments "
                "or merge, so count and sizes are doubtful (a longer dwell time or frame "
                "averaging, or a larger sigma_nm, helps)",
            }
        )
    if warnings:
        psum["warnings"] = warnings
    return {
        "summary": psum,
        "table": table,
        "labels": labels,
        "mask": fp_mask,
        "deposit": deposit,
        "fit": fit,
    }


def headline(s: dict) -> str:
    """One line for one image: particles, or the morphology when not particulate."""
    m = s.get("morphology") or {}
    if s.get("count") is None:
        idx = (m.get("index_of_dispersion") or {}).get("value")
        return f"{m.get('kind')} deposit: coverage {100 * m.get('coverage', 0):.0f} %" + (
            f", index of dispersion {idx:.0f}" if idx is not None else ""
        )
    if s["count"] > 1 and s.get("sd_diameter_nm") is not None:
        return (
            f"{s['count']} particles, {s['density_cm2'] / 1e9:.2f}×10⁹ cm⁻², "
            f"d = {s['mean_diameter_nm']:.0f} ± {s['sd_diameter_nm']:.0f} nm"
        )
    return f"{s['count']} particles"
