"""Writing files safely: only regular files, whole or not at all.

* ``write_file_atomically`` writes only regular files (never through a
  symbolic link, never over a device, FIFO or folder), and a reader (or a
  crash) sees the old file or the whole new one, never half of it.
* ``atomic_writer`` does the same for a file written piece by piece (a
  download).
* ``clean_stale_temp_files`` removes what a killed writer left behind.

The one writer of the project: MIDI, WAV, MusicXML, caches, checkpoints and
pages all go through it.  Refusals raise ``OutputError``, an ``OSError`` whose
one-line message names the path.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

TEMP_MARK = ".jazz-lstm-tmp-"
# ".<start of the target's name>.jazz-lstm-tmp-<pid>-<random hex>"
_TEMP_NAME = re.compile(r"\..*" + re.escape(TEMP_MARK) + r"(\d+)-[0-9a-f]+", re.DOTALL)
_NAME_KEPT_IN_TEMP = 64  # keeps the temporary name within the usual 255-byte limit

_FILE_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symbolic link"),
               (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


class OutputError(OSError):
    """An output this program refuses to write; the one-line message names the path."""


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
    target = Path(path)
    _check_replaceable(target)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{target.name[:_NAME_KEPT_IN_TEMP]}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    # os.open, not mkstemp: mkstemp's files are private (0600) whatever the umask.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _check_replaceable(target)  # again: a FIFO or link may have appeared meanwhile
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


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
