"""One streaming pass over a segmented volume: phase volumes, porosity, profile through
depth, surface area (marching cubes and a Crofton estimate) and connected Li components.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from platescope._errors import InputError
from platescope.models._faraday import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.volume._segment import phase_block, smooth_halo
from platescope.volume._stream import iter_slabs, raw_data

__all__ = ["COLLECTOR_FACES", "li_charge", "measure_phases", "mc_area_block"]

#: Accepted current-collector faces: axis letter + 0 (low end) or 1 (high end).
COLLECTOR_FACES = ("z0", "z1", "y0", "y1", "x0", "x1")
_AXIS = {"z": 0, "y": 1, "x": 2}
_STRUCT26 = np.ones((3, 3, 3), dtype=bool)


def li_charge(
    volume_um3: float, *, molar_volume_cm3_mol: float = LI_MOLAR_VOLUME_CM3_MOL, n: int = 1
) -> float:
    """Charge equivalent to a Li volume, Q = ρ V z F / M = V z F / V_M, in coulombs.

    Parameters
    ----------
    volume_um3 : float
        Metal volume, µm³.
    molar_volume_cm3_mol : float
        Molar volume V_M = M/ρ, cm³ mol⁻¹ (Li: 13.0).
    n : int
        Electrons per ion (z).

    Returns
    -------
    float
        Charge, C.

    Examples
    --------
    >>> round(li_charge(13.0e12), 2) == round(96485.33212, 2)  # 13 cm³ of Li = 1 mol
    True
    """
    return float(volume_um3) * 1e-12 / molar_volume_cm3_mol * n * FARADAY_C_MOL


def mc_area_block(
    field: np.ndarray,
    *,
    level: float,
    spacing: Sequence[float],
    z_offset: int,
    z_lo: float,
    z_hi: float,
    shape_yx: Sequence[int],
) -> float:
    """Area (µm²) of the ``level`` isosurface of ``field`` by marching cubes, clipped to a box.

    ``field`` slices are volume slices ``z_offset, z_offset + 1, …``; y and x are padded
    by one edge-replicated voxel so surfaces meeting the lateral faces are closed up to the
    face; a triangle counts when its centroid lies in ``z ∈ [z_lo, z_hi)`` (voxel index
    units) and inside the lateral box ``[-0.5, n - 0.5]``.

    >>> import numpy as np
    >>> f = np.zeros((6, 8, 8)); f[:3] = 1.0          # a flat interface at z = 2.5
    >>> round(mc_area_block(f, level=0.5, spacing=(1, 1, 1), z_offset=0, z_lo=0, z_hi=6,
    ...                     shape_yx=(8, 8)), 6)
    64.0
    """
    from skimage.measure import marching_cubes

    f = np.pad(np.asarray(field, dtype=np.float32), ((0, 0), (1, 1), (1, 1)), mode="edge")
    if f.shape[0] < 2 or not (f.min() < level < f.max()):
        return 0.0
    verts, faces, _, _ = marching_cubes(f, level=level, allow_degenerate=False)
    tri = verts[faces]  # (n, 3, 3) in voxel index units of the padded block
    cen = tri.mean(axis=1)
    cz = cen[:, 0] + z_offset
    cy, cx = cen[:, 1] - 1.0, cen[:, 2] - 1.0
    keep = (
        (cz >= z_lo)
        & (cz < z_hi)
        & (cy >= -0.5)
        & (cy <= shape_yx[0] - 0.5)
        & (cx >= -0.5)
        & (cx <= shape_yx[1] - 0.5)
    )
    t = tri[keep] * np.asarray(spacing, dtype=float)
    cross = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    return float(0.5 * np.sqrt((cross**2).sum(axis=1)).sum())


class _UnionFind:
    def __init__(self) -> None:
        self.parent = np.zeros(1, dtype=np.int64)

    def grow(self, n: int) -> None:
        old = self.parent.size
        self.parent = np.concatenate([self.parent, np.arange(old, old + n, dtype=np.int64)])

    def find(self, a: int) -> int:
        p = self.parent
        root = a
        while p[root] != root:
            root = p[root]
        while p[a] != root:
            p[a], a = root, p[a]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def roots(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(self.parent.size)], dtype=np.int64)


def _pairs_26(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unique (label in a, label in b) pairs of 26-neighbours between two adjacent slices."""
    out = []
    ny, nx = a.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            sa = a[max(0, dy) : ny + min(0, dy), max(0, dx) : nx + min(0, dx)]
            sb = b[max(0, -dy) : ny + min(0, -dy), max(0, -dx) : nx + min(0, -dx)]
            m = (sa > 0) & (sb > 0)
            if m.any():
                out.append(np.stack([sa[m], sb[m]], axis=1))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(out), axis=0)


