"""Scenario ``afm``: in situ AFM height maps over time (SCIENCE.md §4; docs/afm.md).

Inputs: ``[[afm_maps]]`` entries (``path``, ``time_s``; ``pixel_size_um`` for files
without a lateral size such as PicoView ``.mi``; ``channel`` to pick a channel;
``z_unit`` for files that do not state the height unit; ``frame_interval_s`` for a
multi-page height TIFF, whose frames are then ``time_s + k · frame_interval_s``).

Steps: ``levelling`` (row alignment by the median of row differences, then a
polynomial background with deposits masked iteratively), ``roughness`` (ISO 25178-2
Sa, Sq, Ssk, Sku, Sp, Sv, Sz, Sdr per map; Sq ± tile standard error; roughness vs
time), ``profiles`` (a line through the highest feature of the last map, or the
user's line, at every time) and ``growth`` (maps registered by phase correlation;
per-pixel height rates; features vs flat areas with an autocorrelation-corrected
Welch test). ``summary["afm"]`` holds ``maps[]``, ``profile``, ``growth`` and
``height_change``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._params import Param
from platescope.io._experiment import Section
from platescope.pipeline._common import add_warning, expand_errors
from platescope.pipeline._scenarios import Scenario, Step, run_step

DEFAULTS: dict[str, dict[str, Any]] = {
    "levelling": {
        "line_method": Param(
            "median-difference",
            str,
            "scan-line correction before the plane fit",
            choices=("median-difference", "median", "poly", "none"),
        ),
        "plane_order": Param(2, int, "polynomial background degree (1 plane, 2 bow)", 0, 5),
        "k_sigma": Param(2.5, float, "deposit mask threshold, robust sd above the fit", 1, 10),
        "passes": Param(3, int, "row + background passes, the deposit mask fed back", 1, 5),
    },
    "roughness": {
        "tiles": Param(4, int, "tiles per side for the Sq standard error", 2, 16),
    },
    "profiles": {
        "line_um": Param(
            "auto",
            str,
            "'auto' (row through the highest feature of the last map) or 'y0,x0,y1,x1' in µm",
        ),
        "width_px": Param(1, int, "profile line width, px", 1, 50),
    },
    "growth": {
        "feature_method": Param(
            "above-substrate",
            str,
            "how features are found on the first map",
            choices=("above-substrate", "top-quantile", "ridges"),
        ),
        "k_sigma": Param(3.0, float, "above-substrate threshold, robust sd", 1, 20),
        "quantile": Param(0.85, float, "top-quantile height quantile", 0.5, 0.99),
        "buffer_px": Param(2, int, "pixels around features kept out of the flat group", 0, 20),
        "erode_px": Param(2, int, "feature-edge pixels kept out of the feature group", 0, 20),
        "register": Param(True, bool, "register the maps by phase correlation"),
        "alpha": Param(0.05, float, "significance level", 1e-6, 0.5),
    },
}

_ISO_KEYS = ("Sa_nm", "Sq_nm", "Ssk", "Sku", "Sp_nm", "Sv_nm", "Sz_nm", "Sdr_percent")


def _read_maps(exp) -> list[dict[str, Any]]:
    """Every map of ``[[afm_maps]]`` with its time, sorted by time (frames expanded)."""
    from platescope import io

    maps = []
    for e in exp.section("afm_maps"):
        if "time_s" not in e:
            raise InputError(
                exp.path,
                f"[[afm_maps]] entry {e['path']} has no time_s",
                "give each map its time_s (s from the start of the experiment)",
            )
        h = io.read_height_map(
            e["path"],
            channel=e.get("channel"),
            pixel_size_um=e.get("pixel_size_um"),
            z_unit=e.get("z_unit"),
        )
        if h.ndim == 3:
            dt = e.get("frame_interval_s")
            if dt is None:
                raise InputError(
                    e["path"],
                    f"the file holds {h.sizes['frame']} height frames but no frame interval",
                    "give frame_interval_s in its [[afm_maps]] entry",
                )
            for k in range(h.sizes["frame"]):
                frame = h.isel(frame=k, drop=True)
                maps.append(
                    {"path": str(e["path"]), "frame": k, "time_s": e["time_s"] + k * dt, "h": frame}
                )
        else:
            maps.append({"path": str(e["path"]), "frame": None, "time_s": e["time_s"], "h": h})
    maps.sort(key=lambda m: m["time_s"])
    times = [m["time_s"] for m in maps]
    if len(set(times)) != len(times):
        raise InputError(
            exp.path,
            f"two [[afm_maps]] share a time ({times})",
            "give each map its own time_s",
        )
    return maps


def _levelling(exp, params, out, summary) -> list[dict[str, Any]]:
    from platescope import surface

    maps = _read_maps(exp)
    line = None if params["line_method"] == "none" else params["line_method"]
    for m in maps:
        r = surface.level_map(
            m["h"],
            line_method=line,
            order=params["plane_order"],
            k_sigma=params["k_sigma"],
            passes=params["passes"],
        )
        m["level"] = r
        if r["height"] is None:
            m["reason"] = f"levelling failed: {r['reason']}"
    return maps


def _name(m: dict[str, Any], n: int) -> str:
    stem = Path(m["path"]).stem
    return f"{n:02d}_{stem}" + ("" if m["frame"] is None else f"_f{m['frame']}")


def _roughness(maps, params, out, summary) -> list[dict[str, Any]]:
    from platescope import report, surface

    rows = []
    for n, m in enumerate(maps):
        row: dict[str, Any] = {"path": m["path"], "time_s": float(m["time_s"])}
        if m["frame"] is not None:
            row["frame"] = m["frame"]
        lev = m.get("level") or {}
        h = lev.get("height")
        row["channel"] = m["h"].attrs.get("channel")
        row["pixel_size_um"] = m["h"].attrs.get("pixel_size_um")
        row["shape"] = list(m["h"].shape)
        if h is None:
            row.update(dict.fromkeys(_ISO_KEYS))
            row["reason"] = m.get("reason", "not levelled")
            rows.append(row)
            continue
        p = surface.areal_parameters(h)
        e = surface.tile_sq_err(h, tiles=params["tiles"])
        row.update({k: p.get(k) for k in _ISO_KEYS})
        for k in _ISO_KEYS:
            if f"{k}_reason" in p:
                row[f"{k}_reason"] = p[f"{k}_reason"]
        if p.get("reason"):
            row["reason"] = p["reason"]
        row["Sq_err_nm"] = e.get("Sq_err_nm")
        row["noise_sd_nm"] = p.get("noise_sd_nm")
        row["Sdr_noise_percent"] = p.get("Sdr_noise_percent")
        row["n_pixels"] = p.get("n_pixels")
        row["masked_fraction"] = lev.get("excluded_fraction")
        row["residual_sd_nm"] = lev.get("residual_sd_nm")
        row["warnings"] = list(lev.get("warnings", [])) + list(p.get("warnings", []))
        m["name"] = _name(m, n)
        row["map_path"] = out.map(
            f"height_{m['name']}", h.values, pixel_size_um=h.attrs.get("pixel_size_um")
        )
        rows.append(row)
    good = [m for m in maps if (m.get("level") or {}).get("height") is not None]
    for m in good[:1] + (good[-1:] if len(good) > 1 else []):
        out.figure(
            f"height_{m['name']}",
            report.fig_height_map(m["level"]["height"], title=f"t = {m['time_s']:g} s"),
            title=f"Levelled height map, t = {m['time_s']:g} s",
            caption="Rows aligned (median of row differences), polynomial background fitted "
            "to the substrate with deposits masked out; colour range 0.5–99.5 % of heights.",
        )
    if len(rows) > 1:
        out.figure(
            "roughness_vs_time",
            report.fig_roughness_vs_time(rows),
            title="Roughness vs time",
            caption="Sa and Sq (ISO 25178-2) of each levelled map; error bars: Sq standard "
            "error from its spread over tiles, ± 2 SE (k = 2, as in the summary).",
        )
    import pandas as pd

    table = pd.DataFrame([{k: v for k, v in r.items() if k != "warnings"} for r in rows])
    out.table("roughness", table, title="Areal roughness per map (ISO 25178-2)", errors="1sigma")
    summary.setdefault("afm", {})["maps"] = expand_errors(rows)
    return rows


def _line(params, last, summary) -> dict[str, Any] | None:
    from platescope import surface

    text = str(params["line_um"]).strip().lower()
    if text == "auto":
        return surface.auto_profile_line(last)
    try:
        y0, x0, y1, x1 = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(
            None,
            f"[analysis.profiles] line_um = {params['line_um']!r} is not 'auto' or 'y0,x0,y1,x1'",
            'give line_um = "auto" or four numbers in µm, e.g. "1.0,0.0,1.0,5.0"',
        ) from None
    return {"start_um": (y0, x0), "end_um": (y1, x1)}


def _profiles(maps, params, out, summary) -> None:
    from platescope import report, surface

    good = [m for m in maps if (m.get("level") or {}).get("height") is not None]
    if not good:
        summary["skipped"].append({"analysis": "profiles", "reason": "no levelled map"})
        return
    last = good[-1]["level"]["height"]
    line = _line(params, last, summary)
    if line is None or "reason" in line:
        summary["afm"]["profile"] = {"reason": (line or {}).get("reason", "no line")}
        return
    profs = []
    import pandas as pd

    frames = []
    for m in good:
        h = m["level"]["height"]
        if h.shape != last.shape:
            continue
        df = surface.line_profile(
            h, start_um=line["start_um"], end_um=line["end_um"], width_px=params["width_px"]
        )
        profs.append({"time_s": m["time_s"], "profile": df})
        frames.append(df.assign(time_s=m["time_s"]))
    out.table("profiles", pd.concat(frames), title="Height profiles along the line, per time")
    out.figure(
        "line_profiles",
        report.fig_line_profiles(profs),
        title="Line profiles",
        caption=(
            "Heights along the line through the highest feature of the last map"
            if str(params["line_um"]).strip().lower() == "auto"
            else "Heights along the given line"
        )
        + " (same pixel coordinates in every map; lateral drift is not removed here).",
    )
    summary["afm"]["profile"] = {
        "start_um": list(line["start_um"]),
        "end_um": list(line["end_um"]),
        "peak_um": list(line["peak_um"]) if "peak_um" in line else None,
        "n_profiles": len(profs),
    }


def _growth(maps, params, out, summary) -> None:
    from platescope import report, surface

    good = [m for m in maps if (m.get("level") or {}).get("height") is not None]
    if len(good) < 2:
        summary["skipped"].append(
            {"analysis": "growth", "reason": "fewer than 2 levelled maps: no time series"}
        )
        return
    shape = good[0]["level"]["height"].shape
    px = good[0]["level"]["height"].attrs.get("pixel_size_um")
    same = [
        m
        for m in good
        if m["level"]["height"].shape == shape
        and np.isclose(m["level"]["height"].attrs.get("pixel_size_um"), px, rtol=1e-6)
    ]
    if len(same) < len(good):
        add_warning(
            summary,
            "afm-maps-differ",
            f"{len(good) - len(same)} map(s) differ in size or pixel size from the first and "
            "were left out of the growth analysis",
            "afm.growth",
        )
    if len(same) < 2:
        summary["skipped"].append(
            {"analysis": "growth", "reason": "fewer than 2 maps of the same size and pixel size"}
        )
        return
    hs = [m["level"]["height"] for m in same]
    g = surface.growth_rates(
        hs,
        [m["time_s"] for m in same],
        feature_method=params["feature_method"],
        k_sigma=params["k_sigma"],
        quantile=params["quantile"],
        buffer_px=params["buffer_px"],
        erode_px=params["erode_px"],
        register=params["register"],
        alpha=params["alpha"],
    )
    res = {k: v for k, v in g.items() if k not in ("rate_map", "feature_mask")}
    res["n_maps"] = len(same)
    res["reference"] = (
        "each map is levelled on its substrate (features masked), so rates are relative to "
        "the flat areas: trust rate_difference_nm_h (features − flat)"
    )
    if g.get("rate_map") is not None:
        res["rate_map_path"] = out.map(
            "growth_rate_nm_h", np.asarray(g["rate_map"]), pixel_size_um=px
        )
        out.map("feature_mask", np.asarray(g["feature_mask"], dtype=np.float32), pixel_size_um=px)
        out.figure(
            "growth",
            report.fig_growth(g, pixel_size_um=px),
            title="SEI growth on features vs flat areas",
            caption="Per-pixel height rate (least squares over the registered maps, nm/h) with "
            "the feature outline; bars: mean rate ± 2 standard errors with the effective "
            "sample size (k = 2, as in the summary), p from the autocorrelation-corrected "
            "Welch test.",
        )
    summary["afm"]["growth"] = expand_errors(res)
    change = surface.height_change(hs[0], hs[-1], register=params["register"])
    if change.get("change") is not None:
        d = np.asarray(change["change"])
        summary["afm"]["height_change"] = {
            "from_time_s": same[0]["time_s"],
            "to_time_s": same[-1]["time_s"],
            "mean_nm": float(np.nanmean(d)),
            "overlap_fraction": change["overlap_fraction"],
            "shift_px": list(change["shift_px"]),
            "map_path": out.map("height_change_nm", d, pixel_size_um=px),
            "warnings": change.get("warnings", []),
        }
        out.figure(
            "height_change",
            report.fig_height_map(change["change"], title="height change (nm)"),
            title="Height change, first to last map",
            caption="Last levelled map (registered on the first) minus the first; NaN where "
            "the drift leaves no overlap. Levelling sets each map's substrate to 0, so a "
            "uniform change is not visible.",
        )


def run(exp, out, summary) -> None:
    """Compose the steps: levelling → roughness, profiles, growth."""
    maps = run_step(STEPS[0], exp, out, summary)
    if maps is None:
        summary["headline"] = "no [[afm_maps]] given"
        return
    summary.setdefault("afm", {})["n_maps"] = len(maps)
    for step in STEPS[1:]:
        run_step(step, exp, out, summary, context=maps)
    summary["headline"] = _headline(summary)


def _headline(summary) -> str:
    a = summary.get("afm", {})
    rows = [r for r in a.get("maps", []) if r.get("Sq_nm") is not None]
    if not rows:
        return "no usable AFM map"
    if len(rows) == 1:
        text = f"Sq {rows[0]['Sq_nm']:.3g} nm, Sa {rows[0]['Sa_nm']:.3g} nm"
    else:
        hours = (rows[-1]["time_s"] - rows[0]["time_s"]) / 3600
        text = f"Sq {rows[0]['Sq_nm']:.3g} → {rows[-1]['Sq_nm']:.3g} nm over {hours:.3g} h"
    g = a.get("growth") or {}
    if g.get("rate_difference_nm_h") is not None and g.get("p_value") is not None:
        pv = g["p_value"]
        p_text = "p < 1e-6" if pv < 1e-6 else f"p = {pv:.2g}"  # the test is not exact beyond
        text += (
            f"; features grow {g['rate_difference_nm_h']:.3g} ± "
            f"{g['rate_difference_err_nm_h']:.2g} nm/h faster than flat ({p_text})"
        )
    return text


STEPS = (
    Step("levelling", needs=("afm_maps",), params=DEFAULTS["levelling"], run=_levelling),
    Step("roughness", needs=("afm_maps",), params=DEFAULTS["roughness"], run=_roughness),
    Step("profiles", needs=("afm_maps",), params=DEFAULTS["profiles"], run=_profiles),
    Step("growth", needs=("afm_maps",), params=DEFAULTS["growth"], run=_growth),
)

SCENARIO = Scenario(
    name="afm",
    title="AFM height maps over time: levelling, ISO 25178 roughness, profiles, SEI growth",
    run=run,
    inputs=("afm_maps",),
    analyses=DEFAULTS,
    simulator="platescope.simulate._afm:afm_series",
    sections={
        "afm_maps": Section(
            frozenset({"path", "time_s", "pixel_size_um", "channel", "z_unit", "frame_interval_s"}),
            number_keys=frozenset({"pixel_size_um", "time_s", "frame_interval_s"}),
            signed_keys=frozenset({"time_s"}),
            many=True,
        ),
    },
)
