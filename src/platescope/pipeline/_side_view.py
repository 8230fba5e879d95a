"""Scenario ``side-view``: a cross-section movie of Li growing on an electrode (SCIENCE.md §4).

Inputs: ``[movie]`` (the camera looks along the electrode surface), optionally
``[echem]`` (the plating record: the charge at every frame) and ``[electrode] area_cm2``
(with the charge: the dense-Li thickness and the porosity), and ``[analysis.side_view]``:
``edge_row`` (the electrode surface's pixel row, when it cannot be detected),
``growth_direction`` (``"up"``, ``"down"`` or ``"auto"``), ``n_ref_frames``,
``min_snr``, ``gap_px``, ``min_rate_ratio``, ``area_rel_err``.

:func:`platescope.optics.analyze_side_view` does the work: electrode edge, growth-front
profile per frame, mean/max thickness and roughness, capping band, porosity
1 − h_dense/h with h_dense = Q·V_M/(zFA), and the mossy → whisker transition.
``summary["side_view"]`` holds the last frame's numbers, the edge and the transition;
``tables/side_view_frames.csv`` the per-frame curves; ``tables/side_view_front.csv``
the front height per column and frame.
"""

from __future__ import annotations

import numpy as np

from platescope._lazy import lazy_module
from platescope._params import Param
from platescope.pipeline._common import (
    expand_errors,
    read_echem_section,
    read_movie_section,
)
from platescope.pipeline._scenarios import Scenario, Step, run_step

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

DEFAULTS = {
    "side_view": {
        "edge_row": Param(
            None,
            float,
            "pixel row (from the top, may be fractional) of the electrode surface when it "
            "cannot be detected (auto: detected in the first frames)",
            low=0.0,
        ),
        "growth_direction": Param(
            "auto",
            str,
            'side the layer grows into on screen: "up" (toward row 0), "down" or "auto"',
            choices=("auto", "up", "down"),
        ),
        "n_ref_frames": Param(3, int, "frames before growth averaged as the reference", low=1),
        "min_snr": Param(8.0, float, "smallest edge step, × the pixel noise", low=0.0),
        "gap_px": Param(3, int, "pixels below the level that end the layer, px", low=1),
        "min_rate_ratio": Param(
            2.0, float, "how much faster the tips must outgrow the layer after the break", low=1.0
        ),
        "area_rel_err": Param(
            0.0, float, "relative 1σ uncertainty of [electrode] area_cm2", low=0.0, high=1.0
        ),
    }
}


