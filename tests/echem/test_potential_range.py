"""A nucleation minimum where no Li plating can lie is flagged, not silently reported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope.echem import galvanostatic_features


def _transient(offset_V: float) -> pd.DataFrame:
    t = np.arange(0.0, 30.0, 0.01)
    e = 0.05 * (t - 10) ** 2 / (1 + 0.5 * np.abs(t - 10)) - 0.1 + offset_V
    return pd.DataFrame({"time_s": t, "potential_V": e, "current_A": np.full(t.size, -1e-9)})


def test_plausible_minimum_has_no_range_warning():
    f = galvanostatic_features(_transient(0.0))
    assert f["nucleated"] and abs(f["E_nuc_V"] + 0.1) < 2e-3
    assert not any(w["code"] == "potential-out-of-range" for w in f.get("warnings", []))


def test_minimum_at_minus_ten_volts_is_flagged():
    # the case: a sign-flipped/offset voltage column put E_nuc near −10.8 V
    f = galvanostatic_features(_transient(-10.7))
    assert abs(f["E_nuc_V"] + 10.8) < 2e-3  # the number is still the record's minimum …
    codes = [w["code"] for w in f.get("warnings", [])]
    assert "potential-out-of-range" in codes  # … but it is flagged for the user
