"""TIFF movies: ImageJ, OME, Micro-Manager, plain; times, pixel size, selection, damage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from platescope import InputError
from platescope.io import describe_movie, read_movie
from platescope.io._image_writers import (
    write_frame_times_csv,
    write_imagej_movie,
    write_micromanager_movie,
    write_ome_movie,
)

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
STUCK = DATA / "images" / "trackpy" / "stuck.tif"
PNG = DATA / "images" / "trackpy_examples" / "bf_0000.png"


def _frames(n=6, h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 4096, size=(n, h, w), dtype=np.uint16)


# ----------------------------------------------------------------------- ImageJ


def test_imagej_roundtrip_gives_planted_pixels_times_and_spacing(tmp_path):
    data = _frames()
    p = write_imagej_movie(tmp_path / "irm.tif", data, pixel_size_um=0.325, frame_interval_s=1.5)
    m = read_movie(p, mode="irm")
    assert m.dims == ("t", "y", "x")
    assert m.dtype == np.uint16
    np.testing.assert_array_equal(m.values, data)
    np.testing.assert_allclose(m.t, 1.5 * np.arange(6))
    np.testing.assert_allclose(m.x, 0.325 * np.arange(32))
    np.testing.assert_allclose(m.y, 0.325 * np.arange(24))
    assert m.attrs["units"] == "counts"
    assert m.attrs["mode"] == "irm"
    assert m.attrs["t0"] is None  # ImageJ files carry no absolute start
    assert m.attrs["t_source"] == "metadata:imagej finterval"
    assert m.attrs["format"] == "imagej-tiff"
    assert m.attrs["pixel_size_um"] == pytest.approx(0.325)
    assert Path(m.attrs["source"]) == p.resolve()


def test_imagej_frame_times_csv_beats_the_nominal_interval(tmp_path):
    """The simulator's layout: nominal finterval in the TIFF, real jittered times in a CSV."""
    rng = np.random.default_rng(3)
    times = 12.0 + np.cumsum(rng.uniform(0.9, 1.1, size=6))
    p = write_imagej_movie(tmp_path / "irm.tif", _frames(), pixel_size_um=0.5, frame_interval_s=1.0)
    csv = write_frame_times_csv(tmp_path / "frame_times.csv", times)
    m = read_movie(p, frame_times=csv)
    np.testing.assert_array_equal(m.t.values, times)
    assert m.attrs["t_source"] == f"frame_times:{csv}"


@pytest.mark.parametrize(
    ("unit", "per_unit", "expected_um"),
    [("nm", 1 / 250, 0.25), ("mm", 500.0, 2.0), ("micron", 2.0, 0.5)],
)
def test_imagej_units_are_converted_to_um(tmp_path, unit, per_unit, expected_um):
    p = tmp_path / "m.tif"
    tifffile.imwrite(
        p,
        _frames(3),
        imagej=True,
        resolution=(per_unit, per_unit),
        metadata={"axes": "TYX", "unit": unit, "finterval": 2.0},
    )
    m = read_movie(p)
    assert m.attrs["pixel_size_um"] == pytest.approx(expected_um, rel=1e-6)
    np.testing.assert_allclose(m.t, [0.0, 2.0, 4.0])


def test_imagej_hyperstack_selects_channel_and_z(tmp_path):
    t, z, c = np.meshgrid(np.arange(4), np.arange(3), np.arange(2), indexing="ij")
    code = (100 * t + 10 * z + c).astype(np.uint16)
    stack = np.broadcast_to(code[..., None, None], (4, 3, 2, 8, 10)).copy()
    p = tmp_path / "hyper.tif"
    tifffile.imwrite(
        p,
        stack,
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": "TZCYX", "unit": "um", "finterval": 5.0},
    )
    m = read_movie(p, channel=1, z=2)
    assert m.shape == (4, 8, 10)
    np.testing.assert_array_equal(m.values[:, 0, 0], 100 * np.arange(4) + 21)
    assert (m.attrs["channel"], m.attrs["z"], m.attrs["frame_axis"]) == (1, 2, "T")
    lazy = read_movie(p, channel=1, z=2, lazy=True)
    np.testing.assert_array_equal(lazy.values, m.values)
    with pytest.raises(InputError, match="channel=2") as err:
        read_movie(p, channel=2)
    assert str(p) in str(err.value)


