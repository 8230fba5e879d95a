"""Shared pieces of the electrochemistry readers: column names, units, tables, clocks.

Every vendor module (``_echem_eclab_text``, ``_echem_eclab_mpr``, ``_echem_gamry``,
``_echem_chi``, ``_echem_csv``) turns a file into a :class:`Record` — standard columns in
SI units plus what the file says about itself — and :func:`finish` turns a record into
the Echem ``DataFrame`` of DESIGN.md §2. Nothing here opens files except
:func:`decode_text`, which reads bytes the caller already holds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from platescope._errors import InputError, shown_names

#: Columns a reader may return, in this order. The first three are always present.
#: ``control_mode`` (EC-Lab's ``mode``: 1 constant current, 2 controlled potential, 3 rest),
#: ``ox_red`` (EC-Lab's ``ox/red``: 1 oxidation, 0 reduction) and ``freq_Hz`` (> 0 on the
#: rows of an impedance block inside a time record) are what the instrument says about
#: each sample; :func:`platescope.echem.split_steps` uses them when present.
#: ``aux1_V`` / ``aux2_V`` are the potentiostat's auxiliary analogue inputs (EC-Lab
#: ``Analog IN 1/V`` / ``Analog IN 2/V``, Gamry ``Ach``), V; a camera's exposure strobe
#: wired there gives each frame its time on the potentiostat clock
#: (:func:`platescope.sync.strobe_frame_times`).
STANDARD_COLUMNS = (
    "time_s",
    "potential_V",
    "current_A",
    "cycle",
    "step",
    "charge_C",
    "control_mode",
    "ox_red",
    "freq_Hz",
    "aux1_V",
    "aux2_V",
)
REQUIRED_COLUMNS = ("time_s", "potential_V", "current_A")
INTEGER_COLUMNS = ("cycle", "step", "control_mode", "ox_red")

# --------------------------------------------------------------------------- techniques
# Canonical short code -> the name EC-Lab prints. Codes group variants that are the same
# measurement for our purpose (EC-Lab's "Cyclic Voltammetry Advanced" is a CV).
TECHNIQUE_NAMES = {
    "CP": "Chronopotentiometry",
    "CA": "Chronoamperometry / Chronocoulometry",
    "CV": "Cyclic Voltammetry",
    "LSV": "Linear Sweep Voltammetry",
    "GCPL": "Galvanostatic Cycling with Potential Limitation",
    "OCV": "Open Circuit Voltage",
    "MB": "Modulo Bat",
    "WAIT": "Wait",
    "PEIS": "Potentio Electrochemical Impedance Spectroscopy",
    "GEIS": "Galvano Electrochemical Impedance Spectroscopy",
    "SPEIS": "Staircase Potentio Electrochemical Impedance Spectroscopy",
    "SGEIS": "Staircase Galvano Electrochemical Impedance Spectroscopy",
    "ZIR": "IR compensation (PEIS)",
    "EIS": "Electrochemical Impedance Spectroscopy",
}
IMPEDANCE_CODES = frozenset({"PEIS", "GEIS", "SPEIS", "SGEIS", "ZIR", "EIS"})

_TECHNIQUE_ALIASES = {
    # EC-Lab names and common spellings
    "chronopotentiometry": "CP",
    "cp": "CP",
    "galvanostatic": "CP",
    "chronoamperometry / chronocoulometry": "CA",
    "chronoamperometry": "CA",
    "ca": "CA",
    "cyclic voltammetry": "CV",
    "cyclic voltammetry advanced": "CV",
    "cv": "CV",
    "cva": "CV",
    "linear sweep voltammetry": "LSV",
    "lsv": "LSV",
    "galvanostatic cycling with potential limitation": "GCPL",
    "gcpl": "GCPL",
    "open circuit voltage": "OCV",
    "ocv": "OCV",
    "modulo bat": "MB",
    "mb": "MB",
    "wait": "WAIT",
    "potentio electrochemical impedance spectroscopy": "PEIS",
    "peis": "PEIS",
    "galvano electrochemical impedance spectroscopy": "GEIS",
    "geis": "GEIS",
    "staircase potentio electrochemical impedance spectroscopy": "SPEIS",
    "speis": "SPEIS",
    "staircase galvano electrochemical impedance spectroscopy": "SGEIS",
    "sgeis": "SGEIS",
    "ir compensation (peis)": "ZIR",
    "zir": "ZIR",
    "eis": "EIS",
    "electrochemical impedance spectroscopy": "EIS",
    "impedance": "EIS",
    "a.c. impedance": "EIS",
    # Gamry tags and titles
    "eispot": "PEIS",
    "potentiostatic eis": "PEIS",
    "eisgalv": "GEIS",
    "galvanostatic eis": "GEIS",
    "chronoa": "CA",
    "chronop": "CP",
    "corpot": "OCV",
    "open circuit potential": "OCV",
    # CH Instruments technique lines
    "amperometric i-t curve": "CA",
    "linear sweep voltammetry (lsv)": "LSV",
}


def technique_code(name: str | None) -> str | None:
    """Return the short code (``"CP"``, ``"CV"``, ``"PEIS"`` ...) of a technique name.

    Parameters
    ----------
    name : str or None
        A technique name as a file or a user writes it (case and spacing ignored).

    Returns
    -------
    str or None
        The code, or ``None`` when the name is unknown or ``None``.

    Examples
    --------
    >>> technique_code("Galvanostatic Cycling with Potential Limitation")
    'GCPL'
    >>> technique_code("Cyclic Voltammetry Advanced")
    'CV'
    """
    if name is None:
        return None
    key = " ".join(name.strip().lower().split())
    return _TECHNIQUE_ALIASES.get(key)


# --------------------------------------------------------------------------- columns
def _norm(name: str) -> str:
    """Compare column names without case, surrounding blanks or µ/μ/u differences."""
    return name.strip().strip('"').replace("\u00b5", "u").replace("\u03bc", "u").lower()


# (column name as the vendor writes it, factor to the SI unit of the standard column)
ECLAB_ALIASES: dict[str, tuple[tuple[str, float], ...]] = {
    "time_s": (("time/s", 1.0),),
    "potential_V": (
        ("Ewe/V", 1.0),
        ("<Ewe>/V", 1.0),
        ("<Ewe/V>", 1.0),  # EC-Lab's OCV text export spells it so
        ("Ewe/mV", 1e-3),
        ("<Ewe>/mV", 1e-3),
    ),
    "current_A": (
        ("I/mA", 1e-3),
        ("<I>/mA", 1e-3),
        ("I/A", 1.0),
        ("<I>/A", 1.0),
        ("I/uA", 1e-6),
        ("<I>/uA", 1e-6),
        ("I/nA", 1e-9),
        ("<I>/nA", 1e-9),
    ),
    "cycle": (("cycle number", 1.0),),
    "step": (("Ns", 1.0),),
    "charge_C": (
        ("(Q-Qo)/C", 1.0),
        ("(Q-Qo)/mA.h", 3.6),
        ("(Q-Qo)/A.h", 3600.0),
        ("(Q-Qo)/uA.h", 3.6e-3),
        ("(Q-Qo)/mC", 1e-3),
    ),
    # not returned; used to derive the current when no current column exists
    "_dq_C": (("dq/mA.h", 3.6), ("dQ/mA.h", 3.6), ("dq/A.h", 3600.0), ("dQ/C", 1.0)),
    "_half_cycle": (("half cycle", 1.0),),
    "_freq_Hz": (("freq/Hz", 1.0),),
    # the instrument's own account of each sample (returned)
    "control_mode": (("mode", 1.0),),
    "ox_red": (("ox/red", 1.0),),
    "freq_Hz": (("freq/Hz", 1.0),),
    # auxiliary analogue inputs (a camera strobe, a thermocouple amplifier ...)
    "aux1_V": (
        ("Analog IN 1/V", 1.0),
        ("Analog IN1/V", 1.0),
        ("<Analog IN 1>/V", 1.0),
        ("Aux1/V", 1.0),
        ("Analog IN 1/mV", 1e-3),
    ),
    "aux2_V": (
        ("Analog IN 2/V", 1.0),
        ("Analog IN2/V", 1.0),
        ("<Analog IN 2>/V", 1.0),
        ("Aux2/V", 1.0),
        ("Analog IN 2/mV", 1e-3),
    ),
}

# Column names of DESIGN.md's CSV convention (and a few unit variants of them).
CSV_ALIASES: dict[str, tuple[tuple[str, float], ...]] = {
    "time_s": (("time_s", 1.0), ("time_min", 60.0), ("time_h", 3600.0)),
    "potential_V": (("potential_V", 1.0), ("potential_mV", 1e-3)),
    "current_A": (
        ("current_A", 1.0),
        ("current_mA", 1e-3),
        ("current_uA", 1e-6),
        ("current_nA", 1e-9),
    ),
    "cycle": (("cycle", 1.0),),
    "step": (("step", 1.0),),
    "charge_C": (("charge_C", 1.0), ("charge_mC", 1e-3), ("charge_mAh", 3.6)),
    "aux1_V": (("aux1_V", 1.0), ("aux_V", 1.0), ("aux1_mV", 1e-3)),
    "aux2_V": (("aux2_V", 1.0), ("aux2_mV", 1e-3)),
}


def match_columns(
    names: Sequence[str], aliases: Mapping[str, tuple[tuple[str, float], ...]]
) -> dict[str, tuple[int, str, float]]:
    """Find, for each standard column, the first alias present among ``names``.

    Parameters
    ----------
    names : sequence of str
        Column names as found in the file.
    aliases : mapping
        Standard name -> ``((vendor name, factor to SI), ...)`` in order of preference.

    Returns
    -------
    dict
        Standard name -> ``(index in names, vendor name, factor)``.

    Examples
    --------
    >>> match_columns(["time/s", "<I>/mA", "Ewe/V"], ECLAB_ALIASES)["current_A"]
    (1, '<I>/mA', 0.001)
    """
    index = {}
    for i, name in enumerate(names):
        index.setdefault(_norm(name), i)
    found = {}
    for std, options in aliases.items():
        for vendor, factor in options:
            i = index.get(_norm(vendor))
            if i is not None:
                found[std] = (i, names[i], factor)
                break
    return found


def current_from_charge_steps(time_s: np.ndarray, dq_C: np.ndarray) -> np.ndarray:
    """Average current over each sampling interval from EC-Lab's charge increments.

    EC-Lab's GCPL ``.mpr`` files store no current column; its text export computes
    ``<I>/mA`` as ``dq / Δt`` (the first point, which has no interval, gets 0). This does
    the same, so the binary and the text file of one run agree.

    Parameters
    ----------
    time_s : numpy.ndarray
        Time, s.
    dq_C : numpy.ndarray
        Charge passed since the previous point, C.

    Returns
    -------
    numpy.ndarray
        Current, A. Points whose interval is zero get 0 when ``dq`` is 0, else NaN.

    Examples
    --------
    >>> current_from_charge_steps(np.array([0.0, 10.0]), np.array([0.0, -1e-3])).tolist()
    [0.0, -0.0001]
    """
    current = np.zeros(len(time_s), dtype=np.float64)
    if len(time_s) > 1:
        dt = np.diff(np.asarray(time_s, dtype=np.float64))
        dq = np.asarray(dq_C[1:], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dt > 0, dq / np.where(dt > 0, dt, 1.0), np.nan)
        step[(dt <= 0) & (dq == 0)] = 0.0
        current[1:] = step
    return current


# --------------------------------------------------------------------------- text
def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text export: UTF-8 (with or without BOM) when valid, else latin-1.

    EC-Lab and Gamry write Windows code pages (latin-1 for our purposes); some tools
    re-save as UTF-8. Returns ``(text, encoding)``.

    Examples
    --------
    >>> decode_text("0.001 cm²".encode("latin-1"))
    ('0.001 cm²', 'latin-1')
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


#: attrs note of a record whose last row was dropped (see :func:`drop_unterminated_row`)
UNTERMINATED_NOTE = (
    "the file ends without a line break inside a row whose number format differs from the "
    "rows before it, so that row was cut off while the file was written or copied; it was "
    "dropped"
)

_NUMBER_SHAPE = re.compile(r"^[+-]?(\d*)(?:[.,](\d*))?([eE][+-]?\d+)?$")


def _field_shapes(line: str, sep: str | None) -> list[tuple]:
    out = []
    for cell in line.split(sep):
        m = _NUMBER_SHAPE.match(cell.strip())
        out.append(None if m is None else (len(m.group(2) or ""), m.group(3) is not None))
    return out


def drop_unterminated_row(
    text: str, data_lines: list[str], *, sep: str | None = None, look_back: int = 200
) -> tuple[list[str], bool]:
    r"""Drop a last data row that was cut off mid-write.

    A text export cut off while written or copied ends inside its last number, which
    still parses — as a wrong value (``-1.3008`` for ``-1.302401e-10``). Many instruments
    (EC-Lab among them) end their files without a line break, so a missing final break
    alone proves nothing; the row is dropped only when, in addition, one of its fields
    has a number format (decimals, exponent) that none of the previous ``look_back``
    rows has in that column.

    >>> rows = ["0.1,-1.302401e-10", "0.2,-1.302411e-10", "0.3,-1.3008"]
    >>> drop_unterminated_row("...", rows, sep=",")[1]
    True
    >>> drop_unterminated_row("...", rows[:2], sep=",")[1]
    False
    >>> drop_unterminated_row("..." + chr(10), rows, sep=",")[1]
    False
    """
    lines = list(data_lines)
    if not text or text.endswith(("\n", "\r")) or len(lines) < 3:
        return lines, False
    last = _field_shapes(lines[-1], sep)
    seen: list[set] = [set() for _ in last]
    for line in lines[-1 - look_back : -1]:
        for k, shape in enumerate(_field_shapes(line, sep)[: len(last)]):
            seen[k].add(shape)
    for k, shape in enumerate(last):
        if shape is not None and seen[k] and None not in seen[k] and shape not in seen[k]:
            return lines[:-1], True
    return lines, False


#: Control bytes that do not occur in a text export (tab, CR, LF and form feed do).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\r\n\x0c")


def looks_binary(head: bytes) -> bool:
    """``True`` when the first bytes of a file cannot be a text export.

    More than 1 % (+1) control bytes other than tab, CR, LF and form feed, or any NUL,
    mean binary. Counted with :meth:`bytes.translate` (no Python loop per byte; each
    reader's sniffer calls this once per file).

    Examples
    --------
    >>> looks_binary(b"time_s,potential_V\\n0,1\\n"), looks_binary(bytes(range(1, 40)))
    (False, True)
    """
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return control > 0.01 * len(head) + 1


def parse_number(text: str) -> float | None:
    """Parse one number written with ``.`` or ``,`` as decimal mark; ``None`` if not one.

    Examples
    --------
    >>> parse_number("0,500"), parse_number("1.2E-003"), parse_number("abc")
    (0.5, 0.0012, None)
    """
    s = text.strip()
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    try:
        value = float(s)
    except ValueError:
        return None
    return value


_NUMBER_COMMA = re.compile(r"(?:^|[\t;])\s*[-+]?\d+,\d")


def detect_decimal(sample_lines: Sequence[str], sep: str) -> str:
    """Return ``","`` when data lines use a decimal comma (only possible if ``sep`` isn't).

    Examples
    --------
    >>> detect_decimal(["1,5\\t2,0"], "\\t"), detect_decimal(["1.5\\t2.0"], "\\t")
    (',', '.')
    """
    if sep == ",":
        return "."
    for line in sample_lines:
        if _NUMBER_COMMA.search(line):
            return ","
    return "."


@dataclass
class Table:
    """Numeric columns of a delimited table, with the file line number of every row."""

    columns: dict[str, np.ndarray]
    line_numbers: np.ndarray


def read_delimited(
    path: str,
    lines: Sequence[str],
    *,
    first_line_number: int,
    names: Sequence[str],
    wanted: Mapping[str, int],
    sep: str,
    decimal: str,
) -> Table:
    """Parse the numeric columns ``wanted`` from the data lines of a delimited table.

    Parameters
    ----------
    path : str
        The file, for messages.
    lines : sequence of str
        The data lines (after the column-name line), without line ends.
    first_line_number : int
        1-based line number of ``lines[0]`` in the file, for messages.
    names : sequence of str
        The column names; a row with fewer fields than named columns is an error.
    wanted : mapping
        Key -> column index to parse as float64.
    sep, decimal : str
        Field separator and decimal mark.

    Returns
    -------
    Table

    Raises
    ------
    InputError
        Ragged (truncated) rows, empty fields, or text that is not a number; the message
        names the line.
    """
    line_numbers = np.arange(first_line_number, first_line_number + len(lines))
    keep = [i for i, line in enumerate(lines) if line.strip()]
    if len(keep) != len(lines):
        lines = [lines[i] for i in keep]
        line_numbers = line_numbers[keep]
    n_named = len(names)
    while n_named and not names[n_named - 1].strip():
        n_named -= 1
    if not lines or not wanted:
        return Table({k: np.empty(0, dtype=np.float64) for k in wanted}, line_numbers)
    counts = np.fromiter((line.count(sep) + 1 for line in lines), dtype=np.int64, count=len(lines))
    need = max(wanted.values()) + 1 if wanted else 0
    short = np.flatnonzero(counts < max(n_named, need))
    if short.size:
        row = int(short[0])
        if row == len(lines) - 1:
            problem = (
                f"the file ends in the middle of line {line_numbers[row]} "
                f"({counts[row]} of {n_named} values): it looks truncated"
            )
            fix = "copy the complete file again from the instrument PC, or delete the last line"
        else:
            problem = (
                f"line {line_numbers[row]} holds {counts[row]} values but the header names "
                f"{n_named} columns"
            )
            fix = "re-export the file from the instrument software"
        raise InputError(path, problem, fix)
    for row in np.flatnonzero(counts > max(n_named, need)):
        extra = lines[row].split(sep)[max(n_named, need) :]
        if any(field.strip() for field in extra):
            raise InputError(
                path,
                f"line {line_numbers[row]} holds {counts[row]} values but the header names "
                f"{n_named} columns (two rows run together?)",
                "repair that line or re-export the file from the instrument software",
            )
    usecols = sorted(set(wanted.values()))
    # a stray carriage return inside a line would be a line break to the parser
    text = "\n".join(lines).replace("\r", "")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            usecols=usecols,
            dtype=np.float64,
            decimal=decimal,
            engine="c",
            skip_blank_lines=False,
            na_filter=True,
            keep_default_na=False,
            na_values=["", "nan", "NaN", "NAN", "-nan", "inf", "-inf"],
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m and 0 < int(m.group(2)) <= len(line_numbers):
            where = (
                f"line {line_numbers[int(m.group(2)) - 1]} holds {m.group(3)} values where "
                f"the rows before it hold {m.group(1)}"
            )
        else:
            where = "a row holds more values than the others"
        raise InputError(
            path,
            f"the data table is malformed: {where}",
            "re-export the file from the instrument software",
        ) from None
    except (ValueError, TypeError):
        _diagnose_bad_numbers(path, text, usecols, names, line_numbers, sep, decimal)
        raise  # pragma: no cover - _diagnose always raises
    if len(frame) != len(lines):
        raise InputError(
            path,
            f"the data table splits into {len(frame)} rows where the file has {len(lines)} "
            "data lines (quotes or stray line breaks inside rows?)",
            "re-export the file from the instrument software",
        )
    columns = {}
    for key, idx in wanted.items():
        values = frame[idx].to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            label = names[idx] if idx < len(names) else f"column {idx + 1}"
            raise InputError(
                path,
                f"line {line_numbers[row]} has no finite value in column {label!r} "
                f"({int(bad.sum())} such rows)",
                "remove or repair those rows, or re-export the file",
            )
        columns[key] = values
    return Table(columns, line_numbers)


def _diagnose_bad_numbers(path, text, usecols, names, line_numbers, sep, decimal):
    """Find the first field that is not a number and raise an InputError naming it."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            usecols=usecols,
            dtype=str,
            engine="python" if len(sep) > 1 else "c",
            keep_default_na=False,
        )
    except (ValueError, pd.errors.ParserError):  # e.g. rows too short for the columns
        raise InputError(
            path,
            "the data table could not be parsed: its rows do not hold the columns the header names",
            "re-export the file from the instrument software",
        ) from None
    for idx in usecols:
        raw = frame[idx].astype(str).str.strip()
        cleaned = raw.str.replace(",", ".", regex=False) if decimal == "," else raw
        values = pd.to_numeric(cleaned, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & (raw.str.lower() != "nan").to_numpy())
        if bad.size:
            row = int(bad[0])
            label = names[idx] if idx < len(names) else f"column {idx + 1}"
            shown = raw.iloc[row][:40]
            raise InputError(
                path,
                f"line {line_numbers[row]} holds {shown!r} in column {label!r}, not a number",
                "remove the damaged rows or re-export the file",
            )
    raise InputError(
        path,
        "the data table could not be parsed as numbers",
        "re-export the file from the instrument software",
    )


# --------------------------------------------------------------------------- clocks
_DATE_PATTERNS = (
    # (regex, order of the three date fields)
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "YMD"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2,4})$"), "MDY"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2,4})$"), "DMY"),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{2,4})$"), "MDY"),
)
_TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([AaPp][Mm])?$")


