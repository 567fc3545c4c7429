"""Run folders: ``runs/NAME/model.safetensors`` (the checkpoint) and ``history.csv``.

The checkpoint (``lstm_np.checkpoint``) holds the weights, the optimizer
state, the training stream and the training generator's state as arrays,
and the run record (``jazz_lstm.record``) as JSON; history.csv holds one row
per finished epoch with its wall-clock seconds.  Timings live only in
history.csv, so the same seed and data give byte-identical checkpoints.

An inference bundle (``export_bundle``) is a checkpoint without the
optimizer state, the latest weights of a validated run and the generator's
state, and with only the start of the training stream: it samples and
evaluates, but cannot be resumed.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jazz_lstm.files import write_file_atomically
from jazz_lstm.limits import UsageError
from jazz_lstm.record import (RecordError, RunRecord, TrainingStream, checkpoint_parts,
                              read_checkpoint_parts)
from lstm_np.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from lstm_np.model import SequenceModel, buffer_shapes
from music.files import read_bounded

RUNS_ROOT = Path("runs")
CHECKPOINT_NAME = "model.safetensors"
HISTORY_NAME = "history.csv"
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "seconds")
VALIDATION_COLUMNS = ("val_loss", "val_accuracy")
# Side files of a run are read with a byte budget: history.csv holds ~40 bytes an
# epoch (16 MB: 400,000 epochs), evaluation.json a few kB.
MAX_HISTORY_BYTES = 16 * 1024 * 1024
MAX_EVALUATION_BYTES = 1024 * 1024
MAX_EVALUATION_DEPTH = 8
# Checkpoint entries under this prefix hold the latest weights when the main
# ones are those of the best validation epoch (jazz_lstm.training).
RESUME_PREFIX = "resume/"


# Models that ship inside the package (inference bundles, see export_bundle), by the
# name --run and open_run know them by; their cards sit beside them (jazz.md).
BUNDLED_FOLDER = Path(__file__).resolve().parent / "models"
BUNDLED_MODELS = {"jazz": BUNDLED_FOLDER / "jazz.safetensors"}
# What the ODbL asks a Produced Work to say of the database it was made from.
BUNDLED_ATTRIBUTION = ("The bundled jazz model was trained on the Weimar Jazz Database "
                       "(Jazzomat Research Project, HfM Weimar), made available under the Open "
                       "Database License (ODbL 1.0); its contents under the Database Contents "
                       "License (DbCL 1.0).")


def is_bundled(path) -> bool:
    """Whether a checkpoint path is one of the models that ship with the package."""
    return Path(path) in BUNDLED_MODELS.values()


class ChosenCheckpoint(NamedTuple):
    """The checkpoint a command uses and why, in words ("given by --run")."""

    path: Path
    reason: str


def choose_checkpoint(run: str | None = None, checkpoint=None,
                      runs_root: Path = RUNS_ROOT) -> ChosenCheckpoint:
    """The checkpoint of --checkpoint PATH, of --run NAME, or of the latest run
    (the newest model.safetensors under runs_root), with the reason."""
    if checkpoint and run:
        raise UsageError("give either --run NAME or --checkpoint PATH, not both")
    if checkpoint:
        return ChosenCheckpoint(Path(checkpoint), "given by --checkpoint")
    if run:
        path = Path(runs_root) / run / CHECKPOINT_NAME
        if run in BUNDLED_MODELS and not path.exists():
            return ChosenCheckpoint(BUNDLED_MODELS[run], f"the bundled {run} model, given by --run "
                                    f"(there is no {runs_root}/{run}/)")
        return ChosenCheckpoint(path, "given by --run")
    candidates = sorted(Path(runs_root).glob(f"*/{CHECKPOINT_NAME}"),
                        key=lambda path: path.stat().st_mtime)
    if not candidates:
        return ChosenCheckpoint(BUNDLED_MODELS["jazz"], f"the bundled jazz model, as there is "
                                f"no trained model in {runs_root}/")
    count = len(candidates)
    newest = "the only run" if count == 1 else f"the newest of {count} runs"
    return ChosenCheckpoint(candidates[-1], f"{newest} in {runs_root}/, as no --run was given")


def find_checkpoint(run: str | None = None, checkpoint=None, runs_root: Path = RUNS_ROOT) -> Path:
    """The path of ``choose_checkpoint``."""
    return choose_checkpoint(run, checkpoint, runs_root).path


def checkpoint_path_of(location) -> Path:
    """A run folder, a checkpoint path, or the name of a bundled model ("jazz", when no
    such folder or file exists) -> the checkpoint path (UsageError for anything but
    text or a path)."""
    if not isinstance(location, (str, os.PathLike)):
        raise UsageError(f"a run is named by its folder or checkpoint path, not "
                         f"{type(location).__name__}")
    if isinstance(location, str) and location in BUNDLED_MODELS and not Path(location).exists():
        return BUNDLED_MODELS[location]
    location = Path(location)
    return location / CHECKPOINT_NAME if location.is_dir() else location


class LoadedRun(NamedTuple):
    """A checkpoint read and checked: the model (the best epoch's weights when the
    run was validated), the optimizer state, the run record, the training stream,
    the training generator's state (None unless loaded to resume), and the latest
    (params, buffers) to resume from when they differ from the model's, else None."""

    model: object
    optimizer_state: dict
    record: RunRecord
    stream: TrainingStream
    rng_state: dict | None
    resume: tuple | None


def _split_weights(arrays: dict, buffer_names) -> tuple:
    params = {name: array for name, array in arrays.items() if name not in buffer_names}
    buffers = {name: array for name, array in arrays.items() if name in buffer_names}
    return params, buffers


