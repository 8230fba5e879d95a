"""Tracer-diffusion fits: exact recovery, physics limits, counting-noise calibration,
surface exclusion against planted contamination, and the anneal-time combination."""

import numpy as np
import pytest
from scipy import integrate

from platescope.models import (
    NATURAL_6LI_FRACTION,
    combine_anneal_times,
    excess_tracer,
    fit_tracer_profile,
    isotope_fraction,
    tracer_profile,
)
from platescope.simulate import make_sims_diffusion

UM2 = 1e-8  # cm² per µm²


def _counts(f, n_total):
    f = np.asarray(f, float)
    return f * n_total, (1 - f) * n_total


def test_isotope_fraction_mass_bias_and_excess():
    f, err = isotope_fraction([100, 300], [900, 700])
    np.testing.assert_allclose(f, [0.1, 0.3])
    # binomial error at the smoothed fraction (n + ½)/(N + 1)
    ft = 100.5 / 1001
    assert err[0] == pytest.approx(np.sqrt(ft * (1 - ft) / 1001))
    # K doubles the measured ratio: 100/900 → 200/900
    fk, _ = isotope_fraction([100], [900], mass_bias=2.0)
    assert fk[0] == pytest.approx(200 / 1100)
    c = excess_tracer([NATURAL_6LI_FRACTION, 0.95], background=NATURAL_6LI_FRACTION, source=0.95)
    np.testing.assert_allclose(c, [0.0, 1.0])


def test_profiles_obey_their_physics():
    x = np.linspace(0, 60, 20001)
    s, h = 5.0, 0.8
    ff = tracer_profile(x, sigma_um=s, model="finite-film", amplitude=1.0, film_thickness_um=h)
    # tracer is conserved: ∫C′dx over the half space = A·h (reflecting surface)
    assert integrate.trapezoid(ff, x) == pytest.approx(h, rel=1e-4)
    # its second moment is 2Dt + h²/3 with 2Dt = s²
    m2 = integrate.trapezoid(x**2 * ff, x) / integrate.trapezoid(ff, x)
    assert m2 == pytest.approx(s**2 + h**2 / 3, rel=1e-4)
    g = tracer_profile(x, sigma_um=s)
    assert g[0] == 1.0 and integrate.trapezoid(g, x) == pytest.approx(
        s * np.sqrt(np.pi / 2), rel=1e-4
    )
    e = tracer_profile(x, sigma_um=s, model="erfc", amplitude=0.7)
    assert e[0] == pytest.approx(0.7)
    # erfc(x/2√Dt) is ½ at x = 0.4769·2√Dt
    assert tracer_profile([0.476936 * np.sqrt(2) * s], sigma_um=s, model="erfc")[
        0
    ] == pytest.approx(0.5, abs=1e-5)
    with pytest.raises(ValueError, match="unknown model"):
        tracer_profile(x, sigma_um=s, model="lorentz")


@pytest.mark.parametrize("model", ["gaussian", "finite-film", "erfc"])
def test_noise_free_profiles_give_the_planted_D(model):
    D, t, f_bg = 2.4e-11, 3600.0, NATURAL_6LI_FRACTION
    s = np.sqrt(2 * D * t / UM2)
    x = np.linspace(0.05, 4.5 * s, 90)
    c = tracer_profile(x, sigma_um=s, model=model, amplitude=0.6, film_thickness_um=1.0)
    f = f_bg + (0.95 - f_bg) * c
    nt, no = _counts(f, 1e6)
    r = fit_tracer_profile(
        x,
        nt,
        no,
        anneal_time_s=t,
        model=model,
        source_fraction=0.95,
        exclusion="none",
        film_thickness_um=1.0 if model == "finite-film" else None,
    )
    assert r["D_cm2_s"] == pytest.approx(D, rel=1e-4)
    assert r["background_fraction"] == pytest.approx(f_bg, abs=1e-6)
    assert r["amplitude"] == pytest.approx(0.6, rel=1e-4)
    assert r["r2"] > 0.99999


