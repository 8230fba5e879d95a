"""Counting and sizing Li nanoparticles in SEM images of an SECCM footprint.

The recipe is the one of the SECCM + IRM paper (SCIENCE.md §2): Gaussian smoothing →
global threshold → watershed split of touching particles → keep particles inside the
footprint → drop objects larger than 0.1 µm² → equivalent-circle diameters. Two
additions make it robust to the grey levels of a real SEM image: a slowly varying
background (computed separately inside and outside the footprint, ignoring the
particles) is subtracted before thresholding, and the threshold is computed from the
pixels of the region of interest only. A third splits overlapped pairs that the
watershed leaves whole: isolated elongated objects are fitted by one and by two
overlapping disks and cut when two fit much better.

The thresholds, background, watershed and measurement steps are those of the general
engine (:mod:`platescope.particles._detect`, :mod:`platescope.particles._measure`);
this module adds the SEM-specific parts: per-region background, noise floor,
half-maximum re-outlining, the two-disk pair split, the SNR test and the footprint. Its table keeps
scikit-image's perimeter convention (``perimeter_nm``; see ``_measure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage as ndi
from scipy import special
from skimage import filters, measure, segmentation

from platescope._blas import one_blas_thread
from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL, sphere_volume_to_fmol
from platescope.particles._detect import (
    _block_mean,
    _fill_small_holes,
    _masked_background,
    _split,
    _threshold_value,
)
from platescope.particles._image_checks import _positive, _source
from platescope.particles._measure import _measure_core

__all__ = ["detect_particles", "footprint_from_sem", "particle_summary"]

_TABLE_COLUMNS = [
    "label",
    "y_um",
    "x_um",
    "area_nm2",
    "diameter_nm",
    "perimeter_nm",
    "circularity",
    "mean_intensity",
]

_CM2_PER_UM2 = 1e-8
#: ``threshold="noise"``: detection level above background, in background noise sd
NOISE_THRESHOLD_SD = 4.0


# --------------------------------------------------------------------------- helpers


def _check_image(image: Any, what: str = "image") -> xr.DataArray:
    if not isinstance(image, xr.DataArray):
        raise InputError(
            None,
            f"the {what} must be an xarray.DataArray with dims ('y', 'x'), got {type(image).__name__}",
            "read SEM images with platescope.io.read_sem, or wrap the array in "
            "xarray.DataArray(arr, dims=('y', 'x'), coords=...) with coords in µm",
        )
    if image.dims != ("y", "x"):
        raise InputError(
            _source(image),
            f"the {what} has dims {image.dims}, expected ('y', 'x')",
            "select a single 2-D image (e.g. movie.isel(t=0)) or transpose it to ('y', 'x')",
        )
    if image.sizes["y"] < 8 or image.sizes["x"] < 8:
        raise InputError(
            _source(image),
            f"the {what} is only {image.sizes['y']} × {image.sizes['x']} pixels",
            "pass the full SEM image (at least 8 × 8 pixels)",
        )
    return image


def _pixel_size_nm(image: xr.DataArray) -> float:
    """Pixel size in nm from ``attrs['pixel_size_nm']`` or from the µm coordinates."""
    px = image.attrs.get("pixel_size_nm")
    if px is None:
        for dim in ("x", "y"):
            if dim in image.coords and image.sizes[dim] > 1:
                c = np.asarray(image.coords[dim].values, dtype=float)
                step = np.diff(c)
                if np.all(np.isfinite(step)) and np.all(step > 0):
                    px = float(np.median(step)) * 1000.0
                    break
    try:
        px = float(px)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        px = float("nan")
    if not np.isfinite(px) or px <= 0:
        raise InputError(
            _source(image),
            "the SEM image carries no usable pixel size (attrs['pixel_size_nm'] and µm coords missing)",
            "give pixel_size_nm in the [sem] section of the experiment file or set "
            "image.attrs['pixel_size_nm']",
        )
    return px


def _coords_um(image: xr.DataArray, px_nm: float) -> tuple[np.ndarray, np.ndarray]:
    """The y and x pixel-centre coordinates in µm (from coords, else from the pixel size)."""
    out = []
    for dim in ("y", "x"):
        if dim in image.coords:
            out.append(np.asarray(image.coords[dim].values, dtype=float))
        else:
            out.append(np.arange(image.sizes[dim]) * px_nm / 1000.0)
    return out[0], out[1]


def _as_mask(mask: Any, image: xr.DataArray) -> np.ndarray:
    if mask is None:
        return np.ones(image.shape, dtype=bool)
    arr = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask)
    if arr.shape != image.shape:
        raise InputError(
            None,
            f"the mask has shape {arr.shape} but the image has shape {image.shape}",
            "build the mask from this image (e.g. with footprint_from_sem(image))",
        )
    arr = arr.astype(bool)
    if not arr.any():
        raise InputError(
            None,
            "the mask selects no pixel",
            "check the footprint circle: it must overlap the image",
        )
    return arr


def _finite_pixels(image: xr.DataArray) -> np.ndarray:
    data = np.asarray(image.values)
    if data.dtype == bool or not np.issubdtype(data.dtype, np.number):
        raise InputError(
            _source(image),
            f"the SEM image has dtype {data.dtype}, expected integer or float grey levels",
            "pass the grey-level image as read by platescope.io.read_sem",
        )
    data = data.astype(np.float64)
    if not np.all(np.isfinite(data)):
        raise InputError(
            _source(image),
            "the SEM image contains NaN or infinite pixels",
            "crop the image to its valid area (e.g. remove the data bar) before analysis",
        )
    return data


def _level_and_noise(values: np.ndarray) -> tuple[float, float]:
    """Background level and noise sd of an image whose outliers are all bright.

    The level is the mode of the histogram; the sd is the distance from the mode down to
    the quantile that holds 15.9 % of the pixels of the background's lower half (a
    Gaussian's mode − 1 sd), which bright particles cannot bias.
    """
    v = values.ravel()
    if v.size > 400_000:
        v = v[:: v.size // 200_000]
    lo, hi = np.quantile(v, [0.001, 0.999])
    if not hi > lo:
        return float(np.median(v)), 0.0
    hist, edges = np.histogram(v, bins=512, range=(lo, hi))
    hist = ndi.gaussian_filter1d(hist.astype(float), 2.0)
    j = int(np.argmax(hist))
    mode = 0.5 * (edges[j] + edges[j + 1])
    below = float(np.mean(v <= mode))
    if below < 0.02:
        return mode, float(np.std(v))
    return mode, float(mode - np.quantile(v, below * 0.31731))


def _label_quantile(
    values: np.ndarray, labels: np.ndarray, ids: np.ndarray, q: float
) -> np.ndarray:
    """The q-quantile (nearest rank) of ``values`` within each label of ``ids``."""
    sel = labels > 0
    lab = labels[sel]
    val = values[sel]
    order = np.lexsort((val, lab))
    lab = lab[order]
    val = val[order]
    lo = np.searchsorted(lab, ids, side="left")
    hi = np.searchsorted(lab, ids, side="right")
    n = hi - lo
    out = np.full(ids.size, np.nan)
    ok = n > 0
    out[ok] = val[lo[ok] + np.floor(q * (n[ok] - 1)).astype(int)]
    return out


def _drop_weak(labels: np.ndarray, work: np.ndarray, peak_min: float) -> np.ndarray:
    """Remove labels whose maximum of ``work`` stays below ``peak_min``."""
    n = int(labels.max())
    if n == 0 or not np.isfinite(peak_min):
        return labels
    # each label's maximum in one unbuffered pass (ndi.maximum: ~20× slower, same values)
    flat = labels.ravel()
    on = flat > 0
    peaks = np.full(n + 1, -np.inf)
    np.maximum.at(peaks, flat[on], np.asarray(work, dtype=np.float64).ravel()[on])
    weak = peaks < peak_min
    weak[0] = False
    labels = labels.copy()
    labels[weak[labels]] = 0
    return labels


# two-disk split of isolated objects (``pair_split``), measured on sem-particles
# (validation/sem_particles.py, docs/particles.md): an object is cut in two when a
# union of two overlapping soft-edged disks fits its grey levels better than one disk by
# ≥ _PAIR_MIN_CHI2 noise variances and by a factor 1/_PAIR_GAIN, with both radii
# ≥ _PAIR_MIN_RADIUS_PX and centre distance within _PAIR_DISTANCE × (r1 + r2)
# (the values live in platescope.particles._pair_split, the batched implementation)


def _disk_model(yy: np.ndarray, xx: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Grey levels of ``n`` soft-edged disks of one height (their union: the maximum).

    ``q`` = (height, edge width px, offset, then cy, cx, r in px per disk).
    """
    amp, s, b0 = q[0], max(float(q[1]), 0.2), q[2]
    u = np.zeros(yy.shape)
    for i in range(n):
        cy, cx, r = q[3 + 3 * i : 6 + 3 * i]
        u = np.maximum(u, special.expit((r - np.hypot(yy - cy, xx - cx)) / s))
    return b0 + amp * u


