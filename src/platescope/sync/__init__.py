"""Put the movie clock and the potentiostat clock on one time axis."""

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.sync`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "mean_intensity": "platescope.sync._clocks",
    "offset_from_landing": "platescope.sync._clocks",
    "offset_from_t0": "platescope.sync._clocks",
    "offset_from_xcorr": "platescope.sync._clocks",
    "synchronize": "platescope.sync._clocks",
    "to_echem_clock": "platescope.sync._clocks",
    "diagnose_frame_times": "platescope.sync._diagnose",
    "find_strobe_pulses": "platescope.sync._strobe",
    "strobe_channel": "platescope.sync._strobe",
    "strobe_frame_times": "platescope.sync._strobe",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
