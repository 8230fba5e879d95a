"""CE(IRM): window means, I_c/I_a maps, calibration and maps against planted truth."""

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from platescope import InputError
from platescope.optics import (
    apply_ce_calibration,
    ce_calibration,
    ce_histograms,
    ce_intensity_changes,
    window_means,
)

PX = 0.1


def _planted_movie(n_cycles=4, ny=30, nx=40, dt=0.25, noise=0.0, seed=0):
    """Landing-subtracted movie: per cycle, a plating ramp then a stripping ramp.

    Pixel p deposits ``dep[p]`` counts per cycle (10 s ramp up), then strips
    ``r_n[p]·dep[p]`` (10 s ramp down), then rests 5 s. Returns movie, cycles table,
    planted ratio maps (cycle, y, x) and the mask.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:ny, :nx]
    mask = (yy - ny / 2) ** 2 + (xx - nx / 2) ** 2 < (0.4 * ny) ** 2
    dep = np.where(mask, 100.0 + 40.0 * np.sin(xx / 5.0), 0.0)
    period = 25.0
    t = np.arange(0, n_cycles * period, dt)
    base = np.zeros((ny, nx))
    frames = np.zeros((t.size, ny, nx))
    ratios = np.zeros((n_cycles, ny, nx))
    rows = []
    for n in range(n_cycles):
        r = np.clip(0.3 + 0.15 * n + 0.1 * np.cos(yy / 4.0), 0, 1)
        ratios[n] = r
        t0 = n * period
        sel = (t >= t0) & (t < t0 + period)
        tau = t[sel] - t0
        up = np.clip(tau / 10.0, 0, 1)[:, None, None]
        down = np.clip((tau - 10.0) / 10.0, 0, 1)[:, None, None]
        frames[sel] = base + dep * up - r * dep * down
        base = base + dep * (1 - r)
        rows.append(
            {"cycle": n + 1, "t_start_s": t0, "t_end_s": t0 + period - dt, "t_switch_s": t0 + 10.0}
        )
    frames += rng.normal(0, noise, frames.shape)
    mv = xr.DataArray(
        frames.astype(np.float32),
        dims=("t", "y", "x"),
        coords={"t": t, "y": np.arange(ny) * PX, "x": np.arange(nx) * PX},
    )
    return mv, pd.DataFrame(rows), ratios, mask


def test_window_means_numpy_dask_and_bands_agree():
    mv, _, _, _ = _planted_movie()
    inst = [0.0, 10.0, 24.75, 37.3]
    ref = window_means(mv, inst, window_s=1.0)
    tiny = window_means(mv, inst, window_s=1.0, max_block_mb=0.001)  # one row per band
    lazy = window_means(mv.chunk({"t": 7, "y": 11}), inst, window_s=1.0)
    np.testing.assert_allclose(tiny.values, ref.values, rtol=1e-6)
    np.testing.assert_allclose(lazy.values, ref.values, rtol=1e-6)
    # each window averaged the frames within ±0.5 s (independent mean)
    t = mv.t.values
    sel = np.abs(t - 10.0) <= 0.5
    np.testing.assert_allclose(ref.values[1], mv.values[sel].mean(axis=0), rtol=1e-6)
    assert ref.attrs["n_frames"][1] == sel.sum()


def test_dask_movie_reads_only_window_frames():
    mv, cyc, _, mask = _planted_movie()
    n_t = mv.sizes["t"]
    seen = []

    def load(block, block_info=None):
        seen.append(block_info[0]["chunk-location"][0])
        return block

    lazy = da.from_array(mv.values, chunks=(1, -1, -1)).map_blocks(load, dtype=np.float32)
    mvl = mv.copy(data=lazy)
    with dask.config.set(scheduler="synchronous"):
        ds = ce_intensity_changes(mvl, cyc, mask=mask, window_s=1.0, sigma_um=0.0)
    assert 0 < len(set(seen)) < n_t / 4  # only the frames in the 12 windows
    ref = ce_intensity_changes(mv, cyc, mask=mask, window_s=1.0, sigma_um=0.0)
    np.testing.assert_allclose(ds["I_c"].values, ref["I_c"].values, rtol=1e-5)


def test_planted_ratio_and_calibration_recovered():
    mv, cyc, ratios, mask = _planted_movie()
    ds = ce_intensity_changes(mv, cyc, mask=mask, window_s=0.0, sigma_um=0.0)
    got = (ds["I_a"] / ds["I_c"]).values
    np.testing.assert_allclose(got[:, mask], ratios[:, mask], atol=1e-4)
    # footprint ratio = ratio of footprint-mean changes (planted, independent)
    dep = ds["I_c"].values[0][mask]
    for n in range(len(cyc)):
        np.testing.assert_allclose(
            ds["ratio"].values[n], (ratios[n][mask] * dep).sum() / dep.sum(), rtol=1e-4
        )
    ce = 0.9 * ds["ratio"].values + 0.02  # planted calibration
    cal = ce_calibration(ds["ratio"].values, ce)
    assert cal["slope"] == pytest.approx(0.9, abs=1e-6)
    assert cal["intercept"] == pytest.approx(0.02, abs=1e-6)
    assert cal["r2"] == pytest.approx(1.0, abs=1e-9)
    maps = apply_ce_calibration(ds, cal)
    np.testing.assert_allclose(maps.values[:, mask], 0.9 * ratios[:, mask] + 0.02, atol=1e-4)
    assert np.isnan(maps.values[:, ~mask]).all()
    # residual = what stays after the last cycle = Σ dep·(1 − r)
    np.testing.assert_allclose(
        ds["residual"].values[mask], (dep[None] * (1 - ratios[:, mask])).sum(axis=0), rtol=1e-3
    )


def test_switch_from_signal_maximum_and_blur_with_noise():
    mv, cyc, ratios, mask = _planted_movie(noise=20.0, seed=3)
    no_switch = cyc.drop(columns=["t_switch_s"])
    ds = ce_intensity_changes(mv, no_switch, mask=mask, window_s=1.5, sigma_um=0.3)
    assert ds.attrs["switch_source"].startswith("maximum")
    np.testing.assert_allclose(ds["t_switch_s"], cyc["t_switch_s"], atol=0.8)
    got = (ds["I_a"] / ds["I_c"]).values[:, mask]
    # noise 20 counts/frame, 7 frames/window, σ = 3 px blur (÷ ~10): |err| well below 0.05
    assert np.median(np.abs(got - ratios[:, mask])) < 0.03


def test_calibration_errors_match_scatter():
    rng = np.random.default_rng(0)
    x = np.linspace(0.2, 0.9, 10)
    slopes, errs = [], []
    for _ in range(300):
        cal = ce_calibration(x, 1.1 * x - 0.05 + rng.normal(0, 0.01, x.size))
        slopes.append(cal["slope"])
        errs.append(cal["slope_err"])
    assert np.std(slopes) == pytest.approx(np.mean(errs), rel=0.15)


def test_calibration_needs_three_points_and_spread():
    assert ce_calibration([0.2, 0.5], [0.2, 0.5])["slope"] is None
    assert "same" in ce_calibration([0.5, 0.5, 0.5], [0.2, 0.3, 0.4])["reason"]
    with pytest.raises(InputError, match="no slope"):
        apply_ce_calibration(xr.Dataset(), {"slope": None, "reason": "x"})


def test_low_ic_pixels_are_excluded():
    mv, cyc, _, mask = _planted_movie()
    ds = ce_intensity_changes(mv, cyc, mask=mask, window_s=0.0, sigma_um=0.0)
    ic = ds["I_c"].values.copy()
    ic[:, 15, 20] = 1.0  # a pixel with (almost) no deposit: I_a/I_c would explode
    ds["I_c"].values[:] = ic
    maps = apply_ce_calibration(ds, {"slope": 1.0, "intercept": 0.0})
    assert np.isnan(maps.values[:, 15, 20]).all()
    assert maps.attrs["n_excluded"] == [1] * len(cyc)


def test_histograms_count_the_finite_pixels():
    mv, cyc, _, mask = _planted_movie()
    ds = ce_intensity_changes(mv, cyc, mask=mask, window_s=0.0, sigma_um=0.0)
    maps = apply_ce_calibration(ds, {"slope": 1.0, "intercept": 0.0})
    h = ce_histograms(maps)
    assert (h.groupby("cycle")["count"].sum() == mask.sum()).all()
    np.testing.assert_allclose(h.groupby("cycle")["fraction"].sum(), 1.0)


def test_bad_input_names_the_fix():
    mv, cyc, _, mask = _planted_movie(n_cycles=2)
    late = cyc.assign(t_start_s=cyc["t_start_s"] + 500, t_end_s=cyc["t_end_s"] + 500)
    mv.attrs["source"] = "irm.tif"
    with pytest.raises(InputError) as err:
        ce_intensity_changes(mv, late, mask=mask)
    assert "irm.tif" in str(err.value) and "synchronisation" in err.value.fix
    partly = cyc.assign(t_end_s=cyc["t_end_s"] + np.array([0, 100]))
    with pytest.raises(InputError, match=r"cycle\(s\) \[2\]"):
        ce_intensity_changes(mv, partly, mask=mask)
    with pytest.raises(InputError, match="mask has shape"):
        ce_intensity_changes(mv, cyc, mask=np.ones((3, 3), bool))
    with pytest.raises(InputError, match="empty"):
        ce_intensity_changes(mv, cyc.iloc[:0], mask=mask)
    with pytest.raises(InputError, match="lacks column"):
        ce_intensity_changes(mv, cyc.drop(columns=["t_end_s"]), mask=mask)
