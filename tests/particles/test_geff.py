"""Tracks exported as geff: the graph (particles.geff_graph) and the store (io.write_geff,
io.read_geff).

The tracks are planted by hand (a deposit that splits, one that merges into it, one
alone), so every expected edge, tracklet and lineage is written down from the plant,
not from the code. Stores are read back with platescope's zarr reader always, and with
the geff reference implementation (its structure validator and networkx reader) when
the optional ``geff`` package is installed (skipped otherwise).
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from platescope._errors import InputError
from platescope.io import read_geff, write_geff
from platescope.particles import geff_graph

# (track, frame): track 0 lives frames 0-3; track 1 breaks off 0 at frame 2; track 2
# (frames 0-2) is absorbed by 0 at frame 3; track 3 is alone (frames 1-2).
ROWS = [(0, f) for f in range(4)] + [(1, 2), (1, 3), (1, 4)]
ROWS += [(2, 0), (2, 1), (2, 2), (3, 1), (3, 2)]
PLANTED_EDGES = {
    ((0, 0), (0, 1), "link"),
    ((0, 1), (0, 2), "link"),
    ((0, 2), (0, 3), "link"),
    ((1, 2), (1, 3), "link"),
    ((1, 3), (1, 4), "link"),
    ((2, 0), (2, 1), "link"),
    ((2, 1), (2, 2), "link"),
    ((3, 1), (3, 2), "link"),
    ((0, 1), (1, 2), "split"),  # the parent's last spot before the part's first
    ((2, 2), (0, 3), "merge"),  # the absorbed track's last spot → the survivor's next
}
# geff tracklets: chains of in/out degree 1; node (0, 1) has two children and (0, 3)
# two parents, so track 0 is cut there
PLANTED_TRACKLETS = [
    {(0, 0), (0, 1)},
    {(0, 2)},
    {(0, 3)},
    {(1, 2), (1, 3), (1, 4)},
    {(2, 0), (2, 1), (2, 2)},
    {(3, 1), (3, 2)},
]
PLANTED_LINEAGES = [{r for r in ROWS if r[0] in (0, 1, 2)}, {(3, 1), (3, 2)}]


def planted_tracks(seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tr = pd.DataFrame(ROWS, columns=["track", "frame"])
    tr["t_s"] = tr["frame"] * 2.5 + 1.0
    tr["y_um"] = rng.uniform(0, 50, len(tr))
    tr["x_um"] = rng.uniform(0, 50, len(tr))
    tr["area_um2"] = rng.uniform(1, 20, len(tr))
    tr["merged_into"] = -1
    tr["split_from"] = -1
    tr.loc[(tr["track"] == 2) & (tr["frame"] == 2), "merged_into"] = 0
    tr.loc[(tr["track"] == 1) & (tr["frame"] == 2), "split_from"] = 0
    return tr.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # any row order


def _key(g):
    return list(
        zip(g["node_props"]["track"].tolist(), g["node_props"]["frame"].tolist(), strict=True)
    )


def _partition(keys, labels):
    groups = {}
    for k, lab in zip(keys, labels, strict=True):
        groups.setdefault(int(lab), set()).add(k)
    return sorted(groups.values(), key=min)


def test_nodes_edges_and_event_kinds_are_the_planted_graph():
    tr = planted_tracks()
    g = geff_graph(tr)
    keys = _key(g)
    assert sorted(keys) == sorted(ROWS) and g["node_ids"].dtype == np.uint64
    assert np.array_equal(g["node_ids"], np.arange(len(ROWS)))
    src, dst = g["edge_ids"].T
    found = {
        (keys[a], keys[b], k) for a, b, k in zip(src, dst, g["edge_props"]["event"], strict=True)
    }
    assert found == PLANTED_EDGES and len(g["edge_ids"]) == len(PLANTED_EDGES)
    # node values are the rows' own (matched by track and frame)
    by_key = tr.set_index(["track", "frame"])
    for prop, col in (("t", "t_s"), ("y", "y_um"), ("x", "x_um"), ("area_um2", "area_um2")):
        np.testing.assert_array_equal(g["node_props"][prop], by_key.loc[keys, col].to_numpy())
    np.testing.assert_allclose(
        g["node_props"]["radius_um"] ** 2 * np.pi, g["node_props"]["area_um2"]
    )
    t = g["node_props"]["t"]
    np.testing.assert_array_equal(g["edge_props"]["dt_s"], t[dst] - t[src])
    assert (g["edge_props"]["dt_s"] > 0).all()  # directed forward in time


def test_tracklets_and_lineages_follow_the_geff_definitions():
    g = geff_graph(planted_tracks(seed=3))
    keys = _key(g)
    assert _partition(keys, g["node_props"]["tracklet"]) == sorted(PLANTED_TRACKLETS, key=min)
    assert _partition(keys, g["node_props"]["lineage"]) == sorted(PLANTED_LINEAGES, key=min)
    # platescope's family (TrackMate TRACK_ID) is the same partition
    assert _partition(keys, g["node_props"]["family"]) == sorted(PLANTED_LINEAGES, key=min)


def test_metadata_states_axes_units_and_every_property():
    g = geff_graph(planted_tracks())
    m = g["metadata"]
    assert m["directed"] is True and m["geff_version"] == "1.3"
    axes = {a["name"]: a for a in m["axes"]}
    assert (axes["t"]["type"], axes["t"]["unit"]) == ("time", "second")
    assert (axes["x"]["type"], axes["x"]["unit"]) == ("space", "micrometer")
    t = planted_tracks()["t_s"]
    assert (axes["t"]["min"], axes["t"]["max"]) == (t.min(), t.max())
    assert set(m["node_props_metadata"]) == set(g["node_props"])
    assert set(m["edge_props_metadata"]) == set(g["edge_props"])
    assert m["edge_props_metadata"]["event"]["dtype"] == "str"
    assert m["node_props_metadata"]["frame"]["dtype"] == "int64"
    assert m["track_node_props"] == {"tracklet": "tracklet", "lineage": "lineage"}


def test_metadata_validates_against_geff_spec():
    geff_spec = pytest.importorskip("geff_spec")
    meta = geff_spec.GeffMetadata.model_validate(geff_graph(planted_tracks())["metadata"])
    assert meta.directed and [a.name for a in meta.axes] == ["t", "y", "x"]


def test_empty_and_eventless_tracks():
    empty = planted_tracks().iloc[:0]
    g = geff_graph(empty)
    assert g["node_ids"].shape == (0,) and g["edge_ids"].shape == (0, 2)
    assert all(len(v) == 0 for v in g["edge_props"].values())
    assert "min" not in g["metadata"]["axes"][0]
    # tracks made without merge/split columns: links only
    plain = planted_tracks().drop(columns=["merged_into", "split_from"])
    g = geff_graph(plain)
    assert set(g["edge_props"]["event"]) == {"link"}
    assert len(g["edge_ids"]) == len(ROWS) - plain["track"].nunique()
    with pytest.raises(ValueError, match="track_deposits"):
        geff_graph(plain.drop(columns=["area_um2"]))


# ------------------------------------------------------------- the store
def _same_graph(a, b):
    assert np.array_equal(a["node_ids"], b["node_ids"])
    assert np.array_equal(a["edge_ids"], b["edge_ids"])
    for key in ("node_props", "edge_props"):
        assert set(a[key]) == set(b[key])
        for name, v in a[key].items():
            assert np.asarray(b[key][name]).dtype == np.asarray(v).dtype, name
            np.testing.assert_array_equal(b[key][name], v)
    assert json.loads(json.dumps(a["metadata"])) == b["metadata"]


def test_round_trip_keeps_the_planted_graph(tmp_path):
    g = geff_graph(planted_tracks())
    path = write_geff(g, tmp_path / "tracks.geff")
    assert path == tmp_path / "tracks.geff" and (path / ".zattrs").is_file()
    back = read_geff(path)
    _same_graph(g, back)
    assert back["node_missing"] == {} and back["edge_missing"] == {}
    # the planted events, found in the file alone
    keys = list(
        zip(back["node_props"]["track"].tolist(), back["node_props"]["frame"].tolist(), strict=True)
    )
    found = {
        (keys[a], keys[b], k)
        for (a, b), k in zip(back["edge_ids"], back["edge_props"]["event"], strict=True)
    }
    assert found == PLANTED_EDGES
    # nothing but the store is left in the folder (no temp folder)
    assert [p.name for p in tmp_path.iterdir()] == ["tracks.geff"]


def test_the_geff_reference_implementation_reads_the_same_graph(tmp_path):
    geff = pytest.importorskip("geff")
    g = geff_graph(planted_tracks())
    path = write_geff(g, tmp_path / "tracks.geff")
    geff.validate_structure(str(path))
    nxg, meta = geff.read(str(path))
    assert nxg.is_directed() and meta.directed
    keys = {int(n): (d["track"], d["frame"]) for n, d in nxg.nodes(data=True)}
    assert sorted(keys.values()) == sorted(
        zip(g["node_props"]["track"].tolist(), g["node_props"]["frame"].tolist(), strict=True)
    )
    found = {(keys[int(a)], keys[int(b)], d["event"]) for a, b, d in nxg.edges(data=True)}
    assert found == PLANTED_EDGES
    assert [(a.name, a.unit) for a in meta.axes] == [
        ("t", "second"),
        ("y", "micrometer"),
        ("x", "micrometer"),
    ]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_store_written_by_geff_reads_with_platescope(tmp_path, zarr_format):
    geff = pytest.importorskip("geff")
    nx = pytest.importorskip("networkx")
    g = nx.DiGraph()
    g.add_node(3, t=0.0, y=1.0, x=2.0)
    g.add_node(7, t=1.0, y=1.5, x=2.5)
    g.add_node(9, t=1.0, y=4.0, x=0.5)
    g.add_edge(3, 7, score=0.9)
    g.add_edge(3, 9, score=0.4)
    geff.write(g, str(tmp_path / "g.geff"), axis_names=["t", "y", "x"], zarr_format=zarr_format)
    back = read_geff(tmp_path / "g.geff")
    order = np.argsort(back["node_ids"])
    assert back["node_ids"][order].tolist() == [3, 7, 9]
    assert back["node_props"]["y"][order].tolist() == [1.0, 1.5, 4.0]
    edges = {
        tuple(e): s
        for e, s in zip(back["edge_ids"].tolist(), back["edge_props"]["score"], strict=True)
    }
    assert edges == {(3, 7): 0.9, (3, 9): 0.4}


def test_empty_tracks_make_an_empty_valid_store(tmp_path):
    g = geff_graph(planted_tracks().iloc[:0])
    back = read_geff(write_geff(g, tmp_path / "empty.geff"))
    assert back["node_ids"].shape == (0,) and back["edge_ids"].shape == (0, 2)
    assert back["node_props"]["t"].shape == (0,)
    try:
        import geff
    except ImportError:
        return
    geff.validate_structure(str(tmp_path / "empty.geff"))


def test_rewrite_replaces_a_store_and_refuses_other_folders(tmp_path):
    tr = planted_tracks()
    path = write_geff(geff_graph(tr), tmp_path / "t.geff")
    smaller = tr[tr["track"] == 3]
    write_geff(geff_graph(smaller), path)
    assert len(read_geff(path)["node_ids"]) == len(smaller)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.geff"]
    other = tmp_path / "data"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not a geff store"):
        write_geff(geff_graph(tr), other)
    assert (other / "keep.txt").read_text() == "mine"


def test_a_failed_write_leaves_the_old_store_and_no_temp_folder(tmp_path, monkeypatch):
    from platescope.io import _geff

    path = write_geff(geff_graph(planted_tracks()), tmp_path / "t.geff")
    calls = []

    def boom(group, name, data):
        calls.append(name)
        if len(calls) == 5:
            raise OSError("disk full")
        return real(group, name, data)

    real = _geff._put
    monkeypatch.setattr(_geff, "_put", boom)
    with pytest.raises(OSError, match="disk full"):
        write_geff(geff_graph(planted_tracks().iloc[:3]), path)
    assert len(read_geff(path)["node_ids"]) == len(planted_tracks())
    assert sorted(os.listdir(tmp_path)) == ["t.geff"]


def test_bad_stores_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not a geff store"):
        read_geff(tmp_path / "absent.geff")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a geff store"):
        read_geff(tmp_path / "plain")
    g = geff_graph(planted_tracks())
    bad = dict(g, edge_ids=g["edge_ids"].copy())
    bad["edge_ids"][0, 1] = 999  # an edge to a node that does not exist
    with pytest.raises(InputError, match="not in nodes/ids"):
        read_geff(write_geff(bad, tmp_path / "dangling.geff"))
    with pytest.raises(ValueError, match="has 2 values"):
        write_geff(dict(g, node_props={**g["node_props"], "t": np.zeros(2)}), tmp_path / "x")
    # a property array cut short on disk
    import zarr

    p = write_geff(g, tmp_path / "cut.geff")
    root = zarr.open_group(str(p), mode="a")
    del root["nodes/props/x/values"]
    root.create_array("nodes/props/x/values", shape=(2,), dtype="f8", chunks=(2,))
    with pytest.raises(InputError, match="has 2 values"):
        read_geff(p)
