"""Training: the epoch loop, one step, gradient clipping, and Keras 2's Adam and RMSprop.

One training step (``train_step``) on a batch of windows::

    loss, grads = model.loss_and_grads(batch)        forward and backward (lstm_np.model)
    norm = sqrt(sum over every array of sum(g^2))     clip: if norm > clip_norm,
                                                      every g *= clip_norm / norm
    optimizer.step(params, grads)                    the update below, in place

Adam (the course's: lr 0.01, beta_1 0.9, beta_2 0.999, decay 0.01), for
every parameter p with gradient g, at update t = 1, 2, ...; Keras 2 folds
the bias correction into the step size::

    lr_t = lr / (1 + decay (t - 1)) * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m    = beta_1 m + (1 - beta_1) g          first moment: a running mean of g
    v    = beta_2 v + (1 - beta_2) g^2        second moment: a running mean of g^2
    p   -= m / (sqrt(v) + epsilon) lr_t

RMSprop (deepjazz's and the LoFi generator's)::

    a  = rho a + (1 - rho) g^2
    p -= g / (sqrt(a) + epsilon) lr / (1 + decay (t - 1))

Parameters, gradients and the optimizer's state (m and v, or a) are dicts
{name: array}; the state is kept in each parameter's dtype.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def train_epoch(model, optimizer, inputs, targets, rng: np.random.Generator,
                batch_size: int, clip_norm: float = 0.0, features=None):
    """One epoch of ``train_step`` over shuffled batches; returns (mean loss, mean
    accuracy), weighted by batch size.  inputs (N, T) token ids; targets (N, T) or
    (N,) as the model's head wants; rng shuffles and draws dropout masks;
    features (N, T, feature_size) beside the inputs, or None."""
    if features is not None and len(features) != len(inputs):
        raise ValueError(f"features must have one row per input sequence ({len(inputs)}), "
                         f"got {len(features)}")
    total_loss = total_accuracy = 0.0
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(len(inputs))      # a shuffled epoch
    for rows in (order[start:start + batch_size] for start in range(0, len(inputs), batch_size)):
        loss, accuracy = train_step(model, optimizer, inputs[rows], targets[rows], rng,
                                    clip_norm, None if features is None else features[rows])
        total_loss += loss * len(rows)
        total_accuracy += accuracy * len(rows)
    return total_loss / len(inputs), total_accuracy / len(inputs)


def train_step(model, optimizer, ids, targets, rng, clip_norm: float = 0.0, features=None):
    """Forward, backward, clip (when clip_norm > 0) and update on one batch.
    Returns the batch's loss and accuracy."""
    loss, accuracy, grads = model.loss_and_grads(ids, targets, dropout_rng=rng, features=features)
    if clip_norm > 0:
        clip_by_global_norm(grads, clip_norm)
    optimizer.step(model.params, grads)
    return loss, accuracy


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale every gradient in place so that their joint L2 norm is at most ``max_norm``.
    Returns the norm before clipping; a non-finite one leaves the gradients alone,
    for the caller to see rather than turn every gradient into zeros or NaNs."""
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    # In float64: squares of large float32 gradients overflow, and exploding
    # gradients are what clipping is for.
    squares = 0.0
    for grad in grads.values():
        flat = grad.astype(np.float64, copy=False).ravel()
        squares += float(np.dot(flat, flat))
    norm = math.sqrt(squares)
    if math.isfinite(norm) and norm > max_norm:
        for grad in grads.values():
            grad *= max_norm / norm
    return norm


class Optimizer:
    """What Adam and RMSprop share: the learning rate's decay, the update count
    ``iterations``, and per-parameter state arrays, one dict per name in ``SLOTS``."""

    SLOTS: tuple[str, ...] = ()

    def __init__(self, lr: float, epsilon: float, decay: float):
        for label, value in (("lr", lr), ("epsilon", epsilon), ("decay", decay)):
            if value < 0 or (label == "lr" and value == 0):
                raise ValueError(f"{label} must be {'positive' if label == 'lr' else '>= 0'}, "
                                 f"got {value}")
        self.lr, self.epsilon, self.decay = float(lr), float(epsilon), float(decay)
        self.iterations = 0
        self.slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.SLOTS}

    def decayed_lr(self) -> float:
        """The learning rate of the next update, before any bias correction."""
        return self.lr / (1.0 + self.decay * self.iterations)

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One update of every parameter, in place (the model holds these arrays)."""
        require_same_shapes(_shapes(params), _shapes(grads), "the parameters", "the gradients")
        self._check_state(params)
        for name, param in params.items():
            self.update(param, grads[name], *(self.slots[slot][name] for slot in self.SLOTS))
        self.iterations += 1

    def _check_state(self, params) -> None:
        """Zero state on the first step; afterwards the parameters must still fit it."""
        first = self.slots[self.SLOTS[0]]
        if not first:
            for arrays in self.slots.values():
                arrays.update({name: np.zeros_like(param) for name, param in params.items()})
        require_same_shapes(_shapes(first), _shapes(params), "the optimizer state", "the parameters")
        for name, param in params.items():
            if not np.issubdtype(param.dtype, np.floating) or first[name].dtype != param.dtype:
                raise ValueError(f"parameter {name!r} has dtype {param.dtype}; expected a float "
                                 f"dtype, that of its optimizer state ({first[name].dtype})")

    def state_dict(self) -> dict:
        """A flat copy of the state, for checkpoints (``lstm_np.optim_state``)."""
        # An import cycle kept: optim_state builds on this module, which stays short
        # (one training step reads lstm.py, model.py and this file; tests/test_reading_path.py).
        from lstm_np.optim_state import state_dict

        return state_dict(self)

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Take a copy of ``state_dict``'s ``state``; ValueError when it does not fit."""
        from lstm_np.optim_state import load_state_dict   # the cycle kept, as in state_dict

        load_state_dict(self, state)


