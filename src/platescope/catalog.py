"""A catalog across runs: one row per ``analyze`` result, as one Parquet file.

``platescope catalog DIR... --out catalog.parquet`` walks the folders for result
folders (those holding ``summary.json``) and writes one row per run;
``platescope analyze EXP --out DIR --catalog catalog.parquet`` adds the run it just
published (replacing the row of an earlier run into the same folder, whose results the
new run replaced). Columns:

- ``result_dir`` (absolute path), ``scenario``, ``experiment_name``, ``created_utc``
  (UTC timestamp), ``platescope_version``;
- ``experiment_sha256``, ``input_hashes`` (JSON text ``{role: sha256}``),
  ``inputs_sha256`` (one digest of all input roles and hashes: equal for runs of the
  same input files), ``parameters_sha256`` (digest of the ``parameters`` block as
  canonical JSON: equal for runs with the same effective parameters);
- ``warnings_count``, ``warning_codes`` (comma-separated, sorted), ``skipped_count``;
- ``headline`` (the summary's one-line headline, when it is text);
- every headline number and its uncertainty as flat columns ``<name>`` and
  ``<name>_err`` (expanded, k = 2, as in ``summary.json``). The numbers are the
  summary's ``headline`` block when it is structured (a list of ``{key|name|label,
  value, err}`` items or a ``{name: value | {value, err}}`` mapping); otherwise every
  number of the summary that carries an uncertainty (a key ``X`` with a sibling
  ``X_err``, or ``A_<unit>`` with ``A_err_<unit>``; outside lists and provenance
  blocks), named by its path with ``_``
  between levels (``echem.galvanostatic.E_nuc_V`` → ``echem_galvanostatic_E_nuc_V``).
  A number that is null in the summary (with its reason there) is null in the catalog;
- the scenario's report headline numbers (:data:`platescope.report.HEADLINES`), also
  those held in lists, named by their path with a row index written ``0``, ``first``
  (first non-null row) or ``last`` (``[-1]`` and ``[last]``):
  ``echem.cycles[0].CE`` → ``echem_cycles_0_CE``, ``echem.cycles[-1].CE`` →
  ``echem_cycles_last_CE``, with ``_err`` companions. So every number the report opens
  with can be queried across runs.

Rows of different scenarios have different number columns; a column a run does not
have is null in its row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from platescope._errors import InputError

__all__ = ["append_to_catalog", "build_catalog", "catalog_row", "find_runs"]

#: Summary blocks that hold provenance or settings, never results.
_NOT_RESULTS = frozenset(
    {
        "inputs",
        "files_read",
        "spot_files",
        "experiment_file",
        "parameters",
        "skipped",
        "warnings",
    }
)

#: Columns every row has, in this order.
BASE_COLUMNS = (
    "result_dir",
    "scenario",
    "experiment_name",
    "created_utc",
    "platescope_version",
    "experiment_sha256",
    "input_hashes",
    "inputs_sha256",
    "parameters_sha256",
    "warnings_count",
    "warning_codes",
    "skipped_count",
    "headline",
)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _column(path: tuple[str, ...]) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", "_".join(path)).strip("_")


def _err_key(block: dict, key: str):
    """The uncertainty key of ``key`` in ``block``: ``X_err`` or ``A_err_<unit>`` for ``A_<unit>``."""
    if f"{key}_err" in block:
        return f"{key}_err"
    head, sep, unit = key.partition("_")
    while sep:  # E_onset_c_V → E_onset_c_err_V, D_cm2_s → D_err_cm2_s
        if f"{head}_err_{unit}" in block:
            return f"{head}_err_{unit}"
        more, sep, unit = unit.partition("_")
        head = f"{head}_{more}" if sep else head
    return None


def _numbers_with_err(
    block: dict, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, object, object]]:
    """(column, value, err) for every number with an uncertainty sibling in nested dicts."""
    for key, value in block.items():
        key = str(key)
        if not path and key in _NOT_RESULTS:
            continue
        if isinstance(value, dict):
            yield from _numbers_with_err(value, (*path, key))
        elif "_err" in key or not (value is None or _is_number(value)):
            continue
        elif (ek := _err_key(block, key)) is not None:
            err = block[ek]
            yield _column((*path, key)), value, err if _is_number(err) else None


def _headline_numbers(summary: dict) -> list[tuple[str, object, object]] | None:
    """The structured ``headline`` block as (column, value, err), or None if it is text."""
    block = summary.get("headline")
    if isinstance(block, dict) and isinstance(block.get("numbers"), list):
        block = block["numbers"]
    out: list[tuple[str, object, object]] = []
    if isinstance(block, list):
        for item in block:
            if not isinstance(item, dict):
                continue
            name = item.get("key") or item.get("name") or item.get("label")
            if not name:
                continue
            value = item.get("value")
            err = item.get("err", item.get("value_err", item.get("uncertainty")))
            out.append((_column((str(name),)), value, err))
    elif isinstance(block, dict):
        for name, item in block.items():
            if isinstance(item, dict):
                out.append((_column((str(name),)), item.get("value"), item.get("err")))
            elif str(name).endswith("_err"):
                continue
            else:
                out.append((_column((str(name),)), item, block.get(f"{name}_err")))
    else:
        return None
    return [
        (c, v if _is_number(v) else None, e if _is_number(e) else None) for c, v, e in out
    ] or None


def _headline_column(path: str) -> str:
    """Column name of a headline path: ``a.b[0].c`` → ``a_b_0_c``, ``[-1]``/``[last]`` → ``last``."""
    path = re.sub(r"\[(-1|last)\]", "[last]", path)
    return _column((path,))


def _report_headline_numbers(summary: dict) -> list[tuple[str, object, object]]:
    """(column, value, err) of the report's headline numbers, list-held ones included."""
    from platescope.report._headline import headline_values

    return [
        (_headline_column(item["path"]), item["value"], item["err"])
        for item in headline_values(summary)
    ]


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def catalog_row(summary: dict, *, result_dir=None) -> dict:
    """One catalog row (a flat dict) from a run's ``summary.json`` content.

    Parameters
    ----------
    summary : dict
        The parsed ``summary.json``.
    result_dir : path, optional
        The result folder (recorded as an absolute path).

    Returns
    -------
    dict
        The :data:`BASE_COLUMNS` and one ``<name>`` / ``<name>_err`` pair per headline
        number (see the module docstring).

    Examples
    --------
    >>> s = {"scenario": "irm-cv", "name": "cell 3", "parameters": {"a": 1},
    ...      "inputs": {"echem": {"sha256": "ab"}}, "warnings": [{"code": "x"}],
    ...      "echem": {"galvanostatic": {"E_nuc_V": -0.05, "E_nuc_V_err": 0.001}}}
    >>> row = catalog_row(s)
    >>> row["echem_galvanostatic_E_nuc_V"], row["echem_galvanostatic_E_nuc_V_err"]
    (-0.05, 0.001)
    >>> row["warnings_count"], row["input_hashes"]
    (1, '{"echem": "ab"}')
    >>> s["echem"]["cycles"] = [{"cycle": 1, "CE": 0.91, "CE_err": 0.02},
    ...                         {"cycle": 2, "CE": 0.95, "CE_err": 0.02}]
    >>> row = catalog_row(s)
    >>> row["echem_cycles_0_CE"], row["echem_cycles_last_CE"], row["echem_cycles_last_CE_err"]
    (0.91, 0.95, 0.02)
    """
    inputs = summary.get("inputs") or {}
    hashes = {
        str(role): rec.get("sha256")
        for role, rec in sorted(inputs.items())
        if isinstance(rec, dict) and rec.get("sha256")
    }
    warnings = [w for w in (summary.get("warnings") or []) if isinstance(w, dict)]
    headline = summary.get("headline")
    row: dict = {
        "result_dir": str(Path(result_dir).resolve()) if result_dir is not None else None,
        "scenario": summary.get("scenario"),
        "experiment_name": summary.get("name"),
        "created_utc": summary.get("created_utc"),
        "platescope_version": summary.get("platescope_version"),
        "experiment_sha256": (summary.get("experiment_file") or {}).get("sha256"),
        "input_hashes": json.dumps(hashes, sort_keys=True),
        "inputs_sha256": _digest(hashes),
        "parameters_sha256": _digest(summary.get("parameters") or {}),
        "warnings_count": len(warnings),
        "warning_codes": ",".join(sorted({str(w.get("code")) for w in warnings})),
        "skipped_count": len(summary.get("skipped") or []),
        "headline": headline if isinstance(headline, str) else None,
    }
    numbers = _headline_numbers(summary)
    if numbers is None:
        numbers = list(_numbers_with_err(summary))
    for col, value, err in numbers:
        if col in row:  # never let a number shadow a base column
            col = f"value_{col}"
        row[col] = value
        row[f"{col}_err"] = err
    for col, value, err in _report_headline_numbers(summary):
        if col not in row:  # the same number found by both routes keeps one column
            row[col] = value if _is_number(value) else None
            row[f"{col}_err"] = err if _is_number(err) else None
    return row


