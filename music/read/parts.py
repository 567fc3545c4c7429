"""Plain-Python analysis of the parts of a score: which part is the melody,
what its top line is, and which pitch classes the other parts sound.

Nothing here imports music21: a reader (music21's in ``music.read.scores``, or
mido's in ``music.read.midi``) turns a file into a :class:`PlainScore`
whose parts are lists of :class:`SoundingNote` (absolute times, ties merged
by :func:`join_ties`) and hands it over.

Melody score
------------
For every pitched part::

    score = onsets * single_note_share * register_weight

* ``onsets``: the number of distinct note starts (a melody has many notes).
* ``single_note_share``: the share of those starts where exactly one note
  begins (a melody plays one note at a time, a pad or comping part stacks
  chords).
* ``register_weight``: ``(mean top pitch - 36) / 36`` clipped to
  ``[0.05, 1]``, where the top pitch is the highest note of each start; it is
  1 from C5 (MIDI 72) upwards and near 0 for a bass line around C2 (MIDI 36),
  so a busy walking bass does not beat the soloist.  The floor keeps the
  score positive, so a file whose only part is low still yields that part.

The highest score wins; on a tie the lower part index wins.

Top line
--------
A polyphonic melody part is reduced to one note at a time: of the notes
starting together only the highest is kept; a kept note that begins while
a higher kept note is still sounding is dropped when the higher note
outlasts it (an inner voice under a held note), and otherwise cuts the
earlier note short (the line moves on, as in legato playing where each note
overlaps the next a little).

Harmony windows
---------------
The pitch classes of a window are weighted by how long they sound inside
it, summed over the harmony parts; a pitch class is kept when its weight is
at least ``KEEP_SHARE`` of the heaviest one, so that passing notes and
ornaments of the accompaniment do not enter the chord.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import groupby

# Register weight: 0 at C2 (MIDI 36), 1 at C5 (MIDI 72) and above.
REGISTER_FLOOR_PITCH = 36
REGISTER_SPAN = 36
MIN_REGISTER_WEIGHT = 0.05

# A pitch class must sound at least this share of the heaviest pitch
# class's time in a harmony window to count as a chord tone.
KEEP_SHARE = 0.25


@dataclass(frozen=True)
class SoundingNote:
    """One pitched note of a part, on the song's absolute time line.

    start, end: quarter lengths from the start of the song (end > start)
    pitch:      MIDI pitch 0..127
    velocity:   MIDI velocity 1..127
    """

    start: Fraction
    end: Fraction
    pitch: int
    velocity: int = 90


@dataclass(frozen=True)
class PartNotes:
    """The pitched notes of one part of a score.

    index: position of the part in music21's parse of the file
    name:  the part's name ("" when the file gives none)
    notes: SoundingNotes sorted by start, then pitch
    """

    index: int
    name: str
    notes: tuple


@dataclass(frozen=True)
class PlainScore:
    """Everything ``music.read.scores`` needs from one tune of a file, whatever read it.

    parts:          PartNotes of every part in the file's part order, so that
                    ``parts[i].index == i``; drum parts have no notes
    symbols:        (start, Chord template) per chord symbol of any part, start
                    in quarter lengths from the song start; N.C. left out
    time_signature: (numerator, denominator) of the first time signature
    tempo:          quarter notes per minute of the first usable metronome mark
    title:          the file's own title, "" when it has none
    measures:       (start, length) in quarter lengths of the measures of the
                    part with most measures, in order
    has_drums:      whether any part holds unpitched (drum) notes
    """

    parts: tuple
    symbols: tuple
    time_signature: tuple
    tempo: float
    title: str
    measures: tuple
    has_drums: bool

    @property
    def pitched(self) -> list:
        """The parts that have pitched notes."""
        return [part for part in self.parts if part.notes]


def join_ties(pieces) -> tuple:
    """Notes from written pieces, tied pieces joined.

    pieces: (start, end, pitch, velocity, tie) in reading order, where tie is
            None, "start", "continue" or "stop" (a note split at a bar line
            is a "start" piece, maybe "continue" pieces, and a "stop" piece)
    A "continue" or "stop" piece extends the open tie of its pitch when that
    note ends exactly where the piece starts; otherwise it is a note of its
    own.  Returns SoundingNotes sorted by start, then pitch (stable).
    """
    notes = []
    open_ties = {}  # pitch -> index in notes of the note a tie continues
    for start, end, pitch, velocity, tie in pieces:
        pending = open_ties.get(pitch)
        if tie in ("stop", "continue") and pending is not None and notes[pending].end == start:
            notes[pending] = replace(notes[pending], end=end)
            if tie == "stop":
                del open_ties[pitch]
            continue
        notes.append(SoundingNote(start, end, pitch, velocity))
        if tie in ("start", "continue"):
            open_ties[pitch] = len(notes) - 1
        else:
            open_ties.pop(pitch, None)
    notes.sort(key=lambda note: (note.start, note.pitch))
    return tuple(notes)


@dataclass(frozen=True)
class WindowHarmony:
    """The pitch classes sounding in one harmony window.

    start:         quarter lengths from the start of the song
    pitch_classes: sorted distinct pitch classes 0..11 that passed KEEP_SHARE
    bass:          lowest MIDI pitch among the kept pitch classes' notes
    """

    start: Fraction
    pitch_classes: tuple
    bass: int


def _onset_groups(notes):
    """Lists of the notes sharing a start, in time order."""
    return [list(group) for _, group in groupby(notes, key=lambda note: note.start)]


def melody_score(part: PartNotes) -> float:
    """How much ``part`` looks like a melody (see the module docstring)."""
    groups = _onset_groups(part.notes)
    if not groups:
        return 0.0
    single_note_share = sum(1 for group in groups if len(group) == 1) / len(groups)
    mean_top_pitch = sum(max(note.pitch for note in group) for group in groups) / len(groups)
    register_weight = (mean_top_pitch - REGISTER_FLOOR_PITCH) / REGISTER_SPAN
    register_weight = min(1.0, max(MIN_REGISTER_WEIGHT, register_weight))
    return len(groups) * single_note_share * register_weight


def choose_melody_part(parts) -> PartNotes:
    """The part of ``parts`` (PartNotes with at least one note) with the best
    melody score; the earliest part wins a tie."""
    return max(parts, key=lambda part: (melody_score(part), -part.index))


def top_line(notes) -> list:
    """The highest line of ``notes`` (SoundingNotes sorted by start), one note
    at a time: a sorted list of non-overlapping SoundingNotes."""
    line = []
    for group in _onset_groups(notes):
        candidate = max(group, key=lambda note: (note.pitch, note.end))
        if line and line[-1].end > candidate.start:
            sounding = line[-1]
            if sounding.pitch > candidate.pitch and sounding.end >= candidate.end:
                continue
            line[-1] = replace(sounding, end=candidate.start)
        line.append(candidate)
    return line


def harmony_windows(notes, window_starts, song_end) -> list:
    """The chord tones of each window that has any sound.

    notes:         SoundingNotes of the harmony parts, in any order
    window_starts: sorted window starts, quarter lengths from the song start;
                   a window lasts until the next start (the last until
                   ``song_end``)
    song_end:      quarter lengths from the song start
    Returns WindowHarmony for the windows where something sounds, in order.
    """
    window_ends = list(window_starts[1:]) + [song_end]
    weights = [dict() for _ in window_starts]
    lowest = [dict() for _ in window_starts]
    for note in notes:
        window = max(0, bisect_right(window_starts, note.start) - 1)
        while window < len(window_starts) and window_starts[window] < note.end:
            overlap = min(note.end, window_ends[window]) - max(note.start, window_starts[window])
            if overlap > 0:
                pitch_class = note.pitch % 12
                weights[window][pitch_class] = weights[window].get(pitch_class, 0) + overlap
                lowest[window][pitch_class] = min(note.pitch, lowest[window].get(pitch_class, 128))
            window += 1
    harmonies = []
    for start, window_weights, window_lowest in zip(window_starts, weights, lowest):
        if not window_weights:
            continue
        threshold = max(window_weights.values()) * KEEP_SHARE
        kept = sorted(pc for pc, weight in window_weights.items() if weight >= threshold)
        bass = min(window_lowest[pc] for pc in kept)
        harmonies.append(WindowHarmony(start, tuple(kept), bass))
    return harmonies
