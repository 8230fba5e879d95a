"""Stage drift registration and bad-frame detection for movies (issue 13, item 3).

Real rigs drift and vibrate, and now and then a frame is blurred (focus hunting, a
knock) or dropped (black) or saturated. Every per-pixel map (t_nuc, onsets, CE) assumes
that pixel (y, x) looks at the same spot of the electrode in every frame and that every
frame is a good image, so this module runs upstream of them:

1. :func:`frame_quality` — one pass over the movie in blocks of frames (flat memory):
   mean intensity, saturated fraction and a focus measure per frame, each compared to
   its running median over neighbouring frames; frames that are dark (dropped), saturated,
   blurred or intensity outliers are flagged with the reason.
2. :func:`register_drift` — rigid sub-pixel translation of every frame relative to a
   reference frame by FFT cross-correlation, computed on batches of frames. Each frame
   is high-passed (minus its Gaussian blur, σ = ``highpass_px``) and apodised by a
   weight (a Hann window over the reference region; with region ``"auto"``, the pixels
   that change between the first and last frames masked out); the cross-power spectrum
   (not whitened by default: the matched filter under shot noise) is multiplied by a
   Gaussian ``exp(−2π²σ²|f|²)`` (σ = ``peak_sigma_px``), and a three-point
   log-parabola fit per axis gives the peak's sub-pixel position without upsampling; a
   second pass on the frames moved back by the first estimate removes the bias of the
   fixed window. A running reference (renewed every ``running_frames`` frames from the
   registered frames) follows a growing deposit; it is checked against the fixed
   reference. Then (``refine``) a Lucas–Kanade refinement: by default
   (``reference_model="static"``) every frame against one static reference — the
   mean of all other frames over the pixels whose content never changes (the change
   mask: low-passed temporal variance above the noise), Tukey-reweighted — so neither
   the deposit's change nor a slow common error of a chain of neighbours biases it;
   the error estimate per frame and axis is the noise sandwich estimate plus the
   excess disagreement of two half-fields (a bias check). ``"temporal"``: the
   previous refinement against a leave-one-out mean of the neighbouring frames.
3. :func:`apply_drift_correction` — the shifts undone lazily (dask ``map_blocks`` per
   block of frames, cubic-spline ``scipy.ndimage.shift``; pixels that come from
   outside the field take the nearest edge value).
4. :func:`stabilize_movie` — all three: the movie without its bad frames, registered
   when the registration is trustworthy and the drift is more than noise, plus the
   tables and a summary block with warnings. A drift screen rides on the
   frame-quality pass (:mod:`platescope.optics._drift_screen`): when it vouches for a
   still stage, nothing else is read; otherwise the frames that pass read are kept (a
   lazily read movie up to ``cache_mib``) for the registration's passes.

Measured (docs/validation.md, docs/registration.md), 5 px drift + 0.5 px jitter: rms
error ≤ 0.1 px on a textured field (σ 2 px, 15 % contrast, shot noise); 0.040 / 0.060
px per axis on a 1.5 %-contrast field whose Cramér–Rao bound is 0.027 / 0.028 px; on
the simulated irm-galvanostatic field the growing deposits biased the temporal-reference
refinement by 0.13–0.21 px at noise ≤ 1 (0.17 / 0.14 px noise-free); the static
reference brings that to 0.019 / 0.024 px noise-free and 0.080–0.108 px frame to
frame at noise 1 (seeds 1–5), the rest being noise on the static part of the field and
frame 0's own error — at the Cramér–Rao bound of the pixels and the σ = 8 px high-pass
it used (with a 16 px high-pass 0.082 / 0.079 px, seed 1, not adopted); irm-cv
(96 px field, no edge taper) 0.035–0.064 px at noise 0.5.
On top-view-nucleation the static reference is off by up to 1.3 px under a 0.16 px
estimate (small nuclei everywhere escape the change mask): the running-vs-fixed check
refuses it (docs/registration.md).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import fft as _sfft
from scipy import ndimage

from platescope._blas import one_blas_thread
from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._movie_model import _check_movie, _is_dask, _pixel_size_um
from platescope.optics._focus import dog_variance
from platescope.optics._significance import motion_is_significant, shift_significance

__all__ = [
    "apply_drift_correction",
    "frame_quality",
    "register_drift",
    "stabilize_movie",
]


# --------------------------------------------------------------------------- helpers
def _rfft2(x: np.ndarray) -> np.ndarray:
    """rfft2 over the last two axes: SciPy's transform, the same numbers as NumPy's
    in about half the CPU (NumPy's inverse is the faster one and stays)."""
    return _sfft.rfft2(x, axes=(-2, -1))


#: MiB of intermediate results (high-passed frames, their spectra) one registration
#: keeps between its passes instead of computing them again; beyond it, recomputed.
_WORK_CACHE_MIB = 256.0


def _keeps(nbytes: float) -> bool:
    """Whether intermediate results of ``nbytes`` bytes are kept (:data:`_WORK_CACHE_MIB`)."""
    return nbytes <= _WORK_CACHE_MIB * 2**20


def _blocks(n: int, size: int):
    for i in range(0, n, size):
        yield i, min(i + size, n)


def _frames_per_block(pixels_per_frame: int, *, max_mib: float = 64.0, most: int = 32) -> int:
    """Frames whose float64 copy fits in ``max_mib`` MiB (1 … ``most``)."""
    return int(max(1, min(most, max_mib * 2**20 // (8 * max(int(pixels_per_frame), 1)))))


def _read(movie: xr.DataArray, i0: int, i1: int) -> np.ndarray:
    """Frames i0..i1 as float64 (only that block is computed when dask-backed)."""
    data = movie.data[i0:i1]
    if _is_dask(data):
        data = data.compute()
    return np.asarray(data, dtype=np.float64)


def _running_median(x: np.ndarray, window: int) -> np.ndarray:
    """Median of the ``window − 1`` neighbours of each sample (itself left out; the
    ends mirrored), NaN ignored."""
    x = np.asarray(x, float)
    n = x.size
    half = max(int(window) // 2, 1)
    offs = np.concatenate([np.arange(-half, 0), np.arange(1, half + 1)])
    idx = np.arange(n)[:, None] + offs[None, :]
    idx = np.abs(idx)  # mirror at the start
    idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)  # and at the end
    idx = np.clip(idx, 0, n - 1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(x[idx], axis=1)


def _robust_sd(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size < 3:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


# --------------------------------------------------------------------------- quality
def frame_quality(
    movie: xr.DataArray,
    *,
    window: int = 9,
    focus_sigma_px: tuple[float, float] = (1.0, 3.0),
    blur_drop: float = 0.25,
    blur_k_sigma: float = 6.0,
    dark_fraction: float = 0.5,
    saturation_counts: float | None = None,
    saturated_fraction: float = 0.01,
    outlier_fraction: float = 0.25,
    max_blur_run: int = 3,
    block_frames: int | None = None,
    blank_fraction: float = 0.1,
    on_block=None,
) -> pd.DataFrame:
    """Find blurred, blank, dark (dropped), saturated and intensity-outlier frames.

    Per frame (read in blocks of ``block_frames``): the mean intensity ``mean``, the
    fraction of pixels at or above ``saturation_counts`` and a focus measure — the
    variance of the difference-of-Gaussians image (σ = ``focus_sigma_px``, the band
    where texture stands above shot noise) over the squared mean (so illumination
    changes do not count). Each is compared with its running median over ``window``
    frames (a step or a steady trend passes; a lone frame does not):

    * ``dark``: mean below ``dark_fraction`` × the running median, or a constant frame;
    * ``saturated``: more than ``saturated_fraction`` of its pixels saturated, and more
      than ten times the running median fraction;
    * ``blurred``: focus below that of the nearest good frame on *each* side by more
      than ``blur_drop`` (relative) and by more than ``blur_k_sigma`` robust sd of the
      frame-to-frame log-focus changes, the two neighbours agreeing within half the
      dip (a dip that recovers, not a steady change or a step of contrast); runs of
      up to ``max_blur_run`` adjacent blurred frames are found by the same test on
      windows of 2, 3, … frames (the window's best focus against the good frames
      just outside it);
    * ``blank``: a focus dip as above whose coarse structure is gone too — the variance
      of the frame blurred with the larger σ is below ``blank_fraction`` of that of both
      nearest good frames. Defocus spreads the light and keeps most of it (a 4 px blur
      keeps ≈ 0.4 of that variance); a frame of camera noise only (shutter or lamp off,
      the first frame of some cameras) keeps none;
    * ``intensity-outlier``: mean above (or below) both nearest good frames by more than
      ``outlier_fraction`` (relative), the two agreeing within half that (a spike; the
      first and last frames, with one neighbour, are not judged).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)``, counts, ``t`` in s; dask-backed input is read block by block.
    window : int
        Frames in the running median (odd; ≥ 3).
    focus_sigma_px : (float, float)
        σ of the two Gaussians of the focus band, px.
    blur_drop : float
        Smallest relative focus drop that counts as blurred.
    blur_k_sigma : float
        … and its size in robust sd of the log-focus residuals.
    dark_fraction : float
        Mean below this fraction of the running median: a dark (dropped) frame.
    saturation_counts : float, optional
        Saturation level, counts (default: the largest value of an integer dtype;
        none for float data).
    saturated_fraction : float
        Fraction of saturated pixels that makes a frame saturated.
    outlier_fraction : float
        Relative deviation of the mean that makes an intensity outlier.
    max_blur_run : int
        Longest run of adjacent blurred frames looked for (1: single frames only).
    blank_fraction : float
        A focus dip whose coarse variance (σ = the larger focus σ) is below this
        fraction of both good neighbours' is ``blank``, not ``blurred``.
    block_frames : int, optional
        Frames read at a time (default: as many as fit in 64 MiB as float64, at most
        32, so memory stays flat whatever the frame size: 32 frames of 512², 2 of
        1792²).
    on_block : callable, optional
        Called as ``on_block(i0, block)`` with every block of frames read (``block``:
        frames ``i0 …`` as float64, counts), so that another per-frame measurement
        (the drift screen of :func:`stabilize_movie`) shares this pass's read.

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``frame``, ``t_s``, ``mean_counts``, ``focus``,
        ``focus_rel`` (focus over the nearer in focus of its two good neighbours),
        ``saturated_fraction``, ``bad`` (bool),
        ``reason`` (``""``, ``"dark"``, ``"saturated"``, ``"blurred"``, ``"blank"``,
        ``"intensity-outlier"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tex = ndimage.gaussian_filter(rng.normal(size=(64, 64)), 2) * 400 + 1000
    >>> frames = np.repeat(tex[None], 12, axis=0) + rng.normal(0, 3, (12, 64, 64))
    >>> frames[4] = ndimage.gaussian_filter(frames[4], 3)           # blurred
    >>> frames[8] = 0.0                                              # dropped
    >>> m = xr.DataArray(frames, dims=("t", "y", "x"), coords={"t": np.arange(12.0)})
    >>> q = frame_quality(m)
    >>> q.loc[q.bad, ["frame", "reason"]].values.tolist()
    [[4, 'blurred'], [8, 'dark']]
    """
    t = _check_movie(movie)
    n = t.size
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 3:
        raise InputError(None, f"window must be an integer ≥ 3, got {window!r}", "pass 9")
    if not isinstance(blank_fraction, numbers.Real) or not 0.0 <= float(blank_fraction) <= 1.0:
        raise InputError(
            None, f"blank_fraction must be a number in [0, 1], got {blank_fraction!r}", "pass 0.1"
        )
    if saturation_counts is None and np.issubdtype(movie.dtype, np.integer):
        saturation_counts = float(np.iinfo(movie.dtype).max)
    s1, s2 = (float(s) for s in focus_sigma_px)
    mean = np.empty(n)
    focus = np.empty(n)
    sat = np.zeros(n)
    const = np.zeros(n, bool)
    if block_frames is None:
        block_frames = _frames_per_block(movie.shape[1] * movie.shape[2])
    for i0, i1 in _blocks(n, int(block_frames)):
        block = _read(movie, i0, i1)
        if on_block is not None:
            on_block(i0, block)
        mean[i0:i1] = block.mean(axis=(1, 2))
        e = 2 * int(np.ceil(3 * s2))  # drop the borders the filters reflect
        if min(block.shape[1:]) > 4 * e:  # the same filter by FFT on the inner part
            dog_var = dog_variance(block, s1, s2, e)
        else:  # a small frame: all of it, borders mirrored
            dog = ndimage.gaussian_filter(block, (0, s1, s1))
            dog -= ndimage.gaussian_filter(block, (0, s2, s2))
            dog_var = dog.var(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            focus[i0:i1] = dog_var / np.maximum(mean[i0:i1] ** 2, 1e-30)
        const[i0:i1] = np.ptp(block.reshape(block.shape[0], -1), axis=1) == 0
        if saturation_counts is not None:
            sat[i0:i1] = (block >= saturation_counts).mean(axis=(1, 2))
    reason = np.array([""] * n, dtype=object)
    med_mean = _running_median(mean, window)
    dark = const | (mean < dark_fraction * med_mean)
    reason[dark] = "dark"
    med_sat = _running_median(sat, window)
    saturated = (sat > saturated_fraction) & (sat > 10 * med_sat) & (reason == "")
    reason[saturated] = "saturated"
    # focus against the nearest good frame on each side: a blurred frame is a dip below
    # both (a steady rise or fall of contrast, e.g. alloying, is not), and the two
    # neighbours agree with each other (a blurred frame recovers, whereas a contrast
    # minimum before a change of stage does not). Runs of up to ``max_blur_run``
    # adjacent blurred frames are each other's neighbours, so the test is repeated on
    # windows of 2, 3, … frames: the best-focused frame of the window against the
    # nearest good frame before and after it.
    lfv = np.log(np.where(focus > 0, focus, np.nan))
    good_l = lfv[np.isfinite(np.where(reason == "", lfv, np.nan))]
    sd = _robust_sd(np.diff(good_l)) / np.sqrt(2.0)
    sd = sd if np.isfinite(sd) else 0.0
    thr = max(-np.log(1.0 - blur_drop), blur_k_sigma * sd)
    resid_1 = None
    runs = list(range(1, max(int(max_blur_run), 1) + 1))
    for run in runs + runs:  # twice: a frame flagged first is no longer a neighbour
        lf = pd.Series(np.where(reason == "", lfv, np.nan))
        # the window k … k + run − 1: all unflagged, its best focus
        top = lf[::-1].rolling(run, min_periods=run).max()[::-1].to_numpy()
        lp = lf.shift(1).ffill().to_numpy()
        ln = lf.shift(-run).bfill().to_numpy()
        if run == 1:  # a single frame at either end is judged on its one side
            lp = np.where(np.isfinite(lp), lp, ln)
            ln = np.where(np.isfinite(ln), ln, lp)
        # (a run must have good frames on both sides: at the start of a movie a run
        # before a step up of contrast is not a dip)
        resid = np.maximum(top - lp, top - ln)  # the smaller of the two drops (negative)
        if resid_1 is None:
            resid_1 = resid
        with np.errstate(invalid="ignore"):
            symmetric = np.abs(lp - ln) < 0.5 * np.abs(resid)
            start = (resid < -thr) & symmetric & np.isfinite(top)
        hit = np.zeros(n, bool)
        for j in range(run):  # mark every frame of a flagged window
            hit[j:] |= start[: n - j]
        hit &= reason == ""
        reason[hit] = "blurred"
    resid = resid_1
    _mark_blank(movie, reason, s2, blank_fraction)
    # an intensity outlier: off both good neighbours (the same way) by more than
    # outlier_fraction while they agree with each other (a spike, not a trend or a step)
    with np.errstate(divide="ignore", invalid="ignore"):
        lm = np.log(np.where(mean > 0, mean, np.nan))
        lg = pd.Series(np.where(reason == "", lm, np.nan))
        mp = lg.shift(1).ffill().to_numpy()
        mn = lg.shift(-1).bfill().to_numpy()
        two = np.isfinite(mp) & np.isfinite(mn)
        lim = np.log1p(outlier_fraction)
        up = np.minimum(lm - mp, lm - mn)
        down = np.minimum(mp - lm, mn - lm)
        spike = np.maximum(up, down)
        outlier = two & (spike > lim) & (np.abs(mp - mn) < 0.5 * spike) & (reason == "")
    reason[outlier] = "intensity-outlier"
    return pd.DataFrame(
        {
            "frame": np.arange(n),
            "t_s": t,
            "mean_counts": mean,
            "focus": focus,
            "focus_rel": np.exp(resid),
            "saturated_fraction": sat,
            "bad": reason != "",
            "reason": reason.astype(str),
        }
    )


def _coarse_variance(movie: xr.DataArray, frame: int, sigma_px: float) -> float:
    """Variance of one frame blurred with σ = ``sigma_px`` px, inner part, counts²."""
    img = ndimage.gaussian_filter(_read(movie, frame, frame + 1)[0], sigma_px)
    e = int(np.ceil(3 * sigma_px))
    if min(img.shape) > 4 * e:
        img = img[e:-e, e:-e]
    return float(img.var())


def _mark_blank(movie: xr.DataArray, reason: np.ndarray, sigma_px: float, fraction: float):
    """Relabel ``blurred`` frames whose coarse structure is gone as ``blank`` (in place).

    Reads only the flagged frames and their nearest good neighbours (a few frames).
    """
    good = np.flatnonzero(reason == "")
    cache: dict[int, float] = {}

    def var(i: int) -> float:
        if i not in cache:
            cache[i] = _coarse_variance(movie, i, sigma_px)
        return cache[i]

    for k in np.flatnonzero(reason == "blurred"):
        pos = np.searchsorted(good, k)
        sides = [int(good[j]) for j in (pos - 1, pos) if 0 <= j < good.size]
        if sides and all(var(int(k)) < fraction * var(j) for j in sides):
            reason[k] = "blank"


# --------------------------------------------------------------------------- registration
def _hann2d(ny: int, nx: int, box=None) -> np.ndarray:
    """2-D Hann window over the box (y0, y1, x0, x1) of pixel indices, zero outside."""
    y0, y1, x0, x1 = box if box is not None else (0, ny, 0, nx)
    w = np.zeros((ny, nx))
    w[y0:y1, x0:x1] = np.outer(np.hanning(y1 - y0 + 2)[1:-1], np.hanning(x1 - x0 + 2)[1:-1])
    return w


class _Correlator:
    """Batched (optionally whitened) phase correlation of frames against one reference.

    A ``highpass_cache`` (a dict frame index → high-passed frame, shared by the passes
    of one registration) keeps each frame's high-pass from being computed again by
    the next pass: the frames do not change between passes, only the weights and the
    reference do.
    """

    def __init__(
        self,
        weights: list[np.ndarray],
        highpass_px: float,
        peak_sigma_px: float,
        whiten: bool = False,
        highpass_cache: dict | None = None,
    ):
        self.weights = weights
        self.whiten = bool(whiten)
        self.highpass_px = float(highpass_px)
        self.cache = highpass_cache
        ny, nx = weights[0].shape
        fy = np.fft.fftfreq(ny)[:, None]
        fx = np.fft.rfftfreq(nx)[None, :]
        self.filt = np.exp(-2.0 * np.pi**2 * peak_sigma_px**2 * (fy**2 + fx**2))
        fxf = np.fft.fftfreq(nx)[None, :]
        self.filt_full_sum = float(
            np.exp(-2.0 * np.pi**2 * peak_sigma_px**2 * (fy**2 + fxf**2)).sum()
        )
        # the zero-lag value of irfft2(X) is the sum of the full spectrum / (ny nx):
        # the half spectrum's columns 1 … (nx − 1) // 2 stand for two columns each
        twice = np.full(nx // 2 + 1, 2.0)
        twice[0] = 1.0
        if nx % 2 == 0:
            twice[-1] = 1.0
        self.zero_lag = self.filt * twice[None, :] / (ny * nx)
        self.shape = (ny, nx)
        self.ref = None
        self.ref_energy = None

    def highpass(self, frames: np.ndarray, keys=None) -> np.ndarray:
        """Frames minus their Gaussian blur (σ = ``highpass_px``); ``keys`` (their frame
        indices) look them up in, and add them to, the shared cache."""
        if self.cache is None or keys is None:
            return frames - ndimage.gaussian_filter(frames, (0, self.highpass_px, self.highpass_px))
        keys = [int(k) for k in keys]
        todo = [j for j, k in enumerate(keys) if k not in self.cache]
        if todo:
            sub = frames[todo]
            hp = sub - ndimage.gaussian_filter(sub, (0, self.highpass_px, self.highpass_px))
            for j, h in zip(todo, hp, strict=True):
                self.cache[keys[j]] = h
        return np.stack([self.cache[k] for k in keys])

    def spectra(self, hp: np.ndarray, prior: np.ndarray | None = None) -> list[np.ndarray]:
        """rfft2 of the high-passed frames ``hp`` under each weight (its weighted mean
        removed), the frames first moved back by ``prior`` (n, 2) px when it is not 0."""
        if prior is not None and np.any(prior):  # Fourier shift back by the prior
            hp = np.fft.irfft2(_rfft2(hp) * _shift_ramp(prior, self.shape), s=self.shape)
        out = []
        for w in self.weights:
            x = hp * w[None]
            x -= (x.sum(axis=(1, 2)) / max(w.sum(), 1e-30))[:, None, None] * w[None]
            out.append(_rfft2(x))
        return out

    def _energy(self, spec: np.ndarray) -> np.ndarray:
        """Zero-lag filtered autocorrelation of spectra (…, ny, nx // 2 + 1)."""
        return (np.abs(spec) ** 2 * self.zero_lag).sum(axis=(-2, -1))

    def set_reference(self, frame: np.ndarray, key: int | None = None) -> None:
        """The reference frame (its index ``key`` when it is a frame of the movie)."""
        specs = self.spectra(self.highpass(frame[None], None if key is None else [key]))
        self.ref = [np.conj(s[0]) for s in specs]
        self.ref_energy = [float(self._energy(r)) for r in self.ref]

    def shifts(self, frames: np.ndarray, prior: np.ndarray | None = None, keys=None):
        """(len(weights), n, 2) shifts (dy, dx) in px and (len(weights), n) peak heights.

        With ``prior`` (n, 2), the frames are first moved back by it and the residual
        is measured (the fixed apodising window biases large shifts towards zero by a
        few per cent; a second pass removes that). ``keys``: the frames' indices (for
        the high-pass cache).
        """
        hp = self.highpass(frames, keys)
        if prior is None:
            first, _ = self._shifts(hp, np.zeros((hp.shape[0], 2)))
            prior = first[0]
        return self._shifts(hp, prior)

    def _shifts(self, hp: np.ndarray, prior: np.ndarray):
        specs = self.spectra(hp, prior)
        ny, nx = self.shape
        res = np.empty((len(specs), hp.shape[0], 2))
        peaks = np.empty((len(specs), hp.shape[0]))
        norm = self.filt_full_sum
        for j, (spec, ref) in enumerate(zip(specs, self.ref, strict=True)):
            cross = ref[None] * spec
            if self.whiten:
                mag = np.abs(cross)
                cross = np.where(mag > 0, cross / np.where(mag > 0, mag, 1.0), 0.0)
            cross = cross * self.filt
            corr = np.fft.irfft2(cross, s=(ny, nx))
            flat = corr.reshape(corr.shape[0], -1)
            k = np.argmax(flat, axis=1)
            iy, ix = np.unravel_index(k, (ny, nx))
            ar = np.arange(corr.shape[0])
            c0 = corr[ar, iy, ix]
            if self.whiten:
                peaks[j] = c0 * ny * nx / norm
            else:  # normalised cross-correlation coefficient at the peak
                energy = self._energy(spec)
                peaks[j] = c0 / np.sqrt(np.maximum(energy * self.ref_energy[j], 1e-300))
            for axis, (i, size) in enumerate(((iy, ny), (ix, nx))):
                if axis == 0:
                    cm = corr[ar, (iy - 1) % ny, ix]
                    cp = corr[ar, (iy + 1) % ny, ix]
                else:
                    cm = corr[ar, iy, (ix - 1) % nx]
                    cp = corr[ar, iy, (ix + 1) % nx]
                res[j, :, axis] = np.where(i > size // 2, i - size, i) + _subpixel(cm, c0, cp)
        return res + prior[None], peaks


def _subpixel(cm: np.ndarray, c0: np.ndarray, cp: np.ndarray) -> np.ndarray:
    """Vertex of a 3-point log-parabola (Gaussian peak); plain parabola where not > 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = (cm > 0) & (c0 > 0) & (cp > 0)
        lm, l0, lp = (np.log(np.where(pos, v, 1.0)) for v in (cm, c0, cp))
        den_g = lm - 2 * l0 + lp
        dg = 0.5 * (lm - lp) / den_g
        den_p = cm - 2 * c0 + cp
        dp = 0.5 * (cm - cp) / den_p
        d = np.where(pos & (den_g < 0), dg, np.where(den_p < 0, dp, 0.0))
    return np.clip(np.nan_to_num(d), -0.5, 0.5)


def _split_weights(w: np.ndarray, width_px: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Two halves of a weight map (split across its longer extent at its centroid)."""
    ny, nx = w.shape
    yy, xx = np.mgrid[:ny, :nx]
    tot = w.sum()
    yc, xc = (w * yy).sum() / tot, (w * xx).sum() / tot
    spread_y = np.sqrt((w * (yy - yc) ** 2).sum() / tot)
    spread_x = np.sqrt((w * (xx - xc) ** 2).sum() / tot)
    coord, c = (xx, xc) if spread_x >= spread_y else (yy, yc)
    s = 1.0 / (1.0 + np.exp(-(coord - c) / width_px))
    return w * (1 - s), w * s


def _region_box(movie: xr.DataArray, region) -> tuple[int, int, int, int]:
    """Pixel box (y0, y1, x0, x1) of a region [x0_um, x1_um, y0_um, y1_um]."""
    try:
        x0, x1, y0, y1 = (float(v) for v in region)
    except (TypeError, ValueError):
        raise InputError(
            _source(movie),
            f"the registration region {region!r} is not 'auto', 'whole' or "
            "[x0_um, x1_um, y0_um, y1_um]",
            'give region = "auto", "whole" or four numbers in µm',
        ) from None
    xs = np.asarray(movie.x.values, float)
    ys = np.asarray(movie.y.values, float)
    ix = np.flatnonzero((xs >= min(x0, x1)) & (xs <= max(x0, x1)))
    iy = np.flatnonzero((ys >= min(y0, y1)) & (ys <= max(y0, y1)))
    if ix.size < 16 or iy.size < 16:
        raise InputError(
            _source(movie),
            f"the registration region x {x0:g}–{x1:g} µm, y {y0:g}–{y1:g} µm holds "
            f"{iy.size} × {ix.size} pixels of the field (x {xs[0]:g}–{xs[-1]:g} µm, "
            f"y {ys[0]:g}–{ys[-1]:g} µm); at least 16 × 16 are needed",
            "give a region inside the field of view, at least 16 pixels wide and high",
        )
    return int(iy[0]), int(iy[-1]) + 1, int(ix[0]), int(ix[-1]) + 1


def _pass(movie, corr: _Correlator, frames: np.ndarray, block_frames: int, running: int = 0):
    """Shifts of ``frames``; with ``running`` > 0, the reference is renewed after every
    ``running`` frames as the mean of those frames moved back by their shifts (so it
    stays on the reference frame's grid while following the deposit's slow change)."""
    n = movie.sizes["t"]
    shifts = np.full((len(corr.weights), n, 2), np.nan)
    peaks = np.full((len(corr.weights), n), np.nan)
    size = int(running) if running else int(block_frames)
    groups = [frames[i : i + size] for i in range(0, frames.size, size)]
    for sel in groups:
        block = np.stack([_read(movie, int(k), int(k) + 1)[0] for k in sel])
        s, p = corr.shifts(block, keys=sel)
        shifts[:, sel] = s
        peaks[:, sel] = p
        if running:
            back = [
                ndimage.shift(f, -d, order=3, mode="nearest")
                for f, d in zip(block, s[0], strict=True)
            ]
            corr.set_reference(np.mean(back, axis=0))
    return shifts, peaks


def _changed_pixels(movie, shifts, good, n_avg=8, sigma_px=2.0, k_sigma=5.0):
    """Pixels whose registered image changes from the first to the last good frames
    (the deposit, an alloying front); (mask, fraction).

    The log ratio of the (smoothed) mean of the last frames over that of the first is
    compared with its most common value (a global gain change, e.g. illumination
    drift, or a deposit darkening half the field, does not move the static rest); the
    threshold is ``k_sigma`` × the noise of that log ratio, measured from the odd and
    even frames of the first group."""

    def mean_of(idx):
        acc = None
        for k in idx:
            f = _read(movie, int(k), int(k) + 1)[0]
            f = ndimage.shift(f, -np.nan_to_num(shifts[k]), order=1, mode="nearest")
            acc = f if acc is None else acc + f
        return ndimage.gaussian_filter(acc / len(idx), sigma_px)

    def log_of(x):
        return np.log(np.maximum(x, 1e-3 * max(float(np.median(x)), 1e-30)))

    n_avg = max(2, min(int(n_avg), good.size // 2))
    first, last = good[:n_avg], good[-n_avg:]
    lr = log_of(mean_of(last)) - log_of(mean_of(first))
    odd, even = first[1::2], first[::2]
    m = min(odd.size, even.size)
    noise = log_of(mean_of(odd[:m])) - log_of(mean_of(even[:m]))
    # sd of a log ratio of two means of m frames → of two means of n_avg frames
    sd = _robust_sd(noise) * np.sqrt(m / n_avg)
    if not np.isfinite(sd) or sd <= 0:
        sd = max(_robust_sd(lr), 1e-6)
    width = max(sd, 1e-6)
    edges = np.arange(lr.min(), lr.max() + 2 * width, width)
    if edges.size < 2:
        return np.zeros(lr.shape, bool), 0.0
    hist, edges = np.histogram(lr, bins=edges)
    mode = 0.5 * (edges[np.argmax(hist)] + edges[np.argmax(hist) + 1])
    changed = np.abs(lr - mode) > k_sigma * sd
    return changed, float(changed.mean())


def _fourier_back(spec: np.ndarray, d: np.ndarray, shape) -> np.ndarray:
    """Frames (their rfft2 ``spec``) moved back by their shifts ``d`` (n, 2):
    ``out(y, x) = frame(y + dy, x + dx)`` (periodic; the weights keep the edges out)."""
    return np.fft.irfft2(spec * _shift_ramp(d, shape), s=shape)


def _shift_ramp(d: np.ndarray, shape) -> np.ndarray:
    """(n, ny, nx // 2 + 1) phase ramps ``exp(2πi (f_y dy + f_x dx))`` of the shifts
    ``d`` (n, 2) px on the rfft2 grid of ``shape``, as the product of the two per-axis
    ramps (one complex exponential per row and column, not per pixel)."""
    ny, nx = shape
    d = np.asarray(d, float)
    ry = np.exp(2j * np.pi * np.fft.fftfreq(ny)[None, :] * d[:, 0, None])
    rx = np.exp(2j * np.pi * np.fft.rfftfreq(nx)[None, :] * d[:, 1, None])
    return ry[:, :, None] * rx[:, None, :]


def _moved_mask(mask: np.ndarray, d) -> np.ndarray:
    """``mask`` (on the reference grid) moved with a frame's content by ``d`` (whole
    px): the pixels that came from outside the grid are False (not static: unknown)."""
    iy, ix = (int(v) for v in np.rint(np.nan_to_num(np.asarray(d, float))))
    out = np.zeros_like(mask, dtype=bool)
    ny, nx = mask.shape
    if abs(iy) >= ny or abs(ix) >= nx:
        return out
    out[max(iy, 0) : ny + min(iy, 0), max(ix, 0) : nx + min(ix, 0)] = mask[
        max(-iy, 0) : ny + min(-iy, 0), max(-ix, 0) : nx + min(-ix, 0)
    ]
    return out


def _highpass_frames(frames, d, static_mask, highpass_px: float, smooth_px: float):
    """Frames minus their Gaussian blur (σ = ``highpass_px``), then smoothed (``smooth_px``).

    With a ``static_mask`` the blur is a normalised convolution over the static part (no
    high-pass halo of the changing part), the mask moved with each frame's content
    ``d`` (whole pixels).
    """
    if static_mask is None:
        hp = frames - ndimage.gaussian_filter(frames, (0, highpass_px, highpass_px))
    else:
        ms = np.stack([_moved_mask(static_mask, dk) for dk in d]).astype(float)
        low = ndimage.gaussian_filter(frames * ms, (0, highpass_px, highpass_px))
        low /= np.maximum(ndimage.gaussian_filter(ms, (0, highpass_px, highpass_px)), 1e-6)
        hp = frames - low
    if smooth_px > 0:
        hp = ndimage.gaussian_filter(hp, (0, smooth_px, smooth_px))
    return hp


def _refine_temporal(
    movie,
    good: np.ndarray,
    shifts: np.ndarray,
    w: np.ndarray,
    *,
    highpass_px: float,
    smooth_px: float,
    half_window: int,
    n_outer: int = 2,
    n_inner: int = 3,
    block_frames: int = 32,
    static_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lucas–Kanade refinement of the shifts against a temporally averaged reference.

    For every good frame k the reference is the mean of the other good frames within
    ``half_window`` good frames on each side, each moved back by its current shift (leave
    one out, so frame k's noise is not in its own reference; a symmetric window, so a
    steady change of the deposit averages to frame k's state). The residual shift of
    frame k is the weighted least-squares (Gauss–Newton) solution of
    ``frame_k(x + d) = ref(x)`` on high-passed, lightly smoothed frames with weight
    ``w``, iterated ``n_inner`` times; the references are rebuilt ``n_outer`` times with
    the refined shifts. Returns the shifts (n, 2) and their 1σ per axis (n, 2, sandwich
    estimate from the weighted residual).
    """
    n = movie.sizes["t"]
    ny, nx = w.shape
    g = np.asarray(good, int)
    G = g.size
    half = max(int(half_window), 1)
    s = np.array(shifts, float)
    sd = np.full((n, 2), np.nan)
    if G < 3:
        return s, sd
    wsum = max(float(w.sum()), 1e-30)
    w2 = w * w

    def prep(frames, d):
        return _highpass_frames(frames, d, static_mask, highpass_px, smooth_px)

    whole = half >= G - 1  # every other good frame is in the reference: one sum
    for _ in range(max(int(n_outer), 1)):
        new = s.copy()
        total = None
        if whole:
            total = np.zeros((ny, nx))
            for b0, b1 in _blocks(G, int(block_frames)):
                idx = g[b0:b1]
                spec = _rfft2(prep(_read_frames(movie, idx), s[idx]))
                total += _fourier_back(spec, s[idx], (ny, nx)).sum(axis=0)
        for b0, b1 in _blocks(G, int(block_frames)):
            if whole:
                idx = g[b0:b1]
                spec = _rfft2(prep(_read_frames(movie, idx), s[idx]))
                li = np.arange(b1 - b0)
                cnt = np.full(li.size, G - 1.0)
                ref = (total[None] - _fourier_back(spec, s[idx], (ny, nx))) / (G - 1.0)
            else:
                lo, hi = max(b0 - half, 0), min(b1 + half, G)
                idx = g[lo:hi]
                spec = _rfft2(prep(_read_frames(movie, idx), s[idx]))
                back = _fourier_back(spec, s[idx], (ny, nx))
                csum = np.concatenate([np.zeros((1, ny, nx)), np.cumsum(back, axis=0)])
                li = np.arange(b0, b1) - lo
                st = np.clip(li - half, 0, hi - lo)
                en = np.clip(li + half + 1, 0, hi - lo)
                cnt = (en - st - 1).astype(float)
                ref = (csum[en] - csum[st] - back[li]) / np.maximum(cnt, 1.0)[:, None, None]
            gy, gx = np.gradient(ref, axis=(1, 2))
            a_yy = (w * gy * gy).sum(axis=(1, 2))
            a_xx = (w * gx * gx).sum(axis=(1, 2))
            a_xy = (w * gy * gx).sum(axis=(1, 2))
            det = a_yy * a_xx - a_xy**2
            ok = (det > 0) & (cnt >= 1)
            det = np.where(ok, det, 1.0)
            inv = (
                np.stack([np.stack([a_xx, -a_xy], -1), np.stack([-a_xy, a_yy], -1)], -2)
                / det[:, None, None]
            )
            d = s[g[b0:b1]].copy()
            for _it in range(max(int(n_inner), 1)):
                r = _fourier_back(spec[li], d, (ny, nx)) - ref
                b = np.stack([(w * gy * r).sum(axis=(1, 2)), (w * gx * r).sum(axis=(1, 2))], -1)
                step = -np.einsum("kij,kj->ki", inv, b)
                d = d + np.where(ok[:, None], np.clip(step, -1.0, 1.0), 0.0)
            r = _fourier_back(spec[li], d, (ny, nx)) - ref
            sig2 = (w * r * r).sum(axis=(1, 2)) / wsum
            m = np.stack(
                [
                    np.stack(
                        [(w2 * gy * gy).sum(axis=(1, 2)), (w2 * gy * gx).sum(axis=(1, 2))], -1
                    ),
                    np.stack(
                        [(w2 * gy * gx).sum(axis=(1, 2)), (w2 * gx * gx).sum(axis=(1, 2))], -1
                    ),
                ],
                -2,
            )
            cov = np.einsum("kij,kjl,klm->kim", inv, m, inv) * sig2[:, None, None]
            new[g[b0:b1]] = np.where(ok[:, None], d, s[g[b0:b1]])
            sd[g[b0:b1]] = np.where(
                ok[:, None], np.sqrt(np.abs(np.diagonal(cov, axis1=1, axis2=2))), np.nan
            )
        s = new
    return s, sd


def _gauss_sq_sum(sigma_px: float) -> float:
    """Σ k² of the discrete Gaussian kernel of σ ``sigma_px`` (the variance factor of
    white noise smoothed by it; 1 for no smoothing)."""
    if sigma_px <= 0:
        return 1.0
    r = int(np.ceil(4 * sigma_px)) + 2
    delta = np.zeros((2 * r + 1, 2 * r + 1))
    delta[r, r] = 1.0
    return float((ndimage.gaussian_filter(delta, sigma_px) ** 2).sum())


#: (margin, ramp) in px of a frame's own border in the static-reference refinement:
#: its high-pass (mirrored borders) differs from the other frames' there. Measured on
#: irm-galvanostatic seed 1, noise 0.5, 5 px drift: frame-to-frame error 0.067 / 0.050
#: px with a 1 px margin and no ramp (estimate covering 75 % within 2σ), 0.051 / 0.049
#: px with 4 + 8 px (92 %); irm-cv: 0.027 / 0.029 → 0.038 / 0.037 px (90 → 94 %).
_OWN_BORDER_PX = (4.0, 8.0)


def _inside(d: np.ndarray, shape, margin: float = 1.0, ramp_px: float = 0.0) -> np.ndarray:
    """(n, ny, nx) weight of the pixels of the reference grid that each frame, moved
    back by its shift ``d`` (n, 2), shows from inside its field (``out(y, x) =
    frame(y + dy, x + dx)``): 0 within ``margin`` px of the frame's own border, then a
    cosine ramp to 1 over ``ramp_px`` (0: a hard bool mask). A frame moved by (dy, dx)
    holds no content for the band of |dy| rows and |dx| columns on the side it left,
    and its high-pass (a Gaussian blur with mirrored borders) differs from the other
    frames' near its own border.

    The weight is a non-decreasing function of the distance to the nearest border,
    the smaller of the row and the column distances, so it is the smaller of the two
    per-axis weights (computed on rows and columns only: the same numbers as on
    every pixel)."""
    ny, nx = shape
    d = np.nan_to_num(np.asarray(d, float))

    def weight(size: int, dk: np.ndarray) -> np.ndarray:
        pos = np.arange(size)[None, :] + dk[:, None]
        dist = np.minimum(pos, size - 1 - pos) - float(margin)
        if ramp_px <= 0:
            return dist >= 0
        return 0.5 - 0.5 * np.cos(np.pi * np.clip(dist / float(ramp_px), 0.0, 1.0))

    wy, wx = weight(ny, d[:, 0]), weight(nx, d[:, 1])
    if ramp_px <= 0:
        return wy[:, :, None] & wx[:, None, :]
    return np.minimum(wy[:, :, None], wx[:, None, :])


class _PaddedShift:
    """Fourier shifts of frames without wrap-around or edge ringing.

    Each (high-passed, near zero-mean) frame is mirrored into a border of ``pad`` px
    that fades to zero with a cosine, so the periodic frame has no discontinuity: the
    FFT shift then neither brings the far edge in nor rings next to it (a plain
    periodic shift of a 96 px field needed an 8 px taper on every side against that,
    which left the irm-cv field's static corners outside the weight).
    """

    def __init__(self, shape, pad: int):
        ny, nx = shape
        self.pad = int(max(1, min(pad, ny - 1, nx - 1)))
        p = self.pad
        fades = []
        for size in (ny, nx):
            i = np.arange(size + 2 * p, dtype=float)
            dist = np.maximum(np.maximum(p - i, i - (size + p - 1)), 0.0)  # px outside
            fades.append(0.5 + 0.5 * np.cos(np.pi * np.clip(dist / p, 0.0, 1.0)))
        self.fade = np.outer(*fades)
        self.shape = (ny + 2 * p, nx + 2 * p)
        self.crop = (slice(None), slice(p, p + ny), slice(p, p + nx))

    def spectra(self, frames: np.ndarray) -> np.ndarray:
        p = self.pad
        padded = np.pad(frames, ((0, 0), (p, p), (p, p)), mode="reflect") * self.fade[None]
        return _rfft2(padded)

    def back(self, spec: np.ndarray, d: np.ndarray) -> np.ndarray:
        """The frames (their :meth:`spectra`) moved back by ``d``, on the field."""
        return _fourier_back(spec, d, self.shape)[self.crop]


def _shorth_mode(x: np.ndarray, frac: float = 0.3) -> np.ndarray:
    """Mode of each row of ``x``: the middle of its shortest interval holding ``frac``
    of the values (robust when up to ~70 % of them are elsewhere)."""
    xs = np.sort(x, axis=1)
    h = max(int(frac * xs.shape[1]), 1)
    width = xs[:, h:] - xs[:, :-h]
    i = np.argmin(width, axis=1)
    ar = np.arange(xs.shape[0])
    return 0.5 * (xs[ar, i] + xs[ar, i + h])


#: σ of the static refinement's high-pass over that of stage A. Its blur is a normalised
#: convolution over the static pixels only, and the coarse texture a wider one keeps
#: carries information: the Cramér–Rao bound of the pixels the refinement uses on
#: irm-galvanostatic (seed 1, noise 1) is 0.090 / 0.086 px with σ = 8 px, 0.074 / 0.072
#: px with 16 px (measured 0.089 / 0.092 → 0.082 / 0.079 px frame to frame). A wider
#: high-pass also lowers the error estimate of a registration biased by a "static"
#: texture that moves (top-view nucleation: nuclei everywhere escape the change mask),
#: so it is paired with the scale-consistency check (:func:`_scale_bias`).
_STATIC_HIGHPASS_SCALE = 2.0

#: σ of the scale-consistency check's high-pass over that of stage A: the same
#: refinement with stage A's 8 px, compared with the kept one (:func:`_scale_bias`).
_CHECK_HIGHPASS_SCALE = 1.0

#: Reference rebuilds of the scale check's refinement, which starts from stage A's
#: shifts as the kept one does (from the kept shifts it stays near them: a biased
#: top-view run's mean z² was 1.8 with three rebuilds, from stage A 6.6, with two
#: 11.6). One rebuild has not converged (irm-galvanostatic seed 5, noise 1: z² 2.0
#: without a bias), two have (0.6, three 0.6); docs/registration.md.
_CHECK_ROUNDS = 2

#: Floor of the check's noise sd, as a fraction of the narrower high-pass's own sd: the
#: Hausman difference var(s_narrow) − var(s_wide) holds only for an efficient wide
#: estimate, and the sandwich sd are right to ~20 %.
_CHECK_NOISE_FLOOR = 0.5


def _slow_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Running mean over ``size`` frames (axis 0) of the finite values of ``x``."""
    fin = np.isfinite(x)
    num = ndimage.uniform_filter1d(np.where(fin, x, 0.0), size, axis=0, mode="constant")
    den = ndimage.uniform_filter1d(fin.astype(float), size, axis=0, mode="constant")
    return num / np.maximum(den, 1e-9)


def _scale_bias(
    s_wide: np.ndarray,
    sd_wide: np.ndarray,
    s_narrow: np.ndarray,
    sd_narrow: np.ndarray,
    size: int,
    floor: float = _CHECK_NOISE_FLOOR,
) -> tuple[np.ndarray, np.ndarray]:
    """Bias a change of the high-pass scale reveals: (excess variance, z²), each (n, 2).

    A content change the static mask missed (a deposit, nuclei everywhere) pulls the
    shifts differently through a narrow and a wide high-pass; noise does not depend on
    the scale. Without a bias the narrow-scale estimate uses a subset of the wide one's
    information, so (Hausman) var(s_narrow − s_wide) ≈ sd_narrow² − sd_wide², floored
    at (``floor`` × sd_narrow)². Returned: the excess of the squared disagreement over
    that, averaged over ``size`` neighbouring frames (a bias changes slowly; px²), and
    each frame-axis's squared disagreement in units of that variance (≈ 1 on average
    without a bias). A common offset of all frames (the refinement's free gauge) is
    taken out first; frames whose shift or sd is NaN give NaN."""
    d = s_narrow - s_wide
    # (a common offset of every frame is no bias of the shifts relative to a frame)
    fin = np.isfinite(d).all(axis=1)
    if fin.any():
        d = d - np.median(d[fin], axis=0)
    var = np.maximum(sd_narrow**2 - sd_wide**2, (floor * sd_narrow) ** 2)
    return _slow_mean(d**2 - var, size), d**2 / var


#: px of each frame's own border left out of the change mask's temporal variance: the
#: σ = 2 px low-pass of a frame reflects at its own border, so within a few px of it the
#: frame's local mean differs from that of the frames that hold the same pixel inside
#: their field (static glass along the edge a drift uncovers was flagged as changing).
_CHANGE_BORDER_PX = _OWN_BORDER_PX[0]


def _change_mask(
    movie,
    good: np.ndarray,
    shifts: np.ndarray,
    w: np.ndarray,
    *,
    sigma_px: float = 2.0,
    k_var: float = 2.0,
    rel_floor: float = 1e-3,
    block_frames: int = 32,
    own_border_px: float = _CHANGE_BORDER_PX,
) -> tuple[np.ndarray, dict]:
    """Pixels whose content changes at any time of the movie (the deposit, the
    meniscus landing, a transient), on the reference frame's grid; (mask, info).

    Each good frame is low-passed (Gaussian σ = ``sigma_px``: a rigid misregistration
    of a zero-mean texture hardly moves a local mean, whereas a deposit does), moved
    back by its shift and divided by the reference intensity (the first good frame's
    median). The temporal variance per pixel is compared with the noise variance of
    the low-passed frames (from consecutive differences, robust): pixels above
    ``k_var`` × that (with a floor of ``rel_floor`` of the intensity, for noise-free
    data) changed. Two passes: the second divides each frame by its gain (illumination
    drift) measured on the 30 % of pixels that varied least in the first, so a global
    gain change is not a change of content. A pixel counts only the frames that hold it
    at least ``own_border_px`` px inside their own border (the low-pass reflects
    there); held so by fewer than half the frames it is not judged (``info["judged"]``
    False, and not in the returned mask of changes)."""
    ny, nx = w.shape
    g = np.asarray(good, int)
    # per pixel, only the frames that hold it (a frame moved by the stage shows nothing
    # of the band it left); the gain and the noise from the pixels every frame holds
    inner = _inside(shifts[g], (ny, nx)).all(axis=0)
    core = (w > 0.25 * w.max()) & inner
    if core.sum() < 64:
        core = w > 0.25 * w.max()
    scale = None
    static0 = None
    # the low-passed, moved-back frames of the first pass serve the second when they
    # fit in _WORK_CACHE_MIB (the second only divides them by their gain)
    kept: dict[int, np.ndarray] | None = {} if _keeps(g.size * ny * nx * 8) else None

    def moved_low(b0: int, b1: int) -> np.ndarray:
        if kept is not None and b0 in kept:
            return kept[b0].copy()
        idx = g[b0:b1]
        low = ndimage.gaussian_filter(_read_frames(movie, idx), (0, sigma_px, sigma_px))
        for j, k in enumerate(idx):  # (a Fourier shift would ring off the edges)
            low[j] = ndimage.shift(low[j], -np.nan_to_num(shifts[k]), order=1, mode="nearest")
        if kept is not None:
            kept[b0] = low.copy()
        return low

    for _pass in range(2):
        tot = np.zeros((ny, nx))
        tot2 = np.zeros((ny, nx))
        cnt = np.zeros((ny, nx))
        diffs: list[float] = []
        prev = None
        ref_low = None
        for b0, b1 in _blocks(g.size, int(block_frames)):
            idx = g[b0:b1]
            low = moved_low(b0, b1)
            held = _inside(shifts[idx], (ny, nx), own_border_px)
            if ref_low is None:
                ref_low = low[0].copy()
                scale = max(float(np.median(ref_low[core])), 1e-30)
            if static0 is not None:
                gain = np.median(low[:, static0] / np.maximum(ref_low[static0], 1e-30), axis=1)
                low /= np.where(gain > 0, gain, 1.0)[:, None, None]
            low /= scale
            tot += (low * held).sum(axis=0)
            tot2 += (low**2 * held).sum(axis=0)
            cnt += held.sum(axis=0)
            seq = low if prev is None else np.concatenate([prev[None], low])
            if seq.shape[0] > 1:
                diffs.extend(np.median(np.abs(np.diff(seq, axis=0))[:, core], axis=1).tolist())
            prev = low[-1]
        mean = tot / np.maximum(cnt, 1.0)
        var = np.maximum(tot2 / np.maximum(cnt, 1.0) - mean**2, 0.0)
        if static0 is None:
            static0 = core & (var <= np.percentile(var[core], 30))
    noise_var = (1.4826 * float(np.median(diffs)) / np.sqrt(2.0)) ** 2 if diffs else 0.0
    thr = k_var * noise_var + rel_floor**2
    # (a pixel that fewer than half the frames hold is not judged: not static, but not
    # a change either, so it is not dilated into the judged pixels beside it)
    judged = cnt >= 0.5 * g.size
    changed = (var > thr) & judged
    info = {
        "noise_sd_rel": float(np.sqrt(noise_var)),
        "changed_fraction": float((changed | ~judged)[core].mean()),
        "judged": judged,
    }
    return changed, info


def _static_pixels(
    movie,
    good: np.ndarray,
    shifts: np.ndarray,
    w: np.ndarray,
    *,
    block_frames: int = 32,
    dilate_px: int = 2,
    own_border_px: float = _CHANGE_BORDER_PX,
) -> np.ndarray:
    """Pixels of the reference grid whose content never changes (bool, ny × nx): the
    :func:`_change_mask` changes dilated by ``dilate_px`` px, and the pixels it could
    not judge (held by fewer than half the frames) left out without being dilated."""
    changed, info = _change_mask(
        movie, good, shifts, w, block_frames=int(block_frames), own_border_px=own_border_px
    )
    # (on the reference frame's grid: the frames were moved back, so no drift margin)
    return ~ndimage.binary_dilation(changed, iterations=int(dilate_px)) & info["judged"]


def _refine_robust(
    movie,
    good: np.ndarray,
    shifts: np.ndarray,
    w: np.ndarray,
    *,
    highpass_px: float,
    smooth_px: float,
    static_mask: np.ndarray | None,
    n_outer: int = 3,
    n_inner: int = 3,
    tukey_c: float = 4.685,
    block_frames: int = 32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint Lucas–Kanade refinement of every shift against one static reference.

    The reference is the mean of all *other* good frames, each moved back by its
    current shift (on the reference frame's grid), over the static pixels only
    (``static_mask``: nothing there changes, so every frame is a sample of the same
    scene, and a slow common error of the shifts — which a temporally local reference
    cannot see — is corrected). Each frame's shift solves ``frame_k(x + d) = ref(x)``
    by iteratively reweighted least squares (Gauss–Newton): Tukey biweights on the
    residual (scale from the noise of consecutive frames) down-weight pixels whose
    content differs from the reference in this frame only (a transient the static
    mask missed). The references are rebuilt ``n_outer`` times.

    Returns the shifts (n, 2), their 1σ per axis from the noise (n, 2: sandwich
    estimate with the noise correlation of the smoothing accounted for) and the
    half-field disagreement per axis (n, 2: half the difference of the shifts solved
    on the two halves of the weight map, from the same residuals).
    """
    n = movie.sizes["t"]
    ny, nx = w.shape
    g = np.asarray(good, int)
    G = g.size
    s = np.array(shifts, float)
    sd = np.full((n, 2), np.nan)
    halves = np.full((n, 2), np.nan)
    if G < 3:
        return s, sd, halves
    ws = w if static_mask is None else w * ndimage.gaussian_filter(static_mask.astype(float), 1.0)
    wa, wb = _split_weights(ws)
    core = ws > 0.25 * ws.max()
    k2 = _gauss_sq_sum(smooth_px)

    def prep(frames, d):
        return _highpass_frames(frames, d, static_mask, highpass_px, smooth_px)

    def solve(wk, grads, r):
        # Gauss–Newton step of weights wk and residuals r (n, ny, nx): the normal
        # equations' sums as two matrix products with the reference's gradient
        # products, grads = ((P, 3) gy², gx², gy gx; (P, 2) gy, gx), P = ny nx
        w2 = wk.reshape(wk.shape[0], -1)
        a_yy, a_xx, a_xy = (w2 @ grads[0]).T
        b = (w2 * r.reshape(r.shape[0], -1)) @ grads[1]
        det = a_yy * a_xx - a_xy**2
        ok = det > 0
        det = np.where(ok, det, 1.0)
        inv = (
            np.stack([np.stack([a_xx, -a_xy], -1), np.stack([-a_xy, a_yy], -1)], -2)
            / det[:, None, None]
        )
        return -np.einsum("kij,kj->ki", inv, b), inv, ok

    # frames moved back without wrap-around (mirrored, faded border); per frame only
    # the pixels it holds, and a reference made of the frames that hold each pixel
    fin = np.isfinite(s[g]).all(axis=1)
    pad = int(np.ceil(np.max(np.abs(s[g][fin])) if fin.any() else 0.0)) + 8
    sh = _PaddedShift((ny, nx), pad)
    spectra_of = _PreppedSpectra(movie, g, sh, prep, static_mask is not None)
    for outer in range(max(int(n_outer), 1)):
        last = outer == max(int(n_outer), 1) - 1
        total = np.zeros((ny, nx))
        cnt = np.zeros((ny, nx))
        inner = _inside(s[g], (ny, nx)).all(axis=0)
        core_in = core & inner if (core & inner).sum() >= 64 else core
        diffs: list[float] = []
        prev = None
        # the frames moved back by their shifts serve the solve below as well
        backs: dict[int, np.ndarray] | None = {} if _keeps(G * ny * nx * 8) else None
        for b0, b1 in _blocks(G, int(block_frames)):
            idx = g[b0:b1]
            held = _inside(s[idx], (ny, nx), *_OWN_BORDER_PX)
            back = sh.back(spectra_of(b0, b1, s), s[idx])
            if backs is not None:
                backs[b0] = back
            total += (back * held).sum(axis=0)
            cnt += held.sum(axis=0)
            seq = back if prev is None else np.concatenate([prev[None], back])
            if seq.shape[0] > 1:
                diffs.extend(np.median(np.abs(np.diff(seq, axis=0))[:, core_in], axis=1).tolist())
            prev = back[-1]
        # noise sd of one smoothed high-passed frame (consecutive differences: a slow
        # change of the scene hardly enters), with a floor for noise-free data
        sig_n = 1.4826 * float(np.median(diffs)) / np.sqrt(2.0)
        mean = total / np.maximum(cnt, 1.0)
        sig_n = max(sig_n, 1e-3 * float(np.sqrt(np.mean(mean[core_in] ** 2))), 1e-12)
        sig_r = sig_n * np.sqrt(1.0 + 1.0 / (G - 1))
        # (a pixel that fewer than half the frames hold has a noisier reference: unused)
        enough = (cnt >= 0.5 * G).astype(float)
        gy, gx = np.gradient(mean)
        grads = (
            np.stack([gy * gy, gx * gx, gy * gx], -1).reshape(-1, 3),
            np.stack([gy, gx], -1).reshape(-1, 2),
        )
        new = s.copy()
        for b0, b1 in _blocks(G, int(block_frames)):
            idx = g[b0:b1]
            spec = spectra_of(b0, b1, s)
            held = _inside(s[idx], (ny, nx), *_OWN_BORDER_PX)
            back = backs.pop(b0) if backs is not None else sh.back(spec, s[idx])
            ref = (total[None] - back * held) / np.maximum(cnt[None] - held, 1.0)
            d = s[idx].copy()
            for it in range(max(int(n_inner), 1)):
                r = (back if it == 0 else sh.back(spec, d)) - ref
                u = r / (tukey_c * sig_r)
                use = ws[None] * enough[None] * _inside(d, (ny, nx), *_OWN_BORDER_PX)
                wk = use * np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
                step, inv, ok = solve(wk, grads, r)
                d = d + np.where(ok[:, None], np.clip(step, -1.0, 1.0), 0.0)
            new[idx] = np.where(ok[:, None], d, s[idx])
            if last:
                r = sh.back(spec, d) - ref
                u = r / (tukey_c * sig_r)
                tk = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
                tk = tk * enough[None] * _inside(d, (ny, nx), *_OWN_BORDER_PX)
                wk = ws[None] * tk
                # residual variance per frame → white-noise variance before smoothing
                s2 = (wk * r * r).sum(axis=(1, 2)) / np.maximum(wk.sum(axis=(1, 2)), 1e-30)
                s2_white = s2 / k2
                fy = ndimage.gaussian_filter(wk * gy[None], (0, smooth_px, smooth_px))
                fx = ndimage.gaussian_filter(wk * gx[None], (0, smooth_px, smooth_px))
                m = np.stack(
                    [
                        np.stack([(fy * fy).sum(axis=(1, 2)), (fy * fx).sum(axis=(1, 2))], -1),
                        np.stack([(fy * fx).sum(axis=(1, 2)), (fx * fx).sum(axis=(1, 2))], -1),
                    ],
                    -2,
                )
                _, inv, ok = solve(wk, grads, r)
                cov = np.einsum("kij,kjl,klm->kim", inv, m, inv) * s2_white[:, None, None]
                sd[idx] = np.where(
                    ok[:, None], np.sqrt(np.abs(np.diagonal(cov, axis1=1, axis2=2))), np.nan
                )
                da, _, oka = solve(wa[None] * tk, grads, r)
                db, _, okb = solve(wb[None] * tk, grads, r)
                halves[idx] = np.where((oka & okb)[:, None], 0.5 * np.abs(da - db), np.nan)
        s = new
    return s, sd, halves


class _PreppedSpectra:
    """Padded spectra of the good frames ``g`` after ``prep(frames, shifts)``, kept
    between the refinement's passes (when they fit in :data:`_WORK_CACHE_MIB`).

    ``prep`` depends on a frame's shift only through the whole-pixel move of the
    static mask (``depends_on_shift``), so a frame's spectrum is computed again only
    when that rounded shift changed: the numbers are those of computing every pass.
    """

    def __init__(self, movie, g: np.ndarray, sh: _PaddedShift, prep, depends_on_shift: bool):
        self.movie, self.g, self.sh, self.prep = movie, np.asarray(g, int), sh, prep
        self.depends = bool(depends_on_shift)
        py, px = sh.shape
        self.spec = None
        if _keeps(self.g.size * py * (px // 2 + 1) * 16):
            self.spec = np.empty((self.g.size, py, px // 2 + 1), complex)
            self.key = np.zeros((self.g.size, 2), np.int64)
            self.valid = np.zeros(self.g.size, bool)

    def _key(self, d: np.ndarray) -> np.ndarray:
        if not self.depends:
            return np.zeros((len(d), 2), np.int64)
        return np.rint(np.nan_to_num(np.asarray(d, float))).astype(np.int64)

    def __call__(self, b0: int, b1: int, s: np.ndarray) -> np.ndarray:
        """Spectra of the good frames ``g[b0:b1]`` with the shifts ``s`` (n, 2) px."""
        idx = self.g[b0:b1]
        if self.spec is None:
            return self.sh.spectra(self.prep(_read_frames(self.movie, idx), s[idx]))
        key = self._key(s[idx])
        todo = np.flatnonzero(~self.valid[b0:b1] | (key != self.key[b0:b1]).any(axis=1))
        if todo.size:
            k = idx[todo]
            self.spec[b0 + todo] = self.sh.spectra(self.prep(_read_frames(self.movie, k), s[k]))
            self.key[b0 + todo] = key[todo]
            self.valid[b0 + todo] = True
        return self.spec[b0:b1]


def _read_frames(movie, idx: np.ndarray) -> np.ndarray:
    """Frames ``idx`` (sorted) as float64, read as one slice when contiguous."""
    idx = np.asarray(idx, int)
    if idx.size and np.all(np.diff(idx) == 1):
        return _read(movie, int(idx[0]), int(idx[-1]) + 1)
    return np.stack([_read(movie, int(k), int(k) + 1)[0] for k in idx])


def register_drift(
    movie: xr.DataArray,
    *,
    reference: int | None = None,
    region: Any = "whole",
    exclude: np.ndarray | None = None,
    peak_sigma_px: float = 1.0,
    highpass_px: float = 8.0,
    whiten: bool = False,
    running_frames: int = 4,
    refine: bool = True,
    reference_window: int = 8,
    block_frames: int = 32,
    reference_model: str = "static",
    min_static_fraction: float = 0.15,
    bias_frames: int = 15,
    scale_check_false_alarm: float | None = None,
) -> pd.DataFrame:
    """Rigid sub-pixel stage drift of every frame relative to a reference frame.

    Phase correlation (see the module docstring): each frame's content displacement
    ``(dy, dx)`` relative to the reference frame, read in blocks of ``block_frames``
    frames (flat memory). Undo it with :func:`apply_drift_correction`.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)``, counts, ``t`` in s, ``y``/``x`` in µm; may be dask-backed.
    reference : int, optional
        Reference frame index (default: the first frame not in ``exclude``); the shifts
        are relative to it.
    region : "whole", "auto" or sequence of 4 floats
        Where to register: ``"whole"`` frame (default); ``"auto"`` (the whole frame without the
        pixels that change between the first and last frames, i.e. the deposit, when
        they are < 80 % of it); or ``[x0_um, x1_um, y0_um, y1_um]``, a static part of
        the field in µm.
    exclude : array of bool, optional
        Frames to skip (e.g. ``frame_quality(movie).bad``); their shifts are NaN.
    peak_sigma_px : float
        σ of the Gaussian the whitened cross-power spectrum is weighted by, px (larger
        is more robust to noise, smaller is sharper).
    highpass_px : float
        σ of the Gaussian blur subtracted from each frame (removes illumination
        gradients and slow contrast), px. The static refinement uses twice it (its
        blur a normalised convolution over the static pixels), checked against the
        same refinement with this σ (the scale-consistency check, below).
    whiten : bool
        Whiten the cross-power spectrum (pure phase correlation). Off by default: with
        shot noise and smooth texture, plain cross-correlation (the matched filter) of
        the high-passed frames is 2–5× more precise (measured on simulated IRM movies).
    running_frames : int
        Renew the reference after every this many frames with their registered mean
        (a running reference that follows the growing deposit: 0.22 px instead of 0.38 px
        rms on the simulated IRM movie); 0 keeps the reference frame throughout. An
        error once made is carried on by a running reference, so the fixed-reference
        shifts are computed too and their median distance is reported
        (``attrs["running_vs_fixed_px"]``). Not used on a region given in µm (a static
        part: the fixed reference is the better one there).
    refine : bool
        Refine the shifts by Lucas–Kanade against a temporal reference (the mean of the
        other good frames within ``reference_window`` frames on each side, moved back
        by their shifts; with region ``"auto"`` and a static part, every other good
        frame over that part). 0.040 / 0.060 px instead of 0.063 / 0.091 px per axis on
        a faint static texture whose Cramér–Rao bound is 0.027 / 0.028 px.
    reference_window : int
        Good frames on each side of a frame in its temporal reference.
    block_frames : int
        Frames read and correlated at a time.
    reference_model : {"static", "temporal"}
        Reference of the refinement. ``"static"`` (default): the pixels whose content
        changes at any time of the movie (low-passed temporal variance above the
        noise) are masked, and every frame is refined by Tukey-reweighted Lucas–Kanade
        against the mean of all other frames over the rest (a flat weight, each frame
        counting the pixels it holds away from its own border), so a growing deposit neither pulls the shifts nor lets a slow common
        error build up (irm-galvanostatic noise-free: 0.017 / 0.028 px instead of
        0.169 / 0.136 px rms per axis). ``"temporal"``: the previous refinement
        against the neighbouring frames (``reference_window``).
    min_static_fraction : float
        With ``"static"``, the smallest static fraction of the weighted field; below
        it the ``"temporal"`` refinement is used (``attrs["static_fraction_too_small"]``).
    bias_frames : int
        With ``"static"``, frames over which the half-field and the scale-consistency
        bias excesses of the error estimate are averaged.
    scale_check_false_alarm : float, optional
        With ``"static"``: run the scale-consistency check only when the shifts without
        it show motion above the noise at this false-alarm probability
        (:func:`~platescope.optics._significance.shift_significance`). The check only
        adds to the errors, so it can only stop a shift from being applied; without
        such motion it cannot change that decision (``attrs["scale_check"]`` says
        whether it ran). None (default): always run it.

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``frame``, ``t_s``, ``dy_px``, ``dx_px`` (content
        displacement: the frame shows at (y, x) what the reference shows at
        (y − dy, x − dx)), ``dy_um``, ``dx_um``, ``err_dy_px``, ``err_dx_px`` (1σ
        per axis; ``"static"``: the noise sandwich estimate, the smoothing's noise
        correlation included, plus in quadrature the excess of the two half-fields'
        disagreement over their noise and that of the refinements with the σ and
        twice the σ of ``highpass_px`` (this frame's plus the reference frame's),
        each averaged over ``bias_frames``; ``"temporal"``:
        the larger of the residual-noise estimate and half the difference between
        the two half-region shifts), ``err_px`` (their quadrature sum), ``peak`` (correlation peak,
        1 = identical frames). ``attrs``: ``reference_frame``, ``region`` (what was
        used), ``changed_fraction`` (auto), ``peak_sigma_px``, ``highpass_px``,
        ``running_vs_fixed_px``, ``method``, ``half_field_bias_px``, and from the
        scale-consistency check ``scale_bias_px`` (rms over the good frames),
        ``scale_bias_reference_px`` (the reference frame's, per axis) and
        ``scale_disagreement_z2`` (mean squared disagreement in units of its noise
        variance) (``"static"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> scene = ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2.0)
    >>> frames = np.stack([ndimage.shift(scene, (0.3 * k, -0.2 * k), mode="wrap")
    ...                    for k in range(4)])
    >>> m = xr.DataArray(frames, dims=("t", "y", "x"),
    ...                  coords={"t": np.arange(4.0), "y": np.arange(96) * 0.1,
    ...                          "x": np.arange(96) * 0.1})
    >>> tab = register_drift(m, region="whole")
    >>> np.round(tab[["dy_px", "dx_px"]].values[-1], 1).tolist()
    [0.9, -0.6]
    """
    t = _check_movie(movie)
    dy_um, dx_um = _pixel_size_um(movie)
    n, ny, nx = movie.shape
    if min(ny, nx) < 16:
        raise InputError(
            _source(movie),
            f"the frames are {ny} × {nx} pixels, too small to register (16 × 16 needed)",
            "turn registration off for this movie",
        )
    if reference_model not in ("static", "temporal"):
        raise InputError(
            _source(movie),
            f"reference_model {reference_model!r} is not 'static' or 'temporal'",
            'give reference_model = "static" (default) or "temporal"',
        )
    excl = np.zeros(n, bool) if exclude is None else np.asarray(exclude, bool)
    good = np.flatnonzero(~excl)
    if good.size == 0:
        raise InputError(_source(movie), "every frame is excluded", "check the bad frames")
    ref = int(good[0]) if reference is None else int(reference) % n
    ref_frame = _read(movie, ref, ref + 1)[0]
    attrs: dict[str, Any] = {
        "reference_frame": ref,
        "peak_sigma_px": float(peak_sigma_px),
        "highpass_px": float(highpass_px),
        "changed_fraction": None,
    }
    if isinstance(region, str) and region in ("auto", "whole"):
        base = _hann2d(ny, nx)
        attrs["region"] = "whole frame"
    elif isinstance(region, str):
        raise InputError(
            _source(movie),
            f"the registration region {region!r} is not 'auto', 'whole' or four numbers",
            'give region = "auto", "whole" or [x0_um, x1_um, y0_um, y1_um]',
        )
    else:
        box = _region_box(movie, region)
        base = _hann2d(ny, nx, box)
        # the refinement's high-pass stays inside the box (a changing neighbour next to
        # it, e.g. an alloying film beside bare glass, leaves no halo in it)
        box_mask = np.zeros((ny, nx), bool)
        box_mask[box[0] : box[1], box[2] : box[3]] = True
        attrs["region"] = (
            f"x {float(movie.x[box[2]]):g}–{float(movie.x[box[3] - 1]):g} µm, "
            f"y {float(movie.y[box[0]]):g}–{float(movie.y[box[1] - 1]):g} µm"
        )

    # every pass high-passes the same frames: kept when they fit in _WORK_CACHE_MIB
    hp_cache = {} if _keeps(good.size * ny * nx * 8) else None

    def run(w, running=int(running_frames), halves=True):
        # (the two halves of the weight only check the shifts finally kept)
        ws = [w, *_split_weights(w)] if halves else [w]
        corr = _Correlator(ws, highpass_px, peak_sigma_px, whiten, hp_cache)
        corr.set_reference(ref_frame, key=ref)
        return _pass(movie, corr, good, int(block_frames), running)

    w_used = base
    # a static part named by the user: the fixed reference (a running one follows a change
    # that is not there and only adds a random walk: 1.9 / 1.1 px rms instead of 0.04 /
    # 0.02 px on the bare-glass strip of a simulated see-through cell)
    box_given = not isinstance(region, str)
    auto = isinstance(region, str) and region == "auto" and good.size >= 4
    kept_run = (base, 0 if box_given else int(running_frames))  # the pass kept
    shifts, peaks = run(*kept_run, halves=not auto)
    static = not (isinstance(region, str) and region == "whole")  # a static region
    static_mask = None if isinstance(region, str) else box_mask
    if auto:
        static = False
        changed, frac = _changed_pixels(
            movie, shifts[0], good, n_avg=max(1, min(5, good.size // 4))
        )
        attrs["changed_fraction"] = frac
        if 0 <= frac < 0.8:
            grow = int(np.ceil(np.nanmax(np.abs(shifts[0])) + 3))
            changed = ndimage.binary_dilation(changed, iterations=grow)
        if 0 <= frac < 0.8 and changed.mean() <= 0.95:  # (not all dilated away)
            w_used = base * (1.0 - ndimage.gaussian_filter(changed.astype(float), 2.0))
            static_mask = ~changed
            static = True
            kept_run = (w_used, int(running_frames))
            shifts, peaks = run(*kept_run)
            attrs["region"] = (
                f"whole frame without the {100 * frac:.0f} % of pixels that change "
                "(the deposit), dilated by the drift"
            )
        else:
            attrs["region"] = (
                f"whole frame ({100 * frac:.0f} % of the pixels change, "
                f"{100 * changed.mean():.0f} % with the drift margin: no static region)"
            )
    s = shifts[0]
    if running_frames and not box_given:
        # the running reference cannot be noisier than the fixed one, but an error once
        # made is carried on; their disagreement shows it
        fixed, _ = run(w_used, 0, halves=False)
        attrs["running_vs_fixed_px"] = float(np.nanmedian(np.hypot(*(s - fixed[0]).T)))
    else:
        attrs["running_vs_fixed_px"] = None
    if hp_cache is not None:  # stage A is done: its high-passed frames go
        hp_cache.clear()
    robust = refine and reference_model == "static"
    keep = None

    def refine_static(shifts_now, weight, static_mask, scale=_STATIC_HIGHPASS_SCALE, rounds=3):
        # (its normal equations are small matrix products: one BLAS thread, no spinning)
        with one_blas_thread():
            return _refine_robust(
                movie,
                good,
                shifts_now,
                weight,
                highpass_px=scale * float(highpass_px),
                smooth_px=float(peak_sigma_px),
                static_mask=static_mask,
                n_outer=int(rounds),
                block_frames=int(block_frames),
            )

    if robust:
        w_robust = w_used
        if not isinstance(region, str) or region == "whole":
            # every static pixel counts, the corners and the border too (a deposit in
            # the middle of the field leaves only its outskirts static): a flat weight;
            # each frame counts only the pixels it holds (no wrap-around, see
            # _PaddedShift), so no taper
            w_robust = (w_used > 0).astype(float)
        held_half = _inside(s[good], (ny, nx)).mean(axis=0) >= 0.5
        if ((w_robust > 0.25 * max(float(w_robust.max()), 1e-30)) & held_half).sum() < 256:
            # the stage-A shifts leave too little of a small field (< 16 × 16 px)
            robust = False
            attrs["static_fraction_too_small"] = True
        else:
            # the pixels whose content changes at any time (deposit, landing, transients)
            # are left out; what is left is one scene seen G times
            core = (w_robust > 0.25 * w_robust.max()) & held_half

            def static_pixels(shifts_now):
                return _static_pixels(
                    movie, good, shifts_now, w_robust, block_frames=int(block_frames)
                )

            keep = static_pixels(s)
            if keep[core].mean() < min_static_fraction and (keep & core).sum() >= 256:
                # misregistered frames make a static texture look like change (stage A is
                # 0.3–0.7 px off on the irm-cv field: 95 % of it flagged at noise 0.5):
                # refine on the few static pixels found, then find them again with the
                # refined shifts
                s_first, _, _ = refine_static(s, w_robust, keep)
                s = s_first - s_first[ref]
                keep = static_pixels(s)
                attrs["static_mask_rounds"] = 2
            attrs["changed_fraction"] = float(1.0 - keep[core].mean())
            if keep[core].mean() < min_static_fraction:
                robust = False  # too little is static: the temporal reference, as before
                attrs["static_fraction_too_small"] = True
            else:
                w_used = w_robust
                attrs["region"] = (
                    f"{attrs['region']} without the {100 * attrs['changed_fraction']:.0f} % of "
                    "its pixels whose content changes during the movie"
                )
    if robust:
        s_start = s
        s_abs, sd_abs, half_lk = refine_static(s, w_used, keep)
        s, sd = _relative_to_reference(s_abs, sd_abs, ref, attrs)
        attrs["method"] = "robust lucas-kanade against a static reference"
        # a bias (a change the mask missed pulling part of the field) shows as the two
        # halves of the weight disagreeing by more than their noise: the excess,
        # averaged over neighbouring frames (a bias changes slowly), is added
        size = min(int(bias_frames), n)
        # var of (a − b)/2 is ~ the full-field var
        excess_s = _slow_mean(half_lk**2 - 0.5 * sd**2, size)
        var0 = sd**2 + np.maximum(excess_s, 0.0)  # the error² before the scale check
        scale_excess = np.zeros((n, 2))
        check = _CHECK_HIGHPASS_SCALE != _STATIC_HIGHPASS_SCALE and good.size >= 3
        if check and scale_check_false_alarm is not None:
            # the check only adds to the errors, so it can only stop a shift from being
            # applied: without motion above the noise it cannot change the decision
            err0 = np.sqrt(var0)
            sig0 = shift_significance(
                pd.DataFrame(
                    {
                        "frame": good,
                        "dy_px": s[good, 0],
                        "dx_px": s[good, 1],
                        "err_dy_px": err0[good, 0],
                        "err_dx_px": err0[good, 1],
                    }
                ),
                ref,
                float(scale_check_false_alarm),
                attrs["reference_err_px"],
            )
            if not motion_is_significant(sig0):
                check = False
                attrs["scale_check"] = (
                    "not run: no motion above the noise without it (it can only add to the errors)"
                )
        if check:
            # the same refinement at the other scale, from the same start: a bias that
            # depends on the scale (a change the mask missed) shows as their
            # disagreement beyond the noise, added to the error estimate (a significance
            # test alone refused irm-galvanostatic seed 2 at noise 0.5 for a 0.03 px bias)
            s_chk, sd_chk, _ = refine_static(
                s_start, w_used, keep, scale=_CHECK_HIGHPASS_SCALE, rounds=_CHECK_ROUNDS
            )
            scale_excess, z2 = _scale_bias(s_abs, sd_abs, s_chk, sd_chk, size)
            scale_excess = np.maximum(np.nan_to_num(scale_excess), 0.0)
            attrs["scale_check"] = "run"
            attrs["scale_bias_px"] = float(np.sqrt(np.mean(scale_excess[good])))
            attrs["scale_bias_reference_px"] = [float(v) for v in np.sqrt(scale_excess[ref])]
            z2 = z2[good][np.isfinite(z2[good])]
            attrs["scale_disagreement_z2"] = float(np.mean(z2)) if z2.size else None
            # every shift is relative to the reference frame, so its bias is in each of
            # them (as its noise is: _relative_to_reference)
            scale_excess = scale_excess + scale_excess[ref]
            scale_excess[ref] = 0.0
        err_yx = np.sqrt(var0 + np.maximum(scale_excess, 0.0))
        err_yx[~np.isfinite(sd)] = np.nan
        err_y, err_x = err_yx[:, 0], err_yx[:, 1]
        attrs["half_field_bias_px"] = float(np.sqrt(np.nanmean(np.maximum(excess_s, 0.0)[good])))
    elif refine:
        s, sd = _refine_temporal(
            movie,
            good,
            s,
            w_used,
            highpass_px=float(highpass_px),
            smooth_px=float(peak_sigma_px),
            # on a static region, every good frame is a reference (no change to
            # follow); elsewhere a window centred on the frame
            half_window=good.size if static else int(reference_window),
            block_frames=int(block_frames),
            static_mask=static_mask,
        )
        s, sd = _relative_to_reference(s, sd, ref, attrs)
        attrs["method"] = "lucas-kanade on a temporal reference"
    else:
        sd = np.zeros((n, 2))
        attrs["method"] = "cross-correlation"
    if not robust:
        # the noise estimate of the refinement cannot see a bias (a deposit that grows
        # differently in two parts of the field pulls their shifts apart): the two
        # halves of the region disagreeing is the check for that, so the larger counts
        if shifts.shape[0] == 1:  # (a pass run without the halves: run again with them)
            shifts = run(*kept_run)[0]
        sa, sb = shifts[1:]
        halves = 0.5 * np.abs(sa - sb)
        err_y, err_x = np.fmax(halves[:, 0], sd[:, 0]), np.fmax(halves[:, 1], sd[:, 1])
    err = np.hypot(err_y, err_x)
    tab = pd.DataFrame(
        {
            "frame": np.arange(n),
            "t_s": t,
            "dy_px": s[:, 0],
            "dx_px": s[:, 1],
            "dy_um": s[:, 0] * dy_um,
            "dx_um": s[:, 1] * dx_um,
            "err_px": err,
            "err_dy_px": err_y,
            "err_dx_px": err_x,
            "peak": peaks[0],
        }
    )
    tab.attrs = attrs
    return tab


# --------------------------------------------------------------------------- apply
def apply_drift_correction(
    movie: xr.DataArray, shifts: pd.DataFrame, *, order: int = 3, block_frames: int = 16
) -> xr.DataArray:
    """Undo per-frame shifts lazily: each frame moved by ``(−dy_px, −dx_px)``.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)``; numpy- or dask-backed (the result is dask-backed, one
        block per ``block_frames`` frames, each frame one block in y and x).
    shifts : pandas.DataFrame
        ``frame``, ``dy_px``, ``dx_px`` for the frames of ``movie`` (as
        :func:`register_drift` returns; one row per frame of ``movie``, in order).
        NaN shifts are taken as 0.
    order : int
        Spline order of ``scipy.ndimage.shift`` (3: cubic, 1: linear).
    block_frames : int
        Frames per dask block.

    Returns
    -------
    xarray.DataArray
        float32 registered movie, same coordinates; ``attrs["drift_registered"] = True``.
        Pixels shifted in from outside the field repeat the nearest edge pixel.

    Examples
    --------
    >>> img = np.zeros((2, 9, 9)); img[0, 4, 4] = img[1, 5, 3] = 1.0
    >>> m = xr.DataArray(img, dims=("t", "y", "x"), coords={"t": [0.0, 1.0]})
    >>> tab = pd.DataFrame({"frame": [0, 1], "dy_px": [0.0, 1.0], "dx_px": [0.0, -1.0]})
    >>> out = apply_drift_correction(m, tab, order=1)
    >>> [int(v) for v in np.unravel_index(int(np.argmax(out[1].values)), (9, 9))]
    [4, 4]
    """
    import dask.array as da

    _check_movie(movie)
    n = movie.sizes["t"]
    if len(shifts) != n:
        raise InputError(
            _source(movie),
            f"the shift table has {len(shifts)} rows for a movie of {n} frames",
            "pass the shift rows of exactly the frames of the movie, in order",
        )
    dyx = np.nan_to_num(shifts[["dy_px", "dx_px"]].to_numpy(float))
    data = movie.data
    if _is_dask(data):
        data = data.rechunk({0: int(block_frames), 1: -1, 2: -1})
    else:
        data = da.from_array(np.asarray(data), chunks=(int(block_frames), -1, -1))

    def _shift_block(block, block_info=None):
        i0 = block_info[0]["array-location"][0][0]
        out = np.empty(block.shape, np.float32)
        for k in range(block.shape[0]):
            dy, dx = dyx[i0 + k]
            if dy == 0 and dx == 0:
                out[k] = block[k]
            else:
                out[k] = ndimage.shift(
                    np.asarray(block[k], np.float64), (-dy, -dx), order=order, mode="nearest"
                )
        return out

    out_data = data.map_blocks(_shift_block, dtype=np.float32)
    out = movie.copy(data=out_data)
    out.attrs = {**movie.attrs, "drift_registered": True}
    return out


# --------------------------------------------------------------------------- all
#: smallest movie a measured shift is applied to: the validation's fields were
#: ≥ 48 px a side with ≥ 8 frames (docs/registration.md); below, the change mask's
#: temporal statistics and the error estimate have too little to go on
_MIN_FRAMES_APPLY = 8
_MIN_SIDE_APPLY_PX = 48


class _FrameCache:
    """The frames of a dask-backed movie kept (in its dtype) as the quality pass reads
    them, when the whole movie fits in ``max_mib`` MiB; otherwise nothing is kept."""

    def __init__(self, movie: xr.DataArray, max_mib: float):
        fits = _is_dask(movie.data) and movie.nbytes <= float(max_mib) * 2**20
        self.data = np.empty(movie.shape, movie.dtype) if fits else None
        self.filled = np.zeros(movie.shape[0], bool) if fits else None

    def __call__(self, i0: int, block: np.ndarray) -> None:
        if self.data is not None:  # (float64 of integer counts: cast back exactly)
            self.data[i0 : i0 + block.shape[0]] = block
            self.filled[i0 : i0 + block.shape[0]] = True

    def holds_all(self) -> bool:
        """True when every frame was kept (the full registration reads nothing)."""
        return self.data is not None and bool(self.filled.all())

    def movie_or(self, movie: xr.DataArray) -> xr.DataArray:
        """The movie in memory when every frame was kept, else ``movie`` itself."""
        return movie.copy(data=self.data) if self.holds_all() else movie


def _relative_to_reference(s: np.ndarray, sd: np.ndarray, ref: int, attrs: dict):
    """Shifts and their errors (n, 2), px, made relative to frame ``ref``: its own small
    error is recorded (``attrs["reference_err_px"]``) and added to every other frame's."""
    attrs["reference_err_px"] = [float(v) for v in np.nan_to_num(sd[ref])]
    sd = np.sqrt(sd**2 + sd[ref] ** 2)
    sd[ref] = 0.0
    return s - s[ref], sd


def stabilize_movie(
    movie: xr.DataArray,
    *,
    register: bool = True,
    exclude_bad_frames: bool = True,
    region: Any = "whole",
    reference: int | None = None,
    min_shift_px: float = 0.25,
    large_shift_px: float = 10.0,
    max_err_px: float = 0.3,
    max_disagreement_px: float = 1.0,
    false_alarm: float = 0.001,
    peak_sigma_px: float = 1.0,
    quality_kw: dict | None = None,
    screen: bool = True,
    find_region=None,
    full_when_uncached: bool = True,
    cache_mib: float = 256.0,
    require_static_reference: bool = True,
    region_required: bool = False,
) -> dict[str, Any]:
    """Bad frames out, stage drift registered: the movie every per-pixel map should see.

    :func:`frame_quality` → bad frames excluded (``exclude_bad_frames``) →
    :func:`register_drift` on the good frames → :func:`apply_drift_correction` when the
    largest shift reaches ``min_shift_px`` and the motion is significant — its common
    offset or its largest frame-to-frame deviation more σ of the error estimate than
    a still movie reaches with probability ``false_alarm`` (below, the shifts are
    noise and the movie is left
    untouched, so a still movie gives exactly the results it gave without
    registration); not when the registration is uncertain (median error estimate above
    ``max_err_px``).

    Parameters
    ----------
    movie : xarray.DataArray
        Movie ``(t, y, x)``, counts, ``t`` in s, ``y``/``x`` in µm; may be dask-backed.
    register : bool
        Measure and undo stage drift.
    exclude_bad_frames : bool
        Drop the frames :func:`frame_quality` flags.
    region, reference, peak_sigma_px
        See :func:`register_drift`.
    min_shift_px : float
        Largest |shift| below which no correction is applied, px.
    large_shift_px : float
        Largest |shift| above which a ``large-stage-drift`` warning is attached, px.
    max_err_px : float
        Median error estimate (or twice it, the rms error estimate) above which the
        shifts are not applied and a ``registration-uncertain`` warning is attached, px.
    max_disagreement_px : float
        Median distance between the running- and fixed-reference shifts above which the
        registration is uncertain (not applied, warning), px.
    false_alarm : float
        Probability that a still movie (with a right error estimate) looks moved: half
        for its common offset against the reference frame's error (limit 3.9σ), half for
        its largest frame-to-frame deviation (√(2 ln(2n / false_alarm))σ for n frames:
        5.1σ for 200, 5.5σ for 1500). Small, because the estimate is right only to
        ≈ 20 % (rms true / estimate 0.8–1.6 on the IRM validation): with an estimate
        20 % small, 0.001 is a ~5 % false alarm on 1500 frames, 0.01 would be ~25 %.
    quality_kw : dict, optional
        Options of :func:`frame_quality`.
    screen : bool
        Measure, in the frame-quality pass (no extra read), each frame's shift on the
        tiles of the field that do not change (:class:`DriftScreen`); when it shows no
        motion and bounds any motion below ``min_shift_px``, the movie is used as
        recorded without the full registration (``summary["path"] = "screen"``).
        Otherwise (``"maybe moving"``) the full registration decides.
    find_region : callable, optional
        With ``region = "auto"``: ``find_region(movie, exclude)`` (``exclude``: the bad
        frames) → a dict with ``region_um`` (a static part of the field in µm, or
        None) and ``reason``, called only when the full registration runs; a region
        found is registered on and recorded as ``summary["static_region"]``.
    region_required : bool
        With ``find_region``: when it finds no static part, do not register (the
        whole field changes; see-through's default), record why and add no warning.
    require_static_reference : bool
        When too little of the field is static for the static reference (the
        refinement falls back to the temporal one), the registration is uncertain: not
        applied, with a warning. The temporal reference's error estimate was 5–30×
        too small on irm-cv, and a 48 px irm-cv field with 4 px drift was registered
        0.84 px rms off under a 0.08 px estimate.
    cache_mib : float
        A dask-backed movie whose frames fit in this many MiB (its own dtype) is kept
        in memory from the frame-quality pass for the full registration, which then
        reads nothing more (its six to sixteen passes otherwise each read the movie);
        a larger movie is read block by block as before (flat memory).

    full_when_uncached : bool
        When the drift screen cannot vouch for a still stage and the movie is read
        lazily and too large for ``cache_mib``, run the full registration anyway (its
        six to sixteen passes each read the movie). False: do not run it, use the movie
        as recorded and warn (``registration-skipped``: stage drift was not checked) —
        the pipeline's choice when registration is on only by default, so that a movie
        bigger than RAM is still read about three times per analysis.

    Returns
    -------
    dict
        ``movie`` (good frames, registered, lazy), ``quality`` (frame table),
        ``shifts`` (shift table of every frame of the input, NaN for excluded ones)
        and ``summary`` (``enabled``, ``method``, ``region``, ``reference_frame``,
        ``applied`` + ``applied_reason``, ``max_shift_px``, ``max_shift_um``,
        ``err_px_median``, ``err_px_rms`` (the rms residual estimate),
        ``scale_bias_px``, ``scale_bias_reference_px``, ``scale_disagreement_z2``
        (the static refinement's scale-consistency check, see :func:`register_drift`;
        None without it), ``scale_check`` (``"run"``, or why not: it runs only when the
        shifts without it show motion above the noise, since it can only stop a shift
        from being applied), ``n_frames``,
        ``n_frames_excluded``, ``excluded_frames`` [{frame, t_s, reason}],
        ``warnings``; with ``register``: ``path`` (``"screen"`` or ``"full
        registration"``), ``screen`` (the drift screen's verdict and reason) and, with
        ``find_region``, ``static_region``). When the screen stops, ``shifts`` is None.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> scene = 1000 + 300 * ndimage.gaussian_filter(rng.normal(size=(80, 80)), 2.0)
    >>> frames = np.stack([ndimage.shift(scene, (0.5 * k, 0.0), mode="wrap") for k in range(10)])
    >>> frames[5] = 0.0
    >>> m = xr.DataArray(frames, dims=("t", "y", "x"), coords={"t": np.arange(10.0),
    ...                  "y": np.arange(80) * 0.1, "x": np.arange(80) * 0.1})
    >>> res = stabilize_movie(m, region="whole")
    >>> s = res["summary"]
    >>> s["applied"], s["excluded_frames"][0]["reason"], round(s["max_shift_px"], 1)
    (True, 'dark', 4.5)
    """
    t = _check_movie(movie)
    px = float(np.mean(_pixel_size_um(movie)))
    from platescope.optics._drift_screen import DriftScreen

    scr = DriftScreen(movie.shape[1:], smooth_px=peak_sigma_px) if register and screen else None
    cache = _FrameCache(movie, cache_mib if register else 0.0)

    def on_block(i0, block):
        cache(i0, block)
        if scr is not None:
            scr(i0, block)

    q = frame_quality(movie, on_block=on_block, **(quality_kw or {}))
    bad = q["bad"].to_numpy(bool) if exclude_bad_frames else np.zeros(t.size, bool)
    if bad.all() or (~bad).sum() < 3:
        raise InputError(
            _source(movie),
            f"{int(bad.sum())} of the movie's {t.size} frames are bad (dark, saturated "
            "or blurred), leaving too few to analyse",
            "check the recording, or set [analysis.registration] exclude_bad_frames = false",
        )
    warnings: list[dict] = []
    excluded = [
        {"frame": int(r.frame), "t_s": float(r.t_s), "reason": str(r.reason)}
        for r in q[bad].itertuples()
    ]
    summary: dict[str, Any] = {
        "enabled": bool(register),
        "method": "cross-correlation of high-passed frames (FFT, Gaussian-weighted spectrum, 3-point Gaussian peak fit, second pass on the residual), running reference, then Lucas–Kanade refinement against a leave-one-out temporal mean reference",
        "n_frames": int(t.size),
        "n_frames_excluded": len(excluded),
        "excluded_frames": excluded,
        "bad_frame_detection": bool(exclude_bad_frames),
    }
    if excluded:
        kinds = pd.Series([e["reason"] for e in excluded]).value_counts()
        warnings.append(
            {
                "code": "frames-excluded",
                "message": f"{len(excluded)} of {t.size} frames were left out of every "
                f"per-pixel map ({', '.join(f'{v} {k}' for k, v in kinds.items())}); "
                "their list is in registration.excluded_frames",
            }
        )
    kept = movie.isel(t=np.flatnonzero(~bad)) if bad.any() else movie
    shifts = None
    out_movie = kept
    verdict = None
    if scr is not None:
        verdict = scr.verdict(
            bad if exclude_bad_frames else q["bad"].to_numpy(bool),
            false_alarm=false_alarm,
            min_shift_px=min_shift_px,
        )
        summary["screen"] = verdict
    if register and verdict is not None and verdict["verdict"] == "still":
        px_max = float(verdict["max_shift_px"])
        summary.update(
            max_shift_px=px_max,
            max_shift_um=px_max * px,
            path="screen",
            method="drift screen only: Lucas–Kanade on the tiles that did not change, "
            "against frame 0, in the frame-quality pass (no full registration)",
            applied=False,
            applied_reason=f"no motion above noise: the drift screen finds {verdict['reason']}: "
            "the movie is used as recorded (no full registration run)",
        )
    elif register and not full_when_uncached and _is_dask(movie.data) and not cache.holds_all():
        gib = movie.nbytes / 2**30
        why = verdict["reason"] if verdict else "no screen"
        summary.update(
            path="skipped (movie too large to register by default)",
            applied=False,
            applied_reason="the drift screen could not vouch for a still stage "
            f"({why}) and the full registration "
            f"of a {gib:.1f} GiB movie read from disk would read it six to sixteen more "
            "times: not run; the movie is used as recorded",
        )
        warnings.append(
            {
                "code": "registration-skipped",
                "message": f"stage drift was not checked: the movie ({gib:.1f} GiB, read "
                f"from disk) is larger than the {cache_mib:g} MiB the registration keeps "
                "in memory, and the drift screen could not vouch for a still stage "
                f"({why}); if the stage drifted, "
                "per-pixel maps are blurred in time. Set [analysis.registration] enabled "
                "= true in the experiment file to register it (six to sixteen more reads "
                "of the movie)",
            }
        )
    elif register:
        summary["path"] = "full registration"
        source = cache.movie_or(movie)  # the frames already read, when they fit
        if find_region is not None and isinstance(region, str) and region == "auto":
            found = find_region(source, bad)
            summary["static_region"] = {
                k: found.get(k)
                for k in ("region_um", "side", "width_px", "static_fraction", "reason")
            }
            if found.get("region_um") is not None:
                region = list(found["region_um"])
            elif region_required:
                summary.update(
                    path="no static region",
                    applied=False,
                    applied_reason=f"no static part of the field to register on "
                    f"({found.get('reason')}): the movie is used as recorded",
                )
                summary["warnings"] = warnings
                return {"movie": kept, "quality": q, "shifts": None, "summary": summary}
        shifts = register_drift(
            source,
            reference=reference,
            region=region,
            exclude=bad,
            peak_sigma_px=peak_sigma_px,
            scale_check_false_alarm=false_alarm,
        )
        ok = shifts.loc[~bad]
        mag = np.hypot(ok["dy_px"], ok["dx_px"])
        max_px = float(mag.max())
        err = ok["err_px"].to_numpy(float)
        summary["method"] = (
            "cross-correlation of high-passed frames (FFT, Gaussian-weighted spectrum, "
            "3-point Gaussian peak fit, second pass on the residual), running reference, "
            f"then {shifts.attrs['method']}"
        )
        summary.update(
            region=shifts.attrs["region"],
            reference_frame=shifts.attrs["reference_frame"],
            max_shift_px=max_px,
            max_shift_um=max_px * px,
            err_px_median=float(np.nanmedian(err)),
            err_px_rms=float(np.sqrt(np.nanmean(err**2))),
            peak_median=float(np.nanmedian(ok["peak"])),
            changed_fraction=shifts.attrs["changed_fraction"],
            scale_bias_px=shifts.attrs.get("scale_bias_px"),
            scale_bias_reference_px=shifts.attrs.get("scale_bias_reference_px"),
            scale_disagreement_z2=shifts.attrs.get("scale_disagreement_z2"),
            scale_check=shifts.attrs.get("scale_check"),
        )
        rvf = shifts.attrs["running_vs_fixed_px"]
        summary["running_vs_fixed_px"] = rvf
        sig = shift_significance(
            ok,
            int(shifts.attrs["reference_frame"]),
            false_alarm,
            shifts.attrs.get("reference_err_px"),
        )
        moved = motion_is_significant(sig)
        summary["shift_significance"] = sig
        # (the rms as well as the median: a deposit that appears half-way through
        # can pull the later frames off while the earlier ones are fine)
        # without the static reference (too little of the field static) the temporal
        # refinement's estimate is not trustworthy: 5–30× too small on irm-cv, and a
        # 48 px irm-cv field with 4 px drift came out 0.84 px rms off under 0.08 px
        no_static = bool(require_static_reference and shifts.attrs.get("static_fraction_too_small"))
        # below the validated regime (fields ≥ 48 px a side, ≥ 8 good frames): a real
        # 3-frame 31 × 38 px Nikon movie of sparse spots got a 2.1 px "drift" applied
        n_good, side = int((~bad).sum()), int(min(movie.shape[1:]))
        too_small = ", ".join(
            (
                [f"{n_good} good frames (at least {_MIN_FRAMES_APPLY})"]
                if n_good < _MIN_FRAMES_APPLY
                else []
            )
            + (
                [f"a field {side} px across (at least {_MIN_SIDE_APPLY_PX})"]
                if side < _MIN_SIDE_APPLY_PX
                else []
            )
        )
        uncertain = (
            summary["err_px_median"] > max_err_px
            or summary["err_px_rms"] > 2.0 * max_err_px
            or (rvf is not None and rvf > max_disagreement_px)
            or no_static
        )
        if uncertain:
            summary["applied"] = False
            summary["applied_reason"] = (
                f"the registration is uncertain (median error {summary['err_px_median']:.2f} px, "
                f"limit {max_err_px:g} px; rms {summary['err_px_rms']:.2f} px, limit "
                f"{2 * max_err_px:g} px; running and fixed references {rvf or 0:.2f} px "
                f"apart, limit {max_disagreement_px:g} px"
                + (
                    "; too little of the field is static for the static reference, and the "
                    "temporal reference's error estimate is not trustworthy"
                    if no_static
                    else ""
                )
                + "): the movie is used as recorded"
            )
        elif max_px >= min_shift_px and moved and too_small:
            summary["applied"] = False
            summary["applied_reason"] = (
                f"motion found ({max_px:.2f} px) but the movie is below what the "
                f"registration was validated on ({too_small}): not applied, the movie is "
                "used as recorded"
            )
            warnings.append(
                {
                    "code": "registration-uncertain",
                    "message": f"the drift registration found {max_px:.2f} px of motion but "
                    f"was not applied: {too_small} — too few to tell stage drift from the "
                    "content's own change; give [analysis.registration] region_um as a "
                    "textured static part of the field of a longer movie, or turn it off",
                }
            )
        elif max_px >= min_shift_px and moved:
            out_movie = apply_drift_correction(kept, ok.reset_index(drop=True))
            summary["applied"] = True
            summary["applied_reason"] = None
        else:
            summary["applied"] = False
            summary["applied_reason"] = (
                f"no motion above noise: the largest shift is {max_px:.3f} px (limit "
                f"{min_shift_px:g} px); the common offset is {sig['offset_sigma']:.1f} σ of "
                f"the reference frame's error (limit {sig['offset_limit_sigma']:.1f} σ) and "
                f"the largest frame-to-frame deviation {sig['frames_sigma']:.1f} σ (limit "
                f"{sig['frames_limit_sigma']:.1f} σ for {sig['n']} frames; each limit is "
                f"reached by a still movie with probability {false_alarm / 2:g}): the movie "
                "is used as recorded"
            )
        if max_px > large_shift_px and summary["applied"]:  # (it says "registered")
            warnings.append(
                {
                    "code": "large-stage-drift",
                    "message": f"the stage moved by up to {max_px:.1f} px ({max_px * px:.2f} µm) "
                    "during the movie; the frames were registered, but pixels near the "
                    "border saw different places: check the shift figure and the border of "
                    "the maps",
                }
            )
        if uncertain:
            warnings.append(
                {
                    "code": "registration-uncertain",
                    "message": f"the drift registration is uncertain (median error "
                    f"{summary['err_px_median']:.2f} px, rms {summary['err_px_rms']:.2f} px; "
                    "running vs fixed reference "
                    f"{rvf or 0:.2f} px apart"
                    + ("; too little of the field is static" if no_static else "")
                    + "), so no shift was "
                    "applied: the field may lack texture; give [analysis.registration] "
                    "region_um as a textured static part of the field, or turn it off",
                }
            )
    else:
        summary.update(applied=False, applied_reason="registration is turned off")
    summary["warnings"] = warnings
    return {"movie": out_movie, "quality": q, "shifts": shifts, "summary": summary}
