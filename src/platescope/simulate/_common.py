"""Shared machinery of the simulators: scenario registry, parameters, safe writing.

A scenario is a function ``fn(out, *, seed=0, **params) -> Path`` registered with
:func:`register` together with its parameter table (:class:`Param`). The table gives
every accepted ``--set`` key, its type, unit, default and allowed range, so the
command line, :func:`simulate` and the scenario function validate overrides the same
way and name the accepted keys when a key or value is wrong.
"""

from __future__ import annotations

import contextlib
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import tomli_w

from platescope._atomic import _atomic_target, atomic_write_json, atomic_write_text
from platescope._errors import InputError
from platescope._hashing import sha256_file
from platescope._params import Param

__all__ = [
    "AU_FILM",
    "SCENARIOS",
    "Param",
    "atomic_write_text",
    "check_footprint_fits",
    "doc_parameters",
    "fill_parameter_doc",
    "input_hashes",
    "jittered_frame_bounds",
    "parse_set_options",
    "place_footprint",
    "prepare_output_dir",
    "register",
    "resolve_params",
    "sha256_file",
    "simulate",
    "write_experiment_toml",
    "write_json_atomic",
    "write_movie_files",
    "write_truth_tiff",
]

#: name → scenario function; each function carries ``.parameters`` (name → Param).
SCENARIOS: dict[str, Callable[..., Path]] = {}

#: The simulated SECCM substrate: ``[electrode]`` keys of experiment.toml (20 nm Au film).
AU_FILM: dict[str, Any] = {"film_metal": "Au", "film_thickness_nm": 20.0}


def register(name: str, parameters: Mapping[str, Param]) -> Callable:
    """Decorator: add a scenario function to :data:`SCENARIOS` with its parameters."""

    def deco(fn: Callable[..., Path]) -> Callable[..., Path]:
        fn.parameters = dict(parameters)  # type: ignore[attr-defined]
        fn.scenario_name = name  # type: ignore[attr-defined]
        SCENARIOS[name] = fn
        return fn

    return deco


