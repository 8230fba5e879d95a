"""ISO 25178-2 areal parameters against independent numpy computations and analytic surfaces."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from platescope.surface import areal_parameters, level_plane, tile_sq_err


def _independent(z: np.ndarray, dy_nm: float, dx_nm: float) -> dict[str, float]:
    """ISO 25178-2 written out again with explicit sums and slicing differences."""
    n = z.size
    m = z.sum() / n
    d = z - m
    sq = np.sqrt((d * d).sum() / n)
    gx = np.empty_like(z)
    gy = np.empty_like(z)
    gx[:, 1:-1] = (z[:, 2:] - z[:, :-2]) / (2 * dx_nm)
    gx[:, 0] = (z[:, 1] - z[:, 0]) / dx_nm
    gx[:, -1] = (z[:, -1] - z[:, -2]) / dx_nm
    gy[1:-1] = (z[2:] - z[:-2]) / (2 * dy_nm)
    gy[0] = (z[1] - z[0]) / dy_nm
    gy[-1] = (z[-1] - z[-2]) / dy_nm
    return {
        "Sa_nm": np.abs(d).sum() / n,
        "Sq_nm": sq,
        "Ssk": (d**3).sum() / n / sq**3,
        "Sku": (d**4).sum() / n / sq**4,
        "Sp_nm": d.max(),
        "Sv_nm": -d.min(),
        "Sz_nm": d.max() - d.min(),
        "Sdr_percent": 100 * (np.sqrt(1 + gx**2 + gy**2) - 1).sum() / n,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_independent_numpy_on_levelled_map(seed):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    ny, nx, px_um = 96, 128, 0.02
    yy, xx = np.mgrid[0:ny, 0:nx]
    rough = gaussian_filter(rng.normal(0, 30, (ny, nx)), 2.0)
    raw = rough + 0.3 * xx - 0.1 * yy + 40.0
    lev = level_plane(raw, order=1, exclude="none", spacing_um=px_um)["height"]
    got = areal_parameters(lev)
    want = _independent(lev.values, px_um * 1e3, px_um * 1e3)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    assert got["n_pixels"] == ny * nx and got["warnings"] == []


def test_sinusoid_analytic():
    """z = A sin(2πx/λ) over whole periods: Sq = A/√2, Sa = 2A/π, Ssk = 0, Sku = 3/2,
    Sz = 2A; Sdr = (1/λ)∫(√(1 + (Ak cos kx)²) − 1)dx (quadrature), discretisation error
    of central differences O((k·dx)²)."""
    a_nm, lam_px, dx_um = 20.0, 64, 0.01
    x = np.arange(4 * lam_px)
    z = np.tile(a_nm * np.sin(2 * np.pi * x / lam_px), (32, 1))
    p = areal_parameters(z, spacing_um=dx_um)
    assert p["Sq_nm"] == pytest.approx(a_nm / np.sqrt(2), rel=1e-12)
    assert p["Sa_nm"] == pytest.approx(2 * a_nm / np.pi, rel=2e-3)  # sampled |sin| mean
    assert p["Ssk"] == pytest.approx(0.0, abs=1e-12)
    assert p["Sku"] == pytest.approx(1.5, rel=1e-12)
    assert p["Sz_nm"] == pytest.approx(2 * a_nm, rel=1e-12)
    k = 2 * np.pi / (lam_px * dx_um * 1e3)  # 1/nm
    sdr = integrate.quad(lambda u: np.sqrt(1 + (a_nm * k * np.cos(u)) ** 2) - 1, 0, 2 * np.pi)[0]
    sdr = 100 * sdr / (2 * np.pi)
    assert p["Sdr_percent"] == pytest.approx(sdr, rel=0.01)


def test_null_and_reasons():
    small = areal_parameters(np.ones((3, 3)), spacing_um=0.1)
    assert small["Sa_nm"] is None and "valid pixels" in small["reason"]
    flat = areal_parameters(np.full((10, 10), 5.0), spacing_um=0.1)
    assert flat["Sq_nm"] == 0.0 and flat["Ssk"] is None and "flat" in flat["Ssk_reason"]
    nan = np.full((20, 20), np.nan)
    nan[5:15, 5:15] = np.random.default_rng(0).normal(size=(10, 10))
    p = areal_parameters(nan, spacing_um=0.1)
    assert p["n_pixels"] == 100 and p["n_excluded"] == 300
    want = _independent(nan[5:15, 5:15], 100.0, 100.0)
    assert p["Sq_nm"] == pytest.approx(want["Sq_nm"], rel=1e-12)


def test_tilted_map_warns():
    yy, xx = np.mgrid[0:32, 0:32]
    p = areal_parameters(
        xx * 2.0 + np.random.default_rng(0).normal(0, 0.5, xx.shape), spacing_um=0.1
    )
    assert "map-not-levelled" in [w["code"] for w in p["warnings"]]


def test_tile_error_matches_spread_of_independent_fields():
    """SE of Sq from tiles vs the actual scatter of Sq over many independent fields."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(5)
    sqs, errs = [], []
    for _ in range(60):
        z = gaussian_filter(rng.normal(0, 10, (64, 64)), 3.0, mode="wrap")
        sqs.append(np.sqrt(np.mean((z - z.mean()) ** 2)))
        errs.append(tile_sq_err(z)["Sq_err_nm"])
    # the tile SE should be of the same size as the between-field sd (within a factor 2)
    ratio = np.mean(errs) / np.std(sqs, ddof=1)
    assert 0.5 < ratio < 2.0


@pytest.mark.parametrize("sigma", [0.3, 0.9])
def test_noise_estimate_and_sdr_inflation(sigma):
    """Planted white noise σ on a smooth texture: Immerkær's estimate within 5 %, and the
    predicted Sdr inflation ½(σ²/2dx² + σ²/2dy²) matches Sdr(noisy) − Sdr(clean) to 15 %."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(7)
    t = gaussian_filter(rng.normal(size=(256, 256)), 3.0)
    t = t / t.std() * 2.0
    clean = areal_parameters(t, spacing_um=0.04)
    noisy = areal_parameters(t + rng.normal(0, sigma, t.shape), spacing_um=0.04)
    assert noisy["noise_sd_nm"] == pytest.approx(sigma, rel=0.05)
    added = noisy["Sdr_percent"] - clean["Sdr_percent"]
    assert noisy["Sdr_noise_percent"] == pytest.approx(added, rel=0.15)
    assert "sdr-noise-inflated" in [w["code"] for w in noisy["warnings"]]
