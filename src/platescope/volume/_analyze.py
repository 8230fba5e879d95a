"""One call: segment a tomogram and measure everything the ``tomography`` scenario reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from platescope._errors import InputError, source_of
from platescope.volume._measure import COLLECTOR_FACES, measure_phases
from platescope.volume._segment import (
    DEFAULT_PHASES,
    grey_thresholds,
    label_phase_map,
    phase_block,
    smooth_halo,
)
from platescope.volume._stream import default_slab_z, iter_slabs, raw_data
from platescope.volume._thickness import (
    geometric_tortuosity,
    stream_local_thickness,
    thickness_stats,
)

__all__ = ["analyze_volume", "orthogonal_sections", "phase_mask_slabs"]

_AXES = {"z": 0, "y": 1, "x": 2}

#: Automatic smoothing of grey volumes: (minimum contrast-to-noise ratio, sigma in voxels),
#: first match wins. Measured (docs/tomography.md): at CNR ≈ 3.6 a 0.5-voxel smoothing
#: leaves single-voxel noise specks (spurious isolated Li) and inflates the area by
#: ~11 %; 1 voxel removes the specks.
AUTO_SMOOTHING = ((5.0, 0.5), (3.0, 1.0), (0.0, 1.5))


def phase_mask_slabs(volume, *, phase: int, halo: int, slab_z: int | None, seg: Mapping[str, Any]):
    """Yield ``(z0, z1, lo, mask)`` of one phase slab by slab, with ``halo`` slices each
    side (the smoothing context is read beyond it and cropped).

    >>> import numpy as np
    >>> v = np.zeros((6, 2, 2), np.uint8); v[3:] = 1
    >>> seg = {"label_map": {0: 0, 1: 1}, "smooth_sigma_vox": 0.0}
    >>> [(z0, m[:, 0, 0].tolist()) for z0, _, _, m in phase_mask_slabs(v, phase=1, halo=1, slab_z=3, seg=seg)]
    [(0, [False, False, False, True]), (3, [False, True, True, True])]
    """
    data = raw_data(volume)
    n = int(data.shape[0])
    sig = 0.0 if seg.get("label_map") is not None else float(seg.get("smooth_sigma_vox", 0.0))
    sh = smooth_halo(sig)
    for z0, z1, lo, block in iter_slabs(data, slab_z=slab_z, halo=halo + sh):
        a_read = z0 - lo
        ph = phase_block(
            block,
            thresholds=seg.get("thresholds"),
            label_map=seg.get("label_map"),
            smooth_sigma_vox=sig,
        )
        a = max(0, z0 - halo)
        b = min(n, z1 + halo)
        crop = ph[a - a_read : b - a_read]
        yield z0, z1, z0 - a, crop == phase


def analyze_volume(
    volume,
    *,
    labels: Mapping[Any, str] | None = None,
    classes: int = 2,
    phase_names: Sequence[str] | None = None,
    smooth_sigma_vox: float | None = None,
    collector_face: str | None = "z0",
    transport_axis: str | None = None,
    li_phase: str = "li",
    pore_phase: str = "pore",
    thickness: bool = True,
    max_diameter_um: float | None = None,
    slab_z: int | None = None,
    max_tortuosity_voxels: int = 64_000_000,
) -> dict[str, Any]:
    """Segment a tomogram and measure Li deposits: volumes, porosity, surface area,
    local thickness, tortuosity, connected (isolated = dead-Li candidate) components.

    Streams through the volume in z-slabs (flat memory), except the tortuosity, which
    needs the pore mask in memory and is skipped above ``max_tortuosity_voxels``.

    Parameters
    ----------
    volume : xarray.DataArray
        Grey or label volume ``(z, y, x)`` with ``attrs["voxel_size_um"]``
        (:func:`platescope.io.read_volume`), possibly dask-backed.
    labels : mapping, optional
        Label value → phase name (``"pore"``, ``"li"``, ``"other"``, ``"outside"``): the
        volume is a label image and is not thresholded. ``"outside"`` voxels are left
        out of the region of interest (porosity = pore / (all − outside)).
    classes : int
        Grey volumes: number of phases for (multi-)Otsu.
    phase_names : sequence of str, optional
        Grey volumes: phase names in increasing grey level (default pore, li[, other]).
    smooth_sigma_vox : float, optional
        Gaussian smoothing of grey volumes before thresholding and marching cubes,
        voxels. Default (None): from the contrast-to-noise ratio (CNR) of the phases,
        0.5 voxel when CNR ≥ 5, 1 voxel when 3 ≤ CNR < 5, 1.5 voxels below (see
        :data:`AUTO_SMOOTHING`).
    collector_face : {"z0", "z1", "y0", "y1", "x0", "x1"} or None
        Face on the current collector (isolated Li = components not touching it; depth
        profile measured from it).
    transport_axis : {"z", "y", "x"} or None
        Axis for the geometric tortuosity of the pore phase (None: not computed).
    li_phase, pore_phase : str
        Phase names of Li and pores.
    thickness : bool
        Compute local thickness of Li and pores.
    max_diameter_um : float, optional
        Largest local thickness looked for, µm (default 64 voxels); sets the slab halo.
    slab_z : int, optional
        Slices per slab.
    max_tortuosity_voxels : int
        Above this many voxels the tortuosity is null with a reason.

    Returns
    -------
    dict
        ``segmentation`` {method, thresholds, levels, contrast_to_noise, phases},
        ``phase_fraction``, ``phase_volume_um3``, ``porosity``, ``li_volume_um3``
        (+ ``li_volume_threshold_range_um3``: [low, high] for the threshold moved by
        ±5 % of the phase contrast — a sensitivity, not a standard error),
        ``li_charge_C``, ``li_charge_mAh``, ``li_areal_capacity_mAh_cm2``,
        ``li_surface_area_um2`` (marching cubes), ``li_surface_area_crofton_um2``,
        ``specific_surface_area_um_inv`` (area / ROI volume),
        ``li_surface_to_volume_um_inv``, ``profile`` {axis, depth_um, porosity,
        li_fraction}, ``components`` {count, isolated_count, isolated_volume_um3, …},
        ``li_local_thickness`` / ``pore_size`` {mean_um, median_um, d10_um, d90_um,
        histogram}, ``tortuosity`` {tortuosity, …} and ``warnings``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> v = np.zeros((12, 12, 12), np.uint8); v[:4] = 1
    >>> vol = xr.DataArray(v, dims=("z", "y", "x"), attrs={"voxel_size_um": [1.0, 1.0, 1.0]})
    >>> r = analyze_volume(vol, labels={0: "pore", 1: "li"}, transport_axis="z")
    >>> round(r["porosity"], 3), r["components"]["isolated_count"], r["tortuosity"]["tortuosity"]
    (0.667, 0, None)
    """
    attrs = getattr(volume, "attrs", {}) or {}
    vox = attrs.get("voxel_size_um")
    src = source_of(volume)
    if vox is None:
        raise InputError(
            src,
            "the volume carries no voxel size",
            "read it with read_volume(..., voxel_size_um=...)",
        )
    vox = [float(v) for v in vox]
    data = raw_data(volume)
    if data.ndim != 3 or min(data.shape) < 2:
        raise InputError(
            src,
            f"the volume has shape {tuple(data.shape)}",
            "give a 3-D volume at least 2 voxels in every direction",
        )
    if collector_face is not None and collector_face not in COLLECTOR_FACES:
        raise InputError(
            src, f"collector_face={collector_face!r}", f"use one of {', '.join(COLLECTOR_FACES)}"
        )
    if transport_axis is not None and transport_axis not in _AXES:
        raise InputError(src, f"transport_axis={transport_axis!r}", "use z, y or x")
    warnings: list[dict[str, str]] = []
    if labels is not None:
        lm = label_phase_map(labels)
        names = list(lm["names"])
        seg: dict[str, Any] = {"method": "labels", "label_map": lm, "smooth_sigma_vox": 0.0}
        thr = None
    else:
        names = list(phase_names or DEFAULT_PHASES.get(int(classes), ()))
        if len(names) != int(classes):
            raise InputError(
                src, f"{len(names)} phase names for {classes} classes", "give one name per class"
            )
        thr = grey_thresholds(volume, classes=int(classes))
        cnr = thr["contrast_to_noise"]
        auto = smooth_sigma_vox is None
        if auto:
            smooth_sigma_vox = next(s for c, s in AUTO_SMOOTHING if cnr >= c)
        seg = {
            "method": "otsu" if classes == 2 else "multi-otsu",
            "thresholds": thr["thresholds"],
            "levels": thr["levels"],
            "otsu_thresholds": thr["otsu_thresholds"],
            "contrast_to_noise": thr["contrast_to_noise"],
            "smooth_sigma_vox": float(smooth_sigma_vox),
            "smooth_sigma_source": "auto from the contrast-to-noise ratio" if auto else "given",
        }
        if cnr < AUTO_SMOOTHING[0][0]:
            warnings.append(
                {
                    "code": "tomography-noisy-volume",
                    "message": f"the phase contrast is only {cnr:.1f} noise sd: the volume was smoothed by "
                    f"{smooth_sigma_vox:g} voxel, which biases the surface area low (about −4 % at 1 voxel "
                    "in the validation) and rounds features thinner than ~2 voxels",
                }
            )
        if thr["contrast_to_noise"] < 3.0:
            warnings.append(
                {
                    "code": "tomography-low-contrast",
                    "message": f"the phases differ by only {thr['contrast_to_noise']:.1f} noise sd; "
                    "volumes and areas are unreliable — denoise the reconstruction or give a label volume",
                }
            )
    if li_phase not in names:
        raise InputError(
            src,
            f"no phase is named {li_phase!r} (phases: {names})",
            "map one label or class to 'li'",
        )
    seg["phases"] = names
    res = measure_phases(
        volume,
        phase_names=names,
        thresholds=seg.get("thresholds"),
        levels=seg.get("levels"),
        label_map=seg.get("label_map"),
        smooth_sigma_vox=seg["smooth_sigma_vox"],
        voxel_size_um=vox,
        collector_face=collector_face,
        li_phase=li_phase,
        pore_phase=pore_phase,
        slab_z=slab_z,
    )
    seg_out = {k: v for k, v in seg.items() if k != "label_map"}
    if labels is not None:
        seg_out["labels"] = {str(k): str(v) for k, v in labels.items()}
    out: dict[str, Any] = {"segmentation": seg_out, **res}
    if "voxel_size_note" in attrs:
        warnings.append({"code": "voxel-size-override", "message": attrs["voxel_size_note"]})
    comp = res["components"]
    if comp.get("isolated_touching_other_faces"):
        warnings.append(
            {
                "code": "isolated-li-at-volume-edge",
                "message": f"{comp['isolated_touching_other_faces']} of {comp['isolated_count']} isolated Li "
                "pieces touch a side of the volume and may connect to the collector outside it; "
                "treat them as dead-Li candidates only",
            }
        )
    dmin = min(vox)
    max_d = float(max_diameter_um) if max_diameter_um else 64.0 * dmin
    thick_halo = int(np.ceil(max_d / vox[0])) + 1
    thick_slab = slab_z or max(default_slab_z(tuple(data.shape)), 4 * thick_halo)
    for key, name in (("li_local_thickness", li_phase), ("pore_size", pore_phase)):
        if not thickness:
            out[key] = {"mean_um": None, "reason": "thickness=False"}
            continue
        if name not in names or res["phase_voxels"][name] == 0:
            out[key] = {"mean_um": None, "reason": f"no {name} phase in the volume"}
            continue
        idx = names.index(name)
        vals, capped = stream_local_thickness(
            lambda h, idx=idx: phase_mask_slabs(
                volume, phase=idx, halo=h, slab_z=thick_slab, seg=seg
            ),
            voxel_size_um=vox,
            max_radius_um=0.5 * max_d,
        )
        out[key] = thickness_stats(vals, vox[0] * vox[1] * vox[2])
        out[key]["max_diameter_um"] = max_d
        if capped:
            warnings.append(
                {
                    "code": "local-thickness-capped",
                    "message": f"some {name} features are thicker than max_diameter_um={max_d:g}; "
                    "their local thickness is capped — raise max_diameter_um",
                }
            )
    if transport_axis is None:
        out["tortuosity"] = {"tortuosity": None, "reason": "no transport_axis given"}
    elif pore_phase not in names:
        out["tortuosity"] = {"tortuosity": None, "reason": f"no {pore_phase} phase"}
    elif int(np.prod(data.shape)) > max_tortuosity_voxels:
        out["tortuosity"] = {
            "tortuosity": None,
            "reason": f"{int(np.prod(data.shape))} voxels > max_tortuosity_voxels={max_tortuosity_voxels} "
            "(tortuosity runs in memory); crop or bin the volume",
        }
    else:
        idx = names.index(pore_phase)
        mask = np.concatenate(
            [
                m[lo : lo + (z1 - z0)]
                for z0, z1, lo, m in phase_mask_slabs(
                    volume, phase=idx, halo=0, slab_z=slab_z, seg=seg
                )
            ]
        )
        out["tortuosity"] = {
            "phase": pore_phase,
            "axis": transport_axis,
            **geometric_tortuosity(mask, axis=_AXES[transport_axis], voxel_size_um=vox),
        }
    out["warnings"] = warnings
    return out


def orthogonal_sections(
    volume,
    segmentation: Mapping[str, Any],
    *,
    slab_z: int | None = None,
    position_vox: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Three orthogonal grey sections through the volume and their phase indices, streamed.

    Parameters
    ----------
    volume : xarray.DataArray
        The volume given to :func:`analyze_volume`.
    segmentation : mapping
        ``analyze_volume(...)["segmentation"]`` (thresholds or labels, smoothing).
    slab_z : int, optional
        Slices per slab.
    position_vox : (int, int, int), optional
        ``(z, y, x)`` voxel indices of the sections (default: the centre).

    Returns
    -------
    dict
        ``grey`` and ``phase``: {``"xy"``, ``"xz"``, ``"yz"``: 2-D arrays},
        ``position_vox``, ``voxel_size_um``, ``phases``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> v = xr.DataArray(np.zeros((4, 6, 8), np.uint8), dims=("z", "y", "x"), attrs={"voxel_size_um": [1, 1, 1]})
    >>> s = orthogonal_sections(v, {"labels": {"0": "pore"}, "phases": ["pore"]})
    >>> s["grey"]["xy"].shape, s["grey"]["xz"].shape, s["grey"]["yz"].shape
    ((6, 8), (4, 8), (4, 6))
    """
    data = raw_data(volume)
    nz, ny, nx = (int(s) for s in data.shape)
    zc, yc, xc = position_vox or (nz // 2, ny // 2, nx // 2)
    seg = dict(segmentation)
    if seg.get("labels") is not None:
        seg["label_map"] = label_phase_map(seg["labels"], phases=seg.get("phases"))
    sig = 0.0 if seg.get("label_map") is not None else float(seg.get("smooth_sigma_vox", 0.0))
    sh = smooth_halo(sig)
    grey = {"xz": np.zeros((nz, nx)), "yz": np.zeros((nz, ny))}
    phase = {"xz": np.zeros((nz, nx), np.uint8), "yz": np.zeros((nz, ny), np.uint8)}
    for z0, z1, lo, block in iter_slabs(data, slab_z=slab_z, halo=sh):
        ph = phase_block(
            block,
            thresholds=seg.get("thresholds"),
            label_map=seg.get("label_map"),
            smooth_sigma_vox=sig,
        )
        core_g, core_p = block[lo : lo + z1 - z0], ph[lo : lo + z1 - z0]
        grey["xz"][z0:z1], phase["xz"][z0:z1] = core_g[:, yc, :], core_p[:, yc, :]
        grey["yz"][z0:z1], phase["yz"][z0:z1] = core_g[:, :, xc], core_p[:, :, xc]
        if z0 <= zc < z1:
            grey["xy"], phase["xy"] = core_g[zc - z0].astype(float), core_p[zc - z0]
    vox = (getattr(volume, "attrs", {}) or {}).get("voxel_size_um", [1.0, 1.0, 1.0])
    return {
        "grey": grey,
        "phase": phase,
        "position_vox": [zc, yc, xc],
        "voxel_size_um": list(vox),
        "phases": list(seg.get("phases", [])),
    }
