"""Scenario ``top-view-nucleation``: nucleus counts vs time and current density, Sand's time.

The experiment is a series of galvanostatic plating runs, one ``[[plating]]`` entry each
(a top-view movie and its potentiostat record), usually at different current densities
(SCIENCE.md §4). Steps, each run when its inputs exist (otherwise recorded in
``skipped``):

1. ``nucleation`` (needs ``[[plating]]``): per run the constant-current plating step of
   the record, j, the plated charge; deposits detected and tracked in the movie on the
   record's clock; nucleus count and areal density vs time and charge
   (:func:`platescope.particles.nucleus_counts`); the areal density at one plated charge
   for every run; the optical onset of tip growth
   (:func:`platescope.particles.tip_growth_onset`).
2. ``nucleation_law``: density vs j as a power law N = a·j^b
   (:func:`platescope.stats.power_law_fit`) over the runs.
3. ``sand`` (needs ``[electrolyte]``): Sand's time at each run's j
   (:func:`platescope.models.sand_limit`) against the optical onset of tip growth.

``summary["nucleation"]`` (``runs[]``, ``law``, ``charge_mC_cm2``), ``summary["sand"]``;
tables ``nucleation_runs``, ``nucleus_counts``; figures ``nucleus_counts``,
``nucleation_law``.
"""

from __future__ import annotations

import math

import numpy as np

from platescope._errors import InputError
from platescope._params import Param
from platescope.io._experiment import Section
from platescope.pipeline._common import add_warning, expand_errors, read_movie_section
from platescope.pipeline._registration import REGISTRATION_DEFAULTS, stabilize_section_movie
from platescope.pipeline._scenarios import Scenario, Step, run_step

DEFAULTS = {
    "nucleation": {
        "polarity": Param("dark", str, "deposits darker or brighter", choices=("dark", "bright")),
        "sigma_um": Param(0.5, float, "smoothing before thresholding, µm", 0.0, 20.0),
        "threshold": "auto",
        "min_area_um2": Param(2.0, float, "smallest deposit counted, µm²", 0.0, 1e6),
        "search_range_um": Param(3.0, float, "largest move between frames, µm", 0.0, 1e3, True),
        "memory": Param(2, int, "frames a deposit may vanish and keep its track", 0, 100),
        "min_track_frames": Param(3, int, "frames a deposit must be seen to count", 1, 1000),
        "charge_mC_cm2": Param(
            None,
            float,
            "plated charge at which densities are compared, mC cm⁻² (default: the "
            "smallest charge any run plated)",
            0.0,
            1e9,
            True,
        ),
        "tip_circularity_max": Param(0.45, float, "elongated: circularity ≤ this", 0.0, 1.0),
        "tip_min_area_um2": Param(4.0, float, "elongated objects at least this large, µm²", 0, 1e6),
        "tip_persist_frames": Param(3, int, "frames the elongated objects must stay", 1, 100),
        "tip_min_objects": Param(1, int, "elongated objects per frame", 1, 10000),
        "pit_polarity": Param(
            "dark", str, "pits darker or brighter than the electrode", choices=("dark", "bright")
        ),
    },
    "nucleation_law": {
        "quantity": Param(
            "density_final",
            str,
            "what is fitted against j",
            choices=("density_at_charge", "density_final"),
        ),
    },
    "sand": {"z": Param(1, int, "cation charge number", 1, 4)},
}

_RUN_DEFINITIONS = (
    "per run: j = |median current of the longest constant-current cathodic step| / "
    "[electrode] area (or the entry's current_density_mA_cm2); n_nuclei = deposits tracked "
    "for ≥ min_track_frames frames and first seen after plating started (deposits already "
    "there are n_before_start and not counted, nor n_satellites: tracks first seen "
    "touching an older deposit or split off one, pieces of it); density_cm2 = n / imaged field area, its "
    "_err the counting (Poisson) uncertainty √n / area; density_at_charge_cm2: the same "
    "when the plated charge reached charge_mC_cm2; t_tip_onset_s: optical onset of tip "
    "growth after the plating start (particles.tip_growth_onset; trails the true start by "
    "the time an arm needs to lower the circularity); all *_err k = 2"
)


