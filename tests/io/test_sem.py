"""SEM TIFFs: pixel size from FEI/Zeiss metadata, the data bar found and cut off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from platescope import InputError
from platescope.io import describe_sem, read_sem
from platescope.io._image_writers import write_sem_tiff
from platescope.io._sem import detect_databar


def _scene(h=400, w=600, seed=0):
    """Textured SEM-like image: smooth background, bright particles, detector noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = 95 + 20 * np.sin(x / 37.0) + 15 * np.cos(y / 53.0)
    for cy, cx, r in zip(
        rng.uniform(0, h, 40), rng.uniform(0, w, 40), rng.uniform(3, 12, 40), strict=True
    ):
        img[(y - cy) ** 2 + (x - cx) ** 2 < r**2] = 200
    return np.clip(rng.normal(img, 8), 0, 255).astype(np.uint8)


def _bar(w=600, rows=70, colour=40, separator=False, seed=1):
    """An instrument info band: uniform colour, white text-like glyphs, a scale bar."""
    rng = np.random.default_rng(seed)
    bar = np.full((rows, w), colour, np.uint8)
    if separator:
        bar[0] = 255
    for line_top in (12, 34):
        x = 10
        while x < w * 0.7:
            glyph = rng.integers(4, 9)
            bar[line_top : line_top + 12, x : x + glyph] = 255
            x += glyph + rng.integers(2, 12)
    bar[rows - 14 : rows - 10, int(w * 0.75) : int(w * 0.95)] = 255  # scale bar
    return bar


def _with_bar(img, **kw):
    return np.vstack([img, _bar(w=img.shape[1], **kw)])


# ------------------------------------------------------------------- FEI files


def test_fei_file_pixel_size_instrument_and_bar_from_metadata(tmp_path):
    image = _scene()
    full = _with_bar(image)
    p = write_sem_tiff(tmp_path / "sem.tif", full, pixel_size_nm=2.7, databar_rows=70)
    with tifffile.TiffFile(p) as tif:  # the writer's metadata as tifffile parses it
        fei = tif.fei_metadata
    assert fei["Scan"]["PixelWidth"] == pytest.approx(2.7e-9)
    assert fei["Image"]["ResolutionY"] == 400 and fei["PrivateFei"]["DatabarHeight"] == 70

    sem = read_sem(p)
    assert sem.dims == ("y", "x") and sem.shape == (400, 600)
    np.testing.assert_array_equal(sem.values, image)
    assert sem.attrs["pixel_size_nm"] == pytest.approx(2.7)
    assert sem.attrs["instrument"] == "Quanta 3D FEG"
    assert sem.attrs["databar_rows"] == 70
    assert sem.attrs["databar_source"] == "metadata:fei [Image] ResolutionY"
    assert sem.attrs["mode"] == "sem" and sem.attrs["source"] == str(p.resolve())
    np.testing.assert_allclose(sem.x[:3], [0, 0.0027, 0.0054])
    assert float(sem.y[-1]) == pytest.approx(399 * 0.0027)


def test_simulator_sized_sem_frame(tmp_path):
    """The simulator's layout: 1536 x 1094 uint8, bottom 70 rows a dark grey data bar."""
    image = _scene(1024, 1536, seed=5)
    p = write_sem_tiff(
        tmp_path / "sem.tif", _with_bar(image, colour=60), pixel_size_nm=4.2, databar_rows=70
    )
    sem = read_sem(p)
    assert sem.shape == (1024, 1536) and sem.attrs["databar_rows"] == 70
    assert detect_databar(tifffile.imread(p)) == 70  # metadata and detector agree


def _fei_tiff(path, image, ini):
    tifffile.imwrite(path, image, photometric="minisblack", extratags=[(34682, "s", 0, ini, True)])
    return path


def test_fei_databar_height_only_and_detection_when_metadata_is_silent(tmp_path):
    full = _with_bar(_scene(), rows=60)
    ini = "[System]\r\nSystemType=Helios G4\r\n[Scan]\r\nPixelWidth=1.5e-09\r\nPixelHeight=1.5e-09\r\n"
    p1 = _fei_tiff(tmp_path / "a.tif", full, ini + "[PrivateFei]\r\nDatabarHeight=60\r\n")
    sem1 = read_sem(p1)
    assert sem1.attrs["databar_rows"] == 60
    assert sem1.attrs["databar_source"] == "metadata:fei [PrivateFei] DatabarHeight"
    p2 = _fei_tiff(tmp_path / "b.tif", full, ini)
    sem2 = read_sem(p2)
    assert sem2.attrs["databar_rows"] == 60 and sem2.attrs["databar_source"] == "detected"
    assert sem2.attrs["instrument"] == "Helios G4"


