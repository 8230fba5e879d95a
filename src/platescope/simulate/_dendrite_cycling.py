"""The ``dendrite-cycling`` scenario: operando top-view optical movie of Li cycling.

A Li||Li (or Li on Cu) cell is cycled galvanostatically (plating, then stripping, a
few times) while a bright-field reflection microscope looks down on the working
electrode (SCIENCE.md §4; the review's §2.1, Sanchez et al.). Deposits nucleate and
grow during plating (some grow into each other and merge), partly dissolve during
stripping, and some stop shrinking while stripping continues: dead Li.

:func:`make_dendrite_cycling` builds everything in memory (arrays + truth);
:func:`dendrite_cycling` writes the files (ImageJ TIFF + frame-times CSV + EC-Lab
``.mpt`` + ``experiment.toml`` + ``truth/``).
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.integrate import cumulative_trapezoid

import platescope
from platescope._errors import InputError
from platescope.models import FARADAY_C_MOL, LI_MOLAR_VOLUME_CM3_MOL
from platescope.simulate._common import (
    Param,
    atomic_write_text,
    fill_parameter_doc,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
    write_movie_files,
)
from platescope.simulate._irm_model import CAMERA_MAX_COUNTS
from platescope.simulate._stage_motion import (
    STAGE_PARAMETERS,
    apply_stage_motion,
    motion_truth,
    stage_motion,
)

__all__ = ["PARAMETERS", "dendrite_cycling", "make_dendrite_cycling"]

SCENARIO = "dendrite-cycling"
T0_LOCAL = datetime(2024, 9, 3, 10, 12, 5, 250000)
TIMEZONE = "Europe/Berlin"
_HULL_SAMPLES = 13

PARAMETERS: dict[str, Param] = {
    "n_cycles": Param(3, int, "plating/stripping cycles", 1, 10),
    "current_density_mA_cm2": Param(
        1.0, float, "galvanostatic current density, mA cm⁻²", 0.01, 20.0, True
    ),
    "electrode_area_cm2": Param(0.785, float, "working electrode area, cm²", 1e-4, 10.0, True),
    "rest_s": Param(30.0, float, "rest (open circuit) before the first plating, s", 0.0, 3600.0),
    "plating_s": Param(300.0, float, "duration of each plating step, s", 10.0, 36000.0),
    "stripping_s": Param(300.0, float, "duration of each stripping step, s", 10.0, 36000.0),
    "sample_period_s": Param(1.0, float, "echem sample period, s", 0.01, 60.0, True),
    "frame_interval_s": Param(10.0, float, "nominal frame interval, s", 0.1, 600.0, True),
    "frame_jitter_frac": Param(
        0.1, float, "frame intervals vary uniformly by ± this fraction", 0.0, 0.5
    ),
    "movie_lead_s": Param(
        4.0, float, "the camera starts this long before the potentiostat, s", 0.0, 600.0
    ),
    "field_px": Param(256, int, "movie width = height, pixels", 64, 2048),
    "pixel_size_um": Param(0.5, float, "pixel size, µm", 0.05, 10.0, True),
    "n_deposits": Param(22, int, "deposits nucleating in the first plating step", 0, 500),
    "n_new_per_cycle": Param(3, int, "new deposits nucleating in each later plating step", 0, 100),
    "n_merging_pairs": Param(
        3, int, "pairs among the first deposits that grow into each other", 0, 50
    ),
    "n_splitting_deposits": Param(
        0,
        int,
        "lying whiskers that break in two in a stripping step (one part goes dead)",
        0,
        50,
    ),
    "deposit_fraction": Param(
        0.3,
        float,
        "share of the local plating charge that goes into the visible deposits",
        0.01,
        1.0,
    ),
    "growth_sd": Param(0.5, float, "log-normal sd of the deposits' growth rates", 0.0, 2.0),
    "dead_probability": Param(
        0.4, float, "chance that a deposit turns dead in a stripping step", 0.0, 1.0
    ),
    "dead_fraction_first": Param(0.45, float, "dead/max effective volume in cycle 1", 0.05, 0.9),
    "dead_fraction_ratio": Param(
        0.75, float, "dead/max fraction of cycle c = first · ratio^(c−1)", 0.1, 1.5
    ),
    "dead_fraction_sd": Param(
        0.08, float, "relative scatter of the dead/max fraction per deposit", 0.0, 0.5
    ),
    "dissolve_probability": Param(
        0.3, float, "chance that a live deposit dissolves completely", 0.0, 1.0
    ),
    "background_counts": Param(2000.0, float, "mean background intensity, counts", 50.0, 3500.0),
    "contrast_mean": Param(0.45, float, "mean fraction of light a deposit removes", 0.05, 0.9),
    "dead_darkening": Param(
        0.3, float, "relative contrast increase of a deposit after it turns dead", 0.0, 1.0
    ),
    "psf_sigma_um": Param(0.6, float, "Gaussian PSF sd, µm", 0.0, 5.0),
    "illumination_drift_frac": Param(
        0.03, float, "illumination drift over the movie (linear), fraction", 0.0, 0.3
    ),
    "stage_drift_um": Param(
        3.0, float, "stage drift over the movie (random direction), µm", 0.0, 50.0
    ),
    "noise_scale": Param(
        1.0, float, "multiplies every noise amplitude (0 = noise-free files)", 0.0, 100.0
    ),
    "read_noise_counts": Param(
        6.0, float, "camera read noise sd, counts (× noise_scale)", 0.0, 200.0
    ),
    "potential_noise_V": Param(
        5e-4, float, "white potential noise sd, V (× noise_scale)", 0.0, 0.1
    ),
    "current_noise_frac": Param(2e-3, float, "relative current noise sd (× noise_scale)", 0.0, 0.5),
    # stage jitter, random walk, extra drift and bad frames on top of stage_drift_um
    # (issue 13; all off by default, own random stream: default output unchanged)
    **STAGE_PARAMETERS,
}


def hemisphere_radius_um(volume_um3):
    """Radius of a hemisphere of the given volume (µm³ → µm)."""
    return np.cbrt(1.5 * np.asarray(volume_um3, float) / np.pi)


def _hemisphere_volume(area_um2):
    r = np.sqrt(np.clip(np.asarray(area_um2, float), 0, None) / np.pi)
    return 2.0 / 3.0 * np.pi * r**3


class _Deposit:
    """One planted deposit: nucleation, growth rate, volume at every echem time."""

    def __init__(self, did: int, t_nuc: float, rate: float, contrast: float):
        self.id = did
        self.t_nuc = t_nuc
        self.rate = rate  # µm³ s⁻¹ while plating
        self.contrast = contrast
        self.knots_t: list[float] = [t_nuc]
        self.knots_v: list[float] = [0.0]
        self.t_dead: float | None = None
        self.partner: int | None = None  # merge partner (pair members)
        self.t_merge: float | None = None
        self.survivor: int = did  # object id once merged
        self.split_partner: int | None = None  # the other half of a whisker that breaks
        self.split_parent: int | None = None  # object id of the whisker before it breaks
        self.split_cycle: int | None = None
        self.t_split: float | None = None
        self.xy = (math.nan, math.nan)

    def volume(self, t):
        """Volume (µm³) at echem times ``t``: piecewise-linear knots, 0 before t_nuc."""
        t = np.asarray(t, float)
        v = np.interp(t, self.knots_t, self.knots_v, left=0.0, right=self.knots_v[-1])
        return np.where(t < self.t_nuc, 0.0, np.clip(v, 0.0, None))

    def add(self, t: float, v: float) -> None:
        if t <= self.knots_t[-1]:
            t = self.knots_t[-1] + 1e-9
        self.knots_t.append(float(t))
        self.knots_v.append(max(float(v), 0.0))


def _timeline(p: dict) -> list[dict]:
    """Echem-clock windows of every cycle's plating and stripping step."""
    out = []
    t = p["rest_s"]
    for c in range(1, p["n_cycles"] + 1):
        out.append(
            {
                "cycle": c,
                "plate": (t, t + p["plating_s"]),
                "strip": (t + p["plating_s"], t + p["plating_s"] + p["stripping_s"]),
            }
        )
        t += p["plating_s"] + p["stripping_s"]
    return out


