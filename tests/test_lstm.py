"""lstm_np.lstm: forward and BPTT against finite differences; stepwise == batched;
the reference cell, the fast NumPy cell and the Numba cell agree."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_np import kernels, lstm
from lstm_np.gradcheck import numerical_gradient
from tests.gradcheck import elementwise_relative_error

BACKENDS = ["reference", "numpy"] + (["numba"] if kernels.numba_available() else [])


def random_problem(rng, m=3, T=4, n_x=5, n_a=4, dtype=np.float64):
    x = rng.normal(size=(m, T, n_x))
    h0 = rng.normal(size=(m, n_a))
    c0 = rng.normal(size=(m, n_a))
    W = rng.normal(size=(n_x + n_a, 4 * n_a)) * 0.5
    b = rng.normal(size=4 * n_a) * 0.5
    return [a.astype(dtype) for a in (x, h0, c0, W, b)]


def reference_step(x_t, h, c, W, b):
    """One step written straight from the equations, with explicit concatenation."""
    n_a = h.shape[1]
    a = np.concatenate([x_t, h], axis=1) @ W + b
    i = 1 / (1 + np.exp(-a[:, :n_a]))
    f = 1 / (1 + np.exp(-a[:, n_a:2 * n_a]))
    g = np.tanh(a[:, 2 * n_a:3 * n_a])
    o = 1 / (1 + np.exp(-a[:, 3 * n_a:]))
    c = f * c + i * g
    return o * np.tanh(c), c


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_matches_the_equations_step_by_step(backend):
    rng = np.random.default_rng(0)
    x, h0, c0, W, b = random_problem(rng)
    hs, (hT, cT), _ = lstm.forward(x, h0, c0, W, b, backend)
    h, c = h0, c0
    for t in range(x.shape[1]):
        h, c = reference_step(x[:, t], h, c, W, b)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-12, atol=1e-14,
                                   err_msg=f"ours vs reference, h at step {t}")
    np.testing.assert_allclose(hT, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cT, c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_T_single_steps_equal_one_whole_sequence(backend):
    rng = np.random.default_rng(1)
    x, h0, c0, W, b = random_problem(rng, m=2, T=6)
    hs, (hT, cT), _ = lstm.forward(x, h0, c0, W, b, backend)
    h, c = h0, c0
    for t in range(x.shape[1]):
        step_hs, (h, c), _ = lstm.forward(x[:, t:t + 1], h, c, W, b, backend)
        np.testing.assert_array_equal(step_hs[:, 0], hs[:, t])
    np.testing.assert_array_equal(h, hT)
    np.testing.assert_array_equal(c, cT)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_matches_finite_differences_in_float64(backend):
    rng = np.random.default_rng(2)
    args = random_problem(rng, m=3, T=4, n_x=5, n_a=4)
    x, h0, c0, W, b = args
    weight_hs = rng.normal(size=(3, 4, 4))
    weight_hT = rng.normal(size=(3, 4))
    weight_cT = rng.normal(size=(3, 4))

    def loss():
        hs, (hT, cT), _ = lstm.forward(x, h0, c0, W, b, backend)
        return (hs * weight_hs).sum() + (hT * weight_hT).sum() + (cT * weight_cT).sum()

    _, _, cache = lstm.forward(x, h0, c0, W, b, backend)
    analytic = lstm.backward(weight_hs, weight_hT, weight_cT, cache)
    for name, array, grad in zip(["x", "h0", "c0", "W", "b"], args, analytic, strict=True):
        error = elementwise_relative_error(grad, numerical_gradient(loss, array))
        assert error < 1e-6, f"d{name}: max relative error {error:.2e}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_token_ids_act_as_one_hot_inputs(backend):
    rng = np.random.default_rng(3)
    vocab, n_a = 7, 5
    ids = rng.integers(0, vocab, size=(3, 4))
    one_hot = np.eye(vocab)[ids]
    _, h0, c0, W, b = random_problem(rng, n_x=vocab, n_a=n_a)
    hs_ids, _, cache_ids = lstm.forward(ids, h0, c0, W, b, backend)
    hs_hot, _, cache_hot = lstm.forward(one_hot, h0, c0, W, b, backend)
    np.testing.assert_allclose(hs_ids, hs_hot, rtol=1e-12, atol=1e-14)
    dhs = rng.normal(size=hs_ids.shape)
    dx, *rest_ids = lstm.backward(dhs, None, None, cache_ids)
    _, *rest_hot = lstm.backward(dhs, None, None, cache_hot)
    assert dx is None
    for ours, reference in zip(rest_ids, rest_hot, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("fast", [backend for backend in BACKENDS if backend != "reference"])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_fast_paths_agree_with_the_reference_cell(fast, dtype, tolerance):
    rng = np.random.default_rng(4)
    x, h0, c0, W, b = random_problem(rng, m=6, T=9, n_x=7, n_a=8, dtype=dtype)
    dhs = rng.normal(size=(6, 9, 8)).astype(dtype)
    dhT, dcT = (rng.normal(size=(6, 8)).astype(dtype) for _ in range(2))
    results = {}
    for backend in ("reference", fast):
        hs, (hT, cT), cache = lstm.forward(x, h0, c0, W, b, backend)
        results[backend] = (hs, hT, cT) + lstm.backward(dhs, dhT, dcT, cache)
    names = ["hs", "hT", "cT", "dx", "dh0", "dc0", "dW", "db"]
    for name, reference, fast_value in zip(names, results["reference"], results[fast],
                                           strict=True):
        assert fast_value.dtype == reference.dtype == dtype
        np.testing.assert_allclose(fast_value, reference, rtol=tolerance, atol=tolerance,
                                   err_msg=f"{name}: {fast} vs reference")


def test_reference_cell_gates_by_hand():
    # z = 0 everywhere: Γ_u = Γ_f = Γ_o = σ(0) = 1/2, c̃ = tanh(0) = 0, so
    # c<t> = c<t-1> / 2 and a<t> = tanh(c<t>) / 2.
    c_prev = np.array([[2.0, -4.0]])
    zeros = np.zeros((1, 2))
    a_next, c_next, step = lstm.cell_forward(np.zeros((1, 8)), zeros, c_prev, np.zeros((2, 8)),
                                             np.zeros(8))
    _, _, it, ft, cct, ot, _ = step
    np.testing.assert_array_equal(np.concatenate([it, ft, ot]), np.full((3, 2), 0.5))
    np.testing.assert_array_equal(cct, [[0.0, 0.0]])
    np.testing.assert_array_equal(c_next, [[1.0, -2.0]])
    np.testing.assert_allclose(a_next, [[np.tanh(1.0) / 2, np.tanh(-2.0) / 2]], rtol=1e-15)
    # Backward with da = 1, dc = 0: dΓ_o = tanh(c), dc = Γ_o (1 - tanh(c)^2),
    # dz_u = dc c̃ Γ_u (1 - Γ_u) = 0, dz_f = dc c_prev / 4, dz_c = dc Γ_u, dz_o = tanh(c) / 4.
    W_a = np.arange(16.0).reshape(2, 8)
    dz, da_prev, dc_prev = lstm.cell_backward(np.ones((1, 2)), zeros, step, W_a)
    dc = 0.5 * (1 - np.tanh([[1.0, -2.0]]) ** 2)
    expected = np.concatenate([np.zeros((1, 2)), dc * c_prev / 4, dc / 2,
                               np.tanh([[1.0, -2.0]]) / 4], axis=1)
    np.testing.assert_allclose(dz, expected, rtol=1e-14)
    np.testing.assert_allclose(da_prev, expected @ W_a.T, rtol=1e-14)
    np.testing.assert_allclose(dc_prev, dc / 2, rtol=1e-14)


def test_reference_sigmoid_saturates_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(lstm.sigmoid(np.array([-1000.0, 0.0, 1000.0])),
                                      [0.0, 0.5, 1.0])


def test_without_numba_the_numpy_path_is_used_quietly(monkeypatch):
    monkeypatch.setattr(kernels, "numba", None)
    assert kernels.resolve_backend(None) == "numpy"
    with pytest.raises(RuntimeError, match="numba is not installed"):
        kernels.resolve_backend("numba")
    rng = np.random.default_rng(6)
    x, h0, c0, W, b = random_problem(rng)
    hs, _, cache = lstm.forward(x, h0, c0, W, b)
    assert cache.backend == "numpy" and np.all(np.isfinite(hs))


def test_environment_variable_forces_the_numpy_path(monkeypatch):
    monkeypatch.setenv("JAZZ_LSTM_NUMBA", "0")
    assert kernels.resolve_backend(None) == "numpy"
    monkeypatch.setenv("JAZZ_LSTM_NUMBA", "1")
    assert kernels.resolve_backend(None) == ("numba" if kernels.numba_available() else "numpy")
    with pytest.raises(ValueError):
        kernels.resolve_backend("cuda")


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 4), T=st.integers(1, 5), n_x=st.integers(1, 6), n_a=st.integers(1, 6),
       dtype=st.sampled_from([np.float32, np.float64]), backend=st.sampled_from(BACKENDS),
       seed=st.integers(0, 2**16))
def test_shapes_hold_and_outputs_are_finite(m, T, n_x, n_a, dtype, backend, seed):
    rng = np.random.default_rng(seed)
    x, h0, c0, W, b = random_problem(rng, m, T, n_x, n_a, dtype)
    x *= 10  # saturate the gates: still finite
    hs, (hT, cT), cache = lstm.forward(x, h0, c0, W, b, backend)
    assert hs.shape == (m, T, n_a) and hT.shape == cT.shape == (m, n_a)
    dx, dh0, dc0, dW, db = lstm.backward(np.ones_like(hs), None, None, cache)
    assert (dx.shape, dh0.shape, dc0.shape, dW.shape, db.shape) == (
        x.shape, h0.shape, c0.shape, W.shape, b.shape)
    for array in (hs, hT, cT, dx, dh0, dc0, dW, db):
        assert array.dtype == dtype and np.all(np.isfinite(array))


@pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype, relative, absolute", [(np.float64, 1e-14, 1e-15),
                                                       (np.float32, 1e-5, 1e-6)])
def test_compiled_tanh_matches_numpy(dtype, relative, absolute):
    import numba

    @numba.njit(error_model="numpy")
    def apply(values, out):
        for index in range(values.shape[0]):
            out[index] = kernels.fast_tanh(values[index])

    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 3, 20000), rng.normal(0, 0.01, 5000),
                             np.linspace(-30, 30, 6001), [0.0, -0.0, 1e-30, -1e-30]]).astype(dtype)
    out = np.empty_like(values)
    apply(values, out)
    reference = np.tanh(values.astype(np.float64))
    np.testing.assert_allclose(out, reference, rtol=relative, atol=absolute)
    assert np.all(np.abs(out) <= 1.0)


def test_malloc_tuning_is_opt_in_and_reports_whether_it_applied(monkeypatch):
    def refuse():
        raise AssertionError("train_epoch must not change malloc settings")

    from lstm_np.model import ModelConfig, SequenceModel
    from lstm_np.optim import Adam
    from lstm_np.optim import train_epoch

    monkeypatch.setattr(kernels, "tune_malloc_for_training", refuse)
    model = SequenceModel(ModelConfig(vocab_size=4, hidden_size=3), rng=np.random.default_rng(0))
    ids = np.zeros((2, 3), dtype=np.int64)
    train_epoch(model, Adam(), ids, ids, np.random.default_rng(0), batch_size=2)
    monkeypatch.undo()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    # __wrapped__: the uncached function, as a fresh process would run it.
    assert kernels.tune_malloc_for_training.__wrapped__() is False
