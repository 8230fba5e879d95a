"""Li nucleation sites and pores in see-through transmittance movies.

SCIENCE.md §1 ("Stripping and cycling"): in a transmittance movie T = I/I0 of a thin
Au (Ag) film, Li deposits are opaque disks (dark blobs appearing while Li plates), and
stripping leaves pores — holes in the alloyed film — that appear as bright regions
which open at the centres of former Li sites, grow, and (on Ag) merge.

Shared recipe
-------------
1. Window: frames with ``t_start_s ≤ t ≤ t_end_s``.
2. Change signal per frame, oriented so the feature is positive:
   ``s = sign·(G(frame) − G(ref))``, sign = −1 for ``polarity="dark"``, +1 for
   ``"bright"``; G a Gaussian blur of ``smooth_px`` pixels; ref the mean of the first
   ``n_ref`` frames of the window (or a reference image the caller passes). With
   ``detrend=True`` the frame's spatial median of s is subtracted (a uniform drift —
   continuing alloying, lamp drift — is not a feature).
3. Threshold: ``max(k_sigma·σ_s, min_contrast)``, with σ_s the noise of s estimated
   from the difference of the first two frames (robust sd / √2, scaled for the
   averaged reference), or a fixed ``threshold`` in the movie's units.
4. Frames are read in blocks of ``chunk_frames`` (``movie.isel(t=...)``), so a
   dask-backed movie is never loaded whole; memory is a few frames plus label images.

Sites (:func:`detect_sites`): objects are segmented in the change between the first
and the last ``n_ref`` frames of the window, touching disks are split by a watershed
on the smoothed change, and objects smaller than ``min_area_um2`` are dropped. The
appearance time of a site is when the mean signal of its *core* (its pixels above
half its peak change) first crosses ``level`` (default ½) of its final value, linearly
interpolated between frames (sub-frame). Position: change-weighted centroid. Area:
the pixels above half the object's peak change (for a blurred opaque disk, the
half-contrast contour is its edge); the size filter uses the detected object.

Pores (:func:`track_pores`): every frame is thresholded and labelled. Pores are
stationary, so each pore owns a *footprint*, the union of every pixel ever assigned to
it; a frame's component is linked to the pores whose footprints it overlaps:
no overlap → a new pore (after ``confirm_frames`` consecutive detections, or at once
when a growing pore swallows it; emergence is the sub-frame time at which the
component's peak pixel crossed half its change, capped at half the hole contrast);
one → that pore; two or more → a **merge**: the component continues as the pore that
emerged first (ties: the larger), the others end, with ``merged_into`` and
``t_merge_s`` recorded. A pore that falls below the threshold for a frame keeps its
identity (area 0 that frame). The number of pores at a time is therefore the number
of separate holes (merged pores count once), as in the paper's per-cycle counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage as ndi

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._frame_blocks import FrameBlocks
from platescope._movie_model import _check_movie, _pixel_size_um

__all__ = ["detect_sites", "pore_cycle_stats", "track_pores"]

_SITE_COLUMNS = [
    "site",
    "y_um",
    "x_um",
    "t_appear_s",
    "t_appear_err_s",
    "area_um2",
    "equivalent_diameter_um",
    "contrast",
]
_PORE_COLUMNS = [
    "pore",
    "t_emerge_s",
    "frame_emerge",
    "y_um",
    "x_um",
    "area_final_um2",
    "t_end_s",
    "merged_into",
    "t_merge_s",
]
_AREA_COLUMNS = ["pore", "t_s", "area_um2", "area_ratio"]


# --------------------------------------------------------------------------- helpers


def _window(movie: xr.DataArray, t_start_s, t_end_s, what: str) -> tuple[xr.DataArray, np.ndarray]:
    t = _check_movie(movie)
    lo = -np.inf if t_start_s is None else float(t_start_s)
    hi = np.inf if t_end_s is None else float(t_end_s)
    sel = np.nonzero((t >= lo) & (t <= hi))[0]
    if sel.size < 3:
        raise InputError(
            _source(movie),
            f"the window {lo:g}–{hi:g} s holds {sel.size} frame(s); {what} needs at least 3",
            "widen t_start_s/t_end_s to cover the deposition (or stripping) step",
        )
    win = movie.isel(t=slice(int(sel[0]), int(sel[-1]) + 1))
    return win, t[sel[0] : sel[-1] + 1]


def _check_polarity(polarity: str) -> float:
    if polarity == "dark":
        return -1.0
    if polarity == "bright":
        return 1.0
    raise InputError(None, f"unknown polarity {polarity!r}", "use polarity='dark' or 'bright'")


def _frames(win: FrameBlocks, start: int, stop: int) -> np.ndarray:
    # FrameBlocks: each chunk of a lazy movie is computed once for all the requests
    # (reference, noise, final frames, the per-frame walk) of one analysis
    arr = np.array(win.get(start, stop), dtype=np.float64)  # a copy: the span is kept
    if not np.all(np.isfinite(arr)):
        arr = np.where(np.isfinite(arr), arr, np.nan)
    return arr


def _iter_frames(win: FrameBlocks, chunk: int):
    """Yield (index, frame) reading ``chunk`` frames at a time."""
    n = win.n_frames
    for start in range(0, n, chunk):
        block = _frames(win, start, min(n, start + chunk))
        for k in range(block.shape[0]):
            yield start + k, block[k]


def _blur(img: np.ndarray, smooth_px: float) -> np.ndarray:
    if np.isnan(img).any():
        fill = np.nanmedian(img) if np.isfinite(img).any() else 0.0
        img = np.where(np.isnan(img), fill, img)
    return ndi.gaussian_filter(img, smooth_px) if smooth_px > 0 else img


def _mean_frames(win: FrameBlocks, idx: Sequence[int], smooth_px: float) -> np.ndarray:
    block = _frames(win, int(min(idx)), int(max(idx)) + 1)
    return _blur(np.nanmean(block, axis=0), smooth_px)


def _robust_sd(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    med = np.median(x)
    return float(1.4826 * np.median(np.abs(x - med)))


def _noise_of_signal(win: FrameBlocks, smooth_px: float, n_ref: int) -> float:
    """σ of s = G(frame) − G(ref) from the first two frames' difference."""
    f = _frames(win, 0, 2)
    d = _blur(f[1], smooth_px) - _blur(f[0], smooth_px)
    return _robust_sd(d) / np.sqrt(2.0) * np.sqrt(1.0 + 1.0 / max(1, n_ref))


