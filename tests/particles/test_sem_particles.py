"""SEM particle analysis against synthetic SEM images with planted particles.

The images are built here: Li particles are supersampled disks (secondary-electron
contrast: brighter than the Au, with a brighter rim) of known diameters on a substrate
whose SECCM footprint is a disk of slightly different grey; some particles form
touching pairs (centre distance 0.8–0.95 × the sum of the radii), the image is blurred
(σ = 1 px) and gets Gaussian + Poisson-like noise, then is quantised to uint8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment

from platescope import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.particles import detect_particles, footprint_from_sem, particle_summary

PX_NM = 8.0
PX_UM = PX_NM / 1000.0


# ------------------------------------------------------------------ synthetic SEM


def _render(shape, parts_px, fp_px, *, bg_out, bg_in, contrast=50.0, rim=30.0, rim_frac=0.2):
    """Substrate with a footprint disk plus particles (max-composited, 4×4 supersampled)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cy, cx, r_fp = fp_px
    img = np.where((yy - cy) ** 2 + (xx - cx) ** 2 <= r_fp**2, bg_in, bg_out).astype(float)
    layer = np.zeros(shape)
    sub = (np.arange(4) + 0.5) / 4 - 0.5
    for y, x, r in parts_px:
        y0, y1 = max(int(y - r - 2), 0), min(int(y + r + 3), shape[0])
        x0, x1 = max(int(x - r - 2), 0), min(int(x + r + 3), shape[1])
        py = np.arange(y0, y1)[:, None, None, None] + sub[None, None, :, None]
        px = np.arange(x0, x1)[None, :, None, None] + sub[None, None, None, :]
        d = np.hypot(py - y, px - x)
        cov = (d <= r).mean(axis=(2, 3))
        cov_rim = ((d <= r) & (d > (1 - rim_frac) * r)).mean(axis=(2, 3))
        layer[y0:y1, x0:x1] = np.maximum(layer[y0:y1, x0:x1], contrast * cov + rim * cov_rim)
    return img + layer


def _place(rng, shape, fp_px, n_center, n_edge, n_out, n_pairs, big_r_px=None):
    """Particle centres/radii (px): pairs and singles, non-touching apart from the pairs."""
    cy, cx, r_fp = fp_px
    gap = 3.0
    ys, xs, rs = [], [], []

    def radius():
        while True:
            d = rng.normal(75.0, 18.0)
            if 40.0 <= d <= 120.0:
                return d / PX_NM / 2

    def free(y, x, r, skip=0):
        if y - r < 3 or x - r < 3 or y + r > shape[0] - 4 or x + r > shape[1] - 4:
            return False
        if len(ys) <= skip:
            return True
        a = np.asarray(ys[: len(ys) - skip]), np.asarray(xs[: len(xs) - skip])
        return bool(
            np.all(np.hypot(a[0] - y, a[1] - x) >= np.asarray(rs[: len(rs) - skip]) + r + gap)
        )

    def point(kind):
        while True:
            if kind == "center":
                rr = 0.8 * r_fp * np.sqrt(rng.uniform())
            elif kind == "edge":
                rr = np.sqrt(rng.uniform((0.8 * r_fp) ** 2, r_fp**2))
            else:
                y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
                if np.hypot(y - cy, x - cx) > r_fp + 8:
                    return y, x
                continue
            th = rng.uniform(0, 2 * np.pi)
            return cy + rr * np.sin(th), cx + rr * np.cos(th)

    pairs = []
    if big_r_px is not None:
        ys.append(cy + 0.3 * r_fp)
        xs.append(cx)
        rs.append(big_r_px)
    while len(pairs) < n_pairs:
        y1, x1 = point("center")
        r1, r2 = radius(), radius()
        th = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(0.8, 0.95) * (r1 + r2)
        y2, x2 = y1 + dist * np.sin(th), x1 + dist * np.cos(th)
        if np.hypot(y2 - cy, x2 - cx) > 0.8 * r_fp or not free(y1, x1, r1):
            continue
        ys.append(y1), xs.append(x1), rs.append(r1)
        if free(y2, x2, r2, skip=1):
            ys.append(y2), xs.append(x2), rs.append(r2)
            pairs.append((len(ys) - 2, len(ys) - 1))
        else:
            ys.pop(), xs.pop(), rs.pop()
    for kind, n in (("center", n_center - 2 * n_pairs), ("edge", n_edge), ("out", n_out)):
        placed = 0
        for _ in range(200 * max(n, 1)):
            if placed >= n:
                break
            y, x = point(kind)
            r = radius()
            if free(y, x, r):
                ys.append(y), xs.append(x), rs.append(r)
                placed += 1
    return np.column_stack([ys, xs, rs]), pairs


