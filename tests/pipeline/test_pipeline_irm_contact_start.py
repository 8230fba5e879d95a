"""End to end, irm-galvanostatic with a movie that starts at contact: footprint and
nucleation from the deposition signal, and the messages when they cannot be found.

(Split from ``test_pipeline_irm_galvanostatic.py`` so that ``--dist loadfile`` can run its
two analysed experiments on different workers; each file still builds its own once.)
"""

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from _experiment_edit import REGISTRATION_OFF, edit_experiment

from platescope.pipeline import analyze
from platescope.simulate import simulate


@pytest.fixture(scope="module")
def contact_cli_run(tmp_path_factory):
    """The camera starts at contact (no frame before it, no landing step); the experiment
    file carries the trigger's offset and the electrode area, as a real rig's would.

    Analysed once, through the command line (``platescope analyze``, which calls
    :func:`~platescope.pipeline.analyze` and then reports on stderr): the tests of the
    results read its ``summary.json``, the CLI test its exit status and messages.
    Returns ``(root, summary, truth, exit_status, stderr_text)``.
    """
    from platescope.cli import main

    root = tmp_path_factory.mktemp("irm_contact")
    exp = simulate(
        "irm-galvanostatic",
        root / "input",
        seed=7,
        overrides={"movie_start_after_contact_s": 0.0, "duration_s": 30.0},
    )
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main(["analyze", str(exp), "--out", str(root / "results")])
    summary = json.loads((root / "results" / "summary.json").read_text())
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    return root, summary, truth, status, err.getvalue()


@pytest.fixture(scope="module")
def contact_run(contact_cli_run):
    """``(root, summary, truth)`` of the analysed contact-start experiment."""
    return contact_cli_run[:3]


def _edit_experiment(root, tmp_path, **edits):
    """A copy of the simulated experiment file, edited (inputs by absolute path)."""
    return edit_experiment(root / "input" / "experiment.toml", tmp_path, **edits)


def _frame_interval_s(root):
    frames = pd.read_csv(root / "input" / "frame_times.csv")["time_s"].to_numpy()
    return float(np.median(np.diff(frames)))


def test_contact_start_recovers_footprint_and_nucleation(contact_run):
    root, s, truth = contact_run
    fp, tfp = s["footprint"], truth["footprint"]
    assert fp["source"] == "IRM deposition signal (the movie has no frame before contact)"
    assert s["sync"]["method"] == "explicit offset"
    assert s["sync"]["offset_s"] == pytest.approx(truth["sync"]["offset_s"])
    ref = s["irm_reference"]
    assert ref["frame"] == 0 and "first frame" in ref["description"]
    # area: inside its 95 % uncertainty, and within the half-pixel-per-perimeter bound
    px, r = truth["movie"]["pixel_size_um"], tfp["irm"]["radius_um"]
    assert abs(fp["area_cm2"] - tfp["area_cm2"]) <= fp["area_cm2_err"]
    assert abs(fp["area_cm2"] / tfp["area_cm2"] - 1) < 2 * 0.5 * px / r
    assert (
        np.hypot(
            fp["centre_x_um"] - tfp["irm"]["centre_x_um"],
            fp["centre_y_um"] - tfp["irm"]["centre_y_um"],
        )
        < px
    )
    assert fp["given_area_cm2"] == pytest.approx(tfp["area_cm2"])
    assert not [w for w in s.get("warnings", []) if w["code"] == "footprint-area-mismatch"]
    # nucleation from the IRM signal: as in the landing-step test
    dt = _frame_interval_s(root)
    got = tifffile.imread(root / "results" / s["optics"]["t_nuc_map"]["path"])
    want = tifffile.imread(root / "input" / "truth" / "t_nuc_map.tif")
    both = np.isfinite(got) & np.isfinite(want)
    assert both.sum() > 0.9 * np.isfinite(want).sum()
    assert np.median(np.abs(got[both] - want[both])) <= dt
    o = s["optics"]
    assert abs(o["t_nuc_irm_s"] - truth["optics"]["t_nuc_irm_s"]) <= o["t_nuc_irm_s_err"] + dt
    assert o["alpha"]["value"] == pytest.approx(truth["optics"]["alpha"]["value"], rel=0.05)


def test_contact_start_without_electrode_area(contact_run, tmp_path):
    """No [electrode] area_cm2: the footprint from the deposition signal gives the area,
    and the nucleation charge density follows within the reported uncertainties."""
    root, with_area, truth = contact_run
    # the SEM image (analysed last, from the record's charge alone) has no part in the
    # area or the nucleation charge: left out, it does not cost its particle analysis;
    # nor does the registration (on by default, it applies nothing on this still stage:
    # the same numbers; test_contact_start_recovers_footprint_and_nucleation runs it)
    exp = _edit_experiment(
        root, tmp_path, drop=("area_cm2",), drop_sections=("sem",), append=REGISTRATION_OFF
    )
    s = analyze(exp, tmp_path / "out")
    assert s["footprint"]["source"] == with_area["footprint"]["source"]
    assert s["footprint"]["area_cm2"] == pytest.approx(with_area["footprint"]["area_cm2"])
    assert "given_area_cm2" not in s["footprint"]
    g, tg = s["echem"]["galvanostatic"], truth["echem"]["galvanostatic"]
    assert g["area_source"] == "IRM footprint"
    assert g["area_cm2"] == pytest.approx(s["footprint"]["area_cm2"])
    rel_q = abs(g["Q_nuc_uAh_cm2"] / tg["Q_nuc_uAh_cm2"] - 1)
    allowed = (
        g["t_nuc_s_err"] / tg["t_nuc_s"]
        + s["footprint"]["area_cm2_err"] / truth["footprint"]["area_cm2"]
    )
    assert rel_q <= allowed
    assert s["optics"]["t_nuc_irm_s"] == pytest.approx(with_area["optics"]["t_nuc_irm_s"])


