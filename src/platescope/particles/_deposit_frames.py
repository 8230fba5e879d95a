"""Per-frame work of :func:`~platescope.particles.detect_deposits`, on arrays only.

One call, :func:`measure_frames`, takes a block of consecutive raw frames and returns
the deposit measurements of all of them as column arrays: each frame's contrast,
segmentation and half-maximum outlines (one frame at a time: labelling, filters,
distance transforms and per-label ``bincount`` sums, all numpy/SciPy calls that
release the GIL on whole frames), then ONE vectorised measurement of the block's
stacked label images (:func:`~platescope.particles.measure_columns`: the traced
perimeters of every deposit of the block walk together). No pandas here: the caller
builds the table once for the whole movie from the concatenated arrays, so the
threads of a pool spend little time holding the GIL (docs/performance.md, "Frame stacks
in parallel"). The columns are the same numbers, in the same row order, as measuring
each frame on its own.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from platescope.particles._detect import segment_particles
from platescope.particles._measure import MEASURE_COLUMNS, measure_columns

__all__ = ["DEPOSIT_COLUMNS", "measure_frames"]

#: Columns of :func:`measure_frames` (``area_pixels_um2`` only for half-maximum edges).
DEPOSIT_COLUMNS = ("frame", "t_s", *MEASURE_COLUMNS, "area_pixels_um2")


def _contrast_frames(block: np.ndarray, *, polarity: str, sigma_px: tuple[float, float]):
    """Frames → relative contrast (deposits positive), Gaussian-smoothed in each frame.

    Each frame is divided by its median (the background level: deposits cover a minority
    of the field), which removes multiplicative illumination drift; ``dark`` deposits give
    contrast ``1 − I/median``, ``bright`` ones ``I/median − 1``.
    """
    f = np.asarray(block, dtype=np.float32)
    med = np.median(f.reshape(f.shape[0], -1), axis=1).astype(np.float32)
    med[~(med > 0)] = np.float32(1.0)
    rel = f / med[:, None, None]
    c = (1.0 - rel) if polarity == "dark" else (rel - 1.0)
    if sigma_px[0] > 0 or sigma_px[1] > 0:
        c = ndimage.gaussian_filter(c, (0.0, sigma_px[0], sigma_px[1]), mode="nearest")
    return c


def _plateau(labels: np.ndarray, flat: np.ndarray, n: int) -> np.ndarray:
    """Per-label plateau: mean of the deepest core (erosion by 3, 2 or 1 px) with
    enough pixels (5, 5, 3), else the label's maximum. Index 0 (background) is +inf."""
    flat_lab = labels.ravel()
    sel = flat_lab > 0
    order = np.argsort(flat[sel], kind="stable")
    peak = np.zeros(n + 1)
    peak[flat_lab[sel][order]] = flat[sel][order]  # the last (largest) write wins
    plateau = np.full(n + 1, np.nan)
    # taxicab distance to the background: > k ⇔ inside k erosions by the 3×3 cross
    padded = np.pad(labels > 0, 1)  # outside the frame is background, as for an erosion
    depth = ndimage.distance_transform_cdt(padded, metric="taxicab")[1:-1, 1:-1].ravel()
    for k, need in ((3, 5), (2, 5), (1, 3)):
        core = np.where(depth > k, flat_lab, 0)
        n_core = np.bincount(core, minlength=n + 1)
        mean = np.bincount(core, weights=flat, minlength=n + 1) / np.maximum(n_core, 1)
        plateau = np.where(np.isnan(plateau) & (n_core >= need), mean, plateau)
    plateau = np.where(np.isnan(plateau), peak, plateau)
    plateau[0] = np.inf
    return plateau


