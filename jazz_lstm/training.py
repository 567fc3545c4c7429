"""The train / resume loop and its checkpoint policy.

A ``Session`` holds everything one training run changes: the model, the
optimizer, the run record that goes into the checkpoint, and the three random
streams (weights, windows, training) split from one seed, so the same seed
and data give the same model.  ``fit`` runs the epochs:

* with validation pieces, their loss and accuracy are measured after every
  epoch; the checkpoint's weights are those of the best validation epoch
  (the latest state rides along under ``resume/`` for ``--resume``), and
  with a ``patience`` training stops when validation has not improved for
  that many epochs;
* after every epoch a copy of the finished state is kept (an interrupt
  mid-epoch leaves the live arrays half-updated; the copy is what is saved);
* the checkpoint and history.csv are written atomically after every epoch
  that took at least as long as a save, else at most every
  ``SAVE_EVERY_SECONDS``, and after the last epoch; kill -9 loses at most
  one epoch or that many seconds, whichever is longer;
* an interrupt (Ctrl-C, SIGTERM, SIGHUP) saves the last finished epoch and
  raises ``TrainingInterrupted``; a second one during the save waits.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from jazz_lstm.corpus import load_corpus
from jazz_lstm.files import write_file_atomically
from jazz_lstm.grammars import grammar_named
from jazz_lstm.limits import MAX_SEED
from jazz_lstm.presets import TrainConfig
from jazz_lstm.record import (RecordError, RunRecord, TrainingStream, checkpoint_parts,
                              model_config, read_checkpoint_parts, train_config_from_json)
from jazz_lstm.runs import (CHECKPOINT_NAME, HISTORY_NAME, RESUME_PREFIX, UsageError, history_text,
                            load_model, run_checkpoint_bytes, seconds_of)
from jazz_lstm.scoring import score, stretches_of
from jazz_lstm.signals import interrupts_as_keyboard_interrupt, signals_deferred
from jazz_lstm.windows import cut_windows, window_starts
from lstm_np.checkpoint import CheckpointError
from lstm_np.kernels import blas_threads_for
from lstm_np.model import SequenceModel
from lstm_np.optim import make_optimizer, train_epoch
from music.tokens.vocabulary import Vocabulary

# A small model's epoch is faster than an fsync'd save: then save at most this often.
SAVE_EVERY_SECONDS = 5.0


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted; ``path`` holds epoch ``epoch``."""

    def __init__(self, path: Path, epoch: int):
        super().__init__(f"{path} holds epoch {epoch}")
        self.path, self.epoch = path, epoch


