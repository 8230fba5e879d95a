"""Nothing lost: analyze/simulate/demo never delete or overwrite a file platescope did not write."""

import hashlib
import json
import os
import shutil

import pytest

from platescope._outguard import MARKER
from platescope.cli import main
from platescope.simulate import simulate


def _snapshot(folder):
    """Every file under ``folder`` with its SHA-256 (the bytes that must survive)."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety") / "myexperiment"
    simulate("sims-diffusion", root, seed=1)
    # the user's own files beside the inputs
    (root / "notes.txt").write_text("plated at 0.1 mA cm-2, cell 7\n", encoding="utf-8")
    (root / MARKER).unlink()  # a folder of raw data, as a user would have it
    return root


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _refused(capsys, argv, *needles):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    flat = " ".join(err.split())  # the CLI wraps its message at 88 columns
    for n in needles:
        assert n in flat, err
    return err


def test_out_dot_in_the_experiment_folder_keeps_every_byte(experiment, tmp_path, capsys):
    d = _copy(experiment, tmp_path / "exp")
    before = _snapshot(d)
    cwd = os.getcwd()
    os.chdir(d)
    try:
        _refused(capsys, ["analyze", "experiment.toml", "--out", "."], "contains the input")
    finally:
        os.chdir(cwd)
    assert _snapshot(d) == before
    # nothing left beside it either (no staging folders)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_out_parent_of_the_inputs_is_refused(experiment, tmp_path, capsys):
    d = _copy(experiment, tmp_path / "project" / "exp")
    before = _snapshot(tmp_path / "project")
    _refused(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "project")],
        "contains the input",
    )
    assert _snapshot(tmp_path / "project") == before


def test_out_into_a_folder_of_user_files_is_refused(experiment, tmp_path, capsys):
    other = tmp_path / "thesis"
    other.mkdir()
    (other / "chapter3.docx").write_bytes(b"\x50\x4b\x03\x04 not really a docx")
    before = _snapshot(other)
    err = _refused(
        capsys,
        ["analyze", str(experiment / "experiment.toml"), "--out", str(other)],
        "chapter3.docx",
        "did not write",
    )
    assert "new or empty folder" in err
    assert _snapshot(other) == before


@pytest.fixture(scope="module")
def small_experiment(tmp_path_factory):
    """A small experiment for the tests that analyse to the end (published, rerun): a
    2-cycle symmetric cell, ≈ 1–2 CPU s per analysis where the SIMS one above takes ≈ 15.
    What they check — the marker, the reruns into platescope's own folder, a user's file
    in it — is the output folder's, the same for every scenario. Simulated once, beside
    the user's own notes, without the marker (a folder of raw data); only read."""
    root = tmp_path_factory.mktemp("safety_small") / "myexperiment"
    simulate("symmetric-cell", root, seed=1, overrides={"n_cycles": "2"})
    (root / "notes.txt").write_text("plated at 0.1 mA cm-2, cell 7\n", encoding="utf-8")
    (root / MARKER).unlink()
    return root


@pytest.fixture(scope="module")
def published(small_experiment, tmp_path_factory):
    """One ``analyze`` result of the small experiment (tests that rerun into it use a
    copy)."""
    out = tmp_path_factory.mktemp("published") / "results"
    assert main(["analyze", str(small_experiment / "experiment.toml"), "--out", str(out)]) == 0
    return out


def test_rerun_into_own_results_is_allowed_but_a_user_file_there_stops_it(
    small_experiment, published, tmp_path, capsys
):
    experiment = small_experiment
    out = _copy(published, tmp_path / "results")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "result" and "summary.json" in marker["files"]
    # a rerun replaces platescope's own results
    assert main(["analyze", str(experiment / "experiment.toml"), "--out", str(out)]) == 0
    capsys.readouterr()
    # the user drops a note into the results folder: the next rerun must not delete it
    (out / "figures" / "my_annotated_plot.svg").write_text("<svg/>", encoding="utf-8")
    before = _snapshot(out)
    _refused(
        capsys,
        ["analyze", str(experiment / "experiment.toml"), "--out", str(out)],
        "my_annotated_plot.svg",
    )
    assert _snapshot(out) == before


def test_result_folder_of_an_older_version_without_marker_is_reused(
    small_experiment, published, tmp_path
):
    experiment = small_experiment
    out = _copy(published, tmp_path / "results")
    (out / MARKER).unlink()  # as written by platescope 0.1
    assert main(["analyze", str(experiment / "experiment.toml"), "--out", str(out)]) == 0
    assert (out / MARKER).is_file()


def test_simulate_into_a_folder_of_user_files_is_refused(tmp_path, capsys):
    d = tmp_path / "data"
    d.mkdir()
    (d / "experiment.toml").write_text(
        '[experiment]\nscenario = "sims-diffusion"\nname = "my real run"\n', encoding="utf-8"
    )
    (d / "profile.csv").write_text("depth_um,counts_6Li,counts_7Li\n", encoding="utf-8")
    before = _snapshot(d)
    _refused(capsys, ["simulate", "sims-diffusion", "--out", str(d)], "did not write")
    assert _snapshot(d) == before
    # and into its own earlier output it may write again
    fresh = tmp_path / "sim"
    assert main(["simulate", "sims-diffusion", "--out", str(fresh)]) == 0
    assert main(["simulate", "sims-diffusion", "--out", str(fresh), "--seed", "2"]) == 0


def test_demo_into_a_folder_of_user_files_is_refused(tmp_path, capsys):
    (tmp_path / "index.html").write_text("<html>my lab page</html>", encoding="utf-8")
    before = _snapshot(tmp_path)
    _refused(
        capsys,
        ["demo", "--scenario", "sims-diffusion", "--out", str(tmp_path)],
        "index.html",
    )
    assert _snapshot(tmp_path) == before


def test_a_misspelt_analysis_section_is_an_error(experiment, tmp_path, capsys):
    exp = tmp_path / "typo.toml"
    text = (experiment / "experiment.toml").read_text(encoding="utf-8")
    text = text.replace('path = "', f'path = "{experiment}/', 99)
    exp.write_text(text + '\n[analysis.simss]\nmodel = "gaussian"\n', encoding="utf-8")
    _refused(capsys, ["analyze", str(exp), "--out", str(tmp_path / "o")], "[analysis.simss]")
    assert not (tmp_path / "o").exists()