def make_scene(
    seed,
    *,
    shape=(560, 560),
    fp_radius_um=1.9,
    density_center_cm2=1.5e9,
    density_edge_cm2=3.0e9,
    density_out_cm2=0.5e9,
    n_pairs=12,
    noise=1.0,
    bg_out=100.0,
    bg_in=112.0,
    big_um2=None,
):
    """A synthetic SEM image and its truth (particles in µm/nm, pairs, footprint)."""
    rng = np.random.default_rng(seed)
    r_fp = fp_radius_um / PX_UM
    fp_px = (shape[0] / 2 + rng.uniform(-8, 8), shape[1] / 2 + rng.uniform(-8, 8), r_fp)
    a_center = np.pi * (0.8 * fp_radius_um) ** 2 * 1e-8
    a_edge = np.pi * fp_radius_um**2 * 1e-8 - a_center
    a_out = shape[0] * shape[1] * PX_UM**2 * 1e-8 - a_center - a_edge
    big_r = None if big_um2 is None else np.sqrt(big_um2 / np.pi) / PX_UM
    parts, pairs = _place(
        rng,
        shape,
        fp_px,
        rng.poisson(density_center_cm2 * a_center),
        rng.poisson(density_edge_cm2 * a_edge),
        rng.poisson(density_out_cm2 * a_out),
        n_pairs,
        big_r,
    )
    clean = ndi.gaussian_filter(_render(shape, parts, fp_px, bg_out=bg_out, bg_in=bg_in), 1.0)
    sd = noise * np.sqrt(6.0**2 + 0.5 * clean)  # read noise + shot noise
    img = np.clip(np.rint(clean + rng.normal(size=shape) * sd), 0, 255).astype(np.uint8)
    da = xr.DataArray(
        img,
        dims=("y", "x"),
        coords={"y": np.arange(shape[0]) * PX_UM, "x": np.arange(shape[1]) * PX_UM},
        attrs={"pixel_size_nm": PX_NM, "units": "grey", "mode": "sem", "source": None},
    )
    truth = pd.DataFrame(
        {
            "y_um": parts[:, 0] * PX_UM,
            "x_um": parts[:, 1] * PX_UM,
            "diameter_nm": 2 * parts[:, 2] * PX_NM,
        }
    )
    fp = {
        "center_y_um": fp_px[0] * PX_UM,
        "center_x_um": fp_px[1] * PX_UM,
        "radius_um": fp_radius_um,
    }
    r = np.hypot(truth.y_um - fp["center_y_um"], truth.x_um - fp["center_x_um"])
    truth["inside"] = r <= fp_radius_um
    truth["edge"] = truth["inside"] & (r > 0.8 * fp_radius_um)
    return da, truth, pairs, fp


def _true_mask(image, fp):
    yy, xx = np.meshgrid(image.y.values, image.x.values, indexing="ij")
    return (yy - fp["center_y_um"]) ** 2 + (xx - fp["center_x_um"]) ** 2 <= fp["radius_um"] ** 2


