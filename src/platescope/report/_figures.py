"""Publication-like figures of platescope results.

Every function takes data and returns a :class:`matplotlib.figure.Figure` drawn on the
non-interactive Agg canvas; nothing touches pyplot's global state, so the functions are
safe in threads and never open a window. Saving is the caller's job
(:func:`platescope.report.atomic_savefig`: PNG at 300 dpi plus an SVG twin). Figure functions read the values
they draw, so dask-backed input is computed (only the 2-D map or image passed in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.transforms import blended_transform_factory

from platescope.report._style import LABEL_PT, LEGEND_PT, TICK_PT

__all__ = [
    "fig_alpha",
    "fig_irm_frames",
    "fig_diameter_histogram",
    "fig_potential_irm",
    "fig_sem_particles",
    "fig_sync",
    "fig_tnuc_map",
]

# Colours (colour-blind friendly, Okabe–Ito).
_BLACK = "#000000"
_ORANGE = "#E69F00"
_SKY = "#56B4E9"
_GREEN = "#009E73"
_BLUE = "#0072B2"
_VERMILION = "#D55E00"
_PURPLE = "#CC79A7"
_YELLOW = "#F0E442"
_OUTLINE = "#00E5FF"  # particle outlines on grey SEM images
_FOOTPRINT = "#FFD400"

# text sizes at the saved size (the house style, platescope.report._style)
_LABEL_SIZE = LABEL_PT
_TICK_SIZE = TICK_PT
_LEGEND_SIZE = LEGEND_PT
_E_LABEL = "E (V vs Li/Li⁺)"
_T_LABEL = "Time (s)"
_NAN_GREY = (0.86, 0.86, 0.86, 1.0)  # maps: NaN (outside the footprint) pixels


# --------------------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Any, *, twin: bool = False) -> None:
    ax.tick_params(labelsize=_TICK_SIZE)
    ax.xaxis.label.set_size(_LABEL_SIZE)
    ax.yaxis.label.set_size(_LABEL_SIZE)
    if not twin:
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)


def _bare_axes(ax: Any) -> None:
    """No ticks and no frame (maps and images)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def _show_map(
    ax: Any, arr: np.ndarray, extent: Any, *, cmap: Any, title: str | None = None, **kw: Any
) -> Any:
    """``imshow`` of a 2-D map on bare axes, NaN drawn in the colour map's "bad" colour.

    ``kw`` goes to ``imshow`` (``vmin``/``vmax`` or ``norm``); returns the image.
    """
    im = ax.imshow(
        np.ma.masked_invalid(arr),
        cmap=cmap,
        extent=extent,
        origin="upper",
        interpolation="nearest",
        **kw,
    )
    if title is not None:
        ax.set_title(title, fontsize=_LABEL_SIZE)
    _bare_axes(ax)
    return im


def _map_hist_axes(fig: Figure) -> tuple[Any, Any]:
    """Side-by-side axes of a map (left) and the histogram of its values (right)."""
    gs = fig.add_gridspec(1, 2, width_ratios=[1.05, 1.0])
    return fig.add_subplot(gs[0]), fig.add_subplot(gs[1])


def _robust_limits(vals: np.ndarray) -> tuple[float, float]:
    """Colour limits of a map: 1st–99th percentile of its finite ``vals`` (never empty)."""
    if not vals.size:
        return 0.0, 1.0
    vmin, vmax = np.percentile(vals, [1, 99])
    if vmax <= vmin:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    return vmin, vmax


def _colorbar(fig: Figure, im: Any, ax: Any, label: str, **kw: Any) -> Any:
    """A colour bar for ``im`` beside ``ax`` (one axes or a list) in the house text sizes."""
    cb = fig.colorbar(im, ax=ax, **kw)
    cb.set_label(label, fontsize=_LABEL_SIZE)
    cb.ax.tick_params(labelsize=_TICK_SIZE)
    return cb


