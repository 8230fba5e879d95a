"""Delimited tables (``.csv``, ``.tsv``, ``.txt``) with a column-name line.

Column names follow DESIGN.md: ``time_s``, ``potential_V``, ``current_A`` (SI, cathodic
current negative) and optional ``cycle``, ``step``, ``charge_C``; unit variants
``time_min``, ``time_h``, ``potential_mV``, ``current_mA``, ``current_uA``,
``current_nA``, ``charge_mC``, ``charge_mAh`` are converted to SI. EC-Lab names
(``time/s``, ``Ewe/V``, ``<Ewe>/V``, ``I/mA``, ``<I>/mA``, ``cycle number``, ``Ns``,
``(Q-Qo)/C`` ...) are accepted too. Separator ``,`` ``;`` or tab, found from the
header; with ``;`` or tab a decimal comma is recognised. Lines starting with ``#``
before the header are skipped.

Tables larger than :data:`STREAM_ABOVE_BYTES` on disk are read in chunks of
:data:`STREAM_CHUNK_ROWS` rows (only the wanted columns are kept, as float64), and a
table of more than :data:`MAX_ROWS` data rows is refused with the fix: a 10-million-row
file then needs about 0.3 GB instead of several GB.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, shown_names
from platescope.io._echem_common import (
    CSV_ALIASES,
    ECLAB_ALIASES,
    UNTERMINATED_NOTE,
    Record,
    current_from_charge_steps,
    decode_text,
    detect_decimal,
    drop_unterminated_row,
    looks_binary,
    match_columns,
    read_delimited,
)

#: Files larger than this (bytes on disk) are parsed in chunks instead of as one text.
STREAM_ABOVE_BYTES = 64 * 2**20
#: Rows per chunk of the streaming parser.
STREAM_CHUNK_ROWS = 1_000_000
#: Most data rows accepted (three float64 columns of 50 M rows take 1.2 GB).
MAX_ROWS = 50_000_000
_TOO_MANY_FIX = (
    "decimate the record (e.g. keep every 10th row) or split it into shorter files, "
    "one per step or cycle"
)


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _header(lines: list[str]) -> tuple[int, str] | None:
    for k, line in enumerate(lines):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        counts = {sep: s.count(sep) for sep in ("\t", ";", ",")}
        sep = max(counts, key=lambda c: (counts[c], c != ","))
        if counts[sep] == 0:
            return None
        return k, sep
    return None


def sniff_csv(path: str, head: bytes) -> bool:
    """``True`` for a text table whose first line holds delimited column names."""
    if not head or looks_binary(head):
        return False
    text, _ = decode_text(head)
    found = _header(_split_lines(text))
    if found is None:
        return False
    k, sep = found
    line = _split_lines(text)[k]
    # a header has at least one field that is not a number
    fields = [f.strip().strip('"') for f in line.split(sep)]
    return any(f and not _is_number(f) for f in fields)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def read_csv(path: str) -> Record:
    """Read a delimited table of time, potential and current.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    Record

    Raises
    ------
    InputError
        No header, a required column missing (the message lists the columns found and
        the ones needed), ragged or non-numeric rows.
    """
    size = os.path.getsize(path)
    streaming = size > STREAM_ABOVE_BYTES
    if streaming:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        head = head[: head.rfind(b"\n") + 1] or head
        text, encoding = decode_text(head)
    else:
        text, encoding = decode_text(Path(path).read_bytes())
    lines = _split_lines(text)
    found_header = _header(lines)
    if found_header is None:
        raise InputError(
            path,
            "no delimited column-name line found",
            "write a header line such as 'time_s,potential_V,current_A'",
        )
    k, sep = found_header
    names = [n.strip().strip('"').strip() for n in lines[k].split(sep)]
    found = match_columns(names, CSV_ALIASES)
    eclab = match_columns(names, ECLAB_ALIASES)
    for key, value in eclab.items():
        found.setdefault(key, value)
    needed = ("time_s", "potential_V", "current_A")
    derive_current = "current_A" not in found and "_dq_C" in found and "time_s" in found
    missing = [c for c in needed if c not in found and not (c == "current_A" and derive_current)]
    if missing:
        shown = shown_names(names)
        raise InputError(
            path,
            f"the table lacks {', '.join(missing)}: columns found: {shown}; needed: "
            "time_s (s), potential_V (V), current_A (A, cathodic negative) or the EC-Lab "
            "names time/s, Ewe/V, I/mA",
            "add the missing column(s) or rename the columns to time_s, potential_V, current_A",
        )
    wanted = {key: v[0] for key, v in found.items() if key in needed or key in CSV_ALIASES}
    if derive_current:
        wanted["_dq_C"] = found["_dq_C"][0]
    data_lines = lines[k + 1 :]
    if streaming:
        decimal = detect_decimal(data_lines[:50], sep)
        sample = [line for line in data_lines if line.strip()]
        if sample:
            per_row = sum(len(line) + 1 for line in sample) / len(sample)
            estimate = (size - len(text[: text.find(data_lines[0])].encode())) / per_row
            if estimate > 1.5 * MAX_ROWS:
                raise InputError(
                    path,
                    f"the table holds about {int(estimate):,} rows, more than platescope "
                    f"reads ({MAX_ROWS:,})",
                    _TOO_MANY_FIX,
                )
        table, cut = _read_streaming(
            path, skip=k + 1, wanted=wanted, sep=sep, decimal=decimal, encoding=encoding
        )
        extra_stream = {"read_in_chunks": True}
    else:
        data_lines, cut = drop_unterminated_row(text, data_lines, sep=sep)
        decimal = detect_decimal(data_lines[:50], sep)
        table = read_delimited(
            path,
            data_lines,
            first_line_number=k + 2,
            names=names,
            wanted=wanted,
            sep=sep,
            decimal=decimal,
        )
        extra_stream = {}
    columns = {}
    units = {}
    extra: dict = {"encoding": encoding, "decimal": decimal, "separator": sep, **extra_stream}
    if cut:
        extra["last_row_dropped"] = UNTERMINATED_NOTE
    for key, (_, vendor, factor) in found.items():
        if key in table.columns and not key.startswith("_"):
            with np.errstate(over="ignore", invalid="ignore"):  # inf: refused later
                columns[key] = table.columns[key] * factor
            units[key] = vendor
    if derive_current:
        dq = table.columns["_dq_C"] * found["_dq_C"][2]
        columns["current_A"] = current_from_charge_steps(columns["time_s"], dq)
        units["current_A"] = f"{found['_dq_C'][1]} / Δt"
        extra["current_derived"] = "charge increment per sampling interval"
    return Record(
        fmt="csv",
        columns=columns,
        units_original=units,
        found_columns=[n for n in names if n],
        extra_attrs=extra,
    )


class _Columns:
    """Columns of a streamed table (what :func:`read_csv` uses of a ``Table``)."""

    def __init__(self, columns: dict) -> None:
        self.columns = columns


def _read_streaming(path, *, skip, wanted, sep, decimal, encoding):
    """Parse a large table chunk by chunk; returns (columns, last row dropped)."""
    usecols = sorted(set(wanted.values()))
    parts: dict[str, list[np.ndarray]] = {key: [] for key in wanted}
    n = 0
    try:
        chunks = pd.read_csv(
            path,
            sep=sep,
            header=None,
            skiprows=skip,
            usecols=usecols,
            dtype=np.float64,
            decimal=decimal,
            engine="c",
            encoding="utf-8-sig" if encoding == "utf-8" else "latin-1",
            encoding_errors="replace",
            chunksize=STREAM_CHUNK_ROWS,
            skip_blank_lines=True,
            keep_default_na=False,
            na_values=["", "nan", "NaN", "NAN", "-nan", "inf", "-inf"],
        )
        with chunks:
            for chunk in chunks:
                for key, idx in wanted.items():
                    values = chunk[idx].to_numpy(dtype=np.float64)
                    bad = ~np.isfinite(values)
                    if bad.any():
                        raise InputError(
                            path,
                            f"data row {n + int(np.flatnonzero(bad)[0]) + 1} has no finite "
                            f"value in column {idx + 1} ({int(bad.sum())} such rows in its "
                            "chunk)",
                            "remove or repair those rows, or re-export the file",
                        )
                    parts[key].append(values)
                n += len(chunk)
                if n > MAX_ROWS:
                    raise InputError(
                        path,
                        f"the table holds more than {MAX_ROWS:,} rows, more than platescope reads",
                        _TOO_MANY_FIX,
                    )
    except InputError:
        raise
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(
            path,
            f"the data table is malformed after data row {n} (a row with more values than "
            f"the others, or text that is not a number: {type(exc).__name__})",
            "re-export the file from the instrument software",
        ) from None
    columns = {key: np.concatenate(v) if v else np.empty(0, np.float64) for key, v in parts.items()}
    # a last row cut off mid-write (see drop_unterminated_row), judged on the file's tail
    with open(path, "rb") as fh:
        fh.seek(max(0, os.path.getsize(path) - (1 << 16)))
        tail_text, _ = decode_text(fh.read())
    tail = _split_lines(tail_text)[1:]
    _, cut = drop_unterminated_row(tail_text, [t for t in tail if t.strip()], sep=sep)
    if cut and n:
        columns = {key: v[:-1] for key, v in columns.items()}
    return _Columns(columns), cut
