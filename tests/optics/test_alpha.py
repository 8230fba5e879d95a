"""α: IRM signal per nm of equivalent Li thickness, against planted values and numpy."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from platescope import InputError
from platescope.models import FARADAY_C_MOL
from platescope.optics import alpha_fit, equivalent_thickness_nm

AREA = np.pi * (5e-4) ** 2  # 10-µm disc, cm²


def test_equivalent_thickness_is_faraday():
    # 1 µmol of Li is 1.3e-5 cm³; spread over 1 cm² it is 1.3e-5 cm = 130 nm thick
    q = FARADAY_C_MOL * 1e-6
    assert float(equivalent_thickness_nm(-q, area_cm2=1.0)) == pytest.approx(130.0)
    assert float(equivalent_thickness_nm(q, area_cm2=1.0, molar_volume_cm3_mol=10.0)) == (
        pytest.approx(100.0)
    )
    with pytest.raises(InputError):
        equivalent_thickness_nm(q, area_cm2=0.0)


def _planted(seed, *, alpha=4.2, intercept=-3.0, noise=0.5, n=120):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 15.0, n))
    j = -0.78e-3  # A/cm², cathodic
    charge = j * AREA * t  # C, negative
    h = 13.0 * np.abs(charge) / (FARADAY_C_MOL * AREA) * 1e7
    signal = alpha * h + intercept + rng.normal(0.0, noise, n)
    return t, charge, h, signal


def test_alpha_recovers_planted_value_and_matches_numpy():
    t, q, h, y = _planted(0)
    fit = alpha_fit(y, q, area_cm2=AREA)
    # noise 0.5 counts on a 0–66-count rise: standard error ≈ 0.2 %, so 1 % is > 3 σ
    assert fit["value_err"] < 0.003 * 4.2
    assert fit["value"] == pytest.approx(4.2, rel=0.01)
    assert fit["units"] == "counts/nm" and fit["n_points"] == t.size
    np.testing.assert_allclose(fit["h_eq_nm"], h, rtol=1e-12)
    # independent implementations: numpy polyfit / corrcoef and scipy linregress
    slope, icpt = np.polyfit(h, y, 1)
    assert fit["value"] == pytest.approx(slope, rel=1e-10)
    assert fit["intercept"] == pytest.approx(icpt, rel=1e-8)
    assert fit["r2"] == pytest.approx(np.corrcoef(h, y)[0, 1] ** 2, rel=1e-10)
    lr = stats.linregress(h, y)
    assert fit["value_err"] == pytest.approx(lr.stderr, rel=1e-8)
    assert fit["intercept_err"] == pytest.approx(lr.intercept_stderr, rel=1e-8)


def test_alpha_error_is_honest_over_seeds():
    z = []
    for seed in range(30):
        _, q, _, y = _planted(seed, noise=3.0)
        fit = alpha_fit(y, q, area_cm2=AREA)
        z.append((fit["value"] - 4.2) / fit["value_err"])
    z = np.abs(z)
    assert 0.5 < np.mean(z <= 1.0) < 0.9  # ~68 % within 1 σ
    assert np.mean(z <= 2.0) > 0.85


def test_alpha_time_window_excludes_contrast_inversion():
    t, q, h, y = _planted(1)
    y = y.copy()
    late = t > 11.0
    y[late] = y[late] - 40.0 * (t[late] - 11.0)  # thick deposit: intensity drops
    whole = alpha_fit(y, q, area_cm2=AREA)
    early = alpha_fit(y, q, area_cm2=AREA, t_s=t, t_window_s=(None, 11.0))
    assert early["value"] == pytest.approx(4.2, rel=0.01)
    assert early["r2"] > whole["r2"]
    assert early["n_points"] == int((t <= 11.0).sum())
    np.testing.assert_array_equal(early["used"], t <= 11.0)
    # a DataArray brings its own times and units
    da = xr.DataArray(y, dims="t", coords={"t": t}, attrs={"units": "a.u."})
    fit_da = alpha_fit(da, q, area_cm2=AREA, t_window_s=(0.0, 11.0))
    assert fit_da["value"] == pytest.approx(early["value"])
    assert fit_da["units"] == "a.u./nm"


def test_alpha_bad_input():
    t, q, _, y = _planted(2)
    with pytest.raises(InputError):
        alpha_fit(y[:-1], q, area_cm2=AREA)
    with pytest.raises(InputError):
        alpha_fit(y, q, area_cm2=AREA, t_window_s=(0.0, 1.0))  # needs t_s
    with pytest.raises(InputError):
        alpha_fit(y, q, area_cm2=AREA, t_s=t, t_window_s=(14.99, 15.0))
    with pytest.raises(InputError):
        alpha_fit(y, np.full_like(q, -1e-12), area_cm2=AREA)
    y2 = y.copy()
    y2[:5] = np.nan
    assert alpha_fit(y2, q, area_cm2=AREA)["n_points"] == y.size - 5
