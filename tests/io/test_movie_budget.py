"""Decoded-size budget, too-short movies, damaged headers, tifffile's log lines."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import platescope.io._movie as movie_mod
from platescope import InputError
from platescope.cli import main
from platescope.io import describe_movie, read_movie
from platescope.io._image_writers import write_imagej_movie


def _compressed(path, n=40, h=128, w=128):
    """A zlib TIFF of zeros: a few kB on disk, n × h × w × 2 bytes decoded."""
    tifffile.imwrite(
        path,
        np.zeros((n, h, w), np.uint16),
        imagej=True,
        compression="zlib",
        resolution=(10.0, 10.0),
        metadata={"axes": "TYX", "unit": "um", "finterval": 1.0},
    )
    return path


def test_laziness_is_decided_by_decoded_size_not_file_size(tmp_path, monkeypatch):
    p = _compressed(tmp_path / "m.tif")
    on_disk = p.stat().st_size
    decoded = 40 * 128 * 128 * 2
    assert on_disk < decoded / 20  # the premise: compression hides the size
    # a threshold between the two sizes: the file is small, its pixels are not
    monkeypatch.setattr(movie_mod, "LAZY_THRESHOLD_BYTES", (on_disk + decoded) // 2)
    m = read_movie(p)
    assert type(m.data).__module__.startswith("dask")
    assert describe_movie(p)["lazy_by_default"] is True
    assert describe_movie(p)["decoded_bytes"] == decoded
    monkeypatch.setattr(movie_mod, "LAZY_THRESHOLD_BYTES", decoded + 1)
    assert isinstance(read_movie(p).data, np.ndarray)


def test_a_frame_beyond_the_budget_is_refused_before_reading(tmp_path, monkeypatch):
    p = _compressed(tmp_path / "m.tif", n=3, h=64, w=64)
    monkeypatch.setattr(movie_mod, "MAX_FRAME_BYTES", 64 * 64 * 2 - 1)
    with pytest.raises(InputError, match=r"one frame is 64 × 64 pixels of uint16") as exc:
        read_movie(p)
    assert "crop or bin" in str(exc.value)
    monkeypatch.setattr(movie_mod, "MAX_FRAME_BYTES", 64 * 64 * 2)
    assert read_movie(p).shape == (3, 64, 64)


def test_an_in_memory_read_beyond_the_budget_is_refused(tmp_path, monkeypatch):
    p = _compressed(tmp_path / "m.tif", n=5, h=32, w=32)
    monkeypatch.setattr(movie_mod, "MAX_EAGER_BYTES", 5 * 32 * 32 * 2 - 1)
    with pytest.raises(InputError, match="decodes to"):
        read_movie(p, lazy=False)
    assert read_movie(p, lazy=True).shape == (5, 32, 32)  # lazily it is fine


@pytest.mark.parametrize("n", [1, 2])
def test_movies_shorter_than_min_frames_are_input_errors(tmp_path, n):
    p = write_imagej_movie(
        tmp_path / "m.tif", np.ones((n, 8, 9), np.uint16), pixel_size_um=0.5, frame_interval_s=1.0
    )
    with pytest.raises(InputError, match=f"the movie has {n} frame"):
        read_movie(p, min_frames=3)
    assert read_movie(p).sizes["t"] == n  # the library alone accepts any length


def test_one_frame_movie_in_a_scenario_is_exit_2(tmp_path, capsys):
    from platescope.simulate import simulate

    exp = simulate("irm-galvanostatic", tmp_path / "exp", seed=3)
    src = exp.parent / "irm.tif"
    with tifffile.TiffFile(src) as tif:
        first = tif.asarray()[:1]
    write_imagej_movie(src, first, pixel_size_um=0.1, frame_interval_s=1.0)
    code = main(["analyze", str(exp), "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "the movie has 1 frame; the analyses need a time series of at least 3" in err


def _damaged_copies(good: bytes):
    """Truncations and header byte flips of a valid TIFF (deterministic)."""
    rng = np.random.default_rng(7)
    for cut in (8, 16, 64, len(good) // 3, len(good) - 5):
        yield f"cut{cut}", good[:cut]
    for i in range(30):
        b = bytearray(good)
        for pos in rng.integers(4, min(len(b), 400), size=3):
            b[pos] = int(rng.integers(0, 256))
        yield f"flip{i}", bytes(b)


@pytest.mark.parametrize("flavour", ["ome", "imagej", "micromanager"])
def test_damaged_headers_are_input_errors_without_log_lines(tmp_path, capsys, flavour):
    from platescope.io._image_writers import write_micromanager_movie, write_ome_movie

    data = np.arange(4 * 16 * 16, dtype=np.uint16).reshape(4, 16, 16)
    good = tmp_path / f"good.{flavour}.tif"
    if flavour == "ome":
        write_ome_movie(good, data, pixel_size_um=0.2, delta_t_s=[0, 1, 2, 3])
    elif flavour == "imagej":
        write_imagej_movie(good, data, pixel_size_um=0.2, frame_interval_s=1.0)
    else:
        write_micromanager_movie(good, data, pixel_size_um=0.2, elapsed_ms=[0, 1e3, 2e3, 3e3])
    outcomes = {"ok": 0, "exit 2": 0}
    for name, blob in _damaged_copies(good.read_bytes()):
        p = tmp_path / f"{name}.tif"
        p.write_bytes(blob)
        code = main(["info", str(p)])
        captured = capsys.readouterr()
        assert code in (0, 2), (name, captured.err)
        outcomes["ok" if code == 0 else "exit 2"] += 1
        if code == 2:
            lines = captured.err.strip().splitlines()
            assert lines[0].startswith("platescope: error: "), (name, captured.err)
            assert len(captured.err) < 1200, name
    assert outcomes["exit 2"] >= 5, outcomes


def test_a_page_chain_that_loops_is_an_input_error_not_a_hang(tmp_path, capsys):
    import struct

    p = tmp_path / "loop.tif"
    tifffile.imwrite(p, np.ones((3, 8, 8), np.uint16), imagej=True, metadata={"axes": "TYX"})
    b = bytearray(p.read_bytes())
    first = struct.unpack_from("<I", b, 4)[0]
    offset = first
    for _ in range(2):  # to the third (last) page
        n = struct.unpack_from("<H", b, offset)[0]
        offset = struct.unpack_from("<I", b, offset + 2 + 12 * n)[0]
    n = struct.unpack_from("<H", b, offset)[0]
    struct.pack_into("<I", b, offset + 2 + 12 * n, first)  # last page -> first page
    p.write_bytes(bytes(b))
    for argv in (["info", str(p)],):
        assert main(argv) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "the chain of TIFF pages loops: page 3 points back" in err
    with pytest.raises(InputError, match="loops"):
        read_movie(p, pixel_size_um=0.1, frame_interval_s=1.0)
