"""Fused per-pixel kernels: the compiled (numba) and numpy back-ends agree bit for bit,
and the numpy one is chosen automatically when numba cannot be imported."""

import sys

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from platescope.optics import _kernels, t_nuc_map

numba_missing = _kernels._numba_kernel() is None


def _movie(seed, dtype, *, nt=140, ny=13, nx=21):
    """Logistic rises at planted times (uniform in 12–22 s) on a jittered clock."""
    rng = np.random.default_rng(seed)
    t = 1.0 + np.cumsum(np.r_[0.0, 0.25 * (1.0 + rng.uniform(-0.3, 0.3, nt - 1))])
    t0 = rng.uniform(12.0, 22.0, (ny, nx))
    clean = 300.0 + 400.0 / (1.0 + np.exp(-(t[:, None, None] - t0) / 1.0))
    values = rng.poisson(clean).astype(dtype)
    return xr.DataArray(values, dims=("t", "y", "x"), coords={"t": t}), t0


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize("dtype", ["uint16", "float32", "float64", "int32"])
def test_numba_and_numpy_maps_are_bit_identical(monkeypatch, dtype):
    movie, t0 = _movie(3, dtype)
    maps = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        for kw in ({}, {"t_min_s": 14.0, "t_max_s": 20.0}, {"spatial_sigma_px": 1.0}):
            maps[name, str(kw)] = t_nuc_map(movie, window_s=2.0, max_block_mb=0.05, **kw).values
    for key, value in maps.items():
        if key[0] == "numba":
            np.testing.assert_array_equal(value, maps["numpy", key[1]])
    # and both recover the planted times (uniform clock jitter; Poisson noise)
    err = maps["numba", "{}"] - t0
    assert (
        np.isfinite(err).mean() > 0.95 and np.nanmedian(np.abs(err)) < 2 * 0.25
    )  # ≤ 2 frame intervals


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
def test_numba_threads_and_dask_do_not_change_the_map(monkeypatch):
    movie, _ = _movie(5, "uint16", ny=17, nx=9)
    monkeypatch.setenv("PLATESCOPE_THREADS", "1")
    one = t_nuc_map(movie, window_s=2.0).values
    monkeypatch.setenv("PLATESCOPE_THREADS", "3")
    three = t_nuc_map(movie, window_s=2.0).values
    lazy = movie.copy(data=da.from_array(movie.values, chunks=(17, 5, 9)))
    lazy_map = t_nuc_map(lazy, window_s=2.0, max_block_mb=0.01).values
    np.testing.assert_array_equal(one, three)
    np.testing.assert_array_equal(one, lazy_map)


def test_fallback_selected_when_numba_is_absent(monkeypatch):
    movie, t0 = _movie(4, "uint16", ny=6, nx=7)
    monkeypatch.delenv("PLATESCOPE_KERNELS", raising=False)
    monkeypatch.setattr(_kernels, "_STATE", {})
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    assert _kernels.backend() == "numpy"
    err = t_nuc_map(movie, window_s=2.0).values - t0
    assert np.isfinite(err).all() and np.median(np.abs(err)) < 2 * 0.25
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numba")
    with pytest.raises(RuntimeError, match="numba"):
        _kernels.backend()


