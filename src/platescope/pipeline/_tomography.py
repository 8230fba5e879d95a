"""Scenario ``tomography``: X-ray / FIB-SEM tomograms of Li deposits (SCIENCE.md §4).

One step, ``tomography``: the ``[volume]`` input (a multi-page TIFF, OME-TIFF, ImageJ
hyperstack, folder of slices or zarr; :func:`platescope.io.read_volume`) is segmented
(Otsu / multi-Otsu, or a user label volume with ``labels = {0 = "pore", 1 = "li"}``) and
measured in z-slabs by :func:`platescope.volume.analyze_volume`: phase volumes and
fractions, porosity, Li volume and its equivalent charge, Li surface area (marching
cubes and a Crofton estimate), local thickness of Li and pores, the geometric
tortuosity of the pores along ``transport_axis``, connected Li components and the
isolated ones (not touching ``collector_face``: dead-Li candidates), and the porosity
profile through depth.

``[volume]`` keys: ``path`` (file or folder, relative to the experiment file),
``voxel_size_um`` (number or [dz, dy, dx]; needed when the file has none), ``labels``
(table label → phase name), ``collector_face`` (z0, z1, y0, y1, x0, x1),
``transport_axis`` (z, y, x).

Summary keys: ``tomography`` {``segmentation``, ``phase_fraction``,
``phase_volume_um3``, ``porosity``, ``li_volume_um3``, ``li_volume_threshold_range_um3``,
``li_charge_C``, ``li_charge_mAh``, ``li_areal_capacity_mAh_cm2``,
``li_surface_area_um2``, ``li_surface_area_crofton_um2``,
``specific_surface_area_um_inv``, ``li_surface_to_volume_um_inv``, ``components``
{``count``, ``isolated_count``, ``isolated_volume_um3``, ``isolated_fraction_of_li``,
``isolated_touching_other_faces``}, ``li_local_thickness`` / ``pore_size``
{``mean_um``, ``median_um``, ``d10_um``, ``d90_um``}, ``tortuosity``, ``profile_table``}.
Tables: ``tomography_profile``, ``tomography_components``, ``tomography_size_distribution``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope._params import Param
from platescope.io._experiment import Section
from platescope.pipeline._scenarios import Scenario, Step, run_step

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

DEFAULTS = {
    "tomography": {
        "classes": Param(2, int, "grey phases separated by (multi-)Otsu", 2, 5),
        "smooth_sigma_vox": Param(
            0.5, float, "Gaussian smoothing of grey volumes, voxels", 0.0, 5.0
        ),
        "thickness": Param(True, bool, "compute local thickness of Li and pores"),
        "max_diameter_um": Param(
            None, float, "largest local thickness looked for, µm (auto: 64 voxels)", 0.0, None, True
        ),
        "max_tortuosity_voxels": Param(
            64_000_000, int, "larger volumes get no tortuosity (it runs in memory)", 1, None
        ),
    }
}


def _tomography(exp, params, out, summary):
    from platescope.io._volume import read_volume
    from platescope.report._figures_tomography import (
        fig_orthogonal_sections,
        fig_porosity_profile,
        fig_size_distribution,
    )
    from platescope.volume import analyze_volume, orthogonal_sections

    entry = exp.section("volume")
    path = Path(entry["path"])  # resolved and checked by the experiment reader (folder_keys)
    labels = entry.get("labels")
    if labels is not None and not isinstance(labels, Mapping):
        raise InputError(
            exp.path,
            f"[volume] labels = {labels!r} is not a table",
            "write labels = { 0 = 'pore', 1 = 'li' } (label value → phase name)",
        )
    vol = read_volume(path, voxel_size_um=entry.get("voxel_size_um"))
    res = analyze_volume(
        vol,
        labels=labels,
        classes=params["classes"],
        smooth_sigma_vox=params["smooth_sigma_vox"],
        collector_face=entry.get("collector_face"),
        transport_axis=entry.get("transport_axis"),
        thickness=params["thickness"],
        max_diameter_um=params["max_diameter_um"],
        max_tortuosity_voxels=params["max_tortuosity_voxels"],
    )
    prof = res.pop("profile")
    comp = res["components"]
    vols = comp.pop("volumes_um3")
    iso = comp.pop("isolated", None)
    other = comp.pop("touches_other_faces", None)
    ptab = pd.DataFrame({"depth_um": prof["depth_um"], "li_fraction": prof["li_fraction"]})
    if prof.get("porosity") is not None:
        ptab["porosity"] = prof["porosity"]
    res["profile_table"] = out.table(
        "tomography_profile", ptab, title=f"Porosity and Li fraction per layer along {prof['axis']}"
    )
    ctab = pd.DataFrame({"component": range(1, len(vols) + 1), "volume_um3": vols})
    if iso is not None:
        ctab["isolated"] = iso
        ctab["touches_other_faces"] = other
    ctab = ctab.sort_values("volume_um3", ascending=False, ignore_index=True)
    res["components_table"] = out.table(
        "tomography_components", ctab, title="Connected Li components (26-connectivity)"
    )
    rows = []
    for key, phase in (("li_local_thickness", "li"), ("pore_size", "pore")):
        h = (res.get(key) or {}).pop("histogram", None)
        if h:
            for lo, hi, v in zip(
                h["edges_um"][:-1], h["edges_um"][1:], h["volume_um3"], strict=True
            ):
                rows.append(
                    {"phase": phase, "thickness_lo_um": lo, "thickness_hi_um": hi, "volume_um3": v}
                )
            res[key]["histogram"] = h  # for the figure; removed below
    if rows:
        res["size_distribution_table"] = out.table(
            "tomography_size_distribution",
            pd.DataFrame(rows),
            title="Volume-weighted local thickness distributions",
        )
    sections = orthogonal_sections(vol, res["segmentation"])
    out.figure(
        "tomography_sections",
        fig_orthogonal_sections(sections),
        title="Orthogonal sections with the segmentation",
        caption="Central xy, xz and yz sections of the volume (grey) with the boundaries of the segmented "
        "phases (cyan: Li); z = 0 is the first slice"
        + (
            f", on the current collector ({res['components'].get('collector_face')})."
            if entry.get("collector_face")
            else "."
        ),
    )
    out.figure(
        "tomography_size_distribution",
        fig_size_distribution(res),
        title="Local thickness distributions",
        caption="Volume-weighted local thickness (diameter of the largest inscribed sphere) of the Li "
        "deposits and of the pores; dashed lines: means.",
    )
    out.figure(
        "tomography_porosity_profile",
        fig_porosity_profile(prof),
        title="Porosity through depth",
        caption="Pore and Li fraction of each layer parallel to the current collector against the distance from it.",
    )
    for key in ("li_local_thickness", "pore_size"):
        (res.get(key) or {}).pop("histogram", None)
    summary["tomography"] = res
    return res


STEPS = (Step("tomography", needs=("volume",), params=DEFAULTS["tomography"], run=_tomography),)


def run(exp, out, summary):
    """Compose the steps; the engine writes skipped[] for a missing input."""
    for step in STEPS:
        run_step(step, exp, out, summary)
    t = summary.get("tomography")
    if t:
        c = t["components"]
        iso = (
            f", {c['isolated_count']} isolated Li pieces ({c['isolated_volume_um3']:.3g} µm³)"
            if c.get("isolated_count") is not None
            else ""
        )
        por = f"porosity {t['porosity']:.3f}, " if t.get("porosity") is not None else ""
        summary["headline"] = (
            f"{por}Li {t['li_volume_um3']:.3g} µm³ ({t['li_charge_C'] * 1e6:.3g} µC), "
            f"area {t['li_surface_area_um2']:.3g} µm²{iso}"
        )


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="tomography",
    title="3-D tomography of Li deposits: porosity, surface area, local thickness, isolated Li",
    run=run,
    inputs=("volume",),
    analyses=DEFAULTS,
    simulator="platescope.simulate._tomography:tomography",
    sections={
        "volume": Section(
            frozenset({"path", "voxel_size_um", "labels", "collector_face", "transport_axis"}),
            # a folder of slices or a zarr store is as good as a file: resolved, checked
            # and hashed (by its files) like any input
            folder_keys=frozenset({"path"}),
        ),
    },
)
