"""Scenario ``sims-diffusion``: Li tracer diffusion coefficients from SIMS depth profiles.

Steps (SCIENCE.md §3):

1. each ``[[sims]]`` entry → :func:`platescope.io.read_sims` (sputter time converted
   to depth by ``crater_depth_um`` or ``sputter_rate_um_s``) → tracer isotope fraction
   → fit of the chosen diffusion solution with automatic exclusion of contaminated
   surface points (:func:`platescope.models.fit_tracer_profile`) → D per profile;
2. all profiles → s² = 2Dt + s0² weighted over anneal times
   (:func:`platescope.models.combine_anneal_times`) → ``sims_D_cm2_s``;
3. the combined D → stripping limits (critical stripping current, Sand capacity, void
   model) by :func:`platescope.pipeline._stripping.stripping_analyses`
   (``[analysis.stripping]`` overrides).

Summary keys: ``sims[]`` {``path``, ``tracer``, ``anneal_time_s``, ``D_cm2_s``,
``D_err_cm2_s``, ``r2``, ``n_points_used``, ``model``, ``excluded_points``,
``sigma_um`` …}, ``sims_D_cm2_s``, ``sims_D_err_cm2_s``, ``sims_combined``, and from the stripping
hook ``i_crit_uA_cm2``, ``i_crit_err_uA_cm2``, ``stripping``.
"""

from __future__ import annotations

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.pipeline._common import analysis_params, expand_errors
from platescope.pipeline._scenarios import Scenario
from platescope.pipeline._stripping import STRIPPING_DEFAULTS

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

DEFAULTS = {
    "sims": {
        "model": "gaussian",
        "sigma0_um": 0.0,
        "background_fraction": None,
        "source_fraction": None,
        "film_thickness_um": None,
        "exclusion": "auto",
        "exclusion_z": 3.0,
        "oxygen_z": 5.0,
        "max_excluded_fraction": 0.25,
        "depth_scale_err": 0.0,
        "mass_bias": 1.0,
        "bootstrap": 200,
        "seed": 0,
    }
}
_TRACERS = ("6Li", "7Li")
_MIN_AMPLITUDE_SNR = 3.0


def _number(exp, key, value, *, low=None, high=None, allow_none=False):
    if value is None and allow_none:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        rng = f" in [{low}, {high}]" if low is not None or high is not None else ""
        raise InputError(
            exp.path,
            f"[analysis.sims] {key} = {value!r} is not a number{rng}",
            f"give {key} as a number{rng}",
        )
    return float(value)


def _check_params(exp, p: dict) -> dict:
    from platescope.models import TRACER_MODELS

    if p["model"] not in TRACER_MODELS:
        raise InputError(
            exp.path,
            f"[analysis.sims] model = {p['model']!r} is unknown",
            f"use one of {', '.join(TRACER_MODELS)}",
        )
    exc = p["exclusion"]
    if not (
        exc in ("auto", "none", "oxygen")
        or (isinstance(exc, int) and not isinstance(exc, bool) and exc >= 0)
    ):
        raise InputError(
            exp.path,
            f"[analysis.sims] exclusion = {exc!r} is not valid",
            "use 'auto', 'none', 'oxygen' or a number of leading points to drop",
        )
    _number(exp, "sigma0_um", p["sigma0_um"], low=0.0)
    _number(
        exp, "background_fraction", p["background_fraction"], low=0.0, high=1.0, allow_none=True
    )
    _number(exp, "source_fraction", p["source_fraction"], low=0.0, high=1.0, allow_none=True)
    _number(exp, "film_thickness_um", p["film_thickness_um"], low=0.0, allow_none=True)
    _number(exp, "exclusion_z", p["exclusion_z"], low=1.0)
    _number(exp, "oxygen_z", p["oxygen_z"], low=0.0)
    _number(exp, "max_excluded_fraction", p["max_excluded_fraction"], low=0.0, high=0.9)
    _number(exp, "depth_scale_err", p["depth_scale_err"], low=0.0, high=0.5)
    _number(exp, "mass_bias", p["mass_bias"], low=0.01, high=100.0)
    _number(exp, "bootstrap", p["bootstrap"], low=0, high=100000)
    return p


