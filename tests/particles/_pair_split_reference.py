"""The former per-object two-disk pair split (one ``scipy.optimize.least_squares`` call
per fit), kept as an independent reference for the batched implementation in
:mod:`platescope.particles._pair_split` (tests/particles/test_pair_split.py).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy import optimize
from skimage import segmentation

from platescope.particles._sem_particles import _disk_jacobian, _disk_residual

_PAIR_MIN_ELONGATION = 1.05
_PAIR_GAIN = 0.7
_PAIR_MIN_CHI2 = 100.0
_PAIR_MIN_RADIUS_PX = 1.0
_PAIR_DISTANCE = (0.3, 1.05)
_PAIR_PAD_PX = 3


def split_pairs_per_object(labels: np.ndarray, work: np.ndarray, noise: float) -> np.ndarray:
    """Cut isolated objects that two overlapping particles explain much better than one.

    A pair overlapping at 0.8–0.9 × the sum of its radii, especially of unequal sizes,
    leaves almost no notch in its outline, so the distance-transform watershed sees one
    object; and the particles are flat-topped (brighter rim), so the grey levels have no
    second maximum either. Instead, each elongated object that touches no other object
    is fitted (least squares on the background-subtracted smoothed grey levels of its
    pixels and a ``_PAIR_PAD_PX`` margin) by one and by two soft-edged disks; it is cut
    when the two-disk fit is better by the rules above. The two particles are then the
    half-maximum outline of the fit, each pixel going to the disk it lies deeper in.
    """
    n = int(labels.max())
    if n == 0:
        return labels
    out = labels.copy()
    top = n
    noise2 = max(float(noise), 1e-9) ** 2
    pad = _PAIR_PAD_PX
    near = segmentation.expand_labels(labels, distance=pad)
    # objects touching another one were already split by the watershed: leave them
    hi = ndi.maximum_filter(labels, size=3)
    lo = ndi.minimum_filter(np.where(labels > 0, labels, n + 1), size=3)
    touch = (labels > 0) & ((hi != labels) | (lo != labels))
    skip = np.zeros(n + 1, bool)
    skip[np.unique(labels[touch])] = True
    for k, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None or skip[k]:
            continue
        y0, y1 = max(sl[0].start - pad, 0), min(sl[0].stop + pad, labels.shape[0])
        x0, x1 = max(sl[1].start - pad, 0), min(sl[1].stop + pad, labels.shape[1])
        m = labels[y0:y1, x0:x1] == k
        a = int(m.sum())
        if a < 12:
            continue
        yy, xx = np.mgrid[0 : m.shape[0], 0 : m.shape[1]].astype(float)
        py, px = yy[m], xx[m]
        cy, cx = py.mean(), px.mean()
        w, v = np.linalg.eigh(np.cov(np.vstack([py, px])) + np.eye(2) / 12.0)
        if np.sqrt(w[1] / w[0]) < _PAIR_MIN_ELONGATION:
            continue
        use = near[y0:y1, x0:x1] == k
        z = work[y0:y1, x0:x1][use]
        uy, ux = yy[use], xx[use]
        amp0 = float(np.quantile(z, 0.9))
        one = optimize.least_squares(
            _disk_residual,
            [amp0, 0.8, 0.0, cy, cx, np.sqrt(a / np.pi)],
            jac=_disk_jacobian,
            args=(uy, ux, z, 1),
        )
        half = ((py - cy) * v[0, 1] + (px - cx) * v[1, 1]) < 0
        q0 = [amp0, one.x[1], one.x[2]]
        for part in (half, ~half):
            q0 += [py[part].mean(), px[part].mean(), np.sqrt(part.sum() / np.pi)]
        two = optimize.least_squares(_disk_residual, q0, jac=_disk_jacobian, args=(uy, ux, z, 2))
        loss1 = float(np.sum(one.fun**2))
        loss2 = float(np.sum(two.fun**2))
        q = two.x
        dist = np.hypot(q[3] - q[6], q[4] - q[7])
        rsum = q[5] + q[8]
        if not (
            loss2 < _PAIR_GAIN * loss1
            and (loss1 - loss2) / noise2 > _PAIR_MIN_CHI2
            and min(q[5], q[8]) >= _PAIR_MIN_RADIUS_PX
            and _PAIR_DISTANCE[0] * rsum <= dist <= _PAIR_DISTANCE[1] * rsum
        ):
            continue
        inside = m | (use & (work[y0:y1, x0:x1] > q[2] + 0.5 * q[0]))
        deeper_a = (q[5] - np.hypot(yy - q[3], xx - q[4])) >= (
            q[8] - np.hypot(yy - q[6], xx - q[7])
        )
        a_sel = inside & deeper_a
        b_sel = inside & ~deeper_a
        if a_sel.sum() < 4 or b_sel.sum() < 4:
            continue
        top += 1
        sub = out[y0:y1, x0:x1]
        sub[a_sel] = k
        sub[b_sel] = top
    return out
