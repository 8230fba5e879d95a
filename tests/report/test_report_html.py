"""The HTML report: self-contained, escaped, numbers with uncertainty and reasons for nulls."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from platescope.report import (
    atomic_savefig,
    format_number,
    format_value,
    render_index,
    render_report,
)


def _summary():
    return {
        "scenario": "irm-galvanostatic",
        "experiment": {"name": "spot <script>alert('x')</script> & j=0.2"},
        "platescope_version": "0.1.0",
        "created_utc": "2026-01-02T03:04:05Z",
        "inputs": {"echem": {"path": "echem.mpt", "sha256": "0123456789abcdef" * 4}},
        "parameters": {"optics": {"sigma_um": 1.0, "group": 2}},
        "sync": {"offset_s": -10.31, "offset_err_s": 0.12, "method": "landing step"},
        "echem": {
            "galvanostatic": {
                "E_nuc_V": -0.0581,
                "E_nuc_err_V": 0.0012,
                "t_nuc_s": 17.7,
                "Q_nuc_uAh_cm2": 0.98,
                "E_growth_V": -0.004,
                "eta_nuc_V": 0.054,
                "nucleated": True,
            },
            "cycles": [
                {"cycle": 1, "Q_c_C": 1.2e-6, "Q_a_C": 3.0e-7, "CE": 0.25},
                {"cycle": 2, "Q_c_C": 1.1e-6, "Q_a_C": 4.4e-7, "CE": 0.40},
            ],
        },
        "optics": {
            "t_nuc_irm_s": None,
            "t_nuc_irm_reason": "no IRM movie in the experiment",
            "alpha": {"value": 42.1, "value_err": 0.6, "r2": 0.996, "units": "counts nm⁻¹"},
        },
        "particles": {"density_cm2": 1.13e9, "density_err_cm2": 6.4e7, "count": 312},
        "custom_analysis": {"width_um": 3.0, "width_err_um": 0.2, "flag": False},
        "sims": None,
        "skipped": [{"analysis": "sims", "reason": "no SIMS files given"}],
    }


@pytest.fixture
def report(tmp_path):
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    png = atomic_savefig(fig, tmp_path / "figures" / "line.png")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "cycles.csv").write_text("cycle,CE\n1,0.25\n2,0.40\n")
    out = render_report(
        _summary(),
        figures=[{"title": "A line", "path": png, "caption": "Caption with <b>tags</b>"}],
        tables=[{"title": "Cycles", "path": tmp_path / "tables" / "cycles.csv"}],
        out_path=tmp_path / "report.html",
    )
    return out, png


def test_report_is_self_contained(report):
    out, png = report
    text = out.read_text(encoding="utf-8")
    assert 'src="http' not in text and "src='http" not in text
    assert "<link" not in text
    assert "<script" not in text.lower()
    assert "@import" not in text and "url(" not in text
    # the figure itself, or its SVG twin when that is the lighter file
    m = re.search(r'src="data:image/(png|svg\+xml);base64,([A-Za-z0-9+/=]+)"', text)
    embedded = base64.b64decode(m.group(2))
    twin = png.with_suffix(".svg")
    assert embedded == (png.read_bytes() if m.group(1) == "png" else twin.read_bytes())
    assert text.startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.parent.iterdir()) == ["figures", "report.html", "tables"]


def test_report_escapes_text(report):
    text = report[0].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "Caption with &lt;b&gt;tags&lt;/b&gt;" in text
    assert "irm-galvanostatic" in text.split("</h1>")[0]


def test_report_values_with_uncertainty_and_units(report):
    text = report[0].read_text(encoding="utf-8")
    assert '-0.0581 ± 0.0012 <span class="u">V</span>' in text
    assert '-10.31 ± 0.12 <span class="u">s</span>' in text
    assert '(1.130 ± 0.064)×10⁹ <span class="u">cm⁻²</span>' in text
    assert '42.10 ± 0.60 <span class="u">counts nm⁻¹</span>' in text
    assert "µAh cm⁻²" in text
    # an unknown analysis is rendered generically, units and errors from the key names
    assert '3.00 ± 0.20 <span class="u">µm</span>' in text
    # error keys are merged into their value, not listed as rows
    assert 'title="E_nuc_err_V"' not in text and 'title="width_err_um"' not in text


def test_report_null_values_show_dash_and_reason(report):
    text = report[0].read_text(encoding="utf-8")
    row = re.search(r'title="t_nuc_irm_s">.*?</tr>', text).group(0)
    assert "—" in row and "no IRM movie in the experiment" in row
    sims = re.search(r'id="r-sims">.*?</p>', text).group(0)
    assert "—" in sims and "no SIMS files given" in sims


def test_report_lists_skipped_inputs_parameters_tables(report):
    out, _ = report
    text = out.read_text(encoding="utf-8")
    skipped = text.split('id="skipped"')[1].split("<h2")[0]
    assert "<b>sims</b>: no SIMS files given" in skipped
    assert ">0123456789ab<" in text  # short sha256
    assert "optics.sigma_um" in text
    assert 'href="tables/cycles.csv"' in text  # relative link
    assert str(out.parent) not in text  # no absolute paths leak into links
    assert "(2 rows)" in text
    assert "platescope 0.1.0" in text and "2026-01-02T03:04:05Z" in text
    # list of dicts becomes a table with units in the header
    assert 'Q_c <span class="u">/ C</span>' in text


def test_report_missing_figure_and_empty_summary(tmp_path):
    out = render_report(
        {"scenario": "sem-particles"},
        figures=[{"title": "gone", "path": tmp_path / "nope.png", "caption": ""}],
        out_path=tmp_path / "r.html",
    )
    text = out.read_text(encoding="utf-8")
    assert "figure file missing" in text and "no results" in text
    assert "every analysis the inputs allow was run" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.1e9, "1.10×10⁹"),
        (2.5e9, "2.50×10⁹"),
        (9.996e8, "1.00×10⁹"),
        (1.23e-4, "1.23×10⁻⁴"),
        (-0.05812, "-0.05812"),
        (17.7, "17.7"),
        (0.1, "0.1"),
        (1234.56, "1235"),
        (12, "12"),
        (np.int64(123456), "123456"),
        (np.float32(0.5), "0.5"),
        (True, "yes"),
        (float("nan"), "—"),
        (None, "—"),
        (0.0, "0"),
    ],
)
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_format_value_rounds_to_error():
    assert format_value(17.71234, err=0.4, unit="s") == "17.71 ± 0.40 s"
    assert format_value(-0.0581, err=0.0012, unit="V") == "-0.0581 ± 0.0012 V"
    assert format_value(1.1e9, err=8e7, unit="cm⁻²") == "(1.100 ± 0.080)×10⁹ cm⁻²"
    assert format_value(3.2, err=float("nan"), unit="nm") == "3.2 nm"
    assert format_value(None, err=0.1) == "—"
    assert "95 % CI 1 to 2" in format_value(1.5, ci95=[1.0, 2.0])


def test_index_links_reports(tmp_path):
    entries = [
        {
            "scenario": "sem-particles",
            "report_path": tmp_path / "sem-particles" / "report.html",
            "summary_path": tmp_path / "sem-particles" / "summary.json",
            "headline": "312 particles <1e9 cm⁻²>",
        },
        {"scenario": "irm-cv", "report_path": None, "summary_path": None, "headline": None},
    ]
    out = render_index(entries, out_path=tmp_path / "index.html")
    text = out.read_text(encoding="utf-8")
    assert 'href="sem-particles/report.html"' in text
    assert 'href="sem-particles/summary.json"' in text
    assert "312 particles &lt;1e9 cm⁻²&gt;" in text
    assert "irm-cv" in text and "<link" not in text


# --------------------------------------------------------------------------- layout
def _layout_report(tmp_path, **summary_extra):
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    png = atomic_savefig(fig, tmp_path / "figures" / "potential_irm.png")
    summary = {**_summary(), **summary_extra}
    summary["warnings"] = [
        {"code": "drift", "message": "the gain drifted by 3 %", "where": "drift"}
    ]
    summary["python"] = "3.11.7"
    summary["echem"]["stages"] = [
        {f"quantity_{i}_V": 0.1 * i for i in range(12)} | {"name": f"S{j}"} for j in range(3)
    ]
    return render_report(
        summary,
        figures=[{"title": "Potential", "path": png, "caption": ""}],
        out_path=tmp_path / "report.html",
    ).read_text(encoding="utf-8")


def test_report_order_headline_warnings_analyses_provenance(tmp_path):
    text = _layout_report(tmp_path)
    at = {k: text.index(f'id="{k}"') for k in ("headline", "warnings", "r-echem", "provenance")}
    assert at["headline"] < at["warnings"] < at["r-echem"] < at["provenance"]
    # the provenance is last: the Python version is not among the first things read
    assert text.index("3.11.7") > at["provenance"]
    head = text[at["headline"] : at["warnings"]]
    # the scenario's headline numbers, each ± its uncertainty, the convention said once
    assert "E_nuc" in head and "-0.0581 ± 0.0012" in head
    assert head.count("k = 2") == 1


def test_report_figure_beside_its_numbers_details_folded(tmp_path):
    text = _layout_report(tmp_path)
    echem = text.split('id="r-echem"')[1].split('<section class="analysis">')[0]
    # the figure sits in the electrochemistry section, in the column beside the numbers
    assert '<div class="pair">' in echem and '<div class="figs"><figure>' in echem
    assert "Figure 1. Potential" in echem
    # a list of rows inside an analysis is folded, in its own scrolling box
    stages = echem.split("<summary>Stages")[1]
    assert echem.count("<details") >= 2 and '<div class="scroll">' in stages
    # 13 columns × 3 rows: transposed (one row per quantity)
    assert '<table class="t transposed">' in stages
    assert stages.count("<tr>") == 13


def test_big_figure_embedded_as_a_screen_copy(tmp_path):
    rng = np.random.default_rng(0)
    fig = Figure(figsize=(10, 4))
    fig.add_subplot().imshow(rng.random((400, 1000)))  # noise: a heavy PNG
    png = atomic_savefig(fig, tmp_path / "figures" / "sem_noise.png", vector=False)
    assert len(png.read_bytes()) > 800_000
    text = render_report(
        {"scenario": "x", "particles": {"count": 1}},
        figures=[{"title": "noise", "path": png}],
        out_path=tmp_path / "r.html",
    ).read_text(encoding="utf-8")
    m = re.search(r'src="data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)"', text)
    data = base64.b64decode(m.group(2))
    assert len(data) <= 800_000
    # the file beside the report keeps its 300 dpi (3000 px wide)
    assert int.from_bytes(png.read_bytes()[16:20], "big") == 3000


def test_units_of_densities_and_rates(tmp_path):
    text = render_report(
        {
            "scenario": "x",
            "sites": {"density_um2": 0.15, "density_um2_err": 0.07},
            "run": {"spots_per_s": 168.4},
        },
        out_path=tmp_path / "r.html",
    ).read_text(encoding="utf-8")
    assert '0.150 ± 0.070 <span class="u">µm⁻²</span>' in text
    assert '168.4 <span class="u">s⁻¹</span>' in text
    assert "per 168" not in text and "µm²<" not in text
