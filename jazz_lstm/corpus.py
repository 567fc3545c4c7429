"""Training corpora: music files -> Songs -> token pieces, split into training and validation.

``load_corpus`` reads ``data`` (files, folders, ``music21:`` names, the Weimar
Jazz Database file, its CSV solos or their folder; None for the encoding's
default set) and returns a ``Corpus``:

* grammar encoding: one ``Piece`` per song in the chosen grammar
  (``jazz_lstm.grammars``); a seeded draw holds out ``validation_share`` of
  the pieces (rounded down: a corpus of fewer than 1 / share pieces has no
  validation pieces) to measure validation loss; the rest is the training
  stream, the pieces one after another;
* notes encoding: the LoFi generator's tokens, every file one after another.

A file that cannot be read is reported through ``on_skip(label, reason)``
and left out; only a corpus where nothing can be read is an error.  The
options that read the corpus are kept in the checkpoint (``options``), so a
run can read the same pieces again to resume or to be evaluated.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from jazz_lstm.grammars import Piece, grammar_named
from jazz_lstm.limits import MAX_CHORD_BARS, MAX_TEMPO, MIN_TEMPO
from jazz_lstm.note_corpus import DEFAULT_NOTE_SOURCES, ENCODING_VERSION, load_note_corpus
from jazz_lstm.presets import DEFAULT_GRAMMAR_DATA, ENCODINGS
from jazz_lstm.record import CorpusRecord, MusicRecord, ReadOptions
from music.files import InputError, read_bounded
from music.read import wjazzd_csv, wjazzd_db
from music.read.cache import (TokenCache, content_key, decode_songs, default_cache_dir,
                              encode_songs, source_fingerprint)
from music.read.scores import load_songs
from music.read.wjazzd_csv import MAX_CSV_BYTES, is_wjazzd_source, load_wjazzd_solo
from music.read.wjazzd_db import is_wjazzd_database, parse_selection, selection_text
from music.song import Chord, MusicError
from music.tokens.solo import chord_bars_of, chord_bars_to_json


@dataclass
class Corpus:
    """What training learns from.

    pieces:      the training pieces (one for the notes encoding)
    record:      what the run record keeps of it (encoding, files, options)
    music:       the music sampling falls back on (tempo, metre, chords, register)
    description: "3 piece(s)" or "8 file(s)", for messages
    validation:  the held-out pieces
    """

    pieces: list
    record: CorpusRecord
    music: MusicRecord
    description: str
    validation: list = field(default_factory=list)

    @property
    def tokens(self) -> list:
        """The training stream: the training pieces' tokens one after another."""
        return [token for piece in self.pieces for token in piece.tokens]

    @property
    def features(self):
        """The training stream's features (len(tokens) + 1 rows), or None."""
        return stream_features(self.pieces)

    @property
    def songs(self) -> list:
        return [piece.song for piece in self.pieces + self.validation if piece.song is not None]

    @property
    def skipped(self) -> list:
        return list(self.record.skipped)


def skipped_note(skipped) -> str:
    """The line naming the files a corpus left out."""
    return f"skipped {len(skipped)} file(s) that could not be read: {', '.join(skipped)}"


def stream_features(pieces):
    """The features of pieces laid end to end: each piece's rows but its last
    (the place after a piece is the next piece's first place), then the last
    piece's final row; None for pieces without features."""
    if not pieces or pieces[0].features is None:
        return None
    return np.concatenate([piece.features[:-1] for piece in pieces] + [pieces[-1].features[-1:]])


def data_sources(data):
    """``data`` as a list of sources (None stays None): one path or name alone is a
    list of one, never read one character at a time; anything but text and paths
    raises ValueError."""
    if data is None:
        return None
    if isinstance(data, (str, os.PathLike)):
        return [data]
    if not isinstance(data, (list, tuple)) or not all(
            isinstance(source, (str, os.PathLike)) for source in data):
        raise ValueError("data must be a file, folder or music21: name, or a list of them, "
                         f"not {type(data).__name__}")
    if not data:
        raise ValueError("data is an empty list; give files, or None for the default set")
    return list(data)


