"""Generation: one token at a time, carrying (h, c) from step to step.

    state <- zeros; run the primer through the model (warms h and c)
    repeat length times:
        p = softmax(logits / temperature), restricted to the top_k logits
        next = argmax(p) if temperature == 0 else a draw from p
        feed next back in

A draw uses one uniform number u per sequence and step, taken from the
Generator before the loop, and inverts the cumulative distribution
(the first token whose cumulative probability exceeds u * total).  So the
same seed gives the same tokens on any backend.

With the Numba backend the whole loop, primer included, runs compiled
(``kernels.generate``): at batch 1 a step is a few small mat-vecs, and
calling NumPy a dozen times per token costs more than the arithmetic.  The
NumPy loop below is the reference; both pick the same tokens unless two
candidates lie within a float rounding of each other.
"""
from __future__ import annotations

import numpy as np

from lstm_np import kernels, layers


def choose_tokens(logits, uniforms, temperature: float = 1.0, top_k: int = 0):
    """Pick one token per row.

    logits (B, V); uniforms (B,) in [0, 1); temperature 0 = greedy argmax,
    else the softmax of logits / temperature; top_k > 0 keeps only the k
    largest logits (ties broken towards the lower token id).
    Returns token ids (B,).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    if temperature == 0:
        return logits.argmax(axis=1)
    scaled = logits / temperature
    if 0 < top_k < logits.shape[1]:
        order = np.argsort(-scaled, axis=1, kind="stable")
        dropped = order[:, top_k:]
        scaled = scaled.copy()
        np.put_along_axis(scaled, dropped, -np.inf, axis=1)
    probabilities = layers.softmax(scaled)
    cumulative = np.cumsum(probabilities, axis=1)
    thresholds = uniforms * cumulative[:, -1]
    picks = (cumulative <= thresholds[:, None]).sum(axis=1)
    # Rounding can leave u * total equal to the last cumulative value.
    return np.minimum(picks, logits.shape[1] - 1)


def generate(model, primer, length: int, rng: np.random.Generator,
             temperature: float = 1.0, top_k: int = 0):
    """Continue each primer sequence by ``length`` tokens.

    model: a ``SequenceModel``; primer (B, P) token ids, P >= 1 (B sequences
    generated at once); rng: the Generator for the draws.
    Returns the generated ids (B, length), primer excluded.
    """
    primer = np.asarray(primer)
    if primer.ndim != 2 or primer.shape[1] < 1:
        raise ValueError(f"primer must be (batch, P) token ids with P >= 1, got shape {primer.shape}")
    if primer.dtype.kind not in "iu" or primer.min() < 0 or primer.max() >= model.config.vocab_size:
        raise ValueError(f"primer must hold token ids in [0, {model.config.vocab_size})")
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    batch = primer.shape[0]
    uniforms = rng.random((length, batch))
    if kernels.resolve_backend(model.backend) == "numba":
        return kernels.generate(model.params, model.head_without_batch_norm(),
                                model.config.num_layers, primer, uniforms, temperature, top_k)
    state = model.initial_state(batch)
    if primer.shape[1] > 1:
        _, state, _ = model.forward(primer[:, :-1], state, all_steps=False)
    current = primer[:, -1:]
    generated = np.empty((batch, length), dtype=np.int64)
    for step in range(length):
        logits, state, _ = model.forward(current, state, all_steps=False)
        tokens = choose_tokens(logits, uniforms[step], temperature, top_k)
        generated[:, step] = tokens
        current = tokens[:, None]
    return generated