def test_banded_operator_reproduces_the_sparse_matrix():
    from platescope.optics._nucleation_time import _derivative_operator

    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.15, 0.3, 80))
    op = _derivative_operator(t, window_s=1.5, polyorder=3)
    band = _kernels.BandedOperator.from_csr(op.matrix, op.col_lo, op.col_hi)
    dense = np.zeros(op.matrix.shape)
    for k in range(dense.shape[0]):
        dense[k, band.start[k] : band.start[k] + band.width] = band.weights[k]
    np.testing.assert_allclose(dense, op.matrix.toarray(), rtol=1e-6, atol=1e-6 * abs(dense).max())


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
def test_onset_map_numba_equals_numpy_within_float32_rounding(monkeypatch):
    from platescope.optics import onset_map

    rng = np.random.default_rng(2)
    t = np.cumsum(rng.uniform(0.8, 1.2, 60))
    tau = rng.uniform(15.0, 45.0, (20, 30))
    clean = 1.0 / (1.0 + np.exp(-(t[:, None, None] - tau) / 1.5))
    values = clean + rng.normal(0.0, 0.02, clean.shape)
    values[:, :3, :3] = 0.5 + rng.normal(0.0, 0.02, (60, 3, 3))  # no rise: NaN
    values[10, 5, 5] = np.nan  # a hole: NaN
    movie = xr.DataArray(values, dims=("t", "y", "x"), coords={"t": t})
    maps = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        maps[name] = onset_map(movie, t_start_s=t[0], t_end_s=t[-1], sigma_um=0).values
        lazy = movie.chunk({"y": 7})  # dask blocks (y, x, t) go through the same kernel
        maps[name, "dask"] = onset_map(lazy, t_start_s=t[0], t_end_s=t[-1], sigma_um=0).values
    np.testing.assert_array_equal(np.isnan(maps["numba"]), np.isnan(maps["numpy"]))
    assert np.isnan(maps["numba"][:3, :3]).all() and np.isnan(maps["numba"][5, 5])
    # same float64 operations in the same order (numpy's pairwise sums included)
    np.testing.assert_allclose(maps["numba"], maps["numpy"], rtol=1.2e-7, atol=0)
    for key in ("numpy", ("numba", "dask"), ("numpy", "dask")):
        np.testing.assert_array_equal(maps["numba"], maps[key])
    err = maps["numba"] - tau  # the half-level crossing of the planted logistic
    assert np.nanmedian(np.abs(err)) < 0.5


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize("n_frames", [40, 41, 300])  # even/odd medians; pairwise sums > 128
def test_onset_map_numba_equals_numpy_on_integer_counts_with_ties(monkeypatch, n_frames):
    """Integer-valued frames: the frame differences tie massively (the medians' selection
    must handle equal values) and flat pixels have every difference 0."""
    from platescope.optics import onset_map

    rng = np.random.default_rng(n_frames)
    t = np.cumsum(rng.uniform(0.8, 1.2, n_frames))
    tau = rng.uniform(0.3, 0.7, (12, 14)) * t[-1]
    clean = 20.0 / (1.0 + np.exp(-(t[:, None, None] - tau) / 2.0))
    values = np.round(clean + rng.normal(0.0, 1.0, clean.shape)).astype(np.int16)
    values[:, :2, :2] = 5  # flat: no rise, NaN
    movie = xr.DataArray(values, dims=("t", "y", "x"), coords={"t": t})
    maps = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        maps[name] = onset_map(movie, t_start_s=t[0], t_end_s=t[-1], sigma_um=0).values
    np.testing.assert_array_equal(maps["numba"], maps["numpy"])
    assert np.isnan(maps["numba"][:2, :2]).all()
    assert np.isfinite(maps["numba"]).mean() > 0.9
    # the half-level crossing of the planted logistic, within a frame or two
    assert np.nanmedian(np.abs(maps["numba"] - tau)) < 1.0