class Adam(Optimizer):
    """Keras 2 Adam with learning-rate decay (the equations in the module docstring)."""

    SLOTS = ("m", "v")

    def __init__(self, lr: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, decay: float = 0.0):
        super().__init__(lr, epsilon, decay)
        for label, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def update(self, p, g, m, v) -> None:
        t = self.iterations + 1
        lr_t = self.decayed_lr() * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        v[...] = self.beta_2 * v + (1 - self.beta_2) * g ** 2
        p -= m / (np.sqrt(v) + self.epsilon) * lr_t


class RMSprop(Optimizer):
    """Keras 2 RMSprop with learning-rate decay (the equations in the module docstring)."""

    SLOTS = ("a",)

    def __init__(self, lr: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7,
                 decay: float = 0.0):
        super().__init__(lr, epsilon, decay)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rho must be in [0, 1), got {rho}")
        self.rho = float(rho)

    def update(self, p, g, a) -> None:
        a[...] = self.rho * a + (1 - self.rho) * g ** 2
        p -= g / (np.sqrt(a) + self.epsilon) * self.decayed_lr()


OPTIMIZERS = {"adam": Adam, "rmsprop": RMSprop}


def make_optimizer(name: str, **kwargs) -> Adam | RMSprop:
    """An optimizer by name ("adam" or "rmsprop", any case) with its keyword arguments."""
    if name.lower() not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(sorted(OPTIMIZERS))}")
    return OPTIMIZERS[name.lower()](**kwargs)


def _shapes(arrays) -> dict:
    return {name: np.shape(array) for name, array in arrays.items()}


def require_same_shapes(expected: dict, found: dict, expected_label: str, found_label: str) -> None:
    """Raise ValueError naming the first difference in names or shapes."""
    missing = sorted(expected.keys() - found.keys())
    if missing:
        raise ValueError(f"{', '.join(missing)} missing from {found_label} (present in {expected_label})")
    extra = sorted(found.keys() - expected.keys())
    if extra:
        raise ValueError(f"{', '.join(extra)} present in {found_label} but not in {expected_label}")
    for name, shape in expected.items():
        if tuple(found[name]) != tuple(shape):
            raise ValueError(f"{name!r} has shape {tuple(found[name])} in {found_label} "
                             f"but {tuple(shape)} in {expected_label}")
