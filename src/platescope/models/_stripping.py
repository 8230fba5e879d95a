"""Stripping limits of Li and Li-alloy anodes from the Li diffusivity (SCIENCE.md §3, §4).

Three relations, all vectorised over their array arguments:

**Critical stripping current (defect-relaxation scaling).** Siniscalchi et al.
(ACS Energy Lett. 2022, 7, 3593) quote the model of Schmalzried and Janek as
``i_crit ∝ √D`` and state that Li self-diffusivities of 10⁻¹¹–10⁻¹⁰ cm² s⁻¹ put
``i_crit`` at 50–200 µA cm⁻² (room temperature, no stack pressure). The paper gives the
proportionality and that band, **not** a prefactor from first principles, so
:func:`critical_stripping_current` implements exactly an anchored proportionality,

    i_crit = i_ref · √(D / D_ref),   default anchor (D_ref, i_ref) = (10⁻¹¹ cm² s⁻¹, 50 µA cm⁻²),

i.e. ``K = i_ref/√D_ref = 1.58 × 10⁷ µA cm⁻² (cm² s⁻¹)^-1/2``. The band's two ends are not
both on one √D line (√10 = 3.16 but 200/50 = 4). Anchored at its lower end, the √D law
gives 158 µA cm⁻² at 10⁻¹⁰ and exactly 200 µA cm⁻² at D = 1.6 × 10⁻¹⁰ cm² s⁻¹ — the
paper's own D*(Li) — so this anchor keeps every D the paper discusses
(1.4 × 10⁻¹¹ … 1.6 × 10⁻¹⁰) inside the quoted band. The alternative anchor at the
band's top (10⁻¹⁰ ↔ 200) gives a 26 % larger constant; that spread is returned as the
model interval (``i_crit_model_interval_uA_cm2``), separate from the propagated 1σ
error of D. Assumptions: vacancy mechanism, flat interface, room temperature, no
external pressure, no creep, the prefactor (vacancy relaxation time, critical vacancy
supersaturation) the same for Li and Li alloys.

**Diffusion-limited stripping from a solid (Sand form).** Removing Li at a constant
current density ``j`` from a semi-infinite solid with Li concentration ``c`` and Li
diffusivity ``D`` empties the interface after

    t* = π D (z F c)² / (4 j²),   and the capacity stripped by then is Q* = j t* = π D (zFc)²/(4j),

with ``c = x_Li / V_M`` (mol of Li per cm³). Li metal: ``V_M = 13.0 cm³ mol⁻¹``,
c = 0.0769 mol cm⁻³. Li–Mg (β, bcc substitutional solid solution): we take the atomic
volume equal to Li's (13.0 cm³ per mol of atoms), because the paper notes that Li and Mg
Goldschmidt radii differ by only a few per cent, so ``c = (1 − x_Mg)/13.0`` — 0.0692
mol cm⁻³ for Li₀.₉Mg₀.₁ — good to a few per cent (see :data:`LI_MG_ATOMIC_VOLUME_CM3_MOL`).

**Sand's time for a liquid electrolyte** (review, SCIENCE.md §4):
``t_Sand = π D (z c₀ F)² / (4 (j (1 − t₊))²)``.

Examples
--------
>>> r = critical_stripping_current(1.6e-10, D_err_cm2_s=0.1e-10)
>>> round(float(r["i_crit_uA_cm2"]), 1), round(float(r["i_crit_err_uA_cm2"]), 2)
(200.0, 6.25)
>>> round(float(sand_capacity_solid(1.0, D_cm2_s=1.6e-10)), 2)  # mAh cm⁻² at 1 mA cm⁻²
1.92
"""

from __future__ import annotations

import numpy as np

from platescope.models._faraday import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL

LI_MG_ATOMIC_VOLUME_CM3_MOL = LI_MOLAR_VOLUME_CM3_MOL
"""Volume per mole of atoms of bcc β-Li–Mg used here, cm³ mol⁻¹ — taken equal to Li's.

Source: the Li–Mg tracer paper's remark that the Goldschmidt radii of Li and Mg differ by
only a few per cent (so the substitutional β phase has nearly Li's atomic volume); the
resulting Li concentration is uncertain by a few per cent, which enters Sand's
capacity squared.
"""

I_CRIT_ANCHOR_D_CM2_S = 1e-11
"""Diffusivity of the default i_crit anchor (lower end of the paper's band), cm² s⁻¹."""

I_CRIT_ANCHOR_UA_CM2 = 50.0
"""Critical current at the default anchor, µA cm⁻² (Siniscalchi et al. 2022, ref. 3)."""

I_CRIT_BAND_D_CM2_S = (1e-11, 1e-10)
"""D range the paper maps onto its i_crit band, cm² s⁻¹."""

