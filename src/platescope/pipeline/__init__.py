"""Experiment file → analyses → results folder; the demo; the scenario registry.

Public API
----------
analyze(experiment, out, *, scheduler=None, workers=None) -> dict
    Run every analysis an experiment file allows and publish the results folder.
run_demo(out, *, scenarios=None, seed=0, jobs=None) -> Path
    Simulate, analyse and report each demo scenario; returns the index page.
scenarios() -> dict
    The scenario registry: name → :class:`Scenario` (inputs, analyses, simulator).
get_scenario(name) -> Scenario
demo_scenarios() -> tuple of str
Scenario, Step, run_step
    How a scenario is declared and how its steps run (see docs/adding_a_scenario.md).
"""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.pipeline`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "analyze": "platescope.pipeline._run",
    "demo_scenarios": "platescope.pipeline._run",
    "run_demo": "platescope.pipeline._run",
    "Scenario": "platescope.pipeline._scenarios",
    "Step": "platescope.pipeline._scenarios",
    "get_scenario": "platescope.pipeline._scenarios",
    "run_step": "platescope.pipeline._scenarios",
    "scenarios": "platescope.pipeline._scenarios",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