def _match(truth, table):
    """One-to-one matching of detections to planted particles within one radius."""
    t = truth[["y_um", "x_um"]].to_numpy()
    d = table[["y_um", "x_um"]].to_numpy()
    dist = np.hypot(t[:, None, 0] - d[None, :, 0], t[:, None, 1] - d[None, :, 1])
    radius_um = truth["diameter_nm"].to_numpy()[:, None] / 2000.0
    cost = np.where(dist <= radius_um, dist, 1e6)
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] < 1e6
    m = np.full(len(t), -1)
    m[r[ok]] = c[ok]
    return m


def _analyse(image, **kw):
    mask, circle = footprint_from_sem(image)
    labels, table = detect_particles(image, mask=mask, **kw)
    return mask, circle, labels, table


# ------------------------------------------------------------------------ accuracy


@pytest.mark.parametrize("seed", range(4))
def test_count_and_mean_diameter_within_5_percent(seed):
    image, truth, _, _ = make_scene(seed)
    _, _, _, table = _analyse(image)
    inside = truth[truth.inside]
    assert len(table) == pytest.approx(len(inside), rel=0.05)
    assert table.diameter_nm.mean() == pytest.approx(inside.diameter_nm.mean(), rel=0.05)


@pytest.mark.parametrize("seed", range(3))
def test_recall_precision_and_touching_pairs(seed):
    image, truth, pairs, fp = make_scene(10 + seed, n_pairs=20)
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    _, table = detect_particles(image, mask=mask)
    m = _match(truth, table)
    recall = np.mean(m[truth.inside.to_numpy()] >= 0)
    precision = len(set(m[m >= 0])) / len(table)
    assert recall >= 0.95
    assert precision >= 0.95
    split = [m[a] >= 0 and m[b] >= 0 for a, b in pairs]
    assert np.mean(split) >= 0.8  # pairs of ≤ 45 nm particles are at the resolution limit


def test_planted_sizes_are_recovered_particle_by_particle():
    image, truth, _, fp = make_scene(21, n_pairs=0)
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    _, table = detect_particles(image, mask=mask)
    m = _match(truth, table)
    ok = truth.inside.to_numpy() & (m >= 0)
    err = table.diameter_nm.to_numpy()[m[ok]] - truth.diameter_nm.to_numpy()[ok]
    assert abs(np.median(err)) < 5.0  # nm, less than a pixel
    assert (
        np.corrcoef(table.diameter_nm.to_numpy()[m[ok]], truth.diameter_nm.to_numpy()[ok])[0, 1]
        > 0.95
    )


def test_twice_the_noise_still_counts_within_10_percent():
    image, truth, _, _ = make_scene(31, noise=2.0)
    _, _, _, table = _analyse(image)
    inside = truth[truth.inside]
    assert len(table) == pytest.approx(len(inside), rel=0.10)
    assert table.diameter_nm.mean() == pytest.approx(inside.diameter_nm.mean(), rel=0.08)


def test_size_filter_drops_a_planted_large_blob():
    image, truth, _, fp = make_scene(41, big_um2=0.15, n_pairs=4)
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    big = truth.iloc[0]  # planted first
    assert big.diameter_nm == pytest.approx(2000 * np.sqrt(0.15 / np.pi))

    def near_big(t):
        return np.hypot(t.y_um - big.y_um, t.x_um - big.x_um) < big.diameter_nm / 2000

    _, table = detect_particles(image, mask=mask)
    assert not near_big(table).any()
    assert table.attrs["n_dropped_large"] >= 1
    # with a looser limit the blob is kept and measured at its planted area
    _, loose = detect_particles(image, mask=mask, max_area_um2=0.2)
    hit = loose[near_big(loose)]
    assert len(hit) == 1
    assert hit.area_nm2.iloc[0] / 1e6 == pytest.approx(0.15, rel=0.05)


def test_min_area_filter_removes_small_objects():
    image, truth, _, fp = make_scene(42)
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    _, table = detect_particles(image, mask=mask)
    _, strict = detect_particles(image, mask=mask, min_area_nm2=4000.0)
    assert strict.area_nm2.min() >= 4000.0
    assert len(strict) == int((table.area_nm2 >= 4000.0).sum())


# ------------------------------------------------------------------------ footprint


