"""The SEM particle recipe: footprint → particles → sizes, density, deposited Li, morphology.

One public call, :func:`analyse_sem_image`, used by the ``sem-particles`` and
``irm-galvanostatic`` scenarios and by notebook users: the footprint when the image shows
one (else the whole image), particles (:func:`detect_particles`, or the ImageJ preset),
count, density, diameters with a Gaussian / two-Gaussian fit, deposited Li and faradaic
efficiency from a charge, edge vs centre, the objects the filters excluded, and the
deposit's morphology (counts are null with a reason when it is not particulate).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage as ndi

from platescope._errors import InputError
from platescope.particles._footprint import find_footprint, whole_image_region
from platescope.particles._imagej import imagej_particles
from platescope.particles._morphology import morphology as _morphology_of
from platescope.particles._sem_defaults import SEM_RECIPE_DEFAULTS
from platescope.particles._sem_particles import detect_particles, particle_summary

__all__ = ["SEM_RECIPE_DEFAULTS", "analyse_sem_image"]

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

    if p["footprint"] == "none" or p["preset"] == "imagej":
        mask, circle = whole_image_region(image)
    else:
        mask, circle = find_footprint(image, method=p["footprint"])
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

    px_um = float(image.attrs["pixel_size_nm"]) / 1000.0
    roi = np.asarray(region_mask.values, bool)
    m = _morphology_of(
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

    work = _oriented(image, p["polarity"])
    if p["preset"] == "imagej":
        return imagej_particles(
            image,
            sigma_px=p["sigma_px"],
            threshold=p["threshold"],
            dark_background=p["polarity"] == "bright",
            min_area_px=p["min_area_px"],
            max_area_px=p["max_area_px"],
            watershed=p["watershed"],
            exclude_edges=p["exclude_edges"],
        )
    return detect_particles(
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


def analyse_sem_image(
    image: xr.DataArray, params: dict | None = None, charge_C: float | None = None
) -> dict[str, Any]:
    """Region, particles, their summary, morphology and exclusions of one SEM image.

    Parameters
    ----------
    image : xarray.DataArray
        The SEM image as :func:`platescope.io.read_sem` returns it (``y``, ``x`` in µm).
    params : dict, optional
        Overrides of :data:`SEM_RECIPE_DEFAULTS` (the ``[analysis.sem]`` keys).
    charge_C : float, optional
        Plating charge, C, for the deposited Li and faradaic efficiency.

    Returns
    -------
    dict
        ``summary`` (the ``particles`` block: particle_summary keys + ``footprint``,
        ``excluded``, ``morphology``, ``warnings``), ``table``, ``labels``, ``mask``
        (region), ``deposit`` (morphology mask), ``fit`` (diameter fit or None).
    """
    p = {**SEM_RECIPE_DEFAULTS, **(params or {})}
    from platescope.stats import fit_diameter_distribution

    fp_mask, circle = _region(image, p)
    labels, table = _detect(image, p, fp_mask)
    psum = particle_summary(
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
            fit = fit_diameter_distribution(table["diameter_nm"].to_numpy())
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
