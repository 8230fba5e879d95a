"""Synthetic experiments with planted truth (DESIGN.md §1, §3).

Each scenario writes input files in real instrument formats, an ``experiment.toml``
ready for ``platescope analyze`` and ``truth/truth.json`` with the keys of
``summary.json``, so every analysis can be checked against what was planted.

Public API
----------
SCENARIOS
    Registry: scenario name → function ``fn(out, *, seed=0, **params) -> Path``; each
    function's ``.parameters`` maps every accepted ``--set`` key to a
    :class:`~platescope.simulate._common.Param` (type, unit, default, range).
simulate(scenario, out, *, seed=0, overrides=None) -> Path
    Run a scenario by name (overrides may be strings from ``--set key=value``).
parse_set_options(items) -> dict
    ``["key=value", ...]`` → ``{"key": "value"}``.
irm_galvanostatic(out, *, seed=0, **params) -> Path
    SECCM galvanostatic Li plating with IRM movie and SEM image.
make_irm_galvanostatic(seed=0, **params) -> dict
    The same, in memory (arrays + truth, no files).
"""

from platescope.simulate._common import SCENARIOS, parse_set_options, simulate
from platescope.simulate._irm_galvanostatic import irm_galvanostatic, make_irm_galvanostatic

__all__ = [
    "SCENARIOS",
    "irm_galvanostatic",
    "make_irm_galvanostatic",
    "parse_set_options",
    "simulate",
]
