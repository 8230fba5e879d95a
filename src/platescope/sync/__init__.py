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
}

__all__ = [
    "mean_intensity",
    "offset_from_landing",
    "offset_from_t0",
    "offset_from_xcorr",
    "synchronize",
    "to_echem_clock",
]

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
