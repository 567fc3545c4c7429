"""The exact grammar: chord-relative tokens that give back every pitch and time.

Like the classic grammar (``music.tokens.classic_grammar``) the tokens speak of pitches
relative to the chord, so a learned solo moves to any changes; unlike it,
decoding is a function, not a draw: encode then decode returns every note
whose onset and end lie on the grid, pitch for pitch.

Grid
----
Time is counted in integer grid units of ``GRID`` = 1/12 quarter
(``music.grid.SCORE_GRID``): the finest grid holding sixteenths (3 units)
and eighth and sixteenth triplets (4 and 2 units).  Encoding rounds onsets
and ends to it, so what is lost is finer than that: 32nds, quintuplets,
swing and timing nuance off the grid; a note that rounds to nothing
vanishes.  The classic grammar's grid,
``music.grid.GRID`` (1/24), is twice as fine because it also keeps 32nds.

Token format
------------
``<interval><motion>,<units>``   a note, e.g. ``7+4,6``, ``10-12,3``, ``0=,12``
``NC<interval><motion>,<units>`` a note where no chord sounds, e.g. ``NC4-4,6``
``R,<units>``                    a rest, e.g. ``R,12``
``T,<units>``                    a tie: the note before goes on, e.g. ``T,1``
``|``                            the bar line (``BAR_LINE``) closing each bar

* interval (0..11): the note's pitch class in semitones above the root of
  the chord sounding at its onset (``Measure.chord_at``); where no chord
  sounds, above C, and the token starts with ``NC``.
* motion, from the previous sounding note (rests and bar lines are skipped;
  the first note of a piece is measured from ``REFERENCE_PITCH``, G4): the
  step in semitones rounded to a multiple of ``MOTION_QUANTUM`` (4), ties
  away from zero: ``=`` for -1..1, ``+4`` for 2..5 up, ``-8`` for 6..9
  down.  Decoding takes the pitch of the note's class nearest to the
  previous pitch plus the motion; the true pitch is within 2 semitones of
  that target (3 for the extreme step of 127) and the class's other pitches
  at least 9 away, so the pitch comes back exactly.  The motion says how the line moves (the contour,
  which relative classes alone leave to modular arithmetic a model learns
  badly: an earlier version with only a direction let sampled solos leap
  5.3 semitones on average against 2.7 in real ones), the class says where
  the note sits on the chord.  Rounding the step costs nothing in exactness
  and keeps the vocabulary small: on 410 Weimar Jazz Database solos, 2,398
  distinct tokens against 6,011 with the exact step, and the output layer,
  the largest cost of training, shrinks with it.  A sampled token whose
  parts disagree lands on its class within a tritone of the motion's target.
* units: a duration from ``DURATIONS`` (1, 2, ... 9, 12, 16, 18, 24, 32, 36
  and 48 units: measured on 410 Weimar Jazz Database solos, note lengths of
  1..9 units cover 93 % of the notes, and played eighths often last 5 or 7
  units).  Any other length is written as the largest allowed one followed
  by ties (a note of 13 units is ``...,12 T,1``; a rest of 13 units is
  ``R,12 R,1``), so nothing is lost.

Bars
----
Every bar ends with ``|``.  Notes never cross a bar line inside a Song: a
note held over one is a Note in each bar, the later ones ``tied``
(``music.song``).  The encoder writes a tied note as ties (``T`` right
after ``|``) and a re-struck note of the same pitch as a note (``0=``), and
the decoder gives a ``T`` after ``|`` that continues the note ending on the
bar line as a tied Note: the note is held, not struck again.

Costs
-----
``token_cost`` gives a token's length in grid units (0 for the bar line),
so the tokens of a bar add up to its length exactly: 4/4 is 48 units, 3/4
and 6/8 are 36.  ``filler_tokens`` lists tokens with which any unfilled
part of a bar can be completed, so that sampling under this budget always
finishes its bar.

Example: the bar  D5 (eighth), rest (eighth), F#5 (dotted half)  over D7,
after the note A4, is  ``0+4,6  R,6  4+4,36  |`` (steps of 5 and 4 up).

Decoding reads the tokens of each bar one after another from its start.
Generated streams may say things no encoding says; they decode as follows:
a note, tie or rest running past the bar line is cut there and tokens after
it up to ``|`` are dropped; an unfilled bar ends with a rest; ``=`` whose
class differs from the previous note's takes the nearest pitch of that
class (the lower on a tie); a tie with no note before it in the bar
continues the note that ended on the bar line, if any (a tied Note), else
it is a rest; a pitch outside MIDI 0..127 moves into it by octaves;
trailing tokens with no closing ``|`` make a last bar.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple, Optional

from music.grid import SCORE_GRID as GRID
from music.grid import fold_pitch, grid_steps
from music.song import Measure, MusicError, Note, chord_at

DURATIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 18, 24, 32, 36, 48)
REFERENCE_PITCH = 67
MOTION_QUANTUM = 4
# The largest motion a token holds: the largest multiple of the quantum within 127.
MAX_MOTION = 127 // MOTION_QUANTUM * MOTION_QUANTUM
BAR_LINE = "|"
REST = "R"
TIE = "T"
NO_CHORD = "NC"
MIDI_RANGE = (0, 127)

# Canonical spellings only (no leading zeros), so one note has one token.
# A motion is 1..127 semitones either way, the largest step between MIDI pitches:
# encoding writes multiples of MOTION_QUANTUM, but any step decodes (runs trained
# before the motion was rounded wrote exact steps).
_NOTE_TOKEN = re.compile(r"^(NC)?(\d|1[01])(=|[+-](?:[1-9]\d?|1[01]\d|12[0-7])),([1-9]\d?)$")
_HELD_TOKEN = re.compile(r"^([RT]),([1-9]\d?)$")


class Token(NamedTuple):
    """A parsed token.

    kind:     "note", "rest", "tie" or "bar"
    units:    length in grid units (0 for the bar line)
    interval: a note's pitch class above the chord root (or above C)
    motion:   the step in semitones from the previous note (0 for "=")
    no_chord: the note was written where no chord sounds
    """

    kind: str
    units: int
    interval: int = 0
    motion: int = 0
    no_chord: bool = False


def units_of(quarters) -> int:
    """Quarter lengths as whole grid units; MusicError when off the grid."""
    units = Fraction(quarters) / GRID
    if units.denominator != 1:
        raise MusicError(f"{Fraction(quarters)} quarter lengths is not a multiple of "
                         f"the {GRID} quarter grid")
    return int(units)


def split_duration(units: int) -> list:
    """Allowed durations adding up to units: the largest first, greedily."""
    parts = []
    while units > 0:
        part = max(allowed for allowed in DURATIONS if allowed <= units)
        parts.append(part)
        units -= part
    return parts


def _check_units(units: int) -> int:
    if units not in DURATIONS:
        raise MusicError(f"duration of {units} grid units is not one of {DURATIONS}")
    return units


def note_token(interval: int, motion: int, units: int, no_chord: bool = False) -> str:
    """The token of a note: interval 0..11 above the chord root (above C
    with no_chord), motion as in ``Token``, units from DURATIONS."""
    if not 0 <= interval <= 11:
        raise MusicError(f"note interval must be 0..11 semitones above the root, got {interval}")
    if not -127 <= motion <= 127:
        raise MusicError(f"note motion must be -127..127 semitones (a step between MIDI "
                         f"pitches), got {motion}")
    motion_text = "=" if motion == 0 else f"{motion:+d}"
    prefix = NO_CHORD if no_chord else ""
    return f"{prefix}{interval}{motion_text},{_check_units(units)}"


def rest_token(units: int) -> str:
    """The token of a rest of units (from DURATIONS)."""
    return f"{REST},{_check_units(units)}"


def tie_token(units: int) -> str:
    """The token holding the previous note units (from DURATIONS) longer."""
    return f"{TIE},{_check_units(units)}"


@lru_cache(maxsize=8192)
def parse_token(token: str) -> Token:
    """The parts of a token; MusicError naming a malformed one."""
    if token == BAR_LINE:
        return Token("bar", 0)
    note = _NOTE_TOKEN.match(token)
    held = _HELD_TOKEN.match(token)
    match = note or held
    if match is None or int(match.groups()[-1]) not in DURATIONS:
        raise MusicError(f"bad exact-grammar token {token!r}: expected like '7+2,6', "
                         f"'NC0=,12', 'R,3', 'T,1' or '|', with a duration from "
                         f"{DURATIONS}, an interval 0..11 and a motion of at most 127")
    units = int(match.groups()[-1])
    if held:
        return Token("rest" if held.group(1) == REST else "tie", units)
    motion_text = note.group(3)
    motion = 0 if motion_text == "=" else int(motion_text)
    return Token("note", units, int(note.group(2)), motion, note.group(1) is not None)


def token_cost(token: str) -> int:
    """Grid units a token takes in its bar (0 for the bar line)."""
    return parse_token(token).units


def filler_tokens(bar_units: int) -> list:
    """Rest tokens of every allowed length up to bar_units, plus the one-unit
    tie: the one-unit rest alone can fill any unfilled part of a bar, the
    longer ones do it in few tokens, and the tie lets a note be held to the
    line.  A vocabulary holding these and BAR_LINE can always end a bar."""
    fitting = [units for units in DURATIONS if units <= bar_units]
    return [rest_token(units) for units in fitting] + [tie_token(1)]


def motion_between(previous: int, pitch: int) -> int:
    """The motion of a step from MIDI pitch previous to pitch: the step
    rounded to the nearest multiple of MOTION_QUANTUM, ties away from zero,
    at most MAX_MOTION either way (off the step by at most 3 semitones, so
    ``pitch_from`` gives the pitch back)."""
    step = pitch - previous
    size = min((abs(step) + MOTION_QUANTUM // 2) // MOTION_QUANTUM * MOTION_QUANTUM, MAX_MOTION)
    return size if step >= 0 else -size


def pitch_from(reference: int, pitch_class: int, motion: int) -> int:
    """The pitch of pitch_class (0..11) nearest to reference + motion.

    A tie (a tritone either way) goes in the motion's direction, down for
    motion 0.  The result may lie outside MIDI 0..127.
    """
    target = reference + motion
    up = (pitch_class - target) % 12          # 0..11 semitones above the target
    down = 12 - up if up else 0               # the same class below it
    if up < down or (up == down and motion > 0):
        return target + up
    return target - down


def _sounding_spans(measure: Measure) -> list:
    """(start, end, pitch, tied) in grid units of the bar's sounding notes,
    onsets and ends rounded to the grid; notes that round to nothing go."""
    bar_units = units_of(measure.length)
    spans = []
    for note in measure.notes:
        if note.is_rest:
            continue
        start = grid_steps(note.start, GRID)
        end = min(grid_steps(note.end, GRID), bar_units)
        if end > start:
            spans.append((start, end, note.pitch, note.tied))
    return spans


def encode_song(song) -> list:
    """One flat token stream for a Song's measures, ``|`` after every bar.

    Raises MusicError when a bar's length is not a whole number of grid units.
    """
    tokens = []
    reference = REFERENCE_PITCH
    held_pitch = None   # pitch of a note that ended exactly on the last bar line
    for measure in song.measures:
        bar_units = units_of(measure.length)
        cursor = 0
        for start, end, pitch, tied in _sounding_spans(measure):
            tokens.extend(rest_token(units) for units in split_duration(start - cursor))
            parts = split_duration(end - start)
            if tied and pitch == held_pitch:
                tokens.extend(tie_token(units) for units in parts)
            else:
                chord = measure.chord_at(start * GRID)
                root = 0 if chord is None else chord.root
                tokens.append(note_token((pitch - root) % 12, motion_between(reference, pitch),
                                         parts[0], no_chord=chord is None))
                tokens.extend(tie_token(units) for units in parts[1:])
            reference, cursor = pitch, end
        held_pitch = reference if cursor == bar_units and cursor > 0 else None
        tokens.extend(rest_token(units) for units in split_duration(bar_units - cursor))
        tokens.append(BAR_LINE)
    return tokens


def _bar_lengths(bar_length, bar_count: int) -> list:
    if isinstance(bar_length, (list, tuple)):
        if len(bar_length) < bar_count:
            raise MusicError(f"{len(bar_length)} bar lengths given for {bar_count} bars")
        return [Fraction(length) for length in bar_length[:bar_count]]
    return [Fraction(bar_length)] * bar_count


def _split_bars(tokens) -> list:
    bars, current = [], []
    for token in tokens:
        if parse_token(token).kind == "bar":
            bars.append(current)
            current = []
        else:
            current.append(token)
    if current:
        bars.append(current)
    return bars


class _BarWriter:
    """Notes of one bar as [start, units, pitch or None, tied], growing from 0."""

    def __init__(self, bar_units: int):
        self.bar_units = bar_units
        self.cursor = 0
        self.notes = []

    def add(self, units: int, pitch: Optional[int], joins: bool, tied: bool = False):
        """Append units of pitch (None: rest); joins: lengthen the last
        entry instead when it has that pitch; tied: the note goes on from
        the bar before."""
        units = min(units, self.bar_units - self.cursor)
        if units <= 0:
            return
        if joins and self.notes and self.notes[-1][2] == pitch:
            self.notes[-1][1] += units
        else:
            self.notes.append([self.cursor, units, pitch, tied])
        self.cursor += units

    def measure(self, chords, length: Fraction, number: int) -> Measure:
        self.add(self.bar_units - self.cursor, None, joins=True)
        notes = [Note(start * GRID, units * GRID, pitch, tied=tied)
                 for start, units, pitch, tied in self.notes]
        return Measure(length=length, notes=notes, chords=chords, number=number)


def decode_song(tokens, chord_bars, bar_length, previous_pitch: Optional[int] = None,
                pitch_range=MIDI_RANGE) -> list:
    """Measures from a token stream (the inverse of ``encode_song``).

    chord_bars:     one list of Chords per bar; it repeats when shorter
    bar_length:     quarter lengths of every bar, or a list with one per bar
    previous_pitch: the MIDI pitch the first note moves from (default
                    REFERENCE_PITCH)
    pitch_range:    (low, high) MIDI pitches a note moves into by octaves; a
                    sampled stream's relative motions wander like a random
                    walk, so a solo is kept in its instrument's register
                    (an encoded melody inside the range decodes unchanged)
    Each ``|`` closes a bar; see the module doc for streams no encoding gives.
    """
    if not chord_bars:
        raise MusicError("cannot decode an exact-grammar stream without at least one "
                         "bar of chords")
    token_bars = _split_bars(tokens)
    lengths = _bar_lengths(bar_length, len(token_bars))
    reference = REFERENCE_PITCH if previous_pitch is None else previous_pitch
    held_pitch = None
    measures = []
    for index, (bar_tokens, length) in enumerate(zip(token_bars, lengths)):
        chords = chord_bars[index % len(chord_bars)]
        bar = _BarWriter(units_of(length))
        for text in bar_tokens:
            token = parse_token(text)
            if bar.cursor == bar.bar_units:
                break   # the bar is full: what follows is dropped, motions and all
            if token.kind == "rest":
                bar.add(token.units, None, joins=True)
            elif token.kind == "tie":
                if bar.notes:
                    bar.add(token.units, bar.notes[-1][2], joins=True)
                else:
                    bar.add(token.units, held_pitch, joins=True, tied=held_pitch is not None)
            else:
                chord = None if token.no_chord else chord_at(chords, bar.cursor * GRID)
                root = 0 if chord is None else chord.root
                pitch = fold_pitch(pitch_from(reference, (root + token.interval) % 12,
                                              token.motion), *pitch_range)
                bar.add(token.units, pitch, joins=False)
                reference = pitch
        ended_on_note = bar.notes and bar.cursor == bar.bar_units and bar.notes[-1][2] is not None
        held_pitch = bar.notes[-1][2] if ended_on_note else None
        measures.append(bar.measure(chords, length, index + 1))
    return measures
