"""nucleus_counts and tip_growth_onset on planted tracks and drawn images."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from platescope.particles import detect_deposits, nucleus_counts, tip_growth_onset


def test_cumulative_count_counts_each_track_once_and_skips_earlier_ones():
    # track 0 is there before plating (t < 10 s); 1 appears at frame 2, 2 at frame 3 and
    # merges into 1 at frame 4 (its track ends) — it still counts as a nucleus
    rows = [(0, 0, 0), (1, 5, 0), (2, 10, 0), (2, 10, 1), (3, 15, 0), (3, 15, 1), (3, 15, 2)]
    rows += [(4, 20, 0), (4, 20, 1)]
    tr = pd.DataFrame(rows, columns=["frame", "t_s", "track"])
    c = nucleus_counts(
        tr,
        frame_times_s=[0, 5, 10, 15, 20],
        field_area_um2=2e4,
        t_start_s=10.0,
        min_track_frames=1,
        satellite_gap_um=None,
    )
    assert c["n_cumulative"].tolist() == [0, 0, 1, 2, 2]
    assert c["n_visible"].tolist() == [0, 0, 1, 2, 1]
    assert c.attrs["n_before_start"] == 1
    assert c["density_cm2"].iloc[-1] == pytest.approx(2 / 2e4 * 1e8)
    assert c["density_err_cm2"].iloc[-1] == pytest.approx(np.sqrt(2) / 2e4 * 1e8)


def _disk_with_arm(n_px, px, centre, r, arm_len, angle):
    yy, xx = (np.mgrid[0:n_px, 0:n_px] + 0.5) * px
    inside = np.hypot(yy - centre[0], xx - centre[1]) <= r
    if arm_len > 0:
        v = np.array([np.sin(angle), np.cos(angle)])
        rel = np.stack([yy - centre[0], xx - centre[1]], axis=-1)
        along = rel @ v
        perp = np.abs(rel @ np.array([-v[1], v[0]]))
        inside |= (along >= 0) & (along <= r + arm_len) & (perp <= 0.5)
    return inside


def test_tip_onset_from_drawn_disks_growing_arms():
    """Three disks; from frame 6 on two grow 1 µm wide arms at 1.5 µm per frame."""
    n_px, px = 128, 0.5
    t = np.arange(16) * 10.0
    centres = [(15.0, 15.0), (45.0, 20.0), (30.0, 48.0)]
    frames = []
    for k in range(t.size):
        mask = np.zeros((n_px, n_px), bool)
        for i, c in enumerate(centres):
            arm = 1.5 * (k - 6) if (k >= 6 and i < 2) else 0.0
            mask |= _disk_with_arm(n_px, px, c, 3.0, arm, angle=0.6 + i)
        frames.append(np.where(mask, 600.0, 1500.0))
    coords = (np.arange(n_px) + 0.5) * px
    mv = xr.DataArray(
        np.array(frames), dims=("t", "y", "x"), coords={"t": t, "y": coords, "x": coords}
    )
    det = detect_deposits(mv, threshold=0.2, sigma_um=0.0)
    r = tip_growth_onset(det, frame_times_s=t)
    # an arm lowers the circularity below 0.45 before it is 3r = 9 µm long (docstring):
    # the onset lies after the arms start (frame 6) and by frame 12 (arm 9 µm)
    assert r["frame"] is not None and 6 <= r["frame"] <= 12
    assert 50.0 <= r["t_onset_s"] <= 120.0
    assert r["t_onset_err_s"] == pytest.approx(10.0 / np.sqrt(12))
    assert max(r["n_elongated"][:6]) == 0
    # only round deposits: no onset, and a reason
    det_round = det[det["frame"] < 6]
    none = tip_growth_onset(det_round, frame_times_s=t[:6])
    assert none["t_onset_s"] is None and "no tip growth" in none["reason"]


def test_short_tracks_are_dropped_and_reported():
    tr = pd.DataFrame({"frame": [0, 1, 2, 1], "t_s": [0, 5, 10, 5.0], "track": [0, 0, 0, 1]})
    c = nucleus_counts(
        tr,
        frame_times_s=[0, 5, 10],
        field_area_um2=1e4,
        min_track_frames=3,
        satellite_gap_um=None,
    )
    assert c["n_cumulative"].tolist() == [1, 1, 1]
    assert c.attrs["n_short_dropped"] == 1


def test_a_piece_appearing_against_an_older_deposit_is_not_a_nucleus():
    """Track 0: a 3 µm-radius deposit at (20, 20) µm from frame 0. Track 1 appears at
    frame 2 with its equivalent circle 0.5 µm from track 0's edge (an arm piece);
    track 2 appears at frame 2 far away (a nucleus)."""
    r0 = 3.0
    rows = []
    for f in range(5):
        rows.append((f, f * 5.0, 0, 20.0, 20.0, np.pi * r0**2))
    for f in range(2, 5):
        rows.append((f, f * 5.0, 1, 20.0, 20.0 + r0 + 0.5 + 1.0, np.pi * 1.0**2))
        rows.append((f, f * 5.0, 2, 60.0, 60.0, np.pi * 1.0**2))
    tr = pd.DataFrame(rows, columns=["frame", "t_s", "track", "y_um", "x_um", "area_um2"])
    c = nucleus_counts(tr, frame_times_s=np.arange(5) * 5.0, field_area_um2=1e4)
    assert c["n_cumulative"].tolist() == [1, 1, 2, 2, 2]
    assert c.attrs["n_satellites"] == 1
    off = nucleus_counts(
        tr, frame_times_s=np.arange(5) * 5.0, field_area_um2=1e4, satellite_gap_um=None
    )
    assert off["n_cumulative"].iloc[-1] == 3
    # a gap smaller than 0.5 µm no longer joins them
    tight = nucleus_counts(
        tr, frame_times_s=np.arange(5) * 5.0, field_area_um2=1e4, satellite_gap_um=0.4
    )
    assert tight["n_cumulative"].iloc[-1] == 3


def test_a_track_split_off_a_deposit_is_not_a_nucleus():
    tr = pd.DataFrame(
        {
            "frame": [0, 1, 2, 1, 2],
            "t_s": [0, 5, 10, 5, 10.0],
            "track": [0, 0, 0, 1, 1],
            "split_from": [-1, -1, -1, 0, -1],
        }
    )
    c = nucleus_counts(
        tr, frame_times_s=[0, 5, 10], field_area_um2=1e4, satellite_gap_um=None, min_track_frames=1
    )
    assert c["n_cumulative"].tolist() == [1, 1, 1]
    assert c.attrs["n_split_born"] == 1
