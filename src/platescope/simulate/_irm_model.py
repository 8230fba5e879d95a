"""IRM forward model: SECCM footprint, Li deposit growth and what the camera records.

Everything here is pure (arrays in, arrays out). Times ``t`` are on the echem clock
(s after pipette contact); the movie clock is ``t + offset_s``.

Deposit model (per footprint pixel p, thickness-equivalent in nm)::

    h_p(t) = k·t + Σ_m G_mp·A(t − t_mp) − g(t) + D·ψ(t − t_p)
    g(t)   = Σ_q ŵ_q Σ_m G_mq·A(t − t_mq)

* ``k = V_M·|j|/F`` (nm s⁻¹) is the equivalent Li thickness rate of the whole charge:
  before nucleation every pixel receives it uniformly (SEI + Li–Au alloy).
* After its local nucleation time ``t_p`` a pixel draws an extra share
  ``G_p·Φ((t − t_p)/w)`` of the current (``A`` is the integral of the Gaussian CDF Φ);
  ``g(t)`` takes the same amount from everybody, so the current only redistributes:
  ``Σ_p ŵ_p h_p = k·t + D·Σ_p ŵ_p ψ_p`` exactly (galvanostatic, charge conserved).
  ``m`` runs over the nucleation population and a few late "protrusion" spots near the
  edge that grow thick and invert their contrast.
* ``ψ(τ) = Φ_w ⊛ (H(τ)·e^{−τ/T})`` is a transient extra contrast of fresh nuclei
  (rises within ~w of ``t_p``, decays with time constant ``T``). It gives the per-pixel
  and the footprint-mean dI/dt their peak at nucleation.

The signal image is ``(α/Ω)·B[f(h)]`` with ``B`` the Gaussian PSF (zero padding, so
it is a symmetric operator), ``ŵ ∝ B(mask)`` and ``Ω`` the fraction of a uniform
deposit's blurred signal that stays inside the footprint mask; hence the mean over
footprint pixels of the signal is ``α·Σ ŵ f(h)``, i.e. exactly
``α·(h_eq(t) + D·Σ ŵ ψ)`` for ``f`` = identity (h_eq = k·t). ``f(h) = max(h − (h − h₀)₊²/w_inv, −h₀/2)``
turns the signal down past ``h₀ + w_inv/2`` (interference contrast inversion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.special import erfcx, ndtr

__all__ = [
    "CAMERA_MAX_COUNTS",
    "IrmScene",
    "background_and_drift",
    "deposit_frame_means",
    "smooth_field",
    "truth_nucleation_times",
]

#: Largest count of the simulated 12-bit camera.
CAMERA_MAX_COUNTS = 4095

_SQRT2 = np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def smooth_field(rng, shape, sigma_px, *, mask=None):
    """Gaussian random field with unit sd and zero mean (over ``mask`` if given)."""
    z = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap")
    sel = z if mask is None else z[mask]
    return (z - sel.mean()) / sel.std()


def background_and_drift(rng, shape, pixel_size_um, background_counts, drift_frac, times_s):
    """Textured camera background (counts) and linear illumination drift per frame.

    The background is ``background_counts``·(1 + 0.03·z₁ + 0.02·z₂) with z₁, z₂ smooth
    unit fields of correlation 0.25 µm and 1.5 µm; the drift multiplies frame k by
    1 ± ``drift_frac``·(t_k − t_0)/(t_last − t_0) (random sign). Draws from ``rng`` in
    that order.

    Examples
    --------
    >>> bg, dr = background_and_drift(np.random.default_rng(0), (16, 16), 0.1, 2000.0,
    ...                               0.01, np.arange(5.0))
    >>> bg.shape, round(float(abs(dr[-1] - 1.0)), 6)
    ((16, 16), 0.01)
    """
    px = pixel_size_um
    background = background_counts * (
        1.0 + 0.03 * smooth_field(rng, shape, 0.25 / px) + 0.02 * smooth_field(rng, shape, 1.5 / px)
    )
    drift = 1.0 + rng.choice([-1.0, 1.0]) * drift_frac * (times_s - times_s[0]) / max(
        times_s[-1] - times_s[0], 1e-9
    )
    return background, drift


def _phi(x):
    return _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _transient_x(x, a):
    """ψ at x = τ/w for a = w/T: two equal forms, each where it cannot overflow.

    e^{−x²/2}·erfcx((a − x)/√2)/2 for x ≤ a and e^{a²/2 − a·x}·Φ(x − a) for x > a.
    """
    left = x <= a
    xl = np.where(left, x, a)
    xr = np.where(left, a, x)
    return np.where(
        left,
        0.5 * np.exp(-0.5 * xl * xl) * erfcx((a - xl) / _SQRT2),
        np.exp(0.5 * a * a - a * xr) * ndtr(xr - a),
    )


_BAND = 8.0  # beyond |x| = 8, Φ is 0 or 1 to double precision


def _basis(tau, w, T):
    """x = τ/w, Φ(x), φ(x) and ψ(τ), computed in full only inside |x| < 8.

    ψ(τ) is the Gaussian-smoothed H(τ)·e^{−τ/T} (peak ≈ 1); outside the band the
    asymptotic forms (Φ = 0 or 1, φ = 0, ψ = 0 or e^{a²/2 − a·x}) are exact to
    double precision.
    """
    x = np.array(tau, dtype=float, ndmin=1) / w
    a = w / T
    big = x >= _BAND
    act = (x > -_BAND) & ~big
    Phi = big.astype(float)
    phi = np.zeros_like(x)
    psi = np.zeros_like(x)
    if act.any():
        xa = x[act]
        Phi[act] = ndtr(xa)
        phi[act] = _phi(xa)
        psi[act] = _transient_x(xa, a)
    if big.any():
        psi[big] = np.exp(0.5 * a * a - a * x[big])
    return x, Phi, phi, psi


def _ramp(tau, w):
    """A(τ) = ∫ Φ(s/w) ds from −∞ to τ, in s."""
    x, Phi, phi, _ = _basis(tau, w, 1.0)
    return w * (x * Phi + phi)


def _transient(tau, w, T):
    """ψ(τ), dimensionless."""
    return _basis(tau, w, T)[3]


@dataclass
class IrmScene:
    """Static description of one simulated IRM field (all arrays over mask pixels).

    Attributes are in the units their names say; ``mask`` is the footprint (pixel
    centres within ``radius_um`` of the centre); 1-D arrays run over ``mask`` pixels
    in C order.
    """

    shape: tuple[int, int]
    pixel_size_um: float
    centre_x_um: float
    centre_y_um: float
    radius_um: float
    mask: np.ndarray
    weights: np.ndarray  # ŵ, sums to 1
    omega: float  # Ω
    psf_sigma_px: float
    k_nm_s: float
    duration_s: float
    width_s: float  # w, nucleation burst width (Gaussian sd)
    decay_s: float  # T, decay of the fresh-nuclei contrast
    burst_nm: float  # D
    t_nuc_pix_s: np.ndarray  # t_p
    growth_nm_s: np.ndarray  # G of the nucleation population
    spot_growth_nm_s: np.ndarray  # G of the protrusion spots (mostly zero)
    spot_onset_s: float  # t of the protrusion spots' onset
    alpha_counts_nm: float
    inversion_nm: float  # h0
    inversion_width_nm: float  # w_inv

    def __post_init__(self) -> None:
        self.spot_idx = np.flatnonzero(self.spot_growth_nm_s > 0)

    # -- helpers ---------------------------------------------------------------
    def contrast(self, h):
        """f(h) = max(h − (h − h₀)₊²/w_inv, −h₀/2): linear up to h₀, then bending down.

        Thickness-equivalent in, signal-equivalent out (nm): the signal peaks at
        h₀ + w_inv/2, falls below zero (darker than the wetted footprint) and is floored
        at −h₀/2 (interference contrast inversion of thick deposits).
        """
        h = np.asarray(h)
        if not (h > self.inversion_nm).any():
            return h
        over = np.maximum(h - self.inversion_nm, 0.0)
        return np.maximum(h - over * over / self.inversion_width_nm, -0.5 * self.inversion_nm)

    def contrast_slope(self, h):
        """f'(h), dimensionless."""
        over = np.maximum(h - self.inversion_nm, 0.0)
        floored = h - over * over / self.inversion_width_nm < -0.5 * self.inversion_nm
        return np.where(floored, 0.0, 1.0 - 2.0 * over / self.inversion_width_nm)

    # -- pointwise model ---------------------------------------------------------
    def thickness(self, t_s: float) -> np.ndarray:
        """h_p(t) on the echem clock (time clamped to the record), nm."""
        c = min(max(float(t_s), 0.0), self.duration_s)
        w, T = self.width_s, self.decay_s
        x, Phi, phi, psi = _basis(c - self.t_nuc_pix_s, w, T)
        share = self.growth_nm_s * (w * (x * Phi + phi))
        sp = self.spot_idx
        if sp.size:
            share[sp] += self.spot_growth_nm_s[sp] * _ramp(c - self.spot_onset_s, w)
        g = float(self.weights @ share)
        return self.k_nm_s * c + share - g + self.burst_nm * psi

    def thickness_rate(self, t_s) -> np.ndarray:
        """dh_p/dt at echem time(s) inside the record, nm s⁻¹.

        ``t_s`` may be a 1-D array of times; the result then has shape
        ``(len(t_s), n_mask_pixels)``.
        """
        w, T = self.width_s, self.decay_s
        t = np.atleast_1d(np.asarray(t_s, dtype=float))[:, None]
        _, Phi, phi, psi = _basis(t - self.t_nuc_pix_s[None, :], w, T)
        share = self.growth_nm_s * Phi
        sp = self.spot_idx
        if sp.size:
            share[:, sp] += self.spot_growth_nm_s[sp] * ndtr((t - self.spot_onset_s) / w)
        g = share @ self.weights
        rate = self.k_nm_s + share - g[:, None] + self.burst_nm * (phi / w - psi / T)
        return rate if np.ndim(t_s) else rate[0]