def test_sigma0_and_depth_scale_terms():
    t, D = 1800.0, 1e-10
    s2 = 2 * D * t / UM2 + 0.5**2
    x = np.linspace(0.1, 4 * np.sqrt(s2), 60)
    f = 0.05 + 0.3 * np.exp(-0.5 * x**2 / s2)
    nt, no = _counts(f, 1e5)
    r = fit_tracer_profile(x, nt, no, anneal_time_s=t, sigma0_um=0.5, depth_scale_err=0.02)
    assert r["D_cm2_s"] == pytest.approx(D, rel=1e-5)
    # D ∝ depth² → 2 × 2 % relative, on s²/(2t)
    assert r["D_err_depth_scale_cm2_s"] == pytest.approx(0.04 * s2 / (2 * t) * UM2, rel=1e-6)
    assert r["D_err_cm2_s"] == pytest.approx(
        np.hypot(r["D_err_fit_cm2_s"], r["D_err_depth_scale_cm2_s"])
    )


def test_counting_errors_are_calibrated_over_seeds():
    """Pulls (D − D_true)/D_err over 40 Poisson draws have mean ≈ 0 and sd ≈ 1."""
    rng = np.random.default_rng(11)
    D, t = 1.6e-10, 3600.0
    s = np.sqrt(2 * D * t / UM2)
    x = (np.arange(70) + 0.5) * 4.5 * s / 70
    f = 0.05 + 0.15 * np.exp(-0.5 * (x / s) ** 2)
    pulls = []
    for _ in range(40):
        nt = rng.poisson(f * 2e4)
        no = rng.poisson((1 - f) * 2e4)
        r = fit_tracer_profile(x, nt, no, anneal_time_s=t, exclusion="none")
        pulls.append((r["D_cm2_s"] - D) / r["D_err_cm2_s"])
    pulls = np.array(pulls)
    # mean of 40 unit-variance pulls: sd 0.16; sd of the pulls: ±0.11 at 1σ
    assert abs(pulls.mean()) < 0.5
    assert 0.7 < pulls.std(ddof=1) < 1.35


def test_contaminated_surface_points_are_excluded_and_nothing_clean():
    sim = make_sims_diffusion(seed=3)
    for t, p, tr in zip(sim["times"], sim["profiles"], sim["truth"]["sims"], strict=True):
        for oxygen in (p["oxygen"], None):
            r = fit_tracer_profile(
                p["depth_um"], p["n_tracer"], p["n_other"], anneal_time_s=t, oxygen_counts=oxygen
            )
            exc = set(r["excluded_points"])
            assert set(tr["contaminated_points"]) <= exc
            assert exc <= set(tr["contaminated_points"]) | set(tr["transition_points"])
            assert r["D_cm2_s"] == pytest.approx(1.6e-10, abs=4 * r["D_err_cm2_s"])
        # the O channel marks the layer
        assert r["n_points_used"] == r["n_points"] - len(exc)


def test_including_the_contaminated_points_biases_D():
    sim = make_sims_diffusion(seed=4, anneal_times_s="900")
    p = sim["profiles"][0]
    kept = fit_tracer_profile(
        p["depth_um"], p["n_tracer"], p["n_other"], anneal_time_s=900, exclusion="none"
    )
    auto = fit_tracer_profile(p["depth_um"], p["n_tracer"], p["n_other"], anneal_time_s=900)
    # the inflated surface points pull the Gaussian narrower: D too small by many σ
    assert (1.6e-10 - kept["D_cm2_s"]) > 5 * kept["D_err_cm2_s"]
    assert abs(auto["D_cm2_s"] - 1.6e-10) < 4 * auto["D_err_cm2_s"]
    assert kept["chi2_red"] > 3 * auto["chi2_red"]


