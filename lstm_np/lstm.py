r"""The LSTM layer: forward pass and backpropagation through time, in NumPy.

Shapes: m = batch size, T = time steps, n_x = input size, n_a = hidden size.

Parameters (one fused matrix, as in Karpathy's lstm.py)::

    W : (n_x + n_a, 4 n_a)   acts on the concatenation z_t = [x_t, h_(t-1)]
    b : (4 n_a,)
    the gate columns are in the order [ i | f | g | o ]  (Keras and PyTorch order)
    W_x = W[:n_x]  (n_x, 4 n_a)   the input rows
    W_h = W[n_x:]  (n_a, 4 n_a)   the recurrent rows

Forward, for t = 1..T (every product is a matrix product over the batch)::

    a_t = x_t W_x + h_(t-1) W_h + b             (m, 4 n_a)   pre-activations
    i_t = sigmoid(a_t[:, 0 n_a : 1 n_a])        (m, n_a)     input gate
    f_t = sigmoid(a_t[:, 1 n_a : 2 n_a])        (m, n_a)     forget gate
    g_t = tanh   (a_t[:, 2 n_a : 3 n_a])        (m, n_a)     candidate cell
    o_t = sigmoid(a_t[:, 3 n_a : 4 n_a])        (m, n_a)     output gate
    c_t = f_t * c_(t-1) + i_t * g_t             (m, n_a)     cell state
    h_t = o_t * tanh(c_t)                       (m, n_a)     hidden state

The input term x_t W_x + b does not depend on h, so it is computed for all
steps in one product before the loop (``input_projection``).  When the input
is token ids, x_t is one-hot and x_t W_x is the row W_x[id]: a gather, not a
multiply.

Mixed input: token ids with a dense feature vector f_t (F,) beside each,
x_t = [onehot(id_t), f_t].  Then n_x = V + F and the input rows of W split
into the token rows and the feature rows::

    W_tok  = W[:V]         (V, 4 n_a)     W_feat = W[V:V + F]   (F, 4 n_a)
    x_t W_x = W_tok[id_t] + f_t W_feat

Backward, for t = T..1, given dh_t (from the output and from step t+1) and
dc_t (from step t+1)::

    do_t = dh_t * tanh(c_t)
    dc_t = dc_t + dh_t * o_t * (1 - tanh(c_t)^2)
    di_t = dc_t * g_t ;  df_t = dc_t * c_(t-1) ;  dg_t = dc_t * i_t
    da_t = [di_t * i_t (1 - i_t) | df_t * f_t (1 - f_t) | dg_t * (1 - g_t^2) | do_t * o_t (1 - o_t)]
    dh_(t-1) = da_t W_h^T            (the only product left inside the loop)
    dc_(t-1) = dc_t * f_t

and after the loop, each in one product over all steps::

    dW_h = sum_t h_(t-1)^T da_t     dW_x = sum_t x_t^T da_t     db = sum_t sum_batch da_t
    dx_t = da_t W_x^T

which for mixed input reads dW_tok[id] += da_t (a scatter-add of rows),
dW_feat = sum_t f_t^T da_t and, for the features themselves, da_t W_feat^T.

Inside the package arrays are time-major, (T, m, .), so that the slice of one
step is contiguous; ``forward`` and ``backward`` take and return batch-major
arrays, (m, T, .), as the rest of the world expects.

Reading order: ``sigmoid``, ``cell_forward`` and ``cell_backward`` are the
equations above, one line each, in plain NumPy; then the loops over time.
The loops run the gate math of a step with the cell of the chosen backend:
"reference" runs ``cell_forward`` / ``cell_backward`` below; "numpy" and
"numba" run faster twins of the same arithmetic (``lstm_np.kernels``, which
says what each trick buys); the tests hold all three equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_np import kernels


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x))."""
    with np.errstate(over="ignore"):   # exp(-x) = inf for x << 0: 1 / inf = 0, the right limit
        return 1 / (1 + np.exp(-x))


