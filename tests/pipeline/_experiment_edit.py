"""Test helper: an edited copy of a simulated experiment file."""

from __future__ import annotations

from pathlib import Path


def edit_experiment(experiment, folder, *, drop=(), replace=None, drop_sections=()) -> Path:
    """Write ``folder/experiment.toml``: a copy of ``experiment`` without the lines whose
    key is in ``drop`` and the ``[sections]`` named in ``drop_sections``, with the values
    of ``replace`` (key -> TOML text) and its inputs by absolute path (so the copy reads
    the original's files from anywhere). Returns the new file's path.
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
    path = Path(folder) / "experiment.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
