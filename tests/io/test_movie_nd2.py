"""Nikon ND2 movies, checked against the nd2 package's own view of a real file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from platescope import InputError
from platescope.io import describe_movie, read_movie

nd2 = pytest.importorskip("nd2")

CLUSTER = Path(__file__).parents[2] / ".." / "shared" / "data" / "images" / "pims" / "cluster.nd2"
pytestmark = pytest.mark.skipif(not CLUSTER.exists(), reason="shared data not available")


def _reference():
    """Times per (T, Z) from nd2's event table, pixel calibration and pixels, read directly."""
    with nd2.ND2File(CLUSTER) as f:
        events = f.events()
        calibration = f.metadata.channels[0].volume.axesCalibration
        pixels = f.asarray()  # (T, Z, C, Y, X)
        date = f.text_info.get("date")
    times = {(int(e["T Index"]), int(e["Z Index"])): float(e["Time [s]"]) for e in events}
    return times, calibration, pixels, date


@pytest.mark.parametrize(("channel", "z"), [(0, 0), (1, 0), (0, 7)])
def test_real_nd2_times_pixels_and_pixel_size(channel, z):
    times, calibration, pixels, _ = _reference()
    m = read_movie(CLUSTER, channel=channel, z=z)
    n_t = pixels.shape[0]
    assert m.shape == (n_t, 31, 38)
    np.testing.assert_array_equal(m.values, pixels[:, z, channel])
    expected = [times[(t, z)] for t in range(n_t)]
    np.testing.assert_allclose(m.t, expected, rtol=0, atol=1e-6)
    assert m.attrs["t_source"] == "file:nd2 frame time"
    assert m.attrs["pixel_size_um"] == pytest.approx(calibration[0])
    np.testing.assert_allclose(m.y[1] - m.y[0], calibration[1])
    assert (m.attrs["channel"], m.attrs["z"]) == (channel, z)


def test_real_nd2_start_matches_its_local_date_up_to_a_zone_offset():
    _, _, _, date = _reference()
    m = read_movie(CLUSTER)
    t0 = datetime.fromisoformat(m.attrs["t0"])
    local = datetime.strptime(date.strip(), "%d/%m/%Y %H:%M:%S")
    offset_s = (local - t0.replace(tzinfo=None)).total_seconds()
    nearest_hour = round(offset_s / 3600) * 3600
    assert abs(offset_s - nearest_hour) < 60  # same moment, whole-hour time zone apart
    assert abs(nearest_hour) <= 14 * 3600


def test_real_nd2_lazy_equals_eager_and_describe():
    import dask.array as da

    eager = read_movie(CLUSTER, channel=1, z=3)
    lazy = read_movie(CLUSTER, channel=1, z=3, lazy=True)
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_array_equal(lazy.values, eager.values)
    info = describe_movie(CLUSTER)
    assert info["format"] == "nd2" and info["shape"] == (3, 31, 38) and info["n_frames"] == 3
    assert info["time_source"] == "file:nd2 frame time"
    assert info["median_interval_s"] == pytest.approx(np.median(np.diff(eager.t)), rel=0.05)


def test_nd2_selection_out_of_range_and_truncated_copy(tmp_path):
    with pytest.raises(InputError, match="channel=5"):
        read_movie(CLUSTER, channel=5)
    cut = tmp_path / "cut.nd2"
    cut.write_bytes(CLUSTER.read_bytes()[: CLUSTER.stat().st_size // 2])
    with pytest.raises(InputError, match="truncated") as err:
        read_movie(cut)
    assert str(cut) in str(err.value)
