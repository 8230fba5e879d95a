"""The provenance entries of ``summary.json`` (see :mod:`platescope._provenance`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from platescope._provenance import RunLog

__all__ = ["file_record", "input_provenance", "record_provenance"]


def _sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder input by its files (platescope._hashing)."""
    from platescope._hashing import sha256_path

    return sha256_path(path)


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def file_record(path, *, base) -> dict:
    """``{"path" (relative to base), "path_abs", "sha256", "bytes"}`` of one file.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "data").mkdir(); _ = (d / "data" / "a.csv").write_bytes(b"abc")
    >>> r = file_record(d / "data" / "a.csv", base=d)
    >>> r["path"], r["sha256"][:8], r["bytes"]
    ('data/a.csv', 'ba7816bf', 3)
    """
    p = Path(os.path.abspath(os.fspath(path)))
    rec = {
        "path": _relative(p, Path(os.path.abspath(os.fspath(base)))),
        "path_abs": str(p),
        "sha256": _sha256(p),
        "bytes": p.stat().st_size,
    }
    if p.is_dir():  # a folder input (slices, a zarr store): hashed by its files
        rec["bytes"] = sum(q.stat().st_size for q in p.rglob("*") if q.is_file())
        rec["kind"] = "folder (hash of its files' names and hashes)"
    return rec


def input_provenance(exp, log: RunLog | None = None, *, staged=None) -> dict:
    """The ``inputs``, ``files_read`` and (with a spot index) ``spot_files`` summary entries.

    Parameters
    ----------
    exp : platescope.io.Experiment
        The experiment; paths are recorded relative to ``exp.path``'s folder.
    log : RunLog, optional
        What the readers noted during the run (sidecars found on their own).
    staged : StagedOutput, optional
        Where ``tables/input_files.csv`` (the per-spot manifest) is written.

    Returns
    -------
    dict
        ``{"inputs": {...}, "files_read": [...]}`` plus ``"spot_files"`` when the
        experiment has a spot index.
    """
    base = Path(os.path.abspath(os.fspath(exp.path))).parent
    roles = exp.input_paths()
    inputs = {role: file_record(p, base=base) for role, p in roles.items()}
    known = {os.path.abspath(os.fspath(p)) for p in roles.values()}
    known.add(os.path.abspath(os.fspath(exp.path)))
    out: dict = {"inputs": inputs, "files_read": []}
    spot_paths: list[str] = []
    seccm = getattr(exp, "seccm", None) or {}
    if seccm.get("spots") or seccm.get("path"):
        spot_paths = _spot_paths(seccm)
    spot_set = set(spot_paths)
    if log is not None:
        for path, role in sorted(log.files.items()):
            if path in known or path in spot_set or not os.path.isfile(path):
                continue
            out["files_read"].append({"role": role, **file_record(path, base=base)})
    if spot_paths:
        out["spot_files"] = _spot_manifest(spot_paths, base, staged)
    return out


def _spot_paths(seccm: dict) -> list[str]:
    """Per-spot record files of the experiment's spot index (empty if it cannot be read)."""
    from platescope._errors import InputError
    from platescope.io import read_spots

    src = seccm.get("spots") or seccm.get("path")
    try:
        spots = read_spots(src, layout=seccm.get("layout"), settings=seccm.get("settings"))
    except (InputError, TypeError, OSError):
        return []
    index = getattr(spots, "index", None)
    if index is None or "path" not in getattr(index, "columns", ()):
        return []
    return [os.path.abspath(str(p)) for p in index["path"] if isinstance(p, str)]


def _spot_manifest(paths: list[str], base: Path, staged) -> dict:
    rows = []
    missing = 0
    total = 0
    for p in dict.fromkeys(paths):
        if not os.path.isfile(p):
            missing += 1
            rows.append((_relative(Path(p), base), "", 0))
            continue
        digest = _sha256(Path(p))
        size = os.path.getsize(p)
        total += size
        rows.append((_relative(Path(p), base), digest, size))
    listing = "".join(f"{r},{d}\n" for r, d, _ in rows).encode("utf-8")
    entry = {
        "count": len(rows),
        "missing": missing,
        "bytes": total,
        "sha256_of_list": hashlib.sha256(listing).hexdigest(),
        "manifest": None,
    }
    if staged is not None:
        import pandas as pd

        df = pd.DataFrame(rows, columns=["path", "sha256", "bytes"])
        entry["manifest"] = staged.table("input_files", df, title="Spot files read (SHA-256)")
    return entry


#: At most this many reader warnings of one code go to the summary; the rest are counted.
MAX_WARNINGS_PER_CODE = 10


def record_provenance(exp, log: RunLog, summary: dict, staged=None) -> None:
    """Fill ``summary`` with the run's provenance and the readers' warnings.

    Sets ``experiment_file``, ``inputs``, ``files_read`` and (spot index)
    ``spot_files`` as described in the module docstring, and adds each reader
    warning noted during the run to ``summary["warnings"]`` (at most
    :data:`MAX_WARNINGS_PER_CODE` per code, then one line counting the rest).
    """
    from platescope.pipeline._common import add_warning

    base = Path(os.path.abspath(os.fspath(exp.path))).parent
    summary["experiment_file"] = file_record(exp.path, base=base)
    summary.update(input_provenance(exp, log, staged=staged))
    per_code: dict[str, int] = {}
    for w in log.warnings:
        k = per_code[w["code"]] = per_code.get(w["code"], 0) + 1
        if k <= MAX_WARNINGS_PER_CODE:
            add_warning(summary, w["code"], w["message"], w["where"])
    for code, k in per_code.items():
        if k > MAX_WARNINGS_PER_CODE:
            add_warning(
                summary,
                code,
                f"{k - MAX_WARNINGS_PER_CODE} more input file(s) had the same problem",
                "inputs",
            )
