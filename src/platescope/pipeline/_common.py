"""Pieces every scenario runner shares: analysis parameters and the uncertainty convention.

A scenario runner is ``run(exp, out, summary) -> None``: it reads the inputs named
in ``exp`` (an :class:`~platescope.io.Experiment`), writes tables, maps and figures
through ``out`` (a :class:`~platescope.pipeline._outputs.StagedOutput`) and fills
``summary`` in place. It records the parameters it used under
``summary["parameters"][<analysis>]``, anything it could not run under
``summary["skipped"]`` (``{"analysis": ..., "reason": ...}``) and may set
``summary["headline"]`` — one line for the demo index.

Analyses return standard (1σ) errors; a runner passes each result dict through
:func:`expand_errors` exactly once so every ``*_err`` in ``summary.json`` is an
expanded (k = 2, ≈95 %) uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from platescope._errors import InputError


def analysis_params(exp, name: str, defaults: Mapping[str, Any]) -> dict:
    """Defaults of analysis ``name`` updated by the experiment's ``[analysis.<name>]``.

    Parameters
    ----------
    exp : Experiment
        The parsed experiment file (its ``analysis`` dict holds the overrides).
    name : str
        Analysis name, e.g. ``"galvanostatic"``.
    defaults : mapping
        Every accepted key with its default value.

    Raises
    ------
    InputError
        An override key that the analysis does not know (names the accepted keys).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> exp = SimpleNamespace(path="e.toml", analysis={"cv": {"smooth": 3}})
    >>> analysis_params(exp, "cv", {"smooth": 1, "order": 2})
    {'smooth': 3, 'order': 2}
    """
    p = dict(defaults)
    given = exp.analysis.get(name, {})
    if not isinstance(given, Mapping):
        raise InputError(
            exp.path, f"[analysis.{name}] must be a table", f"write it as [analysis.{name}]"
        )
    unknown = set(given) - set(p)
    if unknown:
        raise InputError(
            exp.path,
            f"[analysis.{name}] has unknown key(s) {', '.join(sorted(unknown))}",
            f"use only {', '.join(sorted(p))}",
        )
    p.update(given)
    return p


def k95(err):
    """Standard error → expanded (k = 2, ≈95 %) uncertainty, the summary's convention.

    >>> k95(0.5), k95(None), k95(float("nan"))
    (1.0, None, None)
    """
    return None if err is None or not np.isfinite(err) else 2.0 * float(err)


def is_err_key(key: str) -> bool:
    """Whether a summary key holds an uncertainty (``*_err`` or ``*_err_*``)."""
    key = str(key)
    return key.endswith("_err") or "_err_" in key


def expand_errors(d):
    """Copy of a result dict with every ``*_err`` standard error turned into k = 2.

    >>> expand_errors({"D": 1.0, "D_err": 0.1, "rows": [{"x_err": 2}]})
    {'D': 1.0, 'D_err': 0.2, 'rows': [{'x_err': 4.0}]}
    """
    if isinstance(d, dict):
        return {
            k: k95(v)
            if is_err_key(k) and isinstance(v, int | float) and not isinstance(v, bool)
            else expand_errors(v)
            for k, v in d.items()
        }
    if isinstance(d, list):
        return [expand_errors(v) for v in d]
    return d


def read_movie_section(section: Mapping[str, Any], *, default_mode: str | None = None):
    """Read the movie an experiment section (``[movie]``, ``[epi]``) names, with its options.

    Parameters
    ----------
    section : mapping
        The section: ``path`` and optionally ``frame_times``, ``pixel_size_um``,
        ``frame_interval_s``, ``mode``.
    default_mode : str, optional
        ``mode`` when the section gives none (``"irm"``, ``"trans"``, ``"epi"``).
    """
    from platescope import io

    return io.read_movie(
        section["path"],
        frame_times=section.get("frame_times"),
        pixel_size_um=section.get("pixel_size_um"),
        frame_interval_s=section.get("frame_interval_s"),
        mode=section.get("mode", default_mode),
    )
