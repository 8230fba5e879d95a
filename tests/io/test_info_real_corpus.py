"""Every real file in ../shared/data: `info` describes it or refuses it clearly (exit 2).

Facts checked against the data manifest (../shared/data/MANIFEST.md), not platescope's
own output. Skips when ../shared/data is absent.
"""

from pathlib import Path

import pytest

from platescope import InputError
from platescope.cli import main
from platescope.io import describe

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
_SKIP = {"LICENSE.txt", "SOURCE.txt", "README.md", "MANIFEST.md", "ReadMeSEM.txt"}
FILES = (
    sorted(p for p in DATA.rglob("*") if p.is_file() and p.name not in _SKIP)
    if DATA.is_dir()
    else []
)


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(DATA)) for p in FILES])
def test_every_real_file_is_described_or_refused_clearly(path, capsys):
    if path.suffix == ".mpr":
        pytest.importorskip("galvani")
    try:
        info = describe(path)
    except InputError as err:
        # a refusal names the file and says what to do
        assert str(path.name) in str(err) and err.fix
        assert main(["info", str(path)]) == 2
        out = capsys.readouterr()
        assert "Traceback" not in out.err and "Fix:" in out.err
        return
    assert isinstance(info, dict) and info.get("kind")


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
@pytest.mark.parametrize(
    ("rel", "shape"),
    [
        ("images/trackpy/stuck.tif", [5, 512, 512]),  # manifest: 5 × 512 × 512 uint16
        ("tomography/nrel_nmc/nmc-1-cal_generatedCBD_bridge.tif", [251, 301, 301]),
    ],
)
def test_stack_shapes_match_the_manifest(rel, shape):
    info = describe(DATA / rel)
    assert list(info["shape"]) == shape
