"""The run record: what a jazz-lstm run stores besides its arrays, typed and checked in one place.

A checkpoint keeps its weights, optimizer state, training stream and random
state as arrays, and this record beside them as JSON::

    RunRecord
      train          TrainConfig: every training setting (jazz_lstm.presets)
      feature_size   floats heard beside each token (0: tokens only)
      vocabulary     the tokens, in id order
      corpus         CorpusRecord: encoding, files trained on, left out and
                     held out, how they were read (ReadOptions, --where included)
      music          MusicRecord: tempo, metre, the chords sampling plays
                     without --chords, their title, the melodies' register
      seed           the seed of every random stream
      epoch, history the last finished epoch and one row per epoch
      best_epoch, best_val_loss   the best validation epoch, when validated
      full_stream    False in an inference bundle, which keeps only the start
                     of the training stream (what primers are cut from)

The model's settings are not stored twice: ``RunRecord.model`` is the
lstm_np ModelConfig the training settings, the vocabulary and the feature
size imply.  ``RunRecord.from_json`` checks every field (type, range,
length, consistency with the others) while it builds the record, so a
damaged or hostile checkpoint is refused with one line naming the field
(``RecordError``) instead of failing somewhere later; limits keep memory and
time bounded.  Everything else reads the record as attributes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction

import numpy as np

from jazz_lstm.grammars import grammar_named
from jazz_lstm.limits import (DENOMINATORS, DTYPES, MAX_BATCH_SIZE, MAX_BEATS_PER_BAR, MAX_CHORDS_TEXT,
                              MAX_CHORD_BARS, MAX_CORPUS_IDS, MAX_EPOCHS, MAX_FEATURE_SIZE, MAX_HIDDEN_SIZE,
                              MAX_LAYERS, MAX_SEED, MAX_SOURCES, MAX_TEMPO, MAX_TOKEN_CHARS, MAX_VOCABULARY,
                              MAX_WHERE, MAX_WINDOW_LENGTH, MIN_TEMPO)
from jazz_lstm.presets import (ENCODINGS, GRAMMARS, OPTIMIZERS, STRUCTURES, WINDOW_SCHEMES,
                               TrainConfig)
from lstm_np.parameters import HEADS, ModelConfig
from music.song import MusicError
from music.tokens.conditioning import feature_size as exact_feature_size


# The range or the choices of every training setting, by name (TrainConfig declares them).
TRAIN_LIMITS = {
    "hidden_size": (1, MAX_HIDDEN_SIZE), "num_layers": (1, MAX_LAYERS),
    "dropout": (0.0, 0.99), "dense_size": (0, MAX_HIDDEN_SIZE), "head": HEADS,
    "windows": WINDOW_SCHEMES, "window_length": (1, MAX_WINDOW_LENGTH),
    "window_count": (1, MAX_BATCH_SIZE * 100), "window_step": (1, MAX_WINDOW_LENGTH),
    "optimizer": OPTIMIZERS, "lr": (1e-12, 10.0), "decay": (0.0, 10.0),
    "clip_norm": (0.0, 1e6), "epochs": (1, MAX_EPOCHS), "batch_size": (1, MAX_BATCH_SIZE),
    "temperature": (0.0, 100.0), "batch_norm": None, "dtype": DTYPES, "grammar": GRAMMARS,
    "validation_share": (0.0, 0.9), "patience": (0, MAX_EPOCHS), "structure": STRUCTURES,
}
# Settings added after runs were saved without them: absent means this value, and
# a record leaves them out at this value (so older runs' records read the same).
LATER_SETTINGS = {"structure": "none"}


class RecordError(ValueError):
    """One field of a run record is missing or wrong; the message names it."""


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise RecordError(message)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _object(data, name: str, keys) -> dict:
    """``data`` as a JSON object holding exactly ``keys``."""
    _need(isinstance(data, dict), f"{name} must be an object")
    unknown, missing = set(data) - set(keys), set(keys) - set(data)
    _need(not unknown, f"{name} has unknown fields {sorted(unknown)}")
    _need(not missing, f"{name} lacks fields {sorted(missing)}")
    return data


def _whole(value, name: str, low: int, high: int) -> int:
    _need(_is_int(value) and low <= value <= high,
          f"{name} must be a whole number in {low}..{high}, got {value!r}")
    return value


def _number(value, name: str, low: float, high: float) -> float:
    _need(_is_number(value) and low <= value <= high,
          f"{name} must be a number in {low:g}..{high:g}, got {value!r}")
    return value


def _choice(value, name: str, choices) -> str:
    _need(value in choices, f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _strings(value, name: str) -> tuple:
    _need(isinstance(value, list) and len(value) <= MAX_SOURCES
          and all(isinstance(item, str) for item in value), f"{name} must be a list of strings")
    return tuple(value)


def _optional(value, check):
    return None if value is None else check(value)


# ------------------------------------------------------------------ training settings
def train_config_from_json(data) -> TrainConfig:
    """A TrainConfig of a record, each setting checked against TRAIN_LIMITS."""
    if isinstance(data, dict):
        data = {**LATER_SETTINGS, **data}
    _object(data, "train", TrainConfig.field_names())
    for setting in fields(TrainConfig):
        name, value, limit = setting.name, data[setting.name], TRAIN_LIMITS[setting.name]
        if setting.type == "bool":
            _need(isinstance(value, bool), f"train.{name} must be true or false")
        elif setting.type == "str":
            _choice(value, f"train.{name}", limit)
        elif setting.type == "int":
            _whole(value, f"train.{name}", *limit)
        else:
            _number(value, f"train.{name}", *limit)
    _need(data["structure"] == "none" or data["grammar"] == "exact",
          "train.structure (phrase and form features) needs the exact grammar")
    return TrainConfig(**data)


def train_config_to_json(config: TrainConfig) -> dict:
    """The settings as a record keeps them (LATER_SETTINGS left out at their default)."""
    data = asdict(config)
    for name, default in LATER_SETTINGS.items():
        if data[name] == default:
            del data[name]
    return data


def model_config(config: TrainConfig, vocab_size: int, feature_size: int = 0) -> ModelConfig:
    """The lstm_np ModelConfig a TrainConfig implies for a vocabulary size."""
    return ModelConfig(vocab_size=vocab_size, hidden_size=config.hidden_size,
                       num_layers=config.num_layers, dropout=config.dropout,
                       dense_size=config.dense_size, head=config.head,
                       batch_norm=config.batch_norm, dtype=config.dtype,
                       feature_size=feature_size)


# ------------------------------------------------------------------ corpus
@dataclass(frozen=True)
class ReadOptions:
    """How the corpus was read (read again to resume and to evaluate)."""

    data: tuple | None = None
    melody_part: int | str | None = None
    chord_parts: tuple | None = None
    bars: tuple | None = None
    chords: str | None = None
    chords_offset: int = 0
    where: tuple | None = None

    @classmethod
    def from_json(cls, data) -> ReadOptions:
        _object(data, "corpus.options", [item.name for item in fields(cls)])
        parts = data["chord_parts"]
        _need(data["melody_part"] is None or isinstance(data["melody_part"], (int, str)),
              "corpus.options.melody_part must be a part index or name")
        _need(parts is None or (isinstance(parts, list) and len(parts) <= 1000
                                and all(isinstance(part, (int, str)) for part in parts)),
              "corpus.options.chord_parts must be a list of part indexes or names")
        bars = data["bars"]
        _need(bars is None or (isinstance(bars, list) and len(bars) == 2
                               and all(map(_is_int, bars))),
              "corpus.options.bars must be [first, last]")
        chords = data["chords"]
        _need(chords is None or (isinstance(chords, str) and len(chords) <= MAX_CHORDS_TEXT),
              f"corpus.options.chords must be a progression of at most {MAX_CHORDS_TEXT} "
              "characters")
        where = data["where"]
        _need(where is None or (isinstance(where, list) and len(where) <= MAX_WHERE
                                and all(isinstance(text, str) and len(text) <= MAX_TOKEN_CHARS
                                        and text.isprintable() for text in where)),
              f"corpus.options.where must be at most {MAX_WHERE} FIELD=VALUE texts")
        return cls(data=_optional(data["data"], lambda value: _strings(value, "corpus.options.data")),
                   melody_part=data["melody_part"],
                   chord_parts=_optional(parts, tuple), bars=_optional(bars, tuple),
                   chords=chords,
                   chords_offset=_whole(data["chords_offset"], "corpus.options.chords_offset",
                                        0, MAX_CHORD_BARS),
                   where=_optional(where, tuple))

    def to_json(self) -> dict:
        return {"data": _optional(self.data, list), "melody_part": self.melody_part,
                "chord_parts": _optional(self.chord_parts, list),
                "bars": _optional(self.bars, list), "chords": self.chords,
                "chords_offset": self.chords_offset, "where": _optional(self.where, list)}


@dataclass(frozen=True)
class CorpusRecord:
    """What the run was trained on.

    sources: the files of the training stream; validation_sources: the pieces
    held out; skipped: files that could not be read; options: how they were
    read (``options.where``: the --where choice of a data set's solos);
    notes_encoding_version: the notes encoding's version (notes runs).
    """

    encoding: str
    sources: tuple = ()
    validation_sources: tuple = ()
    skipped: tuple = ()
    options: ReadOptions = field(default_factory=ReadOptions)
    notes_encoding_version: int | None = None

    @property
    def selection(self) -> str:
        """The --where choice of solos ('style=BEBOP instrument=ts'); "" for every solo."""
        return " ".join(self.options.where or ())

    @classmethod
    def from_json(cls, data) -> CorpusRecord:
        _object(data, "corpus", [item.name for item in fields(cls)])
        version = data["notes_encoding_version"]
        _need(version is None or (_is_int(version) and version >= 0),
              "corpus.notes_encoding_version must be a whole number")
        return cls(encoding=_choice(data["encoding"], "corpus.encoding", ENCODINGS),
                   sources=_strings(data["sources"], "corpus.sources"),
                   validation_sources=_strings(data["validation_sources"],
                                               "corpus.validation_sources"),
                   skipped=_strings(data["skipped"], "corpus.skipped"),
                   options=ReadOptions.from_json(data["options"]),
                   notes_encoding_version=version)

    def to_json(self) -> dict:
        return {"encoding": self.encoding, "sources": list(self.sources),
                "validation_sources": list(self.validation_sources),
                "skipped": list(self.skipped), "options": self.options.to_json(),
                "notes_encoding_version": self.notes_encoding_version}


# ------------------------------------------------------------------ music
@dataclass(frozen=True)
class MusicRecord:
    """The music sampling falls back on: tempo; for grammar runs also the metre,
    the first training piece's chords (``music.tokens.solo.chord_bars_to_json``
    form) and title, and the register [low, high] the melodies play in."""

    tempo: float
    time_signature: tuple | None = None
    chords: list | None = None
    chords_title: str = ""
    pitch_range: tuple | None = None

    @classmethod
    def from_json(cls, data, encoding: str) -> MusicRecord:
        _object(data, "music", [item.name for item in fields(cls)])
        tempo = _number(data["tempo"], "music.tempo", MIN_TEMPO, MAX_TEMPO)
        if encoding != "grammar":
            return cls(tempo)
        register = data["pitch_range"]
        _need(isinstance(register, list) and len(register) == 2 and all(map(_is_int, register))
              and 0 <= register[0] and register[0] + 11 <= register[1] <= 127,
              f"music.pitch_range must be [low, high] MIDI pitches an octave apart or more, "
              f"got {register!r}")
        time_signature = check_time_signature(data["time_signature"])
        title = data["chords_title"]
        _need(isinstance(title, str) and len(title) <= MAX_TOKEN_CHARS and title.isprintable(),
              f"music.chords_title must be printable text of at most {MAX_TOKEN_CHARS} "
              "characters")
        chords = data["chords"]
        _need(isinstance(chords, list) and 1 <= len(chords) <= MAX_CHORD_BARS,
              f"music.chords must be a list of 1..{MAX_CHORD_BARS} bars")
        bar_length = Fraction(4 * time_signature[0], time_signature[1])
        for bar in chords:
            _need(isinstance(bar, list) and len(bar) <= 64, "music.chords bars must be lists")
            for chord in bar:
                _check_chord(chord, bar_length)
        return cls(tempo, time_signature, chords, title, tuple(register))

    def to_json(self) -> dict:
        return {"tempo": self.tempo, "time_signature": _optional(self.time_signature, list),
                "chords": self.chords, "chords_title": self.chords_title,
                "pitch_range": _optional(self.pitch_range, list)}


def check_time_signature(value) -> tuple:
    _need(isinstance(value, list) and len(value) == 2 and all(map(_is_int, value))
          and 1 <= value[0] <= MAX_BEATS_PER_BAR and value[1] in DENOMINATORS,
          f"time_signature must be [beats 1..{MAX_BEATS_PER_BAR}, one of {DENOMINATORS}], "
          f"got {value!r}")
    return tuple(value)


def _check_chord(chord, bar_length: Fraction) -> None:
    _need(isinstance(chord, list) and len(chord) == 5, "a stored chord must be "
          "[start, duration, root, pitch classes, symbol]")
    start, duration, root, pitch_classes, symbol = chord
    try:
        start, duration = Fraction(start), Fraction(duration)
    except (TypeError, ValueError, ZeroDivisionError):
        raise RecordError(f"a stored chord has a bad start or duration: {chord!r}") from None
    _need(0 <= start and 0 < duration and start + duration <= bar_length,
          f"a stored chord lies outside its bar: {chord!r}")
    _need(_is_int(root) and 0 <= root <= 11, f"a stored chord root must be 0..11: {chord!r}")
    _need(isinstance(pitch_classes, list) and 1 <= len(pitch_classes) <= 12
          and all(_is_int(pc) and 0 <= pc <= 11 for pc in pitch_classes)
          and root in pitch_classes, f"a stored chord has bad pitch classes: {chord!r}")
    _need(isinstance(symbol, str) and len(symbol) <= MAX_TOKEN_CHARS,
          f"a stored chord symbol must be a short string: {chord!r}")


# ------------------------------------------------------------------ the run
@dataclass
class RunRecord:
    """Everything a run stores besides its arrays (module docstring); training
    updates epoch, history and the best epoch as it goes."""

    train: TrainConfig
    vocabulary: tuple
    corpus: CorpusRecord
    music: MusicRecord
    seed: int
    feature_size: int = 0
    epoch: int = 0
    history: list = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    full_stream: bool = True

    @property
    def model(self) -> ModelConfig:
        return model_config(self.train, len(self.vocabulary), self.feature_size)

    @property
    def grammar(self) -> str:
        return self.train.grammar

    @property
    def structure(self) -> str:
        return self.train.structure

    @property
    def encoding(self) -> str:
        return self.corpus.encoding

    @property
    def validated(self) -> bool:
        return self.best_epoch is not None

    def to_json(self) -> dict:
        return {"train": train_config_to_json(self.train), "vocabulary": list(self.vocabulary),
                "corpus": self.corpus.to_json(), "music": self.music.to_json(),
                "seed": self.seed, "feature_size": self.feature_size, "epoch": self.epoch,
                "history": [list(row) for row in self.history], "best_epoch": self.best_epoch,
                "best_val_loss": self.best_val_loss, "full_stream": self.full_stream}

    @classmethod
    def from_json(cls, data) -> RunRecord:
        """The record of a checkpoint's JSON; RecordError naming the first wrong field."""
        _object(data, "the run record", [item.name for item in fields(cls)])
        train = train_config_from_json(data["train"])
        corpus = CorpusRecord.from_json(data["corpus"])
        vocabulary = check_vocabulary(data["vocabulary"])
        feature_size = _whole(data["feature_size"], "feature_size", 0, MAX_FEATURE_SIZE)
        epoch = _whole(data["epoch"], "epoch", 0, MAX_EPOCHS)
        best_epoch, best_val_loss = data["best_epoch"], data["best_val_loss"]
        _need((best_epoch is None) == (best_val_loss is None),
              "best_epoch and best_val_loss go together")
        if best_epoch is not None:
            _whole(best_epoch, "best_epoch", 1, epoch)
            _number(best_val_loss, "best_val_loss", 0.0, 1e6)
        record = cls(train=train, vocabulary=vocabulary, corpus=corpus,
                     music=MusicRecord.from_json(data["music"], corpus.encoding),
                     seed=_whole(data["seed"], "seed", 0, MAX_SEED), feature_size=feature_size,
                     epoch=epoch, history=check_history(data["history"], epoch),
                     best_epoch=best_epoch, best_val_loss=best_val_loss,
                     full_stream=data["full_stream"])
        _need(isinstance(record.full_stream, bool), "full_stream must be true or false")
        if corpus.encoding == "grammar":
            check_grammar_vocabulary(vocabulary, train.grammar)
        _need(train.structure == "none" or corpus.encoding == "grammar",
              "train.structure (phrase and form features) needs the grammar encoding")
        if train.structure != "none":
            _need(feature_size == exact_feature_size(train.structure),
                  f"feature_size {feature_size} does not fit the exact grammar with "
                  f"structure {train.structure!r} ({exact_feature_size(train.structure)})")
        return record


