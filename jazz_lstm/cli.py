"""jazz-lstm command line: train, sample, evaluate, report, progressions, corpus, download,
gradcheck.

    python cli.py train  [--data PATH ...] [--preset course|deepjazz|lofi] [...]
    python cli.py sample [--run NAME | --checkpoint PATH] [--chords "Dm7 G7 | Cmaj7"] [...]
    python cli.py evaluate [--run NAME] [--data HELD_OUT ...] [--samples N] [--quick] [--json]
    python cli.py corpus [--data PATH ...] [--json]
    python cli.py download wjazzd [--folder PATH]
    python cli.py gradcheck [--backend reference|numpy|numba]

This module parses the arguments and runs the command: ``progressions`` here,
the others from ``jazz_lstm.commands``, which call ``jazz_lstm`` and print.  Bad
input ends with one line ``error: ...`` on stderr and exit status 2;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from jazz_lstm import limits
from jazz_lstm.download import DATASETS
from jazz_lstm.files import check_run_name
from jazz_lstm.limits import (MAX_SAMPLE_BARS, MAX_SAMPLE_TOKENS, MAX_SWING, MAX_TEMPERATURE,
                              NOTES_SAMPLE_LENGTH, UsageError, time_signature_problem)
from jazz_lstm.presets import PRESETS, STRUCTURES
from jazz_lstm.signals import DEFERRED_SIGNALS, interrupts_as_keyboard_interrupt, safe_print
from lstm_np.checkpoint import CheckpointError
from music.progressions import FORMS, expand_progression, list_progressions
from music.read.wjazzd_db import SELECTION_FIELDS
from music.song import MusicError


# ----------------------------------------------------------------- option types
def whole_number(low: int, high: int):
    """An argparse type: a whole number in low..high."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number in {low}..{high}, got {text}")
        return value
    return parse


