"""End to end: simulate → analyze (through files) recovers the planted D; bad SIMS
input ends with exit status 2 and a message naming the file and the fix."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from platescope.cli import main
from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sims")
    exp = simulate(
        "sims-diffusion", root / "input", seed=12, overrides={"anneal_times_s": "900,3600,7200"}
    )
    with open(exp, "a") as fh:
        fh.write("\n[analysis.sims]\nbootstrap = 40\n")
    summary = analyze(exp, root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth


def test_outputs_follow_the_contract(run):
    root, summary, _ = run
    res = root / "results"
    assert json.loads((res / "summary.json").read_text()) == summary
    assert summary["scenario"] == "sims-diffusion"
    assert len(summary["inputs"]) == 3
    for row in summary["sims"]:
        for key in (
            "anneal_time_s",
            "D_cm2_s",
            "D_err_cm2_s",
            "r2",
            "n_points_used",
            "model",
            "excluded_points",
            "sigma_um",
            "D_boot_ci95_cm2_s",
        ):
            assert key in row
    for key in ("sims_D_cm2_s", "sims_D_err_cm2_s", "i_crit_uA_cm2", "sims_combined"):
        assert key in summary
    assert summary["parameters"]["sims"]["bootstrap"] == 40
    for k in range(1, 4):
        assert (res / "figures" / f"sims_profile_{k}.png").stat().st_size > 20_000
    assert (res / "figures" / "sims_sigma2.png").stat().st_size > 10_000
    for fig in ("stripping_i_crit", "stripping_sand", "stripping_void_model"):
        assert (res / "figures" / f"{fig}.png").is_file()
    prof = pd.read_csv(res / "tables" / "sims_profiles.csv")
    assert set(prof["profile"]) == {0, 1, 2} and prof["used"].dtype == bool
    table = pd.read_csv(res / "tables" / "sims_results.csv")
    assert np.allclose(table["D_err_cm2_s"], [r["D_err_cm2_s"] for r in summary["sims"]])
    assert "D = " in summary["headline"]
    html = (res / "report.html").read_text()
    assert "SIMS profile 1" in html and "sims_D_cm2_s" in html


def test_recovers_the_planted_truth(run):
    _, s, truth = run
    for got, want in zip(s["sims"], truth["sims"], strict=True):
        assert got["anneal_time_s"] == want["anneal_time_s"]
        # summary errors are k = 2; allow 2 of them (≈4σ)
        assert abs(got["D_cm2_s"] - want["D_cm2_s"]) < 2 * got["D_err_cm2_s"]
        assert set(want["contaminated_points"]) <= set(got["excluded_points"])
        assert set(got["excluded_points"]) <= set(want["contaminated_points"]) | set(
            want["transition_points"]
        )
        assert got["n_points_used"] == want["n_points"] - len(got["excluded_points"])
    assert abs(s["sims_D_cm2_s"] - truth["sims_D_cm2_s"]) < 2 * s["sims_D_err_cm2_s"]
    assert s["sims_D_err_cm2_s"] / s["sims_D_cm2_s"] < 0.1
    # the stripping hook turns the measured D into i_crit ∝ √D (error k = 2 from D alone)
    assert abs(s["i_crit_uA_cm2"] - truth["i_crit_uA_cm2"]) < 2 * s["i_crit_err_uA_cm2"]
    assert s["i_crit_err_uA_cm2"] / s["i_crit_uA_cm2"] == pytest.approx(
        0.5 * s["sims_D_err_cm2_s"] / s["sims_D_cm2_s"], rel=1e-6
    )


# --------------------------------------------------------------------------- bad input
def _experiment(tmp_path, rows_text, *, entry_extra="", header="depth_um,counts_6Li,counts_7Li"):
    d = tmp_path / "input"
    d.mkdir(exist_ok=True)
    (d / "profile.csv").write_text(header + "\n" + rows_text)
    exp = d / "experiment.toml"
    exp.write_text(
        '[experiment]\nscenario = "sims-diffusion"\n\n[[sims]]\npath = "profile.csv"\n'
        f'anneal_time_s = 3600\ntracer = "7Li"\n{entry_extra}'
    )
    return exp


def _fails_with(capsys, argv, *needles):
    code = main(argv)
    err = " ".join(capsys.readouterr().err.split())  # the CLI wraps its message
    assert code == 2, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def _good_rows(n=30):
    x = (np.arange(n) + 0.5) * 0.8
    f = 0.05 + 0.3 * np.exp(-0.5 * (x / 8.0) ** 2)
    return x, f


@pytest.mark.parametrize(
    ("rows", "needles"),
    [
        (
            "0.5,900,100\n1.0,910,90\n1.5,920,80\n",
            ("profile.csv", "3 depth point", "whole depth profile"),
        ),
        (
            "".join(f"{0.5 * (i + 1)},0,0\n" for i in range(20)),
            ("profile.csv", "zero 6Li and 7Li", "Fix"),
        ),
        (
            "".join(f"{d},900,100\n" for d in [0.5, 1.0, 1.5, 1.2, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]),
            ("profile.csv", "does not increase", "sort the rows"),
        ),
    ],
)
def test_bad_profiles_exit_2_through_analyze(tmp_path, capsys, rows, needles):
    exp = _experiment(tmp_path, rows)
    _fails_with(capsys, ["analyze", str(exp), "--out", str(tmp_path / "out")], *needles)
    assert not (tmp_path / "out").exists()


def test_bad_entries_and_parameters_exit_2(tmp_path, capsys):
    x, f = _good_rows()
    rows = "".join(
        f"{xi:.3f},{(1 - fi) * 1e4:.0f},{fi * 1e4:.0f}\n" for xi, fi in zip(x, f, strict=True)
    )
    exp = _experiment(tmp_path, rows)
    text = exp.read_text()
    exp.write_text(text.replace('tracer = "7Li"\n', ""))
    _fails_with(
        capsys,
        ["analyze", str(exp), "--out", str(tmp_path / "o")],
        "experiment.toml",
        "tracer",
        "6Li",
    )
    exp.write_text(text.replace("anneal_time_s = 3600", "anneal_time_s = -1"))
    _fails_with(
        capsys,
        ["analyze", str(exp), "--out", str(tmp_path / "o")],
        "anneal_time_s",
        "diffusion time",
    )
    exp.write_text(text + '\n[analysis.sims]\nmodel = "lorentz"\n')
    _fails_with(capsys, ["analyze", str(exp), "--out", str(tmp_path / "o")], "model", "gaussian")
    exp.write_text(text + "\n[analysis.sims]\nsmooth = 3\n")
    _fails_with(
        capsys, ["analyze", str(exp), "--out", str(tmp_path / "o")], "unknown key", "bootstrap"
    )
    # sputter-time profile without a conversion in its entry
    t_exp = _experiment(tmp_path, rows, header="time_s,counts_6Li,counts_7Li")
    _fails_with(
        capsys,
        ["analyze", str(t_exp), "--out", str(tmp_path / "o")],
        "profile.csv",
        "crater_depth_um",
    )


def test_hand_made_profile_analyses_and_flat_profile_is_null_with_reason(tmp_path, capsys):
    x, f = _good_rows()
    rows = "".join(
        f"{xi:.3f},{(1 - fi) * 1e5:.0f},{fi * 1e5:.0f}\n" for xi, fi in zip(x, f, strict=True)
    )
    exp = _experiment(tmp_path, rows, entry_extra="depth_scale_err = 0.01\n")
    assert main(["analyze", str(exp), "--out", str(tmp_path / "ok")]) == 0
    s = json.loads((tmp_path / "ok" / "summary.json").read_text())
    D = 8.0**2 / (2 * 3600) * 1e-8
    assert s["sims"][0]["D_cm2_s"] == pytest.approx(D, rel=2e-3)
    # k = 2 and the 1 % depth scale → ≥ 2 × 2 % of D
    assert s["sims"][0]["D_err_cm2_s"] >= 0.04 * D
    assert s["sims"][0]["D_err_depth_scale_cm2_s"] == pytest.approx(
        2 * 0.02 * s["sims"][0]["D_cm2_s"], rel=1e-3
    )
    assert Path(tmp_path / "ok" / "figures" / "sims_profile_1.png").is_file()
    # a flat profile (no tracer excess): D is null with a reason, not a wrong number
    flat = "".join(f"{xi:.3f},95000,5000\n" for xi in x)
    exp = _experiment(tmp_path / "flat", flat) if (tmp_path / "flat").mkdir() is None else None
    assert main(["analyze", str(exp), "--out", str(tmp_path / "flat_out")]) == 0
    s = json.loads((tmp_path / "flat_out" / "summary.json").read_text())
    assert (
        s["sims"][0]["D_cm2_s"] is None
        and "no significant tracer excess" in s["sims"][0]["D_reason"]
    )
    assert s["sims_D_cm2_s"] is None and s["sims_D_cm2_s_reason"]
