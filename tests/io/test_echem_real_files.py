"""Every real potentiostat file in shared/data/echem reads sanely or fails with a clear InputError.

Checks against independent sources: the EC-Lab .mpr/.mpt twins of one run, plain pandas
parses of the text tables, the header's start-time text parsed with ``strptime``, the
set current (``control/mA``) of chronopotentiometry runs, and the charge column.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.io import describe_echem, read_echem
from platescope.io._echem_common import STANDARD_COLUMNS


def _data_dir() -> Path:
    return Path(__file__).parents[2] / ".." / "shared" / "data" / "echem"


DATA = _data_dir()
ALL_FILES = sorted(p for p in DATA.rglob("*") if p.is_file()) if DATA.is_dir() else []


def _rel(p: Path) -> str:
    return p.relative_to(DATA).as_posix()


def _needs(rel: str) -> Path:
    path = DATA / rel
    if not path.is_file():
        pytest.skip(f"{rel} not in shared/data")
    return path


# Expected outcome per file: "ok" or a phrase the InputError message must contain.
EXPECTED = {
    "cellpy/biol.mpr": "ok",
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA-prerun_C05.mpr": (
        "technique is impedance"
    ),
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA.mps": "settings file",
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_01_GCPL_C05.mpr": "ok",
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_02_GEIS_C05.mpr": (
        "technique is impedance"
    ),
    # a 45 h GCPL export holding only time/s and Ewe/V
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt": (
        "no current column"
    ),
    "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05_LOOP.txt": (
        "loop-index file"
    ),
    "impedancepy/exampleDataAutolab.txt": "technique is impedance",
    "impedancepy/exampleDataBioLogic.mpt": "technique is impedance",
    "impedancepy/exampleDataCHInstruments.txt": "technique is impedance",
    "impedancepy/exampleDataGamry.DTA": "technique is impedance",
    "ixdat/Pt_poly_cv.mpt": "ok",
    "ixdat/Pt_poly_cv_CUT.mpt": "ok",
    "ixdat/dataset_with_loop_01_02_CVA_DUSB0_C01.mpt": "ok",
    "ixdat/dataset_with_loop_01_03_CP_DUSB0_C01.mpt": "ok",
    "ixdat/multiple_techniques_dataset_01_03_CP_C01.mpt": "ok",
    "ixdat/zilien_v1_full_set.tsv": "Zilien EC-MS .tsv files",
    "ixdat/zilien_v1_full_set_01_01_CP_DUSB0_C01.mpt": "ok",
    "ixdat/zilien_v1_full_set_01_02_CVA_DUSB0_C01.mpt": "ok",
    "navani/00_test_02_MB_C01.mpr": "ok",
    "navani/00_test_04_MB_C01.mpr": "ok",
    "navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr": "ok",
    "navani/test.nda": "Neware .nda/.ndax files are not supported",
    "navani/test.ndax": "Neware .nda/.ndax files are not supported",
    "unitpackage/eclab_ca.mpt": "ok",
    "unitpackage/eclab_cv.mpt": "ok",
    "unitpackage/eclab_cv.mpt.metadata": "not a recognised electrochemistry file",
    "unitpackage/gamry_cv.DTA": "ok",
    "unitpackage/gamry_cv.DTA.metadata": "not a recognised electrochemistry file",
    "yadg/ca.issue_149.mpr": "ok",
    "yadg/ca.issue_149.mpt": "ok",
    "yadg/cp.issue_61.mpr": "ok",
    "yadg/cp.mpr": "ok",
    "yadg/cp.mpt": "ok",
    "yadg/cv.mpr": "ok",
    "yadg/cv.mpt": "ok",
    "yadg/gcpl.issue_149.mpr": "ok",
    "yadg/gcpl.issue_149.mpt": "ok",
    "yadg/gcpl.issue_211.mpr": "ok",
    "yadg/gcpl.issue_226.I.mpr": "ok",
    "yadg/gcpl.issue_226.I.mpt": "ok",
    "yadg/lsv.mpr": "ok",
    # galvani 0.5 does not know column id 112
    "yadg/mb.issue_223.mpr": "Column ID 112",
    "yadg/mb.issue_223.mpt": "ok",
    "yadg/ocv.issue_149.mpt": "ok",
    "yadg/peis.mpr": "technique is impedance",
    "yadg/peis.mpt": "technique is impedance",
}

# A booster-channel CP run of yadg issue 61 sets 0.25 ... 4.5 A (checked against the set
# current below); every other file stays inside the brief's |I| < 1 A.
HIGH_CURRENT = {"yadg/cp.issue_61.mpr": 5.0}

_params = [pytest.param(p, id=_rel(p)) for p in ALL_FILES] or [
    pytest.param(None, marks=pytest.mark.skip(reason="shared/data/echem is absent"))
]


def _assert_sane(df: pd.DataFrame, rel: str) -> None:
    assert len(df) > 0
    assert list(df.columns[:3]) == ["time_s", "potential_V", "current_A"]
    assert set(df.columns) <= set(STANDARD_COLUMNS)
    t = df["time_s"].to_numpy()
    e = df["potential_V"].to_numpy()
    i = df["current_A"].to_numpy()
    for values in (t, e, i):
        assert values.dtype == np.float64
        assert np.all(np.isfinite(values))
    assert np.all(np.diff(t) >= 0), "time must not run backwards"
    assert np.all(t >= 0)
    assert np.max(np.abs(e)) < 10.0
    assert np.max(np.abs(i)) < HIGH_CURRENT.get(rel, 1.0)
    for col in ("cycle", "step"):
        if col in df.columns:
            assert df[col].dtype == np.int64
            assert df[col].min() >= 0
    attrs = df.attrs
    assert attrs["source"].endswith(Path(rel).name)
    assert attrs["format"] in {"eclab-mpr", "eclab-mpt", "eclab-txt", "gamry-dta", "csv"}
    assert set(attrs["units_original"]) == set(df.columns)
    if attrs["t0"] is not None:
        assert datetime.fromisoformat(attrs["t0"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize("path", _params)
def test_every_file_reads_sanely_or_fails_clearly(path: Path) -> None:
    rel = _rel(path)
    expected = EXPECTED.get(rel)
    if expected == "ok":
        _assert_sane(read_echem(path), rel)
        return
    if expected is None:  # a file added to shared/data later: either outcome, never a crash
        try:
            df = read_echem(path)
        except InputError as err:
            assert str(path) in str(err) and "Fix:" in str(err)
        else:
            _assert_sane(df, rel)
        return
    with pytest.raises(InputError) as info:
        read_echem(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "Fix:" in message


def test_expectation_table_matches_the_data_folder() -> None:
    if not DATA.is_dir():
        pytest.skip("shared/data/echem is absent")
    present = {_rel(p) for p in ALL_FILES}
    assert set(EXPECTED) <= present, sorted(set(EXPECTED) - present)


# ----------------------------------------------------------------------------- twins
PAIRS = ["ca.issue_149", "cp", "cv", "gcpl.issue_149", "gcpl.issue_226.I"]


@pytest.mark.parametrize("stem", PAIRS)
def test_mpr_and_mpt_of_one_run_agree(stem: str) -> None:
    mpr = read_echem(_needs(f"yadg/{stem}.mpr"))
    mpt = read_echem(_needs(f"yadg/{stem}.mpt"))
    assert len(mpr) == len(mpt)
    # .mpr holds float64 time and float32 potential/current; .mpt prints 16 resp. 8 digits
    np.testing.assert_allclose(mpr["time_s"], mpt["time_s"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(mpr["potential_V"], mpt["potential_V"], rtol=1e-6, atol=1e-9)
    scale = np.max(np.abs(mpt["current_A"]))
    np.testing.assert_allclose(mpr["current_A"], mpt["current_A"], rtol=1e-6, atol=1e-6 * scale)
    for col in ("cycle", "step"):
        if col in mpr.columns and col in mpt.columns:
            np.testing.assert_array_equal(mpr[col], mpt[col])
    assert mpr.attrs["technique_code"] == mpt.attrs["technique_code"]
    assert mpr.attrs["t0"] == mpt.attrs["t0"]


def test_unknown_mpr_column_is_named_while_its_text_twin_reads() -> None:
    with pytest.raises(InputError, match="Column ID 112"):
        read_echem(_needs("yadg/mb.issue_223.mpr"))
    df = read_echem(_needs("yadg/mb.issue_223.mpt"))
    assert df.attrs["technique"] == "Modulo Bat"
    assert len(df) == 108


# ----------------------------------------------------------------------------- t0
def _header_start(path: Path) -> datetime:
    text = path.read_bytes().decode("latin-1")
    stamp = re.search(r"Acquisition started on : ([0-9/.: ]+)", text).group(1).strip()
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(stamp, fmt)
        except ValueError:
            continue
    raise AssertionError(stamp)


MPT_FILES = [p for p in ALL_FILES if p.suffix == ".mpt" and EXPECTED.get(_rel(p)) == "ok"]


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=_rel(p)) for p in MPT_FILES]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no data"))],
)
def test_t0_is_the_header_start_time(path: Path) -> None:
    local = _header_start(path)
    df = read_echem(path)
    assert df.attrs["t0"] == local.replace(tzinfo=UTC).isoformat()
    assert df.attrs["t0_assumed_utc"] is True
    zoned = read_echem(path, timezone="Europe/Berlin")
    expected = local.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    assert datetime.fromisoformat(zoned.attrs["t0"]) == expected
    assert zoned.attrs["t0_assumed_utc"] is False
    offset = datetime.fromisoformat(df.attrs["t0"]) - expected
    assert offset in (timedelta(hours=1), timedelta(hours=2))  # CET / CEST


def test_gamry_t0_uses_day_month_order_of_a_european_pc() -> None:
    df = read_echem(_needs("unitpackage/gamry_cv.DTA"), timezone="Europe/Berlin")
    # header: DATE 20.4.2023, TIME 15:26:16 (CEST, UTC+2)
    assert df.attrs["t0"] == "2023-04-20T13:26:16+00:00"
    assert df.attrs["instrument"] == "Gamry REF600-25039"
    assert df.attrs["electrode_area_cm2"] == 1.0


# ----------------------------------------------------------------------------- values
def _pandas_mpt(path: Path) -> pd.DataFrame:
    """An independent, naive parse of an EC-Lab .mpt data table."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    n = int(lines[1].split(":")[1])
    decimal = "," if re.search(r"\d,\d", lines[n]) else "."
    return pd.read_csv(io.StringIO("\n".join(lines[n - 1 :])), sep="\t", decimal=decimal)


