"""Readers and writers: movies, electrochemistry, SEM images, SIMS depth profiles, SECCM spots
(``read_spots``: platescope, eChemTips and WEC-SPM layouts), 3-D tomography volumes
(``read_volume``: TIFF, OME-TIFF, ImageJ, slices, zarr), experiment files.

Path → bytes → pure parser; no analysis happens here.
"""

from platescope.io._describe import describe
from platescope.io._echem import describe_echem, read_echem
from platescope.io._experiment import Experiment, read_experiment
from platescope.io._movie import describe_movie, read_frame_times, read_movie
from platescope.io._sem import describe_sem, read_sem
from platescope.io._sims import describe_sims, read_sims
from platescope.io._spots import Spot, SpotSet, describe_spots, read_spots
from platescope.io._volume import read_volume

__all__ = [
    "Experiment",
    "Spot",
    "SpotSet",
    "describe",
    "describe_echem",
    "describe_movie",
    "describe_sem",
    "describe_spots",
    "describe_sims",
    "read_echem",
    "read_experiment",
    "read_frame_times",
    "read_movie",
    "read_sem",
    "read_spots",
    "read_sims",
    "read_volume",
]
