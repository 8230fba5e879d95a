"""Every figure a scenario writes is ready for a paper; its report shows summary.json's numbers.

Each scenario is simulated and analysed; every Figure handed to the output is inspected
*before* it is saved (so the 7-pt floor of ``atomic_savefig`` cannot hide a figure
function's small text): no text below 7 pt, and every axis label of a dimensional
quantity names its unit in parentheses or brackets. The files written are then checked:
a PNG at 300 dpi (read from its pHYs chunk) with an SVG twin.

The report's headline card is read back from the HTML (the text a reader sees, parsed
here) and compared with the value at the same path in ``summary.json``, to the digits
shown; tables and figure annotations are compared with the summary where a scenario has
them.

The fast scenarios run by default, the slow ones with ``-m slow``.
"""

from __future__ import annotations

import csv
import html
import json
import math
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


_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_CARD = re.compile(
    r'<div class="card" data-path="([^"]+)"[^>]*><div class="lab">(.*?)</div>'
    r'<div class="val">(.*?)</div>'
)
_VALUE = re.compile(
    r"^\(?(?P<v>-?\d+(?:\.\d+)?)(?: ± (?P<e>\d+(?:\.\d+)?))?\)?"
    r"(?:×10(?P<x>[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"
)


def _resolve(summary, path, *, parent=False):
    """The value at a headline path (or the dict holding it), looked up here without
    platescope's code."""
    node = summary
    parts = re.findall(r"[^.\[\]]+|\[[^\]]+\]", path)
    for part in parts[:-1] if parent else parts:
        if part.startswith("["):
            idx = part[1:-1]
            if idx in ("first", "last"):
                leaf = parts[-1]
                rows = [r for r in node if r.get(leaf) is not None]
                node = rows[0] if idx == "first" else rows[-1]
            else:
                node = node[int(idx)]
        else:
            node = node[part]
    return node


def _decimals(num: str) -> int:
    return len(num.split(".")[1]) if "." in num else 0


def _check_headline(report_html: str, summary: dict) -> int:
    cards = _CARD.findall(report_html)
    for path, label, val_html in cards:
        text = html.unescape(re.sub(r"<[^>]+>", "", val_html)).strip()
        truth = _resolve(summary, html.unescape(path))
        err_truth = None
        if isinstance(truth, dict):  # {value, value_err, units}
            truth, err_truth = truth["value"], truth.get("value_err")
        if truth is None:
            assert text.startswith("—"), (path, text)
            continue
        m = _VALUE.match(text)
        assert m, (path, text)
        scale = 10.0 ** int(m["x"].translate(_SUP)) if m["x"] else 1.0
        v = float(m["v"]) * scale
        tol = 0.5 * 10.0 ** -_decimals(m["v"]) * scale
        assert abs(v - truth) <= tol * 1.0001, (path, label, text, truth)
        if m["e"]:
            # the uncertainty shown is the summary's *_err (k = 2), to the digits shown
            parent = _resolve(summary, html.unescape(path), parent=True)
            key = html.unescape(path).rsplit(".", 1)[-1]
            if err_truth is None:
                # "<key>_err" or "_err" before the unit: E_nuc_V_err, D_err_cm2_s
                parts = key.split("_")
                names = [f"{key}_err"] + [
                    "_".join(parts[:i] + ["err"] + parts[i:]) for i in range(1, len(parts))
                ]
                err_truth = next((parent[k] for k in names if k in parent), None)
            assert err_truth is not None, (path, text)
            e = float(m["e"]) * scale
            assert abs(e - err_truth) <= 0.5 * 10.0 ** -_decimals(m["e"]) * scale * 1.0001, (
                path,
                text,
                err_truth,
            )
    return len(cards)


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

    results = tmp_path / "results"
    summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    report_html = (results / "report.html").read_text(encoding="utf-8")
    assert _check_headline(report_html, summary) >= 3
    head = report_html.split('id="headline"')[1].split("</section>")[0]
    assert "k = 2" in head  # the convention, stated once at the top
    assert report_html.index('id="headline"') < report_html.index('id="provenance"')
    if name in _EXTRA:
        _EXTRA[name](results, summary)


def _irm_cv_tables(results, summary):
    """The cycles table holds the summary's CE and its k = 2 error, row by row."""
    with open(results / "tables" / "cycles.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cycles = summary["echem"]["cycles"]
    assert len(rows) == len(cycles)
    for r, c in zip(rows, cycles, strict=True):
        assert int(r["cycle"]) == c["cycle"]
        assert math.isclose(float(r["CE"]), c["CE"], rel_tol=1e-9)
        assert math.isclose(float(r["CE_err"]), c["CE_err"], rel_tol=1e-9)


def _svg_texts(path) -> str:
    return html.unescape(
        " ".join(re.findall(r"<text[^>]*>(.*?)</text>", path.read_text("utf-8"), re.S))
    )


def _irm_galvanostatic_figures(results, summary):
    """Figure annotations state the summary's k = 2 uncertainties (not 1σ, not 4σ)."""
    g = summary["echem"]["galvanostatic"]
    text = _svg_texts(results / "figures" / "potential_irm.svg")
    m = re.search(r"t_nuc ± ([\d.]+) s \(k = 2\)", text)
    assert m and math.isclose(float(m[1]), g["t_nuc_s_err"], rel_tol=0.05), (m and m[0], g)
    a = summary["optics"]["alpha"]
    text = _svg_texts(results / "figures" / "alpha.svg")
    m = re.search(r"± ([\d.]+) \(k = 2\)", text)
    assert m and math.isclose(float(m[1]), a["value_err"], rel_tol=0.05), (m and m[0], a)
    sy = summary["sync"]
    text = _svg_texts(results / "figures" / "sync.svg")
    m = re.search(r"± ([\d.]+) \(k = 2\)", text)
    assert m and math.isclose(float(m[1]), sy["offset_err_s"], rel_tol=0.05), (m and m[0], sy)


_EXTRA = {"irm-cv": _irm_cv_tables, "irm-galvanostatic": _irm_galvanostatic_figures}


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
