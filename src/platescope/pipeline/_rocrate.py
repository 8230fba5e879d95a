"""``ro-crate-metadata.json``: the result folder described as an RO-Crate 1.1.

Every result folder ``analyze`` publishes is an *attached RO-Crate* (RO-Crate Metadata
Specification 1.1, https://w3id.org/ro/crate/1.1), written here with the standard
library only. The JSON-LD ``@graph`` (flattened: every entity once, linked by ``@id``)
holds:

- the metadata descriptor ``ro-crate-metadata.json`` (``CreativeWork``,
  ``conformsTo`` the 1.1 specification, ``about`` the root);
- the root data entity ``./`` (``Dataset``: ``name``, ``description``,
  ``datePublished``, ``license``, ``hasPart`` = every output file);
- one ``File`` per output (``summary.json``, ``report.html``, tables, maps, figures)
  with ``encodingFormat`` and ``contentSize``;
- one ``File`` per input (the experiment file and every input and sidecar the readers
  opened, as recorded in ``summary.json``), identified by its absolute ``file://`` URI
  (inputs stay outside the result folder), with ``sha256``, ``contentSize`` and the
  path relative to the experiment file as ``alternateName``;
- the software ``#platescope`` (``SoftwareApplication`` with ``version``);
- one ``PropertyValue`` per analysis parameter (``name`` = ``analysis.key``);
- the run ``#analyze`` (``CreateAction``: ``instrument`` the software, ``object`` the
  inputs and parameters, ``result`` the outputs, ``endTime``).
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from urllib.parse import quote

__all__ = ["CRATE_FILE", "ro_crate", "write_ro_crate"]

CRATE_FILE = "ro-crate-metadata.json"
SPEC = "https://w3id.org/ro/crate/1.1"
CONTEXT = "https://w3id.org/ro/crate/1.1/context"

_FORMATS = {
    ".json": "application/json",
    ".html": "text/html",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".toml": "application/toml",
}


def _format(path: Path) -> str:
    return (
        _FORMATS.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or ("application/octet-stream")
    )


def _flat_parameters(params: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in sorted(params.items(), key=lambda kv: str(kv[0])):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flat_parameters(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def _jsonld_value(value):
    """A parameter value as JSON-LD can hold it (lists and null as text)."""
    if value is None:
        return "null"
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, default=str)


def _input_records(summary: dict) -> list[dict]:
    records = []
    ef = summary.get("experiment_file")
    if isinstance(ef, dict):
        records.append({"role": "experiment", **ef})
    for role, rec in sorted((summary.get("inputs") or {}).items()):
        if isinstance(rec, dict):
            records.append({"role": str(role), **rec})
    for rec in summary.get("files_read") or []:
        if isinstance(rec, dict):
            records.append(dict(rec))
    return records


def ro_crate(folder, summary: dict) -> dict:
    """The RO-Crate metadata document (a dict) of a result folder.

    Parameters
    ----------
    folder : path
        The result folder (its files, except hidden ones and the crate file itself,
        become the crate's parts).
    summary : dict
        The run's ``summary.json`` content.

    Returns
    -------
    dict
        JSON-LD with ``@context`` and a flat ``@graph``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text("{}")
    >>> crate = ro_crate(d, {"scenario": "irm-cv", "platescope_version": "0.1.0",
    ...                      "created_utc": "2026-12-06T23:00:00+00:00"})
    >>> [e["@id"] for e in crate["@graph"]][:3]
    ['ro-crate-metadata.json', './', 'summary.json']
    """
    folder = Path(folder)
    version = str(summary.get("platescope_version") or "unknown")
    created = summary.get("created_utc")
    outputs = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name == CRATE_FILE:
                continue
            p = Path(dirpath) / name
            outputs.append(p.relative_to(folder).as_posix())
    outputs.sort(key=lambda r: (r.count("/"), r))  # summary.json, report.html first
    out_entities = [
        {
            "@id": quote(rel),
            "@type": "File",
            "name": rel,
            "encodingFormat": _format(Path(rel)),
            "contentSize": str((folder / rel).stat().st_size),
        }
        for rel in outputs
    ]
    in_entities = []
    seen = set()
    for rec in _input_records(summary):
        path = rec.get("path_abs") or rec.get("path")
        if not path:
            continue
        uri = Path(os.path.abspath(path)).as_uri()
        if uri in seen:
            continue
        seen.add(uri)
        entity = {
            "@id": uri,
            "@type": "Dataset" if rec.get("kind", "").startswith("folder") else "File",
            "name": f"input: {rec.get('role', 'file')}",
            "alternateName": rec.get("path"),
        }
        if rec.get("sha256"):
            entity["sha256"] = rec["sha256"]
        if rec.get("bytes") is not None:
            entity["contentSize"] = str(rec["bytes"])
        if entity["@type"] == "File":
            entity["encodingFormat"] = _format(Path(path))
        in_entities.append(entity)
    params = [
        {
            "@id": f"#param-{quote(name, safe='._-')}",
            "@type": "PropertyValue",
            "name": name,
            "value": _jsonld_value(value),
        }
        for name, value in _flat_parameters(summary.get("parameters") or {})
    ]
    software = {
        "@id": "#platescope",
        "@type": "SoftwareApplication",
        "name": "platescope",
        "version": version,
        "description": "Operando microscopy + electrochemistry of metal plating.",
        "license": "https://spdx.org/licenses/BSD-3-Clause",
    }
    action = {
        "@id": "#analyze",
        "@type": "CreateAction",
        "name": f"platescope analyze ({summary.get('scenario')})",
        "instrument": {"@id": software["@id"]},
        "object": [{"@id": e["@id"]} for e in in_entities + params],
        "result": [{"@id": e["@id"]} for e in out_entities],
    }
    if created:
        action["endTime"] = created
    name = summary.get("name") or summary.get("scenario") or folder.name
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"platescope results: {name}",
        "description": (
            f"Results of platescope {version} analysing scenario {summary.get('scenario')}: "
            "summary.json, report.html, tables (CSV and Parquet), maps and figures."
        ),
        "datePublished": created or "1970-01-01T00:00:00+00:00",
        "license": {"@id": "#license"},
        "hasPart": [{"@id": e["@id"]} for e in out_entities],
        "mentions": [{"@id": action["@id"]}],
    }
    license_entity = {
        "@id": "#license",
        "@type": "CreativeWork",
        "name": "not stated",
        "description": "The results carry the licence of the data they were computed from; "
        "platescope itself is BSD-3-Clause.",
    }
    descriptor = {
        "@id": CRATE_FILE,
        "@type": "CreativeWork",
        "conformsTo": {"@id": SPEC},
        "about": {"@id": "./"},
    }
    graph = [descriptor, root, *out_entities, *in_entities, software, *params, action]
    graph.append(license_entity)
    return {"@context": CONTEXT, "@graph": graph}


def write_ro_crate(folder, summary: dict) -> Path:
    """Write ``folder/ro-crate-metadata.json`` (atomically); returns its path.

    Call it after every other output of the run is in ``folder``.

    >>> import tempfile, pathlib, json
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_ro_crate(d, {"scenario": "irm-cv"})
    >>> json.loads(p.read_text())["@context"]
    'https://w3id.org/ro/crate/1.1/context'
    """
    from platescope._atomic import atomic_write_text

    path = Path(folder) / CRATE_FILE
    crate = ro_crate(folder, summary)
    atomic_write_text(path, json.dumps(crate, indent=1, ensure_ascii=False, allow_nan=False))
    return path
