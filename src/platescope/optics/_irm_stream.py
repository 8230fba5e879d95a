"""Every per-frame statistic the IRM preprocessing needs, in one pass over the movie.

:func:`prepare_irm` used to read the movie (after the synchronisation) once for the
illumination-drift levels, once more for the footprint-mean curve, and
:func:`t_nuc_regions` a third time for its region-mean curves. All three are linear in
the frames once the footprint is known: the drift gain of a frame comes from that
frame alone, and the reference frame is one frame read beforehand. So one streaming
pass over the movie — whole frames, in runs aligned to a dask movie's chunks — gives

* ``level``: the mean of the pixels outside the footprint per frame (the drift level,
  exactly what :func:`correct_illumination_drift` measures),
* ``footprint_mean``: the mean over the footprint of the drift-corrected,
  reference-subtracted frame (what ``sub.where(mask).mean(("y", "x"))`` gives),
* ``region_means``: the same per ``region_px`` square (what :func:`t_nuc_regions`
  averages),
* ``window_sums``: weighted sums of whole preprocessed frames, Σ_j w_kj · frame_j (the
  window means of :func:`ce_intensity_changes`, whose instants are known from the
  electrochemistry before the movie is read),

each computed from the same float32 frames the lazy preprocessed movie holds (frame
divided by its gain, minus the reference frame), accumulated in float64. Memory: one
run of frames (≤ ``max_block_mb``) plus the small per-frame curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._movie_model import _check_movie, _float_dtype
from platescope.optics._preprocess import drift_reference_mask

__all__ = ["irm_frame_statistics"]


def irm_frame_statistics(
    movie: xr.DataArray,
    *,
    footprint: xr.DataArray | np.ndarray,
    outside: np.ndarray | None = None,
    region_px: int | None = None,
    region_min_fraction: float = 0.5,
    window_weights: tuple[np.ndarray, np.ndarray] | None = None,
    max_block_mb: float = 64.0,
) -> dict[str, Any]:
    """Drift levels, footprint-mean and region-mean curves of an IRM movie, one pass.

    The reference frame is frame 0 of ``movie`` (read first, one frame); every frame is
    divided by its illumination gain ``g(t) = level(t) / level(0)`` (when ``outside``
    is given; else 1) and the reference frame subtracted, in the float dtype of
    :func:`correct_illumination_drift` and :func:`subtract_reference`; the means are
    then taken over the footprint and over each analysed region.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)`` in counts, frame 0 the reference; numpy- or dask-backed
        (read once, in runs of whole frames aligned to its chunks).
    footprint : xarray.DataArray or ndarray of bool
        ``(y, x)`` footprint mask.
    outside : ndarray of bool, optional
        ``(y, x)`` pixels free of any change (≥ 10), the drift reference; None: no
        drift correction.
    region_px : int, optional
        Side of the square regions of :func:`t_nuc_regions`, px; None: no region means.
    region_min_fraction : float
        Regions with a smaller fraction of footprint pixels are not analysed (as in
        :func:`t_nuc_regions`).
    window_weights : (ndarray, ndarray), optional
        ``(weights, frames)``: weights ``(n_sums × n_used)`` of the frames ``frames``
        (``n_used`` increasing frame indices), e.g. the averaging windows of
        :func:`window_means`; each sum ``Σ_j weights[k, j] · frame[frames[j]]`` of the
        preprocessed frames is accumulated in float64 frame by frame, in the order
        and with the operations of :func:`window_means` on the preprocessed movie.
    max_block_mb : float
        Size of a run of frames processed at once (float32), MB.

    Returns
    -------
    dict
        ``level`` (counts per frame, or None), ``gain`` (dimensionless per frame; ones
        without ``outside``), ``reference`` (the reference frame after its own gain,
        ndarray ``(y, x)``), ``footprint_mean`` (counts per frame, NaN where no
        footprint pixel is finite), ``region_means`` (``n_t × n_regions`` counts, the
        analysed regions in row-major order, or None), ``region_keep`` (bool
        ``(rows, cols)`` of analysed regions, or None) and ``window_sums``
        (``n_sums × y × x``, counts, or None).

    Raises
    ------
    InputError
        Masks of the wrong shape, fewer than 10 ``outside`` pixels, or non-finite /
        non-positive drift levels.

    Examples
    --------
    >>> g = np.linspace(1.0, 1.1, 6)                       # illumination gain per frame
    >>> mv = np.full((6, 8, 8), 1000.0) * g[:, None, None]
    >>> mv[3:, :4, :4] += 50.0 * g[3:, None, None]        # a deposit in the footprint
    >>> fp = np.zeros((8, 8), bool); fp[:4, :4] = True
    >>> movie = xr.DataArray(mv, dims=("t", "y", "x"), coords={"t": np.arange(6) * 0.5})
    >>> st = irm_frame_statistics(movie, footprint=fp, outside=~fp, region_px=4)
    >>> np.round(st["footprint_mean"], 6).tolist()
    [0.0, 0.0, 0.0, 50.0, 50.0, 50.0]
    >>> st["region_keep"].tolist(), np.round(st["region_means"][-1], 6).tolist()
    ([[True, False], [False, False]], [50.0])
    """
    t = _check_movie(movie)
    ny, nx = movie.sizes["y"], movie.sizes["x"]
    fp = np.asarray(getattr(footprint, "values", footprint), dtype=bool)
    if fp.shape != (ny, nx):
        raise InputError(
            _source(movie),
            f"the footprint mask has shape {fp.shape}, the frames {(ny, nx)}",
            "build the mask from the same (cropped) movie",
        )
    ref_px = None
    if outside is not None:
        ref_px = drift_reference_mask(movie, outside)
    keep = n_px = None
    if region_px is not None:
        if not (isinstance(region_px, int | np.integer) and region_px >= 1):
            raise InputError(
                None, f"region_px must be a positive integer, got {region_px!r}", "use 14"
            )
        nr, nc = ny // region_px, nx // region_px
        weights = fp[: nr * region_px, : nc * region_px].reshape(nr, region_px, nc, region_px)
        n_px = weights.sum(axis=(1, 3))
        keep = (n_px >= region_min_fraction * region_px**2) & (n_px > 0)
        region_outside = ~weights[None]

    from platescope.optics._nucleation_time import _fetch, _frame_runs

    sums = w_frames = None
    if window_weights is not None:
        w_mat, w_frames = (np.asarray(a) for a in window_weights)
        w_frames = w_frames.astype(np.int64)
        if w_mat.ndim != 2 or w_mat.shape[1] != w_frames.size or np.any(np.diff(w_frames) <= 0):
            raise InputError(
                _source(movie),
                f"window weights of shape {w_mat.shape} for {w_frames.size} frames",
                "pass (weights (sums × frames), increasing frame indices)",
            )
        sums = np.zeros((w_mat.shape[0], ny, nx))

    data = movie.data
    n = t.size
    dt = _float_dtype(movie.dtype)
    n_ref = int(ref_px.sum()) if ref_px is not None else 0

    def _levels(raw):  # mean of the reference pixels per frame, float64
        return raw[:, ref_px].sum(axis=1, dtype=np.float64) / n_ref

    level = np.empty(n) if ref_px is not None else None
    fp_sum = np.empty(n)
    fp_cnt = np.empty(n)
    region_means = np.empty((n, int(keep.sum()))) if keep is not None else None
    frame_bytes = 4 * ny * nx
    per_batch = max(1, int(max_block_mb * 2**20 // frame_bytes))
    reference = None
    for j0, j1 in _frame_runs(data, 0, n, per_batch):
        block = _fetch(data, (slice(j0, j1),))
        if reference is None:  # frame 0 comes with the first run: no read of its own
            frame0 = block[0]
            level0 = float(_levels(frame0[None])[0]) if ref_px is not None else 1.0
            if ref_px is not None and not (np.isfinite(level0) and level0 > 0):
                raise InputError(
                    _source(movie),
                    "the reference pixels have non-finite or non-positive mean intensity",
                    "check the movie for blank frames or a wrong footprint mask",
                )
            # the reference frame exactly as subtract_reference sees it (frame 0 / its gain)
            reference = (frame0.astype(dt) / dt.type(1.0)).astype(np.float32)
            ref_fp = reference[fp]
        for b0 in range(0, j1 - j0, per_batch):
            raw = block[b0 : b0 + per_batch]
            a, b = j0 + b0, j0 + b0 + raw.shape[0]
            if ref_px is not None:
                lev = _levels(raw)
                level[a:b] = lev
                gain = (lev / level0).astype(dt)
                frames = raw.astype(dt) / gain[:, None, None]
            else:
                frames = raw.astype(dt)
            s = frames.astype(np.float32, copy=False)
            del frames
            vals = s[:, fp] - ref_fp
            fin = np.isfinite(vals)
            if sums is not None:
                _add_window_sums(sums, s, reference, a, w_mat, w_frames)
            fp_sum[a:b] = np.where(fin, vals, 0.0).sum(axis=1, dtype=np.float64)
            fp_cnt[a:b] = fin.sum(axis=1)
            del vals, fin
            if keep is not None:
                sub = (
                    s[:, : nr * region_px, : nc * region_px]
                    - reference[: nr * region_px, : nc * region_px]
                )
                sub = sub.astype(np.float64).reshape(b - a, nr, region_px, nc, region_px)
                np.copyto(sub, 0.0, where=region_outside)  # NaN outside the mask stays out
                region_means[a:b] = sub.sum(axis=(2, 4))[:, keep]
                del sub
            del s
        del block
    if level is not None and not (np.all(np.isfinite(level)) and level[0] > 0):
        raise InputError(
            _source(movie),
            "the reference pixels have non-finite or non-positive mean intensity",
            "check the movie for blank frames or a wrong footprint mask",
        )
    gain = level / level0 if level is not None else np.ones(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        fp_mean = np.where(fp_cnt > 0, fp_sum / np.maximum(fp_cnt, 1), np.nan)
        if region_means is not None:
            region_means /= n_px[keep]
    return {
        "level": level,
        "gain": gain,
        "reference": reference,
        "footprint_mean": fp_mean,
        "region_means": region_means,
        "region_keep": keep,
        "window_sums": sums,
    }


def _add_window_sums(sums, frames, reference, first, weights, used) -> None:
    """``sums[k] += weights[k, j] · (frame − reference)`` for the frames of ``used``
    among ``frames`` (movie frames ``first …``), frame by frame in increasing order, in
    float64 — the operations of :func:`platescope.optics._kernels.window_sums` on the
    preprocessed (float32) frames."""
    lo, hi = np.searchsorted(used, [first, first + frames.shape[0]])
    for j in range(lo, hi):
        sub = frames[used[j] - first] - reference  # float32, as the lazy chain holds it
        for k in np.flatnonzero(weights[:, j]):
            sums[k] += weights[k, j] * sub.astype(np.float64)
