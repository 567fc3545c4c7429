"""lstm_np.generate.generate_segments: sampling under per-segment budgets, and choose_tokens' mask."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_np import kernels
from lstm_np.generate import choose_tokens, generate_segments
from lstm_np.model import ModelConfig, SequenceModel

BACKENDS = ["reference", "numpy"] + (["numba"] if kernels.numba_available() else [])
COMPILED = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


def random_model(vocab_size, feature_size=0, layers=1, dense=0, dtype="float64", seed=0,
                 backend=None, scale=3.0):
    """A model with random weights, scaled up so that its logits are far from uniform."""
    config = ModelConfig(vocab_size=vocab_size, hidden_size=6, num_layers=layers,
                         dense_size=dense, dtype=dtype, feature_size=feature_size)
    params = {name: value * scale for name, value in
              SequenceModel(config, rng=np.random.default_rng(seed)).params.items()}
    return SequenceModel(config, params=params, backend=backend)


def fixed_logits_model(logits, backend):
    """A model whose logits are ``logits`` whatever it hears: out.W = 0, out.b = logits."""
    model = random_model(len(logits), backend=backend)
    model.params["out.W"][:] = 0.0
    model.params["out.b"][:] = logits
    return model


def split_segments(ids, reset_token):
    """The stream cut at every reset: a list of segments, the resets dropped."""
    assert ids[-1] == reset_token, "the stream must end with the reset closing the last segment"
    segments, current = [], []
    for token in ids:
        if token == reset_token:
            segments.append(current)
            current = []
        else:
            current.append(token)
    return segments


# ----- choose_tokens with a mask ------------------------------------------------
def test_masked_draws_renormalise_over_the_allowed_tokens():
    # p = [0.4, 0.1, 0.3, 0.2]; allowing tokens 1 and 2 leaves [0.25, 0.75].
    logits = np.log([[0.4, 0.1, 0.3, 0.2]])
    allowed = np.array([[False, True, True, False]])
    assert choose_tokens(logits, np.array([0.0]), allowed=allowed)[0] == 1
    assert choose_tokens(logits, np.array([0.24]), allowed=allowed)[0] == 1
    assert choose_tokens(logits, np.array([0.26]), allowed=allowed)[0] == 2
    assert choose_tokens(logits, np.array([0.999999]), allowed=allowed)[0] == 2


def test_masked_greedy_and_top_k_count_only_allowed_tokens():
    logits = np.array([[9.0, 1.0, 5.0, 8.0, 3.0]])
    allowed = np.array([[False, True, True, False, True]])
    assert choose_tokens(logits, np.array([0.5]), temperature=0, allowed=allowed)[0] == 2
    # top_k = 2 among the allowed {1, 2, 4}: tokens 2 and 4.
    picks = {choose_tokens(logits, np.array([u]), temperature=50.0, top_k=2, allowed=allowed)[0]
             for u in np.linspace(0, 0.999, 300)}
    assert picks == {2, 4}


def test_a_rounded_up_threshold_never_lands_on_a_disallowed_token():
    # u * total can round up to the total; the pick must stay on an allowed token.
    logits = np.zeros((1, 4))
    allowed = np.array([[True, True, False, False]])
    largest_u = np.nextafter(1.0, 0.0)
    assert choose_tokens(logits, np.array([largest_u]), allowed=allowed)[0] == 1


# ----- generate_segments: hand-worked answers -------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_greedy_segments_by_hand(backend):
    # Costs [0, 1, 2, 3], token 0 the reset; logits rank 0 > 3 > 2 > 1 but the reset is
    # never drawn.  Budget 4: 3 (1 left), then only 1 fits -> [3, 1, reset];
    # budget 3: 3 -> [3, reset]; budget 1: only 1 fits -> [1, reset].
    model = fixed_logits_model([10.0, 1.0, 5.0, 9.0], backend)
    ids = generate_segments(model, np.array([[2]]), np.random.default_rng(0),
                            token_costs=[0, 1, 2, 3], budgets=[4, 3, 1], reset_token=0,
                            temperature=0)
    np.testing.assert_array_equal(ids, [3, 1, 0, 3, 0, 1, 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_single_allowed_token_is_the_output_whatever_the_draws(backend):
    # Budgets of 1 leave only the one cost-1 token (2) to draw, at any temperature.
    model = random_model(5, backend=backend)
    for seed in range(3):
        ids = generate_segments(model, np.array([[1, 3]]), np.random.default_rng(seed),
                                token_costs=[0, 2, 1, 3, 0], budgets=[1, 1, 1], reset_token=4,
                                temperature=2.0)
        np.testing.assert_array_equal(ids, [2, 4, 2, 4, 2, 4])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_budget_no_token_can_finish_is_named(backend):
    # Only token 1 (cost 2) fits a budget of 3; it leaves 1 unit that nothing costs.
    model = random_model(3, backend=backend)
    with pytest.raises(ValueError, match="segment 1: .*1 units left of its budget of 3"):
        generate_segments(model, np.array([[1]]), np.random.default_rng(0),
                          token_costs=[0, 2, 0], budgets=[2, 3], reset_token=0)


# ----- properties -------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(data=st.data(), vocab_size=st.integers(3, 8), feature_size=st.integers(0, 2),
       backend=st.sampled_from(BACKENDS), temperature=st.sampled_from([0.0, 0.7, 1.0, 3.0]),
       top_k=st.integers(0, 3), seed=st.integers(0, 10_000))
def test_constrained_sampling_never_overflows_a_segment(data, vocab_size, feature_size, backend,
                                                        temperature, top_k, seed):
    reset_token = data.draw(st.integers(0, vocab_size - 1), label="reset_token")
    filler = data.draw(st.integers(0, vocab_size - 1).filter(lambda t: t != reset_token),
                       label="cost-1 token")
    costs = data.draw(st.lists(st.integers(0, 5), min_size=vocab_size, max_size=vocab_size),
                      label="costs")
    costs[reset_token], costs[filler] = 0, 1
    budgets = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=4), label="budgets")
    model = random_model(vocab_size, feature_size, seed=seed, backend=backend)
    rng = np.random.default_rng(seed)
    extra = {}
    if feature_size:
        extra = {"primer_features": rng.normal(size=(1, 2, feature_size)),
                 "step_features": rng.normal(size=(len(budgets), max(budgets) + 1, feature_size))}
    ids = generate_segments(model, np.array([[filler, reset_token]]), rng, token_costs=costs,
                            budgets=budgets, reset_token=reset_token, temperature=temperature,
                            top_k=top_k, **extra)
    segments = split_segments(list(ids), reset_token)
    assert len(segments) == len(budgets)
    for segment, budget in zip(segments, budgets, strict=True):
        assert all(costs[token] > 0 for token in segment)
        assert sum(costs[token] for token in segment) == budget


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_ids_other_seed_other_ids(backend):
    model = random_model(6, feature_size=2, backend=backend, seed=3)
    rng = np.random.default_rng(1)
    options = {"token_costs": [0, 1, 1, 2, 3, 4], "budgets": [8, 8, 8, 8], "reset_token": 0,
               "primer_features": rng.normal(size=(1, 3, 2)),
               "step_features": rng.normal(size=(4, 9, 2)), "temperature": 1.5}
    primer = np.array([[1, 2, 0]])
    first = generate_segments(model, primer, np.random.default_rng(9), **options)
    again = generate_segments(model, primer, np.random.default_rng(9), **options)
    other = generate_segments(model, primer, np.random.default_rng(10), **options)
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.int64
    assert not np.array_equal(first, other)


@COMPILED
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layers, dense, feature_size, temperature, top_k", [
    (1, 0, 0, 1.0, 0), (2, 4, 0, 0.0, 0), (1, 0, 3, 1.2, 0), (2, 5, 2, 0.8, 3), (3, 0, 1, 0.0, 2)])
def test_compiled_segments_pick_the_numpy_ids(layers, dense, feature_size, temperature, top_k,
                                              dtype):
    ids = segments_on_both_backends(layers, dense, feature_size, dtype,
                                    temperature=temperature, top_k=top_k)
    np.testing.assert_array_equal(ids["numba"], ids["numpy"])


def segments_on_both_backends(layers, dense, feature_size, dtype, **sampling) -> dict:
    """backend -> the ids ``generate_segments`` draws with a random model of 9 tokens
    (token 8 the reset) over six budgets, with ``sampling`` (temperature, top_k, keep)."""
    rng = np.random.default_rng(4)
    options = {"token_costs": [0, 1, 2, 2, 3, 4, 6, 8, 0], "budgets": [8, 4, 12, 8, 6, 8],
               "reset_token": 8, **sampling}
    if feature_size:
        options["primer_features"] = rng.normal(size=(1, 3, feature_size))
        options["step_features"] = rng.normal(size=(6, 13, feature_size))
    return {backend: generate_segments(random_model(9, feature_size, layers, dense, dtype, seed=5,
                                                    backend=backend),
                                       np.array([[1, 8, 2]]), np.random.default_rng(8), **options)
            for backend in ("numpy", "numba")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_input_is_heard_with_the_feature_row_of_its_position(backend):
    # Replay the greedy stream through one whole-sequence forward, with the feature
    # rows the docstring promises; every sampled id must be the best allowed logit.
    costs = np.array([0, 1, 2, 3, 1])
    budgets = [4, 3, 5]
    model = random_model(5, feature_size=2, backend=backend, seed=6, scale=4.0)
    rng = np.random.default_rng(2)
    primer, primer_features = np.array([[1, 2]]), rng.normal(size=(1, 2, 2))
    step_features = rng.normal(size=(3, 6, 2))
    ids = generate_segments(model, primer, rng, token_costs=costs, budgets=budgets, reset_token=0,
                            step_features=step_features, primer_features=primer_features,
                            temperature=0)
    inputs, features = list(primer[0]), list(primer_features[0])
    segment, used, sampled_at = 0, 0, []
    for token in ids[:-1]:
        if token == 0:
            segment, used = segment + 1, 0
        else:
            sampled_at.append((len(inputs) - 1, token, budgets[segment] - used))
            used += costs[token]
        inputs.append(token)
        features.append(step_features[segment, used])
    logits, _, _ = model.forward(np.array([inputs]), features=np.array([features]))
    assert len(sampled_at) == len(ids) - len(budgets)
    for position, token, remaining in sampled_at:
        allowed = (costs > 0) & (costs <= remaining)
        assert token == np.flatnonzero(allowed)[logits[position][allowed].argmax()]


# ----- bad input -----------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    ({"token_costs": [0, 1, 1]}, "token_costs must be 4 integers"),
    ({"token_costs": [0, 1, -1, 2]}, "token_costs must be 4 integers"),
    ({"token_costs": [0.0, 1.0, 1.0, 2.0]}, "token_costs must be 4 integers"),
    ({"budgets": []}, "budgets must be"),
    ({"budgets": [4, 0]}, "budgets must be"),
    ({"budgets": [2.5]}, "budgets must be"),
    ({"reset_token": 4}, "reset_token must be a token id"),
    ({"reset_token": True}, "reset_token must be a token id"),
    ({"reset_token": 1}, "reset_token 1 must cost 0, it costs 1"),
    ({"temperature": -1.0}, "temperature"),
    ({"top_k": -1}, "top_k"),
    ({"step_features": np.zeros((1, 5, 2))}, "feature_size is 0"),
])
def test_bad_options_are_refused_with_the_culprit_named(change, message):
    model = random_model(4)
    options = {"token_costs": [0, 1, 1, 2], "budgets": [4], "reset_token": 0, **change}
    with pytest.raises(ValueError, match=message):
        generate_segments(model, np.array([[1]]), np.random.default_rng(0), **options)


def test_bad_primers_and_features_are_refused():
    model = random_model(4, feature_size=2)
    options = {"token_costs": [0, 1, 1, 2], "budgets": [4, 2], "reset_token": 0,
               "primer_features": np.zeros((1, 1, 2)), "step_features": np.zeros((2, 5, 2))}
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="one sequence"):
        generate_segments(model, np.array([[1], [2]]), rng, **options)
    with pytest.raises(ValueError, match="token ids"):
        generate_segments(model, np.array([[7]]), rng, **options)
    with pytest.raises(ValueError, match=r"step_features \(2, 5, 2\) are required"):
        generate_segments(model, np.array([[1]]), rng, **{**options, "step_features": None})
    with pytest.raises(ValueError, match=r"step_features must be numbers shaped \(2, 5, 2\)"):
        generate_segments(model, np.array([[1]]), rng,
                          **{**options, "step_features": np.zeros((2, 4, 2))})
    with pytest.raises(ValueError, match="primer_features must be finite"):
        generate_segments(model, np.array([[1]]), rng,
                          **{**options, "primer_features": np.full((1, 1, 2), np.inf)})
