"""Prepare an IRM movie of a SECCM spot for per-pixel analysis (SCIENCE.md §2).

One public recipe, used by the ``irm-galvanostatic`` and ``irm-cv`` scenarios and by
notebook users alike: clock synchronisation with the echem record, the footprint
(from the landing step, or from the deposition signal when the movie starts at
contact), illumination-drift correction from pixels outside the footprint, and
subtraction of the reference frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope.optics._ce_map import _ce_window_weights, _cycles_in_movie, _window_means_array
from platescope.optics._irm_stream import irm_frame_statistics
from platescope.optics._preprocess import (
    correct_illumination_drift,
    footprint_area_cm2,
    footprint_from_deposition,
    footprint_mask,
    subtract_reference,
)

__all__ = ["prepare_irm"]


def _first_frame_after_contact(t_s: np.ndarray, dt_s: float) -> int:
    """Index of the first frame whose exposure starts at or after contact (echem t = 0).

    Exposures run between the midpoints of neighbouring timestamps (the first one
    starts half an interval before its timestamp); a start up to 0.1 frame before
    contact counts as at contact (frame-interval jitter blurs the estimate that much).
    """
    starts = np.concatenate([[t_s[0] - (t_s[1] - t_s[0]) / 2], (t_s[:-1] + t_s[1:]) / 2])
    return int(np.searchsorted(starts, -0.1 * dt_s))


def _landing_step_image(movie_e: xr.DataArray, landing: int, n_before: int) -> xr.DataArray:
    """Mean of the 5 frames from ``landing`` minus the mean of the first ``n_before``
    frames (counts, ``(y, x)``, float64): the image the footprint is outlined in.

    A movie that is still the file reader's lazy array of integer counts is read
    **frame by frame** (:func:`read_frames`: each index reaches the reader, which decodes
    that frame only, not the chunk around it) and summed in float64, one frame at a
    time (memory: two frames). Integer counts sum exactly in float64 in any order, so
    the means are the ones xarray gives; any other movie is reduced by xarray as before.
    """
    from platescope._frame_blocks import _array_of, _reader_only, read_frames

    step = movie_e.isel(t=slice(landing, landing + 5)).mean("t") - movie_e.isel(
        t=slice(0, n_before)
    ).mean("t")  # lazy for a lazy movie: its name, coordinates and attributes
    arr = _array_of(movie_e)
    lazy_reader = hasattr(arr, "dask") and _reader_only(arr)
    if not (lazy_reader and np.issubdtype(arr.dtype, np.integer)):
        return step.compute()

    def mean_of(frames: range) -> np.ndarray:
        total = np.zeros(arr.shape[1:], dtype=np.float64)
        for k in frames:
            total += read_frames(arr, [k])[0]
        return total / len(frames)

    n_t = int(arr.shape[0])
    diff = mean_of(range(landing, min(landing + 5, n_t))) - mean_of(range(n_before))
    return step.copy(data=diff.astype(step.dtype, copy=False))


def _footprint_without_landing(after, sigma_um, area_cm2, sy, source) -> tuple:
    """Footprint of a movie with no frame before contact (no landing step); 1σ errors."""
    mask, info = footprint_from_deposition(after, sigma_um=sigma_um, area_cm2=area_cm2)
    t0 = float(after.t.values[0])
    if mask is None:
        problem = (
            "the movie has no frame before contact (its first frame after contact is at "
            f"t = {t0:.2f} s on the electrochemistry clock, {sy['method']}), so there is no "
            f"landing step to outline the footprint, and the deposition signal cannot replace "
            f"it: {info['reason']}"
        )
        if area_cm2:
            problem += " (not even to centre the given [electrode] area_cm2 on it)"
            fix = (
                "start the recording before the pipette lands, so that the landing step "
                "outlines the footprint"
            )
        elif info.get("can_centre"):
            fix = (
                "give [electrode] area_cm2 (the footprint is then a circle of that area "
                "centred on the deposit), or start the recording before the pipette lands"
            )
        else:
            fix = (
                "start the recording before the pipette lands, so that the landing step "
                "outlines the footprint"
            )
        raise InputError(source, problem, fix)
    label = {
        "deposition signal": "IRM deposition signal (the movie has no frame before contact)",
        "area_cm2 centred on the deposition signal": "[electrode] area_cm2 centred on the "
        "IRM deposition signal (the movie has no frame before contact)",
    }[info["source"]]
    fp = {
        "area_cm2": float(footprint_area_cm2(mask)),
        "source": label,
        "centre_x_um": info["centre_x_um"],
        "centre_y_um": info["centre_y_um"],
        "radius_um": info["radius_um"],
        "signal_contrast": info["contrast"],
        "signal_t_s": info["signal_t_s"],
    }
    if info["source"] == "deposition signal":
        fp["area_cm2_err"] = info["area_cm2_err"]
        if area_cm2:
            fp["given_area_cm2"] = float(area_cm2)
    else:
        fp["outline_reason"] = info["outline_reason"]
    return mask, fp, list(info["warnings"])


def prepare_irm(
    movie: xr.DataArray,
    echem: pd.DataFrame,
    *,
    time_offset_s: float | None = None,
    footprint_sigma_um: float = 0.2,
    area_cm2: float | None = None,
    region_px: int | None = None,
    region_min_fraction: float = 0.5,
    movie_mean: np.ndarray | None = None,
    ce_cycles: pd.DataFrame | None = None,
    ce_window_s: float = 2.0,
) -> dict[str, Any]:
    """Put an IRM movie on the echem clock and prepare it for per-pixel analysis.

    Steps: :func:`platescope.sync.synchronize` (landing step, or a stated offset) →
    the movie on the echem clock → the reference frame (the first frame wholly after
    contact) → the footprint (the landing step image thresholded by
    :func:`footprint_mask`; without frames before contact, the deposition signal,
    :func:`footprint_from_deposition`) → illumination drift corrected from pixels
    ≥ 10 px outside the footprint → the reference frame subtracted.

    Parameters
    ----------
    movie : xarray.DataArray
        The IRM movie as :func:`platescope.io.read_movie` returns it (``t``, ``y``,
        ``x``; times in s on the movie clock; coordinates in µm).
    echem : pandas.DataFrame
        The echem record (``time_s`` from contact, ``potential_V``, ``current_A``).
    time_offset_s : float, optional
        A known offset of the echem clock from the movie clock, s (else found from
        the landing step).
    footprint_sigma_um : float
        Smoothing of the landing-step image before thresholding, µm.
    area_cm2 : float, optional
        The footprint area if known (used only when the movie starts at contact).
    region_px : int, optional
        Also return the region-mean curves of :func:`t_nuc_regions` for squares of
        this side, px (computed in the same pass; pass them on as its
        ``region_means``).
    region_min_fraction : float
        Regions with a smaller fraction of footprint pixels are not analysed.
    movie_mean : ndarray, optional
        The mean intensity of each frame of ``movie``, counts, if already measured
        (e.g. by :func:`frame_quality`): the movie is then not read for it.
    ce_cycles : pandas.DataFrame, optional
        A cycle table as :func:`ce_intensity_changes` takes it: the window means
        of the cycles the movie covers (start and end within its span ± ``ce_window_s``) are computed in
        the same pass, when every one has a finite ``t_switch_s`` (pass them on as
        its ``window_images``).
    ce_window_s : float
        Their ``window_s``, s.

    Reads of the movie: one pass for the mean intensity per frame unless
    ``movie_mean`` is given (the synchronisation needs it before the footprint is
    known), the frames around the landing step (the synchronisation's ≤ 16; the
    step image's frames before contact and 5 after: frame by frame when the movie is
    the reader's lazy array of integer counts, else the chunks holding them), then **one** pass (:func:`irm_frame_statistics`) for the drift
    levels, the footprint-mean curve and the region-mean curves together. ``sub``
    stays lazy: its consumers (per-pixel maps) read it once more each.

    Returns
    -------
    dict
        ``sub`` (reference-subtracted movie on the echem clock, lazy when the movie
        is), ``mask`` (footprint, DataArray ``(y, x)``), ``mask_np``, ``area_cm2``,
        ``t_s`` (frame times, s), ``mean`` (footprint-mean signal per frame),
        ``px_um``, ``sync`` (the synchronisation result, 1σ errors), ``movie_mean``
        (mean intensity per original frame), ``n_before`` (frames before contact),
        ``footprint`` (area, source, centre; 1σ errors), ``footprint_warnings``,
        ``irm_reference`` (frame, time, description), ``reference``, ``drift`` (method,
        gain range) or None with ``drift_reason``; with ``region_px``,
        ``region_means`` (``n_t × n_regions``, counts, the analysed regions in
        row-major order) and ``region_px``; with ``ce_cycles`` (switch times
        known), ``ce_window_images`` (the window means, as :func:`window_means`
        returns them) and ``ce_window_s``.

    Raises
    ------
    InputError
        No footprint can be found (no landing step and no deposition signal).

    Examples
    --------
    >>> from platescope.simulate import make_irm_galvanostatic, as_movie
    >>> sim = make_irm_galvanostatic(seed=1)                            # doctest: +SKIP
    >>> irm = prepare_irm(as_movie(sim), sim["echem"])                   # doctest: +SKIP
    >>> irm["footprint"]["source"]                                       # doctest: +SKIP
    'IRM landing step'
    """
    from platescope import sync

    source = movie.attrs.get("source")
    if movie_mean is None:  # one pass, shared by the sync and its figure
        movie_mean = sync.mean_intensity(movie)
    else:
        movie_mean = np.asarray(movie_mean, dtype=float)
        if movie_mean.shape != (movie.sizes["t"],):
            raise InputError(
                source,
                f"{movie_mean.size} frame means given for a movie of {movie.sizes['t']} frames",
                "pass one mean intensity per frame of the movie (or none)",
            )
    sy = sync.synchronize(movie, echem, time_offset_s=time_offset_s, movie_mean=movie_mean)
    movie_e = sync.to_echem_clock(
        movie, sy["offset_s"], echem=echem, frame_times_s=sy.pop("frame_times_s", None)
    )
    t_mv = movie_e.t.values
    dt_mv = float(np.median(np.diff(t_mv)))
    n_before = int(np.searchsorted(t_mv, -dt_mv))  # frames wholly before contact
    if n_before >= 1:
        # first frame exposed wholly after contact
        landing = int(sy.get("landing_frame", np.searchsorted(t_mv, 0.5 * dt_mv)))
    else:
        landing = int(sy.get("landing_frame", _first_frame_after_contact(t_mv, dt_mv)))
    landing = min(max(landing, 0), movie_e.sizes["t"] - 2)
    after = movie_e.isel(t=slice(landing, None))
    fp_warnings: list[dict] = []
    if n_before >= 1:
        step_img = _landing_step_image(movie_e, landing, n_before)
        mask = footprint_mask(step_img, sigma_um=footprint_sigma_um)
        fp_area = float(footprint_area_cm2(mask))
        yc, xc = ndimage.center_of_mass(np.asarray(mask.values, bool))
        footprint = {
            "area_cm2": fp_area,
            "source": "IRM landing step",
            "centre_x_um": float(np.interp(xc, np.arange(mask.sizes["x"]), mask.x.values)),
            "centre_y_um": float(np.interp(yc, np.arange(mask.sizes["y"]), mask.y.values)),
        }
        description = "landing frame (the first frame after contact)"
    else:
        mask, footprint, fp_warnings = _footprint_without_landing(
            after, footprint_sigma_um, area_cm2, sy, source
        )
        fp_area = footprint["area_cm2"]
        description = (
            "first frame of the movie after contact (the movie has no frame before contact, "
            "so no landing frame)"
        )
    # illumination drift from pixels well outside the footprint (nothing deposits there)
    outside = ~ndimage.binary_dilation(np.asarray(mask.values, bool), iterations=10)
    drift, drift_reason = None, None
    m = np.asarray(mask.values if hasattr(mask, "values") else mask, bool)
    use_drift = outside.sum() >= 10
    # one pass: drift levels, footprint-mean curve and region-mean curves together
    ce = None
    if ce_cycles is not None:  # the CE windows' instants are known from the echem
        ce = _ce_window_weights(
            _cycles_in_movie(ce_cycles, after.t.values, ce_window_s), after.t.values, ce_window_s
        )
    stats = irm_frame_statistics(
        after,
        footprint=m,
        outside=outside if use_drift else None,
        region_px=region_px,
        region_min_fraction=region_min_fraction,
        window_weights=None if ce is None else ce[1:],
    )
    if use_drift:
        after, gain = correct_illumination_drift(
            after, reference=outside, frame=0, level=stats["level"]
        )
        drift = {
            "method": "mean of pixels ≥ 10 px outside the footprint",
            "gain_range_percent": float(100 * (gain.max() - gain.min())),
        }
    else:
        drift_reason = "the field of view has no pixels outside the footprint"
    # the reference frame as the single pass read it: not read again
    sub = subtract_reference(after, frame=0, reference_values=stats["reference"])
    mean_sig = np.asarray(stats["footprint_mean"], float)
    extra = {}
    if region_px is not None:
        extra = {"region_means": stats["region_means"], "region_px": int(region_px)}
    if ce is not None:
        extra["ce_window_images"] = _window_means_array(
            stats["window_sums"], ce[0], sub, ce[1], ce_window_s
        )
        extra["ce_window_s"] = float(ce_window_s)
    return {
        **extra,
        "sub": sub,
        "reference": "landing frame" if n_before >= 1 else "first frame after contact",
        "mask": mask,
        "mask_np": m,
        "area_cm2": fp_area,
        "t_s": sub.t.values,
        "mean": mean_sig,
        "px_um": float(abs(sub.x.values[1] - sub.x.values[0])),
        "sync": sy,
        "movie_mean": movie_mean,
        "n_before": n_before,
        "footprint": footprint,
        "footprint_warnings": fp_warnings,
        "irm_reference": {
            "frame": landing,
            "t_s": float(t_mv[landing]),
            "description": description,
        },
        "drift": drift,
        "drift_reason": drift_reason,
    }
