"""BioLogic EC-Lab text files: ``.mpt`` exports with header, header-less ``.txt`` exports.

Reader yields ``time_s`` (s since the acquisition start printed in the header),
``potential_V`` (``Ewe/V``, else ``<Ewe>/V``), ``current_A`` (``I/mA``, else ``<I>/mA``,
converted to A; EC-Lab writes reduction/cathodic current negative, as platescope does),
and when present ``cycle`` (``cycle number``, else ``half cycle // 2``), ``step``
(``Ns``) and ``charge_C`` (``(Q-Qo)/C`` or ``(Q-Qo)/mA.h`` × 3.6). Records with no
current column but with charge increments (``dq/mA.h``) get ``dq / Δt`` — the same
number EC-Lab prints as ``<I>/mA``. Decimal comma files (European Windows locale) and
latin-1 or UTF-8 encodings are read alike.

The writer :func:`write_eclab_mpt` produces the ``.mpt`` the ``irm-galvanostatic``
simulator ships (see ``notes/sim_formats.md``).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._atomic import atomic_write_bytes
from platescope._errors import InputError
from platescope.io._echem_common import (
    ECLAB_ALIASES,
    UNTERMINATED_NOTE,
    Record,
    area_to_cm2,
    current_from_charge_steps,
    decode_text,
    detect_decimal,
    drop_unterminated_row,
    impedance_error,
    looks_binary,
    match_columns,
    parse_local_datetime,
    parse_number,
    read_delimited,
    technique_code,
)

MAGIC = "EC-Lab ASCII FILE"
_NB_HEADER = re.compile(r"^\s*Nb header lines\s*:\s*(\d+)\s*$")
_AREA = re.compile(r"^\s*Electrode surface area\s*:\s*([-+0-9.,Ee]+)\s*(\S*)")
# EC-Lab's factory value for the electrode area: the file then states no real area.
_ECLAB_DEFAULT_AREA_CM2 = 0.001


def _split_lines(text: str) -> list[str]:
    # not str.splitlines(): latin-1 byte 0x85 decodes to NEL, which it treats as a break
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def sniff_mpt(path: str, head: bytes) -> bool:
    """``True`` for an EC-Lab ASCII export with its header (first line ``EC-Lab ASCII FILE``)."""
    return head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC.encode())


def sniff_txt(path: str, head: bytes) -> bool:
    """``True`` for a header-less EC-Lab text export: tab-separated EC-Lab column names."""
    if looks_binary(head):
        return False
    text, _ = decode_text(head)
    first = _split_lines(text)[0] if text else ""
    if "\t" not in first:
        return False
    found = match_columns(first.split("\t"), ECLAB_ALIASES)
    return "time_s" in found and ("potential_V" in found or "current_A" in found)


def _parse_header(path: str, header: list[str]) -> dict:
    meta: dict = {"technique": None, "t0_local": None, "instrument": None, "area": None}
    for line in header[2:6]:
        s = line.strip()
        if s and ":" not in s:
            meta["technique"] = s
            break
    for line in header:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "Acquisition started on":
            meta["t0_text"] = value.strip()
            meta["t0_local"] = parse_local_datetime(value.strip())
        elif key == "Device" and meta["instrument"] is None:
            device = value.strip()
            device = re.sub(r"\s*\(SN[^)]*\)\s*$", "", device)
            meta["instrument"] = f"BioLogic {device}" if device else None
        elif key == "Electrode surface area":
            m = _AREA.match(line)
            if m:
                meta["area_text"] = f"{m.group(1)} {m.group(2)}".strip()
                number = parse_number(m.group(1))
                if number is not None:
                    meta["area"] = area_to_cm2(number, m.group(2) or "cm")
    return meta


def read_eclab_text(path: str) -> Record:
    """Read an EC-Lab ``.mpt`` (with header) or header-less text export.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    Record
        Standard columns in SI units plus header facts; :func:`platescope.io.read_echem`
        validates it and builds the DataFrame.

    Raises
    ------
    InputError
        Truncated header or rows, non-numeric fields, impedance records.
    """
    data = Path(path).read_bytes()
    text, encoding = decode_text(data)
    lines = _split_lines(text)
    if not lines:
        raise InputError(path, "the file is empty", "export the record again")
    if lines[0].strip() == MAGIC:
        if len(lines) < 2:
            raise InputError(
                path,
                "the EC-Lab file ends after its first line: it looks truncated",
                "copy the complete file again",
            )
        m = _NB_HEADER.match(lines[1])
        if not m:
            raise InputError(
                path,
                "line 2 should read 'Nb header lines : N' but reads something else",
                "re-export the file from EC-Lab (Export as text)",
            )
        n_header = int(m.group(1))
        if n_header < 3:
            raise InputError(
                path, f"the header announces {n_header} lines, too few", "re-export from EC-Lab"
            )
        if len(lines) < n_header:
            raise InputError(
                path,
                f"the header announces {n_header} lines but the file has only {len(lines)}: "
                "it looks truncated",
                "copy the complete file again from the instrument PC",
            )
        header = lines[: n_header - 1]
        names_line = lines[n_header - 1]
        data_lines = lines[n_header:]
        first_data_line = n_header + 1
        fmt = "eclab-mpt"
    else:
        header = []
        names_line = lines[0]
        data_lines = lines[1:]
        first_data_line = 2
        fmt = "eclab-txt"
    names = [n.strip() for n in names_line.split("\t")]
    meta = _parse_header(path, header)
    found = match_columns(names, ECLAB_ALIASES)
    code = technique_code(meta["technique"])
    if code in {"PEIS", "GEIS", "SPEIS", "SGEIS", "ZIR", "EIS"}:
        raise impedance_error(path, meta["technique"])
    if "_freq_Hz" in found:
        instantaneous = (
            "potential_V" in found
            and not found["potential_V"][1].startswith("<")
            and "current_A" in found
            and not found["current_A"][1].startswith("<")
        )
        if not instantaneous:
            raise impedance_error(path, meta["technique"] or "freq/Hz column, no Ewe/V and I/mA")

    wanted = {k: v[0] for k, v in found.items() if k != "_freq_Hz"}
    if "current_A" in found:
        wanted.pop("_dq_C", None)
    if "cycle" in found:
        wanted.pop("_half_cycle", None)
    data_lines, cut = drop_unterminated_row(text, data_lines, sep="\t")
    decimal = detect_decimal(data_lines[:50], "\t")
    table = read_delimited(
        path,
        data_lines,
        first_line_number=first_data_line,
        names=names,
        wanted=wanted,
        sep="\t",
        decimal=decimal,
    )
    columns: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    extra: dict = {"encoding": encoding, "decimal": decimal}
    if cut:
        extra["last_row_dropped"] = UNTERMINATED_NOTE
    for key, (_, vendor, factor) in found.items():
        if key.startswith("_") or key not in table.columns:
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # inf: refused later
            columns[key] = table.columns[key] * factor
        units[key] = vendor
    if "current_A" not in columns and "_dq_C" in table.columns and "time_s" in columns:
        dq = table.columns["_dq_C"] * found["_dq_C"][2]
        columns["current_A"] = current_from_charge_steps(columns["time_s"], dq)
        units["current_A"] = f"{found['_dq_C'][1]} / Δt (as EC-Lab's <I>/mA)"
        extra["current_derived"] = "charge increment per sampling interval"
    if "cycle" not in columns and "_half_cycle" in table.columns:
        columns["cycle"] = np.floor(table.columns["_half_cycle"] / 2.0)
        units["cycle"] = "half cycle // 2"
        extra["cycle_derived"] = "half cycle // 2 (EC-Lab charge/discharge alternance)"
    area = meta["area"]
    if "area_text" in meta:
        extra["electrode_area_stated"] = meta["area_text"]
        if area is not None and (area <= 0 or abs(area - _ECLAB_DEFAULT_AREA_CM2) < 1e-12):
            area = None  # 0 or EC-Lab's factory value: no real area was entered
    if "t0_text" in meta and meta["t0_local"] is None:
        extra["t0_unparsed"] = meta["t0_text"]
    instrument = meta["instrument"]
    if instrument is None:
        instrument = "BioLogic EC-Lab (text export)"
    return Record(
        fmt=fmt,
        columns=columns,
        units_original=units,
        technique=meta["technique"],
        instrument=instrument,
        t0_local=meta["t0_local"],
        electrode_area_cm2=area,
        found_columns=[n for n in names if n],
        current_hint="need I/mA, <I>/mA or dq/mA.h",
        extra_attrs=extra,
    )


# --------------------------------------------------------------------------- writer
WRITER_COLUMNS = (
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
)


def _eclab_float(values: np.ndarray, digits: int, decimal: str) -> list[str]:
    """Format like EC-Lab: ``-1.0000000E+002`` (mantissa digits, 3-digit exponent)."""
    out = []
    for v in values:
        s = f"{v:.{digits}E}"
        mant, exp = s.split("E")
        sign = exp[0]
        out.append(f"{mant}E{sign}{int(exp[1:]):03d}")
    if decimal != ".":
        out = [s.replace(".", decimal) for s in out]
    return out


def write_eclab_mpt(
    path: str | os.PathLike,
    echem: pd.DataFrame,
    *,
    t0_local: datetime,
    technique: str = "Chronopotentiometry",
    decimal: str = ".",
) -> Path:
    """Write an Echem record as an EC-Lab ASCII ``.mpt`` export, atomically.

    The file has the layout of ``notes/sim_formats.md``: ``EC-Lab ASCII FILE``,
    ``Nb header lines : N`` (N counts every header line including the column names),
    ``Acquisition started on : MM/DD/YYYY HH:MM:SS.fff``, the technique name, the
    tab-separated columns ``mode, ox/red, error, control changes, Ns changes,
    counter inc., Ns, time/s, control/mA, Ewe/V, I/mA, dQ/C, (Q-Qo)/mA.h,
    cycle number``, latin-1 encoded, CRLF line ends. Numbers are written as EC-Lab
    does: 16 significant digits for ``time/s`` and ``(Q-Qo)/mA.h``, 8 for the rest
    (relative rounding ≤ 5e-8).

    Parameters
    ----------
    path : str or os.PathLike
        Output file; written to a temporary file in the same folder, then renamed.
    echem : pandas.DataFrame
        Columns ``time_s`` (s since ``t0_local``), ``potential_V`` (V), ``current_A``
        (A, cathodic negative); optional ``step`` (→ ``Ns``), ``cycle`` (→ ``cycle
        number``), ``charge_C`` (C, → ``(Q-Qo)/mA.h``; else the trapezoidal integral
        of the current), ``control_A`` (the set current, A, → ``control/mA``; else the
        current), ``aux1_V`` / ``aux2_V`` (auxiliary inputs, V, → ``Analog IN 1/V`` /
        ``Analog IN 2/V`` after the other columns). ``attrs["electrode_area_cm2"]``
        (cm²) is written when present.
    t0_local : datetime.datetime
        Wall-clock time of the acquisition start on the instrument PC; a time zone, if
        attached, is not written (EC-Lab files carry none).
    technique : str, default "Chronopotentiometry"
        Technique name line.
    decimal : {".", ","}
        Decimal mark (``","`` mimics a European-locale EC-Lab PC).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from datetime import datetime
    >>> df = pd.DataFrame({"time_s": [0.0, 1.0], "potential_V": [0.1, -0.02],
    ...                    "current_A": [-1e-4, -1e-4]})
    >>> out = write_eclab_mpt(tempfile.mkdtemp() + "/echem.mpt", df,
    ...                       t0_local=datetime(2024, 5, 1, 9, 30))
    >>> out.read_text(encoding="latin-1").splitlines()[0]
    'EC-Lab ASCII FILE'
    """
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")
    missing = [c for c in ("time_s", "potential_V", "current_A") if c not in echem.columns]
    if missing:
        raise ValueError(f"echem lacks the columns {missing}")
    time = echem["time_s"].to_numpy(dtype=np.float64)
    potential = echem["potential_V"].to_numpy(dtype=np.float64)
    current = echem["current_A"].to_numpy(dtype=np.float64)
    n = len(time)
    for name, values in (("time_s", time), ("potential_V", potential), ("current_A", current)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"echem[{name!r}] holds non-finite values")
    if n > 1 and np.any(np.diff(time) < 0):
        raise ValueError("echem['time_s'] must not decrease")
    control = (
        echem["control_A"].to_numpy(dtype=np.float64) if "control_A" in echem.columns else current
    )
    step = echem["step"].to_numpy(dtype=np.int64) if "step" in echem.columns else np.zeros(n, int)
    cycle = (
        echem["cycle"].to_numpy(dtype=np.int64) if "cycle" in echem.columns else np.zeros(n, int)
    )
    if "charge_C" in echem.columns:
        charge = echem["charge_C"].to_numpy(dtype=np.float64)
        dq = np.diff(charge, prepend=charge[:1])
    else:
        dq = np.zeros(n)
        if n > 1:
            dq[1:] = 0.5 * (current[1:] + current[:-1]) * np.diff(time)
        charge = np.cumsum(dq)
    if "control_mode" in echem.columns:
        mode = echem["control_mode"].to_numpy(dtype=np.int64)
    elif technique_code(technique) in ("CV", "LSV", "CA"):
        mode = np.full(n, 2, dtype=np.int64)  # 2 controlled potential, as EC-Lab writes
    else:
        mode = np.where(control != 0, 1, 3)  # 1 galvanostatic, 3 rest
    oxred = (current >= 0).astype(int)
    control_changes = np.ones(n, dtype=int)
    control_changes[1:] = (np.diff(control) != 0).astype(int)
    ns_changes = np.ones(n, dtype=int)
    ns_changes[1:] = (np.diff(step) != 0).astype(int)

    cols = [
        [str(v) for v in mode],
        [str(v) for v in oxred],
        ["0"] * n,
        [str(v) for v in control_changes],
        [str(v) for v in ns_changes],
        ["0"] * n,
        [str(v) for v in step],
        _eclab_float(time, 15, decimal),
        _eclab_float(control * 1e3, 7, decimal),
        _eclab_float(potential, 7, decimal),
        _eclab_float(current * 1e3, 7, decimal),
        _eclab_float(dq, 7, decimal),
        _eclab_float(charge / 3.6, 15, decimal),
        _eclab_float(cycle.astype(np.float64), 15, decimal),
    ]
    names = list(WRITER_COLUMNS)
    for std, vendor in (("aux1_V", "Analog IN 1/V"), ("aux2_V", "Analog IN 2/V")):
        if std in echem.columns:
            cols.append(_eclab_float(echem[std].to_numpy(dtype=np.float64), 7, decimal))
            names.append(vendor)
    rows = ["\t".join(fields) for fields in zip(*cols, strict=True)]

    rounded = t0_local.replace(tzinfo=None) + timedelta(microseconds=500)
    stamp = rounded.strftime("%m/%d/%Y %H:%M:%S.") + f"{rounded.microsecond // 1000:03d}"
    area = echem.attrs.get("electrode_area_cm2")
    header = [
        MAGIC,
        "Nb header lines : {n}",
        "",
        technique,
        "",
        "Run on channel : 1 (SN 0000)",
        "User : ",
        "Electrode connection : standard",
        "Potential control : Ewe",
        "Ewe ctrl range : min = -10.00 V, max = 10.00 V".replace(".", decimal),
        f"Acquisition started on : {stamp}",
        "Saved on :",
        f"\tFile : {Path(path).with_suffix('.mpr').name}",
        "\tDirectory : platescope",
        "Device : platescope simulator",
    ]
    if area is not None and np.isfinite(area):
        header.append(f"Electrode surface area : {area:.3f} cm²".replace(".", decimal))
    header += [
        "Cycle Definition : Charge/Discharge alternance",
        "",
        "\t".join(names) + "\t",
    ]
    header[1] = f"Nb header lines : {len(header)}                          "
    body = "\r\n".join(header + rows) + "\r\n"
    payload = body.encode("latin-1")

    return atomic_write_bytes(path, payload)
