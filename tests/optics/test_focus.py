"""The FFT focus measure against two scipy.ndimage Gaussian filters (independent path)."""

import numpy as np
import pytest
from scipy import ndimage

from platescope.optics._focus import dog_variance


def _reference(frames, s1, s2, e):
    f = frames.astype(np.float64)
    dog = ndimage.gaussian_filter(f, (0, s1, s1)) - ndimage.gaussian_filter(f, (0, s2, s2))
    return dog[:, e:-e, e:-e].var(axis=(1, 2))


@pytest.mark.parametrize("shape", [(3, 96, 128), (2, 101, 77), (1, 80, 80)])
@pytest.mark.parametrize("sigmas", [(1.0, 3.0), (0.7, 2.2)])
def test_equals_two_gaussian_filters_on_the_inner_part(shape, sigmas):
    rng = np.random.default_rng(4)
    tex = ndimage.gaussian_filter(rng.normal(size=shape), (0, 1.5, 1.5)) * 300 + 2000
    frames = rng.poisson(tex).astype(np.uint16)
    s1, s2 = sigmas
    e = 2 * int(np.ceil(3 * s2))
    ours = dog_variance(frames, s1, s2, e)
    ref = _reference(frames, s1, s2, e)
    np.testing.assert_allclose(ours, ref, rtol=2e-5)


def test_blur_lowers_it_and_a_flat_frame_has_none():
    rng = np.random.default_rng(5)
    sharp = rng.normal(1000.0, 20.0, (64, 64))
    frames = np.stack([sharp, ndimage.gaussian_filter(sharp, 2.0), np.full((64, 64), 7.0)])
    v = dog_variance(frames, 1.0, 3.0, 18)
    assert v[1] < 0.2 * v[0]
    assert v[2] == 0.0


def test_frame_quality_memory_does_not_grow_with_the_frame_size():
    """Blocks are sized in bytes: 16 frames of 1536² are read 3 at a time (≈ 57 MB as
    float64), so the peak stays near 250 MB where 16-frame blocks needed ≈ 1.3 GB."""
    import tracemalloc

    import xarray as xr

    from platescope.optics import frame_quality

    n, s = 16, 1536
    rng = np.random.default_rng(6)
    m = xr.DataArray(
        rng.integers(900, 1100, (n, s, s), dtype=np.uint16),
        dims=("t", "y", "x"),
        coords={"t": np.arange(n) * 0.03},
    )
    tracemalloc.start()
    try:
        q = frame_quality(m)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 500e6
    assert not q["bad"].any()  # uniform noise frames: nothing to flag
