"""Large echem CSVs: chunked parsing agrees with the in-memory parser; row budget."""

from __future__ import annotations

import numpy as np
import pytest

import platescope.io._echem_csv as csv_mod
from platescope import InputError
from platescope.io import read_echem


def _table(path, *, n=2500, sep=",", decimal=".", header="time_s,potential_V,current_A", end="\n"):
    rng = np.random.default_rng(5)
    t = np.arange(n) * 0.1
    e = 0.1 - 0.001 * t + rng.normal(0, 1e-3, n)
    i = np.full(n, -1e-4)
    rows = [sep.join(f"{v:.6g}" for v in r) for r in zip(t, e, i, strict=True)]
    if decimal == ",":
        rows = [r.replace(".", ",") for r in rows]
    path.write_text(
        "# exported by hand\n" + header.replace(",", sep) + "\n" + "\n".join(rows) + end
    )
    return t, e, i


def _both(path, monkeypatch):
    monkeypatch.setattr(csv_mod, "STREAM_ABOVE_BYTES", 1 << 40)
    whole = read_echem(path)
    monkeypatch.setattr(csv_mod, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(csv_mod, "STREAM_CHUNK_ROWS", 333)  # many chunks
    chunked = read_echem(path)
    return whole, chunked


@pytest.mark.parametrize(
    ("sep", "decimal", "header"),
    [
        (",", ".", "time_s,potential_V,current_A"),
        (";", ",", "time_s,potential_V,current_A"),
        ("\t", ".", "time/s,Ewe/V,I/mA"),
    ],
)
def test_chunked_reading_gives_the_same_record(tmp_path, monkeypatch, sep, decimal, header):
    p = tmp_path / "cp.csv"
    t, e, i = _table(p, sep=sep, decimal=decimal, header=header)
    whole, chunked = _both(p, monkeypatch)
    assert chunked.attrs["read_in_chunks"] is True
    for col in ("time_s", "potential_V", "current_A"):
        np.testing.assert_array_equal(whole[col].to_numpy(), chunked[col].to_numpy())
    # and both are the planted values (6 significant digits written)
    np.testing.assert_allclose(chunked["potential_V"], e, rtol=1e-5, atol=1e-9)
    scale = 1e-3 if "mA" in header else 1.0
    np.testing.assert_allclose(chunked["current_A"], i * scale, rtol=1e-6)


def test_chunked_reading_drops_a_row_cut_off_mid_write(tmp_path, monkeypatch):
    p = tmp_path / "cp.csv"
    _table(p, n=500, end="")
    raw = p.read_bytes()
    p.write_bytes(raw[:-5])  # the last number is cut: "-0.0001" -> "-0"
    whole, chunked = _both(p, monkeypatch)
    assert len(whole) == len(chunked) == 499


def test_chunked_reading_names_a_bad_row(tmp_path, monkeypatch):
    p = tmp_path / "cp.csv"
    _table(p, n=1000)
    lines = p.read_text().splitlines()
    lines[2 + 700] = "70.0,oops,-1e-4"
    p.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csv_mod, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(csv_mod, "STREAM_CHUNK_ROWS", 300)
    with pytest.raises(InputError, match="data row 701 has no finite value|malformed"):
        read_echem(p)


def test_too_many_rows_is_refused_with_the_fix(tmp_path, monkeypatch):
    p = tmp_path / "cp.csv"
    _table(p, n=3000)
    monkeypatch.setattr(csv_mod, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(csv_mod, "STREAM_CHUNK_ROWS", 500)
    monkeypatch.setattr(csv_mod, "MAX_ROWS", 2999)  # the estimate passes, the count stops it
    with pytest.raises(InputError, match="more than platescope reads") as exc:
        read_echem(p)
    assert "decimate" in str(exc.value)
    monkeypatch.setattr(csv_mod, "MAX_ROWS", 1000)  # refused from the size estimate alone
    with pytest.raises(
        InputError, match=r"about [\d,]+ rows, more than platescope reads \(1,000\)"
    ):
        read_echem(p)
    monkeypatch.setattr(csv_mod, "MAX_ROWS", 3000)
    assert len(read_echem(p)) == 3000
