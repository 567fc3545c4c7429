r"""The LSTM layer in the course's notation: one cell, forward and backward, and the loop over time.

The "reference" backend trains with this file as written; the "numpy" and
"numba" backends run faster twins (``lstm_np.kernels``), tested equal to it.

One step, for a batch of m examples (the course's LSTM cell)::

    z    = [x<t>, a<t-1>] W + b          the gates' pre-activations, (m, 4 n_a)
    Γ_u  = σ(z_u)                         update gate        it
    Γ_f  = σ(z_f)                         forget gate        ft
    c̃    = tanh(z_c)                      candidate memory   cct
    Γ_o  = σ(z_o)                         output gate        ot
    c<t> = Γ_f * c<t-1> + Γ_u * c̃          memory cell        c_next
    a<t> = Γ_o * tanh(c<t>)                hidden state       a_next

Backward, given da<t> (from the output above and from step t+1) and dc<t>
(from step t+1)::

    dΓ_o = da<t> * tanh(c<t>)
    dc   = dc<t> + da<t> * Γ_o * (1 - tanh(c<t>)^2)
    dΓ_u = dc * c̃     dΓ_f = dc * c<t-1>     dc̃ = dc * Γ_u
    dz   = [dΓ_u Γ_u (1 - Γ_u) | dΓ_f Γ_f (1 - Γ_f) | dc̃ (1 - c̃^2) | dΓ_o Γ_o (1 - Γ_o)]
    da<t-1> = dz W_a^T        dc<t-1> = dc * Γ_f
    dW_a += a<t-1>^T dz       dW_x += x<t>^T dz       db += dz summed over the batch

From the course to this code:

    course                              here
    x<t>  (n_x, m)                      x[t] (m, n_x), or token ids (m,) standing for one-hot rows
    a<t>, c<t>  (n_a, m)                a[t], c[t]  (m, n_a)
    Γ_u, Γ_f, c̃, Γ_o                    it, ft, cct, ot  (Keras and PyTorch: i, f, g, o)
    W_u, W_f, W_c, W_o  (n_a, n_a+n_x)  one W (n_x + n_a, 4 n_a) on [x<t>, a<t-1>]: rows
      on [a<t-1>; x<t>]                   W_x = W[:n_x], W_a = W[n_x:]; columns [u | f | c | o],
                                          so W_f = [W_a[:, f]; W_x[:, f]]^T, f = n_a:2 n_a
    b_u, b_f, b_c, b_o  (n_a, 1)        b (4 n_a,), the same column blocks
    W_y, b_y, ŷ = softmax(W_y a + b_y)  out.W, out.b and the softmax in ``lstm_np.model``

Examples are rows here, so the course's W x is x W: the same numbers,
transposed; the four gate matrices are one W, so z is one product a step.
Arrays are time-major, (T, m, .); ``forward`` and ``backward`` at the
bottom take and give batch-major (m, T, .) ones.

Token ids: when x<t> is one-hot, x<t> W_x is the row W_x[id] (a lookup,
Keras's Embedding), and x<t>^T dz adds dz's rows into the rows of W_x
those ids name.  Features (the chords the exact grammar's model hears):
x<t> = [onehot(id), f<t>], so W_x's last F rows act on the F features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_np import kernels


def sigmoid(z):
    """σ(z) = 1 / (1 + exp(-z))."""
    with np.errstate(over="ignore"):   # exp(-z) = inf for z << 0: 1 / inf = 0, the right limit
        return 1 / (1 + np.exp(-z))


def cell_forward(xW, a_prev, c_prev, W_a, b):
    """One step: xW = x<t> W_x (m, 4 n_a), a_prev = a<t-1>, c_prev = c<t-1> (m, n_a),
    W_a (n_a, 4 n_a), b (4 n_a,).  Returns a_next, c_next and what ``cell_backward`` needs."""
    n_a = a_prev.shape[1]
    z = xW + a_prev @ W_a + b
    it = sigmoid(z[:, :n_a])                   # Γ_u: how much of the candidate to write
    ft = sigmoid(z[:, n_a:2 * n_a])            # Γ_f: how much of the memory to keep
    cct = np.tanh(z[:, 2 * n_a:3 * n_a])       # c̃: what to write
    ot = sigmoid(z[:, 3 * n_a:])               # Γ_o: how much of the memory to show
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    return a_next, c_next, (a_prev, c_prev, it, ft, cct, ot, c_next)


def cell_backward(da_next, dc_next, step, W_a):
    """One step back: da_next, dc_next (m, n_a) the gradients reaching a<t> and c<t>;
    step: ``cell_forward``'s cache.  Returns dz (m, 4 n_a), da_prev and dc_prev."""
    a_prev, c_prev, it, ft, cct, ot, c_next = step
    tanh_c = np.tanh(c_next)
    dot = da_next * tanh_c                              # a<t> = Γ_o * tanh(c<t>)
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)     # ... and c<t> reaches step t+1
    dit = dc * cct                                      # c<t> = Γ_f * c<t-1> + Γ_u * c̃
    dft = dc * c_prev
    dcct = dc * it
    dz = np.concatenate([dit * it * (1 - it),           # σ'(z) = σ(z) (1 - σ(z))
                         dft * ft * (1 - ft),
                         dcct * (1 - cct ** 2),         # tanh'(z) = 1 - tanh(z)^2
                         dot * ot * (1 - ot)], axis=1)
    return dz, dz @ W_a.T, dc * ft


