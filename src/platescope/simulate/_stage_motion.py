"""Stage drift, vibration and bad frames for the movie simulators (issue 13, item 3).

Real rigs drift and vibrate and now and then blur or drop a frame. The movie simulators
(``irm-galvanostatic``, ``irm-cv``, ``see-through-au/ag``) take the parameters in
:data:`STAGE_PARAMETERS`, all off by default (a default simulation is unchanged, bit for
bit: the motion has its own random stream and nothing is drawn when it is off).

Model, per frame k of the noise-free movie (before camera noise):

* content displacement ``d_k = drift·(t_k − t_0)/(t_last − t_0)·u + W_k + J_k − (same at
  k = 0)``, with ``u`` a random unit vector, ``W`` a Gaussian random walk of step sd
  ``stage_walk_px`` and ``J`` white jitter of sd ``vibration_px`` per axis; frame 0 is
  not displaced (it is the scene the truth maps describe);
* the frame is moved by ``d_k`` (cubic spline, mirror edges);
* a fraction ``blurred_frame_frac`` of frames (never the first 3) is blurred by a
  Gaussian of σ = ``blur_sigma_px``; a fraction ``dark_frame_frac`` (never the first 3)
  is black (0 counts before read noise: a dropped frame).

The truth (``truth["registration"]``): ``dy_px``, ``dx_px`` per frame (content
displacement relative to frame 0, the convention of
:func:`platescope.optics.register_drift`), ``blurred_frames``, ``dark_frames``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from platescope._params import Param

__all__ = ["STAGE_PARAMETERS", "apply_stage_motion", "stage_motion"]

#: Simulator parameters of stage motion and bad frames (all off by default).
STAGE_PARAMETERS: dict[str, Param] = {
    "stage_drift_px": Param(
        0.0, float, "linear stage drift over the whole movie, px (random direction)", 0.0, 200.0
    ),
    "stage_walk_px": Param(
        0.0, float, "random-walk stage drift, sd of each frame's step per axis, px", 0.0, 10.0
    ),
    "vibration_px": Param(0.0, float, "per-frame stage jitter sd per axis, px", 0.0, 20.0),
    "blurred_frame_frac": Param(
        0.0, float, "fraction of frames blurred (focus loss), never the first 3", 0.0, 0.5
    ),
    "blur_sigma_px": Param(4.0, float, "Gaussian σ of a blurred frame, px", 0.0, 20.0),
    "dark_frame_frac": Param(
        0.0, float, "fraction of frames dropped (black), never the first 3", 0.0, 0.5
    ),
}

_MOTION_KEYS = tuple(STAGE_PARAMETERS)


def stage_motion(seed: int, n_frames: int, p: Mapping[str, Any]) -> dict[str, Any] | None:
    """Planted per-frame displacement and bad frames, or None when all are off.

    Parameters
    ----------
    seed : int
        The simulation seed (the motion has its own stream derived from it).
    n_frames : int
        Frames in the movie.
    p : mapping
        Resolved parameters holding the keys of :data:`STAGE_PARAMETERS`.

    Returns
    -------
    dict or None
        ``dy_px``, ``dx_px`` (ndarray, content displacement relative to frame 0),
        ``blurred_frames``, ``dark_frames`` (sorted lists of frame indices) and the
        parameters used.

    Examples
    --------
    >>> m = stage_motion(1, 50, {"stage_drift_px": 5.0, "vibration_px": 0.0,
    ...                          "stage_walk_px": 0.0, "blurred_frame_frac": 0.1,
    ...                          "blur_sigma_px": 2.0, "dark_frame_frac": 0.0})
    >>> round(float(np.hypot(m["dy_px"][-1], m["dx_px"][-1])), 6), len(m["blurred_frames"])
    (5.0, 5)
    >>> stage_motion(1, 50, {k: 0.0 for k in STAGE_PARAMETERS}) is None
    True
    """
    if not any(p.get(k) for k in _MOTION_KEYS if k != "blur_sigma_px"):
        return None
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED_D81F]))
    n = int(n_frames)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = np.linspace(0.0, 1.0, n) * float(p.get("stage_drift_px") or 0.0)
    d = np.stack([ramp * np.sin(ang), ramp * np.cos(ang)], axis=1)
    walk = rng.normal(0.0, float(p.get("stage_walk_px") or 0.0), (n, 2))
    walk[0] = 0.0
    d += np.cumsum(walk, axis=0)
    jit = rng.normal(0.0, float(p.get("vibration_px") or 0.0), (n, 2))
    d += jit - jit[0]
    candidates = np.arange(3, n)
    n_blur = int(round(float(p.get("blurred_frame_frac") or 0.0) * n))
    n_dark = int(round(float(p.get("dark_frame_frac") or 0.0) * n))
    picks = rng.permutation(candidates)[: min(n_blur + n_dark, candidates.size)]
    return {
        "dy_px": d[:, 0],
        "dx_px": d[:, 1],
        "blurred_frames": sorted(int(k) for k in picks[:n_blur]),
        "dark_frames": sorted(int(k) for k in picks[n_blur:]),
        "blur_sigma_px": float(p.get("blur_sigma_px") or 0.0),
        "parameters": {k: float(p.get(k) or 0.0) for k in _MOTION_KEYS},
    }


def apply_stage_motion(frames: np.ndarray, motion: dict[str, Any] | None) -> np.ndarray:
    """Move, blur and drop frames of a noise-free movie (in place when float32).

    Parameters
    ----------
    frames : ndarray
        Noise-free movie (t, y, x), counts.
    motion : dict or None
        :func:`stage_motion` output (None: returned unchanged).

    Returns
    -------
    ndarray
        The movie as the camera would see it (float32).

    Examples
    --------
    >>> f = np.zeros((4, 9, 9), np.float32); f[:, 4, 4] = 1.0
    >>> mo = {"dy_px": np.array([0, 0, 1, 0.0]), "dx_px": np.zeros(4),
    ...       "blurred_frames": [], "dark_frames": [3], "blur_sigma_px": 1.0}
    >>> out = apply_stage_motion(f, mo)
    >>> int(np.argmax(out[2][:, 4])), float(out[3].max())
    (5, 0.0)
    """
    if motion is None:
        return frames
    out = np.asarray(frames, dtype=np.float32)
    blurred = set(motion["blurred_frames"])
    dark = set(motion["dark_frames"])
    for k in range(out.shape[0]):
        if k in dark:
            out[k] = 0.0
            continue
        dy, dx = float(motion["dy_px"][k]), float(motion["dx_px"][k])
        img = out[k].astype(np.float64)
        if dy or dx:
            img = ndimage.shift(img, (dy, dx), order=3, mode="mirror")
        if k in blurred and motion["blur_sigma_px"] > 0:
            img = ndimage.gaussian_filter(img, motion["blur_sigma_px"], mode="mirror")
        out[k] = img
    return out


def motion_truth(motion: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``truth["registration"]`` block of a motion (None when off)."""
    if motion is None:
        return None
    return {
        "dy_px": [float(v) for v in motion["dy_px"]],
        "dx_px": [float(v) for v in motion["dx_px"]],
        "blurred_frames": list(motion["blurred_frames"]),
        "dark_frames": list(motion["dark_frames"]),
        "definition": "content displacement of each frame relative to frame 0 (px): the "
        "frame shows at (y, x) what frame 0 shows at (y − dy, x − dx); blurred frames are "
        "Gaussian-blurred, dark frames are black before read noise",
        **motion["parameters"],
    }
