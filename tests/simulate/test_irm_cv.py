"""The irm-cv simulator: planted physics, truth consistency, files readable by platescope.io."""

import json

import numpy as np
import pytest
import tifffile

from platescope import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.simulate import SCENARIOS, make_irm_cv, simulate

# a 4 µm footprint with the charge scaled by its area (else the 12-bit camera saturates)
SMALL = {"n_cycles": 3, "irm_size_px": 48, "footprint_diameter_um": 4.0, "Q_c1_nC": 0.8}


@pytest.fixture(scope="module")
def sim():
    return make_irm_cv(seed=4, **SMALL)


def test_registered_with_parameters():
    fn = SCENARIOS["irm-cv"]
    for key in ("noise_scale", "n_cycles", "scan_rate_mV_s", "E_low_V", "CE_first", "CE_last"):
        assert key in fn.parameters


def test_charges_follow_the_plan(sim):
    tr = sim["truth"]["echem"]
    q_dl = tr["Q_dl_C"]
    for c in tr["cycles"]:
        planted = c["planted_faradaic_C"]
        q_c = planted["sei"] + planted["alloy"] + planted["plate"]
        q_a = planted["strip"] + planted["dealloy"]
        # the double-layer charge adds to both (up to where it overlaps opposite currents)
        assert c["Q_c_C"] == pytest.approx(q_c + q_dl, rel=2e-3)
        assert c["Q_a_C"] == pytest.approx(q_a + q_dl, rel=2e-3)
    ce = [c["CE"] for c in tr["cycles"]]
    # CE_n = 0.25 + 0.6·(1 − e^{−(n−1)/3})/(1 − e^{−3}) (+ tiny double-layer share)
    n = np.arange(3)
    planned = 0.25 + 0.6 * (1 - np.exp(-n / 3)) / (1 - np.exp(-3))
    np.testing.assert_allclose(ce, planned, atol=0.005)
    # the record integrates to the planted net charge (independent of the truth code)
    ec = sim["echem"]
    net = -np.trapezoid(sim["echem_noise_free_A"], ec["time_s"])
    assert net == pytest.approx(sum(c["Q_c_C"] - c["Q_a_C"] for c in tr["cycles"]), rel=1e-3)


def test_cv_shape(sim):
    ec = sim["echem"]
    p = sim["parameters"]
    e = ec["potential_V"].to_numpy()
    assert e.max() == pytest.approx(p["E_high_V"], abs=0.005)
    assert e.min() == pytest.approx(p["E_low_V"], abs=0.005)
    assert ec["cycle"].unique().tolist() == [1, 2, 3]
    period = 2 * (p["E_high_V"] - p["E_low_V"]) / (p["scan_rate_mV_s"] * 1e-3)
    assert ec["time_s"].iloc[-1] == pytest.approx(3 * period, abs=0.02)


def test_movie_tracks_the_deposit(sim):
    """Footprint-mean signal at the end ≈ α·(equivalent thickness of the net charge)."""
    mv = sim["movie"].astype(float)
    mask = sim["footprint_mask"]
    tr = sim["truth"]
    off = tr["sync"]["offset_s"]
    t = sim["frame_times_s"] - off
    first = np.searchsorted(t, 0.5)
    net = sum(c["Q_c_C"] - c["Q_a_C"] - 0.0 for c in tr["echem"]["cycles"])
    h = LI_MOLAR_VOLUME_CM3_MOL * net / (FARADAY_C_MOL * tr["footprint"]["area_cm2"]) * 1e7
    sig = mv[-3:, mask].mean() - mv[first, mask].mean()
    # drift ≤ 0.3 % of 2000 counts, noise ≪ 1 count on the footprint mean
    assert sig == pytest.approx(tr["optics"]["alpha_counts_per_nm"] * h, rel=0.06)
    assert np.nanmean(sim["residual_nm"]) == pytest.approx(h, rel=0.03)


def test_truth_maps_are_local_charge_ratios(sim):
    maps = sim["ce_maps"]
    mask = sim["footprint_mask"]
    assert np.isnan(maps[:, ~mask]).all() and np.isfinite(maps[:, mask]).all()
    stats = sim["truth"]["optics"]["ce_irm"]
    for k, s in enumerate(stats):
        assert s["mean"] == pytest.approx(float(maps[k][mask].mean()), rel=1e-6)
        # local CE averages close to the cycle's CE (same charges, different weighting)
        assert s["mean"] == pytest.approx(sim["truth"]["echem"]["cycles"][k]["CE"], abs=0.03)
    # inactive-Li regions: lower local CE early than late (heterogeneity heals)
    assert stats[0]["sd"] > 0 and stats[1]["sd"] > stats[-1]["sd"] * 0.5


def test_same_seed_same_output():
    a = make_irm_cv(seed=2, n_cycles=1, irm_size_px=40, footprint_diameter_um=3.0)
    b = make_irm_cv(seed=2, n_cycles=1, irm_size_px=40, footprint_diameter_um=3.0)
    np.testing.assert_array_equal(a["movie"], b["movie"])
    np.testing.assert_array_equal(a["echem"]["current_A"], b["echem"]["current_A"])


def test_noise_free_files(tmp_path):
    sim0 = make_irm_cv(
        seed=1, noise_scale=0.0, n_cycles=1, irm_size_px=40, footprint_diameter_um=3.0
    )
    np.testing.assert_allclose(sim0["echem"]["current_A"], sim0["echem_noise_free_A"])


def test_written_files_read_back(tmp_path):
    from platescope.io import read_echem, read_experiment, read_movie

    exp_path = simulate("irm-cv", tmp_path, seed=5, overrides={**SMALL, "n_cycles": "2"})
    exp = read_experiment(exp_path)
    ec = read_echem(exp.echem["path"], timezone=exp.echem.get("timezone"))
    assert ec["cycle"].unique().tolist() == [1, 2]
    assert ec.attrs["technique"] == "Cyclic Voltammetry"
    mv = read_movie(exp.movie["path"], frame_times=exp.movie["frame_times"])
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    assert mv.sizes["t"] == truth["movie"]["n_frames"]
    assert np.all(np.diff(mv.t.values) > 0)
    maps = tifffile.imread(tmp_path / "truth" / "ce_maps.tif")
    assert maps.shape[0] == 2
    for key in ("cycles",):
        assert key in truth["echem"]
    for key in ("ce_irm", "ce_calibration", "residual_deposit"):
        assert key in truth["optics"]


def test_geometry_that_does_not_fit_is_refused(tmp_path):
    with pytest.raises(InputError, match="does not fit"):
        simulate("irm-cv", tmp_path, overrides={"footprint_diameter_um": 20})
    assert not (tmp_path / "experiment.toml").exists()
