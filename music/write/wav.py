"""Render a Song to a WAV file.

Two engines:

* ``numpy`` (always available): a small additive synthesizer playing every
  Part of ``music.band.arrange.arrange`` (so the band, swing and dynamics options
  sound as in the MIDI file), one voice per part:

  - melody: plucked tones, six harmonics whose amplitudes fall as 1/n and
    which die away exponentially, the higher ones faster, like a guitar
    string (silent after ``RING_DECAYS`` decay times);
  - chords (held chords or the pianist): soft sustained tones, a
    fundamental plus a quiet octave, at ``CHORD_LEVEL``;
  - bass: a plucked low tone, fundamental, octave and twelfth, dying away
    more slowly than the melody;
  - drums: noise bursts: the ride cymbal is high-passed noise plus three
    inharmonic partials ringing for about a second, the hi-hat pedal a short
    high-passed click; any other drum a short burst.  The noise is drawn once
    per drum from a fixed seed, so every render is identical.

  Loudness follows each sound's velocity.  Every note fades in over
  ``ATTACK_SECONDS`` and out over ``RELEASE_SECONDS`` after its written end,
  so nothing clicks.  The mix is scaled so its peak is ``PEAK_LEVEL`` of full
  scale and written as 16-bit mono; the file lasts the song plus a tail of
  ``RELEASE_SECONDS``, over which whatever still rings fades out.
  Memory is bounded: the mix is one float32 buffer (4 bytes a sample), notes
  are computed and the WAV written ``CHUNK_SAMPLES`` at a time, and a song
  longer than ``MAX_SECONDS`` (30 minutes: a 160 MB mix at 22050 Hz) is
  refused with a MusicError, by both engines.
* ``fluidsynth``: the song's MIDI file (same options) played through the
  ``fluidsynth`` program with a General MIDI SoundFont (what fluidsynth
  writes: usually 16-bit stereo), kept only when fluidsynth exits with
  status 0 and its file is a whole WAV as long as the song.  On Debian or Ubuntu:
  ``apt-get install fluidsynth timgm6mb-soundfont``.

Pitch: A4 (MIDI 69) is 440 Hz, equal temperament.
"""
from __future__ import annotations

import ctypes
import io
import math
import os
import shutil
import signal
import subprocess
import wave
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple, Optional

import numpy as np

from music.band.arrange import arrange
from music.files import output_path, replace_with, temporary_path, write_file_atomically
from music.write.midi import quarter_seconds, song_seconds, write_midi
from music.song import MusicError, Song

