"""AVI/MP4/MKV movies written with PyAV in the test, read back with their timestamps."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from platescope import InputError
from platescope.io import describe_movie, read_movie

av = pytest.importorskip("av")


def _planted(n=10, h=48, w=64):
    frames = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        frames[i] = 30 + 12 * i
        frames[i, 10:22, 4 + 3 * i : 16 + 3 * i] = 240
    return frames


def _write(path, frames, codec, pix_fmt, *, rate=10, pts_ms=None):
    container = av.open(str(path), mode="w")
    stream = container.add_stream(codec, rate=rate if pts_ms is None else 1000)
    stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
    if pts_ms is not None:  # millisecond clock so the planted timestamps survive
        stream.codec_context.time_base = Fraction(1, 1000)
    for i, img in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(img, format="gray")
        if pts_ms is not None:
            frame.pts, frame.time_base = int(pts_ms[i]), Fraction(1, 1000)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def test_lossless_avi_pixels_and_constant_rate_times(tmp_path):
    frames = _planted()
    p = _write(tmp_path / "m.avi", frames, "ffv1", "gray", rate=10)
    m = read_movie(p, pixel_size_um=0.5, mode="trans")
    np.testing.assert_array_equal(m.values, frames)
    np.testing.assert_allclose(m.t, np.arange(10) / 10, atol=1e-9)
    assert m.attrs["t_source"] == "file:video pts"
    assert m.attrs["format"] == "video" and m.attrs["mode"] == "trans"


def test_mp4_h264_is_close_to_the_planted_frames(tmp_path):
    frames = _planted()
    try:
        p = _write(tmp_path / "m.mp4", frames, "libx264", "yuv420p", rate=25)
    except (av.FFmpegError, ValueError) as exc:  # encoder not built into this PyAV
        pytest.skip(f"no H.264 encoder: {exc}")
    m = read_movie(p, pixel_size_um=1.0)
    assert m.shape == frames.shape and m.dtype == np.uint8
    np.testing.assert_allclose(m.t, np.arange(10) / 25, atol=1e-6)
    # lossy codec: flat areas come back within a few counts (the block edges are sharper)
    assert np.median(np.abs(m.values.astype(int) - frames.astype(int))) <= 2


def test_variable_frame_rate_timestamps_are_kept(tmp_path):
    pts_ms = np.array([0, 90, 210, 300, 420, 500, 640, 700, 810, 1000])
    p = _write(tmp_path / "vfr.mkv", _planted(), "ffv1", "gray", pts_ms=pts_ms)
    m = read_movie(p, pixel_size_um=1.0)
    np.testing.assert_allclose(m.t, pts_ms / 1000, atol=1e-9)
    info = describe_movie(p)
    assert info["first_interval_s"] == pytest.approx(0.09)
    assert info["pixel_size_um"] is None


def test_video_needs_a_pixel_size_and_is_read_eagerly(tmp_path):
    p = _write(tmp_path / "m.avi", _planted(4), "ffv1", "gray")
    with pytest.raises(InputError, match="pixel_size_um") as err:
        read_movie(p)
    assert str(p) in str(err.value)
    m = read_movie(p, pixel_size_um=1.0, lazy=True)  # documented: video is decoded into memory
    assert isinstance(m.data, np.ndarray)


def test_truncated_video_is_reported(tmp_path):
    p = _write(tmp_path / "m.avi", _planted(), "ffv1", "gray")
    blob = p.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(blob[: int(len(blob) * 0.7)])
    with pytest.raises(InputError, match="truncated") as err:
        read_movie(cut, pixel_size_um=1.0)
    assert str(cut) in str(err.value)
