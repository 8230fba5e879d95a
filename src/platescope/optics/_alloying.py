"""Optical quantities of see-through alloying movies (SCIENCE.md §1).

- :func:`transmittance` T = I/I₀ and :func:`relative_reflectivity` R/R₀ (I₀ / R₀: the
  mean of reference frames, e.g. those recorded before the current starts);
  :func:`absorbance` A = −log₁₀ T. All stay lazy on dask input (xarray arithmetic).
- :func:`onset_map` — per pixel, the time the normalised absorbance of a stage crosses
  a level (0.5 by default), sub-frame, on the real frame times.
- :func:`alloyed_fraction` — fraction of the area past its onset vs time.
- :func:`extreme_regions` — the automatically found first ("Area Init") and last
  ("Area Fnl") alloying regions; :func:`regional_curves` — their mean normalised
  absorbance beside the whole field's.
- :func:`complementarity` — Pearson r between the regions still unalloyed at the middle
  of one step and the regions alloyed at the middle of the next.
- :func:`temporal_color_code` — colour by time through a LUT + maximum projection
  (as Fiji's Temporal-Color Code).
- :func:`montage_frames` — evenly spaced frames of a window, normalised together to
  the row's own range.

Onset estimator. Within the window [t_a, t_b] each pixel's absorbance (optionally
blurred by ``sigma_um``) is normalised to 0 at the window's start and 1 at its end
(means of the first/last ``n_edge`` frames). Its onset is t₀ + (time the linearly
interpolated curve spends below the level), t₀ the first frame in the window. For a
monotone curve this is exactly the interpolated first crossing; for a noisy one it
averages over noise-induced re-crossings instead of taking the first. Pixels whose
rise is below ``min_rise`` of the median rise or below ``min_snr`` times its noise
(nothing alloyed there) get NaN — a window where nothing alloys gives an all-NaN map.
Measured on the see-through simulators: docs/see_through.md.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope._movie_model import _frame_image

__all__ = [
    "absorbance",
    "alloyed_fraction",
    "complementarity",
    "extreme_regions",
    "montage_frames",
    "normalize_window",
    "onset_map",
    "regional_curves",
    "relative_reflectivity",
    "temporal_color_code",
    "transmittance",
]


def _check(movie, name="movie") -> None:
    if not isinstance(movie, xr.DataArray) or tuple(movie.dims) != ("t", "y", "x"):
        raise InputError(
            getattr(movie, "attrs", {}).get("source"),
            f"{name} must be an xarray.DataArray with dims ('t', 'y', 'x')",
            "read it with platescope.io.read_movie",
        )
    if movie.sizes["t"] < 2:
        raise InputError(
            movie.attrs.get("source"), f"{name} has fewer than 2 frames", "give a movie"
        )


def _reference(movie: xr.DataArray, t_ref_s: float | None, n_ref: int) -> xr.DataArray:
    t = movie.t.values
    if t_ref_s is not None:
        sel = t < t_ref_s
        if not sel.any():
            raise InputError(
                movie.attrs.get("source"),
                f"no frame before the reference time {t_ref_s:g} s (first frame at {t[0]:g} s)",
                "start the recording before the current, or give n_ref frames instead",
            )
        ref = movie.isel(t=np.flatnonzero(sel))
    else:
        ref = movie.isel(t=slice(0, max(int(n_ref), 1)))
    ref = ref.astype(np.float32).mean("t")
    if hasattr(ref.data, "dask"):
        # computed once, here (a (y, x) image from the reference frames): left lazy,
        # every chunk of the result computed on its own would read those frames again
        ref = ref.copy(data=np.asarray(ref.data.compute()))
    return ref


def transmittance(
    movie: xr.DataArray, *, t_ref_s: float | None = None, n_ref: int = 1
) -> xr.DataArray:
    """T = I/I₀ per pixel (trans-illumination), float32.

    Parameters
    ----------
    movie : xarray.DataArray
        Trans movie, dims ``("t", "y", "x")``, counts; may be dask-backed (the result
        stays lazy; I₀, one image, is computed here: the reference frames are read
        once).
    t_ref_s : float, optional
        I₀ is the mean of the frames before this time (s, movie coordinate).
    n_ref : int
        Else I₀ is the mean of the first ``n_ref`` frames.

    Returns
    -------
    xarray.DataArray
        T (dimensionless), same dims and coordinates; pixels with I₀ ≤ 0 are NaN.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.array([[[100.0]], [[50.0]]]), dims=("t", "y", "x"),
    ...                  coords={"t": [0.0, 1.0], "y": [0.0], "x": [0.0]})
    >>> float(transmittance(m)[1, 0, 0])
    0.5
    """
    _check(movie)
    ref = _reference(movie, t_ref_s, n_ref)
    out = movie.astype(np.float32) / ref.where(ref > 0)
    out.attrs = {**movie.attrs, "units": "1", "quantity": "transmittance T = I/I0"}
    return out.rename("transmittance")


def relative_reflectivity(
    movie: xr.DataArray, *, t_ref_s: float | None = None, n_ref: int = 1
) -> xr.DataArray:
    """R/R₀ per pixel (epi-illumination), float32; see :func:`transmittance`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.array([[[100.0]], [[150.0]]]), dims=("t", "y", "x"),
    ...                  coords={"t": [0.0, 1.0], "y": [0.0], "x": [0.0]})
    >>> float(relative_reflectivity(m)[1, 0, 0])
    1.5
    """
    out = transmittance(movie, t_ref_s=t_ref_s, n_ref=n_ref)
    out.attrs["quantity"] = "relative reflectivity R/R0"
    return out.rename("relative_reflectivity")


def absorbance(transmittance_movie: xr.DataArray) -> xr.DataArray:
    """A = −log₁₀ T (T ≤ 0 → NaN), float32, lazy on dask input.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> T = xr.DataArray(np.full((2, 1, 1), 0.1), dims=("t", "y", "x"))
    >>> float(absorbance(T)[0, 0, 0])
    1.0
    """
    T = transmittance_movie
    out = -np.log10(T.where(T > 0)).astype(np.float32)
    out.attrs = {**T.attrs, "units": "1", "quantity": "absorbance A = -log10 T"}
    return out.rename("absorbance")


def _window(movie: xr.DataArray, t_start_s: float, t_end_s: float) -> xr.DataArray:
    t = movie.t.values
    sel = np.flatnonzero((t >= t_start_s) & (t <= t_end_s))
    if sel.size < 4:
        raise InputError(
            movie.attrs.get("source"),
            f"only {sel.size} frames between {t_start_s:.3g} and {t_end_s:.3g} s",
            "a stage needs at least 4 frames: record faster or choose a longer window",
        )
    if sel[-1] - sel[0] + 1 == sel.size:  # a run of frames: a view, not a copy
        return movie.isel(t=slice(int(sel[0]), int(sel[-1]) + 1))
    return movie.isel(t=sel)


def _blur(win: xr.DataArray, sigma_um: float) -> xr.DataArray:
    if not sigma_um:
        return win
    from platescope.optics._preprocess import gaussian_blur

    return gaussian_blur(win, sigma_um=sigma_um)


def normalize_window(
    absorbance_movie: xr.DataArray,
    *,
    t_start_s: float,
    t_end_s: float,
    n_edge: int = 3,
    sigma_um: float = 0.0,
) -> xr.DataArray:
    """Per-pixel normalised absorbance in a window: 0 at its start, 1 at its end.

    Parameters
    ----------
    absorbance_movie : xarray.DataArray
        A(t, y, x) (e.g. from :func:`absorbance`), t in s.
    t_start_s, t_end_s : float
        Window (s).
    n_edge : int
        Frames averaged at each end for the 0 and 1 levels.
    sigma_um : float
        Optional Gaussian blur per frame (µm) before normalising.

    Returns
    -------
    xarray.DataArray
        The window's frames, normalised (pixels with no change are NaN).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> a = xr.DataArray(np.linspace(0, 2, 10)[:, None, None], dims=("t", "y", "x"),
    ...                  coords={"t": np.arange(10.0)})
    >>> float(normalize_window(a, t_start_s=0, t_end_s=9, n_edge=1)[-1, 0, 0])
    1.0
    """
    win = _blur(_window(absorbance_movie, t_start_s, t_end_s), sigma_um)
    n = max(1, min(int(n_edge), win.sizes["t"] // 3))
    a0 = win.isel(t=slice(0, n)).mean("t")
    a1 = win.isel(t=slice(-n, None)).mean("t")
    rise = a1 - a0
    out = (win - a0) / rise.where(rise != 0)
    out.attrs = {**absorbance_movie.attrs, "quantity": "normalised absorbance"}
    return out.astype(np.float32)


def _time_below(a: np.ndarray, t: np.ndarray, level: float) -> np.ndarray:
    """Σ over frame intervals of the time the linear interpolant of a is < level.

    ``a`` has time as its LAST axis.
    """
    a0, a1 = a[..., :-1], a[..., 1:]
    dt = np.diff(t).astype(np.float64)
    below0, below1 = a0 < level, a1 < level
    with np.errstate(invalid="ignore", divide="ignore"):
        frac_cross = (level - a0) / (a1 - a0)  # where the crossing sits in the interval
    frac = np.where(
        below0 & below1,
        1.0,
        np.where(
            below0 & ~below1,
            frac_cross,
            np.where(~below0 & below1, 1.0 - frac_cross, 0.0),
        ),
    )
    return np.sum(np.clip(frac, 0.0, 1.0) * dt, axis=-1)


def _onset_kernel(
    block: np.ndarray, *, t: np.ndarray, level: float, n_edge: int, min_rise, min_snr: float
):
    """Onset of a block with time as the last axis → (block.shape[:-1]) float32.

    Compiled per pixel when numba is available (:mod:`platescope.optics._kernels`:
    the same float64 arithmetic in the same order, numpy's pairwise summation
    included, so the maps are bit-identical); this numpy code otherwise."""
    from platescope.optics import _kernels

    n = max(1, min(int(n_edge), block.shape[-1] // 3))
    fast = _kernels.onset_numba(block, t=t, level=level, n=n, min_rise=min_rise, min_snr=min_snr)
    if fast is not None:
        return fast
    block = np.asarray(block, dtype=np.float64)  # as the compiled kernel computes
    a0 = np.nanmean(block[..., :n], axis=-1)
    a1 = np.nanmean(block[..., -n:], axis=-1)
    rise = a1 - a0
    # per-pixel white noise from the frame-to-frame differences (MAD ignores the step);
    # the rise must stand out of the noise of the two end means
    d = np.diff(block, axis=-1)
    sd = 1.4826 * np.nanmedian(np.abs(d - np.nanmedian(d, axis=-1, keepdims=True)), axis=-1)
    sd = sd / np.sqrt(2.0)
    weak = rise < min_snr * sd * np.sqrt(2.0 / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = (block - a0[..., None]) / rise[..., None]
    out = t[0] + _time_below(a, t, level)
    bad = ~np.isfinite(rise) | (rise <= min_rise) | weak | ~np.all(np.isfinite(block), axis=-1)
    return np.where(bad, np.nan, out).astype(np.float32)


def _rise_image(win: xr.DataArray, n: int) -> np.ndarray:
    """Mean of the last ``n`` frames − mean of the first ``n`` (NaN skipped) of the
    in-memory window (dims ``t``, ``y``, ``x`` in any order; the image is ``(y, x)``),
    as xarray's ``mean("t")`` gives it, without its NaN-skipping copies: a plain mean
    (the same float operations as ``np.nanmean`` where no value is NaN);
    ``np.nanmean`` when some value is NaN."""
    a = win.data
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        rise = win.isel(t=slice(-n, None)).mean("t") - win.isel(t=slice(0, n)).mean("t")
        return rise.transpose("y", "x").values
    a = a.transpose(win.get_axis_num(("y", "x", "t")))  # a view: the same memory order
    # float32/64, < 8 frames, frames the outermost axis in memory: numpy's mean over
    # them is b₀ + b₁ + … in frame order (a copy of the first, then each added,
    # elementwise), divided by n — done here frame by frame on whole (y, x) images,
    # which reads them in long runs (≈ 2× faster; the same floats)
    st = [abs(v) for v in a.strides]
    by_frame = a.dtype in (np.float32, np.float64) and n < 8 and st[2] >= max(st[0], st[1])

    def mean(b):
        if by_frame:
            m = b[..., 0].copy()
            for i in range(1, b.shape[-1]):
                m += b[..., i]
            m /= b.shape[-1]
        else:
            m = b.mean(axis=-1)
        if b.dtype.kind == "f":
            if np.isnan(m).any():
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels
                    m = np.nanmean(b, axis=-1)
        return m

    return mean(a[..., -n:]) - mean(a[..., :n])


def _nanmedian(values: np.ndarray) -> float:
    """``np.nanmedian`` of an array, the same value, ≈ 5–10× faster for large ones.

    ``np.median`` partitions around both middle ranks at once (``kth=[k − 1, k]``),
    which numpy does ≈ 7× slower than around one; here one partition around rank
    ``k`` and the maximum below it give the same two middle values (order statistics
    do not depend on the arrangement), averaged by the same ``np.mean`` call numpy's
    median makes. All-NaN or empty input: ``np.nanmedian`` itself (its warning)."""
    v = np.ravel(values)
    if v.dtype.kind != "f" or v.size < 2:
        return float(np.nanmedian(v))
    nan = np.isnan(v)
    if nan.any():
        v = v[~nan]
        if v.size < 2:
            return float(np.nanmedian(values))
    k = v.size // 2
    part = np.partition(v, k)  # a copy; rank k in place, every value before it ≤ it
    if v.size % 2:
        return float(np.mean(part[k : k + 1]))
    return float(np.mean(np.array([part[:k].max(), part[k]], dtype=part.dtype)))


def onset_map(
    absorbance_movie: xr.DataArray,
    *,
    t_start_s: float,
    t_end_s: float,
    level: float = 0.5,
    n_edge: int = 3,
    sigma_um: float = 0.08,
    min_rise: float = 0.25,
    min_snr: float = 5.0,
    chunk_px: int = 65536,
) -> xr.DataArray:
    """Per-pixel time at which the normalised absorbance of a window crosses ``level``.

    Parameters
    ----------
    absorbance_movie : xarray.DataArray
        A(t, y, x) with real frame times ``t`` (s). May be dask-backed: the result is
        then lazy (one block per spatial chunk; the window's frames are one chunk).
    t_start_s, t_end_s : float
        The stage window, s (on the movie's time axis).
    level : float
        Normalised level in (0, 1).
    n_edge : int
        Frames averaged at each end of the window for the 0 and 1 levels.
    sigma_um : float
        Gaussian blur per frame before the estimate, µm (0: none).
    min_rise : float
        Pixels whose rise (A_end − A_start) is below ``min_rise`` × the median rise of
        the field get NaN (nothing alloyed there: pores, dead pixels).
    min_snr : float
        Pixels whose rise is below ``min_snr`` times its noise (per-pixel white noise
        from the MAD of frame-to-frame differences, for the means of ``n_edge`` frames)
        get NaN, so a window where nothing alloys yields an all-NaN map, not invented
        onsets.
    chunk_px : int
        Pixels per block in the in-memory path (flat memory).

    Returns
    -------
    xarray.DataArray
        Onset time (s), dims ``("y", "x")``, float32; NaN where undefined.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = np.arange(0.0, 20.0)
    >>> tau = np.array([[5.3, 12.8]])
    >>> A = 1 / (1 + np.exp(-(t[:, None, None] - tau) / 0.7))
    >>> m = xr.DataArray(A, dims=("t", "y", "x"), coords={"t": t})
    >>> np.round(onset_map(m, t_start_s=0, t_end_s=19, sigma_um=0).values.astype(float), 1).tolist()
    [[5.3, 12.8]]
    """
    _check(absorbance_movie, "absorbance_movie")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    win = _blur(_window(absorbance_movie, t_start_s, t_end_s), sigma_um)
    t = np.asarray(win.t.values, float)
    # the median rise sets the absolute threshold (a scalar computed up front)
    n = max(1, min(int(n_edge), t.size // 3))
    if win.chunks is not None:
        import dask.array as da

        win = win.transpose("y", "x", "t")

        rise_img = win.isel(t=slice(-n, None)).mean("t") - win.isel(t=slice(0, n)).mean("t")

        med = da.nanmedian(rise_img.data.ravel(), axis=0)
        data = win.data.rechunk({2: -1})
        res = data.map_blocks(
            lambda b, m: _onset_kernel(
                b, t=t, level=level, n_edge=n_edge, min_rise=min_rise * m, min_snr=min_snr
            ),
            med,
            drop_axis=2,
            dtype=np.float32,
        )
    else:
        med = _nanmedian(_rise_image(win, n))
        from platescope.optics import _kernels

        # compiled: the (t, y, x) frames as they are, no transposed or float64 copy
        # (numpy views: an xarray transpose costs ≈ 0.1–0.2 ms per call)
        tyx = win.values.transpose(win.get_axis_num(("t", "y", "x")))
        n_use = max(1, min(int(n_edge), t.size // 3))
        fast = _kernels.onset_numba_movie(
            tyx,
            t=t,
            level=level,
            n=n_use,
            min_rise=min_rise * med,
            min_snr=min_snr,
        )
        if fast is not None:
            res = fast
        else:  # numpy, in blocks of chunk_px pixels
            arr = tyx.transpose(1, 2, 0)  # (y, x, t)
            flat = arr.reshape(-1, t.size)
            res = np.empty(flat.shape[0], np.float32)
            step = max(1, int(chunk_px))
            for i0 in range(0, flat.shape[0], step):
                res[i0 : i0 + step] = _onset_kernel(
                    flat[i0 : i0 + step].astype(np.float64),
                    t=t,
                    level=level,
                    n_edge=n_edge,
                    min_rise=min_rise * med,
                    min_snr=min_snr,
                )
            res = res.reshape(arr.shape[:2])
    attrs = {
        "units": "s",
        "level": level,
        "window_s": [float(t_start_s), float(t_end_s)],
        "source": absorbance_movie.attrs.get("source"),
    }
    if "y" in win.coords and "x" in win.coords:  # the same result, without re-indexing
        return _frame_image(win, res, name="onset_s", attrs=attrs)
    # no y/x coordinate on the movie: the result gets the default ones (0 … n−1)
    return xr.DataArray(
        res, dims=("y", "x"), coords={"y": win.y, "x": win.x}, name="onset_s", attrs=attrs
    )


def alloyed_fraction(onset: Any, times_s: Any) -> pd.DataFrame:
    """Fraction of the (finite) area whose onset is ≤ t, for each t.

    Parameters
    ----------
    onset : array_like or xarray.DataArray, (y, x)
        Onset map, s (NaN = never).
    times_s : array_like
        Times, s.

    Returns
    -------
    pandas.DataFrame
        ``t_s``, ``fraction`` (0..1 of the pixels with a finite onset).

    Examples
    --------
    >>> alloyed_fraction([[1.0, 2.0], [3.0, 4.0]], [0, 2.5, 5])["fraction"].tolist()
    [0.0, 0.5, 1.0]
    """
    v = np.asarray(getattr(onset, "values", onset), float).ravel()
    v = np.sort(v[np.isfinite(v)])
    ts = np.asarray(times_s, float)
    frac = (
        np.searchsorted(v, ts, side="right") / max(v.size, 1)
        if v.size
        else np.full(ts.shape, np.nan)
    )
    return pd.DataFrame({"t_s": ts, "fraction": frac})


def extreme_regions(
    onset: xr.DataArray | np.ndarray, *, fraction: float = 0.1, sigma_px: float = 1.5
) -> dict[str, np.ndarray]:
    """The first- and last-alloying regions ("Area Init", "Area Fnl") of an onset map.

    The map is smoothed (Gaussian, ``sigma_px``, NaN-aware) so regions are contiguous;
    ``init`` = pixels in its earliest ``fraction``, ``fnl`` = its latest ``fraction``.

    Returns
    -------
    dict
        ``{"init": bool (y, x), "fnl": bool (y, x)}``.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.arange(100.0).reshape(10, 10)
    >>> r = extreme_regions(m, fraction=0.1, sigma_px=0)
    >>> int(r["init"].sum()), bool(r["fnl"][9, 9])
    (10, True)
    """
    v = np.asarray(getattr(onset, "values", onset), float)
    ok = np.isfinite(v)
    if ok.sum() < 10:
        raise ValueError("the onset map has fewer than 10 finite pixels")
    if sigma_px:
        w = ndimage.gaussian_filter(ok.astype(float), sigma_px)
        s = ndimage.gaussian_filter(np.where(ok, v, 0.0), sigma_px)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(ok, s / w, np.nan)
    lo, hi = np.nanquantile(v, [fraction, 1 - fraction])
    return {"init": ok & (v <= lo), "fnl": ok & (v >= hi)}


def regional_curves(normalized: xr.DataArray, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """Mean normalised absorbance per frame for the whole field and each region.

    Parameters
    ----------
    normalized : xarray.DataArray
        Normalised absorbance of a window (:func:`normalize_window`), dims (t, y, x).
    masks : dict
        Region name → bool (y, x).

    Returns
    -------
    pandas.DataFrame
        ``t_s``, ``mean`` and one column per region.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> a = xr.DataArray(np.ones((2, 2, 2)), dims=("t", "y", "x"), coords={"t": [0., 1.]})
    >>> regional_curves(a, {"init": np.eye(2, dtype=bool)})["init"].tolist()
    [1.0, 1.0]
    """
    out = {"t_s": np.asarray(normalized.t.values, float)}
    out["mean"] = np.asarray(normalized.mean(("y", "x"), skipna=True).values, float)
    for name, m in masks.items():
        mk = xr.DataArray(np.asarray(m, bool), dims=("y", "x"))
        out[name] = np.asarray(normalized.where(mk).mean(("y", "x"), skipna=True).values, float)
    return pd.DataFrame(out)


def complementarity(onset_a: Any, onset_b: Any) -> dict[str, Any]:
    """How the regions left at the middle of step a match those first in step b.

    ``late_a`` = pixels whose step-a onset is after the median (still unalloyed at the
    middle of step a); ``early_b`` = pixels whose step-b onset is at or before the
    median (alloyed at the middle of step b). r = Pearson's r of the two binary masks
    over the pixels where both onsets are finite (``platescope.stats.pearson_r``).
    ``r_continuous`` = Pearson's r of onset_a and −onset_b.

    Returns
    -------
    dict
        ``r``, ``r_continuous``, ``n_pixels``, ``definition``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(16.0).reshape(4, 4)
    >>> round(complementarity(a, -a)["r"], 6)
    1.0
    """
    from platescope.stats import pearson_r

    a = np.asarray(getattr(onset_a, "values", onset_a), float)
    b = np.asarray(getattr(onset_b, "values", onset_b), float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return {
            "r": None,
            "r_continuous": None,
            "n_pixels": int(ok.sum()),
            "reason": "fewer than 10 pixels with both onsets",
        }
    late_a = (a > np.median(a[ok])).astype(float)
    early_b = (b <= np.median(b[ok])).astype(float)
    return {
        "r": float(pearson_r(late_a, early_b, mask=ok)),
        "r_continuous": float(
            pearson_r(np.where(ok, a, np.nan), np.where(ok, -b, np.nan), mask=ok)
        ),
        "n_pixels": int(ok.sum()),
        "definition": "Pearson r of (onset_a > median) and (onset_b ≤ median)",
    }


def temporal_color_code(
    stack: xr.DataArray,
    *,
    cmap: str = "viridis",
    clip_percentile: float = 99.5,
    noise_floor: float = 0.0,
) -> xr.DataArray:
    """Colour each frame by its time through a LUT and take the maximum projection.

    As Fiji's Temporal-Color Code: frame k's grey value g_k (scaled to 0..1 by the
    ``clip_percentile`` of the whole stack after subtracting ``noise_floor``, negatives
    → 0) multiplies the LUT colour of its time; the RGB result is the per-channel
    maximum over frames.

    Parameters
    ----------
    stack : xarray.DataArray
        What to code, dims (t, y, x) (e.g. the per-frame increase of absorbance).
    cmap : str
        Matplotlib colormap name (the LUT).
    clip_percentile : float
        Percentile of the stack mapped to full brightness.
    noise_floor : float
        Subtracted from every value first (same units as the stack), so noise does not
        colour the image.

    Returns
    -------
    xarray.DataArray
        RGB image, dims ``("y", "x", "rgb")``, float32 in 0..1; ``attrs["t_range_s"]``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> s = xr.DataArray(np.eye(3)[:, None, :], dims=("t", "y", "x"),
    ...                  coords={"t": [0.0, 1.0, 2.0]})
    >>> temporal_color_code(s).shape
    (1, 3, 3)
    """
    from matplotlib import colormaps

    _check(stack, "stack")
    t = np.asarray(stack.t.values, float)
    lut = colormaps[cmap]
    tn = (t - t[0]) / max(t[-1] - t[0], 1e-12)
    cols = lut(tn)[:, :3].astype(np.float32)
    v = np.asarray(stack.values, np.float32) - np.float32(noise_floor)
    top = float(np.nanpercentile(v, clip_percentile)) if np.isfinite(v).any() else 1.0
    top = top if top > 0 else 1.0
    out = np.zeros((*v.shape[1:], 3), np.float32)
    for k in range(v.shape[0]):
        g = np.clip(np.nan_to_num(v[k] / top), 0.0, 1.0)
        np.maximum(out, g[..., None] * cols[k], out=out)
    return xr.DataArray(
        out,
        dims=("y", "x", "rgb"),
        coords={"y": stack.y, "x": stack.x, "rgb": ["r", "g", "b"]},
        attrs={"t_range_s": [float(t[0]), float(t[-1])], "cmap": cmap},
    )


def _montage_indices(movie: xr.DataArray, t_start_s: float, t_end_s: float, n: int) -> np.ndarray:
    """The frames (indices into ``movie``) :func:`montage_frames` shows for a window."""
    t = movie.t.values
    _window(movie, t_start_s, t_end_s)  # the same checks (at least 4 frames)
    sel = np.flatnonzero((t >= t_start_s) & (t <= t_end_s))
    return sel[np.unique(np.linspace(0, sel.size - 1, n).round().astype(int))]


def montage_frames(
    movie: xr.DataArray, *, t_start_s: float, t_end_s: float, n: int = 7
) -> xr.DataArray:
    """``n`` evenly spaced frames of a window, normalised to the row's own range.

    The row (all ``n`` frames together) is scaled so its 0.5th–99.5th percentiles map
    to 0..1 — the paper's per-row normalisation of montages.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.arange(40.0).reshape(10, 2, 2), dims=("t", "y", "x"),
    ...                  coords={"t": np.arange(10.0)})
    >>> montage_frames(m, t_start_s=0, t_end_s=9, n=3).sizes["t"]
    3
    """
    rows = movie.isel(t=_montage_indices(movie, t_start_s, t_end_s, n)).astype(np.float32)
    rows = rows.compute()
    lo, hi = np.nanpercentile(rows.values, [0.5, 99.5])
    out = ((rows - lo) / (hi - lo if hi > lo else 1.0)).clip(0, 1)
    out.attrs = {**movie.attrs, "normalised": "per row (0.5–99.5 percentiles)"}
    return out