def _plating_and_stripping(echem) -> tuple[dict | None, dict | None]:
    """The longest constant-current cathodic step of a record and the first
    constant-current anodic step after it (rows of split_steps), or None."""
    from platescope.echem import split_steps

    steps = split_steps(echem)
    galv = steps[steps["kind"] == "galvanostatic"]
    cat = galv[galv["direction"] == "cathodic"]
    if not len(cat):
        return None, None
    plate = cat.loc[cat["duration_s"].idxmax()].to_dict()
    after = galv[(galv["direction"] == "anodic") & (galv["t_start_s"] >= plate["t_end_s"] - 1e-9)]
    strip = after.sort_values("t_start_s").iloc[0].to_dict() if len(after) else None
    return plate, strip


def _charge_density(echem, step: dict, t: np.ndarray, area_cm2, j: float) -> np.ndarray:
    """Plated charge per area at times ``t`` (mC cm⁻², 0 before the step)."""
    from scipy.integrate import cumulative_trapezoid

    t0, t1 = step["t_start_s"], step["t_end_s"]
    if area_cm2:
        sl = slice(int(step["i_start"]), int(step["i_stop"]))
        ts = echem["time_s"].to_numpy(float)[sl]
        i = np.abs(echem["current_A"].to_numpy(float)[sl])
        q = cumulative_trapezoid(i, ts, initial=0.0) * 1e3 / float(area_cm2)
        return np.interp(t, ts, q, left=0.0, right=q[-1] if q.size else 0.0)
    return j * np.clip(np.minimum(t, t1) - t0, 0.0, None)