def _reference(win, reference, smooth_px, n_ref, frames=None) -> np.ndarray:
    if reference is None:
        return _mean_frames(frames, range(min(n_ref, win.sizes["t"])), smooth_px)
    ref = np.asarray(getattr(reference, "values", reference), dtype=np.float64)
    if ref.shape != (win.sizes["y"], win.sizes["x"]):
        raise InputError(
            _source(win),
            f"the reference image has shape {ref.shape}, the frames {win.shape[1:]}",
            "pass a reference frame of the same movie (e.g. movie.isel(t=0))",
        )
    return _blur(ref, smooth_px)


def _signal(frame_blurred: np.ndarray, ref: np.ndarray, sign: float, detrend: bool) -> np.ndarray:
    s = sign * (frame_blurred - ref)
    if detrend:
        s = s - np.nanmedian(s)
    return s


def _min_px(min_area_um2: float | None, px_area: float, default_px: int) -> int:
    if min_area_um2 is None:
        return default_px
    return max(1, int(np.ceil(float(min_area_um2) / px_area - 1e-9)))


def _crossing(t: np.ndarray, y: np.ndarray, level: float) -> tuple[float, int]:
    """First upward crossing of ``level`` after the last time ``y`` was below it at start.

    Returns (time, index of the first frame at/above the level); NaN when never.
    """
    above = y >= level
    if not above.any():
        return float("nan"), -1
    # the last run of 'above' that lasts to the end (robust to early noise spikes)
    k = int(np.nonzero(~above)[0][-1] + 1) if (~above).any() else 0
    if k >= y.size:
        return float("nan"), -1
    if k == 0:
        return float(t[0]), 0
    y0, y1 = y[k - 1], y[k]
    frac = (level - y0) / (y1 - y0) if y1 != y0 else 1.0
    return float(t[k - 1] + np.clip(frac, 0.0, 1.0) * (t[k] - t[k - 1])), k


# --------------------------------------------------------------------------- sites


