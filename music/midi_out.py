"""Write a Song as a type-1 Standard MIDI File.

Track layout
------------
0. conductor: sequence name (the song title), tempo, time signature
1. "Melody": the melody notes on channel 0, General MIDI program
   ``melody_program`` (default 26, Electric Guitar (jazz))
2. "Chords": the chords on channel 1, program ``chord_program``
   (default 0, Acoustic Grand Piano), voiced by ``chord_voicing``

Times: a MIDI beat is a quarter note, so a start of ``q`` quarter lengths is
``q * ticks_per_beat`` ticks.  With the default 480 ticks per beat every
duplet, triplet, quintuplet and sextuplet subdivision is an exact tick;
other times round to the nearest tick.  Measures lie end to end: measure
``k`` starts at the sum of the lengths of measures ``0..k-1``.

The output depends only on the Song and the options (mido writes no dates or
other run-dependent bytes), so the same Song always gives the same bytes.
"""
from __future__ import annotations

import io
import os
import secrets
from fractions import Fraction
from pathlib import Path

import mido

from music.song import Chord, MusicError, Song

MELODY_CHANNEL = 0
CHORD_CHANNEL = 1
CHORD_VELOCITY = 56
BASS_OCTAVE_START = 48  # C3, the octave just below middle C
UPPER_OCTAVE_START = 60  # C4, middle C
MAX_MIDI_TEMPO = 0xFFFFFF  # set_tempo holds 3 bytes of microseconds per beat


def measure_starts(song: Song) -> list:
    """Absolute start of every measure, in quarter lengths (Fractions)."""
    starts = []
    position = Fraction(0)
    for measure in song.measures:
        starts.append(position)
        position += measure.length
    return starts


def song_quarters(song: Song) -> Fraction:
    """Total length of the song in quarter lengths (sum of measure lengths)."""
    return sum((measure.length for measure in song.measures), Fraction(0))


def quarter_seconds(song: Song, tempo: float | None = None) -> float:
    """Seconds per quarter note.

    tempo: quarter notes per minute; ``None`` uses ``song.tempo``.
    """
    return 60.0 / _checked_tempo(song, tempo)


def song_seconds(song: Song, tempo: float | None = None) -> float:
    """Length of the song in seconds.

    tempo: quarter notes per minute; ``None`` uses ``song.tempo``.
    """
    return float(song_quarters(song)) * quarter_seconds(song, tempo)


def chord_voicing(chord: Chord) -> list:
    """MIDI pitches for a chord, low to high.

    The root sits alone in the bass octave C3..B3 (MIDI 48..59); every other
    pitch class appears once in the octave C4..B4 (MIDI 60..71), which makes a
    close-position voicing.  Nothing goes above B4, so a melody written mostly
    above middle C keeps the upper register to itself.
    """
    bass = BASS_OCTAVE_START + chord.root
    upper = [UPPER_OCTAVE_START + pc for pc in chord.pitch_classes if pc != chord.root]
    return [bass] + upper


def song_to_midi_bytes(song: Song, *, tempo: float | None = None,
                       melody_program: int = 26, chord_program: int = 0,
                       ticks_per_beat: int = 480,
                       chord_velocity: int = CHORD_VELOCITY) -> bytes:
    """The Song as the bytes of a type-1 MIDI file.

    tempo:          quarter notes per minute; ``None`` uses ``song.tempo``
    melody_program: General MIDI program number 0..127 for the melody
    chord_program:  General MIDI program number 0..127 for the chords
    ticks_per_beat: MIDI ticks per quarter note, 1..32767
    chord_velocity: MIDI velocity 1..127 of every chord note
    """
    bpm = _checked_tempo(song, tempo)
    _check_range("melody_program", melody_program, 0, 127)
    _check_range("chord_program", chord_program, 0, 127)
    _check_range("ticks_per_beat", ticks_per_beat, 1, 0x7FFF)
    _check_range("chord_velocity", chord_velocity, 1, 127)

    end_tick = _to_ticks(song_quarters(song), ticks_per_beat)
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(_conductor_track(song, bpm, end_tick))
    midi.tracks.append(_instrument_track(
        "Melody", MELODY_CHANNEL, melody_program,
        _melody_notes(song, ticks_per_beat), end_tick))
    midi.tracks.append(_instrument_track(
        "Chords", CHORD_CHANNEL, chord_program,
        _chord_notes(song, ticks_per_beat, chord_velocity), end_tick))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(song: Song, path, **options) -> Path:
    """Write the Song as a MIDI file at ``path`` and return the path.

    Takes the keyword options of ``song_to_midi_bytes``.  Creates missing
    parent folders; the file appears complete or not at all.
    """
    return write_bytes_atomically(path, song_to_midi_bytes(song, **options))


