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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError, shown_names

__all__ = ["SPOT_LAYOUTS", "Spot", "SpotSet", "describe_spots", "looks_like_spots", "read_spots"]

#: Columns of every :attr:`SpotSet.index` (locator columns of a layout start with ``_``).
INDEX_COLUMNS = (
    "spot",
    "x_um",
    "y_um",
    "condition",
    "current_density_mA_cm2",
    "area_cm2",
    "duration_s",
    "path",
)
REQUIRED_PLATESCOPE = ("spot", "x_um", "y_um", "condition", "current_density_mA_cm2", "path")


@dataclass(frozen=True)
class Spot:
    """One spot of a :class:`SpotSet`: its index row and a way to read its record.

    Attributes
    ----------
    spot : int or str
        Spot id (platescope: the ``spot`` column; eChemTips: ``scan_pixel``;
        WEC-SPM: hop number from 0 in acquisition order).
    x_um, y_um : float
        Position, µm.
    condition : int or str
        Condition label.
    current_density_mA_cm2 : float
        Current density magnitude of the spot, mA cm⁻² (NaN when unknown).
    area_cm2 : float
        Footprint area, cm² (NaN when unknown).
    path : str
        The file holding the record.
    """

    spot: Any
    x_um: float
    y_um: float
    condition: Any
    current_density_mA_cm2: float
    area_cm2: float
    duration_s: float
    path: str
    _set: SpotSet = field(repr=False, compare=False)
    _pos: int = field(repr=False, compare=False)

    def read(self) -> pd.DataFrame:
        """The spot's E–t record (see :meth:`SpotSet.read`)."""
        return self._set.read(self._pos)


