"""The metadata a jazz-lstm checkpoint carries, checked in one place.

A checkpoint (``model.npz``) is self-contained: besides the weights and the
optimiser state it holds this JSON object::

    kind          "jazz-lstm"
    model         lstm_np ModelConfig as a dict
    train         TrainConfig as a dict (jazz_lstm.presets)
    encoding      "grammar" or "notes"
    vocabulary    the tokens, id order; len == model.vocab_size
    corpus_ids    the training stream as token ids (what primers are cut from)
    seed          the seed of every random stream, >= 0
    epoch         the last finished epoch, >= 0
    history       [[epoch, loss, accuracy], ...] one row per finished epoch
    music         {"tempo": bpm, "time_signature": [n, d], "chords": bars} (grammar)
    sources       the files trained on;   skipped: the files left out
    rng_state     the training stream's generator state (needed to resume)

Every field is checked for type, range and length, and for consistency with
the others (vocabulary against vocab_size, corpus ids against the
vocabulary), so that a damaged or hostile checkpoint is refused with one line
instead of failing somewhere later.  Limits keep memory and time bounded.
"""
from __future__ import annotations

import math
from fractions import Fraction

from jazz_lstm.presets import (ENCODINGS, GRAMMARS, LEGACY_SETTINGS, OPTIMIZERS, WINDOW_SCHEMES,
                              TrainConfig)

KIND = "jazz-lstm"
MAX_VOCABULARY = 100_000
MAX_TOKEN_CHARS = 200
MAX_CORPUS_IDS = 20_000_000
MAX_HIDDEN_SIZE = 4096
MAX_LAYERS = 8
MAX_EPOCHS = 1_000_000
MAX_WINDOW_LENGTH = 10_000
MAX_BATCH_SIZE = 100_000
MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
MAX_BEATS_PER_BAR = 32
DENOMINATORS = (1, 2, 4, 8, 16, 32)
MAX_CHORD_BARS = 10_000
# --where FIELD=VALUE choices kept with the run.
MAX_WHERE = 100
# A --chords progression kept with the run: a few hundred bars of symbols.
MAX_CHORDS_TEXT = 100_000


class MetadataError(ValueError):
    """One field of a checkpoint's metadata is missing or wrong; the message names it."""


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise MetadataError(message)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _int_in(data: dict, key: str, low: int, high: int) -> int:
    value = data.get(key)
    _need(_is_int(value) and low <= value <= high,
          f"{key} must be a whole number in {low}..{high}, got {value!r}")
    return value


def _number_in(data: dict, key: str, low: float, high: float) -> float:
    value = data.get(key)
    _need(_is_number(value) and low <= value <= high,
          f"{key} must be a number in {low:g}..{high:g}, got {value!r}")
    return value


