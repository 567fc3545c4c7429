"""The commands of the command line (``jazz_lstm.cli`` parses the arguments and
calls them): each calls ``jazz_lstm`` and prints what it did.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

import jazz_lstm
from jazz_lstm import progress as progress_styles
from jazz_lstm.api import REPORT_NAME
from jazz_lstm.cli import say, stop_listening_to_interrupts, warn, warn_skipped
from jazz_lstm.corpus import corpus_summary, load_corpus, skipped_note
from jazz_lstm.download import DATASETS, download
from jazz_lstm.evaluating import EVALUATION_NAME
from jazz_lstm.files import check_outputs, claim_run_folder
from jazz_lstm.limits import UsageError
from jazz_lstm.presets import PRESETS
from jazz_lstm.runs import (BUNDLED_ATTRIBUTION, HISTORY_NAME, RUNS_ROOT, choose_checkpoint,
                            find_checkpoint, is_bundled)
from jazz_lstm.training import TrainingInterrupted
from lstm_np import gradcheck
from lstm_np.kernels import tune_malloc_for_training


def progress_style():
    """A tqdm bar on a terminal; otherwise one plain line per epoch."""
    if sys.stderr.isatty():
        return progress_styles.Bar()
    return progress_styles.Lines(say)


# ------------------------------------------------------------------- train
def command_train(args) -> int:
    # A training process reuses the same large blocks every batch (see the function).
    tune_malloc_for_training()
    if args.resume:
        check_resume_options(args)
        path = find_checkpoint(args.run, args.checkpoint)
        folder = path.parent
    else:
        if args.checkpoint:
            raise UsageError("--checkpoint names a run to resume or sample; a new run takes "
                             "--run NAME")
        folder = claim_run_folder(RUNS_ROOT, args.run)
    try:
        if args.resume:
            run = jazz_lstm.resume(path, args.epochs, progress=progress_style(), say=say,
                                   warn=warn)
        else:
            run = jazz_lstm.train(
                args.data, preset=args.preset, encoding=args.encoding or "grammar",
                grammar=args.grammar, epochs=args.epochs, hidden=args.hidden,
                layers=args.layers, lr=args.lr, batch_size=args.batch_size,
                seed=args.seed or 0, run_dir=folder, melody_part=args.melody_part,
                chord_parts=args.chord_parts, bars=args.bars, chords=args.chords,
                chords_offset=args.chords_offset or 0, where=args.where,
                validation_share=args.validation, patience=args.patience,
                structure=args.structure, progress=progress_style(), on_skip=warn_skipped, say=say, warn=warn)
    except TrainingInterrupted as interrupted:
        if not any(folder.iterdir()):
            folder.rmdir()     # stopped before anything was saved: the name stays free
            warn("\ninterrupted before the first epoch ended; nothing was saved")
        else:
            warn(f"\ninterrupted: {interrupted.path} holds epoch {interrupted.epoch}; continue "
                 f"with `python cli.py train --resume --run {folder.name}`")
        stop_listening_to_interrupts()
        return 130
    except BaseException:
        # Nothing saved (the data unreadable, TrainingDiverged in epoch 1, a ValueError
        # that main prints as one line): the name stays free.
        if not args.resume and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    record = run.record
    if record.history:
        epoch, loss, accuracy = record.history[-1][:3]
        say(f"epoch {epoch}: loss {loss:.4f}, accuracy {accuracy:.3f}")
    if record.validated:
        say(f"best validation epoch {record.best_epoch}: val_loss "
            f"{record.best_val_loss:.4f} (its weights are the model's)")
    say(f"wrote {run.path} and {run.folder / HISTORY_NAME}")
    return 0


def check_resume_options(args) -> None:
    """--resume takes the run's own data and settings: only --epochs may be given."""
    fixed = [option for option, value in (
        ("--data", args.data), ("--encoding", args.encoding), ("--preset", args.preset),
        ("--hidden", args.hidden), ("--layers", args.layers), ("--lr", args.lr),
        ("--batch-size", args.batch_size), ("--grammar", args.grammar), ("--seed", args.seed),
        ("--validation", args.validation), ("--patience", args.patience),
        ("--structure", args.structure), ("--melody-part", args.melody_part),
        ("--chord-parts", args.chord_parts),
        ("--bars", args.bars), ("--chords", args.chords),
        ("--chords-offset", args.chords_offset), ("--where", args.where)) if value is not None]
    if fixed:
        raise UsageError(f"--resume continues a run with its own data and settings; "
                         f"only --epochs can change, not {', '.join(fixed)}")


# ------------------------------------------------------------------ sample
OUT_FORMATS = {".mid": "midi", ".midi": "midi", ".wav": "wav", ".musicxml": "musicxml",
               ".xml": "musicxml", ".mxl": "musicxml"}


