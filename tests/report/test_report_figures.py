"""Figure functions: physical units on the axes, the marked quantities where they belong."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from platescope.report import (
    atomic_savefig,
    fig_alpha,
    fig_diameter_histogram,
    fig_potential_irm,
    fig_sem_particles,
    fig_sync,
    fig_tnuc_map,
)


def _vlines_at(ax, x):
    return [
        ln
        for ln in ax.get_lines()
        if len(ln.get_xdata()) == 2 and np.allclose(np.asarray(ln.get_xdata(), float), x)
    ]


def _hlines_at(ax, y):
    return [
        ln
        for ln in ax.get_lines()
        if len(ln.get_ydata()) == 2 and np.allclose(np.asarray(ln.get_ydata(), float), y)
    ]


def _legend_texts(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


def _all_text(fig):
    out = []
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += _legend_texts(ax)
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return out


@pytest.fixture
def transient():
    t = np.linspace(0, 30, 601)
    e = (
        0.2 * np.exp(-t / 2)
        - 0.058 * np.minimum(t / 17.7, 1)
        + 0.054 * (t > 17.7) * (1 - np.exp(-(t - 17.7) / 2))
    )
    ec = pd.DataFrame({"time_s": t, "potential_V": e, "current_A": np.full_like(t, -2e-10)})
    ti = np.arange(0, 30, 0.23)
    irm = 50 * np.clip(ti - 16, 0, None)
    return ec, ti, irm, np.gradient(irm, ti)


def test_potential_irm_marks_nucleation(transient):
    ec, ti, irm, rate = transient
    fig = fig_potential_irm(
        ec,
        irm_t_s=ti,
        irm_mean=irm,
        irm_rate=rate,
        E_nuc_V=-0.058,
        t_nuc_s=17.7,
        t_nuc_err_s=0.4,
        t_nuc_irm_s=16.2,
        E_growth_V=-0.004,
    )
    assert isinstance(fig, Figure)
    ax_e, ax_i, ax_r = fig.axes
    assert ax_e.get_ylabel() == "E (V vs Li/Li⁺)"
    assert ax_i.get_xlabel() == "Time (s)"
    assert ax_i.get_ylabel() == "IRM signal (counts)"
    assert ax_r.get_ylabel() == "dI/dt (counts s⁻¹)"
    # the nucleation point, the vertical line and the ±err band (1σ in, drawn at k = 2)
    points = [ln for ln in ax_e.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata()) == 1]
    assert len(points) == 1
    assert points[0].get_xdata()[0] == 17.7 and points[0].get_ydata()[0] == -0.058
    assert _vlines_at(ax_e, 17.7)
    bands = [p for p in ax_e.patches if isinstance(p, Rectangle)]
    assert any(
        p.get_x() == pytest.approx(17.7 - 2 * 0.4) and p.get_width() == pytest.approx(4 * 0.4)
        for p in bands
    )
    growth = _hlines_at(ax_e, -0.004)
    assert growth and growth[0].get_linestyle() == "--"
    # both nucleation times as labelled vertical lines in the IRM panel
    assert _vlines_at(ax_i, 16.2) and _vlines_at(ax_i, 17.7)
    labels = " | ".join(_legend_texts(ax_i))
    assert "t_nuc(IRM) = 16.2 s" in labels and "t_nuc(echem) = 17.7 s" in labels
    assert "dI/dt" in labels
    # the panels share the time axis
    assert ax_e.get_shared_x_axes().joined(ax_e, ax_i)


def test_potential_irm_without_nucleation(transient):
    ec, ti, irm, rate = transient
    fig = fig_potential_irm(ec, irm_t_s=ti, irm_mean=irm, irm_rate=rate, E_nuc_V=None)
    ax_e = fig.axes[0]
    assert "no nucleation detected" in [t.get_text() for t in ax_e.texts]
    assert not [ln for ln in ax_e.get_lines() if ln.get_marker() == "o"]


def test_potential_irm_without_movie(transient):
    ec = transient[0]
    fig = fig_potential_irm(ec, irm_t_s=None, irm_mean=None, irm_rate=None)
    assert "no IRM movie" in _all_text(fig)


def _planted_map(seed=0):
    rng = np.random.default_rng(seed)
    ny, nx, px = 120, 160, 0.04
    y, x = np.arange(ny) * px, np.arange(nx) * px + 1.0
    yy, xx = np.meshgrid(y, x, indexing="ij")
    m = rng.normal(15.0, 1.2, (ny, nx))
    outside = (xx - x.mean()) ** 2 + (yy - y.mean()) ** 2 > 2.2**2
    m[outside] = np.nan
    return xr.DataArray(m, dims=("y", "x"), coords={"y": y, "x": x}), outside


def test_tnuc_map_colorbar_scalebar_histogram():
    da, outside = _planted_map()
    fig = fig_tnuc_map(da, t_nuc_s=17.7)
    ax_m = fig.axes[0]
    ylabels = [a.get_ylabel() for a in fig.axes]
    assert "t_nuc(IRM) (s)" in ylabels  # the colour bar
    # map drawn in µm: extent = coordinates ± half a pixel; NaN masked (drawn as 'bad')
    im = ax_m.images[0]
    left, right, bottom, top = im.get_extent()
    assert left == pytest.approx(1.0 - 0.02) and right == pytest.approx(1.0 + 159 * 0.04 + 0.02)
    assert top == pytest.approx(-0.02) and bottom == pytest.approx(119 * 0.04 + 0.02)
    assert np.array_equal(np.ma.getmaskarray(im.get_array()), outside)
    # scale bar: a round length (1, 2 or 5 × 10^k) of a 1/10–1/3 of the width, labelled
    bars = [p for p in ax_m.patches if p.get_gid() == "scalebar"]
    assert len(bars) == 1
    width_um = 160 * 0.04
    length = bars[0].get_width()
    assert width_um / 10 <= length <= width_um / 3
    mant = length / 10 ** np.floor(np.log10(length))
    assert min(abs(mant - m) for m in (1, 2, 5)) < 1e-9
    assert f"{length:g} µm" in [t.get_text() for t in ax_m.texts]
    # histogram: electrochemical t_nuc marked, Gaussian with the histogram's area
    ax_h = fig.axes[1]
    assert ax_h.get_xlabel() == "t_nuc(IRM) (s)"
    assert _vlines_at(ax_h, 17.7)
    counts = np.array([p.get_height() for p in ax_h.patches if isinstance(p, Rectangle)])
    widths = np.array([p.get_width() for p in ax_h.patches if isinstance(p, Rectangle)])
    n = int(np.isfinite(da.values).sum())
    assert counts.sum() == n
    gauss = [ln for ln in ax_h.get_lines() if ln.get_label() == "Gaussian"][0]
    gx, gy = np.asarray(gauss.get_xdata()), np.asarray(gauss.get_ydata())
    area = np.sum(0.5 * (gy[1:] + gy[:-1]) * np.diff(gx))
    assert area == pytest.approx(n * widths.mean(), rel=0.01)
    # annotated mean and sd recover the planted N(15, 1.2) within sampling error
    stats = " ".join(t.get_text() for t in ax_h.texts)
    mean = float(re.search(r"mean = ([\d.]+) s", stats).group(1))
    sd = float(re.search(r"sd = ([\d.]+) s", stats).group(1))
    assert abs(mean - 15.0) < 4 * 1.2 / np.sqrt(n) + 0.05
    assert abs(sd - 1.2) < 0.06


def test_tnuc_map_all_nan_and_plain_array():
    fig = fig_tnuc_map(np.full((10, 10), np.nan), pixel_size_um=0.1)
    assert "no finite values in the map" in _all_text(fig)
    fig = fig_tnuc_map(np.ones((10, 10)))  # no pixel size: the scale bar is in pixels
    assert any(t.endswith("px") for t in _all_text(fig))


def _planted_particles():
    ny, nx, px = 200, 300, 0.005
    yy, xx = np.mgrid[:ny, :nx]
    labels = np.zeros((ny, nx), int)
    centres = [(50, 60, 6), (120, 150, 8), (160, 240, 5)]
    for k, (cy, cx, r) in enumerate(centres, start=1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    image = np.where(labels > 0, 200.0, 60.0)
    da = xr.DataArray(image, dims=("y", "x"), coords={"y": yy[:, 0] * px, "x": xx[0] * px})
    return da, labels, centres, px


def test_sem_particles_outlines_footprint_scalebar():
    da, labels, centres, px = _planted_particles()
    fp = {"centre_x_um": 0.75, "centre_y_um": 0.5, "radius_um": 0.45, "edge_width_um": 0.1}
    fig = fig_sem_particles(da, labels=labels, footprint=fp)
    ax, ax_z = fig.axes
    # the outlines are one vector path of pixel edges (µm): each segment separates a
    # particle pixel from a background pixel, and each particle's border is traced
    for a in (ax, ax_z):
        (outline,) = [p for p in a.patches if p.get_gid() == "particle-outlines"]
        # (x, y) in pixel edges: coords are pixel centres, so edge k is at (k − ½)·px
        seg = outline.get_path().vertices.reshape(-1, 2, 2) / px + 0.5
        assert np.allclose(seg, np.round(seg))
        seg = np.round(seg).astype(int)
        horiz = seg[:, 0, 1] == seg[:, 1, 1]
        assert np.all(horiz | (seg[:, 0, 0] == seg[:, 1, 0]))  # axis-aligned runs
        traced = np.zeros(len(centres) + 1)
        for (x0, y0), (x1, y1) in seg:
            if y0 == y1:  # pixel rows y0 − 1 and y0, columns x0 … x1 − 1
                above, below = labels[y0 - 1, x0:x1], labels[y0, x0:x1]
            else:  # pixel columns x0 − 1 and x0, rows y0 … y1 − 1
                above, below = labels[y0:y1, x0 - 1], labels[y0:y1, x0]
            assert np.all((above > 0) != (below > 0))
            np.add.at(traced, np.maximum(above, below), 1)  # one pixel edge each
        for k, (_cy, _cx, r) in enumerate(centres, start=1):
            # a digital disk is row- and column-convex: its outline is as long as the
            # perimeter of its (2r + 1)-pixel bounding square
            assert traced[k] == 4 * (2 * r + 1)
    # footprint circle and edge-ring boundary (dashed) in µm
    circ = {p.get_gid(): p for p in ax.patches if isinstance(p, Circle)}
    assert circ["footprint"].center == pytest.approx((0.75, 0.5))
    assert circ["footprint"].radius == pytest.approx(0.45)
    assert circ["edge-ring"].radius == pytest.approx(0.35)
    assert circ["edge-ring"].get_linestyle() == "--"
    legend = " | ".join(_legend_texts(ax))
    assert "n = 3" in legend and "footprint" in legend and "edge ring" in legend
    assert any(t.endswith("nm") or t.endswith("µm") for t in _all_text(fig))
    assert [p for p in ax.patches if p.get_gid() == "scalebar"]


def test_sem_particles_from_table():
    da, _labels, centres, px = _planted_particles()
    table = pd.DataFrame(
        {
            "x_um": [cx * px for _cy, cx, _r in centres],
            "y_um": [cy * px for cy, _cx, _r in centres],
            "diameter_nm": [2 * r * px * 1000 for _cy, _cx, r in centres],
        }
    )
    fig = fig_sem_particles(da, table=table)
    circles = [p for p in fig.axes[0].patches if isinstance(p, Circle) and p.get_gid() is None]
    assert len(circles) == 3
    assert sorted(c.radius for c in circles) == pytest.approx(
        sorted(r * px for _cy, _cx, r in centres)
    )


def test_sem_particles_rejects_mismatched_labels():
    da, labels, _c, _px = _planted_particles()
    with pytest.raises(ValueError, match="shape"):
        fig_sem_particles(da, labels=labels[:-1])


def _curve_area(line):
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    return np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x))


def test_diameter_histogram_two_gaussians_scaled_to_counts():
    rng = np.random.default_rng(3)
    d = np.r_[rng.normal(50, 8, 200), rng.normal(85, 10, 100)]
    fit = {
        "model": "2-gaussian",
        "components": [
            {"weight": 2 / 3, "mean_nm": 50.0, "sd_nm": 8.0},
            {"weight": 1 / 3, "mean_nm": 85.0, "sd_nm": 10.0},
        ],
    }
    fig = fig_diameter_histogram(d, fit=fit)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Diameter (nm)" and ax.get_ylabel() == "Particles"
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    width = np.mean([b.get_width() for b in bars])
    assert sum(b.get_height() for b in bars) == d.size
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    total = next(v for k, v in lines.items() if "fit" in k)
    # a pdf scaled to counts per bin has the area of the histogram
    assert _curve_area(total) == pytest.approx(d.size * width, rel=0.01)
    comp = [v for k, v in lines.items() if k.startswith("component")]
    assert len(comp) == 2
    assert _curve_area(comp[0]) / _curve_area(comp[1]) == pytest.approx(2.0, rel=0.01)
    legend = " | ".join(_legend_texts(ax))
    assert "50" in legend and "85" in legend and "±" in legend


def test_diameter_histogram_one_gaussian_and_empty():
    d = np.random.default_rng(4).normal(60, 10, 400)
    fig = fig_diameter_histogram(
        d, fit={"model": "1-gaussian", "components": [{"weight": 1, "mean_nm": 60, "sd_nm": 10}]}
    )
    assert any("Gaussian fit: 60 ± 10 nm" in t for t in _legend_texts(fig.axes[0]))
    fig = fig_diameter_histogram(np.array([]))
    assert "no particles" in _all_text(fig)


def test_alpha_fit_line_and_legend():
    h = np.linspace(0, 8, 40)
    s = 42.0 * h + 5.0
    fig = fig_alpha(h, s, alpha={"value": 42.0, "value_err": 0.6, "r2": 0.9961, "intercept": 5.0})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Equivalent Li thickness h_eq (nm)"
    assert ax.get_ylabel() == "IRM signal (counts)"
    fit = next(ln for ln in ax.get_lines() if ln.get_label().startswith("α"))
    slope, icpt = np.polyfit(fit.get_xdata(), fit.get_ydata(), 1)
    assert slope == pytest.approx(42.0) and icpt == pytest.approx(5.0)
    # value_err is 1σ (0.6); the legend states the summary's k = 2 uncertainty
    assert fit.get_label() == "α = 42 ± 1.2 (k = 2) counts nm⁻¹, R² = 0.9961"


def test_alpha_length_mismatch():
    with pytest.raises(ValueError, match="differ"):
        fig_alpha(np.arange(3), np.arange(4))


def test_sync_common_clock_and_steepest_step():
    t_movie = np.arange(80) * 0.25 + 100.0
    mean = np.where(t_movie >= 105.0, 140.0, 100.0)
    ec = pd.DataFrame({"time_s": np.linspace(-2, 15, 200), "current_A": -2e-10})
    fig = fig_sync(t_movie, mean, offset_s=-105.0, method="landing step", echem=ec)
    ax, ax_i = fig.axes
    movie_line = next(ln for ln in ax.get_lines() if ln.get_label() == "movie mean intensity")
    assert np.allclose(movie_line.get_xdata(), t_movie - 105.0)
    marks = [
        ln
        for ln in ax.get_lines()
        if len(ln.get_xdata()) == 2 and ln.get_label().startswith("landing")
    ]
    assert len(marks) == 1 and abs(marks[0].get_xdata()[0] - 0.0) <= 0.25
    assert "landing step" in ax.get_title()
    assert ax.get_xlabel() == "Time on the potentiostat clock (s)"
    assert ax_i.get_ylabel() == "|I| (nA)"
    assert np.allclose(ax_i.get_lines()[0].get_ydata()[:2], 0.0)  # no current before the record
    assert np.allclose(ax_i.get_lines()[0].get_ydata()[2:], 0.2)


def test_sync_explicit_contact_time():
    t = np.arange(40) * 0.5
    fig = fig_sync(
        t, np.sin(t), offset_s=2.0, method="current onset", contact_t_s=7.5, offset_err_s=0.1
    )
    ax = fig.axes[0]
    assert _vlines_at(ax, 7.5)
    assert "current onset" in ax.get_title() and "± 0.2 (k = 2)" in ax.get_title()


def test_figures_save_in_threads(tmp_path):
    da, outside = _planted_map()
    d = np.random.default_rng(5).normal(60, 10, 200)

    def work(i):
        fig = fig_tnuc_map(da) if i % 2 else fig_diameter_histogram(d)
        return atomic_savefig(fig, tmp_path / f"f{i}.png")

    with ThreadPoolExecutor(2) as ex:
        paths = list(ex.map(work, range(4)))
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_no_pyplot_no_window():
    code = (
        "import sys, numpy as np\n"
        "from platescope.report import fig_alpha, atomic_savefig\n"
        "fig_alpha(np.arange(3.0), np.arange(3.0))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_irm_frames_titles_follow_real_times_and_share_a_scale():
    import xarray as xr

    from platescope.report import fig_irm_frames

    t = np.array([0.0, 0.3, 0.55, 0.9, 1.2, 1.6, 1.8, 2.25, 2.5, 3.0])
    data = np.arange(10)[:, None, None] * np.ones((10, 6, 6))
    mv = xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={"t": t, "y": np.arange(6) * 0.04, "x": np.arange(6) * 0.04},
    )
    fig = fig_irm_frames(mv, n_frames=4, t_nuc_s=1.0)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title().split(" s")[0] for ax in image_axes] == [
        "t = 0",
        "t = 0.9",
        "t = 1.8",
        "t = 3",
    ]
    assert "≥ t_nuc" in image_axes[2].get_title() and "≥ t_nuc" not in image_axes[1].get_title()
    clims = {ax.images[0].get_clim() for ax in image_axes}
    assert len(clims) == 1


def test_drift_figure_says_whether_the_shifts_were_applied():
    """A measured drift that was not undone must not read as a correction: the title
    says which (and says nothing when the caller does not tell)."""
    import pandas as pd

    from platescope.report import fig_drift

    tab = pd.DataFrame(
        {"t_s": [0.0, 1.0], "dy_px": [0.0, 0.4], "dx_px": [0.0, 0.1]}
        | {"dy_um": [0.0, 0.02], "dx_um": [0.0, 0.005], "err_px": [0.0, 0.1]}
    )
    titles = {a: fig_drift(tab, applied=a).axes[0].get_title(loc="left") for a in (True, False)}
    assert "not applied" in titles[False] and "as recorded" in titles[False]
    assert "undone" in titles[True] and "not" not in titles[True]
    assert fig_drift(tab).axes[0].get_title(loc="left") == ""
