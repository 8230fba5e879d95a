"""Combinatorial statistics: per-spot features against planted truth, aggregates against numpy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from platescope.echem import condition_summary, spot_features, wilson_interval
from platescope.simulate import make_spot_design
from platescope.simulate._seccm_combinatorial import spot_record


@pytest.fixture(scope="module")
def planted():
    d = make_spot_design(seed=4, n_conditions=4, n_repeats=4, sample_period_s=0.005)
    feats = []
    for _, row in d.iterrows():
        rec = spot_record(row, seed=4, sample_period_s=0.005)
        f = spot_features(
            rec[["time_s", "potential_V", "current_A"]],
            current_density_mA_cm2=row["current_density_mA_cm2"],
        )
        feats.append({"condition": row["condition"], **f})
    return d, pd.DataFrame(feats)


def test_spot_features_recover_planted_spots(planted):
    d, f = planted
    assert (f["nucleated"].to_numpy(bool) == d["nucleated"].to_numpy(bool)).all()
    nuc = d["nucleated"].to_numpy(bool)
    # 0.3 mV white noise: E_nuc within 1 mV, t_nuc within 0.1 s of the exact minimum
    assert np.abs(f.loc[nuc, "E_nuc_V"].astype(float) - d.loc[nuc, "E_nuc_V"]).max() < 1e-3
    assert np.abs(f.loc[nuc, "t_nuc_s"].astype(float) - d.loc[nuc, "t_nuc_s"]).max() < 0.1
    # Q_nuc from the charge passed, area from |I|/j: Q = j·t_nuc (physics)
    q = d.loc[nuc, "current_density_mA_cm2"] * f.loc[nuc, "t_nuc_s"].astype(float) / 3.6
    np.testing.assert_allclose(f.loc[nuc, "Q_nuc_uAh_cm2"].astype(float), q, rtol=0.01)
    assert (
        f.loc[~nuc, "E_nuc_V"].isna().all()
        and f.loc[~nuc, "reason"].str.contains("never turns").all()
    )


def test_explicit_area_takes_precedence():
    t = np.linspace(0, 5, 1001)
    e = 0.05 * (t - 2.0) ** 2 / (1 + 0.5 * np.abs(t - 2.0)) - 0.15
    df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-10})
    f = spot_features(df, current_density_mA_cm2=1.0, area_cm2=2e-7)
    assert f["area_cm2"] == 2e-7
    # charge to t_nuc over the given area (sampled every 5 ms: within one sample's charge)
    assert f["Q_nuc_uAh_cm2"] == pytest.approx(1e-10 * f["t_nuc_s"] / 2e-7 / 3.6e-3, rel=0.01)


def test_condition_summary_matches_numpy_and_scipy():
    rng = np.random.default_rng(0)
    rows = []
    for c, (j, k) in enumerate([(0.2, 0), (0.5, 1), (1.0, 6)]):
        for s in range(6):
            nuc = s < k
            rows.append({"condition": c, "current_density_mA_cm2": j * (1 + 0.01 * s), "nucleated": nuc,
                         "E_nuc_V": -0.1 * j + rng.normal(0, 0.005) if nuc else None,
                         "t_nuc_s": 1 / j if nuc else None})  # fmt: skip
    df = pd.DataFrame(rows)
    out = condition_summary(df)
    assert out["condition"].tolist() == [0, 1, 2]  # ordered by current density
    assert out["n"].tolist() == [6, 6, 6] and out["n_nucleated"].tolist() == [0, 1, 6]
    r0, r1, r2 = out.to_dict("records")
    assert pd.isna(r0["E_nuc_V_mean"]) and "no spot" in r0["reason"]
    assert (
        pd.isna(r1["E_nuc_V_sd"])
        and not isinstance(r1["E_nuc_V_mean_ci95"], list)
        and "one nucleated" in r1["reason"]
    )
    x = df[df["condition"] == 2]["E_nuc_V"].astype(float).to_numpy()
    assert r2["E_nuc_V_mean"] == pytest.approx(x.mean())
    assert r2["E_nuc_V_sd"] == pytest.approx(x.std(ddof=1))
    assert r2["E_nuc_V_mean_err"] == pytest.approx(x.std(ddof=1) / math.sqrt(6))
    lo, hi = stats.t.interval(0.95, 5, loc=x.mean(), scale=stats.sem(x))
    assert r2["E_nuc_V_mean_ci95"] == pytest.approx([lo, hi])
    assert r2["current_density_mA_cm2"] == pytest.approx(
        np.mean([1.0 * (1 + 0.01 * s) for s in range(6)])
    )


def test_wilson_interval_known_values():
    # closed forms: k = 0 → [0, z²/(n + z²)]; k = n → [n/(n + z²), 1]
    z2 = stats.norm.ppf(0.975) ** 2
    assert wilson_interval(0, 8) == pytest.approx((0.0, z2 / (8 + z2)))
    assert wilson_interval(8, 8) == pytest.approx((8 / (8 + z2), 1.0))
    lo, hi = wilson_interval(3, 8)
    assert lo < 3 / 8 < hi
    assert wilson_interval(0, 0) is None


def test_t_interval_covers_the_true_mean_95_percent():
    rng = np.random.default_rng(1)
    hits = 0
    n_trials = 200
    for _ in range(n_trials):
        x = rng.normal(-0.2, 0.01, 8)
        df = pd.DataFrame(
            {"condition": 0, "nucleated": True, "E_nuc_V": x, "current_density_mA_cm2": 1.0}
        )
        lo, hi = condition_summary(df)["E_nuc_V_mean_ci95"].iloc[0]
        hits += lo <= -0.2 <= hi
    assert 0.90 <= hits / n_trials <= 0.99  # binomial sd 1.5 % at 200 trials
