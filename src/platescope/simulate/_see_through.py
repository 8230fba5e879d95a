"""The ``see-through-au`` and ``see-through-ag`` scenarios (SCIENCE.md §1).

A transparent Au (or Ag) film electrode is cycled galvanostatically (SEI formation,
alloying steps, Li metal deposition; Li dissolution, dealloying) while trans- and
epi-illumination movies record it. :func:`make_see_through` builds everything in
memory (arrays + truth); :func:`see_through_au` / :func:`see_through_ag` write the
files: ``trans.tif`` and ``epi.tif`` (ImageJ TYX uint16, µm pixels),
``frame_times.csv`` (real per-frame times, movie clock), ``echem.mpt`` (EC-Lab text,
galvanostatic cycling), ``experiment.toml`` and ``truth/`` (``truth.json``,
``onset_*.tif`` maps, ``sites.csv``, ``pores.csv``, ``echem_noise_free.csv``).

The forward model is described in :mod:`platescope.simulate._see_through_model`.
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.integrate import cumulative_trapezoid

import platescope
from platescope._errors import InputError
from platescope.simulate._common import (
    Param,
    atomic_write_text,
    fill_parameter_doc,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
    write_movie_files,
    write_truth_tiff,
)
from platescope.simulate._irm_model import CAMERA_MAX_COUNTS
from platescope.simulate._see_through_model import (
    ALLOY_STEPS,
    FILM_METALS,
    Scene,
    build_schedule,
    disk_coverage,
    faraday_q_per_x,
    host_moles,
    potential_curve,
    rank_field,
    to_rank,
    x_at,
)
from platescope.simulate._stage_motion import (
    STAGE_PARAMETERS,
    apply_stage_motion,
    motion_truth,
    stage_motion,
)
from platescope.simulate._static_structure import (
    STATIC_PARAMETERS,
    apply_static_structure,
    static_structure,
    structure_truth,
)
from platescope.simulate._strobe import STROBE_PARAMETERS, add_strobe

__all__ = ["PARAMETERS", "make_see_through", "see_through_ag", "see_through_au"]

T0_LOCAL = datetime(2024, 3, 5, 10, 12, 41, 250000)
TIMEZONE = "Asia/Shanghai"
#: Pore counting rule of the truth (and of the analysis): 8-connected components of
#: the pixels at least half covered by a pore.
PORE_CONNECTIVITY = 8
#: A pore opens as a void of this fraction of its first-cycle area, then grows.
VOID_FRACTION = 0.5
#: A Li disk appears with this fraction of its final area (full optical density).
DISK_F0 = 0.5
#: Frames rendered at a time (memory); a frame's image does not depend on it.
RENDER_CHUNK_FRAMES = 48

PARAMETERS: dict[str, Param] = {
    "current_density_mA_cm2": Param(
        0.5, float, "galvanostatic current density magnitude, mA cm⁻²", 0.05, 25.0
    ),
    "electrode_diameter_mm": Param(3.0, float, "electrode diameter, mm", 0.5, 20.0),
    "film_thickness_nm": Param(14.0, float, "film thickness h, nm", 5.0, 60.0),
    "n_cycles": Param(3, int, "galvanostatic cycles", 1, 10),
    "sei_s": Param(8.0, float, "SEI charge of cycle 1, in seconds of current", 1.0, 60.0),
    "sei_later_s": Param(5.0, float, "SEI charge of later cycles, s of current", 0.5, 60.0),
    "sei_join": Param(
        "step",
        str,
        "how the cathodic SEI decay joins the first alloying plateau: step (a logistic step "
        "from a 0.62/0.55 V SEI level, steepest point = boundary) | kink (a sloping decay that "
        "meets the plateau with a continuous E and a slope discontinuity at the boundary)",
    ),
    "sei_kink_decay_frac": Param(
        1.0, float, "sei_join = kink: decay length of the SEI, fraction of its charge", 0.1, 3.0
    ),
    "li_deposit_s": Param(60.0, float, "Li metal deposition per cycle, s", 10.0, 1200.0),
    "li_strip_efficiency": Param(
        0.85, float, "fraction of the Li metal charge recovered on stripping", 0.3, 1.0
    ),
    "noise_scale": Param(
        1.0, float, "multiplies every noise amplitude (0 = noise-free files)", 0.0, 100.0
    ),
    "size_px": Param(128, int, "field width = height, pixels", 48, 1024),
    "pixel_size_um": Param(0.08, float, "pixel size, µm", 0.02, 1.0, True),
    "frame_interval_s": Param(1.0, float, "nominal frame interval, s", 0.05, 10.0, True),
    "frame_jitter_frac": Param(
        0.05, float, "frame intervals vary uniformly by ± this fraction", 0.0, 0.4
    ),
    "pre_record_s": Param(3.0, float, "movie time before the current starts, s", 1.0, 60.0),
    "sample_period_s": Param(0.2, float, "potentiostat sample period, s", 0.005, 5.0, True),
    "potential_noise_V": Param(
        1e-3, float, "white potential noise sd, V (× noise_scale)", 0.0, 0.1
    ),
    "current_noise_frac": Param(2e-3, float, "relative current noise sd (× noise_scale)", 0.0, 0.2),
    "trans_counts": Param(1800.0, float, "pristine-film trans intensity, counts", 100.0, 2000.0),
    "epi_counts": Param(1500.0, float, "pristine-film epi intensity, counts", 100.0, 2500.0),
    "read_noise_counts": Param(
        5.0, float, "camera read noise sd, counts (× noise_scale)", 0.0, 200.0
    ),
    "psf_sigma_um": Param(0.08, float, "Gaussian PSF sd, µm", 0.0, 1.0),
    "field_corr_um": Param(
        1.0, float, "correlation length of the alloying-order fields, µm", 0.1, 10.0
    ),
    "complementarity": Param(
        0.85,
        float,
        "Au: latent anti-correlation of step 2's order with step 1's (0 = unrelated)",
        0.0,
        1.0,
    ),
    "n_sites": Param(16, int, "Li nucleation sites per cycle", 0, 200),
    "disk_area_um2": Param(0.45, float, "median final Li disk cross-section, µm²", 0.05, 5.0),
    "pore_area_um2": Param(0.1, float, "Au: median final pore area, µm²", 0.03, 2.0),
    "n_pores_ag": Param(10, int, "Ag: pores opened in cycle 1 (a third of them in pairs)", 0, 100),
    "ag_pore_area_um2": Param(0.12, float, "Ag: median pore area after cycle 1, µm²", 0.03, 2.0),
    "ag_pore_growth": Param(3.0, float, "Ag: pore area factor per later cycle", 1.0, 10.0),
    **STROBE_PARAMETERS,
    **STAGE_PARAMETERS,
    **STATIC_PARAMETERS,
}


def _place(rng, n, accept, lo, hi, max_tries=4000):
    """Up to n points (y, x) µm uniform in [lo, hi]² passing ``accept(y, x, placed)``."""
    pts: list[tuple[float, float]] = []
    for _ in range(max_tries):
        if len(pts) >= n:
            break
        y, x = rng.uniform(lo, hi, 2)
        if accept(y, x, pts):
            pts.append((float(y), float(x)))
    return pts


def _onset_from_rank(rank, stage, width_s, spread=1.0):
    """Planted τ map of a stage: affine in the rank, inside the window minus margins."""
    dur = stage.t_end_s - stage.t_start_s
    m = max(3.0 * width_s, 0.06 * dur)
    usable = max(dur - 2 * m, 0.1 * dur)
    return stage.t_start_s + m + usable * (0.5 + spread * (rank - 0.5))


def _motion_part(motion, i0: int, n: int):
    """The part of a stage motion for frames i0 … i0 + n − 1 (renumbered from 0)."""
    if motion is None:
        return None
    sel = range(i0, i0 + n)
    return {
        **motion,
        "dy_px": motion["dy_px"][i0 : i0 + n],
        "dx_px": motion["dx_px"][i0 : i0 + n],
        "blurred_frames": [k - i0 for k in motion["blurred_frames"] if k in sel],
        "dark_frames": [k - i0 for k in motion["dark_frames"] if k in sel],
    }


def make_see_through(metal: str = "Au", seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate a see-through operando Li-alloying experiment in memory.

    Electrochemistry: galvanostatic cycling at ``current_density_mA_cm2`` on a
    ``electrode_diameter_mm`` disk; stage charges follow the film: x in LixM =
    (Q − Q_SEI)/(F·n_M), n_M = ρ·h·A/M (Au ρ 19.3 g cm⁻³, M 196.97; Ag 10.49,
    107.87). Au alloys in two plateaus (0.14 V to x = 1.53, 0.07 V to x = 2.69); Ag in
    four sloped steps (x = 0.55, 1.3, 2.25, 3.5; model choices) without flat plateaus.
    Stage boundaries are the steepest points of logistic transitions
    (:mod:`~platescope.simulate._see_through_model`).

    Optics: per pixel, each alloying step darkens (trans) / brightens (epi) through a
    logistic in time centred at the planted onset τ (where the normalised absorbance
    is 0.5). Au: step 1's order is a smooth random field; step 2's order is
    anti-correlated with it (``complementarity``). Ag: steps 1–2 gradual (local rise
    width 6 % of the step) with onsets spread over 60 % of the usable window, steps 3–4
    sharp over the whole window; the four orders are unrelated. Li disks (dark in trans, bright
    in epi) nucleate at ``n_sites`` sites per cycle placed in the "middle" regions of
    step 1 (rank 0.25–0.75) with a hard core, appear (``t_appear_s``) with 50 % of
    their final area and grow (area linear in time); on stripping they fade and vanish.
    Au: a pore (bright in trans, dark in epi) opens at each vanished disk's centre
    0.5–3 s later (``t_emerge_s``) as a void of 50 % of its final area and grows
    linearly in area over 6–15 s; new pores
    every cycle. Ag: pores at random places in cycle 1 that grow by
    ``ag_pore_growth`` in area in each later cycle; planted pairs merge by cycle 3.
    Frames are instantaneous samples at their (jittered) timestamps; Gaussian PSF;
    Poisson shot + read noise, 12-bit camera.

    Parameters
    ----------
    metal : {"Au", "Ag"}
        Film metal.
    seed : int
        Random seed (same seed + parameters → identical output).
    **params
        Any of (``--set`` keys; strings are converted):

    {params}

    Returns
    -------
    dict
        ``echem`` (DataFrame time_s, potential_V, current_A, control_A, charge_C,
        cycle, step), ``echem_noise_free_V``, ``trans`` and ``epi`` (uint16, t×y×x),
        ``frame_times_s`` (movie clock), ``time_offset_s`` (movie t of echem t = 0),
        ``pixel_size_um``, ``frame_interval_s``, ``onset_maps`` (step → float32 τ map of
        cycle 1, echem clock), ``sites`` and ``pores`` (DataFrames), ``truth`` (dict),
        ``parameters`` (resolved), ``t0_local``, ``timezone``.

    Examples
    --------
    >>> sim = make_see_through("Au", seed=1, size_px=48, n_cycles=1, n_sites=3,
    ...                        li_deposit_s=20)
    >>> [s["name"] for s in sim["truth"]["echem"]["stages"]][:4]
    ['SEI', 'alloying 1', 'alloying 2', 'Li metal']
    """
    if metal not in FILM_METALS:
        raise ValueError(f"metal must be one of {sorted(FILM_METALS)}")
    p = resolve_params(PARAMETERS, params)
    if p["sei_join"] not in ("step", "kink"):
        raise InputError(
            None,
            f"sei_join must be 'step' or 'kink', got {p['sei_join']!r}",
            "use --set sei_join=step (default) or sei_join=kink",
        )
    rng_t, rng_e, rng_f, rng_s, rng_n, rng_bg = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)
    )
    ns = p["noise_scale"]
    area = math.pi * (0.05 * p["electrode_diameter_mm"]) ** 2  # cm²
    current = p["current_density_mA_cm2"] * 1e-3 * area  # A (magnitude)
    n_host = host_moles(metal, p["film_thickness_nm"], area)
    q_x = faraday_q_per_x(metal, p["film_thickness_nm"], area)
    halves = build_schedule(p, metal, q_x, current)
    stages = [s for h in halves for s in h.stages]
    t_end = halves[-1].t_end_s

    # ---- echem ------------------------------------------------------------------
    # regular samples plus one at every switch of the current (EC-Lab records a point
    # at each sequence start); the sample at a switch belongs to the new half-cycle
    t_reg = (
        np.arange(int(math.floor(t_end / p["sample_period_s"] + 1e-9)) + 1) * p["sample_period_s"]
    )
    t_sw = np.array([h.t_start_s for h in halves[1:]] + [t_end])
    t_e = np.union1d(t_reg, t_sw)
    t_e = t_e[np.concatenate([[True], np.diff(t_e) > 1e-3])]
    n_s = t_e.size
    e_nf = potential_curve(halves, t_e, current)
    sign = np.empty(n_s)
    cyc = np.empty(n_s, int)
    step = np.empty(n_s, int)
    for k, h in enumerate(halves):
        sel = (t_e >= h.t_start_s - 1e-3) & (t_e < h.t_end_s - 1e-3)
        if k == len(halves) - 1:
            sel |= t_e >= h.t_end_s - 1e-3
        sign[sel] = -1.0 if h.half == "cathodic" else 1.0
        cyc[sel] = h.cycle - 1  # EC-Lab counts cycles from 0
        step[sel] = k % 2
    i_set = sign * current
    potential = e_nf + rng_e.normal(0.0, ns * p["potential_noise_V"], n_s)
    cur = i_set * (1.0 + rng_e.normal(0.0, ns * p["current_noise_frac"], n_s))
    charge = cumulative_trapezoid(cur, t_e, initial=0.0)
    echem = pd.DataFrame(
        {
            "time_s": t_e,
            "potential_V": potential,
            "current_A": cur,
            "control_A": i_set,
            "charge_C": charge,
            "cycle": cyc,
            "step": step,
        }
    )
    echem.attrs["electrode_area_cm2"] = area

    # ---- frame timing -------------------------------------------------------------
    dt = p["frame_interval_s"]
    jit = p["frame_jitter_frac"]
    offset = p["pre_record_s"] * rng_t.uniform(0.8, 1.2)
    n_b = int(math.ceil((offset + t_end + 2 * dt) / (dt * (1 - jit)))) + 2
    bounds = np.concatenate([[0.0], np.cumsum(dt * (1 + rng_t.uniform(-jit, jit, n_b)))])
    times_m = 0.5 * (bounds[:-1] + bounds[1:])
    times_m = times_m[times_m <= offset + t_end + dt]
    t_frames = times_m - offset  # echem clock

    # ---- optical scene ----------------------------------------------------------------
    npx, px = p["size_px"], p["pixel_size_um"]
    shape = (npx, npx)
    corr = p["field_corr_um"] / px
    cfg = ALLOY_STEPS[metal]
    n_steps = len(cfg["dx"])
    z1 = rank_field(rng_f, shape, corr)
    if metal == "Au":
        c = p["complementarity"]
        z2 = -c * z1 + math.sqrt(1 - c * c) * rank_field(rng_f, shape, corr)
        orders = [to_rank(z1), to_rank(z2)]
        widths = [0.8, 1.6]
        spreads = [1.0, 1.0]
        dA, dR = (0.10, 0.07), (0.25, 0.15)
    else:
        orders = [to_rank(z1)] + [to_rank(rank_field(rng_f, shape, corr)) for _ in range(3)]
        durs = [s.t_end_s - s.t_start_s for s in halves[0].stages if s.kind == "alloy"]
        # steps 1–2 gradual and fairly uniform (narrow spread of onsets, broad local
        # rise), steps 3–4 sharp and heterogeneous; all four orders independent
        widths = [0.06 * durs[0], 0.06 * durs[1], 1.2, 1.2]
        spreads = [0.6, 0.6, 1.0, 1.0]
        dA, dR = (0.035, 0.035, 0.06, 0.06), (0.08, 0.08, 0.12, 0.12)
    de_orders = [to_rank(rank_field(rng_f, shape, corr)) for _ in range(n_steps)]
    alloy_tau: list = [[] for _ in range(n_steps)]
    dealloy_tau: list = [[] for _ in range(n_steps)]
    onset_maps: dict[int, np.ndarray] = {}
    for k in range(1, p["n_cycles"] + 1):
        for s in stages:
            if s.cycle != k:
                continue
            if s.kind == "alloy":
                j = s.step - 1
                tau = _onset_from_rank(orders[j], s, widths[j], spreads[j])
                alloy_tau[j].append((tau, widths[j]))
                if k == 1:
                    onset_maps[s.step] = tau.astype(np.float32)
            elif s.kind == "dealloy":
                j = s.step - 1
                tau = _onset_from_rank(de_orders[j], s, widths[j], spreads[j])
                dealloy_tau[j].append((tau, widths[j]))
    by = {(s.cycle, s.name): s for s in stages}
    sei = []
    li_bg = []
    for k in range(1, p["n_cycles"] + 1):
        s = by[(k, "SEI")]
        sei.append((s.t_start_s, s.t_end_s, 0.015 if k == 1 else 0.005, 0.02 if k == 1 else 0.007))
        d, st = by[(k, "Li metal")], by[(k, "Li dissolution")]
        li_bg.append((d.t_start_s, d.t_end_s, st.t_start_s, st.t_end_s))

    # static, non-alloying structure (window dust, bare glass beyond the film's edge):
    # None (nothing drawn) unless turned on
    structure = static_structure(seed, shape, px, p["psf_sigma_um"] / px, p)
    x_film_um = (
        structure["strip_x0_um"] if structure and structure["strip_x0_um"] is not None else None
    )

    # Li sites (middle regions of step 1, hard core) and pores
    side = npx * px
    r_disk_med = math.sqrt(p["disk_area_um2"] / math.pi)
    r_disk_cap = r_disk_med * math.exp(2 * 0.2)
    sites: list[dict] = []
    pores: list[dict] = []
    if metal == "Ag":
        r1_med = math.sqrt(p["ag_pore_area_um2"] / math.pi)
        g_r = math.sqrt(p["ag_pore_growth"]) ** (p["n_cycles"] - 1)
        n_pair = p["n_pores_ag"] // 3
        n_single = p["n_pores_ag"] - 2 * n_pair
        centres: list[tuple[float, float, float, int]] = []  # y, x, r1, group
        lo, hi = 0.6 + r1_med * g_r, side - 0.6 - r1_med * g_r

        def far(y, x, r_end, placed):
            return all(math.hypot(y - q[0], x - q[1]) > r_end + q[2] * g_r + 0.35 for q in placed)

        grp = 0
        for _ in range(4000):
            if grp >= n_pair:
                break
            ra, rb = r1_med * np.exp(rng_s.normal(0, 0.15, 2))
            y, x = rng_s.uniform(lo, hi, 2)
            # separate by > 3 px at cycle 1, overlapping by 3 px at the last cycle (and
            # as far apart as that allows before it)
            d_lo = ra + rb + 3 * px
            d_hi = (ra + rb) * g_r - 3 * px
            if d_hi <= d_lo:
                break
            d = d_hi
            ang = rng_s.uniform(0, 2 * math.pi)
            y2, x2 = y + d * math.sin(ang), x + d * math.cos(ang)
            if not (lo <= y2 <= hi and lo <= x2 <= hi):
                continue
            if x_film_um is not None and max(x, x2) > x_film_um - max(ra, rb) * g_r - 0.3:
                continue  # pores only in the film
            if far(y, x, ra * g_r, centres) and far(y2, x2, rb * g_r, centres):
                centres += [(y, x, ra, grp), (y2, x2, rb, grp)]
                grp += 1
        for _ in range(4000):
            if len(centres) >= 2 * grp + n_single:
                break
            r = r1_med * float(np.exp(rng_s.normal(0, 0.15)))
            y, x = rng_s.uniform(lo, hi, 2)
            if x_film_um is not None and x > x_film_um - r * g_r - 0.3:
                continue  # pores only in the film
            if far(y, x, r * g_r, centres):
                centres.append((y, x, r, -1 - len(centres)))
        first_an = halves[1].stages[0]
        t_d = first_an.t_end_s - first_an.t_start_s
        for n, (y, x, r, g) in enumerate(centres):
            t_em = first_an.t_start_s + rng_s.uniform(0.4, 0.9) * t_d
            grow = rng_s.uniform(6.0, 15.0)
            segs = [(t_em, t_em + grow, r * math.sqrt(VOID_FRACTION), r)]
            rk = r
            for k in range(2, p["n_cycles"] + 1):
                a = by[(k, "Li dissolution")]
                r_new = rk * math.sqrt(p["ag_pore_growth"])
                segs.append((a.t_start_s, a.t_end_s, rk, r_new))
                rk = r_new
            pores.append(
                {
                    "pore": n,
                    "cycle": 1,
                    "cy": y,
                    "cx": x,
                    "t_emerge_s": t_em,
                    "segments": segs,
                    "r_final": rk,
                    "group": g,
                }
            )
    for k in range(1, p["n_cycles"] + 1):
        dep, dis = by[(k, "Li metal")], by[(k, "Li dissolution")]
        edge = r_disk_cap + 3 * px
        existing = [q for q in pores if q["cycle"] < k or metal == "Ag"]

        def accept(y, x, placed, existing=existing):
            iy, ix = int(round(y / px)), int(round(x / px))
            if not 0.25 <= orders[0][min(iy, npx - 1), min(ix, npx - 1)] <= 0.75:
                return False
            if x_film_um is not None and x > x_film_um - r_disk_cap - 3 * px:
                return False  # Li deposits only on the film
            # hard core: disks at least 0.45 µm apart at their largest (resolvable)
            if any(math.hypot(y - q[0], x - q[1]) < 2 * r_disk_cap + 0.45 for q in placed):
                return False
            return all(
                math.hypot(y - q["cy"], x - q["cx"]) > r_disk_cap + q["r_final"] + 0.3
                for q in existing
            )

        pts = _place(rng_s, p["n_sites"], accept, edge, side - edge)
        t_dep = dep.t_end_s - dep.t_start_s
        t_dis = dis.t_end_s - dis.t_start_s
        for y, x in pts:
            r_max = r_disk_med * float(np.exp(np.clip(rng_s.normal(0, 0.2), -2, 2)))
            site = {
                "site": len(sites),
                "cycle": k,
                "cy": y,
                "cx": x,
                "t_app": dep.t_start_s + rng_s.uniform(0.03, 0.45) * t_dep,
                "t_dep_end": dep.t_end_s,
                "t_fade0": dis.t_start_s,
                "t_gone": dis.t_start_s + rng_s.uniform(0.5, 0.95) * t_dis,
                "r_max": r_max,
            }
            sites.append(site)
            if metal == "Au":
                a_f = p["pore_area_um2"] * float(np.exp(np.clip(rng_s.normal(0, 0.3), -1.5, 1.5)))
                r_f = math.sqrt(max(a_f, 0.06) / math.pi)  # ≥ 0.06 µm²: resolvable
                t_em = site["t_gone"] + rng_s.uniform(0.5, 3.0)
                grow = rng_s.uniform(6.0, 15.0)
                pores.append(
                    {
                        "pore": len(pores),
                        "cycle": k,
                        "cy": y,
                        "cx": x,
                        "t_emerge_s": t_em,
                        "segments": [(t_em, t_em + grow, r_f * math.sqrt(VOID_FRACTION), r_f)],
                        "r_final": r_f,
                        "site": site["site"],
                    }
                )

    scene = Scene(
        shape=shape,
        pixel_size_um=px,
        alloy_tau=alloy_tau,
        dealloy_tau=dealloy_tau,
        dA=dA,
        dR=dR,
        sei=sei,
        li_bg=li_bg,
        sites=sites,
        pores=pores,
        psf_sigma_px=p["psf_sigma_um"] / px,
        disk_f0=DISK_F0,
    )

    # ---- render -----------------------------------------------------------------------
    flat_t = 1.0 + 0.04 * rank_field(rng_bg, shape, 2.0 / px)
    flat_e = 1.0 + 0.05 * rank_field(rng_bg, shape, 1.5 / px)
    n_f = t_frames.size
    trans = np.empty((n_f, *shape), np.uint16)
    epi = np.empty((n_f, *shape), np.uint16)
    chunk = RENDER_CHUNK_FRAMES
    motion = stage_motion(seed, n_f, p)  # None (nothing drawn) unless turned on
    for i0 in range(0, n_f, chunk):
        tt = t_frames[i0 : i0 + chunk]
        tr, ep = apply_static_structure(*scene.render(tt), structure)
        part = _motion_part(motion, i0, tt.size)
        for arr, img, base in (
            (trans, tr, p["trans_counts"] * flat_t),
            (epi, ep, p["epi_counts"] * flat_e),
        ):
            nf = (img * base[None].astype(np.float32)).astype(np.float32)
            nf = apply_stage_motion(nf, part)
            if ns > 0:  # shot (Gaussian approximation of Poisson, counts ≫ 1) + read noise
                sd = np.float32(ns) * np.sqrt(
                    np.clip(nf, 0, None) + np.float32(p["read_noise_counts"] ** 2)
                )
                nf = nf + sd * rng_n.standard_normal(nf.shape, dtype=np.float32)
            arr[i0 : i0 + chunk] = np.clip(np.rint(nf), 0, CAMERA_MAX_COUNTS).astype(np.uint16)

    if structure is not None and structure["glass_mask"].any():
        # no film on the bare glass: no onset there
        for j in onset_maps:
            onset_maps[j] = np.where(structure["glass_mask"], np.nan, onset_maps[j]).astype(
                np.float32
            )

    # ---- truth ---------------------------------------------------------------------------
    stage_rows = []
    for s in stages:
        sel = (t_e >= s.t_start_s) & (t_e <= s.t_end_s)
        stage_rows.append(
            {
                "cycle": s.cycle,
                "half": s.half,
                "name": s.name,
                "t_start_s": s.t_start_s,
                "t_end_s": s.t_end_s,
                "E_mean_V": float(e_nf[sel].mean()) if sel.any() else None,
                "x_end": x_at(halves, s, current, q_x),
                "Q_start_C": s.q_start_C,
                "Q_end_C": s.q_end_C,
            }
        )
    cycles = []
    for k in range(1, p["n_cycles"] + 1):
        hc = next(h for h in halves if h.cycle == k and h.half == "cathodic")
        ha = next(h for h in halves if h.cycle == k and h.half == "anodic")
        cycles.append(
            {
                "cycle": k,
                "t_start_s": hc.t_start_s,
                "t_end_s": ha.t_end_s,
                "Q_c_C": hc.q_total_C,
                "Q_a_C": ha.q_total_C,
                "CE": ha.q_total_C / hc.q_total_C,
            }
        )
    alloying = []
    for j in range(1, n_steps + 1):
        tau = onset_maps[j]
        alloying.append(
            {
                "step": j,
                "cycle": 1,
                "t50_s": float(np.nanmedian(tau)),
                "onset_map_path": f"onset_alloying_{j}.tif",
                "width_s": widths[j - 1],
            }
        )
    late1 = onset_maps[1] > np.nanmedian(onset_maps[1])
    early2 = onset_maps[2] < np.nanmedian(onset_maps[2])
    film = np.isfinite(onset_maps[1])  # (all pixels but a bare-glass strip)
    comp_r = float(np.corrcoef(late1[film].astype(float), early2[film].astype(float))[0, 1])
    # (both masks hold half of the pixels, so neither is constant)
    site_df = pd.DataFrame(
        {
            "site": [s["site"] for s in sites],
            "cycle": [s["cycle"] for s in sites],
            "x_um": [s["cx"] for s in sites],
            "y_um": [s["cy"] for s in sites],
            "t_appear_s": [s["t_app"] for s in sites],
            "area_final_um2": [math.pi * s["r_max"] ** 2 for s in sites],
            "t_gone_s": [s["t_gone"] for s in sites],
        }
    )
    pore_df = pd.DataFrame(
        {
            "pore": [q["pore"] for q in pores],
            "cycle": [q["cycle"] for q in pores],
            "x_um": [q["cx"] for q in pores],
            "y_um": [q["cy"] for q in pores],
            "t_emerge_s": [q["t_emerge_s"] for q in pores],
            "area_final_um2": [math.pi * q["r_final"] ** 2 for q in pores],
            "area_first_cycle_um2": [math.pi * q["segments"][0][3] ** 2 for q in pores],
        }
    )
    pore_cycles = []
    struct = np.ones((3, 3), bool)
    for k in range(1, p["n_cycles"] + 1):
        t_k = next(h for h in halves if h.cycle == k and h.half == "anodic").t_end_s
        m = scene.pore_mask(t_k)
        _, n_lab = ndimage.label(m, structure=struct)
        pore_cycles.append(
            {
                "cycle": k,
                "count": int(n_lab),
                "area_fraction": float(m.mean()),
                "new_pores": int((pore_df["cycle"] == k).sum()) if metal == "Au" else None,
            }
        )
    # colocalisation truth from planted maps (cycle 1)
    li_mask = np.zeros(shape, bool)
    yy, xx = np.mgrid[0:npx, 0:npx] * px
    for s in sites:
        if s["cycle"] == 1:
            li_mask |= disk_coverage(yy, xx, s["cy"], s["cx"], np.array([s["r_max"]]))[0] >= 0.5
    masks = {}
    for j in range(1, n_steps + 1):
        tau = onset_maps[j]
        med = np.nanmedian(tau)
        masks[f"S{j}s"] = tau <= np.nanquantile(tau, 0.1)
        masks[f"S{j}m"] = tau <= med  # alloyed at mid-step
        masks[f"S{j}m_unalloyed"] = tau > med
    masks["Li"] = li_mask

    def r_of(a, b):
        a, b = a.ravel().astype(float), b.ravel().astype(float)
        if a.std() == 0 or b.std() == 0:
            return None  # a constant mask has no correlation
        return float(np.corrcoef(a, b)[0, 1])

    coloc = {"S1m_unalloyed & S2m": comp_r}
    for j in range(1, min(n_steps, 4) + 1):
        coloc[f"S{j}s & Li"] = r_of(masks[f"S{j}s"], li_mask)
        coloc[f"S{j}m & Li"] = r_of(masks[f"S{j}m"], li_mask)
    n1 = int((site_df["cycle"] == 1).sum())
    field_um2 = side * side
    resolved = dict(p, film_metal=metal)
    t0 = T0_LOCAL
    truth = {
        **({"registration": motion_truth(motion)} if motion else {}),
        **({"static_structure": structure_truth(structure)} if structure else {}),
        "scenario": f"see-through-{metal.lower()}",
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": resolved,
        "echem": {
            "stages": stage_rows,
            "cycles": cycles,
            "current_A": current,
            "area_cm2": area,
            "n_host_mol": n_host,
            "Q_per_x_C": q_x,
            "stage_definition": (
                "stage boundaries are the planted charges of the transitions between plateaus "
                "(the steepest point of each logistic step of E(Q); with sei_join = kink the SEI "
                "ends where its decay meets the first plateau); the SEI stage starts with "
                "the cathodic half-cycle, Li metal ends with it, the last dealloying step ends "
                "with the anodic half-cycle; x_end = (Q_cathodic − Q_SEI)/(F·n) from the cycle "
                "start, minus the anodic charge on the way back; E_mean_V is the time-mean of "
                "the noise-free potential over the stage"
            ),
        },
        "optics": {
            "alloying": alloying,
            "complementarity_r": comp_r,
            "complementarity_definition": (
                "Pearson r between the pixels not yet alloyed at the middle of step 1 "
                "(τ1 > median τ1) and those alloyed at the middle of step 2 (τ2 ≤ median τ2), "
                "cycle 1, planted onset maps"
            ),
            "onset_definition": (
                "τ: time (echem clock) at which a pixel's step absorbance (before PSF) is half "
                "way; cycle 1"
            ),
        },
        "colocalization": coloc,
        "sites": {
            "count": n1,
            "density_um2": n1 / field_um2,
            "cycle": 1,
            "count_per_cycle": [
                int((site_df["cycle"] == k).sum()) for k in range(1, p["n_cycles"] + 1)
            ],
            "path": "sites.csv",
            "placement": "uniform in the step-1 rank band 0.25–0.75 with a hard core of 2·r_cap+0.45 µm",
        },
        "pores": pore_cycles,
        "pores_definition": (
            f"at the end of each cycle's anodic half: {PORE_CONNECTIVITY}-connected components of "
            "the pixels ≥ 50 % covered by a planted pore; area_fraction = those pixels / field"
        ),
        "pores_path": "pores.csv",
        "movie": {
            "n_frames": int(n_f),
            "pixel_size_um": px,
            "frame_interval_nominal_s": dt,
            "time_offset_s": offset,
            "field_um": side,
            "time_offset_definition": "movie-clock time of echem t = 0 (movie t = echem t + offset)",
        },
    }
    return {
        "echem": echem,
        "echem_noise_free_V": e_nf,
        "trans": trans,
        "epi": epi,
        "frame_times_s": times_m,
        "frame_times_echem_s": t_frames,
        "time_offset_s": offset,
        "pixel_size_um": px,
        "frame_interval_s": dt,
        "onset_maps": onset_maps,
        "sites": site_df,
        "pores": pore_df,
        "scene": scene,
        "truth": truth,
        "parameters": resolved,
        "t0_local": t0,
        "timezone": TIMEZONE,
    }


