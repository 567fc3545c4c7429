"""Phrasing and structure measures on constructed solos with hand-computed values."""
import math
from fractions import Fraction as F

import numpy as np
import pytest

from jazz_lstm.evaluation import structureness
from jazz_lstm.evaluation.phrasing import (groove_similarity, melody_of, phrase_lengths,
                                           pitch_class_entropy, repeated_patterns,
                                           same_pitch_repeats)
from jazz_lstm.evaluation.report import (STRUCTURE_FIGURES, Report, format_table,
                                         structure_section, to_json)
from music.song import Measure, Note


def bar(*notes, length=4):
    """A bar of (start, duration, pitch) notes."""
    return Measure(length, notes=tuple(Note(start, duration, pitch)
                                       for start, duration, pitch in notes))


def eighths(pitches):
    """Bars of eighth notes, eight to a bar."""
    return [bar(*((F(index, 2), F(1, 2), pitch)
                  for index, pitch in enumerate(pitches[first:first + 8])))
            for first in range(0, len(pitches), 8)]


PHRASE = [bar((0, F(1, 2), 60), (F(1, 2), F(1, 2), 62), (1, F(1, 2), 64), (F(3, 2), F(1, 2), 65),
              (2, 1, 67), (3, F(1, 2), 69)),
          bar((0, F(1, 3), 71), (F(1, 3), F(1, 3), 72), (F(2, 3), F(1, 3), 74), (1, 2, 67)),
          bar((F(1, 2), F(1, 2), 64), (1, F(1, 2), 62), (F(3, 2), F(5, 2), 60)),
          bar()]


def random_solo(bars, seed=0):
    """Bars of notes of random pitch and length (eighths to dotted quarters)."""
    rng = np.random.default_rng(seed)
    solo = []
    for _ in range(bars):
        notes, time = [], F(0)
        while time < 4:
            duration = min(F(int(rng.integers(1, 4)), 2), 4 - time)
            if rng.random() < 0.2:
                time += duration  # a rest
                continue
            notes.append((time, duration, int(rng.integers(50, 85))))
            time += duration
        solo.append(bar(*notes))
    return solo


# ------------------------------------------------------------------ phrases
def test_a_rest_of_a_beat_ends_a_phrase_and_a_shorter_one_does_not():
    solo = [bar((0, 1, 60), (1, 1, 62), (3, F(1, 2), 64)),       # a rest of 1 beat before 3
            bar((0, 1, 65), (F(7, 4), 1, 67), (3, 1, 69)),        # gaps of 3/4 and 1/4 beat
            bar((2, 1, 60))]                                       # a rest of 2 beats before it
    notes, beats = phrase_lengths(melody_of(solo))
    assert notes == [2, 4, 1]
    # 0..2; 3..8 (bar 2 from 4: the last note ends at 4 + 4); 10..11.
    assert beats == [2.0, 5.0, 1.0]


def test_a_silent_solo_has_no_phrases():
    assert phrase_lengths(melody_of([bar(), bar((0, 4, None))])) == ([], [])


# ------------------------------------------------------------------ H and GS
def test_one_pitch_class_gives_zero_entropy_in_every_octave():
    solo = [bar((0, 1, 48), (1, 1, 60), (2, 2, 72)), bar((0, 4, 84))]
    assert pitch_class_entropy(solo, 1) == 0.0


def test_pitch_class_entropy_by_hand():
    # Bars: C; C E; C E G B -> 0, 1 and 2 bits, H1 = 1.
    solo = [bar((0, 4, 60)), bar((0, 2, 60), (2, 2, 64)),
            bar((0, 1, 60), (1, 1, 64), (2, 1, 67), (3, 1, 71))]
    assert pitch_class_entropy(solo, 1) == pytest.approx(1.0)
    # The one 3-bar window: C 3, E 2, G 1, B 1 of 7 notes.
    shares = np.array([3, 2, 1, 1]) / 7
    assert pitch_class_entropy(solo, 3) == pytest.approx(-(shares * np.log2(shares)).sum())
    # Empty bars are left out, and a solo shorter than the window has none.
    assert pitch_class_entropy([bar(), *solo], 1) == pytest.approx(1.0)
    assert pitch_class_entropy(solo, 4) is None


