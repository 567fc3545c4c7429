"""The pianist's comping: rootless voicings struck in a loose Charleston rhythm.

Rhythm: every beat that has a chord offers two places to strike, on the
beat and on its off-beat (``metre.Pulse.offbeat``).  Each is struck with a
chance that follows the metre, drawn with the caller's random generator
(so a seed fixes the part):

=================================== ======
place                               chance
=================================== ======
a strong beat                       0.45
the off-beat before a strong beat   0.45
any other beat                      0.20
any other off-beat                  0.15
=================================== ======

The first two are the Charleston's "one" and "and of two" and the push
into the next bar.  A chord that gets no strike at all is struck on its
first beat.  A strike holds until the next strike, the end of its chord
or ``HOLD_PULSES`` pulses, whichever comes first; off-beat strikes are
``PUSH_ACCENT`` louder, as pushes are.

Voicing: ``voicing.rootless_voicing`` under a ceiling, the lowest melody
note sounding while the chord lasts (else the lowest of the whole melody,
else ``DEFAULT_CEILING``), led smoothly from the voicing before.  Beats
without a chord (N.C.) are silent.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from fractions import Fraction

from music.performance import Sound
from music.band.voicing import rootless_voicing
from music.band.walking_bass import harmony

STRONG_CHANCE = 0.45
PUSH_CHANCE = 0.45
BEAT_CHANCE = 0.20
OFFBEAT_CHANCE = 0.15
HOLD_PULSES = Fraction(3, 2)
PUSH_ACCENT = 8
DEFAULT_CEILING = 72  # C5


def chord_spans(beats) -> list:
    """Stretches of consecutive beats under the same chord (N.C. beats left out)."""
    spans = []
    for beat in beats:
        if beat.chord is None:
            continue
        last = spans[-1][-1] if spans else None
        if last is not None and last.end == beat.start and harmony(last.chord) == harmony(beat.chord):
            spans[-1].append(beat)
        else:
            spans.append([beat])
    return spans


def comp_sounds(beats, melody, rng, velocity: int) -> list:
    """Sounds of the piano over ``metre.song_beats``.

    melody:   the melody's Sounds in order, never overlapping (for the ceiling
              of each voicing)
    velocity: loudness of a strike on the beat, 1..127
    """
    song_floor = min((sound.pitch for sound in melody), default=DEFAULT_CEILING)
    # Melody notes never overlap, so their starts and their ends both increase.
    melody_starts = [sound.start for sound in melody]
    melody_ends = [sound.end for sound in melody]
    sounds, previous = [], None
    for span in chord_spans(beats):
        strikes = _strikes(span, rng) or [(span[0].start, span[0].pulse.length, False)]
        span_end = span[-1].end
        overlapping = melody[bisect_right(melody_ends, span[0].start):
                             bisect_left(melody_starts, span_end)]
        ceiling = min((sound.pitch for sound in overlapping), default=song_floor)
        voicing = rootless_voicing(span[0].chord, ceiling, previous)
        for index, (start, pulse_length, offbeat) in enumerate(strikes):
            end = min(span_end, start + HOLD_PULSES * pulse_length)
            if index + 1 < len(strikes):
                end = min(end, strikes[index + 1][0])
            loudness = min(127, velocity + (PUSH_ACCENT if offbeat else 0))
            sounds += [Sound(start, end, pitch, loudness) for pitch in voicing]
        previous = voicing
    return sounds


def _strikes(span, rng) -> list:
    """(start, pulse length, is off-beat) of every strike drawn in a span."""
    strikes = []
    for beat in span:
        on_chance = STRONG_CHANCE if beat.pulse.strong else BEAT_CHANCE
        off_chance = PUSH_CHANCE if beat.pulse.ends_group else OFFBEAT_CHANCE
        # Both draws always happen, so one beat's outcome never shifts the next beat's.
        on, off = rng.random(2)
        if on < on_chance:
            strikes.append((beat.start, beat.pulse.length, False))
        if off < off_chance and beat.offbeat < beat.end:
            strikes.append((beat.offbeat, beat.pulse.length, True))
    return strikes
