"""Figures of AFM height-map analyses (the ``afm`` scenario).

- :func:`fig_height_map` — a levelled height map with colour bar (nm) and scale bar
  (µm), optionally with the profile line drawn
- :func:`fig_roughness_vs_time` — Sa and Sq against time with Sq's error bars
- :func:`fig_line_profiles` — height profiles along one line at every time
- :func:`fig_growth` — the growth-rate map with features outlined, and the
  feature-vs-flat rate comparison with error bars and the test's p-value

Same conventions as :mod:`platescope.report._figures` (Agg canvas, Okabe–Ito colours,
scale bars, no pyplot state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from platescope.report._figures import (
    _BLUE,
    _LABEL_SIZE,
    _LEGEND_SIZE,
    _ORANGE,
    _VERMILION,
    _add_scalebar,
    _figure,
    _finite,
    _g,
    _map_and_extent,
    _no_data,
    _style,
)

__all__ = ["fig_growth", "fig_height_map", "fig_line_profiles", "fig_roughness_vs_time"]


def _bare(ax: Any) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _robust_limits(arr: np.ndarray, lo: float = 0.5, hi: float = 99.5) -> tuple[float, float]:
    v = arr[np.isfinite(arr)]
    if v.size == 0:
        return 0.0, 1.0
    a, b = np.percentile(v, [lo, hi])
    return (float(a), float(b)) if b > a else (float(a) - 0.5, float(a) + 0.5)


def fig_height_map(
    height: Any,
    *,
    title: str = "",
    line: Mapping[str, Any] | None = None,
    pixel_size_um: float | None = None,
) -> Figure:
    """A levelled height map: colour bar in nm, scale bar in µm.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray
        Heights in nm, dims (y, x) with µm coords (or an array with ``pixel_size_um``).
    title : str
        Panel title.
    line : mapping, optional
        ``start_um``, ``end_um`` (y, x) of a profile line to draw.
    pixel_size_um : float, optional
        Pixel size for plain arrays.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = fig_height_map(np.random.default_rng(0).normal(size=(32, 32)), pixel_size_um=0.1)
    >>> len(fig.axes)
    2
    """
    arr, extent, in_um = _map_and_extent(height, pixel_size_um, "height")
    fig = _figure(4.6, 3.9)
    ax = fig.add_subplot()
    vmin, vmax = _robust_limits(arr)
    im = ax.imshow(arr, extent=extent, cmap="afmhot", vmin=vmin, vmax=vmax, interpolation="nearest")
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label("height (nm)", fontsize=_LABEL_SIZE)
    _add_scalebar(ax, extent, unit_um=in_um)
    if line is not None and "start_um" in line:
        (y0, x0), (y1, x1) = line["start_um"], line["end_um"]
        ax.plot([x0, x1], [y0, y1], color=_BLUE, lw=1.2)
    _bare(ax)
    if title:
        ax.set_title(title, fontsize=_LABEL_SIZE)
    return fig


def fig_roughness_vs_time(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Sa and Sq (± 2 Sq_err, k = 2) against time.

    Parameters
    ----------
    rows : sequence of mapping
        ``time_s``, ``Sa_nm``, ``Sq_nm``, ``Sq_err_nm`` (1σ, may be None) per map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_roughness_vs_time([{"time_s": 0, "Sa_nm": 1, "Sq_nm": 1.2, "Sq_err_nm": .1},
    ...                              {"time_s": 3600, "Sa_nm": 2, "Sq_nm": 2.4, "Sq_err_nm": .2}])
    >>> fig.axes[0].get_xlabel()
    'time (h)'
    """
    fig = _figure(4.6, 3.2)
    ax = fig.add_subplot()
    _style(ax)
    ok = [r for r in rows if _finite(r.get("Sq_nm"))]
    if not ok:
        _no_data(ax, "no roughness values")
        return fig
    t = np.array([r["time_s"] for r in ok], float) / 3600.0
    sq = np.array([r["Sq_nm"] for r in ok], float)
    sa = np.array([r["Sa_nm"] if _finite(r.get("Sa_nm")) else np.nan for r in ok], float)
    err = np.array([r["Sq_err_nm"] if _finite(r.get("Sq_err_nm")) else 0.0 for r in ok], float)
    # 1σ in; drawn as the summary's expanded uncertainty (k = 2)
    ax.errorbar(
        t, sq, yerr=2 * err, fmt="o-", color=_VERMILION, capsize=3, label="Sq (± 2 SE, k = 2)"
    )
    ax.plot(t, sa, "s--", color=_BLUE, label="Sa")
    ax.set_xlabel("time (h)")
    ax.set_ylabel("roughness (nm)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False)
    return fig


def fig_line_profiles(profiles: Sequence[Mapping[str, Any]]) -> Figure:
    """Height profiles along one line, one curve per time.

    Parameters
    ----------
    profiles : sequence of mapping
        ``time_s`` and ``profile`` (DataFrame with ``distance_um``, ``height_nm``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"distance_um": [0, 1, 2], "height_nm": [0, 3, 1]})
    >>> fig = fig_line_profiles([{"time_s": 0, "profile": df}])
    >>> fig.axes[0].get_ylabel()
    'height (nm)'
    """
    from matplotlib import colormaps

    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot()
    _style(ax)
    if not profiles:
        _no_data(ax, "no profiles")
        return fig
    cmap = colormaps["viridis"]
    n = len(profiles)
    for i, p in enumerate(profiles):
        df = p["profile"]
        ax.plot(
            df["distance_um"], df["height_nm"], color=cmap(i / max(n - 1, 1)), lw=1.1,
            label=f"{p['time_s'] / 3600:.2g} h",
        )  # fmt: skip
    ax.set_xlabel("distance (µm)")
    ax.set_ylabel("height (nm)")
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False, ncol=2)
    return fig