def cell_forward(a, c_prev):
    """One step's gate math, from the pre-activations a = x_t W_x + h_(t-1) W_h + b.

    a (m, 4 n_a), c_prev (m, n_a).  Returns the gates i, f, g, o, the cell
    c, tanh(c) and the hidden state h, each (m, n_a).
    """
    n_a = c_prev.shape[1]
    i = sigmoid(a[:, 0 * n_a:1 * n_a])     # input gate: how much new to write
    f = sigmoid(a[:, 1 * n_a:2 * n_a])     # forget gate: how much old to keep
    g = np.tanh(a[:, 2 * n_a:3 * n_a])     # candidate: what to write
    o = sigmoid(a[:, 3 * n_a:4 * n_a])     # output gate: how much to show
    c = f * c_prev + i * g                 # cell state: the memory
    tanh_c = np.tanh(c)
    h = o * tanh_c                         # hidden state: the output
    return i, f, g, o, c, tanh_c, h


def cell_backward(dh, dc, i, f, g, o, c_prev, tanh_c):
    """One step's derivatives, the forward lines taken in reverse order.

    dh (m, n_a): dloss/dh_t (from the layer's output plus from step t+1);
    dc (m, n_a): dloss/dc_t from step t+1; the rest saved by ``cell_forward``.
    Returns da (m, 4 n_a) = dloss/da_t in gate order [i|f|g|o], and
    dc_prev (m, n_a) = dloss/dc_(t-1).  Each derivative stands beside the
    forward line it differentiates.
    """
    do = dh * tanh_c                        # h = o * tanh_c
    dtanh_c = dh * o                        # h = o * tanh_c
    dc = dc + dtanh_c * (1 - tanh_c ** 2)   # tanh_c = tanh(c); c also reaches step t+1
    df = dc * c_prev                        # c = f * c_prev + i * g
    dc_prev = dc * f                        # c = f * c_prev + i * g
    di = dc * g                             # c = f * c_prev + i * g
    dg = dc * i                             # c = f * c_prev + i * g
    da_o = do * o * (1 - o)                 # o = sigmoid(a_o)
    da_g = dg * (1 - g ** 2)                # g = tanh(a_g)
    da_f = df * f * (1 - f)                 # f = sigmoid(a_f)
    da_i = di * i * (1 - i)                 # i = sigmoid(a_i)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    return da, dc_prev


def input_projection(inputs, W_x, b, features=None):
    """x_t W_x + b for every step at once, time-major.

    inputs: float (T, m, n_x), or integer token ids (T, m) whose one-hot
    product is the row gather W_x[ids]; features: None, or with ids
    (T, m, F) floats for the last F rows of W_x (mixed input).
    Returns (T, m, 4 n_a).
    """
    if inputs.dtype.kind not in "iu":
        T, m, n_x = inputs.shape
        return (inputs.reshape(T * m, n_x) @ W_x + b).reshape(T, m, -1)
    token_rows = W_x.shape[0] - _feature_size(features)
    # Bias the (V, 4 n_a) table, not the (T, m, 4 n_a) result: the same
    # sums, one pass over a small array and one large array fewer.
    pre = np.take(W_x[:token_rows] + b, inputs, axis=0)
    if features is not None:
        T, m, F = features.shape
        pre += (features.reshape(T * m, F) @ W_x[token_rows:]).reshape(pre.shape)
    return pre


def _feature_size(features) -> int:
    return 0 if features is None else features.shape[-1]


@dataclass
class Cache:
    """What backward needs from forward (time-major arrays)."""

    inputs: np.ndarray      # (T, m, n_x) floats or (T, m) token ids
    features: np.ndarray | None   # (T, m, F) beside token ids, or None
    W: np.ndarray           # (n_x + n_a, 4 n_a)
    h0: np.ndarray          # (m, n_a)
    c0: np.ndarray          # (m, n_a)
    hs: np.ndarray          # (T, m, n_a)
    cs: np.ndarray          # (T, m, n_a)
    tanh_cs: np.ndarray     # (T, m, n_a)
    gates: np.ndarray       # (T, m, 4 n_a), activated [i|f|g|o]
    backend: str