@pytest.mark.parametrize(
    ("rel", "e_col", "i_col"),
    [
        ("yadg/cp.mpt", "<Ewe>/V", "I/mA"),
        ("ixdat/Pt_poly_cv.mpt", "Ewe/V", "<I>/mA"),  # decimal comma
        ("unitpackage/eclab_ca.mpt", "Ewe/V", "I/mA"),  # decimal comma
        ("yadg/ocv.issue_149.mpt", "<Ewe/V>", None),  # open circuit: no current column
    ],
)
def test_text_values_match_a_plain_pandas_parse(rel: str, e_col: str, i_col: str | None) -> None:
    path = _needs(rel)
    ref = _pandas_mpt(path)
    df = read_echem(path)
    np.testing.assert_array_equal(df["time_s"], ref["time/s"])
    np.testing.assert_array_equal(df["potential_V"], ref[e_col])
    if i_col is None:
        assert np.all(df["current_A"] == 0.0)
        assert df.attrs["technique_code"] == "OCV"
    else:
        np.testing.assert_allclose(df["current_A"], ref[i_col] * 1e-3, rtol=1e-15)


def test_gamry_values_match_the_curve_table() -> None:
    path = _needs("unitpackage/gamry_cv.DTA")
    lines = path.read_bytes().decode("latin-1").splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("CURVE\tTABLE"))
    rows = [line.split("\t") for line in lines[start + 3 :] if line.startswith("\t")]
    t = np.array([float(r[2].replace(",", ".")) for r in rows])
    e = np.array([float(r[3].replace(",", ".")) for r in rows])
    i = np.array([float(r[4].replace(",", ".")) for r in rows])
    df = read_echem(path)
    np.testing.assert_array_equal(df["time_s"], t)
    np.testing.assert_array_equal(df["potential_V"], e)
    np.testing.assert_array_equal(df["current_A"], i)
    assert df.attrs["technique_code"] == "CV"
    assert df.attrs["experiment_aborted"] is True  # 81 of 3597 declared points present


