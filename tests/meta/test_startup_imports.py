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

import numpy as np
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


def _modules_after(code: str, names: tuple[str, ...]) -> list[str]:
    probe = code + f"\nimport sys\nprint(sorted(m for m in {names!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.strip().splitlines()[-1]


def test_sem_image_reads_without_dask_or_pint(tmp_path):
    """read_sem builds a NumPy-backed DataArray: xarray need not import dask (not even
    dask.base, to ask whether its index is a dask collection) nor pint."""
    from platescope.io._image_writers import write_sem_tiff

    p = tmp_path / "s.tif"
    write_sem_tiff(str(p), np.zeros((48, 32), np.uint8), pixel_size_nm=5.0, databar_rows=16)
    code = f"from platescope.io import read_sem\nim = read_sem({str(p)!r})\nassert im.shape == (32, 32)"
    assert _modules_after(code, ("dask", "dask.base", "dask.array", "pint")) == "[]"


def test_dask_and_pint_arrays_still_recognised_after_deferral():
    """Once dask.array / pint are imported, xarray sees their arrays as before."""
    pytest.importorskip("dask.array")
    code = (
        "import numpy as np\n"
        "from platescope._xarray_light import defer_duck_array_imports\n"
        "defer_duck_array_imports()\n"
        "import xarray as xr\n"
        "plain = xr.DataArray(np.zeros((4, 4)), dims=('y', 'x'))\n"
        "assert plain.chunks is None\n"
        "import dask.array as da\n"
        "lazy = xr.DataArray(da.zeros((4, 4), chunks=2), dims=('y', 'x'))\n"
        "assert lazy.chunks == ((2, 2), (2, 2)), lazy.chunks\n"
        "from xarray.namedarray.utils import is_dask_collection, is_duck_dask_array\n"
        "assert is_duck_dask_array(da.zeros(4)) and is_dask_collection(lazy)\n"
        "assert not is_dask_collection(np.zeros(3)) and not is_dask_collection(da.Array)\n"
        "from xarray.namedarray.pycompat import array_type, mod_version\n"
        "assert array_type('dask') == (da.Array,)\n"
        "assert str(mod_version('dask')) != '0.0.0'\n"
        "try:\n"
        "    import pint\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    assert array_type('pint') == (pint.Quantity,)\n"
    )
    assert _modules_after(code, ("dask.array",)) == "['dask.array']"


def test_sem_recipe_imports_scipy_optimize_only_when_it_fits():
    """scipy.optimize (≈ 0.25 s CPU to import) is imported by the branches that run a
    fit (footprint circle, density step, diameter mixture), not by the recipe modules:
    the FEI images, which have neither an edge nor sized particles, never pay for it."""
    code = (
        "import platescope.particles._sem_recipe, platescope.stats._distributions\n"
        "import platescope.particles._footprint, platescope.particles._sem_particles\n"
    )
    assert _modules_after(code, ("scipy.ndimage", "scipy.optimize")) == "['scipy.ndimage']"
