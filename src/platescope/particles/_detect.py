"""General particle detection: smoothing, thresholds, watershed, size/shape filters, blobs.

The building blocks of every particle analysis in platescope (SEM nanoparticles, Li
deposits in optical frames, colloids): :func:`segment_particles` turns a 2-D image into
a label image in the steps of ImageJ's *Threshold* + *Analyze Particles* (optionally
with a watershed split, as *Process ▸ Binary ▸ Watershed*), and :func:`detect_blobs`
finds diffraction-limited spots with a scale-normalised Laplacian of Gaussian.
Everything is in physical units: ``spacing`` is the pixel size in µm.

Conventions (ImageJ-compatible where ImageJ has one; see docs/particles.md):

- foreground is ``value > threshold`` (ImageJ's "dark background" range
  ``level+1 … max`` on 8-bit images); thresholds of integer images use one histogram
  bin per grey level, of float images 256 bins between min and max (ImageJ bins 16-bit
  and 32-bit images in 256 bins too);
- particles are 8-connected (as ImageJ's particle tracer);
- size limits are inclusive (``min ≤ area ≤ max``, as ImageJ);
- holes are not part of a particle unless ``fill_holes=True`` (ImageJ's "include holes");
- a particle belongs to the ROI when its centroid does (it is kept whole, not clipped).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, segmentation

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.particles._image_checks import _first_pixels, _image2d, _positive, _roi, _spacing
from platescope.particles._measure import _measure_core

# pandas only builds the tables: `platescope particles` writes its CSV without it
pd = lazy_module("pandas")

__all__ = ["THRESHOLD_METHODS", "detect_blobs", "segment_particles"]

_AUTO_METHODS = {
    "otsu": filters.threshold_otsu,
    "triangle": filters.threshold_triangle,
    "li": filters.threshold_li,
    "yen": filters.threshold_yen,
    "isodata": filters.threshold_isodata,
    "mean": filters.threshold_mean,
}
#: Threshold methods accepted by :func:`segment_particles`.
THRESHOLD_METHODS = (*_AUTO_METHODS, "fixed", "local")

# two watershed markers closer than _SEPARATION × (ρ_i + ρ_j) (ρ: distance-transform
# height, about the radius) belong to one particle: touching particles overlap by less
_SEPARATION = 0.6
# prominence, pixels, of a distance-transform maximum that seeds its own particle
# (ImageJ's EDM watershed uses 0.5; 0.25 splits more unequal overlapping pairs with no
# over-splitting in tests/particles/test_detect.py, 20 scenes × 60 particles)
_H_MAX_PX = 0.25
# a ridge of length L and height ρ gets 1 + floor(L / 1.8ρ + _RIDGE_ROUND) markers
_RIDGE_ROUND = 0.5
# ridges lower than this (pixels) are one particle: in a particle only ~2 px in radius
# every pixel lies within half a pixel of the maximum, so its "ridge" is the particle
_RIDGE_MIN_PX = 2.5


# --------------------------------------------------------------------------- checks


def _auto_threshold(values: np.ndarray, method: str) -> float:
    """``method``'s threshold of a 1-D sample (foreground is ``> t``)."""
    if values.size < 2 or np.ptp(values) == 0:
        return float(values.max()) if values.size else 0.0
    return float(_AUTO_METHODS[method](values))


