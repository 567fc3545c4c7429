"""Chord symbols, chord qualities and the scale played over each chord.

Chord symbols are read here in plain Python, as musicians type them (no
music21: it refused ``D13sus4`` and ``7b9sus4`` and read ``13b9`` with a
natural ninth).  A symbol is ``ROOT [QUALITY] ITEMS [/BASS]``:

* ROOT, BASS: a letter A-G and any ``b``/``♭`` flats or ``#``/``♯`` sharps.
  A slash bass adds its pitch class to the chord and is recorded as
  ``Chord.bass``; the root stays the symbol's root.
* QUALITY, the triad (semitones above the root): none = major (0 4 7);
  ``m``, ``mi``, ``min`` or ``-`` = minor (0 3 7); ``dim``, ``o`` or ``°`` =
  diminished (0 3 6; its 7 is the diminished seventh, 9); ``ø`` or ``h``
  (iReal Pro's) = half-diminished (0 3 6 10); ``aug`` or ``+`` = augmented
  (0 4 8); ``maj``, ``ma``, ``M`` or ``j`` (the Weimar Jazz Database's) =
  major, making a following 7, 9, 11 or 13 a major seventh chord; ``^``,
  ``Δ`` or ``△`` = major seventh (``Cmaj`` is a triad, ``C^`` a major
  seventh chord).
* ITEMS, in any order, optionally in parentheses and separated by commas:
  ``7`` (the seventh: 10, or 11 after a major marker, 9 after dim); ``9``,
  ``11``, ``13`` (the seventh and the tensions below: 9 = 2, 11 = 5, 13 = 9;
  a 13 chord leaves out the 11 unless it is minor or suspended, as it is
  voiced); ``6`` (9); ``69`` or ``6/9`` (9 and 2); ``5`` alone (a power
  chord: no third); ``2`` (adds 2); a major marker after the quality
  (``m(maj7)``, ``mM7``, ``-^7``); ``sus``/``sus4`` (a fourth, 5, instead of
  the third), ``sus2`` (2 instead of the third); ``add`` with a tension
  (``add9``, ``add11``, ``add13``, ``add2``, ``add4``, ``add6``, with an
  accidental too); ``no3``/``omit3``, ``no5``/``omit5``; ``alt`` (the
  altered dominant, minor seventh, sharp fifth, sharp ninth: ``7#5#9``, as
  ``music.read.jazzomat_chords`` reads it); ``+`` or ``aug`` after the seventh (``7+``,
  a sharp fifth); and alterations ``b5``, ``#5``, ``b9``, ``#9``, ``#11``,
  ``b13`` (also ``b6``, ``#4``; ``-`` and ``+`` for ``b`` and ``#``), each
  replacing the natural tone of its degree (``13b9`` has no natural 9).  A
  number after another (``7(13)``, ``79``) adds only that tension.

``N.C.`` (no chord) is not a chord: ``parse_progression`` leaves a gap for
it.  (``music.read.jazzomat_chords`` reads the Weimar Jazz Database's own chord syntax.)

A progression is bars separated by ``|``, chords inside a bar by spaces:
the chords of a bar share it evenly; ``/`` plays the chord before it for
one more share (``Dm7 / G7 /``), and a bar of only ``%`` repeats the bar
before it, as on a lead sheet.

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

# The spelling music21 reads, which music.leadsheet gives music21 to write a symbol's
# MusicXML chord kind (reading symbols is parse_chord_symbol's, below).
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


def music21_symbol(text: str) -> str:
    match = _SYMBOL.match(text.strip())
    if match is None:
        raise MusicError(f"chord symbol {text!r} does not start with a note name A-G")
    letter, accidentals, suffix, bass_letter, bass_accidentals = match.groups()
    symbol = letter.upper() + _music21_accidentals(accidentals) + _music21_suffix(suffix)
    if bass_letter:
        symbol += "/" + bass_letter.upper() + _music21_accidentals(bass_accidentals)
    return symbol


_LETTER_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_pitch_class(letter: str, accidentals: str = "") -> int:
    """Pitch class of a note name: ("B", "b") -> 10, ("F", "♯") -> 6; any
    number of ``b``/``♭`` flats and ``#``/``♯`` sharps."""
    sharps = sum(mark in "#♯" for mark in accidentals)
    return (_LETTER_PITCH_CLASS[letter.upper()] + sharps - (len(accidentals) - sharps)) % 12


_ROOT = re.compile(r"([A-Ga-g])([#b♯♭]*)")
_BASS = re.compile(r"/([A-Ga-g])([#b♯♭]*)$")
# Qualities that only the start of a suffix spells (major marks, aug and + mean the
# same anywhere, so they are items).
_QUALITY = re.compile(r"min|mi|m(?!a(?:j|\d|$))|-|dim|o|ø|h")
_ITEM = re.compile(
    r"(?P<separator>[(),\s])"
    r"|(?P<major>maj|Maj|MAJ|ma|M|j|\^|Δ|△)"
    r"|sus(?P<sus>[24]?)"
    r"|add(?P<add_accidental>[b#+-]?)(?P<add>13|11|9|6|4|2)"
    r"|(?:omit|no)(?P<omit>[35])"
    r"|(?P<alt>alt)"
    r"|(?P<accidental>[b#+-])(?P<altered>13|11|9|6|5|4)"
    r"|(?P<sharp_fifth>aug|\+)"
    r"|(?P<number>13|11|69|9|7|6|5|2)")
