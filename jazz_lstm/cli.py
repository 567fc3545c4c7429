"""jazz-lstm command line: train, sample, evaluate, corpus.

    python cli.py train  [--data PATH ...] [--preset course|deepjazz|lofi] [...]
    python cli.py sample [--run NAME | --checkpoint PATH] [--chords "Dm7 G7 | Cmaj7"] [...]
    python cli.py evaluate [--run NAME] [--data HELD_OUT ...] [--samples N] [--quick] [--json]
    python cli.py corpus [--data PATH ...] [--json]

This module only parses arguments, calls ``jazz_lstm`` and prints.  Bad
input ends with one line ``error: ...`` on stderr and exit status 2;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from jazz_lstm.presets import PRESETS
from jazz_lstm.runs import HISTORY_NAME, RUNS_ROOT, UsageError, find_checkpoint
from jazz_lstm.sampling import NOTES_SAMPLE_LENGTH


# ----------------------------------------------------------------- option types
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
        raise argparse.ArgumentTypeError(f"expected bars as FIRST-LAST, e.g. 5-22, got {text}") from None
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




def progress_style():
    """A tqdm bar on a terminal; otherwise one plain line per epoch."""
    from jazz_lstm import progress

    if sys.stderr.isatty():
        return progress.Bar()
    return progress.Lines(lambda line: print(line, flush=True))


# ------------------------------------------------------------------- train
def command_train(args) -> int:
    from jazz_lstm.training import TrainingInterrupted, fit, prepare, resumed_session
    from lstm_np.kernels import tune_malloc_for_training

    # A training process reuses the same large blocks every batch (see the function).
    tune_malloc_for_training()

    if args.resume:
        fixed = [option for option, value in (
            ("--data", args.data), ("--encoding", args.encoding), ("--preset", args.preset),
            ("--hidden", args.hidden), ("--layers", args.layers), ("--lr", args.lr),
            ("--batch-size", args.batch_size), ("--grammar", args.grammar),
            ("--melody-part", args.melody_part),
            ("--chord-parts", args.chord_parts), ("--bars", args.bars)) if value is not None]
        if fixed:
            raise UsageError(f"--resume continues a run with its own data and settings; "
                             f"only --epochs can change, not {', '.join(fixed)}")
        session = resumed_session(find_checkpoint(args.run, args.checkpoint), args.epochs)
        print(f"resuming {session.path} at epoch {session.first_epoch} of "
              f"{session.config.epochs}")
    else:
        config = PRESETS[args.preset or "course"].with_overrides(
            epochs=args.epochs, hidden_size=args.hidden, num_layers=args.layers, lr=args.lr,
            batch_size=args.batch_size, grammar=args.grammar)
        folder = RUNS_ROOT / (args.run or time.strftime("%Y%m%d-%H%M%S"))
        from jazz_lstm.runs import CHECKPOINT_NAME
        if (folder / CHECKPOINT_NAME).exists():
            raise UsageError(f"{folder / CHECKPOINT_NAME} already exists; use --resume to "
                             "continue it or --run NAME for a new run")
        session, corpus = prepare(args.data, config, seed=args.seed, folder=folder,
                                  encoding=args.encoding or "grammar",
                                  melody_part=args.melody_part, chord_parts=args.chord_parts,
                                  bars=args.bars, on_skip=warn_skipped)
        report_skipped(corpus.skipped)
        print(f"training on {corpus.description}: {len(session.ids)} tokens, "
              f"{len(session.metadata['vocabulary'])} distinct; run folder {folder}/")
    try:
        fit(session, progress_style())
    except TrainingInterrupted as interrupted:
        print(f"\ninterrupted: {interrupted.path} holds epoch {interrupted.epoch}; continue "
              f"with `python cli.py train --resume --run {interrupted.path.parent.name}`",
              file=sys.stderr)
        return 130
    history = session.metadata["history"]
    if history:
        print(f"epoch {history[-1][0]}: loss {history[-1][1]:.4f}, accuracy {history[-1][2]:.3f}")
    print(f"wrote {session.path} and {session.path.parent / HISTORY_NAME}")
    return 0


# ------------------------------------------------------------------ sample
def command_sample(args) -> int:
    from jazz_lstm.api import open_run

    run = open_run(find_checkpoint(args.run, args.checkpoint))
    solo = run.sample(chords=args.chords, bars=args.bars, seed=args.seed,
                      temperature=args.temperature, top_k=args.top_k, tempo=args.tempo,
                      length=args.length, primer=args.primer)
    out = Path(args.out)
    written = [solo.write_midi(out)]
    if args.wav:
        written.append(solo.write_wav(out.with_suffix(".wav")))
    print(f"{solo.summary}, {solo.seconds():.1f} s of music at {solo.song.tempo:g} bpm "
          f"(model {run.path}, seed {args.seed}, temperature {solo.temperature:g})")
    for file in written:
        print(f"wrote {file}")
    return 0


# ---------------------------------------------------------------- evaluate
def command_evaluate(args) -> int:
    from jazz_lstm.api import open_run

    run = open_run(find_checkpoint(args.run, args.checkpoint))
    evaluation = run.evaluate(args.data, bars=args.bars, samples=args.samples, seed=args.seed,
                              quick=args.quick)
    if args.json:
        print(json.dumps(evaluation.to_json(), indent=2))
    else:
        print(evaluation.table())
    return 0


# ------------------------------------------------------------------ corpus
def command_corpus(args) -> int:
    from jazz_lstm.corpus import corpus_summary, load_corpus

    corpus = load_corpus(args.data, encoding=args.encoding or "grammar",
                         grammar=args.grammar or "exact", melody_part=args.melody_part,
                         chord_parts=args.chord_parts, bars=args.bars, on_skip=warn_skipped)
    if args.encoding == "notes":
        report_skipped(corpus.skipped)
    summary, lines = corpus_summary(corpus)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for line in lines:
        print(line)
    print(f"{summary['tokens']} tokens, {summary['vocab_size']} distinct tokens; most common:")
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
    data.add_argument("--grammar", choices=("exact", "classic"),
                      help="exact (default): lossless chord-relative tokens with bar lines, "
                           "the model hearing the chords; classic: the course's tokens")
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
    sample.add_argument("--bars", "--measures", dest="bars", type=positive_int,
                        help="bars to write (grammar models)")
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

    evaluate = commands.add_parser(
        "evaluate", parents=[run], help="measure what a model learned",
        description="Held-out cross-entropy against n-gram baselines, generated against real "
                    "solos (mgeval overlapping areas), copying, and a summary line.")
    evaluate.add_argument("--data", nargs="+", metavar="PATH",
                          help="held-out music (default: the run's validation pieces)")
    evaluate.add_argument("--bars", type=bar_range, metavar="FIRST-LAST",
                          help="keep only these bars of --data")
    evaluate.add_argument("--samples", type=positive_int, metavar="N",
                          help="held-out segments of 8 bars to generate over (default 40)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--quick", action="store_true", help="10 segments: under a minute")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")

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

    handlers = {"train": command_train, "sample": command_sample, "evaluate": command_evaluate,
                "corpus": command_corpus}
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
