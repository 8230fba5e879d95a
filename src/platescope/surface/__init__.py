"""platescope.surface: AFM height maps — levelling, ISO 25178 roughness, profiles, growth.

Levelling: :func:`level_plane` (polynomial background fitted to the substrate with
deposits masked out iteratively), :func:`level_lines` (scan-line offsets by the median
of row differences, per-row median or polynomial), :func:`level_map` (both, with the
deposit mask fed back into the row step). Areal parameters (ISO 25178-2):
:func:`areal_parameters` (Sa, Sq, Ssk, Sku, Sp, Sv, Sz, Sdr) and :func:`tile_sq_err`.
Profiles: :func:`line_profile`, :func:`auto_profile_line`. Time series:
:func:`level_series`, :func:`roughness_series`, :func:`register_maps`,
:func:`height_change`, :func:`feature_mask`, :func:`growth_rates` (SEI growth on
features vs flat areas with an autocorrelation-corrected Welch test). See docs/afm.md.
"""

from platescope.surface._iso import areal_parameters, tile_sq_err
from platescope.surface._level import level_lines, level_map, level_plane
from platescope.surface._profiles import auto_profile_line, line_profile
from platescope.surface._series import (
    feature_mask,
    growth_rates,
    height_change,
    level_series,
    register_maps,
    roughness_series,
)

__all__ = [
    "areal_parameters",
    "auto_profile_line",
    "feature_mask",
    "growth_rates",
    "height_change",
    "level_lines",
    "level_map",
    "level_plane",
    "level_series",
    "line_profile",
    "register_maps",
    "roughness_series",
    "tile_sq_err",
]
