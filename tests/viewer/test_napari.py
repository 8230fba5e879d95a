"""The napari plugin, headless (offscreen Qt): the reader through napari's plugin
manager, the dock widget's time cursor on the frame slider and a clicked pixel's trace.

Skips when napari is not installed (``pip install "platescope[napari]"``)."""

import os
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import tifffile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
with warnings.catch_warnings():  # napari's pydantic models warn on import
    warnings.simplefilter("ignore", DeprecationWarning)
    napari = pytest.importorskip("napari")

pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning"),
    # napari's own shape triangulation and vispy without an OpenGL context (offscreen)
    pytest.mark.filterwarnings("ignore:'where' used without 'out':UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:vispy"),
]


@pytest.fixture(scope="module")
def viewer_run(sample_run):
    root = sample_run[0]
    viewer = napari.Viewer(show=False)
    try:
        layers = viewer.open(str(root / "results"), plugin="platescope")
        _, widget = viewer.window.add_plugin_dock_widget("platescope", "Echem and pixel traces")
        yield viewer, layers, widget, sample_run
    finally:
        viewer.close()


def test_manifest_registers_reader_widget_and_sample_data():
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    mf = pm.get_manifest("platescope")
    contrib = mf.contributions
    assert [r.command for r in contrib.readers] == ["platescope.get_reader"]
    assert [w.display_name for w in contrib.widgets] == ["Echem and pixel traces"]
    assert [s.key for s in contrib.sample_data] == ["irm-galvanostatic"]


def test_reader_opens_movie_map_and_outlines(viewer_run):
    viewer, layers, _, _ = viewer_run
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == ["Image", "Image", "Shapes"]
    movie, tmap, _ = layers
    assert movie.metadata["platescope"]["kind"] == "movie"
    assert tuple(movie.units)[-1] == tuple(tmap.units)[-1]  # both in µm
    assert tmap.colorbar.visible  # the map's colour bar is on
    assert viewer.dims.nsteps[0] == movie.data.shape[0]


def test_cursor_follows_the_frame_slider_on_the_real_time_axis(viewer_run):
    viewer, _, widget, (root, _, truth, summary) = viewer_run
    ft = pd.read_csv(root / "input" / "frame_times.csv")["time_s"].to_numpy()
    for frame in (0, 37, len(ft) - 1):
        viewer.dims.set_current_step(0, frame)
        assert widget.cursor_t_s == pytest.approx(ft[frame] - summary["sync"]["offset_s"])
        assert widget.cursor_t_s == pytest.approx(
            ft[frame] - truth["sync"]["offset_s"],
            abs=truth["movie"]["frame_interval_nominal_s"] / 3,
        )
        for line in widget._cursors:
            assert line.get_xdata()[0] == pytest.approx(widget.cursor_t_s)
    # the E(t) panel plots the potentiostat record (its first and last samples)
    echem = widget.ax_e.lines[0]
    t_e = echem.get_xdata()
    assert t_e[0] == pytest.approx(0.0, abs=0.02) and len(t_e) > 1000


def test_clicked_pixel_shows_its_trace_and_its_t_nuc(viewer_run):
    viewer, layers, widget, (root, _, _, _) = viewer_run
    movie = layers[0]
    tmap = tifffile.imread(root / "results" / "maps" / "t_nuc_irm_map.tif")
    rows, cols = np.nonzero(np.isfinite(tmap))
    row, col = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    # a click at the pixel's centre, in world coordinates (frame, y µm, x µm)
    world = movie.data_to_world((0, row, col))
    widget._on_click(movie, SimpleNamespace(position=world))
    assert widget.pixel == (row, col)
    raw = tifffile.imread(root / "input" / "irm.tif")
    np.testing.assert_array_equal(widget.pixel_trace, raw[:, row, col])
    assert widget.marks == {"t_nuc_irm_map": pytest.approx(float(tmap[row, col]))}
    dashed = [ln for ln in widget.ax_px.lines if ln.get_linestyle() == "--"]
    assert dashed and dashed[0].get_xdata()[0] == pytest.approx(float(tmap[row, col]))
