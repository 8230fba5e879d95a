"""SECCM spot data: a lazy view of many galvanostatic spots, whatever the file layout.

A combinatorial SECCM run is many spots (hops) × conditions. :func:`read_spots` opens
one of three layouts (docs/seccm_combinatorial.md) and returns a :class:`SpotSet`:
an index of the spots (one small row each) plus what is needed to read any one spot's
E–t record on demand. Nothing but the index is held in memory, so 10,000 spots never
sit in memory at once; a :class:`SpotSet` is picklable and can be cut into batches
(:meth:`SpotSet.batches`) that worker processes read independently.

=================  ==============================================================
``platescope``     ``spots.csv`` (``spot,x_um,y_um,condition,current_density_mA_cm2,
                   path`` [+ ``area_cm2``, ``duration_s``]) + one echem file per spot
                   in any format :func:`platescope.io.read_echem` accepts
``echemtips``      eChemTips recording (schema 2): one CSV ``elapsed_s, x_um, y_um,
                   z_um, voltage1_v, …, current1_na, …, line_number, scan_pixel`` +
                   its JSON sidecar (scan grid, per-pixel conditions)
                   (:mod:`platescope.io._spots_echemtips`)
``wec-spm``        WEC-SPM LabVIEW export: row-per-channel ``.tsv`` + ``.set``
                   settings (:mod:`platescope.io._spots_wecspm`)
=================  ==============================================================

Every spot record is returned as the Echem DataFrame (``time_s`` from contact,
``potential_V``, ``current_A`` with cathodic current negative); a spot that cannot be
read raises :class:`platescope.InputError` naming the spot, the file and the fix, so a
caller can skip it and carry on with the others.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, shown_names
from platescope.io import _spots_echemtips as et
from platescope.io import _spots_wecspm as wec
from platescope.io._spotset import INDEX_COLUMNS, Spot, SpotSet

__all__ = ["SPOT_LAYOUTS", "Spot", "SpotSet", "describe_spots", "looks_like_spots", "read_spots"]

REQUIRED_PLATESCOPE = ("spot", "x_um", "y_um", "condition", "current_density_mA_cm2", "path")


# --------------------------------------------------------------------------- platescope
def _open_platescope(path: Path, settings: Path | None) -> SpotSet:
    try:
        index = pd.read_csv(path, dtype={"path": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(
            path,
            f"the spot index cannot be read as CSV ({type(err).__name__}: {str(err).strip()[:120]})",
            "write it as comma-separated text with a header line "
            "spot,x_um,y_um,condition,current_density_mA_cm2,path",
        ) from None
    index.columns = [str(c).strip() for c in index.columns]
    missing = [c for c in REQUIRED_PLATESCOPE if c not in index.columns]
    if missing:
        raise InputError(
            path,
            f"the spot index lacks the column(s) {', '.join(missing)} (found: {shown_names(index.columns)})",
            "give the columns spot,x_um,y_um,condition,current_density_mA_cm2,path "
            "(optional area_cm2, duration_s)",
        )
    if index.empty:
        raise InputError(path, "the spot index lists no spots", "add one row per spot")
    if index["spot"].duplicated().any():
        dup = index.loc[index["spot"].duplicated(), "spot"].iloc[0]
        raise InputError(
            path, f"spot id {dup!r} appears more than once", "give every spot a unique id"
        )
    for col in ("x_um", "y_um", "current_density_mA_cm2", "area_cm2", "duration_s"):
        if col not in index.columns:
            index[col] = np.nan
            continue
        values = pd.to_numeric(index[col], errors="coerce")
        bad = values.isna() & index[col].notna()
        if bad.any() or (col in ("x_um", "y_um") and values.isna().any()):
            k = int(np.flatnonzero(bad | (values.isna() if col in ("x_um", "y_um") else bad))[0])
            raise InputError(
                path,
                f"row {k + 2} (spot {index['spot'].iloc[k]!r}): {col} = {index[col].iloc[k]!r} is not a number",
                f"write {col} as a number"
                + (" or leave it empty" if col not in ("x_um", "y_um") else ""),
            )
        index[col] = values.astype(float)
    if index["path"].isna().any():
        k = int(np.flatnonzero(index["path"].isna().to_numpy())[0])
        raise InputError(
            path,
            f"row {k + 2} (spot {index['spot'].iloc[k]!r}) has no path",
            "name the spot's echem file",
        )
    base = path.parent
    index["path"] = [
        str(p if Path(p).is_absolute() else base / p) for p in index["path"].str.strip()
    ]
    index = index[list(INDEX_COLUMNS) + [c for c in index.columns if c not in INDEX_COLUMNS]]
    present = np.fromiter((os.path.isfile(p) for p in index["path"]), bool, len(index))
    if len(index) and not present.any():
        first = Path(index["path"].iloc[0])
        raise InputError(
            path,
            f"none of the {len(index)} spot files it names exists (the first is "
            f"{first.name!r} in {first.parent})",
            "copy the spot files next to the index, or correct the paths in its 'path' column",
        )
    return SpotSet(
        "platescope", path, None, index.reset_index(drop=True), {"technique": "galvanostatic"}
    )


def _read_platescope(spots: SpotSet, row) -> pd.DataFrame:
    from platescope.io._echem import read_echem

    path = row["path"]
    p = Path(path)
    if not p.is_file():
        raise InputError(
            path,
            "the spot index names this file but it does not exist",
            f"copy the file next to {spots.source.name} or correct its path in the index",
        )
    with open(p, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size:
            fh.seek(size - 1)
            last = fh.read(1)
        else:
            last = b""
    if size and last not in (b"\n", b"\r") and p.suffix.lower() in (".csv", ".txt", ".tsv", ".mpt"):
        raise InputError(
            path,
            "the file does not end with a line break: its last line looks cut off (truncated file)",
            "copy the complete file again from the instrument PC",
        )
    df = read_echem(p)
    t = df["time_s"].to_numpy(float)
    out = pd.DataFrame(
        {
            "time_s": t - t[0],
            "potential_V": df["potential_V"].to_numpy(float),
            "current_A": df["current_A"].to_numpy(float),
        }
    )
    out.attrs.update(df.attrs)
    return out


#: The header line of the per-spot CSV files the batch reader parses together.
_PLAIN_HEADER = b"time_s,potential_V,current_A"
_NA_VALUES = ["", "nan", "NaN", "NAN", "-nan", "inf", "-inf"]


def read_platescope_arrays(spots: SpotSet) -> list:
    """A batch's per-spot CSV records parsed together (one ``read_csv`` call).

    Files whose first line is exactly ``time_s,potential_V,current_A``, that end with
    a line break and hold no carriage return are read as bytes, their data lines joined
    and parsed once with the options :func:`platescope.io.read_echem` uses. A record is
    taken from that parse only when read_echem would return it unchanged: every
    value finite, |E| ≤ 20 V, |I| ≤ 100 A, time never decreasing and no isolated
    potential spike (read_echem would drop or refuse such samples). Every other spot
    is left to :func:`_read_platescope` (``None`` in its place).

    Returns
    -------
    list
        Per spot: ``(time_s, potential_V, current_A)`` (t − t[0], s; V; A) or None.
    """
    import io

    from platescope.io._echem_common import PHYSICAL_LIMITS
    from platescope.io._spotbatch import isolated_spike_rows

    paths = spots.index["path"].tolist()
    out: list = [None] * len(paths)
    blobs, owners, counts = [], [], []
    for pos, path in enumerate(paths):
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        nl = data.find(b"\n")
        if (
            not str(path).lower().endswith(".csv")
            or nl < 0
            or data[:nl] != _PLAIN_HEADER
            or not data.endswith(b"\n")
            or b"\r" in data
        ):
            continue
        body = data[nl + 1 :]
        if b"\n\n" in body or body.startswith(b"\n"):
            continue
        blobs.append(body)
        owners.append(pos)
        counts.append(body.count(b"\n"))
    if not blobs:
        return out
    try:
        frame = pd.read_csv(
            io.BytesIO(b"".join(blobs)),
            sep=",",
            header=None,
            dtype=np.float64,
            engine="c",
            skip_blank_lines=False,
            na_filter=True,
            keep_default_na=False,
            na_values=_NA_VALUES,
        )
    except (ValueError, TypeError, pd.errors.ParserError):
        return out  # some file is malformed: each spot's own reader names it
    counts_a = np.asarray(counts, dtype=np.int64)
    if frame.shape != (int(counts_a.sum()), 3):
        return out
    t, e, i = (frame[k].to_numpy(np.float64) for k in range(3))
    starts = np.concatenate([[0], np.cumsum(counts_a)[:-1]])
    bad = ~(np.isfinite(t) & np.isfinite(e) & np.isfinite(i))
    with np.errstate(invalid="ignore"):
        bad |= np.abs(e) > PHYSICAL_LIMITS["potential_V"]
        bad |= np.abs(i) > PHYSICAL_LIMITS["current_A"]
    back = np.zeros(t.size, dtype=bool)
    back[1:] = np.diff(t) < 0
    back[starts] = False  # the first sample of a file follows another file's last
    flag = bad | back
    spoilt = np.add.reduceat(flag.astype(np.int64), starts) > 0 if t.size else np.zeros(0, bool)
    spoilt |= counts_a < 3
    for m in np.unique(counts_a[~spoilt]):
        rows = np.flatnonzero(~spoilt & (counts_a == m))
        take = starts[rows][:, None] + np.arange(m)[None, :]
        spoilt[rows[isolated_spike_rows(e[take])]] = True
    for k in np.flatnonzero(~spoilt):
        a, b = int(starts[k]), int(starts[k] + counts_a[k])
        out[owners[k]] = (t[a:b] - t[a], e[a:b], i[a:b])
    return out


# --------------------------------------------------------------------------- registry
def _readers():
    return {
        "platescope": (_open_platescope, _read_platescope),
        "echemtips": (et.open_echemtips, et.read_echemtips_spot),
        "wec-spm": (wec.open_wecspm, wec.read_wecspm_spot),
    }


#: Accepted layout names.
SPOT_LAYOUTS = ("platescope", "echemtips", "wec-spm")


def _guess_layout(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".set"):
        return "wec-spm"
    if suffix == ".json":
        return "echemtips"
    if suffix == ".csv":
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline().lstrip("\ufeff").strip().lower()
        cols = {c.strip() for c in header.split(",")}
        if "elapsed_s" in cols and "scan_pixel" in cols:
            return "echemtips"
        if {"spot", "path"} <= cols:
            return "platescope"
    raise InputError(
        path,
        "cannot tell which SECCM spot layout this file is",
        "give a platescope spots.csv (spot,…,path), an eChemTips recording CSV with scan_pixel, "
        "or a WEC-SPM .tsv; or name the layout ([seccm] layout = ...)",
    )


def looks_like_spots(path: str | os.PathLike) -> str | None:
    """The SECCM spot layout a file looks like (by its first bytes), or ``None``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spots.csv"
    >>> _ = p.write_text("spot,x_um,y_um,condition,current_density_mA_cm2,path\\n")
    >>> looks_like_spots(p)
    'platescope'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    first = text.split("\n", 1)[0].strip()
    if suffix == ".csv":
        cols = {c.strip().strip('"') for c in first.split(",")}
        if {"elapsed_s", "scan_pixel"} <= cols:
            return "echemtips"
        if set(REQUIRED_PLATESCOPE) <= cols:
            return "platescope"
        return None
    if suffix == ".tsv":
        label = first.split("\t", 1)[0].strip()
        from platescope.io._spots_wecspm import _channel

        try:
            return "wec-spm" if "\t" in first and _channel(label) is not None else None
        except ValueError:
            return None
    if suffix == ".set":
        return "wec-spm" if "feedback type" in text.lower() or "hopping" in text.lower() else None
    if suffix == ".json":
        return "echemtips" if '"recording_schema_version"' in text and "scan_grid" in text else None
    return None


