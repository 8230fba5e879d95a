"""The ``platescope`` command: a thin layer over the library.

Exit status: 0 success, 2 bad input or usage (one paragraph naming the file, the
problem and the fix), 1 internal error.
"""

from platescope.cli._main import main

__all__ = ["main"]
