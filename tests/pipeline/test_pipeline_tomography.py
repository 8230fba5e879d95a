"""End to end: simulate tomography → analyze (through files) recovers the planted truth;
label volumes, folders of slices and bad [volume] input (exit status 2)."""

import json

import numpy as np
import pytest
import tifffile

from platescope.cli import main
from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {"size_xy_px": "96", "size_z_px": "48", "radius_mean_um": "4"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tomo")
    exp = simulate("tomography", root / "input", seed=7, overrides=SMALL)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_summary_against_truth(run):
    root, summary, truth = run
    s, t = summary["tomography"], truth["tomography"]
    assert summary["scenario"] == "tomography"
    assert "porosity" in summary["headline"] and "isolated" in summary["headline"]
    assert summary["inputs"]["volume"]["sha256"] == truth["inputs"]["volume.tif"]["sha256"]
    assert s["porosity"] == pytest.approx(t["porosity"], abs=0.01)
    assert s["li_volume_um3"] == pytest.approx(t["li_volume_um3"], rel=0.02)
    assert s["li_surface_area_um2"] == pytest.approx(t["li_surface_area_um2"], rel=0.03)
    assert s["components"]["isolated_count"] == t["components"]["isolated_count"]
    assert s["tortuosity"]["tortuosity"] >= 1.0
    for name in (
        "tomography_sections",
        "tomography_size_distribution",
        "tomography_porosity_profile",
    ):
        assert (root / "results" / "figures" / f"{name}.png").exists()
    prof = (root / "results" / "tables" / "tomography_profile.csv").read_text().splitlines()
    assert len(prof) == 48 + 1


def _label_volume(path):
    v = np.zeros((20, 24, 24), np.uint8)
    v[:6] = 1  # a Li film on the collector
    v[12:15, 10:13, 10:13] = 1  # one isolated piece (27 voxels)
    v[:, :, 20:] = 2  # separator
    for i, sl in enumerate(v):
        tifffile.imwrite(path / f"img_{i}.tif", sl)
    return v


def test_label_slices_folder(tmp_path):
    (tmp_path / "slices").mkdir()
    v = _label_volume(tmp_path / "slices")
    (tmp_path / "experiment.toml").write_text(
        '[experiment]\nscenario = "tomography"\n\n[volume]\npath = "slices"\nvoxel_size_um = 0.5\n'
        'collector_face = "z0"\nlabels = { 0 = "pore", 1 = "li", 2 = "other" }\n'
    )
    s = analyze(tmp_path / "experiment.toml", tmp_path / "res")["tomography"]
    assert s["porosity"] == pytest.approx(np.mean(v == 0))
    assert s["phase_fraction"]["other"] == pytest.approx(np.mean(v == 2))
    assert s["components"]["isolated_count"] == 1
    assert s["components"]["isolated_volume_um3"] == pytest.approx(27 * 0.125)
    assert s["tortuosity"]["tortuosity"] is None and "transport_axis" in s["tortuosity"]["reason"]


def test_bad_volume_input_exit_2(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "v.tif", np.zeros((4, 8, 8), np.uint8), photometric="minisblack")
    exp = tmp_path / "experiment.toml"
    exp.write_text('[experiment]\nscenario = "tomography"\n\n[volume]\npath = "v.tif"\n')
    assert main(["analyze", str(exp), "--out", str(tmp_path / "r1")]) == 2
    assert "voxel size" in " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
    exp.write_text(
        '[experiment]\nscenario = "tomography"\n\n[volume]\npath = "v.tif"\nvoxel_size_um = 1\nlabels = "pore"\n'
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "r2")]) == 2
    assert "labels" in " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
    exp.write_text(
        '[experiment]\nscenario = "tomography"\n\n[volume]\npath = "missing.tif"\nvoxel_size_um = 1\n'
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "r3")]) == 2
    assert "does not exist" in " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
