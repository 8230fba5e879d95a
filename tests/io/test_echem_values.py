"""Samples no potentiostat records are excluded and reported; a unit error is refused."""

import numpy as np
import pytest

from platescope import InputError
from platescope.io import read_echem


def _csv(path, e, i=None):
    n = len(e)
    i = np.full(n, -1e-4) if i is None else i
    rows = "".join(
        f"{k * 0.1:.3f},{a:.6g},{b:.6g}\n" for k, (a, b) in enumerate(zip(e, i, strict=True))
    )
    path.write_text("time_s,potential_V,current_A\n" + rows)
    return path


def test_out_of_range_samples_at_the_edges_and_inside_are_dropped(tmp_path):
    e = -0.05 + 0.001 * np.sin(np.arange(400) / 7)
    e[0], e[200], e[399] = 1e26, -25.0, 7e3
    i = np.full(400, -1e-4)
    i[100] = 5e3  # 5 kA
    df = read_echem(_csv(tmp_path / "cp.csv", e, i))
    assert len(df) == 396
    rep = df.attrs["samples_excluded"]
    assert rep["count"] == 4 and rep["rows"] == [1, 101, 201, 400]
    assert "|potential| > 20 V" in rep["message"] and "|current| > 100 A" in rep["message"]
    assert df["potential_V"].abs().max() < 0.06
    assert 0.0 not in df["time_s"].to_numpy()  # the whole row went, time included


def test_a_gross_isolated_spike_within_the_limits_is_dropped(tmp_path):
    e = -0.05 + 0.001 * np.sin(np.arange(400) / 7)
    e[123] = 9.0  # within ±20 V, but 4500 × the record's 2 mV spread
    df = read_echem(_csv(tmp_path / "cp.csv", e))
    assert len(df) == 399 and df.attrs["samples_excluded"]["rows"] == [124]
    assert "isolated potential spike" in df.attrs["samples_excluded"]["message"]


def test_a_real_step_is_not_a_spike(tmp_path):
    e = np.where(np.arange(400) < 200, 0.6, -0.05) + 1e-4 * np.sin(np.arange(400))
    df = read_echem(_csv(tmp_path / "cp.csv", e))
    assert len(df) == 400 and "samples_excluded" not in df.attrs


def test_a_column_in_millivolts_labelled_volts_is_refused(tmp_path):
    e = np.linspace(600.0, -50.0, 300)  # mV values under a potential_V header
    with pytest.raises(InputError, match=r"samples lie beyond what a potentiostat records") as err:
        read_echem(_csv(tmp_path / "cp.csv", e))
    assert "potential_mV" in str(err.value)
