"""SEM of Li nanoparticles: count, density, sizes and faradaic efficiency in a footprint.

Simulates (in memory) a post-mortem SEM image of the Li particles plated in one SECCM
footprint, writes it as an FEI-style TIFF (with its data bar and pixel size in the
metadata) and reads it back as any real image, then does what the paper does:

1. read the image (data bar cropped, pixel size from the metadata) —
   :func:`platescope.io.read_sem` (written by :func:`platescope.io.write_sem_tiff`);
2. find the footprint circle in the image — :func:`platescope.particles.find_footprint`;
3. detect, split and measure the particles — :func:`platescope.particles.detect_particles`;
4. count, density, mean diameter, edge vs centre, deposited Li and faradaic efficiency
   against the plating charge — :func:`platescope.particles.particle_summary`.

Steps 2–4 with the tuning of :data:`platescope.particles.SEM_RECIPE_DEFAULTS` are what
:func:`platescope.particles.analyse_sem_image` (one call, plus the morphology verdict and
the exclusion report) and ``platescope analyze`` run.

It prints the mean diameter next to the planted one and saves a figure of the image with
the particles outlined and the diameter histogram.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import platescope as ps

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

# A small, fast image: one 4 µm footprint at 0.78 mA cm⁻², 640 × 640 px of 8 nm.
sim = ps.simulate.make_sem_particles(
    seed=5,
    current_densities_mA_cm2="0.78",
    footprint_diameter_um=4.0,
    image_height_px=640,
    image_width_px=640,
)
shot = sim["images"][0]
truth = shot["truth"]

with tempfile.TemporaryDirectory() as tmp:
    # 1. the image as the microscope saves it (data bar at the bottom), read back
    databar_rows = shot["sem"].shape[0] - 640
    path = ps.io.write_sem_tiff(
        Path(tmp) / "sem.tif",
        shot["sem"],
        pixel_size_nm=shot["pixel_size_nm"],
        databar_rows=databar_rows,
    )
    image = ps.io.read_sem(path)

# 2. the footprint; 3. the particles, with the settings analyze uses (SEM_RECIPE_DEFAULTS)
recipe = ps.particles.SEM_RECIPE_DEFAULTS
mask, circle = ps.particles.find_footprint(image, method=recipe["footprint"])
labels, table = ps.particles.detect_particles(
    image,
    mask=mask,
    sigma_nm=recipe["sigma_nm"],
    threshold=recipe["threshold"],
    min_area_nm2=recipe["min_area_nm2"],
    max_area_um2=recipe["max_area_um2"],
    ridge_min_nm=recipe["ridge_min_nm"],
)
# 4. per-footprint numbers (errors are 1σ)
s = ps.particles.particle_summary(
    table,
    mask=mask,
    footprint=circle,
    charge_C=shot["charge_C"],
    edge_fraction=recipe["edge_fraction"],
)
print(
    f"footprint found: {circle['found']}; {s['count']} particles "
    f"(planted {truth['count']}), density {s['density_cm2']:.3g} cm⁻², "
    f"mean diameter {s['mean_diameter_nm']:.1f} ± {s['mean_diameter_nm_err']:.1f} nm, "
    f"faradaic efficiency {s['faradaic_efficiency']:.3f} (planted {truth['faradaic_efficiency']:.3f})"
)

fig = Figure(figsize=(8, 3.6), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ax1.imshow(image.values, cmap="gray")
ax1.contour(np.asarray(labels) > 0, levels=[0.5], colors="C1", linewidths=0.6)
ax1.set_axis_off()
ax1.set_title("particles (orange)")
bins = np.linspace(0, 150, 31)
ax2.hist(shot["particles"]["diameter_nm"], bins=bins, histtype="step", label="planted")
ax2.hist(table["diameter_nm"], bins=bins, histtype="step", label="detected")
ax2.set(xlabel="equivalent-circle diameter (nm)", ylabel="particles")
ax2.legend()
fig.savefig(out / "sem_particles.png", dpi=100)
print("figure:", out / "sem_particles.png")

# tolerance: 5 % of the planted mean (docs/validation.md: diameter bias ≤ +2.5 % on 10
# seeds × 3 current densities)
tol = 0.05 * truth["mean_diameter_nm"]
print(
    f"RECOVERED mean_diameter_nm {s['mean_diameter_nm']:.3f} TRUTH "
    f"{truth['mean_diameter_nm']:.3f} TOL {tol:.3f}"
)
