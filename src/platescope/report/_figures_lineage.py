"""Lineage figure: deposit tracks against time with their splits and merges.

Same conventions as :mod:`platescope.report._figures`: data in, a
:class:`matplotlib.figure.Figure` on the Agg canvas out; the caller saves it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.lines import Line2D

from platescope.report._figures import (
    _BLUE,
    _LEGEND_SIZE,
    _ORANGE,
    _SKY,
    _TICK_SIZE,
    _VERMILION,
    _YELLOW,
    _figure,
    _no_data,
    _style,
)

__all__ = ["fig_deposit_lineage"]


def fig_deposit_lineage(
    tracks: pd.DataFrame,
    *,
    per_deposit: pd.DataFrame | None = None,
    steps: pd.DataFrame | None = None,
    only_events: bool = True,
) -> Any:
    """Each track as a bar over the time it is followed, families together, events drawn.

    Parameters
    ----------
    tracks : pandas.DataFrame
        :func:`~platescope.particles.track_deposits` output.
    per_deposit : pandas.DataFrame, optional
        :func:`~platescope.particles.find_dead_li` output: tracks ever dead in vermilion.
    steps : pandas.DataFrame, optional
        :func:`~platescope.particles.cycling_steps` output: stripping steps shaded.
    only_events : bool
        Show only families with a split or a merge (default); all tracks otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1], "frame": [0, 1, 1], "t_s": [0.0, 5, 5],
    ...                    "merged_into": -1, "split_from": [-1, -1, 0]})
    >>> len(fig_deposit_lineage(tr).axes)
    1
    """
    from platescope.particles._lineage import lineage_events, track_graph

    graph = track_graph(tracks)
    events = lineage_events(tracks)
    if only_events and len(events):
        fams = set(graph.loc[graph["track"].isin(events["parent_track"]), "family"])
        graph = graph[graph["family"].isin(fams)]
    elif only_events:
        graph = graph.iloc[:0]
    n = len(graph)
    fig = _figure(7.5, max(2.8, min(9.0, 1.2 + 0.16 * n)))
    ax = fig.subplots()
    if steps is not None and len(steps):
        for _, s in steps[steps["step"] == "stripping"].iterrows():
            ax.axvspan(s["t_start_s"], s["t_end_s"], color=_YELLOW, alpha=0.25, lw=0)
    if n == 0:
        _no_data(ax, "no split or merge recorded")
        _style(ax)
        return fig
    dead: set[int] = set()
    if per_deposit is not None and len(per_deposit):
        dead = set(
            per_deposit.loc[per_deposit["status"].isin(["dead", "dead_before"]), "track"].astype(
                int
            )
        )
    graph = graph.sort_values(["family", "t_start_s", "track"], kind="stable")
    row = {int(t): k for k, t in enumerate(graph["track"])}
    for _, g in graph.iterrows():
        y = row[int(g["track"])]
        colour = _VERMILION if int(g["track"]) in dead else _BLUE
        ax.plot([g["t_start_s"], g["t_end_s"]], [y, y], "-", color=colour, lw=2.2)
    for _, e in events.iterrows():
        a, b = row.get(int(e["parent_track"])), row.get(int(e["child_track"]))
        if a is None or b is None:
            continue
        colour = _SKY if e["event"] == "split" else _ORANGE
        ax.plot([e["t_s"], e["t_s"]], [a, b], "-", color=colour, lw=1.2)
        ax.plot(e["t_s"], b if e["event"] == "split" else a, "o", color=colour, ms=4)
    ax.set_yticks(range(n))
    ax.set_yticklabels([str(int(t)) for t in graph["track"]], fontsize=max(_TICK_SIZE - 3, 5))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel("Time / s")
    ax.set_ylabel("Track (grouped by family)")
    handles = [
        Line2D([], [], color=_BLUE, lw=2, label="track"),
        Line2D([], [], color=_VERMILION, lw=2, label="turned dead (in some cycle)"),
        Line2D([], [], color=_SKY, marker="o", lw=1, label="split (part breaks off)"),
        Line2D([], [], color=_ORANGE, marker="o", lw=1, label="merge (absorbed)"),
    ]
    fig.legend(handles=handles, fontsize=_LEGEND_SIZE, loc="outside lower center", ncols=4)
    _style(ax)
    ax.set_title(
        f"Deposit lineage: {int((events['event'] == 'split').sum())} splits, "
        f"{int((events['event'] == 'merge').sum())} merges",
        fontsize=_TICK_SIZE,
    )
    return fig
