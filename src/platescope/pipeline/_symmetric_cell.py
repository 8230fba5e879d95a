"""Scenario ``symmetric-cell``: the voltage record of Li‖Li cycling (SCIENCE.md §4, issue 14).

Steps, each run when its inputs exist (otherwise recorded in ``skipped``):

1. ``symmetric_cell`` (needs ``[echem]``): per half-cycle plateau, nucleation overshoot
   and end-of-step overpotential, shape index and class (peaking / arcing / flat /
   undetermined), soft shorts, GITT pulses, evolution over cycles
   (:func:`platescope.echem.symmetric_cell`). The applied current is the record's; a
   text export without a current column takes ``[cell] current_mA`` or the set current
   of the EC-Lab settings file ``[cell] settings`` (``.mps``), signed by the voltage
   (:func:`platescope.echem.voltage_record`), with the loops of ``[cell] loops``
   (``…_LOOP.txt``) as step boundaries.
2. ``chronoamperometry`` (shared step): Scharifker–Hills on any potentiostatic step of
   the record (skipped with the reason when there is none).
3. ``sand`` (needs ``[electrolyte]``): Sand's time and capacity at the applied current
   density (:func:`platescope.models.sand_limit`), and whether the half-cycles pass
   more charge than Sand's capacity.

``summary["symmetric_cell"]``, ``summary["sand"]``, ``summary["settings"]`` (what the
``.mps`` says); tables ``half_cycles``, ``soft_shorts``, ``gitt``; three figures.
"""

from __future__ import annotations

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.io._experiment import Section
from platescope.pipeline._common import add_warning, expand_errors, read_echem_section
from platescope.pipeline._scenarios import Scenario, Step, run_step
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    echem_context,
)

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

DEFAULTS = {
    "symmetric_cell": {"gitt_max_pulse_s": 120.0, "min_duration_s": 0.0, "shape_threshold": 0.05},
    "sand": {"z": 1},
}


def _settings(exp) -> dict | None:
    from platescope.io._echem_eclab_mps import read_eclab_settings

    path = exp.section("cell").get("settings")
    return read_eclab_settings(path) if path else None


def _applied_current_A(exp, settings: dict | None) -> tuple[float | None, str | None]:
    """|I| from ``[cell] current_mA`` (wins) or the single set current of the settings."""
    from platescope.io._echem_eclab_mps import set_currents_A

    cell = exp.section("cell")
    if cell.get("current_mA") is not None:
        return float(cell["current_mA"]) * 1e-3, "[cell] current_mA"
    if settings is not None:
        levels = sorted({abs(i) for i in set_currents_A(settings)})
        if len(levels) == 1:
            return levels[0], f"settings file {settings['source']}"
        if len(levels) > 1:
            raise InputError(
                exp.path,
                f"the settings file sets {len(levels)} different current magnitudes "
                f"({', '.join(f'{i * 1e3:g} mA' for i in levels)}): which one the text export "
                "holds cannot be told",
                "give [cell] current_mA, or export the record with its current column",
            )
    return None, None


def _record(exp, settings, summary):
    """The record with a current column: the file's, or the applied one (voltage sign)."""
    from platescope.echem import voltage_record
    from platescope.io._echem_eclab_mps import read_eclab_loops, read_voltage_export

    try:
        return read_echem_section(exp), None
    except InputError as err:
        if "no current" not in err.problem:
            raise
        current, source = _applied_current_A(exp, settings)
        if current is None:
            raise InputError(
                err.path,
                err.problem,
                "give the applied current as [cell] current_mA or the run's EC-Lab settings "
                "file as [cell] settings (a symmetric-cell voltage record can take it)",
            ) from None
        volt = read_voltage_export(exp.echem["path"])
    loops_path = exp.section("cell").get("loops")
    loops = read_eclab_loops(loops_path) if loops_path else None
    if loops is not None and loops and loops[-1] >= len(volt):
        raise InputError(
            loops_path,
            f"the loop file starts a loop at row {loops[-1]} but the record has {len(volt)} rows",
            "give the loop file written with this export",
        )
    rec = voltage_record(volt, current_A=current, loop_starts=loops)
    if exp.echem.get("electrode") == "counter":
        attrs = dict(rec.attrs)
        rec = rec.assign(potential_V=-rec["potential_V"], current_A=-rec["current_A"])
        rec.attrs = attrs
    rests = [
        q["rest_s"]
        for t in (settings or {}).get("techniques", [])
        if t["code"] == "GCPL"
        for q in t["sequences"]
        if q.get("current_A") and q.get("rest_s")
    ]
    if rests:
        add_warning(
            summary,
            "rests-not-located",
            f"the settings rest {max(rests):g} s after constant-current sequences, but a record "
            "without a current column cannot show where: those rests are analysed as if the "
            "current flowed (a rest and a full short both read ≈ 0 V); export the current "
            "column to separate them",
            "symmetric_cell",
        )
    add_warning(
        summary,
        "current-not-measured",
        f"the record holds no current: {current * 1e3:g} mA from {source} was applied with the "
        "sign of the cell voltage (a symmetric cell's open-circuit voltage is ≈ 0 V); check "
        "it is the current the run used",
        "symmetric_cell",
    )
    return rec, {"current_A": current, "source": source, "loops": loops_path is not None}


