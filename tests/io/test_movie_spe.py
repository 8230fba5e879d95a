"""Princeton .spe reader: facts decoded by hand from a real file, planted v2 and v3 files."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from platescope import InputError
from platescope.io import describe_movie, read_movie

REAL = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "movies"
    / "pims_cine_spe"
    / "spestack_test.spe"
)
needs_real = pytest.mark.skipif(not REAL.exists(), reason="shared data not available")
_CODES = {np.dtype("<u2"): 3, np.dtype("<f4"): 0, np.dtype("<i4"): 1, np.dtype("u1"): 6}


def write_spe_v2(path: Path, frames: np.ndarray, *, exposure_s: float = 0.0, datatype=None) -> Path:
    n, h, w = frames.shape
    head = bytearray(4100)
    struct.pack_into("<f", head, 10, exposure_s)
    head[20:29] = b"05Mar2026"
    head[172:178] = b"101112"
    struct.pack_into("<H", head, 42, w)
    struct.pack_into("<h", head, 108, _CODES[frames.dtype] if datatype is None else datatype)
    struct.pack_into("<H", head, 656, h)
    struct.pack_into("<i", head, 1446, n)
    struct.pack_into("<f", head, 1992, 2.5)
    path.write_bytes(bytes(head) + frames.astype(frames.dtype.newbyteorder("<")).tobytes())
    return path


def write_spe_v3(path: Path, frames: np.ndarray, started_us, ended_us, *, created: str) -> Path:
    """LightField-style file: frames, each followed by two int64 µs time stamps, XML footer."""
    n, h, w = frames.shape
    size = h * w * 2
    stride = size + 16
    body = bytearray()
    for f, a, b in zip(frames, started_us, ended_us, strict=True):
        body += f.astype("<u2").tobytes() + struct.pack("<qq", int(a), int(b))
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<SpeFormat version="3.0" xmlns="http://www.princetoninstruments.com/spe/2009">
 <DataFormat><DataBlock type="Frame" count="{n}" pixelFormat="MonochromeUnsigned16"
   size="{size}" stride="{stride}"><DataBlock type="Region" count="1" width="{w}"
   height="{h}" size="{size}" stride="{size}"/></DataBlock></DataFormat>
 <MetaFormat><MetaBlock type="TimeStamp" event="ExposureStarted" resolution="1000000"
   bitDepth="64"/><MetaBlock type="TimeStamp" event="ExposureEnded" resolution="1000000"
   bitDepth="64"/></MetaFormat>
 <DataHistories><DataHistory><Origin software="LightField" created="{created}"/></DataHistory></DataHistories>
 <Experiment><Devices><Cameras><Camera><ShutterTiming><ExposureTime>20</ExposureTime>
 </ShutterTiming></Camera></Cameras></Devices></Experiment>
</SpeFormat>""".encode()
    head = bytearray(4100)
    struct.pack_into("<H", head, 42, w)
    struct.pack_into("<h", head, 108, 3)
    struct.pack_into("<H", head, 656, h)
    struct.pack_into("<i", head, 1446, n)
    struct.pack_into("<Q", head, 678, 4100 + len(body))
    struct.pack_into("<f", head, 1992, 3.0)
    path.write_bytes(bytes(head) + bytes(body) + xml)
    return path


def _frames(n=4, h=3, w=5, dtype="<u2"):
    rng = np.random.default_rng(7)
    return rng.integers(0, 60000, size=(n, h, w)).astype(dtype)


@pytest.mark.parametrize("dtype", ["<u2", "<f4", "<i4", "u1"])
def test_spe_v2_pixels_native_dtype(tmp_path, dtype):
    frames = _frames(dtype=dtype) if dtype != "u1" else _frames().astype("u1")
    path = write_spe_v2(tmp_path / "a.spe", frames, exposure_s=0.05)
    m = read_movie(path, pixel_size_um=0.2, frame_interval_s=0.5)
    assert m.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(m.values, frames)
    np.testing.assert_allclose(m.t.values, 0.5 * np.arange(4))
    assert m.attrs["format"] == "spe-v2" and m.attrs["exposure_s"] == pytest.approx(0.05)
    assert m.attrs["t0"] is None and m.attrs["t0_local"] == "2026-03-05T10:11:12"
    lazy = read_movie(path, pixel_size_um=0.2, frame_interval_s=0.5, lazy=True)
    assert type(lazy.data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.values, frames)


