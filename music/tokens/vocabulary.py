"""The token vocabulary.

* The vocabulary is the sorted set of distinct tokens (plain string
  order), so the same corpus always gives the same ids.
* ``Vocabulary`` maps tokens to ids 0..n-1 and back; an unknown token or
  an id out of range raises MusicError saying which.

Training windows are a training matter: ``jazz_lstm.windows``.
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
