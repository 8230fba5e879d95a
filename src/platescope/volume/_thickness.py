"""Local thickness (maximal inscribed sphere) and geometric tortuosity of a phase.

Local thickness: every voxel of the phase gets the diameter of the largest sphere that
fits in the phase and contains it (Hildebrand & Rüegsegger's definition), computed with
exact Euclidean distance transforms: for each radius r of a ladder (half-voxel
steps up to 12 voxels, then 4 % steps), the centres with distance ≥ r are dilated by
r (a second distance transform; a voxel counts as covered when its centre lies within
r + ½ voxel, the bound included, i.e. the voxel cube meets the sphere) and the covered
voxels get 2r. The transforms are the compiled separable ones of
:mod:`platescope.volume._thickness_kernel`; SciPy's ``distance_transform_edt`` without
numba (the same decisions).
Measured on digitised shapes (docs/tomography.md): balls of radius 6 / 15 voxels read
−9 % / −3 %, slabs of even width exact, of odd width 7 voxels +14 % (the centre voxel's
distance is rounded up).
Slabs are read with a halo of 2 r_max so the result equals the whole-volume one.

Geometric tortuosity: the shortest path through the phase (26-connected, steps of
1, √2, √3 voxels; :class:`skimage.graph.MCP_Geometric`) from every phase voxel of the
inlet face to the outlet face, divided by the straight distance. In memory (no slabs).

porespy (MIT) offers both but brings its own dependency tree and in-memory filters;
the two routines here are short, stream (local thickness) and are tested against
shapes with known answers, so porespy is not used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from platescope._errors import InputError
from platescope.volume._thickness_kernel import (
    distance_to_background_numba,
    ladder_thickness_numba,
)

__all__ = ["local_thickness_block", "geometric_tortuosity", "thickness_stats"]


def _radius_ladder(r_max: float, step: float) -> np.ndarray:
    """Radii: half-voxel steps up to 12 voxels, then 4 % steps (µm)."""
    out = list(np.arange(1, 25) * 0.5 * step)
    r = out[-1]
    while r < r_max:
        r *= 1.04
        out.append(r)
    return np.asarray([x for x in out if x <= r_max + 1e-9] or [step])


def local_thickness_block(
    mask: np.ndarray, *, voxel_size_um: Sequence[float], max_radius_um: float | None = None
) -> tuple[np.ndarray, bool]:
    """Local thickness (diameter, µm) of every ``True`` voxel of ``mask`` (0 elsewhere).

    Parameters
    ----------
    mask : ndarray of bool
        The phase, ``(z, y, x)``.
    voxel_size_um : (float, float, float)
        ``(dz, dy, dx)``, µm.
    max_radius_um : float, optional
        Largest sphere radius tried, µm (default: the largest distance in the mask).

    Returns
    -------
    thickness : ndarray of float32
        Diameters, µm.
    capped : bool
        Whether some distance exceeded ``max_radius_um``.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((1, 40, 40), bool); m[0, 10:20, :] = True   # a 10-voxel strip (2-D)
    >>> t, _ = local_thickness_block(np.repeat(m, 30, axis=0), voxel_size_um=(1, 1, 1))
    >>> float(np.median(t[t > 0]))
    10.0
    """
    vox = np.asarray(voxel_size_um, dtype=float)
    step = float(vox.min())
    out = np.zeros(mask.shape, dtype=np.float32)
    if not mask.any():
        return out, False
    dist = distance_to_background_numba(mask, vox)
    if dist is None:
        dist = ndimage.distance_transform_edt(mask, sampling=vox)
    d_max = float(dist.max())
    cap = d_max if max_radius_um is None else float(max_radius_um)
    capped = d_max > cap + step
    radii = _radius_ladder(max(cap, 0.5 * step), step)
    if not ladder_thickness_numba(mask, dist, radii, vox, out):
        for r in radii:
            centres = dist >= r - 1e-9
            if not centres.any():
                break
            reach = ndimage.distance_transform_edt(~centres, sampling=vox)
            out[(reach <= r + 0.5 * step + 1e-9 * step) & mask] = 2 * r
    out[mask & (out == 0)] = step  # thinner than one voxel
    return out, bool(capped)


def thickness_stats(
    values_um: np.ndarray, voxel_volume_um3: float, *, bins_um: np.ndarray | None = None
) -> dict[str, Any]:
    """Volume-weighted summary of local-thickness values (µm).

    >>> s = thickness_stats(np.array([2.0, 2.0, 4.0, 4.0]), 1.0)
    >>> s["mean_um"], s["median_um"]
    (3.0, 3.0)
    """
    v = np.asarray(values_um, dtype=float)
    if v.size == 0:
        return {"mean_um": None, "reason": "the phase is empty"}
    if bins_um is None:
        bins_um = np.linspace(0, v.max() * 1.05 + 1e-12, 41)
    hist, edges = np.histogram(v, bins=bins_um)
    q = np.percentile(v, [10, 50, 90])
    return {
        "mean_um": float(v.mean()),
        "median_um": float(q[1]),
        "d10_um": float(q[0]),
        "d90_um": float(q[2]),
        "histogram": {
            "edges_um": edges.tolist(),
            "volume_um3": (hist * voxel_volume_um3).tolist(),
        },
    }


def stream_local_thickness(
    mask_slabs: Callable[[int], Iterator[tuple[int, int, int, np.ndarray]]],
    *,
    voxel_size_um: Sequence[float],
    max_radius_um: float,
) -> tuple[np.ndarray, bool]:
    """Local-thickness values of all phase voxels, slab by slab (halo 2 r_max + 1).

    ``mask_slabs(halo)`` yields ``(z0, z1, lo, mask_block)`` like
    :func:`platescope.volume._stream.iter_slabs`.

    >>> import numpy as np
    >>> from platescope.volume._stream import iter_slabs
    >>> m = np.zeros((30, 30, 30), bool); m[:, 10:20, :] = True
    >>> vals, capped = stream_local_thickness(lambda h: iter_slabs(m, slab_z=8, halo=h),
    ...                                       voxel_size_um=(1, 1, 1), max_radius_um=8)
    >>> float(np.median(vals)), capped
    (10.0, False)
    """
    dz = float(voxel_size_um[0])
    halo = int(np.ceil(2 * max_radius_um / dz)) + 1
    parts = []
    capped = False
    for _z0, _z1, lo, block in mask_slabs(halo):
        n = _z1 - _z0
        t, c = local_thickness_block(
            block, voxel_size_um=voxel_size_um, max_radius_um=max_radius_um
        )
        capped |= c
        core = t[lo : lo + n]
        parts.append(core[block[lo : lo + n]])
    vals = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return vals, capped


def geometric_tortuosity(
    mask: np.ndarray, *, axis: int, voxel_size_um: Sequence[float], max_voxels: int = 64_000_000
) -> dict[str, Any]:
    """Geometric tortuosity of a phase along one axis (shortest paths through it).

    Parameters
    ----------
    mask : ndarray of bool
        The conducting phase (e.g. pores filled with electrolyte), ``(z, y, x)``.
    axis : int
        Transport axis (0, 1 or 2); paths run from the high face to the low face.
    voxel_size_um : (float, float, float)
        ``(dz, dy, dx)``, µm.
    max_voxels : int
        Larger volumes are refused (null with a reason): this runs in memory.

    Returns
    -------
    dict
        ``tortuosity`` (mean over reachable outlet voxels of path length / straight
        length, or None with ``reason``), ``tortuosity_sd``, ``percolating``,
        ``outlet_reached_fraction``, ``length_um``.

    Examples
    --------
    >>> import numpy as np
    >>> geometric_tortuosity(np.ones((10, 4, 4), bool), axis=0, voxel_size_um=(1, 1, 1))["tortuosity"]
    1.0
    """
    from skimage.graph import MCP_Geometric

    if mask.size > max_voxels:
        return {
            "tortuosity": None,
            "reason": f"the volume has {mask.size} voxels > max_voxels={max_voxels} (tortuosity runs in memory)",
        }
    if axis not in (0, 1, 2):
        raise InputError(None, f"transport axis {axis}", "use z, y or x")
    m = np.moveaxis(np.asarray(mask, bool), axis, 0)
    vox = np.asarray(voxel_size_um, dtype=float)
    vox = np.concatenate([[vox[axis]], np.delete(vox, axis)])
    n = m.shape[0]
    length = (n - 1) * vox[0]
    if n < 2:
        return {
            "tortuosity": None,
            "reason": "the volume is one voxel thick along the transport axis",
        }
    inlet = np.argwhere(m[-1])
    if inlet.size == 0 or not m[0].any():
        return {
            "tortuosity": None,
            "percolating": False,
            "reason": "the phase is absent from the inlet or outlet face",
            "length_um": length,
        }
    costs = np.where(m, 1.0, np.inf)
    mcp = MCP_Geometric(costs, fully_connected=True, sampling=tuple(vox))
    starts = [(n - 1, int(a), int(b)) for a, b in inlet]
    cum, _ = mcp.find_costs(starts)
    out_cost = cum[0][m[0]]
    reach = np.isfinite(out_cost)
    if not reach.any():
        return {
            "tortuosity": None,
            "percolating": False,
            "outlet_reached_fraction": 0.0,
            "reason": "the phase does not percolate along the transport axis",
            "length_um": length,
        }
    tau = out_cost[reach] / length
    return {
        "tortuosity": float(tau.mean()),
        "tortuosity_sd": float(tau.std(ddof=1)) if tau.size > 1 else None,
        "percolating": True,
        "outlet_reached_fraction": float(reach.mean()),
        "length_um": float(length),
    }
