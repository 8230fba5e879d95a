"""BioLogic EC-Lab binary ``.mpr`` files, through the optional GPL package ``galvani``.

galvani is imported only here, only when an ``.mpr`` is read (``pip install
platescope[mpr]``). Reader yields ``time_s`` (``time/s``, s since the acquisition start
in the LOG module), ``potential_V`` (``Ewe/V``, else ``<Ewe>/V``), ``current_A``
(``I/mA``, else ``<I>/mA``, in A, cathodic negative; GCPL files store no current
column and get ``dq/mA.h / Δt``, the number EC-Lab's text export prints as
``<I>/mA``), and when present ``cycle`` (``cycle number``, else ``half cycle // 2``),
``step`` (``Ns``), ``charge_C`` (``(Q-Qo)/C`` or ``(Q-Qo)/mA.h`` × 3.6). The technique
comes from the first byte of the settings module.
"""

from __future__ import annotations

import numpy as np

from platescope._errors import InputError
from platescope.io._echem_common import (
    ECLAB_ALIASES,
    IMPEDANCE_CODES,
    TECHNIQUE_NAMES,
    Record,
    current_from_charge_steps,
    impedance_error,
    match_columns,
)

MAGIC = b"BIO-LOGIC MODULAR FILE"

# First byte of the "VMP Set" module -> technique code. Checked against the .mpt twins
# in data/echem/yadg (GCPL, CV, CA, CP, PEIS, LSV, MB) and data/echem/datalab_LiLi (GEIS);
# the other ids follow yadg's table.
_TECHNIQUE_IDS = {
    0x04: "GCPL",
    0x06: "CV",
    0x0B: "OCV",
    0x16: "MP",
    0x18: "CA",
    0x19: "CP",
    0x1C: "WAIT",
    0x1D: "PEIS",
    0x1E: "GEIS",
    0x30: "CV",
    0x32: "ZIR",
    0x33: "CV",
    0x6C: "LSV",
    0x75: "coV",
    0x76: "coC",
    0x77: "GCPL",
    0x7F: "MB",
}

_FIX_EXPORT = "export the run as text from EC-Lab (Export as text → .mpt) and read that file"


def sniff_mpr(path: str, head: bytes) -> bool:
    """``True`` for an EC-Lab binary file (magic ``BIO-LOGIC MODULAR FILE``)."""
    return head.startswith(MAGIC)


def _load(path: str):
    try:
        from galvani import BioLogic
    except ImportError:
        raise InputError(
            path,
            "reading EC-Lab .mpr files needs the optional package galvani, which is not installed",
            "pip install 'platescope[mpr]' (galvani, GPL-3.0), or " + _FIX_EXPORT,
        ) from None
    try:
        with open(path, "rb") as handle:
            return BioLogic.MPRfile(handle)
    except NotImplementedError as exc:
        # galvani: "Column ID 112 after column half cycle is unknown"
        raise InputError(
            path,
            f"the file holds a data field galvani does not know ({exc})",
            "update galvani, or " + _FIX_EXPORT,
        ) from None
    except (ValueError, OSError, AssertionError, KeyError, IndexError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            path,
            f"galvani could not read this .mpr file ({detail}); it may be truncated, "
            "corrupt or from an EC-Lab version galvani does not support",
            "copy the file again from the instrument PC, or " + _FIX_EXPORT,
        ) from None


def read_eclab_mpr(path: str) -> Record:
    """Read an EC-Lab ``.mpr`` file.

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
        galvani missing, unknown column ids, corrupt/truncated file, impedance records.
    """
    mpr = _load(path)
    data = mpr.data
    names = list(data.dtype.names or ())
    settings = [m for m in mpr.modules if m["shortname"].strip() == b"VMP Set"]
    code = None
    if settings and len(settings[0]["data"]) > 0:
        code = _TECHNIQUE_IDS.get(int(settings[0]["data"][0]))
    technique = TECHNIQUE_NAMES.get(code, code) if code else None
    if code in IMPEDANCE_CODES:
        raise impedance_error(path, technique)
    found = match_columns(names, ECLAB_ALIASES)
    if "_freq_Hz" in found:
        instantaneous = (
            "potential_V" in found
            and not found["potential_V"][1].startswith("<")
            and "current_A" in found
            and not found["current_A"][1].startswith("<")
        )
        if not instantaneous:
            raise impedance_error(path, technique or "freq/Hz column, no Ewe/V and I/mA")

    columns: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    extra: dict = {}
    for key, (_, vendor, factor) in found.items():
        if key.startswith("_"):
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # inf: refused later
            columns[key] = np.asarray(data[vendor], dtype=np.float64) * factor
        units[key] = vendor
    for key, flag in (("control_mode", "mode"), ("ox_red", "ox/red")):
        try:
            values = np.asarray(mpr.get_flag(flag), dtype=np.float64)
        except (AttributeError, KeyError, ValueError, TypeError):
            continue
        if values.shape == (len(data),):
            columns[key] = values
            units[key] = f"flags: {flag}"
    if "current_A" not in columns and "_dq_C" in found and "time_s" in columns:
        _, vendor, factor = found["_dq_C"]
        with np.errstate(over="ignore", invalid="ignore"):
            dq = np.asarray(data[vendor], dtype=np.float64) * factor
        columns["current_A"] = current_from_charge_steps(columns["time_s"], dq)
        units["current_A"] = f"{vendor} / Δt (as EC-Lab's <I>/mA)"
        extra["current_derived"] = "charge increment per sampling interval"
    if "cycle" not in columns and "_half_cycle" in found:
        half = np.asarray(data[found["_half_cycle"][1]], dtype=np.float64)
        columns["cycle"] = np.floor(half / 2.0)
        units["cycle"] = "half cycle // 2"
        extra["cycle_derived"] = "half cycle // 2 (EC-Lab charge/discharge alternance)"
    t0_local = getattr(mpr, "timestamp", None)
    if t0_local is None:
        start = getattr(mpr, "startdate", None)
        if start is not None:
            extra["start_date"] = start.isoformat()
    extra["mpr_version"] = int(getattr(mpr, "version", -1))
    return Record(
        fmt="eclab-mpr",
        columns=columns,
        units_original=units,
        technique=technique,
        instrument="BioLogic (EC-Lab .mpr)",
        t0_local=t0_local,
        electrode_area_cm2=None,
        found_columns=names,
        current_hint="need I/mA, <I>/mA or dq/mA.h",
        extra_attrs=extra,
    )
