"""N-gram baselines for next-token prediction over token ids.

Symbols
-------
V = ``vocabulary_size``; ids 0..V-1 are the training vocabulary.  A held-out
id outside 0..V-1 is out of vocabulary (OOV): it is context only (the
symbol UNK, which no training n-gram contains) and is never scored.  Every
piece starts afresh: the two positions before its first token hold the
symbol BOS, so no context reaches across pieces.

Estimates
---------
Add-k estimate of order n (n = 1, 2, 3) with context h = the n-1 previous
symbols (empty for n = 1)::

    P_n(w | h) = (c(h, w) + k_n) / (c(h) + k_n V)

c counts the training n-grams, c(h) = sum_w c(h, w).  Every model is a linear
interpolation of the three orders::

    P(w | h2 h1) = l1 P_1(w) + l2 P_2(w | h1) + l3 P_3(w | h2 h1),   l >= 0, sum l = 1

so the plain unigram, bigram and trigram are the weights (1,0,0), (0,1,0)
and (0,0,1).

Tuning (``fit_baselines``)
--------------------------
The last ``dev_share`` of the training tokens (counted from the end of the
training stream; a piece cut in two gives its tail a fresh BOS context) is
the dev part.  Counts of the rest are scored on it: each k_n is the value of
``K_GRID`` with the lowest dev cross-entropy of order n alone; then the
weights are the point of the simplex grid of step ``WEIGHT_STEP`` with the
lowest dev cross-entropy of the interpolation (first minimum on ties).
The chosen k and weights are then used with counts of ALL training tokens.
Held-out tokens play no part in tuning.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

ORDERS = (1, 2, 3)
K_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
WEIGHT_STEP = 0.1
DEV_SHARE = 0.1


class CrossEntropy(NamedTuple):
    """nats_per_token: mean -ln P(target) over scored targets
    counted:        how many targets were scored (the in-vocabulary ones)
    accuracy:       share of scored targets equal to the most probable id
                    (the lowest id on a tie)"""

    nats_per_token: float
    counted: int
    accuracy: float


def as_pieces(pieces, what: str) -> list:
    """A list of 1-D int64 arrays from a list of id sequences; ValueError
    naming ``what`` when it is not one."""
    if isinstance(pieces, np.ndarray) or not hasattr(pieces, "__iter__"):
        raise ValueError(f"{what} must be a list of id sequences (one per piece)")
    arrays = []
    for number, piece in enumerate(pieces, start=1):
        array = np.asarray(piece)
        if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"{what}: piece {number} is not a 1-D sequence of integer ids")
        arrays.append(array.astype(np.int64))
    return arrays


class _Positions(NamedTuple):
    """Per target position: its context key for each order (shape (3, N)),
    the target id (N,) and whether it is scored (in vocabulary)."""

    contexts: np.ndarray
    targets: np.ndarray
    scored: np.ndarray


def _symbols(ids, vocabulary_size: int) -> np.ndarray:
    """Ids with everything outside 0..V-1 replaced by UNK (= V + 1)."""
    return np.where((ids >= 0) & (ids < vocabulary_size), ids, vocabulary_size + 1)


def _context_keys(previous2, previous1, vocabulary_size: int) -> np.ndarray:
    """Context keys of orders 1..3, shape (3, ...): 0, h1, h2 * (V + 2) + h1."""
    previous2, previous1 = np.asarray(previous2), np.asarray(previous1)
    return np.stack([np.zeros_like(previous1), previous1,
                     previous2 * (vocabulary_size + 2) + previous1])


def _positions(pieces, vocabulary_size: int) -> _Positions:
    bos, unk = vocabulary_size, vocabulary_size + 1
    contexts, targets = [np.zeros((3, 0), np.int64)], [np.zeros(0, np.int64)]
    for piece in pieces:
        symbols = _symbols(piece, vocabulary_size)
        padded = np.concatenate([[bos, bos], symbols]).astype(np.int64)
        contexts.append(_context_keys(padded[:-2], padded[1:-1], vocabulary_size))
        targets.append(symbols)
    targets = np.concatenate(targets)
    return _Positions(np.concatenate(contexts, axis=1), targets, targets != unk)


@dataclass(frozen=True)
class _Table:
    """Sorted distinct int64 keys and how often each occurred."""

    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, keys) -> "_Table":
        distinct, counts = np.unique(keys, return_counts=True)
        return cls(distinct.astype(np.int64), counts.astype(np.int64))

    def lookup(self, keys) -> np.ndarray:
        """Counts of keys (0 for absent ones)."""
        keys = np.asarray(keys, dtype=np.int64)
        if not len(self.keys):
            return np.zeros(keys.shape, np.int64)
        index = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[index] == keys, self.counts[index], 0)

    def span(self, low: int, high: int) -> tuple:
        """(keys, counts) of the keys in low..high-1."""
        start, stop = np.searchsorted(self.keys, [low, high])
        return self.keys[start:stop], self.counts[start:stop]


@dataclass(frozen=True)
class NgramCounts:
    """n-gram and context counts of orders 1..3 (index 0..2) of training ids.

    An n-gram's key is context_key * V + target; context keys come from
    ``_positions`` (0 for order 1, h1 for order 2, h2 * (V + 2) + h1 for order 3).
    """

    vocabulary_size: int
    ngrams: tuple
    contexts: tuple
    token_count: int

    @classmethod
    def of(cls, pieces, vocabulary_size: int) -> "NgramCounts":
        """Counts of training pieces (a list of id sequences, ids in 0..V-1)."""
        if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, (int, np.integer)) \
                or vocabulary_size < 1:
            raise ValueError(f"vocabulary size must be a positive integer, got {vocabulary_size!r}")
        pieces = as_pieces(pieces, "training pieces")
        for number, piece in enumerate(pieces, start=1):
            outside = piece[(piece < 0) | (piece >= vocabulary_size)]
            if outside.size:
                raise ValueError(f"training piece {number}: token id {outside[0]} is outside "
                                 f"the vocabulary 0..{vocabulary_size - 1}")
        positions = _positions(pieces, int(vocabulary_size))
        ngrams = tuple(_Table.of(context * vocabulary_size + positions.targets)
                       for context in positions.contexts)
        contexts = tuple(_Table.of(context) for context in positions.contexts)
        return cls(int(vocabulary_size), ngrams, contexts, int(positions.targets.size))


def _add_k(count, context_count, k: float, vocabulary_size: int):
    """P_n(w | h) = (c(h, w) + k) / (c(h) + k V)."""
    return (count + k) / (context_count + k * vocabulary_size)


@dataclass(frozen=True)
class NgramModel:
    """Counts with add-k constants and interpolation weights for orders 1..3."""

    counts: NgramCounts
    k: tuple
    weights: tuple
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "k", tuple(float(value) for value in self.k))
        object.__setattr__(self, "weights", tuple(float(value) for value in self.weights))
        if len(self.k) != 3 or min(self.k) <= 0:
            raise ValueError(f"n-gram k must be three positive numbers (orders 1..3), got {self.k}")
        if len(self.weights) != 3 or min(self.weights) < 0 or abs(sum(self.weights) - 1) > 1e-9:
            raise ValueError(f"n-gram weights must be three numbers >= 0 summing to 1, "
                             f"got {self.weights}")

    @property
    def vocabulary_size(self) -> int:
        return self.counts.vocabulary_size

    def distribution(self, history) -> np.ndarray:
        """P(next id | history), shape (V,); history = the ids of the piece so
        far (only the last two count; BOS fills in before the piece starts)."""
        size = self.vocabulary_size
        recent = _symbols(np.asarray(history, dtype=np.int64)[-2:], size)
        padded = np.concatenate([[size, size], recent])
        return self._distribution_at(_context_keys(padded[-2], padded[-1], size))

    def _distribution_at(self, context_keys) -> np.ndarray:
        size = self.vocabulary_size
        probabilities = np.zeros(size)
        for order_index, weight in enumerate(self.weights):
            if weight == 0:
                continue
            key = int(context_keys[order_index])
            keys, counts = self.counts.ngrams[order_index].span(key * size, (key + 1) * size)
            row = np.zeros(size)
            row[keys - key * size] = counts
            total = self.counts.contexts[order_index].lookup([key])[0]
            probabilities += weight * _add_k(row, total, self.k[order_index], size)
        return probabilities


def _component_probabilities(counts: NgramCounts, positions: _Positions, k) -> np.ndarray:
    """P_n(target | h) at the scored positions, shape (3, scored)."""
    size = counts.vocabulary_size
    targets = positions.targets[positions.scored]
    rows = []
    for order_index in range(3):
        context = positions.contexts[order_index][positions.scored]
        rows.append(_add_k(counts.ngrams[order_index].lookup(context * size + targets),
                           counts.contexts[order_index].lookup(context),
                           k[order_index], size))
    return np.array(rows)


def _nats(probabilities) -> float:
    return float(-np.mean(np.log(probabilities)))


def oov_rate(pieces, vocabulary_size: int) -> float:
    """Share of ids outside 0..V-1 (0.0 for no tokens)."""
    pieces = as_pieces(pieces, "held-out pieces")
    total = sum(piece.size for piece in pieces)
    outside = sum(int(np.sum((piece < 0) | (piece >= vocabulary_size))) for piece in pieces)
    return outside / total if total else 0.0


def cross_entropy(model: NgramModel, pieces) -> CrossEntropy:
    """Cross-entropy and accuracy of model on held-out pieces (list of id
    sequences); OOV targets are context only.  ValueError when nothing is
    left to score."""
    pieces = as_pieces(pieces, "held-out pieces")
    positions = _positions(pieces, model.vocabulary_size)
    counted = int(positions.scored.sum())
    if not counted:
        raise ValueError("held-out pieces hold no in-vocabulary token to score")
    weights = np.array(model.weights)[:, None]
    probabilities = (weights * _component_probabilities(model.counts, positions, model.k)).sum(0)
    return CrossEntropy(_nats(probabilities), counted,
                        _accuracy(model, positions))


def _accuracy(model: NgramModel, positions: _Positions) -> float:
    # One dense distribution per distinct (h2, h1): the order-3 context key holds both.
    base = model.vocabulary_size + 2
    trigram_contexts = positions.contexts[2][positions.scored]
    targets = positions.targets[positions.scored]
    distinct, inverse = np.unique(trigram_contexts, return_inverse=True)
    best = np.array([np.argmax(model._distribution_at(
        _context_keys(key // base, key % base, model.vocabulary_size))) for key in distinct])
    return float(np.mean(best[inverse] == targets))


def sample(model: NgramModel, length: int, seed: int) -> np.ndarray:
    """``length`` ids drawn one after another from the model, starting after
    BOS (a fresh piece); the same seed gives the same ids."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"sample length must be an integer >= 0, got {length!r}")
    rng = np.random.default_rng(seed)
    drawn = np.zeros(length, np.int64)
    for step in range(length):
        cumulative = np.cumsum(model.distribution(drawn[:step]))
        token = np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")
        drawn[step] = min(token, model.vocabulary_size - 1)  # guards rounding at the top end
    return drawn


