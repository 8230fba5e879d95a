"""Combinatorial SECCM: per-spot galvanostatic features and per-condition statistics.

Many spots × conditions (SCIENCE.md §2, "Combinatorial"): each spot's E–t record gives
E_nuc, t_nuc, Q_nuc, E_growth and η through
:func:`platescope.echem.galvanostatic_features` (:func:`spot_features`); the spots of a
condition are then summarised (:func:`condition_summary`) by their count, how many
reached E_nuc within the record (with a Wilson 95 % interval of the fraction) and, over
the nucleated spots, the mean, the standard deviation (spot-to-spot dispersion), the
standard error of the mean (``*_mean_err``, 1σ) and a Student-t 95 % interval of the
mean (``*_mean_ci95``). Spots are weighted equally: the spot-to-spot scatter
(millivolts) is far larger than each spot's own fit error (tenths of a millivolt).

A spot whose potential never turns has no E_nuc; it counts in ``n`` but not in
``n_nucleated`` and contributes nothing to the means (it is not given an invented
value).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from platescope.echem._galvanostatic import galvanostatic_features

__all__ = ["FEATURES", "condition_summary", "spot_features", "wilson_interval"]

#: Per-spot features aggregated per condition.
FEATURES = ("E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V", "eta_nuc_V")
_SPOT_KEYS = (
    "nucleated",
    "E_nuc_V",
    "E_nuc_V_err",
    "t_nuc_s",
    "t_nuc_s_err",
    "Q_nuc_uAh_cm2",
    "Q_nuc_uAh_cm2_err",
    "E_growth_V",
    "E_growth_V_err",
    "eta_nuc_V",
    "eta_nuc_V_err",
    "noise_V",
    "reason",
)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def spot_features(
    echem: pd.DataFrame,
    *,
    current_density_mA_cm2: float | None = None,
    area_cm2: float | None = None,
    smooth_s: float = 0.2,
    growth_fraction: float = 0.2,
    rise_sigma: float = 8.0,
    min_rise_V: float = 1e-3,
) -> dict:
    """Galvanostatic features of one spot as a flat row.

    Parameters
    ----------
    echem : pandas.DataFrame
        The spot's record: ``time_s`` (s from contact), ``potential_V`` (V),
        ``current_A`` (A, cathodic negative).
    current_density_mA_cm2 : float, optional
        The spot's current density magnitude, mA cm⁻². Without ``area_cm2`` the
        footprint area is taken as median|I| / j, so Q_nuc = ∫|I|dt / A ≈ j·t_nuc.
    area_cm2 : float, optional
        Footprint (wetted) area, cm²; takes precedence over the current density.
    smooth_s, growth_fraction, rise_sigma, min_rise_V : float
        Passed to :func:`~platescope.echem.galvanostatic_features` (s, fraction,
        noise multiples, V). ``smooth_s`` defaults to 0.2 s (not 0.5 s): SECCM spots
        are short records whose t_nuc reaches ≈0.3 s at high current density, and the
        smoothing window must be well below t_nuc.

    Returns
    -------
    dict
        ``nucleated``, ``E_nuc_V``, ``t_nuc_s``, ``Q_nuc_uAh_cm2``, ``E_growth_V``,
        ``eta_nuc_V`` with their 1σ ``*_err`` (None when the spot did not nucleate),
        ``noise_V``, ``reason`` (why a quantity is missing, else None), ``area_cm2``
        used (cm²), ``current_A`` (median, A), ``current_density_mA_cm2``,
        ``duration_s`` and ``n_samples``.

    Examples
    --------
    >>> t = np.linspace(0, 5, 2001)
    >>> e = 0.05 * (t - 2.0) ** 2 / (1 + 0.5 * np.abs(t - 2.0)) - 0.15
    >>> df = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": -1e-10})
    >>> f = spot_features(df, current_density_mA_cm2=1.0)
    >>> f["nucleated"], round(f["E_nuc_V"], 4), round(f["Q_nuc_uAh_cm2"], 3)
    (True, -0.15, 0.556)
    """
    i = echem["current_A"].to_numpy(float) if "current_A" in echem else np.zeros(0)
    i_med = float(np.median(i[np.isfinite(i)])) if i.size and np.isfinite(i).any() else float("nan")
    area = float(area_cm2) if _finite(area_cm2) and float(area_cm2) > 0 else None
    j = float(current_density_mA_cm2) if _finite(current_density_mA_cm2) else None
    if area is None and j and j > 0 and math.isfinite(i_med) and i_med != 0:
        area = abs(i_med) / (j * 1e-3)
    f = galvanostatic_features(
        echem,
        area_cm2=area,
        smooth_s=smooth_s,
        growth_fraction=growth_fraction,
        rise_sigma=rise_sigma,
        min_rise_V=min_rise_V,
    )
    row = {k: f.get(k) for k in _SPOT_KEYS}
    if row["nucleated"] and f.get("reason") is None:
        row["reason"] = None
    t = echem["time_s"].to_numpy(float)
    row.update(
        area_cm2=area,
        current_A=i_med if math.isfinite(i_med) else None,
        current_density_mA_cm2=j if j is not None else f.get("current_density_mA_cm2"),
        duration_s=float(t[-1] - t[0]) if t.size else None,
        n_samples=int(t.size),
    )
    return row


def wilson_interval(k: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial fraction k/n.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 8)
    >>> round(lo, 3), hi
    (0.676, 1.0)
    """
    if n <= 0:
        return None
    from scipy import stats  # imported here: scipy.stats costs seconds at import time

    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def condition_summary(spots: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Per-condition statistics of a per-spot feature table.

    Parameters
    ----------
    spots : pandas.DataFrame
        One row per analysed spot with ``condition``, ``nucleated`` (bool),
        ``current_density_mA_cm2`` (mA cm⁻², may be NaN) and the :data:`FEATURES`
        columns (NaN/None where a spot did not nucleate).
    level : float
        Confidence level of the ``*_ci95``/``fraction_nucleated_ci95`` intervals.

    Returns
    -------
    pandas.DataFrame
        One row per condition, ordered by current density: ``condition``,
        ``current_density_mA_cm2`` (mean over the spots) and ``current_density_mA_cm2_sd``,
        ``n``, ``n_nucleated``, ``fraction_nucleated``, ``fraction_nucleated_ci95``
        ([lo, hi], Wilson) and, for each feature X of :data:`FEATURES`, ``X_mean``,
        ``X_sd`` (ddof 1), ``X_mean_err`` (standard error of the mean, 1σ) and
        ``X_mean_ci95`` ([lo, hi], Student t) over the nucleated spots (missing — NaN
        or None — when fewer than one/two spots nucleated), plus ``reason`` when a
        quantity is missing.

    Examples
    --------
    >>> spots = pd.DataFrame({"condition": [0, 0, 0, 1], "nucleated": [True, True, False, False],
    ...                       "current_density_mA_cm2": [1.0, 1.0, 1.0, 0.2],
    ...                       "E_nuc_V": [-0.20, -0.22, None, None]})
    >>> s = condition_summary(spots)
    >>> s[["condition", "n", "n_nucleated"]].values.tolist()
    [[1, 1, 0], [0, 3, 2]]
    >>> round(float(s["E_nuc_V_mean"].iloc[1]), 3), round(float(s["E_nuc_V_sd"].iloc[1]), 4)
    (-0.21, 0.0141)
    """
    from scipy import stats  # imported here: scipy.stats costs seconds at import time

    if "condition" not in spots or "nucleated" not in spots:
        raise ValueError("spots needs the columns 'condition' and 'nucleated'")
    rows = []
    order = []
    for cond, g in spots.groupby("condition", sort=False, dropna=False):
        nuc = g["nucleated"].fillna(False).astype(bool).to_numpy()
        n, k = int(len(g)), int(nuc.sum())
        jj = pd.to_numeric(g.get("current_density_mA_cm2", pd.Series(dtype=float)), errors="coerce")
        jj = jj[np.isfinite(jj)]
        row: dict = {
            "condition": cond.item() if isinstance(cond, np.generic) else cond,
            "current_density_mA_cm2": float(jj.mean()) if len(jj) else None,
            "current_density_mA_cm2_sd": float(jj.std(ddof=1)) if len(jj) > 1 else None,
            "n": n,
            "n_nucleated": k,
            "fraction_nucleated": k / n if n else None,
            "fraction_nucleated_ci95": list(wilson_interval(k, n, level=level)) if n else None,
        }
        for feat in FEATURES:
            if feat not in g:
                continue
            x = pd.to_numeric(g[feat], errors="coerce").to_numpy(float)[nuc]
            x = x[np.isfinite(x)]
            m = x.size
            row[f"{feat}_mean"] = float(x.mean()) if m else None
            sd = float(x.std(ddof=1)) if m > 1 else None
            row[f"{feat}_sd"] = sd
            row[f"{feat}_mean_err"] = sd / math.sqrt(m) if sd is not None else None
            if sd is not None:
                h = float(stats.t.ppf(0.5 + level / 2, m - 1)) * sd / math.sqrt(m)
                row[f"{feat}_mean_ci95"] = [row[f"{feat}_mean"] - h, row[f"{feat}_mean"] + h]
            else:
                row[f"{feat}_mean_ci95"] = None
        if k == 0:
            row["reason"] = "no spot of this condition reached E_nuc within its record"
        elif k == 1:
            row["reason"] = "one nucleated spot: no spread, standard error or interval"
        else:
            row["reason"] = None
        rows.append(row)
        order.append(
            row["current_density_mA_cm2"] if row["current_density_mA_cm2"] is not None else math.inf
        )
    out = pd.DataFrame(rows)
    if len(out):
        out = out.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    return out
