"""The Movie model's shared helpers: the per-pixel maps' result image."""

import dask.array as da
import numpy as np
import xarray as xr

from platescope._movie_model import _check_movie, _frame_image


def _movie(data, *, extra_coords=True):
    nt, ny, nx = data.shape
    coords = {
        "t": np.arange(nt) * 0.25 + 1.0,
        "y": ("y", np.arange(ny) * 0.5, {"units": "µm"}),
        "x": ("x", np.arange(nx) * 0.5 + 3.0, {"units": "µm", "note": [1, 2]}),
    }
    if extra_coords:
        coords["E_V"] = ("t", np.linspace(0.0, -1.0, nt))  # along t: not in the image
        coords["cell"] = "A"  # scalar: not in the image
        coords["px_id"] = (("y", "x"), np.arange(ny * nx).reshape(ny, nx))  # not kept
    movie = xr.DataArray(
        data, dims=("t", "y", "x"), coords=coords, name="intensity",
        attrs={"units": "counts", "source": "a.tif"},
    )  # fmt: skip
    movie.encoding = {"dtype": "uint16", "chunks": (1, ny, nx)}
    return movie


def _constructor(movie, values, name, attrs):
    """What the maps returned before: the public constructor, y/x coords only."""
    coords = {c: movie.coords[c] for c in ("y", "x") if c in movie.coords}
    return xr.DataArray(values, dims=("y", "x"), coords=coords, name=name, attrs=attrs)


def test_frame_image_equals_the_public_constructor():
    raw = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    values = np.linspace(0.0, 1.0, 20, dtype=np.float32).reshape(4, 5)
    attrs = {"units": "s", "t_min_s": "none", "level": 0.5}
    for movie in (
        _movie(raw),
        _movie(raw, extra_coords=False),
        _movie(da.from_array(raw, chunks=(1, 2, 5))),
        _movie(raw).drop_vars(["x"]),  # a coordinate the movie lacks stays absent
    ):
        got = _frame_image(movie, values, name="t_nuc_s", attrs=attrs)
        want = _constructor(movie, values, "t_nuc_s", attrs)
        xr.testing.assert_identical(got, want)  # values, dims, coords + their attrs, name
        assert got.attrs == attrs and got.dtype == np.float32
        assert got.encoding == {} and got.data is values  # not copied, no movie encoding
        assert list(got.coords) == list(want.coords)
        assert list(got.xindexes) == list(want.xindexes)
    # the movie is untouched (its data, attrs, name and encoding)
    movie = _movie(raw)
    _frame_image(movie, values, name="m", attrs={"units": "s"})
    assert movie.dtype == np.uint16 and movie.name == "intensity"
    assert movie.attrs == {"units": "counts", "source": "a.tif"}
    assert movie.encoding["dtype"] == "uint16"
    np.testing.assert_array_equal(movie.values, raw)
    # the result's coordinates are its own: changing their attrs leaves the movie's alone
    got = _frame_image(movie, values, name="m", attrs={})
    got.coords["y"].attrs["units"] = "px"
    got["x"].attrs.clear()
    assert movie["y"].attrs == {"units": "µm"} and movie["x"].attrs["units"] == "µm"


def test_check_movie_returns_the_frame_times():
    movie = _movie(np.zeros((3, 2, 2), np.float32))
    t = _check_movie(movie)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t, [1.0, 1.25, 1.5])