def _disk_residual(q, yy, xx, z, n):
    return _disk_model(yy, xx, q, n) - z


def _disk_jacobian(q, yy, xx, z, n):
    """Analytic Jacobian of :func:`_disk_residual` (columns: the entries of ``q``).

    Each pixel's grey level follows the disk that is brightest there (the union is the
    maximum), so only that disk's centre and radius move it; the edge width is clamped
    at 0.2 px (no derivative below). Replaces a finite-difference Jacobian that cost
    3n + 3 extra model evaluations per iteration.
    """
    amp, s_raw = float(q[0]), float(q[1])
    s = max(s_raw, 0.2)
    g = np.empty((n, yy.size))
    d = np.empty((n, yy.size))
    for i in range(n):
        cy, cx, r = q[3 + 3 * i : 6 + 3 * i]
        d[i] = np.hypot(yy - cy, xx - cx)
        g[i] = special.expit((r - d[i]) / s)
    k = np.argmax(g, axis=0)
    cols = np.arange(yy.size)
    gk, dk = g[k, cols], d[k, cols]
    slope = amp * gk * (1.0 - gk) / s  # d(amp·σ(w))/dw / s, w = (r − d)/s
    jac = np.zeros((yy.size, 3 + 3 * n))
    jac[:, 0] = gk
    if s_raw > 0.2:
        jac[:, 1] = -slope * (q[3 + 3 * k + 2] - dk) / s
    jac[:, 2] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        uy = np.where(dk > 0, (yy - q[3 + 3 * k]) / dk, 0.0)
        ux = np.where(dk > 0, (xx - q[3 + 3 * k + 1]) / dk, 0.0)
    for i in range(n):
        mine = k == i
        jac[mine, 3 + 3 * i] = slope[mine] * uy[mine]
        jac[mine, 4 + 3 * i] = slope[mine] * ux[mine]
        jac[mine, 5 + 3 * i] = slope[mine]
    return jac


def _split_pairs(labels: np.ndarray, work: np.ndarray, noise: float) -> np.ndarray:
    """Cut isolated objects that two overlapping particles explain much better than one.

    A pair overlapping at 0.8–0.9 × the sum of its radii, especially of unequal sizes,
    leaves almost no notch in its outline, so the distance-transform watershed sees one
    object; and the particles are flat-topped (brighter rim), so the grey levels have no
    second maximum either. Instead, each elongated object that touches no other object
    is fitted (least squares on the background-subtracted smoothed grey levels of its
    pixels and a ``_PAIR_PAD_PX`` margin) by one and by two soft-edged disks; it is cut
    when the two-disk fit is better by the rules above. The two particles are then the
    half-maximum outline of the fit, each pixel going to the disk it lies deeper in.

    All candidate objects are fitted together in one batched Levenberg–Marquardt solve
    (:func:`platescope.particles._pair_split.split_pairs`), not one fit per object.
    """
    from platescope.particles._pair_split import split_pairs

    return split_pairs(labels, work, noise)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "label" else "float64") for c in _TABLE_COLUMNS}
    )


# ----------------------------------------------------------------------- detection


