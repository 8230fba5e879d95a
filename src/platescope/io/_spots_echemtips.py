"""eChemTips hopping recordings (recording schema 2): one CSV + a JSON sidecar.

Layout (eChemTips ``docs/DATA_FORMAT.md`` and ``docs/COMBINATORIAL_SCANS.md``; the
galvanostatic reading is platescope's, see docs/seccm_combinatorial.md):

- ``<stem>.csv``: header line = the sidecar's ``csv_columns``; numeric rows with at
  least ``elapsed_s`` (s), ``voltage1_v`` (V), ``current1_na`` (nA) and
  ``scan_pixel`` (0-based hop index; ``-1`` setup rows and ``-2`` orientation-marker
  rows are ignored). Usually also ``x_um``, ``y_um``, ``z_um``, ``voltage2_v``,
  ``current2_na``, ``line_number``. Rows of one hop are contiguous.
- ``<stem>.json``: ``recording_schema_version`` (must be 2), ``csv_columns``,
  ``status`` (``discarded`` runs are refused; ``running``/``aborted``/``error`` runs
  are read, hops without samples are reported per spot), ``scan_grid.pixels``
  (``scan_pixel``, ``x_um``, ``y_um``, optional ``condition_id``,
  ``condition_name`` and ``measurement_program``).

Galvanostatic hops: the program's ``technique`` is ``galvanostatic`` (or
``chronopotentiometry``/``cp``) with ``current_na`` (applied current, nA),
``duration_s`` and optionally ``current_density_mA_cm2`` and ``footprint_area_cm2``.
``voltage1_v`` then holds the measured working-electrode potential and
``current1_na`` the current (cathodic negative). Before contact the galvanostat sits
at its overload output (``parameters.overload_potential_v``, default +10 V); the
contact (t = 0) is the first sample of the hop whose potential is more than
``parameters.contact_potential_drop_v`` (default 5 V) below it, and the record is
the contiguous run of such samples (the paper's contact rule).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope.io._spotset import INDEX_COLUMNS, SpotSet

__all__ = ["open_echemtips", "read_echemtips_spot"]

_REQUIRED = ("elapsed_s", "voltage1_v", "current1_na", "scan_pixel")
_GALVANOSTATIC = {"galvanostatic", "chronopotentiometry", "cp", "galvanostatic_hold"}
_BLOCK = 1 << 23


def _load_sidecar(csv_path: Path, json_path: Path) -> dict:
    if not json_path.is_file():
        raise InputError(
            json_path,
            "the eChemTips JSON sidecar of the recording does not exist",
            f"keep {json_path.name} next to {csv_path.name} (it holds the scan grid and conditions), "
            "or give its path as [seccm] settings",
        )
    from platescope._provenance import note_file

    note_file(json_path, role="seccm.settings (eChemTips JSON sidecar)")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            json_path,
            f"the sidecar is not valid JSON ({err})",
            "copy it again; an interrupted run may have left a .json.tmp with the latest metadata",
        ) from None
    if not isinstance(meta, dict):
        raise InputError(
            json_path, "the sidecar is not a JSON object", "give the recording's .json"
        )
    version = meta.get("recording_schema_version")
    if version != 2:
        raise InputError(
            json_path,
            f"recording_schema_version is {version!r}; platescope reads eChemTips schema 2",
            "open the recording in eChemTips and re-save/convert it as schema 2",
        )
    if meta.get("status") == "discarded":
        raise InputError(
            json_path,
            "the operator discarded this recording (status 'discarded')",
            "analyse another recording, or change the status deliberately if the run is valid",
        )
    return meta


def _pixels(meta: dict, json_path: Path) -> list[dict]:
    grid = meta.get("scan_grid")
    pixels = grid.get("pixels") if isinstance(grid, dict) else None
    if not isinstance(pixels, list) or not pixels:
        raise InputError(
            json_path,
            "the sidecar has no scan_grid.pixels: this is not a hopping recording",
            "give the recording of a hopping scan (Scan hopping + …)",
        )
    return pixels


def _program_facts(pixel: dict, meta: dict, json_path: Path) -> dict:
    prog = (
        pixel.get("measurement_program")
        or (meta.get("parameters") or {}).get("measurement_program")
        or {}
    )
    params = meta.get("parameters") or {}
    technique = str(prog.get("technique") or params.get("technique") or "").lower()
    tech_ok = (
        technique in _GALVANOSTATIC or "galvanostatic" in technique or "chronopot" in technique
    )
    if not tech_ok:
        raise InputError(
            json_path,
            f"scan pixel {pixel.get('scan_pixel')}: its program is {technique or 'not stated'!r}, not a "
            "galvanostatic hold; the combinatorial analysis needs galvanostatic (E–t) hops",
            "analyse a galvanostatic hopping recording, or set measurement_program.technique to "
            "'galvanostatic' if the hop is one",
        )
    j = prog.get("current_density_mA_cm2")
    area = prog.get("footprint_area_cm2")
    if area is None and params.get("footprint_diameter_um"):
        area = math.pi * (0.5 * float(params["footprint_diameter_um"])) ** 2 * 1e-8
    i_na = prog.get("current_na")
    if j is None and i_na is not None and area:
        j = abs(float(i_na)) * 1e-9 / float(area) * 1e3
    return {
        "current_density_mA_cm2": float(j) if j is not None else np.nan,
        "area_cm2": float(area) if area else np.nan,
        "duration_s": float(prog["duration_s"]) if prog.get("duration_s") is not None else np.nan,
    }


def _scan_rows(csv_path: Path, columns: list[str]) -> tuple[dict, int]:
    """One streaming pass: byte range and row count of each scan_pixel value.

    Returns ``{pixel: [start_byte, end_byte, n_rows, first_line_number]}`` and the
    total number of data rows. Memory is bounded by the block size.
    """
    col = columns.index("scan_pixel")
    found: dict[int, list[int]] = {}
    nan_code, none_code = -1e300, np.inf
    cur = none_code  # scan_pixel value of the open run
    cur_start = cur_line = 0

    def close(value, start, end, n_lines, first_line):
        if not np.isfinite(value) or value < 0 or value == nan_code:
            return
        k = int(value)
        if k in found:  # the same hop again later: widen the range, the reader filters rows
            rec = found[k]
            rec[0], rec[1], rec[2] = min(rec[0], start), max(rec[1], end), rec[2] + n_lines
        else:
            found[k] = [start, end, n_lines, first_line]

    line_no = 2  # file line number of the next data row (1 = header)
    with open(csv_path, "rb") as fh:
        offset = len(fh.readline())
        carry = b""
        while True:
            block = fh.read(_BLOCK)
            data = carry + block
            if block:
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                lines, carry = data[: cut + 1], data[cut + 1 :]
            else:
                lines, carry = data, b""
                if not lines:
                    break
            n_bytes = len(lines)
            if not lines.endswith(b"\n"):
                lines += b"\n"  # a cut-off last line is kept as a (bad) row of its hop
            ends = np.flatnonzero(np.frombuffer(lines, np.uint8) == 10)
            starts = np.concatenate([[0], ends[:-1] + 1])
            vals = _field_values(lines, col, len(ends))
            v = np.where(np.isnan(vals), nan_code, vals)
            prev = np.empty_like(v)
            prev[0] = cur
            prev[1:] = v[:-1]
            for k in np.flatnonzero(v != prev):
                if cur != none_code:
                    close(cur, cur_start, offset + int(starts[k]), line_no + k - cur_line, cur_line)
                cur, cur_start, cur_line = v[k], offset + int(starts[k]), line_no + int(k)
            line_no += len(ends)
            offset += n_bytes
            if not block:
                break
    if cur != none_code:
        close(cur, cur_start, offset, line_no - cur_line, cur_line)
    return found, line_no - 2


def _field_values(lines: bytes, col: int, n: int) -> np.ndarray:
    """The ``col``-th comma-separated field of each line as float (NaN when unparsable)."""
    try:  # all numbers (the usual case): parsed as float64 directly
        df = pd.read_csv(
            io.BytesIO(lines),
            header=None,
            usecols=[col],
            skip_blank_lines=False,
            dtype=np.float64,
            on_bad_lines="skip",
            engine="c",
        )
        vals = df[col].to_numpy(np.float64)
        if len(vals) == n:
            return vals
    except (pd.errors.ParserError, ValueError, IndexError, TypeError):
        pass
    try:
        df = pd.read_csv(
            io.BytesIO(lines),
            header=None,
            usecols=[col],
            skip_blank_lines=False,
            dtype=str,
            on_bad_lines="skip",
            engine="c",
        )
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        if len(vals) == n:
            return vals
    except (pd.errors.ParserError, ValueError, IndexError):
        pass
    out = np.full(n, np.nan)
    for k, line in enumerate(lines.split(b"\n")[:n]):
        parts = line.split(b",")
        if len(parts) > col:
            try:
                out[k] = float(parts[col])
            except ValueError:
                pass
    return out


def open_echemtips(path: Path, settings: Path | None):
    """Index an eChemTips recording: one row per scan pixel, no samples loaded."""

    if path.suffix.lower() == ".json":
        json_path, csv_path = path, path.with_suffix(".csv")
    else:
        csv_path, json_path = path, (settings or path.with_suffix(".json"))
    if not csv_path.is_file():
        raise InputError(
            csv_path,
            "the recording CSV of this sidecar does not exist",
            "keep the .csv next to the .json",
        )
    meta = _load_sidecar(csv_path, json_path)
    columns = meta.get("csv_columns")
    with open(csv_path, encoding="utf-8-sig", errors="replace") as fh:
        header = [c.strip() for c in fh.readline().strip().split(",")]
    if not isinstance(columns, list) or [str(c) for c in columns] != header:
        raise InputError(
            csv_path,
            f"the CSV header ({', '.join(header)}) does not match the sidecar's csv_columns "
            f"({', '.join(map(str, columns or []))})",
            "pair the CSV with its own JSON sidecar (same file name stem)",
        )
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            csv_path,
            f"the recording lacks the column(s) {', '.join(missing)}",
            "record a hopping scan with eChemTips schema 2 (elapsed_s, voltage1_v, current1_na, scan_pixel)",
        )
    ranges, n_rows = _scan_rows(csv_path, header)
    rows = []
    for pixel in _pixels(meta, json_path):
        k = pixel.get("scan_pixel")
        if not isinstance(k, int):
            raise InputError(
                json_path, f"a scan_grid pixel has scan_pixel = {k!r}", "fix the sidecar"
            )
        facts = _program_facts(pixel, meta, json_path)
        cond = pixel.get("condition_id", pixel.get("condition_name", "all"))
        rng = ranges.get(k, [0, 0, 0, 0])
        rows.append(
            {
                "spot": k,
                "x_um": float(pixel.get("x_um", np.nan)),
                "y_um": float(pixel.get("y_um", np.nan)),
                "condition": cond,
                **facts,
                "path": str(csv_path),
                "_start": int(rng[0]),
                "_end": int(rng[1]),
                "_n_rows": int(rng[2]),
                "_line": int(rng[3]),
            }
        )
    index = pd.DataFrame(rows)
    index = index[list(INDEX_COLUMNS) + [c for c in index.columns if c not in INDEX_COLUMNS]]
    params = meta.get("parameters") or {}
    info = {
        "status": meta.get("status"),
        "recording_schema_version": 2,
        "technique": params.get("technique", "galvanostatic"),
        "columns": header,
        "n_rows": n_rows,
        "overload_potential_v": float(params.get("overload_potential_v", 10.0)),
        "contact_potential_drop_v": float(params.get("contact_potential_drop_v", 5.0)),
        "condition_names": {
            p.get("condition_id"): p.get("condition_name")
            for p in _pixels(meta, json_path)
            if "condition_id" in p
        },
    }
    return SpotSet("echemtips", csv_path, json_path, index, info)


def contact_segment(
    potential_V: np.ndarray, *, overload_V: float, drop_V: float
) -> tuple[int, int] | None:
    """First contiguous run of samples more than ``drop_V`` below ``overload_V``.

    Returns ``(start, stop)`` (stop exclusive) or ``None`` when the hop never made
    contact.

    Examples
    --------
    >>> contact_segment(np.array([10, 10, 0.5, 0.1, -0.1, 10]), overload_V=10, drop_V=5)
    (2, 5)
    """
    wet = np.asarray(potential_V, float) < overload_V - drop_V
    if not wet.any():
        return None
    start = int(np.argmax(wet))
    rest = np.flatnonzero(~wet[start:])
    stop = start + int(rest[0]) if rest.size else wet.size
    return start, stop


def read_echemtips_spot(spots, row) -> pd.DataFrame:
    """The galvanostatic record of one scan pixel (t = 0 at contact)."""
    path = Path(row["path"])
    spot = int(row["spot"])
    status = spots.meta.get("status")
    if int(row["_n_rows"]) == 0:
        raise InputError(
            path,
            f"spot {spot}: the recording holds no samples for this scan pixel"
            + (f" (recording status {status!r})" if status and status != "complete" else ""),
            "the hop was planned but not recorded; re-run it or drop it from the analysis",
        )
    columns = spots.meta["columns"]
    with open(path, "rb") as fh:
        fh.seek(int(row["_start"]))
        data = fh.read(int(row["_end"]) - int(row["_start"]))
    try:
        df = pd.read_csv(io.BytesIO(data), header=None, names=columns, engine="c")
        num = df.copy()
        for c in num.columns:
            if not pd.api.types.is_numeric_dtype(num[c]):
                num[c] = pd.to_numeric(num[c], errors="coerce")
    except (pd.errors.ParserError, ValueError) as err:
        raise InputError(
            path,
            f"spot {spot}: its rows (from line {int(row['_line'])}) cannot be parsed ({str(err).strip()[:80]})",
            "the file is corrupt here; copy it again from the instrument PC",
        ) from None
    num = num[num["scan_pixel"] == spot]
    bad = ~np.isfinite(num[["elapsed_s", "voltage1_v", "current1_na"]].to_numpy(float)).all(axis=1)
    if len(num) < len(df) or bad.any():
        first_bad = (
            int(np.flatnonzero(bad)[0])
            if bad.any()
            else int(np.flatnonzero(df["scan_pixel"].isna())[0])
            if df["scan_pixel"].isna().any()
            else 0
        )
        raise InputError(
            path,
            f"spot {spot}: line {int(row['_line']) + first_bad} is not a complete numeric row "
            "(corrupt or truncated recording)",
            "copy the complete recording again; a run interrupted mid-write ends with a partial line",
        )
    return _record_from_arrays(
        spots,
        path,
        spot,
        num["elapsed_s"].to_numpy(float),
        num["voltage1_v"].to_numpy(float),
        num["current1_na"].to_numpy(float),
    )


def _record_from_arrays(spots, path: Path, spot: int, elapsed, v, i_na) -> pd.DataFrame:
    """A hop's galvanostatic record from its rows: the contact segment, t = 0 at contact."""
    t, e, i = _contact_arrays(spots, path, spot, elapsed, v, i_na)
    out = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i})
    out.attrs.update(
        source=f"{path}#scan_pixel={spot}",
        instrument="eChemTips",
        format="echemtips-csv-v2",
        units_original={
            "time_s": "elapsed_s",
            "potential_V": "voltage1_v",
            "current_A": "current1_na (nA)",
        },
    )
    return out


