"""The house figure style: 300-dpi PNG + SVG twin, text kept as text, a 7-pt floor."""

from __future__ import annotations

import struct
import zlib

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
