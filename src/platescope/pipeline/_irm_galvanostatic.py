"""Scenario ``irm-galvanostatic``: SECCM/IRM galvanostatic Li nucleation (SCIENCE.md §2).

Steps, each run when its inputs exist (otherwise recorded in ``skipped``):

1. echem → galvanostatic features (E_nuc, t_nuc, Q_nuc, E_growth, η);
2. movie → clock sync → footprint mask from the landing step (→ area, current density;
   a movie with no frame before contact: from the deposition signal, or a circle of
   ``[electrode] area_cm2`` centred on it) → footprint-mean signal and its Savitzky–Golay derivative → t_nuc(IRM), per-region
   and per-pixel t_nuc(IRM) maps → α from signal vs equivalent Li thickness;
3. SEM → footprint (only when the image shows one, else the whole image) →
   particles → count, density, diameters (+ fit), deposited Li, faradaic efficiency,
   edge vs centre, objects excluded by the filters, and the deposit morphology
   (``particles.morphology``; counts null when the deposit is not particulate) —
   the same block as the ``sem-particles`` scenario (pipeline/_sem_common.py).
"""

from __future__ import annotations

import numpy as np

from platescope._lazy import lazy_module
from platescope.pipeline._common import (
    add_warning,
    analysis_params,
    expand_errors,
    read_echem_section,
    read_movie_section,
)
from platescope.pipeline._registration import registration_defaults, stabilize_section_movie
from platescope.pipeline._scenarios import Scenario, run_step
from platescope.pipeline._sem_common import (
    MICROGRAPH_PNG_LEVEL,
    SEM_DEFAULTS,
    analyse_sem_image,
    sem_params,
)
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    echem_context,
)

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")
xr = lazy_module("xarray")
_integrate = lazy_module("scipy.integrate")

DEFAULTS = {
    "galvanostatic": {"smooth_s": 0.5, "growth_fraction": 0.2},
    "irm": {
        "tnuc_window_s": 2.0,
        "tnuc_polyorder": 2,
        "tnuc_margin_s": 2.0,
        "map_sigma_um": 0.12,
        "region_px": 14,
        "group_size": 2,
        "blur_sigma_um": 1.0,
        "footprint_sigma_um": 0.2,
    },
    "sem": SEM_DEFAULTS,  # one SEM tuning for every scenario (pipeline/_sem_common.py)
}


def _params(exp, name):
    return analysis_params(exp, name, DEFAULTS[name])


def _cumulative_charge_at(echem: pd.DataFrame, times) -> np.ndarray:
    """|Charge| passed since the record's start at the given times, C (trapezoid rule)."""
    t = echem["time_s"].to_numpy(float)
    i = np.abs(echem["current_A"].to_numpy(float))
    q = _integrate.cumulative_trapezoid(i, t, initial=0.0)
    return np.interp(np.asarray(times, float), t, q, left=0.0)


#: ``[analysis.registration]`` of the IRM scenarios (irm-galvanostatic, irm-cv): on.
IRM_REGISTRATION = registration_defaults(
    why="On the IRM validation no still movie was shifted (20 of 20) and the t_nuc map "
    "with 5 px drift is within 0.1 frame of the still one's error (10 of 10)"
)


def _without_edges(rate, window_samples: int) -> np.ndarray:
    """dI/dt with the one-sided Savitzky–Golay ends (half a window each) blanked for display."""
    out = np.array(rate, dtype=float)
    half = (int(window_samples) - 1) // 2
    if half:
        out[:half] = np.nan
        out[-half:] = np.nan
    return out


