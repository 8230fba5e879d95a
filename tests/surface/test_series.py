"""Time series: registration, height change, growth rates against planted truth."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.ndimage import gaussian_filter
from scipy.ndimage import shift as nd_shift

from platescope._errors import InputError
from platescope.simulate._afm import make_afm_series
from platescope.surface import (
    areal_parameters,
    auto_profile_line,
    feature_mask,
    growth_rates,
    height_change,
    level_series,
    line_profile,
    register_maps,
    roughness_series,
)


def test_subpixel_registration_recovers_planted_shift():
    big = gaussian_filter(np.random.default_rng(4).normal(size=(160, 160)), 3.0) * 50
    ref = big[16:144, 16:144]
    for dy, dx in [(0.3, -1.7), (2.45, 0.8), (-3.1, -2.2)]:
        mov = nd_shift(big, (dy, dx), order=3, mode="nearest")[16:144, 16:144]
        s = register_maps(ref, mov)["shift_px"]
        # 1/20 px grid of the upsampled correlation + interpolation error
        assert s[0] == pytest.approx(-dy, abs=0.06) and s[1] == pytest.approx(-dx, abs=0.06)


def test_height_change_of_uniform_growth_after_drift():
    big = gaussian_filter(np.random.default_rng(2).normal(size=(140, 140)), 2.5) * 20
    ref = xr.DataArray(big[10:130, 10:130], dims=("y", "x"), attrs={"pixel_size_um": 0.05})
    mov = nd_shift(big, (1.5, -2.0), order=3, mode="nearest")[10:130, 10:130] + 4.0
    r = height_change(ref, mov)
    d = r["change"].values
    inner = d[5:-5, 5:-5]
    assert np.nanmedian(inner) == pytest.approx(4.0, abs=0.05)
    assert 0.95 < r["overlap_fraction"] < 1.0


@pytest.mark.parametrize("seed", [3, 11])
def test_simulated_series_recovers_truth(seed):
    sim = make_afm_series(seed=seed, size_px=192)
    truth = sim["truth"]["afm"]
    lev = level_series(sim["maps"], order=2)
    maps = [r["height"] for r in lev]
    for m, t in zip(maps, truth["maps"], strict=True):
        p = areal_parameters(m)
        # noise 0.3 nm adds √(Sq² + σ²) − Sq ≈ 0.01 nm; levelling and row alignment
        # take out at most ~1 % of the planted texture (validation: docs/afm.md)
        assert p["Sq_nm"] == pytest.approx(t["Sq_nm"], rel=0.03)
        assert p["Sa_nm"] == pytest.approx(t["Sa_nm"], rel=0.03)
    g = growth_rates(maps, sim["times_s"])
    want = sim["truth"]["afm"]["growth"]["rate_difference_nm_h"]
    assert g["rate_difference_nm_h"] == pytest.approx(want, rel=0.05)
    assert g["significant"] and g["p_value"] < 1e-6
    # registration reports the negative of the planted content displacement
    for s, d in zip(g["shifts_px"], truth["drift_px"], strict=True):
        assert s[0] == pytest.approx(-d[0], abs=0.15) and s[1] == pytest.approx(-d[1], abs=0.15)
    df = roughness_series(maps, sim["times_s"])
    assert list(df.columns[:4]) == ["time_s", "Sa_nm", "Sq_nm", "Sq_err_nm"]
    assert df.Sq_nm.is_monotonic_increasing  # ridges grow faster: roughness rises


def test_no_growth_difference_is_not_significant():
    """Null case: ridges grow as fast as the flat; most seeds must not be significant."""
    hits = 0
    for seed in range(6):
        sim = make_afm_series(
            seed=seed, size_px=128, rate_flat_nm_h=1.0, rate_feature_nm_h=1.0, n_frames=4
        )
        maps = [r["height"] for r in level_series(sim["maps"], order=2)]
        g = growth_rates(maps, sim["times_s"])
        # no planted difference: the estimate is within 3 of its own standard errors
        assert abs(g["rate_difference_nm_h"]) < 3 * g["rate_difference_err_nm_h"]
        hits += g["significant"]
    assert hits <= 2


def test_growth_nulls():
    m = xr.DataArray(np.zeros((32, 32)), dims=("y", "x"), attrs={"pixel_size_um": 0.1})
    assert "fewer than 2" in growth_rates([m], [0.0])["reason"]
    with pytest.raises(InputError, match="increasing"):
        growth_rates([m, m], [10.0, 5.0])
    r = growth_rates([m, m + 1], [0.0, 60.0], register=False)
    assert r["rate_difference_nm_h"] is None and "flat" in r["reason"]
    assert feature_mask(np.zeros((5, 5)))["mask"] is None


def test_profiles():
    z = np.zeros((40, 60))
    z[25, 10:50] = 8.0
    a = auto_profile_line(z, spacing_um=0.1)
    assert a["start_um"] == (pytest.approx(2.5), 0.0)
    prof = line_profile(z, start_um=a["start_um"], end_um=a["end_um"], spacing_um=0.1)
    assert prof["height_nm"].max() == pytest.approx(8.0)
    assert prof["distance_um"].iloc[-1] == pytest.approx(5.9)
    with pytest.raises(InputError, match="outside"):
        line_profile(z, start_um=(0, 0), end_um=(10, 0), spacing_um=0.1)