def seeded_streams(seed: int):
    """Independent generators for weights, windows and training (shuffle, dropout)."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3)]


def make_windows(config: TrainConfig, ids, rng, features=None) -> tuple:
    """(inputs, targets, features) of the training windows."""
    # A corpus shorter than one window trains on shorter windows rather than failing.
    length = min(config.window_length, len(ids) - 1)
    starts = window_starts(config.windows, len(ids), length, count=config.window_count,
                           step=config.window_step, rng=rng)
    return cut_windows(ids, starts, length, every_step=config.head == "every_step",
                       features=features)


@dataclass
class Session:
    """One training run in progress."""

    path: Path
    model: object
    optimizer: object
    record: RunRecord
    stream: TrainingStream
    features: np.ndarray | None
    validation: object            # scoring.Stretches, or None
    window_rng: np.random.Generator
    train_rng: np.random.Generator
    seconds: list = field(default_factory=list)   # per finished epoch, for history.csv
    best: dict | None = None                      # the best validation epoch's weights

    @property
    def config(self) -> TrainConfig:
        return self.record.train

    @property
    def ids(self) -> np.ndarray:
        return self.stream.ids

    @property
    def first_epoch(self) -> int:
        return self.record.epoch + 1


def _vocabulary(corpus, config: TrainConfig):
    extra = []
    if corpus.record.encoding == "grammar":
        signatures = {tuple(piece.song.time_signature) for piece in corpus.pieces} | {(4, 4)}
        widest = max(signatures, key=lambda signature: signature[0] / signature[1])
        extra = grammar_named(config.grammar).required_tokens(widest)
    return Vocabulary.from_token_lists([corpus.tokens, extra])


def new_session(corpus, config: TrainConfig, seed: int, folder: Path) -> Session:
    """A fresh run of ``config`` on ``corpus`` in ``folder``."""
    vocabulary = _vocabulary(corpus, config)
    ids = vocabulary.encode(corpus.tokens)
    features = corpus.features
    init_rng, window_rng, train_rng = seeded_streams(seed)
    feature_size = 0 if features is None else features.shape[1]
    model = SequenceModel(model_config(config, len(vocabulary), feature_size), rng=init_rng)
    optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
    record = RunRecord(train=config, vocabulary=tuple(vocabulary.tokens), corpus=corpus.record,
                       music=corpus.music, seed=seed, feature_size=feature_size)
    stream = TrainingStream(ids, tuple(len(piece.tokens) for piece in corpus.pieces))
    check_openable(record, stream, train_rng.bit_generator.state)
    validation = (stretches_of(corpus.validation, {token: i for i, token in enumerate(vocabulary.tokens)})
                  if corpus.validation else None)
    return Session(Path(folder) / CHECKPOINT_NAME, model, optimizer, record, stream, features,
                   validation, window_rng, train_rng)


def check_openable(record: RunRecord, stream: TrainingStream, rng_state: dict) -> None:
    """Before the first epoch: the checks a saved run is opened and resumed with
    (``jazz_lstm.record.read_checkpoint_parts`` on the JSON and arrays the
    checkpoint will hold), so no run trains for hours into a checkpoint nothing
    can open.  Raises RecordError (a ValueError) naming the field."""

    metadata, arrays = checkpoint_parts(record, stream, rng_state)
    try:
        read_checkpoint_parts(json.loads(json.dumps(metadata)), arrays, for_resume=True)
    except RecordError as error:
        raise RecordError(f"this run could not be opened once saved ({error}); nothing was "
                          "trained") from None


def check_settings(config, seed) -> None:
    """The training settings and seed, checked as a saved run's are, before any music
    is read; RecordError (a ValueError) naming the setting."""

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise RecordError(f"seed must be a whole number in 0..{MAX_SEED}, got {seed!r}")
    train_config_from_json(asdict(config))


def prepare(data, config: TrainConfig, *, seed: int, folder: Path, encoding: str = "grammar",
            melody_part=None, chord_parts=None, bars=None, chords=None, chords_offset: int = 0,
            where=None, on_skip=None) -> tuple:
    """(session, corpus) of a new run: the corpus read as ``config`` says (grammar,
    validation share, split seeded by ``seed``) and the model drawn."""
    check_settings(config, seed)
    corpus = load_corpus(data, encoding=encoding, grammar=config.grammar,
                         structure=config.structure, melody_part=melody_part,
                         chord_parts=chord_parts, bars=bars,
                         chords=chords, chords_offset=chords_offset, where=where,
                         validation_share=config.validation_share, seed=seed, on_skip=on_skip)
    return new_session(corpus, config, seed, folder), corpus


def resumed_session(path: Path, epochs: int | None = None) -> Session:
    """The run saved at ``path``, to continue up to ``epochs`` (default: its own)."""
    loaded = load_model(path, for_resume=True)
    record, model = loaded.record, loaded.model
    record.train = record.train.with_overrides(epochs=epochs)
    _, window_rng, train_rng = seeded_streams(record.seed)
    train_rng.bit_generator.state = loaded.rng_state
    optimizer = make_optimizer(record.train.optimizer, lr=record.train.lr,
                               decay=record.train.decay)
    best = None
    if loaded.resume:
        best = {"epoch": record.best_epoch, "params": model.params}
        model = SequenceModel(model.config, params=loaded.resume[0], buffers=loaded.resume[1])
    try:
        optimizer.load_state_dict(loaded.optimizer_state)
    except ValueError as error:
        raise CheckpointError(f"{path}: optimizer state does not fit the model ({error})") from None
    features, validation = _reread(path, record, loaded.stream, model.config.feature_size > 0)
    seconds = seconds_of(Path(path).parent / HISTORY_NAME, record.epoch)
    return Session(Path(path), model, optimizer, record, loaded.stream, features, validation,
                   window_rng, train_rng, seconds, best)


def reread_corpus(record: RunRecord, *, split: bool = True):
    """The run's corpus read again with the options it was trained with, its pieces
    split into training and validation as in training (all of them training pieces
    unless ``split``)."""
    options = record.corpus.options
    return load_corpus(options.data, encoding=record.encoding, grammar=record.grammar,
                       structure=record.structure, melody_part=options.melody_part,
                       chord_parts=options.chord_parts,
                       bars=options.bars, chords=options.chords,
                       chords_offset=options.chords_offset, where=options.where,
                       validation_share=record.train.validation_share if split else 0.0,
                       seed=record.seed)


def _reread(path, record: RunRecord, stream: TrainingStream, needs_features: bool) -> tuple:
    """(features, validation runs) of a run being resumed: its pieces read again
    with the options it was trained with, checked against the stored stream."""
    if not needs_features and not record.corpus.validation_sources:
        return None, None
    corpus = reread_corpus(record)
    index = {token: i for i, token in enumerate(record.vocabulary)}
    if [index.get(token, -1) for token in corpus.tokens] != stream.ids.tolist():
        raise UsageError(f"{path}: its training data changed since the run started, so it "
                         "cannot be resumed exactly; start a new run")
    validation = stretches_of(corpus.validation, index) if corpus.validation else None
    return corpus.features, validation


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the checkpoint keeps the last finite epoch."""


