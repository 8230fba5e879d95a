"""The self-contained HTML report and the demo index.

One HTML file per analysis: figures embedded as base64 data URIs, CSS inline, no
external resource and no JavaScript, so the file can be mailed or archived on its own.
The "Key results" are rendered generically from the nested ``summary`` dict (DESIGN.md
§3): units come from key suffixes (``_V``, ``_s``, ``_nm``, ``_cm2`` …), uncertainties
from ``*_err`` keys, and null values are shown as "—" with their reason.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from platescope._atomic import atomic_write_text
from platescope.report._keys import (  # noqa: F401 (also used by name in tests/others)
    _FRACTIONS,
    _NICE,
    _STATS,
    _UNITS,
    _ci_keys,
    _err_keys,
    _find_err,
    _is_value_dict,
    _label,
    _reason_for,
    _split_key,
)

__all__ = ["format_number", "format_value", "render_index", "render_report"]

_DASH = "—"
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

_SECTION_TITLES: dict[str, str] = {
    "echem": "Electrochemistry",
    "galvanostatic": "Galvanostatic nucleation",
    "stages": "Stages",
    "cycles": "Cycles",
    "optics": "Optics",
    "t_nuc_map": "t_nuc(IRM) map",
    "alpha": "α (IRM ↔ charge)",
    "ce_irm": "CE(IRM) per cycle",
    "alloying": "Alloying steps",
    "particles": "Particles (SEM)",
    "edge": "Edge ring",
    "center": "Centre",
    "centre": "Centre",
    "pores": "Pores",
    "colocalization": "Colocalisation (Pearson r)",
    "spatial": "Spatial statistics",
    "sims": "SIMS tracer diffusion",
    "combinatorial": "Combinatorial (per condition)",
    "sync": "Clock synchronisation",
}
_SECTION_ORDER = (
    "sync",
    "echem",
    "optics",
    "particles",
    "pores",
    "colocalization",
    "spatial",
    "sims",
    "combinatorial",
)
_META_KEYS = {
    "scenario",
    "platescope_version",
    "version",
    "inputs",
    "parameters",
    "skipped",
    "experiment",
    "experiment_name",
    "name",
    "timestamps",
    "created_utc",
    "started_utc",
    "finished_utc",
    "analysed_utc",
    "created",
    "warnings",
    "figures",
    "tables",
    "maps",
    "outputs",
    "python",
    "experiment_file",
    "files_read",
    "headline",
    "uncertainty_convention",
}
_TIMESTAMP_KEYS = ("created_utc", "started_utc", "finished_utc", "analysed_utc", "created")

_CSS = """
:root { --fg:#1d1d1f; --muted:#666; --line:#d9d9de; --accent:#0b5cad; --warn:#8a4b00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  color: var(--fg); max-width: 1180px; margin: 1.5rem auto 4rem; padding: 0 1.2rem;
  line-height: 1.45; font-size: 15px; overflow-wrap: anywhere; }
header { border-bottom: 2px solid var(--accent); margin-bottom: 1rem; padding-bottom: .6rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h1 .sub { font-weight: 400; color: var(--muted); }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line);
  padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; color: #333; }
