"""WEC-SPM (Warwick Electrochemical SPM, LabVIEW) hopping exports: ``.tsv`` + ``.set``.

The LabVIEW save dialog of WEC-SPM writes a *row-oriented* TSV: one line per channel,
``label<TAB>sample<TAB>sample…``, and a companion ``.set`` text file of settings
(``key<TAB>value`` or ``key=value`` lines). Channel names and units follow the
WEC-SPM user guide as quoted by eChemTips' legacy importer: ``X``, ``Y``, ``Z`` (µm),
``V1``, ``V2`` (V), ``Current1``… (A), ``Feedback Type``, ``Line Number``
(dimensionless), ``dt (s)`` (elapsed time, s). A unit in brackets overrides the
default (``Current1 (nA)``, ``V1 (mV)``, ``Z (nm)`` …); unknown channels are ignored.

Hops: a spot is a maximal run of samples whose ``Feedback Type`` equals the *hold*
value (settings ``Feedback type hold``, default 0) with one ``Line Number`` — the
surface hold during which the galvanostatic record is taken (approach and retract
samples carry other feedback types). t = 0 at the run's first sample. Without a
``dt (s)`` channel, time is sample index × ``Sample Time (us)`` · (``Samples per data
point`` + 1) µs (the WEC-SPM rule: 10 µs × 257 = 2.57 ms).

Conditions come from the settings: ``Condition k current (A)`` and ``Condition k
hops`` (k = 1…``Number of conditions``), assigned in acquisition order (``Condition
order`` = ``row blocks``); the current density is |I| / π(d/2)² with ``Footprint
diameter (um)``; the programmed record length is ``Galvanostatic duration (s)``.
The full specification is in docs/seccm_combinatorial.md.

The TSV is indexed in streaming passes (bounded memory) and each spot is read by
seeking to its samples in each channel line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, shown_names
from platescope.io._spotset import INDEX_COLUMNS, SpotSet

__all__ = ["open_wecspm", "parse_set", "read_wecspm_spot"]

_BLOCK = 1 << 22
_UNIT_RE = re.compile(r"\s*[\[(]\s*([^\])]+?)\s*[\])]\s*$")
#: compact channel name → (canonical, kind)
_CHANNELS = {
    "x": ("x_um", "length"),
    "y": ("y_um", "length"),
    "z": ("z_um", "length"),
    "v1": ("potential_V", "voltage"),
    "voltage1": ("potential_V", "voltage"),
    "current1": ("current_A", "current"),
    "feedbacktype": ("feedback_type", "count"),
    "linenumber": ("line_number", "count"),
    "dt": ("time_s", "time"),
}
_DEFAULT_UNIT = {"length": "um", "voltage": "v", "current": "a", "count": "", "time": "s"}
_FACTORS = {
    "length": {"um": 1.0, "µm": 1.0, "μm": 1.0, "nm": 1e-3, "m": 1e6},
    "voltage": {"v": 1.0, "mv": 1e-3},
    "current": {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "μa": 1e-6, "na": 1e-9, "pa": 1e-12},
    "time": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6},
    "count": {"": 1.0},
}


def _channel(label: str) -> tuple[str, float] | None:
    """Canonical name and SI factor of a channel label; ``None`` for channels not used."""
    text = label.strip().lstrip("\ufeff")
    m = _UNIT_RE.search(text)
    unit = m.group(1).strip().lower() if m else None
    base = text[: m.start()] if m else text
    compact = re.sub(r"[^a-z0-9]", "", base.lower())
    if compact not in _CHANNELS:
        return None
    name, kind = _CHANNELS[compact]
    factor = _FACTORS[kind].get(unit if unit is not None else _DEFAULT_UNIT[kind])
    if factor is None:
        raise ValueError(f"unit {unit!r} of channel {label.strip()!r} is not a {kind} unit")
    return name, factor


def parse_set(path: Path) -> dict:
    """Read a WEC-SPM ``.set`` file: ``key<TAB>value`` or ``key=value`` lines.

    Numbers become floats; ``#``/``;`` lines and blank lines are skipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.set"
    >>> _ = p.write_text("Sample Time (us)\\t10\\nTechnique=Galvanostatic hopping\\n")
    >>> parse_set(p)
    {'Sample Time (us)': 10.0, 'Technique': 'Galvanostatic hopping'}
    """
    from platescope._provenance import note_file

    note_file(path, role="seccm.settings (.set)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    out: dict = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        key, sep, value = s.partition("\t") if "\t" in s else s.partition("=")
        if not sep or not key.strip():
            continue
        value = value.strip()
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value
    return out


#: Settings of a WEC-SPM .set that platescope reads; a file with none of them is refused.
_KNOWN_SETTINGS = (
    "Sample Time (us)",
    "Samples per data point",
    "Number of conditions",
    "Technique",
    "Feedback type hold",
    "Footprint diameter (um)",
    "Galvanostatic duration (s)",
)


def _setting(settings: dict, *names: str):
    keys = {re.sub(r"[^a-z0-9]", "", k.lower()): v for k, v in settings.items()}
    for name in names:
        v = keys.get(re.sub(r"[^a-z0-9]", "", name.lower()))
        if v is not None:
            return v
    return None


def _line_table(path: Path) -> list[dict]:
    """Byte range and label of every line of the TSV (one streaming pass)."""
    starts = [0]
    ends = []
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            nl = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            for k in nl:
                ends.append(offset + int(k))
                starts.append(offset + int(k) + 1)
            offset += len(block)
        size = offset
        if starts[-1] >= size:
            starts.pop()
        else:
            ends.append(size)  # last line without a line break
        lines = []
        for a, b in zip(starts, ends, strict=True):
            fh.seek(a)
            head = fh.read(min(256, b - a))
            label = head.split(b"\t", 1)[0].decode("utf-8", "replace").rstrip("\r")
            end = b
            if end > a:
                fh.seek(end - 1)
                if fh.read(1) == b"\r":
                    end -= 1
            lines.append({"label": label, "start": a, "end": end, "has_tab": b"\t" in head})
    return lines


def _iter_values(path: Path, line: dict) -> Iterator[np.ndarray]:
    """Numeric samples of one channel line, in chunks (bounded memory)."""
    with open(path, "rb") as fh:
        fh.seek(line["start"])
        remaining = line["end"] - line["start"]
        carry = b""
        first = True
        while remaining > 0:
            block = fh.read(min(_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            data = carry + block
            if remaining > 0:
                cut = data.rfind(b"\t")
                if cut < 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            parts = data.split(b"\t")
            if first:
                parts = parts[1:]  # the label
                first = False
            elif parts and parts[0] == b"":
                parts = parts[1:]
            if parts and parts[-1].strip() == b"" and remaining <= 0:
                parts = parts[:-1]
            if parts:
                fast = _parse_tab_values(b"\t".join(parts))
                if fast is not None and fast.size == len(parts) and np.isfinite(fast).all():
                    yield fast
                else:  # a value that is not a number: the conversion names the problem
                    yield np.array(parts).astype(float)


def _aligned(path: Path, a: dict, b: dict | None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Chunks of two channel lines aligned sample by sample."""
    ia = _iter_values(path, a)
    if b is None:
        for x in ia:
            yield x, None
        return
    ib = _iter_values(path, b)
    buf_a = np.zeros(0)
    buf_b = np.zeros(0)
    done_a = done_b = False
    while True:
        while not done_a and buf_a.size <= buf_b.size:
            nxt = next(ia, None)
            if nxt is None:
                done_a = True
            else:
                buf_a = np.concatenate([buf_a, nxt])
        while not done_b and buf_b.size < buf_a.size:
            nxt = next(ib, None)
            if nxt is None:
                done_b = True
            else:
                buf_b = np.concatenate([buf_b, nxt])
        m = min(buf_a.size, buf_b.size)
        if m == 0:
            if buf_a.size != buf_b.size:
                raise ValueError(f"channels have {buf_a.size} vs {buf_b.size} extra samples")
            return
        yield buf_a[:m], buf_b[:m]
        buf_a, buf_b = buf_a[m:], buf_b[m:]


