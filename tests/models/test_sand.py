"""Sand's time and capacity: the worked example by hand, and the relation's scaling."""

import numpy as np
import pytest

from platescope.models import FARADAY_C_MOL, sand_capacity_mAh_cm2, sand_limit


def test_hand_computed_example():
    # D = 3e-6 cm² s⁻¹, c0 = 1e-3 mol cm⁻³, t+ = 0.4, j = 0.01 A cm⁻²
    num = np.pi * 3e-6 * (1e-3 * FARADAY_C_MOL) ** 2
    t_hand = num / (4 * (0.01 * 0.6) ** 2)
    r = sand_limit(10.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4)
    assert r["t_sand_s"] == pytest.approx(t_hand, rel=1e-12)
    assert r["t_sand_s"] == pytest.approx(609.3, abs=0.1)
    assert r["Q_sand_mAh_cm2"] == pytest.approx(0.01 * t_hand / 3.6, rel=1e-12)


def test_scaling_with_current_and_transference():
    kw = {"D_cm2_s": 2e-6, "c0_mol_L": 1.0}
    t1 = sand_limit(1.0, t_plus=0.0, **kw)["t_sand_s"]
    assert sand_limit(2.0, t_plus=0.0, **kw)["t_sand_s"] == pytest.approx(t1 / 4)
    assert sand_limit(1.0, t_plus=0.5, **kw)["t_sand_s"] == pytest.approx(4 * t1)
    q = sand_capacity_mAh_cm2(np.array([1.0, 2.0]), t_plus=0.0, **kw)
    assert q[1] == pytest.approx(q[0] / 2)  # Q = j·t ∝ 1/j


def test_step_longer_than_sand():
    r = sand_limit(1.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4, step_duration_s=3600)
    assert r["exceeds_sand"] is (3600 > r["t_sand_s"])
    assert r["step_over_sand"] == pytest.approx(3600 / r["t_sand_s"])
