"""jazz-lstm command line: train, sample, corpus.

    python cli.py train  [--data PATH ...] [--preset course|deepjazz] [...]
    python cli.py sample [--run NAME | --checkpoint PATH] [--chords "Dm7 G7 | Cmaj7"] [...]
    python cli.py corpus [--data PATH ...] [--json]

This file only parses arguments and wires the two packages: ``music``
(files <-> songs <-> tokens) and ``lstm_np`` (token ids <-> probabilities).
Bad input ends with one line ``error: ...`` on stderr and exit status 2;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

DEFAULT_DATA = [
    "music21:leadSheet/berlinAlexandersRagtime.mxl",
    "music21:leadSheet/fosterBrownHair.mxl",
    "music21:joplin/maple_leaf_rag.mxl",
]
RUNS = Path("runs")
CHECKPOINT_NAME = "model.npz"
HISTORY_NAME = "history.csv"
MAX_DEFAULT_BARS = 32
# Checkpoints are written at most this often (and after the last epoch, and on
# Ctrl-C): an fsync per epoch would cost more than a small model's epoch.
SAVE_EVERY_SECONDS = 30.0


class UsageError(Exception):
    """Bad input that is not a file's fault (an option, a missing run)."""


@dataclass(frozen=True)
class TrainConfig:
    """Every training setting, with the course's values as defaults."""

    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    dense_size: int = 0
    head: str = "every_step"
    windows: str = "course"        # "course": count random windows, target = input shifted by one
    window_length: int = 30        # "deepjazz": every window_step-th window, target = next token
    window_count: int = 60
    window_step: int = 3
    optimizer: str = "adam"
    lr: float = 0.01
    decay: float = 0.01
    clip_norm: float = 5.0
    epochs: int = 100
    batch_size: int = 60
    temperature: float = 1.0
    batch_norm: bool = False
    dtype: str = "float32"


PRESETS = {
    # The assignment's djmodel: LSTM(64), Dense(78) + softmax at every step,
    # Adam(lr=0.01, beta_1=0.9, beta_2=0.999, decay=0.01), 60 windows of 30, 100 epochs.
    "course": TrainConfig(),
    # deepjazz: LSTM(128) -> Dropout(0.2) -> LSTM(128) -> Dropout(0.2) -> Dense + softmax
    # on the last step, RMSprop, windows of 20 taken every 3 tokens, 128 epochs.
    "deepjazz": TrainConfig(hidden_size=128, num_layers=2, dropout=0.2, head="last_step",
                            windows="deepjazz", window_length=20, optimizer="rmsprop",
                            lr=0.001, decay=0.0, epochs=128, batch_size=128, temperature=0.5),
    # The LoFi generator (after Classical-Piano-Composer): three LSTMs of 512 with
    # dropout 0.3, BatchNorm, Dense 256 + ReLU, BatchNorm, softmax on the last step of
    # windows of 100 tokens, RMSprop, batches of 64.
    "lofi": TrainConfig(hidden_size=512, num_layers=3, dropout=0.3, dense_size=256,
                        head="last_step", windows="deepjazz", window_length=100, window_step=1,
                        optimizer="rmsprop", lr=0.001, decay=0.0, epochs=50, batch_size=64,
                        batch_norm=True),
}
# Tokens a notes-encoding sample writes by default (about two minutes of music).
NOTES_SAMPLE_LENGTH = 500


# ----------------------------------------------------------------- helpers
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def bar_range(text: str) -> tuple:
    first, _, last = text.partition("-")
    try:
        first, last = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected bars as FIRST-LAST, e.g. 5-22, got {text}")
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(f"bars must satisfy 1 <= FIRST <= LAST, got {text}")
    return first, last


def part_choice(text: str):
    return int(text) if text.isdigit() else text


def warn_skipped(label: str, reason: str) -> None:
    print(f"warning: skipping {reason}", file=sys.stderr, flush=True)


def report_skipped(skipped) -> None:
    if skipped:
        print(f"skipped {len(skipped)} file(s) that could not be read: {', '.join(skipped)}",
              file=sys.stderr)


