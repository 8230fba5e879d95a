"""Benchmark: how many times `platescope analyze` reads an IRM movie, and its peak RSS.

Run: ``python benchmarks/bench_movie_reads.py --scale 2 4 [--fps 34] [--size 256]``
(larger frames), or ``--scale 1 --duration 60 --tag _60s`` and ``--duration 240`` (a
4× longer movie of the same frames).

An ``irm-galvanostatic`` experiment is simulated once (``--size``² px, ``--fps``); its
movie is then enlarged spatially by an integer ``scale`` (each pixel → scale × scale
pixels, the pixel size divided by ``scale``: the same physical field, footprint and
echem), written frame by frame through a memory-mapped ``.npy`` so the generator never
holds the movie. Each size is analysed in a fresh process that reports

- ``rchar`` of ``/proc/self/io`` during ``analyze`` (bytes returned by ``read()``
  calls: the movie file read through tifffile, page cache included) divided by the
  movie file size → **reads per analysis**;
- ``read_bytes`` (bytes fetched from the storage device; small when the file is
  in the page cache);
- peak RSS (VmHWM) and its rise over the process after imports, and the largest
  sampled RSS (every 0.25 s) while each step was the innermost one active;
- wall and CPU time.

Writes ``benchmarks/results/movie_reads.json``. Deletes the enlarged movies afterwards.

``--scenario NAME [NAME …] [--scale 1 2]``: the other movie scenarios' default
simulations (see-through-au, dendrite-cycling, irm-cv, top-view-nucleation), movies
read lazily, each enlarged by each scale; the bytes tifffile reads from the movie files
are counted (pixels and metadata apart, plus the provenance hash) and attributed to the
innermost step of :data:`STEPS` active when they were read
(``results/movie_reads_<scenario>[_x<scale>]<tag>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _proc_io() -> dict:
    out = {}
    with open("/proc/self/io") as fh:
        for line in fh:
            k, v = line.split(":")
            out[k.strip()] = int(v)
    return out


def _vm(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


#: (module, attribute, step name): the calls whose reads are counted one by one. Each
#: is patched where the pipeline looks it up; the counts are inclusive (a step called
#: inside another is counted in both), and repeated calls add up. ``exclusive`` counts
#: a byte only for the innermost step active when it was read, so the exclusive counts
#: add up to the attributed part of the movie reads (``attributed``).
STEPS = [
    ("platescope.pipeline._provenance", "_sha256", "inputs' sha256 (provenance)"),
    ("platescope.pipeline._run", "sha256_file", "experiment file sha256"),
    ("platescope.io._movie_tiff", "check_ifd_chain", "tiff: IFD chain check (metadata)"),
    ("platescope.io._movie_tiff", "probe", "tiff: probe (metadata)"),
    # read_movie_section is looked up in each runner's module
    ("platescope.pipeline._irm_galvanostatic", "read_movie_section", "read_movie_section"),
    ("platescope.pipeline._see_through", "read_movie_section", "read_movie_section"),
    ("platescope.pipeline._dendrite_cycling", "read_movie_section", "read_movie_section"),
    ("platescope.pipeline._top_view_nucleation", "read_movie_section", "read_movie_section"),
    ("platescope.optics._registration", "frame_quality", "registration.frame_quality"),
    ("platescope.optics._registration", "register_drift", "registration.register_drift"),
    ("platescope.optics", "prepare_irm", "prepare_irm (all)"),
    ("platescope.sync", "mean_intensity", "sync.mean_intensity"),
    ("platescope.sync", "synchronize", "sync.synchronize (landing step)"),
    ("platescope.optics._irm_prepare", "footprint_mask", "prepare_irm: footprint_mask"),
    (
        "platescope.optics._irm_prepare",
        "irm_frame_statistics",
        "prepare_irm: irm_frame_statistics (drift, footprint mean, regions, CE windows)",
    ),
    ("platescope.optics._irm_prepare", "subtract_reference", "prepare_irm: subtract_reference"),
    ("platescope.optics", "t_nuc_map", "t_nuc_map"),
    ("platescope.optics", "t_nuc_regions", "t_nuc_regions"),
    ("platescope.optics", "ce_intensity_changes", "ce_intensity_changes"),
    ("platescope.optics", "onset_map", "onset_map"),
    ("platescope.optics", "gaussian_blur", "irm frames figure (gaussian_blur)"),
    ("platescope.pipeline._irm_galvanostatic", "_sem_analyses", "SEM analyses"),
    ("platescope.pipeline._irm_cv", "_irm_analyses", "irm-cv: IRM analyses (CE maps, figures)"),
    ("platescope.pipeline._see_through", "_movie_step", "see-through: movie step (signal, mean)"),
    ("platescope.optics", "transmittance", "see-through: transmittance"),
    ("platescope.optics", "relative_reflectivity", "see-through: relative_reflectivity"),
    ("platescope.optics", "normalize_window", "see-through: normalize_window"),
    ("platescope.optics", "regional_curves", "see-through: regional_curves"),
    (
        "platescope.pipeline._see_through",
        "_views_step",
        "see-through: views (colour code, montage)",
    ),
    ("platescope.optics", "temporal_color_code", "see-through: temporal_color_code"),
    ("platescope.optics", "montage_frames", "see-through: montage_frames"),
    ("platescope.particles", "detect_sites", "see-through: detect_sites"),
    ("platescope.particles", "track_pores", "see-through: track_pores"),
    ("platescope.report", "fig_sites_spatial", "see-through: sites figure"),
    ("platescope.pipeline._see_through", "_epi_step", "see-through: epi movie (mean R/R0)"),
    ("platescope.particles", "detect_deposits", "detect_deposits"),
    ("platescope.particles._tracking", "read_frames", "detect_deposits: threshold sample frames"),
    ("platescope.particles", "track_deposits", "track_deposits"),
    ("platescope.particles", "find_dead_li", "dendrite-cycling: find_dead_li"),
    ("platescope.report", "fig_deposit_montage", "deposit montage figure"),
    ("platescope.particles", "tip_growth_onset", "top-view: tip_growth_onset"),
    ("platescope.particles", "nucleus_counts", "top-view: nucleus_counts"),
]

#: Movie bytes read through tifffile (filled in the child): total, by kind, by step.
_MOVIE_READS: dict = {}
#: Labels of the counted steps active on the main thread (innermost last).
_ACTIVE: list = []


def _count_movie_bytes(movies: set) -> None:
    """Count the bytes tifffile reads from the movie files (independent of platescope).

    Bytes read while tifffile parses a file header or a page's IFD (``TiffFile``,
    ``TiffPage``, ``TiffFrame`` constructors, ``TiffPages`` walking the IFD chain)
    are "metadata"; every other read of the file is "pixels". Nested calls
    (``read_segments`` calling ``read``) are counted once, at the outer call.
    Bytes read while a step of :data:`STEPS` is active are added to it (inclusive) and
    to the innermost one (exclusive); the rest go to ``unattributed`` with the caller.
    """
    import functools
    import threading
    import traceback

    import tifffile

    rec = _MOVIE_READS
    rec.update(pixels=0, metadata=0, by_step={}, exclusive={}, unattributed={})
    lock = threading.Lock()
    depth = threading.local()

    def is_movie(fh) -> bool:
        try:
            return os.path.realpath(fh.path) in movies
        except Exception:  # noqa: BLE001 - a file object without a path
            return False

    def caller() -> str:
        if threading.current_thread() is not threading.main_thread():
            return "(reader thread, no step active)"
        frames = [
            f
            for f in traceback.extract_stack()
            if "/platescope/" in f.filename and "/io/" not in f.filename
        ]
        return " > ".join(f"{Path(f.filename).stem}.{f.name}:{f.lineno}" for f in frames[-3:])

    def add(n: int, kind: str) -> None:
        with lock:
            rec[kind] += n
            for label in set(_ACTIVE):
                rec["by_step"][label] = rec["by_step"].get(label, 0) + n
            if _ACTIVE:
                rec["exclusive"][_ACTIVE[-1]] = rec["exclusive"].get(_ACTIVE[-1], 0) + n
            else:
                key = caller()
                rec["unattributed"][key] = rec["unattributed"].get(key, 0) + n

    def nbytes(result) -> int:
        if isinstance(result, int):
            return result
        if hasattr(result, "nbytes"):
            return int(result.nbytes)
        return len(result) if result is not None else 0

    def plain(name: str, kind: str):
        fn = getattr(tifffile.FileHandle, name)

        @functools.wraps(fn)
        def inner(self, *a, **k):
            d = getattr(depth, "n", 0)
            depth.n = d + 1
            try:
                result = fn(self, *a, **k)
            finally:
                depth.n = d
            if d == 0 and is_movie(self):
                add(nbytes(result), "metadata" if getattr(parsing, "n", 0) else kind)
            return result

        return inner

    parsing = threading.local()

    def parse(cls, name):
        fn = getattr(cls, name)

        @functools.wraps(fn)
        def inner(*a, **k):
            parsing.n = getattr(parsing, "n", 0) + 1
            try:
                return fn(*a, **k)
            finally:
                parsing.n -= 1

        setattr(cls, name, inner)

    parse(tifffile.TiffFile, "__init__")
    parse(tifffile.TiffPage, "__init__")
    parse(tifffile.TiffFrame, "__init__")
    for name in ("_seek", "_load", "_getlist", "_getitem"):
        if hasattr(tifffile.TiffPages, name):
            parse(tifffile.TiffPages, name)

    seg_fn = tifffile.FileHandle.read_segments

    @functools.wraps(seg_fn)
    def read_segments(self, *a, **k):
        gen = seg_fn(self, *a, **k)
        movie = is_movie(self)
        while True:
            d = getattr(depth, "n", 0)
            depth.n = d + 1
            try:
                item = next(gen)
            except StopIteration:
                return
            finally:
                depth.n = d
            if d == 0 and movie:
                segment = item[0] if isinstance(item, tuple) else item
                add(nbytes(segment), "metadata" if getattr(parsing, "n", 0) else "pixels")
            yield item

    tifffile.FileHandle.read = plain("read", "pixels")
    tifffile.FileHandle.readinto = plain("readinto", "pixels")
    tifffile.FileHandle.read_array = plain("read_array", "pixels")
    tifffile.FileHandle.read_segments = read_segments


def _patch_steps(counts: dict) -> None:
    """Wrap each step in STEPS to add its rchar, read_bytes, wall and CPU time to counts."""
    import functools
    import importlib

    for mod_name, attr, label in STEPS:
        try:
            mod = importlib.import_module(mod_name)
            fn = getattr(mod, attr)
        except (ImportError, AttributeError):
            continue

        def wrap(fn=fn, label=label):
            @functools.wraps(fn)
            def inner(*a, **k):
                io0, w0, c0 = _proc_io(), time.perf_counter(), time.process_time()
                _ACTIVE.append(label)
                try:
                    return fn(*a, **k)
                finally:
                    _ACTIVE.pop()
                    io1 = _proc_io()
                    rec = counts.setdefault(
                        label,
                        {"calls": 0, "rchar": 0, "read_bytes": 0, "wall_s": 0.0, "cpu_s": 0.0},
                    )
                    rec["calls"] += 1
                    rec["rchar"] += io1["rchar"] - io0["rchar"]
                    rec["read_bytes"] += io1["read_bytes"] - io0["read_bytes"]
                    rec["wall_s"] += time.perf_counter() - w0
                    rec["cpu_s"] += time.process_time() - c0

            return inner

        setattr(mod, attr, wrap())


def _sample_rss(peaks: dict, period_s: float = 0.25) -> None:
    """Sample VmRSS every ``period_s`` (a daemon thread); keep each step's maximum, MB.

    The sample goes to the innermost step active on the main thread (``(no step)``
    otherwise), so ``rss_by_step_mb`` says which step the process peak (VmHWM) was in
    (a sample can miss a peak shorter than the period).
    """
    import threading

    def run() -> None:
        while True:
            label = _ACTIVE[-1] if _ACTIVE else "(no step)"
            rss = _vm("VmRSS")
            if rss > peaks.get(label, 0.0):
                peaks[label] = rss
            time.sleep(period_s)

    threading.Thread(target=run, daemon=True, name="rss-sampler").start()


def child(experiment: str, out: str) -> None:
    """Analyse in this fresh process; print one JSON line."""
    import platescope.optics  # noqa: F401  (imports outside the measured window)
    import platescope.pipeline  # noqa: F401
    from platescope.cli import main as cli_main

    steps: dict = {}
    movies = {os.path.realpath(m) for m in os.environ.get("BENCH_MOVIES", "").split(os.pathsep)}
    movies.discard(os.path.realpath(""))
    if os.environ.get("BENCH_STEPS", "1") == "1":
        _patch_steps(steps)
    if movies:
        _count_movie_bytes(movies)
        _patch_hash(movies)
    if os.environ.get("BENCH_FORCE_LAZY") == "1":  # small simulated movies: read as big ones
        import platescope.io as pio

        eager_read = pio.read_movie
        pio.read_movie = lambda path, **kw: eager_read(path, **{**kw, "lazy": True})

    rss_by_step: dict = {}
    _sample_rss(rss_by_step)
    io0, rss0 = _proc_io(), _vm("VmHWM")
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        rc = cli_main(["analyze", experiment, "--out", out])
    except SystemExit as exc:  # the CLI exits with its code
        rc = exc.code
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    io1 = _proc_io()
    print(
        json.dumps(
            {
                "exit_code": rc,
                "rchar": io1["rchar"] - io0["rchar"],
                "read_bytes": io1["read_bytes"] - io0["read_bytes"],
                "rss_peak_mb": _vm("VmHWM"),
                "rss_after_imports_mb": rss0,
                "rss_by_step_mb": dict(rss_by_step),
                "wall_s": wall,
                "cpu_s": cpu,
                "steps": steps,
                "movie_reads": _MOVIE_READS,
            }
        )
    )


def _patch_hash(movies: set) -> None:
    """Count the movie bytes the provenance hash reads (a plain file read, not tifffile)."""
    import functools

    from platescope.pipeline import _provenance

    fn = _provenance._sha256

    @functools.wraps(fn)
    def inner(path, *a, **k):
        if os.path.realpath(path) in movies:
            _MOVIE_READS["hash"] = _MOVIE_READS.get("hash", 0) + os.path.getsize(path)
        return fn(path, *a, **k)

    _provenance._sha256 = inner


def enlarge(src_dir: Path, dst_dir: Path, scale: int) -> int:
    """Copy the experiment, the movie enlarged ``scale``× per side; return its bytes.

    The enlarged movie is written frame by frame straight into a BigTIFF (pixel size
    as a centimetre resolution; the frame times stay in ``frame_times.csv``), so
    neither the generator nor a temporary file ever holds the movie; its pages are
    then dropped from the page cache (``posix_fadvise DONTNEED``) so that the
    analysis starts cold, as with a movie that never fitted in memory.
    """
    import tifffile

    shutil.copytree(src_dir, dst_dir, ignore=shutil.ignore_patterns("irm.tif"))
    with tifffile.TiffFile(src_dir / "irm.tif") as tif:
        small = tif.asarray(out="memmap")
        res = tif.pages[0].tags["XResolution"].value
    px_um = res[1] / res[0] / scale
    nt, ny, nx = small.shape

    def frames():
        for i in range(nt):
            yield np.repeat(np.repeat(small[i], scale, axis=0), scale, axis=1)

    path = dst_dir / "irm.tif"
    with tifffile.TiffWriter(path, bigtiff=True) as tw:
        tw.write(
            frames(),
            shape=(nt, ny * scale, nx * scale),
            dtype=np.uint16,
            photometric="minisblack",
            resolution=(1e4 / px_um, 1e4 / px_um),
            resolutionunit="CENTIMETER",
            contiguous=True,
        )
    _drop_from_page_cache(path)
    return path.stat().st_size


def _n_frames(path: Path) -> int:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return int(tif.series[0].shape[0])


def _drop_from_page_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _memory_cgroup(cap_gib: float) -> Path:
    """A cgroup-v1 memory group (page cache charged) under this process's own group."""
    own = next(
        line.split(":", 2)[2].strip()
        for line in Path("/proc/self/cgroup").read_text().splitlines()
        if line.split(":")[1] == "memory"
    )
    cg = Path("/sys/fs/cgroup/memory") / own.lstrip("/") / f"platescope-bench-{os.getpid()}"
    cg.mkdir()
    (cg / "memory.limit_in_bytes").write_text(str(int(cap_gib * 2**30)))
    return cg


