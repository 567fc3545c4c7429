"""jazz_lstm.grammars: a Song to tokens and features, a vocabulary checked, and sampled
tokens to a Song over chords, for the exact and the classic grammar."""
from fractions import Fraction as F

import numpy as np
import pytest

from jazz_lstm import grammars
from jazz_lstm.grammars import Classic, Exact, bar_length_of, grammar_named
from lstm_np.model import ModelConfig, SequenceModel
from music.chords import make_chord, parse_progression
from music.song import Measure, MusicError, Note, Song
from music.tokens.conditioning import FEATURE_NAMES
from music.tokens.structure import phrase_end_rests

COLUMN = {name: index for index, name in enumerate(FEATURE_NAMES)}


def docstring_bar():
    """exact_grammar's example bar: D5 (eighth), rest (eighth), F#5 (dotted half) over D7."""
    notes = [Note(0, F(1, 2), 74), Note(1, 3, 78)]
    return Song([Measure(4, notes, [make_chord("D7")])], tempo=120, title="Example",
                source="example.mid")


def test_grammars_by_name():
    assert isinstance(grammar_named("exact"), Exact)
    assert isinstance(grammar_named("classic"), Classic)
    with pytest.raises(ValueError, match="unknown grammar 'deep'; choose one of exact, classic"):
        grammar_named("deep")


@pytest.mark.parametrize("signature, quarters", [
    ((4, 4), 4), ((3, 4), 3), ((6, 8), 3), ((7, 8), F(7, 2)), ((2, 2), 4), ((5, 16), F(5, 4))])
def test_bar_length_in_quarters(signature, quarters):
    assert bar_length_of(signature) == quarters


def test_an_exact_piece_is_the_bars_tokens_with_a_feature_row_per_start():
    song = docstring_bar()
    piece = Exact().piece(song)
    # From G4 (the reference) up 7 to D5 rounds to +8; D5 to F#5 is 4 up; D is the root.
    assert piece.tokens == ["0+8,6", "R,6", "4+4,36", "|"]
    assert (piece.source, piece.title, piece.song) == ("example.mid", "Example", song)
    features = piece.features
    assert features.shape == (5, 45) == (len(piece.tokens) + 1, Exact().feature_size)
    # every start hears D7: a dominant chord with pitch classes 0 4 7 10 above its root
    for row in features[:4]:
        assert row[COLUMN["quality=dominant"]] == 1
        assert [pc for pc in range(12) if row[COLUMN[f"chord_pc={pc}"]]] == [0, 4, 7, 10]
    # where each token starts: unit 0, 6 (an eighth in), 12 (beat two), 48 (the full bar)
    assert features[0, COLUMN["beat=1"]] == 1 and features[0, COLUMN["sub=on_beat"]] == 1
    assert features[1, COLUMN["beat=1"]] == 1 and features[1, COLUMN["sub=eighth"]] == 1
    assert features[2, COLUMN["beat=2"]] == 1 and features[2, COLUMN["sub=on_beat"]] == 1
    assert features[:4, COLUMN["bar_progress"]].tolist() == [0, 0.125, 0.25, 1]
    assert features[:, COLUMN["bar_full"]].tolist() == [0, 0, 0, 1, 0]


def test_a_classic_piece_has_no_features_and_no_bar_lines():
    notes = [Note(0, 1, 60), Note(1, F(1, 2), 64), Note(2, F(1, 3), 66),
             Note(F(7, 3), F(1, 3), None), Note(F(8, 3), F(1, 3), 62)]
    song = Song([Measure(4, notes, [make_chord("Cmaj7")])] * 2)
    piece = Classic().piece(song)
    assert piece.features is None and Classic.feature_size == 0
    # test_classic_grammar's bar by hand, twice; the second bar measured from its last D
    assert piece.tokens[:7] == ["C,1.000,<-12,-8>", "C,0.500,<+3,+7>", "R,0.500",
                                "S,0.333,<-2,+2>", "R,0.333", "S,0.333,<-7,-3>", "R,1.000"]
    assert len(piece.tokens) == 14 and "|" not in piece.tokens


@pytest.mark.parametrize("signature, units", [((4, 4), 48), ((3, 4), 36), ((6, 8), 36), ((5, 4), 60)])
def test_the_exact_vocabulary_can_end_any_bar(signature, units):
    from music.tokens.exact_grammar import token_cost

    required = Exact().required_tokens(signature)
    assert required[0] == "|"
    costs = sorted({token_cost(token) for token in required[1:]})
    # every part of a bar left unfilled (1..units grid steps) is a sum of filler costs
    reachable = {0}
    for _ in range(units):
        reachable |= {total + cost for total in reachable for cost in costs if total + cost <= units}
    assert reachable == set(range(units + 1))
    assert Classic().required_tokens(signature) == []


def test_vocabularies_are_checked_by_grammar():
    Exact().check_vocabulary(["|", "R,12", "0+8,6"])
    with pytest.raises(MusicError, match="no bar line"):
        Exact().check_vocabulary(["R,12", "0+8,6"])
    with pytest.raises(MusicError, match="C,1.000"):
        Exact().check_vocabulary(["|", "C,1.000,<+3,+7>"])
    Classic().check_vocabulary(["C,1.000,<+3,+7>", "R,0.500"])
    with pytest.raises(MusicError, match="0[+]8,6"):
        Classic().check_vocabulary(["R,0.500", "0+8,6"])


