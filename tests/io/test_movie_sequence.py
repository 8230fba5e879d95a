"""A folder of one image file per frame read as a movie (natural name order, lazy)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from platescope import InputError
from platescope.cli import main
from platescope.io import read_movie

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BRIGHTFIELD = DATA / "images" / "trackpy_examples"


def _frames(n=12, shape=(6, 7)):
    """Frame i holds i·10 + a pixel ramp, so order and content are both checkable."""
    ramp = np.arange(shape[0] * shape[1], dtype=np.uint16).reshape(shape)
    return [(10 * i + ramp).astype(np.uint16) for i in range(n)]


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("lazy", [False, True])
def test_frames_in_natural_name_order_with_stated_times(tmp_path, suffix, lazy):
    planted = _frames()
    for i, f in enumerate(planted):  # f1 … f12: plain sorting would put f10 after f1
        if suffix == ".png":
            Image.fromarray(f).save(tmp_path / f"f{i + 1}{suffix}")
        else:
            tifffile.imwrite(tmp_path / f"f{i + 1}{suffix}", f)
    (tmp_path / "notes.txt").write_text("not a frame")
    m = read_movie(tmp_path, frame_interval_s=0.5, pixel_size_um=0.2, lazy=lazy)
    assert m.shape == (12, 6, 7) and m.dtype == np.uint16
    np.testing.assert_array_equal(np.asarray(m.values), np.stack(planted))
    np.testing.assert_allclose(m.t.values, 0.5 * np.arange(12))
    assert m.attrs["format"] == "image-sequence"
    assert m.attrs["first_file"] == f"f1{suffix}" and m.attrs["last_file"] == f"f12{suffix}"


def test_frames_of_different_sizes_name_the_odd_file(tmp_path, capsys):
    for i, shape in enumerate([(6, 7), (6, 7), (5, 7)]):
        tifffile.imwrite(tmp_path / f"f{i}.tif", np.zeros(shape, np.uint16))
    with pytest.raises(InputError, match="f2.tif"):
        read_movie(tmp_path, frame_interval_s=1.0)
    assert main(["info", str(tmp_path)]) == 2
    assert "differ in size" in " ".join(capsys.readouterr().err.split())


@pytest.mark.skipif(not BRIGHTFIELD.is_dir(), reason="../shared/data is absent")
def test_real_brightfield_png_series(capsys):
    """trackpy's 10 brightfield frames (500 × 500, 8-bit grey PNG): each frame equals
    the file read on its own by PIL, in file-name order; info reports the series."""
    files = sorted(BRIGHTFIELD.glob("bf_*.png"))
    assert len(files) == 10
    m = read_movie(BRIGHTFIELD, frame_interval_s=1.0, pixel_size_um=1.0, lazy=True)
    assert m.shape == (10, 500, 500) and m.dtype == np.uint8
    for k in (0, 4, 9):
        with Image.open(files[k]) as im:
            np.testing.assert_array_equal(m.isel(t=k).values, np.asarray(im))
    assert main(["info", str(BRIGHTFIELD)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "image-sequence" and info["n_frames"] == 10
    assert info["time_source"] is None and info["pixel_size_um"] is None
