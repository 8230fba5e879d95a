"""The ``top-view-nucleation`` scenario: Li plated at several current densities, seen from above.

A series of galvanostatic plating experiments on fresh electrodes, one per current
density j (log-spaced from ``j_min`` to ``j_max``), each filmed top-down in bright-field
reflection (SCIENCE.md §4; the review's in situ optical microscopy section). In each run
N(j) = ``n_ref``·(j / 1 mA cm⁻²)^``exponent`` deposits nucleate at times drawn uniformly
in the first ``nucleation_fraction`` of the plating step, each growing as a hemisphere
whose volume takes its share of ``deposit_fraction`` of the charge through the field.
When the step outlasts Sand's time t_Sand = πD(zc₀F)²/(4(j(1−t₊))²) of the electrolyte
given, a fraction ``tip_fraction`` of the deposits sprout a 1 µm wide arm from t_Sand on,
growing at ``tip_speed_um_s`` in a random in-plane direction (tip growth). A
stripping step may follow, in which the deposits shrink and pits open.

Files per run (``run_<k>/``): ImageJ TIFF movie + ``frame_times.csv`` + EC-Lab ``.mpt``;
one ``experiment.toml`` with a ``[[plating]]`` entry per run and ``[electrolyte]``;
``truth/truth.json`` (planted counts, densities, nucleation times, t_Sand, tip onset,
exponent) and ``truth/nuclei.csv``.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.integrate import cumulative_trapezoid

from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
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
)
from platescope.simulate._irm_model import CAMERA_MAX_COUNTS
from platescope.simulate._stage_motion import (
    STAGE_PARAMETERS,
    apply_stage_motion,
    motion_truth,
    stage_motion,
)

__all__ = ["PARAMETERS", "make_top_view_nucleation", "top_view_nucleation"]

SCENARIO = "top-view-nucleation"
T0_LOCAL = datetime(2024, 11, 4, 9, 30, 0)
TIMEZONE = "Europe/Berlin"
ARM_WIDTH_UM = 1.0

PARAMETERS: dict[str, Param] = {
    "n_runs": Param(5, int, "plating experiments, one per current density", 1, 12),
    "j_min_mA_cm2": Param(0.25, float, "lowest current density, mA cm⁻²", 0.001, 100.0, True),
    "j_max_mA_cm2": Param(4.0, float, "highest current density, mA cm⁻²", 0.001, 100.0, True),
    "n_ref": Param(20.0, float, "deposits in the field at 1 mA cm⁻²", 0.0, 2000.0),
    "exponent": Param(0.7, float, "N ∝ j^exponent", -3.0, 3.0),
    "nucleation_fraction": Param(
        0.25, float, "nuclei appear in this first fraction of the plating step", 0.01, 1.0
    ),
    "plating_s": Param(300.0, float, "plating step duration, s", 10.0, 36000.0),
    "stripping_s": Param(100.0, float, "stripping step after plating (0: none), s", 0.0, 36000.0),
    "n_pit_ref": Param(8.0, float, "pits in the field at 1 mA cm⁻² while stripping", 0, 2000),
    "pit_exponent": Param(0.5, float, "pits ∝ j^pit_exponent", -3.0, 3.0),
    "pit_fraction": Param(
        0.1, float, "share of the field's stripping charge taken from the pits", 0.0, 1.0
    ),
    "rest_s": Param(20.0, float, "rest before plating, s", 0.0, 3600.0),
    "frame_interval_s": Param(5.0, float, "frame interval, s", 0.1, 600.0, True),
    "sample_period_s": Param(0.5, float, "echem sample period, s", 0.01, 60.0, True),
    "movie_lead_s": Param(3.0, float, "the camera starts this long before the record, s", 0, 600),
    "field_px": Param(256, int, "movie width = height, pixels", 64, 2048),
    "pixel_size_um": Param(0.5, float, "pixel size, µm", 0.05, 10.0, True),
    "electrode_area_cm2": Param(0.785, float, "electrode area, cm²", 1e-4, 10.0, True),
    "deposit_fraction": Param(
        0.15, float, "share of the field's plating charge in the visible deposits", 0.01, 1.0
    ),
    "growth_sd": Param(0.3, float, "log-normal sd of the deposits' growth rates", 0.0, 2.0),
    "D_cm2_s": Param(3e-6, float, "electrolyte salt diffusivity, cm² s⁻¹", 0.0, 1.0, True),
    "c0_mol_L": Param(0.1, float, "electrolyte salt concentration, mol L⁻¹", 0.0, 20.0, True),
    "t_plus": Param(0.4, float, "cation transference number", 0.0, 0.99),
    "tip_fraction": Param(0.3, float, "share of deposits that grow a tip past t_Sand", 0.0, 1.0),
    "tip_speed_um_s": Param(1.0, float, "tip (arm) growth speed, µm s⁻¹", 0.01, 100.0, True),
    "tip_max_um": Param(10.0, float, "longest arm, µm", 1.0, 200.0, True),
    "background_counts": Param(2000.0, float, "mean background, counts", 50.0, 3500.0),
    "contrast": Param(0.45, float, "fraction of light a deposit removes", 0.05, 0.9),
    "psf_sigma_um": Param(0.5, float, "Gaussian PSF sd, µm", 0.0, 5.0),
    "noise_scale": Param(1.0, float, "multiplies every noise amplitude", 0.0, 100.0),
    "read_noise_counts": Param(6.0, float, "camera read noise sd, counts", 0.0, 200.0),
    "potential_noise_V": Param(5e-4, float, "potential noise sd, V", 0.0, 0.1),
    # stage drift, jitter and bad frames in every run's movie (issue 13; all off by
    # default, own random stream per run: default output unchanged)
    **STAGE_PARAMETERS,
}


def current_densities(p: dict) -> np.ndarray:
    """The runs' current densities, mA cm⁻² (log-spaced from j_min to j_max)."""
    if p["n_runs"] == 1:
        return np.array([p["j_min_mA_cm2"]])
    js = np.geomspace(p["j_min_mA_cm2"], p["j_max_mA_cm2"], p["n_runs"])
    return np.array([float(f"{j:.6g}") for j in js])


