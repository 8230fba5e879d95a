"""Fuzzing every reader: mutated valid files give sane values or an InputError, nothing else.

Each case takes a small valid file of one reader (see ``conftest.seeds``), applies one to
three mutations (truncate, flip bytes, drop or duplicate a line, swap two columns, a
NaN/inf/huge/empty/text value, another encoding, a BOM, CRLF line ends, decimal commas)
and runs the reader in-process as ``platescope info`` / ``analyze`` would. The contract:

- the reader returns, and its result is sane (finite times that never decrease, |E| ≤ 20
  V, |I| ≤ 100 A, non-negative counts, a movie of the shape its header states, and a
  description that is strict JSON); or
- it raises :class:`platescope.InputError` (CLI exit 2) with a short message;
- within the hypothesis ``deadline`` per case.

Any other exception, a warning (pytest turns warnings into errors) or a timeout fails the
test. The default profile runs ``FAST_EXAMPLES`` cases per reader (deterministic, about
half a minute in all); ``-m slow`` runs ``SLOW_EXAMPLES`` random ones per reader. The
counts of cases and outcomes are printed at the end of the run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platescope import InputError

FAST_EXAMPLES = 60
SLOW_EXAMPLES = 400
DEADLINE = dt.timedelta(seconds=8)  # per case; generous: the machine is shared

READERS = [
    "echem-csv",
    "echem-mpt",
    "echem-gamry-dta",
    "echem-mpr",
    "movie-imagej",
    "movie-ome",
    "movie-micromanager",
    "sem-tiff",
    "frame-times",
    "sims",
    "spots-platescope",
    "spots-echemtips",
    "spots-wec-spm",
    "experiment-toml",
]

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_BAD_VALUES = [b"nan", b"NaN", b"inf", b"-inf", b"1e308", b"-1e308", b"1e26", b"", b"abc", b"0"]
_OPS = [
    "truncate",
    "flip",
    "drop_line",
    "dup_line",
    "swap_columns",
    "bad_value",
    "encoding",
    "bom",
    "crlf",
    "decimal_comma",
]


class _Blob(bytes):
    """Mutated file content; shown by its size only in hypothesis reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


