"""IRM preprocessing: reference subtraction, grouped averaging, blur, footprint."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage

from platescope import InputError
from platescope.optics import (
    current_density_mA_cm2,
    deposition_step_image,
    footprint_area_cm2,
    footprint_circle,
    footprint_from_deposition,
    footprint_mask,
    gaussian_blur,
    group_average,
    subtract_reference,
)


def _movie(nt=7, ny=12, nx=10, *, dy=0.04, dx=0.04, seed=0, dtype=np.uint16):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.15, 0.35, nt))  # irregular real timestamps
    data = rng.integers(100, 4000, (nt, ny, nx)).astype(dtype)
    return xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={"t": t, "y": dy * np.arange(ny), "x": dx * np.arange(nx)},
        attrs={"units": "counts", "mode": "irm", "source": "synthetic.tif"},
    )


def test_subtract_reference():
    m = _movie()
    out = subtract_reference(m, frame=2)
    assert out.dtype == np.float32
    expected = m.values.astype(np.float64) - m.values[2].astype(np.float64)
    np.testing.assert_array_equal(out.values, expected.astype(np.float32))
    np.testing.assert_array_equal(out.t.values, m.t.values)
    assert out.attrs["reference_frame"] == 2 and out.attrs["mode"] == "irm"
    assert out.attrs["reference_time_s"] == pytest.approx(float(m.t[2]))
    np.testing.assert_array_equal(subtract_reference(m, frame=-1).values[-1], 0.0)
    lazy = m.copy(data=da.from_array(m.values, chunks=(2, 6, 5)))
    lazy_out = subtract_reference(lazy, frame=2)
    assert isinstance(lazy_out.data, da.Array)
    np.testing.assert_array_equal(lazy_out.values, out.values)
    for bad in (7, -8, 1.5):
        with pytest.raises(InputError):
            subtract_reference(m, frame=bad)


def test_subtract_reference_reads_the_reference_chunk_once():
    """A lazy movie: blocks read later must not recompute the chunk holding the
    reference frame (it was re-decoded for every block a consumer fetched)."""
    m = _movie(nt=8)
    loads = []

    def load(block, block_info=None):
        loads.append(block_info[0]["chunk-location"][0])
        return block

    lazy = m.copy(data=da.from_array(m.values, chunks=(2, -1, -1)).map_blocks(load, dtype=m.dtype))
    out = subtract_reference(lazy, frame=1)
    assert loads == [0]  # the reference frame, computed once
    for k in range(2, 8):  # a consumer reading frame by frame
        np.testing.assert_array_equal(
            out.isel(t=k).values, m.values[k].astype(np.float32) - m.values[1]
        )
    assert loads.count(0) == 1 and sorted(loads[1:]) == [1, 1, 2, 2, 3, 3]


def test_group_average_times_are_group_means():
    m = _movie(nt=7)
    g = group_average(m, size=2)
    assert g.sizes["t"] == 3  # the 7th frame has no partner and is dropped
    t = m.t.values
    np.testing.assert_allclose(
        g.t.values, [(t[0] + t[1]) / 2, (t[2] + t[3]) / 2, (t[4] + t[5]) / 2]
    )
    v = m.values.astype(np.float64)
    np.testing.assert_allclose(g.values[1], (v[2] + v[3]) / 2, rtol=1e-6)
    assert g.dtype == np.float32 and g.attrs["group_size"] == 2
    g3 = group_average(m.astype(np.float64), size=3)
    assert g3.dtype == np.float64
    np.testing.assert_allclose(g3.t.values, [t[:3].mean(), t[3:6].mean()])
    np.testing.assert_allclose(g3.values[1], v[3:6].mean(axis=0))
    lazy = m.copy(data=da.from_array(m.values, chunks=(3, 12, 10)))
    lg = group_average(lazy, size=2)
    assert isinstance(lg.data, da.Array)
    np.testing.assert_allclose(lg.values, g.values, rtol=1e-6)
    with pytest.raises(InputError):
        group_average(m, size=8)
    with pytest.raises(InputError):
        group_average(m, size=0)


def test_gaussian_blur_anisotropic_pixels_in_um():
    m = _movie(nt=3, ny=40, nx=30, dy=0.04, dx=0.1, dtype=np.float64)
    out = gaussian_blur(m, sigma_um=0.5)
    expected = np.stack(
        [ndimage.gaussian_filter(f, sigma=(0.5 / 0.04, 0.5 / 0.1)) for f in m.values]
    )
    np.testing.assert_allclose(out.values, expected, rtol=1e-10)
    assert out.attrs["blur_sigma_um"] == 0.5


def test_gaussian_blur_variance_is_sigma_squared_and_stays_in_its_frame():
    """Physics check independent of scipy: a point spreads with variance σ² in µm² along
    each axis, whatever the pixel aspect ratio, and never leaks into other frames."""
    ny, nx, dy, dx = 81, 61, 0.1, 0.25  # σ = 8 × 3.2 px, image ≥ 5 σ from the point
    data = np.zeros((3, ny, nx), np.float32)
    data[1, 40, 30] = 1.0
    m = xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={"t": [0.0, 0.2, 0.5], "y": dy * np.arange(ny), "x": dx * np.arange(nx)},
    )
    out = gaussian_blur(m, sigma_um=0.8).values.astype(np.float64)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[2], 0.0)
    img = out[1]
    assert img.sum() == pytest.approx(1.0, rel=1e-5)
    y = dy * (np.arange(ny) - 40)
    x = dx * (np.arange(nx) - 30)
    var_y = (img.sum(axis=1) * y**2).sum()
    var_x = (img.sum(axis=0) * x**2).sum()
    assert var_y == pytest.approx(0.64, rel=0.02)
    assert var_x == pytest.approx(0.64, rel=0.03)


def test_gaussian_blur_dask_and_image():
    m = _movie(nt=4, ny=20, nx=16, dtype=np.float32)
    eager = gaussian_blur(m, sigma_um=0.1)
    assert eager.dtype == np.float32
    lazy = gaussian_blur(m.copy(data=da.from_array(m.values, chunks=(1, 7, 5))), sigma_um=0.1)
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-6)
    frame = gaussian_blur(m.isel(t=1, drop=True), sigma_um=0.1)
    assert frame.dims == ("y", "x")
    np.testing.assert_allclose(frame.values, eager.values[1], rtol=1e-6)
    with pytest.raises(InputError):
        gaussian_blur(m.drop_vars("x"), sigma_um=1.0)


def _step_image(seed=0, noise=8.0):
    """Landing step image: a disc of +100 counts (r = 2 µm) with a 0.4-µm hole of
    background inside, a small bright speck outside, and noise."""
    rng = np.random.default_rng(seed)
    n, px = 160, 0.04
    c = (np.arange(n) - 80) * px
    yy, xx = np.meshgrid(c, c, indexing="ij")
    r = np.hypot(yy, xx)
    disc = r < 2.0
    img = 100.0 * disc
    img[np.hypot(yy - 0.5, xx + 0.5) < 0.2] = 0.0  # hole (a dark particle) inside
    img[np.hypot(yy - 2.8, xx - 2.8) < 0.15] = 120.0  # speck outside
    img += rng.normal(0, noise, img.shape)
    im = xr.DataArray(img, dims=("y", "x"), coords={"y": c, "x": c})
    return im, disc


def test_footprint_mask_recovers_disc():
    im, disc = _step_image()
    mask = footprint_mask(im)
    assert mask.dtype == bool and mask.dims == ("y", "x")
    iou = (mask.values & disc).sum() / (mask.values | disc).sum()
    assert iou > 0.97  # hole filled, speck dropped, noise tolerated
    assert not mask.values[np.hypot(*np.meshgrid(im.y, im.x, indexing="ij")) > 2.3].any()
    assert 20.0 < mask.attrs["threshold"] < 80.0
    area = footprint_area_cm2(mask)
    assert area == pytest.approx(np.pi * 2.0**2 * 1e-8, rel=0.03)
    dark = footprint_mask(-im, polarity="dark", method=-50.0)
    iou_dark = (dark.values & disc).sum() / (dark.values | disc).sum()
    assert iou_dark > 0.97 and dark.attrs["threshold"] == -50.0
    noisy, _ = _step_image(noise=40.0)
    smoothed = footprint_mask(noisy, sigma_um=0.12)
    assert (smoothed.values & disc).sum() / (smoothed.values | disc).sum() > 0.95


def test_footprint_bad_input():
    im, _ = _step_image()
    with pytest.raises(InputError):
        footprint_mask(im * 0.0)
    with pytest.raises(InputError):
        footprint_mask(im, method="li")
    with pytest.raises(InputError):
        footprint_mask(im, method=1e9)
    with pytest.raises(InputError):
        footprint_mask(im.expand_dims("t"))


def test_area_and_current_density():
    mask = xr.DataArray(
        np.ones((50, 20), bool),
        dims=("y", "x"),
        coords={"y": 0.04 * np.arange(50), "x": 0.1 * np.arange(20)},
    )
    assert footprint_area_cm2(mask) == pytest.approx(1000 * 0.004 * 1e-8)
    # -0.2 mA/cm² on a 10-µm disc (SCIENCE.md §2 magnitudes)
    area = np.pi * 5.0**2 * 1e-8
    assert current_density_mA_cm2(-0.2e-3 * area, area) == pytest.approx(-0.2)
    s = pd.Series([-1e-9, 2e-9], index=[3, 4])
    out = current_density_mA_cm2(s, 1e-6)
    assert isinstance(out, pd.Series) and list(out.index) == [3, 4]
    np.testing.assert_allclose(out.to_numpy(), [-1.0, 2.0])
    np.testing.assert_allclose(current_density_mA_cm2(np.array([1e-9]), 1e-6), [1.0])
    for bad in (0.0, -1e-6, float("nan")):
        with pytest.raises(InputError):
            current_density_mA_cm2(1e-9, bad)


def test_movie_validation():
    m = _movie()
    with pytest.raises(InputError, match="strictly increasing"):
        subtract_reference(m.assign_coords(t=np.r_[m.t.values[:3], m.t.values[2:6]]), frame=0)
    with pytest.raises(InputError, match="dims"):
        group_average(m.transpose("x", "y", "t"))
    with pytest.raises(InputError, match="synthetic.tif"):
        group_average(m.assign_coords(t=np.zeros(7)))
    with pytest.raises(InputError):
        subtract_reference(m.values, frame=0)


# ------------------------------------------------------------------ no landing step


def _contact_start_movie(*, seed=0, centre=(2.1, 1.9), radius=1.2, at_border=False):
    """A movie that starts at contact: a uniform deposit ramp over a disk until 8 s, then
    patchy growth (a few hot spots growing 20× faster, a dead patch). Returns the movie and
    the planted disk (pixel centres within ``radius``)."""
    rng = np.random.default_rng(seed)
    n, px = 80, 0.05
    yy, xx = np.mgrid[:n, :n] * px
    if at_border:
        centre = (0.3, 2.0)
    disk = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2
    t = np.cumsum(rng.uniform(0.22, 0.28, 70))
    late = np.clip(t - 8.0, 0, None)
    hot = np.zeros((n, n))
    for hx, hy in ((1.6, 1.5), (2.6, 2.4), (2.0, 1.0)):
        hot += np.exp(-((xx - hx) ** 2 + (yy - hy) ** 2) / (2 * 0.15**2))
    dead = ((xx - 2.6) ** 2 + (yy - 1.4) ** 2 < 0.3**2).astype(float)
    sig = 10.0 * np.minimum(t, 8.0)[:, None, None] + late[:, None, None] * (
        10.0 + 200.0 * hot - 10.0 * dead
    )
    bg = 2000.0 * (1 + 0.03 * np.sin(xx / 0.3) * np.cos(yy / 0.4))
    frames = bg + 120.0 * disk + sig * disk + rng.normal(0, 20.0, (t.size, n, n))
    movie = xr.DataArray(
        frames.astype(np.float32),
        dims=("t", "y", "x"),
        coords={"t": t, "y": yy[:, 0], "x": xx[0]},
        attrs={"source": "contact.tif"},
    )
    return movie, disk, centre


def test_deposition_step_image_prefers_the_uniform_early_deposit():
    movie, disk, _ = _contact_start_movie()
    img = deposition_step_image(movie, sigma_um=0.2)
    assert img.attrs["t_end_s"] < 8.0  # before the deposit turns patchy
    far = ~ndimage.binary_dilation(disk, iterations=12)  # beyond the blurred edge
    inner = ndimage.binary_erosion(disk, iterations=12)
    # uniform inside (no hot spot yet) and well above the noise outside
    assert img.values[inner].std() < 0.1 * img.values[inner].mean()
    assert img.values[inner].mean() > 10 * img.values[far].std()


@pytest.mark.parametrize("seed", range(3))
def test_footprint_from_deposition_recovers_the_planted_disk(seed):
    movie, disk, centre = _contact_start_movie(seed=seed)
    true_cm2 = disk.sum() * 0.05**2 * 1e-8
    mask, info = footprint_from_deposition(movie, sigma_um=0.2)
    assert info["source"] == "deposition signal" and info["warnings"] == []
    # the threshold sits mid-step on an edge blurred symmetrically, so the outline is off
    # by less than half a pixel around the perimeter: |ΔA|/A < 2·(0.5 px)/r
    assert abs(info["area_cm2"] / true_cm2 - 1) < 2 * 0.5 * 0.05 / 1.2
    assert abs(info["area_cm2"] - true_cm2) <= 2 * info["area_cm2_err"]
    assert footprint_area_cm2(mask) == pytest.approx(info["area_cm2"])
    assert np.hypot(info["centre_x_um"] - centre[0], info["centre_y_um"] - centre[1]) < 0.05
    assert np.mean(mask.values != disk) < 0.02


def test_given_area_is_checked_against_the_outline():
    movie, disk, _ = _contact_start_movie()
    true_cm2 = disk.sum() * 0.05**2 * 1e-8
    _, ok = footprint_from_deposition(movie, area_cm2=true_cm2)
    assert ok["warnings"] == [] and ok["given_area_cm2"] == true_cm2
    _, bad = footprint_from_deposition(movie, area_cm2=1.5 * true_cm2)
    assert [w["code"] for w in bad["warnings"]] == ["footprint-area-mismatch"]
    assert bad["source"] == "deposition signal"  # the outline is kept; the warning says why


def test_untrusted_outline_falls_back_to_a_circle_of_the_given_area():
    movie, disk, centre = _contact_start_movie()
    true_cm2 = disk.sum() * 0.05**2 * 1e-8
    # an outline demanded beyond reach: the circle of the given area takes over
    mask, info = footprint_from_deposition(movie, area_cm2=true_cm2, min_contrast=1e9)
    assert info["source"] == "area_cm2 centred on the deposition signal"
    assert "weak" in info["outline_reason"]
    assert (
        np.hypot(mask.attrs["centre_x_um"] - centre[0], mask.attrs["centre_y_um"] - centre[1])
        < 0.05
    )
    assert footprint_area_cm2(mask) == pytest.approx(true_cm2, rel=0.03)
    none, why = footprint_from_deposition(movie, min_contrast=1e9)
    assert none is None and "weak" in why["reason"] and why["can_centre"]
    _, patchy = footprint_from_deposition(movie, min_fill=1.01)
    assert "patchy" in patchy["reason"]
    clipped, _, _ = _contact_start_movie(at_border=True)
    none, why = footprint_from_deposition(clipped)
    assert none is None and "border" in why["reason"]


def test_footprint_circle_area_and_centre():
    im = xr.DataArray(
        np.zeros((100, 120)),
        dims=("y", "x"),
        coords={"y": 0.04 * np.arange(100), "x": 0.04 * np.arange(120)},
    )
    m = footprint_circle(im, centre_x_um=2.0, centre_y_um=1.9, area_cm2=np.pi * 1.5**2 * 1e-8)
    assert m.attrs["radius_um"] == pytest.approx(1.5)
    assert footprint_area_cm2(m) == pytest.approx(np.pi * 1.5**2 * 1e-8, rel=0.01)
    yy, xx = np.nonzero(m.values)
    assert 0.04 * xx.mean() == pytest.approx(2.0, abs=0.02)
    with pytest.raises(InputError):
        footprint_circle(im, centre_x_um=2.0, centre_y_um=1.9, area_cm2=0.0)


def test_deposition_step_image_needs_frames():
    movie, _, _ = _contact_start_movie()
    with pytest.raises(InputError, match="too few"):
        deposition_step_image(movie.isel(t=slice(0, 5)))
