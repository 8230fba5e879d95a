"""SIMS depth profiles of lithium isotopes (tracer-diffusion experiments).

A profile is a delimited text table (``,`` ``;`` or tab, found from the header line;
lines starting with ``#`` before the header are skipped) with one row per sputter
cycle and the columns

- ``depth_um`` (or ``depth_nm``): depth below the surface, µm; **or**
  ``time_s`` / ``sputter_time_s``: sputter time, s, converted to depth by a crater
  depth (``crater_depth_um`` = the depth at the last point, constant sputter rate, so
  ``depth = crater_depth_um · t / t_last``) or a sputter rate
  (``depth = sputter_rate_um_s · t``), both from the experiment file's ``[[sims]]``
  entry; a ``crater_depth_um`` given with a depth column rescales that depth so the
  last point lies at the measured crater depth;
- ``counts_6Li``, ``counts_7Li``: secondary-ion counts of the two Li isotopes;
- optionally any other ``counts_<mass><element>`` channel, e.g. ``counts_18O``,
  ``counts_16O`` (surface contamination markers).

The reader yields a :class:`pandas.DataFrame` with ``depth_um`` first, then every
``counts_*`` column (float), then ``time_s`` when the file gave sputter times; ``attrs``
carry ``source``, ``depth_source`` (``"file"``, ``"file, rescaled to crater_depth_um"``,
``"crater_depth"`` or ``"sputter_rate"``) and ``channels``. Bad input (missing columns, text or empty cells,
negative counts, a depth or time axis that does not increase, fewer than
:data:`MIN_POINTS` rows, no Li counts at all) raises
:class:`~platescope.InputError` naming the file, the problem and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError

__all__ = ["MIN_POINTS", "describe_sims", "looks_like_sims", "parse_sims_text", "read_sims"]

#: Fewest depth points a profile must have (a 3-parameter fit plus the surface scan).
MIN_POINTS = 8

_COUNT_RE = re.compile(r"^counts_(\d+)([A-Z][a-z]?)$")
_TIME_NAMES = ("time_s", "sputter_time_s")
_FIX_FORMAT = (
    "export the profile as a CSV with a header line depth_um,counts_6Li,counts_7Li "
    "(or time_s,counts_6Li,counts_7Li plus crater_depth_um or sputter_rate_um_s in the "
    "[[sims]] entry)"
)


def _decode(raw: bytes, path) -> str:
    if b"\x00" in raw[:4096]:
        raise InputError(path, "the file is binary, not a text table", _FIX_FORMAT)
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(path, "the file is not text", _FIX_FORMAT)  # pragma: no cover


def _header_and_rows(text: str, path) -> tuple[list[str], list[list[str]], int, str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    k = 0
    while k < len(lines) and (not lines[k].strip() or lines[k].lstrip().startswith("#")):
        k += 1
    if k == len(lines):
        raise InputError(path, "the file holds no header line and no data", _FIX_FORMAT)
    head = lines[k]
    counts = {sep: head.count(sep) for sep in ("\t", ";", ",")}
    sep = max(counts, key=lambda c: (counts[c], c != ","))
    if counts[sep] == 0:
        raise InputError(
            path,
            f"the first non-comment line (line {k + 1}) has no column separator (, ; or tab), "
            "so it is not a column-name line",
            _FIX_FORMAT,
        )
    names = [c.strip().strip('"').strip() for c in head.split(sep)]
    rows = []
    for line in lines[k + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append([c.strip().strip('"') for c in line.split(sep)])
    return names, rows, k + 1, sep


def parse_sims_text(
    text: str,
    *,
    path=None,
    crater_depth_um: float | None = None,
    sputter_rate_um_s: float | None = None,
) -> pd.DataFrame:
    """Parse the text of a SIMS depth profile (see the module docstring for the format).

    Parameters
    ----------
    text : str
        The file's content.
    path : str or os.PathLike, optional
        Named in error messages.
    crater_depth_um : float, optional
        Depth at the last point, µm, for profiles given in sputter time.
    sputter_rate_um_s : float, optional
        Sputter rate, µm s⁻¹, for profiles given in sputter time.

    Returns
    -------
    pandas.DataFrame
        ``depth_um``, ``counts_*`` (float) and ``time_s`` when the file gave times.

    Raises
    ------
    InputError
        Missing columns, non-numbers or empty cells, negative counts, a depth/time
        axis that does not increase, too few points, no Li counts.

    Examples
    --------
    >>> text = "depth_um,counts_6Li,counts_7Li\\n" + "".join(
    ...     f"{0.1 * (i + 1)},{100 + i},{900 - i}\\n" for i in range(10))
    >>> df = parse_sims_text(text)
    >>> list(df.columns), len(df)
    (['depth_um', 'counts_6Li', 'counts_7Li'], 10)
    >>> t = "time_s;counts_6Li;counts_7Li\\n" + "".join(f"{i + 1};5;5\\n" for i in range(10))
    >>> parse_sims_text(t, crater_depth_um=2.0)["depth_um"].iloc[[0, -1]].tolist()
    [0.2, 2.0]
    """
    where = path if path is not None else "<SIMS text>"
    names, rows, first_line, sep = _header_and_rows(text, where)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(
            where, f"the header repeats column(s) {', '.join(dup)}", "give each column once"
        )
    missing = [c for c in ("counts_6Li", "counts_7Li") if c not in names]
    depth_col = next((c for c in ("depth_um", "depth_nm") if c in names), None)
    time_col = next((c for c in _TIME_NAMES if c in names), None)
    if missing or (depth_col is None and time_col is None):
        need = missing + ([] if depth_col or time_col else ["depth_um (or time_s)"])
        raise InputError(
            where,
            f"the profile lacks column(s) {', '.join(need)} (found {', '.join(names)})",
            _FIX_FORMAT,
        )
    if depth_col is None and crater_depth_um is None and sputter_rate_um_s is None:
        raise InputError(
            where,
            f"the profile is in sputter time ({time_col}) and nothing converts it to depth",
            "add crater_depth_um (depth of the crater at the last point, µm) or "
            "sputter_rate_um_s to this file's [[sims]] entry in the experiment file",
        )
    if depth_col is None and crater_depth_um is not None and sputter_rate_um_s is not None:
        raise InputError(
            where,
            "both crater_depth_um and sputter_rate_um_s are given for one profile",
            "keep one of them in the [[sims]] entry",
        )
    for key, value in (
        ("crater_depth_um", crater_depth_um),
        ("sputter_rate_um_s", sputter_rate_um_s),
    ):
        if value is not None and not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and np.isfinite(value)
            and value > 0
        ):
            raise InputError(
                where, f"{key} = {value!r} is not a positive number", f"give {key} > 0"
            )
    keep = [c for c in names if c in (depth_col, time_col) or _COUNT_RE.match(c)]
    idx = [names.index(c) for c in keep]
    values = np.empty((len(rows), len(keep)))
    for r, row in enumerate(rows):
        line_no = first_line + r + 1
        for j, (col, i) in enumerate(zip(keep, idx, strict=True)):
            cell = row[i] if i < len(row) else ""
            if sep != "," and "," in cell and "." not in cell:
                cell = cell.replace(",", ".")
            try:
                v = float(cell)
            except ValueError:
                v = None
            if v is None or not np.isfinite(v):
                what = "empty" if cell == "" else f"'{cell[:20]}'"
                raise InputError(
                    where,
                    f"data row {r + 1} (about line {line_no}) has {what} in column {col}",
                    "remove or fill the row so every cell is a finite number",
                )
            values[r, j] = v
    if len(rows) < MIN_POINTS:
        raise InputError(
            where,
            f"the profile has {len(rows)} depth point(s); at least {MIN_POINTS} are needed",
            "export the whole depth profile (every sputter cycle)",
        )
    df = pd.DataFrame(values, columns=keep)
    count_cols = [c for c in keep if _COUNT_RE.match(c)]
    neg = (df[count_cols] < 0).to_numpy()
    if neg.any():
        r, j = np.argwhere(neg)[0]
        raise InputError(
            where,
            f"data row {r + 1} has negative counts ({df[count_cols[j]].iloc[r]:g}) in {count_cols[j]}",
            "export raw (not background-subtracted) counts",
        )
    axis_col = depth_col or time_col
    axis = df[axis_col].to_numpy()
    step = np.diff(axis)
    if np.any(step <= 0):
        r = int(np.argmax(step <= 0)) + 1
        raise InputError(
            where,
            f"the {axis_col} axis does not increase at data row {r + 1} "
            f"({axis[r - 1]:g} then {axis[r]:g}): the rows are out of order or repeated",
            f"sort the rows by {axis_col} and drop repeated ones",
        )
    li = df["counts_6Li"].to_numpy() + df["counts_7Li"].to_numpy()
    if not np.any(li > 0):
        raise InputError(
            where,
            "every row has zero 6Li and 7Li counts",
            "check that the Li+ masses (6 and 7) were recorded and exported",
        )
    for iso, other in (("6Li", "7Li"), ("7Li", "6Li")):
        if not np.any(df[f"counts_{iso}"].to_numpy() > 0):
            raise InputError(
                where,
                f"counts_{iso} is zero in every row: the profile holds only {other}, so no "
                "isotope fraction (and no tracer diffusion) can be computed from it",
                f"check that mass {iso[0]} was recorded and exported with its counts "
                "(natural Li holds 7.6 % 6Li, so a real profile counts both isotopes)",
            )
    if np.count_nonzero(li > 0) < MIN_POINTS:
        raise InputError(
            where,
            f"only {np.count_nonzero(li > 0)} rows have Li counts; at least {MIN_POINTS} are needed",
            "export the whole depth profile with the 6Li and 7Li channels",
        )
    if depth_col == "depth_nm":
        depth = axis / 1000.0
        source = "file"
    elif depth_col == "depth_um":
        depth = axis.copy()
        source = "file"
    if depth_col is not None and sputter_rate_um_s is not None:
        raise InputError(
            where,
            f"sputter_rate_um_s is given but the profile already has a {depth_col} column",
            "remove sputter_rate_um_s from the [[sims]] entry (it converts sputter times only)",
        )
    if depth_col is not None and crater_depth_um is not None:
        if depth[-1] <= 0:
            raise InputError(where, "the last depth is not positive", "check the depth column")
        depth = depth * (float(crater_depth_um) / depth[-1])
        source = "file, rescaled to crater_depth_um"
    elif depth_col is not None:
        pass
    elif crater_depth_um is not None:
        if axis[-1] <= 0:
            raise InputError(
                where, "the last sputter time is not positive", "check the time column"
            )
        depth = float(crater_depth_um) * axis / axis[-1]
        source = "crater_depth"
    else:
        depth = float(sputter_rate_um_s) * axis
        source = "sputter_rate"
    if depth[0] < 0:
        raise InputError(
            where,
            f"the first depth point is negative ({depth[0]:g} µm)",
            "give depths (or times) measured from the sample surface",
        )
    out = pd.DataFrame({"depth_um": depth})
    for c in count_cols:
        out[c] = df[c].to_numpy()
    if time_col is not None and depth_col is None:
        out["time_s"] = axis
    out.attrs.update(
        source=str(path) if path is not None else None,
        depth_source=source,
        channels=[c.removeprefix("counts_") for c in count_cols],
    )
    return out


def read_sims(
    path,
    *,
    crater_depth_um: float | None = None,
    sputter_rate_um_s: float | None = None,
) -> pd.DataFrame:
    """Read a SIMS depth profile: depth (µm) and counts per channel.

    Parameters
    ----------
    path : str or os.PathLike
        The profile (CSV/TSV/TXT; see the module docstring).
    crater_depth_um : float, optional
        Crater depth at the last point, µm (sputter-time profiles).
    sputter_rate_um_s : float, optional
        Sputter rate, µm s⁻¹ (sputter-time profiles).

    Returns
    -------
    pandas.DataFrame
        ``depth_um`` (µm), ``counts_6Li``, ``counts_7Li`` and other ``counts_*``
        columns, plus ``time_s`` (s) for sputter-time profiles; ``attrs`` ``source``,
        ``depth_source``, ``channels``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = p.write_text("depth_um,counts_6Li,counts_7Li,counts_18O\\n" + "".join(
    ...     f"{0.2 * (i + 1):.1f},{50 + i},{950 - i},3\\n" for i in range(12)))
    >>> df = read_sims(p)
    >>> df.attrs["channels"], float(df["depth_um"].iloc[-1])
    (['6Li', '7Li', '18O'], 2.4)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "the SIMS profile does not exist", "check the path")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(
            path, f"the file cannot be read ({err.strerror})", "check permissions"
        ) from None
    return parse_sims_text(
        _decode(raw, path),
        path=path,
        crater_depth_um=crater_depth_um,
        sputter_rate_um_s=sputter_rate_um_s,
    )


