"""The ImageJ preset: Fiji's particle macro, step for step, on platescope's engine.

The macro a lab runs in Fiji (ImageJ 1.53)::

    run("Gaussian Blur...", "sigma=2");          // σ in pixels, on the image's own type
    setAutoThreshold("Default dark");            // or Otsu, Mean, IsoData, Yen …
    run("Convert to Mask");
    run("Watershed");
    run("Analyze Particles...", "size=10-Infinity pixel display");

and what each step does here (docs/particles.md §4 lists the measured agreement):

- **Gaussian Blur**: ImageJ's kernel — radius ⌈σ √(−2 ln a)⌉ + 1 with kernel accuracy
  a = 0.002 for 8-bit and 0.0002 for 16-bit and float images, its polynomial tail that
  takes the kernel smoothly to zero, edges continued by the edge pixel — then rounded
  back to the image's integer type (``⌊v + 0.5⌋``, clamped). ImageJ downsamples the
  image for σ > 4.5 px; that is not reproduced (larger σ: ≤ 1 % different kernels).
- **setAutoThreshold**: the histogram ImageJ uses — one bin per grey level for
  8-bit; for 16-bit the image scaled to 256 bins between its min and max
  (``(v − min) · 256 / (max − min + 1) + 0.5``, truncated) and the bin level mapped
  back as ``min + level/255 · (max − min)`` — and ImageJ's methods on it: ``Default``
  (ImageJ's variant of IsoData: iterate the level until it is the mean of the two
  class means, ignoring the end bins), ``Otsu``, ``Mean``, ``Yen`` — identical levels
  to ImageJ 1.53t on every real image tried. ImageJ's ``IsoData`` gave other levels
  than a port of its published code on 3 of the 5 Tescan 16-bit images, so it is not
  offered (an error names the methods that are).
  ``dark`` (bright objects): foreground = level + 1 … max.
- **Convert to Mask + Watershed**: ImageJ's EDM watershed — markers are the maxima of
  the Euclidean distance map that stand out by more than 0.5 pixel, one-pixel dividing
  lines are cut between the flooded basins.
- **Analyze Particles**: 8-connected particles, inclusive ``size`` range in pixels,
  holes not counted unless ``include_holes``, optional exclusion of particles touching
  the edge; measured with :func:`~platescope.particles.measure_particles` (ImageJ's
  area, perimeter and circularity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, segmentation

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.particles._image_checks import _image2d

# the DataArray only wraps the preset's labels: ``platescope particles --imagej-levels``
# (ImageJ's thresholds on a plain array) must not import xarray
xr = lazy_module("xarray")
pd = lazy_module("pandas")

__all__ = [
    "IMAGEJ_THRESHOLD_METHODS",
    "imagej_gaussian_blur",
    "imagej_particles",
    "imagej_threshold",
]

#: ImageJ auto-threshold methods the preset reproduces.
IMAGEJ_THRESHOLD_METHODS = ("Default", "Otsu", "Mean", "Yen")
_UPSCALE_SIGMA = 4.5  # ImageJ downsamples above this σ (px)
_WATERSHED_TOLERANCE = 0.5  # ImageJ's EDM MaximumFinder tolerance, px


# ------------------------------------------------------------------------ blur


def _imagej_kernel(sigma: float, accuracy: float, max_radius: int) -> np.ndarray:
    """ImageJ's one-sided Gaussian kernel (index 0 = centre), normalised to sum 1."""
    k_radius = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(accuracy)))) + 1
    max_radius = max(int(max_radius), 50)
    k_radius = min(k_radius, max_radius)
    i = np.arange(k_radius, dtype=np.float64)
    kern = np.exp(-0.5 * i * i / sigma / sigma).astype(np.float32).astype(np.float64)
    if 3 < k_radius < max_radius:  # smooth tail: a parabola to zero at k_radius
        sqrt_slope = np.inf
        r = k_radius
        while r > k_radius // 2:
            r -= 1
            a = np.sqrt(kern[r]) / (k_radius - r)
            if a < sqrt_slope:
                sqrt_slope = a
            else:
                break
        for r1 in range(r + 2, k_radius):
            kern[r1] = np.float32((k_radius - r1) ** 2 * sqrt_slope * sqrt_slope)
    total = kern[0] + 2.0 * kern[1:].sum() if k_radius < max_radius else sigma * np.sqrt(2 * np.pi)
    return (kern / total).astype(np.float32)


