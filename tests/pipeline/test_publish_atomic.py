"""One atomic publish: interrupts at every step, the output lock, leftovers, Ctrl-C, environment."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

import platescope.pipeline._outputs as outputs
from platescope._errors import InputError
from platescope._outguard import MARKER
from platescope.cli import main
from platescope.pipeline._outputs import OutputLock, StagedOutput, recover_output, rename_exchange
from platescope.simulate import simulate

OLD = {"tables/a.csv": "old a\n", "summary.json": '{"run": "old"}\n'}
NEW = {"tables/b.csv": "new b\n", "summary.json": '{"run": "new"}\n', "maps/m.txt": "m\n"}


def _publish(out, files):
    staged = StagedOutput(out)
    for rel, text in files.items():
        (staged.root / rel).write_text(text)
    staged.publish()


@pytest.fixture(scope="module")
def small_exp(tmp_path_factory):
    """A small SECCM experiment (2 conditions × 2 spots), simulated once: the tests here
    are about the output folder, which does not depend on how many spots there are. The
    tests only read it, or analyse a copy (``_copy_experiment``)."""
    return simulate(
        "seccm-combinatorial",
        tmp_path_factory.mktemp("env") / "exp",
        seed=2,
        overrides={"n_conditions": 2, "n_repeats": 2},
    )


def _copy_experiment(exp, folder):
    """A copy of the experiment's folder at ``folder``; the copy's experiment file."""
    import shutil

    shutil.copytree(exp.parent, folder)
    return folder / exp.name


def _state(out):
    """'old' or 'new' when ``out`` holds that complete result, else a description."""
    if not out.is_dir():
        return "missing"
    marker = json.loads((out / MARKER).read_text())
    files = {f: (out / f).read_text() for f in marker["files"]}
    listed = {os.path.relpath(os.path.join(r, f), out) for r, _, fs in os.walk(out) for f in fs} - {
        MARKER
    }
    assert listed == set(files), (listed, files)
    for name, want in (("old", OLD), ("new", NEW)):
        if files == want:
            return name
    return f"mixed {sorted(files)}"


_CHILD = textwrap.dedent(
    """
    import os, sys
    import platescope.pipeline._outputs as o
    out, step, exchange = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    o._USE_EXCHANGE = exchange
    staged = o.StagedOutput(out)
    for rel, text in {new!r}.items():
        (staged.root / rel).write_text(text)
    if step == "before-publish":
        os._exit(9)
    def hook(name):
        if name == step:
            os._exit(9)  # like SIGKILL: no clean-up at all
    o._STEP_HOOK = hook
    staged.publish()
    """
).format(new=NEW)

STEPS = {
    True: ["before-publish", "marker-written", "exchanged", "published"],
    False: ["before-publish", "marker-written", "old-moved-aside", "new-in-place", "published"],
}
EXPECT = {  # killed after this step, the result at out after the next run's recovery
    "before-publish": "old",
    "marker-written": "old",
    "exchanged": "new",
    "old-moved-aside": "old",
    "new-in-place": "new",
    "published": "new",
}


@pytest.mark.parametrize(("exchange", "step"), [(e, s) for e in (True, False) for s in STEPS[e]])
def test_a_kill_between_any_two_publishing_steps_leaves_old_or_new(tmp_path, exchange, step):
    if exchange and not rename_exchange(tmp_path, tmp_path):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    out = tmp_path / "results"
    _publish(out, OLD)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out), step, "1" if exchange else "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    # the kill left a staging or backup folder (or none); the lock was freed by the kernel
    # and the next run repairs what is left
    nxt = StagedOutput(out)  # the next run: takes the lock, repairs, stages
    nxt.discard()
    assert _state(out) == EXPECT[step]
    assert [p.name for p in tmp_path.iterdir()] == ["results"], nxt.notes
    # and the next run publishes normally
    _publish(out, NEW)
    assert _state(out) == "new"


@pytest.mark.parametrize(
    ("exchange", "step"), [(e, s) for e in (True, False) for s in STEPS[e][1:]]
)
def test_an_exception_between_publishing_steps_leaves_old_or_new_at_once(
    tmp_path, monkeypatch, exchange, step
):
    out = tmp_path / "results"
    _publish(out, OLD)
    monkeypatch.setattr(outputs, "_USE_EXCHANGE", exchange)

    def hook(name):
        if name == step:
            raise KeyboardInterrupt

    staged = StagedOutput(out)
    for rel, text in NEW.items():
        (staged.root / rel).write_text(text)
    monkeypatch.setattr(outputs, "_STEP_HOOK", hook)
    with pytest.raises(KeyboardInterrupt):
        try:
            staged.publish()
        except BaseException:
            staged.discard()  # what analyze() does on any failure
            raise
    # no recovery needed: old or new is in place right away, nothing left beside it
    state = _state(out)
    assert state in ("old", "new")
    if step in ("marker-written", "old-moved-aside"):
        assert state == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_backup_left_by_the_two_rename_layout_of_older_versions_is_restored(tmp_path):
    out = tmp_path / "results"
    _publish(out, OLD)
    legacy = tmp_path / ".results.old-k2j4x_9a"
    legacy.mkdir()
    out.rename(legacy / "previous")
    notes = recover_output(out)
    assert _state(out) == "old"
    assert len(notes) == 1 and "restored" in notes[0]
    assert not legacy.exists()


def test_a_second_run_into_the_same_out_stops_with_exit_2(small_exp, tmp_path, capsys):
    exp = _copy_experiment(small_exp, tmp_path / "exp")
    out = tmp_path / "results"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from platescope.pipeline._outputs import OutputLock; "
            "l = OutputLock(sys.argv[1]); print('locked', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = main(["analyze", str(exp), "--out", str(out)])
        err = " ".join(capsys.readouterr().err.split())  # the CLI wraps lines
        assert code == 2, err
        assert f"another platescope run (process {holder.pid}) is writing" in err
        assert "choose another --out" in err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the holder was killed: its lock went with it, and the run goes ahead
    assert main(["analyze", str(exp), "--out", str(out)]) == 0
    assert (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "results"]  # no lock file left


def test_the_lock_is_exclusive_within_a_process_and_released_by_publish_or_discard(tmp_path):
    out = tmp_path / "results"
    a = StagedOutput(out)
    with pytest.raises(InputError, match="another platescope run"):
        StagedOutput(out)
    a.discard()
    b = StagedOutput(out)
    b.publish()
    OutputLock(out).release()


def test_leftovers_of_killed_runs_are_cleaned_and_reported(small_exp, tmp_path, capsys):
    exp = _copy_experiment(small_exp, tmp_path / "exp")
    out = tmp_path / "results"
    assert main(["analyze", str(exp), "--out", str(out)]) == 0
    dead = tmp_path / ".results.staging-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "x.csv").write_text("1\n")
    old_legacy = tmp_path / ".results.staging-k3j_d8"  # no pid in the name, 30 h old
    old_legacy.mkdir()
    os.utime(old_legacy, (0, os.path.getmtime(out) - 30 * 3600))
    fresh_live = tmp_path / f".results.staging-{os.getppid()}-zz"  # a live process, fresh
    fresh_live.mkdir()
    other = tmp_path / ".other.staging-999999999-abc"  # another --out's: not ours to touch
    other.mkdir()
    capsys.readouterr()
    assert main(["analyze", str(exp), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert not dead.exists() and not old_legacy.exists()
    assert fresh_live.exists() and other.exists()
    summary = json.loads((out / "summary.json").read_text())
    cleanup = [w for w in summary["warnings"] if w["code"] == "previous-run-cleanup"]
    assert len(cleanup) == 2
    assert "process 999999999 has ended" in " ".join(w["message"] for w in cleanup)
    assert err.count("previous-run-cleanup") == 2


def test_ctrl_c_ends_quietly_with_exit_130(tmp_path, monkeypatch, capsys):
    import platescope.pipeline as pipeline

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "analyze", interrupted)
    code = main(["analyze", str(tmp_path / "e.toml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 130
    assert err.strip().splitlines() == ["platescope: interrupted"]


def test_sigint_during_a_real_run_leaves_the_previous_result(tmp_path):
    import signal
    import time

    # the default experiment keeps the analysis busy for several seconds after its
    # staging folder appears (the movie's registration and maps, then the SEM particles
    # and their 300-dpi figures: ≈ 15–30 CPU s), so the signal lands while it works; a
    # movie 4× the frame rate and 1.5× the field, used before, cost 20 CPU s to simulate
    # where this one costs 4.6 (the assertion below says when it ends too soon)
    exp = simulate("irm-galvanostatic", tmp_path / "exp", seed=1)
    out = tmp_path / "results"
    _publish(out, OLD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "platescope", "analyze", str(exp), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: SIGINT at its default even if this test process inherited
        # it ignored (a child started with SIGINT ignored keeps ignoring it, as the
        # shell's `cmd &` intends)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # wait until it is working in its staging folder, then press Ctrl-C
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".results.staging-") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the analysis ended before Ctrl-C could be sent: make it longer"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # 130, or "killed by SIGINT" (-2) when CPython re-raises the signal at exit after a
    # library evaluated code that saw the interrupt; a shell shows both as $? = 130
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["platescope: interrupted"]
    assert _state(out) == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "results"]


# environment failures: exit 2 with the fix (errno mapped in platescope._errors)


def test_a_file_where_the_parent_of_out_should_be_is_exit_2(small_exp, tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine\n")
    for out in (blocker / "results", blocker / "deeper" / "results"):
        code = main(["analyze", str(small_exp), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and "a file" in err
    assert blocker.read_text() == "mine\n"


@pytest.mark.parametrize(
    ("code_name", "needle"),
    [("ENOSPC", "the disk is full"), ("EROFS", "read-only"), ("EDQUOT", "quota")],
)
def test_disk_full_or_read_only_while_writing_results_is_exit_2(
    small_exp, tmp_path, monkeypatch, capsys, code_name, needle
):
    import platescope.report as report

    out = tmp_path / "results"
    _publish(out, OLD)

    def failing(path, obj):
        raise OSError(getattr(errno, code_name), os.strerror(getattr(errno, code_name)), str(path))

    monkeypatch.setattr(report, "atomic_write_json", failing)
    code = main(["analyze", str(small_exp), "--out", str(out)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert needle in err and "Fix:" in err and "Traceback" not in err
    assert _state(out) == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_read_only_output_parent_is_exit_2(small_exp, tmp_path, monkeypatch, capsys):
    # the tests may run as root, for whom chmod cannot make a folder read-only: the
    # failure the kernel would give is injected where the staging folder is created
    def readonly(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", readonly)
    code = main(["analyze", str(small_exp), "--out", str(tmp_path / "results")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "read-only" in err and "writable" in err
    assert list(tmp_path.iterdir()) == []  # lock file removed too
