"""Stage motion and bad frames in the movie simulators: off by default, planted as stated."""

import numpy as np
from scipy import ndimage

from platescope.simulate._irm_cv import make_irm_cv
from platescope.simulate._stage_motion import STAGE_PARAMETERS, apply_stage_motion, stage_motion

SMALL = {"n_cycles": 2, "irm_size_px": 48, "footprint_diameter_um": 4.0, "Q_c1_nC": 0.8}


def test_default_simulation_is_unchanged_and_has_no_motion_truth():
    a = make_irm_cv(seed=4, **SMALL)
    b = make_irm_cv(seed=4, **SMALL, **{k: p.default for k, p in STAGE_PARAMETERS.items()})
    assert "registration" not in a["truth"]
    assert np.array_equal(a["movie"], b["movie"])


def test_planted_motion_and_bad_frames_in_the_truth():
    sim = make_irm_cv(seed=4, **SMALL, stage_drift_px=3.0, vibration_px=0.2, dark_frame_frac=0.05)
    tr = sim["truth"]["registration"]
    n = sim["movie"].shape[0]
    assert len(tr["dy_px"]) == len(tr["dx_px"]) == n
    assert tr["dy_px"][0] == tr["dx_px"][0] == 0.0
    assert len(tr["dark_frames"]) == round(0.05 * n) and min(tr["dark_frames"]) >= 3
    # a dark frame holds read noise only (12-bit camera, ~5 counts)
    assert sim["movie"][tr["dark_frames"]].mean() < 20
    # the drift is 3 px from first to last frame, give or take the jitter (3σ)
    end = np.hypot(tr["dy_px"][-1], tr["dx_px"][-1])
    assert abs(end - 3.0) < 3 * 0.2 * np.sqrt(2) * 2


def test_shift_convention_matches_the_registration_table():
    """Content displacement: frame k shows at (y, x) what frame 0 shows at (y − dy, x − dx)."""
    f = np.zeros((2, 21, 21), np.float32)
    f[:, 10, 10] = 1.0
    f = ndimage.gaussian_filter(f, (0, 1.5, 1.5))
    mo = {
        "dy_px": np.array([0.0, 2.0]),
        "dx_px": np.array([0.0, -3.0]),
        "blurred_frames": [],
        "dark_frames": [],
        "blur_sigma_px": 0.0,
    }
    out = apply_stage_motion(f.copy(), mo)
    assert np.unravel_index(np.argmax(out[1]), out[1].shape) == (12, 7)


def test_motion_stream_is_its_own():
    p = {k: 0.0 for k in STAGE_PARAMETERS}
    assert stage_motion(1, 10, p) is None
    p["vibration_px"] = 1.0
    a, b = stage_motion(1, 10, p), stage_motion(1, 10, p)
    assert np.array_equal(a["dy_px"], b["dy_px"])


# dendrite-cycling (issue 13): the same motion options, drawn from their own stream
DC_SMALL = {
    "field_px": 128,
    "n_deposits": 8,
    "n_new_per_cycle": 1,
    "n_merging_pairs": 2,
    "n_cycles": 2,
    "frame_interval_s": 20.0,
}
# sha256 of the seed-4 DC_SMALL movie written by the simulator before it had motion
# options (commit 3ed17e0): a default simulation is unchanged, bit for bit
DC_MOVIE_SHA256 = "41a65a59e008594c4e37f0112942e7aa5f99bfff8c940d5b73941fa7a8ccc01f"


def test_dendrite_cycling_default_unchanged_bit_for_bit():
    import hashlib

    from platescope.simulate import make_dendrite_cycling

    a = make_dendrite_cycling(seed=4, **DC_SMALL)
    assert hashlib.sha256(a["movie"].tobytes()).hexdigest() == DC_MOVIE_SHA256
    assert "registration" not in a["truth"]
    b = make_dendrite_cycling(
        seed=4, **DC_SMALL, **{k: p.default for k, p in STAGE_PARAMETERS.items()}
    )
    assert np.array_equal(a["movie"], b["movie"])


def test_dendrite_cycling_planted_motion_and_bad_frames():
    from platescope.optics import frame_quality
    from platescope.simulate import as_movie, make_dendrite_cycling

    base = {**DC_SMALL, "stage_drift_um": 0.0}  # only the planted motion moves the stage
    still = make_dendrite_cycling(seed=4, **base)
    sim = make_dendrite_cycling(
        seed=4, **base, vibration_px=0.8, dark_frame_frac=0.05, blurred_frame_frac=0.05
    )
    tr = sim["truth"]["registration"]
    n = sim["movie"].shape[0]
    assert len(tr["dy_px"]) == n and tr["dy_px"][0] == 0.0
    # the deposits' truth positions moved with the content
    k = sim["frames"]["frame"].to_numpy(int)
    for col, key in (("y_um", "dy_px"), ("x_um", "dx_px")):
        d = sim["frames"][col].to_numpy() - still["frames"][col].to_numpy()
        assert np.allclose(d, np.asarray(tr[key])[k] * sim["pixel_size_um"])
    assert sim["movie"][tr["dark_frames"]].mean() < 100  # read noise only
    # the planted bad frames are found, and none in the still movie
    q = frame_quality(as_movie(sim))
    bad = set(tr["dark_frames"]) | set(tr["blurred_frames"])
    assert bad <= set(q.loc[q["bad"], "frame"].astype(int))
    assert not frame_quality(as_movie(still))["bad"].any()