def test_fei_escan_section_is_a_fallback(tmp_path):
    ini = "[EScan]\r\nPixelWidth=3.0e-09\r\nPixelHeight=3.5e-09\r\n"
    p = _fei_tiff(tmp_path / "e.tif", _scene(), ini)
    sem = read_sem(p)
    assert sem.attrs["pixel_size_nm"] == pytest.approx(3.0)
    assert sem.attrs["pixel_size_y_nm"] == pytest.approx(3.5)
    assert sem.attrs["databar_rows"] == 0


# ----------------------------------------------------------------------- Zeiss


@pytest.mark.parametrize(("value", "unit", "nm"), [("2.5", "nm", 2.5), ("0.0125", "µm", 12.5)])
def test_zeiss_pixel_size_with_unit(tmp_path, value, unit, nm):
    lines = [
        "0",
        "AP_IMAGE_PIXEL_SIZE",
        f"Image Pixel Size = {value} {unit}",
        "SV_SERIAL_NUMBER",
        "Serial No. = 4512-17",
        "",
    ]
    text = "\r\n".join(lines).encode("latin-1")  # Zeiss writes the micro sign as one byte
    p = tmp_path / "zeiss.tif"
    tifffile.imwrite(
        p,
        _with_bar(_scene(), rows=50),
        photometric="minisblack",
        extratags=[(34118, "s", 0, text, True)],
    )
    sem = read_sem(p)
    assert sem.attrs["pixel_size_nm"] == pytest.approx(nm)
    assert sem.attrs["instrument"] == "Zeiss SEM (serial 4512-17)"
    assert sem.attrs["databar_rows"] == 50  # Zeiss metadata say nothing: detected


# ---------------------------------------------------------------- the detector


