"""platescope: operando microscopy and electrochemistry of metal plating, quantified.

Subpackages (imported on demand, nothing happens at import time):
``io``, ``sync``, ``echem``, ``optics``, ``particles``, ``stats``, ``models``,
``simulate``, ``pipeline``, ``report``, ``cli``.
"""

from platescope._errors import InputError, PlatescopeError

__version__ = "0.1.0"

__all__ = ["InputError", "PlatescopeError", "__version__"]
