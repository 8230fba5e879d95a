"""Slab iteration over a (possibly dask-backed, bigger-than-memory) volume.

Every streaming analysis of :mod:`platescope.volume` walks the volume in slabs of whole
z-slices, each read with a halo of extra slices on both sides so that filters and
distance transforms see their neighbourhood; only one slab (plus halo) is in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

_SLAB_TARGET_BYTES = 16 * 2**20


def raw_data(volume):
    """The array behind a DataArray (or the array itself), without computing it.

    >>> import numpy as np
    >>> raw_data(np.zeros(3)).shape
    (3,)
    """
    if hasattr(volume, "dims") and hasattr(volume, "data"):  # xarray
        return volume.data
    if hasattr(volume, "compute") or isinstance(volume, np.ndarray):
        return volume
    return np.asarray(volume)


def default_slab_z(shape: tuple[int, ...], itemsize: int = 4) -> int:
    """Slices per slab so that a float slab is about 16 MiB (at least 4 slices).

    >>> default_slab_z((1000, 512, 512))
    16
    """
    per_slice = int(shape[1]) * int(shape[2]) * itemsize
    return int(max(4, min(shape[0], _SLAB_TARGET_BYTES // max(per_slice, 1))))


def iter_slabs(
    volume, *, slab_z: int | None = None, halo: int = 0, extra_after: int = 0
) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Yield ``(z0, z1, lo, block)``: slab ``[z0, z1)`` read with ``halo`` slices each side.

    ``block[lo : lo + (z1 - z0)]`` is the slab itself; ``extra_after`` more slices after
    ``z1`` (within the volume) are included beyond the halo, for analyses that look one
    slice ahead (e.g. marching cubes between slices).

    >>> import numpy as np
    >>> [(z0, z1, lo, b.shape[0]) for z0, z1, lo, b in iter_slabs(np.zeros((5, 2, 2)), slab_z=2, halo=1)]
    [(0, 2, 0, 3), (2, 4, 1, 4), (4, 5, 1, 2)]
    """
    data = raw_data(volume)
    n = int(data.shape[0])
    step = int(slab_z or default_slab_z(tuple(data.shape)))
    for z0 in range(0, n, step):
        z1 = min(n, z0 + step)
        a = max(0, z0 - halo)
        b = min(n, z1 + halo + extra_after)
        block = data[a:b]
        if hasattr(block, "compute"):
            block = block.compute()
        yield z0, z1, z0 - a, np.asarray(block)
