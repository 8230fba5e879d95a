"""IRM movie preprocessing: reference subtraction, grouped averaging, blur, footprint.

These follow the SECCM–IRM recipe (SCIENCE.md §2): subtract the landing frame, average
groups of 2 frames ("Grouped Z project" with *average*), blur each frame with a Gaussian
of σ = 1 µm, threshold a footprint mask. A movie that starts at or after contact has no
landing step; :func:`footprint_from_deposition` then outlines the footprint from where
the deposit changes the image over the record. Every function takes and returns xarray
objects, keeps the movie lazy when it is dask-backed, and uses each frame's real
timestamp (coordinate ``t`` in s).
"""

from __future__ import annotations

import numbers

import numpy as np
import numpy.typing as npt
import xarray as xr
from scipy import ndimage

from platescope._errors import InputError
from platescope._errors import source_of as _source
from platescope._movie_model import _check_movie, _float_dtype, _is_dask, _pixel_size_um

__all__ = [
    "correct_illumination_drift",
    "current_density_mA_cm2",
    "deposition_step_image",
    "footprint_area_cm2",
    "footprint_circle",
    "footprint_from_deposition",
    "footprint_mask",
    "gaussian_blur",
    "group_average",
    "subtract_reference",
]

_UM2_TO_CM2 = 1e-8


# the Movie checks live in the ground module platescope._movie_model


# --------------------------------------------------------------------------- movie ops


def subtract_reference(
    movie: xr.DataArray, *, frame: int, reference_values: np.ndarray | None = None
) -> xr.DataArray:
    """Subtract one reference frame (the landing frame) from every frame.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie, dims ``("t", "y", "x")``, coordinate ``t`` in s. May be dask-backed
        (the result stays lazy; the reference frame alone is computed, once).
    frame : int
        Index of the reference frame (numpy-style; negative counts from the end).
    reference_values : ndarray, optional
        That frame's values as float32 ``(y, x)`` if already read (e.g. the
        ``reference`` of :func:`irm_frame_statistics`): it is then not read again.

    Returns
    -------
    xarray.DataArray
        ``movie - movie[frame]`` as float32 (intensity units of the input, e.g.
        counts), same coordinates; ``attrs`` gain ``reference_frame`` and
        ``reference_time_s``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.arange(8, dtype="uint16").reshape(2, 2, 2),
    ...                  dims=("t", "y", "x"), coords={"t": [0.0, 0.2]})
    >>> subtract_reference(m, frame=0).values[1].tolist()
    [[4.0, 4.0], [4.0, 4.0]]
    """
    t = _check_movie(movie)
    if isinstance(frame, bool) or not isinstance(frame, numbers.Integral):
        raise InputError(None, f"frame must be an integer index, got {frame!r}", "pass an int")
    n = t.size
    if not -n <= frame < n:
        raise InputError(
            _source(movie),
            f"reference frame {frame} is outside the movie's {n} frames",
            f"pass a frame index between 0 and {n - 1}",
        )
    data = movie.astype(np.float32)
    # The reference frame is computed once, here (one frame): a lazy slice would be
    # recomputed — with the whole chunk holding it — by every block a consumer reads.
    ref = data.isel(t=int(frame), drop=True)
    if reference_values is not None:
        vals = np.asarray(reference_values, dtype=np.float32)
        if vals.shape != ref.shape:
            raise InputError(
                _source(movie),
                f"the reference frame given has shape {vals.shape}, the frames {ref.shape}",
                "pass the reference frame of this movie (or none)",
            )
        ref = ref.copy(data=vals)
    elif _is_dask(ref.data):
        ref = ref.copy(data=np.asarray(ref.data.compute()))
    out = data - ref
    out.attrs = dict(movie.attrs)
    out.attrs["reference_frame"] = int(frame) % n
    out.attrs["reference_time_s"] = float(t[int(frame)])
    out.name = movie.name
    return out