def fig_growth(growth: Mapping[str, Any], *, pixel_size_um: float | None = None) -> Figure:
    """Growth-rate map with the feature outline, and feature vs flat rates (± SE).

    Parameters
    ----------
    growth : mapping
        A :func:`platescope.surface.growth_rates` result (``rate_map``,
        ``feature_mask``, ``rate_feature_nm_h``, ``rate_flat_nm_h``, their ``_err``,
        ``p_value``).
    pixel_size_um : float, optional
        Pixel size for a plain-array rate map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((20, 20), bool); m[:, 8:12] = True
    >>> g = {"rate_map": np.where(m, 2.0, 0.0), "feature_mask": m, "rate_feature_nm_h": 2.0,
    ...      "rate_feature_err_nm_h": .1, "rate_flat_nm_h": 0.0, "rate_flat_err_nm_h": .1,
    ...      "p_value": 1e-5}
    >>> len(fig_growth(g, pixel_size_um=0.1).axes)
    3
    """
    fig = _figure(8.0, 3.6)
    ax_map = fig.add_subplot(1, 2, 1)
    ax_bar = fig.add_subplot(1, 2, 2)
    _style(ax_bar)
    rate = growth.get("rate_map")
    if rate is None:
        _no_data(ax_map, "no rate map")
        _bare(ax_map)
    else:
        arr, extent, in_um = _map_and_extent(rate, pixel_size_um, "rate_map")
        lim = max(abs(v) for v in _robust_limits(arr, 1, 99))
        im = ax_map.imshow(arr, extent=extent, cmap="RdBu_r", vmin=-lim, vmax=lim)
        cb = fig.colorbar(im, ax=ax_map, shrink=0.85)
        cb.set_label("growth rate (nm/h)", fontsize=_LABEL_SIZE)
        mask = growth.get("feature_mask")
        if mask is not None:
            ax_map.contour(
                np.asarray(mask, float), levels=[0.5], colors="k", linewidths=0.6,
                extent=(extent[0], extent[1], extent[3], extent[2]),
            )  # fmt: skip
        _add_scalebar(ax_map, extent, unit_um=in_um, color="black")
        _bare(ax_map)
    vals = [growth.get("rate_feature_nm_h"), growth.get("rate_flat_nm_h")]
    errs = [growth.get("rate_feature_err_nm_h"), growth.get("rate_flat_err_nm_h")]
    if all(_finite(v) for v in vals):
        ax_bar.bar(
            [0, 1],
            vals,
            yerr=[2 * e if _finite(e) else 0 for e in errs],
            capsize=4,
            color=[_ORANGE, _BLUE],
        )  # fmt: skip  (1σ in; bars ± 2 SE, the summary's k = 2)
        ax_bar.set_xticks([0, 1], ["features", "flat"])
        ax_bar.set_ylabel("Mean rate ± 2 SE (nm h⁻¹)")
        ax_bar.set_title(f"p = {_g(growth.get('p_value'), 2)}", fontsize=_LABEL_SIZE)
    else:
        _no_data(ax_bar, str(growth.get("reason", "no growth rates")))
    return fig
