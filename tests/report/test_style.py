"""The house figure style: 300-dpi PNG + SVG twin, text kept as text, a 7-pt floor."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from matplotlib.figure import Figure

from platescope.report import atomic_savefig
from platescope.report._style import MIN_FONT_PT, enforce_min_font, text_sizes


def _png_dpi(data: bytes) -> float:
    """Dots per inch from a PNG's pHYs chunk (read by hand, not by matplotlib)."""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"pHYs":
            ppu_x, _ppu_y, unit = struct.unpack(">IIB", body)
            assert unit == 1  # metre
            return ppu_x * 0.0254
        pos += 12 + length
    raise AssertionError("no pHYs chunk")


def _png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def _figure(w=3.0, h=2.0) -> Figure:
    fig = Figure(figsize=(w, h), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 2], label="line")
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("E (V vs Li/Li⁺)")
    ax.legend(fontsize=5)  # too small on purpose
    return fig


def test_savefig_writes_png_at_300_dpi_and_svg_twin(tmp_path):
    png = atomic_savefig(_figure(3.0, 2.0), tmp_path / "f.png")
    data = png.read_bytes()
    assert round(_png_dpi(data)) == 300
    # 3 × 2 inches at 300 dpi
    assert _png_size(data) == (900, 600)
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]  # intact IHDR
    svg = (tmp_path / "f.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # text stays text (editable in a vector editor), not paths
    assert "Time (s)" in svg and "E (V vs Li/Li⁺)" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "f.svg"]


def test_savefig_vector_false_and_svg_only(tmp_path):
    atomic_savefig(_figure(), tmp_path / "a.png", vector=False)
    atomic_savefig(_figure(), tmp_path / "b.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.svg"]


def test_small_text_is_raised_to_the_floor(tmp_path):
    fig = _figure()
    fig.axes[0].tick_params(labelsize=4)
    assert min(s for _, s in text_sizes(fig)) < MIN_FONT_PT
    atomic_savefig(fig, tmp_path / "f.png")
    sizes = text_sizes(fig)
    assert min(s for _, s in sizes) >= MIN_FONT_PT
    assert ("line", MIN_FONT_PT) in sizes
    assert enforce_min_font(fig) == 0  # nothing left to raise


def _svg_axes_box_pt(svg: str) -> tuple[float, float, float, float]:
    """(x0, x1, top, bottom) in pt of the first axes' background patch in a
    matplotlib SVG (``<g id="patch_2">``; y counts down from the top)."""
    import re

    block = svg[svg.index('<g id="patch_2">') :]
    d = re.search(r'\sd="([^"]+)"', block).group(1)
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), max(xs), min(ys), max(ys)


def test_svg_twin_keeps_the_png_layout_and_the_engine(tmp_path):
    """The SVG twin is drawn where the PNG's constrained layout put the axes (no second
    layout pass at the SVG's 72 dpi, which moved them by about 0.3 pt), and the figure
    keeps its layout engine."""

    def titled():
        fig = _figure(3.0, 2.0)
        fig.axes[0].set_title("a title long enough to matter for the layout", fontsize=8)
        return fig

    png_only = titled()  # the same figure saved as a PNG alone: its layout
    atomic_savefig(png_only, tmp_path / "a.png", vector=False)
    pos = png_only.axes[0].get_position()
    fig = titled()
    engine = fig.get_layout_engine()
    atomic_savefig(fig, tmp_path / "f.png")
    assert fig.get_layout_engine() is engine
    w_pt, h_pt = 3.0 * 72, 2.0 * 72
    x0, x1, top, bottom = _svg_axes_box_pt((tmp_path / "f.svg").read_text(encoding="utf-8"))
    expected = (pos.x0 * w_pt, pos.x1 * w_pt, (1 - pos.y1) * h_pt, (1 - pos.y0) * h_pt)
    # the SVG writes its coordinates to 6 significant digits
    assert max(abs(a - b) for a, b in zip((x0, x1, top, bottom), expected, strict=True)) < 1e-3


