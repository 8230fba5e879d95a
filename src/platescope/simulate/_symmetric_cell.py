"""The ``symmetric-cell`` scenario: galvanostatic cycling of a Li‖Li cell, with truth.

Each half-cycle (plating on the working electrode, cell voltage negative; then
stripping, positive) follows a planted profile of |η| against normalised time τ:

- **peaking** (fresh Li, reaction-limited): ``P0 (1 + A e^(−τ/0.15))`` — a maximum at
  the start, then a fall towards the plateau;
- **arcing** (dead-Li layer, transport-limited): ``P0 (1 + A τ²)`` — rising to the end;

- **flat**: ``P0``;

plus a nucleation overshoot ``N e^(−t/20 s)`` at the start of every half-cycle. Cycles
before ``arcing_from_cycle`` are peaking (the last ``flat_cycles`` of them flat, a
transition), later ones arcing (dead Li building up); the
base overpotential ``P0`` grows by ``eta_growth_mV_per_cycle`` per cycle and the shape
amplitude ``A`` is drawn per half-cycle within ±20 % of its parameter. A short rest
(|η| relaxing to 0) separates half-cycles. Planted soft shorts: **collapses** (|η| falls
to ~0.3 mV for 40–120 s, then recovers) and **noise bursts** (added white noise of
8 mV for 30 s) at random times inside half-cycles. An optional GITT block (pulses of
``gitt_pulse_s`` then rests of ``gitt_rest_s``, plating then stripping) has a planted
ohmic drop ``R_ohm·I``, a relaxing concentration overpotential and a quasi-equilibrium
overpotential, sampled at 0.2 s.

Truth (``truth/truth.json``, keys as in ``summary.json`` ``symmetric_cell``): per
half-cycle the class, the plateau (median of the noise-free |η| over τ ∈ [0.3, 0.7], the
analysis' definition), the overshoot (peak of the noise-free |η| over τ ∈ [0, 0.1]
minus the plateau) and the end-of-step |η| (median over τ ∈ [0.95, 1]); every soft short
with its kind and start/end times; every GITT pulse's IR drop, relaxation and
quasi-equilibrium overpotential.

Files: ``echem.mpt`` (EC-Lab text export, GCPL), ``cycling.mps`` (EC-Lab settings: the
set current and durations), ``experiment.toml`` and ``truth/truth.json``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import platescope
from platescope.simulate._common import (
    Param,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
)

__all__ = ["PARAMETERS", "make_symmetric_cell", "symmetric_cell"]

SCENARIO = "symmetric-cell"
_NUC_TAU_S = 20.0
_PEAK_TAU = 0.15
_COLLAPSE_V = 3e-4
_BURST_SD_V = 8e-3
_BURST_S = 30.0
_GITT_DT_S = 0.2
_GITT_TAU_S = 8.0

PARAMETERS: dict[str, Param] = {
    "n_cycles": Param(10, int, "plating + stripping cycles", 1, 500),
    "half_cycle_s": Param(1800.0, float, "length of each half-cycle, s", 60.0, 86400.0),
    "rest_s": Param(30.0, float, "open-circuit rest after each half-cycle, s", 0.0, 3600.0),
    "dt_s": Param(2.0, float, "sampling interval, s", 0.01, 60.0, True),
    "current_mA": Param(0.5, float, "applied current, mA", 0.0, 1000.0, True),
    "area_cm2": Param(1.0, float, "electrode area, cm²", 0.0, 100.0, True),
    "eta0_mV": Param(30.0, float, "base overpotential of the first cycle, mV", 1.0, 1000.0),
    "eta_growth_mV_per_cycle": Param(
        2.0, float, "growth of the base overpotential per cycle, mV", 0.0, 100.0
    ),
    "arcing_from_cycle": Param(
        5, int, "first cycle (0-based) whose half-cycles are arcing; earlier: peaking", 0, 500
    ),
    "flat_cycles": Param(
        0, int, "cycles just before arcing_from_cycle whose half-cycles are flat", 0, 500
    ),
    "peak_amplitude": Param(0.5, float, "relative height A of the early maximum", 0.0, 5.0),
    "arc_amplitude": Param(0.3, float, "relative rise A of an arcing profile", 0.0, 5.0),
    "nuc_overshoot_mV": Param(10.0, float, "nucleation overshoot at each start, mV", 0.0, 500.0),
    "noise_mV": Param(0.5, float, "white potential noise (× noise_scale), mV", 0.0, 50.0),
    "noise_scale": Param(1.0, float, "multiplies the noise", 0.0, 100.0),
    "n_collapses": Param(2, int, "planted soft-short collapses", 0, 100),
    "n_noise_bursts": Param(1, int, "planted noise bursts", 0, 100),
    "gitt": Param(False, bool, "append a GITT block (plating pulses, then stripping pulses)"),
    "gitt_pulses": Param(8, int, "GITT pulses per direction", 1, 200),
    "gitt_pulse_s": Param(15.0, float, "GITT pulse length, s", 1.0, 600.0),
    "gitt_rest_s": Param(180.0, float, "GITT rest length, s", 5.0, 7200.0),
    "R_ohm": Param(20.0, float, "ohmic resistance of the cell, Ω (GITT IR drop)", 0.0, 1e5),
    "gitt_eta_conc_mV": Param(
        5.0, float, "concentration overpotential built during a GITT pulse, mV", 0.0, 500.0
    ),
    "gitt_eta_qe_mV": Param(
        1.0, float, "quasi-equilibrium overpotential left after a GITT rest, mV", 0.0, 100.0
    ),
    "D_cm2_s": Param(3e-6, float, "electrolyte salt diffusivity, cm² s⁻¹", 0.0, 1.0, True),
    "c0_mol_L": Param(1.0, float, "electrolyte salt concentration, mol L⁻¹", 0.0, 20.0, True),
    "t_plus": Param(0.4, float, "cation transference number", 0.0, 0.99),
}


def _profile(tau: np.ndarray, shape: str, amp: float) -> np.ndarray:
    if shape == "peaking":
        return 1.0 + amp * np.exp(-tau / _PEAK_TAU)
    if shape == "arcing":
        return 1.0 + amp * tau**2
    return np.ones_like(tau)


def _window_median(tau, y, lo, hi) -> float:
    m = (tau >= lo) & (tau <= hi)
    return float(np.median(y[m]))


def make_symmetric_cell(*, seed: int = 0, **params: Any) -> dict:
    """Build a simulated Li‖Li cycling record and its truth in memory.

    Parameters
    ----------
    seed : int
        Random seed.
    **params
        Scenario parameters (:data:`PARAMETERS`).

    Returns
    -------
    dict
        ``echem`` (DataFrame: ``time_s``, ``potential_V``, ``current_A``, ``step``,
        ``cycle``), ``truth`` (dict), ``parameters``.

    Examples
    --------
    >>> sim = make_symmetric_cell(seed=1, n_cycles=2, half_cycle_s=600, n_collapses=0)
    >>> [h["shape_class"] for h in sim["truth"]["symmetric_cell"]["half_cycles"]]
    ['peaking', 'peaking', 'peaking', 'peaking']
    """
    p = resolve_params(PARAMETERS, params)
    rng = np.random.default_rng(seed)
    dt = p["dt_s"]
    dur = p["half_cycle_s"]
    current = p["current_mA"] * 1e-3
    sd = p["noise_mV"] * p["noise_scale"] * 1e-3
    n_half = 2 * p["n_cycles"]
    # soft shorts: distinct half-cycles, times within τ ∈ [0.3, 0.85]
    n_events = p["n_collapses"] + p["n_noise_bursts"]
    if n_events > n_half:
        from platescope._errors import InputError

        raise InputError(
            None,
            f"{n_events} soft shorts planted in {n_half} half-cycles: at most one per half-cycle",
            "lower n_collapses + n_noise_bursts or raise n_cycles",
        )
    hosts = rng.choice(n_half, size=n_events, replace=False)
    kinds = ["collapse"] * p["n_collapses"] + ["noise"] * p["n_noise_bursts"]
    planted = {int(h): k for h, k in zip(hosts, kinds, strict=True)}

    t_parts, e_parts, i_parts, step_parts, cyc_parts = [], [], [], [], []
    half_truth, short_truth = [], []
    t0 = 0.0
    n_per = int(round(dur / dt))
    for h in range(n_half):
        cycle = h // 2
        plating = h % 2 == 0
        sign = -1.0 if plating else 1.0
        if cycle >= p["arcing_from_cycle"]:
            shape = "arcing"
        elif cycle >= p["arcing_from_cycle"] - p["flat_cycles"]:
            shape = "flat"
        else:
            shape = "peaking"
        base = (p["eta0_mV"] + p["eta_growth_mV_per_cycle"] * cycle) * 1e-3
        amp_param = {"arcing": p["arc_amplitude"], "peaking": p["peak_amplitude"]}.get(shape, 0.0)
        amp = amp_param * rng.uniform(0.8, 1.2)
        tt = np.arange(n_per + 1) * dt
        tau = tt / tt[-1]
        clean = base * _profile(tau, shape, amp) + p["nuc_overshoot_mV"] * 1e-3 * np.exp(
            -tt / _NUC_TAU_S
        )
        noisy = clean + rng.normal(0.0, sd, tt.size)
        if h in planted:
            kind = planted[h]
            start = rng.uniform(0.3, 0.85) * dur
            length = rng.uniform(40.0, 120.0) if kind == "collapse" else _BURST_S
            m = (tt >= start) & (tt < start + length)
            if kind == "collapse":
                noisy[m] = _COLLAPSE_V + rng.normal(0.0, sd, int(m.sum()))
            else:
                noisy[m] += rng.normal(0.0, _BURST_SD_V, int(m.sum()))
            first = float(tt[m][0])
            short_truth.append(
                {
                    "half_cycle": h,
                    "cycle": cycle,
                    "kind": kind,
                    "t_start_s": t0 + first,
                    "t_end_s": t0 + float(tt[m][-1]),
                }
            )
        plateau = _window_median(tau, clean, 0.3, 0.7)
        nuc = (tau >= 0.0) & (tau <= 0.1)
        half_truth.append(
            {
                "half_cycle": h,
                "cycle": cycle,
                "direction": "plating" if plating else "stripping",
                "shape_class": shape,
                "shape_amplitude": float(amp),
                "t_start_s": t0,
                "eta_plateau_V": plateau,
                "eta_nuc_overshoot_V": float(np.max(clean[nuc]) - plateau),
                "eta_end_V": _window_median(tau, clean, 0.95, 1.0),
            }
        )
        t_parts.append(t0 + tt)
        e_parts.append(sign * noisy)
        i_parts.append(np.full(tt.size, sign * current))
        step_parts.append(np.full(tt.size, 1 if plating else 2))
        cyc_parts.append(np.full(tt.size, cycle))
        t0 += float(tt[-1]) + dt
        if p["rest_s"] > 0:
            tr = np.arange(int(round(p["rest_s"] / dt))) * dt
            e_last = float(noisy[-1])
            t_parts.append(t0 + tr)
            e_parts.append(sign * e_last * np.exp(-tr / 5.0) + rng.normal(0.0, sd, tr.size))
            i_parts.append(np.zeros(tr.size))
            step_parts.append(np.zeros(tr.size, dtype=int))
            cyc_parts.append(np.full(tr.size, cycle))
            t0 += float(tr[-1]) + dt if tr.size else 0.0
    gitt_truth = []
    if p["gitt"]:
        ir = p["R_ohm"] * current
        conc = p["gitt_eta_conc_mV"] * 1e-3
        qe = p["gitt_eta_qe_mV"] * 1e-3
        tp = np.arange(int(round(p["gitt_pulse_s"] / _GITT_DT_S)) + 1) * _GITT_DT_S
        tr = (np.arange(int(round(p["gitt_rest_s"] / _GITT_DT_S))) + 1) * _GITT_DT_S
        cycle = p["n_cycles"]
        for sign in (-1.0, 1.0):
            for _ in range(p["gitt_pulses"]):
                c_end = conc * (1.0 - np.exp(-tp[-1] / _GITT_TAU_S))
                pulse = ir + qe + conc * (1.0 - np.exp(-tp / _GITT_TAU_S))
                rest = qe + c_end * np.exp(-tr / _GITT_TAU_S)
                gitt_truth.append(
                    {
                        "direction": "cathodic" if sign < 0 else "anodic",
                        "t_start_s": t0,
                        "ir_drop_V": float(ir),
                        "R_ohm": float(p["R_ohm"]),
                        "relaxation_V": float(c_end - rest[-1] + qe),
                        "eta_quasi_eq_V": float(rest[-1]),
                    }
                )
                t_parts += [t0 + tp, t0 + tp[-1] + tr]
                e_parts += [
                    sign * pulse + rng.normal(0.0, sd, tp.size),
                    sign * rest + rng.normal(0.0, sd, tr.size),
                ]
                i_parts += [np.full(tp.size, sign * current), np.zeros(tr.size)]
                step_parts += [np.full(tp.size, 3), np.zeros(tr.size, dtype=int)]
                cyc_parts += [np.full(tp.size, cycle), np.full(tr.size, cycle)]
                t0 = t0 + tp[-1] + tr[-1] + _GITT_DT_S
    echem = pd.DataFrame(
        {
            "time_s": np.concatenate(t_parts),
            "potential_V": np.concatenate(e_parts),
            "current_A": np.concatenate(i_parts),
            "step": np.concatenate(step_parts).astype(np.int64),
            "cycle": np.concatenate(cyc_parts).astype(np.int64),
        }
    )
    echem.attrs["electrode_area_cm2"] = p["area_cm2"]
    from platescope.models._sand import sand_limit

    j = p["current_mA"] / p["area_cm2"]
    sand = sand_limit(
        j, D_cm2_s=p["D_cm2_s"], c0_mol_L=p["c0_mol_L"], t_plus=p["t_plus"], step_duration_s=dur
    )
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": p,
        "definitions": (
            "|η| = cell voltage × sign(current); plateau: median of the noise-free |η| over "
            "τ ∈ [0.3, 0.7]; overshoot: max of the noise-free |η| over τ ∈ [0, 0.1] minus "
            "the plateau; end: median over τ ∈ [0.95, 1]; shape class as planted; soft "
            "shorts: planted collapse/noise windows; GITT: IR drop = R_ohm·|I| (the instant "
            "jump), relaxation = the concentration overpotential at the pulse end minus what "
            "is left at the rest end, quasi-equilibrium = |η| at the rest end"
        ),
        "symmetric_cell": {
            "n_half_cycles": n_half,
            "half_cycles": half_truth,
            "soft_shorts": sorted(short_truth, key=lambda s: s["t_start_s"]),
            "gitt": gitt_truth,
            "sand": sand,
        },
    }
    return {"echem": echem, "truth": truth, "parameters": p}


@register(SCENARIO, PARAMETERS)
def symmetric_cell(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated Li‖Li cycling record, its settings file and truth to ``out``.

    Files: ``echem.mpt`` (EC-Lab text export of a GCPL run), ``cycling.mps`` (EC-Lab
    settings: set current, half-cycle and rest durations, cycle count),
    ``experiment.toml`` (``[echem]`` path, ``[cell]`` current_mA and settings,
    ``[electrode]`` area_cm2, ``[electrolyte]`` D_cm2_s, c0_mol_L, t_plus) and
    ``truth/truth.json``. See :func:`make_symmetric_cell` for the model.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (:data:`PARAMETERS`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = symmetric_cell(tempfile.mkdtemp(), seed=3)  # doctest: +SKIP
    """
    from platescope.io._echem_eclab_mps import write_eclab_mps
    from platescope.io._echem_eclab_text import write_eclab_mpt

    p = resolve_params(PARAMETERS, params)
    out = prepare_output_dir(out, SCENARIO)
    sim = make_symmetric_cell(seed=seed, **params)
    write_eclab_mpt(
        out / "echem.mpt",
        sim["echem"],
        t0_local=datetime(2026, 12, 6, 9, 0, 0),
        technique="Galvanostatic Cycling with Potential Limitation",
    )
    seqs = [
        {
            "current_mA": -p["current_mA"],
            "duration_s": p["half_cycle_s"],
            "rest_s": p["rest_s"],
            "goto_Ns": 0,
            "n_cycles": 0,
        },
        {
            "current_mA": p["current_mA"],
            "duration_s": p["half_cycle_s"],
            "rest_s": p["rest_s"],
            "goto_Ns": 0,
            "n_cycles": p["n_cycles"] - 1,
        },
    ]
    techniques = [{"sequences": seqs}]
    if p["gitt"]:
        gitt = [
            {
                "current_mA": s * p["current_mA"],
                "duration_s": p["gitt_pulse_s"],
                "rest_s": p["gitt_rest_s"],
                "goto_Ns": k,
                "n_cycles": p["gitt_pulses"] - 1,
            }
            for k, s in enumerate((-1.0, 1.0))
        ]
        techniques.append({"sequences": gitt})
    write_eclab_mps(out / "cycling.mps", techniques)
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, ["echem.mpt", "cycling.mps"])
    write_json_atomic(out / "truth" / "truth.json", truth)
    sections = {
        "electrode": {"area_cm2": p["area_cm2"]},
        "echem": {"path": "echem.mpt"},
        "cell": {"current_mA": p["current_mA"], "settings": "cycling.mps"},
        "electrolyte": {
            "D_cm2_s": p["D_cm2_s"],
            "c0_mol_L": p["c0_mol_L"],
            "t_plus": p["t_plus"],
        },
    }
    return write_experiment_toml(out, SCENARIO, seed, sections)
