"""side-view end to end: simulate → analyze → compare with the planted truth; bad input."""

import json
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest
import tomli_w

from platescope.cli import main
from platescope.io._image_writers import write_imagej_movie
from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("sv")
    exp = simulate("side-view", base / "input", seed=5, overrides={"capping_fraction": 0.4})
    summary = analyze(exp, base / "results")
    truth = json.loads((base / "input" / "truth" / "truth.json").read_text())
    return base, exp, summary, truth


def test_summary_matches_truth(run):
    base, _, s, truth = run
    sv, tv = s["side_view"], truth["side_view"]
    px = truth["parameters"]["pixel_size_um"]
    assert abs(sv["mean_thickness_um"] - tv["mean_thickness_um"]) < px
    assert abs(sv["max_thickness_um"] - tv["max_thickness_um"]) < 2 * px
    assert abs(sv["porosity"] - tv["porosity"]) < 0.05
    assert sv["n_bands"] == 2
    assert abs(sv["capping_thickness_um"] - tv["capping_thickness_um"]) < px
    # the charge is read from the EC-Lab file and put on the frames by the time offset
    assert sv["charge_C"] == pytest.approx(tv["charge_C"], rel=1e-3)
    # transition on the echem clock (the synchronised movie)
    dt = truth["parameters"]["frame_interval_s"]
    assert abs(sv["transition"]["t_transition_s"] - tv["transition"]["t_transition_s"]) < 2 * dt
    assert s["warnings"] == []


def test_tables_and_figures(run):
    base, _, s, truth = run
    frames = pd.read_csv(base / "results" / "tables" / "side_view_frames.csv")
    tf = pd.read_csv(base / "input" / "truth" / "frames.csv")
    assert len(frames) == len(tf)
    res = frames["resolved"].to_numpy(bool)
    px = truth["parameters"]["pixel_size_um"]
    err = np.abs(frames["mean_um"].to_numpy() - tf["mean_um"].to_numpy())[res] / px
    assert np.max(err) < 1.0
    front = pd.read_csv(base / "results" / "tables" / "side_view_front.csv")
    tfront = pd.read_csv(base / "input" / "truth" / "front_um.csv")
    d = np.abs(front.drop(columns="t_s").to_numpy() - tfront.drop(columns="t_s").to_numpy())
    assert np.median(d[res]) / px < 1.0
    figs = {p.name for p in (base / "results" / "figures").iterdir()}
    assert {"side_view_kymograph.png", "side_view_thickness_vs_charge.png"} <= figs


def _edit(exp_dir, tmp_path, change):
    d = tmp_path / "input"
    shutil.copytree(exp_dir, d)
    toml = d / "experiment.toml"
    cfg = tomllib.loads(toml.read_text())
    change(cfg, d)
    toml.write_text(tomli_w.dumps(cfg))
    return toml


def _fails_with(capsys, argv, *needles):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    flat = " ".join(err.split())  # the message is wrapped
    for n in needles:
        assert n in flat, err
    return err


def test_no_edge_visible_exits_2_with_fix(run, tmp_path, capsys):
    base = run[0]

    def flat_movie(cfg, d):
        rng = np.random.default_rng(0)
        data = (2000 + rng.normal(0, 30, (12, 64, 64))).astype(np.uint16)
        write_imagej_movie(d / "flat.tif", data, pixel_size_um=0.5, frame_interval_s=20.0)
        cfg["movie"] = {"path": "flat.tif", "mode": "trans"}

    toml = _edit(base / "input", tmp_path, flat_movie)
    _fails_with(
        capsys,
        ["analyze", str(toml), "--out", str(tmp_path / "o")],
        "no electrode edge is visible",
        "edge_row",
    )
    assert not (tmp_path / "o").exists()


def test_bad_growth_direction_exits_2(run, tmp_path, capsys):
    base = run[0]

    def bad(cfg, d):
        cfg["analysis"]["side_view"]["growth_direction"] = "sideways"

    toml = _edit(base / "input", tmp_path, bad)
    _fails_with(
        capsys, ["analyze", str(toml), "--out", str(tmp_path / "o")], "growth_direction", "Fix:"
    )


def test_movie_without_echem_reports_no_porosity(run, tmp_path):
    base = run[0]

    def no_echem(cfg, d):
        del cfg["echem"]

    toml = _edit(base / "input", tmp_path, no_echem)
    s = analyze(toml, tmp_path / "o")
    sv = s["side_view"]
    assert sv["porosity"] is None and "charge" in sv["porosity_reason"]
    assert sv["mean_thickness_um"] is not None
    assert any(k["analysis"] == "side_view.porosity" for k in s["skipped"])


def test_every_shared_number_within_its_uncertainty_or_a_pixel(run):
    """platescope.testing pairs summary.json and truth.json key by key."""
    from platescope.testing import compare_summary

    _, _, s, truth = run
    df = compare_summary(s, truth, keys=None)
    df = df[df["key"].str.startswith("side_view.")]
    keys = set(df["key"])
    assert {
        "side_view.mean_thickness_um",
        "side_view.porosity",
        "side_view.capping_thickness_um",
        "side_view.transition.t_transition_s",
        "side_view.edge.tilt_deg",
    } <= keys
    px = truth["parameters"]["pixel_size_um"]
    for row in df.itertuples():
        if row.key.endswith("_um"):
            assert abs(row.error) < px, row
    por = df.set_index("key").loc["side_view.porosity"]
    assert bool(por["covered"]) or abs(por["error"]) < 0.01
