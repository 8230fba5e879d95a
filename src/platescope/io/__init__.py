"""Readers and writers: movies, electrochemistry, SEM images, experiment files.

Path → bytes → pure parser; no analysis happens here.
"""

from platescope.io._describe import describe
from platescope.io._echem import describe_echem, read_echem
from platescope.io._experiment import Experiment, read_experiment
from platescope.io._movie import describe_movie, read_frame_times, read_movie
from platescope.io._sem import describe_sem, read_sem

__all__ = [
    "Experiment",
    "describe",
    "describe_echem",
    "describe_movie",
    "describe_sem",
    "read_echem",
    "read_experiment",
    "read_frame_times",
    "read_movie",
    "read_sem",
]
