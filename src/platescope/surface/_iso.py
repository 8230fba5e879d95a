"""ISO 25178-2 areal height and hybrid parameters of a levelled height map."""

from __future__ import annotations

from typing import Any

import numpy as np

from platescope.surface._common import as_height, warn

__all__ = ["areal_parameters", "tile_sq_err"]

_MIN_PIXELS = 16

#: Units of the keys :func:`areal_parameters` returns.
UNITS = {
    "Sa_nm": "nm",
    "Sq_nm": "nm",
    "Ssk": "1",
    "Sku": "1",
    "Sp_nm": "nm",
    "Sv_nm": "nm",
    "Sz_nm": "nm",
    "Sdr_percent": "%",
}


def areal_parameters(
    height: Any, *, mask: np.ndarray | None = None, spacing_um: Any = None
) -> dict[str, Any]:
    """ISO 25178-2 areal parameters Sa, Sq, Ssk, Sku, Sp, Sv, Sz and Sdr.

    Computed on the map as given (level it first: :func:`level_plane`), over the
    pixels that are finite and not in ``mask``, with the mean of those pixels as
    the reference plane, z' = z − mean(z) (ISO 25178-2, sections 4.1–4.2; discrete
    sums replace the integrals over the definition area A):

    - Sa = mean |z'|; Sq = √(mean z'²)
    - Ssk = mean z'³ / Sq³; Sku = mean z'⁴ / Sq⁴
    - Sp = max z' (highest peak); Sv = −min z' (deepest pit, positive); Sz = Sp + Sv
      (ISO 25178-2 defines Sz as the maximum height, Sp + Sv)
    - Sdr = (1/A) ∫∫ (√(1 + (∂z/∂x)² + (∂z/∂y)²) − 1) dx dy × 100 % (section 4.3.2),
      the developed interfacial area ratio, with the gradients from central
      differences (``numpy.gradient``, one-sided at the edges) in nm/nm; pixels
      whose gradient touches a NaN or masked pixel are left out of the mean.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray, shape (ny, nx)
        Levelled heights in nm.
    mask : numpy.ndarray of bool, optional
        Pixels to leave out (True = out).
    spacing_um : float or (dy, dx), optional
        Pixel size in µm when ``height`` is an array (needed for Sdr).

    Returns
    -------
    dict
        ``Sa_nm``, ``Sq_nm``, ``Ssk``, ``Sku``, ``Sp_nm``, ``Sv_nm``, ``Sz_nm``,
        ``Sdr_percent`` (None with ``<key>_reason`` when undefined), ``n_pixels``
        (used), ``n_excluded`` (NaN or masked), ``noise_sd_nm`` (white-noise estimate,
        Immerkær 1996), ``Sdr_noise_percent`` (what that noise adds to Sdr), ``units``,
        ``reason`` (when nothing can be computed), ``warnings`` (``map-not-levelled``
        when a plane explains more than half the variance; ``sdr-noise-inflated`` when
        noise adds more than 5 % of Sdr).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.tile([1.0, -1.0], (8, 8))        # a ±1 nm square wave
    >>> p = areal_parameters(z, spacing_um=0.01)
    >>> p["Sa_nm"], p["Sq_nm"], p["Ssk"], p["Sku"], p["Sz_nm"]
    (1.0, 1.0, 0.0, 1.0, 2.0)
    """
    z, dy, dx = as_height(height, spacing_um)
    use = np.isfinite(z)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != z.shape:
            return {"reason": f"mask shape {m.shape} differs from the map {z.shape}"}
        use &= ~m
    n = int(use.sum())
    keys = list(UNITS)
    if n < _MIN_PIXELS:
        return {
            **dict.fromkeys(keys),
            "n_pixels": n,
            "n_excluded": int(z.size - n),
            "units": UNITS,
            "reason": f"only {n} valid pixels (need ≥ {_MIN_PIXELS})",
        }
    v = z[use]
    zc = v - v.mean()
    sq = float(np.sqrt(np.mean(zc**2)))
    out: dict[str, Any] = {
        "Sa_nm": float(np.mean(np.abs(zc))),
        "Sq_nm": sq,
        "Ssk": None,
        "Sku": None,
        "Sp_nm": float(zc.max()),
        "Sv_nm": float(-zc.min()),
    }
    out["Sz_nm"] = out["Sp_nm"] + out["Sv_nm"]
    scale = max(float(np.max(np.abs(v))), 1.0)
    if sq <= 1e-12 * scale:
        out["Ssk_reason"] = out["Sku_reason"] = "flat map (Sq = 0): moments undefined"
    else:
        out["Ssk"] = float(np.mean(zc**3) / sq**3)
        out["Sku"] = float(np.mean(zc**4) / sq**4)
    zz = np.where(use, z, np.nan)
    gy, gx = np.gradient(zz, dy * 1e3, dx * 1e3)  # nm per nm
    ok = np.isfinite(gx) & np.isfinite(gy)
    if ok.sum() < _MIN_PIXELS:
        out["Sdr_percent"] = None
        out["Sdr_percent_reason"] = "too few pixels with both neighbours valid for gradients"
    else:
        out["Sdr_percent"] = float(np.mean(np.sqrt(1 + gx[ok] ** 2 + gy[ok] ** 2) - 1) * 100)
    out["n_pixels"] = n
    out["n_excluded"] = int(z.size - n)
    out["units"] = UNITS
    warnings = []
    noise = _noise_sd(zz)
    out["noise_sd_nm"] = noise
    if noise is not None and out["Sdr_percent"]:
        # white noise σ adds ≈ ½(σ²/(2dx²) + σ²/(2dy²)) to the mean of √(1+|∇z|²) − 1
        inflation = 0.5 * (noise**2 / (2 * (dx * 1e3) ** 2) + noise**2 / (2 * (dy * 1e3) ** 2))
        out["Sdr_noise_percent"] = float(100 * inflation)
        if 100 * inflation > 0.05 * out["Sdr_percent"]:
            warnings.append(
                warn(
                    "sdr-noise-inflated",
                    f"pixel noise (≈ {noise:.2g} nm, estimated) adds about "
                    f"{100 * inflation:.2g} % to Sdr = {out['Sdr_percent']:.2g} %; compare Sdr "
                    "only between maps of equal noise and pixel size, or smooth first",
                )
            )
    if sq > 0:
        ny, nx = z.shape
        yy, xx = np.mgrid[0:ny, 0:nx]
        a = np.stack([np.ones(n), xx[use], yy[use]], axis=1).astype(np.float64)
        coef, *_ = np.linalg.lstsq(a, v, rcond=None)
        explained = 1 - np.var(v - a @ coef) / np.var(v)
        if explained > 0.5:
            warnings.append(
                warn(
                    "map-not-levelled",
                    f"a plane explains {explained:.0%} of the height variance: the roughness "
                    "mostly measures tilt; level the map first (level_plane)",
                )
            )
    out["warnings"] = warnings
    return out


