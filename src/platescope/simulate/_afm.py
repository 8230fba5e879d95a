"""The ``afm`` scenario: in situ AFM height maps of a Li surface growing SEI on its ridges.

A Li foil surface (random isotropic texture of planted Sq) crossed by straight
flat-topped ridges (grain boundaries / rolling ridges) is imaged every
``interval_s``. SEI grows everywhere at ``rate_flat_nm_h`` and faster on the ridges,
``rate_feature_nm_h`` (Lin et al. 2016 in the review, §5: the high points grow, the
low points stay). Each frame carries the artefacts an analysis must remove: a random
plane tilt and bow, a z offset (piezo drift / re-engagement), scan-line offsets (a
random walk over rows), lateral drift (sub-pixel shifts) and white noise.

:func:`make_afm_series` builds everything in memory; :func:`afm_series` writes the
frames (Gwyddion ``.gsf``; one frame as a height TIFF for format variety),
``experiment.toml`` (``[[afm_maps]]`` entries) and ``truth/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

import platescope
from platescope.simulate._common import (
    Param,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
    write_truth_tiff,
)

__all__ = ["PARAMETERS", "afm_series", "make_afm_series"]

SCENARIO = "afm"
_PAD = 24  # canvas margin (px) so drifted frames never sample outside the surface

PARAMETERS: dict[str, Param] = {
    "n_frames": Param(5, int, "number of height maps", 1, 50),
    "interval_s": Param(3600.0, float, "time between maps, s", 1.0, 1e6, True),
    "size_px": Param(256, int, "map size (square), pixels", 64, 1024),
    "pixel_size_um": Param(0.04, float, "pixel size, µm", 1e-4, 10.0, True),
    "texture_sq_nm": Param(2.0, float, "Sq of the planted random texture, nm", 0.0, 100.0),
    "texture_corr_px": Param(3.0, float, "texture correlation length (Gaussian σ), px", 0.5, 20),
    "n_ridges": Param(5, int, "number of ridges crossing the map", 0, 30),
    "ridge_height_nm": Param(15.0, float, "initial ridge height, nm", 0.0, 1000.0),
    "ridge_width_px": Param(8.0, float, "ridge plateau width, px", 2.0, 50.0),
    "rate_flat_nm_h": Param(0.5, float, "SEI growth rate on flat areas, nm/h", -100, 100),
    "rate_feature_nm_h": Param(3.0, float, "SEI growth rate on ridges, nm/h", -100, 100),
    "noise_nm": Param(0.3, float, "white height noise sd, nm (× noise_scale)", 0.0, 100.0),
    "noise_scale": Param(1.0, float, "multiplies the noise (0 = noise-free)", 0.0, 100.0),
    "tilt_nm": Param(40.0, float, "max planted tilt across the map, nm", 0.0, 1e4),
    "bow_nm": Param(8.0, float, "max planted bow (quadratic) across the map, nm", 0.0, 1e4),
    "row_offset_nm": Param(0.5, float, "sd of row-to-row scan-line offset steps, nm", 0, 100),
    "drift_px": Param(1.5, float, "sd of the lateral drift per frame, px", 0.0, 10.0),
    "tiff_frame": Param(True, bool, "write the last frame as a height TIFF (format variety)"),
}


def _texture(
    rng: np.random.Generator, shape: tuple[int, int], sq: float, corr: float
) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    z = gaussian_filter(rng.normal(size=shape), corr, mode="wrap")
    z -= z.mean()
    sd = z.std()
    return z / sd * sq if sd > 0 else z


def _ridges(rng: np.random.Generator, shape: tuple[int, int], n: int, width: float) -> np.ndarray:
    """Weight map in [0, 1]: straight ridges with a flat top and 1-px linear edges."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    w = np.zeros(shape)
    for _ in range(n):
        theta = rng.uniform(0, np.pi)
        cy, cx = rng.uniform(0.2 * ny, 0.8 * ny), rng.uniform(0.2 * nx, 0.8 * nx)
        dist = np.abs((yy - cy) * np.cos(theta) - (xx - cx) * np.sin(theta))
        w = np.maximum(w, np.clip(width / 2 + 0.5 - dist, 0.0, 1.0))
    return w


def _crop_shift(canvas: np.ndarray, shift: tuple[float, float], n: int) -> np.ndarray:
    """The n × n window at the canvas centre of ``canvas`` moved by ``shift`` (px)."""
    from scipy.ndimage import shift as nd_shift

    moved = nd_shift(canvas, shift, order=3, mode="nearest")
    return moved[_PAD : _PAD + n, _PAD : _PAD + n]


