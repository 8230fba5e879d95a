"""The dendrite-cycling simulator: planted physics, truth bookkeeping, real-format files."""

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.io import read_echem, read_experiment, read_movie
from platescope.simulate import SCENARIOS, make_dendrite_cycling, simulate

SMALL = {
    "field_px": 128,
    "n_deposits": 8,
    "n_new_per_cycle": 1,
    "n_merging_pairs": 2,
    "n_cycles": 2,
    "frame_interval_s": 20.0,
}


@pytest.fixture(scope="module")
def sim():
    return make_dendrite_cycling(seed=4, **SMALL)


def test_registered_with_its_parameters():
    fn = SCENARIOS["dendrite-cycling"]
    assert {"n_cycles", "noise_scale", "dead_probability", "psf_sigma_um"} <= set(fn.parameters)


def test_single_deposits_are_drawn_as_hemisphere_footprints(sim):
    fr = sim["frames"]
    singles = fr[fr["object"] == fr["deposit"]]
    singles = singles[~singles["deposit"].isin(sim["merges"]["into_deposit"])]
    big = singles[singles["area_um2"] > 3.0]
    # the anti-aliased drawing (a one-pixel linear edge ramp) holds the disk's area plus
    # π/12 px² (the ramp's curvature term), up to the sampling of the ramp by pixels
    px2 = sim["pixel_size_um"] ** 2
    excess = big["object_area_um2"] - big["area_um2"] - np.pi / 12 * px2
    assert np.all(np.abs(excess) < 0.6 * px2)
    # own volume is the hemisphere of the own disk
    r = np.sqrt(big["area_um2"] / np.pi)
    assert np.allclose(big["volume_um3"], 2 / 3 * np.pi * r**3, rtol=1e-9)


def test_merges_keep_the_larger_deposit(sim):
    fr, merges = sim["frames"], sim["merges"]
    assert len(merges) == SMALL["n_merging_pairs"]
    for _, m in merges.iterrows():
        before = fr[
            (fr["t_s"] < m["t_merge_s"]) & fr["deposit"].isin([m["deposit"], m["into_deposit"]])
        ]
        last = before[before["frame"] == before["frame"].max()].set_index("deposit")
        assert last.loc[m["into_deposit"], "area_um2"] >= last.loc[m["deposit"], "area_um2"]
        after = fr[(fr["t_s"] >= m["t_merge_s"]) & (fr["deposit"] == m["deposit"])]
        assert (after["object"] == m["into_deposit"]).all()
        # the merged object covers more than either member alone
        a = after.iloc[0]
        assert a["object_area_um2"] > a["area_um2"]


def test_dead_deposits_stop_changing_and_follow_the_planted_fraction(sim):
    fr, cyc = sim["frames"], sim["cycles"]
    p = sim["parameters"]
    dead = cyc[cyc["dead"]]
    assert len(dead) >= 2
    for _, d in dead.iterrows():
        members = [int(m) for m in str(d["members"]).split()]
        after = fr[(fr["t_s"] > d["t_dead_s"]) & fr["deposit"].isin(members)]
        for _, g in after.groupby("deposit"):
            assert np.ptp(g["volume_um3"]) < 1e-9 * g["volume_um3"].max() + 1e-12
            assert g["dead"].all()
        f_c = p["dead_fraction_first"] * p["dead_fraction_ratio"] ** (d["cycle"] - 1)
        assert abs(d["planted_dead_fraction"] / f_c - 1) < 5 * p["dead_fraction_sd"]
    # single deposits: the dead/max ratio of the drawn footprints is the planted
    # fraction; V_max is taken from the frames, up to one frame interval before the
    # plating ends (≤ 20 s of 300 s of growth: up to 7 % low → the ratio up to 7 % high)
    single = dead[~dead["members"].astype(str).str.contains(" ")]
    ratio = single["v_dead_um3"] / single["v_max_um3"]
    f = single["planted_dead_fraction"]
    assert np.all((ratio > f - 0.01) & (ratio < 1.08 * f + 0.01))