def _g(x: float, sig: int = 3) -> str:
    """Compact number text with ``sig`` significant figures."""
    if x is None or not np.isfinite(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= 5 or mag <= -4:
        mant = x / 10**mag
        return f"{mant:.{sig - 1}f}×10{_superscript(mag)}"
    decimals = max(0, sig - 1 - mag)
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(n: int) -> str:
    return str(int(n)).translate(_SUP)


def _finite(x: Any) -> bool:
    try:
        return x is not None and bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def _as_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(getattr(values, "values", values), dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _map_and_extent(
    data: Any, pixel_size_um: float | None, name: str
) -> tuple[np.ndarray, tuple[float, float, float, float], bool]:
    """A 2-D array, its imshow extent (left, right, bottom, top) in µm, and whether in µm."""
    if hasattr(data, "dims") and {"y", "x"} <= set(data.dims):
        da = data.transpose("y", "x") if data.ndim == 2 else data
        arr = np.asarray(da.values, dtype=float)
        x = np.asarray(da.coords["x"].values, dtype=float) if "x" in da.coords else None
        y = np.asarray(da.coords["y"].values, dtype=float) if "y" in da.coords else None
    else:
        arr = np.asarray(getattr(data, "values", data), dtype=float)
        x = y = None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (y, x), got shape {arr.shape}")
    ny, nx = arr.shape
    in_um = True
    if x is None or y is None or x.size < 2 or y.size < 2:
        step = 1.0 if pixel_size_um is None else float(pixel_size_um)
        in_um = pixel_size_um is not None or (x is not None and x.size >= 2)
        x = np.arange(nx) * step
        y = np.arange(ny) * step
    dx = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    dy = float(np.median(np.diff(y))) if y.size > 1 else 1.0
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[-1] + dy / 2, y[0] - dy / 2)
    return arr, extent, in_um


def _nice_length(span: float) -> float:
    """A round length (1, 2 or 5 × 10^k) close to a fifth of ``span``."""
    target = span / 5.0
    if not (target > 0 and np.isfinite(target)):
        return 1.0
    base = 10 ** math.floor(math.log10(target))
    best = base
    for m in (1, 2, 5, 10):
        if m * base <= target * 1.25:
            best = m * base
    return float(best)


def _length_label(length_um: float) -> str:
    if length_um >= 1:
        return f"{length_um:g} µm"
    return f"{length_um * 1000:g} nm"


def _add_scalebar(
    ax: Any,
    extent: tuple[float, float, float, float],
    *,
    unit_um: bool = True,
    length: float | None = None,
    color: str = "white",
) -> float:
    """Draw a scale bar (rectangle + text) at the lower right of an image axes.

    ``extent`` is the image extent in data units; returns the bar length.
    """
    left, right = sorted(extent[:2])
    width = right - left
    length = _nice_length(width) if length is None else float(length)
    blend = blended_transform_factory(ax.transData, ax.transAxes)
    x_end = right - 0.04 * width
    bar_y, bar_h = 0.045, 0.018
    bar = Rectangle(
        (x_end - length, bar_y),
        length,
        bar_h,
        transform=blend,
        facecolor=color,
        edgecolor="black",
        linewidth=0.6,
        zorder=10,
        gid="scalebar",
    )
    ax.add_patch(bar)
    label = _length_label(length) if unit_um else f"{length:g} px"
    ax.text(
        x_end - length / 2,
        bar_y + bar_h + 0.012,
        label,
        transform=blend,
        ha="center",
        va="bottom",
        color=color,
        fontsize=_TICK_SIZE,
        fontweight="bold",
        zorder=11,
        gid="scalebar-label",
        path_effects=[patheffects.withStroke(linewidth=1.6, foreground="black")],
    )
    return length


def _gauss_pdf(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _bin_edges(values: np.ndarray, max_bins: int = 40) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        half = 0.5 if lo == 0 else abs(lo) * 0.05
        return np.linspace(lo - half, hi + half, 11)
    edges = np.histogram_bin_edges(values, bins="auto")
    if edges.size - 1 > max_bins:
        edges = np.linspace(lo, hi, max_bins + 1)
    if edges.size - 1 < 8:
        edges = np.linspace(lo, hi, 9)
    return edges


def _no_data(ax: Any, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=_LABEL_SIZE,
        color="0.35",
    )


# --------------------------------------------------------------------------- figures
def fig_potential_irm(
    echem: Any,
    *,
    irm_t_s: Any,
    irm_mean: Any,
    irm_rate: Any,
    E_nuc_V: float | None = None,
    t_nuc_s: float | None = None,
    t_nuc_err_s: float | None = None,
    t_nuc_irm_s: float | None = None,
    E_growth_V: float | None = None,
) -> Figure:
    """Potential transient above the footprint-mean IRM signal and its rate.

    Parameters
    ----------
    echem : pandas.DataFrame
        Columns ``time_s`` (s) and ``potential_V`` (V vs Li/Li⁺), on the common clock.
    irm_t_s : array_like or None
        IRM sample times on the same clock, s.
    irm_mean : array_like or None
        Footprint-mean IRM signal, counts.
    irm_rate : array_like or None
        Its time derivative dI/dt, counts s⁻¹.
    E_nuc_V, t_nuc_s, t_nuc_err_s : float, optional
        Nucleation potential (V), time (s) and the time's standard (1σ) uncertainty
        (s; drawn as the k = 2 band the summary states). When
        ``E_nuc_V`` is None the top panel says "no nucleation detected".
    t_nuc_irm_s : float, optional
        Optical nucleation time t_nuc(IRM), s.
    E_growth_V : float, optional
        Growth plateau potential, V, drawn dashed.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the time axis.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.linspace(0, 10, 101)
    >>> ec = pd.DataFrame({"time_s": t, "potential_V": -0.05 * np.exp(-t), "current_A": -1e-9})
    >>> fig = fig_potential_irm(ec, irm_t_s=t, irm_mean=t, irm_rate=np.ones_like(t))
    >>> len(fig.axes)
    3
    """
    t = _as_1d(echem["time_s"], "echem time_s")
    e = _as_1d(echem["potential_V"], "echem potential_V")
    fig = _figure(7.0, 5.6)
    ax_e, ax_i = fig.subplots(2, 1, sharex=True, height_ratios=[1.15, 1.0])

    # --- top: potential
    ax_e.plot(t, e, color=_BLACK, lw=1.2, label="potential")
    nucleated = _finite(E_nuc_V)
    if nucleated and _finite(t_nuc_s):
        if _finite(t_nuc_err_s) and float(t_nuc_err_s) > 0:
            u = 2.0 * float(t_nuc_err_s)  # 1σ in; shown as the summary's k = 2
            ax_e.axvspan(
                t_nuc_s - u,
                t_nuc_s + u,
                color=_VERMILION,
                alpha=0.15,
                lw=0,
                label=f"t_nuc ± {_g(u, 2)} s (k = 2)",
            )
        ax_e.axvline(t_nuc_s, color=_VERMILION, lw=1.0, ls=":")
        ax_e.plot(
            [t_nuc_s],
            [E_nuc_V],
            "o",
            color=_VERMILION,
            ms=6,
            zorder=5,
            label=f"E_nuc = {_g(E_nuc_V)} V at t_nuc = {_g(t_nuc_s)} s",
        )
    elif not nucleated:
        ax_e.text(
            0.5,
            0.92,
            "no nucleation detected",
            transform=ax_e.transAxes,
            ha="center",
            va="top",
            fontsize=_LABEL_SIZE,
            color=_VERMILION,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": _VERMILION, "lw": 0.8},
        )
    if _finite(E_growth_V):
        ax_e.axhline(
            E_growth_V, color=_BLUE, lw=1.0, ls="--", label=f"E_growth = {_g(E_growth_V)} V"
        )
    ax_e.set_ylabel(_E_LABEL)
    if len(ax_e.get_legend_handles_labels()[0]) > 1:
        # above the panel, so it never hides the transient
        ax_e.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01, 1.0, 0.1),
            mode="expand",
            ncol=2,
            borderaxespad=0.0,
            fontsize=_LEGEND_SIZE,
            frameon=False,
        )
    _style(ax_e)
    ax_e.tick_params(labelbottom=False)

    # --- bottom: IRM mean and rate
    have_irm = irm_t_s is not None and irm_mean is not None
    ax_r = ax_i.twinx()
    if have_irm:
        ti = _as_1d(irm_t_s, "irm_t_s")
        ax_i.plot(ti, _as_1d(irm_mean, "irm_mean"), color=_BLUE, lw=1.3, label="IRM mean")
        if irm_rate is not None:
            ax_r.plot(ti, _as_1d(irm_rate, "irm_rate"), color=_ORANGE, lw=1.0, label="dI/dt")
    else:
        _no_data(ax_i, "no IRM movie")
    if _finite(t_nuc_irm_s):
        ax_i.axvline(t_nuc_irm_s, color=_GREEN, lw=1.3, label=f"t_nuc(IRM) = {_g(t_nuc_irm_s)} s")
    if _finite(t_nuc_s):
        ax_i.axvline(
            t_nuc_s, color=_VERMILION, lw=1.3, ls="--", label=f"t_nuc(echem) = {_g(t_nuc_s)} s"
        )
    ax_i.set_xlabel(_T_LABEL)
    ax_i.set_ylabel("IRM signal (counts)", color=_BLUE)
    ax_r.set_ylabel("dI/dt (counts s⁻¹)", color=_ORANGE)
    ax_i.tick_params(axis="y", colors=_BLUE)
    ax_r.tick_params(axis="y", colors=_ORANGE)
    _style(ax_i)
    _style(ax_r, twin=True)
    ax_i.spines["right"].set_visible(False)
    ax_r.spines["top"].set_visible(False)
    h1, l1 = ax_i.get_legend_handles_labels()
    h2, l2 = ax_r.get_legend_handles_labels()
    if h1 or h2:
        ax_i.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=_LEGEND_SIZE, frameon=False)
    return fig


