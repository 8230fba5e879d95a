"""Tracks as a geff graph: one node per detection, one edge per link, split or merge.

geff (the graph exchange file format for tracking, a zarr store; napari, TrackMate
importers and the tracking tools of the geff project read it) stores a graph as node ids
and edge ids (pairs of node ids) with one array per property. :func:`geff_graph` turns
:func:`~platescope.particles.track_deposits` output into those arrays plus the geff
metadata; :func:`platescope.io.write_geff` writes them, :func:`platescope.io.read_geff`
reads them back. Node ids are the ``ID`` of :func:`trackmate_tables` and the edges are its
edges, so the CSV and the geff export describe the same graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platescope.particles._lineage import _need, trackmate_tables

__all__ = ["GEFF_VERSION", "geff_graph"]

#: geff specification version the graph follows (major.minor of geff-spec).
GEFF_VERSION = "1.3"

#: node properties: name → (unit or None, description)
_NODE_PROPS = {
    "t": ("second", "time of the frame on the movie's (synchronised) time axis"),
    "y": ("micrometer", "centroid row position"),
    "x": ("micrometer", "centroid column position"),
    "frame": (None, "frame index in the movie"),
    "area_um2": ("micrometer**2", "projected area of the deposit"),
    "radius_um": ("micrometer", "equivalent-circle radius sqrt(area / pi)"),
    "track": (None, "platescope track id (tables/deposit_tracks.csv; TrackMate SEGMENT_ID)"),
    "family": (
        None,
        "platescope deposit family (smallest track id of the split/merge component; "
        "TrackMate TRACK_ID)",
    ),
    "tracklet": (None, "geff tracklet: maximal chain of nodes with one link in and out"),
    "lineage": (None, "geff lineage: weakly connected component of the graph"),
}
_EDGE_PROPS = {
    "event": (
        None,
        "link (same deposit in successive detections), split (parent's last spot before "
        "the part's first), merge (absorbed deposit's last spot to the survivor's next)",
    ),
    "dt_s": ("second", "time from the source node to the target node"),
}


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Connected-component label of every node (undirected), numbered by first node."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, np.int64)
    adj = coo_matrix((np.ones(src.size, np.int8), (src, dst)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    return lab.astype(np.int64)


def _prop_meta(name: str, values: np.ndarray, unit: str | None, description: str) -> dict:
    dtype = "str" if values.dtype.kind == "U" else values.dtype.name
    return {
        "identifier": name,
        "dtype": dtype,
        "varlength": False,
        "unit": unit,
        "name": None,
        "description": description,
    }


def geff_graph(tracks: pd.DataFrame) -> dict:
    """The tracks as geff arrays and metadata (nodes, edges with their event kind).

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`~platescope.particles.track_deposits` (``track``, ``frame``,
        ``t_s``, ``y_um``, ``x_um``, ``area_um2``; ``merged_into`` and ``split_from``
        when merges and splits were recorded).

    Returns
    -------
    dict
        ``node_ids`` (uint64, n; the ``ID`` of :func:`trackmate_tables`),
        ``node_props`` (name → array of n: ``t`` in s, ``y``/``x`` in µm, ``frame``,
        ``area_um2`` in µm², ``radius_um`` in µm, ``track``, ``family``, ``tracklet``,
        ``lineage``), ``edge_ids`` (uint64, m × 2: source, target node; time runs from
        source to target), ``edge_props`` (``event``: "link", "split" or "merge";
        ``dt_s``, s) and ``metadata`` (the geff metadata as JSON-ready dict: version,
        ``directed`` = True, axes t/y/x with units and ranges, property metadata,
        ``track_node_props`` {tracklet, lineage}, display hints). ``tracklet`` and
        ``lineage`` follow the geff definitions (maximal chains of in/out degree 1;
        weakly connected components), computed from the edges; ``family`` is
        platescope's (:func:`track_graph`) and equals the lineage partition whenever
        every recorded split and merge has a spot on both sides.

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0, 1], "frame": [0, 1, 1], "t_s": [0.0, 5, 5],
    ...                    "y_um": 1.0, "x_um": [2.0, 1.5, 3.0], "area_um2": 3.0,
    ...                    "merged_into": -1, "split_from": [-1, -1, 0]})
    >>> g = geff_graph(tr)
    >>> g["edge_ids"].tolist(), g["edge_props"]["event"].tolist()
    ([[0, 1], [0, 2]], ['link', 'split'])
    >>> g["node_props"]["tracklet"].tolist()  # the split ends node 0's tracklet
    [0, 1, 2]
    """
    _need(tracks, ("track", "frame", "t_s", "y_um", "x_um", "area_um2"))
    spots, edges = trackmate_tables(tracks)
    n = len(spots)
    src = edges["SPOT_SOURCE_ID"].to_numpy(np.int64)
    dst = edges["SPOT_TARGET_ID"].to_numpy(np.int64)
    t = spots["POSITION_T"].to_numpy(np.float64)
    indeg = np.bincount(dst, minlength=n)
    outdeg = np.bincount(src, minlength=n)
    chain = (outdeg[src] == 1) & (indeg[dst] == 1)
    node_props = {
        "t": t,
        "y": spots["POSITION_Y"].to_numpy(np.float64),
        "x": spots["POSITION_X"].to_numpy(np.float64),
        "frame": spots["FRAME"].to_numpy(np.int64),
        "area_um2": spots["AREA"].to_numpy(np.float64),
        "radius_um": spots["RADIUS"].to_numpy(np.float64),
        "track": spots["SEGMENT_ID"].to_numpy(np.int64),
        "family": spots["TRACK_ID"].to_numpy(np.int64),
        "tracklet": _components(n, src[chain], dst[chain]),
        "lineage": _components(n, src, dst),
    }
    kinds = edges["EVENT"].to_numpy(str)
    edge_props = {
        "event": kinds.astype("<U5") if kinds.size else np.zeros(0, "<U5"),
        "dt_s": (t[dst] - t[src]) if src.size else np.zeros(0, np.float64),
    }
    axes = []
    for name, kind in (("t", "time"), ("y", "space"), ("x", "space")):
        v = node_props[name]
        ax = {"name": name, "type": kind, "unit": _NODE_PROPS[name][0]}
        finite = v[np.isfinite(v)]
        if finite.size:
            ax.update(min=float(finite.min()), max=float(finite.max()))
        axes.append(ax)
    from platescope import __version__

    metadata = {
        "geff_version": GEFF_VERSION,
        "directed": True,
        "axes": axes,
        "node_props_metadata": {
            k: _prop_meta(k, v, *_NODE_PROPS[k]) for k, v in node_props.items()
        },
        "edge_props_metadata": {
            k: _prop_meta(k, v, *_EDGE_PROPS[k]) for k, v in edge_props.items()
        },
        "track_node_props": {"tracklet": "tracklet", "lineage": "lineage"},
        "display_hints": {
            "display_horizontal": "x",
            "display_vertical": "y",
            "display_time": "t",
        },
        "extra": {
            "platescope": {
                "version": __version__,
                "written_by": "platescope.particles.geff_graph",
                "node_ids": "ID of tables/trackmate_spots.csv",
                "edge_events": ["link", "split", "merge"],
            }
        },
    }
    return {
        "node_ids": np.arange(n, dtype=np.uint64),
        "node_props": node_props,
        "edge_ids": np.stack([src, dst], axis=1).astype(np.uint64).reshape(-1, 2),
        "edge_props": edge_props,
        "metadata": metadata,
    }
