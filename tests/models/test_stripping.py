"""Critical stripping current and Sand limits against the paper's numbers and physics."""

import numpy as np
import pytest

from platescope.models import (
    critical_stripping_current,
    li_concentration_mol_cm3,
    sand_capacity_solid,
    sand_time_liquid,
    sand_time_solid,
)

F = 96485.33212
PAPER_D = {"Li": 1.6e-10, "Li0.9Mg0.1": 2.4e-11, "Li0.8Mg0.2": 2.6e-11, "Li0.7Mg0.3": 1.4e-11}
BAND_UA = (50.0, 200.0)  # SCIENCE.md §3: D = 1e-11–1e-10 cm²/s ↔ 50–200 µA/cm²


def _in_band(i, rel=1e-9):
    return BAND_UA[0] * (1 - rel) <= i <= BAND_UA[1] * (1 + rel)


@pytest.mark.parametrize("name", list(PAPER_D))
def test_paper_diffusivities_land_in_the_quoted_band(name):
    assert _in_band(critical_stripping_current(PAPER_D[name])["i_crit_uA_cm2"])


@pytest.mark.parametrize("D", [1e-11, 3e-11, 1e-10])
def test_band_diffusivities_land_in_the_band(D):
    assert _in_band(critical_stripping_current(D)["i_crit_uA_cm2"])


def test_square_root_scaling_and_alloy_below_li():
    r = critical_stripping_current(np.array([1e-11, 4e-11, 1.6e-10]))
    i = r["i_crit_uA_cm2"]
    assert i[1] / i[0] == pytest.approx(2.0) and i[2] / i[1] == pytest.approx(2.0)
    li = critical_stripping_current(PAPER_D["Li"])["i_crit_uA_cm2"]
    mg = critical_stripping_current(PAPER_D["Li0.9Mg0.1"])["i_crit_uA_cm2"]
    assert mg < li  # slower diffusion in the alloy → lower critical current


def test_error_propagation_matches_monte_carlo():
    D, sD = 1.6e-10, 0.1e-10
    r = critical_stripping_current(D, D_err_cm2_s=sD)
    rng = np.random.default_rng(3)
    samples = critical_stripping_current(rng.normal(D, sD, 200_000))["i_crit_uA_cm2"]
    assert r["i_crit_err_uA_cm2"] == pytest.approx(samples.std(), rel=0.03)


def test_model_interval_brackets_the_value_and_constant_is_documented():
    r = critical_stripping_current(5e-11)
    lo, hi = r["i_crit_model_interval_uA_cm2"]
    assert lo <= r["i_crit_uA_cm2"] <= hi
    assert hi / lo == pytest.approx((200 / np.sqrt(1e-10)) / (50 / np.sqrt(1e-11)))
    assert r["constant"]["anchor_D_cm2_s"] == 1e-11 and r["assumptions"]


def test_custom_anchor_is_honoured():
    r = critical_stripping_current(1e-10, anchor_D_cm2_s=1e-10, anchor_i_uA_cm2=200.0)
    assert r["i_crit_uA_cm2"] == pytest.approx(200.0)


@pytest.mark.parametrize("bad", [0.0, -1e-11, np.nan])
def test_bad_diffusivity_raises(bad):
    with pytest.raises(ValueError, match="D_cm2_s"):
        critical_stripping_current(bad)


def test_li_concentrations():
    assert li_concentration_mol_cm3() == pytest.approx(1 / 13.0)
    assert li_concentration_mol_cm3(0.1) == pytest.approx(0.9 / 13.0)
    with pytest.raises(ValueError):
        li_concentration_mol_cm3(1.2)


@pytest.mark.parametrize("j", [0.05, 0.1, 1.0, 5.0])
def test_sand_time_empties_the_interface(j):
    # independent check: constant-flux semi-infinite solid, c_s(t) = c0 − 2 (J/D) √(D t/π)
    D, c0 = 1.6e-10, 1 / 13.0
    t = sand_time_solid(j, D_cm2_s=D)
    flux = j * 1e-3 / F  # mol cm⁻² s⁻¹
    c_surface = c0 - 2 * flux / D * np.sqrt(D * t / np.pi)
    assert abs(c_surface) < 1e-9 * c0


def test_sand_capacity_scaling_and_paper_ordering():
    j = np.array([0.1, 1.0, 10.0])
    q = sand_capacity_solid(j, D_cm2_s=1.6e-10)
    t = sand_time_solid(j, D_cm2_s=1.6e-10)
    assert np.allclose(q * j, q[0] * j[0])  # Q* ∝ 1/j
    assert np.allclose(t * j**2, t[0] * j[0] ** 2)  # t* ∝ 1/j²
    assert np.allclose(q, j * 1e-3 * t / 3.6)  # Q = j t in mAh/cm²
    c_mg = li_concentration_mol_cm3(0.1)
    q_mg = sand_capacity_solid(j, D_cm2_s=2.4e-11, c_mol_cm3=c_mg)
    # diffusion-limited: Li metal strips more at any j, by D ratio × c ratio²
    assert np.allclose(q_mg / q, (2.4e-11 / 1.6e-10) * 0.9**2)


def test_sand_liquid_reduces_to_the_solid_form_and_scales_with_transference():
    # t₊ = 0 is the solid form with c = c0
    t_liq = sand_time_liquid(1.0, D_cm2_s=1e-10, c0_mol_L=1000 / 13.0, t_plus=0.0)
    assert t_liq == pytest.approx(sand_time_solid(1.0, D_cm2_s=1e-10))
    t0 = sand_time_liquid(2.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.0)
    t4 = sand_time_liquid(2.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4)
    assert t4 / t0 == pytest.approx(1 / 0.6**2)
    with pytest.raises(ValueError, match="t_plus"):
        sand_time_liquid(1.0, D_cm2_s=1e-6, c0_mol_L=1.0, t_plus=1.0)


def test_sand_bad_current_raises():
    with pytest.raises(ValueError, match="j_mA_cm2"):
        sand_time_solid(0.0, D_cm2_s=1e-10)
