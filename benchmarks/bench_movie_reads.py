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
- peak RSS (VmHWM) and its rise over the process after imports;
- wall and CPU time.

Writes ``benchmarks/results/movie_reads.json``. Deletes the enlarged movies afterwards.
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
#: inside another is counted in both), and repeated calls add up.
STEPS = [
    ("platescope.pipeline._provenance", "_sha256", "inputs' sha256 (provenance)"),
    ("platescope.pipeline._run", "sha256_file", "experiment file sha256"),
    ("platescope.pipeline._irm_galvanostatic", "read_movie_section", "read_movie_section"),
    ("platescope.optics._registration", "frame_quality", "registration.frame_quality"),
    ("platescope.optics._registration", "register_drift", "registration.register_drift"),
    ("platescope.optics", "prepare_irm", "prepare_irm (all)"),
    ("platescope.sync", "mean_intensity", "prepare_irm: sync.mean_intensity"),
    ("platescope.sync", "synchronize", "prepare_irm: sync.synchronize (landing step)"),
    ("platescope.optics._irm_prepare", "footprint_mask", "prepare_irm: footprint_mask"),
    (
        "platescope.optics._irm_prepare",
        "irm_frame_statistics",
        "prepare_irm: irm_frame_statistics (drift, footprint mean, regions)",
    ),
    ("platescope.optics._irm_prepare", "subtract_reference", "prepare_irm: subtract_reference"),
    ("platescope.optics", "t_nuc_map", "t_nuc_map"),
    ("platescope.optics", "t_nuc_regions", "t_nuc_regions"),
    ("platescope.optics", "ce_intensity_changes", "ce_intensity_changes"),
    ("platescope.optics", "onset_map", "onset_map"),
    ("platescope.optics", "gaussian_blur", "irm frames figure (gaussian_blur)"),
    ("platescope.pipeline._irm_galvanostatic", "_sem_analyses", "SEM analyses"),
    ("platescope.pipeline._see_through", "read_movie_section", "read_movie_section"),
    (
        "platescope.pipeline._see_through",
        "_movie_on_echem_clock",
        "see-through: movie on echem clock",
    ),
    ("platescope.optics", "transmittance", "see-through: transmittance"),
    ("platescope.optics", "relative_reflectivity", "see-through: relative_reflectivity"),
    ("platescope.optics", "normalize_window", "see-through: normalize_window"),
    ("platescope.optics", "regional_curves", "see-through: regional_curves"),
    ("platescope.optics", "temporal_color_code", "see-through: temporal_color_code"),
    ("platescope.optics", "montage_frames", "see-through: montage_frames"),
    ("platescope.pipeline._dendrite_cycling", "read_movie_section", "read_movie_section"),
    ("platescope.particles", "detect_deposits", "dendrite-cycling: detect_deposits"),
    ("platescope.particles", "track_deposits", "dendrite-cycling: track_deposits"),
    ("platescope.particles", "find_dead_li", "dendrite-cycling: find_dead_li"),
]


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
                try:
                    return fn(*a, **k)
                finally:
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


def child(experiment: str, out: str) -> None:
    """Analyse in this fresh process; print one JSON line."""
    import platescope.optics  # noqa: F401  (imports outside the measured window)
    import platescope.pipeline  # noqa: F401
    from platescope.cli import main as cli_main

    steps: dict = {}
    if os.environ.get("BENCH_STEPS", "1") == "1":
        _patch_steps(steps)
    if os.environ.get("BENCH_FORCE_LAZY") == "1":  # small simulated movies: read as big ones
        import platescope.io as pio

        eager_read = pio.read_movie
        pio.read_movie = lambda path, **kw: eager_read(path, **{**kw, "lazy": True})

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
                "wall_s": wall,
                "cpu_s": cpu,
                "steps": steps,
            }
        )
    )


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


def scenario_reads(scenario: str, tag: str, workdir) -> None:
    """Reads per analysis of another movie scenario's simulated experiment (lazy read)."""
    import tomllib

    from platescope.simulate import simulate

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        exp = simulate(scenario, Path(tmp) / "exp", seed=1)
        conf = tomllib.loads(Path(exp).read_text())
        movies = [
            Path(exp).parent / sec["path"]
            for sec in conf.values()
            if isinstance(sec, dict) and "mode" in sec and "path" in sec
        ]
        size = sum(m.stat().st_size for m in movies)
        for m in movies:
            _drop_from_page_cache(m)
        load_before = os.getloadavg()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(exp), str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_FORCE_LAZY": "1"},
        )
        if proc.returncode:
            raise RuntimeError(proc.stderr[-3000:])
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
    rec.update(
        scenario=scenario,
        movies=[m.name for m in movies],
        movie_bytes=size,
        reads=rec["rchar"] / size,
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
    )
    for st in rec["steps"].values():
        st["reads"] = st["rchar"] / size
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"movie_reads_{scenario}{tag}.json").write_text(json.dumps(rec, indent=2))
    print(f"{scenario}: {size / 2**20:.1f} MiB of movies, {rec['reads']:.2f} reads per analysis")
    for label, st in rec["steps"].items():
        print(f"      {st['reads']:6.2f} reads {st['cpu_s']:7.1f} s CPU  {label}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, nargs="+", default=[2, 4])
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
        default=None,
        help="instead: reads per analysis of this scenario's simulated experiment, its "
        "movies read lazily (e.g. see-through-au, dendrite-cycling)",
    )
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.scenario:
        scenario_reads(args.scenario, args.tag, args.workdir)
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
