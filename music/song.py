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
* A note never crosses a bar line: a note held over one is a Note in each
  bar, and every part after the first is ``tied``: it starts its bar and
  goes on with the pitch of the previous bar's last note, which ends on the
  line.  A tied note is not struck again (``played_notes`` joins them);
  a re-struck note of the same pitch is not tied.
* A chord's ``pitch_classes`` are sorted, distinct, in 0..11, and contain
  its ``root`` and its slash ``bass`` when it has one.
* A bar's chords may leave gaps: there no chord sounds (N.C.); see
  ``chord_at``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple


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
    tied:     the note is held over the bar line from the previous bar (see
              the module docstring), not struck
    """

    start: Fraction
    duration: Fraction
    pitch: int | None = None
    velocity: int = 90
    tied: bool = False

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
        if self.tied and (self.pitch is None or self.start != 0):
            raise ValueError(f"a tied note must have a pitch and start its bar, got "
                             f"pitch {self.pitch} at {self.start}")

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

    @property
    def starts_tied(self) -> bool:
        """The bar begins with a note held over from the bar before."""
        return bool(self.notes) and self.notes[0].tied

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
class Span:
    """A labelled stretch of a song, ``start`` up to but not including ``stop``.

    What the numbers count depends on the annotation (see ``Annotations``):
    indices into ``Song.melody_notes`` or into ``Song.measures``.
    label: the annotation's value as the source gives it ("12" for the
           twelfth phrase, "A1" for a form part, "line_w_d" for an idea)
    """

    start: int
    stop: int
    label: str = ""

    def __post_init__(self):
        if not 0 <= self.start < self.stop:
            raise ValueError(f"span must have 0 <= start < stop, got {self.start}..{self.stop}")


@dataclass(frozen=True)
class Annotations:
    """What a transcriber marked in a solo (the Weimar Jazz Database's
    sections); every field is a tuple of ``Span``, sorted, not overlapping,
    empty when the source has none.

    phrases:    note spans: ``song.melody_notes[span.start:span.stop]`` are
                the notes of the phrase, as played (a note held over a bar
                line counts once)
    ideas:      note spans of the midlevel units ("ideas": lines, licks,
                quotes, ... in the Jazzomat annotation)
    choruses:   bar spans: ``song.measures[span.start:span.stop]``; the
                label is the chorus number, 0 or below before the first
    form_parts: bar spans of the parts of the tune's form ("A1", "B1", ...),
                a new span at each chorus
    """

    phrases: tuple = ()
    ideas: tuple = ()
    choruses: tuple = ()
    form_parts: tuple = ()

    NOTE_SPANS = ("phrases", "ideas")
    BAR_SPANS = ("choruses", "form_parts")

    def __post_init__(self):
        for name in self.NOTE_SPANS + self.BAR_SPANS:
            spans = tuple(getattr(self, name))
            object.__setattr__(self, name, spans)
            for before, after in zip(spans, spans[1:]):
                if after.start < before.stop:
                    raise ValueError(f"{name} overlap or are unsorted at {after.start}")

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in self.NOTE_SPANS + self.BAR_SPANS)


@dataclass(frozen=True)
class SoloInfo:
    """What a database says about a solo (the Weimar Jazz Database's
    solo_info), "" where it says nothing.

    instrument:  its abbreviation ("ts" tenor sax, "tp" trumpet, ...)
    style:       "BEBOP", "COOL", "HARDBOP", "POSTBOP", "SWING", ...
    tempo_class: "SLOW", "MEDIUM", "UP", ...; rhythm_feel: "SWING", "LATIN", ...
    key:         as written there ("Bb-maj"); signature: "4/4", "3/4", ...
    """

    performer: str = ""
    title: str = ""
    instrument: str = ""
    style: str = ""
    tempo_class: str = ""
    rhythm_feel: str = ""
    key: str = ""
    signature: str = ""


@dataclass(frozen=True)
class Song:
    """A melody over chords, cut into measures.

    tempo:          beats (quarter notes) per minute
    time_signature: (numerator, denominator)
    melody_part:    which part of the source the melody came from (for reports)
    chord_source:   where the chords came from, e.g. "chord symbols" (for reports)
    annotations:    phrases, ideas, choruses and form parts (``Annotations``);
                    empty for sources that mark none.  No grammar reads them.
    info:           the solo's metadata (``SoloInfo``) when a database gives it
    """

    measures: tuple
    tempo: float = 130.0
    time_signature: tuple = (4, 4)
    title: str = ""
    source: str = ""
    melody_part: str = ""
    chord_source: str = ""
    annotations: Annotations = Annotations()
    info: SoloInfo | None = None

    def __post_init__(self):
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "time_signature", tuple(int(v) for v in self.time_signature))
        if not (0 < self.tempo < 1000):
            raise ValueError(f"tempo must be between 0 and 1000 bpm, got {self.tempo}")
        numerator, denominator = self.time_signature
        if numerator <= 0 or denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"bad time signature {numerator}/{denominator}")
        previous = None
        for measure in self.measures:
            if measure.starts_tied and not _holds_to_line(previous, measure.notes[0].pitch):
                raise ValueError(f"measure {measure.number}: its tied note goes on from no "
                                 f"note of pitch {measure.notes[0].pitch} ending on the bar line")
            previous = measure
        if self.annotations:
            notes = len(self.melody_notes)
            limits = {"phrases": notes, "ideas": notes, "choruses": len(self.measures),
                      "form_parts": len(self.measures)}
            for name, limit in limits.items():
                spans = getattr(self.annotations, name)
                if spans and spans[-1].stop > limit:
                    raise ValueError(f"{name} end at {spans[-1].stop}, past the song's {limit}")

    @property
    def melody_notes(self) -> list:
        """Every note of the song as it is played (``played_notes``): a note
        held over bar lines counts once."""
        return played_notes(self.measures)

    def bars(self, start: int, stop: int | None = None) -> Song:
        """The song cut to ``measures[start:stop]`` (``detached``: a note held
        into the first bar kept is struck there), its annotations cut with it:
        spans clipped to the notes and bars kept, spans left with nothing
        dropped."""
        stop = len(self.measures) if stop is None else min(stop, len(self.measures))
        measures = detached(self.measures[start:stop])
        # A note held into the cut is the last note before it and the first one kept.
        notes_before = (len(played_notes(self.measures[:start]))
                        - bool(measures and self.measures[start].starts_tied))
        notes_kept = len(played_notes(measures))
        annotations = Annotations(**{
            name: _clipped(getattr(self.annotations, name), notes_before, notes_kept)
            for name in Annotations.NOTE_SPANS},
            **{name: _clipped(getattr(self.annotations, name), start, stop - start)
               for name in Annotations.BAR_SPANS})
        return replace(self, measures=measures, annotations=annotations)


def _holds_to_line(measure, pitch) -> bool:
    return (measure is not None and bool(measure.notes) and measure.notes[-1].pitch == pitch
            and measure.notes[-1].end == measure.length)


class PlayedNote(NamedTuple):
    """One struck note of a run of measures, held over bar lines or not.

    time:     quarter lengths from the start of the first measure
    duration: quarter lengths, the tied parts in later bars included
    pitch:    MIDI pitch 0..127
    velocity: MIDI velocity 1..127 (of the struck part)
    bar:      index, in the measures given, of the bar it is struck in
    start:    quarter lengths from the start of that bar
    """

    time: Fraction
    duration: Fraction
    pitch: int
    velocity: int
    bar: int
    start: Fraction

    @property
    def end(self) -> Fraction:
        return self.time + self.duration


def played_notes(measures) -> list:
    """The PlayedNotes of consecutive measures of a Song, in order: each
    tied note lengthens the note before it.  A tied note in the first of
    the measures is the struck part of its note, as its start lies before
    them."""
    notes = []
    bar_start = Fraction(0)
    for index, measure in enumerate(measures):
        for note in measure.notes:
            if note.is_rest:
                continue
            if note.tied and index > 0:
                notes[-1] = notes[-1]._replace(duration=notes[-1].duration + note.duration)
            else:
                notes.append(PlayedNote(bar_start + note.start, note.duration, note.pitch,
                                        note.velocity, index, note.start))
        bar_start += measure.length
    return notes


def detached(measures) -> tuple:
    """Consecutive measures of a Song as the bars of a Song of their own: a
    tied note starting the first of them, held from a bar left out, is
    struck there."""
    measures = tuple(measures)
    if measures and measures[0].starts_tied:
        first = measures[0]
        notes = (replace(first.notes[0], tied=False),) + first.notes[1:]
        measures = (replace(first, notes=notes),) + measures[1:]
    return measures


def notes_in_bars(notes, bar_lines, make_note=Note) -> list:
    """The notes of each bar, cut at the bar lines, silences as rests.

    notes:     sorted, non-overlapping (start, end, pitch, velocity) of the
               sounding notes, from the song start, within the bars
    bar_lines: the start of every bar, then the end of the last, increasing
    make_note: makes a Note from (start in its bar, duration, pitch,
               velocity, tied); rests are made from (start, duration)
    A note crossing a bar line becomes a note in each bar it sounds in, the
    later ones tied (the part of a held note past a bar line is not struck).
    Returns one list of Notes per bar, tiling the bar.
    """
    bars = []
    note_index = 0
    for bar_start, bar_end in zip(bar_lines, bar_lines[1:]):
        while note_index < len(notes) and notes[note_index][1] <= bar_start:
            note_index += 1
        bar_notes = []
        cursor = bar_start
        index = note_index
        while index < len(notes) and notes[index][0] < bar_end:
            start, end, pitch, velocity = notes[index]
            tied = start < bar_start
            start, end = max(start, bar_start), min(end, bar_end)
            if start > cursor:
                bar_notes.append(make_note(cursor - bar_start, start - cursor))
            bar_notes.append(make_note(start - bar_start, end - start, pitch, velocity, tied))
            cursor = end
            index += 1
        if cursor < bar_end:
            bar_notes.append(make_note(cursor - bar_start, bar_end - cursor))
        bars.append(bar_notes)
    return bars


def _clipped(spans, offset: int, length: int) -> tuple:
    """The spans moved back by ``offset`` and cut to 0..length."""
    clipped = []
    for span in spans:
        start, stop = max(span.start - offset, 0), min(span.stop - offset, length)
        if start < stop:
            clipped.append(Span(start, stop, span.label))
    return tuple(clipped)
