"""The scenario registry: one list that every entry point reads."""

from __future__ import annotations

import sys
import textwrap
import types

import pytest

from platescope._errors import InputError
from platescope.cli import main
from platescope.io import read_experiment
from platescope.pipeline import _scenarios as reg
from platescope.pipeline import analyze, demo_scenarios, scenarios


def test_every_scenario_has_a_simulator_that_registers_under_its_name():
    from platescope.simulate import SCENARIOS

    for name, sc in scenarios().items():
        fn = sc.simulator_function()
        assert fn is SCENARIOS[name], name
        assert fn.scenario_name == name


def test_demo_follows_registry_order():
    assert demo_scenarios() == tuple(n for n, sc in scenarios().items() if sc.demo)
    assert demo_scenarios()[:2] == ("irm-galvanostatic", "irm-cv")


def _write(tmp_path, text):
    p = tmp_path / "e.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_section_of_another_scenario_is_an_error(tmp_path):
    (tmp_path / "p.csv").write_text("depth_um,counts_6Li,counts_7Li\n0,1,2\n")
    p = _write(
        tmp_path,
        """
        [experiment]
        scenario = "irm-cv"
        [[sims]]
        path = "p.csv"
        """,
    )
    with pytest.raises(InputError, match=r"\[sims\] is not an input of scenario irm-cv"):
        read_experiment(p)


def test_unknown_section_is_an_error(tmp_path):
    p = _write(tmp_path, '[experiment]\nscenario = "sem-particles"\n[semm]\npath = "x"\n')
    with pytest.raises(InputError, match=r"unknown section \[semm\]"):
        read_experiment(p)


def test_analysis_values_are_typed_like_set_options(tmp_path):
    p = _write(
        tmp_path,
        """
        [experiment]
        scenario = "irm-cv"
        [analysis.cycles]
        onset_fraction = true
        """,
    )
    exp = read_experiment(p)
    from platescope.pipeline._common import analysis_params

    with pytest.raises(InputError, match=r"\[analysis.cycles\] onset_fraction") as err:
        analysis_params(exp, "cycles", scenarios()["irm-cv"].analyses["cycles"])
    assert str(p.name) in str(err.value)


def test_cli_help_lists_every_scenario_and_set_keys(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for name in scenarios():
        assert name in text
    assert "--set current_density_mA_cm2" in text


def test_a_new_scenario_is_one_module_and_one_line(tmp_path, monkeypatch):
    """A toy scenario declared in its own module and registered by one line runs end to end:
    its own section is accepted, its skipped[] entry is written by the engine."""
    from platescope.io._experiment import Section
    from platescope.pipeline._scenarios import Scenario, Step, run_step

    mod = types.ModuleType("toy_runner")

    def _count(exp, params, out, summary):
        rows = exp.section("toy_inputs")
        summary["toy"] = {"n_files": len(rows), "scale": params["scale"]}

    steps = (
        Step("toy", needs=("toy_inputs",), params={"scale": 1.0}, run=_count),
        Step("needs_movie", needs=("movie",), params={}, run=lambda *a: None),
    )

    def run(exp, out, summary):
        for st in steps:
            run_step(st, exp, out, summary)

    mod.SCENARIO = Scenario(
        name="toy",
        title="a toy",
        run=run,
        inputs=("toy_inputs", "movie"),
        analyses={"toy": {"scale": 1.0}, "needs_movie": {}},
        sections={"toy_inputs": Section(frozenset({"path", "weight"}), many=True)},
        demo=False,
    )
    monkeypatch.setitem(sys.modules, "toy_runner", mod)
    monkeypatch.setattr(reg, "SCENARIO_MODULES", (*reg.SCENARIO_MODULES, "toy_runner"))
    monkeypatch.setattr(reg, "_REGISTRY", {})
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    p = _write(
        tmp_path,
        """
        [experiment]
        scenario = "toy"
        [[toy_inputs]]
        path = "a.txt"
        [[toy_inputs]]
        path = "b.txt"
        [analysis.toy]
        scale = 2
        """,
    )
    summary = analyze(p, tmp_path / "res")
    assert summary["toy"] == {"n_files": 2, "scale": 2.0}
    assert set(summary["inputs"]) == {"toy_inputs[0]", "toy_inputs[1]"}
    assert summary["skipped"] == [
        {"analysis": "needs_movie", "reason": "no [movie] input in the experiment file"}
    ]
    assert "toy" not in demo_scenarios()
