"""Grammars: a Song becomes tokens (and features), and sampled tokens become a Song.

Two grammars speak chord-relative tokens (``--grammar``):

* ``exact`` (the default, ``music.tokens.exact_grammar``): every pitch and grid
  time comes back; bar lines close the bars; the model hears the chord and
  the position in the bar at every step (``music.tokens.conditioning``), and
  sampling offers only tokens that fit the time left in the bar, so every
  bar is filled exactly.
* ``classic`` (``music.tokens.classic_grammar``, the course's and deepjazz's tokens): a role
  and an interval window per note; tokens are dealt into bars and pruned.

``Piece`` is one song's tokens; ``features`` (exact only) has one row per
token position plus one: row t describes where token t starts.  The model
reads token t together with row t + 1, the place of the token it predicts.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from jazz_lstm.presets import GRAMMARS
from lstm_np.generate import generate, generate_segments
from music.song import MusicError, Song
from music.tokens import classic_grammar, conditioning, exact_grammar
from music.tokens.exact_grammar import BAR_LINE, MIDI_RANGE, filler_tokens, token_cost, units_of
from music.tokens.solo import build_solo, tokens_needed
from music.tokens.structure import (PhraseTracker, check_structure, form_from_chords,
                                    phrase_end_rests, song_form, uses_form, uses_phrase)


@dataclass
class Piece:
    """One song's tokens (and their features, for a conditioned grammar)."""

    source: str
    title: str
    tokens: list
    features: np.ndarray | None
    song: object


def bar_length_of(time_signature) -> Fraction:
    numerator, denominator = time_signature
    return Fraction(4 * numerator, denominator)


class Classic:
    """Roles and interval windows; no bar lines, no features."""

    name = "classic"
    feature_size = 0

    def piece(self, song) -> Piece:
        tokens = [token for bar in classic_grammar.encode_song(song) for token in bar]
        return Piece(song.source, song.title, tokens, None, song)

    def required_tokens(self, time_signature) -> list:
        return []

    def check_vocabulary(self, vocabulary) -> None:
        """MusicError naming the first token this grammar cannot read."""
        for token in vocabulary:
            classic_grammar.parse_token(token)

    def solo(self, model, vocabulary, chord_bars, bar_count, time_signature, tempo, *,
             primer, token_rng, decode_rng, temperature, top_k, pitch_range=None, form=None):
        """(Song, generated ids): enough tokens for the bars, dealt and decoded
        (pruning keeps the classic solo in the guitar's range; pitch_range and form are
        unused).
        primer: (ids (1, P), None)."""
        length = tokens_needed(bar_count, bar_length_of(time_signature), vocabulary)
        ids = generate(model, primer[0], length, token_rng, temperature, top_k)[0]
        return self.decode([vocabulary[token_id] for token_id in ids], chord_bars, bar_count,
                           time_signature, tempo, decode_rng), ids

    def decode(self, tokens, chord_bars, bar_count, time_signature, tempo, decode_rng,
               pitch_range=None):
        """The Song of a token stream over chord bars."""
        return build_solo(tokens, chord_bars, bar_count, decode_rng, tempo=tempo,
                          time_signature=time_signature)


