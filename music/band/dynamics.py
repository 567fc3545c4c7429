"""Melody dynamics: louder on strong beats and phrase peaks, ghosted passing notes.

Every sounding note's written velocity ``v`` becomes
``clamp(v + beat + peak + ghost, 1, 127)`` where

* beat  = ``STRONG_ACCENT`` (+10) when the note starts on a strong pulse,
  ``BEAT_ACCENT`` (+4) on any other pulse, 0 off the beat;
* peak  = ``PEAK_ACCENT`` (+12) for the first note reaching the highest
  pitch of its phrase (a phrase: notes separated by rests shorter than
  ``PHRASE_BREAK``, one quarter note);
* ghost = ``GHOST`` (-24) for a short note (at most an eighth) off the
  beat and lower than both its neighbours in the phrase, the swallowed
  note of a jazz line.

The rules read only the written notes, so the same song always gets the
same velocities.  Pulses and strong beats are ``music.metre``'s.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from music.metre import bar_pulses

STRONG_ACCENT = 10
BEAT_ACCENT = 4
PEAK_ACCENT = 12
GHOST = -24
PHRASE_BREAK = Fraction(1)
GHOST_LONGEST = Fraction(1, 2)


class _Placed(NamedTuple):
    start: Fraction  # quarter lengths from the song start
    end: Fraction
    pitch: int
    velocity: int  # as written
    beat_accent: int


def melody_velocities(song) -> list:
    """Velocities 1..127 for ``song.melody_notes``, in the same order (a
    note held over bar lines is one note, accented where it is struck)."""
    pulses = [{pulse.start: STRONG_ACCENT if pulse.strong else BEAT_ACCENT
               for pulse in bar_pulses(measure.length, song.time_signature)}
              for measure in song.measures]
    notes = [_Placed(note.time, note.end, note.pitch, note.velocity,
                     pulses[note.bar].get(note.start, 0)) for note in song.melody_notes]
    velocities = []
    for phrase in _phrases(notes):
        top = max(note.pitch for note in phrase)
        peak = next(index for index, note in enumerate(phrase) if note.pitch == top)
        for index, note in enumerate(phrase):
            change = note.beat_accent + (PEAK_ACCENT if index == peak else 0)
            if _is_ghost(phrase, index):
                change += GHOST
            velocities.append(min(127, max(1, note.velocity + change)))
    return velocities


def _phrases(notes) -> list:
    """Stretches of notes whose gaps are shorter than PHRASE_BREAK."""
    phrases = []
    for note in notes:
        if phrases and note.start - phrases[-1][-1].end < PHRASE_BREAK:
            phrases[-1].append(note)
        else:
            phrases.append([note])
    return phrases


def _is_ghost(phrase, index: int) -> bool:
    if index == 0 or index == len(phrase) - 1:
        return False
    note = phrase[index]
    return (note.beat_accent == 0 and note.end - note.start <= GHOST_LONGEST
            and phrase[index - 1].pitch > note.pitch < phrase[index + 1].pitch)
