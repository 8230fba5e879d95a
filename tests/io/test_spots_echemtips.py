"""eChemTips recordings (CSV + JSON sidecar): hand-made files, malformed and truncated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from platescope import InputError
from platescope.io import read_spots
from platescope.io._spots_echemtips import contact_segment

COLUMNS = ["elapsed_s", "x_um", "y_um", "z_um", "voltage1_v", "voltage2_v", "current1_na",
           "current2_na", "line_number", "scan_pixel"]  # fmt: skip


def _hop(pixel, t0, x, *, n_air=5, n_wet=40, e0=0.5, i_na=-0.1):
    rows = []
    for k in range(n_air):
        rows.append([t0 + 0.01 * k, x, 0, 5 - k, 10.0, 0, 0.0, 0, 1, pixel])
    for k in range(n_wet):
        t = t0 + 0.01 * (n_air + k)
        rows.append([t, x, 0, 0.5, e0 - 0.01 * k, 0, i_na, 0, 2, pixel])
    for k in range(3):
        rows.append([t0 + 0.01 * (n_air + n_wet + k), x, 0, 0.5 + k, 10.0, 0, 0.0, 0, 3, pixel])
    return rows


def _write(tmp_path, rows, *, meta_changes=None, pixels=2, technique="galvanostatic"):
    csv = tmp_path / "rec.csv"
    lines = [",".join(COLUMNS)] + [",".join(f"{v:g}" for v in r) for r in rows]
    csv.write_text("\n".join(lines) + "\n")
    meta = {
        "experiment": "test",
        "status": "complete",
        "recording_schema_version": 2,
        "csv_columns": COLUMNS,
        "parameters": {"technique": "scan_hopping"},
        "scan_grid": {
            "coordinate_unit": "um",
            "path": "serpentine",
            "pixel_count": pixels,
            "pixels": [
                {"scan_pixel": k, "scan_row": 0, "scan_column": k, "x_um": 11.0 * k, "y_um": 0.0,
                 "condition_id": k % 2, "condition_name": f"c{k % 2}",
                 "measurement_program": {"technique": technique, "current_na": -0.1,
                                         "duration_s": 0.39, "current_density_mA_cm2": 0.5}}
                for k in range(pixels)
            ],
        },
    }  # fmt: skip
    meta.update(meta_changes or {})
    (tmp_path / "rec.json").write_text(json.dumps(meta))
    return csv


def test_hand_made_recording_is_read_from_contact(tmp_path):
    rows = [[0, 0, 0, 5, 10, 0, 0, 0, 0, -1]] * 3 + _hop(0, 0.1, 0.0) + _hop(1, 2.0, 11.0, e0=0.4)
    spots = read_spots(_write(tmp_path, rows))
    assert spots.layout == "echemtips" and len(spots) == 2
    assert spots.index["condition"].tolist() == [0, 1]
    rec = spots.read(1)
    assert len(rec) == 40  # only the wet (contact) samples
    assert rec["time_s"].iloc[0] == 0.0 and rec["time_s"].iloc[-1] == pytest.approx(0.39)
    assert rec["potential_V"].iloc[0] == pytest.approx(0.4)
    assert rec["current_A"].iloc[0] == pytest.approx(-0.1e-9)  # nA → A
    # the sidecar can be given instead of the CSV
    assert len(read_spots(tmp_path / "rec.json")) == 2


def test_contact_rule_is_the_papers_5_V_drop():
    assert contact_segment(np.array([10.0, 9.0, 5.5, 4.9, 0.2, 10]), overload_V=10, drop_V=5) == (
        3,
        5,
    )
    assert contact_segment(np.array([10.0, 9.9]), overload_V=10, drop_V=5) is None


def test_missing_sidecar_names_it(tmp_path):
    csv = _write(tmp_path, _hop(0, 0, 0))
    (tmp_path / "rec.json").unlink()
    with pytest.raises(InputError, match=r"rec\.json: .*sidecar.*does not exist") as err:
        read_spots(csv, layout="echemtips")
    assert "[seccm] settings" in str(err.value)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"recording_schema_version": 1}, "schema 2"),
        ({"status": "discarded"}, "discarded"),
        ({"csv_columns": COLUMNS[:-1]}, "does not match the sidecar"),
        ({"scan_grid": {}}, "not a hopping recording"),
    ],
)
def test_malformed_sidecars(tmp_path, changes, match):
    csv = _write(tmp_path, _hop(0, 0, 0) + _hop(1, 1, 11), meta_changes=changes)
    with pytest.raises(InputError, match=match):
        read_spots(csv)


def test_non_galvanostatic_program_is_refused(tmp_path):
    csv = _write(tmp_path, _hop(0, 0, 0) + _hop(1, 1, 11), technique="cv")
    with pytest.raises(InputError, match="not a galvanostatic hold"):
        read_spots(csv)


def test_truncated_recording_fails_only_the_cut_hop(tmp_path):
    csv = _write(tmp_path, _hop(0, 0, 0) + _hop(1, 1, 11), pixels=3)
    data = csv.read_bytes()
    csv.write_bytes(data[: len(data) - 200])  # cut mid-row inside hop 1
    spots = read_spots(csv)
    assert len(spots.read(0)) == 40
    with pytest.raises(
        InputError, match=r"rec\.csv: spot 1: .*(not a complete numeric row|ends after)"
    ):
        spots.read(1)
    with pytest.raises(InputError, match=r"spot 2: the recording holds no samples"):
        spots.read(2)


def test_hop_without_contact(tmp_path):
    rows = _hop(0, 0, 0) + [[1.0 + 0.01 * k, 11, 0, 1, 10.0, 0, 0, 0, 4, 1] for k in range(30)]
    spots = read_spots(_write(tmp_path, rows))
    with pytest.raises(InputError, match="spot 1: voltage1_v never fell .* no contact"):
        spots.read(1)


def test_garbage_row_is_reported_with_its_line(tmp_path):
    csv = _write(tmp_path, _hop(0, 0, 0) + _hop(1, 1, 11))
    lines = csv.read_text().splitlines()
    lines[60] = "1.2,x,y,z,??,0,0,0,2,1"
    csv.write_text("\n".join(lines) + "\n")
    spots = read_spots(csv)
    spots.read(0)
    with pytest.raises(InputError, match=r"spot 1: line 61 is not a complete numeric row"):
        spots.read(1)


def _same_as_one_by_one(spots):
    """read_all (one pass over the rows) gives what read() gives, spot by spot."""
    together = spots.read_all()
    assert len(together) == len(spots)
    for pos, got in enumerate(together):
        try:
            want = spots.read(pos)
        except InputError as err:
            assert isinstance(got, InputError), pos
            assert str(got) == str(err)
            continue
        assert not isinstance(got, InputError), (pos, got)
        assert got.equals(want) and got.attrs == want.attrs, pos


def test_read_all_equals_read_spot_by_spot(tmp_path):
    rows = [r for k in range(6) for r in _hop(k, 2.0 * k, 11 * k, e0=0.5 - 0.01 * k)]
    spots = read_spots(_write(tmp_path, rows, pixels=7))  # pixel 6: planned, not recorded
    _same_as_one_by_one(spots)
    assert sum(isinstance(x, InputError) for x in spots.read_all()) == 1


def test_read_all_keeps_the_per_spot_messages_of_bad_hops(tmp_path):
    rows = _hop(0, 0, 0) + _hop(1, 1, 11) + _hop(2, 2, 22)
    rows += [[3.0 + 0.01 * k, 33, 0, 1, 10.0, 0, 0, 0, 4, 3] for k in range(30)]  # no contact
    csv = _write(tmp_path, rows, pixels=4)
    lines = csv.read_text().splitlines()
    lines[60] = "1.2,x,y,z,??,0,0,0,2,1"  # garbage inside hop 1
    csv.write_text("\n".join(lines) + "\n")
    spots = read_spots(csv)
    _same_as_one_by_one(spots)
    got = spots.read_all()
    assert "line 61 is not a complete numeric row" in str(got[1])
    assert "no contact" in str(got[3])
    assert len(got[0]) == len(got[2]) == 40


def test_read_all_one_pass_reports_a_hop_without_contact(tmp_path):
    rows = _hop(0, 0, 0) + [[1.0 + 0.01 * k, 11, 0, 1, 10.0, 0, 0, 0, 4, 1] for k in range(30)]
    rows += _hop(2, 2, 22)
    spots = read_spots(_write(tmp_path, rows, pixels=3))
    _same_as_one_by_one(spots)
    got = spots.read_all()
    assert "spot 1: voltage1_v never fell" in str(got[1])
    assert len(got[0]) == len(got[2]) == 40


def _arrays_same_as_one_by_one(spots):
    """read_arrays (one read and one parse of the batch's rows) gives what read() gives."""
    arr = spots.read_arrays()
    for pos in range(len(spots)):
        try:
            want = spots.read(pos)
        except InputError as err:
            assert str(arr.errors[pos]) == str(err), pos
            continue
        got = arr.record(pos)
        for col in ("time_s", "potential_V", "current_A"):
            np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy())
    return arr


