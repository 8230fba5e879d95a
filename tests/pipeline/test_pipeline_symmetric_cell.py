"""End to end: simulate → analyze (through files) recovers the planted symmetric-cell truth;
the real datalab Li‖Li export (no current column) is analysed with the current from its
.mps; bad input ends with exit status 2 and a message naming the file and the fix."""

import json
import re
import textwrap
from pathlib import Path

import pytest

from platescope.cli import main
from platescope.pipeline import analyze
from platescope.simulate import simulate

LILI = Path(__file__).parents[2] / ".." / "shared" / "data" / "echem" / "datalab_LiLi"
STEM = "jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("symcell")
    exp = simulate(
        "symmetric-cell",
        root / "input",
        seed=5,
        overrides={"n_cycles": "4", "arcing_from_cycle": "2", "gitt": "true", "gitt_pulses": "3"},
    )
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_outputs_follow_the_contract(run):
    root, summary, _ = run
    res = root / "results"
    for rel in ("summary.json", "report.html", "tables/half_cycles.csv", "tables/gitt.csv"):
        assert (res / rel).is_file(), rel
    for fig in ("symmetric_voltage", "symmetric_profiles", "symmetric_evolution"):
        assert (res / "figures" / f"{fig}.png").is_file()
    assert set(summary["inputs"]) == {"echem", "cell.settings"}
    assert summary["settings"]["techniques"][0]["code"] == "GCPL"
    # the shared chronoamperometry step does not apply to a galvanostatic record
    assert "scharifker_hills" not in summary.get("echem", {})
    assert not any(k["analysis"] == "chronoamperometry" for k in summary["skipped"])
    assert summary["headline"].startswith("8 half-cycles")


def test_truth_recovered_through_the_files(run):
    _, summary, truth = run
    got, want = summary["symmetric_cell"], truth["symmetric_cell"]
    assert got["n_half_cycles"] == len(want["half_cycles"])
    for g, w in zip(got["half_cycles"], want["half_cycles"], strict=True):
        assert g["shape_class"] == w["shape_class"]
        assert abs(g["eta_plateau_V"] - w["eta_plateau_V"]) <= 1e-3
    assert len(got["gitt"]) == len(want["gitt"])
    for g, w in zip(got["gitt"], want["gitt"], strict=True):
        assert g["ir_drop_V"] == pytest.approx(w["ir_drop_V"], abs=2e-3)
    found = [(s["kind"], s["t_start_s"]) for s in got["soft_shorts"]]
    for s in want["soft_shorts"]:
        assert any(k == s["kind"] and abs(t - s["t_start_s"]) <= 30 for k, t in found)
    # Sand: the simulator's electrolyte, 0.5 mA on 1 cm²
    assert summary["sand"]["t_sand_s"] == pytest.approx(want["sand"]["t_sand_s"], rel=1e-9)
    assert summary["sand"]["exceeds_sand"] is False


@pytest.mark.skipif(not LILI.is_dir(), reason="shared/data/echem/datalab_LiLi absent")
def test_real_datalab_export_takes_the_current_from_the_settings(tmp_path):
    exp = tmp_path / "experiment.toml"
    exp.write_text(
        textwrap.dedent(
            f"""\
            [experiment]
            scenario = "symmetric-cell"
            [echem]
            path = "{LILI / f"{STEM}_03_GCPL_C05.txt"}"
            [cell]
            settings = "{LILI / f"{STEM}.mps"}"
            loops = "{LILI / f"{STEM}_03_GCPL_C05_LOOP.txt"}"
            """
        )
    )
    s = analyze(exp, tmp_path / "out")
    sc = s["symmetric_cell"]
    assert sc["n_half_cycles"] == 45
    assert sc["applied_current"]["current_A"] == pytest.approx(4e-4)
    codes = {w["code"] for w in s["warnings"]}
    assert "current-not-measured" in codes
    assert any(k["analysis"] == "sand" for k in s["skipped"])


@pytest.mark.skipif(not LILI.is_dir(), reason="shared/data/echem/datalab_LiLi absent")
def test_voltage_only_export_without_a_current_is_exit_2(tmp_path, capsys):
    exp = tmp_path / "experiment.toml"
    exp.write_text(
        textwrap.dedent(
            f"""\
            [experiment]
            scenario = "symmetric-cell"
            [echem]
            path = "{LILI / f"{STEM}_03_GCPL_C05.txt"}"
            """
        )
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    raw = capsys.readouterr().err
    err = " ".join(raw.split())  # the CLI wraps its message
    assert "no current column" in err and "[cell] current_mA" in err
    assert STEM in raw.replace("\n", "")


def test_record_without_steps_is_exit_2(tmp_path, capsys):
    rec = tmp_path / "ocv.csv"
    rec.write_text("time_s,potential_V,current_A\n" + "".join(f"{t},0.001,0\n" for t in range(50)))
    exp = tmp_path / "experiment.toml"
    exp.write_text(
        '[experiment]\nscenario = "symmetric-cell"\n[echem]\npath = "ocv.csv"\n'
        "[electrolyte]\nD_cm2_s = 3e-6\nc0_mol_L = 1.0\nt_plus = 0.4\n"
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    err = re.sub(r"-\s+", "-", " ".join(capsys.readouterr().err.split()))  # unwrap
    assert "no constant-current step" in err and err.count("ocv.csv") == 1


def test_bad_transference_number_is_exit_2(tmp_path, capsys):
    exp = simulate("symmetric-cell", tmp_path / "in", seed=1, overrides={"n_cycles": "2"})
    text = exp.read_text().replace("t_plus = 0.4", "t_plus = 1.5")
    exp.write_text(text)
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    assert "t_plus" in capsys.readouterr().err


def test_voltage_only_export_with_rests_in_the_settings_warns(tmp_path):
    """The simulator's .mps rests 30 s after each half-cycle; a voltage-only export of the
    same run cannot show where: a warning says so."""
    from platescope.io import read_echem

    exp = simulate("symmetric-cell", tmp_path / "in", seed=2, overrides={"n_cycles": "2"})
    folder = exp.parent
    rec = read_echem(folder / "echem.mpt")
    volt = folder / "volt.txt"
    rec[["time_s", "potential_V"]].rename(
        columns={"time_s": "time/s", "potential_V": "Ewe/V"}
    ).to_csv(volt, sep="\t", index=False)
    text = exp.read_text().replace('path = "echem.mpt"', 'path = "volt.txt"')
    exp.write_text(text)
    s = analyze(exp, tmp_path / "out")
    codes = {w["code"] for w in s["warnings"]}
    assert {"rests-not-located", "current-not-measured"} <= codes
