"""Figures of deposits followed through a cycling movie: tracks, time series, dead Li.

Same conventions as :mod:`platescope.report._figures`: each function takes data and
returns a :class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot state); the
caller saves it. Only the frames shown are read from a (possibly dask-backed) movie.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _GREEN,
    _LABEL_SIZE,
    _LEGEND_SIZE,
    _ORANGE,
    _PURPLE,
    _SKY,
    _TICK_SIZE,
    _VERMILION,
    _YELLOW,
    _add_scalebar,
    _figure,
    _g,
    _map_and_extent,
    _no_data,
    _style,
)

__all__ = ["fig_dead_vs_max", "fig_deposit_montage", "fig_deposit_tracks", "fig_deposit_volumes"]

_CYCLE_COLOURS = (_BLUE, _VERMILION, _GREEN, _PURPLE, _ORANGE, _SKY, _BLACK)
_STRIP_SHADE = _YELLOW


def _ever_dead(per_deposit: pd.DataFrame | None) -> set[int]:
    if per_deposit is None or per_deposit.empty:
        return set()
    return set(per_deposit.loc[per_deposit["status"].isin(["dead", "dead_before"]), "track"])


def fig_deposit_tracks(
    movie: Any,
    tracks: pd.DataFrame,
    *,
    frame: int,
    per_deposit: pd.DataFrame | None = None,
) -> Any:
    """One frame with every track: trajectory, outline circle at that frame, id, fate.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x) with µm coordinates; only ``frame`` is read.
    tracks : pandas.DataFrame
        :func:`~platescope.particles.track_deposits` output (``track``, ``frame``,
        ``y_um``, ``x_um``, ``area_um2``, ``merged_into``).
    frame : int
        Frame index shown.
    per_deposit : pandas.DataFrame, optional
        :func:`~platescope.particles.find_dead_li` output; tracks ever dead are drawn in
        vermilion.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> mv = xr.DataArray(np.ones((2, 20, 20)), dims=("t", "y", "x"),
    ...                   coords={"t": [0.0, 1.0], "y": np.arange(20) * 0.5, "x": np.arange(20) * 0.5})
    >>> tr = pd.DataFrame({"track": [0, 0], "frame": [0, 1], "y_um": [5.0, 5.1], "x_um": [4.0, 4.0],
    ...                    "area_um2": [3.0, 4.0], "merged_into": [-1, -1]})
    >>> len(fig_deposit_tracks(mv, tr, frame=1).axes)
    1
    """
    arr, extent, in_um = _map_and_extent(movie.isel(t=int(frame)), None, "frame")
    fig = _figure(6.0, 6.0)
    ax = fig.subplots()
    lo, hi = np.nanpercentile(arr, [0.5, 99.5]) if np.isfinite(arr).any() else (0, 1)
    ax.imshow(arr, extent=extent, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    dead = _ever_dead(per_deposit)
    t_shown = float(movie["t"].values[int(frame)])
    for tid, g in tracks.groupby("track", sort=True):
        colour = _VERMILION if tid in dead else _SKY
        ax.plot(g["x_um"], g["y_um"], "-", color=colour, lw=0.8, alpha=0.9)
        at = g[g["frame"] == frame]
        if len(at):
            r = float(np.sqrt(at["area_um2"].iloc[0] / np.pi))
            ax.add_patch(
                Circle(
                    (float(at["x_um"].iloc[0]), float(at["y_um"].iloc[0])),
                    r,
                    fill=False,
                    ec=colour,
                    lw=1.0,
                )
            )
        ax.text(
            float(g["x_um"].iloc[-1]) + 1.0,
            float(g["y_um"].iloc[-1]) - 1.0,
            str(int(tid)),
            color=colour,
            fontsize=7,
        )
        m = g[g["merged_into"] >= 0] if "merged_into" in g else g.iloc[:0]
        for _, row in m.iterrows():
            ax.plot(row["x_um"], row["y_um"], "x", color=_ORANGE, ms=7, mew=1.6)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    if in_um:
        _add_scalebar(ax, extent)
    ax.set_title(
        f"Frame {int(frame)} (t = {_g(t_shown)} s): tracks and outlines", fontsize=_LABEL_SIZE
    )
    handles = [
        Line2D([], [], color=_SKY, lw=1.2, label="deposit track / outline"),
        Line2D([], [], color=_VERMILION, lw=1.2, label="turned dead"),
        Line2D([], [], color=_ORANGE, marker="x", lw=0, label="merged into a neighbour"),
    ]
    fig.legend(handles=handles, fontsize=_LEGEND_SIZE, loc="outside lower center", ncols=3)
    return fig


def _shade_strips(ax: Any, steps: pd.DataFrame | None) -> None:
    if steps is None or steps.empty:
        return
    for _, s in steps[steps["step"] == "stripping"].iterrows():
        ax.axvspan(s["t_start_s"], s["t_end_s"], color=_STRIP_SHADE, alpha=0.25, lw=0)


def fig_deposit_volumes(
    timeseries: pd.DataFrame,
    *,
    per_deposit: pd.DataFrame | None = None,
    steps: pd.DataFrame | None = None,
) -> Any:
    """Projected area and effective volume of every deposit against time.

    Parameters
    ----------
    timeseries : pandas.DataFrame
        :func:`~platescope.particles.deposit_timeseries` output.
    per_deposit : pandas.DataFrame, optional
        :func:`~platescope.particles.find_dead_li` output: deposits that turned dead are
        drawn in vermilion and their dead volume (mean over the tail) marked.
    steps : pandas.DataFrame, optional
        :func:`~platescope.particles.cycling_steps` output: stripping steps shaded.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.DataFrame({"track": [0, 0, 0], "t_s": [0.0, 1.0, 2.0], "area_um2": [1.0, 2, 3],
    ...                    "volume_um3": [1.0, 2, 3]})
    >>> len(fig_deposit_volumes(ts).axes)
    2
    """
    fig = _figure(7.5, 5.6)
    ax_a, ax_v = fig.subplots(2, 1, sharex=True)
    dead = _ever_dead(per_deposit)
    for tid, g in timeseries.groupby("track", sort=True):
        is_dead = tid in dead
        kw = {"color": _VERMILION if is_dead else _BLUE, "lw": 1.0 if is_dead else 0.7}
        kw["alpha"] = 0.95 if is_dead else 0.55
        ax_a.plot(g["t_s"], g["area_um2"], **kw)
        ax_v.plot(g["t_s"], g["volume_um3"], **kw)
    if per_deposit is not None and not per_deposit.empty:
        d = per_deposit[per_deposit["status"] == "dead"]
        ax_v.plot(
            d["t_strip_end_s"], d["v_dead_um3"], "o", color=_VERMILION, ms=4, mec="white", mew=0.5
        )
    for ax in (ax_a, ax_v):
        _shade_strips(ax, steps)
        _style(ax)
    ax_a.set_ylabel("Projected area (µm²)")
    ax_v.set_ylabel("Effective volume (µm³)")
    ax_v.set_xlabel("Time (s)")
    shape = timeseries.attrs.get("shape", "hemisphere")
    handles = [
        Line2D([], [], color=_BLUE, lw=1, label="deposit"),
        Line2D([], [], color=_VERMILION, lw=1.2, label="turned dead"),
        Line2D([], [], color=_VERMILION, marker="o", lw=0, label="dead volume (cycle)"),
        Line2D([], [], color=_STRIP_SHADE, lw=6, alpha=0.5, label="stripping"),
    ]
    ax_a.legend(handles=handles, fontsize=_LEGEND_SIZE, ncols=2, loc="upper left")
    ax_v.set_title(f"Effective volume: {shape} of the projected area", fontsize=_TICK_SIZE)
    return fig


def fig_dead_vs_max(per_deposit: pd.DataFrame, by_cycle: pd.DataFrame) -> Any:
    """Dead effective volume against maximum effective volume, per cycle, with fit lines.

    Parameters
    ----------
    per_deposit : pandas.DataFrame
        :func:`~platescope.particles.find_dead_li` output (deposits found dead are drawn).
    by_cycle : pandas.DataFrame
        :func:`~platescope.particles.dead_li_by_cycle` output (slope, slope_err (1σ),
        intercept, r2); the legend shows slope ± 2σ.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> pdp = pd.DataFrame({"cycle": 1, "status": "dead", "v_max_um3": [10.0, 20, 30],
    ...                     "v_dead_um3": [4.0, 8, 12]})
    >>> bc = pd.DataFrame({"cycle": [1], "slope": [0.4], "slope_err": [0.01], "intercept_um3": [0.0],
    ...                    "r2": [1.0]})
    >>> len(fig_dead_vs_max(pdp, bc).axes)
    1
    """
    fig = _figure(5.6, 4.6)
    ax = fig.subplots()
    dead = per_deposit[per_deposit["status"] == "dead"] if len(per_deposit) else per_deposit
    if dead.empty:
        _no_data(ax, "no deposit turned dead")
        _style(ax)
        return fig
    vmax = float(np.nanmax(dead["v_max_um3"]))
    for k, (cycle, g) in enumerate(dead.groupby("cycle", sort=True)):
        colour = _CYCLE_COLOURS[k % len(_CYCLE_COLOURS)]
        label = f"cycle {int(cycle)}"
        row = by_cycle[by_cycle["cycle"] == cycle]
        if len(row) and np.isfinite(row["slope"].iloc[0]):
            s, se = float(row["slope"].iloc[0]), float(row["slope_err"].iloc[0])
            a, r2 = float(row["intercept_um3"].iloc[0]), float(row["r2"].iloc[0])
            xx = np.array([0.0, float(g["v_max_um3"].max()) * 1.05])
            ax.plot(xx, a + s * xx, "-", color=colour, lw=1.2)
            label += f": slope {_g(s)} ± {_g(2 * se, 2)} (k = 2), R² {r2:.3f}"
        else:
            label += f" ({len(g)} dead: too few for a line)"
        if "v_dead_err_um3" in g and "v_max_err_um3" in g:
            ax.errorbar(
                g["v_max_um3"],
                g["v_dead_um3"],
                xerr=2.0 * g["v_max_err_um3"],  # 1σ in; bars at k = 2 like the summary
                yerr=2.0 * g["v_dead_err_um3"],
                fmt="o",
                color=colour,
                ms=4.5,
                lw=0.8,
                label=label,
            )
        else:
            ax.plot(g["v_max_um3"], g["v_dead_um3"], "o", color=colour, ms=4.5, label=label)
    ax.plot([0, vmax * 1.05], [0, vmax * 1.05], ":", color="0.5", lw=0.8, label="dead = max")
    ax.set_xlim(0, vmax * 1.08)
    ax.set_ylim(0, None)
    ax.set_xlabel("Maximum effective volume (µm³)")
    ax.set_ylabel("Dead effective volume (µm³)")
    ax.legend(fontsize=_LEGEND_SIZE, loc="upper left")
    _style(ax)
    ax.set_title("Dead Li vs maximum volume (slope = dead fraction)", fontsize=_TICK_SIZE)
    return fig


def fig_deposit_montage(
    movie: Any,
    frames: Sequence[int],
    *,
    labels: Sequence[str] | None = None,
    ncols: int = 4,
) -> Any:
    """A grid of frames on one grey scale, each titled with its time (and a label).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x) with µm coordinates; only the listed frames are read.
    frames : sequence of int
        Frame indices, in reading order.
    labels : sequence of str, optional
        A short label per frame (e.g. "cycle 1, end of plating").
    ncols : int
        Frames per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> mv = xr.DataArray(np.random.default_rng(0).random((4, 8, 8)), dims=("t", "y", "x"),
    ...                   coords={"t": np.arange(4.0), "y": np.arange(8) * 0.5, "x": np.arange(8) * 0.5})
    >>> len(fig_deposit_montage(mv, [0, 1, 2, 3], ncols=2).axes)
    4
    """
    idx = [int(f) for f in frames]
    if not idx:
        raise ValueError("no frames to show")
    ncols = max(1, min(int(ncols), len(idx)))
    nrows = -(-len(idx) // ncols)
    shown = np.asarray(movie.isel(t=idx).values, dtype=float)
    lo, hi = np.nanpercentile(shown, [0.5, 99.5])
    fig = _figure(2.3 * ncols, 2.45 * nrows + 0.2)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(idx):
            ax.set_axis_off()
            continue
        arr, extent, in_um = _map_and_extent(movie.isel(t=idx[k]), None, "frame")
        ax.imshow(shown[k], extent=extent, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        title = f"t = {_g(float(movie['t'].values[idx[k]]))} s"
        if labels is not None and k < len(labels):
            title = f"{labels[k]}\n{title}"
        ax.set_title(title, fontsize=_TICK_SIZE - 1)
        if k == len(idx) - 1 and in_um:
            _add_scalebar(ax, extent)
    return fig
