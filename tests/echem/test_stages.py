"""Stage segmentation of galvanostatic alloying records."""

import math

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.echem import find_stages, half_cycles, host_moles, li_content
from platescope.models import FARADAY_C_MOL
from platescope.simulate import make_see_through


def _plateaus(levels, bounds_s, *, t_end, width_s=1.0, dt=0.2, noise=0.0, seed=0, i=-3.5e-5):
    """A hand-built one-half-cycle record: logistic steps between plateau levels."""
    t = np.arange(0.0, t_end + 1e-9, dt)
    e = np.full(t.size, levels[0])
    for k, b in enumerate(bounds_s):
        e += (levels[k + 1] - levels[k]) / (1 + np.exp(-(t - b) / width_s))
    e += np.random.default_rng(seed).normal(0, noise, t.size)
    return pd.DataFrame({"time_s": t, "potential_V": e, "current_A": np.full(t.size, i)})


def test_independent_record_boundaries_and_names():
    df = _plateaus([0.6, 0.14, 0.07, -0.01], [10.0, 50.0, 80.0], t_end=140.0, noise=1e-3)
    r = find_stages(df)
    assert r["found"] and r["reason"] is None
    names = [s["name"] for s in r["stages"]]
    assert names == ["SEI", "alloying 1", "alloying 2", "Li metal"]
    ends = [s["t_end_s"] for s in r["stages"][:3]]
    np.testing.assert_allclose(ends, [10.0, 50.0, 80.0], atol=0.2)
    for s in r["stages"][:3]:
        # the stated 1σ error is small and covers the actual error within 4σ
        assert s["t_end_s_err"] < 0.3
        assert abs(s["t_end_s"] - round(s["t_end_s"] / 10) * 10) < 4 * s["t_end_s_err"] + 0.05
    assert r["stages"][1]["E_mean_V"] == pytest.approx(0.14, abs=0.01)


def test_x_from_charge_and_host_moles():
    area, h = 0.0707, 14.0
    n = host_moles("Au", h, area)
    assert n == pytest.approx(19.3 * h * 1e-7 * area / 196.97)
    i = 3.5e-5
    t1 = 1.53 * FARADAY_C_MOL * n / i + 10.0  # end of step 1 after a 10 s SEI
    df = _plateaus([0.6, 0.14, -0.01], [10.0, t1], t_end=t1 + 40, i=-i)
    r = find_stages(df, n_host_mol=n)
    st = {s["name"]: s for s in r["stages"]}
    assert st["alloying 1"]["x_end"] == pytest.approx(1.53, rel=0.01)
    assert st["SEI"]["x_end"] == pytest.approx(0.0, abs=1e-12)
    x = li_content(df, n_host_mol=n, q_sei_C=10.0 * i)
    t_last = float(df["time_s"].iloc[-1])
    assert x[-1] == pytest.approx((t_last - 10.0) * i / (FARADAY_C_MOL * n), rel=1e-9)
    with pytest.raises(ValueError, match="molar"):
        host_moles("Cu", 10, 1)


def test_no_plateau_says_so_and_invents_nothing():
    t = np.arange(0, 200, 0.2)
    df = pd.DataFrame(
        {
            "time_s": t,
            "potential_V": 1.0 - 0.004 * t + np.random.default_rng(1).normal(0, 1e-3, t.size),
            "current_A": np.full(t.size, -1e-5),
        }
    )
    r = find_stages(df)
    assert not r["found"]
    assert r["stages"] == []
    assert "no transition" in r["reason"]
    assert r["half_cycles"][0]["found"] is False


def test_half_cycles_of_a_cycling_record():
    t = np.arange(0, 300, 0.5)
    i = np.where(t < 100, -1e-5, np.where(t < 180, 1e-5, -1e-5))
    df = pd.DataFrame({"time_s": t, "potential_V": 0 * t, "current_A": i})
    h = half_cycles(df)
    assert h[["cycle", "half"]].values.tolist() == [[1, "cathodic"], [1, "anodic"], [2, "cathodic"]]
    assert h["t_start_s"].tolist() == [0.0, 100.0, 180.0]
    assert h["Q_C"].iloc[1] == pytest.approx(79.5e-5)