def split_dev(pieces, dev_share: float = DEV_SHARE) -> tuple:
    """(fit pieces, dev pieces): the dev part is the last
    ceil(dev_share * tokens) tokens of the training stream."""
    if not (0 < dev_share < 1):
        raise ValueError(f"dev share must lie strictly between 0 and 1, got {dev_share}")
    pieces = [piece for piece in as_pieces(pieces, "training pieces") if piece.size]
    total = sum(piece.size for piece in pieces)
    dev_count = int(np.ceil(dev_share * total))
    if total - dev_count < 1:
        raise ValueError(f"{total} training tokens are too few to set {dev_share:.0%} aside "
                         f"for tuning")
    fit, dev, remaining = list(pieces), [], dev_count
    while remaining:
        last = fit.pop()
        taken = min(remaining, last.size)
        dev.insert(0, last[last.size - taken:])
        if taken < last.size:
            fit.append(last[:last.size - taken])
        remaining -= taken
    return fit, dev


class Baselines(NamedTuple):
    """The four tuned baselines, all counted on every training token."""

    unigram: NgramModel
    bigram: NgramModel
    trigram: NgramModel
    interpolated: NgramModel


def _weight_grid(step: float) -> np.ndarray:
    parts = int(round(1 / step))
    return np.array([(first, second, parts - first - second)
                     for first in range(parts + 1)
                     for second in range(parts + 1 - first)], dtype=float) / parts


