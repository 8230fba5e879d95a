"""Where an analysis puts its results: a staged output folder published in one step.

Everything is written into a fresh hidden folder beside the destination
(``.<name>.staging-<pid>-<random>``). Only when the whole run succeeded does the new
folder take the destination's place, so a rerun never mixes old and new results and a
failed or interrupted run leaves the previous results in place:

- **One atomic swap.** On Linux the staged folder and the previous result are exchanged
  in one ``renameat2(RENAME_EXCHANGE)`` system call: at every instant ``out`` is either
  the complete old result or the complete new one. Where that call is missing (other
  systems, some network file systems) the old result is renamed to a backup
  ``.<name>.old-<pid>-<ns>`` and the new one renamed into place; an interrupt between
  the two renames leaves ``out`` missing for a moment, and the next run into the same
  ``out`` restores the backup before anything else (:func:`recover_output`).
- **One run at a time.** A run holds an exclusive ``fcntl.flock`` on
  ``<parent>/.<name>.platescope-lock`` from staging to publishing. A second run into the
  same ``out`` does not wait: it stops at once with exit status 2 and the message
  "another platescope run (process N) is writing OUT; wait for it to finish or choose
  another --out". The lock file is removed when the run ends (the kernel releases the
  lock of a killed run).
- **Leftovers are cleaned.** Staging and backup folders of runs that were killed
  (their process is gone, or they are older than :data:`STALE_AFTER_H` hours) are
  removed by the next run into the same ``out``, under the lock; each clean-up is
  reported as a ``previous-run-cleanup`` warning.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from platescope._errors import InputError, environment_error
from platescope._hashing import sha256_file  # noqa: F401 (re-exported)

#: Staging/backup folders whose process cannot be shown dead are removed after this many hours.
STALE_AFTER_H = 24.0

#: Test hook: called with the name of each publishing step just after it happened
#: (``"marker-written"``, ``"exchanged"``, ``"old-moved-aside"``, ``"new-in-place"``,
#: ``"published"``). Fault-injection tests raise or ``os._exit`` from it.
_STEP_HOOK = None

#: Test switch: False forces the two-rename fallback even where RENAME_EXCHANGE works.
_USE_EXCHANGE = True


def _step(name: str) -> None:
    if _STEP_HOOK is not None:
        _STEP_HOOK(name)


def rename_exchange(a, b) -> bool:
    """Swap two existing paths in one atomic step; False where the system cannot.

    Uses Linux ``renameat2(..., RENAME_EXCHANGE)`` (glibc ≥ 2.28, Linux ≥ 3.15) through
    ``ctypes``. Returns False (nothing changed) on other systems or file systems that
    do not support it; any other failure raises :class:`OSError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a").write_text("A"); _ = (d / "b").write_text("B")
    >>> if rename_exchange(d / "a", d / "b"):
    ...     assert (d / "a").read_text() == "B"
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange_flag = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange_flag)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(a), None, os.fspath(b))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


class OutputLock:
    """Exclusive lock ``<parent>/.<name>.platescope-lock`` serialising runs into one folder.

    Parameters
    ----------
    out : path
        The output folder the run will publish.
    option : str
        How the user named it, for the message.

    Raises
    ------
    InputError
        Another process holds the lock (it is writing ``out`` now).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> lock = OutputLock(d / "results")
    >>> OutputLock(d / "results")
    Traceback (most recent call last):
    ...
    platescope._errors.InputError: ...
    >>> lock.release(); OutputLock(d / "results").release()
    """

    def __init__(self, out, *, option: str = "--out") -> None:
        out = Path(out)
        self.path = out.parent / f".{out.name}.platescope-lock"
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no locking
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise environment_error(err, self.path) or err from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                except OSError:
                    holder = ""
                os.close(fd)
                who = f" (process {holder})" if holder.isdigit() else ""
                raise InputError(
                    out,
                    f"another platescope run{who} is writing this output folder",
                    f"wait for it to finish or choose another {option}",
                ) from None
            # the previous holder may have removed the file between our open and flock:
            # then we hold a lock on a deleted inode, and must retry on the new file
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self.fd = fd

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = None


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|old)-(?P<rest>.*)$")


def _leftovers(out: Path) -> list[tuple[Path, str, int | None]]:
    """Staging/backup folders of ``out`` beside it: (path, kind, pid or None)."""
    found = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return found
    for p in entries:
        m = _LEFTOVER.match(p.name)
        if not m or m["name"] != out.name or not p.is_dir() or p.is_symlink():
            continue
        pid = re.match(r"(\d+)-", m["rest"])
        found.append((p, m["kind"], int(pid[1]) if pid else None))
    return found


def _backup_content(folder: Path) -> Path:
    """A backup folder's result: itself, or ``previous/`` inside (platescope ≤ 0.2 layout)."""
    inner = folder / "previous"
    try:
        if inner.is_dir() and [c.name for c in folder.iterdir()] == ["previous"]:
            return inner
    except OSError:
        pass
    return folder


def recover_output(out, *, stale_after_h: float = STALE_AFTER_H) -> list[str]:
    """Repair what an interrupted run left beside ``out``; returns one note per action.

    Call it while holding :class:`OutputLock` of ``out``. When ``out`` is missing and a
    backup of a previous result (``.<name>.old-*``) exists, the newest backup is renamed
    back to ``out``. Staging and backup folders whose process is gone (or that are older
    than ``stale_after_h`` hours) are then removed.

    Parameters
    ----------
    out : path
        The output folder.
    stale_after_h : float
        Age, hours, after which a leftover folder of a live (or unknown) process is
        removed anyway.

    Returns
    -------
    list of str
        What was restored or removed, for the run's warnings.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / ".results.old-999999999-1").mkdir()
    >>> _ = (d / ".results.old-999999999-1" / "summary.json").write_text("{}")
    >>> notes = recover_output(d / "results")
    >>> (d / "results" / "summary.json").exists(), len(notes)
    (True, 1)
    """
    out = Path(out)
    notes: list[str] = []
    if not out.exists() and not out.is_symlink():
        backups = [p for p, kind, _ in _leftovers(out) if kind == "old"]
        backups.sort(key=lambda p: p.stat().st_ctime, reverse=True)
        for b in backups:
            content = _backup_content(b)
            try:
                os.rename(content, out)
            except OSError:
                continue
            notes.append(
                f"restored the previous results of {out.name} from {b.name} (a run was "
                "interrupted while replacing them)"
            )
            if content != b:
                with contextlib.suppress(OSError):
                    b.rmdir()
            break
    now = time.time()
    for p, kind, pid in _leftovers(out):
        if pid == os.getpid():
            continue
        try:
            age_h = (now - p.stat().st_mtime) / 3600.0
        except OSError:
            continue
        dead = pid is not None and not _pid_alive(pid)
        if not (dead or age_h > stale_after_h):
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            why = f"its process {pid} has ended" if dead else f"it is {age_h:.0f} h old"
            what = "staging" if kind == "staging" else "backup"
            notes.append(f"removed the {what} folder {p.name} left by a killed run ({why})")
    return notes


class StagedOutput:
    """A results folder built in a staging area and published atomically.

    Creating it takes the output lock (:class:`OutputLock`), repairs what an interrupted
    earlier run left (:func:`recover_output`; the notes are in ``notes``) and creates the
    staging folder; :meth:`publish` or :meth:`discard` releases the lock.

    Parameters
    ----------
    out : path
        The final output folder.
    """

    def __init__(self, out) -> None:
        self.out = Path(out).resolve()
        self.notes: list[str] = []
        self._lock: OutputLock | None = None
        if self.out.exists() and not self.out.is_dir():
            raise InputError(
                self.out, "the output path exists and is not a folder", "choose another --out"
            )
        try:
            self._setup()
        except BaseException as err:
            self._release()
            if isinstance(err, OSError):
                raise environment_error(err, self.out) or err from None
            raise

    def _setup(self) -> None:
        from platescope._atomic import _file_mode

        parent = self.out.parent
        if parent.exists() and not parent.is_dir():
            raise InputError(
                self.out,
                f"its parent {parent} is a file, not a folder",
                "choose an --out inside an existing folder",
            )
        parent.mkdir(parents=True, exist_ok=True)
        self._lock = OutputLock(self.out)
        self.notes = recover_output(self.out)
        self.root = Path(
            tempfile.mkdtemp(prefix=f".{self.out.name}.staging-{os.getpid()}-", dir=parent)
        )
        # mkdtemp makes the folder private (0700); a published result is as readable as
        # any folder the user creates
        os.chmod(
            self.root, _file_mode(self.root / "-") | ((_file_mode(self.root / "-") & 0o444) >> 2)
        )
        for sub in ("tables", "maps", "figures"):
            (self.root / sub).mkdir()
        self.figures: list[dict] = []
        self.tables: list[dict] = []
        self.maps: list[str] = []

    def report_housekeeping(self, summary: dict) -> None:
        """Add one ``previous-run-cleanup`` warning per repair made when the run started."""
        from platescope.pipeline._common import add_warning

        for note in self.notes:
            add_warning(summary, "previous-run-cleanup", note, "output")

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def table(self, name: str, df: pd.DataFrame, *, title: str, errors: str | None = None) -> str:
        """Write ``tables/<name>.csv`` and its Parquet twin; returns the CSV's relative path.

        Parameters
        ----------
        name : str
            File stem.
        df : pandas.DataFrame
            The table.
        title : str
            Its title in the report.
        errors : {"1sigma", "k2"}, optional
            What the table's ``*_err`` columns hold. Tables follow the summary's
            convention (expanded, k = 2): ``"1sigma"`` doubles them on writing, ``"k2"``
            writes them as they are. Required when the table has ``*_err`` columns, so
            no table states an uncertainty without saying which.
        """
        from platescope.pipeline._common import is_err_key

        err_cols = [c for c in df.columns if is_err_key(c)]
        if err_cols and errors not in ("1sigma", "k2"):
            raise ValueError(
                f"table {name!r} has uncertainty columns {err_cols[:3]}: say errors='1sigma' "
                "or errors='k2'"
            )
        if err_cols and errors == "1sigma":
            df = df.copy()
            for c in err_cols:
                df[c] = pd.to_numeric(df[c], errors="coerce") * 2.0
        rel = f"tables/{name}.csv"
        df.to_csv(self.root / rel, index=False)
        from platescope._parquet import write_parquet

        write_parquet(df, self.root / f"tables/{name}.parquet")  # typed twin (catalogs, DuckDB)
        entry = {"title": title, "path": rel}
        if err_cols:
            entry["errors"] = "expanded uncertainty, k = 2 (≈95 %)"
        self.tables.append(entry)
        return rel

    def map(self, name: str, data, *, pixel_size_um: float | None = None) -> str:
        """Write a float32 map to ``maps/<name>.tif``; returns its relative path."""
        from platescope.report import atomic_write_tiff

        rel = f"maps/{name}.tif"
        atomic_write_tiff(
            self.root / rel, np.asarray(data, dtype=np.float32), pixel_size_um=pixel_size_um
        )
        self.maps.append(rel)
        return rel

    def figure(
        self,
        name: str,
        fig,
        *,
        title: str,
        caption: str,
        section: str | None = None,
        png_compress_level: int | None = None,
    ) -> str:
        """Save a matplotlib Figure to ``figures/<name>.png`` (300 dpi) and its twin
        ``figures/<name>.svg``; returns the PNG's relative path.

        ``section`` names the summary key the figure illustrates (the report puts it
        beside those numbers); by default the report guesses it from ``name``.
        ``png_compress_level`` (zlib 0–9; Pillow's default 6 otherwise): same pixels,
        for figures whose PNG encoding is costly (full-resolution micrographs).
        """
        from platescope.report import atomic_savefig

        rel = f"figures/{name}.png"
        kw = (
            {}
            if png_compress_level is None
            else {"pil_kwargs": {"compress_level": png_compress_level}}
        )
        atomic_savefig(fig, self.root / rel, **kw)
        entry = {"title": title, "path": str(self.root / rel), "rel": rel, "caption": caption}
        if section:
            entry["section"] = section
        self.figures.append(entry)
        return rel

    def publish(self) -> Path:
        """Put the staged folder (marked as platescope's own) in the destination's place.

        The previous result stays complete at ``out`` until the new one is complete there
        (one ``RENAME_EXCHANGE`` on Linux; elsewhere two renames, repaired by the next
        run's :func:`recover_output` if interrupted between them).
        """
        from platescope import __version__
        from platescope._outguard import write_marker

        backup = None
        try:
            write_marker(self.root, kind="result", version=__version__)
            _step("marker-written")
            if self.out.is_dir() and not self.out.is_symlink():
                if _USE_EXCHANGE and rename_exchange(self.root, self.out):
                    _step("exchanged")
                    # the staging name now holds the previous result
                    shutil.rmtree(self.root, ignore_errors=True)
                else:
                    backup = (
                        self.out.parent / f".{self.out.name}.old-{os.getpid()}-{time.time_ns()}"
                    )
                    os.rename(self.out, backup)
                    _step("old-moved-aside")
                    os.rename(self.root, self.out)
                    _step("new-in-place")
                    shutil.rmtree(backup, ignore_errors=True)
            else:
                os.rename(self.root, self.out)
            self.root = self.out
            _step("published")
        except BaseException as err:
            if not self.out.exists():
                # failed between the two renames of the fallback: put the old result back
                with contextlib.suppress(OSError):
                    recover_output(self.out)
            elif backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
            if isinstance(err, OSError):
                raise environment_error(err, self.out) or err from None
            raise
        finally:
            self._release()
        return self.out

    def discard(self) -> None:
        """Remove the staging folder (after a failure) and release the lock."""
        try:
            if getattr(self, "root", self.out) != self.out:
                shutil.rmtree(self.root, ignore_errors=True)
        finally:
            self._release()
