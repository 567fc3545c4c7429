import csv
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from music.chords import (
    chord_quality,
    is_no_chord,
    make_chord,
    note_pitch_class,
    parse_chord_symbol,
    parse_progression,
    scale_for,
)
import music.song
from music.read.jazzomat_chords import jazzomat_chord, parse_jazzomat_chord
from music.song import Chord, Measure, MusicError, chord_at

# Pitch classes: C=0 C#=1 D=2 Eb=3 E=4 F=5 F#=6 G=7 Ab=8 A=9 Bb=10 B=11.
SYMBOLS = {
    "Dm7": (2, {2, 5, 9, 0}),
    "G7": (7, {7, 11, 2, 5}),
    "Cmaj7": (0, {0, 4, 7, 11}),
    "CM7": (0, {0, 4, 7, 11}),
    "C^7": (0, {0, 4, 7, 11}),
    "CΔ7": (0, {0, 4, 7, 11}),
    "Bb7": (10, {10, 2, 5, 8}),
    "Ebmaj7": (3, {3, 7, 10, 2}),
    "Eb-7": (3, {3, 6, 10, 1}),
    "Ebmi7": (3, {3, 6, 10, 1}),
    "F#m7b5": (6, {6, 9, 0, 4}),
    "Bø7": (11, {11, 2, 5, 9}),
    "Bø": (11, {11, 2, 5, 9}),
    "Cdim7": (0, {0, 3, 6, 9}),
    "Co7": (0, {0, 3, 6, 9}),
    "C7b9": (0, {0, 4, 7, 10, 1}),
    "C7(b9)": (0, {0, 4, 7, 10, 1}),
    "C6": (0, {0, 4, 7, 9}),
    "C6/9": (0, {0, 4, 7, 9, 2}),
    "Csus4": (0, {0, 5, 7}),
    "C/E": (0, {0, 4, 7}),
    "C/Bb": (0, {0, 4, 7, 10}),
    "Cm(maj7)": (0, {0, 3, 7, 11}),
    "Cmaj9": (0, {0, 4, 7, 11, 2}),
    "C+": (0, {0, 4, 8}),
    "Db7": (1, {1, 5, 8, 11}),
    "A7": (9, {9, 1, 4, 7}),
}


@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_symbol_root_and_pitch_classes(symbol):
    root, pitch_classes = SYMBOLS[symbol]
    assert parse_chord_symbol(symbol) == (root, tuple(sorted(pitch_classes)))


@pytest.mark.parametrize("symbol", ["H7", "", "C7xyz", "/E", "C7#13", "Cmaj7q", "C7add"])
def test_unreadable_symbol_names_it(symbol):
    with pytest.raises(MusicError, match=repr(symbol).replace("(", r"\(")):
        parse_chord_symbol(symbol)


QUALITIES = {
    "Dm7": "minor", "G7": "dominant", "Cmaj7": "major", "C6": "major", "C/E": "major",
    "F#m7b5": "half-diminished", "Bø7": "half-diminished", "Cdim7": "diminished",
    "Co7": "diminished", "C+": "augmented", "C7#5": "augmented", "C7b9": "dominant",
    "C7#9": "dominant", "Cm6": "minor", "Cm(maj7)": "minor", "Csus4": "other",
    "C5": "other", "C/Bb": "dominant",
}


@pytest.mark.parametrize("symbol", sorted(QUALITIES))
def test_chord_quality(symbol):
    assert chord_quality(make_chord(symbol)) == QUALITIES[symbol]


SCALES = {
    "Cmaj7": {0, 2, 4, 6, 7, 9, 11},       # C Lydian
    "Dm7": {2, 4, 5, 7, 9, 11, 0},         # D Dorian
    "G7": {7, 9, 11, 0, 2, 4, 5},          # G Mixolydian
    "Bø7": {11, 0, 2, 4, 5, 7, 9},         # B Locrian
    "Cdim7": {0, 2, 3, 5, 6, 8, 9, 11},    # C whole-half diminished
    "C+": {0, 2, 4, 6, 8, 10},             # C whole tone
    "Csus4": {0, 2, 4, 5, 7, 9, 10},       # C Mixolydian
    "Bb7": {10, 0, 2, 3, 5, 7, 8},         # Bb Mixolydian
    "C7b9": {0, 1, 2, 4, 5, 7, 9, 10},     # C Mixolydian plus the chord's b9
}