def make_afm_series(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate a time series of in situ AFM height maps with planted truth.

    Surface at time t (h), on a canvas ``_PAD`` px larger than the map on each side:
    S(t) = texture + w · ridge_height + t · (rate_flat + (rate_feature − rate_flat) · w),
    w ∈ [0, 1] the ridge weight (flat top of ``ridge_width_px``, 1-px edges).
    Frame k = S(t_k) moved by the accumulated drift d_k (content displacement, px;
    cubic interpolation), cropped, plus tilt a·x + b·y + bow c·x² + e·y² (random per
    frame, scaled so the ramps span at most ``tilt_nm``/``bow_nm``), a z offset
    (uniform ±100 nm), row offsets (cumulative sum of N(0, row_offset_nm) steps) and
    N(0, noise_nm · noise_scale) white noise.

    Truth, per frame: ISO parameters of the planted S(t_k) in the map window (no
    tilt, bow, offsets, noise), with the mean as reference plane (Sa, Sq, Ssk, Sku,
    Sz, Sdr by :func:`platescope.surface.areal_parameters` applied to the exact
    surface); growth: ``rate_feature_nm_h`` / ``rate_flat_nm_h`` planted,
    ``rate_difference_nm_h`` = their difference (the plateau rate minus the flat
    rate), and ``rate_difference_mask_mean_nm_h`` = mean planted rate on the feature
    mask (w ≥ 0.5, edge pixels included) minus that on flat pixels (w = 0, more than
    2 px from a ridge) of frame 0's window.

    Parameters
    ----------
    seed : int
        Random seed.
    **params
        Keys of :data:`PARAMETERS`.

    Returns
    -------
    dict
        ``maps`` (list of DataArrays, nm, with µm coords and ``pixel_size_um``),
        ``times_s``, ``surfaces`` (planted S(t_k), nm), ``feature_mask`` (frame 0
        window, bool), ``truth`` (summary-shaped dict), ``parameters``.

    Examples
    --------
    >>> sim = make_afm_series(seed=1, n_frames=2, size_px=64)
    >>> len(sim["maps"]), sim["maps"][0].shape, sim["truth"]["afm"]["growth"]["rate_difference_nm_h"] > 0
    (2, (64, 64), True)
    """
    from platescope.surface import areal_parameters

    p = resolve_params(PARAMETERS, params)
    n = p["size_px"]
    shape = (n + 2 * _PAD, n + 2 * _PAD)
    rng_surf, rng_frame = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    texture = _texture(rng_surf, shape, p["texture_sq_nm"], p["texture_corr_px"])
    w = _ridges(rng_surf, shape, p["n_ridges"], p["ridge_width_px"])
    rate = p["rate_flat_nm_h"] + (p["rate_feature_nm_h"] - p["rate_flat_nm_h"]) * w
    times_s = np.arange(p["n_frames"]) * p["interval_s"]
    px = p["pixel_size_um"]
    yy, xx = np.mgrid[0:n, 0:n] / (n - 1.0) * 2 - 1  # [-1, 1]
    drift = np.zeros(2)
    maps, surfaces, drifts, frames_truth = [], [], [], []
    coords = {
        "y": ("y", np.arange(n) * px, {"units": "um"}),
        "x": ("x", np.arange(n) * px, {"units": "um"}),
    }
    for k, t in enumerate(times_s):
        if k > 0:
            drift = drift + rng_frame.normal(0, p["drift_px"], 2)
        th = t / 3600.0
        canvas = texture + w * p["ridge_height_nm"] + th * rate
        win = canvas[_PAD : _PAD + n, _PAD : _PAD + n]
        surfaces.append(win.copy())
        frame = _crop_shift(canvas, (float(drift[0]), float(drift[1])), n)
        a, b = rng_frame.uniform(-0.5, 0.5, 2) * p["tilt_nm"]
        c, e = rng_frame.uniform(-0.5, 0.5, 2) * p["bow_nm"]
        frame = frame + a * xx + b * yy + c * xx**2 + e * yy**2
        frame = frame + rng_frame.uniform(-100, 100)
        frame = frame + np.cumsum(rng_frame.normal(0, p["row_offset_nm"], n))[:, None]
        frame = frame + rng_frame.normal(0, p["noise_nm"] * p["noise_scale"], (n, n))
        maps.append(
            xr.DataArray(
                frame,
                dims=("y", "x"),
                coords=coords,
                attrs={"units": "nm", "pixel_size_um": px, "source": f"simulated frame {k}"},
                name="height",
            )
        )
        drifts.append([float(drift[0]), float(drift[1])])
        iso = areal_parameters(win, spacing_um=px)
        frames_truth.append(
            {
                "time_s": float(t),
                **{
                    key: iso[key]
                    for key in ("Sa_nm", "Sq_nm", "Ssk", "Sku", "Sp_nm", "Sv_nm", "Sz_nm")
                },
                "Sdr_percent": iso["Sdr_percent"],
            }
        )
    from scipy.ndimage import binary_dilation

    w0 = w[_PAD : _PAD + n, _PAD : _PAD + n]
    r0 = rate[_PAD : _PAD + n, _PAD : _PAD + n]
    feat = w0 >= 0.5
    flat = ~binary_dilation(w0 > 0, iterations=2)
    growth = {
        "rate_feature_nm_h": p["rate_feature_nm_h"],
        "rate_flat_nm_h": p["rate_flat_nm_h"],
        "rate_difference_nm_h": p["rate_feature_nm_h"] - p["rate_flat_nm_h"]
        if feat.any() and flat.any()
        else None,
        "rate_difference_mask_mean_nm_h": float(r0[feat].mean() - r0[flat].mean())
        if feat.any() and flat.any()
        else None,
        "feature_fraction": float(feat.mean()),
        # what registration reports: the shift that aligns each frame on frame 0
        "shifts_px": [[-d[0] if d[0] else 0.0, -d[1] if d[1] else 0.0] for d in drifts],
    }
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": dict(p),
        "afm": {
            "maps": frames_truth,
            "growth": growth,
            "drift_px": drifts,
            "noise_nm": p["noise_nm"] * p["noise_scale"],
        },
        "definitions": (
            "maps[]: ISO 25178-2 parameters of the planted surface in the map window "
            "(texture + ridges + SEI growth; no tilt, bow, z offset, row offsets or noise), "
            "mean plane as reference; growth: planted rates, rate_difference = rate_feature − rate_flat "
            "(the ridge plateaus); rate_difference_mask_mean = mean planted rate on ridge "
            "pixels (weight ≥ 0.5, edges included) − that on flat pixels (> 2 px from a ridge); "
            "drift_px: content displacement (dy, dx) of each frame relative to frame 0 "
            "(registration reports its negative)"
        ),
    }
    return {
        "maps": maps,
        "times_s": [float(t) for t in times_s],
        "surfaces": surfaces,
        "feature_mask": feat,
        "truth": truth,
        "parameters": dict(p),
    }


@register(SCENARIO, PARAMETERS)
def afm_series(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated in situ AFM series and its truth to ``out``.

    Files: ``afm_<k>.gsf`` per frame (Gwyddion Simple Field, heights in m), the last
    frame instead as ``afm_<k>.tif`` (float32 height TIFF with ``z_unit`` and
    ``pixel_size_um`` in its JSON description) when ``tiff_frame`` is true and there
    is more than one frame; ``experiment.toml`` with one ``[[afm_maps]]`` entry
    (``path``, ``time_s``) per frame; ``truth/truth.json`` and
    ``truth/feature_mask.tif``. See :func:`make_afm_series` for the model.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Keys of :data:`PARAMETERS`.

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = afm_series(tempfile.mkdtemp(), seed=2, n_frames=2, size_px=64)
    >>> p.name
    'experiment.toml'
    """
    import tifffile

    from platescope.io._afm_formats import write_gsf
    from platescope.simulate._common import atomic_write_with

    p = resolve_params(PARAMETERS, params)
    out = prepare_output_dir(out, SCENARIO)
    sim = make_afm_series(seed=seed, **params)
    entries = []
    last = len(sim["maps"]) - 1
    for k, (m, t) in enumerate(zip(sim["maps"], sim["times_s"], strict=True)):
        if k == last and k > 0 and p["tiff_frame"]:
            name = f"afm_{k}.tif"
            data = m.values.astype(np.float32)
            atomic_write_with(
                out / name,
                lambda tmp, data=data: tifffile.imwrite(
                    tmp,
                    data,
                    metadata={"z_unit": "nm", "pixel_size_um": p["pixel_size_um"]},
                ),
            )
        else:
            name = f"afm_{k}.gsf"
            write_gsf(out / name, m.values, pixel_size_um=p["pixel_size_um"])
        entries.append({"path": name, "time_s": t})
    write_truth_tiff(
        out / "truth" / "feature_mask.tif", sim["feature_mask"].astype(np.uint8), p["pixel_size_um"]
    )
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, [e["path"] for e in entries])
    truth["files"] = {
        "afm_maps": [e["path"] for e in entries],
        "feature_mask": "truth/feature_mask.tif",
    }
    write_json_atomic(out / "truth" / "truth.json", truth)
    return write_experiment_toml(out, SCENARIO, seed, {"afm_maps": entries})
