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

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.surface`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "areal_parameters": "platescope.surface._iso",
    "tile_sq_err": "platescope.surface._iso",
    "level_lines": "platescope.surface._level",
    "level_map": "platescope.surface._level",
    "level_plane": "platescope.surface._level",
    "auto_profile_line": "platescope.surface._profiles",
    "line_profile": "platescope.surface._profiles",
    "feature_mask": "platescope.surface._series",
    "growth_rates": "platescope.surface._series",
    "height_change": "platescope.surface._series",
    "level_series": "platescope.surface._series",
    "register_maps": "platescope.surface._series",
    "roughness_series": "platescope.surface._series",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
