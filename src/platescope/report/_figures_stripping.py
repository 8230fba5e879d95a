"""Figures of the stripping limits and of Scharifker–Hills transients (SCIENCE.md §3, §5).

Same conventions as :mod:`platescope.report._figures`: each function takes data,
returns a :class:`~matplotlib.figure.Figure` on the Agg canvas and never touches pyplot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _GREEN,
    _LEGEND_SIZE,
    _ORANGE,
    _SKY,
    _VERMILION,
    _figure,
    _g,
    _no_data,
    _style,
)

__all__ = [
    "fig_critical_current",
    "fig_sand_limits",
    "fig_scharifker_hills",
    "fig_void_capacity",
]

_J_LABEL = "Stripping current density j (mA cm⁻²)"


def _plain_log_ticks(axis) -> None:
    """Plain-number labels (0.1, 1, 10, 200) on a log axis."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def fig_critical_current(
    points: Sequence[Mapping[str, Any]] = (),
    *,
    D_range_cm2_s: tuple[float, float] = (3e-12, 1e-9),
) -> Figure:
    """i_crit vs D (√D law) with the paper's band and marked diffusivities.

    Parameters
    ----------
    points : sequence of mappings
        Each ``{"label", "D_cm2_s"}`` with optional ``"D_err_cm2_s"`` (1σ, cm² s⁻¹) and
        ``"measured"`` (bool: drawn filled and larger).
    D_range_cm2_s : (float, float)
        x-axis range, cm² s⁻¹.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_critical_current([{"label": "Li", "D_cm2_s": 1.6e-10}])
    >>> fig.axes[0].get_xscale()
    'log'
    """
    from platescope.models._stripping import (
        I_CRIT_BAND_D_CM2_S,
        I_CRIT_BAND_UA_CM2,
        critical_stripping_current,
    )

    fig = _figure(5.6, 4.2)
    ax = fig.add_subplot()
    D = np.geomspace(*D_range_cm2_s, 200)
    r = critical_stripping_current(D)
    lo, hi = r["i_crit_model_interval_uA_cm2"]
    ax.fill_between(D, lo, hi, color=_SKY, alpha=0.25, lw=0, label="anchor spread of the √D law")
    ax.plot(D, r["i_crit_uA_cm2"], color=_BLACK, lw=1.4, label="i_crit = 50 µA cm⁻²·√(D/10⁻¹¹)")
    (d0, d1), (i0, i1) = I_CRIT_BAND_D_CM2_S, I_CRIT_BAND_UA_CM2
    ax.add_patch(
        Rectangle(
            (d0, i0),
            d1 - d0,
            i1 - i0,
            fill=False,
            ec=_ORANGE,
            lw=1.5,
            ls="--",
            label="paper: D = 10⁻¹¹–10⁻¹⁰ ↔ 50–200 µA cm⁻²",
        )
    )
    others = iter([_BLUE, _VERMILION, _ORANGE, _SKY, _BLACK] * 4)
    for p in points:
        Dp = float(p["D_cm2_s"])
        rp = critical_stripping_current(Dp, D_err_cm2_s=p.get("D_err_cm2_s"))
        measured = bool(p.get("measured"))
        col = _GREEN if measured else next(others)
        xerr = None if p.get("D_err_cm2_s") is None else 2 * float(p["D_err_cm2_s"])
        yerr = None if rp["i_crit_err_uA_cm2"] is None else 2 * rp["i_crit_err_uA_cm2"]
        ax.errorbar(
            Dp,
            rp["i_crit_uA_cm2"],
            xerr=xerr,
            yerr=yerr,
            fmt="o" if measured else "s",
            ms=7 if measured else 5,
            mfc=col if measured else "white",
            mec=col,
            color=col,
            capsize=2,
            label=f"{p['label']}: {_g(rp['i_crit_uA_cm2'])} µA cm⁻²",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.8 * float(np.min(lo)), 5.0 * float(np.max(hi)))
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("Li diffusivity D (cm² s⁻¹)")
    ax.set_ylabel("Critical stripping current (µA cm⁻²)")
    ax.legend(fontsize=_LEGEND_SIZE - 0.5, frameon=False, loc="upper left")
    _style(ax)
    return fig


