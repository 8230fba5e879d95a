"""The experiment file: one TOML that names a scenario and its input files.

Layout (DESIGN.md §3; relative paths resolve from the file's folder)::

    [experiment]  scenario = "irm-galvanostatic", name = "..."
    [electrode]   area_cm2, film_metal, film_thickness_nm          (all optional)
    [echem]       path, time_offset_s, timezone, current_density_mA_cm2, technique,
                  electrode ("working" default | "counter": the other electrode of a
                  two-electrode cell, analysed by flipping current and potential signs)
    [movie]       path, mode, pixel_size_um, frame_times, frame_interval_s
    [epi]         the same keys as [movie]: a second movie of the same field (optional)
    [sem]         path, pixel_size_nm
    [[sem_images]] path, pixel_size_nm, current_density_mA_cm2, condition, charge_C,
                  capacity_mAh_cm2, cycle, condition_value, condition_unit
                  (several SEM images, e.g. one per current density, capacity or
                  cycle; all but path optional; repeats of a value are allowed)
    [[sims]]      path, anneal_time_s, tracer, crater_depth_um, sputter_rate_um_s,
                  depth_scale_err (relative 1σ of the depth scale)
    [seccm]       spots | path (+ layout, settings)
    [analysis.*]  optional parameter overrides per analysis

Unknown sections or keys are errors (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platescope._errors import InputError, file_problem

SCENARIOS = (
    "irm-galvanostatic",
    "irm-cv",
    "seccm-combinatorial",
    "see-through-au",
    "see-through-ag",
    "sem-particles",
    "dendrite-cycling",
    "sims-diffusion",
)

_KEYS = {
    "experiment": {"scenario", "name", "description"},
    "electrode": {"area_cm2", "film_metal", "film_thickness_nm", "diameter_um"},
    "echem": {
        "path",
        "time_offset_s",
        "timezone",
        "current_density_mA_cm2",
        "technique",
        "electrode",
    },
    "movie": {"path", "mode", "pixel_size_um", "frame_times", "frame_interval_s"},
    # a second movie of the same field (see-through: epi beside the primary trans movie)
    "epi": {"path", "mode", "pixel_size_um", "frame_times", "frame_interval_s"},
    "sem": {"path", "pixel_size_nm"},
    "sem_images": {
        "path",
        "pixel_size_nm",
        "current_density_mA_cm2",
        "condition",
        "charge_C",
        "capacity_mAh_cm2",
        "cycle",
        "condition_value",
        "condition_unit",
    },
    "sims": {
        "path",
        "anneal_time_s",
        "tracer",
        "crater_depth_um",
        "sputter_rate_um_s",
        "depth_scale_err",
    },
    "seccm": {"spots", "layout", "path", "settings"},
    "analysis": None,  # free-form, checked by each analysis
}
_PATH_KEYS = {"path", "frame_times", "spots", "settings"}
#: numeric keys of the input sections: a real, finite number (never a bool) and, except
#: for clock offsets, positive
_NUMBER_KEYS = {
    "area_cm2",
    "film_thickness_nm",
    "diameter_um",
    "time_offset_s",
    "current_density_mA_cm2",
    "pixel_size_um",
    "frame_interval_s",
    "pixel_size_nm",
}
_SIGNED_KEYS = {"time_offset_s"}


def _check_numbers(path, section: str, table: dict) -> None:
    for key in _NUMBER_KEYS & set(table):
        v = table[key]
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if ok and key not in _SIGNED_KEYS:
            ok = v > 0
        if not ok:
            need = "a finite number" if key in _SIGNED_KEYS else "a positive, finite number"
            raise InputError(
                path,
                f"[{section}] {key} = {v!r} is not {need}",
                f"write {key} as {need} in its unit (the suffix of the key), or leave it out",
            )


@dataclass(frozen=True)
class Experiment:
    """A parsed experiment file.

    Attributes
    ----------
    path : pathlib.Path
        The experiment file.
    scenario : str
        One of ``SCENARIOS``.
    name : str
        Free-text experiment name (defaults to the file's folder name).
    electrode, echem, movie, epi, sem, seccm : dict
        Sections as given, with file paths made absolute; empty when absent.
    sims : list of dict
        ``[[sims]]`` entries.
    sem_images : list of dict
        ``[[sem_images]]`` entries (several SEM images, e.g. one per current density).
    analysis : dict
        ``[analysis.<name>]`` parameter overrides.
    """

    path: Path
    scenario: str
    name: str
    electrode: dict = field(default_factory=dict)
    echem: dict = field(default_factory=dict)
    movie: dict = field(default_factory=dict)
    epi: dict = field(default_factory=dict)
    sem: dict = field(default_factory=dict)
    sims: list = field(default_factory=list)
    seccm: dict = field(default_factory=dict)
    analysis: dict = field(default_factory=dict)
    sem_images: list = field(default_factory=list)

    def input_paths(self) -> dict[str, Path]:
        """All input files by role, e.g. ``{"echem": ..., "movie": ..., "movie.frame_times": ...}``."""
        out = {}
        for section in ("echem", "movie", "epi", "sem", "seccm"):
            for key in _PATH_KEYS:
                value = getattr(self, section).get(key)
                if value is not None:
                    out[section if key == "path" else f"{section}.{key}"] = Path(value)
        for n, entry in enumerate(self.sims):
            out[f"sims[{n}]"] = Path(entry["path"])
        for n, entry in enumerate(self.sem_images):
            out[f"sem_images[{n}]"] = Path(entry["path"])
        return out


def _check_keys(path, section, table, allowed):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(
            path,
            f"[{section}] has unknown key(s) {', '.join(unknown)}",
            f"use only {', '.join(sorted(allowed))} (see DESIGN.md §3 / the README)",
        )


def _resolve(path, base: Path, section: str, key: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(
            path, f"[{section}] {key} must be a file path string", "write it in quotes"
        )
    p = Path(value)
    if not p.is_absolute():
        p = base / p
    problem = file_problem(p)
    if problem == "does not exist":
        raise InputError(
            path,
            f"[{section}] {key} = '{value}' does not exist (looked for {p})",
            "correct the path; relative paths are taken from the experiment file's folder",
        )
    if problem:
        raise InputError(
            path,
            f"[{section}] {key} = '{value}' {problem}",
            "name a regular data file (copy piped or device data to one first)",
        )
    return str(p)


def read_experiment(path) -> Experiment:
    """Read and validate an experiment TOML file.

    Parameters
    ----------
    path : str or os.PathLike
        The experiment file.

    Returns
    -------
    Experiment

    Raises
    ------
    InputError
        Missing file, invalid TOML, unknown scenario/section/key, missing input file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "e.toml").write_text('[experiment]\\nscenario = "sem-particles"\\n')
    >>> read_experiment(d / "e.toml").scenario
    'sem-particles'
    """
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise InputError(path, f"the experiment file {problem}", "name the experiment .toml file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            path, "the experiment file is not UTF-8 text", "save it as UTF-8 TOML"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(
            path, f"the experiment file is not valid TOML ({err})", "fix the syntax"
        ) from None
    _check_keys(path, "file", raw, set(_KEYS))
    exp = raw.get("experiment")
    if not isinstance(exp, dict) or "scenario" not in exp:
        raise InputError(
            path, "the file has no [experiment] scenario", f"add one of {', '.join(SCENARIOS)}"
        )
    _check_keys(path, "experiment", exp, _KEYS["experiment"])
    scenario = exp["scenario"]
    if scenario not in SCENARIOS:
        raise InputError(
            path, f"unknown scenario '{scenario}'", f"use one of {', '.join(SCENARIOS)}"
        )
    base = path.parent
    sections = {}
    for section in ("electrode", "echem", "movie", "epi", "sem", "seccm"):
        if not isinstance(raw.get(section, {}), dict):
            raise InputError(path, f"[{section}] must be a table", f"write it as [{section}]")
        table = dict(raw.get(section, {}))
        _check_keys(path, section, table, _KEYS[section])
        _check_numbers(path, section, table)
        for key in _PATH_KEYS & set(table):
            table[key] = _resolve(path, base, section, key, table[key])
        if (
            table
            and section in ("echem", "movie", "epi", "sem", "seccm")
            and "path" not in table
            and section != "seccm"
        ):
            raise InputError(
                path,
                f"[{section}] has no path",
                f'add path = "..." to [{section}] or remove the section',
            )
        sections[section] = table
    sims = []
    for n, entry in enumerate(raw.get("sims", [])):
        _check_keys(path, f"sims[{n}]", entry, _KEYS["sims"])
        entry = dict(entry)
        entry["path"] = _resolve(path, base, f"sims[{n}]", "path", entry.get("path"))
        sims.append(entry)
    sem_images = []
    raw_sem_images = raw.get("sem_images", [])
    if not isinstance(raw_sem_images, list) or not all(isinstance(e, dict) for e in raw_sem_images):
        raise InputError(
            path, "sem_images must be an array of tables", "write each image as [[sem_images]]"
        )
    for n, entry in enumerate(raw_sem_images):
        _check_keys(path, f"sem_images[{n}]", entry, _KEYS["sem_images"])
        entry = dict(entry)
        entry["path"] = _resolve(path, base, f"sem_images[{n}]", "path", entry.get("path"))
        for key in ("pixel_size_nm", "current_density_mA_cm2", "charge_C"):
            v = entry.get(key)
            if v is not None and not (
                isinstance(v, int | float) and not isinstance(v, bool) and v != 0
            ):
                raise InputError(
                    path,
                    f"[[sem_images]] entry {n}: {key} must be a non-zero number",
                    f"give {key} as a number or leave it out",
                )
        for key in ("capacity_mAh_cm2", "condition_value"):
            v = entry.get(key)
            if v is not None and not (
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            ):
                raise InputError(
                    path,
                    f"[[sem_images]] entry {n}: {key} must be a number",
                    f"give {key} as a number or leave it out",
                )
        cyc = entry.get("cycle")
        if cyc is not None and not (
            isinstance(cyc, int) and not isinstance(cyc, bool) and cyc >= 0
        ):
            raise InputError(
                path,
                f"[[sem_images]] entry {n}: cycle must be a whole number ≥ 0, got {cyc!r}",
                "give the cycle number as an integer, e.g. cycle = 10",
            )
        if "condition_unit" in entry and not isinstance(entry["condition_unit"], str):
            raise InputError(
                path,
                f"[[sem_images]] entry {n}: condition_unit must be a string",
                'write it in quotes, e.g. condition_unit = "°C"',
            )
        if "condition" in entry:
            entry["condition"] = str(entry["condition"])
        sem_images.append(entry)
    analysis = raw.get("analysis", {})
    if not isinstance(analysis, dict):
        raise InputError(
            path, "[analysis] must be a table of tables", "write [analysis.<name>] sections"
        )
    side = sections["echem"].get("electrode")
    if side is not None and side not in ("working", "counter"):
        raise InputError(
            path,
            f'[echem] electrode must be "working" or "counter", got {side!r}',
            'write electrode = "counter" to analyse the counter electrode of a two-electrode '
            "(e.g. symmetric Li‖Li) cell, or leave it out for the working electrode",
        )
    for key in ("area_cm2",):
        v = sections["electrode"].get(key)
        if v is not None and not (isinstance(v, int | float) and v > 0):
            raise InputError(
                path, f"[electrode] {key} must be a positive number (cm²)", "correct it"
            )
    return Experiment(
        path=path.resolve(),
        scenario=scenario,
        name=str(exp.get("name") or path.parent.name),
        sims=sims,
        sem_images=sem_images,
        analysis=analysis,
        **sections,
    )