def test_split_operator_reproduces_the_sparse_matrix():
    """Resampling (2 taps) + antisymmetric SG derivative == the product operator."""
    from platescope.optics._nucleation_time import _derivative_operator, _sg_weights

    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.15, 0.3, 90))
    for window_s, polyorder in ((1.5, 2), (2.0, 3), (1.0, 1)):
        op = _derivative_operator(t, window_s=window_s, polyorder=polyorder)
        split = _kernels.SplitOperator.build(
            op.t_s, op.t_u, op.dt, op.window, op.polyorder, _sg_weights
        )
        h = (op.window - 1) // 2
        assert split.half == h
        ref = op.matrix.toarray()[h - 1 : op.t_u.size - h + 1]
        dense = split.dense()[h - 1 : op.t_u.size - h + 1, : t.size]
        np.testing.assert_allclose(dense, ref, rtol=0, atol=1e-6 * np.abs(ref).max())
        # each row reads only the frames it declares
        for k in range(h - 1, op.t_u.size - h + 1):
            cols = np.flatnonzero(ref[k - (h - 1)])
            assert split.lo[k] <= cols.min() and cols.max() <= split.hi[k]


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
def test_non_finite_pixels_are_nan_in_both_back_ends(monkeypatch):
    movie, _ = _movie(9, "float32", ny=8, nx=10)
    values = movie.values.copy()
    values[50, 2, 3] = np.nan
    values[60, 4, 4] = np.inf
    values[70, 6, 7] = -np.inf
    movie = movie.copy(data=values)
    maps = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        maps[name] = t_nuc_map(movie, window_s=2.0, max_block_mb=0.01).values
    np.testing.assert_array_equal(maps["numba"], maps["numpy"])
    assert np.isnan(maps["numba"][[2, 4, 6], [3, 4, 7]]).all()
    assert np.isfinite(maps["numba"]).sum() >= 8 * 10 - 3 - 4  # the rest mostly finite


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_window_means_numba_equals_numpy_and_the_plain_mean(monkeypatch, dtype):
    """CE(IRM) window means: both back-ends bit-identical; equal to a plain float64 mean
    of the frames within ±window/2 (another summation order: within rounding)."""
    from platescope.optics import window_means

    rng = np.random.default_rng(7)
    t = np.cumsum(rng.uniform(0.2, 0.3, 120))
    values = rng.poisson(800.0, (120, 19, 37)).astype(dtype)
    movie = xr.DataArray(values, dims=("t", "y", "x"), coords={"t": t})
    inst = [t[3], 10.0, 17.5, t[-1], 40.0]  # the last one outside the span: nearest frame
    out = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        out[name] = window_means(movie, inst, window_s=1.0, span_s=(t[0], t[-1])).values
        out[name, "bands"] = window_means(movie, inst, window_s=1.0, max_block_mb=0.001).values
    for key in out:
        np.testing.assert_array_equal(out[key], out["numba"])
    for k, c in enumerate(inst):
        sel = np.abs(t - c) <= 0.5
        if not sel.any():
            sel = np.arange(t.size) == np.argmin(np.abs(t - c))
        ref = values[sel].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(out["numba"][k], ref, rtol=1e-12)