def resolve_params(
    parameters: Mapping[str, Param], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Defaults updated by validated overrides; unknown keys raise :class:`InputError`."""
    values = {k: p.default for k, p in parameters.items()}
    for key, value in (overrides or {}).items():
        if key not in parameters:
            raise InputError(
                None,
                f"unknown simulation parameter {key!r}",
                f"use one of: {', '.join(sorted(parameters))}",
            )
        values[key] = parameters[key].coerce(key, value, parameters)
    return values


def parse_set_options(items: Iterable[str]) -> dict[str, str]:
    """Parse ``--set key=value`` strings into a dict of raw strings.

    Examples
    --------
    >>> parse_set_options(["noise_scale=2", "duration_s = 30"])
    {'noise_scale': '2', 'duration_s': '30'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise InputError(
                None,
                f"--set {item!r} is not of the form key=value",
                "write e.g. --set noise_scale=2",
            )
        out[key.strip()] = value.strip()
    return out


def simulate(
    scenario: str,
    out: str | os.PathLike,
    *,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> Path:
    """Run a registered scenario: write its input files, experiment.toml and truth.

    Parameters
    ----------
    scenario : str
        A key of :data:`SCENARIOS` (e.g. ``"irm-galvanostatic"``).
    out : str or os.PathLike
        Output folder (created if needed).
    seed : int
        Random seed; the same seed and parameters give identical files.
    overrides : mapping, optional
        Parameter values by name (strings from ``--set`` are converted).

    Returns
    -------
    pathlib.Path
        The written ``experiment.toml``.

    Examples
    --------
    >>> import tempfile
    >>> p = simulate("irm-galvanostatic", tempfile.mkdtemp(),
    ...              overrides={"current_density_mA_cm2": "3.82"})  # doctest: +SKIP
    """
    if scenario not in SCENARIOS:
        # a scenario's simulator registers itself when its module is imported: the
        # scenario registry (pipeline/_scenarios.py) names that module
        from platescope.pipeline._scenarios import scenarios

        sc = scenarios().get(scenario)
        if sc is not None and sc.simulator:
            sc.simulator_function()
    if scenario not in SCENARIOS:
        from platescope.pipeline._scenarios import scenarios

        names = sorted(set(SCENARIOS) | {n for n, sc in scenarios().items() if sc.simulator})
        raise InputError(None, f"unknown scenario {scenario!r}", f"use one of: {', '.join(names)}")
    fn = SCENARIOS[scenario]
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise InputError(
            None, f"seed {seed!r} is not an integer", "give --seed N with an integer N"
        ) from None
    if seed < 0:
        raise InputError(None, f"seed {seed} is negative", "give a seed >= 0")
    params = resolve_params(fn.parameters, overrides)  # type: ignore[attr-defined]
    experiment = fn(out, seed=seed, **params)
    from platescope import __version__
    from platescope._outguard import write_marker

    write_marker(Path(experiment).parent, kind="simulated", version=__version__)
    return experiment


def prepare_output_dir(out: str | os.PathLike, scenario: str) -> Path:
    """Create ``out`` (and ``out/truth``) after checking platescope may write there.

    The folder must be new, empty, or an earlier ``simulate`` output
    (:func:`platescope._outguard.claim_output_folder`) — and then of the same scenario,
    so nothing of someone else's is overwritten.
    """
    from platescope._outguard import claim_output_folder

    out = claim_output_folder(out, kind="simulated")
    exp = out / "experiment.toml"
    if exp.exists():
        try:
            existing = (
                tomllib.loads(exp.read_text(encoding="utf-8")).get("experiment", {}).get("scenario")
            )
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            existing = None
        if existing != scenario:
            raise InputError(
                exp,
                f"the output folder already holds an experiment of scenario {existing!r}, not {scenario!r}",
                "choose an empty or new folder for --out",
            )
    try:
        (out / "truth").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            out, f"cannot create the output folder ({exc.strerror})", "choose a writable folder"
        ) from None
    return out


def atomic_write_with(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and rename the temporary file to ``path``."""
    with _atomic_target(path) as tmp:
        writer(tmp)
    return Path(path)


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = None
) -> Iterator[IO]:
    """Open a hidden temp file beside ``path`` for streamed writing; on a clean exit it
    is closed, synced and moved onto ``path`` (on an error it is removed, ``path`` untouched).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_open(p, encoding="utf-8") as fh:
    ...     _ = fh.write("x")
    >>> p.read_text()
    'x'
    """
    with _atomic_target(path) as tmp, open(tmp, mode, encoding=encoding) as fh:
        yield fh


write_json_atomic = atomic_write_json


def doc_parameters(parameters: Mapping[str, Param]) -> str:
    """The numpydoc lines (name : type, default / doc) of a parameter table.

    Examples
    --------
    >>> print(doc_parameters({"n": Param(3, int, "number of things")}))
        n : int, default 3
            number of things.
    """
    return "\n".join(
        f"    {k} : {p.kind.__name__}, default {p.default!r}\n        {p.doc}."
        for k, p in parameters.items()
    )


def fill_parameter_doc(fn: Callable, parameters: Mapping[str, Param]) -> None:
    """Put :func:`doc_parameters` in place of ``{params}`` in ``fn``'s docstring."""
    if fn.__doc__:  # absent under python -OO
        fn.__doc__ = fn.__doc__.replace("{params}", doc_parameters(parameters))


def input_hashes(out: Path, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """``truth["inputs"]``: for each file name in ``out``, its path and SHA-256."""
    return {name: {"path": name, "sha256": sha256_file(Path(out) / name)} for name in names}


def write_truth_tiff(path: str | os.PathLike, array: Any, pixel_size_um: float) -> Path:
    """Write a (float) map or stack as an ImageJ TIFF with its µm pixel size, atomically."""
    import tifffile

    px = pixel_size_um
    return atomic_write_with(
        path,
        lambda tmp: tifffile.imwrite(
            tmp, array, imagej=True, resolution=(1 / px, 1 / px), metadata={"unit": "um"}
        ),
    )


def write_experiment_toml(
    out: str | os.PathLike, scenario: str, seed: int, sections: Mapping[str, Any]
) -> Path:
    """Write ``out/experiment.toml``: the ``[experiment]`` table of a simulated run, then ``sections``."""
    exp = {
        "experiment": {"scenario": scenario, "name": f"{scenario} (simulated, seed {int(seed)})"},
        **sections,
    }
    return atomic_write_text(Path(out) / "experiment.toml", tomli_w.dumps(exp))


def check_footprint_fits(p: Mapping[str, Any], *, margin_um: float = 0.3) -> None:
    """Raise :class:`InputError` unless the footprint (with its largest offset) fits the field.

    ``p`` holds ``irm_size_px``, ``irm_pixel_size_um``, ``footprint_diameter_um`` and
    ``footprint_offset_um``; ``margin_um`` must stay free at the field's edge.
    """
    half = 0.5 * (p["irm_size_px"] - 1) * p["irm_pixel_size_um"]
    if 0.5 * p["footprint_diameter_um"] + p["footprint_offset_um"] > half - margin_um:
        raise InputError(
            None,
            f"a {p['footprint_diameter_um']} µm footprint (offset ≤ {p['footprint_offset_um']} µm) does not fit "
            f"in a {p['irm_size_px']}×{p['irm_size_px']} px field of {p['irm_pixel_size_um']} µm pixels "
            f"with a {margin_um:g} µm margin",
            "increase irm_size_px or irm_pixel_size_um, or reduce footprint_diameter_um/footprint_offset_um",
        )


def place_footprint(rng: np.random.Generator, p: Mapping[str, Any]) -> tuple[float, float]:
    """Footprint centre (x, y), µm: the field centre shifted by ``footprint_offset_um``·U(0.5, 1)
    in a uniformly random direction (two draws from ``rng``)."""
    half = 0.5 * (p["irm_size_px"] - 1) * p["irm_pixel_size_um"]
    off = p["footprint_offset_um"] * rng.uniform(0.5, 1.0)
    ang = rng.uniform(0, 2 * np.pi)
    return half + off * math.cos(ang), half + off * math.sin(ang)


def jittered_frame_bounds(
    rng: np.random.Generator, p: Mapping[str, Any], duration_s: float
) -> tuple[np.ndarray, float, float]:
    """Movie-clock frame boundaries with jittered intervals and the contact time.

    Frame intervals are ``1/frame_rate_fps`` × (1 ± U(``frame_jitter_frac``)); contact
    (echem t = 0) falls at ``pre_contact_s`` × U(0.8, 1.2), redrawn until it is within
    the middle 70 % of a frame; the movie runs until ``post_record_s`` after the record.

    Returns
    -------
    bounds : ndarray
        n_frames + 1 frame boundaries, s (movie clock).
    offset : float
        Movie-clock time of contact, s.
    dt_nominal : float
        Nominal frame interval, s.
    """
    dt_nom = 1.0 / p["frame_rate_fps"]
    jit = p["frame_jitter_frac"]
    pre_max = 1.2 * p["pre_contact_s"]
    n_b = int(math.ceil((pre_max + duration_s + p["post_record_s"]) / (dt_nom * (1 - jit)))) + 3
    bounds = np.concatenate([[0.0], np.cumsum(dt_nom * (1 + rng.uniform(-jit, jit, n_b)))])
    for _ in range(1000):
        offset = p["pre_contact_s"] * rng.uniform(0.8, 1.2)
        i = int(np.searchsorted(bounds, offset)) - 1
        frac = (offset - bounds[i]) / (bounds[i + 1] - bounds[i])
        if 0.15 < frac < 0.85:
            break
    n_frames = int(np.searchsorted(bounds, offset + duration_s + p["post_record_s"])) + 1
    n_frames = min(n_frames, n_b)
    return bounds[: n_frames + 1], offset, dt_nom


def write_movie_files(
    out: str | os.PathLike, sim: Mapping[str, Any], *, name: str = "irm.tif", mode: str = "irm"
) -> dict[str, str]:
    """Write ``sim["movie"]`` as an ImageJ TYX TIFF ``name`` and ``frame_times.csv`` in ``out``.

    ``sim`` holds ``movie`` (uint16 t×y×x), ``pixel_size_um``, ``frame_interval_s`` and
    ``frame_times_s`` (movie clock, s). Returns the experiment file's ``[movie]`` table.
    """
    from platescope.io._image_writers import write_frame_times_csv, write_imagej_movie

    out = Path(out)
    write_imagej_movie(
        out / name,
        sim["movie"],
        pixel_size_um=sim["pixel_size_um"],
        frame_interval_s=sim["frame_interval_s"],
    )
    write_frame_times_csv(out / "frame_times.csv", sim["frame_times_s"])
    return {"path": name, "mode": mode, "frame_times": "frame_times.csv"}
