"""Readers and writers: movies, electrochemistry, SEM images, AFM height maps
(``read_height_map``), SIMS depth profiles, SECCM spots
(``read_spots``: platescope, eChemTips and WEC-SPM layouts), experiment files, EC-Lab
settings (``read_eclab_settings``: the ``.mps`` protocol; ``read_eclab_loops``;
``read_voltage_export`` for text exports without a current column).

Path → bytes → pure parser; no analysis happens here. The writers the simulators use
are public too: ``write_imagej_movie``, ``write_ome_movie``, ``write_micromanager_movie``,
``write_frame_times_csv``, ``write_sem_tiff`` (instrument-like TIFFs),
``write_eclab_mpt`` (an EC-Lab text export) and ``write_eclab_mps`` (an EC-Lab settings
file).
"""

from platescope.io._afm import describe_height_map, read_height_map
from platescope.io._describe import describe
from platescope.io._echem import describe_echem, read_echem
from platescope.io._echem_eclab_mps import (
    read_eclab_loops,
    read_eclab_settings,
    read_voltage_export,
    set_currents_A,
    write_eclab_mps,
)
from platescope.io._echem_eclab_text import write_eclab_mpt
from platescope.io._experiment import Experiment, read_experiment
from platescope.io._image_writers import (
    write_frame_times_csv,
    write_imagej_movie,
    write_micromanager_movie,
    write_ome_movie,
    write_sem_tiff,
)
from platescope.io._movie import describe_movie, read_frame_times, read_movie
from platescope.io._sem import describe_sem, read_sem
from platescope.io._sims import describe_sims, read_sims
from platescope.io._spots import Spot, SpotSet, describe_spots, read_spots

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
    "read_height_map",
    "read_movie",
    "read_sem",
    "read_spots",
    "write_eclab_mpt",
    "write_eclab_mps",
    "write_frame_times_csv",
    "write_imagej_movie",
    "write_micromanager_movie",
    "write_ome_movie",
    "write_sem_tiff",
    "read_sims",
    "set_currents_A",
]
