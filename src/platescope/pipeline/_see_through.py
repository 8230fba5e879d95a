"""Scenarios ``see-through-au`` and ``see-through-ag``: see-through operando alloying
(SCIENCE.md §1).

Steps, each run when its inputs exist (otherwise recorded in ``skipped``):

1. echem → stages (SEI, alloying steps, Li metal; Li dissolution, dealloying) with
   times, mean potential and Li content x (needs ``[electrode]`` film_metal,
   film_thickness_nm, area_cm2) → ``echem.stages[]``; charges and CE per
   galvanostatic cycle → ``echem.cycles[]``;
2. trans movie (``[movie]``) on the echem clock → T = I/I₀ (I₀: frames before the
   current starts), A = −log₁₀ T → per alloying step of ``alloying.cycle``: onset map,
   t50, alloyed fraction vs time, Area Init / Area Fnl curves; complementarity r of
   steps 1 and 2; temporal colour code of step 1; montage by stage;
3. Li nucleation sites of that cycle's Li metal stage (dark disks in trans) → count,
   density, Clark–Evans R and Ripley's L with CSR envelopes; Pearson r of stage masks
   and the sites (``colocalization``);
4. pores (bright in trans) per cycle → ``pores[]``;
5. epi movie (``[epi]``, optional) → R/R₀ mean curve and montage.
"""

from __future__ import annotations

import math

import numpy as np

from platescope._errors import InputError
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
from platescope.pipeline._steps_shared import (
    CHRONOAMPEROMETRY,
    CHRONOAMPEROMETRY_DEFAULTS,
    CYCLES,
    CYCLES_DEFAULTS,
    echem_context,
)

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")
xr = lazy_module("xarray")

DEFAULTS = {
    "stages": {"smooth_frac": 0.006, "min_snr": 6.0, "min_step_V": 0.01},
    "alloying": {
        "cycle": 1,
        "level": 0.5,
        "sigma_um": 0.08,
        "n_edge": 3,
        "min_rise": 0.25,
        "region_fraction": 0.1,
    },
    # sites: Li disks are isolated (they nucleate with a hard core), so no watershed
    # split of flat-topped disks into several sites
    "sites": {"min_area_um2": 0.05, "k_sigma": 6.0, "smooth_px": 1.0, "split": False},
    # pores: change vs the pristine film (T = 1) of at least 0.4 — above the largest
    # contrast of alloying patterns (ΔT ≤ 0.35), well below that of a hole (≈ 0.9)
    "pores": {"min_area_um2": 0.02, "min_contrast": 0.4, "k_sigma": 6.0, "smooth_px": 0.5},
    "spatial": {"n_sim": 99, "seed": 0},
}


def _params(exp, name):
    return analysis_params(exp, name, DEFAULTS[name])


def _movie_on_echem_clock(exp, section: dict, offset_s: float):

    m = read_movie_section(section)
    return m.assign_coords(t=m.t.values - offset_s)


def _optical_signal(movie: xr.DataArray):
    """(signal that rises on alloying, name, normalised intensity) of a trans/epi movie."""
    from platescope import optics

    mode = (movie.attrs.get("mode") or "trans").lower()
    t = movie.t.values
    kw = {"t_ref_s": 0.0} if (t < 0).any() else {"n_ref": 1}
    if mode == "epi":
        r = optics.relative_reflectivity(movie, **kw)
        return np.log10(r.where(r > 0)).astype(np.float32), "log10(R/R0)", r, kw
    T = optics.transmittance(movie, **kw)
    return optics.absorbance(T), "A = -log10(T)", T, kw


