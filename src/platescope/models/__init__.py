"""Physics: constants, Faraday conversions and (later) transport and nucleation models."""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.models`` stays cheap; the tracer-diffusion fits alone pull scipy.stats)
_WHERE = {
    "FARADAY_C_MOL": "platescope.models._faraday",
    "LI_MOLAR_VOLUME_CM3_MOL": "platescope.models._faraday",
    "charge_to_volume_um3": "platescope.models._faraday",
    "sphere_volume_to_fmol": "platescope.models._faraday",
    "sand_capacity_mAh_cm2": "platescope.models._sand",
    "sand_limit": "platescope.models._sand",
    "scharifker_hills_current": "platescope.models._scharifker_hills",
    "scharifker_hills_dimensionless": "platescope.models._scharifker_hills",
    "scharifker_hills_fit": "platescope.models._scharifker_hills",
    "scharifker_hills_parameters": "platescope.models._scharifker_hills",
    "critical_stripping_current": "platescope.models._stripping",
    "li_concentration_mol_cm3": "platescope.models._stripping",
    "sand_capacity_solid": "platescope.models._stripping",
    "sand_time_liquid": "platescope.models._stripping",
    "sand_time_solid": "platescope.models._stripping",
    "TRACER_MODELS": "platescope.models._tracer_diffusion:MODELS",
    "NATURAL_6LI_FRACTION": "platescope.models._tracer_diffusion",
    "combine_anneal_times": "platescope.models._tracer_diffusion",
    "excess_tracer": "platescope.models._tracer_diffusion",
    "fit_tracer_profile": "platescope.models._tracer_diffusion",
    "isotope_fraction": "platescope.models._tracer_diffusion",
    "tracer_profile": "platescope.models._tracer_diffusion",
    "LI_METAL": "platescope.models._void_model",
    "LI_MG_10": "platescope.models._void_model",
    "StrippingMaterial": "platescope.models._void_model",
    "void_model_capacity": "platescope.models._void_model",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
