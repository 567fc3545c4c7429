"""Next-token scoring of whole pieces: cross-entropy (nats per token) and accuracy.

Used for validation loss during training and for ``evaluate``.  Policy for
tokens outside the model's vocabulary: such a token is never scored and never
fed to the model; the piece is cut there and the next token starts a fresh
stretch (zero state), as for the n-gram baselines.  Within a stretch every token
after the first is scored, the model reading the stretch from its start (state
carried across chunks of ``CHUNK`` steps: the logits of one chunk, stretches x
CHUNK x vocabulary, are what bounds memory).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_np.model import log_softmax

CHUNK = 64


@dataclass
class Stretches:
    """Pieces cut at unknown tokens: ids (R, L) padded with 0, features
    (R, L + 1, F) or None, lengths (R,); plus the counts of the policy."""

    ids: np.ndarray
    features: np.ndarray | None
    lengths: np.ndarray
    tokens: int        # every held-out token
    unknown: int       # tokens outside the vocabulary

    @property
    def oov_rate(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0


def stretches_of(pieces, index: dict) -> Stretches:
    """The stretches of in-vocabulary tokens of ``pieces`` (``grammars.Piece``)
    under ``index`` (token -> id); stretches shorter than 2 tokens are dropped."""
    stretches, tokens, unknown = [], 0, 0
    for piece in pieces:
        start = 0
        for position, token in enumerate(piece.tokens + [None]):
            if token is None or token not in index:
                if position - start >= 2:
                    stretches.append((piece, start, position))
                start = position + 1
                unknown += token is not None
        tokens += len(piece.tokens)
    if not stretches:
        return Stretches(np.zeros((0, 0), np.int64), None, np.zeros(0, np.int64), tokens, unknown)
    length = max(end - start for _, start, end in stretches)
    ids = np.zeros((len(stretches), length), np.int64)
    with_features = stretches[0][0].features is not None
    features = (np.zeros((len(stretches), length + 1, stretches[0][0].features.shape[1]), np.float32)
                if with_features else None)
    for row, (piece, start, end) in enumerate(stretches):
        ids[row, :end - start] = [index[token] for token in piece.tokens[start:end]]
        if with_features:
            features[row, :end - start + 1] = piece.features[start:end + 1]
    lengths = np.array([end - start for _, start, end in stretches])
    return Stretches(ids, features, lengths, tokens, unknown)


def score(model, stretches: Stretches, watch=None) -> dict:
    """{"nats": mean cross-entropy per scored token, "accuracy", "scored"}:
    every token of a stretch but its first, predicted from the tokens before it.

    watch: None, or (after, following), two (V,) boolean masks over the
    vocabulary: then "watched" is added, {"steps": the scored steps whose input
    is a token of ``after``, "predicted": the mean probability the model gives
    the tokens of ``following`` there, "actual": the share of those steps whose
    target is one of them}; how often an event follows, predicted and real."""
    if len(stretches.lengths) == 0:
        return {"nats": float("nan"), "accuracy": float("nan"), "scored": 0}
    count, length = stretches.ids.shape
    state = model.initial_state(count)
    total = correct = scored = 0.0
    watched_steps = predicted = actual = 0.0
    for start in range(0, length - 1, CHUNK):
        stop = min(start + CHUNK, length - 1)
        inputs = stretches.ids[:, start:stop]
        features = None if stretches.features is None else stretches.features[:, start + 1:stop + 1]
        logits, state, _ = model.forward(inputs, state, all_steps=True, features=features)
        # logits are time-major rows (T m, V): step t of every stretch, then step t + 1.
        targets = stretches.ids[:, start + 1:stop + 1].T.reshape(-1)
        positions = np.arange(start + 1, stop + 1)[:, None]
        weights = (positions < stretches.lengths[None, :]).reshape(-1).astype(np.float64)
        if weights.sum() == 0:
            continue
        log_probs = log_softmax(np.asarray(logits, np.float64))
        rows = np.arange(len(targets))
        total -= float((weights * log_probs[rows, targets]).sum())
        correct += float(weights[log_probs.argmax(axis=1) == targets].sum())
        scored += float(weights.sum())
        if watch is not None:
            after, following = watch
            inputs_flat = inputs.T.reshape(-1)
            steps = (weights > 0) & after[inputs_flat]
            predicted += float(np.exp(log_probs[steps][:, following]).sum())
            actual += float(following[targets[steps]].sum())
            watched_steps += float(steps.sum())
    result = {"nats": total / scored, "accuracy": correct / scored, "scored": int(scored)}
    if watch is not None:
        result["watched"] = {"steps": int(watched_steps),
                             "predicted": predicted / watched_steps if watched_steps else None,
                             "actual": actual / watched_steps if watched_steps else None}
    return result
