"""measure_particles against geometry, an independent slow implementation and sums."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage as ndi
from skimage import measure
from skimage.draw import disk

from platescope import InputError
from platescope.particles import MEASURE_COLUMNS, measure_particles

CUT = 2.0 - math.sqrt(2.0)


# ------------------------------------------- independent reference of ImageJ's perimeter


def _crack_polygon(mask: np.ndarray) -> list[tuple[int, int]]:
    """Vertices (x, y) of the outer pixel-edge boundary of an 8-connected blob, clockwise.

    Built from the set of boundary edges (not by walking with look-ahead rules): every
    pixel edge between a blob pixel and a non-blob pixel is a directed edge with the blob
    on its right; at a vertex with two outgoing edges (diagonal contact) the walk takes
    the left-most turn, which keeps diagonal neighbours inside.
    """
    m = np.pad(mask, 1)
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for r, c in zip(*np.nonzero(m), strict=True):
        # edges with the pixel (r, c) on the right (screen coords, y down)
        if not m[r - 1, c]:
            out.setdefault((c, r), []).append((c + 1, r))  # top edge, heading east
        if not m[r, c + 1]:
            out.setdefault((c + 1, r), []).append((c + 1, r + 1))  # right edge, south
        if not m[r + 1, c]:
            out.setdefault((c + 1, r + 1), []).append((c, r + 1))  # bottom edge, west
        if not m[r, c - 1]:
            out.setdefault((c, r + 1), []).append((c, r))  # left edge, north
    r0, c0 = np.argwhere(m)[0]
    start = (int(c0), int(r0))
    pts = [start]
    prev_dir = (0, -1)  # arrived heading north
    cur = start
    while True:
        nxt = out[cur]
        if len(nxt) > 1:
            # left-most turn relative to prev_dir: left, straight, right
            def rank(p, cur=cur, prev_dir=prev_dir):
                d = (p[0] - cur[0], p[1] - cur[1])
                left = (prev_dir[1], -prev_dir[0])
                return 0 if d == left else (1 if d == prev_dir else 2)

            nxt = sorted(nxt, key=rank)
        p = nxt[0]
        prev_dir = (p[0] - cur[0], p[1] - cur[1])
        cur = p
        if cur == start:
            break
        pts.append(cur)
    # keep only the corners
    n = len(pts)
    corners = []
    for i in range(n):
        a, b, c = pts[i - 1], pts[i], pts[(i + 1) % n]
        if (b[0] - a[0], b[1] - a[1]) != (c[0] - b[0], c[1] - b[1]):
            corners.append(b)
    return corners


def _imagej_rule(v: list[tuple[int, int]]) -> float:
    """ImageJ's traced-perimeter formula on a polygon, starting at its third vertex."""
    v = v[2:] + v[:2]
    n = len(v)
    total, cuts, corner = 0, 0, False
    for i in range(n):
        side = abs(v[i][0] - v[i - 1][0]) + abs(v[i][1] - v[i - 1][1])
        total += side
        if side > 1 or not corner:
            corner, cuts = True, cuts + 1
        else:
            corner = False
    return total - cuts * CUT


# --------------------------------------------------------------------------- tests


def test_rectangle_area_centroid_and_imagej_perimeter():
    lab = np.zeros((30, 40), np.int32)
    lab[5:9, 10:16] = 3  # 4 × 6 px
    t = measure_particles(lab, spacing=0.25)
    assert list(t.columns) == list(MEASURE_COLUMNS)
    row = t.iloc[0]
    assert row.label == 3
    assert row.area_um2 == pytest.approx(24 * 0.25**2)
    assert row.y_um == pytest.approx(6.5 * 0.25) and row.x_um == pytest.approx(12.5 * 0.25)
    # 20 pixel edges, four corners each cut by (2 − √2) (ImageJ: 17.657 px)
    assert row.perimeter_um == pytest.approx((20 - 4 * CUT) * 0.25)
    assert row.equivalent_diameter_um == pytest.approx(math.sqrt(4 * row.area_um2 / math.pi))
    assert row.circularity == pytest.approx(4 * math.pi * 24 / (20 - 4 * CUT) ** 2)
    assert not row.touches_border
    assert np.isnan(row.mean_intensity) and np.isnan(row.integrated_intensity)


def test_single_pixel_and_large_disk_perimeters():
    lab = np.zeros((200, 200), np.int32)
    lab[3, 3] = 1
    rr, cc = disk((100, 100), 60)
    lab[rr, cc] = 2
    t = measure_particles(lab, spacing=1.0).set_index("label")
    assert t.loc[1, "perimeter_um"] == pytest.approx(4 - 2 * CUT)  # ImageJ: 2.828
    assert t.loc[1, "circularity"] == 1.0  # clipped, as ImageJ's Circ.
    # a large digital disk: the corner-cut staircase is within 5 % of 2πr (the crack
    # boundary alone would be 8r, +27 %)
    r_eff = math.sqrt(t.loc[2, "area_um2"] / math.pi)
    assert t.loc[2, "perimeter_um"] == pytest.approx(2 * math.pi * r_eff, rel=0.05)
    assert 0.9 < t.loc[2, "circularity"] <= 1.0


