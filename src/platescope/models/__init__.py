"""Physics: constants, Faraday conversions and (later) transport and nucleation models."""

from platescope.models._faraday import (
    FARADAY_C_MOL,
    LI_MOLAR_VOLUME_CM3_MOL,
    charge_to_volume_um3,
    sphere_volume_to_fmol,
)
from platescope.models._sand import sand_capacity_mAh_cm2, sand_limit
from platescope.models._scharifker_hills import (
    scharifker_hills_current,
    scharifker_hills_dimensionless,
    scharifker_hills_fit,
    scharifker_hills_parameters,
)
from platescope.models._stripping import (
    critical_stripping_current,
    li_concentration_mol_cm3,
    sand_capacity_solid,
    sand_time_liquid,
    sand_time_solid,
)
from platescope.models._tracer_diffusion import (
    MODELS as TRACER_MODELS,
)
from platescope.models._tracer_diffusion import (
    NATURAL_6LI_FRACTION,
    combine_anneal_times,
    excess_tracer,
    fit_tracer_profile,
    isotope_fraction,
    tracer_profile,
)
from platescope.models._void_model import (
    LI_METAL,
    LI_MG_10,
    StrippingMaterial,
    void_model_capacity,
)

__all__ = [
    "FARADAY_C_MOL",
    "LI_MOLAR_VOLUME_CM3_MOL",
    "charge_to_volume_um3",
    "sphere_volume_to_fmol",
]
__all__ += [  # stripping limits and Scharifker–Hills (issue 6)
    "LI_METAL",
    "LI_MG_10",
    "StrippingMaterial",
    "critical_stripping_current",
    "li_concentration_mol_cm3",
    "sand_capacity_solid",
    "sand_time_liquid",
    "sand_time_solid",
    "scharifker_hills_current",
    "scharifker_hills_dimensionless",
    "scharifker_hills_fit",
    "scharifker_hills_parameters",
    "void_model_capacity",
]
__all__ += [  # tracer diffusion from SIMS depth profiles (issue 6)
    "NATURAL_6LI_FRACTION",
    "TRACER_MODELS",
    "combine_anneal_times",
    "excess_tracer",
    "fit_tracer_profile",
    "isotope_fraction",
    "tracer_profile",
]
__all__ += ["sand_capacity_mAh_cm2", "sand_limit"]  # Sand's capacity (issue 14)
