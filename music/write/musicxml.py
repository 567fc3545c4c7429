"""Write a Song as a lead sheet in MusicXML: the melody on one staff with
every chord symbol above it, time signature, tempo and title.

Times come straight from the Song's grid: swung eighths stay written as
straight eighths, as a jazz lead sheet writes them.  Each note or rest is
cut into pieces that notation can show on their own and the pieces are
tied: a piece of length d may start at offset p only when p is a multiple
of d (a dotted value only when p is a multiple of 4d/3, twice the value
without its dot), and the largest such piece is taken first: a half note
may start on beat 1 or 3 but not on beat 2, a dotted quarter on beat 1 or 3
only.  Notes are also cut at chord changes, so a chord symbol always sits
on a note or rest.  Triplet values (1/3, 1/6, 1/12, 1/24 of a quarter) come
out as triplets; a leftover off both grids is handed to music21 whole.
A note held over a bar line (``Note.tied``) is tied across it.

Chord symbols: the Chord's own symbol (``music.chords.music21_symbol``
spells it for music21) when music21 reads it with the same root.  A symbol
typed in a progression (one that ``music.chords`` reads as the chord's root
and pitch classes) must also sound those pitch classes; when music21 reads
it otherwise, a figure is built from the pitch classes: the first of the
usual kinds (``m7``, ``7``, ``7sus4``, ``dim7``, ``ø7``, ``6``, triads...)
that the chord holds, every other tone added as a degree (``D13sus4``,
which music21 cannot read, becomes a suspended-fourth seventh with 9 and 13
added), and the slash bass.  Any other chord (no symbol, or a name music21
gave the harmony of a file's parts) that music21 cannot read is named by
music21 from its pitch classes stacked on the root, when that keeps the
root.  A chord none of these can name gets its root and the kind "other"
(the pitch classes stay as degrees).

Spelling: flats, except under chords whose root is written with a sharp
or is D, E, G, A or B without an accidental: those roots' keys sit on the
sharp side of the circle, where F#, C# and G# are the usual names.  A chord
without a symbol counts as sharp-side when its root is one of those pitch
classes or F#.

The bytes depend only on the Song: the encoding date music21 writes is
removed, the part id is fixed and the .mxl archive carries a fixed time
stamp.  music21 is imported only when a lead sheet is written.
"""
from __future__ import annotations

import copy
import io
import re
import zipfile
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from music.chords import music21_symbol, parse_chord_symbol
from music.m21 import load_music21
from music.files import output_path, write_file_atomically
from music.progressions import FLAT_SPELLING, SHARP_SPELLING
from music.song import Chord, MusicError, Song

PART_ID = "P1"
PART_NAME = "Solo"
INSTRUMENT_ID = "I1"
SCORE_NAME = "score.musicxml"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry

# Pieces a note may be cut into, longest first (quarter lengths).  A span
# whose ends both lie on the 1/32 grid is cut into plain and dotted binary
# values; any other span into whole beats and triplet values, so that an
# eighth-note triplet is never written as a dotted sixteenth and a 64th.
BINARY_PIECES = tuple(Fraction(value) for value in (
    4, 3, 2, "3/2", 1, "3/4", "1/2", "3/8", "1/4", "3/16", "1/8", "1/16", "1/32"))
TRIPLET_PIECES = tuple(Fraction(value) for value in (
    4, 3, 2, 1, "1/3", "1/6", "1/12", "1/24"))
BINARY_GRID = Fraction(1, 32)

SHARP_SIDE_LETTERS = frozenset("DEGAB")
SHARP_SIDE_ROOTS = frozenset({2, 4, 6, 7, 9, 11})  # D, E, F#, G, A, B

_ENCODING_DATE = re.compile(rb"\s*<encoding-date>[^<]*</encoding-date>")

CONTAINER_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<container>\n'
    '  <rootfiles>\n'
    f'    <rootfile full-path="{SCORE_NAME}" media-type="application/vnd.recordare.musicxml+xml"/>\n'
    '  </rootfiles>\n'
    '</container>\n'
)