def group_average(movie: xr.DataArray, *, size: int = 2) -> xr.DataArray:
    """Average consecutive groups of frames (ImageJ "Grouped Z project", average).

    Frames ``[0, size)``, ``[size, 2·size)``, … are averaged; a trailing incomplete
    group is dropped. Each group's time is the mean of its frames' real timestamps.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie, dims ``("t", "y", "x")``, coordinate ``t`` in s. May be dask-backed
        (the result stays lazy).
    size : int
        Frames per group (≥ 1).

    Returns
    -------
    xarray.DataArray
        ``n_t // size`` frames; float64 if the input is float64, float32 otherwise.
        ``attrs`` gain ``group_size``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.arange(12.0).reshape(3, 2, 2), dims=("t", "y", "x"),
    ...                  coords={"t": [0.0, 0.2, 0.5]})
    >>> g = group_average(m, size=2)
    >>> g.sizes["t"], float(g.t[0]), float(g.values[0, 0, 0])
    (1, 0.1, 2.0)
    """
    t = _check_movie(movie)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InputError(None, f"group size must be an integer ≥ 1, got {size!r}", "pass size=2")
    if size > t.size:
        raise InputError(
            _source(movie),
            f"the movie has {t.size} frames, fewer than one group of {size}",
            "use a smaller group size",
        )
    data = movie.astype(_float_dtype(movie.dtype))
    out = data.coarsen(t=int(size), boundary="trim", coord_func="mean").mean()
    out.attrs = dict(movie.attrs)
    out.attrs["group_size"] = int(size)
    out.name = movie.name
    return out


