"""find_footprint reports a footprint only when the image shows one (a stated test)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from platescope.particles import find_footprint, whole_image_region
from platescope.simulate import make_sem_morphology, make_sem_particles
from platescope.simulate._sem_model import SEM_DATABAR_ROWS

PX_NM = 8.0


def _da(a, px_nm=PX_NM):
    c = np.arange(a.shape[0]) * px_nm / 1000
    d = np.arange(a.shape[1]) * px_nm / 1000
    return xr.DataArray(a, dims=("y", "x"), coords={"y": c, "x": d}, attrs={"pixel_size_nm": px_nm})


@pytest.mark.parametrize("small", [False, True])
def test_simulated_footprint_is_found_where_planted(small):
    kw = (
        {"footprint_diameter_um": 2.0, "image_height_px": 384, "image_width_px": 448}
        if small
        else {}
    )
    sim = make_sem_particles(seed=0, current_densities_mA_cm2="0.2", **kw)
    im = sim["images"][0]
    mask, circle = find_footprint(_da(im["sem"][:-SEM_DATABAR_ROWS]))
    f = im["footprint"]
    assert circle["found"] is True
    assert (
        np.hypot(circle["center_y_um"] - f["centre_y_um"], circle["center_x_um"] - f["centre_x_um"])
        < 0.05
    )
    assert circle["radius_um"] == pytest.approx(f["radius_um"], rel=0.03)
    ev = circle["evidence"]
    assert ev["contrast_sd"] >= 3 and ev["iou"] >= 0.75 and ev["in_view_fraction"] > 0.99
    assert int(mask.values.sum()) < mask.size


@pytest.mark.parametrize("kind", ["granular", "whiskers", "continuous"])
def test_no_footprint_in_a_deposit_without_one(kind):
    img = make_sem_morphology(kind, seed=2, shape=(384, 384), pixel_size_nm=PX_NM)["image"]
    mask, circle = find_footprint(img)
    assert circle["found"] is False and circle["method"] == "whole image"
    assert bool(mask.values.all())
    assert "test:" in circle["reason"] or "no footprint edge" in circle["reason"]


def test_whole_image_region_describes_itself():
    img = _da(np.zeros((20, 30)))
    mask, circle = whole_image_region(img, "because")
    assert circle["reason"] == "because" and circle["found"] is False
    assert circle["area_um2"] == pytest.approx(20 * 30 * (PX_NM / 1000) ** 2)
