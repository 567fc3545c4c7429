"""Where the speed lives: the fast LSTM loops, BLAS threads, memory, compiled loops.

``lstm_np.lstm`` is the reading copy and the "reference" backend: plain
NumPy in the course's notation.  The "numpy" and "numba" backends run the
same arithmetic here, faster, and the tests hold them equal to the reading
copy (1e-10 in float64, 1e-5 in float32):

* ``forward_time_major`` / ``backward_time_major``: the loop over time.
  The input term x<t> W_x + b of every step is one product (or, for token
  ids, one gather from the biased table, ``input_projection``) before the
  loop; inside it each step writes into preallocated buffers, and after the
  backward loop dW is one product over all steps.
* ``cell_forward_numpy`` / ``cell_backward_numpy``: the gate math of one
  step in NumPy, writing into those buffers (``out=``) so that a step
  allocates nothing, and with every sigmoid taken through tanh
  (``squash_gates``): one vectorised tanh for all four gates.
* ``cell_forward_numba`` / ``cell_backward_numba``: the same in one
  compiled pass.  NumPy evaluates those lines as a dozen separate passes
  over small arrays, each with its own temporary; the kernels do one pass.
  The forward kernel's tanh is ``fast_tanh``, built from +, *, / only, so
  that its loops vectorise (Numba's own tanh is a libm call per element and
  was 5x slower than NumPy's SIMD tanh; see the comment at ``_tanh64``).
* ``scatter_rows``: the backward of the token-id gather, dW_x[id] += da.
  ``np.add.at`` does the same but slower.
* ``generate`` / ``generate_segments``: the whole token-by-token generation
  loop, where NumPy's per-call overhead dominates the arithmetic.

Around them: ``blas_threads_for`` keeps small products on one BLAS thread,
and ``tune_malloc_for_training`` (an opt-in for training programs) keeps
glibc from handing freed buffers back to the OS.

Choosing a path: ``resolve_backend(None)`` gives "numba" unless the
environment variable JAZZ_LSTM_NUMBA is "0" or numba cannot be imported, in
which case the fast NumPy path is used without complaint.  Compiled code is
cached on disk (``cache=True``), so only the first run pays for compiling.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import sys
from dataclasses import dataclass

import numpy as np

try:
    import numba
except ImportError:  # the NumPy path needs nothing more
    numba = None
try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # then BLAS keeps its own thread count
    ThreadpoolController = None

# Below this many multiply-adds a product is faster on one BLAS thread.
# OpenBLAS splits (58, 128) @ (128, 512) (3.8 M) over both cores, and then
# every step of the recurrence pays a thread handoff; its idle workers also
# spin for a while after each call, taking the second core from whoever
# runs next.  With the machine shared, the split step took 0.3-24 ms instead
# of 88 us on one thread; (64, 512) @ (512, 2048) (67 M) does gain from two.
SINGLE_THREAD_MACS = 1 << 24

BACKENDS = ("reference", "numpy", "numba")


def numba_available() -> bool:
    return numba is not None


def resolve_backend(backend=None) -> str:
    """"reference", "numpy" or "numba": the one asked for, or the default."""
    if backend is None:
        wanted = os.environ.get("JAZZ_LSTM_NUMBA", "1").strip() != "0"
        return "numba" if wanted and numba is not None else "numpy"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numba" and numba is None:
        raise RuntimeError("the numba backend was asked for but numba is not installed")
    return backend


@functools.cache
def _threadpools():
    return ThreadpoolController()


def blas_threads_for(macs: int):
    """A context in which BLAS runs products of ``macs`` multiply-adds well:
    on one thread when they are small, else as BLAS likes."""
    if ThreadpoolController is None or macs >= SINGLE_THREAD_MACS:
        return contextlib.nullcontext()
    return _threadpools().limit(limits=1, user_api="blas")


@functools.cache
def tune_malloc_for_training() -> bool:
    """Have glibc keep freed memory for reuse rather than hand it back to the OS.

    A training step allocates and frees the same megabyte-sized arrays batch
    after batch.  By default glibc returns such blocks to the kernel, so each
    new one comes back as fresh pages, and on this (virtualised) machine the
    page faults cost more than the arithmetic: at the course preset a
    1.8 MB broadcast add took 2.4 ms against 0.17 ms into a reused buffer,
    and one training step 8.3 ms against 5.9 ms with the thresholds below.
    Process-wide and permanent, so it is the calling program's choice (a
    training command calls it once; a library import never does).  Skipped
    off glibc or when the user set MALLOC_TRIM_THRESHOLD_ /
    MALLOC_MMAP_THRESHOLD_.  Returns whether the settings were applied.
    """
    if not sys.platform.startswith("linux") or any(
            name in os.environ for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # 32 MiB is glibc's largest mmap threshold; blocks above it still map.
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20) and mallopt(M_TRIM_THRESHOLD, 512 << 20))


def _jit(function):
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True)(function)


# ----- a tanh that vectorises ---------------------------------------------
# Numba's tanh is a call into libm per element (~15 ns), which also stops
# LLVM from vectorising the loop around it; NumPy's own tanh is SIMD.  These
# use only +, *, / and comparisons, so a loop over them compiles to AVX
# code.  Method: tanh(y) = expm1(2y) / (expm1(2y) + 2); expm1(2|y|) comes from
# a Taylor series of expm1 at 2|y| / 2^k, doubled k times by
# expm1(2r) = expm1(r) (2 + expm1(r)), which keeps small values accurate.
# Measured against np.tanh: relative error below 2e-15 in float64 and 2e-6
# in float32 (the tests compare the two paths at 1e-10 and 1e-5).

def _tanh64(x):
    magnitude = min(abs(x), 20.0)          # tanh(20) rounds to 1 in float64
    r = magnitude * (2.0 / 128.0)          # 2|x| / 2^7 <= 0.3125
    # expm1(r) by its Taylor series to r^12 (error < 1e-16), in Horner form
    series = 1.0 / 479001600.0
    series = series * r + 1.0 / 39916800.0
    series = series * r + 1.0 / 3628800.0
    series = series * r + 1.0 / 362880.0
    series = series * r + 1.0 / 40320.0
    series = series * r + 1.0 / 5040.0
    series = series * r + 1.0 / 720.0
    series = series * r + 1.0 / 120.0
    series = series * r + 1.0 / 24.0
    series = series * r + 1.0 / 6.0
    series = series * r + 0.5
    series = series * r + 1.0
    e = series * r
    e = e * (2.0 + e)                      # seven doublings: expm1(2|x|)
    e = e * (2.0 + e)
    e = e * (2.0 + e)
    e = e * (2.0 + e)
    e = e * (2.0 + e)
    e = e * (2.0 + e)
    e = e * (2.0 + e)
    result = e / (e + 2.0)
    return result if x >= 0 else -result


def _tanh32(x):
    magnitude = min(abs(x), np.float32(9.0))     # tanh(9) rounds to 1 in float32
    r = magnitude * np.float32(2.0 / 32.0)       # 2|x| / 2^5 <= 0.5625
    series = np.float32(1.0 / 40320.0)           # expm1(r) to r^8
    series = series * r + np.float32(1.0 / 5040.0)
    series = series * r + np.float32(1.0 / 720.0)
    series = series * r + np.float32(1.0 / 120.0)
    series = series * r + np.float32(1.0 / 24.0)
    series = series * r + np.float32(1.0 / 6.0)
    series = series * r + np.float32(0.5)
    series = series * r + np.float32(1.0)
    e = series * r
    two = np.float32(2.0)
    e = e * (two + e)                            # five doublings: expm1(2|x|)
    e = e * (two + e)
    e = e * (two + e)
    e = e * (two + e)
    e = e * (two + e)
    result = e / (e + two)
    return result if x >= 0 else -result


def fast_tanh(x):
    """tanh that Numba can vectorise (compiled versions chosen by dtype below)."""
    return np.tanh(x)


if numba is not None:
    @numba.extending.overload(fast_tanh)
    def _fast_tanh_for(x):
        if isinstance(x, numba.types.Float) and x.bitwidth == 32:
            return _tanh32
        return _tanh64


def _jit_vector(function):
    """njit for elementwise loops: no division-by-zero checks, whose branches
    would stop vectorisation (a zero divisor gives inf, as in NumPy)."""
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


@_jit_vector
def _cell_forward(pre, recurrent, c_prev, gates, c, tanh_c, h, scale, offset):
    # Every gate is offset + scale * tanh(scale * a): sigmoid(a) = 1/2 + tanh(a/2)/2
    # and the candidate's tanh(a) with scale 1, offset 0; one formula lets a
    # row of all four gates run as one vectorised loop.  Short loops over few
    # arrays: one loop touching all seven arrays defeats LLVM's alias checks.
    m, four_n = pre.shape
    n_a = four_n // 4
    for row in range(m):
        inputs = pre[row]
        hidden_part = recurrent[row]
        gate = gates[row]
        for j in range(four_n):
            activation = inputs[j] + hidden_part[j]
            gate[j] = offset[j] + scale[j] * fast_tanh(scale[j] * activation)
        cell = c[row]
        previous = c_prev[row]
        for j in range(n_a):
            cell[j] = gate[n_a + j] * previous[j] + gate[j] * gate[2 * n_a + j]
        squashed = tanh_c[row]
        for j in range(n_a):
            squashed[j] = fast_tanh(cell[j])
        hidden = h[row]
        for j in range(n_a):
            hidden[j] = gate[3 * n_a + j] * squashed[j]


@_jit_vector
def _cell_backward(dh_next, dh_above, dc, c_prev, gates, tanh_c, dpre, one):
    # ``one`` arrives in the arrays' dtype so that float32 math stays float32.
    m, n_a = dc.shape
    for row in range(m):
        gate = gates[row]
        squashed = tanh_c[row]
        cell_grad = dc[row]
        previous = c_prev[row]
        grad = dpre[row]
        from_next = dh_next[row]
        from_above = dh_above[row]
        for j in range(n_a):
            i = gate[j]
            f = gate[n_a + j]
            g = gate[2 * n_a + j]
            o = gate[3 * n_a + j]
            dh = from_next[j] + from_above[j]
            dc_total = cell_grad[j] + dh * o * (one - squashed[j] * squashed[j])
            grad[j] = dc_total * g * i * (one - i)
            grad[n_a + j] = dc_total * previous[j] * f * (one - f)
            grad[2 * n_a + j] = dc_total * i * (one - g * g)
            grad[3 * n_a + j] = dh * squashed[j] * o * (one - o)
            cell_grad[j] = dc_total * f


@_jit
def _scatter_rows(ids, rows, out):
    for k in range(ids.shape[0]):
        out[ids[k]] += rows[k]


@functools.cache
def _gate_affine(n_a: int, dtype) -> tuple:
    """(scale, offset), each (4 n_a,): 1/2 and 1/2 for the sigmoid gates, 1 and 0 for g.

    sigmoid(a) = 1/2 + tanh(a / 2) / 2, so every gate is
    offset + scale * tanh(scale * a), with one tanh and no exp that could overflow.
    """
    scale = np.full(4 * n_a, 0.5, dtype)
    scale[2 * n_a:3 * n_a] = 1.0
    offset = np.full(4 * n_a, 0.5, dtype)
    offset[2 * n_a:3 * n_a] = 0.0
    return scale, offset


def squash_gates(pre, gates):
    """gates = tanh(pre * [1/2 | 1/2 | 1 | 1/2]): the transcendental half of a step.

    One vectorised tanh over all four gates (NumPy's SIMD tanh is far faster
    than a scalar tanh in a compiled loop); the sigmoid gates are finished by
    the affine map i = 1/2 + tanh(a_i / 2) / 2.  pre, gates: (m, 4 n_a).
    """
    scale, _ = _gate_affine(gates.shape[1] // 4, gates.dtype)
    np.multiply(pre, scale, out=gates)
    np.tanh(gates, out=gates)


def cell_forward_numpy(pre, recurrent, c_prev, gates, c, tanh_c, h):
    """Fast NumPy twin of ``lstm.cell_forward``'s gate math, written into preallocated outputs.

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
    """Fast NumPy twin of ``lstm.cell_backward``'s gate math, in place.

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


def cell_forward_numba(pre, recurrent, c_prev, gates, c, tanh_c, h):
    """Compiled twin of ``cell_forward_numpy`` (same arguments), in one pass."""
    _cell_forward(pre, recurrent, c_prev, gates, c, tanh_c, h,
                  *_gate_affine(c.shape[1], c.dtype))


def cell_backward_numba(dh_next, dh_above, dc, c_prev, gates, tanh_c, dpre):
    """Compiled twin of ``cell_backward_numpy`` (same arguments)."""
    _cell_backward(dh_next, dh_above, dc, c_prev, gates, tanh_c, dpre, dc.dtype.type(1.0))


def scatter_rows(ids, rows, n_rows, backend):
    """out[ids[k]] += rows[k] for every k, into a zero (n_rows, width) array.

    ids (N,) integers in [0, n_rows); rows (N, width).
    """
    out = np.zeros((n_rows, rows.shape[1]), rows.dtype)
    if backend == "numba":
        _scatter_rows(np.ascontiguousarray(ids, dtype=np.int64), rows, out)
    else:
        np.add.at(out, ids, rows)
    return out


# ----- the loop over time, fast ---------------------------------------------
def input_projection(inputs, W_x, b, features=None):
    """x<t> W_x + b for every step at once, time-major.

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
    """What the fast backward needs from the fast forward (time-major arrays)."""

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
    """Fast twin of ``lstm.forward_time_major`` (same arguments and results), on the
    "numpy" or "numba" cells; backend None picks the default (``resolve_backend``)."""
    backend = resolve_backend(backend)
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
    with blas_threads_for(m * n_a * 4 * n_a):
        for t in range(T):
            np.matmul(h_prev, W_h, out=recurrent)   # a_t = (x_t W_x + b) + h_(t-1) W_h
            cell(pre[t], recurrent, c_prev, gates[t], cs[t], tanh_cs[t], hs[t])
            h_prev, c_prev = hs[t], cs[t]
    cache = Cache(inputs, features, W, h0, c0, hs, cs, tanh_cs, gates, backend)
    return hs, (hs[-1], cs[-1]), cache


