"""Chord-relative grammar tokens: one token per melody note or rest.

Token format
------------
``ROLE,DURATION,<LOW,HIGH>`` for a sounding note, e.g. ``S,0.500,<-2,+2>``;
``R,DURATION`` for a rest, e.g. ``R,1.000``;
``T,DURATION`` for a note held over the bar line (``Note.tied``): the last
note of the bar before goes on, e.g. ``T,0.500``.

ROLE, judged against the chord sounding at the note's onset; the first
that applies wins:

* ``C`` chord tone: the pitch class is one of the chord's;
* ``S`` scale tone: in ``chords.scale_for(chord)``;
* ``A`` approach tone: one semitone from a chord tone;
* ``X`` anything else (with no chord at all, every note is X).

DURATION is in quarter lengths, printed with three decimals and read back
as the nearest multiple of ``GRID`` (1/24 quarter, fine enough for 32nds
and every triplet).  Multiples of 1/24 lie more than 0.04 apart, so the
printed text always maps back to the exact Fraction: 0.333 -> 1/3,
0.167 -> 1/6, 0.125 -> 1/8, 0.042 -> 1/24, 1.333 -> 4/3.

LOW, HIGH (semitones, signed) bound the interval from the previous
sounding note (rests are skipped; the previous bar counts) to this note.
The interval is widened to the five-semitone window centred on the
nearest multiple of 5: <-2,+2> (repeat or step), <+3,+7> and <-7,-3>
(a third to a fifth), <+8,+12> and <-12,-8> (up to an octave), and so on.
Keeping the direction and rough size of each move keeps the contour while
a handful of windows keeps the vocabulary small.  The first note of a
piece is measured from ``REFERENCE_PITCH`` (70, B-flat 4, the middle of
the guitar range).

Encoding first rounds onsets and ends to ``GRID`` (notes that collapse
vanish), turns gaps into rests, joins neighbouring rests and fills the end
of the bar with a rest, so a bar's token durations sum to its length.  A
bar whose notes lie on the grid encodes without loss of timing.

Decoding places the tokens one after another from offset 0.  A tie
lengthens the note before it in the bar; first in its bar, it holds the
last note of the bar before when that sounds up to the bar line (a tied
Note), else it is a rest.  For a note it picks,
with the caller's random generator, a pitch inside the token's window
that has the token's role under the chord sounding at its onset (a window
lying wholly outside MIDI 0..127 first moves by octaves into it).  When no
such pitch exists, the window widens by one semitone on each side, up to
``MAX_WIDENING`` times; failing that, the chord tone nearest the window's
centre is taken (the lower one on a tie; any MIDI pitch without a chord).
Tokens starting at or after the bar line are not decoded.  Decoding uses
plain Python only, no music21.
"""
from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple, Optional

from music.chords import scale_for
from music.grid import GRID, round_to_grid
from music.tokens.prune import prune_measure
from music.song import Chord, Measure, MusicError, Note, chord_at

ROLES = ("C", "S", "A", "X")
REST = "R"
TIE = "T"
REFERENCE_PITCH = 70
WINDOW_STEP = 5
MAX_WIDENING = 12

_NOTE_TOKEN = re.compile(r"^([CSAX]),(\d+(?:\.\d+)?),<([+-]\d+),([+-]\d+)>$")
_HELD_TOKEN = re.compile(r"^([RT]),(\d+(?:\.\d+)?)$")


class Token(NamedTuple):
    """A parsed token (role REST or TIE: low and high are None)."""

    role: str
    duration: Fraction
    low: Optional[int] = None
    high: Optional[int] = None


def _duration_text(duration: Fraction) -> str:
    return f"{float(duration):.3f}"


def window_for(interval: int) -> tuple:
    """(low, high) semitones of the window holding interval (semitones)."""
    centre = WINDOW_STEP * round(interval / WINDOW_STEP)
    half = WINDOW_STEP // 2
    return centre - half, centre + half


