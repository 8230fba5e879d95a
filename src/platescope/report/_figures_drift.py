"""Figure of the stage drift found by registration, with the excluded frames marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from platescope.report._figures import _figure, _style

__all__ = ["fig_drift"]


def fig_drift(
    shifts: pd.DataFrame, *, quality: pd.DataFrame | None = None, applied: bool | None = None
) -> Figure:
    """Shift (dy, dx, µm) of every frame against time, with its error band and bad frames.

    Parameters
    ----------
    shifts : pandas.DataFrame
        :func:`platescope.optics.register_drift` table (``t_s``, ``dy_um``, ``dx_um``,
        ``err_px``, ``dy_px``).
    quality : pandas.DataFrame, optional
        :func:`platescope.optics.frame_quality` table; bad frames are marked.
    applied : bool, optional
        Whether these shifts were undone in the movie analysed; the title says so (a
        measured drift that was not applied is noise, or the registration was refused).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> tab = pd.DataFrame({"t_s": [0.0, 1.0], "dy_px": [0.0, 1.0], "dx_px": [0.0, 0.5],
    ...                     "dy_um": [0.0, 0.1], "dx_um": [0.0, 0.05], "err_px": [0.0, 0.02]})
    >>> len(fig_drift(tab).axes)
    1
    """
    fig = _figure(6.4, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    t = shifts["t_s"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        um_per_px = np.nanmedian(
            np.abs(shifts["dy_um"].to_numpy(float)) / np.abs(shifts["dy_px"].to_numpy(float))
        )
    err_um = shifts["err_px"].to_numpy(float) * (um_per_px if np.isfinite(um_per_px) else 0.0)
    for col, colour, label in (("dy_um", "#1f77b4", "dy"), ("dx_um", "#d62728", "dx")):
        v = shifts[col].to_numpy(float)
        ax.plot(t, v, color=colour, lw=1.0, label=label)
        ax.fill_between(t, v - err_um, v + err_um, color=colour, alpha=0.2, lw=0)
    if quality is not None and quality["bad"].any():
        bad = quality[quality["bad"]]
        for i, (reason, grp) in enumerate(bad.groupby("reason")):
            ax.plot(
                grp["t_s"],
                np.zeros(len(grp)),
                ls="none",
                marker="x|^v"[i % 4],
                color="k",
                ms=6,
                label=f"excluded: {reason}",
            )
    if applied is not None:
        ax.set_title(
            "measured and undone before the maps"
            if applied
            else "measured, not applied: the movie was analysed as recorded",
            fontsize=8,
            loc="left",
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("content shift (µm)")
    ax.legend(fontsize=7, frameon=False, ncols=2)
    _style(ax)
    return fig
