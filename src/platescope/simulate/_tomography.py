"""The ``tomography`` scenario: an X-ray tomogram of Li deposits on a current collector.

Li deposits are overlapping spheres sitting on (and cut by) the current-collector plane
at the ``z0`` face of the volume, pores between them, plus optional small isolated Li
pieces floating in the pores (dead-Li candidates). The grey volume is the partial-volume
occupancy (2 × 2 × 2 supersampled per voxel) blurred by a Gaussian PSF, with Gaussian
noise, as uint16. Below the collector plane the occupancy is mirrored (the volume is
cropped at the collector surface).

Truth (``truth/truth.json``, key ``tomography``) is computed on a grid twice as fine as
the voxels from the exact signed distance to the spheres, independent of the analysis:
porosity and Li volume (partial-volume sum), the Li/pore interface area inside the box
(marching cubes on the exact signed distance; collector contact and box faces excluded),
connected components from the sphere-overlap graph, isolated pieces and their volume,
the volume-weighted mean local thickness (largest planted sphere covering each point).

Placement rules keep the topology unambiguous at the voxel size: two spheres either
overlap by ≥ 1.5 voxels or leave a gap ≥ 3 voxels; the same with the collector plane;
overlap lenses lie ≥ 2 voxels inside the box.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import platescope
from platescope.simulate._common import (
    Param,
    atomic_write_text,
    atomic_write_with,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
)

__all__ = ["PARAMETERS", "make_tomography", "tomography", "write_volume_tiff"]

SCENARIO = "tomography"
_PORE_GREY, _LI_GREY, _GREY_SCALE = 0.25, 0.75, 40000.0

PARAMETERS: dict[str, Param] = {
    "size_xy_px": Param(160, int, "lateral size of the volume, voxels", 32, 2048),
    "size_z_px": Param(80, int, "depth of the volume (normal to the collector), voxels", 16, 2048),
    "voxel_size_um": Param(0.4, float, "isotropic voxel size, µm", 0.01, 100.0, True),
    "porosity": Param(0.45, float, "target pore fraction of the Boolean sphere model", 0.15, 0.9),
    "radius_mean_um": Param(7.0, float, "mean deposit sphere radius, µm", 0.1, 1000.0, True),
    "radius_cv": Param(0.2, float, "coefficient of variation of the radii (lognormal)", 0.0, 0.6),
    "n_isolated": Param(3, int, "isolated Li pieces (small spheres touching nothing)", 0, 50),
    "isolated_radius_um": Param(
        2.5, float, "mean radius of the isolated pieces, µm", 0.05, 100.0, True
    ),
    "psf_sigma_vox": Param(1.0, float, "Gaussian blur (PSF) sd, voxels", 0.0, 5.0),
    "noise_sd": Param(0.06, float, "Gaussian noise sd (pore 0.25, Li 0.75 grey)", 0.0, 0.5),
    "file_format": Param(
        "imagej",
        str,
        "volume file: imagej (ImageJ TIFF) or ome (OME-TIFF)",
        choices=("imagej", "ome"),
    ),
}


def _positions(n: int, voxel: float) -> np.ndarray:
    """Voxel-centre coordinates, µm (first centre at 0; the box starts at −voxel/2)."""
    return np.arange(n) * voxel


def _sdf_grid(spheres: np.ndarray, zc, yc, xc, *, cap: float):
    """Signed distance to the union of spheres on a grid, nearest-sphere index and the
    largest covering sphere diameter (0 outside); values beyond ``cap`` are clamped."""
    shape = (zc.size, yc.size, xc.size)
    sdf = np.full(shape, cap, dtype=np.float32)
    owner = np.full(shape, -1, dtype=np.int32)
    dmax = np.zeros(shape, dtype=np.float32)
    for i, (cz, cy, cx, r) in enumerate(spheres):
        reach = r + cap
        sl = []
        for c, ax in ((cz, zc), (cy, yc), (cx, xc)):
            a, b = np.searchsorted(ax, [c - reach, c + reach])
            sl.append(slice(int(a), int(b)))
        if any(s.start >= s.stop for s in sl):
            continue
        dz = (zc[sl[0]] - cz)[:, None, None]
        dy = (yc[sl[1]] - cy)[None, :, None]
        dx = (xc[sl[2]] - cx)[None, None, :]
        d = (np.sqrt(dz * dz + dy * dy + dx * dx) - r).astype(np.float32)
        sub = sdf[tuple(sl)]
        better = d < sub
        sub[better] = d[better]
        owner[tuple(sl)][better] = i
        dm = dmax[tuple(sl)]
        np.maximum(dm, np.where(d <= 0, np.float32(2 * r), np.float32(0)), out=dm)
    return sdf, owner, dmax


def _place_spheres(rng, p: dict) -> tuple[np.ndarray, int]:
    v = p["voxel_size_um"]
    lz, lxy = p["size_z_px"] * v, p["size_xy_px"] * v
    box_lo = -0.5 * v
    box_hi = np.array([lz, lxy, lxy]) - 0.5 * v
    rm, cv = p["radius_mean_um"], p["radius_cv"]
    s2 = math.log(1 + cv**2)
    mean_vol = 4 / 3 * math.pi * rm**3 * math.exp(3 * s2)  # E[r³] of the lognormal
    n_target = int(round(-math.log(p["porosity"]) * lz * lxy * lxy / mean_vol))
    spheres: list[tuple[float, float, float, float]] = []

    def ok(c: np.ndarray, r: float) -> bool:
        gap_c = c[0] - r - box_lo
        if -1.5 * v < gap_c < 3.0 * v:
            return False
        if not spheres:
            return True
        arr = np.asarray(spheres)
        d = np.sqrt(((arr[:, :3] - c) ** 2).sum(axis=1))
        gap = d - r - arr[:, 3]
        if np.any((gap > -1.5 * v) & (gap < 3.0 * v)):
            return False
        over = gap <= -1.5 * v
        for cj, rj, dj in zip(arr[over, :3], arr[over, 3], d[over], strict=True):
            if dj < 1e-9:
                return False
            t = (dj * dj + r * r - rj * rj) / (2 * dj)
            lens = c + (cj - c) * (t / dj)
            if np.any(lens < box_lo + 2 * v) or np.any(lens > box_hi - 2 * v):
                return False
        return True

    tries = 0
    while len(spheres) < n_target and tries < 200 * max(n_target, 1):
        tries += 1
        r = float(rm * math.exp(rng.normal(-0.5 * s2, math.sqrt(s2))))
        c = np.array(
            [
                rng.uniform(box_lo - 0.5 * r, box_hi[0]),
                rng.uniform(0, box_hi[1]),
                rng.uniform(0, box_hi[2]),
            ]
        )
        if ok(c, r):
            spheres.append((c[0], c[1], c[2], r))
    n_main = len(spheres)
    placed = 0
    while placed < p["n_isolated"] and tries < 400 * max(n_target, 1) + 20000:
        tries += 1
        r = float(p["isolated_radius_um"] * rng.uniform(0.8, 1.2))
        c = np.array(
            [
                rng.uniform(r + 4 * v, box_hi[0] - r),
                rng.uniform(r, box_hi[1] - r),
                rng.uniform(r, box_hi[2] - r),
            ]
        )
        arr = np.asarray(spheres)
        gap = (
            np.sqrt(((arr[:, :3] - c) ** 2).sum(axis=1)) - r - arr[:, 3]
            if spheres
            else np.array([np.inf])
        )
        if np.all(gap >= 3.0 * v):
            spheres.append((c[0], c[1], c[2], r))
            placed += 1
    out = np.asarray(spheres, dtype=float).reshape(-1, 4)
    return out, n_main


def _components(spheres: np.ndarray, voxel: float):
    n = len(spheres)
    c, r = spheres[:, :3], spheres[:, 3]
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2))
    adj = (d - r[:, None] - r[None, :]) < 0
    np.fill_diagonal(adj, False)
    i, j = np.nonzero(adj)
    ncomp, lab = connected_components(
        coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)), directed=False
    )
    on_collector = (c[:, 0] - r) < -0.5 * voxel
    comp_on = np.zeros(ncomp, dtype=bool)
    np.logical_or.at(comp_on, lab, on_collector)
    return ncomp, lab, comp_on


def _truth(spheres: np.ndarray, p: dict) -> dict[str, Any]:
    from platescope.volume._measure import li_charge, mc_area_block

    v = p["voxel_size_um"]
    nz, nxy = p["size_z_px"], p["size_xy_px"]
    f = 2
    h = v / f
    zf = -0.5 * v + (np.arange(nz * f) + 0.5) * h
    yf = -0.5 * v + (np.arange(nxy * f) + 0.5) * h
    ncomp, lab, comp_on = _components(spheres, v)
    comp_vol = np.zeros(ncomp)
    li_vol = 0.0
    area = 0.0
    lt_sum = lt_w = 0.0
    step = 16
    nzf = zf.size
    for a in range(0, nzf, step):
        b = min(nzf, a + step)
        lo_i = a - 1 if a > 0 else a
        hi_i = min(nzf, b + 1)
        sdf, owner, dmax = _sdf_grid(spheres, zf[lo_i:hi_i], yf, yf, cap=4 * h)
        core = slice(a - lo_i, a - lo_i + (b - a))
        occ = np.clip(0.5 - sdf[core] / h, 0, 1).astype(np.float64)
        li_vol += occ.sum() * h**3
        own = owner[core]
        m = own >= 0
        comp_vol += np.bincount(lab[own[m]], weights=occ[m], minlength=ncomp) * h**3
        inside = sdf[core] <= 0
        lt_sum += float(dmax[core][inside].sum())
        lt_w += int(inside.sum())
        # marching cubes over cubes with lower slice in [a, b) (+ the box faces)
        first, last = a == 0, b == nzf
        fld = -sdf[a - lo_i : a - lo_i + (b - a) + 1]
        parts = ([fld[:1]] if first else []) + [fld] + ([fld[-1:]] if last else [])
        fext = np.concatenate(parts, axis=0)
        area += mc_area_block(
            fext,
            level=0.0,
            spacing=(h, h, h),
            z_offset=a - (1 if first else 0),
            z_lo=-0.5 if first else a,
            z_hi=nzf - 0.5 if last else b,
            shape_yx=(yf.size, yf.size),
        )
    box_vol = (nz * v) * (nxy * v) ** 2
    iso = ~comp_on
    radii = spheres[:, 3]
    return {
        "porosity": float(1.0 - li_vol / box_vol),
        "li_volume_um3": float(li_vol),
        "li_charge_C": li_charge(li_vol),
        "li_surface_area_um2": float(area),
        "specific_surface_area_um_inv": float(area / box_vol),
        "roi_volume_um3": box_vol,
        "collector_area_cm2": (nxy * v) ** 2 * 1e-8,
        "li_local_thickness": {"mean_um": lt_sum / lt_w if lt_w else None},
        "components": {
            "count": int(ncomp),
            "isolated_count": int(iso.sum()),
            "isolated_volume_um3": float(comp_vol[iso].sum()),
        },
        "n_spheres": int(len(spheres)),
        "radius_mean_um": float(radii.mean()) if radii.size else None,
    }


def _render(rng, spheres: np.ndarray, p: dict) -> np.ndarray:
    v = p["voxel_size_um"]
    nz, nxy = p["size_z_px"], p["size_xy_px"]
    sig = p["psf_sigma_vox"]
    pad = int(math.ceil(4 * sig)) + 1
    f = 2
    h = v / f
    # supersampled occupancy of the padded box (laterally and above: real geometry)
    zf = -0.5 * v + (np.arange(nz * f) + 0.5) * h
    zf = np.concatenate([zf, zf[-1] + h * np.arange(1, pad * f + 1)])
    yf = -0.5 * v - pad * v + (np.arange((nxy + 2 * pad) * f) + 0.5) * h
    occ = np.zeros((nz + pad, nxy + 2 * pad, nxy + 2 * pad), dtype=np.float32)
    step = 16
    for a in range(0, zf.size, step):
        b = min(zf.size, a + step)
        sdf, _, _ = _sdf_grid(spheres, zf[a:b], yf, yf, cap=2 * h)
        o = np.clip(0.5 - sdf / h, 0, 1)
        o = o.reshape((b - a) // f, f, o.shape[1] // f, f, o.shape[2] // f, f).mean(axis=(1, 3, 5))
        occ[a // f : b // f] = o
    occ = np.concatenate([occ[:pad][::-1], occ], axis=0)  # mirror below the collector
    if sig > 0:
        occ = ndimage.gaussian_filter(occ, sig, mode="nearest")
    occ = occ[pad : pad + nz, pad : pad + nxy, pad : pad + nxy]
    grey = _PORE_GREY + (_LI_GREY - _PORE_GREY) * occ
    grey = grey + rng.normal(0.0, p["noise_sd"], grey.shape)
    return np.clip(np.rint(grey * _GREY_SCALE), 0, 65535).astype(np.uint16)


def make_tomography(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate a grey tomogram of Li deposits on a current collector, with truth.

    Parameters
    ----------
    seed : int
        Random seed (same seed + parameters → identical output).
    **params
        Keys of :data:`PARAMETERS`.

    Returns
    -------
    dict
        ``volume`` uint16 ``(z, y, x)`` (collector at the z0 face), ``voxel_size_um``,
        ``spheres`` (N × 4: z, y, x, r in µm; the last ``n_isolated`` are the isolated
        pieces), ``truth`` (the analysis keys) and ``parameters``.

    Examples
    --------
    >>> sim = make_tomography(seed=1, size_xy_px=40, size_z_px=20, radius_mean_um=2.0)
    >>> sim["volume"].shape, 0 < sim["truth"]["porosity"] < 1
    ((20, 40, 40), True)
    """
    p = resolve_params(PARAMETERS, params)
    if p["file_format"] not in ("imagej", "ome"):
        from platescope._errors import InputError

        raise InputError(None, f"file_format={p['file_format']!r}", "use imagej or ome")
    rng_geo, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(2)
    )
    spheres, n_main = _place_spheres(rng_geo, p)
    truth = _truth(spheres, p)
    volume = _render(rng_noise, spheres, p)
    truth["n_isolated_planted"] = int(len(spheres) - n_main)
    return {
        "volume": volume,
        "voxel_size_um": p["voxel_size_um"],
        "spheres": spheres,
        "truth": truth,
        "parameters": dict(p),
    }


