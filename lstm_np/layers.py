"""The small layers around the LSTM: dense, ReLU, dropout, softmax cross-entropy.

Each forward function sits next to the backward that differentiates it.
Shapes: N rows (batch, or batch x time flattened), D inputs, K outputs,
V classes.
"""
from __future__ import annotations

import numpy as np


def dense_forward(x, W, b):
    """y = x W + b.   x (N, D), W (D, K), b (K,) -> y (N, K)."""
    return x @ W + b


def dense_backward(dy, x, W):
    """dx = dy W^T, dW = x^T dy, db = sum over rows of dy.   dy (N, K)."""
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def relu_forward(x):
    """y = max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward(dy, y):
    """dx = dy where y > 0, else 0 (y is relu_forward's output)."""
    return dy * (y > 0)


def dropout_mask(rng: np.random.Generator, shape, rate: float, dtype):
    """Inverted dropout: keep with probability 1 - rate, scale kept units by 1 / (1 - rate).

    Multiplying by the mask in training and by nothing at inference keeps
    the expected activation the same in both.  Returns an array of ``shape``.
    """
    # float32 draws cost half as much and resolve a rate to 6e-8, plenty here.
    keep = rng.random(shape, dtype=np.float32) >= np.float32(rate)
    return np.multiply(keep, dtype.type(1.0 / (1.0 - rate)), dtype=dtype)


def log_softmax(logits):
    """log p = z - logsumexp(z) along the last axis (max-shifted for stability)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits):
    """p = exp(z) / sum exp(z) along the last axis."""
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits, targets, weights=None):
    """Mean cross-entropy over the counted targets, and its gradient.

    logits (N, V); targets (N,) integer class ids; weights (N,) 1 for a
    counted target, 0 for padding (None: all count).

        loss   = sum_n w_n * -log p_n[y_n] / sum_n w_n
        dlogits = w_n * (p_n - onehot(y_n)) / sum_n w_n

    Returns loss (float), dlogits (N, V), correct (number of counted rows
    whose argmax equals the target), counted (sum of weights).
    """
    rows = np.arange(len(targets))
    log_probs = log_softmax(logits)
    if weights is None:
        weights = np.ones(len(targets), logits.dtype)
    counted = float(weights.sum())
    if counted == 0:
        raise ValueError("softmax_cross_entropy: every target is masked out")
    loss = float(-(weights * log_probs[rows, targets]).sum() / counted)
    dlogits = np.exp(log_probs)
    dlogits[rows, targets] -= 1.0
    dlogits *= (weights / counted).astype(logits.dtype)[:, None]
    correct = float(weights[log_probs.argmax(axis=1) == targets].sum())
    return loss, dlogits, correct, counted