def imagej_gaussian_blur(image: Any, sigma_px: float) -> np.ndarray:
    """ImageJ's *Process ▸ Filters ▸ Gaussian Blur* (σ in pixels) on the image's type.

    Parameters
    ----------
    image : array_like, shape (y, x)
        uint8, uint16 or float image.
    sigma_px : float
        σ, pixels (0: the image unchanged).

    Returns
    -------
    numpy.ndarray
        The blurred image in the input's dtype (integers rounded as ImageJ does:
        ⌊v + 0.5⌋, clamped to the type's range); float input gives float32.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((21, 21), np.uint8); a[10, 10] = 255
    >>> b = imagej_gaussian_blur(a, 2.0)
    >>> int(b[10, 10]), int(b.sum())     # ImageJ 1.53t: the same pixels
    (10, 234)
    """
    arr = _image2d(image)
    sigma = float(sigma_px)
    if not np.isfinite(sigma) or sigma < 0:
        raise InputError(None, f"sigma_px must be ≥ 0, got {sigma_px!r}", "give σ in pixels")
    if sigma == 0:
        return arr.copy()
    accuracy = 0.002 if arr.dtype == np.uint8 else 0.0002
    out = arr.astype(np.float32)
    for axis in (1, 0):  # ImageJ blurs x first, then y
        kern = _imagej_kernel(sigma, accuracy, arr.shape[axis])
        full = np.concatenate([kern[:0:-1], kern]).astype(np.float64)
        out = ndi.correlate1d(out.astype(np.float64), full, axis=axis, mode="nearest").astype(
            np.float32
        )
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        return np.clip(np.floor(out + np.float32(0.5)), info.min, info.max).astype(arr.dtype)
    return out


# ------------------------------------------------------------------- thresholds


def _ij_default(hist: np.ndarray) -> int:
    """ImageJ's "Default": the IsoData variant of its Threshold dialog (ij_IsoData)."""
    data = hist.astype(np.float64).copy()
    n = data.size - 1
    data[0] = 0
    data[n] = 0
    nz = np.flatnonzero(data)
    if nz.size == 0 or nz[0] >= nz[-1]:
        return data.size // 2
    lo, hi = int(nz[0]), int(nz[-1])
    idx = np.arange(data.size, dtype=np.float64)
    moving = lo
    while True:
        s1 = np.sum(idx[lo : moving + 1] * data[lo : moving + 1])
        s2 = np.sum(data[lo : moving + 1])
        s3 = np.sum(idx[moving + 1 : hi + 1] * data[moving + 1 : hi + 1])
        s4 = np.sum(data[moving + 1 : hi + 1])
        result = (s1 / s2 + s3 / s4) / 2.0
        moving += 1
        if not ((moving + 1) <= result and moving < hi - 1):
            break
    return int(np.floor(result + 0.5))  # Java Math.round