def measure_phases(
    volume,
    *,
    phase_names: Sequence[str],
    thresholds: Sequence[float] | None = None,
    levels: Sequence[float] | None = None,
    label_map: Mapping[Any, Any] | None = None,
    smooth_sigma_vox: float = 1.0,
    area_sigma_vox: float = 1.0,
    voxel_size_um: Sequence[float] | None = None,
    collector_face: str | None = "z0",
    li_phase: str = "li",
    pore_phase: str = "pore",
    slab_z: int | None = None,
) -> dict[str, Any]:
    """Stream once through a volume: phase volumes, porosity, depth profile, Li surface
    area and connected Li components (isolated pieces = dead-Li candidates).

    Parameters
    ----------
    volume : xarray.DataArray or array_like
        Grey or label volume ``(z, y, x)``, possibly dask-backed.
    phase_names : sequence of str
        Name of each phase index (grey: in increasing grey level). A phase named
        ``"outside"`` is excluded from the region of interest (ROI).
    thresholds, levels : sequence of float, optional
        Grey thresholds and class levels (from :func:`grey_thresholds`); or
    label_map : mapping, optional
        Label value → phase index (from :func:`label_phase_map`).
    smooth_sigma_vox : float
        Gaussian smoothing before thresholding a grey volume, voxels (0 = none).
    area_sigma_vox : float
        Gaussian smoothing of the Li indicator before marching cubes when the Li phase
        is not the top grey class of a two-phase volume (labels, 3+ phases), voxels.
    voxel_size_um : (float, float, float), optional
        ``(dz, dy, dx)`` µm (default ``volume.attrs["voxel_size_um"]``).
    collector_face : {"z0", "z1", "y0", "y1", "x0", "x1"} or None
        The face of the volume lying on the current collector; Li components that do
        not touch it are isolated. None: no isolation test.
    li_phase, pore_phase : str
        Names of the Li and pore phases.
    slab_z : int, optional
        Slices per slab (default: ~16 MiB float slabs).

    Returns
    -------
    dict
        Counts, fractions, volumes (µm³), porosity, Li charge, areas (µm²), profile and
        components; see :func:`platescope.volume.analyze_volume` for the keys.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((10, 10, 10), np.uint8); v[:4] = 1        # a 4-voxel Li film on z0
    >>> m = measure_phases(v, phase_names=["pore", "li"], label_map={0: 0, 1: 1},
    ...                    voxel_size_um=(1, 1, 1))
    >>> m["porosity"], m["li_volume_um3"], m["components"]["count"], m["components"]["isolated_count"]
    (0.6, 400.0, 1, 0)
    """
    data = raw_data(volume)
    shape = tuple(int(s) for s in data.shape)
    if len(shape) != 3:
        raise InputError(None, f"the volume has shape {shape}", "give a (z, y, x) volume")
    vox = voxel_size_um or getattr(volume, "attrs", {}).get("voxel_size_um")
    if vox is None:
        raise InputError(None, "the volume carries no voxel size", "pass voxel_size_um")
    vox = tuple(float(v) for v in vox)
    names = [str(n) for n in phase_names]
    if li_phase not in names:
        raise InputError(
            None, f"no phase is named {li_phase!r} (phases: {names})", "name the Li phase 'li'"
        )
    li = names.index(li_phase)
    pore = names.index(pore_phase) if pore_phase in names else None
    outside = names.index("outside") if "outside" in names else None
    if collector_face is not None and collector_face not in COLLECTOR_FACES:
        raise InputError(
            None,
            f"collector_face={collector_face!r} is not a face of the volume",
            f"use one of {', '.join(COLLECTOR_FACES)}",
        )
    depth_axis = _AXIS[collector_face[0]] if collector_face else 0
    grey2 = label_map is None and len(names) == 2 and li == 1 and levels is not None
    halo = max(
        smooth_halo(smooth_sigma_vox if label_map is None else 0.0), smooth_halo(area_sigma_vox)
    )
    nph = len(names)
    counts = np.zeros(nph, dtype=np.int64)
    profile = np.zeros((shape[depth_axis], nph), dtype=np.int64)
    transitions = np.zeros(3, dtype=np.int64)
    area_mc = 0.0
    sens = np.zeros(2, dtype=np.int64)  # Li voxels at threshold ∓ 5 % of the contrast
    uf = _UnionFind()
    comp_sizes = np.zeros(1, dtype=np.int64)
    touch_collector = np.zeros(1, dtype=bool)
    touch_other = np.zeros(1, dtype=bool)
    prev_last = None
    n_labels = 0
    for z0, z1, lo, block in iter_slabs(data, slab_z=slab_z, halo=halo, extra_after=1):
        n = z1 - z0
        ph = phase_block(
            block,
            thresholds=thresholds,
            label_map=label_map,
            smooth_sigma_vox=smooth_sigma_vox if label_map is None else 0.0,
        )
        core = ph[lo : lo + n]
        nxt = ph[lo + n : lo + n + 1]
        counts += np.bincount(core.ravel(), minlength=nph)[:nph]
        if np.any(core >= nph):
            raise InputError(None, "a voxel fell in no phase", "give one name per phase")
        sum_axes = tuple(a for a in range(3) if a != depth_axis)
        for k in range(nph):
            per = (core == k).sum(axis=sum_axes)
            if depth_axis == 0:
                profile[z0:z1, k] += per
            else:
                profile[:, k] += per
        # Crofton / face count: Li ↔ non-Li changes along each axis, inside the volume
        m = core == li
        mz = np.concatenate([m, nxt == li]) if nxt.size else m
        transitions[0] += int(np.count_nonzero(mz[1:] != mz[:-1]))
        transitions[1] += int(np.count_nonzero(m[:, 1:] != m[:, :-1]))
        transitions[2] += int(np.count_nonzero(m[:, :, 1:] != m[:, :, :-1]))
        # marching cubes between slices z0-1 (padded at 0) … z1 (padded at the end)
        if grey2:
            g = np.asarray(block, dtype=np.float32)
            if smooth_sigma_vox > 0:
                g = ndimage.gaussian_filter(g, smooth_sigma_vox, mode="nearest")
            field = (g - levels[0]) / (levels[1] - levels[0])
        else:
            ind = (ph == li).astype(np.float32)
            field = (
                ndimage.gaussian_filter(ind, area_sigma_vox, mode="nearest")
                if area_sigma_vox > 0
                else ind
            )
        fz = field[lo : lo + n + 1]
        first = z0 == 0
        last = z1 == shape[0]
        parts = [field[lo : lo + 1]] if first else []
        parts.append(fz)
        if last:
            parts.append(field[lo + n - 1 : lo + n])
        f_ext = np.concatenate(parts, axis=0)
        area_mc += mc_area_block(
            f_ext,
            level=0.5,
            spacing=vox,
            z_offset=z0 - (1 if first else 0),
            z_lo=-0.5 if first else z0,
            z_hi=shape[0] - 0.5 if last else z1,
            shape_yx=shape[1:],
        )
        if grey2:
            c = field[lo : lo + n]
            sens += [int(np.count_nonzero(c >= 0.45)), int(np.count_nonzero(c >= 0.55))]
        # connected Li components (26-connectivity), merged across slab borders
        lab, nl = ndimage.label(m, structure=_STRUCT26)
        lab = lab.astype(np.int64)
        lab[lab > 0] += n_labels
        uf.grow(nl)
        comp_sizes = np.concatenate(
            [comp_sizes, np.bincount(lab.ravel(), minlength=n_labels + nl + 1)[n_labels + 1 :]]
        )
        touch_collector = np.concatenate([touch_collector, np.zeros(nl, bool)])
        touch_other = np.concatenate([touch_other, np.zeros(nl, bool)])
        faces = {"y0": lab[:, 0, :], "y1": lab[:, -1, :], "x0": lab[:, :, 0], "x1": lab[:, :, -1]}
        if first:
            faces["z0"] = lab[0]
        if last:
            faces["z1"] = lab[-1]
        for name, arr in faces.items():
            ids = np.unique(arr[arr > 0])
            if name == collector_face:
                touch_collector[ids] = True
            else:
                touch_other[ids] = True
        if prev_last is not None:
            for a, b in _pairs_26(prev_last, lab[0]):
                uf.union(int(a), int(b))
        prev_last = lab[-1]
        n_labels += nl
    roots = uf.roots()
    uniq, inv = np.unique(roots[1:], return_inverse=True)
    sizes = np.bincount(inv, weights=comp_sizes[1:], minlength=uniq.size).astype(np.int64)
    coll = np.bincount(inv, weights=touch_collector[1:], minlength=uniq.size) > 0
    other = np.bincount(inv, weights=touch_other[1:], minlength=uniq.size) > 0
    dv = vox[0] * vox[1] * vox[2]
    roi = int(counts.sum() - (counts[outside] if outside is not None else 0))
    li_vol = float(counts[li] * dv)
    face_area = (
        transitions[0] * vox[1] * vox[2]
        + transitions[1] * vox[0] * vox[2]
        + transitions[2] * vox[0] * vox[1]
    )
    roi_vol = roi * dv
    layer_roi = profile.sum(axis=1) - (profile[:, outside] if outside is not None else 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        layer_frac = profile / layer_roi[:, None]
    depth = np.arange(shape[depth_axis]) * vox[depth_axis]
    if collector_face and collector_face.endswith("1"):
        depth, layer_frac = depth, layer_frac[::-1]
    lateral = [vox[a] * shape[a] for a in range(3) if a != depth_axis]
    collector_area_cm2 = lateral[0] * lateral[1] * 1e-8
    q = li_charge(li_vol)
    out: dict[str, Any] = {
        "shape": list(shape),
        "voxel_size_um": list(vox),
        "phases": names,
        "phase_voxels": {nm: int(c) for nm, c in zip(names, counts, strict=True)},
        "phase_volume_um3": {nm: float(c * dv) for nm, c in zip(names, counts, strict=True)},
        "phase_fraction": {
            nm: (float(c / roi) if roi else None)
            for nm, c in zip(names, counts, strict=True)
            if nm != "outside"
        },
        "roi_volume_um3": float(roi_vol),
        "porosity": float(counts[pore] / roi) if pore is not None and roi else None,
        "li_volume_um3": li_vol,
        "li_charge_C": q,
        "li_charge_mAh": q / 3.6,
        "collector_area_cm2": float(collector_area_cm2),
        "li_areal_capacity_mAh_cm2": q / 3.6 / collector_area_cm2 if collector_face else None,
        "li_surface_area_um2": float(area_mc),
        "li_surface_area_crofton_um2": float(2.0 / 3.0 * face_area),
        "li_surface_area_faces_um2": float(face_area),
        "specific_surface_area_um_inv": float(area_mc / roi_vol) if roi_vol else None,
        "li_surface_to_volume_um_inv": float(area_mc / li_vol) if li_vol else None,
        "profile": {
            "axis": "zyx"[depth_axis],
            "depth_um": depth.tolist(),
            "porosity": (layer_frac[:, pore].tolist() if pore is not None else None),
            "li_fraction": layer_frac[:, li].tolist(),
        },
    }
    if grey2:
        lo_v, hi_v = sens * dv
        out["li_volume_threshold_range_um3"] = [float(hi_v), float(lo_v)]
    comp: dict[str, Any] = {
        "connectivity": 26,
        "count": int(uniq.size),
        "volumes_um3": (sizes * dv).tolist(),
    }
    if collector_face:
        iso = ~coll
        comp.update(
            {
                "collector_face": collector_face,
                "isolated_count": int(iso.sum()),
                "isolated_volume_um3": float(sizes[iso].sum() * dv),
                "isolated_fraction_of_li": float(sizes[iso].sum() / counts[li])
                if counts[li]
                else None,
                "isolated_touching_other_faces": int((iso & other).sum()),
                "isolated": iso.tolist(),
                "touches_other_faces": other.tolist(),
            }
        )
    else:
        comp.update({"isolated_count": None, "isolated_count_reason": "no collector_face given"})
    out["components"] = comp
    return out
