"""Steps of a record and nucleation confined to plating steps, against planted truth."""

import numpy as np
import pandas as pd
import pytest

from platescope.echem import isolated_outliers, nucleation_by_step, split_steps


def _transient(tt, t_nuc=10.0, e_nuc=-0.1):
    """A nucleation dip with its exact minimum e_nuc at tt = t_nuc (as the doctest shape)."""
    return 0.05 * (tt - t_nuc) ** 2 / (1 + 0.5 * np.abs(tt - t_nuc)) + e_nuc


def _record(pieces, dt=0.01, noise=2e-4, seed=0):
    """Concatenate (duration_s, current_A, potential function of time-in-piece) pieces."""
    rng = np.random.default_rng(seed)
    t, e, i = [], [], []
    t0 = 0.0
    for dur, cur, fe in pieces:
        tt = np.arange(0.0, dur, dt)
        t.append(t0 + tt)
        e.append(fe(tt))
        i.append(np.full(tt.size, cur))
        t0 += dur
    t, e, i = map(np.concatenate, (t, e, i))
    return pd.DataFrame(
        {"time_s": t, "potential_V": e + rng.normal(0, noise, t.size), "current_A": i}
    )


def test_rest_is_never_searched_and_each_plating_step_gets_a_row():
    # open circuit that drifts down to below the later minimum, then two plating steps
    df = _record(
        [
            (20.0, 0.0, lambda tt: 0.5 - 0.04 * tt),  # OCV drift to −0.3 V (a fake "minimum")
            (40.0, -1e-9, lambda tt: _transient(tt, 12.0, -0.1)),
            (10.0, 1e-9, lambda tt: 0.05 + 0 * tt),
            (40.0, -2e-9, lambda tt: _transient(tt, 8.0, -0.15)),
        ]
    )
    steps = split_steps(df)
    assert steps["kind"].tolist() == ["rest", "galvanostatic", "galvanostatic", "galvanostatic"]
    assert steps["direction"].tolist() == [None, "cathodic", "anodic", "cathodic"]
    rows, _ = nucleation_by_step(df)
    assert [r["step"] for r in rows] == [1, 3]
    assert all(r["nucleated"] for r in rows)
    # planted: t = 20 + 12 = 32 s, −0.100 V; t = 70 + 8 = 78 s, −0.150 V
    assert rows[0]["t_nuc_s"] == pytest.approx(32.0, abs=0.1)
    assert rows[1]["t_nuc_s"] == pytest.approx(78.0, abs=0.1)
    assert rows[0]["E_nuc_V"] == pytest.approx(-0.100, abs=5e-4)
    assert rows[1]["E_nuc_V"] == pytest.approx(-0.150, abs=5e-4)


def test_a_single_sample_spike_is_not_a_nucleation_minimum():
    # 45 min of plating at a flat −20 mV with one −80 mV glitch mid-step
    df = _record([(2700.0, -1e-4, lambda tt: -0.02 + 0 * tt)], dt=1.0, noise=3e-4)
    df.loc[1350, "potential_V"] = -0.08
    assert np.flatnonzero(isolated_outliers(df["potential_V"].to_numpy())).tolist() == [1350]
    rows, _ = nucleation_by_step(df)
    assert len(rows) == 1
    r = rows[0]
    assert r["nucleated"] is False and r["E_nuc_V"] is None
    assert r["samples_excluded"] == 1
    assert r["warnings"][0]["code"] == "samples-excluded"


def test_a_potential_cut_off_is_not_a_nucleation_minimum():
    # plating whose potential falls steeply to a 0 V cut-off, then open circuit recovery
    df = _record(
        [
            (100.0, -1e-4, lambda tt: 0.8 - 0.5 * (tt / 100.0) - 0.3 * (tt / 100.0) ** 30),
            (30.0, 0.0, lambda tt: 0.3 + 0.2 * (1 - np.exp(-tt / 5))),
        ],
        dt=0.1,
    )
    steps = split_steps(df)
    assert steps["ended_by"].tolist() == ["potential limit", "record end"]
    rows, _ = nucleation_by_step(df)
    assert rows[0]["nucleated"] is False
    assert "cut-off" in rows[0]["reason"]


def test_sweep_and_impedance_rows_are_their_own_steps():
    t = np.arange(0, 40, 0.01)
    e = np.where(t < 20, 1.0 - 0.05 * t, 0.05 * (t - 20))  # down then up at 50 mV/s
    i = 1e-9 * np.sin(t)
    freq = np.where((t > 10) & (t < 12), 1e3, 0.0)  # an impedance block inside the record
    df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i, "freq_Hz": freq})
    steps = split_steps(df)
    assert steps["kind"].tolist() == ["sweep", "impedance", "sweep", "sweep"]
    assert steps["direction"].tolist() == ["cathodic", None, "cathodic", "anodic"]
    assert steps.loc[1, "Q_C"] == 0.0
