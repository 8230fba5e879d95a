"""power_law_fit against planted power laws and an independent line fit (scipy linregress)."""

import numpy as np
import pytest
from scipy import stats as sps

from platescope.stats import power_law_fit


def test_exact_power_law_recovered():
    x = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    r = power_law_fit(x, 3.0e5 * x**0.7)
    assert r["exponent"] == pytest.approx(0.7, abs=1e-12)
    assert r["prefactor"] == pytest.approx(3.0e5, rel=1e-12)
    assert r["n_points"] == 5 and r["n_dropped"] == 0


def test_unweighted_fit_matches_linregress_on_logs():
    rng = np.random.default_rng(4)
    x = np.geomspace(0.1, 10, 9)
    y = 2.0 * x**-1.3 * np.exp(rng.normal(0, 0.1, x.size))
    r = power_law_fit(x, y)
    ref = sps.linregress(np.log(x), np.log(y))
    assert r["exponent"] == pytest.approx(ref.slope, rel=1e-10)
    assert r["exponent_err"] == pytest.approx(ref.stderr, rel=1e-8)


def test_weighted_exponent_error_is_honest_over_many_draws():
    """With Poisson counts as y and √N as y_err, the exponent's 1σ covers ≈ 68 % of draws."""
    rng = np.random.default_rng(11)
    j = np.geomspace(0.25, 4, 5)
    mean = 40.0 * j**0.7
    inside, n = 0, 400
    for _ in range(n):
        counts = rng.poisson(mean).astype(float)
        r = power_law_fit(j, counts, y_err=np.sqrt(counts))
        inside += abs(r["exponent"] - 0.7) <= r["exponent_err"]
    assert 0.58 <= inside / n <= 0.80


def test_too_few_points_or_one_x_gives_a_reason():
    r = power_law_fit([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert r["exponent"] is None and "distinct x" in r["reason"]
    r = power_law_fit([1.0, 2.0, -1.0], [1.0, 2.0, 3.0])
    assert r["exponent"] is None and r["n_dropped"] == 1
