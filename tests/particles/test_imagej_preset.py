"""The ImageJ preset (particles.imagej_particles) against ImageJ 1.53t.

The constants below come from ImageJ 1.53t (Debian package ``imagej``, run headless
under ``xvfb-run``) on the named file of ``shared/data/images`` (data bar removed as
``platescope.io.read_sem`` removes it, saved as a plain TIFF in its own type), with the
macro of ``tests/particles/_imagej.py::fiji_particle_macro``::

    run("Gaussian Blur...", "sigma=2");
    setAutoThreshold("<Method> dark");      // "<Method>" for the dark Au particles
    run("Convert to Mask");
    run("Watershed");
    run("Analyze Particles...", "size=10-Infinity pixel display");

They are facts from a reference program, not platescope's output. The live comparison
(``test_live_parity``) reruns ImageJ when it is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _imagej import fiji_particle_macro, imagej_available

from platescope.particles import imagej_gaussian_blur, imagej_particles, imagej_threshold

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "images"

# file → (dark background, method, ImageJ lower threshold, count, mean area px)
IMAGEJ_153T = {
    "sem_tescan_irco/Co_10000x_center.tif": (True, "Default", 26531.0, 26, 878.62),
    "sem_tescan_irco/IrCo_2080_10000x_center.tif": (True, "Default", 22756.0, 2036, 95.47),
    "sem_tescan_irco/IrCo_2080_1000x_center.tif": (True, "Default", 23995.0, 2432, 116.97),
    "sem_tescan_irco/IrCo_6040_50000x_center.tif": (True, "Default", 16926.0, 316, 104.65),
    "sem_tescan_irco/IrCo_8020_50000x_center.tif": (True, "Default", 19195.0, 1794, 132.59),
    "sem_thermo_helios_kit/SEM_Image-SliceImage-001.tif": (True, "Default", 128.0, 250, 4904.18),
    "sem_zeiss_au_graphene/Au-Gr_06.tif": (False, "Default", 0.0, 243, 1688.30),
    "sem_tescan_irco/IrCo_8020_50000x_center.tif#Otsu": (True, "Otsu", 19392.0, 1708, 108.31),
    "sem_tescan_irco/IrCo_2080_10000x_center.tif#Yen": (True, "Yen", 25636.0, 196, 41.56),
    "sem_thermo_helios_kit/SEM_Image-SliceImage-001.tif#Mean": (True, "Mean", 156.0, 237, 4409.92),
}


def _image(rel):
    from platescope import io

    path = DATA / rel.split("#")[0]
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return io.read_sem(path)


def test_toy_levels_and_blur_match_imagej():
    # ImageJ 1.53t on these arrays: setAutoThreshold levels and the 8-bit blurred values
    a = np.full((20, 20), 10, np.uint8)
    a[5:10, 5:10] = 200
    assert imagej_threshold(a, "Otsu") == (200.0, 255.0)
    assert imagej_threshold(a, "Default") == (106.0, 255.0)
    assert imagej_threshold(a, "Mean") == (22.0, 255.0)
    b = np.zeros((21, 21), np.uint8)
    b[10, 10] = 255
    blurred = imagej_gaussian_blur(b, 2.0)
    assert blurred.dtype == np.uint8
    assert blurred[10, 8:13].tolist() == [6, 9, 10, 9, 6] and int(blurred.sum()) == 234


@pytest.mark.parametrize("rel", sorted(IMAGEJ_153T))
def test_real_images_within_2_percent_of_imagej(rel):
    dark, method, lower, n_ij, area_ij = IMAGEJ_153T[rel]
    img = _image(rel)
    px_um = img.attrs["pixel_size_nm"] / 1000
    lab, table = imagej_particles(
        img, sigma_px=2.0, threshold=method, dark_background=dark, min_area_px=10
    )
    assert table.attrs["threshold"] == pytest.approx(lower, abs=0.5)
    assert len(table) == pytest.approx(n_ij, rel=0.02)
    assert table["area_um2"].mean() / px_um**2 == pytest.approx(area_ij, rel=0.02)


def test_unknown_method_is_refused():
    from platescope import InputError

    with pytest.raises(InputError, match="Default"):
        imagej_threshold(np.zeros((8, 8), np.uint8), "Huang")


@pytest.mark.skipif(not imagej_available(), reason="ImageJ (java + xvfb-run + ij.jar) absent")
@pytest.mark.parametrize(
    "rel", ["sem_zeiss_au_graphene/Au-Gr_06.tif", "sem_tescan_irco/IrCo_6040_50000x_center.tif"]
)
def test_live_parity(rel):
    dark = "Au-Gr" not in rel
    img = _image(rel)
    ij = fiji_particle_macro(img.values, sigma_px=2.0, method="Default", dark=dark, min_area_px=10)
    # same blur to one grey level (float32 sums rounded), same threshold
    assert np.abs(ij["blurred"].astype(float) - imagej_gaussian_blur(img.values, 2.0)).max() <= 1
    lab, table = imagej_particles(img, sigma_px=2.0, dark_background=dark, min_area_px=10)
    assert table.attrs["threshold"] == pytest.approx(ij["threshold"][0], abs=0.5)
    assert len(table) == pytest.approx(ij["count"], rel=0.02)
    px_um = img.attrs["pixel_size_nm"] / 1000
    assert table["area_um2"].mean() / px_um**2 == pytest.approx(ij["mean_area_px"], rel=0.02)
