"""platescope.stats: distribution fits and (later) colocalisation, spatial statistics.

See DESIGN.md §1.
"""

from platescope.stats._distributions import fit_diameter_distribution, mixture_pdf

__all__ = ["fit_diameter_distribution", "mixture_pdf"]
