"""geff writer and reader: a tracking graph as a zarr store (graph exchange file format).

Layout (geff specification 1.3; written with zarr directly, so the ``geff`` package is
not needed)::

    tracks.geff/              zarr group; attrs["geff"] = the metadata
      nodes/ids               node ids (uint64, n)
      nodes/props/<p>/values  one array per node property (length n)
      edges/ids               (m, 2) source, target node ids (same dtype as the node ids)
      edges/props/<p>/values  one array per edge property (length m)

A ``missing`` array (bool) next to ``values`` marks missing entries; platescope writes
none (NaN stands for "not measured") and reads them when present. Variable-length
properties are not read. :func:`platescope.particles.geff_graph` builds the graph of
deposit tracks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from platescope._atomic import _file_mode
from platescope._errors import InputError

__all__ = ["read_geff", "write_geff"]

_CHUNK_ROWS = 1 << 20


def _zarr_major() -> int:
    import zarr

    return int(zarr.__version__.split(".")[0])


def _put(group, name: str, data: np.ndarray) -> None:
    """One array under ``group`` (chunks of up to 2²⁰ rows, trailing axes whole)."""
    data = np.ascontiguousarray(data)
    chunks = (max(1, min(len(data), _CHUNK_ROWS)), *data.shape[1:])
    if _zarr_major() >= 3:
        arr = group.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks)
    else:  # zarr-python 2
        arr = group.create_dataset(name, shape=data.shape, dtype=data.dtype, chunks=chunks)
    if data.size:
        arr[...] = data


def _check_graph(graph: dict) -> tuple[np.ndarray, np.ndarray]:
    for key in ("node_ids", "node_props", "edge_ids", "edge_props", "metadata"):
        if key not in graph:
            raise ValueError(f"graph lacks {key!r}; build it with platescope.particles.geff_graph")
    nodes = np.asarray(graph["node_ids"])
    edges = np.asarray(graph["edge_ids"]).reshape(-1, 2)
    if nodes.ndim != 1 or nodes.dtype.kind not in "iu":
        raise ValueError("node_ids must be a 1-D integer array")
    if edges.dtype.kind not in "iu" and edges.size:
        raise ValueError("edge_ids must be an integer (m, 2) array")
    edges = edges.astype(nodes.dtype)
    for where, props, n in (
        ("node", graph["node_props"], len(nodes)),
        ("edge", graph["edge_props"], len(edges)),
    ):
        meta = graph["metadata"].get(f"{where}_props_metadata", {})
        if set(meta) != set(props):
            raise ValueError(
                f"{where} properties {sorted(props)} and their metadata {sorted(meta)} differ"
            )
        for name, v in props.items():
            if len(np.asarray(v)) != n:
                raise ValueError(f"{where} property {name!r} has {len(v)} values for {n} {where}s")
    return nodes, edges


def write_geff(graph: dict, path: str | os.PathLike) -> Path:
    """Write a graph to a geff zarr store, atomically (a temp folder, then a rename).

    The store is zarr format 2 (the geff reference implementation's default; read by
    zarr-python 2 and 3 and by the Java zarr readers); string properties are fixed-width
    unicode, which format 3 has no stable encoding for.

    Parameters
    ----------
    graph : dict
        ``node_ids``, ``node_props``, ``edge_ids``, ``edge_props``, ``metadata`` — as
        :func:`platescope.particles.geff_graph` returns them.
    path : str or os.PathLike
        The store folder (conventionally ``*.geff`` or ``*.zarr``). An existing folder
        is replaced only when it is a geff store (its ``.zattrs``/``zarr.json`` holds a
        ``geff`` key); anything else there is an error, so no other data is deleted.

    Returns
    -------
    pathlib.Path
        The store path.

    Raises
    ------
    platescope._errors.InputError
        When ``path`` exists and is not a geff store.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from platescope.particles import geff_graph
    >>> tr = pd.DataFrame({"track": [0, 0], "frame": [0, 1], "t_s": [0.0, 5.0], "y_um": 1.0,
    ...                    "x_um": 2.0, "area_um2": 3.0})
    >>> p = write_geff(geff_graph(tr), pathlib.Path(tempfile.mkdtemp()) / "tracks.geff")
    >>> read_geff(p)["edge_ids"].tolist()
    [[0, 1]]
    """
    import zarr

    nodes, edges = _check_graph(graph)
    dest = Path(path)
    if dest.exists() and not _is_geff(dest):
        raise InputError(
            dest,
            "exists and is not a geff store, so it is not replaced",
            "choose another path or remove it first",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        kw = {"zarr_format": 2} if _zarr_major() >= 3 else {}
        root = zarr.open_group(str(tmp), mode="w", **kw)
        _put(root, "nodes/ids", nodes)
        _put(root, "edges/ids", edges)
        for where, props in (("nodes", graph["node_props"]), ("edges", graph["edge_props"])):
            grp = root.require_group(f"{where}/props")
            for name, v in props.items():
                _put(grp, f"{name}/values", np.asarray(v))
        # the metadata last: a store without it is not a geff
        root.attrs["geff"] = json.loads(json.dumps(graph["metadata"], allow_nan=False))
        # mkdtemp makes the folder private (0700); the store is as readable as a new folder
        mode = _file_mode(tmp / "-")
        os.chmod(tmp, mode | ((mode & 0o444) >> 2))
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
            os.rename(dest, old / dest.name)
            os.rename(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _attrs(path: Path) -> dict | None:
    """The store's root attributes (zarr v2 ``.zattrs`` or v3 ``zarr.json``), or None."""
    for name, key in ((".zattrs", None), ("zarr.json", "attributes")):
        f = path / name
        if f.is_file():
            with contextlib.suppress(OSError, ValueError):
                doc = json.loads(f.read_text(encoding="utf-8"))
                return doc.get(key, {}) if key else doc
    return None