def read_spots(
    path: str | os.PathLike,
    *,
    layout: str | None = None,
    settings: str | os.PathLike | None = None,
) -> SpotSet:
    """Open the spots of a combinatorial SECCM run (lazy: only the index is read).

    Parameters
    ----------
    path : str or os.PathLike
        platescope: the ``spots.csv`` index; eChemTips: the recording ``.csv`` (or its
        ``.json``); WEC-SPM: the ``.tsv`` (or its ``.set``).
    layout : {"platescope", "echemtips", "wec-spm"}, optional
        Found from the file when not given.
    settings : str or os.PathLike, optional
        The sidecar JSON (eChemTips) or ``.set`` file (WEC-SPM); default: the file with
        the same name stem next to ``path``.

    Returns
    -------
    SpotSet

    Raises
    ------
    platescope.InputError
        Unknown layout, missing or malformed index/sidecar/settings, no spots.

    Examples
    --------
    >>> import tempfile
    >>> from platescope.simulate import simulate
    >>> exp = simulate("seccm-combinatorial", tempfile.mkdtemp(),
    ...                overrides={"n_conditions": 2, "n_repeats": 2})
    >>> spots = read_spots(exp.parent / "spots.csv")
    >>> len(spots), sorted(spots.index["condition"].unique().tolist())
    (4, [0, 1])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "the file does not exist", "check the path")
    layout = layout or _guess_layout(path)
    if layout not in SPOT_LAYOUTS:
        raise InputError(
            path, f"unknown SECCM spot layout {layout!r}", f"use one of {', '.join(SPOT_LAYOUTS)}"
        )
    opener = _readers()[layout][0]
    spots = opener(path, Path(settings) if settings else None)
    if len(spots) == 0:
        raise InputError(path, "the run holds no spots", "check that the recording is complete")
    return spots


def describe_spots(
    path: str | os.PathLike,
    *,
    layout: str | None = None,
    settings: str | os.PathLike | None = None,
) -> dict:
    """Summarise a combinatorial SECCM run (for ``platescope info``).

    Returns
    -------
    dict
        ``kind`` ("seccm_spots"), ``layout``, ``n_spots``, ``n_conditions``,
        ``conditions`` (id, spot count, mean current density), ``x_um``/``y_um`` ranges,
        ``duration_s`` (programmed record length), ``columns`` and ``units`` of each
        spot's record.

    Examples
    --------
    >>> import tempfile
    >>> from platescope.simulate import simulate
    >>> exp = simulate("seccm-combinatorial", tempfile.mkdtemp(),
    ...                overrides={"n_conditions": 2, "n_repeats": 1})
    >>> describe_spots(exp.parent / "spots.csv")["n_spots"]
    2
    """
    return read_spots(path, layout=layout, settings=settings).describe()
