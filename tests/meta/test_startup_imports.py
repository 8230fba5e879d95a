"""Start-up cost: what ``platescope --help`` / ``info`` and the package imports pull in.

A fact, not a time: a fresh interpreter is asked which heavy libraries are in
``sys.modules`` after the step. ``platescope --help`` imports every scenario runner
(the registry lists them), so a runner that imported pandas at module level would
fail here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "scipy", "xarray", "matplotlib", "skimage", "dask", "distributed")


def _loaded_after(code: str) -> list[str]:
    probe = (
        "import sys, json, contextlib, io\n"
        + code
        + f"\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "module",
    [
        "platescope",
        "platescope.cli",
        "platescope.io",
        "platescope.echem",
        "platescope.particles",
        "platescope.pipeline",
        "platescope.models",
        "platescope.stats",
    ],
)
def test_package_import_is_light(module):
    assert _loaded_after(f"import {module}") == []


def test_help_imports_no_heavy_library():
    code = (
        "from platescope.cli._main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'seccm-combinatorial' in buf.getvalue()\n"
    )
    assert _loaded_after(code) == []


def test_info_of_an_sem_image_needs_no_pandas(tmp_path):
    import numpy as np
    import tifffile

    p = tmp_path / "plain.tif"
    tifffile.imwrite(p, np.zeros((2, 8, 8), np.uint16))  # a 2-frame movie: describe_movie
    code = (
        "from platescope.cli._main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['info', {str(Path(p))!r}]) == 0\n"
    )
    assert _loaded_after(code) == []


def test_lazy_names_resolve_to_the_defining_module():
    import platescope.particles as particles
    from platescope.particles._measure import measure_particles

    assert particles.measure_particles is measure_particles
    assert "analyse_sem_image" in dir(particles)
    with pytest.raises(AttributeError):
        particles.no_such_function  # noqa: B018


_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.mark.parametrize(
    "name", ["written.csv", "echem/yadg/cp.mpt", "echem/unitpackage/gamry_cv.DTA"]
)
def test_info_of_an_echem_record_needs_no_scipy(tmp_path, name):
    """``info`` of an echem record reads it (pandas) but loads no SciPy (scipy.signal
    alone cost 0.5–1.5 s: the readers' spike test lived next to a savgol_filter import)."""
    if name == "written.csv":
        p = tmp_path / name
        p.write_text("time_s,potential_V,current_A\n0,0.10,-1e-4\n1,-0.05,-1e-4\n2,-0.04,-1e-4\n")
    else:
        p = _DATA / name
        if not p.is_file():
            pytest.skip("shared/data absent")
    code = (
        "from platescope.cli._main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
        f"    assert main(['info', {str(p)!r}]) == 0\n"
        'assert \'"kind": "echem"\' in buf.getvalue()\n'
    )
    assert _loaded_after(code) == ["pandas"]


def test_particles_command_imports_no_pandas_or_xarray(tmp_path):
    """``platescope particles`` (segment + measure one image → CSV) pays only for
    tifffile, scipy.ndimage and scikit-image's thresholds: its whole process is compared
    with ImageJ's (benchmarks/bench_particles_process.py)."""
    import numpy as np

    from platescope.io._image_writers import write_sem_tiff

    img = np.full((70, 64), 20, np.uint8)
    img[10:20, 10:20] = 200
    p = write_sem_tiff(str(tmp_path / "s.tif"), img, pixel_size_nm=5.0, databar_rows=6)
    code = (
        "from platescope.cli._main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
        f"    assert main(['particles', {str(p)!r}, '--imagej-levels']) == 0\n"
        "assert len(buf.getvalue().splitlines()) == 2\n"
    )
    assert _loaded_after(code) == ["scipy", "skimage"]
