"""The model's settings and parameters: ``ModelConfig``, the shape and first value of every weight.

Parameter names: ``lstm{l}.W`` (n_in + n_a, 4 n_a), ``lstm{l}.b`` (4 n_a,),
``hidden.W`` (n_a, dense_size), ``hidden.b``, ``out.W`` (n_a or dense_size,
vocab_size), ``out.b``.  For layer 0, n_in = vocab_size + feature_size and
the rows of W are [token rows | feature rows | recurrent rows]::

    lstm0.W[:V]            (V, 4 n_a)    the token rows: x<t> one-hot picks one
    lstm0.W[V:V + F]       (F, 4 n_a)    act on the features f<t>
    lstm0.W[V + F:]        (n_a, 4 n_a)  W_a: act on a<t-1>

(``lstm_np.lstm`` maps them to the course's W_u, W_f, W_c, W_o.)  With F = 0
the feature block is empty and costs nothing.  With batch_norm: ``bn0.gamma``,
``bn0.beta`` (n_a,) and, with a hidden Dense, ``bn1.gamma``, ``bn1.beta``
(dense_size,); their running statistics ``bn{k}.running_mean`` and
``bn{k}.running_var`` are buffers (``SequenceModel.buffers``), not
parameters: saved with the model, never trained.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from lstm_np import init

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
