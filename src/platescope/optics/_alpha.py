"""α: the IRM signal per nm of equivalent uniform Li thickness (I_IRM = α·V, SCIENCE.md §2)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL

__all__ = ["alpha_fit", "equivalent_thickness_nm"]

_CM_TO_NM = 1e7


def equivalent_thickness_nm(
    charge_C: npt.ArrayLike,
    *,
    area_cm2: float,
    molar_volume_cm3_mol: float = LI_MOLAR_VOLUME_CM3_MOL,
    n: int = 1,
) -> np.ndarray:
    """Thickness of a uniform metal layer holding a charge, h_eq = V_M·|Q|/(nF·A).

    Parameters
    ----------
    charge_C : array_like
        Cumulative charge in C (sign ignored).
    area_cm2 : float
        Footprint area in cm².
    molar_volume_cm3_mol : float
        Molar volume in cm³ mol⁻¹ (Li 13.0).
    n : int
        Electrons per ion.

    Returns
    -------
    ndarray
        h_eq in nm.

    Examples
    --------
    >>> round(float(equivalent_thickness_nm(96485.33212e-12, area_cm2=1e-6)), 3)  # 1 pmol
    130.0
    """
    area = float(area_cm2)
    if not np.isfinite(area) or area <= 0:
        raise InputError(
            None,
            f"the footprint area must be a positive number of cm², got {area_cm2!r}",
            "measure it with footprint_area_cm2 or give [electrode] area_cm2",
        )
    q = np.abs(np.asarray(charge_C, dtype=float))
    return q / (n * FARADAY_C_MOL) * molar_volume_cm3_mol / area * _CM_TO_NM


def alpha_fit(
    mean_signal: npt.ArrayLike,
    charge_C: npt.ArrayLike,
    *,
    area_cm2: float,
    molar_volume_cm3_mol: float = LI_MOLAR_VOLUME_CM3_MOL,
    t_s: npt.ArrayLike | None = None,
    t_window_s: tuple[float | None, float | None] | None = None,
    n: int = 1,
) -> dict:
    """Fit α in I_mean = α·h_eq + c (ordinary least squares with standard errors).

    ``I_mean`` is the footprint-mean IRM signal (landing frame subtracted) and
    ``h_eq = V_M·|Q|/(nF·A)`` the equivalent uniform Li thickness from the cumulative
    charge. Pairs with a non-finite value are dropped. For thick deposits the IRM
    contrast can invert; restrict the fit to the small-deposit range with
    ``t_window_s``.

    Parameters
    ----------
    mean_signal : array_like, pandas.Series or xarray.DataArray
        Footprint-mean signal per time point (counts). A DataArray with coordinate
        ``t`` (s) supplies ``t_s``; its ``units`` attribute names the signal unit.
    charge_C : array_like
        Cumulative charge at the same time points, C (sign ignored).
    area_cm2 : float
        Footprint area in cm².
    molar_volume_cm3_mol : float
        Molar volume in cm³ mol⁻¹ (Li 13.0).
    t_s : array_like, optional
        Times in s of the points (needed for ``t_window_s`` unless ``mean_signal`` has
        a ``t`` coordinate).
    t_window_s : (float or None, float or None), optional
        Only points with ``start ≤ t ≤ end`` (s) enter the fit.
    n : int
        Electrons per ion.

    Returns
    -------
    dict
        ``value`` (α, signal units per nm), ``value_err`` (its standard error),
        ``intercept``, ``intercept_err`` (signal units), ``r2``, ``n_points``,
        ``units`` (e.g. ``"counts/nm"``), ``h_eq_nm`` (all points, nm) and ``used``
        (bool mask of the points in the fit).

    Examples
    --------
    >>> import numpy as np
    >>> q = -np.linspace(0, 2e-10, 50)                        # C, cathodic
    >>> h = equivalent_thickness_nm(q, area_cm2=7.85e-7)
    >>> fit = alpha_fit(3.0 * h + 1.0, q, area_cm2=7.85e-7)
    >>> round(fit["value"], 6), round(fit["r2"], 6)
    (3.0, 1.0)
    """
    units = "counts"
    if hasattr(mean_signal, "dims") and hasattr(mean_signal, "coords"):
        units = str(mean_signal.attrs.get("units", units))
        if t_s is None and "t" in mean_signal.coords:
            t_s = np.asarray(mean_signal["t"].values, dtype=float)
    y = np.asarray(mean_signal, dtype=float).ravel()
    h = equivalent_thickness_nm(
        charge_C, area_cm2=area_cm2, molar_volume_cm3_mol=molar_volume_cm3_mol, n=n
    ).ravel()
    if y.shape != h.shape:
        raise InputError(
            None,
            f"mean_signal has {y.size} points but charge_C has {h.size}",
            "sample the charge at the frame times (e.g. np.interp(frame_t, echem_t, charge))",
        )
    used = np.isfinite(y) & np.isfinite(h)
    if t_window_s is not None:
        if t_s is None:
            raise InputError(
                None, "t_window_s needs the point times", "pass t_s (s) or a DataArray with 't'"
            )
        t = np.asarray(t_s, dtype=float).ravel()
        if t.shape != y.shape:
            raise InputError(
                None, "t_s and mean_signal differ in length", "pass one time per point"
            )
        lo, hi = t_window_s
        if lo is not None:
            used &= t >= lo
        if hi is not None:
            used &= t <= hi
    k = int(used.sum())
    if k < 3:
        raise InputError(
            None,
            f"only {k} usable points for the α fit (need ≥ 3)",
            "widen t_window_s or check for NaN values",
        )
    x, yy = h[used], y[used]
    xm, ym = x.mean(), yy.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if sxx <= (1e-9 * float(np.max(np.abs(x)))) ** 2 * k:
        raise InputError(
            None,
            "the charge does not change over the fitted points, so α is undefined",
            "fit over a time range in which charge passes",
        )
    slope = float(np.sum((x - xm) * (yy - ym)) / sxx)
    icpt = float(ym - slope * xm)
    resid = yy - (slope * x + icpt)
    rss = float(np.sum(resid**2))
    tss = float(np.sum((yy - ym) ** 2))
    s2 = rss / (k - 2) if k > 2 else float("nan")
    return {
        "value": slope,
        "value_err": math.sqrt(s2 / sxx),
        "intercept": icpt,
        "intercept_err": math.sqrt(s2 * (1.0 / k + xm**2 / sxx)),
        "r2": 1.0 - rss / tss if tss > 0 else float("nan"),
        "n_points": k,
        "units": f"{units}/nm",
        "h_eq_nm": h,
        "used": used,
    }