def write_musicxml(song: Song, path) -> Path:
    """Write the lead sheet to ``path``: compressed MusicXML when the name ends
    in ``.mxl``, plain MusicXML otherwise.  Creates missing folders; the file
    appears complete or not at all.  Returns the path."""
    target = output_path(path)
    data = song_to_musicxml_bytes(song)
    if target.suffix.lower() == ".mxl":
        data = compressed_musicxml(data)
    return write_file_atomically(target, data)


def song_to_musicxml_bytes(song: Song) -> bytes:
    """The lead sheet as the bytes of an uncompressed MusicXML file."""
    if not song.measures:
        raise MusicError(f"song {song.title or song.source!r} has no measures to write")
    data = load_music21().musicxml.m21ToXml.GeneralObjectExporter(_score(song)).parse()
    return _ENCODING_DATE.sub(b"", data)


def compressed_musicxml(musicxml: bytes) -> bytes:
    """A .mxl archive holding ``musicxml`` (the bytes of a MusicXML file).

    The MusicXML container format: an uncompressed ``mimetype`` entry first,
    then ``META-INF/container.xml`` naming the score file.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = (("mimetype", b"application/vnd.recordare.musicxml", zipfile.ZIP_STORED),
                   ("META-INF/container.xml", CONTAINER_XML.encode("utf-8"), zipfile.ZIP_DEFLATED),
                   (SCORE_NAME, musicxml, zipfile.ZIP_DEFLATED))
        for name, data, compression in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def note_pieces(start: Fraction, end: Fraction, cuts=()) -> list:
    """(offset, length) pieces that tile [start, end), in quarter lengths.

    cuts: offsets where a piece must end (chord changes).  Between two cuts,
    each piece is the longest of the span's family (see BINARY_PIECES) that
    fits and whose length divides its offset (a dotted length d: 4d/3
    divides it); when none fits, the rest of the span is one piece.
    """
    pieces = []
    position = start
    for stop in sorted({cut for cut in cuts if start < cut < end} | {end}):
        family = BINARY_PIECES if _on_binary_grid(position, stop) else TRIPLET_PIECES
        while position < stop:
            length = _longest_piece(position, stop - position, family)
            pieces.append((position, length))
            position += length
    return pieces


def _on_binary_grid(*times) -> bool:
    return all((time / BINARY_GRID).denominator == 1 for time in times)


def _longest_piece(position: Fraction, room: Fraction, family) -> Fraction:
    for length in family:
        if length > room:
            continue
        unit = length * 4 / 3 if length.numerator == 3 else length
        if position % unit == 0:
            return length
    return room


def _prefers_sharps(chord: Chord | None) -> bool:
    if chord is None:
        return False
    if not chord.symbol:
        return chord.root in SHARP_SIDE_ROOTS
    letter, accidental = chord.symbol[0].upper(), chord.symbol[1:2]
    # "-" is music21's flat, in the names it gives chords read from harmony parts.
    return accidental == "#" or (accidental not in ("b", "♭")
                                 and letter in SHARP_SIDE_LETTERS)


def _pitch_name(pitch_class: int, sharps: bool) -> str:
    """music21's name of a pitch class: "B-" (its flat sign is "-") or "C#"."""
    return (SHARP_SPELLING if sharps else FLAT_SPELLING)[pitch_class % 12].replace("b", "-")


def _chord_symbol(chord: Chord):
    """A fresh music21 ChordSymbol with the chord's root (see the module
    docstring).  Building one costs music21 about 10 ms and songs repeat their
    chords, so each is built once per process and copied."""
    return copy.deepcopy(_chord_symbol_template(chord.root, chord.pitch_classes, chord.symbol,
                                                chord.bass))


