"""Progress on a terminal (and --quiet), and a demo index that keeps earlier scenarios."""

from __future__ import annotations

import io
import sys

import pytest

from platescope._progress import set_quiet
from platescope.cli import main
from platescope.pipeline import run_demo
from platescope.simulate import simulate


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """A simulated symmetric cell, simulated once: the tests only read it (each analyses it
    into its own folder)."""
    root = tmp_path_factory.mktemp("progress")
    return simulate("symmetric-cell", root / "in", seed=1, overrides={"n_cycles": "2"})


@pytest.mark.parametrize("quiet", [False, True])
def test_analyze_labels_its_steps_on_a_terminal_unless_quiet(
    experiment, tmp_path, monkeypatch, quiet
):
    monkeypatch.delenv("PLATESCOPE_QUIET", raising=False)
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    try:
        args = ["analyze", str(experiment), "--out", str(tmp_path / "out")]
        assert main(args + (["--quiet"] if quiet else [])) == 0
    finally:
        set_quiet(False)
    text = err.getvalue()
    if quiet:
        assert "symmetric-cell:" not in text
    else:
        # each step of the scenario is named while it runs
        assert "symmetric-cell: " in text


def test_analyze_is_silent_when_stderr_is_not_a_terminal(experiment, tmp_path, monkeypatch):
    monkeypatch.delenv("PLATESCOPE_QUIET", raising=False)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["analyze", str(experiment), "--out", str(tmp_path / "out")]) == 0
    assert "symmetric-cell:" not in err.getvalue() and "it/s" not in err.getvalue()


def test_demo_rerun_of_one_scenario_keeps_the_others(tmp_path):
    out = tmp_path / "demo"
    run_demo(out, scenarios=("symmetric-cell",))
    run_demo(out, scenarios=("side-view",))
    text = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="symmetric-cell/results/report.html"' in text
    assert 'href="side-view/results/report.html"' in text
    assert "2 scenario(s)" in text
    # registry order (side-view is registered before symmetric-cell), whatever the run order
    assert text.index('href="side-view/') < text.index('href="symmetric-cell/')
