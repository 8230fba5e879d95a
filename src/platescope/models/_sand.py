"""Sand's time and Sand's capacity of a liquid electrolyte (SCIENCE.md §4).

Under a constant current density ``j`` the salt concentration at the electrode falls
until it reaches zero at Sand's time

    t_Sand = π D (z c₀ F)² / (4 (j (1 − t₊))²),

after which deposition becomes transport-limited and Li grows as whiskers/dendrites
from their tips instead of mossy (Bai et al., as reviewed in the in situ microscopy
review). The charge passed by then is Sand's capacity ``Q_Sand = j · t_Sand``
= π D (z c₀ F)² / (4 j (1 − t₊)²): a half-cycle that passes more charge per area than
``Q_Sand`` crosses into the tip-growth regime.

Worked by hand (D = 3 × 10⁻⁶ cm² s⁻¹, c₀ = 1 mol L⁻¹ = 10⁻³ mol cm⁻³, t₊ = 0.4, z = 1,
j = 10 mA cm⁻² = 0.01 A cm⁻²): z c₀ F = 96.485 C cm⁻³, squared 9309.4; πD = 9.4248 ×
10⁻⁶; numerator 0.087739; denominator 4 (0.01 × 0.6)² = 1.44 × 10⁻⁴ → t_Sand = 609.3 s,
Q_Sand = 0.01 × 609.3 = 6.093 C cm⁻² = 1.6925 mAh cm⁻².

The time itself is :func:`platescope.models.sand_time_liquid` (one implementation);
this module adds the capacity and a summary for a run.
"""

from __future__ import annotations

import numpy as np

from platescope.models._stripping import sand_time_liquid

__all__ = ["sand_capacity_mAh_cm2", "sand_limit"]


def sand_capacity_mAh_cm2(j_mA_cm2, *, D_cm2_s: float, c0_mol_L: float, t_plus: float, z=1):
    """Sand's capacity Q_Sand = j · t_Sand, mAh cm⁻².

    Parameters
    ----------
    j_mA_cm2 : float or array_like
        Current density, mA cm⁻² (sign ignored).
    D_cm2_s : float
        Ambipolar salt diffusivity, cm² s⁻¹.
    c0_mol_L : float
        Bulk salt concentration, mol L⁻¹.
    t_plus : float
        Cation transference number, in [0, 1).
    z : int
        Cation charge number.

    Returns
    -------
    float or ndarray
        Sand's capacity, mAh cm⁻².

    Examples
    --------
    >>> round(float(sand_capacity_mAh_cm2(10.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4)), 4)
    1.6925
    """
    t = sand_time_liquid(j_mA_cm2, D_cm2_s=D_cm2_s, c0_mol_L=c0_mol_L, t_plus=t_plus, z=z)
    return np.abs(np.asarray(j_mA_cm2, dtype=float)) * t / 3600.0


def sand_limit(
    j_mA_cm2: float,
    *,
    D_cm2_s: float,
    c0_mol_L: float,
    t_plus: float,
    z: int = 1,
    step_duration_s: float | None = None,
) -> dict:
    """Sand's time and capacity for one current density, and whether a step exceeds it.

    Parameters
    ----------
    j_mA_cm2 : float
        Current density, mA cm⁻².
    D_cm2_s, c0_mol_L, t_plus, z
        Electrolyte: diffusivity (cm² s⁻¹), concentration (mol L⁻¹), cation
        transference number, charge number.
    step_duration_s : float, optional
        Length of a constant-current half-cycle, s.

    Returns
    -------
    dict
        ``t_sand_s`` (s), ``Q_sand_mAh_cm2``, the inputs, and when ``step_duration_s`` is
        given ``step_over_sand`` (duration / t_Sand) and ``exceeds_sand`` (bool).

    Examples
    --------
    >>> r = sand_limit(10.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4, step_duration_s=1800)
    >>> round(r["t_sand_s"], 1), r["exceeds_sand"]
    (609.3, True)
    """
    t = float(sand_time_liquid(j_mA_cm2, D_cm2_s=D_cm2_s, c0_mol_L=c0_mol_L, t_plus=t_plus, z=z))
    out = {
        "j_mA_cm2": float(abs(j_mA_cm2)),
        "D_cm2_s": float(D_cm2_s),
        "c0_mol_L": float(c0_mol_L),
        "t_plus": float(t_plus),
        "z": int(z),
        "t_sand_s": t,
        "Q_sand_mAh_cm2": float(abs(j_mA_cm2)) * t / 3600.0,
    }
    if step_duration_s is not None:
        out["step_over_sand"] = float(step_duration_s) / t
        out["exceeds_sand"] = bool(step_duration_s > t)
    return out
