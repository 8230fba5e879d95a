"""platescope._blas.one_blas_thread: one BLAS thread inside the block, restored after."""

from __future__ import annotations

import numpy as np
import pytest

from platescope._blas import one_blas_thread


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_blas_thread_inside_and_restored_after():
    pytest.importorskip("threadpoolctl")
    np.ones((4, 4)) @ np.ones(4)  # BLAS loaded
    before = _blas_threads()
    assert before, "no BLAS library found"
    with one_blas_thread():
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before


def test_footprint_circle_fits_run_with_one_blas_thread(monkeypatch):
    """The footprint's circle fits (many n × 3 products) run inside the limit."""
    pytest.importorskip("threadpoolctl")
    from scipy import optimize

    from platescope.particles._sem_particles import _fit_circle

    seen = []
    real = optimize.least_squares

    def probe(*args, **kwargs):
        seen.append(_blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(optimize, "least_squares", probe)
    before = _blas_threads()
    th = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    p, err = _fit_circle(50 + 30 * np.sin(th), 60 + 30 * np.cos(th))
    np.testing.assert_allclose(p, [50, 60, 30], atol=1e-6)
    assert len(seen) == 13 and all(n == [1] * len(before) for n in seen)
    assert _blas_threads() == before
