"""Faraday's law conversions between charge, amount and volume of deposited metal."""

from __future__ import annotations

import numpy as np

FARADAY_C_MOL = 96485.33212
"""Faraday constant, C mol⁻¹."""

LI_MOLAR_VOLUME_CM3_MOL = 13.0
"""Molar volume of Li metal, cm³ mol⁻¹ (SCIENCE.md §2)."""

_UM3_PER_CM3 = 1e12


def charge_to_volume_um3(charge_C, *, molar_volume_cm3_mol=LI_MOLAR_VOLUME_CM3_MOL, n=1):
    """Volume of metal deposited by a charge, V = V_M·|Q|/(nF).

    Parameters
    ----------
    charge_C : float or array_like
        Charge in coulombs (sign ignored).
    molar_volume_cm3_mol : float
        Molar volume in cm³ mol⁻¹ (Li: 13.0).
    n : int
        Electrons per ion.

    Returns
    -------
    float or ndarray
        Volume in µm³.

    Examples
    --------
    >>> round(float(charge_to_volume_um3(FARADAY_C_MOL * 1e-15)), 4)  # 1 fmol of Li, µm³
    0.013
    """
    q = np.abs(np.asarray(charge_C, dtype=float))
    return q * molar_volume_cm3_mol / (n * FARADAY_C_MOL) * _UM3_PER_CM3


def sphere_volume_to_fmol(diameter_nm, *, molar_volume_cm3_mol=LI_MOLAR_VOLUME_CM3_MOL):
    """Amount of metal in spheres of given diameters, n = Σ (π d³/6)/V_M.

    Parameters
    ----------
    diameter_nm : array_like
        Sphere diameters in nm.
    molar_volume_cm3_mol : float
        Molar volume in cm³ mol⁻¹.

    Returns
    -------
    float
        Total amount in fmol.

    Examples
    --------
    >>> round(sphere_volume_to_fmol([1000.0]), 2)  # a 1 µm sphere of Li
    40.28
    """
    d_cm = np.asarray(diameter_nm, dtype=float) * 1e-7
    mol = np.sum(np.pi * d_cm**3 / 6.0) / molar_volume_cm3_mol
    return float(mol * 1e15)
