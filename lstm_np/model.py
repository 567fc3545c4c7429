"""The sequence model: token ids -> stacked LSTMs -> (Dense + ReLU) -> Dense -> softmax.

    ids (m, T)  [+ features (m, T, F) when feature_size F > 0]
      -> LSTM layer 0, input projection by row gather      hs_0 (T, m, n_a)
         (+ a dense product for the features)
      -> dropout -> LSTM layer 1 -> ... -> dropout          hs_L (T, m, n_a)
      -> head features: every step, rows (T m, n_a)  [the course's model]
                        or the last step, (m, n_a)   [deepjazz's model]
      -> optional Dense(dense_size) + ReLU + dropout
      -> Dense(vocab_size) -> logits -> softmax cross-entropy

With ``batch_norm`` (the LoFi generator's model) a BatchNorm follows the
LSTM stack and the hidden Dense + ReLU, each before its dropout:
LSTMs -> BN -> dropout -> Dense + ReLU -> BN -> dropout -> Dense -> softmax.
BatchNorm uses batch statistics in training (a dropout_rng is given) and
its running statistics otherwise (``lstm_np.batchnorm``).

Parameter names: ``lstm{l}.W`` (n_in + n_a, 4 n_a), ``lstm{l}.b`` (4 n_a,),
``hidden.W`` (n_a, dense_size), ``hidden.b``, ``out.W`` (n_features,
vocab_size), ``out.b``.  For layer 0, n_in = vocab_size + feature_size and
the rows of W are [token rows | feature rows | recurrent rows]::

    lstm0.W[:V]            (V, 4 n_a)    W_tok: the token embeddings
    lstm0.W[V:V + F]       (F, 4 n_a)    W_feat: acts on the features f_t
    lstm0.W[V + F:]        (n_a, 4 n_a)  W_h: acts on h_(t-1)

so that layer 0's input term is W_tok[id_t] + f_t W_feat (+ b).  With
F = 0 the feature block is empty and costs nothing.  With batch_norm: ``bn0.gamma``,
``bn0.beta`` (n_a,) and, with a hidden Dense, ``bn1.gamma``, ``bn1.beta``
(dense_size,); their running statistics ``bn{k}.running_mean`` and
``bn{k}.running_var`` are buffers (``SequenceModel.buffers``), not
parameters: saved with the model, never trained.

Inside, arrays are time-major (T, m, .) as in ``lstm_np.lstm``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
import numpy as np

from lstm_np import batchnorm, init, layers, lstm

HEADS = ("every_step", "last_step")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes the model's shapes and behaviour.

    vocab_size:  number of distinct tokens
    hidden_size: n_a of every LSTM layer
    num_layers:  stacked LSTM layers (>= 1)
    dropout:     inverted-dropout rate after every LSTM layer and the hidden
                 Dense, in training only (0 = none)
    dense_size:  width of the hidden Dense + ReLU before the output (0 = none)
    head:        "every_step" (a prediction at every time step) or
                 "last_step" (one prediction per window)
    batch_norm:  BatchNorm after the LSTM stack and after the hidden Dense
    dtype:       "float32" (training default) or "float64" (gradient checks)
    feature_size: floats heard beside every input token (0 = tokens only)
    """

    vocab_size: int
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    dense_size: int = 0
    head: str = "every_step"
    dtype: str = "float32"
    batch_norm: bool = False
    feature_size: int = 0

    def __post_init__(self):
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {self.vocab_size}")
        if self.hidden_size < 1 or self.num_layers < 1 or self.dense_size < 0:
            raise ValueError("hidden_size and num_layers must be >= 1 and dense_size >= 0, "
                             f"got {self.hidden_size}, {self.num_layers}, {self.dense_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if isinstance(self.feature_size, bool) or not isinstance(self.feature_size, int) \
                or self.feature_size < 0:
            raise ValueError(f"feature_size must be an integer >= 0, got {self.feature_size!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        known = {field.name for field in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**values)


def parameter_shapes(config: ModelConfig) -> dict:
    """{name: shape} of every parameter the config implies."""
    n_a = config.hidden_size
    shapes = {}
    for layer in range(config.num_layers):
        n_in = config.vocab_size + config.feature_size if layer == 0 else n_a
        shapes[f"lstm{layer}.W"] = (n_in + n_a, 4 * n_a)
        shapes[f"lstm{layer}.b"] = (4 * n_a,)
    features = n_a
    for index, width in enumerate(_normalized_widths(config)):
        shapes[f"bn{index}.gamma"] = shapes[f"bn{index}.beta"] = (width,)
    if config.dense_size:
        shapes["hidden.W"] = (n_a, config.dense_size)
        shapes["hidden.b"] = (config.dense_size,)
        features = config.dense_size
    shapes["out.W"] = (features, config.vocab_size)
    shapes["out.b"] = (config.vocab_size,)
    return shapes


def buffer_shapes(config: ModelConfig) -> dict:
    """{name: shape} of the BatchNorm running statistics (empty without batch_norm)."""
    shapes = {}
    for index, width in enumerate(_normalized_widths(config)):
        shapes[f"bn{index}.running_mean"] = shapes[f"bn{index}.running_var"] = (width,)
    return shapes


def _normalized_widths(config: ModelConfig) -> list:
    """Feature widths of the BatchNorms: [n_a] or [n_a, dense_size], or none."""
    if not config.batch_norm:
        return []
    return [config.hidden_size] + ([config.dense_size] if config.dense_size else [])


def init_buffers(config: ModelConfig) -> dict:
    """Running means 0 and variances 1, as Keras starts them."""
    dtype = np.dtype(config.dtype)
    return {name: (np.ones if name.endswith("_var") else np.zeros)(shape, dtype)
            for name, shape in buffer_shapes(config).items()}


def init_parameters(config: ModelConfig, rng: np.random.Generator) -> dict:
    """Glorot-uniform input and dense weights, orthogonal recurrent weights,
    zero biases except the forget gate's, which start at 1 so that the cell
    remembers by default early in training (Jozefowicz et al. 2015)."""
    dtype = np.dtype(config.dtype)
    n_a = config.hidden_size
    params = {}
    for name, shape in parameter_shapes(config).items():
        if name.endswith((".b", ".beta")):
            params[name] = init.zeros(shape, dtype)
            if name.startswith("lstm"):
                params[name][n_a:2 * n_a] = 1.0
        elif name.endswith(".gamma"):
            params[name] = np.ones(shape, dtype)
        elif name.startswith("lstm"):
            n_in = shape[0] - n_a
            params[name] = np.concatenate([
                init.glorot_uniform(rng, (n_in, 4 * n_a), dtype),
                init.orthogonal(rng, (n_a, 4 * n_a), dtype)])
        else:
            params[name] = init.glorot_uniform(rng, shape, dtype)
    return params


class SequenceModel:
    """Stacked LSTMs with a softmax head, over token ids.

    ``params`` is a plain dict of arrays that optimizers update in place.
    ``buffers`` holds the BatchNorm running statistics (None: fresh ones);
    training-mode forwards update them in place.
    ``backend`` picks the LSTM kernels ("numpy", "numba", None = default).
    """

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
        expected = parameter_shapes(config)
        found = {name: tuple(array.shape) for name, array in params.items()}
        if found != expected:
            raise ValueError(f"parameters do not match the config: expected {expected}, got {found}")
        self.params = {name: np.ascontiguousarray(array, dtype=self.dtype)
                       for name, array in params.items()}
        if buffers is None:
            buffers = init_buffers(config)
        found = {name: tuple(array.shape) for name, array in buffers.items()}
        if found != buffer_shapes(config):
            raise ValueError(f"buffers do not match the config: expected "
                             f"{buffer_shapes(config)}, got {found}")
        # A copy: training-mode forwards update the running statistics in place.
        self.buffers = {name: np.array(array, dtype=self.dtype) for name, array in buffers.items()}

    # ----- state ---------------------------------------------------------
    def initial_state(self, batch_size: int) -> list:
        """Zero (h, c) for every layer: a list of pairs of (batch_size, n_a) arrays."""
        shape = (batch_size, self.config.hidden_size)
        return [(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype))
                for _ in range(self.config.num_layers)]

    # ----- forward / backward --------------------------------------------
    def forward(self, ids, state=None, dropout_rng=None, all_steps=None, features=None):
        """Logits for a batch of token-id sequences.

        ids (m, T) integers in [0, vocab_size); features (m, T, feature_size)
        floats heard beside the ids, required iff feature_size > 0; state: list of (h, c) per
        layer (None: zeros); dropout_rng: a Generator turns dropout on
        (training), None turns it off (inference).  all_steps: return logits
        at every step (default: as the config's head says).

        Returns logits, (T m, V) time-major rows when all_steps else (m, V);
        the final state; and a cache for ``backward``.
        """
        config = self.config
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"ids must be a 2-D integer array (m, T), got {ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= config.vocab_size):
            raise ValueError(f"token ids must lie in [0, {config.vocab_size}), "
                             f"got {ids.min()}..{ids.max()}")
        if all_steps is None:
            all_steps = config.head == "every_step"
        m, T = ids.shape
        features = self.checked_features("features", features, (m, T))
        if features is not None:
            features = np.ascontiguousarray(np.swapaxes(features, 0, 1))   # time-major
        if state is None:
            state = self.initial_state(m)
        training = dropout_rng is not None
        dropping = training and config.dropout > 0
        inputs = np.ascontiguousarray(ids.T)
        layer_caches, masks, final_state = [], [], []
        for layer in range(config.num_layers):
            h0, c0 = state[layer]
            hs, final, cache = lstm.forward_time_major(
                inputs, h0, c0, self.params[f"lstm{layer}.W"], self.params[f"lstm{layer}.b"],
                self.backend, features if layer == 0 else None)
            layer_caches.append(cache)
            final_state.append(final)
            # With batch_norm the last layer's dropout comes after the BatchNorm.
            last_normalized = config.batch_norm and layer == config.num_layers - 1
            mask = dropout_mask_or_none(dropout_rng if dropping and not last_normalized else None,
                                        hs.shape, config.dropout, self.dtype)
            masks.append(mask)
            inputs = hs if mask is None else hs * mask
        n_a = config.hidden_size
        features = inputs.reshape(T * m, n_a) if all_steps else inputs[-1]
        norm_caches, feature_mask = [], None
        if config.batch_norm:
            features, norm_cache = self._normalize(0, features, training)
            norm_caches.append(norm_cache)
            feature_mask = dropout_mask_or_none(dropout_rng if dropping else None,
                                                features.shape, config.dropout, self.dtype)
            if feature_mask is not None:
                features = features * feature_mask
        head_input = features
        hidden = hidden_mask = None
        if config.dense_size:
            hidden = layers.relu_forward(
                layers.dense_forward(features, self.params["hidden.W"], self.params["hidden.b"]))
            head_input = hidden
            if config.batch_norm:
                head_input, norm_cache = self._normalize(1, hidden, training)
                norm_caches.append(norm_cache)
            hidden_mask = dropout_mask_or_none(dropout_rng if dropping else None, hidden.shape,
                                               config.dropout, self.dtype)
            if hidden_mask is not None:
                head_input = head_input * hidden_mask
        logits = layers.dense_forward(head_input, self.params["out.W"], self.params["out.b"])
        cache = {"layer_caches": layer_caches, "masks": masks, "all_steps": all_steps,
                 "features": features, "hidden": hidden, "hidden_mask": hidden_mask,
                 "head_input": head_input, "shape": (m, T), "norm_caches": norm_caches,
                 "feature_mask": feature_mask}
        return logits, final_state, cache

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

    def head_without_batch_norm(self) -> dict:
        """The head's dense weights with inference-mode BatchNorm folded in.

        At inference BatchNorm is affine, y = s x + t with
        s = gamma / sqrt(running_var + eps) and t = beta - running_mean s,
        so a Dense after it computes y W + b = x (s W) + (t W + b).  Returns
        {"hidden.W", "hidden.b" (if any), "out.W", "out.b"} for a head with
        no BatchNorm: what a compiled sampler needs.
        """
        head = {name: array for name, array in self.params.items()
                if name.startswith(("hidden.", "out."))}
        if not self.config.batch_norm:
            return head
        # BatchNorm k feeds the next Dense: bn0 -> hidden (or out), bn1 -> out.
        targets = ["hidden", "out"] if self.config.dense_size else ["out"]
        for index, target in enumerate(targets):
            running_var = self.buffers[f"bn{index}.running_var"].astype(np.float64)
            scale = self.params[f"bn{index}.gamma"] / np.sqrt(running_var + batchnorm.EPSILON)
            shift = self.params[f"bn{index}.beta"] - self.buffers[f"bn{index}.running_mean"] * scale
            weights = head[f"{target}.W"].astype(np.float64)
            head[f"{target}.b"] = (shift @ weights + head[f"{target}.b"]).astype(self.dtype)
            head[f"{target}.W"] = (scale[:, None] * weights).astype(self.dtype)
        return head

    def _normalize(self, index, x, training):
        return batchnorm.forward(
            x, self.params[f"bn{index}.gamma"], self.params[f"bn{index}.beta"],
            self.buffers[f"bn{index}.running_mean"], self.buffers[f"bn{index}.running_var"],
            training)

    def backward(self, dlogits, cache, dfinal_state=None):
        """Gradients of every parameter, given dloss/dlogits (shaped like the logits).

        dfinal_state: optional list of (dh_T, dc_T) per layer.
        Returns (grads dict, dstate list of (dh0, dc0) per layer).
        """
        config = self.config
        m, T = cache["shape"]
        n_a = config.hidden_size
        grads = {}
        dhead, grads["out.W"], grads["out.b"] = layers.dense_backward(
            dlogits, cache["head_input"], self.params["out.W"])
        if config.dense_size:
            if cache["hidden_mask"] is not None:
                dhead = dhead * cache["hidden_mask"]
            if config.batch_norm:
                dhead, grads["bn1.gamma"], grads["bn1.beta"] = batchnorm.backward(
                    dhead, cache["norm_caches"][1])
            dpre_hidden = layers.relu_backward(dhead, cache["hidden"])
            dfeatures, grads["hidden.W"], grads["hidden.b"] = layers.dense_backward(
                dpre_hidden, cache["features"], self.params["hidden.W"])
        else:
            dfeatures = dhead
        if config.batch_norm:
            if cache["feature_mask"] is not None:
                dfeatures = dfeatures * cache["feature_mask"]
            dfeatures, grads["bn0.gamma"], grads["bn0.beta"] = batchnorm.backward(
                dfeatures, cache["norm_caches"][0])
        dhs = np.zeros((T, m, n_a), self.dtype)
        if cache["all_steps"]:
            dhs += dfeatures.reshape(T, m, n_a)
        else:
            dhs[-1] += dfeatures
        dstate = [None] * config.num_layers
        for layer in range(config.num_layers - 1, -1, -1):
            if cache["masks"][layer] is not None:
                dhs = dhs * cache["masks"][layer]
            dhT, dcT = (None, None) if dfinal_state is None else dfinal_state[layer]
            dinputs, dh0, dc0, grads[f"lstm{layer}.W"], grads[f"lstm{layer}.b"] = \
                lstm.backward_time_major(dhs, dhT, dcT, cache["layer_caches"][layer],
                                         input_grad=layer > 0)
            dstate[layer] = (dh0, dc0)
            dhs = dinputs
        return grads, dstate

    def loss_and_grads(self, ids, targets, weights=None, dropout_rng=None, features=None):
        """Mean softmax cross-entropy of a batch, its accuracy, and the gradients.

        ids (m, T); targets (m, T) for the every-step head or (m,) for the
        last-step head; weights like targets, 1 = counted, 0 = padding;
        features (m, T, feature_size) as ``forward`` wants them.
        Returns loss, accuracy (fraction of counted targets predicted by
        argmax), grads dict.
        """
        logits, _, cache = self.forward(ids, dropout_rng=dropout_rng, features=features)
        flat_targets, flat_weights = self._flatten_targets(targets, weights, cache["all_steps"])
        loss, dlogits, correct, counted = layers.softmax_cross_entropy(
            logits, flat_targets, flat_weights)
        grads, _ = self.backward(dlogits, cache)
        return loss, correct / counted, grads

    def evaluate(self, ids, targets, weights=None, features=None):
        """Loss and accuracy without dropout or gradients."""
        logits, _, cache = self.forward(ids, features=features)
        flat_targets, flat_weights = self._flatten_targets(targets, weights, cache["all_steps"])
        loss, _, correct, counted = layers.softmax_cross_entropy(logits, flat_targets, flat_weights)
        return loss, correct / counted

    def _flatten_targets(self, targets, weights, all_steps):
        targets = np.asarray(targets)
        expected_ndim = 2 if all_steps else 1
        if targets.ndim != expected_ndim:
            raise ValueError(f"targets must be {expected_ndim}-D for the {self.config.head} head, "
                             f"got shape {targets.shape}")
        if weights is not None:
            weights = np.asarray(weights, self.dtype)
        if all_steps:   # logits rows are time-major: row t * m + i
            targets = targets.T.reshape(-1)
            weights = None if weights is None else weights.T.reshape(-1)
        return targets, weights


def dropout_mask_or_none(rng, shape, rate, dtype):
    return None if rng is None else layers.dropout_mask(rng, shape, rate, dtype)