def test_spe_v2_without_times_or_pixel_size_says_what_to_set(tmp_path):
    path = write_spe_v2(tmp_path / "a.spe", _frames())
    with pytest.raises(InputError) as err:
        read_movie(path)
    text = str(err.value)
    assert "frame_interval_s" in text and "pixel_size_um" in text and "a.spe" in text
    info = describe_movie(path)
    assert info["time_source"] is None and info["pixel_size_um"] is None


def test_spe_v3_per_frame_time_stamps(tmp_path):
    frames = _frames(n=5)
    started = np.array([1000, 101000, 201500, 301000, 401000])  # µs; frame 2 is 0.5 ms late
    ended = started + 20000
    path = write_spe_v3(
        tmp_path / "b.spe", frames, started, ended, created="2026-03-05T10:11:12.1234567+02:00"
    )
    m = read_movie(path, pixel_size_um=0.2)
    np.testing.assert_array_equal(m.values, frames)  # the stamps between frames are skipped
    np.testing.assert_allclose(m.t.values, (started + 10000) * 1e-6, atol=1e-12)
    assert m.attrs["t_source"] == "file:spe exposure mid-point time stamps"
    assert m.attrs["t_clock"] == "camera hardware"
    assert m.attrs["exposure_s"] == pytest.approx(0.02)
    # the file's creation time (UTC) is reported, not taken as the stamps' zero
    assert m.attrs["t0"] is None
    assert datetime.fromisoformat(m.attrs["file_created"]) == datetime(
        2026, 3, 5, 8, 11, 12, 123456, tzinfo=UTC
    )
    assert m.attrs["format"] == "spe-v3"
    lazy = read_movie(path, pixel_size_um=0.2, lazy=True)
    np.testing.assert_array_equal(lazy[3].values, frames[3])


def test_spe_bad_inputs(tmp_path):
    frames = _frames()
    path = write_spe_v2(tmp_path / "c.spe", frames)
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(InputError, match="holds only 3.*truncated"):
        describe_movie(path)
    path.write_bytes(data[:2000])
    with pytest.raises(InputError, match="truncated"):
        describe_movie(path)
    write_spe_v2(path, frames, datatype=4)
    with pytest.raises(InputError, match="data type code 4") as err:
        describe_movie(path)
    assert "c.spe" in str(err.value) and "TIFF" in str(err.value)
    v3 = write_spe_v3(tmp_path / "d.spe", frames, [0, 1, 2, 3], [1, 2, 3, 4], created="x")
    raw = v3.read_bytes()
    v3.write_bytes(raw[: len(raw) - 40])  # the XML footer cut short
    with pytest.raises(InputError, match="XML footer"):
        describe_movie(v3)


@needs_real
def test_real_spe_matches_hand_decoding():
    b = REAL.read_bytes()
    w = struct.unpack_from("<H", b, 42)[0]
    h = struct.unpack_from("<H", b, 656)[0]
    n = struct.unpack_from("<i", b, 1446)[0]
    assert struct.unpack_from("<h", b, 108)[0] == 3  # uint16
    assert 4100 + n * w * h * 2 == len(b)  # a v2 file: no footer
    info = describe_movie(REAL)
    assert info["shape"] == (n, h, w) == (5, 128, 128)
    assert info["dtype"] == "uint16" and info["format"] == "spe-v2"
    assert info["time_source"] is None and info["pixel_size_um"] is None
    assert info["t0_local"] == "2015-07-22T09:40:18"  # "22Jul2015" + "094018", no zone
    m = read_movie(REAL, pixel_size_um=0.1, frame_interval_s=1.0)
    last = 4100 + (n - 1) * w * h * 2
    assert int(m.values[0, 0, 0]) == struct.unpack_from("<H", b, 4100)[0]
    assert int(m.values[-1, -1, -1]) == struct.unpack_from("<H", b, last + 2 * (w * h - 1))[0]
    assert (
        int(m.values[2, 5, 7]) == struct.unpack_from("<H", b, 4100 + 2 * (2 * w * h + 5 * w + 7))[0]
    )


@needs_real
def test_real_spe_against_pims_when_installed():
    pims = pytest.importorskip("pims")
    with pims.open(str(REAL)) as ref:
        m = read_movie(REAL, pixel_size_um=0.1, frame_interval_s=1.0)
        for i in range(len(ref)):
            np.testing.assert_array_equal(m.values[i], np.asarray(ref[i]))
