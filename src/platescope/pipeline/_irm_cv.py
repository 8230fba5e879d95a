"""Scenario ``irm-cv``: SECCM cyclic voltammetry of Li plating/stripping with IRM (SCIENCE.md §2).

Steps, each run when its inputs exist (otherwise recorded in ``skipped``):

1. echem → cycles (``cycle`` column, CV turning points or current sign changes) →
   per-cycle Q_c, Q_a, CE (± 1σ) and CV features (cathodic onset, anodic peaks, the
   plating → stripping switch);
2. movie → clock sync, footprint, drift correction and landing subtraction (shared with
   ``irm-galvanostatic``: :func:`platescope.pipeline._irm_galvanostatic._movie_on_echem_clock`)
   → IRM signal vs cumulative net charge (α) → per-cycle I_c, I_a maps → CE calibration
   CE = a·(I_a/I_c) + b on the footprint average → per-cycle CE(IRM) maps and histograms
   → residual (inactive) deposit map.
"""

from __future__ import annotations

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.pipeline._common import (
    analysis_params,
    ce_headline,
    cycle_rows,
    cycles_meta,
    expand_errors,
    num_or_none,
    read_echem_section,
)
from platescope.pipeline._irm_galvanostatic import IRM_REGISTRATION, _movie_on_echem_clock
from platescope.pipeline._scenarios import Scenario, run_step
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    echem_context,
)

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")
_ce_map = lazy_module("platescope.optics._ce_map")
_integrate = lazy_module("scipy.integrate")

DEFAULTS = {
    "cycles": {
        "by": "auto",
        "first_half": "auto",
        "onset_fraction": 0.1,
        "peak_prominence_fraction": 0.05,
    },
    "irm": {"footprint_sigma_um": 0.2},
    "ce_irm": {"window_s": 2.0, "sigma_um": 0.5, "min_ic_fraction": 0.2},
}


def _params(exp, name):
    return analysis_params(exp, name, DEFAULTS[name])


_finite_or_none = num_or_none


def _echem_analyses(echem, steps, p, out, summary):
    from platescope import echem as echem_mod
    from platescope import report

    cyc = echem_mod.cycle_charges(echem, by=p["by"], first_half=p["first_half"], steps=steps)
    if not cyc["complete"].any():
        raise InputError(
            cyc.attrs.get("source"),
            "the record holds no complete plating→stripping cycle ("
            + "; ".join(str(r) for r in cyc["incomplete_reason"].dropna().unique()[:2])
            + ")",
            "give a cycling record (CV or galvanostatic cycles with their stripping halves)",
        )
    feats = echem_mod.cv_features(
        echem,
        cycles=cyc,
        steps=steps,
        onset_fraction=p["onset_fraction"],
        peak_prominence_fraction=p["peak_prominence_fraction"],
    )
    # the shared echem.cycles[] row schema (pipeline/_common.cycle_rows) + CV features
    rows = cycle_rows(cyc)
    for row, (_, f) in zip(rows, feats.iterrows(), strict=True):
        row.update(
            {
                "E_onset_c_V": num_or_none(f["E_onset_c_V"]),
                "E_onset_c_err_V": num_or_none(f["E_onset_c_err_V"]),
                "E_peak_a_V": num_or_none(f["E_peak_a_V"]),
                "E_peak_a_err_V": num_or_none(f["E_peak_a_err_V"]),
                "E_peaks_a_V": list(f["E_peaks_a_V"]),
                "t_switch_s": num_or_none(f["t_switch_s"]),
            }
        )
        if f["reason"]:
            row["features_reason"] = f["reason"]
    ech = summary.setdefault("echem", {})
    ech["cycles"] = expand_errors(rows)
    ech.update(cycles_meta(cyc))
    table = cyc.merge(feats.drop(columns=["E_peaks_a_V", "reason"]), on="cycle")
    out.table("cycles", table, title="Per-cycle charges, CE and CV features", errors="1sigma")
    out.figure(
        "cv_cycles",
        report.fig_cv_cycles(echem, cyc),
        title="Cyclic voltammograms",
        caption="Current vs potential, one colour per cycle (the colour bar gives the cycle).",
    )
    out.figure(
        "cycle_charges",
        report.fig_cycle_charges(cyc),
        title="Charges and Coulombic efficiency per cycle",
        caption="Top: CE = Q_a/Q_c. Bottom: cathodic and anodic charge. Error bars are "
        "≈95 % intervals (2σ from the white current noise).",
    )
    headline = ce_headline(rows)
    summary["headline"] = headline or "no complete cycle with a Coulombic efficiency"
    cyc = cyc.assign(t_switch_s=feats["t_switch_s"].to_numpy(float))
    return cyc


