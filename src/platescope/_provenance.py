"""Provenance of a run: every file read, hashed, with its path relative to the experiment file.

The readers call :func:`note_file` for the files they find on their own (frame-time
tables, ``.set`` settings, JSON sidecars, per-spot records) and :func:`note_warning` for
what they had to leave out of a record; while a :func:`run_log` is active these are
collected, otherwise the calls do nothing (this module imports nothing of platescope, so
every reader may use it). :func:`platescope.pipeline._provenance.input_provenance` then
builds the ``summary.json`` entries:

- ``inputs``: one entry per input role of the experiment file, ``{"path": path
  relative to the experiment file's folder (POSIX, may start with ``../``),
  "path_abs": absolute path, "sha256": hex digest, "bytes": size}``;
- ``files_read``: the same for every other file a reader opened (sidecars, settings,
  frame-time tables found beside a movie), each with its ``role`` (what read it);
- ``spot_files``: for scenarios with a spot index, ``{"count", "missing", "bytes",
  "sha256_of_list", "manifest"}`` — every spot file hashed, the list written to
  ``tables/input_files.csv`` (``manifest``), and ``sha256_of_list`` the digest of
  that table's ``path,sha256`` lines, so 100 000 spots do not bloat summary.json.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["RunLog", "note_file", "note_warning", "run_log"]


@dataclass
class RunLog:
    """Files read and reader warnings collected during one run."""

    files: dict[str, str] = field(default_factory=dict)  # absolute path -> role
    warnings: list[dict] = field(default_factory=list)


_LOG: contextvars.ContextVar[RunLog | None] = contextvars.ContextVar("platescope_run_log")


@contextlib.contextmanager
def run_log() -> Iterator[RunLog]:
    """Collect :func:`note_file` / :func:`note_warning` calls made inside the block.

    >>> with run_log() as log:
    ...     note_file("/tmp/x.set", role="seccm.settings")
    >>> log.files
    {'/tmp/x.set': 'seccm.settings'}
    """
    log = RunLog()
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def note_file(path, *, role: str) -> None:
    """Record that a reader opened ``path`` (no effect outside :func:`run_log`)."""
    log = _LOG.get(None)
    if log is not None:
        log.files.setdefault(os.path.abspath(os.fspath(path)), role)


def note_warning(code: str, message: str, *, where: str) -> None:
    """Record a reader's warning for the run's ``summary["warnings"]`` (deduplicated)."""
    log = _LOG.get(None)
    if log is not None:
        item = {"code": code, "message": message, "where": where}
        if item not in log.warnings:
            log.warnings.append(item)
