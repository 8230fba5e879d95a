"""Figures of the ``tomography`` scenario: orthogonal sections with the segmentation,
local-thickness (size) distributions and the porosity profile through depth."""

from __future__ import annotations

from collections.abc import Mapping
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
    _no_data,
    _style,
)

__all__ = ["fig_orthogonal_sections", "fig_porosity_profile", "fig_size_distribution"]

_OUTLINE_COLOURS = [
    (0, 229, 255, 255),
    (255, 140, 0, 255),
    (230, 60, 200, 255),
    (120, 255, 80, 255),
]


def fig_orthogonal_sections(sections: Mapping[str, Any], *, outline_phase: str = "li") -> Figure:
    """Three orthogonal grey sections (xy, xz, yz) with the phase boundaries outlined.

    Parameters
    ----------
    sections : mapping
        :func:`platescope.volume.orthogonal_sections` output: ``grey`` and ``phase``
        dicts of 2-D arrays (``"xy"``, ``"xz"``, ``"yz"``), ``voxel_size_um`` (dz, dy,
        dx), ``position_vox`` and ``phases``.
    outline_phase : str
        The phase whose boundary is drawn in cyan (others in orange/magenta/green).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> g = {"xy": np.random.rand(20, 30), "xz": np.random.rand(10, 30), "yz": np.random.rand(10, 20)}
    >>> p = {k: (v > 0.5).astype(np.uint8) for k, v in g.items()}
    >>> fig = fig_orthogonal_sections({"grey": g, "phase": p, "voxel_size_um": [1, 1, 1],
    ...                                "position_vox": [5, 10, 15], "phases": ["pore", "li"]})
    >>> len(fig.axes)
    3
    """
    from skimage.segmentation import find_boundaries

    dz, dy, dx = (float(v) for v in sections["voxel_size_um"])
    zc, yc, xc = sections.get("position_vox", (None, None, None))
    names = list(sections.get("phases") or [])
    fig = _figure(10.5, 4.0)
    panels = [
        (
            "xy",
            dx,
            dy,
            f"xy at z = {zc * dz:.4g} µm" if zc is not None else "xy",
            "x (µm)",
            "y (µm)",
        ),
        (
            "xz",
            dx,
            dz,
            f"xz at y = {yc * dy:.4g} µm" if yc is not None else "xz",
            "x (µm)",
            "z (µm)",
        ),
        (
            "yz",
            dy,
            dz,
            f"yz at x = {xc * dx:.4g} µm" if xc is not None else "yz",
            "y (µm)",
            "z (µm)",
        ),
    ]
    for i, (key, sx, sy, title, xl, yl) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        g = np.asarray(sections["grey"][key], dtype=float)
        ph = np.asarray(sections["phase"][key])
        extent = (0.0, g.shape[1] * sx, g.shape[0] * sy, 0.0)
        lo, hi = np.percentile(g, [0.5, 99.5]) if g.size else (0.0, 1.0)
        ax.imshow(
            g, cmap="gray", vmin=lo, vmax=max(hi, lo + 1e-9), extent=extent, interpolation="nearest"
        )
        over = np.zeros((*ph.shape, 4), dtype=np.uint8)
        order = sorted(range(len(names)), key=lambda k: names[k] != outline_phase)
        for j, k in enumerate(order):
            if names[k] in ("pore", "outside"):
                continue
            edges = find_boundaries(ph == k, mode="inner")
            over[edges] = _OUTLINE_COLOURS[j % len(_OUTLINE_COLOURS)]
        ax.imshow(over, extent=extent, interpolation="nearest")
        if key != "xy":
            ax.set_ylim(0.0, g.shape[0] * sy)  # collector (z = 0) at the bottom
        ax.set_title(title, fontsize=_LABEL_SIZE)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        _style(ax)
        _add_scalebar(ax, extent)
    return fig


def fig_size_distribution(result: Mapping[str, Any]) -> Figure:
    """Volume-weighted local-thickness distributions of Li and pores.

    Parameters
    ----------
    result : mapping
        :func:`platescope.volume.analyze_volume` output (``li_local_thickness`` and
        ``pore_size`` with ``histogram`` {edges_um, volume_um3}).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> h = {"edges_um": [0, 1, 2], "volume_um3": [3.0, 5.0]}
    >>> fig = fig_size_distribution({"li_local_thickness": {"histogram": h, "mean_um": 1.2},
    ...                              "pore_size": {"mean_um": None, "reason": "none"}})
    >>> len(fig.axes)
    1
    """
    fig = _figure(5.5, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for key, label, colour in (
        ("li_local_thickness", "Li", _BLUE),
        ("pore_size", "pores", _ORANGE),
    ):
        d = result.get(key) or {}
        h = d.get("histogram")
        if not h:
            continue
        edges = np.asarray(h["edges_um"], float)
        vol = np.asarray(h["volume_um3"], float)
        total = vol.sum()
        if total <= 0:
            continue
        ax.stairs(
            vol / total,
            edges,
            color=colour,
            linewidth=1.6,
            label=f"{label} (mean {d['mean_um']:.3g} µm)",
        )
        ax.axvline(d["mean_um"], color=colour, linestyle="--", linewidth=0.9)
        drawn = True
    if not drawn:
        _no_data(ax, "no local thickness computed")
    else:
        ax.legend(fontsize=_LEGEND_SIZE, frameon=False)
    ax.set_xlabel("Local thickness, largest inscribed sphere (µm)")
    ax.set_ylabel("volume fraction")
    _style(ax)
    return fig


def fig_porosity_profile(profile: Mapping[str, Any]) -> Figure:
    """Porosity and Li fraction per layer against the depth from the current collector.

    Parameters
    ----------
    profile : mapping
        ``analyze_volume(...)["profile"]``: ``depth_um``, ``porosity``, ``li_fraction``,
        ``axis``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fig_porosity_profile({"depth_um": [0, 1, 2], "porosity": [0.2, 0.5, 0.9],
    ...                             "li_fraction": [0.8, 0.5, 0.1], "axis": "z"})
    >>> len(fig.axes)
    1
    """
    fig = _figure(5.5, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    depth = np.asarray(profile["depth_um"], float)
    if profile.get("porosity") is not None:
        ax.plot(depth, np.asarray(profile["porosity"], float), color=_ORANGE, label="porosity")
    ax.plot(depth, np.asarray(profile["li_fraction"], float), color=_BLUE, label="Li fraction")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"Depth from the current collector along {profile.get('axis', 'z')} (µm)")
    ax.set_ylabel("volume fraction in the layer")
    ax.axvline(0, color=_VERMILION, linewidth=1.0)
    ax.legend(fontsize=_LEGEND_SIZE, frameon=False)
    _style(ax)
    return fig
