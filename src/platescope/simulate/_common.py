"""Shared machinery of the simulators: scenario registry, parameters, safe writing.

A scenario is a function ``fn(out, *, seed=0, **params) -> Path`` registered with
:func:`register` together with its parameter table (:class:`Param`). The table gives
every accepted ``--set`` key, its type, unit, default and allowed range, so the
command line, :func:`simulate` and the scenario function validate overrides the same
way and name the accepted keys when a key or value is wrong.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platescope._atomic import _atomic_target, atomic_write_json, atomic_write_text
from platescope._errors import InputError

__all__ = [
    "SCENARIOS",
    "Param",
    "atomic_write_text",
    "parse_set_options",
    "prepare_output_dir",
    "register",
    "resolve_params",
    "simulate",
    "write_json_atomic",
]

#: name → scenario function; each function carries ``.parameters`` (name → Param).
SCENARIOS: dict[str, Callable[..., Path]] = {}


@dataclass(frozen=True)
class Param:
    """One scenario parameter.

    Attributes
    ----------
    default : float, int, bool, str or None
        Default value; ``None`` means "derived from other parameters" (see ``doc``).
    kind : type
        ``float``, ``int``, ``bool`` or ``str``.
    doc : str
        Meaning, with units.
    low, high : float, optional
        Inclusive bounds for numbers.
    low_exclusive : bool
        Whether ``low`` itself is excluded (e.g. strictly positive quantities).
    """

    default: Any
    kind: type
    doc: str
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False

    def coerce(self, key: str, value: Any, accepted: Iterable[str]) -> Any:
        """Convert ``value`` (possibly a string from ``--set``) and check its range."""

        def bad(problem: str) -> InputError:
            return InputError(
                None,
                f"--set {key}={value!r}: {problem}",
                f"give {key} as {self.kind.__name__}"
                + (
                    f" in [{self.low}, {self.high}]"
                    if self.low is not None or self.high is not None
                    else ""
                )
                + f" ({self.doc})",
            )

        if value is None or (
            isinstance(value, str) and value.strip().lower() in ("none", "auto", "")
        ):
            if self.default is None:
                return None
            raise bad("this parameter has no automatic value")
        try:
            if self.kind is bool:
                if isinstance(value, str):
                    v = value.strip().lower()
                    if v not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(value)
                    out: Any = v in ("true", "1", "yes")
                else:
                    out = bool(value)
            elif isinstance(value, bool):  # True is not a number of anything
                raise ValueError(value)
            elif self.kind is int:
                f = float(value)
                if not f.is_integer():
                    raise ValueError(value)
                out = int(f)
            elif self.kind is float:
                out = float(value)
                if not math.isfinite(out):
                    raise ValueError(value)
            else:
                out = str(value)
        except (TypeError, ValueError):
            raise bad(f"not a valid {self.kind.__name__}") from None
        if self.kind in (int, float):
            if self.low is not None and (
                out < self.low or (self.low_exclusive and out == self.low)
            ):
                raise bad("out of range")
            if self.high is not None and out > self.high:
                raise bad("out of range")
        return out


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
        raise InputError(
            None, f"unknown scenario {scenario!r}", f"use one of: {', '.join(sorted(SCENARIOS))}"
        )
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
    return fn(out, seed=seed, **params)


def prepare_output_dir(out: str | os.PathLike, scenario: str) -> Path:
    """Create ``out`` (and ``out/truth``); refuse a folder holding another scenario.

    An existing ``experiment.toml`` of the same scenario is fine (its files get
    overwritten); one of another scenario, or one that cannot be read, raises
    :class:`InputError` so nothing of someone else's is overwritten.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder", "choose a folder for --out")
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


write_json_atomic = atomic_write_json
