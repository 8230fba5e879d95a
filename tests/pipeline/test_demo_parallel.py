"""The demo's scenarios in parallel worker processes give the serial demo's results."""

from __future__ import annotations

import json
import math

import pytest

from platescope._errors import InputError
from platescope.pipeline import run_demo

# values that are about the run, not the result: the clock, and the folder it ran in
_RUN_KEYS = {"created_utc", "elapsed_s", "spots_per_s"}


def _numbers_and_texts(obj, root, path=""):
    """Every leaf of a summary as ``dotted.path -> value``, with the demo folder in paths
    replaced by ``<out>`` and run-dependent keys left out."""
    leaves = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in _RUN_KEYS:
                leaves.update(_numbers_and_texts(v, root, f"{path}.{k}"))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            leaves.update(_numbers_and_texts(v, root, f"{path}[{i}]"))
    elif isinstance(obj, str):
        leaves[path] = obj.replace(str(root), "<out>")
    else:
        leaves[path] = obj
    return leaves


def test_two_scenarios_in_parallel_give_the_serial_summaries(tmp_path):
    names = ("symmetric-cell", "sims-diffusion")
    serial = run_demo(tmp_path / "serial", scenarios=names, jobs=1).parent
    parallel = run_demo(tmp_path / "parallel", scenarios=names, jobs=2).parent
    for name in names:
        a = json.loads((serial / name / "results" / "summary.json").read_text("utf-8"))
        b = json.loads((parallel / name / "results" / "summary.json").read_text("utf-8"))
        la, lb = _numbers_and_texts(a, serial), _numbers_and_texts(b, parallel)
        assert la.keys() == lb.keys(), name
        n_numbers = 0
        for key, va in la.items():
            vb = lb[key]
            if isinstance(va, float) and math.isnan(va):  # pragma: no cover - JSON has none
                assert isinstance(vb, float) and math.isnan(vb), key
            else:
                assert va == vb, (name, key, va, vb)  # identical, not close
            n_numbers += isinstance(va, int | float) and not isinstance(va, bool)
        assert n_numbers > 10, name  # a real summary, not an empty shell
    # the same index page: both scenarios listed, in the same (registry) order
    ia = (serial / "index.html").read_text("utf-8")
    ib = (parallel / "index.html").read_text("utf-8")
    hrefs = [f'href="{n}/results/report.html"' for n in names]
    assert "2 scenario(s)" in ia and "2 scenario(s)" in ib
    assert sorted(hrefs, key=ia.index) == sorted(hrefs, key=ib.index)


def test_a_failing_scenario_stops_the_parallel_demo_with_its_input_error(tmp_path):
    with pytest.raises(InputError, match="no-such-scenario-a"):
        run_demo(tmp_path / "d", scenarios=("no-such-scenario-a", "no-such-scenario-b"), jobs=2)
    assert not (tmp_path / "d" / "index.html").exists()
