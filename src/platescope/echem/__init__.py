"""Electrochemistry analyses: what each step of a record is, nucleation, cycles, stages.

Steps: :func:`split_steps` cuts a record into rest / galvanostatic / potentiostatic /
sweep / impedance steps (from the instrument's own columns where present);
:func:`step_slice`, :func:`record_warnings` (truncated or aborted files).

Nucleation: :func:`nucleation_by_step` (every cathodic constant-current step),
:func:`galvanostatic_features` (one plating transient), :func:`isolated_outliers`.

Combinatorial SECCM: :func:`spot_features` (one spot's features as a flat row),
:func:`condition_summary` (per-condition counts, means, sd, standard errors and 95 %
intervals), :func:`wilson_interval`.

Alloying stages (see-through, galvanostatic): :func:`find_stages` (SEI, alloying steps,
Li metal; Li dissolution, dealloying, with times, E and x), :func:`half_cycles`,
:func:`host_moles`, :func:`li_content`, ``FILM_PROPERTIES``.

Symmetric Li‖Li cells: :func:`symmetric_cell` (per half-cycle plateau, nucleation
overshoot, end overpotential, shape index and class peaking/arcing/flat, soft shorts,
GITT pulses), :func:`voltage_record` (a voltage-only export + the applied current).

Cycling (CV or galvanostatic): :func:`cycle_charges` (per-cycle Q_c, Q_a, CE with 1σ
errors; plating→stripping halves paired in time order, ``complete`` per cycle),
:func:`cv_features` (cathodic onset, anodic peaks, plating → stripping switch).
"""

from platescope.echem._combinatorial import condition_summary, spot_features, wilson_interval
from platescope.echem._cycles import cv_features, cycle_charges
from platescope.echem._galvanostatic import (
    describe_steps,
    galvanostatic_features,
    isolated_outliers,
    nucleation_by_step,
    potential_noise_V,
)
from platescope.echem._stages import (
    FILM_PROPERTIES,
    find_stages,
    half_cycles,
    host_moles,
    li_content,
)
from platescope.echem._steps import (
    STEP_KINDS,
    record_warnings,
    split_steps,
    step_slice,
    turning_points,
)
from platescope.echem._symmetric import (
    SHAPE_CLASSES,
    gitt_pulses,
    half_cycle_features,
    regular_grid,
    soft_shorts,
    symmetric_cell,
    voltage_record,
)

__all__ = [
    "STEP_KINDS",
    "describe_steps",
    "isolated_outliers",
    "nucleation_by_step",
    "record_warnings",
    "split_steps",
    "step_slice",
    "turning_points",
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
    "SHAPE_CLASSES",
    "gitt_pulses",
    "half_cycle_features",
    "regular_grid",
    "soft_shorts",
    "symmetric_cell",
    "voltage_record",
]