def _sand_s(j: float, p: dict) -> float:
    from platescope.models import sand_time_liquid

    return float(
        sand_time_liquid(j, D_cm2_s=p["D_cm2_s"], c0_mol_L=p["c0_mol_L"], t_plus=p["t_plus"])
    )


def _place(
    rng,
    n: int,
    excl: np.ndarray,
    size_um: float,
    gap_um: float,
    fixed=None,
    arms=(),
    what: str = "deposits",
) -> np.ndarray:
    """Centres (y, x) in µm of n objects with exclusion radii ``excl``, apart by gap
    from each other, from ``fixed`` = (centres (m, 2), radii (m,)) and from the ``arms``
    (segments a0→a1 of width ARM_WIDTH_UM) already there."""
    fc, fr = fixed if fixed is not None else (np.zeros((0, 2)), np.zeros(0))
    pts = np.empty((n, 2))
    for k in range(n):
        for _ in range(5000):
            c = rng.uniform(excl[k] + 2.0, size_um - excl[k] - 2.0, 2)
            ok = k == 0 or np.all(np.hypot(*(pts[:k] - c).T) >= excl[:k] + excl[k] + gap_um)
            ok = ok and np.all(np.hypot(*(fc - c).T) >= fr + excl[k] + gap_um)
            if ok and all(
                _seg_dist(c[None], a0, a1)[0] >= ARM_WIDTH_UM + excl[k] + gap_um for a0, a1 in arms
            ):
                pts[k] = c
                break
        else:
            raise InputError(
                None,
                f"{n} {what} of up to {2 * excl.max():.1f} µm do not fit apart in a "
                f"{size_um:g} µm field",
                "increase field_px or pixel_size_um, or lower n_ref, exponent, n_pit_ref, "
                "pit_exponent or j_max_mA_cm2",
            )
    return pts


def _seg_dist(p, a0, a1):
    """Distance (µm) from points p (n, 2) to the segment a0–a1."""
    v = a1 - a0
    u = np.clip(((p - a0) @ v) / max(float(v @ v), 1e-12), 0.0, 1.0)
    return np.hypot(*(p - (a0 + u[:, None] * v)).T)


