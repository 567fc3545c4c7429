"""Chord symbols, chord qualities and the scale played over each chord.

Chord symbols are read by ``music21.harmony.ChordSymbol``, imported only
when a symbol is first parsed (importing music21 costs about a second and
generation never parses symbols); every parsed symbol is cached.  Jazz
spellings music21 does not accept are rewritten first: ``b``/``♭`` flats
(``Bb7`` -> ``B-7``), ``^``/``Δ`` (major seventh), ``-``/``mi``/``min``
(minor), ``ø`` (half-diminished), ``°`` (diminished), ``maj9``/``maj13``,
``6/9``/``69``, ``m(maj7)``, ``7alt``, ``9sus4`` and parenthesised
alterations such as ``7(b9)`` or ``7(♭9)``.  A slash bass (``C/E``) adds its
pitch class to the chord and is recorded as ``Chord.bass``; the root stays
the symbol's root.  ``N.C.`` (no chord) is not a chord: ``parse_progression``
leaves a gap for it.  (``music.jazzomat`` reads the Weimar Jazz Database's
own chord syntax without music21.)

Quality is read from the pitch classes relative to the root, first match
wins: augmented (major third, sharp fifth, no fifth), dominant (major third
and minor seventh), half-diminished (minor third, flat fifth, minor seventh,
no fifth), diminished (minor third, flat fifth, no fifth, no minor seventh),
major (major third), minor (minor third), otherwise other (sus and power
chords).

Scale per quality (``scale_for`` also adds the chord's own pitch classes,
so altered chord tones such as a b9 always count as in the scale):

* major -> Lydian: its non-chord notes (9, #11, 13) are all consonant
  tensions, whereas Ionian's 4 is the avoid note a half step above the 3rd.
* minor -> Dorian: the ii chord's mode in its parent key; the natural 6 is
  a usable tension, Aeolian's b6 is not.
* dominant -> Mixolydian: the V chord's mode in its parent key.
* half-diminished -> Locrian: the vii chord's mode in its parent key.
* diminished -> whole-half diminished: each added note lies a whole step
  above a chord tone, the diminished chord's available tensions.
* augmented -> whole tone: holds the augmented triad and the b7 of 7#5.
* other -> Mixolydian: the usual sus scale; it holds the 4, 5 and b7.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import cache

from music.song import Chord, MusicError

QUALITIES = ("major", "minor", "dominant", "half-diminished", "diminished",
             "augmented", "other")

# Semitones above the root.
SCALE_INTERVALS = {
    "major": (0, 2, 4, 6, 7, 9, 11),            # Lydian
    "minor": (0, 2, 3, 5, 7, 9, 10),            # Dorian
    "dominant": (0, 2, 4, 5, 7, 9, 10),         # Mixolydian
    "half-diminished": (0, 1, 3, 5, 6, 8, 10),  # Locrian
    "diminished": (0, 2, 3, 5, 6, 8, 9, 11),    # whole-half diminished
    "augmented": (0, 2, 4, 6, 8, 10),           # whole tone
    "other": (0, 2, 4, 5, 7, 9, 10),            # Mixolydian
}

_SYMBOL = re.compile(r"^([A-Ga-g])([#b♯♭]*)(.*?)(?:/([A-Ga-g])([#b♯♭]*))?$")

# Whole-suffix rewrites, tried after the generic ones below.
_SUFFIX_ALIASES = {
    "maj9": "M9", "maj11": "M11", "maj13": "M13", "M6": "6",
    "69": "6add9", "6/9": "6add9", "m69": "m6add9", "m6/9": "m6add9",
    "mmaj7": "mM7", "7alt": "7#5#9", "9sus4": "7sus4add9", "9sus": "7sus4add9",
    "ø": "ø7", "ma7": "maj7",
}


def _music21_accidentals(text: str) -> str:
    return text.replace("b", "-").replace("♭", "-").replace("♯", "#")


def _music21_suffix(suffix: str) -> str:
    suffix = suffix.replace(" ", "").replace("°", "o").replace("♭", "b").replace("♯", "#")
    suffix = re.sub(r"[\^Δ](?=\d)", "maj", suffix)
    suffix = re.sub(r"[\^Δ]", "maj7", suffix)
    suffix = re.sub(r"^(-|min|mi(?!n))", "m", suffix)
    if suffix.startswith("m("):
        suffix = suffix.replace("(", "").replace(")", "")
    suffix = _SUFFIX_ALIASES.get(suffix, suffix)
    # Parenthesised alterations: "7(b9,#11)" means "7b9#11".
    suffix = re.sub(r"[(),]", "", suffix)
    return _SUFFIX_ALIASES.get(suffix, suffix)


def _music21_symbol(text: str) -> str:
    match = _SYMBOL.match(text.strip())
    if match is None:
        raise MusicError(f"chord symbol {text!r} does not start with a note name A-G")
    letter, accidentals, suffix, bass_letter, bass_accidentals = match.groups()
    symbol = letter.upper() + _music21_accidentals(accidentals) + _music21_suffix(suffix)
    if bass_letter:
        symbol += "/" + bass_letter.upper() + _music21_accidentals(bass_accidentals)
    return symbol


@cache
def parse_chord_symbol(text: str) -> tuple:
    """``(root_pc, pitch_classes)`` of a jazz chord symbol such as "Bb7".

    root_pc:       pitch class 0..11 of the symbol's root (not its bass)
    pitch_classes: sorted tuple of distinct pitch classes 0..11
    Raises MusicError naming the symbol when it cannot be read.
    """
    symbol = _music21_symbol(text)
    from music21 import harmony  # slow import, paid only when parsing symbols

    try:
        chord_symbol = harmony.ChordSymbol(symbol)
        root_pc = chord_symbol.root().pitchClass
        pitch_classes = tuple(sorted({pitch.pitchClass for pitch in chord_symbol.pitches}))
    except Exception as error:  # noqa: BLE001 -- music21 raises several unrelated types
        raise MusicError(f"cannot read chord symbol {text!r}: {error}") from None
    if root_pc not in pitch_classes or len(pitch_classes) < 2:
        raise MusicError(f"cannot read chord symbol {text!r}: music21 read {symbol!r} "
                         f"as pitch classes {pitch_classes}")
    return root_pc, pitch_classes


_LETTER_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_pitch_class(letter: str, accidentals: str = "") -> int:
    """Pitch class of a note name: ("B", "b") -> 10, ("F", "♯") -> 6; any
    number of ``b``/``♭`` flats and ``#``/``♯`` sharps."""
    sharps = sum(mark in "#♯" for mark in accidentals)
    return (_LETTER_PITCH_CLASS[letter.upper()] + sharps - (len(accidentals) - sharps)) % 12


