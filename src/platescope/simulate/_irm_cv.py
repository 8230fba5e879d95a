"""The ``irm-cv`` scenario: SECCM cyclic voltammetry (Li plating/stripping) seen by IRM.

:func:`make_irm_cv` builds everything in memory (arrays + truth); :func:`irm_cv` writes
``echem.mpt`` (EC-Lab text, with ``cycle number``), ``irm.tif`` (ImageJ TYX uint16),
``frame_times.csv``, ``experiment.toml`` and ``truth/``.
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
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
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
from platescope.simulate._cv_model import (
    CATHODIC,
    E_CROSSOVER_V,
    PROCESSES,
    cycle_process_charges,
    process_shapes,
    triangle_potential,
)
from platescope.simulate._irm_model import CAMERA_MAX_COUNTS, background_and_drift, smooth_field
from platescope.simulate._stage_motion import (
    STAGE_PARAMETERS,
    apply_stage_motion,
    motion_truth,
    stage_motion,
)

__all__ = ["PARAMETERS", "irm_cv", "make_irm_cv"]

SCENARIO = "irm-cv"
T0_LOCAL = datetime(2024, 6, 13, 10, 41, 5, 250000)
TIMEZONE = "Europe/London"
_FINE_DT_S = 0.002  # model grid for the truth integrals and exposure averaging

PARAMETERS: dict[str, Param] = {
    "n_cycles": Param(10, int, "number of CV cycles", 1, 50),
    "scan_rate_mV_s": Param(100.0, float, "scan rate, mV s⁻¹", 1.0, 10000.0, True),
    "E_high_V": Param(1.47, float, "upper vertex = start potential, V vs Li/Li⁺", 0.3, 4.0),
    "E_low_V": Param(-0.27, float, "lower vertex (cut-off), V vs Li/Li⁺", -1.0, -0.14),
    "sample_period_s": Param(0.02, float, "echem sample period, s", 1e-3, 1.0, True),
    "noise_scale": Param(
        1.0, float, "multiplies every noise amplitude (0 = noise-free files)", 0.0, 100.0
    ),
    "current_noise_A": Param(
        0.5e-12, float, "white current noise sd, A (× noise_scale)", 0.0, 1e-6
    ),
    "potential_noise_V": Param(
        3e-4, float, "white potential noise sd, V (× noise_scale)", 0.0, 0.1
    ),
    "Q_c1_nC": Param(4.0, float, "cathodic faradaic charge of cycle 1, nC", 0.01, 1e4, True),
    "Q_c_inf_frac": Param(
        0.4, float, "late-cycle cathodic charge / cycle-1 cathodic charge", 0.05, 2.0
    ),
    "CE_first": Param(0.25, float, "faradaic CE of the first cycle", 0.01, 1.0),
    "CE_last": Param(
        0.85, float, "faradaic CE of cycle 10 (the CE curve rises towards it)", 0.01, 1.0
    ),
    "sei_frac_first": Param(0.45, float, "SEI share of the cycle-1 cathodic charge", 0.0, 0.9),
    "C_dl_uF_cm2": Param(5.0, float, "double-layer capacitance, µF cm⁻²", 0.0, 1000.0),
    "footprint_diameter_um": Param(9.0, float, "SECCM footprint diameter, µm", 1.0, 30.0),
    "footprint_offset_um": Param(
        0.25, float, "largest off-centre shift of the footprint in the field, µm", 0.0, 5.0
    ),
    "irm_size_px": Param(96, int, "IRM field width = height, pixels", 32, 1024),
    "irm_pixel_size_um": Param(0.12, float, "IRM pixel size, µm", 0.005, 1.0, True),
    "frame_rate_fps": Param(4.3, float, "nominal IRM frame rate, frames s⁻¹", 0.1, 100.0),
    "frame_jitter_frac": Param(
        0.10, float, "frame intervals vary uniformly by ± this fraction", 0.0, 0.5
    ),
    "pre_contact_s": Param(3.0, float, "movie time before contact (±20 %), s", 0.5, 60.0),
    "post_record_s": Param(1.0, float, "movie time after the record ends, s", 0.0, 60.0),
    "n_dead_regions": Param(3, int, "regions where inactive Li accumulates", 0, 20),
    "dead_radius_um": Param(
        1.0, float, "Gaussian radius (sd) of an inactive-Li region, µm", 0.1, 5.0
    ),
    "dead_depth": Param(
        0.6, float, "cycle-1 relative drop of the local stripping efficiency in a region", 0.0, 0.95
    ),
    "dead_decay_cycles": Param(
        2.5, float, "e-folding of that drop over cycles (regions heal)", 0.1, 100.0
    ),
    "dead_plating_boost": Param(
        0.5, float, "extra relative plating in inactive-Li regions", 0.0, 3.0
    ),
    "background_counts": Param(2000.0, float, "mean IRM background, counts", 50.0, 3500.0),
    "landing_step_counts": Param(
        150.0, float, "IRM step when the meniscus wets, counts", 0.0, 1000.0
    ),
    "drift_frac": Param(
        0.003, float, "linear illumination drift over the movie, fraction", 0.0, 0.05
    ),
    "read_noise_counts": Param(
        5.0, float, "camera read noise sd, counts (× noise_scale)", 0.0, 200.0
    ),
    "alpha_counts_per_nm": Param(
        30.0, float, "IRM signal per nm of equivalent deposit thickness, counts nm⁻¹", 0.1, 1000.0
    ),
    "psf_sigma_um": Param(0.15, float, "Gaussian PSF sd, µm", 0.0, 2.0),
    **STAGE_PARAMETERS,
}


def make_irm_cv(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate a 10-cycle SECCM CV of Li plating/stripping on Au, with an IRM movie.

        Electrochemistry (:mod:`platescope.simulate._cv_model`): a triangle wave from
        ``E_high_V`` down to ``E_low_V`` and back, ``n_cycles`` times; the faradaic current
        is SEI (cycle 1 mostly), Li–Au alloying/dealloying, Li plating below −0.13 V (with
        a nucleation loop to −0.02 V on the return sweep) and Li stripping (+0.17 V),
        each scaled per cycle so that the cathodic charge falls and the faradaic CE rises
        from ``CE_first`` (cycle 1) to ``CE_last`` (cycle 10); plus ``C_dl·dE/dt`` and white noise.

        IRM: every cathodic process leaves optical material in proportion to its local
        charge (equivalent thickness V_M·q/F per area; SEI, alloy and Li alike) and every
        anodic process removes it, so the local intensity change over plating, I_c, and
        the change over stripping, I_a, are proportional to the local cathodic and anodic
        charge. Local maps (footprint mean 1): SEI and alloy nearly uniform; plating
        enhanced by ``dead_plating_boost`` in ``n_dead_regions`` Gaussian regions where the
        local stripping efficiency is lowered by ``dead_depth``·e^{−(n−1)/dead_decay_cycles}
        (inactive Li accumulates there early and the regions heal). Each frame averages
        the signal over its exposure (= its jittered interval, timestamps at the centres);
        PSF blur, textured background, landing step, linear drift, shot (Gaussian limit of
        Poisson) + read noise
        (12-bit camera).

        Truth (``truth["echem"]["cycles"]``): Q_c, Q_a per cycle integrated from the
        noise-free current on a 2 ms grid (∫max(∓I, 0) dt over each cycle, boundaries at
        the upper vertices), CE = Q_a/Q_c; E_onset_c_V and E_peak_a_V by the rules of
        :func:`platescope.echem.cv_features` applied to the noise-free current.
        ``truth/ce_maps.tif``: per cycle, the local charge ratio
        (PSF-blurred q_a + q_dl)/(PSF-blurred q_c + q_dl) on footprint pixels (NaN
        elsewhere); ``truth/residual_deposit_nm.tif``: the deposit left after the last
        cycle, nm of equivalent thickness, PSF-blurred.

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
            ``echem`` (DataFrame: time_s, potential_V, current_A, cycle, charge_C),
            ``echem_noise_free_A`` (ndarray), ``movie`` (uint16 t×y×x),
            ``frame_times_s``, ``frame_bounds_s``, ``frame_interval_s``,
            ``pixel_size_um``, ``footprint_mask``, ``ce_maps`` (float32 n_cycles×y×x),
            ``residual_nm`` (float32 y×x), ``t0_local``, ``truth``, ``parameters``.

        Examples
        --------
        >>> sim = make_irm_cv(seed=1, n_cycles=2, irm_size_px=48, footprint_diameter_um=4.0)
        >>> [round(c["CE"], 2) for c in sim["truth"]["echem"]["cycles"]]
        [0.25, 0.43]
    """
    p = resolve_params(PARAMETERS, params)
    check_footprint_fits(p)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)]
    rng_geo, rng_time, rng_echem, rng_field, rng_noise, rng_bg = rngs
    ns = p["noise_scale"]
    n_cyc = p["n_cycles"]
    scan = p["scan_rate_mV_s"] * 1e-3
    e_hi, e_lo = p["E_high_V"], p["E_low_V"]
    period = 2.0 * (e_hi - e_lo) / scan
    duration = n_cyc * period

    # ---- geometry -------------------------------------------------------------------
    n_px, px = p["irm_size_px"], p["irm_pixel_size_um"]
    radius = 0.5 * p["footprint_diameter_um"]
    cx, cy = place_footprint(rng_geo, p)
    area_cm2 = math.pi * radius**2 * 1e-8
    yy, xx = np.mgrid[0:n_px, 0:n_px] * px
    mask = np.hypot(xx - cx, yy - cy) <= radius
    sigma_px = p["psf_sigma_um"] / px

    def blur(img):
        return ndimage.gaussian_filter(img, sigma_px, mode="constant") if sigma_px > 0 else img

    omega = float(blur(mask.astype(float))[mask].mean())

    # ---- local maps (footprint mean 1) ----------------------------------------------------
    def unit_mean(img):
        return img / img[mask].mean()

    u_sei = unit_mean(1.0 + 0.08 * smooth_field(rng_field, mask.shape, 1.5 / px, mask=mask))
    u_alloy = unit_mean(1.0 + 0.10 * smooth_field(rng_field, mask.shape, 1.0 / px, mask=mask))
    dead = np.zeros(mask.shape)
    centres = []
    for _ in range(p["n_dead_regions"]):
        r_c = 0.65 * radius * math.sqrt(rng_field.random())
        a_c = rng_field.uniform(0, 2 * np.pi)
        dx, dy = cx + r_c * math.cos(a_c), cy + r_c * math.sin(a_c)
        centres.append((dx, dy))
        d2 = (xx - dx) ** 2 + (yy - dy) ** 2
        dead = np.maximum(dead, np.exp(-d2 / (2 * p["dead_radius_um"] ** 2)))
    z_plate = smooth_field(rng_field, mask.shape, 1.2 / px, mask=mask)
    u_plate = unit_mean(np.clip(1.0 + 0.15 * z_plate + p["dead_plating_boost"] * dead, 0.2, None))
    z_strip = smooth_field(rng_field, mask.shape, 1.0 / px, mask=mask)

    charges = cycle_process_charges(
        n_cyc,
        Q_c1_C=p["Q_c1_nC"] * 1e-9,
        Q_c_inf_frac=p["Q_c_inf_frac"],
        tau_Qc=1.5,
        CE_first=p["CE_first"],
        CE_last=p["CE_last"],
        tau_CE=3.0,
        sei_frac_first=p["sei_frac_first"],
        tau_sei=0.8,
        alloy_frac=0.3,
        dealloy_frac=0.9,
    )
    # per-cycle local stripping fraction r (≤ 1) with Σ_mask u_plate·r / N = Q_strip/Q_plate
    r_maps = np.zeros((n_cyc, *mask.shape))
    for n in range(n_cyc):
        target = charges["strip"][n] / charges["plate"][n]
        depth = p["dead_depth"] * math.exp(-n / p["dead_decay_cycles"])
        raw = np.clip((1.0 - depth * dead) * (1.0 + 0.04 * z_strip), 0.01, None)
        r = raw * target / (u_plate * raw)[mask].mean()
        for _ in range(20):  # clip at 1 and renormalise the rest
            if not (r[mask] > 1.0).any():
                break
            r = np.minimum(r, 1.0)
            free = mask & (r < 1.0)
            deficit = target - (u_plate * r)[mask].mean()
            r[free] *= 1.0 + deficit * mask.sum() / (u_plate * r)[free].sum()
        r_maps[n] = r

    # component maps (per unit charge fraction): sign · Q · u  (C per pixel-mean)
    comp_names, comp_maps, comp_sign = [], [], []
    for n in range(n_cyc):
        for name in PROCESSES:
            if name in ("sei",):
                u = u_sei
            elif name in ("alloy", "dealloy"):
                u = u_alloy
            elif name == "plate":
                u = u_plate
            else:
                u = u_plate * r_maps[n] * charges["plate"][n] / max(charges["strip"][n], 1e-300)
            comp_names.append((n, name))
            comp_maps.append(charges[name][n] * u)
            comp_sign.append(1.0 if name in CATHODIC else -1.0)
    comp_maps = np.asarray(comp_maps)  # K × y × x, C (× footprint-mean units)
    comp_sign = np.asarray(comp_sign)

    # ---- fine grid: shapes, normalisation, currents -----------------------------------------
    t_f = np.arange(int(round(duration / _FINE_DT_S)) + 1) * _FINE_DT_S
    e_f, d_f = triangle_potential(t_f, E_hi=e_hi, E_lo=e_lo, scan_V_s=scan)
    cyc_f = np.minimum((t_f // period).astype(int), n_cyc - 1)
    shapes_f = process_shapes(e_f, d_f, E_lo=e_lo)
    norms = {name: np.trapezoid(shapes_f[name][cyc_f == 0], t_f[cyc_f == 0]) for name in PROCESSES}
    # all cycles share the same shape integral (the wave repeats exactly)
    c_dl = p["C_dl_uF_cm2"] * 1e-6 * area_cm2

    def current(t):
        e, d = triangle_potential(t, E_hi=e_hi, E_lo=e_lo, scan_V_s=scan)
        cyc = np.minimum((np.asarray(t) // period).astype(int), n_cyc - 1)
        sh = process_shapes(e, d, E_lo=e_lo)
        i = c_dl * scan * d.astype(float)
        for name in PROCESSES:
            sign = -1.0 if name in CATHODIC else 1.0
            i = i + sign * charges[name][cyc] * sh[name] / norms[name]
        return i

    i_f = current(t_f)

    # ---- truth: per-cycle charges and features from the noise-free current --------------------
    cycles_truth = []
    for n in range(n_cyc):
        sel = (t_f >= n * period - 1e-9) & (t_f <= (n + 1) * period + 1e-9)
        tt, ii, ee, dd = t_f[sel], i_f[sel], e_f[sel], d_f[sel]
        q_c = float(np.trapezoid(np.clip(-ii, 0, None), tt))
        q_a = float(np.trapezoid(np.clip(ii, 0, None), tt))
        down = dd < 0
        kmin = int(np.argmin(np.where(down, ii, np.inf)))
        level = 0.1 * ii[kmin]
        k = kmin
        while k > 0 and down[k - 1] and ii[k - 1] <= level:
            k -= 1
        e_on = float(ee[k - 1] + (level - ii[k - 1]) * (ee[k] - ee[k - 1]) / (ii[k] - ii[k - 1]))
        upi = np.where(dd > 0, ii, -np.inf)
        kmax = int(np.argmax(upi))
        e_pk = float(ee[kmax])
        if 0 < kmax < ii.size - 1:
            y0, y1, y2 = upi[kmax - 1 : kmax + 2]
            den = y0 - 2 * y1 + y2
            if den < 0:
                e_pk += 0.5 * (y0 - y2) / den * (ee[kmax + 1] - ee[kmax])
        cycles_truth.append(
            {
                "cycle": n + 1,
                "t_start_s": n * period,
                "t_end_s": (n + 1) * period,
                "Q_c_C": q_c,
                "Q_a_C": q_a,
                "CE": q_a / q_c,
                "E_onset_c_V": e_on,
                "E_peak_a_V": e_pk,
                "planted_faradaic_C": {k2: float(v[n]) for k2, v in charges.items()},
            }
        )

    # ---- frame timing ------------------------------------------------------------------------
    bounds, offset, dt_nom = jittered_frame_bounds(rng_time, p, duration)
    n_frames = bounds.size - 1
    times = 0.5 * (bounds[:-1] + bounds[1:])
    echem_bounds = bounds - offset

    # ---- per-component cumulative charge fraction, exposure-averaged -------------------------------
    # every cycle repeats the same shapes, so one cycle's cumulative fraction F(τ) and its
    # integral G(τ) = ∫₀^τ F serve all cycles: the mean of F(t − n·T) over a frame is a
    # difference of G (G continues with slope 1 after the cycle, 0 before it)
    one = t_f <= period + 1e-9
    tau = t_f[one]
    frac_frames = np.empty((n_frames, len(comp_names)))
    g_int = {}
    for name in PROCESSES:
        g = shapes_f[name][one] / norms[name]
        f_cum = cumulative_trapezoid(g, tau, initial=0.0)
        f_cum /= f_cum[-1]
        g_int[name] = cumulative_trapezoid(f_cum, tau, initial=0.0)
    for k, (n, name) in enumerate(comp_names):
        x = echem_bounds - n * period
        big_g = np.interp(np.clip(x, 0.0, period), tau, g_int[name]) + np.maximum(x - period, 0.0)
        frac_frames[:, k] = np.diff(big_g) / np.diff(echem_bounds)

    # ---- movie ---------------------------------------------------------------------------------
    to_nm = LI_MOLAR_VOLUME_CM3_MOL / (FARADAY_C_MOL * area_cm2) * 1e7  # nm per C (footprint)
    maps_m = (comp_sign[:, None] * comp_maps[:, mask]) * to_nm  # K × n_mask, nm
    h = (frac_frames @ maps_m).astype(np.float32)  # n_frames × n_mask, nm
    stack = np.zeros((n_frames, n_px, n_px), dtype=np.float32)
    stack[:, mask] = h
    if sigma_px > 0:
        stack = ndimage.gaussian_filter(stack, (0.0, sigma_px, sigma_px), mode="constant")
    signal = stack * np.float32(p["alpha_counts_per_nm"] / omega)
    land_frac = np.clip((bounds[1:] - offset) / np.diff(bounds), 0.0, 1.0)
    landing = p["landing_step_counts"] * blur(mask.astype(float))
    background, drift = background_and_drift(
        rng_bg, mask.shape, px, p["background_counts"], p["drift_frac"], times
    )
    movie_nf = background[None].astype(np.float32) + signal
    movie_nf += (land_frac[:, None, None] * landing[None]).astype(np.float32)
    movie_nf *= drift.astype(np.float32)[:, None, None]
    motion = stage_motion(seed, movie_nf.shape[0], p)  # None (nothing drawn) unless on
    movie_nf = apply_stage_motion(movie_nf, motion)
    if ns > 0:
        # shot noise (Gaussian limit of Poisson: λ ≳ 1000 counts here) + read noise
        sd = np.sqrt(np.clip(movie_nf, 0, None) + np.float32(p["read_noise_counts"] ** 2))
        sd *= np.float32(ns)
        noisy = rng_noise.standard_normal(movie_nf.shape, dtype=np.float32)
        noisy *= sd
        noisy += movie_nf
        del sd
    else:
        noisy = movie_nf
    movie = np.clip(np.rint(noisy), 0, CAMERA_MAX_COUNTS).astype(np.uint16)
    del noisy, stack

    # ---- echem ---------------------------------------------------------------------------------
    sp = p["sample_period_s"]
    n_s = int(math.floor(duration / sp + 1e-9)) + 1
    t_e = np.arange(n_s) * sp
    e_e, _ = triangle_potential(t_e, E_hi=e_hi, E_lo=e_lo, scan_V_s=scan)
    i_nf = current(t_e)
    potential = e_e + rng_echem.normal(0.0, ns * p["potential_noise_V"], n_s)
    cur = i_nf + rng_echem.normal(0.0, ns * p["current_noise_A"], n_s)
    cyc_e = np.minimum(np.ceil(t_e / period - 1e-9).astype(int), n_cyc)
    cyc_e[0] = 1
    charge = cumulative_trapezoid(cur, t_e, initial=0.0)
    echem = pd.DataFrame(
        {
            "time_s": t_e,
            "potential_V": potential,
            "current_A": cur,
            "cycle": cyc_e.astype(np.int64),
            "charge_C": charge,
        }
    )

    # ---- truth maps ----------------------------------------------------------------------------
    q_dl = c_dl * (e_hi - e_lo)  # per cycle, each direction, spread uniformly
    ce_maps = np.full((n_cyc, n_px, n_px), np.nan, dtype=np.float32)
    resid = np.zeros(mask.shape)
    ce_stats = []
    for n in range(n_cyc):
        qc = np.zeros(mask.shape)
        qa = np.zeros(mask.shape)
        for k, (m, name) in enumerate(comp_names):
            if m != n:
                continue
            target = qc if name in CATHODIC else qa
            target += np.where(mask, comp_maps[k], 0.0)
        resid += qc - qa
        qc_b = blur(qc) / omega + q_dl
        qa_b = blur(qa) / omega + q_dl
        ce = (qa_b / qc_b)[mask]
        ce_maps[n][mask] = ce
        ce_stats.append(
            {
                "cycle": n + 1,
                "mean": float(ce.mean()),
                "sd": float(ce.std(ddof=1)),
                "path": "ce_maps.tif",
                "page": n,
            }
        )
    resid_nm = (blur(np.where(mask, resid, 0.0)) / omega * to_nm).astype(np.float32)
    resid_nm[~mask] = np.nan

    # noise-free calibration: footprint means of the noise-free signal change per cycle
    sig_mean = signal[:, mask].mean(axis=1).astype(float)
    t_frames_e = times - offset
    ratio = []
    for c in cycles_truth:
        # footprint-mean signal at the cycle's start, at the end of net plating (the return
        # sweep's crossover, where the current turns anodic) and at the cycle's end
        t_sw = c["t_start_s"] + 0.5 * period + (E_CROSSOVER_V - e_lo) / scan
        s0, s1, s2 = np.interp([c["t_start_s"], t_sw, c["t_end_s"]], t_frames_e, sig_mean)
        ratio.append((s1 - s2) / (s1 - s0))
    ratio = np.asarray(ratio)
    ce_true = np.array([c["CE"] for c in cycles_truth])
    if n_cyc >= 3:
        coef = np.polyfit(ratio, ce_true, 1)
        resid_fit = ce_true - np.polyval(coef, ratio)
        r2 = float(1 - np.sum(resid_fit**2) / np.sum((ce_true - ce_true.mean()) ** 2))
        calib = {"slope": float(coef[0]), "intercept": float(coef[1]), "r2": r2}
    else:
        calib = {"slope": None, "intercept": None, "r2": None}
    calib["ratio_noise_free"] = ratio.tolist()
    calib["definition"] = (
        "least-squares line CE = slope·(I_a/I_c) + intercept over cycles, I_a/I_c from the "
        "noise-free footprint-mean signal at each cycle's start, the return sweep's crossover and its end"
    )

    t0_aware = T0_LOCAL.replace(tzinfo=ZoneInfo(TIMEZONE))
    truth = {
        **({"registration": motion_truth(motion)} if motion else {}),
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": dict(p),
        "sync": {
            "offset_s": offset,
            "method": "planted",
            "definition": "movie-clock time of pipette contact = echem t = 0",
            "echem_t0_utc": t0_aware.astimezone(ZoneInfo("UTC"))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        },
        "echem": {
            "cycles": cycles_truth,
            "period_s": period,
            "area_cm2": area_cm2,
            "Q_dl_C": q_dl,
            "definitions": (
                "Q_c/Q_a: ∫max(−I,0)dt and ∫max(I,0)dt of the noise-free current over each cycle "
                "(upper vertex to upper vertex); E_onset_c_V: on the falling sweep, potential where "
                "the cathodic current last rises through 10 % of its maximum; E_peak_a_V: potential "
                "of the largest anodic current on the rising sweep"
            ),
        },
        "optics": {
            "ce_irm": ce_stats,
            "ce_calibration": calib,
            "residual_deposit": {
                "path": "residual_deposit_nm.tif",
                "units": "nm",
                "mean_nm": float(np.nanmean(resid_nm)),
                "max_nm": float(np.nanmax(resid_nm)),
                "definition": "equivalent thickness V_M·(Σq_c − Σq_a)/F left after the last cycle, PSF-blurred",
            },
            "ce_map_definition": (
                "per footprint pixel and cycle: (B[q_a] + q_dl)/(B[q_c] + q_dl), B the PSF blur, "
                "q the local anodic/cathodic faradaic charge, q_dl the uniform double-layer charge"
            ),
            "alpha_counts_per_nm": p["alpha_counts_per_nm"],
            "dead_region_centres_um": [[float(a), float(b)] for a, b in centres],
        },
        "footprint": {
            "centre_x_um": cx,
            "centre_y_um": cy,
            "radius_um": radius,
            "area_cm2": area_cm2,
        },
        "movie": {"n_frames": n_frames, "frame_interval_nominal_s": dt_nom, "pixel_size_um": px},
    }
    return {
        "echem": echem,
        "echem_noise_free_A": i_nf,
        "movie": movie,
        "frame_times_s": times,
        "frame_bounds_s": bounds,
        "frame_interval_s": dt_nom,
        "pixel_size_um": px,
        "footprint_mask": mask,
        "ce_maps": ce_maps,
        "residual_nm": resid_nm,
        "t0_local": T0_LOCAL,
        "truth": truth,
        "parameters": dict(p),
    }


fill_parameter_doc(make_irm_cv, PARAMETERS)


@register(SCENARIO, PARAMETERS)
def irm_cv(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated SECCM CV + IRM experiment and its truth to ``out``.

    Files: ``echem.mpt`` (EC-Lab text, Cyclic Voltammetry, ``cycle number`` 1…N),
    ``irm.tif`` (ImageJ TYX uint16), ``frame_times.csv``, ``experiment.toml`` and
    ``truth/`` (``truth.json``, ``ce_maps.tif`` (cycle × y × x, float32, NaN outside the
    footprint), ``residual_deposit_nm.tif``, ``echem_noise_free.csv``). See
    :func:`make_irm_cv` for the model and the parameters.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters.

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = irm_cv(tempfile.mkdtemp(), seed=3, n_cycles=2)  # doctest: +SKIP
    """
    from platescope.io._echem_eclab_text import write_eclab_mpt

    check_footprint_fits(resolve_params(PARAMETERS, params))
    out = prepare_output_dir(out, SCENARIO)
    sim = make_irm_cv(seed=seed, **params)
    truth_dir = out / "truth"
    movie_section = write_movie_files(out, sim)
    write_eclab_mpt(
        out / "echem.mpt", sim["echem"], t0_local=sim["t0_local"], technique="Cyclic Voltammetry"
    )
    write_truth_tiff(truth_dir / "ce_maps.tif", sim["ce_maps"], sim["pixel_size_um"])
    write_truth_tiff(
        truth_dir / "residual_deposit_nm.tif", sim["residual_nm"], sim["pixel_size_um"]
    )
    nf = pd.DataFrame({"time_s": sim["echem"]["time_s"], "current_A": sim["echem_noise_free_A"]})
    atomic_write_text(truth_dir / "echem_noise_free.csv", nf.to_csv(index=False))
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, ("irm.tif", "frame_times.csv", "echem.mpt"))
    truth["files"] = {
        "movie": "irm.tif",
        "frame_times": "frame_times.csv",
        "echem": "echem.mpt",
        "ce_maps": "truth/ce_maps.tif",
        "residual_deposit": "truth/residual_deposit_nm.tif",
        "echem_noise_free": "truth/echem_noise_free.csv",
    }
    write_json_atomic(truth_dir / "truth.json", truth)
    exp = {
        "electrode": {"area_cm2": truth["footprint"]["area_cm2"], **AU_FILM},
        "echem": {"path": "echem.mpt", "timezone": TIMEZONE},
        "movie": movie_section,
    }
    return write_experiment_toml(out, SCENARIO, seed, exp)