def _hold_runs(
    path: Path, fb: dict, ln: dict | None, hold: float
) -> tuple[list[tuple[int, int]], int]:
    """Sample ranges [start, stop) of the surface holds (one per hop) and the sample count."""
    runs: list[tuple[int, int]] = []
    off_code = -1e300
    cur = np.inf  # key of the open run (np.inf: none yet)
    cur_start = 0
    n = 0
    try:
        for f, line_no in _aligned(path, fb, ln):
            key = np.where(f == hold, line_no if line_no is not None else 0.0, off_code)
            key = np.where(np.isnan(key), off_code, key)
            prev = np.empty_like(key)
            prev[0] = cur
            prev[1:] = key[:-1]
            for k in np.flatnonzero(key != prev):
                if cur not in (np.inf, off_code):
                    runs.append((cur_start, n + int(k)))
                cur, cur_start = key[k], n + int(k)
            n += key.size
    except ValueError as err:
        raise InputError(
            path,
            f"the 'Feedback Type'/'Line Number' lines cannot be read ({err})",
            "the file is corrupt or truncated; export it again from WEC-SPM",
        ) from None
    if cur not in (np.inf, off_code):
        runs.append((cur_start, n))
    return runs, n


def _sample_offsets(path: Path, line: dict, wanted: np.ndarray) -> tuple[np.ndarray, int]:
    """Byte offset of each wanted sample index in a channel line (−1 beyond its end), and its length."""
    offsets = np.full(wanted.size, -1, dtype=np.int64)
    tabs_seen = 0
    with open(path, "rb") as fh:
        fh.seek(line["start"])
        pos = line["start"]
        remaining = line["end"] - line["start"]
        while remaining > 0:
            block = fh.read(min(_BLOCK, remaining))
            if not block:
                break
            tabs = np.flatnonzero(np.frombuffer(block, np.uint8) == 9) + pos
            lo = np.searchsorted(wanted, tabs_seen, "left")
            hi = np.searchsorted(wanted, tabs_seen + tabs.size, "left")
            offsets[lo:hi] = tabs[wanted[lo:hi] - tabs_seen] + 1
            tabs_seen += tabs.size
            pos += len(block)
            remaining -= len(block)
        # a trailing tab before the line end is not a sample
        n = tabs_seen
        if line["end"] > line["start"]:
            fh.seek(line["end"] - 1)
            if fh.read(1) == b"\t":
                n -= 1
    offsets[wanted >= n] = -1
    return offsets, n


