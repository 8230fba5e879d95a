"""The static refinement's scale-consistency check, against planted truth."""

from __future__ import annotations

import numpy as np
import pytest
from test_registration import _moving, _nucleating_movie

import platescope.optics._registration as reg
from platescope.optics import register_drift, stabilize_movie
from platescope.simulate import as_movie, make_top_view_nucleation

# the top-view-nucleation runs of tests/pipeline/test_pipeline_registration.py
TOP_VIEW = {
    "n_runs": 2,
    "j_min_mA_cm2": 0.5,
    "j_max_mA_cm2": 2.0,
    "field_px": 160,
    "n_ref": 14,
    "n_pit_ref": 4,
    "stripping_s": 60,
    "plating_s": 150,
    "frame_interval_s": 5,
    "stage_drift_px": 3,
    "vibration_px": 0.4,
    "dark_frame_frac": 0.04,
}


def test_scale_bias_is_zero_for_noise_and_the_planted_bias_otherwise():
    """Hand-made shifts: the narrow-scale estimate = the wide one + independent noise of
    variance sd_n² − sd_w² (Hausman, no bias) gives z² ≈ 1 on average and no excess;
    a planted slow bias b on one axis comes back as an excess ≈ b² there."""
    rng = np.random.default_rng(0)
    n = 4000
    sd_w = np.full((n, 2), 0.08)
    sd_n = np.full((n, 2), 0.10)
    s_w = rng.normal(0.0, 0.08, (n, 2))
    s_n = s_w + rng.normal(0.0, 0.06, (n, 2))  # √(0.10² − 0.08²) = 0.06
    excess, z2 = reg._scale_bias(s_w, sd_w, s_n, sd_n, 15)
    assert abs(np.mean(z2) - 1.0) < 0.1
    assert abs(np.mean(excess)) < 0.1 * 0.06**2
    b = np.where(np.arange(n) < n // 2, 0.3, -0.3)  # a slow bias (median 0)
    s_n[:, 1] += b
    excess, z2 = reg._scale_bias(s_w, sd_w, s_n, sd_n, 15)
    assert np.median(excess[:, 1]) == pytest.approx(0.3**2, rel=0.1)
    assert abs(np.median(excess[:, 0])) < 0.1 * 0.06**2
    assert np.mean(z2[:, 1]) > 20


def _top_view_run(run: int):
    sim = make_top_view_nucleation(seed=3, **TOP_VIEW)["runs"][run]
    tr = sim["truth"]["registration"]
    return as_movie(sim), np.stack([tr["dy_px"], tr["dx_px"]], -1)


def _true_rms(res, truth) -> float:
    tab = res["shifts"]
    ok = ~res["quality"]["bad"].to_numpy(bool)
    e = tab[["dy_px", "dx_px"]].to_numpy(float)[ok] - truth[ok]
    return float(np.sqrt(np.mean(np.sum(e**2, axis=1))))


def test_moving_static_texture_is_refused_not_applied(monkeypatch):
    """Top-view nucleation, seed 3, run 1 (3 px drift + 0.4 px vibration): nuclei
    everywhere escape the change mask, and the 16 px refinement is > 0.3 px rms off the
    planted motion under a median error estimate below 0.3 px. Without the check it is
    applied; with it the two scales disagree far beyond their noise, the disagreement
    (the reference frame's above all) enters the error estimate, and it is refused as
    uncertain (or, were it applied, it would have to be within 0.3 px)."""
    movie, truth = _top_view_run(0)
    res = stabilize_movie(movie)
    s = res["summary"]
    assert s["scale_disagreement_z2"] > 2.0
    if _true_rms(res, truth) > 0.3:
        assert s["applied"] is False and "uncertain" in s["applied_reason"]
        assert s["err_px_median"] > 0.3
    else:
        assert s["applied"] is True
    # the same run without the check (both scales equal: no check) is applied, wrongly
    monkeypatch.setattr(reg, "_CHECK_HIGHPASS_SCALE", reg._STATIC_HIGHPASS_SCALE)
    res = stabilize_movie(movie)
    assert res["summary"]["scale_disagreement_z2"] is None
    assert _true_rms(res, truth) > 0.3
    assert res["summary"]["err_px_median"] < 0.3
    assert res["summary"]["applied"] is True


@pytest.mark.parametrize("kind", ["static scene", "nucleating deposit"])
def test_check_does_not_fire_on_a_clean_moving_movie(kind):
    """A still textured scene, and deposits that nucleate and grow in the middle (the
    change mask leaves them out), each moved by 5 px drift + 0.5 px jitter: the two
    scales agree within their noise (mean z² < 1, an excess far below the error), the registration is within 0.1 px per axis of the planted
    motion and applied."""
    movie, motion = _moving(seed=3) if kind == "static scene" else _nucleating_movie(1)
    tab = register_drift(movie)
    assert tab.attrs["scale_disagreement_z2"] < 1.0
    err = tab[["err_dy_px", "err_dx_px"]].to_numpy(float)[1:]
    assert tab.attrs["scale_bias_px"] < 0.3 * np.sqrt(np.mean(err**2))
    assert max(tab.attrs["scale_bias_reference_px"]) < 0.5 * np.sqrt(np.mean(err**2))
    e = tab[["dy_px", "dx_px"]].to_numpy() - np.stack([motion["dy_px"], motion["dx_px"]], -1)
    assert np.all(np.sqrt(np.mean(e[1:] ** 2, axis=0)) <= 0.1)
    assert stabilize_movie(movie)["summary"]["applied"] is True


def test_check_skipped_on_a_still_movie_changes_no_decision(monkeypatch):
    """A still textured scene (no drift, no jitter; the drift screen off, so the full
    registration runs): ``stabilize_movie`` skips the scale check (no motion above the
    noise without it) and applies nothing, and running the check anyway gives the same
    decision and the same shifts (the check adds only to the errors)."""
    movie, _ = _moving(seed=4, drift=0.0, jitter=0.0)
    res = stabilize_movie(movie, screen=False)
    s = res["summary"]
    assert s["scale_check"].startswith("not run")
    assert s["scale_bias_px"] is None and s["applied"] is False
    forced = reg.register_drift

    def always_check(*a, **kw):
        kw["scale_check_false_alarm"] = None
        return forced(*a, **kw)

    monkeypatch.setattr(reg, "register_drift", always_check)
    res_all = stabilize_movie(movie, screen=False)
    assert res_all["summary"]["scale_check"] == "run"
    assert res_all["summary"]["applied"] is False
    cols = ["dy_px", "dx_px"]
    np.testing.assert_array_equal(
        res["shifts"][cols].to_numpy(), res_all["shifts"][cols].to_numpy()
    )
    assert (res_all["shifts"]["err_px"] >= res["shifts"]["err_px"] - 1e-12).all()


def test_check_runs_when_the_stage_moves():
    """5 px drift + 0.5 px jitter: the motion is significant without the check, so
    ``stabilize_movie`` runs it."""
    movie, _ = _moving(seed=3)
    s = stabilize_movie(movie)["summary"]
    assert s["scale_check"] == "run" and s["scale_disagreement_z2"] is not None
    assert s["applied"] is True