@pytest.mark.parametrize("symbol", sorted(SCALES))
def test_scale_for(symbol):
    assert scale_for(make_chord(symbol)) == frozenset(SCALES[symbol])


def test_scale_holds_every_chord_tone():
    for symbol in SYMBOLS:
        chord = make_chord(symbol)
        assert set(chord.pitch_classes) <= scale_for(chord), symbol


def test_quality_comes_from_pitch_classes_not_symbol():
    assert chord_quality(Chord(0, 4, root=2, pitch_classes=(2, 5, 9))) == "minor"


def test_parse_progression_bars_share_time_evenly():
    bars = parse_progression("Dm7 G7 | Cmaj7 | A7")
    assert [[chord.symbol for chord in bar] for bar in bars] == [["Dm7", "G7"], ["Cmaj7"], ["A7"]]
    assert [(chord.start, chord.duration) for chord in bars[0]] == [(0, 2), (2, 2)]
    assert [(chord.start, chord.duration) for chord in bars[1]] == [(0, 4)]
    assert bars[0][1].root == 7 and bars[0][1].pitch_classes == (2, 5, 7, 11)


def test_parse_progression_three_chords_in_three_four():
    bar, = parse_progression("| C Dm Em |", beats_per_bar=3)
    assert [chord.start for chord in bar] == [0, 1, 2]
    bar, = parse_progression("C Dm Em")
    assert [chord.duration for chord in bar] == [Fraction(4, 3)] * 3


@pytest.mark.parametrize("text", ["", "  |  ", "Dm7 || G7", "Dm7 | | G7", "Dm7 | Q7"])
def test_parse_progression_rejects_empty_bars_and_bad_symbols(text):
    with pytest.raises(MusicError):
        parse_progression(text)


def test_generation_modules_do_not_import_music21():
    code = ("import sys, music.chords, music.tokens.classic_grammar, music.tokens.prune, "
            "music.tokens.vocabulary; "
            "sys.exit('music21' in sys.modules)")
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=root).returncode == 0


@pytest.mark.parametrize("symbol, bass", [
    ("C/E", 4), ("C/Bb", 10), ("Dm7/G", 7), ("F/A", 9), ("Bb/F#", 6), ("C", None),
    ("G7", None), ("C/C", None)])
def test_slash_bass_is_recorded_and_sounds(symbol, bass):
    chord = make_chord(symbol)
    assert chord.bass == bass
    if bass is not None:
        assert bass in chord.pitch_classes


def test_chord_refuses_a_bass_outside_its_pitch_classes():
    with pytest.raises(ValueError, match="bass 4"):
        Chord(0, 4, root=0, pitch_classes=(0, 7), bass=4)


@pytest.mark.parametrize("symbol, root, pitch_classes", [
    ("F7(♭9)", 5, {5, 9, 0, 3, 6}),
    ("F7(b9)", 5, {5, 9, 0, 3, 6}),
    ("B♭7(♯11)", 10, {10, 2, 5, 8, 4}),
    ("E♭maj7", 3, {3, 7, 10, 2}),
])
def test_unicode_accidentals_in_root_and_alterations(symbol, root, pitch_classes):
    assert parse_chord_symbol(symbol) == (root, tuple(sorted(pitch_classes)))


@pytest.mark.parametrize("symbol", ["N.C.", "NC", "N.C", "n.c."])
def test_no_chord_spellings(symbol):
    assert is_no_chord(symbol)


@pytest.mark.parametrize("symbol", ["C", "Nc7", "N.C.7", "CN"])
def test_chords_are_not_no_chord(symbol):
    assert not is_no_chord(symbol)


