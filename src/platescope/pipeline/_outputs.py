"""Where an analysis puts its results: a staged output folder swapped in at the end.

Everything is written into a fresh hidden folder beside the destination; only when the
whole run succeeded is the old destination moved away and the new one renamed into
place, so a rerun never mixes old and new results and a failed run leaves the previous
results untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope._hashing import sha256_file  # noqa: F401 (re-exported)


class StagedOutput:
    """A results folder built in a staging area and published atomically.

    Parameters
    ----------
    out : path
        The final output folder.
    """

    def __init__(self, out) -> None:
        self.out = Path(out).resolve()
        if self.out.exists() and not self.out.is_dir():
            raise InputError(
                self.out, "the output path exists and is not a folder", "choose another --out"
            )
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.staging-", dir=self.out.parent))
        # mkdtemp makes the folder private (0700); a published result is as readable as
        # any folder the user creates
        from platescope._atomic import _file_mode

        os.chmod(
            self.root, _file_mode(self.root / "-") | ((_file_mode(self.root / "-") & 0o444) >> 2)
        )
        for sub in ("tables", "maps", "figures"):
            (self.root / sub).mkdir()
        self.figures: list[dict] = []
        self.tables: list[dict] = []
        self.maps: list[str] = []

    def table(self, name: str, df: pd.DataFrame, *, title: str, errors: str | None = None) -> str:
        """Write ``tables/<name>.csv``; returns its relative path.

        Parameters
        ----------
        name : str
            File stem.
        df : pandas.DataFrame
            The table.
        title : str
            Its title in the report.
        errors : {"1sigma", "k2"}, optional
            What the table's ``*_err`` columns hold. Tables follow the summary's
            convention (expanded, k = 2): ``"1sigma"`` doubles them on writing, ``"k2"``
            writes them as they are. Required when the table has ``*_err`` columns, so
            no table states an uncertainty without saying which.
        """
        from platescope.pipeline._common import is_err_key

        err_cols = [c for c in df.columns if is_err_key(c)]
        if err_cols and errors not in ("1sigma", "k2"):
            raise ValueError(
                f"table {name!r} has uncertainty columns {err_cols[:3]}: say errors='1sigma' "
                "or errors='k2'"
            )
        if err_cols and errors == "1sigma":
            df = df.copy()
            for c in err_cols:
                df[c] = pd.to_numeric(df[c], errors="coerce") * 2.0
        rel = f"tables/{name}.csv"
        df.to_csv(self.root / rel, index=False)
        entry = {"title": title, "path": rel}
        if err_cols:
            entry["errors"] = "expanded uncertainty, k = 2 (≈95 %)"
        self.tables.append(entry)
        return rel

    def map(self, name: str, data, *, pixel_size_um: float | None = None) -> str:
        """Write a float32 map to ``maps/<name>.tif``; returns its relative path."""
        from platescope.report import atomic_write_tiff

        rel = f"maps/{name}.tif"
        atomic_write_tiff(
            self.root / rel, np.asarray(data, dtype=np.float32), pixel_size_um=pixel_size_um
        )
        self.maps.append(rel)
        return rel

    def figure(self, name: str, fig, *, title: str, caption: str) -> str:
        """Save a matplotlib Figure to ``figures/<name>.png``; returns its relative path."""
        from platescope.report import atomic_savefig

        rel = f"figures/{name}.png"
        atomic_savefig(fig, self.root / rel)
        self.figures.append(
            {"title": title, "path": str(self.root / rel), "rel": rel, "caption": caption}
        )
        return rel

    def publish(self) -> Path:
        """Replace the destination by the staged folder (marked as platescope's own)."""
        from platescope import __version__
        from platescope._outguard import write_marker

        write_marker(self.root, kind="result", version=__version__)
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
            self.out.rename(old / "previous")
        self.root.rename(self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.root = self.out
        return self.out

    def discard(self) -> None:
        """Remove the staging folder (after a failure)."""
        if self.root != self.out:
            shutil.rmtree(self.root, ignore_errors=True)
