"""Is the motion in a shift table more than noise? (the registration's decision rule)

Shared by :func:`platescope.optics.stabilize_movie` (on the full registration's shifts)
and :class:`platescope.optics._drift_screen.DriftScreen` (on the screen's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["motion_is_significant", "shift_significance"]


def shift_significance(
    shifts: pd.DataFrame, reference: int, false_alarm: float, reference_err=None
) -> dict[str, float]:
    """Is any motion in a shift table more than noise? Two tests, each at
    ``false_alarm`` / 2 for a still stage and a right error estimate.

    The shifts are relative to the reference frame, so they all carry its own error
    (σ_ref per axis, ``reference_err``): a still movie shows a common offset of about
    σ_ref and frame-to-frame noise about it. (1) **Offset**: z = √((m_y/σ_ref,y)² +
    (m_x/σ_ref,x)²) of the median shift m (the stage moved once and stayed); (2)
    **frames**: per frame z_k = √(Σ ((d − m)/σ_own)²), σ_own² = σ² − σ_ref² (the
    frame's error without the reference's; at least half of σ), the largest over the
    n frames. z² is χ² with 2 degrees of freedom, P(z > T) = exp(−T²/2), so the
    limits are √(2 ln(2 / false_alarm)) for the offset and √(2 ln(2n / false_alarm))
    for the largest of n frames (a union bound). A fixed multiple of the error is
    exceeded by noise alone in a long movie (the largest of 1500 still frames is
    ≈ 3.8σ), and testing |d| against σ without separating the common offset adds the
    reference frame's error to every frame's test.
    """
    keep = shifts["frame"].to_numpy(int) != int(reference)
    d = shifts.loc[keep, ["dy_px", "dx_px"]].to_numpy(float)
    e = shifts.loc[keep, ["err_dy_px", "err_dx_px"]].to_numpy(float)
    fin = np.isfinite(d).all(axis=1) & np.isfinite(e).all(axis=1) & (e > 0).all(axis=1)
    d, e = d[fin], e[fin]
    n = max(int(d.shape[0]), 1)
    out = {
        "offset_sigma": 0.0,
        "offset_limit_sigma": float(np.sqrt(2.0 * np.log(2.0 / false_alarm))),
        "frames_sigma": 0.0,
        "frames_limit_sigma": float(np.sqrt(2.0 * np.log(2.0 * n / false_alarm))),
        "n": n,
    }
    if not d.shape[0]:
        return out
    ref_err = (
        np.zeros(2) if reference_err is None else np.nan_to_num(np.asarray(reference_err, float))
    )
    m = np.median(d, axis=0)
    if np.all(ref_err > 0):
        out["offset_sigma"] = float(np.sqrt(np.sum((m / ref_err) ** 2)))
        own = np.sqrt(np.maximum(e**2 - ref_err[None] ** 2, 0.25 * e**2))
        out["frames_sigma"] = float(np.sqrt(np.sum(((d - m) / own) ** 2, axis=1)).max())
    else:  # no separate reference error: every frame against its whole error
        out["frames_sigma"] = float(np.sqrt(np.sum((d / e) ** 2, axis=1)).max())
    return out


def motion_is_significant(sig: dict) -> bool:
    """True when either test of :func:`shift_significance` reaches its limit."""
    return bool(
        sig["offset_sigma"] >= sig["offset_limit_sigma"]
        or sig["frames_sigma"] >= sig["frames_limit_sigma"]
    )
