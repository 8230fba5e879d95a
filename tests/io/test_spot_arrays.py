"""Batch reading of spot records as flat arrays equals reading them spot by spot.

The reference is :meth:`SpotSet.read` (one file or one hop at a time, the per-spot
readers); the batch readers (one read and one parse per batch) must give the same
samples bit for bit and the same error message for every spot — on files written by
the simulator in all three layouts and on hand-written platescope files that take each
of the batch reader's fallbacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.echem import isolated_outliers
from platescope.io import read_spots
from platescope.io._spotbatch import SpotArrays, isolated_spike_rows
from platescope.simulate import simulate

SMALL = {"n_conditions": 3, "n_repeats": 5, "sample_period_s": 0.01}


def assert_same_as_one_by_one(spots) -> SpotArrays:
    arr = spots.read_arrays()
    assert len(arr) == len(spots)
    for pos in range(len(spots)):
        try:
            want = spots.read(pos)
        except InputError as err:
            assert pos in arr.errors, pos
            assert str(arr.errors[pos]) == str(err)
            continue
        assert pos not in arr.errors, (pos, arr.errors.get(pos))
        got = arr.record(pos)
        for col in ("time_s", "potential_V", "current_A"):
            np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy())
    return arr


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("arrays")
    out = {}
    for layout in ("platescope", "echemtips", "wec-spm"):
        exp = simulate(
            "seccm-combinatorial", root / layout, seed=2, overrides={"layout": layout, **SMALL}
        )
        pattern = {"platescope": "spots.csv", "echemtips": "*.csv", "wec-spm": "*.tsv"}[layout]
        out[layout] = read_spots(next(exp.parent.glob(pattern)))
    return out


@pytest.mark.parametrize("layout", ["platescope", "echemtips", "wec-spm"])
@pytest.mark.parametrize("size", [4, 15])
def test_simulated_batches_equal_spot_by_spot(sim, layout, size):
    spots = sim[layout]
    for batch in spots.batches(size):
        arr = assert_same_as_one_by_one(batch)
        assert not arr.errors
        (group,) = arr.groups().values()
        t, e, i = arr.stacked(group)
        assert t.shape == (len(batch), 501) and np.all(t[:, 0] == 0.0)


def test_every_layout_gives_the_same_samples(sim):
    arrays = {k: v.read_arrays() for k, v in sim.items()}
    ref = arrays["platescope"]
    for layout in ("echemtips", "wec-spm"):
        got = arrays[layout]
        np.testing.assert_array_equal(got.offsets, ref.offsets)
        np.testing.assert_allclose(got.potential_V, ref.potential_V, atol=1.1e-7)
        np.testing.assert_allclose(got.current_A, ref.current_A, rtol=1e-6)
        np.testing.assert_allclose(got.time_s, ref.time_s, atol=2e-6)


def _rec(n=60, t0=3.0, *, spike=None, nan=None, back=None):
    t = t0 + 0.05 * np.arange(n)
    e = 0.3 - 2e-4 * np.arange(n) + 1e-4 * np.sin(np.arange(n))
    i = np.full(n, -6.2e-11)
    if spike is not None:
        e[spike] -= 5.0  # an isolated gross spike (> 10 spreads): read_echem drops it
    if nan is not None:
        e[nan] = np.nan
    if back is not None:
        t[back] = t[back - 2]
    return t, e, i


def _write_csv(path, t, e, i, header="time_s,potential_V,current_A", end="\n"):
    body = "".join(f"{a:.6f},{b:.7f},{c:.6e}\n" for a, b, c in zip(t, e, i, strict=True))
    path.write_text(header + "\n" + body[:-1] + end)


def test_hand_written_files_take_every_fallback_with_the_per_spot_result(tmp_path):
    files = {
        "plain.csv": _rec(),
        "spike.csv": _rec(spike=30),
        "nan.csv": _rec(nan=10),
        "back.csv": _rec(back=40),
        "short.csv": _rec(n=12),
        "early.csv": _rec(n=30),  # ends before its programme (duration below)
        "plain2.csv": _rec(t0=0.0),
    }
    for name, (t, e, i) in files.items():
        _write_csv(tmp_path / name, t, e, i)
    t, e, i = _rec()
    _write_csv(tmp_path / "cut.csv", t, e, i, end="")  # no final line break: truncated
    _write_csv(tmp_path / "eclab.csv", t, e * 1e3, i * 1e3, header="time/s,Ewe/mV,I/mA")
    (tmp_path / "crlf.csv").write_bytes(
        (tmp_path / "plain.csv").read_text().replace("\n", "\r\n").encode()
    )
    names = list(files) + ["cut.csv", "eclab.csv", "crlf.csv", "missing.csv"]
    rows = [
        f"{k},{k},0,A,0.5,{name},{2.9 if name != 'plain2.csv' else ''}"
        for k, name in enumerate(names)
    ]
    (tmp_path / "spots.csv").write_text(
        "spot,x_um,y_um,condition,current_density_mA_cm2,path,duration_s\n" + "\n".join(rows) + "\n"
    )
    spots = read_spots(tmp_path / "spots.csv")
    arr = assert_same_as_one_by_one(spots)
    errs = {names[k]: str(v) for k, v in arr.errors.items()}
    assert set(errs) == {"nan.csv", "back.csv", "short.csv", "early.csv", "cut.csv", "missing.csv"}
    assert "no finite value" in errs["nan.csv"]
    assert "only 12 samples" in errs["short.csv"] and "truncated" in errs["cut.csv"]
    assert "ends after" in errs["early.csv"] and "time runs backwards" in errs["back.csv"]
    lens = dict(zip(names, arr.lengths.tolist(), strict=True))
    assert lens["spike.csv"] == 59 and lens["eclab.csv"] == lens["crlf.csv"] == 60
    got = arr.record(names.index("plain.csv"))
    assert got["time_s"].iloc[0] == 0.0 and got["time_s"].iloc[-1] == pytest.approx(2.95)


def test_isolated_spike_rows_is_isolated_outliers_row_by_row():
    rng = np.random.default_rng(3)
    e = np.cumsum(rng.normal(0, 1e-3, (40, 200)), axis=1)
    e[rng.integers(0, 40, 8), rng.integers(1, 199, 8)] += rng.choice([-0.3, 0.3], 8)
    want = np.array([isolated_outliers(row).any() for row in e])
    assert 0 < want.sum() < 40
    np.testing.assert_array_equal(isolated_spike_rows(e), want)


def test_groups_and_stacking_of_ragged_records():
    t1, e1, i1 = np.arange(3.0), np.ones(3), -np.ones(3)
    arr = SpotArrays(
        np.concatenate([t1, t1[:2], t1]),
        np.concatenate([e1, 2 * e1[:2], 3 * e1]),
        np.concatenate([i1, i1[:2], i1]),
        np.array([0, 3, 5, 5, 8]),
        {2: InputError("x.csv", "gone", "copy it")},
    )
    assert {k: v.tolist() for k, v in arr.groups().items()} == {2: [1], 3: [0, 3]}
    t, e, _ = arr.stacked([0, 3])
    assert t.shape == (2, 3) and e[:, 0].tolist() == [1.0, 3.0]
    with pytest.raises(InputError, match="gone"):
        arr.record(2)
    assert isinstance(arr.record(1), pd.DataFrame) and len(arr.record(1)) == 2
