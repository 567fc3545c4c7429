"""music.band.walking_bass: a note a beat, roots on chord changes, approaches, range."""
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.band.walking_bass import BASS_HIGHEST, BASS_LOWEST, walking_bass
from music.chords import make_chord
from music.metre import song_beats
from music.song import Measure, Song
from music.write.midi import song_to_midi_bytes
from tests.band_helpers import (TICKS, MINOR7, DOMINANT7, MAJOR7, DM7, progression_song, II_V_I, track_notes,
                                tracks_by_name)


def bass_line(song, seed=0):
    return walking_bass(song_beats(song), np.random.default_rng(seed))


@pytest.mark.parametrize("signature, beat_quarters", [
    ((4, 4), 1), ((3, 4), 1), ((5, 4), 1), ((6, 8), F(3, 2)), ((2, 2), 2)])
def test_every_beat_has_one_bass_note_in_any_metre(signature, beat_quarters):
    song = progression_song([[(2, MINOR7)], [(7, DOMINANT7)], [(0, MAJOR7)]], signature)
    bar = F(4 * signature[0], signature[1])
    line = bass_line(song)
    expected = [k * beat_quarters for k in range(int(3 * bar / beat_quarters))]
    assert [sound.start for sound in line] == expected
    assert all(sound.end - sound.start == beat_quarters for sound in line)


def test_a_new_chord_starts_on_its_root():
    line = bass_line(progression_song(II_V_I))
    by_start = {sound.start: sound.pitch % 12 for sound in line}
    assert [by_start[t] for t in (0, 2, 4, 8, 12, 14, 16)] == [2, 7, 0, 9, 2, 7, 0]


def test_a_slash_chord_puts_its_bass_note_in_the_bass():
    c_over_e = make_chord("C/E")
    song = Song([Measure(4, chords=[DM7]), Measure(4, chords=[c_over_e])])
    line = bass_line(song)
    assert [sound.pitch % 12 for sound in line if sound.start == 4] == [4]
    tracks = tracks_by_name(song_to_midi_bytes(song, band="trio"))
    assert [pitch % 12 for start, _, pitch, *_ in track_notes(tracks["Bass"]) if start == 4 * TICKS] \
        == [4]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2 ** 32))
def test_bass_approaches_each_new_chord_and_stays_in_range(seed):
    line = bass_line(progression_song(II_V_I), seed)
    assert all(BASS_LOWEST <= sound.pitch <= BASS_HIGHEST for sound in line)
    by_start = {sound.start: sound.pitch for sound in line}
    for change in (2, 4, 8, 12, 14, 16):
        approach, target = by_start[change - 1], by_start[change]
        # a half step below or above, a whole step above, or the fifth above
        assert (approach - target) % 12 in (11, 1, 2, 7)
        assert abs(approach - target) <= 7   # it resolves nearby, not an octave away
    for before, after in zip(line, line[1:]):
        assert abs(after.pitch - before.pitch) <= 12
