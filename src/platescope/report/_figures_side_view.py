"""Figures of side-view (cross-section) growth movies (SCIENCE.md §4).

Same conventions as :mod:`platescope.report._figures`: each function takes data,
returns a :class:`~matplotlib.figure.Figure` on the Agg canvas and never touches pyplot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _LEGEND_SIZE,
    _ORANGE,
    _SKY,
    _VERMILION,
    _figure,
    _no_data,
    _style,
)

__all__ = ["fig_side_view_frame", "fig_side_view_kymograph", "fig_thickness_vs_charge"]


def fig_side_view_kymograph(
    profiles: xr.Dataset,
    *,
    transition: Mapping[str, Any] | None = None,
) -> Figure:
    """Kymograph of the growth front: height (y) along time (x), one column per frame.

    The colour is the fraction of the electrode's columns whose front reaches each height
    (1 = all of it: the compact layer; small = only tips); the mean and max front and the
    electrode edge (height 0) are drawn on it, and the mossy → whisker transition when
    one was found.

    Parameters
    ----------
    profiles : xarray.Dataset
        :func:`platescope.optics.front_profiles` output (``h_um`` (t, x)).
    transition : mapping, optional
        :func:`platescope.optics.growth_transition` output.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> ds = xr.Dataset({"h_um": (("t", "x"), np.outer(np.arange(5.0), np.ones(4)))},
    ...                 coords={"t": np.arange(5.0) * 10, "x": np.arange(4.0)})
    >>> fig_side_view_kymograph(ds).axes[0].get_ylabel()
    'Height above the electrode (µm)'
    """
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    h = np.asarray(profiles["h_um"].values, float)
    t = np.asarray(profiles["t"].values, float)
    ok = np.isfinite(h)
    if not ok.any():
        _no_data(ax, "no growth front measured")
        return fig
    top = float(np.nanmax(h)) * 1.08 + 1e-9
    levels = np.linspace(0.0, top, 200)
    with np.errstate(invalid="ignore"):
        frac = (h[:, None, :] >= levels[None, :, None]).sum(axis=2) / np.maximum(ok.sum(1), 1)[
            :, None
        ]
    im = ax.pcolormesh(t, levels, frac.T, shading="nearest", cmap="Greys", vmin=0, vmax=1)
    cb = fig.colorbar(im, ax=ax, pad=0.01)
    cb.set_label("Fraction of the electrode reached", fontsize=8)
    with np.errstate(invalid="ignore"), np.errstate(all="ignore"):
        mean = np.where(ok.any(1), np.nanmean(np.where(ok, h, np.nan), axis=1), np.nan)
        mx = np.where(ok.any(1), np.nanmax(np.where(ok, h, -np.inf), axis=1), np.nan)
    ax.plot(t, mean, color=_BLUE, lw=1.5, label="mean front")
    ax.plot(t, mx, color=_ORANGE, lw=1.2, label="max front")
    ax.axhline(0.0, color=_BLACK, lw=1.5, label="electrode edge")
    if transition and transition.get("t_transition_s") is not None:
        tt = transition["t_transition_s"]
        lo, hi = transition.get("t_transition_ci95_s") or (tt, tt)
        ax.axvspan(lo, hi, color=_VERMILION, alpha=0.15, lw=0)
        ax.axvline(tt, color=_VERMILION, lw=1.2, ls="--", label="mossy → whisker")
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Height above the electrode (µm)")
    ax.set_ylim(-0.03 * top, top)
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="upper left")
    _style(ax)
    return fig


def fig_thickness_vs_charge(frames: pd.DataFrame, *, area_cm2: float | None = None) -> Figure:
    """Layer thickness against the plated charge, with the dense-Li line.

    Parameters
    ----------
    frames : pandas.DataFrame
        Per frame: ``mean_um``, ``mean_err_um``, ``max_um`` and ``charge_C`` (C) with
        ``h_dense_um`` (the dense-Li thickness, µm); optional ``capping_um``, ``resolved``.
    area_cm2 : float, optional
        Electrode area (cm²): the x axis is then the areal capacity in mAh cm⁻².

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> df = pd.DataFrame({"charge_C": [0.0, 1.0, 2.0], "mean_um": [0.0, 3.0, 6.0],
    ...                    "mean_err_um": [0.1] * 3, "max_um": [0.0, 4.0, 9.0],
    ...                    "h_dense_um": [0.0, 1.35, 2.7]})
    >>> fig_thickness_vs_charge(df, area_cm2=1.0).axes[0].get_ylabel()
    'Thickness (µm)'
    """
    fig = _figure(5.6, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    if "charge_C" not in frames or not np.isfinite(frames["mean_um"]).any():
        _no_data(ax, "needs the plated charge (an [echem] record)")
        return fig
    q = np.abs(frames["charge_C"].to_numpy(float))
    if area_cm2:
        x = q / 3.6 / float(area_cm2)  # C → mAh cm⁻²
        ax.set_xlabel("Plated capacity (mAh cm⁻²)")
    else:
        x = q
        ax.set_xlabel("Plated charge (C)")
    res = frames["resolved"].to_numpy(bool) if "resolved" in frames else np.ones(len(x), bool)
    m, e = frames["mean_um"].to_numpy(float), frames["mean_err_um"].to_numpy(float)
    ax.errorbar(x[res], m[res], yerr=2 * e[res], fmt="o", ms=3, color=_BLUE, label="mean (± 2σ)")
    ax.plot(x[~res], m[~res], "o", ms=3, mfc="none", color=_BLUE, label="mean, unresolved")
    ax.plot(x, frames["max_um"].to_numpy(float), "^", ms=3, color=_ORANGE, label="max")
    if "capping_um" in frames and np.isfinite(frames["capping_um"]).any():
        ax.plot(x, frames["capping_um"].to_numpy(float), "s", ms=3, color=_SKY, label="capping")
    if "h_dense_um" in frames:
        ax.plot(x, frames["h_dense_um"].to_numpy(float), "-", color=_BLACK, label="dense Li")
    ax.set_ylabel("Thickness (µm)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="upper left")
    _style(ax)
    return fig


def fig_side_view_frame(
    movie: xr.DataArray,
    profiles: xr.Dataset,
    edge: Mapping[str, Any],
    *,
    frame: int = -1,
) -> Figure:
    """One frame with the electrode edge and the measured front drawn on it.

    Parameters
    ----------
    movie : xarray.DataArray
        The side-view movie (t, y, x); ``y``/``x`` in µm.
    profiles : xarray.Dataset
        :func:`platescope.optics.front_profiles` of the movie.
    edge : mapping
        :func:`platescope.optics.electrode_edge` (``row0_px``, ``slope_px_per_px``,
        ``growth_direction``).
    frame : int
        Frame index.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> m = xr.DataArray(np.ones((2, 20, 30)), dims=("t", "y", "x"),
    ...                  coords={"t": [0.0, 1.0], "y": np.arange(20.0), "x": np.arange(30.0)})
    >>> ds = xr.Dataset({"h_um": (("t", "x"), np.ones((2, 30)))},
    ...                 coords={"t": [0.0, 1.0], "x": np.arange(30.0)}, attrs={"um_per_px": 1.0})
    >>> e = {"row0_px": 15.0, "slope_px_per_px": 0.0, "growth_direction": "up"}
    >>> len(fig_side_view_frame(m, ds, e).axes)
    1
    """
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    img = np.asarray(movie.isel(t=frame).values, float)
    y = np.asarray(movie["y"].values, float)
    x = np.asarray(movie["x"].values, float)
    dy = float(np.median(np.diff(y))) if y.size > 1 else 1.0
    lo, hi = np.nanpercentile(img, [1, 99])
    ax.imshow(
        img,
        cmap="gray",
        vmin=lo,
        vmax=hi,
        extent=(x[0], x[-1], y[-1] + 0.5 * dy, y[0] - 0.5 * dy),
        interpolation="nearest",
    )
    cols = np.arange(x.size)
    edge_row = edge["row0_px"] + edge["slope_px_per_px"] * cols
    edge_y = y[0] + edge_row * dy
    ax.plot(x, edge_y, color=_SKY, lw=1.2, label="electrode edge")
    h = np.asarray(profiles["h_um"].isel(t=frame).values, float)
    sgn = -1.0 if edge.get("growth_direction", "up") == "up" else 1.0
    slope_um = edge["slope_px_per_px"] * dy / (float(np.median(np.diff(x))) if x.size > 1 else 1.0)
    front_y = edge_y + sgn * h * np.sqrt(1.0 + slope_um**2)
    ax.plot(x, front_y, color=_VERMILION, lw=1.0, label="growth front")
    t = float(movie["t"].values[frame])
    ax.set_title(f"t = {t:.0f} s", fontsize=9)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=True, loc="lower right")
    return fig
