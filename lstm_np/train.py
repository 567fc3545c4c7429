"""One training epoch: shuffle, cut into batches, backpropagate, clip, step.

Knows nothing of files or progress bars; the caller loops over epochs,
reports, and saves checkpoints.
"""
from __future__ import annotations

import numpy as np

from lstm_np import kernels
from lstm_np.optim import clip_by_global_norm


def iterate_batches(count: int, batch_size: int, rng: np.random.Generator):
    """Row indices of each batch of a shuffled epoch over ``count`` examples."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(count)
    for start in range(0, count, batch_size):
        yield order[start:start + batch_size]


def train_epoch(model, optimizer, inputs, targets, rng: np.random.Generator,
                batch_size: int, clip_norm: float = 0.0, features=None):
    """Run one epoch; return (mean loss, mean accuracy), weighted by batch size.

    inputs (N, T) token ids; targets (N, T) or (N,) as the model's head
    wants; rng shuffles and draws dropout masks; clip_norm > 0 clips the
    global gradient norm; features (N, T, feature_size) beside the inputs
    when the model hears features, else None.
    """
    if features is not None and len(features) != len(inputs):
        raise ValueError(f"features must have one row per input sequence ({len(inputs)}), "
                         f"got {len(features)}")
    total_loss = total_accuracy = 0.0
    n_a = model.config.hidden_size
    # A model whose recurrent step is too small for two BLAS threads gains
    # nothing from them anywhere else either, and idle BLAS workers spin.
    with kernels.blas_threads_for(min(batch_size, len(inputs)) * n_a * 4 * n_a):
        for rows in iterate_batches(len(inputs), batch_size, rng):
            batch_features = None if features is None else features[rows]
            loss, accuracy, grads = model.loss_and_grads(inputs[rows], targets[rows],
                                                         dropout_rng=rng, features=batch_features)
            if clip_norm > 0:
                clip_by_global_norm(grads, clip_norm)
            optimizer.step(model.params, grads)
            total_loss += loss * len(rows)
            total_accuracy += accuracy * len(rows)
    return total_loss / len(inputs), total_accuracy / len(inputs)