def _contact_arrays(spots, path: Path, spot: int, elapsed, v, i_na) -> tuple:
    """(time_s from contact, potential_V, current_A) of a hop's contact segment."""
    seg = contact_segment(
        v,
        overload_V=spots.meta["overload_potential_v"],
        drop_V=spots.meta["contact_potential_drop_v"],
    )
    if seg is None:
        raise InputError(
            path,
            f"spot {spot}: voltage1_v never fell more than {spots.meta['contact_potential_drop_v']:g} V below "
            f"the {spots.meta['overload_potential_v']:g} V overload: the pipette made no contact",
            "this hop has no galvanostatic record; drop it or check the contact threshold",
        )
    a, b = seg
    t = elapsed[a:b]
    if np.any(np.diff(t) <= 0):
        raise InputError(
            path,
            f"spot {spot}: elapsed_s does not increase within the hop",
            "copy the recording again",
        )
    return t - t[0], v[a:b], i_na[a:b] * 1e-9


#: A batch is read in one pass when its rows span at most this many times their own bytes.
_BATCH_SPAN = 2.0


def read_echemtips_batch(spots, rows: pd.DataFrame) -> list:
    """Records of several scan pixels from one read and one parse of their byte range.

    Returns one item per row of ``rows`` (in order): the record DataFrame, exactly as
    :func:`read_echemtips_spot` gives it, or the :class:`InputError` it raises. Spots
    whose rows are not where the index says, or not all finite numbers, are read by
    :func:`read_echemtips_spot` itself, so every message stays that of the per-spot
    reader.
    """
    out: list = [None] * len(rows)
    n_rows = rows["_n_rows"].to_numpy(int)
    start = rows["_start"].to_numpy(int)
    end = rows["_end"].to_numpy(int)
    line = rows["_line"].to_numpy(int)
    live = np.flatnonzero(n_rows > 0)
    chunk = None
    if live.size > 1:
        lo, hi = int(start[live].min()), int(end[live].max())
        if hi - lo <= _BATCH_SPAN * float((end[live] - start[live]).sum()):
            chunk = _parse_chunk(rows["path"].iloc[int(live[0])], spots.meta["columns"], lo, hi)
    if chunk is not None:
        first_line = int(line[live][np.argmin(start[live])])
        pix = chunk["scan_pixel"]
        for r in live:
            a = int(line[r]) - first_line
            b = a + int(n_rows[r])
            spot = int(rows["spot"].iloc[r])
            if a < 0 or b > pix.size or not (pix[a:b] == spot).all():
                continue
            t, v, i = chunk["elapsed_s"][a:b], chunk["voltage1_v"][a:b], chunk["current1_na"][a:b]
            if not (np.isfinite(t).all() and np.isfinite(v).all() and np.isfinite(i).all()):
                continue
            try:
                out[r] = _record_from_arrays(spots, Path(rows["path"].iloc[r]), spot, t, v, i)
            except InputError as err:
                out[r] = err
    for r in range(len(rows)):
        if out[r] is None:
            try:
                out[r] = read_echemtips_spot(spots, rows.iloc[r])
            except InputError as err:
                out[r] = err
    return out


