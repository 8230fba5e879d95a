"""The ``irm-galvanostatic`` scenario: SECCM galvanostatic Li plating seen by IRM + SEM.

:func:`make_irm_galvanostatic` builds everything in memory (arrays + truth);
:func:`irm_galvanostatic` writes the files of ``notes/sim_formats.md``.
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.integrate import cumulative_trapezoid

import platescope
from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL, sphere_volume_to_fmol
from platescope.simulate._common import (
    AU_FILM,
    Param,
    atomic_write_text,
    check_footprint_fits,
    fill_parameter_doc,
    input_hashes,
    jittered_frame_bounds,
    place_footprint,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
    write_movie_files,
    write_truth_tiff,
)
from platescope.simulate._echem_model import (
    E_GROWTH_TAIL_FRACTION,
    TURN_THRESHOLD_V,
    build_galvanostatic_curve,
    table1_targets,
)
from platescope.simulate._irm_model import (
    CAMERA_MAX_COUNTS,
    IrmScene,
    background_and_drift,
    deposit_frame_means,
    smooth_field,
    truth_nucleation_times,
)
from platescope.simulate._sem_model import (
    EDGE_RING_FRACTION,
    SEM_DATABAR_ROWS,
    SEM_IMAGE_SHAPE,
    particle_targets,
    place_particles,
    render_sem,
)
from platescope.simulate._stage_motion import (
    STAGE_PARAMETERS,
    apply_stage_motion,
    motion_truth,
    stage_motion,
)
from platescope.simulate._strobe import STROBE_PARAMETERS, add_strobe

__all__ = ["PARAMETERS", "irm_galvanostatic", "make_irm_galvanostatic"]

SCENARIO = "irm-galvanostatic"
#: Wall-clock start of the echem record on the instrument PC (local time, BST).
T0_LOCAL = datetime(2024, 6, 12, 14, 3, 27, 480000)
TIMEZONE = "Europe/London"
_MAX_DEFAULT_DURATION_S = 60.0

PARAMETERS: dict[str, Param] = {
    "current_density_mA_cm2": Param(
        0.20, float, "plating current density magnitude, mA cm⁻²", 0.01, 20.0
    ),
    "duration_s": Param(
        None, float, "echem record length, s (auto: min(3·t_nuc, 60 s))", 0.05, 600.0, True
    ),
    "noise_scale": Param(
        1.0, float, "multiplies every noise amplitude (0 = noise-free files)", 0.0, 100.0
    ),
    "footprint_diameter_um": Param(
        6.0, float, "SECCM footprint (meniscus) diameter, µm", 1.0, 20.0
    ),
    "footprint_offset_um": Param(
        0.25, float, "largest off-centre shift of the footprint in the IRM field, µm", 0.0, 5.0
    ),
    "irm_size_px": Param(192, int, "IRM field width = height, pixels", 32, 1024),
    "irm_pixel_size_um": Param(0.04, float, "IRM pixel size, µm", 0.005, 1.0, True),
    "frame_rate_fps": Param(4.3, float, "nominal IRM frame rate, frames s⁻¹", 0.1, 100.0),
    "frame_jitter_frac": Param(
        0.10, float, "frame intervals vary uniformly by ± this fraction", 0.0, 0.5
    ),
    "pre_contact_s": Param(
        3.0, float, "movie time before contact (drawn within ±20 %), s", 0.5, 60.0
    ),
    "post_record_s": Param(1.0, float, "movie time after the echem record ends, s", 0.0, 60.0),
    "movie_start_after_contact_s": Param(
        None,
        float,
        "the camera starts this long after contact (0 = at contact; the movie then has no "
        "pre-contact frame and experiment.toml gets [echem] time_offset_s), s "
        "(auto: the movie starts pre_contact_s before contact)",
        0.0,
        600.0,
    ),
    "sample_period_s": Param(0.01, float, "echem sample period, s", 1e-4, 1.0, True),
    "E_start_V": Param(0.6, float, "potential at contact, V vs Li/Li⁺", 0.1, 3.5),
    "potential_noise_V": Param(
        3e-4, float, "white potential noise sd, V (× noise_scale)", 0.0, 0.1
    ),
    "current_noise_frac": Param(2e-3, float, "relative current noise sd (× noise_scale)", 0.0, 0.5),
    "background_counts": Param(2000.0, float, "mean IRM background, counts", 50.0, 3500.0),
    "landing_step_counts": Param(
        150.0, float, "IRM intensity step when the meniscus wets the footprint, counts", 0.0, 1000.0
    ),
    "drift_frac": Param(
        0.003, float, "illumination drift over the movie (linear, random sign), fraction", 0.0, 0.05
    ),
    "read_noise_counts": Param(
        5.0, float, "camera read noise sd, counts (× noise_scale)", 0.0, 200.0
    ),
    "alpha_counts_per_nm": Param(
        30.0,
        float,
        "α: footprint-mean IRM signal per nm of equivalent Li thickness, counts nm⁻¹",
        0.1,
        1000.0,
    ),
    "psf_sigma_um": Param(0.1, float, "Gaussian PSF sd, µm", 0.0, 2.0),
    "nuc_lead_frac": Param(0.06, float, "mean local nucleation time = t_nuc·(1 − this)", -0.5, 0.5),
    "nuc_sd_frac": Param(0.07, float, "sd of the local nucleation time field / t_nuc", 0.0, 0.3),
    "nuc_corr_um": Param(
        1.0, float, "correlation length of the nucleation time field, µm", 0.05, 10.0
    ),
    "n_early_clusters": Param(
        2, int, "clusters nucleating ≈ 1.2 sd earlier than their surroundings", 0, 20
    ),
    "burst_width_frac": Param(
        0.025, float, "local nucleation burst width (Gaussian sd) / t_nuc", 0.001, 0.3
    ),
    "burst_frac": Param(
        0.2, float, "fresh-nuclei contrast transient, as a fraction of h_eq(t_nuc)", 0.0, 2.0
    ),
    "burst_decay_frac": Param(
        0.8, float, "decay time of the fresh-nuclei transient / t_nuc", 0.05, 10.0
    ),
    "growth_share_mean": Param(
        0.5,
        float,
        "mean extra current share of nucleated pixels (units of the mean rate)",
        0.0,
        0.9,
    ),
    "n_thick_spots": Param(
        3, int, "protrusion spots near the edge that grow thick and invert contrast", 0, 50
    ),
    "inversion_thickness_nm": Param(
        40.0, float, "thickness where the IRM contrast starts to bend down, nm", 1.0, 1e4
    ),
    "inversion_width_nm": Param(
        18.0, float, "signal peaks at inversion_thickness + width/2, nm", 1.0, 1e4
    ),
    "sem_pixel_size_nm": Param(
        8.0, float, "SEM pixel size (raised if the footprint would not fit), nm", 1.0, 100.0
    ),
    "sem_noise_sd": Param(
        8.0, float, "SEM Gaussian noise sd, grey levels (× noise_scale)", 0.0, 100.0
    ),
    "pair_fraction": Param(
        0.12, float, "fraction of particles in overlapping (touching) pairs", 0.0, 0.5
    ),
    **STROBE_PARAMETERS,
    **STAGE_PARAMETERS,
}


def make_irm_galvanostatic(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate a galvanostatic SECCM/IRM Li-plating experiment in memory.

        Electrochemistry: galvanostatic E–t from contact (t = 0) whose noise-free minimum
        (E_nuc, t_nuc) and growth plateau follow the paper's Table 1 interpolated in
        ln j (:func:`platescope.simulate._echem_model.table1_targets`); E_growth is the
        mean noise-free potential over the last 20 % of the record.

        IRM: 40 nm pixels, ~4.3 fps with jittered frame intervals; each frame averages the
        signal over its exposure (= its interval; timestamps are exposure centres); the
        movie starts ``pre_contact_s`` before contact, or, with
        ``movie_start_after_contact_s`` = s ≥ 0, exactly s after contact (the frames of the
        full movie from then on, the movie clock re-zeroed at the first exposure, so the
        planted offset is −s; no landing step is seen). Components: textured background,
        linear illumination drift (multiplicative), meniscus wetting step, a uniform
        SEI/alloy signal growing with charge, local Li nucleation (smooth random field of
        local times with earlier clusters), growth with current redistribution, a few
        thick deposits that invert contrast, Gaussian PSF, Poisson shot + read noise.
        See :mod:`platescope.simulate._irm_model` for the equations. α is defined by::

            mean over footprint pixels of the noise-free, drift-free deposit signal
                = α · h_eq(t),   h_eq = V_M·|Q(t)|/(F·A_footprint)   (nm)

        (the current only redistributes between pixels, so charge conservation makes this
        exact for the deposit itself). Two parts of the signal depart from it: the
        transient extra contrast of fresh nuclei (amplitude ``burst_frac``·h_eq(t_nuc),
        decaying with ``burst_decay_frac``·t_nuc; it makes the dI/dt peak of the mean) and
        the inverted thick spots. So the relation is exact before local nucleation starts,
        and a full-record linear fit is within 2 % of α at the defaults (records of about
        3·t_nuc); it is biased high when the record ends soon after t_nuc (e.g. +13 % at
        0.1 mA cm⁻², whose default 60 s record is 1.5·t_nuc).
        ``truth["optics"]["alpha"]["fit_noise_free"]`` is that fit on noise-free frames,
        the value a perfect analysis would get.

        Truth t_nuc map: per footprint pixel, the echem time of the maximum of d/dt of the
        noise-free PSF-blurred per-pixel signal on a fine grid (step min(0.05 s, w/10), parabola
        refined) within ``(0, min(1.2·t_nuc, duration)]`` (t_nuc: the model's
        electrochemical nucleation time); NaN where the maximum is on the window edge.

        SEM: 1536 × 1024 image + 70-row data bar; particles from j-dependent statistics
        (density 1.1–2.5 × 10⁹ cm⁻², denser edge ring r ≥ 0.8 R, bimodal sizes at low j),
        only where the IRM field nucleated, sizes scaled by local growth time;
        faradaic efficiency follows from the particles (not forced).

        Parameters
        ----------
        seed : int
            Random seed (same seed + parameters → identical output).
        **params
            Any of (``--set`` keys; strings are converted):

    {params}

        Returns
        -------
        dict
            ``echem`` (DataFrame: time_s, potential_V, current_A, control_A, charge_C),
            ``echem_noise_free_V`` (ndarray), ``movie`` (uint16, t×y×x),
            ``movie_noise_free`` and ``signal_noise_free`` (float32, counts; the latter
            the deposit signal only), ``frame_times_s``, ``frame_bounds_s`` (movie clock),
            ``frame_interval_s``, ``pixel_size_um``, ``footprint_mask``, ``drift``,
            ``h_eq_frames_nm`` (exposure-averaged), ``t_nuc_map`` (float32, NaN outside),
            ``sem`` (uint8, 1094 × 1536), ``sem_pixel_size_nm``, ``particles``
            (DataFrame: x_um, y_um, diameter_nm, in_edge), ``t0_local``, ``timezone``,
            ``truth`` (dict) and ``parameters`` (resolved).

        Examples
        --------
        >>> sim = make_irm_galvanostatic(seed=1, current_density_mA_cm2=3.82, irm_size_px=96,
        ...                              footprint_diameter_um=2.0)
        >>> round(sim["truth"]["echem"]["galvanostatic"]["t_nuc_s"], 3)
        0.8
    """
    p = resolve_params(PARAMETERS, params)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(9)]
    rng_geo, rng_time, rng_echem, rng_field, rng_noise, rng_part, rng_sem, rng_bg, rng_spot = rngs
    j = p["current_density_mA_cm2"]
    targets = table1_targets(j)
    t_nuc = targets["t_nuc_s"]
    duration = _record_duration_s(p)
    _check_movie_start(p)
    ns = p["noise_scale"]

    # ---- geometry ---------------------------------------------------------------
    n_px, px = p["irm_size_px"], p["irm_pixel_size_um"]
    radius = 0.5 * p["footprint_diameter_um"]
    cx, cy = place_footprint(rng_geo, p)
    check_footprint_fits(p)
    area_cm2 = math.pi * radius**2 * 1e-8
    yy, xx = np.mgrid[0:n_px, 0:n_px] * px
    rr = np.hypot(xx - cx, yy - cy)
    mask = rr <= radius
    sigma_px = p["psf_sigma_um"] / px
    blurred_mask = ndimage.gaussian_filter(mask.astype(float), sigma_px, mode="constant")
    w = blurred_mask[mask] / mask.sum()
    omega = float(w.sum())

    # ---- deposit model ------------------------------------------------------------
    k = LI_MOLAR_VOLUME_CM3_MOL * j * 1e-3 / FARADAY_C_MOL * 1e7  # nm s⁻¹
    mu = t_nuc * (1.0 - p["nuc_lead_frac"])
    sd = t_nuc * p["nuc_sd_frac"]
    z = np.clip(smooth_field(rng_field, mask.shape, p["nuc_corr_um"] / px, mask=mask), -3.0, 2.5)
    tp_img = mu + sd * z
    for _ in range(p["n_early_clusters"]):
        r_c = 0.7 * radius * math.sqrt(rng_field.random())
        a_c = rng_field.uniform(0, 2 * np.pi)
        d2 = (xx - cx - r_c * math.cos(a_c)) ** 2 + (yy - cy - r_c * math.sin(a_c)) ** 2
        tp_img = tp_img - 1.2 * sd * np.exp(-d2 / (2 * 0.35**2))
    gamma_img = p["growth_share_mean"] * np.exp(
        0.7 * smooth_field(rng_field, mask.shape, 0.4 / px, mask=mask) - 0.5 * 0.7**2
    )
    spot_img = np.zeros(mask.shape)
    for _ in range(p["n_thick_spots"]):
        r_s = radius * rng_spot.uniform(0.8, 0.9)
        a_s = rng_spot.uniform(0, 2 * np.pi)
        d2 = (xx - cx - r_s * math.cos(a_s)) ** 2 + (yy - cy - r_s * math.sin(a_s)) ** 2
        spot_img += np.where(d2 < (3 * 0.18) ** 2, 8.0 * np.exp(-d2 / (2 * 0.18**2)), 0.0)
    width = p["burst_width_frac"] * t_nuc
    scene = IrmScene(
        shape=mask.shape,
        pixel_size_um=px,
        centre_x_um=cx,
        centre_y_um=cy,
        radius_um=radius,
        mask=mask,
        weights=w / omega,
        omega=omega,
        psf_sigma_px=sigma_px,
        k_nm_s=k,
        duration_s=duration,
        width_s=width,
        decay_s=p["burst_decay_frac"] * t_nuc,
        burst_nm=p["burst_frac"] * k * t_nuc,
        t_nuc_pix_s=tp_img[mask],
        growth_nm_s=k * gamma_img[mask],
        spot_growth_nm_s=k * spot_img[mask],
        spot_onset_s=1.35 * t_nuc,
        alpha_counts_nm=p["alpha_counts_per_nm"],
        inversion_nm=p["inversion_thickness_nm"],
        inversion_width_nm=p["inversion_width_nm"],
    )

    # ---- frame timing (movie clock) -------------------------------------------------
    bounds, offset, dt_nom = jittered_frame_bounds(rng_time, p, duration)
    start_after = p["movie_start_after_contact_s"]
    if start_after is not None:
        bounds, offset = _start_after_contact(bounds, offset, start_after, duration)
    n_frames = bounds.size - 1
    times = 0.5 * (bounds[:-1] + bounds[1:])
    echem_bounds = bounds - offset

    # ---- movie ----------------------------------------------------------------------
    hbar = deposit_frame_means(scene, echem_bounds)
    stack = np.zeros((n_frames, n_px, n_px), dtype=np.float32)
    stack[:, mask] = scene.contrast(hbar)
    signal = ndimage.gaussian_filter(stack, (0.0, sigma_px, sigma_px), mode="constant")
    signal *= np.float32(scene.alpha_counts_nm / omega)
    land_frac = np.clip((bounds[1:] - offset) / np.diff(bounds), 0.0, 1.0)
    landing = p["landing_step_counts"] * blurred_mask
    background, drift = background_and_drift(
        rng_bg, mask.shape, px, p["background_counts"], p["drift_frac"], times
    )
    movie_nf = (
        background[None].astype(np.float32)
        + (land_frac[:, None, None] * landing[None]).astype(np.float32)
        + signal
    )
    movie_nf *= drift.astype(np.float32)[:, None, None]
    motion = stage_motion(seed, n_frames, p)  # None (nothing drawn) unless turned on
    movie_nf = apply_stage_motion(movie_nf, motion)
    if ns > 0:
        shot = rng_noise.poisson(np.clip(movie_nf, 0, None)).astype(np.float32) - movie_nf
        noisy = movie_nf + np.float32(ns) * shot
        noisy += rng_noise.normal(0.0, ns * p["read_noise_counts"], movie_nf.shape).astype(
            np.float32
        )
    else:
        noisy = movie_nf.copy()
    movie = np.clip(np.rint(noisy), 0, CAMERA_MAX_COUNTS).astype(np.uint16)

    # exposure-averaged equivalent thickness per frame
    def lin_cum(x):
        xc = np.clip(x, 0.0, duration)
        return 0.5 * xc * xc + np.maximum(x - duration, 0.0) * duration

    h_eq_frames = k * np.diff(lin_cum(echem_bounds)) / np.diff(echem_bounds)

    # ---- echem --------------------------------------------------------------------
    curve = build_galvanostatic_curve(
        t_nuc_s=t_nuc,
        E_nuc_V=targets["E_nuc_V"],
        E_growth_V=targets["E_growth_V"],
        duration_s=duration,
        E_start_V=p["E_start_V"],
    )
    n_s = int(math.floor(duration / p["sample_period_s"] + 1e-9)) + 1
    t_e = np.arange(n_s) * p["sample_period_s"]
    e_nf = curve(t_e)
    i_set = -j * 1e-3 * area_cm2  # A, cathodic negative
    potential = e_nf + rng_echem.normal(0.0, ns * p["potential_noise_V"], n_s)
    current = i_set * (1.0 + rng_echem.normal(0.0, ns * p["current_noise_frac"], n_s))
    charge = cumulative_trapezoid(current, t_e, initial=0.0)
    echem = pd.DataFrame(
        {
            "time_s": t_e,
            "potential_V": potential,
            "current_A": current,
            "control_A": np.full(n_s, i_set),
            "charge_C": charge,
        }
    )
    t_min, e_min = curve.minimum()
    galv: dict[str, Any]
    after = np.linspace(min(t_min, duration), duration, 2001)
    turned = t_min < duration and float(np.max(curve(after))) - e_min >= TURN_THRESHOLD_V
    if turned:
        e_growth = curve.tail_mean(duration)
        galv = {
            "E_nuc_V": e_min,
            "t_nuc_s": t_min,
            "Q_nuc_uAh_cm2": j * t_min / 3.6,
            "E_growth_V": e_growth,
            "eta_nuc_V": e_growth - e_min,
            "nucleated": True,
        }
    else:
        galv = {
            "E_nuc_V": None,
            "t_nuc_s": None,
            "Q_nuc_uAh_cm2": None,
            "E_growth_V": None,
            "eta_nuc_V": None,
            "nucleated": False,
            "reason": (
                f"the noise-free potential does not turn (rise by ≥ {TURN_THRESHOLD_V * 1e3:g} mV after "
                f"its minimum) within the {duration:g} s record; the model's nucleation time is {t_min:.3g} s"
            ),
        }
    galv["definitions"] = (
        "E_nuc/t_nuc: exact minimum of the noise-free curve; Q_nuc = j·t_nuc; E_growth: mean noise-free "
        f"potential over the last {E_GROWTH_TAIL_FRACTION:.0%} of the record; eta = E_growth − E_nuc; "
        f"nucleated: the curve rises ≥ {TURN_THRESHOLD_V * 1e3:g} mV after its minimum within the record"
    )

    # ---- truth: nucleation times from the IRM signal ------------------------------------
    t_hi = min(1.2 * t_nuc, duration)
    t_lo = max(0.0, float(scene.t_nuc_pix_s.min()) - 6.0 * width)
    dt_truth = min(0.05, width / 10.0)
    if t_hi - t_lo > 3 * dt_truth:
        t_pix, t_mean = truth_nucleation_times(scene, t_lo, t_hi, dt=dt_truth)
    else:
        t_pix, t_mean = np.full(mask.sum(), np.nan), float("nan")
    t_map = np.full(mask.shape, np.nan, dtype=np.float32)
    t_map[mask] = t_pix
    finite = np.isfinite(t_pix)

    # ---- alpha ----------------------------------------------------------------------------
    i_land = int(np.argmax(bounds[:-1] >= offset))
    in_rec = (np.arange(n_frames) >= i_land) & (echem_bounds[1:] <= duration)
    sig_mean = (movie_nf[:, mask].mean(axis=1) / drift).astype(float)
    y = sig_mean[in_rec] - sig_mean[i_land]
    x = h_eq_frames[in_rec]
    fit_slope = fit_r2 = None
    if in_rec.sum() >= 3:
        coef = np.polyfit(x, y, 1)
        fit_slope = float(coef[0])
        fit_r2 = float(1.0 - np.sum((y - np.polyval(coef, x)) ** 2) / np.sum((y - y.mean()) ** 2))

    # ---- SEM + particles -----------------------------------------------------------------
    sem_px = p["sem_pixel_size_nm"]
    need = 2 * radius * 1.2 * 1000.0 / SEM_IMAGE_SHAPE[0]
    if need > sem_px:
        sem_px = math.ceil(need * 2.0) / 2.0
    sem_h_um, sem_w_um = SEM_IMAGE_SHAPE[0] * sem_px * 1e-3, SEM_IMAGE_SHAPE[1] * sem_px * 1e-3
    free_y, free_x = 0.5 * sem_h_um - radius, 0.5 * sem_w_um - radius
    scx = 0.5 * (SEM_IMAGE_SHAPE[1] - 1) * sem_px * 1e-3 + rng_geo.uniform(-0.4, 0.4) * free_x
    scy = 0.5 * (SEM_IMAGE_SHAPE[0] - 1) * sem_px * 1e-3 + rng_geo.uniform(-0.3, 0.3) * free_y
    nucleated_img = np.where(mask, tp_img < duration - 2.0 * width, False)
    f_nuc = float(nucleated_img[mask].mean())
    ptarg = particle_targets(j)
    n_particles = int(round(ptarg["density_cm2"] * area_cm2 * f_nuc))
    g_ref = max(float(np.percentile(gamma_img[mask], 99)), 1e-12)
    grow_ref = 3.0 * t_nuc - mu

    def irm_lookup(img, dx, dy):
        ix = np.clip(np.rint((cx + np.asarray(dx)) / px).astype(int), 0, n_px - 1)
        iy = np.clip(np.rint((cy + np.asarray(dy)) / px).astype(int), 0, n_px - 1)
        return img[iy, ix]

    def site_weight(dx, dy):
        g = np.clip(irm_lookup(gamma_img, dx, dy) / g_ref, 0.0, 1.0)
        return irm_lookup(nucleated_img, dx, dy) * (0.6 + 0.4 * g)

    def size_factor(dx, dy):
        grow = np.maximum(duration - irm_lookup(tp_img, dx, dy), 0.0)
        return np.clip(grow / grow_ref, 0.008, 8.0) ** (1.0 / 3.0)

    if n_particles > 0:
        parts = place_particles(
            rng_part,
            n_particles=n_particles,
            radius_um=radius,
            populations=ptarg["populations"],
            edge_density_ratio=ptarg["edge_density_ratio"],
            site_weight=site_weight,
            size_factor=size_factor,
            pair_fraction=p["pair_fraction"],
        )
    else:
        parts = pd.DataFrame({"dx_um": [], "dy_um": [], "diameter_nm": [], "paired": []})
    r_part = np.hypot(parts["dx_um"].to_numpy(float), parts["dy_um"].to_numpy(float))
    particles = pd.DataFrame(
        {
            "x_um": scx + parts["dx_um"].to_numpy(float),
            "y_um": scy + parts["dy_um"].to_numpy(float),
            "diameter_nm": parts["diameter_nm"].to_numpy(float),
            "in_edge": r_part >= (1.0 - EDGE_RING_FRACTION) * radius,
        }
    )
    sem = render_sem(
        rng_sem,
        particles,
        pixel_size_nm=sem_px,
        centre_x_um=scx,
        centre_y_um=scy,
        radius_um=radius,
        noise_sd=ns * p["sem_noise_sd"],
    )
    q_total = abs(i_set) * duration
    particle_truth = _particle_truth(particles, area_cm2, q_total)
    particle_truth["populations_nm"] = [
        {"fraction": f, "mean_diameter_nm": m, "sd_diameter_nm": s}
        for f, m, s in ptarg["populations"]
    ]
    particle_truth["n_paired"] = int(parts["paired"].sum()) if len(parts) else 0

    # ---- truth ----------------------------------------------------------------------------
    t0_aware = T0_LOCAL.replace(tzinfo=ZoneInfo(TIMEZONE))
    resolved = dict(p, duration_s=duration)
    truth = {
        **({"registration": motion_truth(motion)} if motion else {}),
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": resolved,
        "sync": {
            "offset_s": offset,
            "method": "planted",
            "definition": "movie-clock time of pipette contact = echem t = 0 (movie t = echem t + offset_s)",
            "frame_timestamps": "exposure centres; each exposure lasts the whole frame interval",
            "echem_t0_local": T0_LOCAL.isoformat(timespec="milliseconds"),
            "timezone": TIMEZONE,
            "echem_t0_utc": t0_aware.astimezone(ZoneInfo("UTC"))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "contact_frame": int(np.searchsorted(bounds, offset)) - 1
            if start_after is None
            else None,
            "movie_start_after_contact_s": start_after,
        },
        "echem": {
            "galvanostatic": galv,
            "model_targets": targets,
            "current_A": i_set,
            "total_charge_C": -q_total,
            "area_cm2": area_cm2,
        },
        "optics": {
            "t_nuc_irm_s": t_mean if math.isfinite(t_mean) else None,
            "t_nuc_map": {
                "path": "t_nuc_map.tif",
                "mean_s": float(np.mean(t_pix[finite])) if finite.any() else None,
                "sd_s": float(np.std(t_pix[finite])) if finite.any() else None,
                "n_pixels": int(finite.sum()),
                "n_undefined": int((~finite).sum()),
                "window_s": [t_lo, t_hi],
                "rule": (
                    "per footprint pixel: echem time of the maximum of d/dt of the noise-free PSF-blurred "
                    "signal on a fine grid within (0, min(1.2·t_nuc, duration)]; NaN when on the window edge; "
                    "path relative to truth.json"
                ),
            },
            "alpha": {
                "value": fit_slope,
                "units": "counts/nm",
                "definition": (
                    "the correlation factor of the paper's eq. 2 over the whole record: least-squares "
                    "slope of the noise-free, drift-free footprint-mean IRM signal (counts) against "
                    "h_eq = V_M·|Q(t)|/(F·A_footprint) in nm (see fit_definition). The nucleation burst "
                    "and thick, contrast-inverted deposits make it differ by a few % from "
                    "planted_pre_nucleation, the exact ratio signal/h_eq before any nucleus forms"
                ),
                "planted_pre_nucleation": p["alpha_counts_per_nm"],
                "fit_noise_free": fit_slope,
                "r2_noise_free": fit_r2,
                "fit_definition": (
                    "least-squares line (with intercept) of the noise-free, drift-free footprint-mean "
                    "frame intensity minus the first full post-contact frame vs exposure-averaged h_eq, "
                    "frames inside the record"
                ),
            },
            "planted_local_nucleation": {"mean_s": mu, "sd_s": sd, "burst_width_s": width},
            "k_nm_s": k,
        },
        "particles": particle_truth,
        "footprint": {
            "irm": {"centre_x_um": cx, "centre_y_um": cy, "radius_um": radius},
            "sem": {"centre_x_um": scx, "centre_y_um": scy, "radius_um": radius},
            "area_cm2": area_cm2,
        },
        "movie": {
            "n_frames": n_frames,
            "frame_interval_nominal_s": dt_nom,
            "pixel_size_um": px,
            "drift_total_frac": float(drift[-1] - 1.0),
        },
        "sem": {"pixel_size_nm": sem_px, "databar_rows": SEM_DATABAR_ROWS},
    }
    if truth["optics"]["t_nuc_irm_s"] is None or not finite.any():
        truth["optics"]["reason"] = (
            "no maximum of dI/dt inside the window (0, min(1.2·t_nuc, duration)] for the footprint mean "
            "and/or some pixels: local nucleation not reached within the record"
        )
    return {
        "echem": echem,
        "echem_noise_free_V": e_nf,
        "movie": movie,
        "movie_noise_free": movie_nf,
        "signal_noise_free": signal,
        "frame_times_s": times,
        "frame_bounds_s": bounds,
        "frame_interval_s": dt_nom,
        "pixel_size_um": px,
        "footprint_mask": mask,
        "drift": drift,
        "h_eq_frames_nm": h_eq_frames,
        "t_nuc_map": t_map,
        "sem": sem,
        "sem_pixel_size_nm": sem_px,
        "particles": particles,
        "t0_local": T0_LOCAL,
        "timezone": TIMEZONE,
        "curve": curve,
        "truth": truth,
        "parameters": resolved,
    }


