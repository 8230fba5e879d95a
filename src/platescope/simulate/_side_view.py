"""The ``side-view`` scenario: a cross-section movie of Li plating on an electrode.

The camera looks along the electrode surface (SCIENCE.md §4; the review's §2.1, Huang
et al. 2023, Bai et al. 2016): the electrode is a dark band below a straight, slightly
tilted edge; during galvanostatic plating a dark Li layer grows from the edge into the
bright electrolyte, optionally with an outer porous "capping" band of weaker contrast,
and at a planted time the growth turns from mossy (the whole front advancing together)
to whiskers (a few narrow tips running away).

:func:`make_side_view` builds everything in memory; :func:`side_view` writes the
files (ImageJ TIFF + frame-times CSV + EC-Lab ``.mpt`` + ``experiment.toml`` +
``truth/``).
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

import platescope
from platescope._errors import InputError
from platescope.models._faraday import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
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

__all__ = ["PARAMETERS", "make_side_view", "side_view"]

SCENARIO = "side-view"
T0_LOCAL = datetime(2024, 11, 12, 14, 3, 27, 500000)
TIMEZONE = "Europe/Berlin"
_CAMERA_MAX = 4095

PARAMETERS: dict[str, Param] = {
    "current_density_mA_cm2": Param(
        2.0, float, "galvanostatic plating current density, mA cm⁻²", 0.01, 50.0, True
    ),
    "electrode_area_cm2": Param(0.5, float, "working electrode area, cm²", 1e-4, 10.0, True),
    "rest_s": Param(60.0, float, "rest (open circuit) before plating, s", 0.0, 3600.0),
    "plating_s": Param(1800.0, float, "plating time, s", 60.0, 36000.0),
    "sample_period_s": Param(1.0, float, "echem sample period, s", 0.01, 60.0, True),
    "frame_interval_s": Param(20.0, float, "nominal frame interval, s", 0.1, 600.0, True),
    "frame_jitter_frac": Param(
        0.1, float, "frame intervals vary uniformly by ± this fraction", 0.0, 0.5
    ),
    "movie_lead_s": Param(
        5.0, float, "the camera starts this long before the potentiostat, s", 0.0, 600.0
    ),
    "field_width_px": Param(256, int, "movie width (along the electrode), pixels", 32, 4096),
    "field_height_px": Param(128, int, "movie height, pixels", 32, 4096),
    "pixel_size_um": Param(0.5, float, "pixel size, µm", 0.01, 20.0, True),
    "growth_direction": Param(
        "up",
        str,
        'side of the edge the layer grows into on screen: "up" or "down"',
        choices=("up", "down"),
    ),
    "edge_margin_frac": Param(
        0.2,
        float,
        "distance of the edge from the electrode-side border, fraction of the height",
        0.05,
        0.5,
    ),
    "tilt_deg": Param(1.0, float, "electrode tilt, degrees (sign at random)", 0.0, 10.0),
    "porosity": Param(0.6, float, "porosity of the grown layer (1 − h_dense/h)", 0.0, 0.95),
    "capping_fraction": Param(
        0.3, float, "outer capping band, fraction of the layer thickness (0 = none)", 0.0, 0.8
    ),
    "roughness_rel": Param(
        0.08, float, "relative sd of the front height along the electrode", 0.0, 0.3
    ),
    "roughness_length_um": Param(
        6.0, float, "correlation length of the front roughness, µm", 0.5, 200.0, True
    ),
    "transition_frac": Param(
        0.6,
        float,
        "mossy → whisker transition, fraction of the plating time (≥ 1 = none)",
        0.1,
        2.0,
    ),
    "n_whiskers": Param(5, int, "whiskers that grow after the transition", 0, 100),
    "whisker_speed_factor": Param(
        5.0, float, "whisker tip speed / mean layer growth speed", 1.0, 100.0
    ),
    "whisker_width_um": Param(2.0, float, "whisker width, µm", 0.1, 50.0, True),
    "background_counts": Param(2400.0, float, "electrolyte brightness, counts", 100.0, 4000.0),
    "electrode_counts": Param(600.0, float, "electrode brightness, counts", 0.0, 4000.0),
    "dense_contrast": Param(
        0.55, float, "relative darkening by the (inner) dense layer", 0.01, 1.0
    ),
    "capping_contrast": Param(0.28, float, "relative darkening by the capping band", 0.01, 1.0),
    "psf_sigma_um": Param(0.6, float, "optical blur (Gaussian PSF σ), µm", 0.0, 20.0),
    "read_noise_counts": Param(5.0, float, "camera read noise sd, counts", 0.0, 200.0),
    "noise_scale": Param(1.0, float, "multiplies all noise (0 = noise-free)", 0.0, 20.0),
    "potential_noise_V": Param(5e-4, float, "potential noise sd, V", 0.0, 0.1),
}


def _check(p: dict) -> None:
    if p["growth_direction"] not in ("up", "down"):
        raise InputError(
            None,
            f"--set growth_direction={p['growth_direction']!r} is not up or down",
            "give growth_direction=up or growth_direction=down",
        )
    if p["rest_s"] + p["movie_lead_s"] < 2.5 * p["frame_interval_s"] * (1 + p["frame_jitter_frac"]):
        raise InputError(
            None,
            "fewer than 3 frames would precede the plating (the reference the analysis needs)",
            "raise rest_s or lower frame_interval_s",
        )


def _coverage(lo: np.ndarray, hi: np.ndarray, ny: int) -> np.ndarray:
    """Fraction of each pixel row (±0.5 around its index) inside [lo, hi] per column."""
    r = np.arange(ny, dtype=np.float64)[:, None]
    return np.clip(np.minimum(r + 0.5, hi[None, :]) - np.maximum(r - 0.5, lo[None, :]), 0.0, 1.0)


def make_side_view(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate an operando side-view (cross-section) movie of galvanostatic Li plating.

        Electrochemistry: a rest of ``rest_s``, then plating at −j·A for ``plating_s`` (EC-Lab
        galvanostatic record, 1 s samples, Li‖Cu-like potential −30 to −50 mV with noise).

        Geometry: the electrode edge is a straight line at ``edge_margin_frac`` of the height
        from the electrode-side border, tilted by ``tilt_deg`` (random sign), the electrode
        on the far side of the growth direction. The layer's mean perpendicular thickness is
        H(t) = h_dense(t)/(1 − porosity) with h_dense = Q(t)·V_M/(FA), Q the plated charge
        (so the planted porosity is exactly what a perfect analysis reports), times
        (1 + r(x)) with r a smooth zero-mean random profile of sd ``roughness_rel`` and
        correlation length ``roughness_length_um``; the outer ``capping_fraction`` of it is
        the capping band. From t_tr = ``transition_frac`` × ``plating_s`` after the current
        starts, ``n_whiskers`` whiskers (``whisker_width_um`` wide, whole columns, outer-band
        contrast) grow from the front at ``whisker_speed_factor`` × dH/dt.

        Image (12-bit): electrolyte ``background_counts`` × (1 + 2 % fixed texture),
        electrode ``electrode_counts``; the dense band darkens by ``dense_contrast``, the
        capping band (or a whisker) by ``capping_contrast`` (both anti-aliased along y);
        Gaussian PSF ``psf_sigma_um``; shot + read noise × ``noise_scale``. Frames are
        snapshots at jittered times (``frame_times.csv``), the first before the current.

        Truth per frame (echem clock): the planted per-column front heights (µm,
        perpendicular to the edge), their mean, max and sd (ddof 1), the capping and dense
        band means, the charge, h_dense and the porosity 1 − h_dense/mean (whiskers
        included in the mean, so it is slightly below the planted porosity after t_tr).

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
            ``movie`` (uint16 t×y×x), ``frame_times_s`` (movie clock), ``offset_s`` (echem
            t = 0 on the movie clock), ``pixel_size_um``, ``frame_interval_s``, ``echem``
            (DataFrame: time_s, potential_V, current_A, control_A, step, charge_C),
            ``charge_at_frames_C`` (plated charge at each frame, C), ``front_um`` (truth
            heights, frames × columns), ``frames`` (truth per frame), ``truth`` and
            ``parameters``.

        Examples
        --------
        >>> sim = make_side_view(seed=1, field_width_px=64, field_height_px=64, plating_s=300.0)
        >>> sim["movie"].shape[1:], sim["truth"]["side_view"]["porosity"] > 0.55
        ((64, 64), True)
    """
    p = resolve_params(PARAMETERS, params)
    _check(p)
    rng_geo, rng_time, rng_img, rng_noise, rng_echem = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)
    )
    ns = p["noise_scale"]
    ny, nx, px = p["field_height_px"], p["field_width_px"], p["pixel_size_um"]
    up = p["growth_direction"] == "up"

    # ---- timeline and frames ----------------------------------------------------------
    t_on = p["rest_s"]
    t_end = t_on + p["plating_s"]
    duration = t_end + 2.0 * p["frame_interval_s"]
    offset = p["movie_lead_s"]
    dt_nom, jit = p["frame_interval_s"], p["frame_jitter_frac"]
    n_max = int(math.ceil((duration + offset) / (dt_nom * (1 - jit)))) + 2
    times = np.concatenate([[0.0], np.cumsum(dt_nom * (1 + rng_time.uniform(-jit, jit, n_max)))])
    times = times[times <= duration + offset]
    t_ec = times - offset

    # ---- electrochemistry ---------------------------------------------------------------
    n_s = int(math.floor(duration / p["sample_period_s"] + 1e-9)) + 1
    ts = np.arange(n_s) * p["sample_period_s"]
    i_set = p["current_density_mA_cm2"] * 1e-3 * p["electrode_area_cm2"]
    on = (ts >= t_on) & (ts < t_end)
    control = np.where(on, -i_set, 0.0)
    tau = np.clip(ts - t_on, 0.0, None)
    e_nf = np.where(on, -(0.030 + 0.020 * np.exp(-tau / 20.0) + 1e-6 * tau), 0.0)
    potential = e_nf + rng_echem.normal(0.0, ns * p["potential_noise_V"], n_s)
    current = control.copy()
    charge = np.concatenate([[0.0], np.cumsum(0.5 * (current[1:] + current[:-1]) * np.diff(ts))])
    echem = pd.DataFrame(
        {
            "time_s": ts,
            "potential_V": potential,
            "current_A": current,
            "control_A": control,
            "step": on.astype(np.int64),
            "charge_C": charge,
        }
    )
    # plated charge at each frame (exact: piecewise-linear in time)
    q_frames = i_set * np.clip(t_ec - t_on, 0.0, p["plating_s"])

    # ---- planted geometry -------------------------------------------------------------
    area = p["electrode_area_cm2"]
    h_dense = q_frames * LI_MOLAR_VOLUME_CM3_MOL / (FARADAY_C_MOL * area) * 1e4  # µm
    H = h_dense / (1.0 - p["porosity"])
    rate = i_set * LI_MOLAR_VOLUME_CM3_MOL / (FARADAY_C_MOL * area) * 1e4 / (1 - p["porosity"])
    noise_x = rng_geo.standard_normal(nx + 64)
    rough = ndimage.gaussian_filter1d(noise_x, p["roughness_length_um"] / px, mode="wrap")[32:-32]
    rough = rough - rough.mean()
    sd = rough.std()
    rough = rough / sd * p["roughness_rel"] if sd > 0 else np.zeros(nx)
    rough = np.clip(rough, -0.6, 0.6)
    tilt = math.radians(p["tilt_deg"]) * rng_geo.choice([-1.0, 1.0])
    slope = math.tan(tilt)  # px per px (square pixels)
    margin = p["edge_margin_frac"] * (ny - 1)
    xs = np.arange(nx, dtype=float)
    mid = ((ny - 1) - margin if up else margin) + rng_geo.uniform(-0.5, 0.5)
    edge = mid + slope * (xs - 0.5 * (nx - 1))
    cos_t = math.cos(tilt)
    t_tr = p["transition_frac"] * p["plating_s"]  # after the current starts
    w_px = max(int(round(p["whisker_width_um"] / px)), 1)
    wh_cols = np.zeros(nx, bool)
    n_w = p["n_whiskers"] if p["transition_frac"] < 1.0 else 0
    if n_w:
        spacing = nx // max(n_w, 1)
        if spacing < w_px + 2:
            raise InputError(
                None,
                f"{n_w} whiskers {w_px} px wide do not fit in {nx} columns",
                "lower n_whiskers or whisker_width_um",
            )
        # whiskers sprout from the highest protrusions of the mossy front (the tallest
        # first), kept apart by at least their width + 2 px
        taken = np.zeros(nx, bool)
        n_placed = 0
        for c in np.argsort(-rough, kind="stable"):
            s0 = int(np.clip(c - w_px // 2, 0, nx - w_px))
            if taken[max(s0 - 2, 0) : s0 + w_px + 2].any():
                continue
            wh_cols[s0 : s0 + w_px] = True
            taken[s0 : s0 + w_px] = True
            n_placed += 1
            if n_placed == n_w:
                break
        # the whisker columns follow the highest point of the front until t_tr
        rough = np.where(wh_cols, rough.max(), rough)
    v_w = p["whisker_speed_factor"] * rate
    t_plate = np.clip(t_ec - t_on, 0.0, None)
    excess_w = v_w * np.clip(t_plate - t_tr, 0.0, None)  # µm beyond the front
    front = H[:, None] * (1.0 + rough[None, :]) + excess_w[:, None] * wh_cols[None, :]
    dense = H[:, None] * (1.0 + rough[None, :]) * (1.0 - p["capping_fraction"])
    room_um = ((edge.min() if up else ny - 1 - edge.max()) - 2.0) * px * cos_t
    if front.max() > room_um:
        raise InputError(
            None,
            f"the layer ({front.max():.1f} µm) grows out of the field ({room_um:.1f} µm free)",
            "raise field_height_px or pixel_size_um, or lower the current, plating time or "
            "whisker speed",
        )

    # ---- images -----------------------------------------------------------------------
    tex = ndimage.gaussian_filter(rng_img.standard_normal((ny, nx)), 3.0)
    tex = 1.0 + 0.02 * tex / max(tex.std(), 1e-12)
    big = 1e9
    el_lo, el_hi = (edge, np.full(nx, big)) if up else (np.full(nx, -big), edge)
    cov_el = _coverage(el_lo, el_hi, ny)
    base = p["background_counts"] * tex * (1.0 - cov_el) + p["electrode_counts"] * cov_el
    sigma_px = p["psf_sigma_um"] / px
    c_d = p["dense_contrast"]
    c_c = p["capping_contrast"] if p["capping_fraction"] > 0 else p["dense_contrast"]
    movie = np.empty((times.size, ny, nx), dtype=np.uint16)
    for k in range(times.size):
        fv = front[k] / px / cos_t  # vertical extent, px
        dv = dense[k] / px / cos_t
        if up:
            cov_d = _coverage(edge - dv, edge, ny)
            cov_f = _coverage(edge - fv, edge, ny)
        else:
            cov_d = _coverage(edge, edge + dv, ny)
            cov_f = _coverage(edge, edge + fv, ny)
        # whisker columns: the part beyond the layer has the outer contrast too
        dark = c_d * cov_d + c_c * (cov_f - cov_d)
        clean = base * (1.0 - dark)
        if sigma_px > 0:
            clean = ndimage.gaussian_filter(clean, sigma_px, mode="nearest")
        if ns > 0:
            sdv = ns * np.sqrt(clean + p["read_noise_counts"] ** 2)
            clean = clean + sdv * rng_noise.standard_normal(clean.shape)
        movie[k] = np.clip(np.rint(clean), 0, _CAMERA_MAX).astype(np.uint16)

    # ---- truth ------------------------------------------------------------------------
    mean = front.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        por = np.where(mean > 0, 1.0 - h_dense / mean, np.nan)
    cap = (front - dense).mean(axis=1) if p["capping_fraction"] > 0 else np.full(times.size, np.nan)
    frames = pd.DataFrame(
        {
            "frame": np.arange(times.size),
            "t_movie_s": times,
            "t_s": t_ec,
            "charge_C": q_frames,
            "h_dense_um": h_dense,
            "mean_um": mean,
            "max_um": front.max(axis=1),
            "roughness_um": front.std(axis=1, ddof=1),
            "capping_um": cap,
            "dense_um": dense.mean(axis=1) if p["capping_fraction"] > 0 else np.nan,
            "porosity": por,
        }
    )
    last = frames.iloc[-1]

    def f(v):
        return None if not np.isfinite(v) else float(v)

    t_tr_echem = t_on + t_tr if n_w else None
    side = {
        "mean_thickness_um": f(last["mean_um"]),
        "max_thickness_um": f(last["max_um"]),
        "roughness_um": f(last["roughness_um"]),
        "capping_thickness_um": f(last["capping_um"]),
        "porosity": f(last["porosity"]),
        "h_dense_um": f(last["h_dense_um"]),
        "charge_C": f(last["charge_C"]),
        "transition": {
            "t_transition_s": t_tr_echem,
            "charge_at_transition_C": None if t_tr_echem is None else float(i_set * t_tr),
            "capacity_at_transition_mAh_cm2": None
            if t_tr_echem is None
            else float(i_set * t_tr / 3.6 / area),
        },
        "planted_porosity": p["porosity"],
        "n_bands": 2 if p["capping_fraction"] > 0 else 1,
        "edge": {
            "row_at_centre_px": float(mid),
            "tilt_deg": float(math.degrees(tilt)),
            "growth_direction": p["growth_direction"],
        },
    }
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": dict(p),
        "side_view": side,
        "definitions": (
            "heights perpendicular to the electrode edge, µm, per pixel column, as planted "
            "(before PSF and noise); mean/max/roughness (sd, ddof 1) over columns; "
            "porosity = 1 − h_dense/mean with h_dense = Q·V_M/(F·A); transition.t_transition_s "
            "on the echem clock (whiskers start); last-frame values in side_view, per frame in "
            "truth/frames.csv, per column in truth/front_um.csv"
        ),
        "files": {"frames": "truth/frames.csv", "front": "truth/front_um.csv"},
    }
    return {
        "movie": movie,
        "frame_times_s": times,
        "offset_s": offset,
        "pixel_size_um": px,
        "frame_interval_s": dt_nom,
        "echem": echem,
        "charge_at_frames_C": q_frames,
        "front_um": front,
        "dense_um": dense,
        "edge_rows_px": edge,
        "frames": frames,
        "truth": truth,
        "parameters": p,
        "t0_local": T0_LOCAL,
    }


fill_parameter_doc(make_side_view, PARAMETERS)


@register(SCENARIO, PARAMETERS)
def side_view(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated side-view plating experiment and its truth to ``out``.

    Files: ``movie.tif`` (ImageJ TYX uint16, µm pixels, nominal interval),
    ``frame_times.csv`` (real per-frame times, movie clock), ``echem.mpt`` (EC-Lab text,
    galvanostatic plating), ``experiment.toml`` (``[echem] time_offset_s``,
    ``[electrode] area_cm2``, ``[analysis.side_view] growth_direction``) and ``truth/``
    (``truth.json``, ``frames.csv``, ``front_um.csv``). See :func:`make_side_view`.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (see :func:`make_side_view`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = side_view(tempfile.mkdtemp(), seed=2, field_width_px=48, field_height_px=48,
    ...               plating_s=120.0)
    >>> sorted(f.name for f in (p.parent / "truth").iterdir())
    ['frames.csv', 'front_um.csv', 'truth.json']
    """
    from platescope.io._echem_eclab_text import write_eclab_mpt

    resolve_params(PARAMETERS, params)  # validate before touching the folder
    out = prepare_output_dir(out, SCENARIO)
    sim = make_side_view(seed=seed, **params)
    movie_section = write_movie_files(out, sim, name="movie.tif", mode="trans")
    echem = sim["echem"].copy()
    echem.attrs["electrode_area_cm2"] = sim["parameters"]["electrode_area_cm2"]
    write_eclab_mpt(
        out / "echem.mpt",
        echem,
        t0_local=sim["t0_local"],
        technique="Chronopotentiometry",
    )
    truth = sim["truth"]
    atomic_write_text(out / "truth" / "frames.csv", sim["frames"].to_csv(index=False))
    front = pd.DataFrame(
        sim["front_um"], columns=[f"x{j}" for j in range(sim["front_um"].shape[1])]
    )
    front.insert(0, "t_s", sim["frames"]["t_s"].to_numpy())
    atomic_write_text(out / "truth" / "front_um.csv", front.to_csv(index=False))
    truth["inputs"] = input_hashes(out, ("movie.tif", "frame_times.csv", "echem.mpt"))
    truth["files"].update(movie="movie.tif", frame_times="frame_times.csv", echem="echem.mpt")
    write_json_atomic(out / "truth" / "truth.json", truth)
    return write_experiment_toml(
        out,
        SCENARIO,
        seed,
        {
            "electrode": {"area_cm2": sim["parameters"]["electrode_area_cm2"]},
            "echem": {
                "path": "echem.mpt",
                "timezone": TIMEZONE,
                "time_offset_s": float(sim["offset_s"]),
                "current_density_mA_cm2": sim["parameters"]["current_density_mA_cm2"],
            },
            "movie": movie_section,
            "analysis": {"side_view": {"growth_direction": sim["parameters"]["growth_direction"]}},
        },
    )
