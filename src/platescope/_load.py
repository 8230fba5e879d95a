"""Open a result folder written by ``platescope analyze`` from Python (``ps.load``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platescope._errors import InputError

__all__ = ["Run", "load"]


@dataclass
class Run:
    """One analysed experiment: what ``analyze`` wrote, readable in a notebook.

    Attributes
    ----------
    path : pathlib.Path
        The result folder.
    summary : dict
        ``summary.json`` (uncertainties ``*_err`` are expanded, k = 2).
    tables : dict of str to pathlib.Path
        Table name → CSV file; read one with :meth:`table`.
    maps : dict of str to pathlib.Path
        Map name → float32 TIFF; read one with :meth:`map`.
    figures : dict of str to pathlib.Path
        Figure name → PNG file.
    """

    path: Path
    summary: dict
    tables: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)

    @property
    def warnings(self) -> list[dict]:
        """``summary["warnings"]``: ``{code, message, where}`` of every doubtful result."""
        return list(self.summary.get("warnings") or [])

    def table(self, name: str):
        """A table as a pandas DataFrame (``*_err`` columns are k = 2, as in the summary)."""
        import pandas as pd

        if name not in self.tables:
            raise KeyError(f"no table {name!r}; the run has {', '.join(sorted(self.tables))}")
        return pd.read_csv(self.tables[name])

    def map(self, name: str):
        """A map as an ``xarray.DataArray`` with dims ``("y", "x")`` in µm."""
        import numpy as np
        import tifffile
        import xarray as xr

        if name not in self.maps:
            raise KeyError(f"no map {name!r}; the run has {', '.join(sorted(self.maps))}")
        with tifffile.TiffFile(self.maps[name]) as tf:
            data = tf.asarray()
            page = tf.pages[0]
            px = None
            res = page.tags.get("XResolution")
            if res is not None and res.value[0]:
                px = res.value[1] / res.value[0]
            info = (tf.imagej_metadata or {}).get("Info")
        data = np.asarray(data)
        if data.ndim == 3:  # a stack of maps (e.g. one per cycle)
            dims = ("map", "y", "x")
        else:
            dims = ("y", "x")
        coords = {}
        if px:
            coords = {
                "y": ("y", np.arange(data.shape[-2]) * px, {"units": "um"}),
                "x": ("x", np.arange(data.shape[-1]) * px, {"units": "um"}),
            }
        attrs = {"source": str(self.maps[name]), "pixel_size_um": px}
        if info:
            attrs["description"] = info
        return xr.DataArray(data, dims=dims, coords=coords, attrs=attrs, name=name)

    def experiment(self):
        """The experiment file the run analysed (:class:`platescope.io.Experiment`)."""
        from platescope.io import read_experiment

        rec = self.summary.get("experiment_file") or {}
        # "path" is relative to the experiment file's own folder; "path_abs" locates it
        ef = rec.get("path_abs") or rec.get("path")
        if not ef:
            raise InputError(self.path, "the summary names no experiment file", "rerun analyze")
        return read_experiment(ef)

    def movie(self, section: str = "movie"):
        """The analysed movie, read lazily (:func:`platescope.io.read_movie`), or None."""
        from platescope.pipeline._common import read_movie_section

        exp = self.experiment()
        sec = exp.section(section)
        return read_movie_section(sec) if sec else None

    def echem(self):
        """The analysed echem record (as the analysis read it), or None."""
        from platescope.pipeline._common import read_echem_section

        exp = self.experiment()
        return read_echem_section(exp) if exp.echem else None


def load(result_dir) -> Run:
    """Open a folder written by ``platescope analyze``.

    Parameters
    ----------
    result_dir : path
        The ``--out`` folder (holding ``summary.json``).

    Returns
    -------
    Run

    Raises
    ------
    InputError
        The folder holds no ``summary.json`` (not an analyze result).

    Examples
    --------
    >>> import platescope as ps, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text('{"scenario": "irm-cv", "warnings": []}')
    >>> run = ps.load(d)
    >>> run.summary["scenario"], run.tables, run.warnings
    ('irm-cv', {}, [])
    """
    root = Path(result_dir)
    f = root / "summary.json"
    if not f.is_file():
        raise InputError(
            root, "is not a platescope result folder (no summary.json)", "give analyze's --out"
        )
    try:
        summary: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f, f"summary.json is not valid JSON ({err})", "rerun analyze") from None

    def files(sub: str, suffix: str) -> dict:
        folder = root / sub
        if not folder.is_dir():
            return {}
        return {p.stem: p for p in sorted(folder.glob(f"*{suffix}"))}

    return Run(
        path=root,
        summary=summary,
        tables=files("tables", ".csv"),
        maps=files("maps", ".tif"),
        figures=files("figures", ".png"),
    )
