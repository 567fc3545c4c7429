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

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from jazz_lstm import progress as progress_styles
from jazz_lstm.presets import preset_config
from jazz_lstm.runs import (CHECKPOINT_NAME, HISTORY_NAME, UsageError, checkpoint_path_of,
                            load_model, read_history)
from jazz_lstm.sampling import SampleSettings, sample_song
from jazz_lstm.training import fit, prepare, resumed_session
from jazz_lstm.warmup import warm_up


# The page's embedded audio: half the WAV file's rate keeps a page of a few
# minutes of music to a few megabytes.
PAGE_SAMPLE_RATE = 11025


@dataclass(repr=False)
class Solo:
    """A sampled piece: ``song`` (a music.song.Song) and how to write it.  In Jupyter
    it shows as its piano roll with a player (``_repr_html_``)."""

    song: object
    midi_options: dict
    summary: str
    settings: SampleSettings
    temperature: float

    def midi_bytes(self) -> bytes:
        from music.write.midi import song_to_midi_bytes

        return song_to_midi_bytes(self.song, **self.midi_options)

    def write_midi(self, path) -> Path:
        """Write the solo as a Standard MIDI File; returns the path."""
        from music.write.midi import write_midi

        return write_midi(self.song, path, **self.midi_options)

    def write_wav(self, path) -> Path:
        """Render the solo to a WAV file; returns the path."""
        from music.write.wav import render_wav

        return render_wav(self.song, path, **self.midi_options)

    def check_wav_length(self) -> float:
        """The solo's seconds; MusicError when too long for a WAV (or a page's audio)."""
        from music.write.wav import check_wav_length

        return check_wav_length(self.song, self.midi_options.get("tempo"))

    def write_musicxml(self, path) -> Path:
        """Write the solo as a lead sheet (MusicXML; compressed for a .mxl path)."""
        from music.write.musicxml import write_musicxml

        return write_musicxml(self.song, path)

    def html(self, *, wav_path=None, embed_audio: bool = True) -> str:
        """A self-contained page: piano roll coloured by harmony, chords, player, settings.
        ``wav_path`` links a WAV beside the page; else the audio is embedded."""
        from jazz_lstm.solo_page import solo_html

        audio = None
        if wav_path is None and embed_audio:
            audio = self.wav_bytes(sample_rate=PAGE_SAMPLE_RATE)
        return solo_html(self.song, wav_bytes=audio, wav_path=wav_path,
                         settings=self.settings_shown())

    def write_html(self, path, *, wav_path=None) -> Path:
        from jazz_lstm.files import write_file_atomically

        return write_file_atomically(path, self.html(wav_path=wav_path).encode("utf-8"))

    def wav_bytes(self, sample_rate: int = 22050) -> bytes:
        """The WAV file of the built-in synthesizer, in memory."""
        from music.write.wav import render_samples, wav_bytes

        return wav_bytes(render_samples(self.song, sample_rate=sample_rate, **self.midi_options),
                         sample_rate)

    def settings_shown(self) -> dict:
        shown = {key: value for key, value in vars(self.settings).items() if value is not None}
        shown["temperature"] = self.temperature
        return shown

    def _repr_html_(self) -> str:
        """The solo as one element with an id of its own (a page may show several)."""
        from jazz_lstm.solo_page import solo_fragment

        return solo_fragment(self.song, f"jazz-solo-{uuid.uuid4().hex[:12]}",
                             wav_bytes=self.wav_bytes(sample_rate=PAGE_SAMPLE_RATE),
                             settings=self.settings_shown())

    def __repr__(self) -> str:
        title = f"{self.song.title!r}: " if self.song.title else ""
        return (f"<Solo {title}{self.summary}, {self.seconds():.1f} s at {self.song.tempo:g} bpm; "
                f"seed {self.settings.seed}, temperature {self.temperature:g}>")

    def seconds(self) -> float:
        from music.write.midi import song_seconds

        return song_seconds(self.song)


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
        from jazz_lstm.evaluate import EVALUATION_NAME
        from jazz_lstm.report_page import run_report_html
        from jazz_lstm.runs import read_evaluation

        evaluation = read_evaluation(self.folder / EVALUATION_NAME)
        settings = asdict(self.record.train)
        if self.record.corpus.selection:
            settings["where"] = self.record.corpus.selection
        return run_report_html(self.history, settings, evaluation,
                               title=f"jazz-lstm run {self.folder.name}")

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
          progress: bool = True, on_skip=None, overwrite: bool = False,
          backend: str | None = None) -> Run:
    """Train a model on ``data`` (files, folders, ``music21:`` names; None: the default
    set) and return its Run.  ``chords`` gives melody-only files their chords as text
    (``chords_offset`` pickup bars first; see ``music.read.given_chords``); ``where``
    chooses a WJazzD database's solos (["style=BEBOP", "instrument=ts"], see
    ``music.read.wjazzd_db.parse_selection``).  ``run_dir``
    must not hold a run yet, unless ``overwrite``: then, once the data is read, its
    model, history and evaluation are deleted and the new run takes their place.
    ``progress``: a line per epoch (one line, rewritten, in Jupyter).  ``backend``:
    "reference" trains through lstm_np/lstm.py as written (``lstm_np.kernels``)."""
    config = preset_config(preset).with_overrides(epochs=epochs, hidden_size=hidden,
                                                  num_layers=layers, lr=lr,
                                                  batch_size=batch_size, grammar=grammar,
                                                  validation_share=validation_share,
                                                  patience=patience)
    folder = Path(run_dir)
    if (folder / CHECKPOINT_NAME).exists() and not overwrite:
        raise UsageError(f"{folder / CHECKPOINT_NAME} already exists; use resume() to continue "
                         "it, or train(..., overwrite=True) to replace it")
    session, _ = prepare(data, config, seed=seed, folder=folder, encoding=encoding,
                         melody_part=melody_part, chord_parts=chord_parts, bars=bars,
                         chords=chords, chords_offset=chords_offset, where=where,
                         on_skip=on_skip)
    if backend is not None:
        from lstm_np.kernels import resolve_backend

        session.model.backend = resolve_backend(backend)
    if overwrite:
        from jazz_lstm.evaluate import EVALUATION_NAME

        for name in (CHECKPOINT_NAME, HISTORY_NAME, EVALUATION_NAME):
            (folder / name).unlink(missing_ok=True)
    if backend != "reference":
        warm_up(session.model.config, announce=print if progress else None)
    fit(session, progress_styles.for_api(progress))
    return Run(session.path)


def resume(path, epochs: int | None = None, *, progress: bool = True) -> Run:
    """Continue the run at ``path`` (folder or model.safetensors) up to ``epochs``."""
    session = resumed_session(checkpoint_path_of(path), epochs)
    warm_up(session.model.config, announce=print if progress else None)
    fit(session, progress_styles.for_api(progress))
    return Run(session.path)