def _parse_chunk(path, columns, lo: int, hi: int) -> dict | None:
    """The numeric columns of the rows in bytes [lo, hi), or None when any is not numeric."""
    with open(path, "rb") as fh:
        fh.seek(lo)
        data = fh.read(hi - lo)
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            header=None,
            names=columns,
            usecols=["elapsed_s", "voltage1_v", "current1_na", "scan_pixel"],
            engine="c",
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError):
        return None
    if not all(pd.api.types.is_numeric_dtype(df[c]) for c in df.columns):
        return None
    return {c: df[c].to_numpy(float) for c in df.columns}


def read_echemtips_arrays(spots) -> list:
    """A batch's records from one read and one parse of the byte range of its hops.

    Returns one item per spot of ``spots`` (in order): ``(time_s, potential_V,
    current_A)`` exactly as :func:`read_echemtips_spot` gives them, the InputError of
    a hop without contact, or None where the per-spot reader must decide (rows not
    where the index says, a non-numeric or non-finite value, a hop without rows, a
    batch spread too thinly over the file).
    """
    rows = spots.index
    out: list = [None] * len(rows)
    n_rows = rows["_n_rows"].to_numpy(np.int64)
    start = rows["_start"].to_numpy(np.int64)
    end = rows["_end"].to_numpy(np.int64)
    line = rows["_line"].to_numpy(np.int64)
    ids = rows["spot"].to_numpy()
    live = np.flatnonzero(n_rows > 0)
    if live.size == 0:
        return out
    lo, hi = int(start[live].min()), int(end[live].max())
    if hi - lo > _BATCH_SPAN * float((end[live] - start[live]).sum()):
        return out
    path = Path(rows["path"].iloc[int(live[0])])
    chunk = _parse_chunk(path, spots.meta["columns"], lo, hi)
    if chunk is None:
        return out
    first_line = int(line[live][np.argmin(start[live])])
    pix = chunk["scan_pixel"]
    el, volt, cur = chunk["elapsed_s"], chunk["voltage1_v"], chunk["current1_na"]
    a_all = line[live] - first_line
    n_all = n_rows[live]
    inside = (a_all >= 0) & (a_all + n_all <= pix.size)
    cand, a, n = live[inside], a_all[inside], n_all[inside]
    if cand.size == 0:
        return out
    # every candidate hop's rows, flat: hop k owns [seg[k], seg[k] + n[k])
    seg = np.concatenate([[0], np.cumsum(n)[:-1]])
    total = int(n.sum())
    local = np.arange(total) - np.repeat(seg, n)
    rix = np.repeat(a, n) + local
    spot_ids = np.asarray(ids[cand], dtype=np.float64)
    good = (pix[rix] == np.repeat(spot_ids, n)) & np.isfinite(el[rix])
    good &= np.isfinite(volt[rix]) & np.isfinite(cur[rix])
    usable = np.logical_and.reduceat(good, seg)
    # the contact segment (contact_segment's rule): first wet sample, then up to the next dry one
    wet = volt[rix] < spots.meta["overload_potential_v"] - spots.meta["contact_potential_drop_v"]
    big = np.iinfo(np.int64).max
    c0 = np.minimum.reduceat(np.where(wet, local, big), seg)
    contact = c0 < big
    c0r = np.repeat(np.where(contact, c0, 0), n)
    c1 = np.minimum.reduceat(np.where(~wet & (local > c0r), local, np.repeat(n, n)), seg)
    # elapsed_s must increase within the contact segment
    c1r = np.repeat(c1, n)
    t_rows = el[rix]
    pair_bad = np.zeros(total, dtype=bool)
    pair_bad[:-1] = (
        (np.diff(t_rows) <= 0)
        & (local[:-1] + 1 == local[1:])
        & (local[:-1] >= c0r[:-1])
        & (local[1:] < c1r[1:])
    )
    back = np.logical_or.reduceat(pair_bad, seg)
    amps = cur * 1e-9
    for k in np.flatnonzero(usable):
        r = int(cand[k])
        if not contact[k] or back[k]:
            lo_k, hi_k = int(a[k]), int(a[k] + n[k])
            try:  # the per-hop rule raises its own message
                out[r] = _contact_arrays(
                    spots, path, int(ids[r]), el[lo_k:hi_k], volt[lo_k:hi_k], cur[lo_k:hi_k]
                )
            except InputError as err:
                out[r] = err
            continue
        s_lo, s_hi = int(a[k] + c0[k]), int(a[k] + c1[k])
        out[r] = (el[s_lo:s_hi] - el[s_lo], volt[s_lo:s_hi], amps[s_lo:s_hi])
    return out