@lru_cache(maxsize=None)
def _chord_symbol_template(root: int, pitch_classes: tuple, text: str, bass):
    harmony = load_music21().harmony

    chord = Chord(0, 1, root, pitch_classes, text, bass)

    # A symbol typed in a progression must sound its very pitch classes: music21
    # reads "C13b9" with a natural 9 and "D13sus4" not at all.
    typed = _is_typed(chord)
    ways = []
    if text:
        ways.append(lambda: harmony.ChordSymbol(_half_diminished_kind(music21_symbol(text))))
    if typed:
        ways += [lambda figure=figure: harmony.ChordSymbol(figure) for figure in _figures(chord)]
    else:
        ways.append(lambda: harmony.chordSymbolFromChord(_stacked(chord)))
    for build in ways:
        try:
            symbol = build()
        except Exception:  # music21 raises several unrelated types; try the next way
            continue
        if symbol.chordKind and symbol.root().pitchClass == chord.root and (
                not typed
                or {pitch.pitchClass for pitch in symbol.pitches} == set(chord.pitch_classes)):
            return symbol
    return harmony.ChordSymbol(root=_pitch_name(chord.root, _prefers_sharps(chord)), kind="other")


def _is_typed(chord: Chord) -> bool:
    """Whether the chord is what its symbol says when read as typed text
    (``music.chords``), as chords of a --chords progression are; names music21
    gave chords of harmony parts ("B-M9/F") are not."""
    try:
        return bool(chord.symbol) and parse_chord_symbol(chord.symbol) == (
            chord.root, chord.pitch_classes)
    except MusicError:
        return False


def _half_diminished_kind(figure: str) -> str:
    # music21 reads "m7b5" as a minor seventh plus an added flat fifth and
    # writes it so; "ø7" gives MusicXML's own half-diminished kind.
    return figure[:-len("m7b5")] + "ø7" if figure.endswith("m7b5") else figure


# The kinds a figure is built on, semitones above the root, first fit wins;
# "ø7" gives MusicXML's own half-diminished kind (music21 writes "m7b5" as a
# minor seventh with an added flat fifth).
_FIGURE_KINDS = (("dim7", {3, 6, 9}), ("ø7", {3, 6, 10}), ("mM7", {3, 7, 11}), ("m7", {3, 7, 10}),
                 ("maj7", {4, 7, 11}), ("7", {4, 7, 10}), ("7b5", {4, 6, 10}), ("+7", {4, 8, 10}),
                 ("+M7", {4, 8, 11}), ("7sus4", {5, 7, 10}), ("m6", {3, 7, 9}), ("6", {4, 7, 9}),
                 ("dim", {3, 6}), ("m", {3, 7}), ("", {4, 7}), ("+", {4, 8}), ("sus4", {5, 7}),
                 ("sus2", {2, 7}), ("power", {7}))
# music21's name of a tone added to a kind, by semitones above the root.
_ADDED_DEGREES = {1: "b9", 2: "9", 3: "#9", 4: "3", 5: "11", 6: "#11", 7: "5", 8: "b13", 9: "13",
                  10: "b7", 11: "7"}


def _figures(chord: Chord) -> list:
    """music21 figures for the chord, best first: with a slash bass, the
    figure of the chord without the bass's tone, then with it."""
    intervals = {(pc - chord.root) % 12 for pc in chord.pitch_classes} - {0}
    root = _pitch_name(chord.root, _prefers_sharps(chord))
    if not intervals:
        return [root + "pedal"]
    if chord.bass is None:
        return [root + _figure_suffix(intervals)]
    bass = "/" + _pitch_name(chord.bass, _prefers_sharps(chord))
    return [root + _figure_suffix(intervals - {(chord.bass - chord.root) % 12}) + bass,
            root + _figure_suffix(intervals) + bass]


def _figure_suffix(intervals: set) -> str:
    """The kind that fits (a major third rules out minor kinds, a natural fifth
    the altered-fifth ones) and the other tones as added degrees."""
    def fits(kind: set) -> bool:
        return (kind <= intervals and not (4 in intervals and 3 in kind)
                and not (7 in intervals and kind & {6, 8} and 7 not in kind))

    suffix, kind = next(((suffix, kind) for suffix, kind in _FIGURE_KINDS if fits(kind)),
                        ("", set()))
    return suffix + "".join("add" + _ADDED_DEGREES[interval]
                            for interval in sorted(intervals - kind))


