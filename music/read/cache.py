"""A content-keyed cache of what was read from music files.

Reading a file is slow (music21 needs seconds); the result only depends on
the file's bytes, the reading code and its options.  So each result is
stored in ``<cache folder>/<namespace>/<key><suffix>``, where the key is a
sha256 over the file's content and everything else the result depends on,
written atomically.  An unchanged file is never read twice, whatever its
name or place; a changed file, reader or option gives another key, which
leaves the old entry unused.

The cache folder is the one given, else ``$JAZZ_LSTM_CACHE``, else
``~/.cache/jazz-lstm``.  Entries are JSON (``encode_songs``), never pickle:
reading one runs no code.  An entry that cannot be decoded or fails its
checks counts as missing (the file is read again and the entry rewritten);
a cache folder that cannot be written is reported once per process and the
run goes on without it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from fractions import Fraction
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from music.files import InputError, read_bounded, write_file_atomically
from music.song import Annotations, Chord, Measure, MusicError, Note, SoloInfo, Song, Span

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
    suffix: file name ending of the entries (".json")
    """

    def __init__(self, folder: Path, *, encode, decode, suffix: str):
        self.folder = Path(folder)
        self.encode = encode
        self.decode = decode
        self.suffix = suffix

    def get(self, key: str):
        """The value stored under ``key``, or None when absent or damaged."""
        try:
            data = read_bounded(self.folder / f"{key}{self.suffix}", MAX_ENTRY_BYTES)
        except OSError:
            return None
        try:
            return self.decode(data)
        except Exception:  # a damaged entry of any kind is read again from the file
            return None

    def put(self, key: str, value, report) -> None:
        """Store ``value``; on the first failure call ``report(line)`` and
        stop writing."""
        if self.folder in _UNWRITABLE_FOLDERS:
            return
        try:
            write_file_atomically(self.folder / f"{key}{self.suffix}", self.encode(value))
        except OSError as error:
            _UNWRITABLE_FOLDERS.add(self.folder)
            report(f"warning: cannot write the cache in {self.folder} "
                   f"({error.strerror or error}); files will be read again next time")


# Cache folders found unwritable in this process: reported once, then left alone.
_UNWRITABLE_FOLDERS: set = set()
# The biggest entry, the 410 WJazzD solos, has about 4 MB.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
SONGS_FORMAT = "jazz-lstm songs 1"


def encode_songs(songs, **extra) -> bytes:
    """Songs (and ``extra`` JSON values) as the JSON of a cache entry.

    Equal Notes and Chords are stored once, in tables the measures index: a
    corpus repeats a few thousand of them hundreds of thousands of times.
    Every field of the song classes is stored (``dataclasses.fields``), so a
    field added later is kept too; fractions as "n/d" text.
    """
    tables = {"notes": {}, "chords": {}}

    def row(value) -> list:
        return [_plain(getattr(value, field.name)) for field in dataclasses.fields(value)]

    def index(table, value) -> int:
        return tables[table].setdefault(value, len(tables[table]))

    encoded = []
    for song in songs:
        fields = {field.name: _plain(getattr(song, field.name))
                  for field in dataclasses.fields(song) if field.name != "measures"}
        fields["measures"] = [[str(measure.length), [index("notes", note) for note in measure.notes],
                               [index("chords", chord) for chord in measure.chords], measure.number]
                              for measure in song.measures]
        encoded.append(fields)
    return json.dumps({"format": SONGS_FORMAT, **extra, "songs": encoded,
                       "notes": [row(note) for note in tables["notes"]],
                       "chords": [row(chord) for chord in tables["chords"]]},
                      separators=(",", ":")).encode("utf-8")


def decode_songs(data: bytes) -> dict:
    """The entry of ``encode_songs``: its extra values and "songs", a non-empty
    list of Songs of at least one bar each.  Every value goes through the
    classes' own checks; anything else raises ValueError (a damaged entry)."""
    entry = json.loads(data.decode("utf-8"))
    if not isinstance(entry, dict) or entry.get("format") != SONGS_FORMAT:
        raise ValueError("not a songs entry")
    notes = [_built(Note, values) for values in entry["notes"]]
    chords = [_built(Chord, values) for values in entry["chords"]]
    songs = []
    for fields in entry["songs"]:
        measures = [Measure(_fraction(length), _indexed(notes, note_ids), _indexed(chords, chord_ids),
                            _field_value(Measure, "number", number))
                    for length, note_ids, chord_ids, number in fields.pop("measures")]
        if not measures:
            raise ValueError("a song without bars")
        songs.append(Song(measures, **{name: _field_value(Song, name, value)
                                       for name, value in fields.items()}))
    if not songs:
        raise ValueError("an entry without songs")
    return {**entry, "songs": songs}


def _plain(value):
    """A field as JSON: fractions as "n/d", tuples as lists, the dataclasses a
    song holds (annotations, spans, solo info) as lists of their fields."""
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value):
        return [_plain(getattr(value, field.name)) for field in dataclasses.fields(value)]
    return value


def _built(cls, values):
    if not isinstance(values, list):
        raise ValueError(f"not a {cls.__name__}")
    names = list(_declared_types(cls))
    if len(values) != len(names):
        raise ValueError(f"a {cls.__name__} of {len(values)} fields")
    return cls(*(_field_value(cls, name, value) for name, value in zip(names, values)))


def _field_value(cls, name: str, value):
    """A stored field back as its class declares it (fractions from "n/d", tuples
    from lists of numbers); ValueError for any value of another type."""
    declared = _declared_types(cls).get(name)
    if declared == "Fraction":
        return _fraction(value)
    if declared == "tuple" and isinstance(value, list) and all(
            _is_number(item) for item in value):
        return tuple(value)
    if declared == "str" and isinstance(value, str):
        return value
    if declared == "Annotations" and isinstance(value, list) and len(value) == len(
            _declared_types(Annotations)) and all(isinstance(spans, list) for spans in value):
        return Annotations(*(tuple(_built(Span, span) for span in spans) for spans in value))
    if declared == "SoloInfo | None":
        return None if value is None else _built(SoloInfo, value)
    if declared == "float" and _is_number(value):
        return float(value)
    if declared == "bool" and isinstance(value, bool):
        return value
    if declared in ("int", "int | None") and (_is_number(value) and isinstance(value, int)
                                              or value is None and declared == "int | None"):
        return value
    raise ValueError(f"{cls.__name__}.{name} holds {type(value).__name__}, not {declared}")


@lru_cache(maxsize=None)
def _declared_types(cls) -> dict:
    return {field.name: field.type for field in dataclasses.fields(cls)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fraction(text) -> Fraction:
    if not isinstance(text, str):
        raise ValueError("a fraction is stored as text")
    return _parsed_fraction(text)


@lru_cache(maxsize=1 << 12)
def _parsed_fraction(text: str) -> Fraction:
    """Fractions are immutable and an entry holds a few dozen distinct ones: each is parsed once."""
    return Fraction(text)


def _indexed(table: list, indices: list) -> list:
    """The table's items at ``indices``; ValueError for a negative index, IndexError
    past the end, TypeError for a non-integer one."""
    if indices and min(indices) < 0:
        raise ValueError("a negative index")
    return [table[index] for index in indices]
