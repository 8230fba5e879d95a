"""The track graph: splits, merges, deposit families and a TrackMate-style export.

:func:`~platescope.particles.track_deposits` records two kinds of events on its rows:
``merged_into`` (the last row of a track absorbed by another) and ``split_from`` (the
first row of a track that broke off another). This module turns them into a graph:
events with their parent and child tracks (:func:`split_events`, :func:`lineage_events`),
one row per track with its parents, children and *family* — the connected component
of the graph, i.e. every deposit that was ever one piece with another
(:func:`track_graph`) — and the spots + edges tables of a TrackMate-style CSV export
(:func:`trackmate_tables`) that other tools read and a user can curate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["lineage_events", "split_events", "track_graph", "trackmate_tables"]


def _need(tracks: pd.DataFrame, cols=("track", "frame", "t_s")) -> None:
    if not isinstance(tracks, pd.DataFrame):
        raise TypeError("tracks must be a pandas DataFrame")
    missing = [c for c in cols if c not in tracks.columns]
    if missing:
        raise ValueError(f"tracks lack the column(s) {missing}; build them with track_deposits")


def split_events(tracks: pd.DataFrame) -> pd.DataFrame:
    """The splits recorded by :func:`track_deposits`, one row per broken-off track.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`~platescope.particles.track_deposits`.

    Returns
    -------
    pandas.DataFrame
        ``track`` (the part that broke off), ``from_track`` (the parent, which goes on
        as the largest part), ``frame`` and ``t_s`` of the first detection after the
        split, ``area_um2`` (the part's first area, µm²). Tracks made before splits
        were recorded (no ``split_from`` column) give an empty table.

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1], "frame": [2, 3, 3], "t_s": [6.0, 9.0, 9.0],
    ...                    "area_um2": [9.0, 6.0, 2.0], "split_from": [-1, -1, 0]})
    >>> split_events(tr).values.tolist()
    [[1.0, 0.0, 3.0, 9.0, 2.0]]
    """
    _need(tracks)
    if "split_from" in tracks:
        m = tracks[tracks["split_from"] >= 0]
    else:
        m = tracks.iloc[:0]
    return pd.DataFrame(
        {
            "track": m["track"].to_numpy(np.int64),
            "from_track": (m["split_from"] if len(m) else m["track"]).to_numpy(np.int64),
            "frame": m["frame"].to_numpy(np.int64),
            "t_s": m["t_s"].to_numpy(float),
            "area_um2": (m["area_um2"] if "area_um2" in m else m["t_s"] * np.nan).to_numpy(float),
        }
    )


def lineage_events(tracks: pd.DataFrame) -> pd.DataFrame:
    """Every split and merge as a directed edge between tracks, in time order.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`~platescope.particles.track_deposits`.

    Returns
    -------
    pandas.DataFrame
        ``event`` ("split" or "merge"), ``parent_track``, ``child_track`` (split: the
        track split from → the part that broke off; merge: the absorbed track → the
        survivor), ``frame`` (split: first frame of the part; merge: last frame of the
        absorbed track), ``t_s``, ``y_um``, ``x_um`` (where: the part's first centroid;
        the absorbed deposit's last centroid, µm).

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1, 1], "frame": [0, 1, 1, 2], "t_s": [0.0, 5, 5, 10],
    ...                    "y_um": 1.0, "x_um": 2.0, "merged_into": [-1, -1, -1, 0],
    ...                    "split_from": [-1, -1, 0, -1]})
    >>> lineage_events(tr)[["event", "parent_track", "child_track", "frame"]].values.tolist()
    [['split', 0, 1, 1], ['merge', 1, 0, 2]]
    """
    _need(tracks)
    parts = []
    for kind, col in (("split", "split_from"), ("merge", "merged_into")):
        if col not in tracks:
            continue
        m = tracks[tracks[col] >= 0]
        own = m["track"].to_numpy(np.int64)
        other = m[col].to_numpy(np.int64)
        parts.append(
            pd.DataFrame(
                {
                    "event": kind,
                    "parent_track": other if kind == "split" else own,
                    "child_track": own if kind == "split" else other,
                    "frame": m["frame"].to_numpy(np.int64),
                    "t_s": m["t_s"].to_numpy(float),
                    "y_um": m["y_um"].to_numpy(float) if "y_um" in m else np.nan,
                    "x_um": m["x_um"].to_numpy(float) if "x_um" in m else np.nan,
                }
            )
        )
    cols = ["event", "parent_track", "child_track", "frame", "t_s", "y_um", "x_um"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    return out.sort_values(["frame", "event", "child_track"], kind="stable").reset_index(drop=True)


def _families(ids: np.ndarray, edges: pd.DataFrame) -> dict[int, int]:
    """Connected components of the track graph; a family is named by its smallest id."""
    parent = {int(i): int(i) for i in ids}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(edges["parent_track"], edges["child_track"], strict=True):
        a, b = int(a), int(b)
        if a not in parent or b not in parent:
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in parent}


def track_graph(tracks: pd.DataFrame) -> pd.DataFrame:
    """One row per track with its parents, children, family and how it starts and ends.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`~platescope.particles.track_deposits`.

    Returns
    -------
    pandas.DataFrame
        ``track``, ``family`` (the smallest track id of the connected component of
        splits and merges the track belongs to), ``first_frame``, ``last_frame``,
        ``t_start_s``, ``t_end_s``, ``n_frames``, ``start`` ("split" when it broke off
        a parent, else "appeared"), ``end`` ("merged" when absorbed, else "ended"),
        ``parent_ids`` and ``child_ids`` (space-separated track ids: the split parent
        and the tracks merged into this one; the parts that broke off and the track it
        merged into).

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1, 2], "frame": [0, 1, 1, 0], "t_s": [0.0, 5, 5, 0],
    ...                    "merged_into": -1, "split_from": [-1, -1, 0, -1]})
    >>> track_graph(tr)[["track", "family", "start", "parent_ids", "child_ids"]].values.tolist()
    [[0, 0, 'appeared', '', '1'], [1, 0, 'split', '0', ''], [2, 2, 'appeared', '', '']]
    """
    _need(tracks)
    cols = [
        "track",
        "family",
        "first_frame",
        "last_frame",
        "t_start_s",
        "t_end_s",
        "n_frames",
        "start",
        "end",
        "parent_ids",
        "child_ids",
    ]
    if len(tracks) == 0:
        return pd.DataFrame(columns=cols)
    g = tracks.groupby("track", sort=True)
    out = pd.DataFrame(
        {
            "first_frame": g["frame"].min(),
            "last_frame": g["frame"].max(),
            "t_start_s": g["t_s"].min(),
            "t_end_s": g["t_s"].max(),
            "n_frames": g["frame"].size(),
        }
    )
    out.index.name = "track"
    out = out.reset_index()
    ids = out["track"].to_numpy(np.int64)
    ev = lineage_events(tracks)
    fam = _families(ids, ev)
    out.insert(1, "family", [fam[int(i)] for i in ids])
    parents: dict[int, list[int]] = {}
    children: dict[int, list[int]] = {}
    for a, b in zip(ev["parent_track"], ev["child_track"], strict=True):
        parents.setdefault(int(b), []).append(int(a))
        children.setdefault(int(a), []).append(int(b))
    split_kids = set(ev.loc[ev["event"] == "split", "child_track"].astype(int))
    absorbed = set(ev.loc[ev["event"] == "merge", "parent_track"].astype(int))
    out["start"] = ["split" if int(i) in split_kids else "appeared" for i in ids]
    out["end"] = ["merged" if int(i) in absorbed else "ended" for i in ids]
    out["parent_ids"] = [" ".join(map(str, sorted(parents.get(int(i), [])))) for i in ids]
    out["child_ids"] = [" ".join(map(str, sorted(children.get(int(i), [])))) for i in ids]
    return out[cols].astype({"track": np.int64, "family": np.int64})


def trackmate_tables(tracks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spots and edges tables in TrackMate's CSV export layout, splits and merges included.

    TrackMate (Fiji) calls a *track* a whole connected graph — a deposit with every
    part that split off it or merged into it — and exports one table of spots and one
    of edges (links between spots of successive frames). Here ``TRACK_ID`` is the
    family of :func:`track_graph`; platescope's own per-segment track id is kept in
    ``SEGMENT_ID`` so that calls can be curated and read back. Positions and radius
    in µm, time in s (the movie's axis).

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`~platescope.particles.track_deposits` (``track``, ``frame``,
        ``t_s``, ``y_um``, ``x_um``, ``area_um2``, ``merged_into``, ``split_from``).

    Returns
    -------
    spots : pandas.DataFrame
        ``ID``, ``TRACK_ID``, ``SEGMENT_ID``, ``FRAME``, ``POSITION_T``,
        ``POSITION_X``, ``POSITION_Y``, ``POSITION_Z`` (0), ``RADIUS`` (√(A/π)),
        ``AREA``.
    edges : pandas.DataFrame
        ``SPOT_SOURCE_ID``, ``SPOT_TARGET_ID``, ``TRACK_ID``, ``EDGE_TIME`` (mean of
        the two spots' times), ``EVENT`` ("link", "split" or "merge").

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1], "frame": [0, 1, 1], "t_s": [0.0, 5, 5],
    ...                    "y_um": 1.0, "x_um": [2.0, 1.5, 3.0], "area_um2": 3.0,
    ...                    "merged_into": -1, "split_from": [-1, -1, 0]})
    >>> spots, edges = trackmate_tables(tr)
    >>> edges[["SPOT_SOURCE_ID", "SPOT_TARGET_ID", "EVENT"]].values.tolist()
    [[0, 1, 'link'], [0, 2, 'split']]
    """
    _need(tracks, ("track", "frame", "t_s", "y_um", "x_um", "area_um2"))
    tr = tracks.sort_values(["track", "frame"], kind="stable").reset_index(drop=True)
    graph = track_graph(tr)
    fam = dict(zip(graph["track"].astype(int), graph["family"].astype(int), strict=True))
    tid = tr["track"].to_numpy(np.int64)
    frame = tr["frame"].to_numpy(np.int64)
    t = tr["t_s"].to_numpy(float)
    spot_id = np.arange(len(tr), dtype=np.int64)
    family = np.array([fam[int(i)] for i in tid], dtype=np.int64)
    area = tr["area_um2"].to_numpy(float)
    spots = pd.DataFrame(
        {
            "ID": spot_id,
            "TRACK_ID": family,
            "SEGMENT_ID": tid,
            "FRAME": frame,
            "POSITION_T": t,
            "POSITION_X": tr["x_um"].to_numpy(float),
            "POSITION_Y": tr["y_um"].to_numpy(float),
            "POSITION_Z": 0.0,
            "RADIUS": np.sqrt(np.clip(area, 0, None) / np.pi),
            "AREA": area,
        }
    )
    same = tid[1:] == tid[:-1]
    src, dst = spot_id[:-1][same], spot_id[1:][same]
    kinds = ["link"] * int(same.sum())
    # event edges: split parent's last spot before the part's first → that first spot;
    # absorbed track's last spot → the survivor's first spot after it
    by_track = {int(k): v for k, v in pd.Series(spot_id).groupby(tid).groups.items()}
    extra_src, extra_dst = [], []
    for kind, col in (("split", "split_from"), ("merge", "merged_into")):
        if col not in tr:
            continue
        for i in np.flatnonzero(tr[col].to_numpy(np.int64) >= 0):
            other = by_track.get(int(tr[col].iloc[i]))
            if other is None:
                continue
            other = np.asarray(other)
            if kind == "split":
                before = other[frame[other] < frame[i]]
                if before.size:
                    extra_src.append(int(before[np.argmax(frame[before])]))
                    extra_dst.append(int(i))
                    kinds.append(kind)
            else:
                after = other[frame[other] > frame[i]]
                if after.size:
                    extra_src.append(int(i))
                    extra_dst.append(int(after[np.argmin(frame[after])]))
                    kinds.append(kind)
    src = np.concatenate([src, np.asarray(extra_src, dtype=np.int64)])
    dst = np.concatenate([dst, np.asarray(extra_dst, dtype=np.int64)])
    edges = pd.DataFrame(
        {
            "SPOT_SOURCE_ID": src,
            "SPOT_TARGET_ID": dst,
            "TRACK_ID": family[src] if src.size else np.array([], np.int64),
            "EDGE_TIME": 0.5 * (t[src] + t[dst]) if src.size else np.array([], float),
            "EVENT": kinds,
        }
    )
    return spots, edges