def test_parse_progression_no_chord_leaves_a_gap_and_slash_keeps_its_bass():
    bars = parse_progression("Dm7 N.C. | NC | C/E")
    assert [[(chord.symbol, chord.start, chord.duration) for chord in bar] for bar in bars] == [
        [("Dm7", 0, 2)], [], [("C/E", 0, 4)]]
    assert bars[2][0].bass == 4 and bars[2][0].pitch_classes == (0, 4, 7)
    assert Measure(4, chords=bars[0]).chord_at(Fraction(3)) is None


def test_parse_progression_of_only_no_chord_is_refused():
    with pytest.raises(MusicError, match="only N.C."):
        parse_progression("N.C. | NC")


C_MAJOR = Chord(1, 1, 0, (0, 4, 7), "C")
G_MAJOR = Chord(3, 1, 7, (7, 11, 2), "G")


@pytest.mark.parametrize("offset, expected", [
    (0, None),                     # before the bar's first chord: no chord
    (1, C_MAJOR), (Fraction(3, 2), C_MAJOR),
    (2, None), (Fraction(5, 2), None),   # the gap between C and G is N.C.
    (3, G_MAJOR), (Fraction(7, 2), G_MAJOR),
    (4, None),                     # the bar line
])
def test_chord_at_gives_none_in_gaps(offset, expected):
    assert Measure(4, chords=[C_MAJOR, G_MAJOR]).chord_at(offset) == expected
    assert chord_at([C_MAJOR, G_MAJOR], offset) == expected


def test_chord_at_prefers_the_later_of_overlapping_chords():
    whole = Chord(0, 4, 0, (0, 4, 7), "C")
    second_half = Chord(2, 2, 5, (5, 9, 0), "F")
    measure = Measure(4, chords=[whole, second_half])
    assert [measure.chord_at(offset) for offset in range(4)] == [whole, whole, second_half,
                                                                 second_half]


def _tiles_every_bar(song) -> bool:
    """True when each bar's chords follow one another without gap from 0 to
    the bar length: then "no chord in a gap" never applies to the song."""
    for measure in song.measures:
        position = Fraction(0)
        for chord in measure.chords:
            if chord.start != position:
                return False
            position = chord.end
        if position != measure.length:
            return False
    return True


def _chord_at_before_no_chord_gaps(chords, offset):
    """The rule before N.C. gaps: the last chord started at or before
    ``offset``; before the bar's first chord, the first chord."""
    current = chords[0] if chords else None
    for chord in chords:
        if chord.start <= offset:
            current = chord
    return current


def _tokens_unchanged_by_no_chord_gaps(song, monkeypatch):
    from music.tokens.classic_grammar import encode_song

    assert _tiles_every_bar(song)
    tokens = encode_song(song)
    monkeypatch.setattr(music.song, "chord_at", _chord_at_before_no_chord_gaps)
    assert encode_song(song) == tokens
    return tokens


@pytest.mark.slow
def test_no_chord_gaps_leave_lead_sheet_tokens_unchanged(monkeypatch):
    from music.read.scores import load_song

    song = load_song("music21:leadSheet/fosterBrownHair.mxl")
    tokens = _tokens_unchanged_by_no_chord_gaps(song, monkeypatch)
    # Recorded from main before N.C. gaps (commit 5472e1c).
    assert tokens[:2] == [["R,2.000", "S,2.000,<+3,+7>"],
                          ["C,3.000,<-2,+2>", "C,1.000,<-7,-3>"]]


@pytest.mark.slow
def test_no_chord_gaps_leave_metheny_tokens_unchanged(metheny_path, monkeypatch):
    from music.read.scores import load_song

    _tokens_unchanged_by_no_chord_gaps(load_song(metheny_path), monkeypatch)


# ------------------------------------------------------ Jazzomat (WJazzD) syntax