def _noise_sd(z: np.ndarray) -> float | None:
    """White-noise sd by Immerkær (1996): σ = √(π/2) · mean|z * N| / 6, N the 3 × 3
    difference-of-Laplacians mask, over pixels whose 3 × 3 neighbourhood is valid.
    Smooth texture contributes little; sharp edges make it an upper bound."""
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)
    ny, nx = z.shape
    if ny < 3 or nx < 3:
        return None
    acc = np.zeros((ny - 2, nx - 2))
    for i in range(3):
        for j in range(3):
            acc += k[i, j] * z[i : i + ny - 2, j : j + nx - 2]
    v = np.abs(acc[np.isfinite(acc)])
    if v.size < 16:
        return None
    return float(np.sqrt(np.pi / 2) * v.mean() / 6)


def tile_sq_err(height: Any, *, tiles: int = 4, mask: np.ndarray | None = None) -> dict[str, Any]:
    """Standard error of Sq from its spread over ``tiles × tiles`` sub-areas.

    Each tile's mean square of z' = z − mean(z) (the global reference plane, so the
    tiles' mean squares average to Sq²); SE(Sq²) = sd(tile mean squares)/√n_tiles
    and, by the delta method, SE(Sq) = SE(Sq²) / (2 Sq). This is the sampling
    uncertainty of Sq for this field of view (how much another area alike would
    differ), not an instrument error.

    Parameters
    ----------
    height : xarray.DataArray or numpy.ndarray
        Levelled heights in nm.
    tiles : int
        Tiles per side (≥ 2).
    mask : numpy.ndarray of bool, optional
        Pixels to leave out.

    Returns
    -------
    dict
        ``Sq_err_nm`` (or None), ``n_tiles`` (tiles with ≥ 16 valid pixels), ``reason``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(0, 2.0, (64, 64))
    >>> r = tile_sq_err(z)
    >>> 0 < r["Sq_err_nm"] < 0.1
    True
    """
    z = np.asarray(getattr(height, "values", height), dtype=np.float64)
    use = np.isfinite(z)
    if mask is not None:
        use &= ~np.asarray(mask, dtype=bool)
    if use.sum() < 16 * tiles * tiles or tiles < 2:
        return {"Sq_err_nm": None, "n_tiles": 0, "reason": "too few pixels for tiles"}
    zc = np.where(use, z - z[use].mean(), np.nan)
    ny, nx = z.shape
    ey = np.linspace(0, ny, tiles + 1).astype(int)
    ex = np.linspace(0, nx, tiles + 1).astype(int)
    ms = []
    for i in range(tiles):
        for j in range(tiles):
            t = zc[ey[i] : ey[i + 1], ex[j] : ex[j + 1]]
            if np.isfinite(t).sum() >= 16:
                ms.append(np.nanmean(t**2))
    ms_arr = np.asarray(ms)
    if ms_arr.size < 4:
        return {"Sq_err_nm": None, "n_tiles": int(ms_arr.size), "reason": "fewer than 4 tiles"}
    sq = float(np.sqrt(np.nanmean(zc**2)))
    if sq == 0:
        return {"Sq_err_nm": 0.0, "n_tiles": int(ms_arr.size)}
    se_ms = float(np.std(ms_arr, ddof=1) / np.sqrt(ms_arr.size))
    return {"Sq_err_nm": se_ms / (2 * sq), "n_tiles": int(ms_arr.size)}
