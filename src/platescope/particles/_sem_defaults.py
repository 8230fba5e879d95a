"""The SEM recipe's default parameters, apart from the recipe (cheap to import).

:mod:`platescope.pipeline` builds its parameter tables from them at import time; the
recipe itself (:mod:`platescope.particles._sem_recipe`, scikit-image, SciPy) is
imported only when an SEM image is analysed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SEM_RECIPE_DEFAULTS"]

#: The recipe's parameters with the ``sem-particles`` tuning (validated in
#: validation/sem_particles.py): smoothing, detection level, size limits, footprint, ImageJ
#: preset options. ``analyse_sem_image(image, params={...})`` overrides any of them.
SEM_RECIPE_DEFAULTS: dict[str, Any] = {
    "sigma_nm": 6.0,
    "threshold": "noise",
    "max_area_um2": 0.1,
    "min_area_nm2": 300.0,
    "edge_fraction": 0.2,
    "footprint": "grey",
    "ridge_min_nm": 20.0,
    "polarity": "bright",
    "morphology_sigma_px": 0.5,
    "morphology_grid": 8,
    "excluded_warn_fraction": 0.05,
    "preset": "none",
    "sigma_px": 2.0,
    "min_area_px": 0.0,
    "max_area_px": None,
    "watershed": True,
    "exclude_edges": False,
}