def fig_sand_limits(
    j_mA_cm2: Any,
    curves: Sequence[Mapping[str, Any]],
) -> Figure:
    """Sand capacity Q* and time t* of a solid vs current density (two panels).

    Parameters
    ----------
    j_mA_cm2 : array_like
        Current densities, mA cm⁻².
    curves : sequence of mappings
        Each ``{"label", "D_cm2_s", "c_mol_cm3"}``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_sand_limits([0.1, 1.0], [{"label": "Li", "D_cm2_s": 1.6e-10,
    ...                                      "c_mol_cm3": 1 / 13.0}])
    >>> len(fig.axes)
    2
    """
    from platescope.models._stripping import sand_capacity_solid, sand_time_solid

    j = np.asarray(j_mA_cm2, dtype=float)
    fig = _figure(8.0, 3.4)
    axq, axt = fig.subplots(1, 2)
    fixed = {"Li": _BLUE, "Li metal": _BLUE, "Li₀.₉Mg₀.₁": _VERMILION, "Li0.9Mg0.1": _VERMILION}
    spare = iter([_GREEN, _ORANGE, _SKY, _BLACK] * 4)
    for c in curves:
        col = fixed.get(c["label"]) or next(spare)
        kw = {"D_cm2_s": c["D_cm2_s"], "c_mol_cm3": c["c_mol_cm3"]}
        lab = f"{c['label']} (D = {_g(c['D_cm2_s'], 2)} cm² s⁻¹)"
        axq.plot(j, sand_capacity_solid(j, **kw), color=col, lw=1.5, label=lab)
        axt.plot(j, np.asarray(sand_time_solid(j, **kw)) / 3600.0, color=col, lw=1.5, label=lab)
    for ax in (axq, axt):
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_ticks(ax.xaxis)
        _plain_log_ticks(ax.yaxis)
        ax.set_xlabel(_J_LABEL)
        ax.axvline(0.1, color="0.6", lw=0.8, ls=":")
        ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
        _style(ax)
    axq.set_ylabel("Q* = πD(zFc)²/(4j) (mAh cm⁻²)")
    axt.set_ylabel("t* = πD(zFc)²/(4j²) (h)")
    axq.legend(fontsize=_LEGEND_SIZE, frameon=False)
    return fig


