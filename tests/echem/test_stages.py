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
    r = find_stages(sim["echem"], n_host_mol=host_moles(metal, p["film_thickness_nm"], area))
    truth = sim["truth"]["echem"]["stages"]
    assert [(s["cycle"], s["name"]) for s in r["stages"]] == [
        (s["cycle"], s["name"]) for s in truth
    ]
    for s, tr in zip(r["stages"], truth, strict=True):
        dur = tr["t_end_s"] - tr["t_start_s"]
        assert abs(s["t_start_s"] - tr["t_start_s"]) <= 0.02 * dur
        assert abs(s["t_end_s"] - tr["t_end_s"]) <= 0.02 * dur
        if tr["x_end"] > 0.2:
            assert s["x_end"] == pytest.approx(tr["x_end"], rel=0.03)
