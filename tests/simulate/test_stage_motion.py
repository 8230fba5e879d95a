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
