"""Figures of particle analyses across conditions (the ``sem-particles`` scenario).

- :func:`fig_particle_outlines` — one zoomed SEM panel per condition, outlines drawn
- :func:`fig_size_histograms` — diameter histograms with their fitted Gaussian(s),
  one panel per condition on a shared diameter axis
- :func:`fig_particles_vs_current` — density (total, edge, centre) and mean diameter
  against current density, with 95 % error bars

Same conventions as :mod:`platescope.report._figures` (Agg canvas, Okabe–Ito colours,
scale bars, no pyplot state).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from platescope.report._figures import (
    _BLUE,
    _GREEN,
    _LABEL_SIZE,
    _LEGEND_SIZE,
    _ORANGE,
    _PURPLE,
    _SKY,
    _VERMILION,
    _add_scalebar,
    _bin_edges,
    _figure,
    _finite,
    _g,
    _gauss_pdf,
    _map_and_extent,
    _no_data,
    _style,
)

__all__ = [
    "fig_particle_outlines",
    "fig_particles_vs_current",
    "fig_sem_morphology",
    "fig_size_histograms",
]


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(n, max_cols)
    return int(math.ceil(n / cols)), cols


def fig_particle_outlines(
    panels: Sequence[Mapping[str, Any]], *, zoom_um: float | None = None
) -> Figure:
    """SEM zooms with particle outlines, one panel per condition.

    Parameters
    ----------
    panels : sequence of mapping
        Each with ``image`` (DataArray (y, x) in µm, or array with ``pixel_size_um``),
        ``labels`` (int label image, same shape), ``title`` (str) and optionally
        ``centre_um`` (y, x) of the zoom (default: image centre) and ``n`` (count shown).
    zoom_um : float, optional
        Side of the zoomed square, µm (default: a quarter of the smaller image side).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((80, 80))
    >>> lab = np.zeros((80, 80), int); lab[30:36, 30:36] = 1
    >>> fig = fig_particle_outlines([{"image": img, "labels": lab, "title": "a",
    ...                               "pixel_size_um": 0.01}])
    >>> len(fig.axes)
    1
    """
    from skimage.segmentation import find_boundaries

    n = len(panels)
    if n == 0:
        raise ValueError("no panels to draw")
    rows, cols = _grid(n)
    fig = _figure(3.6 * cols, 3.7 * rows)
    for i, pan in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        arr, extent, in_um = _map_and_extent(pan["image"], pan.get("pixel_size_um"), "image")
        lab = np.asarray(getattr(pan["labels"], "values", pan["labels"]))
        if lab.shape != arr.shape:
            raise ValueError(f"labels shape {lab.shape} differs from image shape {arr.shape}")
        left, right = extent[0], extent[1]
        top, bottom = extent[3], extent[2]
        span = min(right - left, abs(bottom - top))
        half = 0.5 * (zoom_um if zoom_um else span / 4.0)
        cy, cx = pan.get("centre_um") or (0.5 * (top + bottom), 0.5 * (left + right))
        cx = min(max(cx, left + half), right - half)
        cy = min(max(cy, min(top, bottom) + half), max(top, bottom) - half)
        px = (right - left) / arr.shape[1]
        # crop to the zoom window (draw only what is shown)
        c0 = max(int((cx - half - left) / px) - 2, 0)
        c1 = min(int((cx + half - left) / px) + 2, arr.shape[1])
        r0 = max(int((cy - half - top) / px) - 2, 0)
        r1 = min(int((cy + half - top) / px) + 2, arr.shape[0])
        sub = arr[r0:r1, c0:c1]
        sub_ext = (left + c0 * px, left + c1 * px, top + r1 * px, top + r0 * px)
        finite = sub[np.isfinite(sub)]
        vmin, vmax = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
        ax.imshow(sub, cmap="gray", vmin=vmin, vmax=max(vmax, vmin + 1e-9), extent=sub_ext)
        edges = find_boundaries(lab[r0:r1, c0:c1], mode="inner")
        over = np.zeros((*edges.shape, 4), dtype=np.uint8)
        over[edges] = (0, 229, 255, 255)
        ax.imshow(over, extent=sub_ext, interpolation="nearest")
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        ax.set_xticks([])
        ax.set_yticks([])
        _add_scalebar(ax, (cx - half, cx + half, cy + half, cy - half), unit_um=in_um)
        title = str(pan.get("title", ""))
        if pan.get("n") is not None:
            title += f" (n = {int(pan['n'])} in footprint)"
        ax.set_title(title, fontsize=_LABEL_SIZE)
    return fig


def fig_size_histograms(
    groups: Sequence[Mapping[str, Any]], *, quantity: str = "Diameter (nm)"
) -> Figure:
    """Histograms of particle diameters with their fits, one panel per condition.

    Parameters
    ----------
    groups : sequence of mapping
        Each with ``values`` (diameters, nm), ``title`` and optionally ``fit``
        (``{"components": [{"weight", "mean_nm", "sd_nm"}, ...]}`` as from
        :func:`platescope.stats.fit_diameter_distribution`).
    quantity : str
        x-axis label.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = [{"values": rng.normal(60, 10, 200), "title": "a"},
    ...      {"values": rng.normal(45, 8, 300), "title": "b"}]
    >>> len(fig_size_histograms(g).axes)
    2
    """
    n = len(groups)
    if n == 0:
        raise ValueError("no groups to draw")
    rows, cols = _grid(n)
    fig = _figure(3.8 * cols, 3.0 * rows)
    allv = [np.asarray(g["values"], float) for g in groups]
    pooled = np.concatenate([v[np.isfinite(v)] for v in allv]) if allv else np.zeros(0)
    edges = _bin_edges(pooled, max_bins=30) if pooled.size else None
    colours = (_ORANGE, _GREEN, _PURPLE)
    for i, (g, v) in enumerate(zip(groups, allv, strict=True)):
        ax = fig.add_subplot(rows, cols, i + 1)
        v = v[np.isfinite(v)]
        if v.size == 0 or edges is None:
            _no_data(ax, "no particles")
        else:
            sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
            ax.hist(
                v,
                bins=edges,
                color=_SKY,
                edgecolor="white",
                lw=0.5,
                label=f"n = {v.size}: {_g(v.mean())} ± {_g(sd, 2)} nm",
            )
            comps = [
                c
                for c in ((g.get("fit") or {}).get("components") or [])
                if _finite(c.get("mean_nm")) and _finite(c.get("sd_nm")) and c["sd_nm"] > 0
            ]
            if comps:
                width = float(np.diff(edges).mean())
                xs = np.linspace(max(edges[0], 0.0), edges[-1], 300)
                wsum = sum(float(c.get("weight", 1.0)) for c in comps) or 1.0
                total = np.zeros_like(xs)
                for k, c in enumerate(comps):
                    w = float(c.get("weight", 1.0)) / wsum
                    y = v.size * width * w * _gauss_pdf(xs, float(c["mean_nm"]), float(c["sd_nm"]))
                    total += y
                    if len(comps) > 1:
                        ax.plot(
                            xs,
                            y,
                            color=colours[k % 3],
                            lw=1.0,
                            ls="--",
                            label=f"{_g(c['mean_nm'])} ± {_g(c['sd_nm'], 2)} nm ({w:.0%})",
                        )
                ax.plot(
                    xs,
                    total,
                    color=_BLUE,
                    lw=1.6,
                    label="Gaussian fit" if len(comps) == 1 else "2-Gaussian fit",
                )
            ax.legend(fontsize=_LEGEND_SIZE - 1, frameon=False, loc="upper right")
        ax.set_title(str(g.get("title", "")), fontsize=_LABEL_SIZE)
        ax.set_xlabel(quantity)
        ax.set_ylabel("Particles")
        _style(ax)
    return fig


def _val(row: Mapping[str, Any], *path: str) -> float:
    cur: Any = row
    for p in path:
        cur = (cur or {}).get(p) if isinstance(cur, Mapping) else None
    return float(cur) if _finite(cur) else float("nan")


def fig_particles_vs_current(
    rows: Sequence[Mapping[str, Any]], *, truth: Sequence[Mapping[str, Any]] | None = None
) -> Figure:
    """Particle density (total, edge, centre) and mean diameter against current density.

    Parameters
    ----------
    rows : sequence of mapping
        Per condition: ``current_density_mA_cm2``, ``density_cm2`` (+ ``_err``),
        ``mean_diameter_nm`` (+ ``_err``), ``sd_diameter_nm`` and ``edge``/``center``
        dicts with ``density_cm2`` (as in ``summary["particles_by_condition"]``; the
        ``*_err`` are drawn as given, i.e. the summary's 95 % uncertainties).
    truth : sequence of mapping, optional
        The same keys from a simulation's truth, drawn as open markers.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [{"current_density_mA_cm2": j, "density_cm2": d, "mean_diameter_nm": m}
    ...         for j, d, m in [(0.2, 1.1e9, 66), (0.78, 1.6e9, 60), (3.82, 2.7e9, 48)]]
    >>> [a.get_xscale() for a in fig_particles_vs_current(rows).axes]
    ['log', 'log']
    """
    fig = _figure(9.0, 3.6)
    ax_d = fig.add_subplot(1, 2, 1)
    ax_s = fig.add_subplot(1, 2, 2)
    rows = sorted(rows, key=lambda r: _val(r, "current_density_mA_cm2"))
    j = np.array([_val(r, "current_density_mA_cm2") for r in rows])
    ok = np.isfinite(j) & (j > 0)
    if not ok.any():
        for a in (ax_d, ax_s):
            _no_data(a, "no current densities")
        return fig
    series = [
        (("density_cm2",), ("density_cm2_err",), _BLUE, "o", "footprint"),
        (("edge", "density_cm2"), ("edge", "density_cm2_err"), _VERMILION, "s", "edge ring"),
        (("center", "density_cm2"), ("center", "density_cm2_err"), _GREEN, "^", "centre"),
    ]
    for key, ekey, col, mk, lab in series:
        y = np.array([_val(r, *key) for r in rows]) / 1e9
        e = np.array([_val(r, *ekey) for r in rows]) / 1e9
        ax_d.errorbar(
            j[ok],
            y[ok],
            yerr=np.where(np.isfinite(e), e, 0)[ok],
            color=col,
            marker=mk,
            ms=5,
            lw=1.2,
            capsize=3,
            label=lab,
        )
    y = np.array([_val(r, "mean_diameter_nm") for r in rows])
    e = np.array([_val(r, "mean_diameter_nm_err") for r in rows])
    sd = np.array([_val(r, "sd_diameter_nm") for r in rows])
    ax_s.errorbar(
        j[ok],
        y[ok],
        yerr=np.where(np.isfinite(e), e, 0)[ok],
        color=_BLUE,
        marker="o",
        ms=5,
        lw=1.2,
        capsize=3,
        label="mean (95 % CI)",
    )
    ax_s.fill_between(
        j[ok],
        (y - sd)[ok],
        (y + sd)[ok],
        color=_SKY,
        alpha=0.3,
        lw=0,
        label="± 1 sd of the particles",
    )
    if truth:
        tr = sorted(truth, key=lambda r: _val(r, "current_density_mA_cm2"))
        tj = np.array([_val(r, "current_density_mA_cm2") for r in tr])
        ax_d.plot(
            tj,
            np.array([_val(r, "density_cm2") for r in tr]) / 1e9,
            ls="none",
            marker="o",
            mfc="none",
            mec="black",
            ms=9,
            label="planted",
        )
        ax_s.plot(
            tj,
            [_val(r, "mean_diameter_nm") for r in tr],
            ls="none",
            marker="o",
            mfc="none",
            mec="black",
            ms=9,
            label="planted",
        )
    from matplotlib.ticker import NullFormatter

    ticks = np.unique(j[ok])
    for a in (ax_d, ax_s):
        a.set_xscale("log")
        a.set_xticks(ticks)
        a.set_xticklabels([f"{v:g}" for v in ticks])
        a.xaxis.set_minor_formatter(NullFormatter())
        a.set_xlabel("Current density (mA cm⁻²)")
        a.legend(fontsize=_LEGEND_SIZE, frameon=False)
        _style(a)
    ax_d.set_ylabel("Particle density (10⁹ cm⁻²)")
    ax_s.set_ylabel("Diameter (nm)")
    ax_d.set_ylim(bottom=0)
    ax_s.set_ylim(bottom=0)
    return fig


def fig_sem_morphology(
    image: Any,
    *,
    deposit: Any,
    morphology: Mapping[str, Any] | None = None,
    pixel_size_um: float | None = None,
) -> Figure:
    """SEM image beside the same image with the segmented deposit tinted, and the verdict.

    Parameters
    ----------
    image : xarray.DataArray or array_like
        SEM image, dims ``("y", "x")`` in µm (or an array with ``pixel_size_um``).
    deposit : array_like of bool
        Deposit mask, same shape (``particles.morphology(...)["mask"]``).
    morphology : mapping, optional
        The ``morphology`` result: its ``kind``, ``coverage`` and index of dispersion
        are written in the title.
    pixel_size_um : float, optional
        Pixel size, µm, for plain arrays.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((64, 64))
    >>> fig = fig_sem_morphology(img, deposit=img > 0.8, pixel_size_um=0.01,
    ...                          morphology={"kind": "particles", "coverage": 0.2})
    >>> len(fig.axes)
    2
    """
    arr, extent, in_um = _map_and_extent(image, pixel_size_um, "image")
    mask = np.asarray(getattr(deposit, "values", deposit), bool)
    if mask.shape != arr.shape:
        raise ValueError(f"deposit shape {mask.shape} differs from image shape {arr.shape}")
    fig = _figure(10.0, 4.3)
    finite = arr[np.isfinite(arr)]
    vmin, vmax = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    grey = np.clip((arr - vmin) / (vmax - vmin), 0, 1)
    tint = np.stack([grey, grey, grey], axis=-1)
    tint[mask] = 0.45 * tint[mask] + 0.55 * np.array([0.90, 0.62, 0.0])  # Okabe–Ito orange
    for k, (data, title) in enumerate(((grey, "SEM image"), (tint, "deposit (orange)"))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.imshow(data, cmap="gray", vmin=0, vmax=1, extent=extent, origin="upper")
        ax.set_title(title, fontsize=_LABEL_SIZE)
        ax.set_xticks([])
        ax.set_yticks([])
        if in_um:
            _add_scalebar(ax, extent)
    if morphology:
        idx = (morphology.get("index_of_dispersion") or {}).get("value")
        fig.suptitle(
            f"{morphology.get('kind')}: coverage {100 * float(morphology.get('coverage', 0)):.1f} %"
            + (f", index of dispersion {idx:.0f}" if idx is not None else ""),
            fontsize=_LABEL_SIZE,
        )
    return fig