def _onset_maps(monkeypatch, movie, **kw):
    from platescope.optics import onset_map

    t = movie.t.values
    out = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        out[name] = onset_map(movie, t_start_s=t[0], t_end_s=t[-1], sigma_um=0, **kw).values
    return out


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize("min_snr", [5.0, 0.0])
def test_onset_map_noise_test_by_count_and_by_selection_agree_with_numpy(monkeypatch, min_snr):
    """Pixels the count settles (clean rises), pixels it cannot (every frame difference
    large: the exact medians decide), pixels near the noise threshold, non-finite
    samples in the first, edge and middle frames: numba == numpy bit for bit, and the
    former per-pixel selection kernel gives the same map."""
    rng = np.random.default_rng(11)
    nt = 80
    t = np.cumsum(rng.uniform(0.8, 1.2, nt))
    tau = rng.uniform(25.0, 55.0, (16, 24))
    values = 1.0 / (1.0 + np.exp(-(t[:, None, None] - tau) / 1.5))
    values = values + rng.normal(0.0, 0.02, values.shape)
    alt = 0.3 * (-1.0) ** np.arange(nt)
    values[:, 0, :6] = 4.0 * values[:, 0, :6] + alt[:, None]  # |d| ≈ 0.6 everywhere
    values[:, 1, :] += rng.normal(0.0, np.linspace(0.05, 0.6, 24), (nt, 24))  # noisy
    values[0, 2, 0] = np.nan  # first frame
    values[1, 2, 1] = np.inf  # an edge frame
    values[-1, 2, 2] = -np.inf
    values[40, 2, 3] = np.nan  # the middle
    movie = xr.DataArray(values, dims=("t", "y", "x"), coords={"t": t})
    maps = _onset_maps(monkeypatch, movie, min_snr=min_snr)
    np.testing.assert_array_equal(maps["numba"], maps["numpy"])
    assert np.isnan(maps["numba"][2, :4]).all()
    assert np.isfinite(maps["numba"][0, :6]).all()  # settled by the exact medians
    if min_snr:  # the noisiest pixels of row 1 fail the noise test, the least do not
        assert np.isfinite(maps["numba"][1, :3]).all() and np.isnan(maps["numba"][1, -3:]).all()
    # the former kernel (two exact medians for every pixel) agrees
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numba")
    rise = np.nanmean(values[-3:], axis=0) - np.nanmean(values[:3], axis=0)
    select = _kernels.onset_numba_movie(
        np.ascontiguousarray(values),
        t=t,
        level=0.5,
        n=3,
        min_rise=0.25 * float(np.nanmedian(rise)),
        min_snr=min_snr,
        _method="select",
    )
    np.testing.assert_array_equal(maps["numba"], select)
    err = maps["numba"][3:] - tau[3:]
    assert np.nanmedian(np.abs(err)) < 0.5


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize(
    ("nt", "n_edge", "dtype"),
    [(4, 3, "float32"), (5, 3, "uint16"), (40, 10, "float64"), (300, 9, "uint16")],
)
def test_onset_map_short_series_wide_edges_and_integer_counts(monkeypatch, nt, n_edge, dtype):
    """Degenerate lengths (4–5 frames: one edge frame each, 3–4 differences), edge means
    of ≥ 8 frames (numpy's pairwise sums), integer counts with ties, and a negative
    ``min_rise`` (falling pixels reach the noise test): numba == numpy bit for bit."""
    rng = np.random.default_rng(nt)
    t = np.cumsum(rng.uniform(0.8, 1.2, nt))
    tau = rng.uniform(0.3, 0.7, (9, 11)) * t[-1]
    clean = 200.0 / (1.0 + np.exp(-(t[:, None, None] - tau) / 2.0))
    values = np.round(100.0 + clean + rng.normal(0.0, 3.0, clean.shape))
    values[:, :2, :3] = values[::-1, :2, :3]  # falling
    movie = xr.DataArray(values.astype(dtype), dims=("t", "y", "x"), coords={"t": t})
    for kw in ({}, {"min_rise": -1.0}):
        maps = _onset_maps(monkeypatch, movie, n_edge=n_edge, **kw)
        np.testing.assert_array_equal(maps["numba"], maps["numpy"])
        assert np.isfinite(maps["numba"][2:]).mean() > 0.8
    if nt >= 40:  # enough frames to place the half-level crossing
        assert np.nanmedian(np.abs(maps["numba"][2:] - tau[2:])) < 1.5


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint16"])
@pytest.mark.parametrize("n", [1, 3, 10])
def test_rise_image_equals_xarray_nan_skipping_means(dtype, n):
    """The onset map's median-rise image from plain means == xarray's NaN-skipping
    ``mean("t")`` (another implementation), NaN and ±inf samples included."""
    import warnings

    from platescope.optics._alloying import _rise_image

    rng = np.random.default_rng(n)
    v = rng.normal(100.0, 20.0, (40, 9, 13)).astype(dtype)
    if dtype.startswith("float"):
        v[0, 3, 4] = v[-1, 5, 6] = np.nan
        v[:n, 7, 7] = np.nan  # an all-NaN edge
        v[0, 8, 8] = np.inf
    win = xr.DataArray(v, dims=("t", "y", "x")).transpose("y", "x", "t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = (win.isel(t=slice(-n, None)).mean("t") - win.isel(t=slice(0, n)).mean("t")).values
    np.testing.assert_array_equal(_rise_image(win, n), ref)
    # the movie's own (t, y, x) order (onset_map passes it untransposed): the same image
    np.testing.assert_array_equal(_rise_image(win.transpose("t", "y", "x"), n), ref)


@pytest.mark.parametrize("dtype", ["int16", "float64", "uint8"])
def test_window_sums_groups_of_frames_equal_a_plain_float64_loop(monkeypatch, dtype):
    """Windows of 0–9 frames (the compiled kernel sums up to four frames per sweep,
    then the remainder) and repeated frames: both back-ends equal a plain float64
    loop in the same order, bit for bit."""
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 200, (30, 20, 500)).astype(dtype)  # 2 threads: ≥ 8192 px
    if dtype == "int16":
        arr -= 100
    sizes = [0, 1, 2, 3, 4, 5, 8, 9]
    frames = np.concatenate([rng.integers(0, 30, n) for n in sizes])
    wts = rng.uniform(0.1, 1.0, frames.size)
    ptr = np.r_[0, np.cumsum(sizes)]
    ref = np.zeros((len(sizes), 20, 500))
    for k in range(len(sizes)):
        for j in range(ptr[k], ptr[k + 1]):
            ref[k] = ref[k] + wts[j] * arr[frames[j]].astype(np.float64)
    for name in ("numba", "numpy"):
        monkeypatch.setenv("PLATESCOPE_KERNELS", name)
        for threads in ("1", "2"):
            monkeypatch.setenv("PLATESCOPE_THREADS", threads)
            got = _kernels.window_sums(arr, frames, wts, ptr, max_block_mb=0.01)
            np.testing.assert_array_equal(got, ref)