def note_token(role: str, duration, interval: int) -> str:
    """The token of a sounding note; role one of ROLES, duration in quarter
    lengths (a multiple of GRID), interval in semitones from the previous
    sounding note."""
    if role not in ROLES:
        raise MusicError(f"note role must be one of {', '.join(ROLES)}, got {role!r}")
    low, high = window_for(interval)
    return f"{role},{_duration_text(Fraction(duration))},<{low:+d},{high:+d}>"


def rest_token(duration) -> str:
    """The token of a rest lasting duration quarter lengths."""
    return f"{REST},{_duration_text(Fraction(duration))}"


def tie_token(duration) -> str:
    """The token of a note held duration quarter lengths over the bar line."""
    return f"{TIE},{_duration_text(Fraction(duration))}"


@lru_cache(maxsize=4096)
def parse_token(token: str) -> Token:
    """The parts of a token; raises MusicError naming a malformed one."""
    match = _NOTE_TOKEN.match(token) or _HELD_TOKEN.match(token)
    if match is None:
        raise MusicError(f"bad grammar token {token!r}: expected like 'S,0.500,<-2,+2>', "
                         f"'R,0.500' or 'T,0.500'")
    is_held = match.re is _HELD_TOKEN
    duration = round_to_grid(Fraction(match.group(2)))
    if duration <= 0:
        raise MusicError(f"bad grammar token {token!r}: duration is below the "
                         f"{GRID} quarter grid")
    if is_held:
        return Token(match.group(1), duration)
    low, high = int(match.group(3)), int(match.group(4))
    if low > high:
        raise MusicError(f"bad grammar token {token!r}: window low {low} is above high {high}")
    return Token(match.group(1), duration, low, high)


@lru_cache(maxsize=1024)
def _role_table(chord: Chord) -> tuple:
    pitch_classes = chord.pitch_classes
    scale = scale_for(chord)
    table = []
    for pitch_class in range(12):
        if pitch_class in pitch_classes:
            table.append("C")
        elif pitch_class in scale:
            table.append("S")
        elif (pitch_class - 1) % 12 in pitch_classes or (pitch_class + 1) % 12 in pitch_classes:
            table.append("A")
        else:
            table.append("X")
    return tuple(table)


_NO_CHORD_ROLES = ("X",) * 12


def _roles_under(chord: Optional[Chord]) -> tuple:
    if chord is None:
        return _NO_CHORD_ROLES
    return _role_table(chord)


def role_of(pitch: int, chord: Optional[Chord]) -> str:
    """C, S, A or X: the role of a MIDI pitch under chord (None: no chord)."""
    return _roles_under(chord)[pitch % 12]


def encode(measure: Measure, previous_pitch: Optional[int] = None) -> list:
    """The tokens of one bar.

    previous_pitch: MIDI pitch of the last sounding note before the bar, or
    None at the start of a piece (REFERENCE_PITCH is used).
    """
    reference = REFERENCE_PITCH if previous_pitch is None else previous_pitch
    tokens = []
    rest_length = Fraction(0)
    cursor = Fraction(0)
    for note in measure.notes:
        start = round_to_grid(note.start)
        end = min(round_to_grid(note.end), measure.length)
        if end <= start:
            continue
        rest_length += start - cursor
        cursor = end
        if note.is_rest:
            rest_length += end - start
            continue
        if rest_length:
            tokens.append(rest_token(rest_length))
            rest_length = Fraction(0)
        if note.tied:
            tokens.append(tie_token(end - start))
            continue
        role = role_of(note.pitch, measure.chord_at(start))
        tokens.append(note_token(role, end - start, note.pitch - reference))
        reference = note.pitch
    rest_length += measure.length - cursor
    if rest_length:
        tokens.append(rest_token(rest_length))
    return tokens


def last_pitch(notes, default: Optional[int] = None) -> Optional[int]:
    """MIDI pitch of the last sounding note, else default."""
    for note in reversed(notes):
        if not note.is_rest:
            return note.pitch
    return default


