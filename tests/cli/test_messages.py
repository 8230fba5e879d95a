"""Error messages: no file contents, bounded length, no numpy reprs; ``info`` prints JSON."""

import json

import numpy as np
import pytest

from platescope._errors import InputError, shown_names
from platescope.cli import main

SECRETS = [
    "root:x:0:0:hunter2-secret-token:/root:/bin/bash",
    "the password for the lab account is hunter2-secret-token",
    "password = hunter2-secret-token # keep this private, do not share",
]


@pytest.mark.parametrize(
    "suffix", [".csv", ".txt", ".mpt", ".DTA", ".tsv", ".tif", ".toml", ".nd2"]
)
@pytest.mark.parametrize("secret", SECRETS)
def test_errors_never_echo_what_a_file_holds(tmp_path, capsys, suffix, secret):
    p = tmp_path / f"private{suffix}"
    p.write_text(secret + "\n" + ("more private text\n" * 5))
    code = main(["info", str(p)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "hunter2" not in err and "secret-token" not in err, err
    assert err.startswith("platescope: error: ") and "Traceback" not in err


def test_a_megabyte_line_gives_a_short_message(tmp_path, capsys):
    p = tmp_path / "huge.csv"
    p.write_text("a" * 2**20 + ",b\n1,2\n")
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert len(err) < 2000, len(err)


def test_input_error_text_is_one_bounded_printable_line():
    err = InputError("x.csv", f"value {np.float64(19.83)!r} with\x00control\nchars", "fix it")
    assert str(err) == "x.csv: value 19.83 with?control chars. Fix: fix it."
    long = InputError("/" + "d/" * 1000 + "f.csv", "p" * 10**6, "f" * 10**6)
    assert len(str(long)) < 2400
    assert str(long).count("…") == 3


def test_column_names_are_shown_but_prose_is_not():
    assert shown_names(["time/s", "Ewe/V", "<I>/mA", "cycle number"]) == (
        "'time/s', 'Ewe/V', '<I>/mA', 'cycle number'"
    )
    assert "hunter2" not in shown_names(["the password is hunter2 for the lab"])
    assert shown_names([f"c{i}" for i in range(20)], limit=3) == "'c0', 'c1', 'c2' and 17 more"


def test_info_output_is_strict_json(tmp_path, capsys, monkeypatch):
    import platescope.io._echem as echem_io

    def nan_description(path):
        return {"kind": "echem", "path": str(path), "E_min_V": np.nan, "span": (np.inf, 1.0)}

    monkeypatch.setattr(echem_io, "describe_echem", nan_description)
    p = tmp_path / "r.mpt"
    p.write_text("x\n")
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    info = json.loads(out, parse_constant=refuse)
    assert info["E_min_V"] is None and info["span"] == [None, 1.0]