def _analyse_run(exp, k: int, entry: dict, p: dict, out=None, summary=None) -> tuple:
    """One [[plating]] entry → its result row and its per-frame counts."""
    from platescope import io, particles, sync

    label = entry.get("label") or f"run {k + 1}"
    row = {"run": k + 1, "label": label}
    if not entry.get("echem"):
        raise InputError(
            exp.path,
            f"[[plating]] entry {k + 1} ({label}) names no echem record",
            'add echem = "<the potentiostat file of this run>" to the entry',
        )
    echem = io.read_echem(entry["echem"], timezone=entry.get("timezone"))
    step, strip = _plating_and_stripping(echem)
    if step is None:
        row.update(n_nuclei=None, reason="the record has no constant-current cathodic step")
        return row, None
    area = exp.electrode.get("area_cm2")
    j = entry.get("current_density_mA_cm2")
    if j is None and not area:
        row.update(
            n_nuclei=None,
            reason="no current density: give [electrode] area_cm2 or the entry's "
            "current_density_mA_cm2",
        )
        return row, None
    if j is None:
        j = abs(float(step["I_median_A"])) * 1e3 / float(area)
    row.update(
        j_mA_cm2=float(j),
        t_plating_start_s=float(step["t_start_s"]),
        plating_duration_s=float(step["duration_s"]),
    )

    movie = read_movie_section(entry, default_mode="epi")
    if out is not None and summary is not None:  # bad frames out, drift undone, per run
        movie = stabilize_section_movie(movie, exp, out, summary, name=f"run{k + 1}")
    sy = sync.synchronize(movie, echem, time_offset_s=entry.get("time_offset_s"))
    movie = sync.to_echem_clock(
        movie, sy["offset_s"], echem=echem, frame_times_s=sy.pop("frame_times_s", None)
    )
    row["sync_method"] = sy["method"]
    for w in sy.get("warnings") or []:  # frame-time and clock diagnoses, per run
        row.setdefault("warnings", []).append(w)
    t = np.asarray(movie["t"].values, float)
    ny, nx = movie.sizes["y"], movie.sizes["x"]
    dy = float(np.diff(movie["y"].values[:2])[0]) if ny > 1 else float("nan")
    dx = float(np.diff(movie["x"].values[:2])[0]) if nx > 1 else float("nan")
    field_um2 = abs(ny * dy * nx * dx)
    t0, t1 = float(step["t_start_s"]), float(step["t_end_s"])
    in_step = (t >= t0) & (t <= t1)
    if in_step.sum() < 3:
        row.update(
            n_nuclei=None,
            reason=f"only {int(in_step.sum())} frame(s) fall in the plating step "
            f"({t0:.1f}–{t1:.1f} s on the record's clock): check the clock offset",
        )
        return row, None

    det = particles.detect_deposits(
        movie,
        polarity=p["polarity"],
        sigma_um=p["sigma_um"],
        threshold=p["threshold"],
        min_area_um2=p["min_area_um2"],
    )
    tracks = particles.track_deposits(det, search_range_um=p["search_range_um"], memory=p["memory"])
    counts = particles.nucleus_counts(
        tracks,
        frame_times_s=t,
        field_area_um2=field_um2,
        t_start_s=t0,
        min_track_frames=p["min_track_frames"],
    )
    counts.insert(0, "run", k + 1)
    counts["t_from_start_s"] = t - t0
    counts["charge_mC_cm2"] = _charge_density(echem, step, t, area, float(j))
    last = counts[in_step].iloc[-1]
    tip = particles.tip_growth_onset(
        det,
        frame_times_s=t,
        circularity_max=p["tip_circularity_max"],
        min_area_um2=p["tip_min_area_um2"],
        min_objects=p["tip_min_objects"],
        persist_frames=p["tip_persist_frames"],
        t_start_s=t0,
    )
    row.update(
        n_nuclei=int(last["n_cumulative"]),
        density_cm2=float(last["density_cm2"]),
        density_err_cm2=float(last["density_err_cm2"]),
        charge_plated_mC_cm2=float(counts["charge_mC_cm2"].iloc[-1]),
        field_area_um2=field_um2,
        n_before_start=int(counts.attrs["n_before_start"]),
        n_short_tracks_dropped=int(counts.attrs["n_short_dropped"]),
        n_satellites=int(counts.attrs["n_satellites"]) + int(counts.attrs["n_split_born"]),
        threshold=float(det.attrs.get("threshold", math.nan)),
        t_tip_onset_s=None if tip["t_onset_s"] is None else tip["t_onset_s"] - t0,
        t_tip_onset_err_s=tip["t_onset_err_s"],
    )
    if tip["t_onset_s"] is None:
        row["t_tip_onset_reason"] = tip["reason"]
    row.update(_pits(movie, det, tracks, strip, t, field_um2, p, counts))
    return row, counts


def _pits(movie, det, tracks, strip, t, field_um2, p, counts) -> dict:
    """Pits: tracks first seen during the stripping step after plating (adds the per-frame
    pit columns to ``counts``); the run's pit count and density, or a reason."""
    from platescope import particles

    counts["n_pits_cumulative"] = 0
    counts["pit_density_cm2"] = 0.0
    counts["pit_density_err_cm2"] = 0.0
    if strip is None:
        return {"n_pits": None, "n_pits_reason": "no constant-current anodic step after plating"}
    s0, s1 = float(strip["t_start_s"]), float(strip["t_end_s"])
    in_strip = (t >= s0) & (t <= s1)
    if in_strip.sum() < 3:
        return {
            "n_pits": None,
            "n_pits_reason": f"only {int(in_strip.sum())} frame(s) fall in the stripping step",
        }
    if p["pit_polarity"] != p["polarity"]:
        det = particles.detect_deposits(
            movie,
            polarity=p["pit_polarity"],
            sigma_um=p["sigma_um"],
            threshold=p["threshold"],
            min_area_um2=p["min_area_um2"],
        )
        tracks = particles.track_deposits(
            det, search_range_um=p["search_range_um"], memory=p["memory"]
        )
    pits = particles.nucleus_counts(
        tracks,
        frame_times_s=t,
        field_area_um2=field_um2,
        t_start_s=s0,
        min_track_frames=p["min_track_frames"],
    )
    counts["n_pits_cumulative"] = pits["n_cumulative"].to_numpy()
    counts["pit_density_cm2"] = pits["density_cm2"].to_numpy()
    counts["pit_density_err_cm2"] = pits["density_err_cm2"].to_numpy()
    last = pits[in_strip].iloc[-1]
    return {
        "t_stripping_start_s": s0,
        "stripping_duration_s": float(strip["duration_s"]),
        "n_pits": int(last["n_cumulative"]),
        "pit_density_cm2": float(last["density_cm2"]),
        "pit_density_err_cm2": float(last["density_err_cm2"]),
    }


