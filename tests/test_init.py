"""Initialisers: shapes, limits, orthogonality, determinism, no global random state."""
import numpy as np
import pytest

from lstm_np.init import glorot_uniform, orthogonal, zeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glorot_uniform_shape_dtype_and_limit(dtype):
    w = glorot_uniform(np.random.default_rng(0), (90, 60), dtype)
    limit = np.sqrt(6.0 / 150.0)
    assert w.shape == (90, 60) and w.dtype == dtype
    assert np.abs(w).max() <= limit * (1 + 1e-6)
    # 5400 draws fill the interval: a wrong (too small) limit would show here.
    assert np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.05)
    assert abs(w.mean()) < 0.01


@pytest.mark.parametrize("shape", [(8, 8), (8, 32), (32, 8), (1, 5), (5, 1)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = orthogonal(np.random.default_rng(1), shape, np.float64)
    assert w.shape == shape and w.dtype == np.float64
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_orthogonal_float32():
    w = orthogonal(np.random.default_rng(2), (16, 64), np.float32)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w @ w.T, np.eye(16), atol=1e-5)


def test_orthogonal_is_not_biased_by_qr_sign_convention():
    # Haar-distributed entries are symmetric about 0 with E[w_ij^2] = 1/n.
    # Without the sign fix, Householder QR makes w[0, 0] negative every time.
    rng = np.random.default_rng(3)
    draws = np.array([orthogonal(rng, (3, 3), np.float64) for _ in range(2000)])
    positive_fraction = (draws > 0).mean(axis=0)
    assert np.all(np.abs(positive_fraction - 0.5) < 0.05)
    np.testing.assert_allclose((draws ** 2).mean(axis=0), 1 / 3, atol=0.03)


@pytest.mark.parametrize("init", [glorot_uniform, orthogonal])
def test_same_seed_same_weights_other_seed_other_weights(init):
    first = init(np.random.default_rng(42), (6, 24), np.float32)
    again = init(np.random.default_rng(42), (6, 24), np.float32)
    other = init(np.random.default_rng(43), (6, 24), np.float32)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("init", [glorot_uniform, orthogonal])
def test_global_random_state_is_untouched(init):
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    init(np.random.default_rng(0), (4, 4), np.float32)
    assert np.random.random() == expected


@pytest.mark.parametrize("init", [glorot_uniform, orthogonal])
@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (0, 3)])
def test_non_matrix_shapes_are_refused(init, shape):
    with pytest.raises(ValueError, match="matrix shape"):
        init(np.random.default_rng(0), shape)


def test_zeros():
    b = zeros((4, 1))
    assert b.shape == (4, 1) and b.dtype == np.float32 and not b.any()
    assert zeros((3,), np.float64).dtype == np.float64
