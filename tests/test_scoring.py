"""jazz_lstm.scoring: pieces cut into stretches at unknown tokens, and every stretch scored
token by token as the model reads it (cross-entropy in nats, accuracy)."""
import math

import numpy as np
import pytest

from jazz_lstm import scoring
from jazz_lstm.grammars import Piece
from lstm_np.model import ModelConfig, SequenceModel, parameter_shapes

INDEX = {"a": 0, "b": 1, "c": 2}


def piece(tokens, features=None):
    return Piece("source", "title", list(tokens), features, None)


def counting_features(count):
    """Row p holds p: each row says where it came from."""
    return np.arange(count, dtype=np.float32)[:, None]


def test_pieces_are_cut_at_unknown_tokens_and_short_stretches_dropped():
    stretches = scoring.stretches_of([piece("abXcab"), piece("cXa")], INDEX)
    # "ab" and "cab" survive; "c" and "a" of the second piece are single tokens.
    assert stretches.ids.tolist() == [[0, 1, 0], [2, 0, 1]]
    assert stretches.lengths.tolist() == [2, 3]
    assert (stretches.tokens, stretches.unknown) == (9, 2)
    assert stretches.oov_rate == pytest.approx(2 / 9)
    assert stretches.features is None


def test_a_stretch_keeps_the_feature_rows_from_its_start_to_one_past_its_end():
    # Five tokens and six feature rows; the stretch "cab" is tokens 2..4, rows 2..5.
    stretches = scoring.stretches_of([piece("XYcab", counting_features(6))], INDEX)
    assert stretches.ids.tolist() == [[2, 0, 1]]
    assert stretches.features[0, :, 0].tolist() == [2, 3, 4, 5]


def test_shorter_stretches_are_padded_with_zero_ids_and_features():
    stretches = scoring.stretches_of(
        [piece("ab", counting_features(3)), piece("abcab", counting_features(6))], INDEX)
    assert stretches.ids.tolist() == [[0, 1, 0, 0, 0], [0, 1, 2, 0, 1]]
    assert stretches.features[0, :, 0].tolist() == [0, 1, 2, 0, 0, 0]
    assert stretches.features[1, :, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_no_stretch_at_all_scores_nothing():
    stretches = scoring.stretches_of([piece("aXb"), piece("")], INDEX)
    assert stretches.ids.shape == (0, 0) and (stretches.tokens, stretches.unknown) == (3, 1)
    assert scoring.stretches_of([], INDEX).oov_rate == 0.0
    result = scoring.score(None, stretches)
    assert math.isnan(result["nats"]) and math.isnan(result["accuracy"]) and result["scored"] == 0


def zero_model(vocab_size, feature_size=0):
    """All weights zero: every prediction is uniform, so each scored token costs ln V
    and the arg max is token 0."""
    config = ModelConfig(vocab_size=vocab_size, hidden_size=3, dtype="float64",
                         feature_size=feature_size)
    params = {name: np.zeros(shape) for name, shape in parameter_shapes(config).items()}
    return SequenceModel(config, params=params, backend="numpy")


def test_a_uniform_model_costs_ln_v_a_token_and_is_right_on_token_zero():
    stretches = scoring.stretches_of([piece("abXcab"), piece("cXa")], INDEX)
    result = scoring.score(zero_model(3), stretches)
    # Scored: "b" of the first stretch, "a" and "b" of the second; one of the three is token 0.
    assert result["scored"] == 3
    assert result["nats"] == pytest.approx(math.log(3), abs=1e-12)
    assert result["accuracy"] == pytest.approx(1 / 3)


def one_stretch_at_a_time(model, stretches):
    """The same figures by feeding each stretch alone, one token a step, carrying the state."""
    total = correct = scored = 0
    for row, length in enumerate(stretches.lengths):
        state = model.initial_state(1)
        for t in range(length - 1):
            features = (None if stretches.features is None
                        else stretches.features[row:row + 1, t + 1:t + 2])
            logits, state, _ = model.forward(stretches.ids[row:row + 1, t:t + 1], state,
                                             all_steps=True, features=features)
            logits = np.asarray(logits[0], np.float64)
            log_probs = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            target = stretches.ids[row, t + 1]
            total -= log_probs[target]
            correct += int(np.argmax(log_probs) == target)
            scored += 1
    return total / scored, correct / scored, scored


@pytest.mark.parametrize("feature_size", [0, 2])
def test_stretches_longer_than_a_chunk_score_as_if_read_one_token_at_a_time(feature_size):
    rng = np.random.default_rng(5)
    vocabulary = [f"t{k}" for k in range(6)]
    index = {token: k for k, token in enumerate(vocabulary)}
    lengths = [2 * scoring.CHUNK + 9, 7, scoring.CHUNK + 1]
    pieces = []
    for length in lengths:
        tokens = [vocabulary[k] for k in rng.integers(0, 6, size=length)]
        features = (rng.normal(size=(length + 1, feature_size)).astype(np.float32)
                    if feature_size else None)
        pieces.append(piece(tokens, features))
    config = ModelConfig(vocab_size=6, hidden_size=5, dtype="float64", feature_size=feature_size)
    model = SequenceModel(config, rng=np.random.default_rng(1), backend="numpy")
    stretches = scoring.stretches_of(pieces, index)
    result = scoring.score(model, stretches)
    nats, accuracy, scored = one_stretch_at_a_time(model, stretches)
    assert result["scored"] == scored == sum(lengths) - len(lengths)
    assert result["nats"] == pytest.approx(nats, rel=1e-9)
    assert result["accuracy"] == pytest.approx(accuracy, abs=1e-12)


def test_a_watch_counts_what_follows_the_watched_tokens_and_what_the_model_gives_it():
    # Stretches "abac" and "cab" (X cuts the first piece); after "a" (token 0)
    # comes "b" twice and "c" once among the scored steps; the uniform model
    # gives "b" (token 1) 1/3 at each of those three steps.
    stretches = scoring.stretches_of([piece("abacXb"), piece("cab")], INDEX)
    after = np.array([True, False, False])
    following = np.array([False, True, False])
    watched = scoring.score(zero_model(3), stretches, watch=(after, following))["watched"]
    assert watched["steps"] == 3
    assert watched["actual"] == pytest.approx(2 / 3)
    assert watched["predicted"] == pytest.approx(1 / 3)


def test_a_watch_spanning_chunks_counts_each_step_once():
    ids = "ab" * scoring.CHUNK          # 2 CHUNK tokens: "a" then "b", CHUNK times
    stretches = scoring.stretches_of([piece(ids)], INDEX)
    watched = scoring.score(zero_model(3), stretches,
                            watch=(np.array([True, False, False]),
                                   np.array([False, True, True])))["watched"]
    assert watched["steps"] == scoring.CHUNK
    assert watched["actual"] == pytest.approx(1.0)
    assert watched["predicted"] == pytest.approx(2 / 3)


def test_without_a_watch_nothing_is_watched():
    stretches = scoring.stretches_of([piece("abab")], INDEX)
    assert "watched" not in scoring.score(zero_model(3), stretches)
