"""Figures of the see-through alloying scenarios (SCIENCE.md §1).

Each function takes data and returns a :class:`matplotlib.figure.Figure` on the Agg
canvas (see :mod:`platescope.report._figures` for the conventions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.patches import Patch, Rectangle

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _GREEN,
    _LEGEND_SIZE,
    _ORANGE,
    _PURPLE,
    _SKY,
    _TICK_SIZE,
    _VERMILION,
    _add_scalebar,
    _figure,
    _map_and_extent,
    _nice_length,
    _no_data,
    _style,
)

__all__ = [
    "fig_alloyed_fraction",
    "fig_intensity_curves",
    "fig_montage",
    "fig_onset_maps",
    "fig_pearson_heatmap",
    "fig_pores_per_cycle",
    "fig_regional_curves",
    "fig_sites_spatial",
    "fig_size_distributions",
    "fig_stages",
    "fig_temporal_color",
]

_MAGENTA = "#AA3377"
_STAGE_COLOURS = {
    "SEI": _ORANGE,
    "alloying 1": _PURPLE,
    "alloying 2": _MAGENTA,
    "alloying 3": _BLUE,
    "alloying 4": _GREEN,
    "Li metal": "#555555",
    "Li dissolution": _SKY,
    "dealloying 1": _VERMILION,
    "dealloying 2": "#F0E442",
    "dealloying 3": "#88CCEE",
    "dealloying 4": "#44AA99",
}


def _colour(name: str) -> str:
    return _STAGE_COLOURS.get(name, "#BBBBBB")


def _shade(ax, stages: Sequence[Mapping[str, Any]], *, alpha: float = 0.22) -> list:
    seen: dict[str, Patch] = {}
    for s in stages:
        c = _colour(s["name"])
        ax.axvspan(s["t_start_s"], s["t_end_s"], color=c, alpha=alpha, lw=0)
        if s["name"] not in seen:
            seen[s["name"]] = Patch(facecolor=c, alpha=0.5, label=s["name"])
    return list(seen.values())


def fig_stages(
    echem: pd.DataFrame,
    stages: Sequence[Mapping[str, Any]],
    *,
    n_host_mol: float | None = None,
):
    """Potential vs time with the stages shaded and named; E vs x of the first charge.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A).
    stages : sequence of dict
        ``cycle``, ``half``, ``name``, ``t_start_s``, ``t_end_s`` (and ``x_end``).
    n_host_mol : float, optional
        Moles of film metal; enables the E–x panel.
    """
    fig = _figure(10.0, 3.8)
    gs = fig.add_gridspec(1, 3)
    ax = fig.add_subplot(gs[0, :2])
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    handles = _shade(ax, stages)
    ax.plot(t, e, color=_BLACK, lw=0.8)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("E (V vs Li/Li⁺)")
    hi = float(np.nanpercentile(e, 99.5))
    ax.set_ylim(min(float(np.nanmin(e)), -0.05) - 0.02, min(hi, 1.3) + 0.05)
    if handles:
        ax.legend(
            handles=handles,
            fontsize=_LEGEND_SIZE - 1,
            ncol=min(len(handles), 6),
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            frameon=False,
        )
    else:
        _no_data(ax, "no stages found in the potential record")
    _style(ax)
    ax2 = fig.add_subplot(gs[0, 2])
    first = [s for s in stages if s["cycle"] == 1 and s["half"] == "cathodic"]
    if n_host_mol and first:
        from platescope.echem import li_content

        sei_end = first[0]["t_end_s"]
        t0, t1 = first[0]["t_start_s"], first[-1]["t_end_s"]
        sel = (t >= sei_end) & (t <= t1)
        q_sei = 0.0
        x = li_content(echem, n_host_mol=n_host_mol, q_sei_C=q_sei, t_start_s=sei_end)
        for s in first[1:]:
            m = (t >= s["t_start_s"]) & (t < s["t_end_s"])  # the switch sample is the next half
            ax2.plot(x[m], e[m], color=_colour(s["name"]), lw=1.2, label=s["name"])
            if s["name"].startswith("alloying") and s.get("x_end") is not None:
                ax2.axvline(s["x_end"], color=_colour(s["name"]), lw=0.8, ls="--")
                ax2.annotate(
                    f"x = {s['x_end']:.2f}",
                    (s["x_end"], 0.5),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    ha="right",
                    va="center",
                    fontsize=7.5,
                    color=_colour(s["name"]),
                )
        ax2.set_xlabel("x in LiₓM")
        ax2.set_ylabel("E (V vs Li/Li⁺)")
        ax2.set_ylim(min(float(np.nanmin(e[sel])), -0.03) - 0.02, float(np.nanmax(e[sel])) + 0.05)
        ax2.set_title(f"cycle 1, t = {t0:.0f}–{t1:.0f} s", fontsize=_TICK_SIZE)
        ax2.legend(fontsize=_LEGEND_SIZE - 1)
    else:
        _no_data(ax2, "x needs the film\nand the stages")
        ax2.set_axis_off()
    _style(ax2)
    return fig


def fig_onset_maps(onset: Mapping[int, Any]):
    """Onset-time maps (one panel per alloying step) with scale bars and colour bars."""
    steps = sorted(onset)
    n = max(len(steps), 1)
    fig = _figure(3.3 * n, 3.2)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, j in zip(axes, steps, strict=False):
        arr, extent, in_um = _map_and_extent(onset[j], None, "onset map")
        lo, hi = np.nanpercentile(arr, [1, 99]) if np.isfinite(arr).any() else (0, 1)
        im = ax.imshow(
            arr, extent=extent, cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest"
        )
        _add_scalebar(ax, extent, unit_um=in_um)
        ax.set_title(f"alloying {j}: onset", fontsize=_TICK_SIZE + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        cb = fig.colorbar(im, ax=ax, shrink=0.85)
        cb.set_label("t (s)", fontsize=_TICK_SIZE)
        cb.ax.tick_params(labelsize=_TICK_SIZE - 1)
    return fig


def fig_alloyed_fraction(fractions: Mapping[int, pd.DataFrame]):
    """Alloyed fraction vs time per alloying step."""
    fig = _figure(4.6, 3.2)
    ax = fig.add_subplot()
    for j in sorted(fractions):
        df = fractions[j]
        ax.plot(
            df["t_s"],
            100 * df["fraction"],
            color=_colour(f"alloying {j}"),
            lw=1.5,
            label=f"alloying {j}",
        )
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Area alloyed (%)")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=_LEGEND_SIZE)
    _style(ax)
    return fig


def fig_regional_curves(curves: Mapping[int, pd.DataFrame]):
    """Normalised signal of the mean, Area Init and Area Fnl, per alloying step."""
    steps = sorted(curves)
    n = max(len(steps), 1)
    fig = _figure(3.4 * n, 3.1)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, j in zip(axes, steps, strict=False):
        df = curves[j]
        ax.plot(df["t_s"], df["mean"], color=_BLACK, lw=1.4, label="mean")
        if "area_init" in df:
            ax.plot(df["t_s"], df["area_init"], color=_BLUE, lw=1.2, label="Area Init")
        if "area_fnl" in df:
            ax.plot(df["t_s"], df["area_fnl"], color=_VERMILION, lw=1.2, label="Area Fnl")
        ax.set_title(f"alloying {j}", fontsize=_TICK_SIZE + 1)
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Normalised absorbance")
        ax.set_ylim(-0.15, 1.2)
        ax.legend(fontsize=_LEGEND_SIZE - 0.5, loc="lower right")
        _style(ax)
    return fig


def fig_temporal_color(rgb, *, cmap: str | None = None):
    """Temporal colour-coded image with a time colour bar and a scale bar."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig = _figure(4.6, 4.0)
    ax = fig.add_subplot()
    arr = np.asarray(getattr(rgb, "values", rgb), float)
    x = np.asarray(rgb.x.values, float) if hasattr(rgb, "x") else np.arange(arr.shape[1])
    y = np.asarray(rgb.y.values, float) if hasattr(rgb, "y") else np.arange(arr.shape[0])
    dx = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[-1] + dx / 2, y[0] - dx / 2)
    top = float(np.nanpercentile(arr.max(axis=-1), 99.5)) or 1.0
    ax.imshow(np.clip(arr / top, 0, 1), extent=extent, interpolation="nearest")
    _add_scalebar(ax, extent, unit_um=hasattr(rgb, "x"))
    ax.set_xticks([])
    ax.set_yticks([])
    attrs = getattr(rgb, "attrs", {})
    t0, t1 = attrs.get("t_range_s", (0.0, 1.0))
    sm = ScalarMappable(
        norm=Normalize(t0, t1), cmap=colormaps[cmap or attrs.get("cmap", "viridis")]
    )
    cb = fig.colorbar(sm, ax=ax, shrink=0.85)
    cb.set_label("time of the change (s)", fontsize=_TICK_SIZE)
    cb.ax.tick_params(labelsize=_TICK_SIZE - 1)
    return fig