def check_vocabulary(vocabulary) -> tuple:
    _need(isinstance(vocabulary, list) and 2 <= len(vocabulary) <= MAX_VOCABULARY,
          f"vocabulary must be a list of 2..{MAX_VOCABULARY} tokens")
    _need(all(isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS
              for token in vocabulary), "vocabulary entries must be non-empty short strings")
    _need(len(set(vocabulary)) == len(vocabulary), "vocabulary tokens must be distinct")
    return tuple(vocabulary)


def check_history(history, epoch: int) -> list:
    _need(isinstance(history, list) and len(history) == epoch,
          f"history must hold one row per finished epoch ({epoch})")
    for index, row in enumerate(history, start=1):
        _need(isinstance(row, list) and len(row) in (3, 5) and row[0] == index
              and all(_is_number(value) for value in row[1:]),
              f"history row {index} must be [epoch, loss, accuracy(, val_loss, val_accuracy)]")
    return history


def check_grammar_vocabulary(vocabulary, grammar_name: str) -> None:
    """Every token readable by the run's grammar (exact tokens are not classic ones)."""
    try:
        grammar_named(grammar_name).check_vocabulary(vocabulary)
    except MusicError as error:
        raise RecordError(f"vocabulary does not fit the {grammar_name} grammar: "
                          f"{str(error).splitlines()[0]}") from None


