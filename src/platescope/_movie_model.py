"""The Movie data model: one constructor and the checks every movie analysis shares.

A Movie is an ``xarray.DataArray`` with dims ``("t", "y", "x")``: coordinate ``t`` holds
each frame's real time in s (strictly increasing), ``y`` and ``x`` the pixel centres in
µm; attrs ``units`` (``"counts"``), ``mode`` (``"irm"``, ``"trans"``, ``"epi"`` …),
``pixel_size_um``, ``source`` (the file), ``t_source`` (where the times came from) and
whatever the reader adds. :func:`platescope.io.read_movie` returns one,
:func:`movie_dataarray` builds one from arrays (the simulators' in-memory results use
it), and ``optics``/``particles`` check their inputs with the helpers here. This module
imports nothing of platescope but the error type, so every layer may use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._lazy import lazy_module

# imported on first use (`platescope info` of an SEM image needs no xarray)
xr = lazy_module("xarray")

__all__ = ["movie_dataarray"]


def movie_dataarray(
    data,
    *,
    t_s,
    pixel_size_um: float | tuple[float, float],
    mode: str | None = None,
    units: str = "counts",
    source: str | None = None,
    **attrs: Any,
) -> xr.DataArray:
    """A Movie from an array ``(t, y, x)``, its frame times and its pixel size.

    Parameters
    ----------
    data : array_like or dask array
        Frames, shape ``(n_t, n_y, n_x)`` (kept as given: a dask array stays lazy).
    t_s : array_like
        Frame times, s, strictly increasing.
    pixel_size_um : float or (float, float)
        Pixel size in µm (or ``(dy, dx)``).
    mode : str, optional
        Imaging mode (``"irm"``, ``"trans"``, ``"epi"``, ``"reflection"`` …).
    units : str
        Intensity unit.
    source : str, optional
        The file the frames came from.
    **attrs
        Further attributes (``t_source``, ``t0`` …).

    Examples
    --------
    >>> import numpy as np
    >>> m = movie_dataarray(np.zeros((3, 2, 4)), t_s=[0.0, 0.5, 1.0], pixel_size_um=0.2)
    >>> m.dims, m.x.values.tolist(), m.attrs["pixel_size_um"]
    (('t', 'y', 'x'), [0.0, 0.2, 0.4, 0.6000000000000001], 0.2)
    """
    if np.ndim(pixel_size_um) == 0:
        py = px = float(pixel_size_um)
    else:
        py, px = (float(v) for v in pixel_size_um)
    shape = getattr(data, "shape", np.shape(data))
    if len(shape) != 3:
        raise InputError(source, f"a movie needs 3 dimensions (t, y, x), got {len(shape)}", "")
    coords = {
        "t": ("t", np.asarray(t_s, dtype=float), {"units": "s"}),
        "y": ("y", np.arange(shape[1]) * py, {"units": "um"}),
        "x": ("x", np.arange(shape[2]) * px, {"units": "um"}),
    }
    base: dict[str, Any] = {
        "units": units,
        "mode": None if mode is None else str(mode).lower(),
        "source": source,
        "pixel_size_um": float(px),
    }
    if py != px:
        base["pixel_size_y_um"] = float(py)
    base.update(attrs)
    movie = xr.DataArray(data, dims=("t", "y", "x"), coords=coords, attrs=base, name="intensity")
    _check_movie(movie)
    return movie


# --------------------------------------------------------------------------- checks


def _check_movie(movie, *, name: str = "movie") -> np.ndarray:
    """Validate a Movie and return its frame times in s (float64, strictly increasing)."""
    if not isinstance(movie, xr.DataArray):
        raise InputError(
            None,
            f"{name} is a {type(movie).__name__}, not an xarray.DataArray with dims (t, y, x)",
            "read the movie with platescope.io.read_movie or wrap the array in "
            "xarray.DataArray(data, dims=('t', 'y', 'x'), coords={'t': times_s, ...})",
        )
    if movie.dims != ("t", "y", "x"):
        raise InputError(
            _source(movie),
            f"{name} has dims {movie.dims}, expected ('t', 'y', 'x')",
            "transpose it with movie.transpose('t', 'y', 'x') or rename the dimensions",
        )
    if movie.sizes["t"] == 0 or movie.sizes["y"] == 0 or movie.sizes["x"] == 0:
        raise InputError(
            _source(movie), f"{name} is empty (shape {movie.shape})", "check the input file"
        )
    if "t" not in movie.coords:
        raise InputError(
            _source(movie),
            f"{name} has no time coordinate 't'",
            "attach the per-frame timestamps in seconds as coordinate 't'",
        )
    # the coordinate's Variable: ``movie["t"]`` would build a DataArray (and copy the
    # movie's coordinate indexes) on every call
    t = np.asarray(movie.coords.variables["t"].values, dtype=float)
    if not np.all(np.isfinite(t)):
        raise InputError(
            _source(movie),
            f"{name} has non-finite frame times",
            "supply real per-frame timestamps (a frame-times CSV) or the frame interval",
        )
    if t.size > 1 and not np.all(np.diff(t) > 0):
        bad = int(np.argmax(~(np.diff(t) > 0)))
        raise InputError(
            _source(movie),
            f"{name} frame times are not strictly increasing (frame {bad + 1} at "
            f"{t[bad + 1]!r} s follows {t[bad]!r} s)",
            "fix the frame timestamps (zero or repeated times usually mean the metadata "
            "lacks them; pass a frame-times CSV or the frame interval)",
        )
    return t


def _pixel_size_um(obj, *, name: str = "movie") -> tuple[float, float]:
    """(dy, dx) in µm from the ``y``/``x`` coordinates of a DataArray."""
    sizes = []
    for dim in ("y", "x"):
        if dim not in obj.coords or obj.sizes[dim] < 2:
            raise InputError(
                _source(obj),
                f"{name} has no usable '{dim}' coordinate in µm to give the pixel size",
                f"attach coordinate '{dim}' in µm (pixel centres), e.g. from the file "
                "metadata or the experiment file's pixel_size_um",
            )
        c = np.asarray(obj[dim].values, dtype=float)
        d = np.diff(c)
        step = float(np.median(np.abs(d)))
        if not np.isfinite(step) or step <= 0 or not np.allclose(np.abs(d), step, rtol=1e-3):
            raise InputError(
                _source(obj),
                f"{name} coordinate '{dim}' is not evenly spaced in µm",
                f"give '{dim}' as evenly spaced pixel centres in µm",
            )
        sizes.append(step)
    return sizes[0], sizes[1]


def _frame_image(movie, values: np.ndarray, *, name: str, attrs: dict) -> xr.DataArray:
    """A ``(y, x)`` image on the frame grid of ``movie`` (dims ``(t, y, x)``).

    The same DataArray as ``xr.DataArray(values, dims=("y", "x"), coords={"y":
    movie.y, "x": movie.x}, name=name, attrs=attrs)`` (only the ``y``/``x``
    coordinates the movie has, with their attrs; empty ``encoding``; ``values`` not
    copied), without rebuilding the coordinates' pandas indexes: xarray's constructor
    deep-copies them, ≈ 0.15–0.2 ms per call — the fixed cost of a per-pixel map of a
    small field. The (immutable) pandas indexes are shared with ``movie``; the coordinate
    variables are shallow copies, so changing the result's coordinate attrs leaves the
    movie's alone, as with the constructor.
    """
    out = movie.isel(t=0, drop=True).copy(deep=False)
    extra = [c for c in out.coords if c not in ("y", "x")]
    if extra:
        out = out.drop_vars(extra)
    if out.dims != ("y", "x"):
        out = out.transpose("y", "x")
    out.data = values  # replaces the frame view on a fresh Variable (shape checked)
    out.attrs = attrs
    out.encoding = {}
    out.name = name
    return out


def _float_dtype(dtype) -> np.dtype:
    """float64 stays float64; everything else computes in float32."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _is_dask(arr) -> bool:
    return hasattr(arr, "dask") and hasattr(arr, "compute")
