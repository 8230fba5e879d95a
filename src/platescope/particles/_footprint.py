"""Is there an SECCM footprint in this SEM image? A stated test before any circle is used.

:func:`~platescope.particles.footprint_from_sem` always fits a circle to *something*
(on a mossy Li film it fits one to a random bright patch). :func:`find_footprint` runs
it and then tests the circle against the image:

1. **contrast**: the bare-substrate grey (particles filled in from the nearest
   substrate, averaged in blocks and blurred by ``sigma_um``, as footprint_from_sem
   does) inside the circle and outside it (a band of 2 blur σ around the edge left
   out) differ by ≥ ``min_contrast`` × the pooled robust sd of that map on each side;
2. **circularity**: within two radii of the centre, the region on the footprint's
   side of the half-way grey is the disk (blurred like the map, cut at half height):
   intersection over union ≥ ``min_iou``;
3. **in view**: ≥ 80 % of the disk lies in the image and the disk leaves ≥ 10 % of the
   image outside it (else there is no "outside" to contrast with).

Only when all hold is the footprint reported; otherwise the whole image is the region
and the result says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage as ndi

from platescope._errors import InputError
from platescope.particles._sem_particles import (
    _check_image,
    _coords_um,
    _finite_pixels,
    _footprint_and_map,
    _pixel_size_nm,
    _substrate_map,
)

__all__ = ["find_footprint", "whole_image_region"]

#: defaults of the footprint test (docs/particles.md §2)
MIN_CONTRAST = 3.0
MIN_IOU = 0.75
_MIN_IN_VIEW = 0.8
_MAX_IMAGE_FRACTION = 0.9


def whole_image_region(image: xr.DataArray, reason: str | None = None) -> tuple:
    """The whole image as the analysed region: an all-True mask and its description.

    Returns
    -------
    mask : xarray.DataArray of bool
    circle : dict
        ``method`` = ``"whole image"``, ``found`` = False, ``area_um2``, ``reason``,
        and a covering circle (``center_*_um``, ``radius_um``) so that particle
        summaries that need one still work.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = np.arange(10) * 0.01
    >>> img = xr.DataArray(np.zeros((10, 10)), dims=("y", "x"), coords={"y": c, "x": c},
    ...                    attrs={"pixel_size_nm": 10.0})
    >>> m, circ = whole_image_region(img)
    >>> bool(m.all()), circ["method"], round(circ["area_um2"], 4)
    (True, 'whole image', 0.01)
    """
    image = _check_image(image)
    px_nm = _pixel_size_nm(image)
    y, x = _coords_um(image, px_nm)
    mask = xr.DataArray(
        np.ones(image.shape, bool),
        dims=("y", "x"),
        coords={"y": y, "x": x},
        attrs={"pixel_size_nm": px_nm},
        name="region",
    )
    circle = {
        "center_y_um": float(0.5 * (y[0] + y[-1])),
        "center_x_um": float(0.5 * (x[0] + x[-1])),
        "radius_um": float(np.hypot(y[-1] - y[0], x[-1] - x[0])),  # covers every pixel
        "area_um2": float(image.size * (px_nm / 1000.0) ** 2),
        "method": "whole image",
        "found": False,
        "reason": reason or "no footprint requested: the whole image is analysed",
    }
    return mask, circle


def _evidence(image, circle, sigma_um, red=None) -> dict[str, Any]:
    """Contrast, circularity and in-view numbers of a fitted footprint circle.

    ``red``: the first-pass substrate map of :func:`footprint_from_sem` when the caller
    has it (computed here otherwise).
    """
    px_nm = _pixel_size_nm(image)
    px_um = px_nm / 1000.0
    y_um, x_um = _coords_um(image, px_nm)
    f = max(1, int(sigma_um / px_um / 3))
    s_red = sigma_um / (px_um * f)
    if red is None:
        red = _substrate_map(_finite_pixels(image), px_um, f)[1]
    blur = ndi.gaussian_filter(red, s_red, mode="nearest")
    # block-centre coordinates (µm)
    iy = (np.arange(red.shape[0]) + 0.5) * f - 0.5
    ix = (np.arange(red.shape[1]) + 0.5) * f - 0.5
    by = np.interp(
        iy, np.arange(len(y_um)), y_um, right=y_um[-1] + (iy[-1] - len(y_um) + 1) * px_um
    )
    bx = np.interp(
        ix, np.arange(len(x_um)), x_um, right=x_um[-1] + (ix[-1] - len(x_um) + 1) * px_um
    )
    cy, cx, r = circle["center_y_um"], circle["center_x_um"], circle["radius_um"]
    rr = np.hypot(by[:, None] - cy, bx[None, :] - cx)
    band = 2.0 * sigma_um
    disk = rr <= r
    inner, outer = rr <= r - band, rr >= r + band
    out: dict[str, Any] = {
        "in_view_fraction": float(circle["area_um2"] / (np.pi * r * r)),
        "image_fraction": float(circle["area_um2"] / (image.size * px_um * px_um)),
        "contrast_sd": None,
        "iou": None,
    }
    if inner.sum() < 4 or outer.sum() < 4:
        return out

    def robust_sd(v):
        return 1.4826 * float(np.median(np.abs(v - np.median(v))))

    lvl_in, lvl_out = float(np.median(blur[inner])), float(np.median(blur[outer]))
    spread = np.sqrt(0.5 * (robust_sd(blur[inner]) ** 2 + robust_sd(blur[outer]) ** 2))
    out["contrast_sd"] = float(abs(lvl_in - lvl_out) / spread) if spread > 0 else float("inf")
    mid = 0.5 * (lvl_in + lvl_out)
    # the shape at a finer blur (≤ R/10, a blur comparable to R rounds any blob), and
    # compared like with like: the disk blurred the same way, cut at half height;
    # within 2 radii of the centre (farther texture says nothing about this region)
    s_shape = min(s_red, 0.1 * r / (f * px_um))
    fine = ndi.gaussian_filter(red, s_shape, mode="nearest")
    region = fine > mid if lvl_in > lvl_out else fine < mid
    model = ndi.gaussian_filter(disk.astype(float), s_shape, mode="nearest") > 0.5
    near = rr <= 2.0 * r
    union = np.sum((region | model) & near)
    out["iou"] = float(np.sum(region & model & near) / union) if union else 0.0
    return out


def find_footprint(
    image: xr.DataArray,
    *,
    method: str = "grey",
    sigma_um: float = 0.3,
    min_contrast: float = MIN_CONTRAST,
    min_iou: float = MIN_IOU,
) -> tuple[xr.DataArray, dict[str, Any]]:
    """The SECCM footprint when the image shows one, else the whole image (and why).

    Runs :func:`footprint_from_sem` and applies the test of the module docstring
    (contrast ≥ ``min_contrast`` pooled sd, IoU ≥ ``min_iou``, ≥ 80 % of the disk in view,
    ≥ 10 % of the image outside it). ``method="density"`` circles are tested for being
    in view only (their evidence is the density step of the likelihood fit).

    Parameters
    ----------
    image : xarray.DataArray
        SEM image, dims ``("y", "x")``, coords in µm, ``attrs["pixel_size_nm"]``.
    method : {"grey", "density"}
        How :func:`footprint_from_sem` finds the edge.
    sigma_um : float
        Blur, µm, of the substrate map (as in :func:`footprint_from_sem`).
    min_contrast : float
        Smallest inside/outside grey difference, in pooled robust sd of the map.
    min_iou : float
        Smallest intersection over union of the footprint-side region and the disk.

    Returns
    -------
    mask : xarray.DataArray of bool
        The footprint disk, or the whole image.
    circle : dict
        The circle of :func:`footprint_from_sem` plus ``found`` (bool), ``evidence``
        {``contrast_sd``, ``iou``, ``in_view_fraction``, ``image_fraction``,
        ``criteria``} and, when not found, ``method`` = ``"whole image"`` and a
        ``reason``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> c = np.arange(200) * 0.05
    >>> yy, xx = np.meshgrid(c, c, indexing="ij")
    >>> rng = np.random.default_rng(0)
    >>> a = np.where((yy - 5) ** 2 + (xx - 4.5) ** 2 < 3.0**2, 120.0, 100.0)
    >>> img = xr.DataArray(a + rng.normal(0, 2, a.shape), dims=("y", "x"),
    ...                    coords={"y": c, "x": c}, attrs={"pixel_size_nm": 50.0})
    >>> _, circle = find_footprint(img)
    >>> circle["found"], round(circle["radius_um"], 1)
    (True, 3.0)
    >>> flat = img.copy(data=100.0 + rng.normal(0, 2, a.shape))  # no footprint
    >>> _, circle = find_footprint(flat)
    >>> circle["found"], circle["method"]
    (False, 'whole image')
    """
    image = _check_image(image)
    criteria = (
        f"contrast ≥ {min_contrast:g} sd, IoU ≥ {min_iou:g}, ≥ {_MIN_IN_VIEW:.0%} of the disk "
        f"in view, ≤ {_MAX_IMAGE_FRACTION:.0%} of the image inside it"
    )
    try:
        mask, circle, first_map = _footprint_and_map(
            image, method=method, circle_um=None, sigma_um=sigma_um, table=None
        )
    except InputError as err:
        if method not in ("grey", "density"):
            raise
        return whole_image_region(image, f"no footprint edge found ({err.problem})")
    ev = (
        _evidence(image, circle, sigma_um, first_map)
        if method == "grey"
        else {
            "in_view_fraction": float(circle["area_um2"] / (np.pi * circle["radius_um"] ** 2)),
            "image_fraction": float(
                circle["area_um2"] / (image.size * (_pixel_size_nm(image) / 1000.0) ** 2)
            ),
            "contrast_sd": None,
            "iou": None,
        }
    )
    ev["criteria"] = criteria
    fails = []
    if ev["in_view_fraction"] < _MIN_IN_VIEW:
        fails.append(f"only {ev['in_view_fraction']:.0%} of the circle is in view")
    if ev["image_fraction"] > _MAX_IMAGE_FRACTION:
        fails.append(f"the circle covers {ev['image_fraction']:.0%} of the image")
    if method == "grey":
        if ev["contrast_sd"] is None or ev["contrast_sd"] < min_contrast:
            c = ev["contrast_sd"]
            fails.append(
                "no grey step at the circle"
                if c is None
                else f"inside/outside contrast {c:.1f} sd < {min_contrast:g}"
            )
        if ev["iou"] is None or ev["iou"] < min_iou:
            fails.append(
                "the contact region is not a disk"
                + ("" if ev["iou"] is None else f" (IoU {ev['iou']:.2f} < {min_iou:g})")
            )
    if fails:
        mask, whole = whole_image_region(
            image, "no footprint in the image: " + "; ".join(fails) + " (test: " + criteria + ")"
        )
        whole["evidence"] = ev
        whole["rejected_circle"] = {
            k: circle[k] for k in ("center_y_um", "center_x_um", "radius_um")
        }
        return mask, whole
    circle = {**circle, "found": True, "evidence": ev}
    mask.attrs.update({k: v for k, v in circle.items() if not isinstance(v, dict)})
    return mask, circle