def test_rgb_tiff_is_refused(tmp_path):
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, np.zeros((3, 8, 8, 3), np.uint8), photometric="rgb")
    with pytest.raises(InputError, match="colour") as err:
        read_movie(p, pixel_size_um=1, frame_interval_s=1)
    assert str(p) in str(err.value)


# -------------------------------------------------------------------------- OME


def test_ome_plane_deltat_times_pixel_size_and_utc_start(tmp_path):
    rng = np.random.default_rng(1)
    delta = np.cumsum(rng.uniform(0.4, 0.6, size=6))
    data = _frames()
    p = write_ome_movie(
        tmp_path / "m.ome.tif",
        data,
        pixel_size_um=0.108,
        frame_interval_s=0.5,
        delta_t_s=delta,
        acquisition_date="2024-03-05T09:30:00+01:00",
    )
    m = read_movie(p)
    np.testing.assert_array_equal(m.values, data)
    np.testing.assert_allclose(m.t, delta, rtol=0, atol=1e-12)
    assert m.attrs["t_source"] == "file:ome Plane DeltaT"
    assert m.attrs["pixel_size_um"] == pytest.approx(0.108)
    assert m.attrs["t0"] == "2024-03-05T08:30:00+00:00"
    assert m.attrs["format"] == "ome-tiff"


def test_ome_time_increment_and_zone_less_date(tmp_path):
    p = write_ome_movie(
        tmp_path / "m.ome.tif",
        _frames(4),
        pixel_size_um=1.0,
        frame_interval_s=0.25,
        acquisition_date="2024-03-05T09:30:00",
    )
    m = read_movie(p)
    np.testing.assert_allclose(m.t, [0, 0.25, 0.5, 0.75])
    assert m.attrs["t_source"] == "metadata:ome TimeIncrement"
    assert m.attrs["t0"] is None  # no zone: the UTC start is unknown ...
    assert m.attrs["t0_local"] == "2024-03-05T09:30:00"  # ... but the wall clock is kept


def test_ome_multichannel_deltat_follows_the_chosen_channel(tmp_path):
    n_t, n_c = 5, 2
    delta = {(t, c): 2.0 * t + 0.3 * c for t in range(n_t) for c in range(n_c)}
    data = np.zeros((n_t, n_c, 6, 7), np.uint16)
    data[:, 1] = 7
    p = tmp_path / "tc.ome.tif"
    tifffile.imwrite(
        p,
        data,
        ome=True,
        metadata={
            "axes": "TCYX",
            "PhysicalSizeX": 0.2,
            "PhysicalSizeY": 0.2,
            "Plane": {"DeltaT": [delta[(t, c)] for t in range(n_t) for c in range(n_c)]},
        },
    )
    m = read_movie(p, channel=1)
    np.testing.assert_allclose(m.t, 2.0 * np.arange(n_t) + 0.3)
    assert (m.values == 7).all()


# ---------------------------------------------------------------- Micro-Manager


def test_micromanager_writer_is_a_real_mmstack_for_tifffile(tmp_path):
    data = _frames(4)
    p = write_micromanager_movie(
        tmp_path / "mm_MMStack_Pos0.ome.tif",
        data,
        pixel_size_um=0.65,
        elapsed_ms=[5.0, 105.0, 205.0, 305.0],
    )
    with tifffile.TiffFile(p) as tif:
        assert tif.is_mmstack
        assert tif.micromanager_metadata["Summary"]["Frames"] == 4
        np.testing.assert_array_equal(tif.series[0].asarray(), data)
        meta = [page.tags.valueof(51123) for page in tif.pages]
    assert [m["ElapsedTime-ms"] for m in meta] == [5.0, 105.0, 205.0, 305.0]


def test_micromanager_elapsed_times_pixel_size_and_start(tmp_path):
    rng = np.random.default_rng(7)
    elapsed = 37.0 + np.cumsum(rng.uniform(180, 220, size=6))
    data = _frames()
    p = write_micromanager_movie(
        tmp_path / "mm.tif",
        data,
        pixel_size_um=0.65,
        elapsed_ms=elapsed,
        start_time="2024-05-01 10:00:00.250 +0200",
    )
    m = read_movie(p)
    np.testing.assert_array_equal(m.values, data)
    np.testing.assert_allclose(m.t, elapsed / 1e3, rtol=0, atol=1e-12)
    assert m.attrs["t_source"] == "file:micromanager ElapsedTime-ms"
    assert m.attrs["t_filled"] == 0
    assert m.attrs["pixel_size_um"] == pytest.approx(0.65)
    assert m.attrs["t0"] == "2024-05-01T08:00:00.250000+00:00"
    assert m.attrs["format"] == "micromanager-tiff"


