"""music.band.voicing: rootless piano voicings by hand, under a ceiling, moving smoothly."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.band.voicing import COMP_LOWEST, rootless_shapes, rootless_voicing, stack
from tests.band_helpers import chord, MINOR7, DOMINANT7, MAJOR7, DM7, G7, CMAJ7


@pytest.mark.parametrize("the_chord, shape_a, shape_b", [
    (DM7, (5, 0, 4), (0, 5, 11)),                        # F C E / C F B
    (G7, (11, 5, 9), (5, 11, 4)),                        # B F A / F B E
    (CMAJ7, (4, 11, 2), (11, 4, 9)),                     # E B D / B E A
    (chord(7, (0, 4, 7, 10, 1)), (11, 5, 8), (5, 11, 4)),   # G7b9: the b9 (Ab)
    (chord(0, (0, 4, 7, 9)), (4, 9, 2), (9, 4, 2)),      # C6: the 6th plays the 7th's part
    (chord(11, (0, 3, 6, 10)), (2, 9, 4), (9, 2, 5)),    # Bm7b5: D A E / A D F
])
def test_rootless_shapes(the_chord, shape_a, shape_b):
    assert rootless_shapes(the_chord) == (shape_a, shape_b)


def test_stack_takes_the_nearest_pitch_above():
    assert stack((5, 0, 4), 53) == (53, 60, 64)
    assert stack((0, 0), 60) == (60, 72)


def test_dm7_to_g7_moves_by_one_half_step():
    first = rootless_voicing(DM7, ceiling=70)
    assert first == (53, 60, 64)                 # F3 C4 E4, nearest middle C
    assert rootless_voicing(G7, ceiling=70, previous=first) == (53, 59, 64)   # F3 B3 E4


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 11), st.sampled_from([MINOR7, DOMINANT7, MAJOR7, (0, 3, 6, 10), (0, 3, 6, 9),
                                            (0, 4, 8), (0, 5, 7, 10), (0, 4, 7)]),
       st.integers(58, 96))
def test_voicings_sit_under_the_ceiling_without_the_root(root, intervals, ceiling):
    voicing = rootless_voicing(chord(root, intervals), ceiling)
    assert voicing[-1] < ceiling and voicing[0] >= COMP_LOWEST
    assert list(voicing) == sorted(set(voicing))
    # three notes when an octave and a bit above B-flat 2 is free, else a 3-7 shell
    assert len(voicing) == 3 if ceiling >= 68 else len(voicing) in (2, 3)
    assert root not in {pitch % 12 for pitch in voicing}


def test_a_low_ceiling_leaves_a_shell():
    assert rootless_voicing(CMAJ7, ceiling=58) == (47, 52, 57)   # B2 E3 A3 still fits
    assert rootless_voicing(CMAJ7, ceiling=57) == (47, 52)       # the shell B2 E3
    assert rootless_voicing(CMAJ7, ceiling=40) == (47, 52)       # nothing fits: the lowest shell
