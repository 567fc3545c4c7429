"""Batch normalization over the rows of a (N, D) batch, as Keras' BatchNormalization.

Training mode (statistics of the batch, over its N rows, per feature):

    mu = mean(x),  var = mean((x - mu)^2)            (biased, as Keras)
    x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta
    running_mean <- momentum * running_mean + (1 - momentum) * mu
    running_var  <- momentum * running_var  + (1 - momentum) * var

Inference mode uses running_mean and running_var in place of mu and var
and updates nothing.  Defaults as Keras: momentum 0.99, eps 1e-3, gamma 1,
beta 0, running mean 0, running variance 1.  gamma and beta are trained;
the running statistics are not (they are buffers: saved with the model,
never given to an optimizer).

Shapes: x, y (N, D); gamma, beta, running_mean, running_var (D,).
"""
from __future__ import annotations

import numpy as np

MOMENTUM = 0.99
EPSILON = 1e-3


def forward(x, gamma, beta, running_mean, running_var, training: bool,
            momentum: float = MOMENTUM, eps: float = EPSILON):
    """y = gamma * x_hat + beta, in training or inference mode (see the module doc).

    In training mode running_mean and running_var are updated in place.
    Returns y (N, D) and a cache for ``backward``.
    """
    if training:
        mean = x.mean(axis=0)
        centered = x - mean
        var = (centered * centered).mean(axis=0)
        running_mean *= momentum
        running_mean += (1.0 - momentum) * mean
        running_var *= momentum
        running_var += (1.0 - momentum) * var
    else:
        centered = x - running_mean
        var = running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centered * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma, training)


def backward(dy, cache):
    """Gradients of ``forward``: dx (N, D), dgamma (D,), dbeta (D,).

    In training mode mu and var depend on every row, which adds two terms:
        dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),  g = dy * gamma
    In inference mode the statistics are constants: dx = inv_std * g.
    """
    x_hat, inv_std, gamma, training = cache
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    g = dy * gamma
    if training:
        g = g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)
    return inv_std * g, dgamma, dbeta