@st.composite
def mutated(draw, data: bytes):
    """``(description, bytes)``: ``data`` after one to three mutations."""
    done = []
    for op in draw(st.lists(st.sampled_from(_OPS), min_size=1, max_size=3)):
        if op == "truncate" and data:
            cut = draw(st.integers(0, len(data) - 1))
            data = data[:cut]
            done.append(f"truncate@{cut}")
        elif op == "flip" and data:
            b = bytearray(data)
            for _ in range(draw(st.integers(1, 8))):
                pos = draw(st.integers(0, len(b) - 1))
                b[pos] ^= draw(st.integers(1, 255))
            data = bytes(b)
            done.append("flip")
        elif op in ("drop_line", "dup_line"):
            lines = data.split(b"\n")
            if len(lines) > 1:
                k = draw(st.integers(0, len(lines) - 1))
                lines[k : k + 1] = [] if op == "drop_line" else [lines[k], lines[k]]
                data = b"\n".join(lines)
                done.append(f"{op}@{k}")
        elif op == "swap_columns":
            lines = data.split(b"\n")
            sep = next((s for s in (b"\t", b";", b",") if s in lines[len(lines) // 2]), None)
            if sep is not None:
                n = lines[len(lines) // 2].count(sep) + 1
                a, c = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))

                def swap(line, a=a, c=c, sep=sep):
                    f = line.split(sep)
                    if max(a, c) < len(f):
                        f[a], f[c] = f[c], f[a]
                    return sep.join(f)

                data = b"\n".join(swap(x) for x in lines)
                done.append(f"swap{a},{c}")
        elif op == "bad_value":
            hits = list(_NUMBER.finditer(data))
            if hits:
                m = hits[draw(st.integers(0, len(hits) - 1))]
                new = draw(st.sampled_from(_BAD_VALUES))
                data = data[: m.start()] + new + data[m.end() :]
                done.append(f"value {m.group()!r}->{new!r}")
        elif op == "encoding":
            enc = draw(st.sampled_from(["utf-16", "utf-16-le", "cp1252", "utf-8"]))
            data = data.decode("latin-1").encode(enc, errors="replace")
            done.append(enc)
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
            done.append("bom")
        elif op == "crlf":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            done.append("crlf")
        elif op == "decimal_comma":
            data = re.sub(rb"(\d)\.(\d)", rb"\1,\2", data)
            done.append("decimal,")
    return " + ".join(done) or "none", _Blob(data)


# ------------------------------------------------------------------ sanity of results


def _json_ok(info):
    json.dumps(info, allow_nan=False)


def _sane_echem(df):
    t = df["time_s"].to_numpy(float)
    assert t.size >= 1 and np.isfinite(t).all() and (np.diff(t) >= 0).all()
    assert np.isfinite(df["potential_V"]).all() and (df["potential_V"].abs() <= 20).all()
    assert np.isfinite(df["current_A"]).all() and (df["current_A"].abs() <= 100).all()


def _run(reader: str, folder, target):
    """Run the reader of ``reader`` on the (mutated) files in ``folder``."""
    from platescope.io import (
        describe,
        read_echem,
        read_experiment,
        read_frame_times,
        read_movie,
        read_sem,
        read_sims,
        read_spots,
    )

    if reader.startswith("echem"):
        _sane_echem(read_echem(target))
        _json_ok(describe(target))
    elif reader.startswith("movie"):
        _json_ok(describe(target))
        m = read_movie(target)
        values = np.asarray(m.values)
        assert values.ndim == 3 and values.shape[0] == m.sizes["t"] >= 1
        times = m["t"].to_numpy()
        assert np.isfinite(times).all() and (np.diff(times) > 0).all()
    elif reader == "sem-tiff":
        _json_ok(describe(target))
        img = read_sem(target)
        assert np.asarray(getattr(img, "values", img)).ndim == 2
    elif reader == "frame-times":
        times = read_frame_times(target)
        assert np.isfinite(times).all() and (np.diff(times) > 0).all()
    elif reader == "sims":
        df = read_sims(target)
        depth = df["depth_um"].to_numpy()
        assert np.isfinite(depth).all() and (np.diff(depth) > 0).all() and depth[0] >= 0
        for c in df.columns:
            if c.startswith("counts_"):
                assert np.isfinite(df[c]).all() and (df[c] >= 0).all()
    elif reader.startswith("spots"):
        layout = reader.removeprefix("spots-")
        pattern = {"platescope": "spots.csv", "echemtips": "*.csv", "wec-spm": "*.tsv"}[layout]
        index = next(folder.glob(pattern))
        spots = read_spots(index, layout=layout)
        for pos in range(min(len(spots), 3)):
            try:
                rec = spots.read(pos)
            except InputError:  # one bad spot is reported per spot by the pipeline
                continue
            t = rec["time_s"].to_numpy(float)
            assert np.isfinite(t).all() and (np.diff(t) >= 0).all()
    elif reader == "experiment-toml":
        exp = read_experiment(target)
        assert exp.scenario == "sims-diffusion"
    else:  # pragma: no cover
        raise AssertionError(reader)


def _case(reader, seeds, outcomes, data):
    if reader not in seeds:
        pytest.skip(f"no seed for {reader} (../shared/data is absent)")
    src = seeds[reader]
    files = sorted(
        p.relative_to(src)
        for p in src.rglob("*")
        if p.is_file() and "truth" not in p.parts and not p.name.startswith(".")
    )
    if reader == "spots-platescope":  # the index or one spot record
        files = [f for f in files if f.name in ("spots.csv", "spot_00000.csv")]
    elif reader == "experiment-toml":
        files = [f for f in files if f.suffix == ".toml"]
    rel = data.draw(st.sampled_from(files), label="file")
    what, blob = data.draw(mutated((src / rel).read_bytes()), label="mutation")
    work = tempfile.mkdtemp(prefix="case-", dir=src.parent)
    try:
        folder = Path(shutil.copytree(src, f"{work}/{reader}"))
        (folder / rel).write_bytes(blob)
        target = folder / files[0] if reader.startswith("spots") else folder / rel
        try:
            _run(reader, folder, target)
        except InputError as err:
            assert len(str(err)) < 1500, what
            outcomes[reader]["InputError"] += 1
        else:
            outcomes[reader]["ok"] += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


_COMMON = {
    "deadline": DEADLINE,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=FAST_EXAMPLES, derandomize=True, **_COMMON)
@given(data=st.data())
def test_fuzz_readers(reader, seeds, fuzz_outcomes, data):
    _case(reader, seeds, fuzz_outcomes, data)


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=SLOW_EXAMPLES, **_COMMON)
@given(data=st.data())
def test_fuzz_readers_long(reader, seeds, fuzz_outcomes, data):
    _case(reader, seeds, fuzz_outcomes, data)


# Cases the long fuzz run found, kept as regular tests (they failed before the fix).


def test_found_huge_integer_in_a_count_column_is_dropped_not_cast(tmp_path):
    from platescope.io import read_echem

    p = tmp_path / "r.csv"
    p.write_text("time_s,potential_V,current_A,cycle\n0,0.1,-1e-4,0\n1,0.1,-1e-4,1e308\n")
    df = read_echem(p)
    assert "cycle" not in df.columns and "cycle_dropped" in df.attrs


def test_found_carriage_return_inside_a_row_is_not_a_row_break(tmp_path):
    from platescope.io import read_echem

    p = tmp_path / "r.csv"
    p.write_bytes(b"time_s,potential_V,current_A\n0,0.1,-1e-4\n1,0.1\r,-1e-4\n2,0.1,-1e-4\n")
    try:
        df = read_echem(p)
    except InputError:
        return
    assert len(df) == 3 and np.isfinite(df.to_numpy()).all()
