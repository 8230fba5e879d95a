"""Fused per-pixel kernels: numba-compiled when numba is importable, numpy otherwise.

**t_nuc maps** (:class:`SplitOperator`, :class:`PeakState`). One pass over each
pixel's time series: linear resampling onto the uniform grid (two taps per grid
sample), the Savitzky–Golay derivative from its antisymmetric centred weights
(``d[k] = Σ_i c_i·(y[k+i] − y[k−i])``: half the multiplies of the fused banded
operator), the first maximum over the competing grid rows and the two neighbours kept
for the parabolic refinement. The compiled kernel works on bands of ≈ 2048 pixels
(whole pixel rows, so each frame is read in page-sized runs), blocks of 32 grid rows
and a ring of resampled rows, every inner loop over contiguous pixels (vectorised by
LLVM); the block's first maximum is a branch-free compare/select. The movie is read in
its native dtype (uint16 counts are converted to float32 in registers).

The two back-ends do the same float32 operations in the same order (``a·x₀ + b·x₁``;
``((c₁·Δ₁ + c₂·Δ₂) + c₃·Δ₃) + …``; no fused multiply-add; a strict ``>`` first maximum
over the rows in time order), so their maps are bit-identical —
``tests/optics/test_kernels.py`` checks it on integer and float movies, with NaN and
±inf pixels.

**Onset maps** (:func:`onset_numba_movie`): the frames as ``(t, pixels)`` (long runs
of a C-ordered movie), chunks of ≤ 1024 pixels, every inner loop over contiguous pixels:
end levels, per-pixel thresholds, then ONE pass over the frames (four per sweep, in
float32 for float32 and ≤ 16-bit integer movies, float64 otherwise) that keeps only the
count of small frame differences, a finiteness sum and the first / last sample not in
the first / last sample's class (surely below the level: ``x ≤ t_lo``; surely above:
``x ≥ t_hi``; the thresholds checked against ``level·rise·(1 ∓ 10⁻⁹)`` in float64, so no
division). The intervals from the first to the last crossing are divided exactly per
pixel; the others are ``dt`` or 0, so the time below — numpy's pairwise sum — is rebuilt
per pixel in numpy's order: a rising pixel with one crossing interval ``j`` (the usual
case) adds to its exact interval time the constants of a per-call chain for ``j`` (the
sibling sums on the path from term ``j`` to the root of numpy's summation tree; a few
additions per pixel), the others walk the tree from per-call lane sums of ``dt``.
The robust-noise test needs the MAD only against its threshold: a count proves it below
(more than half of the ``|d|`` ≤ R/2 ⇒ median(d) ∈ [−R/2, R/2] ⇒ MAD ≤ R), and only the
pixels it cannot settle take the two exact medians by selection. float64 with numpy's
operations and summation order: bit-identical to the numpy code. ≈ 0.35–0.55 ns per
float32 sample (0.5–0.75 of a reduction pass, CPU, loaded machine) against ≈ 0.8 before
the chains, 1.2 for the former count kernel and 12 for the per-pixel selection kernel
(``_method="select"``) — see ``docs/performance.md``.

**CE(IRM) window means** (:func:`window_sums`): float64 sums of each instant's frames,
read in place in their own dtype, accumulated in the output rows up to four frames per
sweep (the same order as one at a time); bit-identical numpy fallback.

Back-end choice: numba when it can be imported (``PLATESCOPE_KERNELS=numpy`` forces the
fallback, ``=numba`` requires numba); threads: ``PLATESCOPE_THREADS`` or the CPUs this
process may run on. The numba kernels release the GIL and pixel rows are split among a
small thread pool, so concurrent callers (dask threads) are safe — no numba threading
layer is involved.
"""

from __future__ import annotations

import functools
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


def _compiled(key: str):
    """Decorator for a builder ``build(numba) -> kernel``: the decorated function takes
    no argument and returns the kernel, built once and cached in ``_STATE[key]``, or
    None when numba cannot be imported (cached too)."""

    def deco(build):
        @functools.wraps(build)
        def get():
            if key not in _STATE:
                try:
                    import numba
                except ImportError:
                    _STATE[key] = None
                else:
                    _STATE[key] = build(numba)
            return _STATE[key]

        return get

    return deco


