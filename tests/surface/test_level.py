"""Levelling recovers planted backgrounds; row alignment removes planted scan-line offsets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from platescope.surface import level_lines, level_plane


def _surface(seed: int, ny: int = 128, nx: int = 128, sq: float = 3.0) -> np.ndarray:
    z = gaussian_filter(np.random.default_rng(seed).normal(size=(ny, nx)), 3.0, mode="wrap")
    return z / z.std() * sq


def test_plane_recovered_with_deposits_masked():
    rng = np.random.default_rng(3)
    ny, nx = 128, 160
    yy, xx = np.mgrid[0:ny, 0:nx]
    rough = rng.normal(0, 0.5, (ny, nx))
    deposits = np.zeros((ny, nx))
    for _ in range(12):  # tall deposits: ~8 % of the area, 40–80 nm high
        cy, cx, r = rng.uniform(10, ny - 10), rng.uniform(10, nx - 10), rng.uniform(5, 9)
        deposits = np.maximum(
            deposits, np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, rng.uniform(40, 80), 0)
        )
    tilt = 0.4 * xx - 0.25 * yy + 12.0
    r = level_plane(tilt + rough + deposits, order=1, spacing_um=0.05)
    lev = r["height"].values
    # the substrate is back at 0 and the deposits keep their planted heights
    sub = deposits == 0
    assert abs(np.mean(lev[sub])) < 0.05
    assert np.std(lev[sub]) == pytest.approx(0.5, rel=0.05)
    np.testing.assert_allclose(lev[~sub] - deposits[~sub], rough[~sub], atol=0.1)
    # slopes on the [-1, 1] scaled axes: 0.4 × (nx − 1)/2 and −0.25 × (ny − 1)/2
    c = dict(zip(r["powers"], r["coefficients"], strict=True))
    assert c[(1, 0)] == pytest.approx(0.4 * (nx - 1) / 2, rel=2e-3)
    assert c[(0, 1)] == pytest.approx(-0.25 * (ny - 1) / 2, rel=2e-3)
    assert r["converged"] and 0.05 < r["excluded_fraction"] < 0.2
    # an unmasked fit is pulled up by the deposits: the masking matters
    plain = level_plane(tilt + rough + deposits, order=1, exclude="none")["height"].values
    assert abs(np.mean(plain[sub])) > 1.0


def test_bow_order_2():
    yy, xx = np.mgrid[0:100, 0:100] / 99.0 * 2 - 1
    bow = 15 * xx**2 + 8 * yy**2 - 5 * xx * yy + 3 * xx
    s = _surface(1, 100, 100, 1.0)
    lev = level_plane(bow + s, order=2, exclude="both")["height"].values
    # a degree-2 fit also removes the surface's own degree-2 part (and the outlier
    # iterations see identical residuals): the bow must vanish exactly
    own = level_plane(s, order=2, exclude="both")["height"].values
    np.testing.assert_allclose(lev, own, atol=1e-9)


def test_median_difference_removes_row_offsets():
    s = _surface(2, 128, 256, 3.0)
    offsets = np.cumsum(np.random.default_rng(9).normal(0, 2.0, 128))  # scars, random walk
    r = level_lines(s + offsets[:, None], method="median-difference")
    fixed = r["height"].values
    # what is left of the offsets: the row means of (fixed − true surface)
    left = (fixed - s).mean(axis=1)
    left -= left.mean()
    assert np.std(left) < 0.15 * np.std(offsets - offsets.mean())
    # per-row median subtraction keeps less of the real surface than median-difference
    assert np.std(fixed - s - (fixed - s).mean()) < 1.0


def test_poly_rows_and_nulls():
    yy, xx = np.mgrid[0:20, 0:50]
    z = 0.3 * xx + yy * 2.0  # each row a line
    assert np.abs(level_lines(z, method="poly", order=1)["height"].values).max() < 1e-9
    assert level_lines(z, method="what")["height"] is None
    assert level_lines(np.zeros((1, 10)))["height"] is None
    assert level_plane(np.full((5, 5), np.nan), order=1)["height"] is None
    assert "order" in level_plane(z, order=9)["reason"]