# Semitones of a tension by degree and accidental; the key is the degree it replaces.
_TENSIONS = {("9", ""): (9, 2), ("9", "b"): (9, 1), ("9", "#"): (9, 3),
             ("11", ""): (11, 5), ("11", "#"): (11, 6), ("4", ""): (11, 5), ("4", "#"): (11, 6),
             ("13", ""): (13, 9), ("13", "b"): (13, 8), ("6", ""): (13, 9), ("6", "b"): (13, 8),
             ("2", ""): (9, 2), ("5", "b"): (5, 6), ("5", "#"): (5, 8)}
# The natural tension each extension implies, by degree.
_NATURAL_TENSIONS = {9: 2, 11: 5, 13: 9}


class _Spelling:
    """What a chord symbol's suffix says, item by item (see the module docstring)."""

    def __init__(self):
        self.third = 4
        self.fifth = 7
        self.seventh = False
        self.major_seventh = False
        self.diminished = False
        self.sixth = False
        self.power = False
        self.suspended = set()
        self.extension = 0          # the highest of 7, 9, 11, 13 written
        self.tensions = {}          # degree -> semitones written for it
        self.omitted = set()

    def quality(self, word: str) -> None:
        if word in ("ø", "h"):
            self.third, self.fifth, self.seventh = 3, 6, True
        elif word in ("dim", "o"):
            self.third, self.fifth, self.diminished = 3, 6, True
        else:                       # min, mi, m, -
            self.third = 3

    def major(self, word: str) -> None:
        """maj, ma, M, or ^, Δ, △ (these imply the seventh)."""
        self.major_seventh = True
        self.seventh = self.seventh or word in ("^", "Δ", "△")

    def number(self, number: str) -> None:
        if self.extension or self.sixth:
            self.tension(number, "")        # a number after another adds only its tension
        elif number in ("7", "9", "11", "13"):
            self.seventh, self.extension = True, int(number)
        elif number in ("6", "69"):
            self.sixth = True
            if number == "69":
                self.tension("9", "")
        elif number == "5":
            self.power = True
        else:                               # 2
            self.tension(number, "")

    def tension(self, number: str, accidental: str) -> None:
        accidental = {"+": "#", "-": "b"}.get(accidental, accidental)
        if (number, accidental) not in _TENSIONS:
            raise ValueError(f"{accidental}{number} is not a tone a chord symbol adds "
                             "(9, b9, #9, 11, #11, 13, b13, b5, #5)")
        degree, semitones = _TENSIONS[number, accidental]
        self.tensions.setdefault(degree, set()).add(semitones)

    def intervals(self) -> set:
        """Semitones above the root."""
        intervals = {0}
        if self.suspended:
            intervals |= self.suspended
        elif not self.power and 3 not in self.omitted:
            intervals.add(self.third)
        if 5 not in self.omitted:
            intervals |= self.tensions.get(5, {self.fifth})
        if self.sixth:
            intervals.add(9)
        if self.seventh:
            intervals.add(11 if self.major_seventh else 9 if self.diminished else 10)
        for degree, natural in _NATURAL_TENSIONS.items():
            implied = self.extension >= degree and (
                degree != 11 or self.extension == 11 or self.third == 3 or self.suspended)
            intervals |= self.tensions.get(degree, {natural} if implied else set())
        return intervals

    def read(self, suffix: str) -> None:
        """Take in a whole suffix; ValueError naming the first part that is not an item."""
        position = 0
        quality = _QUALITY.match(suffix)
        if quality is not None:
            self.quality(quality.group())
            position = quality.end()
        while position < len(suffix):
            item = _ITEM.match(suffix, position)
            if item is None:
                raise ValueError(f"{suffix[position:]!r} is not part of a chord symbol")
            self.item(item)
            position = item.end()

    def item(self, item) -> None:
        kind = item.lastgroup
        if kind == "major":
            self.major(item.group("major"))
        elif kind == "sus":
            self.suspended.add(2 if item.group("sus") == "2" else 5)
        elif kind == "add":
            self.tension(item.group("add"), item.group("add_accidental"))
        elif kind == "omit":
            self.omitted.add(int(item.group("omit")))
        elif kind == "alt":
            self.seventh = True
            self.tensions[5] = {8}
            self.tension("9", "#")
        elif kind == "altered":
            self.tension(item.group("altered"), item.group("accidental"))
        elif kind == "sharp_fifth":
            self.tension("5", "#")
        elif kind == "number":
            self.number(item.group("number"))


def _clean_suffix(suffix: str) -> str:
    return (suffix.replace("♭", "b").replace("♯", "#").replace("°", "o")
            .replace("6/9", "69"))


