"""Writing files safely: only regular files, whole or not at all.

* ``write_file_atomically`` writes only regular files (never through a
  symbolic link, never over a device, FIFO or folder), and a reader (or a
  crash) sees the old file or the whole new one, never half of it.
* ``atomic_writer`` does the same for a file written piece by piece (a
  download).
* ``clean_stale_temp_files`` removes what a killed writer left behind.
* ``check_outputs`` is the policy every command applies to its outputs
  before writing the first: each is a regular file or absent, none is
  another output or one of the command's inputs, and the stale temporary
  files of their folders are cleaned.
* ``temporary_path`` names a temporary file beside a target (for a program
  such as fluidsynth that writes the file itself).
* ``read_bounded`` reads an input with a byte budget: regular files only,
  never trusting ``st_size`` (``/dev/zero``, a FIFO and a growing file are
  refused or cut off).

The one writer of the project: MIDI, WAV, MusicXML, caches, checkpoints and
pages all go through it.  Refusals raise ``OutputError``, an ``OSError`` whose
one-line message names the path.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

TEMP_MARK = ".jazz-lstm-tmp-"
# ".<start of the target's name>.jazz-lstm-tmp-<pid>-<random hex>"
_TEMP_NAME = re.compile(r"\..*" + re.escape(TEMP_MARK) + r"(\d+)-[0-9a-f]+", re.DOTALL)
_NAME_KEPT_IN_TEMP = 64  # keeps the temporary name within the usual 255-byte limit

_FILE_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symbolic link"),
               (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


# Errors of the disk a file is written to (full, over quota, too big, failing).
_DISK_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO")
                         if hasattr(errno, name))


class OutputError(OSError):
    """An output this program refuses to write; the one-line message names the path."""


class InputError(OSError):
    """An input this program refuses to read (not a regular file, over its byte
    budget); the one-line message names the path."""


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
    with atomic_writer(path) as file:
        file.write(data)
    return Path(path)


@contextmanager
def atomic_writer(path: str | os.PathLike):
    """``write_file_atomically`` for data written piece by piece: yields a binary
    file; the target is replaced when the block ends, and left as it was (the
    temporary file removed) when the block raises."""
    target = output_path(path)
    _check_replaceable(target)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(target)
    # os.open, not mkstemp: mkstemp's files are private (0600) whatever the umask.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.filename is not None or error.errno not in _DISK_ERRNOS:
            raise
        # A full disk says only "No space left on device": name the file.
        raise OSError(error.errno, error.strerror or str(error), str(target)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    replace_with(temporary, target)  # checks again: a FIFO or link may have appeared meanwhile


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


def output_path(path) -> Path:
    """``path`` as a Path; ValueError for anything but text or a path (None, a number)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"an output is named by text or a path, not {type(path).__name__}")
    return Path(path)


def temporary_path(target: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``target`` that ``clean_stale_temp_files``
    removes once this process is gone: ``.<name>.jazz-lstm-tmp-<pid>-<random hex>``."""
    target = Path(target)
    return target.parent / (f".{target.name[:_NAME_KEPT_IN_TEMP]}{TEMP_MARK}{os.getpid()}-"
                            f"{secrets.token_hex(4)}")


def replace_with(temporary: Path, target: Path) -> None:
    """Rename a finished temporary file over ``target`` (a regular file or absent),
    durably; the temporary file is removed when that is refused."""
    try:
        _check_replaceable(target)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def check_outputs(outputs: Iterable[str | os.PathLike | None],
                  inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """The output policy, applied before a command writes anything.

    Raises OutputError (one line naming the path) when an output exists and
    is not a regular file (see ``write_file_atomically``), when its folder is
    a file, when two outputs are the same file, or when an output is one of
    ``inputs`` (the files the command reads: a checkpoint, its history, a
    primer); ``None`` entries are skipped.  Files are compared after
    resolving ``.``, ``..`` and symbolic links, existing ones by device and
    inode (hard links are the same file).  Then removes the stale temporary
    files of the outputs' folders, so a writer killed earlier leaves nothing
    for long.
    """
    given = {_file_identity(Path(path)): path for path in inputs if path is not None}
    seen: dict[tuple, str | os.PathLike] = {}
    outputs = [path for path in outputs if path is not None]
    for path in outputs:
        identity = _file_identity(Path(path))
        if identity in given:
            raise OutputError(f"output {str(path)!r} is {str(given[identity])!r}, which this "
                              "command reads; write the output elsewhere")
        if identity in seen:
            raise OutputError(f"outputs {str(seen[identity])!r} and {str(path)!r} are the same "
                              "file; give each output its own path")
        seen[identity] = path
    outputs = [Path(path) for path in outputs]
    for path in outputs:
        _check_replaceable(path)
        parent = next((folder for folder in path.parents if folder.exists() or folder.is_symlink()),
                      None)
        if parent is not None and not parent.is_dir():
            raise OutputError(f"{path}: {parent} is not a folder")
    for folder in {path.parent for path in outputs}:
        clean_stale_temp_files(folder)


def read_bounded(path: str | os.PathLike, limit: int, what: str = "file", *,
                 whole: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises ``InputError`` (an OSError whose one-line message names the path)
    for anything but a regular file (a FIFO is opened without waiting for a
    writer, a device such as /dev/zero is never read), and, with ``whole``,
    when the file holds more than ``limit`` bytes: counted while reading,
    never taken from ``st_size``, so a file that grows or lies about its size
    is cut off at the budget.  ``whole=False`` returns the first ``limit``
    bytes of a longer file (a header).  Symbolic links are followed (a link
    to a regular file is read); other OSErrors (missing, no permission, a
    looping link) pass through.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as file:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((label for is_kind, label in _FILE_KINDS if is_kind(mode)), "special file")
            raise InputError(f"{path}: is a {kind}, not a regular {what}")
        data = file.read(limit + 1)
    if len(data) > limit and not whole:
        return data[:limit]
    if len(data) > limit:
        raise InputError(f"{path}: over the limit of {limit:,} bytes for a {what}")
    return data


# ------------------------------------------------------------------ helpers
def _file_identity(path: Path) -> tuple:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return ("path", os.path.normcase(os.path.realpath(path)))
    return ("inode", status.st_dev, status.st_ino)


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