@pytest.mark.parametrize(("seed", "bg_in"), [(51, 112.0), (52, 90.0), (53, 106.0)])
def test_footprint_found_covers_the_planted_one(seed, bg_in):
    image, truth, _, fp = make_scene(seed, bg_in=bg_in)
    mask, circle = footprint_from_sem(image)
    true = _true_mask(image, fp)
    iou = (true & mask.values).sum() / (true | mask.values).sum()
    assert iou > 0.9
    assert circle["radius_um"] == pytest.approx(
        fp["radius_um"], abs=max(0.05, 4 * circle["radius_um_err"])
    )
    assert circle["center_x_um"] == pytest.approx(fp["center_x_um"], abs=0.05)
    # the counting then agrees with the planted truth whatever the footprint grey
    _, table = detect_particles(image, mask=mask)
    assert len(table) == pytest.approx(int(truth.inside.sum()), rel=0.05)


@pytest.mark.parametrize("bg_in", [150.0, 60.0])
def test_strong_footprint_contrast_does_not_leak_into_the_count(bg_in):
    # a footprint step as large as the particle contrast: the background is taken
    # separately inside and outside the footprint, so its edge is not a "particle"
    image, truth, _, _ = make_scene(81, bg_in=bg_in)
    _, _, _, table = _analyse(image)
    assert len(table) == pytest.approx(int(truth.inside.sum()), rel=0.05)


def test_footprint_from_particle_density_when_greys_match():
    # same substrate grey inside and out: only the particle density marks the footprint
    image, truth, _, fp = make_scene(54, bg_in=100.0, density_out_cm2=0.2e9, shape=(800, 800))
    mask, circle = footprint_from_sem(image, method="density")
    true = _true_mask(image, fp)
    assert (true & mask.values).sum() / (true | mask.values).sum() > 0.9
    assert circle["radius_um"] == pytest.approx(fp["radius_um"], rel=0.05)
    assert circle["method"] == "density"


def test_user_circle_gives_the_analytic_disk():
    image, _, _, fp = make_scene(55, n_pairs=0, density_out_cm2=0.0)
    mask, circle = footprint_from_sem(image, circle_um=(2.0, 2.1, 1.5))
    yy, xx = np.meshgrid(image.y.values, image.x.values, indexing="ij")
    np.testing.assert_array_equal(mask.values, (yy - 2.0) ** 2 + (xx - 2.1) ** 2 <= 1.5**2)
    assert circle["method"] == "given"
    assert circle["area_um2"] == pytest.approx(np.pi * 1.5**2, rel=0.01)


# -------------------------------------------------------------------------- summary


def test_summary_against_planted_truth():
    image, truth, _, fp = make_scene(61, n_pairs=6)
    mask, circle, _, table = _analyse(image)
    inside = truth[truth.inside]
    q = 1e-12  # C
    s = particle_summary(table, mask=mask, footprint=circle, charge_C=-q)
    area_cm2 = np.pi * fp["radius_um"] ** 2 * 1e-8
    assert s["density_cm2"] == pytest.approx(len(inside) / area_cm2, rel=0.06)
    # edge ring planted at twice the centre density
    ring = truth.edge
    centre = truth.inside & ~truth.edge
    a_edge = area_cm2 * (1 - 0.8**2)
    a_centre = area_cm2 * 0.8**2
    assert s["edge"]["density_cm2"] == pytest.approx(ring.sum() / a_edge, rel=0.12)
    assert s["center"]["density_cm2"] == pytest.approx(centre.sum() / a_centre, rel=0.08)
    assert s["edge"]["density_cm2"] > s["center"]["density_cm2"] + 2 * np.hypot(
        s["edge"]["density_cm2_err"], s["center"]["density_cm2_err"]
    )
    # deposited Li (spheres): diameters within 5 % → amount within ~15 %
    n_true = np.sum(np.pi * (inside.diameter_nm * 1e-7) ** 3 / 6) / LI_MOLAR_VOLUME_CM3_MOL * 1e15
    assert s["deposited_Li_fmol"] == pytest.approx(n_true, rel=0.15)
    fe_true = n_true * 1e-15 * FARADAY_C_MOL / q
    assert s["faradaic_efficiency"] == pytest.approx(fe_true, rel=0.15)
    assert s["mean_diameter_nm"] == pytest.approx(inside.diameter_nm.mean(), rel=0.05)


