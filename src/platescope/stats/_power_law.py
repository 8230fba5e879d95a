"""A power law y = a·x^b fitted on log–log axes, with the uncertainty of its exponent."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["power_law_fit"]


def power_law_fit(x, y, *, y_err=None, min_points: int = 3) -> dict:
    """Fit y = a·x^b by least squares on (log x, log y).

    Parameters
    ----------
    x, y : array_like
        Positive values (e.g. current density in mA cm⁻² and areal nucleus density in
        cm⁻²). Points with a non-positive or non-finite value are left out and counted.
    y_err : array_like, optional
        1σ uncertainty of each ``y`` (same unit): the points are weighted by
        (y/σ_y)² (the inverse variance of log y). Without it all weigh the same.
    min_points : int
        Fewer usable points (with at least two distinct x) give no fit.

    Returns
    -------
    dict
        ``exponent`` (b) and ``exponent_err`` (1σ), ``prefactor`` (a, in y's unit at
        x = 1) and ``prefactor_err``, ``n_points``, ``n_dropped``, ``chi2_red`` (with
        ``y_err``; the errors are scaled by √chi2_red when it exceeds 1, i.e. when the
        points scatter more than their stated errors) — or None values with ``reason``.

    Examples
    --------
    >>> r = power_law_fit([1, 2, 4, 8], [3.0, 6.0, 12.0, 24.0])
    >>> round(r["exponent"], 6), round(r["prefactor"], 6)
    (1.0, 3.0)
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.size} vs {ya.size}")
    ea = None if y_err is None else np.asarray(y_err, dtype=float).ravel()
    ok = np.isfinite(xa) & np.isfinite(ya) & (xa > 0) & (ya > 0)
    if ea is not None:
        ok &= np.isfinite(ea) & (ea > 0)
    n = int(ok.sum())
    out = {
        "exponent": None,
        "exponent_err": None,
        "prefactor": None,
        "prefactor_err": None,
        "n_points": n,
        "n_dropped": int(xa.size - n),
        "chi2_red": None,
    }
    if n < max(2, int(min_points)) or np.unique(xa[ok]).size < 2:
        out["reason"] = (
            f"{n} usable point(s) at {np.unique(xa[ok]).size} distinct x: a power law needs "
            f"at least {max(2, int(min_points))} points at two or more x"
        )
        return out
    lx, ly = np.log(xa[ok]), np.log(ya[ok])
    w = np.ones(n) if ea is None else (ya[ok] / ea[ok]) ** 2
    design = np.column_stack([np.ones(n), lx])
    wd = design * w[:, None]
    cov = np.linalg.inv(design.T @ wd)
    beta = cov @ (wd.T @ ly)
    resid = ly - design @ beta
    dof = n - 2
    if ea is None:
        s2 = float(np.sum(resid**2) / dof) if dof > 0 else math.nan
        cov = cov * s2
    else:
        chi2 = float(np.sum(w * resid**2) / dof) if dof > 0 else math.nan
        out["chi2_red"] = chi2
        if math.isfinite(chi2) and chi2 > 1.0:
            cov = cov * chi2
    b_err = math.sqrt(cov[1, 1]) if np.isfinite(cov[1, 1]) else None
    a = math.exp(beta[0])
    out.update(
        exponent=float(beta[1]),
        exponent_err=b_err,
        prefactor=float(a),
        prefactor_err=float(a * math.sqrt(cov[0, 0])) if np.isfinite(cov[0, 0]) else None,
    )
    if dof == 0:
        out["exponent_err_reason"] = "two points: the line passes through both, no scatter to judge"
        if ea is None:
            out["exponent_err"] = out["prefactor_err"] = None
    return out
