"""Opt-in (`pytest -m slow`): the issue's accuracy targets over 20 seeds at default noise.

Runs the same end-to-end comparison as ``validation/irm_galvanostatic.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "platescope_validation_irm",
    Path(__file__).parents[2] / "validation" / "irm_galvanostatic.py",
)
validation = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(validation)


@pytest.mark.slow
def test_twenty_seeds_meet_the_targets(tmp_path):
    df = validation.run(20, [1.0], tmp_path)
    assert df["nucleated_ok"].all()
    assert df["E_nuc_err_mV"].abs().max() < 2.0
    assert df["t_nuc_covered"].all()
    assert df["t_nuc_unc_s"].max() <= 0.5
    assert df["tnuc_map_median_abs_err_frames"].max() <= 1.0
    assert df["count_rel_err"].abs().max() <= 0.05
    assert df["mean_diameter_rel_err"].abs().max() <= 0.05
    assert df["alpha_rel_err"].abs().max() <= 0.05
