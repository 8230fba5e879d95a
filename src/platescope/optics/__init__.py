"""platescope.optics: movie preprocessing and per-pixel optical analyses (DESIGN.md §1).

Preprocessing (SECCM–IRM recipe): :func:`correct_illumination_drift`,
:func:`subtract_reference`, :func:`group_average`,
:func:`gaussian_blur`, :func:`footprint_mask`, :func:`footprint_area_cm2`,
:func:`current_density_mA_cm2`.

Optical nucleation time t_nuc(IRM): :func:`t_nuc_from_curve` (one curve),
:func:`t_nuc_regions` (square regions), :func:`t_nuc_map` (per pixel, chunked).

IRM ↔ charge: :func:`alpha_fit`, :func:`equivalent_thickness_nm`.
"""

from platescope.optics._alpha import alpha_fit, equivalent_thickness_nm
from platescope.optics._nucleation_time import t_nuc_from_curve, t_nuc_map, t_nuc_regions
from platescope.optics._preprocess import (
    correct_illumination_drift,
    current_density_mA_cm2,
    footprint_area_cm2,
    footprint_mask,
    gaussian_blur,
    group_average,
    subtract_reference,
)

__all__ = [
    "alpha_fit",
    "correct_illumination_drift",
    "current_density_mA_cm2",
    "equivalent_thickness_nm",
    "footprint_area_cm2",
    "footprint_mask",
    "gaussian_blur",
    "group_average",
    "subtract_reference",
    "t_nuc_from_curve",
    "t_nuc_map",
    "t_nuc_regions",
]
