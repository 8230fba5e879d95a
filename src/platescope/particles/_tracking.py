"""Deposits through a movie: per-frame detection, linking, merges, per-deposit time series.

Top-view operando movies of Li plating/stripping (SCIENCE.md §4; the review's §2.1):
every frame is segmented with the shared engine (:func:`segment_particles` +
:func:`measure_particles`), the detections are linked into tracks with trackpy's
linker, merges of two deposits into one are found and recorded, and each track becomes
a time series of projected area, intensity, effective radius r = √(A/π) and effective
volume from an assumed shape (hemisphere by default).

Why trackpy (0.7) and not laptrack: trackpy is already a core dependency, and on the
scenes these movies hold (tens of static, growing deposits) it links 6000 detections in
0.05 s where laptrack's LAP solver takes 2.5 s (same machine, same data). laptrack can
model merges itself, but the merge rule this module needs (area is conserved across
the merge, the absorbed deposit's last centroid lies inside the merged object) is a
few lines on top of any linker and is documented below, so the faster linker wins.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._frame_blocks import FrameBlocks, read_frames
from platescope.particles._deposit_frames import (
    DEPOSIT_COLUMNS,
    _contrast_frames,
    measure_frames,
)

__all__ = [
    "deposit_timeseries",
    "detect_deposits",
    "merge_events",
    "track_deposits",
]

_PANDAS4_WARNING = getattr(pd.errors, "Pandas4Warning", None)
_SHAPES = ("hemisphere", "cylinder")


def _movie_geometry(movie) -> tuple[np.ndarray, float, float, float, float]:
    """Frame times (s), pixel sizes (dy, dx) µm and the coordinate origin (y0, x0) µm."""
    if not hasattr(movie, "dims") or tuple(movie.dims) != ("t", "y", "x"):
        raise InputError(
            _source(movie),
            "the movie is not a (t, y, x) DataArray",
            "read it with platescope.io.read_movie",
        )
    if movie.sizes["t"] < 1 or movie.sizes["y"] < 2 or movie.sizes["x"] < 2:
        raise InputError(
            _source(movie),
            f"the movie is empty or too small ({dict(movie.sizes)})",
            "give a movie with frames of at least 2 × 2 pixels",
        )
    t = np.asarray(movie["t"].values, dtype=float)
    if not np.all(np.isfinite(t)) or (t.size > 1 and np.any(np.diff(t) <= 0)):
        raise InputError(
            _source(movie),
            "the frame times are not finite and strictly increasing",
            "give per-frame times with [movie] frame_times",
        )
    y = np.asarray(movie["y"].values, dtype=float)
    x = np.asarray(movie["x"].values, dtype=float)
    dy, dx = float(np.median(np.diff(y))), float(np.median(np.diff(x)))
    if not (dy > 0 and dx > 0):
        raise InputError(
            _source(movie),
            "the y/x coordinates are not increasing µm positions",
            "give the pixel size with [movie] pixel_size_um",
        )
    return t, dy, dx, float(y[0]), float(x[0])


def _otsu(values: np.ndarray, bins: int = 512) -> float:
    """Otsu's threshold of a 1-D sample (maximum between-class variance)."""
    v = values[np.isfinite(values)]
    lo, hi = np.percentile(v, [0.1, 99.9])
    hist, edges = np.histogram(v, bins=bins, range=(lo, hi))
    mids = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(hist).astype(float)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * mids)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(mids[int(np.argmax(between[:-1]))])


