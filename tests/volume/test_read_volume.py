"""read_volume: every format, voxel sizes from metadata or the user, laziness, bad input,
and the real NREL label volume (facts computed directly with tifffile/numpy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from platescope._errors import InputError
from platescope.io._volume import read_volume
from platescope.simulate._tomography import write_volume_tiff

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tomography" / "nrel_nmc"
NREL = DATA / "nmc-1-cal_generatedCBD_bridge.tif"


def _vol(shape=(7, 9, 11), seed=0):
    return np.random.default_rng(seed).integers(0, 60000, shape).astype(np.uint16)


def test_imagej_hyperstack_voxel_size_and_values(tmp_path):
    v = _vol()
    write_volume_tiff(tmp_path / "v.tif", v, voxel_size_um=0.25)
    da = read_volume(tmp_path / "v.tif")
    assert da.dims == ("z", "y", "x") and da.shape == v.shape
    assert da.attrs["format"] == "imagej-tiff"
    assert da.attrs["voxel_size_um"] == pytest.approx([0.25] * 3)
    assert float(da.x[-1]) == pytest.approx(10 * 0.25)
    np.testing.assert_array_equal(da.values, v)


def test_ome_tiff_voxel_size_units_converted(tmp_path):
    v = _vol()
    meta = {
        "axes": "ZYX",
        "PhysicalSizeZ": 800.0,
        "PhysicalSizeZUnit": "nm",
        "PhysicalSizeY": 0.4,
        "PhysicalSizeYUnit": "µm",
        "PhysicalSizeX": 0.4,
        "PhysicalSizeXUnit": "µm",
    }
    tifffile.imwrite(tmp_path / "v.ome.tif", v, ome=True, photometric="minisblack", metadata=meta)
    da = read_volume(tmp_path / "v.ome.tif")
    assert da.attrs["format"] == "ome-tiff"
    assert da.attrs["voxel_size_um"] == pytest.approx([0.8, 0.4, 0.4])
    np.testing.assert_array_equal(da.values, v)


def test_lazy_chunks_by_z_slabs(tmp_path):
    v = _vol((20, 8, 8))
    write_volume_tiff(tmp_path / "v.tif", v, voxel_size_um=1.0)
    da = read_volume(tmp_path / "v.tif", chunk_z=6)
    assert hasattr(da.data, "dask")
    assert da.data.chunks[0] == (6, 6, 6, 2)
    np.testing.assert_array_equal(da[7:13].values, v[7:13])


def test_plain_tiff_needs_user_voxel_size(tmp_path):
    v = _vol()
    tifffile.imwrite(tmp_path / "p.tif", v, photometric="minisblack")
    with pytest.raises(InputError, match="no voxel size") as exc:
        read_volume(tmp_path / "p.tif")
    assert "voxel_size_um" in str(exc.value)
    da = read_volume(tmp_path / "p.tif", voxel_size_um=[2.0, 0.5, 0.5])
    assert da.attrs["voxel_size_um"] == [2.0, 0.5, 0.5]
    assert da.attrs["voxel_size_source"] == "user"


def test_user_voxel_size_overrides_metadata_with_note(tmp_path):
    write_volume_tiff(tmp_path / "v.tif", _vol(), voxel_size_um=0.25)
    da = read_volume(tmp_path / "v.tif", voxel_size_um=0.5)
    assert da.attrs["voxel_size_um"] == [0.5] * 3
    assert "overrides" in da.attrs["voxel_size_note"]


@pytest.mark.parametrize("bad", [0, -1.0, [1.0, 2.0], "abc", float("nan"), True])
def test_bad_voxel_size(tmp_path, bad):
    write_volume_tiff(tmp_path / "v.tif", _vol(), voxel_size_um=0.25)
    with pytest.raises(InputError, match="voxel_size_um"):
        read_volume(tmp_path / "v.tif", voxel_size_um=bad)


def test_folder_of_slices_natural_sort(tmp_path):
    for i in range(12):
        tifffile.imwrite(tmp_path / f"slice{i}.tif", np.full((5, 6), i, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    da = read_volume(tmp_path, voxel_size_um=1.0, chunk_z=5)
    assert da.attrs["format"] == "slices"
    assert da.values[:, 0, 0].tolist() == list(range(12))  # slice10 after slice9


def test_folder_with_mismatched_slice(tmp_path):
    tifffile.imwrite(tmp_path / "a1.tif", np.zeros((5, 6), np.uint8))
    tifffile.imwrite(tmp_path / "a2.tif", np.zeros((5, 7), np.uint8))
    with pytest.raises(InputError, match="differ"):
        read_volume(tmp_path, voxel_size_um=1.0)


def test_zarr_with_voxel_attrs(tmp_path):
    import zarr

    v = _vol((10, 6, 5))
    z = zarr.open_array(
        str(tmp_path / "v.zarr"), mode="w", shape=v.shape, chunks=(4, 6, 5), dtype=v.dtype
    )
    z[:] = v
    z.attrs["voxel_size_um"] = [1.5, 0.5, 0.5]
    da = read_volume(tmp_path / "v.zarr")
    assert da.attrs["format"] == "zarr" and da.attrs["voxel_size_um"] == [1.5, 0.5, 0.5]
    np.testing.assert_array_equal(da.values, v)


def test_multichannel_hyperstack_refused(tmp_path):
    data = np.zeros((4, 2, 8, 8), np.uint8)
    tifffile.imwrite(tmp_path / "c.tif", data, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(InputError, match="not one 3-D volume"):
        read_volume(tmp_path / "c.tif", voxel_size_um=1.0)


def test_missing_and_corrupt(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_volume(tmp_path / "nope.tif", voxel_size_um=1)
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(InputError, match="cannot be read"):
        read_volume(tmp_path / "bad.tif", voxel_size_um=1)


@pytest.mark.skipif(not NREL.exists(), reason="../shared/data/tomography is absent")
def test_nrel_label_volume_facts():
    # facts computed directly from the file, not through platescope
    raw = tifffile.imread(NREL)
    labels, counts = np.unique(raw, return_counts=True)
    assert raw.shape == (251, 301, 301)
    assert labels.tolist() == [0, 1, 2]
    with pytest.raises(InputError, match="no voxel size"):
        read_volume(NREL)  # 72 dpi resolution tags are not a voxel size
    da = read_volume(NREL, voxel_size_um=0.4)
    assert da.shape == raw.shape and da.dtype == raw.dtype
    got_labels, got_counts = np.unique(da.values, return_counts=True)
    assert got_counts.tolist() == counts.tolist()

    from platescope.volume import analyze_volume

    res = analyze_volume(
        da,
        labels={0: "pore", 1: "li", 2: "other"},
        collector_face="z0",
        thickness=False,
        transport_axis=None,
    )
    total = counts.sum()
    assert res["porosity"] == pytest.approx(counts[0] / total, abs=1e-12)
    assert res["phase_fraction"]["li"] == pytest.approx(counts[1] / total, abs=1e-12)
    assert res["phase_fraction"]["other"] == pytest.approx(counts[2] / total, abs=1e-12)
    assert res["li_volume_um3"] == pytest.approx(counts[1] * 0.4**3)