def fig_tnuc_map(
    tnuc_map: Any, *, t_nuc_s: float | None = None, pixel_size_um: float | None = None
) -> Figure:
    """Map of optical nucleation times with its histogram.

    Parameters
    ----------
    tnuc_map : xarray.DataArray or array_like
        t_nuc(IRM) per pixel, s, dims ``("y", "x")`` with coordinates in µm; NaN
        outside the footprint (drawn light grey).
    t_nuc_s : float, optional
        The electrochemical nucleation time, s, drawn on the histogram.
    pixel_size_um : float, optional
        Pixel size, µm, for plain arrays without coordinates.

    Returns
    -------
    matplotlib.figure.Figure
        Left the map with a colour bar and a scale bar; right the histogram of the
        map's values with a Gaussian of the same mean and sd.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.random.default_rng(0).normal(10, 1, (20, 20))
    >>> fig = fig_tnuc_map(m, t_nuc_s=12.0, pixel_size_um=0.04)
    >>> fig.axes[0].get_title()
    't_nuc(IRM) map'
    """
    arr, extent, in_um = _map_and_extent(tnuc_map, pixel_size_um, "tnuc_map")
    fig = _figure(9.6, 4.0)
    ax_m, ax_h = _map_hist_axes(fig)
    vals = arr[np.isfinite(arr)]

    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad=_NAN_GREY)
    vmin, vmax = _robust_limits(vals)
    im = _show_map(ax_m, arr, extent, cmap=cmap, title="t_nuc(IRM) map", vmin=vmin, vmax=vmax)
    _add_scalebar(ax_m, extent, unit_um=in_um)
    extend = "neither"
    if vals.size:
        lo, hi = vals.min() < vmin, vals.max() > vmax
        extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
            (bool(lo), bool(hi)), "neither"
        )
    _colorbar(fig, im, ax_m, "t_nuc(IRM) (s)", shrink=0.9, extend=extend)

    if vals.size:
        edges = _bin_edges(vals)
        ax_h.hist(vals, bins=edges, color=_SKY, edgecolor="white", lw=0.5, label="pixels")
        mean = float(vals.mean())
        sd = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
        if sd > 0:
            xs = np.linspace(min(edges[0], mean - 4 * sd), max(edges[-1], mean + 4 * sd), 300)
            width = float(np.diff(edges).mean())
            ax_h.plot(
                xs,
                vals.size * width * _gauss_pdf(xs, mean, sd),
                color=_BLUE,
                lw=1.6,
                label="Gaussian",
            )
        ax_h.text(
            0.03,
            0.97,
            f"mean = {_g(mean)} s\nsd = {_g(sd, 2)} s\nn = {vals.size} px",
            transform=ax_h.transAxes,
            ha="left",
            va="top",
            fontsize=_LEGEND_SIZE,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.7", "lw": 0.6},
        )
    else:
        _no_data(ax_h, "no finite values in the map")
    if _finite(t_nuc_s):
        ax_h.axvline(
            t_nuc_s, color=_VERMILION, lw=1.5, ls="--", label=f"t_nuc(echem) = {_g(t_nuc_s)} s"
        )
    ax_h.set_xlabel("t_nuc(IRM) (s)")
    ax_h.set_ylabel("Pixels")
    if vals.size:
        ax_h.set_ylim(0, ax_h.get_ylim()[1] * 1.3)  # head room for the legend and stats
    if ax_h.get_legend_handles_labels()[0]:
        ax_h.legend(loc="upper right", fontsize=_LEGEND_SIZE, frameon=False)
    _style(ax_h)
    return fig


