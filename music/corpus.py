"""The token corpus: a vocabulary of grammar tokens and training windows.

* The vocabulary is the sorted set of distinct tokens (plain string
  order), so the same corpus always gives the same ids.
* ``Vocabulary`` maps tokens to ids 0..n-1 and back; an unknown token or
  an id out of range raises MusicError saying which.
* ``course_windows`` draws ``count`` windows at random starts s:
  X = ids[s:s+T], Y = ids[s+1:s+T+1] (every target is the next input; no
  all-zero first input, no all-zero last target).
* ``deepjazz_windows`` slides over the corpus every ``step`` tokens:
  X = ids[s:s+max_len], y = ids[s+max_len].
* A corpus too short for one window plus its next token (fewer than
  T + 1, resp. max_len + 1, ids) raises MusicError giving both lengths;
  nothing is padded.
"""
from __future__ import annotations

import numpy as np

from music.song import MusicError


def build_vocabulary(token_lists) -> list:
    """Sorted distinct tokens of an iterable of token lists (one per bar)."""
    return sorted({token for tokens in token_lists for token in tokens})


class Vocabulary:
    """Tokens <-> integer ids; ids are positions in the given token list."""

    def __init__(self, tokens):
        self.tokens = list(tokens)
        self._ids = {token: index for index, token in enumerate(self.tokens)}
        if len(self._ids) != len(self.tokens):
            raise MusicError("vocabulary tokens must be distinct")

    @classmethod
    def from_token_lists(cls, token_lists) -> "Vocabulary":
        return cls(build_vocabulary(token_lists))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token) -> bool:
        return token in self._ids

    def id_of(self, token: str) -> int:
        try:
            return self._ids[token]
        except KeyError:
            raise MusicError(f"token {token!r} is not in the vocabulary "
                             f"of {len(self.tokens)} tokens") from None

    def token_of(self, token_id) -> str:
        if not (0 <= int(token_id) < len(self.tokens)):
            raise MusicError(f"token id {token_id} is outside the vocabulary "
                             f"ids 0..{len(self.tokens) - 1}")
        return self.tokens[int(token_id)]

    def encode(self, tokens) -> np.ndarray:
        """int64 ids of a sequence of tokens."""
        return np.array([self.id_of(token) for token in tokens], dtype=np.int64)

    def decode(self, ids) -> list:
        """Tokens of a sequence of ids."""
        return [self.token_of(token_id) for token_id in ids]


def _as_ids(ids, window: int, name: str) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise MusicError(f"token ids must be one sequence, got shape {ids.shape}")
    if window < 1:
        raise MusicError(f"{name} must be >= 1, got {window}")
    if len(ids) < window + 1:
        raise MusicError(f"the corpus has {len(ids)} tokens, fewer than the "
                         f"{window + 1} that one window of {name}={window} needs")
    return ids


def course_windows(ids, window_length=30, count=60, *, rng) -> tuple:
    """(X, Y) int64 arrays of shape (count, window_length), Y = X shifted by one.

    ids:           1-D sequence of token ids
    window_length: tokens per window
    count:         windows, drawn at uniform random starts (overlaps allowed)
    rng:           numpy.random.Generator choosing the starts
    """
    ids = _as_ids(ids, window_length, "window_length")
    if count < 1:
        raise MusicError(f"count must be >= 1, got {count}")
    starts = rng.integers(0, len(ids) - window_length, size=count)
    offsets = starts[:, None] + np.arange(window_length)[None, :]
    return ids[offsets], ids[offsets + 1]


def deepjazz_windows(ids, max_len=20, step=3) -> tuple:
    """(X of shape (n, max_len), y of shape (n,)) int64: each window and the
    token after it, windows starting every step tokens from 0."""
    ids = _as_ids(ids, max_len, "max_len")
    if step < 1:
        raise MusicError(f"step must be >= 1, got {step}")
    starts = np.arange(0, len(ids) - max_len, step)
    offsets = starts[:, None] + np.arange(max_len)[None, :]
    return ids[offsets], ids[starts + max_len]