def open_wecspm(path: Path, settings: Path | None):
    """Index a WEC-SPM hopping export: one row per surface hold, no samples loaded."""

    if path.suffix.lower() == ".set":
        set_path, tsv = path, path.with_suffix(".tsv")
    else:
        tsv = path
        set_path = settings
        if set_path is None:
            for cand in (path.with_suffix(".set"), path.with_suffix(".SET")):
                if cand.is_file():
                    set_path = cand
                    break
    if not tsv.is_file():
        raise InputError(
            tsv, "the WEC-SPM data file (.tsv) does not exist", "keep the .tsv next to the .set"
        )
    if set_path is None or not Path(set_path).is_file():
        raise InputError(
            set_path or tsv.with_suffix(".set"),
            "the WEC-SPM settings file (.set) of this recording does not exist",
            "keep the .set next to the .tsv (it holds the sample time, hop grid and conditions) "
            "or give its path as [seccm] settings",
        )
    set_path = Path(set_path)
    st = parse_set(set_path)
    if not any(_setting(st, name) is not None for name in _KNOWN_SETTINGS):
        raise InputError(
            set_path,
            "the settings file holds none of the WEC-SPM settings platescope reads ("
            + ", ".join(repr(n) for n in _KNOWN_SETTINGS[:4])
            + " ...): it is not a WEC-SPM .set or it is damaged",
            "give the .set file written with this recording (or its path as [seccm] settings)",
        )
    lines = _line_table(tsv)
    chans: dict[str, dict] = {}
    for line in lines:
        if not line["label"].strip():
            continue
        try:
            spec = _channel(line["label"])
        except ValueError as err:
            raise InputError(tsv, str(err), "label the channel with a documented unit") from None
        if spec is None:
            continue
        name, factor = spec
        if name in chans:
            raise InputError(
                tsv, f"the channel {line['label']!r} appears twice", "export each channel once"
            )
        chans[name] = dict(line, factor=factor)
    if not chans and lines and not any(line["has_tab"] for line in lines):
        raise InputError(
            tsv, "the file holds no tab-separated channel lines", "give the WEC-SPM .tsv export"
        )
    missing = [
        lab
        for lab, key in (
            ("V1", "potential_V"),
            ("Current1", "current_A"),
            ("Feedback Type", "feedback_type"),
        )
        if key not in chans
    ]
    if missing:
        raise InputError(
            tsv,
            f"the recording lacks the channel line(s) {', '.join(missing)} (found: "
            f"{shown_names([ln['label'] for ln in lines], limit=12)})",
            "export V1, Current1, Feedback Type (and Line Number, dt (s), X, Y) from WEC-SPM",
        )
    if "time_s" not in chans:
        st_us = _setting(st, "Sample Time (us)")
        if not isinstance(st_us, float) or st_us <= 0:
            raise InputError(
                set_path,
                "the recording has no 'dt (s)' channel and the settings give no 'Sample Time (us)'",
                "export the dt (s) channel, or add 'Sample Time (us)' (and 'Samples per data point') to the .set",
            )
        spp = _setting(st, "Samples per data point")
        interval = st_us * 1e-6 * ((spp if isinstance(spp, float) else 0.0) + 1.0)
    else:
        interval = None
    hold = _setting(st, "Feedback type hold")
    hold = float(hold) if isinstance(hold, float) else 0.0
    runs, n_samples = _hold_runs(tsv, chans["feedback_type"], chans.get("line_number"), hold)
    if not runs:
        raise InputError(
            tsv,
            f"no surface hold found (no sample has Feedback Type = {hold:g})",
            "check 'Feedback type hold' in the .set or that this is a hopping recording",
        )
    starts = np.array([a for a, _ in runs], dtype=np.int64)
    stops = np.array([b for _, b in runs], dtype=np.int64)
    wanted = np.unique(np.concatenate([starts, stops]))
    locators = {}
    lengths = {}
    for name in ("potential_V", "current_A", "time_s", "x_um", "y_um"):
        if name in chans:
            offs, n = _sample_offsets(tsv, chans[name], wanted)
            locators[name] = (
                offs[np.searchsorted(wanted, starts)],
                offs[np.searchsorted(wanted, stops)],
            )
            lengths[name] = n
    # conditions
    n_cond = _setting(st, "Number of conditions")
    area = None
    d_um = _setting(st, "Footprint diameter (um)")
    if isinstance(d_um, float) and not 0 < d_um < 1e6:
        raise InputError(
            set_path,
            f"'Footprint diameter (um)' = {d_um:g} is not a diameter in µm (0 < d < 1e6)",
            "correct it in the .set file",
        )
    if isinstance(d_um, float):
        area = math.pi * (0.5 * d_um) ** 2 * 1e-8
    duration = _setting(st, "Galvanostatic duration (s)")
    duration = float(duration) if isinstance(duration, float) else np.nan
    cond_of_hop: list = []
    j_of_cond: dict = {}

    def _whole(value, what, most):
        if not (np.isfinite(value) and value == round(value) and 0 <= value <= most):
            raise InputError(
                set_path,
                f"'{what}' = {value:g} is not a whole number between 0 and {most} (the "
                f"recording has {len(runs)} surface holds)",
                f"correct '{what}' in the .set file",
            )
        return int(value)

    if isinstance(n_cond, float) and n_cond >= 1:
        for k in range(1, _whole(n_cond, "Number of conditions", 10 * len(runs) + 100) + 1):
            i_a = _setting(st, f"Condition {k} current (A)")
            hops = _setting(st, f"Condition {k} hops")
            if not isinstance(hops, float):
                raise InputError(
                    set_path,
                    f"'Condition {k} hops' is missing or not a number",
                    "give the hop count per condition",
                )
            cond_of_hop += [k - 1] * _whole(hops, f"Condition {k} hops", 10 * len(runs) + 100)
            j_of_cond[k - 1] = (
                abs(float(i_a)) / area * 1e3 if isinstance(i_a, float) and area else np.nan
            )
        if len(cond_of_hop) != len(runs):
            raise InputError(
                set_path,
                f"the settings assign {len(cond_of_hop)} hops to conditions but {tsv.name} holds "
                f"{len(runs)} surface holds",
                "correct the 'Condition k hops' counts, or check the recording is complete",
            )
    else:
        cond_of_hop = ["all"] * len(runs)
        j_of_cond["all"] = np.nan
    rows = []
    with open(tsv, "rb") as fh:
        for k, (a, b) in enumerate(runs):
            xy = []
            for name in ("x_um", "y_um"):
                off = int(locators[name][0][k]) if name in locators else -1
                if off < 0:
                    xy.append(np.nan)
                    continue
                fh.seek(off)
                tok = fh.read(40).split(b"\t", 1)[0].strip()
                try:
                    xy.append(float(tok) * chans[name]["factor"])
                except ValueError:
                    xy.append(np.nan)
            c = cond_of_hop[k]
            rows.append(
                {
                    "spot": k,
                    "x_um": xy[0],
                    "y_um": xy[1],
                    "condition": c,
                    "current_density_mA_cm2": j_of_cond[c],
                    "area_cm2": area if area else np.nan,
                    "duration_s": duration,
                    "path": str(tsv),
                    "_s0": int(a),
                    "_s1": int(b),
                    **{
                        f"_{name}_{end}": int(locators[name][e][k])
                        for name in ("potential_V", "current_A", "time_s")
                        if name in locators
                        for e, end in ((0, "start"), (1, "stop"))
                    },
                }
            )
    index = pd.DataFrame(rows)
    index = index[list(INDEX_COLUMNS) + [c for c in index.columns if c not in INDEX_COLUMNS]]
    meta = {
        "technique": str(_setting(st, "Technique") or "galvanostatic hopping"),
        "settings": st,
        "channels": {
            k: {"label": v["label"], "start": v["start"], "end": v["end"], "factor": v["factor"]}
            for k, v in chans.items()
        },
        "lengths": lengths,
        "n_samples": n_samples,
        "interval_s": interval,
    }
    return SpotSet("wec-spm", tsv, set_path, index, meta)