def load_corpus(args):
    """Songs, their grammar tokens (one flat list) and the files skipped, for --data.

    A file that cannot be read is named on stderr and left out; only a
    corpus where nothing can be read is an error.
    """
    from music.grammar import encode_song
    from music.reading import load_songs
    from music.song import MusicError

    skipped = []

    def skip(label, reason):
        skipped.append(label)
        warn_skipped(label, reason)

    songs = load_songs(args.data or DEFAULT_DATA, melody_part=args.melody_part,
                       chord_parts=args.chord_parts, bars=args.bars, on_skip=skip)
    tokens = [token for song in songs for bar in encode_song(song) for token in bar]
    if len(tokens) < 2:
        raise MusicError(f"{songs[0].source}: only {len(tokens)} token(s) of melody; "
                         "need at least 2 to learn from")
    return songs, tokens, skipped


def load_training_tokens(args):
    """The flat token list of --data under --encoding, and what the checkpoint keeps of it."""
    if args.encoding == "notes":
        from music.notes import DEFAULT_NOTE_SOURCES, ENCODING_VERSION, load_note_corpus

        corpus = load_note_corpus(args.data or DEFAULT_NOTE_SOURCES)
        skipped = [label for label, _ in corpus.skipped]
        report_skipped(skipped)
        about = {"encoding": "notes", "notes_encoding_version": ENCODING_VERSION,
                 "sources": list(corpus.files), "skipped": skipped, "music": {"tempo": 120.0}}
        return corpus.tokens, about, f"{len(corpus.files)} file(s)"
    from music.solo import chord_bars_of, chord_bars_to_json

    songs, tokens, skipped = load_corpus(args)
    report_skipped(skipped)
    first_song = songs[0]
    about = {"encoding": "grammar", "sources": [song.source for song in songs],
             "skipped": skipped,
             "music": {"tempo": first_song.tempo,
                       "time_signature": list(first_song.time_signature),
                       "chords": chord_bars_to_json(chord_bars_of(first_song))}}
    return tokens, about, f"{len(songs)} piece(s)"


def make_windows(config: TrainConfig, ids, rng):
    from music.corpus import course_windows, deepjazz_windows

    # A corpus shorter than one window trains on shorter windows rather than failing.
    length = min(config.window_length, len(ids) - 1)
    if config.windows == "course":
        return course_windows(ids, length, config.window_count, rng=rng)
    return deepjazz_windows(ids, length, config.window_step)


