"""The progress display: labelled on a terminal, silent otherwise or when quiet."""

from __future__ import annotations

import io
import sys

import pytest

from platescope import _progress
from platescope._progress import enabled, progress, set_quiet, track


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch):
    """A terminal on stderr (patched when the test body runs: pytest's capture swaps
    sys.stderr between the setup and call phases)."""
    monkeypatch.delenv("PLATESCOPE_QUIET", raising=False)
    stream = _Tty()

    def install():
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    yield install
    set_quiet(False)


def test_labelled_bar_on_a_terminal(tty):
    tty = tty()
    with progress("reading movie", total=4, unit="frame") as bar:
        for _ in range(4):
            bar.update()
    text = tty.getvalue()
    assert "reading movie" in text and "4/4" in text and bar.n == 4


def test_label_without_total_shows_elapsed(tty):
    tty = tty()
    with progress("t_nuc map"):
        pass
    assert "t_nuc map: 00:00" in tty.getvalue()


def test_silent_when_not_a_terminal(monkeypatch):
    stream = io.StringIO()  # isatty() is False
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delenv("PLATESCOPE_QUIET", raising=False)
    with progress("spots", total=3) as bar:
        bar.update(3)
    assert list(track(range(2), "frames")) == [0, 1]
    assert stream.getvalue() == "" and bar.n == 3


def test_quiet_wins_over_terminal_and_force(tty, monkeypatch):
    tty = tty()
    set_quiet(True)
    with progress("spots", total=2, force=True) as bar:
        bar.update(2)
    assert tty.getvalue() == "" and not enabled(force=True)
    set_quiet(False)
    monkeypatch.setenv("PLATESCOPE_QUIET", "1")
    with progress("spots", total=2):
        pass
    assert tty.getvalue() == ""


def test_nested_displays_restore_depth(tty):
    tty = tty()
    with progress("outer"):
        with progress("inner", total=1) as bar:
            bar.update()
    assert getattr(_progress._LOCAL, "depth", 0) == 0
    assert "outer" in tty.getvalue() and "inner" in tty.getvalue()
