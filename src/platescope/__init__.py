"""platescope: operando microscopy and electrochemistry of metal plating, quantified.

``import platescope as ps`` gives the subpackages on first use (nothing heavy happens
at import time): ``ps.io``, ``ps.sync``, ``ps.echem``, ``ps.optics``, ``ps.particles``,
``ps.stats``, ``ps.models``, ``ps.surface`` (AFM height maps), ``ps.volume``
(tomograms), ``ps.simulate``, ``ps.pipeline``, ``ps.report``, ``ps.testing``, ``ps.cli``,
``ps.viewer`` (napari plugin, optional extra); ``ps.load(result_dir)`` opens an ``analyze`` result
(summary, tables, maps, the movie) and ``ps.analyze`` runs one.
"""

from platescope._errors import InputError, PlatescopeError

__version__ = "0.1.0"

_SUBPACKAGES = (
    "cli",
    "echem",
    "io",
    "models",
    "optics",
    "particles",
    "pipeline",
    "report",
    "simulate",
    "stats",
    "surface",
    "sync",
    "testing",
    "viewer",
    "volume",
)

__all__ = ["InputError", "PlatescopeError", "__version__", "analyze", "load", *_SUBPACKAGES]


def __getattr__(name: str):
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"platescope.{name}")
    if name == "load":
        return importlib.import_module("platescope._load").load
    if name == "analyze":
        return importlib.import_module("platescope.pipeline").analyze
    raise AttributeError(f"module 'platescope' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
