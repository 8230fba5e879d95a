"""End to end: simulate → analyze (through files) for the see-through scenarios."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {"size_px": "64", "n_cycles": "2", "li_deposit_s": "30", "n_sites": "6"}


@pytest.fixture(scope="module")
def au(tmp_path_factory):
    root = tmp_path_factory.mktemp("st_au")
    exp = simulate("see-through-au", root / "input", seed=4, overrides=SMALL)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_contract_keys_and_files(au):
    root, s, _ = au
    res = root / "results"
    assert json.loads((res / "summary.json").read_text()) == s
    assert s["scenario"] == "see-through-au"
    for role in ("echem", "movie", "movie.frame_times", "epi"):
        assert len(s["inputs"][role]["sha256"]) == 64
    for st in s["echem"]["stages"]:
        assert {"name", "t_start_s", "t_end_s", "E_mean_V", "x_end"} <= set(st)
    for c in s["echem"]["cycles"]:
        assert {"cycle", "Q_c_C", "Q_a_C", "CE"} <= set(c)
    for a in s["optics"]["alloying"]:
        assert {"step", "t50_s", "onset_map_path"} <= set(a)
        assert (res / a["onset_map_path"]).is_file()
    assert "complementarity_r" in s["optics"]
    for fig in (
        "stages",
        "onset_maps",
        "regional_curves",
        "alloyed_fraction",
        "montage",
        "temporal_color",
        "intensity_curves",
    ):
        assert (res / "figures" / f"{fig}.png").is_file(), fig
    assert s["headline"]


def test_stages_and_x_match_the_truth(au):
    _, s, truth = au
    got, want = s["echem"]["stages"], truth["echem"]["stages"]
    assert [(g["cycle"], g["name"]) for g in got] == [(w["cycle"], w["name"]) for w in want]
    for g, w in zip(got, want, strict=True):
        dur = w["t_end_s"] - w["t_start_s"]
        assert abs(g["t_start_s"] - w["t_start_s"]) <= 0.02 * dur
        assert abs(g["t_end_s"] - w["t_end_s"]) <= 0.02 * dur
        if w["x_end"] > 0.2:
            assert g["x_end"] == pytest.approx(w["x_end"], rel=0.03)
    for g, w in zip(s["echem"]["cycles"], truth["echem"]["cycles"], strict=True):
        assert g["CE"] == pytest.approx(w["CE"], abs=0.01)


def test_onset_maps_and_complementarity_match_the_truth(au):
    root, s, truth = au
    dt = truth["movie"]["frame_interval_nominal_s"]
    for a, w in zip(s["optics"]["alloying"], truth["optics"]["alloying"], strict=True):
        got = tifffile.imread(root / "results" / a["onset_map_path"])
        planted = tifffile.imread(root / "input" / "truth" / w["onset_map_path"])
        assert np.nanmedian(np.abs(got - planted)) <= 1.0 * dt
        assert a["t50_s"] == pytest.approx(w["t50_s"], abs=dt)
    assert s["optics"]["complementarity_r"] == pytest.approx(
        truth["optics"]["complementarity_r"], abs=0.05
    )


def test_sites_pores_and_statistics_match_the_truth(au):
    root, s, truth = au
    assert s["sites"]["count"] == truth["sites"]["count"]
    assert s["sites"]["density_um2"] > 0
    assert [p["count"] for p in s["pores"]] == [p["count"] for p in truth["pores"]]
    assert {"clark_evans_R", "p_value"} <= set(s["spatial"])
    assert 0.5 < s["spatial"]["clark_evans_R"] < 2.2
    for key, r in truth["colocalization"].items():
        if r is not None:
            assert s["colocalization"][key] == pytest.approx(r, abs=0.1), key
    for fig in ("pores_per_cycle", "pearson_heatmap", "sites_spatial", "size_distributions"):
        assert (root / "results" / "figures" / f"{fig}.png").is_file(), fig


def test_record_without_plateaus_says_so(tmp_path, au):
    root, _, _ = au
    t = np.arange(0.0, 200.0, 0.2)
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "time_s": t,
            "potential_V": 1.0 - 0.004 * t + rng.normal(0, 1e-3, t.size),
            "current_A": np.full(t.size, -3.5e-5),
        }
    ).to_csv(tmp_path / "ramp.csv", index=False)
    inp = root / "input"
    (tmp_path / "e.toml").write_text(
        '[experiment]\nscenario = "see-through-au"\n'
        '[electrode]\narea_cm2 = 0.0707\nfilm_metal = "Au"\nfilm_thickness_nm = 14.0\n'
        f'[echem]\npath = "ramp.csv"\n[movie]\npath = "{inp / "trans.tif"}"\n'
        f'mode = "trans"\nframe_times = "{inp / "frame_times.csv"}"\n'
    )
    s = analyze(tmp_path / "e.toml", tmp_path / "out")
    assert s["echem"]["stages"] is None
    assert "no transition" in s["echem"]["stages_reason"]
    assert s["optics"]["alloying"] is None and s["optics"]["alloying_reason"]
    assert s["optics"]["complementarity_r"] is None
    analyses = {k["analysis"] for k in s["skipped"]}
    assert {"echem.stages", "optics.alloying"} <= analyses
    assert "no stages" in s["headline"]
    assert Path(tmp_path / "out" / "figures" / "stages.png").is_file()
