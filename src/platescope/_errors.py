"""Error types shared by every subpackage.

``InputError`` is the one way platescope reports bad input: it names the file, the
problem and the fix. The CLI turns it into a one-paragraph message and exit status 2.
"""

from __future__ import annotations

import os
import re

#: Longest path, problem and fix an InputError shows (characters); longer text is cut
#: with "…" so that no message runs to pages, whatever a file holds.
MAX_PATH_CHARS = 300
MAX_PROBLEM_CHARS = 1000
MAX_FIX_CHARS = 1000

_NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|complex|bool|str)_?\d*\(([^()]*)\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str, limit: int) -> str:
    """One printable line: numpy scalar reprs unwrapped, control characters shown as
    ``?``, whitespace runs collapsed, cut at ``limit`` characters.

    >>> _clean("got np.float64(19.83) and\\x00\\nmore", 100)
    'got 19.83 and? more'
    """
    text = _NUMPY_REPR.sub(r"\1", text)
    text = " ".join(_CONTROL.sub("?", text.replace("\t", " ")).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_LABEL = re.compile(r"^[\w /().,<>%°µ²³·*+\-\[\]|#:=^]{1,40}$")


def shown_names(names, *, limit: int = 8) -> str:
    """Column or channel names of a file, for a message, without echoing other content.

    Only names that look like labels (≤ 40 characters and ≤ 3 words of letters,
    digits and unit punctuation) are quoted, at most ``limit`` of them; a line of prose or data
    (e.g. the first line of a file that is not a table) is not shown.

    >>> shown_names(["time/s", "Ewe/V", "I/mA"])
    "'time/s', 'Ewe/V', 'I/mA'"
    >>> shown_names(["root:x:0:0:root:/root:/bin/bash with a very long tail"])
    'none that look like column names'
    """
    names = [str(n).strip() for n in names if str(n).strip()]
    good = [n for n in names if _LABEL.match(n) and len(n.split()) <= 3]
    if not good:
        return "none that look like column names"
    out = ", ".join(repr(n) for n in good[:limit])
    rest = len(names) - min(len(good), limit)
    return out + (f" and {rest} more" if rest > 0 else "")


class PlatescopeError(Exception):
    """Base class of all errors platescope raises on purpose."""


class InputError(PlatescopeError):
    """Bad input: a file or parameter platescope cannot use as given.

    Parameters
    ----------
    path : str or os.PathLike or None
        The offending file (or ``None`` when the problem is a parameter).
    problem : str
        What is wrong, in one sentence.
    fix : str
        What the user can do about it, in one sentence.

    Examples
    --------
    >>> err = InputError("movie.tif", "the file ends after 3 of 10 frames", "re-export it")
    >>> "movie.tif" in str(err) and "re-export" in str(err)
    True
    """

    def __init__(self, path: str | os.PathLike | None, problem: str, fix: str) -> None:
        self.path = None if path is None else _clean(os.fspath(path), MAX_PATH_CHARS)
        self.problem = _clean(str(problem), MAX_PROBLEM_CHARS).rstrip(".")
        self.fix = _clean(str(fix), MAX_FIX_CHARS).rstrip(".")
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{self.problem}. Fix: {self.fix}.")


def source_of(obj) -> str | None:
    """The file an array, movie or record was read from (``attrs["source"]``), for messages.

    >>> import pandas as pd
    >>> df = pd.DataFrame(); df.attrs["source"] = "run.mpt"
    >>> source_of(df), source_of([1, 2])
    ('run.mpt', None)
    """
    attrs = getattr(obj, "attrs", None) or {}
    src = attrs.get("source") if hasattr(attrs, "get") else None
    return None if src is None else str(src)


def file_problem(path) -> str | None:
    """Why ``path`` cannot be read as a data file, or None when it is a regular file.

    Checked before anything opens or hashes a path: a FIFO or a device would block a
    read forever.

    >>> file_problem("/nonexistent/x.csv")
    'does not exist'
    >>> file_problem("/")
    'is a folder, not a file'
    """
    import os
    from pathlib import Path

    p = Path(os.fspath(path))
    if p.is_file():
        return None
    if p.is_dir():
        return "is a folder, not a file"
    if p.exists():
        return "is not a regular file (a pipe, socket or device)"
    return "does not exist"


# errno → (problem, fix) for failures of the machine rather than of platescope; "{where}"
# is the folder or file concerned.
_ENVIRONMENT_ERRNO = {
    "EROFS": ("the file system is read-only", "choose an --out on a writable disk"),
    "EACCES": (
        "permission denied",
        "make the folder writable for your user, or choose an --out you can write to",
    ),
    "EPERM": (
        "the operation is not permitted here",
        "make the folder writable for your user, or choose an --out you can write to",
    ),
    "ENOSPC": ("the disk is full", "free some space, or choose an --out on another disk"),
    "EDQUOT": (
        "your disk quota is used up",
        "free some space, or choose an --out on another disk",
    ),
    "ENOTDIR": (
        "a part of this path is a file, not a folder",
        "choose an --out whose parent folders are folders",
    ),
    "ENAMETOOLONG": ("the path is too long", "choose a shorter --out"),
    "EIO": (
        "the disk reported an input/output error",
        "check the disk or network share, or choose another --out",
    ),
    "EMLINK": ("the folder holds too many entries", "choose another --out"),
}


def environment_error(err: BaseException, path=None) -> InputError | None:
    """The :class:`InputError` (exit 2) for an OS failure of the environment, else None.

    One place maps ``errno`` to a message with the fix: a read-only file system,
    permission denied, a full disk or quota, a file where a folder should be, a path too
    long, an I/O error. Other errors (and non-OS exceptions) give None: they stay bugs.

    Parameters
    ----------
    err : BaseException
        The exception caught.
    path : path, optional
        The file or folder concerned when the error does not name one.

    Examples
    --------
    >>> import errno
    >>> e = environment_error(OSError(errno.ENOSPC, "No space left on device", "/data/out"))
    >>> print(e)
    /data/out: the disk is full. Fix: free some space, or choose an --out on another disk.
    >>> environment_error(ValueError("x")) is None
    True
    """
    import errno as _errno

    if not isinstance(err, OSError) or err.errno is None:
        return None
    name = _errno.errorcode.get(err.errno)
    if name not in _ENVIRONMENT_ERRNO:
        return None
    problem, fix = _ENVIRONMENT_ERRNO[name]
    where = err.filename if err.filename is not None else path
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    return InputError(where, problem, fix)
