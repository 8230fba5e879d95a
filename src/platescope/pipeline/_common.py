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
        Every accepted key with its default value, or a :class:`~platescope._params.Param`
        table (one validation style with ``--set``: a plain default's type is the
        parameter's type — bools take bools, numbers real finite numbers).

    Raises
    ------
    InputError
        An override key that the analysis does not know (names the accepted keys), or
        a value of the wrong type or range (names the experiment file and the key).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> exp = SimpleNamespace(path="e.toml", analysis={"cv": {"smooth": 3}})
    >>> analysis_params(exp, "cv", {"smooth": 1, "order": 2})
    {'smooth': 3, 'order': 2}
    """
    from platescope._params import check_params, param_table

    given = exp.analysis.get(name, {})
    if not isinstance(given, Mapping):
        raise InputError(
            exp.path, f"[analysis.{name}] must be a table", f"write it as [analysis.{name}]"
        )
    return check_params(param_table(defaults), given, section=f"analysis.{name}", path=exp.path)


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


def read_echem_section(exp):
    """Read the experiment's ``[echem]`` record, for the electrode the file names.

    ``[echem] electrode = "counter"`` analyses the other electrode of a two-electrode
    cell (e.g. the plated side of a symmetric Li‖Li cell whose working electrode is
    stripped): current and potential change sign (E_counter = −E_we for a cell voltage
    record; cathodic = plating on that electrode stays negative). It is never guessed:
    without the key the working electrode is analysed.
    """
    from platescope import io

    sec = exp.echem
    echem = io.read_echem(sec["path"], timezone=sec.get("timezone"))
    side = sec.get("electrode", "working")
    if side == "counter":
        attrs = dict(echem.attrs)
        echem = echem.assign(potential_V=-echem["potential_V"], current_A=-echem["current_A"])
        if "charge_C" in echem.columns:
            echem["charge_C"] = -echem["charge_C"]
        if "ox_red" in echem.columns:
            echem["ox_red"] = 1 - echem["ox_red"]
        echem.attrs = attrs
        echem.attrs["electrode"] = "counter"
        echem.attrs["electrode_note"] = (
            "counter electrode: current and potential sign-flipped from the file's working "
            'electrode ([echem] electrode = "counter")'
        )
    else:
        echem.attrs["electrode"] = "working"
    return echem


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
        min_frames=3,  # every movie analysis is a time series
    )


# --------------------------------------------------------------------------- warnings
#: Warning codes are short kebab-case identifiers, stable across versions, e.g.
#: ``"ce-above-one"``, ``"truncated-file"``, ``"fit-at-bound"``, ``"objects-excluded"``.
WARNING_KEYS = ("code", "message", "where")


def add_warning(summary: dict, code: str, message: str, where: str) -> None:
    """Append ``{code, message, where}`` to ``summary["warnings"]`` (no duplicates).

    Parameters
    ----------
    summary : dict
        The summary being built.
    code : str
        Stable kebab-case identifier of the kind of doubt (``"ce-above-one"``).
    message : str
        One or two sentences a researcher can act on.
    where : str
        Dotted path of the quantity concerned in ``summary.json``
        (``"echem.cycles[2].CE"``) or an input role (``"inputs.echem"``).

    Examples
    --------
    >>> s = {}
    >>> add_warning(s, "fit-at-bound", "the exponent sits at its bound", "particles.fit")
    >>> add_warning(s, "fit-at-bound", "the exponent sits at its bound", "particles.fit")
    >>> s["warnings"]
    [{'code': 'fit-at-bound', 'message': 'the exponent sits at its bound', 'where': 'particles.fit'}]
    """
    item = {"code": str(code), "message": str(message), "where": str(where)}
    bucket = summary.setdefault("warnings", [])
    if item not in bucket:
        bucket.append(item)


def collect_warnings(summary: dict) -> dict:
    """Move every nested ``warnings`` list of a summary to the top-level list.

    Library analyses report doubts inside their result (a ``"warnings"`` list of
    ``{code, message}`` dicts, or ``DataFrame.attrs["warnings"]`` carried into the
    result by the runner). This hoists them to ``summary["warnings"]`` with ``where``
    set to the dotted path of the dict that held them (unless the item names its own),
    so the report and the CLI show them in one place.

    Examples
    --------
    >>> s = {"echem": {"cycles": [{"CE": 1.2, "warnings": [
    ...     {"code": "ce-above-one", "message": "CE > 1.05"}]}]}}
    >>> collect_warnings(s)["warnings"]
    [{'code': 'ce-above-one', 'message': 'CE > 1.05', 'where': 'echem.cycles[0]'}]
    >>> "warnings" in s["echem"]["cycles"][0]
    False
    """
    found: list[tuple[str, Any]] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            if path and isinstance(node.get("warnings"), list):
                found.append((path, node.pop("warnings")))
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    top = summary.get("warnings")
    for k, v in list(summary.items()):
        if k != "warnings":
            walk(v, str(k))
    summary["warnings"] = list(top) if isinstance(top, list) else []
    for path, items in found:
        for w in items:
            if isinstance(w, dict):
                add_warning(
                    summary, w.get("code", "warning"), w.get("message", ""), w.get("where") or path
                )
            else:
                add_warning(summary, "warning", str(w), path)
    return summary


# --------------------------------------------------------------------------- cycles
_CYCLE_KEYS = ("cycle", "t_start_s", "t_end_s", "Q_c_C", "Q_a_C", "CE", "complete")
_CYCLE_ERR_KEYS = ("Q_c_err_C", "Q_a_err_C", "CE_err")


def num_or_none(x):
    """``float(x)`` when finite, else None (for JSON)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def cycle_rows(cycles) -> list[dict]:
    """``echem.cycles[]`` rows from :func:`platescope.echem.cycle_charges` (1σ errors).

    Every row carries ``complete``; an incomplete one its ``incomplete_reason``, a null CE
    its ``CE_reason``. Errors stay 1σ here: the runner expands them once.
    """
    rows = []
    for r in cycles.to_dict("records"):
        row = {
            k: (bool(r[k]) if k == "complete" else int(r[k]) if k == "cycle" else num_or_none(r[k]))
            for k in _CYCLE_KEYS
            if k in r
        }
        row.update({k: num_or_none(r[k]) for k in _CYCLE_ERR_KEYS if k in r})
        if not row.get("complete", True):
            row["incomplete_reason"] = r.get("incomplete_reason")
        if row.get("CE") is None:
            row["CE_reason"] = r.get("CE_reason") or (
                r.get("incomplete_reason") or "no charge in the cycle's first half"
            )
        rows.append(row)
    return rows


def cycles_meta(cycles) -> dict:
    """How the cycles were found: method, CE definition, dropped halves and warnings."""
    a = cycles.attrs
    meta = {"cycles_method": a.get("method"), "ce_definition": a.get("ce_definition")}
    if a.get("dropped"):
        # "note", not "reason": the report hides reason columns except beside a null value
        meta["cycles_dropped"] = [
            {"t_start_s": d.get("t_start_s"), "t_end_s": d.get("t_end_s"), "note": d.get("reason")}
            for d in a["dropped"]
        ]
    if a.get("impedance_samples_excluded"):
        meta["impedance_samples_excluded"] = a["impedance_samples_excluded"]
    meta["warnings"] = list(a.get("warnings") or [])
    return {k: v for k, v in meta.items() if v is not None}


def ce_headline(rows: list[dict]) -> str | None:
    """``"CE 0.25 → 0.85 over 10 complete cycles"`` from complete cycles only (None if none).

    >>> ce_headline([{"CE": 0.5, "complete": True}, {"CE": 0.9, "complete": True},
    ...              {"CE": 0.1, "complete": False}])
    'CE 0.50 → 0.90 over 2 complete cycles (1 incomplete or without CE not shown)'
    """
    done = [r for r in rows if r.get("complete", True) and r.get("CE") is not None]
    if not done:
        return None
    rest = len(rows) - len(done)
    tail = f" ({rest} incomplete or without CE not shown)" if rest else ""
    if len(done) == 1:
        return f"CE {done[0]['CE']:.2f} (1 complete cycle){tail}"
    return f"CE {done[0]['CE']:.2f} → {done[-1]['CE']:.2f} over {len(done)} complete cycles{tail}"
