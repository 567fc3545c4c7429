"""MusicXML lead sheets: written, read back with music21, compared with the Song."""
import zipfile
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from music.chords import make_chord
from music.write.musicxml import (BINARY_PIECES, TRIPLET_PIECES, note_pieces, song_to_musicxml_bytes,
                                  write_musicxml)
from music.song import Chord, Measure, MusicError, Note, Song, as_fraction

THIRD = Fraction(1, 3)


def _song():
    """Four bars with triplets, a 5/12 note, rests, two chords in a bar, a
    chord without a symbol (F#7 by its pitch classes), and a 2/4 bar."""
    bars = [
        Measure(4, [Note(0, THIRD, 62), Note(THIRD, THIRD, 65), Note(2 * THIRD, THIRD, 69),
                    Note(1, Fraction(5, 12), 72), Note(2, 2, 71)],
                [make_chord("Dm7", 0, 2), make_chord("G7", 2, 2)], number=1),
        Measure(4, [Note(Fraction(1, 2), Fraction(3, 2), 64), Note(3, 1, None)],
                [make_chord("Cmaj7", 0, 4)], number=2),
        Measure(4, [Note(0, 4, 70)], [make_chord("Bb7", 0, 4)], number=3),
        Measure(4, [Note(1, Fraction(1, 2), 66), Note(Fraction(3, 2), Fraction(5, 2), 61)],
                [Chord(0, 4, 6, (6, 10, 1, 4))], number=4),
        Measure(2, [Note(0, 1, 66)], [make_chord("F#m7b5", 0, 2)], number=5),
    ]
    return Song(measures=bars, tempo=140, title="Round trip")


# (absolute offset, quarter length, MIDI pitch) of every sounding note of _song.
EXPECTED_NOTES = [
    (0, THIRD, 62), (THIRD, THIRD, 65), (2 * THIRD, THIRD, 69), (1, Fraction(5, 12), 72),
    (2, 2, 71), (Fraction(9, 2), Fraction(3, 2), 64), (8, 4, 70), (13, Fraction(1, 2), 66),
    (Fraction(27, 2), Fraction(5, 2), 61), (16, 1, 66)]
# (absolute offset, root pitch class) of every chord symbol of _song.
EXPECTED_ROOTS = [(0, 2), (2, 7), (4, 0), (8, 10), (12, 6), (16, 6)]


def _read_back(data_or_path):
    from music21 import converter
    if isinstance(data_or_path, bytes):
        return converter.parse(data_or_path, format="musicxml")
    return converter.parse(str(data_or_path))


def _notes_of(score):
    return [(as_fraction(note.getOffsetInHierarchy(score)), as_fraction(note.quarterLength),
             note.pitch.midi)
            for note in score.stripTies().recurse().notes if note.isNote]


def _chord_roots_of(score):
    from music21 import harmony
    return [(as_fraction(symbol.getOffsetInHierarchy(score)), symbol.root().pitchClass)
            for symbol in score.recurse().getElementsByClass(harmony.ChordSymbol)]


def test_notes_read_back_with_their_times_and_pitches():
    score = _read_back(song_to_musicxml_bytes(_song()))
    assert _notes_of(score) == EXPECTED_NOTES


def test_every_chord_symbol_reads_back_with_its_root():
    score = _read_back(song_to_musicxml_bytes(_song()))
    assert _chord_roots_of(score) == EXPECTED_ROOTS


def test_title_tempo_and_time_signatures_read_back():
    from music21 import meter, tempo
    score = _read_back(song_to_musicxml_bytes(_song()))
    assert score.metadata.bestTitle == "Round trip"
    assert [mark.number for mark in score.recurse().getElementsByClass(tempo.MetronomeMark)] == [140]
    signatures = [(sig.ratioString, sig.measureNumber)
                  for sig in score.recurse().getElementsByClass(meter.TimeSignature)]
    assert signatures == [("4/4", 1), ("2/4", 5)]


def test_bars_are_full_so_readers_see_no_gaps():
    score = _read_back(song_to_musicxml_bytes(_song()))
    measures = score.parts[0].getElementsByClass("Measure")
    lengths = [Fraction(sum(Fraction(n.quarterLength) for n in bar.notesAndRests))
               for bar in measures]
    assert lengths == [4, 4, 4, 4, 2]


def test_flats_over_flat_roots_and_sharps_over_sharp_side_roots():
    score = _read_back(song_to_musicxml_bytes(_song()))
    names = {note.pitch.midi: note.pitch.name for note in score.recurse().notes if note.isNote}
    assert names[70] == "B-"   # under Bb7
    assert names[66] == "F#"   # under F#7 and F#m7b5
    assert names[61] == "C#"


