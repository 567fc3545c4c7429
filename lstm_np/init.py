"""Weight initialisers.  Every random draw comes from the ``np.random.Generator`` passed in.

glorot_uniform (Glorot & Bengio 2010), for a (fan_in, fan_out) matrix::

    W ~ Uniform(-limit, limit),  limit = sqrt(6 / (fan_in + fan_out))

orthogonal (Saxe et al. 2013), for a (rows, cols) matrix: draw A with
standard normal entries, shaped (max, min) of (rows, cols); take its reduced
QR decomposition A = Q R; multiply each column of Q by the sign of the
matching diagonal entry of R.  That makes the decomposition unique, so Q is
uniformly (Haar) distributed; without it LAPACK's sign convention biases Q.
The result has orthonormal columns (W^T W = I) when rows >= cols, otherwise
orthonormal rows (W W^T = I, e.g. an LSTM's (n_a, 4*n_a) recurrent kernel).

Draws are made in float64 and then cast, so one seed gives the same weights
(up to rounding) whatever the dtype.
"""
from __future__ import annotations

import numpy as np


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, int],
                   dtype=np.float32) -> np.ndarray:
    """A (fan_in, fan_out) matrix drawn from Uniform(-limit, limit); the limit is symmetric in the two."""
    fan_in, fan_out = _matrix_shape(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype)


def orthogonal(rng: np.random.Generator, shape: tuple[int, int],
               dtype=np.float32) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal columns (rows >= cols) or orthonormal rows."""
    rows, cols = _matrix_shape(shape)
    tall = (max(rows, cols), min(rows, cols))
    q, r = np.linalg.qr(rng.standard_normal(tall))
    signs = np.sign(np.diag(r))
    # A zero diagonal entry has probability zero, but must not zero a column.
    signs[signs == 0] = 1.0
    q *= signs
    return (q if rows >= cols else q.T).astype(dtype)


def zeros(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """An array of zeros of any shape (biases)."""
    return np.zeros(shape, dtype=dtype)


def _matrix_shape(shape) -> tuple[int, int]:
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"expected a matrix shape (rows, cols) with both >= 1, got {shape}")
    return shape
