"""First use: compile (or load from Numba's disk cache) the kernels before timing anything.

Numba compiles a kernel the first time it meets a new kind of argument, which
takes seconds, then caches the machine code on disk.  ``warm_up`` runs one
training step and one sampling pass of a tiny model built like the real one
(same dtype, layers, features, head), so that epoch 1's time in history.csv
is training, not compiling.  When that takes longer than ``NOTICE_AFTER``
seconds (a cold cache), ``announce`` is told once, while it works.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from lstm_np import generate as generation
from lstm_np import kernels, optim
from lstm_np.model import SequenceModel

NOTICE_AFTER = 1.0
MESSAGE = "compiling kernels (once; about 10-30 s, later starts load them from the cache)"


def warm_up(config, announce=None, *, training: bool = True) -> float:
    """Seconds spent preparing the kernels for models like ``config`` (a ModelConfig):
    those of training and sampling, or of sampling only."""
    if kernels.resolve_backend(None) != "numba":
        return 0.0
    timer = threading.Timer(NOTICE_AFTER, announce or (lambda: None), args=(MESSAGE,)) \
        if announce else None
    started = time.perf_counter()
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        _exercise(config, training)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - started


def _exercise(config, training: bool) -> None:
    tiny = replace(config, vocab_size=3, hidden_size=2,
                   dense_size=min(config.dense_size, 2))
    rng = np.random.default_rng(0)
    model = SequenceModel(tiny, rng=rng)
    features = (np.zeros((2, 3, tiny.feature_size), tiny.dtype) if tiny.feature_size else None)
    inputs = np.array([[0, 1, 2], [2, 1, 0]])
    targets = inputs if tiny.head == "every_step" else inputs[:, -1]
    if training:
        optim.train_epoch(model, optim.make_optimizer("adam", lr=0.01, decay=0.0), inputs,
                          targets, rng, batch_size=2, clip_norm=1.0, features=features)
    if tiny.feature_size:
        table = np.zeros((1, 3, tiny.feature_size), tiny.dtype)
        generation.generate_segments(model, np.array([[0]]), rng, token_costs=np.array([0, 1, 2]),
                                     budgets=np.array([2]), reset_token=0, step_features=table,
                                     primer_features=np.ascontiguousarray(table[None, :1, 0]))
    else:
        generation.generate(model, np.array([[0]]), 2, rng)
