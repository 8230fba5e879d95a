"""Side view of a plating electrode: growth front, layer thickness, porosity, whiskers.

Simulates a cross-section movie in memory (the camera looks along the electrode: a tilted
electrode edge, a rough Li layer growing from it, a porous capping band, and whiskers
that start at a planted time) with its galvanostatic record. Then:

1. the movie as the Movie DataArray the readers return — :func:`platescope.simulate.as_movie`;
2. edge, front profile per column and frame, mean/max thickness and roughness, porosity
   against the dense-Li thickness the charge implies (h_dense = Q·V_M/(zFA)), and the
   mossy → whisker transition — :func:`platescope.optics.analyze_side_view`;
3. the kymograph of the front — :func:`platescope.report.fig_side_view_kymograph`.

It prints the last frame's thickness and porosity next to the planted ones.
"""

import os
import tempfile
from pathlib import Path

import platescope as ps
from platescope.report import fig_side_view_kymograph

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

sim = ps.simulate.make_side_view(seed=2)
truth = sim["truth"]["side_view"]

# 1. the movie with real frame times (s) and µm coordinates
movie = ps.simulate.as_movie(sim, mode="trans")

# 2. everything the side view gives (errors 1σ)
res = ps.optics.analyze_side_view(
    movie,
    charge_C=sim["charge_at_frames_C"],
    area_cm2=sim["parameters"]["electrode_area_cm2"],
)
fin = res["final"]
print(
    f"mean thickness {fin['mean_thickness_um']:.2f} ± {2 * fin['mean_thickness_um_err']:.2f} µm "
    f"(k = 2; planted {truth['mean_thickness_um']:.2f}); max {fin['max_thickness_um']:.2f} µm"
)
if fin.get("porosity") is not None:
    print(f"porosity {fin['porosity']:.3f} (planted {truth['porosity']:.3f})")
tr = res["transition"]
if tr.get("t_transition_s") is not None:
    print(f"mossy → whisker at {tr['t_transition_s']:.0f} s")

# 3. the front over time
fig = fig_side_view_kymograph(res["profiles"], transition=res["transition"])
fig.savefig(out / "side_view.png", dpi=100)
print(
    f"RECOVERED mean_thickness_um {fin['mean_thickness_um']:.4f} "
    f"TRUTH {truth['mean_thickness_um']:.4f} TOL 0.5"
)
