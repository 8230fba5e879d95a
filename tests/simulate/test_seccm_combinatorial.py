"""The seccm-combinatorial simulator: design, truth against physics, files per layout."""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.simulate import SCENARIOS, make_spot_design, simulate
from platescope.simulate._seccm_combinatorial import spot_record

FAST = {"sample_period_s": 0.01}


@pytest.fixture(scope="module")
def design():
    """The default design: 8 current densities × 8 repeats."""
    return make_spot_design(seed=11)


def test_registered_with_documented_parameters():
    fn = SCENARIOS["seccm-combinatorial"]
    for key in ("layout", "n_conditions", "n_repeats", "n_spots", "noise_scale", "duration_s"):
        assert key in fn.parameters


def test_default_design_is_the_papers_grid(design):
    assert len(design) == 64
    assert design.groupby("condition").size().tolist() == [8] * 8
    j_nom = np.sort(design["current_density_nominal_mA_cm2"].unique())
    assert j_nom[0] == pytest.approx(0.22) and j_nom[-1] == pytest.approx(2.92)
    assert np.allclose(np.diff(np.log(j_nom)), np.log(2.92 / 0.22) / 7)  # log-spaced
    # 11 µm hops, one condition per grid row
    xs = np.sort(design["x_um"].unique())
    assert np.allclose(np.diff(xs), 11.0)
    assert (design.groupby("condition")["y_um"].nunique() == 1).all()


def test_current_density_is_current_over_footprint_area(design):
    # physics: j = |I| / A, with A the spot's own footprint
    j = design["current_A"].abs() / design["area_cm2"] * 1e3
    np.testing.assert_allclose(design["current_density_mA_cm2"], j, rtol=1e-12)
    # the applied current is the nominal density on the nominal 6 µm footprint
    a_nom = math.pi * 3e-4**2
    np.testing.assert_allclose(
        design["current_A"].abs(),
        design["current_density_nominal_mA_cm2"] * 1e-3 * a_nom,
        rtol=1e-12,
    )


def test_low_current_never_nucleates_high_always(design):
    frac = design.groupby("condition")["nucleated"].mean()
    assert frac.iloc[0] == 0.0  # 0.22 mA cm⁻² never reaches E_nuc in 5 s (paper)
    assert (frac.iloc[3:] == 1.0).all()
    assert 0.0 <= frac.iloc[1] < 1.0


def test_truth_is_the_minimum_of_the_noise_free_record(design):
    # independent check: brute-force minimum of the noise-free samples of each nucleated spot
    p = {"sample_period_s": 0.0005}
    for _, row in design[design["nucleated"]].iloc[::7].iterrows():
        rec = spot_record(row, seed=11, **p)
        e = rec["potential_noise_free_V"].to_numpy()
        k = int(np.argmin(e))
        assert e[k] == pytest.approx(row["E_nuc_V"], abs=2e-6)
        assert rec["time_s"].iloc[k] == pytest.approx(row["t_nuc_s"], abs=1e-3)
        # E_growth: mean of the noise-free potential over the last 20 % of the record
        tail = rec["time_s"] >= 0.8 * 5.0
        assert e[tail].mean() == pytest.approx(row["E_growth_V"], abs=1e-4)
        assert row["Q_nuc_uAh_cm2"] == pytest.approx(
            row["current_density_mA_cm2"] * row["t_nuc_s"] / 3.6
        )


def test_guard_band_keeps_nucleation_times_away_from_the_record_end(design):
    t = design["t_nuc_target_s"].to_numpy()
    assert not np.any((t > 0.85 * 5.0) & (t < 1.15 * 5.0))
    # not-nucleated spots' curves really do not turn inside the record
    for _, row in design[~design["nucleated"]].iloc[::5].iterrows():
        e = spot_record(row, seed=11, **FAST)["potential_noise_free_V"].to_numpy()
        assert np.all(np.diff(e[-100:]) < 0)


def test_noise_level_follows_noise_scale(design):
    row = design.iloc[40]
    for scale in (1.0, 3.0):
        rec = spot_record(row, seed=11, noise_scale=scale)
        resid = rec["potential_V"] - rec["potential_noise_free_V"]
        assert resid.std() == pytest.approx(3e-4 * scale, rel=0.1)


def test_n_spots_splits_evenly_over_conditions():
    d = make_spot_design(seed=0, n_conditions=3, n_spots=10, **FAST)
    assert d.groupby("condition").size().tolist() == [4, 3, 3]
    assert d["spot"].tolist() == list(range(10))


@pytest.mark.parametrize("layout", ["platescope", "echemtips", "wec-spm"])
def test_writes_layout_truth_and_experiment(tmp_path, layout):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path,
        seed=2,
        overrides={"layout": layout, "n_conditions": 2, "n_repeats": 2, **FAST},
    )
    cfg = tomllib.loads(exp.read_text())
    assert cfg["experiment"]["scenario"] == "seccm-combinatorial"
    assert cfg["seccm"]["layout"] == layout
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    spots = pd.read_csv(tmp_path / "truth" / "spots.csv")
    assert len(spots) == 4 and truth["combinatorial_run"]["n_spots"] == 4
    rows = truth["combinatorial"]
    assert [r["n"] for r in rows] == [2, 2]
    for r in rows:
        for key in ("condition", "current_density_mA_cm2", "n", "n_nucleated", "E_nuc_V_mean",
                    "E_nuc_V_sd", "t_nuc_s_mean", "E_growth_V_mean"):  # fmt: skip
            assert key in r
        sub = spots[spots["condition"] == r["condition"]]
        assert r["n_nucleated"] == int(sub["nucleated"].sum())
    for key in ("spots", "path", "settings"):
        if key in cfg["seccm"]:
            assert (tmp_path / cfg["seccm"][key]).is_file()


def test_bad_parameters_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="layout"):
        simulate("seccm-combinatorial", tmp_path, overrides={"layout": "hdf5"})
    with pytest.raises(InputError, match="n_spots"):
        simulate("seccm-combinatorial", tmp_path, overrides={"n_conditions": 4, "n_spots": 2})
    with pytest.raises(InputError, match="j_max"):
        simulate("seccm-combinatorial", tmp_path, overrides={"j_min_mA_cm2": 2, "j_max_mA_cm2": 1})
    assert not (tmp_path / "experiment.toml").exists()
