"""Plain value classes for a song: notes, chords, measures.

Everything inside the ``music`` package speaks these types; music21 objects
never leave the reading module.  Times are ``fractions.Fraction`` quarter
lengths so that triplets stay exact (1/3 + 1/3 + 1/3 == 1).

Conventions
-----------
* ``Note.start`` and ``Chord.start`` are measured from the start of their
  measure, not from the start of the song.
* A rest is a ``Note`` whose ``pitch`` is ``None``.
* The notes of a measure are sorted by start and never overlap; a gap
  between two notes is silence (encoders treat it as a rest).
* A chord's ``pitch_classes`` are sorted, distinct, in 0..11, and contain
  its ``root`` and its slash ``bass`` when it has one.
* A bar's chords may leave gaps: there no chord sounds (N.C.); see
  ``chord_at``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property


class MusicError(Exception):
    """A file, chord symbol or option the music package cannot use.

    The message names the file or value and what is wrong with it, in one
    line, so that the CLI can print it as ``error: <message>``.
    """


def as_fraction(value) -> Fraction:
    """Quarter lengths as an exact Fraction (floats are read to 1/480)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(value).limit_denominator(480)


@dataclass(frozen=True)
class Note:
    """One melody note or rest.

    start:    quarter lengths from the start of the measure (>= 0)
    duration: quarter lengths (> 0)
    pitch:    MIDI pitch 0..127, or None for a rest
    velocity: MIDI velocity 1..127 (ignored for rests)
    """

    start: Fraction
    duration: Fraction
    pitch: int | None = None
    velocity: int = 90

    def __post_init__(self):
        object.__setattr__(self, "start", as_fraction(self.start))
        object.__setattr__(self, "duration", as_fraction(self.duration))
        if self.start < 0:
            raise ValueError(f"note start must be >= 0, got {self.start}")
        if self.duration <= 0:
            raise ValueError(f"note duration must be > 0, got {self.duration}")
        if self.pitch is not None and not (0 <= int(self.pitch) <= 127):
            raise ValueError(f"note pitch must be in 0..127 or None, got {self.pitch}")
        if not (1 <= int(self.velocity) <= 127):
            raise ValueError(f"note velocity must be in 1..127, got {self.velocity}")

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @cached_property  # Notes are shared, and bars check their ends whenever they are made
    def end(self) -> Fraction:
        return self.start + self.duration


@dataclass(frozen=True)
class Chord:
    """A chord sounding inside one measure.

    start, duration: quarter lengths, start from the start of the measure
    root:            pitch class 0..11
    pitch_classes:   sorted distinct pitch classes 0..11, containing root
                     and bass
    symbol:          the chord symbol when known ("Dm7"), else ""
    bass:            pitch class 0..11 of a slash bass ("C/E" -> 4), or None
                     when the root is the bass
    """

    start: Fraction
    duration: Fraction
    root: int
    pitch_classes: tuple
    symbol: str = ""
    bass: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "start", as_fraction(self.start))
        object.__setattr__(self, "duration", as_fraction(self.duration))
        pcs = tuple(sorted({int(pc) for pc in self.pitch_classes}))
        object.__setattr__(self, "pitch_classes", pcs)
        if self.start < 0:
            raise ValueError(f"chord start must be >= 0, got {self.start}")
        if self.duration <= 0:
            raise ValueError(f"chord duration must be > 0, got {self.duration}")
        if not (0 <= self.root <= 11):
            raise ValueError(f"chord root must be a pitch class 0..11, got {self.root}")
        if not pcs or pcs[0] < 0 or pcs[-1] > 11:
            raise ValueError(f"chord pitch classes must lie in 0..11, got {self.pitch_classes}")
        if self.root not in pcs:
            raise ValueError(f"chord root {self.root} is not among its pitch classes {pcs}")
        if self.bass is not None and self.bass not in pcs:
            raise ValueError(f"chord bass {self.bass} is not among its pitch classes {pcs}")

    @property
    def end(self) -> Fraction:
        return self.start + self.duration


@dataclass(frozen=True)
class Measure:
    """One bar: its length, melody notes and rests, and chords.

    length: quarter lengths of the bar (4 for 4/4, 3 for 3/4, 3 for 6/8)
    """

    length: Fraction
    notes: tuple = ()
    chords: tuple = ()
    number: int = 0

    def __post_init__(self):
        object.__setattr__(self, "length", as_fraction(self.length))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "chords", tuple(self.chords))
        if self.length <= 0:
            raise ValueError(f"measure length must be > 0, got {self.length}")
        previous_end = Fraction(0)
        for note in self.notes:
            if note.start < previous_end:
                raise ValueError(
                    f"measure {self.number}: notes overlap or are unsorted at {note.start}")
            previous_end = note.end
        if previous_end > self.length:
            raise ValueError(
                f"measure {self.number}: notes end at {previous_end}, past the bar length {self.length}")
        for chord in self.chords:
            if chord.end > self.length:
                raise ValueError(
                    f"measure {self.number}: chord {chord.symbol or chord.pitch_classes} "
                    f"ends at {chord.end}, past the bar length {self.length}")

    def chord_at(self, offset) -> Chord | None:
        """The chord sounding at ``offset``, or None (see ``chord_at``)."""
        return chord_at(self.chords, offset)


def chord_at(chords, offset) -> Chord | None:
    """The chord of ``chords`` sounding at ``offset`` (quarter lengths from
    the bar start): the last one with ``start <= offset < end``.

    None where no chord sounds: a gap in the bar's chord list is "no chord"
    (N.C.), and so is the time before the bar's first chord starts and after
    its last chord ends.  Bars read from files and progressions without
    N.C. have chords that tile the bar, so there every offset in the bar
    has a chord.
    """
    current = None
    for chord in chords:
        if chord.start <= offset < chord.end:
            current = chord
    return current


@dataclass(frozen=True)
class Song:
    """A melody over chords, cut into measures.

    tempo:          beats (quarter notes) per minute
    time_signature: (numerator, denominator)
    melody_part:    which part of the source the melody came from (for reports)
    chord_source:   where the chords came from, e.g. "chord symbols" (for reports)
    """

    measures: tuple
    tempo: float = 130.0
    time_signature: tuple = (4, 4)
    title: str = ""
    source: str = ""
    melody_part: str = ""
    chord_source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "time_signature", tuple(int(v) for v in self.time_signature))
        if not (0 < self.tempo < 1000):
            raise ValueError(f"tempo must be between 0 and 1000 bpm, got {self.tempo}")
        numerator, denominator = self.time_signature
        if numerator <= 0 or denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"bad time signature {numerator}/{denominator}")

    @property
    def melody_notes(self) -> list:
        """Every sounding (non-rest) note of the song."""
        return [note for measure in self.measures for note in measure.notes if not note.is_rest]
