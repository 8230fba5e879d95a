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

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platescope._errors import InputError, file_problem


@dataclass(frozen=True)
class Section:
    """An input section of the experiment file: its keys and how they are checked.

    Attributes
    ----------
    keys : frozenset of str
        Accepted keys (any other key is an error).
    path_keys : frozenset of str
        Keys that name files (resolved from the experiment file's folder, must exist).
    number_keys : frozenset of str
        Keys that must be real, finite numbers (never bools), positive unless in
        ``signed_keys``.
    signed_keys : frozenset of str
        Number keys that may be zero or negative (clock offsets).
    many : bool
        An array of tables (``[[name]]``) rather than one table.
    needs_path : bool
        Whether a present section must give ``path``.
    folder_keys : frozenset of str
        Path keys that may name a folder (a stack of slices, a zarr store) as well as a
        file; such a folder is hashed by its files.
    """

    keys: frozenset
    path_keys: frozenset = frozenset({"path"})
    number_keys: frozenset = frozenset()
    signed_keys: frozenset = frozenset()
    many: bool = False
    needs_path: bool = True
    folder_keys: frozenset = frozenset()


_MOVIE_KEYS = frozenset({"path", "mode", "pixel_size_um", "frame_times", "frame_interval_s"})

#: The input sections every scenario may choose from (a scenario lists the ones it reads
#: in its registry entry, and may define more: ``Scenario.sections``).
SHARED_SECTIONS: dict[str, Section] = {
    "electrode": Section(
        frozenset({"area_cm2", "film_metal", "film_thickness_nm", "diameter_um"}),
        path_keys=frozenset(),
        number_keys=frozenset({"area_cm2", "film_thickness_nm", "diameter_um"}),
        needs_path=False,
    ),
    "echem": Section(
        frozenset(
            {"path", "time_offset_s", "timezone", "current_density_mA_cm2", "technique"}
            | {"electrode"}
        ),
        number_keys=frozenset({"time_offset_s", "current_density_mA_cm2"}),
        signed_keys=frozenset({"time_offset_s"}),
    ),
    "movie": Section(
        _MOVIE_KEYS,
        path_keys=frozenset({"path", "frame_times"}),
        number_keys=frozenset({"pixel_size_um", "frame_interval_s"}),
        folder_keys=frozenset({"path"}),  # a folder of one image file per frame
    ),
    # a second movie of the same field (see-through: epi beside the primary trans movie)
    "epi": Section(
        _MOVIE_KEYS,
        path_keys=frozenset({"path", "frame_times"}),
        number_keys=frozenset({"pixel_size_um", "frame_interval_s"}),
        folder_keys=frozenset({"path"}),  # a folder of one image file per frame
    ),
    "sem": Section(frozenset({"path", "pixel_size_nm"}), number_keys=frozenset({"pixel_size_nm"})),
    "sem_images": Section(
        frozenset(
            {"path", "pixel_size_nm", "current_density_mA_cm2", "condition", "charge_C"}
            | {"capacity_mAh_cm2", "cycle", "condition_value", "condition_unit"}
        ),
        many=True,
    ),
    "sims": Section(
        frozenset(
            {"path", "anneal_time_s", "tracer", "crater_depth_um", "sputter_rate_um_s"}
            | {"depth_scale_err"}
        ),
        many=True,
    ),
    # the liquid electrolyte: Sand's time (symmetric-cell, top-view-nucleation)
    "electrolyte": Section(
        frozenset({"D_cm2_s", "c0_mol_L", "t_plus"}),
        path_keys=frozenset(),
        number_keys=frozenset({"D_cm2_s", "c0_mol_L", "t_plus"}),
        signed_keys=frozenset({"t_plus"}),
        needs_path=False,
    ),
    "seccm": Section(
        frozenset({"spots", "layout", "path", "settings"}),
        path_keys=frozenset({"path", "spots", "settings"}),
        needs_path=False,
    ),
}
#: Sections of every experiment file (not inputs).
_FIXED = {"experiment": frozenset({"scenario", "name", "description"}), "analysis": None}


def _registry():
    """The scenario registry (:mod:`platescope.pipeline._scenarios`), looked up by name.

    Scenarios are plugins of the reader: which sections a file may hold depends on the
    scenario it names, declared with the scenario's runner. The registry is loaded by
    name (as an entry point would be), so the io layer has no import of the pipeline.
    """
    import importlib

    return importlib.import_module("platescope.pipeline._scenarios")


def __getattr__(name: str):
    # ``SCENARIOS``: the registered scenario names (read from the registry when asked)
    if name == "SCENARIOS":
        return tuple(_registry().scenarios())
    raise AttributeError(name)


