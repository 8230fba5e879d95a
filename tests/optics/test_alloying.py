"""Optical quantities of see-through alloying movies."""

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from platescope import InputError, optics


def _movie(data, t=None, px=0.1):
    nt, ny, nx = data.shape
    t = np.arange(nt, dtype=float) if t is None else np.asarray(t, float)
    return xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={"t": t, "y": np.arange(ny) * px, "x": np.arange(nx) * px},
        attrs={"mode": "trans", "source": "movie.tif"},
    )


def _alloying_movie(seed=0, noise=0.0, shape=(24, 32), n=60):
    """Absorbance steps at known τ (a smooth ramp across the field), jittered frame times."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.9, 1.1, n)) - 3.0
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    tau = 10.0 + 30.0 * (xx + 0.5 * yy) / (shape[1] + 0.5 * shape[0])
    a = 0.1 / (1 + np.exp(-(t[:, None, None] - tau) / 0.8))
    intensity = 1500.0 * 10 ** (-a) * (1 + rng.normal(0, noise, a.shape))
    return _movie(intensity.astype(np.float32), t), tau


def test_transmittance_absorbance_reflectivity():
    m = _movie(np.array([[[200.0, 100.0]], [[100.0, 100.0]]]), [-1.0, 1.0])
    T = optics.transmittance(m, t_ref_s=0.0)
    np.testing.assert_allclose(T.values[1, 0], [0.5, 1.0])
    A = optics.absorbance(T)
    np.testing.assert_allclose(A.values[1, 0], [np.log10(2.0), 0.0], atol=1e-6)
    R = optics.relative_reflectivity(m[::-1].assign_coords(t=[-1.0, 1.0]), t_ref_s=0.0)
    np.testing.assert_allclose(R.values[1, 0], [2.0, 1.0])
    with pytest.raises(InputError, match="before the reference time"):
        optics.transmittance(m, t_ref_s=-5.0)


def test_onset_map_recovers_planted_times_on_real_frame_times():
    m, tau = _alloying_movie(noise=0.01)
    A = optics.absorbance(optics.transmittance(m, t_ref_s=0.0))
    om = optics.onset_map(A, t_start_s=2.0, t_end_s=50.0, sigma_um=0.1)
    err = om.values - tau
    dt = float(np.median(np.diff(m.t.values)))
    assert np.nanmedian(np.abs(err)) < 0.25 * dt
    assert abs(np.nanmedian(err)) < 0.1
    assert om.dims == ("y", "x") and om.attrs["units"] == "s"
    # noise-free: the interpolated crossing of a logistic is within the interpolation error
    m0, tau0 = _alloying_movie(noise=0.0)
    om0 = optics.onset_map(
        optics.absorbance(optics.transmittance(m0, t_ref_s=0.0)),
        t_start_s=2.0,
        t_end_s=50.0,
        sigma_um=0.0,
    )
    assert np.max(np.abs(om0.values - tau0)) < 0.06


def test_onset_map_is_lazy_on_dask_and_equal():
    m, _ = _alloying_movie(noise=0.01, shape=(16, 16))
    A = optics.absorbance(optics.transmittance(m, t_ref_s=0.0))
    lazy = A.chunk({"t": 10, "y": 8, "x": 8})
    om_lazy = optics.onset_map(lazy, t_start_s=2.0, t_end_s=50.0, sigma_um=0.0)
    assert isinstance(om_lazy.data, da.Array)
    om = optics.onset_map(A, t_start_s=2.0, t_end_s=50.0, sigma_um=0.0)
    np.testing.assert_allclose(om_lazy.compute().values, om.values, rtol=1e-5)


def test_flat_pixels_get_nan_and_short_windows_are_refused():
    m, _ = _alloying_movie()
    A = optics.absorbance(optics.transmittance(m, t_ref_s=0.0)).copy()
    A[:, 0, 0] = 0.0  # a hole: nothing alloys there
    om = optics.onset_map(A, t_start_s=2.0, t_end_s=50.0, sigma_um=0.0)
    assert np.isnan(om.values[0, 0]) and np.isfinite(om.values[1, 1])
    with pytest.raises(InputError) as exc:
        optics.onset_map(A, t_start_s=2.0, t_end_s=3.5)
    assert "movie.tif" in str(exc.value) and "4 frames" in str(exc.value)


def test_a_window_without_alloying_gives_no_onsets():
    rng = np.random.default_rng(2)
    m = _movie((1500.0 * (1 + rng.normal(0, 0.01, (40, 20, 20)))).astype(np.float32))
    A = optics.absorbance(optics.transmittance(m, n_ref=3))
    om = optics.onset_map(A, t_start_s=3.0, t_end_s=39.0)
    assert np.isnan(om.values).mean() > 0.99


def test_alloyed_fraction_and_extreme_regions():
    m, tau = _alloying_movie()
    fr = optics.alloyed_fraction(tau, [0.0, np.median(tau), 100.0])
    assert fr["fraction"].tolist()[0] == 0.0 and fr["fraction"].tolist()[2] == 1.0
    assert fr["fraction"].iloc[1] == pytest.approx(0.5, abs=0.02)
    reg = optics.extreme_regions(tau, fraction=0.1)
    assert tau[reg["init"]].max() < tau[reg["fnl"]].min()
    assert reg["init"].mean() == pytest.approx(0.1, abs=0.03)
    A = optics.absorbance(optics.transmittance(m, t_ref_s=0.0))
    nrm = optics.normalize_window(A, t_start_s=2.0, t_end_s=50.0)
    cv = optics.regional_curves(nrm, {"area_init": reg["init"], "area_fnl": reg["fnl"]})
    mid = np.argmin(abs(cv["t_s"] - np.median(tau)))
    assert cv["area_init"].iloc[mid] > 0.9 and cv["area_fnl"].iloc[mid] < 0.1
    assert 0.3 < cv["mean"].iloc[mid] < 0.7


def test_complementarity_against_independent_pearson():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(40, 40))
    b = -a + 0.3 * rng.normal(size=a.shape)
    late_a = (a > np.median(a)).astype(float)
    early_b = (b <= np.median(b)).astype(float)
    expected = np.corrcoef(late_a.ravel(), early_b.ravel())[0, 1]
    res = optics.complementarity(a, b)
    assert res["r"] == pytest.approx(expected, abs=1e-9)
    assert res["r"] > 0.6
    assert abs(optics.complementarity(a, rng.normal(size=a.shape))["r"]) < 0.1
    assert optics.complementarity(np.full((3, 3), np.nan), a[:3, :3])["r"] is None


def test_temporal_color_code_colours_by_time():
    data = np.zeros((3, 2, 3), np.float32)
    data[0, :, 0] = 1.0  # changes first at x = 0
    data[2, :, 2] = 1.0  # last at x = 2
    rgb = optics.temporal_color_code(_movie(data), cmap="viridis")
    from matplotlib import colormaps

    np.testing.assert_allclose(rgb.values[0, 0], colormaps["viridis"](0.0)[:3], atol=1e-6)
    np.testing.assert_allclose(rgb.values[0, 2], colormaps["viridis"](1.0)[:3], atol=1e-6)
    assert np.all(rgb.values[:, 1] == 0)
    assert rgb.attrs["t_range_s"] == [0.0, 2.0]


def test_montage_frames_are_normalised_per_row():
    m, _ = _alloying_movie()
    row = optics.montage_frames(m, t_start_s=0.0, t_end_s=50.0, n=5)
    assert row.sizes["t"] == 5
    assert float(row.min()) == 0.0 and float(row.max()) == 1.0


def test_nanmedian_equals_numpys_bit_for_bit():
    """onset_map's field median (one partition around rank k and the maximum below it)
    is numpy's nanmedian value for float16/32/64, odd and even sizes, ties, NaN, ±inf
    and subnormals; all-NaN input gives NaN with numpy's warning."""
    import warnings

    from platescope.optics._alloying import _nanmedian

    rng = np.random.default_rng(5)
    for i in range(600):
        n = int(rng.integers(1, 300))
        kind = i % 5
        if kind == 0:
            v = rng.normal(0.0, 1.0, n)
        elif kind == 1:
            v = rng.integers(-3, 4, n).astype(float)  # ties
        elif kind == 2:
            v = rng.normal(0.0, 1.0, n)
            v[rng.random(n) < 0.3] = np.nan
        elif kind == 3:
            v = rng.choice([np.inf, -np.inf, 1.0, 3e4, -3e4], n)
        else:
            v = rng.normal(0.0, 1e-41, n)  # subnormal in float32, zero in float16
        v = v.astype((np.float16, np.float32, np.float64)[i % 3])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN draws
            want = np.nanmedian(v)
            got = _nanmedian(v)
        assert np.array_equal(np.float64(want), np.float64(got), equal_nan=True), (i, want, got)
        assert np.signbit(want) == np.signbit(got)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(_nanmedian(np.full(5, np.nan, np.float32)))
