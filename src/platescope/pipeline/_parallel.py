"""Per-spot work at scale: bounded batches on Dask, results streamed back in order.

A combinatorial run can hold 10,000 spots. :func:`map_batches` cuts a
:class:`~platescope.io.SpotSet` into batches of ``batch_size`` spots and runs a
function on each batch — in this process (``"synchronous"``), on a
``dask.distributed`` LocalCluster of threads (``"threads"``) or processes
(``"processes"``), or on an existing cluster (``"tcp://host:port"`` or a
``distributed.Client``). Only a window of batches is in flight at a time (2 per
worker, at most ``4 ×`` that ahead of the oldest unfinished one), each task carries
only the batch's small index (the worker reads the spot files itself), and results
come back as they complete but are yielded in batch order, so the caller can stream
them to a table with bounded memory and a reproducible row order.

The execution options of ``platescope analyze --scheduler/--workers`` reach the
scenario runner through :func:`execution_options` (a context variable), so the runner
signature ``run(exp, out, summary)`` stays the same for every scenario.

A labelled progress bar (:mod:`platescope._progress`, on stderr) is shown when stderr
is a terminal, unless the run is quiet.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError

__all__ = [
    "PROGRESS_MIN_SPOTS",
    "analyse_batch",
    "analyse_batch_per_spot",
    "current_execution",
    "execution_options",
    "map_batches",
    "resolve_scheduler",
]

#: Kept for compatibility; no longer used: the progress bar follows the terminal test of
#: :mod:`platescope._progress` (silent when stderr is not a terminal) at any size.
PROGRESS_MIN_SPOTS = 5000
#: Below this many spots the automatic scheduler stays in-process (cluster start-up
#: costs more than it saves).
AUTO_PARALLEL_MIN_SPOTS = 1000

_EXECUTION: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "platescope_execution", default=None
)


@contextlib.contextmanager
def execution_options(
    *, scheduler: Any = None, workers: int | None = None, progress: bool | None = None
):
    """Set how per-spot work runs inside ``platescope analyze`` (a context manager).

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        ``None``/``"auto"``, ``"synchronous"``, ``"threads"``, ``"processes"``, a
        scheduler address (``"tcp://127.0.0.1:8786"``) or a connected Client.
    workers : int, optional
        Number of local workers (threads or processes); ≥ 1.
    progress : bool, optional
        Force the progress bar on or off (default: automatic).

    Examples
    --------
    >>> with execution_options(scheduler="synchronous", workers=1):
    ...     current_execution()["scheduler"]
    'synchronous'
    """
    if workers is not None:
        try:
            ok = int(workers) == workers and int(workers) >= 1
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(
                None,
                f"--workers {workers!r} is not a positive integer",
                "give --workers N with N ≥ 1",
            )
    token = _EXECUTION.set({"scheduler": scheduler, "workers": workers, "progress": progress})
    try:
        yield
    finally:
        _EXECUTION.reset(token)


def current_execution() -> dict:
    """The execution options in force (defaults when none were set)."""
    return dict(_EXECUTION.get() or {"scheduler": None, "workers": None, "progress": None})


def _default_workers() -> int:
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(n, 4))


def resolve_scheduler(scheduler: Any, workers: int | None, n_items: int) -> tuple[str, int]:
    """The concrete mode (``synchronous``/``threads``/``processes``/``address``/``client``) and workers.

    Examples
    --------
    >>> resolve_scheduler(None, None, 10)
    ('synchronous', 1)
    >>> resolve_scheduler("threads", 2, 10)
    ('threads', 2)
    """
    if scheduler is not None and not isinstance(scheduler, str):
        if hasattr(scheduler, "submit"):
            return "client", int(workers or 0)
        raise InputError(
            None,
            f"scheduler {scheduler!r} is not understood",
            "give a name, an address or a Client",
        )
    name = (scheduler or "auto").strip()
    low = name.lower()
    if low in ("auto", ""):
        w = workers or _default_workers()
        if w <= 1 or n_items < AUTO_PARALLEL_MIN_SPOTS:
            return "synchronous", 1
        return "processes", w
    if low in ("synchronous", "sync", "single-threaded"):
        return "synchronous", 1
    if low in ("threads", "processes"):
        return low, int(workers or _default_workers())
    if "://" in name or (":" in name and name.rsplit(":", 1)[-1].isdigit()):
        return "address", int(workers or 0)
    raise InputError(
        None,
        f"--scheduler {name!r} is not a scheduler name or address",
        "use auto, synchronous, threads, processes or a Dask scheduler address such as tcp://127.0.0.1:8786",
    )


@contextlib.contextmanager
def _client(mode: str, workers: int, scheduler: Any):
    """A distributed Client for the mode; closes what it started."""
    if mode == "client":
        yield scheduler
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency here
        raise InputError(
            None,
            "dask.distributed is not installed",
            "install it (pip install distributed) or run with --scheduler synchronous",
        ) from None
    if mode == "address":
        try:
            client = Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise InputError(
                None,
                f"cannot connect to the Dask scheduler at {scheduler} ({type(err).__name__})",
                "start the scheduler and its workers first, or omit --scheduler to run locally",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    # worker processes started while SIGINT is ignored keep ignoring it: Ctrl-C then
    # reaches only this process, which stops the cluster and exits quietly (exit 130)
    with _sigint_ignored(mode == "processes"):
        cluster = LocalCluster(
            n_workers=1 if mode == "threads" else workers,
            threads_per_worker=workers if mode == "threads" else 1,
            processes=mode == "processes",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextlib.contextmanager
def _sigint_ignored(active: bool):
    """Ignore SIGINT while worker processes start (they inherit it; main thread only).

    A Ctrl-C pressed during these one or two seconds is lost; the next one works.
    """
    import signal
    import threading

    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Bar:
    """The spots' progress display (:mod:`platescope._progress`) as an open/close object."""

    def __init__(self, total: int, force: bool | None, unit: str) -> None:
        from platescope._progress import progress

        self._cm = progress("spots", total=total, unit=unit, force=force)
        self._bar = self._cm.__enter__()

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


