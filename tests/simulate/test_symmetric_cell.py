"""The symmetric-cell simulator: files in real formats that read back to the planted record."""

import json
import tomllib

import numpy as np
import pytest

from platescope.io import read_echem
from platescope.io._echem_eclab_mps import read_eclab_settings
from platescope.simulate._symmetric_cell import make_symmetric_cell, symmetric_cell


def test_files_read_back(tmp_path):
    exp = symmetric_cell(tmp_path / "run", seed=2, n_cycles=3, gitt=True, gitt_pulses=2)
    out = exp.parent
    cfg = tomllib.loads(exp.read_text())
    assert cfg["experiment"]["scenario"] == "symmetric-cell"
    assert cfg["cell"]["current_mA"] == 0.5
    sim = make_symmetric_cell(seed=2, n_cycles=3, gitt=True, gitt_pulses=2)
    df = read_echem(out / cfg["echem"]["path"])
    assert len(df) == len(sim["echem"])
    assert np.allclose(df["potential_V"], sim["echem"]["potential_V"], atol=1e-7)
    assert np.allclose(df["current_A"], sim["echem"]["current_A"], atol=1e-9)
    s = read_eclab_settings(out / cfg["cell"]["settings"])
    gcpl = s["techniques"][0]["sequences"]
    assert [q["current_A"] for q in gcpl] == pytest.approx([-5e-4, 5e-4])
    assert gcpl[0]["duration_s"] == 1800.0 and gcpl[1]["n_cycles"] == 2
    assert len(s["techniques"]) == 2
    truth = json.loads((out / "truth" / "truth.json").read_text())["symmetric_cell"]
    assert len(truth["half_cycles"]) == 6 and len(truth["gitt"]) == 4


def test_planted_shapes_follow_the_cycle():
    sim = make_symmetric_cell(seed=0, n_cycles=6, arcing_from_cycle=3, n_collapses=1)
    classes = [h["shape_class"] for h in sim["truth"]["symmetric_cell"]["half_cycles"]]
    assert classes == ["peaking"] * 6 + ["arcing"] * 6
    shorts = sim["truth"]["symmetric_cell"]["soft_shorts"]
    assert sorted(s["kind"] for s in shorts) == ["collapse", "noise"]
    # a planted collapse holds |η| near zero inside its window
    e = sim["echem"]
    c = next(s for s in shorts if s["kind"] == "collapse")
    m = (e["time_s"] >= c["t_start_s"]) & (e["time_s"] <= c["t_end_s"])
    assert np.abs(e.loc[m, "potential_V"]).median() < 2e-3


def test_too_many_soft_shorts_is_refused():
    from platescope import InputError

    with pytest.raises(InputError, match="at most one per half-cycle"):
        make_symmetric_cell(n_cycles=1, n_collapses=2, n_noise_bursts=1)
