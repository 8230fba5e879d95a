"""The lazy spot set of a combinatorial SECCM run (ground module of the spot readers).

:class:`SpotSet` and :class:`Spot` live here so that the layout readers
(:mod:`platescope.io._spots`, ``_spots_echemtips``, ``_spots_wecspm``) all import this
module and this module imports none of them: a spot's record is read through the
``"module:function"`` its layout names in :data:`SPOT_READERS`, imported on first use
(also in a worker process that received a pickled SpotSet).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError

#: layout → the function that reads one spot's record, ``fn(spots, row) -> DataFrame``
SPOT_READERS = {
    "platescope": "platescope.io._spots:_read_platescope",
    "echemtips": "platescope.io._spots_echemtips:read_echemtips_spot",
    "wec-spm": "platescope.io._spots_wecspm:read_wecspm_spot",
}


#: layout → a function reading many spots of one recording in one pass,
#: ``fn(spots, index_rows) -> [DataFrame or InputError, ...]``
SPOT_BATCH_READERS = {
    "echemtips": "platescope.io._spots_echemtips:read_echemtips_batch",
}

#: layout → a function reading a batch's records as arrays in one read and one parse,
#: ``fn(spots) -> [(time_s, potential_V, current_A) | InputError | None, ...]`` (None:
#: read that spot with the per-spot reader); see :mod:`platescope.io._spotbatch`
SPOT_ARRAY_READERS = {
    "platescope": "platescope.io._spots:read_platescope_arrays",
    "echemtips": "platescope.io._spots_echemtips:read_echemtips_arrays",
    "wec-spm": "platescope.io._spots_wecspm:read_wecspm_arrays",
}


def _named(err: InputError, row) -> InputError:
    """The error with the spot's id in front of its problem and the spot's file as path."""
    spot = _py(row["spot"])
    prefix = f"spot {spot}: "
    problem = err.problem if err.problem.startswith(prefix) else prefix + err.problem
    return InputError(err.path or row["path"], problem, err.fix)


def _spot_reader(layout: str):
    module, _, attr = SPOT_READERS[layout].partition(":")
    return getattr(importlib.import_module(module), attr)


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
    >>> from platescope.io import read_spots
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
        reader = _spot_reader(self.layout)
        try:
            df = reader(self, row)
        except InputError as err:
            raise _named(err, row) from None
        return self._finish(df, row)

    def read_all(self) -> list:
        """Every spot's record, read together where the layout allows it.

        Layouts listed in :data:`SPOT_BATCH_READERS` (one recording for all spots) read
        the spots' rows in one pass over their byte range and parse them once; the
        others read spot by spot. A spot that cannot be read gives the
        :class:`platescope.InputError` :meth:`read` would raise, in its place. Every
        record is held in memory: call it on a batch (:meth:`batches`), not on a run of
        10⁶ spots.

        Returns
        -------
        list
            One item per spot in index order: the record (as :meth:`read` returns it)
            or the InputError.
        """
        if self.layout not in SPOT_BATCH_READERS:
            out: list = []
            for pos in range(len(self)):
                try:
                    out.append(self.read(pos))
                except InputError as err:
                    out.append(err)
            return out
        module, _, attr = SPOT_BATCH_READERS[self.layout].partition(":")
        raw = getattr(importlib.import_module(module), attr)(self, self.index)
        out = []
        for pos, item in enumerate(raw):
            row = self.index.iloc[pos]
            if isinstance(item, InputError):
                out.append(_named(item, row))
                continue
            try:
                out.append(self._finish(item, row))
            except InputError as err:
                out.append(err)
        return out

    def read_arrays(self):
        """Every spot's record as flat arrays, in one read and one parse where possible.

        See :func:`read_spot_arrays` (call it on a batch).

        Returns
        -------
        platescope.io._spotbatch.SpotArrays
        """
        return read_spot_arrays(self)

    def _finish(self, df: pd.DataFrame, row) -> pd.DataFrame:
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
    dur = float(row["duration_s"]) if "duration_s" in row.index else float("nan")
    err = _check_times(df["time_s"].to_numpy(float), _py(row["spot"]), row["path"], dur)
    if err is not None:
        raise err


def _check_times(t: np.ndarray, spot, path, dur: float) -> InputError | None:
    """The error of a record of times ``t`` (s) that is too short or truncated, else None."""
    if len(t) < 20:
        return InputError(
            path,
            f"spot {spot}: the record has only {len(t)} samples",
            "check that the file is complete, or drop the spot from the index",
        )
    if np.isfinite(dur) and len(t) > 1:
        step = float(np.median(np.diff(t)))
        if t[-1] < dur - 3 * step:
            return InputError(
                path,
                f"spot {spot}: the record ends after {t[-1]:.3g} s of its {dur:.3g} s programme "
                "(truncated file or interrupted hop)",
                "copy the complete file again, or drop the spot from the index",
            )
    return None


def read_spot_arrays(spots):
    """Read a batch of spots into flat arrays (one read and one parse per batch).

    Parameters
    ----------
    spots : platescope.io.SpotSet
        The batch (any layout). Every record is held in memory: call it on a batch
        (:meth:`SpotSet.batches`), not on a run of 10⁶ spots.

    Returns
    -------
    platescope.io._spotbatch.SpotArrays
        The records exactly as :meth:`SpotSet.read` gives them (t = 0 at contact, s;
        V; A), and the InputError of each spot that cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from platescope.simulate import simulate
    >>> from platescope.io import read_spots
    >>> exp = simulate("seccm-combinatorial", tempfile.mkdtemp(),
    ...                overrides={"n_conditions": 2, "n_repeats": 2, "sample_period_s": 0.01})
    >>> arr = read_spot_arrays(read_spots(exp.parent / "spots.csv"))
    >>> len(arr), arr.lengths.tolist(), arr.errors
    (4, [501, 501, 501, 501], {})
    """
    from platescope.io._spotbatch import _from_items

    n = len(spots)
    fast: list = [None] * n
    spec = SPOT_ARRAY_READERS.get(spots.layout)
    if spec is not None:
        module, _, attr = spec.partition(":")
        try:
            fast = getattr(importlib.import_module(module), attr)(spots)
        except InputError:
            fast = [None] * n  # the per-spot reader gives each spot's own message
    items: list = []
    index = spots.index
    for pos in range(n):
        it = fast[pos]
        if isinstance(it, InputError):
            items.append(_named(it, index.iloc[pos]))
            continue
        if it is None:
            try:
                df = spots.read(pos)
            except InputError as err:
                items.append(err)
                continue
            if not {"time_s", "potential_V", "current_A"} <= set(df.columns):
                items.append(df)
                continue
            items.append(
                (
                    df["time_s"].to_numpy(np.float64),
                    df["potential_V"].to_numpy(np.float64),
                    df["current_A"].to_numpy(np.float64),
                )
            )
            continue
        items.append(it)
    arr = _from_items(items)
    # the record checks of SpotSet.read (≥ 20 samples, not shorter than its programme)
    dur = index["duration_s"].to_numpy(np.float64)
    ids = index["spot"].to_numpy()
    paths = index["path"].to_numpy()
    checked = np.array([it is not None for it in fast], dtype=bool)
    checked[list(arr.errors)] = False
    lens = arr.lengths
    for m in np.unique(lens[checked]):
        rows = np.flatnonzero(checked & (lens == m))
        suspect = rows
        if m >= 20:
            t, _, _ = arr.stacked(rows)
            step = np.median(np.diff(t, axis=1), axis=1)
            suspect = rows[np.isfinite(dur[rows]) & (t[:, -1] < dur[rows] - 3 * step)]
        for pos in suspect:  # the message of SpotSet.read's record check
            a, b = int(arr.offsets[pos]), int(arr.offsets[pos + 1])
            err = _check_times(arr.time_s[a:b], _py(ids[pos]), paths[pos], dur[pos])
            if err is not None:
                arr.errors[int(pos)] = err
    return arr
