"""Training windows: starts by scheme, inputs, targets and features cut beside them."""
import numpy as np
import pytest

from jazz_lstm.windows import cut_windows, window_starts
from music.song import MusicError


def course_windows(ids, length, count, rng):
    return cut_windows(ids, window_starts("course", len(ids), length, count=count, rng=rng),
                       length)[:2]


def deepjazz_windows(ids, max_len=20, step=3):
    return cut_windows(ids, window_starts("deepjazz", len(ids), max_len, step=step), max_len,
                       every_step=False)[:2]


def test_course_windows_shapes_and_shift_by_one():
    ids = np.arange(100) * 7 % 13
    X, Y = course_windows(ids, 30, 60, np.random.default_rng(0))
    assert X.shape == Y.shape == (60, 30)
    assert X.dtype == Y.dtype == np.int64
    assert (X[:, 1:] == Y[:, :-1]).all()
    for x, y in zip(X, Y):
        # Each row is a real slice of the corpus: find it and check the target.
        starts = [s for s in range(len(ids) - 30) if (ids[s:s + 30] == x).all()]
        assert starts and any((ids[s + 1:s + 31] == y).all() for s in starts)


def test_course_windows_use_every_start_including_the_last():
    ids = np.arange(12)
    X, Y = course_windows(ids, 10, 200, np.random.default_rng(1))
    assert sorted(set(X[:, 0].tolist())) == [0, 1]
    assert Y[:, -1].max() == 11


def test_course_windows_are_deterministic_for_a_seed():
    ids = np.arange(50)
    first = course_windows(ids, 10, 5, np.random.default_rng(4))
    again = course_windows(ids, 10, 5, np.random.default_rng(4))
    other = course_windows(ids, 10, 5, np.random.default_rng(5))
    assert all((a == b).all() for a, b in zip(first, again))
    assert not (first[0] == other[0]).all()


def test_course_windows_refuse_a_corpus_shorter_than_one_window():
    with pytest.raises(MusicError, match="has 30 tokens, fewer than the 31"):
        course_windows(np.arange(30), 30, 60, np.random.default_rng(0))


def test_deepjazz_windows_by_hand():
    X, y = deepjazz_windows(np.arange(10) + 100, max_len=4, step=3)
    assert X.tolist() == [[100, 101, 102, 103], [103, 104, 105, 106]]
    assert y.tolist() == [104, 107]
    X, y = deepjazz_windows(np.arange(11), max_len=4, step=3)
    assert y.tolist() == [4, 7, 10]


def test_deepjazz_windows_refuse_a_short_corpus_and_bad_steps():
    with pytest.raises(MusicError, match="fewer than the 21"):
        deepjazz_windows(np.arange(20), max_len=20)
    with pytest.raises(MusicError, match="step"):
        deepjazz_windows(np.arange(30), max_len=20, step=0)


def test_stream_windows_make_every_position_a_target_once_or_twice():
    ids = np.arange(100)
    starts = window_starts("stream", len(ids), 30)
    assert starts.tolist() == [0, 30, 60, 69]
    _, targets, _ = cut_windows(ids, starts, 30)
    assert set(targets.ravel().tolist()) == set(range(1, 100))


def test_features_are_cut_one_step_ahead_of_the_inputs():
    ids = np.arange(10)
    features = np.arange(11 * 2).reshape(11, 2) * 1.0   # row t: where token t starts
    inputs, targets, window_features = cut_windows(ids, np.array([2]), 3, features=features)
    assert inputs.tolist() == [[2, 3, 4]] and targets.tolist() == [[3, 4, 5]]
    assert window_features[0, :, 0].tolist() == [6.0, 8.0, 10.0]    # rows 3, 4, 5
