"""End to end: simulate → analyze a combinatorial run (library and CLI), bad spots skipped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from platescope.cli._main import main
from platescope.pipeline import analyze
from platescope.simulate import simulate

SMALL = {"n_conditions": 4, "n_repeats": 3, "sample_period_s": 0.005}
CONTRACT = ("condition", "current_density_mA_cm2", "n", "n_nucleated", "E_nuc_V_mean", "E_nuc_V_sd",
            "t_nuc_s_mean", "E_growth_V_mean")  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("comb")
    exp = simulate("seccm-combinatorial", root / "input", seed=21, overrides=SMALL)
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_summary_follows_the_contract(run):
    root, summary, _ = run
    assert json.loads((root / "results" / "summary.json").read_text()) == summary
    rows = summary["combinatorial"]
    assert isinstance(rows, list) and len(rows) == 4
    for r in rows:
        for key in CONTRACT:
            assert key in r
    cr = summary["combinatorial_run"]
    for key in ("n_spots", "n_analysed", "n_skipped", "skipped", "scheduler", "workers", "layout"):
        assert key in cr
    assert (
        cr["n_spots"] == cr["n_analysed"] == 12
        and cr["n_skipped"] == 0
        and cr["layout"] == "platescope"
    )
    assert summary["parameters"]["galvanostatic"]["smooth_s"] == 0.2
    assert "seccm.spots" in summary["inputs"]
    for name in ("spots.csv", "conditions.csv"):
        assert (root / "results" / "tables" / name).is_file()
    assert len(list((root / "results" / "figures").glob("*.png"))) == 3


def test_recovers_planted_condition_means_and_counts(run):
    _, summary, truth = run
    got = {r["condition"]: r for r in summary["combinatorial"]}
    for t in truth["combinatorial"]:
        g = got[t["condition"]]
        assert g["n"] == t["n"] and g["n_nucleated"] == t["n_nucleated"]
        assert g["current_density_mA_cm2"] == pytest.approx(t["current_density_mA_cm2"], rel=1e-5)
        if t["n_nucleated"]:
            assert abs(g["E_nuc_V_mean"] - t["E_nuc_V_mean"]) < 2e-3
            assert abs(g["t_nuc_s_mean"] - t["t_nuc_s_mean"]) < 0.1
            assert abs(g["E_growth_V_mean"] - t["E_growth_V_mean"]) < 2e-3
        else:
            assert g["E_nuc_V_mean"] is None and g["reason"]


def test_spot_table_matches_truth_spot_by_spot(run):
    root, _, _ = run
    got = pd.read_csv(root / "results" / "tables" / "spots.csv")
    truth = pd.read_csv(root / "input" / "truth" / "spots.csv")
    assert got["spot"].tolist() == truth["spot"].tolist()
    assert (got["nucleated"].astype(bool) == truth["nucleated"].astype(bool)).all()
    m = truth["nucleated"].astype(bool)
    assert (got.loc[m, "E_nuc_V"] - truth.loc[m, "E_nuc_V"]).abs().max() < 1e-3


def test_spot_table_is_the_batch_analysis_of_every_spot(run, tmp_path):
    """tables/spots.csv (formatted batch by batch where the batch ran) holds exactly the
    rows analyse_batch gives for all spots at once, written by pandas independently."""
    from platescope.io import read_spots
    from platescope.pipeline._parallel import analyse_batch

    root, summary, _ = run
    got = pd.read_csv(root / "results" / "tables" / "spots.csv")
    spots = read_spots(root / "input" / "spots.csv")
    rows = analyse_batch(spots, summary["parameters"]["galvanostatic"])["rows"]
    rows.reindex(columns=got.columns).to_csv(tmp_path / "ref.csv", index=False)
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "ref.csv"))


def test_column_wise_csv_is_the_csv_module_text():
    """The column-by-column formatter gives the csv module's text (DictWriter, one row at
    a time) byte for byte, on awkward cells: NaN, ±inf, −0.0, tiny and huge floats, bools,
    missing and quoted strings, NumPy scalars in object columns, absent columns."""
    import numpy as np

    from platescope.pipeline._seccm_combinatorial import _csv_text, _csv_text_rows

    rows = pd.DataFrame(
        {
            "spot": np.array([0, 1, 2, 3], dtype=np.int64),
            "condition": ["a,b", 'say "hi"', "line\nbreak", None],
            "x_um": [np.nan, np.inf, -0.0, 1e-300],
            "y_um": np.array([1.5, -2.25, 3e20, 0.1], dtype=np.float32),
            "nucleated": [True, False, True, False],
            "E_nuc_V": [-0.05, np.nan, 1 / 3, -np.inf],
            "reason": pd.array(["", None, "no minimum", "x\ry"], dtype="string"),
            "n_samples": [np.float64(501.0), np.int64(7), "12", None],
        }
    )
    assert _csv_text(rows) == _csv_text_rows(rows)
    assert _csv_text(rows.iloc[:0]) == _csv_text_rows(rows.iloc[:0]) == ""


@pytest.mark.parametrize("layout", ["echemtips", "wec-spm"])
def test_vendor_layouts_analyse_to_the_same_counts(tmp_path, layout):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "in",
        seed=21,
        overrides={**SMALL, "n_conditions": 2, "layout": layout, "j_min_mA_cm2": 1.0},
    )
    summary = analyze(exp, tmp_path / "out")
    truth = json.loads((tmp_path / "in" / "truth" / "truth.json").read_text())
    assert summary["combinatorial_run"]["layout"] == layout
    assert {"seccm", "seccm.settings"} <= set(summary["inputs"])
    for g, t in zip(summary["combinatorial"], truth["combinatorial"], strict=True):
        assert g["n_nucleated"] == t["n_nucleated"] == 3
        assert abs(g["E_nuc_V_mean"] - t["E_nuc_V_mean"]) < 2e-3


def test_bad_spots_are_skipped_with_reasons_through_the_cli(tmp_path, capsys):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "in",
        seed=3,
        overrides={**SMALL, "n_conditions": 2, "n_repeats": 2},
    )
    spots_dir = tmp_path / "in" / "spots"
    (spots_dir / "spot_00001.csv").unlink()  # the index names a missing file
    cut = spots_dir / "spot_00002.csv"
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # truncated mid-record
    code = main(["analyze", str(exp), "--out", str(tmp_path / "out"), "--scheduler", "synchronous"])
    assert code == 0
    err = capsys.readouterr().err
    assert "2 of 4 spots could not be analysed" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    cr = summary["combinatorial_run"]
    assert cr["n_spots"] == 4 and cr["n_analysed"] == 2 and cr["n_skipped"] == 2
    by_spot = {s["spot"]: s for s in cr["skipped"]}
    assert (
        by_spot[1]["path"].endswith("spot_00001.csv") and "does not exist" in by_spot[1]["reason"]
    )
    assert by_spot[2]["path"].endswith("spot_00002.csv") and "truncated" in by_spot[2]["reason"]
    assert all("Fix:" in s["reason"] for s in cr["skipped"])
    assert sum(r["n"] for r in summary["combinatorial"]) == 2
    table = pd.read_csv(tmp_path / "out" / "tables" / "skipped_spots.csv")
    assert sorted(table["spot"]) == [1, 2]


def test_cli_rejects_bad_execution_options(tmp_path, capsys):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "in",
        seed=3,
        overrides={**SMALL, "n_conditions": 1, "n_repeats": 1},
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert main(["analyze", str(exp), "--out", str(tmp_path / "o"), "--scheduler", "warp"]) == 2
    assert "scheduler" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_experiment_without_spot_data_is_an_input_error(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(
        '[experiment]\nscenario = "seccm-combinatorial"\n[seccm]\nlayout = "echemtips"\n'
    )
    assert main(["analyze", str(exp), "--out", str(tmp_path / "o")]) == 2
    assert "names no spot data" in " ".join(capsys.readouterr().err.split())
