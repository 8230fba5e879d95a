"""Clock alignment recovers planted offsets."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from platescope import InputError
from platescope.sync import offset_from_t0, offset_from_xcorr, synchronize, to_echem_clock


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