# ------------------------------------------------------------------ the training stream
@dataclass(frozen=True)
class TrainingStream:
    """The training pieces' token ids one after another, and each piece's length."""

    ids: np.ndarray
    piece_lengths: tuple

    def pieces(self) -> list:
        """The ids of each piece, as lists."""
        pieces, start = [], 0
        for length in self.piece_lengths:
            pieces.append(self.ids[start:start + length].tolist())
            start += length
        return pieces


def check_stream(ids, piece_lengths, vocab_size: int) -> TrainingStream:
    """A TrainingStream of stored ids and piece lengths, within the vocabulary."""
    ids = np.asarray(ids)
    _need(ids.ndim == 1 and ids.dtype.kind in "iu" and 2 <= len(ids) <= MAX_CORPUS_IDS,
          f"the training stream must hold 2..{MAX_CORPUS_IDS} token ids")
    _need(bool(((ids >= 0) & (ids < vocab_size)).all()),
          f"the training stream's ids must be whole numbers in 0..{vocab_size - 1}")
    lengths = [int(length) for length in np.asarray(piece_lengths).ravel()]
    _need(np.asarray(piece_lengths).dtype.kind in "iu" and all(length >= 0 for length in lengths)
          and sum(lengths) == len(ids),
          "piece lengths must be whole numbers adding up to the training stream's length")
    return TrainingStream(ids.astype(np.int64), tuple(lengths))


