"""End to end: [analysis.registration] in a movie scenario, against the planted motion."""

import json

import numpy as np
import pandas as pd
import pytest

from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {"size_px": "64", "n_cycles": "1", "li_deposit_s": "30", "n_sites": "6"}
MOTION = {"stage_drift_px": "4", "vibration_px": "0.4", "dark_frame_frac": "0.03"}


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    root = tmp_path_factory.mktemp("st_drift")
    exp = simulate("see-through-au", root / "input", seed=2, overrides={**SMALL, **MOTION})
    with open(exp, "a") as fh:
        fh.write("\n[analysis.registration]\nenabled = true\n")
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_registration_block_tables_and_figure(moving):
    """The small see-through field (64 px, smooth 4 % flat-field texture under shot noise)
    cannot be registered: the step says so, applies nothing, and still drops the planted
    dark frames."""
    root, s, truth = moving
    r = s["registration"]
    tr = truth["registration"]
    assert r["enabled"] is True
    assert s["parameters"]["registration"]["enabled"] is True
    assert [e["frame"] for e in r["excluded_frames"]] == tr["dark_frames"]
    assert all(e["reason"] == "dark" for e in r["excluded_frames"])
    shifts = pd.read_csv(root / "results" / r["shifts_table"])
    ok = ~shifts["frame"].isin(tr["dark_frames"])
    err = np.hypot(
        shifts["dy_px"] - np.asarray(tr["dy_px"]), shifts["dx_px"] - np.asarray(tr["dx_px"])
    )[ok]
    true_rms = float(np.sqrt(np.mean(err**2)))
    if true_rms > 0.3:  # a failed registration must be flagged and not applied
        assert r["applied"] is False and "uncertain" in r["applied_reason"]
        codes = {w["code"] for w in s["warnings"] if w["where"] == "registration"}
        assert "registration-uncertain" in codes
    assert (root / "results" / "figures" / "drift.png").is_file()
    assert (root / "results" / "tables" / "frame_quality.csv").is_file()
    codes = {w["code"] for w in s["warnings"] if w["where"] == "registration"}
    assert "frames-excluded" in codes


def test_still_default_simulation_has_no_bad_frames(tmp_path):
    """Default (still) simulator output: registration on by default (on the static band
    of the field, region auto), nothing excluded, nothing shifted."""
    exp = simulate("see-through-au", tmp_path / "input", seed=3, overrides=SMALL)
    s = analyze(exp, tmp_path / "results")
    r = s["registration"]
    assert r["enabled"] is True and r["n_frames_excluded"] == 0
    assert r["applied"] is False
    assert not any(w["where"] == "registration" for w in s["warnings"])


TV_SMALL = {
    "n_runs": "2",
    "j_min_mA_cm2": "0.5",
    "j_max_mA_cm2": "2",
    "field_px": "160",
    "n_ref": "14",
    "n_pit_ref": "4",
    "stripping_s": "60",
    "plating_s": "150",
    "frame_interval_s": "5",
}


def test_top_view_nucleation_registers_every_run(tmp_path):
    """top-view-nucleation has one movie per [[plating]] run: each is stabilised on its
    own (its planted dark frames dropped, its planted drift measured or the step says it
    is uncertain), and the counts stay within the still-movie tolerance."""
    motion = {"stage_drift_px": "3", "vibration_px": "0.4", "dark_frame_frac": "0.04"}
    exp = simulate("top-view-nucleation", tmp_path / "in", seed=3, overrides={**TV_SMALL, **motion})
    with open(exp, "a") as fh:
        fh.write("\n[analysis.registration]\nenabled = true\n")
    s = analyze(exp, tmp_path / "res")
    truth = json.loads((tmp_path / "in" / "truth" / "truth.json").read_text())
    movies = s["registration"]["movies"]
    assert set(movies) == {"run1", "run2"}
    for k, w in enumerate(truth["runs"]):
        r, tr = movies[f"run{k + 1}"], w["registration"]
        assert [e["frame"] for e in r["excluded_frames"]] == tr["dark_frames"]
        shifts = pd.read_csv(tmp_path / "res" / r["shifts_table"])
        ok = ~shifts["frame"].isin(tr["dark_frames"])
        err = np.hypot(
            shifts["dy_px"] - np.asarray(tr["dy_px"]), shifts["dx_px"] - np.asarray(tr["dx_px"])
        )[ok]
        if float(np.sqrt(np.mean(err**2))) > 0.3:
            assert r["applied"] is False and "uncertain" in r["applied_reason"]
        else:
            assert r["applied"] is True
        assert (tmp_path / "res" / "figures" / f"drift_run{k + 1}.png").is_file()
        g = s["nucleation"]["runs"][k]
        assert abs(g["n_nuclei"] - w["n_nuclei"]) <= max(1, 0.05 * w["n_nuclei"])
    wheres = {x["where"] for x in s["warnings"] if x["code"] == "frames-excluded"}
    assert wheres == {"registration.movies.run1", "registration.movies.run2"}
