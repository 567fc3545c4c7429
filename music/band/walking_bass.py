"""A walking bass line: one note on every beat that has a chord.

Rules, first that applies wins, for the beat's chord ``c`` and the chord
``n`` of the next beat:

1. the first beat of a chord: its bass note (the slash bass of ``C/E``,
   else the root);
2. the last beat before a new chord ``n``: an approach to ``n``'s bass
   note ``t``, drawn from a half step below, a half step above, a
   scale step above (``t + 2`` when in ``c``'s scale) and the fifth above
   (``t + 7``, the dominant approach);
3. a strong beat: the root or the fifth;
4. any other beat: a chord or scale tone of ``c`` within a major third of
   the last note, so the line walks.

Apart from the first beat of a chord, the last note's pitch is never
repeated when another choice exists.

Each pitch class is placed at the pitch nearest the previous note (the
lower on a tie, ``BASS_START`` for the first) inside ``BASS_LOWEST`` ..
``BASS_HIGHEST``.  An approach tone is placed next to where its target will
fall (moved by an octave when that leaves the range), so it resolves by the
step it promised.
Choices are drawn with the caller's random generator, so a seed fixes the
line.  Beats without a chord (N.C.) are silent.  Each note lasts its beat.
"""
from __future__ import annotations

from music.chords import scale_for
from music.performance import Sound

BASS_LOWEST = 28  # E1, the open E string
BASS_HIGHEST = 50  # D3
BASS_START = 36  # C2
STRONG_VELOCITY = 92
WEAK_VELOCITY = 82
WALKING_STEP = 4  # semitones


def bass_pitch_class(chord) -> int:
    """The pitch class the bass plays for a chord: its slash bass, else its root."""
    return chord.root if chord.bass is None else chord.bass


def harmony(chord) -> tuple:
    """What makes two chords the same for the bass (times aside)."""
    return chord.root, chord.pitch_classes, bass_pitch_class(chord)


def walking_bass(beats, rng) -> list:
    """Sounds of the bass line over ``metre.song_beats`` (see the module doc)."""
    sounds = []
    previous = None
    for index, beat in enumerate(beats):
        if beat.chord is None:
            continue
        before = beats[index - 1].chord if index else None
        after = beats[index + 1].chord if index + 1 < len(beats) else None
        choices = _pitch_choices(beat, before, after, previous)
        choices = [pitch for pitch in choices if pitch != previous] or choices
        pitch = choices[int(rng.integers(len(choices)))] if len(choices) > 1 else choices[0]
        sounds.append(Sound(beat.start, beat.end, pitch,
                            STRONG_VELOCITY if beat.pulse.strong else WEAK_VELOCITY))
        previous = pitch
    return sounds


def _pitch_choices(beat, before, after, previous) -> list:
    chord = beat.chord
    if before is None or harmony(before) != harmony(chord):
        return [_place(bass_pitch_class(chord), previous)]
    if after is not None and harmony(after) != harmony(chord):
        target = _place(bass_pitch_class(after), previous)
        steps = [-1, 1, 7] + ([2] if (target + 2) % 12 in scale_for(chord) else [])
        return [_in_range(target + step) for step in sorted(steps)]
    if beat.pulse.strong:
        fifth = (chord.root + 7) % 12
        classes = [chord.root] + ([fifth] if fifth in chord.pitch_classes else [])
        return [_place(pc, previous) for pc in classes]
    nearby = [_place(pc, previous) for pc in sorted(set(chord.pitch_classes) | scale_for(chord))]
    walking = [pitch for pitch in nearby
               if previous is None or 0 < abs(pitch - previous) <= WALKING_STEP]
    return sorted(set(walking or nearby))


def _in_range(pitch: int) -> int:
    """``pitch`` moved by octaves into the bass range."""
    while pitch > BASS_HIGHEST:
        pitch -= 12
    while pitch < BASS_LOWEST:
        pitch += 12
    return pitch


def _place(pitch_class: int, previous) -> int:
    """The pitch of ``pitch_class`` in the bass range nearest ``previous``."""
    centre = BASS_START if previous is None else previous
    pitches = range(BASS_LOWEST + (pitch_class - BASS_LOWEST) % 12, BASS_HIGHEST + 1, 12)
    return min(pitches, key=lambda pitch: (abs(pitch - centre), pitch))
