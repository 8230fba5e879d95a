"""The ``seccm-combinatorial`` scenario: a hopping grid of galvanostatic SECCM spots.

Many spots × conditions as in the paper's combinatorial experiment (SCIENCE.md §2,
"Combinatorial"): by default 8 current densities (log-spaced 0.22–2.92 mA cm⁻²) ×
8 repeats, 5 s each, 11 µm apart, one condition per grid row. Each spot's E–t record
comes from the galvanostatic forward model of :mod:`platescope.simulate._echem_model`
with spot-to-spot variation:

- footprint diameter (sd ``footprint_sd_frac``) → the spot's own current density
  j = I_condition / A_spot (the applied current is set per condition for the nominal
  footprint, as an SECCM operator does);
- nucleation time t_nuc = ``t_nuc_factor`` · t_nuc,Table1(j) · lognormal(``t_nuc_sd_frac``)
  (the combinatorial 6 µm pipette nucleates earlier than the 10 µm one of Table 1;
  the default factor makes the lowest current density never reach E_nuc within 5 s
  and the second lowest only sometimes, as in the paper);
- E_nuc and E_growth offsets (sd ``E_nuc_sd_V``, ``E_growth_sd_V``) and the contact
  potential E_start (sd ``E_start_sd_V``).

Spots whose t_nuc falls within ±``guard_frac`` of the record length are redrawn, so
every spot either turns clearly inside the record or clearly does not turn; this makes
the number of nucleated spots a well-posed test (``guard_frac = 0`` switches it off
and lets borderline spots occur).

Truth (``truth/truth.json``, ``truth/spots.csv``): per spot, the exact minimum of the
noise-free curve (E_nuc, t_nuc), Q_nuc = j·t_nuc, E_growth = mean noise-free potential
over the last 20 % of the record and ``nucleated`` (the noise-free curve rises ≥ 1 mV
after its minimum inside the record); per condition (``combinatorial``) the count,
the nucleated count and the mean/sd of those over the nucleated spots.

Layouts (``layout``; see docs/seccm_combinatorial.md): ``platescope`` (``spots.csv``
index + one ``spots/spot_NNNNN.csv`` per spot), ``echemtips`` (one recording CSV +
JSON sidecar, eChemTips schema 2) and ``wec-spm`` (row-per-channel ``.tsv`` + ``.set``).
The same seed gives the same spots and E–t samples in every layout.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

import platescope
from platescope._errors import InputError
from platescope.simulate._common import (
    Param,
    atomic_open,
    atomic_write_text,
    prepare_output_dir,
    register,
    resolve_params,
    write_json_atomic,
)
from platescope.simulate._echem_model import (
    E_GROWTH_TAIL_FRACTION,
    TURN_THRESHOLD_V,
    build_galvanostatic_curve,
)

__all__ = ["PARAMETERS", "make_spot_design", "seccm_combinatorial", "spot_record"]

SCENARIO = "seccm-combinatorial"
LAYOUTS = ("platescope", "echemtips", "wec-spm")
#: Galvanostat output while the pipette is in the air (paper: "overload", +10 V).
OVERLOAD_V = 10.0
#: Contact = the potential falls more than this below the overload value (paper: 5 V).
CONTACT_DROP_V = 5.0
T0_LOCAL = datetime(2024, 6, 13, 10, 12, 5)
STEM = "20240613_101205_li_combinatorial"

PARAMETERS: dict[str, Param] = {
    "layout": Param("platescope", str, "file layout: platescope | echemtips | wec-spm"),
    "n_conditions": Param(8, int, "number of current densities (conditions)", 1, 200),
    "n_repeats": Param(8, int, "spots per condition", 1, 20000),
    "n_spots": Param(
        None,
        int,
        "total number of spots (auto: n_conditions·n_repeats; else split evenly over the "
        "conditions, the first ones get the remainder)",
        1,
        200000,
    ),
    "j_min_mA_cm2": Param(0.22, float, "lowest current density, mA cm⁻²", 0.01, 50.0, True),
    "j_max_mA_cm2": Param(2.92, float, "highest current density (log-spaced), mA cm⁻²", 0.01, 50.0),
    "duration_s": Param(5.0, float, "galvanostatic record length per spot, s", 0.5, 120.0),
    "sample_period_s": Param(
        0.00257, float, "echem sample period, s (WEC-SPM: 10 µs × (256 + 1))", 1e-4, 0.1, True
    ),
    "spacing_um": Param(11.0, float, "hop spacing in x and y, µm", 1.0, 1000.0),
    "grid_columns": Param(
        None, int, "spots per grid row (auto: n_repeats if ≤ 100, else ≈ √n_spots)", 1, 100000
    ),
    "footprint_diameter_um": Param(6.0, float, "nominal footprint diameter, µm", 0.5, 50.0),
    "footprint_sd_frac": Param(0.04, float, "relative sd of the footprint diameter", 0.0, 0.3),
    "t_nuc_factor": Param(
        0.5, float, "t_nuc = factor · t_nuc(Table 1, j) for this pipette", 0.05, 10.0, True
    ),
    "t_nuc_sd_frac": Param(0.15, float, "lognormal sd of t_nuc between spots", 0.0, 1.0),
    "E_nuc_sd_V": Param(0.004, float, "sd of E_nuc between spots, V", 0.0, 0.05),
    "E_growth_sd_V": Param(0.004, float, "sd of E_growth between spots, V", 0.0, 0.05),
    "E_start_V": Param(0.6, float, "potential at contact, V vs Li/Li⁺", 0.2, 3.0),
    "E_start_sd_V": Param(0.02, float, "sd of the contact potential between spots, V", 0.0, 0.2),
    "guard_frac": Param(
        0.15,
        float,
        "redraw spots with t_nuc within ± this fraction of the record length (0 = off)",
        0.0,
        0.5,
    ),
    "noise_scale": Param(
        1.0, float, "multiplies every noise amplitude (0 = noise-free)", 0.0, 20.0
    ),
    "potential_noise_V": Param(
        3e-4, float, "white potential noise sd, V (× noise_scale)", 0.0, 0.05
    ),
    "current_noise_frac": Param(2e-3, float, "relative current noise sd (× noise_scale)", 0.0, 0.5),
    "approach_s": Param(
        0.5, float, "recorded approach time before contact per hop (vendor layouts), s", 0.0, 60.0
    ),
    "retract_s": Param(0.25, float, "recorded retract time per hop (vendor layouts), s", 0.0, 60.0),
    "echem_format": Param("csv", str, "per-spot file format of the platescope layout: csv | mpt"),
}


def _check(p: dict) -> None:
    if p["layout"] not in LAYOUTS:
        raise InputError(
            None,
            f"--set layout={p['layout']!r} is not a known layout",
            f"use one of {', '.join(LAYOUTS)}",
        )
    if p["echem_format"] not in ("csv", "mpt"):
        raise InputError(
            None, f"--set echem_format={p['echem_format']!r} is not known", "use csv or mpt"
        )
    if p["j_max_mA_cm2"] < p["j_min_mA_cm2"]:
        raise InputError(
            None, "j_max_mA_cm2 is below j_min_mA_cm2", "give j_max_mA_cm2 ≥ j_min_mA_cm2"
        )
    if p["duration_s"] / p["sample_period_s"] < 50:
        raise InputError(
            None,
            "fewer than 50 samples per spot",
            "lower sample_period_s or lengthen duration_s",
        )


def _condition_densities(p: dict) -> np.ndarray:
    n = p["n_conditions"]
    if n == 1:
        return np.array([p["j_min_mA_cm2"]])
    return np.geomspace(p["j_min_mA_cm2"], p["j_max_mA_cm2"], n)


def _spots_per_condition(p: dict) -> np.ndarray:
    n_c = p["n_conditions"]
    total = p["n_spots"] if p["n_spots"] is not None else n_c * p["n_repeats"]
    if total < n_c:
        raise InputError(
            None,
            f"n_spots={total} is smaller than n_conditions={n_c}",
            "give n_spots ≥ n_conditions",
        )
    base, extra = divmod(total, n_c)
    return np.array([base + (1 if k < extra else 0) for k in range(n_c)])


def _turns(curve, duration: float) -> tuple[bool, float, float]:
    """(nucleated, t_min, E_min) of a noise-free curve within a record of ``duration``."""
    t_min, e_min = curve.minimum()
    if t_min >= duration:
        return False, t_min, e_min
    after = np.linspace(t_min, duration, 2001)
    return float(np.max(curve(after))) - e_min >= TURN_THRESHOLD_V, t_min, e_min


def _targets(j: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`table1_targets` of many current densities (the same numbers, element-wise)."""
    from platescope.simulate._echem_model import TABLE1, _pchip

    lx = np.log(TABLE1["current_density_mA_cm2"])
    x = np.array([math.log(v) for v in j.tolist()], dtype=float)
    inside = (lx[0] <= x) & (x <= lx[-1])

    def pchip_log(ys):
        f = _pchip(tuple(float(y) for y in ys))
        out = np.empty_like(x)
        if inside.any():
            out[inside] = f(x[inside])
        for edge, side in ((lx[0], x < lx[0]), (lx[-1], x > lx[-1])):
            if side.any():
                out[side] = f(edge) + f.derivative()(edge) * (x[side] - edge)
        return out

    t_nuc = np.array([math.exp(v) for v in pchip_log(np.log(TABLE1["t_nuc_s"])).tolist()])
    e_nuc = pchip_log(TABLE1["E_nuc_V"])
    e_growth = pchip_log(TABLE1["E_growth_V"]) if inside.all() else np.empty_like(x)
    if not inside.all():
        etas = np.log(np.subtract(TABLE1["E_growth_V"], TABLE1["E_nuc_V"]))
        e_growth[inside] = pchip_log(TABLE1["E_growth_V"])[inside]
        for i0, i1, side in ((0, 1, x < lx[0]), (-1, -2, x > lx[-1])):
            if side.any():
                slope = (etas[i0] - etas[i1]) / (lx[i0] - lx[i1])
                log_eta = etas[i0] + slope * (x[side] - lx[i0])
                eta = np.array([math.exp(v) for v in log_eta.tolist()])
                e_growth[side] = e_nuc[side] + eta
    return {"t_nuc_s": t_nuc, "E_nuc_V": e_nuc, "E_growth_V": e_growth}


