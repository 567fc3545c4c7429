"""The course's model: token ids -> LSTM -> Dense -> softmax, trained on cross-entropy.

    ids (m, T) -> x<t> = one-hot(id) -> LSTM -> a<t> (m, n_a) -> Dense -> logits -> softmax -> ŷ<t>
    loss = mean over the counted steps of -log ŷ<t>[y<t>]      (y<t>: the token that came next)

``forward`` and ``backward`` read as the course's djmodel (LSTM(64) over
one-hot tokens, Dense and softmax at every step); the LSTM is
``lstm_np.lstm``.  The other presets' extras are skipped when unused:
dropout between stacked LSTMs, and ``lstm_np.layers``' BatchNorm, hidden
Dense + ReLU and dropout before the output Dense.  Features f<t> beside
each token (the chords the exact grammar's model hears) enter layer 0.
The weights' names, shapes and first values: ``lstm_np.parameters``.
Arrays are time-major inside, (T, m, .), and so are the logits' rows.
"""
from __future__ import annotations

import numpy as np

from lstm_np import layers, lstm
from lstm_np.parameters import (ModelConfig, buffer_shapes, init_buffers, init_parameters,
                                parameter_shapes)

class SequenceModel:
    """The model and its weights.  ``params``: a dict of arrays that optimizers update
    in place; ``buffers``: BatchNorm running statistics (None: fresh ones);
    ``backend``: "reference" (``lstm_np.lstm`` as written), "numpy", "numba", or
    None for the default (``kernels.resolve_backend``)."""

    def __init__(self, config: ModelConfig, params: dict | None = None,
                 rng: np.random.Generator | None = None, backend: str | None = None,
                 buffers: dict | None = None):
        self.config = config
        self.backend = backend
        self.dtype = np.dtype(config.dtype)
        if params is None:
            if rng is None:
                raise ValueError("SequenceModel needs either params or an rng to draw them")
            params = init_parameters(config, rng)
        self.params = _checked_arrays("parameters", params, parameter_shapes(config), self.dtype)
        buffers = init_buffers(config) if buffers is None else buffers
        # A copy: training-mode forwards update the running statistics in place.
        self.buffers = {name: array.copy() for name, array in _checked_arrays(
            "buffers", buffers, buffer_shapes(config), self.dtype).items()}

    def initial_state(self, batch_size: int) -> list:
        """Zero (a, c) for every layer: a list of pairs of (batch_size, n_a) arrays."""
        shape = (batch_size, self.config.hidden_size)
        return [(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype))
                for _ in range(self.config.num_layers)]

    def forward(self, ids, state=None, dropout_rng=None, all_steps=None, features=None):
        """Logits for token ids (m, T) in [0, vocab_size); features (m, T, feature_size)
        beside them iff feature_size > 0; state: (a, c) per layer (None: zeros);
        dropout_rng: a Generator turns dropout on (training); all_steps: logits at every
        step (default: as the config's head says) or at the last.
        Returns logits, (T m, V) time-major rows or (m, V); the final state; a cache."""
        config = self.config
        ids = self.checked_ids(ids)
        m, T = ids.shape
        features = self.checked_features("features", features, (m, T))
        all_steps = config.head == "every_step" if all_steps is None else all_steps
        state = self.initial_state(m) if state is None else state
        dropping = dropout_rng is not None and config.dropout > 0
        x = np.ascontiguousarray(ids.T)                 # (T, m): x<t> is one-hot(x[t])
        if features is not None:
            features = np.ascontiguousarray(np.swapaxes(features, 0, 1))
        caches, masks, final_state = [], [], []
        for layer in range(config.num_layers):
            W, b = self.params[f"lstm{layer}.W"], self.params[f"lstm{layer}.b"]
            a, final, cache = lstm.forward_time_major(x, *state[layer], W, b, self.backend,
                                                      features if layer == 0 else None)
            caches.append(cache)
            final_state.append(final)
            # With batch_norm the last layer's dropout comes after the BatchNorm.
            last_normalized = config.batch_norm and layer == config.num_layers - 1
            masks.append(layers.dropout_mask(dropout_rng, a.shape, config.dropout, self.dtype)
                         if dropping and not last_normalized else None)
            x = a if masks[-1] is None else a * masks[-1]
        rows = x.reshape(T * m, -1) if all_steps else x[-1]     # a<t> of every step, or the last
        head_input, extras = rows, None
        if config.batch_norm or config.dense_size:
            head_input, extras = layers.head_extras_forward(self, rows, dropout_rng)
        logits = head_input @ self.params["out.W"] + self.params["out.b"]     # Dense: a W_y + b_y
        cache = {"lstm": caches, "masks": masks, "all_steps": all_steps, "shape": (m, T),
                 "head_input": head_input, "extras": extras}
        return logits, final_state, cache

    def backward(self, dlogits, cache, dfinal_state=None):
        """Gradients of every parameter, given dloss/dlogits (shaped like the logits);
        dfinal_state: None, or (da<T>, dc<T>) per layer.
        Returns (grads dict, [(da0, dc0) per layer])."""
        config = self.config
        m, T = cache["shape"]
        grads = {"out.W": cache["head_input"].T @ dlogits, "out.b": dlogits.sum(axis=0)}
        drows = dlogits @ self.params["out.W"].T
        if cache["extras"] is not None:
            drows = layers.head_extras_backward(self, drows, cache["extras"], grads)
        da = np.zeros((T, m, config.hidden_size), self.dtype)
        if cache["all_steps"]:
            da += drows.reshape(T, m, -1)
        else:
            da[-1] += drows
        dstate = [None] * config.num_layers
        for layer in reversed(range(config.num_layers)):
            if cache["masks"][layer] is not None:
                da = da * cache["masks"][layer]
            da_T, dc_T = (None, None) if dfinal_state is None else dfinal_state[layer]
            da, da0, dc0, grads[f"lstm{layer}.W"], grads[f"lstm{layer}.b"] = \
                lstm.backward_time_major(da, da_T, dc_T, cache["lstm"][layer],
                                         input_grad=layer > 0)
            dstate[layer] = (da0, dc0)
        return grads, dstate

    def loss_and_grads(self, ids, targets, weights=None, dropout_rng=None, features=None,
                       gradients: bool = True):
        """Mean softmax cross-entropy of a batch, its accuracy, and the gradients (None
        without ``gradients``).  ids (m, T); targets (m, T) for the every-step head or
        (m,) for the last-step head; weights like targets, 1 = counted, 0 = padding."""
        logits, _, cache = self.forward(ids, dropout_rng=dropout_rng, features=features)
        targets, weights = self._flatten_targets(targets, weights, cache["all_steps"])
        loss, dlogits, correct, counted = softmax_cross_entropy(logits, targets, weights)
        return loss, correct / counted, self.backward(dlogits, cache)[0] if gradients else None

    def evaluate(self, ids, targets, weights=None, features=None):
        """Loss and accuracy without dropout or gradients."""
        return self.loss_and_grads(ids, targets, weights, features=features, gradients=False)[:2]

    def checked_ids(self, ids):
        """ids as an array, or a one-line ValueError when not (m, T) ids in [0, vocab_size)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"ids must be a 2-D integer array (m, T), got {ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.config.vocab_size}), "
                             f"got {ids.min()}..{ids.max()}")
        return ids

    def checked_features(self, name: str, features, leading_shape):
        """features as an array of the model's dtype shaped (*leading_shape, feature_size),
        or None for a model without features; a one-line ValueError naming ``name`` else."""
        size = self.config.feature_size
        if size == 0:
            if features is not None:
                raise ValueError(f"{name} were given but the model's feature_size is 0")
            return None
        shape = tuple(leading_shape) + (size,)
        if features is None:
            raise ValueError(f"the model hears {size} features per step: {name} {shape} "
                             "are required")
        features = np.asarray(features)
        if features.shape != shape or features.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be numbers shaped {shape}, "
                             f"got {features.dtype} {features.shape}")
        if not np.all(np.isfinite(features)):
            raise ValueError(f"{name} must be finite (found NaN or infinity)")
        return features.astype(self.dtype, copy=False)

    def _flatten_targets(self, targets, weights, all_steps):
        targets = np.asarray(targets)
        if targets.ndim != (2 if all_steps else 1):
            raise ValueError(f"targets must be {2 if all_steps else 1}-D for the "
                             f"{self.config.head} head, got shape {targets.shape}")
        if weights is not None:
            weights = np.asarray(weights, self.dtype)
        if all_steps:   # logits rows are time-major: row t * m + i
            targets = targets.T.reshape(-1)
            weights = None if weights is None else weights.T.reshape(-1)
        return targets, weights


def _checked_arrays(label: str, arrays: dict, shapes: dict, dtype) -> dict:
    found = {name: tuple(array.shape) for name, array in arrays.items()}
    if found != shapes:
        raise ValueError(f"{label} do not match the config: expected {shapes}, got {found}")
    return {name: np.ascontiguousarray(array, dtype=dtype) for name, array in arrays.items()}


def log_softmax(logits):
    """log ŷ = z - logsumexp(z) along the last axis (max-shifted for stability)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits, targets, weights=None):
    """Mean cross-entropy over the counted targets, and its gradient.

    logits (N, V); targets (N,) class ids; weights (N,) 1 for a counted
    target, 0 for padding (None: all count)::

        loss    = sum_n w_n * -log ŷ_n[y_n] / sum_n w_n
        dlogits = w_n * (ŷ_n - onehot(y_n)) / sum_n w_n

    Returns loss (float), dlogits (N, V), correct (counted rows whose argmax
    is the target), counted (sum of weights).
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