def seeded_streams(seed: int):
    """Independent generators for weights, windows and training (shuffle, dropout)."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3)]


def progress(iterable, total: int, initial: int):
    """A tqdm bar on a terminal; otherwise the iterable as is (plain lines are printed)."""
    if not sys.stderr.isatty():
        return iterable, None
    from tqdm import tqdm
    bar = tqdm(iterable, total=total, initial=initial, unit="epoch", dynamic_ncols=True)
    return bar, bar


def write_text_atomically(path: Path, text: str) -> None:
    from music.midi_out import write_bytes_atomically
    write_bytes_atomically(path, text.encode("utf-8"))


def history_text(history) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", "loss", "accuracy", "seconds"])
    writer.writerows(history)
    return buffer.getvalue()


def find_checkpoint(args) -> Path:
    if args.checkpoint:
        return Path(args.checkpoint)
    if args.run:
        return RUNS / args.run / CHECKPOINT_NAME
    candidates = sorted(RUNS.glob(f"*/{CHECKPOINT_NAME}"), key=lambda path: path.stat().st_mtime)
    if not candidates:
        raise UsageError(f"no trained model in {RUNS}/; run `python cli.py train` first "
                         "or give --checkpoint PATH")
    return candidates[-1]


def load_model(path: Path):
    """The model, optimizer state and metadata of a jazz-lstm checkpoint."""
    from lstm_np.checkpoint import CheckpointError, load_checkpoint
    from lstm_np.model import ModelConfig, SequenceModel, buffer_shapes

    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    checkpoint = load_checkpoint(path)
    metadata = checkpoint.metadata
    try:
        if metadata.get("kind") != "jazz-lstm":
            raise KeyError("kind")
        config = ModelConfig.from_dict(metadata["model"])
        for key in ("vocabulary", "corpus_ids", "music", "train", "epoch", "seed", "encoding"):
            metadata[key]
        TrainConfig(**metadata["train"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(f"{path}: not a jazz-lstm model checkpoint "
                              f"(metadata: {error})") from None
    # BatchNorm running statistics travel with the weights but are not trained.
    buffer_names = set(buffer_shapes(config))
    params = {name: array for name, array in checkpoint.params.items() if name not in buffer_names}
    buffers = {name: array for name, array in checkpoint.params.items() if name in buffer_names}
    try:
        model = SequenceModel(config, params=params, buffers=buffers)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    return model, checkpoint.optimizer_state, metadata


# ------------------------------------------------------------------- train
def train_config_from_args(args) -> TrainConfig:
    config = PRESETS[args.preset or "course"]
    overrides = {"epochs": args.epochs, "hidden_size": args.hidden, "num_layers": args.layers,
                 "lr": args.lr, "batch_size": args.batch_size}
    return replace(config, **{key: value for key, value in overrides.items() if value is not None})


def command_train(args) -> int:
    from lstm_np.model import ModelConfig, SequenceModel
    from lstm_np.optim import make_optimizer
    from lstm_np.train import train_epoch
    from music.corpus import Vocabulary

    if args.resume:
        fixed = [option for option, value in (
            ("--data", args.data), ("--encoding", args.encoding), ("--preset", args.preset),
            ("--hidden", args.hidden), ("--layers", args.layers), ("--lr", args.lr),
            ("--batch-size", args.batch_size), ("--melody-part", args.melody_part),
            ("--chord-parts", args.chord_parts), ("--bars", args.bars)) if value is not None]
        if fixed:
            raise UsageError(f"--resume continues a run with its own data and settings; "
                             f"only --epochs can change, not {', '.join(fixed)}")
        path = find_checkpoint(args)
        run_dir = path.parent
        model, optimizer_state, metadata = load_model(path)
        config = TrainConfig(**metadata["train"])
        if args.epochs is not None:
            config = replace(config, epochs=args.epochs)
        seed = metadata["seed"]
        ids = np.asarray(metadata["corpus_ids"], dtype=np.int64)
        init_rng, window_rng, train_rng = seeded_streams(seed)
        train_rng.bit_generator.state = metadata["rng_state"]
        optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
        optimizer.load_state_dict(optimizer_state)
        first_epoch = metadata["epoch"] + 1
        history = [tuple(row) for row in metadata["history"]]
        print(f"resuming {path} at epoch {first_epoch} of {config.epochs}")
    else:
        config = train_config_from_args(args)
        run_name = args.run or time.strftime("%Y%m%d-%H%M%S")
        run_dir = RUNS / run_name
        path = run_dir / CHECKPOINT_NAME
        if path.exists():
            raise UsageError(f"{path} already exists; use --resume to continue it "
                             "or --run NAME for a new run")
        tokens, about, description = load_training_tokens(args)
        vocabulary = Vocabulary.from_token_lists([tokens])
        ids = vocabulary.encode(tokens)
        seed = args.seed
        init_rng, window_rng, train_rng = seeded_streams(seed)
        model = SequenceModel(ModelConfig(
            vocab_size=len(vocabulary), hidden_size=config.hidden_size,
            num_layers=config.num_layers, dropout=config.dropout, dense_size=config.dense_size,
            head=config.head, batch_norm=config.batch_norm, dtype=config.dtype), rng=init_rng)
        optimizer = make_optimizer(config.optimizer, lr=config.lr, decay=config.decay)
        metadata = {
            "kind": "jazz-lstm", "model": model.config.to_dict(),
            "vocabulary": list(vocabulary.tokens), "corpus_ids": ids.tolist(),
            "train": asdict(config), "seed": seed, "epoch": 0, "history": [], **about,
        }
        first_epoch, history = 1, []
        print(f"training on {description}: {len(ids)} tokens, "
              f"{len(vocabulary)} distinct; run folder {run_dir}/")

    inputs, targets = make_windows(config, ids, window_rng)
    epochs = range(first_epoch, config.epochs + 1)
    epochs, bar = progress(epochs, total=config.epochs, initial=first_epoch - 1)
    snapshot, saved_epoch, last_save = None, None, time.monotonic()
    try:
        for epoch in epochs:
            started = time.perf_counter()
            loss, accuracy = train_epoch(model, optimizer, inputs, targets, train_rng,
                                         config.batch_size, config.clip_norm)
            history.append((epoch, round(loss, 6), round(accuracy, 6),
                            round(time.perf_counter() - started, 6)))
            metadata.update(epoch=epoch, history=history, train=asdict(config),
                            rng_state=train_rng.bit_generator.state)
            # A copy of the finished epoch: an interrupt mid-epoch leaves the live
            # arrays half-updated, and this is what gets saved then.
            snapshot = ({name: array.copy()
                         for name, array in {**model.params, **model.buffers}.items()},
                        optimizer.state_dict(), copy.deepcopy(metadata))
            if time.monotonic() - last_save >= SAVE_EVERY_SECONDS or epoch == config.epochs:
                save_run(path, snapshot)
                saved_epoch, last_save = epoch, time.monotonic()
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3f}", acc=f"{accuracy:.3f}")
            else:
                print(f"epoch {epoch}/{config.epochs}  loss {loss:.4f}  accuracy {accuracy:.3f}"
                      f"  {history[-1][3]:.3f}s", flush=True)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        if snapshot is not None and snapshot[2]["epoch"] != saved_epoch:
            save_run(path, snapshot)
        done = snapshot[2]["epoch"] if snapshot else first_epoch - 1
        print(f"\ninterrupted: {path} holds epoch {done}; continue with "
              f"`python cli.py train --resume --run {run_dir.name}`", file=sys.stderr)
        return 130
    if bar is not None:
        bar.close()
    if history:
        print(f"epoch {history[-1][0]}: loss {history[-1][1]:.4f}, accuracy {history[-1][2]:.3f}")
    print(f"wrote {path} and {run_dir / HISTORY_NAME}")
    return 0


def save_run(path: Path, snapshot) -> None:
    """Checkpoint and history of one finished epoch, each written atomically."""
    from lstm_np.checkpoint import save_checkpoint

    params, optimizer_state, metadata = snapshot
    save_checkpoint(path, params, optimizer_state, metadata)
    write_text_atomically(path.parent / HISTORY_NAME, history_text(metadata["history"]))


# ------------------------------------------------------------------ sample
def primer_ids(args, metadata, rng):
    """(1, P) token ids to warm the model: the end of --primer FILE, or a random
    window of the training corpus (P = the training window length)."""
    ids = np.asarray(metadata["corpus_ids"], dtype=np.int64)
    length = min(metadata["train"]["window_length"], len(ids))
    if not args.primer:
        start = int(rng.integers(0, len(ids) - length + 1))
        return ids[None, start:start + length]
    if metadata["encoding"] == "notes":
        from music.notes import encode_score_tokens
        tokens = encode_score_tokens(args.primer)
    else:
        from music.grammar import encode_song
        from music.reading import load_song
        tokens = [token for bar in encode_song(load_song(args.primer)) for token in bar]
    index = {token: token_id for token_id, token in enumerate(metadata["vocabulary"])}
    known = [index[token] for token in tokens if token in index]
    if not known:
        raise UsageError(f"{args.primer}: none of its {len(tokens)} tokens is in the model's "
                         "vocabulary, so it cannot prime this model")
    return np.asarray([known[-length:]], dtype=np.int64)


def grammar_solo(args, metadata, tokens_for, decode_rng):
    """The Song of a grammar model: tokens dealt into bars and decoded over chords."""
    from music.chords import parse_progression
    from music.solo import build_solo, chord_bars_from_json, tokens_needed

    music_info = metadata["music"]
    time_signature = tuple(music_info["time_signature"])
    bar_length = Fraction(4 * time_signature[0], time_signature[1])
    if args.chords:
        chord_bars = parse_progression(args.chords, beats_per_bar=bar_length)
    else:
        chord_bars = chord_bars_from_json(music_info["chords"])
    bar_count = args.measures or (len(chord_bars) if args.chords
                                  else min(len(chord_bars), MAX_DEFAULT_BARS))
    tokens = tokens_for(tokens_needed(bar_count, bar_length, metadata["vocabulary"]))
    song = build_solo(tokens, chord_bars, bar_count, decode_rng,
                      tempo=args.tempo or music_info["tempo"], time_signature=time_signature)
    return song, {}, f"{bar_count} bars, {len(song.melody_notes)} notes"


def notes_piece(args, metadata, tokens_for):
    """The Song of a notes model: its tokens played one after another."""
    from music.note_tokens import MIDI_OPTIONS, tokens_to_song

    length = args.length or NOTES_SAMPLE_LENGTH
    song = tokens_to_song(tokens_for(length), tempo=args.tempo or metadata["music"]["tempo"])
    chords = sum(len(measure.chords) for measure in song.measures)
    return song, MIDI_OPTIONS, f"{length} tokens: {len(song.melody_notes)} notes, {chords} chords"


def command_sample(args) -> int:
    from lstm_np.generate import generate
    from music.midi_out import song_seconds, write_midi

    path = find_checkpoint(args)
    model, _, metadata = load_model(path)
    encoding = metadata["encoding"]
    if encoding == "notes" and (args.chords or args.measures):
        raise UsageError(f"{path} is a notes-encoding model: --chords and --measures apply to "
                         "the grammar encoding (use --length for the number of tokens)")
    if encoding == "grammar" and args.length:
        raise UsageError(f"{path} is a grammar model: --length applies to the notes encoding "
                         "(use --measures for the number of bars)")
    temperature = metadata["train"]["temperature"] if args.temperature is None else args.temperature
    token_rng, decode_rng = [np.random.default_rng(child)
                             for child in np.random.SeedSequence(args.seed).spawn(2)]
    primer = primer_ids(args, metadata, token_rng)
    vocabulary = metadata["vocabulary"]

    def tokens_for(length):
        generated = generate(model, primer, length, token_rng, temperature, args.top_k)[0]
        return [vocabulary[token_id] for token_id in generated]

    if encoding == "notes":
        song, midi_options, what = notes_piece(args, metadata, tokens_for)
    else:
        song, midi_options, what = grammar_solo(args, metadata, tokens_for, decode_rng)
    out = Path(args.out)
    written = [write_midi(song, out, **midi_options)]
    if args.wav:
        from music.synth import render_wav
        written.append(render_wav(song, out.with_suffix(".wav")))
    print(f"{what}, {song_seconds(song):.1f} s of music at {song.tempo:g} bpm "
          f"(model {path}, seed {args.seed}, temperature {temperature:g})")
    for file in written:
        print(f"wrote {file}")
    return 0


# ------------------------------------------------------------------ corpus
def grammar_corpus_summary(args):
    songs, tokens, skipped = load_corpus(args)
    pieces = [{"source": song.source, "title": song.title,
               "melody_part": song.melody_part, "chords_from": song.chord_source,
               "measures": len(song.measures),
               "measures_with_chords": sum(1 for m in song.measures if m.chords),
               "tempo": song.tempo, "time_signature": "/".join(map(str, song.time_signature))}
              for song in songs]
    lines = [f"{piece['source']}: \"{piece['title']}\", melody = {piece['melody_part']}, "
             f"chords from {piece['chords_from']}, {piece['measures']} measures "
             f"({piece['measures_with_chords']} with chords), {piece['time_signature']} "
             f"at {piece['tempo']:g} bpm" for piece in pieces]
    measures = sum(len(song.measures) for song in songs)
    notes = sum(len(song.melody_notes) for song in songs)
    lines.append(f"{measures} measures, {notes} notes")
    if skipped:
        lines.append(f"skipped {len(skipped)}: {', '.join(skipped)}")
    return {"encoding": "grammar", "pieces": pieces, "measures": measures,
            "notes": notes, "skipped": skipped}, tokens, lines


def notes_corpus_summary(args):
    tokens, about, description = load_training_tokens(args)
    lines = [f"{description} read: {', '.join(about['sources'])}"]
    if about["skipped"]:
        lines.append(f"skipped {len(about['skipped'])}: {', '.join(about['skipped'])}")
    # The notes encoding has no bars: "measures" is null there.
    return {"encoding": "notes", "files": about["sources"], "skipped": about["skipped"],
            "measures": None}, tokens, lines


def command_corpus(args) -> int:
    if args.encoding == "notes":
        summary, tokens, lines = notes_corpus_summary(args)
    else:
        summary, tokens, lines = grammar_corpus_summary(args)
    counts = Counter(tokens)
    summary.update(tokens=len(tokens), vocab_size=len(counts),
                   most_common=counts.most_common(10))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for line in lines:
        print(line)
    print(f"{len(tokens)} tokens, {len(counts)} distinct tokens; most common:")
    for token, count in summary["most_common"]:
        print(f"  {count:6d}  {token}")
    return 0


# -------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jazz-lstm", description="Improvise jazz solos with an LSTM written in NumPy.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", required=True)

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", nargs="+", metavar="PATH",
                      help="MIDI/MusicXML/ABC files, folders, or music21:<corpus path> "
                           "(default: three pieces from music21's corpus, see data/README.md)")
    data.add_argument("--encoding", choices=("grammar", "notes"),
                      help="grammar (default): chord-relative tokens of a melody over chords; "
                           "notes: pitch and chord tokens of whole pieces (the LoFi generator)")
    data.add_argument("--melody-part", type=part_choice, metavar="INDEX|NAME",
                      help="the part that carries the melody (default: found automatically)")
    data.add_argument("--chord-parts", type=part_choice, nargs="+", metavar="INDEX|NAME",
                      help="the parts whose harmony gives the chords (default: all others)")
    data.add_argument("--bars", type=bar_range, metavar="FIRST-LAST",
                      help="keep only these bars (1-based, inclusive)")

    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--run", metavar="NAME", help="run folder runs/NAME/")
    run.add_argument("--checkpoint", metavar="PATH",
                     help="a model.npz to sample from or resume (default: the latest run)")

    train = commands.add_parser("train", parents=[data, run], help="train a model",
                                description="Train an LSTM on grammar tokens of jazz solos.")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help="hyper-parameters of the course (default), deepjazz or the LoFi "
                            "generator")
    train.add_argument("--epochs", type=positive_int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--hidden", type=positive_int, help="LSTM hidden size")
    train.add_argument("--layers", type=positive_int, help="stacked LSTM layers")
    train.add_argument("--lr", type=non_negative_float, help="learning rate")
    train.add_argument("--batch-size", type=positive_int)
    train.add_argument("--resume", action="store_true",
                       help="continue the run (--run NAME, or the latest) from its last epoch")

    sample = commands.add_parser("sample", parents=[run], help="improvise a solo",
                                 description="Write a solo from a trained model.")
    sample.add_argument("--chords", metavar="PROGRESSION",
                        help='chords with bar lines, e.g. "Dm7 G7 | Cmaj7 | Cmaj7" '
                             "(default: the training source's chords)")
    sample.add_argument("--measures", type=positive_int, help="bars to write (grammar models)")
    sample.add_argument("--length", type=positive_int,
                        help=f"tokens to write (notes models; default {NOTES_SAMPLE_LENGTH})")
    sample.add_argument("--primer", metavar="FILE",
                        help="a music file whose last tokens warm the model up "
                             "(default: a random window of the training data)")
    sample.add_argument("--temperature", type=non_negative_float,
                        help="0 = greedy argmax as in the course (default: the preset's)")
    sample.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest tokens")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--tempo", type=non_negative_float, help="beats per minute")
    sample.add_argument("--out", default="output/my_music.mid", help="MIDI file to write")
    sample.add_argument("--wav", action="store_true", help="also write a WAV beside the MIDI")

    corpus = commands.add_parser("corpus", parents=[data], help="show the training corpus",
                                 description="Show what a training run would learn from.")
    corpus.add_argument("--json", action="store_true", help="one JSON object")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "top_k", 0) < 0:
        parser.error("--top-k must be >= 0")
    if getattr(args, "tempo", None) == 0:
        parser.error("--tempo must be > 0")
    from lstm_np.checkpoint import CheckpointError
    from music.song import MusicError

    handlers = {"train": command_train, "sample": command_sample, "corpus": command_corpus}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        # Every file is written atomically: an interrupt leaves nothing half-written.
        if args.debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except (MusicError, CheckpointError, UsageError, OSError) as error:
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
