"""Atomic writers: complete files or the old file, never a partial one, no temp files left."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import tifffile
import xarray as xr
from matplotlib.figure import Figure

from platescope import _atomic
from platescope.report import (
    atomic_savefig,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    atomic_write_tiff,
    to_jsonable,
)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_bytes_creates_parents_and_overwrites(tmp_path):
    dest = tmp_path / "a" / "b" / "out.bin"
    atomic_write_bytes(dest, b"first")
    assert dest.read_bytes() == b"first"
    atomic_write_bytes(dest, b"second, longer")
    assert dest.read_bytes() == b"second, longer"
    assert _names(dest.parent) == ["out.bin"]


def test_write_text_is_utf8(tmp_path):
    dest = atomic_write_text(tmp_path / "t.txt", "µm ± α\n")
    assert dest.read_bytes() == "µm ± α\n".encode()


def test_new_file_gets_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        dest = atomic_write_text(tmp_path / "perm.txt", "x")
    finally:
        os.umask(old)
    # mkstemp makes 0600 files; an output must be readable like any other file
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_failure_before_rename_keeps_old_file(tmp_path, monkeypatch):
    dest = tmp_path / "keep.txt"
    dest.write_text("old complete content")

    def boom(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(_atomic.os, "fsync", boom)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_text(dest, "new content that never lands")
    assert dest.read_text() == "old complete content"
    assert _names(tmp_path) == ["keep.txt"]


def test_savefig_failure_mid_write_keeps_old_file(tmp_path):
    dest = tmp_path / "fig.png"
    dest.write_bytes(b"old png")

    class HalfWritingFigure:
        def savefig(self, path, **kw):
            with open(path, "wb") as fh:
                fh.write(b"\x89PNG partial")
            raise RuntimeError("renderer crashed (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        atomic_savefig(HalfWritingFigure(), dest)
    assert dest.read_bytes() == b"old png"
    assert _names(tmp_path) == ["fig.png"]


def test_savefig_writes_png_and_pdf(tmp_path):
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0])
    png = atomic_savefig(fig, tmp_path / "f.png")
    pdf = atomic_savefig(fig, tmp_path / "f.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # a PNG gets its SVG twin; a PDF is a vector file already
    assert _names(tmp_path) == ["f.pdf", "f.png", "f.svg"]


def test_json_converts_nan_numpy_and_sorts(tmp_path):
    obj = {
        "z": np.float32(0.5),
        "a": float("nan"),
        "m": {"inf": np.inf, "i": np.int64(7), "b": np.bool_(True), "arr": np.array([1.5, np.nan])},
        "t": (1, 2),
    }
    dest = atomic_write_json(tmp_path / "s.json", obj)
    text = dest.read_text()
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert back == {
        "a": None,
        "m": {"arr": [1.5, None], "b": True, "i": 7, "inf": None},
        "t": [1, 2],
        "z": 0.5,
    }
    assert isinstance(back["m"]["i"], int) and isinstance(back["m"]["b"], bool)
    # sorted keys, indent 2, trailing newline
    assert text.index('"a"') < text.index('"m"') < text.index('"t"') < text.index('"z"')
    assert text.splitlines()[1].startswith('  "a"')
    assert text.endswith("}\n")


def test_json_unserialisable_leaves_old_file(tmp_path):
    dest = tmp_path / "s.json"
    atomic_write_json(dest, {"ok": 1})
    before = dest.read_bytes()
    with pytest.raises(TypeError):
        atomic_write_json(dest, {"bad": object()})
    assert dest.read_bytes() == before
    assert _names(tmp_path) == ["s.json"]


def test_to_jsonable_rejects_complex():
    with pytest.raises(TypeError):
        to_jsonable({"c": 1 + 2j})


def test_tiff_float32_with_imagej_resolution(tmp_path):
    data = np.arange(12, dtype=float).reshape(3, 4)
    data[0, 0] = np.nan
    dest = atomic_write_tiff(tmp_path / "m.tif", data, pixel_size_um=0.04)
    with tifffile.TiffFile(dest) as tif:
        arr = tif.asarray()
        page = tif.pages[0]
        xres = page.tags["XResolution"].value
        unit = tif.imagej_metadata.get("unit")
    assert arr.dtype == np.float32
    assert np.isnan(arr[0, 0]) and np.array_equal(arr[1:], data[1:].astype(np.float32))
    assert xres[0] / xres[1] == pytest.approx(1 / 0.04, rel=1e-6)
    assert unit == "um"
    assert _names(tmp_path) == ["m.tif"]


def test_tiff_pixel_size_from_dataarray_coords(tmp_path):
    da = xr.DataArray(
        np.ones((5, 6)),
        dims=("y", "x"),
        coords={"y": np.arange(5) * 0.25, "x": np.arange(6) * 0.25},
    )
    dest = atomic_write_tiff(tmp_path / "m.tif", da)
    with tifffile.TiffFile(dest) as tif:
        num, den = tif.pages[0].tags["XResolution"].value
    assert num / den == pytest.approx(4.0, rel=1e-6)


def test_tiff_rejects_bad_shape_without_leaving_files(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_tiff(tmp_path / "m.tif", np.ones(5))
    assert _names(tmp_path) == []
