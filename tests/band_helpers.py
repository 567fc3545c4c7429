"""Chords, songs of progressions and MIDI readers shared by the tests of music.band."""
import io
from fractions import Fraction as F

import mido

from music.song import Chord, Measure, Song


TICKS = 480


def chord(root, intervals, start=0, duration=4, symbol=""):
    return Chord(start, duration, root, tuple((root + i) % 12 for i in intervals), symbol)


MINOR7, DOMINANT7, MAJOR7 = (0, 3, 7, 10), (0, 4, 7, 10), (0, 4, 7, 11)


DM7, G7, CMAJ7, A7 = chord(2, MINOR7), chord(7, DOMINANT7), chord(0, MAJOR7), chord(9, DOMINANT7)


def progression_song(bars, time_signature=(4, 4), melody=None, tempo=120):
    """A song of bars of chords (each a list of (root, intervals)), shared evenly;
    melody: per bar a list of Notes, default none."""
    numerator, denominator = time_signature
    length = F(4 * numerator, denominator)
    measures = []
    for index, bar in enumerate(bars):
        share = length / len(bar) if bar else length
        chords = [chord(root, intervals, k * share, share) for k, (root, intervals) in enumerate(bar)]
        notes = melody[index] if melody else ()
        measures.append(Measure(length, notes, chords, number=index + 1))
    return Song(measures, tempo=tempo, time_signature=time_signature)


II_V_I = [[(2, MINOR7), (7, DOMINANT7)], [(0, MAJOR7)], [(9, DOMINANT7)],
          [(2, MINOR7), (7, DOMINANT7)], [(0, MAJOR7)]]


def read(data):
    return mido.MidiFile(file=io.BytesIO(data))


def track_notes(track):
    """(onset tick, end tick, pitch, velocity, channel) of every note of a track."""
    held, notes, tick = {}, [], 0
    for message in track:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            held[message.note] = (tick, message.velocity, message.channel)
        elif message.type in ("note_on", "note_off"):
            start, velocity, channel = held.pop(message.note)
            notes.append((start, tick, message.note, velocity, channel))
    return sorted(notes)


def tracks_by_name(data):
    return {track.name: track for track in read(data).tracks[1:]}
