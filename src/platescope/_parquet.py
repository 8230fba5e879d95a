"""Parquet twins of the CSV tables (pyarrow), written atomically.

Every table ``analyze`` writes as ``tables/<name>.csv`` is also written as
``tables/<name>.parquet`` with the same columns, so a catalog or DuckDB can read typed
columns without parsing text. A column mixing numbers and text (which Parquet cannot
hold in one typed column) is written as text, as it reads back from the CSV.
"""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["parquet_safe", "write_parquet"]


def parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose object columns Parquet can store (mixed → text).

    Columns of plain Python objects that are not all strings (or all None) — e.g. a
    column holding numbers and ``"n/a"`` — are converted to text, missing values kept
    as nulls; every other column is left as it is.

    >>> df = pd.DataFrame({"a": [1.0, 2.0], "b": [1, "x"]})
    >>> parquet_safe(df)["b"].tolist()
    ['1', 'x']
    """
    out = df.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if col.dtype != object:
            continue
        kinds = {type(v) for v in col if v is not None and not (isinstance(v, float) and v != v)}
        if kinds <= {str} or kinds <= {bool}:
            continue
        if kinds <= {int, float} or kinds <= {float}:
            out[c] = pd.to_numeric(col, errors="coerce")
            continue
        out[c] = col.map(
            lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)
        )
    return out


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` to ``path`` as Parquet (no index), atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : path
        Destination ``.parquet`` file (replaced in one step).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> write_parquet(pd.DataFrame({"x_um": [1.5, 2.5]}), p)
    >>> pd.read_parquet(p)["x_um"].tolist()
    [1.5, 2.5]
    """
    from platescope._atomic import _atomic_target

    safe = parquet_safe(df)
    with _atomic_target(path) as tmp:
        safe.to_parquet(tmp, index=False, engine="pyarrow")
