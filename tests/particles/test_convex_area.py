"""Convex-hull pixel counts of all objects at once against hand counts and scikit-image.

The reference is scikit-image's per-object ``regionprops(...).area_convex`` (Qhull on
the pixel-edge midpoints, point-in-polygon test of the bounding box): the vectorised
counts must equal it exactly, so that the morphology's solidity is unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import measure

from platescope.particles._convex_area import convex_hull_pixel_counts


def _labels(shape, seed, sigma, level):
    rng = np.random.default_rng(seed)
    m = ndi.gaussian_filter(rng.random(shape), sigma) > level
    return ndi.label(m, structure=np.ones((3, 3)))[0]


def test_hand_counted_hulls():
    lab = np.zeros((12, 12), int)
    lab[1, 1] = 1  # one pixel: its diamond holds only its own centre
    lab[3:6, 3:9] = 2  # a rectangle is its own hull
    lab[8:11, 1] = 3  # an L: (8,1) (9,1) (10,1..3); the hull edge from (7.5, 1) to
    lab[10, 1:4] = 3  # (9.5, 3) passes (8, 1.5), (9, 2.5): rows hold 1, 2, 3 pixels
    lab[7, 10] = lab[9, 10] = 4  # two pixels apart in one column: the gap is inside
    got = convex_hull_pixel_counts(lab)
    assert got.tolist() == [0, 1, 18, 6, 3]


@pytest.mark.parametrize(
    ("shape", "seed", "sigma", "level"),
    [
        ((90, 130), 0, 0.6, 0.5),  # many small, ragged objects (1–30 px)
        ((120, 100), 1, 2.0, 0.5),  # large irregular blobs, touching the edges
        ((150, 150), 2, 3.5, 0.52),  # smooth concave shapes
        ((40, 300), 3, 1.2, 0.55),  # a wide strip
    ],
)
def test_equals_regionprops_area_convex(shape, seed, sigma, level):
    lab = _labels(shape, seed, sigma, level)
    props = measure.regionprops(lab)
    assert len(props) > 5
    got = convex_hull_pixel_counts(lab)
    want = np.zeros_like(got)
    for p in props:
        want[p.label] = int(p.area_convex)
    assert np.array_equal(got, want)


def test_lines_and_subsets():
    lab = np.zeros((60, 60), int)
    rr = np.arange(5, 55)
    lab[rr, (rr * 0.37).astype(int) + 3] = 1  # a digital line of slope 0.37
    lab[10, 20:58] = 2  # a horizontal bar
    lab[20:50, 40] = 3  # a vertical bar
    lab[30:33, 50:53] = 4
    lab[31, 51] = 0  # a ring: its hole is in the hull
    props = {p.label: int(p.area_convex) for p in measure.regionprops(lab)}
    got = convex_hull_pixel_counts(lab)
    assert {k: int(got[k]) for k in props} == props
    only = convex_hull_pixel_counts(lab, np.array([1, 4]))
    assert only.tolist() == [0, got[1], 0, 0, got[4]]


def test_morphology_solidity_equals_regionprops():
    """The morphology's object table reads solidity from these counts: regionprops' own."""
    from platescope.particles._morphology import _object_table

    rng = np.random.default_rng(7)
    mask = ndi.gaussian_filter(rng.normal(size=(200, 240)), 2.0) > 0.15
    obj = _object_table(mask)
    props = measure.regionprops(obj["labels"])
    want = np.ones(obj["n"] + 1)
    for p in props:
        if p.area >= 5:
            want[p.label] = p.solidity
    assert np.array_equal(obj["solidity"], want)
