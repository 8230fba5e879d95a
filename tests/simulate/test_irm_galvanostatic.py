"""The irm-galvanostatic simulator: truth against physics, the paper and its own files.

Expected values come from the paper's Table 1 (typed in here), from physics
(Faraday, geometry) or from independent computations on the simulated arrays —
never from the simulator's own truth alone.
"""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
import tifffile
from scipy import ndimage
from scipy.signal import savgol_filter

from platescope import InputError
from platescope.models import (
    FARADAY_C_MOL,
    LI_MOLAR_VOLUME_CM3_MOL,
    charge_to_volume_um3,
    sphere_volume_to_fmol,
)
from platescope.simulate import (
    SCENARIOS,
    irm_galvanostatic,
    make_irm_galvanostatic,
    parse_set_options,
    simulate,
)

# A small, fast configuration (64×64 px field, 1.6 µm footprint).
SMALL = {
    "irm_size_px": 64,
    "footprint_diameter_um": 1.6,
    "footprint_offset_um": 0.1,
}

# Paper Table 1: j (mA cm⁻²) → E_nuc (V), E_growth (V), t_nuc (s), Q_nuc (µAh cm⁻²).
TABLE1 = [
    (0.20, -0.058, -0.004, 17.7, 0.98),
    (0.78, -0.135, -0.022, 3.8, 0.85),
    (3.82, -0.292, -0.267, 0.8, 0.82),
]


@pytest.fixture(scope="module")
def sim():
    """The default simulation (what ``platescope simulate irm-galvanostatic`` writes)."""
    return make_irm_galvanostatic(seed=0)


@pytest.fixture(scope="module")
def sim_j078():
    return make_irm_galvanostatic(seed=5, current_density_mA_cm2=0.78, **SMALL)


# ---------------------------------------------------------------------- echem ----


@pytest.mark.parametrize(("j", "e_nuc", "e_growth", "t_nuc", "q_nuc"), TABLE1)
def test_current_density_scaling_reproduces_table1(j, e_nuc, e_growth, t_nuc, q_nuc):
    g = make_irm_galvanostatic(seed=1, current_density_mA_cm2=j, **SMALL)["truth"]["echem"][
        "galvanostatic"
    ]
    assert g["nucleated"] is True
    assert g["t_nuc_s"] == pytest.approx(t_nuc, rel=0.02)
    assert g["E_nuc_V"] == pytest.approx(e_nuc, rel=0.02)
    assert g["E_growth_V"] == pytest.approx(e_growth, abs=0.5e-3)
    assert g["eta_nuc_V"] == pytest.approx(e_growth - e_nuc, abs=1e-3)
    # the paper's Q_nuc column is itself only within ~4 % of j·t_nuc
    assert g["Q_nuc_uAh_cm2"] == pytest.approx(q_nuc, rel=0.05)


def test_galvanostatic_truth_is_the_written_noise_free_curve(sim):
    g = sim["truth"]["echem"]["galvanostatic"]
    t = sim["echem"]["time_s"].to_numpy()
    e = sim["echem_noise_free_V"]
    dt = t[1] - t[0]
    i = int(np.argmin(e))
    # sampled every 10 ms, the minimum of the samples is within µV of the exact one
    assert e[i] == pytest.approx(g["E_nuc_V"], abs=2e-6)
    assert abs(t[i] - g["t_nuc_s"]) <= dt
    assert e.min() >= g["E_nuc_V"] - 1e-9
    # physics: Q_nuc = j·t_nuc (1 µAh = 3.6 mC), η = E_growth − E_nuc
    j = sim["parameters"]["current_density_mA_cm2"]
    assert g["Q_nuc_uAh_cm2"] == pytest.approx(j * 1e-3 * g["t_nuc_s"] / 3.6e-3, rel=1e-9)
    assert g["eta_nuc_V"] == pytest.approx(g["E_growth_V"] - g["E_nuc_V"], abs=1e-12)
    # E_growth: mean noise-free potential over the last 20 % of the record
    tail = t >= 0.8 * t[-1]
    assert e[tail].mean() == pytest.approx(g["E_growth_V"], abs=2e-5)
    # shape: starts near +0.6 V, falls monotonically to E_nuc, then rises (a turn)
    assert e[0] == pytest.approx(0.6, abs=1e-6)
    assert np.all(np.diff(e[: i - 1]) < 0)
    assert e[-1] - g["E_nuc_V"] > 0.02


