"""Chord symbols in the Jazzomat syntax of the Weimar Jazz Database.

The Weimar Jazz Database (WJazzD) labels its chords in the MeloSpy syntax,
which is read here in plain Python (no music21: 410 solos must load in
seconds).  A symbol is ``ROOT QUALITY ITEMS [/BASS]`` or ``NC``:

* ROOT, BASS: a letter A-G and at most one accidental ``b`` or ``#``
  (``♭``/``♯`` are accepted too).
* QUALITY, the triad (semitones above the root): none = major (0 4 7),
  ``-`` or ``m`` = minor (0 3 7), ``o`` = diminished (0 3 6), ``+`` =
  augmented (0 4 8), ``sus``/``sus4`` = suspended fourth (0 5 7).
* ITEMS, each adding to the triad: ``7`` minor seventh (10; diminished
  seventh 9 after ``o``), ``j7`` major seventh (11), ``6`` sixth (9),
  ``9`` (2), ``11`` (5), ``13`` (9), ``5`` altering the fifth, and ``alt``
  (the altered dominant, read like music.chords' ``7alt`` = ``7#5#9``:
  minor seventh, sharp fifth, sharp ninth).
* An accidental alters 9 (``b`` 1, ``#`` 3), 11 (``#`` 6), 13 (``b`` 8) or
  5 (``b`` 6, ``#`` 8; the fifth is replaced).  WJazzD writes it AFTER the
  number (``79b`` = 7 and b9, ``7911#`` = 7, 9 and #11); the common prefix
  spelling (``7b9``, ``7#11``, ``m7b5``) is read too.  The rule that keeps
  both unambiguous: an accidental belongs to the number before it when that
  number is 9, 11, 13 or 5 and has no accidental yet, otherwise to the
  number after it.  So ``79b13`` is 7, b9, 13 (WJazzD's meaning), never
  7, 9, b13.
* Nothing is implied: the seventh is written (``79`` is a ninth chord,
  ``9`` alone adds only the ninth, ``69`` is a sixth with a ninth).
* A slash bass adds its pitch class to the chord and is kept as
  ``Chord.bass``; the root stays the symbol's root.

``NC`` (also ``N.C.``) is no chord: ``parse_jazzomat_chord`` returns None.
Anything else that does not follow this syntax raises MusicError naming
the symbol.
"""
from __future__ import annotations

import re
from functools import cache

from music.chords import is_no_chord, note_pitch_class
from music.song import Chord, MusicError

_ACCIDENTALS = {"b": -1, "♭": -1, "#": 1, "♯": 1}
_NOTE = re.compile(r"([A-G])([b#♭♯]?)")

# Triad of each quality, semitones above the root; longest spelling first.
_QUALITIES = (("sus4", (0, 5, 7)), ("sus", (0, 5, 7)), ("-", (0, 3, 7)), ("m", (0, 3, 7)),
              ("o", (0, 3, 6)), ("+", (0, 4, 8)), ("", (0, 4, 7)))

# Semitones above the root of each tension by its accidental (None: natural).
_TENSIONS = {
    "9": {None: 2, -1: 1, 1: 3},
    "11": {None: 5, 1: 6},
    "13": {None: 9, -1: 8},
    "5": {-1: 6, 1: 8},
}
_ITEM = re.compile(r"j7|alt|13|11|9|7|6|5|[b#♭♯]")


@cache
def parse_jazzomat_chord(symbol: str):
    """``(root, pitch_classes, bass)`` of a Jazzomat chord symbol, or None
    for ``NC``.

    root:          pitch class 0..11 of the symbol's root
    pitch_classes: sorted tuple of distinct pitch classes 0..11
    bass:          pitch class of a slash bass other than the root, else None
    Raises MusicError naming the symbol when it does not follow the syntax.
    """
    text = symbol.strip()
    if is_no_chord(text):
        return None
    body, _, bass_text = text.partition("/")
    root_match = _NOTE.match(body)
    if root_match is None:
        raise MusicError(f"chord symbol {symbol!r} does not start with a note name A-G")
    root = note_pitch_class(*root_match.groups())
    suffix = body[root_match.end():]
    quality, triad = next((name, triad) for name, triad in _QUALITIES
                          if suffix.startswith(name))
    intervals = set(triad)
    try:
        _add_items(intervals, suffix[len(quality):], diminished=quality == "o")
    except ValueError as error:
        raise MusicError(f"chord symbol {symbol!r}: {error}") from None
    pitch_classes = {(root + interval) % 12 for interval in intervals}
    bass = None
    if bass_text or text.endswith("/"):
        bass_match = _NOTE.fullmatch(bass_text)
        if bass_match is None:
            raise MusicError(f"chord symbol {symbol!r}: the slash bass {bass_text!r} is "
                             f"not a note name A-G with at most one accidental")
        bass = note_pitch_class(*bass_match.groups())
        pitch_classes.add(bass)
        bass = None if bass == root else bass
    return root, tuple(sorted(pitch_classes)), bass


def jazzomat_chord(symbol: str, start=0, duration=1) -> Chord | None:
    """A Chord for a Jazzomat symbol (start and duration in quarter
    lengths), or None for ``NC``."""
    parsed = parse_jazzomat_chord(symbol)
    if parsed is None:
        return None
    root, pitch_classes, bass = parsed
    return Chord(start, duration, root, pitch_classes, symbol.strip(), bass)


def _add_items(intervals: set, items: str, diminished: bool):
    """Add the semitones of ``items`` (the symbol after its quality) to
    ``intervals``; ValueError for anything outside the syntax."""
    tokens = []
    position = 0
    while position < len(items):
        match = _ITEM.match(items, position)
        if match is None:
            raise ValueError(f"cannot read {items[position:]!r}")
        tokens.append(match.group())
        position = match.end()
    seen = set()
    pending = None          # a prefix accidental waiting for its number
    last_tension = None     # [number, accidental] that may still take a postfix one
    for token in tokens:
        if token in _ACCIDENTALS:
            step = _ACCIDENTALS[token]
            if last_tension is not None and last_tension[1] is None and pending is None:
                last_tension[1] = step
            elif pending is None:
                pending = step
            else:
                raise ValueError(f"two accidentals in a row in {items!r}")
            continue
        if token in seen:
            raise ValueError(f"{token!r} appears twice")
        seen.add(token)
        if last_tension is not None:
            _add_tension(intervals, *last_tension)
            last_tension = None
        if token in _TENSIONS:
            last_tension = [token, pending]
        elif pending is not None:
            raise ValueError(f"an accidental cannot alter {token!r}")
        else:
            _add_plain_item(intervals, token, diminished)
        pending = None
    if pending is not None:
        raise ValueError(f"an accidental ends {items!r} without a number")
    if last_tension is not None:
        _add_tension(intervals, *last_tension)


def _add_plain_item(intervals: set, token: str, diminished: bool):
    if token == "7":
        intervals.add(9 if diminished else 10)
    elif token == "j7":
        intervals.add(11)
    elif token == "6":
        intervals.add(9)
    else:  # alt: minor seventh, sharp fifth instead of the fifth, sharp ninth
        intervals.discard(7)
        intervals.update((10, 8, 3))


def _add_tension(intervals: set, number: str, step):
    choices = _TENSIONS[number]
    if step not in choices:
        spelling = {None: "", -1: "b", 1: "#"}[step]
        raise ValueError(f"there is no {spelling}{number} tension"
                         if number != "5" else "5 needs an accidental (b5 or #5)")
    if number == "5":
        intervals.discard(7)
    intervals.add(choices[step])