def _curve_values(params: dict, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Noise-free potentials (rows × times) of the solved curves ``rows`` at times ``t`` (s)."""
    from platescope.simulate._echem_model import _e_only

    return _e_only(
        t / params["t_scale_s"][rows][:, None],
        params["E_plateau_V"][rows][:, None],
        params["dE_sei_V"][rows][:, None],
        params["eta_amp_V"][rows][:, None],
    )


def make_spot_design(seed: int = 0, **params: Any) -> pd.DataFrame:
    """Planted per-spot parameters and truth of a combinatorial run (no E–t samples).

    Every spot's draws come from one seeded stream in acquisition order (5 normal
    deviates per attempt; an attempt outside the guard band or with an implausible
    curve is redrawn), and the curves of all spots are solved together
    (:func:`platescope.simulate._echem_model.solve_galvanostatic_curves`).

    Parameters
    ----------
    seed : int
        Random seed.
    **params
        Scenario parameters (``--set`` keys, see :data:`PARAMETERS`).

    Returns
    -------
    pandas.DataFrame
        One row per spot in acquisition order: ``spot``, ``condition``, ``row``,
        ``column``, ``x_um``, ``y_um`` (µm), ``current_density_nominal_mA_cm2``,
        ``current_A`` (applied, negative), ``area_cm2``, ``current_density_mA_cm2``
        (|I|/A), ``E_start_V``, the curve targets ``t_nuc_target_s``, ``E_nuc_target_V``,
        ``E_growth_target_V``, ``t_nuc_model_s`` (the curve's minimum, also beyond the
        record), ``curve`` (the solved noise-free curve) and the truth ``nucleated``, ``E_nuc_V``, ``t_nuc_s``,
        ``Q_nuc_uAh_cm2``, ``E_growth_V``, ``eta_nuc_V`` (NaN when not nucleated).

    Examples
    --------
    >>> d = make_spot_design(seed=1, n_conditions=2, n_repeats=3)
    >>> len(d), sorted(d["condition"].unique().tolist())
    (6, [0, 1])
    """
    from platescope.simulate._echem_model import (
        GalvanostaticCurve,
        curves_minimum,
        curves_tail_mean,
        solve_galvanostatic_curves,
    )

    p = resolve_params(PARAMETERS, params)
    _check(p)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1729]))
    j_cond = _condition_densities(p)
    counts = _spots_per_condition(p)
    n_total = int(counts.sum())
    n_cols = p["grid_columns"]
    if n_cols is None:
        n_cols = p["n_repeats"] if p["n_spots"] is None and p["n_repeats"] <= 100 else 0
        n_cols = n_cols or int(math.ceil(math.sqrt(n_total)))
    a_nom = math.pi * (0.5 * p["footprint_diameter_um"]) ** 2 * 1e-8
    dur = p["duration_s"]
    g = p["guard_frac"]
    d_nom = p["footprint_diameter_um"]
    z_all = np.zeros((0, 5))
    ptr = 0
    cols: dict[str, list] = {k: [] for k in ("cond", "d", "t", "en", "eg", "es", "i_set", "j_nom")}
    solved: dict[str, list] = {k: [] for k in ("t_scale_s", "E_plateau_V", "dE_sei_V", "eta_amp_V")}
    for c, (j_nom, n_c) in enumerate(zip(j_cond, counts, strict=True)):
        i_set = -j_nom * 1e-3 * a_nom
        need = int(n_c)
        while need > 0:
            block = 2 * need + 16
            while z_all.shape[0] < ptr + block:
                z_all = np.concatenate([z_all, rng.standard_normal((block, 5))])
            z = z_all[ptr : ptr + block]
            d = np.maximum(d_nom * (1 + p["footprint_sd_frac"] * z[:, 0]), 0.3 * d_nom)
            area = math.pi * (0.5 * d) ** 2 * 1e-8
            j = abs(i_set) / area * 1e3
            tg = _targets(j)
            spread = [math.exp(p["t_nuc_sd_frac"] * x) for x in z[:, 1].tolist()]
            t_nuc = p["t_nuc_factor"] * tg["t_nuc_s"] * np.array(spread)
            e_nuc = tg["E_nuc_V"] + p["E_nuc_sd_V"] * z[:, 2]
            e_growth = tg["E_growth_V"] + p["E_growth_sd_V"] * z[:, 3]
            e_start = p["E_start_V"] + p["E_start_sd_V"] * z[:, 4]
            ok = ~((g > 0) & ((1 - g) * dur <= t_nuc) & (t_nuc <= (1 + g) * dur))
            ok &= ~((e_growth - e_nuc < 0.01) | (t_nuc < 0.05 * dur))
            cand = np.flatnonzero(ok)[:need]
            sol = solve_galvanostatic_curves(
                t_nuc_s=t_nuc[cand],
                E_nuc_V=e_nuc[cand],
                E_growth_V=e_growth[cand],
                duration_s=dur,
                E_start_V=e_start[cand],
            )
            conv = sol["converged"]
            failed = None
            if not conv.all():  # a curve that does not converge is redrawn, as a failed draw
                m = int(np.argmin(conv))
                failed = int(cand[m])
                cand = cand[:m]
                sol = {k: val[:m] for k, val in sol.items()}
            gaps = np.diff(np.concatenate([[-1], cand, [] if failed is None else [failed]]))
            if (gaps.size and gaps.max() > 200) or (not cand.size and failed is None):
                raise InputError(
                    None,
                    "could not draw a valid spot within 200 attempts",
                    "reduce the spread parameters or guard_frac",
                )
            for k, val in (("cond", np.full(cand.size, c)), ("d", d[cand]), ("t", t_nuc[cand]),
                           ("en", e_nuc[cand]), ("eg", e_growth[cand]), ("es", e_start[cand]),
                           ("i_set", np.full(cand.size, i_set)),
                           ("j_nom", np.full(cand.size, float(j_nom)))):  # fmt: skip
                cols[k].append(val)
            for k in solved:
                solved[k].append(sol[k])
            need -= cand.size
            ptr += (failed if failed is not None else int(cand[-1])) + 1
    v = {k: np.concatenate(x) for k, x in cols.items()}
    par = {k: np.concatenate(x) for k, x in solved.items()}
    n = v["t"].size
    area = math.pi * (0.5 * v["d"]) ** 2 * 1e-8
    j = np.abs(v["i_set"]) / area * 1e3
    t_min, e_min = curves_minimum(
        par["t_scale_s"], par["E_plateau_V"], par["dE_sei_V"], par["eta_amp_V"]
    )
    # nucleated: the noise-free curve rises ≥ 1 mV after its minimum within the record
    turned = np.zeros(n, dtype=bool)
    inside = np.flatnonzero(t_min < dur)
    frac = np.linspace(0.0, 1.0, 2001)
    for lo in range(0, inside.size, 256):
        r = inside[lo : lo + 256]
        after = t_min[r][:, None] + (dur - t_min[r])[:, None] * frac[None, :]
        turned[r] = _curve_values(par, r, after).max(axis=1) - e_min[r] >= TURN_THRESHOLD_V
    e_tail = curves_tail_mean(
        par["t_scale_s"], par["E_plateau_V"], par["dE_sei_V"], par["eta_amp_V"], dur
    )
    spot = np.arange(n)
    r_, col = np.divmod(spot, n_cols)
    column = np.where(r_ % 2 == 0, col, n_cols - 1 - col)
    nan = np.full(n, np.nan)
    df = pd.DataFrame(
        {
            "spot": spot,
            "condition": v["cond"].astype(int),
            "row": r_,
            "column": column,
            "x_um": column * p["spacing_um"],
            "y_um": r_ * p["spacing_um"],
            "current_density_nominal_mA_cm2": v["j_nom"],
            "current_A": v["i_set"],
            "area_cm2": area,
            "current_density_mA_cm2": j,
            "E_start_V": v["es"],
            "t_nuc_target_s": v["t"],
            "E_nuc_target_V": v["en"],
            "E_growth_target_V": v["eg"],
            "t_nuc_model_s": t_min,
            "nucleated": turned,
            "curve": [
                GalvanostaticCurve(
                    t_scale_s=float(par["t_scale_s"][k]),
                    E_start_V=float(v["es"][k]),
                    E_plateau_V=float(par["E_plateau_V"][k]),
                    dE_sei_V=float(par["dE_sei_V"][k]),
                    eta_amp_V=float(par["eta_amp_V"][k]),
                    duration_s=dur,
                )
                for k in range(n)
            ],
            "E_nuc_V": np.where(turned, e_min, nan),
            "t_nuc_s": np.where(turned, t_min, nan),
            "Q_nuc_uAh_cm2": np.where(turned, j * t_min / 3.6, nan),
            "E_growth_V": np.where(turned, e_tail, nan),
            "eta_nuc_V": np.where(turned, e_tail - e_min, nan),
        }
    )
    df.attrs["parameters"] = p
    df.attrs["grid_columns"] = n_cols
    df.attrs["curve_params"] = par
    return df


def spot_record(design_row, *, seed: int = 0, **params: Any) -> pd.DataFrame:
    """The noisy E–t record of one spot (t = 0 at contact).

    Parameters
    ----------
    design_row : mapping
        One row of :func:`make_spot_design` (``spot``, ``current_A`` and ``curve``, or
        ``E_start_V`` and the ``*_target_*`` columns to rebuild it).
    seed : int
        The run's seed (each spot draws its noise from ``(seed, spot)``).
    **params
        Scenario parameters.

    Returns
    -------
    pandas.DataFrame
        ``time_s``, ``potential_V``, ``current_A`` and ``potential_noise_free_V``.

    Examples
    --------
    >>> d = make_spot_design(seed=0, n_conditions=1, n_repeats=1, j_min_mA_cm2=2.0)
    >>> rec = spot_record(d.iloc[0], seed=0)
    >>> round(float(rec["time_s"].iloc[-1]), 2)
    5.0
    """
    p = resolve_params(PARAMETERS, params)
    return _spot_record(design_row, p, int(seed))


def _spot_curve(row, p):
    curve = row.get("curve") if hasattr(row, "get") else None
    if curve is not None:
        return curve
    return build_galvanostatic_curve(
        t_nuc_s=float(row["t_nuc_target_s"]),
        E_nuc_V=float(row["E_nuc_target_V"]),
        E_growth_V=float(row["E_growth_target_V"]),
        duration_s=p["duration_s"],
        E_start_V=float(row["E_start_V"]),
    )


def _spot_record(row, p: dict, seed: int) -> pd.DataFrame:
    dur = p["duration_s"]
    n = int(math.floor(dur / p["sample_period_s"] + 1e-9)) + 1
    t = np.arange(n) * p["sample_period_s"]
    curve = _spot_curve(row, p)
    e_nf = curve(t)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 31337, int(row["spot"])]))
    ns = p["noise_scale"]
    e = e_nf + rng.normal(0.0, ns * p["potential_noise_V"], n)
    i = float(row["current_A"]) * (1.0 + rng.normal(0.0, ns * p["current_noise_frac"], n))
    return pd.DataFrame(
        {"time_s": t, "potential_V": e, "current_A": i, "potential_noise_free_V": e_nf}
    )


def _record_blocks(design: pd.DataFrame, p: dict, seed: int, size: int = 256):
    """Noisy records of consecutive blocks of spots: yields (rows, t, E, I) arrays.

    The numbers of :func:`_spot_record` (same curve, same per-spot noise streams), for
    ``size`` spots at a time: the noise-free curves are evaluated as one array.
    """
    from platescope.simulate._echem_model import _e_only

    dur = p["duration_s"]
    m = int(math.floor(dur / p["sample_period_s"] + 1e-9)) + 1
    t = np.arange(m) * p["sample_period_s"]
    par = design.attrs.get("curve_params")
    if par is None or len(par["t_scale_s"]) != len(design):
        curves = design["curve"].tolist()
        par = {
            k: np.array([getattr(c, k) for c in curves])
            for k in ("t_scale_s", "E_plateau_V", "dE_sei_V", "eta_amp_V")
        }
    ns = p["noise_scale"]
    spots = design["spot"].to_numpy(int)
    amps = design["current_A"].to_numpy(float)
    for lo in range(0, len(design), size):
        r = np.arange(lo, min(lo + size, len(design)))
        e_nf = _e_only(
            t[None, :] / par["t_scale_s"][r][:, None],
            par["E_plateau_V"][r][:, None],
            par["dE_sei_V"][r][:, None],
            par["eta_amp_V"][r][:, None],
        )
        e = np.empty_like(e_nf)
        i = np.empty_like(e_nf)
        for k, row in enumerate(r):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 31337, int(spots[row])]))
            e[k] = e_nf[k] + rng.normal(0.0, ns * p["potential_noise_V"], m)
            i[k] = amps[row] * (1.0 + rng.normal(0.0, ns * p["current_noise_frac"], m))
        yield r, t, e, i


# --------------------------------------------------------------------------- writers
def _fmt_block(cols: list[np.ndarray], fmts: list[str], sep: str = ",") -> str:
    """Rows of numbers as text: one printf-style pass over all values (fmts per column)."""
    n = len(cols[0])
    if n == 0:
        return ""
    row = sep.join(fmts) + "\n"
    values = np.column_stack([np.asarray(c, dtype=float) for c in cols]).ravel().tolist()
    return (row * n) % tuple(values)


class _FolderSwap:
    """Write files into a hidden temp folder, then swap it into place in one rename."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))

    def commit(self) -> None:
        old = None
        if self.dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.old-", dir=self.dest.parent))
            self.dest.rename(old / "previous")
        self.tmp.rename(self.dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _write_platescope(out: Path, design: pd.DataFrame, p: dict, seed: int) -> dict:
    from platescope.io._echem_eclab_text import write_eclab_mpt

    ext = p["echem_format"]
    swap = _FolderSwap(out / "spots")
    paths = []
    try:
        spot_ids = design["spot"].to_numpy(int)
        for rows, t, e, i in _record_blocks(design, p, seed):
            for k, row in enumerate(rows):
                spot = int(spot_ids[row])
                name = f"spot_{spot:05d}.{ext}"
                target = swap.tmp / name
                if ext == "csv":
                    text = "time_s,potential_V,current_A\n" + _fmt_block(
                        [t, e[k], i[k]], ["%.6f", "%.7f", "%.6e"]
                    )
                    target.write_text(text, encoding="utf-8")
                else:
                    write_eclab_mpt(
                        target,
                        pd.DataFrame({"time_s": t, "potential_V": e[k], "current_A": i[k]}),
                        t0_local=T0_LOCAL + timedelta(seconds=10.0 * spot),
                    )
                paths.append(f"spots/{name}")
        swap.commit()
    except BaseException:
        swap.discard()
        raise
    index = pd.DataFrame(
        {
            "spot": design["spot"].to_numpy(int),
            "x_um": design["x_um"].round(4),
            "y_um": design["y_um"].round(4),
            "condition": design["condition"].to_numpy(int),
            "current_density_mA_cm2": design["current_density_mA_cm2"].round(6),
            "path": paths,
            "area_cm2": design["area_cm2"].map(lambda a: float(f"{a:.6e}")),
            "duration_s": p["duration_s"],
        }
    )
    atomic_write_text(out / "spots.csv", index.to_csv(index=False))
    return {"seccm": {"layout": "platescope", "spots": "spots.csv"}, "inputs": ["spots.csv"]}


def _hops(design: pd.DataFrame, p: dict, seed: int):
    """(row, record) of every spot in order: ``row`` has spot, x_um, y_um; record E and I."""
    spot = design["spot"].to_numpy(int)
    x = design["x_um"].to_numpy(float)
    y = design["y_um"].to_numpy(float)
    for rows, _t, e, i in _record_blocks(design, p, seed):
        for k, r in enumerate(rows):
            yield (
                {"spot": int(spot[r]), "x_um": float(x[r]), "y_um": float(y[r])},
                {"potential_V": e[k], "current_A": i[k]},
            )


def _hop_arrays(row, p: dict, seed: int, rec) -> dict[str, np.ndarray]:
    """Approach + contact record + retract of one hop (vendor layouts)."""
    dt = p["sample_period_s"]
    n_a = int(round(p["approach_s"] / dt))
    n_r = max(int(round(p["retract_s"] / dt)), 1)
    n_m = len(rec["potential_V"])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4242, int(row["spot"])]))
    ns = p["noise_scale"]
    z_contact = 0.5 + 1e-3 * float(row["x_um"]) + 5e-4 * float(row["y_um"])  # gently tilted sample
    z = np.concatenate(
        [
            np.linspace(z_contact + 2.0 * p["approach_s"], z_contact, n_a, endpoint=False)
            if n_a
            else np.zeros(0),
            np.full(n_m, z_contact),
            z_contact + 2.0 * dt * np.arange(1, n_r + 1),
        ]
    )
    n = z.size
    v = np.concatenate(
        [
            OVERLOAD_V + rng.normal(0, 1e-3, n_a),
            np.asarray(rec["potential_V"]),
            OVERLOAD_V + rng.normal(0, 1e-3, n_r),
        ]
    )
    i = np.concatenate(
        [
            rng.normal(0, 2e-13 * max(ns, 0.0), n_a),
            np.asarray(rec["current_A"]),
            rng.normal(0, 2e-13 * max(ns, 0.0), n_r),
        ]
    )
    stage = np.concatenate([np.zeros(n_a, int), np.ones(n_m, int), np.full(n_r, 2)])
    return {
        "x": float(row["x_um"]) + rng.normal(0, 0.003, n),
        "y": float(row["y_um"]) + rng.normal(0, 0.003, n),
        "z": z,
        "v": v,
        "i": i,
        "stage": stage,
        "n": n,
    }