# Worked out by hand from the semitone tables in music/read/jazzomat_chords.py's docstring.
JAZZOMAT = {
    "C": (0, {0, 4, 7}, None),
    "Bb-7": (10, {10, 1, 5, 8}, None),
    "Gj7": (7, {7, 11, 2, 6}, None),
    "Cm7b5": (0, {0, 3, 6, 10}, None),
    "C-7b5": (0, {0, 3, 6, 10}, None),
    "Eb7alt": (3, {3, 7, 1, 11, 6}, None),      # 7#5#9 on Eb: Eb G B Db F#
    "F7#11": (5, {5, 9, 0, 3, 11}, None),
    "F711#": (5, {5, 9, 0, 3, 11}, None),
    "C/E": (0, {0, 4, 7}, 4),
    "Bb6": (10, {10, 2, 5, 7}, None),
    "Eb-": (3, {3, 6, 10}, None),
    "F+": (5, {5, 9, 1}, None),
    "Do7": (2, {2, 5, 8, 11}, None),
    "Co": (0, {0, 3, 6}, None),
    "A79b": (9, {9, 1, 4, 7, 10}, None),
    "A7b9": (9, {9, 1, 4, 7, 10}, None),
    "A79b13": (9, {9, 1, 4, 7, 10, 6}, None),   # b9 and 13, WJazzD's postfix reading
    "A7913b": (9, {9, 1, 4, 7, 11, 5}, None),   # 9 and b13
    "C7b9#11": (0, {0, 4, 7, 10, 1, 6}, None),
    "D79#11#": (2, {2, 6, 9, 0, 5, 8}, None),
    "Ebj79#11#": (3, {3, 7, 10, 2, 6, 9}, None),
    "C7911": (0, {0, 4, 7, 10, 2, 5}, None),
    "F-69": (5, {5, 8, 0, 2, 7}, None),
    "C-j7": (0, {0, 3, 7, 11}, None),
    "F+j7": (5, {5, 9, 1, 4}, None),
    "Absus": (8, {8, 1, 3}, None),
    "Csus4": (0, {0, 5, 7}, None),
    "Gsus79": (7, {7, 0, 2, 5, 9}, None),
    "Csus7913": (0, {0, 5, 7, 10, 2, 9}, None),
    "C+79#": (0, {0, 4, 8, 10, 3}, None),
    "C7#5": (0, {0, 4, 8, 10}, None),
    "Cb7": (11, {11, 3, 6, 9}, None),
    "Fb-7": (4, {4, 7, 11, 2}, None),
    "A#-7": (10, {10, 1, 5, 8}, None),
    "D-7/C": (2, {2, 5, 9, 0}, 0),
    "Bj7/A#": (11, {11, 3, 6, 10}, 10),
    "Db-69/Db": (1, {1, 4, 8, 10, 3}, None),    # a bass equal to the root is no slash
    "Aj7911#/Ab": (9, {9, 1, 4, 8, 11, 3}, 8),
    "B♭7": (10, {10, 2, 5, 8}, None),
}


@pytest.mark.parametrize("symbol", sorted(JAZZOMAT))
def test_jazzomat_symbol(symbol):
    root, pitch_classes, bass = JAZZOMAT[symbol]
    assert parse_jazzomat_chord(symbol) == (root, tuple(sorted(pitch_classes)), bass)


@pytest.mark.parametrize("symbol", ["NC", "N.C.", " NC "])
def test_jazzomat_no_chord_is_none(symbol):
    assert parse_jazzomat_chord(symbol) is None
    assert jazzomat_chord(symbol) is None


def test_jazzomat_chord_carries_times_symbol_and_bass():
    chord = jazzomat_chord("C7/E", start=1, duration=2)
    assert (chord.start, chord.duration, chord.root, chord.pitch_classes, chord.symbol,
            chord.bass) == (1, 2, 0, (0, 4, 7, 10), "C7/E", 4)


@pytest.mark.parametrize("symbol, reason", [
    ("H7", "note name"), ("", "note name"), ("c7", "note name"),
    ("C13#", "#13"), ("C11b", "b11"), ("C5", "b5 or #5"), ("C77", "twice"),
    ("Cmaj7", "cannot read"), ("C7x", "cannot read"), ("C7b", "without a number"),
    ("C7b#9", "accidentals in a row"), ("C#b7", "an accidental cannot alter '7'"),
    ("C/H", "slash bass"), ("C/", "slash bass"), ("C/Ebb", "slash bass"),
])
def test_jazzomat_refuses_other_syntax_naming_the_symbol(symbol, reason):
    with pytest.raises(MusicError, match=re.escape(repr(symbol)) + ".*" + re.escape(reason)):
        parse_jazzomat_chord(symbol)


