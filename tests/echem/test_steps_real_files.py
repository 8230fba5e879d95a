"""Real instrument files: step kinds, complete cycles, charges and nucleation against facts
computed without platescope (the raw columns read by galvani or pandas, integrated with numpy,
and counts made by hand from plots of each file). Skips when ../shared/data is absent.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.echem import cycle_charges, nucleation_by_step, split_steps
from platescope.io import read_echem

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
LILI = "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_01_GCPL_C05.mpr"


def _raw_mpt(rel: str) -> pd.DataFrame:
    """The data table of an EC-Lab .mpt, read with pandas alone (header length from line 2)."""
    path = DATA / rel
    lines = path.read_bytes().decode("latin-1").splitlines()
    n_header = int(lines[1].split(":")[1])
    text = "\n".join(lines[n_header - 1 :])
    from io import StringIO

    decimal = "," if "," in lines[n_header] else "."
    return pd.read_csv(StringIO(text), sep="\t", decimal=decimal).rename(columns=str.strip)


def _raw_mpr(rel: str):
    galvani = pytest.importorskip("galvani")
    with open(DATA / rel, "rb") as fh:
        return galvani.BioLogic.MPRfile(fh)


def _read(rel: str):
    if rel.endswith(".mpr"):
        pytest.importorskip("galvani")
    return read_echem(DATA / rel)


# ----------------------------------------------------------------------------- steps
def test_impedance_blocks_are_never_charge_nor_cycles():
    """cellpy/biol.mpr: a Modulo Bat of rests, PEIS blocks and anodic constant-current steps."""
    mpr = _raw_mpr("cellpy/biol.mpr")
    freq = np.asarray(mpr.data["freq/Hz"], float)
    df = _read("cellpy/biol.mpr")
    steps = split_steps(df)
    imp = steps[steps["kind"] == "impedance"]
    assert imp["n_samples"].sum() == int((freq > 0).sum())  # 310 impedance rows in the file
    assert (imp["Q_C"] == 0).all()
    galv = steps[steps["kind"] == "galvanostatic"]
    # every constant-current step of the file runs at +0.325 mA (I/mA column, by hand)
    assert (galv["direction"] == "anodic").all() and len(galv) >= 3
    # no plating half: no cycle at all (0.1 made 56 "cycles" of AC points)
    with pytest.raises(InputError, match="no cycles"):
        cycle_charges(df)
    rows, _ = nucleation_by_step(df)
    assert rows == []


def test_li_li_rest_then_current_has_no_plating_step_on_the_working_electrode():
    """datalab Li‖Li: 300 s open circuit, then +0.4 mA (the working electrode is stripped)."""
    mpr = _raw_mpr(LILI)
    t = np.asarray(mpr.data["time/s"], float)
    dq = np.asarray(mpr.data["dq/mA.h"], float)
    n_rest = int(np.sum(t < 299.9999))  # samples before the current is switched on
    assert np.all(dq[1:n_rest] == 0)
    df = _read(LILI)
    steps = split_steps(df)
    assert steps["kind"].tolist() == ["rest", "galvanostatic"]
    assert steps["direction"].tolist() == [None, "anodic"]
    assert steps["n_samples"].iloc[0] == n_rest
    rows, _ = nucleation_by_step(df)
    assert rows == []  # no E_nuc inside the rest (0.1 reported −9.6 mV at t = 290 s)
    # the counter electrode, flipped explicitly, is plated; its 0.25-s overshoot (peak at
    # 298 mV in the file, by hand) is resolved by too few samples for a vertex fit
    flipped = df.assign(potential_V=-df["potential_V"], current_A=-df["current_A"])
    rows, _ = nucleation_by_step(flipped)
    assert len(rows) == 1 and rows[0]["nucleated"] is False and "sample" in rows[0]["reason"]
    assert rows[0]["E_nuc_V"] is None


@pytest.mark.parametrize(
    ("rel", "kinds"),
    [
        ("yadg/ocv.issue_149.mpt", {"rest"}),
        ("yadg/ca.issue_149.mpt", {"potentiostatic"}),
        ("unitpackage/eclab_ca.mpt", {"potentiostatic"}),
        ("yadg/lsv.mpr", {"sweep"}),
        ("yadg/cp.issue_61.mpr", {"galvanostatic"}),
        ("yadg/mb.issue_223.mpt", {"rest", "impedance"}),
    ],
)
def test_step_kinds_of_single_technique_files(rel, kinds):
    steps = split_steps(_read(rel))
    assert set(steps["kind"]) == kinds


def test_multi_level_chronopotentiometry_is_one_step_per_level():
    """yadg/cp.issue_61.mpr: 11 constant-current levels (0.25 … 4.5 A, `Ns` 0–10)."""
    mpr = _raw_mpr("yadg/cp.issue_61.mpr")
    ns = np.asarray(mpr.data["Ns"])
    steps = split_steps(_read("yadg/cp.issue_61.mpr"))
    assert len(steps) == np.unique(ns).size == 11
    assert (steps["kind"] == "galvanostatic").all()


# ----------------------------------------------------------------------------- cycles
def test_gcpl_starting_anodic_pairs_plating_then_stripping():
    """yadg/gcpl.issue_211: ±68 µA, first half anodic, nine half cycles after it.

    EC-Lab's half-cycle numbering starts with the anodic half, which made 0.1 give 5
    cycles (CE₁ 1.077) in irm-cv and 4 (CE₁ 1.008) in dendrite-cycling. Plating→stripping
    pairs in time order: 4 complete cycles and a trailing plating half.
    """
    mpr = _raw_mpr("yadg/gcpl.issue_211.mpr")
    t = np.asarray(mpr.data["time/s"], float)
    dq = np.asarray(mpr.data["dq/mA.h"], float) * 3.6  # C per sample
    half = np.asarray(mpr.data["half cycle"])
    # independent charges: |Σ dq| per EC-Lab half cycle (0 anodic, 1 cathodic, 2 anodic …)
    q = np.array([abs(dq[half == h].sum()) for h in range(10)])
    cc = cycle_charges(_read("yadg/gcpl.issue_211.mpr"))
    assert cc["complete"].tolist() == [True, True, True, True, False]
    np.testing.assert_allclose(cc["Q_c_C"].iloc[:4], q[[1, 3, 5, 7]], rtol=0.01)
    np.testing.assert_allclose(cc["Q_a_C"].iloc[:4], q[[2, 4, 6, 8]], rtol=0.01)
    np.testing.assert_allclose(cc["CE"].iloc[:4], q[[2, 4, 6, 8]] / q[[1, 3, 5, 7]], rtol=0.01)
    assert cc["Q_c_C"].iloc[4] == pytest.approx(q[9], rel=0.01)
    assert np.isnan(cc["CE"].iloc[4])
    assert t[half == 0][-1] < cc["t_start_s"].iloc[0] + 1  # the leading anodic half is no cycle


def test_cv_stub_last_cycle_is_incomplete():
    """ixdat/Pt_poly_cv.mpt: five down- and five up-sweeps; the last up-sweep stops at 0.19 V."""
    raw = _raw_mpt("ixdat/Pt_poly_cv.mpt")
    e = raw["Ewe/V"].to_numpy(float)
    assert e[-1] < 0.2 and e.max() > 1.69  # the stub (by hand from the raw column)
    cc = cycle_charges(_read("ixdat/Pt_poly_cv.mpt"))
    assert cc["complete"].tolist() == [True, True, True, True, False]
    assert "stops mid-sweep" in cc["incomplete_reason"].iloc[-1]


def test_stability_cv_ce_is_refused():
    """yadg/cv.mpt: a 1.5–5.5 V electrolyte-stability CV; 0.1 reported "CE 68 885"."""
    raw = _raw_mpt("yadg/cv.mpt")
    assert raw["Ewe/V"].min() > 1.49
    cc = cycle_charges(_read("yadg/cv.mpt"))
    codes = {w["code"] for w in cc.attrs["warnings"]}
    assert "not-plating-record" in codes
    assert not np.any(cc["CE"].to_numpy(float) > 1.5)  # never the absurd ratio


def test_positive_electrode_is_paired_charge_then_discharge():
    """navani: an NMC-type cathode cycled 2.0–3.8 V (first a partial discharge from 2.5 V)."""
    df = _read("navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr")
    cc = cycle_charges(df)
    assert cc.attrs["first_half"] == "anodic"
    assert "ce-positive-electrode" in {w["code"] for w in cc.attrs["warnings"]}
    done = cc[cc["complete"]]
    assert len(done) >= 5
    # discharge/charge below 1 for a real cathode (0.1 gave Q_a/Q_c > 1, inverted)
    assert ((done["CE"] > 0.8) & (done["CE"] < 1.0)).all()
    np.testing.assert_allclose(done["CE"], done["Q_c_C"] / done["Q_a_C"], rtol=1e-12)


def test_truncated_gamry_file_is_said_so():
    """unitpackage/gamry_cv.DTA declares 3 597 points and holds 81."""
    text = (DATA / "unitpackage/gamry_cv.DTA").read_bytes().decode("latin-1")
    assert "3597" in text
    cc = cycle_charges(_read("unitpackage/gamry_cv.DTA"))
    assert "truncated-file" in {w["code"] for w in cc.attrs["warnings"]}
    assert not cc["complete"].any()


@pytest.mark.parametrize(
    "rel",
    [
        "navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr",
        "yadg/gcpl.issue_211.mpr",
        "ixdat/Pt_poly_cv.mpt",
        "yadg/gcpl.issue_149.mpt",
        LILI,
    ],
)
def test_signals_alone_find_the_instruments_steps(rel):
    """Without the mode/Ns/ox-red columns (a CSV export), the steps from the signals match
    the ones the instrument's own columns give."""
    df = _read(rel)
    by_instrument = split_steps(df)
    bare = df[["time_s", "potential_V", "current_A"]].copy()
    bare.attrs = dict(df.attrs)
    by_signal = split_steps(bare)
    assert by_instrument["source"].iloc[0] == "instrument"
    assert by_signal["source"].iloc[0] == "signal"
    assert by_signal["kind"].tolist() == by_instrument["kind"].tolist()
    assert by_signal["direction"].tolist() == by_instrument["direction"].tolist()
    np.testing.assert_allclose(by_signal["t_start_s"], by_instrument["t_start_s"], atol=1.0)


def test_galvanostatic_cycles_have_no_cv_features():
    """yadg/gcpl.issue_211 is galvanostatic: an 'onset potential' there would be invented."""
    from platescope.echem import cv_features

    df = _read("yadg/gcpl.issue_211.mpr")
    f = cv_features(df)
    assert f["E_onset_c_V"].isna().all() and f["E_peak_a_V"].isna().all()
    assert f["reason"].str.contains("no potential sweep").all()
    assert f["t_switch_s"].notna().iloc[:4].all()
