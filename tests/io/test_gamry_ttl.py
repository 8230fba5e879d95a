"""Gamry digital / TTL input column → aux2_V → strobe sync recovers planted frame times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platescope import io, sync
from platescope._movie_model import movie_dataarray
from platescope.io._echem_gamry import digital_to_ttl_volts

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem" / "unitpackage"
GAMRY = REAL / "gamry_cv.DTA"
needs_real = pytest.mark.skipif(not GAMRY.exists(), reason="shared data not available")

DT = 1e-3  # the potentiostat samples every 1 ms
INTERVAL = 0.05  # the camera: 20 frames per second, 60 % exposure
RNG = np.random.default_rng(11)
#: planted exposure centres on the potentiostat clock (s): 0.1 ms jitter, frame 17 dropped
TRUE = 0.2 + INTERVAL * np.arange(40) + RNG.normal(0, 1e-4, 40)
DROPPED = 17


def _real_header() -> list[str]:
    text = GAMRY.read_bytes().decode("latin-1").replace("\r\n", "\n")
    lines = text.split("\n")
    end = next(i for i, line in enumerate(lines) if line.startswith("CURVE\tTABLE"))
    return lines[:end]


def _digital(t: np.ndarray, centres: np.ndarray, *, high: int = 1) -> np.ndarray:
    on = np.zeros(t.size, dtype=int)
    for c in centres:
        on[(t >= c - 0.3 * INTERVAL) & (t < c + 0.3 * INTERVAL)] = high
    return on


def _write_dta(path: Path, digital: np.ndarray, t: np.ndarray, *, name: str = "DIn") -> Path:
    """The real file's header, then a CURVE table with a digital-input column (decimal commas)."""
    rows = []
    for i, (ti, di) in enumerate(zip(t, digital, strict=True)):
        vf = 0.2 - 0.05 * ti
        fields = [
            "", str(i), f"{ti:.4f}", f"{vf:.5E}", f"{-1e-6 * (1 + ti):.5E}", "0,00000E+000",
            f"{vf:.5E}", "6,45222E-004", "9", "..........a", "0", "-327,75", str(di),
        ]  # fmt: skip
        rows.append("\t".join(fields).replace(".", ",").replace(",,,,,,,,,,a", "..........a"))
    names = "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tCycle\tTemp\t" + name
    units = "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\t#\tdeg C\tbits"
    lines = _real_header() + [f"CURVE\tTABLE\t{len(rows)}", names, units, *rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path


def test_digital_to_ttl_volts_levels_and_bits():
    v, bit = digital_to_ttl_volts(np.array([0, 1, 1, 0, np.nan]))
    assert bit is None and v[:4].tolist() == [0, 5, 5, 0] and np.isnan(v[4])
    # four inputs read as a number: input 2 (value 4) pulses, input 3 (value 8) held high
    v, bit = digital_to_ttl_volts(np.array([8, 12, 12, 8, 12], dtype=float))
    assert bit == 2 and v.tolist() == [0, 5, 5, 0, 5]
    # already in volts (a TTL column logged as 0/5 V)
    v, bit = digital_to_ttl_volts(np.array([0.0, 5.0, 0.0]))
    assert v.tolist() == [0.0, 5.0, 0.0]
    assert digital_to_ttl_volts(np.zeros(4))[0].tolist() == [0.0] * 4


@needs_real
@pytest.mark.parametrize(("name", "high"), [("DIn", 1), ("TTL", 1), ("DigIn", 4)])
def test_gamry_ttl_column_gives_the_strobe(tmp_path, name, high):
    t = np.round(np.arange(0.0, 2.4, DT), 6)
    strobed = np.delete(TRUE, [])  # every exposure pulses, also the dropped frame's
    digital = _digital(t, strobed, high=high) + (8 if high == 4 else 0)  # input 3 held high
    path = _write_dta(tmp_path / "ttl.DTA", digital, t, name=name)
    df = io.read_echem(path)
    assert "aux2_V" in df.columns and "aux1_V" in df.columns  # Ach stays aux1_V
    assert df.attrs["units_original"]["aux2_V"].startswith(name)
    assert set(np.unique(df["aux2_V"])) == {0.0, 5.0}
    channel, pulses = sync.strobe_channel(df)
    assert channel == "aux2_V"  # the idle Ach has no pulses; the digital input has
    assert pulses["n_pulses"] == TRUE.size
    # edges of a 0/1 signal sampled every 1 ms sit half-way between samples: ±0.5 ms
    assert np.abs(pulses["centre_s"] - TRUE).max() < 0.5 * DT + 1e-9

    # the movie lacks frame 17; its own stamps: another clock (+3.2 s), 4 ms software jitter
    kept = np.delete(TRUE, DROPPED)
    own = kept + 3.2 + RNG.normal(0, 4e-3, kept.size)
    movie = movie_dataarray(
        np.zeros((kept.size, 4, 4), np.uint16), t_s=own, pixel_size_um=1.0, t_source="test"
    )
    res = sync.synchronize(movie, df)
    assert res["method"] == "strobe"
    err_ms = 1e3 * np.abs(np.asarray(res["frame_times_s"]) - kept)
    assert err_ms.max() < 0.5 + 1e-6
    st = res["strobe"]
    assert st["n_matched"] == kept.size
    assert st["dropped_frames"] == 1
    assert st["dropped_frame_times_s"][0] == pytest.approx(TRUE[DROPPED], abs=0.5 * DT)


@needs_real
def test_info_check_cine_with_gamry_ttl_uses_the_strobe(tmp_path, capsys):
    """A cine (hardware stamps, no pixel size) + a Gamry record with a TTL column:
    ``platescope info --check MOVIE ECHEM`` exits 0 and picks the strobe."""
    import json
    from datetime import UTC, datetime

    from test_movie_cine import _time64, write_cine

    from platescope.cli._main import main

    t = np.round(np.arange(0.0, 2.4, DT), 6)
    path = _write_dta(tmp_path / "ttl.DTA", _digital(t, TRUE), t)
    # the camera's own clock: 7.5 s after the potentiostat's, stamps in 2⁻³² s
    start = _time64(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    stamps = np.uint64(start) + np.round((TRUE - TRUE[0] + 7.5) * 2**32).astype(np.uint64)
    frames = np.zeros((TRUE.size, 4, 6), np.uint16)
    cine = write_cine(tmp_path / "m.cine", frames, stamps=stamps, trigger=int(stamps[0]))
    assert main(["info", "--check", str(cine), str(path)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and rep["sync"]["method"] == "strobe"
    assert rep["pixel_size_um"] is None
    assert rep["sync"]["strobe"]["n_matched"] == TRUE.size
    assert rep["time_axis"]["health"] == "ok"