LETTER_PITCH_CLASSES = {"C": 0, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7,
                        "Ab": 8, "A": 9, "Bb": 10, "B": 11}
JAZZOMAT_ITEMS = ["7", "j7", "6", "9", "9b", "9#", "11", "11#", "13", "13b", "alt"]


@given(root=st.sampled_from(sorted(LETTER_PITCH_CLASSES)),
       quality=st.sampled_from(["", "-", "o", "+", "sus"]),
       items=st.lists(st.sampled_from(JAZZOMAT_ITEMS), max_size=4,
                      unique_by=lambda item: item.rstrip("b#")))
def test_jazzomat_chords_transpose_with_their_root(root, quality, items):
    suffix = quality + "".join(items)
    on_c = parse_jazzomat_chord("C" + suffix)
    shift = LETTER_PITCH_CLASSES[root]
    assert parse_jazzomat_chord(root + suffix) == (
        shift, tuple(sorted((pc + shift) % 12 for pc in on_c[1])), None)


def test_every_wjazzd_chord_symbol_parses():
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wjazzd"
    files = sorted(folder.glob("*/*.csv"))
    if not files:
        pytest.skip(f"{folder} is absent (it lives in ../shared/data beside the repo)")
    symbols = set()
    for file in files:
        with open(file, newline="") as handle:
            symbols.update(row["chord"] for row in csv.DictReader(handle))
    for symbol in sorted(symbols):
        parse_jazzomat_chord(symbol)  # raises MusicError naming an unreadable one


@pytest.mark.parametrize("letter, accidentals, pitch_class", [
    ("C", "", 0), ("B", "b", 10), ("F", "♯", 6), ("E", "#", 5), ("C", "b", 11),
    ("B", "#", 0), ("D", "bb", 0), ("g", "♭", 6)])
def test_note_pitch_class(letter, accidentals, pitch_class):
    assert note_pitch_class(letter, accidentals) == pitch_class


# Chords as musicians type them; intervals above the root worked out by hand
# (1=0 b9=1 9=2 #9/b3=3 3=4 4/11=5 #11/b5=6 5=7 #5/b13=8 6/13=9 b7=10 7=11).
TYPED = {
    "D13sus4": (2, {0, 5, 7, 10, 2, 9}),          # 1 4 5 b7 9 13
    "D13sus": (2, {0, 5, 7, 10, 2, 9}),
    "C13": (0, {0, 4, 7, 10, 2, 9}),              # the 11 left out, as voiced
    "Cm13": (0, {0, 3, 7, 10, 2, 5, 9}),          # minor keeps its 11
    "C13b9": (0, {0, 4, 7, 10, 1, 9}),            # b9 instead of the 9
    "C13#11": (0, {0, 4, 7, 10, 2, 6, 9}),
    "C7b9sus4": (0, {0, 5, 7, 10, 1}),
    "C7susb9": (0, {0, 5, 7, 10, 1}),
    "C7sus2": (0, {0, 2, 7, 10}),
    "Csus2": (0, {0, 2, 7}),
    "C7alt": (0, {0, 4, 8, 10, 3}),               # as music.read.jazzomat_chords: 7#5#9
    "C7+": (0, {0, 4, 8, 10}),
    "C7+5": (0, {0, 4, 8, 10}),
    "C7aug": (0, {0, 4, 8, 10}),
    "C+7": (0, {0, 4, 8, 10}),
    "C7-9": (0, {0, 4, 7, 10, 1}),
    "C7-5": (0, {0, 4, 6, 10}),
    "C7(#9,b13)": (0, {0, 4, 7, 10, 3, 8}),
    "C7#9#5": (0, {0, 4, 8, 10, 3}),
    "C7(13)": (0, {0, 4, 7, 10, 9}),              # a number after the 7 adds only itself
    "CmMaj7": (0, {0, 3, 7, 11}),
    "C-^7": (0, {0, 3, 7, 11}),
    "Cmaj9#11": (0, {0, 4, 7, 11, 2, 6}),
    "Cmaj13": (0, {0, 4, 7, 11, 2, 9}),
    "Cmaj": (0, {0, 4, 7}),
    "C^": (0, {0, 4, 7, 11}),
    "Cmadd9": (0, {0, 3, 7, 2}),
    "C(add9)": (0, {0, 4, 7, 2}),
    "Cm7(11)": (0, {0, 3, 7, 10, 5}),
    "C7(no3)": (0, {0, 7, 10}),
    "Cm7-5": (0, {0, 3, 6, 10}),
    "C-7b5": (0, {0, 3, 6, 10}),
    "C°": (0, {0, 3, 6}),
    "Cdim7": (0, {0, 3, 6, 9}),
    "Cmi9": (0, {0, 3, 7, 10, 2}),
    "C11": (0, {0, 4, 7, 10, 2, 5}),
    "C5": (0, {0, 7}),
    "Ab13sus4": (8, {0, 5, 7, 10, 2, 9}),
    "F#7(b9)/A#": (6, {0, 4, 7, 10, 1}),
    "Bbj7": (10, {0, 4, 7, 11}),                  # the Weimar Jazz Database's major seventh
    "C-j7": (0, {0, 3, 7, 11}),
    "Eh7": (4, {0, 3, 6, 10}),                    # iReal Pro's half-diminished
    "Eh": (4, {0, 3, 6, 10}),
}


