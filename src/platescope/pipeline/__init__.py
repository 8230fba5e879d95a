"""Experiment file → analyses → results folder; the demo."""

from platescope.pipeline._run import SCENARIO_RUNNERS, analyze, run_demo

__all__ = ["SCENARIO_RUNNERS", "analyze", "run_demo"]