def load_model(path: Path, *, for_resume: bool = False) -> LoadedRun:
    """The model, optimizer state and checked record of a jazz-lstm checkpoint."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    checkpoint = load_checkpoint(path)
    try:
        record, stream, rng_state = read_checkpoint_parts(checkpoint.metadata, checkpoint.data,
                                                          for_resume=for_resume)
        config = record.model
    except (RecordError, TypeError, ValueError, OverflowError) as error:
        raise CheckpointError(f"{path}: not a usable jazz-lstm checkpoint ({error})") from None
    # BatchNorm running statistics travel with the weights but are not trained.
    buffer_names = set(buffer_shapes(config))
    main = {name: array for name, array in checkpoint.params.items()
            if not name.startswith(RESUME_PREFIX)}
    latest = {name[len(RESUME_PREFIX):]: array for name, array in checkpoint.params.items()
              if name.startswith(RESUME_PREFIX)}
    try:
        params, buffers = _split_weights(main, buffer_names)
        model = SequenceModel(config, params=params, buffers=buffers)
        resume = None
        if latest:
            resume = _split_weights(latest, buffer_names)
            SequenceModel(config, params=resume[0], buffers=resume[1])
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    return LoadedRun(model, checkpoint.optimizer_state, record, stream, rng_state, resume)


def run_checkpoint_bytes(params: dict, optimizer_state: dict, record: RunRecord,
                         stream: TrainingStream, rng_state: dict | None) -> bytes:
    """The bytes of a run's checkpoint (``load_model`` reads them)."""
    metadata, arrays = checkpoint_parts(record, stream, rng_state)
    return checkpoint_bytes(params, optimizer_state, metadata, arrays)


# Primers are windows of the training stream: a bundle keeps this many windows' worth.
BUNDLE_PRIMER_WINDOWS = 16


def export_bundle(run, out_path, *, primer_windows: int = BUNDLE_PRIMER_WINDOWS,
                  half: bool = False) -> Path:
    """Write an inference bundle of ``run`` (a run folder or checkpoint) to ``out_path``.

    It keeps the model's weights (float16 when ``half``: half the size; the
    model computes in its own dtype after loading), the run record, and the
    first ``primer_windows`` training windows' worth of the training stream
    for primers (the whole stream when that is shorter, or when
    ``primer_windows`` is None).  Returns the path written.
    """
    loaded = load_model(checkpoint_path_of(run))
    record, stream = loaded.record, loaded.stream
    params = {**loaded.model.params, **loaded.model.buffers}
    if half:
        params = {name: array.astype(np.float16) for name, array in params.items()}
    if primer_windows is not None and len(stream.ids) > primer_windows * record.train.window_length:
        kept = max(primer_windows * record.train.window_length, 2)
        lengths, left = [], kept
        for length in stream.piece_lengths:
            lengths.append(min(length, left))
            left -= lengths[-1]
        stream = TrainingStream(stream.ids[:kept], tuple(length for length in lengths if length))
        record = replace(record, full_stream=False)
    return write_file_atomically(out_path, run_checkpoint_bytes(params, {}, record, stream, None))


def history_text(rows, validated: bool = False) -> str:
    """history.csv: a header and one row per epoch (epoch, loss, accuracy, seconds,
    and val_loss, val_accuracy for a validated run)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS + (VALIDATION_COLUMNS if validated else ()))
    writer.writerows(rows)
    return buffer.getvalue()


def read_history(path: Path) -> list:
    """The rows of a history.csv as dicts of floats (epoch as int); [] when absent,
    unreadable, not a regular file or over MAX_HISTORY_BYTES (the checkpoint keeps
    the losses too)."""
    try:
        text = read_bounded(path, MAX_HISTORY_BYTES, "history file").decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        try:
            row = {key: (int(value) if key == "epoch" else float(value))
                   for key, value in record.items() if key and value not in (None, "")}
        except ValueError:
            return []
        rows.append(row)
    return rows


def read_evaluation(path: Path) -> dict | None:
    """The figures of an evaluation.json (a JSON object, nested at most
    MAX_EVALUATION_DEPTH deep, of at most MAX_EVALUATION_BYTES); None when absent.
    UsageError naming the file when it is anything else (not a regular file,
    too big, not JSON, not an object)."""
    try:
        data = read_bounded(path, MAX_EVALUATION_BYTES, "evaluation file")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"{_side_file_problem(path, error)}; run `evaluate` again or delete "
                         "it") from None
    try:
        figures = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        figures = None
    if not isinstance(figures, dict) or _depth(figures) > MAX_EVALUATION_DEPTH:
        raise UsageError(f"{path}: not the JSON object `evaluate` writes; run `evaluate` "
                         "again or delete it")
    return figures


def _side_file_problem(path: Path, error: OSError) -> str:
    return str(error) if str(path) in str(error) else f"{path}: {error.strerror or error}"


def _depth(value, limit: int = MAX_EVALUATION_DEPTH + 1) -> int:
    """How deep lists and dicts nest in ``value`` (0 for a number), counted up to ``limit``."""
    if limit == 0 or not isinstance(value, (list, dict)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def seconds_of(history_path: Path, epochs: int) -> list:
    """Per-epoch seconds of the first ``epochs`` rows of an existing history.csv
    (blank where it has none), so that a resumed run keeps its timings."""
    seconds = {row["epoch"]: row.get("seconds") for row in read_history(history_path)}
    return [seconds.get(epoch) if seconds.get(epoch) is not None
            and math.isfinite(seconds[epoch]) else "" for epoch in range(1, epochs + 1)]
