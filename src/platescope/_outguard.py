"""Output folders platescope may write into, and the marker that says it wrote them.

"Nothing lost": platescope never deletes or overwrites a file it did not write. Every
command that writes a folder (``analyze --out``, ``simulate --out``, ``demo --out``)
first *claims* it with :func:`claim_output_folder`:

- a folder that does not exist yet, or an empty one, is fine;
- a folder that holds an input of the run (or is an input's folder or one of its
  parents) is refused — replacing it would delete the input;
- a folder that holds a previous platescope output of the same kind is fine only when
  every file in it is one platescope wrote there, as listed by the marker file
  (:data:`MARKER`, written last by :func:`write_marker`); results written before the
  marker existed are recognised by their fixed layout;
- anything else (a folder of the user's files) is refused with the fix.

A refusal is an :class:`~platescope._errors.InputError` (CLI exit 2) naming the folder,
what in it is not platescope's, and what to do instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from platescope._errors import InputError

__all__ = ["MARKER", "claim_output_folder", "write_marker"]

#: File in every folder platescope writes, listing what it wrote there.
MARKER = ".platescope-output.json"

# Layouts of outputs written before the marker existed (platescope ≤ 0.1).
# A result whose marker was lost is recognised the same way (ro-crate-metadata.json is
# part of the result layout since the RO-Crate was added).
_LEGACY_RESULT = {
    "summary.json",
    "report.html",
    "tables",
    "maps",
    "figures",
    "ro-crate-metadata.json",
}
_LEGACY_DEMO_ROOT = {"index.html"}


def _listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` as POSIX paths relative to it."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out.extend((rel / d).as_posix() for d in dirs)
        out.extend((rel / f).as_posix() for f in files)
    return sorted(out)


def _read_marker(folder: Path) -> dict | None:
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _is_legacy(folder: Path, kind: str, top: set[str]) -> bool:
    if kind == "result":
        summary = folder / "summary.json"
        if not top <= _LEGACY_RESULT or not summary.is_file():
            return False
        try:
            return "platescope_version" in json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return False
    if kind == "simulated":
        return (folder / "truth" / "truth.json").is_file() and (
            folder / "experiment.toml"
        ).is_file()
    if kind == "demo":
        subdirs = {p for p in top if (folder / p).is_dir()}
        files = top - subdirs
        return (
            bool(subdirs)
            and files <= _LEGACY_DEMO_ROOT
            and all(
                {c.name for c in (folder / d).iterdir()} <= {"input", "results"} for d in subdirs
            )
        )
    return False


def claim_output_folder(
    out: str | os.PathLike, *, kind: str, inputs: Iterable[str | os.PathLike] = (), option="--out"
) -> Path:
    """Check that platescope may replace or fill ``out``; return it resolved.

    Parameters
    ----------
    out : path
        The folder a command is about to write (it may not exist yet).
    kind : {"result", "simulated", "demo"}
        What is written there: an ``analyze`` result, a ``simulate`` input folder, or a
        ``demo`` folder. A previous output is reusable only by the same kind.
    inputs : iterable of path
        Files the run reads; ``out`` may not contain any of them.
    option : str
        How the user named the folder, for the message.

    Raises
    ------
    InputError
        ``out`` is a file, contains an input, or holds files platescope did not write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "movie.tif").write_bytes(b"raw")
    >>> claim_output_folder(d / "results", kind="result", inputs=[d / "movie.tif"]).name
    'results'
    >>> claim_output_folder(d, kind="result", inputs=[d / "movie.tif"])
    Traceback (most recent call last):
    ...
    platescope._errors.InputError: ...
    """
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise InputError(
            out, f"{option} names an existing file, not a folder", f"give a new folder as {option}"
        )
    for p in inputs:
        p = Path(p).resolve()
        if out == p or out in p.parents:
            raise InputError(
                out,
                f"{option} contains the input {p.name!r} ({p}); writing the results there "
                "would replace the folder and delete your data",
                f"give {option} a new folder, e.g. {out / 'platescope-results'}",
            )
    if not out.exists():
        return out
    entries = _listing(out)
    if not entries:
        return out
    marker = _read_marker(out)
    if marker is not None:
        if marker.get("kind") != kind:
            raise InputError(
                out,
                f"{option} holds a platescope {marker.get('kind')} folder, not a {kind} folder",
                f"give {option} a new or empty folder",
            )
        owned = set(marker["files"]) | {MARKER}
        foreign = [e for e in entries if e not in owned and not (out / e).is_dir()]
    else:
        top = {e for e in entries if "/" not in e}
        foreign = [] if _is_legacy(out, kind, top) else [e for e in entries if "/" not in e]
    if foreign:
        shown = ", ".join(repr(f) for f in foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise InputError(
            out,
            f"{option} holds files platescope did not write ({shown}); "
            + (
                "platescope replaces its output folder and would delete them"
                if kind == "result"
                else "writing there could overwrite them"
            ),
            f"give {option} a new or empty folder, or a folder of earlier platescope {kind} output",
        )
    return out


def write_marker(folder: str | os.PathLike, *, kind: str, version: str) -> Path:
    """Write :data:`MARKER` listing every file now under ``folder`` (call it last).

    Parameters
    ----------
    folder : path
        A folder platescope has just filled.
    kind : {"result", "simulated", "demo"}
        What it holds.
    version : str
        platescope version that wrote it.

    Returns
    -------
    pathlib.Path
        The marker file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text("{}")
    >>> m = write_marker(d, kind="result", version="0.1")
    >>> json.loads(m.read_text())["files"]
    ['summary.json']
    """
    from platescope._atomic import atomic_write_json

    folder = Path(folder)
    files = [e for e in _listing(folder) if not (folder / e).is_dir() and e != MARKER]
    prev = _read_marker(folder)
    if prev is not None and kind == "demo":
        files = sorted(set(files) | {f for f in prev["files"] if (folder / f).exists()})
    path = folder / MARKER
    atomic_write_json(
        path,
        {
            "written_by": "platescope",
            "kind": kind,
            "platescope_version": version,
            "files": files,
        },
    )
    return path
