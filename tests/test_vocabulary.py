"""music.tokens.vocabulary: tokens sorted into ids and back; unknown tokens and ids refused."""
import pytest

from music.tokens.vocabulary import Vocabulary, build_vocabulary
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