def _arm_clear(a0, a1, d, centres, r_max, arms, gap, size) -> bool:
    """Whether an arm a0→a1 of deposit d stays in the field and clear of the others."""
    if not (np.all(a1 > 2.0) and np.all(a1 < size - 2.0)):
        return False
    others = np.arange(centres.shape[0]) != d
    if np.any(_seg_dist(centres[others], a0, a1) < r_max[others] + ARM_WIDTH_UM + gap):
        return False
    for b0, b1 in arms:  # arm–arm: sample this arm's points against the other segment
        pts = a0 + np.linspace(0, 1, 25)[:, None] * (a1 - a0)
        if np.any(_seg_dist(pts, b0, b1) < 2 * ARM_WIDTH_UM + gap):
            return False
    return True


def _coverage(yy, xx, cy, cx, r, arm, px):
    """Anti-aliased coverage of a disk (radius r) plus an arm (a capsule) from its centre."""
    sd = np.hypot(yy - cy, xx - cx) - r
    if arm is not None:
        (ey, ex), half_w = arm
        vy, vx = ey - cy, ex - cx
        ll = vy * vy + vx * vx
        if ll > 0:
            u = np.clip(((yy - cy) * vy + (xx - cx) * vx) / ll, 0.0, 1.0)
            da = np.hypot(yy - (cy + u * vy), xx - (cx + u * vx)) - half_w
            sd = np.minimum(sd, da)
    return np.clip(0.5 - sd / px, 0.0, 1.0)


