"""Parquet twins of the tables, the catalog across runs (queried with DuckDB) and the
RO-Crate of each result folder, on demo-like runs (simulated, so the truth is known)."""

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest

from platescope.catalog import append_to_catalog, build_catalog
from platescope.cli import main
from platescope.simulate import simulate

duckdb = pytest.importorskip("duckdb")


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two analyses of one simulated SIMS experiment (parameters differ) appended by
    ``analyze --catalog``, and a hand-made result folder with a structured headline."""
    root = tmp_path_factory.mktemp("catalog")
    exp = simulate(
        "sims-diffusion", root / "input", seed=5, overrides={"anneal_times_s": "900,3600,7200"}
    )
    text = exp.read_text()
    exp_a = exp.parent / "exp_a.toml"
    exp_b = exp.parent / "exp_b.toml"
    exp_a.write_text(text + "\n[analysis.sims]\nbootstrap = 40\n")
    exp_b.write_text(text + "\n[analysis.sims]\nbootstrap = 41\n")
    cat = root / "append" / "catalog.parquet"
    for e, out in ((exp_a, "runs/a"), (exp_b, "runs/b")):
        assert main(["analyze", str(e), "--out", str(root / out), "--catalog", str(cat)]) == 0
    # a result folder whose summary has a structured headline block, 2 warnings, a null
    hand = root / "runs" / "nested" / "hand"
    hand.mkdir(parents=True)
    hand_summary = {
        "scenario": "irm-galvanostatic",
        "name": "hand-made",
        "platescope_version": "0.1.0",
        "created_utc": "2026-01-02T03:04:05+00:00",
        "parameters": {"irm": {"blur_sigma_um": 1.0}},
        "inputs": {"movie": {"path": "m.tif", "sha256": "00" * 32}},
        "headline": [
            {"key": "E_nuc_V", "value": -0.061, "err": 0.002, "unit": "V"},
            {"key": "t_nuc_s", "value": None, "err": None, "reason": "no minimum"},
        ],
        "warnings": [{"code": "a", "message": "m", "where": "x"}, {"code": "b", "message": "m"}],
        "skipped": [],
    }
    (hand / "summary.json").write_text(json.dumps(hand_summary))
    # a staging folder of a run in progress must not be catalogued
    (root / "runs" / ".a.staging-1-x").mkdir()
    (root / "runs" / ".a.staging-1-x" / "summary.json").write_text('{"scenario": "x"}')
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, exp, cat, truth


def test_every_table_has_a_parquet_twin_with_the_same_content(runs):
    root = runs[0]
    tables = root / "runs" / "a" / "tables"
    csvs = sorted(tables.glob("*.csv"))
    assert csvs
    for csv in csvs:
        a = pd.read_csv(csv)
        b = pd.read_parquet(csv.with_suffix(".parquet"))
        assert list(a.columns) == list(b.columns), csv.name
        assert len(a) == len(b), csv.name
        for c in a.columns:
            if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c]):
                np.testing.assert_allclose(
                    a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-12, err_msg=c
                )
            else:
                assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), (csv.name, c)


def test_cli_catalog_walks_result_folders_and_duckdb_queries_it(runs, capsys):
    root, exp, _, truth = runs
    out = root / "catalog.parquet"
    assert main(["catalog", str(root / "runs"), "--out", str(out)]) == 0
    assert "3 run(s)" in capsys.readouterr().out
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT scenario, count(*) AS n, count(DISTINCT inputs_sha256) AS n_inputs, "
        f"count(DISTINCT parameters_sha256) AS n_params FROM '{out}' "
        "GROUP BY scenario ORDER BY scenario"
    ).fetchall()
    # the two SIMS runs read the same files with different bootstrap counts
    assert rows == [("irm-galvanostatic", 1, 1, 1), ("sims-diffusion", 2, 1, 2)]
    # the planted diffusion coefficient, within the run's own expanded uncertainty
    d = con.execute(
        f"SELECT sims_D_cm2_s, sims_D_cm2_s_err, warnings_count FROM '{out}' "
        "WHERE scenario = 'sims-diffusion'"
    ).fetchall()
    for value, err, _ in d:
        assert err > 0
        assert abs(value - truth["sims_D_cm2_s"]) < max(err, 0.05 * truth["sims_D_cm2_s"])
    # input hashes are those of the files (computed here independently)
    hashes = con.execute(
        f"SELECT input_hashes, experiment_sha256, result_dir FROM '{out}' "
        "WHERE scenario = 'sims-diffusion' ORDER BY result_dir"
    ).fetchall()
    summary_a = json.loads((root / "runs" / "a" / "summary.json").read_text())
    for role, rec in summary_a["inputs"].items():
        assert json.loads(hashes[0][0])[role] == _sha(rec["path_abs"])
    assert hashes[0][1] == _sha(exp.parent / "exp_a.toml")
    assert hashes[1][1] == _sha(exp.parent / "exp_b.toml")
    # the structured headline block: planted numbers, a null, the warning count
    hand = con.execute(
        f"SELECT E_nuc_V, E_nuc_V_err, t_nuc_s, warnings_count, warning_codes, created_utc "
        f"FROM '{out}' WHERE experiment_name = 'hand-made'"
    ).fetchone()
    assert hand[:5] == (-0.061, 0.002, None, 2, "a,b")
    assert hand[5].isoformat().startswith("2026-01-02T03:04:05")
    assert isinstance(hand[5], datetime)


def test_analyze_catalog_appends_and_replaces_a_rerun(runs, tmp_path):
    root, _, cat, _ = runs
    df = pd.read_parquet(cat)
    assert sorted(Path(p).name for p in df["result_dir"]) == ["a", "b"]
    # rerunning into folder a replaces its row (its old results are gone), keeps b's
    before = df.set_index("result_dir")["created_utc"]
    again = append_to_catalog(cat, root / "runs" / "a")
    assert len(again) == 2
    assert set(again["result_dir"]) == set(before.index)
    # same as a catalog built from scratch over the same two folders
    fresh, notes = build_catalog([root / "runs" / "a", root / "runs" / "b"])
    assert notes == []
    pd.testing.assert_frame_equal(
        again.sort_values("result_dir").reset_index(drop=True),
        fresh.sort_values("result_dir").reset_index(drop=True),
        check_like=True,
    )


def test_catalog_bad_input_is_exit_2(tmp_path, capsys):
    assert main(["catalog", str(tmp_path / "missing"), "--out", str(tmp_path / "c.parquet")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["catalog", str(tmp_path / "empty"), "--out", str(tmp_path / "c.parquet")]) == 2
    assert "no readable platescope result" in capsys.readouterr().err
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "summary.json").write_text('{"scenario": "irm-cv"}')
    with pytest.raises(Exception, match="not a readable Parquet catalog"):
        append_to_catalog(bad, tmp_path / "r")
    assert bad.read_text() == "not parquet"  # left as it was


# --- RO-Crate 1.1 -----------------------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")


def _refs(value):
    """Every {"@id": ...} reference inside a property value."""
    if isinstance(value, dict):
        if set(value) == {"@id"}:
            yield value["@id"]
        else:
            for v in value.values():
                yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


def test_ro_crate_follows_the_1_1_specification(runs):
    root = runs[0]
    res = root / "runs" / "a"
    crate = json.loads((res / "ro-crate-metadata.json").read_text())
    # JSON-LD document in flattened form with the 1.1 context
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = crate["@graph"]
    ids = [e["@id"] for e in graph]
    assert len(ids) == len(set(ids)), "each entity once"
    for e in graph:
        assert "@id" in e and "@type" in e, e
    by_id = {e["@id"]: e for e in graph}
    for e in graph:  # every reference resolves inside the graph, except the spec itself
        for ref in _refs({k: v for k, v in e.items() if k != "@id"}):
            assert ref in by_id or ref == "https://w3id.org/ro/crate/1.1", (e["@id"], ref)
    # the metadata descriptor
    desc = by_id["ro-crate-metadata.json"]
    assert desc["@type"] == "CreativeWork"
    assert desc["about"] == {"@id": "./"}
    assert desc["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    # the root data entity: Dataset with name, description, datePublished, license
    rootd = by_id["./"]
    assert rootd["@type"] == "Dataset"
    for key in ("name", "description", "datePublished", "license"):
        assert rootd.get(key), key
    assert _ISO.match(rootd["datePublished"])
    # hasPart: exactly the files in the folder (hidden ones and the crate itself aside)
    on_disk = {
        p.relative_to(res).as_posix()
        for p in res.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(res).parts)
        and p.name != "ro-crate-metadata.json"
    }
    parts = {unquote(r["@id"]) for r in rootd["hasPart"]}
    assert parts == on_disk
    assert {"summary.json", "report.html"} <= parts
    for r in rootd["hasPart"]:
        f = by_id[r["@id"]]
        assert f["@type"] == "File"
        assert int(f["contentSize"]) == (res / unquote(f["@id"])).stat().st_size
        assert "/" in f["encodingFormat"]
    # inputs: File entities with the files' own sha256
    summary = json.loads((res / "summary.json").read_text())
    action = next(e for e in graph if e["@type"] == "CreateAction")
    objects = [by_id[r["@id"]] for r in action["object"]]
    files = [o for o in objects if o["@type"] == "File"]
    assert len(files) == len(summary["inputs"]) + 1 + len(summary["files_read"])
    for f in files:
        path = Path(unquote(urlparse(f["@id"]).path))
        assert f["sha256"] == _sha(path)
        assert int(f["contentSize"]) == path.stat().st_size
    # the software with its version, and the parameters the run used
    sw = by_id[action["instrument"]["@id"]]
    assert sw["@type"] == "SoftwareApplication"
    assert sw["version"] == summary["platescope_version"]
    values = {o["name"]: o["value"] for o in objects if o["@type"] == "PropertyValue"}
    assert values["sims.bootstrap"] == 40
    assert {unquote(r["@id"]) for r in action["result"]} == on_disk


def test_catalog_lists_the_report_headline_numbers_held_in_lists(tmp_path):
    """Per-cycle CE (a list in summary.json) reaches the catalog as first/last columns
    that DuckDB can query across runs with different cycle counts."""
    for name, ces in (("a", [0.80, 0.90, 0.97]), ("b", [0.70, 0.85])):
        folder = tmp_path / name
        folder.mkdir()
        cycles = [{"cycle": i + 1, "CE": ce, "CE_err": 0.01 * (i + 1)} for i, ce in enumerate(ces)]
        summary = {"scenario": "irm-cv", "name": name, "echem": {"cycles": cycles}}
        (folder / "summary.json").write_text(json.dumps(summary))
    build_catalog([tmp_path], out=tmp_path / "cat.parquet")
    rows = duckdb.sql(
        "SELECT experiment_name, echem_cycles_0_CE, echem_cycles_last_CE, "
        f"echem_cycles_last_CE_err FROM '{tmp_path / 'cat.parquet'}' ORDER BY experiment_name"
    ).fetchall()
    assert rows == [("a", 0.80, 0.97, 0.03), ("b", 0.70, 0.85, 0.02)]


def test_catalog_out_never_overwrites_a_file_platescope_did_not_write(runs, tmp_path, capsys):
    """--out naming an input movie or a user's own file is exit 2 and leaves it byte for
    byte; an earlier catalog is replaced."""
    root = runs[0]
    mine = tmp_path / "mine.parquet"
    mine.write_bytes(b"not a catalog")
    movie_like = tmp_path / "irm.tif"
    movie_like.write_bytes(b"II*\x00 movie bytes")
    for target in (mine, movie_like):
        before = target.read_bytes()
        assert main(["catalog", str(root / "runs"), "--out", str(target)]) == 2
        assert "did not write" in " ".join(capsys.readouterr().err.split())
        assert target.read_bytes() == before
    cat = tmp_path / "cat.parquet"
    assert main(["catalog", str(root / "runs"), "--out", str(cat)]) == 0
    assert main(["catalog", str(root / "runs" / "a"), "--out", str(cat)]) == 0
    assert len(pd.read_parquet(cat)) == 1
