from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jazz_lstm.evaluation.measures import MEASURE_NAMES, segment_measures, split_segments
from music.song import Chord, Measure, Note

CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")
DM7_G7 = (Chord(0, 2, root=2, pitch_classes=(0, 2, 5, 9), symbol="Dm7"),
          Chord(2, 2, root=7, pitch_classes=(2, 5, 7, 11), symbol="G7"))


def hand_built_segment():
    first = Measure(4, notes=(Note(0, 1, 60), Note(1, F(1, 2), 62), Note(F(3, 2), F(1, 2)),
                              Note(2, F(1, 3), 64), Note(F(7, 3), F(1, 3), 64),
                              Note(F(8, 3), F(1, 3), 61)), chords=(CMAJ7,))
    no_chord = Measure(4, notes=(Note(F(1, 10), F(1, 8), 76),))
    empty = Measure(4, notes=(Note(0, 4),), chords=(CMAJ7,))
    return [first, no_chord, empty]


def one_hot_mix(size, weights):
    histogram = np.zeros(size)
    for index, weight in weights.items():
        histogram[index] = weight
    return histogram


def test_hand_built_segment_gives_exact_measures():
    # Notes 60 62 64 64 61 | 76 | (nothing); intervals +2 +2 0 -3 +15.
    measures = segment_measures(hand_built_segment())
    assert tuple(measures) == MEASURE_NAMES
    np.testing.assert_allclose(measures["pitch_class_histogram"],
                               one_hot_mix(12, {0: 1 / 6, 1: 1 / 6, 2: 1 / 6, 4: 3 / 6}))
    # +15 is clipped to +12; bin i holds interval i - 12.
    np.testing.assert_allclose(measures["interval_histogram"],
                               one_hot_mix(25, {14: 2 / 5, 12: 1 / 5, 9: 1 / 5, 24: 1 / 5}))
    # Durations 1, 1/2, 1/3 (x3), 1/8: bins quarter 7, eighth 4, eighth triplet 3, 32nd 0.
    np.testing.assert_allclose(measures["note_length_histogram"],
                               one_hot_mix(12, {7: 1 / 6, 4: 1 / 6, 3: 3 / 6, 0: 1 / 6}))
    # Onsets 0, 1, 2 on beats; 7/3 and 8/3 are 4/12 and 8/12 into the beat; 1/10 rounds to 1/12.
    np.testing.assert_allclose(measures["onset_histogram"],
                               one_hot_mix(12, {0: 3 / 6, 4: 1 / 6, 8: 1 / 6, 1: 1 / 6}))
    assert measures["notes_per_bar"] == 2.0
    assert measures["pitch_range"] == 16.0
    assert measures["mean_abs_interval"] == pytest.approx(22 / 5)
    assert measures["repeated_pitch_rate"] == pytest.approx(1 / 5)
    # Under Cmaj7: C, D (Lydian scale), E, E, C# (a semitone from C); 76 has no chord.
    assert measures["chord_share"] == pytest.approx(3 / 6)
    assert measures["scale_share"] == pytest.approx(1 / 6)
    assert measures["approach_share"] == pytest.approx(1 / 6)
    assert measures["other_share"] == pytest.approx(1 / 6)
    # 12 quarters of bar time, 1 + 1/2 + 3 * 1/3 + 1/8 sounding.
    assert measures["rest_share"] == pytest.approx(1 - (2 + F(5, 8)) / 12)
    assert measures["empty_bar_share"] == pytest.approx(1 / 3)
    assert measures["off_grid_share"] == pytest.approx(1 / 6)


def test_the_chord_at_each_onset_decides_the_role():
    # B (11) is a chord tone of G7 but only a scale tone (Dorian) of Dm7.
    bar = Measure(4, notes=(Note(0, 1, 71), Note(2, 1, 71)), chords=DM7_G7)
    measures = segment_measures([bar])
    assert (measures["chord_share"], measures["scale_share"]) == (0.5, 0.5)


def test_a_silent_segment_has_zero_histograms_and_full_rest():
    measures = segment_measures([Measure(4), Measure(3, notes=(Note(0, 3),))])
    for name in ("pitch_class_histogram", "interval_histogram", "note_length_histogram",
                 "onset_histogram"):
        assert not measures[name].any()
    assert measures["rest_share"] == 1.0
    assert measures["empty_bar_share"] == 1.0
    assert measures["notes_per_bar"] == 0.0
    assert measures["chord_share"] == measures["other_share"] == 0.0


@st.composite
def chord_tone_bars(draw):
    """Bars over Dm7 | G7 whose notes are tones of the chord at their onset."""
    bars = []
    for _ in range(draw(st.integers(1, 3))):
        steps = sorted(draw(st.sets(st.integers(0, 15), min_size=1, max_size=8)))
        notes = []
        for index, step in enumerate(steps):
            start = F(step, 4)
            end = F(steps[index + 1], 4) if index + 1 < len(steps) else F(4)
            chord = DM7_G7[0] if start < 2 else DM7_G7[1]
            pitch = 12 * draw(st.integers(4, 6)) + draw(st.sampled_from(chord.pitch_classes))
            notes.append(Note(start, end - start, pitch))
        bars.append(Measure(4, notes=tuple(notes), chords=DM7_G7))
    return bars


@settings(max_examples=60, deadline=None)
@given(chord_tone_bars())
def test_only_chord_tones_score_chord_share_one(segment):
    measures = segment_measures(segment)
    assert measures["chord_share"] == 1.0
    assert measures["scale_share"] == measures["approach_share"] == measures["other_share"] == 0
    assert measures["off_grid_share"] == 0.0    # sixteenth steps lie on the 1/12 grid
    for name in ("pitch_class_histogram", "note_length_histogram", "onset_histogram"):
        assert measures[name].sum() == pytest.approx(1.0)
        assert measures[name].min() >= 0


def test_split_segments_drops_a_short_tail():
    measures = [Measure(4, number=number) for number in range(10)]
    segments = split_segments(measures, 4)
    assert [[measure.number for measure in segment] for segment in segments] == [
        [0, 1, 2, 3], [4, 5, 6, 7]]
    assert split_segments(measures[:3], 4) == []


@pytest.mark.parametrize("call, message", [
    (lambda: segment_measures([]), "non-empty list of music.song.Measure"),
    (lambda: segment_measures(["bar"]), "non-empty list of music.song.Measure"),
    (lambda: split_segments([Measure(4)], 0), "bars per segment"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
