from fractions import Fraction as F

import pytest

from music.grid import GRID, SCORE_GRID, fold_pitch, grid_steps, round_to_grid
from music.song import MusicError, Note
from music.tokens.prune import (absorb_short_notes, fit_to_bar, fold_into_range, merge_repeats, prune_measure,
                                remove_overlaps, snap_to_grid)


def spans(notes):
    """(start, duration, pitch) triples, easy to write by hand."""
    return [(note.start, note.duration, note.pitch) for note in notes]


def test_fold_into_range_moves_by_octaves_and_keeps_rests():
    notes = [Note(0, 1, 40), Note(1, 1, 100), Note(2, 1, 60), Note(3, 1, None)]
    assert spans(fold_into_range(notes, 52, 88)) == [
        (0, 1, 52), (1, 1, 88), (2, 1, 60), (3, 1, None)]


def test_fold_pitch_by_hand():
    assert [fold_pitch(pitch, 0, 127) for pitch in (-1, 0, 127, 128, 144, -25)] == [
        11, 0, 127, 116, 120, 11]
    with pytest.raises(MusicError, match="narrower than an octave"):
        fold_pitch(60, 60, 70)


def test_grids_and_rounding_by_hand():
    assert SCORE_GRID == F(1, 12) and GRID == F(1, 24)
    assert grid_steps(F(1, 10), SCORE_GRID) == 1     # 1.2 steps
    assert grid_steps(F(1, 24), SCORE_GRID) == 0     # half a step: to the even 0
    assert grid_steps(F(3, 24), SCORE_GRID) == 2     # 1.5 steps: to the even 2
    assert round_to_grid(F(201, 100)) == 2           # the default grid is 1/24
    assert round_to_grid(0.34) == F(1, 3)


def test_fold_into_range_rejects_range_narrower_than_an_octave():
    with pytest.raises(MusicError):
        fold_into_range([Note(0, 1, 60)], 60, 70)


def test_snap_to_grid_keeps_triplets_and_drops_collapsed_notes():
    notes = [Note(0, F(1, 3), 60), Note(F(1, 3), F(1, 3), 62),
             Note(F(2, 3), F(1, 100), 64), Note(F(101, 100), F(99, 100), 65)]
    assert spans(snap_to_grid(notes, F(1, 12))) == [
        (0, F(1, 3), 60), (F(1, 3), F(1, 3), 62), (1, 1, 65)]


def test_remove_overlaps_keeps_one_sounding_note_per_onset_and_cuts_overlaps():
    notes = [Note(1, 1, None), Note(0, 2, 60), Note(1, F(1, 2), 62), Note(1, 1, 64)]
    assert spans(remove_overlaps(notes)) == [(0, 1, 60), (1, F(1, 2), 62)]


def test_fit_to_bar_cuts_overflow_and_fills_gaps_with_rests():
    notes = [Note(F(1, 2), 1, 60), Note(2, 3, 62), Note(F(9, 2), 1, 64)]
    assert spans(fit_to_bar(notes, 4)) == [
        (0, F(1, 2), None), (F(1, 2), 1, 60), (F(3, 2), F(1, 2), None), (2, 2, 62)]


def test_fit_to_bar_pads_the_end_with_a_rest():
    assert spans(fit_to_bar([Note(0, 1, 60)], 3)) == [(0, 1, 60), (1, 2, None)]
    assert spans(fit_to_bar([], 4)) == [(0, 4, None)]


def test_absorb_short_notes_gives_time_to_the_previous_note():
    notes = [Note(0, 1, 60), Note(1, F(1, 24), 61), Note(F(25, 24), F(71, 24), 62)]
    assert spans(absorb_short_notes(notes, F(1, 8))) == [
        (0, F(25, 24), 60), (F(25, 24), F(71, 24), 62)]


def test_absorb_short_first_note_goes_to_the_next_one():
    notes = [Note(0, F(1, 12), 60), Note(F(1, 12), F(47, 12), 62)]
    assert spans(absorb_short_notes(notes, F(1, 8))) == [(0, 4, 62)]
    # Two short ones: the rest takes the first and is then long enough.
    notes = [Note(0, F(1, 12), 60), Note(F(1, 12), F(1, 12), None), Note(F(1, 6), F(23, 6), 62)]
    assert spans(absorb_short_notes(notes, F(1, 8))) == [
        (0, F(1, 6), None), (F(1, 6), F(23, 6), 62)]


def test_absorb_keeps_a_lone_short_note():
    assert spans(absorb_short_notes([Note(0, F(1, 24), 60)], F(1, 8))) == [(0, F(1, 24), 60)]


def test_merge_repeats_joins_same_pitch_and_rests_only_when_adjacent():
    notes = [Note(0, 1, 60), Note(1, 1, 60), Note(2, F(1, 2), None), Note(F(5, 2), F(1, 2), None),
             Note(3, F(1, 2), 62), Note(F(7, 2), F(1, 2), 64)]
    assert spans(merge_repeats(notes)) == [(0, 2, 60), (2, 1, None), (3, F(1, 2), 62),
                                           (F(7, 2), F(1, 2), 64)]
    apart = [Note(0, 1, 60), Note(2, 1, 60)]
    assert spans(merge_repeats(apart)) == [(0, 1, 60), (2, 1, 60)]


def test_prune_measure_chains_the_steps():
    notes = [Note(0, 1, 40),                  # folds up to 52
             Note(1, F(1, 30), 64),           # snaps to 1/24 long, absorbed by the 52
             Note(F(31, 30), F(29, 30), 52),  # now follows a 52 directly: merged
             Note(3, 2, 100)]                 # folds to 88, cut at the bar line
    # The gap from 2 to 3 becomes a rest.
    assert spans(prune_measure(notes, 4)) == [(0, 2, 52), (2, 1, None), (3, 1, 88)]


def test_prune_measure_keeps_velocity():
    assert prune_measure([Note(0, 2, 60, velocity=70)], 4)[0].velocity == 70
