"""The see-through simulators plant what SCIENCE.md §1 describes, in real file formats."""

import json
import math

import numpy as np
import pytest

from platescope import io
from platescope.models import FARADAY_C_MOL
from platescope.simulate import SCENARIOS, make_see_through, simulate
from platescope.simulate import _see_through as see_through_module
from platescope.simulate._see_through import RENDER_CHUNK_FRAMES
from platescope.simulate._see_through_model import logistic

SMALL = {"size_px": 56, "n_cycles": 2, "li_deposit_s": 25.0, "n_sites": 5}


@pytest.fixture(scope="module")
def au():
    return make_see_through("Au", seed=3, noise_scale=0.0, **SMALL)


def test_both_scenarios_are_registered():
    assert {"see-through-au", "see-through-ag"} <= set(SCENARIOS)
    assert "noise_scale" in SCENARIOS["see-through-au"].parameters


def test_stage_charges_follow_the_film(au):
    p = au["parameters"]
    area = math.pi * (0.05 * p["electrode_diameter_mm"]) ** 2
    q_x = FARADAY_C_MOL * 19.3 * p["film_thickness_nm"] * 1e-7 * area / 196.97  # F·ρhA/M
    current = p["current_density_mA_cm2"] * 1e-3 * area
    st = {(s["cycle"], s["name"]): s for s in au["truth"]["echem"]["stages"]}
    a1, a2 = st[(1, "alloying 1")], st[(1, "alloying 2")]
    assert (a1["t_end_s"] - a1["t_start_s"]) * current / q_x == pytest.approx(1.53, rel=1e-9)
    assert a2["x_end"] == pytest.approx(2.69, rel=1e-9)
    assert st[(1, "SEI")]["t_end_s"] == pytest.approx(p["sei_s"])
    # plateau potentials of the paper at the middle of each step
    e, t = au["echem_noise_free_V"], au["echem"]["time_s"].to_numpy()
    for s, level in ((a1, 0.14), (a2, 0.07)):
        mid = np.argmin(abs(t - 0.5 * (s["t_start_s"] + s["t_end_s"])))
        assert e[mid] == pytest.approx(level, abs=0.01)
    # cathodic while charging, anodic while discharging; one sample at each switch
    i = au["echem"]["current_A"].to_numpy()
    assert np.all(i[(t > 0.1) & (t < st[(1, "Li metal")]["t_end_s"] - 0.1)] < 0)
    d = st[(1, "Li dissolution")]
    assert np.all(i[(t > d["t_start_s"]) & (t < d["t_end_s"])] > 0)
    assert np.any(np.isclose(t, d["t_start_s"], atol=1e-9))


def test_onset_is_where_the_local_absorbance_is_half_way(au):
    # noise-free, the per-pixel trans absorbance at the planted τ is half of its step
    sc = au["scene"]
    tau = au["onset_maps"][1]
    s1 = next(s for s in au["truth"]["echem"]["stages"] if s["name"] == "alloying 1")
    y, x = 20, 30
    times = np.array([s1["t_start_s"] + 0.2, float(tau[y, x]), s1["t_end_s"] - 0.2])
    sc_nopsf = type(sc)(**{**sc.__dict__, "psf_sigma_px": 0.0})
    tr, ep = sc_nopsf.render(times)
    a = -np.log10(tr[:, y, x])
    assert (a[1] - a[0]) / (a[2] - a[0]) == pytest.approx(0.5, abs=0.01)
    assert ep[2, y, x] > ep[0, y, x]  # alloyed: brighter in epi
    assert logistic(0.0) == 0.5


def test_complementarity_is_planted(au):
    assert 0.4 < au["truth"]["optics"]["complementarity_r"] < 0.85


def test_disks_are_dark_in_trans_and_bright_in_epi_and_pores_bright(au):
    sc = au["scene"]
    sites = au["sites"]
    pores = au["pores"]
    t_end_dep = next(s for s in au["truth"]["echem"]["stages"] if s["name"] == "Li metal")[
        "t_end_s"
    ]
    s0 = sites.iloc[0]
    tr, ep = sc.render(np.array([t_end_dep - 0.5]))
    px = au["pixel_size_um"]
    iy, ix = int(round(s0["y_um"] / px)), int(round(s0["x_um"] / px))
    ring = tr[0, max(iy - 12, 0) : iy + 13, max(ix - 12, 0) : ix + 13]
    assert tr[0, iy, ix] < 0.75 * np.median(ring)
    assert ep[0, iy, ix] > 1.2 * np.median(
        ep[0, max(iy - 12, 0) : iy + 13, max(ix - 12, 0) : ix + 13]
    )
    # each Au pore opens at its site's centre, after that disk vanished
    p0 = pores.iloc[0]
    assert (p0["x_um"], p0["y_um"]) == (s0["x_um"], s0["y_um"])
    assert p0["t_emerge_s"] > s0["t_gone_s"]
    tr2, _ = sc.render(np.array([p0["t_emerge_s"] + 20.0]))
    assert tr2[0, iy, ix] > 1.3  # a hole: more light than the pristine film


