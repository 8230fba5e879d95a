"""Nikon ND2 movies via the ``nd2`` package (optional extra ``platescope[nd2]``).

Per-frame times come from each frame's ``relativeTimeMs`` (ms since the start of
the acquisition) of the selected channel; ``t0`` from the same frame's
``absoluteJulianDayNumber`` (a UTC Julian date) minus that relative time. The pixel
size is the calibrated voxel size (µm); an uncalibrated file has none. A file whose
time loop is a z-stack per time point gives, per time point, the frame of the
chosen ``z``; without a time loop a single z/position loop is taken as the frame
axis.
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nd2
import numpy as np

from platescope._errors import InputError
from platescope.io._movie import RawMovie, to_utc_iso

_JD_UNIX_EPOCH = 2440587.5
_FIX_DAMAGED = "re-export the ND2 file from NIS-Elements or copy it again from the instrument computer (the copy may be incomplete)"


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 120 else text[:117] + "..."


def _julian_to_utc_iso(jd: float) -> str | None:
    if not math.isfinite(jd) or jd < 2_000_000:  # not a plausible date
        return None
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=jd - _JD_UNIX_EPOCH)
    return to_utc_iso(moment)


def probe(path: Path, *, channel: int = 0, z: int = 0, position: int = 0) -> RawMovie:
    """Inspect an ND2 file (metadata only) and return a :class:`RawMovie`."""
    try:
        f = nd2.ND2File(path)
    except Exception as exc:  # nd2 raises a variety of errors on damaged files
        raise InputError(
            path,
            f"the ND2 file cannot be opened ({_short(exc)}); it looks truncated or corrupt",
            _FIX_DAMAGED,
        ) from exc
    try:
        return _probe_open(f, path, channel, z, position)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            path,
            f"the ND2 metadata cannot be read ({_short(exc)}); the file looks truncated or corrupt",
            _FIX_DAMAGED,
        ) from exc
    finally:
        f.close()


def _probe_open(f: Any, path: Path, channel: int, z: int, position: int) -> RawMovie:
    sizes = dict(f.sizes)
    if "S" in sizes and sizes["S"] > 1:
        raise InputError(
            path,
            "the ND2 file holds RGB images; platescope reads greyscale movies",
            "export a greyscale channel from NIS-Elements",
        )
    loops = [ax for ax in sizes if ax not in ("C", "Y", "X", "S")]
    if "T" in loops:
        frame_axis = "T"
    else:
        others = [ax for ax in loops if ax != "P"]
        frame_axis = others[0] if len(others) == 1 else ""
        if len(others) > 1:
            raise InputError(
                path,
                f"the ND2 file has no time loop and several other loops ({''.join(others)})",
                "export one time series per file",
            )
    wanted = {"C": ("channel", channel), "Z": ("z", z), "P": ("position", position)}
    chosen: dict[str, int] = {}
    for ax, size in sizes.items():
        if ax in ("Y", "X", "S") or ax == frame_axis:
            continue
        if ax not in wanted:
            raise InputError(
                path,
                f"the ND2 file has a loop {ax!r} of size {size} that platescope cannot select",
                "export one time series per file",
            )
        name, want = wanted[ax]
        if not 0 <= want < size:
            raise InputError(
                None,
                f"{path}: {name}={want} requested but the file has {size} ({ax})",
                f"pass {name} between 0 and {size - 1}",
            )
        chosen[name] = want
    for ax, (name, want) in wanted.items():
        if want != 0 and name not in chosen:
            raise InputError(
                None,
                f"{path}: {name}={want} requested but the ND2 file has no {ax} loop to choose from",
                f"leave {name} at 0 for this file",
            )
    n_frames = sizes[frame_axis] if frame_axis else 1
    height, width = sizes["Y"], sizes["X"]

    # sequence (frame) index of each selected frame, from the file's own loop indices
    loop_indices = list(f.loop_indices)
    target = {ax: chosen[wanted[ax][0]] for ax in loops if ax != frame_axis and ax in wanted}
    seq = np.full(n_frames, -1)
    for s, idx in enumerate(loop_indices):
        if all(idx.get(ax, 0) == v for ax, v in target.items()):
            i = idx.get(frame_axis, 0) if frame_axis else 0
            if i < n_frames and seq[i] < 0:
                seq[i] = s
    if (seq < 0).any():
        raise InputError(
            path,
            f"the ND2 file lacks frame {int(np.flatnonzero(seq < 0)[0])} of the selected series; it may be truncated",
            _FIX_DAMAGED,
        )

    c = chosen.get("channel", 0)
    times = np.full(n_frames, np.nan)
    t0 = None
    for i, s in enumerate(seq):
        with contextlib.suppress(Exception):
            stamp = f.frame_metadata(int(s)).channels[c].time
            times[i] = float(stamp.relativeTimeMs) / 1e3
            if t0 is None:
                t0_iso = _julian_to_utc_iso(float(stamp.absoluteJulianDayNumber))
                if t0_iso is not None:
                    t0 = to_utc_iso(datetime.fromisoformat(t0_iso) - timedelta(seconds=times[i]))

    pixel = None
    with contextlib.suppress(Exception):
        calibrated = f.metadata.channels[0].volume.axesCalibrated
        vx = f.voxel_size()
        if calibrated[0] and calibrated[1] and vx.x > 0 and vx.y > 0:
            pixel = (float(vx.y), float(vx.x))
    interval = None
    with contextlib.suppress(Exception):
        for loop in f.experiment:
            if loop.type == "TimeLoop" and loop.parameters.periodMs > 0:
                interval = loop.parameters.periodMs / 1e3
                break

    axes = [ax for ax in sizes if ax not in ("S",)]
    index = tuple(
        slice(None) if ax == frame_axis or ax in ("Y", "X") else chosen[wanted[ax][0]]
        for ax in axes
    )
    dtype = np.dtype(f.dtype)

    def load(lazy: bool) -> Any:
        try:
            with nd2.ND2File(path) as g:
                arr = g.to_dask()[index]
                if arr.ndim == 2:
                    arr = arr[None]
                if lazy:
                    return arr
                return np.asarray(arr.compute())
        except Exception as exc:
            raise InputError(
                path,
                f"the ND2 pixel data cannot be read ({_short(exc)}); the file looks truncated or corrupt",
                _FIX_DAMAGED,
            ) from exc

    return RawMovie(
        path=str(path),
        format="nd2",
        n_frames=n_frames,
        height=height,
        width=width,
        dtype=dtype,
        load=load,
        frame_axis=frame_axis or "none",
        frame_times_s=times,
        frame_times_source="nd2 frame time",
        frame_interval_s=interval,
        frame_interval_source="nd2 TimeLoop period" if interval else None,
        pixel_size_um=pixel,
        pixel_size_source="nd2 voxel size" if pixel else None,
        t0=t0,
        selection=chosen,
    )