def _entry_values(exp, k: int, entry: dict) -> tuple[float, str, float | None]:
    name = f"[[sims]] entry {k + 1} ({entry['path']})"
    t = entry.get("anneal_time_s")
    if not (isinstance(t, int | float) and not isinstance(t, bool) and np.isfinite(t) and t > 0):
        raise InputError(
            exp.path,
            f"{name} has no positive anneal_time_s (got {t!r})",
            "add anneal_time_s = <diffusion time in s> to the entry",
        )
    tracer = entry.get("tracer")
    if tracer not in _TRACERS:
        raise InputError(
            exp.path,
            f"{name} has tracer = {tracer!r}",
            'write tracer = "6Li" or tracer = "7Li" (the isotope the deposited film is enriched in)',
        )
    dse = entry.get("depth_scale_err")
    if dse is not None and not (
        isinstance(dse, int | float) and not isinstance(dse, bool) and 0 <= dse <= 0.5
    ):
        raise InputError(
            exp.path,
            f"{name} has depth_scale_err = {dse!r}",
            "give the relative 1σ error of the depth scale, e.g. 0.01 for 1 %",
        )
    return float(t), tracer, None if dse is None else float(dse)


def _oxygen_column(profile: pd.DataFrame) -> str | None:
    for col in ("counts_18O", "counts_16O"):
        if col in profile:
            return col
    return next((c for c in profile.columns if c.startswith("counts_") and c.endswith("O")), None)


def _profile_step(exp, k: int, entry, p, summary) -> tuple:
    """One depth profile → its tracer fit (D, σ², exclusions); (result, curve, profile)."""
    from platescope import io, models

    t, tracer, dse = _entry_values(exp, k, entry)
    prof = io.read_sims(
        entry["path"],
        crater_depth_um=entry.get("crater_depth_um"),
        sputter_rate_um_s=entry.get("sputter_rate_um_s"),
    )
    other = "7Li" if tracer == "6Li" else "6Li"
    o_col = _oxygen_column(prof)
    exclusion = p["exclusion"]
    if exclusion == "oxygen" and o_col is None:
        raise InputError(
            entry["path"],
            "[analysis.sims] exclusion = 'oxygen' but the profile has no oxygen channel",
            "use exclusion = 'auto' or export a counts_18O / counts_16O column",
        )
    try:
        res = models.fit_tracer_profile(
            prof["depth_um"].to_numpy(),
            prof[f"counts_{tracer}"].to_numpy(),
            prof[f"counts_{other}"].to_numpy(),
            anneal_time_s=t,
            model=p["model"],
            sigma0_um=p["sigma0_um"],
            background_fraction=p["background_fraction"],
            source_fraction=p["source_fraction"],
            film_thickness_um=p["film_thickness_um"],
            oxygen_counts=None if o_col is None else prof[o_col].to_numpy(),
            exclusion=exclusion,
            exclusion_z=p["exclusion_z"],
            oxygen_z=p["oxygen_z"],
            max_excluded_fraction=p["max_excluded_fraction"],
            depth_scale_err=p["depth_scale_err"] if dse is None else dse,
            mass_bias=p["mass_bias"],
            bootstrap=int(p["bootstrap"]),
            seed=int(p["seed"]) + k,
        )
    except ValueError as err:
        raise InputError(
            entry["path"],
            f"the profile cannot be fitted ({err})",
            "check that the file is a tracer diffusion profile with Li counts at every depth",
        ) from None
    curve = res.pop("curve")
    res = {
        "path": entry["path"],
        "tracer": tracer,
        "depth_source": prof.attrs.get("depth_source"),
        "oxygen_channel": None if o_col is None else o_col.removeprefix("counts_"),
        **res,
    }
    snr = abs(res["amplitude"]) / res["amplitude_err"] if res["amplitude_err"] else np.inf
    if not (snr >= _MIN_AMPLITUDE_SNR and res["amplitude"] > 0 and res["D_cm2_s"] > 0):
        reason = (
            f"no significant tracer excess (amplitude {res['amplitude']:.3g} ± "
            f"{res['amplitude_err']:.2g}, {snr:.1f}σ); check that tracer names the "
            "isotope the film is enriched in"
            if snr < _MIN_AMPLITUDE_SNR or res["amplitude"] <= 0
            else "the fitted width is smaller than the depth resolution σ0"
        )
        res.update(D_cm2_s=None, D_err_cm2_s=None, D_reason=reason)
        summary["skipped"].append({"analysis": f"sims[{k}]", "reason": reason})
    return res, curve, prof