@_compiled("kernel")
def _numba_kernel(numba):
    """The compiled t_nuc kernel, or None when numba is not importable (cached)."""

    @_jit(numba, boundscheck=False)
    def tnuc_rows(
        blk, f0, idx, ca, cb, cc, edge, k0, k1, r0, r1, iy0, iy1, g0, chk,
        best, bestk, left, right, prev, bad,
    ):  # fmt: skip
        # Per band of pixel rows (≈ 2048 pixels, so each frame is read in page-sized
        # runs the prefetcher follows), blocks of ≤ rb grid rows: (1) resample the grid
        # samples the block needs (two taps, native dtype → float32), (2) the
        # derivative rows from the antisymmetric weights, (3) the block's first maximum
        # per pixel as a branch-free compare/select, (4) merge into the running state.
        # Every inner loop runs over contiguous pixels (vectorised); float32, no FMA,
        # the same operations in the same order as the numpy back-end.
        nx = blk.shape[2]
        n_u = idx.shape[0]
        h = cc.shape[0]
        w = 2 * h + 1
        rb = 32
        ch = 1024  # pixels per chunk of the derivative and maximum
        band = max(1, 2048 // nx)
        npx = band * nx
        ring = rb + 2 * h + 2  # grid samples kept: what one block of rows reads
        ybuf = np.empty((ring, npx), np.float32)  # y[j] in row j % ring
        dbuf = np.empty((rb + 1, npx), np.float32)  # row 0: the row before the block
        m = np.empty(npx, np.float32)
        am = np.empty(npx, np.int32)
        nz = np.zeros(npx, np.float32)
        ninf = np.float32(-np.inf)
        zero = np.float32(0.0)
        for iy in range(iy0, iy1, band):
            nb = min(band, iy1 - iy)
            n = nb * nx
            base = g0 + iy * nx
            # views of this band's state (indexing them with q keeps every access
            # contiguous: an index like ``base + q`` defeats the vectoriser)
            s_best = best[base : base + n]
            s_bestk = bestk[base : base + n]
            s_left = left[base : base + n]
            s_right = right[base : base + n]
            s_prev = prev[base : base + n]
            s_bad = bad[base : base + n]
            d0 = dbuf[0]
            for q in range(n):
                d0[q] = s_prev[q]
            if chk:
                for q in range(n):
                    nz[q] = zero
            jdone = 0
            for ka in range(k0, k1, rb):
                kb = min(ka + rb, k1)
                # (1) grid samples [jlo, jhi)
                jlo = max(0, ka - h - 1)
                jhi = min(n_u, kb + h + 1)
                for j in range(max(jlo, jdone), jhi):  # each sample once per band
                    fa = idx[j] - f0
                    a = ca[j]
                    b = cb[j]
                    yr = ybuf[j % ring]
                    for r in range(nb):
                        xa = blk[fa, iy + r]
                        xb = blk[fa + 1, iy + r]
                        yo = yr[r * nx : (r + 1) * nx]
                        for p in range(nx):
                            yo[p] = a * np.float32(xa[p]) + b * np.float32(xb[p])
                jdone = jhi
                # (2) derivative rows and (3) the first maximum within the block's
                # competing rows, pixel chunk by chunk (its y and d rows stay in L1)
                c_lo = max(ka, r0)
                c_hi = min(kb, r1 + 1)
                for q0 in range(0, n, ch):
                    q1 = min(n, q0 + ch)
                    cn = q1 - q0
                    for k in range(ka, kb):
                        dr = dbuf[k - ka + 1, q0:q1]
                        if k >= h and k < n_u - h:
                            i = 1
                            while i <= h:
                                if i + 3 <= h:
                                    c1, c2, c3, c4 = cc[i - 1], cc[i], cc[i + 1], cc[i + 2]
                                    p1 = ybuf[(k + i) % ring, q0:q1]
                                    m1 = ybuf[(k - i) % ring, q0:q1]
                                    p2 = ybuf[(k + i + 1) % ring, q0:q1]
                                    m2 = ybuf[(k - i - 1) % ring, q0:q1]
                                    p3 = ybuf[(k + i + 2) % ring, q0:q1]
                                    m3 = ybuf[(k - i - 2) % ring, q0:q1]
                                    p4 = ybuf[(k + i + 3) % ring, q0:q1]
                                    m4 = ybuf[(k - i - 3) % ring, q0:q1]
                                    if i == 1:
                                        for q in range(cn):
                                            dr[q] = (
                                                (c1 * (p1[q] - m1[q]) + c2 * (p2[q] - m2[q]))
                                                + c3 * (p3[q] - m3[q])
                                            ) + c4 * (p4[q] - m4[q])
                                    else:
                                        for q in range(cn):
                                            dr[q] = (
                                                (
                                                    (dr[q] + c1 * (p1[q] - m1[q]))
                                                    + c2 * (p2[q] - m2[q])
                                                )
                                                + c3 * (p3[q] - m3[q])
                                            ) + c4 * (p4[q] - m4[q])
                                    i += 4
                                else:
                                    c1 = cc[i - 1]
                                    p1 = ybuf[(k + i) % ring, q0:q1]
                                    m1 = ybuf[(k - i) % ring, q0:q1]
                                    if i == 1:
                                        for q in range(cn):
                                            dr[q] = c1 * (p1[q] - m1[q])
                                    else:
                                        for q in range(cn):
                                            dr[q] = dr[q] + c1 * (p1[q] - m1[q])
                                    i += 1
                        else:  # one-sided rows next to the centred ones
                            e = edge[0] if k < h else edge[1]
                            s = 0 if k < h else n_u - w
                            y0 = ybuf[s % ring, q0:q1]
                            e0 = e[0]
                            for q in range(cn):
                                dr[q] = e0 * y0[q]
                            for t in range(1, w):
                                yq = ybuf[(s + t) % ring, q0:q1]
                                et = e[t]
                                for q in range(cn):
                                    dr[q] = dr[q] + et * yq[q]
                    if c_hi > c_lo:
                        mc = m[q0:q1]
                        ac = am[q0:q1]
                        for q in range(cn):
                            mc[q] = ninf
                            ac[q] = -1
                        for k in range(c_lo, c_hi):
                            dr = dbuf[k - ka + 1, q0:q1]
                            kk = np.int32(k)
                            for q in range(cn):
                                v = dr[q]
                                u = v > mc[q]
                                mc[q] = v if u else mc[q]
                                ac[q] = kk if u else ac[q]
                            if chk:
                                nc = nz[q0:q1]
                                for q in range(cn):
                                    nc[q] = nc[q] + dr[q] * zero
                # a pending right neighbour: the previous best was the row before ka
                d1 = dbuf[1]
                for q in range(n):
                    if s_bestk[q] == ka - 1:
                        s_right[q] = d1[q]
                if c_hi > c_lo:
                    # (4) merge (strict >: the earlier maximum wins ties)
                    for q in range(n):
                        if m[q] > s_best[q]:
                            rr = am[q] - ka
                            s_best[q] = m[q]
                            s_bestk[q] = am[q]
                            s_left[q] = dbuf[rr, q]
                            if rr + 1 < kb - ka:
                                s_right[q] = dbuf[rr + 2, q]
                d0 = dbuf[0]
                dl = dbuf[kb - ka]
                for q in range(n):
                    d0[q] = dl[q]
            d0 = dbuf[0]
            for q in range(n):
                s_prev[q] = d0[q]
            if chk:
                for q in range(n):
                    if nz[q] != zero:
                        s_bad[q] = True

    return tnuc_rows


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


@dataclass(frozen=True)
class SplitOperator:
    """dI/dt on the uniform grid as linear resampling followed by the Savitzky–Golay
    derivative, in the form the per-pixel kernels evaluate (float32 coefficients).

    Grid sample ``j``: ``y[j] = a[j]·x[idx[j]] + b[j]·x[idx[j] + 1]`` (two taps,
    ``np.interp`` semantics). Derivative row ``k`` with a full centred window
    (``h ≤ k ≤ n_u − 1 − h``): ``d[k] = Σ_{i=1…h} c[i−1]·(y[k+i] − y[k−i])``, summed in
    that order — the centred first-derivative weights are antisymmetric, so half the
    multiplies. The two rows next to the centred ones (``k = h − 1`` and
    ``k = n_u − h``, only ever needed as the neighbours of the first/last competing
    row) use their one-sided weights ``edge[0]`` on ``y[0 … w−1]`` and ``edge[1]`` on
    ``y[n_u−w … n_u−1]``. Rows outside ``[h − 1, n_u − h]`` are not supported.
    """

    idx: np.ndarray  # (n_u,) int64, first frame of each grid sample's two taps
    a: np.ndarray  # (n_u,) float32
    b: np.ndarray  # (n_u,) float32
    c: np.ndarray  # (h,) float32
    edge: np.ndarray  # (2, w) float32
    lo: np.ndarray  # (n_u,) int64: first frame row k reads (with a one-sample margin)
    hi: np.ndarray  # (n_u,) int64: last frame row k reads (inclusive)

    @classmethod
    def build(cls, t_s, t_u, dt: float, window: int, polyorder: int, sg_weights):
        """From frame times ``t_s``, grid ``t_u`` (step ``dt``), the SG ``window``
        (odd) and ``polyorder``; ``sg_weights(window, polyorder, pos, dt, deriv)``
        gives the float64 weights of one SG row."""
        t = np.asarray(t_s, dtype=float)
        n_u = t_u.size
        idx = np.clip(np.searchsorted(t, t_u, side="right") - 1, 0, t.size - 2).astype(np.int64)
        frac = np.clip((t_u - t[idx]) / (t[idx + 1] - t[idx]), 0.0, 1.0)
        h = (window - 1) // 2
        full = sg_weights(window, polyorder, h, dt, 1)
        c = 0.5 * (full[h + 1 :] - full[:h][::-1])  # exactly antisymmetric
        edge = np.stack(
            [
                sg_weights(window, polyorder, h - 1, dt, 1),
                sg_weights(window, polyorder, h + 1, dt, 1),
            ]
        )
        k = np.arange(n_u)
        lo = idx[np.maximum(k - h - 1, 0)]
        hi = idx[np.minimum(k + h + 1, n_u - 1)] + 1
        return cls(
            idx,
            (1.0 - frac).astype(np.float32),
            frac.astype(np.float32),
            c.astype(np.float32),
            edge.astype(np.float32),
            lo.astype(np.int64),
            hi.astype(np.int64),
        )

    @property
    def half(self) -> int:
        return int(self.c.size)

    @property
    def n_grid(self) -> int:
        return int(self.idx.size)

    @property
    def span(self) -> int:
        """Most frames one row reads."""
        return int((self.hi - self.lo).max()) + 1

    def frames(self, k0: int, k1: int) -> tuple[int, int]:
        """Frames ``[f0, f1)`` that rows ``k0 … k1−1`` read."""
        return int(self.lo[k0]), int(self.hi[k1 - 1]) + 1

    def dense(self) -> np.ndarray:
        """The (n_grid × n_frames) float64 matrix of the float32 coefficients (rows
        outside ``[h − 1, n_u − h]`` zero) — for tests."""
        n_u, h, w = self.n_grid, self.half, 2 * self.half + 1
        n_t = int(self.idx.max()) + 2
        interp = np.zeros((n_u, n_t))
        interp[np.arange(n_u), self.idx] = self.a
        interp[np.arange(n_u), self.idx + 1] += self.b
        sg = np.zeros((n_u, n_u))
        for k in range(h, n_u - h):
            sg[k, k + 1 : k + h + 1] = self.c
            sg[k, k - h : k][::-1] -= self.c
        sg[h - 1, :w] = self.edge[0]
        sg[n_u - h, n_u - w :] = self.edge[1]
        return sg @ interp


class PeakState:
    """Per-pixel running state of the first maximum of the operator rows."""

    def __init__(self, npx: int) -> None:
        self.best = np.full(npx, -np.inf, dtype=np.float32)
        self.bestk = np.full(npx, -10, dtype=np.int32)
        self.left = np.zeros(npx, dtype=np.float32)
        self.right = np.zeros(npx, dtype=np.float32)
        self.prev = np.zeros(npx, dtype=np.float32)
        self.bad = np.zeros(npx, dtype=bool)

    def update(
        self,
        blk: np.ndarray,
        f0: int,
        op: SplitOperator,
        rows: tuple[int, int],
        compete: tuple[int, int],
        g0: int,
        *,
        use: str | None = None,
    ) -> None:
        """Offer grid rows ``rows[0] … rows[1]−1`` computed from ``blk`` (frames
        ``f0 …``, shape (frames, ny, nx), any real dtype) for the pixels ``g0 …
        g0 + ny·nx − 1`` (row-major). Rows in ``compete`` (inclusive) compete for
        the maximum; rows must be offered in increasing order across calls, and lie
        in ``[h − 1, n_u − h]`` (see :class:`SplitOperator`)."""
        use = use or backend()
        k0, k1 = rows
        if k1 <= k0:
            return
        h = op.half
        if k0 < h - 1 or k1 - 1 > op.n_grid - h:
            raise ValueError(f"rows {k0}…{k1 - 1} outside [{h - 1}, {op.n_grid - h}]")
        if use == "numba" and blk.dtype in _NUMBA_DTYPES and blk.dtype.isnative:
            _update_numba(self, blk, f0, op, k0, k1, compete, g0)
        else:
            with np.errstate(invalid="ignore", over="ignore"):  # non-finite pixels: bad
                _update_numpy(self, blk, f0, op, k0, k1, compete, g0)


def _update_numba(st, blk, f0, op, k0, k1, compete, g0) -> None:
    kern = _numba_kernel()
    blk = np.asarray(blk)
    ny = blk.shape[1]
    nthr = min(n_threads(), ny)
    chk = blk.dtype.kind == "f"  # integer counts cannot give a non-finite derivative
    args = (op.idx, op.a, op.b, op.c, op.edge, k0, k1, compete[0], compete[1])
    state = (st.best, st.bestk, st.left, st.right, st.prev, st.bad)
    if nthr <= 1:
        kern(blk, f0, *args, 0, ny, g0, chk, *state)
        return
    edges = np.linspace(0, ny, nthr + 1).round().astype(int)
    pool = _pool(nthr)
    futs = [
        pool.submit(kern, blk, f0, *args, int(a), int(b), g0, chk, *state)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
        if b > a
    ]
    for f in futs:
        f.result()


@_compiled("finish")
def _numba_finish(numba):
    """Compiled t_nuc post-processing (parabola vertex → time), or None without numba."""

    @_jit(numba, boundscheck=False)
    def finish(best, bestk, left, right, bad, keep, first, last, c_tol, t_u, dt, p0, p1, out):
        # the float64 arithmetic of _nucleation_time._vertex / _rounding_tol, per pixel
        n_u = t_u.shape[0]
        nan = np.nan
        for q in range(p0, p1):
            f = abs(np.float64(first[q]))
            g = abs(np.float64(last[q]))
            s = f if (f >= g or f != f) else g  # np.maximum: NaN propagates
            tol = c_tol * s
            lv = np.float64(left[q])
            mv = np.float64(best[q])
            rv = np.float64(right[q])
            den = (lv - 2.0 * mv) + rv
            ok = (mv >= lv) and (mv >= rv) and (den < -tol)
            delta = (0.5 * (lv - rv)) / den if ok else nan
            k = min(max(bestk[q], 0), n_u - 1)
            tn = t_u[k] + delta * dt
            if bad[q] or not np.isfinite(mv) or not keep[q]:
                tn = nan
            out[q] = np.float32(tn)

    return finish


def finish_tnuc(st, keep, first, last, c_tol: float, t_u, dt: float):
    """t_nuc (float32, per pixel) from the running peak state with the compiled kernel
    (threads over pixel ranges): the same float64 operations as the numpy code in
    :func:`platescope.optics._nucleation_time.t_nuc_map`; None without numba."""
    kern = _numba_finish()
    if kern is None:
        return None
    first = np.ascontiguousarray(first).ravel()
    last = np.ascontiguousarray(last).ravel()
    if first.dtype not in _NUMBA_DTYPES or last.dtype not in _NUMBA_DTYPES:
        return None
    npx = st.best.size
    out = np.empty(npx, np.float32)
    args = (st.best, st.bestk, st.left, st.right, st.bad, np.ascontiguousarray(keep))
    args += (first, last, float(c_tol), np.ascontiguousarray(t_u, dtype=np.float64), float(dt))
    nthr = min(n_threads(), max(1, npx // 16384))
    if nthr <= 1:
        kern(*args, 0, npx, out)
        return out
    edges = np.linspace(0, npx, nthr + 1).round().astype(int)
    futs = [
        _pool(nthr).submit(kern, *args, int(a), int(b), out)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    for f in futs:
        f.result()
    return out


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
    n_u, h = op.n_grid, op.half
    w = 2 * h + 1
    cols = np.arange(npx)
    for a in range(k0, k1, rows_per_step):
        b = min(a + rows_per_step, k1)
        jlo, jhi = max(0, a - h - 1), min(n_u, b + h + 1)
        js = np.arange(jlo, jhi)
        fa = op.idx[js] - f0
        # same float32 operations in the same order as the compiled kernel
        yb = op.a[js, None] * x[fa] + op.b[js, None] * x[fa + 1]
        y = np.empty((b - a, npx), dtype=np.float32)
        ks = np.arange(a, b)
        cen = (ks >= h) & (ks < n_u - h)
        o = ks[cen] - jlo
        if o.size:
            acc = op.c[0] * (yb[o + 1] - yb[o - 1])
            for i in range(2, h + 1):
                acc = acc + op.c[i - 1] * (yb[o + i] - yb[o - i])
            y[cen] = acc
        for r in np.flatnonzero(~cen):
            e = op.edge[0] if ks[r] < h else op.edge[1]
            s = (0 if ks[r] < h else n_u - w) - jlo
            acc = e[0] * yb[s]
            for q in range(1, w):
                acc = acc + e[q] * yb[s + q]
            y[r] = acc
        # a pending right neighbour of the previous best: this call's first row
        pend = bestk == a - 1
        right[pend] = y[0, pend]
        c0, c1 = max(compete[0], a) - a, min(compete[1], b - 1) - a + 1
        if c1 > c0:
            z = y[c0:c1]
            bad |= ~np.isfinite(z).all(axis=0)
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


@_compiled("onset")
def _numba_onset(numba):
    """Compiled onset kernel (the same arithmetic as the numpy code in
    :func:`platescope.optics._alloying._onset_kernel`), or None without numba; the
    former exact-median kernel goes to ``_STATE["onset_select"]`` (benchmarks)."""
    # The helpers are module globals, not closure cells: numba keys its on-disk cache on
    # the pickled closure variables, and a pickled dispatcher differs from process to
    # process, so a kernel closing over one was compiled anew (≈ 7 s) in every process.
    global \
        _onset_pairwise_sum, \
        _onset_leaf_sum, \
        _onset_select, \
        _onset_median, \
        _onset_crossing, \
        _onset_pixel_exact, \
        _onset_lane_sums, \
        _onset_term, \
        _onset_push, \
        _onset_leaf_chain, \
        _onset_crossing_chains, \
        _onset_sample_class

    @_jit(numba)
    def _onset_pairwise_sum(a, lo, n):
        # numpy's summation order for a float64 reduction over a contiguous axis
        # (pairwise above 128 terms, 8 accumulators below), so the sums are the same.
        # Above 128 terms the tree is walked in post-order with explicit stacks, not by
        # recursion: numba crashes loading a cached kernel that calls a recursive one.
        if n <= 128:
            return _onset_leaf_sum(a, lo, n)
        op_lo = np.empty(128, np.int64)
        op_n = np.empty(128, np.int64)  # -1: add the two values on top
        val = np.empty(64)
        op_lo[0] = lo
        op_n[0] = n
        sp = 1
        vp = 0
        while sp > 0:
            sp -= 1
            m = op_n[sp]
            if m < 0:
                vp -= 1
                val[vp - 1] = val[vp - 1] + val[vp]
            elif m <= 128:
                val[vp] = _onset_leaf_sum(a, op_lo[sp], m)
                vp += 1
            else:
                lm = op_lo[sp]
                n2 = m // 2
                n2 -= n2 % 8
                op_n[sp] = -1
                op_lo[sp + 1] = lm + n2
                op_n[sp + 1] = m - n2
                op_lo[sp + 2] = lm
                op_n[sp + 2] = n2
                sp += 3
        return val[0]

    @_jit(numba)
    def _onset_leaf_sum(a, lo, n):
        # a leaf of numpy's pairwise tree (n ≤ 128 terms)
        if n < 8:
            res = 0.0
            for i in range(lo, lo + n):
                res += a[i]
            return res
        r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
        r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
        i = 8
        while i < n - n % 8:
            j = lo + i
            r0 += a[j]
            r1 += a[j + 1]
            r2 += a[j + 2]
            r3 += a[j + 3]
            r4 += a[j + 4]
            r5 += a[j + 5]
            r6 += a[j + 6]
            r7 += a[j + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res

    @_jit(numba)
    def _onset_select(a, n, k):
        # k-th smallest of a[0:n], in place; afterwards every a[i] with i > k is
        # ≥ a[k]. Lomuto partitions around a median-of-three pivot with a branch-free
        # inner loop (compare/select, no mispredicted branch per element); a range
        # whose pivot is its minimum (ties) is split once more at "≤ pivot", so many
        # equal values cost linear time, not quadratic.
        lo = 0
        hi = n - 1
        while hi > lo:
            mid = (lo + hi) // 2
            if a[mid] < a[lo]:
                a[mid], a[lo] = a[lo], a[mid]
            if a[hi] < a[lo]:
                a[hi], a[lo] = a[lo], a[hi]
            if a[mid] < a[hi]:
                a[mid], a[hi] = a[hi], a[mid]
            pivot = a[hi]  # the median of the three
            i = lo
            for j in range(lo, hi):
                v = a[j]
                u = a[i]
                s = v < pivot
                a[j] = u if s else v
                a[i] = v if s else u
                i += s
            a[hi] = a[i]
            a[i] = pivot
            if k == i:
                return pivot
            if k < i:
                hi = i - 1
                continue
            tied = i == lo  # nothing below the pivot: group its ties
            lo = i + 1
            if tied and hi > lo:
                i = lo
                for j in range(lo, hi + 1):
                    v = a[j]
                    u = a[i]
                    s = v <= pivot
                    a[j] = u if s else v
                    a[i] = v if s else u
                    i += s
                if k < i:
                    return pivot
                lo = i
        return a[k]

    @_jit(numba)
    def _onset_median(a, n):
        # numpy's median of a[0:n] (finite values): the middle one, or the mean of the
        # two middle ones
        k = n // 2
        if n % 2:
            return _onset_select(a, n, k)
        lo = _onset_select(a, n, k - 1)
        hi = a[k]
        for i in range(k + 1, n):
            if a[i] < hi:
                hi = a[i]
        return (lo + hi) / 2.0

    @_jit(numba)
    def onset_rows_select(arr, t, level, n, min_rise, min_snr, iy0, iy1, out):
        # arr: (t, y, x), any real dtype and layout. Per pixel row: the frames of a
        # block of ≤ 16 pixels transposed into a float64 scratch (one series per
        # pixel, contiguous), then per pixel: end levels, the two medians of the
        # robust noise by selection in place, and the time below the level.
        nt, _, nx = arr.shape
        xb = 16
        xs = np.empty((xb, nt))
        d = np.empty(nt - 1)
        g = np.empty(nt - 1)
        dt = np.empty(nt - 1)
        for j in range(nt - 1):
            dt[j] = t[j + 1] - t[j]
        c_snr = np.sqrt(2.0 / n)
        for iy in range(iy0, iy1):
            for x0 in range(0, nx, xb):
                nb = min(xb, nx - x0)
                for f in range(nt):
                    row = arr[f, iy]
                    for q in range(nb):
                        xs[q, f] = np.float64(row[x0 + q])
                for q in range(nb):
                    x = xs[q]
                    finite = True
                    for j in range(nt):
                        if not np.isfinite(x[j]):
                            finite = False
                    if not finite:
                        out[iy, x0 + q] = np.float32(np.nan)
                        continue
                    a0 = _onset_pairwise_sum(x, 0, n) / n
                    a1 = _onset_pairwise_sum(x, nt - n, n) / n
                    rise = a1 - a0
                    if not np.isfinite(rise) or rise <= min_rise:
                        out[iy, x0 + q] = np.float32(np.nan)
                        continue
                    for j in range(nt - 1):
                        d[j] = x[j + 1] - x[j]
                    med = _onset_median(d, nt - 1)
                    for j in range(nt - 1):
                        d[j] = abs(d[j] - med)
                    sd = 1.4826 * _onset_median(d, nt - 1)
                    sd = sd / np.sqrt(2.0)
                    if rise < min_snr * sd * c_snr:
                        out[iy, x0 + q] = np.float32(np.nan)
                        continue
                    v1 = (x[0] - a0) / rise
                    for j in range(nt - 1):
                        v0 = v1
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
                        g[j] = f * dt[j]
                    out[iy, x0 + q] = np.float32(t[0] + _onset_pairwise_sum(g, 0, nt - 1))

    @_jit(numba)
    def _onset_crossing(v0, v1, level):
        # fraction of a frame interval the linear interpolant spends below the level
        b0 = v0 < level
        b1 = v1 < level
        if b0 and b1:
            return 1.0
        if b0 or b1:
            f = (level - v0) / (v1 - v0)
            if not b0:
                f = 1.0 - f
            return min(max(f, 0.0), 1.0)
        return 0.0

    @_jit(numba)
    def _onset_pixel_exact(x, t, dt, level, n, min_rise, min_snr, c_snr, d, g):
        # onset of one contiguous float64 series (all finite), the two medians by
        # selection: the per-pixel arithmetic of the numpy code, step by step
        nt = x.shape[0]
        a0 = _onset_pairwise_sum(x, 0, n) / n
        a1 = _onset_pairwise_sum(x, nt - n, n) / n
        rise = a1 - a0
        if not np.isfinite(rise) or rise <= min_rise:
            return np.nan
        for j in range(nt - 1):
            d[j] = x[j + 1] - x[j]
        med = _onset_median(d, nt - 1)
        for j in range(nt - 1):
            d[j] = abs(d[j] - med)
        sd = 1.4826 * _onset_median(d, nt - 1)
        sd = sd / np.sqrt(2.0)
        if rise < min_snr * sd * c_snr:
            return np.nan
        v1 = (x[0] - a0) / rise
        for j in range(nt - 1):
            v0 = v1
            v1 = (x[j + 1] - a0) / rise
            g[j] = _onset_crossing(v0, v1, level) * dt[j]
        return t[0] + _onset_pairwise_sum(g, 0, nt - 1)

    @_jit(numba)
    def _onset_lane_sums(dt, lo, n, ps):
        # ps[j] = the running sum of dt over the 8-accumulator lane of numpy's
        # pairwise tree that holds j, up to and including j (leaves of 8 … 128 terms)
        # (the leaves found with an explicit stack: no recursion, see pairwise_sum)
        st_lo = np.empty(128, np.int64)
        st_n = np.empty(128, np.int64)
        st_lo[0] = lo
        st_n[0] = n
        sp = 1
        while sp > 0:
            sp -= 1
            lm = st_lo[sp]
            m = st_n[sp]
            if m < 8:
                continue
            if m <= 128:
                n8 = m - m % 8
                for k in range(8):
                    ps[lm + k] = dt[lm + k]
                for j in range(lm + 8, lm + n8):
                    ps[j] = ps[j - 8] + dt[j]
                continue
            n2 = m // 2
            n2 -= n2 % 8
            st_lo[sp] = lm
            st_n[sp] = n2
            st_lo[sp + 1] = lm + n2
            st_n[sp + 1] = m - n2
            sp += 2

    @_jit(numba)
    def _onset_term(i, j, c0, c1, dt):
        # interval i's time below when only interval j crosses the level: dt[i]
        # before it if the first sample is below (c0), after it if the last is (c1)
        if i < j:
            return dt[i] if c0 else 0.0
        return dt[i] if c1 else 0.0

    @_jit(numba)
    def _onset_push(chain, n_c, v):
        # append a constant to a chain; ±0.0 changes no sum that is not −0.0 (the
        # chain's running value starts at e > 0 and only grows), so it is left out
        if v != 0.0:
            chain[n_c] = v
            n_c += 1
        return n_c

    @_jit(numba)
    def _onset_leaf_chain(lo, nn, j, c0, c1, dt, chain, n_c):
        # the additions numpy's pairwise leaf [lo, lo + nn) applies to its term j
        # (the others known): 8 lanes of every 8th term, ((r0+r1)+(r2+r3))+((r4+r5)+
        # (r6+r7)), then the tail one by one; < 8 terms: 0.0 + each term in order
        if nn < 8:
            res = 0.0
            for i in range(lo, j):
                res += _onset_term(i, j, c0, c1, dt)
            n_c = _onset_push(chain, n_c, res)
            for i in range(j + 1, lo + nn):
                n_c = _onset_push(chain, n_c, _onset_term(i, j, c0, c1, dt))
            return n_c
        n8 = nn - nn % 8
        r = np.zeros(8)
        for k in range(8):
            i = lo + k
            if i != j:
                r[k] = _onset_term(i, j, c0, c1, dt)
            i += 8
            while i < lo + n8:
                if i != j:
                    r[k] += _onset_term(i, j, c0, c1, dt)
                else:  # the lane of term j: its running sum so far, then the rest
                    if i - 8 >= lo:
                        n_c = _onset_push(chain, n_c, r[k])
                i += 8
        if j < lo + n8:
            k = (j - lo) % 8
            for i in range(j + 8, lo + n8, 8):
                n_c = _onset_push(chain, n_c, _onset_term(i, j, c0, c1, dt))
            n_c = _onset_push(chain, n_c, r[k ^ 1])
            p = k // 2
            q = (p ^ 1) * 2
            n_c = _onset_push(chain, n_c, r[q] + r[q + 1])
            if k < 4:
                n_c = _onset_push(chain, n_c, (r[4] + r[5]) + (r[6] + r[7]))
            else:
                n_c = _onset_push(chain, n_c, (r[0] + r[1]) + (r[2] + r[3]))
            for i in range(lo + n8, lo + nn):
                n_c = _onset_push(chain, n_c, _onset_term(i, j, c0, c1, dt))
            return n_c
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(lo + n8, j):
            res += _onset_term(i, j, c0, c1, dt)
        n_c = _onset_push(chain, n_c, res)
        for i in range(j + 1, lo + nn):
            n_c = _onset_push(chain, n_c, _onset_term(i, j, c0, c1, dt))
        return n_c

    @_jit(numba)
    def _onset_crossing_chains(dt, leaf_lo, leaf_n, leaf_dt, prog, chains, n_chain):
        # For a rising pixel whose only crossing is interval j (the intervals before
        # it wholly below the level, those after wholly above), numpy's pairwise sum
        # of the interval times is e = interval j's time below, then e + c for the
        # constants c = chains[j, :n_chain[j]] in turn: the sibling of each node on
        # the path from term j to the root, summed as numpy sums it (a + b == b + a
        # in IEEE arithmetic). n_chain[j] = −1: longer than the table. Returns the
        # longest chain; the shorter ones are padded with +0.0 up to it (e + 0.0 == e
        # for e > 0), so every pixel runs the same number of additions.
        m = dt.shape[0]
        width = chains.shape[1]
        sv = np.empty(prog.shape[0] + 1)
        ss = np.zeros(prog.shape[0] + 1, np.int64)
        buf = np.empty(width + 160)
        for j in range(m):
            n_c = 0
            sp = 0
            for op in prog:
                if op < 0:  # the two latest values → their sum
                    sp -= 1
                    if ss[sp - 1]:
                        n_c = _onset_push(buf, n_c, sv[sp])
                    elif ss[sp]:
                        n_c = _onset_push(buf, n_c, sv[sp - 1])
                        ss[sp - 1] = 1
                    else:
                        sv[sp - 1] = sv[sp - 1] + sv[sp]
                    continue
                lo = leaf_lo[op]
                nn = leaf_n[op]
                ss[sp] = 0
                if lo + nn <= j:  # a leaf before the crossing: all dt
                    sv[sp] = leaf_dt[op]
                elif lo > j:  # after it: all 0
                    sv[sp] = 0.0
                else:
                    n_c = _onset_leaf_chain(lo, nn, j, True, False, dt, buf, n_c)
                    ss[sp] = 1
                sp += 1
                if n_c > width:
                    break
            n_chain[j] = n_c if n_c <= width else -1
            for i in range(min(n_c, width)):
                chains[j, i] = buf[i]
            for i in range(n_c, width):
                chains[j, i] = 0.0
        return max(n_chain.max(), 0)

    @_jit(numba)
    def _onset_sample_class(v, tl, th, one, ninf):
        # the class of sample v as (below?, s, k): a sample x is in the same class
        # ⇔ s·x ≤ k (below: x ≤ tl; above: −x ≤ −th; between the two: never, k = −inf)
        b = v <= tl
        u = v >= th
        return (1 if b else 0), (-one if u else one), (tl if b else (-th if u else ninf))

    @_jit(numba, boundscheck=False)
    def onset_px(
        arr, t, level, n, min_rise, min_snr, ch, wt, margin, chk, leaf_lo, leaf_n, prog, p0, p1, out
    ):  # fmt: skip
        # arr: (t, pixels), any real dtype. Chunks of ≤ ch pixels, every inner loop
        # over contiguous pixels (vectorised); the pass over the frames in the work
        # type wt (float32 for float32 and ≤ 16-bit integer movies: exact samples;
        # else float64): (1) end levels; (2) per pixel the bound of the noise-test
        # count and the class of the first and last sample (below / between / above
        # the level) as a threshold on the sample value; (3) ONE pass over the frames:
        # the count of small frame differences, a finiteness sum (chk: float movies),
        # the first sample not in the first one's class and the last not in the last
        # one's — the intervals before / after them lie wholly on one side of the
        # level, so their time below is dt or 0; (4) per pixel: the intervals from the
        # first to the last crossing divided exactly and numpy's pairwise sum
        # (below_sum), or the exact per-pixel code (two medians by selection) where
        # the count cannot settle the noise test.
        nt = arr.shape[0]
        m = nt - 1
        ch = max(1, min(ch, p1 - p0))
        dt = np.empty(m)
        for j in range(m):
            dt[j] = t[j + 1] - t[j]
        ps = np.zeros(m)
        _onset_lane_sums(dt, 0, m, ps)
        leaf_dt = np.empty(leaf_lo.shape[0])  # each leaf's sum when all its terms are dt
        for i in range(leaf_lo.shape[0]):
            lo = leaf_lo[i]
            nn = leaf_n[i]
            n8 = 0
            res = 0.0
            if nn >= 8:
                n8 = nn - nn % 8
                jz = lo + n8 - 8
                res = ((ps[jz] + ps[jz + 1]) + (ps[jz + 2] + ps[jz + 3])) + (
                    (ps[jz + 4] + ps[jz + 5]) + (ps[jz + 6] + ps[jz + 7])
                )
            for j in range(lo + n8, lo + nn):
                res += dt[j]
            leaf_dt[i] = res
        c_snr = np.sqrt(2.0 / n)
        r_coef = (np.sqrt(2.0) / 1.4826) / (min_snr * c_snr) if min_snr > 0 else 0.0
        kneed = m // 2 + 1
        zero = wt(0.0)
        one = wt(1.0)
        ninf = wt(-np.inf)
        pinf = wt(np.inf)
        fidx = np.full(nt, zero)  # frame indices in the work type
        for f in range(nt):
            fidx[f] = f
        big = fidx[m] + one
        a0 = np.empty(ch)
        a1 = np.empty(ch)
        rise = np.empty(ch)
        fast = np.empty(ch, np.int64)
        c0 = np.empty(ch, np.int64)
        c1 = np.empty(ch, np.int64)
        hw = np.full(ch, zero)
        s0 = np.full(ch, zero)  # same class as the first sample ⇔ s0·x ≤ k0
        k0 = np.full(ch, zero)
        s1 = np.full(ch, zero)  # … as the last sample ⇔ s1·x ≤ k1
        k1 = np.full(ch, zero)
        cnt = np.zeros(ch, np.int32)
        fin = np.full(ch, zero)
        jf = np.full(ch, zero)
        jl = np.full(ch, zero)
        xs = np.empty(nt)
        d = np.empty(m)
        g = np.empty(m)
        ew = np.empty(m)
        lanes = np.empty(8)
        stack = np.empty(prog.shape[0] + 1)
        chains = np.empty((m, _CHAIN_WIDTH))
        n_chain = np.empty(m, np.int64)
        n_pad = _onset_crossing_chains(dt, leaf_lo, leaf_n, leaf_dt, prog, chains, n_chain)
        inf = np.inf
        for x0 in range(p0, p1, ch):
            nb = min(ch, p1 - x0)
            # (1) end levels: numpy's pairwise sums of the first / last n frames
            if n < 8:
                for q in range(nb):
                    a0[q] = 0.0
                    a1[q] = 0.0
                for f in range(n):
                    ra = arr[f, x0 : x0 + nb]
                    rb = arr[nt - n + f, x0 : x0 + nb]
                    for q in range(nb):
                        a0[q] += np.float64(ra[q])
                        a1[q] += np.float64(rb[q])
                for q in range(nb):
                    a0[q] = a0[q] / n
                    a1[q] = a1[q] / n
            else:
                for q in range(nb):
                    for f in range(n):
                        xs[f] = np.float64(arr[f, x0 + q])
                    a0[q] = _onset_pairwise_sum(xs, 0, n) / n
                    for f in range(n):
                        xs[f] = np.float64(arr[nt - n + f, x0 + q])
                    a1[q] = _onset_pairwise_sum(xs, 0, n) / n
            # (2) per pixel: the decision the numpy code takes at MAD = R; the count's
            # bound hw (|d| ≤ hw in the work type ⇒ |d| ≤ R/2 in float64); thresholds
            # tl, th with float64(tl) − a₀ ≤ level·rise·(1 − 10⁻⁹) (checked: then every
            # x ≤ tl is surely below the level, (x − a₀)/rise < level) and
            # float64(th) − a₀ ≥ level·rise·(1 + 10⁻⁹) (surely above)
            rf = arr[0, x0 : x0 + nb]
            rl = arr[m, x0 : x0 + nb]
            for q in range(nb):
                r = a1[q] - a0[q]
                rise[q] = r
                ok = r > min_rise and r > 1e-300 and r < 1e300 and r_coef > 0
                big_r = r * r_coef * (1.0 - 1e-9)
                if ok:
                    sd = 1.4826 * big_r
                    sd = sd / np.sqrt(2.0)
                    ok = not (r < min_snr * sd * c_snr) and big_r > 1e-300
                a = a0[q]
                lr = level * r
                lo = lr * (1.0 - 1e-9)
                hi = lr * (1.0 + 1e-9)
                bound = 0.5 * big_r * (1.0 - margin)
                # each value moved by a relative 2⁻²² towards its safe side before it
                # is rounded to the work type (float32: more than half an ulp, 2⁻²⁴),
                # so the nextafter fix-up below (a library call) is almost never
                # taken; a smaller hw / tl or larger th only sends more pixels or
                # samples to the exact computation, never changes a result
                h = wt(bound - bound * margin)
                if np.float64(h) > bound:
                    h = np.nextafter(h, ninf)
                sl = a + lo
                tl = wt(sl - abs(sl) * margin)
                if not (np.float64(tl) - a <= lo):
                    tl = np.nextafter(tl, ninf)
                sh = a + hi
                th = wt(sh + abs(sh) * margin)
                if not (np.float64(th) - a >= hi):
                    th = np.nextafter(th, pinf)
                ok = ok and np.float64(tl) - a <= lo and np.float64(th) - a >= hi
                fast[q] = 1 if ok else 0
                hw[q] = h if ok else -one
                c0[q], s0[q], k0[q] = _onset_sample_class(wt(rf[q]), tl, th, one, ninf)
                c1[q], s1[q], k1[q] = _onset_sample_class(wt(rl[q]), tl, th, one, ninf)
            # (3) one pass over the frames
            for q in range(nb):
                cnt[q] = 0
                fin[q] = zero
                jf[q] = big
                jl[q] = -one if s1[q] * wt(rf[q]) <= k1[q] else zero
            f = 1
            while f + 3 < nt:  # four frames per sweep: a quarter of the state traffic
                r0 = arr[f - 1, x0 : x0 + nb]
                r1 = arr[f, x0 : x0 + nb]
                r2 = arr[f + 1, x0 : x0 + nb]
                r3 = arr[f + 2, x0 : x0 + nb]
                r4 = arr[f + 3, x0 : x0 + nb]
                f1 = fidx[f]
                f2 = fidx[f + 1]
                f3 = fidx[f + 2]
                f4 = fidx[f + 3]
                for q in range(nb):
                    v0 = wt(r0[q])
                    v1 = wt(r1[q])
                    v2 = wt(r2[q])
                    v3 = wt(r3[q])
                    v4 = wt(r4[q])
                    d1 = v1 - v0
                    d2 = v2 - v1
                    d3 = v3 - v2
                    d4 = v4 - v3
                    hq = hw[q]
                    cnt[q] += (np.int32(abs(d1) <= hq) + np.int32(abs(d2) <= hq)) + (
                        np.int32(abs(d3) <= hq) + np.int32(abs(d4) <= hq)
                    )
                    if chk:
                        fin[q] += (d1 + d2) + (d3 + d4)
                    sq = s0[q]
                    kq = k0[q]
                    e = f4 if sq * v4 > kq else big
                    e = f3 if sq * v3 > kq else e
                    e = f2 if sq * v2 > kq else e
                    e = f1 if sq * v1 > kq else e
                    jf[q] = min(jf[q], e)
                    sq = s1[q]
                    kq = k1[q]
                    e = f1 if sq * v1 > kq else -one
                    e = f2 if sq * v2 > kq else e
                    e = f3 if sq * v3 > kq else e
                    e = f4 if sq * v4 > kq else e
                    jl[q] = max(jl[q], e)
                f += 4
            while f < nt:
                rp = arr[f - 1, x0 : x0 + nb]
                rc = arr[f, x0 : x0 + nb]
                fa = fidx[f]
                for q in range(nb):
                    w = wt(rp[q])
                    v = wt(rc[q])
                    da = v - w
                    cnt[q] += np.int32(abs(da) <= hw[q])
                    if chk:
                        fin[q] += da
                    jf[q] = min(jf[q], fa if s0[q] * v > k0[q] else big)
                    jl[q] = max(jl[q], fa if s1[q] * v > k1[q] else -one)
                f += 1
            # (4) decisions, per pixel
            for q in range(nb):
                finite = abs(np.float64(rf[q])) < inf and abs(np.float64(fin[q])) < inf
                if not finite:  # a non-finite sample, or the work-type sum overflowed
                    finite = True
                    for f in range(nt):
                        if not abs(np.float64(arr[f, x0 + q])) < inf:
                            finite = False
                r = rise[q]
                if not finite or not np.isfinite(r) or r <= min_rise:
                    out[x0 + q] = np.float32(np.nan)
                elif fast[q] and cnt[q] >= kneed:
                    jmin = max(np.int64(jf[q]) - 1, 0)
                    jmax = min(np.int64(jl[q]), m - 1)
                    a = a0[q]
                    ca = c0[q]
                    cb = c1[q]
                    if jmin == jmax and ca and not cb:  # one rising crossing: its chain
                        n_c = n_chain[jmin]
                        v0 = (np.float64(arr[jmin, x0 + q]) - a) / r
                        v1 = (np.float64(arr[jmin + 1, x0 + q]) - a) / r
                        e = _onset_crossing(v0, v1, level) * dt[jmin]
                        if e > 0.0 and n_c >= 0:
                            for i in range(n_pad):
                                e = e + chains[jmin, i]
                            out[x0 + q] = np.float32(t[0] + e)
                            continue
                    if jmax >= jmin:  # the intervals from the first to the last crossing
                        v1 = (np.float64(arr[jmin, x0 + q]) - a) / r
                        for j in range(jmin, jmax + 1):
                            v0 = v1
                            v1 = (np.float64(arr[j + 1, x0 + q]) - a) / r
                            ew[j - jmin] = _onset_crossing(v0, v1, level) * dt[j]
                    # numpy's pairwise sum of the interval times: leaves of the tree
                    # (8 lanes, then the tail), combined by prog (postfix); an
                    # interval before jmin is dt[j] (c0: below) or 0, after jmax
                    # likewise (c1), exact (ew) in between; a lane's run of whole dt
                    # terms before jmin is read from ps (the same additions)
                    sp = 0
                    for op in prog:
                        if op < 0:  # the two latest values → their sum
                            sp -= 1
                            stack[sp - 1] = stack[sp - 1] + stack[sp]
                            continue
                        lo = leaf_lo[op]
                        nn = leaf_n[op]
                        if lo + nn <= jmin:  # a leaf before the first crossing
                            stack[sp] = leaf_dt[op] if ca else 0.0
                            sp += 1
                            continue
                        if lo > jmax:  # … after the last
                            stack[sp] = leaf_dt[op] if cb else 0.0
                            sp += 1
                            continue
                        n8 = nn - nn % 8 if nn >= 8 else 0
                        nl = n8 // 8
                        for k in range(8 if nn >= 8 else 0):
                            j0 = lo + k
                            jz = j0 + 8 * (nl - 1)
                            if jz < jmin:
                                lv = ps[jz] if ca else 0.0
                            elif j0 > jmax:
                                lv = ps[jz] if cb else 0.0
                            else:
                                if j0 >= jmin:
                                    lv = ew[j0 - jmin]
                                    i = 1
                                else:
                                    i = (jmin - j0 + 7) // 8
                                    lv = ps[j0 + 8 * (i - 1)] if ca else 0.0
                                while i < nl:
                                    j = j0 + 8 * i
                                    if j <= jmax:
                                        lv += ew[j - jmin]
                                    elif cb:
                                        lv += dt[j]
                                    else:  # + 0.0 changes no sum of terms ≥ +0.0
                                        break
                                    i += 1
                            lanes[k] = lv
                        if nn >= 8:
                            res = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
                                (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
                            )
                        else:
                            res = 0.0
                        for j in range(lo + n8, lo + nn):
                            if j < jmin:
                                res += dt[j] if ca else 0.0
                            elif j <= jmax:
                                res += ew[j - jmin]
                            elif cb:
                                res += dt[j]
                            else:
                                break
                        stack[sp] = res
                        sp += 1
                    out[x0 + q] = np.float32(t[0] + stack[0])
                else:
                    for f in range(nt):
                        xs[f] = np.float64(arr[f, x0 + q])
                    v = _onset_pixel_exact(xs, t, dt, level, n, min_rise, min_snr, c_snr, d, g)
                    out[x0 + q] = np.float32(v)

    _STATE["onset_select"] = onset_rows_select
    return onset_px


def onset_numba(block, *, t, level, n, min_rise, min_snr):
    """Per-pixel onset of ``block`` (…, time) with the compiled kernel (threads over
    pixel ranges); None when numba is not available. The block (e.g. a dask block,
    time last) is copied once into ``(t, pixels)`` order in its own dtype."""
    kern = _numba_onset()
    if kern is None or backend() != "numba":
        return None
    block = np.asarray(block)
    if block.dtype not in _NUMBA_DTYPES or not block.dtype.isnative:
        return None
    if block.ndim == 3:  # (y, x, t) → (t, y, x)
        arr = np.ascontiguousarray(block.transpose(2, 0, 1))
    else:
        arr = np.ascontiguousarray(block.reshape(-1, block.shape[-1]).T)[:, None, :]
    out = onset_numba_movie(arr, t=t, level=level, n=n, min_rise=min_rise, min_snr=min_snr)
    return out.reshape(block.shape[:-1])


def onset_numba_movie(arr, *, t, level, n, min_rise, min_snr, _method: str = "count"):
    """Onset map ``(y, x)`` float32 of a ``(t, y, x)`` array (native dtype) with the
    compiled kernel, threads over pixel rows; None without numba.

    The map is bit-identical to the numpy code. Its noise test (``rise < min_snr ·
    1.4826·MAD/√2 · √(2/n)``, MAD the median absolute deviation of the frame
    differences ``d`` about their median) is decided without sorting where a count
    proves it: for any threshold ``R``, if more than half of the ``|d_i|`` are ≤ R/2
    then the median of ``d`` lies in [−R/2, R/2], so those ``d_i`` are within ``R`` of
    it and MAD ≤ R; the test is monotone in the MAD, so when it passes at ``MAD = R``
    (checked with the same float operations) it passes. Pixels the count cannot
    settle (noisy, near the threshold) take the two exact medians by selection. The
    level crossings are decided by comparing ``x`` with thresholds ``t_lo``/``t_hi``
    of the work type checked against ``a₀ + level·rise·(1 ∓ 10⁻⁹)`` (the division is
    monotone); only the intervals from the first to the last crossing are divided
    exactly, and numpy's pairwise sum of the interval times is rebuilt per pixel: for
    a rising pixel with a single crossing interval ``j`` as its exact time plus a
    per-call chain of constants for ``j`` (the other side of each addition numpy makes
    on the way from term ``j`` to the total), otherwise from per-call lane sums of
    ``dt``. ``_method="select"``: the former kernel (exact medians for every pixel),
    kept for benchmarks."""
    kern = _numba_onset()
    if kern is None or backend() != "numba":
        return None
    if _method == "select":
        kern = _STATE["onset_select"]
    arr = np.asarray(arr)
    if arr.dtype not in _NUMBA_DTYPES or not arr.dtype.isnative:
        return None
    if arr.ndim != 3:
        raise ValueError("arr must be (t, y, x)")
    nt, ny, nx = arr.shape
    args = (np.ascontiguousarray(t, dtype=np.float64), float(level), int(n))
    args += (float(min_rise), float(min_snr))
    if _method == "select":  # rows of (t, y, x), any layout
        out = np.empty((ny, nx), np.float32)
        _run_rows(kern, arr, args, ny, out)
        return out
    # (t, pixels): frames read as long runs of pixels (a view of a C-ordered movie)
    flat = np.ascontiguousarray(arr).reshape(nt, ny * nx)
    out = np.empty(ny * nx, np.float32)
    # the work type of the pass over the frames: float32 holds float32 and ≤ 16-bit
    # integer samples exactly (and frame indices below 2²⁴); its frame differences
    # are rounded, so the count's bound gets a 2⁻²² margin
    f32 = np.result_type(arr.dtype, np.float32) == np.float32 and nt < 2**24
    wt, margin = (np.float32, 2.0**-22) if f32 else (np.float64, 0.0)
    args += (_ONSET_CHUNK_PX, wt, margin, arr.dtype.kind == "f", *_pairwise_program(nt - 1))
    _run_rows(kern, flat, args, ny * nx, out, min_per_thread=4096)
    return out.reshape(ny, nx)


def _pairwise_program(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's pairwise summation tree of ``n`` contiguous float64 terms (halves cut
    at a multiple of 8 above 128 terms; leaves of < 8 terms summed one by one, of
    8 … 128 terms in 8 lanes) as its leaves' first index and length in order, and a
    postfix program: ``i ≥ 0`` pushes leaf ``i``'s sum, ``−1`` replaces the two latest
    values by their sum."""
    leaf_lo: list[int] = []
    leaf_n: list[int] = []
    prog: list[int] = []

    def walk(lo: int, k: int) -> None:
        if k <= 128:
            prog.append(len(leaf_lo))
            leaf_lo.append(lo)
            leaf_n.append(k)
            return
        k2 = k // 2
        k2 -= k2 % 8
        walk(lo, k2)
        walk(lo + k2, k - k2)
        prog.append(-1)

    walk(0, n)
    return tuple(np.asarray(v, dtype=np.int64) for v in (leaf_lo, leaf_n, prog))


_ONSET_CHUNK_PX = 1024  # pixels per chunk of the onset kernel (its state stays in L1/L2)
_CHAIN_WIDTH = 24  # constants per crossing chain (rising: ≤ 1 lane + 3 + 1 tail + the tree's depth)


def _run_rows(kern, arr, args, n_rows: int, out, *, min_per_thread: int = 1) -> None:
    """``kern(arr, *args, r0, r1, out)`` over ``[0, n_rows)`` split among the threads."""
    nthr = min(n_threads(), max(1, n_rows // min_per_thread))
    if nthr <= 1:
        kern(arr, *args, 0, n_rows, out)
        return
    edges = np.linspace(0, n_rows, nthr + 1).round().astype(int)
    futs = [
        _pool(nthr).submit(kern, arr, *args, int(a), int(b), out)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
        if b > a
    ]
    for f in futs:
        f.result()


# --------------------------------------------------------------------------- window means


@_compiled("wmeans")
def _numba_window_means(numba):
    """Compiled window-means kernel (CE(IRM) maps), or None without numba."""

    @_jit(numba, boundscheck=False)
    def wmeans_rows(arr, frames, wts, ptr, band_px, iy0, iy1, out):
        # out[k] = Σ_j wts[j] · arr[frames[j]] for j in ptr[k] … ptr[k+1]−1, in float64,
        # summed in that order (0 + w₀x₀ first); per band of ≈ band_px pixels (whole
        # rows: each frame is read in long contiguous runs) accumulated in place in
        # out[k] (the band's rows stay in L1/L2), up to four frames per sweep over
        # them — ((((s + w₀x₀) + w₁x₁) + w₂x₂) + w₃x₃): the order of one frame at a
        # time, a quarter of the accumulator traffic; vectorised over pixels.
        nx = arr.shape[2]
        band = max(1, band_px // nx)
        for iy in range(iy0, iy1, band):
            nb = min(band, iy1 - iy)
            for k in range(ptr.shape[0] - 1):
                j0 = ptr[k]
                j1 = ptr[k + 1]
                for r in range(nb):
                    o = out[k, iy + r]
                    if j1 == j0:
                        for p in range(nx):
                            o[p] = 0.0
                        continue
                    w0 = wts[j0]
                    x0 = arr[frames[j0], iy + r]
                    for p in range(nx):
                        o[p] = 0.0 + w0 * np.float64(x0[p])
                j = j0 + 1
                while j + 3 < j1:
                    w0, w1, w2, w3 = wts[j], wts[j + 1], wts[j + 2], wts[j + 3]
                    f0, f1, f2, f3 = frames[j], frames[j + 1], frames[j + 2], frames[j + 3]
                    for r in range(nb):
                        o = out[k, iy + r]
                        x0 = arr[f0, iy + r]
                        x1 = arr[f1, iy + r]
                        x2 = arr[f2, iy + r]
                        x3 = arr[f3, iy + r]
                        for p in range(nx):
                            o[p] = (
                                ((o[p] + w0 * np.float64(x0[p])) + w1 * np.float64(x1[p]))
                                + w2 * np.float64(x2[p])
                            ) + w3 * np.float64(x3[p])
                    j += 4
                while j < j1:
                    w0 = wts[j]
                    f0 = frames[j]
                    for r in range(nb):
                        o = out[k, iy + r]
                        x0 = arr[f0, iy + r]
                        for p in range(nx):
                            o[p] = o[p] + w0 * np.float64(x0[p])
                    j += 1

    return wmeans_rows


_WM_BAND_PX = 16384  # pixels per band of the window-means kernel (cache-size knob)


def window_sums(arr, frames, wts, ptr, *, max_block_mb: float = 64.0, use: str | None = None):
    """``out[k] = Σ_j wts[j] · arr[frames[j]]`` over ``j = ptr[k] … ptr[k+1]−1``
    (float64, summed in that order) for a ``(t, y, x)`` array in its own dtype.

    Compiled (threads over pixel rows, no copy of the frames) or numpy (bands of
    rows of ≤ ``max_block_mb``, one frame at a time): bit-identical results."""
    use = use or backend()
    arr = np.asarray(arr) if not isinstance(arr, np.ndarray) else arr
    nt, ny, nx = arr.shape
    nk = len(ptr) - 1
    out = np.empty((nk, ny, nx))
    frames = np.ascontiguousarray(frames, dtype=np.int64)
    wts = np.ascontiguousarray(wts, dtype=np.float64)
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    kern = _numba_window_means() if use == "numba" else None
    if kern is not None and arr.dtype in _NUMBA_DTYPES and arr.dtype.isnative:
        nthr = min(n_threads(), ny, max(1, ny * nx // 4096))
        if nthr <= 1:
            kern(arr, frames, wts, ptr, _WM_BAND_PX, 0, ny, out)
            return out
        edges = np.linspace(0, ny, nthr + 1).round().astype(int)
        futs = [
            _pool(nthr).submit(kern, arr, frames, wts, ptr, _WM_BAND_PX, int(a), int(b), out)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
            if b > a
        ]
        for f in futs:
            f.result()
        return out
    band = int(max(1, min(ny, max_block_mb * 2**20 // (8 * nx * 2))))
    for r0 in range(0, ny, band):
        r1 = min(ny, r0 + band)
        for k in range(nk):
            acc = np.zeros((r1 - r0, nx))
            for j in range(ptr[k], ptr[k + 1]):  # same order as the compiled kernel
                acc += wts[j] * np.asarray(arr[frames[j], r0:r1], dtype=np.float64)
            out[k, r0:r1] = acc
    return out