def test_contact_start_with_a_wrong_electrode_area_warns(contact_run, tmp_path):
    root, _, truth = contact_run
    wrong = 1.5 * truth["footprint"]["area_cm2"]
    # (registration off: the area check does not depend on it; registration on by
    # default is run by test_contact_start_recovers_footprint_and_nucleation)
    exp = _edit_experiment(
        root,
        tmp_path,
        replace={"area_cm2": repr(wrong)},
        drop_sections=("sem",),
        append=REGISTRATION_OFF,
    )
    s = analyze(exp, tmp_path / "out")
    assert "sem" not in s["inputs"]  # the edit left out the SEM image, and only it
    warned = [w for w in s["warnings"] if w["code"] == "footprint-area-mismatch"]
    assert len(warned) == 1 and warned[0]["where"] == "footprint.area_cm2"
    assert s["echem"]["galvanostatic"]["area_cm2"] == pytest.approx(wrong)  # the user's, flagged


def test_contact_start_cli_messages(contact_cli_run, tmp_path, capsys):
    """Exit 0 where the old code told the user to give an area they had given; exit 2 with
    the right fix when the clocks or the footprint cannot be found."""
    from platescope.cli import main

    root, _, _, status, err = contact_cli_run  # `platescope analyze` of the experiment
    assert status == 0
    err = " ".join(err.split())  # the CLI wraps lines
    assert "give [electrode] area_cm2" not in err and "no frame before contact" not in err
    # without the trigger's offset nothing can align the clocks (constant current, no
    # landing step, no start time in the TIFF): say so, and ask for a (negative) offset
    # (registration off: it runs before the clocks are aligned and has no part in the
    # message; on by default, it is run by the shared analysis above)
    exp = _edit_experiment(root, tmp_path, drop=("time_offset_s",), append=REGISTRATION_OFF)
    assert main(["analyze", str(exp), "--out", str(tmp_path / "b")]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
    assert "Traceback" not in err
    for needle in ("landing:", "xcorr:", "time_offset_s", "negative"):
        assert needle in err, err


@pytest.fixture(scope="module")
def faint_contact_input(tmp_path_factory):
    """A contact-start experiment whose deposit the camera cannot see (simulated once for
    both variants of the experiment file below; the inputs are only read)."""
    root = tmp_path_factory.mktemp("irm_faint")
    simulate(
        "irm-galvanostatic",
        root / "input",
        seed=2,
        overrides={
            "movie_start_after_contact_s": 0.0,
            "duration_s": 10.0,
            "alpha_counts_per_nm": 0.1,  # a deposit the camera cannot see
            "noise_scale": 4.0,
        },
    )
    return root


@pytest.mark.parametrize("with_area", [True, False])
def test_contact_start_without_deposition_signal_names_a_fix_not_yet_applied(
    faint_contact_input, tmp_path, capsys, with_area
):
    from platescope.cli import main

    root = faint_contact_input
    exp = _edit_experiment(root, tmp_path, drop=() if with_area else ("area_cm2",))
    assert main(["analyze", str(exp), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
    assert "Traceback" not in err and "no frame before contact" in err
    assert "start the recording before the pipette lands" in err
    if with_area:
        assert "give [electrode] area_cm2" not in err


@pytest.mark.parametrize("area", [None, 2.8e-7])
def test_no_footprint_message_suggests_the_area_only_when_not_given(monkeypatch, area):
    """A signal strong enough to centre a circle but not to outline the footprint: the
    area is the fix only for an experiment file that does not give it yet."""
    import xarray as xr

    from platescope import InputError
    from platescope.optics import _irm_prepare

    def fake(movie, **kw):
        assert kw["area_cm2"] == area
        return None, {"reason": "the deposit is patchy", "can_centre": area is None}

    monkeypatch.setattr(_irm_prepare, "footprint_from_deposition", fake)
    after = xr.DataArray(np.zeros((3, 2, 2)), dims=("t", "y", "x"), coords={"t": [0.1, 0.3, 0.5]})
    with pytest.raises(InputError) as err:
        _irm_prepare._footprint_without_landing(
            after, 0.2, area, {"method": "explicit offset"}, "irm.tif"
        )
    msg = str(err.value)
    assert "irm.tif" in msg and "patchy" in msg
    assert ("give [electrode] area_cm2" in msg) == (area is None)