def _combined_step(rows, curves, profiles, p, out, summary) -> tuple:
    """σ² vs anneal time over the profiles → the combined D (k = 2 in the summary)."""
    from platescope import models, report

    good = [r for r in rows if r["D_cm2_s"] is not None]
    combined = None
    if good:
        combined = models.combine_anneal_times(
            [r["anneal_time_s"] for r in good],
            [r["sigma2_um2"] for r in good],
            [r["sigma2_err_um2"] for r in good],
            sigma0_um=p["sigma0_um"],
        )
    _write_outputs(out, rows, curves, profiles, combined, report)

    summary["sims"] = expand_errors(rows)
    if combined is not None and combined["D_cm2_s"] > 0:
        summary["sims_D_cm2_s"] = combined["D_cm2_s"]
        summary["sims_D_err_cm2_s"] = 2.0 * combined["D_err_cm2_s"]  # k = 2
        summary["sims_combined"] = expand_errors(combined)
        n = len(good)
        summary["headline"] = (
            f"D = {combined['D_cm2_s']:.3g} ± {2 * combined['D_err_cm2_s']:.2g} cm² s⁻¹ "
            f"from {n} SIMS profile{'s' if n > 1 else ''}"
        )
        D, D_err = combined["D_cm2_s"], combined["D_err_cm2_s"]
    else:
        summary["sims_D_cm2_s"] = None
        summary["sims_D_err_cm2_s"] = None
        summary["sims_D_cm2_s_reason"] = (
            "no profile gave a diffusion coefficient"
            if combined is None
            else "the s² vs t line has a non-positive slope"
        )
        summary["headline"] = "no diffusion coefficient from the SIMS profiles"
        D = D_err = None

    return D, D_err


def run(exp, out, summary: dict) -> None:
    """Compose the scenario's steps; fill ``summary`` and ``out`` (a StagedOutput)."""
    params = summary["parameters"]
    p = _check_params(
        exp, params.setdefault("sims", analysis_params(exp, "sims", DEFAULTS["sims"]))
    )
    if not exp.sims:
        summary["sims"] = []
        summary["sims_D_cm2_s"] = None
        summary["sims_D_cm2_s_reason"] = "the experiment file has no [[sims]] entries"
        summary["skipped"].append({"analysis": "sims", "reason": "no [[sims]] input"})
        return

    rows, curves, profiles = [], [], []
    for k, entry in enumerate(exp.sims):
        res, curve, prof = _profile_step(exp, k, entry, p, summary)
        rows.append(res)
        curves.append(curve)
        profiles.append(prof)
    D, D_err = _combined_step(rows, curves, profiles, p, out, summary)
    # ---- stripping limits from the combined D (pipeline/_stripping.py; 1σ error in)
    from platescope.pipeline._stripping import stripping_analyses

    stripping_analyses(D, D_err, out, summary, params=exp.analysis.get("stripping"))
    if summary.get("i_crit_uA_cm2") is None and D is None:
        summary["i_crit_uA_cm2_reason"] = "no diffusion coefficient from the SIMS profiles"
    elif summary.get("i_crit_uA_cm2") is not None:
        summary["headline"] += f"; i_crit ≈ {summary['i_crit_uA_cm2']:.0f} µA cm⁻² (√D model)"


