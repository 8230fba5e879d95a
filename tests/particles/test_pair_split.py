"""The batched two-disk pair split against planted pairs and the former per-object fit.

Truth is planted: isolated pairs of overlapping soft-edged disks (centre distance
0.75–0.9 × the sum of the radii, so the outline has almost no notch) and single,
slightly elongated disks, with Gaussian noise. The batched split must cut every pair
and no single object, recover the planted centres and radii, and agree with the former
implementation (one ``scipy.optimize.least_squares`` call per fit,
``_pair_split_reference.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from scipy import optimize, special

from platescope.particles._pair_split import fit_disks_batch, split_pairs
from platescope.particles._sem_particles import _disk_jacobian, _disk_residual

NOISE = 3.0
AMP = 100.0
EDGE = 0.7


def _planted(seed: int):
    """Image with pairs and singles on a grid of 40-px cells; their truth."""
    rng = np.random.default_rng(seed)
    n_side = 6
    size = 40 * n_side
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    u = np.zeros((size, size))
    truth = []
    for i in range(n_side):
        for j in range(n_side):
            cy, cx = 40 * i + 20 + rng.uniform(-1, 1), 40 * j + 20 + rng.uniform(-1, 1)
            if (i + j) % 2 == 0:  # a pair along a random direction
                r1, r2 = rng.uniform(4.5, 7.0), rng.uniform(3.0, 5.5)
                dist = rng.uniform(0.75, 0.9) * (r1 + r2)
                th = rng.uniform(0, np.pi)
                c1 = (cy - 0.5 * dist * np.sin(th), cx - 0.5 * dist * np.cos(th))
                c2 = (cy + 0.5 * dist * np.sin(th), cx + 0.5 * dist * np.cos(th))
                disks = [(*c1, r1), (*c2, r2)]
            else:  # one disk, a little elongated (a candidate that must stay whole)
                r = rng.uniform(4.5, 7.0)
                disks = [(cy, cx, r), (cy + 0.6, cx + 0.6, r)]
            for y0, x0, r in disks:
                u = np.maximum(u, special.expit((r - np.hypot(yy - y0, xx - x0)) / EDGE))
            truth.append({"pair": (i + j) % 2 == 0, "disks": disks, "cell": (i, j)})
    work = AMP * u + rng.normal(0.0, NOISE, u.shape)
    labels, _ = ndi.label(AMP * u > 0.3 * AMP)
    return labels.astype(np.int32), work, truth


def _cell_label(labels, cell):
    i, j = cell
    sub = labels[40 * i : 40 * i + 40, 40 * j : 40 * j + 40]
    vals = np.unique(sub[sub > 0])
    assert vals.size == 1
    return int(vals[0])


@pytest.mark.parametrize("seed", [0, 1])
def test_batched_split_cuts_planted_pairs_only(seed):
    labels, work, truth = _planted(seed)
    out = split_pairs(labels, work, NOISE)
    n0 = int(labels.max())
    for t in truth:
        k = _cell_label(labels, t["cell"])
        region = labels == k
        parts = np.unique(out[region | (out == k)])
        parts = parts[parts > 0]
        if t["pair"]:
            assert parts.size == 2 and parts.max() > n0, t
            # each part's centroid lies near one planted centre (≤ 1.5 px)
            cents = [np.argwhere(out == p).mean(axis=0) for p in parts]
            for y0, x0, _ in t["disks"]:
                assert min(np.hypot(c[0] - y0, c[1] - x0) for c in cents) < 1.5
        else:
            assert parts.tolist() == [k], t


@pytest.mark.parametrize("seed", [0, 1])
def test_batched_split_equals_former_per_object_split(seed):
    from _pair_split_reference import split_pairs_per_object

    labels, work, _ = _planted(seed)
    new = split_pairs(labels, work, NOISE)
    old = split_pairs_per_object(labels, work, NOISE)
    n0 = int(labels.max())
    # the same objects cut, numbered alike
    assert new.max() == old.max()
    assert set(np.unique(labels[new > n0])) == set(np.unique(labels[old > n0]))
    # pixels may change sides only on the line between the two fitted disks, where the
    # two depths tie to within the fits' tolerance (a few pixels per image)
    cut_px = np.isin(labels, np.unique(labels[old > n0]))
    diff = new != old
    assert diff.sum() <= 0.005 * cut_px.sum()
    assert np.all(cut_px[diff])


def test_batched_fit_equals_per_object_least_squares_and_recovers_truth():
    """All pairs fitted in one call = one least_squares call each = the planted disks."""
    labels, work, truth = _planted(3)
    q0s, ys, xs, zs, segs, refs, plant = [], [], [], [], [], [], []
    for t in truth:
        if not t["pair"]:
            continue
        k = _cell_label(labels, t["cell"])
        sel = ndi.binary_dilation(labels == k, iterations=3)
        uy, ux = (a.astype(float) for a in np.nonzero(sel))
        z = work[sel]
        (a1, b1, r1), (a2, b2, r2) = t["disks"]
        q0 = np.array([90.0, 1.0, 0.0, a1 + 0.8, b1 - 0.6, r1 - 0.7, a2 - 0.5, b2 + 0.7, r2 + 0.5])
        ref = optimize.least_squares(_disk_residual, q0, jac=_disk_jacobian, args=(uy, ux, z, 2))
        q0s.append(q0)
        ys.append(uy)
        xs.append(ux)
        zs.append(z)
        segs.append(np.full(z.size, len(segs)))
        refs.append((ref.x, float(np.sum(ref.fun**2))))
        plant.append([AMP, EDGE, 0.0, a1, b1, r1, a2, b2, r2])
    q, loss = fit_disks_batch(
        np.array(q0s),
        np.concatenate(ys),
        np.concatenate(xs),
        np.concatenate(zs),
        np.concatenate(segs),
        n_disks=2,
    )
    for i, (x_ref, loss_ref) in enumerate(refs):
        np.testing.assert_allclose(q[i], x_ref, rtol=1e-6, atol=1e-6)
        assert loss[i] == pytest.approx(loss_ref, rel=1e-9)
        # the planted geometry: centres and radii within 0.25 px (noise 3 on height 100,
        # ~200 pixels per object: the statistical error is a few hundredths of a pixel)
        np.testing.assert_allclose(q[i, 3:], plant[i][3:], atol=0.25)
        # residual sum of squares at the optimum ≈ N σ² (χ² with N − 9 degrees of freedom)
        n_px = zs[i].size
        assert abs(loss[i] / NOISE**2 - n_px) < 5 * np.sqrt(2 * n_px)


@pytest.mark.parametrize("n_disks", [1, 2])
def test_last_object_alone_is_bit_identical_to_the_batch_iteration(monkeypatch, n_disks):
    """The lean continuation of the last active object (most iterations of a real
    image's batch) does the batch's arithmetic: parameters and losses equal to the bit,
    for a batch of many objects (one of them ends alone) and for a batch of one."""
    import platescope.particles._pair_split as ps

    labels, work, _ = _planted(4)
    q0s, ys, xs, zs, segs = [], [], [], [], []
    for k in range(1, int(labels.max()) + 1):
        sel = ndi.binary_dilation(labels == k, iterations=3)
        uy, ux = (a.astype(float) for a in np.nonzero(sel))
        cy, cx, r = uy.mean(), ux.mean(), np.sqrt((labels == k).sum() / np.pi)
        if n_disks == 1:
            q0 = [90.0, 0.8, 0.0, cy, cx, r]
        else:
            q0 = [90.0, 0.8, 0.0, cy - 2, cx - 1, 0.7 * r, cy + 2, cx + 1, 0.7 * r]
        q0s.append(q0)
        ys.append(uy)
        xs.append(ux)
        zs.append(work[sel])
        segs.append(np.full(uy.size, len(segs)))
    batch = (np.array(q0s), *(np.concatenate(a) for a in (ys, xs, zs, segs)))
    one = (np.array(q0s[:1]), ys[0], xs[0], zs[0], segs[0])
    lean = [ps.fit_disks_batch(*args, n_disks=n_disks) for args in (batch, one)]
    monkeypatch.setattr(ps, "LAST_OBJECT_ALONE", False)
    full = [ps.fit_disks_batch(*args, n_disks=n_disks) for args in (batch, one)]
    for (q_lean, loss_lean), (q_full, loss_full) in zip(lean, full, strict=True):
        assert np.array_equal(q_lean, q_full) and np.array_equal(loss_lean, loss_full)