def _read_range(fh, path: Path, spot: int, name: str, meta: dict, row) -> np.ndarray:
    s0, s1 = int(row["_s0"]), int(row["_s1"])
    ch = meta["channels"][name]
    n = meta["lengths"][name]
    if s1 > n:
        raise InputError(
            path,
            f"spot {spot}: the channel line {ch['label']!r} ends after {n} samples, before this hop "
            f"(samples {s0}–{s1 - 1}): truncated file",
            "export the recording again from WEC-SPM",
        )
    start = int(row[f"_{name}_start"])
    end = int(row[f"_{name}_stop"]) - 1 if s1 < n else ch["end"]
    fh.seek(start)
    data = fh.read(end - start)
    try:
        values = np.array(data.split(b"\t")).astype(float)
    except ValueError:
        raise InputError(
            path,
            f"spot {spot}: the channel {ch['label']!r} holds a non-numeric value in samples {s0}–{s1 - 1}",
            "the file is corrupt here; export it again from WEC-SPM",
        ) from None
    if values.size != s1 - s0 or not np.all(np.isfinite(values)):
        raise InputError(
            path,
            f"spot {spot}: the channel {ch['label']!r} has missing or non-finite samples in {s0}–{s1 - 1}",
            "the file is corrupt here; export it again from WEC-SPM",
        )
    return values * ch["factor"]