def parse_local_datetime(date_text: str, time_text: str | None = None) -> datetime | None:
    """Parse the wall-clock start time vendors print; ``None`` when it is not a date.

    Accepts ``MM/DD/YYYY`` (EC-Lab, US Gamry; read as ``DD/MM/YYYY`` when the first
    field exceeds 12), ``DD.MM.YYYY`` (European Gamry), ``YYYY-MM-DD``, followed by
    ``HH:MM[:SS[.fff]]`` (``,`` also accepted before the fraction, optional AM/PM).

    Examples
    --------
    >>> parse_local_datetime("01/10/2024 11:02:29.886")
    datetime.datetime(2024, 1, 10, 11, 2, 29, 886000)
    >>> parse_local_datetime("20.4.2023", "15:26:16")
    datetime.datetime(2023, 4, 20, 15, 26, 16)
    """
    text = date_text.strip()
    if time_text is None:
        parts = text.split(None, 1)
        if len(parts) != 2:
            return None
        text, time_text = parts
    for pattern, order in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            a, b, c = (int(g) for g in m.groups())
            if order == "YMD":
                year, month, day = a, b, c
            elif order == "MDY":
                month, day, year = a, b, c
                if month > 12 and day <= 12:
                    month, day = day, month
            else:
                day, month, year = a, b, c
            if year < 100:
                year += 2000
            break
    else:
        return None
    t = _TIME_PATTERN.match(time_text.strip())
    if not t:
        return None
    hour, minute = int(t.group(1)), int(t.group(2))
    second = int(t.group(3) or 0)
    frac = t.group(4) or ""
    micro = int(round(float("0." + frac) * 1e6)) if frac else 0
    ampm = (t.group(5) or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        base = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return base + timedelta(microseconds=micro)


def check_timezone(timezone: str | None) -> ZoneInfo | None:
    """Turn an IANA time-zone name into a ``ZoneInfo``; InputError when unknown."""
    if timezone is None:
        return None
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InputError(
            None,
            f"unknown time zone {timezone!r} ({exc.__class__.__name__})",
            "give an IANA name such as 'Europe/London' or 'America/New_York'",
        ) from None


def local_to_utc_iso(local: datetime, zone: ZoneInfo | None) -> tuple[str, bool]:
    """Convert a naive wall-clock time to a UTC ISO 8601 string.

    Returns ``(iso, assumed_utc)``; with ``zone=None`` the wall clock is taken as UTC
    and ``assumed_utc`` is ``True``.

    Examples
    --------
    >>> local_to_utc_iso(datetime(2024, 7, 1, 12, 0), ZoneInfo("Europe/London"))
    ('2024-07-01T11:00:00+00:00', False)
    """
    if zone is None:
        return local.replace(tzinfo=UTC).isoformat(), True
    aware = local.replace(tzinfo=zone)
    return aware.astimezone(UTC).isoformat(), False


# --------------------------------------------------------------------------- records
@dataclass
class Record:
    """What a vendor reader extracted from one file, before validation.

    ``columns`` holds standard names (subset of :data:`STANDARD_COLUMNS`) as float64
    arrays in SI units; ``units_original`` maps each to the vendor column it came from.
    ``t0_local`` is the naive wall-clock start as printed in the file.
    """

    fmt: str
    columns: dict[str, np.ndarray]
    units_original: dict[str, str]
    technique: str | None = None
    instrument: str | None = None
    t0_local: datetime | None = None
    electrode_area_cm2: float | None = None
    found_columns: list[str] = field(default_factory=list)
    current_hint: str = ""
    extra_attrs: dict = field(default_factory=dict)


def finish(
    path: str,
    record: Record,
    *,
    timezone: str | None = None,
    technique: str | None = None,
) -> pd.DataFrame:
    """Validate a :class:`Record` and build the Echem ``DataFrame`` with its attrs.

    Raises
    ------
    InputError
        Technique mismatch with ``technique``, impedance records, missing columns,
        empty tables, unequal lengths, non-finite values, time running backwards.
    """
    zone = check_timezone(timezone)
    stated = record.technique
    stated_code = technique_code(stated)
    if technique is not None:
        given_code = technique_code(technique)
        if stated is not None:
            same = (
                given_code == stated_code
                if (given_code and stated_code)
                else " ".join(technique.lower().split()) == " ".join(stated.lower().split())
            )
            if not same:
                raise InputError(
                    path,
                    f"the file records the technique {stated!r} but technique={technique!r} "
                    "was requested",
                    "drop the technique argument or choose the file of that technique",
                )
        else:
            stated = TECHNIQUE_NAMES.get(given_code, technique) if given_code else technique
            stated_code = given_code
    if stated_code in IMPEDANCE_CODES:
        raise impedance_error(path, stated or stated_code)

    cols = dict(record.columns)
    units = dict(record.units_original)
    notes = dict(record.extra_attrs)
    if "current_A" not in cols and stated_code == "OCV" and "time_s" in cols:
        cols["current_A"] = np.zeros(len(cols["time_s"]), dtype=np.float64)
        units["current_A"] = "(none: open circuit, current is zero by definition)"
        notes["current_note"] = "open-circuit record: current set to 0 A by definition"
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if missing:
        found = shown_names(record.found_columns)
        hint = f" ({record.current_hint})" if record.current_hint and "current_A" in missing else ""
        raise InputError(
            path,
            f"no {' / '.join(m.split('_')[0] for m in missing)} column{hint}; "
            f"columns found: {found}",
            "export time, potential and current (EC-Lab: time/s, Ewe/V, I/mA, or read the "
            "run's .mpr; CSV: time_s, potential_V, current_A with cathodic current negative)",
        )
    n = len(cols["time_s"])
    if n == 0:
        raise InputError(path, "the file holds no data rows", "export the record again")
    for name, values in cols.items():
        if len(values) != n:
            raise InputError(
                path, f"column {name} has {len(values)} values, time has {n}", "re-export"
            )
    for name in REQUIRED_COLUMNS:
        values = cols[name]
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                path,
                f"{name} is not finite at data row {row + 1} ({int(bad.sum())} rows)",
                "remove or repair those rows, or re-export the file",
            )
    cols, excluded = exclude_implausible_samples(path, cols)
    if excluded:
        notes["samples_excluded"] = excluded
        from platescope._provenance import note_warning

        note_warning(
            "echem-samples-excluded", excluded["message"], where=f"input {_short_name(path)}"
        )
    time = cols["time_s"]
    back = np.flatnonzero(np.diff(time) < 0)
    if back.size:
        row = int(back[0]) + 1
        raise InputError(
            path,
            f"time runs backwards at data row {row + 1} ({time[row - 1]!r} s, then "
            f"{time[row]!r} s; {back.size} such places)",
            "export each run or technique to its own file, or fix the time column",
        )

    frame = {}
    for name in STANDARD_COLUMNS:
        if name not in cols:
            continue
        values = np.asarray(cols[name], dtype=np.float64)
        if name in INTEGER_COLUMNS:
            finite = np.isfinite(values)
            if (
                not finite.all()
                or np.any(values != np.round(values))
                or np.any(np.abs(values) > 2.0**53)
            ):
                # not integers (or beyond int64/exact floats): keep them out, never round
                units.pop(name, None)
                notes[f"{name}_dropped"] = "column holds non-integer values"
                continue
            frame[name] = values.astype(np.int64)
        else:
            frame[name] = values
    df = pd.DataFrame(frame)
    t0 = None
    assumed = None
    if record.t0_local is not None:
        t0, assumed = local_to_utc_iso(record.t0_local, zone)
    attrs = {
        "t0": t0,
        "t0_assumed_utc": assumed,
        "t0_local": None if record.t0_local is None else record.t0_local.isoformat(),
        "timezone": timezone,
        "technique": stated,
        "technique_code": stated_code,
        "instrument": record.instrument,
        "format": record.fmt,
        "source": path,
        "electrode_area_cm2": record.electrode_area_cm2,
        "units_original": {k: units[k] for k in df.columns if k in units},
    }
    attrs.update(notes)
    df.attrs.update(attrs)
    return df


