"""Training windows cut from a token stream, with the features beside them.

A window is its start s in the stream of ids; with window length T:

* inputs   ids[s : s + T]
* targets  ids[s + 1 : s + T + 1] (a target at every step), or ids[s + T]
           (the last step only, deepjazz's and the LoFi generator's models)
* features rows s + 1 .. s + T of the stream's features: the model reads
  token t together with the place where token t + 1 starts.

Where the windows start (``scheme``):

* "course":   ``count`` starts drawn uniformly at random (the assignment's
              60 windows of 30; overlaps allowed);
* "deepjazz": every ``step``-th position from 0;
* "stream":   back to back every T tokens, plus one window ending at the
              stream's end, so every position is a target in every epoch.
"""
from __future__ import annotations

import numpy as np

from music.song import MusicError

SCHEMES = ("course", "deepjazz", "stream")


def window_starts(scheme: str, stream_length: int, length: int, *, count: int = 60,
                  step: int = 3, rng=None) -> np.ndarray:
    """Start positions of the windows of ``length`` tokens in a stream of
    ``stream_length`` ids (each window also needs the token after it)."""
    if length < 1:
        raise MusicError(f"window length must be >= 1, got {length}")
    if stream_length < length + 1:
        raise MusicError(f"the corpus has {stream_length} tokens, fewer than the "
                         f"{length + 1} that one window of {length} needs")
    last = stream_length - length - 1   # the last start whose next token exists
    if scheme == "course":
        if count < 1:
            raise MusicError(f"window count must be >= 1, got {count}")
        return rng.integers(0, last + 1, size=count)
    if scheme == "deepjazz":
        if step < 1:
            raise MusicError(f"window step must be >= 1, got {step}")
        return np.arange(0, last + 1, step)
    if scheme == "stream":
        starts = np.arange(0, last + 1, length)
        return starts if starts[-1] == last else np.append(starts, last)
    raise MusicError(f"unknown window scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def cut_windows(ids, starts, length: int, *, every_step: bool = True, features=None) -> tuple:
    """(inputs (n, T), targets (n, T) or (n,), features (n, T, F) or None)."""
    ids = np.asarray(ids, dtype=np.int64)
    offsets = np.asarray(starts)[:, None] + np.arange(length)[None, :]
    inputs = ids[offsets]
    targets = ids[offsets + 1] if every_step else ids[np.asarray(starts) + length]
    window_features = None if features is None else features[offsets + 1]
    return inputs, targets, window_features
