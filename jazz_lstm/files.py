"""Run folders and a command's outputs.

* ``check_run_name`` and ``claim_run_folder``: a run is a plain folder name
  under the runs folder, claimed by exactly one process.
* ``training_claim``: while a process trains into a run folder it holds a
  lock on ``.training.lock`` in it, so a second ``train`` or ``resume`` of the
  same folder is refused instead of both writing it.
* ``check_outputs``: the output policy (``music.files``), applied before a
  command writes anything: regular files only, no output overwriting another
  or one of the command's inputs.
* Files themselves are written by ``music.files.write_file_atomically``
  (re-exported here with ``clean_stale_temp_files`` and ``OutputError``).

Refusals raise ``OutputError`` (an ``OSError``, so a command's usual OSError
handling prints it), ``RunExistsError`` (a ``FileExistsError``),
``RunInUseError`` (a ``UsageError``) or ``ValueError`` for a bad run name;
every message is one line naming the path or name.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from pathlib import Path

from jazz_lstm.limits import UsageError
from music.files import OutputError, check_outputs, clean_stale_temp_files, write_file_atomically

try:
    import fcntl
except ImportError:      # not POSIX: the lock file's existence is the claim
    fcntl = None

__all__ = ["OutputError", "RunExistsError", "RunInUseError", "check_outputs", "check_run_name",
           "claim_run_folder", "clean_stale_temp_files", "training_claim",
           "write_file_atomically"]

MAX_RUN_NAME_LENGTH = 100
_RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*", re.ASCII)
MAX_DEFAULT_NAME_ATTEMPTS = 1000


class RunExistsError(FileExistsError):
    """The run folder asked for is already there; the message says how to continue it."""


class RunInUseError(UsageError):
    """Another process is training into the run folder asked for."""


CLAIM_NAME = ".training.lock"


# ------------------------------------------------------------------ runs
def check_run_name(name: str) -> str:
    """Return ``name`` when it is a plain run name, else raise ValueError saying why.

    A run name is one folder name: 1..MAX_RUN_NAME_LENGTH ASCII letters,
    digits, '.', '_' and '-', starting with a letter, digit or '_' (so never
    hidden, never an option, never '.' or '..'), without '..' anywhere and
    without path separators.
    """
    if not isinstance(name, str):
        raise ValueError(f"a run name is text, not {type(name).__name__}")
    shown = repr(name) if len(name) <= 40 else repr(name[:40]) + "..."
    if not name:
        raise ValueError("the run name is empty")
    if "/" in name or "\\" in name:
        raise ValueError(f"run name {shown} holds a path separator; give a plain folder name")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise ValueError(f"run name {shown} has {len(name)} characters, "
                         f"more than {MAX_RUN_NAME_LENGTH}")
    if ".." in name:
        raise ValueError(f"run name {shown} holds '..'")
    if not _RUN_NAME.fullmatch(name):
        raise ValueError(f"run name {shown} must start with a letter, digit or '_' and hold "
                         "only letters, digits, '.', '_' and '-'")
    return name


def claim_run_folder(runs_root: str | os.PathLike, name: str | None,
                     *, now: float | None = None) -> Path:
    """Create the folder of a new run and return it; no other process gets the same one.

    runs_root: the folder holding all runs (created if missing).
    name:      the run's name (see ``check_run_name``); ``None`` picks
               ``YYYYmmdd-HHMMSS`` of ``now`` (seconds since the epoch,
               default the current time, local time zone), then
               ``...-2``, ``...-3``... until one is free.
    The folder is made with one ``os.mkdir``, which fails when it exists, so
    two processes claiming one name cannot both win.  Raises RunExistsError
    when the named run exists, ValueError for a bad name.
    """
    root = Path(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    if name is not None:
        folder = root / check_run_name(name)
        try:
            os.mkdir(folder)
        except FileExistsError:
            raise RunExistsError(f"run {name!r} already exists in {root}; continue it with "
                                 f"--resume --run {name} or choose another --run NAME") from None
        return folder
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    for attempt in range(1, MAX_DEFAULT_NAME_ATTEMPTS + 1):
        folder = root / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            os.mkdir(folder)
        except FileExistsError:
            continue
        return folder
    raise RunExistsError(f"runs {stamp} to {stamp}-{MAX_DEFAULT_NAME_ATTEMPTS} all exist in {root}; "
                         "choose a name with --run NAME")


# ------------------------------------------------------------ training claim
@contextlib.contextmanager
def training_claim(folder: str | os.PathLike, *, create: bool = False):
    """Hold the run folder ``folder`` for one training process while the block runs.

    The claim is an exclusive ``flock`` on ``folder/.training.lock``, taken
    without waiting: a second process (or a second claim in this one) gets
    RunInUseError naming the holder's pid.  The kernel drops the lock when
    its holder dies, even by kill -9, so a crash never leaves a folder that
    cannot be trained again.  With ``create``, a missing folder is made with
    one ``os.mkdir`` first (as ``claim_run_folder`` does) and, when the block
    fails or is interrupted, removed again if it is still empty, so the name
    stays free.  The lock file is removed when the claim ends.
    """
    folder = Path(folder)
    made = False
    if create:
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(folder)
            made = True
        except FileExistsError:
            if not folder.is_dir():
                raise UsageError(f"{folder} exists and is not a folder") from None
    try:
        descriptor = _lock(folder / CLAIM_NAME)
    except BaseException:
        if made:
            _remove_if_empty(folder)
        raise
    finished = False
    try:
        yield folder
        finished = True
    finally:
        _unlock(folder / CLAIM_NAME, descriptor)
        if made and not finished:
            _remove_if_empty(folder)


def _lock(path: Path) -> int:
    """An open descriptor of ``path`` holding its exclusive lock, with this pid in it."""
    while True:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        if fcntl is None:
            flags |= os.O_EXCL
        try:
            descriptor = os.open(path, flags, 0o644)
        except FileExistsError:
            raise _in_use(path) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise UsageError(f"{path} is a symbolic link; delete it") from None
            raise
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                raise _in_use(path) from None
            except OSError as error:
                # A file system without locks: the folder goes unclaimed, as before.
                if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    os.close(descriptor)
                    raise
            # The holder before us removes the file before it lets go: a lock taken
            # on that removed file is no claim, so open the path again.
            try:
                current = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                os.close(descriptor)
                continue
            opened = os.fstat(descriptor)
            if (current.st_ino, current.st_dev) != (opened.st_ino, opened.st_dev):
                os.close(descriptor)
                continue
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        return descriptor


def _unlock(path: Path, descriptor: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)          # while still locked: see _lock
    os.close(descriptor)


def _in_use(path: Path) -> RunInUseError:
    try:
        holder = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        holder = ""
    by = f"process {holder}" if holder.isdigit() else "another process"
    return RunInUseError(f"{path.parent} is being trained by {by}; wait for it to end or "
                         "choose another run folder")


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