def fit(session: Session, progress) -> Session:
    """Train ``session`` up to its configured epochs (or early stopping), reporting
    each epoch's row to ``progress`` (``start(total, initial)``, ``epoch(row)``, ``close()``).

    SIGTERM and SIGHUP stop it like Ctrl-C; a signal during a save waits for
    the save to finish.  Raises TrainingInterrupted after saving the last
    finished epoch, TrainingDiverged on a non-finite loss.
    """
    saver = _Saver(session.path)
    progress.start(session.config.epochs, session.first_epoch - 1)
    try:
        with interrupts_as_keyboard_interrupt():
            _epochs(session, progress, saver, signals_deferred)
    except KeyboardInterrupt:
        progress.close()
        with signals_deferred(deliver=False):
            saver.flush()
        done = saver.snapshot.record.epoch if saver.snapshot else session.first_epoch - 1
        raise TrainingInterrupted(session.path, done) from None
    except TrainingDiverged:
        progress.close()
        with signals_deferred(deliver=False):
            saver.flush()
        raise
    with signals_deferred():
        saver.flush()     # stopped early between saves
    progress.close()
    return session


def _epochs(session: Session, progress, saver, signals_deferred) -> None:
    config, record = session.config, session.record
    inputs, targets, features = make_windows(config, session.ids, session.window_rng,
                                             session.features)
    n_a = session.model.config.hidden_size
    for epoch in range(session.first_epoch, config.epochs + 1):
        if _stopped_early(session):
            break
        started = time.perf_counter()
        # A model whose recurrent step is too small for two BLAS threads gains
        # nothing from them anywhere else either, and idle BLAS workers spin.
        with blas_threads_for(min(config.batch_size, len(inputs)) * n_a * 4 * n_a):
            loss, accuracy = train_epoch(session.model, session.optimizer, inputs, targets,
                                         session.train_rng, config.batch_size, config.clip_norm,
                                         features=features)
        if not math.isfinite(loss):
            kept = saver.snapshot.record.epoch if saver.snapshot else 0
            raise TrainingDiverged(f"training diverged at epoch {epoch} (loss {loss}); "
                                   f"{session.path} keeps epoch {kept}; try a smaller --lr")
        row = {"epoch": epoch, "loss": round(loss, 6), "accuracy": round(accuracy, 6)}
        if session.validation is not None:
            measured = score(session.model, session.validation)
            row.update(val_loss=round(measured["nats"], 6),
                       val_accuracy=round(measured["accuracy"], 6))
            _keep_if_best(session, epoch, measured["nats"])
        epoch_seconds = time.perf_counter() - started
        session.seconds.append(round(epoch_seconds, 6))
        record.history.append(list(row.values()))
        record.epoch = epoch
        saver.snapshot = _snapshot(session)
        if saver.due(epoch_seconds) or epoch == config.epochs:
            with signals_deferred():
                saver.flush()
        progress.epoch({**row, "seconds": session.seconds[-1]})


