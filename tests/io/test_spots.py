"""SECCM spot sets: the platescope layout, the lazy view and what every layout shares."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from platescope import InputError
from platescope.io import SpotSet, describe, read_spots
from platescope.simulate import make_spot_design, simulate
from platescope.simulate._seccm_combinatorial import spot_record

SMALL = {"n_conditions": 2, "n_repeats": 3, "sample_period_s": 0.01}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """The same seed written in all three layouts (one folder each)."""
    root = tmp_path_factory.mktemp("spots")
    out = {}
    for layout in ("platescope", "echemtips", "wec-spm"):
        exp = simulate(
            "seccm-combinatorial", root / layout, seed=5, overrides={"layout": layout, **SMALL}
        )
        out[layout] = exp.parent
    return out


def _open(folder, layout):
    return {
        "platescope": lambda: read_spots(folder / "spots.csv"),
        "echemtips": lambda: read_spots(next(folder.glob("*.csv"))),
        "wec-spm": lambda: read_spots(next(folder.glob("*.tsv"))),
    }[layout]()


@pytest.mark.parametrize("layout", ["platescope", "echemtips", "wec-spm"])
def test_round_trip_every_layout_gives_the_planted_records(sim, layout):
    spots = _open(sim[layout], layout)
    design = make_spot_design(seed=5, **SMALL)
    assert isinstance(spots, SpotSet) and spots.layout == layout and len(spots) == len(design)
    assert spots.index["condition"].tolist() == design["condition"].tolist()
    np.testing.assert_allclose(spots.index["x_um"], design["x_um"], atol=0.02)
    np.testing.assert_allclose(spots.index["y_um"], design["y_um"], atol=0.02)
    for spot in spots:
        rec = spot.read()
        ref = spot_record(design.iloc[int(spot.spot)], seed=5, **SMALL)
        assert list(rec.columns) == ["time_s", "potential_V", "current_A"]
        assert len(rec) == len(ref) and rec["time_s"].iloc[0] == 0.0
        # files round numbers: 1e-7 V, 1e-6 s, 10 significant digits of current
        np.testing.assert_allclose(rec["potential_V"], ref["potential_V"], atol=6e-8)
        np.testing.assert_allclose(rec["time_s"], ref["time_s"], atol=1e-6)
        np.testing.assert_allclose(rec["current_A"], ref["current_A"], rtol=1e-6)
        assert rec.attrs["spot"] == spot.spot and rec.attrs["layout"] == layout
    # the current density each layout reports: the spot's own (platescope) or the condition's nominal
    col = "current_density_mA_cm2" if layout == "platescope" else "current_density_nominal_mA_cm2"
    np.testing.assert_allclose(spots.index["current_density_mA_cm2"], design[col], rtol=1e-5)


@pytest.mark.parametrize("layout", ["platescope", "echemtips", "wec-spm"])
def test_describe_through_platescope_info(sim, layout):
    folder = sim[layout]
    path = {"platescope": folder / "spots.csv"}.get(layout) or next(
        p for p in folder.iterdir() if p.suffix in (".csv", ".tsv") and p.name != "spots.csv"
    )
    info = describe(path)
    assert info["kind"] == "seccm_spots" and info["layout"] == layout
    assert info["n_spots"] == 6 and info["n_conditions"] == 2
    assert info["duration_s"] == pytest.approx(5.0)
    sidecar = {"echemtips": ".json", "wec-spm": ".set"}.get(layout)
    if sidecar:  # the sidecar/settings file describes the same run
        assert describe(path.with_suffix(sidecar))["n_spots"] == 6


def test_spot_set_is_lazy_picklable_and_batches(sim):
    spots = read_spots(sim["platescope"] / "spots.csv")
    clone = pickle.loads(pickle.dumps(spots))
    assert clone.index.equals(spots.index)
    batches = list(spots.batches(4))
    assert [len(b) for b in batches] == [4, 2]
    assert batches[1].spot(0).spot == 4
    pd.testing.assert_frame_equal(batches[1].read(1), spots.read(5))


def _index(tmp_path, text):
    p = tmp_path / "spots.csv"
    p.write_text(text)
    return p


def _record(path, n=50):
    t = np.arange(n) * 0.1
    pd.DataFrame({"time_s": t, "potential_V": 0.5 - 0.01 * t, "current_A": -1e-10}).to_csv(
        path, index=False
    )


def test_index_missing_columns_names_them(tmp_path):
    p = _index(tmp_path, "spot,x_um,y_um,path\n0,0,0,a.csv\n")
    with pytest.raises(
        InputError, match=r"spots\.csv.*lacks.*condition.*current_density_mA_cm2"
    ) as err:
        read_spots(p)
    assert "give the columns" in str(err.value)


def test_index_duplicate_and_non_numeric_rows(tmp_path):
    head = "spot,x_um,y_um,condition,current_density_mA_cm2,path\n"
    p = _index(tmp_path, head + "0,0,0,A,0.5,a.csv\n0,11,0,A,0.5,b.csv\n")
    with pytest.raises(InputError, match="more than once"):
        read_spots(p)
    p = _index(tmp_path, head + "0,0,0,A,0.5,a.csv\n1,eleven,0,A,0.5,b.csv\n")
    with pytest.raises(InputError, match=r"row 3 .*x_um = 'eleven' is not a number"):
        read_spots(p)


def test_missing_and_truncated_spot_files_fail_only_that_spot(tmp_path):
    head = "spot,x_um,y_um,condition,current_density_mA_cm2,path\n"
    p = _index(tmp_path, head + "0,0,0,A,0.5,a.csv\n1,11,0,A,0.5,gone.csv\n2,22,0,A,0.5,cut.csv\n")
    _record(tmp_path / "a.csv")
    _record(tmp_path / "cut.csv")
    data = (tmp_path / "cut.csv").read_bytes()
    (tmp_path / "cut.csv").write_bytes(data[: len(data) - 9])  # cut inside the last number
    spots = read_spots(p)  # opening reads only the index
    assert len(spots.read(0)) == 50
    with pytest.raises(InputError, match=r"gone\.csv: spot 1: .*does not exist") as err:
        spots.read(1)
    assert "correct its path" in str(err.value)
    with pytest.raises(InputError, match=r"cut\.csv: spot 2: .*truncated"):
        spots.read(2)


def test_record_shorter_than_its_programme_is_flagged(tmp_path):
    head = "spot,x_um,y_um,condition,current_density_mA_cm2,path,duration_s\n"
    p = _index(tmp_path, head + "7,0,0,A,0.5,a.csv,5.0\n")
    _record(tmp_path / "a.csv", n=30)  # 2.9 s of a 5 s programme
    with pytest.raises(
        InputError, match=r"spot 7: the record ends after 2.9 s of its 5 s programme"
    ):
        read_spots(p).read(0)


def test_unknown_file_is_not_guessed(tmp_path):
    p = tmp_path / "notes.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot tell which SECCM spot layout"):
        read_spots(p)
    with pytest.raises(InputError, match="unknown SECCM spot layout"):
        read_spots(p, layout="hdf5")


def test_an_index_whose_spot_files_are_all_missing_is_exit_2(tmp_path, capsys):
    import pandas as pd

    from platescope.cli import main
    from platescope.simulate import simulate

    exp = simulate(
        "seccm-combinatorial",
        tmp_path / "exp",
        seed=4,
        overrides={"n_conditions": 2, "n_repeats": 3},
    )
    index = pd.read_csv(exp.parent / "spots.csv")
    for rel in index["path"]:
        (exp.parent / rel).unlink()
    with pytest.raises(InputError, match="none of the 6 spot files it names exists"):
        read_spots(exp.parent / "spots.csv")
    code = main(["analyze", str(exp), "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "none of the 6 spot files" in err
    # one file back: the index is usable again (the missing ones are reported per spot)
    simulate(
        "seccm-combinatorial",
        tmp_path / "exp2",
        seed=4,
        overrides={"n_conditions": 2, "n_repeats": 3},
    )
    (exp.parent / index["path"][0]).write_bytes((tmp_path / "exp2" / index["path"][0]).read_bytes())
    assert len(read_spots(exp.parent / "spots.csv")) == 6