def test_echem_noise_and_current(sim):
    df = sim["echem"]
    area = sim["truth"]["footprint"]["area_cm2"]
    r = sim["truth"]["footprint"]["irm"]["radius_um"]
    assert area == pytest.approx(math.pi * (r * 1e-4) ** 2, rel=1e-12)
    j = sim["parameters"]["current_density_mA_cm2"]
    i_set = -j * 1e-3 * area
    cur = df["current_A"].to_numpy()
    assert np.all(cur < 0)
    n = cur.size
    assert cur.mean() == pytest.approx(i_set, rel=4 * 2e-3 / math.sqrt(n))
    assert np.std(cur / i_set - 1) == pytest.approx(2e-3, rel=0.1)
    resid = df["potential_V"].to_numpy() - sim["echem_noise_free_V"]
    assert np.std(resid) == pytest.approx(3e-4, rel=0.1)
    assert abs(resid.mean()) < 4 * 3e-4 / math.sqrt(n)


# ---------------------------------------------------------------------- optics ----


def test_alpha_holds_exactly_before_nucleation_and_fit_is_close(sim):
    tr = sim["truth"]
    alpha = tr["optics"]["alpha"]["planted_pre_nucleation"]
    mask = sim["footprint_mask"]
    t = sim["frame_times_s"] - tr["sync"]["offset_s"]
    mean_signal = sim["signal_noise_free"][:, mask].mean(axis=1).astype(float)
    # independent h_eq: charge of the set current through the footprint area
    i_set = abs(tr["echem"]["current_A"])
    area_um2 = tr["footprint"]["area_cm2"] * 1e8
    bounds = sim["frame_bounds_s"] - tr["sync"]["offset_s"]
    dur = tr["parameters"]["duration_s"]
    inside = (bounds[:-1] >= 0) & (bounds[1:] <= dur)
    h_eq = charge_to_volume_um3(i_set * t) / area_um2 * 1e3  # nm, at exposure centres
    np.testing.assert_allclose(sim["h_eq_frames_nm"][inside], h_eq[inside], rtol=1e-9)
    # before any pixel nucleates the footprint mean is exactly alpha·h_eq
    planted = tr["optics"]["planted_local_nucleation"]
    early = inside & (bounds[1:] < np.nanmin(sim["t_nuc_map"]) - 8 * planted["burst_width_s"])
    assert early.sum() > 20
    np.testing.assert_allclose(mean_signal[early], alpha * h_eq[early], rtol=1e-4, atol=0.01)
    # full-record linear fit (what an analysis does) within 2 % of alpha
    slope = np.polyfit(h_eq[inside], mean_signal[inside], 1)[0]
    assert slope == pytest.approx(alpha, rel=0.02)
    assert tr["optics"]["alpha"]["fit_noise_free"] == pytest.approx(alpha, rel=0.02)
    # the truth an analysis is scored against is the full-record fit itself
    assert tr["optics"]["alpha"]["value"] == pytest.approx(slope, rel=0.01)


def test_alpha_exact_over_whole_record_without_transient_and_inversion():
    s = make_irm_galvanostatic(
        seed=2, burst_frac=0.0, n_thick_spots=0, current_density_mA_cm2=0.78, **SMALL
    )
    tr = s["truth"]
    mask = s["footprint_mask"]
    mean_signal = s["signal_noise_free"][:, mask].mean(axis=1)
    k = LI_MOLAR_VOLUME_CM3_MOL * 0.78e-3 / FARADAY_C_MOL * 1e7  # nm/s, Faraday
    assert tr["optics"]["k_nm_s"] == pytest.approx(k, rel=1e-12)
    np.testing.assert_allclose(mean_signal, 30.0 * s["h_eq_frames_nm"], rtol=1e-4, atol=0.01)
    # ...while individual pixels differ a lot (the current redistributes)
    last = s["signal_noise_free"][-1][mask]
    assert last.std() / last.mean() > 0.1


