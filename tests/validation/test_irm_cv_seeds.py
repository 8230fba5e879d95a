"""Opt-in (`pytest -m slow`): the irm-cv accuracy targets over a few seeds, default and 2× noise.

Runs the same end-to-end comparison as ``validation/irm_cv.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_irm_cv", Path(__file__).parents[2] / "validation" / "irm_cv.py"
)
validation = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(validation)


@pytest.mark.slow
def test_default_noise_meets_the_targets(tmp_path):
    df = validation.run(4, [1.0], tmp_path)
    assert df["n_cycles_ok"].all()
    assert df["CE_max_abs_err"].max() <= 0.01
    assert df["ce_map_median_abs_err"].max() <= 0.05
    assert df["ce_map_median_abs_err_worst_cycle"].max() <= 0.06
    assert df["residual_median_rel_err"].max() <= 0.05
    assert df["cal_r2"].min() >= 0.99


@pytest.mark.slow
def test_double_noise_degrades_gracefully(tmp_path):
    df = validation.run(3, [2.0], tmp_path)
    assert df["CE_max_abs_err"].max() <= 0.01
    assert df["ce_map_median_abs_err"].max() <= 0.06