def test_exact_decoding_gives_the_bars_back_over_other_chords():
    tokens = ["0+8,6", "R,6", "4+4,36", "|"] * 2
    bars = parse_progression("Eb7 | Ab7")
    song = Exact().decode(tokens, bars, 1, (4, 4), 96)
    assert (song.tempo, song.time_signature, song.title) == (96, (4, 4), "jazz-lstm solo")
    assert len(song.measures) == 1
    # over Eb7 (root 3): Eb5 = 75 (7 up from G4 rounds to +8), then G5 = 79 (4 up)
    assert [(note.start, note.duration, note.pitch) for note in song.measures[0].notes
            if note.pitch is not None] == [(0, F(1, 2), 75), (1, 3, 79)]
    both = Exact().decode(tokens, bars, 2, (4, 4), 96)
    # over Ab7 (root 8): the class-8 pitch nearest 79 + 8 is 92
    assert [note.pitch for note in both.measures[1].notes if note.pitch is not None] == [92, 96]
    kept = Exact().decode(tokens, bars, 2, (4, 4), 96, pitch_range=(60, 84))
    assert [note.pitch for note in kept.measures[1].notes if note.pitch is not None] == [80, 84]


def tiny_exact_model(vocabulary):
    config = ModelConfig(vocab_size=len(vocabulary), hidden_size=4, dtype="float64",
                         feature_size=Exact().feature_size)
    return SequenceModel(config, rng=np.random.default_rng(3), backend="numpy")


def test_an_exact_solo_fills_every_bar_and_cycles_the_chords():
    vocabulary = sorted(set(Exact().required_tokens((3, 4)) + ["0=,6", "4+4,12", "7-4,3", "10=,18"]))
    model = tiny_exact_model(vocabulary)
    bars = parse_progression("Dm7 G7 | Cmaj7", beats_per_bar=3)

    def solo(seed):
        rngs = np.random.default_rng(seed), np.random.default_rng(seed + 1)
        return Exact().solo(model, vocabulary, bars, 5, (3, 4), 140, primer=(np.array([[0]]), None),
                            token_rng=rngs[0], decode_rng=rngs[1], temperature=1.0, top_k=0)

    song, ids = solo(0)
    tokens = [vocabulary[token_id] for token_id in ids]
    assert tokens.count("|") == 5 and tokens[-1] == "|"
    assert len(song.measures) == 5 and song.tempo == 140 and song.time_signature == (3, 4)
    for index, measure in enumerate(song.measures):
        assert measure.length == 3
        assert sum(note.duration for note in measure.notes) == 3
        assert [chord.symbol for chord in measure.chords] == \
            [chord.symbol for chord in bars[index % 2]]
    again, same_ids = solo(0)
    assert np.array_equal(ids, same_ids) and again == song
    assert not np.array_equal(solo(7)[1], ids)


def test_phrase_end_rests_are_the_rest_tokens_of_a_beat_or_more():
    vocabulary = ["|", "0+4,6", "NC7=,3", "T,2", "R,9", "R,12", "R,24", "R,1", "T,12"]
    mask = phrase_end_rests(vocabulary)
    assert mask.dtype == bool
    assert mask.tolist() == [False, False, False, False, False, True, True, False, False]


@pytest.mark.parametrize("structure", ["none", "phrase"])
def test_an_exact_solo_keeps_the_phrase_ending_rests_untempered(structure, monkeypatch):
    # With phrase features a hook runs the NumPy loop; both ways get the mask.
    vocabulary = sorted(set(Exact().required_tokens((3, 4)) + ["0=,6", "4+4,12", "7-4,3"]))
    grammar = Exact(structure)
    config = ModelConfig(vocab_size=len(vocabulary), hidden_size=4, dtype="float64",
                         feature_size=grammar.feature_size)
    model = SequenceModel(config, rng=np.random.default_rng(3), backend="numpy")
    seen = []

    def recording(*args, **kwargs):
        seen.append(kwargs["keep"])
        return grammars_generate_segments(*args, **kwargs)

    grammars_generate_segments = grammars.generate_segments
    monkeypatch.setattr(grammars, "generate_segments", recording)
    bars = parse_progression("Dm7 G7 | Cmaj7", beats_per_bar=3)
    song, ids = grammar.solo(model, vocabulary, bars, 4, (3, 4), 140,
                             primer=(np.array([[0]]), None), token_rng=np.random.default_rng(1),
                             decode_rng=np.random.default_rng(2), temperature=0.8, top_k=0)
    assert len(seen) == 1
    # the rests of 12 units (a beat) or more; not R,9, nor the note 4+4,12
    assert [token for token, kept in zip(vocabulary, seen[0]) if kept] == \
        ["R,12", "R,16", "R,18", "R,24", "R,32", "R,36"]
    assert all(sum(note.duration for note in measure.notes) == 3 for measure in song.measures)
