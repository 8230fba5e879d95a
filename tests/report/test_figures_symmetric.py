"""Symmetric-cell figures show what the analysis found: classes, soft shorts, error bars."""

import matplotlib.colors as mcolors
import numpy as np

from platescope.echem import symmetric_cell
from platescope.report import fig_symmetric_evolution, fig_symmetric_profiles, fig_symmetric_voltage
from platescope.report._figures_symmetric import CLASS_COLOURS
from platescope.simulate._symmetric_cell import make_symmetric_cell


def _sim():
    sim = make_symmetric_cell(seed=4, n_cycles=4, arcing_from_cycle=2, half_cycle_s=900)
    return sim["echem"], symmetric_cell(sim["echem"])


def test_voltage_figure_colours_half_cycles_by_class_and_shades_shorts():
    echem, r = _sim()
    fig = fig_symmetric_voltage(echem, r)
    ax = fig.axes[0]
    colours = [mcolors.to_hex(line.get_color()) for line in ax.lines[1:]]
    want = [mcolors.to_hex(CLASS_COLOURS[h["shape_class"]]) for h in r["half_cycles"]]
    assert colours[: len(want)] == want
    assert len(ax.patches) == len(r["soft_shorts"]) > 0


def test_evolution_figure_error_bars_are_two_sigma():
    echem, r = _sim()
    fig = fig_symmetric_evolution(r)
    bars = fig.axes[0].containers[0]
    seg = bars.lines[2][0].get_segments()
    half = np.array([abs(s[1][1] - s[0][1]) / 2 for s in seg])
    want = np.array([2 * h["eta_plateau_err_V"] * 1e3 for h in r["half_cycles"]])
    assert np.allclose(half, want)


def test_profile_figure_has_a_line_per_half_cycle():
    echem, r = _sim()
    fig = fig_symmetric_profiles(echem, r)
    assert sum(len(ax.lines) for ax in fig.axes) == len(r["half_cycles"])
