"""Typed parameters: one validation style for ``--set`` options and experiment files.

A :class:`Param` states a parameter's type, unit (in ``doc``), default and range. The
simulators' ``--set`` keys and every analysis step's ``[analysis.<name>]`` keys are
tables of them, so a wrong value is refused the same way everywhere, with an error
that names where the value came from (the command line or the experiment file and
key) and what would be accepted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from platescope._errors import InputError

__all__ = ["ANY", "Param", "check_params", "param_table"]

#: ``kind`` of a parameter that takes more than one type (e.g. a threshold that is a
#: method name or a number): only "a real, finite number or a string" is checked.
ANY = object


@dataclass(frozen=True)
class Param:
    """One parameter.

    Attributes
    ----------
    default : float, int, bool, str or None
        Default value; ``None`` means "derived from other parameters" (see ``doc``).
    kind : type
        ``float``, ``int``, ``bool``, ``str``, ``list`` or :data:`ANY`.
    doc : str
        Meaning, with units.
    low, high : float, optional
        Inclusive bounds for numbers.
    low_exclusive : bool
        Whether ``low`` itself is excluded (e.g. strictly positive quantities).
    choices : tuple of str, optional
        The accepted values of a ``str`` parameter.

    Examples
    --------
    >>> Param(2.0, float, "smoothing (s)", low=0).coerce("smooth_s", "3")
    3.0
    >>> Param(1, int, "order").coerce("order", 2.0)
    2
    """

    default: Any
    kind: type
    doc: str
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    choices: tuple | None = None

    def accepted(self) -> str:
        """What the parameter accepts, in words (for error messages)."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is ANY:
            return "a number or a word"
        rng = ""
        if self.low is not None or self.high is not None:
            lo = "(" if self.low_exclusive else "["
            rng = f" in {lo}{self.low}, {self.high}]"
        return f"{self.kind.__name__}{rng}"

    def coerce(
        self,
        key: str,
        value: Any,
        accepted: Iterable[str] = (),
        *,
        source: str | None = None,
        path=None,
    ) -> Any:
        """Convert ``value`` (possibly a string from ``--set``) and check its type and range.

        Parameters
        ----------
        key : str
            The parameter's name.
        value : any
            The given value.
        accepted : iterable of str
            Unused (kept for callers that pass the table's keys).
        source : str, optional
            Where the value came from, for the error (default ``--set key=value``;
            e.g. ``"[analysis.sem] sigma_nm"``).
        path : path, optional
            The file that gave the value (the experiment file).

        Raises
        ------
        InputError
            Wrong type, out of range or not one of ``choices``.
        """
        where = source or f"--set {key}"
        from_text = isinstance(value, str) and source is None

        def bad(problem: str) -> InputError:
            if isinstance(value, bool):
                shown = "true" if value else "false"  # as the TOML file spells it
            elif isinstance(value, str | int | float):
                shown = repr(value)
            else:
                shown = f"a {type(value).__name__}"
            return InputError(
                path,
                f"{where} = {shown}: {problem}",
                f"give {key} as {self.accepted()}" + (f" ({self.doc})" if self.doc else ""),
            )

        if value is None or (
            isinstance(value, str) and value.strip().lower() in ("none", "auto", "")
        ):
            if self.default is None:
                return None
            if self.kind in (str, ANY) and isinstance(value, str) and value.strip():
                pass  # "auto" may be a legitimate word of a string parameter
            else:
                raise bad("this parameter has no automatic value")
        try:
            out = self._convert(value, from_text)
        except (TypeError, ValueError):
            raise bad(f"not a valid {getattr(self.kind, '__name__', 'value')}") from None
        if self.kind in (int, float):
            if self.low is not None and (
                out < self.low or (self.low_exclusive and out == self.low)
            ):
                raise bad("out of range")
            if self.high is not None and out > self.high:
                raise bad("out of range")
        if self.choices and out not in self.choices:
            raise bad("not an accepted value")
        return out

    def _convert(self, value: Any, from_text: bool) -> Any:
        kind = self.kind
        if kind is bool:
            if isinstance(value, bool):
                return value
            if from_text and isinstance(value, str):
                v = value.strip().lower()
                if v in ("true", "1", "yes"):
                    return True
                if v in ("false", "0", "no"):
                    return False
            if from_text and isinstance(value, int | float) and value in (0, 1):
                return bool(value)
            raise ValueError(value)
        if isinstance(value, bool):  # True is not a number of anything
            raise ValueError(value)
        if kind is int:
            if isinstance(value, str) and not from_text:
                raise ValueError(value)
            f = float(value)
            if not f.is_integer():
                raise ValueError(value)
            return int(f)
        if kind is float:
            if isinstance(value, str) and not from_text:
                raise ValueError(value)
            out = float(value)
            if not math.isfinite(out):
                raise ValueError(value)
            return out
        if kind is str:
            if not isinstance(value, str) and not from_text:
                if isinstance(value, int | float):
                    return str(value)
                raise ValueError(value)
            return str(value)
        if kind is list:
            if not isinstance(value, list | tuple):
                raise ValueError(value)
            return list(value)
        # ANY: a finite number or a string, nothing else
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and math.isfinite(float(value)):
            return value
        raise ValueError(value)


