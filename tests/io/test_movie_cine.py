"""Phantom .cine reader: facts decoded by hand from real files, planted synthetic cines."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from platescope import InputError
from platescope.io import describe_movie, read_movie

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movies" / "pims_cine_spe"
NEW, LEGACY = REAL / "cine_781.cine", REAL / "cine_legacy.cine"
needs_real = pytest.mark.skipif(not NEW.exists(), reason="shared data not available")


# ----------------------------------------------------------------- an independent writer


def write_cine(
    path: Path,
    frames: np.ndarray,
    *,
    stamps: np.ndarray | None,
    trigger: int,
    frame_rate: int = 1000,
    bits: int | None = None,
    compression: int = 0,
    cfa: int = 0,
    exposure: int | None = None,
    time_tag: int = 1002,
) -> Path:
    """A minimal cine: header, bitmap header, 1000-byte SETUP, tagged blocks, offsets, frames.

    ``frames`` (t, y, x) are written bottom-up (positive bitmap height); ``bits`` 10/12
    packs them MSB first, top-down, as Phantom's packed files are read.
    """
    n, h, w = frames.shape
    bits = bits or frames.dtype.itemsize * 8
    setup = bytearray(1000)
    struct.pack_into("<H", setup, 142, len(setup))
    struct.pack_into("<I", setup, 768, frame_rate)
    struct.pack_into("<i", setup, 804, 3600)  # one hour west of UTC
    struct.pack_into("<I", setup, 808, cfa)
    struct.pack_into("<I", setup, 896, bits if bits != 16 else 12)
    tagged = b""
    if stamps is not None:
        tagged += struct.pack("<IHH", 8 + 8 * n, time_tag, 0) + np.asarray(stamps, "<u8").tobytes()
    if exposure is not None:
        tagged += struct.pack("<IHH", 8 + 4 * n, 1003, 0) + struct.pack(f"<{n}I", *[exposure] * n)
    off_bitmap, off_setup = 44, 84
    off_offsets = off_setup + len(setup) + len(tagged)
    body = bytearray()
    offsets = []
    first = off_offsets + 8 * n
    for f in frames:
        if bits in (10, 12):
            v = f.astype(np.uint32).ravel()
            if bits == 12:
                g = v.reshape(-1, 2)
                data = np.stack(
                    [g[:, 0] >> 4, ((g[:, 0] & 0xF) << 4) | (g[:, 1] >> 8), g[:, 1] & 0xFF], 1
                )
            else:
                g = v.reshape(-1, 4)
                data = np.stack(
                    [
                        g[:, 0] >> 2,
                        ((g[:, 0] & 0x3) << 6) | (g[:, 1] >> 4),
                        ((g[:, 1] & 0xF) << 4) | (g[:, 2] >> 6),
                        ((g[:, 2] & 0x3F) << 2) | (g[:, 3] >> 8),
                        g[:, 3] & 0xFF,
                    ],
                    1,
                )
            pix = data.astype(np.uint8).tobytes()
        else:
            pix = np.ascontiguousarray(f[::-1]).astype(f.dtype.newbyteorder("<")).tobytes()
        offsets.append(first + len(body))
        body += struct.pack("<I", 8) + struct.pack("<I", len(pix)) + pix
    header = struct.pack(
        "<2sHHHiIiIIIIQ", b"CI", 44, compression, 1, 0, n, -5, n,
        off_bitmap, off_setup, off_offsets, trigger,
    )  # fmt: skip
    bitmap = struct.pack(
        "<IiiHHIIiiII", 40, w, h, 1, 8 if bits == 8 else 16, 0, 0, 50000, 50000, 0, 0
    )
    path.write_bytes(
        header + bitmap + bytes(setup) + tagged + struct.pack(f"<{n}q", *offsets) + bytes(body)
    )
    return path


def _time64(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    seconds = int(delta.total_seconds() // 1)
    frac = delta - timedelta(seconds=seconds)
    return (seconds << 32) | round(frac / timedelta(microseconds=1) * 1e-6 * 2**32)


START = datetime(2026, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)


def _planted(tmp_path, dtype=np.uint16, n=6, h=5, w=7, **kw):
    rng = np.random.default_rng(3)
    top = {np.uint8: 255, np.uint16: 65535}.get(dtype, 4095)
    frames = rng.integers(0, top + 1, size=(n, h, w)).astype(dtype)
    step = 2**32 // 250  # 4 ms in 2⁻³² s units
    stamps = _time64(START) + np.arange(n, dtype=np.uint64) * np.uint64(step)
    stamps[3] += np.uint64(2**32 // 1000)  # frame 3 is 1 ms late: an irregular, real stamp
    trigger = int(stamps[2])
    path = write_cine(tmp_path / "m.cine", frames, stamps=stamps, trigger=trigger, **kw)
    times = (stamps - stamps[0]).astype(float) / 2**32
    return path, frames, times


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_synthetic_cine_pixels_times_t0_trigger(tmp_path, dtype):
    path, frames, times = _planted(tmp_path, dtype=dtype, exposure=2**32 // 10_000)
    m = read_movie(path, pixel_size_um=2.0)
    assert m.dtype == dtype
    np.testing.assert_array_equal(m.values, frames)  # rows flipped back from bottom-up
    np.testing.assert_allclose(m.t.values, times, rtol=0, atol=1e-9)
    assert m.t.values[3] - m.t.values[2] == pytest.approx(0.005, abs=1e-9)
    assert m.attrs["t_source"].startswith("file:phantom hardware frame time")
    assert m.attrs["t_clock"] == "camera hardware"
    assert m.attrs["t_filled"] == 0
    assert datetime.fromisoformat(m.attrs["t0"]) == pytest.approx(
        START, abs=timedelta(microseconds=1)
    )
    assert m.attrs["trigger_t_s"] == pytest.approx(times[2], abs=1e-9)
    assert m.attrs["exposure_s"] == pytest.approx(1e-4, rel=1e-5)
    assert m.attrs["t0_recording_local"].endswith("-01:00")
    assert m.attrs["sensor_pixel_um"] == pytest.approx(20.0)  # 50 000 px/m: the sensor's
    assert m.attrs["pixel_size_um"] == 2.0
    lazy = read_movie(path, pixel_size_um=2.0, lazy=True)
    assert type(lazy.data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.values, frames)
    np.testing.assert_array_equal(lazy[4].values, frames[4])


@pytest.mark.parametrize("bits", [10, 12])
def test_synthetic_packed_cine(tmp_path, bits):
    path, frames, _ = _planted(tmp_path, dtype=np.uint16, w=8, bits=bits)
    frames = frames % (1 << bits)
    write_cine(path, frames, stamps=None, trigger=_time64(START), bits=bits, frame_rate=500)
    m = read_movie(path, pixel_size_um=1.0)
    assert m.dtype == np.uint16
    np.testing.assert_array_equal(m.values, frames)
    # no time block: the SETUP frame rate, and t0 from the trigger and the first image number
    np.testing.assert_allclose(m.t.values, np.arange(frames.shape[0]) / 500.0)
    assert m.attrs["t_source"] == "metadata:cine SETUP frame rate"
    assert m.attrs["t_clock"] == "nominal"
    assert m.attrs["trigger_t_s"] == pytest.approx(5 / 500.0)  # first image number −5
    assert datetime.fromisoformat(m.attrs["t0"]) == pytest.approx(
        START - timedelta(seconds=0.01), abs=timedelta(microseconds=1)
    )


def test_old_time_block_1001_is_read(tmp_path):
    path, _, times = _planted(tmp_path, time_tag=1001)
    m = read_movie(path, pixel_size_um=1.0)
    np.testing.assert_allclose(m.t.values, times, atol=1e-9)
    assert "block 1001" in m.attrs["t_source"]


def test_cine_without_pixel_size_says_so(tmp_path):
    path, _, _ = _planted(tmp_path)
    with pytest.raises(InputError, match="no pixel size"):
        read_movie(path)
    assert describe_movie(path)["pixel_size_um"] is None


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"compression": 1}, "JPEG-compressed"),
        ({"compression": 2}, "raw"),
        ({"cfa": 3}, "colour"),
    ],
)
def test_cine_refused_kinds(tmp_path, kw, match):
    path, _, _ = _planted(tmp_path, **kw)
    with pytest.raises(InputError, match=match) as err:
        read_movie(path, pixel_size_um=1.0)
    assert "m.cine" in str(err.value) and "Fix:" in str(err.value)


def test_cine_unsupported_bit_depth(tmp_path):
    # 5 × 21 bytes per frame declared as 5 × 7 pixels: 24 bits per pixel
    path, _, _ = _planted(tmp_path, dtype=np.uint8, w=21)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<i", raw, 44 + 4, 7)
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="24 bits per pixel") as err:
        read_movie(path, pixel_size_um=1.0)
    assert "16-bit" in str(err.value)


def test_truncated_cine(tmp_path):
    path, _, _ = _planted(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(InputError, match="truncated") as err:
        read_movie(path, pixel_size_um=1.0)
    assert "frame 5" in str(err.value)
    path.write_bytes(data[:500])
    with pytest.raises(InputError, match="truncated"):
        describe_movie(path)


# --------------------------------------------------------------------- the real files


def _hand_decode(path: Path) -> dict:
    """The facts this test checks, decoded with struct at the documented offsets."""
    b = path.read_bytes()
    count = struct.unpack_from("<I", b, 20)[0]
    off_bitmap, off_setup, off_offsets = struct.unpack_from("<III", b, 24)
    trigger = struct.unpack_from("<Q", b, 36)[0]
    width, height = struct.unpack_from("<ii", b, off_bitmap + 4)
    setup_len = struct.unpack_from("<H", b, off_setup + 142)[0]
    pos, stamps = off_setup + setup_len, None
    while pos < off_offsets:
        size, kind = struct.unpack_from("<IH", b, pos)
        if kind == 1002:
            stamps = np.array(struct.unpack_from(f"<{count}Q", b, pos + 8), dtype=np.uint64)
        pos += size
    first = struct.unpack_from("<q", b, off_offsets)[0]
    ann = struct.unpack_from("<I", b, first)[0]
    # bottom-up rows: the first stored pixel is the bottom-left one
    bottom_left = struct.unpack_from("<H", b, first + ann)[0]
    top_left = struct.unpack_from("<H", b, first + ann + 2 * width * (height - 1))[0]
    return {
        "count": count, "width": width, "height": height, "trigger": trigger,
        "stamps": stamps, "bottom_left": bottom_left, "top_left": top_left,
        "rate": struct.unpack_from("<I", b, off_setup + 768)[0],
    }  # fmt: skip


@needs_real
@pytest.mark.parametrize("path", [NEW, LEGACY], ids=["cine_781", "legacy"])
def test_real_cine_matches_hand_decoding(path):
    ref = _hand_decode(path)
    m = read_movie(path, pixel_size_um=1.0)
    assert m.shape == (ref["count"], ref["height"], ref["width"])
    assert m.dtype == np.uint16
    assert int(m.values[0, -1, 0]) == ref["bottom_left"]
    assert int(m.values[0, 0, 0]) == ref["top_left"]
    s = ref["stamps"]
    expected = (s - s[0]).astype(np.int64) / 2**32
    np.testing.assert_allclose(m.t.values, expected, rtol=0, atol=1e-12)
    assert m.attrs["t_clock"] == "camera hardware"
    first = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        seconds=int(s[0] >> np.uint64(32)) + int(s[0] & np.uint64(0xFFFFFFFF)) / 2**32
    )
    assert datetime.fromisoformat(m.attrs["t0"]) == pytest.approx(
        first, abs=timedelta(microseconds=1)
    )
    trig = (ref["trigger"] - int(s[0])) / 2**32
    assert m.attrs["trigger_t_s"] == pytest.approx(trig, abs=1e-9)


@needs_real
def test_real_cine_781_step_is_ten_frames_at_90kfps():
    # recorded at 90 000 fps and saved with decimation 10 (pims' test notes): the
    # hardware stamps step by 477 048 (±4) × 2⁻³² s = 111.07 µs, ~1/9000 s, not 1/90 000 s
    m = read_movie(NEW, pixel_size_um=1.0)
    steps = np.diff(m.t.values)
    assert m.attrs["frame_rate_setting_Hz"] == 90000.0
    np.testing.assert_allclose(steps[1:], 477048 / 2**32, rtol=0, atol=2e-9)  # ±4 clock units
    assert np.median(steps) == pytest.approx(10 / 90000, rel=1e-3)
    assert m.sizes["t"] == 15 and m.attrs["real_bpp"] == 12
    assert int(m.values.max()) < 4096  # 12 significant bits in 16-bit containers
    # the trigger came after the 15 saved frames (first image number −5417 at 9 kfps)
    assert m.attrs["trigger_t_s"] == pytest.approx(5417 * 477048 / 2**32, rel=1e-3)


@needs_real
def test_real_legacy_cine_microsecond_stamps():
    m = read_movie(LEGACY, pixel_size_um=1.0)
    steps_us = np.diff(m.t.values) * 1e6
    # a 35 087 fps camera stamping in whole µs: steps of 28 and 29 µs
    assert set(np.round(steps_us).astype(int)) <= {28, 29}
    np.testing.assert_allclose(steps_us, np.round(steps_us), atol=1e-3)
    assert m.sizes["t"] == 97 and m.attrs["frame_rate_setting_Hz"] == 35087.0


@needs_real
def test_real_cine_against_pims_when_installed():
    pims = pytest.importorskip("pims")
    with pims.open(str(NEW)) as ref:
        m = read_movie(NEW, pixel_size_um=1.0)
        for i in (0, 7, 14):
            np.testing.assert_array_equal(m.values[i], np.asarray(ref[i]))
