"""AFM height-map readers: real instrument files (facts from their headers) and made files.

Real files live in ``../shared/data/afm`` beside the checkout (MANIFEST.md there) and
the tests skip when it is absent. Every expected number below was read by hand from
the file's text header (``head -c`` / a hex view), as each comment says, or decoded
with ``struct`` at the stated byte offset — not taken from the reader's output.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile

from platescope._errors import InputError
from platescope.io import describe_height_map, read_height_map

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "afm"
NANOSCOPE = DATA / "nanoscope" / "full_multiple_images.txt"
SXM = DATA / "nanonis_sxm" / "test.sxm"
MI = DATA / "picoview_mi" / "example.mi"


def _need(p: Path) -> Path:
    if not p.is_file():
        pytest.skip(f"{p} is not available (shared data folder absent)")
    return p


# ----------------------------------------------------------------- NanoScope v5.12


def test_nanoscope_height_channel_scale_and_orientation():
    p = _need(NANOSCOPE)
    h = read_height_map(p)
    # header: "\@2:Image Data: S [Height] "Height"" in the first \*Ciao image list
    assert h.attrs["channel"] == "Height"
    # header: "Samps/line: 512", "Number of lines: 512"
    assert h.shape == (512, 512)
    # header: "Scan size: 2 2 ~m" → 2000 nm / 512 px = 3.90625 nm
    assert h.attrs["pixel_size_um"] == pytest.approx(2.0 / 512, rel=1e-12)
    # header: "\@2:Z scale: V [Sens. Zscan] (0.006693481 V/LSB) 438.6572 V" and
    # "\@Sens. Zscan: V 12.95302 nm/V"; 2 bytes/pixel → 438.6572 / 2^16 × 12.95302 nm
    nm_per_count = 438.6572 / 65536 * 12.95302
    raw = NANOSCOPE.read_bytes()
    # "Data offset: 40960": the first stored int16 is the bottom-left pixel
    first = struct.unpack("<h", raw[40960:40962])[0]  # = -8417
    assert float(h[-1, 0]) == pytest.approx(first * nm_per_count, rel=1e-12)
    ints = np.frombuffer(raw, "<i2", count=512 * 512, offset=40960)
    assert float(h.max()) == pytest.approx(ints.max() * nm_per_count, rel=1e-12)
    assert float(h.min()) == pytest.approx(ints.min() * nm_per_count, rel=1e-12)


def test_nanoscope_matches_independent_library_roughness():
    """jmarini/nanoscope (MIT), tests/test_image.py: after its per-scan-line linear
    flatten the Height channel has mean roughness 3.433 nm, RMS 4.325 nm, max peak
    14.478 nm and max valley 12.918 nm (its flatten rounds to whole counts, 0.087 nm,
    hence the looser peak/valley tolerance)."""
    from platescope.surface import areal_parameters, level_lines

    h = read_height_map(_need(NANOSCOPE))
    flat = level_lines(h, method="poly", order=1)["height"]
    p = areal_parameters(flat)
    assert p["Sa_nm"] == pytest.approx(3.433, abs=0.001)
    assert p["Sq_nm"] == pytest.approx(4.325, abs=0.001)
    assert p["Sp_nm"] == pytest.approx(14.478, abs=0.05)
    assert p["Sv_nm"] == pytest.approx(12.918, abs=0.05)


def test_nanoscope_amplitude_is_not_a_height():
    p = _need(NANOSCOPE)
    d = describe_height_map(p)
    # header: two \*Ciao image lists, "Height" and "Amplitude"
    assert [c["name"] for c in d["channels"]] == ["Height", "Amplitude"]
    assert d["height_channel"] == "Height"
    with pytest.raises(InputError, match="not a length"):
        read_height_map(p, channel="Amplitude")


def test_nanoscope_truncated(tmp_path):
    raw = _need(NANOSCOPE).read_bytes()
    bad = tmp_path / "cut.spm"
    bad.write_bytes(raw[:300_000])  # the Height data end at 40960 + 524288
    with pytest.raises(InputError, match="needs bytes"):
        read_height_map(bad)
    bad.write_bytes(raw[:10_000])  # header cut before "\*File list end"
    with pytest.raises(InputError, match="File list end"):
        read_height_map(bad)


# --------------------------------------------------------------------- Nanonis sxm


def test_sxm_z_forward():
    p = _need(SXM)
    h = read_height_map(p)
    # header DATA_INFO: "14 Z m both" first, so Z forward is the first map
    assert h.attrs["channel"] == "Z (forward)"
    # ":SCAN_PIXELS: 256 256", ":SCAN_RANGE: 5.000000E-6 5.000000E-6" → 19.53125 nm
    assert h.shape == (256, 256)
    assert h.attrs["pixel_size_um"] == pytest.approx(5.0 / 256, rel=1e-12)
    # ":REC_DATE: 10.03.2016", ":REC_TIME: 09:36:05"
    assert h.attrs["scan_time"] == "2016-03-10T09:36:05"
    raw = SXM.read_bytes()
    # data start after ":SCANIT_END:\n\n\n\x1a\x04" at byte 800; 4 maps × 256² × 4 bytes
    # = 1,048,576 bytes = file size − 800; big-endian float32 (SCANIT_TYPE MSBFIRST)
    assert raw[798:800] == b"\x1a\x04" and len(raw) - 800 == 4 * 256 * 256 * 4
    first = struct.unpack(">f", raw[800:804])[0]  # -4.8594e-07 m
    # ":SCAN_DIR: up": the first stored line is the bottom one
    assert float(h[-1, 0]) == pytest.approx(first * 1e9, rel=1e-6)
    z = np.frombuffer(raw, ">f4", count=256 * 256, offset=800)
    assert float(h.max() - h.min()) == pytest.approx(float(np.ptp(z)) * 1e9, rel=1e-6)


def test_sxm_backward_and_current():
    p = _need(SXM)
    raw = SXM.read_bytes()
    back = read_height_map(p, channel="Z (backward)")
    # the backward map is the second block, stored right to left: its first stored
    # value is the bottom-right pixel
    first = struct.unpack(">f", raw[800 + 4 * 65536 : 804 + 4 * 65536])[0]
    assert float(back[-1, -1]) == pytest.approx(first * 1e9, rel=1e-6)
    with pytest.raises(InputError, match="not a length"):
        read_height_map(p, channel="Current")


# ------------------------------------------------------------------- PicoView .mi


def test_mi_needs_pixel_size_and_reads_topography():
    p = _need(MI)
    with pytest.raises(InputError, match="no lateral scan size"):
        read_height_map(p)
    h = read_height_map(p, pixel_size_um=0.05)
    # header: first buffer "bufferLabel Topography", "trace Trace", "bufferUnit um",
    # "bufferRange 1.4200384336036802e+000"; "xPixels 256", "yPixels 256"
    assert h.attrs["channel"] == "Topography (Trace)"
    assert h.shape == (256, 256)
    raw = MI.read_bytes()
    # header ends with "data          BINARY_32\n" at byte 909; 8 buffers × 256² × 4
    # bytes = 2,097,152 = file size − 909; int32 little endian, bottom line first
    assert len(raw) - 909 == 8 * 256 * 256 * 4
    first = struct.unpack("<i", raw[909:913])[0]  # -862322688
    assert float(h[-1, 0]) == pytest.approx(first / 2**31 * 1.4200384336036802 * 1e3, rel=1e-12)
    with pytest.raises(InputError, match="not a length"):
        read_height_map(p, channel="Deflection", pixel_size_um=0.05)
    z = read_height_map(p, channel="Z_Sensor", pixel_size_um=0.05)
    assert z.attrs["channel"] == "Z_Sensor (Trace)"


# ------------------------------------------------------------------ files we make


def _gsf_bytes(z_m: np.ndarray, xreal_m: float, yreal_m: float, header_extra: str = "") -> bytes:
    """A GSF file built from the format description (not with platescope's writer)."""
    ny, nx = z_m.shape
    head = (
        f"Gwyddion Simple Field 1.0\nXRes = {nx}\nYRes = {ny}\nXReal = {xreal_m}\n"
        f"YReal = {yreal_m}\nXYUnits = m\nZUnits = m\n{header_extra}"
    ).encode()
    head += b"\0" * (4 - len(head) % 4)
    return head + z_m.astype("<f4").tobytes()


def test_gsf_by_hand(tmp_path):
    z = np.arange(20, dtype=np.float32).reshape(4, 5) * 1e-9  # 0..19 nm
    p = tmp_path / "h.gsf"
    p.write_bytes(_gsf_bytes(z, 5e-6, 4e-6, "Title = Topo\n"))
    h = read_height_map(p)
    assert h.shape == (4, 5)
    assert h.attrs["pixel_size_um"] == pytest.approx(1.0)
    assert float(h[3, 4]) == pytest.approx(19.0, rel=1e-6)
    assert h.attrs["channel"] == "Topo"
    cut = tmp_path / "cut.gsf"
    cut.write_bytes(p.read_bytes()[:-8])
    with pytest.raises(InputError, match="ends after"):
        read_height_map(cut)


def test_gwy_through_gwyfile(tmp_path):
    gwyfile = pytest.importorskip("gwyfile")
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    z = np.linspace(0, 30e-9, 12).reshape(3, 4)
    field = GwyDataField(
        z, xreal=4e-6, yreal=3e-6, si_unit_xy=GwySIUnit(unitstr="m"),
        si_unit_z=GwySIUnit(unitstr="m"),
    )  # fmt: skip
    c = GwyContainer()
    c["/0/data"] = field
    c["/0/data/title"] = "Height"
    p = tmp_path / "a.gwy"
    c.tofile(str(p))
    h = read_height_map(p)
    assert h.shape == (3, 4) and h.attrs["format"] == "gwy"
    assert h.attrs["pixel_size_um"] == pytest.approx(1.0)
    assert float(h[2, 3]) == pytest.approx(30.0)
    assert gwyfile is not None


def test_height_tiff(tmp_path):
    z = np.random.default_rng(0).normal(0, 5, (16, 20)).astype(np.float32)
    p = tmp_path / "h.tif"
    tifffile.imwrite(p, z, metadata={"z_unit": "nm", "pixel_size_um": 0.02})
    h = read_height_map(p)
    assert h.shape == (16, 20) and h.attrs["pixel_size_um"] == pytest.approx(0.02)
    np.testing.assert_allclose(h.values, z, rtol=1e-7)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, z)
    with pytest.raises(InputError, match="does not say in which unit"):
        read_height_map(plain)
    with pytest.raises(InputError, match="no lateral pixel size"):
        read_height_map(plain, z_unit="um")
    h2 = read_height_map(plain, z_unit="um", pixel_size_um=0.1)
    np.testing.assert_allclose(h2.values, z * 1000.0, rtol=1e-6)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.stack([z, z + 1]), metadata={"z_unit": "nm", "pixel_size_um": 0.02})
    s = read_height_map(stack)
    assert s.dims == ("frame", "y", "x") and s.shape == (2, 16, 20)


