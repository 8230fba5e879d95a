"""see-through with stage motion, end to end (issue 13): registered on the cell's static
part (bare glass beyond the film's edge + window dust), the onset maps come out as
good as the still movie's; without static structure the registration is refused and
the warning names the fix."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {"size_px": "80", "n_cycles": "1", "li_deposit_s": "30", "n_sites": "5"}
STATIC = {"static_texture": "0.05", "static_strip_um": "2.4"}
MOTION = {"stage_drift_px": "4", "vibration_px": "0.4", "dark_frame_frac": "0.03"}
REG = '\n[analysis.registration]\nenabled = true\nregion = "auto"\n'


def _run(root, overrides, register, seed=2):
    exp = simulate("see-through-au", root / "input", seed=seed, overrides=overrides)
    if register:
        with open(exp, "a") as fh:
            fh.write(REG)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return summary, truth


def _onset_err_frames(root, summary, truth):
    """Median |onset error| per alloying step, frames (as validation/see_through.py)."""
    t = pd.read_csv(root / "input" / "frame_times.csv")["time_s"].to_numpy()
    dt = float(np.median(np.diff(t)))
    out = {}
    for a, w in zip(summary["optics"]["alloying"], truth["optics"]["alloying"], strict=True):
        m = tifffile.imread(root / "results" / a["onset_map_path"])
        p = tifffile.imread(root / "input" / "truth" / w["onset_map_path"])
        ok = np.isfinite(m) & np.isfinite(p)
        out[a["step"]] = float(np.median(np.abs(m[ok] - p[ok]))) / dt
    return out


@pytest.fixture(scope="module")
def still(tmp_path_factory):
    root = tmp_path_factory.mktemp("st_static_still")
    s, truth = _run(root, {**SMALL, **STATIC}, register=False)
    return root, s, truth


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    root = tmp_path_factory.mktemp("st_static_moving")
    s, truth = _run(root, {**SMALL, **STATIC, **MOTION}, register=True)
    return root, s, truth


def test_static_band_found_and_registration_recovers_the_planted_motion(moving):
    root, s, truth = moving
    r = s["registration"]
    tr = truth["registration"]
    found = r["static_region"]
    assert found["side"] == "right" and found["reason"] is None
    # the box lies on the bare glass in every frame (the film's edge moves with the stage)
    px = truth["parameters"]["pixel_size_um"]
    edge_um = truth["static_structure"]["strip_x0_um"]
    assert found["region_um"][0] >= edge_um + max(0.0, max(tr["dx_px"])) * px
    assert r["applied"] is True
    assert [e["frame"] for e in r["excluded_frames"]] == tr["dark_frames"]
    shifts = pd.read_csv(root / "results" / r["shifts_table"])
    ok = ~shifts["frame"].isin(tr["dark_frames"]).to_numpy()
    for col in ("dy_px", "dx_px"):
        err = (shifts[col].to_numpy() - np.asarray(tr[col]))[ok]
        assert np.sqrt(np.mean(err**2)) <= 0.1
    assert not any(w["code"] == "registration-uncertain" for w in s["warnings"])


def test_onset_maps_with_motion_within_a_tenth_of_a_frame_of_the_still_ones(still, moving):
    e_still = _onset_err_frames(*still)
    e_moving = _onset_err_frames(*moving)
    assert set(e_still) == set(e_moving) == {1, 2}
    for j in (1, 2):
        assert e_moving[j] <= e_still[j] + 0.1, (j, e_still, e_moving)
        assert e_still[j] < 1.0


def test_no_static_structure_refuses_and_says_how_to_fix_it(tmp_path):
    """The default field changes everywhere as the film alloys: nothing static to find,
    the registration is not applied, and the warning names region_um."""
    s, truth = _run(tmp_path, {**SMALL, **MOTION}, register=True)
    r = s["registration"]
    assert "static_structure" not in truth
    assert r["static_region"]["region_um"] is None
    assert "no band of static pixels" in r["static_region"]["reason"]
    assert r["applied"] is False
    warn = [w for w in s["warnings"] if w["code"] == "registration-uncertain"]
    assert len(warn) == 1
    assert "region_um" in warn[0]["message"] and "does not alloy" in warn[0]["message"]
