"""Validate particles.morphology against planted deposits (simulate.make_sem_morphology).

    python validation/sem_morphology.py --seeds 10 [--noise 8 16] [--sigma 1.0 0.5]

Writes validation/results/sem_morphology.{csv,md}: per kind, noise and smoothing σ the
verdict accuracy and the errors of coverage, whisker width/length, mean lineal
intercept and void fraction against the planted truth (512 × 512 px, 10 nm px).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from platescope.particles import morphology
from platescope.simulate import SEM_MORPHOLOGY_KINDS, make_sem_morphology

OUT = Path(__file__).resolve().parent / "results"


def _row(kind, seed, noise, sigma):
    sim = make_sem_morphology(kind, seed=seed, noise_sd=noise)
    t = sim["truth"]
    m = morphology(sim["image"], spacing=sim["image"].attrs["pixel_size_nm"] / 1000, sigma_px=sigma)
    row = {
        "kind": kind,
        "seed": seed,
        "noise_sd": noise,
        "sigma_px": sigma,
        "verdict": m["kind"],
        "coverage_err": m["coverage"] / t["coverage"] - 1,
        "index_of_dispersion": m["index_of_dispersion"]["value"],
    }
    if kind == "whiskers":
        w = m["whiskers"]
        row["width_err"] = w["width_um"]["mean"] / t["whisker_width_um"] - 1
        row["length_err"] = w["length_um"]["mean"] / t["whisker_length_um"] - 1
        row["count_err"] = w["count"] / t["n"] - 1
    if kind == "granular":
        row["intercept_err"] = m["grains"]["mean_intercept_um"] / t["mean_intercept_um"] - 1
    if kind == "continuous":
        row["void_fraction_err"] = m["voids"]["fraction"] / t["void_fraction"] - 1
        row["void_count_err"] = m["voids"]["count"] / t["void_count"] - 1
    return row


def _fmt(s: pd.Series) -> str:
    s = s.dropna()
    if s.empty:
        return ""
    return f"{100 * s.mean():+.1f} % ({100 * s.abs().max():.1f} %)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--noise", type=float, nargs="+", default=[8.0, 16.0])
    ap.add_argument("--sigma", type=float, nargs="+", default=[1.0, 0.5])
    a = ap.parse_args()
    rows = [
        _row(kind, seed, noise, sigma)
        for kind in SEM_MORPHOLOGY_KINDS
        for noise in a.noise
        for sigma in a.sigma
        for seed in range(a.seeds)
    ]
    df = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "sem_morphology.csv", index=False)
    cols = ["coverage_err", "width_err", "length_err", "intercept_err", "void_fraction_err"]
    lines = [
        "| kind | noise sd | σ px | verdict correct | coverage | whisker width | whisker "
        "length | mean intercept | void fraction |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, noise, sigma), g in df.groupby(["kind", "noise_sd", "sigma_px"], sort=False):
        ok = int((g["verdict"] == kind).sum())
        cells = [_fmt(g[c]) if c in g else "" for c in cols]
        lines.append(
            f"| {kind} | {noise:g} | {sigma:g} | {ok}/{len(g)} | " + " | ".join(cells) + " |"
        )
    text = (
        "Errors: mean (largest absolute) relative error vs the planted truth over "
        f"{a.seeds} seeds; 512 × 512 px, 10 nm px, deposit 170 / substrate 60 grey, beam "
        "σ 0.7 px.\n\n" + "\n".join(lines) + "\n"
    )
    (OUT / "sem_morphology.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
