"""Strobe sync and frame-time diagnosis against planted truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from platescope import io, sync
from platescope._errors import InputError

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "echem"


def _pulse_train(centres, width, t):
    """Instantaneous samples of 5 V pulses (0.1 ms edges) centred on ``centres``."""
    v = np.zeros_like(t)
    for c in centres:
        up = (t - (c - width / 2)) / 1e-4 + 0.5
        down = ((c + width / 2) - t) / 1e-4 + 0.5
        v = np.maximum(v, 5.0 * np.clip(np.minimum(up, down), 0, 1))
    return v


@pytest.fixture(scope="module")
def strobe_sim(tmp_path_factory):
    from platescope.simulate._irm_galvanostatic import irm_galvanostatic

    out = tmp_path_factory.mktemp("strobe")
    exp = irm_galvanostatic(out, seed=4, strobe=True, duration_s=20.0)
    truth = json.loads((out / "truth" / "truth.json").read_text())
    return out, exp, truth


def test_strobe_sim_frame_times_within_1ms(strobe_sim):
    out, _, truth = strobe_sim
    echem = io.read_echem(out / "echem.mpt")
    assert "aux1_V" in echem.columns
    movie = io.read_movie(out / "irm.tif", frame_times=out / "frame_times.csv")
    st = truth["strobe"]
    assert st["n_dropped"] >= 3 and st["strobe_jitter_ms"] == 0.2
    sy = sync.synchronize(movie, echem)
    assert sy["method"] == "strobe"
    t = sy.pop("frame_times_s")
    true_t = np.asarray(st["frame_times_echem_s"])
    te = echem["time_s"].to_numpy()
    half = 0.3 * np.median(np.diff(true_t))  # the simulated exposure: 60 % of the interval
    # frames whose whole exposure pulse is in the record (one straddling its start is not)
    inside = (true_t - half > te[0]) & (true_t + half < te[-1])
    err_ms = 1e3 * np.abs(t - true_t)[inside]
    assert err_ms.max() < 1.0
    # the movie's own stamps are 5 ms off: the strobe is what brings them under 1 ms
    own = movie.t.values - truth["sync"]["offset_s"]
    assert 1e3 * np.abs(own - true_t)[inside].max() > 5.0
    # dropped frames inside the record found where they were planted
    s = sy["strobe"]
    dropped = np.asarray(st["dropped_frame_times_echem_s"])
    dropped = dropped[(dropped - half > te[0]) & (dropped + half < te[-1])]  # strobed ones
    assert dropped.size >= 2
    assert s["dropped_frames"] == dropped.size
    np.testing.assert_allclose(s["dropped_frame_times_s"], dropped, atol=1e-3)
    assert s["n_glitch_pulses"] == len(st["extra_pulse_times_s"])
    # frames before contact and after the record have no pulse (± one straddling each end)
    assert abs(s["n_frames_outside_record"] - (~inside).sum()) <= 2
    assert st["n_frames_before_record"] >= 5
    codes = {w["code"] for w in sy["warnings"]}
    assert {"frame-times-jittery", "frame-times-gap"} <= codes


def _sync_only(exp, folder):
    """A copy of the simulated experiment file (inputs by absolute path) without what the
    synchronisation does not depend on: the SEM image (analysed last, on its own) and
    the movie's drift registration (on by default; it applies nothing on this still
    stage, and tests/pipeline/test_pipeline_irm_galvanostatic.py::
    test_outputs_follow_the_contract runs and asserts it). ≈ 20 CPU s less per run."""
    import tomllib

    import tomli_w

    cfg = tomllib.loads(exp.read_text())
    del cfg["sem"]
    for key in ("path", "frame_times"):
        for section in ("echem", "movie"):
            if key in cfg[section]:
                cfg[section][key] = str(exp.parent / cfg[section][key])
    cfg["analysis"] = {**cfg.get("analysis", {}), "registration": {"enabled": False}}
    path = folder / "experiment.toml"
    path.write_text(tomli_w.dumps(cfg))
    return path


def test_strobe_preferred_in_pipeline(strobe_sim, tmp_path):
    from platescope.pipeline import analyze

    _, exp, truth = strobe_sim
    summary = analyze(_sync_only(exp, tmp_path), tmp_path / "out")
    assert summary["sync"]["method"] == "strobe"
    assert summary["sync"]["strobe"]["dropped_frames"] >= 2
    codes = {w["code"] for w in summary["warnings"]}
    assert "strobe-dropped-frames" in codes and "frame-times-jittery" in codes
    assert "frame_times_s" not in summary["sync"]


def test_strobe_library_jitter_drops_extras():
    rng = np.random.default_rng(7)
    n, dt = 400, 0.05
    true_t = 1.0 + np.cumsum(dt * (1 + rng.uniform(-0.01, 0.01, n)))
    t = np.arange(0.0, true_t[-1] + 0.1, 2e-4)
    cen = true_t + rng.normal(0, 0.2e-3, n)  # 0.2 ms strobe jitter
    v = _pulse_train(cen, 0.6 * dt, t) + rng.normal(0, 0.01, t.size)
    glitch = rng.uniform(2.0, true_t[-1] - 1, 8)
    glitch = glitch[np.min(np.abs(glitch[:, None] - true_t[None, :]), axis=1) > 0.02]
    v = np.maximum(v, _pulse_train(glitch, 1e-3, t))
    keep = np.ones(n, bool)
    keep[rng.choice(np.arange(10, n - 10), 20, replace=False)] = False  # 5 % dropped
    stamps = true_t[keep] + 100.0 + rng.normal(0, 4e-3, keep.sum())  # other clock, jitter
    res = sync.strobe_frame_times(stamps, sync.find_strobe_pulses(t, v))
    err = 1e3 * np.abs(res["t_s"] - true_t[keep])
    assert err.max() < 1.0
    assert res["dropped_frames"] == 20
    assert res["n_glitch_pulses"] == glitch.size
    assert res["offset_s"] == pytest.approx(100.0, abs=1e-3)


def test_regular_frames_need_an_anchor():
    dt = 0.1
    true_t = 1.0 + dt * np.arange(50)
    t = np.arange(0.0, 8.0, 5e-4)
    # the strobe runs before and after the movie: a shift by one frame fits as well
    cen = np.concatenate(
        [true_t[0] - dt * np.arange(5, 0, -1), true_t, true_t[-1] + dt * np.arange(1, 6)]
    )
    v = _pulse_train(cen, 0.05, t)
    pulses = sync.find_strobe_pulses(t, v)
    with pytest.raises(InputError, match="too regular"):
        sync.strobe_frame_times(true_t + 3.0, pulses)
    res = sync.strobe_frame_times(true_t + 3.0, pulses, prior_offset_s=3.0, prior_offset_err_s=0.01)
    assert np.abs(res["t_s"] - true_t).max() < 1e-3


def test_real_eclab_header_with_analog_in(tmp_path):
    src = DATA / "ixdat" / "dataset_with_loop_01_03_CP_DUSB0_C01.mpt"
    if not src.exists():
        pytest.skip(f"{src} is not available (shared data folder absent)")
    lines = (
        src.read_bytes().decode("latin-1").split("\r\n")
        if b"\r\n" in src.read_bytes()
        else src.read_text(encoding="latin-1").split("\n")
    )
    n_header = int(lines[1].split(":")[1])
    header = lines[: n_header - 1]
    names = lines[n_header - 1].rstrip("\t").split("\t")
    template = lines[n_header].split("\t")
    names.append("Analog IN 1/V")
    i_t, i_e, i_i = names.index("time/s"), names.index("Ewe/V"), names.index("I/mA")
    t = np.arange(0.0, 3.0, 1e-3)
    centres = 0.25 + 0.2 * np.arange(13) + 0.003 * np.sin(np.arange(13))
    aux = _pulse_train(centres, 0.08, t)
    rows = []
    for k in range(t.size):
        f = list(template[: len(names) - 1])
        f[i_t] = f"{t[k]:.10E}"
        f[i_e] = "-1.0000000E-002"
        f[i_i] = "-1.0000000E-001"
        rows.append("\t".join(f + [f"{aux[k]:.7E}"]))
    text = "\r\n".join(header + ["\t".join(names) + "\t"] + rows) + "\r\n"
    path = tmp_path / "strobe_CP_C01.mpt"
    path.write_bytes(text.encode("latin-1"))
    df = io.read_echem(path)
    assert df.attrs["units_original"]["aux1_V"] == "Analog IN 1/V"
    np.testing.assert_allclose(df["aux1_V"].to_numpy(), aux, atol=1e-6)
    pulses = sync.find_strobe_pulses(df["time_s"], df["aux1_V"])
    assert pulses["n_pulses"] == 13
    assert np.abs(pulses["centre_s"] - centres).max() < 0.5e-3  # half a 1 ms sample
    from platescope.sync._check import describe_aux

    info = describe_aux(df)["aux1_V"]
    assert info["has_pulses"] and info["n_pulses"] == 13
    assert info["pulse_period_ms"] == pytest.approx(200.0, abs=5.0)


def test_no_pulses_is_not_a_strobe():
    t = np.arange(0, 2, 1e-3)
    res = sync.find_strobe_pulses(t, 0.3 + 0.001 * np.sin(t))
    assert not res["has_pulses"] and "less than 0.5 V" in res["reason"]
    # volts of Gaussian noise: wide, but one level, not two
    noise = np.random.default_rng(0).normal(0.0, 1.0, t.size)
    res = sync.find_strobe_pulses(t, noise)
    assert not res["has_pulses"] and "two distinct levels" in res["reason"]


# ------------------------------------------------------------------ diagnosis
def _truth_times(n=40, dt=0.25):
    return 2.0 + dt * np.arange(n)


@pytest.mark.parametrize(
    ("plant", "code"),
    [
        ("zero", "frame-times-zero"),
        ("repeated", "frame-times-repeated"),
        ("non_monotonic", "frame-times-non-monotonic"),
    ],
)
def test_diagnosis_finds_and_repairs(plant, code):
    true_t = _truth_times()
    t = true_t.copy()
    if plant == "zero":
        t[[5, 6, 20]] = 0.0
        frames = [5, 6, 20]
    elif plant == "repeated":
        t[12] = t[11]
        frames = [12]
    else:
        t[12], t[13] = t[13], t[12]
        frames = [13]
    d = sync.diagnose_frame_times(t)
    found = {p["code"]: p for p in d["problems"]}
    assert code in found and found[code]["frames"][: len(frames)] == frames
    assert code in {w["code"] for w in d["warnings"]}
    if plant == "zero":  # absent times alone are interpolated
        assert d["health"] == "repaired"
        np.testing.assert_allclose(d["t_s"], true_t)
    else:
        assert d["health"] == "unusable" and d["t_s"] is None and "not increasing" in d["reason"]
    fixed = sync.diagnose_frame_times(t, frame_interval_s=0.25)
    assert fixed["repair"] == "stated frame interval"
    np.testing.assert_allclose(fixed["t_s"], true_t)
    strobe = sync.diagnose_frame_times(t, strobe_t_s=true_t - 1.0)
    assert strobe["repair"] == "strobe"
    np.testing.assert_allclose(strobe["t_s"], true_t - 1.0)


def test_diagnosis_jitter():
    rng = np.random.default_rng(3)
    true_t = _truth_times(200, 0.1)
    d = sync.diagnose_frame_times(true_t + rng.normal(0, 0.008, true_t.size))
    assert "frame-times-jittery" in {w["code"] for w in d["warnings"]}
    # robust sd of the intervals of times with 8 ms white jitter: 8·√2 ≈ 11 ms
    assert d["jitter_ms"] == pytest.approx(8.0 * np.sqrt(2), rel=0.2)
    assert d["health"] == "ok"
    clean = sync.diagnose_frame_times(true_t)
    assert clean["problems"] == [] and clean["warnings"] == []
    rep = sync.diagnose_frame_times(true_t + rng.normal(0, 0.008, true_t.size), strobe_t_s=true_t)
    assert rep["health"] == "repaired" and rep["repair"] == "strobe"


def test_all_zero_times_unusable_without_interval():
    d = sync.diagnose_frame_times(np.zeros(10))
    assert d["health"] == "unusable"
    assert sync.diagnose_frame_times(np.zeros(10), frame_interval_s=0.1)["health"] == "repaired"


def test_info_and_check(strobe_sim, capsys):
    from platescope.cli._main import main
    from platescope.sync._check import check_pair

    out, exp, truth = strobe_sim
    assert main(["info", str(out / "echem.mpt")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["aux"]["aux1_V"]["has_pulses"]
    assert main(["info", "--check", str(exp)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and rep["sync"]["method"] == "strobe"
    assert rep["n_frames"] == len(truth["strobe"]["frame_times_echem_s"])
    assert rep["time_axis"]["n_gaps"] >= 2 and rep["clock_overlap_s"] > 0
    # a stated offset that puts the movie far from the record: cannot be analysed
    bad = check_pair(
        out / "irm.tif", out / "echem.mpt", frame_times=out / "frame_times.csv", time_offset_s=1e4
    )
    assert not bad["ok"] and "do not overlap" in bad["fatal"]


def _mm_pair(tmp_path, elapsed_ms, *, strobe_t=None):
    """A Micro-Manager movie with the given ElapsedTime-ms and a record (landing at 1 s)."""
    import pandas as pd

    from platescope.io._image_writers import write_micromanager_movie

    n = len(elapsed_ms)
    frames = np.full((n, 16, 16), 1000, np.uint16)
    frames[10:] += 300  # landing step at frame 10
    path = tmp_path / "mm_MMStack_Pos0.ome.tif"
    write_micromanager_movie(path, frames, pixel_size_um=0.1, elapsed_ms=elapsed_ms)
    t = np.arange(0.0, 10.0, 1e-3)
    cols = {"time_s": t, "potential_V": np.full(t.size, -0.01), "current_A": np.full(t.size, -1e-6)}
    if strobe_t is not None:
        cols["aux1_V"] = _pulse_train(strobe_t, 0.05, t)
    csv = tmp_path / "echem.csv"
    pd.DataFrame(cols).to_csv(csv, index=False)
    return path, io.read_echem(csv)


def test_repeated_stamps_repaired_from_stated_interval(tmp_path):
    true_ms = 100.0 * np.arange(30)
    stamps = true_ms.copy()
    stamps[15] = stamps[14]  # repeated
    stamps[20], stamps[21] = stamps[21], stamps[20]  # out of order
    path, echem = _mm_pair(tmp_path, stamps)
    with pytest.raises(InputError, match="not strictly increasing"):
        io.read_movie(path)
    movie = io.read_movie(path, frame_interval_s=0.1)
    np.testing.assert_allclose(movie.t.values, true_ms / 1e3)
    assert "replaced by the stated frame_interval_s" in movie.attrs["t_note"]
    sy = sync.synchronize(movie, echem, time_offset_s=1.0)
    codes = {w["code"] for w in sy["warnings"]}
    assert {"frame-times-repeated", "frame-times-non-monotonic"} <= codes
    assert sy["frame_times"]["n_repeated"] == 1 and sy["frame_times"]["n_non_monotonic"] == 1


def test_zero_and_jittery_stamps_replaced_by_strobe(tmp_path):
    rng = np.random.default_rng(5)
    true_s = 0.2 + 0.1 * np.arange(40) + rng.uniform(-0.01, 0.01, 40)
    stamps = 1e3 * true_s + rng.normal(0, 6.0, 40)  # 6 ms software jitter
    stamps[[7, 8]] = 0.0  # placeholder zeros
    path, echem = _mm_pair(tmp_path, stamps, strobe_t=true_s + 2.0)  # record starts 2 s early
    movie = io.read_movie(path)
    assert movie.attrs["t_filled"] == 2
    sy = sync.synchronize(movie, echem)
    assert sy["method"] == "strobe"
    t = sy.pop("frame_times_s")
    assert 1e3 * np.abs(t - (true_s + 2.0)).max() < 1.0
    codes = {w["code"] for w in sy["warnings"]}
    assert {"frame-times-zero", "frame-times-jittery"} <= codes
    assert sy["frame_times"]["repair"] == "strobe"


def test_t0_offset_warns_that_mpr_start_has_no_zone():
    import pandas as pd
    import xarray as xr

    movie = xr.DataArray(np.zeros((5, 4, 4)), dims=("t", "y", "x"), coords={"t": np.arange(5.0)})
    movie.attrs["t0"] = "2024-06-12T12:00:00+00:00"
    echem = pd.DataFrame(
        {"time_s": [0.0, 10.0], "potential_V": [0.0, 0.0], "current_A": [0.0, 0.0]}
    )
    # an .mpr read with [echem] timezone: wall clock 14:00:02 in Paris (CEST) = 12:00:02 UTC
    echem.attrs.update(
        t0="2024-06-12T12:00:02+00:00",
        t0_assumed_utc=False,
        timezone="Europe/Paris",
        format="eclab-mpr",
    )
    sy = sync.synchronize(movie, echem)
    assert sy["method"] == "absolute start times" and sy["offset_s"] == pytest.approx(2.0)
    w = [w for w in sy["warnings"] if w["code"] == "t0-timezone-stated"]
    assert w and "eclab-mpr" in w[0]["message"] and "Europe/Paris" in w[0]["message"]
    # without a stated zone the start time is not used at all
    echem.attrs.update(t0_assumed_utc=True, timezone=None)
    with pytest.raises(InputError, match="time zone"):
        sync.synchronize(movie, echem)


def test_see_through_strobe_sampling_limited(tmp_path):
    from platescope.simulate import simulate

    dt_sample = 0.01  # 10 ms sampling of a 1 s-interval movie
    exp = simulate(
        "see-through-au",
        tmp_path,
        seed=1,
        overrides={"strobe": True, "strobe_sample_period_s": dt_sample, "n_cycles": 1},
    )
    truth = json.loads((exp.parent / "truth" / "truth.json").read_text())
    echem = io.read_echem(exp.parent / "echem.mpt")
    movie = io.read_movie(exp.parent / "trans.tif", frame_times=exp.parent / "frame_times.csv")
    assert movie.sizes["t"] == io.read_movie(exp.parent / "epi.tif").sizes["t"]
    sy = sync.synchronize(movie, echem)
    assert sy["method"] == "strobe"
    t = sy.pop("frame_times_s")
    true_t = np.asarray(truth["strobe"]["frame_times_echem_s"])
    te = echem["time_s"].to_numpy()
    half = 0.3 * np.median(np.diff(true_t))
    inside = (true_t - half > te[0]) & (true_t + half < te[-1])
    # a sharp edge sampled every Δt is placed within ±Δt/2; edge jitter 0.2 ms
    assert 1e3 * np.abs(t - true_t)[inside].max() < 1e3 * dt_sample / 2 + 1.0
    assert sy["strobe"]["dropped_frames"] == truth["strobe"]["n_dropped"]


def test_check_exit_2_when_clocks_cannot_be_aligned(tmp_path, capsys):
    from platescope.cli._main import main

    path, _ = _mm_pair(tmp_path, 100.0 * np.arange(30))
    # a record with a constant current, no strobe and no start time; the movie's landing
    # step is there, so first check that the pair is fine ...
    assert main(["info", "--check", str(path), str(tmp_path / "echem.csv")]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and rep["sync"]["method"].startswith("landing")
    # ... then take the landing step away: nothing can align the clocks
    from platescope.io._image_writers import write_micromanager_movie

    flat = tmp_path / "flat_MMStack_Pos0.ome.tif"
    write_micromanager_movie(
        flat,
        np.full((30, 16, 16), 1000, np.uint16),
        pixel_size_um=0.1,
        elapsed_ms=100.0 * np.arange(30),
    )
    assert main(["info", "--check", str(flat), str(tmp_path / "echem.csv")]) == 2
    err = capsys.readouterr().err
    assert "cannot be analysed" in err and "time_offset_s" in err


def test_real_gamry_ach_channel_is_read_but_carries_no_strobe():
    src = DATA / "unitpackage" / "gamry_cv.DTA"
    if not src.exists():
        pytest.skip(f"{src} is not available (shared data folder absent)")
    df = io.read_echem(src)
    assert df.attrs["units_original"]["aux1_V"] == "Ach/V"
    # the file's Ach column, parsed by hand: 81 values from -1.19 mV to 0.66 mV (an idle input)
    assert np.abs(df["aux1_V"]).max() < 2e-3
    name, res = sync.strobe_channel(df)
    assert name is None and "less than 0.5 V" in res["reason"]