def _programs(design: pd.DataFrame, p: dict) -> list[dict]:
    a_nom = math.pi * (0.5 * p["footprint_diameter_um"]) ** 2 * 1e-8
    out = []
    for c, grp in design.groupby("condition", sort=True):
        j = float(grp["current_density_nominal_mA_cm2"].iloc[0])
        out.append(
            {
                "condition_id": int(c),
                "condition_name": f"j = {j:.3g} mA cm-2",
                "measurement_program": {
                    "technique": "galvanostatic",
                    "current_na": round(float(grp["current_A"].iloc[0]) * 1e9, 9),
                    "duration_s": p["duration_s"],
                    "current_density_mA_cm2": round(j, 6),
                    "footprint_area_cm2": float(f"{a_nom:.6e}"),
                },
            }
        )
    return out


def _write_echemtips(out: Path, design: pd.DataFrame, p: dict, seed: int) -> dict:
    dt = p["sample_period_s"]
    columns = [
        "elapsed_s",
        "x_um",
        "y_um",
        "z_um",
        "voltage1_v",
        "voltage2_v",
        "current1_na",
        "current2_na",
        "line_number",
        "scan_pixel",
    ]
    fmts = ["%.9f", "%.5f", "%.5f", "%.5f", "%.7f", "%.7f", "%.10g", "%.10g", "%d", "%d"]
    csv_path = out / f"{STEM}.csv"
    n_samples = 0
    line = 0
    t_next = 0.0
    move_s = p["spacing_um"] / 2.0  # lateral move at 2 µm s⁻¹ (not recorded)
    with atomic_open(csv_path, "w", encoding="utf-8") as fh:
        fh.write(",".join(columns) + "\n")
        # setup rows before the first hop (scan_pixel −1)
        n0 = 20
        t0 = np.arange(n0) * dt
        fh.write(
            _fmt_block(
                [
                    t0,
                    np.zeros(n0),
                    np.zeros(n0),
                    np.full(n0, 5.0),
                    np.full(n0, OVERLOAD_V),
                    np.zeros(n0),
                    np.zeros(n0),
                    np.zeros(n0),
                    np.zeros(n0, int),
                    np.full(n0, -1),
                ],
                fmts,
            )
        )
        n_samples += n0
        t_next = n0 * dt + move_s
        for row, rec in _hops(design, p, seed):
            h = _hop_arrays(row, p, seed, rec)
            n = h["n"]
            t = t_next + np.arange(n) * dt
            fh.write(
                _fmt_block(
                    [
                        t,
                        h["x"],
                        h["y"],
                        h["z"],
                        h["v"],
                        np.zeros(n),
                        h["i"] * 1e9,
                        np.zeros(n),
                        line + 1 + h["stage"],
                        np.full(n, int(row["spot"])),
                    ],
                    fmts,
                )
            )
            line += 3
            n_samples += n
            t_next = t[-1] + dt + move_s
    progs = {g["condition_id"]: g for g in _programs(design, p)}
    pixels = []
    for _, row in design.iterrows():
        prog = progs[int(row["condition"])]
        pixels.append(
            {
                "scan_pixel": int(row["spot"]),
                "scan_row": int(row["row"]),
                "scan_column": int(row["column"]),
                "x_um": round(float(row["x_um"]), 5),
                "y_um": round(float(row["y_um"]), 5),
                "condition_id": prog["condition_id"],
                "condition_name": prog["condition_name"],
                "measurement_program": prog["measurement_program"],
            }
        )
    meta = {
        "experiment": "Scan hopping + galvanostatic (simulated by platescope)",
        "started_at": T0_LOCAL.isoformat(timespec="seconds"),
        "finished_at": (T0_LOCAL + timedelta(seconds=t_next)).isoformat(timespec="seconds"),
        "sample_count": n_samples,
        "status": "complete",
        "recording_schema_version": 2,
        "csv_columns": columns,
        "settings": {"sample_interval_s": dt, "current1_sensitivity": "1 nA/V"},
        "parameters": {
            "technique": "scan_hopping_galvanostatic",
            "overload_potential_v": OVERLOAD_V,
            "contact_potential_drop_v": CONTACT_DROP_V,
            "retract_distance_um": 8.0,
            "approach_rate_um_s": 2.0,
            "footprint_diameter_um": p["footprint_diameter_um"],
            "combinatorial": {
                "enabled": True,
                "assignment": "row_blocks",
                "recipes": [
                    {
                        "condition_id": g["condition_id"],
                        "condition_name": g["condition_name"],
                        **g["measurement_program"],
                    }
                    for g in progs.values()
                ],
            },
        },
        "source_elapsed_origin_s": 0.0,
        "scan_grid": {
            "coordinate_unit": "um",
            "path": "serpentine",
            "pixel_count": len(pixels),
            "pixels": pixels,
        },
    }
    write_json_atomic(out / f"{STEM}.json", meta)
    return {
        "seccm": {"layout": "echemtips", "path": f"{STEM}.csv", "settings": f"{STEM}.json"},
        "inputs": [f"{STEM}.csv", f"{STEM}.json"],
    }


