"""Inputs that are not regular files (a FIFO, a device, a folder) are refused before any read."""

import os

import pytest

from platescope.cli import main


def _exp(tmp_path, echem_path):
    p = tmp_path / "experiment.toml"
    p.write_text(
        f'[experiment]\nscenario = "irm-galvanostatic"\n[echem]\npath = "{echem_path}"\n',
        encoding="utf-8",
    )
    return p


def test_fifo_and_device_inputs_exit_2_without_reading(tmp_path, capsys):
    fifo = tmp_path / "echem.mpt"
    os.mkfifo(fifo)  # opening it for reading would block forever
    assert main(["analyze", str(_exp(tmp_path, fifo)), "--out", str(tmp_path / "o")]) == 2
    assert "not a regular file" in " ".join(capsys.readouterr().err.split())
    assert main(["info", str(fifo)]) == 2
    assert "not a regular file" in " ".join(capsys.readouterr().err.split())
    if os.path.exists("/dev/zero"):
        assert (
            main(["analyze", str(_exp(tmp_path, "/dev/zero")), "--out", str(tmp_path / "o")]) == 2
        )
        assert "not a regular file" in " ".join(capsys.readouterr().err.split())


def test_folder_as_input_exits_2(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert (
        main(["analyze", str(_exp(tmp_path, tmp_path / "data")), "--out", str(tmp_path / "o")]) == 2
    )
    assert "is a folder" in " ".join(capsys.readouterr().err.split())
    assert main(["info", str(tmp_path / "data")]) == 2
    assert main(["analyze", str(tmp_path / "data"), "--out", str(tmp_path / "o")]) == 2


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("[electrode]\narea_cm2 = true\n", "area_cm2 = True"),
        ("[electrode]\narea_cm2 = inf\n", "area_cm2 = inf"),
        ("[electrode]\narea_cm2 = nan\n", "area_cm2 = nan"),
        ('echem = "x"\n', "[echem] must be a table"),
    ],
)
def test_experiment_values_of_the_wrong_kind_exit_2(tmp_path, capsys, section, problem):
    p = tmp_path / "experiment.toml"
    head = '[experiment]\nscenario = "irm-galvanostatic"\n'
    body = (section + head) if not section.startswith("[") else (head + section)
    p.write_text(body, encoding="utf-8")
    assert main(["analyze", str(p), "--out", str(tmp_path / "o")]) == 2
    assert problem in " ".join(capsys.readouterr().err.split())
