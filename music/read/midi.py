"""MIDI files read with mido into a PlainScore, as music21 would read them.

music21 needs seconds to turn a MIDI file into a score of measures, ties
and voices, of which ``music.read.scores`` keeps only the notes, the bar grid,
the first tempo and time signature and the part names.  This module
computes those directly from mido's messages, following the steps of
music21's MIDI import (``music21.midi.translate``, version 10) so that the
Song is the same (but for the differences listed below):

* Parts: one per track holding a note-on; tracks without notes are the
  conductor: their time signatures, key signatures and tempos apply to the
  note tracks that come after them.
* Notes: each note-on takes the first later note-off of its pitch and
  channel (a note-on without one is dropped; two note-ons before one
  note-off both end there).  Notes starting within a sixteenth of a note
  (``ticks_per_beat / 4`` ticks) and ending within a sixteenth of its end
  form one chord, timed by its first start and by the last member's length.
  A chord with a member on channel 10, or a note on it, is a drum hit.
  A note of no length is a grace note and takes no time.
* Quantization: every start snaps to the nearest multiple of 1/4 or 1/3
  quarter (the 1/4 grid wins a tie); every length likewise but never to
  zero, and preferring the grid that reaches the next later start exactly
  (music21's look-ahead, so that triplets stay triplets).  The float
  arithmetic is music21's, so the same grid wins every close call.
* Bars: measures of the time signature in force at each measure start,
  from offset 0 until the part's last event; a note crossing a bar line is
  split there, the pieces tied, and ``music.read.parts.join_ties`` joins them
  again exactly as for music21's score.
* Names: a part is named by its first named instrument event: the track
  name (not "Instrument 3" and the like), else the instrument name, else
  the General MIDI program's instrument as music21 calls it.  Several
  instrument events at one tick share their names when they do not
  disagree; when a program change comes first and music21 knows the track
  name as another instrument ("Soprano" after program 52, "Choir"), the
  program's name wins.  Only that case asks music21 (lazily).
* Tempo: the first tempo of the first part with one, 0 < bpm < 1000, bpm
  rounded to 2 decimals; else 120.  Time signature: the one in force at 0,
  else 4/4.  MIDI files carry no chord symbols and no title.

Differences from music21 10.5, measured on the Metheny file, music21's
own test MIDI files and corpus pieces written to MIDI (see
tests/test_midi_reading.py):

* music21 misplaces the notes of a part after a measure where it had to
  use voices (notes struck together but ending apart) and cut a note at
  the bar line: ``makeRests`` repositions the measures by a length that
  ``makeTies`` left stale, so every later measure of that part starts
  whole beats late (Metheny: the organ from bar 39, the strings from bar
  106).  Here the notes keep the file's times.
* Notes of one pitch overlapping in one track, cut at a bar line, may be
  joined differently (music21's order inside voices is not reproduced).

Limit: a file with more than ``MAX_NOTES`` note-ons is refused with a
MusicError; the tracks are parsed one at a time, so a huge file stops at
the track that crosses the limit.
"""
from __future__ import annotations

import io
import math
import struct
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mido

from music.m21 import load_music21
from music.read.parts import PartNotes, PlainScore, join_ties
from music.song import MusicError

MAX_NOTES = 200_000
QUANTIZE_DIVISORS = (4, 3)
DRUM_CHANNEL = 9            # mido counts channels from 0: MIDI channel 10
DEFAULT_TEMPO = 120.0
DEFAULT_TIME_SIGNATURE = (4, 4)
# music21 keeps offsets as floats when exact in binary, else as Fractions of
# denominator at most this; its rounding decides close quantization calls.
OFFSET_DENOMINATOR_LIMIT = 65535
# Sort order of music21 classes at one offset (Music21Object.classSortOrder).
INSTRUMENT_ORDER, TEMPO_ORDER, KEY_ORDER, METER_ORDER, NOTE_ORDER = -25, 1, 2, 4, 20
# The instrument music21 makes of each General MIDI program, by its name.
PROGRAM_NAMES = (
    ("Piano",) * 2 + ("Electric Piano", "Piano") + ("Electric Piano",) * 2
    + ("Harpsichord", "Clavichord", "Celesta") + ("Glockenspiel",) * 2
    + ("Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer")
    + ("Electric Organ",) * 3 + ("Pipe Organ", "Reed Organ", "Accordion", "Harmonica",
                                 "Accordion")
    + ("Acoustic Guitar",) * 2 + ("Electric Guitar",) * 6
    + ("Acoustic Bass",) + ("Electric Bass",) * 2 + ("Fretless Bass",) + ("Electric Bass",) * 4
    + ("Violin", "Viola", "Violoncello", "Contrabass") + ("StringInstrument",) * 2
    + ("Harp", "Timpani") + ("StringInstrument",) * 4 + ("Choir",) + ("Voice",) * 2
    + ("Sampler", "Trumpet", "Trombone", "Tuba", "Trumpet", "Horn") + ("Brass",) * 3
    + ("Soprano Saxophone", "Alto Saxophone", "Tenor Saxophone", "Baritone Saxophone",
       "Oboe", "English Horn", "Bassoon", "Clarinet", "Piccolo", "Flute", "Recorder")
    + ("Pan Flute",) * 2 + ("Shakuhachi", "Whistle", "Ocarina") + ("Sampler",) * 24
    + ("Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipes", "Violin", "Shehnai",
       "Glockenspiel", "Agogo", "Steel Drum", "Woodblock", "Taiko", "Tom-Tom")
    + ("Sampler",) * 10)
