"""Stripping limits and Scharifker–Hills: the paper's numbers, the void model, planted transients.

Measures (nothing here is asserted against the code's own output; the tests do the
pass/fail checks against physics and the paper):

1. i_crit for the paper's diffusivities and the band SCIENCE.md §3 quotes;
2. Sand capacity and time at 0.1 and 1 mA cm⁻² for Li and Li₀.₉Mg₀.₁;
3. the void model: capacities, the Li/Li–Mg crossover, the ratio at 0.1 mA cm⁻²,
   the no-void (Sand) limit vs grid, speed, and a sensitivity sweep of the
   illustrative morphology parameters;
4. Scharifker–Hills: recovery of planted I_m, t_m and mechanism over seeds and noise
   levels (with a double-layer spike), error calibration (z-scores), false positives on
   Cottrell decays, and the real CA files in shared/data.

Usage::

    python validation/stripping_limits.py --seeds 50

Writes ``validation/results/stripping_limits.json`` and ``stripping_limits.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from platescope import models

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / ".." / "shared" / "data" / "echem"
PAPER_D = {
    "Li (D*)": 1.6e-10,
    "Li0.9Mg0.1": 2.4e-11,
    "Li0.8Mg0.2": 2.6e-11,
    "Li0.7Mg0.3": 1.4e-11,
    "band low": 1e-11,
    "band high": 1e-10,
}


def icrit_section() -> list[dict]:
    rows = []
    for name, D in PAPER_D.items():
        err = 0.1e-10 if name == "Li (D*)" else None
        r = models.critical_stripping_current(D, D_err_cm2_s=err)
        lo, hi = r["i_crit_model_interval_uA_cm2"]
        rows.append(
            {
                "material": name,
                "D_cm2_s": D,
                "i_crit_uA_cm2": r["i_crit_uA_cm2"],
                "i_crit_err_k2_uA_cm2": None if err is None else 2 * r["i_crit_err_uA_cm2"],
                "model_interval_uA_cm2": [lo, hi],
                "in_50_200_band": bool(50 - 1e-9 <= r["i_crit_uA_cm2"] <= 200 + 1e-9),
            }
        )
    return rows


def sand_section() -> list[dict]:
    rows = []
    for name, D, x in (("Li", 1.6e-10, 0.0), ("Li0.9Mg0.1", 2.4e-11, 0.1)):
        c = models.li_concentration_mol_cm3(x)
        for j in (0.1, 1.0):
            rows.append(
                {
                    "material": name,
                    "j_mA_cm2": j,
                    "t_star_h": models.sand_time_solid(j, D_cm2_s=D, c_mol_cm3=c) / 3600,
                    "Q_star_mAh_cm2": models.sand_capacity_solid(j, D_cm2_s=D, c_mol_cm3=c),
                }
            )
    return rows


def _crossover(tab):
    piv = tab.pivot(index="j_mA_cm2", columns="material", values="capacity_mAh_cm2")
    mats = list(piv.columns)
    li = [m for m in mats if m.startswith("Li metal")][0]
    mg = [m for m in mats if m != li][0]
    r = np.log(piv[mg] / piv[li]).to_numpy()
    j = piv.index.to_numpy()
    s = np.flatnonzero(np.sign(r[:-1]) * np.sign(r[1:]) < 0)
    if not s.size:
        return None, piv, li, mg
    k = s[0]
    return (
        float(np.exp(np.log(j[k]) + np.log(j[k + 1] / j[k]) * r[k] / (r[k] - r[k + 1]))),
        piv,
        li,
        mg,
    )


def void_section() -> dict:
    j = np.unique(np.r_[np.geomspace(0.01, 10, 40), 0.1, 1.0])
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        tab = models.void_model_capacity(j)
        times.append(time.perf_counter() - t0)
    jx, piv, li, mg = _crossover(tab)
    out = {
        "capacity_mAh_cm2": {
            f"{jj:g}": {li: float(piv.loc[jj, li]), mg: float(piv.loc[jj, mg])}
            for jj in (0.01, 0.1, 1.0, 10.0)
            if jj in piv.index
        },
        "ratio_LiMg_over_Li_at_0.1": float(piv.loc[0.1, mg] / piv.loc[0.1, li]),
        "ratio_Li_over_LiMg_at_1": float(piv.loc[1.0, li] / piv.loc[1.0, mg]),
        "ratio_LiMg_0.1_over_LiMg_1": float(piv.loc[0.1, mg] / piv.loc[1.0, mg]),
        "ratio_Li_0.1_over_Li_1": float(piv.loc[0.1, li] / piv.loc[1.0, li]),
        "crossover_j_mA_cm2": jx,
        "limited_by_at_0.1_and_1": {
            m: tab[(tab.material == m) & tab.j_mA_cm2.isin([0.1, 1.0])]["limited_by"].tolist()
            for m in (li, mg)
        },
        "seconds_2x42_currents_median_of_5": float(np.median(times)),
    }
    # no-void limit vs Sand's time, default and fine grids
    nov = models.StrippingMaterial("no voids", 1e-10, 1 / 13.0, 0.0, 1e9)
    sand_t = models.sand_time_solid(np.array([0.1, 1.0, 10.0]), D_cm2_s=1e-10)
    for label, kw in (("default", {}), ("fine", {"n_x": 300, "n_t": 8000})):
        te = models.void_model_capacity([0.1, 1.0, 10.0], [nov], tau_max=3.0, **kw)["t_empty_s"]
        out[f"sand_time_rel_err_{label}_grid"] = float(np.max(np.abs(te.to_numpy() / sand_t - 1)))
    ref = models.void_model_capacity(j, n_x=300, n_t=8000)["capacity_mAh_cm2"].to_numpy()
    out["capacity_max_rel_diff_default_vs_fine_grid"] = float(
        np.max(np.abs(tab["capacity_mAh_cm2"].to_numpy() / ref - 1))
    )
    # sensitivity of the qualitative result to the illustrative parameters
    sweep = []
    for phi, hli, hmg, af in itertools.product(
        (0.3, 0.5, 0.7), (0.5, 1.0, 2.0), (0.1, 0.2, 0.5), (0.05, 0.1, 0.2)
    ):
        lim = replace(models.LI_METAL, void_fraction=phi, void_height_um=hli)
        mgm = replace(models.LI_MG_10, void_height_um=hmg)
        t = models.void_model_capacity([0.1, 1.0, 10.0], [lim, mgm], a_fail=af)
        p = t.pivot(index="j_mA_cm2", columns="material", values="capacity_mAh_cm2")
        sweep.append(
            {
                "phi_li": phi,
                "h_li_um": hli,
                "h_mg_um": hmg,
                "a_fail": af,
                "li_ahead_at_10": bool(p.loc[10.0, lim.name] > p.loc[10.0, mgm.name]),
                "li_ahead_at_1": bool(p.loc[1.0, lim.name] > p.loc[1.0, mgm.name]),
                "mg_over_li_at_0.1": float(p.loc[0.1, mgm.name] / p.loc[0.1, lim.name]),
            }
        )
    out["sensitivity"] = {
        "n_combinations": len(sweep),
        "frac_li_ahead_at_10": float(np.mean([s["li_ahead_at_10"] for s in sweep])),
        "frac_li_ahead_at_1": float(np.mean([s["li_ahead_at_1"] for s in sweep])),
        "frac_mg_ahead_at_0.1": float(np.mean([s["mg_over_li_at_0.1"] > 1 for s in sweep])),
        "frac_mg_over_li_gt4_at_0.1": float(np.mean([s["mg_over_li_at_0.1"] > 4 for s in sweep])),
        "combinations_li_behind_at_1": [s for s in sweep if not s["li_ahead_at_1"]],
    }
    return out


def sh_section(seeds: int) -> dict:
    rows = []
    for mech in models._scharifker_hills.MECHANISMS:
        for noise in (0.005, 0.01, 0.02, 0.05):
            e_im, e_tm, z_im, z_tm, wrong, amb, miss = [], [], [], [], 0, 0, 0
            t_total = 0.0
            for seed in range(seeds):
                rng = np.random.default_rng(1000 + seed)
                I_m = 10 ** rng.uniform(-6, -2)
                t_m = 10 ** rng.uniform(-1, 1.5)
                t = np.linspace(0, 6 * t_m, 500)
                i = models.scharifker_hills_current(t, I_m_A=I_m, t_m_s=t_m, mechanism=mech)
                i = (
                    i
                    + 3 * I_m * np.exp(-t / (0.02 * t_m))
                    + noise * I_m * rng.standard_normal(t.size)
                )
                t0 = time.perf_counter()
                r = models.scharifker_hills_fit(t, -i)
                t_total += time.perf_counter() - t0
                if not r["nucleation_transient"]:
                    miss += 1
                    continue
                e_im.append(abs(r["I_m_A"]) / I_m - 1)
                e_tm.append(r["t_m_s"] / t_m - 1)
                z_im.append((abs(r["I_m_A"]) - I_m) / r["I_m_err_A"])
                z_tm.append((r["t_m_s"] - t_m) / r["t_m_err_s"])
                wrong += r["mechanism"] != mech
                amb += bool(r["ambiguous"])
            rows.append(
                {
                    "mechanism": mech,
                    "noise_rel": noise,
                    "n": seeds,
                    "missed": miss,
                    "misclassified": wrong,
                    "ambiguous": amb,
                    "I_m_rel_err_median": float(np.median(np.abs(e_im))),
                    "I_m_rel_err_max": float(np.max(np.abs(e_im))),
                    "t_m_rel_err_median": float(np.median(np.abs(e_tm))),
                    "t_m_rel_err_max": float(np.max(np.abs(e_tm))),
                    "z_I_m_sd": float(np.std(z_im)),
                    "z_t_m_sd": float(np.std(z_tm)),
                    "frac_within_2sigma": float(np.mean((np.abs(z_im) < 2) & (np.abs(z_tm) < 2))),
                    "ms_per_fit": 1e3 * t_total / seeds,
                }
            )
    fp = {}
    t = np.linspace(0.01, 10, 400)
    for noise in (1e-8, 1e-7, 1e-6):
        n_fp = 0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            i = 1e-4 / np.sqrt(t) + 5e-4 * np.exp(-t / 0.05) + noise * rng.standard_normal(t.size)
            n_fp += models.scharifker_hills_fit(t, i)["nucleation_transient"]
        fp[f"cottrell_noise_{noise:g}_A"] = f"{n_fp}/{seeds}"
    real = {}
    from platescope.io import read_echem

    for rel in ("unitpackage/eclab_ca.mpt", "yadg/ca.issue_149.mpt", "yadg/ca.issue_149.mpr"):
        p = DATA / rel
        if not p.is_file():
            real[rel] = "absent"
            continue
        import tempfile

        from platescope.pipeline._outputs import StagedOutput
        from platescope.pipeline._stripping import chronoamperometry_analyses

        with tempfile.TemporaryDirectory() as d:
            out = StagedOutput(Path(d) / "r")
            s: dict = {}
            chronoamperometry_analyses(read_echem(p), out, s)
            out.discard()
        sh = s["echem"]["scharifker_hills"]
        real[rel] = {
            "n_steps": sh["n_steps"],
            "n_nucleation_transients": sh["n_nucleation_transients"],
            "reasons": sorted({r["reason"].split(":")[0] for r in sh["steps"]}),
        }
    return {"planted": rows, "false_positives": fp, "real_files": real}


def _md(results: dict) -> str:
    L = ["# Stripping limits and Scharifker–Hills — measured", ""]
    L += ["## i_crit (√D law anchored at 1e-11 cm²/s ↔ 50 µA/cm²)", ""]
    L += ["| material | D / cm² s⁻¹ | i_crit / µA cm⁻² | ±95 % | model interval | in 50–200 |"]
    L += ["|---|---|---|---|---|---|"]
    for r in results["i_crit"]:
        e = "" if r["i_crit_err_k2_uA_cm2"] is None else f"{r['i_crit_err_k2_uA_cm2']:.1f}"
        lo, hi = r["model_interval_uA_cm2"]
        L.append(
            f"| {r['material']} | {r['D_cm2_s']:.2e} | {r['i_crit_uA_cm2']:.1f} | {e} | "
            f"{lo:.0f}–{hi:.0f} | {r['in_50_200_band']} |"
        )
    L += ["", "## Sand limits (solid)", "", "| material | j / mA cm⁻² | t* / h | Q* / mAh cm⁻² |"]
    L += ["|---|---|---|---|"]
    for r in results["sand"]:
        L.append(
            f"| {r['material']} | {r['j_mA_cm2']} | {r['t_star_h']:.3g} | {r['Q_star_mAh_cm2']:.3g} |"
        )
    v = results["void_model"]
    L += ["", "## Void model", "", "| j / mA cm⁻² | Li metal / mAh cm⁻² | Li0.9Mg0.1 / mAh cm⁻² |"]
    L += ["|---|---|---|"]
    for jj, d in v["capacity_mAh_cm2"].items():
        vals = list(d.values())
        L.append(f"| {jj} | {vals[0]:.3g} | {vals[1]:.3g} |")
    L += [
        "",
        f"- Li–Mg / Li at 0.1 mA cm⁻²: **{v['ratio_LiMg_over_Li_at_0.1']:.2f}**; "
        f"Li / Li–Mg at 1 mA cm⁻²: **{v['ratio_Li_over_LiMg_at_1']:.2f}**; crossover at "
        f"j = {v['crossover_j_mA_cm2']:.2f} mA cm⁻²",
        f"- Li–Mg(0.1) / Li–Mg(1) = {v['ratio_LiMg_0.1_over_LiMg_1']:.2f}; "
        f"Li(0.1) / Li(1) = {v['ratio_Li_0.1_over_Li_1']:.2f}",
        f"- no-void limit vs Sand's time: max rel. error {v['sand_time_rel_err_default_grid']:.2%} "
        f"(default grid), {v['sand_time_rel_err_fine_grid']:.2%} (fine grid); default vs fine "
        f"capacities differ by ≤ {v['capacity_max_rel_diff_default_vs_fine_grid']:.2%}",
        f"- speed: {v['seconds_2x42_currents_median_of_5']:.2f} s for 2 materials × 42 currents "
        "(median of 5, shared 2-core machine)",
        f"- sensitivity ({v['sensitivity']['n_combinations']} combinations of φ_Li, h_Li, h_Mg, "
        f"a_fail): Li ahead at 10 mA cm⁻² in {v['sensitivity']['frac_li_ahead_at_10']:.0%}, at "
        f"1 mA cm⁻² in {v['sensitivity']['frac_li_ahead_at_1']:.0%}; Li–Mg ahead at 0.1 in "
        f"{v['sensitivity']['frac_mg_ahead_at_0.1']:.0%}, by > 4× in "
        f"{v['sensitivity']['frac_mg_over_li_gt4_at_0.1']:.0%}",
    ]
    sh = results["scharifker_hills"]
    L += ["", "## Scharifker–Hills, planted transients (double-layer spike + white noise)", ""]
    L += [
        "| mechanism | noise / I_m | n | missed | wrong | ambiguous | I_m err med / max | "
        "t_m err med / max | z sd (I_m, t_m) | within 2σ | ms/fit |"
    ]
    L += ["|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sh["planted"]:
        L.append(
            f"| {r['mechanism']} | {r['noise_rel']:.1%} | {r['n']} | {r['missed']} | "
            f"{r['misclassified']} | {r['ambiguous']} | {r['I_m_rel_err_median']:.2%} / "
            f"{r['I_m_rel_err_max']:.2%} | {r['t_m_rel_err_median']:.2%} / "
            f"{r['t_m_rel_err_max']:.2%} | {r['z_I_m_sd']:.2f}, {r['z_t_m_sd']:.2f} | "
            f"{r['frac_within_2sigma']:.0%} | {r['ms_per_fit']:.1f} |"
        )
    L += ["", f"False positives on Cottrell decays with a spike: {sh['false_positives']}", ""]
    L += [f"Real CA files: {json.dumps(sh['real_files'], ensure_ascii=False)}", ""]
    return "\n".join(L)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    a = ap.parse_args(argv)
    results = {
        "i_crit": icrit_section(),
        "sand": sand_section(),
        "void_model": void_section(),
        "scharifker_hills": sh_section(a.seeds),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    from platescope._atomic import atomic_write_json, atomic_write_text, to_jsonable

    atomic_write_json(a.out / "stripping_limits.json", to_jsonable(results))
    md = _md(results)
    atomic_write_text(a.out / "stripping_limits.md", md)
    print(md)
    return results


if __name__ == "__main__":
    main()
