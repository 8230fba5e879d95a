"""A result folder (or experiment file) → napari layer data tuples, without napari.

Every layer is in µm (``scale``) on the movie's frame axis: the slider steps through
frames, and the movie layer's ``metadata["platescope"]`` maps frame → real time
(``frame_times_s``, on the electrochemistry clock when the clocks are synchronised).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError

__all__ = ["layer_data", "map_style", "time_axis"]

#: How each kind of map is shown: (quantity, colormap, marks a time in the pixel trace).
_MAP_KINDS = (
    (re.compile(r"^t_nuc"), "t_nuc", "viridis", True),
    (re.compile(r"^onset"), "onset", "plasma", True),
    (re.compile(r"^ce_"), "CE", "magma", False),
    (re.compile(r"^residual"), "residual", "cividis", False),
)
_UNIT_SUFFIX = re.compile(r"_(nm_h|nm|um3|um2|um|s|counts)$")
_UNIT_NAMES = {"nm_h": "nm/h", "um": "µm", "um2": "µm²", "um3": "µm³"}

#: Tables drawn as outlines or points: name pattern → (layer kind, label).
_MAX_SHAPES = 3000  # more outlines than this are drawn as points (napari stays fluid)


def map_style(name: str) -> dict:
    """How a map called ``name`` is shown: quantity, unit, colormap, time map or not.

    >>> map_style("t_nuc_irm_map")
    {'quantity': 't_nuc', 'units': 's', 'colormap': 'viridis', 'time_map': True}
    >>> map_style("residual_deposit_nm")["units"]
    'nm'
    >>> map_style("ce_irm_cycle03")["units"]
    '1'
    """
    quantity, cmap, is_time = name, "viridis", False
    for pattern, q, c, t in _MAP_KINDS:
        if pattern.search(name):
            quantity, cmap, is_time = q, c, t
            break
    if is_time:
        units = "s"
    elif quantity == "CE":
        units = "1"  # a ratio of charges
    else:
        m = _UNIT_SUFFIX.search(name)
        units = _UNIT_NAMES.get(m[1], m[1]) if m else "a.u."
    return {"quantity": quantity, "units": units, "colormap": cmap, "time_map": is_time}


def time_axis(summary: dict, movie_t_s, *, experiment=None) -> dict:
    """Frame times of a movie on the electrochemistry clock, and how they were put there.

    The offset is the one the analysis used (``summary["sync"]["offset_s"]``: the echem
    ``t = 0`` on the movie clock), else the experiment file's ``[echem]
    time_offset_s``; without either the movie's own times are kept and ``clock`` says
    so.

    Parameters
    ----------
    summary : dict
        The run's summary (``{}`` for an experiment not analysed yet).
    movie_t_s : array_like
        The movie's ``t`` coordinate, s, on its own clock.
    experiment : platescope.io.Experiment, optional
        For ``[echem] time_offset_s``.

    Returns
    -------
    dict
        ``frame_times_s`` (list, s), ``offset_s``, ``clock`` (``"echem"`` or
        ``"movie"``), ``note``.

    Examples
    --------
    >>> ax = time_axis({"sync": {"offset_s": 2.0, "method": "landing"}}, [1.0, 2.5, 4.0])
    >>> ax["frame_times_s"], ax["clock"]
    ([-1.0, 0.5, 2.0], 'echem')
    """
    t = np.asarray(movie_t_s, dtype=float)
    sync = summary.get("sync") if isinstance(summary.get("sync"), dict) else {}
    offset, note = None, ""
    if isinstance(sync.get("offset_s"), int | float):
        offset = float(sync["offset_s"])
        note = f"echem clock: movie time − {offset:.3f} s ({sync.get('method', 'sync')})"
    elif experiment is not None and (experiment.echem or {}).get("time_offset_s") is not None:
        offset = float(experiment.echem["time_offset_s"])
        note = f"echem clock: movie time − {offset:.3f} s ([echem] time_offset_s)"
    if offset is None:
        return {
            "frame_times_s": t.tolist(),
            "offset_s": None,
            "clock": "movie",
            "note": "movie clock: no offset to the potentiostat is known (analyze the "
            "experiment, or set [echem] time_offset_s)",
        }
    return {
        "frame_times_s": (t - offset).tolist(),
        "offset_s": offset,
        "clock": "echem",
        "note": note,
    }


def _echem_arrays(df: pd.DataFrame | None) -> dict | None:
    if df is None or "time_s" not in df.columns:
        return None
    out = {"time_s": df["time_s"].to_numpy(float)}
    for col in ("potential_V", "current_A"):
        if col in df.columns:
            out[col] = df[col].to_numpy(float)
    return out


def _read_movie(section: dict, default_mode: str):
    from platescope import io

    return io.read_movie(
        section["path"],
        frame_times=section.get("frame_times"),
        pixel_size_um=section.get("pixel_size_um"),
        frame_interval_s=section.get("frame_interval_s"),
        mode=section.get("mode", default_mode),
        lazy=True,
    )


def _contrast(frames) -> tuple[float, float]:
    lo, hi = np.nanpercentile(np.asarray(frames, dtype=float), [0.5, 99.5])
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return (0.0, 1.0)
    return float(lo), float(hi)


def _movie_layers(experiment, summary: dict, echem: dict | None, source: str) -> list:
    import dask.array as da

    layers = []
    for section, mode in (("movie", "irm"), ("epi", "epi")):
        sec = experiment.section(section) if experiment is not None else None
        if not sec:
            continue
        movie = _read_movie(sec, mode)
        data = movie.data
        if not isinstance(data, da.Array):  # small files come back in memory
            data = da.from_array(data, chunks=(1, *data.shape[1:]))
        px = float(movie.attrs.get("pixel_size_um") or 1.0)
        ax = time_axis(summary, movie["t"].values, experiment=experiment)
        n = data.shape[0]
        sample = data[[0, n // 2, n - 1]].compute()  # three frames, not the movie
        meta = {
            "kind": "movie",
            "section": section,
            "source": source,
            "movie_path": str(sec["path"]),
            "pixel_size_um": px,
            "movie_times_s": movie["t"].values.astype(float).tolist(),
            **ax,
            "echem": echem,
        }
        layers.append(
            (
                data,
                {
                    "name": f"{section} ({movie.attrs.get('mode') or mode})",
                    "scale": (1.0, px, px),
                    "axis_labels": ("frame", "y", "x"),
                    "units": ("", "um", "um"),
                    "colormap": "gray",
                    "contrast_limits": _contrast(sample),
                    "metadata": {"platescope": meta},
                },
                "image",
            )
        )
    return layers


def _map_layers(run, px_default: float | None) -> list:
    layers = []
    for name in sorted(run.maps):
        m = run.map(name)
        style = map_style(name)
        px = m.attrs.get("pixel_size_um") or px_default or 1.0
        data = np.asarray(m.values, dtype=np.float32)
        finite = data[np.isfinite(data)]
        if finite.size:
            lo, hi = np.percentile(finite, [1, 99])
            limits = (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(lo) + 0.5)
        else:
            limits = (0.0, 1.0)
        unit = style["units"]
        label = f"{name} [{unit}]"
        scale = (px, px) if data.ndim == 2 else (1.0, px, px)
        layers.append(
            (
                data,
                {
                    "name": label,
                    "scale": scale,
                    "units": ("um",) * 2 if data.ndim == 2 else ("", "um", "um"),
                    "colormap": style["colormap"],
                    "contrast_limits": limits,
                    "opacity": 0.7,
                    "blending": "translucent",
                    "visible": bool(style["time_map"]) or name == min(run.maps),
                    "metadata": {
                        "platescope": {
                            "kind": "map",
                            "map": name,
                            "pixel_size_um": float(px),
                            "colorbar": True,
                            "n_pixels_nan": int(data.size - finite.size),
                            **style,
                        }
                    },
                },
                "image",
            )
        )
    return layers


def _circles(df: pd.DataFrame, radius_um: np.ndarray) -> list[np.ndarray]:
    """Ellipse shapes (bounding-box corners, µm) of circles at ``y_um, x_um``."""
    y = df["y_um"].to_numpy(float)[:, None]
    x = df["x_um"].to_numpy(float)[:, None]
    r = np.asarray(radius_um, dtype=float)[:, None]
    corners_y = np.hstack([y - r, y - r, y + r, y + r])
    corners_x = np.hstack([x - r, x + r, x + r, x - r])
    return list(np.stack([corners_y, corners_x], axis=-1))


def _table_layers(run) -> list:
    layers = []
    sem_frame = "sem" in (run.summary.get("inputs") or {})
    for name in sorted(run.tables):
        try:
            df = run.table(name)
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        cols = set(df.columns)
        if not {"y_um", "x_um"} <= cols or df.empty:
            continue
        df = df[np.isfinite(df["y_um"]) & np.isfinite(df["x_um"])]
        features = df.drop(columns=[c for c in ("y_um", "x_um") if c in df.columns]).reset_index(
            drop=True
        )
        if name == "deposit_tracks" and {"track", "frame"} <= cols:
            tr = df[df["track"] >= 0].sort_values(["track", "frame"])
            data = tr[["track", "frame", "y_um", "x_um"]].to_numpy(float)
            layers.append(
                (
                    data,
                    {
                        "name": "deposit tracks [µm]",
                        "tail_length": 30,
                        "tail_width": 4,
                        "metadata": {"platescope": {"kind": "tracks", "table": name}},
                    },
                    "tracks",
                )
            )
            continue
        if "frame" in cols or "t_s" in cols:
            continue  # per-frame tables other than tracks are not drawn
        if name.startswith("particles") and ("diameter_nm" in cols or "area_nm2" in cols):
            if "diameter_nm" in cols:
                r_um = df["diameter_nm"].to_numpy(float) / 2e3
            else:
                r_um = np.sqrt(df["area_nm2"].to_numpy(float) / np.pi) / 1e3
            label = f"{name} outlines" + (" (SEM image frame)" if sem_frame else "") + " [µm]"
        elif name == "pores" and "area_final_um2" in cols:
            r_um = np.sqrt(df["area_final_um2"].to_numpy(float) / np.pi)
            label = "pore outlines (final area) [µm]"
        elif name == "sites":
            d = df["equivalent_diameter_um"] if "equivalent_diameter_um" in cols else None
            size = d.to_numpy(float) if d is not None else 0.5
            layers.append(
                (
                    df[["y_um", "x_um"]].to_numpy(float),
                    {
                        "name": "nucleation sites [µm]",
                        "size": size,
                        "face_color": "transparent",
                        "border_color": "cyan",
                        "features": features,
                        "metadata": {"platescope": {"kind": "sites", "table": name}},
                    },
                    "points",
                )
            )
            continue
        else:
            continue
        ok = np.isfinite(r_um) & (r_um > 0)
        df, r_um, features = df[ok], r_um[ok], features[ok].reset_index(drop=True)
        meta = {"platescope": {"kind": "outlines", "table": name}}
        if len(df) > _MAX_SHAPES:
            layers.append(
                (
                    df[["y_um", "x_um"]].to_numpy(float),
                    {
                        "name": label.replace("outlines", "centres"),
                        "size": 2 * r_um,
                        "face_color": "transparent",
                        "border_color": "yellow",
                        "features": features,
                        "visible": not (sem_frame and name.startswith("particles")),
                        "metadata": meta,
                    },
                    "points",
                )
            )
        else:
            layers.append(
                (
                    _circles(df, r_um),
                    {
                        "name": label,
                        "shape_type": "ellipse",
                        "edge_color": "yellow",
                        "face_color": "transparent",
                        "edge_width": max(float(np.median(r_um)) * 0.15, 0.01),
                        "features": features,
                        "visible": not (sem_frame and name.startswith("particles")),
                        "metadata": meta,
                    },
                    "shapes",
                )
            )
    return layers


def layer_data(path) -> list[tuple]:
    """napari layer data tuples ``(data, kwargs, kind)`` of a result folder or experiment.

    Parameters
    ----------
    path : path
        A folder written by ``platescope analyze`` (``summary.json``), or an
        experiment ``.toml``.

    Returns
    -------
    list of tuple
        Movie(s) first (dask-backed), then maps, outlines, tracks and sites.

    Raises
    ------
    InputError
        ``path`` is neither.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text(json.dumps({"scenario": "irm-cv"}))
    >>> layer_data(d)  # a result without movie, maps or tables: nothing to show
    []
    """
    from platescope._load import load

    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".toml":
        from platescope.io import read_experiment
        from platescope.pipeline._common import read_echem_section

        exp = read_experiment(p)
        echem = _echem_arrays(read_echem_section(exp)) if exp.echem else None
        return _movie_layers(exp, {}, echem, str(p))
    if not (p / "summary.json").is_file():
        raise InputError(
            p,
            "is neither a platescope result folder nor an experiment file",
            "open analyze's --out",
        )
    run = load(p)
    try:
        exp = run.experiment()
    except InputError:
        exp = None  # inputs moved or deleted: maps and tables still open
    echem = None
    if exp is not None and exp.echem:
        try:
            echem = _echem_arrays(run.echem())
        except (InputError, OSError):
            echem = None
    if echem is None and "echem" in run.tables:
        echem = _echem_arrays(run.table("echem"))
    movies = []
    if exp is not None:
        try:
            movies = _movie_layers(exp, run.summary, echem, str(p))
        except (InputError, OSError):
            movies = []
    px = movies[0][1]["metadata"]["platescope"]["pixel_size_um"] if movies else None
    return movies + _map_layers(run, px) + _table_layers(run)