h4 { font-size: .98rem; margin: 1rem 0 .3rem; color: #444; }
nav { font-size: .92rem; margin: .4rem 0 0; }
nav a { margin-right: .9rem; white-space: nowrap; }
a { color: var(--accent); }
.meta { color: var(--muted); font-size: .9rem; margin: .2rem 0; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .3rem 0 1rem; font-size: .93rem; }
th, td { padding: .28rem .7rem; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; overflow-wrap: normal; }
th { background: #f3f4f7; font-weight: 600; }
td.v { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.k { font-weight: 600; }
table.kv { width: 100%; }
table.kv td.k { width: 40%; }
table.kv td.v { white-space: normal; }
table.t td.v { white-space: nowrap; }
table.t th { white-space: nowrap; }
table.transposed td.k { white-space: nowrap; }
.u { color: #444; }
.what { color: var(--muted); font-size: .86rem; font-weight: 400; }
.null { color: var(--warn); }
.reason { color: var(--warn); font-size: .88rem; }
ul.skipped li { margin: .2rem 0; }
section.headline { border: 1px solid #b9cde6; background: #f4f8fd; border-radius: 8px;
  padding: .6rem 1rem .7rem; margin: 1rem 0; }
section.headline h2 { margin: .2rem 0 .5rem; border: 0; }
.lead { margin: 0 0 .6rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .6rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .45rem .7rem; }
.card .lab { font-size: .88rem; color: #333; font-weight: 600; }
.card .val { font-size: 1.15rem; font-variant-numeric: tabular-nums; margin: .1rem 0; }
.card .what { display: block; }
.conv { font-size: .86rem; color: var(--muted); margin: .6rem 0 0; }
section.banner { border: 2px solid #c77700; background: #fff6e5; padding: .4rem 1rem; margin: 1rem 0; border-radius: 6px; }
section.banner h2 { margin-top: .3rem; color: #8a4b00; border: 0; }
section.analysis { margin-top: 1.6rem; }
.pair { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 1.4rem;
  align-items: start; }
.pair.nofig { grid-template-columns: minmax(0, 1fr); }
.nums { min-width: 0; }
.figs { min-width: 0; }
figure { margin: 0 0 1.4rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; background: #fff; }
figcaption { font-size: .9rem; color: #333; margin-top: .3rem; }
figcaption .files { color: var(--muted); font-size: .82rem; }
.wide-figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 30rem), 1fr));
  gap: 1.2rem; align-items: start; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .88em;
  background: #f4f4f6; padding: 0 .25em; border-radius: 3px; overflow-wrap: anywhere; }
details { margin: .3rem 0 .6rem; }
details summary { cursor: pointer; color: var(--accent); font-size: .92rem; }
.long { white-space: normal; display: inline-block; min-width: 14rem; max-width: 28rem; }
details.cell { margin: 0; white-space: normal; min-width: 14rem; max-width: 30rem; }
details.cell[open] { font-size: .85rem; }
details > :not(summary) { margin-left: .6rem; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem;
  border-top: 1px solid var(--line); padding-top: .5rem; }
@media (max-width: 900px) { .pair { grid-template-columns: minmax(0, 1fr); } }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  nav, .files { display: none; }
  a { color: inherit; text-decoration: none; }
  .pair { grid-template-columns: minmax(0, 1fr); }
  figure, .card, section.headline, section.banner, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  details > summary { list-style: none; font-weight: 600; color: var(--fg); }
  details::details-content { content-visibility: visible; display: block; }
  .scroll { overflow: visible; }
  table.t { font-size: 8.5pt; }
}
"""


# --------------------------------------------------------------------------- formatting
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _pow10(exp: int) -> str:
    return f"10{str(exp).translate(_SUP)}"


def format_number(x: Any, *, sig: int = 4) -> str:
    """Human-readable text for one number.

    3–4 significant figures; scientific notation (``1.10×10⁹``) for magnitudes at or
    above 10⁵ or below 10⁻³; integers as they are; booleans as yes/no; NaN, inf and
    None as "—".

    Parameters
    ----------
    x : number, bool or None
        The value.
    sig : int, optional
        Significant figures, default 4 (3 in scientific notation).

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(1.1e9), format_number(-0.05812), format_number(17.7), format_number(12)
    ('1.10×10⁹', '-0.05812', '17.7', '12')
    """
    if x is None:
        return _DASH
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, numbers.Integral):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return _DASH
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag >= 5 or mag < -3:
        mant = v / 10**mag
        if round(abs(mant), sig - 2) >= 10:  # 9.996e8 → 1.00×10⁹
            mant, mag = mant / 10, mag + 1
        return f"{mant:.{sig - 2}f}×{_pow10(mag)}"
    if mag >= sig - 1:
        return f"{v:.0f}"
    return f"{v:.{sig - 1 - mag}f}".rstrip("0").rstrip(".")


def _format_pm(v: float, err: float) -> str:
    """``value ± err`` with the error to 2 significant figures and the value to match."""
    big = max(abs(v), abs(err))
    mag = math.floor(math.log10(big)) if big > 0 else 0
    scale_txt = ""
    if mag >= 5 or mag < -3:
        v, err = v / 10**mag, err / 10**mag
        scale_txt = "×" + _pow10(mag)
    emag = math.floor(math.log10(abs(err)))
    decimals = min(max(0, 1 - emag), 10)
    text = f"{v:.{decimals}f} ± {abs(err):.{decimals}f}"
    return f"({text}){scale_txt}" if scale_txt else text


def format_value(value: Any, *, err: Any = None, unit: str = "", ci95: Any = None) -> str:
    """Plain text for ``value ± err unit`` (no HTML).

    Parameters
    ----------
    value : number, bool, str or None
        The value; None or NaN gives "—".
    err : number, optional
        Its uncertainty, same unit; shown when finite and > 0.
    unit : str, optional
        Unit text appended after a space.
    ci95 : sequence of two numbers, optional
        A 95 % interval, shown in brackets.

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(-0.0581, err=0.0012, unit="V")
    '-0.0581 ± 0.0012 V'
    >>> format_value(1.1e9, err=8e7, unit="cm⁻²")
    '(1.100 ± 0.080)×10⁹ cm⁻²'
    """
    if value is None or (_is_number(value) and not math.isfinite(float(value))):
        return _DASH
    if isinstance(value, str):
        return value
    if not _is_number(value):
        return format_number(value)
    ok_err = _is_number(err) and math.isfinite(float(err)) and float(err) > 0
    text = _format_pm(float(value), float(err)) if ok_err else format_number(value)
    if unit:
        text = f"{text} {unit}"
    if (
        isinstance(ci95, Sequence)
        and not isinstance(ci95, str)
        and len(ci95) == 2
        and all(_is_number(c) for c in ci95)
    ):
        text += f" [95 % CI {format_number(ci95[0])} to {format_number(ci95[1])}]"
    return text


# --------------------------------------------------------------------------- links
def _locate(target: Any, base_dir: Path) -> Path:
    """Where a path given in the summary or by the caller is on disk.

    Relative paths are taken relative to the report's folder when they exist there
    (the pipeline's convention), else relative to the working folder.
    """
    p = Path(os.fspath(target))
    if p.is_absolute() or (base_dir / p).exists() or not p.exists():
        return p if p.is_absolute() else base_dir / p
    return p.resolve()


def _href(target: Any, base_dir: Path) -> str:
    p = _locate(target, base_dir)
    try:
        rel = Path(os.path.relpath(p, base_dir))
    except ValueError:  # another drive on Windows
        return "file://" + quote(p.as_posix())
    return quote(rel.as_posix(), safe="/._-~")


def _link(target: Any, base_dir: Path, text: str | None = None) -> str:
    return f'<a href="{_e(_href(target, base_dir))}"><code>{_e(text or target)}</code></a>'


# --------------------------------------------------------------------------- results
def _is_path_key(key: str) -> bool:
    return key == "path" or key.endswith("_path")


def _cell(
    d: Mapping[str, Any], key: str, base_dir: Path, consumed: set[str], *, with_unit: bool = True
) -> str:
    """HTML of one value of ``d`` (with its error, unit, reason)."""
    value = d[key]
    _label_txt, unit, _what = _label(key)
    if _is_path_key(key) and isinstance(value, str):
        return _link(value, base_dir)
    if value is None or (_is_number(value) and not math.isfinite(float(value))):
        reason = _reason_for(d, key)
        out = f'<span class="null">{_DASH}</span>'
        if reason:
            out += f' <span class="reason">({_e(reason)})</span>'
        return out
    if isinstance(value, Mapping):
        if not with_unit:  # a cell of a table: folded, so the table stays narrow
            n = len(_flatten(value))
            return (
                f'<details class="cell"><summary>{n} value{"s" if n != 1 else ""}</summary>'
                f"{_inline_dict(value, base_dir)}</details>"
            )
        return _inline_dict(value, base_dir)
    if isinstance(value, list | tuple):
        if not value:
            return '<span class="empty">none</span>'
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            items = ", ".join(_e(format_value(v)) for v in value)
            return f"[{items}]" + (f' <span class="u">{_e(unit)}</span>' if unit else "")
        return _e(f"{len(value)} entries")
    err_key, err = _find_err(d, key)
    if err_key:
        consumed.add(err_key)
    ci = None
    for ck in _ci_keys(key):
        if ck in d:
            ci = d[ck]
            consumed.add(ck)
            break
    text = format_value(value, err=err, ci95=ci)
    out = _e(text)
    if isinstance(value, str) and len(value) > _LONG_TEXT:
        out = f'<span class="long">{out}</span>'  # prose wraps instead of widening a table
    if with_unit and unit and not isinstance(value, str | bool):
        out += f' <span class="u">{_e(unit)}</span>'
    stem = _split_key(key)[0]
    if stem in _FRACTIONS and _is_number(value) and abs(float(value)) <= 1.5:
        out += f' <span class="what">({format_number(100 * float(value), sig=3)} %)</span>'
    return out


def _inline_dict(d: Mapping[str, Any], base_dir: Path) -> str:
    parts = []
    consumed: set[str] = set()
    for k in d:
        if k in consumed or k == "reason" or k.endswith("_reason"):
            continue
        label, _u, _w = _label(k)
        parts.append(f"{_e(label)} = {_cell(d, k, base_dir, consumed)}")
    return "; ".join(parts)


def _value_dict_row(key: str, d: Mapping[str, Any], base_dir: Path) -> tuple[str, str, str]:
    """A ``{value, value_err, units, r2, ...}`` dict as one result row."""
    label, unit, what = _label(key)
    unit = str(d.get("units") or d.get("unit") or unit)
    value = d.get("value")
    if value is None or (_is_number(value) and not math.isfinite(float(value))):
        reason = d.get("reason") or _reason_for(d, "value")
        main = f'<span class="null">{_DASH}</span>'
        if reason:
            main += f' <span class="reason">({_e(reason)})</span>'
    else:
        err = d.get("value_err", d.get("err"))
        main = _e(format_value(value, err=err, ci95=d.get("value_ci95") or d.get("ci95")))
        if unit and not isinstance(value, str):
            main += f' <span class="u">{_e(unit)}</span>'
    skip = {"value", "value_err", "err", "units", "unit", "reason", "value_ci95", "ci95"}
    rest = {k: v for k, v in d.items() if k not in skip}
    if rest:
        main += f'<br><span class="what">{_inline_dict(rest, base_dir)}</span>'
    return label, main, what


def _scalar_rows(d: Mapping[str, Any], keys: Iterable[str], base_dir: Path) -> str:
    consumed: set[str] = set()
    keys = list(keys)
    # error/interval/reason keys are shown next to their value, not as rows
    for k in keys:
        if _find_err(d, k)[0]:
            consumed.add(_find_err(d, k)[0])
        for ck in _ci_keys(k):
            if ck in d:
                consumed.add(ck)
    rows = []
    for k in keys:
        if k in consumed or k in ("reason", "reasons") or k.endswith("_reason"):
            continue
        if _is_value_dict(d[k]):
            label, cell, what = _value_dict_row(k, d[k], base_dir)
        else:
            label, _unit, what = _label(k)
            cell = _cell(d, k, base_dir, consumed)
        what_html = f'<br><span class="what">{_e(what)}</span>' if what else ""
        rows.append(
            f'<tr><td class="k" title="{_e(k)}">{_e(label)}{what_html}</td>'
            f'<td class="v">{cell}</td></tr>'
        )
    if not rows:
        return ""
    # a lone reason (e.g. a section that could not run) is still worth showing
    return '<table class="kv">' + "".join(rows) + "</table>"


def _list_table(rows: Sequence[Mapping[str, Any]], base_dir: Path) -> str:
    """A list of dicts as a table in its own scrolling box (transposed when it is wide
    and short), units in the header, errors merged into their value."""
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    hidden: set[str] = set()
    for c in cols:
        ek = next((k for k in _err_keys(c) if k != c and k in cols), None)
        if ek is None and _split_key(c)[3] == "mean":
            sd = c[: -len("_mean")] + "_sd"
            ek = sd if sd in cols else None
        if ek:
            hidden.add(ek)
        for ck in _ci_keys(c):
            if ck in cols:
                hidden.add(ck)
    hidden |= {c for c in cols if c in ("reason", "reasons") or c.endswith("_reason")}
    shown = [c for c in cols if c not in hidden]
    # what identifies a row first (condition, cycle, j, …), the rest as the data has it
    shown.sort(key=lambda c: _ID_COLUMNS.index(c) if c in _ID_COLUMNS else len(_ID_COLUMNS))
    head = []
    for c in shown:
        label, unit, what = _label(c)
        if _split_key(c)[3] == "mean" and c[: -len("_mean")] + "_sd" in hidden:
            label = label.replace("(mean)", "(mean ± sd)")
        elif any(k in hidden for k in _err_keys(c) if k != c):
            label += " ± err"
        txt = _e(label) + (f' <span class="u">/ {_e(unit)}</span>' if unit else "")
        head.append((_e(what or c), txt))

    def cell(r: Mapping[str, Any], c: str) -> str:
        if c not in r:
            return '<td class="v"></td>'
        return f'<td class="v">{_cell(r, c, base_dir, set(), with_unit=False)}</td>'

    if len(shown) > _TRANSPOSE_COLS and len(rows) <= _TRANSPOSE_ROWS:
        # many columns, few rows: one row per quantity, one column per entry
        body = "".join(
            f'<tr><th title="{t}">{h}</th>' + "".join(cell(r, c) for r in rows) + "</tr>"
            for c, (t, h) in zip(shown, head, strict=True)
        )
        return f'<div class="scroll"><table class="t transposed">{body}</table></div>'
    th = "".join(f'<th title="{t}">{h}</th>' for t, h in head)
    body = "".join("<tr>" + "".join(cell(r, c) for c in shown) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="t"><tr>{th}</tr>{body}</table></div>'


#: Text values longer than this wrap inside their cell.
_LONG_TEXT = 60

#: Columns that identify a row, shown first in this order.
_ID_COLUMNS = (
    "condition",
    "cycle",
    "half_cycle",
    "half",
    "step",
    "name",
    "spot",
    "current_density_mA_cm2",
    "anneal_time_s",
    "time_s",
    "t_s",
)

#: A list table with more columns than this and at most _TRANSPOSE_ROWS rows is transposed.
_TRANSPOSE_COLS = 8
_TRANSPOSE_ROWS = 6


def _section_title(key: str) -> str:
    if key in _SECTION_TITLES:
        return _SECTION_TITLES[key]
    label = _label(key)[0]
    return label[:1].upper() + label[1:]


def _render_block(
    key: str,
    value: Any,
    base_dir: Path,
    level: int,
    skipped: Mapping[str, str],
    *,
    anchor: str | None = None,
    fold: bool = True,
) -> str:
    ident = f' id="{_e(anchor)}"' if anchor else ""
    small_dict = (
        isinstance(value, Mapping)
        and level == _FOLD_LEVEL
        and len(_flatten(value)) <= _OPEN_DICT_ROWS
    )
    if fold and level >= _FOLD_LEVEL and value is not None and not small_dict:
        # a detail inside an analysis: folded, its size in the summary line
        size = ""
        if isinstance(value, list | tuple) and value:
            size = f' <span class="what">({len(value)} rows)</span>'
        return (
            f"<details{ident}><summary>{_e(_section_title(key))}{size}</summary>"
            f"{_block_body(key, value, base_dir, level, skipped)}</details>"
        )
    h = f"h{min(level, 6)}"
    title = f"<{h}{ident}>{_e(_section_title(key))}</{h}>"
    return title + _block_body(key, value, base_dir, level, skipped)


def _block_body(
    key: str, value: Any, base_dir: Path, level: int, skipped: Mapping[str, str]
) -> str:
    """The content of a summary block (without its heading)."""
    if value is None:
        reason = skipped.get(key)
        txt = f'<p><span class="null">{_DASH}</span>'
        if reason:
            txt += f' <span class="reason">({_e(reason)})</span>'
        return txt + "</p>"
    if isinstance(value, Mapping):
        return _render_mapping(value, base_dir, level, skipped)
    if isinstance(value, list | tuple):
        if not value:
            return '<p class="empty">none</p>'
        if all(isinstance(v, Mapping) for v in value):
            return _list_table(value, base_dir)
        items = "".join(f"<li>{_e(format_value(v))}</li>" for v in value)
        return f"<ul>{items}</ul>"
    return f"<p>{_e(format_value(value))}</p>"


#: Blocks at this heading level or deeper (details inside an analysis) are folded,
#: except a dict of at most _OPEN_DICT_ROWS values right inside an analysis.
_FOLD_LEVEL = 3
_OPEN_DICT_ROWS = 16


def _render_mapping(
    d: Mapping[str, Any], base_dir: Path, level: int, skipped: Mapping[str, str]
) -> str:
    scalars, blocks = [], []
    for k, v in d.items():
        if (isinstance(v, Mapping) and not _is_value_dict(v)) or (
            isinstance(v, list | tuple) and v and all(isinstance(x, Mapping) for x in v)
        ):
            blocks.append(k)
        else:
            scalars.append(k)
    # a dict of flat numbers (e.g. colocalization {pair: r}) renders as rows too
    out = _scalar_rows(d, scalars, base_dir)
    if not out and scalars and isinstance(d.get("reason"), str):
        out = f'<p><span class="null">{_DASH}</span> <span class="reason">({_e(d["reason"])})</span></p>'
    # an analysis whose numbers are all one level down shows its first dict open
    first_dict = next((k for k in blocks if isinstance(d[k], Mapping)), None)
    open_key = first_dict if not out and level == _FOLD_LEVEL - 1 else None
    for k in blocks:
        out += _render_block(k, d[k], base_dir, level + 1, skipped, fold=k != open_key)
    return out


def _anchor(key: str) -> str:
    return "r-" + "".join(c if c.isalnum() else "-" for c in key)


def _skipped_map(summary: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in summary.get("skipped") or ():
        if isinstance(item, Mapping) and item.get("analysis"):
            out[str(item["analysis"])] = str(item.get("reason", ""))
    return out


def _experiment_name(summary: Mapping[str, Any]) -> str | None:
    exp = summary.get("experiment")
    if isinstance(exp, Mapping) and exp.get("name"):
        return str(exp["name"])
    if isinstance(exp, str):
        return exp
    for k in ("experiment_name", "name"):
        if summary.get(k):
            return str(summary[k])
    params = summary.get("parameters")
    if isinstance(params, Mapping):
        pexp = params.get("experiment")
        if isinstance(pexp, Mapping) and pexp.get("name"):
            return str(pexp["name"])
    return None


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def _param_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping) and not v:
        return "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_param_text(x) for x in v) + "]"
    if v is None:
        return _DASH
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_number(v, sig=6)
    return str(v)


# --------------------------------------------------------------------------- pieces
_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def _figure_html(fig: Mapping[str, Any], index: int, base_dir: Path | None = None) -> str:
    title = str(fig.get("title") or f"Figure {index}")
    caption = str(fig.get("caption") or "")
    path = fig.get("path")
    body = ""
    files = ""
    if path is not None:
        p = Path(os.fspath(path))
        if not p.is_absolute() and not p.exists() and base_dir is not None:
            p = base_dir / p
        mime = _MIME.get(p.suffix.lower())
        try:
            data = p.read_bytes() if mime else None
        except OSError:
            data = None
        twin = p.with_suffix(".svg")
        if data and mime:
            data, mime = _screen_copy(data, mime, twin if twin != p else None)
        if data:
            b64 = base64.b64encode(data).decode("ascii")
            body = f'<img src="data:{mime};base64,{b64}" alt="{_e(title)}">'
            if base_dir is not None:
                links = [p] + ([twin] if twin != p and twin.is_file() else [])
                files = " ".join(
                    f'<a href="{_e(_href(q, base_dir))}">{_e(q.suffix.lstrip(".").upper())}</a>'
                    for q in links
                )
                files = f' <span class="files">[{files}]</span>'
        elif mime is None:
            body = f'<p class="empty">cannot embed {_e(p.name)} (not an image)</p>'
        else:
            body = f'<p class="empty">figure file missing: <code>{_e(p.name)}</code></p>'
    cap = f"<b>Figure {index}. {_e(title)}.</b>"
    if caption:
        cap += f" {_e(caption)}"
    return f"<figure>{body}<figcaption>{cap}{files}</figcaption></figure>"


#: Embedded figures: the SVG twin when lighter than the PNG and below _EMBED_MAX_BYTES;
#: a PNG above it is shown as a copy _SCREEN_WIDTH_PX wide (JPEG when still too heavy).
_EMBED_MAX_BYTES = 800_000
_SCREEN_WIDTH_PX = 1600


def _screen_copy(data: bytes, mime: str, twin: Path | None) -> tuple[bytes, str]:
    """The bytes to embed for a figure file: light enough for a report of many figures.

    The files beside the report keep full resolution (300-dpi PNG, SVG); only the copy
    inside the HTML is lighter.
    """
    if twin is not None and twin.is_file():
        try:
            svg = twin.read_bytes()
        except OSError:
            svg = b""
        if svg and len(svg) < len(data) and len(svg) <= _EMBED_MAX_BYTES:
            return svg, _MIME[".svg"]
    if len(data) <= _EMBED_MAX_BYTES or mime != "image/png":
        return data, mime
    import io

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return data, mime
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        if im.width > _SCREEN_WIDTH_PX:
            h = round(im.height * _SCREEN_WIDTH_PX / im.width)
            im = im.resize((_SCREEN_WIDTH_PX, h), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        # zlib level 3: on the SEM figures' 1600-px copies 6–8× faster than
        # optimize=True (level 9 + filter search) and within ±5 % of its size
        im.save(buf, format="PNG", compress_level=3)
        if buf.tell() <= _EMBED_MAX_BYTES:
            return buf.getvalue(), mime
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=88)
        return buf.getvalue(), "image/jpeg"


def _csv_preview(path: Path, n: int = 5, max_cols: int = 10) -> tuple[int | None, str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            head = next(reader, None)
            rows = []
            count = 0
            for row in reader:
                if count < n:
                    rows.append(row)
                count += 1
    except (OSError, UnicodeDecodeError, csv.Error):
        return None, ""
    if head is None:
        return 0, ""
    more = len(head) > max_cols
    th = "".join(f"<th>{_e(c)}</th>" for c in head[:max_cols]) + ("<th>…</th>" if more else "")
    trs = "".join(
        "<tr>"
        + "".join(f'<td class="v">{_e(c)}</td>' for c in r[:max_cols])
        + ("<td>…</td>" if more else "")
        + "</tr>"
        for r in rows
    )
    return count, f'<div class="scroll"><table class="t"><tr>{th}</tr>{trs}</table></div>'


def _tables_html(tables: Sequence[Mapping[str, Any]], base_dir: Path) -> str:
    if not tables:
        return '<p class="empty">no tables</p>'
    items = []
    for t in tables:
        path = Path(os.fspath(t["path"]))
        title = str(t.get("title") or path.stem)
        shown = _href(path, base_dir)
        count, preview = _csv_preview(_locate(path, base_dir))
        info = f' <span class="what">({count} rows)</span>' if count is not None else ""
        if t.get("errors"):
            info += f' <span class="what">— *_err columns: {_e(str(t["errors"]))}</span>'
        item = f"<li><b>{_e(title)}</b>: {_link(path, base_dir, text=shown)}{info}"
        if preview:
            item += f"<details><summary>first rows</summary>{preview}</details>"
        items.append(item + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _inputs_html(inputs: Any, base_dir: Path) -> str:
    if not inputs:
        return '<p class="empty">none recorded</p>'
    rows = []
    items: Iterable[tuple[str, Any]]
    if isinstance(inputs, Mapping):
        items = inputs.items()
    else:
        items = ((str(i), v) for i, v in enumerate(inputs))
    for name, info in items:
        if isinstance(info, Mapping):
            path = info.get("path", "")
            sha = str(info.get("sha256") or "")
            extra = {k: v for k, v in info.items() if k not in ("path", "sha256")}
        else:
            path, sha, extra = info, "", {}
        sha_html = f'<code title="{_e(sha)}">{_e(sha[:12])}</code>' if sha else _DASH
        extra_html = "; ".join(f"{_e(k)} = {_e(_param_text(v))}" for k, v in extra.items())
        rows.append(
            f'<tr><td class="k">{_e(name)}</td><td><code>{_e(path)}</code></td>'
            f'<td class="v">{sha_html}</td><td class="what">{extra_html}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="t">'
        "<tr><th>input</th><th>path</th><th>sha256 (first 12)</th><th></th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


def _params_html(params: Any) -> str:
    if not params:
        return '<p class="empty">defaults only</p>'
    if not isinstance(params, Mapping):
        return f"<p><code>{_e(_param_text(params))}</code></p>"
    rows = "".join(
        f'<tr><td class="k"><code>{_e(k)}</code></td><td><code>{_e(_param_text(v))}</code></td></tr>'
        for k, v in _flatten(params)
    )
    return (
        f'<div class="scroll"><table><tr><th>parameter</th><th>value</th></tr>{rows}</table></div>'
    )


def _skipped_html(skipped: Any) -> str:
    if not skipped:
        return '<p class="empty">none: every analysis the inputs allow was run</p>'
    items = []
    for s in skipped:
        if isinstance(s, Mapping):
            name = s.get("analysis", "?")
            reason = s.get("reason", "")
            items.append(f"<li><b>{_e(name)}</b>: {_e(reason)}</li>")
        else:
            items.append(f"<li>{_e(s)}</li>")
    return '<ul class="skipped">' + "".join(items) + "</ul>"


def _warnings_html(warnings: Any) -> str:
    items = []
    for w in warnings:
        if isinstance(w, Mapping) and "message" in w:
            items.append(
                f"<li><b>{_e(w.get('where', ''))}</b> — {_e(w['message'])} "
                f'<span class="sub">[{_e(w.get("code", ""))}]</span></li>'
            )
        elif isinstance(w, Mapping):
            items.append("<li>" + _e("; ".join(f"{k}: {v}" for k, v in w.items())) + "</li>")
        else:
            items.append(f"<li>{_e(w)}</li>")
    return '<ul class="skipped">' + "".join(items) + "</ul>"


def _timestamps(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    ts = summary.get("timestamps")
    if isinstance(ts, Mapping):
        out.extend((str(k), str(v)) for k, v in ts.items())
    for k in _TIMESTAMP_KEYS:
        if summary.get(k):
            out.append((k, str(summary[k])))
    return out


def _now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="platescope">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- layout
#: figure file stem → the summary sections it illustrates, first present wins
_FIGURE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^sync", ("sync",)),
    (r"^(echem|potential|cv_|cycle_charges|stages)", ("echem",)),
    (
        r"^(alpha|t_nuc|irm_|ce_|residual|alloyed|intensity|montage|onset|regional|temporal)",
        ("optics",),
    ),
    (
        r"^(sem_|diameters|particle)",
        ("particles", "particles_by_condition", "particles_vs_current"),
    ),
    (r"^pearson", ("colocalization",)),
    (r"^(pores|size_distributions)", ("pores",)),
    (r"^sites", ("spatial", "sites")),
    (r"^dead", ("dead_li", "deposits")),
    (r"^deposit", ("deposits",)),
    (r"^sims", ("sims", "sims_combined")),
    (r"^stripping", ("stripping",)),
    (r"^side_view", ("side_view",)),
    (r"^symmetric", ("symmetric_cell",)),
    (r"^(growth|height|line_profiles|roughness)", ("afm",)),
    (r"^tomography", ("tomography",)),
    (r"^combinatorial", ("combinatorial",)),
)


def _figure_section(fig: Mapping[str, Any], sections: Sequence[str]) -> str | None:
    """The summary section a figure belongs beside (its ``section`` key, else by name)."""
    import re

    given = fig.get("section")
    if given in sections:
        return str(given)
    stem = Path(os.fspath(fig.get("rel") or fig.get("path") or "")).stem
    for pattern, candidates in _FIGURE_SECTIONS:
        if re.search(pattern, stem):
            for c in candidates:
                if c in sections:
                    return c
    for c in sections:  # a section named like the figure (side_view_frame → side_view)
        if stem.startswith(c):
            return c
    return None


def _headline_html(summary: Mapping[str, Any]) -> str:
    from platescope.report._headline import headline_values

    items = headline_values(summary)
    cards = []
    for h in items:
        if h["value"] is None:
            val = f'<span class="null">{_DASH}</span>'
            if h.get("reason"):
                val += f' <span class="reason">({_e(h["reason"])})</span>'
        else:
            val = _e(format_value(h["value"], err=h["err"]))
            if h["unit"]:
                val += f' <span class="u">{_e(h["unit"])}</span>'
        what = f'<span class="what">{_e(h["meaning"])}</span>' if h["meaning"] else ""
        cards.append(
            f'<div class="card" data-path="{_e(h["path"])}" data-value="{_e(repr(h["value"]))}"'
            f' data-err="{_e(repr(h["err"]))}"><div class="lab">{_e(h["label"])}</div>'
            f'<div class="val">{val}</div>{what}</div>'
        )
    lead = summary.get("headline")
    parts = ['<section class="headline" id="headline"><h2>Headline</h2>']
    if lead:
        parts.append(f'<p class="lead">{_e(lead)}</p>')
    if cards:
        parts.append('<div class="cards">' + "".join(cards) + "</div>")
    elif not lead:
        parts.append('<p class="empty">no headline numbers</p>')
    parts.append(
        '<p class="conv">± values are expanded uncertainties, k = 2 (≈95 %), everywhere in '
        "this report, in summary.json, in the tables and in the figures (unless a "
        "figure says otherwise).</p></section>"
    )
    return "".join(parts)


def _section_html(
    key: str,
    value: Any,
    figs: Sequence[tuple[int, Mapping[str, Any]]],
    base_dir: Path,
    skipped: Mapping[str, str],
) -> str:
    title = f'<h2 id="{_e(_anchor(key))}">{_e(_section_title(key))}</h2>'
    nums = _block_body(key, value, base_dir, 2, skipped)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        # a table is the analysis' numbers: full width, its figures in a grid above it
        grid = "".join(_figure_html(f, i, base_dir) for i, f in figs)
        grid = f'<div class="wide-figs">{grid}</div>' if grid else ""
        return f'<section class="analysis">{title}{grid}{nums}</section>'
    side = [(i, f) for i, f in figs if _aspect(f, base_dir) <= _SIDE_MAX_ASPECT]
    wide = [(i, f) for i, f in figs if _aspect(f, base_dir) > _SIDE_MAX_ASPECT]
    if side:
        fig_html = "".join(_figure_html(f, i, base_dir) for i, f in side)
        pair = (
            f'<div class="pair"><div class="nums">{nums}</div>'
            f'<div class="figs">{fig_html}</div></div>'
        )
    else:
        pair = f'<div class="pair nofig"><div class="nums">{nums}</div></div>'
    below = "".join(_figure_html(f, i, base_dir) for i, f in wide)
    below = f'<div class="wide-figs">{below}</div>' if below else ""
    return f'<section class="analysis">{title}{pair}{below}</section>'


#: Figures wider than this (width/height) go below the numbers, full width.
_SIDE_MAX_ASPECT = 1.9


def _aspect(fig: Mapping[str, Any], base_dir: Path) -> float:
    """Width/height of a PNG figure from its header (1.5 when unknown)."""
    path = fig.get("path")
    if path is None:
        return 1.5
    p = Path(os.fspath(path))
    if not p.is_absolute() and not p.exists():
        p = base_dir / p
    try:
        with open(p, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return 1.5
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 1.5
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return w / h if h else 1.5


def _provenance_html(summary: Mapping[str, Any], version: Any, base_dir: Path) -> str:
    parts = ['<h2 id="provenance">Provenance: inputs, parameters, version</h2>']
    exp_file = summary.get("experiment_file")
    inputs = summary.get("inputs")
    if isinstance(exp_file, Mapping):
        inputs = {"experiment file": exp_file, **(inputs if isinstance(inputs, Mapping) else {})}
    parts.append("<h3>Inputs</h3>")
    parts.append(_inputs_html(inputs, base_dir))
    files_read = summary.get("files_read")
    if files_read:
        parts.append(
            f"<details><summary>Other files read ({len(files_read)})</summary>"
            + _inputs_html(files_read, base_dir)
            + "</details>"
        )
    parts.append("<h3>Parameters</h3>")
    params = summary.get("parameters")
    n_params = len(_flatten(params)) if isinstance(params, Mapping) else 0
    parts.append(
        f"<details><summary>Analysis parameters ({n_params})</summary>"
        + _params_html(params)
        + "</details>"
    )
    parts.append("<h3>Software and times</h3>")
    prov = [("platescope version", str(version) if version else _DASH)]
    if summary.get("python"):
        prov.append(("Python", str(summary["python"])))
    prov += _timestamps(summary)
    prov.append(("report rendered", _now_utc()))
    parts.append(
        '<table class="kv">'
        + "".join(
            f'<tr><td class="k">{_e(k)}</td><td><code>{_e(v)}</code></td></tr>' for k, v in prov
        )
        + "</table>"
    )
    return "".join(parts)


# --------------------------------------------------------------------------- public
def render_report(
    summary: Mapping[str, Any],
    *,
    figures: Sequence[Mapping[str, Any]] = (),
    tables: Sequence[Mapping[str, Any]] = (),
    out_path: str | os.PathLike,
) -> Path:
    """Write one self-contained HTML report of an analysis.

    The page opens with a headline card — the few numbers that answer the scenario's
    question (:func:`platescope.report.headline_values`), each ± its expanded
    uncertainty (k = 2, stated once) — and the warnings banner. Then one section per
    analysis, its figures beside its numbers, details folded (``<details>``), wide
    tables scrolling inside their own box (or transposed); then skipped analyses, the
    tables, and provenance (inputs with hashes, parameters, version) at the end.

    Parameters
    ----------
    summary : mapping
        The ``summary.json`` content (DESIGN.md §3): nested dicts and lists; numbers
        with ``*_err`` companions are shown as "value ± err unit"; null values as "—"
        with their reason (``<key>_reason``, ``reasons[key]`` or the dict's
        ``reason``); ``skipped`` is a list of ``{analysis, reason}``.
    figures : sequence of mapping
        ``{"title", "path", "caption"}`` (+ optional ``"section"``: the summary key
        it illustrates, else guessed from the file name); the figure is embedded as a
        data URI — its SVG twin (same name, ``.svg``) when that is smaller, else the
        PNG/JPEG/SVG file itself.
    tables : sequence of mapping
        ``{"title", "path"}`` (+ ``"errors"``: what the ``*_err`` columns hold) of CSV
        tables, linked by a path relative to the report
        (with a row count and a preview of the first rows).
    out_path : str or os.PathLike
        The HTML file to write (atomically).

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> s = {"scenario": "irm-galvanostatic", "echem": {"galvanostatic": {
    ...     "E_nuc_V": -0.058, "E_nuc_err_V": 0.002, "t_nuc_s": 17.7}}}
    >>> p = render_report(s, figures=[], out_path=d / "report.html")
    >>> "-0.0580 ± 0.0020" in p.read_text(encoding="utf-8")
    True
    """
    out = Path(out_path)
    base_dir = out.parent.resolve() if out.parent.exists() else out.parent.absolute()
    scenario = str(summary.get("scenario") or "analysis")
    name = _experiment_name(summary)
    version = summary.get("platescope_version") or summary.get("version")
    skipped_map = _skipped_map(summary)

    sub = f' <span class="sub">— {_e(scenario)}' + (f": {_e(name)}" if name else "") + "</span>"
    meta = [f"scenario <b>{_e(scenario)}</b>"]
    if name:
        meta.append(f"experiment <b>{_e(name)}</b>")
    stamps = _timestamps(summary)
    if stamps:
        meta.append(_e(f"{stamps[0][0].replace('_utc', '')}: {stamps[0][1]}"))

    result_keys = [k for k in _SECTION_ORDER if k in summary]
    result_keys += [k for k in summary if k not in _META_KEYS and k not in result_keys]
    section_keys = [
        k
        for k in result_keys
        if isinstance(summary[k], Mapping | list | tuple) or summary[k] is None
    ]
    loose = [k for k in result_keys if k not in section_keys]

    # figures beside the numbers they illustrate; the rest after the analyses
    by_section: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    other_figs: list[tuple[int, Mapping[str, Any]]] = []
    for f in figures:
        where = _figure_section(f, section_keys)
        (by_section.setdefault(where, []) if where else other_figs).append((0, f))
    from platescope.report._headline import headline_values

    headline_roots = {h["path"].split(".")[0].split("[")[0] for h in headline_values(summary)}
    main = [
        k
        for k in section_keys
        if k in by_section or k in headline_roots or k in _SECTION_ORDER or summary[k] is None
    ]
    further = [k for k in section_keys if k not in main]
    # figures are numbered in the order the page shows them (side, then wide, per section)
    n = 0
    for k in [*main, None]:
        group = by_section.get(k, []) if k is not None else other_figs
        in_grid = k is None or isinstance(summary.get(k), list | tuple)
        order = sorted(
            range(len(group)),
            key=lambda j: 0 if in_grid else _aspect(group[j][1], base_dir) > _SIDE_MAX_ASPECT,
        )
        for j in order:
            n += 1
            group[j] = (n, group[j][1])

    nav = [("headline", "Headline")]
    if summary.get("warnings"):
        nav.append(("warnings", "Warnings"))
    nav += [(_anchor(k), _section_title(k)) for k in main]
    if further:
        nav.append(("further", "Further results"))
    nav += [("skipped", "Skipped"), ("tables", "Tables"), ("provenance", "Provenance")]

    parts = [
        f"<header><h1>platescope report{sub}</h1>",
        f'<p class="meta">{" · ".join(meta)}</p>',
        "<nav>" + "".join(f'<a href="#{_e(a)}">{_e(t)}</a>' for a, t in nav) + "</nav></header>",
        _headline_html(summary),
    ]
    if summary.get("warnings"):
        parts.append(
            '<section class="banner" id="warnings"><h2>Warnings — read before using the numbers</h2>'
            + _warnings_html(summary["warnings"])
            + "</section>"
        )
    if loose or not result_keys:
        parts.append('<h2 id="key-results">Results</h2>')
        parts.append(_scalar_rows(summary, loose, base_dir) or '<p class="empty">no results</p>')
    for k in main:
        parts.append(_section_html(k, summary[k], by_section.get(k, ()), base_dir, skipped_map))
    if further:
        parts.append('<h2 id="further">Further results</h2>')
        parts.extend(
            _render_block(k, summary[k], base_dir, _FOLD_LEVEL, skipped_map, anchor=_anchor(k))
            for k in further
        )
    if other_figs:
        parts.append('<h2 id="figures">Other figures</h2><div class="wide-figs">')
        parts.extend(_figure_html(f, i, base_dir) for i, f in other_figs)
        parts.append("</div>")
    elif not figures:
        parts.append('<h2 id="figures">Figures</h2><p class="empty">no figures</p>')
    parts.append('<h2 id="skipped">Skipped analyses</h2>')
    parts.append(_skipped_html(summary.get("skipped")))
    parts.append('<h2 id="tables">Tables</h2>')
    parts.append(_tables_html(tables, base_dir))
    parts.append(_provenance_html(summary, version, base_dir))
    parts.append(
        "<footer>Generated by platescope"
        + (f" {_e(version)}" if version else "")
        + ". Self-contained: figures are embedded (their PNG and SVG files are in "
        "<code>figures/</code>); CSV tables and maps are linked relative to this file.</footer>"
    )
    title = f"platescope — {scenario}" + (f": {name}" if name else "")
    atomic_write_text(out, _page(title, "\n".join(parts)))
    return out


def render_index(entries: Sequence[Mapping[str, Any]], *, out_path: str | os.PathLike) -> Path:
    """Write ``index.html`` linking the report of each scenario (used by ``platescope demo``).

    Parameters
    ----------
    entries : sequence of mapping
        ``{"scenario", "report_path", "summary_path", "headline"}`` (+ optional
        ``"created_utc"``) per scenario; paths are linked relative to the index,
        ``headline`` is one line of text (or None).
    out_path : str or os.PathLike
        The HTML file to write (atomically).

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> e = [{"scenario": "sem-particles", "report_path": d / "sem/report.html",
    ...       "summary_path": d / "sem/summary.json", "headline": "312 particles"}]
    >>> 'href="sem/report.html"' in render_index(e, out_path=d / "index.html").read_text()
    True
    """
    out = Path(out_path)
    base_dir = out.parent.resolve() if out.parent.exists() else out.parent.absolute()
    rows = []
    with_time = any(e.get("created_utc") for e in entries)
    for e in entries:
        rep = e.get("report_path")
        summ = e.get("summary_path")
        rep_html = f'<a href="{_e(_href(rep, base_dir))}">report</a>' if rep else _DASH
        sum_html = f'<a href="{_e(_href(summ, base_dir))}">summary.json</a>' if summ else _DASH
        headline = e.get("headline")
        when = f'<td class="what">{_e(e.get("created_utc") or _DASH)}</td>' if with_time else ""
        rows.append(
            f'<tr><td class="k">{_e(e.get("scenario", "?"))}</td><td>{rep_html}</td>'
            f"<td>{sum_html}</td>{when}<td>{_e(headline) if headline else _DASH}</td></tr>"
        )
    body = (
        "<header><h1>platescope demo</h1>"
        f'<p class="meta">{len(entries)} scenario(s) simulated and analysed · index written '
        f"{_e(_now_utc())}</p>"
        "</header>"
        '<div class="scroll"><table><tr><th>scenario</th><th>report</th><th>summary</th>'
        + ("<th>analysed (UTC)</th>" if with_time else "")
        + "<th>headline</th></tr>"
        + "".join(rows)
        + "</table></div>"
        "<footer>Each report is a self-contained HTML file; open it in any browser.</footer>"
    )
    atomic_write_text(out, _page("platescope demo", body))
    return out
