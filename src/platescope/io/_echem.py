"""Electrochemistry readers: a registry of vendor formats behind :func:`read_echem`.

Each entry of :data:`READERS` is ``(name, sniff, reader)``: ``sniff(path, head)``
looks at the first bytes (content first; the extension is only a hint for formats
without a signature) and ``reader(path)`` returns a
:class:`~platescope.io._echem_common.Record` that :func:`read_echem` validates and
turns into the Echem ``DataFrame``. One module per vendor, as in yadg's
``extractors/`` or ixdat's ``readers/``:

=================  =========================================================
``eclab-mpr``      BioLogic EC-Lab binary ``.mpr`` (needs ``platescope[mpr]``)
``eclab-mpt``      BioLogic EC-Lab text export with header (``.mpt``)
``gamry-dta``      Gamry Framework ``.DTA``
``chi-txt``        CH Instruments text export (recognised, refused with reason)
``eclab-txt``      EC-Lab text export without header (first line = columns)
``csv``            ``time_s,potential_V,current_A`` tables, or EC-Lab names
=================  =========================================================

Neware ``.nda``/``.ndax``, Zilien ``.tsv``, ZPlot/ZView impedance files, EC-Lab
settings (``.mps``) and loop-index files are recognised and refused with a message
saying so.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, file_problem
from platescope.io._echem_chi import read_chi, sniff_chi
from platescope.io._echem_common import Record, finish, looks_binary
from platescope.io._echem_csv import read_csv, sniff_csv
from platescope.io._echem_eclab_mpr import read_eclab_mpr, sniff_mpr
from platescope.io._echem_eclab_text import read_eclab_text, sniff_mpt, sniff_txt
from platescope.io._echem_gamry import read_gamry, sniff_gamry

HEAD_BYTES = 8192

Sniffer = Callable[[str, bytes], bool]
Reader = Callable[[str], Record]


# --------------------------------------------------------------------------- refusals
def _refuse(problem: str, fix: str) -> Reader:
    def reader(path: str) -> Record:
        raise InputError(path, problem, fix)

    return reader


def _sniff_neware(path: str, head: bytes) -> bool:
    if head.startswith(b"NEWARE"):
        return True
    if head.startswith(b"PK\x03\x04") and path.lower().endswith(".ndax"):
        return True
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                return "data.ndc" in archive.namelist()
        except Exception:  # any unreadable zip is simply not a Neware file
            return False
    return False


def _sniff_zilien(path: str, head: bytes) -> bool:
    return head.startswith(b"num_header_lines\t")


def _sniff_zplot(path: str, head: bytes) -> bool:
    text = head[:200].lstrip(b"\xef\xbb\xbf").lstrip(b'"')
    return text.startswith(b"Z60W Data File") or text.startswith(b"ZPlot")


def _sniff_mps(path: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"EC-LAB SETTING FILE")


def _sniff_loop(path: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"VMP EXPERIMENT LOOP INDEXES")


READERS: list[tuple[str, Sniffer, Reader]] = [
    ("eclab-mpr", sniff_mpr, read_eclab_mpr),
    ("eclab-mpt", sniff_mpt, read_eclab_text),
    ("gamry-dta", sniff_gamry, read_gamry),
    (
        "eclab-mps",
        _sniff_mps,
        _refuse(
            "this is an EC-Lab settings file (.mps): it holds the protocol, not measured data",
            "read the .mpr or .mpt data file of the run instead",
        ),
    ),
    (
        "eclab-loop",
        _sniff_loop,
        _refuse(
            "this is an EC-Lab loop-index file (…_LOOP.txt): it holds row numbers, not data",
            "read the data file of the run (.mpr, .mpt or the text export) instead",
        ),
    ),
    (
        "neware",
        _sniff_neware,
        _refuse(
            "Neware .nda/.ndax files are not supported",
            "export the record from Neware BTS as CSV with time_s, potential_V, current_A "
            "(or convert it with the NewareNDA package and save a CSV)",
        ),
    ),
    (
        "zilien-tsv",
        _sniff_zilien,
        _refuse(
            "Zilien EC-MS .tsv files (Spectro Inlets) are not supported",
            "read the EC-Lab .mpt/.mpr files the potentiostat wrote during the same run",
        ),
    ),
    (
        "zplot",
        _sniff_zplot,
        _refuse(
            "this is a ZPlot/ZView (Z60W) impedance file: the technique is impedance, which "
            "platescope does not read",
            "pass the time-domain record (potential and current against time) instead",
        ),
    ),
    ("chi-txt", sniff_chi, read_chi),
    ("eclab-txt", sniff_txt, read_eclab_text),
    ("csv", sniff_csv, read_csv),
]


def _open_head(path: str | os.PathLike) -> tuple[str, bytes]:
    p = Path(path)
    spath = os.fspath(path)
    problem = file_problem(p)
    if problem == "does not exist":
        raise InputError(spath, "the file does not exist", "check the path")
    if problem:
        raise InputError(spath, f"the path {problem}", "give the data file's path")
    try:
        with open(p, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(spath, f"the file cannot be read ({exc.strerror})", "check it") from None
    if not head:
        raise InputError(spath, "the file is empty", "export the record again")
    return spath, head


def _pick_reader(path: str, head: bytes) -> tuple[str, Reader]:
    for name, sniff, reader in READERS:
        if sniff(path, head):
            return name, reader
    kind = "binary data" if looks_binary(head) else "text"
    raise InputError(
        path,
        f"not a recognised electrochemistry file ({kind} in no known layout)",
        "give an EC-Lab .mpr/.mpt/.txt, a Gamry .DTA, or a CSV with columns "
        "time_s, potential_V, current_A",
    )


def read_echem(
    path: str | os.PathLike,
    *,
    timezone: str | None = None,
    technique: str | None = None,
) -> pd.DataFrame:
    """Read a potentiostat record (EC-Lab, Gamry, CSV) into the Echem DataFrame.

    The format is found from the file's content (see :data:`READERS`).

    Parameters
    ----------
    path : str or os.PathLike
        The data file.
    timezone : str, optional
        IANA name (``"Europe/London"``) of the instrument PC's clock, used to turn the
        wall-clock start printed in the file into UTC. Without it the wall clock is
        taken as UTC and ``attrs["t0_assumed_utc"]`` is ``True``.
    technique : str, optional
        Technique of the record (``"Chronopotentiometry"``, ``"CP"``, ``"OCV"`` ...).
        Fills ``attrs["technique"]`` when the file states none; when the file states a
        different technique an InputError is raised. ``"OCV"`` lets a record without a
        current column be read with zero current.

    Returns
    -------
    pandas.DataFrame
        Columns, float64 unless noted:

        - ``time_s`` — s since ``attrs["t0"]`` (the acquisition start); the first value
          need not be 0; never decreasing.
        - ``potential_V`` — working-electrode potential, V (vs. the reference used).
        - ``current_A`` — A, cathodic (reduction, plating) current negative.
        - ``cycle`` (int64, when known) — cycle number as the file counts it (EC-Lab
          from 0, Gamry ``CURVEn`` from 1).
        - ``step`` (int64, when known) — EC-Lab sequence number ``Ns``.
        - ``charge_C`` (when known) — the instrument's charge counter ``(Q-Qo)``, C;
          EC-Lab restarts it at each loop of a linked-technique sequence.

        ``attrs``: ``t0`` (UTC ISO 8601 string or None), ``t0_assumed_utc``,
        ``t0_local`` (wall clock as printed), ``timezone``, ``technique`` (name),
        ``technique_code`` (``"CP"``, ``"GCPL"`` ...), ``instrument``, ``format``,
        ``source`` (path), ``electrode_area_cm2`` (cm² or None; EC-Lab's factory value
        0.001 cm² counts as not stated, the text is kept in
        ``electrode_area_stated``), ``units_original`` (standard column → vendor
        column), plus format notes (``decimal``, ``encoding``, ``current_derived`` ...).

    Raises
    ------
    platescope.InputError
        Missing, empty, truncated or corrupt file; unknown format; impedance records;
        no time/potential/current; non-finite values; time running backwards; unknown
        ``timezone``; a ``technique`` that contradicts the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cp.csv"
    >>> _ = p.write_text("time_s,potential_V,current_A\\n0,0.10,-1e-4\\n1,-0.05,-1e-4\\n")
    >>> df = read_echem(p)
    >>> list(df.columns), float(df["current_A"].iloc[0])
    (['time_s', 'potential_V', 'current_A'], -0.0001)
    """
    spath, head = _open_head(path)
    name, reader = _pick_reader(spath, head)
    try:
        record = reader(spath)
    except InputError:
        raise
    except (UnicodeDecodeError, MemoryError) as exc:
        raise InputError(
            spath, f"the file cannot be decoded as {name} ({exc.__class__.__name__})", "re-export"
        ) from None
    return finish(spath, record, timezone=timezone, technique=technique)


def describe_echem(path: str | os.PathLike) -> dict:
    """Summarise what an electrochemistry file holds (for ``platescope info``).

    Parameters
    ----------
    path : str or os.PathLike
        The data file.

    Returns
    -------
    dict
        ``kind`` ("echem"), ``format``, ``instrument``, ``technique``, ``n_points``,
        ``time_s`` / ``potential_V`` / ``current_A`` as ``[min, max]`` (s, V, A),
        ``columns``, ``units_original``, ``t0`` (UTC ISO 8601 or None),
        ``t0_assumed_utc``, ``electrode_area_cm2``, ``n_cycles`` (when known),
        ``source``.

    Raises
    ------
    platescope.InputError
        As :func:`read_echem`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cp.csv"
    >>> _ = p.write_text("time_s,potential_V,current_A\\n0,0.10,-1e-4\\n1,-0.05,-1e-4\\n")
    >>> info = describe_echem(p)
    >>> info["kind"], info["n_points"], info["time_s"]
    ('echem', 2, [0.0, 1.0])
    """
    df = read_echem(path)

    def span(col: str) -> list[float]:
        values = df[col].to_numpy(dtype=np.float64)
        return [float(values.min()), float(values.max())]

    info = {
        "kind": "echem",
        "format": df.attrs.get("format"),
        "instrument": df.attrs.get("instrument"),
        "technique": df.attrs.get("technique"),
        "n_points": int(len(df)),
        "time_s": span("time_s"),
        "potential_V": span("potential_V"),
        "current_A": span("current_A"),
        "columns": list(df.columns),
        "units_original": dict(df.attrs.get("units_original", {})),
        "t0": df.attrs.get("t0"),
        "t0_assumed_utc": df.attrs.get("t0_assumed_utc"),
        "electrode_area_cm2": df.attrs.get("electrode_area_cm2"),
        "source": df.attrs.get("source"),
    }
    if "cycle" in df.columns:
        info["n_cycles"] = int(df["cycle"].nunique())
    return info
