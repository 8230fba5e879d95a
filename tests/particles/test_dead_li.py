"""Dead Li: stripping steps from the current, per-deposit calls, the per-cycle line."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from platescope.particles import cycling_steps, dead_li_by_cycle, find_dead_li

PLATE, STRIP, REST = 300.0, 300.0, 30.0


def _echem(n_cycles=2, dt=1.0, noise=0.0, rng=None):
    t = np.arange(0.0, REST + n_cycles * (PLATE + STRIP) + 10.0, dt)
    i = np.zeros_like(t)
    for c in range(n_cycles):
        t0 = REST + c * (PLATE + STRIP)
        i[(t >= t0) & (t < t0 + PLATE)] = -1e-3
        i[(t >= t0 + PLATE) & (t < t0 + PLATE + STRIP)] = 1e-3
    if noise:
        i = i + rng.normal(0, noise, t.size)
    return pd.DataFrame({"time_s": t, "potential_V": 0.0, "current_A": i})


def test_cycling_steps_from_the_current():
    rng = np.random.default_rng(0)
    steps = cycling_steps(_echem(n_cycles=3, noise=2e-6, rng=rng))
    assert steps["cycle"].tolist() == [1, 1, 2, 2, 3, 3]
    assert steps["step"].tolist() == ["plating", "stripping"] * 3
    starts = REST + np.array([0, PLATE, PLATE + STRIP, 2 * PLATE + STRIP, 2 * (PLATE + STRIP)])
    assert np.allclose(steps["t_start_s"].to_numpy()[:5], starts)
    # charge of a 300 s step at 1 mA (the trapezoid over 299 s of samples)
    assert np.allclose(steps["charge_C"].abs(), 0.299, rtol=1e-2)
    assert (steps.loc[steps.step == "plating", "charge_C"] < 0).all()


def test_stripping_before_any_plating_belongs_to_no_cycle():
    """Same pairing as echem.cycle_charges: cycles are plating → stripping in time order."""
    from platescope.echem import cycle_charges

    t = np.arange(0.0, 30.0)
    i = np.where(t < 10, 1e-3, np.where(t < 20, -1e-3, 1e-3))
    df = pd.DataFrame({"time_s": t, "potential_V": 0.0, "current_A": i})
    steps = cycling_steps(df)
    assert steps["cycle"].tolist() == [0, 1, 1]
    assert cycle_charges(df)["cycle"].tolist() == [1]


def _series(kind, *, v_max, rng, noise_rel, cycle_start, dt=10.0, f_dead=0.4, tau_d=0.3):
    """Volume of one deposit through one plating + stripping cycle (+ noise)."""
    t = np.arange(cycle_start, cycle_start + PLATE + STRIP, dt)
    tau_p = np.clip((t - cycle_start) / PLATE, 0, 1)
    tau_s = np.clip((t - cycle_start - PLATE) / STRIP, 0, 1)
    v = v_max * tau_p
    strip = t >= cycle_start + PLATE
    if kind == "dead":
        v[strip] = v_max * np.maximum(1 - (1 - f_dead) * tau_s[strip] / tau_d, f_dead)
    elif kind == "live":
        v[strip] = v_max * (1 - 0.6 * tau_s[strip])
    elif kind == "dissolved":
        v[strip] = v_max * (1 - 1.8 * tau_s[strip])
    keep = v > 0.02 * v_max
    v = v * (1 + rng.normal(0, noise_rel, v.size))
    return t[keep], v[keep]


def _timeseries(kinds, *, rng, noise_rel=0.02, v_range=(20, 200), f_dead=0.4):
    rows = []
    truth = []
    for k, kind in enumerate(kinds):
        vmax = rng.uniform(*v_range)
        t, v = _series(
            kind,
            v_max=vmax,
            rng=rng,
            noise_rel=noise_rel,
            cycle_start=REST,
            f_dead=f_dead * (1 + 0.05 * rng.standard_normal()),
        )
        err = noise_rel * v
        rows.append(
            pd.DataFrame(
                {
                    "track": k,
                    "frame": np.round(t / 10).astype(int),
                    "t_s": t,
                    "volume_um3": v,
                    "volume_err_um3": err,
                    "merged_into": -1,
                }
            )
        )
        truth.append((k, kind, vmax))
    return pd.concat(rows, ignore_index=True), truth


def test_dead_live_and_dissolved_are_told_apart():
    rng = np.random.default_rng(11)
    kinds = ["dead", "live", "dissolved"] * 12
    ts, truth = _timeseries(kinds, rng=rng)
    res = find_dead_li(ts, _echem(n_cycles=1))
    got = dict(zip(res["track"], res["status"], strict=True))
    assert [got[k] for k, _, _ in truth] == kinds
    assert res["dead"].sum() == kinds.count("dead")
    dead = res[res.dead].merge(pd.DataFrame(truth, columns=["track", "kind", "vmax"]), on="track")
    # V_max from the 3-frame running median: within 3 noise sd of the planted maximum
    assert np.all(np.abs(dead["v_max_um3"] / dead["vmax"] - 1) < 3 * 0.02 + 0.02)
    # dead volume = mean of the tail: ≈ f·V_max
    assert np.all(np.abs(dead["v_dead_um3"] / dead["vmax"] - 0.4) < 0.06)


def test_false_live_rate_of_noise_only_dead_deposits():
    """A dead deposit's tail is pure noise: it is called live at about the test level."""
    rng = np.random.default_rng(5)
    ts, _ = _timeseries(["dead"] * 300, rng=rng, noise_rel=0.03)
    res = find_dead_li(ts, _echem(n_cycles=1), alpha=0.01)
    false_live = (res["status"] == "live").mean()
    # binomial: 300 draws at p = 0.01 exceed 0.04 with probability < 1e-4
    assert false_live <= 0.04