def deposit_frame_means(scene: IrmScene, bounds_s: np.ndarray) -> np.ndarray:
    """Exposure-averaged thickness h̄_p for frames spanning consecutive bounds.

    Frame i integrates ``h_p(c(t))`` over ``[bounds_s[i], bounds_s[i+1]]`` (echem
    clock; ``c`` clamps t to the record, so nothing grows before contact or after the
    record ends); the integrals are closed-form, so the averaging is exact.

    Returns
    -------
    ndarray, shape (len(bounds_s) - 1, n_mask_pixels)
        nm.
    """
    w, T, dur = scene.width_s, scene.decay_s, scene.duration_s
    tp, G, D = scene.t_nuc_pix_s, scene.growth_nm_s, scene.burst_nm
    sp = scene.spot_idx
    Gs = scene.spot_growth_nm_s[sp]

    def parts(tau):
        """(∫A, ∫ψ, A, ψ) at τ; ∫ψ = T·(Φ − ψ) since ψ' = φ_w − ψ/T."""
        x, Phi, phi, psi = _basis(tau, w, T)
        return (
            0.5 * w * w * ((x * x + 1.0) * Phi + x * phi),
            T * (Phi - psi),
            w * (x * Phi + phi),
            psi,
        )

    # Per-pixel constants: values and integrals at c = 0 and c = duration.
    iA0, iP0, A0, P0 = parts(-tp)
    iA1, iP1, A1, P1 = parts(dur - tp)
    if sp.size:
        siA0, _, sA0, _ = parts(np.array([-scene.spot_onset_s]))
        siA1, _, sA1, _ = parts(np.array([dur - scene.spot_onset_s]))

    def cumulative(x):
        """∫₀ˣ h_p(c(t)) dt (signed for x < 0), nm·s."""
        if x <= 0.0:
            share, burst, lin = G * A0 * x, D * P0 * x, 0.0
            spot = Gs * sA0[0] * x if sp.size else None
        elif x <= dur:
            iA, iP, _, _ = parts(x - tp)
            share, burst, lin = G * (iA - iA0), D * (iP - iP0), 0.5 * x * x
            spot = (
                Gs * (parts(np.array([x - scene.spot_onset_s]))[0][0] - siA0[0])
                if sp.size
                else None
            )
        else:
            share = G * (iA1 - iA0 + (x - dur) * A1)
            burst = D * (iP1 - iP0 + (x - dur) * P1)
            lin = 0.5 * dur * dur + (x - dur) * dur
            spot = Gs * (siA1[0] - siA0[0] + (x - dur) * sA1[0]) if sp.size else None
        if spot is not None:
            share = share.copy()
            share[sp] += spot
        return scene.k_nm_s * lin + share - float(scene.weights @ share) + burst

    out = np.empty((len(bounds_s) - 1, tp.size))
    prev = cumulative(float(bounds_s[0]))
    for i in range(len(bounds_s) - 1):
        nxt = cumulative(float(bounds_s[i + 1]))
        out[i] = (nxt - prev) / (bounds_s[i + 1] - bounds_s[i])
        prev = nxt
    return out