def _symmetric(ctx, params, out, summary):
    from platescope import report
    from platescope.echem import record_warnings, symmetric_cell

    exp = ctx["exp"]
    echem, steps, applied = ctx["echem"].echem, ctx["echem"].steps, ctx["applied"]
    current = exp.section("cell").get("current_mA")
    res = symmetric_cell(
        echem,
        steps=steps,
        current_A=None if current is None else float(current) * 1e-3,
        min_duration_s=params["min_duration_s"],
        gitt_max_pulse_s=params["gitt_max_pulse_s"],
        shape_threshold=params["shape_threshold"],
    )
    res["warnings"] = record_warnings(echem) + res["warnings"]
    res["applied_current"] = applied
    ctx["result"] = res
    summary["symmetric_cell"] = expand_errors(res)
    hc = pd.DataFrame(summary["symmetric_cell"]["half_cycles"])
    if len(hc):
        out.table(
            "half_cycles",
            hc,
            title="Half-cycles: overpotentials and profile shape",
            errors="k2",
        )
    if res["soft_shorts"]:
        out.table("soft_shorts", pd.DataFrame(res["soft_shorts"]), title="Soft-short events")
    if res["gitt"]:
        out.table("gitt", pd.DataFrame(res["gitt"]), title="GITT pulses")
    out.figure(
        "symmetric_voltage",
        report.fig_symmetric_voltage(echem, res),
        title="Cell voltage by half-cycle",
        caption="Cell voltage against time; each constant-current half-cycle coloured by its "
        "profile class (peaking: blue, arcing: vermilion, flat: green, undetermined: grey), "
        "rests and other steps light grey, soft-short events shaded pink.",
    )
    out.figure(
        "symmetric_profiles",
        report.fig_symmetric_profiles(echem, res),
        title="Overpotential profiles per half-cycle",
        caption="|η| against normalised step time τ, plating and stripping apart, coloured by "
        "cycle; solid peaking, dashed arcing, dotted flat/undetermined; the plateau window "
        "τ 0.3–0.7 shaded.",
    )
    out.figure(
        "symmetric_evolution",
        report.fig_symmetric_evolution(res),
        title="Overpotential and shape over cycles",
        caption="Plateau |η| (±2σ), end-of-step |η| and nucleation overshoot per half-cycle "
        "(× marks a soft short); the shape index ±2σ with the ±0.05 class band.",
    )
    n = res["n_half_cycles"]
    counts = res["evolution"]["class_counts"]
    first = res["evolution"]["eta_plateau_first_V"]
    last = res["evolution"]["eta_plateau_last_V"]
    parts = [f"{n} half-cycles"]
    if first is not None:
        parts.append(f"plateau |η| {first * 1e3:.1f} → {last * 1e3:.1f} mV")
    parts.append(", ".join(f"{v} {k}" for k, v in counts.items() if v))
    parts.append(f"{res['n_soft_shorts']} soft-short signature(s)")
    summary["headline"] = "; ".join(parts)
    return res


