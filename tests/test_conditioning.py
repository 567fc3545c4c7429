from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.tokens.conditioning import FEATURE_NAMES, feature_size, position_features, stream_features
from music.song import Chord, Measure, MusicError

UNIT = F(1, 12)
# Chords built by hand: parsing symbols would import music21 (seconds).
DM7 = Chord(0, 2, 2, (2, 5, 9, 0), "Dm7")
G7 = Chord(2, 2, 7, (7, 11, 2, 5), "G7")
CMAJ7 = Chord(0, 4, 0, (0, 4, 7, 11), "Cmaj7")
II_V_I = [[DM7, G7], [CMAJ7]]


def on(row):
    """The names of the features set in a row, with bar_progress left out."""
    return {name for name, value in zip(FEATURE_NAMES, row) if value and name != "bar_progress"}


def value(row, name):
    return row[FEATURE_NAMES.index(name)]


def test_names_are_distinct_and_count_the_features():
    assert feature_size() == len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == 45


def test_dm7_at_beat_one_by_hand():
    features = position_features(II_V_I, 48)
    assert features.shape == (2, 49, 45) and features.dtype == np.float32
    assert on(features[0, 0]) == {"quality=minor", "chord_pc=0", "chord_pc=3", "chord_pc=7",
                                  "chord_pc=10", "next_root=+5", "beat=1", "sub=on_beat"}
    assert value(features[0, 0], "bar_progress") == 0


def test_the_chord_change_is_announced_one_beat_ahead():
    features = position_features(II_V_I, 48)
    assert value(features[0, 11], "change_within_beat") == 0   # G7 is 13 units away
    assert value(features[0, 12], "change_within_beat") == 1   # 12 units away
    assert value(features[0, 23], "change_within_beat") == 1
    assert value(features[0, 24], "change_within_beat") == 0   # G7 lasts 24 units


def test_g7_on_the_and_of_three_by_hand():
    row = position_features(II_V_I, 48)[0, 30]
    assert on(row) == {"quality=dominant", "chord_pc=0", "chord_pc=4", "chord_pc=7",
                       "chord_pc=10", "next_root=+5", "beat=3", "sub=eighth"}
    assert value(row, "bar_progress") == pytest.approx(30 / 48)


def test_a_full_bar_has_the_harmony_after_the_bar_line():
    features = position_features(II_V_I, 48)
    # After bar 1 comes Cmaj7, whose next chord is Dm7 again (the form cycles).
    assert on(features[0, 48]) == {"quality=major", "chord_pc=0", "chord_pc=4", "chord_pc=7",
                                   "chord_pc=11", "next_root=+2", "bar_full"}
    assert value(features[0, 48], "bar_progress") == 1
    assert on(features[1, 48]) == {"quality=minor", "chord_pc=0", "chord_pc=3", "chord_pc=7",
                                   "chord_pc=10", "next_root=+5", "bar_full"}
    # The last unit of the form is one unit before Dm7 comes round again.
    assert on(features[1, 47]) == {"quality=major", "chord_pc=0", "chord_pc=4", "chord_pc=7",
                                   "chord_pc=11", "next_root=+2", "change_within_beat",
                                   "beat=4", "sub=other"}


@pytest.mark.parametrize("unit, names", [
    (3, {"beat=1", "sub=sixteenth"}), (4, {"beat=1", "sub=triplet"}),
    (8, {"beat=1", "sub=triplet"}), (9, {"beat=1", "sub=sixteenth"}),
    (6, {"beat=1", "sub=eighth"}), (13, {"beat=2", "sub=other"}),
    (48, {"beat=5+", "sub=on_beat"}), (66, {"beat=5+", "sub=eighth"})])
def test_beat_and_subdivision_in_a_six_four_bar(unit, names):
    row = position_features([[Chord(0, 6, 0, (0, 4, 7))]], 72)[0, unit]
    # One chord all along: nothing changes and there is no next chord.
    assert on(row) == {"quality=major", "chord_pc=0", "chord_pc=4", "chord_pc=7"} | names


def test_no_chord_bars_and_the_next_chord_skips_them():
    features = position_features([[Chord(0, 4, 2, (2, 5, 9, 0))], [], [CMAJ7]], 48)
    assert on(features[1, 0]) == {"quality=none", "beat=1", "sub=on_beat"}
    assert value(features[0, 0], "next_root=+10") == 1        # D up to C, over the gap
    assert value(features[0, 40], "change_within_beat") == 1  # the gap comes
    assert value(features[1, 40], "change_within_beat") == 1  # Cmaj7 comes


def test_bar_lengths_per_bar():
    features = position_features([[CMAJ7], [Chord(0, 3, 7, (7, 11, 2, 5))]], [48, 36])
    assert features.shape == (2, 49, 45)
    assert value(features[1, 36], "bar_full") == 1
    assert not features[1, 37:].any()
    assert value(features[1, 24], "beat=3") == 1


