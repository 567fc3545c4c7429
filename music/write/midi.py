"""Write a Song as a type-1 Standard MIDI File.

Track layout: track 0 is the conductor (sequence name = the song title,
tempo, time signature); then one track per Part of ``music.band.arrange.arrange``,
in this order and on these channels:

========= ======= ========================= =====================
track     channel program (option)          plays
========= ======= ========================= =====================
"Melody"  0       ``melody_program`` (26)   the melody
"Chords"  1       ``chord_program`` (0)     band "none": held chords
"Piano"   1       ``chord_program`` (0)     band "comp"/"trio": comping
"Bass"    2       ``bass_program`` (32)     band "trio": walking bass
"Drums"   9       0 (standard kit)          band "trio": ride, hi-hat
========= ======= ========================= =====================

Channel 9 is General MIDI's percussion channel (MIDI channel 10).

Times: a MIDI beat is a quarter note, so a time of ``q`` quarter lengths
from the song start is ``q * ticks_per_beat`` ticks.  With the default
480 ticks per beat every duplet, triplet, quintuplet and sextuplet
subdivision, and the off-beat of swing ratios 2 (320) and 3/2 (288), is an
exact tick; other times round to the nearest tick.  Measures lie end to
end.

The output depends only on the Song and the options (mido writes no dates
or other run-dependent bytes; the band's random choices come from
``seed``), so the same inputs always give the same bytes.
"""
from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import mido

from music.band.arrange import arrange
from music.files import write_file_atomically
from music.metre import song_quarters
from music.performance import check_range
from music.song import MusicError, Song

MAX_MIDI_TEMPO = 0xFFFFFF  # set_tempo holds 3 bytes of microseconds per beat


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


def song_to_midi_bytes(song: Song, *, tempo: float | None = None,
                       ticks_per_beat: int = 480, **arrangement) -> bytes:
    """The Song as the bytes of a type-1 MIDI file.

    tempo:          quarter notes per minute; ``None`` uses ``song.tempo``
    ticks_per_beat: MIDI ticks per quarter note, 1..32767
    arrangement:    the keyword options of ``music.band.arrange.arrange``: band,
                    swing, dynamics, seed, melody_program, chord_program,
                    bass_program, chord_velocity
    """
    bpm = _checked_tempo(song, tempo)
    check_range("ticks_per_beat", ticks_per_beat, 1, 0x7FFF)
    parts = arrange(song, **arrangement)

    end_tick = _to_ticks(song_quarters(song), ticks_per_beat)
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(_conductor_track(song, bpm, end_tick))
    for part in parts:
        midi.tracks.append(_instrument_track(part, ticks_per_beat, end_tick))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(song: Song, path, **options) -> Path:
    """Write the Song as a MIDI file at ``path`` and return the path.

    Takes the keyword options of ``song_to_midi_bytes``.  Creates missing
    parent folders; the file appears complete or not at all.
    """
    return write_file_atomically(path, song_to_midi_bytes(song, **options))


def _checked_tempo(song: Song, tempo: float | None) -> float:
    bpm = song.tempo if tempo is None else tempo
    # Slower than this no longer fits the 3-byte set_tempo field.
    slowest = 60_000_000 / MAX_MIDI_TEMPO
    if not (slowest <= bpm < 1000):
        raise MusicError(f"tempo must be between {slowest:.2f} and 1000 bpm, got {bpm}")
    return float(bpm)


def _to_ticks(quarters: Fraction, ticks_per_beat: int) -> int:
    return round(quarters * ticks_per_beat)


def _midi_text(text: str) -> str:
    # mido encodes meta text as latin-1; anything else would raise mid-write.
    return text.encode("latin-1", "replace").decode("latin-1")


def _conductor_track(song: Song, bpm: float, end_tick: int) -> mido.MidiTrack:
    numerator, denominator = song.time_signature
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=_midi_text(song.title or "jazz-lstm"), time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=numerator,
                                  denominator=denominator, time=0))
    track.append(mido.MetaMessage("end_of_track", time=end_tick))
    return track


def _instrument_track(part, ticks_per_beat: int, end_tick: int) -> mido.MidiTrack:
    """A track playing the Part's sounds.

    Sounds shorter than one tick after rounding are left out: MIDI cannot
    sound them.  Within one tick note-offs come before note-ons (so a repeated
    pitch is released before it is struck again), then lower pitches first.
    """
    note_off, note_on = 0, 1
    events = []
    for sound in part.sounds:
        start_tick = _to_ticks(sound.start, ticks_per_beat)
        stop_tick = _to_ticks(sound.end, ticks_per_beat)
        if stop_tick <= start_tick:
            continue
        events.append((start_tick, note_on, sound.pitch, sound.velocity))
        events.append((stop_tick, note_off, sound.pitch, 0))
    events.sort()

    channel = part.channel
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=part.name, time=0))
    track.append(mido.Message("program_change", channel=channel, program=part.program, time=0))
    previous_tick = 0
    for tick, kind, pitch, velocity in events:
        message_type = "note_on" if kind == note_on else "note_off"
        track.append(mido.Message(message_type, channel=channel, note=pitch,
                                  velocity=velocity, time=tick - previous_tick))
        previous_tick = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - previous_tick)))
    return track