def load_corpus(data=None, *, encoding: str = "grammar", grammar: str = "exact",
                structure: str = "none", melody_part=None, chord_parts=None, bars=None, chords=None,
                chords_offset: int = 0, where=None, validation_share: float = 0.0, seed: int = 0,
                on_skip=None) -> Corpus:
    """The corpus of ``data`` under ``encoding`` ("grammar" or "notes"); ``chords``
    and ``chords_offset`` give melodies their chords as text, ``where`` chooses
    a database's solos by their metadata (``read_songs``); ``structure``: the
    phrase and form features of the exact grammar (``music.tokens.structure``)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    data = data_sources(data)
    options = ReadOptions(data=None if data is None else tuple(str(source) for source in data),
                          melody_part=melody_part,
                          chord_parts=None if chord_parts is None else tuple(chord_parts),
                          bars=None if bars is None else tuple(bars), chords=chords,
                          chords_offset=chords_offset, where=tuple(where) if where else None)
    if encoding == "notes":
        if chords is not None or where:
            raise ValueError(f"{'--chords' if chords is not None else '--where'} chooses what "
                             "melodies to read; the notes encoding reads whole pieces")
        if structure != "none":
            raise ValueError("phrase and form features need the grammar encoding")
        corpus = _notes_corpus(data, on_skip)
    else:
        corpus = _grammar_corpus(data, grammar_named(grammar, structure), melody_part,
                                 chord_parts, bars, chords, chords_offset, where,
                                 validation_share, seed, on_skip)
    corpus.record = replace(corpus.record, options=options)
    return corpus


def _notes_corpus(data, on_skip) -> Corpus:
    corpus = load_note_corpus(data or DEFAULT_NOTE_SOURCES)
    for label, reason in corpus.skipped:
        if on_skip is not None:
            on_skip(label, reason)
    record = CorpusRecord("notes", sources=tuple(corpus.files),
                          skipped=tuple(label for label, _ in corpus.skipped),
                          notes_encoding_version=ENCODING_VERSION)
    piece = Piece("notes", "notes", corpus.tokens, None, None)
    return Corpus([piece], record, MusicRecord(120.0), f"{len(corpus.files)} file(s)")


def read_songs(data, melody_part=None, chord_parts=None, bars=None, on_skip=None, *,
               chords=None, chords_offset: int = 0, where=None) -> list:
    """The Songs of ``data``: the Weimar Jazz Database's SQLite file through
    ``music.read.wjazzd_db`` (``where``: FIELD=VALUE texts choosing its solos
    by their metadata, see ``parse_selection``), WJazzD CSV solos (a CSV or a
    folder holding melody/) through ``music.read.wjazzd_csv`` (a folder's
    songs cached, see ``wjazzd_folder_songs``), everything else through
    ``music.read.scores`` (``chords``: a progression laid over each melody,
    ``chords_offset`` bars after its start; see ``music.read.given_chords``)."""
    sources = list(data or DEFAULT_GRAMMAR_DATA)
    selection = parse_selection(where or [])
    if selection and not any(is_wjazzd_database(source) for source in sources):
        raise MusicError(f"--where chooses solos of a Weimar Jazz Database file (wjazzd.db) by "
                         f"their metadata; {', '.join(map(str, sources))} has none")
    songs = []
    for source in sources:
        wjazzd_database = is_wjazzd_database(source)
        if wjazzd_database or is_wjazzd_source(source) or (
                Path(source).suffix.lower() == ".csv" and not Path(source).is_dir()):
            # A CSV that is no WJazzD solo gets the reader's own reason (missing columns).
            if (melody_part is not None or chord_parts is not None or bars is not None
                    or chords is not None):
                raise MusicError(f"{source}: --melody-part, --chord-parts, --bars and --chords "
                                 "choose parts, bars and chords of MIDI, MusicXML and ABC files; "
                                 "a WJazzD solo is one melody with its chords")
            if wjazzd_database:
                songs.extend(wjazzd_database_songs(source, selection, on_skip=on_skip))
            elif Path(source).is_dir():
                songs.extend(wjazzd_folder_songs(source, on_skip=on_skip))
            else:
                songs.append(load_wjazzd_solo(source))
        else:
            songs.extend(load_songs([source], melody_part=melody_part, chord_parts=chord_parts,
                                    bars=bars, chords=chords, chords_offset=chords_offset,
                                    on_skip=on_skip))
    return songs


WJAZZD_CACHE_NAMESPACE = "wjazzd"
# The modules whose code decides a WJazzD solo's Song: their source is part of the key.
WJAZZD_READER_MODULES = ("read/wjazzd_csv.py", "read/jazzomat_chords.py", "chords.py", "grid.py",
                         "song.py")
WJAZZD_DATABASE_MODULES = ("read/wjazzd_db.py", *WJAZZD_READER_MODULES)
# Stands for the folder or database file in the sources and reasons a cache entry keeps.
_ROOT_MARK = "\0root\0"
# The Weimar Jazz Database file read into memory for its cache key (release 2.1: under 100 MB).
MAX_DATABASE_BYTES = 1 << 30


def wjazzd_folder_songs(folder, on_skip=None, cache_dir=None) -> list:
    """``music.read.wjazzd_csv.load_wjazzd_folder(folder, on_skip)``, cached
    (``cached_wjazzd_songs``) by the names and bytes of every CSV that can
    decide the songs (melody/ and beats/); the sources are kept relative to
    the database root, so a moved folder is a hit.
    """
    folder = Path(folder)
    root = _wjazzd_root(folder)
    return cached_wjazzd_songs(str(root), _wjazzd_folder_bytes(folder, root),
                               WJAZZD_READER_MODULES,
                               lambda skip: wjazzd_csv.load_wjazzd_folder(folder, on_skip=skip),
                               on_skip, cache_dir)


def wjazzd_database_songs(path, selection: dict, on_skip=None, cache_dir=None) -> list:
    """``music.read.wjazzd_db.load_wjazzd_database(path, selection, on_skip)``,
    cached (``cached_wjazzd_songs``) by the file's bytes and the selection."""
    try:
        content = read_bounded(path, MAX_DATABASE_BYTES, "Weimar Jazz Database file")
    except InputError as error:
        raise MusicError(str(error)) from None
    except OSError as error:
        raise MusicError(f"{path}: cannot be read ({error.strerror or error})") from None
    return cached_wjazzd_songs(str(path), content + b"\0" + selection_text(selection).encode(),
                               WJAZZD_DATABASE_MODULES,
                               lambda skip: wjazzd_db.load_wjazzd_database(path, selection,
                                                                            on_skip=skip),
                               on_skip, cache_dir)


