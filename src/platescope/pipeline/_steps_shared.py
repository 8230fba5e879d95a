"""Steps several scenarios share: one implementation, one summary schema.

- :data:`CYCLES` — charges and Coulombic efficiency per plating→stripping cycle
  (:func:`platescope.echem.cycle_charges`) → ``summary["echem"]["cycles"]`` with one row
  schema everywhere (``cycle``, ``t_start_s``, ``t_end_s``, ``Q_c_C``, ``Q_c_err_C``,
  ``Q_a_C``, ``Q_a_err_C``, ``CE``, ``CE_err``, ``complete`` + reasons), and a table.
- :data:`CHRONOAMPEROMETRY` — Scharifker–Hills on every potentiostatic step the record
  holds (:func:`platescope.echem.split_steps` finds them) →
  ``summary["echem"]["scharifker_hills"]``; nothing (not applicable) when the record
  has no potentiostatic step.

Each is a :class:`~platescope.pipeline._scenarios.Step` run by
:func:`~platescope.pipeline._scenarios.run_step` with the record as context
(``run_step(CYCLES, exp, out, summary, context=EchemContext(echem, steps))``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.pipeline._common import cycle_rows, cycles_meta, expand_errors
from platescope.pipeline._scenarios import Step
from platescope.pipeline._stripping import CHRONOAMPEROMETRY_DEFAULTS

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

__all__ = ["CHRONOAMPEROMETRY", "CYCLES", "CYCLES_DEFAULTS", "EchemContext", "echem_context"]


@dataclass
class EchemContext:
    """A record and its steps (split once), handed to the echem steps.

    Attributes
    ----------
    echem : pandas.DataFrame
        The record as read (:func:`platescope.pipeline._common.read_echem_section`).
    steps : pandas.DataFrame
        :func:`platescope.echem.split_steps` of it.
    table_prefix : str
        Prefix of the tables the steps write (``"echem_"`` keeps a scenario's names).
    """

    echem: pd.DataFrame
    steps: pd.DataFrame
    table_prefix: str = ""
    cycles: pd.DataFrame | None = None


def echem_context(echem: pd.DataFrame, *, table_prefix: str = "") -> EchemContext:
    """Split a record into steps once, for every echem step of a scenario."""
    from platescope.echem import split_steps

    return EchemContext(echem=echem, steps=split_steps(echem), table_prefix=table_prefix)


# --------------------------------------------------------------------------- cycles
CYCLES_DEFAULTS: dict[str, Any] = {"by": "auto", "first_half": "auto"}


def _run_cycles(ctx: EchemContext, params: dict, out, summary: dict) -> pd.DataFrame | None:
    from platescope import echem as echem_mod

    ech = summary.setdefault("echem", {})
    try:
        cc = echem_mod.cycle_charges(
            ctx.echem, by=params["by"], first_half=params["first_half"], steps=ctx.steps
        )
    except InputError as err:  # e.g. a record without a complete cycle
        ech["cycles"] = None
        ech["cycles_reason"] = err.problem
        summary["skipped"].append({"analysis": "echem.cycles", "reason": err.problem})
        return None
    ech["cycles"] = expand_errors(cycle_rows(cc))
    ech.update(cycles_meta(cc))
    out.table(
        f"{ctx.table_prefix}cycles",
        cc,
        title="Charges and Coulombic efficiency per cycle",
        errors="1sigma",
    )
    ctx.cycles = cc
    return cc


#: ``[analysis.cycles]``: how cycles are found (see :func:`platescope.echem.cycle_charges`).
CYCLES = Step("cycles", needs=("echem",), params=CYCLES_DEFAULTS, run=_run_cycles)


# --------------------------------------------------------------------------- chronoamperometry
def _run_chronoamperometry(ctx: EchemContext, params: dict, out, summary: dict) -> dict | None:
    from platescope.pipeline._stripping import chronoamperometry_analyses

    steps = ctx.steps
    pot = steps[steps["kind"] == "potentiostatic"]
    if pot.empty:
        # not applicable (a galvanostatic or sweep record): nothing was left undone, so
        # no skipped[] entry; its parameters are not recorded either
        summary["parameters"].pop("chronoamperometry", None)
        return None
    keep = np.zeros(len(ctx.echem), dtype=bool)
    for r in pot.itertuples():
        keep[int(r.i_start) : int(r.i_stop)] = True
    sub = ctx.echem[keep]
    sub.attrs = dict(ctx.echem.attrs)
    chronoamperometry_analyses(sub, out, summary, params=params)
    return summary.get("echem", {}).get("scharifker_hills")


#: ``[analysis.chronoamperometry]``: Scharifker–Hills on the potentiostatic steps.
CHRONOAMPEROMETRY = Step(
    "chronoamperometry",
    needs=("echem",),
    params=CHRONOAMPEROMETRY_DEFAULTS,
    run=_run_chronoamperometry,
)