def number(low: float, high: float, *, above_low: bool = False):
    """An argparse type: a finite number in low..high (above low when above_low)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value <= high if above_low else low <= value <= high):
            bound = f"> {low:g} and <= {high:g}" if above_low else f"in {low:g}..{high:g}"
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text}")
        return value
    return parse


def time_signature(text: str) -> tuple:
    numerator, _, denominator = text.partition("/")
    try:
        value = (int(numerator), int(denominator))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time signature like 3/4, got {text!r}") from None
    problem = time_signature_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def run_name(text: str) -> str:
    try:
        return check_run_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def chords_help() -> str:
    """What --chords takes, naming the built-in forms (argparse help: % doubled)."""
    return ('chords with bar lines as on a lead sheet, e.g. "Dm7 / G7 / | %% | Cmaj7 | '
            'D13sus4 | G7alt" ("/" holds the chord before it, "%%" repeats the bar), or a named '
            f"form NAME or NAME:KEY: {', '.join(FORMS)} (e.g. blues:Bb; see `progressions`)")


MAX_SEED = limits.MAX_SEED


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


def say(*values) -> None:
    """Print to stdout; a reader that went away (``| head -1``) stops nothing."""
    safe_print(*values)


def warn(*values) -> None:
    safe_print(*values, file=sys.stderr)


def warn_skipped(label: str, reason: str) -> None:
    warn(f"warning: skipping {reason}")




def command_progressions(args) -> int:
    for name, description, bars in list_progressions():
        say(f"{name:<14} {bars:>3} bars  {description}")
        if args.chords:
            say(f"{'':14} {expand_progression(name)}")
    say("use as --chords NAME or NAME:KEY, e.g. --chords blues:Bb")
    return 0


# -------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jazz-lstm", description="Improvise jazz solos with an LSTM written in NumPy.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", required=True)

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", nargs="+", metavar="PATH",
                      help="MIDI/MusicXML/ABC files, folders, music21:<corpus path>, the Weimar "
                           "Jazz Database file (wjazzd.db), or its CSV solos or their folder "
                           "(default: three pieces from music21's corpus, see data/README.md)")
    data.add_argument("--where", nargs="+", action="extend", metavar="FIELD=VALUE",
                      help="only the database's solos with these metadata, e.g. style=BEBOP "
                           "instrument=ts,as 'performer=Charlie Parker' (fields: "
                           f"{', '.join(SELECTION_FIELDS.values())}; commas give alternatives; "
                           "case is ignored)")
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
    data.add_argument("--chords", metavar="PROGRESSION",
                      help="the chords of melody-only files, repeated over their bars from bar "
                           "1 (a NAME.chords file beside NAME.mid gives one piece its own); "
                           f"{chords_help()}")
    data.add_argument("--chords-offset", type=whole_number(0, limits.MAX_CHORD_BARS),
                      metavar="BARS",
                      help="pickup bars before the first bar of the chords (they take its "
                           "last bars; default 0)")

    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--run", metavar="NAME", type=run_name, help="run folder runs/NAME/")
    run.add_argument("--checkpoint", metavar="PATH",
                     help="a model.safetensors to sample from or resume (default: the latest "
                          "run)")

    train = commands.add_parser("train", parents=[data, run], help="train a model",
                                description="Train an LSTM on grammar tokens of jazz solos.")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help="hyper-parameters of the course (default), deepjazz, the LoFi "
                            "generator, or jazz (the Weimar Jazz Database solos)")
    train.add_argument("--epochs", type=whole_number(1, limits.MAX_EPOCHS))
    train.add_argument("--seed", type=whole_number(0, MAX_SEED),
                       help="the seed of every random draw (default 0)")
    train.add_argument("--hidden", type=whole_number(1, limits.MAX_HIDDEN_SIZE),
                       help="LSTM hidden size")
    train.add_argument("--layers", type=whole_number(1, limits.MAX_LAYERS),
                       help="stacked LSTM layers")
    train.add_argument("--lr", type=number(0, 10, above_low=True), help="learning rate")
    train.add_argument("--batch-size", type=whole_number(1, limits.MAX_BATCH_SIZE))
    train.add_argument("--validation", type=number(0, 0.9), metavar="SHARE",
                       help="share of the pieces held out for validation (default: the "
                            "preset's, 0.1; rounded down to whole pieces)")
    train.add_argument("--patience", type=whole_number(0, limits.MAX_EPOCHS),
                       help="stop after this many epochs without a better validation loss "
                            "(0: never; default: the preset's)")
    train.add_argument("--structure", choices=STRUCTURES,
                       help="phrase and form features beside the harmony (exact grammar; "
                            "default: the preset's)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run (--run NAME, or the latest) from its last epoch")

    sample = commands.add_parser("sample", parents=[run], help="improvise a solo",
                                 description="Write a solo from a trained model.")
    sample.add_argument("--chords", metavar="PROGRESSION",
                        help=f"{chords_help()} (default: the first training piece's chords, "
                             "named in the output)")
    sample.add_argument("--bars", "--measures", dest="bars", type=whole_number(1, MAX_SAMPLE_BARS),
                        help=f"bars to write (grammar models, at most {MAX_SAMPLE_BARS})")
    sample.add_argument("--length", type=whole_number(1, MAX_SAMPLE_TOKENS),
                        help=f"tokens to write (notes models; default {NOTES_SAMPLE_LENGTH})")
    sample.add_argument("--primer", metavar="FILE",
                        help="a music file whose last tokens prime the model "
                             "(default: a random window of the training data)")
    sample.add_argument("--temperature", type=number(0, MAX_TEMPERATURE),
                        help="0 = greedy argmax as in the course (default: the preset's)")
    sample.add_argument("--top-k", type=whole_number(0, limits.MAX_VOCABULARY), default=0,
                        help="sample among the k likeliest tokens")
    sample.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0)
    sample.add_argument("--tempo", type=number(limits.MIN_TEMPO, limits.MAX_TEMPO),
                        help=f"beats per minute ({limits.MIN_TEMPO:g}..{limits.MAX_TEMPO:g})")
    sample.add_argument("--out", default="output/my_music.mid",
                        help="the file to write: .mid (default output/my_music.mid), .wav, or "
                             ".musicxml/.xml/.mxl for a lead sheet")
    sample.add_argument("--wav", action="store_true", help="also write a WAV beside it")
    sample.add_argument("--musicxml", metavar="PATH",
                        help="also write a lead sheet (MusicXML; .mxl compressed)")
    sample.add_argument("--html", metavar="PATH",
                        help="also write a page with a piano roll coloured by harmony and a player")
    sample.add_argument("--band", choices=("none", "comp", "trio"), default="trio",
                        help="trio (default): walking bass, comping and drums; comp: piano only")
    sample.add_argument("--swing", type=number(0, MAX_SWING), default=2.0,
                        help="long:short ratio of a pair of eighths: 2 (default) triplet swing, "
                             "1 or 0 straight")
    sample.add_argument("--time-signature", type=time_signature, metavar="N/D",
                        help="the metre of --chords, e.g. 3/4 (default: the training music's)")

    evaluate = commands.add_parser(
        "evaluate", parents=[run], help="measure what a model learned",
        description="Held-out cross-entropy against n-gram baselines, generated against real "
                    "solos (mgeval overlapping areas), copying, and a summary line.")
    evaluate.add_argument("--data", nargs="+", metavar="PATH",
                          help="held-out music (default: the run's validation pieces)")
    evaluate.add_argument("--bars", type=bar_range, metavar="FIRST-LAST",
                          help="keep only these bars of --data")
    evaluate.add_argument("--samples", type=whole_number(1, 1000), metavar="N",
                          help="held-out segments of 8 bars to generate over (default 40)")
    evaluate.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0)
    evaluate.add_argument("--quick", action="store_true", help="10 segments: under a minute")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")

    report = commands.add_parser("report", parents=[run], help="write a run's page",
                                 description="A page with the loss and accuracy curves, the "
                                             "settings and the latest evaluate figures.")
    report.add_argument("--out", metavar="PATH", help="default: runs/NAME/report.html")

    progressions = commands.add_parser("progressions", help="list the built-in chord forms",
                                       description="Forms --chords takes by name, e.g. blues:F.")
    progressions.add_argument("--chords", action="store_true", help="show their chords too")

    download = commands.add_parser(
        "download", help="fetch a public data set",
        description="Fetch a data set into the cache folder, checking its SHA-256; a second "
                    "run finds it there and does nothing.")
    download.add_argument("name", choices=sorted(DATASETS),
                          help="; ".join(f"{name}: {dataset.description}"
                                         for name, dataset in sorted(DATASETS.items())))
    download.add_argument("--folder", metavar="PATH",
                          help="where to put the file (default: downloads/ in the cache "
                               "folder, $JAZZ_LSTM_CACHE or ~/.cache/jazz-lstm)")
    download.add_argument("--url", help="fetch from this address instead (a mirror); the "
                                        "checksum is checked all the same")

    corpus = commands.add_parser("corpus", parents=[data], help="show the training corpus",
                                 description="Show what a training run would learn from.")
    corpus.add_argument("--json", action="store_true", help="one JSON object")

    gradcheck = commands.add_parser(
        "gradcheck", help="check every gradient against finite differences",
        description="Backpropagated gradients of a small model of each preset's shape, with "
                    "and without features, against centred finite differences in float64; "
                    "exits 1 when a difference reaches 1e-7.")
    gradcheck.add_argument("--backend", choices=("reference", "numpy", "numba"),
                           default="reference",
                           help="whose backward pass: reference (default, lstm_np/lstm.py as "
                                "written), numpy or numba (lstm_np/kernels.py)")
    return parser


def reopen_closed_streams() -> None:
    """Give a closed stdin, stdout or stderr (``2>&-``) to /dev/null: otherwise Python
    leaves sys.stderr None, and the next file opened would take over descriptor 2."""
    for descriptor, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(descriptor)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != descriptor:
                os.dup2(devnull, descriptor)
                os.close(devnull)
        if getattr(sys, name) is None:
            setattr(sys, name, open(descriptor, mode, closefd=False))


def stop_listening_to_interrupts() -> None:
    """After the save and the message, a late second Ctrl-C must not turn status 130
    into death by signal."""
    for number in DEFERRED_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


MAX_ERROR_CHARS = 400


def main(argv=None) -> int:
    reopen_closed_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # SIGTERM and SIGHUP take the Ctrl-C path: clean-up runs, status 130.
        with interrupts_as_keyboard_interrupt():
            if args.command == "progressions":
                return command_progressions(args)
            # The other commands load the model (Numba), the readers and the writers:
            # 0.27 s of start-up (python -X importtime, median of 5) that --help, an
            # option refused by the parser and `progressions` never pay.
            from jazz_lstm import commands
            return getattr(commands, f"command_{args.command}")(args)
    except KeyboardInterrupt:
        # Every file is written atomically: an interrupt leaves nothing half-written.
        if args.debug:
            raise
        warn("interrupted")
        stop_listening_to_interrupts()
        return 130
    except (MusicError, CheckpointError, UsageError, OSError, ValueError) as error:
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if len(message) > MAX_ERROR_CHARS:   # a message quoting a huge input stays readable
            message = message[:MAX_ERROR_CHARS - 3] + "..."
        warn(f"error: {message}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