def test_movie_components(sim):
    tr = sim["truth"]
    movie, nf = sim["movie"], sim["movie_noise_free"]
    assert movie.dtype == np.uint16 and movie.max() <= 4095
    mask = sim["footprint_mask"]
    # drift: independent estimate from pixels far outside the footprint
    far = ~ndimage.binary_dilation(mask, iterations=12)
    ratio = nf[:, far].mean(axis=1) / nf[0, far].mean()
    np.testing.assert_allclose(ratio, sim["drift"] / sim["drift"][0], rtol=1e-5)
    assert abs(ratio[-1] - 1) <= 0.01
    # landing: partial step in the contact frame, full step after
    c = tr["sync"]["contact_frame"]
    step = (nf[:, mask].mean(1) - nf[:, far].mean(1)) - (nf[0, mask].mean() - nf[0, far].mean())
    full = step[c + 1]
    assert 100 < full < 200
    assert 0.1 * full < step[c] < 0.9 * full
    b = sim["frame_bounds_s"]
    assert b[c] < tr["sync"]["offset_s"] < b[c + 1]
    # noise: Poisson + read noise, sd ≈ sqrt(mean + 5²)
    resid = movie[5].astype(float) - nf[5]
    expected = np.sqrt(nf[5].mean() + 25.0 + 1 / 12)
    assert resid.std() == pytest.approx(expected, rel=0.03)
    # frame timing: ~4.3 fps, intervals jittered within ±10 %
    d = np.diff(b)
    assert np.all((d >= 0.9 / 4.3 - 1e-12) & (d <= 1.1 / 4.3 + 1e-12))
    assert d.std() > 0.02 / 4.3
    np.testing.assert_allclose(sim["frame_times_s"], 0.5 * (b[1:] + b[:-1]))
    # default files stay small: movie bytes < 40 MB
    assert movie.nbytes < 40e6


def test_t_nuc_map_matches_the_noise_free_frames(sim):
    tr = sim["truth"]
    mask = sim["footprint_mask"]
    tmap = sim["t_nuc_map"]
    assert tmap.dtype == np.float32
    assert np.all(np.isnan(tmap[~mask])) and np.all(np.isfinite(tmap[mask]))
    t = sim["frame_times_s"] - tr["sync"]["offset_s"]
    t_nuc = tr["echem"]["galvanostatic"]["t_nuc_s"]
    frame = np.median(np.diff(t))
    # independent: argmax of the frame-to-frame derivative of the noise-free signal
    sig = sim["signal_noise_free"][:, mask].astype(float)
    tc = 0.5 * (t[1:] + t[:-1])
    der = np.diff(sig, axis=0) / np.diff(t)[:, None]
    win = (tc > 0) & (tc <= 1.2 * t_nuc)
    est = tc[win][np.argmax(der[win], axis=0)]
    err = est - tmap[mask]
    assert np.median(np.abs(err)) < 0.5 * frame
    assert np.percentile(np.abs(err), 99) < 1.5 * frame
    mean_der = np.diff(sig.mean(axis=1)) / np.diff(t)
    assert abs(tc[win][np.argmax(mean_der[win])] - tr["optics"]["t_nuc_irm_s"]) < frame
    # the optical nucleation precedes the electrochemical one; spread ~1–1.5 s
    m = tr["optics"]["t_nuc_map"]
    assert t_nuc - 2.0 < m["mean_s"] < t_nuc
    assert tr["optics"]["t_nuc_irm_s"] < t_nuc
    assert 0.8 < m["sd_s"] < 1.8
    assert m["mean_s"] == pytest.approx(float(np.mean(tmap[mask])), abs=1e-4)


