"""The compiled local-thickness ladder (``volume._thickness_kernel``) against an
independent brute force, SciPy's distance transform and the numpy/SciPy fallback."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from platescope.volume._thickness import _radius_ladder, local_thickness_block
from platescope.volume._thickness_kernel import distance_to_background_numba

pytest.importorskip("numba")


def _blobs(shape, seed, frac=0.45, sigma=1.6):
    rng = np.random.default_rng(seed)
    g = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return g > np.quantile(g, 1 - frac)


def _brute_force(mask, vox):
    """Every pair (phase voxel, centre) tested in exact arithmetic: isotropic voxels and
    radii on the half-voxel steps, so ``|v − c| ≤ r + ½ voxel`` ⇔ ``4·n ≤ (j + 1)²`` with
    ``n`` the integer squared distance and ``r = j·½ voxel``."""
    step = vox
    idx = np.argwhere(mask)
    bg = np.argwhere(~mask)
    # distance to background, in voxels, squared (integers)
    d2 = ((idx[:, None, :] - bg[None, :, :]) ** 2).sum(-1).min(1)
    dist_vox = np.sqrt(d2)
    radii = _radius_ladder(float(dist_vox.max()) * step, step)
    j_of = np.rint(radii / (0.5 * step)).astype(int)
    assert np.allclose(j_of * 0.5 * step, radii)  # the test stays on the half-voxel steps
    out = np.zeros(len(idx))
    pair2 = ((idx[:, None, :] - idx[None, :, :]) ** 2).sum(-1)
    for r, j in zip(radii, j_of, strict=True):
        centres = 4 * d2 >= j * j  # dist ≥ r
        if not centres.any():
            break
        covered = (4 * pair2[:, centres] <= (j + 1) ** 2).any(1)
        out[covered] = 2 * r
    t = np.zeros(mask.shape, np.float32)
    t[tuple(idx.T)] = out
    return t


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ladder_equals_brute_force_in_exact_arithmetic(seed, monkeypatch):
    """0.4 µm voxels: r + ½ voxel lands on lattice distances, where SciPy's float
    distances fell on either side of the reach (the former code dropped such voxels)."""
    mask = _blobs((9, 11, 12), seed)
    mask[0] = mask[-1] = False  # background on every side, distances ≤ 12 voxels
    want = _brute_force(mask, 0.4)
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numba")
    got, _ = local_thickness_block(mask, voxel_size_um=(0.4, 0.4, 0.4))
    np.testing.assert_array_equal(got, want)
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numpy")
    fallback, _ = local_thickness_block(mask, voxel_size_um=(0.4, 0.4, 0.4))
    np.testing.assert_array_equal(fallback, want)


@pytest.mark.parametrize(
    ("shape", "vox", "cap", "threads"),
    [
        ((20, 33, 28), (0.4, 0.4, 0.4), None, "1"),
        ((20, 33, 28), (1.0, 0.5, 0.5), None, "3"),
        ((17, 40, 31), (0.7, 0.3, 0.45), 2.0, "2"),  # capped, 4 % steps, anisotropic
        ((1, 30, 30), (1.0, 1.0, 1.0), None, "2"),  # one plane
    ],
)
def test_compiled_equals_fallback(shape, vox, cap, threads, monkeypatch):
    mask = _blobs(shape, 7, frac=0.6, sigma=2.5)
    monkeypatch.setenv("PLATESCOPE_THREADS", threads)
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numba")
    a, ca = local_thickness_block(mask, voxel_size_um=vox, max_radius_um=cap)
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numpy")
    b, cb = local_thickness_block(mask, voxel_size_um=vox, max_radius_um=cap)
    assert ca == cb
    np.testing.assert_array_equal(a, b)
    assert (a[mask] > 0).all() and (a[~mask] == 0).all()


@pytest.mark.parametrize("vox", [(1.0, 1.0, 1.0), (0.4, 0.4, 0.4), (2.0, 0.5, 0.7)])
def test_distance_to_background_matches_scipy(vox):
    mask = _blobs((15, 26, 21), 3, frac=0.7, sigma=2.0)
    got = distance_to_background_numba(mask, vox)
    want = ndimage.distance_transform_edt(mask, sampling=vox)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert distance_to_background_numba(np.ones((3, 4, 5), bool), vox) is None  # SciPy's case


def test_full_and_empty_blocks(monkeypatch):
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numba")
    full = np.ones((6, 7, 8), bool)
    t, _ = local_thickness_block(full, voxel_size_um=(1, 1, 1), max_radius_um=3.0)
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numpy")
    t2, _ = local_thickness_block(full, voxel_size_um=(1, 1, 1), max_radius_um=3.0)
    np.testing.assert_array_equal(t, t2)
    empty, capped = local_thickness_block(np.zeros((4, 4, 4), bool), voxel_size_um=(1, 1, 1))
    assert not empty.any() and not capped
