"""Suite-wide guards (every test)."""

from __future__ import annotations

import signal

import pytest


@pytest.fixture(autouse=True)
def _sigint_handler_restored():
    """A test (or the library code it runs) that changes the SIGINT handler must put the
    previous one back: otherwise every child process a later test starts inherits it (an
    ignored SIGINT survives ``exec``) and Ctrl-C tests pass or fail by test order.

    Compared with the handler the test started with, not with Python's default: a suite
    started as a background job of a non-interactive shell (``cmd &``) begins with SIGINT
    ignored, which is not a test's doing.
    """
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    if after != before:
        signal.signal(signal.SIGINT, before)  # the next tests start as this one did
        pytest.fail(f"the SIGINT handler was left changed: {before!r} -> {after!r}")


# ------------------------------------------- xdist: the longest test files start first
#
# ``--dist loadfile`` keeps each file on one worker (so a file's module fixtures, often a
# simulated and analysed experiment, are built once) and hands files out in xdist's order:
# most tests first. The end-to-end files have few tests but run longest, so they came
# last, and one of them ran alone on one core while the other core had nothing left.
# Handing the longest files out first (longest-processing-time order) leaves the many
# short files to fill the gaps at the end. Only the schedule changes: every file still
# runs whole, on one worker, with the same tests.

#: seconds one worker spent on each of the longest files (setup + call + teardown of its
#: tests) in a full ``-n 2 --dist loadfile`` run; only the order matters. Files not
#: listed keep xdist's order, after these. Re-measure with ``--durations=0`` when a file
#: here is split or renamed, or a new file takes longer than the last one listed.
_FILE_SECONDS: dict[str, float] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the files of ``_FILE_SECONDS`` handed out first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFilesFirst(LoadFileScheduling):
        _ordered = False

        def _assign_work_unit(self, node):
            if not self._ordered:  # the queue is complete before the first hand-out
                self._ordered = True
                units = sorted(  # stable: the others keep xdist's order
                    self.workqueue.items(), key=lambda u: -_FILE_SECONDS.get(u[0], 0.0)
                )
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return LongestFilesFirst(config, log)
