"""Operando optical movie of Li cycling: deposits tracked through cycles, dead Li found.

Simulates (in memory) a top-view optical movie of a Li electrode cycled galvanostatically
(plate, strip, plate, strip): deposits nucleate, grow, merge, partly dissolve and some are
stranded as dead Li. Then it does what the paper does:

1. detect the dark deposits in every frame — :func:`platescope.particles.detect_deposits`;
2. link them into tracks through the movie (merges kept) —
   :func:`platescope.particles.track_deposits`;
3. each deposit's area, effective radius and (hemisphere) volume over time —
   :func:`platescope.particles.deposit_timeseries`;
4. dead Li: deposits still there at the end of a stripping step whose volume has stopped
   shrinking, per cycle — :func:`platescope.particles.find_dead_li`,
   :func:`platescope.particles.dead_li_by_cycle`.

It prints the dead deposits per cycle next to the planted ones and saves a figure of the
last frame with the tracks and the volume of every deposit over time.
"""

import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

import platescope as ps

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

# A small, fast experiment: two cycles, 16 deposits in a 160 × 160 px field (80 µm).
sim = ps.simulate.make_dendrite_cycling(seed=6, field_px=160, n_deposits=16, n_cycles=2)
truth, echem = sim["truth"], sim["echem"]
movie = ps.simulate.as_movie(sim, mode="epi")
movie = movie.assign_coords(t=movie.t.values - sim["offset_s"])  # onto the echem clock

# 1. + 2. detections and tracks (the dendrite-cycling scenario's settings)
det = ps.particles.detect_deposits(movie, polarity="dark", sigma_um=0.5, min_area_um2=2.0)
tracks = ps.particles.track_deposits(det, search_range_um=3.0, memory=2)
length = tracks.groupby("track")["frame"].transform("size")
n_short = tracks.loc[length < 3, "track"].nunique()
tracks = tracks[length >= 3]  # a deposit seen in fewer than 3 frames is not tracked
print(f"{tracks['track'].nunique()} tracks ({n_short} shorter than 3 frames dropped)")

# 3. volume over time; 4. dead Li per cycle
ts = ps.particles.deposit_timeseries(tracks, shape="hemisphere")
per_deposit = ps.particles.find_dead_li(ts, echem)
by_cycle = ps.particles.dead_li_by_cycle(per_deposit)
print(
    by_cycle[["cycle", "n_deposits", "n_dead", "n_live", "n_dissolved", "dead_fraction"]].to_string(
        index=False
    )
)

fig = Figure(figsize=(8, 3.4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ax1.imshow(
    movie.isel(t=-1).values, cmap="gray", extent=(0, float(movie.x[-1]), float(movie.y[-1]), 0)
)
for _, tr in tracks.groupby("track"):
    ax1.plot(tr["x_um"], tr["y_um"], "-", lw=1)
ax1.set(xlabel="x (µm)", ylabel="y (µm)", title="last frame and the tracks")
for _, v in ts.groupby("track"):
    ax2.plot(v["t_s"] / 60, v["volume_um3"], lw=0.8)
ax2.set(xlabel="time (min)", ylabel="effective volume (µm³)", title="one line per deposit")
fig.savefig(out / "dendrite_cycling.png", dpi=100)
print("figure:", out / "dendrite_cycling.png")

# dead deposits over both cycles, exactly (docs/validation.md: dead-Li precision and
# recall 1.000 at the default noise over 20 seeds)
n_dead = int(by_cycle["n_dead"].sum())
n_dead_true = sum(c["n_dead"] for c in truth["dead_li"])
print(f"RECOVERED n_dead_total {n_dead} TRUTH {n_dead_true} TOL 0")