def read_wecspm_spot(spots, row) -> pd.DataFrame:
    """The galvanostatic record of one surface hold (t = 0 at its first sample)."""
    path = Path(row["path"])
    spot = int(row["spot"])
    meta = spots.meta
    s0, s1 = int(row["_s0"]), int(row["_s1"])
    with open(path, "rb") as fh:
        e = _read_range(fh, path, spot, "potential_V", meta, row)
        i = _read_range(fh, path, spot, "current_A", meta, row)
        if "time_s" in meta["channels"]:
            t = _read_range(fh, path, spot, "time_s", meta, row)
        else:
            t = np.arange(s1 - s0) * meta["interval_s"]
    if np.any(np.diff(t) <= 0):
        raise InputError(
            path,
            f"spot {spot}: time does not increase within the hop",
            "export the recording again",
        )
    out = pd.DataFrame({"time_s": t - t[0], "potential_V": e, "current_A": i})
    out.attrs.update(
        source=f"{path}#hop={spot}",
        instrument="WEC-SPM",
        format="wec-spm-tsv",
        units_original={"time_s": "dt (s)", "potential_V": "V1", "current_A": "Current1"},
    )
    return out


#: A batch is read in one pass when its holds span at most this many times their samples.
_BATCH_SPAN = 2.0


