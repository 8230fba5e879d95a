"""Pipeline hooks: stripping limits from a measured D, Scharifker–Hills on a CA record.

Both hooks follow the runner conventions of :mod:`platescope.pipeline._common`: they
write through ``out`` (a :class:`~platescope.pipeline._outputs.StagedOutput`), fill
``summary`` in place, record their parameters under ``summary["parameters"]`` and pass
each result dict through :func:`expand_errors` exactly once (1σ in, k = 2 out).

- :func:`stripping_analyses` (called by the ``sims-diffusion`` runner with the measured
  Li diffusivity): ``summary["i_crit_uA_cm2"]``, ``summary["i_crit_err_uA_cm2"]`` and
  ``summary["stripping"]``; tables ``stripping_sand.csv``, ``stripping_void_model.csv``;
  figures ``stripping_i_crit.png``, ``stripping_sand.png``, ``stripping_void_model.png``.
- :func:`chronoamperometry_analyses` (any runner with a potentiostatic record):
  ``summary["echem"]["scharifker_hills"]``; table ``scharifker_hills.csv``; figure
  ``scharifker_hills.png``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.pipeline._common import expand_errors

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

STRIPPING_DEFAULTS: dict[str, Any] = {
    "j_min_mA_cm2": 0.01,
    "j_max_mA_cm2": 10.0,
    "n_currents": 40,
    "x_mg": 0.0,
    "void_morphology": "li_metal",
    "a_fail": 0.1,
    "anchor_D_cm2_s": 1e-11,
    "anchor_i_uA_cm2": 50.0,
}
"""``[analysis.stripping]`` keys: current grid (mA cm⁻²), Mg fraction of the measured
electrode (sets its Li concentration), which void morphology ("li_metal" or "li_mg")
the measured D is run with in the void model, its failure contact fraction, and the
anchor of the i_crit ∝ √D law."""

CHRONOAMPEROMETRY_DEFAULTS: dict[str, Any] = {
    "area_cm2": None,
    "concentration_mol_cm3": None,
    "z": 1,
    "molar_volume_cm3_mol": 13.0,
    "fit_max_t_over_tm": 4.0,
    "min_points": 8,
    "step_threshold_V": 0.02,
    "gap_factor": 10.0,
}
"""``[analysis.chronoamperometry]`` keys: electrode area (cm²; default the record's
``electrode_area_cm2`` attribute), bulk concentration of the depositing ion (mol cm⁻³) — both
needed for D and N₀ —, its charge, the deposit's molar volume (cm³ mol⁻¹), the fit
window (in t_m), the fewest samples per step, and how steps are split (a potential jump
above ``step_threshold_V`` or a time gap above ``gap_factor`` × the median interval)."""

_REPORT_J = (0.1, 1.0)


def _merge(defaults: Mapping[str, Any], params: Mapping[str, Any] | None, name: str) -> dict:
    p = dict(defaults)
    if params:
        unknown = set(params) - set(p)
        if unknown:
            raise InputError(
                None,
                f"[analysis.{name}] has unknown key(s) {', '.join(sorted(unknown))}",
                f"use only {', '.join(sorted(p))}",
            )
        p.update(params)
    return p


def _bad_param(name: str, key: str, problem: str, fix: str):
    return InputError(None, f"[analysis.{name}] {key} {problem}", fix)


def _check_stripping_params(p: dict) -> None:
    def pos(key):
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v <= 0:
            raise _bad_param("stripping", key, f"must be a positive number, got {v!r}", "fix it")

    for key in ("j_min_mA_cm2", "j_max_mA_cm2", "anchor_D_cm2_s", "anchor_i_uA_cm2"):
        pos(key)
    if p["j_max_mA_cm2"] <= p["j_min_mA_cm2"]:
        raise _bad_param(
            "stripping", "j_max_mA_cm2", "must exceed j_min_mA_cm2", "give j_min < j_max"
        )
    if not isinstance(p["n_currents"], int) or not 3 <= p["n_currents"] <= 400:
        raise _bad_param(
            "stripping",
            "n_currents",
            f"must be an integer 3–400, got {p['n_currents']!r}",
            "fix it",
        )
    if not isinstance(p["x_mg"], int | float) or not 0 <= p["x_mg"] < 1:
        raise _bad_param("stripping", "x_mg", f"must be in [0, 1), got {p['x_mg']!r}", "fix it")
    if p["void_morphology"] not in ("li_metal", "li_mg"):
        raise _bad_param(
            "stripping",
            "void_morphology",
            f"must be 'li_metal' or 'li_mg', got {p['void_morphology']!r}",
            "choose one of them",
        )
    if not isinstance(p["a_fail"], int | float) or not 0 < p["a_fail"] < 1:
        raise _bad_param("stripping", "a_fail", f"must be in (0, 1), got {p['a_fail']!r}", "fix it")


def _crossover(j: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> float | None:
    """Current where log(q1/q2) changes sign (log-interpolated), or None."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(q1 / q2)
    ok = np.isfinite(r)
    j, r = j[ok], r[ok]
    s = np.flatnonzero(np.sign(r[:-1]) * np.sign(r[1:]) < 0)
    if s.size == 0:
        return None
    k = int(s[0])
    lj = np.log(j[k]) + (np.log(j[k + 1]) - np.log(j[k])) * r[k] / (r[k] - r[k + 1])
    return float(np.exp(lj))


