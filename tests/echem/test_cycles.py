"""Per-cycle charges / CE and CV features against planted truth, invariants and real files."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platescope import InputError
from platescope.echem import cv_features, cycle_charges

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem"


# --------------------------------------------------------------------------- synthetic CV
def _cv(n_cycles=3, dt=0.01, noise_A=0.0, seed=0, q_strip=(0.3e-9, 0.5e-9, 0.6e-9)):
    """Triangle CV 1.47 → −0.27 V at 0.1 V/s with Gaussian peaks of known charge.

    Cathodic: a Gaussian in time on the down sweep centred at E = 0.2 V (charge 1 nC);
    anodic: a Gaussian on the up sweep at E = 0.3 V (charge q_strip[n]).
    """
    period = 2 * 1.74 / 0.1
    t = np.arange(0, n_cycles * period + dt / 2, dt)
    ph = np.mod(t, period)
    e = np.where(ph < period / 2, 1.47 - 0.1 * ph, -0.27 + 0.1 * (ph - period / 2))
    i = np.zeros_like(t)
    sd = 0.5  # s
    for n in range(n_cycles):
        tc = n * period + (1.47 - 0.2) / 0.1
        ta = n * period + period / 2 + (0.3 + 0.27) / 0.1
        i -= 1e-9 * np.exp(-0.5 * ((t - tc) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        i += q_strip[n] * np.exp(-0.5 * ((t - ta) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"time_s": t, "potential_V": e, "current_A": i + rng.normal(0, noise_A, t.size)}
    )
    df.attrs["source"] = "synthetic.csv"
    return df, period


def test_cv_turning_points_recover_planted_charges():
    df, period = _cv()
    cc = cycle_charges(df)
    assert cc.attrs["method"] == "steps paired in time order"
    assert list(cc.columns[:6]) == ["cycle", "t_start_s", "t_end_s", "Q_c_C", "Q_a_C", "CE"]
    assert cc["cycle"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(cc["t_end_s"], period * np.arange(1, 4), atol=0.011)
    np.testing.assert_allclose(cc["Q_c_C"], 1e-9, rtol=1e-5)
    np.testing.assert_allclose(cc["Q_a_C"], [0.3e-9, 0.5e-9, 0.6e-9], rtol=1e-5)
    np.testing.assert_allclose(cc["CE"], [0.3, 0.5, 0.6], rtol=1e-5)


def test_cycle_column_and_turning_points_agree():
    df, period = _cv()
    df["cycle"] = np.minimum(np.ceil(df["time_s"] / period - 1e-9), 3).clip(1).astype(int)
    a = cycle_charges(df, by="cycle")
    b = cycle_charges(df, by="potential")
    c = cycle_charges(df)  # steps paired in time order: the same cycles here
    assert a.attrs["method"] == "cycle column"
    np.testing.assert_allclose(a["Q_c_C"], b["Q_c_C"], rtol=1e-6)
    np.testing.assert_allclose(a["CE"], b["CE"], rtol=1e-6)
    np.testing.assert_allclose(c["Q_c_C"], b["Q_c_C"], rtol=1e-6)
    np.testing.assert_allclose(c["CE"], b["CE"], rtol=1e-6)


def test_instrument_numbering_does_not_change_the_pairing():
    """EC-Lab may start a cycle with the anodic half; cycles are plating→stripping anyway."""
    df, period = _cv()
    # number the cycles from the lower vertex (anodic half first), as some writers do
    shifted = np.floor((df["time_s"] + period / 2) / period).astype(int)
    df["cycle"] = shifted
    c = cycle_charges(df)
    np.testing.assert_allclose(c["CE"], [0.3, 0.5, 0.6], atol=0.01)
    assert c["complete"].all()


def test_noise_errors_cover_the_truth():
    """2σ intervals cover the planted CE in ~95 % of noisy records."""
    hits = []
    for seed in range(40):
        df, _ = _cv(noise_A=5e-12, seed=seed)
        cc = cycle_charges(df, by="potential")
        hits.extend(np.abs(cc["CE"] - [0.3, 0.5, 0.6]) <= 2 * cc["CE_err"])
    assert 0.88 <= np.mean(hits) <= 1.0


def test_cv_features_recover_planted_onset_and_peak():
    # linear plating ramp below −0.13 V on the down sweep (onset at 10 % of the vertex
    # current: −0.13 − 0.1·0.14 = −0.144 V) and a Gaussian anodic peak at +0.18 V
    period = 34.8
    t = np.arange(0, 2 * period, 0.01)
    ph = np.mod(t, period)
    down = ph < period / 2
    e = np.where(down, 1.47 - 0.1 * ph, -0.27 + 0.1 * (ph - period / 2))
    i = np.where(down, -1e-9 * np.clip(-0.13 - e, 0, None) / 0.14, 0.0)
    i = i + np.where(~down, 0.6e-9 * np.exp(-0.5 * ((e - 0.18) / 0.04) ** 2), 0.0)
    i = i + np.where(~down, 0.2e-9 * np.exp(-0.5 * ((e - 0.8) / 0.05) ** 2), 0.0)
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"time_s": t, "potential_V": e, "current_A": i + rng.normal(0, 2e-12, t.size)}
    )
    f = cv_features(df)
    assert len(f) == 2
    np.testing.assert_allclose(f["E_onset_c_V"], -0.144, atol=0.002)
    np.testing.assert_allclose(f["E_peak_a_V"], 0.18, atol=0.002)
    assert all(len(p) == 2 for p in f["E_peaks_a_V"])  # both anodic peaks found
    assert (f["E_onset_c_err_V"] < 0.002).all() and (f["E_peak_a_err_V"] < 0.002).all()
    # the switch: the plating (down sweep) ends at the lower vertex, stripping starts after
    np.testing.assert_allclose(f["t_switch_s"], [17.4, 17.4 + period], atol=0.3)


# --------------------------------------------------------------------------- galvanostatic
def _galv(pattern, *, dt=1.0, cycle_col=None):
    """Piecewise-constant current from (current_A, duration_s) segments."""
    cur = np.concatenate([np.full(int(round(d / dt)), c) for c, d in pattern])
    t = np.arange(cur.size) * dt
    df = pd.DataFrame(
        {"time_s": t, "potential_V": np.where(cur < 0, -0.02, 0.05), "current_A": cur}
    )
    if cycle_col is not None:
        df["cycle"] = cycle_col
    df.attrs["source"] = "gcpl.csv"
    return df


def test_galvanostatic_cycles_from_current_sign():
    # rest, 3 × (plate 100 s at 1 nA, rest 10 s, strip 80 s at 1 nA, rest 10 s)
    pattern = [(0.0, 20)]
    for strip in (60, 80, 90):
        pattern += [(-1e-9, 100), (0.0, 10), (1e-9, strip), (0.0, 10)]
    df = _galv(pattern, dt=0.5)
    cc = cycle_charges(df)
    assert cc.attrs["method"] == "steps paired in time order"
    assert len(cc) == 3
    # the edges of each segment are linear ramps between samples: ± half a sample of charge
    np.testing.assert_allclose(cc["Q_c_C"], 100e-9, atol=0.5e-9)
    np.testing.assert_allclose(cc["Q_a_C"], [60e-9, 80e-9, 90e-9], atol=0.5e-9)
    np.testing.assert_allclose(cc["CE"], [0.6, 0.8, 0.9], atol=0.01)


def test_galvanostatic_drops_incomplete_segments():
    pattern = [(2e-9, 30), (-1e-9, 100), (1e-9, 50), (-1e-9, 100), (1e-9, 70), (-1e-9, 40)]
    cc = cycle_charges(_galv(pattern))
    # the leading anodic segment is no cycle; the trailing plating is an incomplete cycle
    assert len(cc) == 3 and cc["complete"].tolist() == [True, True, False]
    reasons = [d["reason"] for d in cc.attrs["dropped"]]
    assert any("no cathodic half before" in r for r in reasons)
    assert "ends before the anodic half" in cc["incomplete_reason"].iloc[2]
    assert np.isnan(cc["CE"].iloc[2])
    np.testing.assert_allclose(cc["CE"].iloc[:2], [0.5, 0.7], atol=0.02)


def test_single_valued_cycle_column_falls_back_to_current():
    """A writer that fills ``cycle number`` with 0 must not hide galvanostatic cycles."""
    pattern = [(-1e-9, 100), (1e-9, 50), (-1e-9, 100), (1e-9, 70)]
    df = _galv(pattern, cycle_col=0)
    cc = cycle_charges(df)
    assert cc.attrs["method"] == "steps paired in time order" and len(cc) == 2


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=10, max_size=200),
    st.integers(1, 4),
)
def test_cycles_tile_the_record(values, n_cyc):
    """Σ(Q_a − Q_c) over cycles = ∫I dt of the whole record (cycle column covering it)."""
    i = np.asarray(values) * 1e-9
    t = np.cumsum(np.full(i.size, 0.1))
    cyc = np.sort(np.arange(i.size) % n_cyc) + 1
    df = pd.DataFrame({"time_s": t, "potential_V": 0.0, "current_A": i, "cycle": cyc})
    cc = cycle_charges(df, by="cycle")
    total = np.trapezoid(i, t)
    assert np.isclose((cc["Q_a_C"] - cc["Q_c_C"]).sum(), total, rtol=1e-9, atol=1e-20)
    assert (cc["Q_c_C"] >= 0).all() and (cc["Q_a_C"] >= 0).all()


# --------------------------------------------------------------------------- bad input
def test_too_short_record_names_file_and_fix():
    df = pd.DataFrame({"time_s": [0.0, 1.0], "potential_V": [0.1, 0.2], "current_A": [-1e-9, 1e-9]})
    df.attrs["source"] = "short.mpt"
    with pytest.raises(InputError) as err:
        cycle_charges(df)
    assert "short.mpt" in str(err.value) and "at least" in err.value.fix


def test_record_without_cycles_is_refused():
    t = np.arange(100.0)
    df = pd.DataFrame({"time_s": t, "potential_V": 0.1, "current_A": -1e-9})
    df.attrs["source"] = "ca.mpt"
    only = cycle_charges(df)  # plating only: one cycle, incomplete, no CE
    assert len(only) == 1 and not only["complete"].iloc[0] and np.isnan(only["CE"].iloc[0])
    np.testing.assert_allclose(only["Q_c_C"], 99e-9, rtol=1e-9)
    rest = df.assign(current_A=0.0)
    with pytest.raises(InputError) as err:
        cycle_charges(rest)
    assert "ca.mpt" in str(err.value) and "no cycles" in err.value.problem
    with pytest.raises(InputError, match="no CV cycle"):
        cycle_charges(df, by="potential")
    with pytest.raises(InputError, match="never goes from cathodic"):
        cycle_charges(df, by="current")


def test_missing_columns_and_bad_option():
    df = pd.DataFrame({"time_s": np.arange(10.0), "current_A": 0.0})
    with pytest.raises(InputError, match="potential_V"):
        cycle_charges(df)
    df, _ = _cv(n_cycles=1)
    with pytest.raises(InputError, match="by must be"):
        cycle_charges(df, by="bogus")


# --------------------------------------------------------------------------- real files
def _read(rel):
    from platescope.io import read_echem

    p = DATA / rel
    if not p.is_file():
        pytest.skip(f"real data not available: {p}")
    return read_echem(p)


def _independent(df, cc):
    """Per-cycle trapezoid integrals of the clipped current (sample-based windows)."""
    t, i = df["time_s"].to_numpy(), df["current_A"].to_numpy()
    out = []
    for _, c in cc.iterrows():
        sel = (t >= c["t_start_s"]) & (t <= c["t_end_s"])
        out.append(
            (
                np.trapezoid(np.clip(-i[sel], 0, None), t[sel]),
                np.trapezoid(np.clip(i[sel], 0, None), t[sel]),
            )
        )
    return np.array(out)


@pytest.mark.parametrize(
    ("rel", "n"),
    [
        ("yadg/cv.mpt", 2),
        ("yadg/cv.mpr", 2),
        ("ixdat/Pt_poly_cv.mpt", 5),
        ("ixdat/zilien_v1_full_set_01_02_CVA_DUSB0_C01.mpt", 2),
    ],
)
def test_real_cv_files(rel, n):
    df = _read(rel)
    cc = cycle_charges(df)
    assert len(cc) == n == df["cycle"].nunique()
    ind = _independent(df, cc)
    # clipping before the trapezoid differs from the exact split only at zero crossings
    np.testing.assert_allclose(cc["Q_c_C"], ind[:, 0], rtol=0.02, atol=1e-3 * cc["Q_c_C"].max())
    np.testing.assert_allclose(cc["Q_a_C"], ind[:, 1], rtol=0.02, atol=1e-3 * cc["Q_a_C"].max())
    if "charge_C" in df:  # the instrument's own charge counter: net charge per cycle
        # (it integrates at the instrument's rate; the file keeps 50-point averages with
        # gaps up to 4 min in yadg/cv, so the trapezoid may differ by a few %)
        q = df["charge_C"].to_numpy()
        tq = df["time_s"].to_numpy()
        d = np.interp(cc["t_end_s"], tq, q) - np.interp(cc["t_start_s"], tq, q)
        net = cc["Q_a_C"] - cc["Q_c_C"]
        np.testing.assert_allclose(net, d, rtol=0.05, atol=0.01 * np.abs(net).max())
    f = cv_features(df, cycles=cc)
    assert len(f) == n
    # each cycle either has an onset inside the swept range or says why not
    lo, hi = df["potential_V"].min(), df["potential_V"].max()
    for _, row in f.iterrows():
        assert (lo <= row["E_onset_c_V"] <= hi) or row["reason"]


def test_real_pt_cv_without_cycle_column_uses_turning_points():
    df = _read("ixdat/Pt_poly_cv.mpt").drop(columns=["cycle"])
    cc = cycle_charges(df)
    assert cc.attrs["method"] == "steps paired in time order"
    e = df["potential_V"].to_numpy()
    t = df["time_s"].to_numpy()
    # every complete cycle holds exactly one lower and one upper vertex region
    for _, c in cc.iterrows():
        sel = (t >= c["t_start_s"]) & (t <= c["t_end_s"])
        assert np.ptp(e[sel]) > 0.9 * np.ptp(e)
    assert 3 <= len(cc) <= 5


@pytest.mark.parametrize(
    "rel",
    ["yadg/gcpl.issue_211.mpr", "navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"],
)
def test_real_galvanostatic_cycling_without_cycle_column(rel):
    df = _read(rel).drop(columns=["cycle"])
    cc = cycle_charges(df)
    assert cc.attrs["method"] == "steps paired in time order" and len(cc) >= 3
    t, i = df["time_s"].to_numpy(), df["current_A"].to_numpy()
    # a Li plating record opens each cycle with plating; a positive electrode (never below
    # 1.5 V: the navani cell cycles 2–3.8 V) with charge
    opens = -1 if df["potential_V"].min() < 1.5 else 1
    assert cc.attrs["first_half"] == ("cathodic" if opens < 0 else "anodic")
    for _, c in cc.iterrows():
        # (t_start_s is the last sample of the previous piece: the boundary interval
        # belongs to the cycle)
        sel = (t > c["t_start_s"]) & (t <= c["t_end_s"])
        s = np.sign(i[sel][np.abs(i[sel]) > 0.05 * np.abs(i).max()])
        if c["complete"]:
            # a complete cycle holds exactly one opening then one closing segment
            assert s[0] == opens and s[-1] == -opens and np.count_nonzero(np.diff(s)) == 1
        else:
            # only the record's last cycle may be incomplete, and it is missing its closing half
            assert c["cycle"] == cc["cycle"].max() and (s == opens).all()
    ind = _independent(df, cc)
    np.testing.assert_allclose(cc["Q_c_C"], ind[:, 0], rtol=0.01)
    np.testing.assert_allclose(cc["Q_a_C"], ind[:, 1], rtol=0.01, atol=1e-6 * ind.max())