def test_deposits_never_touch_unless_planted(sim):
    fr = sim["frames"]
    last = fr[fr["frame"] == fr["frame"].max()].drop_duplicates("object")
    pos = last[["object_y_um", "object_x_um"]].to_numpy()
    r = np.sqrt(last["object_area_um2"].to_numpy() / np.pi)
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    # merged pairs are one object; every other gap is ≥ 2 µm (minus the pair elongation)
    assert np.all(d - r[:, None] - r[None, :] > 0.0)


def test_echem_record_cycles(sim):
    e = sim["echem"]
    p = sim["parameters"]
    i_set = p["current_density_mA_cm2"] * 1e-3 * p["electrode_area_cm2"]
    plate = e[e["step"] == 1]
    strip = e[e["step"] == 2]
    assert (plate["control_A"] == -i_set).all() and (strip["control_A"] == i_set).all()
    assert (plate["potential_V"].mean() < 0) and (strip["potential_V"].mean() > 0)
    assert sorted(e["cycle"].unique()) == list(range(p["n_cycles"]))
    q = sim["truth"]["echem"]["cycles"][0]
    assert q["Q_c_C"] == pytest.approx(-i_set * p["plating_s"])


def test_same_seed_same_files(tmp_path):
    a = simulate("dendrite-cycling", tmp_path / "a", seed=2, overrides=SMALL)
    b = simulate("dendrite-cycling", tmp_path / "b", seed=2, overrides=SMALL)
    for name in ("movie.tif", "frame_times.csv", "echem.mpt", "truth/deposits_frames.csv"):
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes()


def test_files_read_back(tmp_path):
    exp_path = simulate("dendrite-cycling", tmp_path, seed=1, overrides=SMALL)
    exp = read_experiment(exp_path)
    assert exp.scenario == "dendrite-cycling"
    movie = read_movie(exp.movie["path"], frame_times=exp.movie["frame_times"])
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    assert movie.sizes["t"] == truth["movie"]["n_frames"]
    assert float(movie.x[1] - movie.x[0]) == pytest.approx(0.5)
    t = movie.t.values
    dt = np.diff(t)
    assert dt.min() < dt.max()  # real, jittered frame times
    assert (
        dt.min() > 0.85 * SMALL["frame_interval_s"] and dt.max() < 1.15 * SMALL["frame_interval_s"]
    )
    echem = read_echem(exp.echem["path"], timezone=exp.echem["timezone"])
    assert {"time_s", "potential_V", "current_A", "cycle"} <= set(echem.columns)
    assert echem["current_A"].min() < 0 < echem["current_A"].max()
    raw = tomllib.loads(exp_path.read_text())
    assert raw["echem"]["time_offset_s"] == truth["sync"]["offset_s"]
    frames = pd.read_csv(tmp_path / "truth" / "deposits_frames.csv")
    assert {"deposit", "object", "frame", "area_um2", "object_volume_um3", "dead"} <= set(
        frames.columns
    )
    for name, entry in truth["inputs"].items():
        assert (tmp_path / name).exists() and len(entry["sha256"]) == 64


def test_bad_parameters_and_foreign_folders(tmp_path):
    with pytest.raises(InputError, match="n_cycles"):
        simulate("dendrite-cycling", tmp_path / "x", overrides={"n_cycles": "0"})
    with pytest.raises(InputError, match="do not fit"):
        make_dendrite_cycling(field_px=64, n_deposits=60)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "experiment.toml").write_text('[experiment]\nscenario = "irm-cv"\n')
    with pytest.raises(InputError, match="did not write"):
        simulate("dendrite-cycling", tmp_path / "other", overrides=SMALL)


def test_no_deposits_is_a_valid_experiment():
    sim = make_dendrite_cycling(
        seed=0,
        field_px=64,
        n_deposits=0,
        n_new_per_cycle=0,
        n_merging_pairs=0,
        n_cycles=1,
        frame_interval_s=60.0,
    )
    assert sim["frames"].empty and sim["truth"]["deposits"]["count"] == 0
    row = sim["truth"]["dead_li"][0]
    assert row["n_deposits"] == 0 and row["slope"] is None and "too few" in row["reason"]


