import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jazz_lstm.evaluation.copying import copy_share, copying, longest_copy


def brute_force_longest(generated_pieces, training_pieces):
    best = 0
    for generated in generated_pieces:
        for start in range(len(generated)):
            for stop in range(start + best + 1, len(generated) + 1):
                stretch = list(generated[start:stop])
                if not any(stretch == list(training[offset:offset + len(stretch)])
                           for training in training_pieces
                           for offset in range(len(training) - len(stretch) + 1)):
                    break
                best = len(stretch)
    return best


def windows(pieces, length):
    return [tuple(piece[start:start + length]) for piece in pieces
            for start in range(len(piece) - length + 1)]


def test_a_copied_training_piece_scores_one_and_its_full_length():
    rng = np.random.default_rng(0)
    training = [rng.integers(0, 50, size) for size in (300, 41, 120)]
    result = copying([training[1]], training)
    assert result.shares == {8: 1.0, 16: 1.0}
    assert result.longest_copy == 41


def test_a_random_stream_over_a_big_vocabulary_copies_nothing():
    rng = np.random.default_rng(1)
    training = [rng.integers(0, 10 ** 6, 2000) for _ in range(5)]
    result = copying([rng.integers(0, 10 ** 6, 500)], training)
    assert result.shares == {8: 0.0, 16: 0.0}
    assert result.longest_copy <= 1


def test_shares_by_hand():
    # 2-grams (1,2) (2,3) (3,4) (4,9): three of four in training; 4-grams: one of two.
    generated, training = [[1, 2, 3, 4, 9]], [[0, 1, 2, 3, 4]]
    assert copy_share(generated, training, 2) == 0.75
    assert copy_share(generated, training, 4) == 0.5
    assert copy_share(generated, training, 6) == 0.0    # no generated 6-gram at all
    assert longest_copy(generated, training) == 4


def test_copies_do_not_cross_piece_boundaries():
    # Training 0 1 | 2 3 holds no (1, 2); generated 5 1 | 2 6 holds no (1, 2) either.
    assert longest_copy([[1, 2]], [[0, 1], [2, 3]]) == 1
    assert longest_copy([[5, 1], [2, 6]], [[1, 2]]) == 1
    assert copy_share([[5, 1], [2, 6]], [[1, 2]], 2) == 0.0
    assert longest_copy([[7, 8]], [[1, 2]]) == 0
    assert longest_copy([], [[1, 2]]) == 0


pieces = st.lists(st.lists(st.integers(0, 2), max_size=14), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(pieces, pieces, st.integers(1, 7))
def test_agrees_with_brute_force(generated, training, length):
    assert longest_copy(generated, training) == brute_force_longest(generated, training)
    generated_windows = windows(generated, length)
    training_windows = set(windows(training, length))
    expected = (np.mean([window in training_windows for window in generated_windows])
                if generated_windows else 0.0)
    assert copy_share(generated, training, length) == pytest.approx(expected)


@pytest.mark.parametrize("call, message", [
    (lambda: copy_share([[1, 2]], [[1, 2]], 0), "n-gram length"),
    (lambda: copying([[1, 2]], [[1, 2]], (8, True)), "n-gram length"),
    (lambda: longest_copy(np.array([1, 2]), [[1, 2]]), "generated pieces must be a list"),
    (lambda: longest_copy([[1, 2]], [["a"]]), "training pieces: piece 1"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
