"""Does a movie move at all? A drift screen that rides on the frame-quality pass.

:func:`platescope.optics.stabilize_movie` reads every frame once for
:func:`~platescope.optics.frame_quality`; :class:`DriftScreen` is handed each block of
that read (``frame_quality(..., on_block=screen)``) and keeps, per frame and per tile of
a grid over the field, the normal equations of a Lucas–Kanade fit of the frame against
frame 0 (high-passed and smoothed as the registration's refinement does): shift (dy,
dx) and gain, and the residual energy left after the fit.

A deposit that grows changes its tiles; a whole-frame correlation against frame 0 then
reads 0.5–1.1 px of "motion" on still simulated IRM movies. Here a tile counts in a
frame only while its residual energy stays at its level of the first frames (what the
noise of two frames leaves): a deposit, an illumination pattern or a stage move of
more than about a pixel raise it, so the tile drops out. The frame's shift solves the
normal equations summed over its counted tiles; its error is half the difference of
the solutions of the two checkerboard halves of those tiles (squared, averaged over
neighbouring frames). The registration's significance rule
(:func:`~platescope.optics._significance.shift_significance`) then judges the
shifts.

The verdict is ``still`` (the movie is used as recorded; the full registration is not
run) or ``maybe moving`` (the full registration decides: its static-reference
refinement applies a shift only when the motion is significant). A wrong ``maybe
moving`` costs time only. ``still`` needs the reference frame good, enough counted
tiles in every good frame, no significant motion **and** the screen precise enough to
vouch for it: the largest shift plus the frame limit × its error below
``min_shift_px``, below which the full registration applies nothing either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from platescope.optics._significance import motion_is_significant, shift_significance

__all__ = ["DriftScreen"]


def _tile_edges(size: int, tile_px: int, margin: int) -> list[tuple[int, int]]:
    """Edges of 2 … 6 equal tiles along one axis inside a border of ``margin`` px."""
    inner = size - 2 * margin
    n = int(np.clip(inner // int(tile_px), 2, 6))
    cuts = (margin + np.linspace(0, inner, n + 1)).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


class DriftScreen:
    """Per-frame, per-tile Lucas–Kanade normal equations against frame 0, fed by blocks.

    Parameters
    ----------
    shape : (int, int)
        Frame size (ny, nx), px.
    highpass_px : float
        σ of the Gaussian blur subtracted from each frame, px (as the registration).
    smooth_px : float
        σ of the Gaussian smoothing after the high-pass, px (as the refinement).
    tile_px : int
        Target tile size, px (2 … 6 tiles per axis).
    border_px : int
        Frame border left out (the filters mirror it; a moving stage changes it), px.
    """

    def __init__(self, shape, *, highpass_px=8.0, smooth_px=1.0, tile_px=32, border_px=6):
        ny, nx = (int(v) for v in shape)
        border = int(min(border_px, ny // 8, nx // 8))
        self.highpass_px = float(highpass_px)
        self.smooth_px = float(smooth_px)
        ys = _tile_edges(ny, tile_px, border)
        xs = _tile_edges(nx, tile_px, border)
        self.boxes = [(y0, y1, x0, x1) for y0, y1 in ys for x0, x1 in xs]
        self.parity = np.array([(i + j) % 2 for i in range(len(ys)) for j in range(len(xs))])
        self.ref = None  # per tile: (gradient stack (3, h, w), normal matrix (3, 3))
        self.chunks: list[tuple[int, np.ndarray, np.ndarray]] = []

    def _prep(self, block: np.ndarray) -> np.ndarray:
        hp = block - ndimage.gaussian_filter(block, (0, self.highpass_px, self.highpass_px))
        if self.smooth_px > 0:
            hp = ndimage.gaussian_filter(hp, (0, self.smooth_px, self.smooth_px))
        return hp

    def __call__(self, i0: int, block: np.ndarray) -> None:
        """Take frames ``i0 …`` (float64 counts, (n, ny, nx)); the first frame seen is
        the reference."""
        hp = self._prep(block)
        if self.ref is None:
            self.ref = []
            for y0, y1, x0, x1 in self.boxes:
                r = hp[0, y0:y1, x0:x1]
                gy, gx = np.gradient(r)
                # f_k − r ≈ −dy ∂y r − dx ∂x r + g r  (content moved by (dy, dx), gain g)
                basis = np.stack([-gy, -gx, r])
                self.ref.append((r.copy(), basis, np.einsum("iyx,jyx->ij", basis, basis)))
        n = block.shape[0]
        rhs = np.empty((n, len(self.boxes), 3))
        res = np.empty((n, len(self.boxes)))
        for j, ((y0, y1, x0, x1), (r, basis, a)) in enumerate(
            zip(self.boxes, self.ref, strict=True)
        ):
            diff = hp[:, y0:y1, x0:x1] - r[None]
            b = np.einsum("kyx,iyx->ki", diff, basis)
            rhs[:, j] = b
            sol = np.linalg.solve(a + 1e-12 * np.trace(a) * np.eye(3), b.T).T
            res[:, j] = (diff**2).sum(axis=(1, 2)) - np.einsum("ki,ki->k", sol, b)
        self.chunks.append((int(i0), rhs, res))

    def _series(self):
        order = sorted(self.chunks, key=lambda c: c[0])
        return np.concatenate([c[1] for c in order]), np.concatenate([c[2] for c in order])

    def _solve(self, rhs: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """Shifts (n, 2) from the normal equations summed over the counted tiles."""
        a = np.stack([t[2] for t in self.ref])  # (tiles, 3, 3)
        a_k = np.einsum("kt,tij->kij", counted.astype(float), a)
        b_k = np.einsum("kt,kti->ki", counted.astype(float), rhs)
        ok = counted.any(axis=1)
        a_k[~ok] = np.eye(3)
        sol = np.linalg.solve(a_k, b_k[..., None])[..., 0]
        out = sol[:, :2]
        out[~ok] = np.nan
        return out

    def verdict(
        self,
        bad: np.ndarray,
        *,
        false_alarm: float = 0.001,
        min_shift_px: float = 0.25,
        min_tiles: int = 4,
        early_frames: int = 8,
        k_sigma: float = 5.0,
        error_frames: int = 15,
    ) -> dict:
        """``still`` or ``maybe moving``, with the statistics and the reason.

        A textured tile (normal matrix not below a tenth of the median tile's) counts
        in a frame while its residual energy is within ``k_sigma`` robust sd (at least
        10 %) of its median over the first ``early_frames`` good frames; ``still``
        needs ``min_tiles`` counted tiles, some in each checkerboard half, in every
        good frame (see the module docstring for the rest).
        """
        bad = np.asarray(bad, bool)
        out: dict = {
            "verdict": "maybe moving",
            "method": "lucas-kanade on tiles against frame 0",
            "n_tiles": len(self.boxes),
        }
        if self.ref is None or not self.chunks:
            out["reason"] = "no frame was measured"
            return out
        rhs, res = self._series()
        good = np.flatnonzero(~bad)
        if bad[0] or good.size < 4:
            out["reason"] = "the screen's reference (frame 0) is a bad frame"
            return out
        others = good[1:]
        early = others[: int(early_frames)]
        base = np.median(res[early], axis=0)
        spread = np.maximum(
            1.4826 * np.median(np.abs(res[early] - base), axis=0), 0.1 * np.abs(base)
        )
        info = np.array([np.linalg.eigvalsh(t[2][:2, :2])[0] for t in self.ref])
        textured = info >= 0.1 * np.median(info)
        counted = (res <= (base + k_sigma * spread)[None]) & textured[None]
        counted[bad] = False
        n_c = counted[others].sum(axis=1)
        in_frames = counted[others]
        halves_ok = in_frames[:, self.parity == 0].any(1) & in_frames[:, self.parity == 1].any(1)
        out["tiles_counted_min"] = int(n_c.min())
        out["tiles_counted_median"] = float(np.median(n_c))
        if n_c.min() < int(min_tiles) or not halves_ok.all():
            out["reason"] = (
                f"some good frames keep fewer than {int(min_tiles)} of the {len(self.boxes)} "
                "tiles unchanged since frame 0 (a deposit, a change of illumination, or the "
                "stage moved by more than about a pixel)"
            )
            return out
        m = self._solve(rhs[others], counted[others])
        ma = self._solve(rhs[others], counted[others] & (self.parity == 0)[None])
        mb = self._solve(rhs[others], counted[others] & (self.parity == 1)[None])
        # (a − b)/2 has about the variance of the whole solution; averaged over frames
        e2 = ndimage.uniform_filter1d(
            0.25 * (ma - mb) ** 2, int(error_frames), axis=0, mode="nearest"
        )
        e = np.sqrt(e2 + 0.005**2)
        e_ref = np.median(e, axis=0) / np.sqrt(2.0)  # frame 0's share of each error
        tab = pd.DataFrame(
            {
                "frame": others,
                "dy_px": m[:, 0],
                "dx_px": m[:, 1],
                "err_dy_px": e[:, 0],
                "err_dx_px": e[:, 1],
            }
        )
        sig = shift_significance(tab, 0, false_alarm, e_ref)
        mag = np.hypot(m[:, 0], m[:, 1])
        bound = float(np.max(mag + sig["frames_limit_sigma"] * np.hypot(e[:, 0], e[:, 1])))
        out.update(
            max_shift_px=float(mag.max()),
            err_px_median=float(np.median(np.hypot(e[:, 0], e[:, 1]))),
            motion_bound_px=bound,
            shift_significance=sig,
        )
        if motion_is_significant(sig):
            out["reason"] = (
                f"motion above the screen's noise (common offset {sig['offset_sigma']:.1f} σ, "
                f"limit {sig['offset_limit_sigma']:.1f} σ; largest frame {sig['frames_sigma']:.1f} σ, "
                f"limit {sig['frames_limit_sigma']:.1f} σ)"
            )
        elif bound >= float(min_shift_px):
            out["reason"] = (
                f"no significant motion, but the screen cannot rule out {bound:.2f} px "
                f"(largest shift {mag.max():.2f} px + {sig['frames_limit_sigma']:.1f} × its "
                f"error; limit {float(min_shift_px):g} px)"
            )
        else:
            out["verdict"] = "still"
            out["reason"] = (
                f"every frame within {bound:.2f} px of frame 0 (limit "
                f"{float(min_shift_px):g} px) on the tiles that did not change"
            )
        return out
