"""Counting and sizing Li nanoparticles in SEM images of an SECCM footprint.

The recipe is the one of the SECCM + IRM paper (SCIENCE.md §2): Gaussian smoothing →
global threshold → watershed split of touching particles → keep particles inside the
footprint → drop objects larger than 0.1 µm² → equivalent-circle diameters. Two
additions make it robust to the grey levels of a real SEM image: a slowly varying
background (computed separately inside and outside the footprint, ignoring the
particles) is subtracted before thresholding, and the threshold is computed from the
pixels of the region of interest only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage as ndi
from scipy import optimize
from skimage import feature, filters, measure, segmentation

from platescope._errors import InputError
from platescope.models import LI_MOLAR_VOLUME_CM3_MOL, sphere_volume_to_fmol
from platescope.models._faraday import FARADAY_C_MOL

__all__ = ["detect_particles", "footprint_from_sem", "particle_summary"]

_THRESHOLD_METHODS = {
    "otsu": filters.threshold_otsu,
    "triangle": filters.threshold_triangle,
    "li": filters.threshold_li,
}

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


# --------------------------------------------------------------------------- helpers


def _source(image: Any) -> str | None:
    attrs = getattr(image, "attrs", None) or {}
    src = attrs.get("source")
    return None if src is None else str(src)


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


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Block sums of ``a`` over ``f × f`` blocks (edges padded with zeros)."""
    ny, nx = a.shape
    py, px = (-ny) % f, (-nx) % f
    if py or px:
        a = np.pad(a, ((0, py), (0, px)))
    return a.reshape(a.shape[0] // f, f, a.shape[1] // f, f).sum(axis=(1, 3))


def _upsample(a: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of a block-reduced map back to full-resolution pixel centres."""
    yy = (np.arange(shape[0]) + 0.5) / f - 0.5
    xx = (np.arange(shape[1]) + 0.5) / f - 0.5
    yy = np.clip(yy, 0, a.shape[0] - 1)
    xx = np.clip(xx, 0, a.shape[1] - 1)
    return ndi.map_coordinates(a, np.meshgrid(yy, xx, indexing="ij"), order=1, mode="nearest")


def _masked_background(
    data: np.ndarray, weight: np.ndarray, sigma_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised Gaussian convolution of ``data`` with pixel weights, at reduced resolution.

    Returns the background and the (reduced-resolution) support so that callers can fill
    places where a region has no valid pixel nearby.
    """
    f = max(1, int(sigma_px // 4))
    s_red = sigma_px / f
    num = _block_mean(data * weight, f)
    den = _block_mean(weight.astype(np.float64), f)
    num = ndi.gaussian_filter(num, s_red, mode="nearest")
    den = ndi.gaussian_filter(den, s_red, mode="nearest")
    ok = den > 1e-3 * f * f
    bg_red = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
    if not ok.all():
        # fill gaps (far from any valid pixel of this region) with the nearest valid value
        if ok.any():
            idx = ndi.distance_transform_edt(~ok, return_distances=False, return_indices=True)
            bg_red = bg_red[tuple(idx)]
        else:
            bg_red = np.zeros_like(bg_red)
    return _upsample(bg_red, f, data.shape), ok


def _threshold_value(values: np.ndarray, threshold: str | float) -> float:
    if isinstance(threshold, str):
        try:
            fn = _THRESHOLD_METHODS[threshold]
        except KeyError:
            raise InputError(
                None,
                f"unknown threshold method {threshold!r}",
                f"use one of {sorted(_THRESHOLD_METHODS)} or a number (grey level above background)",
            ) from None
        if values.size < 2 or np.ptp(values) == 0:
            return float(values.max()) if values.size else 0.0
        return float(fn(values))
    try:
        return float(threshold)
    except (TypeError, ValueError):
        raise InputError(
            None,
            f"threshold must be a method name or a number, got {threshold!r}",
            f"use one of {sorted(_THRESHOLD_METHODS)} or a number",
        ) from None


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise InputError(None, f"{name} must be a positive number, got {value!r}", f"give a {name} > 0")
    return v


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
) -> tuple[xr.DataArray, pd.DataFrame]:
    """Detect, split and measure bright nanoparticles in an SEM image.

    Smoothing → background subtraction → threshold (computed from the pixels inside
    ``mask``) → watershed on the distance transform to split touching particles →
    objects whose centroid lies inside ``mask`` → size filter. The image is loaded into
    memory (``.values``).

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
    threshold : {"otsu", "triangle", "li"} or float
        Global threshold method applied to the smoothed, background-subtracted ROI
        pixels, or a fixed grey level above the local background.
    background_sigma_um : float or None
        Scale, µm, of the slowly varying background removed before thresholding (a
        Gaussian average of the non-particle pixels, taken separately inside and outside
        ``mask`` so that the footprint's own grey does not leak across its edge). It must
        be much larger than the particles. ``None`` disables the subtraction.
    min_area_nm2 : float
        Objects smaller than this, nm², are discarded as noise specks (default 300 nm²,
        a ~20 nm circle).
    max_area_um2 : float
        Objects larger than this, µm², are discarded (default 0.1 µm², as in the paper).
    min_distance_nm : float
        Minimum distance between two particle centres, nm, for the watershed markers;
        set it to about the radius of the smallest expected particle.
    exclude_border : bool
        Drop objects that touch the image edge (they cannot be sized).

    Returns
    -------
    labels : xarray.DataArray
        int32 label image (0 = background) with the image's coords; ``attrs`` record the
        parameters, the threshold and the pixel size.
    table : pandas.DataFrame
        One row per kept particle: ``label``, ``y_um``, ``x_um`` (centroid), ``area_nm2``,
        ``diameter_nm`` (equivalent circle), ``perimeter_nm``, ``circularity``
        (4πA/P², clipped to 1) and ``mean_intensity`` (raw grey level). ``attrs`` hold
        the threshold and how many objects each filter removed.

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

    smooth = ndi.gaussian_filter(data, sigma_nm / px_nm) if sigma_nm > 0 else data

    # background subtraction, iterated once with the particles left out of the average
    if background_sigma_um is not None:
        bg_sigma_px = _positive("background_sigma_um", background_sigma_um) * 1000.0 / px_nm
        regions = [roi, ~roi] if mask is not None else [roi]
        fg = np.zeros(data.shape, dtype=bool)
        for _ in range(2):
            bg = np.zeros_like(smooth)
            for reg in regions:
                if not reg.any():
                    continue
                b, _ok = _masked_background(smooth, reg & ~fg, bg_sigma_px)
                bg[reg] = b[reg]
            work = smooth - bg
            t = _threshold_value(work[roi], threshold)
            fg = ndi.binary_dilation(work > t, iterations=2)
            if fg[roi].mean() > 0.8:  # nearly everything bright: keep the first estimate
                break
    else:
        work = smooth
        t = _threshold_value(work[roi], threshold)
    binary = work > t

    # watershed split of touching particles
    dist = ndi.distance_transform_edt(binary)
    comps, n_comps = ndi.label(binary)
    md_px = max(1, int(round(min_distance_nm / px_nm)))
    if n_comps:
        peaks = feature.peak_local_max(
            dist, min_distance=md_px, labels=comps, exclude_border=False, num_peaks_per_label=50
        )
        markers = np.zeros(data.shape, dtype=np.int32)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
        # every component gets at least one marker (its distance maximum)
        has = np.zeros(n_comps + 1, dtype=bool)
        has[comps[tuple(peaks.T)]] = True
        missing = np.flatnonzero(~has[1:]) + 1
        if missing.size:
            pos = ndi.maximum_position(dist, comps, missing)
            nxt = len(peaks) + 1
            for k, p in enumerate(pos):
                markers[p] = nxt + k
        labels = segmentation.watershed(-dist, markers, mask=binary).astype(np.int32)
    else:
        labels = np.zeros(data.shape, dtype=np.int32)

    n_raw = int(labels.max())
    n_border = 0
    if exclude_border and n_raw:
        edge_ids = np.unique(
            np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        )
        edge_ids = edge_ids[edge_ids > 0]
        n_border = int(edge_ids.size)
        labels[np.isin(labels, edge_ids)] = 0

    y_um, x_um = _coords_um(image, px_nm)
    px_area_nm2 = px_nm**2
    if labels.any():
        props = measure.regionprops_table(
            labels,
            intensity_image=data,
            properties=("label", "centroid", "area", "perimeter", "intensity_mean"),
        )
        tab = pd.DataFrame(props)
    else:
        tab = pd.DataFrame(
            {k: [] for k in ("label", "centroid-0", "centroid-1", "area", "perimeter")}
        )
        tab["intensity_mean"] = []

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

    table.attrs.update(
        {
            "pixel_size_nm": px_nm,
            "threshold": float(t),
            "threshold_method": threshold if isinstance(threshold, str) else "fixed",
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


def _fit_circle(py: np.ndarray, px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometric least-squares circle through points (robust loss); returns (p, err)."""
    # algebraic (Kåsa) start
    a = np.column_stack([px, py, np.ones_like(px)])
    b = px**2 + py**2
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    cx0, cy0 = sol[0] / 2, sol[1] / 2
    r0 = np.sqrt(max(sol[2] + cx0**2 + cy0**2, 1e-12))

    def resid(p):
        return np.hypot(py - p[0], px - p[1]) - p[2]

    res = optimize.least_squares(resid, [cy0, cx0, r0], loss="soft_l1", f_scale=0.05 * r0)
    p = res.x
    dof = max(len(py) - 3, 1)
    s2 = float(np.sum(resid(p) ** 2)) / dof
    try:
        cov = np.linalg.inv(res.jac.T @ res.jac) * s2
        err = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
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

    ``"grey"``: the image is strongly blurred (``sigma_um`` ≫ particle size) so that the
    footprint becomes a smooth disk of a grey that differs from the outside (its own
    substrate grey plus the particles); the blurred image is split by Otsu's threshold,
    the region that touches the image edge least is the footprint, its edge is traced at
    the grey level half-way between inside and outside and a circle is fitted to it
    (robust geometric least squares). ``"density"``: the same on a map of particle
    centroid density (from ``table`` or from :func:`detect_particles` on the whole
    image), for images in which the footprint grey matches the outside.

    Parameters
    ----------
    image : xarray.DataArray
        SEM image, dims ``("y", "x")``, coords in µm (see :func:`detect_particles`).
    method : {"grey", "density"}
        How to find the footprint edge (ignored when ``circle_um`` is given).
    circle_um : (center_y_um, center_x_um, radius_um), optional
        A footprint circle given by the user, µm in the image coords; skips detection.
    sigma_um : float
        Blur, µm, applied before thresholding (default 0.3 µm); must be much larger than
        the particles and much smaller than the footprint radius.
    table : pandas.DataFrame, optional
        Particles detected on the whole image (``y_um``, ``x_um``), for ``"density"``.

    Returns
    -------
    mask : xarray.DataArray of bool
        The footprint disk, with the image's coords and ``attrs["pixel_size_nm"]``.
    circle : dict
        ``center_y_um``, ``center_x_um``, ``radius_um`` (+ ``*_err`` standard errors of
        the fit), ``area_um2`` (of the disk inside the image) and ``method``.

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
        return da, circle

    sigma_um = _positive("sigma_um", sigma_um)
    f = max(1, int(sigma_um / px_um / 3))  # ~3 reduced pixels per sigma
    if method == "grey":
        data = _finite_pixels(image)
        red = _block_mean(data, f) / (f * f)
        cnt = _block_mean(np.ones_like(data), f) / (f * f)
        red = red / np.where(cnt > 0, cnt, 1.0)
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
        np.add.at(red, ((iy // f).astype(int), (ix // f).astype(int)), 1.0)
    else:
        raise InputError(
            None, f"unknown footprint method {method!r}", "use 'grey', 'density' or circle_um"
        )
    blur = ndi.gaussian_filter(red, sigma_um / (px_um * f), mode="nearest")
    if np.ptp(blur) == 0:
        raise InputError(
            _source(image),
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
        border = np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]]).mean()
        score = (border, -comp.sum())
        if best is None or score < best[0]:
            best = (score, bright, comp)
    assert best is not None
    _, bright, comp = best
    inside_level = np.median(blur[comp])
    outside_level = np.median(blur[~comp]) if (~comp).any() else t
    level = 0.5 * (inside_level + outside_level)
    contours = measure.find_contours(blur, level)
    # keep contour points that bound the chosen component and are off the image edge
    pts = np.concatenate(contours) if contours else np.empty((0, 2))
    if len(pts):
        grown = ndi.binary_dilation(comp, iterations=2) & ~ndi.binary_erosion(comp, iterations=2)
        ri = np.clip(np.rint(pts[:, 0]).astype(int), 0, comp.shape[0] - 1)
        ci = np.clip(np.rint(pts[:, 1]).astype(int), 0, comp.shape[1] - 1)
        ok = grown[ri, ci]
        ok &= (pts[:, 0] > 0.5) & (pts[:, 0] < comp.shape[0] - 1.5)
        ok &= (pts[:, 1] > 0.5) & (pts[:, 1] < comp.shape[1] - 1.5)
        pts = pts[ok]
    if len(pts) < 10:
        raise InputError(
            _source(image),
            "could not trace the footprint edge in the SEM image",
            "give the footprint circle with circle_um",
        )
    # reduced-pixel index → full-resolution pixel index → µm
    fy = (pts[:, 0] + 0.5) * f - 0.5
    fx = (pts[:, 1] + 0.5) * f - 0.5
    py = np.interp(fy, np.arange(len(y_um)), y_um, left=np.nan, right=np.nan)
    pxx = np.interp(fx, np.arange(len(x_um)), x_um, left=np.nan, right=np.nan)
    # linear extrapolation at the image edges (np.interp clamps otherwise)
    py = np.where(np.isnan(py), y_um[0] + fy * px_um, py)
    pxx = np.where(np.isnan(pxx), x_um[0] + fx * px_um, pxx)
    p, err = _fit_circle(py, pxx)
    if not (np.all(np.isfinite(p)) and p[2] > 0):
        raise InputError(
            _source(image),
            "the footprint edge found in the SEM image is not circular",
            "give the footprint circle with circle_um",
        )
    return _result(p[0], p[1], p[2], err, method)


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
    iy = np.clip(np.rint(np.interp(ty, y_um, np.arange(len(y_um)))).astype(int), 0, len(y_um) - 1)
    ix = np.clip(np.rint(np.interp(tx, x_um, np.arange(len(x_um)))).astype(int), 0, len(x_um) - 1)
    in_grid = (ty >= y_um[0] - px_um) & (ty <= y_um[-1] + px_um)
    in_grid &= (tx >= x_um[0] - px_um) & (tx <= x_um[-1] + px_um)
    sel = in_grid & m[iy, ix] & np.isfinite(d)
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
        q = abs(float(charge_C))
        if not np.isfinite(q) or q == 0:
            out["faradaic_efficiency"] = None
            out["faradaic_efficiency_err"] = None
            out["faradaic_efficiency_reason"] = f"plating charge is {charge_C!r}"
        else:
            q_dep = out["deposited_Li_fmol"] * 1e-15 * FARADAY_C_MOL
            out["faradaic_efficiency"] = float(q_dep / q)
            out["faradaic_efficiency_err"] = float(out["deposited_Li_fmol_err"] * 1e-15 * FARADAY_C_MOL / q)
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