def test_derivative_operator_is_cached_read_only_and_builds_extras_on_use():
    """One operator per (frame times, window, order): a second map of the same movie
    reuses it; its arrays cannot be changed by a caller; the SG-smoothed operator is
    built on first use and equals the SG value weights times the resampling."""
    from scipy.signal import savgol_coeffs

    from platescope.optics._nucleation_time import _derivative_operator

    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.2, 0.3, 60))
    op = _derivative_operator(t, window_s=1.5, polyorder=2)
    assert _derivative_operator(t.copy(), window_s=1.5, polyorder=2) is op
    assert _derivative_operator(t, window_s=2.0, polyorder=2) is not op
    assert _derivative_operator(t + 1.0, window_s=1.5, polyorder=2) is not op
    for a in (op.t_s, op.t_u, op.col_lo, op.matrix.data):
        assert not a.flags.writeable
    assert "smooth" not in op.__dict__  # not built by a map
    h = (op.window - 1) // 2
    # a centred row of the smoothing operator: SciPy's SG value weights on the grid
    y = np.sin(op.t_s)
    grid = np.interp(op.t_u, op.t_s, y)
    k = op.t_u.size // 2
    ref = savgol_coeffs(op.window, 2, use="dot") @ grid[k - h : k + h + 1]
    np.testing.assert_allclose((op.smooth @ y)[k], ref, rtol=1e-12)


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize(("nt", "dtype"), [(129, "float32"), (515, "int16"), (60, "float64")])
def test_onset_kernel_crossing_patterns_equal_numpy_and_the_selection_kernel(
    monkeypatch, nt, dtype
):
    """The kernel sums only the intervals between the first and the last crossing and
    rebuilds numpy's pairwise sum from per-lane dt sums: pixels crossing the level many
    times, a plateau exactly at the level, pixels that start above it or end below it,
    steps, in series spanning several leaves of the summation tree — bit for bit equal
    to the numpy code and to the former kernel (exact medians, direct division)."""
    from platescope.optics._alloying import _onset_kernel

    rng = np.random.default_rng(nt)
    t = np.cumsum(rng.uniform(0.5, 1.5, nt))
    npx = 240
    tau = rng.uniform(t[0], t[-1], npx)
    x = 1.0 / (1.0 + np.exp(-np.clip((t[:, None] - tau) / 1.5, -50, 50)))
    kind = np.arange(npx) % 6
    x[:, kind == 1] = x[::-1, kind == 1]  # start above, end below
    period = rng.uniform(1.0, 10.0, (kind == 2).sum())
    x[:, kind == 2] = 0.5 + 0.6 * np.sin(t[:, None] / period)  # many crossings
    x[:, kind == 3] = np.where(t[:, None] < tau[kind == 3], 0.0, 1.0)  # steps
    x[:3, kind == 4], x[3:-3, kind == 4], x[-3:, kind == 4] = 0.0, 0.5, 1.0  # at the level
    x[:, kind == 5] = np.linspace(0.0, 1.0, nt)[:, None]  # a clean ramp
    x = x + rng.normal(0.0, 0.01, x.shape) * (kind != 4)
    if dtype == "int16":
        x = np.round(1000.0 + 200.0 * x)
    arr = np.ascontiguousarray(x.astype(dtype).reshape(nt, 12, 20))
    scale = 200.0 if dtype == "int16" else 1.0
    for level, min_snr in ((0.5, 5.0), (0.3, 0.0), (0.8, 2.0)):
        kw = dict(t=t, level=level, n=3, min_rise=0.1 * scale, min_snr=min_snr)
        ours = _kernels.onset_numba_movie(arr, **kw)
        select = _kernels.onset_numba_movie(arr, _method="select", **kw)
        monkeypatch.setenv("PLATESCOPE_KERNELS", "numpy")  # the numpy code, not the kernel
        with np.errstate(all="ignore"):
            ref = _onset_kernel(
                arr.transpose(1, 2, 0).astype(np.float64),
                t=t,
                level=level,
                n_edge=3,
                min_rise=kw["min_rise"],
                min_snr=min_snr,
            )
        monkeypatch.delenv("PLATESCOPE_KERNELS")
        np.testing.assert_array_equal(ours, ref)
        np.testing.assert_array_equal(ours, select)
        assert np.isfinite(ours).mean() > 0.3