def fit_baselines(pieces, vocabulary_size: int, dev_share: float = DEV_SHARE,
                  k_grid=K_GRID, weight_step: float = WEIGHT_STEP) -> Baselines:
    """Unigram, bigram, trigram and interpolated models tuned on the dev part
    of the training pieces (see the module docstring), refitted on all of them."""
    fit_pieces, dev_pieces = split_dev(pieces, dev_share)
    fit_counts = NgramCounts.of(fit_pieces, vocabulary_size)
    dev = _positions(dev_pieces, int(vocabulary_size))
    best_k = []
    for order_index in range(3):
        scores = [_nats(_component_probabilities(fit_counts, dev, (k, k, k))[order_index])
                  for k in k_grid]
        best_k.append(k_grid[int(np.argmin(scores))])
    components = _component_probabilities(fit_counts, dev, best_k)
    grid = _weight_grid(weight_step)
    scores = [_nats(weights @ components) for weights in grid]
    weights = tuple(grid[int(np.argmin(scores))])
    counts = NgramCounts.of(pieces, vocabulary_size)
    return Baselines(NgramModel(counts, best_k, (1, 0, 0), "unigram"),
                     NgramModel(counts, best_k, (0, 1, 0), "bigram"),
                     NgramModel(counts, best_k, (0, 0, 1), "trigram"),
                     NgramModel(counts, best_k, weights, "interpolated"))
