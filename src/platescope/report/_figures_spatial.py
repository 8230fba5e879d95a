"""Figures of colocalisation, spatial point statistics, nucleation sites and pores.

Each function takes the tables/dicts of :mod:`platescope.stats` and
:mod:`platescope.particles` and returns a :class:`matplotlib.figure.Figure` on the Agg
canvas (save with :func:`platescope.report.atomic_savefig`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _GREEN,
    _ORANGE,
    _SKY,
    _VERMILION,
    _add_scalebar,
    _bin_edges,
    _figure,
    _g,
    _map_and_extent,
    _no_data,
    _style,
)

__all__ = [
    "fig_coloc_scatter",
    "fig_pearson_matrix",
    "fig_pore_areas",
    "fig_ripley_l",
    "fig_site_map",
    "fig_site_pore_sizes",
]

_CYCLE = [_BLUE, _ORANGE, _GREEN, _VERMILION, _SKY, "#CC79A7", _BLACK]


def fig_pearson_matrix(matrix: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Annotated heat map of pairwise Pearson's r (diverging, −1 … 1).

    Parameters
    ----------
    matrix : pandas.DataFrame
        Square table of r (as from :func:`platescope.stats.pearson_matrix`).
    title : str, optional

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[1, 0.6], [0.6, 1]], index=["S1m", "S2m"], columns=["S1m", "S2m"])
    >>> fig_pearson_matrix(m).axes[0].get_title()
    ''
    """
    names = [str(c) for c in matrix.columns]
    k = len(names)
    vals = np.asarray(matrix.to_numpy(dtype=float))
    fig = _figure(1.2 + 0.75 * k, 0.9 + 0.7 * k)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(vals, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -1.0, 1.0))
    for i in range(k):
        for j in range(k):
            v = vals[i, j]
            text = "n/a" if not np.isfinite(v) else f"{v:.2f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8.5,
                color="white" if np.isfinite(v) and abs(v) > 0.6 else "black",
            )
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.tick_params(labelsize=9)
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label("Pearson's r", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def fig_ripley_l(envelope: pd.DataFrame, *, test: Mapping[str, Any] | None = None) -> Figure:
    """L(r) − r with the CSR Monte-Carlo envelope.

    Parameters
    ----------
    envelope : pandas.DataFrame
        ``r_um``, ``L``, ``L_lo``, ``L_hi`` (and ``L_mean``) from
        :func:`platescope.stats.ripley_envelope`.
    test : dict, optional
        A :func:`platescope.stats.csr_test` result, quoted in the legend.

    Examples
    --------
    >>> import pandas as pd
    >>> env = pd.DataFrame({"r_um": [0, 1, 2], "L": [0, 1.1, 2.2], "L_lo": [0, .9, 1.8],
    ...                     "L_hi": [0, 1.1, 2.1]})
    >>> len(fig_ripley_l(env).axes)
    1
    """
    r = envelope["r_um"].to_numpy(dtype=float)
    fig = _figure(4.6, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    ax.fill_between(
        r, envelope["L_lo"] - r, envelope["L_hi"] - r, color="0.85", label="CSR envelope (min–max)"
    )
    if "L_mean" in envelope:
        ax.plot(r, envelope["L_mean"] - r, color="0.5", lw=1, ls="--", label="CSR mean")
    label = "observed"
    if test:
        verdict = (
            "clustered"
            if test.get("clustered")
            else ("regular" if test.get("regular") else "consistent with CSR")
        )
        label += f" — {verdict} (p = {_g(test.get('p_value', float('nan')), 2)})"
    ax.plot(r, envelope["L"] - r, color=_VERMILION, lw=1.8, label=label)
    ax.axhline(0, color=_BLACK, lw=0.6)
    ax.set_xlabel("r (µm)")
    ax.set_ylabel("L(r) − r (µm)")
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    return fig


def fig_coloc_scatter(
    a: Any,
    b: Any,
    *,
    result: Mapping[str, Any] | None = None,
    mask: Any = None,
    names: tuple[str, str] = ("a", "b"),
    max_points: int = 20000,
) -> Figure:
    """2-D histogram of the two channels with the regression line and Costes' thresholds.

    Parameters
    ----------
    a, b : array_like, shape (ny, nx)
    result : dict, optional
        A :func:`platescope.stats.colocalization` result (thresholds, line, r, M1, M2).
    mask : array_like of bool, optional
    names : (str, str)
        Axis labels.
    max_points : int
        Unused pixels are not drawn beyond this many (the histogram uses them all).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((20, 20))
    >>> len(fig_coloc_scatter(a, a + 0.1).axes) >= 1
    True
    """
    x = np.asarray(getattr(a, "values", a), dtype=float)
    y = np.asarray(getattr(b, "values", b), dtype=float)
    sel = np.isfinite(x) & np.isfinite(y)
    if mask is not None:
        sel &= np.asarray(mask).astype(bool)
    x, y = x[sel], y[sel]
    fig = _figure(4.4, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    if x.size == 0:
        _no_data(ax, "no pixel in the region")
        return fig
    h = ax.hist2d(x, y, bins=80, cmap="magma", cmin=1)
    fig.colorbar(h[3], ax=ax, shrink=0.85).set_label("pixels", fontsize=9)
    if result:
        ct = result.get("costes", result)
        slope, icpt = ct.get("slope"), ct.get("intercept")
        xs = np.linspace(x.min(), x.max(), 2)
        if slope is not None and np.isfinite(slope):
            ax.plot(xs, slope * xs + icpt, color=_SKY, lw=1.2, label="regression line")
        ta, tb = result.get("threshold_a"), result.get("threshold_b")
        if ta is not None and np.isfinite(ta):
            ax.axvline(ta, color=_GREEN, lw=1.2, ls="--", label="Costes thresholds")
            ax.axhline(tb, color=_GREEN, lw=1.2, ls="--")
        bits = [f"r = {_g(result.get('pearson_r', float('nan')), 3)}"]
        if np.isfinite(result.get("M1", np.nan)):
            bits.append(f"M1 = {_g(result['M1'], 2)}, M2 = {_g(result['M2'], 2)}")
        if np.isfinite(result.get("p_value", np.nan)):
            bits.append(f"Costes p = {_g(result['p_value'], 2)}")
        ax.set_title("; ".join(bits), fontsize=9)
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    _style(ax)
    return fig


def fig_site_map(
    image: Any,
    sites: pd.DataFrame,
    *,
    pores: pd.DataFrame | None = None,
    pixel_size_um: float | None = None,
    title: str | None = None,
) -> Figure:
    """Nucleation sites (coloured by appearance time) and pores over an image.

    Parameters
    ----------
    image : 2-D DataArray or array
        Background frame (µm coords when a DataArray).
    sites : pandas.DataFrame
        ``x_um``, ``y_um``, ``t_appear_s`` (from :func:`platescope.particles.detect_sites`).
    pores : pandas.DataFrame, optional
        ``x_um``, ``y_um`` of pores (open circles).
    pixel_size_um : float, optional
        For a plain array.
    title : str, optional

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.DataFrame({"x_um": [1.0], "y_um": [2.0], "t_appear_s": [3.0]})
    >>> len(fig_site_map(np.zeros((30, 30)), s, pixel_size_um=0.1).axes)
    2
    """
    arr, extent, in_um = _map_and_extent(image, pixel_size_um, "image")
    fig = _figure(5.2, 4.4)
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = np.nanpercentile(arr, [1, 99]) if np.isfinite(arr).any() else (0, 1)
    ax.imshow(arr, cmap="gray", extent=extent, vmin=lo, vmax=hi, interpolation="nearest")
    if len(sites):
        sc = ax.scatter(
            sites["x_um"],
            sites["y_um"],
            c=sites["t_appear_s"],
            cmap="viridis",
            s=22,
            edgecolors="white",
            linewidths=0.5,
            label="Li sites",
        )
        fig.colorbar(sc, ax=ax, shrink=0.85).set_label("appearance time (s)", fontsize=9)
    else:
        fig.colorbar(ax.images[0], ax=ax, shrink=0.85)
    if pores is not None and len(pores):
        ax.scatter(
            pores["x_um"],
            pores["y_um"],
            s=40,
            facecolors="none",
            edgecolors=_VERMILION,
            linewidths=1.0,
            label="pores",
        )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("x (µm)" if in_um else "x (px)")
    ax.set_ylabel("y (µm)" if in_um else "y (px)")
    _add_scalebar(ax, extent, unit_um=in_um)
    if len(sites) or (pores is not None and len(pores)):
        ax.legend(fontsize=8, loc="upper right", framealpha=0.8)
    ax.set_title(title or f"{len(sites)} sites", fontsize=10)
    ax.tick_params(labelsize=9)
    return fig


def fig_pore_areas(
    areas: pd.DataFrame, *, pores: pd.DataFrame | None = None, max_pores: int = 12
) -> Figure:
    """Pore area vs time (left) and area ratio = area / final area (right).

    Parameters
    ----------
    areas : pandas.DataFrame
        ``pore``, ``t_s``, ``area_um2``, ``area_ratio`` (from
        :func:`platescope.particles.track_pores`).
    pores : pandas.DataFrame, optional
        Marks merges (×) when given.
    max_pores : int
        The largest pores drawn individually; the total is drawn too.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"pore": [1, 1], "t_s": [0.0, 1.0], "area_um2": [0.1, 0.2],
    ...                   "area_ratio": [0.5, 1.0]})
    >>> len(fig_pore_areas(a).axes)  # area, total area (twin), area ratio
    3
    """
    fig = _figure(8.4, 3.4)
    ax1 = fig.add_subplot(1, 2, 1)
    ax2 = fig.add_subplot(1, 2, 2)
    if areas is None or len(areas) == 0:
        _no_data(ax1, "no pore")
        _no_data(ax2, "no pore")
        return fig
    final = areas.groupby("pore")["area_um2"].max().sort_values(ascending=False)
    show = list(final.index[:max_pores])
    for i, pid in enumerate(show):
        g = areas[areas["pore"] == pid]
        c = _CYCLE[i % len(_CYCLE)]
        ax1.plot(g["t_s"], g["area_um2"], color=c, lw=1.1)
        ax2.plot(g["t_s"], g["area_ratio"], color=c, lw=1.1, label=f"pore {pid}")
    tot = areas.groupby("t_s")["area_um2"].sum()
    ax1b = ax1.twinx()
    ax1b.plot(tot.index, tot.values, color=_BLACK, lw=1.6, ls="--")
    ax1b.set_ylabel("total pore area, dashed (µm²)")
    _style(ax1b, twin=True)
    if pores is not None and len(pores) and "t_merge_s" in pores:
        for _, p in pores[pores["merged_into"] >= 0].iterrows():
            ax1.axvline(p["t_merge_s"], color="0.6", lw=0.8, ls=":")
    ax1.set_xlabel("t (s)")
    ax1.set_ylabel("pore area (µm²)")
    ax2.set_xlabel("t (s)")
    ax2.set_ylabel("area ratio (area / final area)")
    ax2.axhline(1.0, color="0.6", lw=0.6)
    if len(show) <= 8:
        ax2.legend(fontsize=7.5, frameon=False)
    _style(ax1)
    _style(ax2)
    return fig


def fig_site_pore_sizes(site_areas_um2: Any = None, pore_areas_um2: Any = None) -> Figure:
    """Histograms of Li disk and pore areas (µm²), log-spaced bins.

    Parameters
    ----------
    site_areas_um2, pore_areas_um2 : array_like, optional
        Areas in µm² (e.g. ``sites["area_um2"]`` and ``pores["area_final_um2"]``).

    Examples
    --------
    >>> len(fig_site_pore_sizes([0.4, 0.5, 0.45], [0.05, 0.08]).axes)
    1
    """
    fig = _figure(4.6, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    sets = []
    for vals, name, c in (
        (site_areas_um2, "Li disks", _BLUE),
        (pore_areas_um2, "pores", _VERMILION),
    ):
        if vals is None:
            continue
        v = np.asarray(getattr(vals, "values", vals), dtype=float)
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            sets.append((v, name, c))
    if not sets:
        _no_data(ax, "no area")
        return fig
    allv = np.concatenate([s[0] for s in sets])
    lo, hi = allv.min(), allv.max()
    edges = np.geomspace(lo / 1.2, hi * 1.2, 30) if hi > lo * 1.5 else _bin_edges(allv)
    for v, name, c in sets:
        ax.hist(
            v,
            bins=edges,
            histtype="stepfilled",
            alpha=0.45,
            color=c,
            label=f"{name} (n = {v.size}, median {_g(float(np.median(v)), 2)} µm²)",
        )
    if hi > lo * 1.5:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("area (µm²)")
    ax.set_ylabel("count")
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    return fig
