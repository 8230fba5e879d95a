"""Tomography figures drawn from a simulated volume: sections, size distribution, profile."""

from __future__ import annotations

import numpy as np
import xarray as xr

from platescope.report._figures_tomography import (
    fig_orthogonal_sections,
    fig_porosity_profile,
    fig_size_distribution,
)
from platescope.simulate._tomography import make_tomography
from platescope.volume import analyze_volume, orthogonal_sections


def test_figures_from_a_simulated_volume(tmp_path):
    sim = make_tomography(seed=2, size_xy_px=48, size_z_px=24, radius_mean_um=2.0)
    v = sim["voxel_size_um"]
    vol = xr.DataArray(sim["volume"], dims=("z", "y", "x"), attrs={"voxel_size_um": [v, v, v]})
    res = analyze_volume(vol, thickness=True, slab_z=8)
    sec = orthogonal_sections(vol, res["segmentation"], slab_z=5)
    assert sec["grey"]["xz"].shape == (24, 48)
    # the streamed sections equal the phases of the whole volume thresholded at once
    from platescope.volume._segment import phase_block

    seg = res["segmentation"]
    whole = phase_block(
        sim["volume"], thresholds=seg["thresholds"], smooth_sigma_vox=seg["smooth_sigma_vox"]
    )
    np.testing.assert_array_equal(sec["phase"]["xz"], whole[:, 24, :])
    np.testing.assert_array_equal(sec["phase"]["xy"], whole[12])
    fig = fig_orthogonal_sections(sec)
    assert len(fig.axes) == 3
    assert all(any(p.get_gid() == "scalebar" for p in ax.patches) for ax in fig.axes)
    fig.savefig(tmp_path / "s.png")
    fig_size_distribution(res).savefig(tmp_path / "d.png")
    fig_porosity_profile(res["profile"]).savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