def backward_time_major(dhs, dhT, dcT, cache: Cache, input_grad: bool = True):
    """Fast twin of ``lstm.backward_time_major`` (same arguments and results)."""
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
    with blas_threads_for(m * n_a * 4 * n_a):
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
        dW[:token_rows] = scatter_rows(inputs.reshape(-1), dpre_rows, token_rows, cache.backend)
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


def _cells(backend: str) -> tuple:
    """(forward cell, backward cell) of a resolved fast backend."""
    if backend == "numba":
        return cell_forward_numba, cell_backward_numba
    return cell_forward_numpy, cell_backward_numpy


# ----- generation: the whole token loop compiled --------------------------
@_jit
def _tanh(x):
    # Numba's scalar tanh costs ~15 ns; one exp (~5 ns) in float64 keeps the
    # result within a rounding of NumPy's tanh for float32 and float64 alike.
    # fast_tanh pays off only in vectorised loops: here, one element at a
    # time, it made sampling slower (6.9 against 4.1 us per token).
    return 1.0 - 2.0 / (np.exp(2.0 * np.float64(x)) + 1.0)


@_jit
def _lstm_step(W, b, x_token, x, h, c, rec, pre):
    """One LSTM step for one sequence, in place on h and c (n_a,).

    W's input rows are [token rows | dense rows], the dense rows being the
    last len(x) input rows: the input term is W[x_token] (when x_token >= 0)
    plus x W[dense rows].  Layer 0 passes its token and its feature row
    (empty without features); a layer above passes x_token = -1 and the h
    below.  rec, pre: (4 n_a,) scratch.
    """
    n_a = h.shape[0]
    first_dense = W.shape[0] - n_a - x.shape[0]
    width = W.shape[1]
    rec[:] = 0.0
    for k in range(n_a):
        weight = h[k]
        for j in range(width):
            rec[j] += weight * W[first_dense + x.shape[0] + k, j]
    pre[:] = 0.0
    for k in range(x.shape[0]):
        weight = x[k]
        for j in range(width):
            pre[j] += weight * W[first_dense + k, j]
    # Summed in the NumPy path's order, (W[token] + b) + x W_dense, so that
    # both paths round alike.
    if x_token >= 0:
        for j in range(width):
            pre[j] = (W[x_token, j] + b[j]) + pre[j]
    else:
        for j in range(width):
            pre[j] += b[j]
    for j in range(n_a):
        i = 0.5 + 0.5 * _tanh(0.5 * (pre[j] + rec[j]))
        f = 0.5 + 0.5 * _tanh(0.5 * (pre[n_a + j] + rec[n_a + j]))
        g = _tanh(pre[2 * n_a + j] + rec[2 * n_a + j])
        o = 0.5 + 0.5 * _tanh(0.5 * (pre[3 * n_a + j] + rec[3 * n_a + j]))
        c[j] = f * c[j] + i * g
        h[j] = o * _tanh(c[j])