def _density_at(counts, q: float) -> tuple[float | None, float | None]:
    """Density and its 1σ when the plated charge first reached ``q`` (None beyond it)."""
    reached = counts["charge_mC_cm2"].to_numpy(float) >= q
    if not reached.any():
        return None, None
    r = counts.iloc[int(np.argmax(reached))]
    return float(r["density_cm2"]), float(r["density_err_cm2"])


def _nucleation(exp, params, out, summary):
    """Every run: counts vs time and charge, density at one charge, tip onset."""
    import pandas as pd

    rows, tables = [], []
    for k, entry in enumerate(exp.section("plating")):
        row, counts = _analyse_run(exp, k, entry, params, out, summary)
        for w in row.pop("warnings", []):  # the run's clock and frame-time diagnoses
            add_warning(summary, w["code"], f"{row['label']}: {w['message']}", "nucleation")
        rows.append(row)
        if counts is not None:
            tables.append(counts)
    done = [r for r in rows if r.get("n_nuclei") is not None]
    q = params["charge_mC_cm2"]
    if q is None and done:
        q = min(r["charge_plated_mC_cm2"] for r in done)
    by_run = {int(c["run"].iloc[0]): c for c in tables}
    for r in done:
        d, e = _density_at(by_run[r["run"]], q) if q else (None, None)
        r["density_at_charge_cm2"], r["density_at_charge_err_cm2"] = d, e
        if d is None:
            r["density_at_charge_reason"] = (
                f"the run plated {r['charge_plated_mC_cm2']:.3g} mC cm⁻², less than {q:.3g} mC cm⁻²"
            )
        if r["n_nuclei"] < 10:
            add_warning(
                summary,
                "few-nuclei",
                f"{r['label']}: only {r['n_nuclei']} deposits were counted; the density's "
                f"counting uncertainty is ±{200 / math.sqrt(max(r['n_nuclei'], 1)):.0f} % "
                "(k = 2); a larger field or more fields would narrow it",
                "nucleation",
            )
    for r in rows:
        if r.get("n_nuclei") is None:
            add_warning(summary, "run-not-analysed", f"{r['label']}: {r['reason']}", "nucleation")
    res = {"runs": rows, "charge_mC_cm2": q, "definitions": _RUN_DEFINITIONS}
    summary["nucleation"] = expand_errors(res)
    out.table(
        "nucleation_runs",
        pd.DataFrame(summary["nucleation"]["runs"]),
        title="Nucleation per plating run",
        errors="k2",
    )
    counts = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if len(counts):
        out.table(
            "nucleus_counts",
            counts,
            title="Deposits seen and nucleus count per frame",
            errors="1sigma",
        )
    return {"runs": rows, "counts": counts, "charge_mC_cm2": q}


