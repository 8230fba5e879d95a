"""An exposure strobe in the simulated EC-Lab record (``Analog IN 1/V``).

Option of the movie simulators (off by default): the camera's "exposure active" TTL
output recorded by the potentiostat's auxiliary input. The record is resampled at
``strobe_sample_period_s`` and gains ``aux1_V``: 0 V, 5 V during each exposure (centred
on the frame's true time, 60 % of its interval; edges with a 0.1 ms analogue rise,
sampled instantaneously; each edge jittered by ``strobe_jitter_ms``), 5 mV noise, and
``strobe_extra_pulses`` 1 ms glitch pulses between exposures. ``strobe_drop_frac`` of the
frames after contact are dropped from the movie (the camera exposed them, the file lacks
them) and the movie's own time stamps get ``timestamp_jitter_ms`` of software jitter.
The truth (exposure centres of the frames kept, on the echem clock) goes to
``truth["strobe"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from platescope._params import Param

STROBE_PARAMETERS: dict[str, Param] = {
    "strobe": Param(
        False, bool, "record the camera's exposure strobe in an EC-Lab Analog IN 1/V column"
    ),
    "strobe_sample_period_s": Param(
        1e-3, float, "echem sample period when the strobe is recorded, s", 1e-5, 0.1, True
    ),
    "strobe_jitter_ms": Param(0.2, float, "sd of each strobe edge's timing jitter, ms", 0.0, 5.0),
    "strobe_drop_frac": Param(
        0.05, float, "fraction of frames after contact dropped from the movie file", 0.0, 0.3
    ),
    "strobe_extra_pulses": Param(5, int, "1 ms glitch pulses added to the aux channel", 0, 1000),
    "timestamp_jitter_ms": Param(
        5.0, float, "sd of the software jitter of the movie's own time stamps, ms", 0.0, 50.0
    ),
}

_HIGH_V = 5.0
_RISE_S = 1e-4
_NOISE_V = 5e-3
_EXPOSURE_FRAC = 0.6


def add_strobe(
    sim: dict[str, Any], p: dict[str, Any], seed: int, *, movie_keys: tuple[str, ...] = ("movie",)
) -> dict[str, Any]:
    """Return a copy of ``sim`` with the strobe recorded, frames dropped, times jittered.

    The record to write is ``echem_file`` (resampled, with ``aux1_V``); ``echem`` is
    left as simulated.

    ``sim`` holds ``echem`` (DataFrame, echem clock), ``movie`` (t, y, x),
    ``frame_times_s`` (movie clock, the true exposure centres) and either
    ``frame_times_echem_s`` or ``truth["sync"]["offset_s"]``; every key of
    ``movie_keys`` is a movie that loses the dropped frames. ``p`` holds :data:`STROBE_PARAMETERS`. The copy's
    ``truth["strobe"]`` holds ``frame_times_echem_s`` (frames kept), ``dropped_frames``
    (indices into the full movie), ``extra_pulse_times_s`` and the settings.
    """
    rng = np.random.default_rng([seed, 1717])
    out = dict(sim)
    if "frame_times_echem_s" in sim:
        t_true = np.asarray(sim["frame_times_echem_s"], float)
    else:
        offset = float(sim["truth"]["sync"]["offset_s"])
        t_true = np.asarray(sim["frame_times_s"], float) - offset  # echem clock
    n = t_true.size
    interval = np.gradient(t_true) if n > 1 else np.array([1.0])
    half = 0.5 * _EXPOSURE_FRAC * interval
    jit = 1e-3 * p["strobe_jitter_ms"]
    rise = t_true - half + rng.normal(0.0, jit, n)
    fall = t_true + half + rng.normal(0.0, jit, n)
    echem = sim["echem"]
    te = echem["time_s"].to_numpy(float)
    dt = p["strobe_sample_period_s"]
    tf = np.arange(te[0], te[-1] + 0.5 * dt, dt)
    cols = {}
    for c in echem.columns:
        v = echem[c].to_numpy()
        if np.issubdtype(v.dtype, np.integer):
            k = np.clip(np.searchsorted(te, tf, side="right") - 1, 0, te.size - 1)
            cols[c] = v[k]
        else:
            cols[c] = np.interp(tf, te, v.astype(float))
    cols["time_s"] = tf
    # the exposure pulses (instantaneous samples of trapezoids), then glitches
    k = np.clip(np.searchsorted(rise, tf + 0.5 * _RISE_S) - 1, 0, n - 1)
    up = (tf - rise[k]) / _RISE_S + 0.5
    down = (fall[k] - tf) / _RISE_S + 0.5
    aux = _HIGH_V * np.clip(np.minimum(up, down), 0.0, 1.0)
    extras = []
    gaps = np.flatnonzero((rise[1:] - fall[:-1]) > 4e-3)
    gaps = gaps[(fall[gaps] > tf[0]) & (rise[gaps + 1] < tf[-1])]
    if gaps.size and p["strobe_extra_pulses"]:
        pick = rng.choice(gaps, size=min(p["strobe_extra_pulses"], gaps.size), replace=False)
        for g in np.sort(pick):
            g0 = 0.5 * (fall[g] + rise[g + 1]) - 5e-4
            extras.append(g0 + 5e-4)
            aux = np.maximum(
                aux,
                _HIGH_V
                * np.clip(
                    np.minimum((tf - g0) / _RISE_S + 0.5, (g0 + 1e-3 - tf) / _RISE_S + 0.5), 0, 1
                ),
            )
    aux += rng.normal(0.0, _NOISE_V, tf.size)
    cols["aux1_V"] = aux
    new_echem = pd.DataFrame(cols)
    new_echem.attrs = dict(echem.attrs)
    # frames dropped from the file (after contact, away from the landing step)
    after = np.flatnonzero(t_true > 3.0 * np.median(interval))
    n_drop = int(round(p["strobe_drop_frac"] * after.size))
    dropped = np.sort(rng.choice(after[:-1], size=n_drop, replace=False)) if n_drop else []
    keep = np.ones(n, dtype=bool)
    keep[np.asarray(dropped, dtype=int)] = False
    stamps = np.asarray(sim["frame_times_s"], float)[keep]
    stamps = stamps + rng.normal(0.0, 1e-3 * p["timestamp_jitter_ms"], stamps.size)
    stamps = np.maximum.accumulate(stamps)  # software time never runs back here
    out.update(echem_file=new_echem, frame_times_s=stamps)
    for key in movie_keys:
        out[key] = np.asarray(sim[key])[keep]
    truth = dict(sim["truth"])
    truth["strobe"] = {
        "definition": "exposure centres of the frames in the movie file, echem clock (s); "
        "frame k of the file is frame_times_echem_s[k]",
        "frame_times_echem_s": t_true[keep].tolist(),
        "dropped_frames": [int(i) for i in dropped],
        "n_dropped": int(len(dropped)),
        "dropped_frame_times_echem_s": t_true[np.asarray(dropped, dtype=int)].tolist(),
        "extra_pulse_times_s": extras,
        "n_frames_before_record": int((t_true[keep] < te[0]).sum()),
        "channel": "Analog IN 1/V (aux1_V)",
        **{k: p[k] for k in STROBE_PARAMETERS},
    }
    out["truth"] = truth
    return out
