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

from platescope._lazy import lazy_namespace

#: public name → the submodule defining it (imported on first use: ``import
#: platescope.volume`` stays cheap, a command imports only what its step needs)
_WHERE = {
    "analyze_volume": "platescope.volume._analyze",
    "orthogonal_sections": "platescope.volume._analyze",
    "COLLECTOR_FACES": "platescope.volume._measure",
    "li_charge": "platescope.volume._measure",
    "measure_phases": "platescope.volume._measure",
    "grey_thresholds": "platescope.volume._segment",
    "label_phase_map": "platescope.volume._segment",
    "geometric_tortuosity": "platescope.volume._thickness",
    "local_thickness_block": "platescope.volume._thickness",
}

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

__getattr__, __dir__ = lazy_namespace(__name__, _WHERE)
