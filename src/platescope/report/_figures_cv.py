"""Figures of cycling results: CVs, per-cycle charges/CE, CE(IRM) calibration and maps.

Same conventions as :mod:`platescope.report._figures`: each function returns a
:class:`matplotlib.figure.Figure` on the Agg canvas, touches no global pyplot state and
saves nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.figure import Figure

from platescope.report._figures import (
    _BLUE,
    _E_LABEL,
    _LABEL_SIZE,
    _LEGEND_SIZE,
    _NAN_GREY,
    _ORANGE,
    _T_LABEL,
    _TICK_SIZE,
    _VERMILION,
    _add_scalebar,
    _colorbar,
    _figure,
    _finite,
    _g,
    _map_and_extent,
    _map_hist_axes,
    _no_data,
    _robust_limits,
    _show_map,
    _style,
)

__all__ = [
    "fig_ce_calibration",
    "fig_ce_maps",
    "fig_cv_cycles",
    "fig_cycle_charges",
    "fig_irm_charge",
    "fig_residual_map",
]


def _si_scale(abs_max: float, unit: str) -> tuple[float, str]:
    """A prefixed unit for values up to ``abs_max``: (factor to multiply by, label).

    >>> _si_scale(3e-9, "C")
    (1000000000.0, 'nC')
    """
    for f, prefix in ((1e12, "p"), (1e9, "n"), (1e6, "µ"), (1e3, "m")):
        if abs_max * f < 1000:
            return f, prefix + unit
    return 1.0, unit


def _current_scale(i_abs_max: float) -> tuple[float, str]:
    """A unit for currents: (factor to multiply A by, label)."""
    return _si_scale(i_abs_max, "A")


def _charge_scale(q_max: float) -> tuple[float, str]:
    return _si_scale(q_max, "C")


def _cycle_colours(n: int):
    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.9, max(n, 1))], cmap


def fig_cv_cycles(echem: Any, cycles: Any) -> Figure:
    """Cyclic voltammograms, one colour per cycle.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A, cathodic negative).
    cycles : pandas.DataFrame
        ``cycle``, ``t_start_s``, ``t_end_s`` (e.g. from
        :func:`platescope.echem.cycle_charges`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = np.linspace(0, 20, 401)
    >>> ec = pd.DataFrame({"time_s": t, "potential_V": np.abs(10 - t) / 10,
    ...                    "current_A": 1e-9 * np.sin(t)})
    >>> cy = pd.DataFrame({"cycle": [1, 2], "t_start_s": [0, 10], "t_end_s": [10, 20]})
    >>> fig_cv_cycles(ec, cy).axes[0].get_xlabel()
    'E (V vs Li/Li⁺)'
    """
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    f, unit = _current_scale(float(np.nanmax(np.abs(i))) if i.size else 1.0)
    fig = _figure(6.4, 4.4)
    ax = fig.subplots()
    n = len(cycles)
    cols, _ = _cycle_colours(n)
    for k, (_, c) in enumerate(cycles.iterrows()):
        sel = (t >= c["t_start_s"]) & (t <= c["t_end_s"])
        ax.plot(e[sel], i[sel] * f, color=cols[k], lw=1.0)
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.set_xlabel(_E_LABEL)
    ax.set_ylabel(f"I ({unit})")
    _style(ax)
    if n:
        nums = cycles["cycle"].to_numpy()
        bounds = np.arange(n + 1) - 0.5
        norm = BoundaryNorm(bounds, n)
        sm = fig.colorbar(ScalarMappable(norm=norm, cmap=ListedColormap(cols)), ax=ax, shrink=0.9)
        step = max(1, int(np.ceil(n / 10)))
        sm.set_ticks(np.arange(0, n, step))
        sm.set_ticklabels([str(int(x)) for x in nums[::step]])
        sm.set_label("Cycle", fontsize=_LABEL_SIZE)
        sm.ax.tick_params(labelsize=_TICK_SIZE)
    return fig


def fig_cycle_charges(cycles: Any) -> Figure:
    """CE and the cathodic/anodic charges against cycle number, with 2σ error bars.

    Parameters
    ----------
    cycles : pandas.DataFrame
        :func:`platescope.echem.cycle_charges` output (``cycle``, ``Q_c_C``, ``Q_a_C``,
        ``CE`` and optionally ``Q_c_err_C``, ``Q_a_err_C``, ``CE_err`` as 1σ).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> cy = pd.DataFrame({"cycle": [1, 2, 3], "Q_c_C": [4e-9, 3e-9, 2e-9],
    ...                    "Q_a_C": [1e-9, 1.5e-9, 1.6e-9], "CE": [0.25, 0.5, 0.8]})
    >>> len(fig_cycle_charges(cy).axes)
    2
    """
    n = cycles["cycle"].to_numpy()
    qc = cycles["Q_c_C"].to_numpy(float)
    qa = cycles["Q_a_C"].to_numpy(float)
    ce = cycles["CE"].to_numpy(float)

    def err(col):
        return 2.0 * cycles[col].to_numpy(float) if col in cycles.columns else None

    f, unit = _charge_scale(float(np.nanmax(np.concatenate([qc, qa]))) if n.size else 1.0)
    fig = _figure(6.0, 5.2)
    ax_ce, ax_q = fig.subplots(2, 1, sharex=True, height_ratios=[1.0, 1.2])
    ax_ce.errorbar(n, ce, yerr=err("CE_err"), fmt="o-", color=_BLUE, ms=5, lw=1.2, capsize=3)
    ax_ce.set_ylabel("CE = Q_a/Q_c")
    if np.isfinite(ce).any():
        ax_ce.set_ylim(min(0.0, np.nanmin(ce) - 0.05), max(1.0, np.nanmax(ce) + 0.05))
    ax_ce.axhline(1.0, color="0.6", lw=0.6, ls=":")
    _style(ax_ce)
    ax_ce.tick_params(labelbottom=False)
    e_c, e_a = err("Q_c_err_C"), err("Q_a_err_C")
    for q, e_q, fmt, colour, label in (
        (qc, e_c, "s-", _VERMILION, "Q_c (cathodic)"),
        (qa, e_a, "o-", _ORANGE, "Q_a (anodic)"),
    ):
        ax_q.errorbar(
            n,
            q * f,
            yerr=None if e_q is None else e_q * f,
            fmt=fmt,
            color=colour,
            ms=5,
            lw=1.2,
            capsize=3,
            label=label,
        )
    ax_q.set_ylabel(f"Charge ({unit})")
    ax_q.set_xlabel("Cycle")
    ax_q.set_ylim(0, None)
    ax_q.legend(fontsize=_LEGEND_SIZE, frameon=False)
    if n.size:
        ax_q.set_xticks(n if n.size <= 20 else n[:: int(np.ceil(n.size / 20))])
    _style(ax_q)
    return fig


def fig_ce_calibration(ratio: Any, ce: Any, calibration: dict, *, cycles: Any = None) -> Figure:
    """CE against the footprint-average I_a/I_c, with the fitted line and R².

    Parameters
    ----------
    ratio : array_like
        I_a/I_c per cycle (dimensionless).
    ce : array_like
        Electrochemical CE per cycle.
    calibration : dict
        ``slope``, ``intercept``, ``r2`` (and optional ``*_err``, 1σ) or None values.
    cycles : array_like, optional
        Cycle numbers (colour and labels).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_ce_calibration([0.3, 0.6, 0.9], [0.3, 0.6, 0.9],
    ...                          {"slope": 1.0, "intercept": 0.0, "r2": 1.0})
    >>> fig.axes[0].get_xlabel()
    'I_a / I_c (footprint average)'
    """
    x = np.asarray(ratio, float)
    y = np.asarray(ce, float)
    fig = _figure(5.4, 4.4)
    ax = fig.subplots()
    n = x.size
    cols, _ = _cycle_colours(n)
    nums = np.arange(1, n + 1) if cycles is None else np.asarray(cycles)
    ax.scatter(x, y, c=cols, s=36, zorder=3, edgecolors="black", linewidths=0.4)
    for xi, yi, c in zip(x, y, nums, strict=True):
        if np.isfinite(xi) and np.isfinite(yi):
            ax.annotate(str(c), (xi, yi), xytext=(4, -9), textcoords="offset points", fontsize=7)
    if _finite(calibration.get("slope")) and _finite(calibration.get("intercept")):
        xs = np.linspace(np.nanmin(x) - 0.05, np.nanmax(x) + 0.05, 50)
        a, b = calibration["slope"], calibration["intercept"]
        lab = f"CE = {_g(a, 3)}·(I_a/I_c) {'+' if b >= 0 else '−'} {_g(abs(b), 2)}"
        if _finite(calibration.get("r2")):
            lab += f"\nR² = {calibration['r2']:.4f}"
        ax.plot(xs, a * xs + b, color=_VERMILION, lw=1.3, label=lab)
        ax.legend(loc="upper left", fontsize=_LEGEND_SIZE, frameon=False)
    else:
        _no_data(ax, str(calibration.get("reason", "no calibration")))
    ax.set_xlabel("I_a / I_c (footprint average)")
    ax.set_ylabel("CE (electrochemistry)")
    _style(ax)
    return fig


def fig_ce_maps(ce_maps: Any, *, max_maps: int = 10) -> Figure:
    """Grid of per-cycle CE(IRM) maps on one colour scale, with their histograms.

    Parameters
    ----------
    ce_maps : xarray.DataArray
        (cycle, y, x), coordinates ``y``/``x`` in µm; NaN drawn light grey.
    max_maps : int
        At most this many cycles are drawn (evenly picked, first and last included).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import xarray as xr
    >>> da = xr.DataArray(np.random.default_rng(0).uniform(0.2, 0.9, (3, 8, 8)),
    ...                   dims=("cycle", "y", "x"), coords={"cycle": [1, 2, 3],
    ...                   "y": np.arange(8) * 0.1, "x": np.arange(8) * 0.1})
    >>> fig_ce_maps(da).axes[0].get_title()
    'cycle 1'
    """
    vals = np.asarray(ce_maps.values, float)
    cyc = np.asarray(ce_maps["cycle"].values)
    n = vals.shape[0]
    picks = np.unique(np.linspace(0, n - 1, min(n, max_maps)).round().astype(int))
    finite = vals[np.isfinite(vals)]
    if finite.size:
        vmin, vmax = np.percentile(finite, [1, 99])
        vmin, vmax = min(vmin, 0.0) if vmin < 0 else vmin, max(vmax, vmin + 0.05)
    else:
        vmin, vmax = 0.0, 1.0
    ncol = min(5, picks.size)
    nrow = int(np.ceil(picks.size / ncol))
    fig = _figure(2.2 * ncol + 1.0, 2.15 * nrow + 2.6)
    gs = fig.add_gridspec(nrow + 1, ncol, height_ratios=[1.0] * nrow + [1.15])
    cmap = colormaps["viridis"].with_extremes(bad=_NAN_GREY)
    norm = Normalize(vmin, vmax)
    im = None
    map_axes = []
    for j, k in enumerate(picks):
        ax = fig.add_subplot(gs[j // ncol, j % ncol])
        arr, extent, in_um = _map_and_extent(ce_maps.isel(cycle=int(k)), None, "ce map")
        im = _show_map(ax, arr, extent, cmap=cmap, title=f"cycle {cyc[k]}", norm=norm)
        if j == 0:
            _add_scalebar(ax, extent, unit_um=in_um)
        map_axes.append(ax)
    if im is not None:
        _colorbar(fig, im, map_axes, "CE(IRM)", shrink=0.85, extend="both", pad=0.02)
    ax_h = fig.add_subplot(gs[nrow, :])
    cols, _ = _cycle_colours(picks.size)
    if finite.size:
        edges = np.linspace(vmin - 0.05, vmax + 0.05, 61)
        for j, k in enumerate(picks):
            v = vals[k][np.isfinite(vals[k])]
            if v.size:
                ax_h.hist(
                    v,
                    bins=edges,
                    histtype="step",
                    color=cols[j],
                    lw=1.3,
                    density=True,
                    label=f"{cyc[k]}: {np.median(v):.2f}",
                )
        # one row above the histogram: never hides a histogram, keeps the maps' width
        ax_h.legend(
            title="cycle: median CE(IRM)",
            fontsize=7,
            title_fontsize=7.5,
            frameon=False,
            ncol=picks.size,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0, 1.0, 0.1),
            mode="expand",
            handlelength=1.2,
            borderaxespad=0.2,
        )
    else:
        _no_data(ax_h, "no finite CE(IRM) values")
    ax_h.set_xlabel("CE(IRM)")
    ax_h.set_ylabel("Pixel density")
    _style(ax_h)
    return fig


def fig_residual_map(
    residual: Any, *, pixel_size_um: float | None = None, units: str = "nm"
) -> Figure:
    """Map of the deposit left after the last cycle (inactive Li), with its histogram.

    Parameters
    ----------
    residual : array_like or xarray.DataArray
        (y, x) map; NaN outside the footprint.
    pixel_size_um : float, optional
        Pixel size for plain arrays, µm.
    units : str
        Label of the values (``"nm"`` equivalent thickness or ``"counts"``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig_residual_map(np.ones((10, 10)), pixel_size_um=0.1).axes[0].get_title()
    'Residual deposit after the last cycle'
    """
    arr, extent, in_um = _map_and_extent(residual, pixel_size_um, "residual")
    fig = _figure(9.0, 3.9)
    ax_m, ax_h = _map_hist_axes(fig)
    vals = arr[np.isfinite(arr)]
    vmin, vmax = _robust_limits(vals)
    cmap = colormaps["magma"].with_extremes(bad=_NAN_GREY)
    title = "Residual deposit after the last cycle"
    im = _show_map(ax_m, arr, extent, cmap=cmap, title=title, vmin=vmin, vmax=vmax)
    _add_scalebar(ax_m, extent, unit_um=in_um)
    label = "equivalent thickness (nm)" if units == "nm" else f"IRM signal ({units})"
    _colorbar(fig, im, ax_m, label, shrink=0.9, extend="both")
    if vals.size:
        ax_h.hist(vals, bins=50, color="#8c6bb1", edgecolor="white", lw=0.3)
        ax_h.axvline(
            np.median(vals),
            color="black",
            lw=1.0,
            ls="--",
            label=f"median {_g(float(np.median(vals)))} {units}",
        )
        ax_h.legend(fontsize=_LEGEND_SIZE, frameon=False)
    else:
        _no_data(ax_h, "no finite values")
    ax_h.set_xlabel(label)
    ax_h.set_ylabel("Pixels")
    _style(ax_h)
    return fig


def fig_irm_charge(t_s: Any, irm_mean: Any, charge_C: Any) -> Figure:
    """Footprint-mean IRM signal and cumulative net cathodic charge against time.

    Parameters
    ----------
    t_s : array_like
        Frame times on the echem clock, s.
    irm_mean : array_like
        Footprint-mean signal, counts (landing subtracted).
    charge_C : array_like
        Cumulative net cathodic charge at the frame times, C.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> t = np.linspace(0, 10, 50)
    >>> len(fig_irm_charge(t, t, t * 1e-10).axes)
    2
    """
    t = np.asarray(t_s, float)
    q = np.asarray(charge_C, float)
    fig = _figure(7.0, 3.6)
    ax = fig.subplots()
    ax2 = ax.twinx()
    f, unit = _charge_scale(float(np.nanmax(np.abs(q))) if q.size else 1.0)
    h1 = ax.plot(
        t, np.asarray(irm_mean, float), color=_VERMILION, lw=1.6, label="IRM signal (left)"
    )
    h2 = ax2.plot(t, q * f, color=_BLUE, lw=0.9, label="net cathodic charge (right)")
    ax.legend(handles=h1 + h2, loc="upper left", fontsize=_LEGEND_SIZE, frameon=False)
    ax.set_xlabel(_T_LABEL)
    ax.set_ylabel("IRM signal (counts)", color=_VERMILION)
    ax2.set_ylabel(f"Net cathodic charge ({unit})", color=_BLUE)
    ax.tick_params(axis="y", colors=_VERMILION)
    ax2.tick_params(axis="y", colors=_BLUE)
    _style(ax)
    _style(ax2, twin=True)
    ax.spines["right"].set_visible(False)
    ax2.spines["top"].set_visible(False)
    return fig
