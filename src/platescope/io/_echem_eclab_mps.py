"""EC-Lab settings files (``.mps``): the protocol a BioLogic potentiostat ran.

An ``.mps`` file holds no measured data; it says what the instrument was told to do:
the linked techniques in order (GCPL, OCV, CA, CP, PEIS/GEIS, Loop, ...), and for each
technique a table with one column per sequence (``Ns``): set current and its unit,
durations, potential limits, ``goto`` targets and cycle counts. A text export that lacks
the current column (only ``time/s`` and ``Ewe/V``) can get its applied current from it.

Format (read by hand from real files, e.g. the datalab Li‖Li ``.mps`` in
``shared/data/echem/datalab_LiLi`` and public EC-Lab templates):

- line 1 ``EC-LAB SETTING FILE``; ``Number of linked techniques : N``;
- ``key : value`` header lines (device, electrode area, cycle definition);
- per technique: ``Technique : k``, the technique's long name, then table rows: a
  20-character key followed by one 20-character field per sequence (the last field of a
  single-sequence table may be longer, e.g. a path); a blank line ends the table;
- numbers with ``.`` or ``,`` as decimal mark; durations as ``h:m:s.ffff``; ``pass``
  means "no limit"; units in companion rows (``unit Is``: ``mA``, ``µA`` (byte 0xB5 in
  the Windows code page), ``nA``, ``A``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, file_problem
from platescope.io._echem_common import decode_text, parse_number, technique_code

__all__ = [
    "describe_settings",
    "read_eclab_loops",
    "read_eclab_settings",
    "read_voltage_export",
    "set_currents_A",
    "write_eclab_mps",
]

MAGIC = "EC-LAB SETTING FILE"
_KEY_WIDTH = 20
_FIELD_WIDTH = 20
#: current unit → divisor to amperes (a division keeps "0.664 mA" → 0.000664 exactly)
_CURRENT_UNITS = {"A": 1.0, "mA": 1e3, "µA": 1e6, "uA": 1e6, "nA": 1e9, "pA": 1e12}
_CHARGE_UNITS = {"A.h": 3600.0, "mA.h": 3.6, "µA.h": 3.6e-3, "uA.h": 3.6e-3, "nA.h": 3.6e-6}
_HMS = re.compile(r"^(\d+):(\d{1,2}):(\d+(?:[.,]\d*)?)$")
_EXTRA_CODES = {
    "loop": "Loop",
    "modulo bat": "MB",
    "external application": "EXT",
    "cyclic voltammetry advanced": "CVA",
    "chronoamperometry / chronocoulometry": "CA",
    "galvano electrochemical impedance spectroscopy": "GEIS",
    "potentio electrochemical impedance spectroscopy": "PEIS",
    "galvanostatic cycling with potential limitation": "GCPL",
    "open circuit voltage": "OCV",
    "chronopotentiometry": "CP",
    "cyclic voltammetry": "CV",
    "linear sweep voltammetry": "LSV",
    "wait": "WAIT",
}


def _seconds(text: str) -> float | None:
    """``h:m:s.ffff`` → s; ``None`` when the field is not a duration.

    >>> _seconds("1:00:0.0000"), _seconds("0:00:10,5"), _seconds("x")
    (3600.0, 10.5, None)
    """
    m = _HMS.match(text.strip())
    if not m:
        return None
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0 + float(m.group(3).replace(",", "."))


def _unit(text: str) -> str:
    # EC-Lab writes µ as byte 0xB5; some re-saved files carry the Greek mu
    return text.strip().replace("\u03bc", "µ")


def _fields(line: str, n: int) -> list[str]:
    rest = line[_KEY_WIDTH:]
    if n <= 1:
        return [rest.strip()]
    out = [rest[k * _FIELD_WIDTH : (k + 1) * _FIELD_WIDTH].strip() for k in range(n - 1)]
    out.append(rest[(n - 1) * _FIELD_WIDTH :].strip())
    return out


def _code(name: str) -> str | None:
    low = name.strip().lower()
    if low in _EXTRA_CODES:
        return _EXTRA_CODES[low]
    return technique_code(name)


def _number(raw: dict, key: str) -> float | None:
    v = raw.get(key)
    if v is None or v.lower() == "pass":
        return None
    return parse_number(v)


def _current(raw: dict, value_key: str, unit_key: str, path, tech) -> float | None:
    value = _number(raw, value_key)
    if value is None:
        return None
    unit = _unit(raw.get(unit_key, ""))
    if unit not in _CURRENT_UNITS:
        raise InputError(
            path,
            f"technique {tech}: the current unit {unit!r} of {value_key!r} is not one EC-Lab "
            "writes (A, mA, µA, nA, pA)",
            "save the settings again from EC-Lab, or give the current in the experiment file "
            "([cell] current_mA)",
        )
    return value / _CURRENT_UNITS[unit]


def _sequence(raw: dict, code: str | None, path, tech: int) -> dict:
    """The facts of one sequence in SI units (None where the technique has none)."""
    seq: dict = {
        "Ns": int(parse_number(raw["Ns"])) if raw.get("Ns") not in (None, "") else 0,
        "current_A": None,
        "set_by": None,
        "duration_s": None,
        "rest_s": None,
        "potential_V": None,
        "potential_vs": None,
        "E_limit_V": None,
        "charge_limit_C": None,
        "goto_Ns": None,
        "n_cycles": None,
    }
    if code in ("GCPL", "CP"):
        seq["set_by"] = raw.get("Set I/C", "I") or "I"
        if seq["set_by"] == "I":
            seq["current_A"] = _current(raw, "Is", "unit Is", path, tech)
        seq["duration_s"] = _seconds(raw.get("t1 (h:m:s)", raw.get("ts (h:m:s)", "")))
        seq["E_limit_V"] = _number(raw, "EM (V)")
        if code == "GCPL":
            seq["rest_s"] = _seconds(raw.get("tR (h:m:s)", ""))
        dq = _number(raw, "dQM")
        unit = raw.get("unit dQM", "")
        if dq and unit in _CHARGE_UNITS:
            seq["charge_limit_C"] = dq * _CHARGE_UNITS[unit]
    elif code == "OCV":
        seq["duration_s"] = _seconds(raw.get("tR (h:m:s)", ""))
    elif code == "CA":
        seq["duration_s"] = _seconds(raw.get("ti (h:m:s)", ""))
        seq["potential_V"] = _number(raw, "Ei (V)")
        seq["potential_vs"] = raw.get("vs.")
    elif code in ("PEIS", "GEIS"):
        seq["potential_V"] = _number(raw, "E (V)")
        seq["potential_vs"] = raw.get("vs.") if code == "PEIS" else None
        if code == "GEIS":
            seq["current_A"] = _current(raw, "Is", "unit Is", path, tech)
    elif code == "MB":
        if raw.get("ctrl_type") == "CC" and raw.get("Apply I/C", "I") == "I":
            seq["current_A"] = _current(raw, "ctrl1_val", "ctrl1_val_unit", path, tech)
            seq["set_by"] = "I"
    if "goto Ns'" in raw:
        seq["goto_Ns"] = int(parse_number(raw["goto Ns'"]) or 0)
    if "nc cycles" in raw:
        seq["n_cycles"] = int(parse_number(raw["nc cycles"]) or 0)
    seq["raw"] = dict(raw)
    return seq


def read_eclab_settings(path: str | os.PathLike) -> dict:
    """Read an EC-Lab settings file (``.mps``): the techniques and their sequences.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.mps`` file.

    Returns
    -------
    dict
        ``source``, ``device``, ``electrode_area_cm2`` (None when EC-Lab's 0.001 cm²
        placeholder or absent), ``cycle_definition``, ``n_techniques`` and ``techniques``:
        one dict per technique in run order with ``index`` (1-based), ``name`` (EC-Lab's
        long name), ``code`` (``GCPL``, ``OCV``, ``CA``, ``CP``, ``PEIS``, ``GEIS``,
        ``CV``, ``CVA``, ``MB``, ``Loop``, ...; None if unknown) and ``sequences``: one
        dict per ``Ns`` with ``current_A`` (A, signed as set; None when not a set current
        or set as a C-rate), ``set_by`` (``"I"`` or ``"C"``), ``duration_s`` (s),
        ``rest_s`` (s, GCPL's rest after the pulse), ``potential_V`` and
        ``potential_vs``, ``E_limit_V`` (V; None for ``pass``), ``charge_limit_C`` (C),
        ``goto_Ns`` and ``n_cycles`` (EC-Lab's ``goto Ns'`` / ``nc cycles``), and
        ``raw`` (every field as written). A ``Loop`` technique also has ``goto_technique``
        and ``loop_times`` (``goto Ne`` / ``nt times``: the block repeats
        ``loop_times`` more times).

    Raises
    ------
    InputError
        Not a settings file, fewer techniques than announced, a table row with the wrong
        number of fields, an unknown current unit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = ("EC-LAB SETTING FILE\\r\\n\\r\\nNumber of linked techniques : 1\\r\\n\\r\\n"
    ...         "Technique : 1\\r\\nChronopotentiometry\\r\\n"
    ...         "Is                  50.000              \\r\\n"
    ...         "unit Is             \\xb5A                  \\r\\n"
    ...         "ts (h:m:s)          0:01:30.0000        \\r\\n")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cp.mps"
    >>> _ = p.write_bytes(text.encode("latin-1"))
    >>> s = read_eclab_settings(p)["techniques"][0]
    >>> s["code"], s["sequences"][0]["current_A"], s["sequences"][0]["duration_s"]
    ('CP', 5e-05, 90.0)
    """
    path = os.fspath(path)
    problem = file_problem(path)
    if problem:
        raise InputError(path, problem, "give the EC-Lab settings file (.mps) of the run")
    text, _ = decode_text(Path(path).read_bytes())
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or lines[0].strip().lstrip("\ufeff") != MAGIC:
        raise InputError(
            path,
            f"this is not an EC-Lab settings file: the first line should read {MAGIC!r}",
            "give the .mps file EC-Lab saved next to the data files of the run",
        )
    header: dict[str, str] = {}
    blocks: list[tuple[int, int]] = []  # (technique number, first line index)
    for k, line in enumerate(lines):
        m = re.match(r"^Technique\s*:\s*(\d+)\s*$", line)
        if m:
            blocks.append((int(m.group(1)), k))
        elif not blocks and " : " in line:
            key, _, value = line.partition(" : ")
            header.setdefault(key.strip(), value.strip())
    n_declared = parse_number(header.get("Number of linked techniques", "") or "")
    if n_declared is None:
        raise InputError(
            path,
            "the settings file does not say how many techniques it links "
            "('Number of linked techniques : N')",
            "save the settings again from EC-Lab",
        )
    if len(blocks) != int(n_declared):
        raise InputError(
            path,
            f"the settings file announces {int(n_declared)} techniques but holds "
            f"{len(blocks)}: it looks truncated or edited",
            "copy the complete .mps file again from the instrument PC",
        )
    techniques = []
    for b, (number, start) in enumerate(blocks):
        stop = blocks[b + 1][1] if b + 1 < len(blocks) else len(lines)
        body = lines[start + 1 : stop]
        if not body or not body[0].strip():
            raise InputError(
                path,
                f"technique {number} has no name line",
                "save the settings again from EC-Lab",
            )
        name = body[0].strip()
        code = _code(name)
        rows = [ln for ln in body[1:] if ln.strip()]
        ns_row = next((ln for ln in rows if ln[:_KEY_WIDTH].strip() == "Ns"), None)
        n_seq = len(ns_row[_KEY_WIDTH:].split()) if ns_row is not None else 1
        table: dict[str, list[str]] = {}
        for ln in rows:
            key = ln[:_KEY_WIDTH].strip()
            if not key:
                continue
            values = _fields(ln, n_seq)
            if n_seq > 1 and len(ln.rstrip()) > _KEY_WIDTH + n_seq * _FIELD_WIDTH + 40:
                raise InputError(
                    path,
                    f"technique {number} ({name}): row {key!r} has more fields than its "
                    f"{n_seq} sequences",
                    "save the settings again from EC-Lab (the table looks edited)",
                )
            # a repeated key (EC-Lab writes "vs." after each potential) keeps the first
            # occurrence under its name and later ones numbered
            k2, j = key, 2
            while k2 in table:
                k2, j = f"{key}#{j}", j + 1
            table[k2] = values
        sequences = []
        for s in range(n_seq):
            raw = {k: v[s] for k, v in table.items()}
            if ns_row is None:
                raw.setdefault("Ns", "0")
            try:
                sequences.append(_sequence(raw, code, path, number))
            except (TypeError, ValueError) as exc:
                raise InputError(
                    path,
                    f"technique {number} ({name}), sequence {s}: a field is not a number ({exc})",
                    "save the settings again from EC-Lab",
                ) from None
        tech: dict = {"index": number, "name": name, "code": code, "sequences": sequences}
        if code == "Loop":
            raw = sequences[0]["raw"]
            ne = parse_number(raw.get("goto Ne", ""))
            nt = parse_number(raw.get("nt times", ""))
            if ne is None or nt is None:
                raise InputError(
                    path,
                    f"technique {number} (Loop) lacks 'goto Ne' or 'nt times'",
                    "save the settings again from EC-Lab",
                )
            tech["goto_technique"] = int(ne)
            tech["loop_times"] = int(nt)
        techniques.append(tech)
    area = None
    area_text = header.get("Electrode surface area")
    if area_text:
        m = re.match(r"^([-+\d.,eE]+)\s*(\S*)", area_text)
        if m:
            value = parse_number(m.group(1))
            if value is not None and value > 0 and abs(value - 0.001) > 1e-12:
                area = value
    return {
        "source": path,
        "device": header.get("Device"),
        "electrode_area_cm2": area,
        "cycle_definition": header.get("Cycle Definition"),
        "n_techniques": len(techniques),
        "techniques": techniques,
    }


def describe_settings(path: str | os.PathLike) -> dict:
    """Summarise an EC-Lab settings file (for ``platescope info``).

    Returns
    -------
    dict
        ``kind`` ("eclab-settings"), ``device``, ``electrode_area_cm2``,
        ``n_techniques``, ``techniques`` (code and name, and per sequence the set
        current in mA and the duration in s where there are ones; a Loop's target and
        count), ``set_currents_mA``, ``source``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ocv.mps"
    >>> _ = p.write_text("EC-LAB SETTING FILE\\n\\nNumber of linked techniques : 1\\n\\n"
    ...                  "Technique : 1\\nOpen Circuit Voltage\\n"
    ...                  "tR (h:m:s)          0:00:30.0000        \\n")
    >>> d = describe_settings(p)
    >>> d["kind"], d["techniques"][0]["code"], d["techniques"][0]["sequences"]
    ('eclab-settings', 'OCV', [{'Ns': 0, 'duration_s': 30.0}])
    """
    s = read_eclab_settings(path)
    techniques = []
    for t in s["techniques"]:
        row: dict = {"index": t["index"], "code": t["code"], "name": t["name"]}
        if t["code"] == "Loop":
            row.update(goto_technique=t["goto_technique"], loop_times=t["loop_times"])
        else:
            seqs = []
            for q in t["sequences"]:
                item: dict = {"Ns": q["Ns"]}
                if q["current_A"] is not None:
                    item["current_mA"] = q["current_A"] * 1e3
                if q["duration_s"] is not None:
                    item["duration_s"] = q["duration_s"]
                seqs.append(item)
            row["sequences"] = seqs
        techniques.append(row)
    return {
        "kind": "eclab-settings",
        "device": s["device"],
        "electrode_area_cm2": s["electrode_area_cm2"],
        "n_techniques": s["n_techniques"],
        "techniques": techniques,
        "set_currents_mA": [i * 1e3 for i in set_currents_A(s)],
        "source": s["source"],
    }


def set_currents_A(settings: dict) -> list[float]:
    """The distinct non-zero currents (A) set in the galvanostatic techniques, in run order.

    Parameters
    ----------
    settings : dict
        The result of :func:`read_eclab_settings`.

    Returns
    -------
    list of float
        Signed currents (A) of GCPL, CP and MB constant-current sequences.

    Examples
    --------
    >>> seq = {"current_A": 4e-4}
    >>> set_currents_A({"techniques": [{"code": "GCPL", "sequences": [seq, seq]}]})
    [0.0004]
    """
    out: list[float] = []
    for tech in settings["techniques"]:
        if tech.get("code") not in ("GCPL", "CP", "MB"):
            continue
        for seq in tech["sequences"]:
            i = seq.get("current_A")
            if i is not None and i != 0 and not any(abs(i - o) <= 1e-12 for o in out):
                out.append(float(i))
    return out


def read_eclab_loops(path: str | os.PathLike) -> list[int]:
    """Row indices where each loop of an EC-Lab run starts (``…_LOOP.txt``).

    Parameters
    ----------
    path : str or os.PathLike
        The loop-index file (first line ``VMP EXPERIMENT LOOP INDEXES``).

    Returns
    -------
    list of int
        Increasing 0-based row indices of the data export, one per loop.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "run_LOOP.txt"
    >>> _ = p.write_text("VMP EXPERIMENT LOOP INDEXES\\r\\n0\\r\\n709\\r\\n")
    >>> read_eclab_loops(p)
    [0, 709]
    """
    path = os.fspath(path)
    problem = file_problem(path)
    if problem:
        raise InputError(path, problem, "give the run's _LOOP.txt file")
    text, _ = decode_text(Path(path).read_bytes())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "VMP EXPERIMENT LOOP INDEXES":
        raise InputError(
            path,
            "not an EC-Lab loop-index file (first line 'VMP EXPERIMENT LOOP INDEXES')",
            "give the _LOOP.txt file EC-Lab wrote with the text export, or leave it out",
        )
    out = []
    for k, ln in enumerate(lines[1:], start=2):
        if not ln.isdigit():
            raise InputError(path, f"line {k} ({ln[:30]!r}) is not a row index", "re-export it")
        out.append(int(ln))
    if any(b <= a for a, b in zip(out[:-1], out[1:], strict=True)):
        raise InputError(path, "the loop indices do not increase", "re-export the loop file")
    return out


def read_voltage_export(path: str | os.PathLike) -> pd.DataFrame:
    """An EC-Lab text export that holds time and potential but no current.

    Parameters
    ----------
    path : str or os.PathLike
        A header-less EC-Lab text export or ``.mpt`` with ``time/s`` and ``Ewe/V``.

    Returns
    -------
    pandas.DataFrame
        ``time_s`` (s) and ``potential_V`` (V), attrs as :func:`platescope.io.read_echem`
        (``source``, ``format``, ...). The current must come from elsewhere
        (:func:`platescope.echem.voltage_record`).

    Raises
    ------
    InputError
        Not an EC-Lab text export, no time or potential column, non-finite values, time
        running backwards.
    """
    from platescope.io._echem import _open_head
    from platescope.io._echem_common import finish
    from platescope.io._echem_eclab_text import read_eclab_text, sniff_mpt, sniff_txt

    spath, head = _open_head(path)
    if not (sniff_mpt(spath, head) or sniff_txt(spath, head)):
        raise InputError(
            spath,
            "not an EC-Lab text export (tab-separated, time/s and Ewe/V columns)",
            "export the record from EC-Lab as text, or give a file with a current column",
        )
    record = read_eclab_text(spath)
    if "current_A" in record.columns:
        raise InputError(
            spath,
            "the file has a current column: read it with platescope.io.read_echem",
            "leave out the applied current ([cell] current_mA / settings) or use the column",
        )
    if "time_s" in record.columns:
        record.columns["current_A"] = np.zeros(len(record.columns["time_s"]))
    df = finish(spath, record)
    df = df.drop(columns=["current_A"])
    df.attrs["units_original"].pop("current_A", None)
    return df


# --------------------------------------------------------------------------- writer
def _mps_table(rows: list[tuple[str, list[str]]]) -> list[str]:
    return [f"{key:<20}" + "".join(f"{v:<20}" for v in values) for key, values in rows]


def _hms(seconds: float) -> str:
    h = int(seconds // 3600)
    m = int((seconds - 3600 * h) // 60)
    s = seconds - 3600 * h - 60 * m
    return f"{h}:{m:02d}:{s:.4f}"


def write_eclab_mps(path: str | os.PathLike, techniques: list[dict]) -> Path:
    """Write an EC-Lab settings file (``.mps``) of GCPL techniques, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (written to a temporary file, then renamed).
    techniques : list of dict
        Each ``{"sequences": [{"current_mA", "duration_s", "rest_s", "goto_Ns",
        "n_cycles"}, ...]}``: one GCPL technique per entry.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from platescope.io._echem_eclab_mps import read_eclab_settings
    >>> seq = {"current_mA": -0.5, "duration_s": 1800, "rest_s": 30, "goto_Ns": 0,
    ...        "n_cycles": 0}
    >>> p = write_eclab_mps(tempfile.mkdtemp() + "/c.mps", [{"sequences": [seq]}])
    >>> read_eclab_settings(p)["techniques"][0]["sequences"][0]["current_A"]
    -0.0005
    """
    lines = [
        "EC-LAB SETTING FILE",
        "",
        f"Number of linked techniques : {len(techniques)}",
        "",
        "Filename : platescope simulator",
        "",
        "Device : platescope simulator",
        "Electrode surface area : 0.001 cm²",
        "Cycle Definition : Charge/Discharge alternance",
        "Turn to OCV between techniques",
        "",
    ]
    for k, tech in enumerate(techniques, start=1):
        seqs = tech["sequences"]
        lines += [f"Technique : {k}", "Galvanostatic Cycling with Potential Limitation"]
        lines += _mps_table(
            [
                ("Ns", [str(n) for n in range(len(seqs))]),
                ("Set I/C", ["I"] * len(seqs)),
                ("Is", [f"{s['current_mA']:.3f}" for s in seqs]),
                ("unit Is", ["mA"] * len(seqs)),
                ("vs.", ["<None>"] * len(seqs)),
                ("t1 (h:m:s)", [_hms(s["duration_s"]) for s in seqs]),
                ("EM (V)", ["pass"] * len(seqs)),
                ("tR (h:m:s)", [_hms(s["rest_s"]) for s in seqs]),
                ("goto Ns'", [str(s["goto_Ns"]) for s in seqs]),
                ("nc cycles", [str(s["n_cycles"]) for s in seqs]),
            ]
        )
        lines.append("")
    from platescope._atomic import atomic_write_text

    return atomic_write_text(path, "\r\n".join(lines) + "\r\n", encoding="latin-1")