#: Automatic batch sizes: in-process batches (no per-task cost; bounded memory) and the
#: range for cluster tasks (≥ 256 spots ≈ 0.15 s of reading and analysis, so a task's
#: ≈ 3–10 ms of scheduling stays ≲ 1 %; ≤ 1024 keeps a batch's text and arrays
#: ≲ 50 MB at 10 ms sampling).
AUTO_BATCH_IN_PROCESS = 256
AUTO_BATCH_RANGE = (256, 1024)


def auto_batch_size(mode: str, workers: int, n_items: int) -> int:
    """Spots per task when none is given: 256 in-process, else 256–1024 (≥ 4 tasks per worker).

    Examples
    --------
    >>> auto_batch_size("synchronous", 1, 10**6), auto_batch_size("processes", 2, 10**5)
    (256, 1024)
    >>> auto_batch_size("processes", 2, 4000)
    500
    """
    if mode == "synchronous":
        return AUTO_BATCH_IN_PROCESS
    lo, hi = AUTO_BATCH_RANGE
    return int(min(hi, max(lo, n_items // (4 * max(int(workers), 1)))))


def _progress(total: int, progress: bool | None, unit: str) -> _Bar:
    return _Bar(total, progress, unit)


def map_batches(
    spots,
    func: Callable[..., Any],
    *,
    scheduler: Any = None,
    workers: int | None = None,
    batch_size: int | None = 256,
    progress: bool | None = None,
    info: dict | None = None,
) -> Iterator[Any]:
    """Run ``func(batch)`` over batches of a SpotSet; yield the results in batch order.

    Parameters
    ----------
    spots : platescope.io.SpotSet
        The spots (only its small index travels to the workers, batch by batch).
    func : callable
        ``func(batch: SpotSet) -> result``; must be picklable for process/remote
        workers (a module-level function or ``functools.partial`` of one).
    scheduler : str or distributed.Client, optional
        See :func:`execution_options`; ``None`` = automatic (in-process for fewer
        than :data:`AUTO_PARALLEL_MIN_SPOTS` spots or one worker, else a process
        LocalCluster).
    workers : int, optional
        Local workers (default: available cores, at most 4).
    batch_size : int or None
        Spots per task; ``None`` or 0: :func:`auto_batch_size` (256 in-process, 256–1024
        on a cluster so that Dask's per-task cost stays ≲ 1 %).
    progress : bool, optional
        Progress bar on/off (default automatic).
    info : dict, optional
        Filled with ``scheduler`` (the mode used), ``workers``, ``batch_size``,
        ``n_batches`` and ``elapsed_s``.

    Yields
    ------
    object
        ``func``'s result for batch 0, 1, 2 … in order.

    Examples
    --------
    >>> import tempfile
    >>> from platescope.simulate import simulate
    >>> from platescope.io import read_spots
    >>> exp = simulate("seccm-combinatorial", tempfile.mkdtemp(),
    ...                overrides={"n_conditions": 2, "n_repeats": 3})
    >>> spots = read_spots(exp.parent / "spots.csv")
    >>> [len(b) for b in map_batches(spots, lambda b: b, batch_size=4)]
    [4, 2]
    """
    t_start = time.perf_counter()
    n = len(spots)
    mode, w = resolve_scheduler(scheduler, workers, n)
    if not batch_size:
        w_auto = w
        if mode in ("address", "client"):
            w_auto = max(w, 1) if w else 2
        batch_size = auto_batch_size(mode, w_auto, n)
    batch_size = max(int(batch_size), 1)
    n_batches = math.ceil(n / batch_size)
    if info is not None:
        info.update(
            scheduler=mode
            if mode not in ("address", "client")
            else str(getattr(scheduler, "scheduler", scheduler)),
            workers=w,
            batch_size=batch_size,
            n_batches=n_batches,
        )
        if mode in ("address", "client"):
            info["scheduler_mode"] = mode
    bar = _progress(n, progress, "spot")
    try:
        if mode == "synchronous":
            for batch in spots.batches(batch_size):
                res = func(batch)
                if bar is not None:
                    bar.update(len(batch))
                yield res
        else:
            with _client(mode, w, scheduler) as client:
                if mode in ("address", "client") and info is not None:
                    with contextlib.suppress(Exception):
                        info["workers"] = len(client.scheduler_info().get("workers", {}))
                yield from _stream(
                    client,
                    spots,
                    func,
                    batch_size,
                    max(info.get("workers", w) if info else w, 1),
                    bar,
                )
    finally:
        if bar is not None:
            bar.close()
        if info is not None:
            info["elapsed_s"] = time.perf_counter() - t_start


def _stream(client, spots, func, batch_size: int, workers: int, bar) -> Iterator[Any]:
    from distributed import as_completed

    window = 2 * workers
    max_ahead = 4 * window
    batches = enumerate(spots.batches(batch_size))
    index_of: dict = {}
    sizes: dict[int, int] = {}
    done: dict[int, Any] = {}
    next_submit = 0
    next_yield = 0
    exhausted = False
    ac = as_completed(loop=client.loop)

    def submit_more() -> None:
        nonlocal next_submit, exhausted
        while not exhausted and len(index_of) < window and next_submit - next_yield < max_ahead:
            item = next(batches, None)
            if item is None:
                exhausted = True
                return
            k, batch = item
            fut = client.submit(
                func, batch, pure=False, key=f"platescope-batch-{k}-{os.getpid()}-{id(ac)}"
            )
            index_of[fut.key] = k
            sizes[k] = len(batch)
            ac.add(fut)
            next_submit += 1

    submit_more()
    try:
        for fut in ac:
            k = index_of.pop(fut.key)
            done[k] = fut.result()
            fut.release()
            if bar is not None:
                bar.update(sizes.pop(k))
            while next_yield in done:
                yield done.pop(next_yield)
                next_yield += 1
            submit_more()
    finally:
        for fut in list(ac.futures):
            with contextlib.suppress(Exception):
                fut.cancel()


def _k95(x):
    return None if x is None or not math.isfinite(x) else 2.0 * float(x)


def analyse_batch(batch, options: dict | None = None) -> dict:
    """Read and analyse every spot of a batch; unreadable spots are reported, not raised.

    The batch's records are read as flat arrays in one read and one parse
    (:meth:`platescope.io.SpotSet.read_arrays`), records of equal length go through
    :func:`platescope.echem._combinatorial_batch.spot_features_batch` as one array
    (no Python call per spot), and the table is built column by column; a group the
    batch function refuses is analysed spot by spot
    (:func:`platescope.echem.spot_features`) so that one bad record is reported alone.

    Parameters
    ----------
    batch : platescope.io.SpotSet
        A batch of spots.
    options : dict, optional
        Keyword options of :func:`platescope.echem.spot_features`.

    Returns
    -------
    dict
        ``rows`` (DataFrame: ``spot``, ``condition``, ``x_um``, ``y_um`` and the
        spot's features; ``*_err`` as expanded k = 2 uncertainties) and ``skipped``
        (list of ``{spot, path, reason}``).
    """
    from platescope.echem._combinatorial_batch import BATCH_COLUMNS, spot_features_batch

    options = dict(options or {})
    try:
        arr = batch.read_arrays()
    except Exception:  # noqa: BLE001 - a reader bug: read spot by spot, report the spot
        return _analyse_batch_frames(batch, options)
    index = batch.index
    j = index["current_density_mA_cm2"].to_numpy(float)
    area = index["area_cm2"].to_numpy(float)
    skipped: dict[int, dict] = {
        pos: _skip_entry_row(index, pos, err) for pos, err in arr.errors.items()
    }
    parts: list[tuple[np.ndarray, pd.DataFrame]] = []
    singles: dict[int, dict] = {}
    for pos, frame in arr.frames.items():
        row = _one_spot_frame(batch.spot(pos), frame, options, skipped, pos)
        if row is not None:
            singles[pos] = row
    for positions in arr.groups().values():
        t, e, i = arr.stacked(positions)
        try:
            feats = spot_features_batch(
                t, e, i, current_density_mA_cm2=j[positions], area_cm2=area[positions], **options
            )
        except Exception:  # noqa: BLE001 - redo spot by spot: the bad one is reported alone
            for k, p in enumerate(positions):
                row = _one_spot_frame(
                    batch.spot(int(p)),
                    pd.DataFrame({"time_s": t[k], "potential_V": e[k], "current_A": i[k]}),
                    options,
                    skipped,
                    int(p),
                )
                if row is not None:
                    singles[int(p)] = row
            continue
        parts.append((positions, feats))
    if singles:
        pos = np.fromiter(singles, dtype=np.int64, count=len(singles))
        parts.append(
            (pos, pd.DataFrame([singles[int(p)] for p in pos], columns=list(BATCH_COLUMNS)))
        )
    rows = _rows_table(index, parts, BATCH_COLUMNS)
    return {"rows": rows, "skipped": [skipped[p] for p in sorted(skipped)]}


def _rows_table(index: pd.DataFrame, parts, columns) -> pd.DataFrame:
    """The batch's row table (index order), built column by column (k = 2 errors)."""
    if not parts:
        return pd.DataFrame()
    pos = np.concatenate([p for p, _ in parts])
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    feats = pd.concat([f for _, f in parts], ignore_index=True).iloc[order]
    data: dict = {
        "spot": index["spot"].to_numpy()[pos],
        "condition": index["condition"].to_numpy()[pos],
        "x_um": index["x_um"].to_numpy(float)[pos],
        "y_um": index["y_um"].to_numpy(float)[pos],
    }
    for k in columns:
        col = feats[k]
        if k == "nucleated":
            data[k] = col.to_numpy(bool)
        elif k == "reason":
            data[k] = col.to_numpy(object)
        elif k == "n_samples":
            data[k] = col.to_numpy(np.int64)
        else:
            v = pd.to_numeric(col, errors="coerce").to_numpy(float)
            data[k] = 2.0 * v if k.endswith("_err") else v
    return pd.DataFrame(data)


def _skip_entry_row(index: pd.DataFrame, pos: int, err: Exception) -> dict:
    from types import SimpleNamespace

    from platescope.io._spotset import _py

    spot = SimpleNamespace(spot=_py(index["spot"].iat[pos]), path=str(index["path"].iat[pos]))
    return _skip_entry(spot, err)


def _one_spot_frame(spot, frame, options: dict, skipped: dict, pos: int) -> dict | None:
    from platescope.echem import spot_features

    try:
        return spot_features(
            frame,
            current_density_mA_cm2=spot.current_density_mA_cm2,
            area_cm2=spot.area_cm2,
            **options,
        )
    except Exception as err:  # noqa: BLE001 - one bad spot must not sink the others
        skipped[pos] = _skip_entry(spot, err)
        return None


def _analyse_batch_frames(batch, options: dict) -> dict:
    """:func:`analyse_batch` from per-spot DataFrames: the fallback when array reading
    fails. Same parameters, grouping by record length and per-spot retry, same result."""
    from platescope.echem import spot_features
    from platescope.echem._combinatorial_batch import BATCH_COLUMNS, spot_features_batch

    options = dict(options or {})
    skipped: list[dict] = []
    records: dict[int, tuple] = {}
    done: dict[int, dict] = {}
    spots = list(batch)
    try:
        # one pass over a vendor recording's rows for the whole batch (else spot by spot)
        read = batch.read_all()
    except Exception:  # noqa: BLE001 - a reader bug: read spot by spot, report the spot
        read = [None] * len(spots)
    for pos, spot in enumerate(spots):
        try:
            rec = read[pos] if read[pos] is not None else spot.read()
            if isinstance(rec, Exception):
                raise rec
            if not {"time_s", "potential_V", "current_A"} <= set(rec.columns):
                # the per-spot rules name the missing column (InputError → skipped)
                done[pos] = spot_features(
                    rec,
                    current_density_mA_cm2=spot.current_density_mA_cm2,
                    area_cm2=spot.area_cm2,
                    **options,
                )
                continue
            records[pos] = (
                rec["time_s"].to_numpy(float),
                rec["potential_V"].to_numpy(float),
                rec["current_A"].to_numpy(float),
            )
        except Exception as err:  # noqa: BLE001 - one bad spot must not sink the others
            skipped.append(_skip_entry(spot, err))
    by_len: dict[int, list[int]] = {}
    for pos, (t, _, _) in records.items():
        by_len.setdefault(t.size, []).append(pos)
    tables: dict[int, dict] = dict(done)
    for group in by_len.values():
        sub = [spots[p] for p in group]
        try:
            feats = spot_features_batch(
                np.stack([records[p][0] for p in group]),
                np.stack([records[p][1] for p in group]),
                np.stack([records[p][2] for p in group]),
                current_density_mA_cm2=np.array([s.current_density_mA_cm2 for s in sub]),
                area_cm2=np.array([s.area_cm2 for s in sub]),
                **options,
            )
        except Exception:  # noqa: BLE001 - redo spot by spot: the bad one is reported alone
            for p in group:
                row = _one_spot(spots[p], records[p], options, skipped)
                if row is not None:
                    tables[p] = row
            continue
        for p, rec in zip(group, feats.to_dict("records"), strict=True):
            tables[p] = rec
    rows = []
    for pos in sorted(tables):
        spot = spots[pos]
        row = {"spot": spot.spot, "condition": spot.condition, "x_um": spot.x_um, "y_um": spot.y_um}
        for k in BATCH_COLUMNS:
            v = tables[pos].get(k)
            row[k] = _k95(v) if k.endswith("_err") and v is not None else v
        rows.append(row)
    order = {sp.spot: i for i, sp in enumerate(spots)}
    skipped.sort(key=lambda s: order.get(s["spot"], 0))
    return {"rows": pd.DataFrame(rows), "skipped": skipped}


def _skip_entry(spot, err: Exception) -> dict:
    if isinstance(err, InputError):
        return {"spot": spot.spot, "path": spot.path, "reason": f"{err.problem}. Fix: {err.fix}."}
    return {
        "spot": spot.spot,
        "path": spot.path,
        "reason": f"the analysis of this spot failed ({type(err).__name__}: {err}); "
        "this is a platescope bug, please report it",
    }


def _one_spot(spot, record, options: dict, skipped: list) -> dict | None:
    from platescope.echem import spot_features

    t, e, i = record
    try:
        return spot_features(
            pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}),
            current_density_mA_cm2=spot.current_density_mA_cm2,
            area_cm2=spot.area_cm2,
            **options,
        )
    except Exception as err:  # noqa: BLE001 - one bad spot must not sink the others
        skipped.append(_skip_entry(spot, err))
        return None


def analyse_batch_per_spot(batch, options: dict | None = None) -> dict:
    """:func:`analyse_batch` one spot at a time (the reference of the batch path).

    One Python call of :func:`platescope.echem.spot_features` per spot; same output.
    """
    from platescope.echem import spot_features

    options = dict(options or {})
    rows = []
    skipped = []
    for spot in batch:
        try:
            rec = spot.read()
            f = spot_features(
                rec,
                current_density_mA_cm2=spot.current_density_mA_cm2,
                area_cm2=spot.area_cm2,
                **options,
            )
        except Exception as err:  # noqa: BLE001 - one bad spot must not sink 10,000 others
            skipped.append(_skip_entry(spot, err))
            continue
        row = {
            "spot": spot.spot,
            "condition": spot.condition,
            "x_um": spot.x_um,
            "y_um": spot.y_um,
        }
        for k, v in f.items():
            row[k] = _k95(v) if k.endswith("_err") and v is not None else v
        rows.append(row)
    return {"rows": pd.DataFrame(rows), "skipped": skipped}
