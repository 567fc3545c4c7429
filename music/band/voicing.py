"""Chord voicings: held block chords, and the pianist's rootless voicings.

Block chords (``chord_voicing``, for ``band="none"``): the root alone in the
octave C3..B3, every other pitch class once in C4..B4.

Rootless voicings (``rootless_voicing``, for the combo's pianist): the bass
plays the root, so the piano leaves it out and plays three notes, in one of
two shapes (intervals in semitones above the root):

* A: 3rd, 7th, 9th from the bottom up (Dm7: F C E);
* B: 7th, 3rd, 13th (Dm7: C F B).

Which degree fills each slot, by ``chords.chord_quality``:

=============== ======= =================== ===================
quality         3rd     7th                 9th / 13th
=============== ======= =================== ===================
major           3       7 (else 6)          9 / 13
minor           b3      b7 (maj7, else 6)   9 / 13
dominant        3       b7                  the chord's b9/#9, else 9 / b13, else 13
half-diminished b3      b7                  11 / b5
diminished      b3      bb7 (6)             9 / b5
augmented       3       b7 (else #5)        9 / #5
other (sus)     4       b7                  9 / 13
=============== ======= =================== ===================

Each note goes to the nearest pitch above the one below it.  The shape and
octave are chosen so the top note stays under ``ceiling`` (the melody's
lowest note nearby) with the bottom note at ``COMP_LOWEST`` or above, and
among those the one that moves the least from the previous voicing (the
sum of the distances between the voices, bottom to bottom and so on);
without a previous voicing, the one nearest ``COMP_CENTRE``.  When no
three-note voicing fits under the ceiling, the bottom two notes alone (a
shell voicing: 3-7 or 7-3) are tried the same way; when none of those fits
either, the lowest shell is taken.
"""
from __future__ import annotations

from music.chords import chord_quality
from music.song import Chord

BASS_OCTAVE_START = 48  # C3, the octave just below middle C
UPPER_OCTAVE_START = 60  # C4, middle C
# B-flat 2: both shapes have a tritone, fourth or fifth at the bottom, clear down
# to about here (a third this low would turn to mud).
COMP_LOWEST = 46
COMP_CENTRE = 60

# quality -> (3rd, 7th candidates, 9th candidates, 13th candidates), first present wins;
# the last candidate is taken when none of them is in the chord.
_DEGREES = {
    "major": (4, (11, 9), (2,), (9,)),
    "minor": (3, (10, 11, 9), (2,), (9,)),
    "dominant": (4, (10,), (1, 3, 2), (8, 9)),
    "half-diminished": (3, (10,), (5,), (6,)),
    "diminished": (3, (9,), (2,), (6,)),
    "augmented": (4, (10, 8), (2,), (8,)),
    "other": (5, (10,), (2,), (9,)),
}


def chord_voicing(chord: Chord) -> list:
    """MIDI pitches of a held block chord, low to high.

    The root sits alone in the bass octave C3..B3 (MIDI 48..59); every other
    pitch class appears once in C4..B4 (MIDI 60..71), a close-position
    voicing that leaves the register above middle C's octave to the melody.
    """
    bass = BASS_OCTAVE_START + chord.root
    upper = [UPPER_OCTAVE_START + pc for pc in chord.pitch_classes if pc != chord.root]
    return [bass] + upper


def rootless_shapes(chord: Chord) -> tuple:
    """Pitch classes of shapes A (3-7-9) and B (7-3-13), bottom to top."""
    intervals = {(pc - chord.root) % 12 for pc in chord.pitch_classes}
    quality = chord_quality(chord)
    third, sevenths, ninths, thirteenths = _DEGREES[quality]
    if quality == "other" and third not in intervals and 2 in intervals:
        third = 2  # sus2

    def pick(candidates):
        return next((step for step in candidates if step in intervals), candidates[-1])

    seventh, ninth, thirteenth = pick(sevenths), pick(ninths), pick(thirteenths)
    if thirteenth == seventh:  # a sixth chord: its 6th already plays the 7th's part
        thirteenth = ninth
    shape_a = (third, seventh, ninth)
    shape_b = (seventh, third, thirteenth)
    return tuple(tuple((chord.root + step) % 12 for step in shape) for shape in (shape_a, shape_b))


def stack(pitch_classes, bottom: int) -> tuple:
    """MIDI pitches: ``bottom``, then each next pitch class at the nearest pitch above."""
    pitches = [bottom]
    for pitch_class in pitch_classes[1:]:
        step = (pitch_class - pitches[-1]) % 12 or 12
        pitches.append(pitches[-1] + step)
    return tuple(pitches)


def rootless_voicing(chord: Chord, ceiling: int, previous=None) -> tuple:
    """MIDI pitches, low to high, of the chord's rootless voicing (see the module doc).

    ceiling:  the top note must lie below this MIDI pitch when it can
    previous: the pitches of the voicing before, or None
    """
    voicings = []
    for shape in rootless_shapes(chord):
        first = COMP_LOWEST + (shape[0] - COMP_LOWEST) % 12
        voicings += [stack(shape, first + octave) for octave in (0, 12, 24)]
    shells = [voicing[:2] for voicing in voicings]
    fitting = ([voicing for voicing in voicings if voicing[-1] < ceiling]
               or [shell for shell in shells if shell[-1] < ceiling])
    if not fitting:
        return min(shells, key=lambda shell: (shell[-1], shell))

    def distance(voicing):
        if previous is None:
            return abs(sum(voicing) - COMP_CENTRE * len(voicing))
        return sum(abs(new - old) for new, old in zip(voicing, previous))

    return min(fitting, key=lambda voicing: (distance(voicing), voicing))
