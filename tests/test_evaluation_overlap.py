import math
from fractions import Fraction as F

import numpy as np
import pytest

from jazz_lstm.evaluation.measures import MEASURE_NAMES, segment_measures
from jazz_lstm.evaluation.overlap import (compare_sets, kde_on_grid, overlapping_area,
                                          scott_bandwidth, split_halves)
from music.song import Chord, Measure, Note

CMAJ7 = Chord(0, 4, root=0, pitch_classes=(0, 4, 7, 11), symbol="Cmaj7")


def normal_cdf(value):
    return 0.5 * (1 + math.erf(value / math.sqrt(2)))


def test_scott_bandwidth_by_hand():
    # Samples 0 and 2: sample standard deviation sqrt(2), N^(-1/5) = 2^(-1/5).
    assert scott_bandwidth([0.0, 2.0]) == pytest.approx(math.sqrt(2) * 2 ** -0.2)
    assert scott_bandwidth([1.0]) == 0.0


def test_kde_matches_the_sum_of_gaussians():
    samples = np.array([-1.0, 0.25, 0.3, 2.0])
    grid = np.linspace(-4, 5, 2048)
    bandwidth = 0.4
    exact = sum(np.exp(-0.5 * ((grid - sample) / bandwidth) ** 2) for sample in samples)
    exact /= samples.size * bandwidth * math.sqrt(2 * math.pi)
    np.testing.assert_allclose(kde_on_grid(samples, bandwidth, grid), exact, atol=1e-4)


@pytest.mark.parametrize("shift", [0.0, 1.0, 3.0])
def test_overlap_of_two_normal_samples_is_the_normal_overlap(shift):
    # Two unit normals whose means are `shift` apart overlap by 2 * Phi(-shift / 2).
    rng = np.random.default_rng(7)
    result = overlapping_area(rng.normal(0, 1, 4000), rng.normal(shift, 1, 4000))
    assert result.overlapping_area == pytest.approx(2 * normal_cdf(-shift / 2), abs=0.04)


def test_kl_grows_with_the_distance_between_the_sets():
    # KL(N(0,1) || N(shift,1)) = shift^2 / 2; sparse KDE tails make the
    # estimate noisy for far-apart sets, so only the near ones are held tight.
    rng = np.random.default_rng(7)
    kl = [overlapping_area(rng.normal(0, 1, 4000), rng.normal(shift, 1, 4000)).kl_divergence
          for shift in (0.0, 1.0, 3.0)]
    assert kl[0] == pytest.approx(0.0, abs=0.02)
    assert kl[1] == pytest.approx(0.5, abs=0.1)
    assert kl[2] > 3.5


def test_equal_distances_in_both_sets_overlap_fully():
    result = overlapping_area([0.0, 0.0, 0.0], [0.0, 0.0])
    assert result.overlapping_area == pytest.approx(1.0, abs=1e-9)
    assert result.kl_divergence == pytest.approx(0.0, abs=1e-9)


def test_constant_distances_far_apart_do_not_overlap():
    assert overlapping_area([0.0, 0.0], [0.5, 0.5, 0.5]).overlapping_area < 1e-6


def stepwise_segment(rng):
    """Eighth notes moving by steps over Cmaj7, two bars."""
    pitch, bars = int(rng.integers(64, 72)), []
    for _ in range(2):
        notes = []
        for index in range(8):
            notes.append(Note(F(index, 2), F(1, 2), pitch))
            pitch += int(rng.choice([-2, -1, 1, 2]))
        bars.append(Measure(4, notes=tuple(notes), chords=(CMAJ7,)))
    return bars


def leaping_segment(rng):
    """A wide leap between two long notes, the first off the grid, no chords;
    then an empty bar."""
    first, second = (int(value) for value in rng.integers(40, 90, 2))
    return [Measure(4, notes=(Note(F(1, 10), F(5, 2), first), Note(F(8, 3), F(4, 3), second))),
            Measure(4)]


def measures_of(make, count, seed):
    rng = np.random.default_rng(seed)
    return [segment_measures(make(rng)) for _ in range(count)]


def test_a_set_against_itself_overlaps_almost_fully():
    # Inter-set distances then hold the intra ones twice plus n zero
    # self-distances, so the OA falls a little short of 1 (0.98 here); tolerance 0.05.
    real = measures_of(stepwise_segment, 30, seed=1)
    comparison = compare_sets(real, real)
    assert list(comparison.measures) == list(MEASURE_NAMES)
    assert comparison.mean_oa == pytest.approx(1.0, abs=0.05)


def test_a_set_like_the_real_one_overlaps_more_than_a_different_one():
    real = measures_of(stepwise_segment, 30, seed=1)
    alike = compare_sets(real, measures_of(stepwise_segment, 30, seed=2))
    different = compare_sets(real, measures_of(leaping_segment, 30, seed=3))
    assert alike.mean_oa > 0.8
    assert different.mean_oa < 0.3
    # Real notes are never "other" (no X under Cmaj7), generated ones always are.
    assert different.measures["other_share"].overlapping_area < 0.01


def test_split_halves_is_a_seeded_partition():
    first, second = split_halves(range(11), seed=4)
    assert (len(first), len(second)) == (6, 5)
    assert sorted(first + second) == list(range(11))
    assert split_halves(range(11), seed=4) == (first, second)
    assert split_halves(range(11), seed=5) != (first, second)


@pytest.mark.parametrize("call, message", [
    (lambda: compare_sets([{"x": 1.0}], [{"x": 1.0}]), "at least 2 real and 1 generated"),
    (lambda: compare_sets([{"x": 1.0}] * 2, []), "at least 2 real and 1 generated"),
    (lambda: compare_sets([{"x": 1.0}] * 2, [{"y": 1.0}]), "lack 'x'"),
    (lambda: overlapping_area([], [1.0]), "at least one distance"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