def _one_run(p: dict, j: float, rng: np.random.Generator, run: int, motion_seed: int = 0) -> dict:
    n_px, px = p["field_px"], p["pixel_size_um"]
    size = n_px * px
    field_cm2 = (size * 1e-4) ** 2
    n = int(round(p["n_ref"] * j ** p["exponent"]))
    t_plate0 = p["rest_s"]
    t_plate1 = t_plate0 + p["plating_s"]
    t_nuc = t_plate0 + rng.uniform(0.0, p["nucleation_fraction"], n) * p["plating_s"]
    w = np.exp(p["growth_sd"] * rng.standard_normal(n))
    # total deposit volume rate (µm³ s⁻¹) shared by the deposits by their weights
    rate_total = (
        p["deposit_fraction"]
        * j
        * 1e-3
        * field_cm2
        * LI_MOLAR_VOLUME_CM3_MOL
        / FARADAY_C_MOL
        * 1e12
    )
    rate = rate_total * w / max(w.sum(), 1e-12)
    t_sand = _sand_s(j, p)
    tips = t_sand < p["plating_s"]
    r_max = np.cbrt(1.5 * rate * (t_plate1 - t_nuc) / np.pi)
    gap = 2.0 + 3 * p["psf_sigma_um"]
    centres = _place(rng, n, r_max + 1.5 * p["psf_sigma_um"], size, gap)
    n_tip = int(max(1, round(p["tip_fraction"] * n))) if (tips and n and p["tip_fraction"]) else 0
    has_tip = np.zeros(n, bool)
    ang = np.zeros(n)
    arms: list[tuple[np.ndarray, np.ndarray]] = []
    for d in rng.permutation(n):
        if has_tip.sum() >= n_tip:
            break
        a0 = centres[d]
        for a in rng.permutation(np.linspace(0, 2 * np.pi, 24, endpoint=False)):
            a1 = a0 + (r_max[d] + p["tip_max_um"]) * np.array([math.sin(a), math.cos(a)])
            if _arm_clear(a0, a1, d, centres, r_max, arms, gap, size):
                has_tip[d], ang[d] = True, a
                arms.append((a0, a1))
                break
    t_tip = t_plate0 + t_sand
    # stripping: the deposits dissolve at the rate they grew; pits open in the electrode
    t_strip1 = t_plate1 + p["stripping_s"]
    n_pit = int(round(p["n_pit_ref"] * j ** p["pit_exponent"])) if p["stripping_s"] > 0 else 0
    t_pit = t_plate1 + rng.uniform(0.0, p["nucleation_fraction"], n_pit) * p["stripping_s"]
    wp = np.exp(p["growth_sd"] * rng.standard_normal(n_pit))
    pit_rate = rate_total / p["deposit_fraction"] * p["pit_fraction"] * wp / max(wp.sum(), 1e-12)
    pit_r_max = np.cbrt(1.5 * pit_rate * (t_strip1 - t_pit) / np.pi)
    pit_centres = _place(
        rng,
        n_pit,
        pit_r_max + 1.5 * p["psf_sigma_um"],
        size,
        gap,
        fixed=(centres, r_max + 1.5 * p["psf_sigma_um"]),
        arms=arms,
        what="pits",
    )

    lead = p["movie_lead_s"]
    t_end = t_strip1 + 10.0
    times = np.arange(0.0, t_end + lead + 1e-9, p["frame_interval_s"])
    t_echem = times - lead
    coord = (np.arange(n_px) + 0.5) * px
    tex = ndimage.gaussian_filter(rng.standard_normal((n_px, n_px)), 8.0 / px, mode="wrap")
    bg = p["background_counts"] * (1.0 + 0.03 * tex / max(tex.std(), 1e-12))
    movie = np.empty((times.size, n_px, n_px), np.uint16)
    motion = stage_motion(motion_seed, times.size, p)  # None (nothing drawn) unless on
    sig = p["psf_sigma_um"] / px
    ns = p["noise_scale"]
    for k, te in enumerate(t_echem):
        dark = np.zeros((n_px, n_px))
        grow = np.clip(np.minimum(te, t_plate1) - t_nuc, 0.0, None)
        grow -= np.clip(np.minimum(te, t_strip1) - t_plate1, 0.0, None)  # dissolving
        grow = np.clip(grow, 0.0, None)
        radius = np.cbrt(1.5 * rate * grow / np.pi)
        for d in np.flatnonzero(grow > 0):
            arm = None
            ext = radius[d]
            if has_tip[d] and te > t_tip:
                length = min(p["tip_speed_um_s"] * (min(te, t_plate1) - t_tip), p["tip_max_um"])
                length += radius[d]
                cy, cx = centres[d]
                arm = (
                    (cy + length * math.sin(ang[d]), cx + length * math.cos(ang[d])),
                    0.5 * ARM_WIDTH_UM,
                )
                ext = length + ARM_WIDTH_UM
            cy, cx = centres[d]
            i0, i1 = max(int((cy - ext) / px) - 2, 0), min(int((cy + ext) / px) + 3, n_px)
            j0, j1 = max(int((cx - ext) / px) - 2, 0), min(int((cx + ext) / px) + 3, n_px)
            cov = _coverage(coord[i0:i1, None], coord[None, j0:j1], cy, cx, radius[d], arm, px)
            dark[i0:i1, j0:j1] = np.maximum(dark[i0:i1, j0:j1], cov)
        pit_open = np.clip(np.minimum(te, t_strip1) - t_pit, 0.0, None)
        pit_radius = np.cbrt(1.5 * pit_rate * pit_open / np.pi)
        for d in np.flatnonzero(pit_open > 0):
            cy, cx = pit_centres[d]
            ext = pit_radius[d]
            i0, i1 = max(int((cy - ext) / px) - 2, 0), min(int((cy + ext) / px) + 3, n_px)
            j0, j1 = max(int((cx - ext) / px) - 2, 0), min(int((cx + ext) / px) + 3, n_px)
            cov = _coverage(coord[i0:i1, None], coord[None, j0:j1], cy, cx, ext, None, px)
            dark[i0:i1, j0:j1] = np.maximum(dark[i0:i1, j0:j1], cov)
        if sig > 0:
            dark = ndimage.gaussian_filter(dark, sig, mode="constant")
        clean = bg * (1.0 - p["contrast"] * dark)
        if motion is not None:  # stage motion and bad frames, before the camera noise
            part = {
                **motion,
                "dy_px": motion["dy_px"][k : k + 1],
                "dx_px": motion["dx_px"][k : k + 1],
                "blurred_frames": [0] if k in motion["blurred_frames"] else [],
                "dark_frames": [0] if k in motion["dark_frames"] else [],
            }
            clean = apply_stage_motion(clean[None], part)[0].astype(np.float64)
        if ns > 0:
            sd = ns * np.sqrt(clean + p["read_noise_counts"] ** 2)
            clean = clean + sd * rng.standard_normal(clean.shape)
        movie[k] = np.clip(np.rint(clean), 0, CAMERA_MAX_COUNTS).astype(np.uint16)

    # echem: rest, galvanostatic plating at −j·A, a short rest
    ts = np.arange(0.0, t_end + 1e-9, p["sample_period_s"])
    i_set = -j * 1e-3 * p["electrode_area_cm2"]
    plating = (ts >= t_plate0) & (ts < t_plate1)
    stripping = (ts >= t_plate1) & (ts < t_strip1)
    control = np.where(plating, i_set, np.where(stripping, -i_set, 0.0))
    tau = np.clip(ts - t_plate0, 0, None)
    eta = 0.03 * math.sqrt(j) * (1.0 + 0.8 * np.exp(-tau / 3.0))
    eta_s = 0.03 * math.sqrt(j) * (1.0 + 0.3 * np.exp(-np.clip(ts - t_plate1, 0, None) / 3.0))
    potential = np.where(plating, -eta, np.where(stripping, eta_s, 0.0))
    potential = potential + rng.normal(0.0, ns * p["potential_noise_V"], ts.size)
    current = control * (1.0 + rng.normal(0.0, ns * 2e-3, ts.size))
    echem = pd.DataFrame(
        {
            "time_s": ts,
            "potential_V": potential,
            "current_A": current,
            "control_A": control,
            "step": np.select([plating, stripping, ts >= t_strip1], [1, 2, 3], 0).astype(np.int64),
            "charge_C": cumulative_trapezoid(current, ts, initial=0.0),
        }
    )
    nuclei = pd.DataFrame(
        {
            "run": run,
            "deposit": np.arange(n),
            "y_um": centres[:, 0],
            "x_um": centres[:, 1],
            "t_nuc_s": t_nuc,
            "rate_um3_s": rate,
            "tip": has_tip,
        }
    )
    pits = pd.DataFrame(
        {
            "run": run,
            "pit": np.arange(n_pit),
            "y_um": pit_centres[:, 0],
            "x_um": pit_centres[:, 1],
            "t_nuc_s": t_pit,
            "rate_um3_s": pit_rate,
        }
    )
    tip_seen = bool(has_tip.any()) and t_tip < t_plate1
    return {
        "movie": movie,
        "frame_times_s": times,
        "frame_interval_s": p["frame_interval_s"],
        "pixel_size_um": px,
        "echem": echem,
        "nuclei": nuclei,
        "pits": pits,
        "truth": {
            "run": run,
            "j_mA_cm2": float(j),
            "n_nuclei": n,
            "field_area_um2": size * size,
            "density_cm2": n / (size * size) * 1e8,
            "t_plating_start_s": t_plate0,
            "t_plating_end_s": t_plate1,
            "t_stripping_end_s": t_strip1 if n_pit or p["stripping_s"] > 0 else None,
            "n_pits": n_pit,
            "pit_density_cm2": n_pit / (size * size) * 1e8,
            "t_sand_s": t_sand,
            "n_tip_deposits": int(has_tip.sum()),
            "t_tip_start_s": float(t_tip) if tip_seen else None,
            "time_offset_s": lead,
            "frame_interval_s": p["frame_interval_s"],
            **({"registration": motion_truth(motion)} if motion else {}),
        },
    }