def test_summary_arithmetic_on_a_hand_made_table():
    c = np.arange(200) * 0.01
    m = xr.DataArray(
        np.add.outer((c - 1.0) ** 2, (c - 1.0) ** 2) <= 0.8**2,
        dims=("y", "x"),
        coords={"y": c, "x": c},
        attrs={"pixel_size_nm": 10.0},
    )
    d = np.array([50.0, 60.0, 70.0, 80.0, 90.0])
    t = pd.DataFrame(
        {
            "y_um": [1.0, 1.1, 0.9, 1.0, 1.75],  # last one in the edge ring (r = 0.75)
            "x_um": [1.0, 1.0, 1.0, 1.7, 1.0],  # (r = 0.7 → edge too)
            "diameter_nm": d,
        }
    )
    t.loc[5] = [1.95, 1.95, 100.0]  # outside the mask: not counted
    q = 2e-12
    s = particle_summary(t, mask=m, footprint=((1.0, 1.0), 0.8), charge_C=q)
    area_cm2 = m.values.sum() * 0.01**2 * 1e-8
    assert s["count"] == 5
    assert s["count_err"] == pytest.approx(np.sqrt(5))
    assert s["density_cm2"] == pytest.approx(5 / area_cm2)
    assert s["density_cm2_err"] == pytest.approx(np.sqrt(5) / area_cm2)
    assert s["mean_diameter_nm"] == pytest.approx(70.0)
    assert s["sd_diameter_nm"] == pytest.approx(np.std(d, ddof=1))
    assert s["mean_diameter_nm_err"] == pytest.approx(np.std(d, ddof=1) / np.sqrt(5))
    mol = np.pi * (d * 1e-7) ** 3 / 6 / 13.0
    assert s["deposited_Li_fmol"] == pytest.approx(mol.sum() * 1e15)
    assert s["deposited_Li_fmol_err"] == pytest.approx(np.sqrt(np.sum((mol * 1e15) ** 2)))
    assert s["faradaic_efficiency"] == pytest.approx(mol.sum() * 96485.33212 / q)
    assert s["edge"]["count"] == 2 and s["center"]["count"] == 3
    assert s["edge"]["mean_diameter_nm"] == pytest.approx(85.0)
    assert s["edge"]["area_um2"] + s["center"]["area_um2"] == pytest.approx(s["area_um2"])
    # no charge → null with a reason
    s0 = particle_summary(t, mask=m, footprint=((1.0, 1.0), 0.8))
    assert s0["faradaic_efficiency"] is None and s0["faradaic_efficiency_reason"]
    # the same with y running downwards (image convention of some readers)
    s1 = particle_summary(t, mask=m.isel(y=slice(None, None, -1)), footprint=((1.0, 1.0), 0.8))
    assert (s1["count"], s1["edge"]["count"]) == (5, 2)
    with pytest.raises(InputError):
        particle_summary(t, mask=m, footprint=((1.0, 1.0), 0.8), charge_C="lots")
    with pytest.raises(InputError):
        particle_summary(t, mask=m, footprint=((1.0, 1.0), 0.8), edge_fraction=1.5)
    with pytest.raises(InputError):
        particle_summary(t.drop(columns="diameter_nm"), mask=m, footprint=((1.0, 1.0), 0.8))


def test_empty_table_gives_zero_count_and_null_means():
    c = np.arange(50) * 0.01
    m = xr.DataArray(np.ones((50, 50), bool), dims=("y", "x"), coords={"y": c, "x": c})
    t = pd.DataFrame({"y_um": [], "x_um": [], "diameter_nm": []})
    s = particle_summary(t, mask=m, footprint=((0.25, 0.25), 0.2), charge_C=1e-12)
    assert s["count"] == 0 and s["density_cm2"] == 0.0
    assert s["mean_diameter_nm"] is None and s["deposited_Li_fmol"] == 0.0


