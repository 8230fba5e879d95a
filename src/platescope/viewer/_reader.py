"""The npe2 reader contribution: result folders and experiment files."""

from __future__ import annotations

from pathlib import Path

__all__ = ["get_reader"]


def _accepts(path) -> bool:
    if isinstance(path, list | tuple):
        return len(path) == 1 and _accepts(path[0])
    p = Path(str(path))
    if p.is_dir():
        return (p / "summary.json").is_file()
    return p.suffix.lower() == ".toml" and p.is_file()


def get_reader(path):
    """The reader for ``path`` (a result folder or an experiment ``.toml``), else None.

    napari asks every plugin; returning None lets another plugin open the path.

    >>> get_reader("/nonexistent/folder") is None
    True
    """
    if not _accepts(path):
        return None
    return read


def read(path) -> list[tuple]:
    """Layer data tuples of a result folder or experiment file (see :mod:`platescope.viewer`)."""
    from platescope.viewer._layers import layer_data

    if isinstance(path, list | tuple):
        path = path[0]
    return layer_data(path)