def _sand(ctx, params, out, summary):
    from platescope.models import sand_limit

    exp = ctx["exp"]
    res = ctx.get("result")
    el = exp.section("electrolyte")
    missing = [k for k in ("D_cm2_s", "c0_mol_L", "t_plus") if el.get(k) is None]
    area = exp.electrode.get("area_cm2")
    if missing or res is None or not res["half_cycles"] or not area:
        reason = (
            f"[electrolyte] lacks {', '.join(missing)}"
            if missing
            else "no electrode area ([electrode] area_cm2): no current density"
            if not area
            else "no constant-current half-cycle"
        )
        summary["sand"] = {"t_sand_s": None, "Q_sand_mAh_cm2": None, "reason": reason}
        return None
    t_plus = float(el["t_plus"])
    if not 0.0 <= t_plus < 1.0:
        raise InputError(
            exp.path,
            f"[electrolyte] t_plus = {t_plus!r} is not a transference number in [0, 1)",
            "give the cation transference number (e.g. 0.4), or leave [electrolyte] out",
        )
    i_a = float(np.median([abs(h["I_A"]) for h in res["half_cycles"]]))
    dur = float(np.median([h["duration_s"] for h in res["half_cycles"]]))
    j = i_a * 1e3 / float(area)
    out_d = sand_limit(
        j,
        D_cm2_s=float(el["D_cm2_s"]),
        c0_mol_L=float(el["c0_mol_L"]),
        t_plus=t_plus,
        z=int(params["z"]),
        step_duration_s=dur,
    )
    out_d["half_cycle_capacity_mAh_cm2"] = j * dur / 3600.0
    summary["sand"] = out_d
    if out_d["exceeds_sand"]:
        add_warning(
            summary,
            "beyond-sand",
            f"each half-cycle ({dur:.0f} s at {j:.3g} mA cm⁻²) lasts longer than Sand's time "
            f"({out_d['t_sand_s']:.0f} s): past it deposition is transport-limited and Li grows "
            "from its tips (whiskers), as far as the electrolyte parameters given are right",
            "sand",
        )
    return out_d


STEPS = (
    Step("symmetric_cell", needs=("echem",), params=DEFAULTS["symmetric_cell"], run=_symmetric),
    Step("sand", needs=("electrolyte",), params=DEFAULTS["sand"], run=_sand),
)


def run(exp, out, summary: dict) -> None:
    """Run the ``symmetric-cell`` steps and fill ``summary`` and ``out``."""
    ctx = {"exp": exp, "settings": _settings(exp)}
    if ctx["settings"] is not None:
        s = ctx["settings"]
        summary["settings"] = {
            "source": s["source"],
            "device": s["device"],
            "techniques": [
                {
                    "index": t["index"],
                    "code": t["code"],
                    "name": t["name"],
                    **(
                        {"goto_technique": t["goto_technique"], "loop_times": t["loop_times"]}
                        if t["code"] == "Loop"
                        else {}
                    ),
                    "sequences": [
                        {k: v for k, v in q.items() if k != "raw" and v is not None}
                        for q in t["sequences"]
                    ],
                }
                for t in s["techniques"]
            ],
        }
    if exp.echem:
        rec, ctx["applied"] = _record(exp, ctx["settings"], summary)
        ctx["echem"] = echem_context(rec)
    run_step(STEPS[0], exp, out, summary, context=ctx)
    if exp.echem:  # Scharifker–Hills on any potentiostatic step (skipped with the reason)
        run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx["echem"])
    run_step(STEPS[1], exp, out, summary, context=ctx)
    if "headline" not in summary:
        summary["headline"] = "no [echem] record given"


SCENARIO = Scenario(
    name="symmetric-cell",
    title="Li‖Li symmetric-cell voltage: overpotentials, peaking/arcing shape, soft shorts, GITT",
    run=run,
    inputs=("echem", "cell", "electrolyte"),
    analyses={**DEFAULTS, "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS},
    simulator="platescope.simulate._symmetric_cell:symmetric_cell",
    sections={
        "cell": Section(
            frozenset({"current_mA", "settings", "loops"}),
            path_keys=frozenset({"settings", "loops"}),
            number_keys=frozenset({"current_mA"}),
            needs_path=False,
        ),
    },
)
