"""The sims-diffusion simulator: files, experiment entries, depth conversions and truth."""

import json

import numpy as np
import pytest
from scipy import special

from platescope import InputError
from platescope.io import read_experiment, read_sims
from platescope.simulate import make_sims_diffusion, simulate


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sims_sim")
    simulate("sims-diffusion", out, seed=2, overrides={"time_profiles": "2"})
    return out


def test_files_and_experiment_entries(sim_dir):
    exp = read_experiment(sim_dir / "experiment.toml")
    truth = json.loads((sim_dir / "truth" / "truth.json").read_text())
    assert exp.scenario == "sims-diffusion" and len(exp.sims) == 4
    assert [e["anneal_time_s"] for e in exp.sims] == [900.0, 1800.0, 3600.0, 7200.0]
    forms = [r["depth_form"] for r in truth["sims"]]
    assert forms.count("time") == 2
    conversions = [k for e in exp.sims for k in ("crater_depth_um", "sputter_rate_um_s") if k in e]
    assert sorted(conversions) == ["crater_depth_um", "sputter_rate_um_s"]
    for e in exp.sims:
        assert e["tracer"] == "7Li" and e["depth_scale_err"] == 0.005
        assert truth["inputs"][e["path"].split("/")[-1]]["sha256"]


def test_sputter_time_profiles_convert_back_to_the_scaled_depths(sim_dir):
    exp = read_experiment(sim_dir / "experiment.toml")
    truth = json.loads((sim_dir / "truth" / "truth.json").read_text())
    sim = make_sims_diffusion(seed=2)
    for e, row, prof in zip(exp.sims, truth["sims"], sim["profiles"], strict=True):
        df = read_sims(
            e["path"],
            crater_depth_um=e.get("crater_depth_um"),
            sputter_rate_um_s=e.get("sputter_rate_um_s"),
        )
        expected = prof["depth_true_um"] * row["depth_scale_factor"]
        np.testing.assert_allclose(df["depth_um"], expected, rtol=1e-5)
        if row["depth_form"] == "depth":
            source = "file"
        else:
            source = "crater_depth" if "crater_depth_um" in e else "sputter_rate"
        assert df.attrs["depth_source"] == source
        np.testing.assert_array_equal(df["counts_7Li"], prof["n_tracer"])


def test_counts_follow_the_planted_profile():
    sim = make_sims_diffusion(
        seed=0, anneal_times_s="3600", contamination_depth_um=0.0, counts_per_point=1e4
    )
    p = sim["profiles"][0]
    n = p["n_tracer"] + p["n_other"]
    # total Li counts: Poisson around 1e4 everywhere (no contamination)
    assert abs(n.mean() - 1e4) < 4 * np.sqrt(1e4 / n.size)
    # tracer fraction follows the finite-film solution (binomial noise, χ² test)
    s, h = p["sigma_um"], 0.5
    x = p["depth_true_um"]
    c = 0.5 * (special.erf((h - x) / (np.sqrt(2) * s)) + special.erf((h + x) / (np.sqrt(2) * s)))
    f = 0.05 + (0.999 - 0.05) * c
    z = (p["n_tracer"] / n - f) / np.sqrt(f * (1 - f) / n)
    assert abs(np.mean(z**2) - 1) < 4 * np.sqrt(2 / z.size)
    assert s == pytest.approx(np.sqrt(2 * 1.6e-10 * 3600 / 1e-8 + 0.2**2))


def test_contamination_truth_sets():
    sim = make_sims_diffusion(seed=1)
    for row, p in zip(sim["truth"]["sims"], sim["profiles"], strict=True):
        bad = row["contaminated_points"]
        assert bad and bad == list(range(len(bad)))  # a leading run
        assert all(i > max(bad) for i in row["transition_points"])
        # the oxygen channel rises over the contaminated points
        assert p["oxygen"][bad].min() > 5 * np.median(p["oxygen"][40:])
    clean = make_sims_diffusion(seed=1, contamination_depth_um=0.0)
    assert all(
        not r["contaminated_points"] and not r["transition_points"] for r in clean["truth"]["sims"]
    )


def test_same_seed_same_files_and_bad_parameters(tmp_path):
    a = simulate("sims-diffusion", tmp_path / "a", seed=9, overrides={"anneal_times_s": "600,1200"})
    b = simulate("sims-diffusion", tmp_path / "b", seed=9, overrides={"anneal_times_s": "600,1200"})
    for name in ("sims_0_600s.csv", "sims_1_1200s.csv"):
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes()
    with pytest.raises(InputError, match="anneal_times_s"):
        simulate("sims-diffusion", tmp_path / "c", overrides={"anneal_times_s": "60,-5"})
    with pytest.raises(InputError, match="6Li or 7Li"):
        simulate("sims-diffusion", tmp_path / "d", overrides={"tracer": "8Li"})
    assert not (tmp_path / "c").exists()


def test_6li_tracer_into_natural_li_mg():
    sim = make_sims_diffusion(seed=0, tracer="6Li", D_cm2_s=2.4e-11, anneal_times_s="3600")
    row = sim["truth"]["sims"][0]
    assert row["background_fraction"] == pytest.approx(0.0759)
    assert row["sigma_um"] == pytest.approx(np.sqrt(2 * 2.4e-11 * 3600 / 1e-8 + 0.04))