_UINT64 = (1 << 64) - 1


def rng_state_array(state: dict) -> np.ndarray:
    """A PCG64 generator's state as six uint64: state and increment (128 bits each,
    high half first), has_uint32, uinteger."""
    inner = state["state"]
    return np.array([inner["state"] >> 64, inner["state"] & _UINT64, inner["inc"] >> 64,
                     inner["inc"] & _UINT64, state["has_uint32"], state["uinteger"]],
                    dtype=np.uint64)


def rng_state_of(array) -> dict:
    """The PCG64 state ``rng_state_array`` stored; RecordError when it is not one."""
    array = np.asarray(array)
    _need(array.shape == (6,) and array.dtype == np.uint64 and int(array[4]) in (0, 1)
          and int(array[5]) < 1 << 32, "the training generator's state must be 6 uint64 "
          "of a PCG64 state")
    high_state, low_state, high_inc, low_inc, has_uint32, uinteger = (int(value) for value in array)
    return {"bit_generator": "PCG64",
            "state": {"state": high_state << 64 | low_state, "inc": high_inc << 64 | low_inc},
            "has_uint32": has_uint32, "uinteger": uinteger}


# ------------------------------------------------------------------ in the checkpoint
# The arrays a checkpoint keeps beside the weights and the optimizer state.
STREAM_IDS, PIECE_LENGTHS, RNG_STATE = "stream_ids", "piece_lengths", "rng_state"