I_CRIT_BAND_UA_CM2 = (50.0, 200.0)
"""The paper's i_crit band, µA cm⁻²."""

_MAH_PER_C = 1.0 / 3.6


def li_concentration_mol_cm3(
    x_mg: float = 0.0, *, atomic_volume_cm3_mol: float = LI_MG_ATOMIC_VOLUME_CM3_MOL
) -> float:
    """Li concentration of Li metal or a β-Li–Mg alloy, c = (1 − x_Mg)/V_atom.

    Parameters
    ----------
    x_mg : float
        Mg atomic fraction (0 for Li metal; 0.1 for Li₀.₉Mg₀.₁).
    atomic_volume_cm3_mol : float
        Volume per mole of atoms, cm³ mol⁻¹ (default 13.0, Li's molar volume).

    Returns
    -------
    float
        Li concentration, mol cm⁻³.

    Examples
    --------
    >>> round(li_concentration_mol_cm3(), 4), round(li_concentration_mol_cm3(0.1), 4)
    (0.0769, 0.0692)
    """
    if not 0.0 <= x_mg < 1.0:
        raise ValueError(f"x_mg must be in [0, 1), got {x_mg}")
    if not atomic_volume_cm3_mol > 0:
        raise ValueError("atomic_volume_cm3_mol must be positive")
    return (1.0 - float(x_mg)) / float(atomic_volume_cm3_mol)


def critical_stripping_current(
    D_cm2_s,
    *,
    D_err_cm2_s=None,
    anchor_D_cm2_s: float = I_CRIT_ANCHOR_D_CM2_S,
    anchor_i_uA_cm2: float = I_CRIT_ANCHOR_UA_CM2,
) -> dict:
    """Critical stripping current from the Li diffusivity, i_crit = i_ref·√(D/D_ref).

    The defect-relaxation scaling ``i_crit ∝ √D`` anchored at one point of the band the
    paper quotes (see the module docstring for why the default anchor is the band's lower
    end and what the alternative anchor gives).

    Parameters
    ----------
    D_cm2_s : float or array_like
        Li (tracer or intrinsic) diffusivity in the anode, cm² s⁻¹ (> 0).
    D_err_cm2_s : float or array_like, optional
        Standard (1σ) error of D, cm² s⁻¹; propagated as σ_i/i = σ_D/(2D).
    anchor_D_cm2_s, anchor_i_uA_cm2 : float
        The anchor point (D_ref in cm² s⁻¹, i_ref in µA cm⁻²).

    Returns
    -------
    dict
        ``i_crit_uA_cm2`` (float or ndarray, µA cm⁻²), ``i_crit_err_uA_cm2`` (1σ from D,
        or None), ``i_crit_model_interval_uA_cm2`` ([low, high]: the same D through the
        √D law anchored at the band's lower and upper end), ``constant`` {value, units,
        anchor_D_cm2_s, anchor_i_uA_cm2, source}, ``assumptions`` (list of str).

    Examples
    --------
    >>> r = critical_stripping_current([1e-11, 2.4e-11, 1e-10])
    >>> np.round(r["i_crit_uA_cm2"], 1).tolist()
    [50.0, 77.5, 158.1]
    """
    D = np.asarray(D_cm2_s, dtype=float)
    if not np.all(np.isfinite(D)) or np.any(D <= 0):
        raise ValueError("D_cm2_s must be finite and positive")
    if not (anchor_D_cm2_s > 0 and anchor_i_uA_cm2 > 0):
        raise ValueError("the anchor must be positive")
    K = float(anchor_i_uA_cm2) / np.sqrt(float(anchor_D_cm2_s))
    i = K * np.sqrt(D)
    err = None
    if D_err_cm2_s is not None:
        De = np.asarray(D_err_cm2_s, dtype=float)
        if np.any(De < 0):
            raise ValueError("D_err_cm2_s must be non-negative")
        err = i * De / (2.0 * D)
        err = float(err) if np.ndim(err) == 0 else err
    k_lo = I_CRIT_BAND_UA_CM2[0] / np.sqrt(I_CRIT_BAND_D_CM2_S[0])
    k_hi = I_CRIT_BAND_UA_CM2[1] / np.sqrt(I_CRIT_BAND_D_CM2_S[1])
    interval = [k_lo * np.sqrt(D), k_hi * np.sqrt(D)]
    if np.ndim(i) == 0:
        i = float(i)
        interval = [float(v) for v in interval]
    return {
        "i_crit_uA_cm2": i,
        "i_crit_err_uA_cm2": err,
        "i_crit_model_interval_uA_cm2": interval,
        "constant": {
            "value": float(K),
            "units": "µA cm⁻² (cm² s⁻¹)^-1/2",
            "anchor_D_cm2_s": float(anchor_D_cm2_s),
            "anchor_i_uA_cm2": float(anchor_i_uA_cm2),
            "source": "Siniscalchi et al., ACS Energy Lett. 2022, 7, 3593: i_crit ∝ √D "
            "(Schmalzried & Janek defect relaxation) with D = 1e-11–1e-10 cm²/s ↔ 50–200 "
            "µA/cm²; anchored at the band's lower end",
        },
        "assumptions": [
            "defect-relaxation model: i_crit ∝ √D (vacancy mechanism, flat interface)",
            "room temperature, zero external pressure, no creep",
            "prefactor taken from the band the paper quotes, not derived from first "
            "principles; the same prefactor for Li metal and Li alloys",
        ],
    }