#: WEC-SPM channel lines written (label, key in the hop dict, format).
_WEC_CHANNELS = (
    ("X", "x", "%.5f"),
    ("Y", "y", "%.5f"),
    ("Z", "z", "%.5f"),
    ("V1", "v", "%.7f"),
    ("Current1", "i", "%.6e"),
    ("Feedback Type", "fb", "%d"),
    ("Line Number", "line", "%d"),
    ("dt (s)", "t", "%.6f"),
)
#: Feedback Type values of the platescope WEC-SPM layout.
WEC_FEEDBACK = {"approach": 1, "hold": 0, "retract": 2}


def _write_wecspm(out: Path, design: pd.DataFrame, p: dict, seed: int) -> dict:
    dt = p["sample_period_s"]
    tsv_path = out / f"{STEM}.tsv"
    tmpdir = Path(tempfile.mkdtemp(prefix=".wecspm-", dir=out))
    try:
        handles = {
            key: open(tmpdir / f"{k}.txt", "w", encoding="utf-8")  # noqa: SIM115
            for k, (_, key, _) in enumerate(_WEC_CHANNELS)
        }
        try:
            line = 0
            t_next = 0.0
            fb_of_stage = np.array(
                [WEC_FEEDBACK["approach"], WEC_FEEDBACK["hold"], WEC_FEEDBACK["retract"]]
            )
            for row, rec in _hops(design, p, seed):
                h = _hop_arrays(row, p, seed, rec)
                n = h["n"]
                h["t"] = t_next + np.arange(n) * dt
                h["fb"] = fb_of_stage[h["stage"]]
                h["line"] = line + 1 + h["stage"]
                for _, key, fmt in _WEC_CHANNELS:
                    vals = np.asarray(h[key])
                    vals = vals.tolist() if fmt == "%d" else vals.astype(float).tolist()
                    handles[key].write(("\t" + fmt) * len(vals) % tuple(vals))
                line += 3
                t_next = h["t"][-1] + dt  # dt (s) counts sampled time only
        finally:
            for fh in handles.values():
                fh.close()
        with atomic_open(tsv_path, "wb") as fh:
            for k, (label, _, _) in enumerate(_WEC_CHANNELS):
                fh.write(label.encode())
                with open(tmpdir / f"{k}.txt", "rb") as src:
                    shutil.copyfileobj(src, fh, 1 << 20)
                fh.write(b"\r\n")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    progs = _programs(design, p)
    counts = design.groupby("condition").size()
    lines = [
        "# WEC-SPM settings (simulated by platescope)",
        "Technique\tGalvanostatic hopping",
        "Sample Time (us)\t10",
        f"Samples per data point\t{round(dt / 10e-6 - 1)}",
        f"Hop X points\t{int(design.attrs.get('grid_columns', design['column'].max() + 1))}",
        f"Hop Y points\t{int(design['row'].max()) + 1}",
        f"Hop spacing (um)\t{p['spacing_um']}",
        "Retract distance (um)\t8",
        "Approach rate (um/s)\t2",
        f"Overload potential (V)\t{OVERLOAD_V}",
        f"Contact potential drop (V)\t{CONTACT_DROP_V}",
        f"Galvanostatic duration (s)\t{p['duration_s']}",
        f"Footprint diameter (um)\t{p['footprint_diameter_um']}",
        f"Feedback type approach\t{WEC_FEEDBACK['approach']}",
        f"Feedback type hold\t{WEC_FEEDBACK['hold']}",
        f"Feedback type retract\t{WEC_FEEDBACK['retract']}",
        f"Number of conditions\t{len(progs)}",
        "Condition order\trow blocks",
    ]
    for g in progs:
        k = g["condition_id"]
        lines.append(
            f"Condition {k + 1} current (A)\t{g['measurement_program']['current_na'] * 1e-9:.6e}"
        )
        lines.append(f"Condition {k + 1} hops\t{int(counts.loc[k])}")
    atomic_write_text(out / f"{STEM}.set", "\r\n".join(lines) + "\r\n")
    return {
        "seccm": {"layout": "wec-spm", "path": f"{STEM}.tsv", "settings": f"{STEM}.set"},
        "inputs": [f"{STEM}.tsv", f"{STEM}.set"],
    }