def fig_void_capacity(
    table: pd.DataFrame, *, mark_j_mA_cm2: Sequence[float] = (0.1, 1.0)
) -> Figure:
    """Void-model capacity before failure vs j for each material (log–log).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`platescope.models.void_model_capacity` (columns ``material``,
        ``j_mA_cm2``, ``capacity_mAh_cm2``, ``sand_capacity_mAh_cm2``).
    mark_j_mA_cm2 : sequence of float
        Currents to mark (the paper's 0.1 and 1 mA cm⁻²).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> tab = pd.DataFrame({"material": ["A", "A"], "j_mA_cm2": [0.1, 1.0],
    ...                     "capacity_mAh_cm2": [1.0, 0.1], "sand_capacity_mAh_cm2": [2, 0.2]})
    >>> len(fig_void_capacity(tab).axes[0].get_lines()) >= 2
    True
    """
    fig = _figure(7.4, 3.9)
    ax = fig.add_subplot()
    if table is None or len(table) == 0:
        _no_data(ax, "no void-model results")
        return fig
    fixed = {"Li metal": _BLUE, "Li0.9Mg0.1": _VERMILION}  # same colours in every report
    spare = iter([_GREEN, _ORANGE, _SKY, _BLACK] * 4)
    offsets = {"Li metal": (5, 4), "Li0.9Mg0.1": (-26, -13)}
    for name, g in table.groupby("material", sort=False):
        g = g.sort_values("j_mA_cm2")
        col = fixed.get(name) or next(spare)
        ax.plot(g["j_mA_cm2"], g["capacity_mAh_cm2"], color=col, lw=1.8, label=f"{name}: model")
        if "sand_capacity_mAh_cm2" in g:
            ax.plot(
                g["j_mA_cm2"],
                g["sand_capacity_mAh_cm2"],
                color=col,
                lw=1.0,
                ls="--",
                label=f"{name}: Sand limit (no voids)",
            )
        for jm in mark_j_mA_cm2:
            q = np.interp(np.log(jm), np.log(g["j_mA_cm2"]), g["capacity_mAh_cm2"])
            if g["j_mA_cm2"].min() <= jm <= g["j_mA_cm2"].max():
                ax.plot([jm], [q], "o", color=col, ms=5)
                ax.annotate(
                    _g(q, 2),
                    (jm, q),
                    textcoords="offset points",
                    xytext=offsets.get(name, (6, 6)),
                    fontsize=_LEGEND_SIZE,
                    color=col,
                )
    ymin = np.nanmin(table["capacity_mAh_cm2"].to_numpy(float))
    ymax = np.nanmax(table["capacity_mAh_cm2"].to_numpy(float))
    ax.set_ylim(ymin / 3, ymax * 3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_ticks(ax.xaxis)
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel(_J_LABEL)
    ax.set_ylabel("Capacity before contact failure (mAh cm⁻²)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _style(ax)
    return fig


def fig_scharifker_hills(time_s: Any, current_A: Any, fit: Mapping[str, Any]) -> Figure:
    """Transient over the Scharifker–Hills curves, or the raw record and why not.

    Parameters
    ----------
    time_s, current_A : array_like
        The chronoamperometry record (s, A).
    fit : mapping
        Output of :func:`platescope.models.scharifker_hills_fit` for this record.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_scharifker_hills([0, 1, 2], [1, 0.5, 0.2],
    ...                            {"nucleation_transient": False, "reason": "decays"})
    >>> "decays" in fig.axes[0].texts[0].get_text()
    True
    """
    from platescope.models._scharifker_hills import MECHANISMS, scharifker_hills_dimensionless

    t = np.asarray(time_s, dtype=float)
    i = np.asarray(current_A, dtype=float)
    fig = _figure(5.2, 3.8)
    ax = fig.add_subplot()
    if not fit.get("nucleation_transient"):
        ax.plot(t, i * 1e3, color=_BLACK, lw=1.2, marker=".", ms=3)
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Current (mA)")
        ax.text(
            0.5,
            0.5,
            "No Scharifker–Hills analysis:\n" + textwrap.fill(str(fit.get("reason", "")), 48),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=_LEGEND_SIZE,
            bbox={"fc": "white", "ec": "0.7", "alpha": 0.9},
        )
        _style(ax)
        return fig
    tm, im = float(fit["t_m_s"]), float(fit["I_m_A"])
    x = (t - float(fit.get("t_step_s", 0.0))) / tm
    y2 = (i / im) ** 2
    keep = x > 0
    ax.plot(x[keep], y2[keep], "o", ms=3, color="0.45", mfc="none", label="data")
    xx = np.linspace(1e-3, max(4.0, float(np.nanmax(x[keep])) if keep.any() else 4.0), 400)
    for m, col in zip(MECHANISMS, (_BLUE, _VERMILION), strict=True):
        best = " (best)" if m == fit.get("mechanism") else ""
        ax.plot(xx, scharifker_hills_dimensionless(xx, m) ** 2, color=col, lw=1.6, label=m + best)
    ax.set_xlim(0, min(xx[-1], 6.0))
    ax.set_ylim(0, 1.3)
    ax.set_xlabel("t / t_m")
    ax.set_ylabel("(I / I_m)²")
    amb = ", ambiguous" if fit.get("ambiguous") else ""
    ax.set_title(
        f"I_m = {_g(im * 1e3)} mA, t_m = {_g(tm)} s — {fit['mechanism']}{amb}",
        fontsize=_LEGEND_SIZE + 0.5,
    )
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False)
    _style(ax)
    return fig
