"""Arrange a Song for a band: which parts play what, swung and shaded.

``arrange(song, band=...)`` returns the Parts that ``music.write.midi``
writes as tracks and ``music.write.wav`` renders:

* ``band="none"``: the melody, and the song's chords held as written
  ("Chords", block chords from ``voicing.chord_voicing``).  For music whose
  chords are themselves notes to play (the notes encoding).
* ``band="comp"``: the melody over a pianist comping rootless voicings
  ("Piano", ``music.band.comping``).
* ``band="trio"``: the comping plus a walking bass ("Bass",
  ``music.band.walking_bass``) and drums on the General MIDI percussion channel
  ("Drums", ``music.band.drums``).

Then ``swing`` (``music.band.swing``) moves the off-beat eighths of every part,
and with ``dynamics`` the melody gets accents and ghost notes
(``music.band.dynamics``) instead of its written velocities.

``COMBO_OPTIONS`` is how a generated jazz solo should sound (a trio, medium
swing, shaded melody); the plain defaults reproduce the song as written.
"""
from __future__ import annotations

import numpy as np

from music.band.comping import comp_sounds
from music.band.drums import drum_sounds
from music.band.dynamics import melody_velocities
from music.metre import measure_starts, song_beats
from music.performance import DRUM_CHANNEL, Part, Sound, check_range
from music.song import MusicError
from music.band.swing import DEFAULT_SWING, checked_swing, swing_sounds
from music.band.voicing import chord_voicing
from music.band.walking_bass import walking_bass

BANDS = ("none", "comp", "trio")
MELODY_CHANNEL, CHORD_CHANNEL, BASS_CHANNEL = 0, 1, 2
MELODY_PROGRAM = 26  # Electric Guitar (jazz)
CHORD_PROGRAM = 0  # Acoustic Grand Piano
BASS_PROGRAM = 32  # Acoustic Bass
DRUM_KIT = 0  # the standard kit
CHORD_VELOCITY = 56
COMP_VELOCITY = 62
COMBO_OPTIONS = {"band": "trio", "swing": DEFAULT_SWING, "dynamics": True}


def arrange(song, *, band: str = "none", swing=1, dynamics: bool = False, seed: int = 0,
            melody_program: int = MELODY_PROGRAM, chord_program: int = CHORD_PROGRAM,
            bass_program: int = BASS_PROGRAM, chord_velocity: int = CHORD_VELOCITY) -> tuple:
    """The Parts of the song's performance (see the module doc).

    band:           "none", "comp" or "trio"
    swing:          long:short ratio of a pair of eighths; 1 (or 0) straight, 2 triplet
    dynamics:       shade the melody (True) or keep its written velocities (False)
    seed:           integer >= 0 fixing the comping rhythm and the bass line
    melody_program, chord_program, bass_program: General MIDI programs 0..127
    chord_velocity: velocity 1..127 of the held chords of band "none"
    """
    if band not in BANDS:
        raise MusicError(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
    ratio = checked_swing(swing)
    check_range("seed", seed, 0, 2 ** 63 - 1)
    check_range("chord_velocity", chord_velocity, 1, 127)
    for name, program in (("melody_program", melody_program), ("chord_program", chord_program),
                          ("bass_program", bass_program)):
        check_range(name, program, 0, 127)
    if not isinstance(dynamics, bool):
        raise MusicError(f"dynamics must be True or False, got {dynamics!r}")

    melody = _melody_sounds(song, dynamics)
    parts = [Part("Melody", MELODY_CHANNEL, melody_program, "melody", melody)]
    if band == "none":
        parts.append(Part("Chords", CHORD_CHANNEL, chord_program, "chords",
                          _block_chords(song, chord_velocity)))
    else:
        beats = song_beats(song)
        comp_rng, bass_rng = [np.random.default_rng(child)
                              for child in np.random.SeedSequence(seed).spawn(2)]
        parts.append(Part("Piano", CHORD_CHANNEL, chord_program, "chords",
                          comp_sounds(beats, melody, comp_rng, COMP_VELOCITY)))
        if band == "trio":
            parts.append(Part("Bass", BASS_CHANNEL, bass_program, "bass",
                              walking_bass(beats, bass_rng)))
            parts.append(Part("Drums", DRUM_CHANNEL, DRUM_KIT, "drums", drum_sounds(beats)))
    starts = measure_starts(song)
    lengths = [measure.length for measure in song.measures]
    return tuple(Part(part.name, part.channel, part.program, part.voice,
                      swing_sounds(part.sounds, starts, lengths, song.time_signature, ratio))
                 for part in parts)


def _melody_sounds(song, dynamics: bool) -> list:
    """The melody as played: a note held over bar lines is one Sound."""
    notes = song.melody_notes
    velocities = melody_velocities(song) if dynamics else [note.velocity for note in notes]
    return [Sound(note.time, note.end, note.pitch, velocity)
            for note, velocity in zip(notes, velocities)]


def _block_chords(song, velocity: int) -> list:
    """Every chord held as written, cut short where the next chord of its
    measure starts, so two chords never hold the same key at once."""
    sounds = []
    for bar_start, measure in zip(measure_starts(song), song.measures):
        chords = sorted(measure.chords, key=lambda chord: chord.start)
        for index, chord in enumerate(chords):
            end = chord.end
            if index + 1 < len(chords):
                end = min(end, chords[index + 1].start)
            if end > chord.start:
                sounds += [Sound(bar_start + chord.start, bar_start + end, pitch, velocity)
                           for pitch in chord_voicing(chord)]
    return sounds
