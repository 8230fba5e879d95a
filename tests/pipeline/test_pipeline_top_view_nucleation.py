"""End to end: simulate → analyze (through files) recovers the planted nucleus counts,
the power-law exponent and the onset of tip growth after Sand's time; bad input ends
with exit status 2 and a message naming the file and the fix."""

import json

import pytest

from platescope.cli import main
from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {
    "n_runs": "3",
    "j_min_mA_cm2": "0.5",
    "j_max_mA_cm2": "4",
    "field_px": "200",
    "n_ref": "14",
    "n_pit_ref": "4",
    "stripping_s": "80",
    "plating_s": "200",
    "frame_interval_s": "5",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tvn")
    exp = simulate("top-view-nucleation", root / "input", seed=3, overrides=SMALL)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_outputs_follow_the_contract(run):
    root, summary, _ = run
    res = root / "results"
    for rel in (
        "summary.json",
        "report.html",
        "tables/nucleation_runs.csv",
        "tables/nucleus_counts.csv",
        "figures/nucleus_counts.png",
        "figures/nucleation_law.png",
    ):
        assert (res / rel).is_file(), rel
    # every run's movie, frame times and record are hashed
    assert set(summary["inputs"]) == {
        f"plating[{k}]{s}" for k in range(3) for s in ("", ".echem", ".frame_times")
    }
    assert summary["headline"].startswith("3 run(s) analysed")


def test_counts_exponent_and_tip_onset_recovered(run):
    _, summary, truth = run
    got = summary["nucleation"]["runs"]
    for g, w in zip(got, truth["runs"], strict=True):
        assert g["j_mA_cm2"] == pytest.approx(w["j_mA_cm2"], rel=0.01)
        assert abs(g["n_nuclei"] - w["n_nuclei"]) <= max(1, 0.05 * w["n_nuclei"])
        assert g["density_cm2"] == pytest.approx(w["density_cm2"], rel=0.05 + 1 / w["n_nuclei"])
        # pits: new objects first seen in the stripping step (the deposits are older)
        assert abs(g["n_pits"] - w["n_pits"]) <= max(1, 0.05 * w["n_pits"])
        start = w["t_plating_start_s"]
        if w["t_tip_start_s"] is None:
            assert g["t_tip_onset_s"] is None
        else:
            # the optical onset trails the planted start by the time the arm needs to
            # lower the circularity (a few frames at 1 µm/s), never precedes it
            lag = g["t_tip_onset_s"] - (w["t_tip_start_s"] - start)
            assert -w["frame_interval_s"] <= lag <= 4 * w["frame_interval_s"], lag
    assert summary["nucleation"]["pit_law"]["n_points"] == 3
    law = summary["nucleation"]["law"]
    assert abs(law["exponent"] - truth["exponent"]) <= max(law["exponent_err"], 0.1)
    sand = {s["run"]: s for s in summary["sand"]["runs"]}
    for w in truth["runs"]:
        s = sand[w["run"]]
        assert s["t_sand_s"] == pytest.approx(w["t_sand_s"], rel=0.02)
        assert s["exceeds_sand"] == (w["t_sand_s"] < w["t_plating_end_s"] - w["t_plating_start_s"])
        if s["exceeds_sand"]:
            assert s["verdict"] == "tips after Sand's time (as expected)"


def _tiny_run(folder):
    """One short plating run (no stripping) for the bad-input tests."""
    tiny = {"n_runs": "1", "field_px": "96", "n_ref": "3", "plating_s": "40"}
    tiny.update(frame_interval_s="10", stripping_s="0")
    return simulate("top-view-nucleation", folder, seed=1, overrides={**SMALL, **tiny})


def test_entry_without_echem_is_exit_2(tmp_path, capsys):
    exp = _tiny_run(tmp_path / "in")
    text = exp.read_text().replace('echem = "run_1/echem.mpt"\n', "")
    exp.write_text(text)
    assert main(["analyze", str(exp), "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "names no echem record" in err and "add echem" in err


def test_record_without_plating_step_gives_a_reason_not_a_count(tmp_path):
    exp = _tiny_run(tmp_path / "in")
    # a rest-only record: the same times, zero current
    mpt = tmp_path / "in" / "run_1" / "echem.mpt"
    lines = mpt.read_text(encoding="latin-1").splitlines(keepends=True)
    n_head = int(next(s for s in lines if s.startswith("Nb header lines")).split(":")[1])
    head, body = lines[:n_head], lines[n_head:]
    cols = head[-1].rstrip("\r\n").split("\t")
    ci, cc = cols.index("I/mA"), cols.index("control/mA")
    rows = []
    for s in body:
        f = s.rstrip("\r\n").split("\t")
        f[ci] = f[cc] = "0"
        rows.append("\t".join(f) + "\r\n")
    mpt.write_text("".join(head + rows), encoding="latin-1", newline="")
    summary = analyze(exp, tmp_path / "res")
    r = summary["nucleation"]["runs"][0]
    assert r["n_nuclei"] is None and "no constant-current cathodic step" in r["reason"]
    assert "n_pits" not in r
    assert any(w["code"] == "run-not-analysed" for w in summary["warnings"])
