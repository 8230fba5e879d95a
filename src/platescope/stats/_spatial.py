"""Spatial point statistics of nucleation sites: is a pattern random, clustered or regular?

SCIENCE.md §5 ("spatial randomness of nucleation sites"): Clark–Evans' aggregation
index with an edge correction, Ripley's K and L with an edge correction, Monte-Carlo
envelopes under complete spatial randomness (CSR), and one test with a controlled
false-alarm rate.

Conventions
-----------
- ``points``: array of shape (n, 2), columns ``(x_um, y_um)`` (a DataFrame with
  ``x_um``/``y_um`` columns works too).
- ``window``: ``(x0, x1, y0, y1)`` in µm, the rectangle in which points could have
  appeared (the field of view or its analysed crop — not the points' bounding box).
- ``mask`` + ``spacing`` (µm per pixel) describe an irregular region instead: a boolean
  image whose pixel (i, j) covers ``x0 + j·spacing .. x0 + (j+1)·spacing`` (and likewise
  in y), with ``(x0, y0)`` = ``origin`` (default ``(0, 0)``). Points outside the
  mask are dropped (their count is returned). Where a rectangle has a closed-form edge
  correction, the mask version uses Monte-Carlo CSR in the same mask instead.

Methods
-------
- Clark & Evans (1954): R = r̄_obs / E[r̄], with E[r̄] and Var[r̄] for a rectangle of
  area A and perimeter P from Donnelly (1978): E[r̄] = 0.5·√(A/n) + (0.0514 +
  0.041/√n)·P/n, Var[r̄] = 0.0703·A/n² + 0.037·P·√(A/n⁵); z = (r̄_obs − E)/√Var,
  two-sided normal p-value. Without edge correction the infinite-plane values
  0.5/√λ and 0.26136/√(nλ) are used. For a mask, E and Var are Monte-Carlo means and
  variances of r̄ over CSR patterns of the same n in the same mask.
- Ripley's K: K(r) = A / (n(n−1)) · Σ_{i≠j} w_ij·1(d_ij ≤ r), L = √(K/π). Edge
  weights: ``"ripley"`` (isotropic; for rectangles, the reciprocal of the fraction of
  the circle through x_j centred at x_i that lies inside the window, exact for
  r ≤ half the shorter side), ``"translation"`` (1/|W ∩ (W + x_i − x_j)|·A, from the
  window's (or mask's) set covariance — the one for masks), ``"none"``.
- Envelopes: L(r) of ``n_sim`` CSR patterns with the same n in the same window;
  pointwise min and max.
- :func:`csr_test`, default ``method="mad"``: the global maximum-absolute-deviation
  envelope test (Diggle 2003; Baddeley et al. 2014): T = max_r |L(r) − L̄(r)| with L̄ the
  mean over the observed and simulated patterns, p = (1 + #{T_sim ≥ T_obs})/(n_sim + 1).
  This is an exact Monte-Carlo test: its false-alarm rate is ≤ α by construction. The
  sign of L − L̄ at the largest deviation says clustered (+) or regular (−).
  ``method="clark-evans"`` uses the two-sided Clark–Evans z-test instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.spatial import cKDTree

from platescope._errors import InputError

__all__ = [
    "clark_evans",
    "csr_test",
    "ripley_envelope",
    "ripley_k",
    "sample_point_process",
]


# --------------------------------------------------------------------------- helpers


def _points(points: Any) -> np.ndarray:
    if isinstance(points, pd.DataFrame):
        if {"x_um", "y_um"} <= set(points.columns):
            arr = points[["x_um", "y_um"]].to_numpy(dtype=float)
        else:
            raise InputError(
                None,
                f"the points table has columns {list(points.columns)}, expected x_um and y_um",
                "pass a table with x_um, y_um columns or an (n, 2) array of (x, y) in µm",
            )
    else:
        arr = np.asarray(points, dtype=float)
        if arr.size == 0:
            arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(
            None,
            f"points must have shape (n, 2) (x_um, y_um), got {arr.shape}",
            "stack the coordinates as np.column_stack([x_um, y_um])",
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(
            None, "some point coordinates are NaN or infinite", "drop those points first"
        )
    return arr


class _Region:
    """A rectangle or a pixel mask: area, containment, uniform sampling, set covariance."""

    def __init__(self, window: Any, mask: Any = None, spacing: float | None = None, origin=None):
        self.mask = None
        if mask is not None:
            m = np.asarray(getattr(mask, "values", mask)).astype(bool)
            if m.ndim != 2 or not m.any():
                raise InputError(
                    None,
                    "the mask must be a 2-D boolean image with at least one True pixel",
                    "pass the region of interest as a boolean (y, x) image",
                )
            if spacing is None or not np.isfinite(spacing) or spacing <= 0:
                raise InputError(
                    None,
                    "a mask was given without a positive spacing (µm per pixel)",
                    "pass spacing=<pixel size in µm> with the mask",
                )
            ox, oy = (0.0, 0.0) if origin is None else (float(origin[0]), float(origin[1]))
            self.mask = m
            self.spacing = float(spacing)
            self.origin = (ox, oy)
            ny, nx = m.shape
            self.window = (ox, ox + nx * self.spacing, oy, oy + ny * self.spacing)
            self.area = float(m.sum()) * self.spacing**2
            # perimeter: pixel edges between mask and non-mask (incl. the image border)
            pad = np.pad(m, 1)
            edges = np.sum(pad[1:, :] != pad[:-1, :]) + np.sum(pad[:, 1:] != pad[:, :-1])
            self.perimeter = float(edges) * self.spacing
            self._flat = np.flatnonzero(m.ravel())
        else:
            if window is None:
                raise InputError(
                    None,
                    "no window was given",
                    "pass window=(x0, x1, y0, y1) in µm (the analysed field of view)",
                )
            w = tuple(float(v) for v in window)
            if len(w) != 4 or not (w[1] > w[0] and w[3] > w[2]) or not np.all(np.isfinite(w)):
                raise InputError(
                    None,
                    f"window {window} is not (x0, x1, y0, y1) with x1 > x0 and y1 > y0",
                    "pass the field of view as (x0, x1, y0, y1) in µm",
                )
            self.window = w
            self.area = (w[1] - w[0]) * (w[3] - w[2])
            self.perimeter = 2 * ((w[1] - w[0]) + (w[3] - w[2]))

    @property
    def is_rect(self) -> bool:
        return self.mask is None

    def contains(self, p: np.ndarray) -> np.ndarray:
        x0, x1, y0, y1 = self.window
        ok = (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
        if self.mask is not None and p.size:
            j = np.clip(((p[:, 0] - x0) / self.spacing).astype(int), 0, self.mask.shape[1] - 1)
            i = np.clip(((p[:, 1] - y0) / self.spacing).astype(int), 0, self.mask.shape[0] - 1)
            ok &= self.mask[i, j]
        return ok

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x0, x1, y0, y1 = self.window
        if self.mask is None:
            return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        idx = self._flat[rng.integers(0, self._flat.size, n)]
        i, j = np.divmod(idx, self.mask.shape[1])
        u = rng.random((n, 2))
        return np.column_stack(
            [x0 + (j + u[:, 0]) * self.spacing, y0 + (i + u[:, 1]) * self.spacing]
        )

    def signed_overlap(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """|W ∩ (W + (dx, dy))| in µm² (the set covariance of the region)."""
        if self.mask is None:
            x0, x1, y0, y1 = self.window
            return np.clip((x1 - x0) - np.abs(dx), 0, None) * np.clip(
                (y1 - y0) - np.abs(dy), 0, None
            )
        ny, nx = self.mask.shape
        if not hasattr(self, "_cov"):
            m = self.mask.astype(np.float64)
            f = np.fft.rfft2(m, (2 * ny, 2 * nx))
            self._cov = np.fft.irfft2(f * np.conj(f), (2 * ny, 2 * nx))
        fy = np.asarray(dy) / self.spacing
        fx = np.asarray(dx) / self.spacing
        i0 = np.floor(fy).astype(int)
        j0 = np.floor(fx).astype(int)
        return _bilinear(self._cov, i0, j0, fy - i0, fx - j0, ny, nx) * self.spacing**2


def _bilinear(cov, i0, j0, ty, tx, ny, nx):
    def at(i, j):
        ok = (np.abs(i) < ny) & (np.abs(j) < nx)
        return np.where(ok, cov[i % (2 * ny), j % (2 * nx)], 0.0)

    return (
        at(i0, j0) * (1 - ty) * (1 - tx)
        + at(i0 + 1, j0) * ty * (1 - tx)
        + at(i0, j0 + 1) * (1 - ty) * tx
        + at(i0 + 1, j0 + 1) * ty * tx
    )


def _prepare(points, window, mask, spacing, origin) -> tuple[np.ndarray, _Region, int]:
    pts = _points(points)
    region = _Region(window, mask, spacing, origin)
    keep = region.contains(pts)
    return pts[keep], region, int((~keep).sum())


def _nn_mean(p: np.ndarray) -> float:
    d, _ = cKDTree(p).query(p, k=2)
    return float(d[:, 1].mean())


# --------------------------------------------------------------------------- Clark–Evans


def clark_evans(
    points: Any,
    *,
    window: tuple[float, float, float, float] | None = None,
    edge_correction: bool = True,
    mask: Any = None,
    spacing: float | None = None,
    origin: tuple[float, float] | None = None,
    n_sim: int = 199,
    seed: int = 0,
) -> dict[str, Any]:
    """Clark–Evans aggregation index R with Donnelly's edge correction.

    R ≈ 1 for a random pattern, R < 1 clustered, R > 1 regular (max 2.149 hexagonal).

    Parameters
    ----------
    points : array_like, shape (n, 2)
        Site positions (x_um, y_um).
    window : (x0, x1, y0, y1), µm
        The rectangle the sites could occupy (ignored when ``mask`` is given).
    edge_correction : bool
        Donnelly (1978) correction for a rectangle (default); False uses the
        infinite-plane expectation (biased towards R > 1 near edges).
    mask, spacing, origin
        Irregular region (boolean image, µm per pixel, (x0, y0) of pixel (0, 0)'s
        corner); then E[r̄] and Var[r̄] are Monte-Carlo values from ``n_sim`` CSR
        patterns of the same n in the mask.
    n_sim, seed : int
        Monte-Carlo size and seed (mask only).

    Returns
    -------
    dict
        ``R``, ``z``, ``p_value`` (two-sided), ``n``, ``density_um2``,
        ``r_obs_mean_um``, ``r_exp_um``, ``r_exp_sd_um`` (sd of r̄ under CSR),
        ``R_err`` (1σ of R under CSR), ``method``, ``n_outside`` (points dropped as
        outside the region). R is NaN for fewer than 2 points.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pts = rng.uniform(0, 100, (400, 2))
    >>> res = clark_evans(pts, window=(0, 100, 0, 100))
    >>> 0.9 < res["R"] < 1.1, res["n"]
    (True, 400)
    """
    pts, region, n_out = _prepare(points, window, mask, spacing, origin)
    n = int(pts.shape[0])
    lam = n / region.area
    out: dict[str, Any] = {
        "R": float("nan"),
        "z": float("nan"),
        "p_value": float("nan"),
        "n": n,
        "density_um2": lam,
        "r_obs_mean_um": float("nan"),
        "r_exp_um": float("nan"),
        "r_exp_sd_um": float("nan"),
        "R_err": float("nan"),
        "n_outside": n_out,
    }
    if n < 2:
        out["method"] = "too few points"
        return out
    r_obs = _nn_mean(pts)
    A, P = region.area, region.perimeter
    if not region.is_rect:
        rng = np.random.default_rng(seed)
        sims = np.array([_nn_mean(region.sample(n, rng)) for _ in range(int(n_sim))])
        e, sd = float(sims.mean()), float(sims.std(ddof=1))
        out["method"] = f"Monte-Carlo CSR in the mask ({int(n_sim)} patterns)"
    elif edge_correction:
        e = 0.5 * np.sqrt(A / n) + (0.0514 + 0.041 / np.sqrt(n)) * P / n
        sd = float(np.sqrt(0.0703 * A / n**2 + 0.037 * P * np.sqrt(A / n**5)))
        out["method"] = "Donnelly (1978) rectangle edge correction"
    else:
        e = 0.5 / np.sqrt(lam)
        sd = 0.26136 / np.sqrt(n * lam)
        out["method"] = "no edge correction (infinite plane)"
    z = (r_obs - e) / sd
    out.update(
        R=float(r_obs / e),
        z=float(z),
        p_value=float(2 * sps.norm.sf(abs(z))),
        r_obs_mean_um=r_obs,
        r_exp_um=float(e),
        r_exp_sd_um=float(sd),
        R_err=float(sd / e),
    )
    return out


# --------------------------------------------------------------------------- Ripley


def _ripley_weights(pts: np.ndarray, i: np.ndarray, d: np.ndarray, window) -> np.ndarray:
    """Isotropic edge weight for the circle of radius d centred at pts[i] in a rectangle."""
    x0, x1, y0, y1 = window
    px, py = pts[i, 0], pts[i, 1]
    dist = np.stack([px - x0, x1 - px, py - y0, y1 - py])  # left, right, bottom, top
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.arccos(np.clip(dist / np.maximum(d, 1e-300), 0.0, 1.0))  # half-angles outside
    outside = 2.0 * a.sum(axis=0)
    for e1, e2 in ((0, 2), (0, 3), (1, 2), (1, 3)):  # adjacent edges → corner overlaps
        outside -= np.clip(a[e1] + a[e2] - np.pi / 2, 0.0, None)
    inside = 1.0 - outside / (2.0 * np.pi)
    return 1.0 / np.clip(inside, 0.25, 1.0)


def _k_values(pts: np.ndarray, region: _Region, radii: np.ndarray, correction: str) -> np.ndarray:
    n = pts.shape[0]
    if n < 2:
        return np.full(radii.size, np.nan)
    rmax = float(radii.max())
    pairs = cKDTree(pts).query_pairs(rmax, output_type="ndarray")
    if pairs.size == 0:
        return np.zeros(radii.size)
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    dvec = pts[j] - pts[i]
    d = np.hypot(dvec[:, 0], dvec[:, 1])
    if correction == "ripley":
        w = _ripley_weights(pts, i, d, region.window)
    elif correction == "translation":
        ov = region.signed_overlap(dvec[:, 0], dvec[:, 1])
        w = region.area / np.maximum(ov, 1e-3 * region.area)
    else:
        w = np.ones_like(d)
    order = np.argsort(d)
    cw = np.concatenate([[0.0], np.cumsum(w[order])])
    idx = np.searchsorted(d[order], radii, side="right")
    return region.area / (n * (n - 1)) * cw[idx]


def _check_radii(radii_um: Any, region: _Region, correction: str) -> np.ndarray:
    r = np.asarray(radii_um, dtype=float).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0) or np.any(np.diff(r) <= 0):
        raise InputError(
            None,
            "radii_um must be a non-empty increasing array of non-negative µm",
            "pass e.g. np.linspace(0, 0.25 * min(width, height), 50)",
        )
    if correction == "ripley":
        if not region.is_rect:
            raise InputError(
                None,
                "the isotropic ('ripley') edge correction is implemented for rectangles",
                "use edge_correction='translation' with a mask",
            )
        x0, x1, y0, y1 = region.window
        half = 0.5 * min(x1 - x0, y1 - y0)
        if r.max() > half:
            raise InputError(
                None,
                f"radii up to {r.max():g} µm exceed half the window's shorter side ({half:g} µm)",
                "use radii ≤ a quarter of the shorter side (the usual rule)",
            )
    elif correction not in ("translation", "none"):
        raise InputError(
            None,
            f"unknown edge_correction {correction!r}",
            "use 'ripley', 'translation' or 'none'",
        )
    return r


def _default_radii(region: _Region) -> np.ndarray:
    x0, x1, y0, y1 = region.window
    return np.linspace(0.0, 0.25 * min(x1 - x0, y1 - y0), 41)


def ripley_k(
    points: Any,
    *,
    window: tuple[float, float, float, float] | None = None,
    radii_um: Any = None,
    edge_correction: str = "ripley",
    mask: Any = None,
    spacing: float | None = None,
    origin: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Ripley's K and L functions with an edge correction.

    Parameters
    ----------
    points : array_like, shape (n, 2)
        Positions (x_um, y_um).
    window : (x0, x1, y0, y1), µm
        Observation rectangle.
    radii_um : array_like, µm
        Increasing radii (default: 41 from 0 to a quarter of the shorter side). With
        the isotropic correction they must not exceed half the shorter side.
    edge_correction : {"ripley", "translation", "none"}
        Isotropic (rectangles), translation (rectangles and masks), or none.
    mask, spacing, origin
        Irregular region (see the module docstring); needs ``"translation"``.

    Returns
    -------
    pandas.DataFrame
        ``r_um``, ``K`` (µm²), ``L`` (µm); for CSR, K ≈ πr² and L ≈ r.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> pts = rng.uniform(0, 50, (500, 2))
    >>> df = ripley_k(pts, window=(0, 50, 0, 50), radii_um=[2.0, 5.0])
    >>> bool(np.all(np.abs(df["L"] - df["r_um"]) < 0.5))
    True
    """
    pts, region, _ = _prepare(points, window, mask, spacing, origin)
    if not region.is_rect and edge_correction == "ripley":
        edge_correction = "translation"
    radii = _default_radii(region) if radii_um is None else radii_um
    r = _check_radii(radii, region, edge_correction)
    k = _k_values(pts, region, r, edge_correction)
    return pd.DataFrame({"r_um": r, "K": k, "L": np.sqrt(np.clip(k, 0, None) / np.pi)})