def _stacked(chord: Chord):
    """The chord as music21 notes: the root lowest (and named the root), the
    other tones stacked within the octave above it."""
    m21_chord = load_music21().chord

    stacked = m21_chord.Chord(sorted(48 + chord.root + (pc - chord.root) % 12
                                     for pc in chord.pitch_classes))
    stacked.root(stacked.pitches[0])
    return stacked


def _time_signature_text(length: Fraction, denominator: int) -> str:
    """A time signature for a bar of ``length`` quarters, with the song's
    denominator when the count comes out whole, else the finest one needed."""
    while (length * denominator / 4).denominator != 1 and denominator < 64:
        denominator *= 2
    return f"{int(length * denominator / 4)}/{denominator}"


def _score(song: Song):
    music21 = load_music21()
    clef, instrument, metadata, meter, stream, tempo = (
        music21.clef, music21.instrument, music21.metadata, music21.meter, music21.stream,
        music21.tempo)

    score = stream.Score()
    score.metadata = metadata.Metadata(title=song.title or "Untitled solo", composer="jazz-lstm")
    part = stream.Part()
    solo_instrument = instrument.Instrument(instrumentName=PART_NAME)
    solo_instrument.partId = PART_ID
    solo_instrument.partName = PART_NAME
    solo_instrument.instrumentId = INSTRUMENT_ID
    part.insert(0, solo_instrument)
    denominator = song.time_signature[1]
    previous_signature = None
    for index, measure in enumerate(song.measures):
        bar = stream.Measure(number=index + 1)
        signature = _time_signature_text(measure.length, denominator)
        if signature != previous_signature:
            bar.insert(0, meter.TimeSignature(signature))
            previous_signature = signature
        if index == 0:
            bar.insert(0, clef.TrebleClef())
            bar.insert(0, tempo.MetronomeMark(number=_tempo_number(song.tempo)))
        _fill_bar(bar, measure, held_on=index + 1 < len(song.measures)
                  and song.measures[index + 1].starts_tied)
        part.append(bar)
    score.insert(0, part)
    return score


def _tempo_number(bpm: float):
    return int(bpm) if float(bpm).is_integer() else round(float(bpm), 2)


def _fill_bar(bar, measure, held_on: bool) -> None:
    """Chord symbols, then notes and rests tiling the whole bar; held_on:
    the bar's last note is held over into the next bar (tied there)."""
    music21 = load_music21()
    m21_note, tie = music21.note, music21.tie

    for chord in measure.chords:
        bar.insert(float(chord.start), _chord_symbol(chord))
    cuts = {chord.start for chord in measure.chords}
    spans = _spans(measure)
    for index, (start, end, pitch, tied) in enumerate(spans):
        sharps = _prefers_sharps(measure.chord_at(start))
        pieces = note_pieces(start, end, cuts)
        goes_on = held_on and index == len(spans) - 1
        for number, (offset, length) in enumerate(pieces):
            if pitch is None:
                element = m21_note.Rest()
            else:
                element = m21_note.Note(_pitch_name(pitch, sharps) + str(pitch // 12 - 1))
                kind = _tie_kind(number > 0 or tied, number < len(pieces) - 1 or goes_on)
                if kind is not None:
                    element.tie = tie.Tie(kind)
            element.quarterLength = length
            bar.insert(offset, element)


def _tie_kind(from_before: bool, to_after: bool):
    """The MusicXML tie of a piece of a note that goes on from the piece
    before it and/or into the piece after it (None: neither)."""
    if from_before:
        return "continue" if to_after else "stop"
    return "start" if to_after else None


def _spans(measure) -> list:
    """(start, end, pitch, tied) of every note, with rests (pitch None) in the gaps."""
    spans, cursor = [], Fraction(0)
    for note in measure.notes:
        if note.start > cursor:
            spans.append((cursor, note.start, None, False))
        spans.append((note.start, note.end, note.pitch, note.tied))
        cursor = note.end
    if cursor < measure.length:
        spans.append((cursor, measure.length, None, False))
    return spans