def looks_like_sims(path) -> bool:
    """Whether a text file's header line names the ``counts_6Li`` and ``counts_7Li`` columns."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                cols = {c.strip().strip('"') for c in re.split(r"[,;\t]", s)}
                return {"counts_6Li", "counts_7Li"} <= cols
    except OSError:
        return False
    return False


def describe_sims(path, **kwargs) -> dict:
    """What a SIMS profile holds: points, depth range, channels, how depth was obtained.

    Parameters
    ----------
    path : str or os.PathLike
        The profile.
    **kwargs
        ``crater_depth_um`` / ``sputter_rate_um_s`` as for :func:`read_sims`.

    Returns
    -------
    dict
    """
    path = Path(path)
    if not kwargs and looks_like_sims(path):
        # a sputter-time profile can be described without its depth conversion
        text = _decode(path.read_bytes(), path)
        names, _, _, _ = _header_and_rows(text, path)
        if not any(c in names for c in ("depth_um", "depth_nm")):
            kwargs = {"sputter_rate_um_s": 1.0}
            df = parse_sims_text(text, path=path, **kwargs)
            return {
                "kind": "sims",
                "path": str(path),
                "n_points": len(df),
                "columns": [c for c in names if c in _TIME_NAMES or _COUNT_RE.match(c)],
                "channels": df.attrs["channels"],
                "time_range_s": [float(df["time_s"].iloc[0]), float(df["time_s"].iloc[-1])],
                "depth_source": "sputter time (needs crater_depth_um or sputter_rate_um_s)",
                "units": {"time_s": "s", "counts_*": "counts"},
            }
    df = read_sims(path, **kwargs)
    li = df["counts_6Li"] + df["counts_7Li"]
    return {
        "kind": "sims",
        "path": str(path),
        "n_points": len(df),
        "columns": list(df.columns),
        "channels": df.attrs["channels"],
        "depth_range_um": [float(df["depth_um"].iloc[0]), float(df["depth_um"].iloc[-1])],
        "depth_source": df.attrs["depth_source"],
        "median_Li_counts": float(li.median()),
        "units": {"depth_um": "µm", "counts_*": "counts"},
    }
