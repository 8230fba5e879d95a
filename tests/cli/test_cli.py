"""The command line: exit status 0 / 2 with a message naming the file and the fix."""

import json
import shutil

import numpy as np
import pytest

from platescope.cli import main
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    simulate("irm-galvanostatic", root / "input", seed=3, overrides={"duration_s": 30.0})
    return root / "input"


#: TOML that turns the drift registration (on by default in irm-galvanostatic) off, for
#: the tests here whose subject is a message or a null, not the registration: on this
#: still simulated stage it applies nothing, at 5–8 CPU s per analysis. Registration on by
#: default is run and asserted on by tests/pipeline/test_pipeline_irm_galvanostatic.py::
#: test_outputs_follow_the_contract.
REGISTRATION_OFF = "\n[analysis.registration]\nenabled = false\n"


def _copy(sim, tmp_path):
    dst = tmp_path / "input"
    shutil.copytree(sim, dst)
    return dst


def _fails_with(capsys, argv, *needles):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def test_info_describes_each_kind(sim, capsys):
    for name, kind in (
        ("irm.tif", "movie"),
        ("echem.mpt", "echem"),
        ("sem.tif", "sem"),
        ("experiment.toml", "experiment"),
        ("frame_times.csv", "frame_times"),
    ):
        assert main(["info", str(sim / name)]) == 0
        assert json.loads(capsys.readouterr().out)["kind"] == kind


def test_truncated_tiff(sim, tmp_path, capsys):
    d = _copy(sim, tmp_path)
    data = (d / "irm.tif").read_bytes()
    (d / "irm.tif").write_bytes(data[: len(data) // 2])
    _fails_with(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "o")],
        "irm.tif",
        "truncated",
        "Fix:",
    )
    assert not (tmp_path / "o").exists()


def test_csv_without_current_column(sim, tmp_path, capsys):
    d = _copy(sim, tmp_path)
    (d / "echem.csv").write_text("time_s,potential_V\n0,0.5\n1,0.4\n2,0.3\n")
    toml = (d / "experiment.toml").read_text().replace('"echem.mpt"', '"echem.csv"')
    (d / "experiment.toml").write_text(toml)
    _fails_with(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "o")],
        "echem.csv",
        "current",
        "Fix:",
    )


def test_non_monotonic_frame_times(sim, tmp_path, capsys):
    d = _copy(sim, tmp_path)
    lines = (d / "frame_times.csv").read_text().splitlines()
    a, b = lines[5].split(","), lines[6].split(",")
    lines[5], lines[6] = f"{a[0]},{b[1]}", f"{b[0]},{a[1]}"
    (d / "frame_times.csv").write_text("\n".join(lines) + "\n")
    _fails_with(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "o")],
        "frame_times.csv",
        "Fix:",
    )


def test_echem_record_that_does_not_overlap_the_movie(sim, tmp_path, capsys):
    d = _copy(sim, tmp_path)
    toml = (
        (d / "experiment.toml")
        .read_text()
        .replace('timezone = "Europe/London"', 'timezone = "Europe/London"\ntime_offset_s = 5000.0')
    )
    (d / "experiment.toml").write_text(toml + REGISTRATION_OFF)  # (it runs before the sync)
    _fails_with(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "o")],
        "irm.tif",
        "does not overlap",
        "echem.mpt",
        "Fix:",
    )


def test_unknown_experiment_key_and_missing_file(sim, tmp_path, capsys):
    d = _copy(sim, tmp_path)
    (d / "experiment.toml").write_text(
        (d / "experiment.toml").read_text() + "\n[sims_typo]\nx = 1\n"
    )
    _fails_with(
        capsys,
        ["analyze", str(d / "experiment.toml"), "--out", str(tmp_path / "o")],
        "experiment.toml",
        "sims_typo",
    )
    _fails_with(
        capsys, ["analyze", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")], "nope.toml"
    )


def test_simulate_bad_override_and_usage(tmp_path, capsys):
    _fails_with(
        capsys,
        ["simulate", "irm-galvanostatic", "--out", str(tmp_path / "s"), "--set", "bogus=1"],
        "bogus",
    )
    _fails_with(
        capsys, ["demo", "--scenario", "nonexistent", "--out", str(tmp_path / "d")], "nonexistent"
    )
    with pytest.raises(SystemExit) as exc:
        main(["analyze"])
    assert exc.value.code == 2


def test_no_nucleation_reported_as_null_with_reason(tmp_path, capsys):
    exp = simulate(
        "irm-galvanostatic",
        tmp_path / "in",
        seed=1,
        overrides={"current_density_mA_cm2": 0.05, "duration_s": 20.0},
    )
    exp.write_text(exp.read_text() + REGISTRATION_OFF)
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 0
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    g = s["echem"]["galvanostatic"]
    assert g["nucleated"] is False and g["E_nuc_V"] is None and g["reason"]
    assert np.isfinite(s["particles"]["count"])


def test_internal_error_is_exit_1_without_traceback(tmp_path, capsys, monkeypatch):
    import platescope.pipeline as pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "analyze", boom)
    exp = tmp_path / "e.toml"
    exp.write_text('[experiment]\nscenario = "irm-galvanostatic"\n')
    assert main(["analyze", str(exp), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "simulated bug" in err and "Traceback" not in err
