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
# most tests first. The end-to-end files have few tests but run longest, so they come
# last, where one of them can run alone on one core while the other has nothing left.
# Handing the longest files out first (longest-processing-time order) leaves the many
# short files to fill the gaps at the end. Only the schedule changes: every file still
# runs whole, on one worker, with the same tests.

#: the test files expected to take longest, longest first: end-to-end files whose module
#: fixtures simulate and analyse default-size experiments, run the docs' example scripts
#: or every scenario's figures. A ranking from reading the files and from single-test CPU
#: measurements, not yet from a full timed run: re-rank from a full ``-n 2 --dist
#: loadfile --durations=0`` run when files are split, renamed or added. Files not listed
#: keep xdist's order (most tests first), after these.
_LONGEST_FILES: tuple[str, ...] = (
    "tests/pipeline/test_pipeline_irm_galvanostatic.py",
    "tests/pipeline/test_pipeline_irm_contact_start.py",
    "tests/report/test_demo_outputs.py",
    "tests/test_examples.py",
    "tests/pipeline/test_pipeline_sem_particles.py",
    "tests/simulate/test_irm_galvanostatic.py",
    "tests/pipeline/test_sem_contrast.py",
    "tests/pipeline/test_provenance_values.py",
    "tests/pipeline/test_demo_parallel.py",
    "tests/particles/test_sem_particles.py",
)
_RANK = {f: i for i, f in enumerate(_LONGEST_FILES)}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the files of ``_LONGEST_FILES`` handed out first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFilesFirst(LoadFileScheduling):
        _ordered = False

        def _assign_work_unit(self, node):
            if not self._ordered:  # the queue is complete before the first hand-out
                self._ordered = True
                units = sorted(  # stable: the others keep xdist's order
                    self.workqueue.items(), key=lambda u: _RANK.get(u[0], len(_RANK))
                )
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return LongestFilesFirst(config, log)
