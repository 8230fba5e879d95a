"""Drift registration and bad-frame detection against planted shifts and bad frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope.optics import (
    apply_drift_correction,
    frame_quality,
    register_drift,
    stabilize_movie,
)
from platescope.simulate._stage_motion import apply_stage_motion, stage_motion

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _scene(rng, n=160, corr_px=2.0, amp=300.0, base=2000.0):
    return base + amp * ndimage.gaussian_filter(rng.normal(size=(n, n)), corr_px) / 0.14


def _movie(frames, px=0.1):
    n, ny, nx = frames.shape
    return xr.DataArray(
        frames,
        dims=("t", "y", "x"),
        coords={"t": np.arange(n) * 0.25, "y": np.arange(ny) * px, "x": np.arange(nx) * px},
    )


def _moving(seed=0, n_frames=40, drift=5.0, jitter=0.5, noise=True, planted=None, **bad):
    rng = np.random.default_rng(seed)
    scene = _scene(rng)
    p = {
        "stage_drift_px": drift,
        "vibration_px": jitter,
        "stage_walk_px": 0.0,
        "blurred_frame_frac": 0.0,
        "blur_sigma_px": 4.0,
        "dark_frame_frac": 0.0,
        **bad,
    }
    motion = stage_motion(seed, n_frames, p)
    if planted:
        motion.update(planted)
    nf = apply_stage_motion(np.repeat(scene[None], n_frames, 0).astype(np.float32), motion)
    frames = nf.astype(float)
    if noise:  # shot noise + read noise, as the simulators do
        frames = rng.poisson(np.clip(nf, 0, None)) + rng.normal(0, 5, nf.shape)
    return _movie(np.clip(frames, 0, 4095).astype(np.uint16)), motion


def _err(tab, motion, keep=None):
    e = np.hypot(tab["dy_px"] - motion["dy_px"], tab["dx_px"] - motion["dx_px"]).to_numpy()
    return e if keep is None else e[keep]


@pytest.mark.parametrize("running", [0, 4])
def test_planted_drift_and_jitter_recovered_to_a_tenth_of_a_pixel(running):
    movie, motion = _moving(seed=3)
    tab = register_drift(movie, running_frames=running)
    e = _err(tab, motion)
    # textured field (σ 2 px, 15 % contrast) with shot noise: CRLB ≈ 0.01 px per axis
    assert np.sqrt(np.mean(e**2)) <= 0.1
    assert e.max() <= 0.25
    assert tab.attrs["reference_frame"] == 0 and tab.loc[0, "dy_px"] == 0
    # the error estimate is of the right size (within a factor 5 of the true rms)
    est = np.sqrt(np.nanmean(tab["err_px"] ** 2))
    assert 0.2 * np.sqrt(np.mean(e**2)) <= est <= 5 * max(np.sqrt(np.mean(e**2)), 0.01)


def _crb_per_axis(scene, read_sd=5.0):
    """Cramér–Rao sd (px) of a translation of ``scene`` under shot + read noise, per
    axis, against a noise-free reference (Fisher information Σ ∇I ∇Iᵀ / var)."""
    gy, gx = np.gradient(scene.astype(float))
    var = scene + read_sd**2
    j = np.array(
        [
            [(gy * gy / var).sum(), (gy * gx / var).sum()],
            [(gy * gx / var).sum(), (gx * gx / var).sum()],
        ]
    )
    return np.sqrt(np.diag(np.linalg.inv(j)))


def test_temporal_reference_reaches_near_the_cramer_rao_bound():
    """A faint texture (1.5 % contrast) under shot noise: the per-axis rms error of the
    refined shifts is within 3× the Cramér–Rao bound (√2 of it for the noise of frame 0
    itself), and better than the single-reference cross-correlation."""
    rng = np.random.default_rng(21)
    scene = _scene(rng, amp=30.0)
    crb = _crb_per_axis(scene)
    motion = stage_motion(
        21, 40, {"stage_drift_px": 5.0, "vibration_px": 0.5, "blur_sigma_px": 0.0}
    )
    nf = apply_stage_motion(np.repeat(scene[None], 40, 0).astype(np.float32), motion)
    frames = rng.poisson(np.clip(nf, 0, None)) + rng.normal(0, 5, nf.shape)
    movie = _movie(frames)
    out = {}
    for refine in (False, True):
        tab = register_drift(movie, refine=refine)
        ey = tab["dy_px"].to_numpy() - motion["dy_px"]
        ex = tab["dx_px"].to_numpy() - motion["dx_px"]
        out[refine] = np.sqrt([np.mean(ey[1:] ** 2), np.mean(ex[1:] ** 2)])
    assert np.all(out[True] <= 3 * np.sqrt(2) * crb)
    assert np.all(out[True] < out[False])
    # the per-frame error estimate (residual noise only, no interpolation error) is of
    # the right order: within a factor 4 of the true rms
    est = np.sqrt(np.nanmean(tab["err_dy_px"].to_numpy()[1:] ** 2))
    assert 0.25 * out[True][0] <= est <= 4 * out[True][0]


def test_shift_units_and_sign():
    """A content shift of +2 px along y reads dy_px = +2 and dy_um = 2 × pixel size."""
    rng = np.random.default_rng(1)
    s = _scene(rng, n=96)
    frames = np.stack([s, ndimage.shift(s, (2.0, -1.0), order=3, mode="mirror")])
    tab = register_drift(_movie(frames, px=0.05))
    assert tab.loc[1, "dy_px"] == pytest.approx(2.0, abs=0.02)
    assert tab.loc[1, "dx_px"] == pytest.approx(-1.0, abs=0.02)
    assert tab.loc[1, "dy_um"] == pytest.approx(0.1, abs=0.001)


def test_robust_to_a_growing_deposit_in_part_of_the_field():
    """A bright disk that grows in contrast over a third of the field, moving with the
    stage like everything else, does not pull the registration off."""
    rng = np.random.default_rng(5)
    n_frames = 30
    scene = _scene(rng)
    yy, xx = np.mgrid[:160, :160]
    disk = np.hypot(yy - 80, xx - 80) < 50
    grow = ndimage.gaussian_filter(rng.normal(size=(160, 160)), 4) / 0.07 * disk
    motion = stage_motion(
        2, n_frames, {"stage_drift_px": 5.0, "vibration_px": 0.5, "blur_sigma_px": 0.0}
    )
    nf = np.stack([scene + (k / n_frames) * 400 * (disk + grow) for k in range(n_frames)])
    nf = apply_stage_motion(nf.astype(np.float32), motion)
    frames = rng.poisson(np.clip(nf, 0, None)).astype(float)
    tab = register_drift(_movie(frames))
    assert np.sqrt(np.mean(_err(tab, motion) ** 2)) <= 0.1


def test_still_movie_shifts_are_noise_and_not_applied():
    movie, _ = _moving(seed=4, drift=0.0, jitter=0.0, stage_walk_px=0.0)
    res = stabilize_movie(movie, register=True)
    s = res["summary"]
    assert s["max_shift_px"] < 0.1
    assert s["applied"] is False and "noise" in s["applied_reason"]
    assert res["movie"] is movie  # used as recorded: results unchanged
    assert s["n_frames_excluded"] == 0


def test_bad_frames_found_with_their_reasons():
    planted = {"blurred_frames": [5, 12, 20, 33, 47, 58], "dark_frames": [9, 40, 59]}
    movie, motion = _moving(seed=7, n_frames=60, planted=planted)
    q = frame_quality(movie)
    found = {int(f) for f in q.loc[q["bad"], "frame"]}
    assert found == set(planted["blurred_frames"]) | set(planted["dark_frames"])
    reasons = dict(zip(q["frame"], q["reason"], strict=True))
    assert all(reasons[k] == "blurred" for k in motion["blurred_frames"])
    assert all(reasons[k] == "dark" for k in motion["dark_frames"])


@pytest.mark.parametrize("blur_sigma_px", [4.0, 1.5])
def test_adjacent_blurred_pairs_and_triples_found(blur_sigma_px):
    """Two or three blurred frames in a row are each other's neighbours: every one of
    them is still found (and a dark frame next to a blurred one), nothing else is."""
    planted = {
        "blurred_frames": [8, 9, 20, 21, 22, 35, 44, 45],
        "dark_frames": [46, 52],
        "blur_sigma_px": blur_sigma_px,
    }
    movie, motion = _moving(seed=11, n_frames=60, planted=planted)
    q = frame_quality(movie)
    found = {int(f) for f in q.loc[q["bad"], "frame"]}
    assert found == set(planted["blurred_frames"]) | set(planted["dark_frames"])
    reasons = dict(zip(q["frame"], q["reason"], strict=True))
    assert all(reasons[k] == "blurred" for k in planted["blurred_frames"])


def test_blank_frames_are_told_apart_from_blurred_ones():
    """A frame of camera noise only (the scene gone: shutter or lamp off) at 80 % of the
    mean — not dark enough for ``dark`` — is ``blank``; σ = 4 px defocus of the same
    movie stays ``blurred`` (the blank test sits between them: defocus keeps ≈ 0.4 of the
    coarse variance, a noise frame ≈ 0)."""
    planted = {"blurred_frames": [6, 30], "dark_frames": [], "blur_sigma_px": 4.0}
    movie, _ = _moving(seed=21, n_frames=44, planted=planted)
    frames = movie.values.copy()
    rng = np.random.default_rng(21)
    for k in (14, 15, 38):  # a pair and a single frame
        level = 0.8 * frames[k].mean()
        frames[k] = np.clip(
            rng.poisson(level, frames[k].shape) + rng.normal(0, 5, frames[k].shape), 0, 4095
        )
    q = frame_quality(movie.copy(data=frames))
    reasons = dict(zip(q["frame"], q["reason"], strict=True))
    assert {k for k, r in reasons.items() if r} == {6, 14, 15, 30, 38}
    assert [reasons[k] for k in (6, 30)] == ["blurred", "blurred"]
    assert [reasons[k] for k in (14, 15, 38)] == ["blank", "blank", "blank"]


def test_bad_blank_fraction_is_an_input_error():
    movie, _ = _moving(seed=3, n_frames=12)
    for bad in ("0.1", -0.5, 2.0):
        with pytest.raises(InputError, match="blank_fraction"):
            frame_quality(movie, blank_fraction=bad)


@pytest.mark.skipif(
    not (DATA / "movies" / "pims_cine_spe" / "spestack_test.spe").exists(),
    reason="shared data not available",
)
def test_real_spe_first_frame_is_blank_not_blurred():
    """spestack_test.spe (Princeton, 5 × 128²): frame 0 holds no spots, only noise around
    the dark level (by hand: mean 174 vs 222–226 counts, std of the σ = 3 px blur 2.4 vs
    77 counts in frame 1); frames 1–4 show the same five spots."""
    from platescope.io import read_movie

    movie = read_movie(
        DATA / "movies" / "pims_cine_spe" / "spestack_test.spe",
        frame_interval_s=1.0,
        pixel_size_um=1.0,
    )
    q = frame_quality(movie)
    assert q["reason"].tolist() == ["blank", "", "", "", ""]


def test_blur_runs_longer_than_the_limit_are_not_claimed():
    """max_blur_run = 1 is the single-frame test (a planted pair is missed), so the run
    windows are what finds the pair."""
    planted = {"blurred_frames": [14, 15], "dark_frames": []}
    movie, _ = _moving(seed=12, n_frames=30, planted=planted)
    assert not frame_quality(movie, max_blur_run=1)["bad"].any()
    assert frame_quality(movie)["bad"].sum() == 2


def test_still_and_steadily_changing_movies_have_no_blurred_frames():
    """A still textured movie with noise and a movie whose contrast falls and rises
    smoothly (a V: a contrast minimum between two stages) flag nothing."""
    movie, _ = _moving(seed=13, n_frames=80, drift=0.0, jitter=0.0)
    assert not frame_quality(movie)["bad"].any()
    rng = np.random.default_rng(13)
    scene = _scene(rng, n=96) - 2000.0
    amp = 0.2 + np.abs(np.linspace(-1.0, 1.0, 61))  # contrast ×0.2 at the middle
    frames = 2000.0 + amp[:, None, None] * scene[None]
    frames = rng.poisson(frames) + rng.normal(0, 5, frames.shape)
    assert not frame_quality(_movie(np.clip(frames, 0, 4095)))["bad"].any()


def test_saturated_frame_and_steady_trends_pass():
    rng = np.random.default_rng(2)
    scene = _scene(rng, n=64)
    gain = np.linspace(1.0, 0.6, 30)  # steady darkening (alloying): no frame is an outlier
    frames = np.clip(gain[:, None, None] * scene[None] + rng.normal(0, 5, (30, 64, 64)), 0, 4095)
    frames[12, :40] = 65535
    frames[20] *= 1.5  # a lamp flash
    q = frame_quality(_movie(frames.astype(np.uint16)))
    assert q.loc[q["bad"], "frame"].tolist() == [12, 20]
    assert q.loc[12, "reason"] == "saturated"
    assert q.loc[20, "reason"] == "intensity-outlier"


def test_stabilize_excludes_and_registers_lazily():
    movie, motion = _moving(seed=8, n_frames=40, dark_frame_frac=0.05)
    res = stabilize_movie(movie, register=True)
    out = res["movie"]
    dark = motion["dark_frames"]
    assert out.sizes["t"] == 40 - len(dark)
    assert hasattr(out.data, "dask")  # lazy
    assert [e["frame"] for e in res["summary"]["excluded_frames"]] == dark
    assert np.isnan(res["shifts"].loc[dark, "dy_px"]).all()
    # the registered frames agree with the reference frame away from the border
    reg = out.values
    core = (slice(15, -15), slice(15, -15))
    before = np.std(movie.values[-1].astype(float)[core] - movie.values[0].astype(float)[core])
    after = np.std(reg[-1][core] - reg[0][core])
    assert after < 0.5 * before
    codes = [w["code"] for w in res["summary"]["warnings"]]
    assert "frames-excluded" in codes


def test_apply_drift_correction_undoes_a_known_shift():
    rng = np.random.default_rng(0)
    s = ndimage.gaussian_filter(rng.normal(size=(64, 64)), 3)
    frames = np.stack([s, ndimage.shift(s, (1.5, -2.25), order=3, mode="mirror")])
    tab = pd.DataFrame({"frame": [0, 1], "dy_px": [0.0, 1.5], "dx_px": [0.0, -2.25]})
    out = apply_drift_correction(_movie(frames), tab).values
    core = (slice(8, -8), slice(8, -8))
    assert np.max(np.abs(out[1][core] - s[core])) < 0.02 * np.ptp(s)


def test_bad_region_and_wrong_table_are_input_errors():
    movie, _ = _moving(seed=1, n_frames=5, drift=1.0)
    with pytest.raises(InputError, match="registration region"):
        register_drift(movie, region=[100.0, 200.0, 0.0, 1.0])
    with pytest.raises(InputError, match="not 'auto'"):
        register_drift(movie, region="middle")
    with pytest.raises(InputError, match="rows"):
        apply_drift_correction(movie, pd.DataFrame({"dy_px": [0.0], "dx_px": [0.0]}))


def test_region_in_um_registers_on_that_part_only():
    movie, motion = _moving(seed=9, n_frames=20)
    tab = register_drift(movie, region=[0.0, 8.0, 0.0, 8.0])
    assert np.sqrt(np.mean(_err(tab, motion) ** 2)) <= 0.1
    assert tab.attrs["region"].startswith("x 0")


@pytest.mark.skipif(not (DATA / "images" / "trackpy").exists(), reason="shared data absent")
def test_real_still_probes_register_to_almost_zero():
    """trackpy's stuck.tif: 5 frames of stationary probes. Fact from the file: the
    probes do not move, so every shift is noise: below the 0.25 px at which a correction
    is applied (the movie is used as recorded), and no frame is bad."""
    from platescope.io import read_movie

    movie = read_movie(
        DATA / "images" / "trackpy" / "stuck.tif", pixel_size_um=0.1, frame_interval_s=1.0
    )
    res = stabilize_movie(movie, register=True)
    assert res["summary"]["max_shift_px"] < 0.25
    assert res["summary"]["applied"] is False
    assert res["summary"]["n_frames_excluded"] == 0


_CINE = DATA / "movies" / "pims_cine_spe"


@pytest.mark.skipif(not (_CINE / "cine_781.cine").exists(), reason="shared data absent")
def test_real_high_speed_movie_gets_no_stage_shift():
    """Phantom cine_781.cine: 15 frames of two droplets merging, 1.56 ms from first to
    last by the file's own per-frame times (≈ 9,000 frames/s: recorded at 90,000 with
    decimation 10 when saved, per pims' notes on the file). A stage cannot drift a
    measurable amount in 1.6 ms, while the droplets' content changes: no shift may be
    applied."""
    from platescope.io import read_movie

    movie = read_movie(_CINE / "cine_781.cine", pixel_size_um=1.0)
    assert float(movie.t[-1] - movie.t[0]) < 2e-3
    res = stabilize_movie(movie, register=True)
    assert res["summary"]["applied"] is False
    assert res["summary"]["max_shift_px"] < 0.25


@pytest.mark.skipif(not (_CINE / "cine_legacy.cine").exists(), reason="shared data absent")
def test_real_noise_movie_shifts_are_refused_not_applied():
    """The legacy Phantom cine_legacy.cine (97 × 128²). Facts from the file (by hand):
    frames 0–21 hold structure (spatial std 680–2660 counts) that brightens; from frame 23
    the field is almost uniform (mean ≈ 5,100–5,430 counts, std 205–475): little texture
    that could place a stage there, so its correlation peaks are not stage positions.
    The registration must say it is uncertain and use the movie as recorded, never apply
    them."""
    from platescope.io import read_movie

    movie = read_movie(_CINE / "cine_legacy.cine", pixel_size_um=1.0)
    res = stabilize_movie(movie, register=True)
    s = res["summary"]
    assert s["applied"] is False
    assert "registration-uncertain" in [w["code"] for w in s["warnings"]]


def test_motion_on_a_movie_below_the_validated_size_is_not_applied():
    """A planted 3 px drift on 12 frames of a 40 px field, and on 6 frames of a 96 px
    field: the registration measures it, but such movies are below what it was
    validated on (≥ 48 px a side, ≥ 8 good frames): not applied, with a warning. The
    same drift on 12 frames of the 96 px field is applied."""
    rng = np.random.default_rng(4)
    scene = _scene(rng, n=160)

    def movie(n_frames, side):
        frames = np.stack(
            [
                ndimage.shift(scene, (3.0 * k / (n_frames - 1), 0.0), mode="wrap")
                for k in range(n_frames)
            ]
        )[:, :side, :side]
        noisy = rng.poisson(frames).astype(np.float32)
        return xr.DataArray(
            noisy,
            dims=("t", "y", "x"),
            coords={
                "t": np.arange(n_frames) * 1.0,
                "y": np.arange(side) * 0.1,
                "x": np.arange(side) * 0.1,
            },
        )

    for n_frames, side in ((12, 40), (6, 96)):
        s = stabilize_movie(movie(n_frames, side), region="whole")["summary"]
        assert s["applied"] is False and s["max_shift_px"] > 2.0, (
            n_frames,
            side,
            s["applied_reason"],
        )
        assert "validated" in s["applied_reason"]
        assert "registration-uncertain" in [w["code"] for w in s["warnings"]]
    s = stabilize_movie(movie(12, 96), region="whole")["summary"]
    assert s["applied"] is True, s["applied_reason"]


@pytest.mark.skipif(
    not (DATA / "images" / "pims" / "cluster.nd2").exists(), reason="shared data absent"
)
def test_real_three_frame_sparse_movie_is_not_registered():
    """pims' cluster.nd2 (Nikon): 3 frames, 31 × 38 px, ≈ 10.6 s apart, almost every
    pixel 0 with a few bright spots whose frames correlate only 0.18–0.47 (facts from the
    file). Nothing there can tell stage drift from the spots' own change: no shift may be
    applied (the static-reference code applied 2.1 px here before the size rule)."""
    from platescope.io import read_movie

    movie = read_movie(DATA / "images" / "pims" / "cluster.nd2")
    assert movie.shape == (3, 31, 38)
    res = stabilize_movie(movie, register=True)
    assert res["summary"]["applied"] is False
    np.testing.assert_array_equal(res["movie"].values, movie.values)


def _nucleating_movie(seed, n=128, n_frames=48):
    """A textured field whose middle 40 % gets a meniscus step at frame 4 and then 60
    nuclei that appear at random times (inside any temporal window) and grow, all
    moving with the stage (5 px drift + 0.5 px jitter), shot + read noise."""
    rng = np.random.default_rng(seed)
    scene = 2000 + 100 * ndimage.gaussian_filter(rng.normal(size=(n, n)), 2.5) / 0.11
    yy, xx = np.mgrid[:n, :n]
    disk = ndimage.gaussian_filter((np.hypot(yy - n / 2, xx - n / 2) < 0.36 * n).astype(float), 1.5)
    k = 60
    r = 0.33 * n * np.sqrt(rng.random(k))
    a = rng.uniform(0, 2 * np.pi, k)
    cy, cx = n / 2 + r * np.sin(a), n / 2 + r * np.cos(a)
    t_on = rng.uniform(6, n_frames, k)
    amp = rng.uniform(200, 600, k)
    frames = np.empty((n_frames, n, n), np.float32)
    for f in range(n_frames):
        grow = np.clip((f - t_on) / 10.0, 0, None)
        img = scene + 150 * disk * (f >= 4)
        for j in np.flatnonzero(grow > 0):
            d2 = (yy - cy[j]) ** 2 + (xx - cx[j]) ** 2
            img = img + amp[j] * min(grow[j], 1.5) * np.exp(-d2 / (2 * (2 + 2 * grow[j]) ** 2))
        frames[f] = img
    motion = stage_motion(
        seed, n_frames, {"stage_drift_px": 5.0, "vibration_px": 0.5, "blur_sigma_px": 0.0}
    )
    nf = apply_stage_motion(frames, motion)
    noisy = rng.poisson(np.clip(nf, 0, None)) + rng.normal(0, 5, nf.shape)
    return _movie(noisy.astype(float)), motion


def _axis_errors(tab, motion):
    e = np.stack([tab["dy_px"] - motion["dy_px"], tab["dx_px"] - motion["dx_px"]], -1)
    return e[1:], tab[["err_dy_px", "err_dx_px"]].to_numpy(float)[1:]


@pytest.mark.parametrize("seed", [1, 2])
def test_static_reference_beats_the_temporal_one_on_nucleating_deposits(seed):
    """Planted truth: deposits that appear and grow inside the temporal window bias a
    reference made of neighbouring frames; the static reference (changing pixels left
    out) stays within 0.1 px per axis and is at least twice as accurate."""
    movie, motion = _nucleating_movie(seed)
    e_new, est = _axis_errors(register_drift(movie), motion)
    e_old, _ = _axis_errors(register_drift(movie, reference_model="temporal"), motion)
    rms_new = np.sqrt(np.mean(e_new**2, axis=0))
    assert np.all(rms_new <= 0.1)
    assert np.sqrt(np.mean(e_new**2)) < 0.5 * np.sqrt(np.mean(e_old**2))
    # the per-frame error estimate covers the true error: ~95 % within 2σ, and the
    # rms of the true error within a factor 2 of the rms estimate
    assert np.mean(np.abs(e_new) <= 2 * est) >= 0.8
    assert 0.5 <= np.sqrt(np.mean(e_new**2)) / np.sqrt(np.mean(est**2)) <= 2.0


def test_unknown_reference_model_is_an_input_error():
    movie, _ = _moving(seed=1, n_frames=5, drift=1.0)
    with pytest.raises(InputError, match="reference_model"):
        register_drift(movie, reference_model="median")


def test_intermediate_results_kept_between_passes_change_no_number(monkeypatch):
    """The high-passed frames, the refinement's spectra and the change mask's frames
    kept between passes (within ``_WORK_CACHE_MIB``) give the numbers of computing them
    again every pass, bit for bit: the same registration with nothing kept."""
    import platescope.optics._registration as reg

    movie, _ = _nucleating_movie(1, n=96, n_frames=40)
    kept = register_drift(movie, region="auto")
    monkeypatch.setattr(reg, "_WORK_CACHE_MIB", 0.0)
    again = register_drift(movie, region="auto")
    cols = ["dy_px", "dx_px", "err_dy_px", "err_dx_px", "peak"]
    assert np.array_equal(kept[cols].to_numpy(), again[cols].to_numpy(), equal_nan=True)
    assert kept.attrs == again.attrs


def test_border_weights_and_shift_ramps_equal_their_per_pixel_definitions():
    """Per-axis shortcuts against the per-pixel formulas they replace: the weight of a
    frame's own border (distance to the nearest border, then a cosine ramp) and the
    Fourier phase ramp exp(2πi(f_y dy + f_x dx))."""
    from platescope.optics._registration import _inside, _shift_ramp

    rng = np.random.default_rng(3)
    d = np.vstack([rng.uniform(-6, 6, (7, 2)), [[0.0, 0.0], [np.nan, 2.5]]])
    ny, nx = 37, 50
    dd = np.nan_to_num(d)
    yy = np.arange(ny)[None, :, None] + dd[:, 0, None, None]
    xx = np.arange(nx)[None, None, :] + dd[:, 1, None, None]
    dist = np.minimum(np.minimum(yy, ny - 1 - yy), np.minimum(xx, nx - 1 - xx))
    for margin, ramp in ((1.0, 0.0), (4.0, 8.0), (0.0, 3.0)):
        want = dist - margin >= 0 if ramp == 0 else (
            0.5 - 0.5 * np.cos(np.pi * np.clip((dist - margin) / ramp, 0.0, 1.0))
        )
        got = _inside(d, (ny, nx), margin, ramp)
        assert got.shape == (d.shape[0], ny, nx)
        assert np.array_equal(got, want)
    fy = np.fft.fftfreq(ny)[None, :, None]
    fx = np.fft.rfftfreq(nx)[None, None, :]
    full = np.exp(2j * np.pi * (fy * dd[:, 0, None, None] + fx * dd[:, 1, None, None]))
    assert np.allclose(_shift_ramp(dd, (ny, nx)), full, rtol=0, atol=1e-12)


def test_kept_spectra_are_recomputed_when_a_frame_moves_to_another_whole_pixel():
    """The refinement's kept spectra depend on each frame's shift only through its
    whole-pixel part (the static mask moved with the frame): a frame whose rounded
    shift changes gets a new spectrum, the others are reused; both equal a fresh
    computation."""
    from platescope.optics._registration import (
        _highpass_frames,
        _PaddedShift,
        _PreppedSpectra,
        _read_frames,
    )

    movie, _ = _moving(seed=4, n_frames=12, noise=True)
    ny, nx = movie.shape[1:]
    mask = np.ones((ny, nx), bool)
    mask[40:90, 50:120] = False  # a "changing" part, moved with each frame's content

    def prep(frames, d):
        return _highpass_frames(frames, d, mask, 8.0, 2.0)

    g = np.arange(movie.shape[0])
    sh = _PaddedShift((ny, nx), 14)
    kept = _PreppedSpectra(movie, g, sh, prep, True)
    s = np.tile([[0.4, -2.3]], (g.size, 1))
    first = kept(0, g.size, s).copy()
    s2 = s.copy()
    s2[3] = [0.6, -2.3]  # rounds to another row
    s2[7] = [0.45, -2.45]  # the same whole pixel
    second = kept(0, g.size, s2)
    fresh = sh.spectra(prep(_read_frames(movie, g), s2))
    assert np.array_equal(second, fresh)
    assert not np.array_equal(second[3], first[3])
    assert np.array_equal(np.delete(second, 3, 0), np.delete(first, 3, 0))
