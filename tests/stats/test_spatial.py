"""Spatial point statistics: edge corrections against brute force, CSR calibration,
power against planted cluster and hard-core processes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from platescope import InputError
from platescope.stats import (
    clark_evans,
    csr_test,
    ripley_envelope,
    ripley_k,
    sample_point_process,
)
from platescope.stats._spatial import _ripley_weights

W = (0.0, 40.0, 0.0, 25.0)


def _circle_inside_fraction(p, r, window, n=20000):
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = p[0] + r * np.cos(ang)
    y = p[1] + r * np.sin(ang)
    x0, x1, y0, y1 = window
    return np.mean((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def test_isotropic_weight_matches_numerical_circle_fraction():
    rng = np.random.default_rng(0)
    pts = rng.uniform([0, 0], [40, 25], (200, 2))
    d = rng.uniform(0.1, 12.0, 200)  # up to half the shorter side
    w = _ripley_weights(pts, np.arange(200), d, W)
    ref = np.array([_circle_inside_fraction(p, r, W) for p, r in zip(pts, d, strict=True)])
    np.testing.assert_allclose(1.0 / w, ref, atol=2e-4)


def _k_brute(pts, window, radii):
    """Ripley's K with the isotropic weight computed numerically (independent)."""
    n = len(pts)
    area = (window[1] - window[0]) * (window[3] - window[2])
    d = cdist(pts, pts)
    out = []
    for r in radii:
        s = 0.0
        for i in range(n):
            for j in np.nonzero((d[i] <= r) & (d[i] > 0))[0]:
                s += 1.0 / _circle_inside_fraction(pts[i], d[i, j], window, 4000)
        out.append(area / (n * (n - 1)) * s)
    return np.array(out)


def test_ripley_k_matches_brute_force():
    pts = sample_point_process("csr", window=W, intensity_um2=0.06, seed=1)
    radii = np.array([1.0, 3.0, 6.0])
    df = ripley_k(pts, window=W, radii_um=radii)
    np.testing.assert_allclose(df["K"], _k_brute(pts, W, radii), rtol=2e-3)
    np.testing.assert_allclose(df["L"], np.sqrt(df["K"] / np.pi))


@pytest.mark.parametrize("correction", ["ripley", "translation"])
def test_ripley_l_unbiased_under_csr(correction):
    radii = np.array([1.0, 2.0, 4.0, 6.0])
    ls = [
        ripley_k(
            sample_point_process("csr", window=W, intensity_um2=0.2, seed=s),
            window=W,
            radii_um=radii,
            edge_correction=correction,
        )["L"].to_numpy()
        for s in range(60)
    ]
    mean = np.mean(ls, axis=0)
    sem = np.std(ls, axis=0, ddof=1) / np.sqrt(len(ls))
    assert np.all(np.abs(mean - radii) < 4 * sem + 0.01 * radii)


def test_translation_correction_with_mask_unbiased():
    """CSR in a disk-shaped mask: L(r) ≈ r with the mask's set covariance."""
    spacing = 0.25
    yy, xx = np.mgrid[:100, :100]
    mask = (yy - 50) ** 2 + (xx - 50) ** 2 < 48**2
    from platescope.stats._spatial import _Region

    region = _Region(None, mask, spacing)
    radii = np.array([1.0, 2.0, 4.0])
    rng = np.random.default_rng(3)
    ls = []
    for _ in range(40):
        pts = region.sample(300, rng)
        ls.append(ripley_k(pts, mask=mask, spacing=spacing, radii_um=radii)["L"].to_numpy())
    mean = np.mean(ls, axis=0)
    sem = np.std(ls, axis=0, ddof=1) / np.sqrt(len(ls))
    assert np.all(np.abs(mean - radii) < 4 * sem + 0.01 * radii)
    # a full mask reproduces the rectangle's translation correction
    full = np.ones((100, 160), bool)
    pts = sample_point_process("csr", window=(0, 40, 0, 25), intensity_um2=0.2, seed=2)
    a = ripley_k(pts, mask=full, spacing=0.25, radii_um=radii)["K"]
    b = ripley_k(pts, window=(0, 40, 0, 25), radii_um=radii, edge_correction="translation")["K"]
    np.testing.assert_allclose(a, b, rtol=1e-3)


