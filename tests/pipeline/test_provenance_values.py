"""Provenance (every file read hashed, paths relative to the experiment file) and
impossible echem samples (excluded and reported, never fitted)."""

import hashlib
import json
import os
import re
import shutil

import pytest
from _experiment_edit import REGISTRATION_OFF, edit_experiment

from platescope.pipeline import analyze
from platescope.simulate import simulate


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_ewe(mpt, row, value):
    """Put ``value`` (V) into the Ewe/V column of data row ``row`` of an EC-Lab .mpt."""
    lines = mpt.read_text(encoding="latin-1").split("\n")
    n_header = int(re.search(r"Nb header lines : (\d+)", "\n".join(lines[:3]))[1])
    names = lines[n_header - 1].split("\t")
    col = names.index("Ewe/V")
    fields = lines[n_header + row].split("\t")
    fields[col] = f"{value:.7E}"
    lines[n_header + row] = "\t".join(fields)
    mpt.write_text("\n".join(lines), encoding="latin-1")


@pytest.fixture(scope="module")
def cv_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cv")
    clean = simulate("irm-cv", root / "clean", seed=1)
    # what is checked here is read before the movie's registration and does not depend
    # on it (hashes, the echem samples): turned off, as the experiment file allows; on by
    # default it runs in test_pipeline_irm_cv.py (test_recovers_ce_irm_maps_and_residual)
    with open(clean, "a") as fh:
        fh.write("\n" + REGISTRATION_OFF)
    # the glitched experiment: a copy of the clean one (the same files a second simulation
    # with the same seed writes), its record then glitched
    shutil.copytree(clean.parent, root / "glitch")
    glitch = root / "glitch" / clean.name
    _set_ewe(glitch.parent / "echem.mpt", 500, 1e26)  # a reading no potentiostat makes
    _set_ewe(glitch.parent / "echem.mpt", 1500, -3e3)
    # the glitched record alone: the cycles are computed from the record before (and
    # without) the movie, so its IRM analysis would only repeat the clean run's
    (root / "glitch_echem").mkdir()
    glitch = edit_experiment(glitch, root / "glitch_echem", drop_sections=("movie",))
    return clean, analyze(clean, root / "out_clean"), glitch, analyze(glitch, root / "out_glitch")


def test_impossible_echem_samples_are_excluded_and_reported(cv_runs):
    _, s_clean, _, s_glitch = cv_runs
    codes = [w for w in s_glitch["warnings"] if w["code"] == "echem-samples-excluded"]
    assert len(codes) == 1
    msg = codes[0]["message"]
    assert "2 sample(s) excluded" in msg and "|potential| > 20 V" in msg
    assert "501" in msg and "1501" in msg  # the data rows, 1-based
    assert not [w for w in s_clean["warnings"] if w["code"] == "echem-samples-excluded"]
    assert "movie" in s_clean["inputs"] and "movie" not in s_glitch["inputs"]
    # without the two glitches, the results are those of the clean record
    assert "e+2" not in json.dumps(s_glitch["echem"])  # no astronomically wrong number
    clean, glitch = s_clean["echem"]["cycles"], s_glitch["echem"]["cycles"]
    assert len(clean) == len(glitch) >= 2
    for c, g in zip(clean, glitch, strict=True):
        for key in ("CE", "Q_c_C", "Q_a_C", "E_onset_c_V", "E_peak_a_V"):
            assert g[key] == pytest.approx(c[key], rel=1e-3), key


def test_inputs_are_hashed_and_relative_to_the_experiment_file(cv_runs):
    clean, summary, _, _ = cv_runs
    base = clean.parent
    assert summary["experiment_file"]["path"] == "experiment.toml"
    assert summary["experiment_file"]["sha256"] == _sha(clean)
    for role, name in (
        ("echem", "echem.mpt"),
        ("movie", "irm.tif"),
        ("movie.frame_times", "frame_times.csv"),
    ):
        entry = summary["inputs"][role]
        assert entry["path"] == name
        assert entry["path_abs"] == str(base / name)
        assert entry["sha256"] == _sha(base / name)
        assert entry["bytes"] == (base / name).stat().st_size
    # nothing read beyond the declared inputs in this scenario
    assert summary["files_read"] == []


def test_an_input_outside_the_experiment_folder_is_recorded_with_dotdot(tmp_path):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "exp",
        seed=5,
        overrides={"n_conditions": 2, "n_repeats": 2, "layout": "wec-spm"},
    )
    text = exp.read_text()
    # the .set is found on its own (no settings key) and the recording lives elsewhere
    text = re.sub(r"(?m)^settings = .*\n", "", text)
    tsv = next(exp.parent.glob("*.tsv"))
    elsewhere = tmp_path / "raw"
    elsewhere.mkdir()
    for f in (tsv, tsv.with_suffix(".set")):
        os.replace(f, elsewhere / f.name)
    text = re.sub(r'(?m)^path = ".*"$', f'path = "../raw/{tsv.name}"', text)
    exp.write_text(text)
    summary = analyze(exp, tmp_path / "out")
    assert summary["inputs"]["seccm"]["path"] == f"../raw/{tsv.name}"
    assert summary["inputs"]["seccm"]["sha256"] == _sha(elsewhere / tsv.name)
    found = [f for f in summary["files_read"] if f["path"].endswith(".set")]
    assert len(found) == 1 and found[0]["role"].startswith("seccm.settings")
    assert found[0]["path"] == f"../raw/{tsv.with_suffix('.set').name}"
    assert found[0]["sha256"] == _sha(elsewhere / tsv.with_suffix(".set").name)


def test_every_spot_file_is_hashed_in_a_manifest(tmp_path):
    import pandas as pd

    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "exp",
        seed=6,
        overrides={"n_conditions": 2, "n_repeats": 3},
    )
    summary = analyze(exp, tmp_path / "out")
    sf = summary["spot_files"]
    index = pd.read_csv(exp.parent / "spots.csv")
    assert sf["count"] == len(index) == 6 and sf["missing"] == 0
    manifest = pd.read_csv(tmp_path / "out" / sf["manifest"])
    assert manifest["path"].tolist() == index["path"].tolist()
    for rel, digest in zip(manifest["path"], manifest["sha256"], strict=True):
        assert digest == _sha(exp.parent / rel)
    listing = "".join(
        f"{r},{d}\n" for r, d in zip(manifest["path"], manifest["sha256"], strict=True)
    )
    assert sf["sha256_of_list"] == hashlib.sha256(listing.encode()).hexdigest()
    assert sf["bytes"] == sum((exp.parent / r).stat().st_size for r in index["path"])