def cached_wjazzd_songs(root: str, content: bytes, modules, read, on_skip, cache_dir) -> list:
    """``read(on_skip)``, the songs of a WJazzD folder or database, cached.

    One cache entry (``music.read.cache``, namespace "wjazzd", ``cache_dir``
    or the default folder) holds the songs and the solos that could not be
    read, keyed by ``content`` (what decides the songs) and the source of the
    reading ``modules``.  Sources, labels and reasons are kept with ``root``
    (the folder or file they start with) marked, and get the root they are
    read from on a hit.  The unreadable solos are told to ``on_skip`` again
    (without ``on_skip`` the first one raises, as an uncached read does).
    One entry rather than one per solo: the solos share their Note objects,
    which one entry's tables store once.
    """
    def marked(text: str) -> str:
        return _ROOT_MARK + text[len(root):] if text.startswith(root) else text

    cache = TokenCache((Path(cache_dir) if cache_dir is not None else default_cache_dir())
                       / WJAZZD_CACHE_NAMESPACE,
                       encode=lambda entry: encode_songs(entry["songs"], skipped=entry["skipped"]),
                       decode=_decoded_wjazzd_entry, suffix=".json")
    key = content_key(root, content, source_fingerprint(*modules))
    entry = cache.get(key)
    if entry is None:
        skipped = []
        songs = read(lambda label, reason: skipped.append(
            (marked(label), reason.replace(root, _ROOT_MARK))))
        entry = {"songs": [replace(song, source=marked(song.source)) for song in songs],
                 "skipped": skipped}
        cache.put(key, entry, lambda line: print(line, file=sys.stderr, flush=True))
    for label, reason in entry["skipped"]:
        label, reason = label.replace(_ROOT_MARK, root), reason.replace(_ROOT_MARK, root)
        if on_skip is None:
            raise MusicError(reason)
        on_skip(label, reason)
    return [replace(song, source=song.source.replace(_ROOT_MARK, root))
            for song in entry["songs"]]