def test_groove_similarity_by_hand():
    quarters = bar((0, 1, 60), (1, 1, 62), (2, 1, 64), (3, 1, 65))
    halves = bar((0, 2, 60), (2, 2, 62))
    # The same onsets: 1; onsets 1 and 3 in one bar only: 2 of 48 positions differ.
    assert groove_similarity([quarters, quarters]) == 1.0
    assert groove_similarity([quarters, halves]) == pytest.approx(1 - 2 / 48)
    # Three bars, three pairs: 1, 1 - 2/48, 1 - 2/48.
    assert groove_similarity([quarters, halves, quarters]) == pytest.approx(1 - 4 / 144)
    assert groove_similarity([quarters]) is None


# ------------------------------------------------------------------ repetition
def test_a_four_interval_pattern_recurs_only_within_eight_bars():
    line = [60, 62, 64, 65, 67, 60, 62, 64, 65, 67]
    # Intervals 2 2 1 2 -7 2 2 1 2: six patterns, the last one is the first again.
    assert repeated_patterns(melody_of(eighths(line + [None] * 6))) == (1, 6)
    # The same notes, the second half 8 bars after the first: too far.
    far = eighths(line[:5] + [None] * 3) + [bar()] * 7 + eighths(line[5:] + [None] * 3)
    assert repeated_patterns(melody_of(far)) == (0, 6)


def test_overlapping_occurrences_do_not_count_as_a_repeat():
    # 60 x 6: the patterns 0 0 0 0 at starts 0 and 1 overlap in four notes.
    assert repeated_patterns(melody_of(eighths([60] * 6 + [None] * 2)))[0] == 0
    # 60 x 9: the pattern at start 4 repeats the one at start 0 (one note in common).
    assert repeated_patterns(melody_of(eighths([60] * 9 + [None] * 7))) == (1, 5)


def test_same_pitch_repeats_by_hand():
    assert same_pitch_repeats(melody_of(eighths([60, 60, 62, 62, 62, 61, 60, 72]))) == (3, 7)


# ------------------------------------------------------------------ SI
def test_chroma_of_a_held_note_and_of_silence():
    chroma = structureness.melody_chroma(melody_of([bar((0, 4, 61)), bar()]))
    assert chroma.shape == (12, 8)
    np.testing.assert_allclose(chroma[:, 0], np.eye(12)[1])
    # Beat 7 hears beats 5 to 9.2 (21 fine frames of 1/5 beat around it): silence.
    np.testing.assert_allclose(chroma[:, 7], np.full(12, 1 / math.sqrt(12)))
    np.testing.assert_allclose(np.linalg.norm(chroma, axis=0), 1.0)


def test_fitness_of_an_alternation_by_hand():
    # A B A B: A matches A, B matches B (1), everything else the penalty (-2).
    similarity = np.array([[1, -2, 1, -2], [-2, 1, -2, 1], [1, -2, 1, -2], [-2, 1, -2, 1]],
                          dtype=float)
    plot = structureness.fitness_scape_plot(similarity)
    # "A B" (frames 0-1): paths on rows 0-1 and 2-3, score 4 over 4 cells covering 4 rows:
    # score (4 - 2) / 4 = 0.5, coverage (4 - 2) / 4 = 0.5, fitness 0.5.
    assert plot[1, 0] == pytest.approx(0.5)
    # "B A" (frames 1-2) occurs once: only its own diagonal, fitness 0.
    assert plot[1, 1] == 0.0
    # "A" alone: rows 0 and 2, score (2 - 1) / 2, coverage (2 - 1) / 4 -> 2 * 1/8 / (3/4).
    assert plot[0, 0] == pytest.approx(1 / 3)
    # Three frames never recur in four.
    assert not plot[2:].any()


@pytest.mark.skipif(structureness.numba is None, reason="numba is not installed")
def test_compiled_and_python_fitness_agree():
    rng = np.random.default_rng(3)
    similarity = np.where(rng.random((12, 12)) < 0.3, rng.random((12, 12)), structureness.PENALTY)
    np.fill_diagonal(similarity, 1.0)
    for start, length in [(0, 1), (0, 12), (2, 5), (7, 3), (4, 8)]:
        assert structureness._segment_fitness(similarity, start, length) == pytest.approx(
            structureness._segment_fitness.py_func(similarity, start, length), abs=1e-12)