@pytest.mark.parametrize("tail", [0, 32, 10**9], ids=["all-vectorised", "mixed", "all-scalar"])
def test_vectorised_perimeter_equals_an_independent_slow_tracer(monkeypatch, tail):
    """Both halves of the tracer (vectorised walks; the plain-step finish of the last
    ``_SCALAR_TAIL`` walks) agree with the polygon-based reference."""
    import platescope.particles._measure as meas

    monkeypatch.setattr(meas, "_SCALAR_TAIL", tail)
    rng = np.random.default_rng(7)
    for sigma in (0.7, 1.2, 2.5):
        field = ndi.gaussian_filter(rng.normal(size=(90, 110)), sigma)
        lab, n = ndi.label(field > 0.6 * field.std(), structure=np.ones((3, 3)))
        t = measure_particles(lab, spacing=1.0)
        assert len(t) == n > 5
        for row in t.itertuples():
            ref = _imagej_rule(_crack_polygon(lab == row.label))
            assert row.perimeter_um == pytest.approx(ref, abs=1e-9), row.label


def test_diagonal_contacts_are_one_particle_traced_around():
    lab = np.zeros((10, 10), np.int32)
    lab[2, 2] = lab[3, 3] = lab[4, 4] = 1  # a diagonal chain (8-connected)
    t = measure_particles(lab, spacing=1.0)
    # 12 unit edges; the reference tracer agrees
    assert t.perimeter_um[0] == pytest.approx(_imagej_rule(_crack_polygon(lab == 1)))
    assert t.area_um2[0] == 3


def test_intensities_are_sums_over_the_label():
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 100, (50, 60))
    lab = np.zeros((50, 60), np.int32)
    lab[10:20, 10:20] = 1
    lab[30:35, 40:52] = 2
    t = measure_particles(lab, img, spacing=0.1)
    for k in (1, 2):
        row = t[t.label == k].iloc[0]
        assert row.integrated_intensity == pytest.approx(img[lab == k].sum())
        assert row.mean_intensity == pytest.approx(img[lab == k].mean())


def test_roi_border_and_coords():
    lab = np.zeros((40, 40), np.int32)
    lab[0:3, 5:8] = 1  # touches the top edge
    lab[20:24, 20:24] = 2
    lab[30:33, 5:8] = 3
    roi = np.zeros((40, 40), bool)
    roi[:25] = True
    t = measure_particles(lab, spacing=0.5, roi=roi)
    assert list(t.label) == [1, 2]
    assert list(t.touches_border) == [True, False]
    # a DataArray's own coordinates (origin 10 µm) are used
    da = xr.DataArray(
        lab, dims=("y", "x"), coords={"y": 10 + np.arange(40) * 0.5, "x": np.arange(40) * 0.5}
    )
    t2 = measure_particles(da, spacing=0.5)
    assert t2.y_um[1] == pytest.approx(10 + 21.5 * 0.5)


def test_other_perimeter_conventions_are_scikit_images():
    rng = np.random.default_rng(3)
    field = ndi.gaussian_filter(rng.normal(size=(80, 80)), 2.0)
    lab, _ = ndi.label(field > 0.5 * field.std())
    props = measure.regionprops_table(lab, properties=("label", "perimeter", "perimeter_crofton"))
    for conv, key in (("skimage", "perimeter"), ("crofton", "perimeter_crofton")):
        t = measure_particles(lab, spacing=2.0, perimeter=conv)
        np.testing.assert_allclose(t.perimeter_um, 2.0 * props[key])


def test_empty_label_image_gives_an_empty_table():
    t = measure_particles(np.zeros((10, 10), np.int32), np.ones((10, 10)), spacing=1.0)
    assert len(t) == 0 and list(t.columns) == list(MEASURE_COLUMNS)


def test_bad_input_names_the_fix():
    with pytest.raises(InputError, match="label a binary mask"):
        measure_particles(np.ones((5, 5), bool), spacing=1.0)
    with pytest.raises(InputError, match="pass the image the labels were made from"):
        measure_particles(np.ones((5, 5), int), np.ones((6, 5)), spacing=1.0)
    with pytest.raises(InputError, match="spacing"):
        measure_particles(np.ones((5, 5), int), spacing=0)
    with pytest.raises(InputError, match="imagej"):
        measure_particles(np.ones((5, 5), int), spacing=1.0, perimeter="round")


def test_a_stack_of_frames_measures_like_each_frame():
    rng = np.random.default_rng(11)
    frames, labs = [], []
    for _ in range(4):
        field = ndi.gaussian_filter(rng.normal(size=(60, 70)), 1.5)
        frames.append(field)
        labs.append(ndi.label(field > 0.5 * field.std(), structure=np.ones((3, 3)))[0])
    t = measure_particles(np.stack(labs), np.stack(frames), spacing=0.2)
    assert list(t.columns) == ["frame", *MEASURE_COLUMNS]
    for f, (lab, img) in enumerate(zip(labs, frames, strict=True)):
        one = measure_particles(lab, img, spacing=0.2)
        sub = t[t.frame == f].drop(columns="frame").reset_index(drop=True)
        pd.testing.assert_frame_equal(sub, one, check_dtype=False)
    da = xr.DataArray(np.stack(labs), dims=("t", "y", "x"), coords={"t": [0.0, 0.5, 1.1, 1.6]})
    td = measure_particles(da, spacing=0.2)
    np.testing.assert_allclose(td.t_s, np.array([0.0, 0.5, 1.1, 1.6])[td.frame])