def _stage_rows(stages: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(stages)


def _echem_part(exp, echem, p_st, out, summary) -> dict | None:
    from platescope import echem as echem_mod

    el = exp.electrode
    n_host = None
    x_reason = None
    try:
        if el.get("film_metal") and el.get("film_thickness_nm") and el.get("area_cm2"):
            n_host = echem_mod.host_moles(
                el["film_metal"], float(el["film_thickness_nm"]), float(el["area_cm2"])
            )
        else:
            x_reason = "x needs [electrode] film_metal, film_thickness_nm and area_cm2"
    except ValueError as err:
        x_reason = str(err)
    res = echem_mod.find_stages(
        echem, film_metal=el.get("film_metal") or None, n_host_mol=n_host, **p_st
    )
    for w in res.get("warnings") or []:
        add_warning(summary, w["code"], w["message"], "echem.stages")
    ech = summary.setdefault("echem", {})
    ech["stages"] = expand_errors(res["stages"]) if res["found"] else None
    ech["stages_method"] = res["method"]
    ech["stages_naming"] = res["naming"]
    ech["half_cycles"] = [
        {
            k: v
            for k, v in h.items()
            if k
            in (
                "cycle",
                "half",
                "t_start_s",
                "t_end_s",
                "found",
                "n_transitions",
                "n_kinks",
                "merged_at_s",
                "reason",
            )
        }
        for h in res["half_cycles"]
    ]
    if not res["found"]:
        ech["stages_reason"] = res["reason"]
        summary["skipped"].append({"analysis": "echem.stages", "reason": res["reason"]})
    if n_host:
        ech["n_host_mol"] = n_host
        ech["Q_per_x_C"] = n_host * 96485.33212
    elif x_reason:
        ech["x_reason"] = x_reason
    ctx = echem_context(echem)
    run_step(CYCLES, exp, out, summary, context=ctx)
    run_step(CHRONOAMPEROMETRY, exp, out, summary, context=ctx)
    if res["found"]:
        out.table(
            "stages",
            _stage_rows(res["stages"]),
            title="Stages from the potential record",
            errors="1sigma",
        )
    return res


def _stage(stages, cycle, name):
    for s in stages:
        if s["cycle"] == cycle and s["name"] == name:
            return s
    return None


def _echem_step(exp, out, summary) -> tuple:
    """echem → stages, cycles, chronoamperometry and the stages figure; (echem, found stages)."""
    from platescope import report

    skipped = summary["skipped"]
    params = summary["parameters"]
    echem = None
    stages: list[dict] = []
    if exp.echem:
        echem = read_echem_section(exp)
        p_st = params.setdefault("stages", _params(exp, "stages"))
        res = _echem_part(exp, echem, p_st, out, summary)
        # rows of tabulated stages the record does not show (found = False, null times)
        # stay in summary.json and the table; the movie analyses use the found ones
        stages = [s for s in res["stages"] if s["found"]] if res and res["found"] else []
        out.figure(
            "stages",
            report.fig_stages(echem, stages, n_host_mol=summary["echem"].get("n_host_mol")),
            title="Potential and stages",
            caption="Galvanostatic record with the stages found from it (shaded, named); right: "
            "E against the Li content x of the first cathodic half-cycle.",
        )
    else:
        skipped.append({"analysis": "echem.stages", "reason": "no [echem] input"})

    return echem, stages


#: Appended to a refused see-through registration's warning: what to do about it.
STATIC_REGION_HINT = (
    "A see-through film changes everywhere as it alloys, so only a part of the field "
    "that does not alloy can be registered on: give [analysis.registration] region_um = "
    "[x0, x1, y0, y1] (µm, at least 16 px each way) over it (bare glass beyond the film's "
    'edge, a mask or the separator), or region = "auto" to look for a static band along a '
    "side of the field"
)


#: ``[analysis.registration]`` of see-through-au/ag: on, on the band of the field that
#: never changes (region "auto"); with no such band it is refused, not applied.
SEE_THROUGH_REGISTRATION = registration_defaults(
    region="auto",
    why="The alloying film changes everywhere, so it registers on a static band along a "
    "side of the field (region auto) and refuses when there is none",
)


def _static_region(movie, exclude=None) -> dict:
    """The band of the field that never changes (see-through ``region = "auto"``),
    the bad frames (``exclude``) left out."""
    from platescope import optics

    found = optics.find_static_region(movie, exclude=exclude)
    found.pop("mask", None)
    return found


def _movie_step(exp, out, summary, offset: float) -> dict:
    """The primary movie on the echem clock → its optical signal and mean intensity."""
    movie = _movie_on_echem_clock(exp, exp.movie, offset)
    # bad frames out, drift undone; region = "auto": the band of the field that never
    # changes (the alloying film changes everywhere and is back at the end of a cycle)
    movie = stabilize_section_movie(
        movie,
        exp,
        out,
        summary,
        find_region=_static_region,
        uncertain_hint=STATIC_REGION_HINT,
        defaults=SEE_THROUGH_REGISTRATION,
    )
    summary["movie"] = {
        "mode": movie.attrs.get("mode"),
        "n_frames": int(movie.sizes["t"]),
        "pixel_size_um": float(abs(movie.x.values[1] - movie.x.values[0])),
        "time_offset_s": offset,
        "clock": "echem (movie t − [echem] time_offset_s)",
    }
    px = summary["movie"]["pixel_size_um"]
    signal, sig_name, norm_int, ref_kw = _optical_signal(movie)
    mean_da = norm_int.mean(("y", "x"))
    if hasattr(signal.data, "dask"):
        import dask

        # one pass over the movie for both (they share the read and the normalisation)
        signal, mean_da = dask.compute(signal, mean_da)
    t_f = movie.t.values
    mean_int = np.asarray(mean_da.values, float)
    out.table(
        "mean_intensity",
        pd.DataFrame({"time_s": t_f, "normalised_intensity": mean_int}),
        title=f"Mean normalised intensity ({movie.attrs.get('mode')})",
    )
    optics_out: dict = {"signal": sig_name, "reference": ref_kw}
    summary["optics"] = optics_out
    return {
        "movie": movie,
        "px": px,
        "signal": signal,
        "sig_name": sig_name,
        "norm_int": norm_int,
        "t_f": t_f,
        "mean_int": mean_int,
        "optics_out": optics_out,
    }


def _alloying_step(mv: dict, stages, echem, p_al, out, summary) -> tuple:
    """Onset maps, alloyed fraction and regional curves of each alloying stage of one cycle."""
    from platescope import optics, report

    skipped = summary["skipped"]
    signal, sig_name, t_f, px = mv["signal"], mv["sig_name"], mv["t_f"], mv["px"]
    optics_out = mv["optics_out"]
    cyc = int(p_al["cycle"])
    alloy_stages = [s for s in stages if s["cycle"] == cyc and s["name"].startswith("alloying")]
    onset: dict[int, xr.DataArray] = {}
    curves: dict[int, pd.DataFrame] = {}
    fractions: dict[int, pd.DataFrame] = {}
    if not alloy_stages:
        optics_out["alloying"] = None
        optics_out["alloying_reason"] = (
            f"no alloying stage was found in cycle {cyc} of the potential record"
            if echem is not None
            else "the stage windows come from the potential record, and there is none"
        )
        skipped.append({"analysis": "optics.alloying", "reason": optics_out["alloying_reason"]})
    rows = []
    for s in alloy_stages:
        j = int(s["name"].split()[-1])
        try:
            om = optics.onset_map(
                signal,
                t_start_s=s["t_start_s"],
                t_end_s=s["t_end_s"],
                level=p_al["level"],
                n_edge=p_al["n_edge"],
                sigma_um=p_al["sigma_um"],
                min_rise=p_al["min_rise"],
            )
        except InputError as err:
            skipped.append({"analysis": f"optics.alloying {j}", "reason": str(err)})
            continue
        vals = om.values[np.isfinite(om.values)]
        if vals.size < max(10, 0.01 * om.size):
            reason = (
                f"alloying {j}: no pixel's signal rises significantly within the stage window; "
                "the movie shows no alloying there"
            )
            rows.append(
                {"step": j, "cycle": cyc, "t50_s": None, "onset_map_path": None, "reason": reason}
            )
            skipped.append({"analysis": f"optics.alloying {j}", "reason": reason})
            continue
        onset[j] = om
        rel = out.map(f"onset_alloying_{j}", om.values, pixel_size_um=px)
        tw = t_f[(t_f >= s["t_start_s"]) & (t_f <= s["t_end_s"])]
        fr = optics.alloyed_fraction(om, tw)
        fractions[j] = fr
        regions = optics.extreme_regions(om, fraction=p_al["region_fraction"])
        nrm = optics.normalize_window(
            signal,
            t_start_s=s["t_start_s"],
            t_end_s=s["t_end_s"],
            n_edge=p_al["n_edge"],
            sigma_um=p_al["sigma_um"],
        )
        cv = optics.regional_curves(nrm, {"area_init": regions["init"], "area_fnl": regions["fnl"]})
        curves[j] = cv
        t50 = float(np.median(vals)) if vals.size else None
        rows.append(
            {
                "step": j,
                "cycle": cyc,
                "t50_s": t50,
                "onset_map_path": rel,
                "onset_sd_s": float(vals.std()) if vals.size > 1 else None,
                "n_pixels": int(vals.size),
                "window_s": [s["t_start_s"], s["t_end_s"]],
            }
        )
        out.table(
            f"alloyed_fraction_{j}",
            fr.merge(cv.rename(columns={"t_s": "t_s"}), on="t_s", how="left"),
            title=f"Alloying step {j}: alloyed fraction and regional normalised {sig_name}",
        )
    if alloy_stages:
        optics_out["alloying"] = expand_errors(rows)
    if 1 in onset and 2 in onset:
        comp = optics.complementarity(onset[1], onset[2])
        optics_out["complementarity_r"] = comp["r"]
        optics_out["complementarity_r_continuous"] = comp["r_continuous"]
        optics_out["complementarity_definition"] = comp.get("definition") or comp.get("reason")
    else:
        optics_out["complementarity_r"] = None
        optics_out["complementarity_reason"] = "needs onset maps of alloying steps 1 and 2"

    if onset:
        out.figure(
            "onset_maps",
            report.fig_onset_maps(onset),
            title="Alloying onset maps",
            caption=f"Per-pixel time at which the normalised {sig_name} of each alloying step "
            f"(cycle {cyc}) crosses {p_al['level']:g}.",
        )
        out.figure(
            "alloyed_fraction",
            report.fig_alloyed_fraction(fractions),
            title="Alloyed fraction",
            caption="Fraction of the field past its onset, per alloying step.",
        )
        out.figure(
            "regional_curves",
            report.fig_regional_curves(curves),
            title="Regional alloying curves",
            caption="Normalised signal of the whole field (mean) and of the automatically found "
            f"first (Area Init) and last (Area Fnl) {p_al['region_fraction']:.0%} of the field.",
        )
    return onset, cyc


def _views_step(mv: dict, stages, onset, cyc, out) -> None:
    """Temporal colour code of alloying step 1 and the montage by stage."""
    from platescope import optics, report

    signal, norm_int, movie = mv["signal"], mv["norm_int"], mv["movie"]
    s1 = _stage(stages, cyc, "alloying 1")
    if onset and s1 is not None:
        win = optics.group_average(signal.sel(t=slice(s1["t_start_s"], s1["t_end_s"])), size=2)
        inc = optics.gaussian_blur(win.diff("t"), sigma_um=0.12)
        iv = np.asarray(inc.values, float)
        floor = 3.0 * 1.4826 * float(np.nanmedian(np.abs(iv - np.nanmedian(iv))))
        rgb = optics.temporal_color_code(inc, noise_floor=floor)
        out.figure(
            "temporal_color",
            report.fig_temporal_color(rgb),
            title="Temporal colour code of alloying step 1",
            caption="Per-frame increase of the signal coloured by its time (LUT) and merged by "
            "maximum projection, as Fiji's Temporal-Color Code.",
        )

    # montage rows by stage (cycle of the analysis); every row's frames read together
    from platescope._frame_blocks import read_frames
    from platescope.optics._alloying import _montage_indices

    picks = []
    for s in stages:
        if s["cycle"] == cyc and s["half"] == "cathodic":
            try:
                picks.append((s, _montage_indices(norm_int, s["t_start_s"], s["t_end_s"], 6)))
            except InputError:
                continue
    union = sorted({int(k) for _, idx in picks for k in idx})
    # one computation for every row: each chunk holding a shown frame computed once
    shown = norm_int.isel(t=union).copy(data=read_frames(norm_int, union)) if union else None
    rows_m = [
        (
            s["name"],
            optics.montage_frames(
                shown.isel(t=[union.index(int(k)) for k in idx]),
                t_start_s=s["t_start_s"],
                t_end_s=s["t_end_s"],
                n=6,
            ),
        )
        for s, idx in picks
    ]
    if rows_m:
        out.figure(
            "montage",
            report.fig_montage(rows_m),
            title="Montage by stage",
            caption=f"Normalised {movie.attrs.get('mode')} frames at even intervals of each "
            "stage; each row is normalised to its own range.",
        )


def _epi_step(exp, mv: dict, stages, offset: float, out, summary) -> None:
    """The epi movie's mean R/R₀ (when given) beside the primary movie's mean intensity."""
    from platescope import report

    movie, t_f, mean_int = mv["movie"], mv["t_f"], mv["mean_int"]
    if exp.epi:
        epi = _movie_on_echem_clock(exp, exp.epi, offset)
        _, ename, enorm, _ = _optical_signal(epi)
        summary["epi"] = {"mode": epi.attrs.get("mode"), "n_frames": int(epi.sizes["t"])}
        emean = np.asarray(enorm.mean(("y", "x")).values, float)
        out.table(
            "epi_mean",
            pd.DataFrame({"time_s": epi.t.values, "normalised_intensity": emean}),
            title=f"Mean normalised intensity ({epi.attrs.get('mode')})",
        )
        out.figure(
            "intensity_curves",
            report.fig_intensity_curves(
                {
                    movie.attrs.get("mode") or "movie": (t_f, mean_int),
                    epi.attrs.get("mode") or "epi": (epi.t.values, emean),
                },
                stages=stages,
            ),
            title="Mean intensity",
            caption="Field-mean T = I/I₀ (trans) and R/R₀ (epi) with the stages shaded.",
        )
    else:
        out.figure(
            "intensity_curves",
            report.fig_intensity_curves(
                {movie.attrs.get("mode") or "movie": (t_f, mean_int)}, stages=stages
            ),
            title="Mean intensity",
            caption="Field-mean normalised intensity with the stages shaded.",
        )


def run(exp, out, summary: dict) -> None:
    """Compose the scenario's steps; fill ``summary`` and ``out`` (a StagedOutput)."""
    from platescope import report

    offset = float(exp.echem.get("time_offset_s") or 0.0) if exp.echem else 0.0
    echem, stages = _echem_step(exp, out, summary)
    if not exp.movie:
        summary["skipped"].append({"analysis": "optics", "reason": "no [movie] input"})
        _headline(summary)
        return
    p_al = summary["parameters"].setdefault("alloying", _params(exp, "alloying"))
    mv = _movie_step(exp, out, summary, offset)
    onset, cyc = _alloying_step(mv, stages, echem, p_al, out, summary)
    _views_step(mv, stages, onset, cyc, out)
    norm_int, px = mv["norm_int"], mv["px"]
    sites = _sites_and_stats(exp, norm_int, stages, onset, cyc, px, out, summary)
    pores = _pores(exp, norm_int, stages, px, out, summary)
    if sites is not None or pores is not None:
        out.figure(
            "size_distributions",
            report.fig_size_distributions(
                sites["area_um2"] if sites is not None and "area_um2" in sites else [],
                pores["area_final_um2"] if pores is not None and len(pores) else [],
            ),
            title="Sizes of Li disks and pores",
            caption=f"Cross-sections of the Li disks at the end of the Li metal stage (cycle {cyc}) "
            "and final areas of the pores.",
        )

    _epi_step(exp, mv, stages, offset, out, summary)
    _headline(summary)


def _sites_and_stats(exp, norm_int, stages, onset, cyc, px, out, summary) -> None:
    from platescope import particles, report, stats

    skipped = summary["skipped"]
    li = _stage(stages, cyc, "Li metal")
    if li is None:
        summary["sites"] = {"count": None, "reason": f"no Li metal stage found in cycle {cyc}"}
        skipped.append({"analysis": "sites", "reason": summary["sites"]["reason"]})
        return None
    params = summary["parameters"]
    p_s = params.setdefault("sites", _params(exp, "sites"))
    # Li disks: opaque (dark) in trans, bright in epi
    polarity = "bright" if (norm_int.attrs.get("mode") or "").lower() == "epi" else "dark"
    sites = particles.detect_sites(
        norm_int, t_start_s=li["t_start_s"], t_end_s=li["t_end_s"], polarity=polarity, **p_s
    )
    ny, nx = norm_int.sizes["y"], norm_int.sizes["x"]
    x0, y0 = float(norm_int.x.values[0]) - px / 2, float(norm_int.y.values[0]) - px / 2
    window = (x0, x0 + nx * px, y0, y0 + ny * px)
    area_um2 = (window[1] - window[0]) * (window[3] - window[2])
    n = len(sites)
    summary["sites"] = {
        "count": n,
        "density_um2": n / area_um2,
        # Poisson sampling error of the density (the count itself is exact)
        "density_um2_err": math.sqrt(n) / area_um2 if n else None,
        "density_cm2": n / area_um2 * 1e8,
        "density_cm2_err": math.sqrt(n) / area_um2 * 1e8 if n else None,
        "cycle": cyc,
        "window_um": list(window),
        "path": out.table(
            "sites", sites, title=f"Li nucleation sites (cycle {cyc})", errors="1sigma"
        ),
    }
    summary["sites"] = expand_errors(summary["sites"])
    # colocalisation: stage masks vs the Li sites (disks of the measured area)
    if onset and n:
        yy, xx = np.meshgrid(norm_int.y.values, norm_int.x.values, indexing="ij")
        li_mask = np.zeros((ny, nx), bool)
        for r in sites.itertuples(index=False):
            rad = math.sqrt(max(float(getattr(r, "area_um2", 0.0)), px * px) / math.pi)
            li_mask |= (yy - r.y_um) ** 2 + (xx - r.x_um) ** 2 <= rad * rad
        masks: dict[str, np.ndarray] = {}
        for j, om in sorted(onset.items()):
            v = om.values
            ok = np.isfinite(v)
            med = np.nanmedian(v)
            masks[f"S{j}s"] = ok & (v <= np.nanquantile(v, 0.1))
            masks[f"S{j}m"] = ok & (v <= med)
            masks[f"S{j}m_unalloyed"] = ok & (v > med)
        masks["Li"] = li_mask
        coloc = {}
        if "S1m_unalloyed" in masks and "S2m" in masks:
            coloc["S1m_unalloyed & S2m"] = float(
                stats.pearson_r(masks["S1m_unalloyed"].astype(float), masks["S2m"].astype(float))
            )
        for j in sorted(onset)[:4]:
            coloc[f"S{j}s & Li"] = float(
                stats.pearson_r(masks[f"S{j}s"].astype(float), li_mask.astype(float))
            )
            coloc[f"S{j}m & Li"] = float(
                stats.pearson_r(masks[f"S{j}m"].astype(float), li_mask.astype(float))
            )
        summary["colocalization"] = coloc
        mat = stats.pearson_matrix({k: v.astype(float) for k, v in masks.items()})
        out.table(
            "pearson_matrix", mat.reset_index(), title="Pearson r of stage masks and Li sites"
        )
        out.figure(
            "pearson_heatmap",
            report.fig_pearson_heatmap(mat),
            title="Colocalisation of stages and Li sites",
            caption="Pearson r between binary masks: S<j>s = first 10 % of step j, S<j>m = alloyed "
            "at the middle of step j (…_unalloyed: not yet), Li = nucleation sites.",
        )
    if not (onset and n):
        summary["colocalization"] = None
        summary["colocalization_reason"] = (
            "no Li nucleation site was found" if not n else "no alloying onset map"
        )
    # spatial statistics of the sites
    if n >= 3:
        p_sp = params.setdefault("spatial", _params(exp, "spatial"))
        pts = sites[["x_um", "y_um"]].to_numpy(float)
        ce = stats.clark_evans(pts, window=window)
        env = stats.ripley_envelope(pts, window=window, n_sim=p_sp["n_sim"], seed=p_sp["seed"])
        csr = stats.csr_test(pts, window=window, n_sim=p_sp["n_sim"], seed=p_sp["seed"])
        summary["spatial"] = {
            "clark_evans_R": ce.get("R"),
            "z": ce.get("z"),
            "p_value": ce.get("p_value"),
            "n": n,
            "csr_test": {k: v for k, v in csr.items() if isinstance(v, (int, float, bool, str))},
            "ripley_path": out.table(
                "ripley_L", env, title="Ripley's L of the Li sites with CSR envelope"
            ),
        }
        out.figure(
            "sites_spatial",
            report.fig_sites_spatial(norm_int.sel(t=li["t_end_s"], method="nearest"), sites, env),
            title="Li nucleation sites",
            caption="Sites on the last frame of the Li metal stage, and Ripley's L(r) − r with the "
            "pointwise CSR envelope.",
        )
    else:
        summary["spatial"] = {
            "clark_evans_R": None,
            "p_value": None,
            "reason": "fewer than 3 sites",
        }
    return sites


def _pores(exp, norm_int, stages, px, out, summary) -> None:
    from platescope import particles, report

    skipped = summary["skipped"]
    params = summary["parameters"]
    p_p = params.setdefault("pores", _params(exp, "pores"))
    diss = [s for s in stages if s["name"] == "Li dissolution"]
    if not diss:
        summary["pores"] = None
        skipped.append({"analysis": "pores", "reason": "no Li dissolution stage found"})
        return None
    ny, nx = norm_int.sizes["y"], norm_int.sizes["x"]
    pristine = np.ones((ny, nx), np.float32)  # T (or R/R0) of the film before the current
    polarity = "dark" if (norm_int.attrs.get("mode") or "").lower() == "epi" else "bright"
    pores, areas = particles.track_pores(
        norm_int, polarity=polarity, t_start_s=diss[0]["t_start_s"], reference=pristine, **p_p
    )
    ends = []
    for c in sorted({s["cycle"] for s in stages}):
        cs = [s for s in stages if s["cycle"] == c]
        if any(s["half"] == "anodic" for s in cs):
            ends.append(
                {
                    "cycle": c,
                    "t_start_s": min(s["t_start_s"] for s in cs),
                    "t_end_s": max(s["t_end_s"] for s in cs),
                }
            )
    field = ny * nx * px * px
    stats_c = particles.pore_cycle_stats(
        areas, cycles=pd.DataFrame(ends), field_area_um2=field, pores=pores
    )
    summary["pores"] = [
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
        for r in stats_c.to_dict("records")
    ]
    out.table("pores", pores, title="Pores (emergence, position, final area)")
    out.table("pore_areas", areas, title="Pore area over time")
    out.table("pores_per_cycle", stats_c, title="Pores at the end of each cycle")
    out.figure(
        "pores_per_cycle",
        report.fig_pores_per_cycle(stats_c),
        title="Pores per cycle",
        caption="Pore count and pore area fraction at the end of each cycle.",
    )
    return pores


def _headline(summary: dict) -> None:
    parts = []
    st = (summary.get("echem") or {}).get("stages") or []
    al = [
        s
        for s in st
        if s["cycle"] == 1 and s.get("found", True) and s["name"].startswith("alloying")
    ]
    if al and al[0].get("x_end") is not None:
        parts.append(
            f"{len(al)} alloying steps to x = " + ", ".join(f"{s['x_end']:.2f}" for s in al)
        )
    elif not st:
        parts.append("no stages found in the potential record")
    r = (summary.get("optics") or {}).get("complementarity_r")
    if r is not None:
        parts.append(f"complementarity r = {r:.2f}")
    n = (summary.get("sites") or {}).get("count")
    if n is not None:
        parts.append(f"{n} Li sites")
    pores = summary.get("pores") or []
    if pores:
        parts.append("pores " + "→".join(str(p.get("count")) for p in pores))
    summary["headline"] = "; ".join(parts) or summary.get("scenario", "")


_ANALYSES = {
    **DEFAULTS,
    "cycles": CYCLES_DEFAULTS,
    "chronoamperometry": CHRONOAMPEROMETRY_DEFAULTS,
    "registration": SEE_THROUGH_REGISTRATION,
}

#: The registry entries (pipeline/_scenarios.py).
SCENARIOS = (
    Scenario(
        name="see-through-au",
        title="See-through operando Li–Au alloying: stages, onset maps, sites, pores",
        run=run,
        inputs=("echem", "movie", "epi"),
        analyses=_ANALYSES,
        simulator="platescope.simulate._see_through:see_through_au",
    ),
    Scenario(
        name="see-through-ag",
        title="See-through operando Li–Ag alloying: stages, onset maps, sites, pores",
        run=run,
        inputs=("echem", "movie", "epi"),
        analyses=_ANALYSES,
        simulator="platescope.simulate._see_through:see_through_ag",
    ),
)
