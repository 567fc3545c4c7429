"""lstm_np.generate: greedy, temperature and top-k choice; seeded batch generation."""
import numpy as np
import pytest

from lstm_np import kernels
from lstm_np.generate import choose_tokens, generate
from lstm_np.model import ModelConfig, SequenceModel


def test_temperature_zero_is_argmax():
    logits = np.array([[0.1, 3.0, 2.9], [5.0, -1.0, 4.0]])
    np.testing.assert_array_equal(choose_tokens(logits, np.array([0.99, 0.99]), 0.0), [1, 0])


def test_draws_follow_the_softmax_distribution():
    logits = np.log(np.array([[0.2, 0.5, 0.3]]))
    uniforms = np.random.default_rng(0).random(20000)
    picks = np.array([choose_tokens(logits, uniforms[k:k + 1])[0] for k in range(20000)])
    frequencies = np.bincount(picks, minlength=3) / 20000
    np.testing.assert_allclose(frequencies, [0.2, 0.5, 0.3], atol=0.015)


def test_inverse_cdf_boundaries():
    logits = np.log(np.array([[0.25, 0.25, 0.5]]))
    assert choose_tokens(logits, np.array([0.0]))[0] == 0
    assert choose_tokens(logits, np.array([0.26]))[0] == 1
    assert choose_tokens(logits, np.array([0.51]))[0] == 2
    assert choose_tokens(logits, np.array([0.999999]))[0] == 2


def test_top_k_never_picks_outside_the_k_largest():
    logits = np.array([[1.0, 4.0, 3.0, 2.0, 0.0]])
    picks = {choose_tokens(logits, np.array([u]), temperature=5.0, top_k=2)[0]
             for u in np.linspace(0, 0.999, 200)}
    assert picks == {1, 2}


def test_low_temperature_sharpens():
    logits = np.array([[1.0, 2.0]])
    uniforms = np.linspace(0, 0.999, 1000)
    cold = sum(choose_tokens(logits, np.array([u]), 0.1)[0] for u in uniforms)
    hot = sum(choose_tokens(logits, np.array([u]), 10.0)[0] for u in uniforms)
    assert cold > 990 and 450 < hot < 600


def test_bad_sampling_options_are_refused():
    with pytest.raises(ValueError):
        choose_tokens(np.zeros((1, 3)), np.zeros(1), temperature=-1)
    with pytest.raises(ValueError):
        choose_tokens(np.zeros((1, 3)), np.zeros(1), top_k=-2)


def trained_free_model():
    config = ModelConfig(vocab_size=12, hidden_size=8, num_layers=2, dense_size=5)
    return SequenceModel(config, rng=np.random.default_rng(3))


def test_same_seed_same_tokens_other_seed_other_tokens():
    model = trained_free_model()
    primer = np.array([[1, 2, 3], [4, 5, 6]])
    first = generate(model, primer, 40, np.random.default_rng(9), temperature=1.5)
    again = generate(model, primer, 40, np.random.default_rng(9), temperature=1.5)
    other = generate(model, primer, 40, np.random.default_rng(10), temperature=1.5)
    assert first.shape == (2, 40)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.min() >= 0 and first.max() < 12


def test_batch_rows_are_independent_sequences():
    model = trained_free_model()
    primer = np.array([[1, 2, 3], [7, 8, 9]])
    batch = generate(model, primer, 15, np.random.default_rng(0), temperature=0)
    for row in range(2):
        alone = generate(model, primer[row:row + 1], 15, np.random.default_rng(0), temperature=0)
        np.testing.assert_array_equal(alone[0], batch[row])


def test_greedy_generation_follows_the_model_argmax():
    model = trained_free_model()
    primer = np.array([[3, 1]])
    tokens = generate(model, primer, 6, np.random.default_rng(0), temperature=0)
    sequence = list(primer[0])
    for token in tokens[0]:
        logits, _, _ = model.forward(np.array([sequence]), all_steps=True)
        assert token == logits.reshape(len(sequence), 12)[-1].argmax()
        sequence.append(token)


@pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layers, dense, temperature, top_k", [
    (1, 0, 0.0, 0), (1, 0, 1.0, 0), (2, 5, 1.5, 0), (3, 0, 0.8, 4), (2, 6, 0.0, 3)])
def test_compiled_generation_picks_the_numpy_tokens(layers, dense, temperature, top_k, dtype):
    config = ModelConfig(vocab_size=12, hidden_size=8, num_layers=layers, dense_size=dense,
                         dtype=dtype)
    params = SequenceModel(config, rng=np.random.default_rng(5)).params
    # Larger weights than at initialisation, so that the logits are far from uniform.
    params = {name: value * 3 for name, value in params.items()}
    primer = np.array([[1, 2, 3], [4, 5, 6], [11, 0, 7]])
    tokens = {backend: generate(SequenceModel(config, params=params, backend=backend), primer,
                                60, np.random.default_rng(8), temperature, top_k)
              for backend in ("numpy", "numba")}
    np.testing.assert_array_equal(tokens["numba"], tokens["numpy"])


