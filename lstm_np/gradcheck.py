"""Gradient checking: every backpropagated gradient against finite differences, in float64.

As in the course: nudge one weight θ_i by ±ε, measure the loss J both ways,

    gradapprox_i = (J(θ + ε e_i) - J(θ - ε e_i)) / (2 ε)

and compare the whole gradient of a parameter with its approximation,

    difference = ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2)

which the course reads as: below 1e-7 the backward pass is right.  ``check``
does this for every parameter of a small model (5 tokens, n_a = 3, windows
of 4) built like each preset: its layers, head, hidden Dense, BatchNorm and
dropout (the same masks for every J), with features beside the tokens
(``feature_size`` 2) and without.

    python -m lstm_np.gradcheck [--backend reference|numpy|numba]   (or: jazz-lstm gradcheck)

prints the table and exits 1 when a difference is at or above ``THRESHOLD``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from lstm_np.kernels import BACKENDS
from lstm_np.model import ModelConfig, SequenceModel

THRESHOLD = 1e-7
EPSILON = 1e-6
VOCAB_SIZE, HIDDEN_SIZE, DENSE_SIZE, FEATURE_SIZE = 5, 3, 4, 2
BATCH, STEPS = 3, 4


@dataclass(frozen=True)
class Row:
    """One parameter's check."""

    model: str          # the preset whose shape the small model has
    features: bool
    parameter: str
    entries: int
    difference: float


def numerical_gradient(loss, array, eps: float = EPSILON):
    """d loss() / d array by centred differences, one entry at a time.
    ``array`` is nudged in place and put back; ``loss`` reads it."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        plus = loss()
        array[index] = original - eps
        minus = loss()
        array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def difference(grad, gradapprox) -> float:
    """The course's ||grad - gradapprox|| / (||grad|| + ||gradapprox||); 0 when both are 0."""
    scale = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return float(np.linalg.norm(grad - gradapprox) / scale) if scale else 0.0


def small_config(settings, feature_size: int = 0) -> ModelConfig:
    """A float64 model shaped like ``settings`` (a preset: num_layers, dropout,
    dense_size, head, batch_norm), small enough to check entry by entry."""
    return ModelConfig(vocab_size=VOCAB_SIZE, hidden_size=HIDDEN_SIZE,
                       num_layers=settings.num_layers, dropout=settings.dropout,
                       dense_size=min(settings.dense_size, DENSE_SIZE), head=settings.head,
                       batch_norm=settings.batch_norm, dtype="float64",
                       feature_size=feature_size)


def check_model(config: ModelConfig, label: str, backend: str = "reference",
                seed: int = 0) -> list:
    """A Row per parameter of a model of ``config`` drawn from ``seed``, on a random batch."""
    rng = np.random.default_rng(seed)
    model = SequenceModel(config, rng=rng, backend=backend)
    ids = rng.integers(0, config.vocab_size, (BATCH, STEPS))
    targets = rng.integers(0, config.vocab_size, (BATCH, STEPS) if config.head == "every_step"
                           else BATCH)
    features = (rng.normal(size=(BATCH, STEPS, config.feature_size))
                if config.feature_size else None)

    def loss_and_grads(gradients=True):
        # The same dropout masks for every evaluation: a fresh generator each time.
        return model.loss_and_grads(ids, targets, dropout_rng=np.random.default_rng(seed),
                                    features=features, gradients=gradients)

    _, _, grads = loss_and_grads()
    return [Row(label, config.feature_size > 0, name, param.size,
                difference(grads[name], numerical_gradient(lambda: loss_and_grads(False)[0],
                                                           param)))
            for name, param in model.params.items()]


def check(presets: dict, backend: str = "reference") -> list:
    """Rows for every preset in ``presets`` ({name: settings}), without and with features."""
    return [row for name, settings in presets.items() for feature_size in (0, FEATURE_SIZE)
            for row in check_model(small_config(settings, feature_size), name, backend)]


def table(rows) -> str:
    """The rows as a text table, with the largest difference at the end."""
    lines = [f"{'model':<16} {'features':<9} {'parameter':<11} {'entries':>7}  difference"]
    lines += [f"{row.model:<16} {'yes' if row.features else 'no':<9} {row.parameter:<11} "
              f"{row.entries:>7}  {row.difference:.1e}{'  <- too large' * failed(row)}"
              for row in rows]
    worst = max(rows, key=lambda row: row.difference)
    lines.append(f"largest difference {worst.difference:.1e} ({worst.model}, {worst.parameter}"
                 f"{', with features' * worst.features}); threshold {THRESHOLD:g}")
    return "\n".join(lines)


def failed(row: Row) -> bool:
    return not row.difference < THRESHOLD


def report(presets: dict, backend: str = "reference", echo=print) -> int:
    """Check ``presets``, ``echo`` the table; 0 when every difference is below THRESHOLD, else 1."""
    started = time.perf_counter()
    rows = check(presets, backend)
    echo(f"gradient check, float64, backend {backend}: ||grad - gradapprox|| / "
         f"(||grad|| + ||gradapprox||) per parameter, eps {EPSILON:g}")
    echo(table(rows))
    bad = [row for row in rows if failed(row)]
    echo(f"{len(rows)} parameters in {time.perf_counter() - started:.1f} s: "
         + (f"{len(bad)} at or above the threshold" if bad else "all below the threshold"))
    return 1 if bad else 0


def main(argv=None) -> int:
    """``python -m lstm_np.gradcheck``: every preset's shape (``jazz_lstm.presets``)."""
    # lstm_np knows nothing of jazz_lstm (the package is meant to stand alone); only this
    # script entry borrows its presets.
    from jazz_lstm.presets import PRESETS

    parser = argparse.ArgumentParser(prog="python -m lstm_np.gradcheck",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS, default="reference",
                        help="whose backward pass to check (default: reference, lstm_np/lstm.py)")
    return report(PRESETS, parser.parse_args(argv).backend)


if __name__ == "__main__":
    sys.exit(main())
