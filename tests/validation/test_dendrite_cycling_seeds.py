"""Opt-in (`pytest -m slow`): the issue's targets over 20 seeds at default and 2× noise.

Runs the same end-to-end comparison as ``validation/dendrite_cycling.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_dendrite_cycling",
    Path(__file__).parents[2] / "validation" / "dendrite_cycling.py",
)
validation = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(validation)


@pytest.mark.slow
def test_twenty_seeds_meet_the_targets(tmp_path):
    df = validation.run(20, [1.0, 2.0], tmp_path)
    agg = validation.aggregate(df)
    for level in ("noise_1", "noise_2"):
        a = agg[level]
        assert a["link_accuracy_pooled"] >= 0.95, a
        assert a["dead_precision_pooled"] >= 0.9, a
        assert a["dead_recall_pooled"] >= 0.9, a
        assert abs(a["vol_rel_err_median"]) <= 0.15, a
        assert a["merges_found_over_true"] >= 0.9, a