@pytest.mark.parametrize("backend", ["numpy"] + (["numba"] if kernels.numba_available() else []))
def test_out_of_range_primer_is_refused(backend):
    config = ModelConfig(vocab_size=12, hidden_size=8)
    model = SequenceModel(config, rng=np.random.default_rng(0), backend=backend)
    with pytest.raises(ValueError, match="token ids"):
        generate(model, np.array([[3, 12]]), 4, np.random.default_rng(0))


@pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("dense", [0, 6])
def test_compiled_generation_applies_batch_norm_statistics(dense):
    config = ModelConfig(vocab_size=12, hidden_size=8, num_layers=2, dense_size=dense,
                         head="last_step", batch_norm=True, dtype="float64")
    rng = np.random.default_rng(6)
    params = {name: value * 3 for name, value in
              SequenceModel(config, rng=rng).params.items()}
    for name in params:
        if name.startswith("bn"):
            params[name] = rng.normal(1.0 if name.endswith("gamma") else 0.0, 0.5,
                                      params[name].shape)
    buffers = {name: (rng.uniform(0.2, 3.0, value.shape) if name.endswith("var")
                      else rng.normal(0, 1, value.shape))
               for name, value in SequenceModel(config, rng=rng).buffers.items()}
    primer = np.array([[1, 2, 3], [9, 10, 11]])
    tokens = {backend: generate(SequenceModel(config, params=params, buffers=buffers,
                                              backend=backend),
                                primer, 60, np.random.default_rng(2), 1.0)
              for backend in ("numpy", "numba")}
    np.testing.assert_array_equal(tokens["numba"], tokens["numpy"])
    plain = generate(SequenceModel(config, params=params, backend="numpy"), primer, 60,
                     np.random.default_rng(2), 1.0)
    assert not np.array_equal(plain, tokens["numpy"])  # the statistics matter


def conditioned_model(backend, dtype="float64", layers=2, dense=5):
    config = ModelConfig(vocab_size=12, hidden_size=8, num_layers=layers, dense_size=dense,
                         dtype=dtype, feature_size=3)
    params = {name: value * 3 for name, value in
              SequenceModel(config, rng=np.random.default_rng(4)).params.items()}
    return SequenceModel(config, params=params, backend=backend)


@pytest.mark.parametrize("backend", ["reference", "numpy"]
                         + (["numba"] if kernels.numba_available() else []))
def test_greedy_generation_hears_the_step_features(backend):
    # Row k of step_features goes in with generated token k: replaying the stream
    # through one whole-sequence forward must give the same argmax at every step.
    model = conditioned_model(backend)
    rng = np.random.default_rng(1)
    primer, primer_features = np.array([[3, 1, 4]]), rng.normal(size=(1, 3, 3))
    step_features = rng.normal(size=(1, 8, 3))
    tokens = generate(model, primer, 8, rng, temperature=0, primer_features=primer_features,
                      step_features=step_features)
    sequence = np.concatenate([primer[0], tokens[0, :-1]])
    features = np.concatenate([primer_features[0], step_features[0, :-1]])
    logits, _, _ = model.forward(sequence[None], features=features[None])
    np.testing.assert_array_equal(tokens[0], logits[2:].argmax(axis=1))
    moved = step_features.copy()
    moved[0, 2] += 5.0       # heard with token 2: changes what follows it, not what comes before
    retold = generate(model, primer, 8, rng, temperature=0, primer_features=primer_features,
                      step_features=moved)
    np.testing.assert_array_equal(retold[0, :3], tokens[0, :3])
    assert not np.array_equal(retold[0, 3:], tokens[0, 3:])


@pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layers, dense, temperature, top_k", [(1, 0, 1.0, 0), (2, 5, 0.7, 4)])
def test_compiled_generation_with_features_picks_the_numpy_tokens(layers, dense, temperature,
                                                                  top_k, dtype):
    rng = np.random.default_rng(2)
    primer = np.array([[1, 2, 3], [4, 5, 6]])
    primer_features, step_features = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 50, 3))
    tokens = {backend: generate(conditioned_model(backend, dtype, layers, dense), primer, 50,
                                np.random.default_rng(8), temperature, top_k,
                                primer_features=primer_features, step_features=step_features)
              for backend in ("numpy", "numba")}
    np.testing.assert_array_equal(tokens["numba"], tokens["numpy"])


def test_generation_features_are_checked():
    model = conditioned_model("numpy")
    with pytest.raises(ValueError, match=r"primer_features \(1, 2, 3\) are required"):
        generate(model, np.array([[1, 2]]), 4, np.random.default_rng(0),
                 step_features=np.zeros((1, 4, 3)))
    with pytest.raises(ValueError, match=r"step_features must be numbers shaped \(1, 4, 3\)"):
        generate(model, np.array([[1, 2]]), 4, np.random.default_rng(0),
                 primer_features=np.zeros((1, 2, 3)), step_features=np.zeros((1, 3, 3)))
    plain = trained_free_model()
    with pytest.raises(ValueError, match="feature_size is 0"):
        generate(plain, np.array([[1, 2]]), 4, np.random.default_rng(0),
                 primer_features=np.zeros((1, 2, 3)))
