"""The compiled kernels are loaded from numba's on-disk cache in a new process.

A kernel that closed over another compiled function (a closure cell holding a
dispatcher) missed the cache in every process — its key includes the pickled closure
variables — and was compiled again: ≈ 7 CPU s for the onset kernel per process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("numba")

_PROBE = r"""
import json, numpy as np
from platescope.optics import _kernels as k
from platescope.volume import _thickness_kernel as tk
from platescope.volume._thickness import local_thickness_block
t = np.arange(140) * 0.5
a = np.random.default_rng(0).random((140, 4, 8)).astype(np.float32)
k.onset_numba_movie(a, t=t, level=0.5, n=3, min_rise=0.0, min_snr=0.0)  # exact path, > 128 terms
m = np.zeros((6, 7, 8), bool); m[1:5, 1:6, 2:7] = True
local_thickness_block(m, voxel_size_um=(1.0, 1.0, 1.0))
fns = [k._STATE["onset"], *tk._kernels()]
print(json.dumps([[sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values())] for f in fns]))
"""


def _stats() -> list[list[int]]:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_kernels_come_from_the_cache_in_a_second_process():
    _stats()  # compiles and writes the cache if it is not there yet
    second = _stats()
    # onset kernel; thickness: x/y pass, z pass
    assert [m for _, m in second] == [0, 0, 0], second
    assert all(h > 0 for h, _ in second), second