@cache
def _parsed_symbol(text: str) -> tuple:
    """(root, pitch_classes, bass or None) of a chord symbol (module docstring)."""
    symbol = text.strip()
    root_match = _ROOT.match(symbol)
    if root_match is None:
        raise MusicError(f"chord symbol {text!r} does not start with a note name A-G")
    root = note_pitch_class(*root_match.groups())
    body = _clean_suffix(symbol[root_match.end():])
    bass_match = _BASS.search(body)
    bass = None
    if bass_match is not None:
        bass = note_pitch_class(*bass_match.groups())
        body = body[:bass_match.start()]
    spelling = _Spelling()
    try:
        spelling.read(body)
    except ValueError as error:
        raise MusicError(f"cannot read chord symbol {text!r}: {error}") from None
    pitch_classes = {(root + interval) % 12 for interval in spelling.intervals()}
    if bass is not None:
        pitch_classes.add(bass)
    return root, tuple(sorted(pitch_classes)), None if bass == root else bass


def parse_chord_symbol(text: str) -> tuple:
    """``(root_pc, pitch_classes)`` of a jazz chord symbol such as "Bb7".

    root_pc:       pitch class 0..11 of the symbol's root (not its bass)
    pitch_classes: sorted tuple of distinct pitch classes 0..11
    Raises MusicError naming the symbol when it cannot be read.
    """
    return _parsed_symbol(text)[:2]


def make_chord(text: str, start=0, duration=4) -> Chord:
    """A Chord for a symbol; start and duration in quarter lengths; a slash
    bass is both among the pitch classes and recorded as ``bass``."""
    root_pc, pitch_classes, bass = _parsed_symbol(text)
    return Chord(start=start, duration=duration, root=root_pc, pitch_classes=pitch_classes,
                 symbol=text.strip(), bass=bass)


_NO_CHORD = re.compile(r"^N\.?C\.?$", re.IGNORECASE)


def is_no_chord(symbol: str) -> bool:
    """True for the "no chord" symbols N.C., NC and N.C (any case)."""
    return bool(_NO_CHORD.match(symbol.strip()))


REPEAT_BAR = "%"
REPEAT_CHORD = "/"


def parse_progression(text: str, beats_per_bar=4) -> list:
    """One list of Chords per bar of a progression such as "Dm7 G7 | Cmaj7".

    Bars are separated by "|" (one leading and one trailing "|" are
    allowed) and chords inside a bar by spaces; the chords of a bar share
    it evenly, and a "/" gives the chord before it one more share ("Dm7 / /
    G7" is Dm7 for three beats of 4/4; a bar starting with "/" goes on with
    the chord before the bar line).  A bar of only "%" repeats the bar
    before it.  ``N.C.`` (or ``NC``) takes its share of the bar like a
    chord but leaves it as a gap, where no chord sounds: "Dm7 N.C." is Dm7
    for the first half bar, nothing for the second; a bar of only N.C. has
    no chords.  beats_per_bar is the bar length in quarter lengths.
    Raises MusicError for an empty progression, an empty bar, a progression
    with no chord besides N.C., or an unreadable symbol (naming its bar).
    """
    bar_length = Fraction(beats_per_bar)
    if bar_length <= 0:
        raise MusicError(f"beats per bar must be > 0, got {beats_per_bar}")
    body = text.strip().removeprefix("|").removesuffix("|")
    if not body.strip():
        raise MusicError(f"chord progression {text!r} has no chords")
    bars = []
    previous = []           # the bar before, as [symbol, shares] pairs
    for number, bar_text in enumerate(body.split("|"), start=1):
        symbols = bar_text.split()
        if not symbols:
            raise MusicError(f"bar {number} of chord progression {text!r} is empty")
        if symbols == [REPEAT_BAR]:
            if not previous:
                raise MusicError(f"bar 1 of chord progression {text!r} is {REPEAT_BAR!r}, "
                                 "which repeats the bar before it; there is none")
            bars.append(list(bars[-1]))
            continue
        previous = _bar_shares(symbols, previous, number)
        share = bar_length / len(symbols)
        bar, start = [], Fraction(0)
        for symbol, shares in previous:
            if not is_no_chord(symbol):
                try:
                    bar.append(make_chord(symbol, start=start, duration=share * shares))
                except MusicError as error:
                    raise MusicError(f"bar {number}: {error}") from None
            start += share * shares
        bars.append(bar)
    if not any(bars):
        raise MusicError(f"chord progression {text!r} has no chords, only N.C.")
    return bars


def _bar_shares(symbols, previous, number) -> list:
    """[symbol, shares] pairs of one bar's symbols: "/" adds a share to the chord
    before it, or at the start of a bar continues the last chord of ``previous``."""
    pairs = []
    for symbol in symbols:
        if symbol == REPEAT_BAR:
            raise MusicError(f"bar {number}: {REPEAT_BAR!r} repeats a whole bar and stands "
                             "alone between bar lines")
        if symbol != REPEAT_CHORD:
            pairs.append([symbol, 1])
        elif pairs:
            pairs[-1][1] += 1
        elif previous:
            pairs.append([previous[-1][0], 1])
        else:
            raise MusicError(f"bar {number}: {REPEAT_CHORD!r} goes on with the chord before "
                             "it; there is none")
    return pairs


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
