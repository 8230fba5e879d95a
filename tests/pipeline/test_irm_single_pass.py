"""The single-pass IRM preprocessing gives the pipeline the numbers of the step-by-step
library chain it replaced (drift levels, footprint mean and region means each read on
their own), on a small simulated experiment analysed from a lazy (dask) movie."""

import numpy as np
import pandas as pd
import pytest
import tifffile
import xarray as xr
from _experiment_edit import edit_experiment
from scipy import ndimage

from platescope import io, optics, sync
from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("irm1pass")
    exp = simulate(
        "irm-galvanostatic",
        root / "input",
        seed=5,
        overrides={"irm_size_px": 96, "irm_pixel_size_um": 0.1},
    )
    # the IRM numbers only: the SEM image (analysed last, on its own) is left out
    exp = edit_experiment(exp, root, drop_sections=("sem",))
    mp = pytest.MonkeyPatch()
    eager_read = io.read_movie
    mp.setattr(io, "read_movie", lambda path, **kw: eager_read(path, **{**kw, "lazy": True}))
    try:
        summary = analyze(exp, root / "results")
    finally:
        mp.undo()
    return root, summary


def _old_style_chain(root, summary):
    """prepare_irm as it was: the movie read for the mean, the drift, the footprint mean."""
    p = summary["parameters"]["irm"]
    movie = io.read_movie(
        root / "input" / "irm.tif", frame_times=root / "input" / "frame_times.csv", mode="irm"
    )
    echem = io.read_echem(root / "input" / "echem.mpt", timezone="Europe/London")
    mean = sync.mean_intensity(movie)
    sy = sync.synchronize(movie, echem, movie_mean=mean)
    mv = sync.to_echem_clock(
        movie, sy["offset_s"], echem=echem, frame_times_s=sy.pop("frame_times_s", None)
    )
    t = mv.t.values
    n_before = int(np.searchsorted(t, -float(np.median(np.diff(t)))))
    landing = int(sy["landing_frame"])
    after = mv.isel(t=slice(landing, None))
    step = after.isel(t=slice(0, 5)).mean("t") - mv.isel(t=slice(0, n_before)).mean("t")
    mask = optics.footprint_mask(step, sigma_um=p["footprint_sigma_um"])
    m = np.asarray(mask.values, bool)
    outside = ~ndimage.binary_dilation(m, iterations=10)
    moved, _ = optics.correct_illumination_drift(after, reference=outside, frame=0)
    sub = optics.subtract_reference(moved, frame=0)
    curve = np.asarray(sub.where(xr.DataArray(m, dims=("y", "x"))).mean(("y", "x")), float)
    return sub, m, curve, p, sy


def test_pipeline_equals_the_step_by_step_library_chain(run):
    root, summary = run
    assert summary["registration"]["n_frames_excluded"] == 0  # same frames on both sides
    sub, m, curve, p, sy = _old_style_chain(root, summary)
    # the sync used the frame-quality pass's means: the same offset as a pass of its own
    assert summary["sync"]["offset_s"] == pytest.approx(sy["offset_s"], abs=1e-9)
    t_max = summary["echem"]["galvanostatic"]["t_nuc_s"] + p["tnuc_margin_s"]
    kw = {"window_s": p["tnuc_window_s"], "polyorder": p["tnuc_polyorder"], "t_max_s": t_max}
    glob = optics.t_nuc_from_curve(sub.t.values, curve, **kw)
    assert summary["optics"]["t_nuc_irm_s"] == pytest.approx(glob["t_nuc_s"], abs=1e-5)
    table = pd.read_parquet(root / "results" / "tables" / "irm_mean.parquet")
    n = len(table)
    np.testing.assert_allclose(table["irm_mean_counts"], curve[:n], rtol=0, atol=1e-3)
    regions = optics.t_nuc_regions(sub, region_px=p["region_px"], mask=m, **kw)
    got = pd.read_parquet(root / "results" / "tables" / "t_nuc_regions.parquet")
    assert len(got) == len(regions) > 3
    np.testing.assert_allclose(got["t_nuc_s"], regions["t_nuc_s"], atol=1e-5)
    tmap = optics.t_nuc_map(
        sub, mask=m, spatial_sigma_px=p["map_sigma_um"] / float(sub.x[1] - sub.x[0]), **kw
    )
    saved = tifffile.imread(root / "results" / summary["optics"]["t_nuc_map"]["path"])
    np.testing.assert_allclose(saved, tmap.values, atol=1e-4, equal_nan=True)
