"""Static, non-alloying structure of a see-through cell (issue 13: onset maps with drift).

A real see-through cell shows more than the alloying film: dust and scratches on the
cell window, and, at the edge of the film electrode, bare glass (under the separator)
that never alloys. Both move with the stage but never change, so they are what a drift
registration can lock on to (the simulated film alone changes everywhere). The
see-through simulators take the parameters in :data:`STATIC_PARAMETERS`, off by default
(nothing is drawn and the movies are unchanged, bit for bit, when they are off).

Model (multiplies the noise-free frames, before stage motion and camera noise):

* ``static_texture`` = c: a window transmission ``W = 1 − c·S`` with ``S`` a fixed
  pattern of unit rms (zero mean before clipping): dark dust specks (Gaussian spots,
  σ 0.06–0.25 µm, about one per 2 µm²), a few straight scratches (σ 0.05 µm across)
  and a fine grain (correlation 0.1 µm), blurred by the PSF; ``W`` is clipped to
  [0.05, 1.5]. Trans light crosses the window once (× W), epi light twice (× W²).
* ``static_strip_um`` = w: the right-most w µm of the field lie beyond the film's edge:
  bare glass, ``GLASS_TRANS`` × the pristine film's transmission and ``GLASS_EPI`` ×
  its reflection, with no SEI, alloying, Li or pores (its onset truth is NaN); the edge
  is a straight line, blurred by the PSF.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from platescope._params import Param

__all__ = ["STATIC_PARAMETERS", "static_structure"]

#: Bare glass relative to the pristine film: brighter in trans (no metal absorbance),
#: darker in epi (glass reflects ~4 %, a thin Au film ~20 %).
GLASS_TRANS = 1.6
GLASS_EPI = 0.25

#: Simulator parameters of the static structure (off by default).
STATIC_PARAMETERS: dict[str, Param] = {
    "static_texture": Param(
        0.0,
        float,
        "rms contrast of fixed dust, scratches and grain on the cell window (does not "
        "alloy; moves with the stage), 0 = none",
        0.0,
        0.5,
    ),
    "static_strip_um": Param(
        0.0,
        float,
        "width of a non-alloying strip of bare glass beyond the film electrode's edge, "
        "along the right side of the field, µm (0 = none)",
        0.0,
        100.0,
    ),
}


def _unit_rms(z: np.ndarray) -> np.ndarray:
    z = z - z.mean()
    sd = float(z.std())
    return z / sd if sd > 0 else z


def static_structure(
    seed: int, shape: tuple[int, int], pixel_size_um: float, psf_sigma_px: float, p: Mapping
) -> dict[str, Any] | None:
    """The static structure of a see-through field, or None when it is off.

    Parameters
    ----------
    seed : int
        The simulation seed (the structure has its own random stream derived from it).
    shape : (int, int)
        Field (y, x) in pixels.
    pixel_size_um : float
        Pixel size, µm.
    psf_sigma_px : float
        Gaussian PSF σ, px (the structure is imaged through it too).
    p : mapping
        Resolved parameters holding the keys of :data:`STATIC_PARAMETERS`.

    Returns
    -------
    dict or None
        ``window`` (float32 (y, x): the window's transmission W, 1 without texture),
        ``glass`` (float32 (y, x): 0 on the film, 1 on the bare glass, PSF-blurred
        edge), ``glass_mask`` (bool: glass ≥ 0.5), ``strip_x0_um`` (x of the film's
        edge, µm, or None) and the parameters.

    Examples
    --------
    >>> s = static_structure(1, (64, 64), 0.08, 1.0,
    ...                      {"static_texture": 0.1, "static_strip_um": 1.0})
    >>> round(float(s["window"].std()), 2), int(s["glass_mask"][0].sum())
    (0.1, 13)
    >>> static_structure(1, (64, 64), 0.08, 1.0,
    ...                  {"static_texture": 0.0, "static_strip_um": 0.0}) is None
    True
    """
    c = float(p.get("static_texture") or 0.0)
    w_um = float(p.get("static_strip_um") or 0.0)
    if c <= 0 and w_um <= 0:
        return None
    ny, nx = shape
    px = float(pixel_size_um)
    window = np.ones(shape, np.float32)
    if c > 0:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x57A7_1C]))
        yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
        # dust: about one speck per 2 µm², Gaussian spots of σ 0.06–0.25 µm
        n_dust = max(int(round(ny * nx * px * px / 2.0)), 1)
        dust = np.zeros(shape)
        cy, cx = rng.uniform(0, ny, n_dust), rng.uniform(0, nx, n_dust)
        sig = rng.uniform(0.06, 0.25, n_dust) / px
        depth = rng.uniform(0.3, 1.0, n_dust)
        for y0, x0, s, d in zip(cy, cx, sig, depth, strict=True):
            r = int(np.ceil(4 * s)) + 1
            sl = (
                slice(max(int(y0) - r, 0), min(int(y0) + r + 1, ny)),
                slice(max(int(x0) - r, 0), min(int(x0) + r + 1, nx)),
            )
            dust[sl] += d * np.exp(-((yy[sl] - y0) ** 2 + (xx[sl] - x0) ** 2) / (2 * s * s))
        # scratches: straight lines across the field, σ 0.05 µm across
        scratch = np.zeros(shape)
        for _ in range(3):
            ang = rng.uniform(0, np.pi)
            y0, x0 = rng.uniform(0, ny), rng.uniform(0, nx)
            dist = (yy - y0) * np.cos(ang) - (xx - x0) * np.sin(ang)
            s = max(0.05 / px, 0.5)
            scratch += rng.uniform(0.3, 0.8) * np.exp(-(dist**2) / (2 * s * s))
        grain = _unit_rms(ndimage.gaussian_filter(rng.standard_normal(shape), 0.1 / px))
        pattern = _unit_rms(dust) + 0.5 * _unit_rms(scratch) + 0.5 * grain
        if psf_sigma_px > 0:
            pattern = ndimage.gaussian_filter(pattern, psf_sigma_px, mode="wrap")
        window = np.clip(1.0 - c * _unit_rms(pattern), 0.05, 1.5).astype(np.float32)
    glass = np.zeros(shape, np.float32)
    x0_um = None
    if w_um > 0:
        x_um = np.arange(nx) * px
        x0_um = float((nx - 1) * px - w_um)
        edge = np.clip((x_um - x0_um) / px + 0.5, 0.0, 1.0)  # anti-aliased straight edge
        if psf_sigma_px > 0:
            edge = ndimage.gaussian_filter1d(edge, psf_sigma_px, mode="nearest")
        glass[:] = edge[None, :].astype(np.float32)
    return {
        "window": window,
        "glass": glass,
        "glass_mask": glass >= 0.5,
        "strip_x0_um": x0_um,
        "parameters": {"static_texture": c, "static_strip_um": w_um},
    }


def apply_static_structure(
    trans: np.ndarray, epi: np.ndarray, structure: dict[str, Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Frames relative to the pristine film (t, y, x) → the same through the static
    structure: bare glass beside the film's edge, the window's dust over everything.

    Examples
    --------
    >>> s = static_structure(1, (32, 32), 0.08, 0.0, {"static_strip_um": 0.5})
    >>> tr, ep = apply_static_structure(np.full((1, 32, 32), 0.5, np.float32),
    ...                                 np.ones((1, 32, 32), np.float32), s)
    >>> [round(float(v), 4) for v in (tr[0, 0, 0], tr[0, 0, -1], ep[0, 0, -1])]
    [0.5, 1.6, 0.25]
    """
    if structure is None:
        return trans, epi
    g = structure["glass"][None]
    w = structure["window"][None]
    tr = ((1 - g) * trans + g * np.float32(GLASS_TRANS)) * w
    ep = ((1 - g) * epi + g * np.float32(GLASS_EPI)) * w * w
    return tr.astype(np.float32), ep.astype(np.float32)


def structure_truth(structure: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``truth["static_structure"]`` block (None when off)."""
    if structure is None:
        return None
    return {
        **structure["parameters"],
        "window_rms_contrast": float(structure["window"].std()),
        "strip_x0_um": structure["strip_x0_um"],
        "glass_fraction": float(structure["glass_mask"].mean()),
        "definition": "static, non-alloying structure that moves with the stage: the "
        "window's transmission W (dust, scratches, grain) multiplies trans once and epi "
        "twice; x ≥ strip_x0_um is bare glass (no film: no alloying, Li or pores; onset "
        "truth NaN there)",
    }
