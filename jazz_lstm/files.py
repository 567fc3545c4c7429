"""Output files and run folders, made safely.

* ``write_file_atomically`` writes only regular files, and a reader (or a
  crash) sees the old file or the whole new one, never half of it.
* ``clean_stale_temp_files`` removes what a killed writer left behind.
* ``check_run_name`` and ``claim_run_folder``: a run is a plain folder name
  under the runs folder, claimed by exactly one process.
* ``check_distinct_outputs``: no output of a command overwrites another.

Refusals raise ``OutputError`` (an ``OSError``, so a command's usual OSError
handling prints it) or ``RunExistsError`` (a ``FileExistsError``), or
``ValueError`` for a bad run name; every message is one line naming the path
or name.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_MARK = ".jazz-lstm-tmp-"
# ".<start of the target's name>.jazz-lstm-tmp-<pid>-<random hex>"
_TEMP_NAME = re.compile(r"\..*" + re.escape(TEMP_MARK) + r"(\d+)-[0-9a-f]+", re.DOTALL)
_NAME_KEPT_IN_TEMP = 64  # keeps the temporary name within the usual 255-byte limit

MAX_RUN_NAME_LENGTH = 100
_RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*", re.ASCII)
MAX_DEFAULT_NAME_ATTEMPTS = 1000

_FILE_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symbolic link"),
               (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


class OutputError(OSError):
    """An output this program refuses to write; the one-line message names the path."""


class RunExistsError(FileExistsError):
    """The run folder asked for is already there; the message says how to continue it."""


# ------------------------------------------------------------------ files
def write_file_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` as a regular file and return the path.

    The bytes go to ``.<name>.jazz-lstm-tmp-<pid>-<random>`` in the target's
    folder (created if missing), are fsynced, then renamed over the target
    with ``os.replace`` (atomic within one folder), and the folder is fsynced
    so the rename survives a power cut.  The file gets the usual umask-based
    permissions, as any new file would.

    Raises OutputError, writing nothing, when the target exists and is not a
    regular file: a folder, symbolic link (never followed, never replaced),
    FIFO, device (``/dev/null`` stays a device) or socket.  Other OSErrors
    (no space, no permission) pass through; the temporary file is removed
    whatever happens, even on KeyboardInterrupt.
    """
    target = Path(path)
    _check_replaceable(target)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{target.name[:_NAME_KEPT_IN_TEMP]}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    # os.open, not mkstemp: mkstemp's files are private (0600) whatever the umask.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _check_replaceable(target)  # again: a FIFO or link may have appeared meanwhile
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return target


def clean_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of ``write_file_atomically`` whose writer is gone.

    A temporary file names its writer's process id; it is stale when no such
    process runs (a writer killed with SIGKILL, or a power cut).  Files of
    running processes, including this one, are kept.  (A process id reused
    since then keeps its file until that process ends too.)  Returns the
    removed paths, sorted; a missing folder has none.
    """
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not _process_exists(int(match[1])):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return sorted(removed)


def check_distinct_outputs(paths: Iterable[str | os.PathLike | None]) -> None:
    """Raise OutputError when two of ``paths`` name the same file; ``None`` entries are skipped.

    Paths are compared after resolving ``.``, ``..`` and symbolic links, and
    existing files by device and inode (so hard links count as the same file).
    """
    seen: dict[tuple, str | os.PathLike] = {}
    for path in paths:
        if path is None:
            continue
        identity = _file_identity(Path(path))
        if identity in seen:
            raise OutputError(f"outputs {str(seen[identity])!r} and {str(path)!r} are the same file; "
                              "give each output its own path")
        seen[identity] = path


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


# ------------------------------------------------------------------ helpers
def _check_replaceable(target: Path) -> None:
    """Raise OutputError when ``target`` exists and is anything but a regular file."""
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet (a parent that is a file fails clearly at mkdir)
    if stat.S_ISREG(mode):
        return
    kind = next((label for is_kind, label in _FILE_KINDS if is_kind(mode)), "special file")
    raise OutputError(f"{target}: is a {kind}, not a regular file; refusing to replace it")


def _file_identity(path: Path) -> tuple:
    try:
        status = os.stat(path)
    except OSError:
        return ("path", os.path.normcase(os.path.realpath(path)))
    return ("inode", status.st_dev, status.st_ino)


def _process_exists(pid: int) -> bool:
    if pid <= 0:
        return False  # os.kill(0, ...) would mean the whole process group
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OverflowError:
        return False  # too big to be a process id
    except OSError:
        return True  # it exists under another user (EPERM), or we cannot tell: keep its file
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable; not every platform or file system can fsync a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
