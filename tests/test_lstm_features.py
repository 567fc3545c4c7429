"""The LSTM with feature inputs (lstm_np, feature_size > 0): token ids with a dense feature
vector beside each."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_np import kernels, lstm
from lstm_np.model import ModelConfig, SequenceModel, parameter_shapes
from lstm_np.optim import Adam, train_epoch
from lstm_np.gradcheck import numerical_gradient
from tests.gradcheck import normwise_relative_error

BACKENDS = ["reference", "numpy"] + (["numba"] if kernels.numba_available() else [])
VOCAB, FEATURES, HIDDEN = 5, 3, 4


def mixed_problem(rng, m=3, T=4, dtype=np.float64):
    ids = rng.integers(0, VOCAB, size=(m, T))
    features = rng.normal(size=(m, T, FEATURES)).astype(dtype)
    h0, c0 = (rng.normal(size=(m, HIDDEN)).astype(dtype) for _ in range(2))
    W = (rng.normal(size=(VOCAB + FEATURES + HIDDEN, 4 * HIDDEN)) * 0.5).astype(dtype)
    b = (rng.normal(size=4 * HIDDEN) * 0.5).astype(dtype)
    return ids, features, h0, c0, W, b


# ----- the LSTM layer alone ---------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_input_is_the_one_hot_concatenated_with_the_features(backend):
    rng = np.random.default_rng(0)
    ids, features, h0, c0, W, b = mixed_problem(rng)
    dense = np.concatenate([np.eye(VOCAB)[ids], features], axis=2)   # x_t = [onehot(id_t), f_t]
    hs_mixed, final_mixed, cache_mixed = lstm.forward(ids, h0, c0, W, b, backend, features)
    hs_dense, final_dense, cache_dense = lstm.forward(dense, h0, c0, W, b, backend)
    np.testing.assert_allclose(hs_mixed, hs_dense, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(final_mixed, final_dense, rtol=1e-12, atol=1e-14)
    dhs = rng.normal(size=hs_mixed.shape)
    dfeatures, *rest_mixed = lstm.backward(dhs, None, None, cache_mixed)
    ddense, *rest_dense = lstm.backward(dhs, None, None, cache_dense)
    np.testing.assert_allclose(dfeatures, ddense[:, :, VOCAB:], rtol=1e-12, atol=1e-13)
    for mixed, reference in zip(rest_mixed, rest_dense, strict=True):
        np.testing.assert_allclose(mixed, reference, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_with_mixed_input_matches_finite_differences(backend):
    rng = np.random.default_rng(1)
    ids, features, h0, c0, W, b = mixed_problem(rng)
    weight_hs = rng.normal(size=(3, 4, HIDDEN))
    weight_cT = rng.normal(size=(3, HIDDEN))

    def loss():
        hs, (_, cT), _ = lstm.forward(ids, h0, c0, W, b, backend, features)
        return (hs * weight_hs).sum() + (cT * weight_cT).sum()

    _, _, cache = lstm.forward(ids, h0, c0, W, b, backend, features)
    analytic = lstm.backward(weight_hs, None, weight_cT, cache)
    for name, array, grad in zip(["features", "h0", "c0", "W", "b"],
                                 [features, h0, c0, W, b], analytic, strict=True):
        error = normwise_relative_error(grad, numerical_gradient(loss, array))
        assert error < 1e-7, f"d{name}: relative error {error:.2e}"


def test_first_layer_skips_the_feature_gradient_when_asked():
    rng = np.random.default_rng(2)
    ids, features, h0, c0, W, b = mixed_problem(rng)
    _, _, cache = lstm.forward(ids, h0, c0, W, b, "numpy", features)
    dhs = np.ascontiguousarray(rng.normal(size=(4, 3, HIDDEN)))
    with_grad = lstm.backward_time_major(dhs, None, None, cache)
    without = lstm.backward_time_major(dhs, None, None, cache, input_grad=False)
    assert with_grad[0].shape == (4, 3, FEATURES) and without[0] is None
    for kept, reference in zip(without[1:], with_grad[1:], strict=True):
        np.testing.assert_array_equal(kept, reference)


def test_features_beside_float_inputs_are_refused():
    rng = np.random.default_rng(3)
    _, features, h0, c0, W, b = mixed_problem(rng)
    with pytest.raises(ValueError, match="beside token ids"):
        lstm.forward(rng.normal(size=(3, 4, VOCAB + FEATURES)), h0, c0, W, b, "numpy", features)


# ----- the model ----------------------------------------------------------------
def conditioned_model(backend=None, dense_size=0, dropout=0.0, dtype="float64", seed=1):
    config = ModelConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_layers=2, dense_size=dense_size,
                         dropout=dropout, dtype=dtype, feature_size=FEATURES)
    return SequenceModel(config, rng=np.random.default_rng(seed), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dense_size, dropout", [(0, 0.0), (3, 0.3)])
def test_model_gradients_with_features_match_finite_differences(backend, dense_size, dropout):
    model = conditioned_model(backend, dense_size, dropout)
    rng = np.random.default_rng(4)
    ids = rng.integers(0, VOCAB, size=(3, 4))
    features = rng.normal(size=(3, 4, FEATURES))
    targets = rng.integers(0, VOCAB, size=(3, 4))

    def loss():
        return model.loss_and_grads(ids, targets, dropout_rng=np.random.default_rng(7),
                                    features=features)[0]

    _, _, grads = model.loss_and_grads(ids, targets, dropout_rng=np.random.default_rng(7),
                                       features=features)
    for name, array in model.params.items():
        error = normwise_relative_error(grads[name], numerical_gradient(loss, array))
        assert error < 1e-6, f"{name}: relative error {error:.2e}"
    # The feature rows of lstm0.W learn: dW_feat = sum_t f_t^T da_t is not zero.
    assert np.abs(grads["lstm0.W"][VOCAB:VOCAB + FEATURES]).max() > 1e-4


@pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
def test_numba_and_numpy_agree_with_features(dtype, tolerance):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, VOCAB, size=(6, 9))
    features = rng.normal(size=(6, 9, FEATURES))
    targets = rng.integers(0, VOCAB, size=(6, 9))
    results = {}
    for backend in ("reference", "numpy", "numba"):
        model = conditioned_model(backend, dense_size=3, dtype=dtype)
        results[backend] = model.loss_and_grads(ids, targets, features=features)
    for backend in ("numpy", "numba"):
        loss, _, grads = results[backend]
        assert abs(loss - results["reference"][0]) < tolerance
        for name, grad in grads.items():
            np.testing.assert_allclose(grad, results["reference"][2][name], rtol=tolerance,
                                       atol=tolerance, err_msg=f"{name}: {backend} vs reference")


def test_features_change_the_prediction_and_only_when_they_differ():
    model = conditioned_model()
    rng = np.random.default_rng(6)
    ids = rng.integers(0, VOCAB, size=(2, 5))
    features = rng.normal(size=(2, 5, FEATURES))
    logits, _, _ = model.forward(ids, features=features)
    again, _, _ = model.forward(ids, features=features.copy())
    np.testing.assert_array_equal(logits, again)
    changed = features.copy()
    changed[1, 3] += 1.0
    other, _, _ = model.forward(ids, features=changed)
    rows = logits.reshape(5, 2, VOCAB)          # time-major rows: step t, sequence i
    moved = other.reshape(5, 2, VOCAB)
    np.testing.assert_array_equal(moved[:3], rows[:3])   # steps before the change
    np.testing.assert_array_equal(moved[:, 0], rows[:, 0])   # the other sequence
    assert not np.allclose(moved[3:, 1], rows[3:, 1])


def test_a_model_learns_what_only_the_features_tell():
    # The target at every step is the class the feature vector points at; the
    # input ids are noise, so only the features can give the answer.
    rng = np.random.default_rng(7)
    classes = rng.integers(0, 3, size=(16, 6))
    features = np.eye(3)[classes]
    ids = rng.integers(0, 4, size=(16, 6))
    config = ModelConfig(vocab_size=4, hidden_size=8, feature_size=3)
    model = SequenceModel(config, rng=np.random.default_rng(8))
    optimizer = Adam(lr=0.05)
    for _ in range(60):
        train_epoch(model, optimizer, ids, classes, rng, batch_size=16, features=features)
    _, accuracy = model.evaluate(ids, classes, features=features)
    assert accuracy == 1.0


def test_feature_size_zero_changes_nothing():
    plain = ModelConfig(vocab_size=7, hidden_size=5, num_layers=2)
    explicit = ModelConfig(vocab_size=7, hidden_size=5, num_layers=2, feature_size=0)
    assert plain == explicit
    params = SequenceModel(plain, rng=np.random.default_rng(0)).params
    again = SequenceModel(explicit, rng=np.random.default_rng(0)).params
    for name in params:
        np.testing.assert_array_equal(params[name], again[name])


def test_feature_rows_sit_between_token_and_recurrent_rows():
    config = ModelConfig(vocab_size=7, hidden_size=5, feature_size=3)
    assert parameter_shapes(config)["lstm0.W"] == (7 + 3 + 5, 20)
    model = SequenceModel(config, rng=np.random.default_rng(0))
    recurrent = model.params["lstm0.W"][10:].astype(np.float64)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)   # orthogonal W_h
    # Token 2 with features e_1 at a zero state: z = W[2] + W[7 + 1] + b.
    W, b = model.params["lstm0.W"].astype(np.float64), model.params["lstm0.b"]
    zeros = np.zeros((1, 5))
    h, _, _ = lstm.cell_forward((W[2] + W[8])[None], zeros, zeros, W[10:], b)
    _, (h_model, _), _ = lstm.forward(np.array([[2]]), np.zeros((1, 5)), np.zeros((1, 5)), W, b,
                                      "reference", np.array([[[0.0, 1.0, 0.0]]]))
    np.testing.assert_allclose(h_model, h, rtol=1e-12)


def test_config_dicts_keep_feature_size_and_old_ones_still_load():
    config = ModelConfig(vocab_size=7, feature_size=4)
    assert config.to_dict()["feature_size"] == 4
    assert ModelConfig.from_dict(config.to_dict()) == config
    old = {key: value for key, value in config.to_dict().items() if key != "feature_size"}
    assert ModelConfig.from_dict(old).feature_size == 0


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_bad_feature_size_is_refused(bad):
    with pytest.raises(ValueError, match="feature_size"):
        ModelConfig(vocab_size=7, feature_size=bad)


def test_missing_extra_or_malformed_features_are_refused():
    model = conditioned_model()
    ids = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="features .* are required"):
        model.forward(ids)
    with pytest.raises(ValueError, match=r"\(2, 3, 3\)"):
        model.forward(ids, features=np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="finite"):
        model.forward(ids, features=np.full((2, 3, 3), np.nan))
    with pytest.raises(ValueError, match="numbers"):
        model.forward(ids, features=np.full((2, 3, 3), "a"))
    plain = SequenceModel(ModelConfig(vocab_size=VOCAB, hidden_size=HIDDEN),
                          rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="feature_size is 0"):
        plain.forward(ids, features=np.zeros((2, 3, 3)))


@settings(max_examples=15, deadline=None)
@given(feature_size=st.integers(1, 4), layers=st.integers(1, 2), m=st.integers(1, 3),
       T=st.integers(1, 4), backend=st.sampled_from(BACKENDS), seed=st.integers(0, 1000))
def test_stepping_with_carried_state_equals_the_whole_sequence(feature_size, layers, m, T,
                                                                 backend, seed):
    config = ModelConfig(vocab_size=4, hidden_size=3, num_layers=layers, dtype="float64",
                         feature_size=feature_size)
    model = SequenceModel(config, rng=np.random.default_rng(seed), backend=backend)
    rng = np.random.default_rng(seed + 1)
    ids = rng.integers(0, 4, size=(m, T))
    features = rng.normal(size=(m, T, feature_size)) * 3
    whole, _, _ = model.forward(ids, features=features)
    state = model.initial_state(m)
    for t in range(T):
        step, state, _ = model.forward(ids[:, t:t + 1], state, all_steps=False,
                                       features=features[:, t:t + 1])
        np.testing.assert_allclose(step, whole.reshape(T, m, 4)[t], rtol=1e-12, atol=1e-13)


def test_training_features_need_one_row_per_sequence():
    model = conditioned_model()
    ids = np.zeros((4, 3), dtype=np.int64)
    with pytest.raises(ValueError, match=r"one row per input sequence \(4\), got 3"):
        train_epoch(model, Adam(), ids, ids, np.random.default_rng(0), batch_size=2,
                    features=np.zeros((3, 3, FEATURES)))
