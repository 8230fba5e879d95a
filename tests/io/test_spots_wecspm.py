"""WEC-SPM exports (row-per-channel .tsv + .set): hand-made files, malformed and truncated."""

from __future__ import annotations

import numpy as np
import pytest

from platescope import InputError
from platescope.io import read_spots
from platescope.io._spots_wecspm import parse_set

SET = (
    "# hand-made\nTechnique\tGalvanostatic hopping\nSample Time (us)\t10\nSamples per data point\t999\n"
    "Footprint diameter (um)\t6\nGalvanostatic duration (s)\t0.29\nFeedback type hold\t0\n"
    "Number of conditions\t2\nCondition 1 current (A)\t-6.2e-11\nCondition 1 hops\t1\n"
    "Condition 2 current (A)\t-3.1e-10\nCondition 2 hops\t{second}\n"
)


def _channels(n_hops=2, n_wet=30):
    fb, ln, v, i, x, t = [], [], [], [], [], []
    line = 0
    for h in range(n_hops):
        for stage, n in ((1, 4), (0, n_wet), (2, 3)):
            line += 1
            fb += [stage] * n
            ln += [line] * n
            v += [10.0] * n if stage else list(0.5 - 0.01 * np.arange(n))
            i += [0.0] * n if stage else [-1e-10 * (h + 1)] * n
            x += [11.0 * h] * n
    t = list(np.arange(len(fb)) * 0.01)
    return {"X": x, "V1": v, "Current1": i, "Feedback Type": fb, "Line Number": ln, "dt (s)": t}


def _write(tmp_path, chans, *, second=1, set_text=None):
    tsv = tmp_path / "run.tsv"
    tsv.write_text(
        "".join(
            k + "\t" + "\t".join(f"{x:.6g}" for x in vals) + "\r\n" for k, vals in chans.items()
        )
    )
    (tmp_path / "run.set").write_text(
        set_text if set_text is not None else SET.format(second=second)
    )
    return tsv


def test_hops_are_surface_holds_split_by_feedback_type_and_line_number(tmp_path):
    spots = read_spots(_write(tmp_path, _channels()))
    assert spots.layout == "wec-spm" and len(spots) == 2
    assert spots.index["condition"].tolist() == [0, 1]
    np.testing.assert_allclose(spots.index["x_um"], [0.0, 11.0])
    # j = |I| / (π (3 µm)²)
    np.testing.assert_allclose(
        spots.index["current_density_mA_cm2"],
        [6.2e-11 / (np.pi * 9e-8) * 1e3, 3.1e-10 / (np.pi * 9e-8) * 1e3],
    )
    rec = spots.read(1)
    assert len(rec) == 30 and rec["time_s"].iloc[0] == 0.0
    assert rec["potential_V"].iloc[0] == pytest.approx(0.5)
    assert rec["current_A"].iloc[0] == pytest.approx(-2e-10)
    # the .set can be given instead of the .tsv
    assert len(read_spots(tmp_path / "run.set")) == 2


def test_two_holds_in_a_row_are_two_hops_when_the_line_number_changes(tmp_path):
    ch = _channels(n_hops=1, n_wet=30)
    # a second hold right after the first, new line number, no approach in between
    for key, extra in (("X", [11.0] * 30), ("V1", list(0.4 - 0.01 * np.arange(30))), ("Current1", [-2e-10] * 30),
                       ("Feedback Type", [0] * 30), ("Line Number", [9] * 30)):  # fmt: skip
        ch[key] = ch[key] + extra
    ch["dt (s)"] = list(np.arange(len(ch["X"])) * 0.01)
    spots = read_spots(_write(tmp_path, ch))
    assert len(spots) == 2 and len(spots.read(1)) == 30


def test_time_from_the_sample_rule_without_dt_channel(tmp_path):
    ch = _channels()
    del ch["dt (s)"]
    rec = read_spots(_write(tmp_path, ch)).read(0)
    assert rec["time_s"].iloc[1] == pytest.approx(10e-6 * (999 + 1))  # 10 µs × (samples + 1)


def test_units_in_labels_are_honoured(tmp_path):
    ch = _channels()
    ch["Current1 (nA)"] = [v * 1e9 for v in ch.pop("Current1")]
    rec = read_spots(_write(tmp_path, ch)).read(0)
    assert rec["current_A"].iloc[0] == pytest.approx(-1e-10)


