"""music.tokens.solo: a token stream dealt into bars, decoded over chords; chord bars to JSON."""
from fractions import Fraction

import numpy as np
import pytest

from music.chords import parse_progression
from music.tokens.solo import (build_solo, chord_bars_from_json, chord_bars_to_json, split_into_bars,
                        tokens_needed)
from music.song import MusicError


def test_a_bar_takes_tokens_until_it_is_full_and_keeps_the_one_crossing_the_line():
    tokens = ["C,1.000,<-2,+2>", "S,2.000,<-2,+2>", "R,1.500", "C,1.000,<+3,+7>",
              "A,0.500,<-2,+2>", "C,4.000,<-2,+2>", "C,1.000,<-2,+2>"]
    bars = split_into_bars(tokens, 2, 4)
    # 1 + 2 + 1.5 = 4.5 >= 4: the rest crossing the bar line ends bar 1.
    assert bars == [tokens[:3], tokens[3:6]]


def test_a_stream_too_short_for_the_bars_is_refused():
    with pytest.raises(MusicError, match="filled 1 of 3 bars"):
        split_into_bars(["C,4.000,<-2,+2>", "C,1.000,<-2,+2>"], 3, 4)


def test_tokens_needed_is_enough_for_the_shortest_token():
    vocabulary = ["C,0.250,<-2,+2>", "R,1.000", "S,2.000,<-2,+2>"]
    assert tokens_needed(5, 4, vocabulary) == 5 * 16
    stream = ["C,0.250,<-2,+2>"] * tokens_needed(5, 4, vocabulary)
    assert len(split_into_bars(stream, 5, 4)) == 5


def test_chord_bars_survive_json():
    bars = parse_progression("Dm7 G7 | Cmaj7 | F#m7b5 B7")
    assert chord_bars_from_json(chord_bars_to_json(bars)) == bars


def test_malformed_stored_chords_are_refused():
    with pytest.raises(MusicError, match="malformed"):
        chord_bars_from_json([[["0", "4", 14, [2, 5], "?"]]])


def test_a_solo_fills_every_bar_over_a_repeating_progression():
    chords = parse_progression("Dm7 G7 | Cmaj7")
    tokens = ["C,0.500,<-2,+2>", "S,0.500,<+3,+7>", "R,0.333", "A,0.333,<-2,+2>",
              "C,0.333,<-7,-3>", "X,1.000,<-2,+2>"] * 20
    song = build_solo(tokens, chords, 5, np.random.default_rng(0), tempo=96,
                      time_signature=(4, 4))
    assert len(song.measures) == 5 and song.tempo == 96
    for index, measure in enumerate(song.measures):
        assert sum(note.duration for note in measure.notes) == Fraction(4)
        assert measure.chords == tuple(chords[index % 2])
    assert song.melody_notes
