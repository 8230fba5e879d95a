"""From an experiment file to numbers in Python: simulate → analyze → load.

Writes a small simulated irm-cv experiment (real-format files, an ``experiment.toml``
and the planted truth) into a temporary folder, runs the whole scenario as
``platescope analyze`` would — :func:`platescope.analyze` — and opens the result folder —
:func:`platescope.load` — to read what a notebook needs:

- the summary (``run.summary``, the dict of ``summary.json``; uncertainties k = 2),
- a table as a DataFrame (``run.table("cycles")``),
- a map as a DataArray in µm (``run.map("ce_irm_cycle03")``),
- the warnings of every doubtful result (``run.warnings``),

then compares the result with the truth — :func:`platescope.testing.load_pair`,
:func:`platescope.testing.compare_summary` — and saves a figure of the map.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import platescope as ps
from platescope.testing import compare_summary, load_pair

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

with tempfile.TemporaryDirectory() as tmp:
    sim_dir, res_dir = Path(tmp) / "sim", Path(tmp) / "result"
    # the same as: platescope simulate irm-cv --out sim --seed 2 --set n_cycles=3 ...
    experiment = ps.simulate.simulate(
        "irm-cv",
        sim_dir,
        seed=2,
        overrides={
            "n_cycles": 3,
            "irm_size_px": 72,
            "footprint_diameter_um": 4.0,
            "irm_pixel_size_um": 0.08,
        },
    )
    # the same as: platescope analyze sim/experiment.toml --out result
    ps.analyze(experiment, res_dir)

    run = ps.load(res_dir)
    print(f"{run.summary['scenario']}: {run.summary['headline']}")
    print("tables:", ", ".join(run.tables))
    print("maps:", ", ".join(run.maps))

    cycles = run.table("cycles")  # *_err columns are k = 2, as in summary.json
    print(cycles[["cycle", "Q_c_C", "Q_a_C", "CE", "CE_err"]].to_string(index=False))

    ce_map = run.map("ce_irm_cycle03")
    print(
        f"CE(IRM) map of cycle 3: {ce_map.sizes['y']} × {ce_map.sizes['x']} px of "
        f"{ce_map.attrs['pixel_size_um']:.3f} µm, median {float(np.nanmedian(ce_map)):.3f}"
    )

    for w in run.warnings:
        print(f"warning [{w['code']}] at {w['where']}: {w['message']}")
    if not run.warnings:
        print("no warnings")

    truth, summary = load_pair(sim_dir, res_dir)
    keys = [f"echem.cycles[{k}].CE" for k in range(3)]
    table = compare_summary(summary, truth, keys=keys)
    print(
        table[["key", "truth", "value", "error", "uncertainty", "covered"]].to_string(index=False)
    )

fig = Figure(figsize=(4.5, 3.6), layout="constrained")
ax = fig.subplots()
im = ax.imshow(
    ce_map.values,
    cmap="viridis",
    vmin=0,
    vmax=1,
    extent=(0, float(ce_map.x[-1]), float(ce_map.y[-1]), 0),
)
fig.colorbar(im, ax=ax, label="CE(IRM), cycle 3")
ax.set(xlabel="x (µm)", ylabel="y (µm)")
fig.savefig(out / "load_a_result.png", dpi=100)
print("figure:", out / "load_a_result.png")

# tolerance: the validation target for per-cycle CE (docs/validation.md: max error 0.0037 at ×4)
row = table.set_index("key").loc["echem.cycles[2].CE"]
print(f"RECOVERED CE_cycle_3 {row['value']:.5f} TRUTH {row['truth']:.5f} TOL 0.01")