@pytest.mark.parametrize("symbol", sorted(TYPED))
def test_typed_symbols(symbol):
    root, intervals = TYPED[symbol]
    assert parse_chord_symbol(symbol) == (root, tuple(sorted((root + i) % 12 for i in intervals)))


def test_suspended_and_altered_qualities():
    assert chord_quality(make_chord("D13sus4")) == "other"
    assert chord_quality(make_chord("G7alt")) == "augmented"
    assert chord_quality(make_chord("G7b9sus4")) == "other"
    assert chord_quality(make_chord("Cm7-5")) == "half-diminished"


def test_repeat_bar_sign_copies_the_bar_before():
    bars = parse_progression("Dm7 G7 | % | Cmaj7 | %")
    assert [[chord.symbol for chord in bar] for bar in bars] == [
        ["Dm7", "G7"], ["Dm7", "G7"], ["Cmaj7"], ["Cmaj7"]]
    assert [(chord.start, chord.duration) for chord in bars[1]] == [(0, 2), (2, 2)]


def test_slash_holds_the_chord_before_it_for_one_more_share():
    first, second = parse_progression("Dm7 / / G7 | / C")
    assert [(chord.symbol, chord.start, chord.duration) for chord in first] == [
        ("Dm7", 0, 3), ("G7", 3, 1)]
    assert [(chord.symbol, chord.start, chord.duration) for chord in second] == [
        ("G7", 0, 2), ("C", 2, 2)]


@pytest.mark.parametrize("text, fragments", [
    ("% | C", ["bar 1", "'%'"]),
    ("C | D7 % | G", ["bar 2", "'%'"]),
    ("/ C", ["bar 1", "'/'"]),
    ("C | F | Dm7 H7", ["bar 3", "'H7'"]),
    ("C | F7#13", ["bar 2", "'F7#13'", "#13"]),
])
def test_progression_errors_name_the_bar_and_symbol(text, fragments):
    with pytest.raises(MusicError) as raised:
        parse_progression(text)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_form_named_in_words_gets_a_hint():
    from music.progressions import progression_bars

    with pytest.raises(MusicError) as raised:
        progression_bars("blues in F")
    assert str(raised.value) == ("bar 1: cannot read chord symbol 'blues': 'lues' is not "
                                 "part of a chord symbol; for the blues form in F, write blues:F")
    with pytest.raises(MusicError, match="write rhythm:Bb$"):
        progression_bars("rhythm changes")      # the form's own key
    with pytest.raises(MusicError, match="'Q7' does not start with a note name A-G$"):
        progression_bars("Dm7 | Q7")
