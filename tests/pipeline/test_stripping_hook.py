"""The stripping and chronoamperometry hooks a scenario runner calls."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.models import scharifker_hills_current
from platescope.pipeline._outputs import StagedOutput
from platescope.pipeline._stripping import (
    CHRONOAMPEROMETRY_DEFAULTS,
    STRIPPING_DEFAULTS,
    chronoamperometry_analyses,
    stripping_analyses,
)
from platescope.report import to_jsonable

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem"


def _summary():
    return {"parameters": {}, "skipped": []}


@pytest.fixture(scope="module")
def li_run(tmp_path_factory):
    out = StagedOutput(tmp_path_factory.mktemp("strip") / "res")
    summary = _summary()
    stripping_analyses(1.6e-10, 0.1e-10, out, summary)
    return out, summary


def test_paper_li_gives_the_quoted_band_and_k2_error(li_run):
    _, s = li_run
    assert 50.0 <= s["i_crit_uA_cm2"] <= 200.0 * (1 + 1e-9)
    # 1σ of i from D is i·σ_D/(2D); summary holds k = 2
    assert s["i_crit_err_uA_cm2"] == pytest.approx(2 * s["i_crit_uA_cm2"] * 0.1 / 1.6 / 2)
    st = s["stripping"]
    assert st["D_err_cm2_s"] == pytest.approx(2 * 0.1e-10)
    assert st["constant"]["value"] > 0 and st["assumptions"]
    assert s["parameters"]["stripping"] == STRIPPING_DEFAULTS
    json.dumps(to_jsonable(s), allow_nan=False)  # the runner's serialisation succeeds


def test_tables_and_figures_are_written(li_run):
    out, s = li_run
    names = {Path(f["rel"]).stem for f in out.figures}
    assert {"stripping_i_crit", "stripping_sand", "stripping_void_model"} <= names
    for f in out.figures:
        assert Path(f["path"]).stat().st_size > 10_000
    sand = pd.read_csv(out.root / s["stripping"]["sand"]["table"])
    void = pd.read_csv(out.root / s["stripping"]["void_model"]["table"])
    assert {"j_mA_cm2", "t_star_s", "Q_star_mAh_cm2"} <= set(sand.columns)
    assert set(void["material"]) == {"measured D", "Li metal", "Li0.9Mg0.1"}
    # Sand capacity of Li at 1 mA/cm²: πD(Fc)²/(4j), c = 1/13 mol/cm³ — computed here
    q = np.pi * 1.6e-10 * (96485.33212 / 13.0) ** 2 / (4 * 1e-3) / 3.6
    at1 = [r for r in s["stripping"]["sand"]["at"] if r["j_mA_cm2"] == 1.0][0]
    assert at1["Q_star_mAh_cm2"] == pytest.approx(q)


def test_paper_materials_crossover_is_reported(li_run):
    _, s = li_run
    vm = s["stripping"]["void_model"]
    assert vm["paper_materials_ratio_LiMg_over_Li_at"]["0.1"] > 4
    assert vm["paper_materials_ratio_LiMg_over_Li_at"]["1"] < 1
    assert 0.1 < vm["paper_materials_crossover_j_mA_cm2"] < 1.0


def test_overrides_and_alloy_concentration(tmp_path):
    out = StagedOutput(tmp_path / "r")
    s = _summary()
    stripping_analyses(
        2.4e-11, None, out, s, params={"x_mg": 0.1, "void_morphology": "li_mg", "n_currents": 5}
    )
    assert s["stripping"]["c_Li_mol_cm3"] == pytest.approx(0.9 / 13.0)
    assert s["i_crit_err_uA_cm2"] is None and 50 <= s["i_crit_uA_cm2"] <= 200
    assert s["parameters"]["stripping"]["x_mg"] == 0.1


def test_unknown_key_names_it_and_the_fix(tmp_path):
    with pytest.raises(InputError, match=r"analysis\.stripping.*bogus.*Fix: use only"):
        stripping_analyses(
            1e-10, None, StagedOutput(tmp_path / "r"), _summary(), params={"bogus": 1}
        )


def test_bad_value_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="void_morphology"):
        stripping_analyses(
            1e-10, None, StagedOutput(tmp_path / "r"), _summary(), params={"void_morphology": "x"}
        )


def test_missing_D_is_null_with_reason(tmp_path):
    s = _summary()
    stripping_analyses(float("nan"), None, StagedOutput(tmp_path / "r"), s)
    assert s["i_crit_uA_cm2"] is None and "reason" in s["stripping"]
    assert s["skipped"][0]["analysis"] == "stripping"


# --------------------------------------------------------------------------- CA
def _planted_ca(mech="instantaneous", I_m=-2e-4, t_m=1.5, seed=0):
    rng = np.random.default_rng(seed)
    t = np.r_[0.0, np.linspace(0.01, 8.0, 400)]
    i = scharifker_hills_current(t, I_m_A=I_m, t_m_s=t_m, mechanism=mech)
    i += 3 * I_m * np.exp(-t / 0.03) + 0.01 * abs(I_m) * rng.standard_normal(t.size)
    i[0] = 0.0
    E = np.r_[0.3, np.full(t.size - 1, -0.1)]  # step from 0.3 V to −0.1 V after t = 0
    df = pd.DataFrame({"time_s": t, "potential_V": E, "current_A": i})
    df.attrs["source"] = "planted.csv"
    return df


@pytest.mark.parametrize("mech", ["instantaneous", "progressive"])
def test_ca_hook_finds_the_planted_transient(tmp_path, mech):
    s = _summary()
    out = StagedOutput(tmp_path / "r")
    chronoamperometry_analyses(
        _planted_ca(mech),
        out,
        s,
        params={"area_cm2": 0.1, "concentration_mol_cm3": 1e-3},
    )
    sh = s["echem"]["scharifker_hills"]
    assert sh["n_nucleation_transients"] == 1
    step = next(r for r in sh["steps"] if r["nucleation_transient"])
    assert step["mechanism"] == mech and step["t_step_s"] == 0.0
    assert step["I_m_A"] == pytest.approx(-2e-4, rel=0.02)
    assert step["t_m_s"] == pytest.approx(1.5, rel=0.03)
    assert step["D_cm2_s"] > 0 and step["D_err_cm2_s"] > 0
    assert ("N0_cm2" in step) == (mech == "instantaneous")
    assert any(Path(f["rel"]).stem == "scharifker_hills" for f in out.figures)
    json.dumps(to_jsonable(s), allow_nan=False)


def test_ca_hook_without_concentration_gives_null_D_with_reason(tmp_path):
    s = _summary()
    chronoamperometry_analyses(_planted_ca(), StagedOutput(tmp_path / "r"), s)
    step = next(r for r in s["echem"]["scharifker_hills"]["steps"] if r["nucleation_transient"])
    assert step["D_cm2_s"] is None and "concentration" in step["D_cm2_s_reason"]
    assert s["parameters"]["chronoamperometry"] == CHRONOAMPEROMETRY_DEFAULTS


@pytest.mark.parametrize(
    "rel", ["unitpackage/eclab_ca.mpt", "yadg/ca.issue_149.mpt", "yadg/ca.issue_149.mpr"]
)
def test_ca_hook_on_real_files_says_no_transient(tmp_path, rel):
    path = DATA / rel
    if not path.is_file():
        pytest.skip(f"{path} absent")
    from platescope.io import read_echem

    s = _summary()
    out = StagedOutput(tmp_path / "r")
    chronoamperometry_analyses(read_echem(path), out, s)
    sh = s["echem"]["scharifker_hills"]
    assert sh["n_steps"] >= 1 and sh["n_nucleation_transients"] == 0
    assert "not a nucleation transient" in sh["reason"]
    assert all(r["I_m_A"] is None and r["reason"] for r in sh["steps"])
    assert any(Path(f["rel"]).stem == "scharifker_hills" for f in out.figures)


def test_ca_hook_missing_column_names_the_file_and_fix(tmp_path):
    df = pd.DataFrame({"time_s": [0.0, 1.0]})
    df.attrs["source"] = "broken.mpt"
    with pytest.raises(InputError, match=r"broken\.mpt.*current_A.*Fix"):
        chronoamperometry_analyses(df, StagedOutput(tmp_path / "r"), _summary())
