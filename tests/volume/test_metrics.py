"""platescope.volume against shapes with known answers (analytic geometry, physics)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.volume import (
    analyze_volume,
    geometric_tortuosity,
    grey_thresholds,
    li_charge,
    local_thickness_block,
    measure_phases,
)


def _ball(n=64, r=20.0, centre=(31.7, 32.2, 31.9)):
    z, y, x = np.mgrid[:n, :n, :n]
    return np.sqrt((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2)


@pytest.mark.parametrize("voxel", [0.5, 1.0])
def test_marching_cubes_area_of_a_sphere(voxel):
    """A blurred ball (partial-volume occupancy) — area within 1.5 % of 4πR²."""
    R = 20.0
    occ = np.clip(R + 0.5 - _ball(r=R), 0, 1)
    grey = ndimage.gaussian_filter(occ, 0.7)
    m = measure_phases(
        grey,
        phase_names=["pore", "li"],
        thresholds=[0.5],
        levels=[0.0, 1.0],
        voxel_size_um=(voxel,) * 3,
        smooth_sigma_vox=0.0,
        collector_face=None,
        slab_z=11,
    )
    true = 4 * math.pi * (R * voxel) ** 2
    assert m["li_surface_area_um2"] == pytest.approx(true, rel=0.015)
    assert m["li_surface_area_crofton_um2"] == pytest.approx(true, rel=0.02)
    assert m["li_volume_um3"] == pytest.approx(4 / 3 * math.pi * (R * voxel) ** 3, rel=0.02)


def test_label_sphere_area_needs_the_smoothing():
    """Marching cubes on a binary ball overestimates (~+9 %); the smoothed indicator does not."""
    R = 20.0
    lab = (_ball(r=R) <= R).astype(np.uint8)
    kw = dict(
        phase_names=["pore", "li"],
        label_map={0: 0, 1: 1},
        voxel_size_um=(1, 1, 1),
        collector_face=None,
    )
    true = 4 * math.pi * R**2
    raw = measure_phases(lab, area_sigma_vox=0.0, **kw)["li_surface_area_um2"]
    smooth = measure_phases(lab, area_sigma_vox=1.0, **kw)["li_surface_area_um2"]
    assert raw > 1.05 * true
    assert smooth == pytest.approx(true, rel=0.01)


def test_flat_film_area_excludes_box_faces_and_collector():
    v = np.zeros((20, 30, 40), np.uint8)
    v[:5] = 1
    m = measure_phases(
        v, phase_names=["pore", "li"], label_map={0: 0, 1: 1}, voxel_size_um=(0.5, 1.0, 2.0)
    )
    assert m["li_surface_area_um2"] == pytest.approx(30 * 1.0 * 40 * 2.0, rel=1e-6)
    assert m["porosity"] == pytest.approx(0.75)
    assert m["li_volume_um3"] == pytest.approx(5 * 30 * 40 * 0.5 * 1.0 * 2.0)
    assert m["profile"]["porosity"][:5] == [0.0] * 5 and m["profile"]["porosity"][5:] == [1.0] * 15


def test_slab_size_does_not_change_results():
    rng = np.random.default_rng(1)
    grey = ndimage.gaussian_filter(rng.random((40, 30, 30)), 2.0)
    t = grey_thresholds(grey)
    kw = dict(
        phase_names=["pore", "li"],
        thresholds=t["thresholds"],
        levels=t["levels"],
        voxel_size_um=(1, 1, 1),
        smooth_sigma_vox=1.0,
    )
    a = measure_phases(grey, slab_z=40, **kw)
    b = measure_phases(grey, slab_z=7, **kw)
    assert a["phase_voxels"] == b["phase_voxels"]
    assert a["li_surface_area_um2"] == pytest.approx(b["li_surface_area_um2"], rel=1e-9)
    assert a["components"]["count"] == b["components"]["count"]
    assert a["components"]["isolated_count"] == b["components"]["isolated_count"]
    assert sorted(a["components"]["volumes_um3"]) == sorted(b["components"]["volumes_um3"])


def test_components_isolated_and_26_connectivity():
    v = np.zeros((30, 30, 30), np.uint8)
    v[0:6, 5:10, 5:10] = 1  # on the collector
    v[6, 10, 10] = 1  # touches the block only by a corner (26-connected)
    v[15:18, 15:18, 15:18] = 1  # floating: isolated (27 voxels)
    v[20:23, 0:2, 20:23] = 1  # floating, touches the y0 side
    m = measure_phases(
        v,
        phase_names=["pore", "li"],
        label_map={0: 0, 1: 1},
        voxel_size_um=(1, 1, 1),
        collector_face="z0",
        slab_z=4,
    )
    c = m["components"]
    assert c["count"] == 3
    assert c["isolated_count"] == 2
    assert c["isolated_volume_um3"] == 27 + 18
    assert c["isolated_touching_other_faces"] == 1
    top = measure_phases(
        v,
        phase_names=["pore", "li"],
        label_map={0: 0, 1: 1},
        voxel_size_um=(1, 1, 1),
        collector_face="z1",
    )
    assert top["components"]["isolated_count"] == 3


def test_li_charge_is_faraday():
    v_um3 = 1.0e9  # 1e-3 cm³
    assert li_charge(v_um3) == pytest.approx(1e-3 / LI_MOLAR_VOLUME_CM3_MOL * FARADAY_C_MOL)
    # ρ V z F / M with ρ = 0.534 g cm⁻³, M = 6.94 g mol⁻¹ (V_M = 13.0 cm³ mol⁻¹)
    assert li_charge(v_um3) == pytest.approx(0.534 * 1e-3 * FARADAY_C_MOL / 6.94, rel=0.002)


def test_otsu_midpoint_thresholds_three_classes():
    rng = np.random.default_rng(2)
    lab = rng.integers(0, 3, (30, 30, 30))
    grey = np.array([10.0, 50.0, 130.0])[lab] + rng.normal(0, 4, lab.shape)
    t = grey_thresholds(grey, classes=3)
    assert t["levels"] == pytest.approx([10, 50, 130], abs=1.0)
    assert t["thresholds"] == pytest.approx([30, 90], abs=1.0)
    with pytest.raises(InputError, match="constant"):
        grey_thresholds(np.ones((4, 4, 4)))


def test_local_thickness_slab_and_ball():
    m = np.zeros((30, 40, 40), bool)
    m[:, 10:20, :] = True
    t, capped = local_thickness_block(m, voxel_size_um=(0.5, 0.5, 0.5))
    assert np.allclose(t[m], 5.0) and not capped
    ball = _ball(n=48, r=15, centre=(24, 24.3, 23.8)) <= 15
    t, _ = local_thickness_block(ball, voxel_size_um=(1, 1, 1))
    assert t[ball].mean() == pytest.approx(30.0, rel=0.05)


def test_geometric_tortuosity_known_paths():
    assert geometric_tortuosity(np.ones((12, 5, 5), bool), axis=0, voxel_size_um=(1, 1, 1))[
        "tortuosity"
    ] == pytest.approx(1.0)
    # a 45° staircase channel in x–z: each step is a √2 diagonal
    m = np.zeros((11, 3, 13), bool)
    for i in range(11):
        m[i, 1, i] = True
        m[i, 1, i + 1] = True
    r = geometric_tortuosity(m, axis=0, voxel_size_um=(1, 1, 1))
    # by hand: outlet (z=0, x=0) is 10 diagonals from inlet (10, 10); outlet (0, 1) is
    # 9 diagonals + 1 straight step from (10, 10) (shorter than 10 diagonals from (10, 11))
    expected = (10 * math.sqrt(2) + 9 * math.sqrt(2) + 1) / 2 / 10
    assert r["tortuosity"] == pytest.approx(expected, rel=1e-6)
    assert r["percolating"] and r["outlet_reached_fraction"] == 1.0
    blocked = np.ones((10, 4, 4), bool)
    blocked[5] = False
    assert geometric_tortuosity(blocked, axis=0, voxel_size_um=(1, 1, 1))["tortuosity"] is None


def test_tortuosity_of_a_straight_tube_along_x_with_anisotropic_voxels():
    m = np.zeros((5, 5, 20), bool)
    m[2, 2, :] = True
    r = geometric_tortuosity(m, axis=2, voxel_size_um=(2.0, 2.0, 0.5))
    assert r["tortuosity"] == pytest.approx(1.0) and r["length_um"] == pytest.approx(19 * 0.5)


def test_analyze_volume_outside_phase_and_errors():
    v = np.zeros((10, 10, 10), np.uint8)
    v[:, :, 5:] = 9  # outside the sample
    v[:3, :, :5] = 1
    vol = xr.DataArray(v, dims=("z", "y", "x"), attrs={"voxel_size_um": [1.0, 1.0, 1.0]})
    r = analyze_volume(vol, labels={0: "pore", 1: "li", 9: "outside"}, thickness=False)
    assert r["porosity"] == pytest.approx(0.7)
    assert r["roi_volume_um3"] == 500
    with pytest.raises(InputError, match="missing from the label map"):
        analyze_volume(vol, labels={0: "pore", 1: "li"}, thickness=False)
    with pytest.raises(InputError, match="collector_face"):
        analyze_volume(vol, labels={0: "pore", 1: "li", 9: "outside"}, collector_face="top")
    with pytest.raises(InputError, match="voxel size"):
        analyze_volume(xr.DataArray(v, dims=("z", "y", "x")), labels={0: "pore"})
