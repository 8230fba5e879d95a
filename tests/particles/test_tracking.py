"""Deposit detection through a movie, linking, merges and per-deposit time series.

Detections and movies are built here with known identities, so every check compares
against what was planted.
"""

import math

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage, stats

from platescope import InputError
from platescope.particles import (
    deposit_timeseries,
    detect_deposits,
    effective_volume_um3,
    merge_events,
    track_deposits,
)

PX = 0.5


def _movie(frames, times=None):
    frames = np.asarray(frames)
    n, ny, nx = frames.shape
    return xr.DataArray(
        frames,
        dims=("t", "y", "x"),
        coords={
            "t": np.arange(n) * 10.0 if times is None else np.asarray(times, float),
            "y": np.arange(ny) * PX,
            "x": np.arange(nx) * PX,
        },
    )


def _render(disks, *, shape=(96, 96), contrast=0.4, psf_um=0.6, noise=0.0, rng=None):
    """Bright-field frame: background 2000 counts, dark disks (y, x, r[, contrast]) in µm."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * PX
    dark = np.zeros(shape)
    for d in disks:
        y, x, r = d[:3]
        c = d[3] if len(d) > 3 else contrast
        cov = np.clip(0.5 + (r - np.hypot(yy - y, xx - x)) / PX, 0, 1)
        dark += c * cov
    dark = ndimage.gaussian_filter(dark, psf_um / PX)
    img = 2000.0 * (1 - dark)
    if noise:
        img = img + rng.normal(0, noise, shape)
    return img


# ------------------------------------------------------------------ detection
def test_detected_areas_match_the_drawn_disks():
    radii = [1.5, 2.5, 4.0]
    frame = _render([(12, 12, radii[0]), (12, 32, radii[1]), (32, 20, radii[2])])
    det = detect_deposits(_movie([frame, frame]), threshold=0.1)
    assert det["frame"].tolist() == [0, 0, 0, 1, 1, 1]
    got = det[det.frame == 0].sort_values("area_um2")["area_um2"].to_numpy()
    true = np.pi * np.array(radii) ** 2
    # the half-maximum outline of a blurred disk sits on its edge; pixelation of the
    # outline (± half a pixel along it) bounds the error: |ΔA| ≲ perimeter·px/2
    tol = 2 * np.pi * np.array(radii) * PX / 2
    assert np.all(np.abs(got - true) <= tol), (got, true)
    assert det.attrs["threshold"] == 0.1 and det.attrs["edge"] == "half-max"


def test_half_max_outline_does_not_depend_on_darkness():
    r = 3.0
    frame = _render([(12, 12, r, 0.25), (12, 34, r, 0.6)])
    half = detect_deposits(_movie([frame]), threshold=0.08).sort_values("x_um")
    thr = detect_deposits(_movie([frame]), threshold=0.08, edge="threshold").sort_values("x_um")
    a_half = half["area_um2"].to_numpy()
    a_thr = thr["area_um2"].to_numpy()
    assert abs(a_half[0] - a_half[1]) <= 1.0  # ≤ 4 pixels apart
    assert a_thr[1] - a_thr[0] > 4.0  # a fixed threshold draws the darker one larger


def test_auto_threshold_and_centroids_in_movie_coordinates():
    frames = [_render([(10.0, 15.0, 2.0 + 0.2 * k)]) for k in range(6)]
    mv = _movie(frames)
    mv = mv.assign_coords(x=mv.x + 100.0, y=mv.y + 50.0)  # a cropped field
    det = detect_deposits(mv)
    assert len(det) == 6
    assert np.allclose(det["y_um"], 60.0, atol=0.1)
    assert np.allclose(det["x_um"], 115.0, atol=0.1)
    assert 0.05 < det.attrs["threshold"] < 0.4


def test_dask_backed_movie_gives_the_same_detections():
    rng = np.random.default_rng(1)
    frames = np.array(
        [_render([(12, 12, 2.5), (30, 30, 3.0)], noise=20.0, rng=rng) for _ in range(7)]
    )
    eager = detect_deposits(_movie(frames), threshold=0.1, frames_per_chunk=3)
    lazy_mv = _movie(da.from_array(frames, chunks=(2, 96, 96)))
    lazy = detect_deposits(lazy_mv, threshold=0.1, frames_per_chunk=3)
    pd.testing.assert_frame_equal(eager, lazy)


def test_frames_in_threads_give_the_serial_table(monkeypatch):
    """workers=2 analyses the frames of a chunk side by side: the same table as one
    thread (rows in frame order), and the planted growing disks are found."""
    import threading

    import platescope.particles._deposit_frames as frames_mod

    rng = np.random.default_rng(3)
    frames = np.array(
        [
            _render(
                [(12, 12, 1.5 + 0.1 * k), (30, 30, 2.0 + 0.1 * k), (12, 34, 2.5)],
                noise=20.0,
                rng=rng,
            )
            for k in range(11)
        ]
    )
    serial = detect_deposits(_movie(frames), threshold=0.1, frames_per_chunk=4, workers=1)
    seen = set()
    real = frames_mod.segment_particles

    def spy(*a, **k):
        seen.add(threading.current_thread().name)
        return real(*a, **k)

    monkeypatch.setattr(frames_mod, "segment_particles", spy)
    threaded = detect_deposits(_movie(frames), threshold=0.1, frames_per_chunk=4, workers=2)
    assert any(name.startswith("platescope-frames") for name in seen)
    pd.testing.assert_frame_equal(serial, threaded)
    assert serial.groupby("frame").size().tolist() == [3] * 11
    with pytest.raises(ValueError, match="workers"):
        detect_deposits(_movie(frames[:2]), threshold=0.1, workers=0)


def test_frames_in_processes_give_the_serial_table():
    """pool="process" runs the frames in worker processes: the same table as one thread,
    and the planted disks (three per frame) are found."""
    rng = np.random.default_rng(5)
    frames = np.array(
        [
            _render(
                [(12, 12, 1.5 + 0.1 * k), (30, 30, 2.0 + 0.1 * k), (12, 34, 2.5)],
                noise=20.0,
                rng=rng,
            )
            for k in range(9)
        ]
    )
    serial = detect_deposits(_movie(frames), threshold=0.1, frames_per_chunk=4, workers=1)
    procs = detect_deposits(
        _movie(frames), threshold=0.1, frames_per_chunk=4, workers=2, pool="process"
    )
    pd.testing.assert_frame_equal(serial, procs)
    assert serial.groupby("frame").size().tolist() == [3] * 9
    with pytest.raises(ValueError, match="pool"):
        detect_deposits(_movie(frames[:2]), threshold=0.1, workers=2, pool="fork")


def test_blocks_of_frames_measure_as_each_frame_alone():
    """The pool measures blocks of frames as one stacked label image: the table equals
    the engine's own frame-by-frame result (segment_particles + measure_particles on
    each contrast frame, computed here from the formula), whatever the blocks."""
    from platescope.particles import measure_particles, segment_particles

    rng = np.random.default_rng(11)
    disks = [(10, 10, 1.2), (30, 12, 2.0), (20, 36, 2.6), (40, 40, 1.6)]
    frames = np.array(
        [
            _render([(y, x, r + 0.15 * k) for y, x, r in disks[: 1 + k % 4]], noise=15, rng=rng)
            for k in range(10)
        ]
    )
    frames[6] = 2000.0  # a frame without deposits inside a block
    movie = _movie(frames, times=np.cumsum(np.r_[0.0, rng.uniform(1, 9, 9)]))
    sigma_px = 0.5 / PX
    want = []
    for k, f in enumerate(frames):
        f32 = f.astype(np.float32)
        c = ndimage.gaussian_filter(
            1 - f32 / np.median(f32),
            sigma_px,
            mode="nearest",
        )
        lab = segment_particles(
            c, spacing=PX, method="fixed", threshold=0.1, watershed=False, min_area_um2=2.0
        )
        t = measure_particles(lab, c, spacing=PX)
        t.insert(0, "t_s", float(movie["t"][k]))
        t.insert(0, "frame", k)
        want.append(t[t["area_um2"] >= 2.0])
    want = pd.concat(want, ignore_index=True)
    for chunk, workers in ((1, 1), (4, 1), (7, 3), (10, 2)):
        got = detect_deposits(
            movie, threshold=0.1, edge="threshold", frames_per_chunk=chunk, workers=workers
        )
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        half = detect_deposits(movie, threshold=0.1, frames_per_chunk=chunk, workers=workers)
        if chunk == 1:
            first = half
        pd.testing.assert_frame_equal(half, first, check_exact=True)
    assert want.groupby("frame").size().reindex(range(10), fill_value=0).tolist() == [
        1, 2, 3, 4, 1, 2, 0, 4, 1, 2
    ]  # fmt: skip


def test_bright_deposits():
    frame = 4000.0 - _render([(20, 20, 3.0)])  # deposits brighter than the background
    det = detect_deposits(_movie([frame]), polarity="bright", threshold=0.1)
    assert len(det) == 1
    assert abs(det["area_um2"].iloc[0] - np.pi * 9) <= np.pi * 3 * PX


def test_bad_movies_are_input_errors():
    with pytest.raises(InputError, match=r"\(t, y, x\) DataArray"):
        detect_deposits(np.zeros((3, 8, 8)))
    frames = np.zeros((3, 8, 8))
    with pytest.raises(InputError, match="strictly increasing") as err:
        detect_deposits(_movie(frames, times=[0.0, 2.0, 1.0]))
    assert "frame_times" in str(err.value)


# ------------------------------------------------------------------ tracking
def _static_scene(rng, n=30, n_frames=40, drift=(0.05, -0.03), noise=0.15):
    """Detections of n deposits that appear, grow and (some) vanish, with stage drift."""
    grid = np.array([(20.0 * i, 20.0 * j) for i in range(1, 10) for j in range(1, 10)])
    pos = grid[rng.choice(len(grid), n, replace=False)] + rng.uniform(-4, 4, (n, 2))
    start = rng.integers(0, 10, n)
    stop = np.where(rng.random(n) < 0.3, rng.integers(20, 35, n), n_frames)
    rows = []
    for f in range(n_frames):
        for i in range(n):
            if start[i] <= f < stop[i]:
                y, x = pos[i] + np.array(drift) * f + rng.normal(0, noise, 2)
                rows.append((f, 5.0 * f, y, x, 3.0 + 0.3 * (f - start[i]), i))
    return pd.DataFrame(rows, columns=["frame", "t_s", "y_um", "x_um", "area_um2", "truth"])


def test_links_follow_the_planted_deposits():
    rng = np.random.default_rng(7)
    det = _static_scene(rng)
    tr = track_deposits(det, search_range_um=2.0)
    assert tr["merged_into"].eq(-1).all()
    # every track holds one planted deposit and every deposit one track
    per_track = tr.groupby("track")["truth"].nunique()
    per_truth = tr.groupby("truth")["track"].nunique()
    assert per_track.max() == 1 and per_truth.max() == 1
    assert tr["track"].nunique() == det["truth"].nunique()
    # ids in order of appearance
    firsts = tr.groupby("track")["frame"].min().sort_index().to_numpy()
    assert np.all(np.diff(firsts) >= 0)


def test_memory_bridges_a_missed_frame_only():
    rows = [(f, float(f), 10.0, 10.0, 5.0) for f in range(10) if f != 4]
    rows += [(f, float(f), 30.0, 30.0, 5.0) for f in range(10) if f not in (4, 5, 6)]
    det = pd.DataFrame(rows, columns=["frame", "t_s", "y_um", "x_um", "area_um2"])
    tr = track_deposits(det, search_range_um=1.0, memory=1)
    assert tr[tr.y_um == 10.0]["track"].nunique() == 1  # one missed frame: same track
    assert tr[tr.y_um == 30.0]["track"].nunique() == 2  # three missed frames: a new track


def _pair_detections(r_a, r_b, *, n_before=4, n_after=3):
    """Two touching disks (radii r_a, r_b µm) that become one object at frame n_before."""
    ya, xa = 20.0, 20.0
    yb, xb = 20.0, 20.0 + r_a + r_b
    a_a, a_b = np.pi * r_a**2, np.pi * r_b**2
    cy = ya
    cx = (xa * a_a + xb * a_b) / (a_a + a_b)
    rows = []
    for f in range(n_before):
        rows.append((f, 10.0 * f, ya, xa, a_a, "a"))
        rows.append((f, 10.0 * f, yb, xb, a_b, "b"))
    for f in range(n_before, n_before + n_after):
        rows.append((f, 10.0 * f, cy, cx, 1.08 * (a_a + a_b), "ab"))
    return pd.DataFrame(rows, columns=["frame", "t_s", "y_um", "x_um", "area_um2", "who"])


@pytest.mark.parametrize(
    ("r_a", "r_b", "search"),
    [
        (3.0, 1.5, 3.0),  # the linker continues the larger one (centroid closer)
        (3.0, 3.0, 1.0),  # centroid jump > search range: the merged object is new
        (2.0, 3.2, 3.0),  # the larger is the second one
    ],
)
def test_merge_recorded_with_the_larger_deposit_surviving(r_a, r_b, search):
    det = _pair_detections(r_a, r_b)
    tr = track_deposits(det, search_range_um=search)
    ev = merge_events(tr)
    assert len(ev) == 1
    big, small = ("a", "b") if r_a >= r_b else ("b", "a")
    id_big = tr.loc[tr.who == big, "track"].unique()
    id_small = tr.loc[tr.who == small, "track"].unique()
    assert len(id_big) == 1 and len(id_small) == 1
    # the merged object carries the larger deposit's id; the smaller one ends merged
    assert set(tr.loc[tr.who == "ab", "track"]) == {id_big[0]}
    assert ev["track"].iloc[0] == id_small[0] and ev["into_track"].iloc[0] == id_big[0]
    assert ev["frame"].iloc[0] == 3
    assert tr["track"].nunique() == 2


def test_no_merge_when_the_area_is_not_conserved():
    det = _pair_detections(3.0, 1.5)
    det.loc[det.who == "ab", "area_um2"] = np.pi * 3.0**2  # the small one just vanished
    tr = track_deposits(det, search_range_um=3.0)
    assert merge_events(tr).empty


def test_track_deposits_needs_the_columns():
    with pytest.raises(ValueError, match="area_um2"):
        track_deposits(
            pd.DataFrame({"frame": [0], "t_s": [0.0], "y_um": [1.0], "x_um": [1.0]}),
            search_range_um=1.0,
        )
    empty = pd.DataFrame(columns=["frame", "t_s", "y_um", "x_um", "area_um2"])
    assert track_deposits(empty, search_range_um=1.0).empty


# ------------------------------------------------------------------ time series
def test_effective_volume_shapes():
    r = np.array([0.5, 1.0, 4.0])
    a = np.pi * r**2
    assert np.allclose(effective_volume_um3(a), 2 / 3 * np.pi * r**3)
    assert np.allclose(effective_volume_um3(a, shape="cylinder", height_um=2.5), a * 2.5)
    with pytest.raises(ValueError, match="height_um"):
        effective_volume_um3(a, shape="cylinder")
    with pytest.raises(ValueError, match="shape"):
        effective_volume_um3(a, shape="cone")


def test_timeseries_volume_and_its_noise():
    rng = np.random.default_rng(3)
    t = np.arange(200) * 5.0
    a_true = 20 + 10 * np.sin(t / 300.0)  # smooth growth and shrinkage
    sigma_a = 0.4
    a = a_true + rng.normal(0, sigma_a, t.size)
    tracks = pd.DataFrame(
        {"track": 0, "frame": np.arange(t.size), "t_s": t, "area_um2": a, "merged_into": -1}
    )
    ts = deposit_timeseries(tracks)
    r = np.sqrt(a / np.pi)
    assert np.allclose(ts["radius_um"], r)
    assert np.allclose(ts["volume_um3"], 2 / 3 * np.pi * r**3)
    # the robust noise estimate: within 4 standard errors of a 200-point sd estimate
    est = ts["area_noise_um2"].iloc[0]
    assert abs(est / sigma_a - 1) < 4 * 0.08
    # propagated volume error: dV/dA = 3r/2·… = 1.5·V/A for a hemisphere
    assert np.allclose(ts["volume_err_um3"], 1.5 * ts["volume_um3"] / a * est)
    cyl = deposit_timeseries(tracks, shape="cylinder", height_um=2.0)
    assert np.allclose(cyl["volume_um3"], 2.0 * a)
    assert cyl.attrs["shape"] == "cylinder"


def test_end_to_end_on_a_rendered_movie_with_a_merge():
    """Render growing disks (two grow into each other), detect, track, check the truth."""
    rng = np.random.default_rng(5)
    n_frames = 16
    frames, radii = [], []
    for f in range(n_frames):
        r = 1.2 + 0.18 * f
        disks = [(12.0, 10.0, r), (12.0, 10.0 + 2 * 1.2 + 2 * 0.18 * 9, r * 0.8), (34.0, 30.0, r)]
        frames.append(_render(disks, noise=25.0, rng=rng))
        radii.append(r)
    det = detect_deposits(_movie(frames), threshold=0.12)
    tr = track_deposits(det, search_range_um=2.0)
    ev = merge_events(tr)
    assert len(ev) == 1
    # the lone deposit: one track through all frames, growing like the planted disk
    lone = tr[tr.y_um > 25]
    assert lone["track"].nunique() == 1 and len(lone) == n_frames
    true_area = np.pi * np.array(radii) ** 2
    rel = lone.sort_values("frame")["area_um2"].to_numpy() / true_area - 1
    assert np.all(np.abs(rel[3:]) < 0.15)
    # the merge happens when the two outlines touch (they touch at frame 9; the blur
    # joins them up to ~2 frames earlier)
    assert 7 <= ev["frame"].iloc[0] + 1 <= 10
    corr = stats.spearmanr(np.arange(n_frames), lone.sort_values("frame")["area_um2"])
    assert corr.statistic > 0.99
    assert math.isfinite(deposit_timeseries(tr)["volume_um3"].sum())


def test_auto_threshold_finds_nothing_in_a_field_without_deposits():
    rng = np.random.default_rng(4)
    texture = ndimage.gaussian_filter(rng.standard_normal((96, 96)), 10)
    background = 2000.0 * (1 + 0.03 * texture / texture.std())
    frames = [background + rng.normal(0, 45, background.shape) for _ in range(6)]
    det = detect_deposits(_movie(frames))
    assert det.empty
    # the same field with deposits: the Otsu cut is used and finds them
    frames[3:] = [f - 900.0 * (np.hypot(*np.mgrid[-48:48, -48:48]) < 8) for f in frames[3:]]
    det = detect_deposits(_movie(frames))
    assert len(det) == 3 and det["frame"].tolist() == [3, 4, 5]


# ------------------------------------------------------------ speed on real time
def _moving_and_jumping():
    """Deposit A moves at 0.2 µm/s along x through irregular frame times; deposit B sits
    at (30, 30) until t = 30 s and a different deposit C appears 4 µm away 1 s later."""
    t = np.array([0.0, 10.0, 12.0, 30.0, 31.0, 60.0])
    rows = []
    for f, tt in enumerate(t):
        rows.append((f, tt, 10.0, 5.0 + 0.2 * tt, 6.0, "A"))
        if tt <= 30.0:
            rows.append((f, tt, 30.0, 30.0, 6.0, "B"))
        else:
            rows.append((f, tt, 30.0, 34.0, 6.0, "C"))
    return pd.DataFrame(rows, columns=["frame", "t_s", "y_um", "x_um", "area_um2", "who"])


def test_search_range_from_a_speed_on_the_real_time_axis():
    det = _moving_and_jumping()
    # a per-frame range of 3 µm cuts A's track at its steps of 3.6 and 5.8 µm (the
    # long intervals), although A never moves faster than 0.2 µm/s
    per_frame = track_deposits(det, search_range_um=3.0, splits=False)
    assert per_frame.loc[per_frame["who"] == "A", "track"].nunique() == 3
    # speed limit 0.25 µm/s (> A's 0.2) with a 0.5 µm floor: A is one track, and the
    # 4 µm jump in 1 s (4 µm/s) is not a link
    by_speed = track_deposits(det, max_speed_um_s=0.25, search_range_um=0.5, splits=False)
    assert by_speed.loc[by_speed["who"] == "A", "track"].nunique() == 1
    b = set(by_speed.loc[by_speed["who"] == "B", "track"])
    c = set(by_speed.loc[by_speed["who"] == "C", "track"])
    assert len(b) == 1 and len(c) == 1 and b != c
    # the linker's reach is speed × the longest span of memory + 1 intervals
    # (here 12 → 60 s = 48 s → 12 µm), so B → C was offered and cut
    assert by_speed.attrs["n_links_cut"] >= 1
    assert by_speed.attrs["max_speed_um_s"] == 0.25


def test_a_range_is_required_and_positive():
    det = _moving_and_jumping()
    with pytest.raises(ValueError, match="max_speed_um_s"):
        track_deposits(det)
    with pytest.raises(ValueError, match="positive"):
        track_deposits(det, max_speed_um_s=-1.0)


def test_frame_threads_follow_platescope_threads(monkeypatch):
    """Without workers=, the frame pool takes PLATESCOPE_THREADS (what the demo's workers
    set to their share of the cores), capped by the chunk length."""
    from platescope.particles._tracking import _frame_workers

    monkeypatch.setenv("PLATESCOPE_THREADS", "1")
    assert _frame_workers(None, chunk=8) == 1
    monkeypatch.setenv("PLATESCOPE_THREADS", "6")
    assert _frame_workers(None, chunk=4) == 4
    assert _frame_workers(3, chunk=8) == 3
