"""Splits, the track graph, deposit families, the TrackMate-style export, family dead Li.

Movies and detections are built here with known events, so every check compares with
what was planted (or with counts made independently of the code under test).
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage

from platescope.particles import (
    dead_li_by_cycle,
    dead_li_by_family,
    deposit_timeseries,
    detect_deposits,
    find_dead_li,
    lineage_events,
    merge_events,
    split_events,
    track_deposits,
    track_graph,
    trackmate_tables,
)

PX = 0.5


def _frame(shapes, *, shape=(96, 112), contrast=0.4, psf_um=0.6, noise=0.0, rng=None):
    """Bright-field frame with dark shapes: ("disk", y, x, r) or ("capsule", y, x0, x1, r)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * PX
    sd = np.full(shape, np.inf)
    for s in shapes:
        if s[0] == "disk":
            _, y, x, r = s
            sd = np.minimum(sd, np.hypot(yy - y, xx - x) - r)
        else:  # a horizontal capsule (lying whisker) from x0 to x1
            _, y, x0, x1, r = s
            dx = np.clip(xx, x0, x1) - xx
            sd = np.minimum(sd, np.hypot(yy - y, dx) - r)
    cov = np.clip(0.5 - sd / PX, 0, 1)
    img = 2000.0 * (1 - ndimage.gaussian_filter(contrast * cov, psf_um / PX))
    if noise:
        img = img + rng.normal(0, noise, shape)
    return img


def _movie(frames):
    frames = np.asarray(frames)
    n, ny, nx = frames.shape
    return xr.DataArray(
        frames,
        dims=("t", "y", "x"),
        coords={"t": np.arange(n) * 10.0, "y": np.arange(ny) * PX, "x": np.arange(nx) * PX},
    )


def _breaking_whisker(n_before=5, n_after=5, *, r_left=3.0, r_right=2.2, noise=0.0, seed=0):
    """A whisker (capsule 10 → 24 µm at y = 20) that breaks into two disks at frame
    ``n_before``; an unrelated disk stays at (36, 40) throughout."""
    rng = np.random.default_rng(seed)
    other = ("disk", 36.0, 40.0, 2.5)
    frames = []
    for _ in range(n_before):
        r = max(r_left, r_right)
        frames.append(_frame([("capsule", 20.0, 10.0, 24.0, r), other], noise=noise, rng=rng))
    for _ in range(n_after):
        parts = [("disk", 20.0, 10.0, r_left), ("disk", 20.0, 24.0, r_right), other]
        frames.append(_frame(parts, noise=noise, rng=rng))
    return _movie(frames)


@pytest.mark.parametrize(("r_left", "r_right"), [(3.0, 2.2), (2.2, 3.0)])
def test_a_breaking_whisker_is_one_split_and_the_larger_part_keeps_the_track(r_left, r_right):
    det = detect_deposits(_breaking_whisker(r_left=r_left, r_right=r_right), threshold=0.1)
    tr = track_deposits(det, search_range_um=3.0)
    ev = split_events(tr)
    assert len(ev) == 1 and merge_events(tr).empty
    e = ev.iloc[0]
    assert int(e["frame"]) == 5  # the first frame after the break
    parent = tr[tr["track"] == e["from_track"]]
    part = tr[tr["track"] == e["track"]]
    assert parent["frame"].min() == 0 and parent["frame"].max() == 9
    assert part["frame"].min() == 5 and part["frame"].max() == 9
    # the parent goes on as the larger part, at its planted position
    larger_x = 10.0 if r_left > r_right else 24.0
    smaller_x = 24.0 if r_left > r_right else 10.0
    assert abs(parent[parent["frame"] >= 5]["x_um"].mean() - larger_x) < 0.5
    assert abs(part["x_um"].mean() - smaller_x) < 0.5
    assert part.sort_values("frame")["split_from"].tolist() == [int(e["from_track"])] + [-1] * 4
    # the unrelated deposit is its own family
    graph = track_graph(tr)
    assert graph["family"].nunique() == 2
    assert set(graph.loc[graph["track"] == e["track"], "start"]) == {"split"}


def test_splits_off_gives_unrelated_tracks():
    det = detect_deposits(_breaking_whisker(), threshold=0.1)
    tr = track_deposits(det, search_range_um=3.0, splits=False)
    assert (tr["split_from"] == -1).all()
    # the whisker's centroid jumps by more than the search range at the break: its
    # track ends and both parts start unrelated tracks, each its own family
    n = tr["track"].nunique()
    assert n == 4 and track_graph(tr)["family"].nunique() == n
    with_splits = track_deposits(det, search_range_um=3.0)
    assert with_splits["track"].nunique() == 3


