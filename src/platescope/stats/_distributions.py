"""Fits of size distributions: one Gaussian or a mixture of two, chosen by BIC.

The paper fits particle-diameter histograms with a Gaussian or two Gaussians
(SCIENCE.md §2). Here the fit is to the diameters themselves (maximum likelihood, no
binning): one Gaussian in closed form, a two-Gaussian mixture by expectation-
maximisation from several starts, polished by a quasi-Newton step. Standard errors come
from the observed information (the numerical Hessian of the log-likelihood) or, on
request, from a bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from platescope._errors import InputError

__all__ = ["fit_diameter_distribution", "mixture_pdf"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def mixture_pdf(x_nm: Any, components: Sequence[dict[str, float]]) -> np.ndarray:
    """Probability density of a Gaussian mixture, per nm.

    Parameters
    ----------
    x_nm : array_like
        Diameters, nm, at which to evaluate the density.
    components : sequence of dict
        Each with ``weight``, ``mean_nm`` and ``sd_nm`` (as in the ``components`` of
        :func:`fit_diameter_distribution`).

    Returns
    -------
    ndarray
        Density, nm⁻¹ (multiply by N × bin width to draw it over a count histogram).

    Examples
    --------
    >>> round(float(mixture_pdf(50.0, [{"weight": 1.0, "mean_nm": 50.0, "sd_nm": 10.0}])), 5)
    0.03989
    """
    x = np.asarray(x_nm, dtype=float)
    out = np.zeros_like(x)
    for c in components:
        s = float(c["sd_nm"])
        z = (x - float(c["mean_nm"])) / s
        out = out + float(c["weight"]) * np.exp(-0.5 * z * z - _LOG_SQRT_2PI) / s
    return out


# ------------------------------------------------------------------ likelihoods


def _loglik_terms(x: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """log(w_k N(x_i | mu_k, sd_k)), shape (n, k)."""
    z = (x[:, None] - mu[None, :]) / sd[None, :]
    return np.log(w)[None, :] - 0.5 * z * z - np.log(sd)[None, :] - _LOG_SQRT_2PI


def _lse(t: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp (plain numpy: scipy's version is slow for small arrays)."""
    m = t.max(axis=1)
    return m + np.log(np.exp(t - m[:, None]).sum(axis=1))


def _loglik(x, w, mu, sd) -> float:
    return float(np.sum(_lse(_loglik_terms(x, w, mu, sd))))


