"""Clock alignment recovers planted offsets."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from platescope import InputError
from platescope.sync import (
    offset_from_landing,
    offset_from_t0,
    offset_from_xcorr,
    synchronize,
    to_echem_clock,
)


def _landing_movie(contact_s, seed=0, n=60, shape=(32, 32), step=150.0, noise=5.0, growth=0.0):
    """Frames integrate the scene between midpoints of jittered timestamps.

    ``growth`` (counts s⁻¹) adds a signal rising inside the disk after contact, as SEI
    formation does; its exposure average is exact for a linear ramp.
    """
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.21, 0.25, n))
    edges = np.concatenate([[t[0] - (t[1] - t[0]) / 2], (t[:-1] + t[1:]) / 2, [t[-1] + 0.11]])
    frac_after = np.clip((edges[1:] - contact_s) / np.diff(edges), 0, 1)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    cy, cx = shape[0] / 2, shape[1] / 2 - 1
    disk = (yy - cy) ** 2 + (xx - cx) ** 2 < (0.31 * shape[0]) ** 2
    bg = 2000 + 50 * np.sin(xx / 3.0)
    lo, hi = edges[:-1], edges[1:]
    ramp = np.clip(hi - contact_s, 0, None) ** 2 - np.clip(lo - contact_s, 0, None) ** 2
    ramp = growth * ramp / (2 * (hi - lo))
    frames = bg[None] + (step * frac_after + ramp)[:, None, None] * disk[None]
    frames = frames + rng.normal(0, noise, frames.shape)
    return xr.DataArray(frames, dims=("t", "y", "x"), coords={"t": t}, attrs={"source": "m.tif"})


@pytest.mark.parametrize("seed", range(8))
def test_landing_step_subframe(seed):
    rng = np.random.default_rng(100 + seed)
    contact = float(rng.uniform(3.0, 5.0))
    movie = _landing_movie(contact, seed=seed)
    res = synchronize(movie, pd.DataFrame({"time_s": [0.0, 1.0], "current_A": [-1e-9, -1e-9]}))
    assert res["method"].startswith("landing")
    frame = float(np.median(np.diff(movie.t.values)))
    assert abs(res["offset_s"] - contact) < 0.1 * frame
    assert abs(res["offset_s"] - contact) <= 3 * res["offset_err_s"]


@pytest.mark.parametrize("seed", range(8))
def test_landing_step_with_shot_noise_and_growth(seed):
    rng = np.random.default_rng(200 + seed)
    contact = float(rng.uniform(3.0, 5.0))
    movie = _landing_movie(contact, seed=seed, noise=90.0, growth=10.0, shape=(64, 64))
    res = synchronize(movie, pd.DataFrame({"time_s": [0.0, 1.0], "current_A": [-1e-9, -1e-9]}))
    frame = float(np.median(np.diff(movie.t.values)))
    assert abs(res["offset_s"] - contact) < 0.25 * frame
    assert abs(res["offset_s"] - contact) <= 3 * res["offset_err_s"]


def test_no_step_is_input_error_with_fix():
    rng = np.random.default_rng(0)
    movie = xr.DataArray(
        rng.normal(100, 1, (20, 8, 8)),
        dims=("t", "y", "x"),
        coords={"t": np.arange(20) * 0.2},
        attrs={"source": "flat.tif"},
    )
    echem = pd.DataFrame({"time_s": np.arange(10.0), "current_A": -1e-9})
    with pytest.raises(InputError, match="flat.tif.*time_offset_s"):
        synchronize(movie, echem, method="landing")


def test_t0_offset_and_explicit_precedence():
    assert offset_from_t0("2026-05-01T09:00:00+01:00", "2026-05-01T08:00:03Z")["offset_s"] == 3.0
    movie = _landing_movie(4.0)
    movie.attrs["t0"] = "2026-05-01T08:00:00Z"
    echem = pd.DataFrame({"time_s": [0.0, 1.0], "current_A": [-1e-9, -1e-9]})
    echem.attrs["t0"] = "2026-05-01T08:00:07.25Z"
    assert synchronize(movie, echem)["offset_s"] == 7.25
    assert synchronize(movie, echem, time_offset_s=1.5)["offset_s"] == 1.5


def test_xcorr_recovers_offset_of_cv_like_current():
    rng = np.random.default_rng(3)
    te = np.arange(0, 60, 0.01)
    cur = -1e-9 * np.sin(2 * np.pi * te / 15.0) ** 2 * (np.sin(2 * np.pi * te / 15) > 0) + 2e-10
    echem = pd.DataFrame({"time_s": te, "current_A": cur})
    true_offset = 6.3
    tm = np.cumsum(rng.uniform(0.2, 0.26, 300))
    q = np.interp(tm - true_offset, te, np.cumsum(-cur) * 0.01, left=0.0)
    mean = 1000 + 1e11 * q + rng.normal(0, 0.05, tm.size)
    res = offset_from_xcorr(tm, mean, echem)
    assert abs(res["offset_s"] - true_offset) <= res["offset_err_s"]


def test_constant_current_cannot_xcorr():
    echem = pd.DataFrame({"time_s": np.arange(100.0), "current_A": -1e-9})
    with pytest.raises(InputError, match="constant"):
        offset_from_xcorr(np.arange(50.0), np.arange(50.0), echem)


def test_non_overlapping_record_is_input_error():
    movie = _landing_movie(4.0)
    echem = pd.DataFrame({"time_s": np.arange(0, 10.0), "current_A": -1e-9})
    echem.attrs["source"] = "echem.mpt"
    with pytest.raises(InputError, match="does not overlap.*echem.mpt"):
        to_echem_clock(movie, 500.0, echem=echem)
    shifted = to_echem_clock(movie, 4.0, echem=echem)
    np.testing.assert_allclose(shifted.t.values, movie.t.values - 4.0)


def _contact_start_movie(seed=0, n=80, shape=(32, 32), growth=40.0, burst_at=40, burst=None):
    """A movie that starts after contact: the disk already wet, its signal rising.

    ``burst`` (counts) adds a sudden extra rise at frame ``burst_at`` (a nucleation
    burst); there is no landing step.
    """
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.21, 0.25, n))
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    disk = (yy - 16) ** 2 + (xx - 15) ** 2 < 10**2
    sig = growth * (t - t[0])
    if burst is not None:
        sig = sig + burst * (np.arange(n) >= burst_at)
    frames = 2000.0 + 150.0 * disk[None] + sig[:, None, None] * disk[None]
    frames = frames + rng.normal(0, 2.0, frames.shape)
    return xr.DataArray(frames, dims=("t", "y", "x"), coords={"t": t}, attrs={"source": "c.tif"})


def test_a_jump_in_a_rising_signal_is_not_a_landing_step():
    """Movie starting after contact: a nucleation-like jump (≫ the noise, but only about
    the change per frame of the signal before it) must not be taken for the landing."""
    rise = 40.0 * 0.23  # counts per frame of the disk's signal (growth × frame interval)
    movie = _contact_start_movie(burst=2.0 * rise)  # ≈ 60× the noise of the mean's changes
    with pytest.raises(InputError, match="not a landing step.*time_offset_s"):
        offset_from_landing(movie)
    # the same jump from a plateau (no deposit before it) is a landing step
    flat = _contact_start_movie(growth=0.0, burst=2.0 * rise)
    assert offset_from_landing(flat)["contact_frame"] in (39, 40)


def test_a_step_at_the_first_frames_is_not_taken_for_the_landing():
    movie = _contact_start_movie(growth=0.0, burst=150.0, burst_at=1)
    with pytest.raises(InputError, match="start of the movie"):
        offset_from_landing(movie)


def test_movie_starting_at_contact_with_constant_current_asks_for_the_offset():
    """No landing step, no start times, a noisy constant current: every automatic method
    fails and the message says why each did and what to set (a negative offset)."""
    movie = _contact_start_movie()
    rng = np.random.default_rng(1)
    te = np.arange(0.0, 18.0, 0.01)
    echem = pd.DataFrame({"time_s": te, "current_A": -1e-9 * (1 + 2e-3 * rng.normal(size=te.size))})
    with pytest.raises(InputError) as err:
        synchronize(movie, echem)
    msg = str(err.value)
    for needle in ("t0:", "landing:", "xcorr:", "constant", "time_offset_s", "negative"):
        assert needle in msg
    assert synchronize(movie, echem, time_offset_s=-1.5)["offset_s"] == -1.5


def test_movie_starting_at_contact_syncs_by_cross_correlation_when_the_current_varies():
    rng = np.random.default_rng(4)
    te = np.arange(0, 60, 0.01)
    cur = -1e-9 * np.sin(2 * np.pi * te / 15.0) ** 2 * (np.sin(2 * np.pi * te / 15) > 0)
    echem = pd.DataFrame({"time_s": te, "current_A": cur})
    true_offset = -2.0  # the camera started 2 s after contact
    tm = np.cumsum(rng.uniform(0.2, 0.26, 240))
    q = np.interp(tm - true_offset, te, np.cumsum(-cur) * 0.01)
    frames = 2000.0 + 1e11 * q[:, None, None] * np.ones((1, 8, 8))
    movie = xr.DataArray(
        frames + rng.normal(0, 0.05, frames.shape), dims=("t", "y", "x"), coords={"t": tm}
    )
    res = synchronize(movie, echem)
    assert res["method"].startswith("cross-correlation")
    assert [item["method"] for item in res["tried"]] == ["t0", "landing"]
    assert abs(res["offset_s"] - true_offset) <= res["offset_err_s"]


@pytest.mark.parametrize("true_offset", [6.3, 0.0, 12.1, -4.0])
def test_xcorr_periodic_current_is_not_matched_one_period_off(true_offset):
    """A 15 s periodic current: the lag one period away overlaps less and must lose."""
    rng = np.random.default_rng(3)
    te = np.arange(0, 60, 0.01)
    cur = -1e-9 * np.sin(2 * np.pi * te / 15.0) ** 2 * (np.sin(2 * np.pi * te / 15) > 0) + 2e-10
    echem = pd.DataFrame({"time_s": te, "current_A": cur})
    tm = np.cumsum(rng.uniform(0.2, 0.26, 300))
    q = np.interp(tm - true_offset, te, np.cumsum(-cur) * 0.01, left=0.0)
    mean = 1000 + 1e11 * q + rng.normal(0, 0.05, tm.size)
    res = offset_from_xcorr(tm, mean, echem)
    assert abs(res["offset_s"] - true_offset) <= res["offset_err_s"]


def test_xcorr_refuses_noise_and_weak_matches():
    rng = np.random.default_rng(5)
    tm = np.cumsum(rng.uniform(0.2, 0.26, 250))
    te = np.arange(0, 50, 0.01)
    # galvanostatic with 0.2 % white noise: constant for alignment purposes
    flat = pd.DataFrame({"time_s": te, "current_A": -1e-9 * (1 + 2e-3 * rng.normal(size=te.size))})
    with pytest.raises(InputError, match="constant"):
        offset_from_xcorr(tm, rng.normal(0, 1, tm.size), flat)
    # a varying current but a movie that shows nothing of it
    cv = pd.DataFrame({"time_s": te, "current_A": -1e-9 * np.sin(2 * np.pi * te / 12.0) ** 2})
    with pytest.raises(InputError, match="does not follow"):
        offset_from_xcorr(tm, rng.normal(0, 1, tm.size), cv)
