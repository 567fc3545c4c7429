"""Training corpora: music files -> Songs -> one token stream, per encoding.

``load_corpus`` reads ``data`` (files, folders, ``music21:`` names; None
for the encoding's default set) and returns a ``Corpus``: the tokens, the
songs (grammar encoding), the files skipped, and what a checkpoint keeps
of it (``about``).  A file that cannot be read is reported through
``on_skip(label, reason)`` and left out; only a corpus where nothing can be
read is an error.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from jazz_lstm.presets import DEFAULT_GRAMMAR_DATA, ENCODINGS


@dataclass
class Corpus:
    """What training learns from.

    tokens:      the flat token stream
    about:       what the checkpoint keeps: encoding, sources, skipped, music
    description: "3 piece(s)" or "8 file(s)", for messages
    songs:       the Songs (grammar encoding only)
    """

    tokens: list
    about: dict
    description: str
    songs: list = field(default_factory=list)

    @property
    def skipped(self) -> list:
        return self.about["skipped"]


def load_corpus(data=None, *, encoding: str = "grammar", melody_part=None, chord_parts=None,
                bars=None, on_skip=None) -> Corpus:
    """The corpus of ``data`` under ``encoding`` ("grammar" or "notes")."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    if encoding == "notes":
        return _notes_corpus(data, on_skip)
    return _grammar_corpus(data, melody_part, chord_parts, bars, on_skip)


def _notes_corpus(data, on_skip) -> Corpus:
    from music.notes import DEFAULT_NOTE_SOURCES, ENCODING_VERSION, load_note_corpus

    corpus = load_note_corpus(data or DEFAULT_NOTE_SOURCES)
    for label, reason in corpus.skipped:
        if on_skip is not None:
            on_skip(label, reason)
    about = {"encoding": "notes", "notes_encoding_version": ENCODING_VERSION,
             "sources": list(corpus.files), "skipped": [label for label, _ in corpus.skipped],
             "music": {"tempo": 120.0}}
    return Corpus(corpus.tokens, about, f"{len(corpus.files)} file(s)")


def _grammar_corpus(data, melody_part, chord_parts, bars, on_skip) -> Corpus:
    from music.grammar import encode_song
    from music.reading import load_songs
    from music.solo import chord_bars_of, chord_bars_to_json
    from music.song import MusicError

    skipped = []

    def skip(label, reason):
        skipped.append(label)
        if on_skip is not None:
            on_skip(label, reason)

    songs = load_songs(list(data or DEFAULT_GRAMMAR_DATA), melody_part=melody_part,
                       chord_parts=chord_parts, bars=bars, on_skip=skip)
    tokens = [token for song in songs for bar in encode_song(song) for token in bar]
    if len(tokens) < 2:
        raise MusicError(f"{songs[0].source}: only {len(tokens)} token(s) of melody; "
                         "need at least 2 to learn from")
    first_song = songs[0]
    about = {"encoding": "grammar", "sources": [song.source for song in songs],
             "skipped": skipped,
             "music": {"tempo": first_song.tempo,
                       "time_signature": list(first_song.time_signature),
                       "chords": chord_bars_to_json(chord_bars_of(first_song))}}
    return Corpus(tokens, about, f"{len(songs)} piece(s)", songs)


def corpus_summary(corpus: Corpus) -> tuple:
    """(a JSON-ready summary, the lines to print) of a corpus."""
    if corpus.about["encoding"] == "notes":
        summary = {"encoding": "notes", "files": corpus.about["sources"],
                   "skipped": corpus.skipped, "bars": None}
        lines = [f"{corpus.description} read: {', '.join(corpus.about['sources'])}"]
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
    if corpus.skipped:
        lines.append(f"skipped {len(corpus.skipped)}: {', '.join(corpus.skipped)}")
    counts = Counter(corpus.tokens)
    summary.update(tokens=len(corpus.tokens), vocab_size=len(counts),
                   most_common=counts.most_common(10))
    return summary, lines
