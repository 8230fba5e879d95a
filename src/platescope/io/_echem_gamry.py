"""Gamry Framework ``.DTA`` files.

The header is ``TAG<TAB>TYPE<TAB>VALUE...`` lines (``DATE``/``TIME`` give the start,
``AREA`` the electrode area in cm², ``PSTAT`` the potentiostat); data tables start
with ``CURVE<TAB>TABLE`` (``CURVE1``, ``CURVE2`` ... for the cycles of a CV), then a
column-name line (``Pt T Vf Im ...``) and a unit line (``# s V vs. Ref. A ...``).
Reader yields ``time_s`` (``T``, s), ``potential_V`` (``Vf``, V vs. reference),
``current_A`` (``Im``, A; Gamry writes anodic current positive, so cathodic is
negative as in platescope), and ``cycle`` (the ``n`` of ``CURVEn``, else the
``Cycle`` column). Impedance files (``ZCURVE``) are refused. Decimal commas (European
Windows locale, e.g. ``2,00054E-001``) are read.

Auxiliary inputs: the analogue ``Ach`` column becomes ``aux1_V`` (V). A digital /
TTL input column (named ``DIn``, ``DI``, ``DigIn``, ``Dig``, ``DIO``, ``TTL`` or
``TTLIn``, any case) becomes ``aux2_V`` with logic low → 0 V and high → 5 V (TTL
levels), so the one strobe detector of :mod:`platescope.sync` finds its edges the
same way as on an analogue input (see :func:`digital_to_ttl_volts`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from platescope._errors import InputError, shown_names
from platescope.io._echem_common import (
    IMPEDANCE_CODES,
    TECHNIQUE_NAMES,
    Record,
    decode_text,
    detect_decimal,
    impedance_error,
    parse_local_datetime,
    parse_number,
    read_delimited,
    technique_code,
)

_CURVE = re.compile(r"^CURVE(\d*)$")
#: Column names (compared case-insensitively) of a digital / TTL input.
DIGITAL_COLUMNS = ("din", "di", "digin", "dig", "dio", "ttl", "ttlin")
#: Volts a logic-high sample becomes (a TTL strobe's level).
TTL_HIGH_V = 5.0


def digital_to_ttl_volts(values: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Map a digital-input column to TTL volts: ``(volts, bit)``.

    Values 0/1 (or any two levels) map to 0 / 5 V. A column of several input bits
    (integers above 1, e.g. four inputs read as 0–15) keeps one bit: bit 0 when it
    changes, else the lowest bit that changes; ``bit`` says which (None for a plain
    0/1 or two-level column). A column that never changes maps to all 0 V.

    Parameters
    ----------
    values : numpy.ndarray
        The column as read (floats holding integers or two levels).

    Returns
    -------
    (numpy.ndarray, int or None)
        Volts (0 or :data:`TTL_HIGH_V`; NaN stays NaN) and the bit used.

    Examples
    --------
    >>> digital_to_ttl_volts(np.array([0.0, 1.0, 1.0, 0.0]))[0].tolist()
    [0.0, 5.0, 5.0, 0.0]
    >>> v, bit = digital_to_ttl_volts(np.array([8.0, 10.0, 8.0, 10.0]))
    >>> v.tolist(), bit
    ([0.0, 5.0, 0.0, 5.0], 1)
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    out = np.full(v.shape, np.nan)
    levels = np.unique(v[ok])
    integer = bool(np.all(levels == np.round(levels))) and levels.size and levels.min() >= 0
    if levels.size <= 2 and not (integer and levels.size and levels.max() > 1):
        high = levels.max() if levels.size == 2 else np.inf
        out[ok] = np.where(v[ok] >= high, TTL_HIGH_V, 0.0)
        return out, None
    if not integer:  # more than two levels and not a bit field: keep the two-means split
        mid = 0.5 * (levels.min() + levels.max())
        out[ok] = np.where(v[ok] > mid, TTL_HIGH_V, 0.0)
        return out, None
    ints = v[ok].astype(np.int64)
    changing = np.bitwise_or.reduce(ints ^ ints[0]) if ints.size else 0
    bit = 0 if changing & 1 or not changing else int(changing & -changing).bit_length() - 1
    out[ok] = ((ints >> bit) & 1) * TTL_HIGH_V
    return out, bit


def sniff_gamry(path: str, head: bytes) -> bool:
    """``True`` for a Gamry ``.DTA``: first line ``EXPLAIN``, then ``TAG<TAB>...``."""
    text = head.lstrip(b"\xef\xbb\xbf")
    return text.startswith(b"EXPLAIN") and b"TAG\t" in text[:200]


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_gamry(path: str) -> Record:
    """Read a Gamry ``.DTA`` file.

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
        Impedance (``ZCURVE``) files, files without a ``CURVE`` table, tables missing
        ``T``/``Vf``/``Im``, tables holding fewer points than declared (unless the
        header flags the experiment as aborted), non-numeric values.
    """
    text, encoding = decode_text(Path(path).read_bytes())
    lines = _split_lines(text)
    tags: dict[str, list[str]] = {}
    tables: list[tuple[str, int, int | None, int]] = []  # tag, names line idx, declared, end
    i = 1
    n = len(lines)
    while i < n:
        line = lines[i]
        if not line or line.startswith("\t"):
            i += 1
            continue
        fields = line.split("\t")
        tag = fields[0].strip()
        kind = fields[1].strip() if len(fields) > 1 else ""
        if kind == "TABLE":
            declared = None
            if len(fields) > 2:
                value = parse_number(fields[2])
                declared = (
                    int(value)
                    if value is not None and np.isfinite(value) and abs(value) < 2**31
                    else None
                )
            start = i + 1
            j = start
            while j < n and lines[j].startswith("\t"):
                j += 1
            tables.append((tag, start, declared, j))
            i = j
            continue
        if kind == "NOTES":
            count = parse_number(fields[2]) if len(fields) > 2 else None
            tags[tag] = fields[1:]
            ok = count is not None and np.isfinite(count) and 0 <= count < n
            i += 1 + (int(count) if ok else 0)
            continue
        tags.setdefault(tag, fields[1:])
        i += 1

    gamry_tag = tags.get("TAG", [""])[0].strip()
    title = tags.get("TITLE", ["", ""])
    title_text = title[1].strip() if len(title) > 1 else ""
    code = technique_code(gamry_tag) or technique_code(title_text)
    technique = title_text or (TECHNIQUE_NAMES.get(code) if code else None) or gamry_tag or None
    curves = [t for t in tables if _CURVE.match(t[0])]
    if code in IMPEDANCE_CODES or (not curves and any(t[0] == "ZCURVE" for t in tables)):
        raise impedance_error(path, technique or "ZCURVE table")
    if not curves:
        found = shown_names([t[0] for t in tables])
        raise InputError(
            path,
            f"no CURVE data table in this Gamry file (tables found: {found})",
            "export the measurement's .DTA file (the one holding the CURVE table)",
        )
    aborted = tags.get("EXPERIMENTABORTED", ["", "F"])
    aborted_flag = len(aborted) > 1 and aborted[1].strip().upper() == "T"

    parts: dict[str, list[np.ndarray]] = {"time_s": [], "potential_V": [], "current_A": []}
    cycles: list[np.ndarray] = []
    aux: list[np.ndarray] = []
    digital_parts: list[np.ndarray] = []
    digital_name = ""
    has_cycle_col = True
    found_columns: list[str] = []
    decimal = "."
    declared_total = 0
    for tag, start, declared, end in curves:
        if end - start < 2:
            raise InputError(
                path,
                f"table {tag} has no column-name and unit lines: the file looks truncated",
                "copy the complete file again from the instrument PC",
            )
        names = [s.strip() for s in lines[start].split("\t")]
        found_columns = [s for s in names if s]
        rows = lines[start + 2 : end]
        decimal = detect_decimal(rows[:50], "\t")
        index = {name: k for k, name in enumerate(names) if name}
        missing = [c for c in ("T", "Vf", "Im") if c not in index]
        if missing:
            raise InputError(
                path,
                f"table {tag} lacks the column(s) {', '.join(missing)} (time T in s, "
                f"potential Vf in V, current Im in A); columns found: {shown_names(found_columns)}",
                "export a Gamry time-domain experiment (CV, chronoamperometry, "
                "chronopotentiometry) or a CSV with time_s, potential_V, current_A",
            )
        wanted = {"time_s": index["T"], "potential_V": index["Vf"], "current_A": index["Im"]}
        if "Ach" in index:  # auxiliary analogue channel, V (e.g. a camera strobe)
            wanted["aux1_V"] = index["Ach"]
        digital = next((n for n in index if n.lower() in DIGITAL_COLUMNS), None)
        if digital is not None:  # digital / TTL input (e.g. a camera's exposure output)
            wanted["_digital"] = index[digital]
            digital_name = digital
        if "Cycle" in index:
            wanted["cycle"] = index["Cycle"]
        else:
            has_cycle_col = False
        table = read_delimited(
            path,
            rows,
            first_line_number=start + 3,
            names=names,
            wanted=wanted,
            sep="\t",
            decimal=decimal,
        )
        n_rows = len(table.columns["time_s"])
        if declared is not None:
            declared_total += declared
            if n_rows < declared and not aborted_flag:
                raise InputError(
                    path,
                    f"table {tag} holds {n_rows} of the {declared} points it declares and the "
                    "experiment is not flagged as aborted: the file looks truncated",
                    "copy the complete file again from the instrument PC",
                )
        for key in parts:
            parts[key].append(table.columns[key])
        if "aux1_V" in table.columns:
            aux.append(table.columns["aux1_V"])
        if "_digital" in table.columns:
            digital_parts.append(table.columns["_digital"])
        m = _CURVE.match(tag)
        if len(curves) > 1 and m and m.group(1):
            cycles.append(np.full(n_rows, float(m.group(1))))
        elif "cycle" in table.columns:
            cycles.append(table.columns["cycle"])
    columns = {k: np.concatenate(v) for k, v in parts.items()}
    units = {"time_s": "T/s", "potential_V": "Vf/V vs. Ref.", "current_A": "Im/A"}
    if aux and len(aux) == len(curves):
        columns["aux1_V"] = np.concatenate(aux)
        units["aux1_V"] = "Ach/V"
    if digital_parts and len(digital_parts) == len(curves):
        volts, bit = digital_to_ttl_volts(np.concatenate(digital_parts))
        columns["aux2_V"] = volts
        which = "" if bit is None else f" bit {bit}"
        units["aux2_V"] = f"{digital_name}{which} (digital, 0/1 → 0/{TTL_HIGH_V:g} V)"
    if len(curves) > 1 and len(cycles) == len(curves):
        columns["cycle"] = np.concatenate(cycles)
        units["cycle"] = "CURVEn table number"
    elif has_cycle_col and len(cycles) == len(curves):
        columns["cycle"] = np.concatenate(cycles)
        units["cycle"] = "Cycle"

    date = tags.get("DATE", ["", ""])
    time = tags.get("TIME", ["", ""])
    t0_local = None
    extra: dict = {"encoding": encoding, "decimal": decimal}
    if len(date) > 1 and len(time) > 1:
        t0_local = parse_local_datetime(date[1], time[1])
        if t0_local is None:
            extra["t0_unparsed"] = f"{date[1]} {time[1]}"
    area = None
    area_fields = tags.get("AREA", [])
    if len(area_fields) > 1:
        value = parse_number(area_fields[1])
        if value is not None and value > 0:
            area = value
    pstat = tags.get("PSTAT", ["", ""])
    instrument = f"Gamry {pstat[1].strip()}" if len(pstat) > 1 and pstat[1].strip() else "Gamry"
    if aborted_flag:
        extra["experiment_aborted"] = True
    if declared_total:
        extra["n_points_declared"] = declared_total
    return Record(
        fmt="gamry-dta",
        columns=columns,
        units_original=units,
        technique=technique,
        instrument=instrument,
        t0_local=t0_local,
        electrode_area_cm2=area,
        found_columns=found_columns,
        extra_attrs=extra,
    )
