"""Diameter-distribution fits against planted samples and independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from platescope import InputError
from platescope.stats import fit_diameter_distribution, mixture_pdf

TWO = {"w": 0.4, "mu": (55.0, 95.0), "sd": (8.0, 12.0)}


def _two_sample(rng, n):
    n1 = rng.binomial(n, TWO["w"])
    return np.concatenate(
        [rng.normal(TWO["mu"][0], TWO["sd"][0], n1), rng.normal(TWO["mu"][1], TWO["sd"][1], n - n1)]
    )


def _indep_loglik(x, comps):
    dens = sum(c["weight"] * stats.norm.pdf(x, c["mean_nm"], c["sd_nm"]) for c in comps)
    return float(np.sum(np.log(dens)))


def test_one_gaussian_is_the_closed_form_mle():
    x = np.random.default_rng(7).gamma(20.0, 4.0, 257)
    fit = fit_diameter_distribution(x, max_components=1)
    (c,) = fit["components"]
    assert fit["selected_components"] == 1
    assert c["mean_nm"] == pytest.approx(np.mean(x), rel=1e-12)
    assert c["sd_nm"] == pytest.approx(np.std(x, ddof=0), rel=1e-12)
    # observed information of a Gaussian at its MLE: se(mu)=sd/sqrt(n), se(sd)=sd/sqrt(2n)
    assert c["mean_nm_err"] == pytest.approx(np.std(x) / np.sqrt(x.size), rel=1e-12)
    assert c["sd_nm_err"] == pytest.approx(np.std(x) / np.sqrt(2 * x.size), rel=1e-12)
    ll = stats.norm.logpdf(x, np.mean(x), np.std(x)).sum()
    assert fit["models"][0]["log_likelihood"] == pytest.approx(ll, rel=1e-12)
    assert fit["bic"][1] == pytest.approx(2 * np.log(x.size) - 2 * ll, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_two_components_recovered_within_standard_errors(seed):
    x = _two_sample(np.random.default_rng(seed), 600)
    fit = fit_diameter_distribution(x)
    assert fit["selected_components"] == 2
    assert fit["bic"][2] < fit["bic"][1]
    lo, hi = fit["components"]
    for c, mu, sd in ((lo, TWO["mu"][0], TWO["sd"][0]), (hi, TWO["mu"][1], TWO["sd"][1])):
        assert abs(c["mean_nm"] - mu) < 4 * c["mean_nm_err"]
        assert abs(c["sd_nm"] - sd) < 4 * c["sd_nm_err"]
    assert abs(lo["weight"] - TWO["w"]) < 4 * lo["weight_err"]
    assert lo["weight"] + hi["weight"] == pytest.approx(1.0)


def test_bic_keeps_one_component_for_a_gaussian_sample():
    picks = [
        fit_diameter_distribution(np.random.default_rng(100 + s).normal(75, 15, 300))[
            "selected_components"
        ]
        for s in range(10)
    ]
    assert picks.count(1) >= 8


def test_bic_finds_two_components_in_most_seeds_when_they_are_resolved():
    # means 3.3 pooled sd apart, n = 250: resolvable but not trivially so
    picks = []
    for s in range(10):
        rng = np.random.default_rng(200 + s)
        x = np.concatenate([rng.normal(60, 9, 125), rng.normal(90, 9, 125)])
        picks.append(fit_diameter_distribution(x)["selected_components"])
    assert picks.count(2) >= 8


def test_mixture_fit_is_the_maximum_of_an_independent_likelihood():
    x = _two_sample(np.random.default_rng(11), 400)
    fit = fit_diameter_distribution(x)
    m2 = next(m for m in fit["models"] if m["n_components"] == 2)
    ll_ours = _indep_loglik(x, m2["components"])
    assert m2["log_likelihood"] == pytest.approx(ll_ours, rel=1e-10)

    def nll(p):
        w = 1 / (1 + np.exp(-p[0]))
        comps = [
            {"weight": w, "mean_nm": p[1], "sd_nm": np.exp(p[3])},
            {"weight": 1 - w, "mean_nm": p[2], "sd_nm": np.exp(p[4])},
        ]
        return -_indep_loglik(x, comps)

    best = np.inf
    for start in ([0.0, 50, 100, 2.0, 2.0], [1.0, 60, 90, 2.5, 2.5], [-1.0, 40, 80, 1.5, 3.0]):
        r = optimize.minimize(
            nll,
            start,
            method="Nelder-Mead",
            options={"maxiter": 20000, "xatol": 1e-8, "fatol": 1e-10},
        )
        best = min(best, r.fun)
    assert ll_ours >= -best - 1e-6


def test_hessian_errors_have_nominal_coverage():
    hits, errs, ests = 0, [], []
    n_rep = 30
    for s in range(n_rep):
        x = _two_sample(np.random.default_rng(1000 + s), 300)
        lo = fit_diameter_distribution(x)["components"][0]
        hits += abs(lo["mean_nm"] - TWO["mu"][0]) <= 1.96 * lo["mean_nm_err"]
        errs.append(lo["mean_nm_err"])
        ests.append(lo["mean_nm"])
    assert hits / n_rep >= 0.8
    # the average standard error matches the scatter of the estimates
    assert 0.6 < np.mean(errs) / np.std(ests, ddof=1) < 1.6


def test_bootstrap_errors_agree_with_hessian_errors():
    x = _two_sample(np.random.default_rng(5), 500)
    h = fit_diameter_distribution(x)["components"]
    b = fit_diameter_distribution(x, errors="bootstrap", n_bootstrap=150, seed=1)["components"]
    for ch, cb in zip(h, b, strict=True):
        assert ch["mean_nm"] == pytest.approx(cb["mean_nm"], rel=1e-6)
        assert cb["mean_nm_err"] == pytest.approx(ch["mean_nm_err"], rel=0.35)
        assert cb["sd_nm_err"] == pytest.approx(ch["sd_nm_err"], rel=0.35)


def test_curve_is_a_normalised_density_of_the_selected_model():
    x = _two_sample(np.random.default_rng(3), 500)
    fit = fit_diameter_distribution(x)
    grid = np.asarray(fit["curve"]["x_nm"])
    pdf = np.asarray(fit["curve"]["pdf_per_nm"])
    expect = sum(
        c["weight"] * stats.norm.pdf(grid, c["mean_nm"], c["sd_nm"]) for c in fit["components"]
    )
    np.testing.assert_allclose(pdf, expect, rtol=1e-12)
    total, _ = integrate.quad(lambda v: float(mixture_pdf(v, fit["components"])), -100, 300)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_small_samples_fit_one_component_only():
    fit = fit_diameter_distribution([50.0, 60.0, 70.0, 65.0])
    assert fit["selected_components"] == 1
    assert [m["n_components"] for m in fit["models"]] == [1]
    assert "fewer than 10" in fit["note"]


@pytest.mark.parametrize(
    "bad, kwargs",
    [
        ([], {}),
        ([50.0], {}),
        ([50.0, np.nan, 60.0], {}),
        ([50.0, -1.0, 60.0], {}),
        ([50.0, 50.0, 50.0], {}),
        ([50.0, 60.0, 70.0], {"max_components": 3}),
        ([50.0, 60.0, 70.0], {"errors": "jackknife"}),
    ],
)
def test_bad_input_raises_input_error(bad, kwargs):
    with pytest.raises(InputError):
        fit_diameter_distribution(bad, **kwargs)
