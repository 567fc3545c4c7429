"""music.metre: the pulses of a bar in any metre, strong beats, groups of twos and threes."""
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from music.metre import bar_pulses, group_sizes


def test_four_four_has_strong_beats_one_and_three():
    pulses = bar_pulses(4, (4, 4))
    assert [p.start for p in pulses] == [0, 1, 2, 3]
    assert [p.strong for p in pulses] == [True, False, True, False]
    assert [p.ends_group for p in pulses] == [False, True, False, True]
    assert [p.offbeat for p in pulses] == [F(1, 2), F(3, 2), F(5, 2), F(7, 2)]


@pytest.mark.parametrize("signature, starts, strong_starts", [
    ((3, 4), [0, 1, 2], [0]),
    ((5, 4), [0, 1, 2, 3, 4], [0, 3]),                       # 3 + 2
    ((6, 8), [0, F(3, 2)], [0]),                              # two dotted quarters
    ((7, 8), [F(k, 2) for k in range(7)], [0, F(3, 2), F(5, 2)]),  # 3 + 2 + 2 eighths
    ((2, 2), [0, 2], [0]),
    ((12, 8), [0, F(3, 2), 3, F(9, 2)], [0, 3]),
])
def test_pulses_and_strong_beats_in_other_metres(signature, starts, strong_starts):
    numerator, denominator = signature
    pulses = bar_pulses(F(4 * numerator, denominator), signature)
    assert [p.start for p in pulses] == starts
    assert [p.start for p in pulses if p.strong] == strong_starts


def test_compound_offbeat_is_the_last_eighth_of_the_beat():
    assert [p.offbeat for p in bar_pulses(3, (6, 8))] == [1, F(5, 2)]


def test_a_short_bar_ends_with_a_short_pulse():
    pulses = bar_pulses(F(3, 2), (4, 4))
    assert [(p.start, p.length) for p in pulses] == [(0, 1), (1, F(1, 2))]


@given(st.integers(1, 40))
def test_groups_are_twos_and_threes_covering_the_bar(count):
    sizes = group_sizes(count)
    assert sum(sizes) == count
    assert all(size in (2, 3) for size in sizes) or count == 1
    assert sizes.count(3) <= 1
