"""The wide-Gaussian level cut by FFT against SciPy's direct ``gaussian_filter``.

The cut must be the very same boolean image (the morphology's large-scale-grey-level
test reads it), including when pixels sit on the level (then SciPy decides).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from platescope.particles import _wide_blur
from platescope.particles._wide_blur import gaussian_at_least, gaussian_fft


def _image(shape, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    step = 60.0 * (x > 0.4 * shape[1]) + 0.05 * y  # a substrate step and a gradient
    return step + rng.normal(0, 8, shape) + 200 * (rng.random(shape) > 0.995)


@pytest.mark.parametrize(("shape", "seed"), [((300, 420), 0), ((257, 256), 1), ((120, 500), 2)])
def test_fft_blur_equals_scipy_to_rounding(shape, seed):
    a = _image(shape, seed)
    sigma = max(shape) / 20.0
    ref = ndi.gaussian_filter(a, sigma)
    got = gaussian_fft(a, sigma)
    assert np.abs(got - ref).max() <= 1e-12 * np.abs(a).max()


@pytest.mark.parametrize("above", [True, False])
@pytest.mark.parametrize(("shape", "seed"), [((300, 420), 3), ((200, 200), 4)])
def test_cut_equals_scipy(shape, seed, above):
    a = _image(shape, seed)
    sigma = max(shape) / 20.0
    ref = ndi.gaussian_filter(a, sigma)
    for q in (0.2, 0.5, 0.8):
        level = float(np.quantile(ref, q)) + 1e-3  # off the pixel values: the FFT decides
        want = ref >= level if above else ref <= level
        assert np.array_equal(gaussian_at_least(a, sigma, level, above=above), want)


def test_pixels_on_the_level_are_decided_by_scipy(monkeypatch):
    a = _image((150, 180), 5)
    sigma = 9.0
    ref = ndi.gaussian_filter(a, sigma)
    level = float(ref[70, 90])  # one pixel exactly on the level
    calls = []
    real = ndi.gaussian_filter

    def counted(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(_wide_blur.ndi, "gaussian_filter", counted)
    got = gaussian_at_least(a, sigma, level)
    assert calls  # the fallback ran
    assert np.array_equal(got, ref >= level) and got[70, 90]


def test_kernel_wider_than_image_and_nan_fall_back():
    a = _image((30, 400), 6)
    assert gaussian_fft(a, 20.0) is None  # radius 80 ≥ 30 rows
    level = float(np.median(ndi.gaussian_filter(a, 20.0)))
    assert np.array_equal(gaussian_at_least(a, 20.0, level), ndi.gaussian_filter(a, 20.0) >= level)
    b = _image((100, 100), 7)
    b[5, 5] = np.nan
    assert gaussian_fft(b, 5.0) is None
    with np.errstate(invalid="ignore"):
        want = ndi.gaussian_filter(b, 5.0) >= 100.0
    assert np.array_equal(gaussian_at_least(b, 5.0, 100.0), want)