def _movie_sections(conf: dict) -> list[dict]:
    """The sections of an experiment.toml that name a movie ([movie], [epi], [[plating]])."""
    found = []
    for sec in conf.values():
        for item in sec if isinstance(sec, list) else [sec]:
            if (
                isinstance(item, dict)
                and "path" in item
                and ("mode" in item or str(item["path"]).lower().endswith((".tif", ".tiff")))
            ):
                found.append(item)
    return found


def _enlarge_tiff(src: Path, dst: Path, scale: int) -> None:
    """Write ``src`` enlarged ``scale``× per side (pixel size / scale) frame by frame."""
    import tifffile

    from platescope import io

    x = io.read_movie(src, lazy=True).x.values
    px_um = float(abs(x[1] - x[0]))
    with tifffile.TiffFile(src) as tif:
        small = tif.series[0].asarray()  # a small simulated movie
    nt, ny, nx = small.shape
    px_um /= scale

    def frames():
        for i in range(nt):
            yield np.repeat(np.repeat(small[i], scale, axis=0), scale, axis=1)

    with tifffile.TiffWriter(dst, bigtiff=True) as tw:
        tw.write(
            frames(),
            shape=(nt, ny * scale, nx * scale),
            dtype=small.dtype,
            photometric="minisblack",
            resolution=(1e4 / px_um, 1e4 / px_um),
            resolutionunit="CENTIMETER",
            contiguous=True,
        )


