"""Opt-in (`pytest -m slow`): the issue's targets over 20 seeds × 3 noise levels.

Runs the same end-to-end comparison as ``validation/validate_symmetric_cell.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_symmetric_cell",
    Path(__file__).parents[2] / "validation" / "validate_symmetric_cell.py",
)
validation = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(validation)


@pytest.mark.slow
def test_twenty_seeds_three_noise_levels_meet_the_targets(tmp_path):
    _, summary = validation.run(20, [0.5, 1.0, 3.0], tmp_path)
    for level, a in summary.items():
        assert a["shape_class_accuracy"] >= 0.95, (level, a)
        assert a["plateau_within_1mV"] >= 0.95, (level, a)
        assert a["soft_short_precision"] >= 0.9, (level, a)
        assert a["soft_short_recall"] >= 0.9, (level, a)
