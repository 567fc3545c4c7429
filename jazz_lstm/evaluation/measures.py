"""Musical measures of a segment (a list of ``music.song.Measure``), after
Yang & Lerch (2018) and MusPy's metrics.

Only sounding notes count as notes (rests are silence), a note held over
a bar line once (``music.song.played_notes``), where it is struck, with
its whole length inside the segment.  Intervals are
taken between consecutive notes of the segment, rests skipped and bar
lines crossed.  A histogram is normalised to sum 1, or is all zeros when
there is nothing to count; a share or mean with nothing to count is 0.

Histograms
----------
pitch_class_histogram (12)  notes per pitch class C..B (MIDI pitch mod 12).
interval_histogram (25)     signed intervals in semitones clipped to -12..+12;
                            bin i holds interval i - 12.
note_length_histogram (12)  each note's duration goes to the nearest of
                            NOTE_LENGTHS on a log scale (quarter lengths:
                            32nd, 16th triplet, 16th, 8th triplet, 8th,
                            quarter triplet, dotted 8th, quarter, dotted
                            quarter, half, dotted half, whole or longer).
onset_histogram (12)        where in its beat (quarter note) each note starts,
                            rounded to the nearest 1/12 quarter (a tie to the
                            even multiple): bin i holds onsets i/12 of a quarter
                            after a beat (12/12 folds into bin 0).
Scalars
-------
notes_per_bar               notes / bars.
pitch_range                 highest minus lowest MIDI pitch (semitones).
mean_abs_interval           mean |interval| in semitones (unclipped).
repeated_pitch_rate         share of intervals that are 0.
chord_share, scale_share, approach_share, other_share
                            share of notes whose role (``music.tokens.classic_grammar.role_of``,
                            the grammar's C/S/A/X) under the chord sounding at
                            the note's onset (``Measure.chord_at``) is C, S, A, X;
                            no chord sounding -> X.
rest_share                  share of the segment's bar time not covered by a
                            sounding note (rests and gaps).
empty_bar_share             share of bars with no note.
off_grid_share              share of notes whose onset (from the bar start) is
                            not a whole multiple of ONSET_GRID = 1/12 quarter
                            (the grid of 16ths, 8th triplets and 16th
                            triplets; a 32nd off the beat is off the grid).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from music.tokens.classic_grammar import ROLES, role_of
from music.song import Measure, played_notes

INTERVAL_CLIP = 12
ONSET_GRID = Fraction(1, 12)
NOTE_LENGTHS = (Fraction(1, 8), Fraction(1, 6), Fraction(1, 4), Fraction(1, 3),
                Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(1),
                Fraction(3, 2), Fraction(2), Fraction(3), Fraction(4))
# Boundaries between neighbouring NOTE_LENGTHS: their geometric means.
_LENGTH_EDGES = np.sqrt(np.array(NOTE_LENGTHS[:-1], float) * np.array(NOTE_LENGTHS[1:], float))
ROLE_MEASURES = ("chord_share", "scale_share", "approach_share", "other_share")
MEASURE_NAMES = ("pitch_class_histogram", "interval_histogram", "note_length_histogram",
                 "onset_histogram", "notes_per_bar", "pitch_range", "mean_abs_interval",
                 "repeated_pitch_rate", *ROLE_MEASURES, "rest_share", "empty_bar_share",
                 "off_grid_share")
SEGMENT_BARS = 4


def _histogram(bins, size: int) -> np.ndarray:
    counts = np.bincount(np.asarray(bins, dtype=np.int64), minlength=size).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def segment_measures(segment) -> dict:
    """Measure name (MEASURE_NAMES) -> float or 1-D array, for a non-empty
    list of Measures; see the module docstring."""
    segment = list(segment)
    if not segment or not all(isinstance(measure, Measure) for measure in segment):
        raise ValueError("a segment must be a non-empty list of music.song.Measure")
    notes = [(segment[note.bar], note) for note in played_notes(segment)]
    pitches = np.array([note.pitch for _, note in notes], dtype=np.int64)
    intervals = np.diff(pitches)
    durations = np.array([float(note.duration) for _, note in notes])
    onsets = [note.start for _, note in notes]
    roles = [ROLES.index(role_of(note.pitch, measure.chord_at(note.start)))
             for measure, note in notes]
    role_shares = _histogram(roles, len(ROLES))
    bar_time = sum(measure.length for measure in segment)
    sounding_time = sum(note.duration for _, note in notes)
    measures = {
        "pitch_class_histogram": _histogram(pitches % 12, 12),
        "interval_histogram": _histogram(np.clip(intervals, -INTERVAL_CLIP, INTERVAL_CLIP)
                                         + INTERVAL_CLIP, 2 * INTERVAL_CLIP + 1),
        "note_length_histogram": _histogram(np.searchsorted(_LENGTH_EDGES, durations),
                                            len(NOTE_LENGTHS)),
        "onset_histogram": _histogram([round((onset % 1) / ONSET_GRID) % 12
                                       for onset in onsets], 12),
        "notes_per_bar": len(notes) / len(segment),
        "pitch_range": float(pitches.max() - pitches.min()) if len(notes) else 0.0,
        "mean_abs_interval": _mean(np.abs(intervals)),
        "repeated_pitch_rate": _mean(intervals == 0),
        **{name: float(share) for name, share in zip(ROLE_MEASURES, role_shares)},
        "rest_share": float(1 - sounding_time / bar_time),
        "empty_bar_share": _mean([not any(not note.is_rest for note in measure.notes)
                                  for measure in segment]),
        "off_grid_share": _mean([(onset / ONSET_GRID).denominator != 1 for onset in onsets]),
    }
    return {name: measures[name] for name in MEASURE_NAMES}


def split_segments(measures, bars: int = SEGMENT_BARS) -> list:
    """Consecutive segments of ``bars`` measures; a shorter tail is dropped so
    that every segment has the same length."""
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise ValueError(f"bars per segment must be a positive integer, got {bars!r}")
    measures = list(measures)
    return [measures[start:start + bars]
            for start in range(0, len(measures) - bars + 1, bars)]