def _nan_none(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def truth_rows(design: pd.DataFrame) -> list[dict]:
    """Per-condition truth rows (DESIGN §3 ``combinatorial``) from the planted spots.

    Examples
    --------
    >>> rows = truth_rows(make_spot_design(seed=0, n_conditions=2, n_repeats=2))
    >>> [r["n"] for r in rows]
    [2, 2]
    """
    out = []
    for c, g in design.groupby("condition", sort=True):
        nuc = g[g["nucleated"]]
        k = len(nuc)

        def m(col, grp=nuc):
            return _nan_none(float(grp[col].mean())) if len(grp) else None

        def s(col, grp=nuc):
            return _nan_none(float(grp[col].std(ddof=1))) if len(grp) > 1 else None

        out.append(
            {
                "condition": int(c),
                "current_density_mA_cm2": float(g["current_density_mA_cm2"].mean()),
                "current_density_nominal_mA_cm2": float(
                    g["current_density_nominal_mA_cm2"].iloc[0]
                ),
                "current_A": float(g["current_A"].iloc[0]),
                "n": int(len(g)),
                "n_nucleated": int(k),
                "fraction_nucleated": k / len(g),
                "E_nuc_V_mean": m("E_nuc_V"),
                "E_nuc_V_sd": s("E_nuc_V"),
                "t_nuc_s_mean": m("t_nuc_s"),
                "t_nuc_s_sd": s("t_nuc_s"),
                "Q_nuc_uAh_cm2_mean": m("Q_nuc_uAh_cm2"),
                "E_growth_V_mean": m("E_growth_V"),
                "E_growth_V_sd": s("E_growth_V"),
                "eta_nuc_V_mean": m("eta_nuc_V"),
            }
        )
    return out


@register(SCENARIO, PARAMETERS)
def seccm_combinatorial(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated combinatorial SECCM hopping experiment and its truth to ``out``.

    See the module docstring for the model; the layouts are documented in
    ``docs/seccm_combinatorial.md``.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (``--set`` keys of :data:`PARAMETERS`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = seccm_combinatorial(tempfile.mkdtemp(), n_conditions=2, n_repeats=2)
    >>> p.name
    'experiment.toml'
    """
    p = resolve_params(PARAMETERS, params)
    _check(p)
    design = make_spot_design(seed=seed, **p)
    out = prepare_output_dir(out, SCENARIO)
    writer = {
        "platescope": _write_platescope,
        "echemtips": _write_echemtips,
        "wec-spm": _write_wecspm,
    }
    files = writer[p["layout"]](out, design, p, int(seed))
    truth_cols = [
        "spot", "condition", "x_um", "y_um", "current_density_mA_cm2", "current_density_nominal_mA_cm2",
        "current_A", "area_cm2", "nucleated", "E_nuc_V", "t_nuc_s", "Q_nuc_uAh_cm2", "E_growth_V",
        "eta_nuc_V", "t_nuc_model_s", "E_start_V",
    ]  # fmt: skip
    atomic_write_text(out / "truth" / "spots.csv", design[truth_cols].to_csv(index=False))
    rows = truth_rows(design)
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": p,
        "combinatorial": rows,
        "combinatorial_run": {
            "n_spots": int(len(design)),
            "n_conditions": int(design["condition"].nunique()),
            "layout": p["layout"],
            "n_nucleated": int(design["nucleated"].sum()),
        },
        "definitions": (
            "per spot: E_nuc/t_nuc = exact minimum of the noise-free curve; Q_nuc = j·t_nuc; "
            f"E_growth = mean noise-free potential over the last {E_GROWTH_TAIL_FRACTION:.0%} of the record; "
            f"nucleated = the noise-free curve rises ≥ {TURN_THRESHOLD_V * 1e3:g} mV after its minimum within "
            "the record. Per condition: means and sd (ddof 1) over the nucleated spots; "
            "current_density_mA_cm2 = mean of the spots' |I|/A_footprint"
        ),
        "files": {
            "spots": "truth/spots.csv",
            **{k: v for k, v in files["seccm"].items() if k != "layout"},
        },
    }
    write_json_atomic(out / "truth" / "truth.json", truth)
    exp = {
        "experiment": {
            "scenario": SCENARIO,
            "name": f"{SCENARIO} (simulated, seed {int(seed)}, {p['layout']})",
        },
        "electrode": {"film_metal": "Au", "film_thickness_nm": 20.0},
        "seccm": files["seccm"],
    }
    return atomic_write_text(out / "experiment.toml", tomli_w.dumps(exp))
