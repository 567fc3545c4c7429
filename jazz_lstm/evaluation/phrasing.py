"""Phrasing, pitch entropy, groove and repetition of whole solos (lists of
``music.song.Measure``), the symbolic half of the "phrasing and structure"
section; ``structureness`` holds the other half (SI).

Only sounding notes count, a note held over a bar line once, in the bar
where it is struck (``music.song.played_notes``); times are quarter lengths
from the solo's start (a beat is a quarter note, whatever the time signature).

Phrases
-------
A phrase ends where the melody rests for a beat or more (PHRASE_REST): a
gap of at least one quarter between one note's end and the next note's
onset.  The solo's first and last phrases are cut by its edges.

* notes per phrase, beats per phrase (first onset to last note end);
* phrases per 8 bars = phrases x 8 / bars.

Wu and Yang (ISMIR 2020, "The Jazz Transformer on the Front Line"), section 5
------------------------------------------------------------------------------
* H_w (``pitch_class_entropy``): for every window of ``w`` consecutive bars
  (sliding by one bar) that holds a note, the entropy in bits of the
  histogram of the notes' pitch classes (note counts, not durations); H is
  their mean.  H1 and H4 take w = 1 and 4.  One pitch class gives 0, twelve
  equally often log2(12).
* GS (``groove_similarity``): each bar becomes a binary vector of onset
  positions on GROOVE_GRID (1/12 quarter: 48 positions in 4/4); GS is the
  mean over every pair of bars of 1 - (positions where exactly one of the two
  has an onset) / positions.  Wu and Yang use 64 positions a bar and sample
  at most 1000 pairs; a solo of 32 bars has 496 pairs, all taken here.

Repetition
----------
* ``repeated_pattern_share``: the share of 4-interval patterns (the signed
  intervals between 5 consecutive notes) that already occurred, not
  overlapping (at most the one note in common), starting in the same bar or
  one of the REPEAT_BARS - 1 bars before: a player restating or sequencing
  a figure within 8 bars scores high, random notes near 0.
* ``same_pitch_share``: the share of intervals between consecutive notes
  that are 0 (the same pitch struck again at once).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np

from music.song import played_notes
from music.tokens.structure import PHRASE_BREAK_UNITS, UNITS_PER_BEAT

PHRASE_REST = Fraction(PHRASE_BREAK_UNITS, UNITS_PER_BEAT)   # a beat, as the phrase features count it
GROOVE_GRID = Fraction(1, 12)
PATTERN_INTERVALS = 4
REPEAT_BARS = 8
PHRASE_BARS = 8


@dataclass(frozen=True)
class Melody:
    """The sounding notes of a solo in order: onsets and ends in quarters
    from its start, MIDI pitches, the index of each note's bar; and its bars."""

    onsets: np.ndarray
    ends: np.ndarray
    pitches: np.ndarray
    bars: np.ndarray
    measures: tuple


def melody_of(measures) -> Melody:
    """The notes of a list of Measures as played (module docstring)."""
    notes = played_notes(measures)
    return Melody(np.array([note.time for note in notes], dtype=object),
                  np.array([note.end for note in notes], dtype=object),
                  np.array([note.pitch for note in notes], dtype=np.int64),
                  np.array([note.bar for note in notes], dtype=np.int64), tuple(measures))


def phrases(melody: Melody) -> list:
    """(first note, last note + 1) index pairs of the phrases, in order."""
    count = len(melody.pitches)
    if not count:
        return []
    breaks = [index + 1 for index in range(count - 1)
              if melody.onsets[index + 1] - melody.ends[index] >= PHRASE_REST]
    starts, stops = [0, *breaks], [*breaks, count]
    return list(zip(starts, stops))


def phrase_lengths(melody: Melody) -> tuple:
    """(notes per phrase, beats per phrase), one value a phrase."""
    spans = phrases(melody)
    notes = [stop - start for start, stop in spans]
    beats = [float(melody.ends[stop - 1] - melody.onsets[start]) for start, stop in spans]
    return notes, beats


def pitch_class_entropy(measures, window_bars: int) -> float | None:
    """H_w in bits (module docstring); None when no window holds a note."""
    per_bar = [[] for _ in measures]
    for note in played_notes(measures):
        per_bar[note.bar].append(note.pitch % 12)
    entropies = []
    for first in range(len(per_bar) - window_bars + 1):
        classes = [pitch_class for bar in per_bar[first:first + window_bars]
                   for pitch_class in bar]
        if classes:
            shares = np.bincount(classes, minlength=12) / len(classes)
            shares = shares[shares > 0]
            entropies.append(float(-(shares * np.log2(shares)).sum()))
    return float(np.mean(entropies)) if entropies else None


def onset_vector(measure, positions: int) -> np.ndarray:
    """0/1 per GROOVE_GRID position of a bar: does a note start there (nearest position)."""
    vector = np.zeros(positions, dtype=bool)
    for note in measure.notes:
        if not note.is_rest and not note.tied:
            vector[min(round(note.start / GROOVE_GRID), positions - 1)] = True
    return vector


def groove_similarity(measures) -> float | None:
    """GS (module docstring); None for fewer than 2 bars."""
    if len(measures) < 2:
        return None
    positions = max(int(np.ceil(measure.length / GROOVE_GRID)) for measure in measures)
    vectors = [onset_vector(measure, positions) for measure in measures]
    return float(np.mean([1 - np.count_nonzero(first ^ second) / positions
                          for first, second in combinations(vectors, 2)]))


def repeated_patterns(melody: Melody) -> tuple:
    """(patterns that recur within REPEAT_BARS, all patterns): see the module docstring."""
    intervals = np.diff(melody.pitches)
    count = len(intervals) - PATTERN_INTERVALS + 1
    seen = {}
    repeated = 0
    for start in range(max(count, 0)):
        pattern = tuple(intervals[start:start + PATTERN_INTERVALS])
        earlier = [first for first in seen.get(pattern, ())
                   if first + PATTERN_INTERVALS <= start
                   and melody.bars[start] - melody.bars[first] < REPEAT_BARS]
        repeated += bool(earlier)
        seen.setdefault(pattern, []).append(start)
    return repeated, max(count, 0)


def same_pitch_repeats(melody: Melody) -> tuple:
    """(intervals of 0, all intervals)."""
    intervals = np.diff(melody.pitches)
    return int(np.count_nonzero(intervals == 0)), len(intervals)