def test_rests_between_half_cycles_are_left_out():
    df = _plateaus([0.6, 0.14, -0.01], [10.0, 60.0], t_end=100.0)
    rest = pd.DataFrame(
        {"time_s": np.arange(100.2, 130.0, 0.2), "potential_V": 0.3, "current_A": 0.0}
    )
    r = find_stages(pd.concat([df, rest], ignore_index=True))
    names = [(s["name"], round(s["t_end_s"], 1)) for s in r["stages"]]
    assert names[:2] == [("SEI", 10.0), ("alloying 1", 60.0)]
    assert names[2][0] == "Li metal" and names[2][1] >= 100.0


def test_bad_input_names_the_file_and_the_fix():
    df = pd.DataFrame({"time_s": np.arange(30.0), "potential_V": np.zeros(30)})
    df.attrs["source"] = "cell7.mpt"
    with pytest.raises(InputError) as exc:
        find_stages(df)
    msg = str(exc.value)
    assert "cell7.mpt" in msg and "current_A" in msg and "galvanostatic" in msg
    df["current_A"] = 0.0
    with pytest.raises(InputError, match="zero"):
        find_stages(df)


@pytest.mark.parametrize("metal", ["Au", "Ag"])
def test_simulated_cycling_record_recovers_planted_stages(metal):
    sim = make_see_through(metal, seed=11, size_px=48, n_cycles=2, n_sites=2, li_deposit_s=30)
    p = sim["parameters"]
    area = math.pi * (0.05 * p["electrode_diameter_mm"]) ** 2
    r = find_stages(
        sim["echem"], film_metal=metal, n_host_mol=host_moles(metal, p["film_thickness_nm"], area)
    )
    truth = sim["truth"]["echem"]["stages"]
    assert [(s["cycle"], s["name"]) for s in r["stages"]] == [
        (s["cycle"], s["name"]) for s in truth
    ]
    assert all(s["found"] for s in r["stages"])
    # Au stages are named from the tabulated plateaus; Ag has none, so by order + warning
    codes = [w["code"] for w in r["warnings"]]
    assert codes == ([] if metal == "Au" else ["stage-names-by-order"])
    for s, tr in zip(r["stages"], truth, strict=True):
        dur = tr["t_end_s"] - tr["t_start_s"]
        assert abs(s["t_start_s"] - tr["t_start_s"]) <= 0.02 * dur
        assert abs(s["t_end_s"] - tr["t_end_s"]) <= 0.02 * dur
        if tr["x_end"] > 0.2:
            assert s["x_end"] == pytest.approx(tr["x_end"], rel=0.03)


# ---- plateau onsets after a sloping decay ("kinks") and naming by potential ----------


def _kink_record(
    levels, bounds_s, *, e0=1.2, decay_frac=1.0, t_end=140.0, dt=0.2, noise=0.0, seed=0
):
    """SEI: an exponential decay from e0 that reaches levels[0] exactly at bounds_s[0]
    (continuous E, slope jumps to 0: a kink), then logistic steps (1 s) to the next
    levels and to Li metal at -12 mV. Returns the record and the slope jump, V/s."""
    i = -3.5e-5
    t = np.arange(0.0, t_end + 1e-9, dt)
    tk, lam, low = bounds_s[0], decay_frac * bounds_s[0], levels[0]
    shape = (np.exp(-t / lam) - np.exp(-tk / lam)) / (1 - np.exp(-tk / lam))
    e = np.where(t < tk, low + (e0 - low) * shape, low)
    lv = [*levels, -0.012]
    for k, b in enumerate(bounds_s[1:]):
        e = e + (lv[k + 1] - lv[k]) / (1 + np.exp(-(t - b) / 1.0))
    e = e + np.random.default_rng(seed).normal(0, noise, t.size)
    jump = (e0 - low) / lam * np.exp(-tk / lam) / (1 - np.exp(-tk / lam))
    df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": np.full(t.size, i)})
    return df, jump