def input_share(x_t, features_t, W_x):
    """x<t> W_x (m, 4 n_a): x_t floats (m, n_x), or token ids (m,) with the features
    (m, F) of the last F rows of W_x, or None."""
    if x_t.dtype.kind not in "iu":
        return x_t @ W_x
    xW = W_x[x_t]                              # one-hot x<t> times W_x: a row per id
    if features_t is not None:
        xW = xW + features_t @ W_x[len(W_x) - features_t.shape[1]:]
    return xW


def input_share_backward(dz, x_t, features_t, W_x, dW_x, input_grad):
    """Adds x<t>^T dz into dW_x; returns dx<t> (floats), d features<t>, or None
    (token ids alone, or not ``input_grad``)."""
    if x_t.dtype.kind not in "iu":
        dW_x += x_t.T @ dz
        return dz @ W_x.T if input_grad else None
    np.add.at(dW_x, x_t, dz)                   # one-hot x<t>: row id gets dz's row
    if features_t is None:
        return None
    feature_rows = slice(len(W_x) - features_t.shape[1], len(W_x))
    dW_x[feature_rows] += features_t.T @ dz
    return dz @ W_x[feature_rows].T if input_grad else None


@dataclass
class Cache:
    """What ``backward_time_major`` needs from ``forward_time_major`` (reference path)."""
    x: np.ndarray                  # (T, m, n_x) floats or (T, m) token ids
    features: np.ndarray | None    # (T, m, F) beside token ids, or None
    W: np.ndarray                  # (n_x + n_a, 4 n_a)
    steps: list                    # every step's ``cell_forward`` cache
    backend: str = "reference"


def forward_time_major(x, a0, c0, W, b, backend: str | None = None, features=None):
    """The LSTM over T steps.  x (T, m, n_x) floats or (T, m) token ids; features None
    or, beside ids, (T, m, F); a0, c0 (m, n_a); W (n_x + n_a, 4 n_a), b (4 n_a,).
    Returns a (T, m, n_a), (a<T>, c<T>), and the cache for ``backward_time_major``.
    backend: "reference" runs the cell above; "numpy", "numba", None: ``kernels``."""
    if backend != "reference":
        return kernels.forward_time_major(x, a0, c0, W, b, backend, features)
    n_x = len(W) - a0.shape[1]
    W_x, W_a = W[:n_x], W[n_x:]
    a_prev, c_prev, a, steps = a0, c0, [], []
    for t in range(len(x)):
        xW = input_share(x[t], None if features is None else features[t], W_x)
        a_prev, c_prev, step = cell_forward(xW, a_prev, c_prev, W_a, b)
        a.append(a_prev)
        steps.append(step)
    return np.stack(a), (a_prev, c_prev), Cache(x, features, W, steps)


def backward_time_major(da, da_T, dc_T, cache, input_grad: bool = True):
    """Backpropagation through time.  da (T, m, n_a): dloss/da<t> from above;
    da_T, dc_T (m, n_a), or None for zero: from the final state; input_grad: False
    skips dx (a first layer has no use for it).  Returns dx (T, m, n_x) for float
    input, (T, m, F) the features' beside token ids, or None; da0, dc0; dW; db."""
    if cache.backend != "reference":
        return kernels.backward_time_major(da, da_T, dc_T, cache, input_grad)
    W = cache.W
    n_x = len(W) - da.shape[2]
    W_x, W_a = W[:n_x], W[n_x:]
    dW, db = np.zeros_like(W), np.zeros(W.shape[1], W.dtype)
    da_next = np.zeros_like(da[0]) if da_T is None else np.array(da_T, W.dtype)
    dc_next = np.zeros_like(da[0]) if dc_T is None else np.array(dc_T, W.dtype)
    dx = [None] * len(da)
    for t in reversed(range(len(da))):
        step = cache.steps[t]
        dz, da_next, dc_next = cell_backward(da_next + da[t], dc_next, step, W_a)
        dW[n_x:] += step[0].T @ dz             # dW_a += a<t-1>^T dz
        db += dz.sum(axis=0)
        features_t = None if cache.features is None else cache.features[t]
        dx[t] = input_share_backward(dz, cache.x[t], features_t, W_x, dW[:n_x], input_grad)
    return (None if dx[0] is None else np.stack(dx)), da_next, dc_next, dW, db


def forward(x, a0, c0, W, b, backend: str | None = None, features=None):
    """``forward_time_major`` on batch-major arrays: x (m, T, n_x) or ids (m, T),
    features (m, T, F).  Returns a (m, T, n_a), (a<T>, c<T>), cache."""
    x = np.ascontiguousarray(np.swapaxes(x, 0, 1))
    if features is not None:
        if x.dtype.kind not in "iu":
            raise ValueError("features go beside token ids; with float inputs put them in x")
        features = np.ascontiguousarray(np.swapaxes(features, 0, 1), dtype=W.dtype)
    a, final_state, cache = forward_time_major(x, a0, c0, W, b, backend, features)
    return np.swapaxes(a, 0, 1), final_state, cache


def backward(da, da_T, dc_T, cache):
    """``backward_time_major`` on batch-major arrays: da (m, T, n_a).
    Returns dx (m, T, .) or None, da0, dc0, dW, db."""
    dx, da0, dc0, dW, db = backward_time_major(np.ascontiguousarray(np.swapaxes(da, 0, 1)),
                                               da_T, dc_T, cache)
    return (None if dx is None else np.swapaxes(dx, 0, 1)), da0, dc0, dW, db