# ----------------------------------------------------------------------- behaviour


def test_table_columns_units_and_label_image_agree():
    image, _, _, _ = make_scene(71, n_pairs=3)
    mask, _, labels, table = _analyse(image)
    assert list(table.columns) == [
        "label",
        "y_um",
        "x_um",
        "area_nm2",
        "diameter_nm",
        "perimeter_nm",
        "circularity",
        "mean_intensity",
    ]
    assert labels.dims == ("y", "x") and labels.dtype == np.int32
    np.testing.assert_allclose(labels.x.values, image.x.values)
    # each table row is one label of the label image, with its pixel area
    counts = np.bincount(labels.values.ravel())
    np.testing.assert_allclose(table.area_nm2, counts[table.label] * PX_NM**2)
    assert set(np.unique(labels.values)) - {0} == set(table.label)
    np.testing.assert_allclose(table.diameter_nm, np.sqrt(4 * table.area_nm2 / np.pi))
    assert ((table.circularity > 0) & (table.circularity <= 1)).all()
    assert (table.mean_intensity > 100).all()  # particles are brighter than the Au


def test_float_and_uint8_images_give_the_same_particles():
    image, _, _, _ = make_scene(72, n_pairs=3)
    mask, _ = footprint_from_sem(image)
    _, a = detect_particles(image, mask=mask)
    _, b = detect_particles(image.astype(np.float32) / 255.0 * 4.0, mask=mask)
    assert len(a) == len(b)
    np.testing.assert_allclose(a.diameter_nm, b.diameter_nm)


@pytest.mark.parametrize("threshold", ["triangle", "li", 25.0])
def test_other_threshold_choices_count_the_same_particles(threshold):
    image, truth, _, fp = make_scene(73, n_pairs=3)
    mask, _ = footprint_from_sem(
        image, circle_um=(fp["center_y_um"], fp["center_x_um"], fp["radius_um"])
    )
    _, table = detect_particles(image, mask=mask, threshold=threshold)
    assert len(table) == pytest.approx(int(truth.inside.sum()), rel=0.05)
    assert table.attrs["threshold_method"] == (threshold if isinstance(threshold, str) else "fixed")


def test_pixel_size_from_coords_when_attr_missing():
    image, _, _, _ = make_scene(74, n_pairs=0)
    mask, _ = footprint_from_sem(image)
    _, a = detect_particles(image, mask=mask)
    bare = image.copy()
    bare.attrs = {}
    _, b = detect_particles(bare, mask=mask)
    assert b.attrs["pixel_size_nm"] == pytest.approx(PX_NM)
    np.testing.assert_allclose(a.area_nm2, b.area_nm2)


def test_blank_image_finds_nothing():
    rng = np.random.default_rng(0)
    img = xr.DataArray(
        rng.normal(100, 5, (128, 128)),
        dims=("y", "x"),
        coords={"y": np.arange(128) * PX_UM, "x": np.arange(128) * PX_UM},
        attrs={"pixel_size_nm": PX_NM},
    )
    labels, table = detect_particles(img)
    assert len(table) == 0 and not labels.values.any()


def _img(a, **attrs):
    return xr.DataArray(a, dims=("y", "x") if a.ndim == 2 else ("t", "y", "x"), attrs=attrs)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros((64, 64)),  # not a DataArray
        lambda: _img(np.zeros((3, 64, 64)), pixel_size_nm=8.0),  # a movie
        lambda: _img(np.zeros((64, 64))),  # no pixel size anywhere
        lambda: _img(np.full((64, 64), np.nan), pixel_size_nm=8.0),
        lambda: _img(np.zeros((64, 64), dtype=bool), pixel_size_nm=8.0),
    ],
)
def test_bad_images_raise_input_error(make):
    with pytest.raises(InputError):
        detect_particles(make())