#: Largest magnitude a potentiostat record can hold, per quantity. Potentiostats and
#: cell cyclers measure within about ±10 V (±15–20 V with extended compliance), so a
#: sample beyond ±20 V is a glitch or a unit error; ±100 A is beyond the boosters of
#: battery test channels. Samples beyond are excluded and reported.
PHYSICAL_LIMITS = {"potential_V": 20.0, "current_A": 100.0}
#: More than this fraction of samples out of range is a unit error, not glitches: refused.
MAX_EXCLUDED_FRACTION = 0.01
#: An isolated potential spike farther than this many times the record's 0.1–99.9 %
#: spread from its median is excluded at reading (smaller spikes are left to the
#: analyses, which exclude and report them themselves).
GROSS_SPIKE_SPREADS = 10.0


def _short_name(path) -> str:
    import os

    return os.path.basename(os.fspath(path)) if path else "record"


def exclude_implausible_samples(path, cols: dict) -> tuple[dict, dict | None]:
    """Drop samples no instrument can have recorded; return (columns, report or None).

    A sample is excluded when its potential or current lies beyond
    :data:`PHYSICAL_LIMITS` (|E| > 20 V, |I| > 100 A), or when its potential is an
    isolated single-sample spike (:func:`platescope.echem.isolated_outliers`) lying
    more than :data:`GROSS_SPIKE_SPREADS` × the 0.1–99.9 % spread of the other samples
    from their median. The whole row (time, potential, current, ...) is dropped.

    Raises
    ------
    InputError
        More than 1 % of the samples are beyond the limits: a unit error (e.g. a
        column in mV labelled V), which excluding would hide.

    Examples
    --------
    >>> t = np.arange(100.0); e = np.full(100, -0.05); e[40] = 1e26
    >>> cols, rep = exclude_implausible_samples("cp.csv", {"time_s": t,
    ...     "potential_V": e, "current_A": np.full(100, -1e-4)})
    >>> len(cols["time_s"]), rep["count"], rep["rows"]
    (99, 1, [41])
    """
    from platescope.echem._galvanostatic import isolated_outliers

    n = len(cols["time_s"])
    if n == 0:
        return cols, None
    reasons = []
    bad = np.zeros(n, dtype=bool)
    for name, limit in PHYSICAL_LIMITS.items():
        over = np.abs(np.asarray(cols[name], dtype=float)) > limit
        if over.any():
            bad |= over
            quantity = name.split("_")[0]
            unit = name.split("_")[1]
            reasons.append(f"{int(over.sum())} with |{quantity}| > {limit:g} {unit}")
    n_range = int(bad.sum())
    if n_range > max(1, MAX_EXCLUDED_FRACTION * n):
        raise InputError(
            path,
            f"{n_range} of {n} samples lie beyond what a potentiostat records ("
            + "; ".join(reasons)
            + "): the column is probably in other units than its name says",
            "check the column units (e.g. potential_mV instead of potential_V, current_mA "
            "instead of current_A) and re-export or rename the column",
        )
    e = np.asarray(cols["potential_V"], dtype=float)
    good = e[~bad]
    if good.size >= 3:
        spikes = np.zeros(n, dtype=bool)
        spikes[~bad] = isolated_outliers(good)
        rest = e[~bad & ~spikes]
        lo, hi = np.percentile(rest, [0.1, 99.9]) if rest.size else (0.0, 0.0)
        spread = max(float(hi - lo), 1e-3)
        gross = spikes & (
            np.abs(e - np.median(rest if rest.size else good)) > GROSS_SPIKE_SPREADS * spread
        )
        if gross.any():
            bad |= gross
            reasons.append(
                f"{int(gross.sum())} isolated potential spike(s) more than "
                f"{GROSS_SPIKE_SPREADS:g}× the record's spread from its median"
            )
    if not bad.any():
        return cols, None
    rows = [int(r) + 1 for r in np.flatnonzero(bad)[:5]]
    count = int(bad.sum())
    message = (
        f"{_short_name(path)}: {count} sample(s) excluded as impossible readings ("
        + "; ".join(reasons)
        + f"), at data row(s) {', '.join(map(str, rows))}{' …' if count > 5 else ''}"
    )
    kept = {k: np.asarray(v)[~bad] for k, v in cols.items()}
    return kept, {"count": count, "rows": rows, "message": message}


def impedance_error(path: str, technique: str) -> InputError:
    """The one message for impedance records, which platescope does not analyse."""
    return InputError(
        path,
        f"the technique is impedance ({technique}): a spectrum over frequency, not a "
        "time-domain potential/current record, and platescope does not read impedance data",
        "pass the chronopotentiometry / cycling / voltammetry file of the experiment instead "
        "(impedance.py or the instrument software analyse spectra)",
    )


def area_to_cm2(value: float, unit: str) -> float | None:
    """Convert an electrode area to cm²; ``None`` for an unknown unit.

    Examples
    --------
    >>> area_to_cm2(250.0, "mm²")
    2.5
    """
    u = unit.strip().lower()
    if u.startswith("mm"):
        return value / 100.0
    if u.startswith("cm"):
        return value
    if u.startswith("µm") or u.startswith("um"):
        return value * 1e-8
    if u.startswith("m"):
        return value * 1e4
    return None
