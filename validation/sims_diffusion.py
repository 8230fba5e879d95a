"""Recovery of planted truth for the sims-diffusion scenario, across seeds and counts.

For each counting level and seed, :func:`platescope.simulate.make_sims_diffusion` plants
four profiles (anneal times 15, 30, 60, 120 min, D = 1.6e-10 cm² s⁻¹, contaminated
surface, ¹⁸O channel, 0.5 % depth-scale error per profile) and every profile is fitted
with the pipeline's defaults (``platescope.pipeline._sims_diffusion.DEFAULTS``) through
:func:`platescope.models.fit_tracer_profile`; the anneal times are combined with
:func:`platescope.models.combine_anneal_times` — exactly what ``platescope analyze``
does after reading the files (``--through-files`` runs simulate → analyze instead, with
figures; slower). Each profile is fitted twice: with the O channel and without it
(residual scan alone).

Usage::

    python validation/sims_diffusion.py --seeds 100 --counts 2e5 5e4 2e4 5e3

Writes ``validation/results/sims_diffusion.csv`` (per profile),
``sims_diffusion_combined.csv`` (per seed) and ``sims_diffusion.md`` (the tables of
docs/sims_diffusion.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope.models import combine_anneal_times, fit_tracer_profile
from platescope.pipeline._sims_diffusion import DEFAULTS
from platescope.simulate import make_sims_diffusion
from platescope.testing import load_truth

D_TRUE = 1.6e-10


def _fit_kwargs(bootstrap: int) -> dict:
    p = dict(DEFAULTS["sims"])
    p["bootstrap"] = bootstrap
    p.pop("seed")
    p.pop("depth_scale_err")  # taken from each [[sims]] entry, as the pipeline does
    return p


def _profile_row(r: dict, tr: dict) -> dict:
    exc = set(r["excluded_points"])
    bad = set(tr["contaminated_points"])
    allowed = bad | set(tr["transition_points"])
    lo, hi = r.get("D_boot_ci95_cm2_s") or (np.nan, np.nan)
    return {
        "anneal_time_s": r["anneal_time_s"],
        "D_rel_err": r["D_cm2_s"] / D_TRUE - 1,
        "D_rel_unc_k2": 2 * r["D_err_cm2_s"] / D_TRUE,
        "covered_k2": abs(r["D_cm2_s"] - D_TRUE) <= 2 * r["D_err_cm2_s"],
        "boot_covered": bool(lo <= D_TRUE <= hi) if np.isfinite(lo) else np.nan,
        "boot_rel_width": (hi - lo) / D_TRUE,
        "n_contaminated": len(bad),
        "n_excluded": len(exc),
        "contaminated_all_excluded": bad <= exc,
        "no_clean_excluded": exc <= allowed,
        "chi2_red": r["chi2_red"],
    }


def run_in_memory(
    seeds: int, counts_levels, *, bootstrap: int = 100
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, comb = [], []
    kw = _fit_kwargs(bootstrap)
    for counts in counts_levels:
        for seed in range(seeds):
            t0 = time.perf_counter()
            sim = make_sims_diffusion(seed=seed, counts_per_point=counts)
            dse = sim["parameters"]["depth_scale_err"]
            for oxygen in (True, False):
                fits = []
                for k, (t, p, tr) in enumerate(
                    zip(sim["times"], sim["profiles"], sim["truth"]["sims"], strict=True)
                ):
                    r = fit_tracer_profile(
                        p["depth_um"],
                        p["n_tracer"],
                        p["n_other"],
                        anneal_time_s=t,
                        oxygen_counts=p["oxygen"] if oxygen else None,
                        depth_scale_err=dse,
                        seed=seed * 10 + k,
                        **{**kw, "bootstrap": bootstrap if oxygen else 0},
                    )
                    row = _profile_row(r, tr)
                    row.update(counts_per_point=counts, seed=seed, profile=k, oxygen_channel=oxygen)
                    rows.append(row)
                    fits.append(r)
                c = combine_anneal_times(
                    [r["anneal_time_s"] for r in fits],
                    [r["sigma2_um2"] for r in fits],
                    [r["sigma2_err_um2"] for r in fits],
                )
                comb.append(
                    {
                        "counts_per_point": counts,
                        "seed": seed,
                        "oxygen_channel": oxygen,
                        "D_rel_err": c["D_cm2_s"] / D_TRUE - 1,
                        "D_rel_unc_k2": 2 * c["D_err_cm2_s"] / D_TRUE,
                        "covered_k2": abs(c["D_cm2_s"] - D_TRUE) <= 2 * c["D_err_cm2_s"],
                        "birge_scaled": c["birge_scaled"],
                        "seconds": time.perf_counter() - t0,
                    }
                )
            print(f"counts {counts:g} seed {seed}: {time.perf_counter() - t0:.2f} s", flush=True)
    return pd.DataFrame(rows), pd.DataFrame(comb)


def run_through_files(seeds: int, counts_levels, out: Path) -> pd.DataFrame:
    """simulate → analyze (the CLI path, with figures); combined D per seed."""
    from platescope.pipeline import analyze
    from platescope.simulate import simulate

    rows = []
    for counts in counts_levels:
        for seed in range(seeds):
            sim = out / f"c{counts:g}_s{seed}" / "input"
            res = out / f"c{counts:g}_s{seed}" / "results"
            t0 = time.perf_counter()
            exp = simulate("sims-diffusion", sim, seed=seed, overrides={"counts_per_point": counts})
            s = analyze(exp, res)
            truth = load_truth(sim)
            for got, want in zip(s["sims"], truth["sims"], strict=True):
                rows.append(
                    {
                        "counts_per_point": counts,
                        "seed": seed,
                        "anneal_time_s": got["anneal_time_s"],
                        "D_rel_err": got["D_cm2_s"] / D_TRUE - 1,
                        "covered_k2": abs(got["D_cm2_s"] - D_TRUE) <= got["D_err_cm2_s"],
                        "contaminated_all_excluded": set(want["contaminated_points"])
                        <= set(got["excluded_points"]),
                        "no_clean_excluded": set(got["excluded_points"])
                        <= set(want["contaminated_points"]) | set(want["transition_points"]),
                        "combined_D_rel_err": s["sims_D_cm2_s"] / D_TRUE - 1,
                        "combined_covered_k2": abs(s["sims_D_cm2_s"] - D_TRUE)
                        <= s["sims_D_err_cm2_s"],
                        "seconds": time.perf_counter() - t0,
                    }
                )
    return pd.DataFrame(rows)


def _pct(x) -> str:
    return f"{100 * float(np.mean(x)):.0f} %"


def tables(df: pd.DataFrame, comb: pd.DataFrame) -> str:
    """Markdown summaries: per counting level (with the O channel), then without it."""
    out = []
    for oxygen in (True, False):
        d = df[df["oxygen_channel"] == oxygen]
        c = comb[comb["oxygen_channel"] == oxygen]
        out.append(
            f"**{'With' if oxygen else 'Without'} the ¹⁸O channel** "
            f"({d['seed'].nunique()} seeds per level, 4 profiles each)\n"
        )
        out.append(
            "| counts/point | profile D within 5 % | profile median abs err | profile k=2 coverage "
            + ("| bootstrap 95 % coverage " if oxygen else "")
            + "| seeds: all contaminated excluded | seeds: no clean excluded "
            "| combined D within 5 % | combined median abs err | combined k=2 coverage | combined median ±k=2 |"
        )
        out.append("|---" * (10 if oxygen else 9) + "|")
        for counts, g in d.groupby("counts_per_point", sort=False):
            gc = c[c["counts_per_point"] == counts]
            per_seed = g.groupby("seed").agg(
                all_exc=("contaminated_all_excluded", "all"), no_clean=("no_clean_excluded", "all")
            )
            cells = [
                f"{counts:g}",
                _pct(g["D_rel_err"].abs() < 0.05),
                f"{100 * g['D_rel_err'].abs().median():.1f} %",
                _pct(g["covered_k2"]),
            ]
            if oxygen:
                cells.append(_pct(g["boot_covered"].astype(bool)))
            cells += [
                _pct(per_seed["all_exc"]),
                _pct(per_seed["no_clean"]),
                _pct(gc["D_rel_err"].abs() < 0.05),
                f"{100 * gc['D_rel_err'].abs().median():.1f} %",
                _pct(gc["covered_k2"]),
                f"{100 * gc['D_rel_unc_k2'].median():.1f} %",
            ]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    d = df[df["oxygen_channel"]]
    out.append("**Per anneal time** (with O channel): D within 5 % / k=2 coverage / median ±k=2\n")
    out.append(
        "| counts/point | "
        + " | ".join(f"{t / 60:g} min" for t in sorted(d["anneal_time_s"].unique()))
        + " |"
    )
    out.append("|---" * (1 + d["anneal_time_s"].nunique()) + "|")
    for counts, g in d.groupby("counts_per_point", sort=False):
        cells = [f"{counts:g}"]
        for _, h in g.groupby("anneal_time_s"):
            cells.append(
                f"{_pct(h['D_rel_err'].abs() < 0.05)} / {_pct(h['covered_k2'])} / "
                f"{100 * h['D_rel_unc_k2'].median():.1f} %"
            )
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--counts", type=float, nargs="+", default=[2e5, 5e4, 2e4, 5e3])
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--through-files", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    if args.through_files:
        out = args.out or Path(tempfile.mkdtemp(prefix="platescope-val-sims-"))
        df = run_through_files(args.seeds, args.counts, out)
        df.to_csv(res / "sims_diffusion_files.csv", index=False)
        print(df.groupby("counts_per_point").mean(numeric_only=True).to_string())
        return
    t0 = time.perf_counter()
    df, comb = run_in_memory(args.seeds, args.counts, bootstrap=args.bootstrap)
    df.to_csv(res / "sims_diffusion.csv", index=False)
    comb.to_csv(res / "sims_diffusion_combined.csv", index=False)
    md = tables(df, comb)
    md += f"\n\nWall time {time.perf_counter() - t0:.0f} s for {len(df)} profile fits.\n"
    (res / "sims_diffusion.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