def test_naive_analysis_recovers_t_nuc_map_within_a_frame(sim):
    """The requirement for the optics analysis is achievable at default noise."""
    tr = sim["truth"]
    mask = sim["footprint_mask"]
    t = sim["frame_times_s"] - tr["sync"]["offset_s"]
    i0 = tr["sync"]["contact_frame"] + 1
    d = sim["movie"][i0:].astype(np.float32) - sim["movie"][i0].astype(np.float32)
    tt = t[i0:]
    frame = np.median(np.diff(tt))
    smooth = ndimage.gaussian_filter(d, (0, 5, 5))  # σ = 0.2 µm
    der = savgol_filter(smooth, 9, 2, deriv=1, delta=frame, axis=0)
    win = (tt > 0.5) & (tt <= 1.2 * tr["echem"]["galvanostatic"]["t_nuc_s"])
    est = tt[win][np.argmax(der[win][:, mask], axis=0)]
    assert np.median(np.abs(est - sim["t_nuc_map"][mask])) <= frame


def test_thick_spots_invert_contrast(sim):
    sig = sim["signal_noise_free"]
    drop = sig.max(axis=0) - sig[-1]
    assert drop.max() > 300  # counts: a thick deposit turns dark
    assert (drop > 20).sum() < 0.05 * sim["footprint_mask"].sum()  # ...on a small area


# ------------------------------------------------------------------- particles ----


def test_particle_truth_from_the_particle_list(sim):
    tr = sim["truth"]
    pt = tr["particles"]
    parts = sim["particles"]
    fp = tr["footprint"]["sem"]
    area = tr["footprint"]["area_cm2"]
    d = parts["diameter_nm"].to_numpy()
    r = np.hypot(parts["x_um"] - fp["centre_x_um"], parts["y_um"] - fp["centre_y_um"]).to_numpy()
    assert np.all(r + d * 5e-4 <= fp["radius_um"] + 1e-9)  # all inside the footprint
    assert pt["count"] == len(parts)
    assert pt["density_cm2"] == pytest.approx(len(parts) / area)
    assert 1e9 <= pt["density_cm2"] <= 2.5e9
    assert pt["mean_diameter_nm"] == pytest.approx(d.mean())
    assert pt["sd_diameter_nm"] == pytest.approx(d.std(ddof=1))
    assert 48 <= pt["mean_diameter_nm"] <= 92 and 15 <= pt["sd_diameter_nm"] <= 30
    n_li = sum(math.pi * (di * 1e-7) ** 3 / 6 / LI_MOLAR_VOLUME_CM3_MOL for di in d)  # mol
    assert pt["deposited_Li_fmol"] == pytest.approx(n_li * 1e15, rel=1e-9)
    assert pt["deposited_Li_fmol"] == pytest.approx(sphere_volume_to_fmol(d), rel=1e-12)
    q = abs(tr["echem"]["current_A"]) * tr["parameters"]["duration_s"]
    assert pt["faradaic_efficiency"] == pytest.approx(n_li * FARADAY_C_MOL / q, rel=1e-9)
    assert 0.1 <= pt["faradaic_efficiency"] <= 0.3
    edge = r >= 0.8 * fp["radius_um"]
    np.testing.assert_array_equal(edge, parts["in_edge"].to_numpy())
    a_edge = area * (1 - 0.8**2)
    assert pt["edge"]["density_cm2"] == pytest.approx(edge.sum() / a_edge)
    assert pt["center"]["density_cm2"] == pytest.approx((~edge).sum() / (area - a_edge))
    assert pt["edge"]["mean_diameter_nm"] == pytest.approx(d[edge].mean())
    # touching pairs exist (overlap), other particles keep apart
    xy = parts[["x_um", "y_um"]].to_numpy()
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    rsum = (d[:, None] + d[None, :]) * 5e-4
    np.fill_diagonal(dist, np.inf)
    overlapping = np.argwhere(np.triu(dist < rsum))
    assert len(overlapping) >= 10
    assert len(np.unique(overlapping)) == 2 * len(overlapping)  # disjoint pairs only