def test_bad_options_raise_input_error():
    img = _img(np.zeros((64, 64)), pixel_size_nm=8.0)
    with pytest.raises(InputError):
        detect_particles(img, threshold="magic")
    with pytest.raises(InputError):
        detect_particles(img, mask=np.ones((10, 10), bool))
    with pytest.raises(InputError):
        detect_particles(img, mask=np.zeros((64, 64), bool))
    with pytest.raises(InputError):
        detect_particles(img, sigma_nm=-1)
    with pytest.raises(InputError):
        detect_particles(img, size_by="guess")
    with pytest.raises(InputError):
        footprint_from_sem(img, circle_um=(100.0, 100.0, 1.0))  # off the image
    with pytest.raises(InputError):
        footprint_from_sem(img)  # no contrast at all
    with pytest.raises(InputError):
        footprint_from_sem(img, method="psychic")


# --------------------------------------------- touching pairs of the sem-particles model


def _scenario_image(seed, j):
    """One image of the sem-particles forward model (small footprint, 30 % in pairs)."""
    from platescope.simulate._sem_particles import make_sem_particles

    sim = make_sem_particles(
        seed=seed,
        current_densities_mA_cm2=str(j),
        footprint_diameter_um=3.0,
        image_height_px=480,
        image_width_px=480,
        pair_fraction=0.3,
    )
    im = sim["images"][0]
    px_um = im["pixel_size_nm"] / 1000.0
    sem = im["sem"][:480]  # drop the data bar
    c = np.arange(480) * px_um
    image = xr.DataArray(
        sem, dims=("y", "x"), coords={"y": c, "x": c}, attrs={"pixel_size_nm": im["pixel_size_nm"]}
    )
    return image, im["particles"], im["footprint"]


# seeds and current densities fixed before the recipe was run on them
@pytest.mark.parametrize("j", [0.78, 3.82])
def test_overlapping_pairs_of_the_scenario_model_are_split(j):
    paired_hits, n_paired, n_hit, n_det = 0, 0, 0, 0
    for seed in (200, 201, 202):
        image, truth, fp = _scenario_image(seed, j)
        mask, _ = footprint_from_sem(
            image, circle_um=(fp["centre_y_um"], fp["centre_x_um"], fp["radius_um"])
        )
        _, table = detect_particles(
            image, mask=mask, sigma_nm=6.0, threshold="noise", ridge_min_nm=20.0
        )
        m = _match(truth, table)
        paired = truth["paired"].to_numpy(bool)
        paired_hits += int(np.sum(m[paired] >= 0))
        n_paired += int(paired.sum())
        n_hit += int(np.sum(m >= 0))
        n_det += len(table)
    assert n_paired > 100
    assert paired_hits / n_paired >= 0.95
    assert n_hit / n_det >= 0.95  # no over-splitting of single particles


def test_disk_pair_jacobian_matches_finite_differences():
    """The analytic Jacobian of the one/two-disk grey-level model (pair splitting)."""
    from scipy.optimize._numdiff import approx_derivative

    from platescope.particles._sem_particles import _disk_jacobian, _disk_residual

    rng = np.random.default_rng(0)
    yy, xx = (a.ravel().astype(float) for a in np.mgrid[0:20, 0:25])
    z = rng.normal(size=yy.size)
    cases = (
        (1, [3.0, 0.8, 0.1, 9.3, 11.2, 5.1]),
        (2, [3.0, 0.9, 0.1, 8.3, 8.2, 4.1, 11.0, 15.5, 3.7]),
        (2, [2.0, 0.1, 0.0, 8.3, 8.2, 4.1, 11.0, 15.5, 3.7]),  # edge width clamped at 0.2
    )
    for n, q in cases:
        q = np.array(q)
        got = _disk_jacobian(q, yy, xx, z, n)
        ref = approx_derivative(_disk_residual, q, method="3-point", args=(yy, xx, z, n))
        np.testing.assert_allclose(got, ref, atol=1e-6)
