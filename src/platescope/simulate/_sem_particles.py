"""The ``sem-particles`` scenario: post-mortem SEM images of Li nanoparticles.

One SEM image per plating condition (current density): an SECCM footprint with Li
nanoparticles whose areal density and sizes follow the current density as in the
SECCM + IRM paper's Table 1 (:func:`platescope.simulate._sem_model.particle_targets`:
1.1 → 2.5 × 10⁹ cm⁻², a denser outer ring, bimodal sizes at low j), a fraction of them
in overlapping (touching) pairs that only a watershed separates. Images are written as
FEI-style TIFFs (pixel size in the ``[Scan]`` metadata, data bar at the bottom).

:func:`make_sem_particles` builds everything in memory; :func:`sem_particles` writes
the files, ``experiment.toml`` and ``truth/``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import platescope
from platescope._errors import InputError
from platescope.simulate._common import (
    Param,
    atomic_write_text,
    input_hashes,
    prepare_output_dir,
    register,
    resolve_params,
    write_experiment_toml,
    write_json_atomic,
)
from platescope.simulate._echem_model import table1_targets
from platescope.simulate._irm_galvanostatic import _particle_truth
from platescope.simulate._sem_model import (
    EDGE_RING_FRACTION,
    SEM_DATABAR_ROWS,
    particle_targets,
    place_particles,
    render_sem,
)

__all__ = ["PARAMETERS", "make_sem_particles", "sem_particles"]

SCENARIO = "sem-particles"
_MAX_PLATING_S = 60.0

PARAMETERS: dict[str, Param] = {
    "current_densities_mA_cm2": Param(
        "0.20,0.78,3.82",
        str,
        "plating current densities, mA cm⁻², comma-separated: one SEM image each "
        "(one value → a single [sem] image)",
    ),
    "plating_time_s": Param(
        None,
        float,
        "plating time per condition, s (auto: min(3·t_nuc(j), 60 s))",
        0.01,
        3600.0,
        True,
    ),
    "footprint_diameter_um": Param(6.0, float, "SECCM footprint diameter, µm", 0.3, 50.0),
    "pixel_size_nm": Param(8.0, float, "SEM pixel size, nm", 1.0, 100.0),
    "image_height_px": Param(1024, int, "SEM image height without the data bar, pixels", 64, 4096),
    "image_width_px": Param(1536, int, "SEM image width, pixels", 256, 6144),
    "noise_sd": Param(8.0, float, "SEM Gaussian noise sd, grey levels (× noise_scale)", 0.0, 100.0),
    "noise_scale": Param(1.0, float, "multiplies the noise (0 = noise-free images)", 0.0, 100.0),
    "pair_fraction": Param(
        0.15, float, "fraction of particles in overlapping (touching) pairs", 0.0, 0.5
    ),
}


def _current_densities(text: str) -> list[float]:
    try:
        values = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or not all(math.isfinite(v) and 0.01 <= v <= 20.0 for v in values):
        raise InputError(
            None,
            f"--set current_densities_mA_cm2={text!r} is not a list of current densities",
            "give comma-separated numbers in [0.01, 20] mA cm⁻², e.g. 0.2,0.78,3.82",
        )
    if len(set(values)) != len(values):
        raise InputError(
            None,
            f"current_densities_mA_cm2={text!r} repeats a value",
            "give each current density once",
        )
    return values


def _check_geometry(p: dict) -> None:
    h_um = p["image_height_px"] * p["pixel_size_nm"] * 1e-3
    w_um = p["image_width_px"] * p["pixel_size_nm"] * 1e-3
    if 1.1 * p["footprint_diameter_um"] > min(h_um, w_um):
        raise InputError(
            None,
            f"a {p['footprint_diameter_um']} µm footprint does not fit (with 10 % margin) in a "
            f"{h_um:.2f} × {w_um:.2f} µm image",
            "raise pixel_size_nm or the image size, or lower footprint_diameter_um",
        )


def _condition_name(j: float) -> str:
    return f"j{j:g}"


def make_sem_particles(seed: int = 0, **params: Any) -> dict[str, Any]:
    """Simulate SEM images of Li nanoparticles at one or several current densities.

    Per condition (current density j): the footprint (a disk of ``footprint_diameter_um``,
    placed at random with ≥ 5 % margin in the image) holds N = density(j) · area
    particles (:func:`~platescope.simulate._sem_model.particle_targets`), the outer ring
    (r ≥ 0.8 R) denser and with 8 % larger particles; a fraction ``pair_fraction`` of
    them overlaps a neighbour (centre distance 0.78–0.92 × the sum of the radii). The
    image (:func:`~platescope.simulate._sem_model.render_sem`): textured Au ~70 grey
    levels, the footprint 18 levels brighter, particles 180–225 with a bright rim,
    Gaussian blur σ = 1 px, Gaussian noise ``noise_sd × noise_scale``, uint8, plus a
    70-row data bar. Plating charge Q = j · A · t with t = ``plating_time_s`` (auto
    min(3 t_nuc(j), 60 s), t_nuc from Table 1); the faradaic efficiency in the truth
    is Σ(π d³/6)/V_M · F / Q of the planted particles.

    Parameters
    ----------
    seed : int
        Random seed (same seed + parameters → identical output).
    **params
        ``--set`` keys of :data:`PARAMETERS`.

    Returns
    -------
    dict
        ``images``: list of per-condition dicts (``condition``,
        ``current_density_mA_cm2``, ``sem`` uint8 with data bar, ``pixel_size_nm``,
        ``particles`` DataFrame x_um, y_um, diameter_nm, paired, in_edge,
        ``footprint`` {centre_x_um, centre_y_um, radius_um}, ``charge_C``,
        ``plating_time_s``, ``truth`` (the summary's particle keys)); ``truth`` (dict
        with ``particles`` for one image or ``particles_by_condition``) and
        ``parameters``.

    Examples
    --------
    >>> sim = make_sem_particles(seed=1, current_densities_mA_cm2="3.82",
    ...                          footprint_diameter_um=1.5, image_height_px=256,
    ...                          image_width_px=256)
    >>> sim["images"][0]["sem"].shape
    (326, 256)
    """
    p = resolve_params(PARAMETERS, params)
    js = _current_densities(p["current_densities_mA_cm2"])
    _check_geometry(p)
    px_nm = p["pixel_size_nm"]
    shape = (p["image_height_px"], p["image_width_px"])
    radius = 0.5 * p["footprint_diameter_um"]
    area_cm2 = math.pi * radius**2 * 1e-8
    h_um, w_um = shape[0] * px_nm * 1e-3, shape[1] * px_nm * 1e-3
    children = np.random.SeedSequence(int(seed)).spawn(len(js))
    images = []
    for j, ss in zip(js, children, strict=True):
        rng_geo, rng_part, rng_sem = (np.random.default_rng(s) for s in ss.spawn(3))
        free_y = 0.5 * h_um - 1.05 * radius
        free_x = 0.5 * w_um - 1.05 * radius
        cx = 0.5 * (shape[1] - 1) * px_nm * 1e-3 + rng_geo.uniform(-0.6, 0.6) * max(free_x, 0)
        cy = 0.5 * (shape[0] - 1) * px_nm * 1e-3 + rng_geo.uniform(-0.6, 0.6) * max(free_y, 0)
        targ = particle_targets(j)
        n = int(rng_geo.poisson(targ["density_cm2"] * area_cm2))
        parts = place_particles(
            rng_part,
            n_particles=n,
            radius_um=radius,
            populations=targ["populations"],
            edge_density_ratio=targ["edge_density_ratio"],
            site_weight=lambda x, y: np.ones(np.shape(x)),
            size_factor=lambda x, y: np.ones(np.shape(x)),
            pair_fraction=p["pair_fraction"],
        )
        r_part = np.hypot(parts["dx_um"].to_numpy(float), parts["dy_um"].to_numpy(float))
        particles = pd.DataFrame(
            {
                "x_um": cx + parts["dx_um"].to_numpy(float),
                "y_um": cy + parts["dy_um"].to_numpy(float),
                "diameter_nm": parts["diameter_nm"].to_numpy(float),
                "paired": parts["paired"].to_numpy(bool),
                "in_edge": r_part >= (1.0 - EDGE_RING_FRACTION) * radius,
            }
        )
        sem = render_sem(
            rng_sem,
            particles,
            pixel_size_nm=px_nm,
            centre_x_um=cx,
            centre_y_um=cy,
            radius_um=radius,
            noise_sd=p["noise_scale"] * p["noise_sd"],
            shape=shape,
        )
        t_plate = p["plating_time_s"]
        if t_plate is None:
            t_plate = round(min(3.0 * table1_targets(j)["t_nuc_s"], _MAX_PLATING_S), 2)
        charge = j * 1e-3 * area_cm2 * t_plate
        truth = _particle_truth(particles, area_cm2, charge)
        truth.pop("path", None)
        truth["n_paired"] = int(particles["paired"].sum())
        truth["populations_nm"] = [
            {"fraction": f, "mean_diameter_nm": m, "sd_diameter_nm": s}
            for f, m, s in targ["populations"]
        ]
        images.append(
            {
                "condition": _condition_name(j),
                "current_density_mA_cm2": j,
                "sem": sem,
                "pixel_size_nm": px_nm,
                "particles": particles,
                "footprint": {"centre_x_um": cx, "centre_y_um": cy, "radius_um": radius},
                "charge_C": charge,
                "plating_time_s": t_plate,
                "truth": truth,
            }
        )
    resolved = dict(p)
    truth_all: dict[str, Any] = {
        "scenario": SCENARIO,
        "platescope_version": platescope.__version__,
        "seed": int(seed),
        "parameters": resolved,
        "footprint_area_cm2": area_cm2,
        "definitions": (
            "count: planted particles (all lie inside the footprint and the image); density "
            "per footprint area; diameters: planted sphere diameters; deposited Li = "
            "Σ(π d³/6)/V_M; faradaic efficiency = deposited Li · F / Q with Q = j·A·t; "
            f"edge = outer ring r ≥ {1 - EDGE_RING_FRACTION:g}·R"
        ),
    }
    rows = []
    for im in images:
        row = {
            "condition": im["condition"],
            "current_density_mA_cm2": im["current_density_mA_cm2"],
            "charge_C": im["charge_C"],
            "plating_time_s": im["plating_time_s"],
            "footprint": im["footprint"],
            **im["truth"],
        }
        rows.append(row)
    if len(images) == 1:
        truth_all["particles"] = rows[0]
    else:
        truth_all["particles_by_condition"] = rows
    return {"images": images, "truth": truth_all, "parameters": resolved}


@register(SCENARIO, PARAMETERS)
def sem_particles(out: str | os.PathLike, *, seed: int = 0, **params: Any) -> Path:
    """Write simulated SEM images of Li nanoparticles and their truth to ``out``.

    Files: one FEI-tagged ``sem_<condition>.tif`` per current density (``sem.tif``
    when there is one), ``experiment.toml`` (``[sem]`` for one image — without a
    plating charge, so the analysis leaves the faradaic efficiency null — else
    ``[[sem_images]]`` entries with ``path``, ``condition``,
    ``current_density_mA_cm2`` and ``charge_C``) and ``truth/`` (``truth.json``,
    ``particles_<condition>.csv``: x_um, y_um, diameter_nm, paired, in_edge). See
    :func:`make_sem_particles` for the model.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder.
    seed : int
        Random seed.
    **params
        Scenario parameters (:data:`PARAMETERS`).

    Returns
    -------
    pathlib.Path
        ``out/experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = sem_particles(tempfile.mkdtemp(), seed=3)  # doctest: +SKIP
    """
    from platescope.io._image_writers import write_sem_tiff

    p = resolve_params(PARAMETERS, params)  # validate before touching the folder
    _current_densities(p["current_densities_mA_cm2"])
    _check_geometry(p)
    out = prepare_output_dir(out, SCENARIO)
    sim = make_sem_particles(seed=seed, **params)
    single = len(sim["images"]) == 1
    entries = []
    for im in sim["images"]:
        name = "sem.tif" if single else f"sem_{im['condition']}.tif"
        write_sem_tiff(
            out / name, im["sem"], pixel_size_nm=im["pixel_size_nm"], databar_rows=SEM_DATABAR_ROWS
        )
        atomic_write_text(
            out / "truth" / f"particles_{im['condition']}.csv", im["particles"].to_csv(index=False)
        )
        entries.append(
            {
                "path": name,
                "condition": im["condition"],
                "current_density_mA_cm2": im["current_density_mA_cm2"],
                "charge_C": im["charge_C"],
            }
        )
    truth = sim["truth"]
    truth["inputs"] = input_hashes(out, [e["path"] for e in entries])
    truth["files"] = {
        "sem": [e["path"] for e in entries],
        "particles": [f"truth/particles_{im['condition']}.csv" for im in sim["images"]],
    }
    write_json_atomic(out / "truth" / "truth.json", truth)
    sections: dict[str, Any] = {
        "electrode": {
            "area_cm2": truth["footprint_area_cm2"],
            "film_metal": "Au",
            "film_thickness_nm": 20.0,
        },
    }
    if single:  # the contract's [sem] section (no plating charge: FE is left null)
        sections["sem"] = {"path": entries[0]["path"]}
    else:
        sections["sem_images"] = entries
    return write_experiment_toml(out, SCENARIO, seed, sections)
