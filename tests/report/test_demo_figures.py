"""Every figure a scenario writes is ready for a paper.

Each scenario is simulated and analysed; every Figure handed to the output is inspected
*before* it is saved (so the 7-pt floor of ``atomic_savefig`` cannot hide a figure
function's small text): no text below 7 pt, and every axis label of a dimensional
quantity names its unit in parentheses or brackets. The files written are then checked:
a PNG at 300 dpi (read from its pHYs chunk) with an SVG twin.

The fast scenarios run by default, the slow ones with ``-m slow``.
"""

from __future__ import annotations

import re
import struct

import pytest
from matplotlib.axes import Axes

from platescope.pipeline import analyze
from platescope.pipeline._outputs import StagedOutput
from platescope.report._style import MIN_FONT_PT, text_sizes
from platescope.simulate import simulate

# scenario → (seed, simulator overrides); small versions where the pipeline tests use them
SCENARIOS = {
    "irm-galvanostatic": (0, {}),
    "irm-cv": (0, {"irm_size_px": 64, "footprint_diameter_um": 6.0, "Q_c1_nC": 1.8}),
    "seccm-combinatorial": (0, {}),
    "see-through-au": (0, {}),
    "see-through-ag": (0, {}),
    "sem-particles": (0, {}),
    "dendrite-cycling": (0, {}),
    "sims-diffusion": (0, {}),
    "side-view": (0, {}),
    "symmetric-cell": (0, {"n_cycles": "3"}),
    "afm": (0, {"n_frames": "3"}),
    "tomography": (0, {}),
}
FAST = {"irm-cv", "seccm-combinatorial", "side-view", "symmetric-cell", "afm"}

# a unit in parentheses or brackets: "(s)", "(mV vs Li/Li⁺)", "[µm²]", "(10⁹ cm⁻²)", "(counts)"
_UNIT = re.compile(
    r"[(\[]\s*(?:10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+\s*)?"
    r"(?:s|min|h|ms|m?V|[mµnp]?A|[mµn]?C|[mµ]Ah|nm|µm|mm|cm|px|counts?|%|σ|K|°C?|mol)"
    r"(?:[\s/·⁻⁰¹²³⁴⁵⁶⁷⁸⁹²³a-zA-Zµ⁺]*)[)\]]"
)
# quantities without a unit (ratios, counts, indices, correlation coefficients, ...)
_DIMENSIONLESS = re.compile(
    r"^(?:"
    r"CE\b.*|.*\bfraction\b.*|.*\bratio\b.*|.*\bindex\b.*|.*Pearson.*|.*\bR².*|"
    r"Cycle|Half-cycle|Count|Pixels|Particles|Pore count|Pixel density|Normalised.*|"
    r"x in .*|.*/\s*I_.*|t / t_m|\(I / I_m\)²|Excess tracer C′|.*tracer fraction.*|"
    r"\d?Li fraction.*|.*fraction f|T = I/I₀|R/R₀|.*\bprobability\b.*|.*\bdensity\b(?!.*cm).*|"
    r"Frequency|Deposits|Number.*|.*\bCDF\b.*|.*S\d.*|Li|Sites|count|Label|.*\bτ\b.*"
    r")$",
    re.IGNORECASE,
)


def _axis_labels(fig) -> list[str]:
    out = []
    for ax in fig.findobj(Axes):
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label.get_text().strip()
            if label and axis.label.get_visible():
                out.append(label)
    return out


def _has_unit_or_is_dimensionless(label: str) -> bool:
    flat = label.replace("$", "").replace("_{", "_").replace("}", "")
    return bool(_UNIT.search(flat)) or bool(_DIMENSIONLESS.match(flat))


def _png_dpi(data: bytes) -> float:
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"pHYs":
            ppu, _, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            assert unit == 1
            return ppu * 0.0254
        pos += 12 + length
    raise AssertionError("PNG without pHYs (no dpi recorded)")


def _params():
    for name in SCENARIOS:
        marks = () if name in FAST else (pytest.mark.slow,)
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_every_figure_is_paper_ready(name, tmp_path, monkeypatch):
    seed, overrides = SCENARIOS[name]
    seen: dict[str, tuple[list, list]] = {}
    original = StagedOutput.figure

    def spy(self, fig_name, fig, **kw):
        seen[fig_name] = (text_sizes(fig), _axis_labels(fig))
        return original(self, fig_name, fig, **kw)

    monkeypatch.setattr(StagedOutput, "figure", spy)
    exp = simulate(name, tmp_path / "input", seed=seed, overrides=overrides)
    analyze(exp, tmp_path / "results")
    assert seen, f"{name} wrote no figure"

    small = {f: [(t, s) for t, s in texts if s < MIN_FONT_PT] for f, (texts, _) in seen.items()}
    assert not {f: v for f, v in small.items() if v}, "text below 7 pt"
    no_unit = {
        f: [lab for lab in labels if not _has_unit_or_is_dimensionless(lab)]
        for f, (_, labels) in seen.items()
    }
    assert not {f: v for f, v in no_unit.items() if v}, "axis labels without a unit"

    figures = tmp_path / "results" / "figures"
    pngs = sorted(figures.glob("*.png"))
    assert sorted(p.stem for p in pngs) == sorted(seen)
    for png in pngs:
        assert png.with_suffix(".svg").is_file(), f"{png.name} has no SVG twin"
        assert round(_png_dpi(png.read_bytes())) == 300, png.name
        svg = png.with_suffix(".svg").read_text(encoding="utf-8")
        assert "<svg" in svg and "<text" in svg  # text kept as text


@pytest.mark.parametrize(
    ("label", "ok"),
    [
        ("Time (s)", True),
        ("E (V vs Li/Li⁺)", True),
        ("E$_{nuc}$ (mV vs Li/Li⁺)", True),
        ("Particle density (10⁹ cm⁻²)", True),
        ("Q* = πD(zFc)²/(4j) (mAh cm⁻²)", True),
        ("IRM signal (counts)", True),
        ("CE = Q_a/Q_c", True),
        ("t / t_m", True),
        ("Time", False),
        ("Time / s", False),
        ("Diameter", False),
        ("Thickness / µm", False),
    ],
)
def test_unit_rule(label, ok):
    """The label rule itself: units in parentheses; the ISO "/ unit" form is refused."""
    assert _has_unit_or_is_dimensionless(label) is ok
