"""The drift screen in the frame-quality pass and the frame cache of stabilize_movie
(issue 13 item 3, issue 17), against planted motion and counted frame reads."""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr
from scipy import ndimage

from platescope.optics import frame_quality, stabilize_movie
from platescope.optics._drift_screen import DriftScreen
from platescope.simulate._stage_motion import apply_stage_motion


class CountingFrames:
    """An array whose frame reads are counted (the backing of a dask movie)."""

    def __init__(self, data):
        self.data = data
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim
        self.frames_read = 0

    def __getitem__(self, key):
        out = self.data[key]
        self.frames_read += out.shape[0] if out.ndim == 3 else 1
        return out


def _scene(rng, n=128):
    return 2000.0 + 300.0 * ndimage.gaussian_filter(rng.normal(size=(n, n)), 2.0) / 0.14


def _movie(frames, lazy=False):
    n, ny, nx = frames.shape
    counter = None
    data = frames
    if lazy:
        counter = CountingFrames(frames)
        data = da.from_array(counter, chunks=(5, ny, nx))
    movie = xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={"t": np.arange(n) * 0.25, "y": np.arange(ny) * 0.1, "x": np.arange(nx) * 0.1},
    )
    return movie, counter


def _frames(seed, n=30, dy=None, dx=None, deposit=False):
    """Shot-noise frames of one textured scene moved by (dy, dx) per frame (px), with
    an optional dark deposit growing in the middle."""
    rng = np.random.default_rng(seed)
    scene = _scene(rng)
    stack = np.repeat(scene[None], n, 0).astype(np.float32)
    if dy is not None:
        motion = {
            "dy_px": np.asarray(dy, float),
            "dx_px": np.asarray(dx, float),
            "blurred_frames": [],
            "dark_frames": [],
            "blur_sigma_px": 1.0,
        }
        stack = apply_stage_motion(stack, motion)
    if deposit:
        yy, xx = np.mgrid[:128, :128]
        r = np.hypot(yy - 64, xx - 60)
        for k in range(n):  # radius 0 → 30 px, 40 % darker
            stack[k] *= 1.0 - 0.4 * (r < 30.0 * k / (n - 1))
    noisy = rng.poisson(np.clip(stack, 0, None)) + rng.normal(0, 5, stack.shape)
    return np.clip(noisy, 0, 4095).astype(np.uint16)


def test_screen_measures_a_planted_sub_pixel_shift_with_the_registration_sign():
    """A 0.2 px content shift (dy) and −0.15 px (dx) of every frame after the first: the
    screen's shift on the unchanged tiles has the planted sign and size."""
    n = 12
    dy = np.r_[0.0, np.full(n - 1, 0.2)]
    dx = np.r_[0.0, np.full(n - 1, -0.15)]
    movie, _ = _movie(_frames(1, n, dy, dx))
    scr = DriftScreen(movie.shape[1:])
    frame_quality(movie, on_block=scr)
    rhs, _ = scr._series()
    got = scr._solve(rhs[1:], np.ones((n - 1, len(scr.boxes)), bool))
    np.testing.assert_allclose(np.median(got, axis=0), [0.2, -0.15], atol=0.03)


def test_still_movie_stops_at_the_screen_and_is_read_once():
    """A still textured movie: the screen vouches for it (every frame within
    min_shift_px of frame 0), nothing is registered, and every frame was read once."""
    movie, counter = _movie(_frames(2), lazy=True)
    res = stabilize_movie(movie, region="whole")
    s = res["summary"]
    assert s["path"] == "screen", s["screen"]
    assert s["screen"]["verdict"] == "still"
    assert s["screen"]["motion_bound_px"] < 0.25
    assert s["applied"] is False and res["shifts"] is None
    assert counter.frames_read == movie.sizes["t"]
    np.testing.assert_array_equal(res["movie"].values, movie.values)


def test_moving_movie_goes_to_the_full_registration_from_the_frames_already_read():
    """A planted drift of 0.1 px per frame (3 px over the movie): the screen says maybe
    moving, the full registration measures the drift from the cached frames — the same
    shifts, bit for bit, as reading the movie again — and the movie is read once."""
    n = 30
    dy = 0.1 * np.arange(n)
    dx = -0.05 * np.arange(n)
    frames = _frames(3, n, dy, dx)
    movie, counter = _movie(frames, lazy=True)
    res = stabilize_movie(movie, region="whole")
    s = res["summary"]
    assert s["screen"]["verdict"] == "maybe moving"
    assert s["path"] == "full registration" and s["applied"] is True
    assert counter.frames_read == n  # the quality pass only
    err = np.hypot(res["shifts"]["dy_px"] - dy, res["shifts"]["dx_px"] - dx)
    assert float(np.sqrt(np.mean(err**2))) < 0.1
    uncached, counter2 = _movie(frames, lazy=True)
    res2 = stabilize_movie(uncached, region="whole", cache_mib=0.0)
    assert counter2.frames_read > 3 * n  # the registration's passes read it again
    cols = ["dy_px", "dx_px", "err_dy_px", "err_dx_px"]
    np.testing.assert_array_equal(res["shifts"][cols].values, res2["shifts"][cols].values)


def test_movie_too_large_to_keep_is_not_registered_unless_asked():
    """The same planted drift, read lazily, larger than the frame cache: with
    full_when_uncached=False (the pipeline's choice when registration is on only by
    default) the full registration is not run — the movie is read once, used as
    recorded, and a registration-skipped warning says drift was not checked; asked for
    (True) it registers, reading the movie again. An in-memory movie is registered
    either way (re-reading it costs nothing)."""
    n = 30
    dy = 0.1 * np.arange(n)
    dx = -0.05 * np.arange(n)
    frames = _frames(3, n, dy, dx)
    movie, counter = _movie(frames, lazy=True)
    res = stabilize_movie(movie, region="whole", cache_mib=0.0, full_when_uncached=False)
    s = res["summary"]
    assert s["screen"]["verdict"] == "maybe moving"
    assert s["path"].startswith("skipped") and s["applied"] is False
    assert [w["code"] for w in s["warnings"]] == ["registration-skipped"]
    assert counter.frames_read == n
    np.testing.assert_array_equal(res["movie"].values, frames)
    asked, counter2 = _movie(frames, lazy=True)
    res2 = stabilize_movie(asked, region="whole", cache_mib=0.0, full_when_uncached=True)
    assert res2["summary"]["applied"] is True and counter2.frames_read > 3 * n
    in_memory, _ = _movie(frames)
    res3 = stabilize_movie(in_memory, region="whole", cache_mib=0.0, full_when_uncached=False)
    assert res3["summary"]["path"] == "full registration" and res3["summary"]["applied"]


def test_growing_deposit_on_a_still_stage_is_never_shifted():
    """A deposit growing in the middle of a still field changes the tiles it covers:
    the screen does not count them, and whatever it decides, no shift is applied."""
    movie, _ = _movie(_frames(4, 30, deposit=True))
    res = stabilize_movie(movie, region="whole")
    s = res["summary"]
    assert s["applied"] is False, s
    assert s["screen"]["tiles_counted_min"] < len(DriftScreen(movie.shape[1:]).boxes)
