"""The simulators' in-memory results as the data model the readers return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from platescope._movie_model import movie_dataarray

__all__ = ["as_movie"]


def as_movie(
    sim: Mapping[str, Any], key: str = "movie", *, mode: str | None = None
) -> xr.DataArray:
    """A simulated movie as the Movie DataArray :func:`platescope.io.read_movie` returns.

    Parameters
    ----------
    sim : mapping
        The result of a ``make_*`` simulator (``make_irm_galvanostatic``,
        ``make_irm_cv``, ``make_dendrite_cycling``, ``make_see_through``): the frames
        under ``key``, ``frame_times_s`` (movie clock, s) and ``pixel_size_um``.
    key : str
        Which movie (``"movie"``; ``"trans"`` or ``"epi"`` for see-through).
    mode : str, optional
        Imaging mode recorded in ``attrs`` (default: ``"irm"`` for ``movie``, else
        ``key``).

    Returns
    -------
    xarray.DataArray
        dims ``("t", "y", "x")``, ``t`` in s on the movie clock, ``y``/``x`` in µm.

    Examples
    --------
    >>> import numpy as np
    >>> sim = {"movie": np.zeros((4, 3, 3), np.uint16), "frame_times_s": [0, 1, 2, 3.0],
    ...        "pixel_size_um": 0.1}
    >>> as_movie(sim).sizes["t"], as_movie(sim).attrs["mode"]
    (4, 'irm')
    """
    if key not in sim:
        raise KeyError(f"the simulation holds no movie {key!r} (it has {', '.join(sim)})")
    return movie_dataarray(
        sim[key],
        t_s=sim["frame_times_s"],
        pixel_size_um=sim["pixel_size_um"],
        mode=mode or ("irm" if key == "movie" else key),
        source=f"simulated ({key})",
        t_source="simulation",
    )
