"""Render a Song to a WAV file.

Two engines:

* ``numpy`` (always available): a small additive synthesizer.  Melody notes
  are plucked tones, six harmonics whose amplitudes fall as 1/n and which die
  away exponentially, the higher ones faster, like a guitar string.  Chord
  notes (voiced as in the MIDI file, see ``music.midi_out.chord_voicing``)
  are soft sustained tones, a fundamental plus a quiet octave, at a quarter
  of the melody's level.  Every note fades in over ``ATTACK_SECONDS`` and out
  over ``RELEASE_SECONDS`` after its written end, so nothing clicks.  The mix
  is scaled so its peak is ``PEAK_LEVEL`` of full scale and written as 16-bit
  mono.  The file lasts the song plus a tail of ``RELEASE_SECONDS`` for the
  last note's release.
* ``fluidsynth``: the song's MIDI file played through the ``fluidsynth``
  program with a General MIDI SoundFont (what fluidsynth writes: usually
  16-bit stereo).

Pitch: A4 (MIDI 69) is 440 Hz, equal temperament.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from music.midi_out import (chord_voicing, measure_starts, quarter_seconds,
                            song_seconds, write_bytes_atomically, write_midi)
from music.song import MusicError, Song

ATTACK_SECONDS = 0.005
RELEASE_SECONDS = 0.06
PEAK_LEVEL = 0.9
MELODY_HARMONICS = 6
MELODY_DECAY_SECONDS = 0.8  # time for the fundamental to fall to 1/e
CHORD_LEVEL = 0.25
CHORD_OCTAVE_LEVEL = 0.2
SOUNDFONT_ENV = "JAZZ_LSTM_SOUNDFONT"
SOUNDFONT_PLACES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
ENGINES = ("auto", "numpy", "fluidsynth")


def pitch_to_hertz(pitch: float) -> float:
    """Frequency in Hz of a MIDI pitch (A4 = 69 = 440 Hz, equal temperament)."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def render_wav(song: Song, path, *, sample_rate: int = 22050,
               tempo: float | None = None, engine: str = "auto",
               soundfont=None) -> Path:
    """Render the Song as a WAV file at ``path`` and return the path.

    sample_rate: samples per second
    tempo:       quarter notes per minute; ``None`` uses ``song.tempo``
    engine:      "numpy", "fluidsynth", or "auto" (fluidsynth when both the
                 program and a SoundFont are found, else numpy)
    soundfont:   path of a .sf2 file for fluidsynth; ``None`` looks in
                 $JAZZ_LSTM_SOUNDFONT, then the usual system places

    Creates missing parent folders; the file appears complete or not at all.
    """
    if engine not in ENGINES:
        raise MusicError(f"unknown synth engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if not isinstance(sample_rate, int) or sample_rate < 1000:
        raise MusicError(f"sample_rate must be an integer of at least 1000 Hz, got {sample_rate!r}")
    if engine != "numpy":
        program = shutil.which("fluidsynth")
        font = find_soundfont(soundfont)
        if program and font:
            return _render_with_fluidsynth(song, Path(path), program, font, sample_rate, tempo)
        if engine == "fluidsynth":
            missing = "the fluidsynth program" if not program else "a General MIDI SoundFont"
            raise MusicError(f"engine 'fluidsynth' needs {missing}, which was not found "
                             f"(install it, or set ${SOUNDFONT_ENV} to a .sf2 file)")
    samples = render_samples(song, sample_rate=sample_rate, tempo=tempo)
    return write_bytes_atomically(path, _wav_bytes(samples, sample_rate))


def find_soundfont(soundfont=None) -> Path | None:
    """The SoundFont to use: ``soundfont``, else $JAZZ_LSTM_SOUNDFONT, else
    the first of ``SOUNDFONT_PLACES`` that exists; ``None`` when there is none.

    A SoundFont named explicitly (argument or variable) must exist.
    """
    named = soundfont if soundfont is not None else os.environ.get(SOUNDFONT_ENV)
    if named:
        if not Path(named).is_file():
            raise MusicError(f"SoundFont {named} does not exist")
        return Path(named)
    return next((place for place in SOUNDFONT_PLACES if place.is_file()), None)


def render_samples(song: Song, *, sample_rate: int = 22050,
                   tempo: float | None = None) -> np.ndarray:
    """The numpy engine's mono mix as float64 samples in -PEAK_LEVEL..PEAK_LEVEL.

    sample_rate: samples per second
    tempo:       quarter notes per minute; ``None`` uses ``song.tempo``
    """
    seconds_per_quarter = quarter_seconds(song, tempo)
    total = int(np.ceil((song_seconds(song, tempo) + RELEASE_SECONDS) * sample_rate))
    mix = np.zeros(total)
    for measure_start, measure in zip(measure_starts(song), song.measures):
        for note in measure.notes:
            if note.is_rest:
                continue
            start = float(measure_start + note.start) * seconds_per_quarter
            length = float(note.duration) * seconds_per_quarter
            tone = _plucked_tone(pitch_to_hertz(note.pitch), length, sample_rate)
            _add(mix, tone * (note.velocity / 127.0), start, sample_rate)
        for chord in measure.chords:
            start = float(measure_start + chord.start) * seconds_per_quarter
            length = float(chord.duration) * seconds_per_quarter
            for pitch in chord_voicing(chord):
                tone = _sustained_tone(pitch_to_hertz(pitch), length, sample_rate)
                _add(mix, tone * CHORD_LEVEL, start, sample_rate)
    peak = np.max(np.abs(mix)) if total else 0.0
    if peak > 0:
        mix *= PEAK_LEVEL / peak
    return mix


def _add(mix: np.ndarray, tone: np.ndarray, start_seconds: float, sample_rate: int) -> None:
    first = int(round(start_seconds * sample_rate))
    last = min(first + len(tone), len(mix))
    mix[first:last] += tone[:last - first]


def _envelope(length_seconds: float, sample_rate: int) -> tuple:
    """Sample times and an attack/hold/release envelope for one note."""
    held = int(round(length_seconds * sample_rate))
    count = held + int(round(RELEASE_SECONDS * sample_rate))
    times = np.arange(count) / sample_rate
    envelope = np.ones(count)
    attack = min(int(round(ATTACK_SECONDS * sample_rate)), held)
    envelope[:attack] = np.linspace(0.0, 1.0, attack, endpoint=False)
    envelope[held:] = np.linspace(1.0, 0.0, count - held)
    return times, envelope


def _plucked_tone(hertz: float, length_seconds: float, sample_rate: int) -> np.ndarray:
    times, envelope = _envelope(length_seconds, sample_rate)
    tone = np.zeros_like(times)
    for harmonic in range(1, MELODY_HARMONICS + 1):
        if harmonic * hertz >= sample_rate / 2:
            break  # above Nyquist the partial would alias into a wrong pitch
        decay = np.exp(-times * harmonic / MELODY_DECAY_SECONDS)
        tone += np.sin(2 * np.pi * harmonic * hertz * times) * decay / harmonic
    return tone * envelope


def _sustained_tone(hertz: float, length_seconds: float, sample_rate: int) -> np.ndarray:
    times, envelope = _envelope(length_seconds, sample_rate)
    tone = np.sin(2 * np.pi * hertz * times)
    if 2 * hertz < sample_rate / 2:
        tone += CHORD_OCTAVE_LEVEL * np.sin(4 * np.pi * hertz * times)
    return tone * envelope


def _wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _render_with_fluidsynth(song: Song, target: Path, program: str, soundfont: Path,
                            sample_rate: int, tempo: float | None) -> Path:
    """Play the song's MIDI through fluidsynth into ``target``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
        midi_path = write_midi(song, Path(work) / "song.mid", tempo=tempo)
        rendered = Path(work) / "song.wav"
        command = [program, "-ni", "-r", str(sample_rate), "-T", "wav", "-O", "s16",
                   "-F", str(rendered), str(soundfont), str(midi_path)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not rendered.is_file() or rendered.stat().st_size == 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            detail = reason[-1] if reason else f"exit status {result.returncode}"
            raise MusicError(f"fluidsynth could not render {target.name}: {detail}")
        os.replace(rendered, target)
    return target
