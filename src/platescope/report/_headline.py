"""The headline numbers of each scenario: the few values that answer its question.

One place (:data:`HEADLINES`) says, per scenario, which summary values open its report
(and which the catalog of runs can list as columns). Each entry is a path into
``summary.json`` and an optional label:

- ``"echem.galvanostatic.E_nuc_V"`` — nested keys, dotted;
- ``"echem.cycles[0].CE"``, ``"[-1]"`` — a row of a list by position;
- ``"combinatorial[first].E_nuc_V_mean"`` / ``"[last]"`` — the first/last row in which
  the value is not null (e.g. the lowest and highest current density that nucleated).

A label may name fields of the row it comes from: ``"CE, cycle {cycle}"``. A scenario
not listed gets the first values with an uncertainty in the summary (at most
:data:`MAX_ITEMS`). :func:`headline_values` resolves the entries against one summary;
the value, its uncertainty (the ``*_err`` companion, k = 2 like every platescope
uncertainty) and the unit are those of ``summary.json``, never recomputed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["HEADLINES", "MAX_ITEMS", "headline_values"]

#: Most headline numbers a report opens with.
MAX_ITEMS = 6

#: scenario → ((path, label or None), ...); labels may use ``{field}`` of the row.
HEADLINES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "irm-galvanostatic": (
        ("echem.galvanostatic.E_nuc_V", None),
        ("echem.galvanostatic.t_nuc_s", None),
        ("echem.galvanostatic.eta_nuc_V", None),
        ("optics.t_nuc_irm_s", None),
        ("particles.density_cm2", "particle density"),
        ("particles.mean_diameter_nm", None),
    ),
    "irm-cv": (
        ("echem.cycles[0].CE", "CE, cycle {cycle}"),
        ("echem.cycles[-1].CE", "CE, cycle {cycle}"),
        ("optics.ce_calibration.slope", "CE(IRM) vs CE slope"),
        ("optics.ce_calibration.r2", "CE(IRM) vs CE R²"),
        ("optics.alpha", "α (IRM signal per nm Li)"),
        ("optics.residual_deposit.mean_nm", "inactive deposit, mean thickness"),
    ),
    "seccm-combinatorial": (
        ("combinatorial[first].E_nuc_V_mean", "E_nuc at j = {current_density_mA_cm2:.3g} mA cm⁻²"),
        ("combinatorial[last].E_nuc_V_mean", "E_nuc at j = {current_density_mA_cm2:.3g} mA cm⁻²"),
        ("combinatorial[first].t_nuc_s_mean", "t_nuc at j = {current_density_mA_cm2:.3g} mA cm⁻²"),
        ("combinatorial[last].t_nuc_s_mean", "t_nuc at j = {current_density_mA_cm2:.3g} mA cm⁻²"),
        ("combinatorial_run.n_analysed", "spots analysed"),
    ),
    "see-through-au": (
        ("optics.alloying[0].t50_s", "t₅₀, alloying step {step}"),
        ("optics.alloying[-1].t50_s", "t₅₀, alloying step {step}"),
        ("optics.complementarity_r", None),
        ("sites.density_cm2", "Li site density"),
        ("spatial.clark_evans_R", None),
        ("echem.cycles[0].CE", "CE, cycle {cycle}"),
    ),
    "see-through-ag": (
        ("optics.alloying[0].t50_s", "t₅₀, alloying step {step}"),
        ("optics.alloying[-1].t50_s", "t₅₀, alloying step {step}"),
        ("optics.complementarity_r", None),
        ("sites.density_cm2", "Li site density"),
        ("spatial.clark_evans_R", None),
        ("echem.cycles[0].CE", "CE, cycle {cycle}"),
    ),
    "sem-particles": (
        (
            "particles_by_condition[0].density_cm2",
            "density at j = {current_density_mA_cm2:.3g} mA cm⁻²",
        ),
        (
            "particles_by_condition[-1].density_cm2",
            "density at j = {current_density_mA_cm2:.3g} mA cm⁻²",
        ),
        (
            "particles_by_condition[0].mean_diameter_nm",
            "mean diameter at j = {current_density_mA_cm2:.3g} mA cm⁻²",
        ),
        (
            "particles_by_condition[-1].mean_diameter_nm",
            "mean diameter at j = {current_density_mA_cm2:.3g} mA cm⁻²",
        ),
        ("particles_vs_current.density.exponent", "density ∝ j^b: b"),
        ("particles_vs_current.mean_diameter.exponent", "diameter ∝ j^b: b"),
    ),
    "dendrite-cycling": (
        ("deposits.n_tracks", "deposits tracked"),
        ("deposits.mean_max_volume_um3", "mean maximum deposit volume"),
        ("dead_li[0].dead_fraction", "dead fraction, cycle {cycle}"),
        ("dead_li[0].slope", "dead vs max volume slope, cycle {cycle}"),
        ("echem.cycles[0].CE", "CE, cycle {cycle}"),
    ),
    "top-view-nucleation": (
        ("nucleation.law.exponent", "nucleus density ∝ j^b: b"),
        ("nucleation.pit_law.exponent", "pit density ∝ j^b: b"),
        ("nucleation.runs[first].density_cm2", "nucleus density at j = {j_mA_cm2:.3g} mA cm⁻²"),
        ("nucleation.runs[last].density_cm2", "nucleus density at j = {j_mA_cm2:.3g} mA cm⁻²"),
        ("sand.runs[last].onset_over_sand", "tip onset / Sand's time, j = {j_mA_cm2:.3g} mA cm⁻²"),
    ),
    "sims-diffusion": (
        ("sims_D_cm2_s", None),
        ("i_crit_uA_cm2", None),
        ("sims_combined.n_profiles", "SIMS profiles combined"),
        ("sims_combined.chi2_red", "reduced χ² of the combined fit"),
    ),
    "side-view": (
        ("side_view.mean_thickness_um", "mean layer thickness"),
        ("side_view.max_thickness_um", "maximum layer thickness"),
        ("side_view.porosity", None),
        ("side_view.roughness_um", None),
        ("side_view.transition.t_transition_s", "mossy → whisker transition"),
        ("side_view.transition.capacity_at_transition_mAh_cm2", "capacity at the transition"),
    ),
    "symmetric-cell": (
        ("symmetric_cell.evolution.eta_plateau_first_V", "plateau |η|, first half-cycle"),
        ("symmetric_cell.evolution.eta_plateau_last_V", "plateau |η|, last half-cycle"),
        ("symmetric_cell.evolution.plateau_slope_V_per_half_cycle", "plateau |η| growth"),
        ("symmetric_cell.n_soft_shorts", "soft-short signatures"),
        ("sand.step_over_sand", "half-cycle capacity / Sand capacity"),
    ),
    "tomography": (
        ("tomography.li_volume_um3", "Li volume"),
        ("tomography.li_areal_capacity_mAh_cm2", "Li areal capacity"),
        ("tomography.porosity", None),
        ("tomography.specific_surface_area_um_inv", "specific surface area"),
        ("tomography.tortuosity.tortuosity", "pore tortuosity ({axis})"),
        ("tomography.pore_size.median_um", "median pore diameter"),
    ),
    "afm": (
        ("afm.maps[0].Sq_nm", "Sq at t = {time_s:.0f} s"),
        ("afm.maps[-1].Sq_nm", "Sq at t = {time_s:.0f} s"),
        ("afm.growth.rate_feature_nm_h", "growth rate of features"),
        ("afm.growth.rate_flat_nm_h", "growth rate of flat regions"),
        ("afm.growth.rate_difference_nm_h", "features − flat"),
    ),
}

_PATH_PART = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")
_META = {
    "scenario",
    "name",
    "platescope_version",
    "created_utc",
    "python",
    "experiment_file",
    "inputs",
    "parameters",
    "skipped",
    "warnings",
    "headline",
    "uncertainty_convention",
    "files_read",
}


def _parts(path: str) -> list[str | int]:
    out: list[str | int] = []
    for key, idx in _PATH_PART.findall(path):
        if key:
            out.append(key)
        elif idx in ("first", "last"):
            out.append(idx)
        else:
            out.append(int(idx))
    return out


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def _resolve(summary: Mapping[str, Any], path: str) -> tuple[Mapping | None, str | None]:
    """(the dict holding the leaf, the leaf key) or (None, None) when the path is absent."""
    parts = _parts(path)
    node: Any = summary
    for part in parts[:-1]:
        if isinstance(part, str) and part in ("first", "last") and isinstance(node, list):
            leaf = parts[-1]
            rows = [r for r in node if isinstance(r, Mapping) and _usable(r.get(leaf))]
            if not rows:
                return None, None
            node = rows[0] if part == "first" else rows[-1]
        elif isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                return None, None
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return None, None
            node = node[part]
    leaf = parts[-1]
    if not isinstance(node, Mapping) or not isinstance(leaf, str) or leaf not in node:
        return None, None
    return node, leaf


def _usable(v: Any) -> bool:
    return _finite(v) or (isinstance(v, Mapping) and _finite(v.get("value")))


def _item(summary: Mapping[str, Any], path: str, label: str | None) -> dict | None:
    from platescope.report._keys import _find_err, _label, _reason_for

    parent, key = _resolve(summary, path)
    if parent is None or key is None:
        return None
    value = parent[key]
    auto_label, unit, meaning = _label(key)
    err = None
    if isinstance(value, Mapping):  # {value, value_err, units, ...}
        unit = str(value.get("units") or value.get("unit") or unit)
        err = value.get("value_err", value.get("err"))
        reason = value.get("reason")
        value = value.get("value")
    else:
        err = _find_err(parent, key)[1]
        reason = _reason_for(parent, key)
    if isinstance(value, bool) or not (value is None or _finite(value)):
        return None
    text = label or auto_label
    if label:
        try:
            text = label.format(**{k: v for k, v in parent.items() if not isinstance(v, Mapping)})
        except (KeyError, ValueError, TypeError, IndexError):
            text = auto_label
    return {
        "path": path,
        "label": text,
        "meaning": meaning,
        "value": value,
        "err": err if _finite(err) else None,
        "unit": unit,
        "reason": None if value is not None else reason,
    }


def _fallback(summary: Mapping[str, Any]) -> list[tuple[str, None]]:
    """The first values with an uncertainty, for scenarios without a headline entry."""
    from platescope.report._keys import _find_err, _is_value_dict

    found: list[tuple[str, None]] = []

    def walk(node: Any, prefix: str) -> None:
        if len(found) >= MAX_ITEMS or not isinstance(node, Mapping):
            return
        for k, v in node.items():
            if prefix == "" and k in _META:
                continue
            path = f"{prefix}.{k}" if prefix else str(k)
            if _is_value_dict(v) and _finite(v.get("value_err")):
                found.append((path, None))
            elif _finite(v) and _find_err(node, k)[0] and "_err" not in k:
                found.append((path, None))
            elif isinstance(v, Mapping):
                walk(v, path)
            if len(found) >= MAX_ITEMS:
                return

    walk(summary, "")
    return found


def headline_values(summary: Mapping[str, Any], *, scenario: str | None = None) -> list[dict]:
    """The headline numbers of one run, resolved from its summary.

    Parameters
    ----------
    summary : mapping
        The ``summary.json`` content.
    scenario : str, optional
        Which entry of :data:`HEADLINES` to use (default ``summary["scenario"]``).

    Returns
    -------
    list of dict
        ``{"path", "label", "meaning", "value", "err", "unit", "reason"}`` per number, in
        order; ``value`` may be None (then ``reason`` says why when the summary does);
        ``err`` is the expanded uncertainty (k = 2) or None; paths absent from this
        summary are left out.

    Examples
    --------
    >>> s = {"scenario": "irm-galvanostatic", "echem": {"galvanostatic": {
    ...     "E_nuc_V": -0.058, "E_nuc_V_err": 0.002, "t_nuc_s": 17.7}}}
    >>> [(h["label"], h["value"], h["err"], h["unit"]) for h in headline_values(s)]
    [('E_nuc', -0.058, 0.002, 'V'), ('t_nuc', 17.7, None, 's')]
    """
    name = scenario or str(summary.get("scenario") or "")
    spec: Sequence[tuple[str, str | None]] = HEADLINES.get(name) or _fallback(summary)
    out = []
    for path, label in spec:
        item = _item(summary, path, label)
        if item is not None:
            out.append(item)
    return out[:MAX_ITEMS]
