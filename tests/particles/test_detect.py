"""segment_particles and detect_blobs against planted particles and spots."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import filters

from platescope import InputError
from platescope.particles import detect_blobs, measure_particles, segment_particles

PX = 0.05  # µm per pixel


def _disks(shape, parts, *, level=100.0, background=20.0):
    """Supersampled (4×4) disks (y, x, r in pixels) of grey ``level`` on ``background``."""
    img = np.full(shape, background, dtype=float)
    sub = (np.arange(4) + 0.5) / 4 - 0.5
    for y, x, r in parts:
        y0, y1 = max(int(y - r - 2), 0), min(int(y + r + 3), shape[0])
        x0, x1 = max(int(x - r - 2), 0), min(int(x + r + 3), shape[1])
        py = np.arange(y0, y1)[:, None, None, None] + sub[None, None, :, None]
        px = np.arange(x0, x1)[None, :, None, None] + sub[None, None, None, :]
        cov = (np.hypot(py - y, px - x) <= r).mean(axis=(2, 3))
        img[y0:y1, x0:x1] = np.maximum(img[y0:y1, x0:x1], background + (level - background) * cov)
    return img


def _scene(seed, n_single=40, n_pairs=10, shape=(300, 300), noise=4.0):
    """Singles and touching pairs (centre distance 0.8–0.95 × sum of radii), + noise."""
    rng = np.random.default_rng(seed)
    parts, pair_ids = [], []

    def free(y, x, r):
        if y - r < 4 or x - r < 4 or y + r > shape[0] - 5 or x + r > shape[1] - 5:
            return False
        return all(np.hypot(y - q[0], x - q[1]) > r + q[2] + 3 for q in parts)

    while len(pair_ids) < n_pairs:
        r1, r2 = rng.uniform(5, 9, 2)
        y, x = rng.uniform(15, shape[0] - 15, 2)
        th = rng.uniform(0, 2 * np.pi)
        dd = rng.uniform(0.8, 0.95) * (r1 + r2)
        y2, x2 = y + dd * np.sin(th), x + dd * np.cos(th)
        if free(y, x, r1) and free(y2, x2, r2) and np.hypot(y - y2, x - x2) > 0:
            pair_ids.append(len(parts))
            parts += [(y, x, r1), (y2, x2, r2)]
    while len(parts) < 2 * n_pairs + n_single:
        r = rng.uniform(4, 9)
        y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        if free(y, x, r):
            parts.append((y, x, r))
    clean = ndi.gaussian_filter(_disks(shape, parts), 0.7)
    img = clean + rng.normal(0, noise, shape)
    return img, np.asarray(parts)


def _matched(truth, table, px=PX):
    """Count of planted particles with exactly one detection within their radius."""
    ty, tx, tr = truth[:, 0] * px, truth[:, 1] * px, truth[:, 2] * px
    d = np.hypot(
        ty[:, None] - table.y_um.to_numpy()[None], tx[:, None] - table.x_um.to_numpy()[None]
    )
    hits = d <= tr[:, None]
    return int(np.sum(hits.sum(axis=1) == 1)), hits


# ---------------------------------------------------------------------- segmentation


@pytest.mark.parametrize("seed", [0, 1])
def test_watershed_splits_touching_pairs_and_finds_every_particle(seed):
    img, truth = _scene(seed)
    lab = segment_particles(img, spacing=PX, sigma_um=PX)
    t = measure_particles(lab, img, spacing=PX)
    n_ok, hits = _matched(truth, t)
    # every planted particle: exactly one detection, but for at most one strongly
    # overlapping unequal pair (the small disk of such a pair has no maximum of its own
    # in the distance transform: 7 of 400 pairs over 20 scenes); nothing else
    assert n_ok >= len(truth) - 1
    assert (hits.sum(axis=0) == 0).sum() == 0 and (hits.sum(axis=1) > 1).sum() == 0
    # equivalent diameters of the singles within 0.6 px of the planted ones
    singles = truth[20:]
    j = hits[20:].argmax(axis=1)
    d = t.equivalent_diameter_um.to_numpy()[j]
    np.testing.assert_allclose(d, 2 * singles[:, 2] * PX, atol=0.6 * PX)


def test_without_watershed_touching_pairs_are_one_particle():
    img, truth = _scene(2)
    lab = segment_particles(img, spacing=PX, sigma_um=PX, watershed=False)
    assert lab.max() == len(truth) - 10  # the 10 pairs merge


def test_labels_are_int32_sequential_in_raster_order():
    img, _ = _scene(3, n_pairs=2, n_single=10)
    lab = segment_particles(img, spacing=PX, sigma_um=PX)
    assert lab.dtype == np.int32 and lab.shape == img.shape
    ids = np.unique(lab[lab > 0])
    np.testing.assert_array_equal(ids, np.arange(1, ids.size + 1))
    first = [np.flatnonzero(lab.ravel() == k)[0] for k in ids]
    assert first == sorted(first)


def test_otsu_on_integer_image_uses_exact_grey_levels():
    img, _ = _scene(4, noise=6.0)
    u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    lab = segment_particles(u8, spacing=PX, method="otsu", watershed=False)
    t = filters.threshold_otsu(u8)
    ref, _ = ndi.label(u8 > t, structure=np.ones((3, 3)))
    assert lab.max() == ref.max()
    np.testing.assert_array_equal(lab > 0, u8 > t)


@pytest.mark.parametrize("method", ["otsu", "triangle", "li", "yen", "isodata", "mean"])
def test_automatic_methods_find_the_planted_particles(method):
    img, truth = _scene(5)
    lab = segment_particles(img, spacing=PX, sigma_um=PX, method=method, min_area_um2=4 * PX**2)
    t = measure_particles(lab, spacing=PX)
    n_ok, _ = _matched(truth, t)
    assert n_ok >= 0.95 * len(truth)
    assert len(t) <= 1.05 * len(truth)


def test_fixed_threshold_is_value_above_level():
    img = np.zeros((20, 20))
    img[5:8, 5:8] = 50.0
    img[12:15, 12:15] = 30.0
    assert segment_particles(img, spacing=1, method="fixed", threshold=40).max() == 1
    assert segment_particles(img, spacing=1, method="fixed", threshold=29.9).max() == 2
    assert segment_particles(img, spacing=1, method="fixed", threshold=30.0).max() == 1  # > t


def _uneven(seed):
    """Particles on a background ramp three times their contrast."""
    img, truth = _scene(seed, noise=3.0)
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return img + 240.0 * xx / img.shape[1], truth


@pytest.mark.parametrize("how", ["local", "background"])
def test_uneven_background_needs_local_thresholds(how):
    img, truth = _uneven(6)
    glob = measure_particles(segment_particles(img, spacing=PX, sigma_um=PX), spacing=PX)
    assert _matched(truth, glob)[0] < 0.8 * len(truth)  # a global Otsu fails
    kw = {"method": "local"} if how == "local" else {"method": "otsu"}
    lab = segment_particles(
        img, spacing=PX, sigma_um=PX, local_block_um=4.0, min_area_um2=4 * PX**2, **kw
    )
    t = measure_particles(lab, spacing=PX)
    n_ok, _ = _matched(truth, t)
    assert n_ok >= 0.95 * len(truth)
    assert len(t) <= 1.05 * len(truth)


def test_dark_polarity_is_the_mirror_image():
    img, _ = _scene(7)
    a = segment_particles(img, spacing=PX, sigma_um=PX)
    b = segment_particles(255.0 - img, spacing=PX, sigma_um=PX, polarity="dark")
    np.testing.assert_array_equal(a, b)


def test_size_limits_are_inclusive_and_in_um2():
    img = np.zeros((40, 60))
    img[2:6, 2:6] = 10  # 16 px
    img[10:15, 10:15] = 10  # 25 px
    img[20:26, 20:26] = 10  # 36 px
    px = 0.1
    lab = segment_particles(
        img,
        spacing=px,
        method="fixed",
        threshold=5,
        watershed=False,
        min_area_um2=16 * px * px,
        max_area_um2=25 * px * px,
    )
    areas = sorted(np.bincount(lab.ravel())[1:])
    assert areas == [16, 25]


def test_circularity_range_drops_a_thin_line():
    img = np.zeros((40, 60))
    img[5:25, 5:25] = 10.0  # square: circularity ≈ 0.9
    img[30:32, 5:55] = 10.0  # 2 × 50 line: ≈ 0.12
    lab = segment_particles(
        img, spacing=1, method="fixed", threshold=5, watershed=False, circularity=(0.5, 1.0)
    )
    assert lab.max() == 1 and lab[10, 10] == 1


def test_roi_keeps_whole_particles_whose_centroid_is_inside():
    img = np.zeros((40, 40))
    img[5:15, 5:15] = 10.0
    img[25:35, 25:35] = 10.0
    roi = np.zeros((40, 40), bool)
    roi[:12, :12] = True  # holds the first centroid (9.5, 9.5), not all of its pixels
    lab = segment_particles(img, spacing=1, method="fixed", threshold=5, roi=roi)
    assert lab.max() == 1 and (lab == 1).sum() == 100


def test_exclude_border_and_fill_holes():
    img = np.zeros((40, 40))
    img[0:5, 10:15] = 10.0
    img[20:30, 20:30] = 10.0
    img[24:26, 24:26] = 0.0  # a hole
    lab = segment_particles(
        img, spacing=1, method="fixed", threshold=5, watershed=False, exclude_border=True
    )
    assert lab.max() == 1 and (lab > 0).sum() == 96
    lab = segment_particles(
        img, spacing=1, method="fixed", threshold=5, watershed=False, fill_holes=True
    )
    assert sorted(np.bincount(lab.ravel())[1:]) == [25, 100]


def test_blank_image_gives_no_particles():
    lab = segment_particles(np.full((30, 30), 7.0), spacing=1.0)
    assert lab.max() == 0 and lab.dtype == np.int32


def test_bad_input_names_the_fix():
    img = np.zeros((20, 20))
    cases = [
        (dict(image=np.zeros((3, 20, 20))), "one frame"),
        (dict(image=np.full((20, 20), np.nan)), "invalid pixels"),
        (dict(method="magic"), "otsu"),
        (dict(method="fixed"), "threshold="),
        (dict(threshold=3.0), "drop threshold"),
        (dict(method="local"), "local_block_um"),
        (dict(polarity="up"), "bright"),
        (dict(roi=np.ones((5, 5), bool)), "pixel grid"),
        (dict(spacing=-1.0), "spacing"),
        (dict(circularity=0.5, method="fixed", threshold=-1.0), "(min, max)"),
    ]
    for kw, fix in cases:
        args = {"image": img, "spacing": 1.0, **kw}
        with pytest.raises(InputError, match=fix.replace("(", r"\(").replace(")", r"\)")):
            segment_particles(args.pop("image"), **args)


# ---------------------------------------------------------------------------- blobs


def _spots(seed, n=30, shape=(256, 256), sigma=2.0, noise=2.0):
    rng = np.random.default_rng(seed)
    ys = rng.uniform(10, shape[0] - 10, n)
    xs = rng.uniform(10, shape[1] - 10, n)
    keep = [0]
    for i in range(1, n):
        if np.min(np.hypot(ys[keep] - ys[i], xs[keep] - xs[i])) > 6 * sigma:
            keep.append(i)
    ys, xs = ys[keep], xs[keep]
    amp = rng.uniform(30, 60, ys.size)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    img = np.full(shape, 100.0)
    for y, x, a in zip(ys, xs, amp, strict=True):
        img += a * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2))
    return img + rng.normal(0, noise, shape), ys, xs, amp


def test_blobs_recover_planted_spots():
    img, ys, xs, amp = _spots(0)
    b = detect_blobs(img, spacing=0.1, sigma_min_um=0.1, sigma_max_um=0.4, threshold=15)
    assert len(b) == ys.size
    d = np.hypot(ys[:, None] * 0.1 - b.y_um.to_numpy(), xs[:, None] * 0.1 - b.x_um.to_numpy())
    j = d.argmin(axis=1)
    # position noise of a Gaussian spot ≈ σ·noise/amp·√(8π)/... ≪ 0.15 px here
    assert np.max(d.min(axis=1)) < 0.15 * 0.1
    np.testing.assert_allclose(b.sigma_um.to_numpy()[j], 0.2, rtol=0.1)
    np.testing.assert_allclose(b.amplitude.to_numpy()[j], amp, rtol=0.1)
    np.testing.assert_allclose(b.radius_um, np.sqrt(2) * b.sigma_um)


def test_blobs_threshold_roi_and_noise():
    img, ys, xs, amp = _spots(1, noise=2.0)
    b = detect_blobs(img, spacing=0.1, sigma_min_um=0.1, sigma_max_um=0.4, threshold=45)
    assert len(b) == int(np.sum(amp >= 45 * 1.05)) or abs(len(b) - np.sum(amp >= 45)) <= 2
    roi = np.zeros(img.shape, bool)
    roi[:128] = True
    b = detect_blobs(img, spacing=0.1, sigma_min_um=0.1, sigma_max_um=0.4, threshold=15, roi=roi)
    assert len(b) == int(np.sum(ys < 127.5))
    noise = np.random.default_rng(2).normal(100, 2.0, (256, 256))
    assert (
        len(detect_blobs(noise, spacing=0.1, sigma_min_um=0.1, sigma_max_um=0.4, threshold=15)) == 0
    )


def test_blob_bad_input():
    with pytest.raises(InputError, match="swap"):
        detect_blobs(np.zeros((20, 20)), spacing=1, sigma_min_um=3, sigma_max_um=1, threshold=1)
