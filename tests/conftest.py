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