@pytest.mark.parametrize(
    "kw",
    [
        {"colour": 40},
        {"colour": 0},  # black FEI-style bar
        {"colour": 0, "separator": True},
        {"colour": 128, "rows": 45},
        {"colour": 20, "rows": 120},
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detector_finds_bars_of_any_colour_and_height(kw, seed):
    full = _with_bar(_scene(seed=seed), seed=seed + 10, **kw)
    assert detect_databar(full) == kw.get("rows", 70)


@pytest.mark.parametrize("seed", range(6))
def test_detector_does_not_crop_plain_images(seed):
    assert detect_databar(_scene(seed=seed)) == 0


@pytest.mark.parametrize("seed", range(4))
def test_detector_does_not_crop_a_dark_bottom_area(seed):
    rng = np.random.default_rng(seed)
    img = _scene(seed=seed).astype(float)
    h = img.shape[0]
    # a shadowed bottom quarter: dim, noisy, heavily clipped at 0, with a ragged edge
    edge = (0.75 * h + 6 * np.sin(np.arange(img.shape[1]) / 15.0)).astype(int)
    rows = np.arange(h)[:, None]
    dark = rows >= edge[None, :]
    img[dark] = rng.poisson(0.8, size=dark.sum())
    assert detect_databar(img.astype(np.uint8)) == 0
    # a straight-edged region of exact zeros with nothing in it (no text, no scale bar)
    flat = _scene(seed=seed)
    flat[-80:] = 0
    assert detect_databar(flat) == 0
    # saturated charging streaks and blobs near the bottom
    bright = _scene(seed=seed)
    bright[-60:-20, 100:400] = 255
    assert detect_databar(bright) == 0


# ----------------------------------------------------- options and bad inputs


def test_plain_tiff_needs_pixel_size(tmp_path):
    p = tmp_path / "plain.tif"
    tifffile.imwrite(p, _with_bar(_scene()), photometric="minisblack")
    with pytest.raises(InputError, match="pixel_size_nm") as err:
        read_sem(p)
    assert str(p) in str(err.value)
    sem = read_sem(p, pixel_size_nm=10.0)
    assert sem.shape == (400, 600) and sem.attrs["databar_rows"] == 70
    assert sem.attrs["pixel_size_source"] == "pixel_size_nm" and sem.attrs["instrument"] is None


def test_databar_option(tmp_path):
    full = _with_bar(_scene())
    p = write_sem_tiff(tmp_path / "sem.tif", full, pixel_size_nm=2.0, databar_rows=70)
    whole = read_sem(p, databar=0)
    assert whole.shape == (470, 600) and whole.attrs["databar_rows"] == 0
    assert whole.attrs["databar_source"] == "disabled"
    assert read_sem(p, databar=25).shape == (445, 600)
    with pytest.raises(InputError, match="databar"):
        read_sem(p, databar="yes please")
    with pytest.raises(InputError, match="databar"):
        read_sem(p, databar=470)


def test_pixel_size_override_warns_when_it_disagrees(tmp_path):
    p = write_sem_tiff(
        tmp_path / "sem.tif", _with_bar(_scene()), pixel_size_nm=2.0, databar_rows=70
    )
    with pytest.warns(UserWarning, match="overrides"):
        sem = read_sem(p, pixel_size_nm=4.0)
    assert sem.attrs["pixel_size_nm"] == 4.0
    assert read_sem(p, pixel_size_nm=2.0).attrs["pixel_size_nm"] == 2.0  # agreeing: silent


def test_damaged_and_foreign_files(tmp_path):
    p = write_sem_tiff(
        tmp_path / "sem.tif", _with_bar(_scene()), pixel_size_nm=2.0, databar_rows=70
    )
    cut = tmp_path / "cut.tif"
    cut.write_bytes(p.read_bytes()[:100_000])
    with pytest.raises(InputError, match="truncated") as err:
        read_sem(cut)
    assert str(cut) in str(err.value)
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(InputError, match="not a TIFF"):
        read_sem(png)
    with pytest.raises(InputError, match="does not exist"):
        read_sem(tmp_path / "missing.tif")
    rgb = tmp_path / "rgb.tif"
    colour = np.zeros((40, 50, 3), np.uint8)
    colour[..., 0] = 200
    tifffile.imwrite(rgb, colour, photometric="rgb")
    with pytest.raises(InputError, match="colour"):
        read_sem(rgb, pixel_size_nm=1.0)


def test_grey_rgb_export_is_accepted(tmp_path):
    grey = _scene(120, 160)
    p = tmp_path / "rgbgrey.tif"
    tifffile.imwrite(p, np.repeat(grey[..., None], 3, axis=2), photometric="rgb")
    np.testing.assert_array_equal(read_sem(p, pixel_size_nm=1.0).values, grey)


def test_describe_sem(tmp_path):
    p = write_sem_tiff(
        tmp_path / "sem.tif", _with_bar(_scene()), pixel_size_nm=2.5, databar_rows=70
    )
    info = describe_sem(p)
    assert info["kind"] == "sem" and info["format"] == "fei-tiff"
    assert info["shape"] == (470, 600) and info["image_shape"] == (400, 600)
    assert info["pixel_size_nm"] == pytest.approx(2.5) and info["databar_rows"] == 70
    assert info["field_of_view_um"] == pytest.approx((1.5, 1.0))
    assert info["instrument"] == "Quanta 3D FEG" and info["dtype"] == "uint8"


# ------------------------------------------------------------------ real instrument files

_REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "images"


def _real(rel: str) -> Path:
    path = _REAL / rel
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def test_tescan_pixel_size_from_private_tag():
    # the data bar of this file reads "View field: 21.1 µm" over 768 columns → 27.5 nm;
    # the 90-row bar is found by the detector
    sem = read_sem(_real("sem_tescan_irco/Co_10000x_center.tif"))
    assert sem.attrs["pixel_size_nm"] == pytest.approx(21.1e3 / 768, rel=0.002)
    assert sem.attrs["pixel_size_source"] == "metadata:tescan PixelSizeX"
    assert sem.attrs["instrument"].startswith("Tescan VEGA3")
    assert sem.shape == (768, 768) and sem.attrs["databar_rows"] == 90


def test_info_calls_a_tescan_tiff_an_sem_image(capsys):
    # it used to be described as a one-frame movie without a pixel size; the bar reads
    # "View field: 21.1 µm" over 768 columns → 27.5 nm
    from platescope.cli import main

    assert main(["info", str(_real("sem_tescan_irco/Co_10000x_center.tif"))]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "sem" and info["format"] == "tescan-tiff"
    assert info["pixel_size_nm"] == pytest.approx(21.1e3 / 768, rel=0.002)
    assert info["databar_rows"] == 90


def test_zeiss_bar_followed_by_a_row_of_noise_is_removed():
    # Au-Gr_06.tif: 691 image rows, a 76-row white bar, then one row of image noise
    raw = tifffile.imread(_real("sem_zeiss_au_graphene/Au-Gr_06.tif"))
    assert (raw[691:767] == 243).mean() > 0.7 and (raw[-1] == 243).mean() < 0.1
    assert detect_databar(raw) == 77
    assert read_sem(_real("sem_zeiss_au_graphene/Au-Gr_06.tif")).shape == (691, 1024)