@_jit
def _affine(x, W, b, out):
    out[:] = 0.0
    for k in range(x.shape[0]):
        weight = x[k]
        for j in range(out.shape[0]):
            out[j] += weight * W[k, j]
    for j in range(out.shape[0]):
        out[j] += b[j]


@_jit
def _choose_token(logits, u, temperature, top_k, allowed, keep, scaled, chosen):
    """Compiled twin of ``generate.choose_tokens`` for one row (float64 math);
    keep (V,) booleans, all False for none."""
    V = logits.shape[0]
    if temperature == 0:
        best = -1
        for j in range(V):
            if allowed[j] and (best < 0 or logits[j] > logits[best]):
                best = j
        return best
    for j in range(V):
        scaled[j] = logits[j] / temperature if allowed[j] else -np.inf
    if 0 < top_k < V:
        # Keep the top_k largest, ties going to the lower id, as a stable
        # argsort of -scaled would.
        chosen[:] = False
        for _ in range(top_k):
            best = -1
            for j in range(V):
                if not chosen[j] and (best < 0 or scaled[j] > scaled[best]):
                    best = j
            chosen[best] = True
        for j in range(V):
            if not chosen[j]:
                scaled[j] = -np.inf
    any_kept = False
    for j in range(V):
        if keep[j] and scaled[j] > -np.inf:
            any_kept = True
    if any_kept:
        return _pick_kept(logits, u, keep, scaled)
    largest = scaled.max()
    total = 0.0
    for j in range(V):
        total += np.exp(scaled[j] - largest)
    log_total = np.log(total)
    for j in range(V):
        scaled[j] = np.exp(scaled[j] - largest - log_total)
    return _inverse_cdf(scaled, u)