def find_runs(folders: Iterable) -> tuple[list[Path], list[str]]:
    """Result folders (holding ``summary.json``) under ``folders``, and what was passed over.

    Hidden folders (staging and backup folders of runs in progress, ``.git``) are not
    searched. A folder that does not exist is an :class:`~platescope.InputError`.

    Returns
    -------
    runs : list of pathlib.Path
        Result folders, sorted, each once.
    notes : list of str
        Nothing found under a given folder.
    """
    runs: list[Path] = []
    notes: list[str] = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise InputError(
                root, "is not a folder", "give result folders (or folders holding them)"
            )
        found = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if "summary.json" in filenames:
                found.append(Path(dirpath).resolve())
        if not found:
            notes.append(f"{root}: no result folder (summary.json) found")
        runs.extend(found)
    return sorted(dict.fromkeys(runs)), notes


def _read_summary(folder: Path) -> dict:
    f = folder / "summary.json"
    try:
        summary = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f, f"cannot be read as JSON ({err})", "rerun analyze into it") from None
    if not isinstance(summary, dict) or "scenario" not in summary:
        raise InputError(f, "is not a platescope summary (no scenario)", "rerun analyze into it")
    return summary


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in BASE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    rest = sorted(c for c in df.columns if c not in BASE_COLUMNS)
    df = df[list(BASE_COLUMNS) + rest]
    df["created_utc"] = pd.to_datetime(df["created_utc"], utc=True, errors="coerce")
    for col in ("warnings_count", "skipped_count"):
        df[col] = df[col].astype("int64")
    for col in rest:  # number columns: float (null where the run lacks the number)
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def build_catalog(folders: Iterable, *, out=None) -> tuple[pd.DataFrame, list[str]]:
    """One row per result folder found under ``folders``; optionally written to Parquet.

    Parameters
    ----------
    folders : iterable of path
        Result folders, or folders holding them at any depth (a demo folder).
    out : path, optional
        Parquet file to write (replaced atomically).

    Returns
    -------
    catalog : pandas.DataFrame
        One row per run (columns in the module docstring), sorted by ``result_dir``.
    notes : list of str
        Folders with no result and result folders left out (unreadable summary), each
        with the reason.

    Raises
    ------
    InputError
        A folder does not exist, or no result folder was found at all.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a").mkdir()
    >>> _ = (d / "a" / "summary.json").write_text(json.dumps({"scenario": "irm-cv"}))
    >>> cat, notes = build_catalog([d])
    >>> cat["scenario"].tolist(), notes
    (['irm-cv'], [])
    """
    runs, notes = find_runs(folders)
    rows = []
    for folder in runs:
        try:
            rows.append(catalog_row(_read_summary(folder), result_dir=folder))
        except InputError as err:
            notes.append(f"left out {folder}: {err}")
    if not rows:
        raise InputError(
            ", ".join(str(f) for f in folders),
            "holds no readable platescope result (no summary.json)",
            "give analyze's --out folders or a demo folder",
        )
    if out is not None:
        _refuse_foreign_file(Path(out))
    df = _frame(rows)
    if out is not None:
        from platescope._parquet import write_parquet

        write_parquet(df, out)
    return df, notes


