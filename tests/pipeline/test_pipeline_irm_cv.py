"""End to end: simulate irm-cv → analyze (through files) recovers the planted truth."""

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import tomli_w

from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("irmcv")
    # the default 10 cycles on a smaller field (6 µm footprint, charge scaled by its area)
    # to keep the test fast; validation/irm_cv.py runs the full default scenario
    exp = simulate(
        "irm-cv",
        root / "input",
        seed=11,
        overrides={"irm_size_px": 64, "footprint_diameter_um": 6.0, "Q_c1_nC": 1.8},
    )
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_outputs_follow_the_contract(run):
    root, s, _ = run
    res = root / "results"
    assert json.loads((res / "summary.json").read_text()) == s
    assert s["scenario"] == "irm-cv"
    for row in s["echem"]["cycles"]:
        for key in ("cycle", "Q_c_C", "Q_a_C", "CE", "CE_err", "E_onset_c_V", "E_peak_a_V"):
            assert key in row
    cal = s["optics"]["ce_calibration"]
    for key in ("slope", "intercept", "r2", "slope_err", "intercept_err"):
        assert key in cal
    for row in s["optics"]["ce_irm"]:
        assert {"cycle", "mean", "sd", "path"} <= set(row)
        assert (res / row["path"]).is_file()
    assert (res / s["optics"]["residual_deposit"]["path"]).is_file()
    for fig in ("cv_cycles", "cycle_charges", "ce_calibration", "ce_irm_maps", "residual_deposit"):
        assert (res / "figures" / f"{fig}.png").stat().st_size > 10_000
    for table in ("cycles", "ce_calibration_points", "ce_irm_histograms"):
        assert (res / "tables" / f"{table}.csv").is_file()
    assert "CE" in s["headline"] and s["skipped"] == []
    assert s["parameters"]["ce_irm"]["sigma_um"] == 0.5
    # registration is on by default (the run that tests turning it off elsewhere rely
    # on): it ran on every frame and, the simulated stage being still, applied nothing
    r = s["registration"]
    assert r["enabled"] is True and r["path"] in ("screen", "full registration")
    assert r["applied"] is False, r["applied_reason"]
    frames = (root / "input" / "frame_times.csv").read_text().splitlines()
    assert r["n_frames"] == len(frames) - 1  # (a header line)


def test_recovers_per_cycle_ce(run):
    _, s, truth = run
    got, want = s["echem"]["cycles"], truth["echem"]["cycles"]
    assert len(got) == len(want) == 10
    for g, w in zip(got, want, strict=True):
        assert abs(g["CE"] - w["CE"]) <= 0.01
        assert abs(g["CE"] - w["CE"]) <= max(g["CE_err"], 1e-4)  # the 95 % interval
        assert g["Q_c_C"] == pytest.approx(w["Q_c_C"], rel=0.01)
        # potential noise 0.3 mV, 2 mV steps: the rules' values within a few mV
        assert g["E_onset_c_V"] == pytest.approx(w["E_onset_c_V"], abs=0.003)
        assert g["E_peak_a_V"] == pytest.approx(w["E_peak_a_V"], abs=0.003)


def test_recovers_ce_irm_maps_and_residual(run):
    root, s, truth = run
    tmaps = tifffile.imread(root / "input" / "truth" / "ce_maps.tif")
    med = []
    for k, row in enumerate(s["optics"]["ce_irm"]):
        m = tifffile.imread(root / "results" / row["path"])
        both = np.isfinite(m) & np.isfinite(tmaps[k])
        assert both.sum() > 0.9 * np.isfinite(tmaps[k]).sum()
        med.append(np.median(np.abs(m[both] - tmaps[k][both])))
        assert row["mean"] == pytest.approx(truth["optics"]["ce_irm"][k]["mean"], abs=0.02)
    assert np.median(med) <= 0.05 and max(med) <= 0.06
    cal, cal_t = s["optics"]["ce_calibration"], truth["optics"]["ce_calibration"]
    assert cal["r2"] > 0.99
    assert cal["slope"] == pytest.approx(cal_t["slope"], abs=max(cal["slope_err"], 0.03))
    r_t = tifffile.imread(root / "input" / "truth" / "residual_deposit_nm.tif")
    r_g = tifffile.imread(root / "results" / s["optics"]["residual_deposit"]["path"])
    both = np.isfinite(r_t) & np.isfinite(r_g)
    assert np.median(np.abs(r_g[both] / r_t[both] - 1)) < 0.05
    # the inactive-Li regions are where the planted residual is: compared at the
    # analysis' resolution (truth blurred by the same σ = 0.5 µm, inside the footprint)
    from scipy import ndimage

    sig_px = s["parameters"]["ce_irm"]["sigma_um"] / 0.12  # µm / pixel size
    inside = np.isfinite(r_t)
    num = ndimage.gaussian_filter(np.where(inside, r_t, 0.0), sig_px)
    den = ndimage.gaussian_filter(inside.astype(float), sig_px)
    r_tb = num / den
    assert np.corrcoef(r_g[both], r_tb[both])[0, 1] > 0.95


def test_echem_only_experiment(tmp_path, run):
    root, _, truth = run
    exp = {
        "experiment": {"scenario": "irm-cv", "name": "echem only"},
        "echem": {"path": str(root / "input" / "echem.mpt")},
    }
    p = tmp_path / "experiment.toml"
    p.write_text(tomli_w.dumps(exp))
    s = analyze(p, tmp_path / "out")
    assert len(s["echem"]["cycles"]) == 10
    assert any(x["analysis"] == "optics" for x in s["skipped"])
    assert "optics" not in s
    assert not (tmp_path / "out" / "figures" / "ce_irm_maps.png").exists()
    assert Path(tmp_path / "out" / "figures" / "cycle_charges.png").is_file()


def test_record_without_cycles_is_bad_input(tmp_path):
    from platescope import InputError

    csv = tmp_path / "ca.csv"
    t = np.arange(0, 50, 0.1)
    csv.write_text("time_s,potential_V,current_A\n" + "".join(f"{x:.1f},-0.1,-1e-9\n" for x in t))
    p = tmp_path / "experiment.toml"
    p.write_text(
        tomli_w.dumps(
            {"experiment": {"scenario": "irm-cv", "name": "ca"}, "echem": {"path": "ca.csv"}}
        )
    )
    with pytest.raises(InputError) as err:
        analyze(p, tmp_path / "out")
    assert "ca.csv" in str(err.value) and "cycling record" in err.value.fix
    assert not (tmp_path / "out").exists()  # nothing half-written