def _plan_volumes(p: dict, rng: np.random.Generator, cycles: list[dict]) -> dict:
    """Nucleation, growth, merges and fates of all deposits (no geometry yet)."""
    field_cm2 = (p["field_px"] * p["pixel_size_um"] * 1e-4) ** 2
    i_local = p["current_density_mA_cm2"] * 1e-3 * field_cm2  # A through the field
    rate_total = p["deposit_fraction"] * i_local * LI_MOLAR_VOLUME_CM3_MOL / FARADAY_C_MOL * 1e12
    n0 = p["n_deposits"]
    deps: list[_Deposit] = []
    w_norm = max(n0, 1) * math.exp(0.5 * p["growth_sd"] ** 2)

    def new_dep(t_nuc: float) -> _Deposit:
        w = math.exp(p["growth_sd"] * rng.standard_normal())
        c = float(np.clip(p["contrast_mean"] * (1 + 0.15 * rng.standard_normal()), 0.05, 0.9))
        d = _Deposit(len(deps), t_nuc, rate_total * w / w_norm, c)
        deps.append(d)
        return d

    c1 = cycles[0]
    p0, p1 = c1["plate"]
    tp = p1 - p0
    for _ in range(n0):
        new_dep(p0 + rng.uniform(0.0, 0.25) * tp)
    # merging pairs among the first deposits: both nucleate early, merge mid-plating
    pairs = []
    n_pairs = min(p["n_merging_pairs"], n0 // 2)
    for k in range(n_pairs):
        a, b = deps[2 * k], deps[2 * k + 1]
        a.t_nuc = a.knots_t[0] = p0 + rng.uniform(0.0, 0.08) * tp
        b.t_nuc = b.knots_t[0] = p0 + rng.uniform(0.0, 0.08) * tp
        t_m = p0 + rng.uniform(0.45, 0.75) * tp
        a.partner, b.partner = b.id, a.id
        a.t_merge = b.t_merge = t_m
        pairs.append((a, b))
    # splitting whiskers: two halves nucleate together, are drawn as one elongated object
    # and break apart in the stripping step of a random cycle; the half with the larger
    # rate (the larger at the break, as both shrink alike before it) carries the id
    splits = []
    n_split = min(p["n_splitting_deposits"], (n0 - 2 * n_pairs) // 2)
    for k in range(n_split):
        a, b = deps[2 * n_pairs + 2 * k], deps[2 * n_pairs + 2 * k + 1]
        a.t_nuc = a.knots_t[0] = b.t_nuc = b.knots_t[0] = p0 + rng.uniform(0.0, 0.08) * tp
        a.split_partner, b.split_partner = b.id, a.id
        parent = a if a.rate >= b.rate else b
        a.split_parent = b.split_parent = parent.id
        a.survivor = b.survivor = parent.id
        a.split_cycle = b.split_cycle = int(rng.integers(1, p["n_cycles"] + 1))
        splits.append((a, b))

    fates = []  # (cycle, object id, fate, sigma, f)
    dead_objects: set[int] = set()
    gone: set[int] = set()
    for cyc in cycles:
        c = cyc["cycle"]
        q0, q1 = cyc["plate"]
        s0, s1 = cyc["strip"]
        if c > 1:
            for _ in range(p["n_new_per_cycle"]):
                new_dep(q0 + rng.uniform(0.0, 0.25) * (q1 - q0))
        # plating: every live, present deposit grows at its rate
        for d in deps:
            if d.id in gone or d.survivor in dead_objects or d.t_nuc >= q1:
                continue
            t_start = max(q0, d.t_nuc)
            v_start = float(d.volume(t_start))
            if d.knots_t[-1] < t_start:
                d.add(t_start, v_start)
            d.add(q1, v_start + d.rate * (q1 - t_start))
        # survivors of merged pairs decide the pair's fate
        if c == 1:
            for a, b in pairs:
                ra = hemisphere_radius_um(a.volume(a.t_merge))
                rb = hemisphere_radius_um(b.volume(b.t_merge))
                surv = a if ra >= rb else b
                a.survivor = b.survivor = surv.id
        objects: dict[int, list[_Deposit]] = {}
        for d in deps:
            if d.id in gone or d.t_nuc >= q1 or d.survivor in dead_objects:
                continue
            objects.setdefault(d.survivor, []).append(d)
        f_c = p["dead_fraction_first"] * p["dead_fraction_ratio"] ** (c - 1)
        for oid, members in objects.items():
            is_pair = len(members) > 1
            whisker = members[0].split_partner is not None and members[0].t_split is None
            if whisker and c == members[0].split_cycle:
                fates.extend(_break_whisker(members, c, s0, s1, rng, dead_objects))
                continue
            if whisker:  # a whole whisker before its break: it stays live
                f, sigma, fate, tau_d = 0.0, rng.uniform(0.4, 0.7), "live", math.nan
            elif rng.random() < p["dead_probability"]:
                f = float(
                    np.clip(f_c * (1 + p["dead_fraction_sd"] * rng.standard_normal()), 0.05, 0.95)
                )
                tau_d = rng.uniform(0.1, 0.6)
                sigma = (1.0 - f) / tau_d
                fate = "dead"
            elif not is_pair and rng.random() < p["dissolve_probability"]:
                f, sigma, fate, tau_d = 0.0, rng.uniform(1.15, 2.0), "dissolved", math.nan
            else:
                f, sigma, fate, tau_d = (
                    0.0,
                    rng.uniform(0.4, 0.8 if not is_pair else 0.7),
                    "live",
                    math.nan,
                )
            for d in members:
                vmax = float(d.volume(s0))
                if fate == "dead":
                    t_d = s0 + tau_d * (s1 - s0)
                    d.add(t_d, f * vmax)
                    d.t_dead = t_d
                    d.add(s1, f * vmax)
                elif fate == "dissolved":
                    t_gone = s0 + (s1 - s0) / sigma
                    d.add(t_gone, 0.0)
                    d.add(s1, 0.0)
                    gone.add(d.id)
                else:
                    d.add(s1, vmax * (1.0 - sigma))
            fates.append(
                {
                    "cycle": c,
                    "object": oid,
                    "fate": fate,
                    "members": [d.id for d in members],
                    "planted_dead_fraction": f if fate == "dead" else None,
                    "t_dead_s": s0 + tau_d * (s1 - s0) if fate == "dead" else None,
                }
            )
            if fate == "dead":
                dead_objects.add(oid)
    return {
        "deposits": deps,
        "pairs": pairs,
        "splits": splits,
        "fates": fates,
        "rate_total_um3_s": rate_total,
    }


def _break_whisker(members, c, s0, s1, rng, dead_objects) -> list[dict]:
    """A whisker breaks at a time in 10–40 % of the stripping step: both halves shrink
    alike until then, one half (drawn at random) stops there for good (dead), the other
    goes on shrinking (live). Returns the two halves' fates; each half is its own object
    from then on."""
    sigma = rng.uniform(0.4, 0.7)
    tau = rng.uniform(0.1, 0.4)
    t_split = s0 + tau * (s1 - s0)
    dead = members[int(rng.integers(len(members)))]
    out = []
    for d in members:
        vmax = float(d.volume(s0))
        d.t_split = t_split
        d.add(t_split, vmax * (1.0 - sigma * tau))
        if d is dead:
            d.t_dead = t_split
            d.add(s1, vmax * (1.0 - sigma * tau))
            dead_objects.add(d.id)
        else:
            d.add(s1, vmax * (1.0 - sigma))
        d.survivor = d.id
        out.append(
            {
                "cycle": c,
                "object": d.id,
                "fate": "dead" if d is dead else "live",
                "members": [d.id],
                "planted_dead_fraction": 1.0 - sigma * tau if d is dead else None,
                "t_dead_s": t_split if d is dead else None,
            }
        )
    return out


def _place(p: dict, rng: np.random.Generator, plan: dict, t_grid: np.ndarray) -> None:
    """Positions: merging pairs touch at their merge time, everything else stays apart."""
    deps = plan["deposits"]
    px = p["pixel_size_um"]
    size = p["field_px"] * px
    gap = 2.0 + 3.0 * p["psf_sigma_um"]
    margin = 2.0 + p["stage_drift_um"] + 3.0 * p["psf_sigma_um"]
    r_max = {d.id: float(hemisphere_radius_um(d.volume(t_grid).max())) for d in deps}
    placed: list[tuple[float, float, float]] = []  # (y, x, r_max)

    def fits(y, x, r):
        if not (margin + r <= y <= size - margin - r and margin + r <= x <= size - margin - r):
            return False
        return all(math.hypot(y - yy, x - xx) >= r + rr + gap for yy, xx, rr in placed)

    for d in deps:
        if not math.isnan(d.xy[0]):
            continue
        if d.split_partner is not None:
            _place_whisker(d, deps[d.split_partner], rng, fits, placed, r_max, t_grid, gap, size)
            continue
        partner = deps[d.partner] if d.partner is not None else None
        for _ in range(4000):
            y, x = rng.uniform(0, size, 2)
            if partner is None:
                if fits(y, x, r_max[d.id]):
                    d.xy = (y, x)
                    placed.append((y, x, r_max[d.id]))
                    break
                continue
            dist = float(
                hemisphere_radius_um(d.volume(d.t_merge))
                + hemisphere_radius_um(partner.volume(d.t_merge))
            )
            ang = rng.uniform(0, 2 * np.pi)
            y2, x2 = y + dist * math.sin(ang), x + dist * math.cos(ang)
            if fits(y, x, r_max[d.id]) and fits(y2, x2, r_max[partner.id]):
                d.xy, partner.xy = (y, x), (y2, x2)
                placed.append((y, x, r_max[d.id]))
                placed.append((y2, x2, r_max[partner.id]))
                break
        else:
            raise InputError(
                None,
                f"{len(deps)} deposits of up to {2 * max(r_max.values()):.1f} µm do not fit apart in a "
                f"{size:g} µm field",
                "increase field_px or pixel_size_um, or reduce n_deposits/n_new_per_cycle or deposit_fraction",
            )


def _place_whisker(a, b, rng, fits, placed, r_max, t_grid, gap, size) -> None:
    """Place a whisker's two halves so that, once broken, they stay ``gap`` apart."""
    after = t_grid >= (a.t_split if a.t_split is not None else t_grid[-1])
    ra = float(hemisphere_radius_um(a.volume(t_grid[after]).max())) if after.any() else 0.0
    rb = float(hemisphere_radius_um(b.volume(t_grid[after]).max())) if after.any() else 0.0
    dist = ra + rb + gap
    reach = 0.5 * dist + max(r_max[a.id], r_max[b.id])
    for _ in range(4000):
        y, x = rng.uniform(0, size, 2)
        ang = rng.uniform(0, 2 * np.pi)
        ym, xm = y + 0.5 * dist * math.sin(ang), x + 0.5 * dist * math.cos(ang)
        y2, x2 = y + dist * math.sin(ang), x + dist * math.cos(ang)
        if fits(ym, xm, reach):
            a.xy, b.xy = (y, x), (y2, x2)
            placed.append((ym, xm, reach))
            return
    raise InputError(
        None,
        f"a breaking whisker of {2 * reach:.1f} µm does not fit among the deposits in a "
        f"{size:g} µm field",
        "increase field_px or pixel_size_um, or reduce n_splitting_deposits or n_deposits",
    )


def _coverage(yy, xx, centres, radii, px):
    """Anti-aliased coverage (0..1) of the union of disks (a one-pixel linear edge ramp)."""
    sd = np.full(np.broadcast_shapes(yy.shape, xx.shape), np.inf)
    for (cy, cx), r in zip(centres, radii, strict=True):
        sd = np.minimum(sd, np.hypot(yy - cy, xx - cx) - r)
    return np.clip(0.5 - sd / px, 0.0, 1.0)


def _object_disks(centres, radii, n_samples=_HULL_SAMPLES):
    """Disks drawing an object: one disk, or the convex hull of a pair (sampled)."""
    if len(centres) == 1:
        return list(centres), [radii[0]]
    (ya, xa), (yb, xb) = centres
    s = np.linspace(0.0, 1.0, n_samples)
    centres = [(ya + u * (yb - ya), xa + u * (xb - xa)) for u in s]
    rad = [radii[0] + u * (radii[1] - radii[0]) for u in s]
    return centres, rad


def make_dendrite_cycling(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate operando top-view optical microscopy of galvanostatic Li cycling.

        Electrochemistry: rest, then ``n_cycles`` × (plating at −j, stripping at +j);
        symmetric-cell potential with a nucleation spike at each plating start and a
        "second peak" late in each stripping step (stripping switching from the deposits to
        the bulk as they turn dead), white noise.

        Deposits: ``n_deposits`` nucleate during the first quarter of the first plating
        step, ``n_new_per_cycle`` in each later one. A live deposit grows at a constant
        volume rate while plating (log-normal rates whose total takes ``deposit_fraction``
        of the charge through the field); its top-view footprint is the disk of a
        hemisphere of that volume, r = (3V/2π)^⅓, so its *effective* volume (the
        hemisphere of its projected area) is its planted volume. In each stripping step a
        deposit (or merged pair) draws a fate: **dead** (``dead_probability``): shrinks
        linearly, then stops at V_dead = f·V_max at a time drawn uniformly in the first
        10–60 % of the step and never changes again (it only darkens by
        ``dead_darkening``); f = ``dead_fraction_first``·``dead_fraction_ratio``^(c−1) with
        ``dead_fraction_sd`` relative scatter; **dissolved** (``dissolve_probability`` of
        the others): vanishes before the step ends; **live**: loses 40–80 % of V_max, still
        shrinking at the end, and regrows next cycle. ``n_merging_pairs`` pairs are placed
        so that their disks touch at a time drawn in 45–75 % of the first plating step;
        from then on they are drawn as one object (the convex hull of the two disks), the
        larger at the merge is the survivor whose id the object carries, and the pair
        shares one fate. ``n_splitting_deposits`` (0 by default) lying whiskers: two
        halves that nucleate together are drawn as one elongated object (the convex hull
        of their disks, the id of the half with the larger growth rate) until, at
        10–40 % of the stripping step of a random cycle, the neck dissolves: from then
        on the halves are two disks ≥ 2 µm + 3·PSF σ apart, one (drawn at random) dead
        — it never changes again — and the other live, shrinking to the step's end and
        a deposit of its own in later cycles; before its break a whisker is always live.
        All other deposits are kept ≥ 2 µm + 3·PSF σ apart at their largest.

        Image: bright-field reflection, 12-bit. I = B(y − d(t))·G(t)·(1 − PSF ⊗ D) with B a
        weakly textured background, d(t) a linear stage drift of ``stage_drift_um``, G(t) a
        linear illumination drift, D the deposits' darkness (contrast × anti-aliased
        coverage × a mild interior texture); Poisson shot + Gaussian read noise scaled by
        ``noise_scale``. Frames are snapshots at jittered times (the ImageJ file holds the
        nominal interval; ``frame_times.csv`` the real times).

        Truth: per deposit per frame (id, object id, position, own and object area, own
        volume and the object's effective volume, dead flag), per object per cycle (fate,
        V_max, V_dead), the merges, and per cycle the least-squares line of V_dead vs V_max
        over the dead objects (the number a perfect analysis would report); the whisker
        breaks (``splits``: parent, live and dead half, cycle, time, first frame after)
        and each breaking whisker's family dead fraction (``families``: the dead half's
        final effective volume over the whole whisker's largest in that cycle). Truth
        areas are those of the drawn (anti-aliased) footprints before PSF and noise.

        Parameters
        ----------
        seed : int
            Random seed (same seed + parameters → identical output).
        **params
            Any of (``--set`` keys; strings are converted):

    {params}

        Returns
        -------
        dict
            ``movie`` (uint16 t×y×x), ``frame_times_s`` (movie clock), ``offset_s`` (echem
            t = 0 on the movie clock), ``pixel_size_um``, ``echem`` (DataFrame: time_s,
            potential_V, current_A, control_A, cycle, step, charge_C), ``frames`` (truth
            per deposit per frame, with ``family``), ``cycles`` (truth per object per
            cycle), ``merges``, ``splits``, ``families``, ``truth`` (dict) and
            ``parameters``.

        Examples
        --------
        >>> sim = make_dendrite_cycling(seed=1, field_px=96, n_deposits=4, n_new_per_cycle=0,
        ...                             n_merging_pairs=1, n_cycles=1, frame_interval_s=30.0)
        >>> sim["movie"].shape[1:], sim["truth"]["deposits"]["n_merges"]
        ((96, 96), 1)
    """
    p = resolve_params(PARAMETERS, params)
    rng_plan, rng_geo, rng_time, rng_img, rng_noise, rng_echem = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)
    )
    ns = p["noise_scale"]
    cycles = _timeline(p)
    t_end = cycles[-1]["strip"][1]
    duration = t_end + 10.0  # a short rest after the last step

    # ---- frame times (movie clock; echem t = movie t − offset) ------------------------
    offset = p["movie_lead_s"]
    dt_nom = p["frame_interval_s"]
    jit = p["frame_jitter_frac"]
    n_max = int(math.ceil((duration + offset) / (dt_nom * (1 - jit)))) + 2
    times = np.concatenate([[0.0], np.cumsum(dt_nom * (1 + rng_time.uniform(-jit, jit, n_max)))])
    times = times[times <= duration + offset]
    t_echem = times - offset

    plan = _plan_volumes(p, rng_plan, cycles)
    deps: list[_Deposit] = plan["deposits"]
    _place(p, rng_geo, plan, np.linspace(0.0, t_end, 2001))

    # ---- image model -----------------------------------------------------------------
    n_px, px = p["field_px"], p["pixel_size_um"]
    pad = int(math.ceil(p["stage_drift_um"] / px)) + 4
    big = n_px + 2 * pad
    tex = ndimage.gaussian_filter(rng_img.standard_normal((big, big)), 10.0 / px, mode="wrap")
    tex2 = ndimage.gaussian_filter(rng_img.standard_normal((big, big)), 2.0 / px, mode="wrap")
    background = (
        p["background_counts"] * (1.0 + 0.03 * tex / tex.std() + 0.01 * tex2 / tex2.std())
    ).astype(np.float32)
    # mottled deposit interiors: a texture fixed to the sample (it drifts with it)
    inner = ndimage.gaussian_filter(rng_img.standard_normal((big, big)), 1.0 / px, mode="wrap")
    inner = 1.0 + 0.08 * inner / inner.std()
    ang = rng_img.uniform(0, 2 * np.pi)
    frac_t = (times - times[0]) / max(times[-1] - times[0], 1e-9)
    drift_y = p["stage_drift_um"] * math.sin(ang) * frac_t
    drift_x = p["stage_drift_um"] * math.cos(ang) * frac_t
    gain = 1.0 + rng_img.choice([-1.0, 1.0]) * p["illumination_drift_frac"] * frac_t
    sigma_px = p["psf_sigma_um"] / px
    coord = np.arange(n_px) * px

    vols = np.array([d.volume(t_echem) for d in deps])  # (n_dep, n_frames)
    objects: dict[int, list[_Deposit]] = {}
    for d in deps:
        key = d.split_parent if d.split_parent is not None else d.survivor
        objects.setdefault(key, []).append(d)

    movie = np.empty((times.size, n_px, n_px), dtype=np.uint16)
    motion = stage_motion(seed, times.size, p)  # None (nothing drawn) unless turned on
    rows = []
    for k, te in enumerate(t_echem):
        dark = np.zeros((n_px, n_px), dtype=np.float32)
        for oid, members in objects.items():
            whisker = members[0].split_parent is not None
            if len(members) < 2:
                merged = False
            elif whisker:  # one elongated object until it breaks
                merged = members[0].t_split is None or te < members[0].t_split
            else:
                merged = te >= members[0].t_merge
            groups = [members] if merged else [[m] for m in members]
            for grp in groups:
                v = np.array([vols[m.id, k] for m in grp])
                if not np.any(v > 0):
                    continue
                radii = hemisphere_radius_um(v)
                shifted = [(m.xy[0] + drift_y[k], m.xy[1] + drift_x[k]) for m in grp]
                n_hull = _HULL_SAMPLES
                if whisker and len(grp) > 1:  # dense enough for a thin, long whisker
                    length = math.hypot(
                        shifted[1][0] - shifted[0][0], shifted[1][1] - shifted[0][1]
                    )
                    n_hull = max(_HULL_SAMPLES, int(math.ceil(length / (0.25 * px))) + 1)
                centres, rad = _object_disks(shifted, radii, n_hull)
                ext = max(rad) + 2 * px
                cy = np.array([c[0] for c in centres])
                cx = np.array([c[1] for c in centres])
                i0 = max(int((cy.min() - ext) / px), 0)
                i1 = min(int((cy.max() + ext) / px) + 2, n_px)
                j0 = max(int((cx.min() - ext) / px), 0)
                j1 = min(int((cx.max() + ext) / px) + 2, n_px)
                yy, xx = coord[i0:i1, None], coord[None, j0:j1]
                cov = _coverage(yy, xx, centres, rad, px)
                area = float(cov.sum() * px * px)
                wsum = max(float(cov.sum()), 1e-12)
                oy = float((cov.sum(axis=1) * yy[:, 0]).sum() / wsum)
                ox = float((cov.sum(axis=0) * xx[0]).sum() / wsum)
                weights = radii**2
                contrast = float(np.sum([m.contrast for m in grp] * weights) / weights.sum())
                t_dead = grp[0].t_dead if all(m.t_dead is not None for m in grp) else None
                is_dead = t_dead is not None and te >= t_dead
                if is_dead:
                    contrast *= 1.0 + p["dead_darkening"] * min(1.0, (te - t_dead) / 60.0)
                ty = np.arange(i0, i1) + pad - drift_y[k] / px
                tx = np.arange(j0, j1) + pad - drift_x[k] / px
                tyy, txx = np.meshgrid(ty, tx, indexing="ij")
                texture = ndimage.map_coordinates(inner, [tyy, txx], order=1, mode="wrap")
                dark[i0:i1, j0:j1] += contrast * cov * texture
                obj_id = oid if merged else grp[0].id
                for m, r, (sy, sx) in zip(grp, radii, shifted, strict=True):
                    rows.append(
                        {
                            "frame": k,
                            "t_s": float(te),
                            "deposit": m.id,
                            "object": obj_id,
                            "family": oid,
                            "y_um": sy,
                            "x_um": sx,
                            "object_y_um": oy,
                            "object_x_um": ox,
                            "area_um2": float(np.pi * r * r),
                            "object_area_um2": area,
                            "volume_um3": float(vols[m.id, k]),
                            "object_volume_um3": float(_hemisphere_volume(area)),
                            "dead": bool(is_dead),
                        }
                    )
        if sigma_px > 0:  # the PSF
            dark = ndimage.gaussian_filter(dark, sigma_px, mode="constant")
        # the background moves with the stage (whole pixels: it is smooth on that scale)
        iy, ix = pad - int(round(drift_y[k] / px)), pad - int(round(drift_x[k] / px))
        bg = background[iy : iy + n_px, ix : ix + n_px]
        clean = bg * np.float32(gain[k]) * np.clip(1.0 - dark, 0.0, None)
        if motion is not None:  # extra motion and bad frames (before the camera noise)
            clean = apply_stage_motion(clean[None], _motion_frame(motion, k))[0]
        if ns > 0:  # shot noise (Gaussian limit of Poisson at ≥ 10³ counts) + read noise
            sd = np.float32(ns) * np.sqrt(clean + np.float32(p["read_noise_counts"] ** 2))
            noisy = clean + sd * rng_noise.standard_normal(clean.shape, dtype=np.float32)
        else:
            noisy = clean
        movie[k] = np.clip(np.rint(noisy), 0, CAMERA_MAX_COUNTS).astype(np.uint16)
    frames = pd.DataFrame(rows)
    if motion is not None and len(frames):  # truth positions move with the content
        fk = frames["frame"].to_numpy(int)
        for col, key in (("y_um", "dy_px"), ("x_um", "dx_px")):
            off = np.asarray(motion[key], float)[fk] * px
            frames[col] = frames[col] + off
            frames["object_" + col] = frames["object_" + col] + off

    # ---- electrochemistry ----------------------------------------------------------------
    n_s = int(math.floor(duration / p["sample_period_s"] + 1e-9)) + 1
    t_s = np.arange(n_s) * p["sample_period_s"]
    i_set = p["current_density_mA_cm2"] * 1e-3 * p["electrode_area_cm2"]
    control = np.zeros(n_s)
    e_nf = np.zeros(n_s)
    cyc_col = np.zeros(n_s, dtype=np.int64)
    step = np.zeros(n_s, dtype=np.int64)
    for cyc in cycles:
        c = cyc["cycle"]
        eta0 = 0.045 * (0.8 ** (c - 1)) * p["current_density_mA_cm2"] ** 0.5
        q0, q1 = cyc["plate"]
        s0, s1 = cyc["strip"]
        inp = (t_s >= q0) & (t_s < q1)
        ins = (t_s >= s0) & (t_s < s1)
        tau_p = (t_s[inp] - q0) / (q1 - q0)
        tau_s = (t_s[ins] - s0) / (s1 - s0)
        control[inp], control[ins] = -i_set, i_set
        e_nf[inp] = -eta0 * (1.0 + 0.8 * np.exp(-tau_p / 0.03) - 0.15 * tau_p)
        e_nf[ins] = eta0 * (0.9 + 0.1 * tau_s + 0.7 * np.exp(-0.5 * ((tau_s - 0.75) / 0.08) ** 2))
        cyc_col[inp | ins] = c - 1
        step[inp], step[ins] = 1, 2
    cyc_col[t_s >= t_end] = cycles[-1]["cycle"] - 1
    potential = e_nf + rng_echem.normal(0.0, ns * p["potential_noise_V"], n_s)
    current = control * (1.0 + rng_echem.normal(0.0, ns * p["current_noise_frac"], n_s))
    charge = cumulative_trapezoid(current, t_s, initial=0.0)
    echem = pd.DataFrame(
        {
            "time_s": t_s,
            "potential_V": potential,
            "current_A": current,
            "control_A": control,
            "cycle": cyc_col,
            "step": step,
            "charge_C": charge,
        }
    )

    truth, cycles_df, merges_df = _truth(p, plan, frames, cycles, echem, offset, times, seed)
    splits_df, families_df = _truth_splits(plan, frames, cycles, offset, times)
    if motion is not None:
        reg = motion_truth(motion)
        # plus the built-in stage drift (stage_drift_um; the background moves by it in
        # whole pixels, the deposits exactly)
        reg["dy_px"] = [float(v + w / px) for v, w in zip(reg["dy_px"], drift_y, strict=True)]
        reg["dx_px"] = [float(v + w / px) for v, w in zip(reg["dx_px"], drift_x, strict=True)]
        reg["definition"] += (
            "; includes the linear stage_drift_um drift (the background moves by it in "
            "whole pixels)"
        )
        truth["registration"] = reg
    truth["deposits"]["n_splits"] = int(len(splits_df))
    truth["files"].update(splits="truth/splits.csv", families="truth/families.csv")
    truth["splits_definition"] = (
        "a planted whisker (two halves drawn as one elongated object, id = the larger half) "
        "breaks at t_split_s in a stripping step: frame = first frame after the break; the "
        "dead half stops changing, the live half goes on shrinking. families.csv: per split "
        "family in its break cycle, v_max_um3 = largest effective volume of the whole "
        "whisker in the cycle, v_dead_um3 = the dead half's final effective volume, "
        "dead_fraction = their ratio (drawn footprints, no PSF or noise)"
    )
    return {
        "movie": movie,
        "frame_times_s": times,
        "offset_s": offset,
        "pixel_size_um": px,
        "frame_interval_s": dt_nom,
        "echem": echem,
        "echem_noise_free_V": e_nf,
        "frames": frames,
        "cycles": cycles_df,
        "merges": merges_df,
        "splits": splits_df,
        "families": families_df,
        "truth": truth,
        "parameters": p,
        "t0_local": T0_LOCAL,
        "timezone": TIMEZONE,
    }


def _motion_frame(motion: dict, k: int) -> dict:
    """The part of a stage motion for frame k alone (renumbered 0)."""
    return {
        **motion,
        "dy_px": motion["dy_px"][k : k + 1],
        "dx_px": motion["dx_px"][k : k + 1],
        "blurred_frames": [0] if k in motion["blurred_frames"] else [],
        "dark_frames": [0] if k in motion["dark_frames"] else [],
    }


def _line(x: np.ndarray, y: np.ndarray) -> dict:
    if x.size < 3 or np.ptp(x) <= 0:
        return {"slope": None, "intercept_um3": None, "r2": None}
    b, a = np.polyfit(x, y, 1)
    res = y - (a + b * x)
    ss = float(np.sum((y - y.mean()) ** 2))
    return {
        "slope": float(b),
        "intercept_um3": float(a),
        "r2": 1.0 - float(np.sum(res**2)) / ss if ss > 0 else None,
    }


def _truth_splits(plan, frames, cycles, offset, times) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planted whisker breaks (events) and the family-level dead fraction of each."""
    rows, fams = [], []
    for a, b in plan.get("splits", []):
        if a.t_split is None:
            continue
        dead = a if a.t_dead is not None and a.t_dead == a.t_split else b
        live = b if dead is a else a
        parent = a.split_parent
        c = a.split_cycle
        rows.append(
            {
                "parent_object": parent,
                "live_object": live.id,
                "dead_object": dead.id,
                "cycle": c,
                "t_split_s": float(a.t_split),
                "frame": int(np.searchsorted(times - offset, a.t_split)),
            }
        )
        q0, s1 = cycles[c - 1]["plate"][0], cycles[c - 1]["strip"][1]
        fr = frames[(frames["family"] == parent) & (frames["t_s"] >= q0) & (frames["t_s"] <= s1)]
        per_frame = fr.drop_duplicates(["frame", "object"]).groupby("frame")["object_volume_um3"]
        vmax = float(per_frame.sum().max()) if len(fr) else math.nan
        fd = fr[fr["object"] == dead.id].drop_duplicates("frame")
        vdead = float(fd["object_volume_um3"].iloc[-1]) if len(fd) else math.nan
        fams.append(
            {
                "cycle": c,
                "family": parent,
                "members": f"{a.id} {b.id}",
                "v_max_um3": vmax,
                "v_dead_um3": vdead,
                "dead_fraction": vdead / vmax if vmax > 0 else math.nan,
            }
        )
    cols = ["parent_object", "live_object", "dead_object", "cycle", "t_split_s", "frame"]
    fcols = ["cycle", "family", "members", "v_max_um3", "v_dead_um3", "dead_fraction"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(fams, columns=fcols)


def _truth(p, plan, frames, cycles, echem, offset, times, seed):
    deps = plan["deposits"]
    min_area = 2.0  # µm², the analysis' default detection limit
    seen = (
        frames[frames["object_area_um2"] >= min_area]["deposit"].unique()
        if len(frames)
        else np.array([], int)
    )
    merges = []
    for a, b in plan["pairs"]:
        surv = a if a.survivor == a.id else b
        gone = b if surv is a else a
        merges.append(
            {
                "deposit": gone.id,
                "into_deposit": surv.id,
                "t_merge_s": float(a.t_merge),
                "frame": int(np.searchsorted(times - offset, a.t_merge)),
            }
        )
    merges_df = pd.DataFrame(merges, columns=["deposit", "into_deposit", "t_merge_s", "frame"])
    # per object per cycle
    cyc_rows = []
    for f in plan["fates"]:
        c = f["cycle"]
        cyc = cycles[c - 1]
        q0, s1 = cyc["plate"][0], cyc["strip"][1]
        fr = frames[
            (frames["object"] == f["object"]) & (frames["t_s"] >= q0) & (frames["t_s"] <= s1)
        ]
        fr = fr.drop_duplicates("frame")
        vmax = float(fr["object_volume_um3"].max()) if len(fr) else math.nan
        vdead = (
            float(fr["object_volume_um3"].iloc[-1]) if f["fate"] == "dead" and len(fr) else math.nan
        )
        cyc_rows.append(
            {
                "cycle": c,
                "object": f["object"],
                "members": " ".join(str(m) for m in f["members"]),
                "fate": f["fate"],
                "dead": f["fate"] == "dead",
                "v_max_um3": vmax,
                "v_dead_um3": vdead,
                "planted_dead_fraction": f["planted_dead_fraction"],
                "t_dead_s": f["t_dead_s"],
            }
        )
    cycles_df = pd.DataFrame(
        cyc_rows,
        columns=[
            "cycle",
            "object",
            "members",
            "fate",
            "dead",
            "v_max_um3",
            "v_dead_um3",
            "planted_dead_fraction",
            "t_dead_s",
        ],
    ).astype({"dead": bool})
    dead_li = []
    for cyc in cycles:
        c = cyc["cycle"]
        g = cycles_df[cycles_df["cycle"] == c]
        dead = g[g["dead"]]
        n = len(g)
        row = {
            "cycle": c,
            "n_deposits": int(n),
            "n_dead": int(len(dead)),
            "dead_fraction": len(dead) / n if n else None,
            "planted_dead_fraction": p["dead_fraction_first"] * p["dead_fraction_ratio"] ** (c - 1),
        }
        row.update(_line(dead["v_max_um3"].to_numpy(float), dead["v_dead_um3"].to_numpy(float)))
        if row["slope"] is None:
            row["reason"] = f"{len(dead)} dead deposit(s): too few for a line"
        dead_li.append(row)
    obj_max = frames.groupby("object")["object_volume_um3"].max() if len(frames) else pd.Series()
    i_set = p["current_density_mA_cm2"] * 1e-3 * p["electrode_area_cm2"]
    truth = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": p,
        "sync": {"offset_s": offset, "definition": "echem t = 0 on the movie clock"},
        "deposits": {
            "count": int(len(seen)),
            "n_tracks": int(len(seen)),
            "n_planted": len(deps),
            "n_merges": len(merges),
            "n_objects": int(len(seen)) - len(merges),
            "mean_max_volume_um3": float(obj_max.mean()) if len(obj_max) else None,
            "shape": "hemisphere",
            "definitions": (
                "count = n_tracks: planted deposits whose object reaches the 2 µm² detection "
                "limit; n_objects: count minus merges (a merged pair is one); mean_max_volume_um3: mean "
                "over objects of the largest effective (hemisphere) volume of the drawn footprint"
            ),
        },
        "dead_li": dead_li,
        "dead_li_definition": (
            "per cycle over the objects active in it (merged pairs count once; objects dead in "
            "an earlier cycle excluded): n_dead = objects planted dead in this stripping step; "
            "slope/intercept/r2: least-squares line V_dead = a + s·V_max over them with V_max the "
            "largest and V_dead the final effective volume of the drawn footprint in the cycle "
            "(noise-free, what a perfect analysis would fit)"
        ),
        "echem": {
            "current_A": i_set,
            "cycles": [
                {
                    "cycle": c["cycle"],
                    "t_plate_start_s": c["plate"][0],
                    "t_strip_start_s": c["strip"][0],
                    "t_strip_end_s": c["strip"][1],
                    "Q_c_C": -i_set * p["plating_s"],
                    "Q_a_C": i_set * p["stripping_s"],
                    "CE": p["stripping_s"] / p["plating_s"],
                }
                for c in cycles
            ],
        },
        "movie": {
            "n_frames": int(times.size),
            "pixel_size_um": p["pixel_size_um"],
            "frame_interval_nominal_s": p["frame_interval_s"],
            "clock": "truth times t_s are on the echem clock (movie time − offset_s)",
        },
        "files": {
            "frames": "truth/deposits_frames.csv",
            "cycles": "truth/deposits_cycles.csv",
            "merges": "truth/merges.csv",
        },
    }
    return truth, cycles_df, merges_df


fill_parameter_doc(make_dendrite_cycling, PARAMETERS)


@register(SCENARIO, PARAMETERS)
def dendrite_cycling(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write a simulated operando dendrite-cycling experiment and its truth to ``out``.

    Files: ``movie.tif`` (ImageJ TYX uint16, µm pixels, nominal interval),
    ``frame_times.csv`` (real per-frame times, movie clock), ``echem.mpt`` (EC-Lab text,
    galvanostatic cycling), ``experiment.toml`` (with ``[echem] time_offset_s``) and
    ``truth/`` (``truth.json``, ``deposits_frames.csv``, ``deposits_cycles.csv``,
    ``merges.csv``, ``splits.csv``, ``families.csv``). See :func:`make_dendrite_cycling` for the model.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (see :func:`make_dendrite_cycling`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = dendrite_cycling(tempfile.mkdtemp(), seed=3, field_px=96, n_deposits=3,
    ...                      n_new_per_cycle=0, n_merging_pairs=0, n_cycles=1,
    ...                      frame_interval_s=60.0)
    >>> p.name, sorted(f.name for f in (p.parent / "truth").iterdir())[:2]
    ('experiment.toml', ['deposits_cycles.csv', 'deposits_frames.csv'])
    """
    from platescope.io._echem_eclab_text import write_eclab_mpt

    resolve_params(PARAMETERS, params)  # validate before touching the folder
    out = prepare_output_dir(out, SCENARIO)
    sim = make_dendrite_cycling(seed=seed, **params)
    movie_section = write_movie_files(out, sim, name="movie.tif", mode="epi")
    echem = sim["echem"].copy()
    echem.attrs["electrode_area_cm2"] = sim["parameters"]["electrode_area_cm2"]
    write_eclab_mpt(
        out / "echem.mpt",
        echem,
        t0_local=sim["t0_local"],
        technique="Galvanostatic Cycling with Potential Limitation",
    )
    truth = sim["truth"]
    for key in ("frames", "cycles", "merges", "splits", "families"):  # truth/*.csv
        atomic_write_text(out / truth["files"][key], sim[key].to_csv(index=False))
    truth["inputs"] = input_hashes(out, ("movie.tif", "frame_times.csv", "echem.mpt"))
    truth["files"].update(movie="movie.tif", frame_times="frame_times.csv", echem="echem.mpt")
    write_json_atomic(out / "truth" / "truth.json", truth)
    return write_experiment_toml(
        out,
        SCENARIO,
        seed,
        {
            "electrode": {"area_cm2": sim["parameters"]["electrode_area_cm2"]},
            "echem": {
                "path": "echem.mpt",
                "timezone": TIMEZONE,
                "time_offset_s": float(sim["offset_s"]),
                "current_density_mA_cm2": sim["parameters"]["current_density_mA_cm2"],
            },
            "movie": movie_section,
        },
    )