def forward_time_major(inputs, h0, c0, W, b, backend: str | None = None, features=None):
    """The LSTM over a whole sequence, time-major.

    inputs (T, m, n_x) or ids (T, m); features None or, with ids, (T, m, F);
    h0, c0 (m, n_a); W (n_x + n_a, 4 n_a) with n_x = V + F for mixed input;
    b (4 n_a,).  Returns hs (T, m, n_a), (h_T, c_T), cache.
    """
    backend = kernels.resolve_backend(backend)
    n_a = h0.shape[1]
    n_x = W.shape[0] - n_a
    W_x, W_h = W[:n_x], W[n_x:]
    pre = input_projection(inputs, W_x, b, features)  # (T, m, 4 n_a), filled per step below
    T, m = pre.shape[:2]
    dtype = W.dtype
    hs = np.empty((T, m, n_a), dtype)
    cs = np.empty((T, m, n_a), dtype)
    tanh_cs = np.empty((T, m, n_a), dtype)
    gates = np.empty((T, m, 4 * n_a), dtype)
    recurrent = np.empty((m, 4 * n_a), dtype)
    cell, _ = _cells(backend)
    h_prev, c_prev = h0, c0
    with kernels.blas_threads_for(m * n_a * 4 * n_a):
        for t in range(T):
            np.matmul(h_prev, W_h, out=recurrent)   # a_t = (x_t W_x + b) + h_(t-1) W_h
            cell(pre[t], recurrent, c_prev, gates[t], cs[t], tanh_cs[t], hs[t])
            h_prev, c_prev = hs[t], cs[t]
    cache = Cache(inputs, features, W, h0, c0, hs, cs, tanh_cs, gates, backend)
    return hs, (hs[-1], cs[-1]), cache


def backward_time_major(dhs, dhT, dcT, cache: Cache, input_grad: bool = True):
    """Backpropagation through time, time-major.

    dhs (T, m, n_a) gradient of the loss w.r.t. every h_t coming from above;
    dhT, dcT (m, n_a) gradients w.r.t. the final state (or None for zero);
    input_grad: False skips the input gradient (a first layer has no use for it).
    Returns dinputs: (T, m, n_x) for float input, (T, m, F) the features'
    for mixed input, None for token ids alone or without input_grad;
    dh0, dc0 (m, n_a), dW (n_x + n_a, 4 n_a), db (4 n_a,).
    """
    hs, cs, gates, W = cache.hs, cache.cs, cache.gates, cache.W
    T, m, n_a = hs.shape
    n_x = W.shape[0] - n_a
    W_x, W_h = W[:n_x], W[n_x:]
    dtype = W.dtype
    dh = np.zeros((m, n_a), dtype) if dhT is None else np.array(dhT, dtype=dtype)
    dc = np.zeros((m, n_a), dtype) if dcT is None else np.array(dcT, dtype=dtype)
    dpre = np.empty((T, m, 4 * n_a), dtype)
    _, cell = _cells(cache.backend)
    W_h_T = np.ascontiguousarray(W_h.T)
    with kernels.blas_threads_for(m * n_a * 4 * n_a):
        for t in range(T - 1, -1, -1):
            c_prev = cs[t - 1] if t > 0 else cache.c0
            cell(dh, dhs[t], dc, c_prev, gates[t], cache.tanh_cs[t], dpre[t])
            np.matmul(dpre[t], W_h_T, out=dh)         # dh_(t-1) = da_t W_h^T
    # h_(t-1) for every step, to form dW_h in one product.
    h_prev = np.concatenate([cache.h0[None], hs[:-1]], axis=0).reshape(T * m, n_a)
    dpre_rows = dpre.reshape(T * m, 4 * n_a)
    dW = np.empty_like(W)
    dW[n_x:] = h_prev.T @ dpre_rows
    db = dpre_rows.sum(axis=0)
    inputs, features = cache.inputs, cache.features
    if inputs.dtype.kind in "iu":
        token_rows = n_x - _feature_size(features)
        dW[:token_rows] = kernels.scatter_rows(inputs.reshape(-1), dpre_rows, token_rows,
                                               cache.backend)
        dense, W_dense = features, W_x[token_rows:]
    else:
        dense, W_dense = inputs, W_x
    dinputs = None
    if dense is not None:
        width = dense.shape[2]
        dW[n_x - width:n_x] = dense.reshape(T * m, width).T @ dpre_rows
        if input_grad:
            dinputs = (dpre_rows @ W_dense.T).reshape(T, m, width)
    return dinputs, dh, dc, dW, db