class Exact:
    """Lossless tokens with bar lines; the model hears chord and position features,
    and with ``structure`` (``music.tokens.structure.STRUCTURES``) phrase and form
    features too."""

    name = "exact"

    def __init__(self, structure: str = "none"):
        self.structure = check_structure(structure)

    @property
    def feature_size(self) -> int:
        return conditioning.feature_size(self.structure)

    def piece(self, song) -> Piece:
        tokens = exact_grammar.encode_song(song)
        chord_bars = [list(measure.chords) for measure in song.measures]
        units = [units_of(measure.length) for measure in song.measures]
        form = song_form(song) if uses_form(self.structure) else None
        return Piece(song.source, song.title, tokens,
                     conditioning.stream_features(tokens, chord_bars, units,
                                                  structure=self.structure, form=form), song)

    def required_tokens(self, time_signature) -> list:
        """Tokens every vocabulary holds so that constrained sampling can end any bar."""
        return [BAR_LINE, *filler_tokens(units_of(bar_length_of(time_signature)))]

    def check_vocabulary(self, vocabulary) -> None:
        """MusicError naming the first token this grammar cannot read, or the
        missing bar line (sampling starts and ends every bar with it)."""
        for token in vocabulary:
            exact_grammar.parse_token(token)
        if BAR_LINE not in vocabulary:
            raise MusicError(f"no bar line token {BAR_LINE!r} in the vocabulary")

    def solo(self, model, vocabulary, chord_bars, bar_count, time_signature, tempo, *,
             primer, token_rng, decode_rng, temperature, top_k, pitch_range=None, form=None):
        """(Song, generated ids): bars sampled one by one under the bar's time budget,
        decoded exactly, notes kept in ``pitch_range`` (the training melodies' register).
        primer: (ids (1, P), features (1, P, F)) of a primer file, whose last input then
        hears the first place of these chords; with no features (no primer file) the
        solo starts from a bar line at the first chord.  With form features, ``form``
        gives one FormPlace or None per bar; None derives them from the chords (one
        pass of ``chord_bars`` a chorus, ``music.tokens.structure.form_from_chords``).
        With phrase features, the phrase features are those of the primer's tokens
        and then the drawn ones (``PhraseTracker``), as in training.
        Phrase-ending rests (``phrase_end_rests``) keep their untempered
        probability; the temperature reshapes only the other tokens
        (``lstm_np.generate``'s kept mass): sharpened with them, these rare
        tokens were drawn about half as often as the model predicts them."""
        bar_length = bar_length_of(time_signature)
        bars = [chord_bars[index % len(chord_bars)] for index in range(bar_count)]
        units = units_of(bar_length)
        if uses_form(self.structure) and form is None:
            form = form_from_chords(chord_bars, bar_count)
        table = conditioning.position_features(bars, units, structure=self.structure,
                                               form=form if uses_form(self.structure) else None)
        bar_line = vocabulary.index(BAR_LINE)
        primer_ids, primer_features = primer
        if primer_features is None:
            primer_ids, primer_features = np.array([[bar_line]]), table[None, :1, 0].copy()
        else:
            primer_features = primer_features.copy()
            primer_features[0, -1] = table[0, 0]
        hook = None
        if uses_phrase(self.structure):
            tracker, columns = PhraseTracker(), conditioning.phrase_columns(self.structure)
            for token_id in primer_ids[0]:
                tracker.feed(vocabulary[token_id])
            primer_features[0, -1, columns] = tracker.features()

            def hook(token_id, row):
                tracker.feed(vocabulary[token_id])
                row = row.copy()
                row[columns] = tracker.features()
                return row
        ids = generate_segments(
            model, primer_ids, token_rng,
            token_costs=np.array([token_cost(token) for token in vocabulary], dtype=np.int64),
            budgets=np.full(bar_count, units, dtype=np.int64), reset_token=bar_line,
            step_features=table,
            primer_features=np.ascontiguousarray(primer_features, dtype=table.dtype),
            temperature=temperature, top_k=top_k, feature_hook=hook,
            keep=phrase_end_rests(vocabulary))
        ids = np.asarray(ids).reshape(-1)
        return self.decode([vocabulary[token_id] for token_id in ids], bars, bar_count,
                           time_signature, tempo, decode_rng, pitch_range), ids

    def decode(self, tokens, chord_bars, bar_count, time_signature, tempo, decode_rng=None,
               pitch_range=None):
        """The Song of a token stream over chord bars (decoding draws nothing)."""
        measures = exact_grammar.decode_song(tokens, chord_bars, bar_length_of(time_signature),
                               pitch_range=tuple(pitch_range or MIDI_RANGE))[:bar_count]
        return Song(measures=measures, tempo=tempo, time_signature=time_signature,
                    title="jazz-lstm solo")


def grammar_named(name: str, structure: str = "none"):
    """The grammar of that name; ``structure`` features (exact only) beside its tokens."""
    if name not in GRAMMARS:
        raise ValueError(f"unknown grammar {name!r}; choose one of {', '.join(GRAMMARS)}")
    if name == "classic" and structure != "none":
        raise ValueError("phrase and form features need the exact grammar")
    return Exact(structure) if name == "exact" else Classic()