def test_read_arrays_equals_read_on_good_and_bad_hops(tmp_path):
    rows = _hop(0, 0, 0) + _hop(1, 1, 11) + _hop(2, 2, 22)
    rows += [[3.0 + 0.01 * k, 33, 0, 1, 10.0, 0, 0, 0, 4, 3] for k in range(30)]  # no contact
    rows += _hop(4, 4, 44)
    rows[-10][0] = rows[-12][0]  # hop 4: elapsed_s does not increase within the contact
    csv = _write(tmp_path, rows, pixels=6)  # pixel 5: planned, not recorded
    lines = csv.read_text().splitlines()
    lines[60] = "1.2,x,y,z,??,0,0,0,2,1"  # garbage inside hop 1
    csv.write_text("\n".join(lines) + "\n")
    arr = _arrays_same_as_one_by_one(read_spots(csv))
    assert sorted(arr.errors) == [1, 3, 4, 5]
    assert arr.lengths[[0, 2]].tolist() == [40, 40]


def test_read_arrays_of_a_truncated_recording(tmp_path):
    csv = _write(tmp_path, _hop(0, 0, 0) + _hop(1, 1, 11), pixels=3)
    data = csv.read_bytes()
    csv.write_bytes(data[: len(data) - 200])
    arr = _arrays_same_as_one_by_one(read_spots(csv))
    assert sorted(arr.errors) == [1, 2]