def test_stream_features_walk_the_costs():
    tokens = ["0+7,6", "R,6", "4+4,36", "|", "7=,48", "|"]
    rows = stream_features(tokens, II_V_I, 48)
    assert rows.shape == (7, 45)
    assert on(rows[1]) >= {"quality=minor", "beat=1", "sub=eighth"}
    assert on(rows[2]) >= {"quality=minor", "beat=2", "sub=on_beat", "change_within_beat"}
    assert on(rows[3]) >= {"quality=major", "bar_full"}          # the bar line starts here
    assert on(rows[4]) >= {"quality=major", "beat=1", "sub=on_beat"}
    assert on(rows[5]) >= {"quality=minor", "bar_full"}
    assert on(rows[6]) >= {"quality=minor", "beat=1"}            # the form starts again
    assert value(rows[4], "bar_full") == 0


def test_an_overfilled_bar_stays_full_and_the_stream_cycles():
    rows = stream_features(["R,48", "R,6", "|", "|", "|"], II_V_I, 48)
    assert value(rows[1], "bar_full") == value(rows[2], "bar_full") == 1
    assert value(rows[4], "quality=minor") == value(rows[5], "quality=major") == 1


def test_bad_input_is_refused():
    with pytest.raises(MusicError, match="no chord bars"):
        position_features([], 48)
    with pytest.raises(MusicError, match="3 bar lengths given for 2 bars"):
        position_features(II_V_I, [48, 48, 48])
    with pytest.raises(MusicError, match="> 0"):
        position_features(II_V_I, 0)
    with pytest.raises(MusicError, match="chord bar 1"):
        position_features([[CMAJ7]], 36)   # a 4-quarter chord in a 3-quarter bar
    with pytest.raises(MusicError, match="bad exact-grammar token"):
        stream_features(["C,1.000,<-2,+2>"], II_V_I, 48)


# --- property: the harmony features against a brute-force reading ---------------

@st.composite
def chord_bars(draw):
    bars, units = [], []
    for _ in range(draw(st.integers(1, 4))):
        bar_units = draw(st.sampled_from([48, 36, 24]))
        chords, cursor = [], 0
        while cursor < bar_units and draw(st.booleans()):
            start = cursor + draw(st.sampled_from([0, 0, 6]))
            length = draw(st.sampled_from([6, 12, 24, 36]))
            if start + length > bar_units:
                break
            root = draw(st.sampled_from([0, 2, 7]))
            shape = draw(st.sampled_from([(0, 4, 7), (0, 3, 7, 10)]))
            chords.append(Chord(start * UNIT, length * UNIT, root,
                                tuple((root + step) % 12 for step in shape)))
            cursor = start + length
        bars.append(chords)
        units.append(bar_units)
    return bars, units


def brute_force_timeline(bars, units):
    """The chord at every unit of the bars end to end, by Measure.chord_at."""
    timeline = []
    for chords, bar_units in zip(bars, units):
        measure = Measure(bar_units * UNIT, chords=chords)
        timeline += [measure.chord_at(unit * UNIT) for unit in range(bar_units)]
    return timeline


def key(chord):
    return None if chord is None else (chord.root, chord.pitch_classes)


@settings(max_examples=200, deadline=None)
@given(bars=chord_bars())
def test_harmony_features_match_a_brute_force_reading(bars):
    bars, units = bars
    features = position_features(bars, units)
    timeline = brute_force_timeline(bars, units)
    total = len(timeline)
    offset = 0
    for bar, bar_units in enumerate(units):
        for unit in range(bar_units + 1):
            row = features[bar, unit]
            now = (offset + unit) % total
            chord = timeline[now]
            changes = any(key(timeline[(now + step) % total]) != key(chord)
                          for step in range(1, 13))
            assert value(row, "change_within_beat") == changes
            ahead = [timeline[(now + step) % total] for step in range(1, total)]
            later = [other for other in ahead
                     if other is not None and key(other) != key(chord)]
            expected = set()
            if chord is None:
                expected.add("quality=none")
            else:
                expected |= {f"chord_pc={(pc - chord.root) % 12}" for pc in chord.pitch_classes}
                if later:
                    expected.add(f"next_root=+{(later[0].root - chord.root) % 12}")
            names = {name for name in on(row)
                     if name.startswith(("chord_pc", "next_root", "quality=none"))}
            assert names == expected
            assert len({name for name in on(row) if name.startswith("quality")}) == 1
            full = unit == bar_units
            assert value(row, "bar_full") == full
            assert len({name for name in on(row) if name.startswith(("beat", "sub"))}) \
                == (0 if full else 2)
        offset += bar_units
