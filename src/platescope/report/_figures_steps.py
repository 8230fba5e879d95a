"""Figure of an electrochemistry record cut into steps, with nucleation minima marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from platescope.report._figures import _figure, _style

__all__ = ["fig_echem_steps"]

#: colour per (kind, direction); rests and impedance blocks in greys
_COLOURS = {
    ("rest", None): "#d9d9d9",
    ("impedance", None): "#9e9e9e",
    ("galvanostatic", "cathodic"): "#9ecae1",
    ("galvanostatic", "anodic"): "#fcbba1",
    ("potentiostatic", "cathodic"): "#c6dbef",
    ("potentiostatic", "anodic"): "#fee0d2",
    ("sweep", "cathodic"): "#deebf7",
    ("sweep", "anodic"): "#fff5eb",
    ("variable", None): "#f0f0f0",
}


def _colour(kind: str, direction: Any) -> str:
    d = direction if isinstance(direction, str) else None
    return _COLOURS.get((kind, d), _COLOURS.get((kind, None), "#f0f0f0"))


def fig_echem_steps(
    echem: pd.DataFrame,
    steps: pd.DataFrame,
    *,
    nucleation: Sequence[dict] = (),
    max_points: int = 20000,
) -> Figure:
    """E(t) and I(t) with each step shaded by kind, and the nucleation result of each plating step.

    Parameters
    ----------
    echem : pandas.DataFrame
        ``time_s`` (s), ``potential_V`` (V), ``current_A`` (A).
    steps : pandas.DataFrame
        :func:`platescope.echem.split_steps` output.
    nucleation : sequence of dict
        :func:`platescope.echem.nucleation_by_step` rows: a nucleated step gets a marker
        at (t_nuc, E_nuc); a plating step without a minimum gets "no minimum" over it.
    max_points : int
        Longer records are thinned (min/max per bin) for drawing only.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> t = np.arange(0, 30, 0.1)
    >>> df = pd.DataFrame({"time_s": t, "potential_V": 0.1 - 1e-3 * t,
    ...                    "current_A": np.where(t < 10, 0.0, -1e-6)})
    >>> from platescope.echem import split_steps
    >>> fig = fig_echem_steps(df, split_steps(df))
    >>> len(fig.axes)
    2
    """
    t = echem["time_s"].to_numpy(float)
    e = echem["potential_V"].to_numpy(float)
    i = echem["current_A"].to_numpy(float)
    span = float(t[-1] - t[0]) if t.size else 0.0
    scale, unit = (3600.0, "h") if span > 3 * 3600 else (60.0, "min") if span > 600 else (1.0, "s")
    if t.size > max_points:
        keep = np.unique(np.linspace(0, t.size - 1, max_points).astype(int))
        t, e, i = t[keep], e[keep], i[keep]
    i_abs = float(np.nanmax(np.abs(i))) if i.size else 0.0
    i_scale, i_unit = (
        (1e-3, "mA")
        if i_abs >= 1e-3
        else (1e-6, "µA")
        if i_abs >= 1e-6
        else (1e-9, "nA")
        if i_abs >= 1e-9
        else (1e-12, "pA")
    )
    fig = _figure(7.2, 4.4)
    ax_e, ax_i = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    seen: dict[str, str] = {}
    for r in steps.itertuples():
        c = _colour(r.kind, r.direction)
        label = r.kind + (f" ({r.direction})" if isinstance(r.direction, str) else "")
        seen.setdefault(label, c)
        for ax in (ax_e, ax_i):
            ax.axvspan(r.t_start_s / scale, r.t_end_s / scale, color=c, lw=0, zorder=0)
    ax_e.plot(t / scale, e, color="k", lw=0.8, zorder=2)
    ax_i.plot(t / scale, i / i_scale, color="k", lw=0.8, zorder=2)
    for row in nucleation:
        if row.get("nucleated") and row.get("t_nuc_s") is not None:
            ax_e.plot(
                row["t_nuc_s"] / scale,
                row["E_nuc_V"],
                "o",
                ms=6,
                mfc="none",
                mec="#d62728",
                mew=1.5,
                zorder=3,
            )
            ax_e.annotate(
                f"E_nuc {row['E_nuc_V'] * 1e3:.1f} mV",
                (row["t_nuc_s"] / scale, row["E_nuc_V"]),
                textcoords="offset points",
                xytext=(6, 8),
                fontsize=7,
                color="#d62728",
            )
        elif row.get("t_start_s") is not None:
            mid = 0.5 * (row["t_start_s"] + row["t_end_s"]) / scale
            ax_e.annotate(
                "no nucleation minimum",
                (mid, 1.0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=7,
                color="#555555",
            )
    ax_e.set_ylabel("Potential (V)")
    ax_i.set_ylabel(f"Current ({i_unit})")
    ax_i.set_xlabel(f"Time ({unit})")
    ax_i.axhline(0, color="#777777", lw=0.5, zorder=1)
    for ax in (ax_e, ax_i):
        _style(ax)
    handles = [Patch(color=c, label=lab) for lab, c in seen.items()]
    if handles:
        ax_e.legend(
            handles=handles,
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
    return fig