# ------------------------------------------------------------ breaking whiskers
SPLITTING = {**SMALL, "n_splitting_deposits": 2, "field_px": 160}


@pytest.fixture(scope="module")
def split_sim():
    return make_dendrite_cycling(seed=5, **SPLITTING)


def test_splits_are_off_by_default(sim):
    assert sim["truth"]["deposits"]["n_splits"] == 0 and sim["splits"].empty
    assert sim["parameters"]["n_splitting_deposits"] == 0


def test_a_whisker_is_one_object_until_it_breaks_then_two(split_sim):
    fr, splits = split_sim["frames"], split_sim["splits"]
    p = split_sim["parameters"]
    assert len(splits) == 2 and split_sim["truth"]["deposits"]["n_splits"] == 2
    for _, s in splits.iterrows():
        halves = [int(s["live_object"]), int(s["dead_object"])]
        before = fr[fr["deposit"].isin(halves) & (fr["t_s"] < s["t_split_s"])]
        after = fr[fr["deposit"].isin(halves) & (fr["t_s"] >= s["t_split_s"])]
        # one object (the parent's id, the larger half) covering more than both disks
        assert (before["object"] == s["parent_object"]).all()
        assert (before["family"] == s["parent_object"]).all()
        one = before[before["frame"] == before["frame"].max()]
        assert one["object_area_um2"].iloc[0] > one["area_um2"].sum()
        assert one.set_index("deposit").loc[s["parent_object"], "area_um2"] >= one["area_um2"].min()
        # after the break: each half its own object, apart by ≥ 2 µm + 3 PSF σ
        assert (after["object"] == after["deposit"]).all()
        first = after[after["frame"] == after["frame"].min()].set_index("deposit")
        d = np.hypot(
            *(first.loc[halves[0], ["y_um", "x_um"]] - first.loc[halves[1], ["y_um", "x_um"]])
        )
        r = np.sqrt(first["area_um2"] / np.pi)
        assert d - r.sum() >= 2.0 + 3.0 * p["psf_sigma_um"] - 1e-6
        assert int(s["frame"]) == int(first["frame"].iloc[0])
        # the dead half never changes again; the live half shrinks to the step's end
        dead = after[after["deposit"] == s["dead_object"]]
        assert np.ptp(dead["volume_um3"]) < 1e-9 * dead["volume_um3"].max()
        assert dead["dead"].all()
        t_end = split_sim["truth"]["echem"]["cycles"][int(s["cycle"]) - 1]["t_strip_end_s"]
        live = after[(after["deposit"] == s["live_object"]) & (after["t_s"] <= t_end)]
        assert live["volume_um3"].iloc[-1] < live["volume_um3"].iloc[0]


def test_family_truth_is_the_dead_half_over_the_whole_whisker(split_sim):
    fr, fams, cyc = split_sim["frames"], split_sim["families"], split_sim["cycles"]
    for _, f in fams.iterrows():
        c = split_sim["truth"]["echem"]["cycles"][int(f["cycle"]) - 1]
        inside = fr[(fr["family"] == f["family"]) & (fr["t_s"] >= c["t_plate_start_s"])]
        inside = inside[inside["t_s"] <= c["t_strip_end_s"]].drop_duplicates(["frame", "object"])
        vmax = inside.groupby("frame")["object_volume_um3"].sum().max()
        members = [int(m) for m in f["members"].split()]
        row = cyc[(cyc["cycle"] == f["cycle"]) & cyc["object"].isin(members) & cyc["dead"]]
        assert len(row) == 1  # exactly one half is planted dead
        assert f["v_max_um3"] == pytest.approx(vmax, rel=1e-12)
        assert f["dead_fraction"] == pytest.approx(row["v_dead_um3"].iloc[0] / vmax, rel=1e-12)
        assert 0 < f["dead_fraction"] < 0.5  # a half, less its shrinking before the break
