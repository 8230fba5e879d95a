"""Seeds (small valid files of every reader) and the outcome counts of the fuzz run."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest

#: reader -> Counter of outcomes ("ok", "InputError"); printed at the end of the run
OUTCOMES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="session")
def seeds(tmp_path_factory):
    """name -> folder holding one valid input of that reader (built once per session)."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from platescope.io._echem_eclab_text import write_eclab_mpt
    from platescope.io._image_writers import (
        write_frame_times_csv,
        write_imagej_movie,
        write_micromanager_movie,
        write_ome_movie,
        write_sem_tiff,
    )
    from platescope.simulate import simulate

    root = tmp_path_factory.mktemp("fuzz-seeds")
    out: dict[str, Path] = {}

    def folder(name):
        d = root / name
        d.mkdir()
        out[name] = d
        return d

    rng = np.random.default_rng(0)
    n = 120
    t = np.arange(n) * 0.1
    e = 0.2 - 0.002 * t + rng.normal(0, 1e-3, n)
    i = np.full(n, -1e-5)
    d = folder("echem-csv")
    (d / "rec.csv").write_text(
        "time_s,potential_V,current_A\n"
        + "".join(f"{a:.3f},{b:.6f},{c:.3e}\n" for a, b, c in zip(t, e, i, strict=True))
    )
    d = folder("echem-mpt")
    write_eclab_mpt(
        d / "rec.mpt",
        pd.DataFrame({"time_s": t, "potential_V": e, "current_A": i}),
        t0_local=dt.datetime(2024, 5, 1, 10, 0, 0),
    )
    for name, rel in (
        ("echem-gamry-dta", "unitpackage/gamry_cv.DTA"),
        ("echem-mpr", "yadg/cp.mpr"),
    ):
        src = DATA / "echem" / rel
        if src.is_file():
            shutil.copy(src, folder(name) / src.name)
    movie = rng.integers(100, 4000, size=(4, 16, 16)).astype(np.uint16)
    write_imagej_movie(
        folder("movie-imagej") / "m.tif", movie, pixel_size_um=0.2, frame_interval_s=1.0
    )
    write_ome_movie(
        folder("movie-ome") / "m.ome.tif", movie, pixel_size_um=0.2, delta_t_s=[0, 1, 2, 3]
    )
    write_micromanager_movie(
        folder("movie-micromanager") / "m_MMStack.ome.tif",
        movie,
        pixel_size_um=0.2,
        elapsed_ms=[0, 1e3, 2e3, 3e3],
    )
    write_sem_tiff(
        folder("sem-tiff") / "s.tif",
        rng.integers(0, 255, size=(40, 48)).astype(np.uint8),
        pixel_size_nm=5.0,
        databar_rows=8,
    )
    write_frame_times_csv(folder("frame-times") / "frame_times.csv", [0.0, 0.5, 1.0, 1.6])
    depth = np.linspace(0.01, 2.0, 40)
    n6 = 50 + 900 * np.exp(-depth)
    (folder("sims") / "profile.csv").write_text(
        "depth_um,counts_6Li,counts_7Li,counts_16O\n"
        + "".join(
            f"{a:.4f},{b:.1f},{1000 - b:.1f},{5:.1f}\n" for a, b in zip(depth, n6, strict=True)
        )
    )
    small = {"n_conditions": 2, "n_repeats": 2, "sample_period_s": 0.01}
    for layout in ("platescope", "echemtips", "wec-spm"):
        simulate(
            "seccm-combinatorial",
            root / f"_sim-{layout}",
            seed=1,
            overrides={**small, "layout": layout},
        )
        _copy_tree(root / f"_sim-{layout}", root / f"spots-{layout}")
        out[f"spots-{layout}"] = root / f"spots-{layout}"
    exp = simulate("sims-diffusion", root / "_sim-exp", seed=1)
    out["experiment-toml"] = _copy_tree(exp.parent, root / "experiment-toml")
    return out


@pytest.fixture(scope="session")
def fuzz_outcomes():
    return OUTCOMES


def pytest_terminal_summary(terminalreporter):
    if not OUTCOMES:
        return
    tr = terminalreporter
    tr.section("fuzz outcomes (cases per reader)")
    total = collections.Counter()
    for reader in sorted(OUTCOMES):
        c = OUTCOMES[reader]
        total.update(c)
        tr.write_line(
            f"{reader:24s} {sum(c.values()):5d} cases: {c['ok']:4d} read with sane values, "
            f"{c['InputError']:4d} InputError (exit 2)"
        )
    tr.write_line(
        f"{'total':24s} {sum(total.values()):5d} cases: {total['ok']:4d} ok, "
        f"{total['InputError']:4d} InputError; any other exception fails the test"
    )
