"""Post-processing that turns freshly decoded notes into a playable bar.

Each step is a small function from a list of Notes to a new list; none
mutates its input.  ``prune_measure`` chains them in this order:

1. ``fold_into_range``: pitches outside the range move by whole octaves
   into it (the pitch class, hence the grammar role, is kept).
2. ``snap_to_grid``: onsets and ends round to the nearest multiple of the
   grid (default ``GRID`` = 1/24 quarter, the token grid, so 32nds and
   triplets survive); notes that collapse to zero length are dropped.
3. ``remove_overlaps``: of several notes at one onset only the first
   sounding one stays (a rest only when all are rests); a note that runs
   into the next one is cut at the next onset.
4. ``fit_to_bar``: notes starting at or after the bar line are dropped, the
   note crossing it is cut there, and every gap, including the end of the
   bar, becomes an explicit rest.  Padding with a rest rather than
   lengthening the last note keeps the generated rhythm; the notes then
   fill the bar exactly, with no gap.
5. ``absorb_short_notes``: a note or rest shorter than ``MIN_DURATION``
   (1/8 quarter, a 32nd note) gives its time to the note before it (the
   first note of the bar gives it to the next one), so the bar stays full.
6. ``merge_repeats``: a note followed at once by the same pitch, or a rest
   followed by a rest, becomes one longer note.

All times are Fraction quarter lengths measured from the start of the bar.

The time grids and pitch folding live in ``music.grid``.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from music.grid import GRID, fold_pitch, round_to_grid
from music.song import MusicError, Note

MIN_DURATION = Fraction(1, 8)
GUITAR_RANGE = (52, 88)  # MIDI E3..E6: the electric guitar's usual solo range


def fold_into_range(notes, low=GUITAR_RANGE[0], high=GUITAR_RANGE[1]) -> list:
    """Move pitches by octaves into low..high (see ``fold_pitch``)."""
    fold_pitch(low, low, high)  # refuses a range narrower than an octave, even with no notes
    folded = []
    for note in notes:
        if note.pitch is None:
            folded.append(note)
            continue
        pitch = fold_pitch(note.pitch, low, high)
        folded.append(note if pitch == note.pitch else replace(note, pitch=pitch))
    return folded


def snap_to_grid(notes, grid=GRID) -> list:
    """Round onsets and ends to multiples of grid (quarter lengths > 0)."""
    grid = Fraction(grid)
    if grid <= 0:
        raise MusicError(f"grid must be > 0 quarter lengths, got {grid}")
    snapped = []
    for note in notes:
        start, end = round_to_grid(note.start, grid), round_to_grid(note.end, grid)
        if end > start:
            snapped.append(replace(note, start=start, duration=end - start))
    return snapped


def remove_overlaps(notes) -> list:
    """Sorted notes, one per onset, none sounding past the next onset."""
    by_onset = {}
    for note in sorted(notes, key=lambda note: note.start):
        kept = by_onset.get(note.start)
        if kept is None or (kept.is_rest and not note.is_rest):
            by_onset[note.start] = note
    ordered = [by_onset[start] for start in sorted(by_onset)]
    result = []
    for note, following in zip(ordered, ordered[1:] + [None]):
        if following is not None and note.end > following.start:
            note = replace(note, duration=following.start - note.start)
        result.append(note)
    return result


def fit_to_bar(notes, bar_length) -> list:
    """Sorted, non-overlapping notes cut and padded to fill the bar exactly.

    bar_length: quarter lengths (> 0).  The result starts at 0, has no gap
    and ends exactly at bar_length.
    """
    bar_length = Fraction(bar_length)
    fitted = []
    cursor = Fraction(0)
    for note in notes:
        if note.start >= bar_length:
            break
        if note.start > cursor:
            fitted.append(Note(start=cursor, duration=note.start - cursor))
        end = min(note.end, bar_length)
        fitted.append(replace(note, duration=end - note.start))
        cursor = end
    if cursor < bar_length:
        fitted.append(Note(start=cursor, duration=bar_length - cursor))
    return fitted


def absorb_short_notes(notes, min_duration=MIN_DURATION) -> list:
    """Give the time of notes shorter than min_duration (quarter lengths)
    to their neighbour; expects contiguous notes, as fit_to_bar returns.
    """
    kept = list(notes)
    index = 0
    while index < len(kept) and len(kept) > 1:
        note = kept[index]
        if note.duration >= min_duration:
            index += 1
        elif index == 0:
            following = kept[1]
            kept[0:2] = [replace(following, start=note.start,
                                  duration=note.duration + following.duration)]
        else:
            previous = kept[index - 1]
            kept[index - 1:index + 1] = [replace(previous,
                                                  duration=previous.duration + note.duration)]
            index -= 1
    return kept


def merge_repeats(notes) -> list:
    """Join a note with the next one when that starts at its end with the
    same pitch (two rests in a row join too)."""
    merged = []
    for note in notes:
        if merged and merged[-1].pitch == note.pitch and merged[-1].end == note.start:
            previous = merged.pop()
            note = replace(previous, duration=previous.duration + note.duration)
        merged.append(note)
    return merged


def prune_measure(notes, bar_length, grid=GRID, min_duration=MIN_DURATION,
                  pitch_range=GUITAR_RANGE) -> list:
    """A generated bar made playable (steps in the module docstring).

    bar_length, grid, min_duration: quarter lengths
    pitch_range: (lowest, highest) MIDI pitch, inclusive
    The result fills 0..bar_length exactly, one note per onset.
    """
    low, high = pitch_range
    notes = fold_into_range(notes, low, high)
    notes = snap_to_grid(notes, grid)
    notes = remove_overlaps(notes)
    notes = fit_to_bar(notes, bar_length)
    notes = absorb_short_notes(notes, min_duration)
    return merge_repeats(notes)