def _record_duration_s(p: dict[str, Any]) -> float:
    """The echem record length: ``duration_s`` or min(3·t_nuc, 60 s)."""
    if p["duration_s"] is not None:
        return p["duration_s"]
    t_nuc = table1_targets(p["current_density_mA_cm2"])["t_nuc_s"]
    return round(min(3.0 * t_nuc, _MAX_DEFAULT_DURATION_S), 2)


def _check_movie_start(p: dict[str, Any]) -> None:
    """InputError unless a movie started after contact starts inside the record."""
    start, duration = p["movie_start_after_contact_s"], _record_duration_s(p)
    if start is not None and start >= duration:
        raise InputError(
            None,
            f"movie_start_after_contact_s = {start:g} s is not inside the {duration:g} s record",
            "start the movie earlier (a smaller movie_start_after_contact_s) or lengthen duration_s",
        )


def _start_after_contact(
    bounds: np.ndarray, offset: float, start_after_s: float, duration_s: float
) -> tuple[np.ndarray, float]:
    """Frame bounds of a camera started ``start_after_s`` after contact, and its offset.

    The frames of the full movie from the first one exposing wholly after
    ``offset + start_after_s`` are kept (same jittered intervals), and the movie clock is
    re-zeroed so the first exposure begins at ``t = 0`` exactly ``start_after_s`` after
    contact: contact is at ``−start_after_s`` on the new movie clock.
    """
    i0 = int(np.searchsorted(bounds, offset + start_after_s - 1e-12))
    if bounds.size - i0 < 9:
        raise InputError(
            None,
            f"movie_start_after_contact_s = {start_after_s:g} s leaves fewer than 8 frames "
            f"inside the {duration_s:g} s record",
            "start the movie earlier (a smaller movie_start_after_contact_s) or lengthen duration_s",
        )
    return bounds[i0:] - bounds[i0], -float(start_after_s)