def _check_positive(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and positive")
    return arr


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def sand_time_solid(
    j_mA_cm2,
    *,
    D_cm2_s,
    c_mol_cm3: float = 1.0 / LI_MOLAR_VOLUME_CM3_MOL,
    z: int = 1,
):
    """Time to empty the interface of a solid stripped at constant current, t* = πD(zFc)²/(4j²).

    Parameters
    ----------
    j_mA_cm2 : float or array_like
        Stripping current density, mA cm⁻² (magnitude; sign ignored).
    D_cm2_s : float or array_like
        Li diffusivity in the solid, cm² s⁻¹.
    c_mol_cm3 : float
        Li concentration in the solid, mol cm⁻³ (default 1/13.0, Li metal;
        see :func:`li_concentration_mol_cm3`).
    z : int
        Charge number (1 for Li).

    Returns
    -------
    float or ndarray
        t* in s.

    Examples
    --------
    >>> round(sand_time_solid(1.0, D_cm2_s=1.6e-10))  # s
    6922
    """
    j = _check_positive("j_mA_cm2", np.abs(np.asarray(j_mA_cm2, dtype=float))) * 1e-3
    D = _check_positive("D_cm2_s", D_cm2_s)
    zfc = z * FARADAY_C_MOL * float(c_mol_cm3)
    return _out(np.pi * D * zfc**2 / (4.0 * j**2))


def sand_capacity_solid(
    j_mA_cm2,
    *,
    D_cm2_s,
    c_mol_cm3: float = 1.0 / LI_MOLAR_VOLUME_CM3_MOL,
    z: int = 1,
):
    """Capacity stripped before the interface empties, Q* = j·t* = πD(zFc)²/(4j).

    Parameters
    ----------
    j_mA_cm2 : float or array_like
        Stripping current density, mA cm⁻².
    D_cm2_s : float or array_like
        Li diffusivity in the solid, cm² s⁻¹.
    c_mol_cm3 : float
        Li concentration in the solid, mol cm⁻³.
    z : int
        Charge number.

    Returns
    -------
    float or ndarray
        Q* in mAh cm⁻².

    Examples
    --------
    >>> c = li_concentration_mol_cm3(0.1)
    >>> round(sand_capacity_solid(0.1, D_cm2_s=2.4e-11, c_mol_cm3=c), 2)  # mAh cm⁻²
    2.34
    """
    j = np.abs(np.asarray(j_mA_cm2, dtype=float))
    t = sand_time_solid(j, D_cm2_s=D_cm2_s, c_mol_cm3=c_mol_cm3, z=z)
    return _out(np.asarray(t) * j * 1e-3 * _MAH_PER_C)


def sand_time_liquid(
    j_mA_cm2,
    *,
    D_cm2_s,
    c0_mol_L,
    t_plus: float,
    z: int = 1,
):
    """Sand's time of a binary liquid electrolyte, t = πD(z c₀ F)²/(4 (j (1 − t₊))²).

    Parameters
    ----------
    j_mA_cm2 : float or array_like
        Current density, mA cm⁻².
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
        Sand's time in s.

    Examples
    --------
    >>> round(sand_time_liquid(10.0, D_cm2_s=3e-6, c0_mol_L=1.0, t_plus=0.4))  # s
    609
    """
    if not 0.0 <= t_plus < 1.0:
        raise ValueError(f"t_plus must be in [0, 1), got {t_plus}")
    j = _check_positive("j_mA_cm2", np.abs(np.asarray(j_mA_cm2, dtype=float))) * 1e-3
    D = _check_positive("D_cm2_s", D_cm2_s)
    c0 = float(_check_positive("c0_mol_L", c0_mol_L)) * 1e-3  # mol cm⁻³
    return _out(np.pi * D * (z * c0 * FARADAY_C_MOL) ** 2 / (4.0 * (j * (1.0 - t_plus)) ** 2))