@_jit
def _inverse_cdf(probabilities, u):
    """The draw for uniform u from per-token probabilities (overwritten with their
    running sum): the first token whose cumulative probability exceeds u * total,
    never past the last token with any probability."""
    cumulative = 0.0
    last_possible = 0
    for j in range(probabilities.shape[0]):
        if probabilities[j] > 0:
            last_possible = j
        cumulative += probabilities[j]
        probabilities[j] = cumulative
    threshold = u * cumulative
    # Counted like the NumPy twin, (cumulative <= threshold).sum().
    picks = 0
    for j in range(probabilities.shape[0]):
        if probabilities[j] <= threshold:
            picks += 1
    return min(picks, last_possible)


@_jit
def _pick_kept(logits, u, keep, scaled):
    """``_choose_token``'s draw when some candidate (scaled > -inf) is kept:
    kept candidates at their softmax(logits) probability over the candidates,
    the others sharing what is left as softmax(scaled) among themselves
    (``generate``'s module docstring)."""
    V = logits.shape[0]
    largest, largest_other = -np.inf, -np.inf
    for j in range(V):
        if scaled[j] > -np.inf:
            largest = max(largest, logits[j])
            if not keep[j]:
                largest_other = max(largest_other, scaled[j])
    total, total_other = 0.0, 0.0
    for j in range(V):
        if scaled[j] > -np.inf:
            total += np.exp(logits[j] - largest)
            if not keep[j]:
                total_other += np.exp(scaled[j] - largest_other)
    log_total, log_total_other = np.log(total), np.log(total_other)
    mass = 0.0
    for j in range(V):
        if keep[j] and scaled[j] > -np.inf:
            mass += np.exp(logits[j] - largest - log_total)
    for j in range(V):
        probability = 0.0
        if scaled[j] > -np.inf:
            if keep[j]:
                probability = np.exp(logits[j] - largest - log_total)
            else:
                probability = (1.0 - mass) * np.exp(scaled[j] - largest_other - log_total_other)
        scaled[j] = probability
    return _inverse_cdf(scaled, u)


