"""Where the beats of a song fall, for the band: measure starts, pulses, strong beats.

Pulse (quarter lengths), the unit the bass walks in and the drummer rides on:

* compound metres (denominator 8 or 16 and a numerator that is a multiple
  of 3 greater than 3: 6/8, 9/8, 12/8): the dotted beat, three written
  units (6/8 -> 3/2);
* every other metre: the written unit, ``4 / denominator`` (4/4, 3/4,
  5/4 -> 1; 2/2 -> 2, a two feel; 7/8 -> 1/2).

The pulses of a bar are laid from its start; a bar whose length is not a
whole number of pulses (a pickup, say) ends with a shorter pulse.  They form
groups of two, with one group of three first when their number is odd
(3 -> 3; 5 -> 3+2, as in "Take Five"; 7 -> 3+2+2), because jazz feels bars
in twos and threes.  The first pulse of each group is strong: 4/4 has strong
beats 1 and 3 and weak beats 2 and 4, 3/4 only a strong 1.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple, Optional

from music.song import Chord


class Pulse(NamedTuple):
    """One beat of a bar.

    start:       quarter lengths from the start of the bar
    length:      quarter lengths
    strong:      the first pulse of its group
    ends_group:  the last pulse of its group (the next pulse is strong)
    offbeat:     where the pulse's off-beat falls, quarter lengths from the
                 start of the bar: half way through a simple pulse (the "and"),
                 two thirds of the way through a compound one (its last eighth)
    """

    start: Fraction
    length: Fraction
    strong: bool
    ends_group: bool
    offbeat: Fraction


def is_compound(time_signature) -> bool:
    """True for 6/8, 9/8, 12/8 and the like, whose beat divides in three."""
    numerator, denominator = time_signature
    return denominator >= 8 and numerator % 3 == 0 and numerator > 3


def pulse_length(time_signature) -> Fraction:
    """Quarter lengths of one pulse (see the module docstring)."""
    numerator, denominator = time_signature
    unit = Fraction(4, denominator)
    return 3 * unit if is_compound(time_signature) else unit


def group_sizes(pulse_count: int) -> list:
    """Sizes of the groups of pulses in a bar: twos, with a three first when odd."""
    if pulse_count <= 3:
        return [pulse_count] if pulse_count else []
    return ([3] if pulse_count % 2 else []) + [2] * ((pulse_count - 3 * (pulse_count % 2)) // 2)


def bar_pulses(bar_length, time_signature) -> list:
    """The Pulses of a bar of ``bar_length`` quarter lengths, in order."""
    bar_length = Fraction(bar_length)
    unit = pulse_length(time_signature)
    count = math.ceil(bar_length / unit)
    offbeat_share = Fraction(2, 3) if is_compound(time_signature) else Fraction(1, 2)
    pulses = []
    for size in group_sizes(count):
        for position in range(size):
            start = len(pulses) * unit
            length = min(unit, bar_length - start)
            pulses.append(Pulse(start, length, strong=position == 0,
                                ends_group=position == size - 1,
                                offbeat=start + offbeat_share * length))
    return pulses


class Beat(NamedTuple):
    """A pulse placed in the song, with the chord sounding on it.

    start: quarter lengths from the start of the song
    pulse: the Pulse (its times count from the start of its bar)
    chord: the measure's chord at the pulse, None for no chord (N.C.)
    """

    start: Fraction
    pulse: Pulse
    chord: Optional[Chord]

    @property
    def end(self) -> Fraction:
        return self.start + self.pulse.length

    @property
    def offbeat(self) -> Fraction:
        """The off-beat, quarter lengths from the start of the song."""
        return self.start - self.pulse.start + self.pulse.offbeat


def song_beats(song) -> list:
    """Every Beat of the song, in order."""
    beats = []
    for bar_start, measure in zip(measure_starts(song), song.measures):
        for pulse in bar_pulses(measure.length, song.time_signature):
            beats.append(Beat(bar_start + pulse.start, pulse, measure.chord_at(pulse.start)))
    return beats


def measure_starts(song) -> list:
    """Start of every measure from the start of the song, in quarter lengths."""
    starts = []
    position = Fraction(0)
    for measure in song.measures:
        starts.append(position)
        position += measure.length
    return starts


def song_quarters(song) -> Fraction:
    """Total length of the song in quarter lengths (sum of measure lengths)."""
    return sum((measure.length for measure in song.measures), Fraction(0))