def test_clean_profiles_lose_no_points():
    excluded = 0
    for seed in range(15):
        sim = make_sims_diffusion(seed=seed, anneal_times_s="1800", contamination_depth_um=0.0)
        p = sim["profiles"][0]
        assert sim["truth"]["sims"][0]["contaminated_points"] == []
        r = fit_tracer_profile(p["depth_um"], p["n_tracer"], p["n_other"], anneal_time_s=1800)
        excluded += bool(r["excluded_points"])
    # per profile the scan drops a clean first point with P ≈ 0.3 % (|z| > 3)
    assert excluded <= 1


def test_manual_and_oxygen_exclusion_modes():
    sim = make_sims_diffusion(seed=5, anneal_times_s="1800")
    p = sim["profiles"][0]
    args = (p["depth_um"], p["n_tracer"], p["n_other"])
    r = fit_tracer_profile(*args, anneal_time_s=1800, exclusion=4)
    assert r["excluded_points"] == [0, 1, 2, 3]
    r = fit_tracer_profile(*args, anneal_time_s=1800, exclusion="oxygen", oxygen_counts=p["oxygen"])
    assert set(sim["truth"]["sims"][0]["contaminated_points"]) <= set(r["excluded_points"])
    with pytest.raises(ValueError, match="oxygen channel"):
        fit_tracer_profile(*args, anneal_time_s=1800, exclusion="oxygen")
    with pytest.raises(ValueError, match="unknown model"):
        fit_tracer_profile(*args, anneal_time_s=1800, model="lorentz")


def test_bootstrap_agrees_with_the_covariance_error():
    sim = make_sims_diffusion(seed=6, anneal_times_s="3600")
    p = sim["profiles"][0]
    r = fit_tracer_profile(
        p["depth_um"],
        p["n_tracer"],
        p["n_other"],
        anneal_time_s=3600,
        oxygen_counts=p["oxygen"],
        bootstrap=150,
        depth_scale_err=0.005,
    )
    lo, hi = r["D_boot_ci95_cm2_s"]
    assert lo < r["D_cm2_s"] < hi
    # ±1.96σ Gaussian interval vs percentile interval of 150 replicates: within ~30 %
    assert (hi - lo) / (2 * 1.96 * r["D_err_cm2_s"]) == pytest.approx(1.0, abs=0.3)


def test_combine_anneal_times():
    t = np.array([900.0, 1800, 3600, 7200])
    D, s0sq = 1.6e-10, 0.3
    s2 = 2 * D / UM2 * t + s0sq
    r = combine_anneal_times(t, s2, 0.02 * s2)
    assert r["D_cm2_s"] == pytest.approx(D, rel=1e-10)
    assert r["intercept_um2"] == pytest.approx(s0sq, abs=1e-9)
    assert r["sigma0_um"] == pytest.approx(np.sqrt(s0sq))
    assert not r["birge_scaled"] and r["chi2_red"] == pytest.approx(0, abs=1e-12)
    # the slope error of a weighted line (independent formula)
    w = 1 / (0.02 * s2) ** 2
    sw, st_, stt = w.sum(), (w * t).sum(), (w * t * t).sum()
    slope_err = np.sqrt(sw / (sw * stt - st_**2))
    assert r["D_err_cm2_s"] == pytest.approx(slope_err / 2 * UM2, rel=1e-9)
    # inconsistent profiles → Birge-scaled errors
    bad = s2 * np.array([1.0, 1.3, 0.8, 1.0])
    rb = combine_anneal_times(t, bad, 0.02 * s2)
    assert rb["birge_scaled"] and rb["p_value"] < 0.01
    # one anneal time: weighted mean of s²
    r1 = combine_anneal_times([3600, 3600], [110.0, 120.0], [5.0, 5.0], sigma0_um=1.0)
    assert r1["D_cm2_s"] == pytest.approx((115.0 - 1.0) / 7200 * UM2)
    assert r1["D_err_cm2_s"] == pytest.approx(5 / np.sqrt(2) / 7200 * UM2)
