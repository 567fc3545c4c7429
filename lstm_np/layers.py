"""What the other presets add to the course's model: dropout, BatchNorm, a hidden Dense + ReLU.

deepjazz puts dropout after each of its two LSTMs; the LoFi generator
(``batch_norm``, ``dense_size``) runs its head as

    LSTMs -> BatchNorm -> dropout -> Dense + ReLU -> BatchNorm -> dropout -> the output Dense

``SequenceModel`` calls ``head_extras_forward`` / ``head_extras_backward``
for the part between the LSTMs and the output Dense, and only when the
config has a BatchNorm or a hidden Dense.  BatchNorm uses batch statistics
in training (a dropout_rng is given) and its running statistics otherwise
(``lstm_np.batchnorm``).  Each forward sits next to the backward that
differentiates it.
"""
from __future__ import annotations

import numpy as np

from lstm_np import batchnorm


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


def head_extras_forward(model, rows, dropout_rng):
    """BatchNorm -> dropout -> Dense + ReLU -> BatchNorm -> dropout, those of them the
    model's config has, on the LSTM's output rows (N, n_a).
    Returns the output Dense's input and a cache for ``head_extras_backward``."""
    config, params = model.config, model.params
    training = dropout_rng is not None
    dropping = training and config.dropout > 0
    cache = {"norms": [], "masks": [None, None], "dense_input": None, "hidden": None}
    x = rows
    if config.batch_norm:
        x = _normalize(model, 0, x, training, cache)
        if dropping:
            cache["masks"][0] = dropout_mask(dropout_rng, x.shape, config.dropout, model.dtype)
            x = x * cache["masks"][0]
    if config.dense_size:
        cache["dense_input"] = x
        x = cache["hidden"] = relu_forward(x @ params["hidden.W"] + params["hidden.b"])
        if config.batch_norm:
            x = _normalize(model, 1, x, training, cache)
        if dropping:
            cache["masks"][1] = dropout_mask(dropout_rng, x.shape, config.dropout, model.dtype)
            x = x * cache["masks"][1]
    return x, cache


def head_extras_backward(model, dx, cache, grads):
    """The gradient w.r.t. the LSTM's output rows from that w.r.t. the output Dense's
    input; the extras' parameter gradients go into ``grads``."""
    config = model.config
    if config.dense_size:
        if cache["masks"][1] is not None:
            dx = dx * cache["masks"][1]
        if config.batch_norm:
            dx, grads["bn1.gamma"], grads["bn1.beta"] = batchnorm.backward(dx, cache["norms"][1])
        dx = relu_backward(dx, cache["hidden"])
        grads["hidden.W"], grads["hidden.b"] = cache["dense_input"].T @ dx, dx.sum(axis=0)
        dx = dx @ model.params["hidden.W"].T
    if config.batch_norm:
        if cache["masks"][0] is not None:
            dx = dx * cache["masks"][0]
        dx, grads["bn0.gamma"], grads["bn0.beta"] = batchnorm.backward(dx, cache["norms"][0])
    return dx


def _normalize(model, index, x, training, cache):
    y, norm = batchnorm.forward(
        x, model.params[f"bn{index}.gamma"], model.params[f"bn{index}.beta"],
        model.buffers[f"bn{index}.running_mean"], model.buffers[f"bn{index}.running_var"],
        training)
    cache["norms"].append(norm)
    return y


def head_without_batch_norm(model) -> dict:
    """The head's dense weights with inference-mode BatchNorm folded in.

    At inference BatchNorm is affine, y = s x + t with
    s = gamma / sqrt(running_var + eps) and t = beta - running_mean s,
    so a Dense after it computes y W + b = x (s W) + (t W + b).  Returns
    {"hidden.W", "hidden.b" (if any), "out.W", "out.b"} for a head with
    no BatchNorm: what a compiled sampler needs.
    """
    head = {name: array for name, array in model.params.items()
            if name.startswith(("hidden.", "out."))}
    if not model.config.batch_norm:
        return head
    # BatchNorm k feeds the next Dense: bn0 -> hidden (or out), bn1 -> out.
    targets = ["hidden", "out"] if model.config.dense_size else ["out"]
    for index, target in enumerate(targets):
        running_var = model.buffers[f"bn{index}.running_var"].astype(np.float64)
        scale = model.params[f"bn{index}.gamma"] / np.sqrt(running_var + batchnorm.EPSILON)
        shift = model.params[f"bn{index}.beta"] - model.buffers[f"bn{index}.running_mean"] * scale
        weights = head[f"{target}.W"].astype(np.float64)
        head[f"{target}.b"] = (shift @ weights + head[f"{target}.b"]).astype(model.dtype)
        head[f"{target}.W"] = (scale[:, None] * weights).astype(model.dtype)
    return head