def _footprint_value(fp: Mapping[str, Any], *names: str) -> float | None:
    for n in names:
        v = fp.get(n)
        if _finite(v):
            return float(v)
    return None


def _label_outline_path(labels: np.ndarray, extent: tuple[float, ...]) -> Path:
    """The pixel edges between each labelled object and anything else, as one path.

    Straight runs of edges along a row or column become one segment. ``extent`` is
    imshow's ``(left, right, bottom, top)`` with ``origin="upper"`` (row 0 at ``top``).

    Examples
    --------
    >>> lab = np.zeros((4, 5), int); lab[1:3, 1:4] = 1
    >>> path = _label_outline_path(lab, (0, 5, 4, 0))
    >>> len(path.vertices) // 2  # 2 horizontal + 2 vertical runs
    4
    """
    lab = np.asarray(labels)
    ny, nx = lab.shape
    left, right, bottom, top = (float(v) for v in extent)
    dx, dy = (right - left) / nx, (bottom - top) / ny
    pad = np.pad(lab, 1)
    segs = []
    # horizontal edges: between rows i − 1 and i (i = 0…ny), runs along the columns
    horiz = pad[:-1, 1:-1] != pad[1:, 1:-1]
    # vertical edges: between columns j − 1 and j, runs along the rows (transposed)
    vert = (pad[1:-1, :-1] != pad[1:-1, 1:]).T
    for edges, along, across, d_along, d_across in (
        (horiz, left, top, dx, dy),
        (vert, top, left, dy, dx),
    ):
        e = np.pad(edges, ((0, 0), (1, 1)))
        line, start = np.nonzero(e[:, 1:-1] & ~e[:, :-2])
        _, stop = np.nonzero(e[:, 1:-1] & ~e[:, 2:])
        a0, a1 = along + start * d_along, along + (stop + 1) * d_along
        c = across + line * d_across
        pts = np.stack([np.column_stack([a0, c]), np.column_stack([a1, c])], axis=1)
        segs.append(pts if edges is horiz else pts[..., ::-1])
    verts = np.concatenate(segs).reshape(-1, 2)
    codes = np.tile([Path.MOVETO, Path.LINETO], len(verts) // 2).astype(Path.code_type)
    return Path(verts, codes)


def fig_sem_particles(
    image: Any,
    *,
    labels: Any = None,
    table: Any = None,
    footprint: Mapping[str, Any] | None = None,
    pixel_size_um: float | None = None,
) -> Figure:
    """SEM image with detected particle outlines, footprint and a zoomed panel.

    Parameters
    ----------
    image : xarray.DataArray or array_like
        The SEM image, dims ``("y", "x")`` with coordinates in µm (or a plain array
        with ``pixel_size_um``).
    labels : array_like of int, optional
        Label image of the particles (0 = background), same shape as ``image``;
        drawn as outlines.
    table : pandas.DataFrame, optional
        Particle table; used (as circles at ``x_um``, ``y_um`` with ``diameter_nm``)
        when ``labels`` is not given, and for the count.
    footprint : mapping, optional
        ``centre_x_um``, ``centre_y_um``, ``radius_um`` of the footprint circle
        and, optionally, the inner radius of the edge ring as
        ``edge_inner_radius_um`` (or ``edge_width_um``, µm, measured inwards).
    pixel_size_um : float, optional
        Pixel size, µm, for plain arrays.

    Returns
    -------
    matplotlib.figure.Figure
        The full image (left) and a zoom on the footprint centre (right).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((64, 64))
    >>> lab = np.zeros((64, 64), int); lab[10:14, 10:14] = 1
    >>> fig = fig_sem_particles(img, labels=lab, pixel_size_um=0.01)
    >>> len(fig.axes)
    2
    """
    arr, extent, in_um = _map_and_extent(image, pixel_size_um, "image")
    ny, nx = arr.shape
    left, right = extent[0], extent[1]
    top, bottom = extent[3], extent[2]
    px = (right - left) / nx
    fig = _figure(10.0, 4.3)
    gs = fig.add_gridspec(1, 2, width_ratios=[1.55, 1.0])
    ax = fig.add_subplot(gs[0])
    ax_z = fig.add_subplot(gs[1])

    finite = arr[np.isfinite(arr)]
    vmin, vmax = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    show = {"cmap": "gray", "vmin": vmin, "vmax": vmax, "extent": extent, "origin": "upper"}
    handles: list[Any] = []
    n_particles: int | None = None

    outline = None
    if labels is not None:
        lab = np.asarray(getattr(labels, "values", labels))
        if lab.shape != arr.shape:
            raise ValueError(f"labels shape {lab.shape} differs from image shape {arr.shape}")
        n_particles = int(np.unique(lab[lab > 0]).size)
        outline = _label_outline_path(lab, extent)
        handles.append(Line2D([], [], color=_OUTLINE, lw=1.5, label="particle outlines"))

    circles: list[tuple[float, float, float]] = []
    if labels is None and table is not None and len(table):
        xcol = next((c for c in ("x_um", "centroid_x_um") if c in table.columns), None)
        ycol = next((c for c in ("y_um", "centroid_y_um") if c in table.columns), None)
        if xcol and ycol:
            d_um = (
                np.asarray(table["diameter_nm"], dtype=float) / 1000.0
                if "diameter_nm" in table.columns
                else np.full(len(table), 3 * px)
            )
            circles = list(
                zip(
                    np.asarray(table[xcol], float),
                    np.asarray(table[ycol], float),
                    d_um / 2,
                    strict=True,
                )
            )
            handles.append(Line2D([], [], color=_OUTLINE, lw=1.5, label="particles"))
    if n_particles is None and table is not None:
        n_particles = len(table)
    if handles and n_particles is not None:
        handles[-1].set_label(f"{handles[-1].get_label()} (n = {n_particles})")

    # zoom window: a square around the footprint centre (or the image centre)
    fp = dict(footprint or {})
    cx = _footprint_value(fp, "centre_x_um", "center_x_um")
    cy = _footprint_value(fp, "centre_y_um", "center_y_um")
    r = _footprint_value(fp, "radius_um")
    inner = _footprint_value(fp, "edge_inner_radius_um", "inner_radius_um")
    if inner is None and r is not None:
        w = _footprint_value(fp, "edge_width_um", "edge_ring_width_um")
        inner = r - w if w is not None and w < r else None
    zx = cx if cx is not None else (left + right) / 2
    zy = cy if cy is not None else (top + bottom) / 2
    half = max(min(right - left, abs(bottom - top)) / 8, 4 * px)
    zx = min(max(zx, left + half), right - half)
    zy = min(max(zy, min(top, bottom) + half), max(top, bottom) - half)

    for a, lw in ((ax, 0.5), (ax_z, 0.8)):
        a.imshow(arr, interpolation="antialiased", **show)
        if outline is not None:  # one vector path: no full-size raster layer to resample
            a.add_patch(PathPatch(outline, fill=False, ec=_OUTLINE, lw=lw, gid="particle-outlines"))
        for x0, y0, rad in circles:
            a.add_patch(Circle((x0, y0), rad, fill=False, ec=_OUTLINE, lw=0.8))
        if cx is not None and cy is not None and r is not None:
            a.add_patch(Circle((cx, cy), r, fill=False, ec=_FOOTPRINT, lw=1.6, gid="footprint"))
            if inner is not None and inner > 0:
                a.add_patch(
                    Circle(
                        (cx, cy), inner, fill=False, ec=_FOOTPRINT, lw=1.2, ls="--", gid="edge-ring"
                    )
                )
        a.set_xticks([])
        a.set_yticks([])
    if cx is not None and cy is not None and r is not None:
        handles.append(Line2D([], [], color=_FOOTPRINT, lw=1.6, label="footprint"))
        if inner is not None and inner > 0:
            handles.append(
                Line2D([], [], color=_FOOTPRINT, lw=1.2, ls="--", label="edge ring boundary")
            )
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax_z.set_xlim(zx - half, zx + half)
    ax_z.set_ylim(zy + half, zy - half)
    ax.add_patch(
        Rectangle(
            (zx - half, zy - half), 2 * half, 2 * half, fill=False, ec="white", lw=1.0, gid="zoom"
        )
    )
    ax.text(zx - half, zy - half, "zoom", color="white", fontsize=_LEGEND_SIZE, va="bottom")
    _add_scalebar(ax, extent, unit_um=in_um)
    _add_scalebar(ax_z, (zx - half, zx + half, zy + half, zy - half), unit_um=in_um)
    ax.set_title("SEM image with detected particles", fontsize=_LABEL_SIZE)
    ax_z.set_title("zoom", fontsize=_LABEL_SIZE)
    if handles:
        leg = ax.legend(
            handles=handles,
            loc="upper left",
            fontsize=_LEGEND_SIZE,
            framealpha=0.75,
            facecolor="black",
            edgecolor="none",
        )
        for txt in leg.get_texts():
            txt.set_color("white")
    return fig


def fig_diameter_histogram(diameters_nm: Any, *, fit: Mapping[str, Any] | None = None) -> Figure:
    """Histogram of particle diameters with the fitted Gaussian mixture.

    Parameters
    ----------
    diameters_nm : array_like
        Equivalent-circle diameters, nm.
    fit : mapping, optional
        ``{"model": "1-gaussian" | "2-gaussian", "components": [{"weight",
        "mean_nm", "sd_nm"}, ...]}``; the pdf is scaled to counts per bin.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> d = np.random.default_rng(1).normal(60, 10, 300)
    >>> fit = {"model": "1-gaussian", "components": [{"weight": 1, "mean_nm": 60, "sd_nm": 10}]}
    >>> fig_diameter_histogram(d, fit=fit).axes[0].get_xlabel()
    'Diameter (nm)'
    """
    d = np.asarray(getattr(diameters_nm, "values", diameters_nm), dtype=float).ravel()
    d = d[np.isfinite(d)]
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot()
    if d.size == 0:
        _no_data(ax, "no particles")
    else:
        edges = _bin_edges(d)
        sd = float(d.std(ddof=1)) if d.size > 1 else 0.0
        ax.hist(
            d,
            bins=edges,
            color=_SKY,
            edgecolor="white",
            lw=0.5,
            label=f"particles (n = {d.size}): {_g(d.mean())} ± {_g(sd, 2)} nm",
        )
        comps = list((fit or {}).get("components") or [])
        comps = [
            c
            for c in comps
            if _finite(c.get("mean_nm")) and _finite(c.get("sd_nm")) and c["sd_nm"] > 0
        ]
        if comps:
            width = float(np.diff(edges).mean())
            lo = min(edges[0], min(c["mean_nm"] - 4 * c["sd_nm"] for c in comps))
            hi = max(edges[-1], max(c["mean_nm"] + 4 * c["sd_nm"] for c in comps))
            xs = np.linspace(max(lo, 0.0) if edges[0] >= 0 else lo, hi, 400)
            wsum = sum(float(c.get("weight", 1.0)) for c in comps) or 1.0
            total = np.zeros_like(xs)
            colours = (_ORANGE, _GREEN, _PURPLE)
            for i, c in enumerate(comps):
                w = float(c.get("weight", 1.0)) / wsum
                y = d.size * width * w * _gauss_pdf(xs, float(c["mean_nm"]), float(c["sd_nm"]))
                total += y
                if len(comps) > 1:
                    ax.plot(
                        xs,
                        y,
                        color=colours[i % 3],
                        lw=1.2,
                        ls="--",
                        label=f"component {i + 1}: {_g(c['mean_nm'])} ± {_g(c['sd_nm'], 2)} nm"
                        f" ({w * 100:.0f} %)",
                    )
            if len(comps) == 1:
                c = comps[0]
                label = f"Gaussian fit: {_g(c['mean_nm'])} ± {_g(c['sd_nm'], 2)} nm"
            else:
                label = f"{len(comps)}-Gaussian fit (sum)"
            ax.plot(xs, total, color=_BLUE, lw=1.8, label=label)
        ax.legend(
            loc="upper right",
            fontsize=_LEGEND_SIZE,
            frameon=False,
            title="mean ± sd",
            title_fontsize=_LEGEND_SIZE,
        )
    ax.set_xlabel("Diameter (nm)")
    ax.set_ylabel("Particles")
    ax.set_ylim(bottom=0)
    _style(ax)
    return fig


def fig_alpha(h_eq_nm: Any, irm_mean: Any, *, alpha: Mapping[str, Any] | None = None) -> Figure:
    """IRM signal against the equivalent Li thickness from the charge, with the fit.

    Parameters
    ----------
    h_eq_nm : array_like
        Equivalent Li thickness V/A from the passed charge, nm.
    irm_mean : array_like
        Footprint-mean IRM signal at the same times, counts.
    alpha : mapping, optional
        ``{"value", "value_err", "r2", "intercept", "units"}`` of the linear fit
        signal = value · h_eq + intercept; units default to "counts nm⁻¹".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> h = np.linspace(0, 5, 20)
    >>> fig = fig_alpha(h, 3 * h + 1, alpha={"value": 3, "value_err": 0.1, "r2": 0.99, "intercept": 1})
    >>> fig.axes[0].get_xlabel()
    'Equivalent Li thickness h_eq (nm)'
    """
    h = _as_1d(h_eq_nm, "h_eq_nm")
    s = _as_1d(irm_mean, "irm_mean")
    if h.shape != s.shape:
        raise ValueError(f"h_eq_nm ({h.size}) and irm_mean ({s.size}) differ in length")
    fig = _figure(5.6, 4.2)
    ax = fig.add_subplot()
    ax.plot(h, s, "o", ms=3.5, color=_SKY, mec=_BLUE, mew=0.5, label="IRM vs charge")
    a = dict(alpha or {})
    if _finite(a.get("value")):
        slope = float(a["value"])
        icpt = float(a["intercept"]) if _finite(a.get("intercept")) else 0.0
        ok = np.isfinite(h)
        xs = np.linspace(min(0.0, np.nanmin(h[ok])), np.nanmax(h[ok]), 100)
        units = a.get("units") or "counts nm⁻¹"
        err = f" ± {_g(2.0 * a['value_err'], 2)} (k = 2)" if _finite(a.get("value_err")) else ""
        r2 = f", R² = {float(a['r2']):.4f}" if _finite(a.get("r2")) else ""
        ax.plot(
            xs,
            slope * xs + icpt,
            color=_VERMILION,
            lw=1.6,
            label=f"α = {_g(slope)}{err} {units}{r2}",
        )
    ax.set_xlabel("Equivalent Li thickness h_eq (nm)")
    ax.set_ylabel("IRM signal (counts)")
    ax.legend(loc="upper left", fontsize=_LEGEND_SIZE, frameon=False)
    _style(ax)
    return fig


def _steepest_step(t: np.ndarray, y: np.ndarray) -> float | None:
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if t.size < 3:
        return None
    k = max(1, t.size // 100)
    ys = np.convolve(y, np.ones(2 * k + 1) / (2 * k + 1), mode="same") if t.size > 4 * k else y
    dy = np.abs(np.diff(ys[k:-k] if t.size > 4 * k else ys))
    tt = t[k:-k] if t.size > 4 * k else t
    if dy.size == 0 or not np.any(dy > 0):
        return None
    i = int(np.argmax(dy))
    return float(0.5 * (tt[i] + tt[i + 1]))


def fig_sync(
    movie_t_s: Any,
    movie_mean: Any,
    *,
    offset_s: float,
    method: str,
    echem: Any = None,
    contact_t_s: float | None = None,
    offset_err_s: float | None = None,
) -> Figure:
    """The landing step in the movie, the contact time and the current, on one clock.

    The common clock is the potentiostat's: a frame at movie time ``t`` is drawn at
    ``t + offset_s``.

    Parameters
    ----------
    movie_t_s : array_like
        Frame times on the movie clock, s.
    movie_mean : array_like
        Mean intensity of each frame, counts.
    offset_s : float
        Offset added to movie times to put them on the potentiostat clock, s.
    method : str
        How the offset was found (shown in the title).
    echem : pandas.DataFrame, optional
        ``time_s`` (s, potentiostat clock) and ``current_A`` (A); |I| is drawn on a
        twin axis.
    contact_t_s : float, optional
        The contact (landing) time on the common clock, s. When not given, the
        steepest step of the movie mean is marked.
    offset_err_s : float, optional
        Standard (1σ) uncertainty of the offset, s (shown at k = 2 in the title and as
        a band).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(50) * 0.25
    >>> fig = fig_sync(t, (t > 3).astype(float), offset_s=-3.0, method="landing step")
    >>> "landing step" in fig.axes[0].get_title()
    True
    """
    tm = _as_1d(movie_t_s, "movie_t_s") + float(offset_s)
    ym = _as_1d(movie_mean, "movie_mean")
    if tm.shape != ym.shape:
        raise ValueError(f"movie_t_s ({tm.size}) and movie_mean ({ym.size}) differ in length")
    fig = _figure(7.0, 3.9)
    ax = fig.add_subplot()
    ax.plot(tm, ym, color=_BLUE, lw=1.3, marker=".", ms=3, label="movie mean intensity")
    if _finite(contact_t_s):
        t_c, c_label = float(contact_t_s), f"contact at {_g(contact_t_s)} s"
    else:
        t_c = _steepest_step(tm, ym)
        c_label = f"landing step at {_g(t_c)} s" if t_c is not None else ""
    if t_c is not None:
        if _finite(offset_err_s) and float(offset_err_s) > 0:
            u = 2.0 * float(offset_err_s)  # 1σ in; the band is the summary's k = 2
            ax.axvspan(t_c - u, t_c + u, color=_VERMILION, alpha=0.15, lw=0)
        ax.axvline(t_c, color=_VERMILION, lw=1.4, ls="--", label=c_label)
    ax.set_xlabel("Time on the potentiostat clock (s)")
    ax.set_ylabel("Movie mean intensity (counts)", color=_BLUE)
    ax.tick_params(axis="y", colors=_BLUE)
    _style(ax)
    handles, labels = ax.get_legend_handles_labels()
    if echem is not None:
        te = _as_1d(echem["time_s"], "echem time_s")
        ie = np.abs(_as_1d(echem["current_A"], "echem current_A"))
        peak = float(np.nanmax(ie)) if np.any(np.isfinite(ie)) else 0.0
        scale, unit = next(
            ((f, u) for f, u in ((1e9, "nA"), (1e6, "µA"), (1e3, "mA")) if peak * f < 1000),
            (1.0, "A"),
        )
        ax_i = ax.twinx()
        # no current flows before the record starts: draw the switch-on as a step from 0
        ax_i.plot(
            np.concatenate([[tm[0], te[0]], te]),
            np.concatenate([[0.0, 0.0], ie * scale]),
            color=_ORANGE,
            lw=1.1,
            label="|I| (potentiostat)",
        )
        ax_i.set_ylim(0.0, 1.2 * peak * scale if peak > 0 else 1.0)
        ax_i.set_ylabel(f"|I| ({unit})", color=_ORANGE)
        ax_i.tick_params(axis="y", colors=_ORANGE)
        _style(ax_i, twin=True)
        ax_i.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        h2, l2 = ax_i.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    err = f" ± {_g(2.0 * offset_err_s, 2)} (k = 2)" if _finite(offset_err_s) else ""
    ax.set_title(
        f"Clock sync by {method}\npotentiostat t = 0 at movie t = {_g(-offset_s)}{err} s",
        fontsize=_LABEL_SIZE,
    )
    ax.legend(
        handles,
        labels,
        loc="best" if tm.size < 2000 else "upper left",
        fontsize=_LEGEND_SIZE,
        frameon=False,
    )
    return fig


def fig_irm_frames(movie: Any, *, n_frames: int = 6, t_nuc_s: float | None = None) -> Figure:
    """A row of preprocessed IRM frames at evenly spaced times, on one colour scale.

    Parameters
    ----------
    movie : xarray.DataArray
        Preprocessed movie (t, y, x) with ``t`` in s and ``y``/``x`` in µm, e.g. landing
        frame subtracted, grouped and blurred; only the ``n_frames`` shown are computed.
    n_frames : int
        Number of frames shown.
    t_nuc_s : float, optional
        Electrochemical t_nuc, s; the first frame at or after it gets a marked title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> mv = xr.DataArray(np.random.default_rng(0).normal(size=(10, 8, 8)), dims=("t", "y", "x"),
    ...                   coords={"t": np.arange(10.0), "y": np.arange(8) * 0.1, "x": np.arange(8) * 0.1})
    >>> len(fig_irm_frames(mv, n_frames=4).axes)
    5
    """
    n_t = int(movie.sizes["t"])
    n_frames = max(1, min(int(n_frames), n_t))
    idx = np.unique(np.linspace(0, n_t - 1, n_frames).round().astype(int))
    frames = movie.isel(t=idx)
    data = np.asarray(frames.values, dtype=float)
    finite = data[np.isfinite(data)]
    lo, hi = np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0)
    fig = _figure(1.9 * idx.size + 0.9, 2.5)
    axes = fig.subplots(1, idx.size, squeeze=False)[0]
    shown = None
    marked = False
    for ax, k in zip(axes, range(idx.size), strict=True):
        arr, extent, in_um = _map_and_extent(frames.isel(t=k), None, "frame")
        shown = ax.imshow(
            arr, extent=extent, cmap="magma", vmin=lo, vmax=hi, interpolation="nearest"
        )
        t_k = float(frames["t"].values[k])
        title = f"t = {_g(t_k)} s"
        if _finite(t_nuc_s) and not marked and t_k >= float(t_nuc_s):
            title += " (≥ t_nuc)"
            marked = True
        ax.set_title(title, fontsize=_TICK_SIZE)
        ax.set_xticks([])
        ax.set_yticks([])
        if k == idx.size - 1 and in_um:
            _add_scalebar(ax, extent)
    cbar = fig.colorbar(shown, ax=list(axes), shrink=0.85, pad=0.02)
    cbar.set_label("ΔI (counts)", fontsize=_TICK_SIZE)
    cbar.ax.tick_params(labelsize=_TICK_SIZE - 1)
    return fig
