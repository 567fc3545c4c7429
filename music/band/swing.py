"""Swing: the off-beat eighth of a beat played late.

Convention: ``swing`` is the long:short ratio of a pair of eighth notes.
1 (or 0, for "off") is straight; 2 is triplet swing, the off-beat eighth on
the third triplet of the beat; 3 is a dotted-eighth-and-sixteenth feel.
Jazz players swing harder at slow tempos and straighter at fast ones; 2 is
the usual medium-tempo feel and the combo's default (``DEFAULT_SWING``).

With ratio ``r`` the pair shares the quarter note as ``r : 1``, so the
off-beat eighth, written at ``1/2`` of the beat, sounds at ``r / (1 + r)``:
2/3 for r = 2, 3/5 for r = 3/2.

Which beats swing: a quarter-note beat swings when the only time inside it
(strictly between its start and its end) at which a note of the part starts
or ends is its middle.  Then that time moves to ``r / (1 + r)``; the note
before it grows and the note after it shrinks by the same amount, so
nothing overlaps and nothing new is silent.  A beat holding sixteenths or
triplets is played as written, as players do.  Beats are counted from the
start of each bar; a beat cut short by the bar line never swings.
Compound metres (6/8, 12/8: ``metre.is_compound``) already divide the beat
in three and are never swung.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from fractions import Fraction

from music.metre import is_compound
from music.song import MusicError

DEFAULT_SWING = Fraction(2)
MAX_SWING = 4
HALF = Fraction(1, 2)


def checked_swing(swing) -> Fraction:
    """The swing ratio as a Fraction (0 counts as 1, straight).

    Raises MusicError unless it is 0 or between 1 and MAX_SWING.
    """
    try:
        ratio = Fraction(swing).limit_denominator(100)
    except (TypeError, ValueError, OverflowError):
        raise MusicError(f"swing must be a number, got {swing!r}") from None
    if ratio == 0:
        return Fraction(1)
    if not (1 <= ratio <= MAX_SWING):
        raise MusicError(f"swing must be 0 or 1 (straight) up to {MAX_SWING} "
                         f"(the long:short ratio of two eighths), got {swing!r}")
    return ratio


def offbeat_position(ratio: Fraction) -> Fraction:
    """Where the swung off-beat eighth sounds, in quarter lengths after its beat."""
    return ratio / (1 + ratio)


def swing_sounds(sounds, measure_starts, measure_lengths, time_signature, swing) -> list:
    """The sounds of one part with their off-beat eighths swung.

    sounds:          Sounds (start, end, ...) in quarter lengths from the song start
    measure_starts:  start of every measure, quarter lengths, increasing
    measure_lengths: length of every measure, quarter lengths
    Returns new sounds in the same order; ``start`` and ``end`` are moved.
    """
    ratio = checked_swing(swing)
    if ratio == 1 or is_compound(time_signature):
        return list(sounds)
    moves = _swung_times({time for sound in sounds for time in (sound.start, sound.end)},
                         measure_starts, measure_lengths, offbeat_position(ratio) - HALF)
    return [sound._replace(start=moves.get(sound.start, sound.start),
                           end=moves.get(sound.end, sound.end)) for sound in sounds]


def _swung_times(times, measure_starts, measure_lengths, delay: Fraction) -> dict:
    """{written time: swung time} for every time that is the middle of a beat
    holding no other time of the part."""
    inside = defaultdict(set)  # (measure index, beat) -> times inside the beat
    for time in times:
        measure = bisect_right(measure_starts, time) - 1
        if measure < 0:
            continue
        in_bar = time - measure_starts[measure]
        beat = math.floor(in_bar)
        if in_bar != beat:
            inside[(measure, beat)].add(time)
    moves = {}
    for (measure, beat), held in inside.items():
        middle = measure_starts[measure] + beat + HALF
        if held == {middle} and beat + 1 <= measure_lengths[measure]:
            moves[middle] = middle + delay
    return moves