def detect_particles(
    image: xr.DataArray,
    *,
    mask: xr.DataArray | np.ndarray | None = None,
    sigma_nm: float = 8.0,
    threshold: str | float = "otsu",
    background_sigma_um: float | None = 0.3,
    min_area_nm2: float = 300.0,
    max_area_um2: float = 0.1,
    min_distance_nm: float = 20.0,
    exclude_border: bool = True,
    size_by: str = "half_max",
    min_snr: float | None = 5.0,
    ridge_min_nm: float = 0.0,
    pair_split: bool = True,
) -> tuple[xr.DataArray, pd.DataFrame]:
    """Detect, split and measure bright nanoparticles in an SEM image.

    The paper's recipe with measured choices (SCIENCE.md §2):

    1. Gaussian smoothing (``sigma_nm``).
    2. Background subtraction: a Gaussian average (``background_sigma_um``) of the
       non-particle pixels, taken separately inside and outside ``mask`` so that the
       footprint's own grey does not leak across its edge.
    3. Global threshold computed from the pixels inside ``mask`` only, never lower than
       3 × the background noise (mode and lower half-width of the histogram).
    4. Watershed split of touching particles on the distance transform; markers are
       the distance maxima, an elongated ridge (two blurred, overlapping particles) is
       cut according to its length, and markers closer than 0.6 × the sum of their
       heights are merged.
    5. ``size_by="half_max"``: each object is re-outlined at half its own peak above
       background and split again, so that sizes do not depend on the global threshold
       (which moves with particle coverage and noise). ``"threshold"`` keeps the
       thresholded outlines (the paper's ImageJ sizing).
    5b. ``pair_split``: an elongated object that touches no other object is fitted by
       one and by two overlapping soft-edged disks (least squares on its grey levels)
       and cut in two when two disks fit much better (by ≥ 100 noise variances and
       30 %, plausible radii and centre distance). This splits overlapped pairs whose
       outline has no notch (typically a small particle on a large one), which the
       distance transform cannot.
    6. Objects peaking less than ``min_snr`` × noise above background, touching the
       image edge, with centroid outside ``mask``, smaller than ``min_area_nm2`` or
       larger than ``max_area_um2`` are dropped.

    The image is loaded into memory (``.values``). A 1536 × 1024 image with ~2500
    particles takes about 4–5 s (half of it in step 5b). For very noisy images
    (per-pixel SNR of the particles below ~2) raise ``sigma_nm`` to ~1.5 pixels.

    Parameters
    ----------
    image : xarray.DataArray
        SEM image, dims ``("y", "x")``, coords in µm, ``attrs["pixel_size_nm"]`` (else the
        pixel size is taken from the coords), cropped of its data bar; uint8/uint16 or
        float grey levels, particles brighter than the substrate.
    mask : xarray.DataArray or ndarray of bool, optional
        Region of interest (the SECCM footprint), same shape as ``image``. The threshold
        is computed from these pixels only and only objects whose centroid lies inside are
        kept. ``None`` analyses the whole image.
    sigma_nm : float
        Standard deviation of the Gaussian smoothing, nm (default 8 nm ≈ 1 pixel at
        8 nm px⁻¹; keep it well below the smallest particle radius).
    threshold : {"otsu", "triangle", "li", "yen", "isodata", "mean", "noise"} or float
        Global threshold method applied to the smoothed, background-subtracted ROI
        pixels (never below 3 noise sd), ``"noise"`` for a detection level of
        ``NOISE_THRESHOLD_SD`` (4) background noise sd — it finds small, faint
        particles an Otsu level misses (sizes are set by the half-maximum outline, not
        by this level) — or a fixed grey level above the background (above zero when
        ``background_sigma_um`` is None).
    background_sigma_um : float or None
        Scale, µm, of the slowly varying background removed before thresholding; much
        larger than the particles. ``None`` disables the subtraction.
    min_area_nm2 : float
        Objects smaller than this, nm², are discarded as noise specks (default 300 nm²,
        a ~20 nm circle).
    max_area_um2 : float
        Objects larger than this, µm², are discarded (default 0.1 µm², as in the paper).
    min_distance_nm : float
        Neighbourhood, nm, in which a distance-transform maximum must be the highest to
        become a watershed marker; about the radius of the smallest expected particle.
    exclude_border : bool
        Drop objects that touch the image edge (they cannot be sized).
    size_by : {"half_max", "threshold"}
        Outline of each particle: at half its own peak (default) or at the global
        threshold.
    min_snr : float or None
        Smallest peak height of a particle above background, in units of the noise sd
        of the smoothed background (default 5: noise alone essentially never reaches it
        in a 10⁶-pixel image). ``None`` disables the test.
    ridge_min_nm : float
        Objects whose distance-transform height is below this, nm, are never cut by the
        ridge-length rule of step 4 (in a particle ~2 pixels in radius every pixel is
        "on the ridge", so the rule halves it). 0 (default, the recipe as validated in
        irm-galvanostatic) cuts them; the ``sem-particles`` scenario uses 2.5 pixels.
    pair_split : bool
        Split isolated objects that two overlapping disks explain much better than one
        (step 5b; default True). On simulated ``sem-particles`` images it raises the
        recall of particles planted in overlapping pairs from 0.76–0.87 to 0.95–0.99
        (docs/particles.md); it about doubles the run time.

    Returns
    -------
    labels : xarray.DataArray
        int32 label image (0 = background) with the image's coords; ``attrs`` record the
        parameters, the threshold and the pixel size.
    table : pandas.DataFrame
        One row per kept particle: ``label``, ``y_um``, ``x_um`` (centroid), ``area_nm2``,
        ``diameter_nm`` (equivalent circle), ``perimeter_nm``, ``circularity``
        (4πA/P², clipped to 1) and ``mean_intensity`` (raw grey level). ``attrs`` hold
        the pixel size, the threshold (grey levels above background), the background
        ``noise`` and how many objects each filter removed.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from skimage.draw import disk
    >>> a = np.full((96, 96), 60.0)
    >>> for c in [(30, 30), (60, 64)]:
    ...     a[disk(c, 5)] = 160.0
    >>> img = xr.DataArray(a, dims=("y", "x"), coords={"y": np.arange(96) * 0.008,
    ...                    "x": np.arange(96) * 0.008}, attrs={"pixel_size_nm": 8.0})
    >>> labels, table = detect_particles(img)
    >>> len(table)
    2
    """
    image = _check_image(image)
    px_nm = _pixel_size_nm(image)
    roi = _as_mask(mask, image)
    data = _finite_pixels(image)
    sigma_nm = _positive("sigma_nm", sigma_nm, allow_zero=True)
    min_area_nm2 = _positive("min_area_nm2", min_area_nm2, allow_zero=True)
    max_area_um2 = _positive("max_area_um2", max_area_um2)
    min_distance_nm = _positive("min_distance_nm", min_distance_nm, allow_zero=True)
    if size_by not in ("half_max", "threshold"):
        raise InputError(None, f"unknown size_by {size_by!r}", "use 'half_max' or 'threshold'")
    if min_snr is not None:
        min_snr = _positive("min_snr", min_snr, allow_zero=True)

    smooth = ndi.gaussian_filter(data, sigma_nm / px_nm) if sigma_nm > 0 else data

    # background subtraction, iterated once with the particles left out of the average
    regions = [roi, ~roi] if mask is not None else [roi]
    fg = np.zeros(data.shape, dtype=bool)
    work = smooth
    n_iter = 2 if background_sigma_um is not None else 1
    bg_sigma_px = (
        _positive("background_sigma_um", background_sigma_um) * 1000.0 / px_nm
        if background_sigma_um is not None
        else None
    )
    for _ in range(n_iter):
        if bg_sigma_px is not None:
            bg = np.zeros_like(smooth)
            for reg in regions:
                if reg.any():
                    bg[reg] = _masked_background(smooth, reg & ~fg, bg_sigma_px, at=reg)
            work = smooth - bg
        t_method = _threshold_value(work[roi], "otsu" if threshold == "noise" else threshold)
        fg = ndi.binary_dilation(work > t_method, iterations=2)
        if fg[roi].mean() > 0.8:  # nearly everything bright: keep this estimate
            break
    base, noise = _level_and_noise(work[roi])
    t = t_method
    if threshold == "noise":
        t = base + NOISE_THRESHOLD_SD * noise
    elif isinstance(threshold, str):
        t = max(t, base + 3.0 * noise)
    peak_min = base + (float(min_snr) * noise if min_snr is not None else -np.inf)
    md_px = max(1, int(round(min_distance_nm / px_nm)))
    ridge_px = _positive("ridge_min_nm", ridge_min_nm, allow_zero=True) / px_nm

    # fill holes inside particles (a dim centre), but not a whole dark footprint
    hole_px = max_area_um2 * 1e6 / px_nm**2
    binary = _fill_small_holes(work > t, hole_px)
    labels = _drop_weak(
        _split(binary, min_distance_px=md_px, ridge_min_px=ridge_px), work, peak_min
    )
    if size_by == "half_max":
        if labels.any():
            # resize each object to the contour at half its own peak above background
            ids = np.arange(1, int(labels.max()) + 1)
            level = np.zeros(ids.size + 1)
            peak = _label_quantile(work, labels, ids, 0.9)
            level[1:] = np.maximum(base + 0.5 * (peak - base), base + 2.0 * noise)
            grown = segmentation.expand_labels(labels, distance=2)
            binary = _fill_small_holes((grown > 0) & (work > level[grown]), hole_px)
            labels = _drop_weak(
                _split(binary, min_distance_px=md_px, ridge_min_px=ridge_px), work, peak_min
            )

    if pair_split and labels.any():
        labels = _split_pairs(labels, work - base, noise)

    n_raw = int(labels.max())
    n_border = 0
    border_px = 0
    if exclude_border and n_raw:
        edge_ids = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        edge_ids = edge_ids[edge_ids > 0]
        on_edge = np.isin(labels, edge_ids)
        n_border, border_px = int(edge_ids.size), int(on_edge.sum())
        if mask is not None and edge_ids.size:  # count those whose centroid is in the ROI
            cm = np.asarray(ndi.center_of_mass(on_edge, labels, edge_ids)).reshape(-1, 2)
            iy_e = np.clip(np.rint(cm[:, 0]).astype(int), 0, labels.shape[0] - 1)
            ix_e = np.clip(np.rint(cm[:, 1]).astype(int), 0, labels.shape[1] - 1)
            in_roi = roi[iy_e, ix_e]
            n_border = int(in_roi.sum())
            border_px = int(np.isin(labels, edge_ids[in_roi]).sum())
        labels[on_edge] = 0

    y_um, x_um = _coords_um(image, px_nm)
    px_area_nm2 = px_nm**2
    core = _measure_core(labels, data, perimeter="skimage")
    tab = pd.DataFrame(
        {
            "label": core["label"],
            "centroid-0": core["cy"],
            "centroid-1": core["cx"],
            "area": core["area_px"],
            "perimeter": core["perimeter_px"],
            "intensity_mean": core["mean"],
        }
    )

    # centroid inside the ROI (nearest pixel)
    cy = np.clip(np.rint(tab["centroid-0"].to_numpy(float)).astype(int), 0, data.shape[0] - 1)
    cx = np.clip(np.rint(tab["centroid-1"].to_numpy(float)).astype(int), 0, data.shape[1] - 1)
    inside = roi[cy, cx] if len(tab) else np.zeros(0, dtype=bool)
    area_nm2 = tab["area"].to_numpy(float) * px_area_nm2
    small = area_nm2 < min_area_nm2
    large = area_nm2 > max_area_um2 * 1e6
    keep = inside & ~small & ~large

    # centroid coordinates in µm by interpolation of the pixel-centre coordinates
    iy = np.arange(len(y_um))
    ix = np.arange(len(x_um))
    table = pd.DataFrame(
        {
            "label": tab["label"].to_numpy().astype(np.int64),
            "y_um": np.interp(tab["centroid-0"].to_numpy(float), iy, y_um),
            "x_um": np.interp(tab["centroid-1"].to_numpy(float), ix, x_um),
            "area_nm2": area_nm2,
            "diameter_nm": np.sqrt(4.0 * area_nm2 / np.pi),
            "perimeter_nm": tab["perimeter"].to_numpy(float) * px_nm,
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        circ = 4.0 * np.pi * table["area_nm2"] / table["perimeter_nm"] ** 2
    table["circularity"] = np.clip(circ.fillna(1.0).replace(np.inf, 1.0), 0.0, 1.0)
    table["mean_intensity"] = tab["intensity_mean"].to_numpy(float)
    dropped = table.loc[~keep, "label"].to_numpy()
    if dropped.size:
        labels[np.isin(labels, dropped)] = 0
    table = table.loc[keep].reset_index(drop=True) if len(table) else _empty_table()

    px_um2 = px_area_nm2 * 1e-6
    excluded = [
        {
            "reason": f"smaller than min_area_nm2 = {min_area_nm2:g} nm²",
            "filter": "min_area_nm2",
            "count": int(np.sum(inside & small)),
            "area_um2": float(area_nm2[inside & small].sum() * 1e-6),
        },
        {
            "reason": f"larger than max_area_um2 = {max_area_um2:g} µm²",
            "filter": "max_area_um2",
            "count": int(np.sum(inside & large)),
            "area_um2": float(area_nm2[inside & large].sum() * 1e-6),
        },
        {
            "reason": "touches the image edge (cannot be sized)",
            "filter": "exclude_border",
            "count": n_border,
            "area_um2": float(border_px * px_um2),
        },
    ]
    table.attrs.update(
        {
            "pixel_size_nm": px_nm,
            "excluded": excluded,
            "kept_area_um2": float(table["area_nm2"].sum() * 1e-6) if len(table) else 0.0,
            "threshold": float(t),
            "threshold_method": threshold if isinstance(threshold, str) else "fixed",
            "noise": float(noise),
            "n_objects": n_raw,
            "n_dropped_border": n_border,
            "n_dropped_outside_mask": int(np.sum(~inside)),
            "n_dropped_small": int(np.sum(inside & small)),
            "n_dropped_large": int(np.sum(inside & large)),
            "source": _source(image),
        }
    )
    labels_da = xr.DataArray(
        labels,
        dims=("y", "x"),
        coords={k: image.coords[k] for k in ("y", "x") if k in image.coords},
        attrs={
            "pixel_size_nm": px_nm,
            "threshold": float(t),
            "sigma_nm": sigma_nm,
            "background_sigma_um": background_sigma_um,
            "min_area_nm2": min_area_nm2,
            "max_area_um2": max_area_um2,
            "min_distance_nm": min_distance_nm,
            "exclude_border": bool(exclude_border),
            "source": _source(image),
        },
        name="labels",
    )
    return labels_da, table


# ----------------------------------------------------------------------- footprint


def _circle_mask(shape, y_um, x_um, cy, cx, r) -> np.ndarray:
    return (y_um[:, None] - cy) ** 2 + (x_um[None, :] - cx) ** 2 <= r**2


def _fit_circle(
    py: np.ndarray, px: np.ndarray, *, jackknife: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Geometric least-squares circle through edge points (robust loss).

    Returns the parameters (cy, cx, r) and their standard errors from a jackknife over
    12 angular sectors of the edge (neighbouring edge points are strongly correlated by
    the blur, so the least-squares covariance would be far too optimistic).
    ``jackknife=False`` skips those 12 extra fits (errors NaN) for a caller that uses
    only the circle.
    """

    from scipy import optimize  # ≈ 0.25 s CPU to import: only on images with an edge

    def fit(yv, xv):
        a = np.column_stack([xv, yv, np.ones_like(xv)])
        sol, *_ = np.linalg.lstsq(a, xv**2 + yv**2, rcond=None)  # algebraic (Kåsa) start
        cx0, cy0 = sol[0] / 2, sol[1] / 2
        r0 = np.sqrt(max(sol[2] + cx0**2 + cy0**2, 1e-12))
        with one_blas_thread():  # products of n × 3 Jacobians: see platescope._blas
            res = optimize.least_squares(
                lambda p: np.hypot(yv - p[0], xv - p[1]) - p[2],
                [cy0, cx0, r0],
                loss="soft_l1",
                f_scale=0.05 * r0,
            )
        return res.x

    p = fit(py, px)
    if not jackknife:
        return p, np.full(3, np.nan)
    sector = np.floor((np.arctan2(py - p[0], px - p[1]) + np.pi) / (2 * np.pi) * 12).astype(int)
    reps = [fit(py[sector != k], px[sector != k]) for k in np.unique(sector)]
    if len(reps) >= 4 and all(np.sum(sector != k) >= 10 for k in np.unique(sector)):
        reps = np.asarray(reps)
        m = len(reps)
        err = np.sqrt((m - 1) / m * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))
    else:
        err = np.full(3, np.nan)
    return p, err


def footprint_from_sem(
    image: xr.DataArray,
    *,
    method: str = "grey",
    circle_um: Sequence[float] | None = None,
    sigma_um: float = 0.3,
    table: pd.DataFrame | None = None,
) -> tuple[xr.DataArray, dict[str, Any]]:
    """Find the circular SECCM footprint in an SEM image and return it as a mask.

    ``"grey"`` (the footprint's substrate grey differs from the outside, either way):
    particles and their halo are found with a white top-hat and replaced by the grey of
    the nearest bare substrate; the result is averaged in blocks and blurred by
    ``sigma_um``; Otsu's threshold splits it and the region touching the image edge
    least is the footprint. Its edge is traced at the grey half-way between the inside
    and outside plateaus and a circle is fitted (robust geometric least squares, radius
    corrected for the blur, σ²/2R). A second pass repeats this with particles filled
    from their own side of the first edge. ``"density"`` (same grey inside and out):
    a map of particle density gives a first circle, refined by maximum likelihood for a
    Poisson process of one density inside and another outside; the particles come from
    ``table`` or from :func:`detect_particles` on the whole image.

    Finally (``"grey"``) the circle is refined by a least-squares fit of a sharp
    circular grey step to the bare-substrate pixels near the edge, which a slowly
    varying substrate texture barely moves (on simulated ``sem-particles`` images the
    centre error falls from up to 0.16 µm to a few nm).

    The ``*_err`` of the grey method are a jackknife over 12 sectors of the traced
    edge (before the step fit, so an upper bound): statistical only.

    Parameters
    ----------
    image : xarray.DataArray
        SEM image, dims ``("y", "x")``, coords in µm (see :func:`detect_particles`).
    method : {"grey", "density"}
        How to find the footprint edge (ignored when ``circle_um`` is given).
    circle_um : (center_y_um, center_x_um, radius_um), optional
        A footprint circle given by the user, µm in the image coords; skips detection.
    sigma_um : float
        Blur, µm, of the substrate (or density) map (default 0.3 µm); much larger than
        the particles, smaller than the footprint radius.
    table : pandas.DataFrame, optional
        Particles detected on the whole image (``y_um``, ``x_um``), for ``"density"``.

    Returns
    -------
    mask : xarray.DataArray of bool
        The footprint disk, with the image's coords and ``attrs["pixel_size_nm"]``.
    circle : dict
        ``center_y_um``, ``center_x_um``, ``radius_um`` (+ ``*_err`` standard errors),
        ``area_um2`` (of the disk inside the image) and ``method`` (``"grey"``,
        ``"density"`` or ``"given"``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = np.arange(200) * 0.05
    >>> yy, xx = np.meshgrid(c, c, indexing="ij")
    >>> a = np.where((yy - 5) ** 2 + (xx - 4.5) ** 2 < 3.0**2, 120.0, 100.0)
    >>> img = xr.DataArray(a, dims=("y", "x"), coords={"y": c, "x": c},
    ...                    attrs={"pixel_size_nm": 50.0})
    >>> mask, circle = footprint_from_sem(img)
    >>> round(circle["radius_um"], 1)
    3.0
    """
    mask, circle, _ = _footprint_and_map(
        image, method=method, circle_um=circle_um, sigma_um=sigma_um, table=table
    )
    return mask, circle


def _footprint_and_map(image, *, method, circle_um, sigma_um, table):
    """:func:`footprint_from_sem` and its first-pass substrate map (``"grey"``; else None).

    The map (particles filled from the nearest bare substrate, block means) is what
    :func:`platescope.particles._footprint.find_footprint` tests the circle against: it
    is returned so that the test does not compute it a second time.
    """
    image = _check_image(image)
    px_nm = _pixel_size_nm(image)
    y_um, x_um = _coords_um(image, px_nm)
    px_um = px_nm / 1000.0

    def _result(cy, cx, r, err, how):
        m = _circle_mask(image.shape, y_um, x_um, cy, cx, r)
        circle = {
            "center_y_um": float(cy),
            "center_x_um": float(cx),
            "radius_um": float(r),
            "center_y_um_err": float(err[0]),
            "center_x_um_err": float(err[1]),
            "radius_um_err": float(err[2]),
            "area_um2": float(m.sum() * px_um**2),
            "method": how,
        }
        da = xr.DataArray(
            m,
            dims=("y", "x"),
            coords={k: image.coords[k] for k in ("y", "x") if k in image.coords},
            attrs={"pixel_size_nm": px_nm, "source": _source(image), **circle},
            name="footprint",
        )
        return da, circle

    if circle_um is not None:
        try:
            cy, cx, r = (float(v) for v in circle_um)
        except (TypeError, ValueError):
            raise InputError(
                None,
                f"circle_um must be (center_y_um, center_x_um, radius_um), got {circle_um!r}",
                "give three numbers in µm",
            ) from None
        if not (np.isfinite([cy, cx, r]).all() and r > 0):
            raise InputError(None, f"bad footprint circle {circle_um!r}", "give a radius > 0 µm")
        da, circle = _result(cy, cx, r, (0.0, 0.0, 0.0), "given")
        if not da.values.any():
            raise InputError(
                None,
                f"the footprint circle {tuple(circle_um)} does not overlap the image",
                "give the circle centre in the image's µm coordinates",
            )
        return da, circle, None

    sigma_um = _positive("sigma_um", sigma_um)
    f = max(1, int(sigma_um / px_um / 3))  # ~3 reduced pixels per sigma
    s_red = sigma_um / (px_um * f)
    if method == "grey":
        data = _finite_pixels(image)
        valid, first_map = _substrate_map(data, px_um, f)
        # pass 1: particles filled in from the nearest substrate pixel; pass 2: from the
        # nearest substrate pixel on the same side of the pass-1 edge (a particle on the
        # edge would otherwise borrow the grey of the other side)
        p, _ = _edge_circle(first_map, s_red, f, y_um, x_um, px_um, _source(image), jackknife=False)
        inside = _circle_mask(image.shape, y_um, x_um, *p)
        filled = np.where(
            inside, _fill_from(data, valid & inside), _fill_from(data, valid & ~inside)
        )
        red = _block_mean(filled, f) / _block_mean(np.ones_like(data), f)
    elif method == "density":
        if table is None:
            _, table = detect_particles(image, exclude_border=False)
        if not {"y_um", "x_um"} <= set(table.columns) or len(table) < 10:
            raise InputError(
                None,
                "too few particles to map their density (need at least 10)",
                "use method='grey' or give the footprint circle with circle_um",
            )
        iy = np.interp(table["y_um"].to_numpy(float), y_um, np.arange(len(y_um)))
        ix = np.interp(table["x_um"].to_numpy(float), x_um, np.arange(len(x_um)))
        shape_red = (-(-image.shape[0] // f), -(-image.shape[1] // f))
        red = np.zeros(shape_red)
        np.add.at(red, (np.rint(iy).astype(int) // f, np.rint(ix).astype(int) // f), 1.0)
    else:
        raise InputError(
            None, f"unknown footprint method {method!r}", "use 'grey', 'density' or circle_um"
        )
    p, err = _edge_circle(
        red,
        s_red,
        f,
        y_um,
        x_um,
        px_um,
        _source(image),
        level_stat=np.median if method == "grey" else np.mean,  # counts: mean density
    )
    if method == "density":
        first_map = None
        p, err = _density_circle(table, p, y_um, x_um, f)
    else:
        w_prev = np.inf
        for _ in range(3):  # re-centre the fitted band on the refined circle
            q, w = _step_circle(data, valid, y_um, x_um, p, px_um)
            if w > 1.5 * w_prev + px_um:  # a blurrier edge: the band caught something else
                break
            moved = float(np.hypot(q[0] - p[0], q[1] - p[1]) + abs(q[2] - p[2]))
            p, w_prev = q, w
            if moved < 2.0 * px_um:
                break
    return (*_result(p[0], p[1], p[2], err, method), first_map)


def _robust_lm(resid, jac, q0, *, f_scale: float, max_iter: int = 60):
    """Levenberg–Marquardt with the soft-L1 loss by iteratively reweighted normal equations.

    ρ(r) = 2(√(1 + (r/f)²) − 1), IRLS weights 1/√(1 + (r/f)²). Works on JᵀWJ (p × p),
    so each step costs two passes over the residuals (scipy's ``least_squares`` takes an
    SVD of the full Jacobian per step, ~100× slower here). Returns (converged, q).
    """
    q = np.asarray(q0, float).copy()
    r = resid(q)

    def cost(res):
        return float(np.sum(2.0 * (np.sqrt(1.0 + (res / f_scale) ** 2) - 1.0)))

    c = cost(r)
    lam = 1e-3
    for _ in range(max_iter):
        jm = jac(q)
        w = 1.0 / np.sqrt(1.0 + (r / f_scale) ** 2)
        jw = jm * w[:, None]
        a = jm.T @ jw
        g = jw.T @ r
        d = np.diag(a).copy()
        d[d <= 0] = 1.0
        while True:
            try:
                step = np.linalg.solve(a + lam * np.diag(d), -g)
            except np.linalg.LinAlgError:
                return False, q
            r_new = resid(q + step)
            c_new = cost(r_new)
            if np.isfinite(c_new) and c_new <= c:
                break
            lam *= 4.0
            if lam > 1e10:
                return True, q  # no downhill step left: at the minimum
        q = q + step
        r, c_old, c = r_new, c, c_new
        lam = max(lam / 3.0, 1e-12)
        if c_old - c <= 1e-10 * max(c, 1.0):
            return True, q
    return False, q


def _step_circle(data, valid, y_um, x_um, p0, px_um):
    """Refine a footprint circle by fitting a sharp circular grey step to the substrate.

    Model, on the bare-substrate pixels within ±max(0.25 µm, 15 px, 0.3 R) of the first
    circle: ``lo + (hi − lo)·expit((R − r)/w)`` with free centre, radius, levels and
    edge width (robust soft-L1 loss). Unlike the half-level contour of the blurred map
    (which a slowly varying substrate texture shifts by up to ~0.1 µm), the sharp edge
    pins the circle to within a few nm on simulated images. Falls back to ``p0`` when
    the fit does not converge to a nearby circle (the caller re-centres the band on the
    result and repeats, up to three times, while the circle still moves and the fitted
    edge stays as sharp). Returns the circle and the fitted edge width w, µm.
    """
    cy0, cx0, r0 = (float(v) for v in p0)
    band = max(0.25, 15 * px_um, 0.3 * r0)
    yy = y_um[:, None]
    xx = x_um[None, :]
    rr = np.hypot(yy - cy0, xx - cx0)
    sel = valid & (np.abs(rr - r0) < band)
    iy, ix = np.nonzero(sel)
    if iy.size < 200:
        return np.asarray(p0, float), np.inf
    step = max(1, iy.size // 10_000)
    iy, ix = iy[::step], ix[::step]
    yv, xv, zv = y_um[iy], x_um[ix], data[iy, ix]
    r_pts = rr[iy, ix]
    lo0 = float(np.median(zv[r_pts > r0])) if np.any(r_pts > r0) else float(zv.min())
    hi0 = float(np.median(zv[r_pts <= r0])) if np.any(r_pts <= r0) else float(zv.max())
    if lo0 == hi0:
        return np.asarray(p0, float), np.inf
    spread = float(np.median(np.abs(zv - np.median(zv)))) * 1.4826 or 1.0

    # parameters: cy, cx, r (µm), lo, hi (grey), ln(w / px)
    def resid(q):
        cy, cx, r, lo, hi, lw = q
        s = special.expit(
            (r - np.hypot(yv - cy, xv - cx)) / (px_um * np.exp(np.clip(lw, -8.0, 8.0)))
        )
        return lo + (hi - lo) * s - zv

    def jac(q):
        cy, cx, r, lo, hi, lw = q
        w = px_um * np.exp(np.clip(lw, -8.0, 8.0))
        dist = np.maximum(np.hypot(yv - cy, xv - cx), 1e-12)
        u = (r - dist) / w
        s = special.expit(u)
        g = (hi - lo) * s * (1.0 - s)  # d model / d u
        return np.column_stack(
            [g * (yv - cy) / dist / w, g * (xv - cx) / dist / w, g / w, 1.0 - s, s, -g * u]
        )

    q0 = np.array([cy0, cx0, r0, lo0, hi0, np.log(2.0)])
    ok, q = _robust_lm(resid, jac, q0, f_scale=spread)
    cy, cx, r, lo, hi, lw = q
    w = px_um * np.exp(np.clip(lw, -8.0, 8.0))
    moved = np.hypot(cy - cy0, cx - cx0) + abs(r - r0)
    if not (ok and np.all(np.isfinite(q)) and r > 0 and 0 < w < band and moved < band):
        return np.asarray(p0, float), np.inf
    if np.sign(hi - lo) != np.sign(hi0 - lo0):
        return np.asarray(p0, float), np.inf
    return np.array([cy, cx, r]), float(w)


def _density_circle(table, p0, y_um, x_um, f):
    """Maximum-likelihood footprint circle from particle centres.

    Model: a Poisson process of density λ_in inside the circle and λ_out outside, the
    step smoothed over a quarter of the inside spacing so that the likelihood is
    differentiable. Errors of (cy, cx, r) come from its numerical Hessian.
    """
    py = table["y_um"].to_numpy(float)
    px = table["x_um"].to_numpy(float)
    gy, gx = np.meshgrid(y_um[f // 2 :: f], x_um[f // 2 :: f], indexing="ij")
    cell = (f * (x_um[1] - x_um[0])) ** 2
    area = gy.size * cell
    r0 = float(p0[2])
    n_in = max(int(np.sum(np.hypot(py - p0[0], px - p0[1]) <= r0)), 1)
    n_out = max(len(py) - n_in, 1)
    width = 0.25 / np.sqrt(n_in / (np.pi * r0**2))

    def nll(q):
        cy, cx, r, log_in, log_out = q
        s_pts = special.expit((r - np.hypot(py - cy, px - cx)) / width)
        s_grid = special.expit((r - np.hypot(gy - cy, gx - cx)) / width)
        lam_in, lam_out = np.exp(log_in), np.exp(log_out)
        lam = lam_out + (lam_in - lam_out) * s_pts
        return -(np.sum(np.log(lam)) - lam_out * area - (lam_in - lam_out) * s_grid.sum() * cell)

    a_in = np.pi * r0**2
    q0 = np.array([p0[0], p0[1], r0, np.log(n_in / a_in), np.log(n_out / max(area - a_in, cell))])
    from scipy import optimize

    q = optimize.minimize(
        nll, q0, method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 4000}
    ).x
    h = np.empty((3, 3))
    step = 1e-3 * r0
    for i in range(3):
        for j in range(3):
            ei = np.zeros(5)
            ej = np.zeros(5)
            ei[i] = step
            ej[j] = step
            h[i, j] = (
                nll(q + ei + ej) - nll(q + ei - ej) - nll(q - ei + ej) + nll(q - ei - ej)
            ) / (4 * step * step)
    try:
        err = np.sqrt(np.clip(np.diag(np.linalg.inv(h)), 0, None))
    except np.linalg.LinAlgError:
        err = np.full(3, np.nan)
    return q[:3], err


def _substrate_pixels(data: np.ndarray, px_um: float) -> np.ndarray:
    """Pixels of bare substrate: not on a particle nor its blurred halo.

    A white top-hat (the smoothed image minus its grey opening by a square larger than
    any particle; the opening keeps steps such as the footprint edge) finds the bright
    particles, which are then dilated by 3 pixels.
    """
    smooth = ndi.gaussian_filter(data, 1.0)
    k = max(5, int(round(0.2 / px_um)) | 1)
    tophat = smooth - ndi.grey_opening(smooth, size=(k, k))
    med = float(np.median(tophat))
    spread = float(med - np.quantile(tophat, 0.15866))
    t_p = filters.threshold_otsu(tophat) if np.ptp(tophat) > 0 else np.inf
    valid = ~ndi.binary_dilation(tophat > max(t_p, med + 3.0 * spread), iterations=3)
    if valid.mean() < 0.2:  # implausibly many "particles": use every pixel
        valid[:] = True
    return valid


def _substrate_map(data: np.ndarray, px_um: float, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Bare-substrate pixels and the image with the rest filled from them, in f × f means."""
    valid = _substrate_pixels(data, px_um)
    red = _block_mean(_fill_from(data, valid), f) / _block_mean(np.ones_like(data), f)
    return valid, red


def _fill_from(data: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``data`` with invalid pixels replaced by the nearest valid pixel."""
    if valid.all() or not valid.any():
        return data
    idx = ndi.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return data[tuple(idx)]


def _edge_circle(red, s_red, f, y_um, x_um, px_um, source, *, level_stat=np.median, jackknife=True):
    """Blur a reduced map, trace the footprint edge and fit a circle (µm).

    ``jackknife=False``: the circle only (its errors NaN), see :func:`_fit_circle`.
    """
    blur = ndi.gaussian_filter(red, s_red, mode="nearest")
    if np.ptp(blur) == 0:
        raise InputError(
            source,
            "the image has no grey-level (or particle-density) contrast to find a footprint",
            "give the footprint circle with circle_um",
        )
    t = filters.threshold_otsu(blur)
    best = None
    for bright in (True, False):
        sel = blur > t if bright else blur <= t
        lab, n = ndi.label(sel)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())[1:]
        comp = ndi.binary_fill_holes(lab == (np.argmax(sizes) + 1))
        # the footprint is the region that touches the image edge least
        border = np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]]).mean()
        score = (border, -comp.sum())
        if best is None or score < best[0]:
            best = (score, comp)
    assert best is not None
    comp = best[1]
    # plateau levels from the unblurred map (the blurred one is biased towards the
    # other side wherever a region is narrower than a few sigma, e.g. at image edges)
    inside_level = level_stat(red[comp])
    outside_level = level_stat(red[~comp]) if (~comp).any() else t
    contours = measure.find_contours(blur, 0.5 * (inside_level + outside_level))
    # keep contour points that bound the chosen component and are off the image edge
    pts = np.concatenate(contours) if contours else np.empty((0, 2))
    if len(pts):
        band = ndi.binary_dilation(comp, iterations=2) & ~ndi.binary_erosion(comp, iterations=2)
        ri = np.clip(np.rint(pts[:, 0]).astype(int), 0, comp.shape[0] - 1)
        ci = np.clip(np.rint(pts[:, 1]).astype(int), 0, comp.shape[1] - 1)
        ok = band[ri, ci]
        ok &= (pts[:, 0] > 0.5) & (pts[:, 0] < comp.shape[0] - 1.5)
        ok &= (pts[:, 1] > 0.5) & (pts[:, 1] < comp.shape[1] - 1.5)
        pts = pts[ok]
    if len(pts) < 10:
        raise InputError(
            source,
            "could not trace the footprint edge in the SEM image",
            "give the footprint circle with circle_um",
        )
    # reduced-pixel index → full-resolution pixel index → µm (linear beyond the ends)
    fy = (pts[:, 0] + 0.5) * f - 0.5
    fx = (pts[:, 1] + 0.5) * f - 0.5
    py = y_um[0] + fy * px_um if len(y_um) < 2 else np.interp(fy, np.arange(len(y_um)), y_um)
    pxx = x_um[0] + fx * px_um if len(x_um) < 2 else np.interp(fx, np.arange(len(x_um)), x_um)
    p, err = _fit_circle(py, pxx, jackknife=jackknife)
    if not (np.all(np.isfinite(p)) and p[2] > 0):
        raise InputError(
            source,
            "the footprint edge found in the SEM image is not circular",
            "give the footprint circle with circle_um",
        )
    # the half-level contour of a blurred disk lies σ²/(2R) inside its edge; the blocks
    # add a box blur of variance (f·px)²/12
    s2 = (s_red * f * px_um) ** 2 + (f * px_um) ** 2 / 12.0
    p[2] = p[2] + s2 / (2.0 * p[2])
    return p, err


# ------------------------------------------------------------------------- summary


def _footprint_params(footprint: Any) -> tuple[float, float, float]:
    try:
        if isinstance(footprint, Mapping):
            return (
                float(footprint["center_y_um"]),
                float(footprint["center_x_um"]),
                float(footprint["radius_um"]),
            )
        centre, radius = footprint
        cy, cx = centre
        return float(cy), float(cx), float(radius)
    except (KeyError, TypeError, ValueError):
        raise InputError(
            None,
            f"footprint must be the circle dict of footprint_from_sem or ((cy, cx), r) in µm, got {footprint!r}",
            "pass the circle returned by footprint_from_sem",
        ) from None


def _nearest_index(coord: np.ndarray, values: np.ndarray, tol: float):
    """Index of the nearest grid coordinate (increasing or decreasing) and in-grid flag."""
    idx = np.arange(len(coord))
    if len(coord) > 1 and coord[0] > coord[-1]:
        coord, idx = coord[::-1], idx[::-1]
    i = np.clip(np.searchsorted(coord, values), 1, len(coord) - 1) if len(coord) > 1 else 0
    if len(coord) > 1:
        i = np.where(np.abs(values - coord[i - 1]) <= np.abs(values - coord[i]), i - 1, i)
    ok = (values >= coord[0] - tol) & (values <= coord[-1] + tol)
    return np.asarray(idx)[i], ok


def _group_stats(d: np.ndarray, area_um2: float) -> dict[str, Any]:
    n = int(d.size)
    area_cm2 = area_um2 * _CM2_PER_UM2
    out: dict[str, Any] = {
        "count": n,
        "area_um2": float(area_um2),
        "density_cm2": float(n / area_cm2) if area_cm2 > 0 else None,
        "density_cm2_err": float(np.sqrt(n) / area_cm2) if area_cm2 > 0 else None,
        "mean_diameter_nm": float(d.mean()) if n else None,
        "mean_diameter_nm_err": float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
    }
    return out


def particle_summary(
    table: pd.DataFrame,
    *,
    mask: xr.DataArray | np.ndarray,
    footprint: Mapping[str, float] | tuple,
    charge_C: float | None = None,
    edge_fraction: float = 0.2,
    molar_volume_cm3_mol: float = LI_MOLAR_VOLUME_CM3_MOL,
) -> dict[str, Any]:
    """Count, density, sizes, deposited Li and faradaic efficiency of detected particles.

    Particles (rows of ``table``) count when their centroid lies inside ``mask``;
    densities divide by the mask area. The footprint is split by the particle's distance
    from the circle centre into an outer ``edge`` ring of width ``edge_fraction × radius``
    and the ``center``. Deposited Li assumes spheres of the equivalent-circle diameter:
    n = Σ (π d³/6)/V_M; faradaic efficiency = n·F/|Q|.

    Parameters
    ----------
    table : pandas.DataFrame
        Particle table from :func:`detect_particles` (``y_um``, ``x_um``,
        ``diameter_nm``).
    mask : xarray.DataArray or ndarray of bool
        The analysed region (the footprint mask), with y/x coords in µm (an ndarray must
        come with a DataArray-like pixel grid; pass the DataArray from
        :func:`footprint_from_sem`).
    footprint : dict or ((center_y_um, center_x_um), radius_um)
        The footprint circle, µm (the dict returned by :func:`footprint_from_sem`).
    charge_C : float, optional
        Plating charge, C (sign ignored). Without it the faradaic efficiency is null.
    edge_fraction : float
        Width of the edge ring as a fraction of the footprint radius (0 < f < 1).
    molar_volume_cm3_mol : float
        Molar volume of the deposit, cm³ mol⁻¹ (Li: 13.0).

    Returns
    -------
    dict
        ``count``, ``count_err`` (Poisson √N), ``area_um2``, ``density_cm2``,
        ``density_cm2_err``, ``mean_diameter_nm``, ``mean_diameter_nm_err`` (sd/√N),
        ``sd_diameter_nm``, ``deposited_Li_fmol``, ``deposited_Li_fmol_err`` (sampling,
        √Σv²), ``faradaic_efficiency`` (+ ``_err``, or null with
        ``faradaic_efficiency_reason``), ``edge`` and ``center`` dicts (``count``,
        ``area_um2``, ``density_cm2``, ``density_cm2_err``, ``mean_diameter_nm``,
        ``mean_diameter_nm_err``), ``edge_fraction`` and a ``note``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> c = np.arange(100) * 0.01
    >>> yy, xx = np.meshgrid(c, c, indexing="ij")
    >>> m = xr.DataArray((yy - 0.5) ** 2 + (xx - 0.5) ** 2 <= 0.4**2, dims=("y", "x"),
    ...                  coords={"y": c, "x": c})
    >>> t = pd.DataFrame({"y_um": [0.5, 0.5], "x_um": [0.5, 0.85], "diameter_nm": [60.0, 80.0]})
    >>> s = particle_summary(t, mask=m, footprint=((0.5, 0.5), 0.4))
    >>> s["count"], s["edge"]["count"], s["center"]["count"]
    (2, 1, 1)
    """
    if not isinstance(mask, xr.DataArray):
        raise InputError(
            None,
            "the mask must be an xarray.DataArray with y/x coords in µm",
            "pass the mask returned by footprint_from_sem",
        )
    if mask.dims != ("y", "x") or "y" not in mask.coords or "x" not in mask.coords:
        raise InputError(
            None,
            f"the mask has dims {mask.dims} and coords {list(mask.coords)}; expected ('y', 'x') in µm",
            "pass the mask returned by footprint_from_sem",
        )
    missing = {"y_um", "x_um", "diameter_nm"} - set(table.columns)
    if missing:
        raise InputError(
            None,
            f"the particle table lacks the columns {sorted(missing)}",
            "pass the table returned by detect_particles",
        )
    ef = float(edge_fraction)
    if not 0 < ef < 1:
        raise InputError(
            None, f"edge_fraction must lie in (0, 1), got {edge_fraction!r}", "use e.g. 0.2"
        )
    cy, cx, r = _footprint_params(footprint)
    if not (np.isfinite([cy, cx, r]).all() and r > 0):
        raise InputError(None, f"bad footprint circle {footprint!r}", "give a radius > 0 µm")

    m = np.asarray(mask.values, dtype=bool)
    y_um = np.asarray(mask.coords["y"].values, dtype=float)
    x_um = np.asarray(mask.coords["x"].values, dtype=float)
    px_um = (
        float(mask.attrs["pixel_size_nm"]) / 1000.0
        if "pixel_size_nm" in mask.attrs
        else float(np.median(np.diff(x_um)))
    )
    px_area = px_um**2
    r_pix = np.hypot(y_um[:, None] - cy, x_um[None, :] - cx)
    r_in = (1.0 - ef) * r
    area = m.sum() * px_area
    area_edge = (m & (r_pix > r_in)).sum() * px_area
    area_center = (m & (r_pix <= r_in)).sum() * px_area

    ty = table["y_um"].to_numpy(float)
    tx = table["x_um"].to_numpy(float)
    d = table["diameter_nm"].to_numpy(float)
    iy, in_y = _nearest_index(y_um, ty, px_um)
    ix, in_x = _nearest_index(x_um, tx, px_um)
    sel = in_y & in_x & m[iy, ix] & np.isfinite(d)
    d = d[sel]
    rad = np.hypot(ty[sel] - cy, tx[sel] - cx)
    n = int(d.size)

    out = _group_stats(d, area)
    out["count_err"] = float(np.sqrt(n))
    out["sd_diameter_nm"] = float(d.std(ddof=1)) if n > 1 else None
    out["deposited_Li_fmol"] = sphere_volume_to_fmol(d, molar_volume_cm3_mol=molar_volume_cm3_mol)
    # compound-Poisson sampling error of a sum of particle amounts: sqrt(Σ n_i²)
    per = np.array(
        [sphere_volume_to_fmol([di], molar_volume_cm3_mol=molar_volume_cm3_mol) for di in d]
    )
    out["deposited_Li_fmol_err"] = float(np.sqrt(np.sum(per**2)))
    if charge_C is None:
        out["faradaic_efficiency"] = None
        out["faradaic_efficiency_err"] = None
        out["faradaic_efficiency_reason"] = "no plating charge given"
    else:
        try:
            q = abs(float(charge_C))
        except (TypeError, ValueError):
            raise InputError(
                None, f"charge_C must be a number of coulombs, got {charge_C!r}", "give Q in C"
            ) from None
        if not np.isfinite(q) or q == 0:
            out["faradaic_efficiency"] = None
            out["faradaic_efficiency_err"] = None
            out["faradaic_efficiency_reason"] = f"plating charge is {charge_C!r}"
        else:
            q_dep = out["deposited_Li_fmol"] * 1e-15 * FARADAY_C_MOL
            out["faradaic_efficiency"] = float(q_dep / q)
            out["faradaic_efficiency_err"] = float(
                out["deposited_Li_fmol_err"] * 1e-15 * FARADAY_C_MOL / q
            )
    out["edge"] = _group_stats(d[rad > r_in], area_edge)
    out["center"] = _group_stats(d[rad <= r_in], area_center)
    out["edge_fraction"] = ef
    out["note"] = (
        "errors are counting (Poisson) and sampling errors only; diameters are "
        "equivalent-circle diameters of the segmented areas and Li amounts assume spheres, "
        "so a diameter bias b gives ≈3b in deposited Li; particles touching the image edge "
        "are not counted"
    )
    return out
