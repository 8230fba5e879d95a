"""Lazy package namespaces: a public name's submodule is imported on first use.

A package ``__init__`` lists where each public name lives and hands the mapping to
:func:`lazy_namespace`; ``import platescope.io`` then costs almost nothing, and
``platescope.io.read_echem`` imports only :mod:`platescope.io._echem` (and what it
needs). ``from platescope.io import read_echem`` works as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_namespace"]


def lazy_namespace(package: str, where: Mapping[str, str]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for a package whose public names load lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping
        Public name → the module (absolute name) that defines it, or
        ``"module:attribute"`` when the public name is an alias.

    Examples
    --------
    >>> get, _ = lazy_namespace("platescope.io", {"read_echem": "platescope.io._echem"})
    >>> get("read_echem").__name__
    'read_echem'
    """

    def __getattr__(name: str):
        mod = where.get(name)
        if mod is None:
            # a submodule reached as an attribute (``platescope.echem._combinatorial``)
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        mod, _, attr = mod.partition(":")
        value = getattr(importlib.import_module(mod), attr or name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        namespace = sys.modules[package].__dict__
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__


#: module → ``"module:function"`` called once the lazy stand-in has imported it
_AFTER_IMPORT = {"xarray": "platescope._xarray_light:defer_duck_array_imports"}


class _LazyModule:
    """Stands for a module until an attribute is first used, then forwards to it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self):
        mod = object.__getattribute__(self, "_module")
        if mod is None:
            name = object.__getattribute__(self, "_name")
            mod = importlib.import_module(name)
            if name in _AFTER_IMPORT:
                target, _, func = _AFTER_IMPORT[name].partition(":")
                getattr(importlib.import_module(target), func)()
            object.__setattr__(self, "_module", mod)
        return mod

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {object.__getattribute__(self, '_name')!r}>"


def lazy_module(name: str):
    """A stand-in for module ``name`` that imports it on first attribute access.

    For modules whose import is expensive (pandas, xarray) and that a module needs only
    inside its functions: the scenario runners are imported by ``platescope --help``,
    which must not pay for them. Nothing is put in :data:`sys.modules` until the first
    use, and then the real module is.

    Examples
    --------
    >>> fractions = lazy_module("fractions")
    >>> fractions.Fraction(1, 3) + fractions.Fraction(1, 6)
    Fraction(1, 2)
    """
    return _LazyModule(name)