@pytest.mark.parametrize("rel", ["yadg/cp.mpt", "yadg/cp.mpr"])
def test_chronopotentiometry_current_is_the_set_current_with_its_sign(rel: str) -> None:
    path = _needs(rel)
    df = read_echem(path)
    if rel.endswith(".mpt"):
        control_mA = _pandas_mpt(path)["control/mA"].to_numpy()
    else:
        galvani = pytest.importorskip("galvani.BioLogic")
        with open(path, "rb") as handle:
            control_mA = np.asarray(galvani.MPRfile(handle).data["control/mA"], dtype=float)
    # cathodic set current -100 mA: the measured current follows it within 0.5 %
    assert np.all(control_mA == -100.0)
    np.testing.assert_allclose(df["current_A"], control_mA * 1e-3, rtol=5e-3)


def test_high_current_booster_run_follows_its_set_current() -> None:
    path = _needs("yadg/cp.issue_61.mpr")
    galvani = pytest.importorskip("galvani.BioLogic")
    with open(path, "rb") as handle:
        control_mA = np.asarray(galvani.MPRfile(handle).data["control/mA"], dtype=float)
    df = read_echem(path)
    steady = np.abs(df["current_A"].to_numpy() - control_mA * 1e-3) < 0.01 * control_mA * 1e-3
    assert steady.mean() > 0.95
    assert df["current_A"].max() == pytest.approx(4.5, rel=1e-3)