def _refuse_foreign_file(out: Path) -> None:
    """Raise InputError unless ``out`` is new or a platescope catalog (replaceable).

    platescope never overwrites a file it did not write: ``--out`` naming a movie or a
    user's own table once replaced it with the catalog.
    """
    if not out.exists() and not out.is_symlink():
        return
    fix = "choose another --out file name (or move the existing file away yourself)"
    if not out.is_file():
        raise InputError(out, "exists and is not a file", "give a .parquet file path")
    try:
        import pyarrow.parquet as pq

        names = set(pq.read_schema(out).names)
    except Exception:  # noqa: BLE001 - not Parquet at all, or damaged
        names = set()
    if not {"result_dir", "scenario", "inputs_sha256"} <= names:
        raise InputError(
            out,
            "the file exists and is not a platescope catalog; platescope never overwrites "
            "a file it did not write",
            fix,
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive lock on ``.<name>.platescope-lock`` beside ``path`` (waits for it)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock = path.parent / f".{path.name}.platescope-lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def append_to_catalog(catalog, result_dir) -> pd.DataFrame:
    """Add one result folder's row to a catalog file (created if missing); atomic rewrite.

    A row of the same ``result_dir`` already in the catalog is replaced (that folder's
    earlier results were replaced by the new run). Concurrent appends to one catalog
    wait for each other (a lock file beside it).

    Parameters
    ----------
    catalog : path
        The Parquet catalog.
    result_dir : path
        A result folder holding ``summary.json``.

    Returns
    -------
    pandas.DataFrame
        The whole catalog as written.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "r").mkdir()
    >>> _ = (d / "r" / "summary.json").write_text(json.dumps({"scenario": "irm-cv"}))
    >>> len(append_to_catalog(d / "c.parquet", d / "r"))
    1
    >>> len(append_to_catalog(d / "c.parquet", d / "r"))
    1
    """
    from platescope._parquet import write_parquet

    catalog = Path(catalog)
    folder = Path(result_dir).resolve()
    row = catalog_row(_read_summary(folder), result_dir=folder)
    if catalog.exists() and not catalog.is_file():
        raise InputError(catalog, "exists and is not a file", "give a .parquet file path")
    catalog.parent.mkdir(parents=True, exist_ok=True)
    with _locked(catalog):
        rows: list[dict] = []
        if catalog.is_file():
            try:
                old = pd.read_parquet(catalog)
            except Exception as err:  # noqa: BLE001 - any reader failure means the same
                raise InputError(
                    catalog,
                    f"is not a readable Parquet catalog ({type(err).__name__})",
                    "give another --catalog file or remove this one",
                ) from None
            if "result_dir" not in old.columns:
                raise InputError(
                    catalog,
                    "is not a platescope catalog (no result_dir column)",
                    "give another file",
                )
            old = old[old["result_dir"] != row["result_dir"]]
            old["created_utc"] = old["created_utc"].map(
                lambda t: None if pd.isna(t) else pd.Timestamp(t).isoformat()
            )
            rows = old.to_dict("records")
        rows.append(row)
        df = _frame(rows)
        write_parquet(df, catalog)
    return df
