"""Synthetic experiments with planted truth (DESIGN.md §1, §3).

Each scenario writes input files in real instrument formats, an ``experiment.toml``
ready for ``platescope analyze`` and ``truth/truth.json`` with the keys of
``summary.json``, so every analysis can be checked against what was planted.

Public API
----------
SCENARIOS
    Registry: scenario name → function ``fn(out, *, seed=0, **params) -> Path``; each
    function's ``.parameters`` maps every accepted ``--set`` key to a
    :class:`~platescope.simulate._common.Param` (type, unit, default, range).
as_movie(sim, key="movie", *, mode=None) -> xarray.DataArray
    A ``make_*`` result's movie as the Movie DataArray the readers return.
simulate(scenario, out, *, seed=0, overrides=None) -> Path
    Run a scenario by name (overrides may be strings from ``--set key=value``).
parse_set_options(items) -> dict
    ``["key=value", ...]`` → ``{"key": "value"}``.
irm_galvanostatic(out, *, seed=0, **params) -> Path
    SECCM galvanostatic Li plating with IRM movie and SEM image.
make_irm_galvanostatic(seed=0, **params) -> dict
    The same, in memory (arrays + truth, no files).
irm_cv(out, *, seed=0, **params) -> Path
    SECCM cyclic voltammetry (Li plating/stripping cycles) with an IRM movie.
make_irm_cv(seed=0, **params) -> dict
    The same, in memory (arrays + truth, no files).
seccm_combinatorial(out, *, seed=0, **params) -> Path
    A hopping grid of galvanostatic SECCM spots × conditions in one of three layouts.
make_spot_design(seed=0, **params) -> DataFrame
    Its planted per-spot parameters and truth (no files).
sims_diffusion(out, *, seed=0, **params) -> Path
    SIMS depth profiles of a Li isotope tracer diffused for several anneal times.
make_sims_diffusion(seed=0, **params) -> dict
    The same, in memory (counts + truth, no files).
side_view(out, *, seed=0, **params) -> Path
    Side-view (cross-section) movie of galvanostatic Li plating: a layer (optionally with
    a capping band) growing from a tilted electrode edge, whiskers after a planted time,
    with the EC-Lab record.
make_side_view(seed=0, **params) -> dict
    The same, in memory (movie + truth, no files).
sem_particles(out, *, seed=0, **params) -> Path
    SEM images of Li nanoparticles (touching pairs) at one or several current densities.
make_sem_particles(seed=0, **params) -> dict
    The same, in memory (images + truth, no files).
make_sem_morphology(kind="particles", seed=0, **params) -> dict
    One SEM image of particles, whiskers, grains or a film with voids + planted truth.
see_through_au(out, *, seed=0, **params) -> Path
    See-through operando Li–Au alloying/cycling: trans + epi movies and GCPL record.
see_through_ag(out, *, seed=0, **params) -> Path
    The same for a Ag film (four alloying steps, pores that grow and merge).
make_see_through(metal="Au", seed=0, **params) -> dict
    The same, in memory (movies + truth, no files).
dendrite_cycling(out, *, seed=0, **params) -> Path
    Operando top-view optical movie of galvanostatic Li cycling: deposits that grow,
    merge, partly dissolve and turn dead, with the EC-Lab cycling record.
make_dendrite_cycling(seed=0, **params) -> dict
    The same, in memory (movie + truth, no files).
symmetric_cell(out, *, seed=0, **params) -> Path
    Galvanostatic cycling of a Li‖Li cell: planted peaking → flat → arcing profiles,
    soft shorts, optional GITT block; EC-Lab .mpt + .mps settings.
make_symmetric_cell(seed=0, **params) -> dict
top_view_nucleation(out, *, seed=0, **params) -> Path
    Li plated at several current densities seen from above (nucleus counts, tips).
make_top_view_nucleation(seed=0, **params) -> dict
    The same, in memory (record + truth, no files).
tomography(out, *, seed=0, **params) -> Path
    A grey X-ray tomogram (ImageJ/OME-TIFF) of Li deposits on a current collector.
make_tomography(seed=0, **params) -> dict
    The same, in memory (volume + truth, no files).
"""

from platescope.simulate._common import SCENARIOS, parse_set_options, simulate
from platescope.simulate._data_model import as_movie
from platescope.simulate._dendrite_cycling import dendrite_cycling, make_dendrite_cycling
from platescope.simulate._irm_cv import irm_cv, make_irm_cv
from platescope.simulate._irm_galvanostatic import irm_galvanostatic, make_irm_galvanostatic
from platescope.simulate._seccm_combinatorial import make_spot_design, seccm_combinatorial
from platescope.simulate._see_through import make_see_through, see_through_ag, see_through_au
from platescope.simulate._sem_morphology import SEM_MORPHOLOGY_KINDS, make_sem_morphology
from platescope.simulate._sem_particles import make_sem_particles, sem_particles
from platescope.simulate._side_view import make_side_view, side_view
from platescope.simulate._sims_diffusion import make_sims_diffusion, sims_diffusion
from platescope.simulate._symmetric_cell import make_symmetric_cell, symmetric_cell
from platescope.simulate._tomography import make_tomography, tomography
from platescope.simulate._top_view_nucleation import (
    make_top_view_nucleation,
    top_view_nucleation,
)

__all__ = [
    "SCENARIOS",
    "SEM_MORPHOLOGY_KINDS",
    "as_movie",
    "dendrite_cycling",
    "irm_cv",
    "irm_galvanostatic",
    "make_dendrite_cycling",
    "make_irm_cv",
    "make_irm_galvanostatic",
    "make_see_through",
    "make_sem_morphology",
    "make_sem_particles",
    "make_spot_design",
    "parse_set_options",
    "seccm_combinatorial",
    "see_through_ag",
    "see_through_au",
    "sem_particles",
    "simulate",
    "sims_diffusion",
    "make_sims_diffusion",
    "side_view",
    "make_side_view",
    "make_symmetric_cell",
    "make_top_view_nucleation",
    "symmetric_cell",
    "top_view_nucleation",
    "make_tomography",
    "tomography",
]
