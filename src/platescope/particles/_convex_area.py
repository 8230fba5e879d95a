"""Convex-hull areas of every labelled object at once (pixels; for solidity).

scikit-image's ``regionprops(...).area_convex`` computes one hull per object (Qhull on
the pixel-edge midpoints, then a point-in-polygon test of the bounding box). Here all
objects are done together in exact integer arithmetic, with the same definition:

- each pixel (r, c) is represented by the midpoints of its four edges,
  (r ± ½, c) and (r, c ± ½);
- the hull pixels are those whose centres (integer points) lie inside the convex hull
  of these points or on its boundary.

Coordinates are doubled (Y = 2·row, X = 2·col) so that every point is an integer.
The hull of a point set is, row by row, the interval between two envelopes: its left
edge is the greatest convex function of Y below the leftmost X of each Y, its right
edge (found on −X) the smallest concave function above the rightmost X. An envelope
is found by removing, in vectorised passes over all objects, every point not strictly
below the chord of its current neighbours (a run of such points is concave between
the two kept ones, so it lies above their chord and cannot be on the envelope); each
row's hull interval is then read off the envelopes with integer ceiling divisions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convex_hull_pixel_counts"]


def _row_extents(labels: np.ndarray, keep: np.ndarray):
    """Per (label, row) with pixels of a kept label: label, row, first and last column."""
    ny, nx = labels.shape
    lab = np.where(keep[labels], labels, 0)
    flat = lab.ravel()
    # runs of one label along each row (a new row always starts a run)
    start = np.ones(flat.size, bool)
    start[1:] = flat[1:] != flat[:-1]
    start[::nx] = True
    s = np.flatnonzero(start & (flat > 0))
    end = np.ones(flat.size, bool)
    end[:-1] = flat[:-1] != flat[1:]
    end[nx - 1 :: nx] = True
    e = np.flatnonzero(end & (flat > 0))
    run_lab = flat[s].astype(np.int64)
    row, c0 = np.divmod(s, nx)
    c1 = e - row * nx
    key = run_lab * ny + row
    order = np.argsort(key, kind="stable")
    key, c0, c1 = key[order], c0[order], c1[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    cmin = np.minimum.reduceat(c0, first)
    cmax = np.maximum.reduceat(c1, first)
    lab_u, row_u = np.divmod(key[first], ny)
    return lab_u, row_u, cmin.astype(np.int64), cmax.astype(np.int64)


def _lower_envelope(obj: np.ndarray, y: np.ndarray, x: np.ndarray):
    """Vertices of the greatest convex function x(y) below the points, per object.

    ``obj``, ``y`` sorted by (obj, y) with one point per (obj, y). Returns the kept
    subset (same order).
    """
    while True:
        n = obj.size
        if n < 3:
            return obj, y, x
        same = (obj[:-2] == obj[2:]) & (obj[1:-1] == obj[:-2])  # interior of an object
        yp, ym, yq = y[:-2], y[1:-1], y[2:]
        xp, xm, xq = x[:-2], x[1:-1], x[2:]
        # not strictly below the chord p–q: (xm − xp)(yq − yp) ≥ (ym − yp)(xq − xp)
        drop = same & ((xm - xp) * (yq - yp) >= (ym - yp) * (xq - xp))
        if not drop.any():
            return obj, y, x
        keep = np.ones(n, bool)
        keep[1:-1] = ~drop
        obj, y, x = obj[keep], y[keep], x[keep]


def _envelope_ceil_half(obj, y, x, q_obj, q_y, ny2: int) -> np.ndarray:
    """ceil(x(Y)/2) of each object's envelope (vertices ``obj``, ``y``, ``x``) at ``q_y``."""
    key = obj * ny2 + y
    k = np.searchsorted(key, q_obj * ny2 + q_y, side="right") - 1
    k1 = np.minimum(k + 1, key.size - 1)
    dy = y[k1] - y[k]
    on_vertex = y[k] == q_y
    dy = np.where(on_vertex, 1, dy)
    dx = np.where(on_vertex, 0, x[k1] - x[k])
    num = x[k] * dy + (q_y - y[k]) * dx  # x(Y)·dy; dy > 0
    return -((-num) // (2 * dy))


def convex_hull_pixel_counts(labels: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
    """Pixels in the convex hull of each label (index = label; 0 where not computed).

    The hull is scikit-image's ``convex_hull_image`` of the object alone (pixel-edge
    midpoints, boundary included), so ``area / count`` equals ``regionprops``'
    ``solidity`` exactly.

    Parameters
    ----------
    labels : ndarray of int, 2-D
        Label image (0 = background).
    which : ndarray of int, optional
        Labels to compute (default: every label present).

    Returns
    -------
    ndarray of int64, length ``labels.max() + 1``
        Hull pixel count per label.

    Examples
    --------
    >>> lab = np.zeros((5, 5), int); lab[1, 1] = lab[3, 3] = 1  # two pixels on a diagonal
    >>> int(convex_hull_pixel_counts(lab)[1])  # and the one between them (regionprops: 3)
    3
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError("labels must be 2-D")
    n = int(labels.max()) if labels.size else 0
    out = np.zeros(n + 1, np.int64)
    keep = np.zeros(n + 1, bool)
    if which is None:
        keep[1:] = True
    else:
        keep[np.asarray(which, dtype=np.int64)] = True
    keep[0] = False
    if n == 0 or not keep.any():
        return out
    lab, row, cmin, cmax = _row_extents(labels, keep)
    if lab.size == 0:
        return out
    ny2 = 2 * labels.shape[0] + 4  # > every doubled row coordinate + 1 (Y from −1)
    yrow = 2 * row
    # candidate points: each row's outermost pixel gives (Y, 2c ∓ 1) and (Y ± 1, 2c)
    y3 = np.concatenate([yrow - 1, yrow, yrow + 1]) + 1  # shifted ≥ 0 for the keys
    o3 = np.concatenate([lab, lab, lab])
    # every row from each label's first to its last (a label need not be connected)
    top = np.r_[True, lab[1:] != lab[:-1]]
    lab_first = np.flatnonzero(top)
    lab_last = np.r_[lab_first[1:], lab.size] - 1
    span = row[lab_last] - row[lab_first] + 1
    q_lab = np.repeat(lab[lab_first], span)
    q_row = np.arange(q_lab.size) - np.repeat(np.cumsum(span) - span, span)
    q_y = 2 * (np.repeat(row[lab_first], span) + q_row) + 1
    ceil_left = None
    for sign, c, outward in ((1, cmin, -1), (-1, cmax, 1)):
        x3 = sign * np.concatenate([2 * c, 2 * c + outward, 2 * c])  # left: X; right: −X
        key = o3 * ny2 + y3
        order = np.lexsort((x3, key))
        key_s, x_s = key[order], x3[order]
        first = np.r_[True, key_s[1:] != key_s[:-1]]  # smallest (signed) X per (obj, Y)
        ob, yy = np.divmod(key_s[first], ny2)
        ob, yy, xx = _lower_envelope(ob, yy, x_s[first])
        ceil = _envelope_ceil_half(ob, yy, xx, q_lab, q_y, ny2)
        if ceil_left is None:
            ceil_left = ceil
        else:
            width = -ceil - ceil_left + 1  # floor(X_right / 2) − ceil(X_left / 2) + 1
            out += np.bincount(q_lab, weights=np.maximum(width, 0), minlength=n + 1).astype(
                np.int64
            )
    return out
