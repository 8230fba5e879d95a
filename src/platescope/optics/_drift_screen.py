"""Does a movie move at all? A drift screen that rides on the frame-quality pass.

:func:`platescope.optics.stabilize_movie` reads every frame once for
:func:`~platescope.optics.frame_quality`; :class:`DriftScreen` is handed each block of
that read (``frame_quality(..., on_block=screen)``) and measures, per frame, the shift of
every tile of a grid against the same tile of the first frame (cross-correlation of the
high-passed, Hann-windowed tile; the same filter and peak fit as the registration's
correlator). A deposit that grows in a tile changes that tile and pulls its shift (on
the simulated IRM fields a whole-frame correlation against frame 0 reads 0.5–1.1 px of
"motion" on still movies), so only the tiles whose correlation coefficient with frame 0
stays as high as in the first frames count for a frame: a rigid stage motion moves
every tile alike and keeps their coefficient (the correlation follows the shift), a
deposit lowers it. The frame's shift is the median over those tiles, its error the
spread of the tiles about the median (the tiles' own noise; a common motion cancels in
it), and the registration's significance rule decides.

The verdict is one of two: ``still`` (the movie is used as recorded, nothing else is
read) or ``maybe moving`` (the full registration decides: its static-reference
refinement applies a shift only when the motion is significant). A wrong ``maybe
moving`` costs time only; ``still`` is said only when every good frame has enough
unchanged tiles, the reference frame is good, and neither the common offset nor any
frame's deviation is significant.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from platescope.optics._registration import _shift_significance, _subpixel

__all__ = ["DriftScreen"]


def _tile_edges(size: int, tile_px: int) -> list[tuple[int, int]]:
    """Edges of ⌊size / tile_px⌋ (2 … 4) equal tiles along one axis, px."""
    n = int(np.clip(size // int(tile_px), 2, 4))
    cuts = np.linspace(0, size, n + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


class DriftScreen:
    """Per-frame tile shifts against the first frame, fed block by block.

    Parameters
    ----------
    shape : (int, int)
        Frame size (ny, nx), px.
    highpass_px : float
        σ of the Gaussian blur subtracted from each frame, px (as the registration).
    peak_sigma_px : float
        σ of the Gaussian the cross-power spectrum is weighted by, px.
    tile_px : int
        Target tile size, px (2 … 4 tiles per axis).
    """

    def __init__(self, shape, *, highpass_px=8.0, peak_sigma_px=1.0, tile_px=32):
        ny, nx = (int(v) for v in shape)
        self.highpass_px = float(highpass_px)
        self.boxes = [
            (y0, y1, x0, x1)
            for y0, y1 in _tile_edges(ny, tile_px)
            for x0, x1 in _tile_edges(nx, tile_px)
        ]
        self._win = {}
        self._filt = {}
        for y0, y1, x0, x1 in self.boxes:
            key = (y1 - y0, x1 - x0)
            if key not in self._win:
                h, w = key
                self._win[key] = np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])
                fy = np.fft.fftfreq(h)[:, None]
                fx = np.fft.rfftfreq(w)[None, :]
                self._filt[key] = np.exp(-2.0 * np.pi**2 * peak_sigma_px**2 * (fy**2 + fx**2))
        self.ref = None
        self.chunks: list[tuple[int, np.ndarray, np.ndarray]] = []

    def _spectra(self, hp: np.ndarray, box) -> np.ndarray:
        y0, y1, x0, x1 = box
        x = hp[:, y0:y1, x0:x1] * self._win[(y1 - y0, x1 - x0)][None]
        x -= x.mean(axis=(1, 2), keepdims=True)
        return np.fft.rfft2(x)

    def __call__(self, i0: int, block: np.ndarray) -> None:
        """Measure frames ``i0 …`` (float64 counts, (n, ny, nx)); the first frame seen
        is the reference."""
        hp = block - ndimage.gaussian_filter(block, (0, self.highpass_px, self.highpass_px))
        if self.ref is None:
            self.ref = [np.conj(self._spectra(hp[:1], b)[0]) for b in self.boxes]
        n = block.shape[0]
        d = np.empty((n, len(self.boxes), 2))
        peak = np.empty((n, len(self.boxes)))
        ar = np.arange(n)
        for j, (box, ref) in enumerate(zip(self.boxes, self.ref, strict=True)):
            h, w = box[1] - box[0], box[3] - box[2]
            filt = self._filt[(h, w)]
            spec = self._spectra(hp, box)
            corr = np.fft.irfft2(ref[None] * spec * filt, s=(h, w))
            k = np.argmax(corr.reshape(n, -1), axis=1)
            iy, ix = np.unravel_index(k, (h, w))
            c0 = corr[ar, iy, ix]
            e_x = (np.abs(spec) ** 2 * filt).sum(axis=(1, 2))
            e_r = (np.abs(ref) ** 2 * filt).sum()
            # (the rfft's half plane: the ratio is what matters, a coefficient ≤ ~1)
            peak[:, j] = 0.5 * c0 * h * w / np.sqrt(np.maximum(e_x * e_r, 1e-300))
            for axis, (i, size) in enumerate(((iy, h), (ix, w))):
                if axis == 0:
                    cm, cp = corr[ar, (iy - 1) % h, ix], corr[ar, (iy + 1) % h, ix]
                else:
                    cm, cp = corr[ar, iy, (ix - 1) % w], corr[ar, iy, (ix + 1) % w]
                d[:, j, axis] = np.where(i > size // 2, i - size, i) + _subpixel(cm, c0, cp)
        self.chunks.append((int(i0), d, peak))

    def verdict(
        self,
        bad: np.ndarray,
        *,
        false_alarm: float = 0.001,
        min_shift_px: float = 0.25,
        min_tiles: int = 3,
        early_frames: int = 8,
    ) -> dict:
        """``still`` or ``maybe moving``, with the statistics and the reason.

        A tile counts in a frame while its correlation coefficient with frame 0 is
        within max(4 robust sd, 0.02) of its median over the first ``early_frames``
        good frames. The frame's shift m_k is the median over its counted tiles; each
        tile's noise is the robust sd over the frames of its deviation from m_k (a
        common motion cancels), the frame's error 1.25 × their rms / √(tiles) (the
        median's efficiency) with the reference frame's share added. ``still`` needs
        the reference frame good, ≥ ``min_tiles`` counted tiles in every good frame,
        no significant motion (:func:`_shift_significance`, ``false_alarm``) **and**
        the screen sensitive enough to vouch for it: the largest |m_k| plus the
        frame limit × its error below ``min_shift_px`` (the full registration applies
        nothing below that either). Anything else is ``maybe moving``.
        """
        import pandas as pd

        bad = np.asarray(bad, bool)
        out: dict = {"verdict": "maybe moving", "n_tiles": len(self.boxes)}
        if self.ref is None or not self.chunks:
            out["reason"] = "no frame was measured"
            return out
        d, p = self.tiles()
        good = np.flatnonzero(~bad)
        if bad[0] or good.size < 3:
            out["reason"] = "the screen's reference (frame 0) is a bad frame"
            return out
        early = good[1 : int(early_frames) + 1]
        base = np.median(p[early], axis=0)
        delta = np.maximum(4.0 * 1.4826 * np.median(np.abs(p[early] - base), axis=0), 0.02)
        counted = (p >= (base - delta)[None]) & ~bad[:, None]
        n_counted = counted.sum(axis=1)
        others = good[good != 0]
        out["tiles_counted_min"] = int(n_counted[others].min())
        out["tiles_counted_median"] = float(np.median(n_counted[others]))
        if out["tiles_counted_min"] < int(min_tiles):
            out["reason"] = (
                f"some good frames have fewer than {int(min_tiles)} of the {len(self.boxes)} "
                "tiles unchanged since frame 0 (a deposit, or content leaving the tiles)"
            )
            return out
        dd = np.where(counted[..., None], d, np.nan)
        m = np.nanmedian(dd[others], axis=1)
        r = dd[others] - m[:, None]
        sig_t = 1.4826 * np.nanmedian(np.abs(r - np.nanmedian(r, axis=0)), axis=0)
        sig_t = np.maximum(np.nan_to_num(sig_t, nan=0.0), 0.005)
        s2 = np.where(counted[others][..., None], sig_t[None] ** 2, np.nan)
        e_own = 1.2533 * np.sqrt(np.nanmean(s2, axis=1) / n_counted[others][:, None])
        e_ref = np.median(e_own, axis=0)
        e = np.sqrt(e_own**2 + e_ref**2)
        tab = pd.DataFrame(
            {"frame": others, "dy_px": m[:, 0], "dx_px": m[:, 1], "err_dy_px": e[:, 0], "err_dx_px": e[:, 1]}
        )
        sig = _shift_significance(tab, 0, false_alarm, e_ref)
        mag = np.hypot(m[:, 0], m[:, 1])
        bound = float(np.max(mag + sig["frames_limit_sigma"] * np.hypot(e[:, 0], e[:, 1])))
        out.update(
            max_shift_px=float(mag.max()),
            err_px_median=float(np.median(np.hypot(e[:, 0], e[:, 1]))),
            motion_bound_px=bound,
            shift_significance=sig,
        )
        moved = (
            sig["offset_sigma"] >= sig["offset_limit_sigma"]
            or sig["frames_sigma"] >= sig["frames_limit_sigma"]
        )
        if moved:
            out["reason"] = (
                f"motion above the screen's noise (common offset {sig['offset_sigma']:.1f} σ, "
                f"limit {sig['offset_limit_sigma']:.1f} σ; largest frame {sig['frames_sigma']:.1f} σ, "
                f"limit {sig['frames_limit_sigma']:.1f} σ)"
            )
        elif bound >= float(min_shift_px):
            out["reason"] = (
                f"no significant motion, but the screen cannot rule out {bound:.2f} px "
                f"(largest shift {mag.max():.2f} px + {sig['frames_limit_sigma']:.1f} × its error; "
                f"limit {float(min_shift_px):g} px): its tiles are too noisy to vouch for a still stage"
            )
        else:
            out["verdict"] = "still"
            out["reason"] = (
                f"no motion: every frame within {bound:.2f} px of frame 0 (limit "
                f"{float(min_shift_px):g} px) on the tiles that did not change"
            )
        return out

    def tiles(self) -> tuple[np.ndarray, np.ndarray]:
        """(shifts (n, tiles, 2) px, correlation coefficients (n, tiles)) in frame order."""
        order = sorted(self.chunks, key=lambda c: c[0])
        return (
            np.concatenate([c[1] for c in order]),
            np.concatenate([c[2] for c in order]),
        )