def test_missing_channel_and_missing_set(tmp_path):
    ch = _channels()
    del ch["Feedback Type"]
    with pytest.raises(InputError, match=r"run\.tsv: .*lacks the channel line\(s\) Feedback Type"):
        read_spots(_write(tmp_path, ch))
    tsv = _write(tmp_path, _channels())
    (tmp_path / "run.set").unlink()
    with pytest.raises(InputError, match=r"run\.set: .*settings file .* does not exist"):
        read_spots(tsv)


def test_condition_counts_must_match_the_recording(tmp_path):
    with pytest.raises(InputError, match="assign 4 hops .* holds 2 surface holds"):
        read_spots(_write(tmp_path, _channels(), second=3))


def test_truncated_export_fails_only_the_cut_hop(tmp_path):
    tsv = _write(tmp_path, _channels())
    data = tsv.read_bytes()
    tsv.write_bytes(data[: len(data) - 120])  # the last line (dt (s)) loses its end
    spots = read_spots(tsv)
    assert len(spots.read(0)) == 30
    with pytest.raises(
        InputError, match=r"spot 1: the channel line 'dt \(s\)' ends after .*truncated"
    ):
        spots.read(1)


def test_corrupt_value_is_reported_for_its_hop(tmp_path):
    ch = _channels()
    tsv = _write(tmp_path, ch)
    lines = tsv.read_bytes().split(b"\r\n")
    vals = lines[1].split(b"\t")  # V1
    vals[45] = b"abc"  # inside hop 1's hold
    lines[1] = b"\t".join(vals)
    tsv.write_bytes(b"\r\n".join(lines))
    spots = read_spots(tsv)
    spots.read(0)
    with pytest.raises(InputError, match=r"spot 1: the channel 'V1' holds a non-numeric value"):
        spots.read(1)


def test_parse_set_reads_both_separators(tmp_path):
    p = tmp_path / "a.set"
    p.write_text("; comment\nA\t1.5\nB = text\nnot a pair\n")
    assert parse_set(p) == {"A": 1.5, "B": "text"}


@pytest.mark.parametrize(
    "garbage",
    ["", "\x00\x01\x02 binary \xff\n", "hello world\nthis is not a settings file\n", "a=b\nc\td\n"],
)
def test_a_set_file_that_cannot_be_parsed_is_an_error_not_one_condition(tmp_path, garbage):
    tsv = _write(tmp_path, _channels(), set_text=garbage)
    with pytest.raises(InputError, match=r"run\.set: the settings file holds none of the WEC-SPM"):
        read_spots(tsv)
    # a real .set without conditions still reads (one pooled condition, as before)
    minimal = "Technique\tGalvanostatic hopping\nFeedback type hold\t0\n"
    spots = read_spots(_write(tmp_path, _channels(), set_text=minimal))
    assert list(spots.index["condition"].unique()) == ["all"]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("Number of conditions\t1e308\n", "Number of conditions"),
        ("Footprint diameter (um)\t1e308\n", "Footprint diameter"),
        ("Number of conditions\t1e9\n", "Number of conditions"),  # was a billion-step loop
    ],
)
def test_absurd_numbers_in_the_set_are_errors_not_crashes_or_hangs(tmp_path, line, match):
    key = line.split("\t")[0]
    text = "".join(ln + "\n" for ln in SET.format(second=1).splitlines() if not ln.startswith(key))
    tsv = _write(tmp_path, _channels(), set_text=text + line)
    with pytest.raises(InputError, match=match):
        read_spots(tsv)


def _arrays_same_as_one_by_one(spots):
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


def test_read_arrays_equals_read(tmp_path):
    arr = _arrays_same_as_one_by_one(read_spots(_write(tmp_path, _channels(n_hops=3), second=2)))
    assert not arr.errors and arr.lengths.tolist() == [30, 30, 30]


def test_read_arrays_without_dt_channel_and_with_bad_hops(tmp_path):
    ch = _channels(n_hops=3)
    del ch["dt (s)"]
    tsv = _write(tmp_path / "a", ch, second=2) if (tmp_path / "a").mkdir() is None else None
    arr = _arrays_same_as_one_by_one(read_spots(tsv))
    assert not arr.errors
    ch = _channels(n_hops=3)
    tsv = _write(tmp_path, ch, second=2)
    lines = tsv.read_bytes().split(b"\r\n")
    vals = lines[1].split(b"\t")  # V1
    vals[45] = b"abc"  # inside hop 1's hold
    lines[1] = b"\t".join(vals)
    data = b"\r\n".join(lines)
    tsv.write_bytes(data[: len(data) - 120])  # and the dt (s) line loses its end (hop 2)
    arr = _arrays_same_as_one_by_one(read_spots(tsv))
    assert sorted(arr.errors) == [1, 2]