def _irm_analyses(irm, echem, cyc, area, p, out, summary):
    from platescope import optics, report

    sub, mask = irm["sub"], irm["mask_np"]
    t_f = irm["t_s"]
    skipped = summary["skipped"]
    # IRM ↔ cumulative net charge (cathodic positive): Fig. 2c of the paper
    t_e = echem["time_s"].to_numpy(float)
    i_e = echem["current_A"].to_numpy(float)
    q_net = -_integrate.cumulative_trapezoid(i_e, t_e, initial=0.0)
    in_rec = (t_f >= t_e[0]) & (t_f <= t_e[-1])
    q_frames = np.interp(t_f, t_e, q_net)
    optics_out: dict = {}
    alpha = None
    if area and in_rec.sum() >= 3:
        alpha = optics.alpha_fit(irm["mean"][in_rec], q_frames[in_rec], area_cm2=area)
        optics_out["alpha"] = {k: v for k, v in alpha.items() if k not in ("h_eq_nm", "used")}
        optics_out["alpha"]["definition"] = (
            "footprint-mean IRM signal vs h_eq of the cumulative net cathodic charge"
        )
    out.figure(
        "irm_charge",
        report.fig_irm_charge(t_f[in_rec], irm["mean"][in_rec], q_frames[in_rec]),
        title="IRM signal and cumulative charge",
        caption=f"Footprint-mean IRM signal ({irm['reference']} subtracted) and the cumulative net "
        "cathodic charge over the experiment: the signal rises on plating, falls on stripping "
        "and ratchets up with the inactive deposit.",
    )
    covered = _ce_map._cycles_in_movie(cyc, sub.t.values, p["window_s"])
    if len(covered) < len(cyc):
        missing = sorted(set(cyc["cycle"]) - set(covered["cycle"]))
        skipped.append(
            {"analysis": "optics.ce_irm", "reason": f"cycles {missing} are outside the movie"}
        )
    if len(covered) == 0:
        summary["optics"] = expand_errors(optics_out)
        return
    changes = optics.ce_intensity_changes(
        sub,
        covered,
        mask=mask,
        window_s=p["window_s"],
        sigma_um=p["sigma_um"],
        # computed in prepare_irm's single pass (switch times known): no read here
        window_images=irm.get("ce_window_images"),
    )
    ratio = changes["ratio"].values
    ce = covered["CE"].to_numpy(float)
    cal = optics.ce_calibration(ratio, ce)
    optics_out["ce_calibration"] = {
        **cal,
        "definition": "CE = slope·(I_a/I_c) + intercept, footprint averages, one point per cycle",
    }
    out.table(
        "ce_calibration_points",
        pd.DataFrame(
            {
                "cycle": covered["cycle"].to_numpy(),
                "I_c_mean_counts": changes["I_c_mean"].values,
                "I_a_mean_counts": changes["I_a_mean"].values,
                "ratio_Ia_Ic": ratio,
                "CE": ce,
                "t_start_s": changes["t_start_s"].values,
                "t_switch_s": changes["t_switch_s"].values,
                "t_end_s": changes["t_end_s"].values,
            }
        ),
        title="Footprint-average IRM changes per cycle (calibration points)",
    )
    out.figure(
        "ce_calibration",
        report.fig_ce_calibration(ratio, ce, cal, cycles=covered["cycle"].to_numpy()),
        title="CE vs IRM intensity ratio",
        caption="Electrochemical CE against the footprint-average I_a/I_c per cycle, with "
        "the least-squares line used to turn per-pixel I_a/I_c into CE(IRM).",
    )
    px = irm["px_um"]
    ce_list = []
    if cal["slope"] is None:
        skipped.append({"analysis": "optics.ce_irm maps", "reason": cal["reason"]})
        optics_out["ce_irm"] = []
    else:
        maps = optics.apply_ce_calibration(changes, cal, min_ic_fraction=p["min_ic_fraction"])
        for k, c in enumerate(maps["cycle"].values):
            rel = out.map(f"ce_irm_cycle{int(c):02d}", maps.values[k], pixel_size_um=px)
            v = maps.values[k][np.isfinite(maps.values[k])]
            ce_list.append(
                {
                    "cycle": int(c),
                    "mean": float(v.mean()) if v.size else None,
                    "sd": float(v.std(ddof=1)) if v.size > 1 else None,
                    "median": float(np.median(v)) if v.size else None,
                    "n_pixels": int(v.size),
                    "n_excluded": int(maps.attrs["n_excluded"][k]),
                    "path": rel,
                }
            )
        optics_out["ce_irm"] = ce_list
        out.table("ce_irm_histograms", optics.ce_histograms(maps), title="CE(IRM) histograms")
        out.figure(
            "ce_irm_maps",
            report.fig_ce_maps(maps),
            title="CE(IRM) maps per cycle",
            caption=f"Per-pixel CE(IRM) inside the footprint (blur σ = {p['sigma_um']} µm, "
            f"{p['window_s']} s averaging windows), one shared colour scale; grey: outside "
            "the footprint or no deposit. Bottom: histograms of every cycle.",
        )
    resid = changes["residual"].values
    resid_counts = np.where(mask, resid, np.nan)
    rel_c = out.map("residual_deposit_counts", resid_counts, pixel_size_um=px)
    res_out = {
        "path_counts": rel_c,
        "mean_counts": float(np.nanmean(resid_counts)),
        "definition": "IRM signal after the last cycle minus before the first, blurred, footprint",
    }
    resid_nm = None
    if alpha is not None and alpha.get("value") and alpha["value"] > 0:
        resid_nm = resid_counts / alpha["value"]
        res_out["path"] = out.map("residual_deposit_nm", resid_nm, pixel_size_um=px)
        res_out["mean_nm"] = float(np.nanmean(resid_nm))
        res_out["max_nm"] = float(np.nanmax(resid_nm))
        res_out["units"] = "nm (equivalent thickness, counts / α)"
    else:
        res_out["path"] = rel_c
        res_out["reason_nm"] = "no α (IRM vs charge) to convert counts to thickness"
    optics_out["residual_deposit"] = res_out
    out.figure(
        "residual_deposit",
        report.fig_residual_map(
            resid_nm if resid_nm is not None else resid_counts,
            pixel_size_um=px,
            units="nm" if resid_nm is not None else "counts",
        ),
        title="Residual (inactive) deposit",
        caption="IRM signal left after the last stripping (relative to before the first "
        "plating), as equivalent deposit thickness; bright regions hold inactive Li.",
    )
    summary["optics"] = expand_errors(optics_out)
    if ce_list and "headline" in summary:
        summary["headline"] += f"; CE(IRM) calibration R² = {cal['r2']:.3f}"


