"""SIMS depth-profile reader: columns, sputter-time conversion, bad input, round trips."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platescope import InputError
from platescope.io import describe, read_sims
from platescope.io._sims import MIN_POINTS, parse_sims_text


def _write(tmp_path, text, name="p.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _table(depths, n6, n7, *, head="depth_um", sep=",", extra=None):
    cols = [head, "counts_6Li", "counts_7Li"] + ([extra[0]] if extra else [])
    lines = [sep.join(cols)]
    for i, (d, a, b) in enumerate(zip(depths, n6, n7, strict=True)):
        row = [f"{d:.12g}", f"{a:.12g}", f"{b:.12g}"] + ([f"{extra[1][i]:.12g}"] if extra else [])
        lines.append(sep.join(row))
    return "\n".join(lines) + "\n"


def test_depth_profile_with_oxygen_channel_and_comments(tmp_path):
    d = np.arange(1, 13) * 0.25
    text = "# exported by the instrument\n# second comment\n" + _table(
        d, np.full(12, 900), np.arange(12) + 100, extra=("counts_18O", np.full(12, 7))
    )
    df = read_sims(_write(tmp_path, text))
    assert list(df.columns) == ["depth_um", "counts_6Li", "counts_7Li", "counts_18O"]
    np.testing.assert_allclose(df["depth_um"], d)
    np.testing.assert_allclose(df["counts_7Li"], np.arange(12) + 100)
    assert df.attrs["depth_source"] == "file" and df.attrs["channels"] == ["6Li", "7Li", "18O"]


def test_sputter_time_converted_by_crater_depth_and_by_rate(tmp_path):
    t = np.arange(1, 21) * 3.0  # s
    p = _write(tmp_path, _table(t, np.full(20, 5), np.full(20, 5), head="sputter_time_s"))
    by_crater = read_sims(p, crater_depth_um=12.0)
    np.testing.assert_allclose(by_crater["depth_um"], 12.0 * t / t[-1])
    assert by_crater.attrs["depth_source"] == "crater_depth"
    np.testing.assert_allclose(by_crater["time_s"], t)
    by_rate = read_sims(p, sputter_rate_um_s=0.05)
    np.testing.assert_allclose(by_rate["depth_um"], 0.05 * t)
    assert by_rate.attrs["depth_source"] == "sputter_rate"


def test_depth_column_rescaled_by_a_measured_crater_depth(tmp_path):
    d = np.arange(1, 11) * 0.5
    p = _write(tmp_path, _table(d, np.ones(10), np.ones(10)))
    df = read_sims(p, crater_depth_um=5.5)
    np.testing.assert_allclose(df["depth_um"], d * 5.5 / 5.0)
    assert df.attrs["depth_source"] == "file, rescaled to crater_depth_um"
    with pytest.raises(InputError, match="converts sputter times only"):
        read_sims(p, sputter_rate_um_s=0.1)


def test_semicolon_separator_decimal_comma_and_depth_in_nm(tmp_path):
    rows = "\n".join(f"{100 * (i + 1)};{i + 1},5;10" for i in range(10))
    df = read_sims(_write(tmp_path, "depth_nm;counts_6Li;counts_7Li\n" + rows + "\n"))
    np.testing.assert_allclose(df["depth_um"], 0.1 * np.arange(1, 11))
    np.testing.assert_allclose(df["counts_6Li"], np.arange(1, 11) + 0.5)


@pytest.mark.parametrize(
    ("text", "problem", "fix"),
    [
        (_table([1, 2, 3], [1, 1, 1], [1, 1, 1]), "3 depth point", "whole depth profile"),
        (_table(np.arange(1, 11), np.zeros(10), np.zeros(10)), "zero 6Li and 7Li", "recorded"),
        (
            _table([1, 2, 3, 2.5, 4, 5, 6, 7, 8, 9], np.ones(10), np.ones(10)),
            "does not increase",
            "sort",
        ),
        (
            _table([1, 2, 2, 3, 4, 5, 6, 7, 8, 9], np.ones(10), np.ones(10)),
            "does not increase",
            "sort",
        ),
        (_table(np.arange(1, 11), -np.ones(10), np.ones(10)), "negative counts", "raw"),
        (
            "depth_um,counts_6Li\n" + "".join(f"{i},1\n" for i in range(1, 11)),
            "counts_7Li",
            "header",
        ),
        ("counts_6Li,counts_7Li\n" + "".join("1,1\n" for _ in range(10)), "depth_um", "header"),
        (
            "depth_um,counts_6Li,counts_7Li\n"
            + "".join(f"{i},1,1\n" for i in range(1, 10))
            + "10,,1\n",
            "empty",
            "finite number",
        ),
        (
            "depth_um,counts_6Li,counts_7Li\n"
            + "".join(f"{i},1,1\n" for i in range(1, 10))
            + "10,nan,1\n",
            "'nan'",
            "finite number",
        ),
        (
            "time_s,counts_6Li,counts_7Li\n" + "".join(f"{i},1,1\n" for i in range(1, 11)),
            "sputter time",
            "crater_depth_um",
        ),
        ("", "no header", "header line"),
    ],
)
def test_bad_profiles_name_the_file_the_problem_and_the_fix(tmp_path, text, problem, fix):
    p = _write(tmp_path, text, name="bad_profile.csv")
    with pytest.raises(InputError) as err:
        read_sims(p)
    msg = str(err.value)
    assert "bad_profile.csv" in msg and problem in msg and fix in msg


def test_both_conversions_and_bad_crater_depth(tmp_path):
    p = _write(tmp_path, _table(np.arange(1, 11), np.ones(10), np.ones(10), head="time_s"))
    with pytest.raises(InputError, match="both crater_depth_um and sputter_rate_um_s"):
        read_sims(p, crater_depth_um=1.0, sputter_rate_um_s=0.1)
    with pytest.raises(InputError, match="crater_depth_um = -1"):
        read_sims(p, crater_depth_um=-1.0)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_sims(tmp_path / "nope.csv")
    p = tmp_path / "b.csv"
    p.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="binary"):
        read_sims(p)


def test_info_describes_depth_and_time_profiles(tmp_path):
    d = _write(tmp_path, _table(np.arange(1, 11) * 0.5, np.ones(10), np.ones(10)), "d.csv")
    info = describe(d)
    assert info["kind"] == "sims" and info["n_points"] == 10
    assert info["depth_range_um"] == [0.5, 5.0]
    t = _write(tmp_path, _table(np.arange(1, 11), np.ones(10), np.ones(10), head="time_s"), "t.csv")
    info = describe(t)
    assert info["kind"] == "sims" and info["time_range_s"] == [1.0, 10.0]
    assert "crater_depth_um" in info["depth_source"]


_counts = st.integers(min_value=0, max_value=10**7)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=1e-3, max_value=50.0), min_size=MIN_POINTS, max_size=60),
    data=st.data(),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_round_trip_of_any_valid_profile(steps, data, sep):
    depth = np.round(np.cumsum(steps), 6)
    if np.any(np.diff(depth) <= 0):
        return  # rounding merged two depths; not a valid profile
    n = depth.size
    n6 = np.array(data.draw(st.lists(_counts, min_size=n, max_size=n)))
    n7 = np.array(data.draw(st.lists(_counts, min_size=n, max_size=n)))
    n6[0] += 1  # at least MIN_POINTS rows with Li counts
    n7[:MIN_POINTS] += 1
    df = parse_sims_text(_table(depth, n6, n7, sep=sep))
    np.testing.assert_allclose(df["depth_um"], depth, rtol=1e-5)
    np.testing.assert_array_equal(df["counts_6Li"], n6)
    np.testing.assert_array_equal(df["counts_7Li"], n7)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=MIN_POINTS, max_size=40),
    swap=st.integers(min_value=0, max_value=10**6),
)
def test_any_out_of_order_row_is_refused(steps, swap):
    depth = np.round(np.cumsum(steps), 4)
    if np.any(np.diff(depth) <= 0):
        return
    i = swap % (depth.size - 1)
    depth[[i, i + 1]] = depth[[i + 1, i]]
    with pytest.raises(InputError, match="does not increase"):
        parse_sims_text(_table(depth, np.ones(depth.size), np.ones(depth.size)), path="x.csv")


@pytest.mark.parametrize(("zero", "other"), [("6Li", "7Li"), ("7Li", "6Li")])
def test_a_profile_with_one_isotope_all_zero_is_refused(tmp_path, zero, other):
    d = np.arange(1, 21, dtype=float)
    counts = {"6Li": np.full(20, 50.0), "7Li": np.full(20, 600.0)}
    counts[zero] = np.zeros(20)
    p = _write(tmp_path, _table(d, counts["6Li"], counts["7Li"]), name="one_isotope.csv")
    with pytest.raises(InputError, match=f"counts_{zero} is zero in every row") as err:
        read_sims(p)
    assert f"holds only {other}" in str(err.value) and "one_isotope.csv" in str(err.value)
