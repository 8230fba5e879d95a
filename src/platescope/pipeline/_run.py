"""Experiment file → the analyses its scenario needs → a published results folder."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path

from platescope import __version__
from platescope._errors import InputError
from platescope._outguard import claim_output_folder, write_marker
from platescope._provenance import run_log
from platescope.pipeline._common import collect_warnings
from platescope.pipeline._outputs import StagedOutput, sha256_file
from platescope.pipeline._provenance import record_provenance
from platescope.pipeline._scenarios import get_scenario, scenarios


def _check_analysis_sections(exp, sc) -> None:
    """An ``[analysis.<name>]`` the scenario does not read is a typo or a foreign section;
    a value of the wrong type or range is refused before any work."""
    known = set(sc.analyses)
    unknown = sorted(set(exp.analysis) - known)
    if unknown:
        raise InputError(
            exp.path,
            f"[analysis.{unknown[0]}] is not an analysis of scenario {exp.scenario}"
            + (f" (nor {', '.join(unknown[1:])})" if len(unknown) > 1 else ""),
            f"use only {', '.join(f'[analysis.{k}]' for k in sorted(known))}, or remove it",
        )
    # every given value is checked before any input is read, also for a step that will
    # later be skipped for a missing input (a typo must not wait for the data)
    from platescope.pipeline._common import analysis_params

    for name in exp.analysis:
        analysis_params(exp, name, sc.analyses[name])


def _headline(summary: dict) -> str:
    if summary.get("headline"):
        return str(summary["headline"])
    g = (summary.get("echem") or {}).get("galvanostatic") or {}
    if g.get("nucleated"):
        return f"E_nuc = {g['E_nuc_V'] * 1e3:.1f} mV at t_nuc = {g['t_nuc_s']:.2f} s"
    if g:
        return "no nucleation minimum in the record"
    return summary["scenario"]


def analyze(experiment, out, *, scheduler: str | None = None, workers: int | None = None) -> dict:
    """Run every analysis an experiment file allows and publish the results.

    Parameters
    ----------
    experiment : path
        The experiment TOML file.
    out : path
        Output folder; replaced atomically when the run succeeds.
    scheduler : str, optional
        Where per-spot work of many-spot scenarios (``seccm-combinatorial``) runs:
        ``auto`` (default), ``synchronous``, ``threads``, ``processes``, a Dask
        scheduler address (``tcp://host:8786``) or a ``distributed.Client``.
    workers : int, optional
        Number of local workers for ``threads``/``processes``/``auto``.

    Returns
    -------
    dict
        The summary also written to ``out/summary.json``.
    """
    from platescope.io import read_experiment
    from platescope.report import atomic_write_json, render_report, to_jsonable

    exp = read_experiment(experiment)
    sc = get_scenario(exp.scenario, path=exp.path)
    _check_analysis_sections(exp, sc)
    claim_output_folder(out, kind="result", inputs=[exp.path, *exp.input_paths().values()])
    inputs: dict = {}  # filled after the run with every file read (record_provenance)
    summary: dict = {
        "scenario": exp.scenario,
        "name": exp.name,
        "platescope_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "experiment_file": {"path": str(exp.path), "sha256": sha256_file(exp.path)},
        "inputs": inputs,
        "parameters": {},
        "skipped": [],
        "warnings": [],
        "uncertainty_convention": "*_err values are expanded uncertainties, ≈95 % (k = 2)",
    }
    staged = StagedOutput(out)
    staged.report_housekeeping(summary)  # leftovers of killed runs, cleaned
    try:
        from platescope.pipeline._parallel import execution_options

        with run_log() as log, execution_options(scheduler=scheduler, workers=workers):
            sc.run(exp, staged, summary)
        record_provenance(exp, log, summary, staged)  # inputs, sidecars, spot files: hashed
        collect_warnings(summary)
        summary["headline"] = _headline(summary)  # every summary has one (README)
        # what the report shows is exactly what summary.json holds
        summary = json.loads(json.dumps(to_jsonable(summary), allow_nan=False))
        atomic_write_json(staged.root / "summary.json", summary)
        render_report(
            summary,
            figures=staged.figures,
            tables=staged.tables,
            out_path=staged.root / "report.html",
        )
        from platescope.pipeline._rocrate import write_ro_crate

        write_ro_crate(staged.root, summary)  # last: it lists every output
        staged.publish()
    except BaseException:
        staged.discard()
        raise
    return summary


def run_demo(out, *, scenarios=None, seed: int = 0, jobs: int | None = None) -> Path:
    """Simulate each scenario, analyse it, and write ``out/index.html``.

    Parameters
    ----------
    out : path
        Demo folder: ``<scenario>/input`` (simulated files) and ``<scenario>/results``.
        The index lists every scenario with results in the folder, also those of
        earlier runs that this one did not repeat.
    scenarios : sequence of str, optional
        Scenario names (default: every scenario of the registry that has ``demo``).
    seed : int
        Simulation seed.
    jobs : int, optional
        Scenarios run at the same time, each in its own worker process (default: the
        usable cores, at most one per scenario; ``PLATESCOPE_DEMO_JOBS`` overrides).
        ``1`` runs them one after the other in this process. The results are the same.

    Returns
    -------
    pathlib.Path
        The index page.
    """
    from platescope.report import render_index

    names = demo_scenarios() if scenarios is None else tuple(scenarios)
    out = claim_output_folder(out, kind="demo")
    out.mkdir(parents=True, exist_ok=True)
    from platescope.pipeline._demo import default_jobs, run_scenarios

    jobs = default_jobs(len(names)) if jobs is None else max(1, min(int(jobs), len(names)))
    if jobs > 1:
        run_scenarios(simulate_and_analyse, out, names, seed=seed, jobs=jobs)
    else:
        for name in names:
            simulate_and_analyse(name, out, seed)
    index = Path(render_index(_demo_entries(out), out_path=out / "index.html"))
    write_marker(out, kind="demo", version=__version__)
    return index


def simulate_and_analyse(name: str, out, seed: int) -> dict:
    """One demo scenario: simulate into ``out/<name>/input``, analyse into
    ``out/<name>/results``; the seconds each part took."""
    import time

    from platescope.simulate import simulate

    t0 = time.perf_counter()
    exp = simulate(name, Path(out) / name / "input", seed=seed)
    t1 = time.perf_counter()
    analyze(exp, Path(out) / name / "results")
    return {"name": name, "simulate_s": t1 - t0, "analyse_s": time.perf_counter() - t1}


def _demo_entries(out: Path) -> list[dict]:
    """Index entries for every scenario with results in the demo folder (registry order),
    so rerunning one scenario keeps the others on the index."""
    known = list(scenarios())
    found = [p.parent.parent.name for p in out.glob("*/results/summary.json")]
    found.sort(key=lambda n: (known.index(n) if n in known else len(known), n))
    entries = []
    for name in found:
        try:
            summary = json.loads((out / name / "results" / "summary.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue  # not a readable result: not listed
        n_warn = len(summary.get("warnings") or [])
        entries.append(
            {
                "scenario": name,
                "report_path": f"{name}/results/report.html",
                "summary_path": f"{name}/results/summary.json",
                "headline": _headline(summary)
                + (f" — {n_warn} warning(s), see the report" if n_warn else ""),
                "created_utc": summary.get("created_utc"),
            }
        )
    return entries


def demo_scenarios() -> tuple[str, ...]:
    """Names of the scenarios ``platescope demo`` runs, in order (from the registry).

    >>> demo_scenarios()[0]
    'irm-galvanostatic'
    """
    return tuple(name for name, sc in scenarios().items() if sc.demo)
