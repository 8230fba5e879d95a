"""Validation of the spatial toolkit: colocalisation, point statistics, sites and pores.

Measures, against independent computations and planted truth:

1. Pearson's r and Manders' M1/M2 vs a direct numpy computation (random images and
   masks): largest absolute difference.
2. Costes' p-value under independent channels (blurred noise in a disk ROI) over
   400 fixed seeds (power: 100): fraction ≤ 0.05 and a KS test against uniform, for the
   variance-corrected p (default) and the plain block-scrambling p, with the data-driven
   block and a block of one blur FWHM; power with a shared component.
3. CSR tests over 100 seeds: false alarms on CSR, power on Thomas clusters and on
   Matérn-II hard-core patterns (MAD envelope test and Clark–Evans).
4. detect_sites / track_pores on the synthetic movies of tests/particles/test_pores.py
   across noise levels: site count, position and appearance-time errors; per-cycle pore
   counts, emergence errors.
5. Speed (wall time on this machine, shared by other jobs — ratios matter).

Usage::

    python validation/spatial_stats.py [--quick]

Writes ``validation/results/spatial_stats.json``, ``spatial_stats.md`` and
``spatial_stats_*.png`` (the figures of platescope.report for one case each).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy import stats as sps
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "particles"))

from test_pores import DT, PX, _pores_movie, _sites_movie  # noqa: E402

from platescope.particles import detect_sites, pore_cycle_stats, track_pores  # noqa: E402
from platescope.report import atomic_savefig, atomic_write_json, atomic_write_text  # noqa: E402
from platescope.stats import (  # noqa: E402
    colocalization,
    costes_test,
    csr_test,
    manders,
    pearson_matrix,
    pearson_r,
    ripley_envelope,
    ripley_k,
    sample_point_process,
)

OUT = HERE / "results"


def check_pearson_manders(n_cases: int) -> dict:
    rng = np.random.default_rng(0)
    worst_r = worst_m = 0.0
    for _ in range(n_cases):
        ny, nx = rng.integers(5, 120, 2)
        scale = 10.0 ** rng.uniform(-3, 4)
        a = rng.gamma(2.0, scale, (ny, nx))
        b = rng.uniform(-1, 1) * a + rng.gamma(2.0, scale, (ny, nx))
        b = np.abs(b)
        mask = rng.random((ny, nx)) < rng.uniform(0.1, 1.0)
        mask.flat[:3] = True
        x, y = a[mask], b[mask]
        worst_r = max(worst_r, abs(pearson_r(a, b, mask=mask) - np.corrcoef(x, y)[0, 1]))
        ta, tb = np.quantile(x, rng.uniform(0, 0.9)), np.quantile(y, rng.uniform(0, 0.9))
        m = manders(a, b, threshold_a=ta, threshold_b=tb, mask=mask)
        both = (x > ta) & (y > tb)
        worst_m = max(
            worst_m,
            abs(m["M1"] - x[both].sum() / x[x > ta].sum()),
            abs(m["M2"] - y[both].sum() / y[y > tb].sum()),
        )
    return {"n_cases": n_cases, "max_abs_diff_r": worst_r, "max_abs_diff_M": worst_m}


def _channels(seed: int, n: int, sigma: float, mix: float):
    rng = np.random.default_rng(seed)
    common = ndi.gaussian_filter(rng.standard_normal((n, n)), sigma)
    a = ndi.gaussian_filter(rng.standard_normal((n, n)), sigma)
    b = ndi.gaussian_filter(rng.standard_normal((n, n)), sigma)
    return (1 - mix) * a + mix * common, (1 - mix) * b + mix * common


def check_costes(n_seeds: int, n: int = 128) -> list[dict]:
    yy, xx = np.mgrid[:n, :n]
    roi = (yy - n / 2) ** 2 + (xx - n / 2) ** 2 < (n / 2 - 3) ** 2
    rows = []
    for sigma in (1.5, 3.0):
        fwhm = int(round(2.355 * sigma))
        for block in (None, fwhm):
            for mix in (0.0, 0.25):
                p, praw, kap, bs = [], [], [], []
                t0 = time.perf_counter()
                # calibration needs many seeds (binomial sd of a 5 % rate over 200
                # seeds is 1.5 %: seed sets alone swing it from 2.5 to 9 %); power fewer
                n_run = 2 * n_seeds if mix == 0.0 else max(10, n_seeds // 2)
                for s in range(n_run):
                    a, b = _channels(10_000 + s, n, sigma, mix)
                    r = costes_test(a, b, mask=roi, n_iter=199, block_px=block, seed=s)
                    p.append(r["p_value"])
                    praw.append(r["p_value_raw"])
                    kap.append(r["kappa"])
                    bs.append(r["block_px"])
                p, praw = np.array(p), np.array(praw)
                rows.append(
                    {
                        "psf_sigma_px": sigma,
                        "block": "data-driven" if block is None else f"FWHM={fwhm}px",
                        "block_px_median": float(np.median(bs)),
                        "shared_fraction": mix,
                        "n_seeds": n_run,
                        "frac_p_le_0.05": float(np.mean(p <= 0.05)),
                        "ks_p_uniform": float(sps.kstest(p, "uniform").pvalue),
                        "raw_frac_p_le_0.05": float(np.mean(praw <= 0.05)),
                        "raw_ks_p_uniform": float(sps.kstest(praw, "uniform").pvalue),
                        "kappa_median": float(np.median(kap)),
                        "s_per_test": (time.perf_counter() - t0) / n_run,
                    }
                )
                print(rows[-1], flush=True)
    return rows


def check_csr(n_seeds: int) -> list[dict]:
    W = (0.0, 40.0, 0.0, 25.0)
    cases = {
        "csr": dict(kind="csr", intensity_um2=0.2),
        "thomas(σ=1 µm, 5/cluster)": dict(kind="thomas", intensity_um2=0.2),
        "thomas(σ=2 µm, 3/cluster)": dict(
            kind="thomas", intensity_um2=0.2, cluster_radius_um=2.0, mean_per_cluster=3.0
        ),
        "hardcore(1.2 µm)": dict(kind="hardcore", intensity_um2=0.4, hard_core_um=1.2),
        "hardcore(0.8 µm)": dict(kind="hardcore", intensity_um2=0.4, hard_core_um=0.8),
    }
    rows = []
    for name, kw in cases.items():
        kw = dict(kw)
        kind = kw.pop("kind")
        for method in ("mad", "clark-evans"):
            flags = {"clustered": 0, "regular": 0}
            ns = []
            t0 = time.perf_counter()
            for s in range(n_seeds):
                pts = sample_point_process(kind, window=W, seed=50_000 + s, **kw)
                r = csr_test(pts, window=W, method=method, seed=s)
                flags["clustered"] += r["clustered"]
                flags["regular"] += r["regular"]
                ns.append(r["n"])
            rows.append(
                {
                    "pattern": name,
                    "method": method,
                    "n_seeds": n_seeds,
                    "mean_n_points": float(np.mean(ns)),
                    "frac_clustered": flags["clustered"] / n_seeds,
                    "frac_regular": flags["regular"] / n_seeds,
                    "s_per_test": (time.perf_counter() - t0) / n_seeds,
                }
            )
            print(rows[-1], flush=True)
    return rows


def check_sites(seeds, noises) -> list[dict]:
    rows = []
    for noise in noises:
        for seed in seeds:
            movie, truth = _sites_movie(seed, noise=noise)
            t0 = time.perf_counter()
            sites = detect_sites(movie, min_area_um2=0.1)
            dt_run = time.perf_counter() - t0
            d, j = (
                cKDTree(sites[["y_um", "x_um"]].to_numpy()).query(
                    truth[["y_um", "x_um"]].to_numpy()
                )
                if len(sites)
                else (np.full(len(truth), np.inf), np.zeros(len(truth), int))
            )
            ok = d <= 2 * PX
            tt = sites["t_appear_s"].to_numpy()[j] - truth["t_appear_s"].to_numpy()
            rows.append(
                {
                    "noise_sd_T": noise,
                    "seed": seed,
                    "n_true": len(truth),
                    "n_found": len(sites),
                    "n_matched": int(ok.sum()),
                    "pos_rms_um": float(np.sqrt(np.mean(d[ok] ** 2))) if ok.any() else None,
                    "t_err_mean_s": float(np.mean(tt[ok])) if ok.any() else None,
                    "t_err_max_abs_s": float(np.max(np.abs(tt[ok]))) if ok.any() else None,
                    "area_ratio_median": float(
                        np.median(sites["area_um2"].to_numpy()[j][ok] / truth["area_um2"][ok])
                    )
                    if ok.any()
                    else None,
                    "s_per_movie": dt_run,
                    "movie_shape": list(movie.shape),
                }
            )
    return rows


def check_pores(seeds, noises) -> list[dict]:
    rows = []
    for noise in noises:
        for seed in seeds:
            movie, planted, cycles, counts, area_true = _pores_movie(seed, noise=noise)
            t0 = time.perf_counter()
            pores, areas = track_pores(movie)
            dt_run = time.perf_counter() - t0
            field = movie.sizes["y"] * movie.sizes["x"] * PX * PX
            st = pore_cycle_stats(areas, cycles=cycles, field_area_um2=field, pores=pores)
            errs = []
            for p in planted.itertuples():
                d = np.hypot(pores["y_um"] - p.cy * PX, pores["x_um"] - p.cx * PX)
                cand = pores[d < 1.5]
                if len(cand):
                    errs.append(float(np.min(np.abs(cand["t_emerge_s"] - p.t0))))
            errs = np.array(errs)
            rows.append(
                {
                    "noise_sd_T": noise,
                    "seed": seed,
                    "counts_true": counts,
                    "counts_found": st["count"].tolist(),
                    "counts_exact": st["count"].tolist() == counts,
                    "new_per_cycle_exact": st["new_count"].tolist()
                    == planted.groupby("cycle").size().tolist(),
                    "n_planted": len(planted),
                    "n_found": len(pores),
                    "n_merges": int((pores["merged_into"] >= 0).sum()),
                    "emerge_err_max_s": float(errs.max()) if errs.size else None,
                    "emerge_err_mean_s": float(errs.mean()) if errs.size else None,
                    "area_fraction_rel_err_max": float(
                        np.max(np.abs(st["area_fraction"] / (np.array(area_true) / field) - 1))
                    ),
                    "s_per_movie": dt_run,
                    "movie_shape": list(movie.shape),
                }
            )
    return rows


def speed() -> dict:
    out = {}
    rng = np.random.default_rng(0)
    a = ndi.gaussian_filter(rng.standard_normal((512, 512)), 2)
    b = ndi.gaussian_filter(rng.standard_normal((512, 512)), 2)
    t0 = time.perf_counter()
    costes_test(a, b, n_iter=200)
    out["costes_test_512x512_200iter_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pearson_r(a, b)
    out["pearson_r_512x512_s"] = time.perf_counter() - t0
    pts = rng.uniform(0, 100, (3000, 2))
    t0 = time.perf_counter()
    ripley_k(pts, window=(0, 100, 0, 100), radii_um=np.linspace(0, 25, 51))
    out["ripley_k_3000pts_51radii_s"] = time.perf_counter() - t0
    pts = rng.uniform(0, 100, (300, 2))
    t0 = time.perf_counter()
    csr_test(pts, window=(0, 100, 0, 100))
    out["csr_test_300pts_99sims_s"] = time.perf_counter() - t0
    return out


def figures() -> None:
    from platescope.report import (
        fig_coloc_scatter,
        fig_pearson_matrix,
        fig_pore_areas,
        fig_ripley_l,
        fig_site_map,
        fig_site_pore_sizes,
    )

    a, b = _channels(1, 128, 2.0, 0.6)
    a, b = a - a.min(), b - b.min()
    res = colocalization(a, b, n_iter=199)
    atomic_savefig(
        fig_coloc_scatter(a, b, result=res, names=("channel a", "channel b")),
        OUT / "spatial_stats_coloc_scatter.png",
        dpi=150,
    )
    c = -a + 0.3 * _channels(2, 128, 2.0, 0.0)[0]
    mat = pearson_matrix({"S1m": a, "S2m": b, "Li": _channels(3, 128, 2.0, 0.0)[0], "inv": c})
    atomic_savefig(fig_pearson_matrix(mat), OUT / "spatial_stats_pearson_matrix.png", dpi=150)
    W = (0.0, 40.0, 0.0, 25.0)
    pts = sample_point_process("thomas", window=W, intensity_um2=0.2, seed=3)
    env = ripley_envelope(pts, window=W, n_sim=99)
    atomic_savefig(
        fig_ripley_l(env, test=csr_test(pts, window=W)), OUT / "spatial_stats_ripley_l.png", dpi=150
    )
    movie, _ = _sites_movie(1, noise=0.02)
    sites = detect_sites(movie)
    atomic_savefig(
        fig_site_map(movie.isel(t=-1), sites), OUT / "spatial_stats_site_map.png", dpi=150
    )
    pm, *_ = _pores_movie(5, noise=0.02)
    pores, areas = track_pores(pm)
    atomic_savefig(
        fig_pore_areas(areas, pores=pores), OUT / "spatial_stats_pore_areas.png", dpi=150
    )
    atomic_savefig(
        fig_site_pore_sizes(sites["area_um2"], pores["area_final_um2"]),
        OUT / "spatial_stats_sizes.png",
        dpi=150,
    )


def _md_table(df: pd.DataFrame) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer seeds (smoke run)")
    args = ap.parse_args()
    q = args.quick
    t_all = time.perf_counter()
    res = {
        "pearson_manders": check_pearson_manders(50 if q else 500),
        "costes": check_costes(30 if q else 200),
        "csr": check_csr(20 if q else 100),
        "sites": check_sites(range(2 if q else 5), (0.01, 0.02, 0.04, 0.08)),
        "pores": check_pores(range(2 if q else 5), (0.01, 0.02, 0.04, 0.08)),
        "speed": speed(),
        "frame_interval_s": DT,
        "pixel_um": PX,
    }
    figures()
    res["wall_s"] = time.perf_counter() - t_all
    OUT.mkdir(exist_ok=True)
    atomic_write_json(OUT / "spatial_stats.json", res)
    md = ["# Spatial statistics validation (validation/spatial_stats.py)", ""]
    pm = res["pearson_manders"]
    md.append(
        f"Pearson vs numpy over {pm['n_cases']} random images+masks: max |Δr| = "
        f"{pm['max_abs_diff_r']:.2e}; Manders max |ΔM| = {pm['max_abs_diff_M']:.2e}."
    )
    for key in ("costes", "csr"):
        md += ["", f"## {key}", "", _md_table(pd.DataFrame(res[key]))]
    for key in ("sites", "pores"):
        df = pd.DataFrame(res[key])
        md += ["", f"## {key}", "", _md_table(df)]
    md += ["", "## speed (s, shared 2-core machine)", "", json.dumps(res["speed"], indent=1)]
    atomic_write_text(OUT / "spatial_stats.md", "\n".join(md) + "\n")
    print(f"done in {res['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
