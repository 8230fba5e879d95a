"""Figures of top-view nucleation: density vs time and charge, density vs current density.

Same conventions as :mod:`platescope.report._figures`: data in, a
:class:`matplotlib.figure.Figure` on the Agg canvas out; uncertainties arrive as 1σ and
are drawn at k = 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, NullFormatter

from platescope.report._figures import (
    _BLUE,
    _LEGEND_SIZE,
    _ORANGE,
    _figure,
    _g,
    _no_data,
    _style,
)

__all__ = ["fig_nucleation_law", "fig_nucleus_counts"]


def _run_colours(runs: Sequence[dict]):
    js = [r["j_mA_cm2"] for r in runs if r.get("j_mA_cm2")]
    if not js:
        return lambda j: _BLUE
    lo, hi = min(js), max(js)
    norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.01)
    cmap = colormaps["viridis"]
    return lambda j: cmap(0.9 * norm(j))


def fig_nucleus_counts(
    counts: pd.DataFrame, runs: Sequence[dict], *, sand: Sequence[dict] | None = None
) -> Any:
    """Cumulative nucleus density vs time since plating started and vs plated charge.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-frame counts of every run (``run``, ``t_from_start_s``, ``charge_mC_cm2``,
        ``density_cm2``, ``density_err_cm2`` 1σ).
    runs : sequence of dict
        Per-run results (``run``, ``label``, ``j_mA_cm2``, ``t_tip_onset_s``).
    sand : sequence of dict, optional
        Per-run Sand's times (``run``, ``t_sand_s``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> c = pd.DataFrame({"run": 1, "t_from_start_s": [0.0, 10, 20],
    ...                   "charge_mC_cm2": [0.0, 10, 20], "density_cm2": [0.0, 1e5, 2e5],
    ...                   "density_err_cm2": [0.0, 3e4, 4e4]})
    >>> fig = fig_nucleus_counts(c, [{"run": 1, "label": "a", "j_mA_cm2": 1.0}])
    >>> len(fig.axes)
    2
    """
    fig = _figure(9.0, 3.8)
    ax_t, ax_q = fig.subplots(1, 2)
    done = [r for r in runs if r.get("n_nuclei") is not None]
    if counts is None or not len(counts) or not done:
        _no_data(ax_t, "no run was analysed")
        _style(ax_t)
        _style(ax_q)
        return fig
    colour = _run_colours(done)
    t_sand = {s["run"]: s["t_sand_s"] for s in (sand or [])}
    for r in done:
        c = counts[(counts["run"] == r["run"]) & (counts["t_from_start_s"] >= 0)]
        if not len(c):
            continue
        col = colour(r["j_mA_cm2"])
        lab = f"{r['label']}: {_g(r['j_mA_cm2'], 3)} mA cm⁻²"
        d = c["density_cm2"].to_numpy(float) / 1e4
        e = 2.0 * c["density_err_cm2"].to_numpy(float) / 1e4
        for ax, x in ((ax_t, c["t_from_start_s"]), (ax_q, c["charge_mC_cm2"])):
            ax.step(x, d, where="post", color=col, lw=1.3, label=lab if ax is ax_t else None)
            ax.fill_between(x, d - e, d + e, step="post", color=col, alpha=0.15, lw=0)
        on = r.get("t_tip_onset_s")
        if on is not None:
            k = int(np.searchsorted(c["t_from_start_s"].to_numpy(float), on))
            k = min(k, len(c) - 1)
            ax_t.plot([on], [d[k]], "^", color=col, ms=7, mec="k", mew=0.6)
        ts = t_sand.get(r["run"])
        if ts is not None and ts <= float(c["t_from_start_s"].max()):
            ax_t.axvline(ts, color=col, ls="--", lw=0.9)
    ax_t.set_xlabel("time since plating started (s)")
    ax_q.set_xlabel("plated charge (mC cm⁻²)")
    for ax in (ax_t, ax_q):
        ax.set_ylabel("nucleus density (10⁴ cm⁻²)")
        _style(ax)
    ax_t.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="lower right")
    return fig


def fig_nucleation_law(
    runs: Sequence[dict], law: dict, *, charge_mC_cm2=None, pit_law: dict | None = None
) -> Any:
    """Areal nucleus density vs current density on log–log axes with the power law.

    Parameters
    ----------
    runs : sequence of dict
        Per-run results with ``j_mA_cm2`` and the fitted quantity (``law["quantity"]``)
        and its 1σ ``…_err_cm2``.
    law : dict
        :func:`platescope.stats.power_law_fit` result (1σ) with ``quantity``.
    charge_mC_cm2 : float, optional
        The charge at which densities were compared (for the axis label).
    pit_law : dict, optional
        The same fit for the pit densities (``pit_density_cm2`` of the runs): drawn as
        squares with their own line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> runs = [{"j_mA_cm2": j, "n_nuclei": 10, "density_cm2": 1e5 * j,
    ...          "density_err_cm2": 1e4 * j} for j in (0.5, 1.0, 2.0)]
    >>> law = {"quantity": "density_cm2", "exponent": 1.0, "exponent_err": 0.01,
    ...        "prefactor": 1e5}
    >>> len(fig_nucleation_law(runs, law).axes)
    1
    """
    fig = _figure(5.2, 4.0)
    ax = fig.subplots()
    key = law.get("quantity", "density_cm2")
    pts = [r for r in runs if r.get(key) is not None and r.get("j_mA_cm2")]
    if not pts:
        _no_data(ax, "no density to plot")
        _style(ax)
        return fig
    j = np.array([r["j_mA_cm2"] for r in pts])
    n = np.array([r[key] for r in pts])
    e = np.array([r.get(key.replace("_cm2", "_err_cm2")) or 0.0 for r in pts])
    lo = np.clip(n - 2 * e, n * 0.05, None)
    ax.errorbar(j, n, yerr=[n - lo, 2 * e], fmt="o", color=_BLUE, ms=5, lw=0.9, label="nuclei")
    if law.get("exponent") is not None:
        xx = np.geomspace(j.min() / 1.2, j.max() * 1.2, 50)
        b, be = law["exponent"], law.get("exponent_err")
        lab = f"nuclei: ∝ j^{_g(b, 3)}" + (f" ± {_g(2 * be, 2)} (k = 2)" if be else "")
        ax.plot(xx, law["prefactor"] * xx**b, "-", color=_BLUE, lw=1.2, label=lab)
    if pit_law is not None:
        pp = [r for r in runs if r.get("pit_density_cm2") and r.get("j_mA_cm2")]
        jp = np.array([r["j_mA_cm2"] for r in pp])
        npit = np.array([r["pit_density_cm2"] for r in pp])
        ep = np.array([r.get("pit_density_err_cm2") or 0.0 for r in pp])
        lo = np.clip(npit - 2 * ep, npit * 0.05, None)
        ax.errorbar(
            jp,
            npit,
            yerr=[npit - lo, 2 * ep],
            fmt="s",
            color=_ORANGE,
            ms=4.5,
            lw=0.9,
            label="pits",
        )
        if pit_law.get("exponent") is not None and len(jp):
            xx = np.geomspace(jp.min() / 1.2, jp.max() * 1.2, 50)
            b, be = pit_law["exponent"], pit_law.get("exponent_err")
            lab = f"pits: ∝ j^{_g(b, 3)}" + (f" ± {_g(2 * be, 2)} (k = 2)" if be else "")
            ax.plot(xx, pit_law["prefactor"] * xx**b, "--", color=_ORANGE, lw=1.1, label=lab)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(np.unique(np.round(j, 3)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("current density j (mA cm⁻²)")
    what = (
        f"nucleus density at {_g(charge_mC_cm2, 3)} mC cm⁻² (cm⁻²)"
        if key == "density_at_charge_cm2" and charge_mC_cm2
        else "nucleus density (cm⁻²)"
    )
    ax.set_ylabel(what if pit_law is None else what.replace("nucleus density", "density"))
    _style(ax)
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="upper left")
    return fig
