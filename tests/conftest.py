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

#: the test files that took longest, longest first, in a full ``-n 2 --dist loadfile
#: --durations=0`` run (2026-12-07, at load 8-28 from other jobs, so a ranking, not
#: seconds); test_pipeline_irm_galvanostatic.py was one file then (1518 s, of which
#: ~60 % the contact-start part now in its own file). Re-rank from such a run when files
#: are split, renamed or added. Files not listed keep xdist's order, after these.
_LONGEST_FILES: tuple[str, ...] = (
    "tests/pipeline/test_sem_series.py",  # 1635 s
    "tests/pipeline/test_pipeline_irm_contact_start.py",
    "tests/pipeline/test_pipeline_sem_particles.py",  # 822 s
    "tests/pipeline/test_provenance_values.py",  # 688 s
    "tests/viewer/test_napari.py",  # 684 s
    "tests/pipeline/test_pipeline_irm_galvanostatic.py",
    "tests/pipeline/test_pipeline_registration.py",  # 548 s
    "tests/viewer/test_layers.py",  # 426 s
    "tests/pipeline/test_output_safety.py",  # 377 s
    "tests/particles/test_footprint.py",  # 340 s
    "tests/particles/test_sem_particles.py",  # 299 s
    "tests/test_examples.py",  # 299 s
    "tests/cli/test_progress_and_index.py",  # 282 s
    "tests/test_readme_examples.py",  # 258 s
    "tests/pipeline/test_pipeline_see_through.py",  # 255 s
    "tests/pipeline/test_pipeline_afm.py",  # 239 s
    "tests/pipeline/test_catalog_rocrate.py",  # 227 s
    "tests/pipeline/test_demo_parallel.py",  # 203 s
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