def test_sem_image_shows_footprint_and_bright_particles(sim):
    img = sim["sem"]
    assert img.shape == (1094, 1536) and img.dtype == np.uint8
    px_um = sim["sem_pixel_size_nm"] * 1e-3
    fp = sim["truth"]["footprint"]["sem"]
    # the whole footprint lies inside the 1536 × 1024 image
    assert fp["radius_um"] <= fp["centre_x_um"] <= 1536 * px_um - fp["radius_um"]
    assert fp["radius_um"] <= fp["centre_y_um"] <= 1024 * px_um - fp["radius_um"]
    yy, xx = np.mgrid[0:1024, 0:1536] * px_um
    r = np.hypot(xx - fp["centre_x_um"], yy - fp["centre_y_um"])
    im = img[:1024].astype(float)
    parts = sim["particles"]
    big = parts[parts["diameter_nm"] > 60]
    at_particles = im[
        (big["y_um"] / px_um).round().astype(int), (big["x_um"] / px_um).round().astype(int)
    ]
    inside = im[(r < 0.9 * fp["radius_um"])]
    outside = im[r > 1.1 * fp["radius_um"]]
    assert np.median(at_particles) > np.median(inside) + 50
    assert np.median(inside) > np.median(outside) + 8
    bar = img[1024:].astype(float)
    assert np.median(bar) < 60 and bar.max() >= 230  # dark band with white text and scale bar


# ------------------------------------------------------------- no nucleation ----


def test_no_nucleation_when_the_record_is_too_short():
    s = make_irm_galvanostatic(seed=0, duration_s=8.0, **SMALL)
    g = s["truth"]["echem"]["galvanostatic"]
    assert g["nucleated"] is False
    for key in ("E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V"):
        assert g[key] is None
    assert "does not turn" in g["reason"]
    assert np.all(np.diff(s["echem_noise_free_V"]) < 0)  # never turns
    assert s["truth"]["particles"]["count"] == 0
    assert s["truth"]["particles"]["mean_diameter_nm"] is None
    assert s["truth"]["particles"]["reason"]
    assert np.all(np.isnan(s["t_nuc_map"]))
    assert s["truth"]["optics"]["t_nuc_irm_s"] is None and s["truth"]["optics"]["reason"]


def test_low_current_density_does_not_nucleate_within_the_default_record():
    s = make_irm_galvanostatic(seed=0, current_density_mA_cm2=0.05, **SMALL)
    assert s["truth"]["parameters"]["duration_s"] == 60.0
    assert s["truth"]["echem"]["galvanostatic"]["nucleated"] is False


# ----------------------------------------------------------- API and files ----


def test_determinism_by_seed():
    a = make_irm_galvanostatic(seed=3, current_density_mA_cm2=3.82, **SMALL)
    b = make_irm_galvanostatic(seed=3, current_density_mA_cm2=3.82, **SMALL)
    c = make_irm_galvanostatic(seed=4, current_density_mA_cm2=3.82, **SMALL)
    np.testing.assert_array_equal(a["movie"], b["movie"])
    np.testing.assert_array_equal(a["sem"], b["sem"])
    pd.testing.assert_frame_equal(a["echem"], b["echem"])
    assert json.dumps(a["truth"], default=str) == json.dumps(b["truth"], default=str)
    assert not np.array_equal(a["movie"], c["movie"])
    assert a["truth"]["sync"]["offset_s"] != c["truth"]["sync"]["offset_s"]


