"""SEM series: repeated conditions, other condition keys, non-particulate images, filters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from platescope import InputError
from platescope.io._image_writers import write_sem_tiff
from platescope.pipeline import analyze
from platescope.pipeline._sem_series import group_repeats, power_law
from platescope.simulate import make_sem_morphology

PX_NM = 10.0


def _tif(tmp_path, name, kind, seed):
    img = make_sem_morphology(kind, seed=seed, shape=(256, 256), pixel_size_nm=PX_NM)["image"]
    return write_sem_tiff(
        tmp_path / f"{name}.tif", np.asarray(img.values), pixel_size_nm=PX_NM, databar_rows=0
    )


def test_power_law_refuses_what_it_cannot_fit():
    y = np.array([1.0, 2.0, 3.0])
    same = power_law(np.array([0.5, 0.5, 0.5]), y, 0.1 * y)
    assert same["exponent"] is None and "distinct" in same["reason"] or "span" in same["reason"]
    close = power_law(np.array([1.0, 1.01, 1.02]), y, 0.1 * y)
    assert close["exponent"] is None and "span" in close["reason"]
    noisy = power_law(np.array([1.0, 2.0, 4.0]), np.array([1.0, 50.0, 0.02]), np.full(3, 0.01))
    assert noisy["exponent"] is None and "constrain" in noisy["reason"]
    good = power_law(
        np.array([1.0, 2.0, 4.0]), 5 * np.array([1.0, 2.0, 4.0]) ** -0.5, np.full(3, 0.01)
    )
    assert good["exponent"] == pytest.approx(-0.5)


def test_group_repeats_averages_and_takes_the_scatter():
    rows = [
        {"x": 1.0, "density_cm2": 1.0, "density_cm2_err": 0.01, "mean_diameter_nm": None},
        {"x": 1.0, "density_cm2": 3.0, "density_cm2_err": 0.01, "mean_diameter_nm": None},
        {"x": 2.0, "density_cm2": 5.0, "density_cm2_err": 0.2, "mean_diameter_nm": 40.0},
    ]
    g = group_repeats(rows, "x")
    assert [p["x"] for p in g] == [1.0, 2.0] and g[0]["n_images"] == 2
    assert g[0]["density_cm2"] == 2.0
    assert g[0]["density_cm2_err"] == pytest.approx(np.std([1, 3], ddof=1) / np.sqrt(2))
    assert g[1]["density_cm2_err"] == 0.2 and g[0]["mean_diameter_nm"] is None


def _experiment(tmp_path, entries, analysis=""):
    lines = ['[experiment]\nscenario = "sem-particles"\n']
    for e in entries:
        lines.append("[[sem_images]]\n" + "".join(f"{k} = {v!r}\n" for k, v in e.items()))
    text = "".join(lines).replace("'", '"') + analysis
    path = tmp_path / "experiment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_six_images_at_one_current_density_do_not_crash(tmp_path):
    entries = [
        {"path": _tif(tmp_path, f"p{i}", "particles", i).name, "current_density_mA_cm2": 0.5}
        for i in range(6)
    ]
    s = analyze(
        _experiment(tmp_path, entries, '[analysis.sem]\nfootprint = "none"\n'), tmp_path / "out"
    )
    trend = s["particles_vs_condition"]
    assert trend["series_key"] == "current_density_mA_cm2"
    assert len(trend["groups"]) == 1 and trend["groups"][0]["n_images"] == 6
    assert trend["density"]["exponent"] is None and "distinct" in trend["density"]["reason"]
    assert any(w["code"] == "no-power-law" for w in s["warnings"])
    for r in s["particles_by_condition"]:
        assert r["morphology"]["kind"] == "particles" and r["count"] > 50
        assert r["footprint"]["method"] == "whole image"


def test_capacity_series_with_a_whisker_image(tmp_path):
    entries = [
        {"path": _tif(tmp_path, "a", "particles", 0).name, "capacity_mAh_cm2": 0.1},
        {"path": _tif(tmp_path, "b", "particles", 1).name, "capacity_mAh_cm2": 0.4},
        {"path": _tif(tmp_path, "c", "whiskers", 2).name, "capacity_mAh_cm2": 1.6},
    ]
    s = analyze(_experiment(tmp_path, entries), tmp_path / "out")
    rows = s["particles_by_condition"]
    assert s["particles_vs_condition"]["series_key"] == "capacity_mAh_cm2"
    assert "particles_vs_current" not in s
    wh = rows[2]
    assert wh["morphology"]["kind"] == "whiskers"
    for key in ("count", "density_cm2", "mean_diameter_nm", "deposited_Li_fmol"):
        assert wh[key] is None
    assert "whiskers" in wh["reason"] and wh["objects_segmented"] > 0
    assert wh["morphology"]["whiskers"]["width_um"]["mean"] > 0
    # two particulate points only: no power law, said so
    assert s["particles_vs_condition"]["density"]["exponent"] is None
    fig = tmp_path / "out" / "figures" / "sem_morphology_c.png"
    assert fig.stat().st_size > 10_000
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["particles_by_condition"][2]["count"] is None


def test_size_filter_losses_are_reported(tmp_path):
    entries = [{"path": _tif(tmp_path, "p", "particles", 4).name}]
    # planted disks are ~8 px in radius (≈ 0.02 µm² at 10 nm px): a 0.01 µm² limit drops most
    s = analyze(
        _experiment(tmp_path, entries, "[analysis.sem]\nmax_area_um2 = 0.01\n"), tmp_path / "out"
    )
    ex = {r["filter"]: r for r in s["particles"]["excluded"]}
    assert (
        ex["max_area_um2"]["count"] > 0 and ex["max_area_um2"]["fraction_of_segmented_area"] > 0.05
    )
    assert any(w["code"] == "filtered-area" for w in s["warnings"])


def test_condition_keys_are_checked(tmp_path):
    tif = _tif(tmp_path, "p", "particles", 0).name
    with pytest.raises(InputError, match="cycle"):
        from platescope.io import read_experiment

        read_experiment(_experiment(tmp_path, [{"path": tif, "cycle": 1.5}]))
    with pytest.raises(InputError, match="series_key"):
        analyze(
            _experiment(tmp_path, [{"path": tif}], '[analysis.sem]\nseries_key = "weather"\n'),
            tmp_path / "o",
        )
    with pytest.raises(InputError, match="ImageJ"):
        analyze(
            _experiment(
                tmp_path,
                [{"path": tif}],
                '[analysis.sem]\nthreshold = "Huang"\npreset = "imagej"\n',
            ),
            tmp_path / "o2",
        )


def test_imagej_preset_runs_the_whole_image(tmp_path):
    entries = [{"path": _tif(tmp_path, "p", "particles", 5).name}]
    s = analyze(
        _experiment(
            tmp_path,
            entries,
            '[analysis.sem]\npreset = "imagej"\nsigma_px = 1.0\nmin_area_px = 10\n',
        ),
        tmp_path / "out",
    )
    p = s["particles"]
    assert s["parameters"]["sem"]["threshold"] == "Default"
    assert p["footprint"]["method"] == "whole image"
    truth = make_sem_morphology("particles", seed=5, shape=(256, 256), pixel_size_nm=PX_NM)["truth"]
    # disks wholly inside the image and non-touching: every one is a particle
    assert p["count"] == truth["n"]