def test_micromanager_missing_and_zero_times_are_filled_and_counted(tmp_path):
    # true clock: 100 ms steps from 0; frames 2 (absent) and 3 (placeholder 0) lost theirs
    elapsed = [0.0, 100.0, None, 0.0, 400.0, 500.0, None]
    p = write_micromanager_movie(
        tmp_path / "mm.tif", _frames(7), pixel_size_um=1.0, elapsed_ms=elapsed
    )
    m = read_movie(p)
    np.testing.assert_allclose(m.t, 0.1 * np.arange(7), atol=1e-12)
    assert m.attrs["t_filled"] == 3


def test_micromanager_all_zero_times_fall_back_or_ask(tmp_path):
    p = write_micromanager_movie(
        tmp_path / "mm.tif", _frames(4), pixel_size_um=1.0, elapsed_ms=[0.0, 0.0, None, 0.0]
    )
    with pytest.raises(InputError, match="frame_interval_s") as err:
        read_movie(p)
    assert str(p) in str(err.value) and "ElapsedTime-ms" in str(err.value)
    m = read_movie(p, frame_interval_s=0.2)
    np.testing.assert_allclose(m.t, [0, 0.2, 0.4, 0.6])
    assert m.attrs["t_source"] == "frame_interval_s"


def test_micromanager_non_monotonic_times_name_the_frame(tmp_path):
    p = write_micromanager_movie(
        tmp_path / "mm.tif",
        _frames(5),
        pixel_size_um=1.0,
        elapsed_ms=[10.0, 20.0, 30.0, 25.0, 40.0],
    )
    with pytest.raises(InputError, match="frame 3") as err:
        read_movie(p)
    assert str(p) in str(err.value)
    # the user's own times take precedence and repair the movie
    m = read_movie(p, frame_times=[0.01, 0.02, 0.03, 0.035, 0.04])
    assert m.attrs["t_source"] == "frame_times:array"
    assert m.attrs["t_file_source"] == "file:micromanager ElapsedTime-ms"


def test_micromanager_uncalibrated_pixel_size_is_missing(tmp_path):
    p = write_micromanager_movie(
        tmp_path / "mm.tif", _frames(3), pixel_size_um=0.0, elapsed_ms=[0.0, 50.0, 100.0]
    )
    with pytest.raises(InputError, match="pixel_size_um"):
        read_movie(p)
    assert read_movie(p, pixel_size_um=0.4).attrs["pixel_size_um"] == 0.4


def test_pages_with_micromanager_tags_but_no_mm_header(tmp_path):
    """Some exports keep the per-image 51123 JSON but not the MMStack header."""
    data = _frames(4)
    elapsed = [12.0, 262.0, 512.0, 762.0]
    p = tmp_path / "pages.tif"
    with tifffile.TiffWriter(p) as tw:
        for frame, ms in zip(data, elapsed, strict=True):
            meta = json.dumps(
                {"ElapsedTime-ms": ms, "PixelSizeUm": 0.2, "Time": "2024-05-01 10:00:00 +0000"}
            )
            tw.write(
                frame, contiguous=False, metadata=None, extratags=[(51123, "s", 0, meta, True)]
            )
    m = read_movie(p)
    np.testing.assert_array_equal(m.values, data)
    np.testing.assert_allclose(m.t, np.array(elapsed) / 1e3)
    assert m.attrs["pixel_size_um"] == pytest.approx(0.2)
    # no summary StartTime: the start is the first frame's wall clock minus its elapsed time
    assert m.attrs["t0"] == "2024-05-01T09:59:59.988000+00:00"


# ----------------------------------------------------------------- plain TIFFs


def test_plain_stack_needs_pixel_size_and_times(tmp_path):
    p = tmp_path / "plain.tif"
    tifffile.imwrite(p, _frames(3), metadata=None, photometric="minisblack")
    with pytest.raises(InputError) as err:
        read_movie(p)
    msg = str(err.value)
    assert str(p) in msg and "pixel_size_um" in msg and "frame_times" in msg
    m = read_movie(p, pixel_size_um=0.5, frame_interval_s=3.0)
    np.testing.assert_allclose(m.t, [0, 3, 6])
    assert m.attrs["frame_axis"] in ("I", "Q")


