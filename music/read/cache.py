"""A content-keyed cache of what was read from music files.

Reading a file is slow (music21 needs seconds); the result only depends on
the file's bytes, the reading code and its options.  So each result is
stored in ``<cache folder>/<namespace>/<key><suffix>``, where the key is a
sha256 over the file's content and everything else the result depends on,
written atomically.  An unchanged file is never read twice, whatever its
name or place; a changed file, reader or option gives another key, which
leaves the old entry unused.

The cache folder is the one given, else ``$JAZZ_LSTM_CACHE``, else
``~/.cache/jazz-lstm``.  An entry that cannot be decoded counts as missing
(the file is read again and the entry rewritten); a cache that cannot be
written is reported once and the run goes on without it.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from music.files import InputError, read_bounded, write_file_atomically
from music.song import MusicError

CACHE_ENV = "JAZZ_LSTM_CACHE"
CORPUS_PREFIX = "music21:"


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "jazz-lstm")


def music21_version() -> str:
    """music21's version, read without importing it (that takes a second)."""
    try:
        return metadata.version("music21")
    except metadata.PackageNotFoundError:
        return "absent"


def content_key(label: str, data: bytes | None, *context) -> str:
    """sha256 (hex) of a file's bytes and ``context`` (strings naming the
    reader, its version and options).

    label: the file's path, or a ``music21:`` corpus name, whose content is
           its name and music21's version (the corpus ships with music21)
    data:  the file's bytes (None for a corpus name)
    """
    digest = hashlib.sha256()
    if data is None:
        if not label.startswith(CORPUS_PREFIX):
            raise ValueError(f"content_key: no bytes given for {label}")
        data = f"{label}\0music21 {music21_version()}".encode("utf-8")
    digest.update(data)
    for item in context:
        digest.update(b"\0" + str(item).encode("utf-8"))
    return digest.hexdigest()


@lru_cache(maxsize=None)
def source_fingerprint(*module_names: str) -> str:
    """sha256 of these modules of the music package (paths inside it, such
    as "read/scores.py"): a reader's cache keys change whenever its code does."""
    digest = hashlib.sha256()
    folder = Path(__file__).resolve().parents[1]
    for name in module_names:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def file_bytes(label: str, limit: int, what: str = "music file") -> bytes:
    """The bytes of the regular file ``label``, at most ``limit`` of them
    (``music.files.read_bounded``); MusicError naming it when unreadable,
    not a regular file or over the limit."""
    try:
        return read_bounded(label, limit, what)
    except InputError as error:
        raise MusicError(str(error)) from None
    except OSError as error:
        raise MusicError(f"{label}: cannot be read ({error.strerror or error})") from None


class TokenCache:
    """Values stored as files named by content key in one folder.

    folder: where the entries live (created on the first write)
    encode: value -> bytes
    decode: bytes -> value; raises (anything) for a damaged entry
    suffix: file name ending of the entries (".json", ".pickle")
    """

    def __init__(self, folder: Path, *, encode, decode, suffix: str):
        self.folder = Path(folder)
        self.encode = encode
        self.decode = decode
        self.suffix = suffix
        self.broken = False

    def get(self, key: str):
        """The value stored under ``key``, or None when absent or damaged."""
        try:
            data = (self.folder / f"{key}{self.suffix}").read_bytes()
        except OSError:
            return None
        try:
            return self.decode(data)
        except Exception:  # a damaged entry of any kind is read again from the file
            return None

    def put(self, key: str, value, report) -> None:
        """Store ``value``; on the first failure call ``report(line)`` and
        stop writing."""
        if self.broken:
            return
        try:
            write_file_atomically(self.folder / f"{key}{self.suffix}", self.encode(value))
        except OSError as error:
            self.broken = True
            report(f"warning: cannot write the cache in {self.folder} "
                   f"({error.strerror or error}); files will be read again next time")
