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

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.echem`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "condition_summary": "platescope.echem._combinatorial",
    "spot_features": "platescope.echem._combinatorial",
    "wilson_interval": "platescope.echem._combinatorial",
    "cv_features": "platescope.echem._cycles",
    "cycle_charges": "platescope.echem._cycles",
    "describe_steps": "platescope.echem._galvanostatic",
    "galvanostatic_features": "platescope.echem._galvanostatic",
    "isolated_outliers": "platescope.echem._galvanostatic",
    "nucleation_by_step": "platescope.echem._galvanostatic",
    "potential_noise_V": "platescope.echem._galvanostatic",
    "FILM_PROPERTIES": "platescope.echem._stages",
    "find_stages": "platescope.echem._stages",
    "half_cycles": "platescope.echem._stages",
    "host_moles": "platescope.echem._stages",
    "li_content": "platescope.echem._stages",
    "STEP_KINDS": "platescope.echem._steps",
    "record_warnings": "platescope.echem._steps",
    "split_steps": "platescope.echem._steps",
    "step_slice": "platescope.echem._steps",
    "turning_points": "platescope.echem._steps",
    "SHAPE_CLASSES": "platescope.echem._symmetric",
    "gitt_pulses": "platescope.echem._symmetric",
    "half_cycle_features": "platescope.echem._symmetric",
    "regular_grid": "platescope.echem._symmetric",
    "soft_shorts": "platescope.echem._symmetric",
    "symmetric_cell": "platescope.echem._symmetric",
    "voltage_record": "platescope.echem._symmetric",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