def _wjazzd_root(folder: Path) -> Path:
    """The database root: the folder holding melody/ (and beats/)."""
    return folder if (folder / "melody").is_dir() else folder.parent


def _wjazzd_folder_bytes(folder: Path, root: Path) -> bytes:
    """The name under the database root (melody/..., beats/...) and the bytes
    of every CSV a WJazzD folder's songs can depend on (titles come from names)."""
    files = sorted({*folder.rglob("*.csv"), *(root / "beats").rglob("*.csv")})
    return b"".join(b"%s\0%s" % (str(file.relative_to(root)).encode("utf-8"), _csv_content(file))
                    for file in files)


def _csv_content(file: Path) -> bytes:
    """What of one CSV decides the songs: its length and bytes, or why it cannot be
    read (a dangling link, a folder, a FIFO, over the size limit: the solo is skipped)."""
    try:
        data = read_bounded(file, MAX_CSV_BYTES, "WJazzD CSV")
    except OSError as error:
        return b"unreadable\0%s" % str(error).encode("utf-8", "replace")
    return b"%d\0%s" % (len(data), data)


def _decoded_wjazzd_entry(data: bytes) -> dict:
    """A WJazzD cache entry: its songs (``music.read.cache.decode_songs``) and
    the skipped solos, (name, reason) pairs; ValueError when damaged."""
    entry = decode_songs(data)
    skipped = entry.get("skipped")
    if not (isinstance(skipped, list) and all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(text, str) for text in pair)
            for pair in skipped)):
        raise ValueError("not a WJazzD cache entry")
    return entry


# Sampled solos stay between these percentiles of the training melodies' pitches.
REGISTER_PERCENTILES = (2, 98)


def melody_register(songs) -> list:
    """[low, high]: where the training melodies play (REGISTER_PERCENTILES of their
    pitches), at least an octave wide."""
    pitches = [note.pitch for song in songs for note in song.melody_notes]
    low, high = (int(round(value)) for value in np.percentile(pitches, REGISTER_PERCENTILES))
    return [low, max(high, low + 11)]


def playable_tempo(tempo: float) -> float:
    """The tempo sampling defaults to: the source's, brought into the range every
    output accepts (a 1 bpm file would otherwise train a model no one can hear)."""
    return float(min(max(tempo, MIN_TEMPO), MAX_TEMPO))


def split_pieces(pieces, validation_share: float, seed: int) -> tuple:
    """(training, validation): a seeded draw of floor(share * count) validation
    pieces, both lists kept in corpus order."""
    count = int(len(pieces) * validation_share)
    if count == 0 or count >= len(pieces):
        return list(pieces), []
    held_out = set(np.random.default_rng(seed).permutation(len(pieces))[:count].tolist())
    return ([piece for index, piece in enumerate(pieces) if index not in held_out],
            [piece for index, piece in enumerate(pieces) if index in held_out])


def _grammar_corpus(data, grammar, melody_part, chord_parts, bars, chords, chords_offset,
                    where, validation_share, seed, on_skip) -> Corpus:
    skipped = []

    def skip(label, reason):
        skipped.append(label)
        if on_skip is not None:
            on_skip(label, reason)

    songs = read_songs(data, melody_part, chord_parts, bars, on_skip=skip, chords=chords,
                       chords_offset=chords_offset, where=where)
    pieces = [grammar.piece(song) for song in songs]
    training, validation = split_pieces(pieces, validation_share, seed)
    tokens = sum(len(piece.tokens) for piece in training)
    if tokens < 2:
        raise MusicError(f"{songs[0].source}: only {tokens} token(s) of melody; "
                         "need at least 2 to learn from")
    # Sampling without --chords plays the first training piece's changes.
    first = training[0].song
    record = CorpusRecord("grammar", sources=tuple(piece.source for piece in training),
                          validation_sources=tuple(piece.source for piece in validation),
                          skipped=tuple(skipped))
    music = MusicRecord(tempo=playable_tempo(first.tempo),
                        time_signature=tuple(first.time_signature),
                        chords=chord_bars_to_json(sampling_chords(first)),
                        chords_title=first.title or first.source,
                        pitch_range=tuple(melody_register([piece.song for piece in training])))
    description = f"{len(training)} piece(s)"
    if validation:
        description += f" (+{len(validation)} held out for validation)"
    return Corpus(training, record, music, description, validation)


