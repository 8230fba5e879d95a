"""Noise-limited SEM segmentation is flagged: real faint cuboids vs the simulator."""

import json
from pathlib import Path

import pytest

from platescope.cli import main
from platescope.simulate import simulate

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "images").resolve()


def _run(tmp_path, sem_path):
    exp = tmp_path / "experiment.toml"
    exp.write_text(
        f'[experiment]\nscenario = "sem-particles"\nname = "x"\n[sem]\npath = "{sem_path}"\n',
        encoding="utf-8",
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 0
    return json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_faint_cuboids_are_flagged_low_contrast(tmp_path):
    """IrCo_8020 at 50 000×: ~10 faint 150–180 nm cuboids at the noise level (manifest);
    the recipe breaks them into pieces, so its count must not stand unqualified."""
    s = _run(tmp_path, DATA / "sem_tescan_irco" / "IrCo_8020_50000x_center.tif")
    assert s["particles"]["object_contrast_sd"] < 3
    assert "low-contrast-objects" in {w["code"] for w in s["warnings"]}


def test_simulated_particles_are_not_flagged(tmp_path):
    from platescope.pipeline import analyze

    # the default three conditions on smaller images (as test_pipeline_sem_particles.py):
    # the contrast is each object's, not a count, so the image size does not change it
    small = {"footprint_diameter_um": "2.0", "image_height_px": "384", "image_width_px": "448"}
    simulate("sem-particles", tmp_path / "in", seed=4, overrides=small)

    s = analyze(tmp_path / "in" / "experiment.toml", tmp_path / "out")
    blocks = [s["particles"]] if "particles" in s else s["particles_by_condition"]
    for b in blocks:
        assert b["object_contrast_sd"] > 4
    assert "low-contrast-objects" not in {w["code"] for w in s["warnings"]}