@pytest.mark.parametrize("start", [0.0, 2.0])
def test_movie_can_start_at_or_after_contact(sim_j078, start):
    """Same scene as the default movie, but the camera starts ``start`` s after contact."""
    base = sim_j078
    s = make_irm_galvanostatic(
        seed=5, current_density_mA_cm2=0.78, movie_start_after_contact_s=start, **SMALL
    )
    tr = s["truth"]
    b = s["frame_bounds_s"]
    assert b[0] == 0.0 and tr["sync"]["offset_s"] == -start
    assert (
        tr["sync"]["contact_frame"] is None and tr["sync"]["movie_start_after_contact_s"] == start
    )
    assert base["truth"]["sync"]["movie_start_after_contact_s"] is None
    # the scene is the default movie's: footprint, nucleation truth, electrochemistry
    assert tr["footprint"] == base["truth"]["footprint"]
    np.testing.assert_array_equal(s["t_nuc_map"], base["t_nuc_map"])
    pd.testing.assert_frame_equal(s["echem"], base["echem"])
    # the movie still covers the record
    assert b[-1] + start >= tr["parameters"]["duration_s"]
    # no landing step: with the deposit and the drift taken out, every frame is the
    # wetted field of the default movie after its landing
    nf, sig = s["movie_noise_free"], s["signal_noise_free"]
    wet = nf / s["drift"][:, None, None] - sig
    base_wet = base["movie_noise_free"][-1] / base["drift"][-1] - base["signal_noise_free"][-1]
    np.testing.assert_allclose(wet[0], base_wet, rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(wet[-1], base_wet, rtol=1e-5, atol=1e-2)
    # the first frame holds the deposit of [start, start + its exposure] (Faraday)
    k = LI_MOLAR_VOLUME_CM3_MOL * 0.78e-3 / FARADAY_C_MOL * 1e7  # nm s⁻¹
    assert s["h_eq_frames_nm"][0] == pytest.approx(k * (start + 0.5 * (b[1] - b[0])), rel=1e-9)


def test_movie_start_after_the_record_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="movie_start_after_contact_s"):
        make_irm_galvanostatic(seed=0, movie_start_after_contact_s=60.0, **SMALL)
    with pytest.raises(InputError, match="movie_start_after_contact_s"):
        simulate(
            "irm-galvanostatic",
            tmp_path / "x",
            overrides={"movie_start_after_contact_s": 100.0, "duration_s": 20.0},
        )
    assert not (tmp_path / "x").exists()


def test_bad_input_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="irm-galvanostatic"):
        simulate("no-such-scenario", tmp_path)
    with pytest.raises(InputError, match="noise_scale") as err:
        simulate("irm-galvanostatic", tmp_path, overrides={"bogus_key": 1})
    assert "bogus_key" in str(err.value)
    with pytest.raises(InputError, match="current_density_mA_cm2"):
        simulate("irm-galvanostatic", tmp_path, overrides={"current_density_mA_cm2": "fast"})
    with pytest.raises(InputError, match="out of range"):
        simulate("irm-galvanostatic", tmp_path, overrides={"current_density_mA_cm2": "-1"})
    with pytest.raises(InputError, match="does not fit"):
        simulate("irm-galvanostatic", tmp_path, overrides={"footprint_diameter_um": 9})
    with pytest.raises(InputError, match="key=value"):
        parse_set_options(["noise_scale"])
    with pytest.raises(InputError):
        irm_galvanostatic(tmp_path, not_a_parameter=3)
    assert not (tmp_path / "experiment.toml").exists()
    (tmp_path / "experiment.toml").write_text('[experiment]\nscenario = "irm-cv"\n')
    with pytest.raises(InputError, match="did not write"):
        simulate("irm-galvanostatic", tmp_path)


def test_registry_and_documented_parameters():
    fn = SCENARIOS["irm-galvanostatic"]
    assert fn is irm_galvanostatic
    for key in fn.parameters:
        assert key in make_irm_galvanostatic.__doc__
    assert parse_set_options(["current_density_mA_cm2=0.78", "duration_s = auto"]) == {
        "current_density_mA_cm2": "0.78",
        "duration_s": "auto",
    }