def detect_sites(
    movie: xr.DataArray,
    *,
    t_start_s: float | None = None,
    t_end_s: float | None = None,
    polarity: str = "dark",
    min_area_um2: float | None = 0.05,
    max_area_um2: float | None = None,
    k_sigma: float = 6.0,
    min_contrast: float = 0.0,
    threshold: float | None = None,
    smooth_px: float = 1.0,
    n_ref: int = 2,
    level: float = 0.5,
    split: bool = True,
    detrend: bool = True,
    mask: Any = None,
    chunk_frames: int = 16,
    return_labels: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
    """Li nucleation sites in a deposition window: where and when disks appear.

    Parameters
    ----------
    movie : xarray.DataArray, dims ("t", "y", "x")
        Transmittance movie (T = I/I0, or raw intensity); t in s, y/x in µm.
    t_start_s, t_end_s : float, optional
        The deposition window, s (default: the whole movie).
    polarity : {"dark", "bright"}
        Sites appear dark (Li disks in trans) or bright (epi).
    min_area_um2, max_area_um2 : float, optional
        Keep objects with area in this range, µm² (paper: disks ≈ 0.45 µm²).
    k_sigma, min_contrast, threshold
        Detection threshold on the change: ``max(k_sigma·σ, min_contrast)`` with σ the
        noise of the change signal, or a fixed ``threshold`` in the movie's units.
    smooth_px : float
        Gaussian blur σ, px, applied to each frame.
    n_ref : int
        Frames averaged at the start (reference) and at the end (final change).
    level : float
        Fraction of a site's final core signal that defines its appearance time.
    split : bool
        Split touching disks by a watershed on the change map.
    detrend : bool
        Subtract each frame's spatial median change (uniform drift).
    mask : array_like of bool, shape (ny, nx), optional
        Region to analyse.
    chunk_frames : int
        Frames read at a time.
    return_labels : bool
        Also return the label image (0 = background, k = site k).

    Returns
    -------
    pandas.DataFrame
        ``site`` (1…n), ``y_um``, ``x_um``, ``t_appear_s``, ``t_appear_err_s`` (1σ,
        from the core signal's noise over its slope, at least the frame interval/√12),
        ``area_um2``, ``equivalent_diameter_um``, ``contrast`` (final core change).
        ``attrs``: ``threshold``, ``noise_sd``, ``n_frames``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(10.0); yy, xx = np.mgrid[:40, :40]
    >>> disk = (yy - 20) ** 2 + (xx - 12) ** 2 <= 16
    >>> data = np.ones((10, 40, 40)); data[4:, disk] = 0.2
    >>> mov = xr.DataArray(data, dims=("t", "y", "x"),
    ...     coords={"t": t, "y": np.arange(40) * 0.1, "x": np.arange(40) * 0.1})
    >>> s = detect_sites(mov)
    >>> len(s), round(float(s["x_um"][0]), 2), 3.0 < float(s["t_appear_s"][0]) < 4.0
    (1, 1.2, True)
    """
    sign = _check_polarity(polarity)
    win, t = _window(movie, t_start_s, t_end_s, "site detection")
    dy, dx = _pixel_size_um(win)
    px_area = dy * dx
    nt, ny, nx = win.shape
    n_ref = int(max(1, min(n_ref, nt // 2)))
    fb = FrameBlocks(win)
    ref = _mean_frames(fb, range(n_ref), smooth_px)
    sigma = _noise_of_signal(fb, smooth_px, n_ref)
    final = _signal(_mean_frames(fb, range(nt - n_ref, nt), smooth_px), ref, sign, detrend)
    thr = float(threshold) if threshold is not None else max(k_sigma * sigma, min_contrast)
    roi = np.ones((ny, nx), dtype=bool) if mask is None else np.asarray(mask).astype(bool)
    if roi.shape != (ny, nx):
        raise InputError(
            _source(movie),
            f"the mask has shape {roi.shape}, the frames {(ny, nx)}",
            "build the mask on the movie's pixel grid",
        )
    fg = (final > thr) & roi
    labels, n_lab = ndi.label(fg)
    if split and n_lab:
        labels = _split(final, labels, fg, _min_px(min_area_um2, px_area, 4))
    labels, areas = _filter_sizes(labels, _min_px(min_area_um2, px_area, 4), max_area_um2, px_area)
    n = int(labels.max())
    attrs = {"threshold": thr, "noise_sd": sigma, "n_frames": int(nt), "polarity": polarity}
    if n == 0:
        df = pd.DataFrame({c: pd.Series(dtype=float) for c in _SITE_COLUMNS})
        df["site"] = df["site"].astype(int)
        df.attrs.update(attrs)
        return (df, labels) if return_labels else df
    idx = np.arange(1, n + 1)
    peak = ndi.maximum(final, labels, idx)
    core = labels.copy()
    core[(labels > 0) & (final < 0.5 * peak[np.maximum(labels, 1) - 1])] = 0
    core_n = np.bincount(core.ravel(), minlength=n + 1)[1:].astype(float)
    # per-frame core means, read frame by frame
    series = np.empty((nt, n))
    flat_core = core.ravel()
    for k, frame in _iter_frames(fb, int(chunk_frames)):
        s = _signal(_blur(frame, smooth_px), ref, sign, detrend)
        series[k] = np.bincount(flat_core, weights=s.ravel(), minlength=n + 1)[1:] / np.maximum(
            core_n, 1
        )
    w = np.clip(final, 0, None) * (labels > 0)
    wsum = ndi.sum(w, labels, idx)
    yy = np.asarray(win["y"].values, dtype=float)
    xx = np.asarray(win["x"].values, dtype=float)
    cy = ndi.sum(w * yy[:, None], labels, idx) / wsum
    cx = ndi.sum(w * xx[None, :], labels, idx) / wsum
    final_core = series[-n_ref:].mean(axis=0)
    dt_min = float(np.min(np.diff(t)))
    t_app = np.full(n, np.nan)
    t_err = np.full(n, np.nan)
    for i in range(n):
        tc, k = _crossing(t, series[:, i], level * final_core[i])
        t_app[i] = tc
        if k > 0:
            slope = (series[k, i] - series[k - 1, i]) / (t[k] - t[k - 1])
            noise = sigma / np.sqrt(max(core_n[i], 1.0)) * 2.0  # blur-correlated pixels
            err = abs(noise / slope) if slope > 0 else np.inf
            t_err[i] = max(err, dt_min / np.sqrt(12.0))
        elif k == 0:
            t_err[i] = dt_min / np.sqrt(12.0)
    area = core_n * px_area  # half-contrast contour: the edge of a blurred opaque disk
    df = pd.DataFrame(
        {
            "site": idx,
            "y_um": cy,
            "x_um": cx,
            "t_appear_s": t_app,
            "t_appear_err_s": t_err,
            "area_um2": area,
            "equivalent_diameter_um": 2.0 * np.sqrt(area / np.pi),
            "contrast": final_core,
        }
    )
    df.attrs.update(attrs)
    return (df, labels) if return_labels else df


def _split(signal: np.ndarray, labels: np.ndarray, fg: np.ndarray, min_px: int) -> np.ndarray:
    """Watershed of touching blobs on the change map, one marker per regional peak."""
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    r_px = max(1, int(round(np.sqrt(min_px / np.pi))))
    peaks = peak_local_max(signal, min_distance=r_px, labels=labels, exclude_border=False)
    if peaks.shape[0] <= labels.max():
        return labels
    markers = np.zeros(labels.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, peaks.shape[0] + 1)
    return watershed(-signal, markers, mask=fg)


def _filter_sizes(labels, min_px, max_area_um2, px_area) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(labels.ravel())
    keep = counts >= min_px
    if max_area_um2 is not None:
        keep &= counts * px_area <= float(max_area_um2)
    keep[0] = False
    new = np.zeros(counts.size, dtype=np.int32)
    new[keep] = np.arange(1, int(keep.sum()) + 1)
    return new[labels], counts[keep].astype(float)


# --------------------------------------------------------------------------- pores


def track_pores(
    movie: xr.DataArray,
    *,
    polarity: str = "bright",
    t_start_s: float | None = None,
    t_end_s: float | None = None,
    min_area_um2: float | None = None,
    k_sigma: float = 6.0,
    min_contrast: float = 0.0,
    threshold: float | None = None,
    smooth_px: float = 1.0,
    n_ref: int = 2,
    reference: Any = None,
    confirm_frames: int = 2,
    contrast: float | None = None,
    link_level: float = 0.3,
    detrend: bool = True,
    mask: Any = None,
    chunk_frames: int = 16,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pores opening in the film: emergence, position, area over time, merges.

    Parameters
    ----------
    movie : xarray.DataArray, dims ("t", "y", "x")
        Transmittance movie; t in s, y/x in µm.
    polarity : {"bright", "dark"}
        Pores are bright in trans (default), dark in epi.
    t_start_s, t_end_s : float, optional
        Window (e.g. a stripping step or a whole cycling record), s.
    min_area_um2 : float, optional
        Smallest pore kept per frame, µm² (default 3 pixels; the paper's pores are
        mostly < 0.1 µm²).
    k_sigma, min_contrast, threshold
        Threshold on the change: ``max(k_sigma·σ, min_contrast)`` or a fixed value.
    smooth_px : float
        Gaussian blur σ, px.
    n_ref : int
        Frames averaged for the reference (when ``reference`` is None).
    reference : array_like, shape (ny, nx), optional
        Reference image (e.g. the pristine film) instead of the window's first frames.
    confirm_frames : int
        Consecutive frames a new pore must be seen in before it counts.
    contrast : float, optional
        Change of a fully open hole (T_hole − T_film, movie units). Areas are
        integrated: area = Σ s / contrast over the pore's pixels and its blurred rim
        (unassigned pixels within 2·smooth_px + 1 px), exact for pores of any size
        under a linear blur. Default: the median change over the interiors of the
        holes at the end of the window (pixels above half the 95th percentile of the
        detected change, eroded by 2·smooth_px + 2 px: well-resolved pores reach the
        full contrast), else that 95th percentile; when fewer than 20 pixels are
        detected, areas are pixel counts.
    link_level : float
        Pores are segmented at ``max(threshold, link_level·contrast)``: near the
        noise threshold the blurred rims of two neighbouring holes join long before the
        holes touch (and a pore opening next to another would be taken for its
        growth). At 0.3 of the contrast, two holes blurred by a Gaussian of σ px join
        when their gap is below ≈ 2σ; 0 segments at the noise threshold.
    detrend : bool
        Subtract each frame's spatial median change.
    mask : array_like of bool, optional
        Region to analyse.
    chunk_frames : int
        Frames read at a time.

    Returns
    -------
    pores : pandas.DataFrame
        ``pore``, ``t_emerge_s`` (sub-frame: the peak pixel's threshold crossing),
        ``frame_emerge`` (index in the window), ``y_um``, ``x_um`` (footprint centroid),
        ``area_final_um2`` (area at the pore's last frame), ``t_end_s`` (last frame
        alive), ``merged_into`` (−1 or the pore it merged into), ``t_merge_s``.
    areas : pandas.DataFrame
        ``pore``, ``t_s``, ``area_um2``, ``area_ratio`` (area / final area) for every
        frame from emergence to the pore's end.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(12.0); yy, xx = np.mgrid[:50, :50]
    >>> data = np.full((12, 50, 50), 0.3)
    >>> for k in range(5, 12):
    ...     data[k][(yy - 25) ** 2 + (xx - 25) ** 2 <= (k - 3) ** 2] = 0.9
    >>> mov = xr.DataArray(data, dims=("t", "y", "x"),
    ...     coords={"t": t, "y": np.arange(50) * 0.1, "x": np.arange(50) * 0.1})
    >>> pores, areas = track_pores(mov)
    >>> len(pores), int(pores["frame_emerge"][0]), float(areas["area_ratio"].iloc[-1])
    (1, 5, 1.0)
    """
    sign = _check_polarity(polarity)
    win, t = _window(movie, t_start_s, t_end_s, "pore tracking")
    dy, dx = _pixel_size_um(win)
    px_area = dy * dx
    nt, ny, nx = win.shape
    n_ref = int(max(1, min(n_ref, nt // 2)))
    fb = FrameBlocks(win)
    ref = _reference(win, reference, smooth_px, n_ref, fb)
    sigma = _noise_of_signal(fb, smooth_px, n_ref)
    thr = float(threshold) if threshold is not None else max(k_sigma * sigma, min_contrast)
    min_px = _min_px(min_area_um2, px_area, 3)
    roi = np.ones((ny, nx), dtype=bool) if mask is None else np.asarray(mask).astype(bool)
    if roi.shape != (ny, nx):
        raise InputError(
            _source(movie),
            f"the mask has shape {roi.shape}, the frames {(ny, nx)}",
            "build the mask on the movie's pixel grid",
        )
    if contrast is None:
        last = _signal(_mean_frames(fb, range(nt - n_ref, nt), smooth_px), ref, sign, detrend)
        det = (last > thr) & roi
        contrast = float("nan")
        if det.sum() >= 20:
            p95 = float(np.percentile(last[det], 95))
            # median over the interiors of the holes, away from their blurred rims
            inner = ndi.binary_erosion(last > 0.5 * p95, iterations=int(np.ceil(2 * smooth_px + 2)))
            inner &= roi
            contrast = float(np.median(last[inner])) if inner.sum() >= 20 else p95
    contrast = float(contrast)

    seg_level = thr
    if np.isfinite(contrast) and contrast > 0:
        seg_level = max(thr, float(link_level) * contrast)

    margin = int(np.ceil(2.0 * max(smooth_px, 0.5) + 1.0))

    def comp_area(s_img: np.ndarray, lab_img: np.ndarray, c: int, sl) -> float:
        """Integrated area: Σ s / contrast over the component and its rim.

        The rim is the pixels within ``margin`` px that belong to no other component
        (the blurred edge below the segmentation level; noise there averages out).
        """
        if not (np.isfinite(contrast) and contrast > 0):
            return float(np.count_nonzero(lab_img[sl] == c)) * px_area
        y0, y1 = max(0, sl[0].start - margin), min(ny, sl[0].stop + margin)
        x0, x1 = max(0, sl[1].start - margin), min(nx, sl[1].stop + margin)
        sub = lab_img[y0:y1, x0:x1]
        own = sub == c
        rim = ndi.binary_dilation(own, iterations=margin)
        region = own | (rim & (sub == 0))
        return float(s_img[y0:y1, x0:x1][region].sum()) / contrast * px_area

    footprint = np.zeros((ny, nx), dtype=np.int32)  # pore id owning each pixel (0: none)
    pores: dict[int, dict[str, Any]] = {}
    candidates: dict[int, dict[str, Any]] = {}  # provisional, not yet confirmed
    cand_map = np.zeros((ny, nx), dtype=np.int32)
    area_rows: list[tuple[int, float, float]] = []
    next_id = 1
    next_cand = 1
    prev_s = None
    for k, frame in _iter_frames(fb, int(chunk_frames)):
        s = _signal(_blur(frame, smooth_px), ref, sign, detrend)
        fg = (s > seg_level) & roi
        lab, nlab = ndi.label(fg)
        if nlab:
            counts = np.bincount(lab.ravel())
            small = counts < min_px
            small[0] = False
            if small.any():
                lab[small[lab]] = 0
        area_now: dict[int, float] = {}
        new_cand_map = np.zeros_like(cand_map)
        new_cands: dict[int, dict[str, Any]] = {}
        ids = np.unique(lab)
        ids = ids[ids > 0]
        # overlaps of components with pore footprints (vectorised)
        on = (lab > 0) & (footprint > 0)
        pairs = np.unique(np.stack([lab[on], footprint[on]]), axis=1) if on.any() else None
        owners: dict[int, list[int]] = {}
        if pairs is not None:
            for c, p in pairs.T:
                owners.setdefault(int(c), []).append(int(p))
        comp_px = ndi.find_objects(lab)
        for c in ids:
            c = int(c)
            sl = comp_px[c - 1]
            comp = lab[sl] == c
            # owners may have merged earlier in this frame: follow them to the survivor
            parents = sorted({_survivor(pores, p) for p in owners.get(c, [])})
            cm = cand_map[sl][comp]
            prev_cands = [int(v) for v in np.unique(cm[cm > 0]) if int(v) in candidates]
            if not parents:
                # a candidate new pore: continue the earliest candidate it overlaps
                if prev_cands:
                    cand = min((candidates[v] for v in prev_cands), key=lambda q: q["t"])
                    cand["n"] += 1
                else:
                    cand = {
                        "n": 1,
                        "k": k,
                        "t": _emerge_time(t, k, s, prev_s, comp, sl, contrast),
                        "rows": [],
                    }
                if cand["n"] >= max(1, int(confirm_frames)):
                    pid = next_id
                    next_id += 1
                    pores[pid] = _new_pore(cand)
                    footprint[sl][comp] = pid
                    area_now[pid] = comp_area(s, lab, c, sl)
                    # the frames between the first sighting and the confirmation
                    area_rows.extend((pid, tt, aa) for tt, aa in cand["rows"])
                else:
                    cand["rows"].append((float(t[k]), comp_area(s, lab, c, sl)))
                    new_cand_map[sl][comp] = next_cand
                    new_cands[next_cand] = cand
                    next_cand += 1
                continue
            # a candidate swallowed by a growing pore was a real pore: confirm it, so
            # that it is counted and merged rather than lost
            for v in prev_cands:
                cand = candidates.pop(v)
                pid = next_id
                next_id += 1
                pores[pid] = _new_pore(cand)
                area_rows.extend((pid, tt, aa) for tt, aa in cand["rows"])
                footprint[(cand_map == v) & (footprint == 0)] = pid
                parents.append(pid)
            if len(parents) > 1:
                order = sorted(
                    parents, key=lambda p: (pores[p]["t_emerge_s"], -_fp_area(footprint, p), p)
                )
                keep = order[0]
                for other in order[1:]:
                    pores[other]["merged_into"] = keep
                    pores[other]["t_merge_s"] = float(t[k])
                    footprint[footprint == other] = keep
                    area_now.pop(other, None)
            else:
                keep = parents[0]
            footprint[sl][comp & (footprint[sl] == 0)] = keep
            area_now[keep] = area_now.get(keep, 0.0) + comp_area(s, lab, c, sl)
        for pid, info in pores.items():
            if info["merged_into"] < 0:  # merged pores' rows end the frame before the merge
                area_rows.append((pid, float(t[k]), area_now.get(pid, 0.0)))
        cand_map = new_cand_map
        candidates = new_cands
        prev_s = s
    p_tab, a_tab = _pore_tables(pores, area_rows, footprint, win, t)
    p_tab.attrs.update(
        threshold=thr, segment_level=seg_level, noise_sd=sigma, contrast=contrast, n_frames=int(nt)
    )
    return p_tab, a_tab


def _new_pore(cand: dict[str, Any]) -> dict[str, Any]:
    return {
        "t_emerge_s": cand["t"],
        "frame_emerge": cand["k"],
        "merged_into": -1,
        "t_merge_s": float("nan"),
    }


def _survivor(pores: dict[int, dict[str, Any]], p: int) -> int:
    while pores[p]["merged_into"] >= 0:
        p = pores[p]["merged_into"]
    return p


def _fp_area(footprint: np.ndarray, p: int) -> int:
    return int(np.count_nonzero(footprint == p))


def _emerge_time(t, k, s, prev_s, comp, sl, contrast) -> float:
    """Sub-frame emergence: the peak pixel's crossing of half its change (capped at half
    the hole contrast), interpolated between the previous and the current frame."""
    if prev_s is None or k == 0:
        return float(t[k])
    vals = s[sl][comp]
    j = int(np.argmax(vals))
    y1 = float(vals[j])
    y0 = float(prev_s[sl][comp][j])
    if y1 <= y0:
        return float(t[k])
    level = 0.5 * (min(y1, contrast) if np.isfinite(contrast) and contrast > 0 else y1)
    frac = np.clip((level - y0) / (y1 - y0), 0.0, 1.0)
    return float(t[k - 1] + frac * (t[k] - t[k - 1]))


def _pore_tables(pores, area_rows, footprint, win, t) -> tuple[pd.DataFrame, pd.DataFrame]:
    areas = pd.DataFrame(area_rows, columns=["pore", "t_s", "area_um2"])
    if not pores:
        p = pd.DataFrame({c: pd.Series(dtype=float) for c in _PORE_COLUMNS})
        for c in ("pore", "frame_emerge", "merged_into"):
            p[c] = p[c].astype(int)
        a = pd.DataFrame({c: pd.Series(dtype=float) for c in _AREA_COLUMNS})
        a["pore"] = a["pore"].astype(int)
        return p, a
    areas = areas.sort_values(["pore", "t_s"], kind="stable").reset_index(drop=True)
    yy = np.asarray(win["y"].values, dtype=float)
    xx = np.asarray(win["x"].values, dtype=float)
    rows = []
    final_area = {}
    for pid in sorted(pores):
        info = pores[pid]
        a = areas[areas["pore"] == pid]
        valid = a.dropna(subset=["area_um2"])
        last = float(valid["area_um2"].iloc[-1]) if len(valid) else float("nan")
        final_area[pid] = last
        # footprint centroid: own pixels, or the survivor's when merged
        own = footprint == (pid if info["merged_into"] < 0 else _survivor(pores, pid))
        if own.any():
            iy, ix = np.nonzero(own)
            cy, cx = float(yy[iy].mean()), float(xx[ix].mean())
        else:
            cy = cx = float("nan")
        rows.append(
            {
                "pore": pid,
                "t_emerge_s": info["t_emerge_s"],
                "frame_emerge": int(info["frame_emerge"]),
                "y_um": cy,
                "x_um": cx,
                "area_final_um2": last,
                "t_end_s": float(a["t_s"].iloc[-1]) if len(a) else float("nan"),
                "merged_into": int(info["merged_into"]),
                "t_merge_s": info["t_merge_s"],
            }
        )
    fa = areas["pore"].map(final_area).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        areas["area_ratio"] = np.where(fa > 0, areas["area_um2"].to_numpy() / fa, np.nan)
    return pd.DataFrame(rows, columns=_PORE_COLUMNS), areas[_AREA_COLUMNS]


def pore_cycle_stats(
    areas: pd.DataFrame,
    *,
    cycles: pd.DataFrame | Mapping[str, Sequence[float]],
    field_area_um2: float,
    pores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pore count, area fraction and mean area at the end of each cycle.

    Parameters
    ----------
    areas : pandas.DataFrame
        The ``areas`` table of :func:`track_pores` (``pore``, ``t_s``, ``area_um2``).
    cycles : DataFrame or mapping
        Columns ``cycle`` and ``t_end_s`` (the end of each dissolution, s), optionally
        ``t_start_s`` (then ``new_count`` counts pores that emerged in the cycle).
    field_area_um2 : float
        Analysed area (field of view or mask), µm².
    pores : pandas.DataFrame, optional
        The ``pores`` table (needed for ``new_count``).

    Returns
    -------
    pandas.DataFrame
        ``cycle``, ``t_s`` (frame used: the last at or before ``t_end_s``), ``count``
        (pores with area > 0 then; merged pores count once), ``area_fraction`` (total
        pore area / field area), ``mean_area_um2``, ``total_area_um2``, ``new_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = pd.DataFrame({"pore": [1, 1, 2], "t_s": [1.0, 2.0, 2.0],
    ...                       "area_um2": [0.1, 0.2, 0.3]})
    >>> st = pore_cycle_stats(areas, cycles={"cycle": [1, 2], "t_end_s": [1.5, 2.5]},
    ...                       field_area_um2=10.0)
    >>> st["count"].tolist(), st["area_fraction"].round(3).tolist()
    ([1, 2], [0.01, 0.05])
    """
    cyc = pd.DataFrame(cycles)
    if not {"cycle", "t_end_s"} <= set(cyc.columns):
        raise InputError(
            None,
            f"cycles has columns {list(cyc.columns)}, expected cycle and t_end_s",
            "pass a table with one row per cycle: cycle, t_end_s (and t_start_s)",
        )
    if not (field_area_um2 and field_area_um2 > 0):
        raise InputError(None, "field_area_um2 must be > 0", "pass the analysed area in µm²")
    times = np.unique(areas["t_s"].to_numpy(dtype=float)) if len(areas) else np.array([])
    rows = []
    for _, c in cyc.iterrows():
        t_end = float(c["t_end_s"])
        sel_t = times[times <= t_end + 1e-9]
        row: dict[str, Any] = {"cycle": int(c["cycle"])}
        if sel_t.size == 0:
            row.update(
                t_s=float("nan"),
                count=0,
                area_fraction=0.0,
                mean_area_um2=float("nan"),
                total_area_um2=0.0,
            )
        else:
            tt = float(sel_t[-1])
            a = areas[(areas["t_s"] == tt) & (areas["area_um2"] > 0)]["area_um2"]
            tot = float(a.sum())
            row.update(
                t_s=tt,
                count=int(a.size),
                area_fraction=tot / float(field_area_um2),
                mean_area_um2=float(a.mean()) if a.size else float("nan"),
                total_area_um2=tot,
            )
        if pores is not None and "t_start_s" in cyc.columns:
            t0 = float(c["t_start_s"])
            row["new_count"] = int(
                ((pores["t_emerge_s"] >= t0) & (pores["t_emerge_s"] <= t_end)).sum()
            )
        else:
            row["new_count"] = None
        rows.append(row)
    return pd.DataFrame(rows)
