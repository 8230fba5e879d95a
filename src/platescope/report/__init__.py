"""Figures, the self-contained HTML report, and atomic file writers.

Figures (each returns a :class:`matplotlib.figure.Figure` on the Agg canvas; save
with :func:`atomic_savefig`: PNG at 300 dpi plus its SVG twin; house style in
:mod:`platescope.report._style`):

- :func:`fig_potential_irm` — potential transient over the IRM signal and dI/dt
- :func:`fig_tnuc_map` — t_nuc(IRM) map with scale bar, and its histogram
- :func:`fig_sem_particles` — SEM image with particle outlines and footprint
- :func:`fig_diameter_histogram` — diameters with the Gaussian(s) fit
- :func:`fig_alpha` — IRM signal vs equivalent Li thickness, α and R²
- :func:`fig_sync` — landing step, contact time and |I| on one clock
- :func:`fig_echem_steps` — E(t), I(t) with the record's steps shaded by kind and each
  plating step's nucleation result
- :func:`fig_irm_frames` — preprocessed IRM frames at evenly spaced times
- :func:`fig_combinatorial_features`, :func:`fig_fraction_nucleated`,
  :func:`fig_spot_map` — combinatorial SECCM: features vs current density, fraction
  of spots that nucleated, a map of the spot grid coloured by a feature
- :func:`fig_side_view_kymograph`, :func:`fig_thickness_vs_charge`,
  :func:`fig_side_view_frame` — side-view growth: kymograph of the front with the
  electrode edge and the mossy → whisker transition, thickness vs charge with the
  dense-Li line, a frame with the edge and the front drawn
- :func:`fig_critical_current`, :func:`fig_sand_limits`, :func:`fig_void_capacity` —
  stripping limits vs D and j; :func:`fig_scharifker_hills` — a CA transient over the
  Scharifker–Hills curves
- :func:`fig_sims_profile` — a SIMS tracer profile: counts, isotope fraction, C′ vs x
  and x² with the fit, residuals, excluded surface points; :func:`fig_sims_sigma2` —
  profile width s² vs anneal time with the line s² = 2Dt + s0²
- :func:`fig_cv_cycles`, :func:`fig_cycle_charges`, :func:`fig_ce_calibration`,
  :func:`fig_ce_maps`, :func:`fig_residual_map`, :func:`fig_irm_charge` — CV cycles,
  per-cycle Q/CE, the CE(IRM) calibration, CE(IRM) maps + histograms, inactive deposit
- :func:`fig_stages`, :func:`fig_onset_maps`, :func:`fig_alloyed_fraction`,
  :func:`fig_regional_curves`, :func:`fig_temporal_color`, :func:`fig_montage`,
  :func:`fig_pearson_heatmap`, :func:`fig_pores_per_cycle`,
  :func:`fig_size_distributions`, :func:`fig_sites_spatial`,
  :func:`fig_intensity_curves` — see-through alloying: stages on E(t)/E(x), onset maps,
  alloyed fraction, Area Init/Fnl curves, temporal colour code, montage by stage,
  Pearson heat map, pores per cycle, size distributions, site statistics
- :func:`fig_pearson_matrix`, :func:`fig_coloc_scatter`, :func:`fig_ripley_l`,
  :func:`fig_site_map`, :func:`fig_pore_areas`, :func:`fig_site_pore_sizes` —
  colocalisation and spatial statistics: annotated r matrix, channel scatter with
  Costes' thresholds, L(r) − r with CSR envelope, sites and pores over a frame, pore
  area and area ratio vs time, disk and pore size histograms

- :func:`fig_particle_outlines`, :func:`fig_size_histograms`,
  :func:`fig_particles_vs_current` — particles across conditions: outlined SEM zooms,
  diameter histograms with fits, density and diameter vs current density;
  :func:`fig_sem_morphology` — the deposit segmented for the morphology verdict
- :func:`fig_deposit_lineage` — tracks against time with their splits and merges;
- :func:`fig_deposit_tracks`, :func:`fig_deposit_volumes`, :func:`fig_dead_vs_max`,
  :func:`fig_deposit_montage` — deposits through a cycling movie: tracks over a frame,
  area/effective volume vs time (dead ones marked), dead vs maximum volume per cycle
  with fit lines, a frame montage

- :func:`fig_symmetric_voltage`, :func:`fig_symmetric_profiles`,
  :func:`fig_symmetric_evolution` — Li‖Li symmetric cells: voltage vs time coloured by
  shape class with soft shorts shaded, |η| vs normalised time per half-cycle, plateau /
  end / overshoot and shape index per half-cycle with error bars

HTML: :func:`render_report`, :func:`render_index`, and the number formatters
:func:`format_number`, :func:`format_value`.

AFM height maps (:mod:`platescope.report._figures_afm`): :func:`fig_height_map`,
:func:`fig_roughness_vs_time`, :func:`fig_line_profiles`, :func:`fig_growth`.

Atomic writers (temp file in the same folder, then ``os.replace``):
:func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`,
:func:`atomic_savefig`, :func:`atomic_write_tiff`, plus :func:`to_jsonable`.

Submodules are imported on first use, so ``from platescope.report import
atomic_write_json`` does not import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "fig_growth": "_figures_afm",
    "fig_height_map": "_figures_afm",
    "fig_line_profiles": "_figures_afm",
    "fig_roughness_vs_time": "_figures_afm",
    "fig_dead_vs_max": "_figures_tracking",
    "fig_deposit_lineage": "_figures_lineage",
    "fig_deposit_montage": "_figures_tracking",
    "fig_deposit_tracks": "_figures_tracking",
    "fig_deposit_volumes": "_figures_tracking",
    "fig_nucleation_law": "_figures_nucleation_counts",
    "fig_nucleus_counts": "_figures_nucleation_counts",
    "atomic_savefig": "_atomic",
    "atomic_write_bytes": "_atomic",
    "atomic_write_json": "_atomic",
    "atomic_write_text": "_atomic",
    "atomic_write_tiff": "_atomic",
    "to_jsonable": "_atomic",
    "fig_alpha": "_figures",
    "fig_diameter_histogram": "_figures",
    "fig_irm_frames": "_figures",
    "fig_potential_irm": "_figures",
    "fig_sem_particles": "_figures",
    "fig_sync": "_figures",
    "fig_tnuc_map": "_figures",
    "fig_combinatorial_features": "_figures_combinatorial",
    "fig_particle_outlines": "_figures_particles",
    "fig_particles_vs_current": "_figures_particles",
    "fig_size_histograms": "_figures_particles",
    "fig_sem_morphology": "_figures_particles",
    "fig_fraction_nucleated": "_figures_combinatorial",
    "fig_spot_map": "_figures_combinatorial",
    "fig_side_view_frame": "_figures_side_view",
    "fig_side_view_kymograph": "_figures_side_view",
    "fig_thickness_vs_charge": "_figures_side_view",
    "fig_critical_current": "_figures_stripping",
    "fig_sand_limits": "_figures_stripping",
    "fig_scharifker_hills": "_figures_stripping",
    "fig_void_capacity": "_figures_stripping",
    "fig_echem_steps": "_figures_steps",
    "fig_drift": "_figures_drift",
    "fig_sims_profile": "_figures_sims",
    "fig_sims_sigma2": "_figures_sims",
    "fig_ce_calibration": "_figures_cv",
    "fig_ce_maps": "_figures_cv",
    "fig_cv_cycles": "_figures_cv",
    "fig_cycle_charges": "_figures_cv",
    "fig_irm_charge": "_figures_cv",
    "fig_residual_map": "_figures_cv",
    "fig_alloyed_fraction": "_figures_see_through",
    "fig_intensity_curves": "_figures_see_through",
    "fig_montage": "_figures_see_through",
    "fig_onset_maps": "_figures_see_through",
    "fig_pearson_heatmap": "_figures_see_through",
    "fig_pores_per_cycle": "_figures_see_through",
    "fig_regional_curves": "_figures_see_through",
    "fig_sites_spatial": "_figures_see_through",
    "fig_size_distributions": "_figures_see_through",
    "fig_stages": "_figures_see_through",
    "fig_temporal_color": "_figures_see_through",
    "fig_coloc_scatter": "_figures_spatial",
    "fig_pearson_matrix": "_figures_spatial",
    "fig_pore_areas": "_figures_spatial",
    "fig_ripley_l": "_figures_spatial",
    "fig_site_map": "_figures_spatial",
    "fig_site_pore_sizes": "_figures_spatial",
    "fig_symmetric_evolution": "_figures_symmetric",
    "fig_symmetric_profiles": "_figures_symmetric",
    "fig_symmetric_voltage": "_figures_symmetric",
    "format_number": "_html",
    "format_value": "_html",
    "render_index": "_html",
    "render_report": "_html",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'platescope.report' has no attribute {name!r}")
    pkg = "platescope._atomic" if module == "_atomic" else f"platescope.report.{module}"
    value = getattr(importlib.import_module(pkg), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
