"""Test helper: an edited copy of a simulated experiment file."""

from __future__ import annotations

from pathlib import Path

#: TOML that turns the drift registration off (``append=REGISTRATION_OFF``). Only for a
#: test whose subject is not the registration, of a scenario whose default path
#: (registration on) another test runs end to end and asserts on — name that test where
#: this is used. On the simulator's still stage the registration on by default applies
#: nothing (``tests/pipeline/test_registration_default.py``), so the numbers are those of
#: registration on, without its 5–15 CPU s per analysis; the bad-frame exclusion stays on.
REGISTRATION_OFF = "[analysis.registration]\nenabled = false\n"


def edit_experiment(
    experiment, folder, *, drop=(), replace=None, drop_sections=(), append=""
) -> Path:
    """Write ``folder/experiment.toml``: a copy of ``experiment`` without the lines whose
    key is in ``drop`` and the ``[sections]`` named in ``drop_sections``, with the values
    of ``replace`` (key -> TOML text), its inputs by absolute path (so the copy reads
    the original's files from anywhere) and the TOML text ``append`` at the end (e.g.
    :data:`REGISTRATION_OFF`). Returns the new file's path.
    """
    experiment = Path(experiment)
    lines = []
    section = None
    for line in experiment.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        if section in drop_sections:
            continue
        key = line.split("=")[0].strip()
        if key in drop:
            continue
        if replace and key in replace:
            line = f"{key} = {replace[key]}"
        if key in ("path", "frame_times"):
            rel = line.split("=", 1)[1].strip().strip('"')
            line = f'{key} = "{experiment.parent / rel}"'
        lines.append(line)
    if append:
        lines.append(append.rstrip("\n"))
    path = Path(folder) / "experiment.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
