"""Segmentation of a grey volume into phases, or a user label volume mapped to phases.

Grey volumes: Otsu (two classes) or multi-Otsu (more) on a histogram of a strided
subsample (so it streams), then each threshold is moved to the midpoint between the
medians of the two classes it separates. For a symmetric blur the mid-level is where a
flat interface lies (partial-volume voxels split evenly); Otsu's own threshold drifts
with the class proportions. Voxels are classified on the volume smoothed by a Gaussian
of ``smooth_sigma_vox`` voxels (noise suppression), computed slab by slab with a halo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from platescope._errors import InputError, source_of
from platescope.volume._stream import raw_data

__all__ = ["DEFAULT_PHASES", "grey_thresholds", "label_phase_map", "phase_block"]

#: Phase names in increasing grey level for 2 and 3 classes.
DEFAULT_PHASES = {2: ("pore", "li"), 3: ("pore", "li", "other")}


def _subsample(volume, max_samples: int) -> np.ndarray:
    data = raw_data(volume)
    n = int(np.prod(data.shape))
    stride = max(1, int(np.ceil((n / max(max_samples, 1)) ** (1 / 3))))
    sub = data[::stride, ::stride, ::stride]
    if hasattr(sub, "compute"):
        sub = sub.compute()
    return np.asarray(sub, dtype=float).ravel()


def grey_thresholds(
    volume,
    *,
    classes: int = 2,
    max_samples: int = 2_000_000,
    nbins: int = 256,
) -> dict[str, Any]:
    """Phase thresholds of a grey volume from a subsampled histogram.

    Parameters
    ----------
    volume : xarray.DataArray or array_like
        Grey volume ``(z, y, x)``, possibly dask-backed (read once, strided).
    classes : int
        Number of phases (2: Otsu; 3–5: multi-Otsu).
    max_samples : int
        At most this many voxels (a regular stride in every axis) enter the histogram.
    nbins : int
        Histogram bins.

    Returns
    -------
    dict
        ``thresholds`` (grey levels, ascending, mid-points between class medians),
        ``otsu_thresholds``, ``levels`` (class medians), ``contrast_to_noise`` (smallest
        gap between neighbouring levels over the largest class robust sd),
        ``n_samples``.

    Raises
    ------
    InputError
        A constant volume or one with non-finite values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = np.where(rng.random((20, 20, 20)) < 0.3, 1.0, 0.0) + rng.normal(0, 0.1, (20, 20, 20))
    >>> t = grey_thresholds(v)
    >>> round(t["thresholds"][0], 1)
    0.5
    """
    from skimage.filters import threshold_multiotsu, threshold_otsu

    if not 2 <= int(classes) <= 5:
        raise InputError(None, f"classes={classes} is outside 2–5", "segment into 2 to 5 phases")
    x = _subsample(volume, max_samples)
    if not np.all(np.isfinite(x)):
        raise InputError(
            source_of(volume), "the volume holds NaN or infinite voxels", "replace them first"
        )
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        raise InputError(
            source_of(volume),
            f"the volume is constant ({lo:g}): there are no phases to separate",
            "check the file holds the reconstructed volume",
        )
    counts, edges = np.histogram(x, bins=nbins, range=(lo, hi))
    centres = 0.5 * (edges[1:] + edges[:-1])
    if classes == 2:
        otsu = [float(threshold_otsu(hist=(counts, centres)))]
    else:
        otsu = [float(t) for t in threshold_multiotsu(hist=(counts, centres), classes=classes)]
    bounds = [-np.inf, *otsu, np.inf]
    levels, spreads = [], []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        cls = x[(x > a) & (x <= b)]
        if cls.size == 0:
            cls = np.array([0.5 * (max(a, lo) + min(b, hi))])
        q25, q50, q75 = np.percentile(cls, [25, 50, 75])
        levels.append(float(q50))
        spreads.append(float((q75 - q25) / 1.349))
    mids = [0.5 * (a + b) for a, b in zip(levels[:-1], levels[1:], strict=True)]
    gaps = np.diff(levels)
    cnr = float(np.min(gaps) / max(max(spreads), 1e-12))
    return {
        "thresholds": mids,
        "otsu_thresholds": otsu,
        "levels": levels,
        "contrast_to_noise": cnr,
        "n_samples": int(x.size),
    }


def label_phase_map(
    labels: Mapping[Any, str], *, phases: Sequence[str] | None = None
) -> dict[int, int]:
    """Label value → phase index, from a mapping label → phase name.

    Parameters
    ----------
    labels : mapping
        Label value (int or its string) → phase name (``"pore"``, ``"li"``, ``"other"``,
        ``"outside"`` …). Labels left out are an error when met in the volume.
    phases : sequence of str, optional
        Phase names in index order (default: the order of first appearance).

    Returns
    -------
    dict
        ``{label value: phase index}`` and the phase names as ``map["names"]``.

    Examples
    --------
    >>> m = label_phase_map({"0": "pore", "1": "li", "2": "li"})
    >>> m[1], m[2], m["names"]
    (1, 1, ['pore', 'li'])
    """
    names: list[str] = list(phases or [])
    out: dict[Any, Any] = {}
    for key, name in labels.items():
        try:
            k = int(key)
        except (TypeError, ValueError):
            raise InputError(
                None, f"label {key!r} is not an integer", "map integer labels to phase names"
            ) from None
        name = str(name).strip().lower()
        if name not in names:
            names.append(name)
        out[k] = names.index(name)
    out["names"] = names
    return out


def phase_block(
    block: np.ndarray,
    *,
    thresholds: Sequence[float] | None = None,
    label_map: Mapping[Any, Any] | None = None,
    smooth_sigma_vox: float = 0.0,
) -> np.ndarray:
    """Phase index of every voxel of a block (uint8): grey thresholds or a label map.

    The Gaussian smoothing (``mode="nearest"``) of a block read with a halo of
    ``ceil(4 σ)`` slices equals smoothing the whole volume.

    >>> import numpy as np
    >>> phase_block(np.array([[[0.1, 0.9]]]), thresholds=[0.5]).tolist()
    [[[0, 1]]]
    >>> phase_block(np.array([[[7, 3]]]), label_map={7: 0, 3: 1, "names": ["pore", "li"]}).tolist()
    [[[0, 1]]]
    """
    if label_map is not None:
        keys = np.array([k for k in label_map if k != "names"], dtype=np.int64)
        vals = np.array([label_map[k] for k in keys], dtype=np.uint8)
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        b = np.asarray(block).astype(np.int64, copy=False)
        pos = np.clip(np.searchsorted(keys, b), 0, len(keys) - 1)
        if not np.all(keys[pos] == b):
            unknown = np.setdiff1d(np.unique(b), keys)[:10]
            raise InputError(
                None,
                f"the label volume holds labels {unknown.tolist()} missing from the label map",
                "map every label to a phase (e.g. labels = {0 = 'pore', 1 = 'li', 2 = 'other'})",
            )
        return vals[pos]
    g = np.asarray(block, dtype=np.float32)
    if smooth_sigma_vox > 0:
        g = ndimage.gaussian_filter(g, smooth_sigma_vox, mode="nearest")
    return np.digitize(g, np.asarray(thresholds, dtype=np.float32)).astype(np.uint8)


def smooth_halo(smooth_sigma_vox: float) -> int:
    """Halo (slices) that makes slab-wise Gaussian smoothing exact (scipy's truncate=4).

    >>> smooth_halo(1.0), smooth_halo(0)
    (4, 0)
    """
    return int(4.0 * smooth_sigma_vox + 0.5) if smooth_sigma_vox > 0 else 0