def checkpoint_parts(record: RunRecord, stream: TrainingStream, rng_state: dict | None) -> tuple:
    """(metadata, arrays) a checkpoint keeps of a run: the record as JSON; the
    training stream, and the training generator's state unless None, as arrays."""
    arrays = {STREAM_IDS: stream.ids.astype(np.int32),
              PIECE_LENGTHS: np.asarray(stream.piece_lengths, dtype=np.int64)}
    if rng_state is not None:
        arrays[RNG_STATE] = rng_state_array(rng_state)
    return record.to_json(), arrays


def read_checkpoint_parts(metadata, arrays: dict, *, for_resume: bool = False) -> tuple:
    """(record, stream, rng state or None) of a checkpoint's metadata and arrays,
    every field checked; the generator's state is required ``for_resume``."""
    record = RunRecord.from_json(metadata)
    _need(set(arrays) <= {STREAM_IDS, PIECE_LENGTHS, RNG_STATE}
          and {STREAM_IDS, PIECE_LENGTHS} <= set(arrays),
          f"the arrays beside the weights must be {STREAM_IDS}, {PIECE_LENGTHS} and "
          f"{RNG_STATE}, got {sorted(arrays)}")
    stream = check_stream(arrays[STREAM_IDS], arrays[PIECE_LENGTHS], len(record.vocabulary))
    rng_state = None
    if for_resume:
        _need(RNG_STATE in arrays and record.full_stream,
              "an inference bundle (weights without the training state); it samples and "
              "evaluates but cannot be resumed")
        rng_state = rng_state_of(arrays[RNG_STATE])
    return record, stream, rng_state
