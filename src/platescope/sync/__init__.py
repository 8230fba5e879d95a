"""Put the movie clock and the potentiostat clock on one time axis."""

from platescope.sync._clocks import (
    mean_intensity,
    offset_from_landing,
    offset_from_t0,
    offset_from_xcorr,
    synchronize,
    to_echem_clock,
)
from platescope.sync._diagnose import diagnose_frame_times
from platescope.sync._strobe import find_strobe_pulses, strobe_channel, strobe_frame_times

__all__ = [
    "diagnose_frame_times",
    "find_strobe_pulses",
    "mean_intensity",
    "offset_from_landing",
    "offset_from_t0",
    "offset_from_xcorr",
    "strobe_channel",
    "strobe_frame_times",
    "synchronize",
    "to_echem_clock",
]