@_jit
def _feed(Ws, bs, token, features, h, c, rec, pre):
    """Run one input (a token and its feature row) up through every layer."""
    _lstm_step(Ws[0], bs[0], token, features, h[0], c[0], rec, pre)
    for layer in range(1, len(Ws)):
        _lstm_step(Ws[layer], bs[layer], -1, h[layer - 1], h[layer], c[layer], rec, pre)


@_jit
def _logits(top, hidden_W, hidden_b, out_W, out_b, hidden, logits, logits64):
    """The head on the top layer's h: (Dense + ReLU) -> Dense, into logits64 (float64)."""
    features = top
    if hidden_W.shape[1] > 0:
        _affine(top, hidden_W, hidden_b, hidden)
        for j in range(hidden.shape[0]):
            hidden[j] = max(hidden[j], 0.0)
        features = hidden
    _affine(features, out_W, out_b, logits)
    for j in range(logits.shape[0]):
        logits64[j] = logits[j]


@_jit
def _buffers(Ws, hidden_W, out_W):
    """Scratch for one sequence: h, c (layers, n_a); rec, pre (4 n_a,);
    hidden (dense_size,); logits (V,) in the weights' dtype and logits64 in
    float64; scaled, chosen, allowed (V,) for ``_choose_token``."""
    n_a = Ws[0].shape[1] // 4
    V = out_W.shape[1]
    dtype = out_W.dtype
    return (np.zeros((len(Ws), n_a), dtype), np.zeros((len(Ws), n_a), dtype),
            np.empty(4 * n_a, dtype), np.empty(4 * n_a, dtype),
            np.empty(hidden_W.shape[1], dtype), np.empty(V, dtype), np.empty(V, np.float64),
            np.empty(V, np.float64), np.empty(V, np.bool_), np.ones(V, np.bool_))