def _law(ctx, params, out, summary):
    """Density vs j as a power law across runs."""
    from platescope.stats import power_law_fit

    if ctx is None:
        return None
    key = {"density_at_charge": "density_at_charge_cm2", "density_final": "density_cm2"}[
        params["quantity"]
    ]
    runs = [r for r in ctx["runs"] if r.get(key) is not None]
    fit = power_law_fit(
        [r["j_mA_cm2"] for r in runs],
        [r[key] for r in runs],
        y_err=[r[key.replace("_cm2", "_err_cm2")] for r in runs],
    )
    fit["quantity"] = key
    fit["x_unit"], fit["prefactor_unit"] = "mA cm⁻²", "cm⁻² at 1 mA cm⁻²"
    ctx["law"] = fit
    summary["nucleation"]["law"] = expand_errors(fit)
    pit_runs = [r for r in ctx["runs"] if r.get("pit_density_cm2")]
    if pit_runs:
        pits = power_law_fit(
            [r["j_mA_cm2"] for r in pit_runs],
            [r["pit_density_cm2"] for r in pit_runs],
            y_err=[r["pit_density_err_cm2"] for r in pit_runs],
        )
        pits["quantity"] = "pit_density_cm2"
        ctx["pit_law"] = pits
        summary["nucleation"]["pit_law"] = expand_errors(pits)
    return fit


def _verdict(onset, onset_err, t_sand, duration) -> str:
    if onset is None:
        if t_sand > duration:
            return "no tips; the step ended before Sand's time (as expected)"
        return (
            "no tips seen though the step outlasted Sand's time: tips growing out of the "
            "plane are not seen from above, or the electrolyte parameters are off"
        )
    if onset + 2 * (onset_err or 0.0) < t_sand:
        return (
            "tips before Sand's time: the local current density exceeds the average, or "
            "the electrolyte parameters are off"
        )
    return "tips after Sand's time (as expected)"


def _sand(ctx, params, out, summary):
    """Sand's time at each run's j against the optical onset of tip growth."""
    from platescope.models import sand_limit

    el = ctx["exp"].section("electrolyte")
    missing = [k for k in ("D_cm2_s", "c0_mol_L", "t_plus") if el.get(k) is None]
    if missing or ctx["nuc"] is None:
        summary["sand"] = {
            "runs": [],
            "reason": f"[electrolyte] lacks {', '.join(missing)}" if missing else "no run",
        }
        return None
    t_plus = float(el["t_plus"])
    if not 0.0 <= t_plus < 1.0:
        raise InputError(
            ctx["exp"].path,
            f"[electrolyte] t_plus = {t_plus!r} is not a transference number in [0, 1)",
            "give the cation transference number (e.g. 0.4), or leave [electrolyte] out",
        )
    rows = []
    for r in ctx["nuc"]["runs"]:
        if r.get("n_nuclei") is None:
            continue
        s = sand_limit(
            r["j_mA_cm2"],
            D_cm2_s=float(el["D_cm2_s"]),
            c0_mol_L=float(el["c0_mol_L"]),
            t_plus=t_plus,
            z=int(params["z"]),
            step_duration_s=r["plating_duration_s"],
        )
        onset, err = r["t_tip_onset_s"], r["t_tip_onset_err_s"]
        rows.append(
            {
                "run": r["run"],
                "label": r["label"],
                "j_mA_cm2": r["j_mA_cm2"],
                "t_sand_s": s["t_sand_s"],
                "Q_sand_mAh_cm2": s["Q_sand_mAh_cm2"],
                "exceeds_sand": s["exceeds_sand"],
                "t_tip_onset_s": onset,
                "t_tip_onset_err_s": err,
                "onset_over_sand": None if onset is None else onset / s["t_sand_s"],
                "onset_over_sand_err": None if onset is None else (err or 0.0) / s["t_sand_s"],
                "verdict": _verdict(onset, err, s["t_sand_s"], r["plating_duration_s"]),
            }
        )
    summary["sand"] = expand_errors(
        {
            "runs": rows,
            "electrolyte": {k: float(el[k]) for k in ("D_cm2_s", "c0_mol_L", "t_plus")},
            "definition": "t_Sand = πD(zc₀F)²/(4(j(1−t₊))²) from the plating start; "
            "t_tip_onset_s optical (after the plating start); *_err k = 2",
        }
    )
    ctx["sand"] = rows
    return rows


