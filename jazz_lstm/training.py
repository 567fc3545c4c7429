"""The train / resume loop and its checkpoint policy.

A ``Session`` holds everything one training run changes: the model, the
optimiser, the metadata that goes into the checkpoint, and the three random
streams (weights, windows, training) split from one seed, so the same seed
and data give the same model.  ``fit`` runs the epochs:

* after every epoch a copy of the finished state is kept (an interrupt
  mid-epoch leaves the live arrays half-updated; the copy is what is saved);
* the checkpoint and history.csv are written atomically at most every
  ``SAVE_EVERY_SECONDS``, after the last epoch, and on an interrupt;
* an interrupt (Ctrl-C) saves the last finished epoch and raises
  ``TrainingInterrupted``.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from jazz_lstm.presets import TrainConfig
from jazz_lstm.runs import CHECKPOINT_NAME, HISTORY_NAME, history_text, load_model, seconds_of

# An fsync per epoch would cost more than a small model's epoch.
SAVE_EVERY_SECONDS = 30.0


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted; ``path`` holds epoch ``epoch``."""

    def __init__(self, path: Path, epoch: int):
        super().__init__(f"{path} holds epoch {epoch}")
        self.path, self.epoch = path, epoch


def seeded_streams(seed: int):
    """Independent generators for weights, windows and training (shuffle, dropout)."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3)]


def model_config(config: TrainConfig, vocab_size: int):
    """The lstm_np ModelConfig a TrainConfig implies for a vocabulary size."""
    from lstm_np.model import ModelConfig

    return ModelConfig(vocab_size=vocab_size, hidden_size=config.hidden_size,
                       num_layers=config.num_layers, dropout=config.dropout,
                       dense_size=config.dense_size, head=config.head,
                       batch_norm=config.batch_norm, dtype=config.dtype)


def make_windows(config: TrainConfig, ids, rng):
    from music.corpus import course_windows, deepjazz_windows

    # A corpus shorter than one window trains on shorter windows rather than failing.
    length = min(config.window_length, len(ids) - 1)
    if config.windows == "course":
        return course_windows(ids, length, config.window_count, rng=rng)
    return deepjazz_windows(ids, length, config.window_step)


@dataclass
class Session:
    """One training run in progress."""

    path: Path
    config: TrainConfig
    model: object
    optimizer: object
    metadata: dict
    ids: np.ndarray
    window_rng: np.random.Generator
    train_rng: np.random.Generator
    seconds: list = field(default_factory=list)   # per finished epoch, for history.csv

    @property
    def first_epoch(self) -> int:
        return self.metadata["epoch"] + 1


def new_session(corpus, config: TrainConfig, seed: int, folder: Path) -> Session:
    """A fresh run of ``config`` on ``corpus`` in ``folder``."""
    from lstm_np.model import SequenceModel
    from lstm_np.optim import make_optimizer
    from music.corpus import Vocabulary

    vocabulary = Vocabulary.from_token_lists([corpus.tokens])
    ids = vocabulary.encode(corpus.tokens)
    init_rng, window_rng, train_rng = seeded_streams(seed)
    model = SequenceModel(model_config(config, len(vocabulary)), rng=init_rng)
    optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
    metadata = {"kind": "jazz-lstm", "model": model.config.to_dict(),
                "vocabulary": list(vocabulary.tokens), "corpus_ids": ids.tolist(),
                "train": asdict(config), "seed": seed, "epoch": 0, "history": [],
                **corpus.about}
    return Session(Path(folder) / CHECKPOINT_NAME, config, model, optimizer, metadata, ids,
                   window_rng, train_rng)


def resumed_session(path: Path, epochs: int | None = None) -> Session:
    """The run saved at ``path``, to continue up to ``epochs`` (default: its own)."""
    from lstm_np.optim import make_optimizer

    model, optimizer_state, metadata = load_model(path, for_resume=True)
    config = TrainConfig(**metadata["train"]).with_overrides(epochs=epochs)
    _, window_rng, train_rng = seeded_streams(metadata["seed"])
    train_rng.bit_generator.state = metadata["rng_state"]
    optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
    try:
        optimizer.load_state_dict(optimizer_state)
    except ValueError as error:
        from lstm_np.checkpoint import CheckpointError
        raise CheckpointError(f"{path}: optimizer state does not fit the model ({error})") from None
    ids = np.asarray(metadata["corpus_ids"], dtype=np.int64)
    seconds = seconds_of(Path(path).parent / HISTORY_NAME, metadata["epoch"])
    return Session(Path(path), config, model, optimizer, metadata, ids, window_rng, train_rng,
                   seconds)


def fit(session: Session, progress) -> Session:
    """Train ``session`` up to its configured epochs, reporting each to ``progress``
    (an object with ``start(total, initial)``, ``epoch(row)`` and ``close()``)."""
    from lstm_np.train import train_epoch

    config = session.config
    inputs, targets = make_windows(config, session.ids, session.window_rng)
    snapshot, saved_epoch, last_save = None, None, time.monotonic()
    progress.start(config.epochs, session.first_epoch - 1)
    try:
        for epoch in range(session.first_epoch, config.epochs + 1):
            started = time.perf_counter()
            loss, accuracy = train_epoch(session.model, session.optimizer, inputs, targets,
                                         session.train_rng, config.batch_size, config.clip_norm)
            session.seconds.append(round(time.perf_counter() - started, 6))
            session.metadata["history"].append([epoch, round(loss, 6), round(accuracy, 6)])
            session.metadata.update(epoch=epoch, train=asdict(config),
                                    rng_state=session.train_rng.bit_generator.state)
            snapshot = _snapshot(session)
            if time.monotonic() - last_save >= SAVE_EVERY_SECONDS or epoch == config.epochs:
                save(session.path, snapshot)
                saved_epoch, last_save = epoch, time.monotonic()
            progress.epoch((epoch, loss, accuracy, session.seconds[-1]))
    except KeyboardInterrupt:
        progress.close()
        if snapshot is not None and snapshot[2]["epoch"] != saved_epoch:
            save(session.path, snapshot)
        done = snapshot[2]["epoch"] if snapshot else session.first_epoch - 1
        raise TrainingInterrupted(session.path, done) from None
    progress.close()
    return session


def _snapshot(session: Session) -> tuple:
    """A copy of the finished epoch: parameters, optimizer state, metadata, seconds."""
    model = session.model
    return ({name: array.copy() for name, array in {**model.params, **model.buffers}.items()},
            session.optimizer.state_dict(), copy.deepcopy(session.metadata),
            list(session.seconds))


def save(path: Path, snapshot) -> None:
    """Checkpoint and history.csv of one finished epoch, each written atomically."""
    from lstm_np.checkpoint import save_checkpoint
    from music.midi_out import write_bytes_atomically

    params, optimizer_state, metadata, seconds = snapshot
    save_checkpoint(path, params, optimizer_state, metadata)
    rows = [[*row, second] for row, second in zip(metadata["history"], seconds)]
    write_bytes_atomically(Path(path).parent / HISTORY_NAME, history_text(rows).encode("utf-8"))