def make_top_view_nucleation(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate top-view movies of galvanostatic Li plating at several current densities.

    Electrochemistry per run: rest ``rest_s``, plating at −j for ``plating_s``, stripping at
    +j for ``stripping_s`` (0: none), 10 s rest; overpotentials of 30 mV·√j with a 3 s
    nucleation overshoot; noise.

    Image: bright-field reflection, 12-bit: a weakly textured background darkened by
    ``contrast`` × the anti-aliased coverage of each deposit (a disk of the radius of a
    hemisphere of its volume, plus its arm), blurred by the PSF; shot + read noise.
    While stripping the deposits dissolve at the rate they grew, and
    N_pit = ``n_pit_ref``·j^``pit_exponent`` pits open (dark disks, away from the
    deposits) in the first ``nucleation_fraction`` of the step, taking ``pit_fraction``
    of the stripping charge.
    Truth: per run the planted nucleus and pit counts (all appear early in their step and
    grow above the 2 µm² detection limit), densities per cm² of the imaged field, Sand's
    time and the start of tip growth (t_Sand after the plating start, when the step is
    longer than t_Sand).

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
        ``runs`` (list of per-run dicts: ``movie``, ``frame_times_s``, ``echem``,
        ``nuclei``, ``truth``), ``truth`` and ``parameters``.

    Examples
    --------
    >>> sim = make_top_view_nucleation(seed=1, n_runs=2, field_px=96, n_ref=4, stripping_s=0,
    ...                                plating_s=60.0, frame_interval_s=20.0)
    >>> [r["truth"]["n_nuclei"] for r in sim["runs"]]
    [2, 11]
    """
    p = resolve_params(PARAMETERS, params)
    if p["j_max_mA_cm2"] < p["j_min_mA_cm2"]:
        raise InputError(
            None,
            f"j_max_mA_cm2 = {p['j_max_mA_cm2']} is below j_min_mA_cm2 = {p['j_min_mA_cm2']}",
            "give j_min_mA_cm2 ≤ j_max_mA_cm2",
        )
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(p["n_runs"])]
    js = current_densities(p)
    runs = [
        _one_run(p, float(j), rngs[k], k + 1, motion_seed=int(seed) * 1000 + k)
        for k, j in enumerate(js)
    ]
    truth = {
        "scenario": SCENARIO,
        "seed": int(seed),
        "parameters": p,
        "exponent": p["exponent"],
        "runs": [r["truth"] for r in runs],
        "definitions": (
            "density_cm2 = planted nuclei / imaged field area; t_sand_s from the start of "
            "plating; t_tip_start_s: echem-clock time the arms start growing (None when the "
            "step ends before Sand's time)"
        ),
    }
    return {"runs": runs, "truth": truth, "parameters": p}


fill_parameter_doc(make_top_view_nucleation, PARAMETERS)


@register(SCENARIO, PARAMETERS)
def top_view_nucleation(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated ``top-view-nucleation`` experiment into folder ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (see :func:`make_top_view_nucleation`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = top_view_nucleation(tempfile.mkdtemp(), seed=2, n_runs=2, field_px=96, n_ref=4,
    ...                         stripping_s=0, plating_s=60.0, frame_interval_s=20.0)
    >>> sorted(f.name for f in p.parent.iterdir())
    ['experiment.toml', 'run_1', 'run_2', 'truth']
    """
    from platescope.io._echem_eclab_text import write_eclab_mpt

    resolve_params(PARAMETERS, params)  # validate before touching the folder
    out = prepare_output_dir(out, SCENARIO)
    sim = make_top_view_nucleation(seed=seed, **params)
    p = sim["parameters"]
    entries, names = [], []
    for r in sim["runs"]:
        k = r["truth"]["run"]
        folder = out / f"run_{k}"
        folder.mkdir(exist_ok=True)
        sec = write_movie_files(folder, r, name="movie.tif", mode="epi")
        echem = r["echem"].copy()
        echem.attrs["electrode_area_cm2"] = p["electrode_area_cm2"]
        write_eclab_mpt(
            folder / "echem.mpt",
            echem,
            t0_local=T0_LOCAL + timedelta(hours=k),
            technique="Chronopotentiometry",
        )
        entries.append(
            {
                "label": f"run {k}",
                "path": f"run_{k}/{sec['path']}",
                "mode": "epi",
                "frame_times": f"run_{k}/{sec['frame_times']}",
                "echem": f"run_{k}/echem.mpt",
                "timezone": TIMEZONE,
                "time_offset_s": float(r["truth"]["time_offset_s"]),
            }
        )
        names += [f"run_{k}/movie.tif", f"run_{k}/frame_times.csv", f"run_{k}/echem.mpt"]
    (out / "truth").mkdir(exist_ok=True)
    nuclei = pd.concat([r["nuclei"] for r in sim["runs"]], ignore_index=True)
    atomic_write_text(out / "truth" / "nuclei.csv", nuclei.to_csv(index=False))
    pits = pd.concat([r["pits"] for r in sim["runs"]], ignore_index=True)
    atomic_write_text(out / "truth" / "pits.csv", pits.to_csv(index=False))
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, names)
    write_json_atomic(out / "truth" / "truth.json", truth)
    return write_experiment_toml(
        out,
        SCENARIO,
        seed,
        {
            "electrode": {"area_cm2": p["electrode_area_cm2"]},
            "electrolyte": {
                "D_cm2_s": p["D_cm2_s"],
                "c0_mol_L": p["c0_mol_L"],
                "t_plus": p["t_plus"],
            },
            "plating": entries,
        },
    )
