"""Suite-wide guards (every test)."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

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


# ------------------------------------ expensive inputs built once for all xdist workers


@pytest.fixture(scope="session")
def build_once(tmp_path_factory):
    """``build_once(key, build) -> Path``: the folder ``build(folder)`` filled, built once
    per test run and shared by every xdist worker (a session fixture alone is built once
    per *worker*, so two files on two workers would each simulate and analyse it).

    The first caller builds in the run's temporary root while holding a lock on
    ``<key>.lock``; callers on other workers wait for it and get the same folder. A build
    that raises leaves no folder behind (the next caller tries again and fails the same
    way). The folder is built in place, not moved afterwards, so paths recorded inside it
    (a summary's absolute input paths) stay true. Callers must only read it.
    """
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, shared by the workers' own basetemps
    root = root / "built-once"
    root.mkdir(exist_ok=True)

    def build_once_(key: str, build) -> Path:
        folder, done = root / key, root / f"{key}.done"
        with open(root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                try:
                    build(folder)
                except BaseException:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise
                done.touch()
        return folder

    return build_once_


# ------------------------------------------- xdist: the longest test files start first
#
# ``--dist loadfile`` keeps each file on one worker (so a file's module fixtures, often a
# simulated and analysed experiment, are built once) and hands files out in xdist's order:
# most tests first. The end-to-end files have few tests but run longest, so they come
# last, where one of them can run alone on one core while the other has nothing left.
# Handing the longest files out first (longest-processing-time order) leaves the many
# short files to fill the gaps at the end. Only the schedule changes: every file still
# runs whole, on one worker, with the same tests.

#: the test files that take longest, longest first, ranked by the CPU seconds each took in
#: a full ``-n 2 --dist loadfile`` run (a per-test ``getrusage`` of the process and its
#: waited children, 2026-12-07, load 3-11 from other jobs, so CPU seconds, not wall;
#: test_strobe.py from a ``-n 0`` run after it was trimmed). Re-rank from such a run when
#: files are split, renamed, added or trimmed. Files not listed keep xdist's order,
#: after these.
_LONGEST_FILES: tuple[str, ...] = (
    "tests/pipeline/test_registration_default.py",  # 112
    "tests/test_examples.py",  # 83 (one subprocess per docs example)
    "tests/optics/test_kernels.py",  # 71
    "tests/pipeline/test_pipeline_irm_galvanostatic.py",  # 65
    "tests/pipeline/test_pipeline_registration.py",  # 40
    "tests/viewer/test_napari.py",  # 37 (with the viewer sample it builds)
    "tests/particles/test_sem_particles.py",  # 36
    "tests/pipeline/test_pipeline_irm_contact_start.py",  # 36
    "tests/pipeline/test_demo_parallel.py",  # 35
    "tests/report/test_demo_outputs.py",  # 34
    "tests/pipeline/test_sem_series.py",  # 34
    "tests/optics/test_registration_irm_cv.py",  # 33
    "tests/pipeline/test_pipeline_see_through_static.py",  # 26
    "tests/pipeline/test_publish_atomic.py",  # 25
    "tests/pipeline/test_sem_contrast.py",  # 22
    "tests/optics/test_registration.py",  # 21
    "tests/pipeline/test_pipeline_irm_cv.py",  # 21
    "tests/test_readme_examples.py",  # 20
    "tests/volume/test_tomography_truth.py",  # 20
    "tests/pipeline/test_movie_reads_budget.py",  # 19
    "tests/pipeline/test_catalog_rocrate.py",  # 18
    "tests/cli/test_cli.py",  # 17
    "tests/pipeline/test_pipeline_sem_particles.py",  # 16
    "tests/pipeline/test_pipeline_sims_diffusion.py",  # 16
    "tests/particles/test_morphology.py",  # 14
    "tests/sync/test_strobe.py",  # 13
)
# tests/viewer/test_layers.py (426 s wall in an earlier full run) is left out on purpose: it reads the
# analysed sample that test_napari.py, listed, builds (``build_once``); handed out after
# the listed files it finds the sample built instead of waiting for it on the other worker.
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