def write_volume_tiff(
    path, volume: np.ndarray, *, voxel_size_um: float, file_format: str = "imagej"
) -> Path:
    """Write a ``(z, y, x)`` volume as an ImageJ hyperstack (``spacing``, ``unit``,
    resolution) or an OME-TIFF (``PhysicalSizeX/Y/Z`` in µm), atomically.

    >>> import tempfile, numpy as np
    >>> p = write_volume_tiff(tempfile.mkdtemp() + "/v.tif", np.zeros((3, 4, 5), np.uint16),
    ...                       voxel_size_um=0.5)
    >>> p.name
    'v.tif'
    """
    import tifffile

    v = float(voxel_size_um)
    if file_format == "ome":
        meta = {
            "axes": "ZYX",
            "PhysicalSizeX": v,
            "PhysicalSizeY": v,
            "PhysicalSizeZ": v,
            "PhysicalSizeXUnit": "µm",
            "PhysicalSizeYUnit": "µm",
            "PhysicalSizeZUnit": "µm",
        }
        return atomic_write_with(
            path,
            lambda tmp: tifffile.imwrite(
                tmp, volume, ome=True, photometric="minisblack", metadata=meta
            ),
        )
    return atomic_write_with(
        path,
        lambda tmp: tifffile.imwrite(
            tmp,
            volume,
            imagej=True,
            photometric="minisblack",
            resolution=(1 / v, 1 / v),
            metadata={"axes": "ZYX", "spacing": v, "unit": "um"},
        ),
    )