def _is_geff(path: Path) -> bool:
    attrs = _attrs(path) if path.is_dir() else None
    return bool(attrs) and "geff" in attrs


def read_geff(path: str | os.PathLike) -> dict:
    """Read a geff zarr store (any writer's) into arrays.

    Parameters
    ----------
    path : str or os.PathLike
        The store folder: the zarr group whose attributes hold the ``geff`` metadata.

    Returns
    -------
    dict
        ``node_ids`` (n), ``node_props`` (name → values, n), ``node_missing`` (name →
        bool mask, for properties that have one), ``edge_ids`` (m × 2), ``edge_props``,
        ``edge_missing``, ``metadata`` (the geff metadata dict).

    Raises
    ------
    platescope._errors.InputError
        Not a geff store, a property whose length differs from its ids, edges naming
        absent nodes, or variable-length properties (not read by platescope).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from platescope.particles import geff_graph
    >>> tr = pd.DataFrame({"track": [0, 0], "frame": [0, 1], "t_s": [0.0, 5.0], "y_um": 1.0,
    ...                    "x_um": 2.0, "area_um2": 3.0})
    >>> p = write_geff(geff_graph(tr), pathlib.Path(tempfile.mkdtemp()) / "t.geff")
    >>> g = read_geff(p)
    >>> g["node_props"]["t"].tolist(), g["metadata"]["axes"][0]["unit"]
    ([0.0, 5.0], 'second')
    """
    import zarr

    src = Path(path)
    fix = "give the folder written by a geff writer (the zarr group holding the geff metadata)"
    if not src.is_dir() or not _is_geff(src):
        raise InputError(src, "is not a geff store (no zarr group with geff metadata)", fix)
    try:
        root = zarr.open_group(str(src), mode="r")
        meta = dict(root.attrs["geff"])
        out: dict = {"metadata": meta}
        for where, key in (("nodes", "node"), ("edges", "edge")):
            ids = np.asarray(root[f"{where}/ids"][...])
            out[f"{key}_ids"] = ids
            props, missing = {}, {}
            grp = root.get(f"{where}/props")
            pmeta = meta.get(f"{key}_props_metadata") or {}
            for name in sorted(grp.group_keys()) if grp is not None else []:
                if (pmeta.get(name) or {}).get("varlength"):
                    raise InputError(
                        src,
                        f"{key} property {name!r} is variable-length, which platescope "
                        "does not read",
                        "read the store with the geff package",
                    )
                g = grp[name]
                props[name] = np.asarray(g["values"][...])
                if "missing" in g:
                    missing[name] = np.asarray(g["missing"][...], dtype=bool)
                for arr, what in ((props[name], "values"), (missing.get(name), "missing")):
                    if arr is not None and len(arr) != len(ids):
                        raise InputError(
                            src,
                            f"{key} property {name!r} has {len(arr)} {what} for {len(ids)} {where}",
                            "repair or re-export the store",
                        )
            out[f"{key}_props"], out[f"{key}_missing"] = props, missing
    except (KeyError, ValueError, TypeError, OSError) as err:
        raise InputError(src, f"cannot be read as geff ({err})", fix) from None
    edges = out["edge_ids"].reshape(-1, 2)
    out["edge_ids"] = edges
    if edges.size and not np.isin(edges, out["node_ids"]).all():
        raise InputError(src, "has edges naming node ids that are not in nodes/ids", fix)
    return out