def test_same_song_same_bytes():
    assert song_to_musicxml_bytes(_song()) == song_to_musicxml_bytes(_song())
    assert b"encoding-date" not in song_to_musicxml_bytes(_song())


def test_mxl_is_a_musicxml_container_that_reads_back(tmp_path):
    first = write_musicxml(_song(), tmp_path / "a" / "solo.mxl")
    second = write_musicxml(_song(), tmp_path / "b" / "solo.mxl")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/vnd.recordare.musicxml"
        assert b"score.musicxml" in archive.read("META-INF/container.xml")
    assert _notes_of(_read_back(first)) == EXPECTED_NOTES


def test_plain_musicxml_file(tmp_path):
    path = write_musicxml(_song(), tmp_path / "solo.musicxml")
    assert path.read_bytes().startswith(b"<?xml")
    assert _chord_roots_of(_read_back(path)) == EXPECTED_ROOTS


def test_song_without_measures_is_refused():
    with pytest.raises(MusicError, match="no measures"):
        song_to_musicxml_bytes(Song(measures=[], title="empty"))


@pytest.mark.parametrize("start, end, cuts, expected", [
    (0, 4, (), [(0, 4)]),
    (0, Fraction(5, 12), (), [(0, THIRD), (THIRD, Fraction(1, 12))]),
    (Fraction(1, 2), 2, (), [(Fraction(1, 2), Fraction(1, 2)), (1, 1)]),
    (1, 4, (), [(1, 1), (2, 2)]),
    (0, Fraction(3, 2), (), [(0, Fraction(3, 2))]),
    (0, 4, (2,), [(0, 2), (2, 2)]),
    (0, 4, (3, 9), [(0, 3), (3, 1)]),
])
def test_note_pieces_known_answers(start, end, cuts, expected):
    assert note_pieces(Fraction(start), Fraction(end), cuts) == expected


GRID_24 = st.integers(min_value=0, max_value=96).map(lambda step: Fraction(step, 24))


@given(GRID_24, GRID_24, st.lists(GRID_24, max_size=3))
def test_note_pieces_tile_the_span_with_notatable_values(a, b, cuts):
    start, end = min(a, b), max(a, b)
    pieces = note_pieces(start, end, cuts)
    position = start
    for offset, length in pieces:
        assert offset == position and length in BINARY_PIECES + TRIPLET_PIECES
        position += length
        assert not any(offset < cut < position for cut in cuts)
    assert position == end


@pytest.mark.slow
def test_metheny_solo_keeps_every_note_and_chord(metheny_path):
    from music21 import harmony

    from music.read.scores import load_song
    song = load_song(metheny_path)
    score = _read_back(song_to_musicxml_bytes(song))
    assert len(_notes_of(score)) == len(song.melody_notes)
    symbols = list(score.recurse().getElementsByClass(harmony.ChordSymbol))
    assert len(symbols) == sum(len(measure.chords) for measure in song.measures)


# Typed symbols music21 reads otherwise or not at all, and the pitch classes
# each must sound on the lead sheet (worked out by hand).
TYPED_ON_THE_SHEET = {
    "D13sus4": {2, 7, 9, 0, 4, 11},       # D G A C E B
    "C13b9": {0, 4, 7, 10, 1, 9},         # no natural 9
    "Cmaj9#11": {0, 4, 7, 11, 2, 6},
    "C7-9": {0, 4, 7, 10, 1},
    "C7sus2": {0, 2, 7, 10},
    "F#7(b9)/A#": {6, 10, 1, 4, 7},
    "G7alt": {7, 11, 3, 5, 10},            # G B D# F A#
}


def test_typed_symbols_sound_their_pitch_classes_on_the_sheet():
    from music21 import harmony

    symbols = sorted(TYPED_ON_THE_SHEET)
    song = Song(measures=[Measure(4, [Note(0, 4, 72)], [make_chord(symbol, 0, 4)], number=index + 1)
                          for index, symbol in enumerate(symbols)])
    score = _read_back(song_to_musicxml_bytes(song))
    written = [(symbol.root().pitchClass, {pitch.pitchClass for pitch in symbol.pitches})
               for symbol in score.recurse().getElementsByClass(harmony.ChordSymbol)]
    assert written == [(make_chord(symbol).root, TYPED_ON_THE_SHEET[symbol]) for symbol in symbols]