def _unpack2(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w1 = special.expit(theta[0])
    return (
        np.array([w1, 1.0 - w1]),
        np.array([theta[1], theta[2]]),
        np.exp([theta[3], theta[4]]),
    )


def _nll2(theta: np.ndarray, x: np.ndarray) -> float:
    w, mu, sd = _unpack2(theta)
    if not np.all(np.isfinite(sd)) or np.any(sd <= 0) or w[0] <= 0 or w[1] <= 0:
        return np.inf
    return -_loglik(x, w, mu, sd)


def _em2(x: np.ndarray, w, mu, sd, sd_floor: float, max_iter: int = 5000, tol: float = 1e-10):
    """EM for a two-Gaussian mixture from one start; returns (w, mu, sd, ll, ok)."""
    w, mu, sd = (np.asarray(v, dtype=float).copy() for v in (w, mu, sd))
    ll_old = -np.inf
    for _ in range(max_iter):
        t = _loglik_terms(x, w, mu, sd)
        lse = _lse(t)
        ll = float(lse.sum())
        r = np.exp(t - lse[:, None])
        nk = r.sum(axis=0)
        if np.any(nk < 1e-8 * x.size):
            return w, mu, sd, ll, False
        w = nk / x.size
        mu = (r * x[:, None]).sum(axis=0) / nk
        var = (r * (x[:, None] - mu[None, :]) ** 2).sum(axis=0) / nk
        sd = np.sqrt(var)
        if np.any(sd < sd_floor):
            return w, mu, sd, ll, False
        if abs(ll - ll_old) <= tol * max(1.0, abs(ll)):
            break
        ll_old = ll
    return w, mu, sd, _loglik(x, w, mu, sd), True


def _hessian(f, theta: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    k = theta.size
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.empty((k, k))
    f0 = f(theta)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (f(theta + ei) - 2.0 * f0 + f(theta - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            v = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4.0 * h[i] * h[j])
            hess[i, j] = hess[j, i] = v
    return hess


# ----------------------------------------------------------------------- models


def _fit1(x: np.ndarray) -> dict[str, Any]:
    n = x.size
    mu = float(x.mean())
    sd = float(np.sqrt(np.mean((x - mu) ** 2)))  # maximum-likelihood (biased) sd
    ll = _loglik(x, np.array([1.0]), np.array([mu]), np.array([sd]))
    comp = {
        "weight": 1.0,
        "weight_err": 0.0,
        "mean_nm": mu,
        "mean_nm_err": sd / np.sqrt(n),
        "sd_nm": sd,
        "sd_nm_err": sd / np.sqrt(2.0 * n),
    }
    return {
        "n_components": 1,
        "log_likelihood": ll,
        "n_params": 2,
        "components": [comp],
        "converged": True,
    }


def _starts2(x: np.ndarray, rng: np.random.Generator):
    s = x.std()
    q = np.quantile(x, [0.1, 0.25, 0.5, 0.75, 0.9])
    lo, hi = x[x <= q[2]], x[x > q[2]]
    yield (
        [0.5, 0.5],
        [lo.mean(), hi.mean() if hi.size else q[4]],
        [
            max(lo.std(), 0.1 * s),
            max(hi.std() if hi.size > 1 else s, 0.1 * s),
        ],
    )
    yield [0.5, 0.5], [q[1], q[3]], [0.5 * s, 0.5 * s]
    yield [0.8, 0.2], [q[2], q[4]], [0.7 * s, 0.3 * s]
    yield [0.2, 0.8], [q[0], q[2]], [0.3 * s, 0.7 * s]
    for _ in range(6):
        m = rng.choice(x, size=2, replace=False)
        yield [0.5, 0.5], sorted(m), [0.5 * s, 0.5 * s]


def _fit2(
    x: np.ndarray, rng: np.random.Generator, start: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Two-Gaussian maximum-likelihood fit; ``start`` (a fitted model) → quick refit."""
    sd_floor = 1e-3 * x.std()
    if start is not None:
        c = start["components"]
        w, mu, sd, ll, ok = _em2(
            x,
            [c[0]["weight"], c[1]["weight"]],
            [c[0]["mean_nm"], c[1]["mean_nm"]],
            [c[0]["sd_nm"], c[1]["sd_nm"]],
            sd_floor,
            tol=1e-9,
        )
        if not ok:
            return None
        comps = [
            {"weight": float(w[k]), "mean_nm": float(mu[k]), "sd_nm": float(sd[k])}
            for k in range(2)
        ]
        return {"components": sorted(comps, key=lambda c: c["mean_nm"])}
    # short EM runs from every start, then the two best are run to convergence
    trial = []
    for w0, mu0, sd0 in _starts2(x, rng):
        w, mu, sd, ll, ok = _em2(x, w0, mu0, sd0, sd_floor, max_iter=60)
        if ok:
            trial.append((ll, w, mu, sd))
    trial.sort(key=lambda t: -t[0])
    best = None
    for _, w0, mu0, sd0 in trial[:2]:
        w, mu, sd, ll, ok = _em2(x, w0, mu0, sd0, sd_floor, max_iter=2000, tol=1e-9)
        if ok and (best is None or ll > best[3]):
            best = (w, mu, sd, ll)
    if best is None:
        return None
    w, mu, sd, _ = best
    theta0 = np.array([special.logit(w[0]), mu[0], mu[1], np.log(sd[0]), np.log(sd[1])])
    from scipy import optimize  # ≈ 0.25 s CPU to import: only when a mixture is fitted

    res = optimize.minimize(_nll2, theta0, args=(x,), method="BFGS", options={"gtol": 1e-8})
    theta = res.x if (res.fun <= _nll2(theta0, x) and np.isfinite(res.fun)) else theta0
    w, mu, sd = _unpack2(theta)
    if np.any(sd < sd_floor) or np.min(w) < 1e-6:
        return None
    # observed information in the unconstrained parameters → delta method
    cov = None
    try:
        hess = _hessian(lambda t: _nll2(t, x), theta)
        if np.all(np.isfinite(hess)):
            c = np.linalg.inv(hess)
            if np.all(np.diag(c) > 0):
                cov = c
    except np.linalg.LinAlgError:
        cov = None
    if cov is not None:
        se = np.sqrt(np.diag(cov))
        w_err = float(w[0] * w[1] * se[0])
        errs = [
            (w_err, float(se[1]), float(sd[0] * se[3])),
            (w_err, float(se[2]), float(sd[1] * se[4])),
        ]
    else:
        errs = [(None, None, None), (None, None, None)]
    comps = [
        {
            "weight": float(w[k]),
            "weight_err": errs[k][0],
            "mean_nm": float(mu[k]),
            "mean_nm_err": errs[k][1],
            "sd_nm": float(sd[k]),
            "sd_nm_err": errs[k][2],
        }
        for k in range(2)
    ]
    comps.sort(key=lambda c: c["mean_nm"])
    return {
        "n_components": 2,
        "log_likelihood": _loglik(x, w, mu, sd),
        "n_params": 5,
        "components": comps,
        "converged": bool(res.success) or cov is not None,
    }


def _bootstrap_errors(x: np.ndarray, model: dict[str, Any], n_boot: int, rng: np.random.Generator):
    k = model["n_components"]
    draws = []
    for _ in range(n_boot):
        xb = rng.choice(x, size=x.size, replace=True)
        m = _fit1(xb) if k == 1 else _fit2(xb, rng, start=model)
        if m is None:
            continue
        draws.append([[c["weight"], c["mean_nm"], c["sd_nm"]] for c in m["components"]])
    if len(draws) < max(10, n_boot // 2):
        return None
    arr = np.asarray(draws)  # (B, k, 3)
    return arr.std(axis=0, ddof=1), len(draws)


def fit_diameter_distribution(
    diameters_nm: Any,
    *,
    max_components: int = 2,
    errors: str = "hessian",
    n_bootstrap: int = 200,
    seed: int | None = 0,
    n_curve: int = 200,
) -> dict[str, Any]:
    """Fit one Gaussian and a two-Gaussian mixture to diameters and choose by BIC.

    Parameters
    ----------
    diameters_nm : array_like
        Particle diameters, nm (finite, positive; at least 2, and at least 10 for the
        two-component model).
    max_components : {1, 2}
        Largest mixture considered.
    errors : {"hessian", "bootstrap"}
        Standard errors from the observed information (numerical Hessian of the
        log-likelihood, delta method) or from ``n_bootstrap`` resamples refitted with the
        selected number of components.
    n_bootstrap : int
        Bootstrap resamples when ``errors="bootstrap"``.
    seed : int or None
        Seed of the random starts of EM and of the bootstrap (results are reproducible
        for a given seed).
    n_curve : int
        Number of points of the fitted density in ``curve``.

    Returns
    -------
    dict
        ``n``; ``selected_components`` (1 or 2, lowest BIC); ``components`` of the
        selected model, sorted by mean, each ``weight``, ``mean_nm``, ``sd_nm`` with
        ``*_err`` standard errors (``None`` when the information matrix is singular);
        ``models`` — one dict per fitted model (``n_components``, ``log_likelihood``,
        ``n_params``, ``bic``, ``aic``, ``components``, ``converged``); ``bic`` —
        ``{n_components: BIC}``; ``curve`` — ``x_nm`` and ``pdf_per_nm`` lists of the
        selected model's density (use :func:`mixture_pdf` for other grids); ``errors``;
        ``note``.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.random.default_rng(1).normal(70.0, 10.0, 400)
    >>> fit = fit_diameter_distribution(d)
    >>> fit["selected_components"], fit["components"][0]["mean_nm"] == float(d.mean())
    (1, True)
    """
    x = np.asarray(diameters_nm, dtype=float).ravel()
    if x.size < 2:
        raise InputError(
            None,
            f"{x.size} diameter(s) given; a distribution fit needs at least 2",
            "analyse a larger area or more images",
        )
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise InputError(
            None,
            "diameters must be finite and positive",
            "drop NaN or non-positive diameters before fitting",
        )
    if np.ptp(x) == 0:
        raise InputError(
            None,
            "all diameters are equal, so no spread can be fitted",
            "check the particle detection (sizes are quantised to one value)",
        )
    if max_components not in (1, 2):
        raise InputError(
            None, f"max_components must be 1 or 2, got {max_components!r}", "use 1 or 2"
        )
    if errors not in ("hessian", "bootstrap"):
        raise InputError(None, f"unknown errors {errors!r}", "use 'hessian' or 'bootstrap'")
    rng = np.random.default_rng(seed)
    n = x.size

    models = [_fit1(x)]
    notes = []
    if max_components >= 2:
        if n < 10:
            notes.append("two-component model not fitted (fewer than 10 diameters)")
        else:
            m2 = _fit2(x, rng)
            if m2 is None:
                notes.append("two-component fit degenerate (a component collapsed)")
            else:
                models.append(m2)
    for m in models:
        m["bic"] = float(m["n_params"] * np.log(n) - 2.0 * m["log_likelihood"])
        m["aic"] = float(2.0 * m["n_params"] - 2.0 * m["log_likelihood"])
    best = min(models, key=lambda m: m["bic"])
    k = best["n_components"]
    comps = [dict(c) for c in best["components"]]

    if errors == "bootstrap":
        out = _bootstrap_errors(x, best, int(n_bootstrap), rng)
        if out is None:
            notes.append("bootstrap failed for most resamples; errors left as None")
            for c in comps:
                c.update(weight_err=None, mean_nm_err=None, sd_nm_err=None)
        else:
            sdv, nb = out
            for c, e in zip(comps, sdv, strict=True):
                c.update(
                    weight_err=float(e[0]) if k > 1 else 0.0,
                    mean_nm_err=float(e[1]),
                    sd_nm_err=float(e[2]),
                )
            notes.append(f"errors from {nb} bootstrap resamples")

    lo = max(0.0, float(x.min() - 0.2 * np.ptp(x)))
    hi = float(x.max() + 0.2 * np.ptp(x))
    grid = np.linspace(lo, hi, int(n_curve))
    return {
        "n": int(n),
        "selected_components": int(k),
        "components": comps,
        "models": models,
        "bic": {m["n_components"]: m["bic"] for m in models},
        "curve": {"x_nm": grid.tolist(), "pdf_per_nm": mixture_pdf(grid, comps).tolist()},
        "errors": errors,
        "note": "; ".join(
            ["maximum-likelihood fit to the individual diameters (no binning)", *notes]
        ),
    }
