"""Recovery of planted truth in the tomography scenario, across seeds, blur and noise.

Each run writes the simulated tomogram as a real file (``tomography``: ImageJ TIFF with
voxel size), reads it back with :func:`platescope.io.read_volume` and analyses it with
:func:`platescope.volume.analyze_volume` (defaults: Otsu + mid-level threshold, Gaussian
smoothing σ = 0.5 voxel, collector at z0, tortuosity along z), then compares with
``truth/truth.json``: porosity (absolute error), Li volume, Li/pore interface area
(marching cubes and the Crofton estimate), isolated Li pieces (count, volume) and the
volume-weighted mean Li local thickness (relative errors).

Usage::

    python validation/validate_tomography.py --seeds 20 --sens-seeds 5

Writes ``validation/results/tomography.json`` (per-run rows + summary) and
``tomography.md`` (the table in docs/tomography.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from platescope.io._volume import read_volume
from platescope.simulate._tomography import tomography
from platescope.volume import analyze_volume

HERE = Path(__file__).resolve().parent


def run(seed: int, *, thickness: bool, **params) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        exp = tomography(Path(tmp) / "sim", seed=seed, **params)
        truth = json.loads((exp.parent / "truth" / "truth.json").read_text())["tomography"]
        vol = read_volume(exp.parent / "volume.tif")
        t0 = time.perf_counter()
        r = analyze_volume(
            vol, collector_face="z0", transport_axis="z" if thickness else None, thickness=thickness
        )
        dt = time.perf_counter() - t0
    row = {
        "seed": seed,
        **params,
        "seconds": dt,
        "porosity_true": truth["porosity"],
        "porosity_err": r["porosity"] - truth["porosity"],
        "li_volume_rel_err": r["li_volume_um3"] / truth["li_volume_um3"] - 1,
        "area_mc_rel_err": r["li_surface_area_um2"] / truth["li_surface_area_um2"] - 1,
        "area_crofton_rel_err": r["li_surface_area_crofton_um2"] / truth["li_surface_area_um2"] - 1,
        "components_true": truth["components"]["count"],
        "components_found": r["components"]["count"],
        "isolated_true": truth["components"]["isolated_count"],
        "isolated_found": r["components"]["isolated_count"],
        "isolated_volume_rel_err": (
            r["components"]["isolated_volume_um3"] / truth["components"]["isolated_volume_um3"] - 1
            if truth["components"]["isolated_volume_um3"]
            else None
        ),
        "contrast_to_noise": r["segmentation"]["contrast_to_noise"],
        "smooth_sigma_vox": r["segmentation"]["smooth_sigma_vox"],
    }
    if thickness:
        row["li_thickness_rel_err"] = (
            r["li_local_thickness"]["mean_um"] / truth["li_local_thickness"]["mean_um"] - 1
        )
        row["pore_size_mean_um"] = r["pore_size"]["mean_um"]
        row["tortuosity"] = r["tortuosity"]["tortuosity"]
    return row


def summarise(rows: list[dict]) -> dict:
    def stats(key, absolute=False):
        v = np.array([r[key] for r in rows if r.get(key) is not None], dtype=float)
        if v.size == 0:
            return None
        a = np.abs(v)
        return {
            "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "max_abs": float(a.max()),
        }

    out = {
        "n": len(rows),
        "porosity_err": stats("porosity_err"),
        "li_volume_rel_err": stats("li_volume_rel_err"),
        "area_mc_rel_err": stats("area_mc_rel_err"),
        "area_crofton_rel_err": stats("area_crofton_rel_err"),
        "isolated_volume_rel_err": stats("isolated_volume_rel_err"),
        "isolated_count_exact": int(sum(r["isolated_found"] == r["isolated_true"] for r in rows)),
        "components_count_exact": int(
            sum(r["components_found"] == r["components_true"] for r in rows)
        ),
        "seconds_mean": float(np.mean([r["seconds"] for r in rows])),
    }
    if any("li_thickness_rel_err" in r for r in rows):
        out["li_thickness_rel_err"] = stats("li_thickness_rel_err")
    out["within_issue_targets"] = int(
        sum(
            abs(r["porosity_err"]) <= 0.01
            and abs(r["li_volume_rel_err"]) <= 0.02
            and abs(r["area_mc_rel_err"]) <= 0.03
            for r in rows
        )
    )
    return out


def write_md(result: dict, out: Path) -> None:
    """The accuracy table of docs/tomography.md."""
    lines = [
        "| runs | n | porosity err (mean ± sd, max) | Li volume rel. err | area (MC) rel. err | area (Crofton) rel. err | isolated count exact | within targets |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, s in result["summary"].items():

        def f(d, pct=True):
            if not pct:
                return f"{d['mean']:+.4f} ± {d['sd']:.4f} (max {d['max_abs']:.4f})"
            return f"{d['mean'] * 100:+.2f} ± {d['sd'] * 100:.2f} (max {d['max_abs'] * 100:.2f})"

        lines.append(
            f"| {k} | {s['n']} | {f(s['porosity_err'], False)} | {f(s['li_volume_rel_err'])} % | {f(s['area_mc_rel_err'])} % | "
            f"{f(s['area_crofton_rel_err'])} % | {s['isolated_count_exact']}/{s['n']} | {s['within_issue_targets']}/{s['n']} |"
        )
    if "li_thickness_rel_err" in result["summary"]["default"]:
        s = result["summary"]["default"]["li_thickness_rel_err"]
        lines.append("")
        lines.append(
            f"Li mean local thickness vs planted spheres (default runs): {s['mean'] * 100:+.1f} ± {s['sd'] * 100:.1f} % (max {s['max_abs'] * 100:.1f} %)."
        )
    (out / "tomography.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sens-seeds", type=int, default=5)
    ap.add_argument(
        "--reuse-default",
        action="store_true",
        help="keep the default group's rows of results/tomography.json (slow: local thickness) "
        "and rerun only the sensitivity groups",
    )
    ap.add_argument("--md-only", action="store_true", help="rewrite tomography.md from the JSON")
    args = ap.parse_args()
    if args.md_only:
        write_md(json.loads((HERE / "results" / "tomography.json").read_text()), HERE / "results")
        return
    groups: dict[str, list[dict]] = {}
    if args.reuse_default:
        groups["default"] = json.loads((HERE / "results" / "tomography.json").read_text())["rows"][
            "default"
        ]
    else:
        groups["default"] = [run(s, thickness=True) for s in range(args.seeds)]
    print("default", json.dumps(summarise(groups["default"]), indent=1), flush=True)
    for label, params in {
        "psf0.5": {"psf_sigma_vox": 0.5},
        "psf1.5": {"psf_sigma_vox": 1.5},
        "noise0.03": {"noise_sd": 0.03},
        "noise0.12": {"noise_sd": 0.12},
    }.items():
        groups[label] = [run(100 + s, thickness=False, **params) for s in range(args.sens_seeds)]
        print(label, json.dumps(summarise(groups[label])), flush=True)
    result = {
        "description": "tomography scenario: analyze_volume vs planted truth (see validate_tomography.py)",
        "summary": {k: summarise(v) for k, v in groups.items()},
        "rows": groups,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "tomography.json").write_text(json.dumps(result, indent=1))
    write_md(result, out)


if __name__ == "__main__":
    main()