def _movie_on_echem_clock(exp, echem, p_irm, out, summary, *, ce_cycles=None, ce_window_s=2.0):
    """Read the movie and prepare it (:func:`platescope.optics.prepare_irm`); record how.

    Writes ``summary["sync"]``, ``["footprint"]``, ``["irm_reference"]``, ``["drift"]``
    (or a ``skipped[]`` entry) and the clock-sync figure; returns the prepared movie
    (with ``ce_cycles``: also the CE(IRM) window means, from the same pass).
    """
    from platescope import optics, report

    movie = read_movie_section(exp.movie, default_mode="irm")
    # bad frames out, drift undone; the quality pass's frame means serve the sync
    movie, frame_means = stabilize_section_movie(
        movie, exp, out, summary, return_frame_means=True, defaults=IRM_REGISTRATION
    )
    irm = optics.prepare_irm(
        movie,
        echem,
        movie_mean=frame_means,
        time_offset_s=exp.echem.get("time_offset_s"),
        footprint_sigma_um=p_irm["footprint_sigma_um"],
        area_cm2=exp.electrode.get("area_cm2"),
        # the region curves of t_nuc_regions come from the same single pass
        region_px=p_irm.get("region_px"),
        ce_cycles=ce_cycles,
        ce_window_s=ce_window_s,
    )
    sy = irm["sync"]
    summary["sync"] = expand_errors(sy)
    summary["footprint"] = expand_errors(irm["footprint"])
    for w in irm["footprint_warnings"]:
        add_warning(summary, w["code"], w["message"], "footprint.area_cm2")
    summary["irm_reference"] = irm["irm_reference"]
    contact_note = (
        f"contact at {sy['offset_s']:.3f} s on the movie clock ({sy['method']})"
        if irm["n_before"] >= 1
        else f"contact at {sy['offset_s']:.3f} s on the movie clock ({sy['method']}), "
        "before or at the first frame: the movie starts at contact"
    )
    out.figure(
        "sync",
        report.fig_sync(
            movie.t.values,
            irm["movie_mean"],
            offset_s=-sy["offset_s"],
            method=sy["method"],
            echem=echem,
            contact_t_s=0.0,
            offset_err_s=sy.get("offset_err_s"),
        ),
        title="Clock synchronisation",
        caption=f"Mean intensity of the movie around the landing step; {contact_note}.",
    )
    if irm["drift"] is not None:
        summary["drift"] = irm["drift"]
    else:
        summary["skipped"].append(
            {"analysis": "optics.drift_correction", "reason": irm["drift_reason"]}
        )
    return irm


def _irm_analyses(irm, echem, feats, area, p_irm, out, summary) -> None:
    """t_nuc(IRM) of the footprint mean, per region and per pixel; α; their figures."""
    from platescope import optics, report

    sub, mask, m, t_f, mean_sig = irm["sub"], irm["mask"], irm["mask_np"], irm["t_s"], irm["mean"]
    t_max = None
    if feats and feats.get("nucleated"):
        t_max = feats["t_nuc_s"] + p_irm["tnuc_margin_s"]
    glob = optics.t_nuc_from_curve(
        t_f,
        mean_sig,
        window_s=p_irm["tnuc_window_s"],
        polyorder=p_irm["tnuc_polyorder"],
        t_max_s=t_max,
    )
    optics_out = {
        "t_nuc_irm_s": glob["t_nuc_s"],
        "t_nuc_irm_s_err": glob.get("t_nuc_err_s"),
    }
    if glob.get("reason"):
        optics_out["t_nuc_irm_s_reason"] = glob["reason"]
    px = irm["px_um"]
    tmap = optics.t_nuc_map(
        sub,
        mask=mask,
        window_s=p_irm["tnuc_window_s"],
        polyorder=p_irm["tnuc_polyorder"],
        t_max_s=t_max,
        spatial_sigma_px=p_irm["map_sigma_um"] / px,
    )
    rel = out.map("t_nuc_irm_map", tmap.values, pixel_size_um=px)
    vals = tmap.values[np.isfinite(tmap.values)]
    optics_out["t_nuc_map"] = {
        "path": rel,
        "mean_s": float(vals.mean()) if vals.size else None,
        "sd_s": float(vals.std(ddof=1)) if vals.size > 1 else None,
        "n_pixels": int(vals.size),
    }
    regions = optics.t_nuc_regions(
        sub,
        region_px=p_irm["region_px"],
        mask=mask,
        window_s=p_irm["tnuc_window_s"],
        polyorder=p_irm["tnuc_polyorder"],
        t_max_s=t_max,
        # computed in prepare_irm's single pass: the movie is not read again here
        region_means=irm.get("region_means")
        if irm.get("region_px") == p_irm["region_px"]
        else None,
    )
    out.table(
        "t_nuc_regions",
        regions,
        title=f"t_nuc(IRM) per {p_irm['region_px']}×{p_irm['region_px']} px region",
        errors="1sigma",
    )
    q = _cumulative_charge_at(echem, t_f)
    in_record = t_f <= float(echem["time_s"].iloc[-1])  # charge is unknown after the record
    alpha = optics.alpha_fit(mean_sig[in_record], q[in_record], area_cm2=area)
    optics_out["alpha"] = {k: v for k, v in alpha.items() if k not in ("h_eq_nm", "used")}
    summary["optics"] = expand_errors(optics_out)  # 1σ → ≈95 %
    out.table(
        "irm_mean",
        pd.DataFrame(
            {
                "time_s": t_f[in_record],
                "irm_mean_counts": mean_sig[in_record],
                "charge_C": q[in_record],
                "h_eq_nm": alpha["h_eq_nm"],
            }
        ),
        title=f"Footprint-mean IRM signal ({irm['reference']} subtracted)",
    )
    out.figure(
        "potential_irm",
        report.fig_potential_irm(
            echem,
            irm_t_s=glob["t_grid_s"],
            irm_mean=np.interp(glob["t_grid_s"], t_f, mean_sig),
            irm_rate=_without_edges(glob["dI_dt"], glob["window_samples"]),
            E_nuc_V=feats.get("E_nuc_V"),
            t_nuc_s=feats.get("t_nuc_s"),
            # feats hold the summary's expanded (k = 2) errors; the figure takes 1σ
            t_nuc_err_s=None if feats.get("t_nuc_s_err") is None else feats["t_nuc_s_err"] / 2,
            t_nuc_irm_s=glob["t_nuc_s"],
            E_growth_V=feats.get("E_growth_V"),
        ),
        title="Potential and IRM signal",
        caption="Top: potential with the nucleation minimum (E_nuc, t_nuc ± 95 % interval) and "
        "E_growth. Bottom: footprint-mean IRM signal and its Savitzky–Golay derivative with "
        "t_nuc(IRM) and the electrochemical t_nuc.",
    )
    size = int(p_irm["group_size"])
    n_groups = sub.sizes["t"] // size
    picks = np.unique(np.linspace(0, n_groups - 1, 6).round().astype(int))
    # read, group and blur only the frames shown (not a pass over the whole movie)
    frames = (picks[:, None] * size + np.arange(size)).ravel()
    grouped = optics.group_average(sub.isel(t=frames), size=size)
    # computed here, once: the figure reads its frames several times
    shown = optics.gaussian_blur(grouped, sigma_um=p_irm["blur_sigma_um"]).compute()
    out.figure(
        "irm_frames",
        report.fig_irm_frames(
            shown.where(xr.DataArray(m, dims=("y", "x"))),
            n_frames=picks.size,
            t_nuc_s=feats.get("t_nuc_s"),
        ),
        title="IRM frames",
        caption=f"{irm['reference'].capitalize()} subtracted, grouped by "
        f"{p_irm['group_size']} frames (mean) and "
        f"blurred by σ = {p_irm['blur_sigma_um']} µm, as in the paper; footprint only.",
    )
    out.figure(
        "t_nuc_map",
        report.fig_tnuc_map(tmap, t_nuc_s=feats.get("t_nuc_s")),
        title="Per-pixel IRM nucleation time",
        caption="t_nuc(IRM) per pixel inside the footprint, with its histogram and a "
        "Gaussian of the same mean and sd; the line marks the electrochemical t_nuc.",
    )
    out.figure(
        "alpha",
        report.fig_alpha(alpha["h_eq_nm"], mean_sig[in_record], alpha=alpha),
        title="IRM signal vs deposited charge",
        caption="Footprint-mean IRM signal against the equivalent uniform Li thickness "
        "h_eq = V_M·Q/(F·A); the slope is α.",
    )