def _slash_bass(text: str, root_pc: int):
    """The slash bass pitch class of a symbol ("C/E" -> 4), None without one
    or when it is the root."""
    match = _SYMBOL.match(text.strip())
    if match is None or not match.group(4):
        return None
    bass = note_pitch_class(match.group(4), match.group(5))
    return None if bass == root_pc else bass


def make_chord(text: str, start=0, duration=4) -> Chord:
    """A Chord for a symbol; start and duration in quarter lengths; a slash
    bass is both among the pitch classes and recorded as ``bass``."""
    root_pc, pitch_classes = parse_chord_symbol(text)
    return Chord(start=start, duration=duration, root=root_pc, pitch_classes=pitch_classes,
                 symbol=text.strip(), bass=_slash_bass(text, root_pc))


_NO_CHORD = re.compile(r"^N\.?C\.?$", re.IGNORECASE)


def is_no_chord(symbol: str) -> bool:
    """True for the "no chord" symbols N.C., NC and N.C (any case)."""
    return bool(_NO_CHORD.match(symbol.strip()))


def parse_progression(text: str, beats_per_bar=4) -> list:
    """One list of Chords per bar of a progression such as "Dm7 G7 | Cmaj7".

    Bars are separated by "|" (one leading and one trailing "|" are
    allowed) and chords inside a bar by spaces; the chords of a bar share
    it evenly.  ``N.C.`` (or ``NC``) takes its share of the bar like a
    chord but leaves it as a gap, where no chord sounds: "Dm7 N.C." is Dm7
    for the first half bar, nothing for the second; a bar of only N.C. has
    no chords.  beats_per_bar is the bar length in quarter lengths.
    Raises MusicError for an empty progression, an empty bar, a progression
    with no chord besides N.C., or an unreadable symbol.
    """
    bar_length = Fraction(beats_per_bar)
    if bar_length <= 0:
        raise MusicError(f"beats per bar must be > 0, got {beats_per_bar}")
    body = text.strip().removeprefix("|").removesuffix("|")
    if not body.strip():
        raise MusicError(f"chord progression {text!r} has no chords")
    bars = []
    for number, bar_text in enumerate(body.split("|"), start=1):
        symbols = bar_text.split()
        if not symbols:
            raise MusicError(f"bar {number} of chord progression {text!r} is empty")
        share = bar_length / len(symbols)
        bars.append([make_chord(symbol, start=index * share, duration=share)
                     for index, symbol in enumerate(symbols) if not is_no_chord(symbol)])
    if not any(bars):
        raise MusicError(f"chord progression {text!r} has no chords, only N.C.")
    return bars


@cache
def _quality_of(root: int, pitch_classes: tuple) -> str:
    intervals = {(pc - root) % 12 for pc in pitch_classes}
    major_third, minor_third = 4 in intervals, 3 in intervals
    fifth, flat_fifth, sharp_fifth = 7 in intervals, 6 in intervals, 8 in intervals
    minor_seventh = 10 in intervals
    if major_third and sharp_fifth and not fifth:
        return "augmented"
    if major_third and minor_seventh:
        return "dominant"
    if minor_third and flat_fifth and not fifth:
        return "half-diminished" if minor_seventh else "diminished"
    if major_third:
        return "major"
    if minor_third:
        return "minor"
    return "other"


def chord_quality(chord: Chord) -> str:
    """One of QUALITIES, read from the chord's pitch classes above its root."""
    return _quality_of(chord.root, chord.pitch_classes)


@cache
def _scale_of(root: int, pitch_classes: tuple) -> frozenset:
    mode = SCALE_INTERVALS[_quality_of(root, pitch_classes)]
    return frozenset((root + step) % 12 for step in mode) | frozenset(pitch_classes)


def scale_for(chord: Chord) -> frozenset:
    """Pitch classes 0..11 of the chord's scale (see the module docstring)."""
    return _scale_of(chord.root, chord.pitch_classes)
