"""AVI/MP4/MOV/MKV movies via PyAV (optional extra ``platescope[video]``).

Frames are decoded in presentation order and converted to greyscale: 8-bit video
gives ``uint8`` luma (Y of BT.601 YUV, as libswscale computes it for ``gray``),
video with more than 8 bits per sample gives ``uint16`` (``gray16le``). Per-frame
times are the presentation timestamps (``pts × time_base``, s) of the first video
stream; the constant-interval fallback is the stream's average frame rate. ``t0``
is the container's ``creation_time`` when it carries one. Videos are always
decoded into memory (``lazy`` does not apply). Videos carry no pixel size.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

from platescope._errors import InputError
from platescope.io._movie import RawMovie, refuse_selection, to_utc_iso

_FIX = (
    "copy the video again or re-export it from the acquisition software; a multi-page TIFF "
    "keeps per-frame times and pixel size, which video cannot"
)


def _deep(pix_fmt: str | None) -> bool:
    name = (pix_fmt or "").lower()
    return any(tag in name for tag in ("16", "p10", "p12", "p14", "10le", "12le", "10be", "12be"))


def _open(path: Path) -> Any:
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InputError(
            path, f"the video cannot be opened ({exc}); it may be truncated or corrupt", _FIX
        ) from exc
    if not container.streams.video:
        container.close()
        raise InputError(path, "the file has no video stream", "pass a movie file")
    return container


def _creation_time(container: Any) -> str | None:
    text = (container.metadata or {}).get("creation_time")
    if not text:
        return None
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            return to_utc_iso(moment)
    return None


def _decode(path: Path, *, pixels: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """Decode the first video stream: frames (if ``pixels``) and presentation times in s."""
    container = _open(path)
    frames: list[np.ndarray] = []
    times: list[float] = []
    try:
        stream = container.streams.video[0]
        fmt = "gray16le" if _deep(stream.codec_context.pix_fmt) else "gray"
        for frame in container.decode(stream):
            if pixels:
                frames.append(frame.to_ndarray(format=fmt))
            times.append(np.nan if frame.time is None else float(frame.time))
    except av.FFmpegError as exc:
        raise InputError(
            path,
            f"the video stream cannot be decoded after {len(times)} frames ({exc}); it may be truncated",
            _FIX,
        ) from exc
    finally:
        container.close()
    if not times:
        raise InputError(path, "the video has no decodable frames", _FIX)
    return frames, np.asarray(times, dtype=float)


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect a video file and return a :class:`RawMovie`.

    The frames are decoded once to learn their number and presentation times (the
    decoder, not the packet list, decides which frames are shown: edit lists and
    B-frame reordering are honoured); ``load`` decodes again for the pixels.
    """
    refuse_selection(path, "a video", channel=channel, z=z, position=position)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        height, width = int(stream.codec_context.height), int(stream.codec_context.width)
        deep = _deep(stream.codec_context.pix_fmt)
        promised = int(stream.frames or 0)
        rate = float(stream.average_rate) if stream.average_rate else None
        t0 = _creation_time(container)
    finally:
        container.close()
    _, times = _decode(path, pixels=False)
    n_frames = times.size
    if promised > n_frames:
        raise InputError(
            path,
            f"the video looks truncated: its header promises {promised} frames but only {n_frames} can be decoded",
            _FIX,
        )

    def load(lazy: bool) -> Any:
        frames, _ = _decode(path, pixels=True)
        if len(frames) != n_frames:
            raise InputError(
                path,
                f"the video gave {n_frames} frames once and {len(frames)} the next time; it may be damaged",
                _FIX,
            )
        return np.stack(frames)

    return RawMovie(
        path=str(path),
        format="video",
        n_frames=n_frames,
        height=height,
        width=width,
        dtype=np.dtype(np.uint16 if deep else np.uint8),
        load=load,
        frame_times_s=times,
        frame_times_source="video pts",
        frame_interval_s=1.0 / rate if rate else None,
        frame_interval_source="video frame rate" if rate else None,
        t0=t0,
        always_eager=True,
    )
