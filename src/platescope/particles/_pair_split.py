"""Two-disk split of isolated SEM objects: every candidate fitted in one batched solve.

The rules are those of :func:`platescope.particles._sem_particles._split_pairs`
(docs/particles.md): an isolated, elongated object is fitted by one and by two
overlapping soft-edged disks of one height and cut in two when the two-disk fit is
much better. Formerly each candidate was one ``scipy.optimize.least_squares`` call
(two per object, ≈ 300 objects per image, each a few hundred residuals: Python
overhead dominated). Here all candidates are fitted together: their pixels are
concatenated, the residuals and the analytic Jacobian are evaluated for every pixel in
one vectorised pass, the per-object normal equations (p × p, p = 6 or 9) are summed
with ``np.add.reduceat`` and solved in one batched ``np.linalg.solve``, and each object
has its own Levenberg–Marquardt damping, accepts or rejects its own step and stops by
itself (objects that have converged leave the active set).

The candidate selection (pixel moments, elongation), the starting values, the
decision and the pixel assignment of the cut objects are vectorised as well: no
Python loop per object remains.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy import special
from skimage import segmentation

__all__ = ["fit_disks_batch", "split_pairs"]

# the rules (measured on sem-particles: validation/sem_particles.py, docs/particles.md)
PAIR_MIN_ELONGATION = 1.05  # √(λ1/λ2) of the pixel covariance: rounder objects are kept
PAIR_GAIN = 0.7
PAIR_MIN_CHI2 = 100.0
PAIR_MIN_RADIUS_PX = 1.0
PAIR_DISTANCE = (0.3, 1.05)
PAIR_PAD_PX = 3
#: the narrowest edge width of the disk model, px (no derivative below it)
MIN_EDGE_PX = 0.2
#: smallest object (pixels) that is fitted at all
MIN_FIT_AREA_PX = 12
#: the batch's last active object continues in :func:`_continue_alone` (same bits;
#: False runs it through the batch machinery, as the tests compare)
LAST_OBJECT_ALONE = True


def _model_and_jac(qp: np.ndarray, yy: np.ndarray, xx: np.ndarray, n: int, jac: bool):
    """Model grey levels (and Jacobian) of per-pixel parameter rows ``qp`` (N × p).

    The model is that of ``_sem_particles._disk_model``: ``b0 + amp·max_i σ((r_i −
    d_i)/s)`` with ``s = max(s, MIN_EDGE_PX)``; each pixel follows its brightest disk.
    """
    amp, s_raw, b0 = qp[:, 0], qp[:, 1], qp[:, 2]
    s = np.maximum(s_raw, MIN_EDGE_PX)
    d = np.empty((n, yy.size))
    g = np.empty((n, yy.size))
    for i in range(n):  # one or two disks
        d[i] = np.hypot(yy - qp[:, 3 + 3 * i], xx - qp[:, 4 + 3 * i])
        g[i] = special.expit((qp[:, 5 + 3 * i] - d[i]) / s)
    k = np.argmax(g, axis=0) if n > 1 else np.zeros(yy.size, np.intp)
    cols = np.arange(yy.size)
    gk, dk = g[k, cols], d[k, cols]
    model = b0 + amp * gk
    if not jac:
        return model, None
    base = 3 + 3 * k
    cyk, cxk, rk = qp[cols, base], qp[cols, base + 1], qp[cols, base + 2]
    slope = amp * gk * (1.0 - gk) / s
    out = np.zeros((yy.size, 3 + 3 * n))
    out[:, 0] = gk
    out[:, 1] = np.where(s_raw > MIN_EDGE_PX, -slope * (rk - dk) / s, 0.0)
    out[:, 2] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        uy = np.where(dk > 0, (yy - cyk) / dk, 0.0)
        ux = np.where(dk > 0, (xx - cxk) / dk, 0.0)
    for i in range(n):
        mine = k == i
        out[:, 3 + 3 * i] = np.where(mine, slope * uy, 0.0)
        out[:, 4 + 3 * i] = np.where(mine, slope * ux, 0.0)
        out[:, 5 + 3 * i] = np.where(mine, slope, 0.0)
    return model, out


_EPS = np.finfo(float).eps


def _tr_steps(uf, sv, vv, delta, alpha, nrows, rtol=0.01, max_iter=10):
    """Trust-region steps of many objects at once (Moré's method, as MINPACK/SciPy).

    ``uf`` = Uᵀf, ``sv`` the singular values and ``vv`` the right singular vectors
    (columns) of each object's Jacobian; returns the steps and the new
    Levenberg–Marquardt parameters. Each object follows the same arithmetic as
    ``scipy.optimize._lsq.common.solve_lsq_trust_region``.
    """
    k, n = sv.shape
    suf = sv * uf
    full = sv[:, -1] > _EPS * nrows * sv[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_gn = -np.einsum("kij,kj->ki", vv, np.where(full[:, None], uf / sv, 0.0))
    gn = full & (np.linalg.norm(p_gn, axis=1) <= delta)
    out = np.where(gn[:, None], p_gn, 0.0)
    alpha_out = np.where(gn, 0.0, alpha)
    todo = ~gn
    if not todo.any():
        return out, alpha_out
    t = np.flatnonzero(todo)
    s2, sf, dl = sv[t] ** 2, suf[t], delta[t]

    def phi_and_derivative(a):
        denom = s2 + a[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            p_norm = np.linalg.norm(sf / denom, axis=1)
            return p_norm - dl, -np.sum(sf**2 / denom**3, axis=1) / p_norm

    a_up = np.linalg.norm(sf, axis=1) / dl
    fr = full[t]
    ph0, php0 = phi_and_derivative(np.zeros(t.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_lo = np.where(fr, -ph0 / php0, 0.0)
    a = alpha[t].copy()
    reset = ~fr & (a == 0)
    a[reset] = np.maximum(0.001 * a_up[reset], np.sqrt(a_lo[reset] * a_up[reset]))
    run = np.ones(t.size, bool)
    for _ in range(max_iter):
        if not run.any():
            break
        bad = run & ((a < a_lo) | (a > a_up))
        a[bad] = np.maximum(0.001 * a_up[bad], np.sqrt(a_lo[bad] * a_up[bad]))
        ph, php = phi_and_derivative(a)
        a_up = np.where(run & (ph < 0), a, a_up)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = ph / php
        a_lo = np.where(run, np.maximum(a_lo, a - ratio), a_lo)
        a = np.where(run, a - (ph + dl) * ratio / dl, a)
        run &= ~(np.abs(ph) < rtol * dl)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = -np.einsum("kij,kj->ki", vv[t], sf / (s2 + a[:, None]))
        p *= (dl / np.linalg.norm(p, axis=1))[:, None]
    out[t] = p
    alpha_out[t] = a
    return out, alpha_out


def _tr_step_alone(uf, sv, vv, delta, alpha, nrows, rtol=0.01, max_iter=10):
    """:func:`_tr_steps` of one object (arrays of one row; ``delta``, ``alpha``,
    ``nrows`` scalars) with its scalar bookkeeping in NumPy scalars: the same
    operations on the same values in the same order, so the same bits, without the
    per-call cost of masks over a batch of one.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        delta, alpha = np.float64(delta), np.float64(alpha)
        suf = sv * uf
        full = bool(sv[0, -1] > _EPS * nrows * sv[0, 0])
        p_gn = -np.einsum("kij,kj->ki", vv, np.where(full, uf / sv, 0.0))
        if full and np.linalg.norm(p_gn, axis=1)[0] <= delta:
            return p_gn, np.float64(0.0)
        s2 = sv**2

        def phi_and_derivative(a):
            denom = s2 + a
            p_norm = np.linalg.norm(suf / denom, axis=1)[0]
            return p_norm - delta, -np.sum(suf**2 / denom**3, axis=1)[0] / p_norm

        a_up = np.linalg.norm(suf, axis=1)[0] / delta
        ph0, php0 = phi_and_derivative(np.float64(0.0))
        a_lo = -ph0 / php0 if full else np.float64(0.0)
        a = alpha
        if not full and a == 0:
            a = np.maximum(0.001 * a_up, np.sqrt(a_lo * a_up))
        for _ in range(max_iter):
            if (a < a_lo) or (a > a_up):
                a = np.maximum(0.001 * a_up, np.sqrt(a_lo * a_up))
            ph, php = phi_and_derivative(a)
            if ph < 0:
                a_up = a
            ratio = ph / php
            a_lo = np.maximum(a_lo, a - ratio)
            a = a - (ph + delta) * ratio / delta
            if np.abs(ph) < rtol * delta:
                break
        p = -np.einsum("kij,kj->ki", vv, suf / (s2 + a))
        p *= (np.array([delta]) / np.linalg.norm(p, axis=1))[:, None]
    return p, a


def _continue_alone(o, start, st, *, n_disks, ftol, xtol, gtol, max_nfev):
    """The iteration of :func:`fit_disks_batch` for its last active object ``o``.

    Most iterations of a batch are spent on its slowest object once all others have
    stopped; run through the batch machinery each costs ≈ 1.5 ms of NumPy calls on
    arrays of one row. This is the same trust-region iteration for that object alone —
    its pixels are one contiguous run ``start : start + count[o]`` — with the same
    array operations on the same values (the same bits) and the bookkeeping in
    scalars. Updates ``st`` (the batch's ``x``, ``cost``, ``g``, ``delta``, ``alpha``,
    ``nfev``, ``f_all``, ``j_all``, ``yy``, ``xx``, ``z``, ``count``) in place.
    """
    x, cost, g, delta, alpha, nfev = (st[k] for k in ("x", "cost", "g", "delta", "alpha", "nfev"))
    f_all, j_all = st["f_all"], st["j_all"]
    c = int(st["count"][o])
    px = slice(start, start + c)
    yy, xx, z = st["yy"][px].copy(), st["xx"][px].copy(), st["z"][px].copy()
    zero = np.zeros(c, np.intp)
    n = x.shape[1]
    row = [o]
    while not (np.max(np.abs(g[o])) < gtol or nfev[o] >= max_nfev):
        jo = j_all[px][None].copy()
        lam, vv = np.linalg.eigh(np.matmul(np.swapaxes(jo, 1, 2), jo))
        lam, vv = lam[:, ::-1], vv[:, :, ::-1]
        lam = np.where(lam > 16 * n * _EPS * lam[:, :1], lam, 0.0)
        sv = np.sqrt(lam)
        suf = np.einsum("kji,kj->ki", vv, g[row])
        with np.errstate(divide="ignore", invalid="ignore"):
            uf = np.where(sv > 0, suf / np.where(sv > 0, sv, 1.0), 0.0)
        vv_c = vv.copy()  # the batch passes a copy (contiguous: einsum sums alike)
        reduction, stopped = -1.0, False
        x_new, f_new_cost = None, None
        while reduction <= 0 and nfev[o] < max_nfev and not stopped:
            step, alpha[o] = _tr_step_alone(uf, sv, vv_c, delta[o], alpha[o], st["count"][o])
            js = np.einsum("ij,ij->i", jo[0], step[zero])
            quad = np.bincount(zero, weights=js * js, minlength=1)
            pred = -(0.5 * quad + np.einsum("ij,ij->i", g[row], step))[0]
            trial = x[row] + step
            fn = _model_and_jac(trial[zero], yy, xx, n_disks, False)[0] - z
            nfev[o] += 1
            bad_px = ~np.isfinite(fn)
            c_new = (0.5 * np.bincount(zero, weights=np.where(bad_px, 0.0, fn) ** 2, minlength=1))[
                0
            ]
            step_norm = np.linalg.norm(step, axis=1)[0]
            if bad_px.any():  # non-finite residuals: a quarter of the step, try again
                delta[o] = 0.25 * step_norm
                continue
            reduction = red = cost[o] - c_new
            ratio = red / pred if pred > 0 else 0.0
            ratio = 1.0 if (pred == 0 and red == 0) else ratio
            d_new = 0.25 * step_norm if ratio < 0.25 else delta[o]
            if ratio > 0.75 and step_norm > 0.95 * delta[o] and not ratio < 0.25:
                d_new = 2.0 * delta[o]
            x_norm = np.linalg.norm(x[row], axis=1)[0]
            stopped = bool(
                ((red < ftol * cost[o]) and (ratio > 0.25)) or step_norm < xtol * (xtol + x_norm)
            )
            if not stopped:
                alpha[o] *= delta[o] / d_new
                delta[o] = d_new
            x_new, f_new_cost = trial[0], c_new
        if reduction > 0:
            x[o], cost[o] = x_new, f_new_cost
            mdl, jm = _model_and_jac(x[row][zero], yy, xx, n_disks, True)
            f = mdl - z
            f_all[px], j_all[px] = f, jm
            for k in range(n):
                g[o, k] = np.bincount(zero, weights=jm[:, k] * f, minlength=1)[0]
        if stopped:
            return


def fit_disks_batch(
    q0: np.ndarray,
    yy: np.ndarray,
    xx: np.ndarray,
    z: np.ndarray,
    seg: np.ndarray,
    *,
    n_disks: int,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fits of ``n_disks`` soft-edged disks to many objects at once.

    The trust-region reflective iteration of ``scipy.optimize.least_squares`` (no bounds,
    exact trust-region solver, unit variable scale, its default tolerances and its
    evaluation limit of 100 × the number of parameters), run for every object at once:
    the residuals and Jacobians of all objects are one vectorised evaluation, the SVDs
    one batched call per group of objects of similar pixel counts, the trust-region
    subproblems one vectorised root search; each object keeps its own radius,
    Levenberg–Marquardt parameter, evaluation count and stopping test. The per-object
    ``least_squares`` calls it replaces reach the same parameters to rounding.

    Parameters
    ----------
    q0 : ndarray, shape (m, 3 + 3 n_disks)
        Starting parameters per object: height, edge width px, offset, then (cy, cx,
        r) in px per disk.
    yy, xx, z : ndarray, shape (N,)
        Pixel coordinates (px) and grey levels of all objects, concatenated.
    seg : ndarray of int, shape (N,)
        Object index (0 … m − 1) of each pixel, non-decreasing; every object has
        more pixels than parameters.
    n_disks : {1, 2}
        Disks in the model.
    ftol, xtol, gtol : float
        Stopping tolerances (those of ``least_squares``).

    Returns
    -------
    q : ndarray, shape (m, p)
        Fitted parameters.
    loss : ndarray, shape (m,)
        Sum of squared residuals per object at ``q`` (twice SciPy's ``cost``).

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = (a.ravel().astype(float) for a in np.mgrid[0:21, 0:21])
    >>> z = 10.0 + 100.0 / (1 + np.exp(-(5.0 - np.hypot(yy - 10, xx - 10)) / 0.8))
    >>> q, loss = fit_disks_batch(np.array([[80.0, 1.0, 0.0, 9.0, 11.0, 4.0]]), yy, xx, z,
    ...                           np.zeros(z.size, int), n_disks=1)
    >>> np.round(q[0], 3).tolist(), bool(loss[0] < 1e-12)
    ([100.0, 0.8, 10.0, 10.0, 10.0, 5.0], True)
    """
    x = np.array(q0, dtype=float, copy=True)
    m, n = x.shape
    seg = np.asarray(seg, np.intp)
    if m == 0:
        return x, np.zeros(0)
    count = np.bincount(seg, minlength=m)
    starts = np.r_[0, np.cumsum(count)[:-1]]
    pos = np.arange(seg.size) - starts[seg]
    # objects grouped by pixel count (padding ≤ 2×) for the batched SVDs
    group = np.ceil(np.log2(np.maximum(count, 1))).astype(int)
    max_nfev = 100 * n
    nfev = np.ones(m, int)
    delta = np.linalg.norm(x, axis=1)
    delta[delta == 0] = 1.0
    alpha = np.zeros(m)
    cost = np.zeros(m)
    active = np.ones(m, bool)
    f_all = np.empty(seg.size)
    j_all = np.empty((seg.size, n))

    def _pixels_of(objs):
        """Indices of the pixels of ``objs`` (ascending object order), ascending."""
        objs = np.sort(objs)
        cnt = count[objs]
        first = np.repeat(starts[objs] - np.r_[0, np.cumsum(cnt)[:-1]], cnt)
        return first + np.arange(int(cnt.sum()))

    def evaluate(objs, qs, jac):
        """Residuals (and Jacobian rows) of the pixels of ``objs`` at ``qs``."""
        sel = _pixels_of(objs)
        where = np.full(m, -1, np.intp)
        where[objs] = np.arange(objs.size)
        mdl, jm = _model_and_jac(qs[where[seg[sel]]], yy[sel], xx[sel], n_disks, jac)
        return sel, mdl - z[sel], jm

    state = {
        "x": x, "cost": cost, "g": None, "delta": delta, "alpha": alpha, "nfev": nfev,
        "f_all": f_all, "j_all": j_all, "yy": yy, "xx": xx, "z": z, "count": count,
    }  # fmt: skip
    opts = {"n_disks": n_disks, "ftol": ftol, "xtol": xtol, "gtol": gtol, "max_nfev": max_nfev}
    ids = np.arange(m)
    sel, f, jm = evaluate(ids, x, True)
    f_all[sel], j_all[sel] = f, jm
    cost[:] = 0.5 * np.bincount(seg, weights=f * f, minlength=m)
    g = np.zeros((m, n))
    for c in range(n):
        g[:, c] = np.bincount(seg, weights=j_all[:, c] * f_all, minlength=m)
    state["g"] = g
    while True:
        stop = (np.max(np.abs(g), axis=1) < gtol) | (nfev >= max_nfev)
        active &= ~stop
        ids = np.flatnonzero(active)
        if ids.size == 0:
            break
        if ids.size == 1 and LAST_OBJECT_ALONE:  # the same iteration, leaner
            o = int(ids[0])
            _continue_alone(o, int(starts[o]), state, **opts)
            break
        # singular values / right vectors of each active object's Jacobian from the
        # eigen-decomposition of JᵀJ (one BLAS product per group of objects of similar
        # pixel counts, zero-padded rows change nothing); Uᵀf = Vᵀ(Jᵀf) / s
        ata = np.empty((ids.size, n, n))
        slot = np.full(m, -1, np.intp)
        slot[ids] = np.arange(ids.size)
        for grp in np.unique(group[ids]):
            obj = ids[group[ids] == grp]
            rows = int(count[obj].max())
            psel = _pixels_of(obj)
            gi = np.full(m, -1, np.intp)
            gi[obj] = np.arange(obj.size)
            jp = np.zeros((obj.size, rows, n))
            jp[gi[seg[psel]], pos[psel]] = j_all[psel]
            ata[slot[obj]] = np.matmul(np.swapaxes(jp, 1, 2), jp)
        lam, vv = np.linalg.eigh(ata)
        lam, vv = lam[:, ::-1], vv[:, :, ::-1]  # descending, as the SVD
        # eigenvalues at the rounding level of the largest are zero singular values
        lam = np.where(lam > 16 * n * _EPS * lam[:, :1], lam, 0.0)
        sv = np.sqrt(lam)
        suf = np.einsum("kji,kj->ki", vv, g[ids])
        with np.errstate(divide="ignore", invalid="ignore"):
            uf = np.where(sv > 0, suf / np.where(sv > 0, sv, 1.0), 0.0)
        # inner loop: shrink each object's trust region until its step goes downhill
        searching = np.ones(ids.size, bool)
        reduction = np.full(ids.size, -1.0)
        x_new = x[ids].copy()
        f_new_cost = cost[ids].copy()
        status = np.zeros(ids.size, bool)
        jsel = _pixels_of(ids)
        while True:
            searching &= (reduction <= 0) & (nfev[ids] < max_nfev) & ~status
            t = np.flatnonzero(searching)
            if t.size == 0:
                break
            o = ids[t]
            step, a_new = _tr_steps(uf[t], sv[t], vv[t], delta[o], alpha[o], count[o])
            alpha[o] = a_new
            # predicted reduction −(½‖J s‖² + gᵀs)
            wt = np.full(m, -1, np.intp)
            wt[o] = np.arange(o.size)
            ps = jsel[wt[seg[jsel]] >= 0]
            js = np.einsum("ij,ij->i", j_all[ps], step[wt[seg[ps]]])
            quad = np.bincount(wt[seg[ps]], weights=js * js, minlength=o.size)
            pred = -(0.5 * quad + np.einsum("ij,ij->i", g[o], step))
            trial = x[o] + step
            sel, fn, _ = evaluate(o, trial, False)
            nfev[o] += 1
            fin = np.ones(o.size, bool)
            bad_px = ~np.isfinite(fn)
            if bad_px.any():
                fin[wt[seg[sel[bad_px]]]] = False
            ws = wt[seg[sel]]
            c_new = 0.5 * np.bincount(ws, weights=np.where(bad_px, 0.0, fn) ** 2, minlength=o.size)
            step_norm = np.linalg.norm(step, axis=1)
            # non-finite residuals: a quarter of the step, try again
            delta[o[~fin]] = 0.25 * step_norm[~fin]
            f_ok = np.flatnonzero(fin)
            if f_ok.size == 0:
                continue
            oo, tt = o[f_ok], t[f_ok]
            red = cost[oo] - c_new[f_ok]
            reduction[tt] = red
            pr = pred[f_ok]
            ratio = np.where(pr > 0, red / np.where(pr > 0, pr, 1.0), 0.0)
            ratio = np.where((pr == 0) & (red == 0), 1.0, ratio)
            d_new = np.where(ratio < 0.25, 0.25 * step_norm[f_ok], delta[oo])
            grow = (ratio > 0.75) & (step_norm[f_ok] > 0.95 * delta[oo])
            d_new = np.where(grow & ~(ratio < 0.25), 2.0 * delta[oo], d_new)
            x_norm = np.linalg.norm(x[oo], axis=1)
            ftol_ok = (red < ftol * cost[oo]) & (ratio > 0.25)
            xtol_ok = np.linalg.norm(step[f_ok], axis=1) < xtol * (xtol + x_norm)
            term = ftol_ok | xtol_ok
            status[tt[term]] = True
            keep = ~term
            alpha[oo[keep]] *= delta[oo[keep]] / d_new[keep]
            delta[oo[keep]] = d_new[keep]
            x_new[tt] = trial[f_ok]
            f_new_cost[tt] = c_new[f_ok]
        acc = reduction > 0
        if acc.any():
            oa = ids[acc]
            x[oa] = x_new[acc]
            cost[oa] = f_new_cost[acc]
            sel, f, jm = evaluate(oa, x[oa], True)
            f_all[sel], j_all[sel] = f, jm
            for c in range(n):
                g[oa, c] = np.bincount(seg[sel], weights=jm[:, c] * f, minlength=m)[oa]
        active[ids[status]] = False
    return x, 2.0 * cost


def _safe_solve(mat: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(mat, rhs)
    except np.linalg.LinAlgError:
        return np.full(rhs.shape, np.nan)


def _segment_quantile(z: np.ndarray, seg: np.ndarray, starts: np.ndarray, q: float):
    """np.quantile(·, q) (linear interpolation) of ``z`` within each segment."""
    order = np.lexsort((z, seg))
    zs = z[order]
    n = np.diff(np.r_[starts, z.size])
    pos = q * (n - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a, b = zs[starts + lo], zs[starts + hi]
    return a + (b - a) * frac


def split_pairs(labels: np.ndarray, work: np.ndarray, noise: float) -> np.ndarray:
    """Cut isolated objects that two overlapping particles explain much better than one.

    See :func:`platescope.particles._sem_particles._split_pairs` for the rules; this is
    their batched implementation (all candidate objects in one solve).

    Parameters
    ----------
    labels : ndarray of int
        Label image (0 = background).
    work : ndarray of float
        Background-subtracted smoothed grey levels, same shape.
    noise : float
        Background noise sd of ``work``, grey levels.

    Returns
    -------
    ndarray of int
        The labels with cut objects split: one half keeps the label, the other gets a
        new one (numbered after the largest, in order of the original label).

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:40, 0:40]
    >>> a = np.maximum(np.hypot(yy - 20, xx - 14) < 6, np.hypot(yy - 20, xx - 25) < 5)
    >>> lab = a.astype(np.int32)
    >>> rng = np.random.default_rng(0)
    >>> work = 100.0 * a + rng.normal(0, 2.0, a.shape)
    >>> int(split_pairs(lab, work, 2.0).max())
    2
    """
    n = int(labels.max())
    if n == 0:
        return labels
    out = labels.copy()
    noise2 = max(float(noise), 1e-9) ** 2
    pad = PAIR_PAD_PX
    shape = labels.shape
    # objects touching another one were already split by the watershed: leave them
    hi = ndi.maximum_filter(labels, size=3)
    lo = ndi.minimum_filter(np.where(labels > 0, labels, n + 1), size=3)
    touch = (labels > 0) & ((hi != labels) | (lo != labels))
    skip = np.zeros(n + 1, bool)
    skip[np.unique(labels[touch])] = True
    skip[0] = True

    # pixel moments of every object (row-major order within each object)
    flat = labels.ravel()
    on = np.flatnonzero(flat)
    lab_on = flat[on]
    order = np.argsort(lab_on, kind="stable")
    on, lab_on = on[order], lab_on[order]
    area = np.bincount(lab_on, minlength=n + 1)
    cand = ~skip & (area >= MIN_FIT_AREA_PX)
    if not cand.any():
        return out
    # bounding boxes and windows (± pad, clipped), as the per-object code used
    sl = ndi.find_objects(labels)
    y0 = np.zeros(n + 1, np.intp)
    x0 = np.zeros(n + 1, np.intp)
    for k in np.flatnonzero(cand):
        s = sl[k - 1]
        y0[k] = max(s[0].start - pad, 0)
        x0[k] = max(s[1].start - pad, 0)
    keep_px = cand[lab_on]
    on, lab_on = on[keep_px], lab_on[keep_px]
    py = (on // shape[1] - y0[lab_on]).astype(float)
    px = (on % shape[1] - x0[lab_on]).astype(float)
    cnt = area.astype(float)
    cnt[cnt == 0] = 1.0
    my = np.bincount(lab_on, py, minlength=n + 1) / cnt
    mx = np.bincount(lab_on, px, minlength=n + 1) / cnt
    dy, dx = py - my[lab_on], px - mx[lab_on]
    ddof = np.maximum(area - 1, 1).astype(float)
    cyy = np.bincount(lab_on, dy * dy, minlength=n + 1) / ddof + 1.0 / 12.0
    cxx = np.bincount(lab_on, dx * dx, minlength=n + 1) / ddof + 1.0 / 12.0
    cyx = np.bincount(lab_on, dy * dx, minlength=n + 1) / ddof
    ks = np.flatnonzero(cand)
    cov = np.empty((ks.size, 2, 2))
    cov[:, 0, 0], cov[:, 1, 1] = cyy[ks], cxx[ks]
    cov[:, 0, 1] = cov[:, 1, 0] = cyx[ks]
    w, v = np.linalg.eigh(cov)
    elong = np.sqrt(w[:, 1] / w[:, 0])
    fit = elong >= PAIR_MIN_ELONGATION
    ks, v = ks[fit], v[fit]
    if ks.size == 0:
        return out
    m = ks.size
    obj = np.full(n + 1, -1, np.intp)
    obj[ks] = np.arange(m)

    # the fitted pixels: the object and its pad-pixel margin (expanded labels)
    near = segmentation.expand_labels(labels, distance=pad).ravel()
    use = np.flatnonzero(obj[near] >= 0)
    lab_use = near[use]
    o = np.argsort(obj[lab_use], kind="stable")
    use, lab_use = use[o], lab_use[o]
    seg = obj[lab_use]
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    uy = (use // shape[1] - y0[lab_use]).astype(float)
    ux = (use % shape[1] - x0[lab_use]).astype(float)
    z = work.ravel()[use].astype(float)
    amp0 = _segment_quantile(z, seg, starts, 0.9)

    cy, cx = my[ks], mx[ks]
    q1 = np.column_stack([amp0, np.full(m, 0.8), np.zeros(m), cy, cx, np.sqrt(area[ks] / np.pi)])
    q1, loss1 = fit_disks_batch(q1, uy, ux, z, seg, n_disks=1)

    # the two halves of each object across its long axis start the two disks
    pm = obj[lab_on] >= 0
    sp = obj[lab_on[pm]]
    half = ((py[pm] - cy[sp]) * v[sp, 0, 1] + (px[pm] - cx[sp]) * v[sp, 1, 1]) < 0
    q2 = np.empty((m, 9))
    q2[:, 0], q2[:, 1], q2[:, 2] = amp0, q1[:, 1], q1[:, 2]
    for j, part in enumerate((half, ~half)):
        c = np.bincount(sp[part], minlength=m).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            q2[:, 3 + 3 * j] = np.bincount(sp[part], py[pm][part], minlength=m) / c
            q2[:, 4 + 3 * j] = np.bincount(sp[part], px[pm][part], minlength=m) / c
        q2[:, 5 + 3 * j] = np.sqrt(c / np.pi)
    good = np.all(np.isfinite(q2), axis=1)  # an empty half: nothing to fit
    q2f, loss2 = q2.copy(), np.full(m, np.inf)
    if good.any():
        sel = good[seg]
        remap = np.cumsum(good) - 1
        q2f[good], loss2[good] = fit_disks_batch(
            q2[good], uy[sel], ux[sel], z[sel], remap[seg[sel]], n_disks=2
        )
    q = q2f
    dist = np.hypot(q[:, 3] - q[:, 6], q[:, 4] - q[:, 7])
    rsum = q[:, 5] + q[:, 8]
    cut = (
        good
        & (loss2 < PAIR_GAIN * loss1)
        & ((loss1 - loss2) / noise2 > PAIR_MIN_CHI2)
        & (np.minimum(q[:, 5], q[:, 8]) >= PAIR_MIN_RADIUS_PX)
        & (PAIR_DISTANCE[0] * rsum <= dist)
        & (dist <= PAIR_DISTANCE[1] * rsum)
    )
    if not cut.any():
        return out
    # pixel assignment of the cut objects: the half-maximum outline of the two-disk fit
    # (the object's own pixels too), each pixel to the disk it lies deeper in
    pc = cut[seg]
    s_c = seg[pc]
    qc = q[s_c]
    flat_use = use[pc]
    inside = (labels.ravel()[flat_use] == ks[s_c]) | (z[pc] > qc[:, 2] + 0.5 * qc[:, 0])
    yv, xv = uy[pc], ux[pc]
    deeper_a = (qc[:, 5] - np.hypot(yv - qc[:, 3], xv - qc[:, 4])) >= (
        qc[:, 8] - np.hypot(yv - qc[:, 6], xv - qc[:, 7])
    )
    a_sel, b_sel = inside & deeper_a, inside & ~deeper_a
    na = np.bincount(s_c[a_sel], minlength=m)
    nb = np.bincount(s_c[b_sel], minlength=m)
    cut &= (na >= 4) & (nb >= 4)
    if not cut.any():
        return out
    new = np.zeros(m, np.intp)
    new[cut] = n + np.arange(1, int(cut.sum()) + 1)  # in order of the original label
    go = cut[s_c]
    res = out.ravel()
    res[flat_use[go & a_sel]] = ks[s_c[go & a_sel]]
    res[flat_use[go & b_sel]] = new[s_c[go & b_sel]]
    return res.reshape(shape)