def fig_montage(rows: Sequence[tuple[str, Any]]):
    """Montage: one row per stage, frames left to right, each row normalised by itself.

    The tiles are assembled into one mosaic image (one axes: fast to draw), with the
    stage name at the left of each row, the frame time on each tile and a scale bar.
    """
    if not rows:
        fig = _figure(4.0, 2.0)
        _no_data(fig.add_subplot(), "no stages to show")
        return fig
    ny = max(r[1].sizes["y"] for r in rows)
    nx = max(r[1].sizes["x"] for r in rows)
    n_cols = max(r[1].sizes["t"] for r in rows)
    gap = max(2, nx // 25)
    h = len(rows) * ny + (len(rows) - 1) * gap
    w = n_cols * nx + (n_cols - 1) * gap
    mosaic = np.full((h, w), np.nan)
    fig = _figure(1.35 * n_cols + 1.2, 1.35 * len(rows) + 0.3)
    ax = fig.add_subplot()
    for i, (label, frames) in enumerate(rows):
        y0 = i * (ny + gap)
        for k in range(frames.sizes["t"]):
            x0 = k * (nx + gap)
            fr = frames.isel(t=k)
            a = np.asarray(fr.values, float)
            mosaic[y0 : y0 + a.shape[0], x0 : x0 + a.shape[1]] = a
            ax.text(
                x0 + 2,
                y0 + 2,
                f"{float(fr.t):.0f} s",
                color="white",
                fontsize=7,
                va="top",
                ha="left",
                path_effects=[patheffects.withStroke(linewidth=1.5, foreground="black")],
            )
        ax.text(
            -gap,
            y0 + ny / 2,
            label,
            ha="right",
            va="center",
            fontsize=_TICK_SIZE,
            color=_colour(label),
            fontweight="bold",
        )
    cmap = colormaps["gray"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    fr0 = rows[-1][1]
    px = float(abs(fr0.x.values[1] - fr0.x.values[0])) if "x" in fr0.coords else None
    if px:
        bar_um = _nice_length(nx * px)
        bar_px = bar_um / px
        xr_ = (n_cols - 1) * (nx + gap) + nx - 0.04 * nx
        bar_h = max(1.5, 0.03 * ny)
        yb = h - 0.05 * ny
        ax.add_patch(
            Rectangle(
                (xr_ - bar_px, yb - bar_h),
                bar_px,
                bar_h,
                facecolor="white",
                edgecolor="black",
                linewidth=0.6,
                zorder=5,
            )
        )
        ax.text(
            xr_ - bar_px / 2,
            yb - bar_h - 1.0,
            f"{bar_um:g} µm",
            color="white",
            fontsize=7.5,
            fontweight="bold",
            ha="center",
            va="bottom",
            zorder=6,
            path_effects=[patheffects.withStroke(linewidth=1.6, foreground="black")],
        )
    ax.set_xlim(-0.95 * nx, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    return fig


def fig_pearson_heatmap(matrix: pd.DataFrame):
    """Heat map of pairwise Pearson r with the values written in the cells."""
    m = matrix.copy()
    if "index" in m.columns:
        m = m.set_index("index")
    names = list(m.columns)
    vals = m.loc[names, names].to_numpy(float)
    k = len(names)
    fig = _figure(1.0 + 0.62 * k, 0.8 + 0.55 * k)
    ax = fig.add_subplot()
    im = ax.imshow(vals, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize=_TICK_SIZE - 1)
    ax.set_yticks(range(k), names, fontsize=_TICK_SIZE - 1)
    for a in range(k):
        for b in range(k):
            v = vals[a, b]
            if np.isfinite(v):
                ax.text(
                    b,
                    a,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if abs(v) > 0.6 else "black",
                )
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("Pearson r", fontsize=_TICK_SIZE)
    return fig


def fig_pores_per_cycle(stats: pd.DataFrame | Sequence[Mapping[str, Any]]):
    """Pore count (bars) and pore area fraction (line) at the end of each cycle."""
    df = pd.DataFrame(stats)
    fig = _figure(4.4, 3.1)
    ax = fig.add_subplot()
    if df.empty:
        _no_data(ax, "no pores")
        return fig
    ax.bar(df["cycle"], df["count"], color=_SKY, width=0.6, label="count")
    ax.set_xlabel("Cycle")
    ax.set_ylabel("Pore count")
    ax.set_xticks(df["cycle"])
    ax2 = ax.twinx()
    ax2.plot(df["cycle"], 100 * df["area_fraction"], "o-", color=_VERMILION, label="area")
    ax2.set_ylabel("Pore area (%)", color=_VERMILION)
    ax2.set_ylim(0, max(100 * float(df["area_fraction"].max()) * 1.3, 0.1))
    _style(ax)
    _style(ax2, twin=True)
    return fig


def fig_size_distributions(disk_areas_um2: Any, pore_areas_um2: Any):
    """Histograms of Li disk and pore cross-sections (µm²)."""
    fig = _figure(7.0, 3.0)
    axes = fig.subplots(1, 2)
    for ax, vals, name, col in (
        (axes[0], disk_areas_um2, "Li disks", "#555555"),
        (axes[1], pore_areas_um2, "pores", _SKY),
    ):
        v = np.asarray(vals, float)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(20, max(5, v.size // 3)), color=col, edgecolor="white")
            ax.axvline(
                np.median(v), color=_VERMILION, lw=1.2, label=f"median {np.median(v):.2f} µm²"
            )
            ax.legend(fontsize=_LEGEND_SIZE)
        else:
            _no_data(ax, f"no {name}")
        ax.set_xlabel(f"{name}: area (µm²)")
        ax.set_ylabel("Count")
        _style(ax)
    return fig


def fig_sites_spatial(frame, sites: pd.DataFrame, envelope: pd.DataFrame | None = None):
    """Sites on a frame (left) and Ripley's L(r) − r with its CSR envelope (right)."""
    fig = _figure(8.0, 3.6)
    axes = fig.subplots(1, 2)
    arr, extent, in_um = _map_and_extent(frame, None, "frame")
    lo, hi = np.nanpercentile(arr, [0.5, 99.5])
    axes[0].imshow(arr, extent=extent, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    if len(sites):
        axes[0].scatter(
            sites["x_um"],
            sites["y_um"],
            s=40,
            facecolors="none",
            edgecolors=_ORANGE,
            linewidths=1.0,
        )
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].set_title(f"{len(sites)} Li nucleation sites", fontsize=_TICK_SIZE + 1)
    _add_scalebar(axes[0], extent, unit_um=in_um)
    ax = axes[1]
    if envelope is not None and len(envelope):
        r = envelope["r_um"].to_numpy(float)
        ax.fill_between(
            r, envelope["L_lo"] - r, envelope["L_hi"] - r, color="0.85", label="CSR envelope"
        )
        ax.plot(r, envelope["L"] - r, color=_BLACK, lw=1.4, label="sites")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xlabel("r (µm)")
        ax.set_ylabel("L(r) − r (µm)")
        ax.legend(fontsize=_LEGEND_SIZE)
    else:
        _no_data(ax, "too few sites")
    _style(ax)
    return fig


def fig_intensity_curves(curves: Mapping[str, tuple], *, stages: Sequence[Mapping[str, Any]] = ()):
    """Field-mean normalised intensity of each movie vs time with the stages shaded."""
    n = max(len(curves), 1)
    fig = _figure(9.0, 1.9 * n + 0.6)
    axes = fig.subplots(n, 1, squeeze=False, sharex=True)[:, 0]
    for ax, (name, (t, y)) in zip(axes, curves.items(), strict=False):
        handles = _shade(ax, stages)
        ax.plot(t, y, color=_BLACK, lw=0.9)
        ax.set_ylabel("T = I/I₀" if name == "trans" else ("R/R₀" if name == "epi" else name))
        ax.set_title(name, fontsize=_TICK_SIZE, loc="left")
        _style(ax)
    axes[-1].set_xlabel("Time (s)")
    if stages:
        axes[0].legend(
            handles=handles,
            fontsize=_LEGEND_SIZE - 1,
            ncol=min(len(handles), 6),
            loc="lower center",
            bbox_to_anchor=(0.5, 1.12),
            frameon=False,
        )
    return fig
