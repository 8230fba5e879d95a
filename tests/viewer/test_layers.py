"""The viewer's layers of a result folder (no napari needed): the movie lazily with its
real frame times on the potentiostat clock, maps in µm with units, outlines."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import tifffile

from platescope.viewer import layer_data, time_axis
from platescope.viewer._reader import get_reader


def _by_kind(layers):
    out = {}
    for data, kwargs, kind in layers:
        out.setdefault(kwargs["metadata"]["platescope"]["kind"], []).append((data, kwargs, kind))
    return out


def test_movie_layer_is_lazy_with_real_frame_times_on_the_echem_clock(sample_run):
    root, layers, truth, summary = sample_run
    kinds = _by_kind(layers)
    ((data, kw, kind),) = kinds["movie"]
    assert kind == "image" and isinstance(data, da.Array)
    raw = tifffile.imread(root / "input" / "irm.tif")
    assert data.shape == raw.shape
    px = truth["movie"]["pixel_size_um"]
    assert kw["scale"] == pytest.approx((1.0, px, px))
    # frame k is shown at its own recorded time minus the clock offset the analysis
    # found (the same offset its t_nuc values are on) ...
    ft = pd.read_csv(root / "input" / "frame_times.csv")["time_s"].to_numpy()
    meta = kw["metadata"]["platescope"]
    assert meta["clock"] == "echem"
    t = np.asarray(meta["frame_times_s"])
    np.testing.assert_allclose(t, ft - summary["sync"]["offset_s"], rtol=0, atol=1e-9)
    # ... which is the planted one to within a third of a frame interval
    dt = truth["movie"]["frame_interval_nominal_s"]
    np.testing.assert_allclose(t, ft - truth["sync"]["offset_s"], rtol=0, atol=dt / 3)
    # the frames are not evenly spaced: times are real, not index × interval
    assert np.ptp(np.diff(ft)) > 1e-4
    # the echem record rides along for the dock widget
    assert meta["echem"]["time_s"][0] == pytest.approx(0.0, abs=0.02)
    assert len(meta["echem"]["potential_V"]) == len(meta["echem"]["time_s"])


def test_map_layers_carry_units_scale_and_a_colour_bar(sample_run):
    root, layers, truth, _ = sample_run
    ((data, kw, _),) = _by_kind(layers)["map"]
    tif = tifffile.imread(root / "results" / "maps" / "t_nuc_irm_map.tif")
    np.testing.assert_array_equal(np.asarray(data), tif)
    px = truth["movie"]["pixel_size_um"]
    assert kw["scale"] == pytest.approx((px, px))
    assert kw["name"].endswith("[s]") and kw["units"] == ("um", "um")
    meta = kw["metadata"]["platescope"]
    assert meta["colorbar"] and meta["time_map"] and meta["quantity"] == "t_nuc"
    lo, hi = kw["contrast_limits"]
    finite = tif[np.isfinite(tif)]
    assert finite.min() <= lo < hi <= finite.max()


def test_particle_outlines_are_circles_of_the_measured_diameters(sample_run):
    root, layers, _, _ = sample_run
    ((shapes, kw, kind),) = _by_kind(layers)["outlines"]
    table = pd.read_csv(root / "results" / "tables" / "particles.csv")
    assert kind == "shapes" and kw["shape_type"] == "ellipse"
    assert len(shapes) == len(table)
    # the SEM image has its own frame: off by default so it is not read as the movie's
    assert "SEM" in kw["name"] and kw["visible"] is False
    box = shapes[0]
    d_um = (box[:, 0].max() - box[:, 0].min(), box[:, 1].max() - box[:, 1].min())
    assert d_um == pytest.approx((table["diameter_nm"][0] / 1e3,) * 2)
    assert box[:, 0].mean() == pytest.approx(table["y_um"][0])


def test_tracks_and_sites_from_tables(tmp_path):
    """Hand-made result folder: a deposit track table and a site table."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "summary.json").write_text('{"scenario": "dendrite-cycling"}')
    tracks = pd.DataFrame(
        {
            "frame": [1, 0, 0, 1, 2],
            "t_s": 0.0,
            "track": [0, 0, 1, 1, -1],
            "y_um": [1.0, 0.5, 3.0, 3.5, 9.0],
            "x_um": [2.0, 2.0, 4.0, 4.0, 9.0],
        }
    )
    tracks.to_csv(tmp_path / "tables" / "deposit_tracks.csv", index=False)
    sites = pd.DataFrame(
        {
            "site": [1, 2],
            "y_um": [1.0, 2.0],
            "x_um": [3.0, 4.0],
            "t_appear_s": [10.0, 20.0],
            "equivalent_diameter_um": [0.5, 0.7],
        }
    )
    sites.to_csv(tmp_path / "tables" / "sites.csv", index=False)
    kinds = _by_kind(layer_data(tmp_path))
    ((trk, _, kind),) = kinds["tracks"]
    assert kind == "tracks"
    # [track, frame, y, x], sorted by track then frame; the untracked row (−1) left out
    np.testing.assert_array_equal(
        trk, [[0, 0, 0.5, 2.0], [0, 1, 1.0, 2.0], [1, 0, 3.0, 4.0], [1, 1, 3.5, 4.0]]
    )
    ((pts, kw, kind),) = kinds["sites"]
    assert kind == "points"
    np.testing.assert_array_equal(pts, [[1.0, 3.0], [2.0, 4.0]])
    assert kw["features"]["t_appear_s"].tolist() == [10.0, 20.0]


def test_time_axis_without_any_offset_keeps_the_movie_clock_and_says_so():
    ax = time_axis({}, [0.0, 1.0])
    assert ax["clock"] == "movie" and ax["frame_times_s"] == [0.0, 1.0]
    assert "no offset" in ax["note"]


def test_reader_accepts_result_folders_and_experiment_files_only(sample_run, tmp_path):
    root = sample_run[0]
    assert get_reader(str(root / "results")) is not None
    assert get_reader([str(root / "input" / "experiment.toml")]) is not None
    assert get_reader(str(tmp_path)) is None  # no summary.json
    assert get_reader(str(root / "input" / "irm.tif")) is None


def test_experiment_file_opens_as_its_movie(sample_run):
    root = sample_run[0]
    ((data, kw, _),) = layer_data(root / "input" / "experiment.toml")
    assert isinstance(data, da.Array)
    assert kw["metadata"]["platescope"]["clock"] == "movie"  # not analysed: no offset known