def _particle_truth(particles: pd.DataFrame, area_cm2: float, q_total_C: float) -> dict:
    d = particles["diameter_nm"].to_numpy(float)
    edge = particles["in_edge"].to_numpy(bool)
    r_in = 1.0 - EDGE_RING_FRACTION
    a_center = area_cm2 * r_in**2
    a_edge = area_cm2 - a_center
    fmol = sphere_volume_to_fmol(d) if d.size else 0.0
    out = {
        "count": int(d.size),
        "density_cm2": d.size / area_cm2,
        "mean_diameter_nm": float(d.mean()) if d.size else None,
        "sd_diameter_nm": float(d.std(ddof=1)) if d.size > 1 else None,
        "deposited_Li_fmol": fmol,
        "faradaic_efficiency": fmol * 1e-15 * FARADAY_C_MOL / q_total_C,
        "edge": {
            "density_cm2": int(edge.sum()) / a_edge,
            "mean_diameter_nm": float(d[edge].mean()) if edge.any() else None,
        },
        "center": {
            "density_cm2": int((~edge).sum()) / a_center,
            "mean_diameter_nm": float(d[~edge].mean()) if (~edge).any() else None,
        },
        "edge_definition": f"edge = outer ring r ≥ {r_in:g}·R (width {EDGE_RING_FRACTION:.0%} of the radius), center = the rest",
        "path": "particles.csv",
    }
    if not d.size:
        out["reason"] = "no particles: no part of the footprint nucleated within the record"
    return out