def _threshold_value(values: np.ndarray, threshold: str | float) -> float:
    """A method name's threshold of ``values``, or a number as given."""
    if isinstance(threshold, str):
        if threshold not in _AUTO_METHODS:
            raise InputError(
                None,
                f"unknown threshold method {threshold!r}",
                f"use one of {sorted(_AUTO_METHODS)} or a number (grey level above background)",
            )
        return _auto_threshold(values, threshold)
    try:
        return float(threshold)
    except (TypeError, ValueError):
        raise InputError(
            None,
            f"threshold must be a method name or a number, got {threshold!r}",
            f"use one of {sorted(_AUTO_METHODS)} or a number",
        ) from None


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Block sums of ``a`` over ``f × f`` blocks (edges padded with zeros)."""
    ny, nx = a.shape
    py, px = (-ny) % f, (-nx) % f
    if py or px:
        a = np.pad(a, ((0, py), (0, px)))
    return a.reshape(a.shape[0] // f, f, a.shape[1] // f, f).sum(axis=(1, 3))


def _upsample(
    a: np.ndarray, f: int, shape: tuple[int, int], at: np.ndarray | None = None
) -> np.ndarray:
    """Bilinear interpolation of a block-reduced map back to full-resolution pixel centres.

    ``at`` (bool, ``shape``): only those pixels, in raster order (each point is
    interpolated on its own, so the values are those of the full map).
    """
    yy = (np.arange(shape[0]) + 0.5) / f - 0.5
    xx = (np.arange(shape[1]) + 0.5) / f - 0.5
    yy = np.clip(yy, 0, a.shape[0] - 1)
    xx = np.clip(xx, 0, a.shape[1] - 1)
    if at is not None:
        rows, cols = np.nonzero(at)
        return ndi.map_coordinates(a, [yy[rows], xx[cols]], order=1, mode="nearest")
    return ndi.map_coordinates(a, np.meshgrid(yy, xx, indexing="ij"), order=1, mode="nearest")


def _masked_background(
    data: np.ndarray, weight: np.ndarray, sigma_px: float, at: np.ndarray | None = None
) -> np.ndarray:
    """Normalised Gaussian convolution of ``data`` with pixel weights, at reduced resolution.

    Places with no valid pixel nearby take the value of the nearest place that has one.
    With ``at`` (bool mask) only the values of those pixels are returned (raster order).
    """
    f = max(1, int(sigma_px // 4))
    num = _block_mean(data * weight, f)
    den = _block_mean(weight.astype(np.float64), f)
    num = ndi.gaussian_filter(num, sigma_px / f, mode="nearest")
    den = ndi.gaussian_filter(den, sigma_px / f, mode="nearest")
    ok = den > 1e-3 * f * f
    if not ok.any():
        return np.zeros_like(data) if at is None else np.zeros(int(np.count_nonzero(at)))
    bg_red = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
    if not ok.all():
        idx = ndi.distance_transform_edt(~ok, return_distances=False, return_indices=True)
        bg_red = bg_red[tuple(idx)]
    return _upsample(bg_red, f, data.shape, at)


def _robust_sd(values: np.ndarray) -> float:
    """Noise sd from the lower half of a distribution whose outliers are bright.

    The distance from the median down to the 15.9 % quantile (a Gaussian's median − 1 sd).
    """
    v = values.ravel()
    if v.size > 400_000:
        v = v[:: v.size // 200_000]
    med = float(np.median(v))
    return float(med - np.quantile(v, 0.158655))


# ------------------------------------------------------------------------ watershed


def _markers(
    dist: np.ndarray,
    binary: np.ndarray,
    min_distance_px: int | None,
    ridge_min_px: float = _RIDGE_MIN_PX,
) -> np.ndarray:
    """Watershed markers from the ridges of the distance transform.

    The near-maximal part of the distance transform forms one small blob per round
    particle: with ``min_distance_px`` the pixels within half a pixel of the largest
    value in a ``2·min_distance_px + 1`` window (the SEM recipe); with ``None`` the
    regional maxima of prominence ≥ ``_H_MAX_PX`` (the h-maxima: a saddle between two
    touching disks is never one; ImageJ's EDM watershed is alike with 0.5 pixel). Two overlapping particles blurred together give instead one elongated
    ridge of nearly constant height ρ that runs between their centres: a ridge of length
    L gets ``1 + round(L / (1.8 ρ))`` markers spread from end to end (1.8 ρ is the
    centre distance of two equal disks overlapping at 0.9 × the sum of their radii).
    Finally a marker is dropped when it lies closer than ``_SEPARATION × (ρ_i + ρ_j)``
    to a stronger one (touching particles are never that close).
    """
    if min_distance_px is None:
        from skimage.morphology import h_maxima

        near = binary & (dist > 0) & (h_maxima(dist, _H_MAX_PX) > 0)
    else:
        size = 2 * min_distance_px + 1
        near = binary & (dist > 0) & (dist >= ndi.maximum_filter(dist, size=size) - 0.5)
    ridges, n = ndi.label(near, structure=np.ones((3, 3)))
    markers = np.zeros(dist.shape, dtype=np.int32)
    if n == 0:
        return markers
    cand_r, cand_c = [], []
    for k, sl in enumerate(ndi.find_objects(ridges), start=1):
        if sl is None:
            continue
        rr, cc = np.nonzero(ridges[sl] == k)
        rr = rr + sl[0].start
        cc = cc + sl[1].start
        d = dist[rr, cc]
        m = 1
        if rr.size >= 3 and float(d.max()) >= ridge_min_px:
            pts = np.column_stack([rr, cc]).astype(float)
            mu = pts.mean(axis=0)
            _, v = np.linalg.eigh(np.cov((pts - mu).T))
            proj = (pts - mu) @ v[:, -1]
            length = float(proj.max() - proj.min())
            m = 1 + int(length / (1.8 * float(d.max())) + _RIDGE_ROUND)
        if m == 1:
            j = int(np.argmax(d))
            cand_r.append(rr[j])
            cand_c.append(cc[j])
            continue
        for t in np.linspace(proj.min(), proj.max(), m):
            j = int(np.argmin(np.abs(proj - t) - 1e-3 * d))
            cand_r.append(rr[j])
            cand_c.append(cc[j])
    cr = np.asarray(cand_r)
    cc_ = np.asarray(cand_c)
    rho = dist[cr, cc_]
    order = np.argsort(-rho, kind="stable")
    from scipy.spatial import cKDTree  # watershed markers only: not paid by plain calls

    tree = cKDTree(np.column_stack([cr, cc_]))
    kept = np.zeros(cr.size, dtype=bool)
    for i in order:
        nb = tree.query_ball_point([cr[i], cc_[i]], _SEPARATION * 2.0 * rho[i] + 1e-9)
        nb = [j for j in nb if kept[j]]
        if nb:
            dd = np.hypot(cr[nb] - cr[i], cc_[nb] - cc_[i])
            if np.any(dd < _SEPARATION * (rho[i] + rho[nb])):
                continue
        kept[i] = True
    markers[cr[kept], cc_[kept]] = np.arange(1, kept.sum() + 1, dtype=np.int32)
    return markers


def _split(
    binary: np.ndarray,
    *,
    min_distance_px: int | None,
    smooth_mask: bool = True,
    ridge_min_px: float = _RIDGE_MIN_PX,
) -> np.ndarray:
    """Watershed split of touching objects on the distance transform of ``binary``.

    The outlines are smoothed (a 1-pixel Gaussian of the mask cut at 0.5) before the
    distance transform so that noise on the edge does not create ridges. With
    ``smooth_mask`` the smoothed mask is also the one flooded (the SEM recipe);
    otherwise the original pixels are kept exactly and objects that lost their marker
    to the smoothing keep a label of their own.
    """
    smooth = ndi.gaussian_filter(binary.astype(np.float32), 1.0) > 0.5
    if smooth_mask:
        binary = smooth
    if not binary.any():
        return np.zeros(binary.shape, dtype=np.int32)
    dist = ndi.distance_transform_edt(smooth)
    markers = _markers(dist, smooth, min_distance_px, ridge_min_px)
    if smooth_mask:
        return segmentation.watershed(-dist, markers, mask=binary).astype(np.int32)
    # flood the exact pixels; the 8-connected distance of the unsmoothed mask breaks ties
    dist_exact = ndi.distance_transform_edt(binary)
    labels = segmentation.watershed(-(dist + 1e-3 * dist_exact), markers, mask=binary)
    rest, n = ndi.label(binary & (labels == 0), structure=np.ones((3, 3)))
    if n:
        top = int(labels.max())
        labels = np.where(rest > 0, rest + top, labels)
    return labels.astype(np.int32)


def _fill_small_holes(binary: np.ndarray, max_px: float) -> np.ndarray:
    """Fill background regions enclosed by foreground that are smaller than ``max_px``."""
    holes, n = ndi.label(~binary)
    if n == 0:
        return binary
    sizes = np.bincount(holes.ravel())
    small = sizes <= max_px
    small[0] = False
    return binary | small[holes]


def _relabel(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep labels whose ``keep[label]`` is True and number them 1..n in raster order."""
    keep = np.asarray(keep, bool).copy()
    keep[0] = False
    new = np.zeros(keep.size, dtype=np.int32)
    ids, first = _first_pixels(labels)
    sel = keep[ids]
    ids_kept = ids[sel]
    order = np.argsort(first[sel], kind="stable")
    new[ids_kept[order]] = np.arange(1, ids_kept.size + 1, dtype=np.int32)
    return new[labels]


# ---------------------------------------------------------------------- segmentation


def segment_particles(
    image: Any,
    *,
    spacing: float | tuple[float, float],
    sigma_um: float | None = None,
    method: str = "otsu",
    threshold: float | None = None,
    polarity: str = "bright",
    local_block_um: float | None = None,
    watershed: bool = True,
    min_area_um2: float | None = None,
    max_area_um2: float | None = None,
    roi: Any = None,
    circularity: tuple[float, float] | None = None,
    fill_holes: bool = False,
    exclude_border: bool = False,
) -> np.ndarray:
    """Segment bright (or dark) particles into a label image.

    Steps (each optional but the threshold):

    1. ``polarity="dark"`` negates the image so particles are the bright part.
    2. Gaussian smoothing of σ = ``sigma_um``.
    3. Background: with ``local_block_um`` and a global ``method``, a slowly varying
       background (Gaussian average of σ = ``local_block_um``/6 of the pixels that are
       not particles, iterated once) is subtracted first, so the threshold becomes a
       height above the local background (for uneven illumination or charging).
    4. Threshold: ``method`` on the pixels of the ROI (the whole image without one);
       ``"fixed"`` uses ``threshold`` as given (after steps 1–3, i.e. a height above
       background when step 3 ran; negated units for ``"dark"``: give −level);
       ``"local"`` is adaptive: a pixel is foreground when it exceeds the Gaussian-
       weighted mean of its ``local_block_um`` neighbourhood (σ = block/6) by
       ``threshold`` (default 3 × the robust noise sd of the image minus that mean).
    5. ``fill_holes``: holes inside particles become particle (ImageJ "include holes").
    6. ``watershed``: touching particles are split on the distance transform of the
       (outline-smoothed) mask: markers at its maxima of prominence ≥ 0.25 pixel,
       elongated ridges (two overlapping particles blurred into one) cut by length,
       markers closer than 0.6 × the sum of their heights merged
       (:func:`~platescope.particles._detect._markers`); the original pixels are
       flooded, so areas are those of the threshold.
       Without it, 8-connected components are the particles (ImageJ's Analyze
       Particles without a prior Binary ▸ Watershed).
    7. Filters: centroid in ``roi``; ``min_area_um2 ≤ area ≤ max_area_um2``;
       ``circularity[0] ≤ 4πA/P² ≤ circularity[1]`` (ImageJ's traced perimeter, see
       :func:`measure_particles`); ``exclude_border`` drops particles touching the edge.

    Parameters
    ----------
    image : array_like or xarray.DataArray, shape (y, x)
        Grey-level image (integer or float; not modified).
    spacing : float
        Pixel size, µm (square pixels; an equal ``(dy, dx)`` pair is accepted).
    sigma_um : float, optional
        Gaussian smoothing σ, µm. ``None`` or 0: no smoothing.
    method : str
        One of :data:`THRESHOLD_METHODS`: ``"otsu"``, ``"triangle"``, ``"li"``,
        ``"yen"``, ``"isodata"``, ``"mean"`` (automatic, scikit-image's
        implementations), ``"fixed"`` or ``"local"``.
    threshold : float, optional
        Grey level for ``"fixed"`` (required); offset above the local mean for
        ``"local"``; not used by the automatic methods.
    polarity : {"bright", "dark"}
        Whether particles are brighter or darker than their surroundings.
    local_block_um : float, optional
        Neighbourhood size, µm, of the local mean (``"local"``) or of the background
        subtracted before a global method; several times the largest particle.
    watershed : bool
        Split touching particles.
    min_area_um2, max_area_um2 : float, optional
        Inclusive area limits, µm².
    roi : array_like of bool, optional
        Region of interest, image-shaped; thresholds use its pixels and particles whose
        centroid falls outside are dropped.
    circularity : (float, float), optional
        Inclusive circularity range, e.g. ``(0.5, 1.0)``.
    fill_holes : bool
        Fill holes inside particles.
    exclude_border : bool
        Drop particles touching the image edge.

    Returns
    -------
    numpy.ndarray of int32
        Label image, 0 = background, particles numbered 1…n in raster order of their
        first pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.draw import disk
    >>> a = np.full((60, 60), 10.0)
    >>> a[disk((20, 20), 6)] = 100.0
    >>> a[disk((20, 31), 6)] = 100.0      # touches the first one
    >>> a[disk((45, 40), 4)] = 100.0
    >>> lab = segment_particles(a, spacing=0.1)
    >>> int(lab.max())
    3
    >>> int(segment_particles(a, spacing=0.1, watershed=False).max())
    2
    """

    px = _spacing(spacing)
    raw = _image2d(image)
    data = raw.astype(np.float64)
    mask = _roi(roi, data.shape)
    if polarity not in ("bright", "dark"):
        raise InputError(None, f"unknown polarity {polarity!r}", "use 'bright' or 'dark'")
    if method not in THRESHOLD_METHODS:
        raise InputError(
            None,
            f"unknown threshold method {method!r}",
            f"use one of {', '.join(THRESHOLD_METHODS)}",
        )
    if method == "fixed" and threshold is None:
        raise InputError(None, "method='fixed' needs a threshold", "give threshold=<grey level>")
    if threshold is not None and method not in ("fixed", "local"):
        raise InputError(
            None,
            f"threshold={threshold!r} is only used by method='fixed' or 'local', not {method!r}",
            "drop threshold or use method='fixed'",
        )
    if method == "local" and local_block_um is None:
        raise InputError(None, "method='local' needs local_block_um", "give local_block_um (µm)")
    if polarity == "dark":
        data = -data
    if sigma_um:
        data = ndi.gaussian_filter(data, _positive("sigma_um", sigma_um) / px, mode="nearest")
    sel = mask if mask is not None else np.ones(data.shape, bool)

    if method == "local":
        block_px = _positive("local_block_um", local_block_um) / px
        local = ndi.gaussian_filter(data, max(block_px / 6.0, 0.5), mode="nearest")
        resid = data - local
        offset = 3.0 * _robust_sd(resid[sel]) if threshold is None else float(threshold)
        binary = resid > offset
    else:
        if local_block_um is not None:
            sig_bg = max(_positive("local_block_um", local_block_um) / px / 6.0, 1.0)
            fg = np.zeros(data.shape, bool)
            for _ in range(2):
                bg = _masked_background(data, ~fg, sig_bg)
                work = data - bg
                t = _threshold_value(work[sel], threshold if method == "fixed" else method)
                fg = ndi.binary_dilation(work > t, iterations=2)
                if fg.mean() > 0.8:
                    break
            data = work
        if method == "fixed":
            t = float(threshold)  # type: ignore[arg-type]
        elif np.issubdtype(raw.dtype, np.integer) and not sigma_um and local_block_um is None:
            # exact grey levels: one histogram bin per level (as ImageJ on 8-bit images)
            t = _auto_threshold(
                raw[sel] if polarity == "bright" else -raw[sel].astype(np.int64), method
            )
        else:
            t = _auto_threshold(data[sel], method)
        binary = data > t

    if fill_holes:
        binary = ndi.binary_fill_holes(binary)
    if watershed:
        labels = _split(binary, min_distance_px=None, smooth_mask=False)
    else:
        labels, _ = ndi.label(binary, structure=np.ones((3, 3), dtype=bool))
        labels = labels.astype(np.int32)
    n = int(labels.max())
    if n == 0:
        return labels.astype(np.int32)

    need_shape = circularity is not None
    if not watershed and mask is None and not exclude_border and not need_shape:
        # connected components are already numbered in raster order: size filter only
        area_um2 = np.bincount(labels.ravel(), minlength=n + 1)[1:] * px * px
        keep = np.ones(n, bool)
        if min_area_um2 is not None:
            keep &= area_um2 >= _positive("min_area_um2", min_area_um2, allow_zero=True)
        if max_area_um2 is not None:
            keep &= area_um2 <= _positive("max_area_um2", max_area_um2)
        if keep.all():
            return labels
        new = np.zeros(n + 1, dtype=np.int32)
        new[1:][keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
        return new[labels]
    tab = _measure_core(labels, None, perimeter="imagej" if need_shape else None)
    keep = np.ones(tab["label"].size, bool)
    if mask is not None:
        iy = np.clip(np.rint(tab["cy"]).astype(int), 0, data.shape[0] - 1)
        ix = np.clip(np.rint(tab["cx"]).astype(int), 0, data.shape[1] - 1)
        keep &= mask[iy, ix]
    area_um2 = tab["area_px"] * px * px
    if min_area_um2 is not None:
        keep &= area_um2 >= _positive("min_area_um2", min_area_um2, allow_zero=True)
    if max_area_um2 is not None:
        keep &= area_um2 <= _positive("max_area_um2", max_area_um2)
    if exclude_border:
        keep &= ~tab["touches_border"]
    if need_shape:
        try:
            lo, hi = (float(c) for c in circularity)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise InputError(
                None,
                f"circularity must be a (min, max) pair, got {circularity!r}",
                "e.g. (0.5, 1.0)",
            ) from None
        keep &= (tab["circularity"] >= lo) & (tab["circularity"] <= hi)
    flags = np.zeros(n + 1, bool)
    flags[tab["label"][keep]] = True
    return _relabel(labels, flags)


# ---------------------------------------------------------------------------- blobs


def _parabola_offset(m: np.ndarray, c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Vertex offset of the parabola through (−1, m), (0, c), (1, p), within ±0.5."""
    den = m - 2.0 * c + p
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(den < 0, 0.5 * (m - p) / den, 0.0)
    return np.clip(off, -0.5, 0.5)


def detect_blobs(
    image: Any,
    *,
    spacing: float | tuple[float, float],
    sigma_min_um: float,
    sigma_max_um: float,
    threshold: float,
    roi: Any = None,
    num_sigma: int = 10,
    polarity: str = "bright",
) -> pd.DataFrame:
    """Find round spots with a scale-normalised Laplacian of Gaussian (LoG).

    The response R(σ) = −σ²∇²(G_σ ∗ I) is computed at ``num_sigma`` scales between
    ``sigma_min_um`` and ``sigma_max_um``; blobs are its local maxima in (σ, y, x)
    whose amplitude reaches ``threshold``; a weaker blob whose centre lies within the
    radius of a stronger one is dropped. Positions are refined to sub-pixel by a
    parabola through the response. For a Gaussian spot of peak height A above a flat
    (or linear) background and sd s, R peaks at σ = s with value A/2, so the reported
    ``amplitude`` = 2 R is the spot's peak height in grey levels (for other shapes an
    effective height) and ``radius_um`` = √2 σ.

    Parameters
    ----------
    image : array_like or xarray.DataArray, shape (y, x)
        Grey-level image.
    spacing : float
        Pixel size, µm.
    sigma_min_um, sigma_max_um : float
        Range of spot sd, µm (for a diffraction-limited spot ≈ 0.21 λ/NA).
    threshold : float
        Smallest spot amplitude (peak height above background), grey levels.
    roi : array_like of bool, optional
        Only spots whose centre pixel lies in the ROI are returned.
    num_sigma : int
        Number of scales (log-spaced).
    polarity : {"bright", "dark"}
        Bright spots on a dark background or the reverse.

    Returns
    -------
    pandas.DataFrame
        ``y_um``, ``x_um`` (pixel centres at index × spacing), ``sigma_um``,
        ``radius_um``, ``amplitude`` (grey levels), strongest first.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:64, 0:64]
    >>> img = 10 + 50 * np.exp(-((yy - 20.3) ** 2 + (xx - 40.0) ** 2) / (2 * 2.0**2))
    >>> b = detect_blobs(img, spacing=0.1, sigma_min_um=0.1, sigma_max_um=0.4, threshold=10)
    >>> len(b), round(float(b.y_um[0]), 2), round(float(b.x_um[0]), 2)
    (1, 2.03, 4.0)
    """
    px = _spacing(spacing)
    data = _image2d(image).astype(np.float64)
    mask = _roi(roi, data.shape)
    if polarity not in ("bright", "dark"):
        raise InputError(None, f"unknown polarity {polarity!r}", "use 'bright' or 'dark'")
    if polarity == "dark":
        data = -data
    s_lo = _positive("sigma_min_um", sigma_min_um) / px
    s_hi = _positive("sigma_max_um", sigma_max_um) / px
    if s_hi < s_lo:
        raise InputError(None, "sigma_max_um is smaller than sigma_min_um", "swap them")
    thr = _positive("threshold", threshold, allow_zero=True)
    n_s = max(int(num_sigma), 1) if s_hi > s_lo else 1
    sigmas = np.geomspace(s_lo, s_hi, n_s) if n_s > 1 else np.array([s_lo])
    cube = np.stack([-(s * s) * ndi.gaussian_laplace(data, s, mode="nearest") for s in sigmas])
    cols = ["y_um", "x_um", "sigma_um", "radius_um", "amplitude"]
    peak = cube == ndi.maximum_filter(cube, size=(3, 3, 3), mode="nearest")
    peak &= cube >= 0.5 * thr
    peak &= cube > 0
    k, r, c = np.nonzero(peak)
    if mask is not None:
        ok = mask[r, c]
        k, r, c = k[ok], r[ok], c[ok]
    if k.size == 0:
        return pd.DataFrame({col: pd.Series(dtype=float) for col in cols})
    resp = cube[k, r, c]
    ny, nx = data.shape
    rm, rp = np.clip(r - 1, 0, ny - 1), np.clip(r + 1, 0, ny - 1)
    cm, cp = np.clip(c - 1, 0, nx - 1), np.clip(c + 1, 0, nx - 1)
    dy = np.where(
        (r > 0) & (r < ny - 1), _parabola_offset(cube[k, rm, c], resp, cube[k, rp, c]), 0.0
    )
    dx = np.where(
        (c > 0) & (c < nx - 1), _parabola_offset(cube[k, r, cm], resp, cube[k, r, cp]), 0.0
    )
    ls = np.log(sigmas)
    if n_s > 2:
        km, kp = np.clip(k - 1, 0, n_s - 1), np.clip(k + 1, 0, n_s - 1)
        inner = (k > 0) & (k < n_s - 1)
        dk = np.where(inner, _parabola_offset(cube[km, r, c], resp, cube[kp, r, c]), 0.0)
        step = ls[1] - ls[0]
        sig = np.exp(ls[k] + dk * step)
    else:
        sig = sigmas[k]
    order = np.argsort(-resp, kind="stable")
    yy, xx, sig, resp = (r + dy)[order], (c + dx)[order], sig[order], resp[order]
    rad = np.sqrt(2.0) * sig
    # greedy suppression, strongest first: a blob is dropped when it and a kept blob lie
    # within the larger of their two radii of each other
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([yy, xx]))
    r_max = float(rad.max())
    kept = np.zeros(yy.size, bool)
    for i in range(yy.size):
        nb = np.asarray(tree.query_ball_point([yy[i], xx[i]], r_max), dtype=int)
        nb = nb[kept[nb]]
        if nb.size and np.any(
            np.hypot(yy[nb] - yy[i], xx[nb] - xx[i]) < np.maximum(rad[nb], rad[i])
        ):
            continue
        kept[i] = True
    keep2 = np.flatnonzero(kept)
    return pd.DataFrame(
        {
            "y_um": yy[keep2] * px,
            "x_um": xx[keep2] * px,
            "sigma_um": sig[keep2] * px,
            "radius_um": rad[keep2] * px,
            "amplitude": 2.0 * resp[keep2],
        },
        columns=cols,
    ).reset_index(drop=True)