def _sim_L(region, n, r, correction, n_sim, rng) -> np.ndarray:
    out = np.empty((int(n_sim), r.size))
    for s in range(int(n_sim)):
        out[s] = np.sqrt(
            np.clip(_k_values(region.sample(n, rng), region, r, correction), 0, None) / np.pi
        )
    return out


def ripley_envelope(
    points: Any,
    *,
    window: tuple[float, float, float, float] | None = None,
    radii_um: Any = None,
    n_sim: int = 99,
    seed: int = 0,
    edge_correction: str = "ripley",
    mask: Any = None,
    spacing: float | None = None,
    origin: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """L(r) of the pattern with pointwise Monte-Carlo envelopes under CSR.

    Parameters
    ----------
    points, window, radii_um, edge_correction, mask, spacing, origin
        As in :func:`ripley_k`.
    n_sim : int
        CSR patterns (same n, same region). With 99 the envelope is a pointwise
        two-sided test at 2 %.
    seed : int
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``r_um``, ``L`` (observed), ``L_lo``, ``L_hi`` (pointwise min/max over the
        simulations), ``L_mean`` (their mean).

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.random.default_rng(0).uniform(0, 20, (100, 2))
    >>> env = ripley_envelope(pts, window=(0, 20, 0, 20), radii_um=[1.0, 2.0], n_sim=19)
    >>> bool(np.all(env["L_lo"] <= env["L_hi"]))
    True
    """
    pts, region, _ = _prepare(points, window, mask, spacing, origin)
    if not region.is_rect and edge_correction == "ripley":
        edge_correction = "translation"
    radii = _default_radii(region) if radii_um is None else radii_um
    r = _check_radii(radii, region, edge_correction)
    n = pts.shape[0]
    L_obs = np.sqrt(np.clip(_k_values(pts, region, r, edge_correction), 0, None) / np.pi)
    sims = _sim_L(region, n, r, edge_correction, n_sim, np.random.default_rng(seed))
    return pd.DataFrame(
        {
            "r_um": r,
            "L": L_obs,
            "L_lo": sims.min(axis=0),
            "L_hi": sims.max(axis=0),
            "L_mean": sims.mean(axis=0),
        }
    )


# --------------------------------------------------------------------------- CSR test


def csr_test(
    points: Any,
    *,
    window: tuple[float, float, float, float] | None = None,
    method: str = "mad",
    alpha: float = 0.05,
    radii_um: Any = None,
    n_sim: int = 99,
    seed: int = 0,
    mask: Any = None,
    spacing: float | None = None,
    origin: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Test complete spatial randomness; say whether the pattern is clustered or regular.

    Parameters
    ----------
    points : array_like, shape (n, 2)
        Positions (x_um, y_um).
    window : (x0, x1, y0, y1), µm
        Observation rectangle.
    method : {"mad", "clark-evans"}
        ``"mad"`` (default): global maximum-absolute-deviation test on L(r) against
        ``n_sim`` CSR patterns (exact Monte-Carlo test, false-alarm rate ≤ α by
        construction). ``"clark-evans"``: two-sided Clark–Evans z-test with
        Donnelly's correction (asymptotic).
    alpha : float
        Significance level of the decision.
    radii_um : array_like, optional
        Radii for the MAD test (default: 0 to a quarter of the shorter side; r = 0 is
        dropped).
    n_sim, seed : int
        Monte-Carlo size and seed.
    mask, spacing, origin
        Irregular region (translation correction; Monte-Carlo Clark–Evans).

    Returns
    -------
    dict
        ``clustered`` and ``regular`` (bool, at most one True), ``p_value``,
        ``statistic`` (T = max |L − L̄| in µm, or Clark–Evans z), ``r_at_max_um`` (MAD),
        ``method``, ``alpha``, ``n``. With fewer than 3 points the test is not run:
        both flags False, p-value NaN, ``reason`` says why.

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.random.default_rng(5).uniform(0, 30, (150, 2))
    >>> res = csr_test(pts, window=(0, 30, 0, 30), n_sim=39)
    >>> res["clustered"], res["regular"]
    (False, False)
    """
    pts, region, _ = _prepare(points, window, mask, spacing, origin)
    n = int(pts.shape[0])
    out: dict[str, Any] = {
        "clustered": False,
        "regular": False,
        "p_value": float("nan"),
        "statistic": float("nan"),
        "method": method,
        "alpha": float(alpha),
        "n": n,
        "reason": None,
    }
    if n < 3:
        out["reason"] = f"{n} point(s): too few for a test of spatial randomness"
        return out
    if method == "clark-evans":
        ce = clark_evans(
            pts,
            window=region.window if region.is_rect else None,
            mask=region.mask,
            spacing=getattr(region, "spacing", None),
            origin=getattr(region, "origin", None),
            n_sim=n_sim,
            seed=seed,
        )
        out.update(p_value=ce["p_value"], statistic=ce["z"], clark_evans_R=ce["R"])
        sig = ce["p_value"] < alpha
        out["clustered"] = bool(sig and ce["z"] < 0)
        out["regular"] = bool(sig and ce["z"] > 0)
        out["method"] = "Clark–Evans two-sided z-test (" + ce["method"] + ")"
        return out
    if method != "mad":
        raise InputError(None, f"unknown method {method!r}", "use method='mad' or 'clark-evans'")
    correction = "ripley" if region.is_rect else "translation"
    radii = _default_radii(region) if radii_um is None else radii_um
    r = _check_radii(radii, region, correction)
    r = r[r > 0]
    if r.size == 0:
        raise InputError(None, "no positive radius was given", "pass radii_um > 0")
    L_obs = np.sqrt(np.clip(_k_values(pts, region, r, correction), 0, None) / np.pi)
    sims = _sim_L(region, n, r, correction, n_sim, np.random.default_rng(seed))
    allL = np.vstack([L_obs[None, :], sims])
    Lbar = allL.mean(axis=0)
    dev = allL - Lbar
    T = np.abs(dev).max(axis=1)
    t_obs = float(T[0])
    p = (1.0 + float(np.sum(T[1:] >= t_obs))) / (int(n_sim) + 1.0)
    k = int(np.argmax(np.abs(dev[0])))
    sig = p <= alpha
    out.update(
        p_value=p,
        statistic=t_obs,
        r_at_max_um=float(r[k]),
        clustered=bool(sig and dev[0, k] > 0),
        regular=bool(sig and dev[0, k] < 0),
        method=f"global MAD envelope test on L(r) ({int(n_sim)} CSR patterns, "
        f"{'isotropic' if correction == 'ripley' else 'translation'} edge correction)",
    )
    return out


# --------------------------------------------------------------------------- simulation


def sample_point_process(
    kind: str,
    *,
    window: tuple[float, float, float, float],
    intensity_um2: float,
    seed: int = 0,
    cluster_radius_um: float = 1.0,
    mean_per_cluster: float = 5.0,
    hard_core_um: float = 1.0,
) -> np.ndarray:
    """Draw a point pattern: CSR, a Thomas cluster process, or a hard-core process.

    Parameters
    ----------
    kind : {"csr", "thomas", "hardcore"}
        ``"csr"``: Poisson; ``"thomas"``: Poisson parents (intensity /
        mean_per_cluster) with Poisson(mean_per_cluster) children displaced by an
        isotropic Gaussian of sd ``cluster_radius_um`` (parents drawn in a window
        enlarged by 4 sd, children outside the window dropped); ``"hardcore"``:
        Matérn type-II thinning (a Poisson point is kept when no point with an
        earlier random mark lies within ``hard_core_um``).
    window : (x0, x1, y0, y1), µm
    intensity_um2 : float
        Target intensity, points per µm² (for "hardcore" the intensity before
        thinning).
    seed : int

    Returns
    -------
    ndarray, shape (n, 2)
        (x_um, y_um).

    Examples
    --------
    >>> pts = sample_point_process("csr", window=(0, 10, 0, 10), intensity_um2=1.0, seed=1)
    >>> pts.shape[1]
    2
    """
    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = (float(v) for v in window)
    if kind == "csr":
        n = rng.poisson(intensity_um2 * (x1 - x0) * (y1 - y0))
        return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    if kind == "thomas":
        pad = 4.0 * cluster_radius_um
        ax0, ax1, ay0, ay1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        n_par = rng.poisson(intensity_um2 / mean_per_cluster * (ax1 - ax0) * (ay1 - ay0))
        par = np.column_stack([rng.uniform(ax0, ax1, n_par), rng.uniform(ay0, ay1, n_par)])
        kids = rng.poisson(mean_per_cluster, n_par)
        pts = np.repeat(par, kids, axis=0) + rng.normal(0, cluster_radius_um, (int(kids.sum()), 2))
        ok = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        return pts[ok]
    if kind == "hardcore":
        pad = hard_core_um
        ax0, ax1, ay0, ay1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        n = rng.poisson(intensity_um2 * (ax1 - ax0) * (ay1 - ay0))
        pts = np.column_stack([rng.uniform(ax0, ax1, n), rng.uniform(ay0, ay1, n)])
        marks = rng.random(n)
        keep = np.ones(n, dtype=bool)
        if n > 1:
            pairs = cKDTree(pts).query_pairs(hard_core_um, output_type="ndarray")
            if pairs.size:
                a, b = pairs[:, 0], pairs[:, 1]
                later = np.where(marks[a] > marks[b], a, b)
                keep[later] = False
        pts = pts[keep]
        ok = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        return pts[ok]
    raise InputError(None, f"unknown point process {kind!r}", "use 'csr', 'thomas' or 'hardcore'")