def encode_song(song) -> list:
    """Tokens per measure of a Song, the previous pitch carried across bars."""
    token_lists = []
    previous_pitch = None
    for measure in song.measures:
        token_lists.append(encode(measure, previous_pitch))
        previous_pitch = last_pitch(measure.notes, previous_pitch)
    return token_lists


def _nearest_pitch(centre: Fraction, pitch_classes) -> int:
    in_range = [pitch for pitch in range(128) if pitch % 12 in pitch_classes]
    return min(in_range, key=lambda pitch: (abs(pitch - centre), pitch))


def _pick_pitch(token: Token, roles: tuple, chord: Optional[Chord],
                reference: int, rng) -> int:
    # Roles depend on pitch class only, so an octave shift keeps them.
    while reference + token.high < 0:
        reference += 12
    while reference + token.low > 127:
        reference -= 12
    for widening in range(MAX_WIDENING + 1):
        lowest = max(0, reference + token.low - widening)
        highest = min(127, reference + token.high + widening)
        candidates = [pitch for pitch in range(lowest, highest + 1)
                      if roles[pitch % 12] == token.role]
        if candidates:
            return candidates[int(rng.integers(len(candidates)))]
    centre = reference + Fraction(token.low + token.high, 2)
    return _nearest_pitch(centre, chord.pitch_classes if chord else range(12))


def decode(tokens, chords, rng, previous_pitch: Optional[int] = None,
           bar_length=Fraction(4), held_pitch: Optional[int] = None) -> list:
    """Notes of one bar from its tokens.

    chords:         the bar's Chords (starts in quarter lengths from the bar)
    rng:            numpy.random.Generator choosing among fitting pitches
    previous_pitch: MIDI pitch of the last sounding note before the bar, or
                    None at the start of a piece (REFERENCE_PITCH is used)
    bar_length:     quarter lengths; tokens starting at or after it are skipped
    held_pitch:     MIDI pitch of the bar before's last note when it sounds up
                    to the bar line (a tie first in the bar holds it), else None
    The last note may run past bar_length; prune.prune_measure cuts it.
    """
    reference = REFERENCE_PITCH if previous_pitch is None else previous_pitch
    notes = []
    cursor = Fraction(0)
    for text in tokens:
        if cursor >= bar_length:
            break
        token = parse_token(text)
        if token.role == TIE and notes:
            notes[-1] = replace(notes[-1], duration=notes[-1].duration + token.duration)
        elif token.role == TIE and held_pitch is not None:
            notes.append(Note(start=cursor, duration=token.duration, pitch=held_pitch, tied=True))
        elif token.role in (REST, TIE):
            notes.append(Note(start=cursor, duration=token.duration))
        else:
            chord = chord_at(chords, cursor)
            pitch = _pick_pitch(token, _roles_under(chord), chord, reference, rng)
            notes.append(Note(start=cursor, duration=token.duration, pitch=pitch))
            reference = pitch
        cursor += token.duration
    return notes


def decode_measures(token_lists, chord_bars, rng, bar_length=Fraction(4),
                    previous_pitch: Optional[int] = None, **prune_options) -> list:
    """Measures decoded from tokens per bar and pruned to fill each bar.

    chord_bars:    one list of Chords per bar (as chords.parse_progression
                   gives); it repeats when there are more token bars
    bar_length:    quarter lengths
    prune_options: keyword arguments for prune.prune_measure
    The previous pitch is carried from each pruned bar to the next.
    """
    if not chord_bars:
        raise MusicError("cannot decode measures without at least one bar of chords")
    bar_length = Fraction(bar_length)
    measures = []
    held_pitch = None
    for index, tokens in enumerate(token_lists):
        chords = chord_bars[index % len(chord_bars)]
        notes = decode(tokens, chords, rng, previous_pitch, bar_length, held_pitch)
        notes = prune_measure(notes, bar_length, **prune_options)
        previous_pitch = last_pitch(notes, previous_pitch)
        # Pruned bars are filled to the line: the last note holds when it is no rest.
        held_pitch = notes[-1].pitch if notes else None
        measures.append(Measure(length=bar_length, notes=notes, chords=chords,
                                number=index + 1))
    return measures
