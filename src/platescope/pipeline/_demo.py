"""The demo's scenarios on every usable core: one worker process per core.

Each scenario (simulate → analyse → report) is independent of the others and writes only
``out/<scenario>/``, so ``platescope demo`` runs them in a pool of worker processes. Each
worker gets ``cores // jobs`` threads for the compiled kernels (``PLATESCOPE_THREADS``),
BLAS and Dask, so two workers on two cores do not oversubscribe them. A worker's results
are the same as in the parent process: the simulation depends only on the scenario and
the seed, the analysis only on the files.

Progress on a terminal: the workers are quiet and the parent shows one display counting
the scenarios, noting each as it finishes with its simulate / analyse seconds.
A failure stops the demo as the serial run does: scenarios not started are cancelled,
those running finish, and the first error (in scenario order) is raised in the parent —
an :class:`~platescope._errors.InputError` stays one (CLI exit 2).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import statistics
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from platescope._errors import InputError

__all__ = ["default_jobs", "run_scenarios"]

#: CPU seconds of each demo scenario (simulate + analyse, one process, measured with
#: benchmarks/bench_demo.py --per-scenario, load 7.5–13). Only the order
#: matters: the longest start first, so the last to finish is a short one (a scenario not
#: listed counts as the median).
_COST_HINT_S = {
    "sem-particles": 47.0,
    "tomography": 27.3,
    "irm-galvanostatic": 26.0,
    "see-through-ag": 16.5,
    "see-through-au": 13.0,
    "dendrite-cycling": 10.7,
    "top-view-nucleation": 9.8,
    "sims-diffusion": 9.8,
    "irm-cv": 7.0,
    "afm": 4.3,
    "seccm-combinatorial": 3.4,
    "side-view": 3.2,
    "symmetric-cell": 2.0,
}

# environment of a worker: threads for numba kernels, BLAS, OpenMP and Dask's local
# scheduler; set before the worker imports numpy (the variables are read at import)
_THREAD_VARS = (
    "PLATESCOPE_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "DASK_NUM_WORKERS",
)


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs(n_scenarios: int) -> int:
    """Worker processes for ``n_scenarios`` demo scenarios: the usable cores, at most one
    per scenario (``PLATESCOPE_DEMO_JOBS`` overrides).

    Examples
    --------
    >>> default_jobs(1)
    1
    """
    env = os.environ.get("PLATESCOPE_DEMO_JOBS", "").strip()
    jobs = int(env) if env.isdigit() and int(env) > 0 else _usable_cores()
    return max(1, min(jobs, n_scenarios))


def _one(task: Callable[[str, str, int], dict], name: str, out: str, seed: int) -> dict:
    """``task(name, out, seed)`` in a worker, its errors made fit to travel back."""
    try:
        return task(name, out, seed)
    except InputError as err:  # its __init__ takes three arguments: sent as fields
        return {"name": name, "input_error": (err.path, err.problem, err.fix)}
    except Exception as err:
        try:
            pickle.loads(pickle.dumps(err))
        except Exception:  # an exception that cannot travel: its type and message do
            raise RuntimeError(f"{type(err).__name__}: {err}") from None
        raise


@contextlib.contextmanager
def _worker_environment(threads: int) -> Iterator[None]:
    """Thread counts (unless the user set them) and quiet progress for the workers
    started inside the block; the parent's environment is restored after it."""
    saved = {k: os.environ.get(k) for k in (*_THREAD_VARS, "PLATESCOPE_QUIET")}
    try:
        for key in _THREAD_VARS:
            os.environ.setdefault(key, str(threads))
        os.environ["PLATESCOPE_QUIET"] = "1"
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_scenarios(
    task: Callable[[str, str, int], dict],
    out: Path,
    names: Sequence[str],
    *,
    seed: int,
    jobs: int,
) -> list[dict]:
    """Simulate and analyse ``names`` into ``out/<name>`` on ``jobs`` worker processes.

    Parameters
    ----------
    task : callable
        ``task(name, out, seed) -> {"name", "simulate_s", "analyse_s"}``, a module-level
        function (it is sent to the workers by name).
    out : pathlib.Path
        The (claimed) demo folder.
    names : sequence of str
        Scenario names.
    seed : int
        Simulation seed.
    jobs : int
        Worker processes (≥ 2; one runs in this process instead).

    Returns
    -------
    list of dict
        Per scenario, in the order of ``names``: ``name``, ``simulate_s``, ``analyse_s``.

    Raises
    ------
    InputError, Exception
        The first failure in scenario order, after the running scenarios finished.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from platescope._progress import progress

    median = statistics.median(_COST_HINT_S.values())
    order = sorted(names, key=lambda n: -_COST_HINT_S.get(n, median))
    threads = max(1, _usable_cores() // jobs)
    # "spawn": a fresh interpreter per worker, never a fork of a process whose kernel
    # threads or Dask pools are running (the caller may be a test session or a notebook)
    ctx = multiprocessing.get_context("spawn")
    results: dict[str, dict] = {}
    errors: dict[str, BaseException] = {}
    with progress("demo", total=len(names), unit="scenario") as bar:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
        try:
            with _worker_environment(threads):
                # workers start at the first submit: inside the block, with its environment
                futures = {pool.submit(_one, task, n, str(out), seed): n for n in order}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = futures[fut]
                    if fut.cancelled():
                        continue
                    err = fut.exception()
                    if err is None and "input_error" in fut.result():
                        err = InputError(*fut.result()["input_error"])
                    if err is not None:
                        errors[name] = err
                        for other in pending:  # as the serial demo: stop at a failure
                            other.cancel()
                        continue
                    results[name] = fut.result()
                    bar.update()
                    r = results[name]
                    bar.set_note(
                        f"{name} (simulate {r['simulate_s']:.0f} s, analyse {r['analyse_s']:.0f} s)"
                    )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    if errors:
        first = min(errors, key=list(names).index)
        raise errors[first]
    return [results[n] for n in names]
