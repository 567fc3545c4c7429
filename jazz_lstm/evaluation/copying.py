"""How much of the training data generated token streams copy verbatim.

Both sides are lists of pieces (id sequences); no window reaches across a
piece boundary.

* copy share at n: the share of generated n-grams (windows of n consecutive
  ids inside one generated piece) that occur in some training piece; 0.0
  when no generated piece is n long.
* longest copy: the length of the longest stretch of consecutive generated ids
  that occurs verbatim inside one training piece (the longest common
  substring of the generated pieces and the training pieces).

Windows are compared exactly, without hashing, by prefix doubling (as in
suffix-array construction): every window of length 2^j gets a class id
equal for equal contents, made from the class ids of its two halves of
length 2^(j-1); a window of any length L is the pair of its first and last
2^j ids, 2^j the largest power of two <= L (the two overlap).  Each level
is one ``np.unique`` over the concatenated pieces, and the longest copy is a
binary search over L (a stretch of L copied ids holds one of L - 1).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jazz_lstm.evaluation.ngram import as_pieces

COPY_LENGTHS = (8, 16)


def _pair_classes(first, second) -> np.ndarray:
    """Class ids of pairs of class ids: equal pairs, equal ids."""
    first, second = first.astype(np.int64), second.astype(np.int64)
    return np.unique(first * (int(max(first.max(), second.max())) + 1) + second,
                     return_inverse=True)[1].ravel()


class _Windows:
    """Training pieces and generated pieces side by side, with exact class
    ids for their windows."""

    def __init__(self, generated_pieces, training_pieces):
        generated = as_pieces(generated_pieces, "generated pieces")
        training = as_pieces(training_pieces, "training pieces")
        pieces = training + generated
        lengths = np.array([piece.size for piece in pieces], dtype=np.int64)
        self.size = int(lengths.sum())
        self.piece_end = np.repeat(np.cumsum(lengths), lengths)
        self.is_generated = np.repeat(np.arange(len(pieces)) >= len(training), lengths)
        self.longest_generated = max((piece.size for piece in generated), default=0)
        self.longest_training = max((piece.size for piece in training), default=0)
        sequence = np.concatenate([np.zeros(0, np.int64)] + pieces)
        self._levels = {1: np.unique(sequence, return_inverse=True)[1].ravel()}

    def _level(self, power: int) -> np.ndarray:
        """Class ids of the windows of length ``power`` (a power of two), one
        per start 0..size-power."""
        while power not in self._levels:
            half = max(self._levels)
            classes = self._levels[half]
            count = classes.size - half
            self._levels[2 * half] = _pair_classes(classes[:count], classes[half:half + count])
        return self._levels[power]

    def copied(self, length: int) -> np.ndarray:
        """Per generated window of ``length`` ids (inside one piece): whether
        some training window holds the same ids."""
        if length < 1 or length > self.size:
            return np.zeros(0, bool)
        power = 1 << (length.bit_length() - 1)
        classes = self._level(power)
        count = self.size - length + 1
        if power < length:
            classes = _pair_classes(classes[:count], classes[length - power:length - power + count])
        starts = np.arange(count)
        inside = starts + length <= self.piece_end[:count]
        generated = inside & self.is_generated[:count]
        training = inside & ~self.is_generated[:count]
        return np.isin(classes[generated], classes[training])

    def longest_copy(self) -> int:
        low, high = 0, min(self.longest_generated, self.longest_training)
        while low < high:   # invariant: a stretch of low ids is copied, none of high + 1
            middle = (low + high + 1) // 2
            if self.copied(middle).any():
                low = middle
            else:
                high = middle - 1
        return low


class Copying(NamedTuple):
    """shares: n -> copy share of generated n-grams; longest_copy: ids."""

    shares: dict
    longest_copy: int


def _valid_length(length) -> int:
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"n-gram length must be a positive integer, got {length!r}")
    return int(length)


def _share(windows: _Windows, length) -> float:
    copied = windows.copied(_valid_length(length))
    return float(copied.mean()) if copied.size else 0.0


def copy_share(generated_pieces, training_pieces, length: int) -> float:
    """Share of generated ``length``-grams found verbatim in the training pieces."""
    return _share(_Windows(generated_pieces, training_pieces), length)


def longest_copy(generated_pieces, training_pieces) -> int:
    """Length of the longest generated stretch found verbatim in one training piece."""
    return _Windows(generated_pieces, training_pieces).longest_copy()


def copying(generated_pieces, training_pieces, lengths=COPY_LENGTHS) -> Copying:
    """Copy shares at each of ``lengths`` and the longest copy, in one pass."""
    windows = _Windows(generated_pieces, training_pieces)
    shares = {int(length): _share(windows, length) for length in lengths}
    return Copying(shares, windows.longest_copy())