def _write_outputs(out, rows, curves, profiles, combined, report) -> None:
    frames = []
    for k, (r, c, prof) in enumerate(zip(rows, curves, profiles, strict=True)):
        df = pd.DataFrame(
            {
                "profile": k,
                "anneal_time_s": r["anneal_time_s"],
                "point": np.arange(len(c["depth_um"])),
                "depth_um": c["depth_um"],
            }
        )
        for col in prof.columns:
            if col.startswith("counts_") or col == "time_s":
                df[col] = prof[col].to_numpy()
        df["tracer_fraction"] = c["f"]
        df["tracer_fraction_err"] = c["f_err"]
        df["excess_tracer"] = c["cprime"]
        df["excess_tracer_err"] = c["cprime_err"]
        df["fit_tracer_fraction"] = c["fit_f"]
        df["fit_excess_tracer"] = c["fit_cprime"]
        df["residual_sigma"] = c["z"]
        df["used"] = c["used"]
        frames.append(df)
        title = f"{r['tracer']} profile {k + 1}: t = {r['anneal_time_s']:g} s" + (
            f", D = {r['D_cm2_s']:.3g} cm² s⁻¹" if r["D_cm2_s"] is not None else ""
        )
        excluded = r["excluded_points"]
        out.figure(
            f"sims_profile_{k + 1}",
            report.fig_sims_profile(
                prof,
                {**r, "curve": c, "D_cm2_s": r["D_cm2_s"] or float("nan")},
                tracer=r["tracer"],
                title=title,
            ),
            title=f"SIMS profile {k + 1} (t = {r['anneal_time_s']:g} s)",
            caption=(
                f"Counts, {r['tracer']} fraction, excess tracer C′ against depth and depth² with the "
                f"{r['model']} fit, and residuals in counting σ. "
                + (
                    f"Surface points {', '.join(map(str, excluded))} (red ×, shaded) were excluded: "
                    f"{r['exclusion_rule']}."
                    if excluded
                    else "No surface point was excluded."
                )
            ),
        )
    out.table(
        "sims_profiles",
        pd.concat(frames, ignore_index=True),
        title="SIMS profiles with fits",
        errors="1sigma",
    )
    table_cols = [
        "path",
        "tracer",
        "anneal_time_s",
        "model",
        "D_cm2_s",
        "D_err_cm2_s",
        "sigma_um",
        "sigma_err_um",
        "background_fraction",
        "r2",
        "chi2_red",
        "n_points",
        "n_points_used",
    ]
    res = pd.DataFrame([{c: r.get(c) for c in table_cols} for r in rows])
    res["excluded_points"] = [" ".join(map(str, r["excluded_points"])) for r in rows]
    out.table("sims_results", res, title="Per-profile diffusion coefficients", errors="1sigma")
    good = [r for r in rows if r["D_cm2_s"] is not None]
    if len({r["anneal_time_s"] for r in good}) >= 2:
        out.figure(
            "sims_sigma2",
            report.fig_sims_sigma2(
                [r["anneal_time_s"] for r in good],
                [r["sigma2_um2"] for r in good],
                [r["sigma2_err_um2"] for r in good],
                combined=combined,
            ),
            title="Profile width vs anneal time",
            caption="s² of each profile (±95 %, counting statistics and depth scale) against the "
            "anneal time; the weighted line s² = 2Dt + s0² gives the combined D (slope/2) and the "
            "intercept s0² (depth resolution σ0², film thickness and time-zero terms).",
        )


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="sims-diffusion",
    title="SIMS isotope-tracer depth profiles: Li self-diffusion and stripping limits",
    run=run,
    inputs=("sims",),
    analyses={**DEFAULTS, "stripping": STRIPPING_DEFAULTS},
    simulator="platescope.simulate._sims_diffusion:sims_diffusion",
)