def truth_nucleation_times(
    scene: IrmScene, t_lo: float, t_hi: float, *, dt: float = 0.02, chunk: int = 32
):
    """Per-pixel and footprint-mean times of max d/dt of the noise-free blurred signal.

    The derivative of the PSF-blurred signal is evaluated on a uniform grid
    ``t_lo..t_hi`` (step ``dt``) and each maximum refined by a parabola through its
    three grid points. A maximum on the first or last grid point is reported as NaN
    (no maximum inside the window).

    Returns
    -------
    t_map : ndarray (n_mask_pixels,)
        s, echem clock.
    t_mean : float
        s, for the footprint-mean signal (NaN if on the window edge).
    """
    n = int(np.floor((t_hi - t_lo) / dt + 1e-9)) + 1
    grid = t_lo + dt * np.arange(n)
    deriv = np.empty((n, scene.weights.size), dtype=np.float32)
    mean_deriv = np.empty(n)
    # Pixels that can be past the inversion thickness inside the window (h grows).
    bend = np.flatnonzero(scene.thickness(t_hi) > scene.inversion_nm)
    for s0 in range(0, n, chunk):
        ts = grid[s0 : s0 + chunk]
        rate = scene.thickness_rate(ts)
        for i, t in enumerate(ts) if bend.size else ():
            rate[i, bend] *= scene.contrast_slope(scene.thickness(t)[bend])
        stack = np.zeros((ts.size, *scene.shape))
        stack[:, scene.mask] = rate
        stack = ndimage.gaussian_filter(
            stack, (0.0, scene.psf_sigma_px, scene.psf_sigma_px), mode="constant"
        )
        vals = stack[:, scene.mask]
        deriv[s0 : s0 + ts.size] = vals
        mean_deriv[s0 : s0 + ts.size] = vals.mean(axis=1)
    return _refined_argmax(deriv, grid), float(_refined_argmax(mean_deriv[:, None], grid)[0])


def _refined_argmax(y, grid):
    i = np.argmax(y, axis=0)
    n = y.shape[0]
    inner = (i > 0) & (i < n - 1)
    ic = np.clip(i, 1, n - 2)
    cols = np.arange(y.shape[1])
    y0, y1, y2 = (
        y[ic - 1, cols].astype(float),
        y[ic, cols].astype(float),
        y[ic + 1, cols].astype(float),
    )
    den = y0 - 2.0 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(den < 0, 0.5 * (y0 - y2) / den, 0.0)
    t = grid[ic] + np.clip(delta, -0.5, 0.5) * (grid[1] - grid[0])
    return np.where(inner, t, np.nan)