def test_a_neighbour_nucleating_next_to_a_deposit_is_not_a_split():
    # a deposit growing, and a new one appearing touching its equivalent circle: the
    # deposit did not lose the newcomer's area, so there is no split
    frames = []
    for k in range(8):
        disks = [("disk", 24.0, 20.0, 3.0 + 0.1 * k)]
        if k >= 4:
            disks.append(("disk", 24.0, 28.5, 1.5 + 0.1 * (k - 4)))
        frames.append(_frame(disks))
    tr = track_deposits(detect_deposits(_movie(frames), threshold=0.1), search_range_um=3.0)
    assert split_events(tr).empty and tr["track"].nunique() == 2


def test_noisy_breaks_are_found_every_time():
    # shot-like noise of 2 % of the background, 6 seeds: the one planted split each time
    for seed in range(6):
        mv = _breaking_whisker(noise=40.0, seed=seed)
        tr = track_deposits(detect_deposits(mv, threshold=0.1), search_range_um=3.0)
        ev = split_events(tr)
        assert len(ev) == 1 and int(ev["frame"].iloc[0]) == 5, (seed, ev)


def _graph_detections():
    """Hand-made: track A splits at frame 2 (part B), B merges into C at frame 4; D alone."""
    rows = []
    for f in range(6):
        rows.append((f, 10.0, 10.0, 20.0 if f < 2 else 12.0))  # A
        if f >= 2:
            rows.append((f, 10.0, 13.5 + 0.5 * (f >= 4), 6.0))  # B, drifts towards C
        rows.append((f, 40.0, 40.0, 8.0))  # D
    det = pd.DataFrame(rows, columns=["frame", "y_um", "x_um", "area_um2"])
    det["t_s"] = det["frame"] * 5.0
    return det


def test_graph_events_families_and_parents():
    det = _graph_detections()
    tr = track_deposits(det, search_range_um=1.0)
    ev = lineage_events(tr)
    assert ev["event"].tolist() == ["split"]
    graph = track_graph(tr)
    a = int(tr.loc[(tr["frame"] == 0) & (tr["x_um"] == 10.0), "track"].iloc[0])
    b = int(tr.loc[(tr["frame"] == 2) & (tr["x_um"] == 13.5), "track"].iloc[0])
    d = int(tr.loc[tr["x_um"] == 40.0, "track"].iloc[0])
    g = graph.set_index("track")
    assert g.loc[b, "parent_ids"] == str(a) and g.loc[a, "child_ids"] == str(b)
    assert g.loc[b, "family"] == g.loc[a, "family"] == min(a, b)
    assert g.loc[d, "family"] == d and g.loc[d, "parent_ids"] == ""
    assert g.loc[b, "first_frame"] == 2 and g.loc[a, "n_frames"] == 6


def test_trackmate_tables_hold_every_link_and_event():
    det = _graph_detections()
    tr = track_deposits(det, search_range_um=1.0)
    spots, edges = trackmate_tables(tr)
    assert len(spots) == len(det) and spots["ID"].is_unique
    # links: detections minus tracks (one fewer link than spots per track), computed
    # from the detections' own grouping, plus one edge per split
    n_links = sum(len(g) - 1 for _, g in tr.groupby("track"))
    assert (edges["EVENT"] == "link").sum() == n_links
    assert (edges["EVENT"] == "split").sum() == 1
    by_id = spots.set_index("ID")
    src, dst = by_id.loc[edges["SPOT_SOURCE_ID"]], by_id.loc[edges["SPOT_TARGET_ID"]]
    assert (dst["FRAME"].to_numpy() - src["FRAME"].to_numpy() >= 1).all()
    assert (src["TRACK_ID"].to_numpy() == dst["TRACK_ID"].to_numpy()).all()
    split = edges[edges["EVENT"] == "split"].iloc[0]
    assert by_id.loc[split["SPOT_SOURCE_ID"], "FRAME"] == 1
    assert by_id.loc[split["SPOT_TARGET_ID"], "FRAME"] == 2
    np.testing.assert_allclose(spots["RADIUS"], np.sqrt(spots["AREA"] / np.pi))