def plated_charge(echem: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Net plated charge (C, cathodic positive) vs time over the record's current steps.

    Rests and impedance rows are left out (their current is noise), so only the
    galvanostatic/potentiostatic/sweep steps count; stripping (anodic) steps subtract.

    Returns
    -------
    time_s, charge_C : ndarray
        The record's times and the cumulative net plated charge at each.
    notes : list of dict
        Warnings (``{code, message}``): stripping inside the record.
    """
    from platescope.echem import split_steps

    t = echem["time_s"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    steps = split_steps(echem)
    use = np.zeros(t.size, bool)
    notes: list[dict] = []
    for row in steps.itertuples():
        if row.kind in ("rest", "impedance"):
            continue
        use |= (t >= row.t_start_s) & (t <= row.t_end_s)
    anodic = steps[(steps["direction"] == "anodic") & ~steps["kind"].isin(["rest", "impedance"])]
    if len(anodic):
        notes.append(
            {
                "code": "side-view-stripping-in-record",
                "message": f"the record has {len(anodic)} anodic (stripping) step(s): the "
                "charge is the net plated charge, so the porosity assumes all stripped Li "
                "left the viewed layer",
            }
        )
    ii = np.where(use, -i, 0.0)
    q = np.concatenate([[0.0], np.cumsum(0.5 * (ii[1:] + ii[:-1]) * np.diff(t))])
    return t, q, notes


def _side_view(exp, p, out, summary: dict) -> dict:
    """The side-view step: edge, fronts, layer metrics, porosity, transition."""
    from platescope import optics, report, sync

    skipped = summary["skipped"]
    movie = read_movie_section(exp.movie, default_mode="trans")
    charge = None
    notes: list[dict] = []
    if exp.echem:
        echem = read_echem_section(exp)
        sy = sync.synchronize(movie, echem, time_offset_s=exp.echem.get("time_offset_s"))
        summary["sync"] = expand_errors(
            {
                k: v
                for k, v in sy.items()
                if k in ("offset_s", "offset_err_s", "method", "strobe", "frame_times", "warnings")
            }
        )
        movie = sync.to_echem_clock(
            movie, sy["offset_s"], echem=echem, frame_times_s=sy.pop("frame_times_s", None)
        )
        t_e, q_e, notes = plated_charge(echem)
        charge = np.interp(np.asarray(movie["t"].values, float), t_e, q_e)
    else:
        skipped.append(
            {"analysis": "side_view.porosity", "reason": "no [echem] record: no plated charge"}
        )
    area = (exp.electrode or {}).get("area_cm2")
    if charge is not None and area is None:
        skipped.append(
            {
                "analysis": "side_view.porosity",
                "reason": "no [electrode] area_cm2: the dense-Li thickness needs the area",
            }
        )
    res = optics.analyze_side_view(
        movie,
        charge_C=charge,
        area_cm2=area if charge is not None else None,
        area_rel_err=float(p["area_rel_err"]),
        growth_direction=p["growth_direction"],
        edge_row_px=p["edge_row"],
        n_ref_frames=int(p["n_ref_frames"]),
        min_snr=float(p["min_snr"]),
        gap_px=int(p["gap_px"]),
        min_rate_ratio=float(p["min_rate_ratio"]),
    )
    prof = res["profiles"]
    final = dict(res["final"])
    edge = res["edge"]
    tr = dict(res["transition"])
    sv = {
        **final,
        "n_bands": res["n_bands"],
        "min_resolved_um": prof.attrs["min_resolved_um"],
        "contrast_to_noise": prof.attrs["contrast_to_noise"],
        "edge": {
            k: edge[k]
            for k in (
                "row0_px",
                "slope_px_per_px",
                "tilt_deg",
                "row_err_um",
                "growth_direction",
                "direction_source",
                "source",
                "snr",
                "blur_sigma_px",
                "n_columns_dropped",
            )
        },
        "transition": tr,
        "warnings": res["warnings"] + notes,
        "definitions": (
            "heights perpendicular to the electrode edge (fitted line, the reference of every "
            "frame), µm; front = half-maximum crossing of the outermost contrast band per "
            "column; mean/max/roughness (sd, noise-corrected) over columns of the last frame; "
            "capping = front − inner (dense) band; porosity = 1 − h_dense/mean with h_dense "
            "= Q·V_M/(zFA), Q the net plated charge at the frame; t_transition_s on the "
            "echem clock: break of max − mean front height (two-segment fit); *_err: k = 2"
        ),
    }
    if tr.get("t_transition_s") is not None and charge is not None and area:
        sv["transition"]["capacity_at_transition_mAh_cm2"] = (
            tr["charge_at_transition_C"] / 3.6 / area
        )
    summary["side_view"] = expand_errors(sv)
    frames = res["frames"]
    out.table(
        "side_view_frames",
        frames,
        title="Layer thickness, roughness and porosity per frame",
        errors="1sigma",
    )
    wide = pd.DataFrame(prof["h_um"].values, columns=[f"x{j}" for j in range(prof.sizes["x"])])
    wide.insert(0, "t_s", np.asarray(prof["t"].values, float))
    out.table("side_view_front", wide, title="Front height (µm) per column and frame")
    out.figure(
        "side_view_kymograph",
        report.fig_side_view_kymograph(prof, transition=tr),
        title="Growth-front kymograph",
        caption="Height above the electrode edge (0) against time; grey: fraction of the "
        "electrode's columns the front reaches; mean and max front; dashed: the mossy → "
        "whisker transition with its 95 % interval.",
    )
    if "charge_C" in frames:
        out.figure(
            "side_view_thickness_vs_charge",
            report.fig_thickness_vs_charge(frames, area_cm2=area),
            title="Layer thickness vs plated charge",
            caption="Mean (± 2σ; open: thinner than the resolution), max and capping-band "
            "thickness against the plated capacity, with the thickness the charge would give "
            "as dense Li (h = Q·V_M/(zFA)); the gap between them is the porosity.",
        )
    out.figure(
        "side_view_frame",
        report.fig_side_view_frame(
            movie, prof, edge | {"growth_direction": edge["growth_direction"]}
        ),
        title="Last frame with the edge and the front",
        caption="The last frame; light blue: the fitted electrode edge; vermilion: the "
        "measured growth front.",
    )
    h = final.get("mean_thickness_um")
    if h is None:
        summary["headline"] = "side view: no growth layer measured"
    else:
        por = final.get("porosity")
        t_tr = tr.get("t_transition_s")
        summary["headline"] = (
            f"side view: layer {h:.3g} µm (max {final['max_thickness_um']:.3g} µm)"
            + (f", porosity {por:.2f}" if por is not None else "")
            + (f", whiskers from t = {t_tr:.0f} s" if t_tr is not None else "")
        )
    return res


STEPS = (Step("side_view", needs=("movie",), params=DEFAULTS["side_view"], run=_side_view),)


def run(exp, out, summary: dict) -> None:
    """Run the scenario's analyses and fill ``summary`` and ``out`` (a StagedOutput)."""
    for step in STEPS:
        run_step(step, exp, out, summary)
    if "headline" not in summary and "side_view" not in summary:
        summary["headline"] = "side view: no movie, nothing measured"


SCENARIO = Scenario(
    name="side-view",
    title="Side-view (cross-section) movie: growth front, thickness, porosity, capping, "
    "mossy → whisker",
    run=run,
    inputs=("movie", "echem"),
    analyses=DEFAULTS,
    simulator="platescope.simulate._side_view:side_view",
)