fill_parameter_doc(make_see_through, PARAMETERS)


def _write(metal: str, out, seed: int, params: dict) -> Path:
    from platescope.io._echem_eclab_text import write_eclab_mpt

    scenario = f"see-through-{metal.lower()}"
    resolve_params(PARAMETERS, params)  # validate before touching the folder
    out = prepare_output_dir(out, scenario)
    sim = make_see_through(metal, seed=seed, **params)
    if sim["parameters"]["strobe"]:
        sim = add_strobe(sim, sim["parameters"], seed, movie_keys=("trans", "epi"))
    # trans.tif and epi.tif share one frame_times.csv (written twice, same bytes)
    movie, epi = (
        write_movie_files(out, {**sim, "movie": sim[mode]}, name=f"{mode}.tif", mode=mode)
        for mode in ("trans", "epi")
    )
    write_eclab_mpt(
        out / "echem.mpt",
        sim.get("echem_file", sim["echem"]),
        t0_local=sim["t0_local"],
        technique="Galvanostatic Cycling with Potential Limitation",
    )
    tdir = out / "truth"
    for step, tau in sim["onset_maps"].items():
        write_truth_tiff(tdir / f"onset_alloying_{step}.tif", tau, sim["pixel_size_um"])
    atomic_write_text(tdir / "sites.csv", sim["sites"].to_csv(index=False))
    atomic_write_text(tdir / "pores.csv", sim["pores"].to_csv(index=False))
    nf = pd.DataFrame({"time_s": sim["echem"]["time_s"], "potential_V": sim["echem_noise_free_V"]})
    atomic_write_text(tdir / "echem_noise_free.csv", nf.to_csv(index=False))
    truth = sim["truth"]
    files = ("trans.tif", "epi.tif", "frame_times.csv", "echem.mpt")
    truth["inputs"] = input_hashes(out, files)
    write_json_atomic(tdir / "truth.json", truth)
    p = sim["parameters"]
    sections = {
        "electrode": {
            "area_cm2": truth["echem"]["area_cm2"],
            "film_metal": metal,
            "film_thickness_nm": p["film_thickness_nm"],
        },
        "echem": {
            "path": "echem.mpt",
            "timezone": TIMEZONE,
            "time_offset_s": round(sim["time_offset_s"], 6),
            "current_density_mA_cm2": p["current_density_mA_cm2"],
        },
        "movie": movie,
        "epi": epi,
    }
    return write_experiment_toml(out, scenario, seed, sections)


@register("see-through-au", PARAMETERS)
def see_through_au(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated see-through Li–Au cycling experiment and its truth to ``out``.

    See :func:`make_see_through` for the model and parameters.

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
    >>> see_through_au(tempfile.mkdtemp(), seed=2).name  # doctest: +SKIP
    'experiment.toml'
    """
    return _write("Au", out, seed, params)


@register("see-through-ag", PARAMETERS)
def see_through_ag(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated see-through Li–Ag cycling experiment and its truth to ``out``.

    See :func:`make_see_through` for the model and parameters.

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
    >>> see_through_ag(tempfile.mkdtemp(), seed=2).name  # doctest: +SKIP
    'experiment.toml'
    """
    return _write("Ag", out, seed, params)