def _svg_images(svg: str) -> list[np.ndarray]:
    """The rasters a matplotlib SVG embeds (base64 PNG), decoded."""
    import base64
    import io
    import re

    from PIL import Image

    out = []
    for b64 in re.findall(r'xlink:href="data:image/png;base64,\s*([^"]+)"', svg):
        data = base64.b64decode("".join(b64.split()))
        out.append(np.asarray(Image.open(io.BytesIO(data))))
    return out


def test_svg_twin_embeds_an_image_with_its_own_pixels(tmp_path):
    """A 40 × 60 map shown 2 in wide (600 px in the PNG) is embedded in the SVG as its
    own 40 × 60 pixels, colour-mapped exactly as matplotlib's colormap maps them; a
    1200 × 1200 image shown 1 in wide (300 px) is resampled, not embedded whole."""
    import matplotlib

    rng = np.random.default_rng(3)
    small = rng.random((40, 60))
    fig = Figure(figsize=(4.0, 2.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.imshow(small, cmap="viridis", vmin=0.0, vmax=1.0)
    ax2.imshow(rng.random((1200, 1200)), cmap="gray")
    atomic_savefig(fig, tmp_path / "f.png")
    assert [im.get_interpolation() for im in (ax1.images[0], ax2.images[0])] == [
        "auto",
        "auto",
    ]  # restored after the SVG
    svg = (tmp_path / "f.svg").read_text(encoding="utf-8")
    rasters = _svg_images(svg)
    assert len(rasters) == 2
    own = [r for r in rasters if r.shape[:2] == (40, 60)]
    assert len(own) == 1
    expected = matplotlib.colormaps["viridis"](small, bytes=True)
    # matplotlib quantises the normalised data to the colormap's 256 entries
    assert np.abs(own[0].astype(int) - expected.astype(int)).max() <= 1
    big = [r for r in rasters if r is not own[0]][0]
    assert max(big.shape[:2]) < 600  # resampled to about the PNG's 300 px
    assert "image-rendering:pixelated" in svg  # the viewer scales without smoothing


def _svg_png_zlib_levels(svg: str) -> list[int]:
    """zlib FLEVEL (0 fastest … 3 maximum) of each PNG raster a matplotlib SVG embeds:
    the second byte of the first IDAT chunk's zlib stream (RFC 1950)."""
    import base64
    import re

    levels = []
    for b64 in re.findall(r'xlink:href="data:image/png;base64,\s*([^"]+)"', svg):
        data = base64.b64decode("".join(b64.split()))
        i = data.index(b"IDAT")
        levels.append(data[i + 5] >> 6)
    return levels


def test_svg_rasters_take_the_png_compress_level(tmp_path):
    """A micrograph figure saved with ``compress_level=3`` embeds its SVG rasters at that
    level too (zlib FLEVEL 1, "fast"; 6 gives 2, "default"), with the same pixels; the
    SVG back-end is left as it was."""
    from matplotlib.backends import backend_svg
    from PIL import Image

    rng = np.random.default_rng(5)
    grey = rng.integers(0, 255, (300, 420)).astype(float)

    def micrograph() -> Figure:
        fig = Figure(figsize=(4.0, 3.0))
        fig.add_subplot().imshow(grey, cmap="gray")
        return fig

    atomic_savefig(micrograph(), tmp_path / "fast.png", pil_kwargs={"compress_level": 3})
    atomic_savefig(micrograph(), tmp_path / "plain.png")
    fast = (tmp_path / "fast.svg").read_text(encoding="utf-8")
    plain = (tmp_path / "plain.svg").read_text(encoding="utf-8")
    assert _svg_png_zlib_levels(fast) == [1]
    assert _svg_png_zlib_levels(plain) == [2]
    [a], [b] = _svg_images(fast), _svg_images(plain)
    assert a.shape[:2] == (300, 420)
    np.testing.assert_array_equal(a, b)
    assert backend_svg.Image is Image
