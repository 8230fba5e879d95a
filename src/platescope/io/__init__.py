"""Readers and writers: movies, electrochemistry, SEM images, AFM height maps
(``read_height_map``), SIMS depth profiles, SECCM spots
(``read_spots``: platescope, eChemTips and WEC-SPM layouts), 3-D tomography volumes
(``read_volume``: TIFF, OME-TIFF, ImageJ, slices, zarr), experiment files, EC-Lab
settings (``read_eclab_settings``: the ``.mps`` protocol; ``read_eclab_loops``;
``read_voltage_export`` for text exports without a current column).

Path → bytes → pure parser; no analysis happens here. The writers the simulators use
are public too: ``write_imagej_movie``, ``write_ome_movie``, ``write_micromanager_movie``,
``write_frame_times_csv``, ``write_sem_tiff`` (instrument-like TIFFs),
``write_eclab_mpt`` (an EC-Lab text export) and ``write_eclab_mps`` (an EC-Lab settings
file). Tracking graphs: ``write_geff`` / ``read_geff`` (geff, the graph exchange file
format for tracking: a zarr store; see ``platescope.particles.geff_graph``).
"""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.io`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "describe_height_map": "platescope.io._afm",
    "read_height_map": "platescope.io._afm",
    "describe": "platescope.io._describe",
    "describe_echem": "platescope.io._echem",
    "read_echem": "platescope.io._echem",
    "read_eclab_loops": "platescope.io._echem_eclab_mps",
    "read_eclab_settings": "platescope.io._echem_eclab_mps",
    "read_voltage_export": "platescope.io._echem_eclab_mps",
    "set_currents_A": "platescope.io._echem_eclab_mps",
    "write_eclab_mps": "platescope.io._echem_eclab_mps",
    "write_eclab_mpt": "platescope.io._echem_eclab_text",
    "read_geff": "platescope.io._geff",
    "write_geff": "platescope.io._geff",
    "Experiment": "platescope.io._experiment",
    "read_experiment": "platescope.io._experiment",
    "write_frame_times_csv": "platescope.io._image_writers",
    "write_imagej_movie": "platescope.io._image_writers",
    "write_micromanager_movie": "platescope.io._image_writers",
    "write_ome_movie": "platescope.io._image_writers",
    "write_sem_tiff": "platescope.io._image_writers",
    "describe_movie": "platescope.io._movie",
    "read_frame_times": "platescope.io._movie",
    "read_movie": "platescope.io._movie",
    "describe_sem": "platescope.io._sem",
    "read_sem": "platescope.io._sem",
    "describe_sims": "platescope.io._sims",
    "read_sims": "platescope.io._sims",
    "Spot": "platescope.io._spots",
    "SpotSet": "platescope.io._spots",
    "describe_spots": "platescope.io._spots",
    "read_spots": "platescope.io._spots",
    "read_volume": "platescope.io._volume",
}

__all__ = [
    "Experiment",
    "Spot",
    "SpotSet",
    "describe",
    "describe_echem",
    "describe_height_map",
    "describe_movie",
    "describe_sem",
    "describe_spots",
    "describe_sims",
    "read_echem",
    "read_eclab_loops",
    "read_eclab_settings",
    "read_voltage_export",
    "read_experiment",
    "read_frame_times",
    "read_geff",
    "read_height_map",
    "read_movie",
    "read_sem",
    "read_spots",
    "write_eclab_mpt",
    "write_eclab_mps",
    "write_frame_times_csv",
    "write_geff",
    "write_imagej_movie",
    "write_micromanager_movie",
    "write_ome_movie",
    "write_sem_tiff",
    "read_sims",
    "set_currents_A",
    "read_volume",
]

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
