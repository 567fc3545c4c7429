"""The drummer: ride cymbal "ding, ding-da ding" and the hi-hat pedal on 2 and 4.

On every beat that has a chord:

* the ride cymbal (General MIDI 51) on the beat, louder on weak beats
  (``RIDE_WEAK``: the 2 and 4 the band leans on) than on strong ones;
* on the last beat of each group (2 and 4 in 4/4) a softer ride "skip"
  note on the off-beat, the "da" that swing later moves;
* the hi-hat pedal (General MIDI 44) on every weak beat: 2 and 4 in 4/4,
  2 and 3 in 3/4.

Each note lasts until the next stroke of the same instrument or the end of
its beat (drum sounds die away by themselves; the length only keeps the
MIDI tidy and lets swing see a clean off-beat).  Beats without a chord
(N.C.) are silent.  Purely rule-based: no randomness.
"""
from __future__ import annotations

from music.performance import Sound

RIDE = 51
PEDAL_HI_HAT = 44
RIDE_STRONG = 76
RIDE_WEAK = 90
RIDE_SKIP = 62
HI_HAT = 70


def drum_sounds(beats) -> list:
    """Sounds of the drums over ``metre.song_beats`` (see the module doc)."""
    sounds = []
    for beat in beats:
        if beat.chord is None:
            continue
        if beat.pulse.ends_group and beat.offbeat < beat.end:
            sounds.append(Sound(beat.start, beat.offbeat, RIDE, _ride_velocity(beat)))
            sounds.append(Sound(beat.offbeat, beat.end, RIDE, RIDE_SKIP))
        else:
            sounds.append(Sound(beat.start, beat.end, RIDE, _ride_velocity(beat)))
        if not beat.pulse.strong:
            sounds.append(Sound(beat.start, beat.end, PEDAL_HI_HAT, HI_HAT))
    return sounds


def _ride_velocity(beat) -> int:
    return RIDE_STRONG if beat.pulse.strong else RIDE_WEAK
