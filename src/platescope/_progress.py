"""One labelled progress display for every long step (reading, maps, spots, tracking).

:func:`progress` is a context manager around a ``tqdm`` bar on stderr. With a
``total`` it counts items (frames, spots, tracks); without one it shows the label and
the elapsed time, refreshed twice a second. It is silent — no output at all, no thread — when stderr is not a
terminal (a log file, a pipe, a test) or when the user asked for quiet
(``platescope analyze --quiet``, :func:`set_quiet`, or the environment variable
``PLATESCOPE_QUIET=1``). Nested displays stack below each other.

The pipeline labels each scenario step through
:func:`platescope.pipeline._scenarios.run_step`; long loops inside a step call
``bar.update(n)`` on the display they open.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Progress", "enabled", "progress", "set_quiet", "track"]

_QUIET = False
_LOCAL = threading.local()


def set_quiet(quiet: bool = True) -> None:
    """Switch every progress display off (``True``) or back to automatic (``False``).

    Examples
    --------
    >>> set_quiet(True); enabled()
    False
    >>> set_quiet(False)
    """
    global _QUIET
    _QUIET = bool(quiet)


def enabled(*, force: bool | None = None) -> bool:
    """Whether a progress display would be drawn now.

    Parameters
    ----------
    force : bool, optional
        ``True``/``False`` overrides the automatic choice (quiet still wins).

    Returns
    -------
    bool
        False when quiet (:func:`set_quiet`, ``PLATESCOPE_QUIET``); else ``force``
        when given; else whether stderr is a terminal.

    Examples
    --------
    >>> enabled(force=False)
    False
    """
    if _QUIET or os.environ.get("PLATESCOPE_QUIET", "").strip() not in ("", "0"):
        return False
    if force is not None:
        return bool(force)
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class Progress:
    """The handle :func:`progress` yields: ``update(n)``, ``set_note(text)``, ``n``.

    When the display is silent the same calls work and only count.
    """

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar
        self.n = 0

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items done."""
        self.n += int(n)
        if self._bar is not None:
            self._bar.update(n)

    def set_note(self, text: str) -> None:
        """Show a short note after the counter (e.g. the current file)."""
        if self._bar is not None:
            self._bar.set_postfix_str(str(text), refresh=False)


@contextlib.contextmanager
def progress(
    label: str, *, total: int | None = None, unit: str = "it", force: bool | None = None
) -> Iterator[Progress]:
    """Show a labelled progress display on stderr while the block runs.

    Parameters
    ----------
    label : str
        What is running, e.g. ``"reading movie"`` or ``"t_nuc map"``.
    total : int, optional
        Number of items the block will ``update`` through; without it the display
        shows the elapsed time only.
    unit : str
        Item name for the rate (``"frame"``, ``"spot"``).
    force : bool, optional
        Draw (``True``) or not (``False``) regardless of the terminal test;
        :func:`set_quiet` still wins.

    Yields
    ------
    Progress
        Call ``update(n)`` as items finish.

    Examples
    --------
    >>> with progress("counting", total=3, force=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    >>> bar.n
    3
    """
    if not enabled(force=force):
        yield Progress(None)
        return
    from tqdm import tqdm

    depth = getattr(_LOCAL, "depth", 0)
    _LOCAL.depth = depth + 1
    bar = tqdm(
        total=total,
        desc=label,
        unit=unit,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=depth == 0,
        position=depth,
        mininterval=0.25,
        bar_format=None if total is not None else "{desc}: {elapsed}{postfix}",
    )
    stop = threading.Event()
    ticker = None
    if total is None:  # nothing updates it: refresh the elapsed time from a thread

        def _tick() -> None:
            while not stop.wait(0.5):
                with contextlib.suppress(Exception):
                    bar.refresh()

        ticker = threading.Thread(target=_tick, name="platescope-progress", daemon=True)
        ticker.start()
    try:
        yield Progress(bar)
    finally:
        stop.set()
        if ticker is not None:
            ticker.join(timeout=1.0)
        bar.close()
        _LOCAL.depth = depth


def track(
    items: Iterable[Any], label: str, *, total: int | None = None, unit: str = "it"
) -> Iterator[Any]:
    """Iterate ``items`` with a labelled display counting them.

    Parameters
    ----------
    items : iterable
        What to iterate.
    label : str
        What is running.
    total : int, optional
        Length, when ``items`` has no ``len``.
    unit : str
        Item name.

    Yields
    ------
    object
        The items, unchanged.

    Examples
    --------
    >>> list(track(range(3), "frames"))
    [0, 1, 2]
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(label, total=total, unit=unit) as bar:
        for item in items:
            yield item
            bar.update()
