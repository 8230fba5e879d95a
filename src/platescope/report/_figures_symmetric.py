"""Figures of Li‖Li symmetric-cell records (:func:`platescope.echem.symmetric_cell`).

Same conventions as :mod:`platescope.report._figures`: each function returns a
:class:`matplotlib.figure.Figure` on the Agg canvas, touches no global pyplot state and
saves nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from platescope.report._figures import (
    _BLUE,
    _GREEN,
    _LEGEND_SIZE,
    _VERMILION,
    _figure,
    _no_data,
    _style,
)

__all__ = ["fig_symmetric_evolution", "fig_symmetric_profiles", "fig_symmetric_voltage"]

CLASS_COLOURS = {
    "peaking": _BLUE,
    "arcing": _VERMILION,
    "flat": _GREEN,
    "undetermined": "0.55",
}
_SHORT_COLOUR = "#CC79A7"


def _hours(t: np.ndarray) -> tuple[np.ndarray, str]:
    span = float(np.ptp(t)) if t.size else 0.0
    if span > 3 * 3600:
        return t / 3600.0, "Time (h)"
    if span > 600:
        return t / 60.0, "Time (min)"
    return t, "Time (s)"


def _class_legend(ax: Any, classes: set[str], shorts: bool) -> None:
    handles = [
        Line2D([], [], color=CLASS_COLOURS[c], lw=2, label=c)
        for c in ("peaking", "arcing", "flat", "undetermined")
        if c in classes
    ]
    if shorts:
        handles.append(Line2D([], [], color=_SHORT_COLOUR, lw=6, alpha=0.35, label="soft short"))
    if handles:
        ax.legend(handles=handles, fontsize=_LEGEND_SIZE, frameon=False, loc="best")


def fig_symmetric_voltage(echem: Any, result: dict) -> Figure:
    """Cell voltage against time, each half-cycle coloured by its shape class.

    Parameters
    ----------
    echem : pandas.DataFrame
        The record (``time_s`` in s, ``potential_V`` in V).
    result : dict
        :func:`platescope.echem.symmetric_cell` of the record.

    Returns
    -------
    matplotlib.figure.Figure
        Rests and other steps in light grey; soft shorts as shaded spans.

    Examples
    --------
    >>> import pandas as pd
    >>> from platescope.echem import symmetric_cell
    >>> t = np.arange(0.0, 4000.0, 2.0)
    >>> i = np.where((t // 1000) % 2 == 0, -1e-4, 1e-4)
    >>> df = pd.DataFrame({"time_s": t, "potential_V": np.sign(i) * 0.04, "current_A": i})
    >>> fig = fig_symmetric_voltage(df, symmetric_cell(df))
    >>> len(fig.axes)
    1
    """
    fig = _figure(7.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    if t.size == 0:
        _no_data(ax, "no data")
        return fig
    x, label = _hours(t)
    scale = x[-1] / t[-1] if t[-1] != 0 else 1.0
    ax.plot(x, e * 1e3, color="0.8", lw=0.5)
    classes = set()
    for h in result.get("half_cycles", []):
        m = (t >= h["t_start_s"]) & (t <= h["t_end_s"])
        colour = CLASS_COLOURS.get(h["shape_class"], "0.55")
        classes.add(h["shape_class"])
        ax.plot(x[m], e[m] * 1e3, color=colour, lw=0.7)
    shorts = result.get("soft_shorts", [])
    for s in shorts:
        ax.axvspan(
            s["t_start_s"] * scale,
            max(s["t_end_s"], s["t_start_s"] + 1e-9) * scale,
            color=_SHORT_COLOUR,
            alpha=0.35,
            lw=0,
        )
    ax.axhline(0.0, color="0.3", lw=0.5)
    lo, hi = np.percentile(e * 1e3, [0.5, 99.5])
    pad = 0.25 * max(hi - lo, 1e-3)
    if e.min() * 1e3 < lo - 2 * pad or e.max() * 1e3 > hi + 2 * pad:
        # brief spikes (recorded densely) would flatten the plateaus: clip the view
        ax.set_ylim(min(lo - pad, -pad if lo > 0 else lo - pad), hi + pad)
        ax.text(
            0.01,
            0.99,
            "y range: 0.5–99.5 % of samples",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=_LEGEND_SIZE,
            color="0.35",
        )
    ax.set_xlabel(label)
    ax.set_ylabel("Cell voltage (mV)")
    _class_legend(ax, classes, bool(shorts))
    return fig


def fig_symmetric_profiles(echem: Any, result: dict) -> Figure:
    """|η| against normalised time of each half-cycle, plating and stripping apart.

    Parameters
    ----------
    echem : pandas.DataFrame
        The record (``time_s`` in s, ``potential_V`` in V).
    result : dict
        :func:`platescope.echem.symmetric_cell` of the record.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; lines coloured by cycle (viridis), dashed when arcing, solid when
        peaking, dotted when flat or undetermined; the plateau window τ 0.3–0.7 shaded.

    Examples
    --------
    >>> import pandas as pd
    >>> from platescope.echem import symmetric_cell
    >>> t = np.arange(0.0, 4000.0, 2.0)
    >>> i = np.where((t // 1000) % 2 == 0, -1e-4, 1e-4)
    >>> df = pd.DataFrame({"time_s": t, "potential_V": np.sign(i) * 0.04, "current_A": i})
    >>> len(fig_symmetric_profiles(df, symmetric_cell(df)).axes)
    2
    """
    fig = _figure(7.5, 3.2)
    axes = [fig.add_subplot(1, 2, k + 1) for k in range(2)]
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    hcs = result.get("half_cycles", [])
    n_cycles = max([h["cycle"] for h in hcs], default=0) + 1
    cmap = colormaps["viridis"]
    styles = {"arcing": "--", "peaking": "-"}
    for ax, direction in zip(axes, ("plating", "stripping"), strict=True):
        _style(ax)
        ax.axvspan(0.3, 0.7, color="0.93", lw=0)
        these = [h for h in hcs if h["direction"] == direction]
        if not these:
            _no_data(ax, f"no {direction} half-cycle")
        for h in these:
            m = (t >= h["t_start_s"]) & (t <= h["t_end_s"])
            if m.sum() < 2:
                continue
            tau = (t[m] - t[m][0]) / max(t[m][-1] - t[m][0], 1e-12)
            sign = -1.0 if direction == "plating" else 1.0
            colour = cmap(0.9 * h["cycle"] / max(1, n_cycles - 1))
            ax.plot(
                tau,
                sign * e[m] * 1e3,
                color=colour,
                lw=0.7,
                ls=styles.get(h["shape_class"], ":"),
            )
        ax.set_xlabel("Normalised step time τ")
        ax.set_ylabel(f"|η| {direction} (mV)")
        ax.set_xlim(0, 1)
    handles = [
        Line2D([], [], color="0.3", ls="-", label="peaking"),
        Line2D([], [], color="0.3", ls="--", label="arcing"),
        Line2D([], [], color="0.3", ls=":", label="flat / undetermined"),
    ]
    axes[1].legend(handles=handles, fontsize=_LEGEND_SIZE, frameon=False, loc="best")
    return fig


def fig_symmetric_evolution(result: dict) -> Figure:
    """Overpotentials and shape index per half-cycle, with error bars and soft shorts.

    Parameters
    ----------
    result : dict
        :func:`platescope.echem.symmetric_cell` of a record.

    Returns
    -------
    matplotlib.figure.Figure
        Top: plateau (±2σ), end-of-step and nucleation overshoot |η| against
        half-cycle; half-cycles with a soft short marked ×. Bottom: shape index ±2σ,
        the ±0.05 class thresholds, points coloured by class.

    Examples
    --------
    >>> r = {"half_cycles": [{"half_cycle": 0, "eta_plateau_V": 0.03,
    ...       "eta_plateau_err_V": 1e-4, "eta_end_V": 0.031, "eta_nuc_overshoot_V": 0.01,
    ...       "shape_index": -0.2, "shape_index_err": 0.01, "shape_class": "peaking",
    ...       "soft_shorts": 0}]}
    >>> len(fig_symmetric_evolution(r).axes)
    2
    """
    fig = _figure(7.0, 5.0)
    ax1 = fig.add_subplot(2, 1, 1)
    ax2 = fig.add_subplot(2, 1, 2, sharex=ax1)
    _style(ax1)
    _style(ax2)
    hcs = result.get("half_cycles", [])
    if not hcs:
        _no_data(ax1, "no half-cycle")
        return fig

    def col(key: str) -> np.ndarray:
        return np.array([np.nan if h.get(key) is None else h[key] for h in hcs], dtype=float)

    k = np.array([h["half_cycle"] for h in hcs], dtype=float)
    ax1.errorbar(
        k,
        col("eta_plateau_V") * 1e3,
        yerr=2 * col("eta_plateau_err_V") * 1e3,
        fmt="o",
        ms=4,
        color=_BLUE,
        capsize=2,
        label="plateau (±2σ)",
    )
    ax1.plot(k, col("eta_end_V") * 1e3, "s", ms=3, mfc="none", color=_VERMILION, label="end")
    ax1.plot(
        k, col("eta_nuc_overshoot_V") * 1e3, "^", ms=3, color=_GREEN, label="nucleation overshoot"
    )
    shorts = np.array([h.get("soft_shorts", 0) > 0 for h in hcs])
    if shorts.any():
        top = np.nanmax(col("eta_plateau_V")) * 1e3
        ax1.plot(
            k[shorts],
            np.full(shorts.sum(), top * 1.08),
            "x",
            color=_SHORT_COLOUR,
            ms=6,
            label="soft short",
        )
    ax1.set_ylabel("|η| (mV)")
    ax1.legend(fontsize=_LEGEND_SIZE, frameon=False, ncol=2)
    idx, err = col("shape_index"), col("shape_index_err")
    ax2.axhspan(-0.05, 0.05, color="0.93", lw=0)
    ax2.axhline(0, color="0.5", lw=0.5)
    for c, colour in CLASS_COLOURS.items():
        m = np.array([h["shape_class"] == c for h in hcs])
        if m.any():
            ax2.errorbar(
                k[m], idx[m], yerr=2 * err[m], fmt="o", ms=4, color=colour, capsize=2, label=c
            )
    ax2.set_xlabel("Half-cycle")
    ax2.set_ylabel("Shape index (±2σ)")
    ax2.legend(fontsize=_LEGEND_SIZE, frameon=False, ncol=4)
    return fig
