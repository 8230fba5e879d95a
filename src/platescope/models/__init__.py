"""Physics: constants, Faraday conversions and (later) transport and nucleation models."""

from platescope.models._faraday import (
    FARADAY_C_MOL,
    LI_MOLAR_VOLUME_CM3_MOL,
    charge_to_volume_um3,
    sphere_volume_to_fmol,
)

__all__ = [
    "FARADAY_C_MOL",
    "LI_MOLAR_VOLUME_CM3_MOL",
    "charge_to_volume_um3",
    "sphere_volume_to_fmol",
]
