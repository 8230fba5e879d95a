"""platescope.particles: detection, segmentation and measurement of particles.

The SEM recipe in one call: :func:`analyse_sem_image` (footprint, particles, sizes,
density, deposited Li, faradaic efficiency, morphology, exclusions).

General engine (any 2-D image, physical units, ImageJ-compatible conventions — see
docs/particles.md): :func:`segment_particles` (smoothing, Otsu/triangle/Li/…/fixed/
local thresholds, watershed split, ROI, size and circularity filters → label image),
:func:`measure_particles` (centroid, area, equivalent diameter, ImageJ-style perimeter
and circularity, intensities → DataFrame), :func:`detect_blobs` (LoG spots).

SEM nanoparticle counting and sizing in an SECCM footprint (SCIENCE.md §2):
:func:`detect_particles`, :func:`footprint_from_sem`, :func:`particle_summary`.

What a deposit looks like (docs/particles.md §6): :func:`morphology` (verdict
particles / whiskers / granular / continuous / mossy, coverage and the metrics below),
:func:`deposit_mask`, :func:`index_of_dispersion`, :func:`whisker_metrics`,
:func:`line_intercept` (ASTM E112 grain size), :func:`void_metrics`;
:func:`find_footprint` (the footprint only when the image shows one, by a stated test)
and :func:`whole_image_region`; the ImageJ preset :func:`imagej_particles` (Fiji's
Gaussian Blur → auto-threshold → Watershed → Analyze Particles, step for step) with
:func:`imagej_gaussian_blur` and :func:`imagej_threshold`.

Deposits through a movie and dead Li (SCIENCE.md §4; docs/tracking_dead_li.md):
:func:`detect_deposits` (per-frame detection, chunked), :func:`track_deposits`
(linking with merges and splits), :func:`merge_events`, :func:`split_events`;
the track graph (docs/tracking_dead_li.md): :func:`lineage_events`,
:func:`track_graph` (parents, children, deposit families), :func:`trackmate_tables`
(TrackMate-style spots + edges export), :func:`geff_graph` (the same graph as geff arrays
and metadata, for :func:`platescope.io.write_geff`); :func:`deposit_timeseries` (area,
effective radius and volume), :func:`effective_volume_um3`, :func:`cycling_steps`
(plating/stripping steps from the current), :func:`find_dead_li` (per deposit and
cycle), :func:`dead_li_by_cycle` (dead vs maximum volume line per cycle, per deposit or per
family), :func:`dead_li_by_family` (a deposit and the parts split off it, counted once).

Nucleation counts in top-view plating movies (SCIENCE.md §4;
docs/top_view_nucleation.md): :func:`nucleus_counts` (deposits seen and cumulative
nucleus count and density per frame), :func:`tip_growth_onset` (when elongated deposits —
tips — appear).

Li nucleation sites and pores in see-through transmittance movies (SCIENCE.md §1;
docs/spatial_statistics.md): :func:`detect_sites` (where and when disks appear),
:func:`track_pores` (emergence, area over time, merges), :func:`pore_cycle_stats`.
"""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.particles`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "cycling_steps": "platescope.particles._dead_li",
    "dead_li_by_cycle": "platescope.particles._dead_li",
    "find_dead_li": "platescope.particles._dead_li",
    "THRESHOLD_METHODS": "platescope.particles._detect",
    "detect_blobs": "platescope.particles._detect",
    "segment_particles": "platescope.particles._detect",
    "find_footprint": "platescope.particles._footprint",
    "whole_image_region": "platescope.particles._footprint",
    "IMAGEJ_THRESHOLD_METHODS": "platescope.particles._imagej",
    "imagej_gaussian_blur": "platescope.particles._imagej",
    "imagej_particles": "platescope.particles._imagej",
    "imagej_threshold": "platescope.particles._imagej",
    "MEASURE_COLUMNS": "platescope.particles._measure",
    "measure_particles": "platescope.particles._measure",
    "MORPHOLOGY_KINDS": "platescope.particles._morphology",
    "deposit_mask": "platescope.particles._morphology",
    "index_of_dispersion": "platescope.particles._morphology",
    "line_intercept": "platescope.particles._morphology",
    "morphology": "platescope.particles._morphology",
    "void_metrics": "platescope.particles._morphology",
    "whisker_metrics": "platescope.particles._morphology",
    "detect_sites": "platescope.particles._pores",
    "pore_cycle_stats": "platescope.particles._pores",
    "track_pores": "platescope.particles._pores",
    "detect_particles": "platescope.particles._sem_particles",
    "footprint_from_sem": "platescope.particles._sem_particles",
    "particle_summary": "platescope.particles._sem_particles",
    "SEM_RECIPE_DEFAULTS": "platescope.particles._sem_recipe",
    "analyse_sem_image": "platescope.particles._sem_recipe",
    "deposit_timeseries": "platescope.particles._tracking",
    "detect_deposits": "platescope.particles._tracking",
    "effective_volume_um3": "platescope.particles._tracking",
    "merge_events": "platescope.particles._tracking",
    "track_deposits": "platescope.particles._tracking",
    "dead_li_by_family": "platescope.particles._dead_li",
    "lineage_events": "platescope.particles._lineage",
    "split_events": "platescope.particles._lineage",
    "track_graph": "platescope.particles._lineage",
    "trackmate_tables": "platescope.particles._lineage",
    "geff_graph": "platescope.particles._geff_graph",
    "nucleus_counts": "platescope.particles._nucleation_counts",
    "tip_growth_onset": "platescope.particles._nucleation_counts",
}

__all__ = [
    "SEM_RECIPE_DEFAULTS",
    "analyse_sem_image",
    "IMAGEJ_THRESHOLD_METHODS",
    "MEASURE_COLUMNS",
    "MORPHOLOGY_KINDS",
    "THRESHOLD_METHODS",
    "cycling_steps",
    "dead_li_by_cycle",
    "dead_li_by_family",
    "deposit_mask",
    "deposit_timeseries",
    "detect_blobs",
    "detect_deposits",
    "detect_particles",
    "detect_sites",
    "effective_volume_um3",
    "find_dead_li",
    "find_footprint",
    "imagej_gaussian_blur",
    "imagej_particles",
    "imagej_threshold",
    "index_of_dispersion",
    "line_intercept",
    "lineage_events",
    "footprint_from_sem",
    "geff_graph",
    "measure_particles",
    "merge_events",
    "morphology",
    "particle_summary",
    "pore_cycle_stats",
    "segment_particles",
    "split_events",
    "track_deposits",
    "track_graph",
    "trackmate_tables",
    "track_pores",
    "void_metrics",
    "whisker_metrics",
    "whole_image_region",
    "nucleus_counts",
    "tip_growth_onset",
]

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
