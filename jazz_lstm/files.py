"""Run folders and a command's outputs.

* ``check_run_name`` and ``claim_run_folder``: a run is a plain folder name
  under the runs folder, claimed by exactly one process.
* ``check_outputs``: the output policy (``music.files``), applied before a
  command writes anything: regular files only, no output overwriting another
  or one of the command's inputs.
* Files themselves are written by ``music.files.write_file_atomically``
  (re-exported here with ``clean_stale_temp_files`` and ``OutputError``).

Refusals raise ``OutputError`` (an ``OSError``, so a command's usual OSError
handling prints it) or ``RunExistsError`` (a ``FileExistsError``), or
``ValueError`` for a bad run name; every message is one line naming the path
or name.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from music.files import OutputError, check_outputs, clean_stale_temp_files, write_file_atomically

__all__ = ["OutputError", "RunExistsError", "check_outputs", "check_run_name",
           "claim_run_folder", "clean_stale_temp_files", "write_file_atomically"]

MAX_RUN_NAME_LENGTH = 100
_RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*", re.ASCII)
MAX_DEFAULT_NAME_ATTEMPTS = 1000


class RunExistsError(FileExistsError):
    """The run folder asked for is already there; the message says how to continue it."""


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