class _Saver:
    """The checkpoint policy: after every epoch that took at least as long as the
    last save did, else at most every SAVE_EVERY_SECONDS; so kill -9 loses at
    most one epoch or SAVE_EVERY_SECONDS of training, whichever is longer."""

    def __init__(self, path: Path):
        self.path = path
        self.snapshot = None
        self.saved_epoch = None
        self.last_save = time.monotonic()
        self.save_seconds = 0.0

    def due(self, epoch_seconds: float) -> bool:
        return (epoch_seconds >= self.save_seconds
                or time.monotonic() - self.last_save >= SAVE_EVERY_SECONDS)

    def flush(self) -> None:
        """Save the latest finished epoch unless it is saved already."""
        if self.snapshot is None or self.snapshot.record.epoch == self.saved_epoch:
            return
        started = time.monotonic()
        try:
            save(self.path, self.snapshot)
        except OSError as error:   # a full disk: say what is kept, not just ENOSPC
            kept = (f"epoch {self.saved_epoch}" if self.saved_epoch is not None
                    else "what it held before")
            raise OSError(f"cannot save epoch {self.snapshot.record.epoch} to {self.path} "
                          f"({error.strerror or error}); it keeps {kept}") from None
        self.saved_epoch = self.snapshot.record.epoch
        self.last_save = time.monotonic()
        self.save_seconds = self.last_save - started


def _keep_if_best(session: Session, epoch: int, validation_loss: float) -> None:
    record = session.record
    best_so_far = math.inf if record.best_val_loss is None else record.best_val_loss
    if math.isfinite(validation_loss) and validation_loss < best_so_far:
        model = session.model
        session.best = {"epoch": epoch, "params": {
            name: array.copy() for name, array in {**model.params, **model.buffers}.items()}}
        record.best_epoch, record.best_val_loss = epoch, round(validation_loss, 6)


def _stopped_early(session: Session) -> bool:
    record, patience = session.record, session.config.patience
    return (patience > 0 and record.best_epoch is not None
            and record.epoch - record.best_epoch >= patience)


@dataclass(frozen=True)
class Snapshot:
    """A copy of one finished epoch, as the checkpoint keeps it: weights (the best
    epoch's, with the latest under ``resume/`` when they differ), optimizer state,
    record, training stream, the training generator's state; and per-epoch seconds."""

    params: dict
    optimizer_state: dict
    record: RunRecord
    stream: TrainingStream
    rng_state: dict
    seconds: list


def _snapshot(session: Session) -> Snapshot:
    model = session.model
    latest = {name: array.copy() for name, array in {**model.params, **model.buffers}.items()}
    params = latest
    if session.best is not None:
        params = {name: array.copy() for name, array in session.best["params"].items()}
        params.update({RESUME_PREFIX + name: array for name, array in latest.items()})
    return Snapshot(params, session.optimizer.state_dict(), copy.deepcopy(session.record),
                    session.stream, session.train_rng.bit_generator.state, list(session.seconds))


def save(path: Path, snapshot: Snapshot) -> None:
    """Checkpoint and history.csv of one finished epoch, each written atomically."""
    record = snapshot.record
    write_file_atomically(path, run_checkpoint_bytes(snapshot.params, snapshot.optimizer_state,
                                                     record, snapshot.stream, snapshot.rng_state))
    validated = any(len(row) > 3 for row in record.history)
    rows = [[*row[:3], second, *row[3:]] for row, second in zip(record.history, snapshot.seconds)]
    write_file_atomically(Path(path).parent / HISTORY_NAME,
                          history_text(rows, validated).encode("utf-8"))