DRUM_PROGRAM_NAME = "Percussion"


class MidoCannotRead(MusicError):
    """mido refuses the file (music21's own parser may still read it)."""


@dataclass
class _Element:
    """One object of a part before quantization, in music21's terms.

    tick:     start in ticks
    order:    music21's class sort order (metadata before notes at one time)
    length:   ticks (notes only; 0 for metadata and grace notes)
    pitches:  MIDI pitches (notes only; empty for metadata)
    velocity: the note's velocity, or the chord's mean velocity
    drum:     a drum hit (channel 10)
    meta:     for metadata: ("tempo", bpm), ("meter", (num, den)), ("key",)
              or ("instrument", part name or None, instrument name or None,
              whether it is a track name)
    """

    tick: int
    order: int
    length: int = 0
    pitches: tuple = ()
    velocity: int = 0
    drum: bool = False
    meta: tuple = ()

    @property
    def is_note(self) -> bool:
        return bool(self.pitches)


def read_midi(label: str, data: bytes, *, progress=None) -> PlainScore:
    """The PlainScore of a Standard MIDI File's bytes.

    label:    names the file in error messages
    progress: None, or a callable taking the number of tracks read so far
              and the total (for a progress bar)
    Raises MusicError for a file with more than MAX_NOTES notes or without
    notes, and MidoCannotRead when mido cannot parse it.  (The file size is
    limited by ``music.read.scores``, which reads the bytes.)
    """
    tracks = []
    note_count = 0
    track_chunks, ticks_per_quarter = _track_chunks(label, data)
    for number, chunk in enumerate(track_chunks, start=1):
        # Track by track, so that the note limit stops a huge file early.
        events = _track_events(_mido_track(label, chunk))
        note_count += sum(1 for event in events if event[1] == "on")
        if note_count > MAX_NOTES:
            raise MusicError(f"{label}: more than {MAX_NOTES:,} notes, over the limit "
                             f"for a MIDI file")
        tracks.append(events)
        if progress is not None:
            progress(number, len(track_chunks))
    return _score(label, tracks, ticks_per_quarter)


def _track_chunks(label, data) -> tuple:
    """(the header's number of track chunks, each with its chunk header;
    ticks per quarter note) of a Standard MIDI File."""
    try:
        header_size = int.from_bytes(data[4:8], "big")
        _, track_count, ticks_per_quarter = struct.unpack(">hhh", data[8:14])
    except struct.error:
        raise MidoCannotRead(f"{label}: incomplete MIDI header") from None
    if ticks_per_quarter <= 0:
        raise MidoCannotRead(f"{label}: SMPTE time division is not supported")
    chunks = []
    position = 8 + header_size
    for _ in range(track_count):
        size = int.from_bytes(data[position + 4:position + 8], "big")
        chunks.append(data[position:position + 8 + size])
        position += 8 + size
    return chunks, ticks_per_quarter


def _mido_track(label, chunk):
    """mido's messages of one track chunk, read as a file of that track alone."""
    header = b"MThd" + (6).to_bytes(4, "big") + struct.pack(">hhh", 1, 1, 480)
    try:
        return mido.MidiFile(file=io.BytesIO(header + chunk)).tracks[0]
    except Exception as error:  # mido raises OSError, EOFError, ValueError, KeyError...
        raise MidoCannotRead(f"{label}: mido cannot read it ({type(error).__name__}: "
                             f"{' '.join(str(error).split())[:160]})") from None


# ------------------------------------------------------------ messages

