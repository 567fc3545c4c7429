"""lstm_np.model: whole-model gradients, learning, and inference behaviour."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_np import kernels
from lstm_np.model import ModelConfig, SequenceModel, parameter_shapes
from lstm_np.optim import Adam, train_epoch
from lstm_np.gradcheck import numerical_gradient
from tests.gradcheck import normwise_relative_error

BACKENDS = ["reference", "numpy"] + (["numba"] if kernels.numba_available() else [])


def small_model(head, dense_size=0, dropout=0.0, backend=None, seed=1):
    config = ModelConfig(vocab_size=6, hidden_size=4, num_layers=2, dropout=dropout,
                         dense_size=dense_size, head=head, dtype="float64")
    return SequenceModel(config, rng=np.random.default_rng(seed), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("head, dense_size, dropout", [
    ("every_step", 0, 0.0), ("last_step", 0, 0.0),
    ("every_step", 5, 0.3), ("last_step", 5, 0.3)])
def test_model_gradients_match_finite_differences(head, dense_size, dropout, backend):
    model = small_model(head, dense_size, dropout, backend)
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 6, size=(3, 4))
    targets = rng.integers(0, 6, size=(3, 4) if head == "every_step" else (3,))
    weights = (rng.random(targets.shape) > 0.3).astype(float)
    weights.flat[0] = 1.0

    def loss():
        # A fresh Generator with one seed: every evaluation draws the same dropout mask.
        return model.loss_and_grads(ids, targets, weights, dropout_rng=np.random.default_rng(7))[0]

    _, _, grads = model.loss_and_grads(ids, targets, weights, dropout_rng=np.random.default_rng(7))
    assert set(grads) == set(model.params)
    for name, array in model.params.items():
        error = normwise_relative_error(grads[name], numerical_gradient(loss, array))
        assert error < 1e-6, f"{name}: relative error {error:.2e}"


def test_masked_targets_do_not_count():
    model = small_model("every_step")
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 6, size=(2, 5))
    targets = rng.integers(0, 6, size=(2, 5))
    weights = np.ones((2, 5))
    weights[1, 3:] = 0
    loss_masked, _, _ = model.loss_and_grads(ids, targets, weights)
    other_targets = targets.copy()
    other_targets[1, 3:] = (targets[1, 3:] + 1) % 6
    loss_other, _, _ = model.loss_and_grads(ids, other_targets, weights)
    loss_all, _, _ = model.loss_and_grads(ids, targets)
    assert loss_masked == loss_other
    assert loss_masked != loss_all


@pytest.mark.parametrize("backend", BACKENDS)
def test_stepping_with_carried_state_equals_the_whole_sequence(backend):
    model = small_model("every_step", dense_size=3, backend=backend)
    ids = np.random.default_rng(4).integers(0, 6, size=(2, 7))
    logits, _, _ = model.forward(ids)
    whole = logits.reshape(7, 2, 6)
    state = model.initial_state(2)
    for t in range(7):
        step_logits, state, _ = model.forward(ids[:, t:t + 1], state, all_steps=False)
        np.testing.assert_allclose(step_logits, whole[t], rtol=1e-12, atol=1e-13)


def test_dropout_is_off_at_inference_and_seeded_in_training():
    model = small_model("every_step", dropout=0.5)
    ids = np.random.default_rng(5).integers(0, 6, size=(2, 4))
    first, _, _ = model.forward(ids)
    second, _, _ = model.forward(ids)
    np.testing.assert_array_equal(first, second)
    dropped_a, _, _ = model.forward(ids, dropout_rng=np.random.default_rng(1))
    dropped_b, _, _ = model.forward(ids, dropout_rng=np.random.default_rng(1))
    dropped_c, _, _ = model.forward(ids, dropout_rng=np.random.default_rng(2))
    np.testing.assert_array_equal(dropped_a, dropped_b)
    assert not np.allclose(dropped_a, first)
    assert not np.allclose(dropped_a, dropped_c)


def test_forget_gate_bias_starts_at_one_and_shapes_follow_the_config():
    config = ModelConfig(vocab_size=11, hidden_size=8, num_layers=3, dense_size=16)
    model = SequenceModel(config, rng=np.random.default_rng(0))
    assert {name: p.shape for name, p in model.params.items()} == {
        "lstm0.W": (19, 32), "lstm0.b": (32,), "lstm1.W": (16, 32), "lstm1.b": (32,),
        "lstm2.W": (16, 32), "lstm2.b": (32,), "hidden.W": (8, 16), "hidden.b": (16,),
        "out.W": (16, 11), "out.b": (11,)}
    for layer in range(3):
        bias = model.params[f"lstm{layer}.b"]
        np.testing.assert_array_equal(bias[8:16], 1.0)
        np.testing.assert_array_equal(np.delete(bias, np.s_[8:16]), 0.0)
        recurrent = model.params[f"lstm{layer}.W"][-8:].astype(np.float64)
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)
    assert all(p.dtype == np.float32 for p in model.params.values())


def test_bad_config_and_bad_ids_are_refused():
    with pytest.raises(ValueError, match="head"):
        ModelConfig(vocab_size=5, head="middle")
    with pytest.raises(ValueError, match="dropout"):
        ModelConfig(vocab_size=5, dropout=1.0)
    model = small_model("every_step")
    with pytest.raises(ValueError, match="token ids"):
        model.forward(np.array([[0, 6]]))
    with pytest.raises(ValueError, match="match the config"):
        SequenceModel(ModelConfig(vocab_size=7, hidden_size=4, num_layers=2, dtype="float64"),
                      params=model.params)


def test_memorizes_a_30_token_sequence_within_300_adam_steps():
    rng = np.random.default_rng(0)
    sequence = rng.integers(0, 10, size=31)
    inputs, targets = sequence[None, :-1], sequence[None, 1:]
    config = ModelConfig(vocab_size=10, hidden_size=32)
    model = SequenceModel(config, rng=np.random.default_rng(1))
    optimizer = Adam(lr=0.01)
    for _ in range(300):
        train_epoch(model, optimizer, inputs, targets, rng, batch_size=1)
    _, accuracy = model.evaluate(inputs, targets)
    assert accuracy >= 0.99


@settings(max_examples=20, deadline=None)
@given(vocab=st.integers(2, 9), hidden=st.integers(1, 6), layers=st.integers(1, 3),
       dense=st.integers(0, 4), head=st.sampled_from(["every_step", "last_step"]),
       m=st.integers(1, 3), T=st.integers(1, 5), seed=st.integers(0, 1000))
def test_any_small_model_gives_finite_losses_and_gradients(vocab, hidden, layers, dense, head,
                                                           m, T, seed):
    config = ModelConfig(vocab_size=vocab, hidden_size=hidden, num_layers=layers,
                         dense_size=dense, head=head, dropout=0.2)
    model = SequenceModel(config, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(m, T))
    targets = rng.integers(0, vocab, size=(m, T) if head == "every_step" else (m,))
    loss, accuracy, grads = model.loss_and_grads(ids, targets, dropout_rng=rng)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    expected = parameter_shapes(config)
    for name, grad in grads.items():
        assert grad.shape == expected[name] and np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_drops_the_rate_and_keeps_the_mean(dtype):
    from lstm_np.layers import dropout_mask

    mask = dropout_mask(np.random.default_rng(0), (400, 500), 0.3, np.dtype(dtype))
    assert mask.dtype == dtype
    assert set(np.unique(mask)) == {0.0, dtype(1 / 0.7)}
    assert abs((mask == 0).mean() - 0.3) < 0.005
    assert abs(mask.mean() - 1.0) < 0.01