@pytest.mark.parametrize(
    "rel",
    [
        "yadg/cp.mpt",
        "yadg/gcpl.issue_211.mpr",
        "navani/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr",
        "datalab_LiLi/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_01_GCPL_C05.mpr",
    ],
)
def test_integrated_current_equals_the_charge_column(rel: str) -> None:
    """∫I dt (current in A, EC-Lab's per-interval mean) equals ΔQ (from (Q-Qo), in C)."""
    df = read_echem(_needs(rel))
    t = df["time_s"].to_numpy()
    i = df["current_A"].to_numpy()
    q = np.concatenate([[0.0], np.cumsum(i[1:] * np.diff(t))])
    dq = df["charge_C"].to_numpy() - df["charge_C"].iloc[0]
    total = np.sum(np.abs(i[1:]) * np.diff(t))
    assert np.max(np.abs(q - dq)) < 1e-4 * total


def test_gcpl_mpr_without_current_column_gets_cycles_from_half_cycles() -> None:
    df = read_echem(_needs("yadg/gcpl.issue_211.mpr"))
    assert df.attrs["current_derived"]
    assert "cycle" in df.columns
    # 9 half cycles → cycles 0..4, and the current changes sign between half cycles
    assert df["cycle"].max() == 4
    signs = np.sign(df["current_A"].to_numpy())
    assert (signs > 0).any() and (signs < 0).any()


def test_describe_reports_ranges_and_format() -> None:
    path = _needs("yadg/cv.mpt")
    info = describe_echem(path)
    df = read_echem(path)
    assert info["kind"] == "echem"
    assert info["format"] == "eclab-mpt"
    assert info["technique"] == "Cyclic Voltammetry"
    assert info["instrument"] == "BioLogic VMP3"
    assert info["n_points"] == 5103
    assert info["time_s"] == [df["time_s"].min(), df["time_s"].max()]
    assert info["current_A"][0] < 0 < info["current_A"][1]
    assert info["t0"] == "2018-01-10T17:01:24+00:00"
    assert info["n_cycles"] == df["cycle"].nunique()
