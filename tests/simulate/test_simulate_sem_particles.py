"""The sem-particles simulator: files, metadata, truth and its internal consistency."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.io import read_experiment, read_sem
from platescope.models import FARADAY_C_MOL, sphere_volume_to_fmol
from platescope.simulate import SCENARIOS, make_sem_particles, simulate
from platescope.simulate._sem_model import SEM_DATABAR_ROWS, particle_targets

SMALL = {
    "footprint_diameter_um": 2.0,
    "image_height_px": 320,
    "image_width_px": 384,
}


def test_registered_with_its_parameters():
    fn = SCENARIOS["sem-particles"]
    assert {"current_densities_mA_cm2", "pixel_size_nm", "pair_fraction", "noise_scale"} <= set(
        fn.parameters
    )


def test_truth_follows_the_current_density_and_is_self_consistent():
    sim = make_sem_particles(seed=4, current_densities_mA_cm2="0.2,3.82", **SMALL)
    lo, hi = sim["truth"]["particles_by_condition"]
    area = sim["truth"]["footprint_area_cm2"]
    for row, im in zip((lo, hi), sim["images"], strict=True):
        parts = im["particles"]
        assert row["count"] == len(parts)
        # Poisson draw around the target density: within 4 sd
        want = particle_targets(row["current_density_mA_cm2"])["density_cm2"] * area
        assert abs(row["count"] - want) < 4 * np.sqrt(want) + 1
        assert row["density_cm2"] == pytest.approx(len(parts) / area)
        fmol = sphere_volume_to_fmol(parts["diameter_nm"].to_numpy())
        assert row["deposited_Li_fmol"] == pytest.approx(fmol)
        assert row["faradaic_efficiency"] == pytest.approx(
            fmol * 1e-15 * FARADAY_C_MOL / im["charge_C"]
        )
        # every particle inside the footprint and the image
        fp = im["footprint"]
        r = np.hypot(parts.x_um - fp["centre_x_um"], parts.y_um - fp["centre_y_um"])
        assert np.all(r + parts.diameter_nm / 2000 <= fp["radius_um"] + 1e-9)
        assert row["n_paired"] == int(parts.paired.sum()) > 0
    # higher current density: denser and smaller (Table 1 trend)
    assert hi["density_cm2"] > lo["density_cm2"]
    assert hi["mean_diameter_nm"] < lo["mean_diameter_nm"]


def test_particles_are_bright_where_planted():
    sim = make_sem_particles(seed=2, current_densities_mA_cm2="0.78", **SMALL)
    im = sim["images"][0]
    img = im["sem"][:-SEM_DATABAR_ROWS].astype(float)
    px_um = im["pixel_size_nm"] / 1000
    p = im["particles"]
    iy = np.rint(p.y_um / px_um).astype(int)
    ix = np.rint(p.x_um / px_um).astype(int)
    big = p.diameter_nm.to_numpy() > 40
    # centres of particles ≥ 40 nm are far above the substrate (≈ 88 grey)
    assert np.median(img[iy[big], ix[big]]) > 150
    assert im["sem"].shape == (SMALL["image_height_px"] + SEM_DATABAR_ROWS, SMALL["image_width_px"])


def test_files_metadata_and_experiment(tmp_path):
    exp_path = simulate(
        "sem-particles",
        tmp_path,
        seed=1,
        overrides={
            "current_densities_mA_cm2": "0.2, 0.78",
            **{k: str(v) for k, v in SMALL.items()},
        },
    )
    exp = read_experiment(exp_path)
    assert exp.scenario == "sem-particles" and not exp.sem and len(exp.sem_images) == 2
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    for entry, row in zip(exp.sem_images, truth["particles_by_condition"], strict=True):
        img = read_sem(entry["path"])  # pixel size from the FEI metadata, data bar removed
        assert img.attrs["pixel_size_nm"] == pytest.approx(8.0)
        assert img.shape == (SMALL["image_height_px"], SMALL["image_width_px"])
        assert entry["current_density_mA_cm2"] == row["current_density_mA_cm2"]
        assert entry["charge_C"] == pytest.approx(row["charge_C"])
        parts = pd.read_csv(tmp_path / "truth" / f"particles_{row['condition']}.csv")
        assert len(parts) == row["count"]
    raw = tomllib.loads(exp_path.read_text())
    assert [e["condition"] for e in raw["sem_images"]] == ["j0.2", "j0.78"]


def test_one_current_density_writes_the_sem_section(tmp_path):
    exp_path = simulate(
        "sem-particles",
        tmp_path,
        seed=0,
        overrides={"current_densities_mA_cm2": "3.82", **{k: str(v) for k, v in SMALL.items()}},
    )
    exp = read_experiment(exp_path)
    assert exp.sem["path"].endswith("sem.tif") and not exp.sem_images
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    assert {"count", "density_cm2", "mean_diameter_nm", "edge", "center"} <= set(truth["particles"])


def test_same_seed_same_images():
    a = make_sem_particles(seed=9, current_densities_mA_cm2="0.78", **SMALL)
    b = make_sem_particles(seed=9, current_densities_mA_cm2="0.78", **SMALL)
    np.testing.assert_array_equal(a["images"][0]["sem"], b["images"][0]["sem"])


@pytest.mark.parametrize(
    "overrides, fix",
    [
        ({"current_densities_mA_cm2": "fast"}, "comma-separated"),
        ({"current_densities_mA_cm2": "0.2,0.2"}, "once"),
        ({"footprint_diameter_um": "20"}, "footprint_diameter_um"),
        ({"pair_fraction": "0.9"}, "pair_fraction"),
    ],
)
def test_bad_parameters_name_the_fix(tmp_path, overrides, fix):
    with pytest.raises(InputError, match=fix):
        simulate("sem-particles", tmp_path / "x", overrides=overrides)
    assert not (tmp_path / "x" / "experiment.toml").exists()
