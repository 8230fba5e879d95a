"""The scenario registry: one place that says which scenarios exist and what each needs.

A scenario is one :class:`Scenario` object, declared in its runner module as
``SCENARIO`` (or a tuple ``SCENARIOS`` when one runner serves several names) and made
known by one line in :data:`SCENARIO_MODULES`. The experiment reader (which sections a
file may hold), the CLI (``--help`` lists the scenarios and their ``--set`` keys),
:func:`platescope.pipeline.analyze`, ``demo`` and :func:`platescope.simulate.simulate`
all read this registry; nothing else keeps a list of scenario names.

A scenario's work is a sequence of **steps** (:class:`Step`): named, reusable units with
the inputs they need, a parameter table (:class:`~platescope._params.Param`, the same
validation as ``--set``) and a ``run`` that calls public library functions and fills
the summary. :func:`run_step` is the engine: it writes the ``skipped[]`` entry when an
input is missing, validates and records the parameters, and calls the step.

Adding a scenario (see ``docs/adding_a_scenario.md``): write its runner module (with
``SCENARIO``), its simulator module (``@register``), and add the runner module's name
to :data:`SCENARIO_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from platescope._errors import InputError
from platescope.io._experiment import Section

__all__ = [
    "SCENARIO_MODULES",
    "Scenario",
    "Section",
    "Step",
    "get_scenario",
    "run_step",
    "scenarios",
]

#: Runner modules that declare scenarios, in demo order. Adding a scenario = one line here.
SCENARIO_MODULES: tuple[str, ...] = (
    "platescope.pipeline._irm_galvanostatic",
    "platescope.pipeline._irm_cv",
    "platescope.pipeline._seccm_combinatorial",
    "platescope.pipeline._see_through",
    "platescope.pipeline._sem_particles",
    "platescope.pipeline._dendrite_cycling",
    "platescope.pipeline._top_view_nucleation",
    "platescope.pipeline._sims_diffusion",
    "platescope.pipeline._side_view",
    "platescope.pipeline._symmetric_cell",
    "platescope.pipeline._afm",
    "platescope.pipeline._tomography",
)


@dataclass(frozen=True)
class Scenario:
    """One scenario: its name, inputs, analyses, runner, simulator and demo place.

    Attributes
    ----------
    name : str
        The ``[experiment] scenario`` value, e.g. ``"irm-galvanostatic"``.
    title : str
        One line for ``--help`` and the report.
    run : callable
        ``run(exp, out, summary)``: the composition of the scenario's steps.
    inputs : tuple of str
        Experiment-file sections the scenario reads (``echem``, ``movie``, ``sem``, …);
        any other input section in its experiment file is an error.
    analyses : mapping
        ``[analysis.<name>]`` tables it reads: name → defaults (values or ``Param``).
    simulator : str or None
        ``"module:function"`` of its ``simulate`` function (imported when needed).
    demo : bool
        Whether ``platescope demo`` runs it (in :data:`SCENARIO_MODULES` order).
    sections : mapping of str to Section
        New input sections this scenario defines (the shared ones are in
        :mod:`platescope.io._experiment`).
    """

    name: str
    title: str
    run: Callable[..., None]
    inputs: tuple[str, ...]
    analyses: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    simulator: str | None = None
    demo: bool = True
    sections: Mapping[str, Section] = field(default_factory=dict)

    def simulator_function(self) -> Callable | None:
        """The scenario's simulator (imported on first use), or None."""
        if not self.simulator:
            return None
        module, _, attr = self.simulator.partition(":")
        return getattr(importlib.import_module(module), attr)


_REGISTRY: dict[str, Scenario] = {}


def scenarios() -> dict[str, Scenario]:
    """Every registered scenario by name, in demo order (runner modules load once).

    Examples
    --------
    >>> "irm-galvanostatic" in scenarios()
    True
    """
    if not _REGISTRY:
        found: dict[str, Scenario] = {}
        for name in SCENARIO_MODULES:
            module = importlib.import_module(name)
            declared = getattr(module, "SCENARIOS", None) or (module.SCENARIO,)
            for sc in declared:
                if sc.name in found:
                    raise RuntimeError(f"scenario {sc.name!r} registered twice ({name})")
                found[sc.name] = sc
        _REGISTRY.update(found)
    return dict(_REGISTRY)


def get_scenario(name: str, *, path=None) -> Scenario:
    """The registered scenario ``name``.

    Raises
    ------
    InputError
        An unknown name (names the file that gave it and the known scenarios).
    """
    reg = scenarios()
    if name not in reg:
        raise InputError(path, f"unknown scenario '{name}'", f"use one of {', '.join(reg)}")
    return reg[name]


# --------------------------------------------------------------------------- steps
@dataclass(frozen=True)
class Step:
    """A named, reusable analysis unit of a scenario.

    Attributes
    ----------
    name : str
        The analysis name: its ``[analysis.<name>]`` table, ``summary["parameters"]``
        key and ``skipped[]`` name.
    needs : tuple of str
        Experiment sections the step cannot run without; when one is absent the engine
        records ``{"analysis": name, "reason": "no [section] input"}`` in ``skipped``.
    params : mapping
        Parameter table (``Param`` or plain defaults).
    run : callable
        ``run(context, params, out, summary) -> result``: calls public library functions
        and fills ``summary``/``out``; may return a result other steps use.
    """

    name: str
    needs: tuple[str, ...]
    params: Mapping[str, Any]
    run: Callable[..., Any]


def run_step(step: Step, exp, out, summary: dict, context: Any = None):
    """Run ``step`` on an experiment if its inputs exist; record parameters or the skip.

    A labelled progress display (:mod:`platescope._progress`) shows the step while it
    runs when stderr is a terminal.

    Returns
    -------
    any
        The step's result, or None when it was skipped for a missing input.
    """
    from platescope.pipeline._common import analysis_params

    missing = [s for s in step.needs if not getattr(exp, s, None) and not exp.section(s)]
    if missing:
        summary["skipped"].append(
            {"analysis": step.name, "reason": f"no [{missing[0]}] input in the experiment file"}
        )
        return None
    params = summary["parameters"].setdefault(
        step.name, analysis_params(exp, step.name, step.params)
    )
    from platescope._progress import progress

    with progress(f"{getattr(exp, 'scenario', '') or 'step'}: {step.name}"):
        return step.run(context if context is not None else exp, params, out, summary)