def test_plain_tiff_resolution_in_centimetres(tmp_path):
    p = tmp_path / "cm.tif"
    tifffile.imwrite(
        p, _frames(2), metadata=None, resolution=(1e4 / 0.8, 1e4 / 0.8), resolutionunit="CENTIMETER"
    )
    m = read_movie(p, frame_interval_s=1.0)
    assert m.attrs["pixel_size_um"] == pytest.approx(0.8)


def test_explicit_pixel_size_overrides_metadata_with_a_warning(tmp_path):
    p = write_imagej_movie(tmp_path / "m.tif", _frames(2), pixel_size_um=0.5, frame_interval_s=1.0)
    with pytest.warns(UserWarning, match="overrides"):
        m = read_movie(p, pixel_size_um=0.25)
    assert m.attrs["pixel_size_um"] == 0.25
    np.testing.assert_allclose(m.x[:3], [0, 0.25, 0.5])


def test_bad_mode_missing_empty_and_foreign_files(tmp_path):
    p = write_imagej_movie(tmp_path / "m.tif", _frames(2), pixel_size_um=0.5, frame_interval_s=1.0)
    with pytest.raises(InputError, match="mode"):
        read_movie(p, mode="fluorescence-ish")
    with pytest.raises(InputError, match="does not exist"):
        read_movie(tmp_path / "nope.tif")
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_movie(tmp_path / "empty.tif")
    (tmp_path / "junk.dat").write_bytes(b"not a movie at all" * 10)
    with pytest.raises(InputError, match="not recognised"):
        read_movie(tmp_path / "junk.dat")
    (tmp_path / "junk.tif").write_bytes(b"II*\x00" + b"\xff" * 40)
    with pytest.raises(InputError, match="junk.tif"):
        read_movie(tmp_path / "junk.tif")


# ------------------------------------------------------------------- truncation


def _writers():
    data = _frames(6, 20, 30)
    return {
        "imagej": lambda p: write_imagej_movie(p, data, pixel_size_um=0.5, frame_interval_s=1.0),
        "ome": lambda p: write_ome_movie(p, data, pixel_size_um=0.5, frame_interval_s=1.0),
        "micromanager": lambda p: write_micromanager_movie(
            p, data, pixel_size_um=0.5, elapsed_ms=100.0 * np.arange(1, 7)
        ),
        "plain": lambda p: tifffile.imwrite(p, data, metadata=None),
    }


@pytest.mark.parametrize("flavour", ["imagej", "ome", "micromanager", "plain"])
@pytest.mark.parametrize("keep", [0.97, 0.6, 0.3])
@pytest.mark.parametrize("lazy", [False, True])
def test_truncated_tiff_is_reported_not_misread(tmp_path, flavour, keep, lazy):
    full = tmp_path / "full.tif"
    _writers()[flavour](full)
    blob = full.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(blob[: int(len(blob) * keep)])
    with pytest.raises(InputError, match="truncated") as err:
        read_movie(cut, pixel_size_um=0.5, frame_interval_s=1.0, lazy=lazy)
    msg = str(err.value)
    assert str(cut) in msg and "re-export" in msg
    with pytest.raises(InputError, match="truncated"):
        describe_movie(cut)


def test_truncated_imagej_message_counts_frames(tmp_path):
    data = _frames(6, 20, 30)
    full = write_imagej_movie(tmp_path / "full.tif", data, pixel_size_um=0.5, frame_interval_s=1.0)
    frame_bytes = 20 * 30 * 2
    blob = full.read_bytes()
    with tifffile.TiffFile(full) as tif:
        start = tif.pages.first.dataoffsets[0]
    cut = tmp_path / "cut.tif"
    cut.write_bytes(blob[: start + 4 * frame_bytes + 100])  # 4 whole frames and a bit
    with pytest.raises(InputError, match="only 4 of 6 frames"):
        read_movie(cut)


# ------------------------------------------------------------------------ lazy


