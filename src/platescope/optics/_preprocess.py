"""IRM movie preprocessing: reference subtraction, grouped averaging, blur, footprint.

These follow the SECCM–IRM recipe (SCIENCE.md §2): subtract the landing frame, average
groups of 2 frames ("Grouped Z project" with *average*), blur each frame with a Gaussian
of σ = 1 µm, threshold a footprint mask. Every function takes and returns xarray
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

__all__ = [
    "correct_illumination_drift",
    "current_density_mA_cm2",
    "footprint_area_cm2",
    "footprint_mask",
    "gaussian_blur",
    "group_average",
    "subtract_reference",
]

_UM2_TO_CM2 = 1e-8


# --------------------------------------------------------------------------- checks


def _check_movie(movie, *, name: str = "movie") -> np.ndarray:
    """Validate a Movie and return its frame times in s (float64, strictly increasing)."""
    if not isinstance(movie, xr.DataArray):
        raise InputError(
            None,
            f"{name} is a {type(movie).__name__}, not an xarray.DataArray with dims (t, y, x)",
            "read the movie with platescope.io.read_movie or wrap the array in "
            "xarray.DataArray(data, dims=('t', 'y', 'x'), coords={'t': times_s, ...})",
        )
    if movie.dims != ("t", "y", "x"):
        raise InputError(
            _source(movie),
            f"{name} has dims {movie.dims}, expected ('t', 'y', 'x')",
            "transpose it with movie.transpose('t', 'y', 'x') or rename the dimensions",
        )
    if movie.sizes["t"] == 0 or movie.sizes["y"] == 0 or movie.sizes["x"] == 0:
        raise InputError(
            _source(movie), f"{name} is empty (shape {movie.shape})", "check the input file"
        )
    if "t" not in movie.coords:
        raise InputError(
            _source(movie),
            f"{name} has no time coordinate 't'",
            "attach the per-frame timestamps in seconds as coordinate 't'",
        )
    t = np.asarray(movie["t"].values, dtype=float)
    if not np.all(np.isfinite(t)):
        raise InputError(
            _source(movie),
            f"{name} has non-finite frame times",
            "supply real per-frame timestamps (a frame-times CSV) or the frame interval",
        )
    if t.size > 1 and not np.all(np.diff(t) > 0):
        bad = int(np.argmax(~(np.diff(t) > 0)))
        raise InputError(
            _source(movie),
            f"{name} frame times are not strictly increasing (frame {bad + 1} at "
            f"{t[bad + 1]!r} s follows {t[bad]!r} s)",
            "fix the frame timestamps (zero or repeated times usually mean the metadata "
            "lacks them; pass a frame-times CSV or the frame interval)",
        )
    return t


def _pixel_size_um(obj, *, name: str = "movie") -> tuple[float, float]:
    """(dy, dx) in µm from the ``y``/``x`` coordinates of a DataArray."""
    sizes = []
    for dim in ("y", "x"):
        if dim not in obj.coords or obj.sizes[dim] < 2:
            raise InputError(
                _source(obj),
                f"{name} has no usable '{dim}' coordinate in µm to give the pixel size",
                f"attach coordinate '{dim}' in µm (pixel centres), e.g. from the file "
                "metadata or the experiment file's pixel_size_um",
            )
        c = np.asarray(obj[dim].values, dtype=float)
        d = np.diff(c)
        step = float(np.median(np.abs(d)))
        if not np.isfinite(step) or step <= 0 or not np.allclose(np.abs(d), step, rtol=1e-3):
            raise InputError(
                _source(obj),
                f"{name} coordinate '{dim}' is not evenly spaced in µm",
                f"give '{dim}' as evenly spaced pixel centres in µm",
            )
        sizes.append(step)
    return sizes[0], sizes[1]


def _float_dtype(dtype) -> np.dtype:
    """float64 stays float64; everything else computes in float32."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _is_dask(arr) -> bool:
    return hasattr(arr, "dask") and hasattr(arr, "compute")


# --------------------------------------------------------------------------- movie ops


def subtract_reference(movie: xr.DataArray, *, frame: int) -> xr.DataArray:
    """Subtract one reference frame (the landing frame) from every frame.

    Parameters
    ----------
    movie : xarray.DataArray
        Movie, dims ``("t", "y", "x")``, coordinate ``t`` in s. May be dask-backed
        (the result stays lazy).
    frame : int
        Index of the reference frame (numpy-style; negative counts from the end).

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
    ref = data.isel(t=int(frame), drop=True)
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


def correct_illumination_drift(
    movie: xr.DataArray, *, reference: xr.DataArray | np.ndarray, frame: int = 0
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
    ref = np.asarray(getattr(reference, "values", reference), dtype=bool)
    if ref.shape != (movie.sizes["y"], movie.sizes["x"]):
        raise InputError(
            _source(movie),
            f"the drift reference mask has shape {ref.shape}, the frames {movie.sizes['y'], movie.sizes['x']}",
            "pass a (y, x) boolean mask of the same frame size",
        )
    if ref.sum() < 10:
        raise InputError(
            _source(movie),
            "fewer than 10 reference pixels outside the footprint to measure illumination drift",
            "record a field of view larger than the footprint, or skip the drift correction",
        )
    data = movie.data
    level = (data * (ref / ref.sum())).sum(axis=(1, 2))
    if _is_dask(level):
        level = level.compute()
    level = np.asarray(level, dtype=float)
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
