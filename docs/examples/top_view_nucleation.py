"""Top-view Li plating at three current densities: nucleus counts, N ∝ j^b, tips vs Sand.

Simulates three plating runs in memory (one per current density; the deposits nucleate
early in each step, and past Sand's time of the electrolyte some grow thin arms — tips).
Then, per run:

1. the movie as the Movie DataArray the readers return — :func:`platescope.simulate.as_movie`;
2. deposits detected and linked into tracks — :func:`platescope.particles.detect_deposits`,
   :func:`platescope.particles.track_deposits`;
3. the cumulative nucleus count and density — :func:`platescope.particles.nucleus_counts`;
4. the optical onset of tip growth — :func:`platescope.particles.tip_growth_onset` — next to
   Sand's time — :func:`platescope.models.sand_limit`;

and across runs the power law density ∝ j^b — :func:`platescope.stats.power_law_fit` —
drawn with :func:`platescope.report.fig_nucleation_law`. It checks the exponent.
"""

import os
import tempfile
from pathlib import Path

import platescope as ps
from platescope.report import fig_nucleation_law

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

sim = ps.simulate.make_top_view_nucleation(
    seed=4,
    n_runs=3,
    j_min_mA_cm2=0.5,
    j_max_mA_cm2=4.0,
    field_px=200,
    n_ref=14.0,
    plating_s=200.0,
    stripping_s=0.0,  # plating only: no pits in this example
)
p = sim["parameters"]
runs = []
for run in sim["runs"]:
    truth = run["truth"]
    movie = ps.simulate.as_movie(run, mode="epi")  # the movie clock: plating starts at
    t0 = truth["t_plating_start_s"] + truth["time_offset_s"]  # rest + camera lead
    det = ps.particles.detect_deposits(movie)
    tracks = ps.particles.track_deposits(det, search_range_um=3.0)
    t = movie["t"].values
    counts = ps.particles.nucleus_counts(
        tracks, frame_times_s=t, field_area_um2=truth["field_area_um2"], t_start_s=t0
    )
    tip = ps.particles.tip_growth_onset(det, frame_times_s=t, t_start_s=t0)
    sand = ps.models.sand_limit(
        truth["j_mA_cm2"], D_cm2_s=p["D_cm2_s"], c0_mol_L=p["c0_mol_L"], t_plus=p["t_plus"]
    )
    onset = None if tip["t_onset_s"] is None else tip["t_onset_s"] - t0
    last = counts.iloc[-1]
    print(
        f"j = {truth['j_mA_cm2']:.2f} mA cm⁻²: {int(last['n_cumulative'])} nuclei "
        f"(planted {truth['n_nuclei']}); Sand's time {sand['t_sand_s']:.0f} s, tips "
        + ("not seen" if onset is None else f"seen from {onset:.0f} s")
    )
    runs.append(
        {
            "j_mA_cm2": truth["j_mA_cm2"],
            "n_nuclei": int(last["n_cumulative"]),
            "density_cm2": float(last["density_cm2"]),
            "density_err_cm2": float(last["density_err_cm2"]),
        }
    )

law = ps.stats.power_law_fit(
    [r["j_mA_cm2"] for r in runs],
    [r["density_cm2"] for r in runs],
    y_err=[r["density_err_cm2"] for r in runs],
)
law["quantity"] = "density_cm2"
print(f"density ∝ j^{law['exponent']:.2f} ± {2 * law['exponent_err']:.2f} (k = 2)")
fig = fig_nucleation_law(runs, law)
fig.savefig(out / "top_view_nucleation.png", dpi=100)
print(f"RECOVERED exponent {law['exponent']:.4f} TRUTH {p['exponent']:.4f} TOL 0.1")