def write_bytes_atomically(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    ``os.replace`` within one folder is atomic, so a reader (or a crash) sees
    either the old file or the complete new one, never half of it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp_name = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    # os.open rather than mkstemp: mkstemp's files are private (0600), but the
    # user's MIDI and WAV files should get the usual umask-based permissions.
    handle = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _checked_tempo(song: Song, tempo: float | None) -> float:
    bpm = song.tempo if tempo is None else tempo
    # Slower than this no longer fits the 3-byte set_tempo field.
    slowest = 60_000_000 / MAX_MIDI_TEMPO
    if not (slowest <= bpm < 1000):
        raise MusicError(f"tempo must be between {slowest:.2f} and 1000 bpm, got {bpm}")
    return float(bpm)


def _check_range(name: str, value: int, lowest: int, highest: int) -> None:
    if not isinstance(value, int) or not (lowest <= value <= highest):
        raise MusicError(f"{name} must be an integer in {lowest}..{highest}, got {value!r}")


def _to_ticks(quarters: Fraction, ticks_per_beat: int) -> int:
    return round(quarters * ticks_per_beat)


def _midi_text(text: str) -> str:
    # mido encodes meta text as latin-1; anything else would raise mid-write.
    return text.encode("latin-1", "replace").decode("latin-1")


def _melody_notes(song: Song, ticks_per_beat: int) -> list:
    """(start tick, end tick, pitch, velocity) for every sounding note."""
    notes = []
    for measure_start, measure in zip(measure_starts(song), song.measures):
        for note in measure.notes:
            if note.is_rest:
                continue
            notes.append((_to_ticks(measure_start + note.start, ticks_per_beat),
                          _to_ticks(measure_start + note.end, ticks_per_beat),
                          int(note.pitch), int(note.velocity)))
    return notes


def _chord_notes(song: Song, ticks_per_beat: int, velocity: int) -> list:
    """(start tick, end tick, pitch, velocity) for every voiced chord note.

    A chord is cut short where the next chord of its measure starts, so two
    chords never hold the same key at once (MIDI cannot tell those apart).
    """
    notes = []
    for measure_start, measure in zip(measure_starts(song), song.measures):
        chords = sorted(measure.chords, key=lambda chord: chord.start)
        for index, chord in enumerate(chords):
            end = chord.end
            if index + 1 < len(chords):
                end = min(end, chords[index + 1].start)
            start_tick = _to_ticks(measure_start + chord.start, ticks_per_beat)
            end_tick = _to_ticks(measure_start + end, ticks_per_beat)
            for pitch in chord_voicing(chord):
                notes.append((start_tick, end_tick, pitch, velocity))
    return notes


def _conductor_track(song: Song, bpm: float, end_tick: int) -> mido.MidiTrack:
    numerator, denominator = song.time_signature
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=_midi_text(song.title or "jazz-lstm"), time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=numerator,
                                  denominator=denominator, time=0))
    track.append(mido.MetaMessage("end_of_track", time=end_tick))
    return track


def _instrument_track(name: str, channel: int, program: int, notes: list,
                      end_tick: int) -> mido.MidiTrack:
    """A track playing ``notes`` given as (start tick, end tick, pitch, velocity).

    Notes shorter than one tick after rounding are left out: MIDI cannot
    sound them.  Within one tick note-offs come before note-ons (so a repeated
    pitch is released before it is struck again), then lower pitches first.
    """
    note_off, note_on = 0, 1
    events = []
    for start_tick, stop_tick, pitch, velocity in notes:
        if stop_tick <= start_tick:
            continue
        events.append((start_tick, note_on, pitch, velocity))
        events.append((stop_tick, note_off, pitch, 0))
    events.sort()

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    previous_tick = 0
    for tick, kind, pitch, velocity in events:
        message_type = "note_on" if kind == note_on else "note_off"
        track.append(mido.Message(message_type, channel=channel, note=pitch,
                                  velocity=velocity, time=tick - previous_tick))
        previous_tick = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - previous_tick)))
    return track