def test_au_pores_accumulate_cycle_by_cycle(au):
    pc = au["truth"]["pores"]
    assert [r["cycle"] for r in pc] == [1, 2]
    assert pc[0]["count"] == pc[0]["new_pores"] == (au["pores"]["cycle"] == 1).sum()
    assert pc[1]["count"] == pc[0]["count"] + pc[1]["new_pores"]
    assert pc[1]["area_fraction"] > pc[0]["area_fraction"]


def test_ag_pores_grow_and_merge():
    sim = make_see_through("Ag", seed=1, size_px=96, n_sites=4, li_deposit_s=20.0, noise_scale=0)
    pc = sim["truth"]["pores"]
    assert len(pc) == 3
    assert pc[2]["count"] < pc[0]["count"]  # planted pairs merge by cycle 3
    assert pc[0]["area_fraction"] < pc[1]["area_fraction"] < pc[2]["area_fraction"]
    names = [s["name"] for s in sim["truth"]["echem"]["stages"] if s["cycle"] == 1]
    assert names[:6] == ["SEI", "alloying 1", "alloying 2", "alloying 3", "alloying 4", "Li metal"]


def test_files_round_trip_and_are_reproducible(tmp_path):
    over = {k: str(v) for k, v in {**SMALL, "n_cycles": 1}.items()}
    exp = simulate("see-through-au", tmp_path / "a", seed=5, overrides=over)
    simulate("see-through-au", tmp_path / "b", seed=5, overrides=over)
    for name in ("trans.tif", "epi.tif", "echem.mpt", "frame_times.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    e = io.read_experiment(exp)
    assert e.movie["mode"] == "trans" and e.epi["mode"] == "epi"
    assert "epi" in e.input_paths()
    truth = json.loads((tmp_path / "a" / "truth" / "truth.json").read_text())
    m = io.read_movie(e.movie["path"], frame_times=e.movie["frame_times"])
    assert m.sizes["t"] == truth["movie"]["n_frames"]
    assert float(m.x[1] - m.x[0]) == pytest.approx(truth["movie"]["pixel_size_um"])
    ech = io.read_echem(e.echem["path"])
    assert ech["current_A"].iloc[10] < 0
    for key in ("stages", "cycles"):
        assert truth["echem"][key]
    assert {"alloying", "complementarity_r"} <= set(truth["optics"])
    assert (tmp_path / "a" / "truth" / "onset_alloying_1.tif").is_file()


def _render_chunk(t_frames, i):
    """The frames rendered together with frame ``i`` by ``make_see_through``."""
    n = RENDER_CHUNK_FRAMES
    i0 = (i // n) * n
    return t_frames[i0 : i0 + n]


def test_no_li_disk_or_pore_shows_before_it_appears(au):
    # planted truth: a Li site changes no pixel before its t_appear_s, a pore none before
    # its t_emerge_s — checked on the frames rendered in the same chunk as its first
    # frame (the simulator renders 48 frames at a time), in trans and epi, against the
    # same scene without that object
    sc, t = au["scene"], au["frame_times_echem_s"]
    bare = type(sc)(**{**sc.__dict__, "sites": [], "pores": []})
    objects = [("sites", s, s["t_app"]) for s in sc.sites]
    objects += [("pores", q, q["t_emerge_s"]) for q in sc.pores]
    n_checked = 0
    for kind, obj, t_first in objects:
        i = int(np.searchsorted(t, t_first))  # first frame at or after its appearance
        tt = _render_chunk(t, i)
        before = tt < t_first
        one = type(sc)(**{**sc.__dict__, "sites": [], "pores": [], kind: [obj]})
        for with_it, without in zip(one.render(tt), bare.render(tt), strict=True):
            np.testing.assert_array_equal(with_it[before], without[before])
            assert not np.array_equal(with_it[~before], without[~before])  # it does show
        n_checked += int(before.any())
    assert n_checked >= len(objects) - 2  # nearly all appear after a chunk's first frame


def test_a_frame_does_not_depend_on_the_frames_rendered_with_it(monkeypatch):
    # a frame shows the scene at its own time: rendering the noise-free movie one frame
    # at a time gives the same bytes as in chunks
    kw = {**SMALL, "n_cycles": 1, "size_px": 48}
    chunked = make_see_through("Au", seed=2, noise_scale=0.0, **kw)
    monkeypatch.setattr(see_through_module, "RENDER_CHUNK_FRAMES", 1)
    single = make_see_through("Au", seed=2, noise_scale=0.0, **kw)
    for mode in ("trans", "epi"):
        np.testing.assert_array_equal(chunked[mode], single[mode])
