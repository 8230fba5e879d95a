"""Movies that start at contact vs the landing-step path, on the same seeds.

For each seed the same scene (footprint, nucleation field, echem) is simulated three
times: the default movie (starts ``pre_contact_s`` before contact, landing step), a
movie that starts at contact and one that starts 5 s after contact
(``movie_start_after_contact_s``; their experiment files carry ``[echem]
time_offset_s``, as a camera started by the contact signal would). Each is analysed
end to end through files and compared with the truth: footprint area and centre,
t_nuc(IRM) of the footprint mean, the per-pixel t_nuc map, α and the clock offset.

Usage::

    python validation/irm_contact_start.py --seeds 10 --noise 1 2
    python validation/irm_contact_start.py --seeds 5 --starts 0 1 --name irm_contact_start_small \
        --set current_density_mA_cm2=0.78 irm_size_px=96 footprint_diameter_um=2

Writes ``validation/results/<name>.{csv,md}`` (default name ``irm_contact_start``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from platescope.pipeline import analyze
from platescope.simulate import parse_set_options, simulate
from platescope.testing import load_pair


def paths(starts) -> dict:
    """Movie variants: the default (landing step) and one per start time after contact."""
    out = {"landing step": None}
    for s in starts:
        out["starts at contact" if s == 0 else f"starts {s:g} s after contact"] = float(s)
    return out


def compare(sim_dir: Path, res_dir: Path) -> dict:
    truth, got = load_pair(sim_dir, res_dir)
    fp, tfp = got["footprint"], truth["footprint"]
    frames = pd.read_csv(sim_dir / "frame_times.csv")["time_s"].to_numpy()
    dt = float(np.median(np.diff(frames)))
    tmap = tifffile.imread(res_dir / got["optics"]["t_nuc_map"]["path"])
    want = tifffile.imread(sim_dir / "truth" / "t_nuc_map.tif")
    both = np.isfinite(tmap) & np.isfinite(want)
    row = {
        "footprint_source": fp["source"],
        "area_rel_err": fp["area_cm2"] / tfp["area_cm2"] - 1,
        "area_rel_err_95": (fp.get("area_cm2_err") or np.nan) / tfp["area_cm2"],
        "centre_err_um": float(
            np.hypot(
                fp["centre_x_um"] - tfp["irm"]["centre_x_um"],
                fp["centre_y_um"] - tfp["irm"]["centre_y_um"],
            )
        ),
        "sync_err_s": got["sync"]["offset_s"] - truth["sync"]["offset_s"],
        "t_nuc_irm_err_s": got["optics"]["t_nuc_irm_s"] - truth["optics"]["t_nuc_irm_s"],
        "t_nuc_irm_unc_s": got["optics"]["t_nuc_irm_s_err"],
        "tnuc_map_median_abs_err_frames": float(np.median(np.abs(tmap[both] - want[both]))) / dt,
        "tnuc_map_coverage": float(both.sum() / max(np.isfinite(want).sum(), 1)),
        "alpha_rel_err": got["optics"]["alpha"]["value"] / truth["optics"]["alpha"]["value"] - 1,
        "n_warnings": len(got.get("warnings", [])),
    }
    return row


def run(seeds: int, noise_levels, out: Path, starts=(0.0, 5.0), extra=None) -> pd.DataFrame:
    rows = []
    for noise in noise_levels:
        for seed in range(seeds):
            for name, start in paths(starts).items():
                over = {**(extra or {}), "noise_scale": noise}
                if start is not None:
                    over["movie_start_after_contact_s"] = start
                d = out / f"n{noise}_s{seed}_{start}"
                exp = simulate("irm-galvanostatic", d / "input", seed=seed, overrides=over)
                analyze(exp, d / "results")
                row = compare(d / "input", d / "results")
                row.update(path=name, noise_scale=noise, seed=seed)
                rows.append(row)
                print(name, noise, seed, {k: row[k] for k in ("area_rel_err", "t_nuc_irm_err_s")})
    return pd.DataFrame(rows)


def table(df: pd.DataFrame) -> str:
    lines = [
        "| noise | movie | seeds | median / max abs footprint area err (%) | max centre err (µm) "
        "| median / max abs t_nuc(IRM) err (s) | t_nuc(IRM) inside ±err | t_nuc map median abs err "
        "(frames, worst seed) | max abs α err (%) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (noise, path), g in df.groupby(["noise_scale", "path"], sort=False):
        a = 100 * g["area_rel_err"].abs()
        e = g["t_nuc_irm_err_s"].abs()
        inside = int((e <= g["t_nuc_irm_unc_s"]).sum())
        lines.append(
            f"| ×{noise:g} | {path} | {len(g)} | {a.median():.2f} / {a.max():.2f} | "
            f"{g['centre_err_um'].max():.3f} | {e.median():.2f} / {e.max():.2f} | "
            f"{inside}/{len(g)} | {g['tnuc_map_median_abs_err_frames'].max():.2f} | "
            f"{100 * g['alpha_rel_err'].abs().max():.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--noise", type=float, nargs="+", default=[1.0])
    ap.add_argument("--starts", type=float, nargs="+", default=[0.0, 5.0])
    ap.add_argument("--set", nargs="*", default=[], help="simulation overrides key=value")
    ap.add_argument("--name", default="irm_contact_start", help="results file stem")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="irm_contact_"))
    df = run(a.seeds, a.noise, out, starts=a.starts, extra=parse_set_options(a.set))
    res = Path(__file__).resolve().parent / "results"
    res.mkdir(exist_ok=True)
    df.to_csv(res / f"{a.name}.csv", index=False)
    md = table(df)
    (res / f"{a.name}.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