def test_written_files_read_back(tmp_path):
    over = {"current_density_mA_cm2": "0.78", **{k: str(v) for k, v in SMALL.items()}}
    exp_path = simulate("irm-galvanostatic", tmp_path, seed=7, overrides=over)
    assert exp_path == tmp_path / "experiment.toml"
    ref = make_irm_galvanostatic(seed=7, current_density_mA_cm2=0.78, **SMALL)
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())

    exp = tomllib.loads(exp_path.read_text())
    assert exp["experiment"]["scenario"] == "irm-galvanostatic"
    assert exp["electrode"]["film_metal"] == "Au" and exp["electrode"]["film_thickness_nm"] == 20
    assert exp["electrode"]["area_cm2"] == pytest.approx(math.pi * (0.8e-4) ** 2)
    assert exp["echem"] == {
        "path": "echem.mpt",
        "timezone": "Europe/London",
        "current_density_mA_cm2": 0.78,
    }
    assert exp["movie"] == {"path": "irm.tif", "mode": "irm", "frame_times": "frame_times.csv"}
    assert exp["sem"] == {"path": "sem.tif"}
    assert "time_offset_s" not in exp["echem"]

    with tifffile.TiffFile(tmp_path / "irm.tif") as tif:
        meta = tif.imagej_metadata
        data = tif.asarray()
        xres = tif.pages[0].tags["XResolution"].value
        axes = tif.series[0].axes
    assert axes == "TYX" and meta["frames"] == len(data) and meta["unit"] == "um"
    assert meta["finterval"] == pytest.approx(1 / 4.3)
    assert xres[1] / xres[0] == pytest.approx(0.04, rel=1e-6)
    np.testing.assert_array_equal(data, ref["movie"])

    ft = pd.read_csv(tmp_path / "frame_times.csv")
    assert list(ft.columns) == ["frame", "time_s"]
    np.testing.assert_array_equal(ft["frame"], np.arange(len(data)))
    np.testing.assert_allclose(ft["time_s"], ref["frame_times_s"], rtol=0, atol=1e-12)

    raw = (tmp_path / "echem.mpt").read_bytes().decode("latin-1")
    lines = raw.splitlines()
    assert lines[0] == "EC-Lab ASCII FILE"
    n_header = int(lines[1].split(":")[1])
    assert "Acquisition started on : 06/12/2024 14:03:27.480" in lines
    assert "Chronopotentiometry" in lines
    assert lines[n_header - 1].split("\t")[7:11] == ["time/s", "control/mA", "Ewe/V", "I/mA"]
    table = pd.read_csv(tmp_path / "echem.mpt", sep="\t", skiprows=n_header - 1, encoding="latin-1")
    np.testing.assert_allclose(table["time/s"], ref["echem"]["time_s"], atol=1e-12)
    np.testing.assert_allclose(table["Ewe/V"], ref["echem"]["potential_V"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(table["I/mA"], ref["echem"]["current_A"] * 1e3, rtol=1e-7)
    assert (table["I/mA"] < 0).all()

    with tifffile.TiffFile(tmp_path / "sem.tif") as tif:
        sem = tif.asarray()
        ini = tif.pages[0].tags[34682].value
    assert sem.shape == (1094, 1536) and sem.dtype == np.uint8
    np.testing.assert_array_equal(sem, ref["sem"])
    ini_text = ini if isinstance(ini, str) else json.dumps(ini)
    assert "PixelWidth" in ini_text and "8e-09" in ini_text

    assert truth["scenario"] == "irm-galvanostatic"
    for key in (
        "platescope_version",
        "parameters",
        "sync",
        "echem",
        "optics",
        "particles",
        "footprint",
    ):
        assert key in truth
    assert truth["sync"]["method"] == "planted"
    assert truth["sync"]["offset_s"] == pytest.approx(ref["truth"]["sync"]["offset_s"])
    g = truth["echem"]["galvanostatic"]
    assert set(g) >= {"E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V", "nucleated"}
    assert truth["optics"]["alpha"]["units"] == "counts/nm"
    tmap = tifffile.imread(tmp_path / "truth" / truth["optics"]["t_nuc_map"]["path"])
    assert tmap.dtype == np.float32 and tmap.shape == (64, 64)
    np.testing.assert_array_equal(np.isnan(tmap), ~ref["footprint_mask"])
    parts = pd.read_csv(tmp_path / "truth" / "particles.csv")
    assert list(parts.columns) == ["x_um", "y_um", "diameter_nm", "in_edge"]
    assert len(parts) == truth["particles"]["count"]
    assert set(truth["footprint"]) >= {"irm", "sem"}

    # rerun into the same folder (same scenario) is allowed and reproduces the files
    simulate("irm-galvanostatic", tmp_path, seed=7, overrides=over)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "irm.tif"), ref["movie"])
    assert not [p for p in tmp_path.rglob("*.tmp*")]  # no temporary files left