fill_parameter_doc(make_irm_galvanostatic, PARAMETERS)


@register(SCENARIO, PARAMETERS)
def irm_galvanostatic(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated galvanostatic SECCM/IRM experiment and its truth to ``out``.

    Files: ``irm.tif`` (ImageJ TYX uint16), ``frame_times.csv``, ``echem.mpt``
    (EC-Lab text, Chronopotentiometry), ``sem.tif`` (FEI-tagged, with data bar),
    ``experiment.toml`` and ``truth/`` (``truth.json``, ``t_nuc_map.tif``,
    ``particles.csv``, ``echem_noise_free.csv``). All written atomically; an existing
    folder is reused only if it holds nothing or the same scenario. See
    :func:`make_irm_galvanostatic` for the model and the parameters.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (see :func:`make_irm_galvanostatic`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = irm_galvanostatic(tempfile.mkdtemp(), seed=3)  # doctest: +SKIP
    >>> p.name  # doctest: +SKIP
    'experiment.toml'
    """
    from platescope.io._echem_eclab_text import write_eclab_mpt
    from platescope.io._image_writers import write_sem_tiff

    resolved = resolve_params(PARAMETERS, params)  # validate before touching the folder
    check_footprint_fits(resolved)
    _check_movie_start(resolved)
    out = prepare_output_dir(out, SCENARIO)
    sim = make_irm_galvanostatic(seed=seed, **params)
    if sim["parameters"]["strobe"]:
        sim = add_strobe(sim, sim["parameters"], seed)
    truth_dir = out / "truth"
    movie_section = write_movie_files(out, sim)
    write_eclab_mpt(
        out / "echem.mpt",
        sim.get("echem_file", sim["echem"]),
        t0_local=sim["t0_local"],
        technique="Chronopotentiometry",
    )
    write_sem_tiff(
        out / "sem.tif",
        sim["sem"],
        pixel_size_nm=sim["sem_pixel_size_nm"],
        databar_rows=SEM_DATABAR_ROWS,
    )
    write_truth_tiff(truth_dir / "t_nuc_map.tif", sim["t_nuc_map"], sim["pixel_size_um"])
    atomic_write_text(truth_dir / "particles.csv", sim["particles"].to_csv(index=False))
    nf = pd.DataFrame({"time_s": sim["echem"]["time_s"], "potential_V": sim["echem_noise_free_V"]})
    atomic_write_text(truth_dir / "echem_noise_free.csv", nf.to_csv(index=False))
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, ("irm.tif", "frame_times.csv", "echem.mpt", "sem.tif"))
    truth["files"] = {
        "movie": "irm.tif",
        "frame_times": "frame_times.csv",
        "echem": "echem.mpt",
        "sem": "sem.tif",
        "t_nuc_map": "truth/t_nuc_map.tif",
        "particles": "truth/particles.csv",
        "echem_noise_free": "truth/echem_noise_free.csv",
    }
    write_json_atomic(truth_dir / "truth.json", truth)
    echem_section = {
        "path": "echem.mpt",
        "timezone": TIMEZONE,
        "current_density_mA_cm2": sim["parameters"]["current_density_mA_cm2"],
    }
    if sim["parameters"]["movie_start_after_contact_s"] is not None:
        # a camera started by the contact signal: its delay is known, and nothing else
        # in these files (no landing step, constant current, no start time in an
        # ImageJ TIFF) could align the clocks
        echem_section["time_offset_s"] = truth["sync"]["offset_s"]
    exp = {
        "electrode": {"area_cm2": truth["footprint"]["area_cm2"], **AU_FILM},
        "echem": echem_section,
        "movie": movie_section,
        "sem": {"path": "sem.tif"},
    }
    return write_experiment_toml(out, SCENARIO, seed, exp)