@register(SCENARIO, PARAMETERS)
def tomography(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated tomogram of Li deposits, ``experiment.toml`` and ``truth/``.

    Files: ``volume.tif`` (ImageJ hyperstack or OME-TIFF with the voxel size),
    ``experiment.toml`` (``[volume]`` with ``path``, ``collector_face = "z0"`` and
    ``transport_axis = "z"``), ``truth/truth.json`` (key ``tomography``) and
    ``truth/spheres.csv`` (z_um, y_um, x_um, radius_um, isolated). See
    :func:`make_tomography` for the model.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (:data:`PARAMETERS`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = tomography(tempfile.mkdtemp(), seed=3)  # doctest: +SKIP
    """
    p = resolve_params(PARAMETERS, params)
    out = prepare_output_dir(out, SCENARIO)
    sim = make_tomography(seed=seed, **params)
    name = "volume.tif"
    write_volume_tiff(
        out / name, sim["volume"], voxel_size_um=sim["voxel_size_um"], file_format=p["file_format"]
    )
    s = sim["spheres"]
    n_iso = sim["truth"]["n_isolated_planted"]
    flag = np.zeros(len(s), dtype=int)
    if n_iso:
        flag[-n_iso:] = 1
    rows = ["z_um,y_um,x_um,radius_um,isolated_piece"] + [
        f"{a:.6g},{b:.6g},{c:.6g},{r:.6g},{k}" for (a, b, c, r), k in zip(s, flag, strict=True)
    ]
    atomic_write_text(out / "truth" / "spheres.csv", "\n".join(rows) + "\n")
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": sim["parameters"],
        "inputs": input_hashes(out, [name]),
        "tomography": sim["truth"],
        "definitions": (
            "porosity = pore fraction of the whole volume; Li volume and interface area from "
            "the exact sphere geometry on a 2× finer grid; area excludes the collector contact "
            "and the box faces; components from the sphere-overlap graph, isolated = not "
            "touching the collector plane (z0 face)"
        ),
    }
    write_json_atomic(out / "truth" / "truth.json", truth)
    sections = {"volume": {"path": name, "collector_face": "z0", "transport_axis": "z"}}
    return write_experiment_toml(out, SCENARIO, seed, sections)
