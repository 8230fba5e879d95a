"""Post-mortem SEM forward model: Li nanoparticles on the SECCM footprint.

Pure functions: particle statistics from the current density, particle placement
(with deliberately touching pairs) and rendering of a secondary-electron image with
an FEI-style data bar.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import ndimage

__all__ = [
    "EDGE_RING_FRACTION",
    "SEM_DATABAR_ROWS",
    "SEM_IMAGE_SHAPE",
    "particle_targets",
    "place_particles",
    "render_sem",
]

#: Height × width of the SEM image part, pixels; the data bar is added below it.
SEM_IMAGE_SHAPE = (1024, 1536)
SEM_DATABAR_ROWS = 70
#: The "edge" ring is r ≥ (1 − EDGE_RING_FRACTION)·R (width = 20 % of the radius).
EDGE_RING_FRACTION = 0.2

# Anchors (j in mA cm⁻²) for the particle statistics, after the paper's Table 1 and
# edge/centre comparison, with sizes chosen so that the faradaic efficiency at the
# default duration (3·t_nuc) comes out near 0.15–0.2 as in the paper.
_ANCHOR_J = (0.20, 0.78, 3.82)
_DENSITY_CM2 = (1.1e9, 1.6e9, 2.5e9)
_MAIN_MEAN_NM = (59.0, 58.0, 45.0)
_MAIN_SD_NM = (14.0, 20.0, 18.0)
_BIG_FRACTION = (0.2, 0.0, 0.0)
_BIG_MEAN_NM = 92.0
_BIG_SD_NM = 35.0
_EDGE_DENSITY_RATIO = (1.13, 1.4, 2.1)
_EDGE_SIZE_FACTOR = 1.08
_MIN_DIAMETER_NM = 20.0


def _interp_logj(j, values, *, log_values=False):
    x = np.log(_ANCHOR_J)
    v = np.log(values) if log_values else np.asarray(values, float)
    out = float(np.interp(math.log(j), x, v))  # constant beyond the anchors
    return math.exp(out) if log_values else out


def particle_targets(current_density_mA_cm2: float) -> dict:
    """Particle statistics used to draw the SEM particles at a current density.

    Piecewise-linear in ln j between 0.20, 0.78 and 3.82 mA cm⁻² (constant outside).

    Returns
    -------
    dict
        ``density_cm2`` (cm⁻²), ``edge_density_ratio`` (edge/centre),
        ``populations``: list of ``(fraction, mean_nm, sd_nm)``.

    Examples
    --------
    >>> particle_targets(0.78)["density_cm2"]
    1600000000.0
    """
    j = float(current_density_mA_cm2)
    big = _interp_logj(j, _BIG_FRACTION)
    pops = [(1.0 - big, _interp_logj(j, _MAIN_MEAN_NM), _interp_logj(j, _MAIN_SD_NM))]
    if big > 0:
        pops.append((big, _BIG_MEAN_NM, _BIG_SD_NM))
    return {
        "density_cm2": round(_interp_logj(j, _DENSITY_CM2, log_values=True), 3),
        "edge_density_ratio": _interp_logj(j, _EDGE_DENSITY_RATIO),
        "populations": pops,
    }


def _draw_diameters(rng, n, populations):
    fr = np.array([p[0] for p in populations])
    comp = rng.choice(len(populations), size=n, p=fr / fr.sum())
    mean = np.array([p[1] for p in populations])[comp]
    sd = np.array([p[2] for p in populations])[comp]
    d = rng.normal(mean, sd)
    bad = d < _MIN_DIAMETER_NM
    while bad.any():  # truncated normal by redrawing
        d[bad] = rng.normal(mean[bad], sd[bad])
        bad = d < _MIN_DIAMETER_NM
    return d


def place_particles(
    rng: np.random.Generator,
    *,
    n_particles: int,
    radius_um: float,
    populations,
    edge_density_ratio: float,
    site_weight,
    size_factor,
    pair_fraction: float,
) -> pd.DataFrame:
    """Place particles in a disk (coordinates relative to its centre, µm).

    Singles are accepted with probability ∝ ``edge_density_ratio`` (outer ring) or 1
    (centre) times ``site_weight(x, y)`` (0–1), keep a gap of ≥ 20 % of the sum of
    radii from each other, and get diameters ``d0 · size_factor(x, y)``. A fraction
    ``pair_fraction`` of the particles is then added as partners overlapping an
    existing particle (centre distance 0.78–0.92 × the sum of radii), so that the
    pair forms one connected blob that only a watershed splits.

    Returns
    -------
    pandas.DataFrame
        ``dx_um``, ``dy_um`` (from the disk centre), ``diameter_nm``, ``paired``.
    """
    n_pairs = int(round(pair_fraction * n_particles / 2.0))  # each pair adds one partner
    n_single = n_particles - n_pairs
    r_edge = (1.0 - EDGE_RING_FRACTION) * radius_um
    xs, ys, ds = [], [], []
    max_w = max(edge_density_ratio, 1.0)
    attempts = 0
    while len(xs) < n_single and attempts < 200:
        attempts += 1
        m = 4 * (n_single - len(xs)) + 64
        r = radius_um * np.sqrt(rng.random(m))
        th = 2 * np.pi * rng.random(m)
        cx, cy = r * np.cos(th), r * np.sin(th)
        w = np.where(r >= r_edge, edge_density_ratio, 1.0) / max_w * site_weight(cx, cy)
        keep = rng.random(m) < w
        cx, cy = cx[keep], cy[keep]
        d = _draw_diameters(rng, cx.size, populations) * size_factor(cx, cy)
        d = np.where(np.hypot(cx, cy) >= r_edge, d * _EDGE_SIZE_FACTOR, d)
        for x, y, di in zip(cx, cy, d, strict=True):
            if len(xs) >= n_single:
                break
            rad = di * 5e-4  # nm diameter -> µm radius
            if math.hypot(x, y) + rad > radius_um:
                continue
            if xs:
                gap = np.hypot(np.asarray(xs) - x, np.asarray(ys) - y)
                if np.any(gap < 1.2 * (np.asarray(ds) * 5e-4 + rad)):
                    continue
            xs.append(x)
            ys.append(y)
            ds.append(di)
    paired = [False] * len(xs)
    n_single_placed = len(xs)
    hosts = rng.permutation(n_single_placed)
    n_added = 0
    for h in hosts:
        if n_added >= n_pairs:
            break
        x0, y0, d0 = xs[h], ys[h], ds[h]
        for _ in range(20):
            d1 = float(_draw_diameters(rng, 1, populations)[0]) * float(size_factor(x0, y0))
            dist = (d0 + d1) * 5e-4 * rng.uniform(0.78, 0.92)
            th = 2 * np.pi * rng.random()
            x1, y1 = x0 + dist * math.cos(th), y0 + dist * math.sin(th)
            rad = d1 * 5e-4
            if math.hypot(x1, y1) + rad > radius_um:
                continue
            others = np.ones(len(xs), bool)
            others[h] = False
            gap = np.hypot(np.asarray(xs)[others] - x1, np.asarray(ys)[others] - y1)
            if np.any(gap < 1.2 * (np.asarray(ds)[others] * 5e-4 + rad)):
                continue
            xs.append(x1)
            ys.append(y1)
            ds.append(d1)
            paired[h] = True
            paired.append(True)
            n_added += 1
            break
    return pd.DataFrame(
        {"dx_um": xs, "dy_um": ys, "diameter_nm": ds, "paired": paired},
        columns=["dx_um", "dy_um", "diameter_nm", "paired"],
    )


def render_sem(
    rng: np.random.Generator,
    particles: pd.DataFrame,
    *,
    pixel_size_nm: float,
    centre_x_um: float,
    centre_y_um: float,
    radius_um: float,
    noise_sd: float,
    shape: tuple[int, int] = SEM_IMAGE_SHAPE,
) -> np.ndarray:
    """Render the SE image (``shape``, default 1024 × 1536) plus a 70-row data bar, uint8.

    Background ~70 grey levels with a faint texture, the footprint a disk ~18 levels
    brighter with a soft edge, particles bright (≈ 180–225) with a brighter rim
    (edge effect of secondary electrons), then a Gaussian blur (σ = 1 px) and
    Gaussian noise of sd ``noise_sd``. Particle coordinates are ``x_um``/``y_um``
    (pixel index × pixel size).
    """
    h, w = (int(v) for v in shape)
    px_um = pixel_size_nm * 1e-3
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    img = 70.0 + 4.0 * _unit_field(rng, (h, w), 40.0)
    r = np.hypot(xx * px_um - centre_x_um, yy * px_um - centre_y_um)
    img += 18.0 * (1.0 - _smoothstep((r - radius_um) / (4 * px_um)))
    blob = np.zeros((h, w))
    for x_um, y_um, d_nm in particles[["x_um", "y_um", "diameter_nm"]].itertuples(index=False):
        rp = 0.5 * d_nm / pixel_size_nm
        cx, cy = x_um / px_um, y_um / px_um
        x0, x1 = max(int(cx - rp - 3), 0), min(int(cx + rp + 4), w)
        y0, y1 = max(int(cy - rp - 3), 0), min(int(cy + rp + 4), h)
        if x0 >= x1 or y0 >= y1:
            continue
        py, pxx = np.mgrid[y0:y1, x0:x1]
        rr = np.hypot(pxx - cx, py - cy) / rp
        peak = 170.0 + 0.5 * min(d_nm, 110.0)  # larger particles a bit brighter
        prof = np.where(rr <= 1.0, peak * (0.85 + 0.15 * np.clip(rr, 0, 1) ** 4), 0.0)
        sub = blob[y0:y1, x0:x1]
        np.maximum(sub, prof, out=sub)
    img = np.where(blob > 0, blob, img)
    img = ndimage.gaussian_filter(img, 1.0)
    img += rng.normal(0.0, noise_sd, img.shape) if noise_sd > 0 else 0.0
    full = np.empty((h + SEM_DATABAR_ROWS, w))
    full[:h] = img
    full[h:] = _databar(w, pixel_size_nm)
    return np.clip(np.rint(full), 0, 255).astype(np.uint8)


def _unit_field(rng, shape, sigma):
    """Smooth unit-sd texture: generated 8× coarser, then interpolated (cheap)."""
    coarse = ndimage.gaussian_filter(
        rng.standard_normal((shape[0] // 8 + 2, shape[1] // 8 + 2)), sigma / 8, mode="wrap"
    )
    z = ndimage.zoom(coarse, 8, order=1)[: shape[0], : shape[1]]
    return (z - z.mean()) / z.std()


def _smoothstep(x):
    return 0.5 * (1.0 + np.tanh(x))


def _databar(width, pixel_size_nm):
    """Dark grey band with white text-like blocks and a 1 µm (or 2 µm) scale bar."""
    bar = np.full((SEM_DATABAR_ROWS, width), 38.0)
    bar[:2] = 90.0  # separator line
    # text-like blocks: "HV  mag  WD  det  HFW" fields
    x = 20
    for length in (60, 70, 55, 80, 50, 75, 65):
        bar[14:24, x : x + length] = 235.0
        bar[40:50, x : x + int(length * 0.7)] = 235.0
        x += length + 45
    scale_um = 1.0 if 1000.0 / pixel_size_nm <= 0.25 * width else 0.5
    n_px = int(round(scale_um * 1000.0 / pixel_size_nm))
    x1 = width - 40
    bar[44:50, x1 - n_px : x1] = 255.0
    bar[14:24, x1 - n_px // 2 - 30 : x1 - n_px // 2 + 30] = 235.0  # its label
    return bar
