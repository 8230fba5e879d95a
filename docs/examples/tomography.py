"""3-D tomogram of Li deposits: porosity, Li volume and charge, surface area, dead Li.

Simulates a blurred, noisy X-ray tomogram (Li spheres on a current collector, pores
between them, a few isolated Li pieces) written as an ImageJ TIFF stack with its voxel
size. Then:

1. read it lazily in z-slabs, in µm — :func:`platescope.io.read_volume`;
2. segment (Otsu), measure porosity, Li volume and its equivalent charge, surface area
   (marching cubes), isolated Li pieces (not touching the collector: dead-Li
   candidates), streaming slab by slab — :func:`platescope.volume.analyze_volume`;
3. show three orthogonal sections — :func:`platescope.volume.orthogonal_sections`.

It prints the porosity and Li volume next to the planted ones.
"""

import json
import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

import platescope as ps

out = Path(os.environ.get("PLATESCOPE_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="platescope-"))
out.mkdir(parents=True, exist_ok=True)

exp = ps.simulate.simulate(
    "tomography", Path(tempfile.mkdtemp(prefix="platescope-tomo-")) / "run", seed=1
)
truth = json.loads((exp.parent / "truth" / "truth.json").read_text())["tomography"]

# 1. the volume, lazy (dask) with µm coordinates from the file's voxel size
vol = ps.io.read_volume(exp.parent / "volume.tif")
print(dict(vol.sizes), "voxel", vol.attrs.get("voxel_size_um"), "µm")

# 2. segmentation and every measure in one streaming pass (local thickness left out here)
res = ps.volume.analyze_volume(vol, collector_face="z0", thickness=False)
print(f"porosity {res['porosity']:.4f} (planted {truth['porosity']:.4f})")
print(
    f"Li volume {res['li_volume_um3']:.4g} µm³ (planted {truth['li_volume_um3']:.4g}) "
    f"= {res['li_charge_C'] * 1e6:.1f} µC of Li"
)
comp = res["components"]
print(
    f"{comp['isolated_count']} isolated Li pieces (truth {truth['components']['isolated_count']}: "
    f"{truth['n_isolated_planted']} planted apart plus spheres that do not reach the collector)"
)

# 3. three orthogonal sections through the middle of the volume
sections = ps.volume.orthogonal_sections(vol, res["segmentation"])
fig = Figure(figsize=(9, 3))
for ax, name in zip(fig.subplots(1, 3), ("xy", "xz", "yz"), strict=True):
    ax.imshow(sections["grey"][name], cmap="gray")
    ax.contour(sections["phase"][name], levels=[0.5], colors="orange", linewidths=0.6)
    ax.set_title(f"{name} section (Li outlined)")
    ax.set_axis_off()
fig.savefig(out / "tomography.png", dpi=100)
print(f"RECOVERED porosity {res['porosity']:.5f} TRUTH {truth['porosity']:.5f} TOL 0.01")
