"""The ``sims-diffusion`` scenario: Li isotope tracer diffusion seen by SIMS depth profiles.

:func:`make_sims_diffusion` builds the profiles in memory (counts + truth);
:func:`sims_diffusion` writes one SIMS CSV per anneal time, ``experiment.toml`` and
``truth/truth.json``.

Model (per anneal time t, depth x below the surface, µm):

- a tracer film of thickness h (isotope fraction ``source_fraction`` of the tracer) on a
  semi-infinite substrate (tracer fraction f_bg: 0.05 for ⁷Li into 95 % ⁶Li-enriched Li,
  0.0759 = natural ⁶Li for ⁶Li into natural Li–Mg) with a reflecting surface; depth
  resolution σ0 (Gaussian) adds in quadrature, so the measured tracer fraction is the
  exact finite-film solution with s² = 2Dt + σ0²::

      f(x) = f_bg + (f_src − f_bg)·½[erf((h−x)/(√2 s)) + erf((h+x)/(√2 s))]

- an oxygen-contaminated surface layer c(x) = ½ erfc((x − d_c)/(√2 w)): it raises the
  Li⁺ yield by a factor 1 + (Y − 1)·c and multiplies the tracer/other isotope count
  ratio by 1 + b·c (the first points lie artificially high, as in the paper), and an
  ¹⁸O⁻ channel counts O_bg + O_peak·c;
- Poisson counts with ``counts_per_point`` expected Li counts per point in the bulk;
- the depth scale of each profile is off by a factor 1 + ε, ε ~ N(0, depth_scale_err)
  (crater-depth or sputter-rate calibration), and that error is stated in the
  experiment file (``depth_scale_err``);
- ``time_profiles`` of the profiles are written in sputter time (``time_s``) and
  converted by ``crater_depth_um`` (depth at the last point) or ``sputter_rate_um_s``
  given in their ``[[sims]]`` entry (alternately).

Truth per profile: D, s, the contaminated point indices (expected distortion of the
tracer fraction ≥ 5 counting σ), the *transition* points (1–5 σ; not scored) — every
other point is clean (< 1 σ).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

import platescope
from platescope._errors import InputError
from platescope.models import critical_stripping_current
from platescope.simulate._common import (
    Param,
    atomic_write_text,
    prepare_output_dir,
    register,
    resolve_params,
    sha256_file,
    write_experiment_toml,
    write_json_atomic,
)

__all__ = ["PARAMETERS", "make_sims_diffusion", "sims_diffusion"]

SCENARIO = "sims-diffusion"
#: Expected distortion (in counting σ of the tracer fraction) that makes a point contaminated.
CONTAMINATED_SIGMA = 5.0
#: Below this distortion (counting σ) a point is clean; between the two it is "transition".
CLEAN_SIGMA = 1.0

PARAMETERS: dict[str, Param] = {
    "D_cm2_s": Param(1.6e-10, float, "tracer diffusion coefficient, cm² s⁻¹", 1e-14, 1e-6, True),
    "anneal_times_s": Param(
        "900,1800,3600,7200", str, "comma-separated anneal times, s (one profile each)"
    ),
    "tracer": Param(
        "7Li", str, "tracer isotope: 7Li (into 6Li-enriched Li) or 6Li (into natural Li–Mg)"
    ),
    "source_fraction": Param(0.999, float, "tracer isotope fraction of the film", 0.5, 1.0),
    "background_fraction": Param(
        None,
        float,
        "tracer fraction of the substrate (auto: 0.05 for 7Li, 0.0759 for 6Li)",
        0.0,
        0.5,
    ),
    "film_thickness_um": Param(0.5, float, "tracer film thickness h, µm", 0.0, 50.0),
    "sigma0_um": Param(0.2, float, "depth resolution σ0 (Gaussian sd), µm", 0.0, 10.0),
    "counts_per_point": Param(
        2e5, float, "expected 6Li + 7Li counts per depth point in the bulk", 10.0, 1e9
    ),
    "n_points": Param(80, int, "depth points per profile", 8, 5000),
    "depth_range_factor": Param(
        4.5, float, "deepest point = this × s, s = √(2Dt + σ0²)", 1.0, 20.0
    ),
    "contamination_depth_um": Param(
        1.0, float, "contaminated surface layer depth d_c, µm", 0.0, 50.0
    ),
    "contamination_edge_um": Param(0.3, float, "width w of the layer's lower edge, µm", 0.01, 10.0),
    "contamination_ratio_boost": Param(
        0.6, float, "b: relative rise of the tracer/other count ratio in the layer", -0.9, 10.0
    ),
    "contamination_yield": Param(3.0, float, "Y: Li⁺ yield factor in the layer", 0.1, 100.0),
    "oxygen_channel": Param(True, bool, "write a counts_18O column"),
    "oxygen_background_counts": Param(20.0, float, "bulk 18O counts per point", 0.0, 1e9),
    "oxygen_peak_counts": Param(3000.0, float, "extra 18O counts in the layer", 0.0, 1e9),
    "depth_scale_err": Param(
        0.005, float, "relative 1σ error of each profile's depth scale", 0.0, 0.5
    ),
    "time_profiles": Param(2, int, "profiles written in sputter time instead of depth", 0, 100),
    "sputter_rate_um_s": Param(0.01, float, "true sputter rate, µm s⁻¹", 1e-6, 100.0, True),
}


def _times(text: str) -> list[float]:
    try:
        times = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        times = []
    if not times or any(not (math.isfinite(t) and t > 0) for t in times):
        raise InputError(
            None,
            f"--set anneal_times_s={text!r}: not a list of positive times",
            "give comma-separated anneal times in s, e.g. 900,1800,3600",
        )
    return times


def _contamination(x, d_c: float, w: float) -> np.ndarray:
    if d_c <= 0:
        return np.zeros_like(x)
    return 0.5 * special.erfc((x - d_c) / (math.sqrt(2.0) * w))


def _profile(rng, t: float, p: dict, f_bg: float) -> dict:
    d_um2 = p["D_cm2_s"] * 1e8
    s = math.sqrt(2 * d_um2 * t + p["sigma0_um"] ** 2)
    n = p["n_points"]
    step = p["depth_range_factor"] * s / n
    x = (np.arange(n) + 0.5) * step
    h = p["film_thickness_um"]
    f_src = p["source_fraction"]
    if h > 0:
        c = 0.5 * (
            special.erf((h - x) / (math.sqrt(2) * s)) + special.erf((h + x) / (math.sqrt(2) * s))
        )
    else:
        c = np.zeros_like(x)
    f = f_bg + (f_src - f_bg) * c
    cont = _contamination(x, p["contamination_depth_um"], p["contamination_edge_um"])
    boost = 1.0 + p["contamination_ratio_boost"] * cont
    f_meas = f * boost / (f * boost + (1.0 - f))
    total = p["counts_per_point"] * (1.0 + (p["contamination_yield"] - 1.0) * cont)
    mu_t, mu_o = total * f_meas, total * (1.0 - f_meas)
    n_t, n_o = rng.poisson(mu_t), rng.poisson(mu_o)
    # counting σ of the measured fraction at the expected counts
    sd = np.sqrt(f_meas * (1 - f_meas) / total)
    dist = np.abs(f_meas - f) / sd
    contaminated = np.nonzero(dist >= CONTAMINATED_SIGMA)[0]
    transition = np.nonzero((dist >= CLEAN_SIGMA) & (dist < CONTAMINATED_SIGMA))[0]
    oxygen = rng.poisson(p["oxygen_background_counts"] + p["oxygen_peak_counts"] * cont)
    scale = 1.0 + p["depth_scale_err"] * rng.standard_normal()
    return {
        "depth_true_um": x,
        "depth_um": x * scale,
        "scale": scale,
        "f_true": f,
        "f_measured_expected": f_meas,
        "n_tracer": n_t,
        "n_other": n_o,
        "oxygen": oxygen,
        "sigma_um": s,
        "contaminated": contaminated,
        "transition": transition,
    }


def make_sims_diffusion(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate SIMS tracer-diffusion depth profiles in memory.

    Parameters
    ----------
    seed : int
        Random seed.
    **params
        Scenario parameters (:data:`PARAMETERS`; ``platescope simulate sims-diffusion
        --set key=value``).

    Returns
    -------
    dict
        ``profiles`` (list of dicts: depth_um (as recorded), depth_true_um, n_tracer,
        n_other, oxygen, ... per anneal time), ``truth`` and ``parameters``.

    Examples
    --------
    >>> sim = make_sims_diffusion(seed=1, anneal_times_s="3600")
    >>> p = sim["profiles"][0]
    >>> p["n_tracer"].size, sim["truth"]["sims"][0]["D_cm2_s"]
    (80, 1.6e-10)
    >>> len(sim["truth"]["sims"][0]["contaminated_points"]) > 0
    True
    """
    p = resolve_params(PARAMETERS, params)
    times = _times(p["anneal_times_s"])
    if p["tracer"] not in ("6Li", "7Li"):
        raise InputError(None, f"--set tracer={p['tracer']!r} is unknown", "use 6Li or 7Li")
    f_bg = p["background_fraction"]
    if f_bg is None:
        f_bg = 0.05 if p["tracer"] == "7Li" else 0.0759
    rng = np.random.default_rng(seed)
    profiles = [_profile(rng, t, p, f_bg) for t in times]
    rows = []
    for t, prof in zip(times, profiles, strict=True):
        rows.append(
            {
                "anneal_time_s": t,
                "D_cm2_s": p["D_cm2_s"],
                "sigma_um": prof["sigma_um"],
                "sigma2_um2": prof["sigma_um"] ** 2,
                "background_fraction": f_bg,
                "source_fraction": p["source_fraction"],
                "depth_scale_factor": prof["scale"],
                "contaminated_points": [int(i) for i in prof["contaminated"]],
                "transition_points": [int(i) for i in prof["transition"]],
                "n_points": int(prof["n_tracer"].size),
            }
        )
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": p,
        "sims": rows,
        "sims_D_cm2_s": p["D_cm2_s"],
        # default anchors of the stripping hook (i_crit ∝ √D, models._stripping)
        "i_crit_uA_cm2": float(critical_stripping_current(p["D_cm2_s"])["i_crit_uA_cm2"]),
        "sims_sigma0_um": p["sigma0_um"],
        "definitions": {
            "contaminated_points": f"indices whose expected tracer fraction is distorted by the "
            f"surface layer by ≥ {CONTAMINATED_SIGMA:g} counting σ",
            "transition_points": f"distortion between {CLEAN_SIGMA:g} and {CONTAMINATED_SIGMA:g} σ "
            "(neither required to be excluded nor counted as clean)",
            "clean": f"every other point (distortion < {CLEAN_SIGMA:g} σ)",
            "sigma_um": "s = √(2Dt + σ0²) of the finite-film solution (true depth scale)",
        },
    }
    return {"profiles": profiles, "truth": truth, "parameters": p, "times": times}


