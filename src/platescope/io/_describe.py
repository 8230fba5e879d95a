"""``platescope info``: say what a file holds, whatever its kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from platescope._errors import InputError, file_problem

_MOVIE_EXT = {".tif", ".tiff", ".nd2", ".avi", ".mp4", ".mov", ".ome.tif", ".cine", ".spe"}
_ECHEM_EXT = {".mpt", ".mpr", ".txt", ".dta", ".csv", ".tsv"}


def _looks_like_frame_times(path: Path) -> bool:
    """A CSV whose header names frame times (``frame,time_s``, ``time_s`` or ``time_ms``) only."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip().lower().replace(";", ",").replace("\t", ",")
    cols = {c.strip() for c in header.split(",") if c.strip()}
    return (
        bool(cols) and cols <= {"frame", "time_s", "time_ms"} and bool(cols & {"time_s", "time_ms"})
    )


def _plain(obj):
    """JSON-safe copy: NaN/±inf → None, numpy → Python, tuples → lists, others → str."""
    import math

    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | np.ndarray):
        return [_plain(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    return str(obj)


def describe(path) -> dict:
    """Describe a movie, SEM image, AFM height map, electrochemistry record or experiment file.

    TIFFs with one page that carry SEM metadata (FEI/Thermo, Zeiss, Tescan) are
    described as SEM images, other
    TIFFs as movies. The result holds only JSON types: a value that is not a finite
    number (NaN, ±inf) is ``None``, so ``platescope info`` prints valid JSON.

    Parameters
    ----------
    path : path
        Any file platescope reads.

    Returns
    -------
    dict
        ``kind`` plus what the kind's reader reports (shape, times, pixel size, columns,
        units …).
    """
    return _plain(_describe(path))


def _describe(path) -> dict:
    # each reader is imported only for its kind of file (`platescope info` stays fast)
    path = Path(path)
    if path.is_dir():
        from platescope.io._movie import holds_frames

        if holds_frames(path):  # one image file per frame: a movie (or a volume's slices)
            from platescope.io._movie import describe_movie

            return describe_movie(path)
    problem = file_problem(path)
    if problem:
        raise InputError(path, f"the path {problem}", "name a regular data file")
    suffix = path.suffix.lower()
    from platescope.io._afm import describe_height_map, looks_like_afm

    if looks_like_afm(path):
        return describe_height_map(path)
    if suffix == ".toml":
        from platescope.io._experiment import read_experiment

        exp = read_experiment(path)
        return {
            "kind": "experiment",
            "scenario": exp.scenario,
            "name": exp.name,
            "inputs": {k: str(v) for k, v in exp.input_paths().items()},
        }
    if suffix == ".mps":
        from platescope.io._echem_eclab_mps import describe_settings

        return describe_settings(path)
    if suffix in (".tif", ".tiff"):
        import tifffile

        from platescope.io._movie_tiff import check_ifd_chain
        from platescope.io._sem import _TESCAN_TAG

        check_ifd_chain(path)
        try:
            with tifffile.TiffFile(path) as tif:
                single = len(tif.pages) == 1
                sem_meta = bool(
                    tif.fei_metadata or tif.sem_metadata or _TESCAN_TAG in tif.pages[0].tags
                )
        except Exception as err:  # tifffile raises several types on corrupt files
            what = (
                "it does not start with a TIFF signature"
                if "not a TIFF file" in str(err)
                else type(err).__name__
            )
            raise InputError(
                path, f"the TIFF cannot be opened ({what})", "check that the file is complete"
            ) from None
        if single and sem_meta:
            from platescope.io._sem import describe_sem

            return describe_sem(path)
        from platescope.io._movie import describe_movie

        return describe_movie(path)
    if suffix in _MOVIE_EXT:
        from platescope.io._movie import describe_movie

        return describe_movie(path)
    if suffix in (".csv", ".tsv", ".set", ".json"):
        from platescope.io._spots import looks_like_spots

        layout = looks_like_spots(path)
        if layout:
            from platescope.io._spots import describe_spots

            return describe_spots(path, layout=layout)
    if suffix in (".csv", ".tsv", ".txt"):
        from platescope.io._sims import describe_sims, looks_like_sims

        if looks_like_sims(path):
            return describe_sims(path)
    if suffix == ".csv" and _looks_like_frame_times(path):
        from platescope.io._movie import read_frame_times

        times = read_frame_times(path)
        steps = np.diff(times)
        return {
            "kind": "frame_times",
            "path": str(path),
            "n_frames": int(times.size),
            "first_time_s": float(times[0]),
            "last_time_s": float(times[-1]),
            "median_interval_s": float(np.median(steps)) if steps.size else None,
            "min_interval_s": float(steps.min()) if steps.size else None,
            "max_interval_s": float(steps.max()) if steps.size else None,
        }
    if suffix in _ECHEM_EXT:
        from platescope.io._echem import describe_echem

        return describe_echem(path)
    raise InputError(
        path,
        f"platescope does not know files ending in '{suffix}'",
        "give a movie (.tif/.ome.tif/.nd2/.cine/.spe/.avi/.mp4), an SEM .tif, an AFM scan "
        "(.gwy/.gsf/.spm/.sxm/.mi), an echem record "
        "(.mpt/.mpr/.txt/.DTA/.csv), EC-Lab settings (.mps) or an experiment .toml",
    )