# Solo metadata counted by `corpus`: SoloInfo field -> summary key; the most common shown.
METADATA_COUNTS = {"performer": "performers", "style": "styles", "instrument": "instruments"}
METADATA_SHOWN = 12


def sampling_chords(song) -> list:
    """The chord bars a run keeps to sample over without --chords: the song's, at
    most MAX_CHORD_BARS of them, each fitted to a bar of the song's time signature
    (solos change metre: a 5/4 bar among 4/4 ones loses its last beat's chords),
    so the run passes the checks it is opened with."""
    numerator, denominator = song.time_signature
    bar_length = Fraction(4 * numerator, denominator)
    return [[chord if chord.end <= bar_length else
             Chord(chord.start, bar_length - chord.start, chord.root, chord.pitch_classes,
                   chord.symbol, chord.bass)
             for chord in bar if chord.start < bar_length]
            for bar in chord_bars_of(song)[:MAX_CHORD_BARS]]


def corpus_summary(corpus: Corpus) -> tuple:
    """(a JSON-ready summary, the lines to print) of a corpus."""
    if corpus.record.encoding == "notes":
        summary = {"encoding": "notes", "files": list(corpus.record.sources),
                   "skipped": corpus.skipped, "bars": None}
        lines = [f"{corpus.description} read: {', '.join(corpus.record.sources)}"]
    else:
        pieces = [{"source": song.source, "title": song.title,
                   "melody_part": song.melody_part, "chords_from": song.chord_source,
                   "bars": len(song.measures),
                   "bars_with_chords": sum(1 for measure in song.measures if measure.chords),
                   "tempo": song.tempo, "time_signature": "/".join(map(str, song.time_signature))}
                  for song in corpus.songs]
        lines = [f"{piece['source']}: \"{piece['title']}\", melody = {piece['melody_part']}, "
                 f"chords from {piece['chords_from']}, {piece['bars']} bars "
                 f"({piece['bars_with_chords']} with chords), {piece['time_signature']} "
                 f"at {piece['tempo']:g} bpm" for piece in pieces]
        bars = sum(piece["bars"] for piece in pieces)
        notes = sum(len(song.melody_notes) for song in corpus.songs)
        lines.append(f"{bars} bars, {notes} notes")
        summary = {"encoding": "grammar", "pieces": pieces, "bars": bars, "notes": notes,
                   "skipped": corpus.skipped}
        if corpus.record.options.where:
            summary["where"] = list(corpus.record.options.where)
            lines.append(f"chosen by --where {' '.join(summary['where'])}")
        infos = [song.info for song in corpus.songs if song.info is not None]
        if infos:
            for field, name in METADATA_COUNTS.items():
                counts = Counter(getattr(info, field) or "(none)" for info in infos)
                summary[name] = dict(counts.most_common())
                shown = ", ".join(f"{value} {count}" for value, count in
                                  counts.most_common(METADATA_SHOWN))
                more = (f" and {len(counts) - METADATA_SHOWN} more (--json lists them)"
                        if len(counts) > METADATA_SHOWN else "")
                lines.append(f"{len(infos)} solos by {field}: {shown}{more}")
    if corpus.skipped:
        lines.append(f"skipped {len(corpus.skipped)}: {', '.join(corpus.skipped)}")
    tokens = corpus.tokens + [token for piece in corpus.validation for token in piece.tokens]
    counts = Counter(tokens)
    summary.update(tokens=len(tokens), vocab_size=len(counts),
                   most_common=counts.most_common(10))
    return summary, lines
