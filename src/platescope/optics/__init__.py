"""platescope.optics: movie preprocessing and per-pixel optical analyses (DESIGN.md §1).

The SECCM–IRM recipe in one call: :func:`prepare_irm` (clock sync, footprint, drift,
reference subtraction), whose drift levels, footprint-mean and region-mean curves come
from one pass over the movie (:func:`irm_frame_statistics`).

Preprocessing steps: :func:`correct_illumination_drift`,
:func:`subtract_reference`, :func:`group_average`,
:func:`gaussian_blur`, :func:`footprint_mask`, :func:`footprint_area_cm2`,
:func:`current_density_mA_cm2`; without a landing step (movie starting at contact):
:func:`footprint_from_deposition`, :func:`deposition_step_image`,
:func:`footprint_circle`.

Optical nucleation time t_nuc(IRM): :func:`t_nuc_from_curve` (one curve),
:func:`t_nuc_regions` (square regions), :func:`t_nuc_map` (per pixel, chunked).

IRM ↔ charge: :func:`alpha_fit`, :func:`equivalent_thickness_nm`.

CE(IRM) maps (cycling): :func:`window_means`, :func:`ce_intensity_changes` (I_c, I_a
per cycle and pixel, chunked), :func:`ce_calibration` (CE = a·I_a/I_c + b),
:func:`apply_ce_calibration`, :func:`ce_histograms`.

See-through alloying: :func:`transmittance`, :func:`relative_reflectivity`,
:func:`absorbance`, :func:`normalize_window`, :func:`onset_map`,
:func:`alloyed_fraction`, :func:`extreme_regions`, :func:`regional_curves`,
:func:`complementarity`, :func:`temporal_color_code`, :func:`montage_frames`.

Stage drift and bad frames (upstream of every per-pixel map): :func:`frame_quality`,
:func:`register_drift`, :func:`apply_drift_correction`, :func:`stabilize_movie`,
:func:`find_static_region`.

Side-view (cross-section) growth movies: :func:`electrode_edge`, :func:`front_profiles`,
:func:`layer_metrics`, :func:`layer_porosity`, :func:`dense_thickness_um`,
:func:`growth_transition`, and all of them at once :func:`analyze_side_view`.
"""

from platescope.optics._alloying import (
    absorbance,
    alloyed_fraction,
    complementarity,
    extreme_regions,
    montage_frames,
    normalize_window,
    onset_map,
    regional_curves,
    relative_reflectivity,
    temporal_color_code,
    transmittance,
)
from platescope.optics._alpha import alpha_fit, equivalent_thickness_nm
from platescope.optics._ce_map import (
    apply_ce_calibration,
    ce_calibration,
    ce_histograms,
    ce_intensity_changes,
    window_means,
)
from platescope.optics._irm_prepare import prepare_irm
from platescope.optics._irm_stream import irm_frame_statistics
from platescope.optics._nucleation_time import t_nuc_from_curve, t_nuc_map, t_nuc_regions
from platescope.optics._preprocess import (
    correct_illumination_drift,
    current_density_mA_cm2,
    deposition_step_image,
    footprint_area_cm2,
    footprint_circle,
    footprint_from_deposition,
    footprint_mask,
    gaussian_blur,
    group_average,
    subtract_reference,
)
from platescope.optics._registration import (
    apply_drift_correction,
    frame_quality,
    register_drift,
    stabilize_movie,
)
from platescope.optics._side_view import (
    analyze_side_view,
    dense_thickness_um,
    electrode_edge,
    front_profiles,
    growth_transition,
    layer_metrics,
    layer_porosity,
)
from platescope.optics._static_region import find_static_region

__all__ = [
    "prepare_irm",
    "irm_frame_statistics",
    "apply_drift_correction",
    "frame_quality",
    "register_drift",
    "stabilize_movie",
    "find_static_region",
    "absorbance",
    "alloyed_fraction",
    "complementarity",
    "extreme_regions",
    "montage_frames",
    "normalize_window",
    "onset_map",
    "regional_curves",
    "relative_reflectivity",
    "temporal_color_code",
    "transmittance",
    "alpha_fit",
    "apply_ce_calibration",
    "ce_calibration",
    "ce_histograms",
    "ce_intensity_changes",
    "window_means",
    "correct_illumination_drift",
    "current_density_mA_cm2",
    "deposition_step_image",
    "equivalent_thickness_nm",
    "footprint_area_cm2",
    "footprint_circle",
    "footprint_from_deposition",
    "footprint_mask",
    "gaussian_blur",
    "group_average",
    "subtract_reference",
    "analyze_side_view",
    "dense_thickness_um",
    "electrode_edge",
    "front_profiles",
    "growth_transition",
    "layer_metrics",
    "layer_porosity",
    "t_nuc_from_curve",
    "t_nuc_map",
    "t_nuc_regions",
]
