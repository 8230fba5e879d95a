"""Compare an analysis with the truth a simulator planted (validation and tests).

A simulated experiment (``platescope simulate``) writes ``truth/truth.json`` with the
keys of ``summary.json``; an analysis of it writes ``summary.json``. These helpers pair
the two and tabulate, for every number present in both, the error and whether the
summary's stated uncertainty (``*_err``, k = 2) covers it.

Public API
----------
load_truth(sim_dir) -> dict
load_pair(sim_dir, result_dir) -> (truth, summary)
compare_summary(summary, truth, *, keys=None) -> pandas.DataFrame
err_key(summary_dict, key) -> str or None
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["compare_summary", "err_key", "load_pair", "load_truth"]


def load_truth(sim_dir) -> dict:
    """``truth/truth.json`` of a simulated experiment folder (or the file itself)."""
    p = Path(sim_dir)
    if p.is_dir():
        p = p / "truth" / "truth.json"
    return json.loads(p.read_text(encoding="utf-8"))


def load_pair(sim_dir, result_dir) -> tuple[dict, dict]:
    """The planted truth and the analysis summary of one simulated run.

    Parameters
    ----------
    sim_dir : path
        The ``simulate`` output folder (``truth/truth.json`` inside).
    result_dir : path
        The ``analyze`` output folder (``summary.json`` inside).
    """
    summary = json.loads((Path(result_dir) / "summary.json").read_text(encoding="utf-8"))
    return load_truth(sim_dir), summary


def err_key(d: Mapping[str, Any], key: str) -> str | None:
    """The key of ``d`` holding the uncertainty of ``d[key]``, if any.

    platescope names it ``<key>_err`` or, for keys ending in a unit, with ``_err``
    before the unit (``Q_c_C`` → ``Q_c_err_C``, ``D_cm2_s`` → ``D_err_cm2_s``).

    Examples
    --------
    >>> err_key({"CE": 0.9, "CE_err": 0.01}, "CE")
    'CE_err'
    >>> err_key({"Q_c_C": 1.0, "Q_c_err_C": 0.1}, "Q_c_C")
    'Q_c_err_C'
    >>> err_key({"D_cm2_s": 1e-11, "D_err_cm2_s": 1e-12}, "D_cm2_s")
    'D_err_cm2_s'
    >>> err_key({"x": 1.0}, "x") is None
    True
    """
    if f"{key}_err" in d:
        return f"{key}_err"
    parts = key.split("_")
    for cut in range(len(parts) - 1, 0, -1):
        cand = "_".join(parts[:cut]) + "_err_" + "_".join(parts[cut:])
        if cand in d:
            return cand
    return None


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def _leaves(d, prefix=""):
    if isinstance(d, Mapping):
        for k, v in d.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if _is_number(v):
                yield path, d, str(k)
            else:
                yield from _leaves(v, path)
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _leaves(v, f"{prefix}[{i}]")


def _get(d, path: str):
    node = d
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, Mapping):
            if part not in node:
                return None
            node = node[part]
        else:
            return None
    return node


def compare_summary(summary: Mapping, truth: Mapping, *, keys: Iterable[str] | None = None):
    """Every number of ``truth`` that the summary also reports, with its error.

    Parameters
    ----------
    summary : mapping
        ``summary.json`` of the analysis.
    truth : mapping
        ``truth.json`` of the simulation (same key paths).
    keys : iterable of str, optional
        Dotted paths to compare (``"echem.galvanostatic.E_nuc_V"``,
        ``"echem.cycles[2].CE"``); default every numeric leaf of ``truth`` except
        uncertainties.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``truth``, ``value``, ``error`` (value − truth), ``rel_error``,
        ``uncertainty`` (the summary's k = 2 ``*_err``, NaN when it gives none) and
        ``covered`` (|error| ≤ uncertainty; None without an uncertainty).

    Examples
    --------
    >>> s = {"echem": {"E_nuc_V": -0.101, "E_nuc_err_V": 0.002}}
    >>> t = {"echem": {"E_nuc_V": -0.100}}
    >>> row = compare_summary(s, t).iloc[0]
    >>> row["key"], round(float(row["error"]), 6), bool(row["covered"])
    ('echem.E_nuc_V', -0.001, True)
    """
    import pandas as pd

    from platescope.pipeline._common import is_err_key

    if keys is None:
        paths = [(p, k) for p, _, k in _leaves(truth) if not is_err_key(k)]
    else:
        paths = [(p, p.rsplit(".", 1)[-1]) for p in keys]
    rows = []
    for path, key in paths:
        t = _get(truth, path)
        v = _get(summary, path)
        if not (_is_number(t) and _is_number(v)):
            continue
        parent_path = path[: -len(key) - 1] if path.endswith(key) and path != key else ""
        parent = _get(summary, parent_path) if parent_path else summary
        ek = err_key(parent, key) if isinstance(parent, Mapping) else None
        u = parent.get(ek) if ek else None
        u = float(u) if _is_number(u) else math.nan
        err = float(v) - float(t)
        rows.append(
            {
                "key": path,
                "truth": float(t),
                "value": float(v),
                "error": err,
                "rel_error": err / float(t) if float(t) != 0 else math.nan,
                "uncertainty": u,
                "covered": (abs(err) <= u) if math.isfinite(u) else None,
            }
        )
    cols = ["key", "truth", "value", "error", "rel_error", "uncertainty", "covered"]
    return pd.DataFrame(rows, columns=cols)
