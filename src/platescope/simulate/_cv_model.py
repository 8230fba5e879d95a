"""Cyclic-voltammetry forward model of Li plating/stripping on a thin Au film (SECCM cell).

Pure functions (arrays in, arrays out). The potential is a triangle wave that starts
at its upper vertex ``E_hi`` and sweeps down to ``E_lo`` and back at ``scan_V_s``; a
cycle is one down + up sweep (its boundaries are the upper vertices). The faradaic
current is a sum of *processes*, each a fixed shape in potential on one sweep
direction, scaled per cycle to a planted charge:

=============  ======  ======  ============================================================
process        sign    sweep   shape (potential, V vs Li/Li⁺)
=============  ======  ======  ============================================================
``sei``        cath.   down    Gaussian at 0.75 (sd 0.12): SEI formation
``alloy``      cath.   down    Gaussians at 0.20 (sd 0.035) and 0.08 (sd 0.03): Li–Au alloy
``plate``      cath.   both    down: ramp below the onset −0.13 ∝ (−0.13 − E); up: ramp
                               continuing from the vertex to the crossover −0.02 V
``strip``      anod.   up      Gaussian at 0.17 (sd 0.045): Li metal stripping
``dealloy``    anod.   up      Gaussians at 0.32 (sd 0.04) and 0.82 (sd 0.06): dealloying
=============  ======  ======  ============================================================

Every shape is normalised so its integral over one cycle is 1 C per C planted; the
double-layer current ``C_dl·dE/dt`` is added on top (equal and opposite charge on the
two sweeps, no optical signal).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ANODIC",
    "CATHODIC",
    "PROCESSES",
    "cycle_process_charges",
    "process_shapes",
    "triangle_potential",
]

PROCESSES = ("sei", "alloy", "plate", "strip", "dealloy")
CATHODIC = ("sei", "alloy", "plate")
ANODIC = ("strip", "dealloy")
E_ONSET_PLATE_V = -0.13
E_CROSSOVER_V = -0.02
_CE_REF_CYCLE = 10  # the cycle that has CE_last
_GAUSS = {
    "sei": ((0.75, 0.12, 1.0),),
    "alloy": ((0.20, 0.035, 0.5), (0.08, 0.03, 0.5)),
    "strip": ((0.17, 0.045, 1.0),),
    "dealloy": ((0.32, 0.04, 0.45), (0.82, 0.06, 0.55)),
}


def triangle_potential(t_s, *, E_hi: float, E_lo: float, scan_V_s: float):
    """Potential (V) and sweep direction (−1 down, +1 up) of the triangle wave at ``t_s``.

    Examples
    --------
    >>> e, d = triangle_potential([0.0, 8.7, 17.4, 26.1], E_hi=1.47, E_lo=-0.27, scan_V_s=0.1)
    >>> np.round(e, 3).tolist(), d.tolist()
    ([1.47, 0.6, -0.27, 0.6], [-1, -1, 1, 1])
    """
    t = np.asarray(t_s, dtype=float)
    half = (E_hi - E_lo) / scan_V_s
    ph = np.mod(t, 2 * half)
    down = ph < half
    e = np.where(down, E_hi - scan_V_s * ph, E_lo + scan_V_s * (ph - half))
    return e, np.where(down, -1, 1)


def process_shapes(e, direction, *, E_lo: float) -> dict[str, np.ndarray]:
    """Unnormalised current shapes (≥ 0, arbitrary units) of each process."""
    e = np.asarray(e, dtype=float)
    down = np.asarray(direction) < 0
    out = {}
    for name, peaks in _GAUSS.items():
        g = sum(w * np.exp(-0.5 * ((e - m) / s) ** 2) / s for m, s, w in peaks)
        sweep = down if name in CATHODIC else ~down
        out[name] = np.where(sweep, g, 0.0)
    at_vertex = E_ONSET_PLATE_V - E_lo
    up_ramp = at_vertex * np.clip((E_CROSSOVER_V - e) / (E_CROSSOVER_V - E_lo), 0.0, None)
    out["plate"] = np.where(down, np.clip(E_ONSET_PLATE_V - e, 0.0, None), up_ramp)
    return out


def cycle_process_charges(
    n_cycles: int,
    *,
    Q_c1_C: float,
    Q_c_inf_frac: float,
    tau_Qc: float,
    CE_first: float,
    CE_last: float,
    tau_CE: float,
    sei_frac_first: float,
    tau_sei: float,
    alloy_frac: float,
    dealloy_frac: float,
) -> dict[str, np.ndarray]:
    """Planted faradaic charge (C) of every process in every cycle.

    Q_c,n = Q_c1·(f∞ + (1 − f∞)·e^{−(n−1)/τ_Q}); CE_n rises from ``CE_first`` (cycle 1)
    as 1 − e^{−(n−1)/τ_CE}, scaled so that cycle 10 has ``CE_last`` (the curve does not
    depend on how many cycles are simulated); SEI takes a
    fraction ``sei_frac_first``·e^{−(n−1)/τ_sei} of Q_c, alloying ``alloy_frac`` of
    the rest and plating the remainder; dealloying returns ``dealloy_frac`` of the
    alloy charge and stripping the remainder of Q_a = CE_n·Q_c,n.

    Examples
    --------
    >>> q = cycle_process_charges(10, Q_c1_C=1.0, Q_c_inf_frac=0.4, tau_Qc=1.5,
    ...     CE_first=0.25, CE_last=0.85, tau_CE=3.0, sei_frac_first=0.45, tau_sei=0.8,
    ...     alloy_frac=0.3, dealloy_frac=0.9)
    >>> ce = (q["strip"] + q["dealloy"]) / (q["sei"] + q["alloy"] + q["plate"])
    >>> round(float(ce[0]), 3), round(float(ce[-1]), 3)
    (0.25, 0.85)
    """
    n = np.arange(n_cycles, dtype=float)
    q_c = Q_c1_C * (Q_c_inf_frac + (1.0 - Q_c_inf_frac) * np.exp(-n / tau_Qc))
    ramp = (1.0 - np.exp(-n / tau_CE)) / (1.0 - np.exp(-(_CE_REF_CYCLE - 1) / tau_CE))
    ce = CE_first + (CE_last - CE_first) * ramp
    sei = q_c * sei_frac_first * np.exp(-n / tau_sei)
    alloy = alloy_frac * (q_c - sei)
    plate = q_c - sei - alloy
    dealloy = np.minimum(dealloy_frac * alloy, ce * q_c)
    strip = ce * q_c - dealloy
    if np.any(strip > plate):
        raise ValueError("the planted CE needs more stripping than plating; lower CE_last")
    return {"sei": sei, "alloy": alloy, "plate": plate, "strip": strip, "dealloy": dealloy}