@pytest.mark.parametrize("noise", [0.5e-3, 1e-3, 2e-3])
@pytest.mark.parametrize("decay_frac", [1 / 3, 1.0])
def test_kink_onset_of_the_first_plateau_is_found(noise, decay_frac):
    """The reported failure: the SEI decay meets the 0.14 V plateau with a kink (no
    slope peak); all four stages must be found and named from their potentials."""
    for seed in range(4):
        df, jump = _kink_record(
            [0.14, 0.07], [20.0, 60.0, 100.0], decay_frac=decay_frac, noise=noise, seed=seed
        )
        r = find_stages(df, film_metal="Au")
        st = r["stages"]
        assert [(s["name"], s["found"]) for s in st] == [
            ("SEI", True),
            ("alloying 1", True),
            ("alloying 2", True),
            ("Li metal", True),
        ]
        assert r["warnings"] == []
        assert st[0]["end_kind"] == "kink" and st[1]["end_kind"] == "step"
        # tolerance from noise and sampling: one sample, plus the time over which the
        # slope jump builds a deviation of 2 noise sd (closer than that no data can
        # place a corner)
        tol = 0.2 + 2 * noise / jump
        assert abs(st[0]["t_end_s"] - 20.0) <= tol
        assert abs(st[0]["t_end_s"] - 20.0) <= 5 * st[0]["t_end_s_err"] + 0.05
        np.testing.assert_allclose([st[1]["t_end_s"], st[2]["t_end_s"]], [60, 100], atol=0.3)
        assert st[1]["E_ref_V"] == 0.14 and st[2]["E_ref_V"] == 0.07


def test_without_kinks_the_sei_swallows_the_first_plateau_and_it_is_said():
    """The same record with onset detection off: alloying 1 cannot be separated; it is
    reported missing (never a shifted name) and a warning points at the SEI's end."""
    df, _ = _kink_record([0.14, 0.07], [20.0, 60.0, 100.0], noise=1e-3)
    r = find_stages(df, film_metal="Au", kinks=False)
    by = {s["name"]: s for s in r["stages"]}
    assert by["alloying 2"]["found"] and abs(by["alloying 2"]["t_end_s"] - 100) < 0.3
    assert by["alloying 1"]["found"] is False and by["alloying 1"]["t_end_s"] is None
    assert "sei-ends-on-plateau" in [w["code"] for w in r["warnings"]]
    # by order (no metal) the old failure shows: the 0.07 V plateau is called "alloying 1"
    r = find_stages(df, kinks=False)
    names = [(s["name"], round(s["E_mean_V"], 2)) for s in r["stages"]]
    assert names[1] == ("alloying 1", 0.07)
    assert [w["code"] for w in r["warnings"]] == ["stage-names-by-order"]


@pytest.mark.parametrize("noise", [0.5e-3, 2e-3])
def test_missing_plateaus_are_reported_not_shifted(noise):
    for seed in range(3):
        # steps only, no 0.07 V plateau: alloying 2 missing
        df = _plateaus([0.6, 0.14, -0.012], [10.0, 60.0], t_end=120.0, noise=noise, seed=seed)
        r = find_stages(df, film_metal="Au")
        st = r["stages"]
        assert [(s["name"], s["found"]) for s in st] == [
            ("SEI", True),
            ("alloying 1", True),
            ("alloying 2", False),
            ("Li metal", True),
        ]
        np.testing.assert_allclose([st[0]["t_end_s"], st[1]["t_end_s"]], [10, 60], atol=0.3)
        miss = st[2]
        assert miss["t_start_s"] is None and miss["t_end_s"] is None and miss["x_end"] is None
        assert "0.070 V" in miss["reason"]
        # a kink straight onto the 0.07 V plateau: alloying 1 missing, and the plateau
        # keeps its own name
        df, jump = _kink_record([0.07], [20.0, 100.0], noise=noise, seed=seed)
        st = find_stages(df, film_metal="Au")["stages"]
        assert [(s["name"], s["found"]) for s in st] == [
            ("SEI", True),
            ("alloying 1", False),
            ("alloying 2", True),
            ("Li metal", True),
        ]
        assert abs(st[0]["t_end_s"] - 20.0) <= 0.2 + 2 * noise / jump
        assert abs(st[2]["t_end_s"] - 100.0) <= 0.3


