"""SEM parameters of the scenarios; the recipe itself is the public
:func:`platescope.particles.analyse_sem_image` (one SEM image → region, particles,
morphology and what was filtered out).

Shared by the ``sem-particles`` and ``irm-galvanostatic`` runners so that both report
the same keys (docs/particles.md §2): ``particles.footprint`` (found or the whole image,
with the test's numbers), ``particles.excluded`` (one row per size filter and the edge
rule), ``particles.morphology`` (verdict, coverage, index of dispersion, whiskers,
grains, voids) and, when the deposit is not particulate, particle counts and sizes
null with a ``reason``.
"""

from __future__ import annotations

from typing import Any

from platescope._errors import InputError
from platescope.particles._sem_defaults import SEM_RECIPE_DEFAULTS

#: zlib level of the two full-image SEM figures' PNGs and of the rasters their SVG twins
#: embed (3000 × 1290 px of grey-level noise): 2.5–3× faster to encode than Pillow's
#: default 6 and 7–11 % smaller on the simulated image (a line plot instead grows ~18 %
#: at 3, so the default stays elsewhere); the same pixels
MICROGRAPH_PNG_LEVEL = 3


def analyse_sem_image(*args, **kwargs):
    """:func:`platescope.particles.analyse_sem_image`, imported on first use.

    The recipe pulls scikit-image and SciPy; importing it here at module level made
    every command (``platescope --help`` included) pay for it.
    """
    from platescope.particles._sem_recipe import analyse_sem_image as recipe

    return recipe(*args, **kwargs)


__all__ = [
    "COMMON_DEFAULTS",
    "SEM_DEFAULTS",
    "analyse_sem_image",
    "check_params",
    "headline",
    "sem_params",
]

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

#: ``[analysis.sem]`` of every scenario with SEM images: ONE tuning (the recipe's, validated
#: in validation/sem_particles.py; on irm-galvanostatic's images it recovers counts within
#: 1 % and diameters within 0.9 % at ×1 and ×2 noise, as well as the former Otsu tuning)
SEM_DEFAULTS: dict[str, Any] = {**SEM_RECIPE_DEFAULTS, **COMMON_DEFAULTS}


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
