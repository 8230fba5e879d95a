"""File hashes for provenance (summary.json ``inputs``, truth.json, output markers)."""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_file", "sha256_path"]


def sha256_file(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks (flat memory).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_path(path: str | os.PathLike) -> str:
    """SHA-256 of a file, or of a folder (its files' relative names and hashes, sorted).

    A folder input (a stack of slices, a zarr store) is identified by everything in it:
    renaming, adding, removing or changing any file changes the digest.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_bytes(b"abc")
    >>> h1 = sha256_path(d)
    >>> _ = (d / "b.txt").write_bytes(b"")
    >>> h1 != sha256_path(d), len(h1)
    (True, 64)
    """
    from pathlib import Path

    p = Path(path)
    if not p.is_dir():
        return sha256_file(p)
    h = hashlib.sha256()
    for f in sorted(q for q in p.rglob("*") if q.is_file()):
        h.update(f.relative_to(p).as_posix().encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()
