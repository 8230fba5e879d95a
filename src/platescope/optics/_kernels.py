"""Fused per-pixel kernels: numba-compiled when numba is importable, numpy otherwise.

One pass over each pixel's time series does what the per-pixel maps need: the
resampling + Savitzky–Golay derivative (a banded linear operator, one row per grid
sample), the running first maximum over the competing grid rows and the two
neighbours kept for the parabolic refinement. The movie block is read in its native
dtype (uint16 camera counts are converted to float32 in registers).

The two back-ends do the same float32 arithmetic in the same order (for each grid row:
``acc = 0; acc += w_b · x_b`` for ``b = 0 … bw−1``, no fused multiply-add, then a
strict ``>`` first-maximum over the rows in time order), so their results are
bit-identical — ``tests/optics/test_kernels.py`` checks it on integer and float movies.

Back-end choice: numba when it can be imported (``PLATESCOPE_KERNELS=numpy`` forces the
fallback, ``=numba`` requires numba); threads: ``PLATESCOPE_THREADS`` or the CPUs this
process may run on. The numba kernel releases the GIL and the pixel rows of a block are
split among a small thread pool, so concurrent callers (dask threads) are safe — no
numba threading layer is involved.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

_NUMBA_DTYPES = {
    np.dtype(d)
    for d in ("uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "float32", "float64")
}
_STATE: dict = {}


def backend() -> str:
    """``"numba"`` or ``"numpy"``: the back-end the per-pixel kernels use now."""
    want = os.environ.get("PLATESCOPE_KERNELS", "auto").strip().lower()
    if want == "numpy":
        return "numpy"
    if _numba_kernel() is not None:
        return "numba"
    if want == "numba":
        raise RuntimeError(
            "PLATESCOPE_KERNELS=numba but numba cannot be imported; pip install numba"
        )
    return "numpy"


def n_threads() -> int:
    """Threads for the compiled kernels (``PLATESCOPE_THREADS``, else the usable CPUs)."""
    env = os.environ.get("PLATESCOPE_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _numba_kernel():
    """The compiled kernel, or None when numba is not importable (cached)."""
    if "kernel" in _STATE:
        return _STATE["kernel"]
    try:
        import numba
    except ImportError:
        _STATE["kernel"] = None
        return None

    @_jit(numba, boundscheck=False)
    def peak_rows(
        blk, f0, w, start, k0, k1, r0, r1, iy0, iy1, g0, best, bestk, left, right, prev, prev2, bad
    ):  # noqa: E501
        # Per pixel row: convert its frames to float32 once; then, 16 grid rows at a
        # time, the derivative rows (vectorised over pixels), and the running first
        # maximum per pixel with its state in registers. Row k−1 is judged when row k
        # (its right neighbour) is known.
        nx = blk.shape[2]
        nf = blk.shape[0]
        bw = w.shape[1]
        rg = 16
        y = np.empty((rg, nx), np.float32)
        xs = np.empty((nf, nx), np.float32)
        for iy in range(iy0, iy1):
            base = g0 + iy * nx
            for f in range(nf):
                for p in range(nx):
                    xs[f, p] = np.float32(blk[f, iy, p])
            for ka in range(k0, k1, rg):
                kb = min(ka + rg, k1)
                for k in range(ka, kb):
                    s = start[k] - f0
                    acc = y[k - ka]
                    for p in range(nx):
                        acc[p] = np.float32(0.0)
                    b = 0
                    while b + 4 <= bw:  # four terms per pass, still added in order
                        wa, wb, wc, wd = w[k, b], w[k, b + 1], w[k, b + 2], w[k, b + 3]
                        xa, xb, xc, xd = xs[s + b], xs[s + b + 1], xs[s + b + 2], xs[s + b + 3]
                        for p in range(nx):
                            acc[p] = (((acc[p] + wa * xa[p]) + wb * xb[p]) + wc * xc[p]) + wd * xd[
                                p
                            ]
                        b += 4
                    while b < bw:
                        wa = w[k, b]
                        xa = xs[s + b]
                        for p in range(nx):
                            acc[p] = acc[p] + wa * xa[p]
                        b += 1
                for p in range(nx):
                    g = base + p
                    c1 = prev[g]
                    c2 = prev2[g]
                    bv = best[g]
                    isbad = bad[g]
                    for k in range(ka, kb):
                        cur = y[k - ka, p]
                        kk = k - 1
                        if kk >= r0 and kk <= r1:
                            if c1 != c1:
                                isbad = True
                            elif c1 > bv:
                                bv = c1
                                bestk[g] = kk
                                left[g] = c2
                                right[g] = cur
                        c2 = c1
                        c1 = cur
                    prev[g] = c1
                    prev2[g] = c2
                    best[g] = bv
                    bad[g] = isbad

    _STATE["kernel"] = peak_rows
    return peak_rows


def _jit(numba, **kw):
    """``numba.njit(nogil=True, cache=True)``; without the on-disk cache when no
    writable cache location exists (read-only install, no home directory)."""

    def deco(fn):
        try:
            return numba.njit(nogil=True, cache=True, **kw)(fn)
        except RuntimeError:  # "cannot cache function …: no locator available"
            return numba.njit(nogil=True, cache=False, **kw)(fn)

    return deco


@dataclass(frozen=True)
class BandedOperator:
    """Rows of a (n_rows × n_frames) operator as a fixed-width band.

    Row ``k`` is ``Σ_b weights[k, b] · x[start[k] + b]``; entries past the row's own
    non-zeros are exact zeros (width ``bw`` = the widest row).
    """

    weights: np.ndarray  # (n_rows, bw) float32
    start: np.ndarray  # (n_rows,) int64, non-decreasing

    @classmethod
    def from_csr(cls, matrix, col_lo: np.ndarray, col_hi: np.ndarray) -> BandedOperator:
        n_rows, n_cols = matrix.shape
        bw = int((col_hi - col_lo).max()) + 1
        start = np.maximum(np.minimum(col_lo, n_cols - bw), 0).astype(np.int64)
        weights = np.zeros((n_rows, bw), dtype=np.float64)
        m = matrix.tocoo()
        off = m.col - start[m.row]
        if off.size and (off.min() < 0 or off.max() >= bw or np.any(np.diff(start) < 0)):
            raise ValueError("the operator is not banded with non-decreasing columns")
        weights[m.row, off] += m.data
        return cls(weights.astype(np.float32), start)

    @property
    def width(self) -> int:
        return int(self.weights.shape[1])

    def frames(self, k0: int, k1: int) -> tuple[int, int]:
        """Frames ``[f0, f1)`` that rows ``k0 … k1−1`` read."""
        return int(self.start[k0]), int(self.start[k1 - 1]) + self.width


class PeakState:
    """Per-pixel running state of the first maximum of the operator rows."""

    def __init__(self, npx: int) -> None:
        self.best = np.full(npx, -np.inf, dtype=np.float32)
        self.bestk = np.full(npx, -10, dtype=np.int32)
        self.left = np.zeros(npx, dtype=np.float32)
        self.right = np.zeros(npx, dtype=np.float32)
        self.prev = np.zeros(npx, dtype=np.float32)
        self.prev2 = np.zeros(npx, dtype=np.float32)
        self.bad = np.zeros(npx, dtype=bool)

    def update(
        self,
        blk: np.ndarray,
        f0: int,
        op: BandedOperator,
        rows: tuple[int, int],
        compete: tuple[int, int],
        g0: int,
        *,
        use: str | None = None,
    ) -> None:
        """Offer grid rows ``rows[0] … rows[1]−1`` computed from ``blk`` (frames
        ``f0 …``, shape (frames, ny, nx), any real dtype) for the pixels ``g0 …
        g0 + ny·nx − 1`` (row-major). Rows in ``compete`` (inclusive) compete for
        the maximum; rows must be offered in increasing order across calls."""
        use = use or backend()
        k0, k1 = rows
        if k1 <= k0:
            return
        if use == "numba" and blk.dtype in _NUMBA_DTYPES and blk.dtype.isnative:
            _update_numba(self, blk, f0, op, k0, k1, compete, g0)
        else:
            _update_numpy(self, blk, f0, op, k0, k1, compete, g0)


def _update_numba(st, blk, f0, op, k0, k1, compete, g0) -> None:
    kern = _numba_kernel()
    blk = np.asarray(blk)
    ny = blk.shape[1]
    nthr = min(n_threads(), ny)
    args = (op.weights, op.start, k0, k1, compete[0], compete[1])
    state = (st.best, st.bestk, st.left, st.right, st.prev, st.prev2, st.bad)
    if nthr <= 1:
        kern(blk, f0, *args, 0, ny, g0, *state)
        return
    edges = np.linspace(0, ny, nthr + 1).round().astype(int)
    pool = _pool(nthr)
    futs = [
        pool.submit(kern, blk, f0, *args, int(a), int(b), g0, *state)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
        if b > a
    ]
    for f in futs:
        f.result()


def _pool(n: int) -> ThreadPoolExecutor:
    key = ("pool", n)
    pool = _STATE.get(key)
    if pool is None:
        pool = _STATE[key] = ThreadPoolExecutor(n, thread_name_prefix="platescope-kernel")
    return pool


def _update_numpy(st, blk, f0, op, k0, k1, compete, g0, rows_per_step: int = 32) -> None:
    nf = blk.shape[0]
    npx = blk.shape[1] * blk.shape[2]
    x = np.asarray(blk).reshape(nf, npx).astype(np.float32, copy=False)
    sl = slice(g0, g0 + npx)
    best, bestk, left, right, prev, bad = (
        st.best[sl],
        st.bestk[sl],
        st.left[sl],
        st.right[sl],
        st.prev[sl],
        st.bad[sl],
    )
    cols = np.arange(npx)
    for a in range(k0, k1, rows_per_step):
        b = min(a + rows_per_step, k1)
        ks = np.arange(a, b)
        y = np.zeros((b - a, npx), dtype=np.float32)
        for j in range(op.width):  # same order of float32 operations as the compiled kernel
            y += op.weights[ks, j][:, None] * x[op.start[ks] - f0 + j]
        # a pending right neighbour of the previous best: this call's first row
        pend = bestk == a - 1
        right[pend] = y[0, pend]
        c0, c1 = max(compete[0], a) - a, min(compete[1], b - 1) - a + 1
        if c1 > c0:
            z = y[c0:c1]
            bad |= np.isnan(z).any(axis=0)
            arg = np.argmax(z, axis=0)
            m = z[arg, cols]
            upd = m > best
            if upd.any():
                r = arg + c0  # row within y
                best[upd] = m[upd]
                bestk[upd] = r[upd] + a
                ym = np.concatenate([prev[None], y])  # ym[r] = row r − 1
                left[upd] = ym[r[upd], cols[upd]]
                inside = upd & (r + 1 < b - a)
                right[inside] = y[r[inside] + 1, cols[inside]]
        prev[:] = y[-1]


# --------------------------------------------------------------------------- onset


def _numba_onset():
    """Compiled onset kernel (see :func:`platescope.optics._alloying._onset_kernel`), or
    None without numba."""
    if "onset" in _STATE:
        return _STATE["onset"]
    try:
        import numba
    except ImportError:
        _STATE["onset"] = None
        return None

    @_jit(numba)
    def onset_rows(block, t, level, n, min_rise, min_snr, i0, i1, out):
        nt = block.shape[1]
        d = np.empty(nt - 1)
        for i in range(i0, i1):
            x = block[i]
            s0 = 0.0
            c0 = 0
            s1 = 0.0
            c1 = 0
            finite = True
            for j in range(nt):
                if not np.isfinite(x[j]):
                    finite = False
            for j in range(n):
                if x[j] == x[j]:
                    s0 += x[j]
                    c0 += 1
                if x[nt - n + j] == x[nt - n + j]:
                    s1 += x[nt - n + j]
                    c1 += 1
            a0 = s0 / c0 if c0 else np.nan
            a1 = s1 / c1 if c1 else np.nan
            rise = a1 - a0
            for j in range(nt - 1):
                d[j] = x[j + 1] - x[j]
            med = np.nanmedian(d)
            for j in range(nt - 1):
                d[j] = abs(d[j] - med)
            sd = 1.4826 * np.nanmedian(d) / np.sqrt(2.0)
            weak = rise < min_snr * sd * np.sqrt(2.0 / n)
            if (not finite) or (not np.isfinite(rise)) or rise <= min_rise or weak:
                out[i] = np.float32(np.nan)
                continue
            total = 0.0
            for j in range(nt - 1):
                v0 = (x[j] - a0) / rise
                v1 = (x[j + 1] - a0) / rise
                b0 = v0 < level
                b1 = v1 < level
                if b0 and b1:
                    f = 1.0
                elif b0 or b1:
                    f = (level - v0) / (v1 - v0)
                    if not b0:
                        f = 1.0 - f
                    f = min(max(f, 0.0), 1.0)
                else:
                    f = 0.0
                total += f * (t[j + 1] - t[j])
            out[i] = np.float32(t[0] + total)

    _STATE["onset"] = onset_rows
    return onset_rows


def onset_numba(block, *, t, level, n, min_rise, min_snr):
    """Per-pixel onset of ``block`` (pixels × time, float64) with the compiled kernel
    (threads over pixel ranges); None when numba is not available."""
    kern = _numba_onset()
    if kern is None or backend() != "numba":
        return None
    flat = np.ascontiguousarray(block.reshape(-1, block.shape[-1]), dtype=np.float64)
    out = np.empty(flat.shape[0], np.float32)
    tt = np.ascontiguousarray(t, dtype=np.float64)
    args = (tt, float(level), int(n), float(min_rise), float(min_snr))
    nthr = min(n_threads(), max(1, flat.shape[0] // 1024))
    edges = np.linspace(0, flat.shape[0], nthr + 1).round().astype(int)
    if nthr <= 1:
        kern(flat, *args, 0, flat.shape[0], out)
    else:
        futs = [
            _pool(nthr).submit(kern, flat, *args, int(a), int(b), out)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
        for f in futs:
            f.result()
    return out.reshape(block.shape[:-1])