def _parse_tab_values(data: bytes) -> np.ndarray | None:
    """Tab-separated numbers as float64 (one C parser call), or None if any is not a number."""
    import io

    if not data:
        return np.zeros(0)
    try:
        frame = pd.read_csv(
            io.BytesIO(data.replace(b"\t", b"\n")),
            header=None,
            dtype=np.float64,
            engine="c",
            skip_blank_lines=False,
            keep_default_na=False,
            na_values=["nan", "NaN", "NAN", "-nan", "inf", "-inf", ""],
        )
    except (ValueError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if frame.shape[1] != 1:
        return None
    return frame[0].to_numpy(np.float64)


def read_wecspm_arrays(spots) -> list:
    """A batch's records from one read and one parse per channel line.

    For each used channel (V1, Current1 and ``dt (s)`` when present) the byte range
    from the batch's first hold to its last is read and parsed once; each hold's
    samples are then sliced out by their sample indices. Returns one item per spot:
    ``(time_s, potential_V, current_A)`` exactly as :func:`read_wecspm_spot` gives
    them, or None where the per-spot reader must decide (a hold beyond a channel's
    end, a non-numeric or non-finite sample, time not increasing, holds spread too
    thinly).
    """
    rows = spots.index
    meta = spots.meta
    n = len(rows)
    out: list = [None] * n
    if n == 0:
        return out
    s0 = rows["_s0"].to_numpy(np.int64)
    s1 = rows["_s1"].to_numpy(np.int64)
    if np.any(np.diff(s0) <= 0):
        return out
    first, last = int(s0[0]), int(s1[-1])
    if last - first > _BATCH_SPAN * float((s1 - s0).sum()):
        return out
    path = Path(rows["path"].iloc[0])
    names = ["potential_V", "current_A"] + (["time_s"] if "time_s" in meta["channels"] else [])
    values = {}
    with open(path, "rb") as fh:
        for name in names:
            ch = meta["channels"][name]
            if last > meta["lengths"][name]:
                return out  # a hold beyond the channel's end: the per-spot reader names it
            start = int(rows[f"_{name}_start"].iloc[0])
            end = (
                int(rows[f"_{name}_stop"].iloc[-1]) - 1
                if last < meta["lengths"][name]
                else ch["end"]
            )
            fh.seek(start)
            v = _parse_tab_values(fh.read(end - start))
            if v is None or v.size != last - first:
                return out
            values[name] = v * ch["factor"]
    ok = np.ones(last - first, dtype=bool)
    for v in values.values():
        ok &= np.isfinite(v)
    for k in range(n):
        a, b = int(s0[k]) - first, int(s1[k]) - first
        if not ok[a:b].all():
            continue
        e, i = values["potential_V"][a:b], values["current_A"][a:b]
        t = values["time_s"][a:b] if "time_s" in values else np.arange(b - a) * meta["interval_s"]
        if np.any(np.diff(t) <= 0):
            continue
        out[k] = (t - t[0], e, i)
    return out