def _sem_analyses(exp, echem, p_sem, out, summary) -> None:
    """SEM region (footprint when shown), particles, morphology, exclusions and figures."""
    from platescope import io, report

    image = io.read_sem(exp.sem["path"], pixel_size_nm=exp.sem.get("pixel_size_nm"))
    charge = (
        float(_cumulative_charge_at(echem, [echem["time_s"].iloc[-1]])[0])
        if echem is not None
        else None
    )
    res = analyse_sem_image(image, p_sem, charge)
    psum, table, circle = res["summary"], res["table"], res["summary"]["footprint"]
    summary["particles"] = expand_errors(psum)
    particulate = psum.get("count") is not None
    out.table("particles", table, title="Detected particles (SEM)")
    fp_draw = None
    if circle.get("found"):
        fp_draw = {**circle, "edge_width_um": p_sem["edge_fraction"] * circle["radius_um"]}
    out.figure(
        "sem_particles",
        report.fig_sem_particles(image, labels=res["labels"], table=table, footprint=fp_draw),
        title="SEM particles",
        caption="Detected Li particles outlined; the footprint circle and its edge ring "
        "(dashed) when the image shows a footprint.",
        png_compress_level=MICROGRAPH_PNG_LEVEL,
    )
    m = psum["morphology"]
    out.figure(
        "sem_morphology",
        report.fig_sem_morphology(image, deposit=res["deposit"], morphology=m),
        title="Deposit morphology (SEM)",
        caption=f"Deposit pixels (orange) behind the verdict '{m['kind']}'.",
        png_compress_level=MICROGRAPH_PNG_LEVEL,
    )
    if particulate:
        out.figure(
            "diameters",
            report.fig_diameter_histogram(table["diameter_nm"].to_numpy(), fit=res["fit"]),
            title="Particle diameters",
            caption="Equivalent-circle diameters with the fitted distribution.",
        )