def _check_numbers(path, section: str, table: dict, spec: Section) -> None:
    for key in spec.number_keys & set(table):
        v = table[key]
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if ok and key not in spec.signed_keys:
            ok = v > 0
        if not ok:
            need = "a finite number" if key in spec.signed_keys else "a positive, finite number"
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
    extra : dict
        Sections the scenario itself defines (``Scenario.sections``), by name; read them
        with :meth:`section`.
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
    extra: dict = field(default_factory=dict)

    def section(self, name: str):
        """Any input section by name (a dict, or a list for ``[[...]]`` sections; empty
        when absent)."""
        if name in SHARED_SECTIONS and hasattr(self, name):
            return getattr(self, name)
        return self.extra.get(name, [] if _section_spec(self.scenario, name).many else {})

    def input_paths(self) -> dict[str, Path]:
        """All input files by role, e.g. ``{"echem": ..., "movie": ..., "movie.frame_times": ...}``."""
        out = {}
        for name, spec in _all_sections(self.scenario).items():
            value = self.section(name)
            entries = list(enumerate(value)) if spec.many else [(None, value)]
            for n, entry in entries:
                role = name if n is None else f"{name}[{n}]"
                for key in sorted(spec.path_keys, key=lambda k: (k != "path", k)):
                    if entry.get(key) is not None:
                        out[role if key == "path" else f"{role}.{key}"] = Path(entry[key])
        return out


def _all_sections(scenario: str) -> dict[str, Section]:
    """Shared sections + the ones the scenario defines."""
    sc = _registry().scenarios().get(scenario)
    return {**SHARED_SECTIONS, **(dict(sc.sections) if sc is not None else {})}


def _section_spec(scenario: str, name: str) -> Section:
    return _all_sections(scenario)[name]


def _check_keys(path, section, table, allowed):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(
            path,
            f"[{section}] has unknown key(s) {', '.join(unknown)}",
            f"use only {', '.join(sorted(allowed))} (see DESIGN.md §3 / the README)",
        )


def _resolve(path, base: Path, section: str, key: str, value, *, folder_ok: bool = False) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(
            path, f"[{section}] {key} must be a file path string", "write it in quotes"
        )
    p = Path(value)
    if not p.is_absolute():
        p = base / p
    problem = file_problem(p)
    if folder_ok and p.is_dir():
        problem = None
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
    exp = raw.get("experiment")
    if not isinstance(exp, dict) or "scenario" not in exp:
        raise InputError(
            path,
            "the file has no [experiment] scenario",
            f"add one of {', '.join(_registry().scenarios())}",
        )
    _check_keys(path, "experiment", exp, _FIXED["experiment"])
    sc = _registry().get_scenario(str(exp["scenario"]), path=path)
    scenario = sc.name
    specs = {**SHARED_SECTIONS, **dict(sc.sections)}
    allowed = set(sc.inputs) | {"electrode"}
    for name in raw:
        if name in _FIXED:
            continue
        if name not in specs:
            raise InputError(
                path,
                f"the file has an unknown section [{name}]",
                f"use only [experiment], [analysis.*] and {_sections_words(allowed)}"
                " (see DESIGN.md §3 / the README)",
            )
        if name not in allowed:
            raise InputError(
                path,
                f"[{name}] is not an input of scenario {scenario}",
                f"remove it, or use a scenario that reads it; {scenario} reads "
                f"{_sections_words(allowed)}",
            )
    base = path.parent
    sections: dict = {}
    for name, spec in specs.items():
        if name not in raw:
            sections[name] = [] if spec.many else {}
            continue
        value = raw[name]
        if spec.many:
            if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                raise InputError(
                    path,
                    f"{name} must be an array of tables",
                    f"write each entry as [[{name}]]",
                )
            entries = []
            for n, entry in enumerate(value):
                entries.append(_read_table(path, base, f"{name}[{n}]", dict(entry), spec))
            sections[name] = entries
        else:
            if not isinstance(value, dict):
                raise InputError(path, f"[{name}] must be a table", f"write it as [{name}]")
            table = _read_table(path, base, name, dict(value), spec)
            if table and spec.needs_path and "path" not in table:
                raise InputError(
                    path,
                    f"[{name}] has no path",
                    f'add path = "..." to [{name}] or remove the section',
                )
            sections[name] = table
    sims = sections.pop("sims")
    sem_images = []
    for n, entry in enumerate(sections.pop("sem_images")):
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
    # shared sections with an Experiment attribute are passed as such; the others
    # ([electrolyte]) are read with Experiment.section like a scenario's own
    attrs = {f.name for f in dataclasses.fields(Experiment)}
    shared = {k: v for k, v in sections.items() if k in SHARED_SECTIONS and k in attrs}
    extra = {k: v for k, v in sections.items() if k not in shared}
    return Experiment(
        path=path.resolve(),
        scenario=scenario,
        name=str(exp.get("name") or path.parent.name),
        sims=sims,
        sem_images=sem_images,
        analysis=analysis,
        extra=extra,
        **shared,
    )


def _sections_words(names) -> str:
    return ", ".join(f"[{n}]" for n in sorted(names))


def _read_table(path, base: Path, label: str, table: dict, spec: Section) -> dict:
    """Check one section table's keys and numbers; resolve its file paths."""
    _check_keys(path, label, table, set(spec.keys))
    _check_numbers(path, label, table, spec)
    for key in spec.path_keys & set(table):
        table[key] = _resolve(path, base, label, key, table[key], folder_ok=key in spec.folder_keys)
    if spec.many and spec.needs_path and "path" not in table:
        _resolve(path, base, label, "path", None)  # raises: an entry must name its file
    return table
