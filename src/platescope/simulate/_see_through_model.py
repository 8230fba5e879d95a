"""Forward model of the "see-through" operando experiment (SCIENCE.md §1).

A transparent Au or Ag film (thickness h, electrode area A) on glass is lithiated
galvanostatically for several cycles while a camera records it in transmission
("trans") and reflection ("epi"). This module holds the pieces the scenario
functions in :mod:`platescope.simulate._see_through` assemble:

- :func:`build_schedule` — the charge bookkeeping of every half-cycle and stage
  (SEI, alloying steps, Li metal; Li dissolution, dealloying steps) on the time axis;
- :func:`potential_curve` — the noise-free potential of the whole record;
- :class:`Scene` / :func:`render_frames` — per-pixel optical state → trans and epi
  intensities of the frames.

Potential of a cathodic half-cycle, as a function of the charge q passed since the
half-cycle began (C)::

    E(q) = L_0 + Σ_j (L_j − L_{j−1})·σ((q − q_j)/w_j) + (E_start − L_0)·exp(−q/q_d) − β·q

with σ the logistic function, q_j the planted stage boundaries (SEI end, end of
each alloying step), L_j the plateau levels, w_j the transition widths and β a
slope (zero-ish for Au; for Ag a clear slope so that there are no flat plateaus).
The steepest point of each logistic transition is exactly q_j, which is the
definition of a stage boundary the analysis recovers. The anodic half-cycle is the
mirror image: Li dissolution, then the dealloying steps in reverse order, and a final
rise ``(E_cut − L)·exp((q − q_end)/q_r)`` that reaches the cut-off at the end.

Optics per pixel: step-j alloying makes the local absorbance rise by ΔA_j through a
logistic in time centred at the pixel's onset time τ_j (the time its normalised
absorbance crosses 0.5); τ_j is an affine map of the rank of a smooth random field
inside the step's time window (minus margins), so the alloyed area grows linearly
with the charge. Step 2's field is anti-correlated with step 1's (complementarity).
Li metal grows as disks (dark in trans, bright in epi) at sites in the "middle"
regions of step 1; during stripping a disk fades (dissolution from the top) and a
pore opens at its centre (bright in trans, dark in epi), first as a void of part of
its final area that then grows linearly to the final area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from platescope.models import FARADAY_C_MOL

#: (density g cm⁻³, molar mass g mol⁻¹) of the film metals.
FILM_METALS = {"Au": (19.3, 196.97), "Ag": (10.49, 107.87)}


def host_moles(metal: str, thickness_nm: float, area_cm2: float) -> float:
    """Moles of film metal: n = ρ·h·A/M."""
    rho, molar = FILM_METALS[metal]
    return rho * thickness_nm * 1e-7 * area_cm2 / molar


@dataclass
class Stage:
    """One planted stage: name, half-cycle, time and charge window, plateau level."""

    cycle: int
    half: str  # "cathodic" | "anodic"
    name: str
    t_start_s: float
    t_end_s: float
    q_start_C: float  # charge since the half-cycle start
    q_end_C: float
    kind: str  # "sei", "alloy", "metal", "dissolution", "dealloy"
    step: int = 0


@dataclass
class HalfCycle:
    cycle: int
    half: str
    t_start_s: float
    t_end_s: float
    q_total_C: float
    boundaries_C: list  # planted transition positions (charge since the half start)
    levels_V: list  # plateau levels, len(boundaries)+1
    widths_C: list
    slope_V_C: float
    e_start_V: float | None = None  # cathodic: potential the SEI decay starts from
    q_decay_C: float = 0.0
    e_cut_V: float | None = None  # anodic: cut-off reached at the end
    q_rise_C: float = 0.0
    sei_join: str = "step"  # cathodic: "step" (logistic) or "kink" (decay meets plateau 1)
    q_kink_decay_C: float = 0.0  # decay length of a kink-type SEI
    stages: list = field(default_factory=list)


def logistic(x):
    """σ(x) = 1/(1 + e^−x), overflow-safe."""
    x = np.clip(x, -60.0, 60.0)
    return 1.0 / (1.0 + np.exp(-x))


def build_schedule(p: dict, metal: str, q_per_x_C: float, current_A: float) -> list[HalfCycle]:
    """All half-cycles of the record with their stages (times from the record start).

    ``current_A`` is the magnitude of the galvanostatic current. Stage charges:
    SEI = ``sei_s``·I (first cycle) or ``sei_later_s``·I; alloying step j = Δx_j·F·n;
    Li metal = ``li_deposit_s``·I; Li dissolution = ``li_strip_efficiency``·Q_Li;
    dealloying returns the alloy's Li.
    """
    dx = ALLOY_STEPS[metal]["dx"]
    lv = ALLOY_STEPS[metal]
    out: list[HalfCycle] = []
    t = 0.0
    for k in range(1, p["n_cycles"] + 1):
        q_sei = (p["sei_s"] if k == 1 else p["sei_later_s"]) * current_A
        bounds = [q_sei]
        for d in dx:
            bounds.append(bounds[-1] + d * q_per_x_C)
        q_li = p["li_deposit_s"] * current_A
        q_tot = bounds[-1] + q_li
        hc = HalfCycle(
            cycle=k,
            half="cathodic",
            t_start_s=t,
            t_end_s=t + q_tot / current_A,
            q_total_C=q_tot,
            boundaries_C=bounds,
            levels_V=[lv["E_sei"]] + list(lv["E_alloy"]) + [lv["E_li"]],
            widths_C=[lv["w_sei_x"] * q_per_x_C] + [w * q_per_x_C for w in lv["w_x"]],
            slope_V_C=lv["slope_V_per_x"] / q_per_x_C,
            e_start_V=lv["E_ocv"] if k == 1 else lv["E_cut"],
            q_decay_C=0.06 * q_sei,
            sei_join=p.get("sei_join", "step"),
            q_kink_decay_C=p.get("sei_kink_decay_frac", 1.0) * q_sei,
        )
        names = ["SEI"] + [f"alloying {j + 1}" for j in range(len(dx))] + ["Li metal"]
        kinds = ["sei"] + ["alloy"] * len(dx) + ["metal"]
        edges = [0.0] + bounds + [q_tot]
        for j, (nm, kd) in enumerate(zip(names, kinds, strict=True)):
            hc.stages.append(
                Stage(
                    k,
                    "cathodic",
                    nm,
                    t + edges[j] / current_A,
                    t + edges[j + 1] / current_A,
                    edges[j],
                    edges[j + 1],
                    kd,
                    j if kd == "alloy" else 0,
                )
            )
        out.append(hc)
        t = hc.t_end_s
        # anodic: Li dissolution, then dealloying n..1
        q_diss = p["li_strip_efficiency"] * q_li
        abounds = [q_diss]
        for d in dx[::-1][:-1]:
            abounds.append(abounds[-1] + d * q_per_x_C)
        q_atot = q_diss + sum(dx) * q_per_x_C
        ha = HalfCycle(
            cycle=k,
            half="anodic",
            t_start_s=t,
            t_end_s=t + q_atot / current_A,
            q_total_C=q_atot,
            boundaries_C=abounds,
            levels_V=[lv["E_diss"]] + list(lv["E_dealloy"]),
            widths_C=[w * q_per_x_C for w in lv["w_x"]],
            slope_V_C=lv["slope_V_per_x"] / q_per_x_C,
            e_cut_V=lv["E_cut"],
            q_rise_C=0.025 * q_per_x_C,
        )
        n = len(dx)
        anames = ["Li dissolution"] + [f"dealloying {n - j}" for j in range(n)]
        akinds = ["dissolution"] + ["dealloy"] * n
        aedges = [0.0] + abounds + [q_atot]
        for j, (nm, kd) in enumerate(zip(anames, akinds, strict=True)):
            ha.stages.append(
                Stage(
                    k,
                    "anodic",
                    nm,
                    t + aedges[j] / current_A,
                    t + aedges[j + 1] / current_A,
                    aedges[j],
                    aedges[j + 1],
                    kd,
                    n - j if kd == "dealloy" else 0,
                )
            )
        out.append(ha)
        t = ha.t_end_s
    return out


#: Plateau levels (V vs Li/Li⁺), x-extent of each alloying step and transition widths
#: (in units of x). Au: plateaus 0.14 and 0.07 V to x = 1.53 and 2.69 (SCIENCE.md §1);
#: Ag: four sloped steps without flat plateaus (x-extents are model choices).
ALLOY_STEPS = {
    "Au": {
        "dx": (1.53, 2.69 - 1.53),
        "E_ocv": 2.9,
        "E_sei": 0.62,
        "E_alloy": (0.14, 0.07),
        "E_li": -0.012,
        "E_diss": 0.025,
        "E_dealloy": (0.19, 0.42),
        "E_cut": 1.2,
        "w_sei_x": 0.02,
        "w_x": (0.03, 0.03),
        "slope_V_per_x": 0.004,
    },
    "Ag": {
        "dx": (0.55, 0.75, 0.95, 1.25),
        "E_ocv": 2.8,
        "E_sei": 0.55,
        "E_alloy": (0.26, 0.18, 0.12, 0.07),
        "E_li": -0.015,
        "E_diss": 0.03,
        "E_dealloy": (0.14, 0.2, 0.26, 0.33),
        "E_cut": 1.2,
        "w_sei_x": 0.02,
        "w_x": (0.04, 0.04, 0.04, 0.04),
        "slope_V_per_x": 0.025,
    },
}


def _tilted_levels(hc: HalfCycle) -> list:
    """Logistic step levels such that, with the slope added, each plateau's midpoint
    sits at its nominal level (the slope must not accumulate across the stages)."""
    b = hc.boundaries_C
    edges = [0.0, *b, hc.q_total_C]
    mids = [0.5 * (edges[j] + edges[j + 1]) for j in range(len(edges) - 1)]
    lv = list(hc.levels_V)
    if hc.half == "cathodic":
        # slope acts from q = 0 to the Li metal boundary; SEI level is taken at q = 0
        return [lv[0]] + [lv[j] + hc.slope_V_C * min(mids[j], b[-1]) for j in range(1, len(lv))]
    return [lv[0]] + [lv[j] - hc.slope_V_C * (mids[j] - b[0]) for j in range(1, len(lv))]


def potential_half(hc: HalfCycle, q: np.ndarray) -> np.ndarray:
    """Noise-free potential of a half-cycle at charges ``q`` (C since its start)."""
    q = np.asarray(q, float)
    lv = _tilted_levels(hc)
    kink = hc.half == "cathodic" and hc.sei_join == "kink"
    e = np.full(q.shape, lv[1] if kink else lv[0], float)
    for j, (qb, w) in enumerate(zip(hc.boundaries_C, hc.widths_C, strict=True)):
        if kink and j == 0:
            continue  # no SEI step: the decay below meets plateau 1 at the boundary
        e += (lv[j + 1] - lv[j]) * logistic((q - qb) / w)
    # the slope acts on the alloy plateaus only: switched off smoothly (softplus) at the
    # Li metal boundary (cathodic) and on after Li dissolution (anodic)
    if kink:
        # a sloping decay from e_start that reaches plateau 1 exactly at the SEI
        # boundary q_s: E continuous there, its slope jumps from −(e_start − L)·
        # e^(−q_s/λ)/(λ(1 − e^(−q_s/λ))) to the plateau's
        q_s, lam = hc.boundaries_C[0], hc.q_kink_decay_C
        shape = (np.exp(-q / lam) - math.exp(-q_s / lam)) / (1.0 - math.exp(-q_s / lam))
        e += np.where(q < q_s, (hc.e_start_V - lv[1]) * shape, 0.0)
    elif hc.half == "cathodic":
        e += (hc.e_start_V - lv[0]) * np.exp(-q / hc.q_decay_C)
        qb, w = hc.boundaries_C[-1], hc.widths_C[-1]
        e -= hc.slope_V_C * (q - w * np.logaddexp(0.0, (q - qb) / w))
    else:
        qb, w = hc.boundaries_C[0], hc.widths_C[0]
        e += hc.slope_V_C * w * np.logaddexp(0.0, (q - qb) / w)
        e += (hc.e_cut_V - lv[-1]) * np.exp(np.minimum((q - hc.q_total_C) / hc.q_rise_C, 0.0))
    return e


def potential_curve(halves: list[HalfCycle], t: np.ndarray, current_A: float) -> np.ndarray:
    """Noise-free potential of the whole record at times ``t`` (s)."""
    e = np.empty(t.shape, float)
    for hc in halves:  # a sample at a switch belongs to the new half-cycle
        sel = (t >= hc.t_start_s - 1e-3) & (t <= hc.t_end_s + 1e-9)
        e[sel] = potential_half(hc, np.maximum(t[sel] - hc.t_start_s, 0.0) * current_A)
    return e


def x_at(halves: list[HalfCycle], stage: Stage, current_A: float, q_per_x_C: float) -> float:
    """Li content x at a stage's end: (Q − Q_SEI)/(F·n) from the cycle's start (formal)."""
    cath = next(h for h in halves if h.cycle == stage.cycle and h.half == "cathodic")
    q_sei = cath.boundaries_C[0]
    if stage.half == "cathodic":
        return (stage.q_end_C - q_sei) / q_per_x_C
    return (cath.q_total_C - q_sei - stage.q_end_C) / q_per_x_C


def rank_field(rng, shape, corr_px: float) -> np.ndarray:
    """Smooth Gaussian random field (unit sd, zero mean, periodic)."""
    z = ndimage.gaussian_filter(rng.standard_normal(shape), corr_px, mode="wrap")
    return (z - z.mean()) / z.std()


def to_rank(z: np.ndarray) -> np.ndarray:
    """Values → ranks in (0, 1) (uniform marginal)."""
    flat = z.ravel()
    r = np.empty(flat.size)
    r[np.argsort(flat, kind="stable")] = (np.arange(flat.size) + 0.5) / flat.size
    return r.reshape(z.shape)


def disk_coverage(yy, xx, cy, cx, r):
    """Anti-aliased coverage (0..1) of a disk of radius r (µm) on pixel centres (µm).

    A radius ≤ 0 (a disk that is not there yet, or any more) covers nothing: the
    half-pixel anti-aliasing ramp alone would give the pixels within ½ px of the centre
    up to 0.5 coverage.
    """
    d = np.hypot(yy - cy, xx - cx)
    px = abs(xx[0, 1] - xx[0, 0]) if xx.shape[1] > 1 else 1.0
    r = np.asarray(r)[..., None, None]
    return np.where(r > 0, np.clip((r - d) / px + 0.5, 0.0, 1.0), 0.0)


@dataclass
class Scene:
    """Everything the frame renderer needs (times in s on the echem clock, lengths µm)."""

    shape: tuple
    pixel_size_um: float
    alloy_tau: list  # per step j: list over cycles of (τ map, width s) for alloying
    dealloy_tau: list  # per step j: list over cycles of (τ map, width s) for dealloying
    dA: tuple  # absorbance rise per alloying step
    dR: tuple  # relative reflectivity rise per alloying step
    sei: list  # per cycle (t0, t1, ΔA, ΔR): SEI ramps (cumulative, never removed)
    li_bg: list  # per cycle (t_dep0, t_dep1, t_str0, t_str1) uniform Li darkening windows
    sites: list  # dicts: cy, cx, t_app, t_dep_end, t_fade0, t_gone, r_max
    pores: list  # dicts: cy, cx, segments [(t0, t1, r0, r1), ...] radius vs time
    A_li_bg: float = 0.02
    A_disk: float = 0.45
    R_disk: float = 0.55
    T_hole: float = 1.9
    R_hole: float = 0.35
    psf_sigma_px: float = 1.0
    disk_f0: float = 0.25

    def _grid(self):
        ny, nx = self.shape
        px = self.pixel_size_um
        return np.mgrid[0:ny, 0:nx].astype(float) * px

    def pore_radius(self, pore: dict, t: np.ndarray) -> np.ndarray:
        r = np.zeros(t.shape)
        for t0, t1, r0, r1 in pore["segments"]:
            if t1 <= t0:
                r = np.where(t >= t0, r1, r)
                continue
            f = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
            # area linear in time between r0² and r1²
            rr = np.sqrt(r0**2 + (r1**2 - r0**2) * f)
            r = np.where(t >= t0, rr, r)
        return r

    def disk_state(self, site: dict, t: np.ndarray):
        """(radius µm, optical thickness 0..1) of a Li disk at times t."""
        t_app, t_end = site["t_app"], site["t_dep_end"]
        grow = np.clip((t - t_app) / max(t_end - t_app, 1e-9), 0.0, 1.0)
        r = site["r_max"] * np.sqrt(self.disk_f0 + (1 - self.disk_f0) * grow)
        r = np.where((t >= t_app) & (t < site["t_gone"]), r, 0.0)
        thick = 1.0 - np.clip(
            (t - site["t_fade0"]) / max(site["t_gone"] - site["t_fade0"], 1e-9), 0.0, 1.0
        )
        return r, thick

    def render(self, t: np.ndarray):
        """Noise-free, PSF-blurred (trans T, epi R) relative to the pristine film."""
        t = np.asarray(t, float)
        nt = t.size
        yy, xx = self._grid()
        a_film = np.zeros((nt, *self.shape), np.float32)
        r_film = np.ones((nt, *self.shape), np.float32)
        for j in range(len(self.dA)):
            frac = np.zeros((nt, *self.shape), np.float32)
            for (tau_a, w_a), (tau_d, w_d) in zip(
                self.alloy_tau[j], self.dealloy_tau[j], strict=True
            ):
                frac += _alloyed(t, tau_a, w_a, tau_d, w_d)
            a_film += np.float32(self.dA[j]) * frac
            r_film += np.float32(self.dR[j]) * frac
        a_sei = np.zeros(nt)
        r_sei = np.zeros(nt)
        for t0, t1, da, dr in self.sei:
            f = np.clip((t - t0) / max(t1 - t0, 1e-9), 0.0, 1.0)
            a_sei += da * f
            r_sei += dr * f
        bg = np.zeros(nt)
        for d0, d1, s0, s1 in self.li_bg:
            up = np.clip((t - d0) / max(d1 - d0, 1e-9), 0.0, 1.0)
            down = np.clip((t - s0) / max(s1 - s0, 1e-9), 0.0, 1.0)
            bg += self.A_li_bg * up * (1.0 - down)
        a_film += (a_sei + bg).astype(np.float32)[:, None, None]
        r_film -= r_sei.astype(np.float32)[:, None, None]
        trans = np.power(np.float32(10.0), -a_film)
        epi = r_film
        pad = 3
        px = self.pixel_size_um
        ny, nx = self.shape
        # pores: holes through the film (SEI still there)
        c_pore = np.zeros((nt, *self.shape), np.float32)
        for pore in self.pores:
            r = self.pore_radius(pore, t)
            if not np.any(r > 0):
                continue
            rmax = float(r.max())
            sl = _bbox(pore["cy"], pore["cx"], rmax, px, pad, ny, nx)
            cov = disk_coverage(yy[sl], xx[sl], pore["cy"], pore["cx"], r)
            c_pore[(slice(None), *sl)] = np.maximum(c_pore[(slice(None), *sl)], cov)
        hole_t = (self.T_hole * np.power(10.0, -a_sei)).astype(np.float32)[:, None, None]
        trans = (1 - c_pore) * trans + c_pore * hole_t
        epi = (1 - c_pore) * epi + c_pore * np.float32(self.R_hole)
        # Li disks on top
        for site in self.sites:
            r, thick = self.disk_state(site, t)
            if not np.any(r > 0):
                continue
            sl = _bbox(site["cy"], site["cx"], float(r.max()), px, pad, ny, nx)
            cov = disk_coverage(yy[sl], xx[sl], site["cy"], site["cx"], r).astype(np.float32)
            th = thick.astype(np.float32)[:, None, None]
            trans[(slice(None), *sl)] *= np.power(np.float32(10.0), -self.A_disk * cov * th)
            epi[(slice(None), *sl)] *= 1 + np.float32(self.R_disk) * cov * th
        if self.psf_sigma_px > 0:
            trans = ndimage.gaussian_filter(trans, (0, self.psf_sigma_px, self.psf_sigma_px))
            epi = ndimage.gaussian_filter(epi, (0, self.psf_sigma_px, self.psf_sigma_px))
        return trans, epi

    def pore_mask(self, t: float) -> np.ndarray:
        """Planted pore pixels (coverage ≥ 0.5) at time t."""
        yy, xx = self._grid()
        m = np.zeros(self.shape, bool)
        for pore in self.pores:
            r = float(self.pore_radius(pore, np.array([t]))[0])
            if r > 0:
                m |= disk_coverage(yy, xx, pore["cy"], pore["cx"], np.array([r]))[0] >= 0.5
        return m


def _alloyed(t, tau_a, w_a, tau_d, w_d) -> np.ndarray:
    """Alloyed fraction σ((t−τa)/wa)·(1 − σ((t−τd)/wd)) per frame, computed only where
    it is neither 0 nor 1 to float32 precision (|argument| < 20)."""
    out = np.zeros((t.size, *tau_a.shape), np.float32)
    a_lo, a_hi = float(tau_a.min()) - 20 * w_a, float(tau_a.max()) + 20 * w_a
    d_lo, d_hi = float(tau_d.min()) - 20 * w_d, float(tau_d.max()) + 20 * w_d
    for i, ti in enumerate(t):
        if ti <= a_lo or ti >= d_hi:
            continue
        if a_hi <= ti <= d_lo:
            out[i] = 1.0
            continue
        v = np.ones(tau_a.shape, np.float32)
        if ti < a_hi:
            v *= logistic((ti - tau_a) / w_a).astype(np.float32)
        if ti > d_lo:
            v *= (1.0 - logistic((ti - tau_d) / w_d)).astype(np.float32)
        out[i] = v
    return out


def _bbox(cy, cx, r, px, pad, ny, nx):
    y0 = max(int(math.floor((cy - r) / px)) - pad, 0)
    y1 = min(int(math.ceil((cy + r) / px)) + pad + 1, ny)
    x0 = max(int(math.floor((cx - r) / px)) - pad, 0)
    x1 = min(int(math.ceil((cx + r) / px)) + pad + 1, nx)
    return (slice(y0, y1), slice(x0, x1))


def faraday_q_per_x(metal: str, thickness_nm: float, area_cm2: float) -> float:
    """Charge per unit x in LixM: F·n_M, C."""
    return FARADAY_C_MOL * host_moles(metal, thickness_nm, area_cm2)