def nucleation_summary(echem, area, area_source, p_g, out, *, steps=None) -> tuple[dict, dict]:
    """Nucleation of every plating step; the first one is ``echem.galvanostatic``.

    Returns the first plating step's features (k = 2 errors) and the ``summary["echem"]``
    block: ``galvanostatic``, ``galvanostatic_steps`` (when the record holds several
    plating steps), ``steps`` (what each step of the record is) and the record's warnings.
    """
    from platescope import echem as echem_mod

    rows, steps = echem_mod.nucleation_by_step(echem, area_cm2=area, steps=steps, **p_g)
    out.table(
        "steps",
        steps.drop(columns=["i_start", "i_stop"]),
        title="Steps of the electrochemistry record (kind from the instrument or the signals)",
    )
    from platescope import report

    out.figure(
        "echem_steps",
        report.fig_echem_steps(echem, steps, nucleation=rows),
        title="Steps of the electrochemistry record",
        caption="Potential and current with each step shaded by kind (from the instrument's "
        "own columns where the file has them); nucleation is searched only in cathodic "
        "constant-current steps, and each one's minimum (circle) or its absence is marked.",
    )
    ech: dict = {
        "steps": [
            {k: r[k] for k in ("step", "kind", "direction", "t_start_s", "t_end_s", "ended_by")}
            for r in steps.to_dict("records")
        ],
        "warnings": echem_mod.record_warnings(echem),
    }
    if not rows:
        feats = {
            "nucleated": None,
            "reason": "no cathodic constant-current (plating) step in the record, which holds: "
            + echem_mod.describe_steps(steps)
            + (
                "; if the plated electrode is the counter electrode of a two-electrode cell, "
                'set [echem] electrode = "counter"'
                if (steps["direction"] == "anodic").any()
                else ""
            ),
        }
        feats.update(
            {k: None for k in ("E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V")}
        )
    else:
        rows = [expand_errors({**r, "area_cm2": area, "area_source": area_source}) for r in rows]
        feats = rows[0]
        if len(rows) > 1:
            ech["galvanostatic_steps"] = rows
            ech["warnings"].append(
                {
                    "code": "several-plating-steps",
                    "message": f"the record holds {len(rows)} plating steps; "
                    "echem.galvanostatic is the first, every one is in "
                    "echem.galvanostatic_steps",
                }
            )
    if echem.attrs.get("electrode") == "counter":
        feats["electrode"] = "counter"
    ech["galvanostatic"] = feats
    return feats, ech


def run(exp, out, summary: dict) -> None:
    """Run the scenario's analyses and fill ``summary`` and ``out`` (a StagedOutput)."""

    skipped = summary["skipped"]
    params = summary["parameters"]
    area = exp.electrode.get("area_cm2")
    area_source = "experiment file" if area else None

    echem = None
    if exp.echem:
        echem = read_echem_section(exp)
    else:
        skipped.append({"analysis": "echem.galvanostatic", "reason": "no [echem] input"})

    irm = None
    if exp.movie and echem is None:
        skipped.append(
            {"analysis": "optics", "reason": "the IRM analysis needs the electrochemistry record"}
        )
    elif exp.movie:
        p_irm = params.setdefault("irm", _params(exp, "irm"))
        irm = _movie_on_echem_clock(exp, echem, p_irm, out, summary)
        if not area:
            area, area_source = irm["area_cm2"], "IRM footprint"

    feats = None
    if echem is not None:
        p_g = params.setdefault("galvanostatic", _params(exp, "galvanostatic"))
        ctx = echem_context(echem)  # the record split into steps once, for every step
        feats, ech = nucleation_summary(echem, area, area_source, p_g, out, steps=ctx.steps)
        summary["echem"] = ech
        out.table(
            "echem",
            echem[[c for c in ("time_s", "potential_V", "current_A") if c in echem]],
            title="Electrochemistry record (echem clock)",
        )
        run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx)

    if irm is not None:
        _irm_analyses(irm, echem, feats, area, params["irm"], out, summary)

    if exp.sem:
        p_sem = params.setdefault("sem", sem_params(exp, DEFAULTS["sem"]))
        _sem_analyses(exp, echem, p_sem, out, summary)
    else:
        skipped.append({"analysis": "particles", "reason": "no [sem] input"})


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="irm-galvanostatic",
    title="SECCM galvanostatic Li plating: E(t) nucleation, IRM t_nuc map, SEM particles",
    run=run,
    inputs=("echem", "movie", "sem"),
    analyses={
        **DEFAULTS,
        "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS,
        "registration": IRM_REGISTRATION,
    },
    simulator="platescope.simulate._irm_galvanostatic:irm_galvanostatic",
)