def run(exp, out, summary: dict) -> None:
    """Run the ``irm-cv`` analyses and fill ``summary`` and ``out`` (a StagedOutput)."""

    skipped = summary["skipped"]
    params = summary["parameters"]
    area = exp.electrode.get("area_cm2")
    if not exp.echem:
        skipped.append({"analysis": "echem.cycles", "reason": "no [echem] input"})
        if exp.movie:
            skipped.append(
                {"analysis": "optics", "reason": "the CE(IRM) analysis needs the cycles"}
            )
        return
    echem = read_echem_section(exp)
    p_c = params.setdefault("cycles", _params(exp, "cycles"))
    for key, allowed in (
        ("by", ("auto", "steps", "cycle", "potential", "current")),
        ("first_half", ("auto", "cathodic", "anodic")),
    ):
        if p_c[key] not in allowed:
            raise InputError(
                exp.path,
                f"[analysis.cycles] {key} = {p_c[key]!r} is not one of {', '.join(allowed)}",
                f'write {key} = "auto" (or one of the others), or leave it out',
            )
    ctx = echem_context(echem)  # split into steps once: cycles, CV features, CA steps
    cyc = _echem_analyses(echem, ctx.steps, p_c, out, summary)
    run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx)
    if not exp.movie:
        skipped.append({"analysis": "optics", "reason": "no [movie] input"})
        return
    p_irm = params.setdefault("irm", _params(exp, "irm"))
    p_ce = params.setdefault("ce_irm", _params(exp, "ce_irm"))
    # the CE windows' instants are known from the echem: averaged in the same pass
    irm = _movie_on_echem_clock(
        exp, echem, p_irm, out, summary, ce_cycles=cyc, ce_window_s=p_ce["window_s"]
    )
    if not area:
        area = irm["area_cm2"]
    _irm_analyses(irm, echem, cyc, area, p_ce, out, summary)


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="irm-cv",
    title="SECCM cyclic voltammetry with IRM: per-cycle charges, CE, CE(IRM) maps",
    run=run,
    inputs=("echem", "movie"),
    analyses={
        **DEFAULTS,
        "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS,
        "registration": IRM_REGISTRATION,
    },
    simulator="platescope.simulate._irm_cv:irm_cv",
)