ATTACK_SECONDS = 0.005
RELEASE_SECONDS = 0.06
PEAK_LEVEL = 0.9
MAX_SECONDS = 30 * 60
CHUNK_SAMPLES = 1 << 16
RING_DECAYS = 7  # a decaying tone is cut after this many decay times (e^-7: -61 dB)
MELODY_HARMONICS = 6
MELODY_DECAY_SECONDS = 0.8  # time for the fundamental to fall to 1/e
CHORD_LEVEL = 0.55
CHORD_OCTAVE_LEVEL = 0.2
BASS_LEVEL = 0.9
BASS_DECAY_SECONDS = 1.2
BASS_OVERTONES = ((1, 1.0), (2, 0.35), (3, 0.12))  # (harmonic, amplitude)
DRUM_LEVEL = 0.25
RIDE, PEDAL_HI_HAT = 51, 44
RIDE_DECAY_SECONDS = 0.35
RIDE_PARTIALS_HZ = (3150.0, 4720.0, 6230.0)
HI_HAT_DECAY_SECONDS = 0.03
OTHER_DRUM_DECAY_SECONDS = 0.1
SOUNDFONT_ENV = "JAZZ_LSTM_SOUNDFONT"
SOUNDFONT_PLACES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
ENGINES = ("auto", "numpy", "fluidsynth")
# fluidsynth renders 30 minutes of music in well under a minute.
FLUIDSYNTH_TIMEOUT_SECONDS = 300
MAX_TOOL_MESSAGE_CHARS = 200
WAV_LENGTH_SLACK_SECONDS = 0.05
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def pitch_to_hertz(pitch: float) -> float:
    """Frequency in Hz of a MIDI pitch (A4 = 69 = 440 Hz, equal temperament)."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def render_wav(song: Song, path, *, sample_rate: int = 22050,
               tempo: float | None = None, engine: str = "auto",
               soundfont=None, **arrangement) -> Path:
    """Render the Song as a WAV file at ``path`` and return the path.

    sample_rate: samples per second
    tempo:       quarter notes per minute; ``None`` uses ``song.tempo``
    engine:      "numpy", "fluidsynth", or "auto" (fluidsynth when both the
                 program and a SoundFont are found, else numpy)
    soundfont:   path of a .sf2 file for fluidsynth; ``None`` looks in
                 $JAZZ_LSTM_SOUNDFONT, then the usual system places
    arrangement: the keyword options of ``music.band.arrange.arrange`` (band, swing,
                 dynamics, seed, programs, chord_velocity), as for the MIDI file

    Creates missing parent folders; the file appears complete or not at all.
    """
    if engine not in ENGINES:
        raise MusicError(f"unknown synth engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if not isinstance(sample_rate, int) or sample_rate < 1000:
        raise MusicError(f"sample_rate must be an integer of at least 1000 Hz, got {sample_rate!r}")
    check_wav_length(song, tempo)
    if engine != "numpy":
        program = shutil.which("fluidsynth")
        font = find_soundfont(soundfont)
        if program and font:
            return _render_with_fluidsynth(song, output_path(path), program, font, sample_rate, tempo,
                                           arrangement)
        if engine == "fluidsynth":
            missing = "the fluidsynth program" if not program else "a General MIDI SoundFont"
            raise MusicError(f"engine 'fluidsynth' needs {missing}, which was not found "
                             f"(install it, or set ${SOUNDFONT_ENV} to a .sf2 file)")
    samples = render_samples(song, sample_rate=sample_rate, tempo=tempo, **arrangement)
    return write_file_atomically(path, wav_bytes(samples, sample_rate))


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
                   tempo: float | None = None, **arrangement) -> np.ndarray:
    """The numpy engine's mono mix as float32 samples in -PEAK_LEVEL..PEAK_LEVEL.

    sample_rate: samples per second
    tempo:       quarter notes per minute; ``None`` uses ``song.tempo``
    arrangement: the keyword options of ``music.band.arrange.arrange``
    Raises MusicError for a song longer than MAX_SECONDS.
    """
    seconds = check_wav_length(song, tempo)
    parts = arrange(song, **arrangement)
    seconds_per_quarter = quarter_seconds(song, tempo)
    mix = np.zeros(math.ceil((seconds + RELEASE_SECONDS) * sample_rate), dtype=np.float32)
    for part in parts:
        voice = VOICES[part.voice]
        for sound in part.sounds:
            _add_note(mix, voice, sound.pitch,
                      start=float(sound.start) * seconds_per_quarter,
                      held=float(sound.end - sound.start) * seconds_per_quarter,
                      gain=voice.level * sound.velocity / 127.0, sample_rate=sample_rate)
    # Cymbals and plucked notes ring past the written end: fade them out over the tail.
    tail = min(len(mix), int(round(RELEASE_SECONDS * sample_rate)))
    mix[len(mix) - tail:] *= np.linspace(1.0, 0.0, tail, dtype=np.float32)
    peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
    if peak > 0:
        mix *= np.float32(PEAK_LEVEL / peak)
    return mix


class Voice(NamedTuple):
    """How one part sounds.

    tone:  f(sample indices from the note's start, MIDI pitch, sample rate) -> samples
    level: loudness at velocity 127
    ring:  seconds after which the tone is cut (it has died away), None to hold
    """

    tone: Callable
    level: float
    ring: Optional[float]


def _add_note(mix: np.ndarray, voice: Voice, pitch: int, *, start: float, held: float,
              gain: float, sample_rate: int) -> None:
    """Add one note to ``mix``, CHUNK_SAMPLES at a time (bounded memory)."""
    if voice.ring is not None:
        held = min(held, voice.ring)
    first = int(round(start * sample_rate))
    held_samples = int(round(held * sample_rate))
    release = int(round(RELEASE_SECONDS * sample_rate))
    attack = min(int(round(ATTACK_SECONDS * sample_rate)), held_samples)
    count = min(held_samples + release, len(mix) - first)
    for offset in range(0, max(count, 0), CHUNK_SAMPLES):
        index = np.arange(offset, min(offset + CHUNK_SAMPLES, count))
        envelope = np.ones(len(index))
        if attack:
            envelope = np.minimum(envelope, index / attack)
        envelope = np.minimum(envelope, (held_samples + release - index) / release)
        samples = voice.tone(index, pitch, sample_rate) * envelope * gain
        mix[first + offset:first + offset + len(index)] += samples.astype(np.float32)


def _plucked_tone(index: np.ndarray, pitch: int, sample_rate: int) -> np.ndarray:
    times = index / sample_rate
    hertz = pitch_to_hertz(pitch)
    tone = np.zeros(len(index))
    for harmonic in range(1, MELODY_HARMONICS + 1):
        if harmonic * hertz >= sample_rate / 2:
            break  # above Nyquist the partial would alias into a wrong pitch
        decay = np.exp(-times * harmonic / MELODY_DECAY_SECONDS)
        tone += np.sin(2 * np.pi * harmonic * hertz * times) * decay / harmonic
    return tone


def _sustained_tone(index: np.ndarray, pitch: int, sample_rate: int) -> np.ndarray:
    times = index / sample_rate
    hertz = pitch_to_hertz(pitch)
    tone = np.sin(2 * np.pi * hertz * times)
    if 2 * hertz < sample_rate / 2:
        tone += CHORD_OCTAVE_LEVEL * np.sin(4 * np.pi * hertz * times)
    return tone


def _bass_tone(index: np.ndarray, pitch: int, sample_rate: int) -> np.ndarray:
    times = index / sample_rate
    hertz = pitch_to_hertz(pitch)
    tone = np.zeros(len(index))
    for harmonic, amplitude in BASS_OVERTONES:
        if harmonic * hertz < sample_rate / 2:
            decay = np.exp(-times * harmonic / BASS_DECAY_SECONDS)
            tone += amplitude * np.sin(2 * np.pi * harmonic * hertz * times) * decay
    return tone


def _drum_tone(index: np.ndarray, pitch: int, sample_rate: int) -> np.ndarray:
    times = index / sample_rate
    noise = _noise(pitch, _drum_samples(sample_rate))
    # First difference: a simple high-pass, cymbals have little low end.
    hiss = noise[index + 1] - noise[index]
    if pitch == RIDE:
        bell = sum(np.sin(2 * np.pi * hertz * times) for hertz in RIDE_PARTIALS_HZ
                   if hertz < sample_rate / 2)
        return (0.5 * hiss + 0.3 * bell) * np.exp(-times / RIDE_DECAY_SECONDS)
    decay = HI_HAT_DECAY_SECONDS if pitch == PEDAL_HI_HAT else OTHER_DRUM_DECAY_SECONDS
    return 0.5 * hiss * np.exp(-times / decay)


def _drum_samples(sample_rate: int) -> int:
    """Samples a drum stroke can last: its ring plus the release, plus one."""
    return int(round((VOICES["drums"].ring + RELEASE_SECONDS) * sample_rate)) + 2


@lru_cache(maxsize=16)
def _noise(pitch: int, count: int) -> np.ndarray:
    """Gaussian noise fixed by the drum's pitch, so renders never differ."""
    return np.random.default_rng(pitch).standard_normal(count)


VOICES = {
    "melody": Voice(_plucked_tone, 1.0, RING_DECAYS * MELODY_DECAY_SECONDS),
    "chords": Voice(_sustained_tone, CHORD_LEVEL, None),
    "bass": Voice(_bass_tone, BASS_LEVEL, RING_DECAYS * BASS_DECAY_SECONDS),
    "drums": Voice(_drum_tone, DRUM_LEVEL, RING_DECAYS * RIDE_DECAY_SECONDS),
}


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit mono WAV bytes, converted and written CHUNK_SAMPLES at a time."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        for offset in range(0, len(samples), CHUNK_SAMPLES):
            chunk = np.clip(samples[offset:offset + CHUNK_SAMPLES], -1.0, 1.0)
            wav.writeframes(np.round(chunk * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def check_wav_length(song: Song, tempo: float | None = None) -> float:
    """The song's length in seconds; MusicError when it is over MAX_SECONDS, the
    limit of both engines (and of a page's embedded audio)."""
    seconds = song_seconds(song, tempo)
    if seconds > MAX_SECONDS:
        raise MusicError(f"{song.title or 'the song'} lasts {seconds / 60:.1f} minutes; a WAV "
                         f"file holds at most {MAX_SECONDS // 60} minutes")
    return seconds


def _render_with_fluidsynth(song: Song, target: Path, program: str, soundfont: Path,
                            sample_rate: int, tempo: float | None, arrangement: dict) -> Path:
    """Play the song's MIDI through fluidsynth into ``target``, atomically.

    fluidsynth writes a temporary file beside the target (named so that
    ``music.files.clean_stale_temp_files`` removes it once this process is
    gone); it replaces the target only when fluidsynth exits with status 0
    and the file is a whole WAV lasting the song.  An interrupt (Ctrl-C, or
    SIGTERM turned into KeyboardInterrupt) kills fluidsynth and removes the
    temporary files; on Linux fluidsynth also dies with this process.
    """
    seconds = check_wav_length(song, tempo)
    target.parent.mkdir(parents=True, exist_ok=True)
    midi_path, rendered = temporary_path(target), temporary_path(target)
    try:
        write_midi(song, midi_path, tempo=tempo, **arrangement)
        command = [program, "-ni", "-r", str(sample_rate), "-T", "wav", "-O", "s16",
                   "-F", str(rendered), str(soundfont), str(midi_path)]
        status, errors = _run_until_done(command, FLUIDSYNTH_TIMEOUT_SECONDS)
        if status != 0:
            lines = errors.strip().splitlines()
            detail = lines[-1][:MAX_TOOL_MESSAGE_CHARS] if lines else "no message"
            raise MusicError(f"fluidsynth could not render {target}: exit status {status} "
                             f"({detail})")
        problem = _wav_problem(rendered, sample_rate, seconds)
        if problem:
            raise MusicError(f"fluidsynth could not render {target}: {problem} (a full disk?); "
                             "nothing was written")
        replace_with(rendered, target)
    finally:
        midi_path.unlink(missing_ok=True)
        rendered.unlink(missing_ok=True)
    return target


def _run_until_done(command: list, timeout: float) -> tuple:
    """(exit status, stderr text) of a program; killed, and waited for, when this
    process is interrupted or the program outlasts ``timeout`` seconds."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise MusicError(f"{Path(command[0]).name} did not finish within {timeout:g} s") from None
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process.returncode, errors.decode("utf-8", "replace")


def _die_with_parent() -> None:
    """In the child before exec: on Linux, be killed when this process dies
    (even by SIGKILL), so no renderer is left writing; elsewhere nothing."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _wav_problem(path: Path, sample_rate: int, seconds: float) -> str | None:
    """None when ``path`` is a whole WAV at ``sample_rate`` lasting at least the
    song's ``seconds`` (less a grid step of slack); else what is wrong."""
    try:
        size = path.stat().st_size
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
            frame_bytes = wav.getsampwidth() * wav.getnchannels()
    except (OSError, EOFError, wave.Error) as error:
        return f"its WAV file is unreadable ({error})"
    if rate != sample_rate:
        return f"its WAV file has {rate} samples per second, not {sample_rate}"
    if frames * frame_bytes > size:
        return f"its WAV file is cut short ({size:,} bytes for {frames:,} frames)"
    if frames < (seconds - WAV_LENGTH_SLACK_SECONDS) * sample_rate:
        return f"its WAV file lasts {frames / sample_rate:.2f} s of the song's {seconds:.2f} s"
    return None
