"""Summary keys → labels, units and their uncertainty companions (DESIGN.md §2-3).

Units come from key suffixes (``_V``, ``_s``, ``_nm``, ``_cm2`` …; a density per area
gets the inverse area unit, ``_per_s`` a rate), labels and meanings from a short table
of known stems, and a value's uncertainty from its ``*_err`` companion key. Shared by
the HTML report and the headline numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# key suffix → unit text; longest first (matched after stripping a statistic suffix)
_UNITS: tuple[tuple[str, str], ...] = (
    ("_uAh_cm2", "µAh cm⁻²"),
    ("_mAh_cm2", "mAh cm⁻²"),
    ("_mA_cm2", "mA cm⁻²"),
    ("_uA_cm2", "µA cm⁻²"),
    ("_nA_cm2", "nA cm⁻²"),
    ("_A_cm2", "A cm⁻²"),
    ("_mC_cm2", "mC cm⁻²"),
    ("_C_cm2", "C cm⁻²"),
    ("_cm2_s", "cm² s⁻¹"),
    ("_cm3_mol", "cm³ mol⁻¹"),
    ("_mV_s", "mV s⁻¹"),
    ("_V_s", "V s⁻¹"),
    ("_nm_h", "nm h⁻¹"),
    ("_um_s", "µm s⁻¹"),
    ("_mol_cm3", "mol cm⁻³"),
    ("_mol_L", "mol L⁻¹"),
    ("_um_inv", "µm⁻¹"),
    ("_nm_inv", "nm⁻¹"),
    ("_um3", "µm³"),
    ("_nm3", "nm³"),
    ("_um2", "µm²"),
    ("_nm2", "nm²"),
    ("_cm2", "cm²"),  # cm⁻² for densities, see _unit_of
    ("_uAh", "µAh"),
    ("_mAh", "mAh"),
    ("_fmol", "fmol"),
    ("_pmol", "pmol"),
    ("_nmol", "nmol"),
    ("_mol", "mol"),
    ("_mV", "mV"),
    ("_V", "V"),
    ("_mA", "mA"),
    ("_uA", "µA"),
    ("_nA", "nA"),
    ("_A", "A"),
    ("_uC", "µC"),
    ("_mC", "mC"),
    ("_C", "C"),
    ("_ms", "ms"),
    ("_s", "s"),
    ("_min", "min"),
    ("_h", "h"),
    ("_nm", "nm"),
    ("_um", "µm"),
    ("_mm", "mm"),
    ("_px", "px"),
    ("_pct", "%"),
    ("_percent", "%"),
    ("_deg", "°"),
    ("_K", "K"),
    ("_degC", "°C"),
    ("_Hz", "Hz"),
)
_AREAS = {"_cm2": "cm⁻²", "_um2": "µm⁻²", "_nm2": "nm⁻²", "_mm2": "mm⁻²"}
_INVERSE = {"²": "⁻²", "³": "⁻³"}


def _per_unit(unit: str) -> str:
    """``s`` → ``s⁻¹``, ``cm²`` → ``cm⁻²`` (the unit of "per <unit>")."""
    if " " in unit:
        return f"({unit})⁻¹"
    if unit and unit[-1] in _INVERSE:
        return unit[:-1] + _INVERSE[unit[-1]]
    return unit + "⁻¹"


_STATS = ("_mean", "_sd", "_median", "_min", "_max", "_std")

# stem → (label, short meaning)
_NICE: dict[str, tuple[str, str]] = {
    "E_nuc": ("E_nuc", "nucleation potential (minimum of E)"),
    "t_nuc": ("t_nuc", "electrochemical nucleation time"),
    "Q_nuc": ("Q_nuc", "charge passed up to nucleation"),
    "E_growth": ("E_growth", "growth plateau potential"),
    "eta_nuc": ("η_nuc", "nucleation overpotential E_growth − E_nuc"),
    "nucleated": ("nucleated", "a nucleation minimum was found"),
    "t_nuc_irm": ("t_nuc(IRM)", "optical nucleation time (max of dI/dt)"),
    "complementarity_r": ("complementarity r", "correlation of the complementary maps"),
    "count": ("count", ""),
    "density": ("density", "particles per area"),
    "mean_diameter": ("mean diameter", "equivalent-circle diameter"),
    "sd_diameter": ("diameter sd", "spread of the diameters"),
    "deposited_Li": ("deposited Li", "Σ sphere volumes / V_M(Li)"),
    "faradaic_efficiency": ("faradaic efficiency", "n_Li·F / Q"),
    "clark_evans_R": ("Clark–Evans R", "<1 clustered, 1 random, >1 ordered"),
    "p_value": ("p-value", ""),
    "r2": ("R²", "coefficient of determination"),
    "R2": ("R²", "coefficient of determination"),
    "CE": ("CE", "coulombic efficiency Q_a/Q_c"),
    "Q_c": ("Q_c", "cathodic charge"),
    "Q_a": ("Q_a", "anodic charge"),
    "sims_D": ("D (SIMS)", "tracer diffusion coefficient"),
    "D": ("D", "tracer diffusion coefficient"),
    "i_crit": ("i_crit", "critical stripping current density"),
    "offset": ("offset", "potentiostat t = 0 on the movie clock (t_echem = t_movie − offset)"),
    "method": ("method", ""),
    "alpha": ("α", "IRM signal per equivalent Li thickness"),
    "value": ("value", ""),
    "intercept": ("intercept", ""),
    "n_points_used": ("points used", ""),
    "anneal_time": ("anneal time", ""),
    "x_end": ("x at end", "Li content x at the end of the stage"),
    "E_mean": ("mean E", ""),
    "t_start": ("start", ""),
    "t_end": ("end", ""),
    "t50": ("t₅₀", "time to half of the change"),
    "area_fraction": ("area fraction", ""),
    "current_density": ("j", "current density"),
    "n_nucleated": ("n nucleated", "repeats that reached E_nuc"),
    "n": ("n", ""),
    "pearson_r": ("Pearson r", ""),
}
_FRACTIONS = {"faradaic_efficiency", "CE", "area_fraction"}


def _split_key(key: str) -> tuple[str, str, str, str]:
    """``key`` → (stem, unit suffix as written, unit text, statistic)."""
    stat = ""
    base = key
    for s in _STATS:
        if base.endswith(s) and len(base) > len(s):
            stat, base = s[1:], base[: -len(s)]
            break
    for suffix, unit in _UNITS:
        if base.endswith(suffix) and len(base) > len(suffix):
            stem = base[: -len(suffix)]
            if suffix in _AREAS and "density" in stem.lower():
                unit = _AREAS[suffix]  # a number per area: cm⁻², µm⁻²
            elif stem.endswith("_per"):  # spots_per_s: a rate, s⁻¹
                stem, unit = stem[: -len("_per")] + "_rate", _per_unit(unit)
            return stem, suffix, unit, stat
    if "_per_" in base:  # slope_V_per_half_cycle: V per half cycle
        head, _, tail = base.partition("_per_")
        for suffix, unit in _UNITS:
            if head.endswith(suffix) and len(head) > len(suffix):
                return head[: -len(suffix)], "", f"{unit} per {tail.replace('_', ' ')}", stat
    if stat and not base.endswith("_"):
        return base, "", "", stat
    return key, "", "", ""


def _label(key: str) -> tuple[str, str, str]:
    """(label, unit, meaning) for a summary key."""
    stem, _suffix, unit, stat = _split_key(key)
    label, what = _NICE.get(stem, ("", ""))
    if not label:
        parts = stem.split("_")
        # symbols such as E_nuc, i_crit keep their underscore; words are spaced
        label = stem if len(parts[0]) <= 1 else stem.replace("_", " ")
    if stat:
        label = f"{label} ({stat})"
    return label, unit, what


def _err_keys(key: str) -> list[str]:
    stem, suffix, _unit, stat = _split_key(key)
    if stat:
        return [f"{key}_err", f"{stem}_{stat}_err{suffix}"]
    return [f"{key}_err", f"{stem}_err{suffix}"]


def _ci_keys(key: str) -> list[str]:
    stem, suffix, _unit, _stat = _split_key(key)
    return [f"{key}_ci95", f"{stem}_ci95{suffix}"]


def _find_err(d: Mapping[str, Any], key: str) -> tuple[str | None, Any]:
    for k in _err_keys(key):
        if k != key and k in d:
            return k, d[k]
    if _split_key(key)[3] == "mean":
        sd_key = key[: -len("_mean")] + "_sd"
        if sd_key in d:
            return sd_key, d[sd_key]
    return None, None


def _reason_for(d: Mapping[str, Any], key: str) -> str | None:
    stem = _split_key(key)[0]
    for k in (f"{key}_reason", f"{stem}_reason"):
        if isinstance(d.get(k), str):
            return d[k]
    reasons = d.get("reasons")
    if isinstance(reasons, Mapping) and isinstance(reasons.get(key), str):
        return reasons[key]
    if isinstance(d.get("reason"), str):
        return d["reason"]
    return None


def _is_value_dict(v: Any) -> bool:
    return isinstance(v, Mapping) and "value" in v and not isinstance(v.get("value"), Mapping)
