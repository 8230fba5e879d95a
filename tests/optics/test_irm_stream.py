"""One pass for the IRM preprocessing curves: same numbers as the step-by-step chain,
planted truth recovered, and each chunk of the movie read a bounded number of times."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from platescope import optics, sync
from platescope._errors import InputError
from platescope.optics import (
    correct_illumination_drift,
    irm_frame_statistics,
    subtract_reference,
    t_nuc_regions,
)
from platescope.simulate import as_movie, make_irm_galvanostatic


@pytest.fixture(scope="module")
def sim():
    return make_irm_galvanostatic(seed=3, irm_size_px=96, irm_pixel_size_um=0.1)


def _old_style(after, mask, outside, region_px):
    """The chain prepare_irm ran before the single pass (three reads of the movie)."""
    moved, gain = correct_illumination_drift(after, reference=outside, frame=0)
    sub = subtract_reference(moved, frame=0)
    mean = np.asarray(sub.where(xr.DataArray(mask, dims=("y", "x"))).mean(("y", "x")), float)
    regions = t_nuc_regions(sub, region_px=region_px, mask=mask, n_boot=20)
    return sub, gain, mean, regions


def _after_and_masks(sim, lazy: bool):
    movie = as_movie(sim)
    if lazy:  # chunks of 7 frames: runs cross many chunk boundaries
        movie = movie.copy(data=da.from_array(movie.values, chunks=(7, -1, -1)))
    after = movie.isel(t=slice(40, None))
    truth_fp = np.asarray(sim["footprint_mask"], bool)
    from scipy import ndimage

    outside = ~ndimage.binary_dilation(truth_fp, iterations=10)
    return after, truth_fp, outside


@pytest.mark.parametrize("lazy", [False, True])
def test_single_pass_matches_the_step_by_step_chain(sim, lazy):
    after, fp, outside = _after_and_masks(sim, lazy)
    sub, gain, mean, regions = _old_style(after, fp, outside, 14)
    st = irm_frame_statistics(after, footprint=fp, outside=outside, region_px=14)
    np.testing.assert_allclose(st["gain"], gain, rtol=1e-12)
    # float32 frames, float64 sums: within float32 rounding of the counts
    scale = float(np.abs(np.asarray(sub.isel(t=-1))).max())
    np.testing.assert_allclose(st["footprint_mean"], mean, rtol=0, atol=1e-5 * scale)
    fast = t_nuc_regions(
        sub,
        region_px=14,
        mask=fp,
        n_boot=20,
        region_means=st["region_means"],
    )
    assert len(fast) == len(regions) > 3
    np.testing.assert_allclose(fast["t_nuc_s"], regions["t_nuc_s"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fast["peak_rate"], regions["peak_rate"], rtol=1e-4)


def test_planted_gain_deposit_and_nan_pixels():
    rng = np.random.default_rng(0)
    nt, ny, nx = 30, 28, 42
    g = 1.0 + 0.05 * np.sin(np.arange(nt) / 4.0)  # planted illumination gain
    base = 800.0 + 200.0 * rng.random((ny, nx))
    dep = np.zeros((nt, ny, nx))
    fp = np.zeros((ny, nx), bool)
    fp[:14, :28] = True  # two full 14-px regions
    dep[:, :14, :14] = np.linspace(0, 60, nt)[:, None, None]  # region (0, 0)
    dep[:, :14, 14:28] = np.linspace(0, -30, nt)[:, None, None]  # region (0, 1)
    mv = (base + dep) * g[:, None, None]
    mv[5, 2, 3] = np.nan  # one missing footprint pixel in one frame
    movie = xr.DataArray(mv, dims=("t", "y", "x"), coords={"t": np.arange(nt) * 0.2})
    st = irm_frame_statistics(movie, footprint=fp, outside=~fp, region_px=14)
    np.testing.assert_allclose(st["gain"], g / g[0], rtol=1e-12)
    want = (np.linspace(0, 60, nt) + np.linspace(0, -30, nt)) / 2
    # frame 5: the footprint mean skips the NaN pixel (its region is 60/nt·5 above)
    want5 = (np.linspace(0, 60, nt)[5] * 195 + np.linspace(0, -30, nt)[5] * 196) / 391
    want[5] = want5
    # frames are float32 after the drift division (as the lazy preprocessed movie):
    # ≈ 1e-4 counts of rounding on ~1000 counts
    np.testing.assert_allclose(st["footprint_mean"], want, atol=2e-4)
    assert st["region_keep"].tolist() == [[True, True, False], [False, False, False]]
    # the NaN pixel propagates into its region (as t_nuc_regions reading the movie does)
    assert np.isnan(st["region_means"][5, 0]) and np.isfinite(st["region_means"][5, 1])
    ok = np.arange(nt) != 5
    np.testing.assert_allclose(st["region_means"][ok, 0], np.linspace(0, 60, nt)[ok], atol=2e-4)
    np.testing.assert_allclose(st["region_means"][:, 1], np.linspace(0, -30, nt), atol=2e-4)


def test_bad_masks_are_input_errors():
    movie = xr.DataArray(np.ones((4, 20, 20)), dims=("t", "y", "x"), coords={"t": np.arange(4.0)})
    fp = np.zeros((20, 20), bool)
    with pytest.raises(InputError, match="fewer than 10"):
        irm_frame_statistics(movie, footprint=fp, outside=np.zeros((20, 20), bool))
    with pytest.raises(InputError, match="shape"):
        irm_frame_statistics(movie, footprint=np.zeros((5, 5), bool))
    zero = movie * 0
    with pytest.raises(InputError, match="non-positive"):
        irm_frame_statistics(zero, footprint=fp, outside=~fp)
    with pytest.raises(InputError, match="region_means has shape"):
        t_nuc_regions(movie, region_px=10, region_means=np.zeros((3, 1)))
    with pytest.raises(InputError, match="reference frame given has shape"):
        subtract_reference(movie, frame=0, reference_values=np.zeros((3, 3)))
    with pytest.raises(InputError, match="drift levels given"):
        correct_illumination_drift(movie, reference=~fp, level=np.ones(3))


class _CountingStore:
    """A numpy movie that counts how often each frame is fetched."""

    def __init__(self, arr):
        self.arr, self.shape, self.dtype, self.ndim = arr, arr.shape, arr.dtype, arr.ndim
        self.frames = np.zeros(arr.shape[0], int)

    def __getitem__(self, key):
        t = key[0] if isinstance(key, tuple) else key
        idx = np.arange(self.shape[0])[t]
        self.frames[np.atleast_1d(idx)] += 1
        return self.arr[key]


def test_prepare_irm_reads_the_movie_twice_plus_a_few_frames(sim):
    movie = as_movie(sim)
    store = _CountingStore(np.asarray(movie.values))
    lazy = movie.copy(data=da.from_array(store, chunks=(16, -1, -1), asarray=True))
    irm = optics.prepare_irm(lazy, sim["echem"], region_px=14)
    # mean intensity (sync) + the single statistics pass; the landing step, the step
    # image and the reference frame add a few frames each
    reads = store.frames
    assert np.median(reads) == 2, np.bincount(reads)
    assert reads.sum() <= 2 * reads.size + 10 * 16
    # and the pipeline-facing numbers equal the step-by-step chain's
    eager = optics.prepare_irm(movie, sim["echem"])
    assert irm["sync"]["offset_s"] == eager["sync"]["offset_s"]
    np.testing.assert_allclose(irm["mean"], eager["mean"], atol=1e-3)
    regions = t_nuc_regions(eager["sub"], region_px=14, mask=eager["mask_np"], n_boot=20)
    np.testing.assert_allclose(
        t_nuc_regions(
            eager["sub"],
            region_px=14,
            mask=eager["mask_np"],
            n_boot=20,
            region_means=irm["region_means"],
        )["t_nuc_s"],
        regions["t_nuc_s"],
        atol=1e-6,
    )
    assert isinstance(regions, pd.DataFrame)
    assert sync.mean_intensity(movie).shape == reads.shape


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("kernels", ["numba", "numpy"])
def test_window_sums_of_the_pass_equal_window_means_of_the_chain(sim, lazy, kernels, monkeypatch):
    """The CE windows summed in the single pass are bit-identical to window_means (its
    compiled or numpy kernel, an independent implementation) on the preprocessed movie."""
    from platescope.optics import window_means
    from platescope.optics._ce_map import _window_matrix

    monkeypatch.setenv("PLATESCOPE_KERNELS", kernels)
    after, fp, outside = _after_and_masks(sim, lazy)
    t = after.t.values
    inst = [t[0], t[3], t[40] + 0.1, t[-2], t[-1]]  # windows over chunk edges and both ends
    span = (float(t[1]), float(t[-1]))
    weights, used = _window_matrix(t, inst, 1.0, span)
    st = irm_frame_statistics(
        after, footprint=fp, outside=outside, window_weights=(weights, used), max_block_mb=0.2
    )
    moved, _ = correct_illumination_drift(after, reference=outside, frame=0)
    sub = subtract_reference(moved, frame=0)
    ref = window_means(sub.compute(), inst, window_s=1.0, span_s=span)
    np.testing.assert_array_equal(st["window_sums"], ref.values)
    assert st["window_sums"].shape == (5, *fp.shape) and np.abs(ref.values).max() > 1.0


def test_prepare_irm_gives_the_ce_windows_of_the_covered_cycles(sim):
    movie = as_movie(sim)
    store = _CountingStore(np.asarray(movie.values))
    lazy = movie.copy(data=da.from_array(store, chunks=(16, -1, -1), asarray=True))
    t_end = float(sim["echem"]["time_s"].iloc[-1])
    cycles = pd.DataFrame(  # the last one ends after the movie: not covered
        {
            "cycle": [1, 2, 3],
            "t_start_s": [1.0, 0.4 * t_end, 0.5 * t_end],
            "t_switch_s": [0.2 * t_end, 0.45 * t_end, 0.7 * t_end],
            "t_end_s": [0.3 * t_end, 0.5 * t_end, 5.0 * t_end],
        }
    )
    irm = optics.prepare_irm(lazy, sim["echem"], ce_cycles=cycles, ce_window_s=1.5)
    assert np.median(store.frames) == 2  # no read of its own
    got = irm["ce_window_images"]
    eager = optics.prepare_irm(movie, sim["echem"])
    covered = cycles.iloc[:2]
    ds = optics.ce_intensity_changes(eager["sub"], covered, window_s=1.5, sigma_um=0)
    inst = np.concatenate(
        [covered[c].to_numpy(float) for c in ("t_start_s", "t_switch_s", "t_end_s")]
    )
    np.testing.assert_array_equal(got["instant"].values, inst)
    want = optics.window_means(eager["sub"], inst, window_s=1.5, span_s=(1.0, 0.5 * t_end)).values
    np.testing.assert_array_equal(got.values, want)
    fast = optics.ce_intensity_changes(
        eager["sub"], covered, window_s=1.5, sigma_um=0, window_images=got
    )
    for name in ("I_c", "I_a", "residual", "ratio"):
        np.testing.assert_array_equal(fast[name].values, ds[name].values)
    with pytest.raises(InputError, match="window means given"):
        optics.ce_intensity_changes(
            eager["sub"], covered, window_s=2.0, sigma_um=0, window_images=got
        )
    no_switch = cycles.assign(t_switch_s=[np.nan, 1.0, 2.0])
    assert "ce_window_images" not in optics.prepare_irm(movie, sim["echem"], ce_cycles=no_switch)