def _choice(data: dict, key: str, choices) -> str:
    value = data.get(key)
    _need(value in choices, f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_model(model) -> dict:
    _need(isinstance(model, dict), "model must be an object")
    _int_in(model, "vocab_size", 2, MAX_VOCABULARY)
    _int_in(model, "hidden_size", 1, MAX_HIDDEN_SIZE)
    _int_in(model, "num_layers", 1, MAX_LAYERS)
    _int_in(model, "dense_size", 0, MAX_HIDDEN_SIZE)
    _int_in(model, "feature_size", 0, 1024) if "feature_size" in model else None
    _number_in(model, "dropout", 0.0, 0.99)
    _choice(model, "head", ("every_step", "last_step"))
    _choice(model, "dtype", ("float32", "float64"))
    _need(isinstance(model.get("batch_norm"), bool), "model.batch_norm must be true or false")
    return model


def check_train(train) -> dict:
    """The settings a checkpoint stores, every field checked; settings added
    since the checkpoint was written take their LEGACY_SETTINGS values."""
    _need(isinstance(train, dict), "train must be an object")
    train.update({key: value for key, value in LEGACY_SETTINGS.items() if key not in train})
    unknown = set(train) - set(TrainConfig.field_names())
    _need(not unknown, f"train has unknown settings {sorted(unknown)}")
    missing = set(TrainConfig.field_names()) - set(train)
    _need(not missing, f"train lacks settings {sorted(missing)}")
    _int_in(train, "hidden_size", 1, MAX_HIDDEN_SIZE)
    _int_in(train, "num_layers", 1, MAX_LAYERS)
    _int_in(train, "dense_size", 0, MAX_HIDDEN_SIZE)
    _number_in(train, "dropout", 0.0, 0.99)
    _choice(train, "head", ("every_step", "last_step"))
    _choice(train, "windows", WINDOW_SCHEMES)
    _int_in(train, "window_length", 1, MAX_WINDOW_LENGTH)
    _int_in(train, "window_count", 1, MAX_BATCH_SIZE * 100)
    _int_in(train, "window_step", 1, MAX_WINDOW_LENGTH)
    _choice(train, "optimizer", OPTIMIZERS)
    _number_in(train, "lr", 1e-12, 10.0)
    _number_in(train, "decay", 0.0, 10.0)
    _number_in(train, "clip_norm", 0.0, 1e6)
    _int_in(train, "epochs", 1, MAX_EPOCHS)
    _int_in(train, "batch_size", 1, MAX_BATCH_SIZE)
    _number_in(train, "temperature", 0.0, 100.0)
    _need(isinstance(train.get("batch_norm"), bool), "train.batch_norm must be true or false")
    _choice(train, "dtype", ("float32", "float64"))
    _choice(train, "grammar", GRAMMARS)
    _number_in(train, "validation_share", 0.0, 0.9)
    _int_in(train, "patience", 0, MAX_EPOCHS)
    return train


def check_vocabulary(vocabulary, vocab_size: int) -> list:
    _need(isinstance(vocabulary, list) and len(vocabulary) == vocab_size,
          f"vocabulary must be a list of vocab_size = {vocab_size} tokens")
    _need(all(isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS
              for token in vocabulary), "vocabulary entries must be non-empty short strings")
    _need(len(set(vocabulary)) == len(vocabulary), "vocabulary tokens must be distinct")
    return vocabulary


def check_corpus_ids(ids, vocab_size: int) -> list:
    _need(isinstance(ids, list) and 2 <= len(ids) <= MAX_CORPUS_IDS,
          f"corpus_ids must be a list of 2..{MAX_CORPUS_IDS} token ids")
    _need(all(_is_int(token_id) and 0 <= token_id < vocab_size for token_id in ids),
          f"corpus_ids must be whole numbers in 0..{vocab_size - 1}")
    return ids


def check_time_signature(value) -> tuple:
    _need(isinstance(value, list) and len(value) == 2 and all(map(_is_int, value))
          and 1 <= value[0] <= MAX_BEATS_PER_BAR and value[1] in DENOMINATORS,
          f"time_signature must be [beats 1..{MAX_BEATS_PER_BAR}, one of {DENOMINATORS}], "
          f"got {value!r}")
    return tuple(value)


def check_music(music, encoding: str) -> dict:
    _need(isinstance(music, dict), "music must be an object")
    _number_in(music, "tempo", MIN_TEMPO, MAX_TEMPO)
    if encoding == "grammar":
        register = music.get("pitch_range", [0, 127])
        _need(isinstance(register, list) and len(register) == 2 and all(map(_is_int, register))
              and 0 <= register[0] and register[0] + 11 <= register[1] <= 127,
              f"music.pitch_range must be [low, high] MIDI pitches an octave apart or more, "
              f"got {register!r}")
        check_time_signature(music.get("time_signature"))
        title = music.get("chords_title", "")
        _need(isinstance(title, str) and len(title) <= MAX_TOKEN_CHARS and title.isprintable(),
              f"music.chords_title must be printable text of at most {MAX_TOKEN_CHARS} "
              "characters")
        chords = music.get("chords")
        _need(isinstance(chords, list) and 1 <= len(chords) <= MAX_CHORD_BARS,
              f"music.chords must be a list of 1..{MAX_CHORD_BARS} bars")
        bar_length = Fraction(4 * music["time_signature"][0], music["time_signature"][1])
        for bar in chords:
            _need(isinstance(bar, list) and len(bar) <= 64, "music.chords bars must be lists")
            for chord in bar:
                _check_chord(chord, bar_length)
    return music


def _check_chord(chord, bar_length: Fraction) -> None:
    _need(isinstance(chord, list) and len(chord) == 5, "a stored chord must be "
          "[start, duration, root, pitch classes, symbol]")
    start, duration, root, pitch_classes, symbol = chord
    try:
        start, duration = Fraction(start), Fraction(duration)
    except (TypeError, ValueError, ZeroDivisionError):
        raise MetadataError(f"a stored chord has a bad start or duration: {chord!r}") from None
    _need(0 <= start and 0 < duration and start + duration <= bar_length,
          f"a stored chord lies outside its bar: {chord!r}")
    _need(_is_int(root) and 0 <= root <= 11, f"a stored chord root must be 0..11: {chord!r}")
    _need(isinstance(pitch_classes, list) and 1 <= len(pitch_classes) <= 12
          and all(_is_int(pc) and 0 <= pc <= 11 for pc in pitch_classes)
          and root in pitch_classes, f"a stored chord has bad pitch classes: {chord!r}")
    _need(isinstance(symbol, str) and len(symbol) <= MAX_TOKEN_CHARS,
          f"a stored chord symbol must be a short string: {chord!r}")


def check_history(history, epoch: int) -> list:
    _need(isinstance(history, list) and len(history) == epoch,
          f"history must hold one row per finished epoch ({epoch})")
    for index, row in enumerate(history, start=1):
        _need(isinstance(row, list) and len(row) >= 3 and row[0] == index
              and all(_is_number(value) for value in row[1:3]),
              f"history row {index} must be [epoch, loss, accuracy]")
    return history


def check_rng_state(state) -> dict:
    _need(isinstance(state, dict) and state.get("bit_generator") == "PCG64"
          and isinstance(state.get("state"), dict)
          and all(_is_int(state["state"].get(key)) and state["state"][key] >= 0
                  for key in ("state", "inc"))
          and _is_int(state.get("has_uint32")) and _is_int(state.get("uinteger")),
          "rng_state must be a PCG64 generator state")
    return state


def check_metadata(metadata, *, for_resume: bool = False) -> dict:
    """Raise MetadataError naming the first field that is wrong; return metadata."""
    _need(isinstance(metadata, dict), "metadata must be an object")
    _need(metadata.get("kind") == KIND, f"kind must be {KIND!r}; not a jazz-lstm model")
    model = check_model(metadata.get("model"))
    check_train(metadata.get("train"))
    encoding = _choice(metadata, "encoding", ENCODINGS)
    check_vocabulary(metadata.get("vocabulary"), model["vocab_size"])
    check_corpus_ids(metadata.get("corpus_ids"), model["vocab_size"])
    _int_in(metadata, "seed", 0, 2 ** 63 - 1)
    epoch = _int_in(metadata, "epoch", 0, MAX_EPOCHS)
    check_history(metadata.get("history"), epoch)
    check_music(metadata.get("music"), encoding)
    if encoding == "grammar":
        check_grammar_vocabulary(metadata["vocabulary"], metadata["train"]["grammar"])
    for key in ("sources", "skipped", "validation_sources"):
        value = metadata.get(key, [])
        _need(isinstance(value, list) and all(isinstance(item, str) for item in value),
              f"{key} must be a list of strings")
    check_options(metadata.get("options"))
    lengths = metadata.get("piece_lengths", [len(metadata["corpus_ids"])])
    _need(isinstance(lengths, list) and all(_is_int(length) and length >= 0 for length in lengths)
          and sum(lengths) == len(metadata["corpus_ids"]),
          "piece_lengths must be whole numbers adding up to the corpus length")
    if "best_epoch" in metadata:
        _int_in(metadata, "best_epoch", 1, epoch)
        _number_in(metadata, "best_val_loss", 0.0, 1e6)
    if for_resume:
        check_rng_state(metadata.get("rng_state"))
    return metadata


def check_grammar_vocabulary(vocabulary, grammar_name: str) -> None:
    """Every token readable by the run's grammar (a checkpoint whose grammar
    setting was lost reads as classic, and exact tokens are not classic ones)."""
    from jazz_lstm.grammars import grammar_named
    from music.song import MusicError

    try:
        grammar_named(grammar_name).check_vocabulary(vocabulary)
    except MusicError as error:
        raise MetadataError(f"vocabulary does not fit the {grammar_name} grammar: "
                            f"{str(error).splitlines()[0]}") from None


def check_options(options) -> None:
    """How the corpus was read (to read it again for --resume and evaluate)."""
    if options is None:
        return
    _need(isinstance(options, dict) and set(options) <= {"data", "melody_part", "chord_parts",
                                                          "bars", "chords", "chords_offset",
                                                          "where"},
          "options must be an object")
    where = options.get("where")
    _need(where is None or (isinstance(where, list) and len(where) <= MAX_WHERE
                            and all(isinstance(text, str) and len(text) <= MAX_TOKEN_CHARS
                                    and text.isprintable() for text in where)),
          f"options.where must be at most {MAX_WHERE} FIELD=VALUE texts")
    data = options.get("data")
    _need(data is None or (isinstance(data, list) and all(isinstance(item, str) for item in data)),
          "options.data must be a list of paths")
    for key in ("melody_part",):
        _need(options.get(key) is None or isinstance(options[key], (int, str)),
              f"options.{key} must be a part index or name")
    parts = options.get("chord_parts")
    _need(parts is None or (isinstance(parts, list) and all(isinstance(p, (int, str)) for p in parts)),
          "options.chord_parts must be a list of part indexes or names")
    bars = options.get("bars")
    _need(bars is None or (isinstance(bars, list) and len(bars) == 2 and all(map(_is_int, bars))),
          "options.bars must be [first, last]")
    chords = options.get("chords")
    _need(chords is None or (isinstance(chords, str) and len(chords) <= MAX_CHORDS_TEXT),
          f"options.chords must be a progression of at most {MAX_CHORDS_TEXT} characters")
    offset = options.get("chords_offset", 0)
    _need(_is_int(offset) and 0 <= offset <= MAX_CHORD_BARS,
          f"options.chords_offset must be a whole number of bars in 0..{MAX_CHORD_BARS}")