def test_a_record_that_stops_before_li_metal_and_an_unknown_plateau():
    df = _plateaus([0.6, 0.14, 0.07], [10.0, 60.0], t_end=100.0, noise=1e-3)
    st = find_stages(df, film_metal="Au")["stages"]
    assert [(s["name"], s["found"]) for s in st] == [
        ("SEI", True),
        ("alloying 1", True),
        ("alloying 2", True),
        ("Li metal", False),
    ]
    # a 0.30 V plateau between SEI and 0.14 V matches nothing tabulated: named
    # "unidentified" (with a warning), the others keep their names
    df = _plateaus([0.6, 0.3, 0.14, -0.012], [10.0, 40.0, 80.0], t_end=130.0, noise=1e-3)
    r = find_stages(df, film_metal="Au")
    assert [s["name"] for s in r["stages"] if s["found"]] == [
        "SEI",
        "unidentified",
        "alloying 1",
        "Li metal",
    ]
    assert "stage-unidentified" in [w["code"] for w in r["warnings"]]


def test_plateau_potentials_can_be_given():
    """Ag has no tabulated potentials: with the user's own plateaus the names come from
    potential (no warning); without, by order with a warning."""
    df = _plateaus([0.6, 0.26, 0.18, -0.012], [10.0, 40.0, 80.0], t_end=130.0, noise=1e-3)
    r = find_stages(df, film_metal="Ag")
    assert [w["code"] for w in r["warnings"]] == ["stage-names-by-order"]
    r = find_stages(df, film_metal="Ag", plateaus_V=[0.26, 0.18, 0.12, 0.07])
    assert r["warnings"] == [] and r["naming"] == "potential"
    assert [(s["name"], s["found"]) for s in r["stages"]] == [
        ("SEI", True),
        ("alloying 1", True),
        ("alloying 2", True),
        ("alloying 3", False),
        ("alloying 4", False),
        ("Li metal", True),
    ]


@pytest.mark.parametrize("metal", ["Au", "Ag"])
def test_simulated_kink_join_recovers_planted_stages(metal):
    """End to end on the simulator with sei_join = kink (SEI decay meets plateau 1); the
    seed of the step-join test above (Ag step boundaries: up to ~2 % over seeds)."""
    sim = make_see_through(
        metal, seed=11, size_px=48, n_cycles=2, n_sites=2, li_deposit_s=30, sei_join="kink"
    )
    truth = sim["truth"]["echem"]["stages"]
    r = find_stages(sim["echem"], film_metal=metal)
    assert [(s["cycle"], s["name"]) for s in r["stages"]] == [
        (s["cycle"], s["name"]) for s in truth
    ]
    for s, tr in zip(r["stages"], truth, strict=True):
        dur = tr["t_end_s"] - tr["t_start_s"]
        assert abs(s["t_end_s"] - tr["t_end_s"]) <= 0.02 * dur
        if tr["name"] == "SEI":
            assert s["end_kind"] == "kink"
    # the planted E(Q) is continuous at the SEI boundary, with a slope jump
    t = sim["echem"]["time_s"].to_numpy()
    e = sim["echem_noise_free_V"]
    tb = truth[0]["t_end_s"]
    before, after = (t > tb - 1.0) & (t < tb), (t > tb) & (t < tb + 1.0)
    fb, fa = np.polyfit(t[before], e[before], 1), np.polyfit(t[after], e[after], 1)
    assert abs(np.polyval(fb, tb) - np.polyval(fa, tb)) < 0.01  # continuous
    assert fb[0] < -0.05 and abs(fa[0]) < 1e-3  # steep decay (V/s), flat plateau
