"""platescope.stats: distribution fits and (later) colocalisation, spatial statistics.

See DESIGN.md §1.

Colocalisation (``_colocalization``): :func:`pearson_r`, :func:`manders`,
:func:`costes_threshold`, :func:`costes_test`, :func:`colocalization`,
:func:`pearson_matrix`.

Power laws: :func:`power_law_fit` (y = a·x^b on log–log axes, exponent ± 1σ).

Spatial point statistics (``_spatial``): :func:`clark_evans`, :func:`ripley_k`,
:func:`ripley_envelope`, :func:`csr_test`, :func:`sample_point_process`.
"""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.stats`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "colocalization": "platescope.stats._colocalization",
    "costes_test": "platescope.stats._colocalization",
    "costes_threshold": "platescope.stats._colocalization",
    "manders": "platescope.stats._colocalization",
    "pearson_matrix": "platescope.stats._colocalization",
    "pearson_r": "platescope.stats._colocalization",
    "fit_diameter_distribution": "platescope.stats._distributions",
    "mixture_pdf": "platescope.stats._distributions",
    "clark_evans": "platescope.stats._spatial",
    "csr_test": "platescope.stats._spatial",
    "ripley_envelope": "platescope.stats._spatial",
    "ripley_k": "platescope.stats._spatial",
    "sample_point_process": "platescope.stats._spatial",
    "power_law_fit": "platescope.stats._power_law",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
