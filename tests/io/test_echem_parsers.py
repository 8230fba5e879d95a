"""Text parsers of the echem readers: formats written here, property tests, bad input."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platescope import InputError
from platescope.io import describe_echem, read_echem


def _write(path: Path, text: str, encoding: str = "latin-1") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _mpt_text(
    rows: list[list[str]],
    names: list[str],
    *,
    technique: str = "Chronopotentiometry",
    start: str = "03/02/2021 16:17:59.250",
    extra_header: tuple[str, ...] = (),
    sep: str = "\t",
) -> str:
    header = [
        "EC-Lab ASCII FILE",
        "Nb header lines : {n}",
        "",
        technique,
        "",
        f"Acquisition started on : {start}",
        "Device : SP-300 (SN 1854)",
        *extra_header,
        "",
        sep.join(names) + sep,
    ]
    header[1] = f"Nb header lines : {len(header)}                          "
    return "\r\n".join(header + [sep.join(r) for r in rows]) + "\r\n"


# ----------------------------------------------------------------------------- EC-Lab text
def test_mpt_units_sign_and_attrs(tmp_path: Path) -> None:
    names = ["mode", "Ns", "time/s", "Ewe/V", "I/mA", "(Q-Qo)/mA.h", "cycle number"]
    rows = [
        ["1", "0", "10.0", "0.10", "-0.5", "0.0", "0.000000E+000"],
        ["1", "0", "11.0", "-0.02", "-0.5", "-1.3888888888888889E-004", "0.000000E+000"],
        ["1", "1", "12.0", "0.20", "0.25", "-1.0E-004", "1.000000E+000"],
    ]
    text = _mpt_text(rows, names, extra_header=("Electrode surface area : 0.500 cm²",))
    path = _write(tmp_path / "cp.mpt", text)
    df = read_echem(path)
    assert list(df.columns) == [
        "time_s",
        "potential_V",
        "current_A",
        "cycle",
        "step",
        "charge_C",
        "control_mode",
    ]
    assert df["control_mode"].tolist() == [1, 1, 1]  # EC-Lab mode 1: constant current
    np.testing.assert_array_equal(df["time_s"], [10.0, 11.0, 12.0])
    np.testing.assert_array_equal(df["current_A"], [-5e-4, -5e-4, 2.5e-4])  # mA → A, sign kept
    np.testing.assert_allclose(df["charge_C"], [0.0, -5e-4, -3.6e-4], rtol=1e-12)  # mA.h × 3.6
    np.testing.assert_array_equal(df["cycle"], [0, 0, 1])
    np.testing.assert_array_equal(df["step"], [0, 0, 1])
    assert df.attrs["electrode_area_cm2"] == 0.5
    assert df.attrs["technique"] == "Chronopotentiometry"
    assert df.attrs["technique_code"] == "CP"
    assert df.attrs["instrument"] == "BioLogic SP-300"
    assert df.attrs["t0"] == "2021-03-02T16:17:59.250000+00:00"
    assert df.attrs["units_original"]["current_A"] == "I/mA"


def test_mpt_prefers_instantaneous_columns_and_reads_averages_otherwise(tmp_path: Path) -> None:
    both = _mpt_text(
        [["0", "1.0", "2.0", "-1.0", "-3.0"]], ["time/s", "Ewe/V", "<Ewe>/V", "I/mA", "<I>/mA"]
    )
    df = read_echem(_write(tmp_path / "a.mpt", both))
    assert df["potential_V"].iloc[0] == 1.0 and df["current_A"].iloc[0] == -1e-3
    avg = _mpt_text([["0", "2.0", "-3.0"]], ["time/s", "<Ewe>/V", "<I>/mA"])
    df = read_echem(_write(tmp_path / "b.mpt", avg))
    assert df["potential_V"].iloc[0] == 2.0 and df["current_A"].iloc[0] == -3e-3


def test_default_eclab_area_and_mm2_area(tmp_path: Path) -> None:
    names = ["time/s", "Ewe/V", "I/mA"]
    default = _mpt_text(
        [["0", "0", "0"]], names, extra_header=("Electrode surface area : 0,001 cm²",)
    )
    df = read_echem(_write(tmp_path / "a.mpt", default))
    assert df.attrs["electrode_area_cm2"] is None
    assert df.attrs["electrode_area_stated"] == "0,001 cm²"
    mm2 = _mpt_text(
        [["0", "0", "0"]], names, extra_header=("Electrode surface area : 113.100 mm²",)
    )
    df = read_echem(_write(tmp_path / "b.mpt", mm2))
    assert df.attrs["electrode_area_cm2"] == pytest.approx(1.131, rel=1e-12)


def test_headerless_text_export_with_decimal_comma(tmp_path: Path) -> None:
    text = "time/s\tEwe/V\tI/mA\t\r\n0,0\t1,5\t-0,25\r\n2,5\t1,25\t-0,5\r\n"
    df = read_echem(_write(tmp_path / "export.txt", text))
    np.testing.assert_array_equal(df["time_s"], [0.0, 2.5])
    np.testing.assert_array_equal(df["potential_V"], [1.5, 1.25])
    np.testing.assert_array_equal(df["current_A"], [-2.5e-4, -5e-4])
    assert df.attrs["format"] == "eclab-txt"
    assert df.attrs["t0"] is None and df.attrs["technique"] is None


def test_technique_argument_fills_and_guards(tmp_path: Path) -> None:
    text = "time/s\tEwe/V\tI/mA\n0\t1\t-1\n1\t1\t-1\n"
    path = _write(tmp_path / "export.txt", text)
    df = read_echem(path, technique="CP")
    assert df.attrs["technique"] == "Chronopotentiometry"
    mpt = _write(
        tmp_path / "cv.mpt",
        _mpt_text([["0", "1", "-1"]], ["time/s", "Ewe/V", "I/mA"], technique="Cyclic Voltammetry"),
    )
    assert read_echem(mpt, technique="cv").attrs["technique_code"] == "CV"
    with pytest.raises(InputError, match="technique='Chronopotentiometry'") as info:
        read_echem(mpt, technique="Chronopotentiometry")
    assert str(mpt) in str(info.value)


def test_ocv_record_without_current_gets_zero_only_at_open_circuit(tmp_path: Path) -> None:
    names = ["mode", "error", "time/s", "<Ewe/V>"]
    rows = [["3", "0", "1.0", "3.42"], ["3", "0", "2.0", "3.43"]]
    ocv = _write(tmp_path / "ocv.mpt", _mpt_text(rows, names, technique="Open Circuit Voltage"))
    df = read_echem(ocv)
    np.testing.assert_array_equal(df["current_A"], [0.0, 0.0])
    assert "open" in df.attrs["current_note"]
    cp = _write(tmp_path / "cp.mpt", _mpt_text(rows, names))
    with pytest.raises(InputError, match="no current column") as info:
        read_echem(cp)
    assert "'<Ewe/V>'" in str(info.value)  # names the columns it found


def test_impedance_mpt_is_refused_but_modulo_bat_with_eis_rows_reads(tmp_path: Path) -> None:
    eis_names = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "time/s", "<Ewe>/V", "<I>/mA"]
    eis_row = [["1000", "10", "1", "0.5", "0.1", "0.001"]]
    for technique in ("Potentio Electrochemical Impedance Spectroscopy", "Modulo Bat"):
        path = _write(tmp_path / "eis.mpt", _mpt_text(eis_row, eis_names, technique=technique))
        with pytest.raises(InputError, match="technique is impedance"):
            read_echem(path)
    mb_names = ["time/s", "Ewe/V", "I/mA", "freq/Hz", "Re(Z)/Ohm"]
    rows = [["0", "3.7", "-0.1", "0", "0"], ["1", "3.7", "0.0", "1000", "10"]]
    df = read_echem(_write(tmp_path / "mb.mpt", _mpt_text(rows, mb_names, technique="Modulo Bat")))
    assert len(df) == 2 and df.attrs["technique_code"] == "MB"


def test_current_from_charge_increments_when_no_current_column(tmp_path: Path) -> None:
    names = ["time/s", "Ewe/V", "dq/mA.h", "half cycle"]
    rows = [
        ["0", "0.1", "0", "0"],
        ["10", "0.1", "-1e-3", "0"],
        ["30", "0.1", "4e-3", "1"],
        ["40", "0.1", "2e-3", "2"],
    ]
    df = read_echem(_write(tmp_path / "gcpl.mpt", _mpt_text(rows, names, technique="GCPL")))
    # dq (mA.h) × 3.6 C/mA.h / Δt (s)
    np.testing.assert_allclose(df["current_A"], [0.0, -3.6e-4, 7.2e-4, 7.2e-4], rtol=1e-12)
    np.testing.assert_array_equal(df["cycle"], [0, 0, 0, 1])


# ----------------------------------------------------------------------------- property tests
_value = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0.0 or abs(v) > 1e-200
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.floats(min_value=0.0, max_value=1e4, allow_nan=False), min_size=1, max_size=30
    ),
    data=st.data(),
    decimal=st.sampled_from([".", ","]),
    header=st.booleans(),
)
def test_text_round_trip_decimal_point_and_comma(tmp_path, steps, data, decimal, header) -> None:
    n = len(steps)
    time = np.cumsum(steps)
    # potentials a potentiostat can record (|E| ≤ 20 V; beyond, samples are excluded)
    potential = np.array(data.draw(st.lists(_value, min_size=n, max_size=n))) / 50.0
    current_mA = np.array(data.draw(st.lists(_value, min_size=n, max_size=n)))

    def fmt(v: float) -> str:
        return repr(float(v)).replace(".", decimal)

    rows = [[fmt(t), fmt(e), fmt(i)] for t, e, i in zip(time, potential, current_mA, strict=True)]
    names = ["time/s", "Ewe/V", "I/mA"]
    if header:
        text = _mpt_text(rows, names)
        path = _write(tmp_path / "prop.mpt", text)
    else:
        text = "\t".join(names) + "\n" + "\n".join("\t".join(r) for r in rows) + "\n"
        path = _write(tmp_path / "prop.txt", text)
    import platescope.io._echem_common as common

    spreads, common.GROSS_SPIKE_SPREADS = common.GROSS_SPIKE_SPREADS, np.inf  # parsing only
    try:
        df = read_echem(path)
    finally:
        common.GROSS_SPIKE_SPREADS = spreads
    np.testing.assert_array_equal(df["time_s"], time)
    np.testing.assert_array_equal(df["potential_V"], potential)
    np.testing.assert_array_equal(df["current_A"], current_mA * 1e-3)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # values a potentiostat can record: |E| ≤ 20 V, |I| ≤ 100 A (beyond, samples are excluded)
    values=st.lists(
        st.tuples(_value.map(lambda v: v / 50.0), _value.map(lambda v: v / 10.0)),
        min_size=1,
        max_size=20,
    ),
    sep=st.sampled_from([",", ";", "\t"]),
    decimal=st.sampled_from([".", ","]),
)
def test_csv_round_trip_any_separator(tmp_path, values, sep, decimal) -> None:
    if sep == "," and decimal == ",":
        decimal = "."  # a comma cannot be both
    rows = [
        sep.join(repr(float(x)).replace(".", decimal) for x in (float(k), e, i))
        for k, (e, i) in enumerate(values)
    ]
    path = _write(
        tmp_path / "rec.csv",
        sep.join(["time_s", "potential_V", "current_A"]) + "\n" + "\n".join(rows) + "\n",
    )
    import platescope.io._echem_common as common

    spreads, common.GROSS_SPIKE_SPREADS = common.GROSS_SPIKE_SPREADS, np.inf  # parsing only
    try:
        df = read_echem(path)
    finally:
        common.GROSS_SPIKE_SPREADS = spreads
    np.testing.assert_array_equal(df["potential_V"], [e for e, _ in values])
    np.testing.assert_array_equal(df["current_A"], [i for _, i in values])


# ----------------------------------------------------------------------------- CSV
def test_csv_si_and_unit_variants(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "a.csv", "time_s,potential_V,current_A,cycle\n0,0.1,-1e-4,1\n1,0.0,-1e-4,1\n"
    )
    df = read_echem(p)
    assert list(df.columns) == ["time_s", "potential_V", "current_A", "cycle"]
    assert df.attrs["format"] == "csv"
    q = _write(tmp_path / "b.csv", "time_min;potential_mV;current_mA\n0,5;100;-0,1\n1,0;-20;-0,1\n")
    df = read_echem(q)
    np.testing.assert_array_equal(df["time_s"], [30.0, 60.0])
    np.testing.assert_allclose(df["potential_V"], [0.1, -0.02], rtol=1e-15)
    np.testing.assert_allclose(df["current_A"], [-1e-4, -1e-4], rtol=1e-15)
    r = _write(tmp_path / "c.csv", "time/s,Ewe/V,<I>/mA\n0,0.1,-2\n")
    assert read_echem(r)["current_A"].iloc[0] == -2e-3


def test_csv_without_current_names_found_and_needed_columns(tmp_path: Path) -> None:
    p = _write(tmp_path / "nocurrent.csv", "time_s,potential_V,temperature_C\n0,0.1,25\n")
    with pytest.raises(InputError) as info:
        read_echem(p)
    message = str(info.value)
    assert str(p) in message
    assert "current_A" in message and "'temperature_C'" in message and "needed" in message


# ----------------------------------------------------------------------------- Gamry
def _gamry(
    curves: dict[str, list[str]],
    *,
    declared: int | None = None,
    aborted: str = "F",
    tag: str = "CV",
    title: str = "Cyclic Voltammetry",
    date: str = "4/23/2018",
) -> str:
    lines = [
        "EXPLAIN",
        f"TAG\t{tag}",
        f"TITLE\tLABEL\t{title}\tTest &Identifier",
        f"DATE\tLABEL\t{date}\tDate",
        "TIME\tLABEL\t16:43:15\tTime",
        "NOTES\tNOTES\t1\t&Notes...",
        "\tsome note",
        "PSTAT\tPSTAT\tREF600-1\tPotentiostat",
        "AREA\tQUANT\t2,50000E-001\t&Area (cm^2)",
        f"EXPERIMENTABORTED\tTOGGLE\t{aborted}\tExperiment Aborted",
    ]
    for name, rows in curves.items():
        count = len(rows) if declared is None else declared
        lines += [f"{name}\tTABLE\t{count}", "\tPt\tT\tVf\tIm\tOver", "\t#\ts\tV vs. Ref.\tA\tbits"]
        lines += ["\t" + r for r in rows]
    return "\r\n".join(lines) + "\r\n"


def test_gamry_cycles_decimal_comma_area_and_t0(tmp_path: Path) -> None:
    curves = {
        "CURVE1": ["0\t0,1\t2,0E-001\t-1,0E-006\t....a", "1\t0,2\t1,9E-001\t-2,0E-006\t....a"],
        "CURVE2": ["0\t0,3\t2,0E-001\t3,0E-006\t....a"],
    }
    df = read_echem(_write(tmp_path / "cv.DTA", _gamry(curves)), timezone="America/New_York")
    np.testing.assert_array_equal(df["time_s"], [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(df["potential_V"], [0.2, 0.19, 0.2])
    np.testing.assert_array_equal(df["current_A"], [-1e-6, -2e-6, 3e-6])
    np.testing.assert_array_equal(df["cycle"], [1, 1, 2])
    assert df.attrs["electrode_area_cm2"] == 0.25
    assert df.attrs["instrument"] == "Gamry REF600-1"
    assert df.attrs["t0"] == "2018-04-23T20:43:15+00:00"  # EDT = UTC-4


def test_gamry_truncated_table_unless_aborted(tmp_path: Path) -> None:
    rows = ["0\t0.1\t0.2\t-1e-6\t.a", "1\t0.2\t0.2\t-1e-6\t.a"]
    path = _write(tmp_path / "short.DTA", _gamry({"CURVE": rows}, declared=10))
    with pytest.raises(InputError, match="2 of the 10 points"):
        read_echem(path)
    path = _write(tmp_path / "aborted.DTA", _gamry({"CURVE": rows}, declared=10, aborted="T"))
    df = read_echem(path)
    assert len(df) == 2 and df.attrs["experiment_aborted"] is True


def test_gamry_impedance_is_refused(tmp_path: Path) -> None:
    text = _gamry({}, tag="EISPOT", title="Potentiostatic EIS")
    text += "ZCURVE\tTABLE\r\n\tPt\tTime\tFreq\tZreal\r\n\t#\ts\tHz\tohm\r\n\t0\t1\t1000\t5\r\n"
    with pytest.raises(InputError, match="technique is impedance"):
        read_echem(_write(tmp_path / "eis.DTA", text))


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_input_error_naming_the_file(tmp_path: Path) -> None:
    good = _mpt_text([["0", "1", "-1"], ["1", "1", "-1"]], ["time/s", "Ewe/V", "I/mA"])
    cases = {
        "empty.mpt": (b"", "empty"),
        "junk.bin": (bytes(range(256)) * 8, "not a recognised"),
        "header_cut.mpt": (good[:120].encode("latin-1"), "truncated"),
        "row_cut.mpt": (good.rstrip()[:-4].encode("latin-1"), "truncated"),
        "garbage.mpt": (good.replace("-1\r\n", "abc\r\n", 1).encode("latin-1"), "'abc'"),
        "backwards.csv": (b"time_s,potential_V,current_A\n1,0,0\n0,0,0\n", "backwards"),
        "nan.csv": (b"time_s,potential_V,current_A\n0,nan,0\n", "finite"),
        "text.txt": (b"hello world\nthis is not data\n", "not a recognised"),
        "nocolumns.csv": (b"a,b,c\n1,2,3\n", "columns found: 'a', 'b', 'c'"),
        "headeronly.csv": (b"time_s,potential_V,current_A\n", "no data rows"),
        "runtogether.csv": (b"time_s,potential_V,current_A\n0,1,2\n1,1,2,5,6\n", "run together"),
        "badmagic.mpr": (b"BIO-LOGIC MODULAR FILE\x1a   " + b"\x00" * 40, "galvani could not"),
    }
    for name, (content, phrase) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError) as info:
            read_echem(path)
        message = str(info.value)
        assert str(path) in message, name
        assert phrase in message, (name, message)


def test_garbage_message_names_the_line(tmp_path: Path) -> None:
    good = _mpt_text([["0", "1", "-1"], ["1", "1", "x1"]], ["time/s", "Ewe/V", "I/mA"])
    path = _write(tmp_path / "g.mpt", good)
    with pytest.raises(InputError, match=r"line 11 holds 'x1' in column 'I/mA'"):
        read_echem(path)


def test_missing_folder_and_timezone_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_echem(tmp_path / "nope.mpt")
    with pytest.raises(InputError, match="folder"):
        read_echem(tmp_path)
    p = _write(tmp_path / "a.csv", "time_s,potential_V,current_A\n0,0,0\n")
    with pytest.raises(InputError, match="unknown time zone"):
        read_echem(p, timezone="Mars/Olympus")


def test_truncated_real_mpr_gives_input_error(tmp_path: Path) -> None:
    pytest.importorskip("galvani")
    src = Path(__file__).parents[2] / ".." / "shared" / "data" / "echem" / "yadg" / "cp.mpr"
    if not src.is_file():
        pytest.skip("shared/data absent")
    data = src.read_bytes()
    for cut in (len(data) // 2, len(data) - 7, 70):
        path = tmp_path / f"cut{cut}.mpr"
        path.write_bytes(data[:cut])
        with pytest.raises(InputError) as info:
            read_echem(path)
        assert str(path) in str(info.value)


def test_missing_galvani_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + b" " * 25 + b"\x00" * 4)
    monkeypatch.setitem(sys.modules, "galvani", None)
    with pytest.raises(InputError, match=r"platescope\[mpr\]"):
        read_echem(path)


def test_refused_formats_by_content(tmp_path: Path) -> None:
    cases = {
        "a.nda": (b"NEWARE20200325" + b"\x00" * 64, "Neware"),
        "s.mps": (b"EC-LAB SETTING FILE\r\n\r\nNumber of linked techniques : 1\r\n", "settings"),
        "chi.txt": (
            b"Feb. 20, 2020   15:55:08\nCyclic Voltammetry\nFile: x\nData Source:  "
            b"Experiment\nInstrument Model:  CHI660E\n\nPotential/V, Current/A\n0.1, 1e-6\n",
            "sign convention",
        ),
    }
    for name, (content, phrase) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError, match=phrase):
            read_echem(path)


def test_describe_echem_of_a_csv(tmp_path: Path) -> None:
    p = _write(tmp_path / "a.csv", "time_s,potential_V,current_A\n0,0.1,-2e-4\n5,-0.1,1e-4\n")
    info = describe_echem(p)
    assert info["n_points"] == 2
    assert info["potential_V"] == [-0.1, 0.1]
    assert info["current_A"] == [-2e-4, 1e-4]
    assert info["t0"] is None


# ----------------------------------------------------------------------------- writer
def _sim_record(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = 3.0 + np.cumsum(rng.uniform(0.05, 0.2, n))
    i = np.where(t < t[n // 2], -1.2e-4, 0.0) + rng.normal(0, 1e-7, n)
    e = -0.05 - 0.02 * np.exp(-(t - t[0])) + rng.normal(0, 1e-4, n)
    df = pd.DataFrame(
        {
            "time_s": t,
            "potential_V": e,
            "current_A": i,
            "step": (t >= t[n // 2]).astype(int),
            "cycle": np.zeros(n, int),
        }
    )
    df.attrs["electrode_area_cm2"] = 0.196
    return df


@pytest.mark.parametrize("decimal", [".", ","])
def test_write_eclab_mpt_round_trip(tmp_path: Path, decimal: str) -> None:
    from platescope.io._echem_eclab_text import write_eclab_mpt

    rec = _sim_record()
    t0 = datetime(2024, 3, 5, 14, 7, 9, 123456)
    out = write_eclab_mpt(tmp_path / "echem.mpt", rec, t0_local=t0, decimal=decimal)
    df = read_echem(out, timezone="Europe/London")
    assert len(df) == len(rec)
    np.testing.assert_allclose(df["time_s"], rec["time_s"], rtol=1e-15)
    np.testing.assert_allclose(df["potential_V"], rec["potential_V"], rtol=5e-8, atol=1e-12)
    np.testing.assert_allclose(df["current_A"], rec["current_A"], rtol=5e-8, atol=1e-15)
    np.testing.assert_array_equal(df["step"], rec["step"])
    np.testing.assert_array_equal(df["cycle"], rec["cycle"])
    # charge: trapezoid of the current, independently computed here
    t, i = rec["time_s"].to_numpy(), rec["current_A"].to_numpy()
    q = np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t))])
    np.testing.assert_allclose(df["charge_C"], q, rtol=1e-12, atol=1e-15)
    assert df.attrs["t0"] == "2024-03-05T14:07:09.123000+00:00"  # GMT in March, ms precision
    assert df.attrs["technique"] == "Chronopotentiometry"
    assert df.attrs["electrode_area_cm2"] == pytest.approx(0.196)
    assert df.attrs["decimal"] == decimal


def test_written_mpt_follows_the_sim_format_spec(tmp_path: Path) -> None:
    from platescope.io._echem_eclab_text import write_eclab_mpt

    out = write_eclab_mpt(
        tmp_path / "echem.mpt", _sim_record(20), t0_local=datetime(2024, 12, 31, 23, 59, 59, 999700)
    )
    lines = out.read_bytes().decode("latin-1").split("\r\n")
    assert lines[0] == "EC-Lab ASCII FILE"
    n = int(lines[1].split(":")[1])
    assert lines[n - 1].rstrip("\t").split("\t") == [
        "mode",
        "ox/red",
        "error",
        "control changes",
        "Ns changes",
        "counter inc.",
        "Ns",
        "time/s",
        "control/mA",
        "Ewe/V",
        "I/mA",
        "dQ/C",
        "(Q-Qo)/mA.h",
        "cycle number",
    ]
    assert "Chronopotentiometry" in lines[: n - 1]
    # rounding to the millisecond carries into the next year
    assert "Acquisition started on : 01/01/2025 00:00:00.000" in lines
    rows = [r.split("\t") for r in lines[n:] if r]
    assert len(rows) == 20 and all(len(r) == 14 for r in rows)
    assert all("," not in field for r in rows for field in r)
    current = np.array([float(r[10]) for r in rows])
    assert np.all(current[:10] < 0)  # plating current negative in I/mA
    assert list(tmp_path.iterdir()) == [out]  # no temp file left behind


def test_writer_replaces_atomically_and_keeps_old_file_on_error(tmp_path: Path) -> None:
    from platescope.io._echem_eclab_text import write_eclab_mpt

    target = tmp_path / "echem.mpt"
    write_eclab_mpt(target, _sim_record(10), t0_local=datetime(2024, 1, 1))
    before = target.read_bytes()
    bad = _sim_record(10)
    bad.loc[3, "potential_V"] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        write_eclab_mpt(target, bad, t0_local=datetime(2024, 1, 1))
    assert target.read_bytes() == before
    write_eclab_mpt(target, _sim_record(12, seed=1), t0_local=datetime(2024, 1, 1))
    assert len(read_echem(target)) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["echem.mpt"]
    assert datetime.fromisoformat(read_echem(target).attrs["t0"]) == datetime(
        2024, 1, 1, tzinfo=UTC
    )


def test_gamry_without_curve_table_says_which_tables_it_found(tmp_path: Path) -> None:
    text = _gamry({}, tag="CORPOT", title="Open Circuit Potential")
    text += "OCVCURVE\tTABLE\t1\r\n\tPt\tT\tVf\r\n\t#\ts\tV\r\n\t0\t1\t0.1\r\n"
    with pytest.raises(InputError, match="tables found: 'OCVCURVE'"):
        read_echem(_write(tmp_path / "ocp.DTA", text))


def test_csv_cut_off_mid_number_drops_the_untrustworthy_last_row(tmp_path):
    # a copy interrupted inside the last number: "-1.302401e-10" became "-1.3008"
    full = (
        "time_s,potential_V,current_A\n0.0,0.5,-1.300002e-10\n0.1,0.4,-1.301003e-10\n"
        "0.2,0.3,-1.302401e-10\n"
    )
    p = tmp_path / "cut.csv"
    p.write_text(full[: full.rindex("e-10")] + "", encoding="utf-8")
    from platescope.io import read_echem

    df = read_echem(p)
    assert len(df) == 2  # the cut row is gone, not read as -1.3 A
    assert df["current_A"].abs().max() < 1e-9
    assert "line break" in df.attrs["last_row_dropped"]
    p.write_text(full, encoding="utf-8")
    whole = read_echem(p)
    assert len(whole) == 3 and "last_row_dropped" not in whole.attrs
    # EC-Lab and others end files without a line break: a complete last row stays
    p.write_text(full.rstrip("\n"), encoding="utf-8")
    assert len(read_echem(p)) == 3


def test_eclab_text_cut_off_mid_row_drops_the_last_row(tmp_path):
    from datetime import datetime

    import numpy as np
    import pandas as pd

    from platescope.io import read_echem
    from platescope.io._echem_eclab_text import write_eclab_mpt

    t = np.arange(5) * 0.1
    rec = pd.DataFrame({"time_s": t, "potential_V": 0.1 - t, "current_A": np.full(5, -2e-9)})
    p = tmp_path / "rec.mpt"
    write_eclab_mpt(p, rec, t0_local=datetime(2026, 1, 2, 3, 4, 5))
    data = p.read_bytes()
    assert data.endswith(b"\n")
    cut = tmp_path / "cut.mpt"
    cut.write_bytes(data.rstrip(b"\r\n")[:-8])  # "…E+000" loses its exponent, stays a number
    df = read_echem(cut)
    assert len(df) == 4 and "last_row_dropped" in df.attrs
    assert len(read_echem(p)) == 5