def test_a_transposed_repeat_is_similar():
    # Four bars of a line that never repeats within itself, the same a fourth higher,
    # then random notes: the diagonal smoothing reaches 16 beats, so the line is that long.
    line = [60, 62, 64, 65, 67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 62,
            61, 64, 67, 70, 73, 70, 67, 64, 66, 63, 59, 56, 55, 57, 58, 60]
    solo = eighths(line) + eighths([pitch + 5 for pitch in line]) + random_solo(8)
    similarity = structureness.self_similarity(structureness.melody_chroma(melody_of(solo)))
    # Beat 2 of the line against beat 2 of its transposition 16 beats later: near the
    # top of the 0..1 scale, above every cell of the same beat against the random bars,
    # which mostly fall below the cut.
    assert similarity[2, 18] > 0.7
    assert similarity[2, 18] > similarity[2, 34:].max()
    assert (similarity[2, 34:] == structureness.PENALTY).mean() > 0.5


def test_a_phrase_repeated_eight_times_is_more_structured_than_random_notes():
    repeated = [measure for _ in range(8) for measure in PHRASE]
    scattered = random_solo(32)
    ordered = structureness.structureness(melody_of(repeated))
    noise = structureness.structureness(melody_of(scattered))
    for name in ("short", "mid", "long"):
        assert ordered[name] > noise[name] + 0.2, name
    assert groove_similarity(repeated) > groove_similarity(scattered)
    shares = [np.divide(*repeated_patterns(melody_of(solo))) for solo in (repeated, scattered)]
    assert shares[0] > 0.5 > shares[1]


def test_a_solo_shorter_than_a_range_scores_zero_there():
    assert structureness.structureness(melody_of(PHRASE))["long"] == 0.0


# ------------------------------------------------------------------ the report section
def test_structure_section_pools_phrases_and_averages_solos():
    first = [bar((0, 1, 60), (1, 1, 60), (3, 1, 62)), bar((0, 4, 64))]   # phrases of 2 and 2
    second = [bar((0, 1, 60), (1, 1, 67)), bar()]                        # one phrase of 2
    section = structure_section([first, second], {"lstm": [second, second]}, seed=0)
    assert list(section) == ["real", "lstm"]
    real = section["real"]
    assert tuple(real) == STRUCTURE_FIGURES
    assert real["notes_per_phrase"] == 2.0
    assert real["beats_per_phrase"] == pytest.approx((2 + 5 + 2) / 3)
    assert real["phrases_per_8_bars"] == pytest.approx(3 * 8 / 4)
    assert real["same_pitch_repeats"] == pytest.approx(1 / 4)       # 60 60 62 64 and 60 67
    # Bars C C D | E and C G | (empty): per solo (H(2/3, 1/3) + 0) / 2 and 1.
    assert real["H1"] == pytest.approx((_entropy([2, 1]) / 2 + 1) / 2)
    assert real["repeated_4_interval_patterns"] is None             # no solo has 5 notes
    assert real["phrase_length_oa"] == pytest.approx(1.0, abs=0.01)  # all phrases have 2 notes
    assert section["lstm"]["phrases_per_8_bars"] == pytest.approx(2 * 8 / 4)


def _entropy(counts):
    shares = np.array(counts) / sum(counts)
    return float(-(shares * np.log2(shares)).sum())


def test_structure_shows_in_the_table_and_the_json():
    solos = [PHRASE, random_solo(4, seed=1), random_solo(4, seed=2)]
    report = Report(structure=structure_section(solos, {"lstm": solos[1:]}))
    table = format_table(report)
    assert "phrasing and structure" in table
    assert any(line.split()[:1] == ["SI_long"] for line in table.splitlines())
    assert to_json(report)["structure"]["lstm"]["H1"] == report.structure["lstm"]["H1"]


def test_the_structure_section_needs_two_real_solos():
    with pytest.raises(ValueError, match="at least 2 real solos"):
        structure_section([PHRASE], {})
