"""Onset maps of see-through-au with stage drift + jitter + bad frames, end to end.

``simulate`` (still, and with 5 px drift + 0.5 px jitter + 3 % blurred + 2 % dark
frames) → ``analyze`` (registration on for the moving one) → onset-map median |error|
per alloying step in frames, compared with the still movie's (validation/see_through.py
``compare``).

Usage::

    python validation/drift_see_through.py --seeds 1 --out /tmp/val_drift_st
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from platescope.pipeline import analyze
from platescope.simulate import simulate

MOTION = {
    "stage_drift_px": 5.0,
    "vibration_px": 0.5,
    "blurred_frame_frac": 0.03,
    "dark_frame_frac": 0.02,
}


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from see_through import compare

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = []
    for seed in args.seeds:
        for label, params, reg in (
            ("still", {}, False),
            ("moving, registration on", MOTION, True),
            ("moving, registration off", MOTION, False),
        ):
            d = args.out / f"s{seed}_{label.split(',')[0]}_{reg}"
            exp = simulate("see-through-au", d / "sim", seed=seed, overrides=params)
            if reg:
                with open(exp, "a") as fh:
                    fh.write("\n[analysis.registration]\nenabled = true\n")
            analyze(exp, d / "res")
            row = compare(d / "sim", d / "res")
            summ = json.loads((d / "res" / "summary.json").read_text())
            reg_block = summ.get("registration", {})
            row.update(seed=seed, case=label, registration=reg_block)
            rows.append(row)
            print(
                f"| {seed} | {label} | {row['onset_median_err_frames_worst_step']:.3f} | "
                f"{reg_block.get('n_frames_excluded')} excluded | "
                f"max shift {reg_block.get('max_shift_px')} |",
                flush=True,
            )
    out = Path(__file__).parent / "results" / "drift_see_through.json"
    out.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