def _figures(ctx, out) -> None:
    from platescope import report

    nuc = ctx["nuc"]
    if nuc is None or not len(nuc["counts"]):
        return
    out.figure(
        "nucleus_counts",
        report.fig_nucleus_counts(nuc["counts"], nuc["runs"], sand=ctx.get("sand")),
        title="Nucleus density vs time and plated charge",
        caption="Cumulative areal density of deposits (first seen after plating started) "
        "per run, coloured by current density, against time since the plating start and "
        "against plated charge; ▲ optical onset of tip growth, | Sand's time (when inside "
        "the step); bands: counting uncertainty (k = 2).",
    )
    law = ctx.get("law")
    if law is not None:
        out.figure(
            "nucleation_law",
            report.fig_nucleation_law(
                nuc["runs"],
                law,
                charge_mC_cm2=nuc["charge_mC_cm2"],
                pit_law=ctx.get("pit_law"),
            ),
            title="Nucleus density vs current density",
            caption="Areal nucleus density per run (± k = 2 counting uncertainty) against "
            "current density on log–log axes, with the fitted power law and its exponent "
            "(± k = 2); squares: pits opened in the stripping step, with their own law.",
        )


def _headline(summary) -> None:
    runs = [r for r in summary["nucleation"]["runs"] if r.get("n_nuclei") is not None]
    law = summary["nucleation"].get("law") or {}
    parts = [f"{len(runs)} run(s) analysed"]
    for name, fit in (("nuclei", law), ("pits", summary["nucleation"].get("pit_law") or {})):
        if fit.get("exponent") is not None:
            e = fit.get("exponent_err")
            parts.append(
                f"{name} ∝ j^{fit['exponent']:.2f}" + (f" ± {e:.2f}" if e is not None else "")
            )
    sand = (summary.get("sand") or {}).get("runs") or []
    tips = [s for s in sand if s["t_tip_onset_s"] is not None]
    if sand:
        parts.append(
            f"tips seen in {len(tips)}/{len(sand)} run(s), Sand's time passed in "
            f"{sum(bool(s['exceeds_sand']) for s in sand)}"
        )
    summary["headline"] = "; ".join(parts)


def run(exp, out, summary: dict) -> None:
    """Compose the scenario's steps; fill ``summary`` and ``out`` (a StagedOutput)."""
    nuc = run_step(STEPS[0], exp, out, summary)
    ctx = {"exp": exp, "nuc": nuc, "runs": nuc["runs"] if nuc else []}
    if nuc is not None:
        run_step(STEPS[1], exp, out, summary, context=ctx)
        run_step(STEPS[2], exp, out, summary, context=ctx)
        _figures(ctx, out)
        _headline(summary)
    else:
        summary["headline"] = "no [[plating]] run"


STEPS = (
    Step("nucleation", needs=("plating",), params=DEFAULTS["nucleation"], run=_nucleation),
    Step("nucleation_law", needs=("plating",), params=DEFAULTS["nucleation_law"], run=_law),
    Step("sand", needs=("electrolyte",), params=DEFAULTS["sand"], run=_sand),
)

#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="top-view-nucleation",
    title="Top-view plating movies at several current densities: nucleus counts, "
    "density vs j, Sand's time vs the onset of tip growth",
    run=run,
    inputs=("plating", "electrolyte"),
    analyses={**DEFAULTS, "registration": REGISTRATION_DEFAULTS},
    simulator="platescope.simulate._top_view_nucleation:top_view_nucleation",
    sections={
        "plating": Section(
            frozenset(
                {"path", "mode", "pixel_size_um", "frame_times", "frame_interval_s"}
                | {"echem", "timezone", "time_offset_s", "current_density_mA_cm2", "label"}
            ),
            path_keys=frozenset({"path", "frame_times", "echem"}),
            number_keys=frozenset(
                {"pixel_size_um", "frame_interval_s", "time_offset_s", "current_density_mA_cm2"}
            ),
            signed_keys=frozenset({"time_offset_s"}),
            many=True,
        ),
    },
)