@dataclass(frozen=True, eq=False)
class SpotSet:
    """A lazy, picklable view of the spots of one combinatorial run.

    Attributes
    ----------
    layout : str
        ``"platescope"``, ``"echemtips"`` or ``"wec-spm"``.
    source : pathlib.Path
        The index (platescope) or recording file (vendor layouts).
    settings : pathlib.Path or None
        The sidecar/settings file of a vendor layout.
    index : pandas.DataFrame
        One row per spot: ``spot``, ``x_um``, ``y_um`` (µm), ``condition``,
        ``current_density_mA_cm2`` (mA cm⁻², NaN if unknown), ``area_cm2`` (cm², NaN if
        unknown), ``duration_s`` (programmed record length, s, NaN if unknown),
        ``path`` (file holding the record) and private locator columns (``_*``).
    meta : dict
        What the layout's metadata says (program, grid, status …).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s0.csv").write_text("time_s,potential_V,current_A\\n" +
    ...     "".join(f"{k * 0.1:.1f},{-0.001 * k:.4f},-1e-10\\n" for k in range(30)))
    >>> _ = (d / "spots.csv").write_text(
    ...     "spot,x_um,y_um,condition,current_density_mA_cm2,path\\n0,0,0,A,0.5,s0.csv\\n")
    >>> spots = read_spots(d / "spots.csv")
    >>> len(spots), spots.layout, len(next(iter(spots)).read())
    (1, 'platescope', 30)
    """

    layout: str
    source: Path
    settings: Path | None
    index: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self) -> Iterator[Spot]:
        for pos in range(len(self.index)):
            yield self.spot(pos)

    def spot(self, pos: int) -> Spot:
        """The :class:`Spot` at position ``pos`` (0-based, index order)."""
        r = self.index.iloc[pos]
        return Spot(
            spot=_py(r["spot"]),
            x_um=float(r["x_um"]),
            y_um=float(r["y_um"]),
            condition=_py(r["condition"]),
            current_density_mA_cm2=float(r["current_density_mA_cm2"]),
            area_cm2=float(r["area_cm2"]),
            duration_s=float(r["duration_s"]),
            path=str(r["path"]),
            _set=self,
            _pos=pos,
        )

    def read(self, pos: int) -> pd.DataFrame:
        """Read the E–t record of the spot at position ``pos``.

        Returns
        -------
        pandas.DataFrame
            ``time_s`` (s from contact, first sample 0), ``potential_V`` (V),
            ``current_A`` (A, cathodic negative); ``attrs``: ``source``, ``spot``,
            ``condition``, ``layout``, ``technique``.

        Raises
        ------
        platescope.InputError
            The spot's file is missing, truncated or corrupt, or holds no contact
            segment; the message names the spot and the file.
        """
        row = self.index.iloc[pos]
        reader = _READERS[self.layout]
        try:
            df = reader(self, row)
        except InputError as err:
            spot = _py(row["spot"])
            prefix = f"spot {spot}: "
            problem = err.problem if err.problem.startswith(prefix) else prefix + err.problem
            raise InputError(err.path or row["path"], problem, err.fix) from None
        _check_record(df, row, self.layout)
        df.attrs.update(
            spot=_py(row["spot"]),
            condition=_py(row["condition"]),
            layout=self.layout,
        )
        df.attrs.setdefault("technique", "Chronopotentiometry")
        return df

    def subset(self, positions: Sequence[int] | slice) -> SpotSet:
        """A SpotSet of some positions only (shares files, copies the small index)."""
        idx = (
            self.index.iloc[positions]
            if isinstance(positions, slice)
            else self.index.iloc[list(positions)]
        )
        return replace(self, index=idx.reset_index(drop=True))

    def batches(self, size: int) -> Iterator[SpotSet]:
        """Consecutive sub-sets of at most ``size`` spots (for bounded parallel work)."""
        size = max(int(size), 1)
        for start in range(0, len(self), size):
            yield self.subset(slice(start, start + size))

    def describe(self) -> dict:
        """What the run holds (for ``platescope info``)."""
        ix = self.index
        conds = ix.groupby("condition", sort=False).size()
        j = ix.groupby("condition", sort=False)["current_density_mA_cm2"].mean()
        return {
            "kind": "seccm_spots",
            "layout": self.layout,
            "path": str(self.source),
            "settings": str(self.settings) if self.settings else None,
            "n_spots": int(len(ix)),
            "n_conditions": int(len(conds)),
            "conditions": [
                {
                    "condition": _py(c),
                    "n_spots": int(n),
                    "current_density_mA_cm2": None
                    if not np.isfinite(j.loc[c])
                    else float(j.loc[c]),
                }
                for c, n in conds.items()
            ],
            "x_um": [float(ix["x_um"].min()), float(ix["x_um"].max())] if len(ix) else None,
            "y_um": [float(ix["y_um"].min()), float(ix["y_um"].max())] if len(ix) else None,
            "duration_s": _finite_or_none(ix["duration_s"].median()) if len(ix) else None,
            "columns": ["time_s", "potential_V", "current_A"],
            "units": {
                "time_s": "s from contact",
                "potential_V": "V",
                "current_A": "A (cathodic < 0)",
            },
            **{
                k: v
                for k, v in self.meta.items()
                if k in ("status", "technique", "recording_schema_version")
            },
        }


def _finite_or_none(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _py(value):
    """numpy scalar → Python scalar (ids and condition labels stay int or str)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_record(df: pd.DataFrame, row, layout: str) -> None:
    """A spot's record must be complete: at least 20 points and (when known) its full length."""
    spot = _py(row["spot"])
    path = row["path"]
    if len(df) < 20:
        raise InputError(
            path,
            f"spot {spot}: the record has only {len(df)} samples",
            "check that the file is complete, or drop the spot from the index",
        )
    dur = float(row["duration_s"]) if "duration_s" in row.index else float("nan")
    if np.isfinite(dur) and len(df) > 1:
        t = df["time_s"].to_numpy(float)
        step = float(np.median(np.diff(t)))
        if t[-1] < dur - 3 * step:
            raise InputError(
                path,
                f"spot {spot}: the record ends after {t[-1]:.3g} s of its {dur:.3g} s programme "
                "(truncated file or interrupted hop)",
                "copy the complete file again, or drop the spot from the index",
            )


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


# --------------------------------------------------------------------------- registry
def _readers():
    from platescope.io import _spots_echemtips as et
    from platescope.io import _spots_wecspm as wec

    return {
        "platescope": (_open_platescope, _read_platescope),
        "echemtips": (et.open_echemtips, et.read_echemtips_spot),
        "wec-spm": (wec.open_wecspm, wec.read_wecspm_spot),
    }


class _ReaderTable(dict):
    def __missing__(self, key):
        self.update({k: v[1] for k, v in _readers().items()})
        return self[key]


_READERS: dict = _ReaderTable()

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
