"""Levelling of AFM height maps: polynomial background with deposit masking, row alignment."""

from __future__ import annotations

from typing import Any

import numpy as np

from platescope.surface._common import as_height, like, warn

__all__ = ["level_lines", "level_map", "level_plane"]

_MIN_PIXELS_PER_TERM = 10


def _spacing(height: Any, spacing_um: Any) -> tuple[np.ndarray, float | None, float | None]:
    """Levelling needs no pixel size; keep it when there is one."""
    import xarray as xr

    if spacing_um is None and not isinstance(height, xr.DataArray):
        z = np.asarray(height, dtype=np.float64)
        if z.ndim != 2:
            from platescope._errors import InputError

            raise InputError(None, f"a height map is 2-D, got shape {z.shape}", "pass one map")
        return z, None, None
    if isinstance(height, xr.DataArray) and spacing_um is None:
        try:
            return as_height(height)
        except Exception:  # noqa: BLE001 - a DataArray without pixel size still levels
            return np.asarray(height.values, dtype=np.float64), None, None
    return as_height(height, spacing_um)


def _design(ny: int, nx: int, order: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Polynomial terms x^i y^j (i + j <= order) on coordinates scaled to [-1, 1]."""
    y = np.linspace(-1.0, 1.0, ny)[:, None] * np.ones((1, nx))
    x = np.ones((ny, 1)) * np.linspace(-1.0, 1.0, nx)[None, :]
    powers = [(i, d - i) for d in range(order + 1) for i in range(d + 1)]
    cols = np.stack([(x**i * y**j).ravel() for i, j in powers], axis=1)
    return cols, powers


def level_plane(
    height: Any,
    *,
    order: int = 1,
    mask: np.ndarray | None = None,
    exclude: str = "above",
    k_sigma: float = 2.5,
    max_iter: int = 20,
    spacing_um: Any = None,
) -> dict[str, Any]:
    """Subtract a polynomial background fitted to the substrate, deposits masked out.

    Iterative: fit a polynomial of total degree ``order`` in x and y to the pixels
    in use (finite, not in ``mask``) by least squares; take the median m of their
    residuals and a robust scale σ — for ``exclude="above"`` (deposits, SEI ridges)
    1.4826 × the median distance below m of the residuals below m (the lower half is
    substrate even when deposits cover much of the map), for ``"both"`` 1.4826 · MAD;
    drop pixels more than ``k_sigma`` · σ above m (or away from m for ``"both"``);
    refit until the set of pixels in use stops changing (at most 0.01 % of the pixels
    flipping between two fits, which threshold-edge pixels can do for ever) or
    ``max_iter`` is reached. The
    whole map minus the final fit is returned, so deposits keep their heights above
    the substrate plane.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray, shape (ny, nx)
        Heights in nm (NaN = no data).
    order : int
        0 (offset), 1 (plane), 2 (bow), … up to 5.
    mask : numpy.ndarray of bool, optional
        Pixels never used for the fit (True = excluded), e.g. known deposits.
    exclude : {"above", "both", "none"}
        Which outliers the iterations drop; ``"none"`` = one plain least-squares fit.
    k_sigma : float
        Outlier threshold in robust standard deviations.
    max_iter : int
        Maximum refits.
    spacing_um : float or (dy, dx), optional
        Pixel size in µm when ``height`` is a plain array (only stored).

    Returns
    -------
    dict
        ``height`` (levelled DataArray, nm, or None), ``background`` (the subtracted
        fit, nm), ``fit_mask`` (bool, pixels used by the final fit), ``coefficients``
        (nm, on coordinates scaled to [-1, 1]; ``powers`` gives (i, j) of x^i y^j),
        ``n_fit``, ``excluded_fraction`` (of finite pixels), ``n_iter``,
        ``converged``, ``residual_sd_nm`` (robust σ of the fit residual), ``reason``
        (when the fit is impossible), ``warnings``.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:64, 0:64].astype(float)
    >>> z = 0.5 * xx - 0.2 * yy + 3.0                 # a tilted plane ...
    >>> z[20:30, 20:30] += 50.0                        # ... with one deposit
    >>> r = level_plane(z, order=1, spacing_um=0.1)
    >>> float(abs(r["height"].values[0, 0])) < 1e-9, round(float(r["height"].values[25, 25]), 6)
    (True, 50.0)
    """
    z, dy, dx = _spacing(height, spacing_um)
    if not isinstance(order, int | np.integer) or not 0 <= order <= 5:
        return {"height": None, "reason": f"order must be an integer 0–5, got {order!r}"}
    if exclude not in ("above", "both", "none"):
        return {"height": None, "reason": f"exclude must be above/both/none, got {exclude!r}"}
    ny, nx = z.shape
    cols, powers = _design(ny, nx, order)
    finite = np.isfinite(z).ravel()
    use = finite.copy()
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != z.shape:
            return {"height": None, "reason": f"mask shape {m.shape} differs from {z.shape}"}
        use &= ~m.ravel()
    need = _MIN_PIXELS_PER_TERM * len(powers)
    flat = z.ravel()
    warnings: list[dict[str, str]] = []
    coef = np.zeros(len(powers))
    sigma = float("nan")
    n_iter = 0
    converged = False
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter reported
        if int(use.sum()) < need:
            return {
                "height": None,
                "reason": f"only {int(use.sum())} pixels left for a {len(powers)}-term fit "
                f"(need {need}); too much of the map is masked or NaN",
            }
        coef, *_ = np.linalg.lstsq(cols[use], flat[use], rcond=None)
        resid = flat - cols @ coef
        r_use = resid[use]
        centre = float(np.median(r_use))
        if exclude == "above":
            # spread from the lower half only: deposits sit above the substrate, so the
            # lower half is substrate even when deposits cover a large part of the map
            sigma = 1.4826 * float(np.median(centre - r_use[r_use <= centre]))
        else:
            sigma = 1.4826 * float(np.median(np.abs(r_use - centre)))
        if exclude == "none":
            converged = True
            break
        if sigma == 0.0:
            sigma = float(np.std(r_use))
        if exclude == "above":
            bad = resid > centre + k_sigma * sigma
        else:
            bad = np.abs(resid - centre) > k_sigma * sigma
        new_use = finite & ~bad
        if mask is not None:
            new_use &= ~np.asarray(mask, dtype=bool).ravel()
        changed = int(np.count_nonzero(new_use != use))
        if changed <= max(0, int(1e-4 * finite.sum())):  # stable (≤ 0.01 % flipping)
            converged = True
            break
        use = new_use
    if not converged:
        warnings.append(
            warn(
                "levelling-not-converged",
                f"the masked polynomial fit did not settle in {max_iter} iterations; "
                "check the levelled map or give a deposit mask",
            )
        )
    background = (cols @ coef).reshape(ny, nx)
    excluded = 1.0 - use.sum() / max(int(finite.sum()), 1)
    if excluded > 0.5:
        warnings.append(
            warn(
                "levelling-mostly-masked",
                f"{excluded:.0%} of the map was excluded from the background fit; the substrate "
                "plane rests on few pixels",
            )
        )
    out = like(
        height, z - background, dy, dx, levelling=f"polynomial order {order}, exclude={exclude}"
    )
    return {
        "height": out,
        "background": background,
        "fit_mask": use.reshape(ny, nx),
        "coefficients": [float(c) for c in coef],
        "powers": powers,
        "n_fit": int(use.sum()),
        "excluded_fraction": float(excluded),
        "n_iter": int(n_iter),
        "converged": bool(converged),
        "residual_sd_nm": float(sigma),
        "warnings": warnings,
    }


def level_lines(
    height: Any,
    *,
    method: str = "median-difference",
    order: int = 1,
    mask: np.ndarray | None = None,
    spacing_um: Any = None,
) -> dict[str, Any]:
    """Remove scan-line (row) artefacts: offsets between rows ("scars") or per-row fits.

    Methods:

    - ``"median-difference"`` (default): the offset of row i relative to row i−1 is
      the median over columns of z[i] − z[i−1] (pixels finite and unmasked in both
      rows); offsets are accumulated down the image and subtracted, then their mean
      is added back. Real features spanning several rows survive (their row-to-row
      differences are not the median), unlike per-row mean/median subtraction.
    - ``"median"``: subtract each row's median (of unmasked pixels).
    - ``"poly"``: subtract each row's least-squares polynomial of degree ``order``
      (unmasked pixels), as NanoScope's "flatten".

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray, shape (ny, nx)
        Heights in nm (NaN = no data).
    method : {"median-difference", "median", "poly"}
        See above.
    order : int
        Polynomial degree for ``"poly"`` (0–3).
    mask : numpy.ndarray of bool, optional
        Pixels ignored when estimating the corrections (True = ignore).
    spacing_um : float or (dy, dx), optional
        Pixel size when ``height`` is an array (only carried along).

    Returns
    -------
    dict
        ``height`` (corrected DataArray, nm, or None), ``row_correction_nm`` (what was
        subtracted per row for the offset methods; per-row-and-column array for
        ``"poly"``), ``n_rows_estimated`` (rows with enough pixels), ``reason``,
        ``warnings``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((5, 40)); z += np.array([0, 3, 3, -2, 0])[:, None]   # row offsets
    >>> r = level_lines(z, spacing_um=0.1)
    >>> float(np.ptp(r["height"].values)) < 1e-12
    True
    """
    z, dy, dx = _spacing(height, spacing_um)
    ny, nx = z.shape
    ok = np.isfinite(z)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != z.shape:
            return {"height": None, "reason": f"mask shape {m.shape} differs from {z.shape}"}
        ok &= ~m
    warnings: list[dict[str, str]] = []
    if ny < 2 or nx < 3:
        return {"height": None, "reason": f"a {ny} × {nx} map is too small for row levelling"}
    if method == "median-difference":
        both = ok[1:] & ok[:-1]
        diff = np.where(both, z[1:] - z[:-1], np.nan)
        counts = both.sum(axis=1)
        with np.errstate(all="ignore"):
            step = np.nanmedian(np.where(counts[:, None] > 0, diff, 0.0), axis=1)
        thin = counts < max(3, nx // 10)
        step[thin] = 0.0  # too few shared pixels: leave the row as is (reported)
        offsets = np.concatenate([[0.0], np.cumsum(step)])
        offsets -= offsets.mean()
        corr = offsets[:, None]
        n_est = int(ny - thin.sum())
        if thin.any():
            warnings.append(
                warn(
                    "row-levelling-gaps",
                    f"{int(thin.sum())} row pairs share too few valid pixels; their offsets "
                    "were left uncorrected",
                )
            )
        row_corr: Any = offsets
    elif method == "median":
        counts = ok.sum(axis=1)
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(ok, z, np.nan), axis=1) if ok.any() else np.zeros(ny)
        med = np.where(counts >= 3, med, 0.0)
        corr = med[:, None]
        row_corr = med
        n_est = int((counts >= 3).sum())
    elif method == "poly":
        if not 0 <= int(order) <= 3:
            return {"height": None, "reason": f"order must be 0–3 for poly, got {order!r}"}
        x = np.linspace(-1.0, 1.0, nx)
        v = np.stack([x**k for k in range(int(order) + 1)], axis=1)  # (nx, k)
        w = ok.astype(np.float64)
        zz = np.where(ok, z, 0.0)
        a = np.einsum("rn,nk,nl->rkl", w, v, v)  # per-row normal matrices
        b = np.einsum("rn,nk->rk", w * zz, v)
        good = w.sum(axis=1) > 2 * (int(order) + 1)
        coef = np.zeros((ny, v.shape[1]))
        if good.any():
            coef[good] = np.linalg.solve(a[good], b[good][..., None])[..., 0]
        corr = coef @ v.T
        row_corr = corr
        n_est = int(good.sum())
    else:
        return {
            "height": None,
            "reason": f"method must be median-difference, median or poly, got {method!r}",
        }
    out = like(height, z - corr, dy, dx, line_levelling=method)
    return {
        "height": out,
        "row_correction_nm": row_corr,
        "n_rows_estimated": n_est,
        "warnings": warnings,
    }


def level_map(
    height: Any,
    *,
    line_method: str | None = "median-difference",
    order: int = 2,
    k_sigma: float = 2.5,
    passes: int = 3,
    mask_dilation_px: int = 2,
    spacing_um: Any = None,
) -> dict[str, Any]:
    """Rows, then background, with deposits masked out of both: the full levelling recipe.

    Pass 1: :func:`level_lines` (``line_method``) on all pixels, then
    :func:`level_plane` (``order``, ``exclude="above"``, ``k_sigma``). Each further
    pass repeats both on the raw map with the pixels the previous background fit
    excluded (dilated by ``mask_dilation_px``) left out of the row corrections too — a
    ridge running along the fast-scan direction otherwise shifts the median row
    difference and is partly "corrected" away (measured: Sq 5–10 % low on crowded
    maps with one pass, within 1–3 % after three; docs/afm.md).

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray
        Raw heights in nm.
    line_method : str or None
        :func:`level_lines` method, or None to skip the row step.
    order, k_sigma :
        :func:`level_plane` options.
    passes : int
        1–5.
    mask_dilation_px : int
        Growth of the deposit mask used by the row step.
    spacing_um : float or (dy, dx), optional
        Pixel size for plain arrays.

    Returns
    -------
    dict
        The last :func:`level_plane` result (``height`` None + ``reason`` on failure),
        plus ``line`` (the last :func:`level_lines` result) and ``passes``.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:64, 0:64].astype(float)
    >>> z = 0.2 * xx + np.repeat(np.arange(64.0) % 3, 64).reshape(64, 64)  # tilt + scars
    >>> z[:, 30:36] += 20.0                                                   # a ridge
    >>> r = level_map(z, order=1, spacing_um=0.05)
    >>> round(float(np.median(r["height"].values[:, 32])), 3), r["passes"]
    (20.0, 3)
    """
    from scipy.ndimage import binary_dilation

    mask = None
    result: dict[str, Any] = {"height": None, "reason": "no pass ran"}
    for n in range(1, max(1, min(int(passes), 5)) + 1):
        if line_method:
            line = level_lines(height, method=line_method, mask=mask, spacing_um=spacing_um)
            if line["height"] is None:
                return {"height": None, "reason": f"row levelling: {line['reason']}"}
        else:
            line = {"height": height}
        result = level_plane(line["height"], order=order, k_sigma=k_sigma, spacing_um=spacing_um)
        result["line"] = line
        result["passes"] = n
        if result["height"] is None:
            return result
        excluded = ~result["fit_mask"]
        if mask_dilation_px > 0:
            excluded = binary_dilation(excluded, iterations=int(mask_dilation_px))
        mask = excluded
    return result
