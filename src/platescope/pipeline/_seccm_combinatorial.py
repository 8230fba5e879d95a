"""Scenario ``seccm-combinatorial``: many galvanostatic SECCM spots × conditions.

Steps (SCIENCE.md §2, "Combinatorial"):

1. ``[seccm]`` → :func:`platescope.io.read_spots` (layout ``platescope``, ``echemtips``
   or ``wec-spm``) — a lazy index of the spots;
2. per spot, in bounded batches on Dask (:mod:`platescope.pipeline._parallel`):
   read the record and compute E_nuc, t_nuc, Q_nuc, E_growth, η
   (:func:`platescope.echem.spot_features`); rows stream to ``tables/spots.csv`` in
   spot order; a spot that cannot be read is reported with its id, file and reason;
3. per condition (:func:`platescope.echem.condition_summary`): n, n_nucleated,
   fraction nucleated (Wilson 95 %), mean, sd, standard error and Student-t 95 %
   interval of each feature over the nucleated spots → ``summary["combinatorial"]``
   and ``tables/conditions.csv``;
4. figures: features vs current density, fraction nucleated, a map of the grid.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re

import numpy as np

from platescope._errors import InputError
from platescope._lazy import lazy_module
from platescope.pipeline._common import analysis_params, expand_errors
from platescope.pipeline._scenarios import Scenario

# imported on first use: `platescope --help` imports every runner and must stay fast
pd = lazy_module("pandas")

DEFAULTS = {
    # 0.2 s smoothing: combinatorial records are 5 s long and t_nuc reaches 0.3 s at high j,
    # which a 0.5 s window cannot resolve (the minimum would look like the record's start)
    "galvanostatic": {
        "smooth_s": 0.2,
        "growth_fraction": 0.2,
        "rise_sigma": 8.0,
        "min_rise_V": 1e-3,
    },
    # batch_size 0 = automatic: 256 spots per batch in-process, 256–1024 per Dask task
    # (pipeline._parallel.auto_batch_size: the per-task cost stays ≲ 1 % of a task's work)
    "combinatorial": {"batch_size": 0, "map_feature": "E_nuc_V"},
}
#: Per-spot columns kept in memory for the summary and figures (everything is in the CSV).
_KEEP = (
    "spot",
    "condition",
    "x_um",
    "y_um",
    "current_density_mA_cm2",
    "nucleated",
    "E_nuc_V",
    "t_nuc_s",
    "Q_nuc_uAh_cm2",
    "E_growth_V",
    "eta_nuc_V",
)
_TABLE_COLUMNS = (
    "spot",
    "condition",
    "x_um",
    "y_um",
    "current_density_mA_cm2",
    "area_cm2",
    "current_A",
    "nucleated",
    "E_nuc_V",
    "E_nuc_V_err",
    "t_nuc_s",
    "t_nuc_s_err",
    "Q_nuc_uAh_cm2",
    "Q_nuc_uAh_cm2_err",
    "E_growth_V",
    "E_growth_V_err",
    "eta_nuc_V",
    "eta_nuc_V_err",
    "noise_V",
    "duration_s",
    "n_samples",
    "reason",
)
#: How many skipped spots summary.json lists one by one (all are in tables/skipped_spots.csv).
MAX_LISTED_SKIPS = 200


def _clean(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def _cell(v):
    """A table cell: missing values (None, NaN, pandas' NA) are empty."""
    return "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v


def _open_spots(exp):
    from platescope import io

    s = exp.seccm
    layout = s.get("layout")
    src = s.get("spots") or s.get("path")
    if src is None:
        raise InputError(
            exp.path,
            "[seccm] names no spot data",
            'add spots = "spots.csv" (platescope layout) or path = "<recording>" with layout = '
            '"echemtips" or "wec-spm"',
        )
    if layout == "platescope" and not s.get("spots"):
        raise InputError(
            exp.path, '[seccm] layout = "platescope" needs spots = "spots.csv"', "add it"
        )
    return io.read_spots(src, layout=layout, settings=s.get("settings"))


def _check_potential_range(feats: pd.DataFrame, summary: dict) -> None:
    """Warn when spots' E_nuc lie where no Li nucleation minimum can (sign, unit, reference)."""
    from platescope.echem._galvanostatic import E_PLAUSIBLE_V
    from platescope.pipeline._common import add_warning

    if not len(feats) or "E_nuc_V" not in feats:
        return
    e = pd.to_numeric(feats["E_nuc_V"], errors="coerce")
    bad = int(((e < E_PLAUSIBLE_V[0]) | (e > E_PLAUSIBLE_V[1])).sum())
    if bad:
        add_warning(
            summary,
            "potential-out-of-range",
            f"{bad} of {int(e.notna().sum())} spots have E_nuc outside {E_PLAUSIBLE_V[0]:g} to "
            f"{E_PLAUSIBLE_V[1]:g} V, where Li plating vs Li/Li⁺ or a usual quasi-reference "
            "lies: check the sign and unit of the voltage column and the reference",
            "combinatorial",
        )


def _csv_text_rows(rows) -> str:
    """``rows`` as lines of ``tables/spots.csv``, one :class:`csv.DictWriter` row at a time
    (the reference for :func:`_csv_text`)."""
    fh = io.StringIO()
    writer = csv.DictWriter(fh, fieldnames=list(_TABLE_COLUMNS), extrasaction="ignore")
    for rec in rows.to_dict("records"):
        writer.writerow({k: _cell(rec.get(k)) for k in _TABLE_COLUMNS})
    return fh.getvalue()


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_field(v) -> str:
    """One cell as :mod:`csv` writes it (QUOTE_MINIMAL), missing values empty."""
    if isinstance(v, np.generic):
        v = v.item()  # as DataFrame.to_dict gives it
    v = _cell(v)
    text = repr(v) if isinstance(v, float) else str(v)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(values) -> list[str]:
    """A column's cells: NumPy float, int and bool columns formatted as whole lists
    (same text as the csv module: ``repr`` of floats, empty for NaN), anything else
    cell by cell through :func:`_csv_field`."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        items = values.to_numpy().tolist()
        if dtype.kind == "f":
            return ["" if x != x else repr(x) for x in items]
        return list(map(str, items))
    return [_csv_field(x) for x in values.tolist()]


def _csv_text(rows) -> str:
    """``rows`` as lines of ``tables/spots.csv`` (its columns, missing values empty),
    column by column: the same text as :func:`_csv_text_rows` in about a third of the
    time (the table's formatting was ≈ 6 % of the spots' CPU)."""
    n = len(rows)
    if not n:
        return ""
    cols = [_csv_column(rows[k]) if k in rows else [""] * n for k in _TABLE_COLUMNS]
    return "".join(",".join(r) + "\r\n" for r in zip(*cols, strict=True))


def analyse_batch_table(batch, options: dict | None = None) -> dict:
    """One batch of spots → its lines of ``tables/spots.csv`` and the columns kept.

    Runs where the batch runs (a Dask worker), so that the main process only appends
    text: formatting the table there took ≈ 6 % of the analysis' CPU and ran beside the
    workers on the same cores. What travels back is the text and the few columns the
    summary needs, not the whole table.

    Parameters
    ----------
    batch : platescope.io.SpotSet
        A batch of spots.
    options : dict, optional
        Keyword options of :func:`platescope.echem.spot_features`.

    Returns
    -------
    dict
        ``csv`` (the rows as CSV lines, no header), ``keep`` (DataFrame: the columns of
        ``_KEEP`` the rows have), ``n_rows`` and ``skipped`` (as
        :func:`platescope.pipeline._parallel.analyse_batch`).

    Examples
    --------
    >>> import tempfile
    >>> from platescope.io import read_spots
    >>> from platescope.simulate import simulate
    >>> exp = simulate("seccm-combinatorial", tempfile.mkdtemp(),
    ...                overrides={"n_conditions": 2, "n_repeats": 2})
    >>> res = analyse_batch_table(read_spots(exp.parent / "spots.csv"), {"smooth_s": 0.2})
    >>> res["n_rows"], len(res["csv"].splitlines()), list(res["keep"].columns[:2])
    (4, 4, ['spot', 'condition'])
    """
    from platescope.pipeline._parallel import analyse_batch

    res = analyse_batch(batch, options)
    rows = res["rows"]
    return {
        "csv": _csv_text(rows) if len(rows) else "",
        "keep": rows[[c for c in _KEEP if c in rows]],
        "n_rows": int(len(rows)),
        "skipped": res["skipped"],
    }


def _spots_step(spots, p_g, p_c, out) -> tuple:
    """Every spot's features, computed in bounded batches and streamed to tables/spots.csv."""
    from platescope.pipeline._parallel import current_execution, map_batches

    ex = current_execution()
    run_info: dict = {}
    table_path = out.root / "tables" / "spots.csv"
    kept = []
    skipped: list[dict] = []
    n_rows = 0
    func = functools.partial(analyse_batch_table, options=p_g)
    with open(table_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(_TABLE_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for res in map_batches(
            spots,
            func,
            scheduler=ex["scheduler"],
            workers=ex["workers"],
            batch_size=p_c["batch_size"],
            progress=ex["progress"],
            info=run_info,
        ):
            skipped.extend(res["skipped"])
            if res["n_rows"]:
                fh.write(res["csv"])
                kept.append(res["keep"])
                n_rows += res["n_rows"]
    out.tables.append(
        {
            "title": "Per-spot galvanostatic features",
            "path": "tables/spots.csv",
            "errors": "expanded uncertainty, k = 2 (≈95 %)",
        }
    )
    feats = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=list(_KEEP))
    return feats, skipped, n_rows, run_info


def _skipped_spots_step(spots, skipped, out, summary) -> None:
    """Spots that could not be read: their table and one skipped[] line by kind."""
    if not skipped:
        return
    skipped_analyses = summary["skipped"]
    out.table(
        "skipped_spots",
        pd.DataFrame(skipped, columns=["spot", "path", "reason"]),
        title="Spots that could not be analysed",
    )
    by_kind: dict[str, int] = {}
    for s in skipped:
        text = s["reason"]
        key = text.split(": ", 1)[1] if text.startswith("spot ") and ": " in text else text
        key = key.split(". Fix:")[0]
        by_kind[key] = by_kind.get(key, 0) + 1
    skipped_analyses.append(
        {
            "analysis": "combinatorial.spots",
            "reason": f"{len(skipped)} of {len(spots)} spots could not be analysed: "
            + "; ".join(f"{n}× {k}" for k, n in sorted(by_kind.items(), key=lambda kv: -kv[1])[:5]),
        }
    )


def _conditions_step(spots, feats, skipped, n_rows, run_info, p_c, out, summary) -> None:
    """Per-condition statistics, the run record, the conditions table, figures, headline."""
    from platescope import echem as echem_mod
    from platescope import report

    skipped_analyses = summary["skipped"]
    cond = echem_mod.condition_summary(feats) if len(feats) else pd.DataFrame()
    rows = [{k: _clean(v) for k, v in r.items()} for r in cond.to_dict("records")]
    summary["combinatorial"] = expand_errors(rows)
    elapsed = run_info.get("elapsed_s")
    summary["combinatorial_run"] = {
        "n_spots": int(len(spots)),
        "n_analysed": int(n_rows),
        "n_skipped": int(len(skipped)),
        "skipped": [{k: _clean(v) for k, v in s.items()} for s in skipped[:MAX_LISTED_SKIPS]],
        "skipped_listed": min(len(skipped), MAX_LISTED_SKIPS),
        "scheduler": run_info.get("scheduler"),
        "workers": run_info.get("workers"),
        "batch_size": run_info.get("batch_size"),
        "layout": spots.layout,
        "source": str(spots.source),
        "settings": str(spots.settings) if spots.settings else None,
        "elapsed_s": elapsed,
        "spots_per_s": len(spots) / elapsed if elapsed and elapsed > 0 else None,
        "n_conditions": int(len(rows)),
        "definitions": (
            "per condition over its nucleated spots: *_mean, *_sd (ddof 1), *_mean_err (standard error, "
            "here ≈95 %, k = 2), *_mean_ci95 (Student-t 95 % interval); fraction_nucleated_ci95: Wilson"
        ),
    }
    if not len(feats):
        skipped_analyses.append(
            {"analysis": "combinatorial.conditions", "reason": "no spot could be analysed"}
        )
        summary["headline"] = f"{len(spots)} spots, none could be analysed"
        return
    out.table(
        "conditions",
        pd.DataFrame(
            [
                {
                    k: (v if not isinstance(v, list) else " – ".join(f"{x:.6g}" for x in v))
                    for k, v in r.items()
                }
                for r in summary["combinatorial"]
            ]
        ),
        title="Per-condition statistics",
        errors="k2",
    )
    _figures(out, report, summary["combinatorial"], feats, p_c["map_feature"])
    n_nuc = int(feats["nucleated"].fillna(False).astype(bool).sum())
    e_means = [r["E_nuc_V_mean"] for r in rows if r.get("E_nuc_V_mean") is not None]
    rng = f"; E_nuc {max(e_means) * 1e3:.0f} to {min(e_means) * 1e3:.0f} mV" if e_means else ""
    summary["headline"] = (
        f"{n_rows} of {len(spots)} spots in {len(rows)} conditions; {n_nuc} reached E_nuc{rng}"
        + (f"; {len(skipped)} skipped" if skipped else "")
    )


def run(exp, out, summary: dict) -> None:
    """Compose the scenario's steps; fill ``summary`` and ``out`` (a StagedOutput)."""
    from platescope import echem as echem_mod

    skipped_analyses = summary["skipped"]
    if not exp.seccm:
        skipped_analyses.append({"analysis": "combinatorial", "reason": "no [seccm] input"})
        return
    params = summary["parameters"]
    p_g = params.setdefault(
        "galvanostatic", analysis_params(exp, "galvanostatic", DEFAULTS["galvanostatic"])
    )
    p_c = params.setdefault(
        "combinatorial", analysis_params(exp, "combinatorial", DEFAULTS["combinatorial"])
    )
    if p_c["map_feature"] not in echem_mod._combinatorial.FEATURES:
        raise InputError(
            exp.path,
            f"[analysis.combinatorial] map_feature = {p_c['map_feature']!r} is not a spot feature",
            f"use one of {', '.join(echem_mod._combinatorial.FEATURES)}",
        )
    spots = _open_spots(exp)
    feats, skipped, n_rows, run_info = _spots_step(spots, p_g, p_c, out)
    _check_potential_range(feats, summary)
    _skipped_spots_step(spots, skipped, out, summary)
    _conditions_step(spots, feats, skipped, n_rows, run_info, p_c, out, summary)


def _figures(out, report, rows, feats, map_feature) -> None:
    out.figure(
        "combinatorial_features",
        report.fig_combinatorial_features(rows, spots=feats),
        title="Nucleation features vs current density",
        caption="Per spot (small grey points) and per condition (mean ± sd over the nucleated spots, black). "
        "Conditions where no spot reached E_nuc within the record have no mean. E_growth is the mean potential "
        "over the last 20 % of each record, so spots that nucleate late in the record have not yet reached a "
        "growth plateau there.",
    )
    out.figure(
        "combinatorial_fraction",
        report.fig_fraction_nucleated(rows),
        title="Fraction of spots that reached E_nuc",
        caption="Per condition, with Wilson 95 % intervals; n above each bar.",
    )
    out.figure(
        f"combinatorial_map_{map_feature}",
        report.fig_spot_map(feats, map_feature),
        title=f"Spot map: {map_feature}",
        caption="Each spot at its position on the electrode, coloured by the feature; spots without a value "
        "(no nucleation within the record) are drawn as grey crosses.",
    )


#: The registry entry (pipeline/_scenarios.py).
SCENARIO = Scenario(
    name="seccm-combinatorial",
    title="A hopping grid of SECCM spots × conditions: per-condition nucleation statistics",
    run=run,
    inputs=("seccm",),
    analyses=DEFAULTS,
    simulator="platescope.simulate._seccm_combinatorial:seccm_combinatorial",
)