def _at(tab: pd.DataFrame, material: str, j: float) -> float | None:
    g = tab[tab["material"] == material].sort_values("j_mA_cm2")
    if g.empty or not g["j_mA_cm2"].min() <= j <= g["j_mA_cm2"].max():
        return None
    v = np.interp(np.log(j), np.log(g["j_mA_cm2"]), np.log(g["capacity_mAh_cm2"]))
    return float(np.exp(v)) if np.isfinite(v) else None


def stripping_analyses(
    D_cm2_s, D_err_cm2_s, out, summary: dict, *, params: Mapping[str, Any] | None = None
) -> None:
    """Stripping limits of the measured electrode from its Li diffusivity.

    Parameters
    ----------
    D_cm2_s : float or None
        Measured Li diffusivity, cm² s⁻¹ (None/NaN/≤ 0: nothing is computed, the summary
        says why).
    D_err_cm2_s : float or None
        Its standard (1σ) error, cm² s⁻¹.
    out : StagedOutput
        Where tables and figures go.
    summary : dict
        Filled in place: ``i_crit_uA_cm2``, ``i_crit_err_uA_cm2`` (k = 2),
        ``stripping`` and ``parameters.stripping``.
    params : mapping, optional
        ``[analysis.stripping]`` overrides of :data:`STRIPPING_DEFAULTS`.

    Raises
    ------
    InputError
        Unknown or invalid ``[analysis.stripping]`` keys.
    """
    from platescope import models, report

    p = _merge(STRIPPING_DEFAULTS, params, "stripping")
    _check_stripping_params(p)
    summary.setdefault("parameters", {})["stripping"] = p
    D = None if D_cm2_s is None else float(D_cm2_s)
    if D is None or not np.isfinite(D) or D <= 0:
        reason = f"no usable Li diffusivity (D = {D_cm2_s!r})"
        summary["i_crit_uA_cm2"] = None
        summary["i_crit_err_uA_cm2"] = None
        summary["stripping"] = {"reason": reason}
        summary.setdefault("skipped", []).append({"analysis": "stripping", "reason": reason})
        return
    De = None
    if D_err_cm2_s is not None and np.isfinite(float(D_err_cm2_s)) and float(D_err_cm2_s) >= 0:
        De = float(D_err_cm2_s)

    ic = models.critical_stripping_current(
        D,
        D_err_cm2_s=De,
        anchor_D_cm2_s=float(p["anchor_D_cm2_s"]),
        anchor_i_uA_cm2=float(p["anchor_i_uA_cm2"]),
    )
    c = models.li_concentration_mol_cm3(float(p["x_mg"]))
    j = np.geomspace(p["j_min_mA_cm2"], p["j_max_mA_cm2"], int(p["n_currents"]))
    j = np.unique(np.concatenate([j, [v for v in _REPORT_J if j[0] <= v <= j[-1]]]))
    t_star = np.asarray(models.sand_time_solid(j, D_cm2_s=D, c_mol_cm3=c))
    q_star = np.asarray(models.sand_capacity_solid(j, D_cm2_s=D, c_mol_cm3=c))
    rel = (De / D) if De is not None else np.nan  # t*, Q* ∝ D
    sand_tab = pd.DataFrame(
        {
            "j_mA_cm2": j,
            "t_star_s": t_star,
            "t_star_err_s": t_star * rel,  # 1σ, from D only
            "Q_star_mAh_cm2": q_star,
            "Q_star_err_mAh_cm2": q_star * rel,
        }
    )
    sand_path = out.table(
        "stripping_sand",
        sand_tab,
        title="Diffusion-limited (Sand) stripping time and capacity of the measured electrode "
        "(errors from D)",
        errors="1sigma",
    )

    preset = models.LI_METAL if p["void_morphology"] == "li_metal" else models.LI_MG_10
    measured = replace(preset, name="measured D", D_cm2_s=D, c_mol_cm3=c)
    mats = [measured, models.LI_METAL, models.LI_MG_10]
    void_tab = models.void_model_capacity(j, mats, a_fail=float(p["a_fail"]))
    void_path = out.table(
        "stripping_void_model",
        void_tab,
        title="Capacity before contact failure in the 1-D void model (measured D and the "
        "paper's two materials)",
    )
    li, mg = models.LI_METAL.name, models.LI_MG_10.name
    q_li = void_tab[void_tab.material == li]["capacity_mAh_cm2"].to_numpy(float)
    q_mg = void_tab[void_tab.material == mg]["capacity_mAh_cm2"].to_numpy(float)
    ratio = {}
    for jr in _REPORT_J:
        a, b = _at(void_tab, mg, jr), _at(void_tab, li, jr)
        ratio[f"{jr:g}"] = None if a is None or b is None else a / b

    result = {
        "i_crit_uA_cm2": ic["i_crit_uA_cm2"],
        "i_crit_err_uA_cm2": ic["i_crit_err_uA_cm2"],
        "stripping": {
            "D_cm2_s": D,
            "D_err_cm2_s": De,
            "i_crit_uA_cm2": ic["i_crit_uA_cm2"],
            "i_crit_err_uA_cm2": ic["i_crit_err_uA_cm2"],
            "i_crit_model_interval_uA_cm2": ic["i_crit_model_interval_uA_cm2"],
            "i_crit_model": "defect relaxation (Schmalzried & Janek): i_crit ∝ √D, "
            "anchored at the band Siniscalchi et al. 2022 quote",
            "constant": ic["constant"],
            "assumptions": ic["assumptions"],
            "c_Li_mol_cm3": c,
            "c_Li_source": "c = (1 − x_Mg)/13.0 cm³ mol⁻¹ (Li molar volume; β-Li–Mg atomic "
            "volume taken equal to Li's)",
            "sand": {
                "relation": "t* = πD(zFc)²/(4j²), Q* = πD(zFc)²/(4j)",
                "table": sand_path,
                "at": [
                    {
                        "j_mA_cm2": float(jr),
                        "t_star_s": float(sand_tab.t_star_s[sand_tab.j_mA_cm2 == jr].iloc[0]),
                        "t_star_err_s": float(
                            sand_tab.t_star_err_s[sand_tab.j_mA_cm2 == jr].iloc[0]
                        ),
                        "Q_star_mAh_cm2": float(
                            sand_tab.Q_star_mAh_cm2[sand_tab.j_mA_cm2 == jr].iloc[0]
                        ),
                        "Q_star_err_mAh_cm2": float(
                            sand_tab.Q_star_err_mAh_cm2[sand_tab.j_mA_cm2 == jr].iloc[0]
                        ),
                    }
                    for jr in _REPORT_J
                    if jr in set(sand_tab.j_mA_cm2)
                ],
            },
            "void_model": {
                "table": void_path,
                "a_fail": float(p["a_fail"]),
                "materials": [m.as_dict() for m in mats],
                "measured_capacity_mAh_cm2_at": {
                    f"{jr:g}": _at(void_tab, "measured D", jr) for jr in _REPORT_J
                },
                "paper_materials_crossover_j_mA_cm2": _crossover(j, q_li, q_mg),
                "paper_materials_ratio_LiMg_over_Li_at": ratio,
                "note": "illustrative morphology parameters (void_fraction, void_height_um, "
                "a_fail) — the paper gives none; see docs/stripping_limits.md",
            },
        },
    }
    result = expand_errors(result)  # 1σ → k = 2, once
    summary["i_crit_uA_cm2"] = result["i_crit_uA_cm2"]
    summary["i_crit_err_uA_cm2"] = result["i_crit_err_uA_cm2"]
    summary["stripping"] = result["stripping"]

    points = [
        {"label": "measured", "D_cm2_s": D, "D_err_cm2_s": De, "measured": True},
        {"label": "paper Li (D* = 1.6×10⁻¹⁰)", "D_cm2_s": 1.6e-10},
        {"label": "paper Li₀.₉Mg₀.₁ (2.4×10⁻¹¹)", "D_cm2_s": 2.4e-11},
    ]
    out.figure(
        "stripping_i_crit",
        report.fig_critical_current(points),
        title="Critical stripping current vs Li diffusivity",
        caption="Defect-relaxation scaling i_crit ∝ √D anchored at the paper's band "
        "(dashed box: D = 10⁻¹¹–10⁻¹⁰ cm² s⁻¹ ↔ 50–200 µA cm⁻²); shaded: the same law "
        "anchored at the band's other end. Error bars are ≈95 % (k = 2).",
    )
    out.figure(
        "stripping_sand",
        report.fig_sand_limits(
            j,
            [
                {"label": "measured", "D_cm2_s": D, "c_mol_cm3": c},
                {"label": "Li", "D_cm2_s": 1.6e-10, "c_mol_cm3": models.LI_METAL.c_mol_cm3},
                {"label": "Li₀.₉Mg₀.₁", "D_cm2_s": 2.4e-11, "c_mol_cm3": models.LI_MG_10.c_mol_cm3},
            ],
        ),
        title="Diffusion-limited stripping (Sand form)",
        caption="Capacity Q* and time t* at which bulk diffusion empties the interface of a "
        "semi-infinite solid stripped at constant j; dotted lines at 0.1 and 1 mA cm⁻².",
    )
    out.figure(
        "stripping_void_model",
        report.fig_void_capacity(void_tab),
        title="Stripped capacity with contact loss by voids",
        caption="1-D void model (docs/stripping_limits.md): capacity before the contact "
        "fraction falls to a_fail; dashed: Sand limit without voids. Li metal is ahead at "
        "high j (faster diffusion), Li–Mg at low j (it keeps contact).",
    )


