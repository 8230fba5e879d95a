"""Galvanostatic features recover a planted nucleation minimum."""

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.echem import galvanostatic_features, potential_noise_V


def _transient(t, *, e_nuc=-0.058, t_nuc=17.7, e_growth=-0.004):
    """SEI/alloy drop, then a nucleation overpotential x·e^(1−x) peaking near t_nuc."""
    x = t / t_nuc
    return e_growth + 0.5 * np.exp(-t / 1.5) - (e_growth - e_nuc) * x * np.exp(1 - x)


def _planted(seed, sigma=3e-4, **kw):
    t = np.arange(0, 60, 0.01)
    fine = np.linspace(0, 60, 600001)
    clean_fine = _transient(fine, **kw)
    k = int(np.argmin(clean_fine))
    rng = np.random.default_rng(seed)
    e = _transient(t, **kw) + rng.normal(0, sigma, t.size)
    df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": np.full(t.size, -1e-9)})
    return df, fine[k], clean_fine[k]


def test_noise_estimate_matches_planted_sigma():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 10, 5000)
    e = np.sin(t) * 0.1 + rng.normal(0, 5e-4, t.size)
    assert potential_noise_V(e) == pytest.approx(5e-4, rel=0.05)


@pytest.mark.parametrize(("sigma", "max_err_s"), [(3e-4, 0.5), (6e-4, 0.8), (1.2e-3, 1.2)])
def test_recovers_planted_minimum_over_seeds(sigma, max_err_s):
    covered = 0
    n = 20
    for seed in range(n):
        df, t_true, e_true = _planted(seed, sigma=sigma)
        f = galvanostatic_features(df, area_cm2=2.8e-7)
        assert f["nucleated"]
        assert abs(f["E_nuc_V"] - e_true) < 2e-3
        assert 2 * f["t_nuc_s_err"] <= max_err_s  # the ≈95 % interval analyze reports
        covered += abs(f["t_nuc_s"] - t_true) <= 2 * f["t_nuc_s_err"]
    # *_err are standard uncertainties: 2σ intervals cover ≈95 %, allow 2 misses in 20
    assert covered >= n - 2


def test_q_nuc_is_charge_to_t_nuc_over_area():
    df, t_true, _ = _planted(3)
    area = 2.83e-7
    f = galvanostatic_features(df, area_cm2=area)
    expected = 1e-9 * f["t_nuc_s"] / area / 3.6e-3
    assert f["Q_nuc_uAh_cm2"] == pytest.approx(expected, rel=1e-3)
    assert f["current_density_mA_cm2"] == pytest.approx(1e-9 / area * 1e3)
    assert f["eta_nuc_V"] == pytest.approx(f["E_growth_V"] - f["E_nuc_V"])


def test_monotonic_fall_reports_no_nucleation():
    t = np.arange(0, 20, 0.01)
    rng = np.random.default_rng(0)
    e = 0.5 * np.exp(-t / 5) - 0.02 * t / 20 + rng.normal(0, 3e-4, t.size)
    f = galvanostatic_features(pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-9}))
    assert f["nucleated"] is False
    assert f["E_nuc_V"] is None and f["t_nuc_s"] is None
    assert "never turns" in f["reason"]


def test_missing_current_column_is_input_error():
    df = pd.DataFrame({"time_s": [0, 1, 2], "potential_V": [0, 0, 0]})
    df.attrs["source"] = "cell.csv"
    with pytest.raises(InputError, match="cell.csv.*current_A"):
        galvanostatic_features(df)
