"""music.tokens.note_tokens: the notes encoding's token rules, and tokens to a Song."""
from fractions import Fraction as F

import pytest
from hypothesis import given, settings, strategies as st

from music.band.voicing import chord_voicing
from music.tokens.note_tokens import (chord_root, events_to_tokens, parse_token,
                               pitch_name, tokens_to_song)
from music.song import MusicError


def test_pitch_names_are_sharp_spelled_and_invertible():
    assert [pitch_name(p) for p in (60, 61, 69, 21, 0, 127)] == \
        ["C4", "C#4", "A4", "A0", "C-1", "G9"]
    for pitch in range(128):
        assert parse_token(f"{pitch_name(pitch)}:1") == ("note", pitch, F(1))


def test_onsets_group_into_chords_and_gaps_become_rests():
    # (start, end, pitch) in quarters
    events = [(0, 1, 60), (0, 1, 64), (0, 1, 67), (1, 2.5, 62), (3, 4, 65)]
    assert events_to_tokens(events) == ["0.4.7:1", "D4:3/2", "R:1/2", "F4:1"]


def test_held_notes_are_cut_at_the_next_onset_and_keep_silence_away():
    # A bass held under three melody notes: no rest while it sounds.
    events = [(0, 3, 48), (0, 0.5, 64), (1, 1.5, 65), (2, 2.5, 67)]
    assert events_to_tokens(events) == ["0.4:1", "F4:1", "G4:1"]


def test_octaves_are_one_note_and_durations_snap_and_cap():
    events = [(0, 1, 48), (0, 1, 60), (1.02, 1.35, 62), (F(4, 3), 9, 64)]
    assert events_to_tokens(events) == ["C4:1", "D4:1/3", "E4:4"]
    assert events_to_tokens([(0, 0.01, 60), (0.05, 9, 62), (9, 10, 64)]) == \
        ["C4:1/12", "D4:4", "E4:1"]
    assert events_to_tokens([]) == []


def test_bad_tokens_are_refused_by_name():
    for token in ("E4", "E4:0", "E4:x", "H4:1", "C12:1", "4:1", "4.13:1", "R:-1"):
        with pytest.raises(MusicError, match="notes token"):
            parse_token(token)
    assert parse_token("11.4.7:1/3") == ("chord", (4, 7, 11), F(1, 3))
    assert parse_token("R:1/4") == ("rest", None, F(1, 4))


def test_chord_roots_are_plausible():
    assert chord_root((0, 4, 7)) == 0
    assert chord_root((4, 7, 11)) == 4
    assert chord_root((2, 5, 7, 11)) == 7       # G7
    assert chord_root((0, 5)) == 5              # the fourth F-C: F
    assert chord_root((1, 2)) == 1


def test_tokens_become_one_measure_of_notes_and_voiced_chords():
    song = tokens_to_song(["0.4.7:1", "D4:1/2", "R:1/2", "9.1.4:2"], tempo=90)
    (measure,) = song.measures
    assert measure.length == 4 and song.tempo == 90
    assert [(n.start, n.duration, n.pitch) for n in measure.notes] == [(1, F(1, 2), 62)]
    assert [(c.start, c.duration, c.root, c.pitch_classes) for c in measure.chords] == \
        [(0, 1, 0, (0, 4, 7)), (2, 2, 9, (1, 4, 9))]
    with pytest.raises(MusicError, match="no note or chord"):
        tokens_to_song(["R:1"])


def song_events(song):
    """(start, end, pitch) of every sound of a Song, chords voiced as in the MIDI file."""
    (measure,) = song.measures
    events = [(n.start, n.end, n.pitch) for n in measure.notes]
    events += [(c.start, c.end, p) for c in measure.chords for p in chord_voicing(c)]
    return events


event_lists = st.lists(st.tuples(st.integers(0, 60).map(lambda t: F(t, 6)),
                                 st.integers(1, 40).map(lambda d: F(d, 6)),
                                 st.integers(21, 108)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(event_lists)
def test_decoding_then_encoding_gives_the_same_tokens(events):
    tokens = events_to_tokens([(start, start + duration, pitch)
                               for start, duration, pitch in events])
    assert events_to_tokens(song_events(tokens_to_song(tokens))) == tokens
