import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from music.chords import (
    chord_quality,
    make_chord,
    parse_chord_symbol,
    parse_progression,
    scale_for,
)
from music.song import Chord, MusicError

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


@pytest.mark.parametrize("symbol", ["H7", "", "C7xyz", "/E", "Cmaj7sus4"])
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
    code = ("import sys, music.chords, music.grammar, music.prune, music.corpus; "
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
