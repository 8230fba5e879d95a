"""EC-Lab settings (.mps), loop-index and voltage-only export readers.

Real file: the datalab Li‖Li run in ``shared/data/echem/datalab_LiLi`` (facts read by
hand from the .mps text and checked against the run's own .mpr); the other cases are
small settings files written here in EC-Lab's fixed-width layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platescope import InputError
from platescope.io import read_echem
from platescope.io._echem_eclab_mps import (
    read_eclab_loops,
    read_eclab_settings,
    read_voltage_export,
    set_currents_A,
)

LILI = Path(__file__).parents[2] / ".." / "shared" / "data" / "echem" / "datalab_LiLi"
STEM = "jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA"
needs_lili = pytest.mark.skipif(not LILI.is_dir(), reason="shared/data/echem/datalab_LiLi absent")


def _row(key: str, *values: str) -> str:
    return f"{key:<20}" + "".join(f"{v:<20}" for v in values)


def _write(tmp_path, lines, name="s.mps", encoding="latin-1") -> Path:
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return p


def _header(n: int) -> list[str]:
    return [
        "EC-LAB SETTING FILE",
        "",
        f"Number of linked techniques : {n}",
        "",
        "Device : SP-150",
        "",
    ]


@needs_lili
def test_datalab_settings_facts_read_by_hand():
    s = read_eclab_settings(LILI / f"{STEM}.mps")
    assert s["device"] == "VSP"
    assert s["electrode_area_cm2"] is None  # "0.001 cm²": EC-Lab's placeholder
    assert [t["code"] for t in s["techniques"]] == ["GCPL", "GEIS", "GCPL", "Loop"]
    pre, geis, gcpl, loop = s["techniques"]
    # technique 1: Ns 0 rests 0:05:0 (300 s); Ns 1 applies 0.400 mA for 0:10:0 (600 s)
    assert pre["sequences"][0]["rest_s"] == 300.0
    assert pre["sequences"][1]["current_A"] == pytest.approx(4e-4)
    assert pre["sequences"][1]["duration_s"] == 600.0
    # technique 3: 0.400 mA for 1:00:0, EM 10.000 V
    assert gcpl["sequences"][1]["current_A"] == pytest.approx(4e-4)
    assert gcpl["sequences"][1]["duration_s"] == 3600.0
    assert gcpl["sequences"][1]["E_limit_V"] == 10.0
    # the GEIS amplitude unit is byte 0xB5 (µ) in the file
    assert geis["sequences"][0]["raw"]["unit  Ia"] == "µA"
    assert (loop["goto_technique"], loop["loop_times"]) == (2, 44)
    assert set_currents_A(s) == pytest.approx([4e-4])


@needs_lili
def test_datalab_settings_agree_with_the_runs_mpr():
    """The .mpr of technique 1 rests 300 s, then holds 0.4 mA for 600 s, as the .mps says."""
    s = read_eclab_settings(LILI / f"{STEM}.mps")
    rest = s["techniques"][0]["sequences"][0]["rest_s"]
    pulse = s["techniques"][0]["sequences"][1]
    df = read_echem(LILI / f"{STEM}_01_GCPL_C05.mpr")
    t, i = df["time_s"].to_numpy(), df["current_A"].to_numpy()
    on = np.abs(i) > 1e-5
    assert t[on][0] == pytest.approx(rest, abs=2.0)
    assert np.median(i[on]) == pytest.approx(pulse["current_A"], rel=1e-3)
    assert t[-1] - t[on][0] == pytest.approx(pulse["duration_s"], abs=2.0)


@needs_lili
def test_datalab_loops_match_the_settings_and_the_export():
    loops = read_eclab_loops(LILI / f"{STEM}_03_GCPL_C05_LOOP.txt")
    s = read_eclab_settings(LILI / f"{STEM}.mps")
    assert len(loops) == s["techniques"][3]["loop_times"] + 1 == 45
    assert loops[:3] == [0, 709, 1104] and loops[-1] == 76429
    v = read_voltage_export(LILI / f"{STEM}_03_GCPL_C05.txt")
    assert list(v.columns) == ["time_s", "potential_V"] and len(v) == 76807
    t = v["time_s"].to_numpy()
    # each loop is one 1 h GCPL sequence (settings: t1 = 1:00:0)
    spans = np.diff(np.append(t[loops], t[-1]))[:-1]
    assert np.all(spans > 3600.0) and np.all(spans < 3600.0 + 15.0)


def test_comma_decimals_micro_amps_c_rate_and_ocv(tmp_path):
    lines = _header(3) + [
        "Technique : 1",
        "Open Circuit Voltage",
        _row("tR (h:m:s)", "0:00:30,0000"),
        "",
        "Technique : 2",
        "Galvanostatic Cycling with Potential Limitation",
        _row("Ns", "0", "1"),
        _row("Set I/C", "I", "C"),
        _row("Is", "-250,000", "0,000"),
        _row("unit Is", "\xb5A", "mA"),
        _row("t1 (h:m:s)", "0:30:0,0000", "1:00:0,0000"),
        _row("EM (V)", "pass", "1,500"),
        _row("tR (h:m:s)", "0:00:10,0000", "0:00:0,0000"),
        _row("goto Ns'", "0", "0"),
        _row("nc cycles", "0", "4"),
        "",
        "Technique : 3",
        "Loop",
        _row("goto Ne", "1"),
        _row("nt times", "9"),
    ]
    s = read_eclab_settings(_write(tmp_path, lines))
    ocv, gcpl, loop = s["techniques"]
    assert ocv["code"] == "OCV" and ocv["sequences"][0]["duration_s"] == 30.0
    a, b = gcpl["sequences"]
    assert a["current_A"] == pytest.approx(-2.5e-4) and a["duration_s"] == 1800.0
    assert a["E_limit_V"] is None and a["rest_s"] == 10.0
    assert b["set_by"] == "C" and b["current_A"] is None and b["n_cycles"] == 4
    assert (loop["goto_technique"], loop["loop_times"]) == (1, 9)


def test_chronoamperometry_and_peis_fields(tmp_path):
    lines = _header(2) + [
        "Technique : 1",
        "Chronoamperometry / Chronocoulometry",
        _row("Ns", "0", "1"),
        _row("Ei (V)", "0.350", "-0.100"),
        _row("vs.", "Ref", "Eoc"),
        _row("ti (h:m:s)", "0:00:10.0000", "0:02:0.0000"),
        "",
        "Technique : 2",
        "Potentio Electrochemical Impedance Spectroscopy",
        _row("E (V)", "0.0000"),
        _row("vs.", "Eoc"),
    ]
    ca, peis = read_eclab_settings(_write(tmp_path, lines))["techniques"]
    assert ca["code"] == "CA"
    assert [q["potential_V"] for q in ca["sequences"]] == [0.35, -0.1]
    assert [q["potential_vs"] for q in ca["sequences"]] == ["Ref", "Eoc"]
    assert [q["duration_s"] for q in ca["sequences"]] == [10.0, 120.0]
    assert peis["code"] == "PEIS" and peis["sequences"][0]["potential_vs"] == "Eoc"


def test_utf8_resaved_file_reads_the_same(tmp_path):
    lines = _header(1) + [
        "Technique : 1",
        "Chronopotentiometry",
        _row("Is", "50.000"),
        _row("unit Is", "µA"),
        _row("ts (h:m:s)", "0:01:0.0000"),
    ]
    s = read_eclab_settings(_write(tmp_path, lines, encoding="utf-8"))
    assert s["techniques"][0]["sequences"][0]["current_A"] == pytest.approx(5e-5)


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (["EC-LAB LOG FILE", ""], "not an EC-Lab settings file"),
        (
            _header(2) + ["Technique : 1", "Open Circuit Voltage", _row("tR (h:m:s)", "0:00:1.0")],
            "announces 2 techniques",
        ),
        (["EC-LAB SETTING FILE", "", "Device : VSP"], "how many techniques"),
        (
            _header(1)
            + ["Technique : 1", "Chronopotentiometry", _row("Is", "1.0"), _row("unit Is", "kA")],
            "current unit",
        ),
        (_header(1) + ["Technique : 1", "Loop", _row("goto Ne", "1")], "nt times"),
    ],
)
def test_bad_settings_files_name_the_file(tmp_path, lines, words):
    p = _write(tmp_path, lines)
    with pytest.raises(InputError) as exc:
        read_eclab_settings(p)
    assert words in str(exc.value) and str(p) in str(exc.value)


def test_bad_loop_files(tmp_path):
    p = tmp_path / "x_LOOP.txt"
    p.write_text("VMP EXPERIMENT LOOP INDEXES\n0\n50\n20\n")
    with pytest.raises(InputError, match="do not increase"):
        read_eclab_loops(p)
    p.write_text("something else\n0\n")
    with pytest.raises(InputError, match="not an EC-Lab loop-index file"):
        read_eclab_loops(p)


def test_voltage_export_refuses_files_with_a_current(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("time/s\tEwe/V\tI/mA\n0\t0.1\t0.4\n1\t0.1\t0.4\n")
    with pytest.raises(InputError, match="has a current column"):
        read_voltage_export(p)
    q = tmp_path / "y.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not an EC-Lab text export"):
        read_voltage_export(q)


@needs_lili
def test_info_describes_the_settings_file(capsys):
    from platescope.cli import main
    from platescope.io import describe

    info = describe(LILI / f"{STEM}.mps")
    assert info["kind"] == "eclab-settings" and info["n_techniques"] == 4
    assert info["set_currents_mA"] == pytest.approx([0.4])
    assert main(["info", str(LILI / f"{STEM}.mps")]) == 0
    assert "GCPL" in capsys.readouterr().out