def detect_deposits(
    movie,
    *,
    polarity: str = "dark",
    edge: str = "half-max",
    sigma_um: float = 0.5,
    threshold: float | str = "auto",
    watershed: bool = False,
    min_area_um2: float = 2.0,
    max_area_um2: float | None = None,
    roi=None,
    frames_per_chunk: int = 16,
    workers: int | None = None,
    frames_out: dict | None = None,
    pool: str = "thread",
) -> pd.DataFrame:
    """Segment and measure the deposits in every frame of a top-view movie.

    A thin loop over frames around the shared engine
    (:func:`platescope.particles.segment_particles` and
    :func:`platescope.particles.measure_particles`). Each frame is divided by its
    median (background level; removes illumination drift), turned into a contrast
    (deposits positive) and smoothed by a Gaussian of ``sigma_um``; then one threshold
    is used for the whole movie, so a deposit that does not change keeps its measured
    area (a per-frame Otsu threshold would move with the deposit coverage). Frames are
    read ``frames_per_chunk`` at a time, so a dask-backed movie is computed chunk by
    chunk with flat memory (each of its chunks once, whatever ``frames_per_chunk``).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x), ``t`` in s (real frame times), ``y``/``x`` in µm.
    polarity : {"dark", "bright"}
        Whether deposits are darker (bright-field reflection, the default) or brighter
        than the background.
    edge : {"half-max", "threshold"}
        Where a deposit's outline is drawn. ``"half-max"`` (default): the threshold
        only finds the deposits; each outline is then redrawn at half the deposit's own
        plateau contrast (grown by up to max(2, 2·σ/px) + 1 pixels, never into a
        neighbour), which is where the edge of a blurred flat-topped object lies
        whatever its darkness; ``area_um2`` is then the sub-pixel area inside that
        contour (edge pixels count by their value, see ``_half_max_labels``) and
        ``area_pixels_um2`` its whole-pixel count. The half-maximum contour of a
        blurred disk lies about σ²/2R inside its edge (σ: PSF ⊗ smoothing), so areas
        of deposits only a few σ across are biased low (measured in
        docs/tracking_dead_li.md). ``"threshold"``: the outline is the threshold
        contour, so darker deposits (and dead Li, which darkens) look larger.
    sigma_um : float
        Gaussian smoothing before thresholding, µm (0 for none).
    threshold : float or "auto"
        Contrast threshold (relative units, e.g. 0.2 = 20 % darker than the background).
        ``"auto"``: Otsu's threshold of the smoothed contrast pooled from up to 12
        frames spread over the second half of the movie (where deposits exist); when
        that cut is less than 3 robust standard deviations (1.4826·MAD) above the
        median contrast (no distinct deposit class), 5 robust sd above the median is
        used instead, so that a field without deposits yields none.
    watershed : bool
        Split touching objects (off by default: deposits that grew into each other are
        one deposit, and their merge is what :func:`track_deposits` records).
    min_area_um2, max_area_um2 : float, optional
        Objects outside this projected-area range (µm²) are dropped.
    roi : optional
        Region of interest, passed to the engine (boolean mask (y, x) or as it accepts).
    frames_per_chunk : int
        Frames read and processed at once.
    workers : int, optional
        Threads that analyse the frames of a chunk side by side, each a block of
        consecutive frames (contrast, segmentation and outlines frame by frame, then
        one vectorised measurement of the block: array calls that release the GIL; the
        table is built once at the end); default: the CPUs this process may use, at
        most ``frames_per_chunk``. The table is the same whatever the number (rows in
        frame order, the numbers of each frame analysed on its own).
    frames_out : dict, optional
        Frame indices (keys) whose frames, as read, are wanted besides the table (e.g.
        for a figure): each key's value is set to that frame (numpy array), taken
        during the segmentation pass, so that the movie is not read again for them.
    pool : {"thread", "process"}
        How ``workers`` > 1 run: threads of this process (default; no start-up cost;
        ≈ 7 % of a block's CPU holds the GIL, docs/performance.md) or worker processes
        (started once per call with ``forkserver``; each imports the engine, ≈ 1 s, and
        receives its frames pickled). On 2 cores processes were slower than one thread (0.36–0.62×
        for 48–120 frames: start-up and pickling cost more than the second core gave);
        they are meant for many cores and long movies, unmeasured there. The table is
        identical either way.

    Returns
    -------
    pandas.DataFrame
        One row per deposit per frame: ``frame`` (int), ``t_s`` (s), ``y_um``,
        ``x_um`` (centroid, µm, in the movie's coordinates) and the engine's measurement
        columns (``area_um2``, ``equivalent_diameter_um``, ``perimeter_um``,
        ``circularity``, ``integrated_intensity`` and ``mean_intensity`` of the contrast
        image — contrast·µm² and contrast). ``attrs``: ``threshold`` (the one used),
        ``polarity``, ``sigma_um``, ``n_frames``, ``pixel_size_um``.

    Raises
    ------
    InputError
        Not a (t, y, x) movie, empty, non-increasing times or bad pixel coordinates.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> yy, xx = np.mgrid[0:40, 0:40] * 0.5
    >>> frames = [1000.0 - 400.0 * ((yy - 10) ** 2 + (xx - 10) ** 2 < r * r) for r in (2, 3, 4)]
    >>> mv = xr.DataArray(np.array(frames), dims=("t", "y", "x"),
    ...                   coords={"t": [0.0, 10.0, 20.0], "y": yy[:, 0], "x": xx[0]})
    >>> det = detect_deposits(mv, threshold=0.2)
    >>> det["frame"].tolist(), bool(det["area_um2"].is_monotonic_increasing)
    ([0, 1, 2], True)
    >>> bool(abs(det["area_um2"].iloc[-1] / (np.pi * 16) - 1) < 0.1)  # the r = 4 µm disk
    True
    """

    if polarity not in ("dark", "bright"):
        raise ValueError(f"polarity must be 'dark' or 'bright', not {polarity!r}")
    if edge not in ("half-max", "threshold"):
        raise ValueError(f"edge must be 'half-max' or 'threshold', not {edge!r}")
    t, dy, dx, y0, x0 = _movie_geometry(movie)
    n_t = t.size
    sigma_px = (float(sigma_um) / dy, float(sigma_um) / dx)
    chunk = max(1, int(frames_per_chunk))
    grow_px = max(2.0, math.ceil(2.0 * float(sigma_um) / dx)) + 1.0

    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be a number or 'auto', not {threshold!r}")
        picks = np.unique(np.linspace(n_t // 2, n_t - 1, min(12, n_t)).round().astype(int))
        # the sample frames one by one: a lazy movie decodes them, not their chunks
        sample = _contrast_frames(read_frames(movie, picks), polarity=polarity, sigma_px=sigma_px)
        values = sample.ravel()
        med = float(np.median(values))
        sd = 1.4826 * float(np.median(np.abs(values - med)))
        thr = _otsu(values)
        # Otsu splits any histogram in two: when its cut is not clear of the background
        # (< 3 robust sd above the median) the field has no distinct deposits, and a
        # cut 5 sd above the background keeps texture and noise from becoming "deposits"
        if thr < med + 3.0 * sd:
            thr = med + 5.0 * sd
    else:
        thr = float(threshold)
        if not math.isfinite(thr):
            raise ValueError(f"threshold must be finite, got {threshold!r}")

    opts = {
        "polarity": polarity,
        "sigma_px": sigma_px,
        "dy": dy,
        "dx": dx,
        "thr": thr,
        "watershed": watershed,
        "min_area_um2": min_area_um2,
        "max_area_um2": max_area_um2,
        "roi": roi,
        "edge": edge,
        "grow_px": grow_px,
    }
    if pool not in ("thread", "process"):
        raise ValueError(f"pool must be 'thread' or 'process', not {pool!r}")
    n_workers = _frame_workers(workers, chunk)
    parts = _frame_parts(
        FrameBlocks(movie),  # each chunk of a lazy movie computed once
        t,
        opts,
        chunk=chunk,
        n_workers=n_workers if n_t > 1 else 1,
        kind=pool,
        frames_out=frames_out,
    )
    det = _deposit_table(parts, edge=edge, y0=y0, x0=x0)
    det.attrs = {
        "threshold": thr,
        "polarity": polarity,
        "sigma_um": float(sigma_um),
        "edge": edge,
        "n_frames": int(n_t),
        "pixel_size_um": float(dx),
    }
    return det


def _frame_parts(
    frames: FrameBlocks,
    t: np.ndarray,
    opts: dict,
    *,
    chunk: int,
    n_workers: int,
    kind: str,
    frames_out: dict | None,
) -> list[dict]:
    """:func:`measure_frames` over the whole movie: column arrays per block, in order.

    Frames are read ``chunk`` at a time (in this thread); with ``n_workers`` > 1 each
    chunk is cut into ``n_workers`` blocks of consecutive frames that run in a pool
    (threads or ``forkserver`` processes), at most ``2·n_workers`` blocks in flight so
    the next chunk is read while the last ones are analysed (memory: about two chunks).
    """
    n_t = t.size
    if n_workers <= 1:
        pool = None
    elif kind == "thread":
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(n_workers, thread_name_prefix="platescope-frames")
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("forkserver"))
    parts: list[dict] = []
    pending: deque = deque()
    try:
        for start in range(0, n_t, chunk):
            raw = np.asarray(frames.get(start, start + chunk))
            if frames_out is not None:
                for k in range(start, start + raw.shape[0]):
                    if k in frames_out:
                        frames_out[k] = np.array(raw[k - start])
            if pool is None:
                parts.append(measure_frames(raw, start, t[start : start + raw.shape[0]], opts))
                continue
            step = -(-raw.shape[0] // n_workers)
            for lo in range(0, raw.shape[0], step):
                hi = min(lo + step, raw.shape[0])
                args = (raw[lo:hi], start + lo, t[start + lo : start + hi], opts)
                pending.append(pool.submit(measure_frames, *args))
            while len(pending) > 2 * n_workers:
                parts.append(pending.popleft().result())
        parts.extend(f.result() for f in pending)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return parts


def _deposit_table(parts: list[dict], *, edge: str, y0: float, x0: float) -> pd.DataFrame:
    """One table from the column arrays of every block (built once, not per frame)."""
    names = [c for c in DEPOSIT_COLUMNS if edge == "half-max" or c != "area_pixels_um2"]
    cols = {c: np.concatenate([p[c] for p in parts]) for c in names}
    cols["y_um"] = cols["y_um"] + y0
    cols["x_um"] = cols["x_um"] + x0
    return pd.DataFrame(cols)


def _frame_workers(workers: int | None, chunk: int) -> int:
    """Threads for per-frame work: ``workers``, else the kernels' thread count
    (``PLATESCOPE_THREADS`` or the usable CPUs; the demo's workers set it to their share
    of the cores), at most ``chunk``."""
    if workers is not None:
        n = int(workers)
        if n < 1:
            raise ValueError(f"workers must be ≥ 1, got {workers!r}")
        return n
    from platescope.optics._kernels import n_threads

    return max(1, min(n_threads(), chunk))


def _check_detections(det: pd.DataFrame, need=("frame", "t_s", "y_um", "x_um", "area_um2")):
    if not isinstance(det, pd.DataFrame):
        raise TypeError("detections must be a pandas DataFrame")
    missing = [c for c in need if c not in det.columns]
    if missing:
        raise ValueError(
            f"detections lack the column(s) {missing}; build them with detect_deposits"
        )


def _link(det: pd.DataFrame, search_range_um: float, memory: int) -> np.ndarray:
    """trackpy linking → track id per row (same order as ``det``)."""
    import trackpy

    frame_in = pd.DataFrame(
        {
            "frame": det["frame"].to_numpy(np.int64),
            "y": det["y_um"].to_numpy(float),
            "x": det["x_um"].to_numpy(float),
            "_row": np.arange(len(det)),
        }
    )
    logger = logging.getLogger("trackpy")
    level = logger.level
    logger.setLevel(logging.WARNING)  # trackpy reports every frame at INFO; restored below
    try:
        linked = _link_quietly(trackpy, frame_in, search_range_um, memory)
    finally:
        logger.setLevel(level)
    ids = np.empty(len(det), dtype=np.int64)
    ids[linked["_row"].to_numpy(np.int64)] = linked["particle"].to_numpy(np.int64)
    return ids


def _link_quietly(trackpy, frame_in: pd.DataFrame, search_range_um: float, memory: int):
    with warnings.catch_warnings():
        # trackpy 0.7 calls sort_values(inplace=True), which pandas ≥ 3.1 deprecates with
        # a Pandas4Warning; only that category is silenced, only around the call.
        if _PANDAS4_WARNING is not None:
            warnings.filterwarnings("ignore", category=_PANDAS4_WARNING)
        linked = trackpy.link(
            frame_in,
            float(search_range_um),
            memory=int(memory),
            pos_columns=["y", "x"],
            t_column="frame",
            link_strategy="auto",
        )
    return linked


def _speed_range(t_s: np.ndarray, frame: np.ndarray, speed: float, memory: int) -> float:
    """Largest displacement a link may need: speed × the longest real time a link spans
    (``memory`` + 1 frame intervals, from the detections' own frame times)."""
    ft = pd.Series(t_s).groupby(frame).first().sort_index()
    fr, tt = ft.index.to_numpy(np.int64), ft.to_numpy(float)
    if fr.size < 2:
        return 0.0
    lag = np.searchsorted(fr, fr + int(memory) + 1, side="right") - 1
    return float(speed * np.max(tt[lag] - tt))


def _cut_fast_links(
    track: np.ndarray,
    frame: np.ndarray,
    t_s: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    speed: float,
    floor_um: float,
) -> tuple[np.ndarray, int]:
    """Cut every link whose displacement exceeds max(speed·Δt, floor): the rest of the
    track from there becomes a new track. Returns (new track ids, links cut)."""
    order = np.lexsort((frame, track))
    tr, yy, xx, tt = track[order], y[order], x[order], t_s[order]
    same = tr[1:] == tr[:-1]
    step = np.hypot(np.diff(yy), np.diff(xx))
    allowed = np.maximum(speed * np.diff(tt), floor_um)
    cut = same & (step > allowed * (1 + 1e-9))
    # a new segment starts at every track change and every cut
    seg = np.concatenate([[0], np.cumsum(~same | cut)])
    out = np.empty_like(track)
    out[order] = seg
    return out, int(cut.sum())


def _renumber(track: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Track ids 0, 1, 2 … in order of first appearance (then of first row)."""
    order = np.lexsort((np.arange(track.size), frame))
    seen: dict[int, int] = {}
    for i in order:
        seen.setdefault(int(track[i]), len(seen))
    return np.array([seen[int(v)] for v in track], dtype=np.int64)


def _split_pass(
    track: np.ndarray,
    frame: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    area: np.ndarray,
    r_eq: np.ndarray,
    merged_into: np.ndarray,
    fraction: float,
) -> np.ndarray:
    """Find splits and relabel the children (rule in :func:`track_deposits`).

    ``track`` is modified in place; returns ``split_from`` per row (−1 except on the
    first row of a child track that broke off a parent).
    """
    split_from = np.full(track.size, -1, dtype=np.int64)
    next_id = int(track.max()) + 1 if track.size else 0
    frames_sorted = np.unique(frame)
    rows_of_frame = {int(f): np.flatnonzero(frame == f) for f in frames_sorted}
    first = pd.Series(frame).groupby(track).min().to_dict()
    for f in frames_sorted:
        f = int(f)
        here, nxt = rows_of_frame[f], rows_of_frame.get(f + 1)
        if nxt is None or nxt.size < 2:
            continue
        for i in here:
            if merged_into[i] >= 0:
                continue
            tid = int(track[i])
            d = np.hypot(y[nxt] - y[i], x[nxt] - x[i])
            near = nxt[d <= r_eq[nxt] + r_eq[i]]
            kids = [int(j) for j in near if track[j] == tid or first[int(track[j])] == f + 1]
            if len(kids) < 2:
                continue
            a = area[kids]
            if area[i] < a.max() + fraction * (a.sum() - a.max()):
                continue
            keep = kids[int(np.argmax(a))]
            later = (track == tid) & (frame > f)
            if track[keep] != tid and later.any():
                # the linker continued the parent with a smaller child: that part of the
                # track becomes a track of its own (a child, or a later re-detection)
                track[later] = next_id
                first[next_id] = int(frame[later].min())
                next_id += 1
            if track[keep] != tid:
                old = int(track[keep])
                track[track == old] = tid
                merged_into[merged_into == old] = tid
                split_from[split_from == old] = tid
                first.pop(old, None)
            for j in kids:
                if j != keep:
                    split_from[j] = tid
    return split_from


def track_deposits(
    detections: pd.DataFrame,
    *,
    search_range_um: float | None = None,
    max_speed_um_s: float | None = None,
    memory: int = 2,
    merge_area_fraction: float = 0.5,
    splits: bool = True,
    split_area_fraction: float = 0.5,
) -> pd.DataFrame:
    """Link per-frame deposit detections into tracks and record merges.

    Linking is trackpy's (``trackpy.link``: nearest-neighbour with subnetwork
    resolution) on the centroids, with ``memory`` frames of allowed disappearance.
    A deposit's track starts when it is first detected (nucleation or growing above
    the detection limit) and ends when it dissolves, leaves the field or merges.

    Merges (two deposits growing into one). A detection D at frame f + 1 is the
    merged object of the set P of tracks that

    * had a detection at frame f whose equivalent circle overlaps D's (centroid
      distance ≤ r_P + r_D, r = √(A/π)), and
    * are D's own track or end at frame f (no later detection),

    when P has at least two members and D holds their area:
    A_D ≥ max(A_P) + ``merge_area_fraction``·(ΣA_P − max(A_P)). The survivor is the
    member of P that was largest at frame f: D and the rest of its track carry the
    survivor's id from frame f + 1 on (whichever track the linker had given it, or a
    new one when the jump of the centroid exceeded the search range); every other
    member's last row gets ``merged_into`` = survivor id (−1 elsewhere), and
    :func:`merge_events` lists the events.

    Splits (a deposit breaking into two or more, e.g. a whisker whose neck dissolves),
    the mirror of the merge rule. A detection P of track T at frame f is the parent of
    the set C of detections at frame f + 1 that

    * overlap P's equivalent circle (centroid distance ≤ r_P + r_C), and
    * are T's own continuation or the first detection of a track,

    when C has at least two members and P held their area:
    A_P ≥ max(A_C) + ``split_area_fraction``·(ΣA_C − max(A_C)) (a deposit growing next
    to a new neighbour keeps or gains area, so it is not a split). The largest child
    continues T (the mirror of the survivor convention); every other child starts a
    track whose first row gets ``split_from`` = T (−1 elsewhere), and
    :func:`split_events` lists the events. Merges are found first, then splits.

    Parameters
    ----------
    detections : pandas.DataFrame
        Output of :func:`detect_deposits` (at least ``frame``, ``t_s``, ``y_um``,
        ``x_um``, ``area_um2``).
    search_range_um : float, optional
        Largest centroid displacement between linked detections, µm (drift + growth
        asymmetry per frame; the centroid of a merged object is judged by the merge
        rule, not by this range). With ``max_speed_um_s`` it is the floor of the
        allowed displacement (centroid jitter of a still deposit at short intervals).
    max_speed_um_s : float, optional
        Largest centroid speed, µm/s, on the real time axis: two detections Δt apart
        (``t_s``, irregular intervals and memory gaps included) are linked only when
        their centroids are at most max(``max_speed_um_s``·Δt, ``search_range_um``)
        apart. The linker searches up to the speed × the longest real time a link may
        span, then every longer step is cut (the rest of the track becomes a new
        track); ``attrs["n_links_cut"]`` counts them. At least one of the two ranges
        must be given.
    memory : int
        Frames a deposit may go undetected and keep its track.
    merge_area_fraction : float
        Fraction of the absorbed deposit's area the merged object must gain (rule 2).
    splits : bool
        Find splits (default). ``False`` gives the tracks of platescope ≤ 0.2 (a
        deposit that breaks leaves its smaller parts as unrelated new tracks).
    split_area_fraction : float
        Fraction of the smaller children's area the parent must have held.

    Returns
    -------
    pandas.DataFrame
        The detections sorted by ``track`` then ``frame``, with ``track`` (int, 0, 1 …
        in order of appearance), ``merged_into`` (int, −1 unless the row is the last
        of a track that merged) and ``split_from`` (int, −1 unless the row is the first
        of a track that broke off another).

    Examples
    --------
    >>> import pandas as pd
    >>> det = pd.DataFrame({"frame": [0, 0, 1, 1, 2], "t_s": [0, 0, 5, 5, 10.0],
    ...                     "y_um": [5, 5, 5, 5, 5.0], "x_um": [4, 7.3, 4, 7.3, 5.2],
    ...                     "area_um2": [12.6, 7.1, 12.6, 7.1, 21.0]})
    >>> tr = track_deposits(det, search_range_um=2.0)
    >>> tr[["frame", "track", "merged_into"]].values.tolist()
    [[0, 0, -1], [1, 0, -1], [2, 0, -1], [0, 1, -1], [1, 1, 0]]

    A deposit of 20 µm² breaking into parts of 12 and 6 µm²:

    >>> det = pd.DataFrame({"frame": [0, 1, 1, 2, 2], "t_s": [0, 5, 5, 10, 10.0],
    ...                     "y_um": [5, 5, 5, 5, 5.0], "x_um": [5, 3.5, 7.5, 3.5, 7.5],
    ...                     "area_um2": [20.0, 12.0, 6.0, 12.0, 6.0]})
    >>> tr = track_deposits(det, search_range_um=1.0)
    >>> tr[["frame", "track", "split_from"]].values.tolist()
    [[0, 0, -1], [1, 0, -1], [2, 0, -1], [1, 1, 0], [2, 1, -1]]
    """
    _check_detections(detections)
    if search_range_um is None and max_speed_um_s is None:
        raise ValueError("give search_range_um (µm per frame) or max_speed_um_s (µm/s)")
    for name, v in (("search_range_um", search_range_um), ("max_speed_um_s", max_speed_um_s)):
        if v is not None and not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be positive, got {v!r}")
    det = detections.reset_index(drop=True).copy()
    det = det.drop(columns=[c for c in ("track", "merged_into", "split_from") if c in det])
    if len(det) == 0:
        det["track"] = pd.Series(dtype=np.int64)
        det["merged_into"] = pd.Series(dtype=np.int64)
        det["split_from"] = pd.Series(dtype=np.int64)
        return det
    frame = det["frame"].to_numpy(np.int64)
    t_s = det["t_s"].to_numpy(float)
    n_cut = 0
    if max_speed_um_s is None:
        track = _renumber(_link(det, float(search_range_um), memory), frame)
    else:
        floor = float(search_range_um or 0.0)
        reach = max(_speed_range(t_s, frame, float(max_speed_um_s), memory), floor)
        raw = _link(det, reach, memory) if reach > 0 else np.arange(len(det))
        raw, n_cut = _cut_fast_links(
            raw,
            frame,
            t_s,
            det["y_um"].to_numpy(float),
            det["x_um"].to_numpy(float),
            float(max_speed_um_s),
            floor,
        )
        track = _renumber(raw, frame)
    y = det["y_um"].to_numpy(float)
    x = det["x_um"].to_numpy(float)
    area = det["area_um2"].to_numpy(float)
    merged_into = np.full(len(det), -1, dtype=np.int64)
    r_eq = np.sqrt(np.clip(area, 0, None) / np.pi)
    last = pd.Series(frame).groupby(track).max().to_dict()

    frames_sorted = np.unique(frame)
    rows_of_frame = {int(f): np.flatnonzero(frame == f) for f in frames_sorted}
    for f in frames_sorted:
        f = int(f)
        here, nxt = rows_of_frame[f], rows_of_frame.get(f + 1)
        if nxt is None or here.size < 2:
            continue
        for j in nxt:
            sid = int(track[j])
            d = np.hypot(y[here] - y[j], x[here] - x[j])
            near = here[d <= r_eq[here] + r_eq[j]]
            members = [
                int(i)
                for i in near
                if merged_into[i] < 0 and (track[i] == sid or last[int(track[i])] == f)
            ]
            if len(members) < 2:
                continue
            a = area[members]
            if area[j] < a.max() + merge_area_fraction * (a.sum() - a.max()):
                continue
            surv = members[int(np.argmax(a))]
            sur_id = int(track[surv])
            if sur_id != sid:
                moved = (track == sid) & (frame > f)
                track[moved] = sur_id
                last[sur_id] = int(frame[moved].max())
                if np.any(track == sid):
                    last[sid] = int(frame[track == sid].max())
                else:
                    last.pop(sid, None)
            for i in members:
                if i != surv:
                    merged_into[i] = sur_id
                    last[int(track[i])] = f
    if splits:
        split_from = _split_pass(
            track, frame, y, x, area, r_eq, merged_into, float(split_area_fraction)
        )
    else:
        split_from = np.full(len(det), -1, dtype=np.int64)
    new = _renumber(track, frame)
    mapping = dict(zip(track.tolist(), new.tolist(), strict=True))
    det["track"] = new
    det["merged_into"] = np.array([mapping[v] if v >= 0 else -1 for v in merged_into.tolist()])
    det["split_from"] = np.array([mapping[v] if v >= 0 else -1 for v in split_from.tolist()])
    det = det.sort_values(["track", "frame"], kind="stable").reset_index(drop=True)
    det.attrs = dict(detections.attrs)
    det.attrs["n_links_cut"] = n_cut
    det.attrs["max_speed_um_s"] = max_speed_um_s
    return det


def merge_events(tracks: pd.DataFrame) -> pd.DataFrame:
    """The merges recorded by :func:`track_deposits`, one row per absorbed deposit.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`track_deposits`.

    Returns
    -------
    pandas.DataFrame
        ``track`` (absorbed), ``into_track`` (survivor), ``frame`` and ``t_s`` of the
        absorbed track's last detection, ``area_um2`` (its last area, µm²).

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 1], "frame": [3, 3], "t_s": [9.0, 9.0],
    ...                    "area_um2": [5.0, 3.0], "merged_into": [-1, 0]})
    >>> merge_events(tr).values.tolist()
    [[1.0, 0.0, 3.0, 9.0, 3.0]]
    """
    if "merged_into" not in tracks:
        raise ValueError("tracks lack the merged_into column; build them with track_deposits")
    m = tracks[tracks["merged_into"] >= 0]
    return pd.DataFrame(
        {
            "track": m["track"].to_numpy(np.int64),
            "into_track": m["merged_into"].to_numpy(np.int64),
            "frame": m["frame"].to_numpy(np.int64),
            "t_s": m["t_s"].to_numpy(float),
            "area_um2": m["area_um2"].to_numpy(float),
        }
    )


def effective_volume_um3(
    area_um2: Any, *, shape: str = "hemisphere", height_um: float | None = None
) -> np.ndarray:
    """Effective volume (µm³) of deposits from their projected (top-view) area.

    r = √(A/π); hemisphere: V = ⅔·π·r³; cylinder of height h: V = π·r²·h = A·h.

    Examples
    --------
    >>> effective_volume_um3([math.pi]).round(4).tolist()
    [2.0944]
    >>> effective_volume_um3([2.0], shape="cylinder", height_um=3.0).tolist()
    [6.0]
    """
    a = np.asarray(area_um2, dtype=float)
    if shape == "hemisphere":
        r = np.sqrt(np.clip(a, 0, None) / np.pi)
        return 2.0 / 3.0 * np.pi * r**3
    if shape == "cylinder":
        if height_um is None or not (height_um > 0):
            raise ValueError("the cylinder shape needs a positive height_um")
        return a * float(height_um)
    raise ValueError(f"shape must be one of {_SHAPES}, not {shape!r}")


def _robust_noise(values: np.ndarray) -> float:
    """σ of white noise on a smooth series from its second differences (MAD-based)."""
    v = values[np.isfinite(values)]
    if v.size < 4:
        return float("nan")
    d2 = np.diff(v, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def deposit_timeseries(
    tracks: pd.DataFrame, *, shape: str = "hemisphere", height_um: float | None = None
) -> pd.DataFrame:
    """Per-deposit time series: area, intensity, effective radius and volume.

    The effective radius is r = √(A/π) from the projected area A; the effective volume
    follows an assumed shape: ``"hemisphere"`` V = ⅔·π·r³ (default) or ``"cylinder"``
    V = π·r²·h with a given height (µm). The area noise of each track, σ_A, is
    estimated from its second differences (robust to the few kinks where growth turns
    to dissolution; Var(Δ²A) = 6σ_A² for white noise), and propagated:
    σ_r = σ_A/(2πr), σ_V = (dV/dA)·σ_A (hemisphere: 1.5·V/A·σ_A; cylinder: h·σ_A).

    Parameters
    ----------
    tracks : pandas.DataFrame
        Output of :func:`track_deposits`.
    shape : {"hemisphere", "cylinder"}
        Shape model of the effective volume.
    height_um : float, optional
        Cylinder height, µm (required for ``"cylinder"``).

    Returns
    -------
    pandas.DataFrame
        ``track``, ``frame``, ``t_s``, ``area_um2``, ``area_noise_um2`` (σ_A of the
        track), ``integrated_intensity`` (when present), ``radius_um``,
        ``radius_err_um``, ``volume_um3``, ``volume_err_um3`` (1σ), ``merged_into``
        and, for tracks with ``split_from``, ``split_from`` and ``family`` (the
        deposit family of :func:`~platescope.particles.track_graph`); sorted by track
        and time. ``attrs["shape"]`` names the model.

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"track": [0, 0], "frame": [0, 1], "t_s": [0.0, 5.0],
    ...                    "area_um2": [math.pi, 4 * math.pi], "merged_into": [-1, -1]})
    >>> deposit_timeseries(tr)["volume_um3"].round(3).tolist()
    [2.094, 16.755]
    """
    _check_detections(tracks, need=("track", "frame", "t_s", "area_um2"))
    ts = tracks.sort_values(["track", "frame"], kind="stable")
    area = ts["area_um2"].to_numpy(float)
    out = pd.DataFrame(
        {
            "track": ts["track"].to_numpy(np.int64),
            "frame": ts["frame"].to_numpy(np.int64),
            "t_s": ts["t_s"].to_numpy(float),
            "area_um2": area,
        }
    )
    noise = ts.groupby("track", sort=False)["area_um2"].transform(
        lambda s: _robust_noise(s.to_numpy(float))
    )
    out["area_noise_um2"] = noise.to_numpy(float)
    if "integrated_intensity" in ts:
        out["integrated_intensity"] = ts["integrated_intensity"].to_numpy(float)
    r = np.sqrt(np.clip(area, 0, None) / np.pi)
    out["radius_um"] = r
    with np.errstate(divide="ignore", invalid="ignore"):
        out["radius_err_um"] = out["area_noise_um2"] / (2 * np.pi * r)
    vol = effective_volume_um3(area, shape=shape, height_um=height_um)
    out["volume_um3"] = vol
    with np.errstate(divide="ignore", invalid="ignore"):
        dvda = 1.5 * vol / area if shape == "hemisphere" else np.full(area.size, float(height_um))
    out["volume_err_um3"] = dvda * out["area_noise_um2"].to_numpy(float)
    out["merged_into"] = (
        ts["merged_into"].to_numpy(np.int64) if "merged_into" in ts else np.full(len(ts), -1)
    )
    if "split_from" in ts:
        from platescope.particles._lineage import track_graph

        out["split_from"] = ts["split_from"].to_numpy(np.int64)
        graph = track_graph(ts)
        fam = dict(zip(graph["track"].astype(int), graph["family"].astype(int), strict=True))
        out["family"] = out["track"].map(fam).to_numpy(np.int64)
    out = out.reset_index(drop=True)
    out.attrs = {
        "shape": shape,
        "height_um": height_um,
        "pixel_size_um": tracks.attrs.get("pixel_size_um"),
    }
    return out
