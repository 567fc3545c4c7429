import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jazz_lstm.evaluation.ngram import (K_GRID, NgramCounts, NgramModel, cross_entropy,
                                        fit_baselines, oov_rate, sample, split_dev)

CYCLE = [0, 1, 2, 0, 1, 2]
UNIGRAM, BIGRAM, TRIGRAM = (1, 0, 0), (0, 1, 0), (0, 0, 1)


def model_of(pieces, vocabulary_size, weights, k=1.0):
    return NgramModel(NgramCounts.of(pieces, vocabulary_size), (k, k, k), weights)


def test_bigram_add_one_on_a_cycle_by_hand():
    # Bigram counts with BOS: (BOS,0)=1, (0,1)=2, (1,2)=2, (2,0)=1.  With k=1, V=3:
    # P(0|BOS) = (1+1)/(1+3) = 1/2, P(1|0) = P(2|1) = (2+1)/(2+3) = 3/5, P(0|2) = (1+1)/(1+3) = 1/2.
    result = cross_entropy(model_of([CYCLE], 3, BIGRAM), [CYCLE])
    expected = -(2 * math.log(1 / 2) + 4 * math.log(3 / 5)) / 6
    assert result.nats_per_token == pytest.approx(expected, rel=1e-12)
    assert result.counted == 6
    assert result.accuracy == 1.0


def test_trigram_add_one_on_a_cycle_by_hand():
    # (BOS,BOS)->0 once, (BOS,0)->1 once, (0,1)->2 twice, (1,2)->0 once, (2,0)->1 once.
    # P(0|BOS BOS) = 2/4, P(1|BOS 0) = 2/4, P(2|0 1) = 3/5, P(0|1 2) = 2/4.
    result = cross_entropy(model_of([CYCLE], 3, TRIGRAM), [[0, 1, 2, 0]])
    expected = -(3 * math.log(1 / 2) + math.log(3 / 5)) / 4
    assert result.nats_per_token == pytest.approx(expected, rel=1e-12)


def test_unigram_add_one_and_ties_go_to_the_lowest_id():
    # V=4: P(0)=P(1)=P(2)=(2+1)/(6+4)=3/10, P(3)=1/10; the argmax is always id 0.
    result = cross_entropy(model_of([CYCLE], 4, UNIGRAM), [[0, 1, 2]])
    assert result.nats_per_token == pytest.approx(-math.log(3 / 10), rel=1e-12)
    assert result.accuracy == pytest.approx(1 / 3)


def test_interpolation_mixes_the_orders():
    # Unigram P(1) = 3/9, bigram P(1|0) = 3/5: half of each is 1/6 + 3/10 = 7/15.
    model = model_of([CYCLE], 3, (0.5, 0.5, 0))
    assert model.distribution([2, 0])[1] == pytest.approx(7 / 15, rel=1e-12)
    assert cross_entropy(model, [[0]]).nats_per_token == pytest.approx(
        -math.log(0.5 * 1 / 3 + 0.5 * 1 / 2), rel=1e-12)


def test_contexts_do_not_cross_pieces():
    # Counts (BOS,0)=1, (0,1)=1, (BOS,1)=1, (1,0)=1; V=2, k=1.
    model = model_of([[0, 1], [1, 0]], 2, BIGRAM)
    apart = cross_entropy(model, [[1], [0]])
    together = cross_entropy(model, [[1, 0]])
    assert apart.nats_per_token == pytest.approx(math.log(2), rel=1e-12)       # both 2/4
    assert together.nats_per_token == pytest.approx(
        -(math.log(1 / 2) + math.log(2 / 3)) / 2, rel=1e-12)                     # P(0|1) = 2/3


def test_out_of_vocabulary_tokens_are_context_only():
    model = model_of([CYCLE], 3, BIGRAM)
    # 7 and -1 are not scored; after an unseen context the bigram is uniform: 1/3.
    result = cross_entropy(model, [[0, 7, 1, -1]])
    assert result.counted == 2
    assert result.nats_per_token == pytest.approx(-(math.log(1 / 2) + math.log(1 / 3)) / 2)
    assert oov_rate([[0, 7, 1, -1]], 3) == 0.5
    assert oov_rate([], 3) == 0.0


def test_distribution_after_unknown_history_is_uniform_in_the_bigram():
    model = model_of([CYCLE], 3, BIGRAM)
    np.testing.assert_allclose(model.distribution([1, 9]), [1 / 3] * 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4), max_size=12), min_size=1, max_size=4),
       st.lists(st.lists(st.integers(-1, 5), min_size=1, max_size=8), min_size=1, max_size=3),
       st.sampled_from([(1, 0, 0), (0, 1, 0), (0, 0, 1), (0.2, 0.3, 0.5)]),
       st.sampled_from([0.01, 0.5, 2.0]))