@register(SCENARIO, PARAMETERS)
def sims_diffusion(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write simulated SIMS tracer-diffusion profiles and their truth to ``out``.

    Files: ``sims_<k>_<t>s.csv`` (one per anneal time; ``depth_um`` or ``time_s``,
    ``counts_6Li``, ``counts_7Li``, ``counts_18O``), ``experiment.toml`` (one
    ``[[sims]]`` entry per profile with ``anneal_time_s``, ``tracer``,
    ``depth_scale_err`` and, for sputter-time files, ``crater_depth_um`` or
    ``sputter_rate_um_s``) and ``truth/truth.json``. See :func:`make_sims_diffusion`.

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
    >>> p = sims_diffusion(tempfile.mkdtemp(), seed=0, anneal_times_s="1800,3600")
    >>> p.name, len(list(p.parent.glob("sims_*.csv")))
    ('experiment.toml', 2)
    """
    sim = make_sims_diffusion(seed=seed, **params)  # validates before touching the folder
    out = prepare_output_dir(out, SCENARIO)
    p = sim["parameters"]
    tracer = p["tracer"]
    other = "6Li" if tracer == "7Li" else "7Li"
    entries = []
    n_time = min(p["time_profiles"], len(sim["profiles"]))
    # spread the sputter-time profiles over the set (every other one first)
    order = list(range(1, len(sim["profiles"]), 2)) + list(range(0, len(sim["profiles"]), 2))
    time_form = set(order[:n_time])
    inputs = {}
    for k, (t, prof) in enumerate(zip(sim["times"], sim["profiles"], strict=True)):
        name = f"sims_{k}_{int(round(t))}s.csv"
        entry: dict[str, Any] = {
            "path": name,
            "anneal_time_s": float(t),
            "tracer": tracer,
            "depth_scale_err": p["depth_scale_err"],
        }
        cols: dict[str, Any] = {}
        if k in time_form:
            time_s = prof["depth_true_um"] / p["sputter_rate_um_s"]
            cols["time_s"] = np.round(time_s, 4)
            if sorted(time_form).index(k) % 2 == 0:
                entry["crater_depth_um"] = float(prof["depth_um"][-1])
            else:
                entry["sputter_rate_um_s"] = float(p["sputter_rate_um_s"] * prof["scale"])
        else:
            cols["depth_um"] = np.round(prof["depth_um"], 6)
        cols[f"counts_{tracer}"] = prof["n_tracer"]
        cols[f"counts_{other}"] = prof["n_other"]
        df = pd.DataFrame(cols)
        df = df[[c for c in ("depth_um", "time_s", "counts_6Li", "counts_7Li") if c in df]]
        if p["oxygen_channel"]:
            df["counts_18O"] = prof["oxygen"]
        text = (
            f"# platescope simulated SIMS depth profile ({SCENARIO}, seed {int(seed)})\n"
            f"# tracer {tracer}, anneal time {t:g} s\n" + df.to_csv(index=False)
        )
        atomic_write_text(out / name, text)
        inputs[name] = {"path": name, "sha256": sha256_file(out / name)}
        entries.append(entry)
    truth = sim["truth"]
    truth["inputs"] = inputs
    for row, entry in zip(truth["sims"], entries, strict=True):
        row["path"] = entry["path"]
        row["depth_form"] = (
            "time"
            if "time_s" in pd.read_csv(out / entry["path"], comment="#", nrows=1)
            else "depth"
        )
    write_json_atomic(out / "truth" / "truth.json", truth)
    return write_experiment_toml(out, SCENARIO, seed, {"sims": entries})
