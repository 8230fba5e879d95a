"""End to end: simulate → analyze (through files) recovers the planted truth."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from _experiment_edit import REGISTRATION_OFF, edit_experiment

from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("irm")
    exp = simulate("irm-galvanostatic", root / "input", seed=7)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_outputs_follow_the_contract(run):
    root, summary, _ = run
    res = root / "results"
    on_disk = json.loads((res / "summary.json").read_text())
    assert on_disk == summary
    for key in ("scenario", "platescope_version", "inputs", "parameters"):
        assert key in summary
    for role in ("echem", "movie", "movie.frame_times", "sem"):
        entry = summary["inputs"][role]
        # paths relative to the experiment file (and absolute in path_abs)
        assert len(entry["sha256"]) == 64 and (root / "input" / entry["path"]).is_file()
        assert Path(entry["path_abs"]) == root / "input" / entry["path"]
    g = summary["echem"]["galvanostatic"]
    for key in ("E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V", "nucleated"):
        assert key in g
    o = summary["optics"]
    assert {"t_nuc_irm_s", "t_nuc_map", "alpha"} <= set(o)
    assert (res / o["t_nuc_map"]["path"]).is_file()
    p = summary["particles"]
    assert p["footprint"]["found"] is True and p["morphology"]["kind"] == "particles"
    assert {r["filter"] for r in p["excluded"]} == {
        "min_area_nm2",
        "max_area_um2",
        "exclude_border",
    }
    for key in (
        "count",
        "density_cm2",
        "mean_diameter_nm",
        "sd_diameter_nm",
        "deposited_Li_fmol",
        "faradaic_efficiency",
        "edge",
        "center",
    ):
        assert key in p
    for fig in ("potential_irm", "t_nuc_map", "sem_particles", "diameters", "alpha", "sync"):
        assert (res / "figures" / f"{fig}.png").stat().st_size > 10_000
    html = (res / "report.html").read_text()
    assert "data:image/png;base64," in html and "E_nuc" in html
    # registration is on by default (the run the other files' tests that turn it off rely
    # on): it ran on the whole movie and, the simulated stage being still, applied nothing
    r = summary["registration"]
    assert r["enabled"] is True and r["path"] in ("screen", "full registration")
    assert r["applied"] is False, r["applied_reason"]
    assert r["n_frames"] == len(pd.read_csv(root / "input" / "frame_times.csv"))
    if r["path"] == "full registration":
        shifts = pd.read_csv(res / r["shifts_table"])
        assert len(shifts) == r["n_frames"] and np.abs(shifts[["dy_px", "dx_px"]]).max().max() < 1
    assert not list(res.parent.glob(".results.staging-*"))


def test_recovers_planted_truth(run):
    root, s, truth = run
    tg, g = truth["echem"]["galvanostatic"], s["echem"]["galvanostatic"]
    assert abs(g["E_nuc_V"] - tg["E_nuc_V"]) < 2e-3
    assert abs(g["t_nuc_s"] - tg["t_nuc_s"]) <= g["t_nuc_s_err"] <= 0.5
    assert abs(s["sync"]["offset_s"] - truth["sync"]["offset_s"]) < 0.05
    frames = pd.read_csv(root / "input" / "frame_times.csv")["time_s"].to_numpy()
    dt = float(np.median(np.diff(frames)))
    got = tifffile.imread(root / "results" / s["optics"]["t_nuc_map"]["path"])
    want = tifffile.imread(root / "input" / "truth" / "t_nuc_map.tif")
    both = np.isfinite(got) & np.isfinite(want)
    assert both.sum() > 0.9 * np.isfinite(want).sum()
    assert np.median(np.abs(got[both] - want[both])) <= dt
    assert s["optics"]["alpha"]["value"] == pytest.approx(
        truth["optics"]["alpha"]["value"], rel=0.05
    )
    tp, p = truth["particles"], s["particles"]
    assert p["count"] == pytest.approx(tp["count"], rel=0.05)
    assert p["mean_diameter_nm"] == pytest.approx(tp["mean_diameter_nm"], rel=0.05)


def test_rerun_replaces_results_and_keeps_inputs(run, tmp_path):
    root, _, _ = run
    # the experiment with registration off (its inputs by absolute path): the subject is
    # the output folder; registration on by default is asserted by
    # test_outputs_follow_the_contract, and on this still stage it applies nothing
    exp = edit_experiment(root / "input" / "experiment.toml", tmp_path, append=REGISTRATION_OFF)
    before = {p.name: p.read_bytes() for p in (root / "input").iterdir() if p.is_file()}
    out = tmp_path / "res"
    # the module's published result stands for an earlier run into this folder (a copy:
    # the fixture is shared by the other tests)
    shutil.copytree(root / "results", out)
    # a table an earlier platescope run wrote (listed in its marker) that this run does not
    import json

    from platescope._outguard import MARKER

    (out / "tables" / "stale.csv").write_text("old result")
    marker = json.loads((out / MARKER).read_text())
    marker["files"].append("tables/stale.csv")
    (out / MARKER).write_text(json.dumps(marker))
    analyze(exp, out)
    assert not (out / "tables" / "stale.csv").exists()
    # (and the earlier run's registration table, which this run does not write)
    assert not (out / "tables" / "registration_shifts.csv").exists()

    def read(inputs):  # the files read and their contents (the copy names them absolutely)
        return {role: (e["path_abs"], e["sha256"], e["bytes"]) for role, e in inputs.items()}

    rerun = json.loads((out / "summary.json").read_text())
    assert read(rerun["inputs"]) == read(run[1]["inputs"])
    after = {p.name: p.read_bytes() for p in (root / "input").iterdir() if p.is_file()}
    assert before == after


def test_missing_inputs_are_skipped_with_reason(run, tmp_path):
    root, _, _ = run
    exp = tmp_path / "only_echem.toml"
    exp.write_text(
        '[experiment]\nscenario = "irm-galvanostatic"\n'
        f'[echem]\npath = "{root / "input" / "echem.mpt"}"\ntimezone = "Europe/London"\n'
        "[electrode]\narea_cm2 = 2.83e-7\n"
    )
    s = analyze(exp, tmp_path / "out")
    assert s["echem"]["galvanostatic"]["nucleated"] is True
    skipped = {item["analysis"] for item in s["skipped"]}
    assert "particles" in skipped
    assert "optics" not in s


def test_lazy_dask_movie_gives_the_same_results(run, tmp_path, monkeypatch):
    """Large movies open lazily (dask); the analysis must not depend on that."""
    import platescope.io as pio

    root, summary, _ = run
    eager_read = pio.read_movie

    def lazy_read(path, **kw):
        movie = eager_read(path, **{**kw, "lazy": True})
        assert hasattr(movie.data, "dask")
        return movie

    monkeypatch.setattr(pio, "read_movie", lazy_read)
    # the SEM image (no movie in it, analysed last) is left out: its particle analysis is
    # the eager run's and has no part in what is compared here. So is the registration: on
    # this still stage the eager run's applied nothing (test_outputs_follow_the_contract),
    # and a lazy movie registered by default is test_irm_single_pass.py's
    exp = edit_experiment(
        root / "input" / "experiment.toml",
        tmp_path,
        drop_sections=("sem",),
        append=REGISTRATION_OFF,
    )
    lazy = analyze(exp, tmp_path / "lazy")
    assert "sem" not in lazy["inputs"] and "movie" in lazy["inputs"]
    assert lazy["sync"]["offset_s"] == pytest.approx(summary["sync"]["offset_s"], abs=1e-6)
    a = tifffile.imread(tmp_path / "lazy" / lazy["optics"]["t_nuc_map"]["path"])
    b = tifffile.imread(root / "results" / summary["optics"]["t_nuc_map"]["path"])
    np.testing.assert_allclose(a, b, atol=1e-4, equal_nan=True)
    assert lazy["optics"]["alpha"]["value"] == pytest.approx(
        summary["optics"]["alpha"]["value"], rel=1e-6
    )
