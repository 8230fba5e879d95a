"""Delimited tables (``.csv``, ``.tsv``, ``.txt``) with a column-name line.

Column names follow DESIGN.md: ``time_s``, ``potential_V``, ``current_A`` (SI, cathodic
current negative) and optional ``cycle``, ``step``, ``charge_C``; unit variants
``time_min``, ``time_h``, ``potential_mV``, ``current_mA``, ``current_uA``,
``current_nA``, ``charge_mC``, ``charge_mAh`` are converted to SI. EC-Lab names
(``time/s``, ``Ewe/V``, ``<Ewe>/V``, ``I/mA``, ``<I>/mA``, ``cycle number``, ``Ns``,
``(Q-Qo)/C`` ...) are accepted too. Separator ``,`` ``;`` or tab, found from the
header; with ``;`` or tab a decimal comma is recognised. Lines starting with ``#``
before the header are skipped.
"""

from __future__ import annotations

from pathlib import Path

from platescope._errors import InputError
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
        shown = ", ".join(repr(n) for n in names if n) or "none"
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
    columns = {}
    units = {}
    extra: dict = {"encoding": encoding, "decimal": decimal, "separator": sep}
    if cut:
        extra["last_row_dropped"] = UNTERMINATED_NOTE
    for key, (_, vendor, factor) in found.items():
        if key in table.columns and not key.startswith("_"):
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
