"""Atomic file writers: a temp file in the destination folder, then ``os.replace``.

A reader of the destination path sees either the old complete file or the new complete
file, never a partial one; a failure while writing leaves the old file untouched and no
temp file behind. Every platescope output goes through these helpers.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_savefig",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_write_tiff",
    "to_jsonable",
]


def _file_mode(dest: Path) -> int:
    """Permission bits for a new output file: those of the file it replaces, else 0o666 & ~umask.

    The umask is read from ``/proc/self/status`` (Linux) because ``os.umask`` can only
    be read by changing it, which is not thread-safe; elsewhere 0o644 is used.
    """
    try:
        return dest.stat().st_mode & 0o777
    except OSError:
        pass
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644


@contextlib.contextmanager
def _atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on clean exit move it onto ``path``.

    The temp file keeps the destination's suffix (so writers that look at the
    extension behave) and starts with a dot (hidden from casual listings). On any
    exception the temp file is removed and the exception propagates; ``path`` is
    untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}", dir=dest.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # Flush the bytes to disk before the rename so a crash cannot leave an
        # empty file under the final name.
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(dest))
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; missing parent folders are created.
    data : bytes
        The complete file content.

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "a.bin", b"xyz").read_bytes()
    b'xyz'
    """
    data = bytes(data)
    with _atomic_target(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 unless told otherwise).

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; missing parent folders are created.
    text : str
        The complete file content. Newlines are written as given.
    encoding : str, optional
        Text encoding, default ``"utf-8"``.

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.txt", "µm\\n").read_text(encoding="utf-8")
    'µm\\n'
    """
    return atomic_write_bytes(path, text.encode(encoding))


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` into plain JSON types.

    NaN and ±inf become ``None``; numpy scalars and arrays become Python numbers and
    lists; tuples and sets become lists; paths become strings; datetimes become ISO
    8601 strings; mapping keys become strings. Anything else raises ``TypeError``.

    Parameters
    ----------
    obj : object
        A nested structure of dicts, lists and scalars.

    Returns
    -------
    object
        The same structure made only of dict, list, str, int, float, bool and None.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.float32(0.5), "b": float("nan"), "c": np.arange(2)})
    {'a': 0.5, 'b': None, 'c': [0, 1]}
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, complex | np.complexfloating):
        raise TypeError(f"cannot store complex number {obj!r} in JSON")
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted((to_jsonable(v) for v in obj), key=repr)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, np.datetime64):
        return str(obj)
    raise TypeError(f"cannot store object of type {type(obj).__name__} in JSON")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically.

    Keys are sorted, the text is indented by 2 spaces and ends with a newline;
    non-ASCII characters are kept as UTF-8. See :func:`to_jsonable` for the
    conversions (NaN → ``null``, numpy scalars → Python numbers).

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; missing parent folders are created.
    obj : object
        A nested structure of dicts, lists and scalars.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    TypeError
        If ``obj`` holds something JSON cannot express; the destination is then
        left as it was.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = atomic_write_json(d / "s.json", {"b": np.nan, "a": np.int64(3)})
    >>> print(p.read_text())
    {
      "a": 3,
      "b": null
    }
    <BLANKLINE>
    """
    text = json.dumps(
        to_jsonable(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return atomic_write_text(path, text + "\n")


def atomic_savefig(fig: Any, path: str | os.PathLike, *, vector: bool = True, **kw: Any) -> Path:
    """Save a matplotlib figure to ``path`` atomically, in the house style.

    The house style (:mod:`platescope.report._style`) applies while saving: PNGs at
    300 dpi, text in SVG/PDF kept as text, and no text below 7 pt (smaller text is
    raised to 7 pt). A PNG gets a vector twin beside it (same name, ``.svg``) unless
    ``vector=False``, so every figure is ready for a paper: laid out as the PNG, its
    images embedded with their own pixels (resampled to the PNG's dpi only where the
    PNG shows an image at less than half its pixels:
    :func:`platescope.report._style.native_rasters`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path : str or os.PathLike
        Destination file; the format comes from its suffix (``.png``, ``.pdf``,
        ``.svg``) unless ``format=`` is given.
    vector : bool, optional
        Also write the SVG twin of a PNG (default True).
    **kw
        Passed to :meth:`matplotlib.figure.Figure.savefig`; ``dpi`` defaults to 300.

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); ax = fig.add_subplot(); _ = ax.plot([0, 1], [0, 1])
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_savefig(fig, d / "f.png").read_bytes()[:4], (d / "f.svg").exists()
    (b'\\x89PNG', True)
    """
    from platescope.report._style import (
        PNG_DPI,
        enforce_min_font,
        house_style,
        native_rasters,
        svg_png_level,
    )

    dest = Path(path)
    kw.setdefault("dpi", PNG_DPI)
    if "format" not in kw:
        kw["format"] = dest.suffix.lstrip(".").lower() or "png"
    with house_style():
        enforce_min_font(fig)
        with _atomic_target(dest) as tmp:
            fig.savefig(tmp, **kw)
        if vector and kw["format"] == "png":
            svg_kw = {k: v for k, v in kw.items() if k not in ("dpi", "format", "pil_kwargs")}
            # the SVG's axes stand where the PNG's layout put them: no second layout pass
            # (a third of the SVG's CPU; a pass at the SVG's 72 dpi moved axes by ≤ 0.004
            # in, and could give up on a figure the first pass laid out). An image is embedded
            # with its own pixels unless the PNG shows it much smaller (native_rasters)
            engine = fig.get_layout_engine()
            try:
                if engine is not None:
                    fig.set_layout_engine("none")
                # embedded rasters at the PNG's own zlib level, when one is given
                level = (kw.get("pil_kwargs") or {}).get("compress_level")
                with (
                    _atomic_target(dest.with_suffix(".svg")) as tmp,
                    native_rasters(fig, dpi=kw["dpi"]),
                    svg_png_level(level),
                ):
                    fig.savefig(tmp, format="svg", dpi=kw["dpi"], metadata={"Date": None}, **svg_kw)
            finally:
                if engine is not None:
                    fig.set_layout_engine(engine)
    return dest


def atomic_write_tiff(
    path: str | os.PathLike,
    array: Any,
    *,
    pixel_size_um: float | None = None,
    dtype: Any = np.float32,
    metadata: Mapping[str, Any] | None = None,
    **kw: Any,
) -> Path:
    """Write a 2-D map (or a stack) as an ImageJ-compatible TIFF atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination ``.tif`` file; missing parent folders are created.
    array : array_like or xarray.DataArray
        The data, shape ``(y, x)`` or ``(t, y, x)``. A DataArray with a regular ``x``
        coordinate in µm gives the pixel size when ``pixel_size_um`` is not set.
    pixel_size_um : float, optional
        Pixel size in µm, written as the TIFF/ImageJ resolution with unit ``um`` so
        Fiji shows the map in µm.
    dtype : numpy dtype, optional
        Stored dtype, default ``float32`` (NaN stays NaN).
    metadata : mapping, optional
        Extra ImageJ metadata (e.g. ``{"Info": "t_nuc map, s"}``).
    **kw
        Passed to :func:`tifffile.imwrite`.

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, tifffile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = atomic_write_tiff(d / "m.tif", np.ones((4, 5)), pixel_size_um=0.04)
    >>> tifffile.imread(p).dtype.name
    'float32'
    """
    import tifffile

    if pixel_size_um is None and hasattr(array, "coords") and "x" in getattr(array, "dims", ()):
        x = np.asarray(array.coords["x"].values, dtype=float)
        if x.size >= 2:
            steps = np.diff(x)
            if np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-3):
                pixel_size_um = float(steps[0])
    data = np.asarray(getattr(array, "values", array)).astype(dtype, copy=False)
    if data.ndim not in (2, 3):
        raise ValueError(f"expected a 2-D map or a 3-D stack, got shape {data.shape}")
    md: dict[str, Any] = {"axes": "YX" if data.ndim == 2 else "TYX"}
    if pixel_size_um is not None:
        if not (math.isfinite(pixel_size_um) and pixel_size_um > 0):
            raise ValueError(f"pixel_size_um must be a positive number, got {pixel_size_um!r}")
        md["unit"] = "um"
        kw.setdefault("resolution", (1.0 / pixel_size_um, 1.0 / pixel_size_um))
    finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
    if finite.size:
        md.setdefault("min", float(finite.min()))
        md.setdefault("max", float(finite.max()))
    if metadata:
        md.update(metadata)
    with _atomic_target(path) as tmp:
        tifffile.imwrite(tmp, data, imagej=True, metadata=md, **kw)
    return Path(path)
