"""lstm_np.batchnorm and the model's batch_norm option: gradients, modes, running statistics."""
import numpy as np
import pytest

from lstm_np import batchnorm
from lstm_np.model import ModelConfig, SequenceModel, buffer_shapes, parameter_shapes
from lstm_np.gradcheck import numerical_gradient
from tests.gradcheck import normwise_relative_error


def layer_inputs(seed=0, rows=5, width=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=(rows, width))
    gamma = rng.normal(1.0, 0.5, size=width)
    beta = rng.normal(0.0, 0.5, size=width)
    return x, gamma, beta, rng.normal(size=(rows, width))


def fresh_statistics(width=3):
    return np.zeros(width), np.ones(width)


@pytest.mark.parametrize("training", [True, False])
def test_layer_gradients_match_finite_differences(training):
    x, gamma, beta, upstream = layer_inputs()
    # Non-trivial running statistics, so the inference check is not the identity map.
    running = (np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.3, 2.0]))

    def loss():
        mean, var = running[0].copy(), running[1].copy()
        y, _ = batchnorm.forward(x, gamma, beta, mean, var, training)
        return float((y * upstream).sum())

    mean, var = running[0].copy(), running[1].copy()
    _, cache = batchnorm.forward(x, gamma, beta, mean, var, training)
    analytic = dict(zip(("x", "gamma", "beta"), batchnorm.backward(upstream, cache)))
    for name, array in (("x", x), ("gamma", gamma), ("beta", beta)):
        error = normwise_relative_error(analytic[name], numerical_gradient(loss, array))
        assert error < 1e-6, f"{name}: relative error {error:.2e}"


def test_training_mode_normalizes_with_the_batch_statistics():
    x, _, _, _ = layer_inputs(rows=50)
    mean, var = fresh_statistics()
    y, _ = batchnorm.forward(x, np.ones(3), np.zeros(3), mean, var, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    # eps keeps the variance a little under 1: var / (var + eps).
    expected = x.var(axis=0) / (x.var(axis=0) + batchnorm.EPSILON)
    np.testing.assert_allclose(y.var(axis=0), expected, rtol=1e-12)


def test_running_statistics_move_by_one_minus_momentum():
    x, gamma, beta, _ = layer_inputs()
    mean, var = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5, 2.0])
    old_mean, old_var = mean.copy(), var.copy()
    batchnorm.forward(x, gamma, beta, mean, var, training=True)
    np.testing.assert_allclose(mean, 0.99 * old_mean + 0.01 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, 0.99 * old_var + 0.01 * x.var(axis=0), rtol=1e-12)
    for _ in range(3000):
        batchnorm.forward(x, gamma, beta, mean, var, training=True)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-9)


def test_inference_mode_uses_running_statistics_and_updates_nothing():
    x, gamma, beta, _ = layer_inputs()
    mean, var = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.3, 2.0])
    y, _ = batchnorm.forward(x, gamma, beta, mean, var, training=False)
    np.testing.assert_array_equal(mean, [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(var, [4.0, 0.3, 2.0])
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    # Each row alone gives the same output as in the batch: no batch statistics.
    single, _ = batchnorm.forward(x[:1], gamma, beta, mean, var, training=False)
    np.testing.assert_allclose(single, y[:1], rtol=1e-12)


def bn_model(head, dense_size, dropout):
    config = ModelConfig(vocab_size=6, hidden_size=4, num_layers=2, dropout=dropout,
                         dense_size=dense_size, head=head, dtype="float64", batch_norm=True)
    return SequenceModel(config, rng=np.random.default_rng(1))


@pytest.mark.parametrize("head, dense_size, dropout", [
    ("every_step", 5, 0.3), ("last_step", 5, 0.3), ("every_step", 0, 0.0)])
@pytest.mark.parametrize("training", [True, False])
def test_model_gradients_with_batch_norm_match_finite_differences(head, dense_size, dropout,
                                                                  training):
    model = bn_model(head, dense_size, dropout)
    rng = np.random.default_rng(2)
    # Running statistics away from their start, so inference mode is a real test.
    for array in model.buffers.values():
        array[...] = rng.uniform(0.5, 1.5, size=array.shape)
    ids = rng.integers(0, 6, size=(3, 4))
    targets = rng.integers(0, 6, size=(3, 4) if head == "every_step" else (3,))
    weights = (rng.random(targets.shape) > 0.3).astype(float)
    weights.flat[0] = 1.0
    saved = {name: array.copy() for name, array in model.buffers.items()}

    def loss_and_grads():
        # A fresh Generator with one seed: every evaluation draws the same dropout mask;
        # the running statistics are restored so every evaluation starts from the same ones.
        for name, array in saved.items():
            model.buffers[name][...] = array
        rng = np.random.default_rng(7) if training else None
        return model.loss_and_grads(ids, targets, weights, dropout_rng=rng)

    grads = loss_and_grads()[2]
    assert set(grads) == set(model.params)
    for name, array in model.params.items():
        error = normwise_relative_error(grads[name],
                                        numerical_gradient(lambda: loss_and_grads()[0], array))
        assert error < 1e-6, f"{name}: relative error {error:.2e}"


def test_model_batch_norm_names_shapes_and_modes():
    config = ModelConfig(vocab_size=7, hidden_size=4, num_layers=3, dense_size=5,
                         batch_norm=True, dropout=0.3)
    shapes = parameter_shapes(config)
    assert {name: shapes[name] for name in shapes if name.startswith("bn")} == {
        "bn0.gamma": (4,), "bn0.beta": (4,), "bn1.gamma": (5,), "bn1.beta": (5,)}
    assert buffer_shapes(config) == {
        "bn0.running_mean": (4,), "bn0.running_var": (4,),
        "bn1.running_mean": (5,), "bn1.running_var": (5,)}
    assert buffer_shapes(ModelConfig(vocab_size=7)) == {}
    assert ModelConfig.from_dict({"vocab_size": 7}).batch_norm is False

    model = SequenceModel(config, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(model.params["bn1.gamma"], 1.0)
    np.testing.assert_array_equal(model.params["bn1.beta"], 0.0)
    np.testing.assert_array_equal(model.buffers["bn0.running_var"], 1.0)
    ids = np.random.default_rng(1).integers(0, 7, size=(3, 5))

    first, _, _ = model.forward(ids)
    np.testing.assert_array_equal(model.buffers["bn0.running_mean"], 0.0)
    model.forward(ids, dropout_rng=np.random.default_rng(2))
    assert np.any(model.buffers["bn0.running_mean"] != 0.0)
    second, _, _ = model.forward(ids)
    assert not np.allclose(first, second)

    restored = SequenceModel(config, params=model.params, buffers=model.buffers)
    np.testing.assert_array_equal(restored.forward(ids)[0], second)
    with pytest.raises(ValueError, match="buffers do not match"):
        SequenceModel(config, params=model.params, buffers={})
