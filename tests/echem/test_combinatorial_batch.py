"""The batch (one array per batch) spot features equal the per-spot reference.

Reference: :func:`platescope.echem.spot_features`, one call per spot (today's path),
on spots planted by the ``seccm-combinatorial`` simulator, plus records built to take
each branch (no turn, minimum at the start/end, a spike, a NaN, too short, time going
backwards, ragged lengths, no area) — every branch must give the same answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from platescope.echem import spot_features
from platescope.echem._combinatorial_batch import BATCH_COLUMNS, spot_features_batch
from platescope.io import read_spots
from platescope.pipeline._parallel import analyse_batch, analyse_batch_per_spot
from platescope.simulate import simulate

OPTIONS = {"smooth_s": 0.2, "growth_fraction": 0.2, "rise_sigma": 8.0, "min_rise_V": 1e-3}


def _assert_same(batch: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(batch.columns) == list(ref.columns)
    assert len(batch) == len(ref)
    for col in ref.columns:
        a, b = batch[col].tolist(), ref[col].tolist()
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            missing_y = y is None or (isinstance(y, float) and np.isnan(y))
            if missing_y and col != "reason":  # a missing number: None or NaN
                assert x is None or (isinstance(x, float) and np.isnan(x)), (col, k, x, y)
            elif isinstance(y, str) or y is None or isinstance(y, bool | np.bool_):
                assert x == y, (col, k, x, y)
            elif isinstance(y, float) and np.isnan(y):
                assert x is None or np.isnan(x), (col, k, x, y)
            else:
                # floating-point rounding only (QR vs SVD least squares, cumulative sums)
                assert x == pytest.approx(y, rel=1e-9, abs=1e-18), (col, k, x, y)


@pytest.fixture(scope="module")
def simulated_spots(tmp_path_factory):
    d = tmp_path_factory.mktemp("comb-batch")
    exp = simulate(
        "seccm-combinatorial",
        d,
        seed=3,
        overrides={"n_conditions": 6, "n_repeats": 6, "sample_period_s": 0.005},
    )
    return read_spots(exp.parent / "spots.csv")


def test_analyse_batch_equals_per_spot_reference(simulated_spots):
    a = analyse_batch(simulated_spots, OPTIONS)
    b = analyse_batch_per_spot(simulated_spots, OPTIONS)
    assert a["skipped"] == b["skipped"] == []
    # the simulated run has nucleated and never-turning spots: both branches are compared
    assert 0 < int(b["rows"]["nucleated"].sum()) < len(b["rows"])
    _assert_same(a["rows"], b["rows"])


def _transient(t, t_min=2.0, e_min=-0.15, depth=0.05):
    return depth * (t - t_min) ** 2 / (1 + 0.5 * np.abs(t - t_min)) + e_min


def _branch_records():
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 5.0, 1001)
    recs = []
    for t_min in (0.6, 1.5, 2.5, 3.8):  # nucleating spots
        recs.append(_transient(t, t_min) + rng.normal(0, 3e-4, t.size))
    recs.append(0.3 - 0.08 * t + rng.normal(0, 3e-4, t.size))  # falls throughout: edge at end
    recs.append(0.1 + 0.02 * t + rng.normal(0, 3e-4, t.size))  # rises throughout: edge at start
    flat = _transient(t, 2.0, depth=0.0004) + rng.normal(0, 3e-4, t.size)  # no clear rise
    recs.append(flat)
    spiky = _transient(t, 2.0) + rng.normal(0, 3e-4, t.size)
    spiky[400] -= 0.3  # a single-sample spike: the per-spot path removes it
    recs.append(spiky)
    e = np.stack(recs)
    i = np.full_like(e, -6e-11) * (1 + rng.normal(0, 2e-3, e.shape))
    return np.broadcast_to(t, e.shape).copy(), e, i


def test_every_branch_matches_spot_features():
    t, e, i = _branch_records()
    n = len(e)
    j = np.where(np.arange(n) % 3 == 0, np.nan, 0.5 + 0.1 * np.arange(n))
    area = np.where(np.arange(n) % 4 == 1, 2.8e-7, np.nan)
    got = spot_features_batch(t, e, i, current_density_mA_cm2=j, area_cm2=area, **OPTIONS)
    ref = pd.DataFrame(
        [
            spot_features(
                pd.DataFrame({"time_s": t[k], "potential_V": e[k], "current_A": i[k]}),
                current_density_mA_cm2=None if np.isnan(j[k]) else j[k],
                area_cm2=None if np.isnan(area[k]) else area[k],
                **OPTIONS,
            )
            for k in range(n)
        ]
    )[list(BATCH_COLUMNS)]
    reasons = ref["reason"].tolist()
    assert any(isinstance(r, str) and "end of the step" in r for r in reasons)
    assert any(isinstance(r, str) and "start of the record" in r for r in reasons)
    assert any(isinstance(r, str) and "never turns back up" in r for r in reasons)
    assert any(isinstance(r, str) and "Q_nuc needs" in r for r in reasons)  # no area and no j
    assert ref["nucleated"].sum() >= 4
    _assert_same(got, ref)


def test_bad_records_are_skipped_alone(tmp_path):
    """A NaN, a short and a backwards record: reported per spot, the others analysed."""
    t, e, i = _branch_records()
    rows = []
    for k in range(4):
        ee, tt = e[k].copy(), t[k].copy()
        if k == 1:
            ee[10] = np.nan  # dropped by the per-spot path, still analysed
        if k == 2:
            tt[500] = tt[499]  # time does not increase: refused
        if k == 3:
            tt, ee = tt[:15], ee[:15]
        p = tmp_path / f"s{k}.csv"
        pd.DataFrame({"time_s": tt, "potential_V": ee, "current_A": i[k][: tt.size]}).to_csv(
            p, index=False
        )
        rows.append(f"{k},0,{k},A,0.5,{p.name}")
    (tmp_path / "spots.csv").write_text(
        "spot,x_um,y_um,condition,current_density_mA_cm2,path\n" + "\n".join(rows) + "\n"
    )
    spots = read_spots(tmp_path / "spots.csv")
    a = analyse_batch(spots, OPTIONS)
    b = analyse_batch_per_spot(spots, OPTIONS)
    assert [s["spot"] for s in a["skipped"]] == [s["spot"] for s in b["skipped"]]
    assert len(a["skipped"]) >= 1
    _assert_same(a["rows"], b["rows"])


def test_empty_and_shape_checks():
    f = spot_features_batch(np.zeros((0, 50)), np.zeros((0, 50)), np.zeros((0, 50)))
    assert len(f) == 0 and list(f.columns) == list(BATCH_COLUMNS)
    with pytest.raises(ValueError, match="same shape"):
        spot_features_batch(np.zeros((2, 50)), np.zeros((2, 49)), np.zeros((2, 50)))


def test_a_record_without_current_is_skipped_as_before(tmp_path, monkeypatch):
    """A reader that returns no current column: the per-spot rule's error, for that spot."""
    t, e, i = _branch_records()
    for k in range(2):
        pd.DataFrame({"time_s": t[k], "potential_V": e[k], "current_A": i[k]}).to_csv(
            tmp_path / f"s{k}.csv", index=False
        )
    (tmp_path / "spots.csv").write_text(
        "spot,x_um,y_um,condition,current_density_mA_cm2,path\n"
        "0,0,0,A,0.5,s0.csv\n1,0,1,A,0.5,s1.csv\n"
    )
    spots = read_spots(tmp_path / "spots.csv")
    real = type(spots).read

    def read(self, pos):
        df = real(self, pos)
        return df.drop(columns="current_A") if pos == 1 else df

    monkeypatch.setattr(type(spots), "read", read)
    # the batch reader parses plain CSV files itself: make it leave them to the per-spot reader
    from platescope.io import _spotset

    monkeypatch.delitem(_spotset.SPOT_ARRAY_READERS, "platescope")
    a = analyse_batch(spots, OPTIONS)
    b = analyse_batch_per_spot(spots, OPTIONS)
    assert [s["spot"] for s in a["skipped"]] == [1]
    assert a["skipped"] == b["skipped"]
    assert "current_A" in a["skipped"][0]["reason"]
    _assert_same(a["rows"], b["rows"])


@pytest.mark.parametrize("layout", ["echemtips", "wec-spm"])
def test_analyse_batch_equals_per_spot_reference_on_vendor_streams(tmp_path, layout):
    exp = simulate(
        "seccm-combinatorial",
        tmp_path,
        seed=4,
        overrides={"layout": layout, "n_conditions": 4, "n_repeats": 4, "sample_period_s": 0.01},
    )
    spots = read_spots(next(exp.parent.glob("*.csv" if layout == "echemtips" else "*.tsv")))
    for batch in spots.batches(7):
        a = analyse_batch(batch, OPTIONS)
        b = analyse_batch_per_spot(batch, OPTIONS)
        assert a["skipped"] == b["skipped"] == []
        _assert_same(a["rows"], b["rows"])
