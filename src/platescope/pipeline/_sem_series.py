"""Several SEM images along one numeric condition: group repeats, fit y ∝ x^b safely.

``[[sem_images]]`` entries carry the condition as ``current_density_mA_cm2``,
``capacity_mAh_cm2``, ``cycle`` or ``condition_value`` (+ ``condition_unit``);
``[analysis.sem] series_key`` names the one to use (``"auto"``: the first of these that
every entry gives). Images at the same value are repeats: they are averaged, and their
scatter is the error of that point. A power law needs ≥ 3 distinct values spanning at
least a factor 1.5; a fit whose exponent error is not finite or above
``MAX_EXPONENT_ERR`` is null with a reason and a warning, never a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SERIES_KEYS = {
    "current_density_mA_cm2": "mA cm⁻²",
    "capacity_mAh_cm2": "mAh cm⁻²",
    "cycle": "cycle",
    "condition_value": None,  # unit from condition_unit
}
#: an exponent known only to worse than ± this (1σ) is no result
MAX_EXPONENT_ERR = 2.0
_MIN_SPAN = 1.5  # x_max / x_min
_MAX_CHI2 = 10.0  # reduced χ² above which the given errors are not used as weights

#: quantities fitted along the series: (row key, trend name)
TREND_KEYS = (
    ("density_cm2", "density"),
    ("mean_diameter_nm", "mean_diameter"),
)


def pick_series_key(entries: list[dict], key: str) -> str | None:
    """The condition key of the series (``"auto"``: the first that all entries give)."""
    if key != "auto":
        return key
    for k in SERIES_KEYS:
        if entries and all(e.get(k) is not None for e in entries):
            return k
    for k in SERIES_KEYS:  # else the first that any gives
        if any(e.get(k) is not None for e in entries):
            return k
    return None


def _value(r: dict, key: str) -> float:
    v = r.get(key)
    return np.nan if v is None else float(v)


def group_repeats(rows: list[dict], x_key: str) -> list[dict[str, Any]]:
    """One point per distinct condition value: mean of the repeats and its error.

    The error of a mean is the sd of the repeats / √n when there are ≥ 2 with values,
    else the single image's own ``*_err`` (counting / sampling).
    """
    xs = np.array([_value(r, x_key) for r in rows])
    out = []
    for x in np.unique(xs[np.isfinite(xs)]):
        members = [r for r, xv in zip(rows, xs, strict=True) if xv == x]
        g: dict[str, Any] = {"x": float(x), "n_images": len(members)}
        for key, _ in TREND_KEYS + (("coverage", "coverage"),):
            vals = np.array(
                [
                    _value((r.get("morphology") or {}) if key == "coverage" else r, key)
                    for r in members
                ]
            )
            errs = np.array([_value(r, f"{key}_err") for r in members])
            ok = np.isfinite(vals)
            g[key] = float(vals[ok].mean()) if ok.any() else None
            if ok.sum() >= 2:
                g[f"{key}_err"] = float(vals[ok].std(ddof=1) / np.sqrt(ok.sum()))
                g[f"{key}_err_source"] = "scatter of the repeats"
            elif ok.sum() == 1 and np.isfinite(errs[ok]).all():
                g[f"{key}_err"] = float(errs[ok][0])
            else:
                g[f"{key}_err"] = None
        out.append(g)
    return out


def power_law(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, Any]:
    """Exponent b of y ∝ x^b by weighted least squares in log–log, or null with a reason.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0]); y = 3 * x**0.5
    >>> round(power_law(x, y, 0.01 * y)["exponent"], 6)
    0.5
    >>> power_law(np.array([1.0, 1.0, 1.0]), y, 0.01 * y)["exponent"] is None
    True
    """
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    n = int(ok.sum())
    n_x = int(np.unique(x[ok]).size)
    if n_x < 3:
        return {"exponent": None, "n": n, "reason": f"needs ≥ 3 distinct conditions, got {n_x}"}
    lx, ly = np.log(x[ok]), np.log(y[ok])
    if np.exp(np.ptp(lx)) < _MIN_SPAN:
        return {
            "exponent": None,
            "n": n,
            "reason": f"the conditions span less than a factor {_MIN_SPAN:g}: no power law",
        }
    rel = np.where(np.isfinite(err[ok]) & (err[ok] > 0), err[ok] / y[ok], np.nan)
    fill = np.nanmax(rel) if np.isfinite(rel).any() else 1.0
    w = 1.0 / np.where(np.isfinite(rel), rel, fill) ** 2
    a = np.column_stack([np.ones_like(lx), lx])
    dof = max(n - 2, 1)
    for _ in range(2):
        cov = np.linalg.pinv(a.T @ (w[:, None] * a))
        coef = cov @ a.T @ (w * ly)
        resid = ly - a @ coef
        scale = max(float(np.sum(w * resid**2)) / dof, 1.0)  # inflate by the scatter
        if scale <= _MAX_CHI2:
            break
        # the points scatter far beyond their (counting) errors: those errors do not
        # describe them, so weigh the points equally and let the scatter set the error
        w = np.full_like(lx, 1.0 / max(float(np.var(ly)), 1e-12))
    b_err = float(np.sqrt(max(cov[1, 1], 0.0) * scale))
    out = {"exponent": float(coef[1]), "exponent_err": b_err, "n": n}
    if not (np.isfinite(out["exponent"]) and np.isfinite(b_err)) or b_err > MAX_EXPONENT_ERR:
        return {
            "exponent": None,
            "exponent_err": None,
            "n": n,
            "reason": f"the fit does not constrain the exponent (±{b_err:.3g}, limit "
            f"±{MAX_EXPONENT_ERR:g})",
        }
    return out


def series_trend(rows: list[dict], x_key: str, unit: str | None) -> tuple[dict, list[dict]]:
    """Grouped points and power-law fits along ``x_key``; warnings for refused fits."""
    groups = group_repeats(rows, x_key)
    x = np.array([g["x"] for g in groups])
    trend: dict[str, Any] = {"series_key": x_key, "unit": unit, "groups": groups}
    warnings = []
    for key, name in TREND_KEYS:
        y = np.array([np.nan if g[key] is None else g[key] for g in groups])
        e = np.array([np.nan if g.get(f"{key}_err") is None else g[f"{key}_err"] for g in groups])
        fit = power_law(x, y, e)
        trend[name] = fit
        if fit["exponent"] is None and len(rows) >= 3:
            warnings.append(
                {
                    "code": "no-power-law",
                    "message": f"{name} vs {x_key}: {fit['reason']}",
                    "where": f"{name}",
                }
            )
    trend["definition"] = (
        f"y ∝ {x_key}^exponent, weighted least squares of ln y vs ln x over the distinct "
        "values (repeats averaged)"
    )
    return trend, warnings