def gaussian_blur(movie: xr.DataArray, *, sigma_um: float = 1.0) -> xr.DataArray:
    """Blur every frame with a 2-D Gaussian of standard deviation ``sigma_um``.

    The blur acts within each frame only (never across time). σ is converted to pixels
    separately along ``y`` and ``x`` from the coordinates, so anisotropic pixels are
    handled. Borders use mirror reflection (scipy ``mode="reflect"``), kernel truncated
    at 4 σ.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie, dims ``("t", "y", "x")``, or a single image, dims ``("y", "x")``;
        ``y``/``x`` coordinates in µm. May be dask-backed (stays lazy; chunks along
        ``y``/``x`` are merged so each frame is one block).
    sigma_um : float
        Standard deviation of the Gaussian in µm (the SECCM–IRM recipe uses 1 µm).

    Returns
    -------
    xarray.DataArray
        Blurred movie or image; float64 if the input is float64, float32 otherwise.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> img = np.zeros((21, 21)); img[10, 10] = 1.0
    >>> im = xr.DataArray(img, dims=("y", "x"),
    ...                   coords={"y": np.arange(21) * 0.5, "x": np.arange(21) * 0.5})
    >>> b = gaussian_blur(im, sigma_um=1.0)       # σ = 2 px
    >>> round(float(b.sum()), 6), round(float(b[10, 10]) * 2 * np.pi * 4, 2)
    (1.0, 1.0)
    """
    if isinstance(movie, xr.DataArray) and movie.dims == ("y", "x"):
        image = True
    else:
        _check_movie(movie)
        image = False
    if not np.isfinite(sigma_um) or sigma_um < 0:
        raise InputError(None, f"sigma_um must be ≥ 0, got {sigma_um!r}", "pass e.g. 1.0")
    dy, dx = _pixel_size_um(movie)
    sig = (sigma_um / dy, sigma_um / dx)
    sigma = sig if image else (0.0, *sig)
    dtype = _float_dtype(movie.dtype)

    def _blur(block: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(
            np.asarray(block, dtype=dtype), sigma=sigma, mode="reflect", truncate=4.0
        )

    data = movie.data
    if _is_dask(data):
        spatial = {data.ndim - 2: -1, data.ndim - 1: -1}
        out_data = data.rechunk(spatial).map_blocks(_blur, dtype=dtype)
    else:
        out_data = _blur(data)
    out = movie.copy(data=out_data)
    out.attrs = dict(movie.attrs)
    out.attrs["blur_sigma_um"] = float(sigma_um)
    return out


# --------------------------------------------------------------------------- footprint


def footprint_mask(
    image: xr.DataArray,
    *,
    method: str | float = "otsu",
    polarity: str = "bright",
    sigma_um: float | None = None,
) -> xr.DataArray:
    """Footprint of the SECCM meniscus from one image (e.g. the landing step image).

    The image (typically the frame just after contact minus the frame just before) is
    optionally blurred, thresholded (Otsu's method on its finite values, or a given
    value), holes are filled and only the largest connected component is kept.

    Parameters
    ----------
    image : xarray.DataArray
        Image, dims ``("y", "x")``, ``y``/``x`` in µm; intensity in any unit (counts).
        Dask-backed input is computed (one frame).
    method : {"otsu"} or float
        ``"otsu"`` for Otsu's threshold, or a threshold value in the image's units.
    polarity : {"bright", "dark"}
        Whether the footprint is above (``"bright"``) or below (``"dark"``) the
        threshold.
    sigma_um : float, optional
        Gaussian blur σ in µm applied before thresholding (none by default).

    Returns
    -------
    xarray.DataArray
        Boolean mask, dims ``("y", "x")``, same coordinates; ``attrs["threshold"]``
        holds the threshold used.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> yy, xx = np.mgrid[:40, :40]
    >>> step = 100.0 * ((yy - 20) ** 2 + (xx - 20) ** 2 < 100)
    >>> im = xr.DataArray(step, dims=("y", "x"),
    ...                   coords={"y": np.arange(40) * 0.1, "x": np.arange(40) * 0.1})
    >>> int(footprint_mask(im).sum())
    305
    """
    if not isinstance(image, xr.DataArray) or image.dims != ("y", "x"):
        raise InputError(
            _source(image),
            "footprint_mask needs one image with dims ('y', 'x')",
            "pass a single frame, e.g. movie.isel(t=k + 1) - movie.isel(t=k)",
        )
    if polarity not in ("bright", "dark"):
        raise InputError(None, f"polarity must be 'bright' or 'dark', got {polarity!r}", "pick one")
    img = image
    if sigma_um:
        img = gaussian_blur(image, sigma_um=float(sigma_um))
    values = np.asarray(img.values, dtype=float)
    finite = np.isfinite(values)
    if finite.sum() < 2 or np.ptp(values[finite]) == 0:
        raise InputError(
            _source(image),
            "the image is constant or empty, so no footprint can be thresholded",
            "use the landing step image (frame after contact minus frame before)",
        )
    if isinstance(method, str):
        if method != "otsu":
            raise InputError(
                None, f"method must be 'otsu' or a number, got {method!r}", "pass 'otsu'"
            )
        from skimage.filters import threshold_otsu

        thr = float(threshold_otsu(values[finite]))
    else:
        thr = float(method)
    with np.errstate(invalid="ignore"):
        region = (values > thr) if polarity == "bright" else (values < thr)
    region &= finite
    region = ndimage.binary_fill_holes(region)
    labels, n = ndimage.label(region)
    if n == 0:
        raise InputError(
            _source(image),
            f"no pixel is on the {polarity} side of the threshold {thr:g}",
            "check the polarity or give a threshold value",
        )
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    keep = labels == int(np.argmax(counts))
    out = xr.DataArray(keep, dims=("y", "x"), coords=image.coords, name="footprint")
    out.attrs = {"threshold": thr, "polarity": polarity, "method": str(method)}
    return out


def footprint_area_cm2(mask: xr.DataArray) -> float:
    """Area of a boolean footprint mask in cm².

    Parameters
    ----------
    mask : xarray.DataArray
        Boolean mask, dims ``("y", "x")``, coordinates in µm (the pixel size is their
        spacing).

    Returns
    -------
    float
        Number of ``True`` pixels × pixel area, in cm².

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> m = xr.DataArray(np.ones((10, 10), bool), dims=("y", "x"),
    ...                  coords={"y": np.arange(10) * 1.0, "x": np.arange(10) * 1.0})
    >>> footprint_area_cm2(m)  # 100 µm²
    1e-06
    """
    if not isinstance(mask, xr.DataArray) or mask.dims != ("y", "x"):
        raise InputError(
            _source(mask), "the mask must be a DataArray with dims ('y', 'x')", "use footprint_mask"
        )
    dy, dx = _pixel_size_um(mask, name="mask")
    n = int(np.count_nonzero(np.asarray(mask.values)))
    return float(n * dy * dx * _UM2_TO_CM2)


def current_density_mA_cm2(current_A: float | npt.ArrayLike, area_cm2: float):
    """Current density in mA cm⁻² from a current in A and an area in cm².

    The sign is kept (cathodic/plating current is negative).

    Parameters
    ----------
    current_A : float, array_like or pandas.Series
        Current in A.
    area_cm2 : float
        Electrode (footprint) area in cm², > 0.

    Returns
    -------
    float, ndarray or pandas.Series
        ``1000 · current_A / area_cm2`` in mA cm⁻², same type as ``current_A``.

    Examples
    --------
    >>> round(current_density_mA_cm2(-1.5e-10, 7.5e-7), 6)
    -0.2
    """
    area = float(area_cm2)
    if not np.isfinite(area) or area <= 0:
        raise InputError(
            None,
            f"the electrode area must be a positive number of cm², got {area_cm2!r}",
            "measure the footprint (footprint_area_cm2) or give [electrode] area_cm2",
        )
    if isinstance(current_A, numbers.Real):
        return float(current_A) * 1e3 / area
    if hasattr(current_A, "index") and hasattr(current_A, "to_numpy"):
        return current_A * 1e3 / area
    return np.asarray(current_A, dtype=float) * 1e3 / area


def drift_reference_mask(movie: xr.DataArray, reference) -> np.ndarray:
    """The (y, x) boolean mask of drift-reference pixels, checked against the movie's
    frame size and for ≥ 10 pixels (InputError otherwise)."""
    ref = np.asarray(getattr(reference, "values", reference), dtype=bool)
    if ref.shape != (movie.sizes["y"], movie.sizes["x"]):
        raise InputError(
            _source(movie),
            f"the drift reference mask has shape {ref.shape}, the frames "
            f"{movie.sizes['y'], movie.sizes['x']}",
            "pass a (y, x) boolean mask of the same frame size",
        )
    if ref.sum() < 10:
        raise InputError(
            _source(movie),
            "fewer than 10 reference pixels outside the footprint to measure illumination drift",
            "record a field of view larger than the footprint, or skip the drift correction",
        )
    return ref


def correct_illumination_drift(
    movie: xr.DataArray,
    *,
    reference: xr.DataArray | np.ndarray,
    frame: int = 0,
    level: np.ndarray | None = None,
) -> tuple[xr.DataArray, np.ndarray]:
    """Remove a multiplicative illumination drift using pixels where nothing happens.

    Lamp and camera drift scale every pixel alike: ``I(t, y, x) = g(t)·I₀(t, y, x)``. The
    gain ``g(t)`` is measured as the mean of the ``reference`` pixels (outside the
    electrode footprint, where nothing deposits) relative to frame ``frame``, and every
    frame is divided by it.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie (t, y, x) in counts; dask-backed input stays lazy apart from the
        reference means (one value per frame).
    reference : xarray.DataArray or ndarray of bool
        (y, x) pixels free of any electrochemical change.
    frame : int
        Frame whose gain is taken as 1.
    level : ndarray, optional
        The mean of the ``reference`` pixels per frame, counts, if already measured
        (e.g. by :func:`irm_frame_statistics` in its single pass): the movie is then
        not read here at all.

    Returns
    -------
    corrected : xarray.DataArray
        float32 movie divided by the per-frame gain.
    gain : numpy.ndarray
        ``g(t)``, dimensionless, one value per frame.

    Examples
    --------
    >>> g = np.linspace(1.0, 1.02, 5)
    >>> mv = xr.DataArray(1000.0 * g[:, None, None] * np.ones((5, 6, 6)), dims=("t", "y", "x"),
    ...                   coords={"t": np.arange(5) * 0.25})
    >>> ref = np.zeros((6, 6), bool); ref[:2] = True
    >>> out, gain = correct_illumination_drift(mv, reference=ref)
    >>> bool(np.allclose(out.values, 1000.0)), bool(np.allclose(gain, g))
    (True, True)
    """
    _check_movie(movie)
    ref = drift_reference_mask(movie, reference)
    if level is None:
        level = (movie.data * (ref / ref.sum())).sum(axis=(1, 2))
        if _is_dask(level):
            level = level.compute()
    level = np.asarray(level, dtype=float)
    if level.shape != (movie.sizes["t"],):
        raise InputError(
            _source(movie),
            f"{level.size} drift levels given for a movie of {movie.sizes['t']} frames",
            "pass one reference level per frame",
        )
    if not (np.all(np.isfinite(level)) and level[frame] > 0):
        raise InputError(
            _source(movie),
            "the reference pixels have non-finite or non-positive mean intensity",
            "check the movie for blank frames or a wrong footprint mask",
        )
    gain = level / level[frame]
    dtype = _float_dtype(movie.dtype)
    out = movie.astype(dtype) / xr.DataArray(gain.astype(dtype), dims=("t",))
    out.attrs = {**movie.attrs, "drift_corrected": True}
    return out, gain


# --------------------------------------------------------------------------- no landing step


def deposition_step_image(
    movie: xr.DataArray,
    *,
    sigma_um: float | None = 0.2,
    n_frames: int = 3,
    n_candidates: int = 16,
) -> xr.DataArray:
    """The clearest "step" the deposit makes in a movie that has no landing step.

    Before Li nucleates, the current deposits a uniform layer (SEI, Li–Au alloy) over
    the whole wetted footprint and nothing outside it, so an early image minus the
    first frames looks like a landing step; later, nuclei, growth hot spots and thick
    deposits make it patchy. Candidate images — the mean of ``n_frames`` frames
    starting at ``n_candidates`` geometrically spaced frames, minus the mean of the
    first ``n_frames`` — are blurred by ``sigma_um`` and split by Otsu's threshold;
    the candidate whose two classes are best separated relative to the spread inside
    the brighter one, ``(median_in − median_out) / (1.4826·MAD_in)``, is returned.

    Parameters
    ----------
    movie : xarray.DataArray
        Frames after contact (t, y, x), counts, ``y``/``x`` in µm; at least
        ``2·n_frames`` frames. Dask-backed input: only the frames used are computed.
    sigma_um : float, optional
        Gaussian blur σ (µm) applied to each candidate (as ``footprint_mask`` does).
    n_frames : int
        Frames averaged for the reference and for each candidate.
    n_candidates : int
        Number of candidate times.

    Returns
    -------
    xarray.DataArray
        The chosen (blurred) difference image (y, x), float64, counts; ``attrs`` hold
        ``t_start_s``/``t_end_s`` of the frames used, ``reference_t_s`` (the mean time
        of the reference frames) and ``uniformity`` (the separation score above).

    Examples
    --------
    >>> yy, xx = np.mgrid[:40, :40] * 0.1
    >>> disk = (xx - 2.0) ** 2 + (yy - 2.0) ** 2 <= 1.0
    >>> t = np.arange(30) * 0.25
    >>> frames = 1000.0 + 10.0 * t[:, None, None] * disk          # uniform deposit
    >>> m = xr.DataArray(frames, dims=("t", "y", "x"), coords={"t": t, "y": yy[:, 0], "x": xx[0]})
    >>> img = deposition_step_image(m, sigma_um=None)
    >>> float(img[20, 20]) > 50.0, float(img[0, 0])
    (True, 0.0)
    """
    t = _check_movie(movie)
    _pixel_size_um(movie)
    nf = int(n_frames)
    if nf < 1 or t.size < 2 * nf:
        raise InputError(
            _source(movie),
            f"the movie has {t.size} frames after contact, too few to see the deposit change "
            f"(needs {2 * max(nf, 1)})",
            "record more frames after contact",
        )
    ref = movie.isel(t=slice(0, nf)).astype(np.float64).mean("t")
    starts = np.unique(np.geomspace(nf, t.size - nf, max(int(n_candidates), 1)).round().astype(int))
    best = None
    for k in starts:
        img = (movie.isel(t=slice(k, k + nf)).astype(np.float64).mean("t") - ref).compute()
        if sigma_um:
            img = gaussian_blur(img, sigma_um=float(sigma_um))
        vals = np.asarray(img.values, dtype=float)
        if not np.all(np.isfinite(vals)) or np.ptp(vals) == 0:
            continue
        from skimage.filters import threshold_otsu

        inside = vals > threshold_otsu(vals)
        hi, lo = float(np.median(vals[inside])), float(np.median(vals[~inside]))
        spread = 1.4826 * float(np.median(np.abs(vals[inside] - hi)))
        score = (hi - lo) / spread if spread > 0 else np.inf
        if best is None or (score, hi - lo) > best[0]:  # ties (noise-free): larger step
            best = ((score, hi - lo), int(k), img)
    if best is None:
        raise InputError(
            _source(movie),
            "the movie does not change after contact: no deposition signal",
            "check that the movie shows the electrode while current flows",
        )
    (score, _), k, img = best
    out = img.astype(np.float64)
    out.name = "deposition_step"
    out.attrs = {
        "units": movie.attrs.get("units", "counts"),
        "t_start_s": float(t[k]),
        "t_end_s": float(t[k + nf - 1]),
        "reference_t_s": float(t[:nf].mean()),
        "uniformity": float(min(score, 1e6)),
        "source": movie.attrs.get("source"),
    }
    return out


def footprint_circle(
    like: xr.DataArray, *, centre_x_um: float, centre_y_um: float, area_cm2: float
) -> xr.DataArray:
    """Boolean mask of the pixels whose centres lie in a circle of a given area.

    Parameters
    ----------
    like : xarray.DataArray
        Image or movie whose ``y``/``x`` coordinates (µm) give the pixel grid.
    centre_x_um, centre_y_um : float
        Circle centre, µm, in the coordinates of ``like``.
    area_cm2 : float
        Circle area, cm² (> 0).

    Returns
    -------
    xarray.DataArray
        Boolean mask (y, x); ``attrs`` hold the centre and ``radius_um``.

    Examples
    --------
    >>> im = xr.DataArray(np.zeros((50, 50)), dims=("y", "x"),
    ...                   coords={"y": np.arange(50) * 0.1, "x": np.arange(50) * 0.1})
    >>> m = footprint_circle(im, centre_x_um=2.5, centre_y_um=2.5, area_cm2=np.pi * 1e-8)
    >>> round(footprint_area_cm2(m) / (np.pi * 1e-8), 2)     # a 1 µm radius disk
    1.0
    """
    _pixel_size_um(like)
    area = float(area_cm2)
    if not np.isfinite(area) or area <= 0:
        raise InputError(None, f"area_cm2 must be > 0, got {area_cm2!r}", "give the area in cm²")
    radius = float(np.sqrt(area / _UM2_TO_CM2 / np.pi))
    y = np.asarray(like["y"].values, dtype=float)[:, None]
    x = np.asarray(like["x"].values, dtype=float)[None, :]
    keep = (x - centre_x_um) ** 2 + (y - centre_y_um) ** 2 <= radius**2
    out = xr.DataArray(
        keep, dims=("y", "x"), coords={"y": like["y"], "x": like["x"]}, name="footprint"
    )
    out.attrs = {
        "centre_x_um": float(centre_x_um),
        "centre_y_um": float(centre_y_um),
        "radius_um": radius,
    }
    return out


def _largest_region(values: np.ndarray, thr: float) -> np.ndarray:
    """Largest connected component (holes filled) of ``values > thr``."""
    with np.errstate(invalid="ignore"):
        region = ndimage.binary_fill_holes(values > thr)
    labels, n = ndimage.label(region)
    if n == 0:
        return np.zeros(values.shape, bool)
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    return labels == int(np.argmax(counts))


def footprint_from_deposition(
    movie: xr.DataArray,
    *,
    sigma_um: float | None = 0.2,
    area_cm2: float | None = None,
    area_rel_err: float = 0.05,
    min_contrast: float = 5.0,
    min_centre_contrast: float = 3.0,
    min_fill: float = 0.85,
    n_frames: int = 3,
) -> tuple[xr.DataArray | None, dict]:
    """Footprint of a movie that has no landing step, from the deposition signal.

    1. :func:`deposition_step_image` picks the clearest early "deposit step" image
       (uniform deposit before nucleation), blurred by ``sigma_um``;
    2. it is thresholded like :func:`footprint_mask` (Otsu, holes filled, largest
       connected component);
    3. the outline is trusted when its *contrast* — median inside minus median outside,
       over the robust sd (MAD) of the outside — reaches ``min_contrast``, it fills at
       least ``min_fill`` of its convex hull (a meniscus footprint is convex; a patchy
       deposit is not) and it does not run along the field's border.

    With a trusted outline, the mask is the footprint. Its area uncertainty (1σ) is half
    the difference between the areas outlined at 0.4 and at 0.6 of the way from the
    outside to the inside level (how far the edge moves if the threshold is off by a
    tenth of the step: small for a sharp edge, large for a diffuse one). When
    ``area_cm2`` is also given (taken as uncertain by ``area_rel_err``, 1σ) and the two
    differ by more than twice their combined uncertainty, a ``footprint-area-mismatch``
    warning is attached.

    Without a trusted outline, with ``area_cm2``, a contrast of at least
    ``min_centre_contrast`` and the region clear of the border, the footprint is a
    circle of that area centred on the outline's centroid (:func:`footprint_circle`).
    Otherwise no mask is returned and ``reason`` says why.

    Parameters
    ----------
    movie : xarray.DataArray
        Frames after contact (t, y, x), counts, ``y``/``x`` in µm.
    sigma_um : float, optional
        Gaussian blur σ (µm) of the image before thresholding.
    area_cm2 : float, optional
        Electrode area known from elsewhere (``[electrode] area_cm2``), cm².
    area_rel_err : float
        Relative standard uncertainty of ``area_cm2``.
    min_contrast, min_centre_contrast : float
        Contrast needed to use the outline, and to centre a circle of ``area_cm2``.
    min_fill : float
        Smallest area / convex-hull area of a trusted outline.
    n_frames : int
        Frames averaged per image (see :func:`deposition_step_image`).

    Returns
    -------
    mask : xarray.DataArray or None
        Boolean footprint (y, x), or None.
    info : dict
        ``source`` (``"deposition signal"``, ``"area_cm2 centred on the deposition
        signal"`` or None), ``area_cm2``, ``area_cm2_err`` (1σ; None for the circle),
        ``centre_x_um``, ``centre_y_um``, ``radius_um`` (equivalent circle),
        ``contrast``, ``can_centre`` (contrast ≥ ``min_centre_contrast`` and clear of
        the border), ``fill``,
        ``touches_border``, ``given_area_cm2``,
        ``signal_t_s`` (times of the frames used), ``reason`` (no mask) or
        ``outline_reason`` (circle), and ``warnings`` (list of ``{code, message}``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> yy, xx = np.mgrid[:60, :60] * 0.1
    >>> disk = (xx - 3.0) ** 2 + (yy - 2.8) ** 2 <= 1.5**2        # 7.07 µm²
    >>> t = np.arange(50) * 0.25
    >>> frames = 2000.0 + 8.0 * t[:, None, None] * disk + rng.normal(0, 20, (50, 60, 60))
    >>> m = xr.DataArray(frames, dims=("t", "y", "x"),
    ...                  coords={"t": t, "y": yy[:, 0], "x": xx[0]})
    >>> mask, info = footprint_from_deposition(m, sigma_um=0.2)
    >>> info["source"], round(info["area_cm2"] * 1e8, 1), round(info["centre_x_um"], 1)
    ('deposition signal', 7.1, 3.0)
    """
    from skimage.filters import threshold_otsu
    from skimage.morphology import convex_hull_image

    dy, dx = _pixel_size_um(movie)
    img = deposition_step_image(movie, sigma_um=sigma_um, n_frames=n_frames)
    vals = np.asarray(img.values, dtype=float)
    info: dict = {
        "source": None,
        "area_cm2": None,
        "area_cm2_err": None,
        "centre_x_um": None,
        "centre_y_um": None,
        "radius_um": None,
        "contrast": None,
        "fill": None,
        "touches_border": None,
        "given_area_cm2": None if area_cm2 is None else float(area_cm2),
        "signal_t_s": [img.attrs["reference_t_s"], img.attrs["t_start_s"], img.attrs["t_end_s"]],
        "warnings": [],
    }
    thr = float(threshold_otsu(vals))
    mask = _largest_region(vals, thr)
    out_px = ~ndimage.binary_dilation(mask, iterations=3)
    if not mask.any() or out_px.sum() < 10:
        info["reason"] = "the deposition signal covers the whole field of view"
        return None, info
    lo = float(np.median(vals[out_px]))
    hi = float(np.median(vals[mask]))
    spread = 1.4826 * float(np.median(np.abs(vals[out_px] - lo)))
    contrast = (hi - lo) / spread if spread > 0 else np.inf
    info["contrast"] = float(min(contrast, 1e6))
    info["fill"] = float(mask.sum() / convex_hull_image(mask).sum())
    border = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    info["touches_border"] = bool(border.mean() > 0.02)
    # a region cut by the field's edge has a biased centroid: no circle on it either
    info["can_centre"] = bool(contrast >= min_centre_contrast and not info["touches_border"])
    yc, xc = ndimage.center_of_mass(mask)
    info["centre_x_um"] = float(np.interp(xc, np.arange(movie.sizes["x"]), movie["x"].values))
    info["centre_y_um"] = float(np.interp(yc, np.arange(movie.sizes["y"]), movie["y"].values))
    px_cm2 = dy * dx * _UM2_TO_CM2
    if contrast >= min_contrast and info["fill"] >= min_fill and not info["touches_border"]:
        area = float(mask.sum()) * px_cm2
        a_lo = float(_largest_region(vals, lo + 0.4 * (hi - lo)).sum()) * px_cm2
        a_hi = float(_largest_region(vals, lo + 0.6 * (hi - lo)).sum()) * px_cm2
        err = 0.5 * abs(a_lo - a_hi)
        info.update(
            source="deposition signal",
            area_cm2=area,
            area_cm2_err=err,
            radius_um=float(np.sqrt(area / _UM2_TO_CM2 / np.pi)),
        )
        if area_cm2 is not None:
            given = float(area_cm2)
            allowed = 2.0 * float(np.hypot(err, area_rel_err * given))
            if abs(area - given) > allowed:
                info["warnings"].append(
                    {
                        "code": "footprint-area-mismatch",
                        "message": f"the footprint outlined by the deposition signal "
                        f"({area:.3g} ± {2 * err:.2g} cm²) differs from [electrode] "
                        f"area_cm2 ({given:.3g} cm², taken as ± {100 * area_rel_err:.0f} %) "
                        "by more than their 95 % uncertainty: check the given area, or "
                        "whether the deposit covers the whole footprint",
                    }
                )
        out = xr.DataArray(
            mask, dims=("y", "x"), coords={"y": movie["y"], "x": movie["x"]}, name="footprint"
        )
        out.attrs = {"threshold": thr, "method": "otsu", "signal": "deposition step"}
        return out, info
    if contrast < min_contrast:
        why = (
            f"the deposition signal is weak (contrast {contrast:.1f}× the noise, "
            f"{min_contrast:g} needed to outline the footprint)"
        )
    elif info["touches_border"]:
        why = "the deposit reaches the border of the field of view"
    else:
        why = (
            f"the deposit is patchy (its outline fills {100 * info['fill']:.0f} % of its "
            f"convex hull, {100 * min_fill:.0f} % needed)"
        )
    if area_cm2 is not None and info["can_centre"]:
        circle = footprint_circle(
            movie,
            centre_x_um=info["centre_x_um"],
            centre_y_um=info["centre_y_um"],
            area_cm2=float(area_cm2),
        )
        info.update(
            source="area_cm2 centred on the deposition signal",
            area_cm2=float(area_cm2),
            radius_um=circle.attrs["radius_um"],
            outline_reason=why,
        )
        return circle, info
    info["reason"] = why
    return None, info
