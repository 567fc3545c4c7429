"""A generated token stream becomes a Song over chords; chord bars to and from JSON.

The model emits one long stream of grammar tokens with no bar lines.
``split_into_bars`` deals them out: a bar takes tokens until their
durations reach its length; a token that runs past the bar line stays in
that bar (pruning cuts it at the line) and the next bar starts with the
next token.  ``tokens_needed`` bounds how many tokens that can take, so a
caller can generate enough in one go.
"""
from __future__ import annotations

import math
from fractions import Fraction

from music.tokens.classic_grammar import decode_measures, parse_token
from music.song import Chord, MusicError, Song


def split_into_bars(tokens, bar_count: int, bar_length) -> list:
    """The first ``bar_count`` bars of a token stream, as lists of tokens.

    bar_length: quarter lengths.  Raises MusicError when the stream ends
    before the last bar is full.
    """
    bar_length = Fraction(bar_length)
    bars, current, filled = [], [], Fraction(0)
    for token in tokens:
        if len(bars) == bar_count:
            break
        current.append(token)
        filled += parse_token(token).duration
        if filled >= bar_length:
            bars.append(current)
            current, filled = [], Fraction(0)
    if len(bars) < bar_count:
        raise MusicError(f"the token stream filled {len(bars)} of {bar_count} bars")
    return bars


def tokens_needed(bar_count: int, bar_length, vocabulary) -> int:
    """Most tokens ``bar_count`` bars can take: every token the shortest one."""
    shortest = min(parse_token(token).duration for token in vocabulary)
    return bar_count * math.ceil(Fraction(bar_length) / shortest)


def build_solo(tokens, chord_bars, bar_count: int, rng, *, tempo: float,
               time_signature=(4, 4), title: str = "jazz-lstm solo") -> Song:
    """A Song of ``bar_count`` bars from a token stream over a chord progression.

    chord_bars: one list of Chords per bar; it repeats when shorter than bar_count
    rng:        numpy.random.Generator for the pitch choices of decoding
    """
    numerator, denominator = time_signature
    bar_length = Fraction(4 * numerator, denominator)
    bars = split_into_bars(tokens, bar_count, bar_length)
    measures = decode_measures(bars, chord_bars, rng, bar_length)
    return Song(measures=measures, tempo=tempo, time_signature=time_signature, title=title)


def chord_bars_of(song: Song) -> list:
    """The chords of every bar of a song (``music.read.scores`` already carries a
    chord into bars that have none)."""
    bars = [list(measure.chords) for measure in song.measures]
    if not any(bars):
        raise MusicError(f"{song.source or song.title}: no chords found in any bar")
    return bars


def chord_bars_to_json(chord_bars) -> list:
    """Plain JSON lists: per bar, [start, duration, root, pitch classes, symbol]."""
    return [[[str(chord.start), str(chord.duration), chord.root, list(chord.pitch_classes),
              chord.symbol] for chord in bar] for bar in chord_bars]


def chord_bars_from_json(data) -> list:
    """The inverse of ``chord_bars_to_json``."""
    try:
        return [[Chord(Fraction(start), Fraction(duration), root, tuple(pitch_classes), symbol)
                 for start, duration, root, pitch_classes, symbol in bar] for bar in data]
    except (TypeError, ValueError) as error:
        raise MusicError(f"stored chord progression is malformed: {error}") from None
