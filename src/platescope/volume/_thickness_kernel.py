"""Compiled local-thickness ladder: per radius, a separable squared distance transform
of the centres, thresholded at the sphere's reach.

For each radius r of the ladder the centres are the voxels whose distance to the
background is ≥ r; a voxel of the phase is covered when its centre lies within
``r + ½ voxel (+ 10⁻⁹ voxel)`` of a centre. The squared Euclidean distance to the
nearest centre is computed exactly the way Felzenszwalb & Huttenlocher (2012) separate
it: along x a forward and a backward scan (the nearest centre in the row), along y and
then z the lower envelope of the parabolas ``g(p) + (s·(q − p))²``. Only the comparison
with the reach is kept: the z pass writes ``2r`` into the thickness of covered phase
voxels. z planes (x and y passes) and y rows (z pass) are split among the kernels'
thread pool (:func:`platescope.optics._kernels._run_rows`); each kernel releases the GIL.

Per radius this costs ≈ 3 linear passes over the block instead of SciPy's exact
feature transform (which also builds the index arrays of the nearest feature); the
numpy/SciPy ladder in :mod:`platescope.volume._thickness` is the fallback and decides
every voxel the same way (``tests/volume/test_thickness_kernel.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["distance_to_background_numba", "ladder_thickness_numba"]

_INF = np.inf
_NO_DISTANCES = np.zeros((0, 0, 0))  # lines_z's ``sq_out`` when it thresholds
_NO_THICKNESS = np.zeros((0, 0, 0), np.float32)  # lines_z's ``out`` when it gives distances


def _build(numba):
    # The helper is a module global, not a closure cell: numba keys its on-disk cache
    # on the pickled closure variables, and a pickled dispatcher differs per process.
    global _lt_envelope
    from platescope.optics._kernels import _jit

    inf = _INF

    @_jit(numba, boundscheck=False)
    def _lt_envelope(f, n, w2, v, zb, out):
        # out[q] = min over finite f[p] of f[p] + w2·(q − p)²; +inf when none is finite
        k = -1
        for q in range(n):
            fq = f[q]
            if fq == inf:
                continue
            if k < 0:
                k = 0
                v[0] = q
                zb[0] = -inf
                zb[1] = inf
                continue
            s = 0.0
            while k >= 0:
                p = v[k]
                s = ((fq + w2 * q * q) - (f[p] + w2 * p * p)) / (2.0 * w2 * (q - p))
                if s <= zb[k]:
                    k -= 1
                else:
                    break
            k += 1
            v[k] = q
            zb[k] = s if k > 0 else -inf
            zb[k + 1] = inf
        if k < 0:
            for q in range(n):
                out[q] = inf
            return
        k = 0
        for q in range(n):
            while zb[k + 1] < q:
                k += 1
            p = v[k]
            d = q - p
            out[q] = f[p] + w2 * d * d

    @_jit(numba, boundscheck=False)
    def planes(dist, thr, sx2, sy2, z0, z1, g):
        # x pass (nearest centre in the row) and y pass (lower envelope) of planes z0..z1
        nz, ny, nx = dist.shape
        colf = np.empty(ny)
        colo = np.empty(ny)
        v = np.empty(ny, np.int64)
        zb = np.empty(ny + 1)
        for z in range(z0, z1):
            found = False
            for y in range(ny):
                row = dist[z, y]
                gr = g[z, y]
                last = -1
                for x in range(nx):
                    if row[x] >= thr:
                        last = x
                    if last >= 0:
                        d = x - last
                        gr[x] = d * d * sx2
                    else:
                        gr[x] = inf
                if last >= 0:
                    found = True
                    last = -1
                    for x in range(nx - 1, -1, -1):
                        if row[x] >= thr:
                            last = x
                        if last >= 0:
                            d = last - x
                            e = d * d * sx2
                            if e < gr[x]:
                                gr[x] = e
            if not found:
                continue
            for x in range(nx):
                for y in range(ny):
                    colf[y] = g[z, y, x]
                _lt_envelope(colf, ny, sy2, v, zb, colo)
                for y in range(ny):
                    g[z, y, x] = colo[y]

    @_jit(numba, boundscheck=False)
    def lines_z(g, mask, sz2, reach2, value, sq_out, y0, y1, out):
        # z pass (lower envelope) of rows y0..y1: with an empty ``sq_out`` the covered
        # phase voxels get ``value`` in ``out``, else ``sq_out`` gets the squared
        # distances themselves
        nz, ny, nx = g.shape
        distances = sq_out.shape[0] > 0
        panel = np.empty((nz, nx))
        colf = np.empty(nz)
        colo = np.empty(nz)
        v = np.empty(nz, np.int64)
        zb = np.empty(nz + 1)
        for y in range(y0, y1):
            for z in range(nz):
                src = g[z, y]
                dst = panel[z]
                for x in range(nx):
                    dst[x] = src[x]
            for x in range(nx):
                for z in range(nz):
                    colf[z] = panel[z, x]
                _lt_envelope(colf, nz, sz2, v, zb, colo)
                if distances:
                    for z in range(nz):
                        sq_out[z, y, x] = colo[z]
                else:
                    for z in range(nz):
                        if colo[z] <= reach2 and mask[z, y, x]:
                            out[z, y, x] = value

    return planes, lines_z


def _kernels():
    from platescope.optics import _kernels as k

    return k._compiled("local_thickness")(_build)()


def ladder_thickness_numba(
    mask: np.ndarray,
    dist: np.ndarray,
    radii: np.ndarray,
    voxel_size_um,
    out: np.ndarray,
) -> bool:
    """Fill ``out`` (float32, zeros) with ``2r`` of the largest ladder radius covering
    each phase voxel; False when the compiled back-end is not in use (``out`` untouched).

    ``mask`` bool ``(z, y, x)``; ``dist`` its distance transform (µm, float64);
    ``radii`` ascending (µm); ``voxel_size_um`` ``(dz, dy, dx)``.
    """
    from platescope.optics import _kernels as k

    if k.backend() != "numba":
        return False
    planes, lines_z = _kernels()
    mask = np.ascontiguousarray(mask, dtype=bool)
    dist = np.ascontiguousarray(dist, dtype=np.float64)
    dz, dy, dx = (float(s) for s in voxel_size_um)
    step = min(dz, dy, dx)
    nz, ny, nx = mask.shape
    g = np.empty(mask.shape, np.float64)
    d_max = float(dist.max()) if dist.size else 0.0
    for r in radii:
        thr = float(r) - 1e-9
        if d_max < thr:
            break
        reach = float(r) + 0.5 * step + 1e-9 * step
        k._run_rows(planes, dist, (thr, dx * dx, dy * dy), nz, g)
        args = (mask, dz * dz, reach * reach, np.float32(2 * r), _NO_DISTANCES)
        k._run_rows(lines_z, g, args, ny, out)
    return True


def distance_to_background_numba(mask: np.ndarray, voxel_size_um) -> np.ndarray | None:
    """Euclidean distance (µm, float64) of every voxel of ``mask`` to the nearest
    ``False`` voxel (0 there), like ``scipy.ndimage.distance_transform_edt(mask,
    sampling=voxel_size_um)`` up to the last bits (the same squared distance, summed in
    another order: ≤ 2e-15 relative in the tests); None when the compiled back-end is
    not in use or the block has no background voxel (SciPy's convention for that case is
    kept)."""
    from platescope.optics import _kernels as k

    mask = np.ascontiguousarray(mask, dtype=bool)
    if k.backend() != "numba" or mask.all():
        return None
    planes, lines_z = _kernels()
    dz, dy, dx = (float(s) for s in voxel_size_um)
    nz, ny, nx = mask.shape
    background = (~mask).view(np.uint8)
    g = np.empty(mask.shape, np.float64)
    k._run_rows(planes, background, (0.5, dx * dx, dy * dy), nz, g)
    out = np.empty(mask.shape, np.float64)
    k._run_rows(lines_z, g, (mask, dz * dz, -1.0, np.float32(0.0), out), ny, _NO_THICKNESS)
    return np.sqrt(out, out=out)
