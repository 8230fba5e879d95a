"""Keep xarray from importing dask.array and pint just to build a NumPy-backed DataArray.

xarray asks "is this a dask array / a pint quantity?" whenever it wraps data
(``xarray.namedarray.pycompat.array_type``) and, to answer, imports the module when it
is installed: ``dask.array`` (with SciPy's ``sparse`` and ``fftpack``) and ``pint``
cost ≈ 0.3–0.5 s CPU of a cold process that never uses them (an SEM image is a NumPy
array). An object of a module's array type cannot exist before that module has been
imported, so until it is, the answer is "no" without importing it;
:func:`defer_duck_array_imports` puts that answer in xarray's cache of duck-array
modules. Once the module is in ``sys.modules`` (or anything else about it is asked:
version, availability) the stand-in builds xarray's own record and answers from it, so
dask-backed and pint-backed arrays are recognised exactly as before.

xarray also asks "is this a dask collection?" of every index it builds
(``xarray.namedarray.utils.is_dask_collection``), and answers by importing
``dask.base`` (dask's config, YAML, psutil: ≈ 0.1 s CPU of a cold process). dask's own
answer is "no" for any object without a ``__dask_graph__`` attribute, so the stand-in
gives that answer without the import and asks dask about everything else.

If xarray's internals differ from those this was written for (the cache or its record
class missing), nothing is changed.
"""

from __future__ import annotations

import sys

__all__ = ["defer_duck_array_imports"]

#: xarray's duck-array module name → the module whose import creates its array type
_TYPE_MODULE = {"dask": "dask.array", "pint": "pint"}


class _DeferredDuckModule:
    """xarray's duck-array record for ``mod``, built only once the module is imported."""

    def __init__(self, mod: str, record_class, cache: dict):
        self._mod, self._record_class, self._cache = mod, record_class, cache
        self._record = None

    def _real(self):
        if self._record is None:
            self._record = self._record_class(self._mod)
            self._cache[self._mod] = self._record
        return self._record

    @property
    def type(self) -> tuple:
        if _TYPE_MODULE[self._mod] not in sys.modules:
            return ()
        return self._real().type

    def __getattr__(self, name: str):
        return getattr(self._real(), name)


def _deferred_dask_collection_check(real):
    """``real`` (xarray's ``is_dask_collection``) preceded by dask's own first test."""

    def is_dask_collection(x) -> bool:
        # dask.base.is_dask_collection: a class or an object without __dask_graph__ is not
        if isinstance(x, type) or not hasattr(x, "__dask_graph__"):
            return False
        return real(x)

    is_dask_collection._platescope_deferred = True
    return is_dask_collection


def _defer_dask_collection_import() -> None:
    try:
        from xarray.namedarray import utils
    except ImportError:  # pragma: no cover - xarray is a dependency
        return
    real = getattr(utils, "is_dask_collection", None)
    if callable(real) and not getattr(real, "_platescope_deferred", False):
        utils.is_dask_collection = _deferred_dask_collection_check(real)


def defer_duck_array_imports() -> None:
    """Let xarray answer "not a dask / pint array" without importing dask or pint.

    Idempotent; a no-op if xarray is not importable or its internals differ.
    """
    _defer_dask_collection_import()
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - xarray is a dependency
        return
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    record_class = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or record_class is None:
        return
    for mod in _TYPE_MODULE:
        if mod not in cache:
            cache[mod] = _DeferredDuckModule(mod, record_class, cache)
