"""Figures of the ``sims-diffusion`` scenario: tracer depth profiles, fits and σ² vs t.

Same conventions as :mod:`platescope.report._figures`: each function returns a
:class:`matplotlib.figure.Figure` on the Agg canvas and never touches pyplot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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
    _style,
)

__all__ = ["fig_sims_profile", "fig_sims_sigma2"]

_DEPTH = "Depth (µm)"


def _excluded_band(ax, depth, used) -> None:
    used = np.asarray(used, bool)
    if used.all() or not used.any():
        return
    first = int(np.argmax(used))
    if first == 0:
        return
    edge = 0.5 * (depth[first - 1] + depth[first])
    ax.axvspan(0.0, edge, color=_VERMILION, alpha=0.10, lw=0)


def fig_sims_profile(
    profile,
    result: Mapping[str, Any],
    *,
    tracer: str,
    title: str | None = None,
):
    """One SIMS profile: counts, tracer fraction, C′ (vs x and x²) with the fit, residuals.

    Parameters
    ----------
    profile : pandas.DataFrame
        The profile as read (``depth_um`` and ``counts_*`` columns).
    result : mapping
        :func:`platescope.models.fit_tracer_profile` output (its ``curve`` arrays).
    tracer : {"6Li", "7Li"}
        The tracer isotope.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from platescope.models import fit_tracer_profile
    >>> x = np.linspace(0.2, 20, 40); f = 0.05 + 0.3 * np.exp(-0.5 * (x / 6) ** 2)
    >>> df = pd.DataFrame({"depth_um": x, "counts_6Li": (1 - f) * 1e4, "counts_7Li": f * 1e4})
    >>> r = fit_tracer_profile(x, df["counts_7Li"], df["counts_6Li"], anneal_time_s=3600)
    >>> fig = fig_sims_profile(df, r, tracer="7Li")
    >>> len(fig.axes)
    5
    """
    c = result["curve"]
    x = np.asarray(c["depth_um"], float)
    used = np.asarray(c["used"], bool)
    exc = ~used & np.isfinite(np.asarray(c["f"], float))
    fig = _figure(10.0, 8.2)
    gs = fig.add_gridspec(3, 2, height_ratios=[1.0, 1.0, 0.6])
    ax_n, ax_f = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
    ax_c, ax_c2 = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])
    ax_r = fig.add_subplot(gs[2, :])
    colours = {"6Li": _BLUE, "7Li": _ORANGE}
    other_cols = [col for col in profile.columns if col.startswith("counts_")]
    extra = iter([_GREEN, _SKY, "#777777", "#AA4499"])
    for col in other_cols:
        iso = col.removeprefix("counts_")
        y = np.asarray(profile[col], float)
        colour = colours.get(iso) or next(extra, _BLACK)
        label = f"{iso}" + (" (tracer)" if iso == tracer else "")
        ax_n.plot(x, np.where(y > 0, y, np.nan), ".-", ms=3, lw=0.8, color=colour, label=label)
    ax_n.set_yscale("log")
    ax_n.set_xlabel(_DEPTH)
    ax_n.set_ylabel("Counts per depth point (counts)")
    ax_n.legend(
        fontsize=_LEGEND_SIZE,
        frameon=False,
        ncol=len(other_cols),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
    )
    _excluded_band(ax_n, x, used)

    f, ferr = np.asarray(c["f"], float), np.asarray(c["f_err"], float)
    ax_f.errorbar(
        x[used], f[used], yerr=ferr[used], fmt="o", ms=3, color=_BLACK, lw=0.8, label="used"
    )
    if exc.any():
        ax_f.plot(x[exc], f[exc], "x", ms=6, mew=1.5, color=_VERMILION, label="excluded (surface)")
    ax_f.plot(x, c["fit_f"], "-", color=_SKY, lw=1.8, label=f"fit ({result['model']})")
    ax_f.axhline(
        result["background_fraction"], color="#888888", ls=":", lw=1, label="background f_bg"
    )
    ax_f.set_xlabel(_DEPTH)
    ax_f.set_ylabel(f"{tracer} fraction f")
    ax_f.legend(fontsize=_LEGEND_SIZE, frameon=False)
    _excluded_band(ax_f, x, used)

    cp, fit_c = np.asarray(c["cprime"], float), np.asarray(c["fit_cprime"], float)
    pos = cp > 0
    for ax, xx, xlabel in ((ax_c, x, _DEPTH), (ax_c2, x**2, "Depth² (µm²)")):
        ax.plot(xx[used & pos], cp[used & pos], "o", ms=3, color=_BLACK, label="C′ used")
        if (exc & pos).any():
            ax.plot(
                xx[exc & pos], cp[exc & pos], "x", ms=6, mew=1.5, color=_VERMILION, label="excluded"
            )
        ax.plot(xx, np.where(fit_c > 0, fit_c, np.nan), "-", color=_SKY, lw=1.8, label="fit")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Excess tracer C′")
        if pos.any():
            top, low = float(np.max(cp[pos])), float(np.min(cp[pos]))
            ax.set_ylim(bottom=max(top * 1e-3, low * 0.7))
        else:
            ax.text(0.5, 0.5, "no positive excess tracer", transform=ax.transAxes, ha="center")
    ax_c.legend(fontsize=_LEGEND_SIZE, frameon=False)
    # x² axis: up to where the fit has fallen to 10⁻³ of its surface value (the tail is noise)
    peak = np.nanmax(fit_c) if np.isfinite(fit_c).any() else np.nan
    if np.isfinite(peak) and peak > 0:
        inside = np.nonzero(fit_c >= 1e-3 * peak)[0]
        if inside.size:
            ax_c2.set_xlim(0, min(float(x[-1] ** 2), 1.15 * float(x[inside[-1]] ** 2)) * 1.02)
    _excluded_band(ax_c, x, used)
    ax_c2.text(
        0.97,
        0.95,
        f"t = {_g(result['anneal_time_s'])} s\nD = {_g(result['D_cm2_s'])} cm² s⁻¹"
        f"\ns = {result['sigma_um']:.2f} µm, R² = {result['r2']:.3f}",
        transform=ax_c2.transAxes,
        ha="right",
        va="top",
        fontsize=_LEGEND_SIZE + 0.5,
    )

    z = np.asarray(c["z"], float)
    ax_r.axhline(0, color="#888888", lw=0.8)
    ax_r.plot(x[used], z[used], "o", ms=3, color=_BLACK)
    if exc.any():
        ax_r.plot(x[exc], z[exc], "x", ms=6, mew=1.5, color=_VERMILION)
    for k in (-3, 3):
        ax_r.axhline(k, color=_VERMILION, ls="--", lw=0.8)
    ax_r.set_xlabel(_DEPTH)
    ax_r.set_ylabel("Residual (σ)")
    finite = z[used][np.isfinite(z[used])]
    lim = max(4.0, float(np.max(np.abs(finite))) * 1.1) if finite.size else 4.0
    ax_r.set_ylim(-lim, lim)
    if exc.any() and np.nanmax(np.abs(z[exc])) > lim:
        ax_r.text(
            0.99,
            0.95,
            "some excluded points are off scale",
            transform=ax_r.transAxes,
            fontsize=8,
            color=_VERMILION,
            ha="right",
            va="top",
        )
    ax_r.set_xlim(ax_c.get_xlim())
    _excluded_band(ax_r, x, used)
    for ax in fig.axes:
        _style(ax)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def fig_sims_sigma2(
    anneal_time_s: Sequence[float],
    sigma2_um2: Sequence[float],
    sigma2_err_um2: Sequence[float],
    *,
    combined: Mapping[str, Any] | None = None,
):
    """Profile width s² against anneal time with the weighted line s² = 2Dt + s0².

    Parameters
    ----------
    anneal_time_s : sequence of float
        Anneal times, s.
    sigma2_um2, sigma2_err_um2 : sequence of float
        s² and its 1σ error, µm² (bars show ±2σ).
    combined : mapping, optional
        :func:`platescope.models.combine_anneal_times` output (1σ errors).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_sims_sigma2([900, 1800, 3600], [29, 58, 115], [0.5, 1, 2],
    ...                       combined={"D_cm2_s": 1.6e-10, "D_err_cm2_s": 2e-12,
    ...                                 "intercept_um2": 0.04})
    >>> len(fig.axes)
    1
    """
    t = np.asarray(anneal_time_s, float) / 60.0
    y = np.asarray(sigma2_um2, float)
    e = np.asarray(sigma2_err_um2, float)
    fig = _figure(5.2, 3.8)
    ax = fig.add_subplot()
    ax.errorbar(t, y, yerr=2 * e, fmt="o", color=_BLACK, ms=5, capsize=3, label="profiles (±95 %)")
    if (
        combined
        and combined.get("D_cm2_s") is not None
        and combined.get("intercept_um2") is not None
    ):
        tt = np.linspace(0.0, t.max() * 1.08, 50)
        slope = 2 * combined["D_cm2_s"] * 1e8 * 60.0  # µm² per minute
        ax.plot(
            tt,
            slope * tt + combined["intercept_um2"],
            "-",
            color=_SKY,
            lw=1.8,
            label="s² = 2Dt + s0²",
        )
        err = combined.get("D_err_cm2_s")
        ax.text(
            0.03,
            0.95,
            f"D = {_g(combined['D_cm2_s'])} ± {_g(2 * err if err else float('nan'), 2)} cm² s⁻¹ (95 %)"
            f"\ns0² = {combined['intercept_um2']:.2f} ± "
            f"{2 * (combined.get('intercept_err_um2') or float('nan')):.2f} µm² (95 %)",
            transform=ax.transAxes,
            va="top",
            fontsize=_LEGEND_SIZE + 0.5,
        )
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=min(0.0, float(np.min(y - 2 * e))))
    ax.set_xlabel("Anneal time (min)")
    ax.set_ylabel("Profile width s² (µm²)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, loc="lower right")
    _style(ax)
    return fig
