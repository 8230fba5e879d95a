"""Figures, the self-contained HTML report, and atomic file writers.

Figures (each returns a :class:`matplotlib.figure.Figure` on the Agg canvas; save
with :func:`atomic_savefig`, dpi 150):

- :func:`fig_potential_irm` — potential transient over the IRM signal and dI/dt
- :func:`fig_tnuc_map` — t_nuc(IRM) map with scale bar, and its histogram
- :func:`fig_sem_particles` — SEM image with particle outlines and footprint
- :func:`fig_diameter_histogram` — diameters with the Gaussian(s) fit
- :func:`fig_alpha` — IRM signal vs equivalent Li thickness, α and R²
- :func:`fig_sync` — landing step, contact time and |I| on one clock
- :func:`fig_irm_frames` — preprocessed IRM frames at evenly spaced times

HTML: :func:`render_report`, :func:`render_index`, and the number formatters
:func:`format_number`, :func:`format_value`.

Atomic writers (temp file in the same folder, then ``os.replace``):
:func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`,
:func:`atomic_savefig`, :func:`atomic_write_tiff`, plus :func:`to_jsonable`.

Submodules are imported on first use, so ``from platescope.report import
atomic_write_json`` does not import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "atomic_savefig": "_atomic",
    "atomic_write_bytes": "_atomic",
    "atomic_write_json": "_atomic",
    "atomic_write_text": "_atomic",
    "atomic_write_tiff": "_atomic",
    "to_jsonable": "_atomic",
    "fig_alpha": "_figures",
    "fig_diameter_histogram": "_figures",
    "fig_irm_frames": "_figures",
    "fig_potential_irm": "_figures",
    "fig_sem_particles": "_figures",
    "fig_sync": "_figures",
    "fig_tnuc_map": "_figures",
    "format_number": "_html",
    "format_value": "_html",
    "render_index": "_html",
    "render_report": "_html",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'platescope.report' has no attribute {name!r}")
    pkg = "platescope._atomic" if module == "_atomic" else f"platescope.report.{module}"
    value = getattr(importlib.import_module(pkg), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