def _ij_otsu(hist: np.ndarray) -> int:
    """ImageJ's "Otsu": the last level of maximum between-class variance."""
    data = hist.astype(np.float64)
    k = np.arange(data.size)
    n = data.sum()
    s = (k * data).sum()
    n1 = np.cumsum(data)
    sk = np.cumsum(k * data)
    denom = n1 * (n - n1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bcv = np.where(denom != 0, ((n1 / n) * s - sk) ** 2 / denom, 0.0)
    best = bcv.max()
    return int(np.flatnonzero(bcv >= best)[-1])


def _ij_mean(hist: np.ndarray) -> int:
    data = hist.astype(np.float64)
    return int(np.floor((np.arange(data.size) * data).sum() / data.sum()))


def _ij_yen(hist: np.ndarray) -> int:
    centres = np.arange(hist.size, dtype=float)
    return int(filters.threshold_yen(hist=(hist.astype(float), centres)))


_METHODS = {
    "Default": _ij_default,
    "Otsu": _ij_otsu,
    "Mean": _ij_mean,
    "Yen": _ij_yen,
}


def _byte_histogram(arr: np.ndarray) -> tuple[np.ndarray, float, float]:
    """ImageJ's 256-bin histogram of an image and the (min, max) it spans."""
    if arr.dtype == np.uint8:
        return np.bincount(arr.ravel(), minlength=256)[:256], 0.0, 255.0
    lo, hi = float(arr.min()), float(arr.max())
    if np.issubdtype(arr.dtype, np.integer):
        scale = 256.0 / (hi - lo + 1)
        b = np.floor((arr.astype(np.float64) - lo) * scale + 0.5)
    else:  # ImageJ's float → byte: (v − min) · 256/(max − min), truncated
        scale = 256.0 / (hi - lo) if hi > lo else 1.0
        b = np.floor((arr.astype(np.float64) - lo) * scale)
    b = np.clip(b, 0, 255).astype(np.int64)
    return np.bincount(b.ravel(), minlength=256)[:256], lo, hi


def imagej_threshold(
    image: Any, method: str = "Default", *, dark_background: bool = True
) -> tuple[float, float]:
    """ImageJ's ``setAutoThreshold("<method>[ dark]")``: the (lower, upper) levels.

    Parameters
    ----------
    image : array_like, shape (y, x)
        uint8, uint16 or float image (after any blur).
    method : str
        One of :data:`IMAGEJ_THRESHOLD_METHODS` (ImageJ's names).
    dark_background : bool
        True (``"… dark"``): objects are the pixels above the level; False: below.

    Returns
    -------
    (lower, upper) : float
        Inclusive range of the foreground in the image's grey levels, as ImageJ's
        ``getThreshold`` reports it.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.full((20, 20), 10, np.uint8); a[5:10, 5:10] = 200
    >>> imagej_threshold(a, "Otsu"), imagej_threshold(a, "Default")  # as ImageJ 1.53t
    ((200.0, 255.0), (106.0, 255.0))
    """
    if method not in _METHODS:
        raise InputError(
            None,
            f"the ImageJ preset has no threshold method {method!r}",
            f"use one of {', '.join(IMAGEJ_THRESHOLD_METHODS)} (ImageJ's names)",
        )
    arr = _image2d(image)
    hist, lo, hi = _byte_histogram(arr)
    level = _METHODS[method](hist)
    if dark_background:
        lower, upper = float(min(level + 1, 255)), 255.0
    else:
        lower, upper = 0.0, float(level)
    if arr.dtype != np.uint8:
        if hi > lo:
            lower = lo + lower / 255.0 * (hi - lo)
            upper = lo + upper / 255.0 * (hi - lo)
        else:
            lower = upper = lo
        if np.issubdtype(arr.dtype, np.integer):  # ImageJ 1.53t reports whole levels,
            info = np.iinfo(arr.dtype)  # and the type's full range on the open side
            lower = info.min if not dark_background else float(np.floor(lower + 0.5))
            upper = info.max if dark_background else float(np.floor(upper + 0.5))
    return float(lower), float(upper)


# ---------------------------------------------------------------- watershed


def _true_edm_height(edm: np.ndarray) -> np.ndarray:
    """ImageJ's ``trueEdmHeight``: ridge and maximum pixels of the EDM raised to the
    height the continuous distance map has there (from the two neighbours across them).
    """
    v = edm.astype(np.float32)
    out = v.copy()
    inner = np.zeros(v.shape, bool)
    inner[1:-1, 1:-1] = True
    inner &= v > 0
    pad = np.pad(v, 1)
    ny, nx = v.shape

    def shifted(dy, dx):
        return pad[1 + dy : 1 + dy + ny, 1 + dx : 1 + dx + nx]

    true_h = v + np.float32(0.5 * np.sqrt(2.0))
    ridge = np.zeros(v.shape, bool)
    for (dy, dx), step in (
        ((-1, 0), 1.0),
        ((-1, 1), np.sqrt(2.0)),
        ((0, 1), 1.0),
        ((1, 1), np.sqrt(2.0)),
    ):
        v1, v2 = shifted(dy, dx), shifted(-dy, -dx)
        top = (v >= v1) & (v >= v2)
        ridge |= top
        h = np.where(top, (v1 + v2) / np.float32(2), np.minimum(v1, v2)) + np.float32(step)
        true_h = np.minimum(true_h, h)
    out[inner & ridge] = true_h[inner & ridge]
    return out


def _imagej_watershed(binary: np.ndarray) -> np.ndarray:
    """Labels of ImageJ's Binary ▸ Watershed.

    Markers are ImageJ's "maximum areas": the pixels within 0.5 px of each maximum of
    the EDM (heights corrected as ImageJ's ``trueEdmHeight``) whose prominence exceeds
    0.5 px — the h-dome of the map, components kept when their dome exceeds 0.5.
    They are flooded down the EDM with one-pixel dividing lines.
    """
    from skimage.morphology import reconstruction

    edm = ndi.distance_transform_edt(binary).astype(np.float32)
    h = _true_edm_height(edm).astype(np.float64)
    tol = _WATERSHED_TOLERANCE + 1e-4  # prominence strictly above 0.5, as ImageJ
    dome = h - reconstruction(np.maximum(h - tol, 0.0), h, method="dilation")
    regions, n = ndi.label((dome > 1e-6) & binary, structure=np.ones((3, 3)))
    if n:
        peak = ndi.maximum(dome, regions, np.arange(1, n + 1))
        keep = np.concatenate([[False], np.asarray(peak) >= tol - 1e-7])
        regions = np.where(keep[regions], regions, 0)
    labels = segmentation.watershed(-h, regions, mask=binary, watershed_line=True)
    # ImageJ analyses the resulting mask 8-connected, so its lines separate particles
    # in the 8-connected sense: cut pixels that touch another label only diagonally
    big = ndi.maximum_filter(labels, size=3)
    small = ndi.minimum_filter(np.where(labels > 0, labels, np.iinfo(labels.dtype).max), size=3)
    touch = (labels > 0) & ((big > labels) | (small < labels))
    labels[touch & (big > labels)] = 0
    return labels


# ----------------------------------------------------------------- particles


def imagej_particles(
    image: xr.DataArray,
    *,
    sigma_px: float = 2.0,
    threshold: str = "Default",
    dark_background: bool = True,
    min_area_px: float = 0.0,
    max_area_px: float | None = None,
    watershed: bool = True,
    exclude_edges: bool = False,
    include_holes: bool = False,
) -> tuple[xr.DataArray, pd.DataFrame]:
    """Fiji's Gaussian Blur → setAutoThreshold → Convert to Mask → Watershed → Analyze Particles.

    Parameters
    ----------
    image : xarray.DataArray
        SEM image (y, x) with ``attrs["pixel_size_nm"]`` and µm coords, data bar
        removed (a bar left in the image enters ImageJ's histogram and its text is
        counted as particles).
    sigma_px : float
        Gaussian Blur σ, pixels (0: no blur).
    threshold : str
        ImageJ auto-threshold method (:data:`IMAGEJ_THRESHOLD_METHODS`).
    dark_background : bool
        ``"<method> dark"``: the particles are brighter than the background.
    min_area_px, max_area_px : float
        Analyze Particles ``size=min-max`` in pixels (inclusive; None = Infinity).
    watershed : bool
        Run Binary ▸ Watershed after Convert to Mask.
    exclude_edges : bool
        Analyze Particles' "exclude on edges".
    include_holes : bool
        Analyze Particles' "include holes".

    Returns
    -------
    labels : xarray.DataArray
        int32 label image of the kept particles.
    table : pandas.DataFrame
        :func:`~platescope.particles.measure_particles` columns plus ``area_nm2``,
        ``diameter_nm`` (equivalent circle) and ImageJ's ``X_um``, ``Y_um`` (pixel
        centre + half a pixel); ``attrs``: ``threshold`` (lower level), ``threshold_upper``,
        ``excluded`` (rows per size filter and the edge rule) and ``kept_area_um2``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from skimage.draw import disk
    >>> a = np.full((80, 80), 30, np.uint8)
    >>> for c in [(20, 20), (20, 31), (55, 50)]:
    ...     a[disk(c, 6)] = 200
    >>> img = xr.DataArray(a, dims=("y", "x"), attrs={"pixel_size_nm": 10.0},
    ...                    coords={"y": np.arange(80) * 0.01, "x": np.arange(80) * 0.01})
    >>> _, t = imagej_particles(img, sigma_px=1.0, min_area_px=10)
    >>> len(t)
    3
    """
    from platescope.particles._measure import measure_particles
    from platescope.particles._sem_particles import _check_image, _pixel_size_nm

    image = _check_image(image)
    px_nm = _pixel_size_nm(image)
    px_um = px_nm / 1000.0
    raw = _image2d(image)
    blurred = imagej_gaussian_blur(raw, sigma_px) if sigma_px else raw
    lower, upper = imagej_threshold(blurred, threshold, dark_background=dark_background)
    binary = (blurred >= lower) & (blurred <= upper)
    if watershed:
        labels = _imagej_watershed(binary)
    else:
        labels, _ = ndi.label(binary, structure=np.ones((3, 3)))
    if include_holes:
        filled = np.zeros_like(labels)
        for k, sl in enumerate(ndi.find_objects(labels), start=1):
            if sl is not None:
                sub = ndi.binary_fill_holes(labels[sl] == k)
                filled[sl][sub & (filled[sl] == 0)] = k
        labels = filled
    labels = labels.astype(np.int32)
    table = measure_particles(labels, raw, spacing=px_um)
    area_px = np.rint(table["area_um2"].to_numpy() / px_um**2)
    hi = np.inf if max_area_px is None else float(max_area_px)
    small = area_px < float(min_area_px)
    large = area_px > hi
    edge = table["touches_border"].to_numpy(bool) if exclude_edges else np.zeros(len(table), bool)
    edge &= ~small & ~large
    keep = ~small & ~large & ~edge
    excluded = [
        {
            "reason": f"smaller than min_area_px = {min_area_px:g} px",
            "filter": "min_area_px",
            "count": int(small.sum()),
            "area_um2": float(area_px[small].sum() * px_um**2),
        },
        {
            "reason": f"larger than max_area_px = {hi:g} px",
            "filter": "max_area_px",
            "count": int(large.sum()),
            "area_um2": float(area_px[large].sum() * px_um**2),
        },
        {
            "reason": "touches the image edge (exclude on edges)",
            "filter": "exclude_border",
            "count": int(edge.sum()),
            "area_um2": float(area_px[edge].sum() * px_um**2),
        },
    ]
    drop = table["label"].to_numpy()[~keep]
    labels[np.isin(labels, drop)] = 0
    table = table.loc[keep].reset_index(drop=True)
    table["area_nm2"] = table["area_um2"] * 1e6
    table["diameter_nm"] = table["equivalent_diameter_um"] * 1000.0
    table["X_um"] = table["x_um"] + px_um / 2
    table["Y_um"] = table["y_um"] + px_um / 2
    table.attrs.update(
        {
            "pixel_size_nm": px_nm,
            "threshold": float(lower),
            "threshold_upper": float(upper),
            "threshold_method": f"ImageJ {threshold}{' dark' if dark_background else ''}",
            "excluded": excluded,
            "kept_area_um2": float(table["area_um2"].sum()),
        }
    )
    coords = {k: image.coords[k] for k in ("y", "x") if k in image.coords}
    labels_da = xr.DataArray(
        labels,
        dims=("y", "x"),
        coords=coords,
        attrs={"pixel_size_nm": px_nm, "threshold": float(lower), "preset": "imagej"},
        name="labels",
    )
    return labels_da, table
