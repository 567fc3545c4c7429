"""What the band plays: Sounds, grouped into Parts (one per MIDI track).

Times are quarter lengths from the start of the song, as exact Fractions,
so the MIDI writer and the synthesizer see exactly the same performance.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from music.song import MusicError

VOICES = ("melody", "chords", "bass", "drums")
DRUM_CHANNEL = 9  # General MIDI percussion: MIDI channel 10, counted from 0


class Sound(NamedTuple):
    """One struck note: start < end in quarter lengths, MIDI pitch and velocity."""

    start: Fraction
    end: Fraction
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Part:
    """One instrument of the performance.

    name:    the MIDI track name ("Melody", "Piano", "Bass", "Drums")
    channel: MIDI channel 0..15 (9 is General MIDI percussion)
    program: General MIDI program 0..127
    voice:   which of the built-in synthesizer's VOICES plays it
    sounds:  its Sounds, sorted by start then pitch
    """

    name: str
    channel: int
    program: int
    voice: str
    sounds: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "sounds", tuple(sorted(self.sounds)))
        check_range("channel", self.channel, 0, 15)
        check_range(f"{self.name} program", self.program, 0, 127)
        if self.voice not in VOICES:
            raise MusicError(f"part {self.name}: voice must be one of {', '.join(VOICES)}, "
                             f"got {self.voice!r}")
        for sound in self.sounds:
            if not (sound.start < sound.end and 0 <= sound.pitch <= 127
                    and 1 <= sound.velocity <= 127):
                raise MusicError(f"part {self.name}: bad sound {sound}")


def check_range(name: str, value, lowest: int, highest: int) -> None:
    """Raise MusicError unless ``value`` is an integer in lowest..highest."""
    if isinstance(value, bool) or not isinstance(value, int) or not (lowest <= value <= highest):
        raise MusicError(f"{name} must be an integer in {lowest}..{highest}, got {value!r}")
