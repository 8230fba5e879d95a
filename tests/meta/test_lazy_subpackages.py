"""``import platescope as ps`` reaches every subpackage of the source tree."""

from __future__ import annotations

import importlib
from pathlib import Path

import platescope


def test_every_subpackage_is_reachable_lazily():
    root = Path(platescope.__file__).parent
    found = sorted(
        p.name
        for p in root.iterdir()
        if (p / "__init__.py").is_file() and not p.name.startswith("_")
    )
    for name in found:
        mod = getattr(platescope, name)
        assert mod is importlib.import_module(f"platescope.{name}"), name
