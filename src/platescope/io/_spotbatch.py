"""A batch of spot records as flat arrays: one read and one parse per batch.

:func:`platescope.io._spotset.read_spot_arrays` (``SpotSet.read_arrays``) reads every spot of a :class:`~platescope.io.SpotSet` (a
batch) into three flat float64 arrays (``time_s``, ``potential_V``, ``current_A``)
plus the offsets of each spot's samples — no DataFrame per spot. Each layout has an
array reader (:data:`platescope.io._spotset.SPOT_ARRAY_READERS`) that reads the batch's
bytes once and parses them with one C parser call:

- ``platescope``: the batch's per-spot CSV files (``time_s,potential_V,current_A``)
  are read, their data lines joined and parsed in one ``pandas.read_csv`` call;
- ``echemtips``: the byte range spanning the batch's hops is read and parsed once;
- ``wec-spm``: per used channel line, the byte range spanning the batch's holds.

A spot the fast path cannot vouch for — another file format or header, a
non-finite, out-of-range or spiky sample, time running backwards, rows not where the
index says — is read by the layout's per-spot reader (:meth:`SpotSet.read`), so every
record and every error message is the one the per-spot path gives (tested:
``tests/io/test_spot_arrays.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from platescope._errors import InputError

__all__ = ["SpotArrays", "isolated_spike_rows"]


@dataclass(frozen=True)
class SpotArrays:
    """Records of a batch of spots, concatenated (ragged) in index order.

    Attributes
    ----------
    time_s, potential_V, current_A : numpy.ndarray
        All records' samples one after the other: s from each spot's contact (first
        sample 0), V, A (cathodic negative).
    offsets : numpy.ndarray of int64, shape (n_spots + 1,)
        Spot ``k``'s samples are ``[offsets[k], offsets[k + 1])`` (empty when it could
        not be read).
    errors : dict
        Position → :class:`platescope.InputError` of the spots that could not be read
        (the message :meth:`SpotSet.read` gives).
    frames : dict
        Position → the DataFrame a per-spot reader returned without one of the three
        columns (left to the per-spot analysis, which names what is missing).
    """

    time_s: np.ndarray
    potential_V: np.ndarray
    current_A: np.ndarray
    offsets: np.ndarray
    errors: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def lengths(self) -> np.ndarray:
        """Samples per spot (0 for spots in :attr:`errors`)."""
        return np.diff(self.offsets)

    def record(self, pos: int) -> pd.DataFrame:
        """Spot ``pos``'s record as the Echem DataFrame (raises its InputError)."""
        if pos in self.errors:
            raise self.errors[pos]
        if pos in self.frames:
            return self.frames[pos]
        a, b = int(self.offsets[pos]), int(self.offsets[pos + 1])
        return pd.DataFrame(
            {
                "time_s": self.time_s[a:b],
                "potential_V": self.potential_V[a:b],
                "current_A": self.current_A[a:b],
            }
        )

    def groups(self) -> dict[int, np.ndarray]:
        """Positions of the readable spots by record length (ascending positions)."""
        n = self.lengths
        ok = np.ones(len(self), dtype=bool)
        ok[list(self.errors) + list(self.frames)] = False
        return {int(m): np.flatnonzero(ok & (n == m)) for m in np.unique(n[ok])}

    def stacked(self, positions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time_s, potential_V, current_A) of equally long records as (spots × samples)."""
        positions = np.asarray(positions, dtype=np.int64)
        m = int(self.lengths[positions[0]]) if positions.size else 0
        take = self.offsets[positions][:, None] + np.arange(m)[None, :]
        return self.time_s[take], self.potential_V[take], self.current_A[take]


def _from_items(items: list) -> SpotArrays:
    """SpotArrays from per-spot ``(t, e, i)`` tuples or InputErrors."""
    errors = {k: it for k, it in enumerate(items) if isinstance(it, InputError)}
    frames = {k: it for k, it in enumerate(items) if isinstance(it, pd.DataFrame)}
    lens = np.array([len(it[0]) if isinstance(it, tuple) else 0 for it in items], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    parts = [it for it in items if isinstance(it, tuple)]

    def cat(k):
        return (
            np.concatenate([np.asarray(p[k], dtype=np.float64) for p in parts])
            if parts
            else np.zeros(0)
        )

    return SpotArrays(cat(0), cat(1), cat(2), offsets, errors, frames)


def difference_noise_rows(e: np.ndarray) -> np.ndarray:
    """Per-row noise σ (V) of a (spots × samples) potential array: the MAD of its first
    differences / √2 (the σ of :func:`platescope.echem.isolated_outliers`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = 1e-3 * rng.standard_normal((1, 20000))
    >>> round(float(difference_noise_rows(e)[0]), 4)
    0.001
    """
    d = np.diff(np.atleast_2d(np.asarray(e, dtype=np.float64)), axis=1)
    med = np.median(d, axis=1, keepdims=True)
    return 1.4826 * np.median(np.abs(d - med), axis=1) / np.sqrt(2.0)


def isolated_spike_rows(e: np.ndarray, sigma_V: np.ndarray | None = None) -> np.ndarray:
    """Rows of a (spots × samples) potential array holding an isolated single-sample spike.

    The rule of :func:`platescope.echem.isolated_outliers` (σ from the MAD of first
    differences, :func:`difference_noise_rows`, unless given), row by row.

    Examples
    --------
    >>> e = np.zeros((2, 50)); e[1, 20] = -0.5
    >>> isolated_spike_rows(e + 1e-4 * np.sin(np.arange(50))).tolist()
    [False, True]
    """
    e = np.atleast_2d(np.asarray(e, dtype=np.float64))
    if e.shape[1] < 3:
        return np.zeros(e.shape[0], dtype=bool)
    sig = difference_noise_rows(e) if sigma_V is None else np.asarray(sigma_V, dtype=np.float64)
    thr = np.maximum(10.0 * sig, 2e-3)[:, None]
    d_prev = e[:, 1:-1] - e[:, :-2]
    d_next = e[:, 1:-1] - e[:, 2:]
    spike = (
        (np.sign(d_prev) == np.sign(d_next))
        & (np.abs(d_prev) > thr)
        & (np.abs(d_next) > thr)
        & (np.abs(e[:, 2:] - e[:, :-2]) < thr / 2)
    )
    return spike.any(axis=1)
