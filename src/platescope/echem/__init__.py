"""Electrochemistry analyses: galvanostatic nucleation features (more to come).

Combinatorial SECCM: :func:`spot_features` (one spot's features as a flat row),
:func:`condition_summary` (per-condition counts, means, sd, standard errors and 95 %
intervals), :func:`wilson_interval`.

Alloying stages (see-through, galvanostatic): :func:`find_stages` (SEI, alloying steps,
Li metal; Li dissolution, dealloying, with times, E and x), :func:`half_cycles`,
:func:`host_moles`, :func:`li_content`, ``FILM_PROPERTIES``.

Cycling (CV or galvanostatic): :func:`cycle_charges` (per-cycle Q_c, Q_a, CE with 1σ
errors; cycles from the ``cycle`` column, CV turning points or current sign changes),
:func:`cv_features` (cathodic onset, anodic peaks, plating → stripping switch).
"""

from platescope.echem._combinatorial import condition_summary, spot_features, wilson_interval
from platescope.echem._cycles import cv_features, cycle_charges
from platescope.echem._galvanostatic import galvanostatic_features, potential_noise_V
from platescope.echem._stages import (
    FILM_PROPERTIES,
    find_stages,
    half_cycles,
    host_moles,
    li_content,
)

__all__ = [
    "FILM_PROPERTIES",
    "find_stages",
    "half_cycles",
    "host_moles",
    "li_content",
    "condition_summary",
    "cv_features",
    "cycle_charges",
    "galvanostatic_features",
    "potential_noise_V",
    "spot_features",
    "wilson_interval",
]