def test_empty_and_legacy_tracks():
    empty = track_deposits(_graph_detections().iloc[:0], search_range_um=1.0)
    assert track_graph(empty).empty and split_events(empty).empty
    legacy = pd.DataFrame({"track": [0, 0], "frame": [0, 1], "t_s": [0.0, 1.0]})
    assert split_events(legacy).empty and lineage_events(legacy).empty
    with pytest.raises(ValueError, match="track_deposits"):
        track_graph(pd.DataFrame({"frame": [0]}))


# --------------------------------------------------------------- family dead Li
def _family_timeseries():
    """A deposit grows to 100 µm³ while plating (0–100 s), shrinks in stripping and breaks
    at 130 s into a live part (goes on shrinking) and a dead part frozen at 25 µm³;
    a lone deposit (family of its own) shrinks the whole step."""
    t = np.arange(0.0, 205.0, 5.0)
    whole = np.where(t <= 100, t, 100 - 0.5 * (t - 100))  # 100 → 85 at the break
    live = np.where(t <= 130, whole - 25.0, 60 - 0.4 * (t - 130))
    rows = []
    for k, tt in enumerate(t):
        if tt <= 130:
            rows.append((0, k, tt, whole[k]))
        else:
            rows.append((0, k, tt, live[k]))
            rows.append((1, k, tt, 25.0))
        rows.append((2, k, tt, max(1.0, 0.8 * tt) if tt <= 100 else 80 - 0.3 * (tt - 100)))
    ts = pd.DataFrame(rows, columns=["track", "frame", "t_s", "volume_um3"])
    ts["family"] = ts["track"].map({0: 0, 1: 0, 2: 2})
    ts["volume_err_um3"] = 0.2
    ts["merged_into"] = -1
    echem = pd.DataFrame({"time_s": t, "current_A": np.where(t < 100, -1e-3, 1e-3)})
    return ts, echem


def test_family_dead_fraction_is_the_dead_part_over_the_whole_deposit():
    ts, echem = _family_timeseries()
    per = find_dead_li(ts, echem)
    status = dict(zip(per["track"], per["status"], strict=True))
    assert status == {0: "live", 1: "dead", 2: "live"}
    fam = dead_li_by_family(per, ts).set_index("family")
    # planted: the whole deposit peaked at 100 µm³ (95, 100, 97.5 around the peak: the
    # 3-frame running median of the rule gives 97.5), its dead part holds 25 µm³
    assert fam.loc[0, "v_max_um3"] == pytest.approx(97.5, abs=1e-9)
    assert fam.loc[0, "v_dead_um3"] == pytest.approx(25.0, abs=0.1)
    assert fam.loc[0, "dead_fraction"] == pytest.approx(25.0 / 97.5, abs=0.002)
    assert fam.loc[0, "status"] == "dead" and fam.loc[0, "tracks"] == "0 1"
    assert fam.loc[2, "status"] == "live" and fam.loc[2, "dead_fraction"] == 0.0
    # the per-deposit view sees the dead part only after the break: ratio ≈ 1
    row = per[per["track"] == 1].iloc[0]
    assert row["v_dead_um3"] / row["v_max_um3"] == pytest.approx(1.0, abs=0.01)


def test_family_level_counts_and_line():
    ts, echem = _family_timeseries()
    per = find_dead_li(ts, echem)
    by_dep = dead_li_by_cycle(per, min_dead=1)
    by_fam = dead_li_by_cycle(per, min_dead=1, level="family", timeseries=ts)
    assert by_dep["n_deposits"].iloc[0] == 3 and by_dep["n_dead"].iloc[0] == 1
    assert by_fam["n_deposits"].iloc[0] == 2 and by_fam["n_dead"].iloc[0] == 1
    # ΣV_dead / ΣV_max over the two families: 25 / (97.5 + 80 (the lone one's peak))
    assert by_fam["dead_volume_fraction"].iloc[0] == pytest.approx(25.0 / 177.5, rel=0.01)
    with pytest.raises(ValueError, match="timeseries"):
        dead_li_by_cycle(per, level="family")
    with pytest.raises(ValueError, match="level"):
        dead_li_by_cycle(per, level="cell")


def test_timeseries_carries_families_from_the_tracks():
    tr = track_deposits(_graph_detections(), search_range_um=1.0)
    ts = deposit_timeseries(tr)
    fam = track_graph(tr).set_index("track")["family"]
    assert (ts["family"].to_numpy() == fam.loc[ts["track"]].to_numpy()).all()
