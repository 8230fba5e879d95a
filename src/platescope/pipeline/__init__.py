"""Experiment file → analyses → results folder; the demo; the scenario registry.

Public API
----------
analyze(experiment, out, *, scheduler=None, workers=None) -> dict
    Run every analysis an experiment file allows and publish the results folder.
run_demo(out, *, scenarios=None, seed=0) -> Path
    Simulate, analyse and report each demo scenario; returns the index page.
scenarios() -> dict
    The scenario registry: name → :class:`Scenario` (inputs, analyses, simulator).
get_scenario(name) -> Scenario
demo_scenarios() -> tuple of str
Scenario, Step, run_step
    How a scenario is declared and how its steps run (see docs/adding_a_scenario.md).
"""

from platescope.pipeline._run import analyze, demo_scenarios, run_demo
from platescope.pipeline._scenarios import Scenario, Step, get_scenario, run_step, scenarios

__all__ = [
    "Scenario",
    "Step",
    "analyze",
    "demo_scenarios",
    "get_scenario",
    "run_demo",
    "run_step",
    "scenarios",
]