def test_scores_agree_with_the_distribution_one_step_at_a_time(training, held_out, weights, k):
    model = model_of(training, 5, weights, k)
    nats, hits, counted = 0.0, 0, 0
    for piece in held_out:
        for position, target in enumerate(piece):
            distribution = model.distribution(piece[:position])
            assert distribution.sum() == pytest.approx(1.0)
            assert distribution.min() > 0
            if 0 <= target < 5:
                nats -= math.log(distribution[target])
                hits += int(np.argmax(distribution) == target)
                counted += 1
    if not counted:
        with pytest.raises(ValueError, match="no in-vocabulary"):
            cross_entropy(model, held_out)
        return
    result = cross_entropy(model, held_out)
    assert result.counted == counted
    assert result.nats_per_token == pytest.approx(nats / counted, rel=1e-9)
    assert result.accuracy == pytest.approx(hits / counted)


def test_split_dev_takes_the_last_tokens():
    fit, dev = split_dev([[0] * 5, [1] * 5], 0.3)
    assert [list(piece) for piece in fit] == [[0] * 5, [1, 1]]
    assert [list(piece) for piece in dev] == [[1, 1, 1]]
    fit, dev = split_dev([[0] * 5, [1] * 5], 0.6)
    assert [list(piece) for piece in fit] == [[0] * 4]
    assert [list(piece) for piece in dev] == [[0], [1] * 5]


def test_tuning_on_a_predictable_stream_prefers_little_smoothing_and_no_unigram():
    baselines = fit_baselines([[0, 1, 2, 3] * 30], 4)
    assert baselines.bigram.k[1] == min(K_GRID)
    assert baselines.trigram.k[2] == min(K_GRID)
    assert baselines.interpolated.weights[0] == 0.0
    assert sum(baselines.interpolated.weights) == pytest.approx(1.0)
    # Refitted on every training token, dev part included.
    assert baselines.interpolated.counts.token_count == 120
    assert [model.weights for model in baselines[:3]] == [UNIGRAM, BIGRAM, TRIGRAM]


def test_tuning_on_independent_draws_leans_on_the_unigram():
    # Skewed but independent draws: the previous tokens tell nothing, so the
    # sparse higher orders need heavy smoothing and the unigram gets most weight.
    rng = np.random.default_rng(0)
    frequencies = np.arange(1, 41.0) ** -1.2
    baselines = fit_baselines([rng.choice(40, 600, p=frequencies / frequencies.sum())], 40)
    assert baselines.trigram.k[2] >= 0.1
    assert baselines.interpolated.weights[0] >= 0.7


def test_sample_is_seeded_and_follows_the_transition_probabilities():
    model = model_of([CYCLE], 3, BIGRAM)   # P(1|0) = 3/5, P(0|0) = P(2|0) = 1/5
    first, again = sample(model, 3000, seed=5), sample(model, 3000, seed=5)
    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, sample(model, 3000, seed=6))
    after_zero = first[1:][first[:-1] == 0]
    assert np.mean(after_zero == 1) == pytest.approx(3 / 5, abs=0.05)
    assert np.mean(after_zero == 0) == pytest.approx(1 / 5, abs=0.05)
    assert set(np.unique(first)) <= {0, 1, 2}
    assert sample(model, 0, seed=1).size == 0


@pytest.mark.parametrize("call, message", [
    (lambda: NgramCounts.of([[0, 1]], 0), "vocabulary size"),
    (lambda: NgramCounts.of([[0, 3]], 3), "piece 1: token id 3 is outside"),
    (lambda: NgramCounts.of(np.array([0, 1]), 3), "list of id sequences"),
    (lambda: NgramCounts.of([[0.5, 1.0]], 3), "piece 1 is not a 1-D sequence"),
    (lambda: model_of([CYCLE], 3, BIGRAM, k=0), "k must be three positive"),
    (lambda: model_of([CYCLE], 3, (0.5, 0.6, 0)), "weights must be three"),
    (lambda: cross_entropy(model_of([CYCLE], 3, BIGRAM), [[5, -1]]), "no in-vocabulary"),
    (lambda: split_dev([[0, 1]], 1.5), "dev share"),
    (lambda: split_dev([[0]], 0.1), "too few"),
    (lambda: sample(model_of([CYCLE], 3, BIGRAM), -1, seed=0), "sample length"),
])
def test_bad_input_raises_one_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
