"""Scharifker–Hills: reduced curves, planted transients, physical parameters, real CA files."""

from pathlib import Path

import numpy as np
import pytest

from platescope.models import (
    scharifker_hills_current,
    scharifker_hills_dimensionless,
    scharifker_hills_fit,
    scharifker_hills_parameters,
)

F = 96485.33212
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem"
MECHS = ("instantaneous", "progressive")


@pytest.mark.parametrize("mech", MECHS)
def test_reduced_curves_peak_at_one_one(mech):
    x = np.linspace(0.01, 5, 200_001)
    y = scharifker_hills_dimensionless(x, mech)
    assert x[np.argmax(y)] == pytest.approx(1.0, abs=2e-3)
    assert y.max() == pytest.approx(1.0, abs=2e-4)
    assert scharifker_hills_dimensionless(0.0, mech) == 0.0


def _planted(mech, seed, noise_rel, n=500):
    rng = np.random.default_rng(seed)
    I_m = 10 ** rng.uniform(-6, -2)
    t_m = 10 ** rng.uniform(-1, 1.5)
    t = np.linspace(0, 6 * t_m, n)
    i = scharifker_hills_current(t, I_m_A=I_m, t_m_s=t_m, mechanism=mech)
    i = i + 3 * I_m * np.exp(-t / (0.02 * t_m))  # double-layer spike
    i = i + noise_rel * I_m * rng.standard_normal(n)
    return t, -i, I_m, t_m  # cathodic: negative


@pytest.mark.parametrize("mech", MECHS)
@pytest.mark.parametrize("noise_rel", [0.005, 0.02, 0.05])
def test_planted_transients_recover_im_tm_and_mechanism(mech, noise_rel):
    z_im, z_tm = [], []
    for seed in range(6):
        t, i, I_m, t_m = _planted(mech, seed, noise_rel)
        r = scharifker_hills_fit(t, i)
        assert r["nucleation_transient"] and r["mechanism"] == mech
        assert r["sign"] == -1 and r["I_m_A"] < 0
        z_im.append((abs(r["I_m_A"]) - I_m) / r["I_m_err_A"])
        z_tm.append((r["t_m_s"] - t_m) / r["t_m_err_s"])
        # the 1σ errors scale with the planted noise: a few × noise/√(points near the peak)
        assert r["I_m_err_A"] < 0.5 * noise_rel * I_m
    assert np.max(np.abs(z_im)) < 4.5 and np.max(np.abs(z_tm)) < 4.5


@pytest.mark.parametrize("mech", MECHS)
def test_physical_transient_recovers_D_and_nucleation_density(mech):
    # build I(t) from the physical (not the reduced) form and recover D and N0 / A·N∞
    z, c, V_M, D = 1, 1e-4, 13.0, 2e-6  # mol/cm³, cm³/mol, cm²/s
    k = np.sqrt(8 * np.pi * c * V_M)
    t = np.linspace(1e-4, 20.0, 4000)
    pre = z * F * np.sqrt(D) * c / np.sqrt(np.pi * t)
    if mech == "instantaneous":
        N0 = 3e5  # cm⁻²
        i = pre * (1 - np.exp(-N0 * np.pi * k * D * t))
    else:
        AN = 2e4  # cm⁻² s⁻¹
        i = pre * (1 - np.exp(-AN * np.pi * (4 / 3) * k * D * t**2 / 2))
    r = scharifker_hills_fit(t, -i, t_step_s=0.0)
    assert r["mechanism"] == mech
    prm = scharifker_hills_parameters(
        r["I_m_A"], r["t_m_s"], mechanism=mech, c_mol_cm3=c, z=z, molar_volume_cm3_mol=V_M
    )
    assert prm["D_cm2_s"] == pytest.approx(D, rel=0.01)
    if mech == "instantaneous":
        assert prm["N0_cm2"] == pytest.approx(N0, rel=0.02)
    else:
        assert prm["AN_inf_cm2_s"] == pytest.approx(AN, rel=0.02)


def test_parameter_errors_propagate():
    r = scharifker_hills_parameters(
        1e-3, 2.0, mechanism="progressive", c_mol_cm3=1e-4, i_m_err_A_cm2=1e-5, t_m_err_s=0.02
    )
    assert r["D_err_cm2_s"] / r["D_cm2_s"] == pytest.approx(np.hypot(0.02, 0.01))
    assert r["AN_inf_err_cm2_s"] / r["AN_inf_cm2_s"] == pytest.approx(np.hypot(0.02, 0.03))


@pytest.mark.parametrize("noise", [1e-8, 1e-7, 1e-6])
def test_cottrell_decay_is_not_a_nucleation_transient(noise):
    t = np.linspace(0.01, 10, 400)
    for seed in range(8):
        rng = np.random.default_rng(seed)
        i = 1e-4 / np.sqrt(t) + 5e-4 * np.exp(-t / 0.05) + noise * rng.standard_normal(t.size)
        r = scharifker_hills_fit(t, i)
        assert not r["nucleation_transient"] and r["I_m_A"] is None and r["t_m_s"] is None
        assert "not" in r["reason"]


def test_rising_current_without_maximum_is_reported():
    t = np.linspace(0, 10, 300)
    r = scharifker_hills_fit(t, 1e-5 * (1 - np.exp(-t / 20)))
    assert not r["nucleation_transient"] and "still rising" in r["reason"]


def test_noise_alone_has_no_maximum():
    rng = np.random.default_rng(5)
    t = np.linspace(0, 10, 300)
    r = scharifker_hills_fit(t, 1e-5 + 1e-8 * rng.standard_normal(t.size))
    assert not r["nucleation_transient"] and "no current maximum" in r["reason"]


def test_too_short_record():
    r = scharifker_hills_fit([0, 1, 2], [1, 2, 1])
    assert not r["nucleation_transient"] and "too few" in r["reason"]


def _real_ca_files():
    files = [DATA / "unitpackage" / "eclab_ca.mpt", DATA / "yadg" / "ca.issue_149.mpt"]
    files.append(DATA / "yadg" / "ca.issue_149.mpr")
    return files


@pytest.mark.parametrize("path", _real_ca_files(), ids=lambda p: p.name)
def test_real_ca_files_are_not_nucleation_transients(path):
    if not path.is_file():
        pytest.skip(f"{path} absent")
    from platescope.io import read_echem

    df = read_echem(path)
    t, i = df["time_s"].to_numpy(), df["current_A"].to_numpy()
    # analyse each continuous stretch (the yadg record has gaps between loops)
    cuts = np.flatnonzero(np.diff(t) > 10 * np.median(np.diff(t))) + 1
    starts, stops = np.r_[0, cuts], np.r_[cuts, t.size]
    for a, b in zip(starts, stops, strict=True):
        r = scharifker_hills_fit(t[a:b], i[a:b])
        assert not r["nucleation_transient"], (path.name, a, r)
        assert r["I_m_A"] is None and r["reason"]
