"""BLAS threads for steps made of many small linear-algebra calls.

OpenBLAS (NumPy's and SciPy's wheels each bundle one) runs a product on several threads
once it passes a size threshold, and its idle threads spin before they sleep. The SEM
footprint's circle fits (``scipy.optimize.least_squares`` on up to ≈ 20,000 edge
points, 13 fits per image) make hundreds of products of an n × 3 Jacobian, each too
small to gain from a second thread: on the Tescan ``IrCo_2080_1000x`` image one thread
took 28 % less CPU for the whole recipe (2.87 → 2.06 s, load ≈ 3) and less wall time,
every output byte-identical (docs/performance.md, "Whole recipe, fourth pass").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["one_blas_thread"]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit every loaded BLAS library to one thread inside the block; restore after.

    A process-wide setting while the block runs (other threads' BLAS calls are limited
    too); without ``threadpoolctl`` nothing is changed.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.ones((3, 3)) @ np.ones(3) @ np.ones(3))
    9.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
