"""platescope.stats: distribution fits and (later) colocalisation, spatial statistics.

See DESIGN.md §1.

Colocalisation (``_colocalization``): :func:`pearson_r`, :func:`manders`,
:func:`costes_threshold`, :func:`costes_test`, :func:`colocalization`,
:func:`pearson_matrix`.

Power laws: :func:`power_law_fit` (y = a·x^b on log–log axes, exponent ± 1σ).

Spatial point statistics (``_spatial``): :func:`clark_evans`, :func:`ripley_k`,
:func:`ripley_envelope`, :func:`csr_test`, :func:`sample_point_process`.
"""

from platescope.stats._colocalization import (
    colocalization,
    costes_test,
    costes_threshold,
    manders,
    pearson_matrix,
    pearson_r,
)
from platescope.stats._distributions import fit_diameter_distribution, mixture_pdf
from platescope.stats._power_law import power_law_fit
from platescope.stats._spatial import (
    clark_evans,
    csr_test,
    ripley_envelope,
    ripley_k,
    sample_point_process,
)

__all__ = [
    "clark_evans",
    "colocalization",
    "costes_test",
    "costes_threshold",
    "csr_test",
    "fit_diameter_distribution",
    "manders",
    "mixture_pdf",
    "pearson_matrix",
    "pearson_r",
    "power_law_fit",
    "ripley_envelope",
    "ripley_k",
    "sample_point_process",
]