def test_slowly_shrinking_live_deposits_are_found_at_high_noise():
    rng = np.random.default_rng(6)
    ts, _ = _timeseries(["live"] * 100, rng=rng, noise_rel=0.04)
    res = find_dead_li(ts, _echem(n_cycles=1))
    assert (res["status"] == "live").all()


def test_merged_and_earlier_dead_deposits():
    rng = np.random.default_rng(2)
    ts, _ = _timeseries(["dead", "live"], rng=rng, noise_rel=0.01)
    # cycle 2: the dead deposit stays as it was; the live one grows again and strips
    c2 = REST + PLATE + STRIP
    t2 = np.arange(c2, c2 + PLATE + STRIP, 10.0)
    v_dead_end = ts[ts.track == 0]["volume_um3"].iloc[-5:].mean()
    extra = [
        pd.DataFrame(
            {
                "track": 0,
                "frame": np.round(t2 / 10).astype(int),
                "t_s": t2,
                "volume_um3": v_dead_end * (1 + rng.normal(0, 0.01, t2.size)),
                "volume_err_um3": 0.01 * v_dead_end,
                "merged_into": -1,
            }
        ),
    ]
    # a third track that merges into track 1 during the first plating
    t3 = np.arange(REST, REST + 150.0, 10.0)
    m = pd.DataFrame(
        {
            "track": 2,
            "frame": np.round(t3 / 10).astype(int),
            "t_s": t3,
            "volume_um3": np.linspace(1, 30, t3.size),
            "volume_err_um3": 0.3,
            "merged_into": -1,
        }
    )
    m.loc[m.index[-1], "merged_into"] = 1
    ts2 = pd.concat([ts, *extra, m], ignore_index=True)
    res = find_dead_li(ts2, _echem(n_cycles=2))
    st = {(c, k): s for c, k, s in zip(res.cycle, res.track, res.status, strict=True)}
    assert st[(1, 0)] == "dead" and st[(2, 0)] == "dead_before"
    assert st[(1, 1)] == "live"
    assert st[(1, 2)] == "merged"
    by = dead_li_by_cycle(res)
    c1 = by[by.cycle == 1].iloc[0]
    assert c1["n_deposits"] == 2 and c1["n_dead"] == 1 and c1["dead_fraction"] == 0.5
    assert by[by.cycle == 2].iloc[0]["n_dead_before"] == 1
    assert "needs at least 3" in c1["reason"]  # one dead deposit: no line
    assert np.isnan(c1["slope"])


def test_dead_vs_max_line_matches_an_independent_fit():
    rng = np.random.default_rng(9)
    vmax = rng.uniform(20, 300, 15)
    vdead = 0.35 * vmax + rng.normal(0, 4, vmax.size)
    pdp = pd.DataFrame(
        {
            "cycle": 1,
            "track": range(15),
            "status": "dead",
            "dead": True,
            "v_max_um3": vmax,
            "v_dead_um3": vdead,
        }
    )
    pdp = pd.concat(
        [
            pdp,
            pd.DataFrame(
                {
                    "cycle": 1,
                    "track": [99],
                    "status": ["live"],
                    "dead": [False],
                    "v_max_um3": [50.0],
                    "v_dead_um3": [np.nan],
                }
            ),
        ],
        ignore_index=True,
    )
    row = dead_li_by_cycle(pdp).iloc[0]
    ref = stats.linregress(vmax, vdead)
    assert row["slope"] == pytest.approx(ref.slope, rel=1e-10)
    assert row["slope_err"] == pytest.approx(ref.stderr, rel=1e-10)
    assert row["intercept_um3"] == pytest.approx(ref.intercept, rel=1e-10)
    assert row["intercept_err_um3"] == pytest.approx(ref.intercept_stderr, rel=1e-10)
    assert row["r2"] == pytest.approx(ref.rvalue**2, rel=1e-10)
    # the planted fraction is recovered within 3 standard errors
    assert abs(row["slope"] - 0.35) < 3 * row["slope_err"]
    assert row["n_deposits"] == 16 and row["n_dead"] == 15
    assert row["dead_volume_fraction"] == pytest.approx(vdead.sum() / (vmax.sum() + 50.0))


def test_find_dead_li_needs_a_timeseries():
    with pytest.raises(ValueError, match="volume_um3"):
        find_dead_li(pd.DataFrame({"track": [0], "frame": [0], "t_s": [0.0]}), _echem())
    with pytest.raises(ValueError, match="tail_fraction"):
        ts, _ = _timeseries(["dead"], rng=np.random.default_rng(0))
        find_dead_li(ts, _echem(), tail_fraction=1.5)