def test_clark_evans_donnelly_matches_monte_carlo():
    """Donnelly's E[r̄] and sd against brute-force CSR simulation in the same window."""
    rng = np.random.default_rng(4)
    n = 150
    means = []
    for _ in range(400):
        p = rng.uniform([0, 0], [40, 25], (n, 2))
        d = cdist(p, p)
        np.fill_diagonal(d, np.inf)
        means.append(d.min(axis=1).mean())
    pts = rng.uniform([0, 0], [40, 25], (n, 2))
    res = clark_evans(pts, window=W)
    assert res["r_exp_um"] == pytest.approx(np.mean(means), rel=0.01)
    assert res["r_exp_sd_um"] == pytest.approx(np.std(means), rel=0.15)
    plain = clark_evans(pts, window=W, edge_correction=False)
    assert plain["r_exp_um"] < res["r_exp_um"]  # ignoring the edge biases R upwards


def test_clark_evans_direction():
    csr = sample_point_process("csr", window=W, intensity_um2=0.3, seed=5)
    clu = sample_point_process("thomas", window=W, intensity_um2=0.3, seed=5)
    reg = sample_point_process("hardcore", window=W, intensity_um2=0.6, seed=5, hard_core_um=1.2)
    assert clark_evans(clu, window=W)["R"] < 0.85
    assert clark_evans(reg, window=W)["R"] > 1.15
    assert abs(clark_evans(csr, window=W)["R"] - 1) < 3 * clark_evans(csr, window=W)["R_err"]


def test_csr_test_false_alarms_and_power_20_seeds():
    """20 seeds each (n_sim = 39): CSR rarely flagged, clusters and hard core always."""
    fa = power_c = power_r = 0
    for s in range(20):
        csr = sample_point_process("csr", window=W, intensity_um2=0.2, seed=s)
        clu = sample_point_process("thomas", window=W, intensity_um2=0.2, seed=100 + s)
        reg = sample_point_process(
            "hardcore", window=W, intensity_um2=0.4, seed=200 + s, hard_core_um=1.2
        )
        r = csr_test(csr, window=W, n_sim=39, seed=s)
        fa += r["clustered"] or r["regular"]
        power_c += csr_test(clu, window=W, n_sim=39, seed=s)["clustered"]
        power_r += csr_test(reg, window=W, n_sim=39, seed=s)["regular"]
    assert fa <= 3  # expected 1 of 20 at α = 0.05; P(≥ 4) = 1.6 %
    assert power_c >= 18 and power_r >= 18


@pytest.mark.slow
def test_csr_test_100_seeds():
    flagged = [
        csr_test(sample_point_process("csr", window=W, intensity_um2=0.2, seed=s), window=W, seed=s)
        for s in range(100)
    ]
    assert sum(f["clustered"] or f["regular"] for f in flagged) <= 8


def test_envelope_brackets_csr_mean():
    pts = sample_point_process("csr", window=W, intensity_um2=0.2, seed=9)
    env = ripley_envelope(pts, window=W, radii_um=[1.0, 3.0, 5.0], n_sim=39)
    assert np.all(env["L_lo"] <= env["L_mean"]) and np.all(env["L_mean"] <= env["L_hi"])
    np.testing.assert_allclose(env["L_mean"], env["r_um"], rtol=0.05)


def test_points_outside_window_and_few_points():
    res = clark_evans(np.array([[1.0, 1.0], [50.0, 50.0]]), window=W)
    assert res["n"] == 1 and res["n_outside"] == 1 and np.isnan(res["R"])
    t = csr_test(np.array([[1.0, 1.0], [2.0, 2.0]]), window=W)
    assert not t["clustered"] and not t["regular"] and "too few" in t["reason"]


def test_bad_input_messages():
    with pytest.raises(InputError, match="window"):
        clark_evans(np.zeros((3, 2)), window=(1, 0, 0, 1))
    with pytest.raises(InputError, match="shape"):
        clark_evans(np.zeros((3, 3)), window=W)
    with pytest.raises(InputError, match="half"):
        ripley_k(np.zeros((3, 2)), window=W, radii_um=[20.0])
    with pytest.raises(InputError, match="spacing"):
        clark_evans(np.zeros((3, 2)), mask=np.ones((4, 4), bool))
