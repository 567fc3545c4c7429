import numpy as np
import pytest

from music.corpus import Vocabulary, build_vocabulary, course_windows, deepjazz_windows
from music.song import MusicError

BARS = [["S,0.500,<-2,+2>", "C,1.000,<+3,+7>", "R,0.500"],
        ["C,1.000,<+3,+7>", "A,0.250,<-2,+2>"],
        ["R,0.500"]]


def test_vocabulary_is_sorted_and_distinct():
    assert build_vocabulary(BARS) == ["A,0.250,<-2,+2>", "C,1.000,<+3,+7>", "R,0.500",
                                      "S,0.500,<-2,+2>"]
    assert build_vocabulary(reversed(BARS)) == build_vocabulary(BARS)


def test_vocabulary_maps_tokens_to_ids_and_back():
    vocabulary = Vocabulary.from_token_lists(BARS)
    assert len(vocabulary) == 4
    assert vocabulary.encode(BARS[0]).tolist() == [3, 1, 2]
    assert vocabulary.decode([0, 3]) == ["A,0.250,<-2,+2>", "S,0.500,<-2,+2>"]
    assert "R,0.500" in vocabulary and "R,9.000" not in vocabulary


def test_vocabulary_refuses_unknown_tokens_and_ids():
    vocabulary = Vocabulary.from_token_lists(BARS)
    with pytest.raises(MusicError, match=r"'X,0.500,<-2,\+2>' is not in the vocabulary"):
        vocabulary.id_of("X,0.500,<-2,+2>")
    with pytest.raises(MusicError, match="outside"):
        vocabulary.token_of(4)
    with pytest.raises(MusicError, match="outside"):
        vocabulary.decode([-1])
    with pytest.raises(MusicError, match="distinct"):
        Vocabulary(["R,0.500", "R,0.500"])


def test_course_windows_shapes_and_shift_by_one():
    ids = np.arange(100) * 7 % 13
    X, Y = course_windows(ids, window_length=30, count=60, rng=np.random.default_rng(0))
    assert X.shape == Y.shape == (60, 30)
    assert X.dtype == Y.dtype == np.int64
    assert (X[:, 1:] == Y[:, :-1]).all()
    for x, y in zip(X, Y):
        # Each row is a real slice of the corpus: find it and check the target.
        starts = [s for s in range(len(ids) - 30) if (ids[s:s + 30] == x).all()]
        assert starts and any((ids[s + 1:s + 31] == y).all() for s in starts)


def test_course_windows_use_every_start_including_the_last():
    ids = np.arange(12)
    X, Y = course_windows(ids, window_length=10, count=200, rng=np.random.default_rng(1))
    assert sorted(set(X[:, 0].tolist())) == [0, 1]
    assert Y[:, -1].max() == 11


def test_course_windows_are_deterministic_for_a_seed():
    ids = np.arange(50)
    first = course_windows(ids, 10, 5, rng=np.random.default_rng(4))
    again = course_windows(ids, 10, 5, rng=np.random.default_rng(4))
    other = course_windows(ids, 10, 5, rng=np.random.default_rng(5))
    assert all((a == b).all() for a, b in zip(first, again))
    assert not (first[0] == other[0]).all()


def test_course_windows_refuse_a_corpus_shorter_than_one_window():
    with pytest.raises(MusicError, match="has 30 tokens, fewer than the 31"):
        course_windows(np.arange(30), window_length=30, rng=np.random.default_rng(0))


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
