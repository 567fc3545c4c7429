"""Sampling: a checkpoint plus chords gives a solo.

The seed is split into two streams, one for the model's token draws and
one for the grammar decoder's pitch choices, so the same seed and
checkpoint give the same solo, byte for byte.

* grammar models: tokens are generated, dealt into bars and decoded over
  the chords (``--chords``, or the chords of the training source);
* notes models: tokens are played one after another.

The model is primed with a window of the training stream (the training
window's length, at a random start) or with the end of a primer file.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from jazz_lstm.corpus import read_songs
from jazz_lstm.files import write_file_atomically
from jazz_lstm.grammars import grammar_named
from jazz_lstm.limits import (MAX_DEFAULT_BARS, MAX_SAMPLE_BARS, MAX_SAMPLE_TOKENS, MAX_SEED, MAX_SWING,
                              MAX_TEMPERATURE, MAX_TEMPO, MAX_VOCABULARY, MIN_TEMPO,
                              NOTES_SAMPLE_LENGTH, shown, time_signature_problem)
from jazz_lstm.note_corpus import encode_score_tokens
from jazz_lstm.runs import UsageError
from jazz_lstm.solo_page import solo_fragment, solo_html
from lstm_np.generate import generate
from music.band.arrange import COMBO_OPTIONS
from music.progressions import progression_bars
from music.tokens.note_tokens import MIDI_OPTIONS, tokens_to_song
from music.tokens.solo import chord_bars_from_json
from music.write.midi import song_seconds, song_to_midi_bytes, write_midi
from music.write.musicxml import write_musicxml
from music.write.wav import check_wav_length, render_samples, render_wav, wav_bytes

BANDS = ("none", "comp", "trio")


@dataclass(frozen=True)
class SampleSettings:
    """What to sample; None means the model's or the preset's default.

    Checked when made: a value of the wrong type or out of range raises
    UsageError naming the option (the limits are those of ``sample``'s options).
    """

    chords: str | None = None
    bars: int | None = None
    length: int | None = None
    seed: int = 0
    temperature: float | None = None
    top_k: int = 0
    tempo: float | None = None
    primer: str | None = None
    band: str = "trio"
    swing: float = 2.0
    time_signature: tuple | None = None

    def __post_init__(self):
        _check_text("chords", self.chords)
        _check_text("primer", self.primer)
        _check_whole("bars", self.bars, 1, MAX_SAMPLE_BARS)
        _check_whole("length", self.length, 1, MAX_SAMPLE_TOKENS)
        _check_whole("seed", self.seed, 0, MAX_SEED, optional=False)
        _check_whole("top_k", self.top_k, 0, MAX_VOCABULARY, optional=False)
        _check_number("temperature", self.temperature, 0, MAX_TEMPERATURE)
        _check_number("tempo", self.tempo, MIN_TEMPO, MAX_TEMPO)
        _check_number("swing", self.swing, 0, MAX_SWING, optional=False)
        if self.band not in BANDS:
            raise UsageError(f"band must be one of {', '.join(BANDS)}, got {shown(self.band)}")
        if self.time_signature is not None:
            problem = time_signature_problem(self.time_signature)
            if problem:
                raise UsageError(problem)


def _check_text(name: str, value) -> None:
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{name} must be text, got {type(value).__name__}")


def _check_whole(name: str, value, low: int, high: int, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise UsageError(f"{name} must be a whole number in {low}..{high}, got {shown(value)}")


def _check_number(name: str, value, low: float, high: float, optional: bool = True) -> None:
    if value is None and optional:
        return
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not low <= value <= high):   # False for NaN
        raise UsageError(f"{name} must be a number in {low:g}..{high:g}, got {shown(value)}")


# The page's embedded audio: half the WAV file's rate keeps a page of a few
# minutes of music to a few megabytes.
PAGE_SAMPLE_RATE = 11025


@dataclass(repr=False)
class Solo:
    """A sampled piece: ``song`` (a music.song.Song), the MIDI options of its encoding
    and band, a one-line summary, the settings and temperature it was sampled with,
    and how to write it.  In Jupyter it shows as its piano roll with a player
    (``_repr_html_``)."""

    song: object
    midi_options: dict
    summary: str
    settings: SampleSettings
    temperature: float

    def midi_bytes(self) -> bytes:
        return song_to_midi_bytes(self.song, **self.midi_options)

    def write_midi(self, path) -> Path:
        """Write the solo as a Standard MIDI File; returns the path."""
        return write_midi(self.song, path, **self.midi_options)

    def write_wav(self, path) -> Path:
        """Render the solo to a WAV file; returns the path."""
        return render_wav(self.song, path, **self.midi_options)

    def check_wav_length(self) -> float:
        """The solo's seconds; MusicError when too long for a WAV (or a page's audio)."""
        return check_wav_length(self.song, self.midi_options.get("tempo"))

    def write_musicxml(self, path) -> Path:
        """Write the solo as a lead sheet (MusicXML; compressed for a .mxl path)."""
        return write_musicxml(self.song, path)

    def html(self, *, wav_path=None, embed_audio: bool = True) -> str:
        """A self-contained page: piano roll coloured by harmony, chords, player, settings.
        ``wav_path`` links a WAV beside the page; else the audio is embedded."""
        audio = None
        if wav_path is None and embed_audio:
            audio = self.wav_bytes(sample_rate=PAGE_SAMPLE_RATE)
        return solo_html(self.song, wav_bytes=audio, wav_path=wav_path,
                         settings=self.settings_shown())

    def write_html(self, path, *, wav_path=None) -> Path:
        return write_file_atomically(path, self.html(wav_path=wav_path).encode("utf-8"))

    def wav_bytes(self, sample_rate: int = 22050) -> bytes:
        """The WAV file of the built-in synthesizer, in memory."""
        return wav_bytes(render_samples(self.song, sample_rate=sample_rate, **self.midi_options),
                         sample_rate)

    def settings_shown(self) -> dict:
        shown = {key: value for key, value in vars(self.settings).items() if value is not None}
        shown["temperature"] = self.temperature
        return shown

    def _repr_html_(self) -> str:
        """The solo as one element with an id of its own (a page may show several)."""
        return solo_fragment(self.song, f"jazz-solo-{uuid.uuid4().hex[:12]}",
                             wav_bytes=self.wav_bytes(sample_rate=PAGE_SAMPLE_RATE),
                             settings=self.settings_shown())

    def __repr__(self) -> str:
        title = f"{self.song.title!r}: " if self.song.title else ""
        return (f"<Solo {title}{self.summary}, {self.seconds():.1f} s at {self.song.tempo:g} bpm; "
                f"seed {self.settings.seed}, temperature {self.temperature:g}>")

    def seconds(self) -> float:
        return song_seconds(self.song)


def sample_song(model, record, stream, settings: SampleSettings,
                label: str = "this model") -> Solo:
    """Sample from a loaded model with its run record and training stream;
    ``label`` names it in error messages."""
    encoding = record.encoding
    if settings.chords is not None and not settings.chords.strip(" |"):
        raise UsageError("--chords is empty; give chords like \"Dm7 G7 | Cmaj7\" or leave it "
                         "out to play the training chords")
    if encoding == "notes" and (settings.chords or settings.bars):
        raise UsageError(f"{label} is a notes-encoding model: --chords and --bars apply to "
                         "the grammar encoding (use --length for the number of tokens)")
    if encoding == "grammar" and settings.length:
        raise UsageError(f"{label} is a grammar model: --length applies to the notes encoding "
                         "(use --bars for the number of bars)")
    temperature = (record.train.temperature if settings.temperature is None
                   else settings.temperature)
    token_rng, decode_rng = [np.random.default_rng(child)
                             for child in np.random.SeedSequence(settings.seed).spawn(2)]
    primer, primer_features = primer_inputs(settings.primer, record, stream, token_rng)
    vocabulary = record.vocabulary

    def tokens_for(length):
        generated = generate(model, primer, length, token_rng, temperature, settings.top_k)[0]
        return [vocabulary[token_id] for token_id in generated]

    if encoding == "notes":
        song, midi_options, summary = _notes_piece(settings, record, tokens_for)
    else:
        song, midi_options, summary = _grammar_solo(
            model, settings, record, (primer, primer_features), token_rng, decode_rng,
            temperature)
    return Solo(song, midi_options, summary, settings, temperature)


def primer_inputs(primer, record, stream, rng) -> tuple:
    """(ids (1, P), features (1, P, F) or None) to prime the model with: the end of
    the primer file in the model's own encoding, or (no primer file) a random
    window of the training stream without features."""
    ids = stream.ids
    length = min(record.train.window_length, len(ids))
    if not primer:
        start = int(rng.integers(0, len(ids) - length + 1))
        return ids[None, start:start + length], None
    features = None
    if record.encoding == "notes":
        tokens = encode_score_tokens(primer)
    else:
        songs = read_songs([primer])
        piece = grammar_named(record.grammar, record.structure).piece(songs[0])
        tokens, features = piece.tokens, piece.features
    index = {token: token_id for token_id, token in enumerate(record.vocabulary)}
    known = [position for position, token in enumerate(tokens) if token in index]
    if not known:
        raise UsageError(f"{primer}: none of its {len(tokens)} tokens is in the model's "
                         "vocabulary, so it cannot prime this model")
    known = known[-length:]
    primer_ids = np.asarray([[index[tokens[position]] for position in known]], dtype=np.int64)
    if features is not None:
        # Token t is read with the place where token t + 1 starts.
        features = features[np.array(known) + 1][None]
    return primer_ids, features


def _grammar_solo(model, settings: SampleSettings, record, primer, token_rng,
                  decode_rng, temperature) -> tuple:
    """A grammar model's Song over chords (``jazz_lstm.grammars``)."""

    music = record.music
    time_signature = tuple(settings.time_signature or music.time_signature)
    bar_length = Fraction(4 * time_signature[0], time_signature[1])
    if settings.chords is not None:
        chord_bars = progression_bars(settings.chords, beats_per_bar=bar_length)
    else:
        chord_bars = chord_bars_from_json(music.chords)
    bar_count = settings.bars or (len(chord_bars) if settings.chords is not None
                                  else min(len(chord_bars), MAX_DEFAULT_BARS))
    if bar_count > MAX_SAMPLE_BARS:
        raise UsageError(f"--chords gives {bar_count} bars; a solo has at most "
                         f"{MAX_SAMPLE_BARS} (give --bars, or fewer chords)")
    grammar = grammar_named(record.grammar, record.structure)
    song, _ = grammar.solo(model, record.vocabulary, chord_bars, bar_count, time_signature,
                           settings.tempo or music.tempo, primer=primer,
                           token_rng=token_rng, decode_rng=decode_rng, temperature=temperature,
                           top_k=settings.top_k, pitch_range=music.pitch_range)
    band = {**COMBO_OPTIONS, "band": settings.band, "swing": settings.swing,
            "seed": settings.seed}
    summary = f"{bar_count} bars, {len(song.melody_notes)} notes"
    if settings.chords is None and music.chords_title:
        summary += f" over the changes of {music.chords_title} (a training piece)"
    if record.corpus.selection:
        summary += f", by a model of the solos with {record.corpus.selection}"
    return song, band, summary


def _notes_piece(settings: SampleSettings, record, tokens_for) -> tuple:
    """A notes model's Song: its tokens played one after another."""
    length = settings.length or NOTES_SAMPLE_LENGTH
    song = tokens_to_song(tokens_for(length), tempo=settings.tempo or record.music.tempo)
    chords = sum(len(measure.chords) for measure in song.measures)
    return (song, MIDI_OPTIONS,
            f"{length} tokens: {len(song.melody_notes)} notes, {chords} chords")
