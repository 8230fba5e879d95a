"""A 1-D model of galvanostatic stripping with contact loss by voids (SCIENCE.md §3).

Siniscalchi et al. (ACS Energy Lett. 2022) explain why Li metal strips more capacity
than Li₀.₉Mg₀.₁ at 1 mA cm⁻² but much less at 0.1 mA cm⁻²: Li diffuses ~7× faster in Li
metal, but Li metal loses contact with the solid electrolyte by large voids after a
similar stripped capacity at either current, whereas the Mg left behind keeps the
alloy in contact — an *effective* diffusivity set by bulk D and by the contact area.
This module turns that argument into a small, documented model.

Model
-----
State per (material, current): the Li site fraction ``u(x, t) = c/c₀`` behind the
contacting patches (x = depth from the interface, semi-infinite) and the contact
fraction ``a(t)`` of the nominal interface (a(0) = 1). The current density ``j`` is held
(galvanostatic). In Li-thickness units the stripping flux is ``J = j/(zFc₀)`` (cm s⁻¹).

1. Bulk: ``∂u/∂t = D ∂²u/∂x²``, ``u(x, 0) = 1``, ``u(∞, t) = 1``.
2. Supply by diffusion: of the stripped Li, a fraction ``1 − φ`` is drawn from the bulk
   through the contacting area, so the diffusion column behind a contact must deliver
   ``D ∂u/∂x|₀ = (1 − φ) J / a`` (per contact area; the effective diffusivity of the
   electrode per nominal area is D·a).
3. Limit: the interfacial Li fraction cannot drop below ``u_min`` (0 by default: the
   interface is emptied; this is Sand's condition). When it would, the supply is
   capped at whatever keeps ``u(0) = u_min``.
4. Voids: Li not supplied by bulk diffusion comes from the interface itself, i.e.
   opens voids. Void Li per nominal area per time ``J_v = J (1 − a·g)`` where ``g·J``
   is the delivered flux per contact area; ``J_v = φJ`` while diffusion keeps up, and
   grows towards ``J`` once the interface is emptied. A void of height ``h_v`` over an
   area costs that area its contact: ``da/dt = −J_v / h_v``.
5. Failure: ``a`` reaches ``a_fail`` (the contact resistance has grown 1/a_fail-fold —
   the voltage cut-off of a real cell). The capacity is ``Q = j t_fail``.

``φ`` (``void_fraction``) is the morphological part: the share of the stripped Li taken
by growing voids even while bulk diffusion keeps up (large, coalescing voids at a Li
metal | electrolyte interface — the paper's "similar number of voids after the same
stripped capacity"); the Mg-rich skeleton left behind by the alloy suppresses it.
``h_v`` (``void_height_um``) converts void volume into lost contact area.

Limits (checked by the tests): with ``φ = 0`` the interface empties at exactly
Sand's time ``t* = πD/(4J²)`` (capacity πD(zFc₀)²/(4j)); with fast diffusion the
capacity is current-independent, ``Q = zFc₀ h_v (1 − a_fail)/φ``. The capacity before
failure is therefore ≈ min(diffusion-limited, morphology-limited), with the
interplay (a shrinking contact concentrates the flux, which empties the interface
sooner) computed numerically.

Numerics
--------
In Sand-scaled variables ``τ = t/t_S`` (``t_S = πD/(4J²)``) and ``ξ = x/√(D t_S)`` every
(material, current) pair solves the same diffusion equation ``∂u/∂τ = ∂²u/∂ξ²`` with
the boundary flux ``∂u/∂ξ|₀ = (√π/2)·g``; the contact law becomes
``da/dτ = −(1 − a g)·L_S/h_v`` with the Sand thickness ``L_S = J t_S = πD/(4J)``. So all
pairs share one tridiagonal matrix: a vertex-centred finite-volume grid (geometric
spacing, finest 2.5 × 10⁻³ at the interface, to ξ = max(60, 8√τ_max)), backward
Euler on log-spaced τ steps (1e-7 … τ_max, by default long enough for every pair to
fail), the interfacial cap applied exactly through the linearity of the step
(``u = p − q w`` with ``w`` the response to a unit boundary flux), ``a`` advanced
explicitly and the failure time interpolated inside the step.
Measured (validation/stripping_limits.py): the φ = 0 interface empties within 0.4 % of
Sand's time; capacities agree with a 300-node × 8000-step run within 0.9 %; 2
materials × 42 currents take 0.3 s on an idle core (1.2 s on the shared, loaded
2-core machine).

Default parameters (:data:`LI_METAL`, :data:`LI_MG_10`): D from the paper (1.6e-10
and 2.4e-11 cm² s⁻¹); c₀ = 1/13.0 and 0.9/13.0 mol cm⁻³ (see
:mod:`platescope.models._stripping`); ``h_v`` = 1 µm for both (µm-scale gaps in the
paper's cryo-PFIB sections); ``φ`` = 0.5 for Li metal and 0.02 for Li–Mg;
``a_fail`` = 0.1. The paper gives no values for φ, h_v or a_fail — these are
illustrative, chosen to be physically plausible, and the qualitative result (Li
ahead at high j, Li–Mg ahead at low j) holds over a wide range of them (see
docs/stripping_limits.md for the sensitivity runs).

Examples
--------
>>> tab = void_model_capacity([0.1, 1.0])
>>> piv = tab.pivot(index="j_mA_cm2", columns="material", values="capacity_mAh_cm2")
>>> bool(piv.loc[1.0, "Li metal"] > piv.loc[1.0, "Li0.9Mg0.1"])  # Li ahead at high j
True
>>> bool(piv.loc[0.1, "Li0.9Mg0.1"] > 4 * piv.loc[0.1, "Li metal"])  # alloy ahead at low j
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from platescope.models._faraday import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL

_MAH_PER_C = 1.0 / 3.6
_HALF_SQRT_PI = 0.5 * np.sqrt(np.pi)


@dataclass(frozen=True)
class StrippingMaterial:
    """Parameters of one electrode material for :func:`void_model_capacity`.

    Parameters
    ----------
    name : str
        Label used in tables and figures.
    D_cm2_s : float
        Li diffusivity in the electrode, cm² s⁻¹.
    c_mol_cm3 : float
        Li concentration, mol cm⁻³.
    void_fraction : float
        φ in [0, 1): share of the stripped Li taken by growing voids while bulk
        diffusion keeps up (interface morphology).
    void_height_um : float
        h_v, µm: void volume per unit of lost contact area.
    u_min : float
        Lowest interfacial Li fraction (c/c₀) the lattice can be emptied to, in [0, 1).
    """

    name: str
    D_cm2_s: float
    c_mol_cm3: float
    void_fraction: float
    void_height_um: float
    u_min: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.D_cm2_s) and self.D_cm2_s > 0):
            raise ValueError(f"{self.name}: D_cm2_s must be positive")
        if not (np.isfinite(self.c_mol_cm3) and self.c_mol_cm3 > 0):
            raise ValueError(f"{self.name}: c_mol_cm3 must be positive")
        if not 0.0 <= self.void_fraction < 1.0:
            raise ValueError(f"{self.name}: void_fraction must be in [0, 1)")
        if not self.void_height_um > 0:
            raise ValueError(f"{self.name}: void_height_um must be positive")
        if not 0.0 <= self.u_min < 1.0:
            raise ValueError(f"{self.name}: u_min must be in [0, 1)")

    def as_dict(self) -> dict:
        """The parameters as a plain dict (for summary.json)."""
        return asdict(self)


LI_METAL = StrippingMaterial(
    name="Li metal",
    D_cm2_s=1.6e-10,
    c_mol_cm3=1.0 / LI_MOLAR_VOLUME_CM3_MOL,
    void_fraction=0.5,
    void_height_um=1.0,
)
"""Li metal: D*(Li) of the paper; voids coalesce into a continuous gap (large φ)."""

LI_MG_10 = StrippingMaterial(
    name="Li0.9Mg0.1",
    D_cm2_s=2.4e-11,
    c_mol_cm3=0.9 / LI_MOLAR_VOLUME_CM3_MOL,
    void_fraction=0.0,
    void_height_um=0.2,
)
"""Li₀.₉Mg₀.₁: D_Li of the paper; the Mg skeleton keeps contact (small φ)."""


def _grid(n_x: int, xi_max: float, h0: float) -> np.ndarray:
    """Geometric grid on [0, xi_max] with first spacing h0 and n_x nodes."""
    n = n_x - 1
    lo, hi = 1.0 + 1e-12, 2.0
    for _ in range(200):  # bisection for the growth ratio
        r = 0.5 * (lo + hi)
        if h0 * (r**n - 1.0) / (r - 1.0) > xi_max:
            hi = r
        else:
            lo = r
    r = 0.5 * (lo + hi)
    x = np.concatenate([[0.0], np.cumsum(h0 * r ** np.arange(n))])
    return x * (xi_max / x[-1])


def void_model_capacity(
    j_mA_cm2,
    materials: Sequence[StrippingMaterial] = (LI_METAL, LI_MG_10),
    *,
    a_fail: float = 0.1,
    z: int = 1,
    n_x: int = 120,
    n_t: int = 1500,
    tau_max: float | None = None,
) -> pd.DataFrame:
    """Stripped capacity before failure by contact loss, for each material and current.

    Parameters
    ----------
    j_mA_cm2 : float or array_like
        Stripping current densities, mA cm⁻² (> 0).
    materials : sequence of StrippingMaterial
        Electrode materials (default Li metal and Li₀.₉Mg₀.₁ of the paper).
    a_fail : float
        Contact fraction at which the cell fails, in (0, 1).
    z : int
        Charge number.
    n_x : int
        Grid nodes in depth.
    n_t : int
        Log-spaced time steps from τ = 1e-7 to τ = 60 (more, at the same density per
        decade, when the run is longer).
    tau_max : float, optional
        Longest simulated time in units of each pair's Sand time. Default: long
        enough for every pair to fail — 1.5 × (its diffusion-limited time
        1/(1 − φ)² plus the time to lose the contact by voids alone,
        (1 − a_fail)·h_v/L_S), at least 60, at most 10⁸. Pairs still in contact then
        get NaN capacity and ``limited_by = "no failure"``.

    Returns
    -------
    pandas.DataFrame
        One row per (material, current): ``material``, ``j_mA_cm2``,
        ``capacity_mAh_cm2``, ``t_fail_s``, ``sand_capacity_mAh_cm2`` (πD(zFc)²/(4j)),
        ``morphology_capacity_mAh_cm2`` (zFc h_v (1 − a_fail)/φ, inf when φ = 0),
        ``t_empty_s`` (when the interface first reached u_min, NaN if never),
        ``diffusion_void_fraction`` (share of the void volume opened because diffusion
        could not keep up) and ``limited_by`` ("diffusion" when bulk diffusion emptied the
        interface before the contact failed, else "contact loss").

    Examples
    --------
    >>> t = void_model_capacity([0.01, 100.0], [LI_METAL])
    >>> t["limited_by"].tolist()
    ['contact loss', 'diffusion']
    """
    import pandas as pd
    from scipy.linalg import solve_banded

    j = np.atleast_1d(np.asarray(j_mA_cm2, dtype=float)).ravel()
    if j.size == 0 or not np.all(np.isfinite(j)) or np.any(j <= 0):
        raise ValueError("j_mA_cm2 must be finite and positive")
    if not 0.0 < a_fail < 1.0:
        raise ValueError("a_fail must be in (0, 1)")
    if not materials:
        raise ValueError("give at least one material")
    mats = list(materials)
    # one column per (material, current)
    m_idx = np.repeat(np.arange(len(mats)), j.size)
    jj = np.tile(j, len(mats))
    D = np.array([mats[k].D_cm2_s for k in m_idx])
    c0 = np.array([mats[k].c_mol_cm3 for k in m_idx])
    phi = np.array([mats[k].void_fraction for k in m_idx])
    h_v = np.array([mats[k].void_height_um for k in m_idx]) * 1e-4  # cm
    u_min = np.array([mats[k].u_min for k in m_idx])
    zfc = z * FARADAY_C_MOL * c0  # C cm⁻³
    J = jj * 1e-3 / zfc  # cm s⁻¹
    t_S = np.pi * D / (4.0 * J**2)  # s
    L_S = J * t_S  # cm
    kappa = L_S / h_v  # contact lost per unit τ when all stripped Li comes from voids

    if tau_max is None:
        need = 1.0 / (1.0 - phi) ** 2 + (1.0 - a_fail) / kappa
        tau_max = float(np.clip(1.5 * need.max(), 60.0, 1e8))
    elif not tau_max > 0:
        raise ValueError("tau_max must be positive")
    # same density of steps per decade as n_t steps over 1e-7 … 60
    n_steps = max(int(n_t), int(np.ceil(n_t * np.log(tau_max / 1e-7) / np.log(60.0 / 1e-7))))
    xi = _grid(n_x, xi_max=max(60.0, 8.0 * np.sqrt(tau_max)), h0=2.5e-3)
    h = np.diff(xi)
    V = np.empty(n_x)
    V[0] = 0.5 * h[0]
    V[1:-1] = 0.5 * (h[:-1] + h[1:])
    V[-1] = 0.5 * h[-1]  # unused (Dirichlet node)
    cond = 1.0 / h  # conductance between node i and i+1

    n_col = jj.size
    u = np.ones((n_x, n_col))
    a = np.ones(n_col)
    alive = np.ones(n_col, bool)
    tau_fail = np.full(n_col, np.nan)
    tau_empty = np.full(n_col, np.nan)
    void_total = np.zeros(n_col)  # in units of L_S (τ-integrated void flux / J)
    void_diff = np.zeros(n_col)
    taus = np.concatenate([[0.0], np.geomspace(1e-7, tau_max, n_steps)])
    e0 = np.zeros(n_x)
    e0[0] = 1.0
    for k in range(1, taus.size):
        dt = taus[k] - taus[k - 1]
        # banded (V/dt − L) with Dirichlet u = 1 at the last node
        diag = V / dt
        diag[:-1] += cond
        diag[1:-1] += cond[:-1]
        upper = np.zeros(n_x)
        lower = np.zeros(n_x)
        upper[1:] = -cond
        lower[:-1] = -cond
        diag[-1] = 1.0
        lower[-2] = 0.0
        ab = np.vstack([upper, diag, lower])
        rhs = (V / dt)[:, None] * u
        rhs[-1] = 1.0
        sol = solve_banded((1, 1), ab, np.column_stack([rhs, e0]), check_finite=False)
        p, w = sol[:, :-1], sol[:, -1]
        q_dem = _HALF_SQRT_PI * (1.0 - phi) / a  # demanded boundary flux (scaled)
        q_cap = np.maximum((p[0] - u_min) / w[0], 0.0)
        q = np.minimum(q_dem, q_cap)
        capped = q_cap < q_dem
        u = p - q[None, :] * w[:, None]
        g = q / _HALF_SQRT_PI  # delivered flux per contact area, units of J
        s_void = np.clip(1.0 - a * g, 0.0, 1.0)
        s_diff = np.clip(s_void - phi, 0.0, None)
        a_new = a - dt * s_void * kappa
        newly_empty = alive & capped & np.isnan(tau_empty)
        tau_empty[newly_empty] = taus[k - 1]
        fails = alive & (a_new <= a_fail)
        frac = np.ones(n_col)
        if fails.any():
            frac[fails] = (a[fails] - a_fail) / (a[fails] - a_new[fails])
            tau_fail[fails] = taus[k - 1] + frac[fails] * dt
        void_total += np.where(alive, frac * dt * s_void, 0.0)
        void_diff += np.where(alive, frac * dt * s_diff, 0.0)
        alive &= ~fails
        a = np.where(alive, a_new, a)
        if not alive.any():
            break

    t_fail = tau_fail * t_S
    Q = jj * 1e-3 * t_fail * _MAH_PER_C
    sand_Q = np.pi * D * zfc**2 / (4.0 * jj * 1e-3) * _MAH_PER_C
    with np.errstate(divide="ignore"):
        morph_Q = np.where(phi > 0, zfc * h_v * (1.0 - a_fail) / phi * _MAH_PER_C, np.inf)
    diff_share = np.where(void_total > 0, void_diff / np.where(void_total > 0, void_total, 1), 0.0)
    limited = np.where(
        np.isnan(tau_fail),
        "no failure",
        np.where(np.isfinite(tau_empty), "diffusion", "contact loss"),
    )
    return pd.DataFrame(
        {
            "material": [mats[k].name for k in m_idx],
            "j_mA_cm2": jj,
            "capacity_mAh_cm2": Q,
            "t_fail_s": t_fail,
            "sand_capacity_mAh_cm2": sand_Q,
            "morphology_capacity_mAh_cm2": morph_Q,
            "t_empty_s": tau_empty * t_S,
            "diffusion_void_fraction": diff_share,
            "limited_by": limited,
        }
    )
