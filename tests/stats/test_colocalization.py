"""Colocalisation: Pearson, Manders, Costes' threshold and test, the Pearson matrix.

References are direct numpy computations (np.corrcoef, explicit sums) and a brute-force
threshold scan, never values copied from the code's output.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from scipy import stats as sps

from platescope import InputError
from platescope.stats import (
    colocalization,
    costes_test,
    costes_threshold,
    manders,
    pearson_matrix,
    pearson_r,
)


def _pair(seed, shape=(64, 64), sigma=2.0, mix=0.0):
    """Two blurred-noise channels; ``mix`` of a shared component (0: independent)."""
    rng = np.random.default_rng(seed)
    common = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    a = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    b = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    return (1 - mix) * a + mix * common, (1 - mix) * b + mix * common


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    ny=st.integers(3, 40),
    nx=st.integers(3, 40),
    frac=st.floats(0.2, 1.0),
    scale=st.sampled_from([1e-3, 1.0, 1e4]),
)
def test_pearson_and_manders_match_numpy(seed, ny, nx, frac, scale):
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, scale, (ny, nx))
    b = 0.5 * a + rng.gamma(2.0, scale, (ny, nx))
    mask = rng.random((ny, nx)) < frac
    mask.flat[:3] = True
    x, y = a[mask], b[mask]
    ref = np.corrcoef(x, y)[0, 1]
    assert pearson_r(a, b, mask=mask) == pytest.approx(ref, abs=1e-9)
    ta, tb = np.quantile(x, 0.3), np.quantile(y, 0.6)
    m = manders(a, b, threshold_a=ta, threshold_b=tb, mask=mask)
    both = (x > ta) & (y > tb)
    m1 = x[both].sum() / x[x > ta].sum()
    m2 = y[both].sum() / y[y > tb].sum()
    assert m["M1"] == pytest.approx(m1, abs=1e-9)
    assert m["M2"] == pytest.approx(m2, abs=1e-9)


def test_pearson_ignores_nonfinite_and_outside_mask():
    a, b = _pair(1, mix=0.5)
    mask = np.zeros(a.shape, bool)
    mask[10:50, 5:40] = True
    r = pearson_r(a, b, mask=mask)
    a2, b2 = a.copy(), b.copy()
    a2[~mask] = 1e9  # outside the ROI: must not matter
    b2[0, 0] = np.nan
    assert pearson_r(a2, b2, mask=mask) == pytest.approx(r, abs=1e-12)


def test_pearson_matrix_is_the_pairwise_r():
    a, b = _pair(2, mix=0.6)
    c = -a + 0.1 * b
    mask = np.ones(a.shape, bool)
    mask[:5] = False
    df = pearson_matrix({"a": a, "b": b, "c": c}, mask=mask)
    assert list(df.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(df.values, df.values.T)
    np.testing.assert_allclose(np.diag(df.values), 1.0)
    for p, q, (u, v) in [("a", "b", (a, b)), ("a", "c", (a, c)), ("b", "c", (b, c))]:
        assert df.loc[p, q] == pytest.approx(np.corrcoef(u[mask], v[mask])[0, 1], abs=1e-12)


def _brute_costes(x, y, slope, intercept, n=4000):
    """First level from the top at which r of the pixels below either threshold ≤ 0."""
    for t in np.linspace(x.max(), x.min(), n)[1:]:
        sel = (x <= t) | (y <= slope * t + intercept)
        if sel.sum() < 3 or np.corrcoef(x[sel], y[sel])[0, 1] <= 0:
            return t
    return x.min()


@pytest.mark.parametrize("seed", [3, 4])
def test_costes_threshold_matches_brute_force_scan(seed):
    rng = np.random.default_rng(seed)
    sig = ndi.gaussian_filter(rng.random((96, 96)), 3)
    a = sig + 0.01 * rng.standard_normal(sig.shape)
    b = 2.0 * sig + 0.1 + 0.02 * rng.standard_normal(sig.shape)
    res = costes_threshold(a, b, regression="ols")
    x, y = a.ravel(), b.ravel()
    slope, intercept = np.polyfit(x, y, 1)
    assert res["slope"] == pytest.approx(slope, rel=1e-9)
    assert res["intercept"] == pytest.approx(intercept, rel=1e-9, abs=1e-12)
    t_ref = _brute_costes(x, y, slope, intercept)
    step = (x.max() - x.min()) / 4000
    assert res["converged"]
    assert abs(res["threshold_a"] - t_ref) <= 1.5 * step
    assert res["threshold_b"] == pytest.approx(slope * res["threshold_a"] + intercept)
    assert res["r_below"] <= 0


def test_costes_threshold_orthogonal_is_symmetric():
    a, b = _pair(5, mix=0.7)
    ab = costes_threshold(a, b)
    ba = costes_threshold(b, a)
    assert ab["slope"] * ba["slope"] == pytest.approx(1.0, rel=1e-9)


def test_costes_threshold_no_positive_correlation():
    a, _ = _pair(6)
    res = costes_threshold(a, -a + 0.01)
    assert np.isnan(res["threshold_a"]) and "not positively correlated" in res["reason"]


def test_costes_test_detects_colocalisation_and_records_roi():
    a, b = _pair(7, mix=0.5)
    yy, xx = np.mgrid[:64, :64]
    roi = (yy - 32) ** 2 + (xx - 30) ** 2 < 25**2
    res = costes_test(a, b, mask=roi, n_iter=99, seed=1)
    assert res["p_value"] == pytest.approx(0.01)
    assert res["roi"]["n_pixels"] == int(roi.sum())
    iy, ix = np.nonzero(roi)
    assert res["roi"]["bbox"] == [iy.min(), iy.max() + 1, ix.min(), ix.max() + 1]
    np.testing.assert_array_equal(res["roi"]["mask"], roi)
    # only ROI pixels count: values outside the ROI change nothing
    a2 = a.copy()
    a2[~roi] = np.random.default_rng(0).normal(size=int((~roi).sum()))
    res2 = costes_test(a2, b, mask=roi, n_iter=99, seed=1)
    assert res2["r_obs"] == res["r_obs"]
    assert res2["p_value"] == res["p_value"]
    assert res2["roi"]["sha256"] == res["roi"]["sha256"]


def test_costes_p_value_roughly_uniform_under_independence():
    """40 fixed seeds of independent blurred channels in a disk ROI.

    A calibrated p-value gives ~2 of 40 below 0.05 (binomial: P(≥ 7) < 0.5 %); the
    full 200-seed KS check is in validation/spatial_stats.py.
    """
    yy, xx = np.mgrid[:80, :80]
    roi = (yy - 40) ** 2 + (xx - 40) ** 2 < 37**2
    p = []
    for seed in range(40):
        a, b = _pair(1000 + seed, shape=(80, 80), sigma=1.5)
        p.append(costes_test(a, b, mask=roi, n_iter=99, seed=seed)["p_value"])
    p = np.array(p)
    assert np.sum(p <= 0.05) <= 6
    assert sps.kstest(p, "uniform").pvalue > 0.01


def test_colocalization_bundle():
    a, b = _pair(8, mix=0.6)
    a, b = a - a.min(), b - b.min()
    res = colocalization(a, b, n_iter=49, seed=0)
    assert res["pearson_r"] == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    m = manders(a, b, threshold_a=res["threshold_a"], threshold_b=res["threshold_b"])
    assert (res["M1"], res["M2"]) == (m["M1"], m["M2"])
    assert res["threshold_source"] == "costes" and res["p_value"] < 0.05
    given_t = colocalization(a, b, thresholds=(0.0, 0.0), n_iter=0)
    assert given_t["test"] is None and given_t["threshold_source"] == "given"


def test_bad_input_messages():
    a = np.zeros((5, 5))
    with pytest.raises(InputError, match="same pixel grid"):
        pearson_r(a, np.zeros((4, 5)))
    with pytest.raises(InputError, match="mask"):
        pearson_r(a, a, mask=np.ones((3, 3), bool))
    with pytest.raises(InputError, match="at least"):
        pearson_r(a, a, mask=np.zeros((5, 5), bool))
    with pytest.raises(InputError, match="2-D"):
        pearson_r(np.zeros(5), np.zeros(5))
    with pytest.raises(InputError, match="blocks"):
        costes_test(np.random.default_rng(0).random((6, 6)), np.ones((6, 6)), block_px=5)


@pytest.mark.slow
def test_costes_p_value_uniform_200_seeds():
    """The full sweep (as validation/spatial_stats.py): 200 seeds, KS against uniform."""
    yy, xx = np.mgrid[:96, :96]
    roi = (yy - 48) ** 2 + (xx - 48) ** 2 < 45**2
    p = np.array(
        [
            costes_test(*_pair(5000 + s, shape=(96, 96), sigma=2.0), mask=roi, n_iter=199, seed=s)[
                "p_value"
            ]
            for s in range(200)
        ]
    )
    assert np.mean(p <= 0.05) <= 0.11  # nominal 0.05; measured 0.05–0.09 (docs)
    assert sps.kstest(p, "uniform").pvalue > 0.01