def _track_events(track) -> list:
    """(tick, kind, ...) per message music21 uses, in file order:
    ("on"|"off", pitch, channel, velocity), ("meter", (num, den)),
    ("key",), ("tempo", bpm), ("instrument", part name, instrument name,
    whether it is a track name)."""
    events = []
    tick = 0
    for message in track:
        tick += message.time
        kind = message.type
        if kind == "note_on" and message.velocity > 0:
            events.append((tick, "on", message.note, message.channel, message.velocity))
        elif kind in ("note_on", "note_off"):
            events.append((tick, "off", message.note, message.channel, 0))
        elif kind == "time_signature":
            events.append((tick, "meter", (message.numerator, message.denominator)))
        elif kind == "key_signature":
            events.append((tick, "key"))
        elif kind == "set_tempo" and message.tempo > 0:
            events.append((tick, "tempo", round(60_000_000 / message.tempo, 2)))
        elif kind in ("track_name", "instrument_name"):
            name = _decoded_name(message.name)
            if kind == "track_name":
                events.append((tick, "instrument", name, None, True))
            else:
                events.append((tick, "instrument", None, name, False))
        elif kind == "program_change":
            name = DRUM_PROGRAM_NAME if message.channel == DRUM_CHANNEL \
                else PROGRAM_NAMES[message.program]
            events.append((tick, "instrument", None, name, False))
    return events


def _decoded_name(text: str):
    """A track or instrument name as music21 reads it: UTF-8, cut at a NUL,
    stripped; None when empty, undecodable or a placeholder ("Inst 2")."""
    try:
        name = text.encode("latin-1").decode("utf-8")  # mido decodes as Latin-1
    except UnicodeError:
        return None
    name = name.split("\x00")[0].strip()
    lowered = name.lower()
    if not name or lowered in ("instrument", "inst") \
            or lowered.replace("instrument ", "").isdigit() \
            or lowered.replace("inst ", "").isdigit():
        return None
    return name


# -------------------------------------------------------------- score

def _score(label, tracks, ticks_per_quarter) -> PlainScore:
    conductor = []      # quantized (offset, insertion, element) of the meta tracks
    parts = []
    for events in tracks:
        if not any(event[1] == "on" for event in events):
            conductor.extend(_meta_elements(events))
            continue
        parts.append(_Part(len(parts), events, conductor, ticks_per_quarter))
    if not parts:
        raise MusicError(f"{label}: no notes")
    measures = max((part.measures for part in parts), key=len)
    return PlainScore(
        parts=tuple(part.notes for part in parts), symbols=(),
        time_signature=_meter_at(parts[0].meters, 0), tempo=_first_tempo(parts), title="",
        measures=tuple(measures), has_drums=any(part.has_drums for part in parts))


def _first_tempo(parts) -> float:
    for part in parts:
        for _, bpm in part.tempos:
            if 0 < bpm < 1000:
                return float(bpm)
    return DEFAULT_TEMPO


def _meta_elements(events) -> list:
    """The metadata elements of a track, in file order."""
    orders = {"meter": METER_ORDER, "key": KEY_ORDER, "tempo": TEMPO_ORDER,
              "instrument": INSTRUMENT_ORDER}
    return [_Element(tick=event[0], order=orders[event[1]], meta=event[1:])
            for event in events if event[1] in orders]


class _Part:
    """One note track as music21 makes it a part: notes (PartNotes), its
    measures ((start, length) pairs), meters, tempos and drum flag."""

    def __init__(self, index, events, conductor, ticks_per_quarter):
        elements = _meta_elements(events) + _note_elements(events, ticks_per_quarter)
        # music21 sorts by offset, then class, then grace notes first, then insertion.
        elements = sorted(elements, key=lambda element: (
            element.tick, element.order, not (element.is_note and element.length == 0)))
        placed = _quantize(elements, ticks_per_quarter)
        conductor_placed = [(_offset(element.tick, ticks_per_quarter), element)
                            for element in conductor if element.meta[0] != "instrument"]
        self.has_drums = any(element.drum for element in elements)
        # At one offset the part's own tempo comes before the conductor's copy.
        self.tempos = sorted(
            [(start, element.meta[1]) for start, _, element in placed
             if element.meta[:1] == ("tempo",)]
            + [(start, element.meta[1]) for start, element in conductor_placed
               if element.meta[0] == "tempo"],
            key=lambda entry: entry[0])
        self.meters = _meter_stream(placed, conductor_placed)
        last_event = max([start + length for start, length, _ in placed]
                         + [start for start, _ in conductor_placed])
        self.measures = _measure_grid(self.meters, last_event)
        self.notes = PartNotes(index=index, name=_part_name(elements) or "",
                               notes=join_ties(_tied_pieces(placed, self.measures)))