@pytest.mark.skipif(numba_missing, reason="numba is not installed")
@pytest.mark.parametrize("nt", [5, 12, 130, 300, 1030])
def test_onset_kernel_single_crossing_at_every_interval_equals_numpy(monkeypatch, nt):
    """One clean rise per pixel, pixel j crossing the level in frame interval j, for
    every j: each position in numpy's pairwise summation tree (< 8 terms; lanes and
    tail of a leaf; several leaves and levels) takes the kernel's per-crossing chain
    of sums — bit for bit equal to the numpy code's time below the level."""
    from platescope.optics._alloying import _onset_kernel

    rng = np.random.default_rng(nt)
    t = np.cumsum(rng.uniform(0.5, 1.5, nt))
    m = nt - 1
    low = rng.uniform(0.0, 0.2, (nt, m)) * 1e-3
    high = 1.0 + rng.uniform(0.0, 0.2, (nt, m)) * 1e-3
    up = np.arange(nt)[:, None] > np.arange(m)[None, :]  # pixel j: above after frame j
    x = np.where(up, high, low)
    x[np.arange(1, nt), np.arange(m)] = rng.uniform(0.55, 0.95, m)  # the first one above
    arr = np.ascontiguousarray(x.reshape(nt, 1, m))
    kw = dict(t=t, level=0.5, n=min(3, nt // 3), min_rise=0.1, min_snr=5.0)
    ours = _kernels.onset_numba_movie(arr, **kw)[0]
    monkeypatch.setenv("PLATESCOPE_KERNELS", "numpy")  # the numpy code, not the kernel
    pixels = x.T[:, None, :]  # (pixel, 1, t)
    ref = _onset_kernel(pixels, t=t, level=0.5, n_edge=kw["n"], min_rise=0.1, min_snr=5.0)
    ref = ref[:, 0]
    np.testing.assert_array_equal(ours, ref)
    assert np.isfinite(ref).sum() >= m - 1  # (5 frames: one pixel fails the noise test)