def param_table(defaults: Mapping[str, Any]) -> dict[str, Param]:
    """A :class:`Param` table from plain defaults (the kind inferred from each value).

    ``Param`` entries are kept as they are; a bool default takes bools, an int default
    whole numbers, a float default real numbers, a string or None default a number or
    a word, a list default a list.

    Examples
    --------
    >>> t = param_table({"smooth": 3, "method": "otsu", "tol": Param(0.1, float, "tolerance")})
    >>> t["smooth"].kind.__name__, t["method"].kind is ANY, t["tol"].doc
    ('int', True, 'tolerance')
    """
    table = {}
    for key, v in defaults.items():
        if isinstance(v, Param):
            table[key] = v
        elif isinstance(v, bool):
            table[key] = Param(v, bool, "")
        elif isinstance(v, int):
            table[key] = Param(v, int, "")
        elif isinstance(v, float):
            table[key] = Param(v, float, "")
        elif isinstance(v, list | tuple):
            table[key] = Param(list(v), list, "")
        else:
            table[key] = Param(v, ANY, "")
    return table


def check_params(
    table: Mapping[str, Param], given: Mapping[str, Any], *, section: str, path=None
) -> dict[str, Any]:
    """Defaults of ``table`` updated by the validated values of ``given``.

    Parameters
    ----------
    table : mapping of str to Param
        Every accepted key.
    given : mapping
        Values from the experiment file's ``[analysis.<name>]`` (or ``--set``).
    section : str
        The section's name for messages, e.g. ``"analysis.sem"``.
    path : path, optional
        The experiment file, named in errors.

    Raises
    ------
    InputError
        An unknown key (the accepted ones are listed) or a wrong value.

    Examples
    --------
    >>> check_params(param_table({"smooth": 3, "on": True}), {"smooth": 5}, section="analysis.cv")
    {'smooth': 5, 'on': True}
    """
    unknown = sorted(set(given) - set(table))
    if unknown:
        raise InputError(
            path,
            f"[{section}] has unknown key(s) {', '.join(unknown)}",
            f"use only {', '.join(sorted(table))}",
        )
    out = {k: p.default for k, p in table.items()}
    for key, value in given.items():
        p = table[key]
        if p.kind is ANY and value is not None and not isinstance(value, str | int | float):
            raise InputError(
                path,
                f"[{section}] {key} is a {type(value).__name__}",
                f"give {key} as a number or a word",
            )
        out[key] = p.coerce(key, value, table, source=f"[{section}] {key}", path=path)
    return out
