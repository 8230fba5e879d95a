"""Argument parsing and dispatch for the ``platescope`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import traceback
from pathlib import Path

from platescope import __version__
from platescope._errors import InputError, environment_error


def _parse_set(values: list[str]) -> dict:
    from platescope.simulate import parse_set_options

    return parse_set_options(values or [])


def _cmd_simulate(args) -> int:
    from platescope.simulate import simulate

    exp = simulate(args.scenario, Path(args.out), seed=args.seed, overrides=_parse_set(args.set))
    print(exp)
    return 0


def _cmd_analyze(args) -> int:
    from platescope.pipeline import analyze

    summary = analyze(
        Path(args.experiment), Path(args.out), scheduler=args.scheduler, workers=args.workers
    )
    print(Path(args.out) / "report.html")
    skipped = summary.get("skipped") or []
    for item in skipped:
        print(f"skipped {item['analysis']}: {item['reason']}", file=sys.stderr)
    for w in summary.get("warnings") or []:
        print(f"warning [{w['code']}] {w['where']}: {w['message']}", file=sys.stderr)
    if getattr(args, "catalog", None):
        from platescope.catalog import append_to_catalog

        cat = append_to_catalog(Path(args.catalog), Path(args.out))
        print(f"catalog {args.catalog}: {len(cat)} run(s)", file=sys.stderr)
    return 0


def _cmd_catalog(args) -> int:
    from platescope.catalog import build_catalog

    cat, notes = build_catalog([Path(d) for d in args.folders], out=Path(args.out))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{args.out}: {len(cat)} run(s), {len(cat.columns)} columns")
    return 0


def _cmd_info(args) -> int:
    from platescope.io import describe

    if args.check:
        return _cmd_check(args)
    if len(args.file) != 1:
        raise InputError(None, "info describes one file", "give one file, or use --check")
    info = describe(Path(args.file[0]))
    if info.get("kind") == "echem" and any(
        c in info.get("columns", []) for c in ("aux1_V", "aux2_V")
    ):
        from platescope.io import read_echem
        from platescope.sync._check import describe_aux

        info["aux"] = describe_aux(read_echem(args.file[0]))
    print(json.dumps(info, indent=2, default=str))
    return 0


def _cmd_check(args) -> int:
    from platescope.io._describe import _plain
    from platescope.sync._check import check_experiment, check_pair

    if len(args.file) == 1:
        report = check_experiment(Path(args.file[0]))
    elif len(args.file) == 2:
        report = check_pair(Path(args.file[0]), Path(args.file[1]))
    else:
        raise InputError(
            None, "--check takes an experiment file or a movie and an echem file", "give 1 or 2"
        )
    print(json.dumps(_plain(report), indent=2, default=str))
    for line in report["problems"]:
        print(f"check: {line}", file=sys.stderr)
    if not report["ok"]:
        raise InputError(
            args.file[0],
            f"this movie + echem pair cannot be analysed: {report['fatal']}",
            "fix the problem above before running platescope analyze",
        )
    return 0


def _cmd_demo(args) -> int:
    from platescope.pipeline import run_demo

    if args.jobs is not None and args.jobs < 1:
        raise InputError(None, f"--jobs {args.jobs} is not a number of processes", "give 1 or more")
    index = run_demo(
        Path(args.out), scenarios=_demo_scenarios(args.scenario), seed=args.seed, jobs=args.jobs
    )
    print(index)
    return 0


def _demo_scenarios(name: str) -> tuple[str, ...]:
    from platescope.pipeline import demo_scenarios

    names = demo_scenarios()
    if name == "all":
        return names
    if name not in names:
        raise InputError(
            None,
            f"the demo has no scenario '{name}' in this version",
            f"use one of {', '.join(names)} or all",
        )
    return (name,)


def _scenario_help(with_parameters: bool) -> str:
    """The registered scenarios (and each one's ``--set`` keys) for ``--help``."""
    from platescope.pipeline import scenarios

    lines = ["scenarios:"]
    for name, sc in scenarios().items():
        lines.append(f"  {name:<22s} {sc.title}")
        fn = sc.simulator_function() if with_parameters else None
        if fn is not None:
            for key, prm in getattr(fn, "parameters", {}).items():
                lines.append(
                    textwrap.fill(
                        f"{key} ({prm.kind.__name__}, default {prm.default!r}): {prm.doc}",
                        width=88,
                        initial_indent="      --set ",
                        subsequent_indent="            ",
                    )
                )
    return "\n".join(lines)


def build_parser(*, help_text: bool | str = False) -> argparse.ArgumentParser:
    """The argument parser of the ``platescope`` command.

    ``help_text`` adds the scenario registry to the help pages, and with
    ``help_text="simulate"`` also the simulators' ``--set`` keys to ``simulate --help``
    (that imports every simulator); it is off for ordinary runs.
    """
    p = argparse.ArgumentParser(
        prog="platescope",
        description="Quantify operando microscopy and electrochemistry of metal plating.",
        epilog=_scenario_help(False) if help_text else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"platescope {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="simulate, analyse and report; print the index page's path")
    d.add_argument("--scenario", default="all", help="scenario name or 'all' (default)")
    d.add_argument(
        "--out", default="platescope-demo", help="output folder (default ./platescope-demo)"
    )
    d.add_argument("--seed", type=int, default=0)
    d.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="scenarios run at the same time, one process each (default: the cores; 1: "
        "one after the other); the results are the same",
    )
    d.add_argument("--quiet", action="store_true", help=_QUIET_HELP)
    d.set_defaults(func=_cmd_demo)

    s = sub.add_parser(
        "simulate",
        help="write a synthetic experiment with its truth",
        epilog=_scenario_help(True) if help_text == "simulate" else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("scenario")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter")
    s.set_defaults(func=_cmd_simulate)

    a = sub.add_parser("analyze", help="analyse an experiment file")
    a.add_argument("experiment")
    a.add_argument("--out", required=True)
    a.add_argument(
        "--scheduler",
        default=None,
        metavar="NAME|ADDRESS",
        help="where per-spot work runs: auto (default), synchronous, threads, processes, "
        "or a Dask scheduler address such as tcp://127.0.0.1:8786",
    )
    a.add_argument(
        "--workers", type=int, default=None, metavar="N", help="local workers (default: cores, ≤ 4)"
    )
    a.add_argument(
        "--catalog",
        default=None,
        metavar="FILE",
        help="add the run to this Parquet catalog (created if missing; see 'catalog')",
    )
    a.add_argument("--quiet", action="store_true", help=_QUIET_HELP)
    a.set_defaults(func=_cmd_analyze)

    c = sub.add_parser(
        "catalog", help="one Parquet row per result folder: scenario, hashes, headline numbers"
    )
    c.add_argument(
        "folders", nargs="+", metavar="DIR", help="result folders or folders holding them"
    )
    c.add_argument("--out", required=True, help="the Parquet file to write (e.g. catalog.parquet)")
    c.set_defaults(func=_cmd_catalog)

    i = sub.add_parser("info", help="describe what a file holds")
    i.add_argument("file", nargs="+")
    i.add_argument(
        "--check",
        action="store_true",
        help="diagnose a movie + echem pair (EXPERIMENT.toml, or MOVIE ECHEM) before an "
        "analysis: frame times, clock overlap, sync method; exit 2 if it cannot be analysed",
    )
    i.set_defaults(func=_cmd_info)

    from platescope.cli._particles import add_parser as add_particles_parser

    add_particles_parser(sub)
    return p


_QUIET_HELP = "no progress display (it is shown only when stderr is a terminal anyway)"


def _say(message: str) -> None:
    print(textwrap.fill(message, width=88), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    given = sys.argv[1:] if argv is None else list(argv)
    asks_help = any(a in ("-h", "--help") for a in given)
    # the simulators' --set keys (importing every simulator) only for `simulate --help`
    parser = build_parser(
        help_text=("simulate" if "simulate" in given else True) if asks_help else False
    )
    args = parser.parse_args(given)
    if getattr(args, "quiet", False):
        from platescope._progress import set_quiet

        set_quiet(True)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        _say(f"platescope: error: {err}")
        return 2
    except BrokenPipeError:
        # output piped into e.g. `head` that stopped reading: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        _say("platescope: interrupted")
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence
        if (env := environment_error(err)) is not None:  # read-only, disk full, ...
            _say(f"platescope: error: {env}")
            return 2
        if args.debug or os.environ.get("PLATESCOPE_DEBUG"):
            traceback.print_exc()
        _say(
            f"platescope: internal error ({type(err).__name__}: {err}). This is a bug in "
            "platescope, not in your input; rerun with --debug and report the traceback."
        )
        return 1
