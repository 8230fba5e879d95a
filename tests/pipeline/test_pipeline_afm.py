"""Scenario ``afm`` end to end: simulate → analyze against the truth; real files; bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from platescope._errors import InputError
from platescope.pipeline import analyze
from platescope.simulate import simulate

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "afm"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("afm")
    exp = simulate("afm", base / "sim", seed=4, overrides={"n_frames": "3"})
    summary = analyze(exp, base / "res")
    truth = json.loads((base / "sim" / "truth" / "truth.json").read_text())
    return summary, truth, base


def test_summary_matches_truth(run):
    summary, truth, base = run
    a, t = summary["afm"], truth["afm"]
    assert summary["scenario"] == "afm" and a["n_maps"] == 3
    for got, want in zip(a["maps"], t["maps"], strict=True):
        assert got["time_s"] == want["time_s"]
        # tolerances: docs/afm.md §6 (validation: |Sq err| ≤ 1.8 %, |Sa err| ≤ 2.8 %)
        assert got["Sq_nm"] == pytest.approx(want["Sq_nm"], rel=0.03)
        assert got["Sa_nm"] == pytest.approx(want["Sa_nm"], rel=0.03)
        assert got["Sq_err_nm"] > 0
    g = a["growth"]
    assert g["rate_difference_nm_h"] == pytest.approx(t["growth"]["rate_difference_nm_h"], rel=0.05)
    assert g["significant"] is True
    for s, w in zip(g["shifts_px"], t["growth"]["shifts_px"], strict=True):
        assert s == pytest.approx(w, abs=0.15)  # validation: ≤ 0.094 px over 60 runs
    assert summary["warnings"] == [] and summary["skipped"] == []
    for name in ("roughness.csv", "profiles.csv"):
        assert (base / "res" / "tables" / name).is_file()
    assert (base / "res" / "figures" / "growth.png").is_file()


def _exp(tmp_path: Path, entries: str, extra: str = "") -> Path:
    p = tmp_path / "experiment.toml"
    p.write_text(f'[experiment]\nscenario = "afm"\n{extra}\n{entries}')
    return p


def test_real_nanoscope_single_map(tmp_path):
    src = DATA / "nanoscope" / "full_multiple_images.txt"
    if not src.is_file():
        pytest.skip("shared AFM data absent")
    exp = _exp(tmp_path, f'[[afm_maps]]\npath = "{src.resolve()}"\ntime_s = 0\n')
    s = analyze(exp, tmp_path / "res")
    m = s["afm"]["maps"][0]
    assert m["channel"] == "Height" and m["shape"] == [512, 512]
    # terraces with 10–30 nm islands (MANIFEST): after levelling Sq is a few nm
    assert 2.0 < m["Sq_nm"] < 10.0 and m["Sz_nm"] < 60.0
    assert {x["analysis"] for x in s["skipped"]} == {"growth"}


def test_mi_without_pixel_size_is_an_input_error(tmp_path):
    src = DATA / "picoview_mi" / "example.mi"
    if not src.is_file():
        pytest.skip("shared AFM data absent")
    exp = _exp(tmp_path, f'[[afm_maps]]\npath = "{src.resolve()}"\ntime_s = 0\n')
    with pytest.raises(InputError, match="pixel_size_um"):
        analyze(exp, tmp_path / "res")
    exp = _exp(
        tmp_path,
        f'[[afm_maps]]\npath = "{src.resolve()}"\ntime_s = 0\npixel_size_um = 0.02\n',
    )
    s = analyze(exp, tmp_path / "res2")
    assert s["afm"]["maps"][0]["channel"] == "Topography (Trace)"


def test_cli_exit_2_on_bad_entries(tmp_path):
    (tmp_path / "a.gsf").write_bytes(b"Gwyddion Simple Field 1.0\nXRes = 4\n")
    exp = _exp(tmp_path, '[[afm_maps]]\npath = "a.gsf"\ntime_s = 0\n')
    cmd = [sys.executable, "-m", "platescope", "analyze", str(exp), "--out", str(tmp_path / "r")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    exp = _exp(tmp_path, '[[afm_maps]]\npath = "a.gsf"\ntime_s = 0\ncolour = "red"\n')
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "colour" in (r.stderr + r.stdout)


def test_same_time_twice(tmp_path, run):
    _, _, base = run
    for k in (0, 1):
        shutil.copy(base / "sim" / f"afm_{k}.gsf", tmp_path / f"m{k}.gsf")
    exp = _exp(
        tmp_path,
        '[[afm_maps]]\npath = "m0.gsf"\ntime_s = 5\n[[afm_maps]]\npath = "m1.gsf"\ntime_s = 5\n',
    )
    with pytest.raises(InputError, match="share a time"):
        analyze(exp, tmp_path / "res")


def test_multipage_tiff_is_a_time_series(tmp_path):
    import numpy as np
    import tifffile

    from platescope.simulate._afm import make_afm_series

    sim = make_afm_series(seed=2, size_px=96, n_frames=3)
    stack = np.stack([m.values for m in sim["maps"]]).astype(np.float32)
    tifffile.imwrite(
        tmp_path / "s.tif",
        stack,
        photometric="minisblack",
        metadata={"z_unit": "nm", "pixel_size_um": 0.04},
    )
    exp = _exp(tmp_path, '[[afm_maps]]\npath = "s.tif"\ntime_s = 100\n')
    with pytest.raises(InputError, match="frame_interval_s"):
        analyze(exp, tmp_path / "r0")
    exp = _exp(tmp_path, '[[afm_maps]]\npath = "s.tif"\ntime_s = 100\nframe_interval_s = 3600\n')
    s = analyze(exp, tmp_path / "r1")
    assert [m["time_s"] for m in s["afm"]["maps"]] == [100.0, 3700.0, 7300.0]
    assert [m["frame"] for m in s["afm"]["maps"]] == [0, 1, 2]
    assert s["afm"]["growth"]["n_maps"] == 3