class _TaskCounter:
    def __init__(self):
        from dask.callbacks import Callback

        self.count = 0
        outer = self

        class _CB(Callback):
            def _pretask(self, key, dsk, state):
                outer.count += 1

        self.callback = _CB()


@pytest.mark.parametrize("flavour", ["imagej", "ome", "micromanager", "plain"])
def test_lazy_is_dask_backed_equal_to_eager_and_computes_nothing_at_open(tmp_path, flavour):
    import gc

    import dask.array as da

    p = tmp_path / "m.tif"
    _writers()[flavour](p)
    eager = read_movie(p, pixel_size_um=0.5, frame_interval_s=1.0, lazy=False)
    counter = _TaskCounter()
    with counter.callback:
        lazy = read_movie(p, pixel_size_um=0.5, frame_interval_s=1.0, lazy=True)
    assert counter.count == 0
    assert isinstance(lazy.data, da.Array)
    assert lazy.data.chunks[1:] == ((20,), (30,))  # whole frames per chunk
    np.testing.assert_array_equal(lazy.t, eager.t)
    np.testing.assert_array_equal(lazy.compute().values, eager.values)
    del lazy
    gc.collect()  # the file handle is closed with the array (no ResourceWarning)


def test_big_files_open_lazily_by_default(tmp_path, monkeypatch):
    import dask.array as da

    import platescope.io._movie as movie_module

    p = write_imagej_movie(tmp_path / "m.tif", _frames(4), pixel_size_um=0.5, frame_interval_s=1.0)
    assert isinstance(read_movie(p).data, np.ndarray)
    monkeypatch.setattr(movie_module, "LAZY_THRESHOLD_BYTES", 1000)
    assert isinstance(read_movie(p).data, da.Array)
    assert describe_movie(p)["lazy_by_default"] is True


# ------------------------------------------------------------------- describe


def test_describe_movie_reports_times_and_spacing(tmp_path):
    elapsed = [0.0, 100.0, 250.0, 300.0]
    p = write_micromanager_movie(
        tmp_path / "mm.tif", _frames(4), pixel_size_um=0.65, elapsed_ms=elapsed
    )
    info = describe_movie(p)
    assert info["kind"] == "movie"
    assert info["format"] == "micromanager-tiff"
    assert info["shape"] == (4, 24, 32)
    assert info["dtype"] == "uint16"
    assert info["n_frames"] == 4
    assert info["time_source"] == "file:micromanager ElapsedTime-ms"
    assert info["first_interval_s"] == pytest.approx(0.1)
    assert info["last_interval_s"] == pytest.approx(0.05)
    assert info["median_interval_s"] == pytest.approx(0.1)
    assert info["pixel_size_um"] == pytest.approx(0.65)
    assert info["t0"] == "2024-05-01T08:00:00+00:00"


# ----------------------------------------------------------------- real files


@pytest.mark.skipif(not STUCK.exists(), reason="shared data not available")
def test_real_imagej_stack_stuck_tif():
    reference = tifffile.imread(STUCK)
    with pytest.raises(InputError) as err:
        read_movie(STUCK)  # ImageJ 1.46a stack without calibration or frame interval
    assert "pixel_size_um" in str(err.value) and "frame_interval_s" in str(err.value)
    m = read_movie(STUCK, pixel_size_um=0.1, frame_interval_s=0.05)
    assert m.shape == (5, 512, 512) and m.dtype == np.uint16
    assert m.attrs["frame_axis"] == "Z"  # ImageJ called the frames "slices"
    np.testing.assert_array_equal(m.values, reference)
    info = describe_movie(STUCK)
    assert (
        info["format"] == "imagej-tiff"
        and info["pixel_size_um"] is None
        and info["time_source"] is None
    )


@pytest.mark.skipif(not PNG.exists(), reason="shared data not available")
def test_real_png_frame_is_not_a_movie():
    with pytest.raises(InputError, match="PNG") as err:
        read_movie(PNG)
    assert "pass the folder" in " ".join(str(err.value).split())


def test_selecting_an_axis_the_file_does_not_have_is_refused(tmp_path):
    p = write_imagej_movie(tmp_path / "m.tif", _frames(3), pixel_size_um=0.5, frame_interval_s=1.0)
    for kw in ({"channel": 1}, {"z": 2}, {"position": 1}):
        with pytest.raises(InputError, match="no . axis") as err:
            read_movie(p, **kw)
        assert str(p) in str(err.value)
