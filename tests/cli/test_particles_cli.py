"""``platescope particles IMAGE``: planted particles in, one CSV row per particle out."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from skimage.draw import disk

from platescope.cli import main
from platescope.io._image_writers import write_sem_tiff

PX_NM = 10.0
#: planted disks: (row, col, radius px); the last one touches the left edge
DISKS = [(30, 40, 6), (30, 100, 9), (80, 60, 4), (90, 140, 12), (60, 2, 5)]


def _planted(tmp_path, *, dtype=np.uint8, bright=200, background=30, bar=12):
    img = np.full((120 + bar, 180), background, dtype)
    areas = []
    for r, c, rad in DISKS:
        rr, cc = disk((r, c), rad, shape=(120, 180))
        img[rr, cc] = bright
        areas.append(rr.size)
    img[120:] = 255 if dtype == np.uint8 else 65535  # the data bar
    p = write_sem_tiff(str(tmp_path / "planted.tif"), img, pixel_size_nm=PX_NM, databar_rows=bar)
    return str(p), areas


def _run(capsys, argv) -> pd.DataFrame:
    code = main(["particles", *argv, "--out", "-"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return pd.read_csv(io.StringIO(out.out))


def test_planted_disks_are_counted_and_measured(tmp_path, capsys):
    p, areas = _planted(tmp_path)
    t = _run(capsys, [p, "--no-watershed"])
    px_um = PX_NM / 1000
    assert len(t) == len(DISKS)  # the data bar (brightest) is not a particle
    got = t.sort_values("area_um2")["area_um2"].to_numpy()
    assert got == pytest.approx(np.sort(areas) * px_um**2, rel=1e-12)
    # centroids of the symmetric digital disks are their centres (pixel j at j·spacing)
    # (not the one the image edge cuts)
    whole = t[~t["touches_border"]].sort_values(["y_um", "x_um"])
    want = sorted((r * px_um, c * px_um) for r, c, _ in DISKS[:-1])
    assert np.allclose(whole[["y_um", "x_um"]].to_numpy(), want, atol=1e-9)
    assert t["touches_border"].sum() == 1  # the disk at column 2 with radius 5
    assert (t["mean_intensity"] == 200).all()


def test_size_limits_and_border_exclusion(tmp_path, capsys):
    p, areas = _planted(tmp_path)
    px2 = (PX_NM / 1000) ** 2
    lo = sorted(areas)[1] * px2  # inclusive: the second-smallest disk stays
    t = _run(capsys, [p, "--no-watershed", "--min-area-um2", repr(lo)])
    assert len(t) == len(DISKS) - 1
    t = _run(capsys, [p, "--no-watershed", "--exclude-border"])
    assert len(t) == len(DISKS) - 1 and not t["touches_border"].any()


def test_csv_is_the_library_table(tmp_path, capsys):
    from platescope.io import read_sem
    from platescope.particles import measure_particles, segment_particles

    p, _ = _planted(tmp_path)
    out = tmp_path / "t.csv"
    assert main(["particles", p, "--out", str(out), "--sigma-um", "0.01"]) == 0
    img = read_sem(p)
    lab = segment_particles(img.values, spacing=PX_NM / 1000, sigma_um=0.01)
    ref = measure_particles(lab, img.values, spacing=PX_NM / 1000)
    assert out.read_text() == ref.to_csv(index=False)
    assert "5 particles in planted.tif" in capsys.readouterr().err


def test_imagej_levels_keep_pixels_at_the_level(tmp_path, capsys):
    """ImageJ's foreground is inclusive: a two-level image's Otsu level (ImageJ 1.53t:
    ``(200, 255)`` here, as in ``imagej_threshold``'s docstring) must keep the 200s."""
    p, _ = _planted(tmp_path)
    t = _run(capsys, [p, "--no-watershed", "--imagej-levels"])
    assert len(t) == len(DISKS)
    # dark particles: the disks are the background now, the level keeps the 30s
    dark = np.full((132, 180), 200, np.uint8)
    for r, c, rad in DISKS:
        rr, cc = disk((r, c), rad, shape=(120, 180))
        dark[rr, cc] = 30
    dark[120:] = 255
    q = str(write_sem_tiff(str(tmp_path / "dark.tif"), dark, pixel_size_nm=PX_NM, databar_rows=12))
    t = _run(capsys, [q, "--no-watershed", "--imagej-levels", "--polarity", "dark"])
    assert len(t) == len(DISKS)
    assert (t["mean_intensity"] == 30).all()


def test_sixteen_bit_image_without_metadata_needs_a_pixel_size(tmp_path, capsys):
    img = np.full((100, 100), 1000, np.uint16)
    rr, cc = disk((50, 50), 10)
    img[rr, cc] = 30000
    p = tmp_path / "plain.tif"
    tifffile.imwrite(p, img)
    assert main(["particles", str(p), "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert "pixel size" in err and "Traceback" not in err
    t = _run(capsys, [str(p), "--pixel-size-nm", "5", "--databar", "0", "--imagej-levels"])
    assert len(t) == 1
    assert t["area_um2"].iloc[0] == pytest.approx(rr.size * 0.005**2)
    assert t["equivalent_diameter_um"].iloc[0] == pytest.approx(
        math.sqrt(4 * rr.size / math.pi) * 0.005
    )


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--threshold", "fixed"], "--level"),
        (["--threshold", "li", "--imagej-levels"], "otsu, mean or yen"),
        (["--imagej-levels", "--sigma-um", "0.02"], "--imagej-levels"),
        (["--databar", "many"], "--databar"),
        (["--threshold", "local"], "local_block_um"),
    ],
)
def test_bad_options_exit_2_with_the_fix(tmp_path, capsys, extra, needle):
    p, _ = _planted(tmp_path)
    assert main(["particles", p, "--out", "-", *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_a_stack_says_only_its_first_image_was_analysed(tmp_path, capsys):
    img = np.full((3, 64, 64), 10, np.uint8)
    img[0, 10:20, 10:20] = 200  # one particle in the first image, two in the second
    img[1, 10:20, 10:20] = 200
    img[1, 40:50, 40:50] = 200
    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, img, photometric="minisblack")
    code = main(["particles", str(p), "--pixel-size-nm", "10", "--databar", "0", "--out", "-"])
    out = capsys.readouterr()
    assert code == 0
    assert len(pd.read_csv(io.StringIO(out.out))) == 1
    assert "holds 3 images; only the first was analysed" in out.err


def test_out_never_overwrites_a_file_platescope_did_not_write(tmp_path, capsys):
    """--out naming the input image, a user's file or a folder is exit 2 and leaves the
    file byte for byte; a table this command wrote before is replaced."""
    p, _ = _planted(tmp_path)
    p = Path(p)
    image_bytes = p.read_bytes()
    assert main(["particles", str(p), "--out", str(p)]) == 2
    assert "input image" in " ".join(capsys.readouterr().err.split())
    assert p.read_bytes() == image_bytes
    own = tmp_path / "notes.csv"
    own.write_text("label,comment\n1,keep me\n")
    assert main(["particles", str(p), "--out", str(own)]) == 2
    assert "did not write" in " ".join(capsys.readouterr().err.split())
    assert own.read_text() == "label,comment\n1,keep me\n"
    assert main(["particles", str(p), "--out", str(tmp_path)]) == 2
    out = tmp_path / "t.csv"
    assert main(["particles", str(p), "--out", str(out)]) == 0
    first = out.read_text()
    assert main(["particles", str(p), "--out", str(out), "--min-area-um2", "1e9"]) == 0
    assert out.read_text() != first and out.read_text().count("\n") == 1  # header only