@_jit
def _prime(Ws, bs, primer, primer_features, h, c, rec, pre):
    """Prime: zero the state, then feed all but the primer's last token (primer (P,),
    features (P, F))."""
    h[:] = 0.0
    c[:] = 0.0
    for step in range(primer.shape[0] - 1):
        _feed(Ws, bs, primer[step], primer_features[step], h, c, rec, pre)


@_jit
def _generate(Ws, bs, hidden_W, hidden_b, out_W, out_b, primer, primer_features,
              step_features, uniforms, temperature, top_k, keep, generated):
    batch, primer_length = primer.shape
    length = generated.shape[1]
    layers = len(Ws)
    h, c, rec, pre, hidden, logits, logits64, scaled, chosen, allowed = _buffers(Ws, hidden_W,
                                                                                 out_W)
    for row in range(batch):
        _prime(Ws, bs, primer[row], primer_features[row], h, c, rec, pre)
        token = primer[row, primer_length - 1]
        features = primer_features[row, primer_length - 1]
        for out in range(length):
            _feed(Ws, bs, token, features, h, c, rec, pre)
            _logits(h[layers - 1], hidden_W, hidden_b, out_W, out_b, hidden, logits, logits64)
            token = _choose_token(logits64, uniforms[out, row], temperature, top_k, allowed,
                                  keep, scaled, chosen)
            generated[row, out] = token
            features = step_features[row, out]


@_jit
def _generate_segments(Ws, bs, hidden_W, hidden_b, out_W, out_b, primer, primer_features,
                       uniforms, temperature, top_k, keep, token_costs, budgets, reset_token,
                       step_features, generated, failure):
    """Compiled twin of ``generate.generate_segments``'s NumPy loop, one sequence.

    Returns how many ids it wrote into ``generated``, or -1 when no token
    fits a remaining budget, with failure = [segment, remaining budget].
    """
    layers = len(Ws)
    V = out_W.shape[1]
    h, c, rec, pre, hidden, logits, logits64, scaled, chosen, allowed = _buffers(Ws, hidden_W,
                                                                                 out_W)
    primer_length = primer.shape[0]
    _prime(Ws, bs, primer, primer_features, h, c, rec, pre)
    token = primer[primer_length - 1]
    features = primer_features[primer_length - 1]
    count = 0
    draws = 0
    segments = budgets.shape[0]
    for segment in range(segments):
        budget = budgets[segment]
        used = 0
        while used < budget:
            _feed(Ws, bs, token, features, h, c, rec, pre)
            _logits(h[layers - 1], hidden_W, hidden_b, out_W, out_b, hidden, logits, logits64)
            remaining = budget - used
            fits = False
            for j in range(V):
                allowed[j] = 0 < token_costs[j] <= remaining
                fits = fits or allowed[j]
            if not fits:
                failure[0] = segment
                failure[1] = remaining
                return -1
            token = _choose_token(logits64, uniforms[draws], temperature, top_k, allowed,
                                  keep, scaled, chosen)
            draws += 1
            used += token_costs[token]
            generated[count] = token
            count += 1
            features = step_features[segment, used]
        generated[count] = reset_token
        count += 1
        if segment + 1 < segments:
            # The model hears the segment's last token, then the forced reset.
            _feed(Ws, bs, token, features, h, c, rec, pre)
            token = reset_token
            features = step_features[segment + 1, 0]
    return count