def forward(x, h0, c0, W, b, backend: str | None = None, features=None):
    """The LSTM over a whole sequence, batch-major.

    x  : (m, T, n_x) floats, or (m, T) integer token ids in [0, V)
    features : None, or with token ids (m, T, F) floats (mixed input)
    h0 : (m, n_a)  initial hidden state     c0 : (m, n_a)  initial cell state
    W  : (n_x + n_a, 4 n_a), n_x = V + F for mixed input     b : (4 n_a,)
    backend: "reference", "numpy", "numba" or None (the default: Numba
    unless JAZZ_LSTM_NUMBA=0 or numba is missing).

    Returns hs (m, T, n_a), (h_T, c_T) each (m, n_a), and the cache for
    ``backward``.
    """
    inputs = np.ascontiguousarray(np.swapaxes(x, 0, 1))
    if features is not None:
        if inputs.dtype.kind not in "iu":
            raise ValueError("features go beside token ids; with float inputs put them in x")
        features = np.ascontiguousarray(np.swapaxes(features, 0, 1), dtype=W.dtype)
    hs, final_state, cache = forward_time_major(inputs, h0, c0, W, b, backend, features)
    return np.swapaxes(hs, 0, 1), final_state, cache


def backward(dhs, dhT, dcT, cache: Cache):
    """Backpropagation through time, batch-major.

    dhs : (m, T, n_a) gradient w.r.t. every hidden output
    dhT, dcT : (m, n_a) gradients w.r.t. the final state (None for zero)

    Returns dx: (m, T, n_x) for float input, (m, T, F) the features' for
    mixed input, None for token ids alone; dh0 (m, n_a), dc0 (m, n_a),
    dW (n_x + n_a, 4 n_a), db (4 n_a,).
    """
    dhs_time_major = np.ascontiguousarray(np.swapaxes(dhs, 0, 1))
    dinputs, dh0, dc0, dW, db = backward_time_major(dhs_time_major, dhT, dcT, cache)
    dx = None if dinputs is None else np.swapaxes(dinputs, 0, 1)
    return dx, dh0, dc0, dW, db


# ----- the reference cell behind the fast cells' interface -----------------
def _reference_cell_forward(pre, recurrent, c_prev, gates, c, tanh_c, h):
    """``cell_forward`` writing into the loop's buffers, as the fast cells do."""
    i, f, g, o, c[...], tanh_c[...], h[...] = cell_forward(pre + recurrent, c_prev)
    gates[...] = np.concatenate([i, f, g, o], axis=1)


def _reference_cell_backward(dh_next, dh_above, dc, c_prev, gates, tanh_c, dpre):
    """``cell_backward`` reading and writing the loop's buffers, as the fast cells do."""
    i, f, g, o = np.split(gates, 4, axis=1)
    dpre[...], dc[...] = cell_backward(dh_next + dh_above, dc, i, f, g, o, c_prev, tanh_c)


def _cells(backend: str) -> tuple:
    """(forward cell, backward cell) of a resolved backend."""
    if backend == "reference":
        return _reference_cell_forward, _reference_cell_backward
    if backend == "numba":
        return kernels.cell_forward_numba, kernels.cell_backward_numba
    return kernels.cell_forward_numpy, kernels.cell_backward_numpy
