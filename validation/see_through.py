"""Recovery of planted truth for the see-through-au/-ag scenarios, across seeds and noise.

Runs the public contract end to end — ``simulate`` writes the real-format files and
the truth, ``analyze`` reads the files — and compares ``summary.json`` and the output
tables/maps with ``truth/``.

Usage::

    python validation/see_through.py --seeds 20 --noise 1 2 --metal au ag

Writes ``validation/results/see_through.csv`` and ``validation/results/see_through.md``
(a Markdown table per scenario and noise level).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from platescope.pipeline import analyze
from platescope.simulate import simulate
from platescope.testing import load_pair


def compare(sim_dir: Path, res_dir: Path) -> dict:
    """Errors of one analysed simulation against its truth."""
    truth, got = load_pair(sim_dir, res_dir)
    frames = pd.read_csv(sim_dir / "frame_times.csv")["time_s"].to_numpy()
    dt = float(np.median(np.diff(frames)))
    row: dict = {"frame_interval_s": dt}
    want = truth["echem"]["stages"]
    # rows of tabulated stages the record does not show (found = false) are not stages
    st = [s for s in got["echem"].get("stages") or [] if s.get("found", True)]
    row["stages_missing_rows"] = sum(
        not s.get("found", True) for s in got["echem"].get("stages") or []
    )
    row["warning_codes"] = ",".join(sorted({w["code"] for w in got.get("warnings") or []}))
    row["stages_ok"] = [(s["cycle"], s["name"]) for s in st] == [
        (s["cycle"], s["name"]) for s in want
    ]
    if row["stages_ok"]:
        b_err, x_err, e_err = [], [], []
        for g, w in zip(st, want, strict=True):
            dur = w["t_end_s"] - w["t_start_s"]
            b_err += [
                abs(g["t_start_s"] - w["t_start_s"]) / dur,
                abs(g["t_end_s"] - w["t_end_s"]) / dur,
            ]
            if w["x_end"] > 0.2:
                x_err.append(abs(g["x_end"] / w["x_end"] - 1))
            e_err.append(abs(g["E_mean_V"] - w["E_mean_V"]))
        row["boundary_err_max_pct"] = 100 * max(b_err)
        sei = [
            abs(g["t_end_s"] - w["t_end_s"]) / (w["t_end_s"] - w["t_start_s"])
            for g, w in zip(st, want, strict=True)
            if w["name"] == "SEI"
        ]
        row["sei_end_err_max_pct"] = 100 * max(sei)
        row["sei_end_err_max_s"] = max(
            abs(g["t_end_s"] - w["t_end_s"])
            for g, w in zip(st, want, strict=True)
            if w["name"] == "SEI"
        )
        row["boundary_err_median_pct"] = 100 * float(np.median(b_err))
        row["x_end_err_max_pct"] = 100 * max(x_err)
        row["E_mean_err_max_mV"] = 1e3 * max(e_err)
    cyc = got["echem"].get("cycles") or []
    if len(cyc) == len(truth["echem"]["cycles"]):
        row["CE_err_max"] = max(
            abs(g["CE"] - w["CE"]) for g, w in zip(cyc, truth["echem"]["cycles"], strict=True)
        )
    al = (got.get("optics") or {}).get("alloying") or []
    med = []
    for a, w in zip(al, truth["optics"]["alloying"], strict=False):
        m = tifffile.imread(res_dir / a["onset_map_path"])
        p = tifffile.imread(sim_dir / "truth" / w["onset_map_path"])
        ok = np.isfinite(m) & np.isfinite(p)
        e = float(np.median(np.abs(m[ok] - p[ok]))) / dt
        row[f"onset{a['step']}_median_err_frames"] = e
        row[f"t50_{a['step']}_err_s"] = a["t50_s"] - w["t50_s"]
        med.append(e)
    if med:
        row["onset_median_err_frames_worst_step"] = max(med)
    r = (got.get("optics") or {}).get("complementarity_r")
    if r is not None:
        row["complementarity_err"] = r - truth["optics"]["complementarity_r"]
        row["complementarity_truth"] = truth["optics"]["complementarity_r"]
    sites = got.get("sites") or {}
    if sites.get("count") is not None:
        row["sites_count"] = sites["count"]
        row["sites_truth"] = truth["sites"]["count"]
        row["sites_count_rel_err"] = sites["count"] / max(truth["sites"]["count"], 1) - 1
    coloc_t, coloc_g = truth.get("colocalization") or {}, got.get("colocalization") or {}
    diffs = [
        abs(coloc_g[k] - v)
        for k, v in coloc_t.items()
        if v is not None and coloc_g.get(k) is not None
    ]
    if diffs:
        row["coloc_err_max"] = max(diffs)
    pores = got.get("pores") or []
    if pores:
        tp = {p["cycle"]: p for p in truth["pores"]}
        row["pore_counts"] = "/".join(str(p["count"]) for p in pores)
        row["pore_counts_truth"] = "/".join(str(tp[c]["count"]) for c in sorted(tp))
        row["pore_counts_exact"] = all(
            p["count"] == tp.get(p["cycle"], {}).get("count") for p in pores
        ) and len(pores) == len(tp)
        row["pore_area_fraction_err_max"] = max(
            abs(p["area_fraction"] - tp[p["cycle"]]["area_fraction"])
            for p in pores
            if p["cycle"] in tp
        )
        pt = res_dir / "tables" / "pores.csv"
        if pt.is_file():
            det = pd.read_csv(pt)
            tru = pd.read_csv(sim_dir / "truth" / "pores.csv")
            # one-to-one matching within 0.6 µm, cheapest first, cost = distance (µm) +
            # 0.02 µm per s of emergence-time difference: merged pores share one footprint
            # centroid (between the two), so position alone cannot tell them apart
            d = np.hypot(
                det["x_um"].to_numpy()[None, :] - tru["x_um"].to_numpy()[:, None],
                det["y_um"].to_numpy()[None, :] - tru["y_um"].to_numpy()[:, None],
            )
            dtm = np.abs(
                det["t_emerge_s"].to_numpy()[None, :] - tru["t_emerge_s"].to_numpy()[:, None]
            )
            cost = d + 0.02 * dtm
            errs, used_t, used_d = [], set(), set()
            for k in np.argsort(cost, axis=None):
                i, j = np.unravel_index(k, d.shape)
                if d[i, j] > 0.6:
                    continue
                if i in used_t or j in used_d:
                    continue
                used_t.add(i)
                used_d.add(j)
                e = abs(float(det["t_emerge_s"].iloc[j]) - float(tru["t_emerge_s"].iloc[i]))
                errs.append(e / dt)
            if errs:
                row["pore_emerge_err_median_frames"] = float(np.median(errs))
                row["pore_emerge_within_1_frame"] = float(np.mean(np.array(errs) <= 1.0))
                row["pores_matched"] = len(errs) / len(tru)
    return row


def run(
    seeds, noise_levels, metals, out: Path, *, keep: bool = False, sei_join: str = "step"
) -> pd.DataFrame:
    rows = []
    for metal in metals:
        for noise in noise_levels:
            for seed in seeds:
                base = out / f"{metal}_n{noise}_s{seed}"
                sim, res = base / "input", base / "results"
                t0 = time.perf_counter()
                exp = simulate(
                    f"see-through-{metal}",
                    sim,
                    seed=seed,
                    overrides={"noise_scale": noise, "sei_join": sei_join},
                )
                t1 = time.perf_counter()
                analyze(exp, res)
                t2 = time.perf_counter()
                row = compare(sim, res)
                row.update(
                    scenario=f"see-through-{metal}",
                    sei_join=sei_join,
                    noise_scale=noise,
                    seed=seed,
                    simulate_s=t1 - t0,
                    analyze_s=t2 - t1,
                )
                rows.append(row)
                print(
                    f"{metal} noise ×{noise} seed {seed}: {t1 - t0:.1f} + {t2 - t1:.1f} s",
                    flush=True,
                )
                if not keep:
                    shutil.rmtree(base, ignore_errors=True)
    return pd.DataFrame(rows)


def _fmt(v, spec):
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def table(df: pd.DataFrame) -> str:
    """Markdown summary per scenario and noise level (worst seed unless stated)."""
    lines = [
        "| scenario | noise | seeds | stages found | max boundary err (% of stage) | max x_end err (%) "
        "| onset median err (frames, worst) | max abs Δr complementarity | max abs site-count err (%) "
        "| pore counts exact | pore emergence ≤ 1 frame (mean) | median s simulate + analyze |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (sc, noise), g in df.groupby(["scenario", "noise_scale"]):

        def col(name, fn, spec=".2f", g=g):
            return (
                _fmt(fn(g[name].dropna()), spec) if name in g and g[name].notna().any() else "n/a"
            )

        lines.append(
            f"| {sc} | ×{noise:g} | {len(g)} | {int(g['stages_ok'].sum())}/{len(g)} | "
            f"{col('boundary_err_max_pct', np.max)} | {col('x_end_err_max_pct', np.max)} | "
            f"{col('onset_median_err_frames_worst_step', np.max)} | "
            f"{col('complementarity_err', lambda s: s.abs().max(), '.3f')} | "
            + (
                f"{100 * g['sites_count_rel_err'].abs().max():.1f}"
                if "sites_count_rel_err" in g
                else "n/a"
            )
            + " | "
            + (
                f"{int(g['pore_counts_exact'].sum())}/{len(g)}"
                if "pore_counts_exact" in g
                else "n/a"
            )
            + " | "
            + col("pore_emerge_within_1_frame", np.mean)
            + f" | {(g['simulate_s'] + g['analyze_s']).median():.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--metal", nargs="+", default=["au", "ag"])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--name", default="see_through")
    ap.add_argument(
        "--sei-join",
        choices=["step", "kink"],
        default="step",
        help="how the simulated SEI decay joins the first plateau (sei_join)",
    )
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="platescope-val-"))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    df = run(seeds, args.noise, args.metal, out, keep=args.keep, sei_join=args.sei_join)
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / f"{args.name}.csv", index=False)
    md = table(df)
    (res / f"{args.name}.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
