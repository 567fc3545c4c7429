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

Inside the package arrays are time-major, (T, m, .), so that the slice of one
step is contiguous; ``forward`` and ``backward`` take and return batch-major
arrays, (m, T, .), as the rest of the world expects.  The elementwise gate
math of one step runs either here in NumPy or fused in a Numba kernel
(``lstm_np.kernels``); both give the same numbers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from lstm_np import kernels


@functools.lru_cache(maxsize=None)
def _gate_scale(n_a: int, dtype) -> np.ndarray:
    """[1/2 ... | 1/2 ... | 1 ... | 1/2 ...]: sigmoid(x) = 1/2 + tanh(x/2)/2."""
    scale = np.full(4 * n_a, 0.5, dtype)
    scale[2 * n_a:3 * n_a] = 1.0
    return scale


def squash_gates(pre, gates):
    """gates = tanh(pre * [1/2 | 1/2 | 1 | 1/2]): the transcendental half of a step.

    One vectorised tanh over all four gates (NumPy's SIMD tanh is far faster
    than a scalar tanh in a compiled loop); the sigmoid gates are finished by
    an affine map, i = 1/2 + tanh(a_i / 2) / 2, which also never overflows.
    pre, gates: (m, 4 n_a).
    """
    np.multiply(pre, _gate_scale(gates.shape[1] // 4, gates.dtype), out=gates)
    np.tanh(gates, out=gates)


def cell_forward_numpy(pre, recurrent, c_prev, gates, c, tanh_c, h):
    """One step's gate math, written into the preallocated outputs.

    pre (m, 4 n_a) the input part x_t W_x + b, recurrent (m, 4 n_a) the part
    h_(t-1) W_h: a_t is their sum; c_prev (m, n_a);
    outputs: gates (m, 4 n_a) activated [i|f|g|o], c, tanh_c, h (m, n_a).
    """
    n_a = c_prev.shape[1]
    squash_gates(pre + recurrent, gates)
    i = gates[:, :n_a]
    f = gates[:, n_a:2 * n_a]
    g = gates[:, 2 * n_a:3 * n_a]
    o = gates[:, 3 * n_a:]
    for sigmoid_gate in (i, f, o):
        sigmoid_gate *= 0.5
        sigmoid_gate += 0.5
    np.multiply(f, c_prev, out=c)
    c += i * g                                   # c_t = f * c_(t-1) + i * g
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)                # h_t = o * tanh(c_t)


def cell_backward_numpy(dh_next, dh_above, dc, c_prev, gates, tanh_c, dpre):
    """One step's gate derivatives.

    The gradient reaching h_t is dh_next (from step t+1) + dh_above (from
    the layer's output), each (m, n_a); dc (m, n_a) gradient reaching c_t
    from step t+1, overwritten with dc_(t-1); dpre (m, 4 n_a) receives da_t.
    """
    n_a = dc.shape[1]
    dh = dh_next + dh_above
    i = gates[:, :n_a]
    f = gates[:, n_a:2 * n_a]
    g = gates[:, 2 * n_a:3 * n_a]
    o = gates[:, 3 * n_a:]
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    dpre[:, :n_a] = dc_total * g * i * (1.0 - i)                # di * sigmoid'
    dpre[:, n_a:2 * n_a] = dc_total * c_prev * f * (1.0 - f)    # df * sigmoid'
    dpre[:, 2 * n_a:3 * n_a] = dc_total * i * (1.0 - g * g)     # dg * tanh'
    dpre[:, 3 * n_a:] = dh * tanh_c * o * (1.0 - o)             # do * sigmoid'
    dc[...] = dc_total * f


def input_projection(inputs, W_x, b):
    """x_t W_x + b for every step at once, time-major.

    inputs: float (T, m, n_x), or integer token ids (T, m) whose one-hot
    product is the row gather W_x[ids].  Returns (T, m, 4 n_a).
    """
    if inputs.dtype.kind in "iu":
        # Bias the (n_x, 4 n_a) table, not the (T, m, 4 n_a) result: the same
        # sums, one pass over a small array and one large array fewer.
        return np.take(W_x + b, inputs, axis=0)
    T, m, n_x = inputs.shape
    return (inputs.reshape(T * m, n_x) @ W_x + b).reshape(T, m, -1)


@dataclass
class Cache:
    """What backward needs from forward (time-major arrays)."""

    inputs: np.ndarray      # (T, m, n_x) floats or (T, m) token ids
    W: np.ndarray           # (n_x + n_a, 4 n_a)
    h0: np.ndarray          # (m, n_a)
    c0: np.ndarray          # (m, n_a)
    hs: np.ndarray          # (T, m, n_a)
    cs: np.ndarray          # (T, m, n_a)
    tanh_cs: np.ndarray     # (T, m, n_a)
    gates: np.ndarray       # (T, m, 4 n_a), activated [i|f|g|o]
    backend: str


def forward_time_major(inputs, h0, c0, W, b, backend: Optional[str] = None):
    """The LSTM over a whole sequence, time-major.

    inputs (T, m, n_x) or ids (T, m); h0, c0 (m, n_a); W (n_x + n_a, 4 n_a);
    b (4 n_a,).  Returns hs (T, m, n_a), (h_T, c_T), cache.
    """
    backend = kernels.resolve_backend(backend)
    n_a = h0.shape[1]
    n_x = W.shape[0] - n_a
    W_x, W_h = W[:n_x], W[n_x:]
    pre = input_projection(inputs, W_x, b)           # (T, m, 4 n_a), filled per step below
    T, m = pre.shape[:2]
    dtype = W.dtype
    hs = np.empty((T, m, n_a), dtype)
    cs = np.empty((T, m, n_a), dtype)
    tanh_cs = np.empty((T, m, n_a), dtype)
    gates = np.empty((T, m, 4 * n_a), dtype)
    recurrent = np.empty((m, 4 * n_a), dtype)
    cell = kernels.cell_forward if backend == "numba" else cell_forward_numpy
    h_prev, c_prev = h0, c0
    with kernels.blas_threads_for(m * n_a * 4 * n_a):
        for t in range(T):
            np.matmul(h_prev, W_h, out=recurrent)   # a_t = (x_t W_x + b) + h_(t-1) W_h
            cell(pre[t], recurrent, c_prev, gates[t], cs[t], tanh_cs[t], hs[t])
            h_prev, c_prev = hs[t], cs[t]
    cache = Cache(inputs, W, h0, c0, hs, cs, tanh_cs, gates, backend)
    return hs, (hs[-1], cs[-1]), cache


def backward_time_major(dhs, dhT, dcT, cache: Cache):
    """Backpropagation through time, time-major.

    dhs (T, m, n_a) gradient of the loss w.r.t. every h_t coming from above;
    dhT, dcT (m, n_a) gradients w.r.t. the final state (or None for zero).
    Returns dinputs (T, m, n_x) or None for token ids, dh0, dc0 (m, n_a),
    dW (n_x + n_a, 4 n_a), db (4 n_a,).
    """
    hs, cs, gates, W = cache.hs, cache.cs, cache.gates, cache.W
    T, m, n_a = hs.shape
    n_x = W.shape[0] - n_a
    W_x, W_h = W[:n_x], W[n_x:]
    dtype = W.dtype
    dh = np.zeros((m, n_a), dtype) if dhT is None else np.array(dhT, dtype=dtype)
    dc = np.zeros((m, n_a), dtype) if dcT is None else np.array(dcT, dtype=dtype)
    dpre = np.empty((T, m, 4 * n_a), dtype)
    cell = kernels.cell_backward if cache.backend == "numba" else cell_backward_numpy
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
    inputs = cache.inputs
    if inputs.dtype.kind in "iu":
        dW[:n_x] = kernels.scatter_rows(inputs.reshape(-1), dpre_rows, n_x, cache.backend)
        dinputs = None
    else:
        dW[:n_x] = inputs.reshape(T * m, n_x).T @ dpre_rows
        dinputs = (dpre_rows @ W_x.T).reshape(T, m, n_x)
    return dinputs, dh, dc, dW, db


def forward(x, h0, c0, W, b, backend: Optional[str] = None):
    """The LSTM over a whole sequence, batch-major.

    x  : (m, T, n_x) floats, or (m, T) integer token ids
    h0 : (m, n_a)  initial hidden state     c0 : (m, n_a)  initial cell state
    W  : (n_x + n_a, 4 n_a)                 b  : (4 n_a,)
    backend: "numpy", "numba" or None (the default: Numba unless
    JAZZ_LSTM_NUMBA=0 or numba is missing).

    Returns hs (m, T, n_a), (h_T, c_T) each (m, n_a), and the cache for
    ``backward``.
    """
    inputs = np.swapaxes(x, 0, 1)
    inputs = np.ascontiguousarray(inputs)
    hs, final_state, cache = forward_time_major(inputs, h0, c0, W, b, backend)
    return np.swapaxes(hs, 0, 1), final_state, cache


def backward(dhs, dhT, dcT, cache: Cache):
    """Backpropagation through time, batch-major.

    dhs : (m, T, n_a) gradient w.r.t. every hidden output
    dhT, dcT : (m, n_a) gradients w.r.t. the final state (None for zero)

    Returns dx (m, T, n_x) (None when the input was token ids), dh0 (m, n_a),
    dc0 (m, n_a), dW (n_x + n_a, 4 n_a), db (4 n_a,).
    """
    dhs_time_major = np.ascontiguousarray(np.swapaxes(dhs, 0, 1))
    dinputs, dh0, dc0, dW, db = backward_time_major(dhs_time_major, dhT, dcT, cache)
    dx = None if dinputs is None else np.swapaxes(dinputs, 0, 1)
    return dx, dh0, dc0, dW, db