def test_xyz_grid(tmp_path):
    ny, nx, px = 6, 7, 0.05
    yy, xx = np.mgrid[0:ny, 0:nx]
    z = (xx + 10 * yy).astype(float)
    pts = np.stack([xx.ravel() * px, yy.ravel() * px, z.ravel()], axis=1)
    pts = pts[np.random.default_rng(1).permutation(len(pts))]  # any order
    p = tmp_path / "m.xyz"
    p.write_text(
        "x_um y_um z_nm\n" + "\n".join(" ".join(f"{v!r}" for v in r.tolist()) for r in pts)
    )
    h = read_height_map(p)
    assert h.shape == (ny, nx) and h.attrs["pixel_size_um"] == pytest.approx(px)
    np.testing.assert_allclose(h.values, z)
    gap = tmp_path / "gap.xyz"
    gap.write_text(
        "x_um y_um z_nm\n" + "\n".join(" ".join(f"{v!r}" for v in r.tolist()) for r in pts[:-1])
    )
    with pytest.raises(InputError, match="regular"):
        read_height_map(gap)
    nounit = tmp_path / "n.xyz"
    nounit.write_text("\n".join(" ".join(f"{v!r}" for v in r.tolist()) for r in pts))
    with pytest.raises(InputError, match="unit"):
        read_height_map(nounit)
    h3 = read_height_map(nounit, z_unit="nm", xy_unit="um")
    np.testing.assert_allclose(h3.values, z)