def _simulated_experiment(scenario: str, root: Path, seed: int, scale: int) -> tuple[Path, list]:
    """Simulate ``scenario``; with ``scale`` > 1 enlarge its movies; (toml, movie paths)."""
    import tomllib

    from platescope.simulate import simulate

    exp = simulate(scenario, root / "sim", seed=seed)
    conf = tomllib.loads(exp.read_text())
    movies = [exp.parent / sec["path"] for sec in _movie_sections(conf)]
    if scale > 1:
        for m in movies:
            big = m.with_name(m.stem + f"_x{scale}.tif")
            _enlarge_tiff(m, big, scale)
            m.unlink()
            big.rename(m)
        text = exp.read_text()
        if "pixel_size_um" in text:
            raise RuntimeError("enlarging an experiment that sets pixel_size_um is not supported")
    return exp, movies


def scenario_reads(scenario: str, tag: str, workdir, *, scale: int = 1, seed: int = 1) -> dict:
    """Reads per analysis of a movie scenario's simulated experiment (lazy read).

    The movies are simulated with the scenario's defaults and, with ``scale`` > 1,
    enlarged ``scale``× per side (four times the bytes for ``scale`` = 2, the same
    physical field); the analysis runs in a fresh process whose reads of the movie
    files are counted through tifffile (pixels and metadata apart) and the provenance
    hash, besides ``rchar`` (every file the process reads: fonts, modules, tables...).
    """
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        exp, movies = _simulated_experiment(scenario, Path(tmp), seed, scale)
        size = sum(m.stat().st_size for m in movies)
        for m in movies:
            _drop_from_page_cache(m)
        load_before = os.getloadavg()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(exp), str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "BENCH_FORCE_LAZY": "1",
                "BENCH_MOVIES": os.pathsep.join(str(m) for m in movies),
            },
        )
        if proc.returncode:
            raise RuntimeError(proc.stderr[-3000:])
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
    mr = rec.pop("movie_reads")
    total = mr["pixels"] + mr["metadata"] + mr.get("hash", 0)
    attributed = sum(mr["exclusive"].values())
    rec.update(
        scenario=scenario,
        scale=scale,
        seed=seed,
        movies=[m.name for m in movies],
        movie_bytes=size,
        reads=total / size,
        reads_pixels=mr["pixels"] / size,
        reads_metadata=mr["metadata"] / size,
        reads_hash=mr.get("hash", 0) / size,
        attributed_fraction=attributed / max(mr["pixels"] + mr["metadata"], 1),
        rchar_reads=rec["rchar"] / size,
        unattributed={k: v / size for k, v in mr["unattributed"].items()},
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
    )
    for label, st in rec["steps"].items():
        st["rchar_reads"] = st.pop("rchar") / size
        st["reads"] = mr["by_step"].get(label, 0) / size
        st["reads_exclusive"] = mr["exclusive"].get(label, 0) / size
    name = f"movie_reads_{scenario}{tag}.json"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / name).write_text(json.dumps(rec, indent=2))
    print(
        f"{scenario} ×{scale}: {size / 2**20:.1f} MiB of movies, {rec['reads']:.2f} reads per "
        f"analysis (pixels {rec['reads_pixels']:.2f}, metadata {rec['reads_metadata']:.3f}, "
        f"hash {rec['reads_hash']:.2f}; rchar of every file {rec['rchar_reads']:.2f}), "
        f"{rec['attributed_fraction']:.0%} of the tifffile reads attributed to steps"
    )
    for label, st in sorted(rec["steps"].items(), key=lambda kv: -kv[1]["reads"]):
        if st["reads"] or st["reads_exclusive"]:
            print(
                f"      {st['reads']:6.2f} reads ({st['reads_exclusive']:5.2f} exclusive) "
                f"{st['calls']:3d} calls {st['cpu_s']:6.1f} s CPU  {label}"
            )
    for key, r in rec["unattributed"].items():
        print(f"      {r:6.2f} reads not attributed: {key}")
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--scale", type=int, nargs="+", default=None, help="default: 2 4 (IRM), 1 (--scenario)"
    )
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=float, default=34.0)
    ap.add_argument(
        "--pixel-um",
        type=float,
        default=None,
        help="simulated pixel size, µm (e.g. 0.08 with --size 128: the default field with "
        "a quarter of the simulator's memory, which grows with frames × pixels)",
    )
    ap.add_argument("--duration", type=float, default=None, help="echem record length, s")
    ap.add_argument("--tag", default="", help="suffix of the results file name")
    ap.add_argument("--workdir", default=None, help="where the movies go (default: a temp dir)")
    ap.add_argument(
        "--memory-cap-gib",
        type=float,
        default=None,
        help="run each analysis in a cgroup-v1 memory group of this limit (page cache "
        "included), so that a movie larger than the cap cannot stay in the cache",
    )
    ap.add_argument("--child", nargs=2, metavar=("EXPERIMENT", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--scenario",
        nargs="+",
        default=None,
        help="instead: reads per analysis of these scenarios' simulated experiments, "
        "movies read lazily (see-through-au, dendrite-cycling, irm-cv, "
        "top-view-nucleation); with --scale, each enlarged by each scale",
    )
    ap.add_argument("--seed", type=int, default=1, help="simulation seed (--scenario)")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.scale is None:
        args.scale = [1] if args.scenario else [2, 4]
    if args.scenario:
        for scenario in args.scenario:
            for scale in args.scale:
                tag = f"_x{scale}{args.tag}" if scale > 1 else args.tag
                scenario_reads(scenario, tag, args.workdir, scale=scale, seed=args.seed)
        return
    from platescope.simulate import irm_galvanostatic

    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        base = Path(tmp) / "base"
        extra = {} if args.duration is None else {"duration_s": args.duration}
        if args.pixel_um is not None:
            extra["irm_pixel_size_um"] = args.pixel_um
        irm_galvanostatic(base, seed=1, irm_size_px=args.size, frame_rate_fps=args.fps, **extra)
        for scale in args.scale:
            exp_dir = Path(tmp) / f"x{scale}"
            if scale == 1:
                shutil.copytree(base, exp_dir)
                size = (exp_dir / "irm.tif").stat().st_size
            else:
                size = enlarge(base, exp_dir, scale)
            if scale == 1:
                _drop_from_page_cache(exp_dir / "irm.tif")
            cg = _memory_cgroup(args.memory_cap_gib) if args.memory_cap_gib else None
            load_before = os.getloadavg()

            def enter_cgroup(cg=cg):
                if cg is not None:
                    (cg / "cgroup.procs").write_text(str(os.getpid()))

            try:
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(exp_dir / "experiment.toml"),
                        str(Path(tmp) / f"out{scale}"),
                    ],
                    capture_output=True,
                    text=True,
                    preexec_fn=enter_cgroup,
                    env={**os.environ, "BENCH_MOVIES": str(exp_dir / "irm.tif")},
                )
                cgroup = None
                if cg is not None:
                    cgroup = {
                        "limit_gib": args.memory_cap_gib,
                        "max_usage_gib": int((cg / "memory.max_usage_in_bytes").read_text())
                        / 2**30,
                        "failcnt": int((cg / "memory.failcnt").read_text()),
                    }
            finally:
                if cg is not None:
                    cg.rmdir()
            if proc.returncode:
                raise RuntimeError(proc.stderr[-3000:])
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            rec.update(
                scale=scale,
                movie_bytes=size,
                reads=rec["rchar"] / size,
                disk_reads=rec["read_bytes"] / size,
                n_frames=_n_frames(exp_dir / "irm.tif"),
                cgroup=cgroup,
                loadavg_before=load_before,
                loadavg_after=os.getloadavg(),
            )
            rec["wall_ms_per_frame"] = 1e3 * rec["wall_s"] / rec["n_frames"]
            rec["cpu_ms_per_frame"] = 1e3 * rec["cpu_s"] / rec["n_frames"]
            for st in rec["steps"].values():
                st["reads"] = st["rchar"] / size
            rows.append(rec)
            print(json.dumps(rec))
            shutil.rmtree(exp_dir)
    report = {
        "benchmark": "movie_reads",
        "base": {
            "size_px": args.size,
            "pixel_um": args.pixel_um,
            "fps": args.fps,
            "duration_s": args.duration,
        },
        "runs": rows,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_at_start": load0,
            "loadavg_at_end": os.getloadavg(),
        },
    }
    (HERE / "results").mkdir(exist_ok=True)
    name = f"movie_reads{args.tag}.json"
    (HERE / "results" / name).write_text(json.dumps(report, indent=2))
    print(f"{'scale':>5}{'movie GiB':>11}{'reads':>7}{'RSS MB':>8}{'wall s':>8}{'cpu s':>8}")
    for r in rows:
        print(
            f"{r['scale']:>5}{r['movie_bytes'] / 2**30:>11.2f}{r['reads']:>7.2f}"
            f"{r['rss_peak_mb']:>8.0f}{r['wall_s']:>8.0f}{r['cpu_s']:>8.0f}"
        )
        for label, st in r["steps"].items():
            print(f"      {st['reads']:6.2f} reads {st['cpu_s']:7.1f} s CPU  {label}")


if __name__ == "__main__":
    main()
