"""SEM images of deposits of known morphology: particles, whiskers, grains, films with voids.

The planted geometry is drawn at 4× finer resolution and box-averaged into the pixels
(area-exact edges), blurred by the beam (σ = ``beam_sigma_px``), given shot noise and
quantised to 8 bits. The truth comes from the planted geometry itself: analytic areas
of disks, rods and voids, the exact edge lengths of the Voronoi grains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage as ndi
from scipy.spatial import Voronoi

__all__ = ["SEM_MORPHOLOGY_KINDS", "make_sem_morphology"]

#: Kinds :func:`make_sem_morphology` can draw.
SEM_MORPHOLOGY_KINDS = ("particles", "whiskers", "granular", "continuous")
_SUPER = 4  # sub-pixels per pixel side


def _disks(rng, shape, n, r_mean, r_sd, gap, r_min=2.0):
    """Non-overlapping disks wholly inside the image (centre y, x, radius in px)."""
    out: list[tuple[float, float, float]] = []
    tries = 0
    while len(out) < n and tries < 200 * n:
        tries += 1
        r = max(r_min, rng.normal(r_mean, r_sd))
        cy = rng.uniform(r + 1, shape[0] - r - 1)
        cx = rng.uniform(r + 1, shape[1] - r - 1)
        if all(np.hypot(cy - y, cx - x) > r + q + gap for y, x, q in out):
            out.append((cy, cx, r))
    return np.array(out).reshape(-1, 3)


def _fine_grid(shape):
    s = _SUPER
    yy = (np.arange(shape[0] * s) + 0.5) / s
    xx = (np.arange(shape[1] * s) + 0.5) / s
    return yy[:, None], xx[None, :]


def _disk_mask(shape, disks) -> np.ndarray:
    yy, xx = _fine_grid(shape)
    m = np.zeros((shape[0] * _SUPER, shape[1] * _SUPER), bool)
    for cy, cx, r in disks:
        s = _SUPER
        y0, y1 = int(max((cy - r - 1) * s, 0)), int(min((cy + r + 1) * s, m.shape[0]))
        x0, x1 = int(max((cx - r - 1) * s, 0)), int(min((cx + r + 1) * s, m.shape[1]))
        m[y0:y1, x0:x1] |= (yy[y0:y1] - cy) ** 2 + (xx[:, x0:x1] - cx) ** 2 <= r * r
    return m


def _rod_mask(shape, rod, window=None) -> np.ndarray:
    """Fine-grid mask of one rectangle (centre y, x, length, width, angle).

    ``window`` = (y0, y1, x0, x1) fine-grid indices: only that part of the grid (the
    same values as the whole grid's mask there).
    """
    cy, cx, length, width, ang = rod
    yy, xx = _fine_grid(shape)
    if window is not None:
        y0, y1, x0, x1 = window
        yy, xx = yy[y0:y1], xx[:, x0:x1]
    u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
    v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
    return (np.abs(u) <= length / 2) & (np.abs(v) <= width / 2)


def _rods(rng, shape, n, width_px, length_px, gap):
    """Non-touching rods wholly inside the image; their union on the fine grid."""
    fine = np.zeros((shape[0] * _SUPER, shape[1] * _SUPER), bool)
    grow = int(np.ceil(gap * _SUPER))
    rods = []
    tries = 0
    while len(rods) < n and tries < 100 * n:
        tries += 1
        length = rng.uniform(*length_px)
        width = rng.uniform(*width_px)
        ang = rng.uniform(0, np.pi)
        half = (
            0.5 * (abs(length * np.cos(ang)) + abs(width * np.sin(ang))),
            0.5 * (abs(length * np.sin(ang)) + abs(width * np.cos(ang))),
        )
        cx = rng.uniform(half[0] + 2, shape[1] - half[0] - 2)
        cy = rng.uniform(half[1] + 2, shape[0] - half[1] - 2)
        # the rod and its dilation lie in its bounding box + grow (+ 2 px of margin):
        # work there, not on the whole fine grid (the same mask, ≈ 20× faster)
        if grow > 0:
            pad = grow + 2
            win = (
                max(int(np.floor((cy - half[1]) * _SUPER)) - pad, 0),
                min(int(np.ceil((cy + half[1]) * _SUPER)) + pad, fine.shape[0]),
                max(int(np.floor((cx - half[0]) * _SUPER)) - pad, 0),
                min(int(np.ceil((cx + half[0]) * _SUPER)) + pad, fine.shape[1]),
            )
        else:  # iterations=0 dilates until nothing changes: the whole grid
            win = (0, fine.shape[0], 0, fine.shape[1])
        part = fine[win[0] : win[1], win[2] : win[3]]
        m = _rod_mask(shape, (cy, cx, length, width, ang), win)
        if (ndi.binary_dilation(m, iterations=grow) & part).any():
            continue
        part |= m
        rods.append((cy, cx, length, width, ang))
    return np.array(rods).reshape(-1, 5), fine


def _voronoi_edges(seeds, shape) -> np.ndarray:
    """The Voronoi edges between the seeds inside the image, (n, 2, 2) end points in px.

    The seeds are mirrored across the four image edges so that every cell of an
    original seed is bounded by the image; edges between two original seeds are the
    grain boundaries (an edge to a mirror image lies on the image edge).
    """
    h, w = shape
    pts = [seeds]
    for fy, fx in ((-1, 1), (1, -1)):
        pts.append(np.column_stack([fy * seeds[:, 0], fx * seeds[:, 1]]))  # across 0
    pts.append(np.column_stack([2 * h - seeds[:, 0], seeds[:, 1]]))
    pts.append(np.column_stack([seeds[:, 0], 2 * w - seeds[:, 1]]))
    allp = np.concatenate(pts)
    vor = Voronoi(allp)
    n = len(seeds)
    segs = [
        vor.vertices[rv]
        for (a, b), rv in zip(vor.ridge_points, vor.ridge_vertices, strict=True)
        if a < n and b < n and -1 not in rv
    ]
    return np.asarray(segs, float).reshape(-1, 2, 2)


def _line_crossings(segs: np.ndarray, axis: int) -> int:
    """How many pixel-centre lines (coordinate k + 0.5 along ``axis``) the segments cross."""
    lo = np.minimum(segs[:, 0, axis], segs[:, 1, axis])
    hi = np.maximum(segs[:, 0, axis], segs[:, 1, axis])
    return int(np.sum(np.maximum(np.floor(hi - 0.5) - np.ceil(lo - 0.5) + 1, 0)))


def _render(fine_level, shape, rng, beam_sigma_px, noise_sd):
    """Box-average a fine-grid grey map into pixels, blur by the beam, add noise, 8-bit."""
    s = _SUPER
    img = fine_level.reshape(shape[0], s, shape[1], s).mean(axis=(1, 3))
    if beam_sigma_px > 0:
        img = ndi.gaussian_filter(img, beam_sigma_px, mode="nearest")
    img = img + rng.normal(0.0, noise_sd, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_sem_morphology(
    kind: str = "particles",
    *,
    seed: int = 0,
    shape: tuple[int, int] = (512, 512),
    pixel_size_nm: float = 10.0,
    noise_sd: float = 8.0,
    beam_sigma_px: float = 0.7,
    substrate_grey: float = 60.0,
    deposit_grey: float = 170.0,
    **params: Any,
) -> dict[str, Any]:
    """A synthetic SEM image of a deposit of one morphology, with its planted truth.

    Kinds and their parameters (lengths in pixels):

    - ``"particles"``: ``n`` (120) non-touching disks of radius ``radius_px``
      (8) ± ``radius_sd_px`` (2).
    - ``"whiskers"``: ``n`` (40) non-touching rods, width uniform in ``width_px``
      ((3, 8)), length uniform in ``length_px`` ((40, 160)), random orientation.
    - ``"granular"``: Poisson–Voronoi grains of mean area ``grain_area_px`` (900)
      separated by dark boundaries ``boundary_px`` (2) wide; grain greys vary ± 15.
    - ``"continuous"``: a film with ``n`` (60) non-touching circular voids of radius
      ``radius_px`` (10) ± ``radius_sd_px`` (3), wholly inside the image.

    Parameters
    ----------
    kind : {"particles", "whiskers", "granular", "continuous"}
        Morphology to draw.
    seed : int
        Random seed.
    shape : (int, int)
        Image rows, columns.
    pixel_size_nm : float
        Pixel size, nm (coords of the image in µm).
    noise_sd : float
        Gaussian noise sd, grey levels.
    beam_sigma_px : float
        Beam blur σ, pixels.
    substrate_grey, deposit_grey : float
        Grey levels of the bare substrate (and gaps, voids, boundaries) and the deposit.
    **params
        Kind-specific parameters (above).

    Returns
    -------
    dict
        ``image`` (uint8 xarray.DataArray, dims (y, x), µm coords,
        ``attrs["pixel_size_nm"]``), ``mask`` (planted deposit at pixel resolution:
        the fine grid's majority), ``truth``: ``kind``, ``coverage`` (planted area
        fraction), and per kind ``n``, ``radius_px``; ``whisker_width_um`` /
        ``whisker_length_um`` (means) and ``whiskers`` (per rod); ``mean_intercept_um``
        (ASTM: length of the rows and columns of pixel centres / planted boundaries
        they cross), ``mean_intercept_isotropic_um`` (π / (2 L_A), L_A the exact
        boundary length per area), ``grain_count``; ``void_fraction``, ``void_count``.

    Examples
    --------
    >>> sim = make_sem_morphology("continuous", seed=1, shape=(128, 128), n=5)
    >>> sim["image"].shape, sim["truth"]["void_count"], sim["truth"]["coverage"] > 0.9
    ((128, 128), 5, True)
    """
    if kind not in SEM_MORPHOLOGY_KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {SEM_MORPHOLOGY_KINDS}")
    rng = np.random.default_rng(seed)
    shape = (int(shape[0]), int(shape[1]))
    area_px = float(shape[0] * shape[1])
    px_um = pixel_size_nm / 1000.0
    truth: dict[str, Any] = {"kind": kind, "pixel_size_nm": float(pixel_size_nm)}
    if kind == "particles":
        r = float(params.get("radius_px", 8.0))
        disks = _disks(
            rng, shape, int(params.get("n", 120)), r, float(params.get("radius_sd_px", 2.0)), 2.0
        )
        fine = _disk_mask(shape, disks)
        level = np.where(fine, deposit_grey, substrate_grey)
        truth.update(
            n=len(disks),
            coverage=float(np.sum(np.pi * disks[:, 2] ** 2) / area_px),
            mean_diameter_um=float(2 * disks[:, 2].mean() * px_um),
        )
    elif kind == "whiskers":
        rods, fine = _rods(
            rng,
            shape,
            int(params.get("n", 40)),
            tuple(params.get("width_px", (3.0, 8.0))),
            tuple(params.get("length_px", (40.0, 160.0))),
            gap=3.0,
        )
        level = np.where(fine, deposit_grey, substrate_grey)
        truth.update(
            n=len(rods),
            coverage=float(np.sum(rods[:, 2] * rods[:, 3]) / area_px),
            whisker_width_um=float(rods[:, 3].mean() * px_um),
            whisker_length_um=float(rods[:, 2].mean() * px_um),
            whiskers=[
                {"length_um": float(r[2] * px_um), "width_um": float(r[3] * px_um)} for r in rods
            ],
        )
    elif kind == "granular":
        a_grain = float(params.get("grain_area_px", 900.0))
        bw = float(params.get("boundary_px", 2.0))
        n = max(int(rng.poisson(area_px / a_grain)), 4)
        seeds = rng.uniform([0, 0], shape, size=(n, 2))
        yy, xx = _fine_grid(shape)
        from scipy.spatial import cKDTree

        fy, fx = np.meshgrid(yy[:, 0], xx[0], indexing="ij")
        d, idx = cKDTree(seeds).query(np.column_stack([fy.ravel(), fx.ravel()]), k=2)
        # distance to the bisector of the two nearest seeds: (d2² − d1²) / (2 |s1 − s2|)
        sep = np.linalg.norm(seeds[idx[:, 0]] - seeds[idx[:, 1]], axis=1)
        to_edge = ((d[:, 1] ** 2 - d[:, 0] ** 2) / (2 * sep)).reshape(fy.shape)
        grain = idx[:, 0].reshape(fy.shape)
        fine = to_edge > bw / 2
        greys = deposit_grey + rng.uniform(-15, 15, n)
        level = np.where(fine, greys[grain], substrate_grey)
        segs = _voronoi_edges(seeds, shape)
        l_a = float(np.sum(np.hypot(*(segs[:, 0] - segs[:, 1]).T))) / area_px  # 1/px
        # the planted boundaries crossed by the rows and columns of pixel centres (the
        # test lines of an ASTM line-intercept count on this image)
        n_cross = _line_crossings(segs, 0) + _line_crossings(segs, 1)
        truth.update(
            grain_count=n,
            coverage=float(fine.mean()),
            boundary_length_per_area_per_um=float(l_a / px_um),
            mean_intercept_um=float(2 * area_px / n_cross * px_um),
            mean_intercept_isotropic_um=float(np.pi / (2 * l_a) * px_um),
        )
    else:  # continuous film with voids
        disks = _disks(
            rng,
            shape,
            int(params.get("n", 60)),
            float(params.get("radius_px", 10.0)),
            float(params.get("radius_sd_px", 3.0)),
            2.0,
        )
        fine = ~_disk_mask(shape, disks)
        level = np.where(fine, deposit_grey, substrate_grey)
        vf = float(np.sum(np.pi * disks[:, 2] ** 2) / area_px)
        truth.update(
            void_count=len(disks),
            void_fraction=vf,
            coverage=1.0 - vf,
            void_mean_diameter_um=float(2 * disks[:, 2].mean() * px_um),
        )
    img = _render(level.astype(float), shape, rng, beam_sigma_px, noise_sd)
    s = _SUPER
    mask = fine.reshape(shape[0], s, shape[1], s).mean(axis=(1, 3)) > 0.5
    coords = {"y": np.arange(shape[0]) * px_um, "x": np.arange(shape[1]) * px_um}
    image = xr.DataArray(
        img,
        dims=("y", "x"),
        coords=coords,
        attrs={"pixel_size_nm": float(pixel_size_nm), "mode": "sem", "units": "counts"},
        name="intensity",
    )
    return {"image": image, "mask": mask, "truth": truth}
