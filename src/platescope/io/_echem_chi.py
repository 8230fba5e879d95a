"""CH Instruments text exports (``.txt``): recognised, and refused with a clear reason.

A CHI export starts with the date (``Feb. 20, 2020   15:55:08``), the technique name
(``A.C. Impedance``, ``Cyclic Voltammetry``, ``Amperometric i-t Curve`` ...), then
``Instrument Model:  CHI660E`` and ``key = value`` parameters before a comma-separated
table. Impedance exports are refused as impedance. Time-domain exports are refused too:
the file does not state which current sign convention (polarographic or IUPAC) the
software was set to, and CV exports carry no time column, so platescope cannot promise
``current_A`` with cathodic current negative. The message asks for a CSV instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from platescope._errors import InputError
from platescope.io._echem_common import decode_text, impedance_error, technique_code

_DATE_LINE = re.compile(r"^[A-Z][a-z]{2}\.? \d{1,2}, \d{4}\s+\d{1,2}:\d{2}:\d{2}")


def sniff_chi(path: str, head: bytes) -> bool:
    """``True`` for a CH Instruments text export."""
    text, _ = decode_text(head[:2048])
    lines = text.replace("\r", "").split("\n")
    if any(line.startswith("Instrument Model:") and "CHI" in line for line in lines[:12]):
        return True
    return bool(lines) and bool(_DATE_LINE.match(lines[0])) and "Data Source:" in text


def read_chi(path: str):
    """Refuse a CH Instruments export with the reason (impedance, or sign convention).

    Raises
    ------
    InputError
        Always; the message says whether the file is impedance data or a time-domain
        record that should be exported as CSV.
    """
    text, _ = decode_text(Path(path).read_bytes()[:8192])
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    technique = lines[1] if len(lines) > 1 and lines[1] else "unknown technique"
    code = technique_code(technique)
    if code in {"EIS", "PEIS", "GEIS"} or "impedance" in technique.lower():
        raise impedance_error(path, f"CH Instruments {technique}")
    raise InputError(
        path,
        f"CH Instruments text exports ({technique}) are not supported: they do not state "
        "the current sign convention and CV exports have no time column",
        "export time, potential and current as a CSV with columns time_s, potential_V, "
        "current_A (s, V, A; cathodic current negative)",
    )
