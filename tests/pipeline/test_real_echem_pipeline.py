"""analyze on real instrument records: the right number or a clear refusal (skips without data)."""

from pathlib import Path

import pytest

from platescope.cli import main

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem").resolve()
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
LILI = "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_01_GCPL_C05.mpr"


def _exp(tmp_path, scenario, rel, extra=""):
    pytest.importorskip("galvani")
    p = tmp_path / "experiment.toml"
    p.write_text(
        f'[experiment]\nscenario = "{scenario}"\nname = "real"\n'
        f'[echem]\npath = "{DATA / rel}"\n{extra}',
        encoding="utf-8",
    )
    return p


def test_gcpl_cycles_headline_and_warnings_banner(tmp_path, capsys):
    import json

    exp = _exp(tmp_path, "irm-cv", "yadg/gcpl.issue_211.mpr")
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning [half-cycles-dropped]" in err
    s = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["headline"].endswith("over 4 complete cycles (1 incomplete or without CE not shown)")
    assert [c["complete"] for c in s["echem"]["cycles"]] == [True] * 4 + [False]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    # the warnings banner comes right after the headline card, before every analysis
    assert html.index('id="headline"') < html.index('class="banner"')
    assert html.index('class="banner"') < html.index('id="r-')


def test_li_li_rest_gives_no_nucleation_and_points_at_the_counter_electrode(tmp_path):
    import json

    exp = _exp(tmp_path, "irm-galvanostatic", LILI, "[electrode]\narea_cm2 = 1.0\n")
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 0
    g = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["echem"]
    assert g["galvanostatic"]["nucleated"] is None and g["galvanostatic"]["E_nuc_V"] is None
    assert 'electrode = "counter"' in g["galvanostatic"]["reason"]
    assert [st["kind"] for st in g["steps"]] == ["rest", "galvanostatic"]


def test_impedance_record_is_no_cycle(tmp_path, capsys):
    exp = _exp(tmp_path, "irm-cv", "cellpy/biol.mpr")
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    assert "no cycles found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unknown_cycle_options_name_the_experiment_file(tmp_path, capsys):
    exp = _exp(
        tmp_path,
        "irm-cv",
        "yadg/gcpl.issue_211.mpr",
        '[analysis.cycles]\nfirst_half = "sideways"\n',
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "experiment.toml" in err and "first_half = 'sideways'" in err