def _note_elements(events, ticks_per_quarter) -> list:
    """Notes and chords of a track, as music21 gathers them, in start order."""
    notes = _timed_notes(events)
    tolerance = ticks_per_quarter / max(QUANTIZE_DIVISORS)
    gathered = [False] * len(notes)
    elements = []
    for first_index, (on, off, _, _, velocity) in enumerate(notes):
        if gathered[first_index]:
            continue
        members = [notes[first_index]]
        for index in range(first_index + 1, len(notes)):
            other = notes[index]
            if abs(other[0] - on) >= tolerance:
                break
            if abs(other[1] - off) > tolerance:
                continue  # same start, other end: music21 puts it in another voice
            members.append(other)
            gathered[index] = True
        last_on, last_off = members[-1][0], members[-1][1]
        velocities = [member[4] for member in members]
        # A chord's velocity is the rounded mean of its notes' (music21's Chord.volume).
        mean_velocity = int(round(sum(velocities) / len(velocities)))
        elements.append(_Element(
            tick=on, order=NOTE_ORDER, length=last_off - last_on,
            pitches=tuple(member[2] for member in members),
            velocity=velocity if len(members) == 1 else mean_velocity,
            drum=any(member[3] == DRUM_CHANNEL for member in members)))
    return elements


def _timed_notes(events) -> list:
    """(on tick, off tick, pitch, channel, velocity) per note-on that a later
    note-off of its pitch and channel ends, in note-on order."""
    notes = []
    awaiting_on = {}  # (pitch, channel) -> tick of the next note-off
    for event in reversed(events):
        kind = event[1]
        if kind == "off":
            awaiting_on[event[2], event[3]] = event[0]
        elif kind == "on" and (event[2], event[3]) in awaiting_on:
            notes.append((event[0], awaiting_on[event[2], event[3]], event[2], event[3],
                          event[4]))
    notes.reverse()
    return notes


def _part_name(elements):
    """The name music21 gives the part: of the instrument events at the
    earliest ticks, the first part name or instrument name."""
    by_tick = {}
    for element in elements:
        if element.meta[:1] == ("instrument",):
            by_tick.setdefault(element.tick, []).append(element.meta[1:])
    for tick in sorted(by_tick):
        group = by_tick[tick]
        # Whether music21 knows a track name as an instrument matters only
        # when it changes the result (a program change before the name).
        name = _group_name(group, lambda _: False)
        if name != _group_name(group, lambda _: True):
            name = _group_name(group, _music21_knows_instrument)
        if name is not None:
            return name
    return None


def _group_name(group, knows_instrument):
    """The name from the instrument events of one tick, given which track
    names music21 makes a named instrument of."""
    if len(group) > 1:
        group = [(part_name, part_name if is_track_name and part_name is not None
                  and knows_instrument(part_name) else instrument_name, None)
                 for part_name, instrument_name, is_track_name in group]
    part_names = {part_name for part_name, _, _ in group if part_name is not None}
    instrument_names = {name for _, name, _ in group if name is not None}
    if len(part_names) <= 1 and len(instrument_names) <= 1:
        # music21 gives every instrument of the tick the same names.
        group = [(next(iter(part_names), None), next(iter(instrument_names), None), None)]
    for part_name, instrument_name, _ in group:
        name = part_name if part_name is not None else instrument_name
        if name is not None:
            return name
    return None


@lru_cache(maxsize=None)
def _music21_knows_instrument(name: str) -> bool:
    try:
        load_music21().instrument.fromString(name)
    except Exception:  # InstrumentException for an unknown name; music21 may be absent
        return False
    return True


# -------------------------------------------------------- quantization

def _op_frac(value):
    """music21's opFrac for a float: itself when its binary fraction is
    short, else the nearest Fraction of denominator <= 65535 (a float again
    when that denominator is a power of two)."""
    if value.as_integer_ratio()[1] <= OFFSET_DENOMINATOR_LIMIT:
        return value
    fraction = Fraction(value).limit_denominator(OFFSET_DENOMINATOR_LIMIT)
    if fraction.denominator & (fraction.denominator - 1) == 0:
        return fraction.numerator / fraction.denominator
    return fraction


def _nearest_multiple(target: float, unit: float):
    """(multiple of unit nearest target, unsigned error rounded to 1e-7);
    the lower multiple wins a tie."""
    low = unit * math.floor(target / unit)
    if low <= target <= low + unit / 2:
        return low, round(target - low, 7)
    high = unit * (math.floor(target / unit) + 1)
    return high, round(high - target, 7)


