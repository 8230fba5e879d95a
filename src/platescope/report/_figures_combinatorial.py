"""Figures of a combinatorial SECCM run: features vs current density, fractions, maps.

Each function takes the per-condition rows (``summary["combinatorial"]``, a list of
dicts or a DataFrame) and/or the per-spot table and returns a
:class:`matplotlib.figure.Figure` on the Agg canvas (house style of
:mod:`platescope.report._figures`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from platescope.report._figures import (
    _BLACK,
    _BLUE,
    _LABEL_SIZE,
    _LEGEND_SIZE,
    _SKY,
    _TICK_SIZE,
    _figure,
    _no_data,
    _style,
)

__all__ = ["fig_combinatorial_features", "fig_fraction_nucleated", "fig_spot_map"]

#: feature → (axis label, factor to display units)
FEATURE_LABELS = {
    "E_nuc_V": ("E$_{nuc}$ (mV vs Li/Li⁺)", 1e3),
    "E_growth_V": ("E$_{growth}$ (mV vs Li/Li⁺)", 1e3),
    "t_nuc_s": ("t$_{nuc}$ (s)", 1.0),
    "Q_nuc_uAh_cm2": ("Q$_{nuc}$ (µAh cm⁻²)", 1.0),
    "eta_nuc_V": ("η = E$_{growth}$ − E$_{nuc}$ (mV)", 1e3),
}
_J_LABEL = "j (mA cm⁻²)"


def _rows_frame(rows) -> pd.DataFrame:
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty or "current_density_mA_cm2" not in df:
        raise ValueError("rows must hold per-condition rows with current_density_mA_cm2")
    for c in df.columns:
        if c.endswith(("_mean", "_sd", "_mA_cm2")) or c in (
            "n",
            "n_nucleated",
            "fraction_nucleated",
        ):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def _j_axis(ax, j: np.ndarray) -> None:
    """Log current-density axis with plain-number tick labels."""
    ax.set_xscale("log")
    j = j[np.isfinite(j) & (j > 0)]
    if j.size:
        lo, hi = float(j.min()), float(j.max())
        ax.set_xlim(lo / 1.35, hi * 1.35)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(_J_LABEL)


def fig_combinatorial_features(
    rows,
    *,
    spots: pd.DataFrame | None = None,
    features: tuple[str, ...] = ("E_nuc_V", "E_growth_V", "t_nuc_s", "Q_nuc_uAh_cm2"),
) -> Figure:
    """Nucleation features against current density (log axis), one panel each.

    Parameters
    ----------
    rows : list of dict or pandas.DataFrame
        Per-condition rows with ``current_density_mA_cm2`` (mA cm⁻²), ``X_mean`` and
        ``X_sd`` for each feature X (units of the feature: V, s, µAh cm⁻²).
    spots : pandas.DataFrame, optional
        Per-spot table (``current_density_mA_cm2``, ``nucleated`` and the features);
        drawn as small grey points behind the means.
    features : tuple of str
        Features to draw (keys of :data:`FEATURE_LABELS`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [{"condition": 0, "current_density_mA_cm2": 0.5, "n": 8, "n_nucleated": 8,
    ...          "E_nuc_V_mean": -0.1, "E_nuc_V_sd": 0.005}]
    >>> fig = fig_combinatorial_features(rows, features=("E_nuc_V",))
    >>> fig.axes[0].get_xscale()
    'log'
    """
    df = _rows_frame(rows)
    n = len(features)
    ncols = 2 if n > 1 else 1
    nrows = math.ceil(n / ncols)
    fig = _figure(3.4 * ncols + 0.2, 2.7 * nrows + 0.2)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    j_all = df["current_density_mA_cm2"].to_numpy(float)
    sp = None
    if spots is not None and len(spots):
        sp = spots.copy()
        sp["nucleated"] = sp["nucleated"].fillna(False).astype(bool)
    for ax, feat in zip(axes, features, strict=False):
        label, scale = FEATURE_LABELS.get(feat, (feat, 1.0))
        mean = pd.to_numeric(df.get(f"{feat}_mean"), errors="coerce")
        if mean is None or not np.isfinite(mean.to_numpy(float)).any():
            _no_data(ax, "no spot reached E$_{nuc}$")
            _style(ax)
            ax.set_ylabel(label)
            _j_axis(ax, j_all)
            continue
        if sp is not None and feat in sp:
            ok = sp["nucleated"].to_numpy() & np.isfinite(
                pd.to_numeric(sp[feat], errors="coerce").to_numpy(float)
            )
            js = sp.loc[ok, "current_density_mA_cm2"].to_numpy(float)
            ys = pd.to_numeric(sp.loc[ok, feat]).to_numpy(float) * scale
            if js.size > 3000:  # a representative subsample keeps the figure light
                pick = np.random.default_rng(0).choice(js.size, 3000, replace=False)
                js, ys = js[pick], ys[pick]
            ax.scatter(
                js, ys, s=6, color="0.65", alpha=0.6, linewidths=0, zorder=1, rasterized=True
            )
        sd = pd.to_numeric(df.get(f"{feat}_sd"), errors="coerce")
        sd = sd.to_numpy(float) if sd is not None else np.full(len(df), np.nan)
        m = mean.to_numpy(float)
        ok = np.isfinite(m) & np.isfinite(j_all)
        ax.errorbar(
            j_all[ok],
            m[ok] * scale,
            yerr=np.where(np.isfinite(sd[ok]), sd[ok], 0.0) * scale,
            fmt="o-",
            color=_BLACK,
            ms=4.5,
            lw=1.0,
            capsize=3,
            zorder=3,
        )
        ax.set_ylabel(label)
        _j_axis(ax, j_all)
        _style(ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], marker="o", color=_BLACK, lw=1.0, ms=4.5, label="condition mean ± sd"),
    ]
    if sp is not None:
        handles.append(
            Line2D([], [], marker="o", ls="none", color="0.65", ms=3, label="single spots")
        )
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=len(handles),
        fontsize=_LEGEND_SIZE,
        frameon=False,
    )
    return fig


def fig_fraction_nucleated(rows) -> Figure:
    """Fraction of spots that reached E_nuc per condition, with Wilson 95 % intervals.

    Parameters
    ----------
    rows : list of dict or pandas.DataFrame
        Per-condition rows with ``condition``, ``current_density_mA_cm2``, ``n``,
        ``n_nucleated`` and optionally ``fraction_nucleated_ci95`` ([lo, hi]).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_fraction_nucleated([{"condition": 0, "current_density_mA_cm2": 0.2,
    ...                                "n": 8, "n_nucleated": 1}])
    >>> len(fig.axes)
    1
    """
    df = _rows_frame(rows)
    fig = _figure(max(4.0, 0.55 * len(df) + 1.8), 3.0)
    ax = fig.subplots()
    x = np.arange(len(df))
    n = df["n"].to_numpy(float)
    k = df["n_nucleated"].to_numpy(float)
    frac = np.divide(k, n, out=np.zeros_like(k), where=n > 0)
    ax.bar(x, frac, color=_SKY, edgecolor=_BLUE, width=0.7)
    if "fraction_nucleated_ci95" in df:
        lo = np.array(
            [c[0] if isinstance(c, list | tuple) else np.nan for c in df["fraction_nucleated_ci95"]]
        )
        hi = np.array(
            [c[1] if isinstance(c, list | tuple) else np.nan for c in df["fraction_nucleated_ci95"]]
        )
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(
            x[ok],
            frac[ok],
            yerr=[np.clip(frac[ok] - lo[ok], 0, None), np.clip(hi[ok] - frac[ok], 0, None)],
            fmt="none",
            ecolor=_BLACK,
            capsize=3,
            lw=1.0,
        )
    for xi, ki, ni in zip(x, k, n, strict=True):
        ax.text(xi, 1.06, f"{int(ki)}/{int(ni)}", ha="center", va="bottom", fontsize=_TICK_SIZE - 1)
    j = df["current_density_mA_cm2"].to_numpy(float)
    ax.set_xticks(
        x,
        [f"{v:.2g}" if np.isfinite(v) else str(c) for v, c in zip(j, df["condition"], strict=True)],
    )
    ax.set_xlabel(_J_LABEL + " (condition mean)")
    ax.set_ylabel("fraction reaching E$_{nuc}$")
    ax.set_ylim(0, 1.2)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    _style(ax)
    return fig


def fig_spot_map(spots: pd.DataFrame, feature: str = "E_nuc_V", *, cmap: str = "viridis") -> Figure:
    """The spot grid on the electrode, each spot coloured by a feature.

    Parameters
    ----------
    spots : pandas.DataFrame
        Per-spot table with ``x_um``, ``y_um`` (µm) and the ``feature`` column (its
        own units; V features are shown in mV). Spots where the feature is missing
        (no nucleation within the record, or a bad file) are grey crosses.
    feature : str
        Column to colour by (e.g. ``"E_nuc_V"``, ``"t_nuc_s"``, ``"current_density_mA_cm2"``).
    cmap : str
        Matplotlib colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> df = pd.DataFrame({"x_um": [0, 11, 0, 11], "y_um": [0, 0, 11, 11],
    ...                    "E_nuc_V": [-0.1, -0.12, None, -0.2]})
    >>> fig = fig_spot_map(df, "E_nuc_V")
    >>> fig.axes[0].get_aspect()
    1.0
    """
    if feature not in spots:
        raise ValueError(f"the spot table has no column {feature!r}")
    x = pd.to_numeric(spots["x_um"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(spots["y_um"], errors="coerce").to_numpy(float)
    label, scale = FEATURE_LABELS.get(feature, (feature, 1.0))
    if feature == "current_density_mA_cm2":
        label = _J_LABEL
    v = pd.to_numeric(spots[feature], errors="coerce").to_numpy(float) * scale
    ok = np.isfinite(x) & np.isfinite(y)
    has = ok & np.isfinite(v)
    span_x = float(np.ptp(x[ok])) if ok.any() else 1.0
    span_y = float(np.ptp(y[ok])) if ok.any() else 1.0
    aspect = (span_y + 1e-9) / (span_x + 1e-9) if span_x > 0 else 1.0
    width = 5.2
    height = float(np.clip(width * aspect * 0.85 + 0.9, 2.6, 7.0))
    fig = _figure(width, height)
    ax = fig.subplots()
    # marker size: about the spot spacing (in points) for small grids, ≥ 2 pt for big ones
    n = int(ok.sum())
    pitch = np.sqrt(max(span_x, 1e-9) * max(span_y, 1e-9) / max(n, 1)) if n > 1 else 1.0
    ax_w_pt = 0.75 * width * 72
    size_pt = float(np.clip(0.8 * pitch / max(span_x + pitch, 1e-9) * ax_w_pt, 1.5, 14))
    if has.any():
        clip = has.sum() > 500  # big runs: 1–99 % range so a few outliers do not wash out the map
        vmin, vmax = np.percentile(v[has], [1, 99]) if clip else (v[has].min(), v[has].max())
        if vmin == vmax:
            vmin, vmax = vmin - 1, vmax + 1
        sc = ax.scatter(
            x[has],
            y[has],
            c=v[has],
            s=size_pt**2,
            cmap=cmap,
            norm=mcolors.Normalize(vmin, vmax),
            marker="o",
            linewidths=0.3 if size_pt > 4 else 0,
            edgecolors="0.2",
            rasterized=n > 2000,
        )
        cb = fig.colorbar(sc, ax=ax, shrink=0.9, extend="both" if clip else "neither")
        cb.set_label(label, fontsize=_LABEL_SIZE)
        cb.ax.tick_params(labelsize=_TICK_SIZE)
    else:
        _no_data(ax, f"no spot has a value of {feature}")
    miss = ok & ~np.isfinite(v)
    why = "did not reach E$_{nuc}$ in the record" if feature in FEATURE_LABELS else "no value"
    if miss.any():
        ax.scatter(
            x[miss], y[miss], s=(0.7 * size_pt) ** 2, marker="x", color="0.55", linewidths=0.8
        )
        ax.set_title(
            f"× : {why} ({int(miss.sum())} of {n} spots)",
            loc="left",
            fontsize=_LEGEND_SIZE,
            color="0.35",
        )
    ax.set_aspect("equal")
    pad = 0.6 * pitch
    if ok.any():
        ax.set_xlim(x[ok].min() - pad, x[ok].max() + pad)
        ax.set_ylim(y[ok].max() + pad, y[ok].min() - pad)  # y down, like a microscope image
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    _style(ax)
    ax.tick_params(labelsize=_TICK_SIZE)
    return fig
