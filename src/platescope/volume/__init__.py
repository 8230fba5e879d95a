"""3-D volumes (X-ray / FIB-SEM tomography of Li deposits): segmentation, phase volumes,
porosity, surface area, local thickness, tortuosity and isolated Li, streamed in z-slabs.

Public API
----------
analyze_volume(volume, *, labels=None, classes=2, collector_face="z0", transport_axis=None, ...)
    Everything at once (the ``tomography`` scenario's numbers).
grey_thresholds(volume, *, classes=2)
    Otsu / multi-Otsu thresholds from a subsampled histogram (mid-level refined).
label_phase_map(labels)
    Label value → phase index for user label volumes.
measure_phases(volume, *, phase_names, ...)
    One streaming pass: volumes, porosity, depth profile, area, components.
local_thickness_block(mask, *, voxel_size_um)
    Maximal-inscribed-sphere local thickness of a phase.
geometric_tortuosity(mask, *, axis, voxel_size_um)
    Shortest-path tortuosity of a phase along an axis.
li_charge(volume_um3)
    Charge equivalent to a Li volume, Q = ρ V z F / M.
orthogonal_sections(volume, segmentation)
    Three central grey sections and their phases (for figures).
    Charge equivalent to a Li volume, Q = ρ V z F / M.
"""

from platescope.volume._analyze import analyze_volume, orthogonal_sections
from platescope.volume._measure import COLLECTOR_FACES, li_charge, measure_phases
from platescope.volume._segment import grey_thresholds, label_phase_map
from platescope.volume._thickness import geometric_tortuosity, local_thickness_block

__all__ = [
    "COLLECTOR_FACES",
    "analyze_volume",
    "geometric_tortuosity",
    "grey_thresholds",
    "label_phase_map",
    "li_charge",
    "local_thickness_block",
    "measure_phases",
    "orthogonal_sections",
]
