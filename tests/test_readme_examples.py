"""The README's Python examples run as written, in order, in a fresh folder.

Every fenced ```python block under a README.md heading whose text contains "Python"
(down to the next heading of the same or a higher level) is joined, in order, into one
script that runs in one subprocess with an empty temporary folder as its working
directory, so the blocks may build on each other but not on files of the repository.
Without such a section the test is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TIMEOUT_S = 300
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def python_blocks(markdown: str) -> list[str]:
    """The ```python blocks of the sections whose heading contains "Python", in order.

    A section runs from its heading to the next heading of the same or a higher level
    (sub-headings stay inside it). Headings inside fenced blocks are not headings.

    Examples
    --------
    >>> md = "# A\\n```python\\nx = 0\\n```\\n## Python use\\n```python\\nx = 1\\n```\\n"
    >>> md += "### more\\n```python\\ny = x\\n```\\n```bash\\nls\\n```\\n## CLI\\n```python\\nz\\n```\\n"
    >>> python_blocks(md)
    ['x = 1\\n', 'y = x\\n']
    """
    blocks: list[str] = []
    level = None  # heading level of the Python section we are in, if any
    fence = None  # (marker, is_python, lines) of the open fenced block
    for line in markdown.splitlines():
        if fence is not None:
            marker, is_python, body = fence
            if line.strip().startswith(marker[0] * len(marker)) and not line.strip().strip(
                marker[0]
            ):
                if is_python and level is not None:
                    blocks.append("".join(ln + "\n" for ln in body))
                fence = None
            else:
                body.append(line)
            continue
        m = _FENCE.match(line)
        if m:
            fence = (m.group(2), m.group(3).lower() in ("python", "py", "python3"), [])
            continue
        h = _HEADING.match(line)
        if h:
            n = len(h.group(1))
            if level is not None and n <= level:
                level = None
            if level is None and "python" in h.group(2).lower():
                level = n
    return blocks


def test_python_blocks_ignores_other_sections_and_languages():
    md = (
        "## Install\n```python\nimport nothing_here\n```\n"
        "## From Python\ntext\n~~~python\na = 1\n~~~\n"
        "```\n# Python in a plain block is not a heading\n```\n"
        "```python\nb = a + 1\n```\n"
        "# Next top section\n```python\nc = 3\n```\n"
    )
    assert python_blocks(md) == ["a = 1\n", "b = a + 1\n"]
    assert python_blocks("# Python\n\nno code\n") == []


def test_readme_python_examples_run_in_a_fresh_folder(tmp_path):
    if not README.is_file():
        pytest.skip(f"no README.md at {README}")
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(
            'README.md has no ```python block under a heading containing "Python" '
            "(the lead writes that section; this test runs it once it exists)"
        )
    script = tmp_path / "readme_examples.py"
    script.write_text(
        "\n".join(f"# --- README block {k + 1}\n{b}" for k, b in enumerate(blocks)),
        encoding="utf-8",
    )
    work = tmp_path / "fresh"
    work.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, (
        f"the README's Python examples ({len(blocks)} blocks) failed:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