def command_sample(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in OUT_FORMATS:
        raise UsageError(f"--out {out}: unknown file type {out.suffix or '(none)'}; use one of "
                         f"{', '.join(OUT_FORMATS)}")
    wav = out.with_suffix(".wav") if args.wav and OUT_FORMATS[out.suffix.lower()] != "wav" else None
    outputs = [out, wav, args.musicxml, args.html]
    chosen = choose_checkpoint(args.run, args.checkpoint)
    check_outputs(outputs, run_inputs(chosen.path) + [args.primer])
    solo = jazz_lstm.sample(chosen.path, chords=args.chords, bars=args.bars, seed=args.seed,
                            temperature=args.temperature, top_k=args.top_k, tempo=args.tempo,
                            length=args.length, primer=args.primer, band=args.band,
                            swing=args.swing, time_signature=args.time_signature, warn=warn)
    if wav is not None or args.html or OUT_FORMATS[out.suffix.lower()] == "wav":
        solo.check_wav_length()  # before any output is written
    writers = {"midi": solo.write_midi, "wav": solo.write_wav, "musicxml": solo.write_musicxml}
    written = [writers[OUT_FORMATS[out.suffix.lower()]](out)]
    if wav is not None:
        written.append(solo.write_wav(wav))
    if args.musicxml:
        written.append(solo.write_musicxml(args.musicxml))
    if args.html:
        page = Path(args.html)
        beside = next((path for path in written if path.suffix == ".wav"), None)
        link = None if beside is None else os.path.relpath(beside, page.parent)
        written.append(solo.write_html(page, wav_path=link))
    say(f"{solo.summary}, {solo.seconds():.1f} s of music at {solo.song.tempo:g} bpm "
        f"(model {chosen.path}, {chosen.reason}; seed {args.seed}, temperature "
        f"{solo.temperature:g})")
    for file in written:
        say(f"wrote {file}")
    if is_bundled(chosen.path):
        say(BUNDLED_ATTRIBUTION)
    return 0


def run_inputs(checkpoint: Path) -> list:
    """The files of a run that sample, report and evaluate read: no output may replace them."""
    return [checkpoint, checkpoint.parent / HISTORY_NAME, checkpoint.parent / EVALUATION_NAME]


# ------------------------------------------------------------------ report
def command_report(args) -> int:
    path = find_checkpoint(args.run, args.checkpoint)
    if is_bundled(path) and not args.out:
        raise UsageError("the bundled model has no run folder to write its page into; "
                         "give --out PATH")
    out = Path(args.out) if args.out else path.parent / REPORT_NAME
    check_outputs([out], run_inputs(path))
    say(f"wrote {jazz_lstm.report(path, out)}")
    return 0


# ---------------------------------------------------------------- download
def command_download(args) -> int:
    dataset = DATASETS[args.name]
    bar = None

    def progress(done: int, total) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="B", unit_scale=True, desc=args.name,
                       dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        fetched = download(args.name, args.folder, url=args.url,
                           progress=progress if sys.stderr.isatty() else None)
    finally:
        if bar is not None:
            bar.close()
    if fetched.downloaded:
        say(f"wrote {fetched.path} ({fetched.size:,} bytes, SHA-256 checked): "
            f"{dataset.description}")
    else:
        say(f"{fetched.path} is already there ({fetched.size:,} bytes, SHA-256 checked); "
            "nothing to do")
    say(dataset.notice)
    return 0


# ---------------------------------------------------------------- evaluate
def command_evaluate(args) -> int:
    chosen = choose_checkpoint(args.run, args.checkpoint)
    run = jazz_lstm.open_run(chosen.path)
    evaluation = jazz_lstm.evaluate(run, args.data, bars=args.bars, samples=args.samples,
                                    seed=args.seed, quick=args.quick)
    trained_on = run.record.corpus.selection
    if args.json:
        model = {"path": str(chosen.path), "chosen": chosen.reason}
        if trained_on:
            model["where"] = trained_on
        say(json.dumps({"model": model, **evaluation.to_json()}, indent=2))
    else:
        say(f"model: {chosen.path} ({chosen.reason})"
            + (f", trained on the solos with {trained_on}" if trained_on else ""))
        say(evaluation.table())
    return 0


# ------------------------------------------------------------------ corpus
def command_corpus(args) -> int:
    corpus = load_corpus(args.data, encoding=args.encoding or "grammar",
                         grammar=args.grammar or "exact", melody_part=args.melody_part,
                         chord_parts=args.chord_parts, bars=args.bars, chords=args.chords,
                         chords_offset=args.chords_offset or 0, where=args.where,
                         on_skip=warn_skipped)
    if args.encoding == "notes":
        if corpus.skipped:
            warn(skipped_note(corpus.skipped))
    summary, lines = corpus_summary(corpus)
    if args.json:
        say(json.dumps(summary, indent=2))
        return 0
    for line in lines:
        say(line)
    say(f"{summary['tokens']} tokens, {summary['vocab_size']} distinct tokens; most common:")
    for token, count in summary["most_common"]:
        say(f"  {count:6d}  {token}")
    return 0


# --------------------------------------------------------------- gradcheck
def command_gradcheck(args) -> int:
    return gradcheck.report(PRESETS, args.backend, say)