def _half_max_labels(
    labels: np.ndarray, contrast: np.ndarray, grow_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Redraw each object's outline at half its own plateau contrast.

    Each label is grown by ``grow_px`` one-pixel rings (into background only, so a
    label never takes a neighbour's pixels; where two rings meet in the same step the
    higher id wins) and keeps the pixels above half its plateau. The plateau is the
    mean contrast of the object's core — the outline eroded by 3 pixels (2, or 1, when
    too few pixels remain; the maximum for the tiniest objects) — taken first inside
    the threshold outline, then again inside the half-maximum outline it gave (which no
    longer depends on how far the threshold reached). For a blurred flat-topped
    deposit the half-maximum contour is where the true edge is, whatever the deposit's
    contrast, so deposits of different darkness (and dead Li, which darkens) are
    measured alike.

    Returns the new label image and, per label id, the sub-pixel area in pixels: every
    pixel of the grown label weighs clip(2·c/plateau − ½, 0, 1), a ramp symmetric about
    the half level, so the area follows the contour continuously as a deposit drifts
    across the pixel grid instead of jumping by whole pixels.
    """
    n = int(labels.max())
    if n == 0:
        return labels, np.zeros(1)
    flat = contrast.ravel()
    grown = labels
    for _ in range(int(grow_px)):  # one pixel ring per step, into background only
        ring = ndimage.grey_dilation(grown, size=(3, 3))
        grown = np.where(grown > 0, grown, ring)
    out = labels
    for _ in range(2):
        plateau = _plateau(out, flat, n)
        out = np.where(contrast > 0.5 * plateau[grown], grown, 0).astype(labels.dtype)
    # sub-pixel area: each pixel counts by where its value sits in a symmetric ramp
    # around the half level (0 below ¼, 1 above ¾ of the plateau), which interpolates
    # the half-maximum contour between pixel centres
    g = grown.ravel()
    rel = np.where(g > 0, flat / plateau[g], 0.0)
    soft = np.bincount(g, weights=np.clip(2.0 * rel - 0.5, 0.0, 1.0), minlength=n + 1)
    return out, soft


def measure_frames(raw: np.ndarray, first: int, t_s: np.ndarray, opts: dict) -> dict:
    """Deposits of consecutive raw frames as column arrays (the pool's unit of work).

    Parameters
    ----------
    raw : numpy.ndarray, shape (n, y, x)
        Frames as read (any numeric dtype).
    first : int
        Movie index of ``raw[0]`` (the ``frame`` column counts from it).
    t_s : numpy.ndarray, shape (n,)
        Frame times, s.
    opts : dict
        ``polarity``, ``sigma_px`` (y, x), ``dy``, ``dx`` (µm), ``thr``, ``watershed``,
        ``min_area_um2``, ``max_area_um2``, ``roi``, ``edge``, ``grow_px`` (see
        :func:`~platescope.particles.detect_deposits`).

    Returns
    -------
    dict of numpy.ndarray
        :data:`DEPOSIT_COLUMNS` (without ``area_pixels_um2`` for ``edge="threshold"``),
        rows by frame then label; ``y_um``/``x_um`` from the first pixel's centre.

    Examples
    --------
    >>> yy, xx = np.mgrid[0:40, 0:40]
    >>> raw = np.array([1000.0 - 400.0 * ((yy - 20) ** 2 + (xx - 20) ** 2 < r * r) for r in (4, 6)])
    >>> opts = dict(polarity="dark", sigma_px=(1.0, 1.0), dy=0.5, dx=0.5, thr=0.2,
    ...             watershed=False, min_area_um2=2.0, max_area_um2=None, roi=None,
    ...             edge="half-max", grow_px=3.0)
    >>> cols = measure_frames(raw, 7, np.array([0.0, 5.0]), opts)
    >>> cols["frame"].tolist(), cols["t_s"].tolist(), bool(cols["area_um2"][1] > cols["area_um2"][0])
    ([7, 8], [0.0, 5.0], True)
    """
    dy, dx = opts["dy"], opts["dx"]
    contrast = _contrast_frames(raw, polarity=opts["polarity"], sigma_px=opts["sigma_px"])
    half_max = opts["edge"] == "half-max"
    labels = np.zeros(contrast.shape, dtype=np.int64)
    soft = []  # per frame: sub-pixel area (px) per label id
    for k, frame in enumerate(contrast):
        lab = segment_particles(
            frame,
            spacing=(dy, dx),
            sigma_um=None,
            method="fixed",
            threshold=opts["thr"],
            polarity="bright",
            watershed=opts["watershed"],
            min_area_um2=opts["min_area_um2"],
            max_area_um2=opts["max_area_um2"],
            roi=opts["roi"],
        )
        if half_max:
            lab, s = _half_max_labels(lab, frame, opts["grow_px"])
            soft.append(s)
        labels[k] = lab
    cols, keep = measure_columns(labels, contrast, spacing=(dy, dx), roi=opts["roi"])
    local = cols.pop("frame")
    if half_max:
        cols["area_pixels_um2"] = cols["area_um2"]
        starts = np.concatenate([[0], np.cumsum([s.size for s in soft])[:-1]]).astype(np.int64)
        px = np.concatenate(soft)[starts[local] + cols["label"]]
        cols["area_um2"] = px * dy * dx
        cols["equivalent_diameter_um"] = 2.0 * np.sqrt(cols["area_um2"] / np.pi)
    keep &= cols["area_um2"] >= (opts["min_area_um2"] or 0.0)
    out = {
        "frame": (local + int(first)).astype(np.int64),
        "t_s": np.asarray(t_s, dtype=np.float64)[local],
    }
    out.update(cols)
    return {name: out[name][keep] for name in DEPOSIT_COLUMNS if name in out}
