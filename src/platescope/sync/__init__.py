"""Put the movie clock and the potentiostat clock on one time axis."""

from platescope.sync._clocks import (
    mean_intensity,
    offset_from_landing,
    offset_from_t0,
    offset_from_xcorr,
    synchronize,
    to_echem_clock,
)

__all__ = [
    "mean_intensity",
    "offset_from_landing",
    "offset_from_t0",
    "offset_from_xcorr",
    "synchronize",
    "to_echem_clock",
]