def _compiled_weights(params, head, num_layers):
    """(Ws, bs, hidden_W, hidden_b, out_W, out_b) as the compiled loops take them."""
    Ws = tuple(params[f"lstm{layer}.W"] for layer in range(num_layers))
    bs = tuple(params[f"lstm{layer}.b"] for layer in range(num_layers))
    dtype = Ws[0].dtype
    hidden_W = head.get("hidden.W", np.zeros((Ws[0].shape[1] // 4, 0), dtype))
    hidden_b = head.get("hidden.b", np.zeros(0, dtype))
    return Ws, bs, hidden_W, hidden_b, head["out.W"], head["out.b"]


def _feature_rows(features, leading_shape, dtype):
    """features as a C array in dtype, or an empty (*leading_shape, 0) one when None."""
    if features is None:
        return np.zeros(tuple(leading_shape) + (0,), dtype)
    return np.ascontiguousarray(features, dtype=dtype)


def _keep_mask(keep, vocab_size):
    """keep as a C array of (V,) booleans; all False for None (one compiled signature)."""
    if keep is None:
        return np.zeros(vocab_size, np.bool_)
    return np.ascontiguousarray(keep, dtype=np.bool_)


def generate(params, head, num_layers, primer, uniforms, temperature, top_k,
             primer_features=None, step_features=None, keep=None):
    """Compiled twin of ``generate.generate``'s NumPy loop: same tokens.

    params: a ``SequenceModel``'s parameter dict; head: its dense head with
    any BatchNorm folded in (``layers.head_without_batch_norm``);
    primer (B, P) ids; uniforms (length, B) the draws; primer_features
    (B, P, F) and step_features (B, length, F), or None without features;
    keep (V,) booleans or None, the tokens whose untempered probability is kept.
    Returns the ids (B, length).
    """
    weights = _compiled_weights(params, head, num_layers)
    dtype = weights[0][0].dtype
    batch, length = primer.shape[0], uniforms.shape[0]
    generated = np.empty((batch, length), np.int64)
    _generate(*weights, np.ascontiguousarray(primer, dtype=np.int64),
              _feature_rows(primer_features, primer.shape, dtype),
              _feature_rows(step_features, (batch, length), dtype), uniforms,
              float(temperature), int(top_k), _keep_mask(keep, weights[4].shape[1]), generated)
    return generated


def generate_segments(params, head, num_layers, primer, uniforms, temperature, top_k,
                      token_costs, budgets, reset_token, primer_features=None,
                      step_features=None, keep=None):
    """Compiled twin of ``generate.generate_segments``'s NumPy loop: same ids.

    As ``generate`` for one sequence: primer (P,) ids, primer_features
    (P, F) or None; uniforms (sum(budgets),) the draws; token_costs (V,),
    budgets (S,), step_features (S, max(budgets) + 1, F) or None; keep as
    for ``generate``.
    Returns (ids with the forced resets, None), or (None, (segment,
    remaining budget)) when no token fits a remaining budget.
    """
    weights = _compiled_weights(params, head, num_layers)
    dtype = weights[0][0].dtype
    budgets = np.ascontiguousarray(budgets, dtype=np.int64)
    generated = np.empty(int(budgets.sum()) + len(budgets), np.int64)
    failure = np.zeros(2, np.int64)
    count = _generate_segments(
        *weights, np.ascontiguousarray(primer, dtype=np.int64),
        _feature_rows(primer_features, primer.shape, dtype), uniforms, float(temperature),
        int(top_k), _keep_mask(keep, weights[4].shape[1]),
        np.ascontiguousarray(token_costs, dtype=np.int64), budgets, int(reset_token),
        _feature_rows(step_features, (len(budgets), int(budgets.max()) + 1), dtype),
        generated, failure)
    if count < 0:
        return None, (int(failure[0]), int(failure[1]))
    return generated[:count], None
