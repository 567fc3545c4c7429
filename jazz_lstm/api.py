"""The public Python API: train a run, open it, sample solos from it.

    import jazz_lstm
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=20, seed=0, run_dir="runs/demo")
    run = jazz_lstm.open_run("runs/demo")            # or a model.safetensors path
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1, temperature=1.0)
    solo.write_midi("solo.mid"); solo.write_wav("solo.wav")
    run.history                                      # per-epoch rows

The command line calls the same functions, so the same options and seeds
give the same model and the same solo from either.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import asdict
from pathlib import Path

from jazz_lstm import progress as progress_styles
from jazz_lstm.corpus import skipped_note
from jazz_lstm.evaluating import EVALUATION_NAME, evaluate_run, save_evaluation
from jazz_lstm.files import clean_stale_temp_files, training_claim, write_file_atomically
from jazz_lstm.presets import preset_config
from jazz_lstm.report_page import run_report_html
from jazz_lstm.runs import (CHECKPOINT_NAME, HISTORY_NAME, UsageError, checkpoint_path_of,
                            is_bundled, load_model, read_evaluation, read_history)
from jazz_lstm.sampling import SampleSettings, Solo, sample_song
from jazz_lstm.signals import safe_print
from jazz_lstm.training import fit, prepare, resumed_session
from jazz_lstm.warmup import warm_up
from lstm_np.kernels import resolve_backend
from music.read.given_chords import GIVEN_TEXT

REPORT_NAME = "report.html"


class Run:
    """A trained model and its run folder."""

    def __init__(self, path):
        self.path = checkpoint_path_of(path)
        loaded = load_model(self.path)
        self.model, self.record, self.stream = loaded.model, loaded.record, loaded.stream

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def history(self) -> list:
        """Per-epoch rows, dicts with epoch, loss, accuracy and seconds (from history.csv,
        or from the checkpoint without seconds when history.csv is gone)."""
        rows = read_history(self.folder / HISTORY_NAME)
        if rows:
            return rows
        return [dict(zip(("epoch", "loss", "accuracy"), row)) for row in self.record.history]

    def sample(self, chords: str | None = None, bars: int | None = None, *, seed: int = 0,
               temperature: float | None = None, top_k: int = 0, tempo: float | None = None,
               length: int | None = None, primer=None, band: str = "trio",
               swing: float = 2.0, time_signature=None) -> Solo:
        """A solo: over ``chords`` ("Dm7 G7 | Cmaj7", default the training chords) for
        ``bars`` bars (grammar models), or ``length`` tokens (notes models).  ``band``:
        "none", "comp" or "trio" (walking bass, comping, drums); ``swing``: the long:short
        ratio of a pair of eighths (2 = triplet swing, 1 = straight); ``time_signature``
        such as (3, 4) for the chords (default: the training music's)."""
        settings = SampleSettings(chords=chords, bars=bars, length=length, seed=seed,
                                  temperature=temperature, top_k=top_k, tempo=tempo,
                                  primer=None if primer is None else str(primer), band=band,
                                  swing=swing,
                                  time_signature=tuple(time_signature)
                                  if isinstance(time_signature, list) else time_signature)
        sampled = sample_song(self.model, self.record, self.stream, settings,
                              label=str(self.path))
        return Solo(sampled.song, sampled.midi_options, sampled.summary, settings,
                    sampled.temperature)

    def report_html(self) -> str:
        """The run's page: loss and accuracy curves, settings, latest evaluate figures."""
        evaluation = read_evaluation(self.folder / EVALUATION_NAME)
        settings = asdict(self.record.train)
        if self.record.corpus.selection:
            settings["where"] = self.record.corpus.selection
        return run_report_html(self.history, settings, evaluation,
                               title=f"jazz-lstm run {self.folder.name}")

    def evaluate(self, data=None, *, bars=None, samples: int | None = None, seed: int = 0,
                 quick: bool = False, save: bool = True):
        """Held-out prediction against n-gram baselines, generated against real solos,
        copying (``jazz_lstm.evaluating``); saved as evaluation.json unless ``save`` is False
        or the run is a bundled model (its folder is the installed package, not a run's)."""
        evaluation = evaluate_run(self, data=data, bars=bars, segments=samples, seed=seed,
                                  quick=quick)
        if save and not is_bundled(self.path):
            save_evaluation(self, evaluation)
        return evaluation

    def __repr__(self) -> str:
        return (f"Run({str(self.path)!r}: {self.record.encoding} encoding, "
                f"epoch {self.record.epoch}, vocabulary {len(self.record.vocabulary)})")


def open_run(path) -> Run:
    """The run in a folder (``runs/NAME``) or a ``model.safetensors`` path."""
    return Run(path)


def train(data=None, *, preset: str | None = None, encoding: str = "grammar",
          grammar: str | None = None, epochs: int | None = None, hidden: int | None = None,
          layers: int | None = None, lr: float | None = None, batch_size: int | None = None,
          seed: int = 0, run_dir="runs/run", melody_part=None, chord_parts=None, bars=None,
          chords: str | None = None, chords_offset: int = 0, where=None,
          validation_share: float | None = None, patience: int | None = None,
          structure: str | None = None, progress=True, on_skip=None, overwrite: bool = False,
          backend: str | None = None, say=None, warn=None) -> Run:
    """Train a model on ``data`` (files, folders, ``music21:`` names; None: the default
    set) and return its Run.  ``chords`` gives melody-only files their chords as text
    (``chords_offset`` pickup bars first; see ``music.read.given_chords``); ``where``
    chooses a WJazzD database's solos (["style=BEBOP", "instrument=ts"], see
    ``music.read.wjazzd_db.parse_selection``).  ``structure``: the phrase and form
    features the model hears ("none", "phrase", "form", "phrase+form"; default the
    preset's; ``music.tokens.structure``).  ``run_dir``
    must not hold a run yet (a model, history or evaluation), unless ``overwrite``:
    then, once the data is read, they are deleted and the new run takes their place.
    The folder is made when missing and claimed while training (``jazz_lstm.files.
    training_claim``): a second train or resume of it meanwhile, in this process or
    another, raises ``jazz_lstm.files.RunInUseError`` (a UsageError); a folder this
    call made is removed again when training fails or is interrupted before a save.
    ``progress``: a line per epoch (one line, rewritten, in Jupyter), or a progress
    style of ``jazz_lstm.progress``.  ``backend``: "reference" trains through
    lstm_np/lstm.py as written (``lstm_np.kernels``).  ``say``, when given, hears what
    is being trained on; ``warn`` the files left out, the notes on chords and the
    kernels' compiling (without it, the compiling is printed when ``progress``).  An
    interrupt raises ``TrainingInterrupted`` once the last finished epoch is saved."""
    config = preset_config(preset).with_overrides(epochs=epochs, hidden_size=hidden,
                                                  num_layers=layers, lr=lr,
                                                  batch_size=batch_size, grammar=grammar,
                                                  validation_share=validation_share,
                                                  patience=patience, structure=structure)
    folder = _run_folder(run_dir)
    with training_claim(folder, create=True):
        return _train_claimed(folder, data, config, overwrite=overwrite, seed=seed,
                              encoding=encoding, melody_part=melody_part,
                              chord_parts=chord_parts, bars=bars, chords=chords,
                              chords_offset=chords_offset, where=where, on_skip=on_skip,
                              say=say, warn=warn, backend=backend, progress=progress)


def _run_folder(run_dir) -> Path:
    if not isinstance(run_dir, (str, os.PathLike)):
        raise UsageError(f"run_dir is a folder path, not {type(run_dir).__name__}")
    return Path(run_dir)


def _train_claimed(folder, data, config, *, overwrite, seed, encoding, melody_part,
                   chord_parts, bars, chords, chords_offset, where, on_skip, say, warn,
                   backend, progress) -> Run:
    """``train`` once ``folder`` is claimed."""
    run_files = [folder / name for name in (CHECKPOINT_NAME, HISTORY_NAME, EVALUATION_NAME)]
    present = [path for path in run_files if os.path.lexists(path)]
    if present and not overwrite:
        raise UsageError(f"{present[0]} already exists; use resume() to continue the run, or "
                         "train(..., overwrite=True) to replace it")
    session, corpus = prepare(data, config, seed=seed, folder=folder, encoding=encoding,
                              melody_part=melody_part, chord_parts=chord_parts, bars=bars,
                              chords=chords, chords_offset=chords_offset, where=where,
                              on_skip=on_skip)
    if corpus.skipped and warn is not None:
        warn(skipped_note(corpus.skipped))
    if warn is not None:
        _note_own_chords_files(chords, corpus.songs, warn)
    if say is not None:
        # The vocabulary also holds the tokens the grammar needs to fill any bar
        # (whole-bar rests and bar lines), so it can be larger than the music's.
        distinct = len(set(corpus.tokens))
        vocabulary = len(session.record.vocabulary)
        added = (f" (vocabulary {vocabulary}, with {vocabulary - distinct} the grammar needs "
                 "to fill any bar)" if vocabulary > distinct else "")
        say(f"training on {corpus.description}: {len(session.ids)} tokens, "
            f"{distinct} distinct{added}; run folder {folder}/")
    if backend is not None:
        session.model.backend = resolve_backend(backend)
    for path in present:
        path.unlink(missing_ok=True)
    return _fit(session, progress, warn, compile_kernels=backend != "reference")


def resume(path, epochs: int | None = None, *, progress=True, say=None, warn=None) -> Run:
    """Continue the run at ``path`` (folder or model.safetensors) up to ``epochs``
    (default: its own); ``progress``, ``say`` and ``warn`` as in ``train``."""
    path = checkpoint_path_of(path)
    # A bundle or a missing folder is refused by resumed_session, with nothing to claim.
    claimed = not is_bundled(path) and path.parent.is_dir()
    with training_claim(path.parent) if claimed else contextlib.nullcontext():
        session = resumed_session(path, epochs)
        if session.first_epoch > session.config.epochs:
            raise UsageError(f"{session.path} has finished {session.record.epoch} epochs "
                             f"already; give --epochs above {session.record.epoch} to go on")
        if say is not None:
            say(f"resuming {session.path} at epoch {session.first_epoch} of "
                f"{session.config.epochs}")
        return _fit(session, progress, warn)


def _fit(session, progress, warn, *, compile_kernels: bool = True) -> Run:
    """Compile the kernels (telling ``warn``, else printing when ``progress``), train
    ``session``, open its run."""
    clean_stale_temp_files(session.path.parent)
    if compile_kernels:
        warm_up(session.model.config,
                announce=warn if warn is not None else print if progress else None)
    style = progress_styles.for_api(progress) if isinstance(progress, bool) else progress
    fit(session, style)
    return Run(session.path)


def _note_own_chords_files(chords, songs, warn) -> None:
    """Name the pieces whose own NAME.chords file won over ``chords``."""
    own = [song.source for song in songs if not song.chord_source.startswith(GIVEN_TEXT)]
    if chords is not None and own:
        warn(f"note: {len(own)} piece(s) take their chords from their own .chords file, not "
             f"--chords: {', '.join(own)}")


def _to_stderr(text: str) -> None:
    safe_print(text, file=sys.stderr)


def _opened(run) -> Run:
    return run if isinstance(run, Run) else open_run(run)


def sample(run, chords: str | None = None, bars: int | None = None, *, seed: int = 0,
           temperature: float | None = None, top_k: int = 0, tempo: float | None = None,
           length: int | None = None, primer=None, band: str = "trio", swing: float = 2.0,
           time_signature=None, warn=None) -> Solo:
    """A solo of ``run`` (a Run, a run folder or a checkpoint), as ``Run.sample``;
    the kernels are compiled first (``warn`` hears of it; default: standard error)."""
    run = _opened(run)
    warm_up(run.model.config, announce=_to_stderr if warn is None else warn, training=False)
    return run.sample(chords=chords, bars=bars, seed=seed, temperature=temperature,
                      top_k=top_k, tempo=tempo, length=length, primer=primer, band=band,
                      swing=swing, time_signature=time_signature)


def evaluate(run, data=None, *, bars=None, samples: int | None = None, seed: int = 0,
             quick: bool = False, save: bool = True):
    """``Run.evaluate`` of ``run`` (a Run, a run folder or a checkpoint)."""
    return _opened(run).evaluate(data, bars=bars, samples=samples, seed=seed, quick=quick,
                                 save=save)


def report(run, out=None) -> Path:
    """Write the page of ``run`` (a Run, a run folder or a checkpoint) to ``out``
    (default: report.html in the run folder); returns the path written."""
    run = _opened(run)
    out = Path(out) if out is not None else run.folder / REPORT_NAME
    return write_file_atomically(out, run.report_html().encode("utf-8"))