def _best_match(target: float, zero_allowed=True, gap=0.0) -> float:
    """The quantized value of ``target`` (quarter lengths): the multiple of
    1/4 or 1/3 with, in order, the least part of ``gap`` (the distance to
    the next later start) left unfilled, the least error, the finer grid."""
    candidates = []
    for divisor in QUANTIZE_DIVISORS:
        unit = 1 / divisor
        match, error = _nearest_multiple(target, unit)
        if not zero_allowed and match == 0.0:
            match = unit
            error = abs(round(target - match, 7))
        remaining = 0.0 if gap % unit == 0 else max(gap - match, 0.0)
        candidates.append((remaining, error, unit, match))
    return min(candidates)[3]


def _offset(tick, ticks_per_quarter) -> Fraction:
    return Fraction(_op_frac(_best_match(tick / ticks_per_quarter)))


def _quantize(elements, ticks_per_quarter) -> list:
    """(start, length, element) per element, both Fractions of a quarter."""
    starts = [_best_match(element.tick / ticks_per_quarter) for element in elements]
    # The quantized start of the next element that starts later, per element.
    next_later = [None] * len(elements)
    later = None
    for index in range(len(elements) - 1, -1, -1):
        next_later[index] = later
        if index and starts[index - 1] < starts[index]:
            later = starts[index]
    placed = []
    for element, start, following in zip(elements, starts, next_later):
        stored_start = _op_frac(start)
        length = 0.0
        if element.is_note and element.length > 0:
            if following is None:
                length = _best_match(element.length / ticks_per_quarter, zero_allowed=False)
            else:
                gap = float(_op_frac(following - float(stored_start)))
                length = _best_match(element.length / ticks_per_quarter,
                                     zero_allowed=False, gap=gap)
        placed.append((Fraction(stored_start), Fraction(_op_frac(length)), element))
    return placed


# ----------------------------------------------------------- measures

def _meter_stream(placed, conductor_placed) -> list:
    """(start, (numerator, denominator)) of the time signatures that cut
    the part into measures, sorted, starting at 0."""
    meters = [(start, element.meta[1]) for start, element in conductor_placed
              if element.meta[0] == "meter"]
    if not meters:
        meters = [(start, element.meta[1]) for start, _, element in placed
                  if element.meta[:1] == ("meter",)]
    meters.sort(key=lambda entry: entry[0])
    if not meters or meters[0][0] != 0:
        meters.insert(0, (Fraction(0), DEFAULT_TIME_SIGNATURE))
    return meters


def _meter_at(meters, offset) -> tuple:
    """The (numerator, denominator) in force at ``offset``: the last one
    starting at or before it."""
    return meters[bisect_right([start for start, _ in meters], offset) - 1][1]


def _measure_grid(meters, last_event) -> list:
    """(start, length) of the measures from 0 until ``last_event``: each
    measure as long as the time signature in force at its start."""
    measures = []
    start = Fraction(0)
    while True:
        numerator, denominator = _meter_at(meters, start)
        length = Fraction(4 * numerator, denominator)
        measures.append((start, length))
        start += length
        if start >= last_event:
            return measures


def _tied_pieces(placed, measures) -> list:
    """(start, end, pitch, velocity, tie) of the pitched notes cut at the
    bar lines, in the order music21's flattened score lists them: by start;
    at a bar line, notes starting there before the tied continuations."""
    bar_ends = [start + length for start, length in measures]
    pieces = []
    for flat_index, (start, length, element) in enumerate(placed):
        if not element.is_note or element.drum or length <= 0:
            continue
        end = start + length
        bar = bisect_right(bar_ends, start)
        cut_start, tie = start, None
        key = (start, 0, flat_index)
        while True:
            cut_end = min(end, bar_ends[bar]) if bar < len(bar_ends) else end
            if cut_end < end:
                tie = "start" if tie is None else "continue"
            elif tie is not None:
                tie = "stop"
            for pitch in element.pitches:
                if 0 <= pitch <= 127:
                    pieces.append((key, (cut_start, cut_end, pitch, element.velocity, tie)))
            if cut_end >= end:
                break
            # music21 files a continuation after the notes that start at its bar
            # line, in the order its bar lists the pieces it continues.
            cut_start, bar, key = cut_end, bar + 1, (cut_end, 1) + key
    pieces.sort(key=lambda entry: entry[0])
    return [piece for _, piece in pieces]
