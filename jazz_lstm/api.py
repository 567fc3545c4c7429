"""The public Python API: train a run, open it, sample solos from it.

    import jazz_lstm
    run = jazz_lstm.train(data=["music21:leadSheet/fosterBrownHair.mxl"], preset="course",
                          epochs=20, seed=0, run_dir="runs/demo")
    run = jazz_lstm.open_run("runs/demo")            # or a model.npz path
    solo = run.sample(chords="Dm7 G7 | Cmaj7", bars=8, seed=1, temperature=1.0)
    solo.write_midi("solo.mid"); solo.write_wav("solo.wav")
    run.history                                      # per-epoch rows

The command line calls the same functions, so the same options and seeds
give the same model and the same solo from either.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jazz_lstm import progress as progress_styles
from jazz_lstm.presets import preset_config
from jazz_lstm.runs import (CHECKPOINT_NAME, HISTORY_NAME, UsageError, checkpoint_path_of,
                            load_model, read_history)
from jazz_lstm.sampling import SampleSettings, sample_song
from jazz_lstm.training import fit, prepare, resumed_session


@dataclass
class Solo:
    """A sampled piece: ``song`` (a music.song.Song) and how to write it."""

    song: object
    midi_options: dict
    summary: str
    settings: SampleSettings
    temperature: float

    def midi_bytes(self) -> bytes:
        from music.midi_out import song_to_midi_bytes

        return song_to_midi_bytes(self.song, **self.midi_options)

    def write_midi(self, path) -> Path:
        """Write the solo as a Standard MIDI File; returns the path."""
        from music.midi_out import write_midi

        return write_midi(self.song, path, **self.midi_options)

    def write_wav(self, path) -> Path:
        """Render the solo to a WAV file; returns the path."""
        from music.synth import render_wav

        return render_wav(self.song, path)

    def seconds(self) -> float:
        from music.midi_out import song_seconds

        return song_seconds(self.song)


class Run:
    """A trained model and its run folder."""

    def __init__(self, path):
        self.path = checkpoint_path_of(path)
        self.model, self.optimizer_state, self.metadata, _ = load_model(self.path)

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
        return [dict(zip(("epoch", "loss", "accuracy"), row)) for row in self.metadata["history"]]

    def sample(self, chords: str | None = None, bars: int | None = None, *, seed: int = 0,
               temperature: float | None = None, top_k: int = 0, tempo: float | None = None,
               length: int | None = None, primer=None) -> Solo:
        """A solo: over ``chords`` ("Dm7 G7 | Cmaj7", default the training chords) for
        ``bars`` bars (grammar models), or ``length`` tokens (notes models)."""
        settings = SampleSettings(chords=chords, bars=bars, length=length, seed=seed,
                                  temperature=temperature, top_k=top_k, tempo=tempo,
                                  primer=None if primer is None else str(primer))
        sampled = sample_song(self.model, self.metadata, settings, label=str(self.path))
        return Solo(sampled.song, sampled.midi_options, sampled.summary, settings,
                    sampled.temperature)

    def evaluate(self, data=None, *, bars=None, samples: int | None = None, seed: int = 0,
                 quick: bool = False, save: bool = True):
        """Held-out prediction against n-gram baselines, generated against real solos,
        copying (``jazz_lstm.evaluate``); saved as evaluation.json unless ``save`` is False."""
        from jazz_lstm.evaluate import evaluate_run, save_evaluation

        evaluation = evaluate_run(self, data=data, bars=bars, segments=samples, seed=seed,
                                  quick=quick)
        if save:
            save_evaluation(self, evaluation)
        return evaluation

    def __repr__(self) -> str:
        return (f"Run({str(self.path)!r}: {self.metadata['encoding']} encoding, "
                f"epoch {self.metadata['epoch']}, vocabulary {len(self.metadata['vocabulary'])})")


def open_run(path) -> Run:
    """The run in a folder (``runs/NAME``) or a ``model.npz`` path."""
    return Run(path)


def train(data=None, *, preset: str | None = None, encoding: str = "grammar",
          grammar: str | None = None, epochs: int | None = None, hidden: int | None = None,
          layers: int | None = None, lr: float | None = None, batch_size: int | None = None,
          seed: int = 0, run_dir="runs/run", melody_part=None, chord_parts=None, bars=None,
          progress: bool = True, on_skip=None) -> Run:
    """Train a model on ``data`` (files, folders, ``music21:`` names; None: the default
    set) and return its Run.  ``run_dir`` must not hold a run yet; ``progress`` shows a
    tqdm bar (a widget in Jupyter)."""
    config = preset_config(preset).with_overrides(epochs=epochs, hidden_size=hidden,
                                                  num_layers=layers, lr=lr,
                                                  batch_size=batch_size, grammar=grammar)
    folder = Path(run_dir)
    if (folder / CHECKPOINT_NAME).exists():
        raise UsageError(f"{folder / CHECKPOINT_NAME} already exists; use resume() to continue it")
    session, _ = prepare(data, config, seed=seed, folder=folder, encoding=encoding,
                         melody_part=melody_part, chord_parts=chord_parts, bars=bars,
                         on_skip=on_skip)
    fit(session, progress_styles.Bar(notebook=True) if progress else progress_styles.Silent())
    return Run(session.path)


def resume(path, epochs: int | None = None, *, progress: bool = True) -> Run:
    """Continue the run at ``path`` (folder or model.npz) up to ``epochs``."""
    session = resumed_session(checkpoint_path_of(path), epochs)
    fit(session, progress_styles.Bar(notebook=True) if progress else progress_styles.Silent())
    return Run(session.path)