@pytest.mark.parametrize(
    "name,content",
    [
        ("a.gsf", b"Gwyddion Simple Field 1.0\nXRes = 4\n"),
        ("b.sxm", b":NANONIS_VERSION:\n2\n"),
        ("c.mi", b"fileType      Image\nxPixels 4\n"),
        ("d.spm", b"\\*File list\r\n\\Version: 0x05120130\r\n"),
        ("e.xyz", b"hello\nworld\n"),
        ("f.bin", b"\x00\x01\x02garbage"),
        ("g.gwy", b"GWYPnot really"),
    ],
)
def test_damaged_files_are_input_errors(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError):
        read_height_map(p)


def test_missing_and_empty(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_height_map(tmp_path / "nope.gsf")
    (tmp_path / "e.gsf").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_height_map(tmp_path / "e.gsf")
    with pytest.raises(InputError, match="folder"):
        read_height_map(tmp_path)


def test_info_describes_a_nanoscope_file_despite_its_txt_name():
    from platescope.io import describe

    d = describe(_need(NANOSCOPE))
    assert d["kind"] == "afm" and d["format"] == "nanoscope"
    # header: "Scan size: 2 2 ~m" (~m = µm)
    assert d["channels"][0]["scan_size"] == [2.0, 2.0] and d["channels"][0]["xy_unit"] == "um"


@pytest.mark.parametrize("real", [NANOSCOPE, SXM, MI], ids=["nanoscope", "sxm", "mi"])
def test_cut_or_damaged_real_files_raise_input_error_only(real):
    """Truncations and header byte flips give an InputError or a map — never another
    exception (hypothesis draws the cut point and the damaged byte)."""
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    raw = _need(real).read_bytes()
    head = 1024

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cut=st.integers(0, len(raw) - 1), pos=st.integers(0, head - 1), byte=st.integers(0, 255))
    def check(cut, pos, byte):
        with tempfile.TemporaryDirectory() as d:
            for data in (raw[:cut], raw[:pos] + bytes([byte]) + raw[pos + 1 :]):
                p = Path(d) / ("f" + real.suffix)
                p.write_bytes(data)
                try:
                    read_height_map(p, pixel_size_um=0.01)
                except InputError:
                    pass

    import warnings

    with warnings.catch_warnings():
        # the pixel_size_um override warning is expected where the file has a size
        warnings.filterwarnings("ignore", message=".*overrides the file's.*", category=UserWarning)
        check()