# --------------------------------------------------------------------------- CA
def _segments(t: np.ndarray, E: np.ndarray | None, step_V: float, gap_factor: float):
    """(start, stop, t_step) of each potentiostatic step in a record."""
    n = t.size
    if n < 2:
        return [(0, n, float(t[0]) if n else 0.0)]
    dt = np.diff(t)
    pos = dt[dt > 0]
    med = float(np.median(pos)) if pos.size else 0.0
    gap = dt > gap_factor * med if med > 0 else np.zeros(n - 1, bool)
    jump = np.abs(np.diff(E)) > step_V if E is not None else np.zeros(n - 1, bool)
    cuts = np.flatnonzero(gap | jump) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [n]])
    segs = []
    for a, b in zip(starts, stops, strict=True):
        # a potential jump inside a continuous record: the step happened after the last
        # sample at the old potential; otherwise the technique starts at the first sample
        if a > 0 and jump[a - 1] and not gap[a - 1]:
            t_step = float(t[a - 1])
        else:
            t_step = float(t[a]) - 1e-12 * max(1.0, abs(float(t[a])))
        segs.append((int(a), int(b), t_step))
    return segs


def chronoamperometry_analyses(
    echem: pd.DataFrame, out, summary: dict, *, params: Mapping[str, Any] | None = None
) -> None:
    """Scharifker–Hills analysis of every potentiostatic step of a record.

    Parameters
    ----------
    echem : pandas.DataFrame
        Record with ``time_s`` and ``current_A`` (``potential_V`` optional: splits steps);
        ``attrs["electrode_area_cm2"]`` is used when ``area_cm2`` is not given.
    out : StagedOutput
        Where the table and figure go.
    summary : dict
        Filled in place: ``echem.scharifker_hills`` and ``parameters.chronoamperometry``.
    params : mapping, optional
        ``[analysis.chronoamperometry]`` overrides of :data:`CHRONOAMPEROMETRY_DEFAULTS`.

    Raises
    ------
    InputError
        The record lacks the columns, or a parameter is unknown or invalid.
    """
    from platescope import models, report

    p = _merge(CHRONOAMPEROMETRY_DEFAULTS, params, "chronoamperometry")
    src = echem.attrs.get("source") if hasattr(echem, "attrs") else None
    missing = [c for c in ("time_s", "current_A") if c not in echem.columns]
    if missing:
        raise InputError(
            src,
            f"the record has no {', '.join(missing)} column",
            "give a chronoamperometry record with time and current",
        )
    for key in ("area_cm2", "concentration_mol_cm3"):
        v = p[key]
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise _bad_param("chronoamperometry", key, f"must be positive, got {v!r}", "fix it")
    summary.setdefault("parameters", {})["chronoamperometry"] = p
    area = p["area_cm2"] or echem.attrs.get("electrode_area_cm2") or echem.attrs.get("area_cm2")
    conc = p["concentration_mol_cm3"]
    t = echem["time_s"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    E = echem["potential_V"].to_numpy(float) if "potential_V" in echem.columns else None
    ok = np.isfinite(t) & np.isfinite(i)
    t, i = t[ok], i[ok]
    E = E[ok] if E is not None else None
    if t.size and np.any(np.diff(t) <= 0):
        raise InputError(src, "the record's time stamps do not increase", "sort or re-export it")
    rows, fits = [], []
    for k, (a, b, t_step) in enumerate(_segments(t, E, p["step_threshold_V"], p["gap_factor"])):
        if b - a < p["min_points"]:
            continue
        fit = models.scharifker_hills_fit(
            t[a:b],
            i[a:b],
            t_step_s=t_step,
            fit_max_t_over_tm=p["fit_max_t_over_tm"],
            min_points=p["min_points"],
        )
        row: dict[str, Any] = {
            "segment": k,
            "t_start_s": float(t[a]),
            "t_end_s": float(t[b - 1]),
            "E_mean_V": float(np.mean(E[a:b])) if E is not None else None,
            "n_points": int(b - a),
            "nucleation_transient": fit["nucleation_transient"],
            "reason": fit["reason"],
            "mechanism": fit["mechanism"],
            "ambiguous": fit.get("ambiguous"),
            "rss_ratio": fit.get("rss_ratio"),
            "I_m_A": fit["I_m_A"],
            "I_m_err_A": fit.get("I_m_err_A"),
            "t_m_s": fit["t_m_s"],
            "t_m_err_s": fit.get("t_m_err_s"),
            "t_step_s": t_step,
        }
        if fit["nucleation_transient"] and area and conc:
            prm = models.scharifker_hills_parameters(
                fit["I_m_A"] / area,
                fit["t_m_s"],
                mechanism=fit["mechanism"],
                c_mol_cm3=conc,
                z=int(p["z"]),
                molar_volume_cm3_mol=float(p["molar_volume_cm3_mol"]),
                i_m_err_A_cm2=fit["I_m_err_A"] / area,
                t_m_err_s=fit["t_m_err_s"],
            )
            row.update({k2: v for k2, v in prm.items()})
        elif fit["nucleation_transient"]:
            row["D_cm2_s"] = None
            row["D_cm2_s_reason"] = (
                "D and the nucleation density need the electrode area and the bulk "
                "concentration ([analysis.chronoamperometry] area_cm2, concentration_mol_cm3)"
            )
        rows.append(row)
        fits.append((a, b, fit))
    n_tr = sum(bool(r["nucleation_transient"]) for r in rows)
    res: dict[str, Any] = {
        "n_steps": len(rows),
        "n_nucleation_transients": n_tr,
        "area_cm2": area,
        "concentration_mol_cm3": conc,
        "steps": rows,
    }
    if not rows:
        res["reason"] = f"no potentiostatic step with ≥ {p['min_points']} samples"
    elif n_tr == 0:
        res["reason"] = "no step shows a current maximum: not a nucleation transient"
    summary.setdefault("echem", {})["scharifker_hills"] = expand_errors(res)
    if rows:
        out.table(
            "scharifker_hills",
            pd.DataFrame([{k2: v for k2, v in r.items() if not isinstance(v, dict)} for r in rows]),
            title="Scharifker–Hills analysis per potentiostatic step",
            errors="1sigma",
        )
        a, b, fit = next(((a, b, f) for a, b, f in fits if f["nucleation_transient"]), fits[0])
        out.figure(
            "scharifker_hills",
            report.fig_scharifker_hills(t[a:b], i[a:b], fit),
            title="Potentiostatic transient vs Scharifker–Hills",
            caption="(I/I_m)² against t/t_m with the instantaneous and progressive curves; "
            "I_m and t_m from least-squares fits after the double-layer decay. A record "
            "without a current maximum is shown raw with the reason.",
        )
